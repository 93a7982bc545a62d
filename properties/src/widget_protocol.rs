//! The widget adapter protocol (docs/spec.md §9.3) and the reference widget's side of it.
//!
//! Harness to adapter, one JSON object per line: `{"start": {"widgetId", "capabilities": [..]}}`,
//! `{"client": ENVELOPE}`, `{"request": {"capabilities": [..]}}`. Adapter to harness: any number
//! of `{"widget": ENVELOPE}`, then one `{"view": {"approved": [..]}}`, then `{"idle": {}}`.
//!
//! [`WidgetHandler`] answers commands with a [`WidgetSession`]: the reference widget, or one of
//! the deliberately wrong widgets of [`capneg_model::rules::widget_mutants`]. `capneg adapter
//! --side widget` puts it on stdin and stdout; the widget driver also runs it in-process as the
//! reference it compares against.

use crate::command_line::{
    command_keys, in_one_line, read_fields, read_keys, read_start, MORE_THAN_ONE_KEY,
};
use crate::protocol::{BadCommand, Handled};
use capneg_model::rules::widget_mutants::WidgetMutant;
use capneg_model::widget_session::{WidgetEmitted, WidgetSession};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// A command of the harness to a widget adapter.
#[derive(Debug)]
pub enum WidgetCommand<'a> {
    /// Starts a new widget of this id, whose application asks for these capabilities.
    Start {
        /// The widget's id (a non-empty string).
        widget_id: String,
        /// What the application asks for initially.
        capabilities: Vec<String>,
    },
    /// The client posted this message (any JSON: odd envelopes are the widget's to ignore).
    Client(&'a RawValue),
    /// The application asks for more capabilities (MSC2974).
    Request(Vec<String>),
}

/// The fields of a `start` command as written.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StartFields {
    widget_id: String,
    #[serde(default)]
    capabilities: Vec<String>,
}

/// The fields of a `request` command as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestFields {
    capabilities: Vec<String>,
}

/// The `start` command of a widget `widget_id` whose application asks for `capabilities`, one
/// JSON line: what the driver sends to a widget adapter.
pub fn start_command(widget_id: &str, capabilities: &[String]) -> String {
    serde_json::json!({"start": {"widgetId": widget_id, "capabilities": capabilities}}).to_string()
}

/// The `request` command of an application asking for `capabilities`.
pub fn request_command(capabilities: &[String]) -> String {
    serde_json::json!({"request": {"capabilities": capabilities}}).to_string()
}

/// The `client` command of a message the client posted (its JSON text).
pub fn client_command(envelope: &str) -> String {
    format!("{{\"client\":{envelope}}}")
}

command_keys!(start, client, request);

const EXPECTED: &str = "expected a JSON object with one key: start, client or request";

/// Reads one command line. The error says what is wrong with it, in one line (a key or value
/// it quotes has its line breaks escaped).
pub fn parse_widget_command(line: &str) -> Result<WidgetCommand<'_>, String> {
    in_one_line(line, parse_widget_command_of)
}

/// [`parse_widget_command`], its error unescaped.
fn parse_widget_command_of(line: &str) -> Result<WidgetCommand<'_>, String> {
    let keys: Keys<'_> = read_keys(line, EXPECTED)?;
    match (keys.start, keys.client, keys.request) {
        (Some(start), None, None) => {
            let start: StartFields = read_start(start, |s: &StartFields| &s.widget_id)?;
            Ok(WidgetCommand::Start {
                widget_id: start.widget_id,
                capabilities: start.capabilities,
            })
        }
        (None, Some(client), None) => Ok(WidgetCommand::Client(client)),
        (None, None, Some(request)) => {
            let request: RequestFields = read_fields("request", request)?;
            Ok(WidgetCommand::Request(request.capabilities))
        }
        (None, None, None) => Err(format!("an empty object: {EXPECTED}")),
        _ => Err(MORE_THAN_ONE_KEY.to_owned()),
    }
}

/// Answers widget-protocol commands with the reference widget, or a widget mutant.
pub struct WidgetHandler {
    mutant: Option<WidgetMutant>,
    session: Option<WidgetSession>,
    emitted: Vec<WidgetEmitted>,
}

impl fmt::Debug for WidgetHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WidgetHandler")
            .field("mutant", &self.mutant)
            .field("started", &self.session.is_some())
            .finish()
    }
}

