//! `capneg`: the executable specification of Matrix widget capability negotiation.
//!
//! A thin front: it parses flags and calls the crates. Exit codes follow docs/spec.md §7: 0 success,
//! 1 a violation or divergence, 2 bad input, 130 a check interrupted before its verdict.
#![forbid(unsafe_code)]

/// mimalloc, built without transparent huge pages (`no_thp`): on the virtual machines this runs
/// on, fresh memory is the dearer part of a short run, and huge pages make every 2 MiB region a
/// program touches fresh memory (docs/performance.md, "Memory").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod adapter;
mod check;
mod drive;
mod exit;
mod explore;
mod progress;
mod run;
mod validate;
mod vectors;

use capneg_model::check::model::Bounds;
use capneg_model::rules::Side;
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
    /// Runs the reference client on a script and prints the whole trace (docs/spec.md §6); with
    /// `--side widget`, the reference widget on a widget's script (docs/spec.md §9).
    Run {
        /// The reading of the MSCs: msc, widget-api or legacy (not used with `--side widget`: the
        /// reference widget is the same under every profile).
        #[arg(long, default_value = "msc")]
        profile: Profile,
        /// Whose script: `client` (widget and decision lines, run on the reference client) or
        /// `widget` (client and app lines, run on the reference widget).
        #[arg(long, default_value = "client", value_parser = parse_side_of_check)]
        side: Side,
        /// The script (JSON Lines); `-` reads standard input.
        script: PathBuf,
    },
    /// The stateright Explorer over the model, on 127.0.0.1 (docs/spec.md §7).
    Explore {
        /// The port (1 to 65535).
        #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u16).range(1..))]
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
    /// The reference client speaking the adapter protocol on stdin/stdout (docs/spec.md §8);
    /// with `--side widget`, the reference widget speaking the widget adapter protocol (§9.3).
    Adapter {
        /// The reading of the MSCs the client follows (not used with `--side widget`).
        #[arg(long, default_value = "msc")]
        profile: Profile,
        /// Which side speaks: `client` or `widget`.
        #[arg(long, default_value = "client", value_parser = parse_side_of_check)]
        side: Side,
        /// A deliberately wrong client (with `--side widget`: widget) instead of the reference,
        /// for testing a driver: a mutant's name, or `mutant:NAME` (docs/mutants.md).
        #[arg(long, value_name = "NAME")]
        mutant: Option<String>,
    },
    /// Differential test of an external client through the adapter protocol (docs/spec.md §7,
    /// §8); with `--side widget`, of an external widget through the widget adapter protocol (§9.3).
    Drive(drive::DriveArgs),
    /// Judges recorded traces: conforms, or FILE:LINE, rule and reason (docs/spec.md §5, §7).
    Validate {
        /// The profile whose rules judge the traces.
        #[arg(long, default_value = "msc")]
        profile: Profile,
        /// Whose rules judge the traces: `client` (docs/spec.md §4), `widget` (§9.2) or `both`.
        #[arg(long, default_value = "client", value_parser = parse_side)]
        side: Side,
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
        /// Whose rules: `client` (a client under test, with a nondeterministic widget) or
        /// `widget` (a widget under test, with the reference client of the profile; docs/spec.md
        /// §9).
        #[arg(long, default_value = "client", value_parser = parse_side_of_check)]
        side: Side,
        /// With `--side widget`: a deliberately wrong widget, `mutant:NAME`, instead of the
        /// reference widget.
        #[arg(long, value_name = "mutant:NAME")]
        widget: Option<check::WidgetArg>,
        /// The number of capabilities in the universe (1 to 8).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=8))]
        caps: u8,
        /// The most re-exchange requests the widget sends (with `--side widget`: the most
        /// requests of the widget's application).
        #[arg(long, default_value_t = 2)]
        rounds: u8,
        /// The most gated actions the widget performs [default: 1] (only with `--side client`:
        /// the widget model's widget sends what its application asks, `--rounds`).
        #[arg(long)]
        gated: Option<u8>,
        /// Checker threads.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
        threads: u16,
        /// Do not reduce by the symmetry of interchangeable capabilities.
        #[arg(long)]
        no_symmetry: bool,
        /// Also run without the symmetry reduction and report its factor.
        #[arg(long, conflicts_with = "no_symmetry")]
        measure_symmetry: bool,
        /// Check only part I of N: every N-th initial state (session setting), from the I-th;
        /// the N parts together cover the whole run (docs/model.md, "Splitting a run").
        #[arg(long, value_name = "I/N")]
        part: Option<capneg_model::check::Part>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Add a Mermaid sequence diagram to each counterexample.
        #[arg(long)]
        diagram: bool,
    },
}

/// A `--side`: `client`, `widget` or `both`.
fn parse_side(s: &str) -> Result<Side, String> {
    Side::named(s).ok_or_else(|| format!("unknown side `{s}` (client, widget or both)"))
}

/// The `--side` of a command that judges one side at a time: `client` or `widget`.
fn parse_side_of_check(s: &str) -> Result<Side, String> {
    match parse_side(s)? {
        Side::Both => Err("one side at a time: client or widget".to_owned()),
        side => Ok(side),
    }
}

/// The client, the rules and the bounds of the model `check` and `explore` build: the readings
/// resolved, and the bounds of their flags.
fn model_of(
    readings: check::Readings,
    caps: u8,
    rounds: u8,
    gated: u8,
) -> (check::ClientArg, Profile, Bounds) {
    let (client, rules) = readings.resolve();
    let bounds = Bounds {
        caps,
        rounds,
        gated,
    };
    (client, rules, bounds)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            profile,
            side,
            script,
        } => run::run(profile, side, &script),
        Command::Explore {
            port,
            readings,
            caps,
            rounds,
            gated,
        } => {
            let (client, rules, bounds) = model_of(readings, caps, rounds, gated);
            explore::run(explore::ExploreArgs {
                port,
                client,
                rules,
                bounds,
            })
        }
        Command::Vectors { out, profile } => vectors::run(&out, profile),
        Command::Adapter {
            profile,
            side,
            mutant,
        } => adapter::run(profile, side, mutant),
        Command::Drive(args) => drive::run(args),
        Command::Validate {
            profile,
            side,
            partial,
            json,
            traces,
        } => validate::run(profile, side, partial, json, &traces),
        Command::Check {
            readings,
            side,
            widget,
            caps,
            rounds,
            gated,
            threads,
            no_symmetry,
            measure_symmetry,
            part,
            json,
            diagram,
        } => {
            if widget.is_some() && side != Side::Widget {
                eprintln!("capneg check: --widget needs --side widget");
                return ExitCode::from(2);
            }
            if side == Side::Widget && readings.names_a_client() {
                eprintln!(
                    "capneg check: --client and --rules need --side client: with --side widget the widget is under test (--widget), with the reference client of --profile, judged by the widget's rules"
                );
                return ExitCode::from(2);
            }
            if gated.is_some() && side == Side::Widget {
                eprintln!(
                    "capneg check: --gated needs --side client: with --side widget the widget's application sets what the widget sends (--rounds)"
                );
                return ExitCode::from(2);
            }
            let gated = gated.unwrap_or(Bounds::default().gated);
            let (client, rules, bounds) = model_of(readings, caps, rounds, gated);
            check::run(check::CheckArgs {
                side,
                widget: widget.map(|w| w.0),
                client,
                rules,
                bounds,
                threads: threads as usize,
                symmetry: !no_symmetry,
                measure_symmetry,
                part,
                json,
                diagram,
            })
        }
    }
}
