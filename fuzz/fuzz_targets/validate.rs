//! `capneg validate` on any bytes: the same verdict however the bytes come, and a verdict only on
//! input the plain line reader reads.
//! The checks: `capneg_properties::fuzzing::validate` (docs/reliability.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = capneg_properties::fuzzing::validate(data) {
        panic!("check failed: {why}");
    }
});
