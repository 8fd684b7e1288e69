//! The account graph: an undirected, symmetric CSR with `f32` weights and a
//! [`KindMask`] per edge; top-k selection; induced edge lists for export.

use std::time::Instant;

use rayon::prelude::*;

use crate::id::AccountId;
use crate::index::Index;

use super::project::{Edges, ProjectionStats, project};
use super::weight::{GraphConfig, KindMask, UNITS_PER_WEIGHT};

/// Accounts linked by shared indicators, as a symmetric CSR over [`AccountId`].
///
/// Every undirected edge is listed in both directions; each account's
/// neighbours are sorted by id. Weights are `f32`; the mask says which kinds
/// of indicator linked the edge.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct AccountGraph {
    /// Invariant: `offsets.len() == node_count + 1`, non-decreasing, ending at
    /// `targets.len()`; node `u`'s entries are `offsets[u]..offsets[u + 1]`.
    offsets: Vec<usize>,
    /// Neighbour ids; sorted within each node; no self-loops.
    targets: Vec<u32>,
    /// Parallel to `targets`; positive.
    weights: Vec<f32>,
    /// Parallel to `targets`.
    masks: Vec<KindMask>,
}

impl AccountGraph {
    /// Projects `index` onto the account graph.
    ///
    /// Weighted, capped projection: every indicator shared by two or more
    /// accounts links them with weight kind × specificity × time (see
    /// [`GraphConfig`]); indicators over the supernode cap link only accounts
    /// first seen on them in the same short window (after the
    /// time-windowed co-occurrence idea of synchronized-behaviour detectors
    /// such as CopyCatch, Beutel et al., WWW 2013); contributions are summed
    /// per kind with a cap, then over kinds. With [`GraphConfig::top_k`], an
    /// edge is kept only if it is among the `k` strongest of either endpoint.
    ///
    /// # Arguments
    ///
    /// * `index`: the account–indicator index.
    /// * `config`: weights, caps, windows, top-k, parallel threshold.
    ///
    /// # Returns
    ///
    /// The graph and counters of the work done (pairs emitted, pairs skipped
    /// by the cap, timings).
    ///
    /// # Complexity
    ///
    /// Time `O(Σ_i min(deg_i, cap)² + P log P + E log k)` for `P` emitted
    /// pairs and `E` edges; memory `O(P + E)`, and `O(accounts × k)` edges
    /// with top-k. The result is the same for any input order and any number
    /// of threads.
    pub(crate) fn build(index: &Index, config: &GraphConfig) -> (AccountGraph, ProjectionStats) {
        let (mut edges, mut stats) = project(index, config);
        let nodes = index.account_count();
        let parallel = edges.len() >= config.get_parallel_threshold();
        if let Some(k) = config.get_top_k() {
            let start = Instant::now();
            top_k(nodes, &mut edges, k, parallel);
            stats.top_k_time = start.elapsed();
        }
        let start = Instant::now();
        let graph = AccountGraph::from_edges(nodes, &edges);
        stats.csr_time = start.elapsed();
        stats.edges = edges.len() as u64;
        (graph, stats)
    }

    /// The symmetric CSR of `edges` over `nodes` accounts (`hydra dist`
    /// builds it from the edges its workers summed and pruned).
    pub(crate) fn from_edges(nodes: usize, edges: &Edges) -> AccountGraph {
        let mut offsets = vec![0usize; nodes + 1];
        for e in &edges.list {
            offsets[e.a as usize + 1] += 1;
            offsets[e.b as usize + 1] += 1;
        }
        for u in 0..nodes {
            offsets[u + 1] += offsets[u];
        }
        let len = offsets[nodes];
        let mut targets = vec![0u32; len];
        let mut weights = vec![0f32; len];
        let mut masks = vec![KindMask::EMPTY; len];
        let mut cursor = offsets.clone();
        // Edges sorted by (a, b): node u first receives its smaller neighbours
        // (as b, in increasing a), then its larger ones (as a, in increasing
        // b), so each list comes out sorted.
        for (e, &mask) in edges.list.iter().zip(&edges.masks) {
            let w = (e.units as f64 / UNITS_PER_WEIGHT) as f32;
            for (from, to) in [(e.a, e.b), (e.b, e.a)] {
                let slot = cursor[from as usize];
                targets[slot] = to;
                weights[slot] = w;
                masks[slot] = mask;
                cursor[from as usize] += 1;
            }
        }
        AccountGraph { offsets, targets, weights, masks }
    }

