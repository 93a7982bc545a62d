//! `capneg run` (docs/spec.md §6, §7): the README example, the profiles on one script, and every kind
//! of bad script (exit 2, one line `FILE:LINE: message` on stderr, never a panic).

mod common;

use common::{capneg, repo, scratch, Run, BAD_INPUT};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn run(args: &[&str], script: &Path) -> Run {
    Run::from(
        capneg()
            .arg("run")
            .args(args)
            .arg(script)
            .output()
            .expect("capneg runs"),
    )
}

fn run_profile(profile: &str, script: &Path) -> Run {
    run(&["--profile", profile], script)
}

// ---------------------------------------------------------------------------------------------
// Good scripts
// ---------------------------------------------------------------------------------------------

/// The README example prints exactly the documented trace, and nothing on stderr.
#[test]
fn readme_example_prints_the_documented_trace() {
    let examples = repo().join("docs/examples");
    let out = run(&[], &examples.join("reexchange.script.jsonl"));
    let expected = std::fs::read_to_string(examples.join("reexchange.trace.jsonl")).unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout, expected);
    // `--profile msc` is the default.
    let msc = run_profile("msc", &examples.join("reexchange.script.jsonl"));
    assert_eq!(msc.stdout, expected);
}

/// The same script read from standard input (`-`), and with CRLF line endings, gives the same
/// trace.
#[test]
fn stdin_and_crlf_give_the_same_trace() {
    let examples = repo().join("docs/examples");
    let script = std::fs::read_to_string(examples.join("reexchange.script.jsonl")).unwrap();
    let expected = std::fs::read_to_string(examples.join("reexchange.trace.jsonl")).unwrap();
    let mut child = capneg()
        .args(["run", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), script.as_bytes()).unwrap();
    let out = Run::from(child.wait_with_output().unwrap());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, expected);

    let crlf = scratch("crlf.script.jsonl", script.replace('\n', "\r\n").as_bytes());
    let out = run(&[], &crlf);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, expected);
}

/// The `client` and `prompt` lines of a trace.
fn outputs(trace: &[Value]) -> Vec<&Value> {
    trace
        .iter()
        .filter(|l| l.get("client").is_some() || l.get("prompt").is_some())
        .collect()
}

/// The response the client sent to the widget's request `id`.
fn response_to<'t>(trace: &'t [Value], id: &str) -> &'t Value {
    trace
        .iter()
        .filter_map(|l| l.get("client"))
        .find(|c| c["requestId"] == id && c.get("response").is_some())
        .unwrap_or_else(|| panic!("no response to {id}"))
        .get("response")
        .unwrap()
}

/// The notifies the client sent, in order.
fn notifies(trace: &[Value]) -> Vec<&Value> {
    trace
        .iter()
        .filter_map(|l| l.get("client"))
        .filter(|c| c["action"] == "notify_capabilities" && c.get("response").is_none())
        .map(|c| &c["data"])
        .collect()
}

fn prompts(trace: &[Value]) -> Vec<&Value> {
    trace
        .iter()
        .filter_map(|l| l.get("prompt"))
        .map(|p| &p["capabilities"])
        .collect()
}

const AOS: &str = "m.always_on_screen";
const TEXT: &str = "org.matrix.msc2762.send.event:m.room.message#m.text";
const TOPIC: &str = "org.matrix.msc2762.send.state_event:m.room.topic";