impl WidgetHandler {
    /// A handler of the reference widget (`None`) or a mutant, with no session yet.
    pub fn new(mutant: Option<WidgetMutant>) -> WidgetHandler {
        WidgetHandler {
            mutant,
            session: None,
            emitted: Vec::new(),
        }
    }

    /// The widget it runs (`None`: the reference).
    pub fn mutant(&self) -> Option<WidgetMutant> {
        self.mutant
    }

    /// The current session, once started.
    pub fn session(&self) -> Option<&WidgetSession> {
        self.session.as_ref()
    }

    /// Handles one command line; the output lines (the widget's messages, then its view,
    /// without the closing `idle`) are appended to `out`.
    pub fn handle(&mut self, line: &str, out: &mut Vec<String>) -> Result<Handled, BadCommand> {
        let command = parse_widget_command(line).map_err(BadCommand)?;
        self.handle_command(command, out)
    }

    /// Handles one parsed command.
    pub fn handle_command(
        &mut self,
        command: WidgetCommand<'_>,
        out: &mut Vec<String>,
    ) -> Result<Handled, BadCommand> {
        let emitted = &mut self.emitted;
        emitted.clear();
        match command {
            WidgetCommand::Start {
                widget_id,
                capabilities,
            } => {
                self.session = Some(WidgetSession::start(
                    self.mutant,
                    &widget_id,
                    &capabilities,
                    emitted,
                ));
            }
            WidgetCommand::Client(json) => {
                let session = self.session.as_mut().ok_or_else(|| {
                    BadCommand("a `client` command before any `start`".to_owned())
                })?;
                session.client(json, emitted);
            }
            WidgetCommand::Request(capabilities) => {
                let session = self.session.as_mut().ok_or_else(|| {
                    BadCommand("a `request` command before any `start`".to_owned())
                })?;
                session.app(capabilities.iter().map(String::as_str), emitted);
            }
        }
        out.extend(self.emitted.drain(..).map(|e| e.to_line()));
        if let Some(session) = &self.session {
            out.push(session.view_line());
        }
        Ok(Handled::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command_line::tests::assert_refused;

    #[test]
    fn widget_commands_parse_or_say_why() {
        assert!(matches!(
            parse_widget_command(r#"{"start":{"widgetId":"w","capabilities":["a"]}}"#),
            Ok(WidgetCommand::Start { ref widget_id, ref capabilities }) if widget_id == "w" && capabilities == &["a"]
        ));
        assert!(matches!(
            parse_widget_command(r#"{"client": [1]}"#),
            Ok(WidgetCommand::Client(_))
        ));
        assert!(matches!(
            parse_widget_command(r#"{"request": {"capabilities": ["b"]}}"#),
            Ok(WidgetCommand::Request(ref c)) if c == &["b"]
        ));
        let cases = [
            (r#"{"widget": {}}"#, "unknown field `widget`"),
            (r#"{"client": {}, "request": {}}"#, "more than one key"),
            (r#"{"start": {"widgetId": ""}}"#, "empty"),
            (
                r#"{"start": {"widgetId": "w", "autoApprove": []}}"#,
                "unknown field `autoApprove`",
            ),
            (r#"{"request": {"capabilities": "a"}}"#, "bad `request`"),
            (r#"{"request": {}}"#, "missing field `capabilities`"),
            (r#"{"request": []}"#, "must be an object"),
        ];
        assert_refused(|l| parse_widget_command(l).map(drop), &cases);
    }

    #[test]
    fn the_handler_speaks_for_the_reference_widget() {
        let mut h = WidgetHandler::new(None);
        let mut out = Vec::new();
        assert!(h.handle(r#"{"client": {}}"#, &mut out).is_err());
        h.handle(
            r#"{"start":{"widgetId":"w1","capabilities":["a"]}}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            [
                r#"{"widget":{"api":"fromWidget","widgetId":"w1","requestId":"w0","action":"supported_api_versions","data":{}}}"#,
                r#"{"view":{"approved":[]}}"#,
            ]
        );
        out.clear();
        h.handle(
            r#"{"client":{"api":"toWidget","widgetId":"w1","requestId":"c0","action":"notify_capabilities","data":{"requested":["a"],"approved":["a"]}}}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            [
                r#"{"widget":{"api":"toWidget","widgetId":"w1","requestId":"c0","action":"notify_capabilities","data":{"requested":["a"],"approved":["a"]},"response":{}}}"#,
                r#"{"view":{"approved":["a"]}}"#,
            ]
        );
    }
}
