//! Every input the fuzz targets ever failed on, replayed through the same checks on stable
//! (docs/reliability.md): `fuzz/regressions/<target>/*`, one file per input, each run through
//! `capneg_properties::fuzzing`'s check of its target, as the fuzz target runs it. A check that
//! fails, or a panic, fails the test and names the file.

use capneg_properties::fuzzing::{check_of, TARGETS};
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn regressions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions")
}

/// The files of a target's folder, in name order.
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = regressions().join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_regression_passes_its_target_checks() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (target, check) in TARGETS {
        let files = inputs(target);
        assert!(
            !files.is_empty(),
            "fuzz/regressions/{target}/ holds no regression"
        );
        for file in files {
            let data = fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let name = format!("fuzz/regressions/{target}/{}", name.unwrap_or_default());
            count += 1;
            match catch_unwind(AssertUnwindSafe(|| check(&data))) {
                Ok(Ok(())) => {}
                Ok(Err(why)) => failures.push(format!("{name}: {why}")),
                Err(_) => failures.push(format!("{name}: panicked (see above)")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} regressions fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_regression_folder_is_a_target() {
    for entry in fs::read_dir(regressions()).expect("fuzz/regressions") {
        let entry = entry.expect("a directory entry");
        if entry.path().is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                check_of(&name).is_some(),
                "fuzz/regressions/{name}/ is not a fuzz target"
            );
        }
    }
}
