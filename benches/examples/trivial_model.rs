//! Checks the trivial model of `capneg_benches::trivial` exhaustively as `capneg check` checks
//! its own (depth-first, symmetry reduction, the same threads) and prints its rate, for
//! `benches/scripts/compare.sh`.
//!
//! ```sh
//! cargo run --release -p capneg-benches --example trivial_model -- [--threads N] [--counters K] [--total T]
//! ```

use capneg_benches::trivial::Grid;
use stateright::{Checker, HasDiscoveries, Model};
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut threads = 2usize;
    let mut grid = Grid::default();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        let ok = match pair[0].as_str() {
            "--threads" => value.parse().map(|t| threads = t).is_ok(),
            "--counters" => value
                .parse()
                .ok()
                .filter(|k| (1..=8).contains(k))
                .map(|k| grid.counters = k)
                .is_some(),
            "--total" => value.parse().map(|t| grid.total = t).is_ok(),
            _ => false,
        };
        if !ok {
            eprintln!("trivial_model: bad flag {pair:?}");
            eprintln!("usage: trivial_model [--threads N] [--counters 1..8] [--total T]");
            return ExitCode::from(2);
        }
    }
    let start = Instant::now();
    let checker = grid
        .checker()
        .threads(threads.max(1))
        .symmetry()
        .finish_when(HasDiscoveries::AnyOf(BTreeSet::from(["(exhaustive)"])))
        .spawn_dfs()
        .join();
    let elapsed = start.elapsed().as_secs_f64();
    let unique = checker.unique_state_count();
    println!(
        "trivial model ({} counters, total {}): states generated {}, unique {}, max depth {}, {:.2} s, {:.0} unique states/s, {}",
        grid.counters,
        grid.total,
        checker.state_count(),
        unique,
        checker.max_depth(),
        elapsed,
        unique as f64 / elapsed.max(1e-9),
        if checker.is_done() { "exhaustive" } else { "not exhaustive" }
    );
    if unique as u64 == grid.states() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "trivial_model: expected {} unique states, found {unique}",
            grid.states()
        );
        ExitCode::FAILURE
    }
}
