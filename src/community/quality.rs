//! Quality functions of a partition: [`modularity`] and [`cpm`], selected for
//! Leiden by [`Quality`].

use rayon::prelude::*;

use super::graph::Graph;
use super::partition::Partition;

/// The quality function [`leiden`](fn@super::leiden) maximises.
///
/// Both have a resolution parameter `γ`: higher values give more, smaller
/// communities. The default is modularity with `γ = 1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Quality {
    /// Newman–Girvan [`modularity`] with resolution `γ` (Reichardt and Bornholdt 2006).
    ///
    /// Compares each community's internal weight with what a random graph of
    /// the same strengths would give; `γ` around 1.
    Modularity {
        /// `γ`, multiplying the null-model term. Finite, `>= 0`.
        resolution: f64,
    },
    /// The Constant Potts Model, [`cpm`] (Traag, Van Dooren and Nesterov 2011).
    ///
    /// A community is worth keeping when its density exceeds `γ`, whatever
    /// the size of the rest of the graph, so it does not suffer from the
    /// resolution limit; `γ` is a density, between 0 and the largest edge weight.
    Cpm {
        /// `γ`, the density threshold. Finite, `>= 0`.
        resolution: f64,
    },
}

impl Default for Quality {
    fn default() -> Self {
        Quality::Modularity { resolution: 1.0 }
    }
}

impl Quality {
    /// The resolution parameter `γ`.
    pub fn resolution(&self) -> f64 {
        match *self {
            Quality::Modularity { resolution } | Quality::Cpm { resolution } => resolution,
        }
    }

    /// The value of this quality function for `partition` of `graph`.
    ///
    /// # Panics
    ///
    /// If `partition` does not have one entry per node of `graph`.
    #[track_caller]
    pub fn evaluate(&self, graph: &Graph, partition: &Partition) -> f64 {
        match *self {
            Quality::Modularity { resolution } => modularity(graph, partition, resolution),
            Quality::Cpm { resolution } => cpm(graph, partition, resolution),
        }
    }
}

/// Graphs with at least this many adjacency entries are scanned in parallel.
///
/// Each node's sums are computed on their own and then added up per
/// community in node order, so the result is the same on either path.
const PARALLEL_ENTRIES: usize = 1 << 17;

/// Per community: (internal weight, total strength, member count).
///
/// The internal weight counts each edge inside the community once and each
/// self-loop once, the same convention as [`Graph::total_weight`].
#[track_caller]
fn community_totals(graph: &Graph, partition: &Partition) -> Vec<(f64, f64, f64)> {
    assert_eq!(
        partition.node_count(),
        graph.node_count(),
        "the partition has {} nodes but the graph has {}",
        partition.node_count(),
        graph.node_count()
    );
    let membership = partition.membership();
    // Per node: (weight to its own community, edges inside seen from both
    // ends so halved; strength).
    let node_sums = |u: u32| -> (f64, f64) {
        let c = membership[u as usize];
        let (mut inside, mut strength) = (0f64, 0f64);
        for (v, w) in graph.neighbors(u) {
            let w = w as f64;
            if v == u {
                inside += w;
                strength += 2.0 * w;
            } else {
                strength += w;
                if membership[v as usize] == c {
                    inside += 0.5 * w;
                }
            }
        }
        (inside, strength)
    };
    let n = graph.node_count() as u32;
    let sums: Vec<(f64, f64)> = if graph.targets().len() >= PARALLEL_ENTRIES {
        (0..n).into_par_iter().with_min_len(1 << 12).map(node_sums).collect()
    } else {
        (0..n).map(node_sums).collect()
    };
    let mut totals = vec![(0f64, 0f64, 0f64); partition.community_count()];
    for (&c, &(inside, strength)) in membership.iter().zip(&sums) {
        let t = &mut totals[c as usize];
        t.0 += inside;
        t.1 += strength;
        t.2 += 1.0;
    }
    totals
}

/// Modularity of `partition` with resolution `γ`.
///
/// With `m` the [total weight](Graph::total_weight), `w_c` the weight of the
/// edges inside community `c` and `K_c` the sum of its members'
/// [strengths](Graph::strength):
///
/// `Q = Σ_c [ w_c / m − γ (K_c / 2m)² ]`
///
/// (Newman and Girvan 2004; the resolution parameter is Reichardt and
/// Bornholdt's 2006). A self-loop of weight `w` adds `w` to `w_c` and `2w` to
/// the strength of its node, so `Q` is the same as for the graph whose
/// adjacency matrix has `2w` on the diagonal — the convention of NetworkX and
/// igraph, and the one [`leiden`](fn@super::leiden) optimises. A graph without
/// edges has modularity 0.
///
/// # Arguments
///
/// * `graph`: the graph.
/// * `partition`: one community per node of `graph`.
/// * `resolution`: `γ`; 1 is classic modularity.
///
/// # Returns
///
/// `Q`, at most 1; for `γ = 1`, at least −1/2.
///
/// # Complexity
///
/// O(n + m) time, O(k) space for `k` communities.
///
/// # Panics
///
/// If `partition` does not have one entry per node of `graph`.
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{modularity, Graph, Partition};
///
/// // Two triangles joined by one edge.
/// let g = Graph::from_edges(6, [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0),
///                                (3, 4, 1.0), (4, 5, 1.0), (3, 5, 1.0), (2, 3, 1.0)]);
/// let p = Partition::from_membership(vec![0, 0, 0, 1, 1, 1]);
/// // Each side: 3 of the 7 edges inside, strength 7 of 14.
/// let expected = 2.0 * (3.0 / 7.0 - 0.25);
/// assert!((modularity(&g, &p, 1.0) - expected).abs() < 1e-12);
/// ```
#[track_caller]
pub fn modularity(graph: &Graph, partition: &Partition, resolution: f64) -> f64 {
    let totals = community_totals(graph, partition);
    let m = graph.total_weight();
    if m <= 0.0 {
        return 0.0;
    }
    totals.iter().map(|&(w, k, _)| w / m - resolution * (k / (2.0 * m)).powi(2)).sum()
}

