//! `update_state` after an approval is outside capability negotiation (docs/spec.md §4.3,
//! decision 35; MSC2762): the driver does not compare a client's `update_state` requests with the
//! reference's (the reference never sends one), the widget it plays answers each with an empty
//! response, and the rules still judge them.
//!
//! For the rules, `update_state` is a `toWidget` request with an action they do not know. The
//! observer treats every client request other than `capabilities` and `notify_capabilities`
//! alike: the envelope is read (`well-formed-message`: data an object, the session's
//! `widgetId`), its id is noted (`unique-request-ids`), and it stays open until the widget
//! answers it, which is the widget's obligation (`widget-exactly-one-response`, judged on the
//! widget side only). No negotiation rule looks at it.

use capneg_model::rules::mutants::ClientKind;
use capneg_model::validate::{validate, Options as ValidateOptions, Verdict};
use capneg_model::{Rule, Side as RuleSide};
use capneg_properties::drive::{drive, Class, Options, Outcome};
use capneg_properties::protocol::Handler;
use capneg_properties::{Adapter, Failure};
use capneg_reference::Profile;
use serde_json::Value;

/// How the client under test pushes room state.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Push {
    /// A well-formed `update_state` request, `{"state": []}` (MSC2762: an empty array where
    /// the room has none of the state granted).
    WellFormed,
    /// `data` is not an object.
    DataNotObject,
    /// Addressed to another widget.
    OtherWidget,
}

/// The reference client, which also pushes room state after every notify that approves
/// something, as matrix-rust-sdk's widget driver does after a `receive.state_event` approval:
/// in the outputs of the same command, right after the notify.
struct PushesState {
    client: Handler,
    push: Push,
    widget_id: String,
    next_id: u32,
    /// `update_state` requests sent.
    pushed: u32,
    /// The widget's answers to them received.
    acked: u32,
}

impl PushesState {
    fn new(profile: Profile, push: Push) -> PushesState {
        PushesState {
            client: Handler::new(profile, ClientKind::Reference),
            push,
            widget_id: String::new(),
            next_id: 0,
            pushed: 0,
            acked: 0,
        }
    }

    fn update_state(&mut self) -> String {
        let id = format!("state-{}", self.next_id);
        self.next_id += 1;
        self.pushed += 1;
        let (widget_id, data) = match self.push {
            Push::WellFormed => (self.widget_id.clone(), r#"{"state":[]}"#),
            Push::DataNotObject => (self.widget_id.clone(), "[]"),
            Push::OtherWidget => (format!("{}-other", self.widget_id), r#"{"state":[]}"#),
        };
        let message = serde_json::json!({
            "api": "toWidget",
            "widgetId": widget_id,
            "requestId": id,
            "action": "update_state",
            "data": serde_json::from_str::<Value>(data).unwrap(),
        });
        serde_json::json!({ "client": message }).to_string()
    }
}

/// The message of a `client` or `widget` line.
fn message<'a>(line: &'a Value, key: &str) -> Option<&'a Value> {
    line.get(key).filter(|m| m.is_object())
}

impl Adapter for PushesState {
    fn command(&mut self, line: &str, out: &mut Vec<String>) -> Result<(), Failure> {
        let parsed: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        if let Some(id) = parsed.pointer("/start/widgetId").and_then(Value::as_str) {
            self.widget_id = id.to_owned();
            self.next_id = 0;
        }
        if let Some(m) = message(&parsed, "widget") {
            if m["action"] == "update_state" && m.get("response").is_some() {
                assert_eq!(m["response"], serde_json::json!({}), "{line}");
                self.acked += 1;
            }
        }
        let before = out.len();
        self.client.command(line, out)?;
        let approvals = out[before..]
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| {
                message(l, "client").is_some_and(|m| {
                    m["action"] == "notify_capabilities"
                        && m.pointer("/data/approved")
                            .and_then(Value::as_array)
                            .is_some_and(|a| !a.is_empty())
                })
            })
            .count();
        for _ in 0..approvals {
            let push = self.update_state();
            out.push(push);
        }
        Ok(())
    }
}

#[test]
fn update_state_after_an_approval_is_not_a_difference() {
    for profile in Profile::ALL {
        let mut adapter = PushesState::new(profile, Push::WellFormed);
        match drive(&Options::new(profile, 256), &mut adapter) {
            Outcome::Passed(stats) => assert_eq!(stats.sessions, 256, "{profile}"),
            Outcome::Diverged(r) => panic!("{profile}: {}", r.divergence.describe()),
        }
        // The sessions reached approvals, and the driver's widget answered every push.
        assert!(
            adapter.pushed > 0,
            "{profile}: no session approved anything"
        );
        assert_eq!(adapter.acked, adapter.pushed, "{profile}");
    }
}

