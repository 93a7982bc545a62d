//! `capneg adapter` and `capneg drive` (docs/spec.md §7, §8): the reference driving itself finds
//! nothing; every mutant and matrix-widget-api are caught, with a minimal trace; an adapter that
//! hangs, crashes or cannot start is reported, never waited for.

#[path = "../common/mod.rs"]
mod common;
mod widget;

use capneg_model::rules::mutants::MutantKind;
use common::{capneg, capneg_path, repo, scratch, Run, BAD_INPUT};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DIVERGENCE: i32 = 1;
fn drive(args: &[&str], adapter: &[&str]) -> Run {
    let output = capneg()
        .arg("drive")
        .args(args)
        .arg("--")
        .args(adapter)
        .stdin(Stdio::null())
        .output()
        .expect("capneg runs");
    Run::from(output)
}

/// The run found a divergence, and its report says `says`.
fn assert_diverges(run: &Run, says: &str) {
    assert_eq!(run.code, DIVERGENCE, "{run}");
    assert!(run.stderr.contains(says), "{run}");
}

/// `capneg drive ARGS -- sh -c SCRIPT`: an adapter written in the shell.
fn drive_sh(args: &[&str], script: &str) -> Run {
    drive(args, &["sh", "-c", script])
}

#[test]
fn the_reference_adapter_follows_the_reference() {
    for profile in ["msc", "widget-api", "legacy"] {
        let run = drive(
            &["--profile", profile, "--cases", "300"],
            &[capneg_path(), "adapter", "--profile", profile],
        );
        assert_eq!(run.code, 0, "{profile}: {run}");
        assert!(run.stdout.contains("300 sessions"), "{run}");
        assert!(run.stdout.contains("sessions/s"), "{run}");
    }
}

/// Mutants the driver reports as a differing output rather than by their rule, with why. None:
/// each mutant's defect breaks its rule at the command where it first shows, and the rules are
/// judged before the outputs are compared.
const DIFFERS_ONLY: [(MutantKind, &str); 0] = [];

