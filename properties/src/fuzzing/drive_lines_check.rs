//! `drive_lines`: the driver's reading of an adapter's output (docs/spec.md §8.2), on any bytes
//! as the adapter's stdout.
//!
//! The driver reads an adapter's stdout in two steps: the stdout reader of
//! [`crate::process`] cuts it into lines and hands over the lines before each `idle` (a line
//! meant as `idle` but malformed ends the command too, and is handed over as an output); then
//! the adapter's side of the session ([`crate::runner::Side`]) reads each output as a `client`
//! or `prompt` line, and the lockstep ([`crate::drive::Lockstep`]) names the first one that is
//! neither, precisely. Checked:
//!
//! - The stream is cut as its lines, one at a time, are: each line is `idle`, malformed `idle`
//!   or another line whether it comes alone or among others; the output ends with the input,
//!   with a reason (one line) exactly where a line cannot be read.
//! - `idle` is exactly a JSON object with the one key `idle` whose value is `{}`; malformed
//!   `idle` is any other JSON object with a key `idle` (escapes read).
//! - Each output line on its own, and the outputs of each command together: the driver finds a
//!   line that is not a protocol line exactly where the trace reader does not read a `client`
//!   line holding a JSON object (that does not repeat an envelope field) or a `prompt` line of
//!   its shape, and says why in one line of bounded length.

use super::one_line;
use crate::drive::{Finding, Lockstep};
use crate::process::{read_stdout, Adapter, Batch, Failure};
use crate::session::{Session, Start};
use crate::universe::Caps;
use capneg_reference::{Interner, Profile};
use capneg_wire::read::{read_text, Poster};
use capneg_wire::trace::{message_problem, parse_line, Key, LineReader};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::sync::mpsc;

/// The longest reason the driver gives for a line, in characters (`drive::lines`).
const MAX_REASON: usize = 300 + 3;

/// The most lines judged one at a time per input (each runs a session).
const LINES_JUDGED: usize = 64;

/// How the stdout reader stands a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    Idle,
    Malformed,
    Other,
}

/// What the stdout reader hands over, comparable.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Handed {
    Idle(Vec<String>),
    End(Vec<String>, bool),
}

/// The batches the driver's stdout reader hands over for `data` as an adapter's stdout.
fn handed(data: &[u8]) -> Result<Vec<Handed>, String> {
    let (tx, rx) = mpsc::channel();
    read_stdout(data, tx);
    let mut out = Vec::new();
    for batch in rx.try_iter() {
        out.push(match batch {
            Batch::Idle(lines) => Handed::Idle(lines),
            Batch::End(lines, detail) => {
                if let Some(d) = &detail {
                    one_line("the reason a stdout line cannot be read", d)?;
                }
                Handed::End(lines, detail.is_some())
            }
        });
    }
    Ok(out)
}

/// How the stdout reader stands `text`, a line, on its own.
fn cut_alone(text: &str) -> Result<Cut, String> {
    // After a blank line: a byte order mark is refused only at the very start of the output.
    // Ended by a carriage return and a line feed, as the reader drops one carriage return at
    // the end of a line: a line read from `...\r\r\n` is `...\r`, and stays so.
    let batches = handed(format!("\n{text}\r\n").as_bytes())?;
    match batches.as_slice() {
        [Handed::Idle(none), Handed::End(rest, false)] if none.is_empty() && rest.is_empty() => {
            Ok(Cut::Idle)
        }
        [Handed::Idle(one), Handed::End(rest, false)] if one == &[text] && rest.is_empty() => {
            Ok(Cut::Malformed)
        }
        [Handed::End(one, false)] if one == &[text] => Ok(Cut::Other),
        other => Err(format!(
            "the line {text:?} alone is handed over as {other:?}"
        )),
    }
}

/// Checks every property of one input (module docs).
pub fn check(data: &[u8]) -> Result<(), String> {
    let got = handed(data)?;
    // The same stream, cut line by line.
    let mut want = Vec::new();
    let mut lines = Vec::new();
    let mut judged = 0;
    let mut reader = LineReader::new(data);
    let end = loop {
        match reader.next_line() {
            None => break Handed::End(std::mem::take(&mut lines), false),
            Some(Err(_)) => break Handed::End(std::mem::take(&mut lines), true),
            Some(Ok((_, text))) => {
                let cut = cut_alone(text)?;
                let meant = meant_as_idle(text);
                if cut != meant {
                    return Err(format!(
                        "the line {text:?} is taken as {cut:?}, but it is {meant:?}"
                    ));
                }
                if cut != Cut::Idle {
                    lines.push(text.to_owned());
                    if judged < LINES_JUDGED {
                        judged += 1;
                        judge_outputs(std::slice::from_ref(&text.to_owned()))?;
                    }
                }
                if cut != Cut::Other {
                    want.push(Handed::Idle(std::mem::take(&mut lines)));
                }
            }
        }
    };
    want.push(end);
    if got != want {
        return Err(format!(
            "the output is handed over as {got:?}, its lines one by one give {want:?}"
        ));
    }
    for batch in got.iter().take(LINES_JUDGED) {
        let (Handed::Idle(lines) | Handed::End(lines, _)) = batch;
        if lines.len() > 1 {
            judge_outputs(lines)?;
        }
    }
    Ok(())
}

