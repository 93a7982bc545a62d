//! The adapter protocol (SPEC §8) and the reference's side of it.
//!
//! Harness to adapter, one JSON object per line: `{"start": {"widgetId", "autoApprove": [..],
//! "waitForContentLoaded": bool}}`, `{"widget": ENVELOPE}`, `{"decision": {"approved": [..]}}`.
//! Adapter to harness: any number of `{"client": ENVELOPE}` and `{"prompt": {"capabilities":
//! [..]}}`, then `{"idle": {}}`.
//!
//! [`Handler`] answers commands with a [`ClientSession`]: the reference client, or one of the
//! deliberately wrong clients of [`capneg_model::mutants`]. `capneg adapter` puts it on stdin
//! and stdout; the driver also runs it in-process as the reference it compares against.

use capneg_model::mutants::{ClientKind, TestClient};
use capneg_model::session::{ClientSession, Emitted, SessionConfig};
use capneg_reference::client::{Client, Machine, StepError};
use capneg_reference::Profile;
use capneg_wire::envelope::raw_is_object;
use capneg_wire::trace::DecisionLine;
use serde::de::{Deserializer, IgnoredAny};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// The line that ends an adapter's reaction to a command.
pub const IDLE: &str = r#"{"idle":{}}"#;

/// A command of the harness.
#[derive(Debug)]
pub enum Command<'a> {
    /// Starts a new session.
    Start(StartCommand),
    /// The widget posted this message (any JSON: odd envelopes are the client's to judge).
    Widget(&'a RawValue),
    /// The user's answer to the oldest open prompt.
    Decision(DecisionLine),
}

/// The value of a `start` command.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartCommand {
    /// The widget's id (a non-empty string).
    pub widget_id: String,
    /// Capabilities approved without asking (default: none).
    #[serde(default)]
    pub auto_approve: Vec<String>,
    /// Whether the client waits for `content_loaded` (default: false).
    #[serde(default)]
    pub wait_for_content_loaded: bool,
    /// An extension of SPEC §8: whether the session declares `rateLimit` (default: false).
    #[serde(default)]
    pub rate_limit: bool,
}

impl StartCommand {
    /// The reference's session settings.
    pub fn config(&self) -> SessionConfig {
        SessionConfig {
            auto_approve: self.auto_approve.clone(),
            rate_limit: self.rate_limit,
            wait_for_content_loaded: self.wait_for_content_loaded,
            ..SessionConfig::new(self.widget_id.clone())
        }
    }
}

fn some_raw<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(d).map(Some)
}

/// The keys of a command line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys<'a> {
    #[serde(default, borrow, deserialize_with = "some_raw")]
    start: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "some_raw")]
    widget: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "some_raw")]
    decision: Option<&'a RawValue>,
}

fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Reads one command line. The error says what is wrong with it, in one line.
pub fn parse_command(line: &str) -> Result<Command<'_>, String> {
    let not_json = || {
        serde_json::from_str::<IgnoredAny>(line)
            .err()
            .map(|e| format!("not JSON: {}", strip_position(&e)))
    };
    if !line.trim_start().starts_with('{') {
        return Err(not_json().unwrap_or_else(|| {
            "expected a JSON object with one key: start, widget or decision".to_owned()
        }));
    }
    let keys: Keys<'_> = match serde_json::from_str(line) {
        Ok(keys) => keys,
        Err(e) => return Err(not_json().unwrap_or_else(|| strip_position(&e))),
    };
    match (keys.start, keys.widget, keys.decision) {
        (Some(start), None, None) => {
            if !raw_is_object(start.get()) {
                return Err("`start` must be an object".to_owned());
            }
            let start: StartCommand = serde_json::from_str(start.get())
                .map_err(|e| format!("bad `start`: {}", strip_position(&e)))?;
            if start.widget_id.is_empty() {
                return Err("bad `start`: `widgetId` is empty".to_owned());
            }
            Ok(Command::Start(start))
        }
        (None, Some(widget), None) => Ok(Command::Widget(widget)),
        (None, None, Some(decision)) => {
            if !raw_is_object(decision.get()) {
                return Err("`decision` must be an object".to_owned());
            }
            let decision: DecisionLine = serde_json::from_str(decision.get())
                .map_err(|e| format!("bad `decision`: {}", strip_position(&e)))?;
            Ok(Command::Decision(decision))
        }
        (None, None, None) => {
            Err("an empty object: expected one key, start, widget or decision".to_owned())
        }
        _ => Err("more than one key: a command holds exactly one".to_owned()),
    }
}

