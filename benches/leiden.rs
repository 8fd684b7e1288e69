//! Community detection on LFR benchmark graphs: Leiden (the default
//! tolerance, one iteration, until no improvement, sequential phases, and
//! batched parallel local moving), connected components and label
//! propagation.
//!
//! Graphs come from `community::lfr` with fixed seeds (average degree 20,
//! `μ = 0.3`), so every run sees the same input. Sizes: 10k and 100k nodes;
//! the 1M-node scale run is `hydra cluster` (see BENCHMARKS.md), too slow
//! for criterion's repetitions.
//!
//! Run: `cargo bench --bench leiden`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hydra_detect::community::{
    Graph, LabelPropagationConfig, LeidenConfig, LfrConfig, connected_components,
    label_propagation, leiden,
};

/// The LFR graphs benched: `(nodes, graph)`.
fn graphs() -> Vec<(usize, Graph)> {
    [10_000usize, 100_000]
        .into_iter()
        .map(|n| {
            let config = LfrConfig::new()
                .node_count(n)
                .average_degree(20.0)
                .max_degree(100)
                .max_community_size(1000)
                .mixing(0.3)
                .seed(1);
            let (graph, _) = hydra_detect::community::lfr(&config).expect("valid LFR settings");
            (n, graph)
        })
        .collect()
}

fn community(c: &mut Criterion) {
    let graphs = graphs();
    let mut group = c.benchmark_group("leiden");
    group.sample_size(10);
    for (n, graph) in &graphs {
        group.throughput(Throughput::Elements(graph.edge_count() as u64));
        let variants = [
            ("default", LeidenConfig::new()),
            ("one_iteration", LeidenConfig::new().max_iterations(Some(1))),
            ("until_stable", LeidenConfig::new().tolerance(0.0)),
            ("parallel_moving", LeidenConfig::new().parallel_moving(true)),
            (
                "one_iteration_sequential",
                LeidenConfig::new().max_iterations(Some(1)).parallel_threshold(usize::MAX),
            ),
        ];
        for (name, config) in variants {
            group.bench_with_input(BenchmarkId::new(name, n), graph, |b, g| {
                b.iter(|| leiden(g, &config))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("baselines");
    group.sample_size(10);
    for (n, graph) in &graphs {
        group.throughput(Throughput::Elements(graph.edge_count() as u64));
        group.bench_with_input(BenchmarkId::new("connected_components", n), graph, |b, g| {
            b.iter(|| connected_components(g))
        });
        group.bench_with_input(BenchmarkId::new("label_propagation", n), graph, |b, g| {
            b.iter(|| label_propagation(g, &LabelPropagationConfig::new()))
        });
    }
    group.finish();
}

criterion_group!(benches, community);
criterion_main!(benches);
