//! [`LevelGraph`], the graph Leiden works on at one level, and [`aggregate`],
//! which collapses each refined community into one node of the next level.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::community::graph::Graph;

/// Aggregate nodes are built in chunks of about this many adjacency entries.
///
/// A constant, not a function of the thread count, so the chunking (and with
/// it every float summation order) is the same on any number of threads.
const CHUNK_ENTRIES: usize = 1 << 15;

/// The graph of one Leiden level: CSR adjacency plus per-node aggregates.
///
/// Level 0 borrows the user's [`Graph`] (whose rows may contain self-loop
/// entries, which Leiden skips: their weight is in `self_weight`); aggregated
/// levels own their arrays and have no self-loop entries.
#[derive(Clone, Debug)]
pub(crate) struct LevelGraph<'a> {
    /// `node_count + 1` row starts into `targets`/`weights`.
    offsets: Cow<'a, [usize]>,
    /// Neighbor of each entry; `u -> v` and `v -> u` both listed with equal weight.
    targets: Cow<'a, [u32]>,
    /// Weight of each entry, `>= 0`.
    weights: Cow<'a, [f32]>,
    /// Per node: weight of its self-loop (counted once), i.e. the internal
    /// weight of the community it stands for.
    self_weight: Vec<f64>,
    /// Per node: strength (neighbor weights plus twice the self-loop).
    strength: Vec<f64>,
    /// Per node: number of original nodes it stands for.
    size: Vec<f64>,
    /// Per node: held fixed (contains a fixed original node). Empty if none is.
    fixed: Vec<bool>,
    /// `m`: total edge weight of the original graph, the same at every level.
    total_weight: f64,
}

