//! Refinement: split each community into well-connected subcommunities.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use rayon::prelude::*;

use super::aggregate::LevelGraph;
use super::partition::LevelPartition;
use super::quality::QualityFunction;
use crate::community::graph::row_blocks_mut;

/// Communities are refined in blocks of about this many nodes.
///
/// A constant, so the blocks (not that they change results: each community
/// has its own random stream) do not depend on the thread count.
const BLOCK_NODES: usize = 1 << 12;

/// The refined partition of a level, and how it nests in the partition it refines.
#[derive(Debug)]
pub(crate) struct Refined {
    /// Refined community of each node, dense in `0..count`; refined
    /// communities of the same community have consecutive ids.
    pub(crate) membership: Vec<u32>,
    /// Number of refined communities.
    pub(crate) count: usize,
    /// For each refined community, its community in the refined partition,
    /// renumbered densely in increasing id order.
    pub(crate) parent: Vec<u32>,
}

/// Per-worker scratch, sized to the community being refined.
#[derive(Default)]
struct Scratch {
    /// Refined community (a local index) of each member.
    refined: Vec<u32>,
    /// Per refined community: summed node weight.
    weight: Vec<f64>,
    /// Per refined community: weight of its edges to the rest of the community.
    external: Vec<f64>,
    /// Per refined community: member count.
    members: Vec<u32>,
    /// Per member: weight of its edges to the rest of the community.
    node_external: Vec<f64>,
    /// Per refined community: weight from the current node (dense, reset per node).
    to_refined: Vec<f64>,
    touched: Vec<u32>,
    /// Candidate moves: (refined community, gain).
    candidates: Vec<(u32, f64)>,
    order: Vec<u32>,
}

/// Refines `partition`: within each community, start from singletons and
/// merge nodes into well-connected subsets.
///
/// Follows `RefinePartition`/`MergeNodesToSubset` of Traag, Waltman and van
/// Eck (2019). Within community `S`, visited in random order, a node `v` that
/// is still a singleton and is well connected to `S`
/// (`w(v, S − v) ≥ λ x_v (X_S − x_v)`) joins a refined community `C ⊆ S`
/// that is itself well connected (`w(C, S − C) ≥ λ X_C (X_S − X_C)`) and
/// does not lower the quality, chosen at random with probability
/// proportional to `exp(gain / θ)` (its own singleton is the gain-0 choice).
/// Small `θ` is nearly greedy. Every refined community is connected, since
/// nodes only join communities they have an edge to.
///
/// Each community has its own random stream, derived from `seed` and its
/// dense index, so communities are refined independently (in parallel when
/// `parallel` is set) with the same result on any thread count.
///
/// # Complexity
///
/// O(n + m) time plus O(log) work per candidate; O(n) space.
pub(crate) fn refine<Q: QualityFunction>(
    graph: &LevelGraph<'_>,
    quality: &Q,
    partition: &LevelPartition,
    theta: f64,
    seed: u64,
    parallel: bool,
) -> Refined {
    let n = graph.node_count();
    let (community, k) = partition.dense_membership();
    // Members of each community in increasing id (counting sort), and each
    // node's position among them.
    let mut bounds = vec![0usize; k + 1];
    for &c in &community {
        bounds[c as usize + 1] += 1;
    }
    for c in 0..k {
        bounds[c + 1] += bounds[c];
    }
    let mut cursor = bounds[..k].to_vec();
    let mut members = vec![0u32; n];
    let mut position = vec![0u32; n];
    for (v, &c) in community.iter().enumerate() {
        let at = cursor[c as usize];
        members[at] = v as u32;
        position[v] = (at - bounds[c as usize]) as u32;
        cursor[c as usize] += 1;
    }
    drop(cursor);

    // Local refined label of each member, in `members` order.
    let mut local = vec![0u32; n];
    let ctx = Context { graph, quality, community: &community, position: &position, theta, seed };
    let run_block = |scratch: &mut Scratch, (block_bounds, out): (&[usize], &mut [u32])| {
        let base = block_bounds[0];
        // Communities are non-empty, so `bounds` strictly increases.
        let c0 = bounds.partition_point(|&b| b < base);
        let mut counts = Vec::with_capacity(block_bounds.len() - 1);
        for (i, w) in block_bounds.windows(2).enumerate() {
            let c = (c0 + i) as u32;
            let slice = &members[w[0]..w[1]];
            counts.push(ctx.refine_community(
                c,
                slice,
                &mut out[w[0] - base..w[1] - base],
                scratch,
            ));
        }
        counts
    };
    let blocks = community_blocks(&bounds, &mut local);
    let counts: Vec<u32> = if parallel {
        blocks.into_par_iter().map_init(Scratch::default, run_block).flatten_iter().collect()
    } else {
        let mut scratch = Scratch::default();
        blocks.into_iter().flat_map(|b| run_block(&mut scratch, b)).collect()
    };

    // Global ids: community c's refined communities follow those of c - 1.
    let mut base = Vec::with_capacity(k);
    let mut parent = Vec::new();
    let mut total = 0u32;
    for (c, &count) in counts.iter().enumerate() {
        base.push(total);
        total += count;
        parent.extend(std::iter::repeat_n(c as u32, count as usize));
    }
    let mut membership = vec![0u32; n];
    for c in 0..k {
        for at in bounds[c]..bounds[c + 1] {
            membership[members[at] as usize] = base[c] + local[at];
        }
    }
    Refined { membership, count: total as usize, parent }
}

