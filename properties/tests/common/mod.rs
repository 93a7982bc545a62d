//! What the property suites share: their proptest configuration, and the strategy of profiles.

#![allow(dead_code)] // each test file uses its own part

use capneg_reference::Profile;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

/// proptest's default configuration (case counts follow `PROPTEST_CASES`), failing seeds kept
/// in `regressions` (`proptest-regressions/SUITE.txt` of this crate).
pub fn config_keeping(regressions: &'static str) -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    }
}

/// Any profile.
pub fn profiles() -> impl Strategy<Value = Profile> {
    prop::sample::select(Profile::ALL.to_vec())
}