#[test]
fn a_malformed_update_state_is_still_a_violation() {
    for push in [Push::DataNotObject, Push::OtherWidget] {
        for profile in Profile::ALL {
            let mut adapter = PushesState::new(profile, push);
            let Outcome::Diverged(r) = drive(&Options::new(profile, 256), &mut adapter) else {
                panic!("{profile}, {push:?}: not found")
            };
            let d = &r.divergence;
            assert!(
                d.is(Class::Rule(Rule::WellFormedMessage)),
                "{profile}, {push:?}: {}",
                d.describe()
            );
            // It breaks at the push, which is the last line of the minimal session, and no
            // answer was sent to it.
            let last = d.trace.last().unwrap();
            assert!(last.contains(r#""action":"update_state""#), "{last}");
            assert_eq!(adapter.acked, 0, "{profile}, {push:?}");
        }
    }
}

const SESSION: &str = r#"{"session":{"widgetId":"w1","prompts":"recorded","autoApprove":[],"rateLimit":false,"waitForContentLoaded":false}}"#;
const CAPABILITIES: &str = r#"{"client":{"api":"toWidget","widgetId":"w1","requestId":"c0","action":"capabilities","data":{}}}"#;
const ANSWER: &str = r#"{"widget":{"api":"toWidget","widgetId":"w1","requestId":"c0","action":"capabilities","data":{},"response":{"capabilities":["org.matrix.msc2762.receive.state_event:m.room.member"]}}}"#;
const PROMPT: &str =
    r#"{"prompt":{"capabilities":["org.matrix.msc2762.receive.state_event:m.room.member"]}}"#;
const DECISION: &str =
    r#"{"decision":{"approved":["org.matrix.msc2762.receive.state_event:m.room.member"]}}"#;
const NOTIFY: &str = r#"{"client":{"api":"toWidget","widgetId":"w1","requestId":"c1","action":"notify_capabilities","data":{"requested":["org.matrix.msc2762.receive.state_event:m.room.member"],"approved":["org.matrix.msc2762.receive.state_event:m.room.member"]}}}"#;
const ACK: &str = r#"{"widget":{"api":"toWidget","widgetId":"w1","requestId":"c1","action":"notify_capabilities","data":{"requested":["org.matrix.msc2762.receive.state_event:m.room.member"],"approved":["org.matrix.msc2762.receive.state_event:m.room.member"]},"response":{}}}"#;

/// A trace: the negotiation above, then `update_state` with `id` and `data` where the notify's
/// ack would come, then `after`.
fn trace(id: &str, data: &str, after: &[&str]) -> String {
    let push = format!(
        r#"{{"client":{{"api":"toWidget","widgetId":"w1","requestId":"{id}","action":"update_state","data":{data}}}}}"#
    );
    let mut lines = vec![
        SESSION,
        CAPABILITIES,
        ANSWER,
        PROMPT,
        DECISION,
        NOTIFY,
        &push,
    ];
    lines.extend_from_slice(after);
    lines.join("\n") + "\n"
}

/// The verdict of `side`'s rules under `profile`: the line and rules broken, if any.
fn verdict(profile: Profile, side: RuleSide, text: &str) -> Option<(u32, Vec<Rule>)> {
    let options = ValidateOptions {
        profile,
        partial: false,
        side,
    };
    match validate(options, text.as_bytes()).unwrap() {
        Verdict::Conforms { .. } => None,
        Verdict::Violates { line, findings, .. } => {
            Some((line.get(), findings.iter().map(|f| f.rule).collect()))
        }
        Verdict::BadInput { line, message } => panic!("bad input at {line:?}: {message}"),
    }
}

#[test]
fn the_rules_see_update_state_as_an_unknown_client_request() {
    let answered = r#"{"widget":{"api":"toWidget","widgetId":"w1","requestId":"c2","action":"update_state","data":{"state":[]},"response":{}}}"#;
    for profile in Profile::ALL {
        // Answered by the widget: nothing to say on either side.
        let text = trace("c2", r#"{"state":[]}"#, &[ACK, answered]);
        assert_eq!(verdict(profile, RuleSide::Client, &text), None, "{profile}");
        assert_eq!(verdict(profile, RuleSide::Widget, &text), None, "{profile}");
        // Left unanswered: the widget's fault (at the end of the trace, line 9), not the
        // client's.
        let text = trace("c2", r#"{"state":[]}"#, &[ACK]);
        assert_eq!(verdict(profile, RuleSide::Client, &text), None, "{profile}");
        assert_eq!(
            verdict(profile, RuleSide::Widget, &text),
            Some((9, vec![Rule::WidgetExactlyOneResponse])),
            "{profile}"
        );
        // Its envelope and its id are the client's.
        let text = trace("c2", "[]", &[ACK]);
        assert_eq!(
            verdict(profile, RuleSide::Client, &text),
            Some((7, vec![Rule::WellFormedMessage])),
            "{profile}"
        );
        let text = trace("c1", r#"{"state":[]}"#, &[ACK]);
        assert_eq!(
            verdict(profile, RuleSide::Client, &text),
            Some((7, vec![Rule::UniqueRequestIds])),
            "{profile}"
        );
    }
}
