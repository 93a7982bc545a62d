//! Running the reference widget on a script (docs/spec.md §9; `capneg run --side widget`).
//!
//! A widget's script holds the inputs of a widget: an optional `session` line, then `client`
//! lines (what the client posted) and `app` lines (what the application asked for, MSC2974).
//! The runner fills in what a client message may leave out (request ids; for a response, the
//! echo of the widget's request it answers), feeds each input to a [`WidgetSession`] and prints
//! the widget's trace: the inputs as completed, and after each one the messages the widget
//! posted and its view. Anything a script cannot mean is an error naming its line.

use crate::rules::widget_mutants::WidgetMutant;
use crate::script_input::{
    bad, not_in_script, read_first_line, script_line, FirstLine, Inputs, Refused, RunError, Runner,
};
use crate::widget_session::WidgetSession;
use capneg_wire::trace::{print_line, AppLine, Key, LineReader, Prompts, SessionLine};
use std::io::{BufRead, Write};

/// The lines a widget's script does not hold.
const REFUSED: Refused = Refused {
    widgets: "the widget's outputs",
    clients: "the client's and its user's",
    holds: "a widget's script holds only session, client and app lines",
};

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

/// The widget id the runner gives the widget's script read from `input`: its `session` line's,
/// its first client message's, or [`crate::run::DEFAULT_WIDGET_ID`] (`capneg drive --side
/// widget --replay` starts the widget under it too).
pub fn widget_id_of<R: BufRead>(input: R) -> Result<String, RunError> {
    Ok(read_first_line(&mut LineReader::new(input), Key::Client)?.widget_id)
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
    let FirstLine {
        widget_id, pending, ..
    } = read_first_line(&mut lines, Key::Client)?;
    let session_line = SessionLine {
        widget_id: Some(widget_id.clone()),
        prompts: Some(Prompts::Hidden),
        ..SessionLine::default()
    };
    writeln!(out, "{}", print_line(Key::Session, &session_line))?;
    let mut emitted = Vec::new();
    let session = WidgetSession::start(mutant, &widget_id, &[], &mut emitted);
    let runner = Runner::new(out, session, inputs, &widget_id, emitted);
    runner.run(&mut lines, pending, Runner::line)
}

/// Running a widget's script.
impl<W: Write> Runner<W, WidgetSession> {
    /// Line `n` of the script.
    fn line(&mut self, n: usize, text: &str) -> Result<(), RunError> {
        let line = script_line(n, text)?;
        match line.key {
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
            Key::Client => self.message(n, &line),
            key => Err(not_in_script(n, key, &REFUSED)),
        }
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