    /// Runs `f` on the graph as a [`community::Graph`](crate::community::Graph)
    /// (weights only) without copying it: the CSR arrays are lent to it and
    /// given back afterwards, so community detection needs no second copy
    /// of the entries (8 bytes per entry, twice per edge).
    pub(crate) fn with_community_graph<R>(
        &mut self,
        f: impl FnOnce(&crate::community::Graph) -> R,
    ) -> R {
        let offsets = std::mem::take(&mut self.offsets);
        let targets = std::mem::take(&mut self.targets);
        let weights = std::mem::take(&mut self.weights);
        // The invariants documented on the fields are the ones
        // `from_canonical_csr` needs (no self-loops, positive weights).
        let graph = crate::community::Graph::from_canonical_csr(offsets, targets, weights);
        let result = f(&graph);
        (self.offsets, self.targets, self.weights) = graph.into_csr();
        result
    }

    /// How many accounts (nodes), linked or not.
    pub(crate) fn node_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// How many undirected edges.
    pub(crate) fn edge_count(&self) -> usize {
        self.targets.len() / 2
    }

    /// The neighbours of `account` with edge weight and kinds, by id.
    ///
    /// # Panics
    ///
    /// If `account` is not a node of the graph.
    #[track_caller]
    pub(crate) fn neighbors(
        &self,
        account: AccountId,
    ) -> impl ExactSizeIterator<Item = (AccountId, f32, KindMask)> + '_ {
        let range = self.offsets[account.index()]..self.offsets[account.index() + 1];
        range.map(|i| (AccountId::new(self.targets[i]), self.weights[i], self.masks[i]))
    }

    /// How many neighbours `account` has.
    #[track_caller]
    pub(crate) fn degree(&self, account: AccountId) -> usize {
        self.offsets[account.index() + 1] - self.offsets[account.index()]
    }

    /// The edge between `a` and `b`, if any: weight and kinds.
    #[cfg(test)]
    pub(crate) fn edge(&self, a: AccountId, b: AccountId) -> Option<(f32, KindMask)> {
        let range = *self.offsets.get(a.index())?..*self.offsets.get(a.index() + 1)?;
        let i = self.targets[range.clone()].binary_search(&b.as_u32()).ok()? + range.start;
        Some((self.weights[i], self.masks[i]))
    }

    /// CSR offsets (`node_count + 1` entries).
    pub(crate) fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// CSR targets, both directions of every edge.
    pub(crate) fn targets(&self) -> &[u32] {
        &self.targets
    }

    /// CSR weights, parallel to [`AccountGraph::targets`].
    // Detection lends the arrays to Leiden (`with_community_graph`) instead.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// Kind masks, parallel to [`AccountGraph::targets`].
    pub(crate) fn masks(&self) -> &[KindMask] {
        &self.masks
    }

    /// The edges of the subgraph induced by `accounts` (distinct), as
    /// `(i, j, weight)` with `i < j` positions in `accounts`, sorted by
    /// `(i, j)`.
    ///
    /// # Complexity
    ///
    /// `O(n log n + Σ deg)` over the `n` accounts given.
    ///
    /// # Panics
    ///
    /// If an account is not a node of the graph.
    #[track_caller]
    pub(crate) fn induced_edges(&self, accounts: &[AccountId]) -> Vec<(u32, u32, f32)> {
        // (account, position) sorted by account, for lookups.
        let mut nodes: Vec<(AccountId, u32)> =
            accounts.iter().enumerate().map(|(i, &a)| (a, i as u32)).collect();
        nodes.sort_unstable();
        let mut edges = Vec::new();
        for &(a, i) in &nodes {
            for (b, w, _) in self.neighbors(a) {
                if b <= a {
                    continue;
                }
                if let Ok(j) = nodes.binary_search_by_key(&b, |&(x, _)| x) {
                    let j = nodes[j].1;
                    edges.push((i.min(j), i.max(j), w));
                }
            }
        }
        edges.sort_unstable_by_key(|&(i, j, _)| (i, j));
        edges
    }
}

