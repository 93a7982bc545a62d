//! What the CLI tests share: the binary, the repository root, and one finished run of the binary.

#![allow(dead_code)] // each test file uses its own part

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Exit status of bad input (docs/spec.md §7).
pub const BAD_INPUT: i32 = 2;

/// The path of the `capneg` binary under test.
pub fn capneg_path() -> &'static str {
    env!("CARGO_BIN_EXE_capneg")
}

/// A command running the `capneg` binary under test.
pub fn capneg() -> Command {
    Command::new(capneg_path())
}

/// `capneg SUBCOMMAND ARGS` started, its stdin empty, its stdout and stderr piped.
pub fn spawn(subcommand: &str, args: &[&str]) -> Child {
    capneg()
        .arg(subcommand)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("capneg runs")
}

/// Waits up to `limit` for `child` to end: whether it did (if not, it is killed).
pub fn ended_within(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("waits").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// A file `name` holding `bytes` in the tests' scratch folder (`CARGO_TARGET_TMPDIR`, kept
/// between runs; each test names its own files).
pub fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The root of the repository.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The result of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }

    /// The printed trace: every stdout line is one JSON object with one key (docs/spec.md §5).
    pub fn trace(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
                assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{l}");
                v
            })
            .collect()
    }

    /// How many `notify_capabilities` the client sent in the printed trace.
    pub fn notifies(&self) -> usize {
        self.trace()
            .iter()
            .filter(|l| l["client"]["action"] == "notify_capabilities")
            .count()
    }

    /// `capneg validate ARGS` on the printed trace (stdout), written to the scratch file `name`.
    pub fn validated(&self, name: &str, args: &[&str]) -> Run {
        let file = scratch(name, self.stdout.as_bytes());
        Run::from(
            capneg()
                .arg("validate")
                .args(args)
                .arg(&file)
                .output()
                .unwrap(),
        )
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}
