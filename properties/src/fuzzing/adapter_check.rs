//! `adapter`: the reference's side of the adapter protocol ([`Handler::handle`], what `capneg
//! adapter` runs) on any bytes cut into lines as `capneg adapter` cuts its stdin, under every
//! profile.
//!
//! - A command it refuses, or ignores, is said in one line; a refused command writes nothing.
//! - Every output line is a line the trace reader reads ([`parse_line`]): a `client` line with a
//!   well-formed envelope, or a `prompt` line of its shape; and the driver reads it as a
//!   protocol line (the `drive_lines` check).
//! - Each session's trace (its `session` line, the widget and decision commands taken, and the
//!   outputs) conforms under the profile in full, or is bad input only at a widget line whose
//!   message is bad input by itself (the harness may send any JSON as a widget message).
//! - The same lines to the reference widget's side (`capneg adapter --side widget`,
//!   [`WidgetHandler::handle`]): a refused command is one line and writes nothing, and every
//!   output line is a `widget` line with a well-formed envelope or a `view` line.

use super::drive_lines_check::protocol_reason;
use super::one_line;
use crate::protocol::{parse_command, Command, Handled, Handler};
use crate::widget_protocol::WidgetHandler;
use capneg_model::rules::mutants::ClientKind;
use capneg_model::rules::Side;
use capneg_model::validate::{validate, Options, Verdict};
use capneg_reference::{Interner, Profile};
use capneg_wire::read::{read_text, Poster};
use capneg_wire::trace::{
    message_problem, parse_line, print_line, Key, LineReader, ParsedLine, SessionLine,
};

/// Checks every property of one input (module docs).
pub fn check(data: &[u8]) -> Result<(), String> {
    for profile in Profile::ALL {
        session_checks(profile, data)?;
    }
    widget_checks(data)
}

/// The lines as commands to the reference widget's side of the protocol.
fn widget_checks(data: &[u8]) -> Result<(), String> {
    let mut handler = WidgetHandler::new(None);
    let mut reader = LineReader::new(data);
    let mut out = Vec::new();
    while let Some(next) = reader.next_line() {
        let (n, text) = match next {
            Ok(ok) => ok,
            Err(e) => return one_line("a bad stdin line's message", &e.error.to_string()),
        };
        out.clear();
        if let Err(e) = handler.handle(text, &mut out) {
            one_line("a refused widget command's message", &e.0)?;
            if !out.is_empty() {
                return Err(format!("widget: line {n}: a refused command wrote {out:?}"));
            }
            return Ok(());
        }
        for line in &out {
            if let Some(why) = output_problem(line, Poster::Widget, Key::View) {
                return Err(format!("widget: line {n}: the output {line:?} {why}"));
            }
        }
    }
    Ok(())
}

fn session_checks(profile: Profile, data: &[u8]) -> Result<(), String> {
    let mut handler = Handler::new(profile, ClientKind::Reference);
    let mut reader = LineReader::new(data);
    let mut trace: Option<Vec<String>> = None;
    let mut out = Vec::new();
    while let Some(next) = reader.next_line() {
        let (n, text) = match next {
            Ok(ok) => ok,
            Err(e) => {
                one_line("a bad stdin line's message", &e.error.to_string())?;
                break;
            }
        };
        out.clear();
        let handled = handler.handle(text, &mut out);
        let command = parse_command(text);
        let handled = match (handled, command) {
            (Err(e), Err(_)) => {
                one_line("a refused command's message", &e.0)?;
                if !out.is_empty() {
                    return Err(format!(
                        "{profile}: line {n}: a refused command wrote {out:?}"
                    ));
                }
                break;
            }
            (Err(e), Ok(_)) => {
                // A widget or decision command before any start.
                one_line("a refused command's message", &e.0)?;
                if trace.is_some() || !out.is_empty() {
                    return Err(format!(
                        "{profile}: line {n}: a command of a started session refused: {e}"
                    ));
                }
                break;
            }
            (Ok(_), Err(e)) => {
                return Err(format!(
                    "{profile}: line {n}: a command that does not parse ({e}) was taken"
                ))
            }
            (Ok(handled), Ok(command)) => (handled, command),
        };
        for line in &out {
            output_line(profile, n, line)?;
        }
        match handled {
            (Handled::Ignored(note), Command::Decision(_)) => {
                one_line("a note on an ignored command", &note)?;
                if !out.is_empty() {
                    return Err(format!(
                        "{profile}: line {n}: an ignored decision wrote {out:?}"
                    ));
                }
                continue;
            }
            (Handled::Ignored(note), _) => {
                return Err(format!(
                    "{profile}: line {n}: a command other than a decision ignored: {note}"
                ))
            }
            (
                Handled::Done,
                Command::Start {
                    widget_id,
                    settings,
                },
            ) => {
                if let Some(previous) = trace.take() {
                    session_conforms(profile, &previous)?;
                }
                let line = print_line(Key::Session, &SessionLine::recorded(&widget_id, &settings));
                trace = Some(vec![line]);
            }
            (Handled::Done, Command::Widget(raw)) => {
                if let Some(t) = &mut trace {
                    t.push(print_line(Key::Widget, &raw));
                }
            }
            (Handled::Done, Command::Decision(decision)) => {
                if let Some(t) = &mut trace {
                    t.push(print_line(Key::Decision, &decision));
                }
            }
        }
        if let Some(t) = &mut trace {
            t.extend(out.iter().cloned());
        }
    }
    if let Some(last) = trace {
        session_conforms(profile, &last)?;
    }
    Ok(())
}

