//! Index building and account-graph projection on synthetic platforms.
//!
//! Inputs come from `common::Platform` with a fixed seed (one account per
//! ten observations; households, offices, carrier-grade NAT supernodes,
//! hydra rings, popular templates). Sizes: 10k and 100k observations; the
//! 10M-observation scale run is `examples/scale_graph.rs` (see
//! BENCHMARKS.md), too slow for criterion's repetitions.
//!
//! Run: `cargo bench --bench graph`.

mod common;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hydra_detect::{Event, GraphBuilder, GraphConfig};

/// The platforms benched: `(observations, events)`.
fn inputs() -> Vec<(u64, Vec<Event>)> {
    [10_000u64, 100_000]
        .into_iter()
        .map(|n| (n, common::Platform::new(n / 10, n, 7).events()))
        .collect()
}

fn builder(events: &[Event], config: GraphConfig) -> GraphBuilder {
    let mut b = GraphBuilder::new(config);
    for (line, e) in events.iter().enumerate() {
        b.add(line as u64 + 2, e).expect("generated events are valid");
    }
    b
}

fn index(c: &mut Criterion) {
    let inputs = inputs();
    let mut group = c.benchmark_group("index");
    group.sample_size(10);
    for (n, events) in &inputs {
        group.throughput(Throughput::Elements(*n));
        group.bench_with_input(BenchmarkId::new("add_and_freeze", n), events, |b, events| {
            b.iter(|| builder(events, GraphConfig::new()).index())
        });
    }
    group.finish();
}

fn projection(c: &mut Criterion) {
    let inputs = inputs();
    let mut group = c.benchmark_group("projection");
    group.sample_size(10);
    let variants = [
        ("default", GraphConfig::new()),
        ("top_k_40", GraphConfig::new().top_k(Some(40))),
        ("serial", GraphConfig::new().parallel_threshold(usize::MAX)),
    ];
    for (n, events) in &inputs {
        group.throughput(Throughput::Elements(*n));
        for (name, config) in &variants {
            group.bench_with_input(BenchmarkId::new(*name, n), events, |b, events| {
                b.iter_batched(
                    || builder(events, config.clone()).index(),
                    |index| index.summarize(),
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, index, projection);
criterion_main!(benches);
