//! `capneg check` (docs/spec.md §7.3, docs/check.md): Ctrl-C prints the report so far, marked
//! not exhaustive; no progress line when stderr is not a terminal.

mod common;

use common::{capneg, ended_within, spawn, Run};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// Exit code of a check interrupted before any violation (docs/check.md).
const INTERRUPTED: i32 = 130;

/// Bounds that take minutes to check: the run is always interrupted.
const LONG: [&str; 4] = ["--caps", "5", "--rounds", "3"];

/// Runs `capneg check ARGS`, sends it SIGINT after a second, and waits for it (killed if it is
/// still running 60 s later). `None` when it was ended by the signal instead of handling it.
fn interrupted(args: &[&str]) -> Option<Run> {
    let mut child = spawn("check", args);
    std::thread::sleep(Duration::from_secs(1));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    if !ended_within(&mut child, Duration::from_secs(60)) {
        panic!("capneg check did not stop within 60 s of Ctrl-C");
    }
    let output = child.wait_with_output().expect("exits");
    output.status.code()?;
    Some(Run::from(output))
}

#[test]
fn ctrl_c_prints_the_report_so_far() {
    let run = interrupted(&LONG).expect("Ctrl-C is handled, not fatal");
    assert_eq!(run.code, INTERRUPTED, "{run}");
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("states generated "), "{run}");
    assert!(last.ends_with("not exhaustive (interrupted)"), "{run}");
    assert!(
        run.stdout.contains("not violated so far (interrupted)"),
        "{run}"
    );
    assert!(!run.stdout.contains(" holds"), "nothing holds: {run}");
    assert!(run.stderr.is_empty(), "{run}");
}

#[test]
fn ctrl_c_prints_the_json_report_so_far() {
    let mut args = LONG.to_vec();
    args.push("--json");
    let run = interrupted(&args).expect("Ctrl-C is handled, not fatal");
    assert_eq!(run.code, INTERRUPTED, "{run}");
    let report: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    assert_eq!(report["interrupted"], true, "{run}");
    assert_eq!(report["exhaustive"], false, "{run}");
    assert_eq!(report["all_hold"], false, "{run}");
    assert!(report["unique_states"].as_u64().unwrap() > 0, "{run}");
    let verdicts: Vec<&Value> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["verdict"])
        .collect();
    assert!(verdicts.iter().all(|v| *v == "unsettled"), "{run}");
}

#[test]
fn a_check_to_the_end_is_exhaustive_and_not_interrupted() {
    let output = capneg()
        .args(["check", "--caps", "1", "--rounds", "1", "--json"])
        .output()
        .unwrap();
    let run = Run::from(output);
    assert_eq!(run.code, 0, "{run}");
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["interrupted"], false);
    assert_eq!(report["exhaustive"], true);
    // Not a terminal: no progress line.
    assert!(run.stderr.is_empty(), "{run}");
}

#[test]
fn a_part_says_which_and_is_exhaustive_for_it() {
    let output = capneg()
        .args(["check", "--caps", "1", "--rounds", "1", "--part", "2/3"])
        .output()
        .unwrap();
    let run = Run::from(output);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("part 2/3: initial states 2, 5, 8, 11, 14 (5 of 16)"),
        "{run}"
    );
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(last.ends_with(", exhaustive for part 2/3"), "{run}");
    let output = capneg()
        .args([
            "check", "--caps", "1", "--rounds", "1", "--part", "2/3", "--json",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_str(&Run::from(output).stdout).unwrap();
    assert_eq!(report["part"]["index"], 2);
    assert_eq!(report["part"]["count"], 3);
    assert_eq!(report["roots"], 5);
    assert_eq!(report["all_roots"], 16);
    assert_eq!(report["exhaustive"], true);
    for bad in ["0/3", "4/3", "2", "a/b"] {
        let output = capneg().args(["check", "--part", bad]).output().unwrap();
        assert_eq!(Run::from(output).code, 2, "--part {bad} is refused");
    }
}

/// `--client` and `--rules` name a client under test: with `--side widget` (a widget under
/// test) they are bad input, not silently read as the reference client's profile.
#[test]
fn a_client_under_test_on_the_widget_side_is_bad_input() {
    for args in [
        &["--client", "widget-api", "--rules", "msc"][..],
        &["--client", "mutant:double-notify", "--rules", "msc"][..],
    ] {
        let output = capneg()
            .args(["check", "--side", "widget"])
            .args(args)
            .output()
            .unwrap();
        let run = Run::from(output);
        assert_eq!(run.code, 2, "{run}");
        assert!(run.stdout.is_empty(), "{run}");
        assert!(
            run.stderr
                .contains("--client and --rules need --side client"),
            "{run}"
        );
    }
}

/// `--gated` bounds the gated actions of the client model's widget; the widget model has none
/// of its own (its application asks, `--rounds`), so with `--side widget` it is bad input, not
/// silently ignored.
#[test]
fn gated_actions_on_the_widget_side_are_bad_input() {
    let output = capneg()
        .args(["check", "--side", "widget", "--gated", "2"])
        .output()
        .unwrap();
    let run = Run::from(output);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stdout.is_empty(), "{run}");
    assert!(run.stderr.contains("--gated needs --side client"), "{run}");
    // Without it, the widget side checks as before; with it, the client side too.
    for args in [
        &["--side", "widget", "--caps", "2"][..],
        &["--side", "client", "--gated", "0", "--caps", "2"][..],
    ] {
        let output = capneg().arg("check").args(args).output().unwrap();
        assert_eq!(Run::from(output).code, 0, "check {args:?}");
    }
}
