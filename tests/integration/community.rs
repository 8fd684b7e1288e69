//! The public community-detection API: Leiden's known answers, connectivity,
//! determinism across thread counts, warm starts and fixed nodes.

use hydra_detect::community::{
    Graph, LabelPropagationConfig, LeidenConfig, Partition, Quality, connected_components, cpm,
    label_propagation, leiden, modularity,
};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

/// Zachary's karate club (1977): 34 members, 78 friendships, 0-indexed as in NetworkX.
#[rustfmt::skip]
const KARATE: [(u32, u32); 78] = [
    (0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6), (0, 7), (0, 8), (0, 10), (0, 11), (0, 12),
    (0, 13), (0, 17), (0, 19), (0, 21), (0, 31), (1, 2), (1, 3), (1, 7), (1, 13), (1, 17),
    (1, 19), (1, 21), (1, 30), (2, 3), (2, 7), (2, 8), (2, 9), (2, 13), (2, 27), (2, 28), (2, 32),
    (3, 7), (3, 12), (3, 13), (4, 6), (4, 10), (5, 6), (5, 10), (5, 16), (6, 16), (8, 30),
    (8, 32), (8, 33), (9, 33), (13, 33), (14, 32), (14, 33), (15, 32), (15, 33), (18, 32),
    (18, 33), (19, 33), (20, 32), (20, 33), (22, 32), (22, 33), (23, 25), (23, 27), (23, 29),
    (23, 32), (23, 33), (24, 25), (24, 27), (24, 31), (25, 31), (26, 29), (26, 33), (27, 33),
    (28, 31), (28, 33), (29, 32), (29, 33), (30, 32), (30, 33), (31, 32), (31, 33), (32, 33),
];

fn karate() -> Graph {
    Graph::from_edges(34, KARATE.iter().map(|&(u, v)| (u, v, 1.0)))
}

/// A planted partition: `groups` groups of `size` nodes, each pair joined
/// with probability `p_in` inside a group and `p_out` across.
fn planted(groups: u32, size: u32, p_in: f64, p_out: f64, seed: u64) -> (Graph, Partition) {
    let mut rng = Pcg64::seed_from_u64(seed);
    let n = groups * size;
    let mut edges = Vec::new();
    for u in 0..n {
        for v in u + 1..n {
            let p = if u / size == v / size { p_in } else { p_out };
            if rng.random::<f64>() < p {
                edges.push((u, v, 1.0));
            }
        }
    }
    let truth = Partition::from_membership((0..n).map(|u| u / size).collect());
    (Graph::from_edges(n as usize, edges), truth)
}

/// A sparse random graph with random weights: `n` nodes, `m` edges.
fn random_graph(n: u32, m: usize, seed: u64) -> Graph {
    let mut rng = Pcg64::seed_from_u64(seed);
    let edges: Vec<(u32, u32, f32)> = (0..m)
        .map(|_| (rng.random_range(0..n), rng.random_range(0..n), rng.random_range(0.1f32..2.0)))
        .collect();
    Graph::from_edges(n as usize, edges)
}

/// A larger graph for the thread tests: planted groups of varied size with noise.
fn noisy_graph(n: u32, seed: u64) -> Graph {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut edges = Vec::new();
    for u in 0..n {
        let group = u / 40;
        for _ in 0..6 {
            let v = group * 40 + rng.random_range(0..40);
            if v < n {
                edges.push((u, v, 1.0));
            }
        }
        for _ in 0..2 {
            edges.push((u, rng.random_range(0..n), rng.random_range(0.5f32..1.5)));
        }
    }
    Graph::from_edges(n as usize, edges)
}

/// Asserts that every community of `p` induces a connected subgraph of `g`.
fn assert_connected_communities(g: &Graph, p: &Partition, what: &str) {
    let membership = p.membership();
    let inside = Graph::from_edges(
        g.node_count(),
        g.edges().filter(|&(u, v, _)| membership[u as usize] == membership[v as usize]),
    );
    let components = connected_components(&inside);
    assert_eq!(
        components.community_count(),
        p.community_count(),
        "{what}: a community is not connected"
    );
}

#[test]
fn karate_club_reaches_the_known_optimum() {
    let g = karate();
    assert_eq!(g.edge_count(), 78);
    let p = leiden(&g, &LeidenConfig::new());
    let q = modularity(&g, &p, 1.0);
    // The optimum is 0.41979 (Brandes et al. 2008), with four communities.
    assert!(q >= 0.4197, "modularity {q}");
    assert_eq!(p.community_count(), 4);
    assert_connected_communities(&g, &p, "karate");
}

#[test]
fn karate_club_reaches_the_optimum_from_many_seeds() {
    let g = karate();
    for seed in 0..20 {
        let p = leiden(&g, &LeidenConfig::new().seed(seed));
        let q = modularity(&g, &p, 1.0);
        assert!(q >= 0.4197, "seed {seed}: modularity {q}");
    }
}

#[test]
fn planted_partitions_are_recovered_exactly() {
    for seed in 0..5 {
        let (g, truth) = planted(10, 30, 0.5, 0.01, seed);
        let p = leiden(&g, &LeidenConfig::new().seed(seed));
        assert_eq!(p, truth, "seed {seed}: modularity");
        let cpm_config = LeidenConfig::new().quality(Quality::Cpm { resolution: 0.1 }).seed(seed);
        assert_eq!(leiden(&g, &cpm_config), truth, "seed {seed}: cpm");
    }
}