/// What a handled command leaves to say besides its outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Nothing.
    Done,
    /// A note for stderr: the command was ignored.
    Ignored(String),
}

/// A command the handler cannot take: the adapter's protocol error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadCommand(pub String);

impl fmt::Display for BadCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadCommand {}

/// A client session of any kind, as the handler drives it.
trait AnySession {
    fn widget(&mut self, json: &RawValue, emitted: &mut Vec<Emitted>);
    fn decision(
        &mut self,
        approved: &[String],
        emitted: &mut Vec<Emitted>,
    ) -> Result<(), StepError>;
    fn approved(&self) -> Vec<String>;
}

/// The reference client inside a machine.
trait Inner {
    fn inner(&self) -> &Client;
}

impl Inner for Client {
    fn inner(&self) -> &Client {
        self
    }
}

impl<M: Machine + Inner> AnySession for ClientSession<M> {
    fn widget(&mut self, json: &RawValue, emitted: &mut Vec<Emitted>) {
        ClientSession::widget(self, json, emitted)
    }
    fn decision(
        &mut self,
        approved: &[String],
        emitted: &mut Vec<Emitted>,
    ) -> Result<(), StepError> {
        ClientSession::decision(self, approved.iter().map(String::as_str), emitted)
    }
    fn approved(&self) -> Vec<String> {
        self.codec().caps.to_vec(self.client().inner().approved())
    }
}

impl Inner for TestClient {
    fn inner(&self) -> &Client {
        self.client()
    }
}

fn start_session(
    kind: ClientKind,
    profile: Profile,
    config: &SessionConfig,
    emitted: &mut Vec<Emitted>,
) -> Box<dyn AnySession> {
    match kind {
        ClientKind::Reference => Box::new(ClientSession::<Client>::start(profile, config, emitted)),
        ClientKind::Mutant(_) => Box::new(ClientSession::<TestClient>::start_with(
            profile,
            config,
            |setup, out| TestClient::start(kind, setup, out),
            emitted,
        )),
    }
}

/// Answers adapter-protocol commands with the reference client of a profile, or a mutant.
pub struct Handler {
    profile: Profile,
    kind: ClientKind,
    session: Option<Box<dyn AnySession>>,
    emitted: Vec<Emitted>,
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler")
            .field("profile", &self.profile.name)
            .field("kind", &self.kind)
            .field("started", &self.session.is_some())
            .finish()
    }
}

impl Handler {
    /// A handler of `kind` under `profile`, with no session yet.
    pub fn new(profile: Profile, kind: ClientKind) -> Handler {
        Handler {
            profile,
            kind,
            session: None,
            emitted: Vec::new(),
        }
    }

    /// The client it runs.
    pub fn kind(&self) -> ClientKind {
        self.kind
    }

    /// The approved set of the current session's client (empty before any `start`).
    pub fn approved(&self) -> Vec<String> {
        self.session
            .as_ref()
            .map(|s| s.approved())
            .unwrap_or_default()
    }

    /// Handles one command line; the output lines (without the closing `idle`) are appended
    /// to `out`.
    pub fn handle(&mut self, line: &str, out: &mut Vec<String>) -> Result<Handled, BadCommand> {
        let command = parse_command(line).map_err(BadCommand)?;
        self.handle_command(command, out)
    }

