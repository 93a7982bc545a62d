//! The progress line of `check`, `vectors` and `drive`: on stderr when it is a terminal (here a
//! pseudo-terminal from `script`, where installed), one line rewritten with `\r` and cleared at
//! the end; never when stderr is a pipe.

mod common;

use common::capneg_path;
use std::process::{Command, Stdio};

/// Back to the start of the line, and the line erased.
const ERASE: &str = "\r\x1b[2K";

/// What `capneg ARGS` writes on a pseudo-terminal (stdout and stderr together); `None` (with a
/// message) when `script` is not installed.
fn on_a_terminal(args: &str) -> Option<String> {
    let command = format!("{} {args}", capneg_path());
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(o) if o.status.success() || o.status.code() == Some(1) => {
            Some(String::from_utf8_lossy(&o.stdout).into_owned())
        }
        Ok(o) => panic!("{command}: {o:?}"),
        Err(e) => {
            eprintln!("SKIPPED: `script` cannot run ({e}): no pseudo-terminal");
            None
        }
    }
}

/// The text shown on the progress line (the last update before the line was cleared).
fn progress_shown(out: &str) -> Vec<&str> {
    out.split(ERASE).filter(|s| !s.is_empty()).collect()
}

#[test]
fn drive_shows_sessions_and_rate_on_a_terminal_only() {
    let adapter = format!("{} adapter", capneg_path());
    let Some(out) = on_a_terminal(&format!("drive --cases 300 -- {adapter}")) else {
        return;
    };
    let shown = progress_shown(&out);
    assert!(
        shown
            .iter()
            .any(|s| s.contains(" of 300 sessions, ") && s.contains("sessions/s")),
        "{out:?}"
    );
    // Cleared before the summary, which is on a line of its own.
    assert!(out.contains(&format!("{ERASE}capneg drive: ")), "{out:?}");
    let piped = Command::new(capneg_path())
        .args(["drive", "--cases", "300", "--", capneg_path(), "adapter"])
        .output()
        .unwrap();
    assert!(piped.stderr.is_empty(), "{piped:?}");
}

#[test]
fn check_shows_states_and_rate_on_a_terminal() {
    let Some(out) = on_a_terminal("check --caps 1 --rounds 1") else {
        return;
    };
    assert!(
        progress_shown(&out)
            .iter()
            .any(|s| s.starts_with("exhaustive run: ")
                && s.contains(" unique states, ")
                && s.contains("/s, ")),
        "{out:?}"
    );
    assert!(out.contains(&format!("{ERASE}capneg check: ")), "{out:?}");
}

#[test]
fn vectors_show_the_files_written_on_a_terminal_only() {
    let dir = std::env::temp_dir().join(format!("capneg-progress-{}", std::process::id()));
    let Some(out) = on_a_terminal(&format!("vectors --profile msc --out {}", dir.display())) else {
        return;
    };
    assert!(
        progress_shown(&out)
            .iter()
            .any(|s| s.starts_with("writing the vectors: 1 of ")),
        "{out:?}"
    );
    assert!(out.contains(&format!("{ERASE}wrote ")), "{out:?}");
    let piped = Command::new(capneg_path())
        .args(["vectors", "--profile", "msc", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(piped.status.success(), "{piped:?}");
    assert!(piped.stderr.is_empty(), "{piped:?}");
}
