//! [`Graph`]: an undirected weighted graph in compressed sparse row form.

use rayon::prelude::*;

use crate::error::{Error, Result};

/// Rows at least this long in total are sorted in parallel when building a graph.
///
/// Sorting rows is order-independent (each row is sorted on its own), so the
/// result is the same whichever path runs; the threshold only avoids thread
/// overhead on small graphs.
const PARALLEL_ENTRIES: usize = 1 << 16;

/// An undirected edge `(u, v, weight)`, as the builders take it.
type Edge = (u32, u32, f32);

/// A row entry `(target, weight)`, as the builders fill it.
type Entry = (u32, f32);

/// Calls `f(u - lo, (v, w))` for every end `u` in `lo..hi` of every edge
/// `(u, v, w)` of `chunks`, in edge order (a self-loop once): the entries of
/// rows `lo..hi` as the builders fill them.
#[inline]
fn for_each_end(chunks: &[Vec<Edge>], lo: usize, hi: usize, mut f: impl FnMut(usize, Entry)) {
    for &(u, v, w) in chunks.iter().flatten() {
        if (lo..hi).contains(&(u as usize)) {
            f(u as usize - lo, (v, w));
        }
        if u != v && (lo..hi).contains(&(v as usize)) {
            f(v as usize - lo, (u, w));
        }
    }
}

/// An undirected graph with `f32` edge weights in compressed sparse row (CSR) form.
///
/// Nodes are the dense ids `0..node_count()`. Every edge `{u, v}` with `u != v`
/// is listed twice, once in the row of `u` and once in the row of `v`; a
/// self-loop `{u, u}` is listed once, in the row of `u`. Rows are sorted by
/// target and hold each target at most once (parallel edges are summed when
/// the graph is built), so the graph does not depend on the order edges were
/// given in.
///
/// Weights are finite and non-negative. The [strength](Graph::strength) of a
/// node is the sum of the weights of its edges with a self-loop counted twice,
/// so the strengths sum to twice the [total weight](Graph::total_weight), the
/// usual convention for modularity.
///
/// # Examples
///
/// ```
/// use hydra_detect::community::Graph;
///
/// // A triangle plus a self-loop on node 3, which hangs off node 2.
/// let g = Graph::from_edges(4, [(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0), (2, 3, 2.0), (3, 3, 0.5)]);
/// assert_eq!(g.node_count(), 4);
/// assert_eq!(g.edge_count(), 5);
/// assert_eq!(g.total_weight(), 5.5);
/// assert_eq!(g.neighbors(3).collect::<Vec<_>>(), vec![(2, 2.0), (3, 0.5)]);
/// assert_eq!(g.strength(3), 3.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// `node_count + 1` row starts; `offsets[0] == 0`, non-decreasing, last == `targets.len()`.
    offsets: Vec<usize>,
    /// Row-concatenated neighbor ids, each `< node_count`, strictly increasing within a row.
    targets: Vec<u32>,
    /// Weight of each entry of `targets`; finite, `>= 0`, equal for `u -> v` and `v -> u`.
    weights: Vec<f32>,
    /// Number of self-loop entries (each listed once).
    self_loops: usize,
    /// Sum of the weights of the undirected edges, self-loops counted once.
    total_weight: f64,
}

