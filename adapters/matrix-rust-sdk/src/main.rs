//! capneg adapter (docs/spec.md §8) around the widget driver of matrix-rust-sdk (`matrix_sdk::widget`),
//! the client side of the widget API that Element X uses.
//!
//! stdin  (JSON Lines): {"start": {...}} | {"widget": ENVELOPE} | {"decision": {"approved": [..]}}
//! stdout (JSON Lines): {"client": ENVELOPE} | {"prompt": {"capabilities": [..]}} ..., then {"idle": {}}
//!
//! The driver runs against a room of a mock homeserver (the SDK's `MatrixMockServer`) on a
//! current-thread tokio runtime; see README.md for the embedding and for how the adapter knows
//! that the driver has finished reacting to a command (`quiescence`).
//!
//! Environment: `CAPNEG_ADAPTER_DEBUG=1` writes a note per command (HTTP requests made) to stderr.

#![forbid(unsafe_code)]

mod homeserver;
mod quiescence;
mod session;

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::Arc;

use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tracing_subscriber::layer::SubscriberExt;

use crate::homeserver::Homeserver;
use crate::quiescence::Quiescence;
use crate::session::{Outputs, Session, Start};

/// Reports something on stderr, one line.
pub fn note(text: &str) {
    eprintln!("capneg adapter: {text}");
}

/// A line of stdin, or why it could not be read.
enum Input {
    Line(String),
    Unreadable(String),
}

/// A command of the harness (docs/spec.md §8).
#[derive(Debug)]
enum Command {
    Start(Start),
    /// The widget's message, as the JSON text of the `widget` value.
    Widget(String),
    Decision(Vec<String>),
}

