//! `capneg run` on any bytes as a script: a trace that conforms to its own profile, or one line
//! naming the script's line.
//! The checks: `capneg_properties::fuzzing::run` (docs/reliability.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = capneg_properties::fuzzing::run(data) {
        panic!("check failed: {why}");
    }
});
