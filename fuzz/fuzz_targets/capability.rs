//! Capability strings: never a panic, printed back exactly, and matched as docs/spec.md §2.2 says.
//! The checks: `capneg_properties::fuzzing::capability` (docs/reliability.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = capneg_properties::fuzzing::capability(data) {
        panic!("check failed: {why}");
    }
});
