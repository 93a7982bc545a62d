//! `capneg`: the executable specification of Matrix widget capability negotiation.
//!
//! A thin front: it parses flags and calls the crates. Exit codes follow docs/spec.md §7: 0 success,
//! 1 a violation or divergence, 2 bad input.
#![forbid(unsafe_code)]

/// mimalloc, built without transparent huge pages (`no_thp`): on the virtual machines this runs
/// on, fresh memory is the dearer part of a short run, and huge pages make every 2 MiB region a
/// program touches fresh memory (docs/performance.md, "Memory").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod adapter;
mod check;
mod drive;
mod explore;
mod run;
mod validate;
mod vectors;

use capneg_model::check::model::Bounds;
use capneg_reference::profile::Profile;
use clap::{Parser, Subcommand};
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
    /// Runs the reference client on a script and prints the whole trace (docs/spec.md §6).
    Run {
        /// The reading of the MSCs: msc, widget-api or legacy.
        #[arg(long, default_value = "msc")]
        profile: Profile,
        /// The script (JSON Lines); `-` reads standard input.
        script: PathBuf,
    },
    /// The stateright Explorer over the model, on 127.0.0.1 (docs/spec.md §7).
    Explore {
        /// The port.
        #[arg(long, default_value_t = 3000)]
        port: u16,
        #[command(flatten)]
        readings: check::Readings,
        /// The number of capabilities in the universe (1 to 8).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=8))]
        caps: u8,
        /// The most re-exchange requests the widget sends.
        #[arg(long, default_value_t = 2)]
        rounds: u8,
        /// The most gated actions the widget performs.
        #[arg(long, default_value_t = 1)]
        gated: u8,
    },
    /// Writes conformance vectors: scripts, expected traces, negative traces, index.json.
    Vectors {
        /// The directory to write to (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Only the vectors of this profile (default: every profile).
        #[arg(long)]
        profile: Option<Profile>,
    },
    /// The reference client speaking the adapter protocol on stdin/stdout (docs/spec.md §8).
    Adapter {
        /// The reading of the MSCs the client follows.
        #[arg(long, default_value = "msc")]
        profile: Profile,
        /// Runs a deliberately wrong client instead (for testing the driver).
        #[arg(long, hide = true)]
        mutant: Option<String>,
    },
    /// Differential test of an external client through the adapter protocol (docs/spec.md §7, §8).
    Drive {
        /// The profile whose rules judge the client and whose reference it is compared with.
        #[arg(long, default_value = "msc")]
        profile: Profile,
        /// The number of generated sessions.
        #[arg(long, default_value_t = 256)]
        cases: u32,
        /// The seed of the generator (default: a fixed seed).
        #[arg(long)]
        seed: Option<u64>,
        /// How long the adapter may take to say `idle` after a command, in milliseconds.
        #[arg(long, default_value_t = 5000)]
        timeout_ms: u64,
        /// The adapter command and its arguments, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<String>,
        /// Runs only this session (a docs/spec.md §6 script, or a trace) instead of generated ones.
        #[arg(long, hide = true)]
        replay: Option<PathBuf>,
    },
    /// Judges recorded traces: conforms, or FILE:LINE, rule and reason (docs/spec.md §5, §7).
    Validate {
        /// The profile whose rules judge the traces.
        #[arg(long, default_value = "msc")]
        profile: Profile,
        /// The traces may end mid-session: skip end-of-trace obligations.
        #[arg(long)]
        partial: bool,
        /// Print each verdict as a JSON line.
        #[arg(long)]
        json: bool,
        /// The traces (JSON Lines); `-` reads standard input.
        #[arg(required = true)]
        traces: Vec<PathBuf>,
    },
    /// Exhaustive model check: per rule, holds or a shortest counterexample (docs/spec.md §7).
    Check {
        #[command(flatten)]
        readings: check::Readings,
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
        /// Also run without the symmetry reduction and report its factor.
        #[arg(long, conflicts_with = "no_symmetry")]
        measure_symmetry: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Add a Mermaid sequence diagram to each counterexample.
        #[arg(long)]
        diagram: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { profile, script } => run::run(profile, &script),
        Command::Explore {
            port,
            readings,
            caps,
            rounds,
            gated,
        } => {
            let (client, rules) = readings.resolve();
            explore::run(explore::ExploreArgs {
                port,
                client,
                rules,
                bounds: Bounds {
                    caps,
                    rounds,
                    gated,
                },
            })
        }
        Command::Vectors { out, profile } => vectors::run(&out, profile),
        Command::Adapter { profile, mutant } => adapter::run(profile, mutant),
        Command::Drive {
            profile,
            cases,
            seed,
            timeout_ms,
            command,
            replay,
        } => drive::run(
            profile,
            cases,
            seed,
            timeout_ms,
            &command,
            replay.as_deref(),
        ),
        Command::Validate {
            profile,
            partial,
            json,
            traces,
        } => validate::run(profile, partial, json, &traces),
        Command::Check {
            readings,
            caps,
            rounds,
            gated,
            threads,
            no_symmetry,
            measure_symmetry,
            json,
            diagram,
        } => {
            let (client, rules) = readings.resolve();
            check::run(check::CheckArgs {
                client,
                rules,
                bounds: Bounds {
                    caps,
                    rounds,
                    gated,
                },
                threads: threads as usize,
                symmetry: !no_symmetry,
                measure_symmetry,
                json,
                diagram,
            })
        }
    }
}
