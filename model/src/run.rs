//! Running the reference client on a script (docs/spec.md §6; `capneg run`).
//!
//! A script holds the inputs of a session: an optional `session` line, then `widget` and
//! `decision` lines. The runner fills in what a script may leave out (request ids; for a
//! response, the echo of the request it answers), feeds each input to a [`ClientSession`] and
//! prints the whole trace: the inputs as completed, and after each one the messages and prompts
//! it caused. Anything a script cannot mean is an error naming its line.

use crate::rules::mutants::ClientKind;
use crate::script_input::{
    bad, not_in_script, read_first_line, script_line, FirstLine, Refused, Runner,
};
pub use crate::script_input::{Inputs, RunError, DEFAULT_WIDGET_ID};
use crate::session::ClientSession;
use capneg_reference::profile::Profile;
use capneg_wire::trace::{print_line, Key, LineReader, SessionLine};
use std::io::{BufRead, Write};

/// The lines a client's script does not hold.
const REFUSED: Refused = Refused {
    widgets: "the widget's (docs/spec.md §9.1)",
    clients: "the client's outputs",
    holds: "a script holds only session, widget and decision lines",
};

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
    let FirstLine {
        widget_id,
        settings,
        pending,
    } = read_first_line(&mut lines, Key::Widget)?;
    let mut emitted = Vec::new();
    let session = ClientSession::start(kind, profile, &widget_id, &settings, &mut emitted);
    let mut runner = Runner::new(out, session, inputs, &widget_id, emitted);
    writeln!(
        runner.out,
        "{}",
        print_line(Key::Session, &SessionLine::recorded(&widget_id, &settings))
    )?;
    runner.run(&mut lines, pending, Runner::line)
}

/// Running a client's script.
impl<W: Write> Runner<W, ClientSession> {
    /// Line `n` of the script.
    fn line(&mut self, n: usize, text: &str) -> Result<(), RunError> {
        let line = script_line(n, text)?;
        match line.key {
            Key::Widget => self.message(n, &line),
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
                    .decision(
                        decision.approved.iter().map(String::as_str),
                        &mut self.emitted,
                    )
                    .map_err(|e| bad(n, e.to_string()))?;
                self.flush()
            }
            key => Err(not_in_script(n, key, &REFUSED)),
        }
    }
}
