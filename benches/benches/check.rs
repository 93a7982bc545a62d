//! Model checking at the default bounds (unique states/s): `capneg_model::check::check` as
//! `capneg check` runs it (capneg's own depth-first search, symmetry, 1 and 2 threads),
//! stateright's depth-first checker on the same model (`capneg_dfs`: every action, no polling),
//! and stateright on a trivial model of similar size (`capneg_benches::trivial`), which shows
//! what the checker itself costs per state.

use capneg_benches::benchmarking;
use capneg_benches::trivial::Grid;
use capneg_model::check::model::Bounds;
use capneg_model::check::{check, CheckConfig};
use capneg_model::rules::mutants::ClientKind;
use capneg_reference::Profile;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stateright::{Checker, CheckerBuilder, HasDiscoveries, Model, Representative};
use std::collections::BTreeSet;
use std::hash::Hash;
use std::time::Duration;

/// A discovery name no property has: the run never finishes early (as in `check`).
const NEVER: &str = "(exhaustive)";

fn config(threads: usize) -> CheckConfig {
    let mut config = CheckConfig::new(ClientKind::Reference, Profile::MSC);
    config.threads = threads;
    if !benchmarking() {
        config.bounds = Bounds {
            caps: 1,
            rounds: 1,
            gated: 1,
        };
    }
    config
}

/// The unique states of stateright's exhaustive depth-first search with symmetry on `threads`
/// threads.
fn exhaustive_dfs<M>(checker: CheckerBuilder<M>, threads: usize) -> usize
where
    M: Model + Send + Sync + 'static,
    M::State: Representative + Hash + Send + Sync + Clone + PartialEq + 'static,
    M::Action: Clone + PartialEq,
{
    checker
        .threads(threads)
        .symmetry()
        .finish_when(HasDiscoveries::AnyOf(BTreeSet::from([NEVER])))
        .spawn_dfs()
        .join()
        .unique_state_count()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for threads in [1, 2] {
        let config = config(threads);
        let report = check(&config, &mut |_| {});
        assert!(report.all_hold() && report.exhaustive);
        group.throughput(Throughput::Elements(report.unique as u64));
        group.bench_with_input(
            BenchmarkId::new("capneg_check", threads),
            &config,
            |b, config| b.iter(|| check(config, &mut |_| {})),
        );
        let model = config.model();
        group.bench_with_input(
            BenchmarkId::new("capneg_dfs", threads),
            &model,
            |b, model| {
                b.iter(|| {
                    let unique = exhaustive_dfs(model.clone().checker(), threads);
                    assert_eq!(unique, report.unique);
                })
            },
        );
        let grid = if benchmarking() {
            Grid::default()
        } else {
            Grid {
                counters: 4,
                total: 5,
            }
        };
        group.throughput(Throughput::Elements(grid.states()));
        group.bench_with_input(
            BenchmarkId::new("trivial_dfs", threads),
            &grid,
            |b, grid| {
                b.iter(|| {
                    let unique = exhaustive_dfs(grid.checker(), threads);
                    assert_eq!(unique as u64, grid.states());
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
