//! Validation end to end (MiB/s and events/s): `capneg_model::validate::validate` on an
//! in-memory trace of the kind `gen_script.py` + `capneg run` produce, with prompts recorded and
//! with prompts hidden; and the floor, plain serde_json parsing of the same traces line by line
//! (into `IgnoredAny`, which checks the syntax and builds nothing, and into `Value`), so the cost
//! of judging over reading shows.

use capneg_benches::{hide_prompts, long_script, run, size};
use capneg_model::validate::{validate, Options, Verdict};
use capneg_reference::Profile;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde::de::IgnoredAny;
use std::hint::black_box;
use std::time::Duration;

fn events(trace: &str) -> u64 {
    trace
        .lines()
        .filter(|l| !l.starts_with("{\"session\""))
        .count() as u64
}

fn bench(c: &mut Criterion) {
    let rounds = size(5000, 20);
    let recorded = run(&long_script(rounds));
    let hidden = hide_prompts(&recorded);
    let options = Options {
        profile: Profile::MSC,
        partial: false,
        side: capneg_model::rules::Side::Client,
    };
    let mut group = c.benchmark_group("validate");
    group.measurement_time(Duration::from_secs(10));
    for (name, trace) in [("recorded", &recorded), ("hidden", &hidden)] {
        let verdict = validate(options, trace.as_bytes()).expect("in memory");
        assert!(
            matches!(verdict, Verdict::Conforms { .. }),
            "{name}: {verdict:?}"
        );
        group.throughput(Throughput::ElementsAndBytes {
            elements: events(trace),
            bytes: trace.len() as u64,
        });
        group.bench_with_input(BenchmarkId::new("validate", name), trace, |b, t| {
            b.iter(|| validate(options, black_box(t.as_bytes())).expect("in memory"))
        });
        group.bench_with_input(BenchmarkId::new("serde_ignored", name), trace, |b, t| {
            b.iter(|| {
                for line in black_box(t.as_str()).lines() {
                    serde_json::from_str::<IgnoredAny>(line).expect("JSON");
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("serde_value", name), trace, |b, t| {
            b.iter(|| {
                for line in black_box(t.as_str()).lines() {
                    black_box(serde_json::from_str::<serde_json::Value>(line).expect("JSON"));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
