//! `validate`: `capneg validate` ([`capneg_model::validate::validate`]) on any bytes, under every
//! profile on the client side, and under one profile also on the widget side or both (`--side`,
//! in turn from input to input).
//!
//! - The same bytes read in pieces of random sizes (with interrupted reads) give the same
//!   verdict as read from a slice; for one input in 32, also with the first line padded with
//!   leading spaces so that the pipeline's first block ends inside the trace, and the next
//!   blocks are cut from pieces (the verdict must not change: JSON allows whitespace before a
//!   value).
//! - A verdict other than bad input only for input every line of which the plain reader
//!   ([`LineReader`] and [`parse_line`]) reads. Where the plain reader refuses line `n`, the
//!   verdict is bad input at line `n` at the latest, with the plain reader's message if at `n`.
//! - Messages and reasons are one line; lines named are lines of the input (one past the last
//!   for an obligation left open at the end).
//! - `--partial` changes only the end-of-trace obligations: the same bad input, the same
//!   violation before the end, and a violation at the end becomes conformance.

use super::{one_line, physical_lines, seed_of, Pieces};
use capneg_model::rules::Side;
use capneg_model::validate::{validate, Options, Verdict};
use capneg_reference::Profile;
use capneg_wire::trace::{parse_line, LineReader};
use std::io::Read;

/// The size of the pipeline's blocks (`capneg_wire::pipeline`): padding the first line to about
/// this puts a block's end inside the trace.
const BLOCK: usize = 1 << 19;

/// What the plain reader makes of the input.
#[derive(Debug)]
struct Plain {
    /// The first line it refuses, and why.
    first_bad: Option<(usize, String)>,
    /// The last non-blank line it read.
    last: Option<usize>,
}

fn plain(data: &[u8]) -> Plain {
    let mut reader = LineReader::new(data);
    let mut last = None;
    while let Some(next) = reader.next_line() {
        match next {
            Err(e) => {
                return Plain {
                    first_bad: Some((e.line, e.error.to_string())),
                    last,
                }
            }
            Ok((n, text)) => {
                last = Some(n);
                if let Err(e) = parse_line(text) {
                    return Plain {
                        first_bad: Some((n, e.to_string())),
                        last,
                    };
                }
            }
        }
    }
    Plain {
        first_bad: None,
        last,
    }
}

fn judge(options: Options, input: impl Read + Send) -> Result<Verdict, String> {
    validate(options, input).map_err(|e| {
        format!(
            "{} ({:?}): an I/O error reading input in memory: {e}",
            options.profile, options.side
        )
    })
}

/// Checks every property of one input (module docs).
pub fn check(data: &[u8]) -> Result<(), String> {
    let plain = plain(data);
    let lines = physical_lines(data);
    let seed = seed_of(data);
    for (i, profile) in Profile::ALL.into_iter().enumerate() {
        // The client side under every profile; the widget side, or both, under one.
        let mut sides = vec![Side::Client];
        if seed % 3 == i as u64 {
            sides.push(if seed & 8 == 0 {
                Side::Widget
            } else {
                Side::Both
            });
        }
        for side in sides {
            let full = Options {
                profile,
                partial: false,
                side,
            };
            let who = format!("{profile} ({side:?} side)");
            let who = who.as_str();
            let whole = judge(full, data)?;
            // Pieces matter to the pipeline only past its first block (it reads a block
            // whole): read in pieces under one profile and side, in turn from input to input.
            if seed % 3 == i as u64 && side == Side::Client {
                let pieces = judge(full, Pieces::new(data, seed))?;
                if pieces != whole {
                    return Err(format!(
                        "{who}: read in pieces the verdict is {pieces:?}, read whole {whole:?}"
                    ));
                }
                if seed % 32 == 0 {
                    padded(full, data, seed, &whole)?;
                }
            }
            verdict(who, &whole, &plain, lines)?;
            let partial = judge(
                Options {
                    partial: true,
                    ..full
                },
                data,
            )?;
            partial_agrees(who, &whole, &partial, &plain)?;
        }
    }
    Ok(())
}