/// Splits the per-member output into blocks of whole communities.
fn community_blocks<'a>(
    bounds: &'a [usize],
    local: &'a mut [u32],
) -> Vec<(&'a [usize], &'a mut [u32])> {
    row_blocks_mut(bounds, local, BLOCK_NODES)
}

/// What every community's refinement reads.
struct Context<'a, 'g, Q> {
    graph: &'a LevelGraph<'g>,
    quality: &'a Q,
    /// Dense community of each node.
    community: &'a [u32],
    /// Position of each node among its community's members.
    position: &'a [u32],
    theta: f64,
    seed: u64,
}

impl<Q: QualityFunction> Context<'_, '_, Q> {
    /// Refines community `c` with `members` (increasing ids), writing each
    /// member's local refined label (dense, by first member) to `out`.
    /// Returns the number of refined communities.
    fn refine_community(&self, c: u32, members: &[u32], out: &mut [u32], s: &mut Scratch) -> u32 {
        let size = members.len();
        if size == 1 {
            out[0] = 0;
            return 1;
        }
        let graph = self.graph;
        let x = self.quality.node_weights(graph);
        let lambda = self.quality.penalty(graph);
        s.refined.clear();
        s.refined.extend(0..size as u32);
        s.weight.clear();
        s.weight.extend(members.iter().map(|&v| x[v as usize]));
        s.members.clear();
        s.members.resize(size, 1);
        s.node_external.clear();
        for &v in members {
            let w: f64 = graph
                .neighbors(v)
                .filter(|&(u, _)| self.community[u as usize] == c)
                .map(|(_, w)| w)
                .sum();
            s.node_external.push(w);
        }
        s.external.clear();
        s.external.extend_from_slice(&s.node_external);
        s.to_refined.clear();
        s.to_refined.resize(size, 0.0);
        let total: f64 = s.weight.iter().sum();

        let mut rng = Pcg64::seed_from_u64(mix(self.seed, c));
        s.order.clear();
        s.order.extend(0..size as u32);
        s.order.shuffle(&mut rng);
        for oi in 0..size {
            let i = s.order[oi] as usize;
            let v = members[i];
            // Only singletons move (a node others joined stays put).
            if graph.is_fixed(v) || s.members[s.refined[i] as usize] != 1 {
                continue;
            }
            let x_v = x[v as usize];
            if s.node_external[i] < lambda * x_v * (total - x_v) {
                continue;
            }
            for (u, w) in graph.neighbors(v) {
                // Zero-weight edges are skipped so `touched` has no repeats.
                if w > 0.0 && self.community[u as usize] == c {
                    let r = s.refined[self.position[u as usize] as usize];
                    let slot = &mut s.to_refined[r as usize];
                    if *slot == 0.0 {
                        s.touched.push(r);
                    }
                    *slot += w;
                }
            }
            let own = i as u32;
            s.candidates.clear();
            s.candidates.push((own, 0.0));
            let mut max_gain = 0f64;
            for &r in &s.touched {
                let (xr, w) = (s.weight[r as usize], s.to_refined[r as usize]);
                // Only well-connected subsets.
                if r == own || s.external[r as usize] < lambda * xr * (total - xr) {
                    continue;
                }
                let gain = w - lambda * x_v * xr;
                if gain >= 0.0 {
                    s.candidates.push((r, gain));
                    max_gain = max_gain.max(gain);
                }
            }
            let chosen = choose(&s.candidates, max_gain, self.theta, &mut rng);
            if chosen != own {
                let w = s.to_refined[chosen as usize];
                let ch = chosen as usize;
                s.members[i] = 0;
                s.weight[i] = 0.0;
                s.external[i] = 0.0;
                s.members[ch] += 1;
                s.weight[ch] += x_v;
                s.external[ch] += s.node_external[i] - 2.0 * w;
                s.refined[i] = chosen;
            }
            for &r in &s.touched {
                s.to_refined[r as usize] = 0.0;
            }
            s.touched.clear();
        }
        // Dense local labels by first member; reuse `members` as the map.
        let map = &mut s.members;
        map.iter_mut().for_each(|m| *m = u32::MAX);
        let mut next = 0u32;
        for (i, o) in out.iter_mut().enumerate() {
            let r = s.refined[i] as usize;
            if map[r] == u32::MAX {
                map[r] = next;
                next += 1;
            }
            *o = map[r];
        }
        next
    }
}

