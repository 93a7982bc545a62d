//! The reference client's step (inputs/s): one typical session, and one long session of
//! thousands of rounds, at the compact level (`Client::handle` with a reused output buffer) and
//! through `ClientSession` (JSON in, envelopes out) for comparison.

use capneg_benches::typical_and_long;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

fn step(c: &mut Criterion) {
    let sessions = typical_and_long();
    let mut group = c.benchmark_group("step");
    // The JSON long session takes ~60 ms an iteration: room for 100 samples.
    group.measurement_time(Duration::from_secs(10));
    for (name, session) in &sessions {
        // A session's inputs; starting the client (which sends `capabilities`) is included.
        group.throughput(Throughput::Elements(session.inputs.len() as u64));
        let mut out = Vec::with_capacity(16);
        group.bench_with_input(BenchmarkId::new("compact", name), session, |b, s| {
            b.iter(|| black_box(s.step_all(&mut out)))
        });
        let mut emitted = Vec::with_capacity(16);
        group.bench_with_input(BenchmarkId::new("json", name), session, |b, s| {
            b.iter(|| black_box(s.session_all(&mut emitted)))
        });
    }
    group.finish();
}

criterion_group!(benches, step);
criterion_main!(benches);
