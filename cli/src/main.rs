//! `capneg`: the executable specification of Matrix widget capability negotiation.
//!
//! A thin front: it parses flags and calls the crates. Exit codes follow SPEC §7: 0 success,
//! 1 a violation or divergence, 2 bad input.
#![forbid(unsafe_code)]

use capneg_reference::profile::Profile;
use capneg_reference::script::{run_script, RunError};
use clap::{Parser, Subcommand};
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "capneg",
    version,
    about = "The executable specification of Matrix widget capability negotiation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the reference client on a script and prints the whole trace (SPEC §6).
    Run {
        /// The reading of the MSCs: msc, widget-api or legacy.
        #[arg(long, default_value = "msc")]
        profile: Profile,
        /// The script (JSON Lines); `-` reads standard input.
        script: PathBuf,
    },
}

/// Exit code for bad input (SPEC §7).
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { profile, script } => run(profile, &script),
    }
}

fn run(profile: Profile, script: &std::path::Path) -> ExitCode {
    let name = script.display().to_string();
    let stdout = io::stdout().lock();
    let result = if name == "-" {
        run_script(profile, io::stdin().lock(), io::BufWriter::new(stdout))
    } else {
        match File::open(script) {
            Ok(f) => run_script(profile, BufReader::new(f), io::BufWriter::new(stdout)),
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
        Err(RunError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(RunError::Io(e)) => {
            eprintln!("{name}: {e}");
            ExitCode::from(BAD_INPUT)
        }
    }
}