/// Constant Potts Model quality of `partition` with resolution `γ`.
///
/// With `w_c` the weight of the edges inside community `c` (self-loops
/// counted once) and `n_c` its number of members:
///
/// `H = Σ_c [ w_c − γ n_c (n_c − 1) / 2 ]`
///
/// (Traag, Van Dooren and Nesterov 2011, "Narrow scope for resolution-limit-free
/// community detection"). It is not normalised: it grows with the graph.
///
/// # Arguments
///
/// * `graph`: the graph.
/// * `partition`: one community per node of `graph`.
/// * `resolution`: `γ`, the density a community must exceed to be worth keeping.
///
/// # Returns
///
/// `H`, in units of edge weight.
///
/// # Complexity
///
/// O(n + m) time, O(k) space for `k` communities.
///
/// # Panics
///
/// If `partition` does not have one entry per node of `graph`.
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{cpm, Graph, Partition};
///
/// let g = Graph::from_edges(4, [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0), (2, 3, 1.0)]);
/// let p = Partition::from_membership(vec![0, 0, 0, 1]);
/// // The triangle: 3 − 0.5·3 = 1.5; node 3 alone: 0.
/// assert_eq!(cpm(&g, &p, 0.5), 1.5);
/// ```
#[track_caller]
pub fn cpm(graph: &Graph, partition: &Partition, resolution: f64) -> f64 {
    community_totals(graph, partition)
        .iter()
        .map(|&(w, _, n)| w - resolution * n * (n - 1.0) / 2.0)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two triangles {0,1,2} and {3,4,5} joined by the edge 2–3, weight 2, and a
    /// self-loop of weight 1 on node 0.
    fn graph() -> Graph {
        crate::community::graph::two_triangles()
    }

    #[test]
    fn modularity_matches_a_hand_computation() {
        let g = graph();
        let p = Partition::from_membership(vec![0, 0, 0, 1, 1, 1]);
        // m = 6 + 2 + 1 = 9. Community A: w = 3 + 1 (loop) = 4; strengths
        // 0: 1+1+2 (loop twice) = 4, 1: 2, 2: 1+1+2 = 4, so K_A = 10.
        // Community B: w = 3; strengths 3: 4, 4: 2, 5: 2, so K_B = 8.
        // Q = 4/9 - (10/18)^2 + 3/9 - (8/18)^2.
        let expected = 4.0 / 9.0 - (10.0f64 / 18.0).powi(2) + 3.0 / 9.0 - (8.0f64 / 18.0).powi(2);
        assert!((modularity(&g, &p, 1.0) - expected).abs() < 1e-12);
        // γ = 0.5 halves the null-model term.
        let expected =
            4.0 / 9.0 - 0.5 * (10.0f64 / 18.0).powi(2) + 3.0 / 9.0 - 0.5 * (8.0f64 / 18.0).powi(2);
        assert!((modularity(&g, &p, 0.5) - expected).abs() < 1e-12);
        // All in one community: 1 - 1 = 0.
        let one = Partition::from_membership(vec![0; 6]);
        assert!(modularity(&g, &one, 1.0).abs() < 1e-12);
        assert_eq!(Quality::default().evaluate(&g, &one), modularity(&g, &one, 1.0));
    }

    #[test]
    fn cpm_matches_a_hand_computation() {
        let g = graph();
        let p = Partition::from_membership(vec![0, 0, 0, 1, 1, 1]);
        // A: 4 - γ·3, B: 3 - γ·3.
        assert!((cpm(&g, &p, 0.25) - (4.0 - 0.75 + 3.0 - 0.75)).abs() < 1e-12);
        let s = Partition::singletons(6);
        // Singletons keep only the self-loop.
        assert_eq!(cpm(&g, &s, 0.25), 1.0);
        assert_eq!(Quality::Cpm { resolution: 0.25 }.evaluate(&g, &s), 1.0);
    }

    #[test]
    fn empty_graph_has_zero_modularity() {
        let g = Graph::from_edges(3, []);
        assert_eq!(modularity(&g, &Partition::singletons(3), 1.0), 0.0);
    }

    #[test]
    #[should_panic(expected = "the partition has 2 nodes but the graph has 6")]
    fn size_mismatch_panics() {
        modularity(&graph(), &Partition::singletons(2), 1.0);
    }
}