/// Keeps an edge if it is among the `k` strongest of either endpoint
/// (by weight, ties by the smaller neighbour id).
///
/// Each node's `k`-th strongest incident edge is found by a selection
/// (introselect) over its incident edges copied into a scratch list; an edge
/// is then kept if it is at least that strong at either end. A node's edges
/// as the smaller end `a` are a run of the sorted list already; only those
/// as the larger end `b` are gathered into an incidence list.
///
/// # Complexity
///
/// `O(E)` expected time (a linear-time selection per node plus one pass over
/// the edges); memory `O(nodes)` and 4 bytes per edge besides the edges.
fn top_k(nodes: usize, edges: &mut Edges, k: usize, parallel: bool) {
    if k == 0 {
        edges.retain(|_| false);
        return;
    }
    let list = &edges.list;
    // Node u's edges as `a`: list[a_starts[u]..a_starts[u + 1]] (sorted by a).
    let mut a_starts = vec![0usize; nodes + 1];
    // Node u's edges as `b`: incident[b_starts[u]..b_starts[u + 1]].
    let mut b_starts = vec![0usize; nodes + 1];
    for e in list {
        a_starts[e.a as usize + 1] += 1;
        b_starts[e.b as usize + 1] += 1;
    }
    for u in 0..nodes {
        a_starts[u + 1] += a_starts[u];
        b_starts[u + 1] += b_starts[u];
    }
    let mut cursor = b_starts.clone();
    let mut incident = vec![0u32; list.len()];
    for (i, e) in list.iter().enumerate() {
        incident[cursor[e.b as usize]] = i as u32;
        cursor[e.b as usize] += 1;
    }
    drop(cursor);
    // Each node's weakest kept edge, as (units, neighbour) under the order
    // "stronger first, then smaller neighbour"; `None` keeps all its edges.
    // Gathering (units, neighbour) into a scratch list first keeps the
    // selection's comparisons in cache (comparing through `edges` would
    // miss the cache twice per comparison). Neighbours are distinct, so
    // the order is total and the k-th does not depend on the gathering order.
    let threshold = |scratch: &mut Vec<(u64, u32)>, u: usize| -> Option<(u64, u32)> {
        let as_a = &list[a_starts[u]..a_starts[u + 1]];
        let as_b = &incident[b_starts[u]..b_starts[u + 1]];
        if as_a.len() + as_b.len() <= k {
            return None;
        }
        scratch.clear();
        scratch.extend(as_b.iter().map(|&i| {
            let e = &list[i as usize];
            (e.units, e.a)
        }));
        scratch.extend(as_a.iter().map(|e| (e.units, e.b)));
        kth_strongest(scratch, k)
    };
    let thresholds: Vec<Option<(u64, u32)>> = if parallel {
        (0..nodes).into_par_iter().map_init(Vec::new, threshold).collect()
    } else {
        let mut scratch = Vec::new();
        (0..nodes).map(|u| threshold(&mut scratch, u)).collect()
    };
    drop(incident);
    drop(a_starts);
    drop(b_starts);
    let kept_at = |u: u32, v: u32, units: u64| kept_by(thresholds[u as usize], v, units);
    edges.retain(|e| kept_at(e.a, e.b, e.units) || kept_at(e.b, e.a, e.units));
}