fn advertises_msc2974(trace: &[Value]) -> bool {
    response_to(trace, "w0")["supported_versions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == "org.matrix.msc2974")
}

/// One script under the three profiles: the re-exchange names, advertisement, the `requested`
/// of a round with nothing new, sequential vs parallel rounds.
#[test]
fn profiles_differ_on_reexchange() {
    let script = fixture("profiles.script.jsonl");
    let msc = run_profile("msc", &script);
    let widget_api = run_profile("widget-api", &script);
    let legacy = run_profile("legacy", &script);
    for out in [&msc, &widget_api, &legacy] {
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stderr, "");
    }
    let (msc, widget_api, legacy) = (msc.trace(), widget_api.trace(), legacy.trace());

    // The inputs, with ids filled in, are the same lines in every profile; round 0 too.
    let inputs = |t: &[Value]| -> Vec<Value> {
        t.iter()
            .filter(|l| l.get("widget").is_some() || l.get("decision").is_some())
            .cloned()
            .collect()
    };
    assert_eq!(inputs(&msc), inputs(&widget_api));
    assert_eq!(inputs(&msc), inputs(&legacy));
    assert_eq!(msc[..10], widget_api[..10]);
    assert_eq!(outputs(&msc[4..10]), outputs(&legacy[4..10]));

    // Advertisement.
    assert!(advertises_msc2974(&msc));
    assert!(advertises_msc2974(&widget_api));
    assert!(!advertises_msc2974(&legacy));

    // w1: unstable name, nothing new: acked with one notify and no prompt (msc, widget-api),
    // refused (legacy). `requested`: the session total (msc), the round's new: none
    // (widget-api).
    assert_eq!(response_to(&msc, "w1"), &serde_json::json!({}));
    assert_eq!(response_to(&widget_api, "w1"), &serde_json::json!({}));
    assert!(response_to(&legacy, "w1").get("error").is_some());
    let (n_msc, n_api, n_legacy) = (notifies(&msc), notifies(&widget_api), notifies(&legacy));
    assert_eq!(n_msc.len(), 2);
    assert_eq!(n_msc[1]["requested"], serde_json::json!([AOS, TEXT]));
    assert_eq!(n_msc[1]["approved"], serde_json::json!([AOS]));
    assert_eq!(n_api.len(), 2);
    assert_eq!(n_api[1]["requested"], serde_json::json!([]));
    assert_eq!(n_api[1]["approved"], serde_json::json!([AOS]));
    assert_eq!(n_legacy.len(), 1);

    // w2: the stable name: served by msc only.
    assert_eq!(response_to(&msc, "w2"), &serde_json::json!({}));
    assert!(response_to(&widget_api, "w2").get("error").is_some());
    assert!(response_to(&legacy, "w2").get("error").is_some());

    // w3 arrives while w2's prompt is open (msc): acked, queued, not prompted. widget-api
    // prompts at once for it (w2 was refused there). legacy refuses.
    assert_eq!(response_to(&msc, "w3"), &serde_json::json!({}));
    assert_eq!(response_to(&widget_api, "w3"), &serde_json::json!({}));
    assert!(response_to(&legacy, "w3").get("error").is_some());
    assert_eq!(
        prompts(&msc),
        [&serde_json::json!([AOS, TEXT]), &serde_json::json!([TOPIC])]
    );
    assert_eq!(
        prompts(&widget_api),
        [
            &serde_json::json!([AOS, TEXT]),
            &serde_json::json!([TEXT, TOPIC])
        ]
    );
    assert_eq!(prompts(&legacy), [&serde_json::json!([AOS, TEXT])]);

    // The gated action: AOS was approved in round 0 everywhere.
    for t in [&msc, &widget_api, &legacy] {
        assert_eq!(response_to(t, "w4"), &serde_json::json!({}));
    }
}

/// The README example under widget-api: the second round's notify reports its new capability
/// only; under legacy the re-exchange is refused, so the decision after it has no prompt to
/// answer (exit 2 at that line, the trace up to it printed).
#[test]
fn readme_example_under_other_profiles() {
    let script = repo().join("docs/examples/reexchange.script.jsonl");
    let widget_api = run_profile("widget-api", &script);
    assert_eq!(widget_api.code, 0, "{}", widget_api.stderr);
    let trace = widget_api.trace();
    let n = notifies(&trace);
    assert_eq!(n.len(), 2);
    assert_eq!(n[0]["requested"], serde_json::json!([TEXT, AOS]));
    assert_eq!(n[1]["requested"], serde_json::json!([TOPIC]));
    assert_eq!(n[1]["approved"], serde_json::json!([TEXT, AOS]));
    let msc = run(&[], &script).trace();
    assert_eq!(
        notifies(&msc)[1]["requested"],
        serde_json::json!([TEXT, AOS, TOPIC])
    );

    let legacy = run_profile("legacy", &script);
    assert_eq!(legacy.code, BAD_INPUT);
    assert_one_line(&legacy, &script, 6, "a decision with no open prompt");
    let trace = legacy.trace();
    let last = trace.last().unwrap();
    assert_eq!(
        last["client"]["requestId"], "w0",
        "the refusal is the last line printed"
    );
    assert!(last["client"]["response"].get("error").is_some());
}

