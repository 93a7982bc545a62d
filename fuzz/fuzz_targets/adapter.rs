//! The reference speaking the adapter protocol on any command lines: no panic, and only lines a
//! trace reader reads.
//! The checks: `capneg_properties::fuzzing::adapter` (docs/reliability.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = capneg_properties::fuzzing::adapter(data) {
        panic!("check failed: {why}");
    }
});
