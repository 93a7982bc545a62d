//! Abstract sessions: what the widget and the user do, without request ids.
//!
//! A [`Session`] is a start configuration and a sequence of [`Step`]s. Steps are abstract: a
//! response does not carry the client's requestId but answers the client's oldest open request
//! of its action, and a decision approves "these capabilities of the oldest open prompt". The
//! runner ([`crate::runner`]) makes them concrete for each client it drives, from what that
//! client has sent; a step that has nothing to act on (no open request of its action, no open
//! prompt) is skipped.
//!
//! Generated sessions ([`crate::strategy`]) only use the universe ([`crate::universe`]). Replayed
//! ones ([`Session::from_script`]) may hold any widget message and any decision.

use crate::universe::Caps;
use capneg_reference::Settings;
use capneg_wire::trace::{parse_line, Key, LineReader};
use serde_json::{Map, Value};
use std::fmt;
use std::io::BufRead;

/// The widget id of generated sessions.
pub const WIDGET_ID: &str = "w1";

/// How a session starts: the widget and the session's settings (the adapter protocol's
/// `start`, docs/spec.md §8).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Start {
    /// The widget's id.
    pub widget_id: String,
    /// The session's settings.
    pub settings: Settings<Vec<String>>,
}

impl Start {
    /// A start of widget [`WIDGET_ID`] with these settings.
    pub fn new(auto_approve: Caps, wait_for_content_loaded: bool) -> Start {
        Start {
            widget_id: WIDGET_ID.to_owned(),
            settings: Settings {
                auto_approve: auto_approve.to_vec(),
                wait_for_content_loaded,
                ..Settings::default()
            },
        }
    }

    /// The `start` command (docs/spec.md §8), one JSON line.
    pub fn command(&self) -> String {
        crate::protocol::start_command(&self.widget_id, &self.settings)
    }
}

/// A gated action the widget performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gated {
    /// `set_always_on_screen` with this value (gated by `m.always_on_screen`).
    AlwaysOnScreen(bool),
    /// `send_event` of an `m.room.message` with msgtype `m.text`.
    TextMessage,
    /// `send_event` of an `m.room.message` with msgtype `m.notice` (no capability of the
    /// universe permits it).
    NoticeMessage,
    /// `send_event` of an `m.reaction`.
    Reaction,
    /// `send_event` of the state event `m.room.topic` with state key `""`.
    Topic,
}

impl Gated {
    /// The action's wire name.
    pub const fn action(self) -> &'static str {
        match self {
            Gated::AlwaysOnScreen(_) => "set_always_on_screen",
            _ => "send_event",
        }
    }

    /// The request's `data` object.
    pub const fn data(self) -> &'static str {
        match self {
            Gated::AlwaysOnScreen(true) => r#"{"value":true}"#,
            Gated::AlwaysOnScreen(false) => r#"{"value":false}"#,
            Gated::TextMessage => {
                r#"{"type":"m.room.message","content":{"msgtype":"m.text","body":"hello"}}"#
            }
            Gated::NoticeMessage => {
                r#"{"type":"m.room.message","content":{"msgtype":"m.notice","body":"hello"}}"#
            }
            Gated::Reaction => r#"{"type":"m.reaction","content":{}}"#,
            Gated::Topic => {
                r#"{"type":"m.room.topic","state_key":"","content":{"topic":"capneg"}}"#
            }
        }
    }
}

/// One thing the widget or the user does.
#[derive(Clone, PartialEq, Eq)]
pub enum Step {
    /// The widget answers the client's oldest open `capabilities` request with this list.
    AnswerCapabilities(Caps),
    /// The widget acks the client's oldest open `notify_capabilities`.
    AckNotify,
    /// The widget asks for these capabilities (MSC2974), under the stable name
    /// `request_capabilities` or the unstable `org.matrix.msc2974.request_capabilities`.
    RequestCapabilities {
        /// Whether the stable name is used.
        stable: bool,
        /// The list.
        caps: Caps,
    },
    /// The widget performs a gated action.
    Gated(Gated),
    /// The widget asks for the client's supported API versions.
    SupportedApiVersions,
    /// The widget says its content has loaded.
    ContentLoaded,
    /// A request of another widget (`supported_api_versions`): the client must ignore it.
    Foreign,
    /// The user answers the oldest open prompt, approving what it asks of these capabilities.
    /// Skipped when no prompt is open.
    Decide(Caps),
    /// Replay only: a widget message as a script writes it (docs/spec.md §6). Missing fields are filled
    /// in per client; a response answers the open request with its `requestId` if the client has
    /// one, else the oldest open request with its `action`.
    Widget(Box<Map<String, Value>>),
    /// Replay only: the user answers the oldest open prompt approving exactly these. Skipped
    /// when no prompt is open.
    Decision(Vec<String>),
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::AnswerCapabilities(c) => write!(f, "AnswerCapabilities({c:?})"),
            Step::AckNotify => f.write_str("AckNotify"),
            Step::RequestCapabilities { stable, caps } => {
                let name = if *stable { "stable" } else { "unstable" };
                write!(f, "RequestCapabilities({name}, {caps:?})")
            }
            Step::Gated(g) => write!(f, "Gated({g:?})"),
            Step::SupportedApiVersions => f.write_str("SupportedApiVersions"),
            Step::ContentLoaded => f.write_str("ContentLoaded"),
            Step::Foreign => f.write_str("Foreign"),
            Step::Decide(c) => write!(f, "Decide({c:?})"),
            Step::Widget(m) => write!(f, "Widget({})", Value::Object((**m).clone())),
            Step::Decision(names) => write!(f, "Decision({names:?})"),
        }
    }
}