#[test]
fn every_mutant_is_caught_by_its_rule() {
    let mut wrong = Vec::new();
    for (profile, kind) in MutantKind::checked() {
        let profile = profile.name;
        let run = drive(
            &["--profile", profile],
            &[
                capneg_path(),
                "adapter",
                "--profile",
                profile,
                "--mutant",
                kind.name(),
            ],
        );
        if run.code != DIVERGENCE {
            wrong.push(format!("{kind} under {profile}: not caught\n{run}"));
            continue;
        }
        let trace = run.trace();
        assert!(
            !trace.is_empty() && trace[0].get("session").is_some(),
            "{run}"
        );
        let named = run
            .stderr
            .contains(&format!("violates {}: ", kind.target()));
        match DIFFERS_ONLY.iter().find(|(k, _)| *k == kind) {
            None if !named => wrong.push(format!(
                "{kind} under {profile}: {} not named\n{run}",
                kind.target()
            )),
            Some((_, why)) if !run.stderr.contains("differs from the reference") => {
                wrong.push(format!("{kind}: expected a difference ({why})\n{run}"))
            }
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn an_unknown_mutant_is_bad_input() {
    let run = Run::from(
        capneg()
            .args(["adapter", "--mutant", "nonesuch"])
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, BAD_INPUT, "{run}");
    assert!(run.stderr.contains("unknown mutant `nonesuch`"), "{run}");
}

/// Runs `capneg adapter` on `input`.
fn adapter(input: &str) -> Run {
    let mut child = capneg()
        .arg("adapter")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    Run::from(child.wait_with_output().unwrap())
}

#[test]
fn the_adapter_speaks_the_protocol() {
    let run = adapter(concat!(
        r#"{"start": {"widgetId": "w1", "autoApprove": [], "waitForContentLoaded": false}}"#,
        "\n\n",
        r#"{"widget": {"api": "toWidget", "widgetId": "w1", "requestId": "c0", "action": "capabilities", "data": {}, "response": {"capabilities": ["m.always_on_screen"]}}}"#,
        "\n",
        r#"{"decision": {"approved": []}}"#,
        "\n",
        r#"{"decision": {"approved": []}}"#,
        "\n",
    ));
    assert_eq!(run.code, 0, "{run}");
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let keys: Vec<&str> = lines
        .iter()
        .map(|v| v.as_object().unwrap().keys().next().unwrap().as_str())
        .collect();
    assert_eq!(
        keys,
        ["client", "idle", "prompt", "idle", "client", "idle", "idle"],
        "{run}"
    );
    assert_eq!(lines[4]["client"]["action"], "notify_capabilities");
    // The decision with no open prompt is ignored, with a note naming its line.
    assert!(run.stderr.contains("stdin line 5"), "{run}");
}

#[test]
fn bad_adapter_lines_exit_2_naming_the_line() {
    let cases = [
        ("not json\n", "stdin line 1: not JSON"),
        (
            "{\"start\": {\"widgetId\": \"w\"}}\n[1]\n",
            "stdin line 2: expected a JSON object",
        ),
        (
            "{\"widget\": {}}\n",
            "stdin line 1: a `widget` command before any `start`",
        ),
        ("{\"start\": {}}\n", "stdin line 1: bad `start`"),
        (
            "{\"start\": {\"widgetId\": \"w\"}}\n{\"decision\": {\"approved\": [1]}}\n",
            "stdin line 2: bad `decision`",
        ),
        ("{\"idle\": {}}\n", "stdin line 1: unknown field `idle`"),
    ];
    for (input, want) in cases {
        let run = adapter(input);
        assert_eq!(run.code, BAD_INPUT, "{input}: {run}");
        assert!(run.stderr.contains(want), "{input}: {run}");
        assert_eq!(run.stderr.lines().count(), 1, "{input}: {run}");
        assert!(!run.stderr.contains("panicked"), "{run}");
    }
}

/// The matrix-widget-api adapter, with its dependencies installed; `None` (with a message) when
/// `node` is not installed.
fn node_adapter() -> Option<PathBuf> {
    let dir = repo().join("adapters/matrix-widget-api");
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: `node` is not installed: the matrix-widget-api adapter cannot run");
        return None;
    }
    if !dir.join("node_modules/matrix-widget-api").is_dir() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs (node is installed)");
        assert!(status.success(), "npm ci failed in {}", dir.display());
    }
    Some(dir.join("adapter.js"))
}

#[test]
fn matrix_widget_api_sends_two_notifies_for_nothing_new() {
    let Some(adapter) = node_adapter() else {
        return;
    };
    let adapter = adapter.to_str().unwrap();
    let run = drive(&["--profile", "widget-api"], &["node", adapter]);
    assert_eq!(run.code, DIVERGENCE, "{run}");
    assert!(
        run.stderr.contains("violates one-notify-per-round: "),
        "{run}"
    );
    // Minimal: start and one request with nothing new (its ack and its two notifies).
    let trace = run.trace();
    assert!(trace.len() <= 6, "{run}");
    assert_eq!(run.notifies(), 2, "{run}");
    // The trace is a docs/spec.md §5 trace: `capneg validate` finds the same rule in it.
    let validated = run.validated("drive-minimal.jsonl", &["--profile", "widget-api"]);
    assert_eq!(validated.code, DIVERGENCE, "{validated}");
    assert!(
        validated.stdout.contains("one-notify-per-round")
            || validated.stderr.contains("one-notify-per-round"),
        "{validated}"
    );
}

#[test]
fn replay_runs_one_session() {
    let Some(adapter) = node_adapter() else {
        return;
    };
    let script = scratch(
        "content-loaded-twice.jsonl",
        concat!(
            r#"{"session": {"widgetId": "w1", "waitForContentLoaded": true}}"#,
            "\n",
            r#"{"widget": {"api": "fromWidget", "action": "content_loaded", "data": {}}}"#,
            "\n",
            r#"{"widget": {"api": "fromWidget", "action": "content_loaded", "data": {}}}"#,
            "\n"
        )
        .as_bytes(),
    );
    let run = drive(
        &[
            "--profile",
            "widget-api",
            "--replay",
            script.to_str().unwrap(),
        ],
        &["node", adapter.to_str().unwrap()],
    );
    assert_diverges(&run, "the adapter said idle");
    assert!(run.stderr.contains("Improper sequence"), "{run}");
    assert_eq!(run.trace().len(), 5, "{run}");
}

#[test]
fn an_adapter_that_never_answers_is_reported_within_the_timeout() {
    for adapter in [&["sleep", "100"][..], &["sh", "-c", "cat >/dev/null"]] {
        let started = Instant::now();
        let run = drive(&["--timeout-ms", "300"], adapter);
        let took = started.elapsed();
        assert_eq!(run.code, DIVERGENCE, "{adapter:?}: {run}");
        assert!(run.stderr.contains("no answer"), "{run}");
        assert!(run.stderr.contains("300 ms"), "{run}");
        assert!(took < Duration::from_secs(10), "{adapter:?} took {took:?}");
    }
}

/// Adapters that crash (with what they wrote on stderr in the report), at once or mid-session,
/// or that write lines that are not protocol lines: each a divergence, whose report says so.
#[test]
fn crashing_and_garbage_writing_adapters_are_reported() {
    let cases: [(&str, &[&str]); 3] = [
        ("echo boom >&2; exit 3", &["crashed", "boom", "3"]),
        // It crashes mid-session: after answering the start, on the first widget message.
        (
            r#"read line; echo '{"idle":{}}'; read line; echo 'dying' >&2; exit 7"#,
            &["dying"],
        ),
        (
            r#"while read line; do echo 'hello'; echo '{"idle":{}}'; done"#,
            &["not a protocol line"],
        ),
    ];
    for (script, says) in cases {
        let run = drive_sh(&[], script);
        for said in says {
            assert_diverges(&run, said);
        }
    }
}

#[test]
fn an_adapter_that_cannot_start_is_bad_input() {
    let run = drive(&[], &["/nonexistent/capneg-adapter"]);
    assert_eq!(run.code, BAD_INPUT, "{run}");
    assert!(run.stderr.contains("cannot start the adapter"), "{run}");
    assert_eq!(run.stderr.lines().count(), 1, "{run}");
}

#[test]
fn an_adapter_that_floods_its_output_is_stopped_and_kept_out_of_the_trace() {
    // `yes` never says `idle`: it is stopped after 100,000 lines, none of which is a protocol
    // line, so the printed trace is the session line alone and the report names the first.
    let run = drive(&["--cases", "3"], &["yes"]);
    assert_eq!(run.code, DIVERGENCE, "{run}");
    let trace = run.trace();
    assert_eq!(trace.len(), 1, "{run}");
    assert!(trace[0].get("session").is_some(), "{run}");
    assert!(
        run.stderr
            .contains("100000 lines of its output left out of the trace"),
        "{run}"
    );
    assert!(run.stderr.contains("line: `y`"), "{run}");
    // Protocol lines before the first other line stay in the trace.
    let run = drive_sh(
        &["--cases", "3"],
        r#"read line; echo '{"prompt":{"capabilities":[]}}'; echo garbage; exit 3"#,
    );
    assert_eq!(run.code, DIVERGENCE, "{run}");
    assert_eq!(run.trace().len(), 2, "{run}");
    assert!(
        run.stderr.contains("1 line of its output left out"),
        "{run}"
    );
    assert!(run.stderr.contains("`garbage`"), "{run}");
}

#[test]
fn a_flood_of_protocol_lines_is_cut_in_the_printed_trace() {
    // 100,000 prompt lines without `idle`: all of them protocol lines, so all in the divergence's
    // trace; the printed trace stops at 1000 lines and says how many were left out.
    let run = drive_sh(
        &["--cases", "3"],
        r#"read line; while :; do echo '{"prompt":{"capabilities":[]}}'; done"#,
    );
    assert_eq!(run.code, DIVERGENCE, "{run}");
    let trace = run.trace();
    assert_eq!(trace.len(), 1000, "{}", run.stderr);
    assert!(trace[0].get("session").is_some());
    assert!(
        run.stderr
            .contains("the trace printed stops after line 1000 of 100001: 99001 lines left out"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("output broke off"), "{}", run.stderr);
}

#[test]
fn each_malformed_adapter_line_is_named_precisely() {
    let cases = [
        (
            r#"{"idle":{},"idle":{}}"#,
            "the key `idle` twice: a line holds exactly one key",
        ),
        (
            r#"{"idle":{},"x":1}"#,
            "2 keys (`idle`, `x`): a line holds exactly one",
        ),
        (
            r#"{"x":1,"y":2}"#,
            "2 keys (`x`, `y`): a line holds exactly one",
        ),
        (r#"{"client":{},"client":{}}"#, "the key `client` twice"),
        (r#"{"idle":5}"#, "bad `idle` line: its value is `5`, not {}"),
        (
            r#"{"x":1}"#,
            "unknown key `x`: an adapter writes client, prompt and idle lines",
        ),
        ("[1]", "a list, not an object with one key"),
        ("{}", "an empty object, with no key"),
        ("not json", "not JSON: expected ident (column 2)"),
        (r#"{"widget":{}}"#, "a `widget` line: an adapter writes"),
        (
            r#"{"client":7}"#,
            "the `client` message is a number, not an object",
        ),
        (
            r#"{"client":{"action":"a","action":"b"}}"#,
            "the `client` message has the field `action` twice",
        ),
        (
            r#"{"prompt":{"capabilities":[1]}}"#,
            "bad `prompt` line: invalid type: integer `1`, expected a string",
        ),
    ];
    for (bad, want) in cases {
        // Answers every command with the bad line, then `idle`.
        let run = drive(
            &["--cases", "1"],
            &[
                "sh",
                "-c",
                r#"while read line; do printf '%s\n' "$0"; echo '{"idle":{}}'; done"#,
                bad,
            ],
        );
        assert_eq!(run.code, DIVERGENCE, "{bad}: {run}");
        let said = format!("line 2: not a protocol line: {want}");
        assert!(run.stderr.contains(&said), "{bad}: {}", run.stderr);
        // The line is in the printed trace, where it is; the trace ends there.
        assert_eq!(run.stdout.lines().last(), Some(bad), "{bad}: {run}");
    }
}

#[test]
fn a_slow_adapter_stops_shrinking_at_the_time_limit() {
    // double-notify behind 50 ms per command: shrinking it to the end takes about 12 s.
    let slow = format!(
        r#"while IFS= read -r line; do sleep 0.05; printf '%s\n' "$line"; done | {} adapter --mutant double-notify"#,
        capneg_path()
    );
    let started = Instant::now();
    let run = drive_sh(&["--shrink-time", "1"], &slow);
    let took = started.elapsed();
    assert_eq!(run.code, DIVERGENCE, "{run}");
    assert!(
        run.stderr
            .contains("NOT minimal: shrinking stopped at its time limit of 1 s (--shrink-time)"),
        "{run}"
    );
    assert!(
        run.stderr.contains("violates one-notify-per-round"),
        "{run}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
    // A shrinking time that is not one is refused.
    let run = drive(&["--shrink-time", "soon"], &["true"]);
    assert_eq!(run.code, BAD_INPUT, "{run}");
    assert!(
        run.stderr.contains("`soon` is not a number of seconds"),
        "{run}"
    );
}

/// A session of `capneg drive --replay` under `legacy` whose adapter, written in the shell, holds
/// its answer to `supported_api_versions` while the prompt is open and sends it after the
/// decision (`answer_late`), or never.
fn drive_late_answer(answer_late: bool) -> Run {
    let script = scratch(
        if answer_late {
            "late-answer.jsonl"
        } else {
            "no-answer.jsonl"
        },
        concat!(
            r#"{"session": {"widgetId": "w1", "autoApprove": [], "waitForContentLoaded": false}}"#,
            "\n",
            r#"{"widget": {"api": "toWidget", "action": "capabilities", "data": {}, "response": {"capabilities": ["m.always_on_screen"]}}}"#,
            "\n",
            r#"{"widget": {"api": "fromWidget", "action": "supported_api_versions", "data": {}}}"#,
            "\n",
            r#"{"decision": {"approved": ["m.always_on_screen"]}}"#,
            "\n",
        )
        .as_bytes(),
    );
    let answer = if answer_late {
        r#"echo '{"client":{"api":"fromWidget","widgetId":"w1","requestId":"w0","action":"supported_api_versions","data":{},"response":{"supported_versions":["0.0.1","0.0.2","org.matrix.msc2762","org.matrix.msc2871","org.matrix.msc3819"]}}}'"#
    } else {
        ":"
    };
    let adapter = format!(
        r#"n=0
while read -r line; do
  n=$((n+1))
  case $n in
    1) echo '{{"client":{{"api":"toWidget","widgetId":"w1","requestId":"c0","action":"capabilities","data":{{}}}}}}' ;;
    2) echo '{{"prompt":{{"capabilities":["m.always_on_screen"]}}}}' ;;
    4) {answer}
       echo '{{"client":{{"api":"toWidget","widgetId":"w1","requestId":"c1","action":"notify_capabilities","data":{{"requested":["m.always_on_screen"],"approved":["m.always_on_screen"]}}}}}}' ;;
  esac
  echo '{{"idle":{{}}}}'
done"#
    );
    drive_sh(
        &["--profile", "legacy", "--replay", script.to_str().unwrap()],
        &adapter,
    )
}

/// A response sent later than the reference's is a difference of timing, not a rule broken,
/// when it comes: the driver's verdict is formed on the whole session, as `capneg validate`
/// judges the printed trace (conforms). When it never comes, the request left open is the rule
/// the difference breaks.
#[test]
fn a_late_answer_differs_in_timing_and_a_missing_one_breaks_its_rule() {
    let run = drive_late_answer(true);
    assert_diverges(
        &run,
        "after line 5: the adapter said idle, the reference had more to say",
    );
    assert!(!run.stderr.contains("violates"), "{run}");
    assert_eq!(run.trace().len(), 8, "the whole session: {run}");
    let validated = run.validated("late-answer-trace.jsonl", &["--profile", "legacy"]);
    assert_eq!(validated.code, 0, "{validated}");
    assert!(validated.stdout.starts_with("conforms"), "{validated}");

    let run = drive_late_answer(false);
    assert_diverges(
        &run,
        "violates exactly-one-response: the widget request of line 5 was never answered",
    );
    assert!(
        run.stderr
            .contains("the adapter said idle, the reference had more to say"),
        "{run}"
    );
    let validated = run.validated("no-answer-trace.jsonl", &["--profile", "legacy"]);
    assert_eq!(validated.code, 1, "{validated}");
    assert!(
        validated.stdout.contains("exactly-one-response"),
        "{validated}"
    );
}
