//! Running the reference widget on a script (docs/spec.md §9; `capneg run --side widget`).
//!
//! A widget's script holds the inputs of a widget: an optional `session` line, then `client`
//! lines (what the client posted) and `app` lines (what the application asked for, MSC2974).
//! The runner fills in what a client message may leave out (request ids; for a response, the
//! echo of the widget's request it answers), feeds each input to a [`WidgetSession`] and prints
//! the widget's trace: the inputs as completed, and after each one the messages the widget
//! posted and its view. Anything a script cannot mean is an error naming its line.

use crate::rules::widget_mutants::WidgetMutant;
use crate::run::{Inputs, RunError, DEFAULT_WIDGET_ID};
use crate::widget_session::{WidgetEmitted, WidgetSession};
use capneg_reference::Interner;
use capneg_wire::envelope::raw_is_object;
use capneg_wire::read::{read_text, Poster};
use capneg_wire::script::{print_message, Completer, Echo};
use capneg_wire::trace::{
    message_problem, parse_line, print_line, AppLine, Key, LineReader, ParsedLine, Prompts,
    SessionLine,
};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::io::{BufRead, Write};

fn bad(line: usize, message: impl Into<String>) -> RunError {
    let message = message.into();
    RunError::Script {
        line,
        message: capneg_wire::lines::one_line(&message).into_owned(),
    }
}

/// Runs the reference widget (or, with `mutant`, a deliberately wrong one) on the widget's
/// script read from `input`, writing its trace to `out`. Errors name the script's line; a read
/// error of the input is an I/O error.
pub fn run_widget_script<R: BufRead, W: Write>(
    mutant: Option<WidgetMutant>,
    input: R,
    out: W,
) -> Result<(), RunError> {
    run_widget_script_with(mutant, Inputs::Strict, input, out)
}

/// [`run_widget_script`], where `inputs` says what to do with a client response that answers
/// none of the widget's open requests: a bad script (`Strict`), or left out of the trace
/// (`Lenient`: a deliberately wrong widget on a script written for the reference may not have
/// asked what the reference asks).
pub fn run_widget_script_with<R: BufRead, W: Write>(
    mutant: Option<WidgetMutant>,
    inputs: Inputs,
    input: R,
    mut out: W,
) -> Result<(), RunError> {
    let mut lines = LineReader::new(input);
    let mut pending = None;
    let widget_id = match lines.next_line() {
        None => DEFAULT_WIDGET_ID.to_owned(),
        Some(Err(e)) => return Err(read_error(e)),
        Some(Ok((n, text))) => {
            let line = parse_line(text).map_err(|e| bad(n, e.to_string()))?;
            if line.key == Key::Session {
                let s = line.session().map_err(|e| bad(n, e.to_string()))?;
                s.widget_id.unwrap_or_else(|| DEFAULT_WIDGET_ID.to_owned())
            } else {
                let named = match line.key {
                    Key::Client => widget_id_of(line.value),
                    _ => None,
                };
                pending = Some((n, text.to_owned()));
                named.unwrap_or_else(|| DEFAULT_WIDGET_ID.to_owned())
            }
        }
    };
    let session_line = SessionLine {
        widget_id: Some(widget_id.clone()),
        prompts: Some(Prompts::Hidden),
        ..SessionLine::default()
    };
    writeln!(out, "{}", print_line(Key::Session, &session_line))?;
    let mut emitted = Vec::new();
    let session = WidgetSession::start(mutant, &widget_id, &[], &mut emitted);
    let mut runner = WidgetRunner {
        out,
        inputs,
        completer: Completer::for_poster(Poster::Client, &widget_id),
        session,
        emitted,
    };
    runner.flush()?;
    if let Some((n, text)) = pending {
        runner.line(n, &text)?;
    }
    while let Some(next) = lines.next_line() {
        let (n, text) = next.map_err(read_error)?;
        runner.line(n, text)?;
    }
    runner.out.flush()?;
    Ok(())
}

fn read_error(e: capneg_wire::trace::LineIoError) -> RunError {
    if e.is_bad_input() {
        bad(e.line, e.error.to_string())
    } else {
        RunError::Io(e.error)
    }
}

fn widget_id_of(value: &RawValue) -> Option<String> {
    let map: Map<String, Value> = serde_json::from_str(value.get()).ok()?;
    map.get("widgetId")?.as_str().map(str::to_owned)
}

/// The state of a widget's script run.
struct WidgetRunner<W> {
    out: W,
    inputs: Inputs,
    session: WidgetSession,
    completer: Completer,
    emitted: Vec<WidgetEmitted>,
}

impl<W: Write> WidgetRunner<W> {
    fn line(&mut self, n: usize, text: &str) -> Result<(), RunError> {
        let line = parse_line(text).map_err(|e| bad(n, e.to_string()))?;
        match line.key {
            Key::Session => Err(bad(n, "a `session` line may only be the first line")),
            Key::Widget | Key::View => Err(bad(
                n,
                format!(
                    "`{}` lines are the widget's outputs: a widget's script holds only session, client and app lines",
                    line.key.as_str()
                ),
            )),
            Key::Prompt | Key::Decision => Err(bad(
                n,
                format!(
                    "`{}` lines are the client's and its user's: a widget's script holds only session, client and app lines",
                    line.key.as_str()
                ),
            )),
            Key::App => {
                let app = line.app().map_err(|e| bad(n, e.to_string()))?;
                writeln!(
                    self.out,
                    "{}",
                    print_line(
                        Key::App,
                        &AppLine {
                            request: app.request.clone()
                        }
                    )
                )?;
                self.session
                    .app(app.request.iter().map(String::as_str), &mut self.emitted);
                self.flush()
            }
            Key::Client => self.client(n, &line),
        }
    }