#[test]
fn label_propagation_and_components_on_planted_partitions() {
    let (g, truth) = planted(8, 25, 0.6, 0.0, 1);
    assert_eq!(connected_components(&g), truth);
    let (g, truth) = planted(8, 25, 0.6, 0.005, 2);
    assert_eq!(label_propagation(&g, &LabelPropagationConfig::new()), truth);
}

#[test]
fn every_leiden_community_is_connected() {
    for seed in 0..40u64 {
        let n = 30 + (seed as u32 * 7) % 170;
        let m = (n as usize) * (1 + seed as usize % 4);
        let g = random_graph(n, m, seed);
        let p = leiden(&g, &LeidenConfig::new().seed(seed));
        assert_connected_communities(&g, &p, &format!("modularity, seed {seed}"));
        let cpm_config = LeidenConfig::new().quality(Quality::Cpm { resolution: 0.05 }).seed(seed);
        let p = leiden(&g, &cpm_config);
        assert_connected_communities(&g, &p, &format!("cpm, seed {seed}"));
        // A single iteration too.
        let p = leiden(&g, &LeidenConfig::new().seed(seed).max_iterations(Some(1)));
        assert_connected_communities(&g, &p, &format!("one iteration, seed {seed}"));
    }
}

#[test]
fn modularity_and_cpm_match_a_hand_computation() {
    // A square 0-1-2-3-0 with the diagonal 0-2 of weight 2, plus an
    // isolated edge 4-5. Partition {0,1,2,3}, {4,5}.
    let g = Graph::from_edges(
        6,
        [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0), (0, 2, 2.0), (4, 5, 1.0)],
    );
    let p = Partition::from_membership(vec![0, 0, 0, 0, 1, 1]);
    // m = 7; community A: w = 6, K = 12; B: w = 1, K = 2.
    let expected = 6.0 / 7.0 - (12.0f64 / 14.0).powi(2) + 1.0 / 7.0 - (2.0f64 / 14.0).powi(2);
    assert!((modularity(&g, &p, 1.0) - expected).abs() < 1e-12);
    // CPM, γ = 0.5: A: 6 − 0.5·6 = 3; B: 1 − 0.5·1 = 0.5.
    assert!((cpm(&g, &p, 0.5) - 3.5).abs() < 1e-12);
}

#[test]
fn same_seed_gives_the_same_partition_on_one_and_two_threads() {
    let g = noisy_graph(20_000, 5);
    let run = |threads: usize, threshold: usize, quality: Quality| {
        let config = LeidenConfig::new().seed(11).parallel_threshold(threshold).quality(quality);
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| leiden(&g, &config))
    };
    for quality in [Quality::Modularity { resolution: 1.0 }, Quality::Cpm { resolution: 0.02 }] {
        let sequential = run(1, usize::MAX, quality);
        let one = run(1, 0, quality);
        let two = run(2, 0, quality);
        assert_eq!(one, two, "{quality:?}");
        assert_eq!(one, sequential, "{quality:?}");
        assert!(one.community_count() > 100, "{quality:?}");
    }
}

#[test]
fn a_warm_start_from_the_optimum_does_not_make_it_worse() {
    for (g, name) in [(karate(), "karate"), (noisy_graph(3_000, 2), "noisy")] {
        let best = leiden(&g, &LeidenConfig::new());
        let q = modularity(&g, &best, 1.0);
        for seed in 0..3 {
            let again = leiden(&g, &LeidenConfig::new().seed(seed).initial(best.clone()));
            let q2 = modularity(&g, &again, 1.0);
            assert!(q2 >= q - 1e-12, "{name}, seed {seed}: {q2} < {q}");
        }
    }
}

#[test]
fn fixed_nodes_never_move() {
    let g = noisy_graph(2_000, 3);
    let mut rng = Pcg64::seed_from_u64(9);
    // A poor initial partition: random labels among 50.
    let initial = Partition::from_membership((0..2_000).map(|_| rng.random_range(0..50)).collect());
    let fixed: Vec<u32> = (0..2_000).filter(|v| v % 7 == 0).collect();
    let config = LeidenConfig::new().initial(initial.clone()).fixed_nodes(fixed.iter().copied());
    let p = leiden(&g, &config);
    for &a in &fixed {
        for &b in &fixed {
            assert_eq!(
                initial.community_of(a) == initial.community_of(b),
                p.community_of(a) == p.community_of(b),
                "fixed nodes {a} and {b}"
            );
        }
    }
    // Unfixed nodes did move: the partition improved on the random start.
    assert!(modularity(&g, &p, 1.0) > modularity(&g, &initial, 1.0) + 0.1);
    // Without an initial partition fixed nodes stay apart from each other.
    let p = leiden(&karate(), &LeidenConfig::new().fixed_nodes([0, 33, 2]));
    assert_ne!(p.community_of(0), p.community_of(2));
    assert_ne!(p.community_of(0), p.community_of(33));
}

#[test]
fn graphs_round_trip_through_csr_and_give_the_same_partition() {
    let g = noisy_graph(1_000, 8);
    let h =
        Graph::from_csr(g.offsets().to_vec(), g.targets().to_vec(), g.weights().to_vec()).unwrap();
    assert_eq!(leiden(&g, &LeidenConfig::new()), leiden(&h, &LeidenConfig::new()));
}
