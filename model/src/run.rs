//! Running the reference client on a script (docs/spec.md §6; `capneg run`).
//!
//! A script holds the inputs of a session: an optional `session` line, then `widget` and
//! `decision` lines. The runner fills in what a script may leave out (request ids; for a
//! response, the echo of the request it answers), feeds each input to a [`ClientSession`] and
//! prints the whole trace: the inputs as completed, and after each one the messages and prompts
//! it caused. Anything a script cannot mean is an error naming its line.

use crate::rules::mutants::ClientKind;
use crate::session::{ClientSession, Emitted};
use capneg_reference::profile::Profile;
use capneg_reference::Interner;
use capneg_reference::Settings;
use capneg_wire::envelope::raw_is_object;
use capneg_wire::read::{read_text, Poster};
use capneg_wire::script::{print_message, Completer, Echo};
use capneg_wire::trace::{
    message_problem, parse_line, print_line, Key, LineReader, ParsedLine, SessionLine,
};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt;
use std::io::{self, BufRead, Write};

/// The widget id of a script that names none, in its session line or its first widget line.
pub const DEFAULT_WIDGET_ID: &str = "w1";

/// Why a script could not be run.
#[derive(Debug)]
pub enum RunError {
    /// The script is wrong at this line.
    Script {
        /// The 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Reading the script or writing the trace failed.
    Io(io::Error),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Script { line, message } => write!(f, "{line}: {message}"),
            RunError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<io::Error> for RunError {
    fn from(e: io::Error) -> Self {
        RunError::Io(e)
    }
}

fn bad(line: usize, message: impl Into<String>) -> RunError {
    let message = message.into();
    RunError::Script {
        line,
        message: capneg_wire::lines::one_line(&message).into_owned(),
    }
}

/// What a run does with an input the client cannot take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inputs {
    /// A decision with no open prompt, or a response that answers nothing, is a bad script
    /// (`capneg run`).
    Strict,
    /// Such an input is left out of the trace (running another client on a script written for
    /// the reference: a deliberately wrong client may not prompt, or not ask, where the reference
    /// does).
    Lenient,
}

/// The state of a script run.
struct Runner<W> {
    out: W,
    session: ClientSession,
    inputs: Inputs,
    completer: Completer,
    emitted: Vec<Emitted>,
}

/// Runs `profile`'s reference client on the script read from `input`, writing the trace to
/// `out`. Errors name the script's line; a read error of the input is an I/O error.
pub fn run_script<R: BufRead, W: Write>(
    profile: Profile,
    input: R,
    out: W,
) -> Result<(), RunError> {
    run_script_with(ClientKind::Reference, profile, Inputs::Strict, input, out)
}

/// Runs a client of `kind` on a script, as [`run_script`] runs the reference: requests and
/// response echoes filled in the same way, the same trace printed.
pub fn run_script_with<R: BufRead, W: Write>(
    kind: ClientKind,
    profile: Profile,
    inputs: Inputs,
    input: R,
    out: W,
) -> Result<(), RunError> {
    let mut lines = LineReader::new(input);
    let first = match lines.next_line() {
        None => None,
        Some(Err(e)) => return Err(read_error(e)),
        Some(Ok((n, text))) => Some((n, text.to_owned())),
    };
    let (widget_id, settings, pending) = match &first {
        None => (DEFAULT_WIDGET_ID.to_owned(), Settings::default(), None),
        Some((n, text)) => {
            let line = parse_line(text).map_err(|e| bad(*n, e.to_string()))?;
            if line.key == Key::Session {
                let s = line.session().map_err(|e| bad(*n, e.to_string()))?;
                let widget_id = s.widget_id.unwrap_or_else(|| DEFAULT_WIDGET_ID.to_owned());
                (widget_id, s.settings, None)
            } else {
                let widget = if line.key == Key::Widget {
                    widget_id_of(line.value)
                } else {
                    None
                };
                let widget_id = widget.unwrap_or_else(|| DEFAULT_WIDGET_ID.to_owned());
                (widget_id, Settings::default(), Some(*n))
            }
        }
    };
    let mut emitted = Vec::new();
    let session = ClientSession::start(kind, profile, &widget_id, &settings, &mut emitted);
    let mut runner = Runner {
        out,
        session,
        inputs,
        completer: Completer::new(&widget_id),
        emitted,
    };
    writeln!(
        runner.out,
        "{}",
        print_line(Key::Session, &SessionLine::recorded(&widget_id, &settings))
    )?;
    runner.flush()?;
    if let (Some(n), Some((_, text))) = (pending, &first) {
        runner.line(n, text)?;
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

impl<W: Write> Runner<W> {
    fn line(&mut self, n: usize, text: &str) -> Result<(), RunError> {
        let line = parse_line(text).map_err(|e| bad(n, e.to_string()))?;
        match line.key {
            Key::Session => Err(bad(n, "a `session` line may only be the first line")),
            Key::View | Key::App => Err(bad(
                n,
                format!(
                    "`{}` lines are the widget's (docs/spec.md §9.1): a script holds only session, widget and decision lines",
                    line.key.as_str()
                ),
            )),
            Key::Client | Key::Prompt => Err(bad(
                n,
                format!(
                    "`{}` lines are the client's outputs: a script holds only session, widget and decision lines",
                    line.key.as_str()
                ),
            )),
            Key::Widget => self.widget(n, &line),
            Key::Decision => {
                let decision = line.decision().map_err(|e| bad(n, e.to_string()))?;
                if !self.session.prompt_open() {
                    return match self.inputs {
                        Inputs::Strict => Err(bad(n, "a decision with no open prompt")),
                        Inputs::Lenient => Ok(()),
                    };
                }
                writeln!(self.out, "{}", print_line(Key::Decision, &decision))?;
                self.session
                    .decision(decision.approved.iter().map(String::as_str), &mut self.emitted)
                    .map_err(|e| bad(n, e.to_string()))?;
                self.flush()
            }
        }
    }

    fn widget(&mut self, n: usize, line: &ParsedLine<'_>) -> Result<(), RunError> {
        if !raw_is_object(line.value.get()) {
            return Err(bad(n, "a widget message must be a JSON object"));
        }
        let map: Map<String, Value> = serde_json::from_str(line.value.get())
            .map_err(|e| bad(n, format!("the widget message cannot be read: {e}")))?;
        let map = match (self.completer.complete(map, Echo::Exact), self.inputs) {
            (Ok(map), _) => map,
            (Err(_), Inputs::Lenient) => return Ok(()),
            (Err(e), Inputs::Strict) => return Err(bad(n, e.to_string())),
        };
        let raw: Box<RawValue> =
            RawValue::from_string(print_message(map)).map_err(|e| bad(n, e.to_string()))?;
        // Completed, it must be a message a trace may hold: what validation would refuse of
        // the printed trace is bad input here too.
        let reading = read_text(raw.get(), Poster::Widget, &mut Interner::new());
        if let Some(problem) = message_problem(Key::Widget, &reading) {
            return Err(bad(n, problem));
        }
        writeln!(self.out, "{}", print_line(Key::Widget, &raw))?;
        self.session.widget(&raw, &mut self.emitted);
        self.flush()
    }

    /// Prints what the client emitted and keeps its open requests.
    fn flush(&mut self) -> Result<(), RunError> {
        for e in self.emitted.drain(..) {
            if let Emitted::Client(env) = &e {
                self.completer.counterpart_posted(env);
            }
            writeln!(self.out, "{}", e.to_line())?;
        }
        Ok(())
    }
}
