//! The adapter protocol (docs/spec.md §8) and the reference's side of it.
//!
//! Harness to adapter, one JSON object per line: `{"start": {"widgetId", "autoApprove": [..],
//! "waitForContentLoaded": bool}}`, `{"widget": ENVELOPE}`, `{"decision": {"approved": [..]}}`.
//! Adapter to harness: any number of `{"client": ENVELOPE}` and `{"prompt": {"capabilities":
//! [..]}}`, then `{"idle": {}}`.
//!
//! [`Handler`] answers commands with a [`ClientSession`]: the reference client, or one of the
//! deliberately wrong clients of [`capneg_model::rules::mutants`]. `capneg adapter` puts it on stdin
//! and stdout; the driver also runs it in-process as the reference it compares against.

use crate::command_line::{
    command_keys, in_one_line, read_fields, read_keys, read_start, MORE_THAN_ONE_KEY,
};
use capneg_model::rules::mutants::ClientKind;
use capneg_model::session::{ClientSession, Emitted};
use capneg_reference::{Profile, Settings};
use capneg_wire::trace::DecisionLine;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// The line that ends an adapter's reaction to a command.
pub const IDLE: &str = r#"{"idle":{}}"#;

/// A command of the harness.
#[derive(Debug)]
pub enum Command<'a> {
    /// Starts a new session of this widget with these settings.
    Start {
        /// The widget's id (a non-empty string).
        widget_id: String,
        /// The session's settings.
        settings: Settings<Vec<String>>,
    },
    /// The widget posted this message (any JSON: odd envelopes are the client's to judge).
    Widget(&'a RawValue),
    /// The user's answer to the oldest open prompt.
    Decision(DecisionLine),
}

/// The fields of a `start` command as written.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StartFields {
    widget_id: String,
    #[serde(default)]
    auto_approve: Vec<String>,
    #[serde(default)]
    wait_for_content_loaded: bool,
    /// An extension of docs/spec.md §8: whether the session declares `rateLimit`.
    #[serde(default)]
    rate_limit: bool,
}

/// The `start` command of a session of `widget_id` with `settings` (docs/spec.md §8), one JSON
/// line: what the driver sends to an adapter. The declined policy is not part of it (adapters
/// follow their own).
pub fn start_command(widget_id: &str, settings: &Settings<Vec<String>>) -> String {
    let mut start = serde_json::json!({
        "widgetId": widget_id,
        "autoApprove": settings.auto_approve,
        "waitForContentLoaded": settings.wait_for_content_loaded,
    });
    if settings.rate_limit {
        start["rateLimit"] = serde_json::Value::Bool(true);
    }
    serde_json::json!({ "start": start }).to_string()
}

command_keys!(start, widget, decision);

/// Reads one command line. The error says what is wrong with it, in one line (a key or value
/// it quotes has its line breaks escaped).
pub fn parse_command(line: &str) -> Result<Command<'_>, String> {
    in_one_line(line, parse_command_of)
}

/// [`parse_command`], its error unescaped.
fn parse_command_of(line: &str) -> Result<Command<'_>, String> {
    let keys: Keys<'_> = read_keys(
        line,
        "expected a JSON object with one key: start, widget or decision",
    )?;
    match (keys.start, keys.widget, keys.decision) {
        (Some(start), None, None) => {
            let start: StartFields = read_start(start, |s: &StartFields| &s.widget_id)?;
            Ok(Command::Start {
                widget_id: start.widget_id,
                settings: Settings {
                    auto_approve: start.auto_approve,
                    rate_limit: start.rate_limit,
                    wait_for_content_loaded: start.wait_for_content_loaded,
                    ..Settings::default()
                },
            })
        }
        (None, Some(widget), None) => Ok(Command::Widget(widget)),
        (None, None, Some(decision)) => Ok(Command::Decision(read_fields("decision", decision)?)),
        (None, None, None) => {
            Err("an empty object: expected one key, start, widget or decision".to_owned())
        }
        _ => Err(MORE_THAN_ONE_KEY.to_owned()),
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

/// Answers adapter-protocol commands with the reference client of a profile, or a mutant.
pub struct Handler {
    profile: Profile,
    kind: ClientKind,
    session: Option<ClientSession>,
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
            .map(|s| s.codec().caps.to_vec(s.client().client().approved()))
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
            Command::Start {
                widget_id,
                settings,
            } => {
                self.session = Some(ClientSession::start(
                    self.kind,
                    self.profile,
                    &widget_id,
                    &settings,
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
                match session.decision(decision.approved.iter().map(String::as_str), emitted) {
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
    use crate::command_line::tests::assert_refused;

    #[test]
    fn commands_parse_or_say_why() {
        assert!(matches!(
            parse_command(r#"{"start":{"widgetId":"w","autoApprove":["a"]}}"#),
            Ok(Command::Start { ref widget_id, .. }) if widget_id == "w"
        ));
        assert!(matches!(
            parse_command(r#"{"widget": [1]}"#),
            Ok(Command::Widget(_))
        ));
        let cases = [
            (r#"{"widget": {}, "decision": {}}"#, "more than one key"),
            (r#"{"start": {"widgetId": ""}}"#, "empty"),
            (r#"{"start": {"widgetId": 1}}"#, "bad `start`"),
            (r#"{"start": {}}"#, "missing field `widgetId`"),
            (
                r#"{"start": {"widgetId": "w", "autoapprove": []}}"#,
                "unknown field `autoapprove`",
            ),
            (r#"{"decision": {"approved": "a"}}"#, "bad `decision`"),
            (r#"{"decision": []}"#, "must be an object"),
        ];
        assert_refused(|l| parse_command(l).map(drop), &cases);
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
        use capneg_model::rules::mutants::MutantKind;
        for (profile, kind) in MutantKind::checked() {
            let mut h = Handler::new(profile, ClientKind::Mutant(kind));
            let mut out = Vec::new();
            h.handle(r#"{"start":{"widgetId":"w1"}}"#, &mut out)
                .unwrap();
            assert!(!out.is_empty(), "{kind}");
        }
    }
}