fn string_list(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// Parses one non-blank stdin line.
fn parse(line: &str) -> Result<Command, String> {
    let object: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(line).map_err(|e| format!("expected a JSON object: {e}"))?;
    if object.len() != 1 {
        return Err(format!("expected exactly one key, got {}", object.len()));
    }
    let Some((kind, body)) = object.into_iter().next() else {
        return Err("expected exactly one key, got 0".to_owned());
    };
    match kind.as_str() {
        "start" => {
            let body: Value = serde_json::from_str(body.get()).map_err(|e| e.to_string())?;
            let Some(body) = body.as_object() else {
                return Err("start: expected an object".to_owned());
            };
            let widget_id = match body.get("widgetId") {
                Some(Value::String(id)) if !id.is_empty() => id.clone(),
                _ => return Err("start: widgetId must be a non-empty string".to_owned()),
            };
            let auto_approve = match body.get("autoApprove") {
                None => Vec::new(),
                Some(v) => string_list(v)
                    .ok_or("start: autoApprove must be an array of strings".to_owned())?,
            };
            let wait_for_content_loaded = match body.get("waitForContentLoaded") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err("start: waitForContentLoaded must be a boolean".to_owned()),
            };
            Ok(Command::Start(Start {
                widget_id,
                auto_approve,
                wait_for_content_loaded,
            }))
        }
        // Any JSON value: odd envelopes are the driver's to judge.
        "widget" => Ok(Command::Widget(body.get().to_owned())),
        "decision" => {
            let body: Value = serde_json::from_str(body.get()).map_err(|e| e.to_string())?;
            body.get("approved")
                .and_then(string_list)
                .map(Command::Decision)
                .ok_or_else(|| r#"decision: expected {"approved": [strings]}"#.to_owned())
        }
        other => Err(format!(
            "unknown command {} (expected start, widget or decision)",
            Value::from(other)
        )),
    }
}

/// The command loop; returns the exit code.
async fn serve(quiescence: Arc<Quiescence>, mut input: mpsc::UnboundedReceiver<Input>) -> i32 {
    let debug = std::env::var("CAPNEG_ADAPTER_DEBUG").is_ok_and(|v| v == "1");
    let homeserver = Homeserver::start().await;
    quiescence.settle().await;
    if debug {
        note(&format!(
            "homeserver ready after {} HTTP requests",
            quiescence.started()
        ));
    }

    let outputs = Outputs::default();
    let mut session: Option<Session> = None;
    let mut line_no = 0u64;
    let mut stdout = std::io::stdout();
    while let Some(input) = input.recv().await {
        line_no += 1;
        let line = match input {
            Input::Line(line) => line,
            Input::Unreadable(e) => {
                note(&format!("stdin line {line_no}: {e}"));
                return 2;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let command = match parse(&line) {
            Ok(command) => command,
            Err(e) => {
                note(&format!("stdin line {line_no}: {e}"));
                return 2;
            }
        };
        let requests_before = quiescence.started();

        match command {
            Command::Start(start) => {
                if let Some(previous) = session.take() {
                    previous.stop();
                }
                match Session::start(start, homeserver.room.clone(), outputs.clone()) {
                    Ok(started) => session = Some(started),
                    Err(e) => note(&format!("stdin line {line_no}: {e}")),
                }
            }
            Command::Widget(text) => match &session {
                Some(session) => session.widget_posted(text).await,
                None => note("widget message before any start: ignored"),
            },
            Command::Decision(approved) => match &session {
                Some(session) => session.decide(approved),
                None => note("decision before any start: ignored"),
            },
        }

        quiescence.settle().await;
        if let Some(session) = &session {
            session.drain();
        }

        let mut text = String::new();
        for out in outputs.take() {
            text.push_str(&out);
            text.push('\n');
        }
        text.push_str("{\"idle\":{}}\n");
        if stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .is_err()
        {
            // Nobody is listening any more.
            return 0;
        }
        if debug {
            note(&format!(
                "stdin line {line_no}: idle after {} HTTP requests ({} in flight)",
                quiescence.started() - requests_before,
                quiescence.in_flight()
            ));
        }
    }
    0
}

fn main() {
    // No TLS set-up: matrix-sdk 0.18 builds reqwest with its `rustls` feature, which brings and
    // uses rustls' aws-lc-rs provider by default (0.19 switched to `rustls-no-provider`).

    let quiescence = Quiescence::new();
    let subscriber = tracing_subscriber::registry().with(quiescence.layer());
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        note("internal error: cannot install the tracing layer");
        std::process::exit(3);
    }

    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let input = match line {
                Ok(line) => Input::Line(line),
                Err(e) => Input::Unreadable(e.to_string()),
            };
            let stop = matches!(input, Input::Unreadable(_));
            if tx.send(input).is_err() || stop {
                return;
            }
        }
    });

    let hook = Arc::clone(&quiescence);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_park(move || hook.on_park())
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            note(&format!("internal error: cannot start the runtime: {e}"));
            std::process::exit(3);
        }
    };
    let code = runtime.block_on(serve(quiescence, rx));
    // Exit without tearing the runtime, the driver and the mock server down.
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        let Ok(Command::Start(start)) = parse(
            r#"{"start": {"widgetId": "w1", "autoApprove": ["a"], "waitForContentLoaded": true, "rateLimit": false}}"#,
        ) else {
            panic!("start");
        };
        assert_eq!(start.widget_id, "w1");
        assert_eq!(start.auto_approve, ["a"]);
        assert!(start.wait_for_content_loaded);

        let Ok(Command::Widget(text)) = parse(r#"{"widget": {"api": "fromWidget", "b": [1, 2]}}"#)
        else {
            panic!("widget");
        };
        assert_eq!(text, r#"{"api": "fromWidget", "b": [1, 2]}"#);

        let Ok(Command::Decision(approved)) = parse(r#"{"decision": {"approved": ["x"]}}"#) else {
            panic!("decision");
        };
        assert_eq!(approved, ["x"]);
    }

    #[test]
    fn rejects_bad_commands() {
        for line in [
            "[]",
            "nope",
            r#"{}"#,
            r#"{"start": {"widgetId": "w"}, "widget": {}}"#,
            r#"{"start": {"widgetId": ""}}"#,
            r#"{"start": {"widgetId": "w", "autoApprove": [1]}}"#,
            r#"{"start": {"widgetId": "w", "waitForContentLoaded": "yes"}}"#,
            r#"{"decision": {}}"#,
            r#"{"decision": {"approved": "a"}}"#,
            r#"{"stop": {}}"#,
        ] {
            assert!(parse(line).is_err(), "{line}");
        }
    }
}
