//! The validator's reading of its input: blocks read on another thread keep line numbers,
//! blank lines, CRLF endings, lines across block boundaries, bad lines and read errors exactly
//! as a line-by-line reader would.

use capneg_model::rules::Rule;
use capneg_model::run::run_script;
use capneg_model::validate::{validate, Options, Verdict};
use capneg_reference::Profile;
use std::io::{self, Read};

fn options() -> Options {
    Options {
        profile: Profile::MSC,
        partial: false,
        side: capneg_model::rules::Side::Client,
    }
}

/// A long conforming trace: `rounds` re-exchange rounds, each prompted and decided.
fn long_trace(rounds: usize) -> String {
    let mut script = String::from(
        r#"{"session": {"widgetId": "w"}}
{"widget": {"api": "toWidget", "action": "capabilities", "response": {"capabilities": ["m.always_on_screen"]}}}
{"decision": {"approved": []}}
"#,
    );
    for i in 0..rounds {
        script.push_str(&format!(
            r#"{{"widget": {{"api": "fromWidget", "requestId": "r{i}", "action": "org.matrix.msc2974.request_capabilities", "data": {{"capabilities": ["m.always_on_screen"]}}}}}}
{{"decision": {{"approved": []}}}}
"#
        ));
    }
    let mut out = Vec::new();
    run_script(Profile::MSC, script.as_bytes(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn judge(text: &[u8]) -> Verdict {
    validate(options(), text).unwrap()
}

#[test]
fn a_trace_over_many_blocks_conforms() {
    let trace = long_trace(3000);
    assert!(
        trace.len() > 1 << 20,
        "spans several blocks: {}",
        trace.len()
    );
    let lines = trace.lines().count();
    match judge(trace.as_bytes()) {
        Verdict::Conforms { events, .. } => assert_eq!(events, lines - 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_violation_far_in_keeps_its_line_number() {
    let trace = long_trace(3000);
    let mut lines: Vec<&str> = trace.lines().collect();
    // A second answer to the last widget request, as the last line.
    let ack = lines
        .iter()
        .rev()
        .find(|l| l.contains(r#""client""#) && l.contains(r#""response":{}"#))
        .unwrap()
        .to_string();
    lines.push(&ack);
    let text = lines.join("\r\n") + "\r\n\r\n";
    match judge(text.as_bytes()) {
        Verdict::Violates { line, findings, .. } => {
            assert_eq!(line.get() as usize, lines.len());
            assert_eq!(findings[0].rule, Rule::ExactlyOneResponse);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn blank_lines_count() {
    let trace = long_trace(1);
    let mut text = String::new();
    for (i, line) in trace.lines().enumerate() {
        if i == 2 {
            text.push_str("   \n\n");
        }
        text.push_str(line);
        text.push('\n');
    }
    text.push_str("{\"oops\": 1}\n");
    match judge(text.as_bytes()) {
        Verdict::BadInput { line, message } => {
            assert_eq!(
                line.map(|l| l.get() as usize),
                Some(trace.lines().count() + 3)
            );
            assert!(message.contains("unknown key `oops`"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_line_that_is_not_utf8_is_named() {
    let trace = long_trace(2000);
    let n = trace.lines().count();
    let mut bytes = trace.into_bytes();
    bytes.extend_from_slice(b"{\"prompt\": {\"capabilities\": [\"\xff\"]}}\n");
    match judge(&bytes) {
        Verdict::BadInput { line, message } => {
            assert_eq!(line.map(|l| l.get() as usize), Some(n + 1));
            assert!(message.contains("not UTF-8"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_line_too_long_is_named() {
    let mut text = String::from("{\"session\": {}}\n{\"widget\": {\"x\": \"");
    text.push_str(&"a".repeat(17 << 20));
    text.push_str("\"}}\n");
    match judge(text.as_bytes()) {
        Verdict::BadInput { line, message } => {
            assert_eq!(line.map(|l| l.get()), Some(2));
            assert!(message.contains("longer than 16 MiB"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

/// An empty file (or one of blank lines) is not a trace: a wrong path or an empty capture must
/// not look green. A trace with only a session line is one.
#[test]
fn an_empty_trace_is_bad_input() {
    for empty in [&b""[..], b"\n\n  \n"] {
        match judge(empty) {
            Verdict::BadInput {
                line: None,
                message,
            } => {
                assert!(message.starts_with("no events"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        judge(b"{\"session\": {\"widgetId\": \"w\"}}\n"),
        Verdict::Conforms { events: 0, .. }
    ));
}

/// What `capneg run` refuses as a script line, `capneg validate` refuses as a trace line, at
/// the same line and in the same words: a last line that is not UTF-8 (once dropped, and the
/// file judged without it), a byte order mark, JSON nested deeper than capneg reads, a lone
/// surrogate escape, a widget message that is not a well-formed envelope.
#[test]
fn run_and_validate_refuse_the_same_lines() {
    let session = "{\"session\": {\"widgetId\": \"w\"}}\n";
    let deep = format!(
        "{{\"widget\": {{\"api\": \"fromWidget\", \"widgetId\": \"w\", \"requestId\": \"r\", \"action\": \"x\", \"data\": {{\"a\": {}1{}}}}}}}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let cases: Vec<(Vec<u8>, u32, &str)> = vec![
        (b"\xff".to_vec(), 1, "the line is not UTF-8"),
        (
            [
                session.as_bytes(),
                b"{\"widget\": {\"api\": \"fromWidget\", \"widgetId\": \"w\", \"requestId\": \"r\", \"action\": \"content_loaded\", \"data\": {}}}\n\xff\xfe",
            ]
            .concat(),
            3,
            "the line is not UTF-8",
        ),
        (
            "\u{feff}{\"session\": {}}\n".as_bytes().to_vec(),
            1,
            "byte order mark",
        ),
        (
            [session.as_bytes(), deep.as_bytes()].concat(),
            2,
            "nested deeper than 100",
        ),
        (
            [
                session,
                r#"{"widget": {"api": "fromWidget", "widgetId": "w", "requestId": "r", "action": "x", "data": {"a": "a\ud800"}}}"#,
            ]
            .concat()
            .into_bytes(),
            2,
            "lone surrogate",
        ),
        (
            [
                session,
                r#"{"widget": {"api": "fromWiOdget", "widgetId": "w", "requestId": "r", "action": "content_loaded", "data": {}}}"#,
            ]
            .concat()
            .into_bytes(),
            2,
            "malformed widget envelope",
        ),
    ];
    for (text, line, words) in cases {
        let shown = String::from_utf8_lossy(&text)
            .chars()
            .take(120)
            .collect::<String>();
        let run = run_script(Profile::MSC, text.as_slice(), io::sink()).unwrap_err();
        let capneg_model::run::RunError::Script {
            line: run_line,
            message: run_message,
        } = run
        else {
            panic!("{shown}: {run}")
        };
        assert_eq!(run_line as u32, line, "{shown}: {run_message}");
        assert!(run_message.contains(words), "{shown}: {run_message}");
        match judge(&text) {
            Verdict::BadInput {
                line: Some(l),
                message,
            } => {
                assert_eq!(
                    (l.get(), message.as_str()),
                    (line, run_message.as_str()),
                    "{shown}"
                );
            }
            other => panic!("{shown}: {other:?}"),
        }
    }
}

/// A line just over the limit is refused by both, whether it ends the file or not.
#[test]
fn a_line_just_over_the_limit_is_refused_by_both() {
    let limit = capneg_wire::lines::MAX_LINE;
    let body = |len: usize| {
        let head = "{\"widget\": {\"x\": \"";
        let tail = "\"}}";
        format!("{head}{}{tail}", "a".repeat(len - head.len() - tail.len()))
    };
    for (len, newline) in [
        (limit + 1, true),
        (limit + 1, false),
        (limit + (1 << 19), true),
    ] {
        let mut text = body(len);
        if newline {
            text.push('\n');
        }
        let run = run_script(Profile::MSC, text.as_bytes(), io::sink()).unwrap_err();
        assert!(
            run.to_string().contains("longer than 16 MiB"),
            "{len}: {run}"
        );
        match judge(text.as_bytes()) {
            Verdict::BadInput { line, message } => {
                assert_eq!(line.map(|l| l.get()), Some(1), "{len}");
                assert!(message.contains("longer than 16 MiB"), "{len}: {message}");
            }
            other => panic!("{len}: {other:?}"),
        }
    }
    // At the limit exactly, the line is read: what is wrong with it is its message.
    let text = body(limit) + "\n";
    match judge(text.as_bytes()) {
        Verdict::BadInput { message, .. } => {
            assert!(message.contains("malformed widget envelope"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

/// A verdict is never given on input that is not a trace: a rule broken early does not hide
/// bad input later in the file.
#[test]
fn bad_input_after_a_violation_is_still_bad_input() {
    let trace = long_trace(1);
    let mut lines: Vec<String> = trace.lines().map(str::to_owned).collect();
    let first_client = lines
        .iter()
        .position(|l| l.starts_with("{\"client\""))
        .unwrap();
    lines.insert(first_client + 1, lines[first_client].clone());
    let broken = lines.join("\n") + "\n";
    assert!(matches!(judge(broken.as_bytes()), Verdict::Violates { .. }));
    let garbage = broken.clone() + "{\"widget\": [1]}\n";
    match judge(garbage.as_bytes()) {
        Verdict::BadInput { line, message } => {
            assert_eq!(line.map(|l| l.get() as usize), Some(lines.len() + 1));
            assert!(message.contains("not a JSON object"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_read_error_is_an_error() {
    /// A few lines another widget's messages (ignored), then a failure.
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("the disk is gone"));
            }
            self.0 -= 1;
            let line = b"{\"widget\": {\"api\": \"fromWidget\", \"widgetId\": \"other\", \"requestId\": \"x\", \"action\": \"x\", \"data\": {}}}\n";
            let n = line.len().min(buf.len());
            buf[..n].copy_from_slice(&line[..n]);
            Ok(n)
        }
    }
    let err = validate(
        options(),
        io::Cursor::new(b"{\"session\": {\"widgetId\": \"w\"}}\n".to_vec()).chain(Failing(3)),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "the disk is gone");
}

/// A wire-only trace of many rounds open at once under a parallel profile is judged as fast as
/// any other: the hidden-prompt search keeps one explanation where rounds are alike (the same
/// capability asked again and again) and where they all differ (docs/spec.md §5.3).
#[test]
fn a_thousand_parallel_rounds_without_prompts_conform() {
    for distinct in [false, true] {
        let mut script = String::from(
            r#"{"session": {"widgetId": "w"}}
{"widget": {"api": "toWidget", "action": "capabilities", "response": {"capabilities": ["m.always_on_screen"]}}}
{"decision": {"approved": ["m.always_on_screen"]}}
{"widget": {"api": "toWidget", "action": "notify_capabilities", "response": {}}}
"#,
        );
        for i in 0..1000 {
            let cap = if distinct {
                format!("org.matrix.msc2762.send.event:org.example.e{i}")
            } else {
                "org.matrix.msc2762.send.event:m.reaction".to_owned()
            };
            script.push_str(&format!(
                "{{\"widget\": {{\"api\": \"fromWidget\", \"action\": \"org.matrix.msc2974.request_capabilities\", \"data\": {{\"capabilities\": [\"{cap}\"]}}}}}}\n"
            ));
        }
        for _ in 0..1000 {
            script.push_str("{\"decision\": {\"approved\": []}}\n{\"widget\": {\"api\": \"toWidget\", \"action\": \"notify_capabilities\", \"response\": {}}}\n");
        }
        let mut trace = Vec::new();
        run_script(Profile::WIDGET_API, script.as_bytes(), &mut trace).unwrap();
        let wire: String = String::from_utf8(trace)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("{\"prompt\"") && !l.starts_with("{\"decision\""))
            .map(|l| l.replace("\"prompts\":\"recorded\",", "") + "\n")
            .collect();
        let options = Options {
            profile: Profile::WIDGET_API,
            partial: false,
            side: capneg_model::rules::Side::Client,
        };
        match validate(options, wire.as_bytes()).unwrap() {
            Verdict::Conforms { events, prompts } => {
                assert_eq!(events, 4004, "distinct {distinct}");
                assert_eq!(prompts, capneg_wire::trace::Prompts::Hidden);
            }
            other => panic!("distinct {distinct}: {other:?}"),
        }
    }
}
