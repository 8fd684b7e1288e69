//! [`connected_components`]: union-find over the edges.

use super::graph::Graph;
use super::partition::Partition;

/// Groups the nodes of `graph` into connected components.
///
/// Union-find over the edges with union by index (the smaller root wins) and
/// path halving (Tarjan and van Leeuwen 1984, "Worst-case analysis of set
/// union algorithms"). Every edge counts, whatever its weight, including
/// zero; self-loops are ignored. Useful as a fast first pass: run it on the
/// graph of hard links only, or to split a graph before [`leiden`](fn@super::leiden).
///
/// # Arguments
///
/// * `graph`: the graph.
///
/// # Returns
///
/// A [`Partition`] with one community per component, numbered by smallest member.
///
/// # Complexity
///
/// O(n + m α(n)) time, O(n) space.
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{connected_components, Graph};
///
/// let g = Graph::from_edges(5, [(0, 1, 1.0), (3, 4, 0.5), (1, 0, 1.0)]);
/// let p = connected_components(&g);
/// assert_eq!(p.membership(), &[0, 0, 1, 2, 2]);
/// ```
pub fn connected_components(graph: &Graph) -> Partition {
    let n = graph.node_count();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    for u in 0..n as u32 {
        for (v, _) in graph.neighbors(u) {
            // Each edge is listed in both rows; one direction suffices.
            if v > u {
                union(&mut parent, u, v);
            }
        }
    }
    let roots: Vec<u32> = (0..n as u32).map(|u| find(&mut parent, u)).collect();
    Partition::from_membership(roots)
}

/// The root of `x`'s set, halving the path on the way.
#[inline]
pub(crate) fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let grand = parent[parent[x as usize] as usize];
        parent[x as usize] = grand;
        x = grand;
    }
    x
}

/// Merges the sets of `a` and `b`; the smaller root becomes the root.
#[inline]
pub(crate) fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra < rb {
        parent[rb as usize] = ra;
    } else if rb < ra {
        parent[ra as usize] = rb;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_components_and_ignores_self_loops() {
        let g = Graph::from_edges(7, [(5, 6, 1.0), (0, 4, 1.0), (4, 2, 0.0), (3, 3, 1.0)]);
        let p = connected_components(&g);
        assert_eq!(p.membership(), &[0, 1, 0, 2, 0, 3, 3]);
    }

    #[test]
    fn long_path_is_one_component() {
        let n = 10_000u32;
        let g = Graph::from_edges(n as usize, (1..n).rev().map(|u| (u - 1, u, 1.0)));
        let p = connected_components(&g);
        assert_eq!(p.community_count(), 1);
    }

    #[test]
    fn empty_graph() {
        assert_eq!(connected_components(&Graph::from_edges(0, [])).community_count(), 0);
        assert_eq!(connected_components(&Graph::from_edges(3, [])).community_count(), 3);
    }
}
