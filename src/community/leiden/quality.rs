//! [`QualityFunction`]: what Leiden optimises, one impl per quality function.
//!
//! Both functions share one shape, which lets the hot loops stay generic yet
//! cheap. With `w_c` the internal weight of community `c` (self-loops once)
//! and `X_c` the sum of its members' *node weights* `x_v`:
//!
//! `H = norm · Σ_c [ w_c − (λ / 2) X_c² ] + constant`
//!
//! - modularity: `x_v` = strength, `λ = γ / 2m`, `norm = 1 / m`, constant 0;
//! - CPM: `x_v` = size (original nodes), `λ = γ`, `norm = 1`, constant
//!   `γ N / 2` (from `n_c (n_c − 1) / 2 = n_c² / 2 − n_c / 2`).
//!
//! Moving `v` from `a` to `b` then changes `H` by
//! `norm · [(w(v, b) − λ x_v X_b) − (w(v, a∖v) − λ x_v (X_a − x_v))]`, the
//! *gain* difference the local moving and the refinement compare.

use super::aggregate::LevelGraph;
use super::partition::LevelPartition;

/// A quality function in the shared shape above.
pub(crate) trait QualityFunction: Sync {
    /// The node weight `x_v` of every node of `graph`.
    fn node_weights<'g>(&self, graph: &'g LevelGraph<'_>) -> &'g [f64];

    /// `λ`, the penalty scale.
    fn penalty(&self, graph: &LevelGraph<'_>) -> f64;

    /// `norm`, turning weight units into quality units.
    fn norm(&self, graph: &LevelGraph<'_>) -> f64;

    /// The constant term.
    fn constant(&self, graph: &LevelGraph<'_>) -> f64;

    /// The quality of `partition` of `graph`.
    ///
    /// At an aggregated level, this equals the quality of the flattened
    /// partition on the original graph.
    fn quality(&self, graph: &LevelGraph<'_>, partition: &LevelPartition) -> f64 {
        let n = graph.node_count();
        let mut internal = vec![0f64; n];
        for v in 0..n as u32 {
            let c = partition.community_of(v);
            let mut w = graph.self_weights()[v as usize];
            for (u, wu) in graph.neighbors(v) {
                if partition.community_of(u) == c {
                    w += 0.5 * wu;
                }
            }
            internal[c as usize] += w;
        }
        let lambda = self.penalty(graph);
        let sum: f64 = (0..n as u32)
            .filter(|&c| partition.nodes(c) > 0)
            .map(|c| internal[c as usize] - 0.5 * lambda * partition.weight(c).powi(2))
            .sum();
        self.norm(graph) * sum + self.constant(graph)
    }

    /// The change of [`quality`](QualityFunction::quality) if `v` moved to community `to`.
    ///
    /// O(degree of `v`).
    fn diff_move(
        &self,
        graph: &LevelGraph<'_>,
        partition: &LevelPartition,
        v: u32,
        to: u32,
    ) -> f64 {
        let from = partition.community_of(v);
        if from == to {
            return 0.0;
        }
        let (mut w_from, mut w_to) = (0f64, 0f64);
        for (u, w) in graph.neighbors(v) {
            let c = partition.community_of(u);
            if c == from {
                w_from += w;
            } else if c == to {
                w_to += w;
            }
        }
        let x = self.node_weights(graph)[v as usize];
        let lambda = self.penalty(graph);
        let gain_to = w_to - lambda * x * partition.weight(to);
        let gain_from = w_from - lambda * x * (partition.weight(from) - x);
        self.norm(graph) * (gain_to - gain_from)
    }
}

/// Modularity with resolution `γ`, as [`crate::community::modularity`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Modularity {
    /// `γ`.
    pub(crate) resolution: f64,
}

impl QualityFunction for Modularity {
    fn node_weights<'g>(&self, graph: &'g LevelGraph<'_>) -> &'g [f64] {
        graph.strengths()
    }

    fn penalty(&self, graph: &LevelGraph<'_>) -> f64 {
        self.resolution / (2.0 * graph.total_weight())
    }

    fn norm(&self, graph: &LevelGraph<'_>) -> f64 {
        1.0 / graph.total_weight()
    }

    fn constant(&self, _graph: &LevelGraph<'_>) -> f64 {
        0.0
    }
}

/// The Constant Potts Model with resolution `γ`, as [`crate::community::cpm`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cpm {
    /// `γ`.
    pub(crate) resolution: f64,
}

impl QualityFunction for Cpm {
    fn node_weights<'g>(&self, graph: &'g LevelGraph<'_>) -> &'g [f64] {
        graph.sizes()
    }