    /// Handles one parsed command.
    pub fn handle_command(
        &mut self,
        command: Command<'_>,
        out: &mut Vec<String>,
    ) -> Result<Handled, BadCommand> {
        let emitted = &mut self.emitted;
        emitted.clear();
        let handled = match command {
            Command::Start(start) => {
                self.session = Some(start_session(
                    self.kind,
                    self.profile,
                    &start.config(),
                    emitted,
                ));
                Handled::Done
            }
            Command::Widget(json) => {
                let session = self.session.as_mut().ok_or_else(|| {
                    BadCommand("a `widget` command before any `start`".to_owned())
                })?;
                session.widget(json, emitted);
                Handled::Done
            }
            Command::Decision(decision) => {
                let session = self.session.as_mut().ok_or_else(|| {
                    BadCommand("a `decision` command before any `start`".to_owned())
                })?;
                match session.decision(&decision.approved, emitted) {
                    Ok(()) => Handled::Done,
                    Err(e) => Handled::Ignored(format!("{e}: ignored")),
                }
            }
        };
        out.extend(self.emitted.drain(..).map(|e| e.to_line()));
        Ok(handled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_or_say_why() {
        assert!(matches!(
            parse_command(r#"{"start":{"widgetId":"w","autoApprove":["a"]}}"#),
            Ok(Command::Start(StartCommand { ref widget_id, .. })) if widget_id == "w"
        ));
        assert!(matches!(
            parse_command(r#"{"widget": [1]}"#),
            Ok(Command::Widget(_))
        ));
        let cases = [
            ("{", "not JSON"),
            ("[1]", "expected a JSON object"),
            ("{}", "an empty object"),
            (r#"{"foo": 1}"#, "unknown field `foo`"),
            (r#"{"widget": {}, "decision": {}}"#, "more than one key"),
            (r#"{"start": {"widgetId": ""}}"#, "empty"),
            (r#"{"start": {"widgetId": 1}}"#, "bad `start`"),
            (r#"{"start": {}}"#, "missing field `widgetId`"),
            (r#"{"decision": {"approved": "a"}}"#, "bad `decision`"),
            (r#"{"decision": []}"#, "must be an object"),
            (r#"{"widget": null, "widget": 1}"#, "duplicate"),
        ];
        for (text, want) in cases {
            let err = parse_command(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
            assert!(!err.contains('\n'), "{text}: {err}");
        }
    }

    #[test]
    fn the_handler_speaks_for_the_reference() {
        let mut h = Handler::new(Profile::MSC, ClientKind::Reference);
        let mut out = Vec::new();
        assert!(h.handle(r#"{"widget": {}}"#, &mut out).is_err());
        h.handle(r#"{"start":{"widgetId":"w1"}}"#, &mut out)
            .unwrap();
        assert_eq!(
            out,
            [
                r#"{"client":{"api":"toWidget","widgetId":"w1","requestId":"c0","action":"capabilities","data":{}}}"#
            ]
        );
        out.clear();
        h.handle(
            r#"{"widget":{"api":"toWidget","widgetId":"w1","requestId":"c0","action":"capabilities","data":{},"response":{"capabilities":["m.always_on_screen"]}}}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            [r#"{"prompt":{"capabilities":["m.always_on_screen"]}}"#]
        );
        out.clear();
        h.handle(
            r#"{"decision":{"approved":["m.always_on_screen"]}}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(h.approved(), ["m.always_on_screen"]);
        out.clear();
        assert!(matches!(
            h.handle(r#"{"decision":{"approved":[]}}"#, &mut out),
            Ok(Handled::Ignored(_))
        ));
    }

    #[test]
    fn every_mutant_starts() {
        use capneg_model::mutants::MutantKind;
        for (profile, kind) in MutantKind::checked() {
            let mut h = Handler::new(profile, ClientKind::Mutant(kind));
            let mut out = Vec::new();
            h.handle(r#"{"start":{"widgetId":"w1"}}"#, &mut out)
                .unwrap();
            assert!(!out.is_empty(), "{kind}");
        }
    }
}