    fn client(&mut self, n: usize, line: &ParsedLine<'_>) -> Result<(), RunError> {
        if !raw_is_object(line.value.get()) {
            return Err(bad(n, "a client message must be a JSON object"));
        }
        let map: Map<String, Value> = serde_json::from_str(line.value.get())
            .map_err(|e| bad(n, format!("the client message cannot be read: {e}")))?;
        let map = match (self.completer.complete(map, Echo::Exact), self.inputs) {
            (Ok(map), _) => map,
            (Err(_), Inputs::Lenient) => return Ok(()),
            (Err(e), Inputs::Strict) => return Err(bad(n, e.to_string())),
        };
        let raw: Box<RawValue> =
            RawValue::from_string(print_message(map)).map_err(|e| bad(n, e.to_string()))?;
        // A client message must be a message a trace may hold.
        let reading = read_text(raw.get(), Poster::Client, &mut Interner::new());
        if let Some(problem) = message_problem(Key::Client, &reading) {
            return Err(bad(n, problem));
        }
        writeln!(self.out, "{}", print_line(Key::Client, &raw))?;
        self.session.client(&raw, &mut self.emitted);
        self.flush()
    }

    /// Prints what the widget posted, keeps its open requests, and prints its view.
    fn flush(&mut self) -> Result<(), RunError> {
        for e in self.emitted.drain(..) {
            if let WidgetEmitted::Widget(env) = &e {
                self.completer.counterpart_posted(env);
            }
            writeln!(self.out, "{}", e.to_line())?;
        }
        writeln!(self.out, "{}", self.session.view_line())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: &str) -> Result<String, RunError> {
        let mut out = Vec::new();
        run_widget_script(None, script.as_bytes(), &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn a_widget_script_runs() {
        let trace = run(concat!(
            r#"{"app":{"request":["a"]}}"#,
            "\n",
            r#"{"client":{"api":"toWidget","action":"capabilities","data":{}}}"#,
            "\n",
            r#"{"client":{"action":"supported_api_versions","response":{"supported_versions":["org.matrix.msc2974"]}}}"#,
            "\n",
            r#"{"client":{"api":"toWidget","action":"notify_capabilities","data":{"requested":["a"],"approved":["a"]}}}"#,
            "\n",
            r#"{"app":{"request":["b"]}}"#,
            "\n",
        ))
        .unwrap();
        let lines: Vec<&str> = trace.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"session":{"widgetId":"w1","prompts":"hidden","autoApprove":[],"rateLimit":false,"waitForContentLoaded":false}}"#,
                r#"{"widget":{"api":"fromWidget","widgetId":"w1","requestId":"w0","action":"supported_api_versions","data":{}}}"#,
                r#"{"view":{"approved":[]}}"#,
                r#"{"app":{"request":["a"]}}"#,
                r#"{"view":{"approved":[]}}"#,
                r#"{"client":{"api":"toWidget","widgetId":"w1","requestId":"c0","action":"capabilities","data":{}}}"#,
                r#"{"widget":{"api":"toWidget","widgetId":"w1","requestId":"c0","action":"capabilities","data":{},"response":{"capabilities":["a"]}}}"#,
                r#"{"view":{"approved":[]}}"#,
                r#"{"client":{"api":"fromWidget","widgetId":"w1","requestId":"w0","action":"supported_api_versions","data":{},"response":{"supported_versions":["org.matrix.msc2974"]}}}"#,
                r#"{"view":{"approved":[]}}"#,
                r#"{"client":{"api":"toWidget","widgetId":"w1","requestId":"c1","action":"notify_capabilities","data":{"requested":["a"],"approved":["a"]}}}"#,
                r#"{"widget":{"api":"toWidget","widgetId":"w1","requestId":"c1","action":"notify_capabilities","data":{"requested":["a"],"approved":["a"]},"response":{}}}"#,
                r#"{"view":{"approved":["a"]}}"#,
                r#"{"app":{"request":["b"]}}"#,
                r#"{"widget":{"api":"fromWidget","widgetId":"w1","requestId":"w1","action":"org.matrix.msc2974.request_capabilities","data":{"capabilities":["b"]}}}"#,
                r#"{"view":{"approved":["a"]}}"#,
            ]
        );
    }

    #[test]
    fn a_widget_script_holds_only_its_inputs() {
        for (line, wrong) in [
            (
                r#"{"widget":{}}"#,
                "`widget` lines are the widget's outputs",
            ),
            (
                r#"{"view":{"approved":[]}}"#,
                "`view` lines are the widget's outputs",
            ),
            (
                r#"{"decision":{"approved":[]}}"#,
                "`decision` lines are the client's",
            ),
            (r#"{"client":[]}"#, "a client message must be a JSON object"),
            (
                r#"{"client":{"action":"capabilities","response":{}}}"#,
                "answers nothing",
            ),
        ] {
            let e = run(line).unwrap_err().to_string();
            assert!(e.starts_with("1: ") && e.contains(wrong), "{line}: {e}");
        }
    }
}