impl<'a> LevelGraph<'a> {
    /// Level 0: the user's graph, with `fixed` nodes (each `< node_count`) held in
    /// place; per-node sums run in parallel from `parallel_threshold` nodes.
    pub(crate) fn from_graph(
        graph: &'a Graph,
        fixed: &[u32],
        parallel_threshold: usize,
    ) -> LevelGraph<'a> {
        let n = graph.node_count();
        // Per node (self-loop weight, strength); independent per node, so the
        // parallel path gives the same result.
        let sums = |u: u32| -> (f64, f64) {
            let (mut self_weight, mut strength) = (0f64, 0f64);
            for (v, w) in graph.neighbors(u) {
                if v == u {
                    self_weight = w as f64;
                    strength += 2.0 * w as f64;
                } else {
                    strength += w as f64;
                }
            }
            (self_weight, strength)
        };
        let (self_weight, strength): (Vec<f64>, Vec<f64>) = if n >= parallel_threshold {
            (0..n as u32).into_par_iter().with_min_len(1 << 12).map(sums).unzip()
        } else {
            (0..n as u32).map(sums).unzip()
        };
        let mut fixed_mask = Vec::new();
        if !fixed.is_empty() {
            fixed_mask = vec![false; n];
            for &v in fixed {
                fixed_mask[v as usize] = true;
            }
        }
        LevelGraph {
            offsets: Cow::Borrowed(graph.offsets()),
            targets: Cow::Borrowed(graph.targets()),
            weights: Cow::Borrowed(graph.weights()),
            self_weight,
            strength,
            size: vec![1.0; n],
            fixed: fixed_mask,
            total_weight: graph.total_weight(),
        }
    }

    /// Number of nodes.
    #[inline]
    pub(crate) fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of adjacency entries.
    #[inline]
    pub(crate) fn entry_count(&self) -> usize {
        self.targets.len()
    }

    /// Row starts.
    #[inline]
    pub(crate) fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Adjacency targets (may include self-loop entries at level 0: skip `u == v`).
    #[inline]
    pub(crate) fn targets(&self) -> &[u32] {
        &self.targets
    }

    /// Adjacency weights.
    #[inline]
    pub(crate) fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// The neighbors of `v` other than itself, with weights as `f64`.
    #[inline]
    pub(crate) fn neighbors(&self, v: u32) -> impl Iterator<Item = (u32, f64)> + '_ {
        let (s, e) = (self.offsets[v as usize], self.offsets[v as usize + 1]);
        self.targets[s..e]
            .iter()
            .zip(&self.weights[s..e])
            .filter(move |&(&u, _)| u != v)
            .map(|(&u, &w)| (u, w as f64))
    }

    /// Self-loop weight of each node (the internal weight it carries).
    #[inline]
    pub(crate) fn self_weights(&self) -> &[f64] {
        &self.self_weight
    }

    /// Strength of each node.
    #[inline]
    pub(crate) fn strengths(&self) -> &[f64] {
        &self.strength
    }

    /// Size (original node count) of each node.
    #[inline]
    pub(crate) fn sizes(&self) -> &[f64] {
        &self.size
    }

    /// Whether `v` is held fixed.
    #[inline]
    pub(crate) fn is_fixed(&self, v: u32) -> bool {
        !self.fixed.is_empty() && self.fixed[v as usize]
    }

    /// Whether any node is held fixed.
    #[inline]
    pub(crate) fn has_fixed(&self) -> bool {
        !self.fixed.is_empty()
    }

    /// `m`, the total edge weight of the original graph.
    #[inline]
    pub(crate) fn total_weight(&self) -> f64 {
        self.total_weight
    }

    /// This graph with its nodes renumbered: new node `i` is old node
    /// `order[i]`, and `new_of` is the inverse permutation.
    ///
    /// Rows keep their entry order, with targets renamed; per-node arrays
    /// are permuted. Leiden renumbers level 0 so that each community's
    /// nodes are consecutive: its hot loops then read neighbors' entries
    /// from a few cache lines instead of all over a large array. Rows are
    /// built in fixed blocks, in parallel when `parallel` is set, with the
    /// same result either way.
    ///
    /// # Complexity
    ///
    /// O(n + m) time and space.
    pub(crate) fn renumbered(
        &self,
        order: &[u32],
        new_of: &[u32],
        parallel: bool,
    ) -> LevelGraph<'static> {
        let n = self.node_count();
        debug_assert!(order.len() == n && new_of.len() == n);
        let old = self.offsets();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0usize);
        let mut acc = 0usize;
        for &v in order {
            acc += old[v as usize + 1] - old[v as usize];
            offsets.push(acc);
        }
        let mut targets = vec![0u32; acc];
        let mut weights = vec![0f32; acc];
        let copy_row = |i: usize, t: &mut [u32], w: &mut [f32]| {
            let v = order[i] as usize;
            let (s, e) = (old[v], old[v + 1]);
            for (k, j) in (s..e).enumerate() {
                t[k] = new_of[self.targets[j] as usize];
                w[k] = self.weights[j];
            }
        };
        let blocks = row_ranges(&offsets, RENUMBER_BLOCK_ENTRIES);
        let lens = blocks.iter().map(|&(lo, hi)| offsets[hi] - offsets[lo]);
        let parts: Vec<_> = blocks
            .iter()
            .zip(split_entries(&mut targets, &mut weights, lens))
            .map(|(&(lo, hi), (t, w))| (lo, hi, t, w))
            .collect();
        let run = |(lo, hi, t, w): (usize, usize, &mut [u32], &mut [f32])| {
            let base = offsets[lo];
            for i in lo..hi {
                let (s, e) = (offsets[i] - base, offsets[i + 1] - base);
                copy_row(i, &mut t[s..e], &mut w[s..e]);
            }
        };
        if parallel {
            parts.into_par_iter().for_each(run);
        } else {
            parts.into_iter().for_each(run);
        }
        let permute = |x: &[f64]| -> Vec<f64> { order.iter().map(|&v| x[v as usize]).collect() };
        let fixed = if self.fixed.is_empty() {
            Vec::new()
        } else {
            order.iter().map(|&v| self.fixed[v as usize]).collect()
        };
        LevelGraph {
            offsets: Cow::Owned(offsets),
            targets: Cow::Owned(targets),
            weights: Cow::Owned(weights),
            self_weight: permute(&self.self_weight),
            strength: permute(&self.strength),
            size: permute(&self.size),
            fixed,
            total_weight: self.total_weight,
        }
    }
}

