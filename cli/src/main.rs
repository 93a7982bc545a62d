//! `capneg`: the executable specification of Matrix widget capability negotiation.
//!
//! A thin front: it parses flags and calls the crates. Exit codes follow SPEC §7: 0 success,
//! 1 a violation or divergence, 2 bad input.
#![forbid(unsafe_code)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod check;

use capneg_model::model::Bounds;
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
    /// Exhaustive model check: per rule, holds or a shortest counterexample (SPEC §7).
    Check {
        /// The profile of both the client and the rules.
        #[arg(long, conflicts_with_all = ["client", "rules"])]
        profile: Option<Profile>,
        /// The client: a profile, or `mutant:NAME` (a deliberately wrong client).
        #[arg(long, requires = "rules")]
        client: Option<check::ClientArg>,
        /// The profile whose rules judge the client.
        #[arg(long, requires = "client")]
        rules: Option<Profile>,
        /// The number of capabilities in the universe (1 to 8).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=8))]
        caps: u8,
        /// The most re-exchange requests the widget sends.
        #[arg(long, default_value_t = 2)]
        rounds: u8,
        /// The most gated actions the widget performs.
        #[arg(long, default_value_t = 1)]
        gated: u8,
        /// Checker threads.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
        threads: u16,
        /// Do not reduce by the symmetry of interchangeable capabilities.
        #[arg(long)]
        no_symmetry: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Add a Mermaid sequence diagram to each counterexample.
        #[arg(long)]
        diagram: bool,
    },
}

/// Exit code for bad input (SPEC §7).
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { profile, script } => run(profile, &script),
        Command::Check {
            profile,
            client,
            rules,
            caps,
            rounds,
            gated,
            threads,
            no_symmetry,
            json,
            diagram,
        } => {
            let profile = profile.unwrap_or_default();
            let client = client.unwrap_or(check::ClientArg {
                kind: capneg_model::mutants::ClientKind::Reference,
                profile,
            });
            check::run(check::CheckArgs {
                client,
                rules: rules.unwrap_or(profile),
                bounds: Bounds {
                    caps,
                    rounds,
                    gated,
                },
                threads: threads as usize,
                symmetry: !no_symmetry,
                json,
                diagram,
            })
        }
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