/// An output line is a `client` line with a well-formed envelope or a `prompt` line, read alike
/// by the trace reader and the driver.
fn output_line(profile: Profile, n: usize, line: &str) -> Result<(), String> {
    let wrong = |why: String| Err(format!("{profile}: line {n}: the output {line:?} {why}"));
    if let Some(why) = output_problem(line, Poster::Client, Key::Prompt) {
        return wrong(why);
    }
    if let Some(reason) = protocol_reason(profile, std::slice::from_ref(&line.to_owned())) {
        return wrong(format!("is not a protocol line to the driver: {reason}"));
    }
    Ok(())
}

/// Why an output line of `poster`'s side is not one the trace reader reads: it must be one line,
/// either a message `poster` posted (a well-formed envelope a trace may hold) or a line of the
/// key `list` (a `prompt`, a `view`) of its shape.
fn output_problem(line: &str, poster: Poster, list: Key) -> Option<String> {
    if line.contains('\n') {
        return Some("holds a line feed".into());
    }
    let parsed: ParsedLine<'_> = match parse_line(line) {
        Ok(p) => p,
        Err(e) => return Some(format!("is not a trace line: {e}")),
    };
    match parsed.key {
        key if key.poster() == Some(poster) => {
            let reading = read_text(parsed.value.get(), poster, &mut Interner::new());
            if let Some(problem) = message_problem(key, &reading) {
                return Some(problem);
            }
            if let capneg_wire::read::Reading::Envelope {
                msg: Err(fault), ..
            } = reading
            {
                return Some(format!("is not a well-formed envelope: {fault}"));
            }
            None
        }
        key if key == list => parsed.caps().err().map(|e| e.to_string()),
        key => Some(format!("is a `{}` line", key.as_str())),
    }
}

/// A session's trace conforms, or is bad input only at a widget line that is bad input by
/// itself.
fn session_conforms(profile: Profile, trace: &[String]) -> Result<(), String> {
    let text = trace.join("\n") + "\n";
    let options = Options {
        profile,
        partial: false,
        side: Side::Client,
    };
    let verdict = validate(options, text.as_bytes()).map_err(|e| format!("{profile}: {e}"))?;
    let excused = match &verdict {
        Verdict::Conforms { .. } => true,
        Verdict::BadInput {
            line: Some(line), ..
        } => trace
            .get(line.get() as usize - 1)
            .and_then(|l| parse_line(l).ok())
            .is_some_and(|l| {
                l.key == Key::Widget
                    && message_problem(
                        Key::Widget,
                        &read_text(l.value.get(), Poster::Widget, &mut Interner::new()),
                    )
                    .is_some()
            }),
        _ => false,
    };
    if excused {
        Ok(())
    } else {
        Err(format!(
            "{profile}: the reference's session does not conform to its own profile: \
             {verdict:?}\n{text}"
        ))
    }
}