/// An empty script (or one of blank lines only) is a session with no inputs: exit 0; the trace
/// is the session line and the client's `capabilities` request.
#[test]
fn empty_script_is_a_session_without_inputs() {
    for (name, bytes) in [("empty.jsonl", &b""[..]), ("blank.jsonl", b"\n  \n\r\n")] {
        let path = scratch(name, bytes);
        let out = run(&[], &path);
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        assert_eq!(out.stderr, "");
        let trace = out.trace();
        assert_eq!(trace.len(), 2, "{name}: {}", out.stdout);
        assert_eq!(trace[0]["session"]["widgetId"], "w1");
        assert_eq!(trace[1]["client"]["action"], "capabilities");
        assert_eq!(trace[1]["client"]["requestId"], "c0");
    }
    // With `waitForContentLoaded`: the session line alone.
    let path = scratch(
        "waiting.jsonl",
        b"{\"session\": {\"waitForContentLoaded\": true}}\n",
    );
    let out = run(&[], &path);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.trace().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Bad scripts
// ---------------------------------------------------------------------------------------------

/// Asserts that stderr is one line `FILE:LINE: message` with this line number and a message
/// containing `says`, and that nothing panicked.
fn assert_one_line(out: &Run, file: &Path, line: usize, says: &str) {
    let prefix = format!("{}:{line}: ", file.display());
    assert!(
        out.stderr.ends_with('\n'),
        "stderr does not end its line: {:?}",
        out.stderr
    );
    let text = out.stderr.trim_end_matches('\n');
    assert!(
        !text.contains('\n'),
        "stderr is more than one line: {:?}",
        out.stderr
    );
    assert!(
        text.starts_with(&prefix),
        "stderr {:?} does not start with {:?}",
        text,
        prefix
    );
    let message = &text[prefix.len()..];
    assert!(!message.is_empty(), "no message");
    assert!(
        message.contains(says),
        "message {message:?} does not say {says:?}"
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

/// Runs the script at `path`: bad input, said in one line naming `line` (module docs).
fn bad_at(path: &Path, line: usize, says: &str) -> Run {
    let out = run(&[], path);
    assert_eq!(out.code, BAD_INPUT, "{}: {}", path.display(), out.stderr);
    assert_one_line(&out, path, line, says);
    out
}

/// [`bad_at`] a script of these bytes.
fn bad_bytes(name: &str, bytes: &[u8], line: usize, says: &str) -> Run {
    bad_at(&scratch(name, bytes), line, says)
}

/// Runs a bad script from `fixtures/bad/`: exit 2, one line naming the file and `line`, and
/// on stdout the trace of the lines before it (`printed` lines, each JSON).
fn bad(name: &str, line: usize, says: &str, printed: usize) -> Run {
    let out = bad_at(&fixture(&format!("bad/{name}")), line, says);
    let trace = out.trace();
    assert_eq!(trace.len(), printed, "{name}: {}", out.stdout);
    out
}

/// A trace printed up to a bad line starts with the session and the client's first message.
fn assert_session_started(out: &Run) {
    let trace = out.trace();
    assert!(trace[0].get("session").is_some(), "{}", out.stdout);
    assert_eq!(trace[1]["client"]["action"], "capabilities");
}

#[test]
fn bad_not_json() {
    let out = bad("not-json.jsonl", 3, "not JSON", 2);
    assert_session_started(&out);
}

#[test]
fn bad_not_json_on_the_first_line_prints_nothing() {
    let out = bad_bytes(
        "first-not-json.jsonl",
        b"\n{\"session\": {\n",
        2,
        "not JSON",
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn bad_json_value_not_an_object() {
    bad("not-an-object.jsonl", 2, "a list", 2);
    bad("a-string.jsonl", 2, "a string", 2);
    bad_bytes(
        "number.jsonl",
        b"{\"session\": {}}\n17\nnull\n",
        2,
        "a number",
    );
}

#[test]
fn bad_unknown_key() {
    let out = bad("unknown-key.jsonl", 4, "unknown key `response`", 2);
    assert_session_started(&out);
    // The first line: nothing printed at all.
    let out = bad("empty-object.jsonl", 1, "an empty object", 0);
    assert_eq!(out.stdout, "");
}

#[test]
fn bad_two_keys() {
    let out = bad("two-keys.jsonl", 3, "more than one key", 4);
    assert!(out.stderr.contains("`client`") && out.stderr.contains("`widget`"));
}

#[test]
fn bad_client_line() {
    bad(
        "client-line.jsonl",
        2,
        "`client` lines are the client's outputs",
        2,
    );
}

#[test]
fn bad_prompt_line() {
    let out = bad(
        "prompt-line.jsonl",
        3,
        "`prompt` lines are the client's outputs",
        4,
    );
    // The prompt the client really showed was printed; the script's was not.
    assert_eq!(out.trace()[3]["prompt"]["capabilities"][0], AOS);
}

#[test]
fn bad_session_not_first() {
    let out = bad(
        "session-not-first.jsonl",
        2,
        "a `session` line may only be the first line",
        4,
    );
    assert_eq!(out.trace()[2]["widget"]["action"], "content_loaded");
}

#[test]
fn bad_session_unknown_field() {
    let out = bad(
        "session-unknown-field.jsonl",
        1,
        "unknown field `autoapprove`",
        0,
    );
    assert_eq!(out.stdout, "");
    bad("session-wrong-type.jsonl", 1, "bad `session` line", 0);
}

/// A session line whose value is a list is not `{"session": {...}}`: bad input. (Fails:
/// serde's derived `Deserialize` reads a list positionally into `SessionLine`.)
#[test]
fn bad_session_line_that_is_a_list() {
    let out = bad("session-list.jsonl", 1, "bad `session` line", 0);
    assert_eq!(out.stdout, "");
}

#[test]
fn bad_widget_message_not_an_object() {
    bad(
        "widget-list.jsonl",
        2,
        "a widget message must be a JSON object",
        2,
    );
    bad(
        "widget-string.jsonl",
        2,
        "a widget message must be a JSON object",
        2,
    );
}

#[test]
fn bad_decision_without_open_prompt() {
    // No prompt was ever shown: the answer to `capabilities` had nothing to ask.
    bad(
        "decision-no-prompt.jsonl",
        3,
        "a decision with no open prompt",
        4,
    );
    // Everything asked for was auto-approved.
    let out = bad(
        "decision-nothing-asked.jsonl",
        3,
        "a decision with no open prompt",
        4,
    );
    assert!(out.trace()[3]["client"]["action"] == "notify_capabilities");
}

#[test]
fn bad_decision_shape() {
    bad(
        "decision-unknown-field.jsonl",
        3,
        "unknown field `approve`",
        4,
    );
    bad("decision-not-a-list.jsonl", 3, "bad `decision` line", 4);
    bad(
        "decision-missing-approved.jsonl",
        3,
        "missing field `approved`",
        4,
    );
}

/// A decision line whose value is a list is not `{"decision": {"approved": [..]}}`: bad input.
/// (Fails: serde's derived `Deserialize` reads a list positionally into `DecisionLine`.)
#[test]
fn bad_decision_line_that_is_a_list() {
    bad("decision-list.jsonl", 3, "bad `decision` line", 4);
}

#[test]
fn bad_response_with_a_request_id_that_is_not_open() {
    bad(
        "response-unknown-id.jsonl",
        2,
        "a response that answers nothing",
        2,
    );
    // c1 (the notify) was answered on line 3: answering it again on line 4 answers nothing.
    bad(
        "response-answered-twice.jsonl",
        4,
        "no open client request `c1`",
        5,
    );
    // c0 is open, but it is not a notify.
    bad(
        "response-wrong-action.jsonl",
        2,
        "no open client request `c0` with action `notify_capabilities`",
        2,
    );
}

#[test]
fn bad_response_without_request_id_and_no_open_request_of_its_action() {
    bad(
        "response-no-open-action.jsonl",
        2,
        "no open client request with action `notify_capabilities`",
        2,
    );
}

#[test]
fn bad_response_to_the_widgets_own_request() {
    bad(
        "response-wrong-api.jsonl",
        2,
        "a widget response must answer a client request",
        2,
    );
}

#[test]
fn bad_file_that_does_not_exist() {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-script.jsonl");
    let out = run(&[], &path);
    assert_eq!(out.code, BAD_INPUT);
    assert_eq!(out.stdout, "");
    let text = out.stderr.trim_end_matches('\n');
    assert!(!text.contains('\n'), "{}", out.stderr);
    assert!(
        text.starts_with(&format!("{}: ", path.display())),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_line_not_utf8() {
    let out = bad_bytes(
        "not-utf8.jsonl",
        b"{\"session\": {}}\n\n{\"widget\": {\"action\": \"\xff\xfe\"}}\n",
        3,
        "not UTF-8",
    );
    assert_eq!(out.trace().len(), 2);
    // On the first line: nothing printed.
    let out = bad_bytes("not-utf8-first.jsonl", b"\xc3\x28\n", 1, "not UTF-8");
    assert_eq!(out.stdout, "");
}

/// A string with a lone surrogate escape is JSON text the runner cannot read into a message:
/// bad input at its line, not a panic.
#[test]
fn bad_lone_surrogate() {
    bad_bytes("surrogate.jsonl", b"{\"session\": {}}\n{\"widget\": {\"api\": \"fromWidget\", \"action\": \"content_loaded\", \"data\": {\"x\": \"\\ud800\"}}}\n", 2, "");
}

#[test]
fn bad_profile_name() {
    let path = fixture("profiles.script.jsonl");
    let out = run_profile("msc2974", &path);
    assert_eq!(out.code, BAD_INPUT);
    assert!(out.stderr.contains("unknown profile"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

/// docs/spec.md §2: a message with another `widgetId` is ignored by the client, so a response about
/// another widget answers nothing of this session: the session's request stays open and the
/// real answer after it must be taken.
#[test]
fn response_of_another_widget_leaves_the_request_open() {
    let path = scratch(
        "other-widget-response.jsonl",
        br#"{"session": {"widgetId": "w1"}}
{"widget": {"api": "toWidget", "widgetId": "w2", "requestId": "c0", "action": "capabilities", "data": {}, "response": {"capabilities": ["m.always_on_screen"]}}}
{"widget": {"api": "toWidget", "action": "capabilities", "response": {"capabilities": ["m.always_on_screen"]}}}
"#,
    );
    let out = run(&[], &path);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let trace = out.trace();
    assert_eq!(prompts(&trace), [&serde_json::json!([AOS])]);
}

/// A widget line that is not a well-formed envelope once completed (here a `response` that is
/// not an object answers nothing, so nothing fills in its `widgetId`) is bad input, as `capneg
/// validate` says of the trace that would print it (docs/spec.md §5): the same line, the same
/// words.
#[test]
fn a_malformed_widget_envelope_is_bad_input() {
    let path = scratch(
        "malformed-response.jsonl",
        br#"{"session": {"widgetId": "w1"}}
{"widget": {"api": "toWidget", "action": "capabilities", "response": ["m.always_on_screen"]}}
{"widget": {"api": "toWidget", "action": "capabilities", "response": {"capabilities": ["m.always_on_screen"]}}}
"#,
    );
    let out = run(&[], &path);
    assert_eq!(out.code, BAD_INPUT, "{}", out.stdout);
    assert!(
        out.stderr
            .contains(":2: malformed widget envelope: the envelope has no `widgetId`"),
        "{}",
        out.stderr
    );
}
