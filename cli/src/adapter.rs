//! `capneg adapter`: the reference client (or, for testing the driver, a deliberately wrong one)
//! speaking the adapter protocol (docs/spec.md §8) on stdin and stdout; with `--side widget`,
//! the reference widget (or a widget mutant) speaking the widget adapter protocol (§9.3).
//!
//! One command per stdin line; for each, the client's messages and prompts (the widget's
//! messages and its view), then `{"idle": {}}`, flushed. A line that is not a command ends the
//! adapter with one line on stderr naming it, and exit code 2. A decision while no prompt is open
//! is noted on stderr and ignored.

use crate::exit::{io_failure, BAD_INPUT};
use capneg_model::rules::mutants::{ClientKind, MutantKind};
use capneg_model::rules::widget_mutants::WidgetMutant;
use capneg_model::rules::Side;
use capneg_properties::protocol::{BadCommand, Handled, Handler, IDLE};
use capneg_properties::widget_protocol::WidgetHandler;
use capneg_reference::Profile;
use capneg_wire::trace::LineReader;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

/// The reference speaking one of the two protocols.
enum Speaker {
    Client(Box<Handler>),
    Widget(Box<WidgetHandler>),
}

impl Speaker {
    fn handle(&mut self, line: &str, out: &mut Vec<String>) -> Result<Handled, BadCommand> {
        match self {
            Speaker::Client(h) => h.handle(line, out),
            Speaker::Widget(h) => h.handle(line, out),
        }
    }
}

pub fn run(profile: Profile, side: Side, mutant: Option<String>) -> ExitCode {
    let speaker = if side == Side::Widget {
        let widget = mutant.map(|name| {
            named_mutant(
                &name,
                "widget mutant",
                &WidgetMutant::ALL,
                WidgetMutant::named,
                WidgetMutant::name,
            )
        });
        match widget.transpose() {
            Ok(widget) => Speaker::Widget(Box::new(WidgetHandler::new(widget))),
            Err(code) => return code,
        }
    } else {
        let kind = mutant.map(|name| {
            named_mutant(
                &name,
                "mutant",
                &MutantKind::ALL,
                MutantKind::named,
                MutantKind::name,
            )
        });
        match kind.transpose() {
            Ok(kind) => {
                let kind = kind.map_or(ClientKind::Reference, ClientKind::Mutant);
                Speaker::Client(Box::new(Handler::new(profile, kind)))
            }
            Err(code) => return code,
        }
    };
    finish(serve(speaker))
}

/// The mutant `name` (or `mutant:NAME`) among `all`, found by `named`; else the error, said on
/// stderr with every name (`what`: the kind of mutant).
fn named_mutant<K: Copy>(
    name: &str,
    what: &str,
    all: &[K],
    named: fn(&str) -> Option<K>,
    name_of: fn(K) -> &'static str,
) -> Result<K, ExitCode> {
    named(name.strip_prefix("mutant:").unwrap_or(name)).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|&k| name_of(k)).collect();
        eprintln!(
            "capneg adapter: unknown {what} `{name}` (expected one of {})",
            names.join(", ")
        );
        ExitCode::from(BAD_INPUT)
    })
}

fn finish(result: Result<(), Stop>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Stop::BadInput(message)) => {
            eprintln!("capneg adapter: {message}");
            ExitCode::from(BAD_INPUT)
        }
        // A broken pipe: the harness went away, nothing left to say.
        Err(Stop::Io(e)) => io_failure("capneg adapter", &e),
    }
}

enum Stop {
    BadInput(String),
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

fn serve(mut handler: Speaker) -> Result<(), Stop> {
    let mut lines = LineReader::new(io::stdin().lock());
    let mut out = BufWriter::with_capacity(64 << 10, io::stdout().lock());
    let mut emitted = Vec::new();
    while let Some(next) = lines.next_line() {
        let (n, text) = match next {
            Ok(ok) => ok,
            Err(e) if e.is_bad_input() => {
                return Err(Stop::BadInput(format!(
                    "stdin line {}: {}",
                    e.line, e.error
                )))
            }
            Err(e) => return Err(Stop::Io(e.error)),
        };
        match handler.handle(text, &mut emitted) {
            Ok(Handled::Done) => {}
            Ok(Handled::Ignored(note)) => eprintln!("capneg adapter: stdin line {n}: {note}"),
            Err(e) => {
                out.flush()?;
                return Err(Stop::BadInput(format!("stdin line {n}: {e}")));
            }
        }
        for line in emitted.drain(..) {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.write_all(IDLE.as_bytes())?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    out.flush()?;
    Ok(())
}
