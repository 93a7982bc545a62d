//! The rules' observer (events/s): the compact events of a long reference session, fed to
//! `Observer::observe` one by one, then `Observer::finish`.

use capneg_benches::typical_and_long;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn observer(c: &mut Criterion) {
    let sessions = typical_and_long();
    let mut group = c.benchmark_group("observer");
    for (name, session) in &sessions {
        group.throughput(Throughput::Elements(session.events.len() as u64));
        let mut found = Vec::new();
        group.bench_with_input(BenchmarkId::new("observe", name), session, |b, s| {
            b.iter(|| black_box(s.observe_all(&mut found)))
        });
    }
    group.finish();
}

criterion_group!(benches, observer);
criterion_main!(benches);