/// Picks a candidate with probability proportional to `exp((gain − max) / θ)`.
fn choose(candidates: &[(u32, f64)], max_gain: f64, theta: f64, rng: &mut Pcg64) -> u32 {
    if candidates.len() == 1 {
        return candidates[0].0;
    }
    let total: f64 = candidates.iter().map(|&(_, g)| ((g - max_gain) / theta).exp()).sum();
    let mut r = rng.random::<f64>() * total;
    for &(c, g) in candidates {
        r -= ((g - max_gain) / theta).exp();
        if r < 0.0 {
            return c;
        }
    }
    // Rounding left a sliver: take the best.
    candidates.iter().rev().find(|&&(_, g)| g == max_gain).map_or(candidates[0].0, |&(c, _)| c)
}

/// A seed for community `c`'s stream: SplitMix64 of the level seed and `c`.
fn mix(seed: u64, c: u32) -> u64 {
    let mut z = seed ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::graph::Graph;
    use crate::community::leiden::quality::Modularity;

    #[test]
    fn refinement_splits_a_disconnected_community() {
        // Two triangles with no edge between them, put in one community, and
        // a 6-clique in another.
        let mut edges =
            vec![(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0), (3, 4, 1.0), (4, 5, 1.0), (3, 5, 1.0)];
        for a in 6..12 {
            for b in a + 1..12 {
                edges.push((a, b, 1.0));
            }
        }
        let g = Graph::from_edges(12, edges);
        let level = LevelGraph::from_graph(&g, &[], usize::MAX);
        let q = Modularity { resolution: 1.0 };
        let membership = vec![0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6];
        let p = LevelPartition::new(membership, q.node_weights(&level));
        for parallel in [false, true] {
            let r = refine(&level, &q, &p, 0.01, 7, parallel);
            assert_eq!(r.count, 3);
            assert_eq!(r.membership, vec![0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
            assert_eq!(r.parent, vec![0, 0, 1]);
        }
    }

    #[test]
    fn ill_connected_subsets_take_no_more_nodes() {
        // Two separate triangles form the whole graph and one community
        // (m = 6, λ = 1/12, X_S = 12). Once two nodes of a triangle pair up,
        // the pair's external weight 2 is below λ X_C (X_S − X_C) = 8/3, so
        // the third node stays alone: a pair and a singleton per triangle.
        let g = Graph::from_edges(
            6,
            [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0), (3, 4, 1.0), (4, 5, 1.0), (3, 5, 1.0)],
        );
        let level = LevelGraph::from_graph(&g, &[], usize::MAX);
        let q = Modularity { resolution: 1.0 };
        let p = LevelPartition::new(vec![0; 6], q.node_weights(&level));
        for seed in 0..10 {
            let r = refine(&level, &q, &p, 0.01, seed, false);
            assert_eq!(r.count, 4);
            let m = &r.membership;
            assert!(m[..3].iter().all(|c| !m[3..].contains(c)));
        }
    }

    #[test]
    fn choose_is_nearly_greedy_for_small_theta() {
        let mut rng = Pcg64::seed_from_u64(1);
        let c = [(0, 0.0), (1, 1.0), (2, 0.5)];
        for _ in 0..100 {
            assert_eq!(choose(&c, 1.0, 0.01, &mut rng), 1);
        }
        // Large theta: every candidate shows up.
        let mut seen = [false; 3];
        for _ in 0..200 {
            seen[choose(&c, 1.0, 100.0, &mut rng) as usize] = true;
        }
        assert_eq!(seen, [true; 3]);
    }
}