/// A node's weakest kept edge under top-`k`, from its incident edges as
/// `(units, neighbour)` (reordered): the `k`-th under "stronger first,
/// then smaller neighbour", or `None` (keep all) if it has at most `k`.
/// Neighbours are distinct, so the order is total and the result does not
/// depend on the order the edges were gathered in. `k` is at least 1.
///
/// # Complexity
///
/// `O(d)` expected for `d` edges (introselect).
pub(crate) fn kth_strongest(incident: &mut [(u64, u32)], k: usize) -> Option<(u64, u32)> {
    if incident.len() <= k {
        return None;
    }
    let (_, kth, _) =
        incident.select_nth_unstable_by(k - 1, |x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    Some(*kth)
}

/// Whether a node with top-k threshold `threshold` ([`kth_strongest`])
/// keeps its edge of `units` to neighbour `v`: at least as strong as the
/// threshold.
pub(crate) fn kept_by(threshold: Option<(u64, u32)>, v: u32, units: u64) -> bool {
    match threshold {
        None => true,
        Some((t, w)) => units > t || (units == t && v <= w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, IndicatorKind};
    use crate::graph::project::Edge;

    /// Edges with a mask each, of alternating kinds (so that masks that
    /// lose step with their edges show).
    fn edges(list: &[(u32, u32, u64)]) -> Edges {
        let kinds = [IndicatorKind::Ip, IndicatorKind::Device, IndicatorKind::Payment];
        Edges {
            list: list.iter().map(|&(a, b, units)| Edge { a, b, units }).collect(),
            masks: (0..list.len()).map(|i| KindMask::of(&kinds[i % kinds.len()])).collect(),
        }
    }

    /// Top-k by its definition: every edge among the `k` strongest of
    /// either endpoint (stronger first, then the smaller neighbour), found
    /// by sorting each node's full list.
    fn top_k_by_definition(nodes: usize, edges: &Edges, k: usize) -> Edges {
        let mut incident: Vec<Vec<(u64, u32, usize)>> = vec![Vec::new(); nodes];
        for (i, e) in edges.list.iter().enumerate() {
            incident[e.a as usize].push((e.units, e.b, i));
            incident[e.b as usize].push((e.units, e.a, i));
        }
        let mut kept = vec![false; edges.len()];
        for list in &mut incident {
            list.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
            for &(_, _, i) in list.iter().take(k) {
                kept[i] = true;
            }
        }
        let mut out = edges.clone();
        let mut i = 0;
        out.retain(|_| {
            i += 1;
            kept[i - 1]
        });
        out
    }

    #[test]
    fn csr_is_symmetric_and_sorted() {
        let g = AccountGraph::from_edges(
            4,
            &edges(&[(0, 2, 1 << 20), (1, 2, 1 << 19), (2, 3, 1 << 20)]),
        );
        assert_eq!(g.node_count(), 4);
        assert_eq!(g.edge_count(), 3);
        assert_eq!(g.offsets(), [0, 1, 2, 5, 6]);
        assert_eq!(g.targets(), [2, 2, 0, 1, 3, 2]);
        assert_eq!(g.weights()[3], 0.5);
        assert_eq!(g.masks().len(), 6);
        // Each edge's mask on both of its entries: 1-2 is the second edge.
        assert_eq!(g.edge(AccountId::new(2), AccountId::new(1)).unwrap().1, g.masks()[1]);
        assert!(g.masks()[1].contains(&IndicatorKind::Device));
        assert!(g.masks()[3].contains(&IndicatorKind::Device));
        assert!(g.masks()[4].contains(&IndicatorKind::Payment));
        let n: Vec<u32> = g.neighbors(AccountId::new(2)).map(|(a, _, _)| a.as_u32()).collect();
        assert_eq!(n, [0, 1, 3]);
        assert_eq!(g.degree(AccountId::new(2)), 3);
        assert_eq!(g.edge(AccountId::new(1), AccountId::new(2)).unwrap().0, 0.5);
        assert_eq!(g.edge(AccountId::new(2), AccountId::new(1)).unwrap().0, 0.5);
        assert!(g.edge(AccountId::new(0), AccountId::new(1)).is_none());
        assert!(g.edge(AccountId::new(9), AccountId::new(1)).is_none());
    }

    #[test]
    fn lent_community_graph_is_from_csr_s_and_comes_back() {
        let mut g = AccountGraph::from_edges(
            5,
            &edges(&[(0, 2, 3 << 18), (1, 2, 1 << 19), (2, 3, 5 << 17), (3, 4, 7)]),
        );
        let before = g.clone();
        let reference = crate::community::Graph::from_csr(
            g.offsets().to_vec(),
            g.targets().to_vec(),
            g.weights().to_vec(),
        )
        .unwrap();
        let lent = g.with_community_graph(|c| {
            assert_eq!(c.neighbors(3).count(), 2);
            c.clone()
        });
        assert_eq!(lent, reference);
        assert_eq!(lent.total_weight().to_bits(), reference.total_weight().to_bits());
        assert_eq!(g, before);
    }

    #[test]
    fn top_k_keeps_the_strongest_of_either_endpoint() {
        // A star: hub 0 with leaves 1..=4 of weights 4,3,2,2 (in units), and
        // a weak edge 3-4.
        let star = edges(&[(0, 1, 4), (0, 2, 3), (0, 3, 2), (0, 4, 2), (3, 4, 1)]);
        let mut kept = star.clone();
        top_k(5, &mut kept, 1, false);
        // Hub keeps 0-1; leaf 2 keeps 0-2; leaf 3 keeps 0-3 (2 > 1); leaf 4
        // keeps 0-4; the weak edge 3-4 is nobody's best.
        assert_eq!(kept.list, star.list[..4]);
        assert_eq!(kept.masks, star.masks[..4]);
        // Ties broken by the smaller neighbour: with k = 3 the hub keeps 1, 2, 3.
        let mut kept = edges(&[(0, 1, 4), (0, 2, 3), (0, 3, 2), (0, 4, 2)]);
        top_k(5, &mut kept, 3, true);
        assert_eq!(kept.len(), 4, "leaf 4 still keeps its only edge");
        let mut kept = star.clone();
        top_k(5, &mut kept, 0, false);
        assert_eq!((kept.list.len(), kept.masks.len()), (0, 0));
        let mut kept = star.clone();
        top_k(5, &mut kept, 10, false);
        assert_eq!(kept, star);
    }

    #[test]
    fn top_k_matches_its_definition_on_random_graphs() {
        use rand::{RngExt, SeedableRng};
        for seed in 0..20u64 {
            let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
            let nodes = rng.random_range(2..40usize);
            let mut list = Vec::new();
            for a in 0..nodes as u32 {
                for b in a + 1..nodes as u32 {
                    if rng.random_bool(0.3) {
                        // Few distinct weights, so that ties are common.
                        list.push((a, b, rng.random_range(1..5u64)));
                    }
                }
            }
            let all = edges(&list);
            for k in [1, 2, 3, 5, 8] {
                let expected = top_k_by_definition(nodes, &all, k);
                for parallel in [false, true] {
                    let mut kept = all.clone();
                    top_k(nodes, &mut kept, k, parallel);
                    assert_eq!(kept, expected, "seed {seed}, k {k}, parallel {parallel}");
                }
            }
        }
    }

    #[test]
    fn induced_edges_are_the_induced_subgraph() {
        let events = vec![
            Event::observe(0, "a", IndicatorKind::Payment, "p"),
            Event::observe(0, "b", IndicatorKind::Payment, "p"),
            Event::observe(0, "c", IndicatorKind::Payment, "p"),
        ];
        let index = Index::from_events(&events).unwrap();
        let (g, _) = AccountGraph::build(&index, &GraphConfig::new());
        assert_eq!(g.edge_count(), 3);
        // c first, then a.
        let ids = [AccountId::new(2), AccountId::new(0)];
        let edges = g.induced_edges(&ids);
        assert_eq!(edges.len(), 1);
        assert_eq!((edges[0].0, edges[0].1), (0, 1));
        let w = edges[0].2;
        assert!((w - 1.0 / (std::f64::consts::E + 1.0).ln() as f32).abs() < 1e-5);
        let all = [AccountId::new(0), AccountId::new(1), AccountId::new(2)];
        assert_eq!(g.induced_edges(&all).len(), 3);
    }
}