impl Graph {
    /// Builds a graph on `node_count` nodes from undirected edges `(u, v, weight)`.
    ///
    /// Each edge may be given in either direction; parallel edges (including
    /// `(u, v)` and `(v, u)`) are merged by summing their weights, in an order
    /// that does not depend on the input order. `(u, u, w)` is a self-loop.
    ///
    /// # Complexity
    ///
    /// O(n + m log d) time for `m` edges and maximum degree `d`, O(n + m) space.
    ///
    /// # Panics
    ///
    /// If an endpoint is `>= node_count`, a weight is negative, NaN or
    /// infinite, or `node_count` does not fit in a `u32`. Use
    /// [`Graph::try_from_edges`] for edges that come from input.
    #[track_caller]
    pub fn from_edges(
        node_count: usize,
        edges: impl IntoIterator<Item = (u32, u32, f32)>,
    ) -> Graph {
        match Graph::try_from_edges(node_count, edges) {
            Ok(g) => g,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Graph::from_edges`], but returns an error instead of panicking.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) error naming
    /// the first offending edge if an endpoint is out of range or a weight is
    /// negative, NaN or infinite, or if `node_count` does not fit in a `u32`.
    pub fn try_from_edges(
        node_count: usize,
        edges: impl IntoIterator<Item = (u32, u32, f32)>,
    ) -> Result<Graph> {
        Graph::try_from_edge_chunks(node_count, vec![edges.into_iter().collect()])
    }

    /// [`Graph::try_from_edges`] over edges given in consecutive chunks (the
    /// edge-list reader's, in file order), which need not be copied into one
    /// vector; they are freed before the rows are sorted.
    ///
    /// From [`PARALLEL_ENTRIES`] edges the build runs on the rayon pool:
    /// edges are validated in parallel pieces (the first bad edge in order
    /// is reported), and the nodes are cut into one range per thread, each
    /// counting the degrees of, then filling, its own rows while reading all
    /// edges in order. Every row is thus filled in edge order whatever the
    /// number of ranges, and the graph is identical on any thread count,
    /// and to the sequential build.
    ///
    /// # Complexity
    ///
    /// O(n + t·m + m log d) work for `t` threads (each reads every edge;
    /// the random writes to the rows, which dominate, are shared out), O(n + m) space.
    pub(crate) fn try_from_edge_chunks(node_count: usize, chunks: Vec<Vec<Edge>>) -> Result<Graph> {
        check_node_count(node_count)?;
        let edge_count: usize = chunks.iter().map(Vec::len).sum();
        let parallel = edge_count >= PARALLEL_ENTRIES;
        // Pieces of at most PARALLEL_ENTRIES edges, with the index of their first edge.
        let mut pieces: Vec<(usize, &[Edge])> = Vec::new();
        let mut first = 0usize;
        for chunk in &chunks {
            for piece in chunk.chunks(PARALLEL_ENTRIES) {
                pieces.push((first, piece));
                first += piece.len();
            }
        }
        let check = |&(first, piece): &(usize, &[Edge])| -> Result<()> {
            for (i, &(u, v, w)) in piece.iter().enumerate() {
                let i = first + i;
                for x in [u, v] {
                    if x as usize >= node_count {
                        return Err(Error::invalid_argument(format!(
                            "edge {i} ({u}, {v}): node {x} is out of range (the graph has {node_count} nodes)"
                        )));
                    }
                }
                check_weight(w, || format!("edge {i} ({u}, {v})"))?;
            }
            Ok(())
        };
        if parallel {
            // `find_first` keeps the reported error independent of scheduling.
            pieces.par_iter().map(check).find_first(|r| r.is_err()).unwrap_or(Ok(()))?;
        } else {
            pieces.iter().try_for_each(check)?;
        }
        // Node ranges, one per thread; the rows do not depend on how many.
        let parts = if parallel { rayon::current_num_threads().max(1) } else { 1 };
        let ranges: Vec<(usize, usize)> =
            (0..parts).map(|k| (node_count * k / parts, node_count * (k + 1) / parts)).collect();
        let count = |(lo, hi): (usize, usize)| -> Vec<usize> {
            let mut degree = vec![0usize; hi - lo];
            for_each_end(&chunks, lo, hi, |row, _| degree[row] += 1);
            degree
        };
        let degrees: Vec<Vec<usize>> = if parallel {
            ranges.par_iter().copied().map(count).collect()
        } else {
            ranges.iter().copied().map(count).collect()
        };
        let mut offsets = Vec::with_capacity(node_count + 1);
        let mut acc = 0usize;
        offsets.push(0);
        for d in degrees.iter().flatten() {
            acc += d;
            offsets.push(acc);
        }
        drop(degrees);
        let mut entries = vec![(0u32, 0f32); acc];
        // Each range's rows, as one slice of `entries`.
        let mut blocks: Vec<(usize, &[usize], &mut [Entry])> = Vec::with_capacity(parts);
        let mut rest = &mut entries[..];
        for &(lo, hi) in &ranges {
            let (block, tail) = std::mem::take(&mut rest).split_at_mut(offsets[hi] - offsets[lo]);
            rest = tail;
            blocks.push((lo, &offsets[lo..=hi], block));
        }
        let fill = |(lo, rows, block): (usize, &[usize], &mut [Entry])| {
            let hi = lo + rows.len() - 1;
            let mut cursor: Vec<usize> =
                rows[..rows.len() - 1].iter().map(|&o| o - rows[0]).collect();
            for_each_end(&chunks, lo, hi, |row, entry| {
                block[cursor[row]] = entry;
                cursor[row] += 1;
            });
        };
        if parallel {
            blocks.into_par_iter().for_each(fill);
        } else {
            blocks.into_iter().for_each(fill);
        }
        drop(chunks);
        Graph::from_entries(offsets, entries)
    }

    /// Builds a graph from CSR arrays that list every edge in both directions.
    ///
    /// Row `u` is `targets[offsets[u]..offsets[u + 1]]` with the matching
    /// `weights`. Every entry `u -> v` with `u != v` must have a matching
    /// `v -> u` entry of the same total weight; a self-loop is listed once.
    /// Rows need not be sorted; repeated targets in a row are summed.
    ///
    /// # Complexity
    ///
    /// O(n + m log d) time (rows already sorted: O(n + m log d) for the
    /// symmetry check only), O(n + m) space.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) error if
    /// `offsets` is empty, does not start at 0, decreases, or does not end at
    /// `targets.len()`; if `weights.len() != targets.len()`; if a target is out
    /// of range; if a weight is negative, NaN or infinite; or if an entry has no
    /// reverse entry of equal weight.
    pub fn from_csr(offsets: Vec<usize>, targets: Vec<u32>, weights: Vec<f32>) -> Result<Graph> {
        let Some((&first, _)) = offsets.split_first() else {
            return Err(Error::invalid_argument("csr offsets are empty (expected node_count + 1)"));
        };
        let node_count = offsets.len() - 1;
        check_node_count(node_count)?;
        if first != 0 {
            return Err(Error::invalid_argument(format!("csr offsets[0] is {first} (expected 0)")));
        }
        if let Some(u) = offsets.windows(2).position(|w| w[0] > w[1]) {
            return Err(Error::invalid_argument(format!(
                "csr offsets decrease at node {u}: {} > {}",
                offsets[u],
                offsets[u + 1]
            )));
        }
        if offsets[node_count] != targets.len() {
            return Err(Error::invalid_argument(format!(
                "csr offsets end at {} but there are {} targets",
                offsets[node_count],
                targets.len()
            )));
        }
        if weights.len() != targets.len() {
            return Err(Error::invalid_argument(format!(
                "csr has {} weights for {} targets",
                weights.len(),
                targets.len()
            )));
        }
        for u in 0..node_count {
            for i in offsets[u]..offsets[u + 1] {
                let v = targets[i];
                if v as usize >= node_count {
                    return Err(Error::invalid_argument(format!(
                        "csr entry {i} ({u} -> {v}): node {v} is out of range (the graph has {node_count} nodes)"
                    )));
                }
                check_weight(weights[i], || format!("csr entry {i} ({u} -> {v})"))?;
            }
        }
        let entries: Vec<(u32, f32)> = targets.into_iter().zip(weights).collect();
        let graph = Graph::from_entries(offsets, entries)?;
        graph.check_symmetric()?;
        Ok(graph)
    }

    /// Takes CSR arrays that already are what [`Graph::from_csr`] would make
    /// of them: rows sorted by target without repeats, every entry mirrored
    /// with the same weight, weights finite and non-negative, targets in
    /// range (the account graph's invariants). Skips `from_csr`'s checks,
    /// row sorting, merging and symmetry check (O(m log d) and two copies of
    /// the entries); the totals are summed in the same order, so the graph is
    /// bit-for-bit the one `from_csr` returns.
    ///
    /// The invariants are checked in debug builds only; callers guarantee them.
    pub(crate) fn from_canonical_csr(
        offsets: Vec<usize>,
        targets: Vec<u32>,
        weights: Vec<f32>,
    ) -> Graph {
        let node_count = offsets.len().saturating_sub(1);
        debug_assert!(offsets.first() == Some(&0) && offsets.last() == Some(&targets.len()));
        debug_assert_eq!(weights.len(), targets.len());
        let mut self_loops = 0usize;
        let mut total2 = 0f64;
        for u in 0..node_count {
            let (start, end) = (offsets[u], offsets[u + 1]);
            debug_assert!(targets[start..end].windows(2).all(|w| w[0] < w[1]));
            for i in start..end {
                let w = weights[i];
                debug_assert!(w.is_finite() && w >= 0.0);
                if targets[i] as usize == u {
                    self_loops += 1;
                    total2 += 2.0 * w as f64;
                } else {
                    total2 += w as f64;
                }
            }
        }
        let graph = Graph { offsets, targets, weights, self_loops, total_weight: total2 / 2.0 };
        debug_assert!(graph.check_symmetric().is_ok());
        graph
    }

    /// The CSR arrays back, as [`Graph::from_canonical_csr`] took them.
    pub(crate) fn into_csr(self) -> (Vec<usize>, Vec<u32>, Vec<f32>) {
        (self.offsets, self.targets, self.weights)
    }

    /// Sorts and merges each row of validated entries and computes the totals.
    ///
    /// # Errors
    ///
    /// An invalid-argument error if the weights of a repeated edge sum
    /// beyond the largest `f32` (each weight being finite).
    fn from_entries(offsets: Vec<usize>, mut entries: Vec<(u32, f32)>) -> Result<Graph> {
        let node_count = offsets.len() - 1;
        // Sort by target, then by weight (non-negative, so bit order is numeric
        // order): duplicates are then summed in an order fixed by their values.
        let sort_row = |row: &mut [(u32, f32)]| {
            if row.windows(2).any(|w| w[0].0 >= w[1].0) {
                row.sort_unstable_by_key(|&(t, w)| (t, w.to_bits()));
            }
        };
        if entries.len() >= PARALLEL_ENTRIES {
            row_blocks_mut(&offsets, &mut entries, PARALLEL_ENTRIES / 4)
                .into_par_iter()
                .for_each(|(rows, block)| for_each_row(rows, block, sort_row));
        } else {
            for_each_row(&offsets, &mut entries, sort_row);
        }
        // Merge repeated targets (summing in f64) and compact in place.
        let mut new_offsets = Vec::with_capacity(node_count + 1);
        new_offsets.push(0);
        let mut out = 0usize;
        let mut self_loops = 0usize;
        let mut total2 = 0f64;
        for u in 0..node_count {
            let (start, end) = (offsets[u], offsets[u + 1]);
            let mut i = start;
            while i < end {
                let t = entries[i].0;
                let mut sum = entries[i].1 as f64;
                i += 1;
                while i < end && entries[i].0 == t {
                    sum += entries[i].1 as f64;
                    i += 1;
                }
                let w = sum as f32;
                if w.is_infinite() {
                    return Err(Error::invalid_argument(format!(
                        "edge ({u}, {t}) is listed more than once and its weights sum to {sum:e}, \
                         beyond the largest weight {:e}: scale the weights down",
                        f32::MAX
                    )));
                }
                entries[out] = (t, w);
                out += 1;
                if t as usize == u {
                    self_loops += 1;
                    total2 += 2.0 * w as f64;
                } else {
                    total2 += w as f64;
                }
            }
            new_offsets.push(out);
        }
        entries.truncate(out);
        let (targets, weights) = if out >= PARALLEL_ENTRIES {
            (entries.par_iter().map(|e| e.0).collect(), entries.par_iter().map(|e| e.1).collect())
        } else {
            entries.into_iter().unzip()
        };
        Ok(Graph { offsets: new_offsets, targets, weights, self_loops, total_weight: total2 / 2.0 })
    }

    /// Checks that every entry `u -> v` has a reverse entry `v -> u` of equal weight.
    fn check_symmetric(&self) -> Result<()> {
        let check = |u: usize| -> Result<()> {
            for (v, w) in self.neighbors(u as u32) {
                let row = self.row_targets(v);
                let ok = match row.binary_search(&(u as u32)) {
                    Ok(j) => self.row_weights(v)[j] == w,
                    Err(_) => false,
                };
                if !ok {
                    return Err(Error::invalid_argument(format!(
                        "csr is not symmetric: entry {u} -> {v} has weight {w} but {v} -> {u} {}",
                        match row.binary_search(&(u as u32)) {
                            Ok(j) => format!("has weight {}", self.row_weights(v)[j]),
                            Err(_) => "is missing".to_string(),
                        }
                    )));
                }
            }
            Ok(())
        };
        if self.targets.len() >= PARALLEL_ENTRIES {
            // `find_first` keeps the reported error independent of scheduling.
            let bad = (0..self.node_count()).into_par_iter().map(check).find_first(|r| r.is_err());
            bad.unwrap_or(Ok(()))
        } else {
            (0..self.node_count()).try_for_each(check)
        }
    }

    /// Number of nodes.
    #[inline]
    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of undirected edges, each self-loop counted once.
    #[inline]
    pub fn edge_count(&self) -> usize {
        (self.targets.len() + self.self_loops) / 2
    }

    /// Sum of the weights of the undirected edges, each self-loop counted once.
    ///
    /// This is `m` in the modularity formula; the node strengths sum to `2m`.
    #[inline]
    pub fn total_weight(&self) -> f64 {
        self.total_weight
    }

    /// The neighbors of `u` with edge weights, in increasing neighbor order.
    ///
    /// A self-loop appears once, as `(u, weight)`.
    ///
    /// # Panics
    ///
    /// If `u >= node_count()`.
    #[inline]
    #[track_caller]
    pub fn neighbors(&self, u: u32) -> impl ExactSizeIterator<Item = (u32, f32)> + '_ {
        self.row_targets(u).iter().copied().zip(self.row_weights(u).iter().copied())
    }

    /// Number of neighbor entries of `u` (a self-loop counts once).
    ///
    /// # Panics
    ///
    /// If `u >= node_count()`.
    #[inline]
    #[track_caller]
    pub fn degree(&self, u: u32) -> usize {
        let u = u as usize;
        self.offsets[u + 1] - self.offsets[u]
    }

    /// Weighted degree of `u`: the sum of its edge weights, a self-loop counted twice.
    ///
    /// # Panics
    ///
    /// If `u >= node_count()`.
    #[track_caller]
    pub fn strength(&self, u: u32) -> f64 {
        self.neighbors(u).map(|(v, w)| if v == u { 2.0 * w as f64 } else { w as f64 }).sum()
    }

    /// Each undirected edge once, as `(u, v, weight)` with `u <= v`, in `(u, v)` order.
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        (0..self.node_count() as u32).flat_map(move |u| {
            self.neighbors(u).filter(move |&(v, _)| u <= v).map(move |(v, w)| (u, v, w))
        })
    }

    /// The CSR row starts: `node_count() + 1` values, row `u` is `offsets[u]..offsets[u + 1]`.
    #[inline]
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// The CSR targets, rows concatenated, each row sorted and without repeats.
    #[inline]
    pub fn targets(&self) -> &[u32] {
        &self.targets
    }

    /// The CSR weights, matching [`Graph::targets`].
    #[inline]
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    #[inline]
    #[track_caller]
    fn row_targets(&self, u: u32) -> &[u32] {
        let u = u as usize;
        &self.targets[self.offsets[u]..self.offsets[u + 1]]
    }

    #[inline]
    #[track_caller]
    fn row_weights(&self, u: u32) -> &[f32] {
        let u = u as usize;
        &self.weights[self.offsets[u]..self.offsets[u + 1]]
    }
}

fn check_node_count(node_count: usize) -> Result<()> {
    // u32::MAX stays free as a sentinel for internal arrays.
    if node_count >= u32::MAX as usize {
        return Err(Error::invalid_argument(format!(
            "{node_count} nodes do not fit in u32 ids (at most {})",
            u32::MAX - 1
        )));
    }
    Ok(())
}

fn check_weight(w: f32, place: impl FnOnce() -> String) -> Result<()> {
    if !w.is_finite() || w < 0.0 {
        return Err(Error::invalid_argument(format!(
            "{}: weight {w} is not a finite non-negative number",
            place()
        )));
    }
    Ok(())
}

/// Calls `f` on each row of `entries` delimited by `offsets` (relative to `offsets[0]`).
pub(crate) fn for_each_row<T>(offsets: &[usize], entries: &mut [T], mut f: impl FnMut(&mut [T])) {
    let base = offsets[0];
    for w in offsets.windows(2) {
        f(&mut entries[w[0] - base..w[1] - base]);
    }
}

/// Splits `entries` into blocks of whole rows of about `target` entries each.
///
/// Returns `(row offsets of the block, block entries)`; the offsets slice has
/// one more element than the block has rows and is absolute (not rebased).
pub(crate) fn row_blocks_mut<'a, T>(
    offsets: &'a [usize],
    mut entries: &'a mut [T],
    target: usize,
) -> Vec<(&'a [usize], &'a mut [T])> {
    let n = offsets.len() - 1;
    let mut blocks = Vec::new();
    let mut row = 0usize;
    while row < n {
        let start = offsets[row];
        let mut end_row = row + 1;
        while end_row < n && offsets[end_row + 1] - start <= target.max(1) {
            end_row += 1;
        }
        let len = offsets[end_row] - start;
        let (block, rest) = std::mem::take(&mut entries).split_at_mut(len);
        entries = rest;
        blocks.push((&offsets[row..=end_row], block));
        row = end_row;
    }
    blocks
}

/// Test fixture: two triangles {0,1,2} and {3,4,5} joined by the edge 2–3 of
/// weight 2, and a self-loop of weight 1 on node 0.
#[cfg(test)]
pub(crate) fn two_triangles() -> Graph {
    Graph::from_edges(
        6,
        [
            (0, 1, 1.0),
            (1, 2, 1.0),
            (0, 2, 1.0),
            (3, 4, 1.0),
            (4, 5, 1.0),
            (3, 5, 1.0),
            (2, 3, 2.0),
            (0, 0, 1.0),
        ],
    )
}

/// Test fixture: `k` cliques of `size` nodes (unit weights), each joined to
/// the next by one bridge of weight `bridge`; node `v` is in clique `v / size`.
#[cfg(test)]
pub(crate) fn ring_of_cliques(k: u32, size: u32, bridge: f32) -> Graph {
    let mut edges = Vec::new();
    for c in 0..k {
        let base = c * size;
        for a in 0..size {
            for b in a + 1..size {
                edges.push((base + a, base + b, 1.0));
            }
        }
        edges.push((base, ((c + 1) % k) * size + 1, bridge));
    }
    Graph::from_edges((k * size) as usize, edges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_parallel_build_is_the_same_graph_on_any_thread_count() {
        use rand::{RngExt, SeedableRng};
        // Seed 17; more edges than PARALLEL_ENTRIES, with repeats and self-loops.
        let mut rng = rand_pcg::Pcg64::seed_from_u64(17);
        let n = 3000u32;
        let edges: Vec<(u32, u32, f32)> = (0..PARALLEL_ENTRIES + 5000)
            .map(|_| {
                let u = rng.random_range(0..n);
                let v = if rng.random_bool(0.01) { u } else { rng.random_range(0..n) };
                (u, v, [0.5f32, 1.0, 2.25][rng.random_range(0..3)])
            })
            .collect();
        // Reference: rows filled in another order (reversed), sorted and merged by `from_csr`.
        let mut rows = vec![Vec::new(); n as usize];
        for &(u, v, w) in &edges {
            rows[u as usize].push((v, w));
            if u != v {
                rows[v as usize].push((u, w));
            }
        }
        let mut offsets = vec![0usize];
        let (mut targets, mut weights) = (Vec::new(), Vec::new());
        for row in &rows {
            for &(t, w) in row.iter().rev() {
                targets.push(t);
                weights.push(w);
            }
            offsets.push(targets.len());
        }
        let reference = Graph::from_csr(offsets, targets, weights).unwrap();
        let chunks: Vec<Vec<(u32, u32, f32)>> = vec![
            edges[..1000].to_vec(),
            Vec::new(),
            edges[1000..50_000].to_vec(),
            edges[50_000..].to_vec(),
        ];
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let chunked = pool.install(|| Graph::try_from_edge_chunks(n as usize, chunks.clone()));
            assert_eq!(chunked.unwrap(), reference, "{threads} threads");
            let whole = pool.install(|| Graph::from_edges(n as usize, edges.iter().copied()));
            assert_eq!(whole, reference, "{threads} threads");
        }
        // The first bad edge in order is reported, by its index over all chunks.
        let mut bad = chunks.clone();
        bad[2][7].1 = n;
        bad[3][3].2 = -1.0;
        let e = Graph::try_from_edge_chunks(n as usize, bad).unwrap_err();
        assert!(e.to_string().contains("edge 1007 ("), "{e}");
    }

    #[test]
    fn from_edges_sums_duplicates_in_both_directions() {
        let g = Graph::from_edges(3, [(0, 1, 1.0), (1, 0, 2.0), (1, 2, 0.5), (1, 2, 0.25)]);
        assert_eq!(g.edge_count(), 2);
        assert_eq!(g.neighbors(0).collect::<Vec<_>>(), vec![(1, 3.0)]);
        assert_eq!(g.neighbors(1).collect::<Vec<_>>(), vec![(0, 3.0), (2, 0.75)]);
        assert_eq!(g.total_weight(), 3.75);
        assert_eq!(g.degree(1), 2);
        assert_eq!(g.strength(1), 3.75);
    }

    #[test]
    fn self_loops_are_listed_once_and_count_twice_in_strength() {
        let g = Graph::from_edges(2, [(0, 0, 1.5), (0, 1, 1.0), (0, 0, 0.5)]);
        assert_eq!(g.neighbors(0).collect::<Vec<_>>(), vec![(0, 2.0), (1, 1.0)]);
        assert_eq!(g.edge_count(), 2);
        assert_eq!(g.total_weight(), 3.0);
        assert_eq!(g.strength(0), 5.0);
        let total: f64 = (0..2).map(|u| g.strength(u)).sum();
        assert_eq!(total, 2.0 * g.total_weight());
        assert_eq!(g.edges().collect::<Vec<_>>(), vec![(0, 0, 2.0), (0, 1, 1.0)]);
    }

    #[test]
    fn edge_order_does_not_matter() {
        let edges = vec![(0, 1, 0.1), (2, 1, 0.7), (1, 0, 0.3), (3, 3, 1.0), (0, 1, 1e-7)];
        let mut rev = edges.clone();
        rev.reverse();
        assert_eq!(Graph::from_edges(4, edges), Graph::from_edges(4, rev));
    }

    #[test]
    fn bad_edges_are_errors() {
        let e = Graph::try_from_edges(2, [(0, 2, 1.0)]).unwrap_err();
        assert!(e.to_string().contains("node 2 is out of range"), "{e}");
        let e = Graph::try_from_edges(2, [(0, 1, -1.0)]).unwrap_err();
        assert!(e.to_string().contains("weight -1"), "{e}");
        assert!(Graph::try_from_edges(2, [(0, 1, f32::NAN)]).is_err());
        assert!(Graph::try_from_edges(2, [(0, 1, f32::INFINITY)]).is_err());
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn from_edges_panics_on_bad_node() {
        Graph::from_edges(1, [(0, 1, 1.0)]);
    }

    #[test]
    fn from_csr_round_trips() {
        let g = Graph::from_edges(4, [(0, 1, 1.0), (1, 2, 2.0), (3, 3, 1.0), (0, 3, 0.5)]);
        let h = Graph::from_csr(g.offsets().to_vec(), g.targets().to_vec(), g.weights().to_vec())
            .unwrap();
        assert_eq!(g, h);
    }

    #[test]
    fn canonical_csr_is_the_graph_from_csr_makes() {
        // Weights whose f64 sum depends on order: the totals must match bit for bit.
        let edges: Vec<(u32, u32, f32)> =
            (0..200u32).map(|i| (i % 37, (i * 7 + 3) % 41, 0.1 + (i % 13) as f32 * 0.37)).collect();
        let g = Graph::from_edges(41, edges);
        let (o, t, w) = (g.offsets().to_vec(), g.targets().to_vec(), g.weights().to_vec());
        let h = Graph::from_canonical_csr(o.clone(), t.clone(), w.clone());
        assert_eq!(h, Graph::from_csr(o, t, w).unwrap());
        assert_eq!(h.total_weight().to_bits(), g.total_weight().to_bits());
        assert_eq!(h.edge_count(), g.edge_count());
    }

    #[test]
    fn from_csr_sorts_rows() {
        let h =
            Graph::from_csr(vec![0, 2, 3, 4], vec![2, 1, 0, 0], vec![1.0, 2.0, 2.0, 1.0]).unwrap();
        assert_eq!(h.neighbors(0).collect::<Vec<_>>(), vec![(1, 2.0), (2, 1.0)]);
    }

    #[test]
    fn from_csr_rejects_inconsistent_arrays() {
        let msg = |r: Result<Graph>| r.unwrap_err().to_string();
        assert!(msg(Graph::from_csr(vec![], vec![], vec![])).contains("empty"));
        assert!(msg(Graph::from_csr(vec![1, 1], vec![0], vec![1.0])).contains("offsets[0]"));
        assert!(
            msg(Graph::from_csr(vec![0, 2, 1], vec![1, 0], vec![1.0, 1.0])).contains("decrease")
        );
        assert!(msg(Graph::from_csr(vec![0, 1, 1], vec![1, 0], vec![1.0, 1.0])).contains("end at"));
        assert!(msg(Graph::from_csr(vec![0, 1, 2], vec![1, 0], vec![1.0])).contains("weights"));
        assert!(msg(Graph::from_csr(vec![0, 1, 2], vec![1, 5], vec![1.0, 1.0])).contains("range"));
        assert!(
            msg(Graph::from_csr(vec![0, 1, 2], vec![1, 0], vec![1.0, f32::NAN])).contains("weight")
        );
        let e = msg(Graph::from_csr(vec![0, 1, 1], vec![1], vec![1.0]));
        assert!(e.contains("0 -> 1") && e.contains("missing"), "{e}");
        let e = msg(Graph::from_csr(vec![0, 1, 2], vec![1, 0], vec![1.0, 2.0]));
        assert!(e.contains("not symmetric"), "{e}");
    }

    #[test]
    fn large_graphs_take_the_parallel_path_with_the_same_result() {
        // Enough entries to cross PARALLEL_ENTRIES; compare with a small-block build.
        let n = 5000u32;
        let edges: Vec<(u32, u32, f32)> = (0..n)
            .flat_map(|u| (1..10u32).map(move |k| (u, (u * 7 + k * 131) % n, (k as f32) * 0.5)))
            .collect();
        let g = Graph::from_edges(n as usize, edges.iter().copied());
        let h = Graph::from_csr(g.offsets().to_vec(), g.targets().to_vec(), g.weights().to_vec())
            .unwrap();
        assert_eq!(g, h);
        let total: f64 = (0..n).map(|u| g.strength(u)).sum();
        assert!((total - 2.0 * g.total_weight()).abs() < 1e-6 * total);
        for u in 0..n {
            let row = g.targets()[g.offsets()[u as usize]..g.offsets()[u as usize + 1]].to_vec();
            assert!(row.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn row_blocks_cover_every_row_once() {
        let offsets = vec![0, 3, 3, 10, 11, 20];
        let mut entries: Vec<usize> = (0..20).collect();
        let blocks = row_blocks_mut(&offsets, &mut entries, 4);
        let mut seen = Vec::new();
        for (offs, block) in blocks {
            assert_eq!(offs.last().unwrap() - offs[0], block.len());
            seen.extend(block.iter().copied());
        }
        assert_eq!(seen, (0..20).collect::<Vec<_>>());
    }
}
