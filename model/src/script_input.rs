//! What the two script runners share ([`crate::run`] for a client, [`crate::widget_run`] for a
//! widget): reading a script's lines, its first line (a `session` line, or the first input),
//! and the [`Runner`] that completes the messages it holds of the party on the other side,
//! feeds them to the session and prints what the session emitted.

use capneg_reference::{Interner, Settings};
use capneg_wire::envelope::raw_is_object;
use capneg_wire::envelope::Envelope;
use capneg_wire::read::{read_text, Poster};
use capneg_wire::script::{print_message, Completer, Echo};
use capneg_wire::trace::{
    message_problem, parse_line, print_line, Key, LineIoError, LineReader, ParsedLine,
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

/// The script is wrong at `line`; the message is made one line.
pub(crate) fn bad(line: usize, message: impl Into<String>) -> RunError {
    let message = message.into();
    RunError::Script {
        line,
        message: capneg_wire::lines::one_line(&message).into_owned(),
    }
}

/// A line that could not be read: bad input naming its line, or an I/O error.
pub(crate) fn read_error(e: LineIoError) -> RunError {
    if e.is_bad_input() {
        bad(e.line, e.error.to_string())
    } else {
        RunError::Io(e.error)
    }
}

/// What a script's first line says of its session.
pub(crate) struct FirstLine {
    /// The widget id: the `session` line's, the first message's, or [`DEFAULT_WIDGET_ID`].
    pub widget_id: String,
    /// The `session` line's settings (the default without one).
    pub settings: Settings<Vec<String>>,
    /// The first line when it is an input rather than a `session` line: its number and text,
    /// to run once the session has started.
    pub pending: Option<(usize, String)>,
}

/// Reads the first line of a script whose messages are `posted` lines (`widget` in a client's
/// script, `client` in a widget's): a first message names the widget id if it holds one.
pub(crate) fn read_first_line<R: BufRead>(
    lines: &mut LineReader<R>,
    posted: Key,
) -> Result<FirstLine, RunError> {
    let (n, text) = match lines.next_line() {
        None => {
            return Ok(FirstLine {
                widget_id: DEFAULT_WIDGET_ID.to_owned(),
                settings: Settings::default(),
                pending: None,
            })
        }
        Some(Err(e)) => return Err(read_error(e)),
        Some(Ok(first)) => first,
    };
    let line = parse_line(text).map_err(|e| bad(n, e.to_string()))?;
    if line.key == Key::Session {
        let s = line.session().map_err(|e| bad(n, e.to_string()))?;
        return Ok(FirstLine {
            widget_id: s.widget_id.unwrap_or_else(|| DEFAULT_WIDGET_ID.to_owned()),
            settings: s.settings,
            pending: None,
        });
    }
    let named = if line.key == posted {
        widget_id_of(line.value)
    } else {
        None
    };
    Ok(FirstLine {
        widget_id: named.unwrap_or_else(|| DEFAULT_WIDGET_ID.to_owned()),
        settings: Settings::default(),
        pending: Some((n, text.to_owned())),
    })
}

fn widget_id_of(value: &RawValue) -> Option<String> {
    let map: Map<String, Value> = serde_json::from_str(value.get()).ok()?;
    map.get("widgetId")?.as_str().map(str::to_owned)
}

/// Line `n` of a script, read: a `session` line is bad after the first line.
pub(crate) fn script_line(n: usize, text: &str) -> Result<ParsedLine<'_>, RunError> {
    let line = parse_line(text).map_err(|e| bad(n, e.to_string()))?;
    if line.key == Key::Session {
        return Err(bad(n, "a `session` line may only be the first line"));
    }
    Ok(line)
}

/// What a script says of the lines it does not hold.
pub(crate) struct Refused {
    /// Whose the widget's lines (`widget`, `view`, `app`) it does not hold are.
    pub widgets: &'static str,
    /// Whose the client's lines (`client`, `prompt`, `decision`) it does not hold are.
    pub clients: &'static str,
    /// What the script holds.
    pub holds: &'static str,
}

/// A line of `key` at line `n`, which a script does not hold.
pub(crate) fn not_in_script(n: usize, key: Key, refused: &Refused) -> RunError {
    let whose = match key {
        Key::Widget | Key::View | Key::App => refused.widgets,
        _ => refused.clients,
    };
    bad(
        n,
        format!("`{}` lines are {whose}: {}", key.as_str(), refused.holds),
    )
}

/// Runs the pending first line, if any, then every further line of the script, each with `line`.
fn run_lines<R: BufRead>(
    lines: &mut LineReader<R>,
    pending: Option<(usize, String)>,
    mut line: impl FnMut(usize, &str) -> Result<(), RunError>,
) -> Result<(), RunError> {
    if let Some((n, text)) = pending {
        line(n, &text)?;
    }
    while let Some(next) = lines.next_line() {
        let (n, text) = next.map_err(read_error)?;
        line(n, text)?;
    }
    Ok(())
}

