//! `capneg run`: the reference client on a script, or (`--side widget`) the reference widget on
//! a widget's script (docs/spec.md §9).

use crate::exit::{io_failure, BAD_INPUT};
use capneg_model::rules::Side;
use capneg_model::run::{run_script, RunError};
use capneg_model::widget_run::run_widget_script;
use capneg_reference::profile::Profile;
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::process::ExitCode;

pub fn run(profile: Profile, side: Side, script: &std::path::Path) -> ExitCode {
    let name = script.display().to_string();
    let stdout = io::stdout().lock();
    let run_on = |input: &mut dyn io::BufRead, out| match side {
        Side::Widget => run_widget_script(None, input, out),
        Side::Client | Side::Both => run_script(profile, input, out),
    };
    let result = if name == "-" {
        run_on(&mut io::stdin().lock(), io::BufWriter::new(stdout))
    } else {
        match File::open(script) {
            Ok(f) => run_on(&mut BufReader::new(f), io::BufWriter::new(stdout)),
            Err(e) => {
                eprintln!("{name}: cannot read: {e}");
                return ExitCode::from(BAD_INPUT);
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(RunError::Script { line, message }) => {
            let _ = io::stdout().flush();
            eprintln!("{name}:{line}: {message}");
            ExitCode::from(BAD_INPUT)
        }
        Err(RunError::Io(e)) => io_failure(&name, &e),
    }
}