/// Splits `targets` and `weights` (of one length) into consecutive parts
/// of `lens` entries each, so that each part can be filled by its own task.
fn split_entries<'s>(
    mut targets: &'s mut [u32],
    mut weights: &'s mut [f32],
    lens: impl Iterator<Item = usize>,
) -> Vec<(&'s mut [u32], &'s mut [f32])> {
    lens.map(|len| {
        let (t, t_rest) = std::mem::take(&mut targets).split_at_mut(len);
        let (w, w_rest) = std::mem::take(&mut weights).split_at_mut(len);
        (targets, weights) = (t_rest, w_rest);
        (t, w)
    })
    .collect()
}

/// Renumbered rows are copied in blocks of about this many entries.
const RENUMBER_BLOCK_ENTRIES: usize = 1 << 16;

/// Splits rows `0..n` (`offsets` has `n + 1` entries) into consecutive
/// ranges `(lo, hi)` of about `target` entries each (at least one row).
fn row_ranges(offsets: &[usize], target: usize) -> Vec<(usize, usize)> {
    let n = offsets.len() - 1;
    let mut ranges = Vec::new();
    let mut lo = 0usize;
    while lo < n {
        let goal = offsets[lo] + target;
        // First row ending after the goal, so the range holds about `target` entries.
        let hi = (offsets.partition_point(|&o| o <= goal) - 1).clamp(lo + 1, n);
        ranges.push((lo, hi));
        lo = hi;
    }
    ranges
}

/// One chunk of aggregate nodes, built independently of the others.
#[derive(Default)]
struct Chunk {
    targets: Vec<u32>,
    weights: Vec<f32>,
    row_len: Vec<usize>,
    self_weight: Vec<f64>,
    strength: Vec<f64>,
    size: Vec<f64>,
    fixed: Vec<bool>,
}

/// Summed edge weights per neighboring aggregate node, for the rows of one
/// aggregate node at a time: open addressing in a table sized to the keys
/// met (a few hundred at most on sparse graphs), so that it stays in the
/// core's cache where a dense array over all aggregate nodes would cost a
/// cache miss per entry on large levels.
#[derive(Debug)]
struct WeightMap {
    /// Key of each slot, [`WeightMap::EMPTY`] if free.
    keys: Vec<u32>,
    /// Summed weight of each slot's key.
    values: Vec<f64>,
    /// `64 - log2(keys.len())`: the hash keeps the top bits.
    shift: u32,
    /// Occupied slots, in the order their keys were first added.
    order: Vec<u32>,
}

impl WeightMap {
    const EMPTY: u32 = u32::MAX;

    fn new() -> WeightMap {
        WeightMap::with_bits(8)
    }

    fn with_bits(bits: u32) -> WeightMap {
        WeightMap {
            keys: vec![WeightMap::EMPTY; 1 << bits],
            values: vec![0.0; 1 << bits],
            shift: 64 - bits,
            order: Vec::new(),
        }
    }

