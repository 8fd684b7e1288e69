//! [`label_propagation`]: seeded asynchronous label propagation.

use rand::RngExt;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64;

use super::graph::Graph;
use super::partition::Partition;

/// Settings for [`label_propagation`].
///
/// # Examples
///
/// ```
/// use hydra_detect::community::LabelPropagationConfig;
///
/// let config = LabelPropagationConfig::new().seed(7).max_iterations(20);
/// assert_eq!(config.get_seed(), 7);
/// assert_eq!(config.get_max_iterations(), 20);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelPropagationConfig {
    seed: u64,
    max_iterations: usize,
}

impl Default for LabelPropagationConfig {
    /// Seed 42, at most 100 sweeps.
    fn default() -> Self {
        LabelPropagationConfig { seed: 42, max_iterations: 100 }
    }
}

impl LabelPropagationConfig {
    /// The default settings: seed 42, at most 100 sweeps.
    pub fn new() -> Self {
        Self::default()
    }

    /// Seed of the random node order and tie-breaking (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Upper bound on the number of sweeps over the nodes (default 100).
    ///
    /// Label propagation usually settles in a handful of sweeps; the bound
    /// stops the rare oscillating graph.
    pub fn max_iterations(mut self, max_iterations: usize) -> Self {
        self.max_iterations = max_iterations;
        self
    }

    /// The seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// The bound on sweeps.
    pub fn get_max_iterations(&self) -> usize {
        self.max_iterations
    }
}

/// Groups nodes by weighted label propagation.
///
/// Every node starts with its own label; in each sweep, in a random order,
/// a node takes the label carrying the most edge weight among its neighbors
/// (Raghavan, Albert and Kumara 2007, "Near linear time algorithm to detect
/// community structures in large-scale networks"). A node keeps its label
/// when that label is among the best; other ties are broken at random. Only
/// nodes with a neighbor that changed label are revisited, as in NetworKit's
/// PLP. It stops when a sweep changes nothing or after `max_iterations`
/// sweeps. Self-loops do not vote. Fast but coarse: a cheap first pass, or a
/// baseline for [`leiden`](fn@super::leiden); communities are not guaranteed to
/// be connected.
///
/// Deterministic: the same graph and seed give the same partition.
///
/// # Arguments
///
/// * `graph`: the graph.
/// * `config`: seed and sweep bound.
///
/// # Returns
///
/// A [`Partition`] by final label, numbered by smallest member.
///
/// # Complexity
///
/// O(n + m) time per sweep, at most `max_iterations` sweeps; O(n) space.
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{label_propagation, Graph, LabelPropagationConfig};
///
/// // Two 4-cliques joined by one light edge.
/// let mut edges = vec![(3, 4, 0.1)];
/// for base in [0u32, 4] {
///     for a in 0..4 {
///         for b in a + 1..4 {
///             edges.push((base + a, base + b, 1.0));
///         }
///     }
/// }
/// let g = Graph::from_edges(8, edges);
/// let p = label_propagation(&g, &LabelPropagationConfig::new());
/// assert_eq!(p.membership(), &[0, 0, 0, 0, 1, 1, 1, 1]);
/// ```
pub fn label_propagation(graph: &Graph, config: &LabelPropagationConfig) -> Partition {
    let n = graph.node_count();
    let mut rng = Pcg64::seed_from_u64(config.seed);
    let mut labels: Vec<u32> = (0..n as u32).collect();
    let mut active = vec![true; n];
    let mut order: Vec<u32> = (0..n as u32).collect();
    // Dense per-label weights, reset through the touched list after each node.
    let mut weight = vec![0f64; n];
    let mut touched: Vec<u32> = Vec::new();
    for _ in 0..config.max_iterations {
        order.shuffle(&mut rng);
        let mut changed = 0usize;
        for &v in &order {
            if !std::mem::replace(&mut active[v as usize], false) {
                continue;
            }
            for (u, w) in graph.neighbors(v) {
                // Zero-weight edges carry no vote; positive weights make a
                // label's slot non-zero exactly when it is in `touched`.
                if u != v && w > 0.0 {
                    let l = labels[u as usize];
                    if weight[l as usize] == 0.0 {
                        touched.push(l);
                    }
                    weight[l as usize] += w as f64;
                }
            }
            let current = labels[v as usize];
            let mut best = current;
            let mut best_weight = weight[current as usize];
            let mut ties = 1u32;
            for &l in &touched {
                let w = weight[l as usize];
                if l == current {
                    continue;
                }
                if w > best_weight {
                    best = l;
                    best_weight = w;
                    ties = 1;
                } else if w == best_weight && best != current {
                    // Reservoir choice among equal labels; the current label,
                    // once best, is never displaced by a tie.
                    ties += 1;
                    if rng.random_range(0..ties) == 0 {
                        best = l;
                    }
                }
            }
            for &l in &touched {
                weight[l as usize] = 0.0;
            }
            touched.clear();
            if best != current {
                labels[v as usize] = best;
                changed += 1;
                for (u, _) in graph.neighbors(v) {
                    active[u as usize] = true;
                }
            }
        }
        if changed == 0 {
            break;
        }
    }
    Partition::from_membership(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cliques on a ring of light bridges.
    fn cliques(k: u32, size: u32) -> Graph {
        crate::community::graph::ring_of_cliques(k, size, 0.2)
    }

    #[test]
    fn recovers_cliques() {
        let g = cliques(10, 6);
        let p = label_propagation(&g, &LabelPropagationConfig::new());
        assert_eq!(p.community_count(), 10);
        for (u, &c) in p.membership().iter().enumerate() {
            assert_eq!(c as usize, u / 6);
        }
    }

    #[test]
    fn same_seed_same_partition() {
        let g = cliques(30, 4);
        let a = label_propagation(&g, &LabelPropagationConfig::new().seed(3));
        let b = label_propagation(&g, &LabelPropagationConfig::new().seed(3));
        assert_eq!(a, b);
    }

    #[test]
    fn zero_sweeps_leaves_singletons() {
        let g = cliques(3, 3);
        let p = label_propagation(&g, &LabelPropagationConfig::new().max_iterations(0));
        assert_eq!(p, Partition::singletons(9));
    }

    #[test]
    fn isolated_nodes_keep_their_label() {
        let g = Graph::from_edges(3, [(1, 1, 1.0)]);
        let p = label_propagation(&g, &LabelPropagationConfig::new());
        assert_eq!(p, Partition::singletons(3));
    }
}