/// A whole session: how it starts and what happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The start.
    pub start: Start,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// Why a script could not be read as a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    /// The 1-based line (0: the input could not be read).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

impl Session {
    /// Reads a script (docs/spec.md §6) or a whole trace (docs/spec.md §5) as a session to replay: the `session`
    /// line gives the start, `widget` and `decision` lines the steps; `client` and `prompt` lines
    /// (the outputs of a recorded run) are skipped.
    pub fn from_script<R: BufRead>(input: R) -> Result<Session, ScriptError> {
        let bad = |line: usize, message: String| ScriptError { line, message };
        let mut lines = LineReader::new(input);
        let mut start: Option<Start> = None;
        let mut steps = Vec::new();
        let mut first = true;
        while let Some(next) = lines.next_line() {
            let (n, text) = next.map_err(|e| bad(e.line, e.error.to_string()))?;
            let line = parse_line(text).map_err(|e| bad(n, e.to_string()))?;
            match line.key {
                Key::Session if first => {
                    let s = line.session().map_err(|e| bad(n, e.to_string()))?;
                    start = Some(Start {
                        widget_id: s.widget_id.unwrap_or_else(|| WIDGET_ID.to_owned()),
                        settings: s.settings,
                    });
                }
                Key::Session => {
                    return Err(bad(n, "a `session` line may only be the first line".into()))
                }
                Key::Client | Key::Prompt => {}
                Key::View | Key::App => {
                    return Err(bad(
                        n,
                        format!(
                            "`{}` lines are the widget's (docs/spec.md §9.1): a script holds only session, widget and decision lines",
                            line.key.as_str()
                        ),
                    ))
                }
                Key::Decision => {
                    let d = line.decision().map_err(|e| bad(n, e.to_string()))?;
                    steps.push(Step::Decision(d.approved));
                }
                Key::Widget => {
                    let map: Map<String, Value> = serde_json::from_str(line.value.get())
                        .map_err(|_| bad(n, "a widget message must be a JSON object".into()))?;
                    if start.is_none() {
                        let widget_id = match map.get("widgetId") {
                            Some(Value::String(w)) => w.clone(),
                            _ => WIDGET_ID.to_owned(),
                        };
                        start = Some(Start {
                            widget_id,
                            ..Start::new(Caps::NONE, false)
                        });
                    }
                    steps.push(Step::Widget(Box::new(map)));
                }
            }
            first = false;
        }
        Ok(Session {
            start: start.unwrap_or_else(|| Start::new(Caps::NONE, false)),
            steps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_traces_read_as_sessions() {
        let text = r#"{"session":{"widgetId":"x","autoApprove":["a"],"waitForContentLoaded":true}}
{"widget":{"api":"fromWidget","action":"content_loaded","data":{}}}
{"client":{"api":"toWidget","widgetId":"x","requestId":"c0","action":"capabilities","data":{}}}
{"widget":{"action":"capabilities","response":{"capabilities":["a"]}}}
{"prompt":{"capabilities":["b"]}}
{"decision":{"approved":[]}}
"#;
        let s = Session::from_script(text.as_bytes()).unwrap();
        assert_eq!(s.start.widget_id, "x");
        assert_eq!(s.start.settings.auto_approve, ["a"]);
        assert!(s.start.settings.wait_for_content_loaded);
        assert_eq!(s.steps.len(), 3);
        assert_eq!(s.steps[2], Step::Decision(vec![]));
        let err = Session::from_script("{\"widget\": 3}\n".as_bytes()).unwrap_err();
        assert_eq!(err.line, 1);
        let err = Session::from_script("\n{\"decision\": {}}\n".as_bytes()).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("approved"), "{err}");
    }

    #[test]
    fn start_commands_are_json() {
        let start = Start::new(Caps(0b11), true);
        let v: Value = serde_json::from_str(&start.command()).unwrap();
        assert_eq!(v["start"]["widgetId"], "w1");
        assert_eq!(v["start"]["autoApprove"].as_array().unwrap().len(), 2);
        assert_eq!(v["start"]["waitForContentLoaded"], true);
    }
}
