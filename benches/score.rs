//! The whole batch pipeline through `Detector` (index, graph, Leiden,
//! scoring, replacements, report assembly) on synthetic platforms, so the
//! scoring stage is measured in the company it runs in.
//!
//! Inputs come from `common::Platform` with a fixed seed (one account per
//! ten observations; households, offices, carrier-grade NAT supernodes,
//! hydra rings, popular templates). Sizes: 10k and 100k observations. The
//! quality run on the simulator's presets is `examples/tune_weights.rs`
//! (see BENCHMARKS.md).
//!
//! Run: `cargo bench --bench score`.

mod common;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hydra_detect::{Config, Detector, Event, ScoreConfig};

/// The platforms benched: `(observations, events)`.
fn inputs() -> Vec<(u64, Vec<Event>)> {
    [10_000u64, 100_000]
        .into_iter()
        .map(|n| (n, common::Platform::new(n / 10, n, 7).events()))
        .collect()
}

fn detect(c: &mut Criterion) {
    let inputs = inputs();
    let mut group = c.benchmark_group("detect");
    group.sample_size(10);
    for (n, events) in &inputs {
        group.throughput(Throughput::Elements(*n));
        for (variant, config) in [
            ("default", Config::new()),
            (
                "serial_scoring",
                Config::new().score(ScoreConfig::new().parallel_threshold(usize::MAX)),
            ),
        ] {
            let detector = Detector::new(config);
            group.bench_with_input(BenchmarkId::new(variant, n), events, |b, events| {
                b.iter_batched(
                    || events.clone(),
                    |events| detector.detect_events(events).expect("generated events are valid"),
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, detect);
criterion_main!(benches);
