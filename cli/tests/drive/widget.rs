//! `capneg drive --side widget` (docs/spec.md §9.3) with the built binary: the reference widget
//! driving itself finds nothing under any profile; the real matrix-widget-api `WidgetApi` is
//! caught breaking `widget-view-follows-notify` (matrix-widget-api issue #52), with a trace that
//! `capneg validate --side widget` rejects by that rule; and the replay of the #52 script gives
//! exactly the recorded fixture. The widget mutants are driven in-process by
//! properties/tests/widget_drive.rs; the libraries' divergences are in
//! docs/conformance/matrix-widget-api-widget.md.

use super::common::{capneg, capneg_path, repo, scratch, Run};
use super::DIVERGENCE;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn drive_widget(args: &[&str], adapter: &[&str]) -> Run {
    let output = capneg()
        .args(["drive", "--side", "widget"])
        .args(args)
        .arg("--")
        .args(adapter)
        .current_dir(repo())
        .stdin(Stdio::null())
        .output()
        .expect("capneg runs");
    Run::from(output)
}

#[test]
fn the_reference_widget_follows_itself_under_every_profile() {
    for profile in ["msc", "widget-api", "legacy"] {
        let run = drive_widget(
            &["--profile", profile],
            &[capneg_path(), "adapter", "--side", "widget"],
        );
        assert_eq!(run.code, 0, "{profile}: {run}");
        assert!(run.stdout.contains("follows the reference widget"), "{run}");
        assert!(run.stdout.contains("256 sessions"), "{run}");
    }
}

/// The matrix-widget-api widget adapter. Node and the adapter's pinned packages are required:
/// CI installs them (.ci/run), and a missing one fails the test rather than skipping it.
fn widget_api_adapter() -> PathBuf {
    let dir = repo().join("adapters/matrix-widget-api");
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "`node` is not installed (or does not run): the matrix-widget-api widget adapter needs Node 20 or newer"
    );
    assert!(
        dir.join("node_modules/matrix-widget-api/package.json")
            .is_file(),
        "{} has no node_modules/matrix-widget-api: run `npm ci` there first (.ci/run does)",
        dir.display()
    );
    dir.join("widget-adapter.js")
}

#[test]
fn matrix_widget_api_is_caught_not_following_a_later_notify() {
    let _ = widget_api_adapter();
    // As docs/conformance/matrix-widget-api-widget.md runs it (from the repository root, the
    // default profile `msc`).
    let run = drive_widget(
        &[],
        &["node", "adapters/matrix-widget-api/widget-adapter.js"],
    );
    assert_eq!(run.code, DIVERGENCE, "{run}");
    assert!(
        run.stderr.contains("violates widget-view-follows-notify: "),
        "{run}"
    );
    // The trace on stdout is a widget's trace (docs/spec.md §9.1) of that divergence: a
    // re-exchange (two notifies at least) and the view after the last one.
    let trace = run.trace();
    assert!(trace[0].get("session").is_some(), "{run}");
    assert!(run.notifies() >= 2, "{run}");
    assert!(trace.last().unwrap().get("view").is_some(), "{run}");

    // `capneg validate --side widget` judges it as breaking the same rule.
    let validated = run.validated("drive-widget-minimal.jsonl", &["--side", "widget"]);
    assert_eq!(validated.code, DIVERGENCE, "{validated}");
    assert!(
        validated
            .stdout
            .contains("violates widget-view-follows-notify: "),
        "{validated}"
    );
}

/// Under the other profiles the same library is caught by its rules too: `widget-api` names
/// #52 as well, `legacy` (a client without MSC2974: one notify per session) the request sent
/// before the session. The trace on stdout breaks the first rule named first: `capneg validate
/// --side widget` names it too (under `widget-api` the library can break both, and #52 was
/// once printed with the early request before it).
#[test]
fn matrix_widget_api_is_caught_under_the_other_profiles() {
    let adapter = widget_api_adapter();
    let adapter = adapter.to_str().expect("a UTF-8 path");
    for (profile, rules) in [
        (
            "widget-api",
            &[
                "widget-view-follows-notify",
                "widget-reexchange-after-session",
            ][..],
        ),
        ("legacy", &["widget-reexchange-after-session"][..]),
    ] {
        let run = drive_widget(&["--profile", profile], &["node", adapter]);
        assert_eq!(run.code, DIVERGENCE, "{profile}: {run}");
        for rule in rules {
            assert!(
                run.stderr.contains(&format!("violates {rule}: ")),
                "{profile}: {rule} not named\n{run}"
            );
        }
        let validated = run.validated(
            &format!("drive-widget-{profile}.jsonl"),
            &["--side", "widget", "--profile", profile],
        );
        assert_eq!(validated.code, DIVERGENCE, "{validated}");
        let first_line = validated.stdout.lines().next().unwrap_or_default();
        assert!(
            first_line.contains(&format!("violates {}: ", rules[0])),
            "{profile}: validate names another rule first\n{validated}\n{run}"
        );
    }
}

#[test]
fn the_issue_52_replay_gives_the_recorded_fixture() {
    let adapter = widget_api_adapter();
    let fixtures = repo().join("fixtures/widget/matrix-widget-api");
    let script = fixtures.join("reapproval.script.jsonl");
    let run = drive_widget(
        &["--profile", "msc", "--replay", script.to_str().unwrap()],
        &["node", adapter.to_str().unwrap()],
    );
    assert_eq!(run.code, DIVERGENCE, "{run}");
    assert!(
        run.stderr
            .contains("line 19: violates widget-view-follows-notify: "),
        "{run}"
    );
    let recorded = std::fs::read_to_string(fixtures.join("reapproval.trace.jsonl")).unwrap();
    assert_eq!(
        run.stdout, recorded,
        "the replay differs from fixtures/widget/matrix-widget-api/reapproval.trace.jsonl (re-record with fixtures/widget/record.sh)"
    );
}

/// A replay starts the widget under the widget id `capneg run --side widget` gives the script
/// (here its session line's), so that the reference widget replayed against itself prints
/// exactly `run`'s trace.
#[test]
fn a_replay_keeps_the_scripts_widget_id() {
    let script = scratch(
        "widget-x.script.jsonl",
        concat!(
            r#"{"session":{"widgetId":"x"}}"#,
            "\n",
            r#"{"app":{"request":["a"]}}"#,
            "\n",
            r#"{"client":{"api":"toWidget","action":"capabilities","data":{}}}"#,
            "\n",
        )
        .as_bytes(),
    );
    let script = script.to_str().unwrap();
    let run = Run::from(
        capneg()
            .args(["run", "--side", "widget", script])
            .output()
            .unwrap(),
    );
    let replay = drive_widget(
        &["--replay", script],
        &[capneg_path(), "adapter", "--side", "widget"],
    );
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(replay.code, 0, "{replay}");
    assert!(run.stdout.contains(r#""widgetId":"x""#), "{run}");
    assert_eq!(replay.stdout, run.stdout);
}