/// The verdict on the input with its first line padded by leading spaces, the first block of
/// the pipeline ending inside the trace, is the verdict on the input.
fn padded(options: Options, data: &[u8], seed: u64, whole: &Verdict) -> Result<(), String> {
    // Leading spaces change the first line where it starts with a byte order mark (refused only
    // at the very start) or is too long to pad.
    if data.is_empty() || data.starts_with(b"\xef\xbb\xbf") || data.len() > BLOCK / 2 {
        return Ok(());
    }
    let inside = 1 + (seed >> 8) as usize % data.len();
    let mut input = vec![b' '; BLOCK - inside];
    input.extend_from_slice(data);
    let got = judge(options, Pieces::new(&input, seed.rotate_left(17)))?;
    if got != *whole {
        return Err(format!(
            "{} ({:?} side): with {} spaces before the first line the verdict is {got:?}, \
             without {whole:?}",
            options.profile,
            options.side,
            BLOCK - inside
        ));
    }
    Ok(())
}

/// The verdict is given only on input the plain reader reads, and says where, in one line.
fn verdict(who: &str, v: &Verdict, plain: &Plain, lines: usize) -> Result<(), String> {
    match v {
        Verdict::Conforms { .. } | Verdict::Violates { .. } => {
            if let Some((n, message)) = &plain.first_bad {
                return Err(format!(
                    "{who}: verdict {v:?} on input whose line {n} the plain reader refuses: \
                     {message}"
                ));
            }
        }
        Verdict::BadInput { line, message } => {
            one_line("the bad-input message", message)?;
            match (line, &plain.first_bad) {
                (None, _) if plain.last.is_some() || plain.first_bad.is_some() => {
                    return Err(format!(
                        "{who}: bad input without a line on input that has lines: {message}"
                    ))
                }
                (None, _) => {}
                (Some(m), first_bad) => {
                    let m = m.get() as usize;
                    if m == 0 || m > lines {
                        return Err(format!(
                            "{who}: bad input at line {m} of {lines}: {message}"
                        ));
                    }
                    if let Some((n, plain_message)) = first_bad {
                        if m > *n {
                            return Err(format!(
                                "{who}: bad input at line {m} ({message}), but the plain \
                                 reader refuses line {n} already: {plain_message}"
                            ));
                        }
                        if m == *n && message != plain_message {
                            return Err(format!(
                                "{who}: line {m} is bad input for both readers, with \
                                 different messages: {message:?} and {plain_message:?}"
                            ));
                        }
                    }
                }
            }
        }
    }
    if let Verdict::Violates { line, findings, .. } = v {
        let end = plain.last.map_or(1, |l| l + 1);
        if findings.is_empty() || line.get() as usize > end {
            return Err(format!(
                "{who}: a violation at line {line} (the end is line {end}) with findings \
                 {findings:?}"
            ));
        }
        for f in findings {
            one_line("a violation's reason", &f.reason)?;
        }
    }
    Ok(())
}

/// `--partial` changes only the end-of-trace obligations.
fn partial_agrees(
    who: &str,
    whole: &Verdict,
    partial: &Verdict,
    plain: &Plain,
) -> Result<(), String> {
    let end = plain.last.map_or(1, |l| l + 1);
    let agrees = match whole {
        Verdict::BadInput { .. } | Verdict::Conforms { .. } => partial == whole,
        Verdict::Violates { line, .. } if line.get() as usize >= end => match (whole, partial) {
            (
                Verdict::Violates { prompts, .. },
                Verdict::Conforms {
                    prompts: partial_prompts,
                    ..
                },
            ) => prompts == partial_prompts,
            _ => false,
        },
        Verdict::Violates { .. } => partial == whole,
    };
    if agrees {
        Ok(())
    } else {
        Err(format!(
            "{who}: with --partial the verdict is {partial:?}, without {whole:?}"
        ))
    }
}