/// What a line is, read as JSON (docs/spec.md §8.2): `idle` exactly, an object with a key
/// `idle` (malformed), or anything else.
fn meant_as_idle(text: &str) -> Cut {
    let mut de = serde_json::Deserializer::from_str(text);
    let Ok(keys) = (&mut de).deserialize_any(TopKeys) else {
        return Cut::Other;
    };
    if de.end().is_err() {
        return Cut::Other;
    }
    let idle: Vec<&(String, Option<bool>)> = keys.iter().filter(|(k, _)| k == "idle").collect();
    match (keys.len(), idle.as_slice()) {
        (_, []) => Cut::Other,
        (1, [(_, Some(true))]) => Cut::Idle,
        _ => Cut::Malformed,
    }
}

/// The keys of a JSON object at the top, each with whether its value is `{}` (for `idle`
/// only); empty for any other JSON value.
struct TopKeys;

impl<'de> Visitor<'de> for TopKeys {
    type Value = Vec<(String, Option<bool>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "idle" {
                let value: &RawValue = map.next_value()?;
                let empty: Result<serde_json::Map<String, serde_json::Value>, _> =
                    serde_json::from_str(value.get());
                keys.push((key, Some(empty.is_ok_and(|m| m.is_empty()))));
            } else {
                map.next_value::<IgnoredAny>()?;
                keys.push((key, None));
            }
        }
        Ok(keys)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Vec::new())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

/// Whether the trace reader reads `text` as a protocol line of an adapter: a `client` line
/// holding a JSON object that repeats no envelope field, or a `prompt` line of its shape.
fn is_protocol_line(text: &str) -> bool {
    let Ok(line) = parse_line(text) else {
        return false;
    };
    match line.key {
        Key::Client => {
            let reading = read_text(line.value.get(), Poster::Client, &mut Interner::new());
            message_problem(Key::Client, &reading).is_none()
        }
        Key::Prompt => line.prompt().is_ok(),
        _ => false,
    }
}

/// An adapter that answers its first command with given lines, and every later one with none.
struct Fixed(Option<Vec<String>>);

impl Adapter for Fixed {
    fn command(&mut self, _line: &str, out: &mut Vec<String>) -> Result<(), Failure> {
        out.extend(self.0.take().unwrap_or_default());
        Ok(())
    }
}

/// The driver's reason why one of `lines`, an adapter's outputs for `start` under `profile`, is
/// not a protocol line, with the line's index; `None` if every one is.
fn protocol_finding(profile: Profile, lines: &[String]) -> Option<(usize, String)> {
    let session = Session {
        start: Start::new(Caps::NONE, false),
        steps: Vec::new(),
    };
    let mut lockstep = Lockstep::new(profile);
    let divergence = lockstep
        .run(&session, &mut Fixed(Some(lines.to_vec())))
        .err()?;
    match divergence.finding {
        // The trace's line 1 is the session line: the outputs of `start` follow it.
        Finding::Protocol { line, message } => Some((line.get() as usize - 2, message)),
        _ => None,
    }
}

/// The driver's reason why one of `lines` is not a protocol line (for the other checks).
pub(super) fn protocol_reason(profile: Profile, lines: &[String]) -> Option<String> {
    protocol_finding(profile, lines).map(|(_, reason)| reason)
}

/// The driver names the first output that is not a protocol line, and only such a line, in one
/// bounded line, under every profile.
fn judge_outputs(lines: &[String]) -> Result<(), String> {
    let first_bad = lines.iter().position(|l| !is_protocol_line(l));
    for profile in Profile::ALL {
        let found = protocol_finding(profile, lines);
        match (&found, first_bad) {
            (None, None) => {}
            (Some((at, reason)), Some(bad)) if *at == bad => {
                one_line("the driver's reason", reason)?;
                if reason.chars().count() > MAX_REASON {
                    return Err(format!(
                        "{profile}: the reason for {:?} is {} characters long",
                        lines[bad],
                        reason.chars().count()
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "{profile}: in the outputs {lines:?}, the driver finds {found:?}, the trace \
                     reader refuses {:?}",
                    first_bad.map(|i| &lines[i])
                ))
            }
        }
    }
    Ok(())
}