/// A session a script runs: a client ([`crate::session::ClientSession`]) or a widget
/// ([`crate::widget_session::WidgetSession`]).
pub(crate) trait ScriptSession {
    /// What the session emits.
    type Emitted;
    /// Who posts the messages of the script (the other side).
    const SCRIPT_POSTER: Poster;
    /// Takes a message of the script, as completed.
    fn take(&mut self, message: &RawValue, emitted: &mut Vec<Self::Emitted>);
    /// The message the session's party posted, if `emitted` is one: a request of it stays open
    /// for the script's responses.
    fn posted(emitted: &Self::Emitted) -> Option<&Envelope>;
    /// The trace line of what the session emitted.
    fn line(emitted: &Self::Emitted) -> String;
    /// A line printed after the outputs of each input, if any (the widget's view).
    fn after_outputs(&self) -> Option<String>;
}

/// The state of a script run.
pub(crate) struct Runner<W, S: ScriptSession> {
    pub out: W,
    pub session: S,
    pub inputs: Inputs,
    pub completer: Completer,
    pub emitted: Vec<S::Emitted>,
}

impl<W: Write, S: ScriptSession> Runner<W, S> {
    /// A runner of `session`, started: what it emitted so far is in `emitted`.
    pub(crate) fn new(
        out: W,
        session: S,
        inputs: Inputs,
        widget_id: &str,
        emitted: Vec<S::Emitted>,
    ) -> Self {
        Runner {
            out,
            session,
            inputs,
            completer: Completer::for_poster(S::SCRIPT_POSTER, widget_id),
            emitted,
        }
    }

    /// Runs a script: prints what the session emitted on starting, then runs its pending first
    /// line, if any, and every further line with `line`.
    pub(crate) fn run<R: BufRead>(
        mut self,
        lines: &mut LineReader<R>,
        pending: Option<(usize, String)>,
        line: fn(&mut Self, usize, &str) -> Result<(), RunError>,
    ) -> Result<(), RunError> {
        self.flush()?;
        run_lines(lines, pending, |n, text| line(&mut self, n, text))?;
        self.out.flush()?;
        Ok(())
    }

    /// A message line of the script (line `n`): completed, printed and taken by the session.
    pub(crate) fn message(&mut self, n: usize, line: &ParsedLine<'_>) -> Result<(), RunError> {
        let poster = S::SCRIPT_POSTER;
        let Some(raw) = completed_message(&mut self.completer, self.inputs, n, line, poster)?
        else {
            return Ok(());
        };
        writeln!(self.out, "{}", print_line(line.key, &raw))?;
        self.session.take(&raw, &mut self.emitted);
        self.flush()
    }

    /// Prints what the session emitted, keeps its party's open requests, and prints what
    /// follows the outputs.
    pub(crate) fn flush(&mut self) -> Result<(), RunError> {
        for e in self.emitted.drain(..) {
            if let Some(env) = S::posted(&e) {
                self.completer.counterpart_posted(env);
            }
            writeln!(self.out, "{}", S::line(&e))?;
        }
        if let Some(line) = self.session.after_outputs() {
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }
}

/// The message of line `n`, posted by `poster` and written under `key`, completed by
/// `completer`: `None` when it answers nothing open and `inputs` leave it out. Completed, it
/// must be a message a trace may hold: what validation would refuse of the printed trace is bad
/// input here too.
pub(crate) fn completed_message(
    completer: &mut Completer,
    inputs: Inputs,
    n: usize,
    line: &ParsedLine<'_>,
    poster: Poster,
) -> Result<Option<Box<RawValue>>, RunError> {
    let key = line.key;
    let who = key.as_str();
    if !raw_is_object(line.value.get()) {
        return Err(bad(n, format!("a {who} message must be a JSON object")));
    }
    let map: Map<String, Value> = serde_json::from_str(line.value.get())
        .map_err(|e| bad(n, format!("the {who} message cannot be read: {e}")))?;
    let map = match (completer.complete(map, Echo::Exact), inputs) {
        (Ok(map), _) => map,
        (Err(_), Inputs::Lenient) => return Ok(None),
        (Err(e), Inputs::Strict) => return Err(bad(n, e.to_string())),
    };
    let raw: Box<RawValue> =
        RawValue::from_string(print_message(map)).map_err(|e| bad(n, e.to_string()))?;
    let reading = read_text(raw.get(), poster, &mut Interner::new());
    if let Some(problem) = message_problem(key, &reading) {
        return Err(bad(n, problem));
    }
    Ok(Some(raw))
}
