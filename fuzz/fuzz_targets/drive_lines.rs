//! The driver reading any bytes as an adapter's output: cut as its lines are, and one precise
//! reason per bad line.
//! The checks: `capneg_properties::fuzzing::drive_lines` (docs/reliability.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = capneg_properties::fuzzing::drive_lines(data) {
        panic!("check failed: {why}");
    }
});