    fn penalty(&self, _graph: &LevelGraph<'_>) -> f64 {
        self.resolution
    }

    fn norm(&self, _graph: &LevelGraph<'_>) -> f64 {
        1.0
    }

    fn constant(&self, graph: &LevelGraph<'_>) -> f64 {
        0.5 * self.resolution * graph.sizes().iter().sum::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::graph::Graph;
    use crate::community::leiden::aggregate::aggregate;
    use crate::community::partition::Partition;
    use crate::community::quality::{cpm, modularity};
    use proptest::prelude::*;

    fn random_graph(n: u32, edges: &[(u32, u32, u8)]) -> Graph {
        Graph::from_edges(n as usize, edges.iter().map(|&(u, v, w)| (u % n, v % n, w as f32 / 4.0)))
    }

    fn check_diff_move<Q: QualityFunction>(
        q: &Q,
        g: &Graph,
        labels: &[u32],
        moves: &[(u32, u32)],
    ) -> Result<(), TestCaseError> {
        let level = LevelGraph::from_graph(g, &[], usize::MAX);
        let n = g.node_count() as u32;
        let x = q.node_weights(&level).to_vec();
        let mut p = LevelPartition::new(labels.iter().map(|&l| l % n).collect(), &x);
        for &(v, to) in moves {
            let (v, to) = (v % n, to % n);
            let before = q.quality(&level, &p);
            let diff = q.diff_move(&level, &p, v, to);
            p.move_node(v, to, x[v as usize]);
            let after = q.quality(&level, &p);
            prop_assert!(
                (diff - (after - before)).abs() < 1e-9,
                "diff {diff} vs {}",
                after - before
            );
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn diff_move_equals_quality_after_minus_before(
            n in 1u32..20,
            edges in prop::collection::vec((0u32..20, 0u32..20, 0u8..8), 0..60),
            labels in prop::collection::vec(0u32..20, 20),
            moves in prop::collection::vec((0u32..20, 0u32..20), 1..30),
            resolution in 0.0f64..3.0,
        ) {
            let g = random_graph(n, &edges);
            let labels = &labels[..n as usize];
            if g.total_weight() > 0.0 {
                check_diff_move(&Modularity { resolution }, &g, labels, &moves)?;
            }
            check_diff_move(&Cpm { resolution }, &g, labels, &moves)?;
        }

        #[test]
        fn level_quality_matches_the_public_functions_at_every_level(
            n in 1u32..20,
            edges in prop::collection::vec((0u32..20, 0u32..20, 1u8..8), 1..60),
            fine in prop::collection::vec(0u32..20, 20),
            coarse in prop::collection::vec(0u32..20, 20),
            resolution in 0.0f64..3.0,
        ) {
            let g = random_graph(n, &edges);
            // A fine partition, aggregated, then a coarse partition of the aggregate.
            let fine = Partition::from_membership(fine[..n as usize].to_vec());
            let k = fine.community_count();
            let level = LevelGraph::from_graph(&g, &[], usize::MAX);
            let agg = aggregate(&level, fine.membership(), k, false);
            let coarse: Vec<u32> = coarse[..k].to_vec();
            let coarse = Partition::from_membership(coarse.iter().map(|&c| c % k as u32).collect());
            let flat = Partition::from_membership(
                fine.membership().iter().map(|&f| coarse.membership()[f as usize]).collect(),
            );
            let m = Modularity { resolution };
            let p = LevelPartition::new(coarse.membership().to_vec(), m.node_weights(&agg));
            prop_assert!((m.quality(&agg, &p) - modularity(&g, &flat, resolution)).abs() < 1e-9);
            let c = Cpm { resolution };
            let p = LevelPartition::new(coarse.membership().to_vec(), c.node_weights(&agg));
            prop_assert!((c.quality(&agg, &p) - cpm(&g, &flat, resolution)).abs() < 1e-9);
        }
    }
}
