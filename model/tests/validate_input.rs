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

#[test]
fn an_empty_trace_conforms() {
    assert!(matches!(judge(b""), Verdict::Conforms { events: 0, .. }));
    assert!(matches!(
        judge(b"\n\n  \n"),
        Verdict::Conforms { events: 0, .. }
    ));
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