    /// Adds `w` to the sum of `key` (`!= EMPTY`); a new key starts from `w`.
    #[inline]
    fn add(&mut self, key: u32, w: f64) {
        if 2 * (self.order.len() + 1) > self.keys.len() {
            self.grow();
        }
        let mask = self.keys.len() - 1;
        let mut i = ((key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize;
        loop {
            let k = self.keys[i];
            if k == key {
                self.values[i] += w;
                return;
            }
            if k == WeightMap::EMPTY {
                self.keys[i] = key;
                self.values[i] = w;
                self.order.push(i as u32);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Doubles the table, keeping the keys and their first-added order.
    fn grow(&mut self) {
        let bits = 65 - self.shift;
        let old = std::mem::replace(self, WeightMap::with_bits(bits));
        for &i in &old.order {
            self.add(old.keys[i as usize], old.values[i as usize]);
        }
    }

    /// Calls `f(key, sum)` for every key in first-added order, and empties the map.
    fn drain(&mut self, mut f: impl FnMut(u32, f64)) {
        for &i in &self.order {
            let i = i as usize;
            f(self.keys[i], self.values[i]);
            self.keys[i] = WeightMap::EMPTY;
        }
        self.order.clear();
    }
}

/// Levels with at most this many aggregate nodes sum neighbor weights in a
/// dense array (512 KiB of `f64`, which stays in a core's cache and costs
/// fewer instructions than hashing); larger ones in a [`WeightMap`].
const DENSE_MAX_AGGREGATES: usize = 1 << 16;

/// One worker's scratch for summing the weights from one aggregate node to
/// its neighbors; both kinds give the same keys, sums and order.
#[derive(Debug)]
enum Scratch {
    /// A weight per aggregate node (non-zero exactly for the `touched`
    /// ones, which may repeat a node reached only by zero-weight edges).
    Dense { weight: Vec<f64>, touched: Vec<u32> },
    /// A small hash table.
    Map(WeightMap),
}

impl Scratch {
    /// Whether this is the dense kind.
    fn is_dense(&self) -> bool {
        matches!(self, Scratch::Dense { .. })
    }

    fn new(count: usize, dense_max: usize) -> Scratch {
        if count <= dense_max {
            Scratch::Dense { weight: vec![0f64; count], touched: Vec::new() }
        } else {
            Scratch::Map(WeightMap::new())
        }
    }

    #[inline]
    fn add(&mut self, key: u32, w: f64) {
        match self {
            Scratch::Dense { weight, touched } => {
                let slot = &mut weight[key as usize];
                if *slot == 0.0 {
                    touched.push(key);
                }
                *slot += w;
            }
            Scratch::Map(map) => map.add(key, w),
        }
    }

    /// Appends every key and its sum, in first-added order, to `targets`
    /// and `weights` (from `before` on, the current row), and empties the scratch.
    fn drain(&mut self, targets: &mut Vec<u32>, weights: &mut Vec<f32>, before: usize) {
        match self {
            Scratch::Dense { weight, touched } => {
                for &d in touched.iter() {
                    let w = std::mem::replace(&mut weight[d as usize], 0.0);
                    // A zero-weight edge may touch `d` twice; its second visit reads 0.
                    if w > 0.0 || !targets[before..].contains(&d) {
                        targets.push(d);
                        weights.push(w as f32);
                    }
                }
                touched.clear();
            }
            Scratch::Map(map) => map.drain(|d, w| {
                targets.push(d);
                weights.push(w as f32);
            }),
        }
    }
}

/// Collapses `graph` by `membership` (each node's aggregate node, dense in `0..count`).
///
/// Aggregate node `c` gets the summed strength, size and self-loop weight
/// of its members plus, as self-loop, the weight of the edges between them;
/// its row lists the summed weights to the other aggregate nodes it touches,
/// in the order first met scanning its members in increasing id. Aggregate
/// nodes are built in fixed chunks, in parallel when `parallel` is set, with
/// the same result either way.
///
/// # Complexity
///
/// O(n + m) time; O(n + m') space for the `m'` aggregate entries, plus a
/// small table of the neighbors of one aggregate node per worker.
pub(crate) fn aggregate(
    graph: &LevelGraph<'_>,
    membership: &[u32],
    count: usize,
    parallel: bool,
) -> LevelGraph<'static> {
    let lone_rows = 2 * count >= graph.node_count();
    aggregate_with(graph, membership, count, parallel, DENSE_MAX_AGGREGATES, lone_rows)
}

/// An entry of [`aggregate_with`]'s `lone` array: the node's aggregate
/// node has other members.
const SHARED: u32 = u32::MAX;

/// [`aggregate`], with dense scratch up to `dense_max` aggregate nodes,
/// and with `lone_rows`, the rows of lone nodes copied (see [`build_chunk`]).
fn aggregate_with(
    graph: &LevelGraph<'_>,
    membership: &[u32],
    count: usize,
    parallel: bool,
    dense_max: usize,
    lone_rows: bool,
) -> LevelGraph<'static> {
    let n = graph.node_count();
    debug_assert_eq!(membership.len(), n);
    // Members of each aggregate node, in increasing id (counting sort).
    let mut bounds = vec![0usize; count + 1];
    for &c in membership {
        bounds[c as usize + 1] += 1;
    }
    for c in 0..count {
        bounds[c + 1] += bounds[c];
    }
    let mut cursor = bounds[..count].to_vec();
    let mut members = vec![0u32; n];
    for (v, &c) in membership.iter().enumerate() {
        members[cursor[c as usize]] = v as u32;
        cursor[c as usize] += 1;
    }
    drop(cursor);
    // Per node, its aggregate node if it is that node's only member, else
    // `SHARED` (empty without `lone_rows`; aggregate ids are below
    // `SHARED` since `count <= n < 2^32`).
    let lone: Vec<u32> = if lone_rows {
        membership
            .iter()
            .map(|&c| if bounds[c as usize + 1] - bounds[c as usize] == 1 { c } else { SHARED })
            .collect()
    } else {
        Vec::new()
    };

    // Chunks of consecutive aggregate nodes with about CHUNK_ENTRIES entries.
    let offsets = graph.offsets();
    let mut chunks: Vec<(usize, usize)> = Vec::new();
    let mut start = 0usize;
    let mut entries = 0usize;
    for c in 0..count {
        for &v in &members[bounds[c]..bounds[c + 1]] {
            entries += offsets[v as usize + 1] - offsets[v as usize];
        }
        if entries >= CHUNK_ENTRIES {
            chunks.push((start, c + 1));
            start = c + 1;
            entries = 0;
        }
    }
    if start < count {
        chunks.push((start, count));
    }

    let build = |scratch: &mut Scratch, &(lo, hi): &(usize, usize)| -> Chunk {
        build_chunk(graph, membership, &lone, &members, &bounds, lo, hi, scratch)
    };
    let new_scratch = || Scratch::new(count, dense_max);
    let built: Vec<Chunk> = if parallel {
        chunks.par_iter().map_init(new_scratch, build).collect()
    } else {
        let mut scratch = new_scratch();
        chunks.iter().map(|c| build(&mut scratch, c)).collect()
    };

    assemble(built, graph.has_fixed(), graph.total_weight(), parallel)
}

/// The level graph made of `chunks` of consecutive nodes, in order; the
/// rows are copied into place in parallel when `parallel` is set.
fn assemble(
    chunks: Vec<Chunk>,
    has_fixed: bool,
    total_weight: f64,
    parallel: bool,
) -> LevelGraph<'static> {
    let count: usize = chunks.iter().map(|c| c.row_len.len()).sum();
    let mut out_offsets = Vec::with_capacity(count + 1);
    out_offsets.push(0usize);
    let mut self_weight = Vec::with_capacity(count);
    let mut strength = Vec::with_capacity(count);
    let mut size = Vec::with_capacity(count);
    let mut fixed = Vec::with_capacity(if has_fixed { count } else { 0 });
    let mut acc = 0usize;
    for chunk in &chunks {
        for &len in &chunk.row_len {
            acc += len;
            out_offsets.push(acc);
        }
        self_weight.extend_from_slice(&chunk.self_weight);
        strength.extend_from_slice(&chunk.strength);
        size.extend_from_slice(&chunk.size);
        fixed.extend_from_slice(&chunk.fixed);
    }
    let mut targets = vec![0u32; acc];
    let mut weights = vec![0f32; acc];
    let lens = chunks.iter().map(|c| c.targets.len());
    let places: Vec<_> = chunks
        .iter()
        .zip(split_entries(&mut targets, &mut weights, lens))
        .map(|(chunk, (t, w))| (chunk, t, w))
        .collect();
    let copy = |(chunk, t, w): (&Chunk, &mut [u32], &mut [f32])| {
        t.copy_from_slice(&chunk.targets);
        w.copy_from_slice(&chunk.weights);
    };
    if parallel {
        places.into_par_iter().for_each(copy);
    } else {
        places.into_iter().for_each(copy);
    }
    drop(chunks);
    LevelGraph {
        offsets: Cow::Owned(out_offsets),
        targets: Cow::Owned(targets),
        weights: Cow::Owned(weights),
        self_weight,
        strength,
        size,
        fixed,
        total_weight,
    }
}

/// Builds aggregate nodes `lo..hi`.
///
/// The row of an aggregate node with one member `v` whose neighbors are all
/// alone in their aggregate nodes too (`lone`, if not empty, tells) is
/// `v`'s row with its targets renamed: every target is met once, so the
/// scratch would give back each weight as it is, in the same order. Deep
/// levels, where refinement merges a handful of nodes, are mostly such rows.
#[allow(clippy::too_many_arguments)]
fn build_chunk(
    graph: &LevelGraph<'_>,
    membership: &[u32],
    lone: &[u32],
    members: &[u32],
    bounds: &[usize],
    lo: usize,
    hi: usize,
    scratch: &mut Scratch,
) -> Chunk {
    let (offsets, targets, weights) = (graph.offsets(), graph.targets(), graph.weights());
    let mut chunk = Chunk::default();
    let has_fixed = graph.has_fixed();
    for c in lo..hi {
        let mut internal = 0f64;
        let (mut strength, mut size, mut fixed) = (0f64, 0f64, false);
        let own = &members[bounds[c]..bounds[c + 1]];
        if let [v] = *own
            && !lone.is_empty()
            && copy_lone_row(graph, lone, v, scratch.is_dense(), &mut chunk)
        {
            let vi = v as usize;
            // The same sums as below, for one member with no internal edge.
            internal += graph.self_weights()[vi];
            strength += graph.strengths()[vi];
            size += graph.sizes()[vi];
            fixed |= has_fixed && graph.is_fixed(v);
            chunk.self_weight.push(internal);
            chunk.strength.push(strength);
            chunk.size.push(size);
            if has_fixed {
                chunk.fixed.push(fixed);
            }
            continue;
        }
        for &v in own {
            let vi = v as usize;
            internal += graph.self_weights()[vi];
            strength += graph.strengths()[vi];
            size += graph.sizes()[vi];
            fixed |= has_fixed && graph.is_fixed(v);
            for i in offsets[vi]..offsets[vi + 1] {
                let u = targets[i];
                if u == v {
                    continue;
                }
                let d = membership[u as usize];
                let w = weights[i] as f64;
                if d as usize == c {
                    // An internal edge is seen from both ends.
                    internal += 0.5 * w;
                } else {
                    scratch.add(d, w);
                }
            }
        }
        let before = chunk.targets.len();
        scratch.drain(&mut chunk.targets, &mut chunk.weights, before);
        chunk.row_len.push(chunk.targets.len() - before);
        chunk.self_weight.push(internal);
        chunk.strength.push(strength);
        chunk.size.push(size);
        if has_fixed {
            chunk.fixed.push(fixed);
        }
    }
    chunk
}

/// Appends the row of lone node `v` (the only member of its aggregate
/// node) to `chunk` with its targets renamed, if every target is lone too,
/// and records its length; otherwise leaves `chunk` as it was and returns
/// false.
///
/// Each weight is what the scratch would give for a key met once: `0 + w`
/// in the dense scratch (which turns a `-0.0` into `0.0`), `w` in the map.
#[inline]
fn copy_lone_row(
    graph: &LevelGraph<'_>,
    lone: &[u32],
    v: u32,
    dense: bool,
    chunk: &mut Chunk,
) -> bool {
    let vi = v as usize;
    let row = graph.offsets()[vi]..graph.offsets()[vi + 1];
    let (row_t, row_w) = (&graph.targets()[row.clone()], &graph.weights()[row]);
    let before = chunk.targets.len();
    for (&u, &w) in row_t.iter().zip(row_w) {
        if u == v {
            continue;
        }
        let d = lone[u as usize];
        if d == SHARED {
            chunk.targets.truncate(before);
            chunk.weights.truncate(before);
            return false;
        }
        chunk.targets.push(d);
        chunk.weights.push(if dense { (0.0 + w as f64) as f32 } else { w });
    }
    chunk.row_len.push(chunk.targets.len() - before);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregation_keeps_totals_and_is_the_same_in_parallel() {
        let g = crate::community::graph::two_triangles();
        let level = LevelGraph::from_graph(&g, &[4], usize::MAX);
        let par = LevelGraph::from_graph(&g, &[4], 0);
        assert_eq!(par.strengths(), level.strengths());
        assert_eq!(par.self_weights(), level.self_weights());
        let membership = [0, 0, 0, 1, 1, 1];
        let agg = aggregate(&level, &membership, 2, false);
        assert_eq!(agg.node_count(), 2);
        assert_eq!(agg.self_weights(), &[4.0, 3.0]);
        assert_eq!(agg.strengths(), &[10.0, 8.0]);
        assert_eq!(agg.sizes(), &[3.0, 3.0]);
        assert!(!agg.is_fixed(0) && agg.is_fixed(1));
        assert_eq!(agg.neighbors(0).collect::<Vec<_>>(), vec![(1, 2.0)]);
        assert_eq!(agg.neighbors(1).collect::<Vec<_>>(), vec![(0, 2.0)]);
        assert_eq!(agg.total_weight(), 9.0);
        let par = aggregate(&level, &membership, 2, true);
        assert_eq!(par.targets(), agg.targets());
        assert_eq!(par.self_weights(), agg.self_weights());
    }

    #[test]
    fn dense_and_hashed_scratch_give_the_same_aggregate() {
        // Zero-weight edges included: they must give one entry either way.
        let mut edges: Vec<(u32, u32, f32)> = Vec::new();
        for u in 0..60u32 {
            for k in [1u32, 7, 13] {
                let w = if (u + k) % 5 == 0 { 0.0 } else { ((u * k) % 4) as f32 * 0.5 };
                edges.push((u, (u + k) % 60, w));
            }
        }
        let g = Graph::from_edges(60, edges);
        let level = LevelGraph::from_graph(&g, &[], usize::MAX);
        let membership: Vec<u32> = (0..60).map(|v| (v * 11) % 17).collect();
        let dense = aggregate_with(&level, &membership, 17, false, usize::MAX, false);
        let hashed = aggregate_with(&level, &membership, 17, false, 0, false);
        assert_eq!(dense.offsets(), hashed.offsets());
        assert_eq!(dense.targets(), hashed.targets());
        assert_eq!(dense.weights(), hashed.weights());
        assert_eq!(dense.self_weights(), hashed.self_weights());
        assert_eq!(dense.strengths(), hashed.strengths());
        let parallel = aggregate_with(&level, &membership, 17, true, 0, false);
        assert_eq!(parallel.targets(), hashed.targets());
    }

    /// Every array of two level graphs, bit for bit.
    fn assert_same(a: &LevelGraph<'_>, b: &LevelGraph<'_>) {
        assert_eq!(a.offsets(), b.offsets());
        assert_eq!(a.targets(), b.targets());
        let bits = |g: &LevelGraph<'_>| g.weights().iter().map(|w| w.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(a), bits(b));
        let bits64 = |x: &[f64]| x.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits64(a.self_weights()), bits64(b.self_weights()));
        assert_eq!(bits64(a.strengths()), bits64(b.strengths()));
        assert_eq!(bits64(a.sizes()), bits64(b.sizes()));
        assert_eq!(a.fixed, b.fixed);
    }

    #[test]
    fn copied_lone_rows_are_the_summed_rows() {
        // A ring with chords, self-loops and zero weights (also -0.0);
        // three pairs merged, every other node alone, so lone rows next to
        // merged nodes take the summing path and the rest are copied.
        let mut edges: Vec<(u32, u32, f32)> = Vec::new();
        for u in 0..40u32 {
            for k in [1u32, 5, 11] {
                let w = match (u + k) % 7 {
                    0 => 0.0,
                    1 => -0.0,
                    r => r as f32 * 0.37,
                };
                edges.push((u, (u + k) % 40, w));
            }
            if u % 9 == 0 {
                edges.push((u, u, 1.5));
            }
        }
        let g = Graph::from_edges(40, edges);
        let level = LevelGraph::from_graph(&g, &[3, 20], usize::MAX);
        let mut membership: Vec<u32> = Vec::new();
        let mut next = 0u32;
        for v in 0..40u32 {
            // 4 joins 3, 17 joins 16, 31 joins 30.
            if matches!(v, 4 | 17 | 31) {
                membership.push(next - 1);
            } else {
                membership.push(next);
                next += 1;
            }
        }
        let count = next as usize;
        for dense_max in [usize::MAX, 0] {
            for parallel in [false, true] {
                let summed = aggregate_with(&level, &membership, count, parallel, dense_max, false);
                let copied = aggregate_with(&level, &membership, count, parallel, dense_max, true);
                assert_same(&summed, &copied);
            }
        }
        // Nothing merged: every row copied, the graph unchanged but for the
        // self-loop entries, which move into the self weights.
        let identity: Vec<u32> = (0..40).collect();
        let copied = aggregate(&level, &identity, 40, false);
        assert_same(&aggregate_with(&level, &identity, 40, false, usize::MAX, false), &copied);
        assert_eq!(copied.entry_count(), level.entry_count() - 5);
    }

    #[test]
    fn weight_map_sums_in_first_added_order_across_growth() {
        let mut map = WeightMap::with_bits(1);
        let keys: Vec<u32> = (0..300).map(|i| (i * 7919) % 1000).collect();
        for (i, &k) in keys.iter().enumerate() {
            map.add(k, i as f64);
            map.add(k, 0.5);
        }
        let mut seen = Vec::new();
        map.drain(|k, w| seen.push((k, w)));
        let expected: Vec<(u32, f64)> =
            keys.iter().enumerate().map(|(i, &k)| (k, i as f64 + 0.5)).collect();
        assert_eq!(seen, expected);
        // Drained: empty again, and reusable.
        map.add(5, 1.0);
        let mut again = Vec::new();
        map.drain(|k, w| again.push((k, w)));
        assert_eq!(again, vec![(5, 1.0)]);
    }

    #[test]
    fn zero_weight_edges_give_one_entry() {
        let g = Graph::from_edges(3, [(0, 1, 0.0), (2, 1, 0.0)]);
        let level = LevelGraph::from_graph(&g, &[], usize::MAX);
        let agg = aggregate(&level, &[0, 1, 0], 2, false);
        assert_eq!(agg.neighbors(0).collect::<Vec<_>>(), vec![(1, 0.0)]);
        assert_eq!(agg.neighbors(1).collect::<Vec<_>>(), vec![(0, 0.0)]);
    }
}
