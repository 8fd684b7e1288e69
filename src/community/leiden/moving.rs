//! Fast local moving: greedy node moves driven by a queue of unstable nodes.

use std::sync::Mutex;

use rayon::prelude::*;

use super::aggregate::LevelGraph;
use super::partition::LevelPartition;
use super::quality::QualityFunction;

/// A FIFO of distinct nodes: a ring buffer with an in-queue bitset.
///
/// Each node is in the queue at most once, so `n` slots suffice.
struct NodeQueue {
    slots: Vec<u32>,
    head: usize,
    len: usize,
    queued: Vec<u64>,
}

impl NodeQueue {
    fn new(n: usize) -> NodeQueue {
        NodeQueue { slots: vec![0; n], head: 0, len: 0, queued: vec![0; n.div_ceil(64)] }
    }

    #[inline]
    fn push(&mut self, v: u32) {
        let (word, bit) = (v as usize / 64, 1u64 << (v % 64));
        if self.queued[word] & bit == 0 {
            self.queued[word] |= bit;
            let mut tail = self.head + self.len;
            if tail >= self.slots.len() {
                tail -= self.slots.len();
            }
            self.slots[tail] = v;
            self.len += 1;
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let v = self.slots[self.head];
        self.head += 1;
        if self.head == self.slots.len() {
            self.head = 0;
        }
        self.len -= 1;
        self.queued[v as usize / 64] &= !(1u64 << (v % 64));
        Some(v)
    }
}

/// The state local moving reads per id: the community of node `i`, and the
/// aggregate `X` of community `i` with the scratch weight from the current
/// node to community `i`.
///
/// One record per id keeps what a neighbor access needs in one cache line
/// while communities are still named by one of their nodes (from
/// singletons, and after renumbering, a community is named by a nearby
/// id): on large levels the loop is bound by these misses.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// `X_i`: summed node weight of community `i` (a mirror of the partition's).
    weight: f64,
    /// Weight from the node being evaluated to community `i`; non-zero
    /// exactly for the communities in the touched list.
    to: f64,
    /// Community of node `i` (a mirror of the partition's membership).
    community: u32,
}

/// Moves nodes of `graph` greedily between the communities of `partition`.
///
/// The fast local moving of Traag, Waltman and van Eck (2019): every node
/// starts in a queue in `order`; a node taken from the queue moves to the
/// neighboring community (or an empty one) with the largest strictly
/// positive quality gain, and then its neighbors outside its new community
/// re-enter the queue. It ends when the queue is empty, so no single move
/// improves the quality. Fixed nodes never move.
///
/// Per node, the communities of its neighbors are gathered first (loads
/// that do not depend on each other, so the processor overlaps their cache
/// misses), then the weights to them are summed in a dense scratch indexed
/// by community and reset through a touched list: no hashing or allocation
/// in the loop.
///
/// Returns the number of moves made.
///
/// # Complexity
///
/// O(m) time per sweep of the queue, O(n) space.
pub(crate) fn move_nodes<Q: QualityFunction>(
    graph: &LevelGraph<'_>,
    quality: &Q,
    partition: &mut LevelPartition,
    order: &[u32],
) -> usize {
    let n = graph.node_count();
    let x = quality.node_weights(graph);
    let lambda = quality.penalty(graph);
    let (offsets, targets, weights) = (graph.offsets(), graph.targets(), graph.weights());
    let mut queue = NodeQueue::new(n);
    for &v in order {
        if !graph.is_fixed(v) {
            queue.push(v);
        }
    }
    let mut slots: Vec<Slot> = partition
        .membership()
        .iter()
        .zip(partition.weights())
        .map(|(&community, &weight)| Slot { weight, to: 0.0, community })
        .collect();
    // Community of each entry of the current row.
    let mut row_comm: Vec<u32> = Vec::with_capacity(256);
    let mut touched: Vec<u32> = Vec::with_capacity(256);
    let mut moves = 0usize;
    let has_fixed = graph.has_fixed();
    while let Some(v) = queue.pop() {
        let vi = v as usize;
        let row = offsets[vi]..offsets[vi + 1];
        let (row_t, row_w) = (&targets[row.clone()], &weights[row]);
        let x_v = x[vi];
        let lx = lambda * x_v;
        let from = slots[vi].community;
        row_comm.clear();
        row_comm.extend(row_t.iter().map(|&u| slots[u as usize].community));
        let mut out_weight = 0f64;
        for ((&u, &w), &c) in row_t.iter().zip(row_w).zip(&row_comm) {
            if u == v {
                continue;
            }
            let w = w as f64;
            out_weight += w;
            let slot = &mut slots[c as usize].to;
            if *slot == 0.0 {
                touched.push(c);
            }
            *slot += w;
        }
        // Staying is the baseline; a move must beat it by more than
        // rounding noise, so no pair of moves can undo each other forever.
        let stay = slots[from as usize].to - lx * (slots[from as usize].weight - x_v);
        let mut best = from;
        let mut best_gain = stay + 1e-12 * out_weight;
        for &c in &touched {
            let slot = &mut slots[c as usize];
            let w = std::mem::replace(&mut slot.to, 0.0);
            let gain = w - lx * slot.weight;
            if c != from && gain > best_gain {
                best = c;
                best_gain = gain;
            }
        }
        slots[from as usize].to = 0.0;
        touched.clear();
        if best_gain < 0.0 && partition.nodes(from) > 1 {
            // An empty community (gain 0) beats every neighbor.
            if let Some(empty) = partition.take_empty() {
                best = empty;
            }
        }
        if best != from {
            // The inlined gains agree with the reference formula.
            debug_assert!(
                quality.diff_move(graph, partition, v, best)
                    >= -1e-9 * quality.norm(graph) * (out_weight + lx * partition.weight(from)),
                "move of {v} to {best} lowers the quality"
            );
            partition.move_node(v, best, x_v);
            // Mirror the partition's update, with the same float operations.
            slots[vi].community = best;
            slots[from as usize].weight = partition.weight(from);
            slots[best as usize].weight = partition.weight(best);
            moves += 1;
            for (&u, &c) in row_t.iter().zip(&row_comm) {
                // `c` is still the community of `u`: only `v` moved.
                if u != v && c != best && !(has_fixed && graph.is_fixed(u)) {
                    queue.push(u);
                }
            }
        }
    }
    moves
}

/// What the parallel evaluation of one node proposes.
#[derive(Clone, Copy, Debug)]
enum Proposal {
    /// No move improves.
    Stay,
    /// Move to community `to`, with edge weight `w_to` to it (or to an
    /// empty community if that gains more, as in [`move_nodes`]).
    To { to: u32, w_to: f64 },
    /// Staying loses: move to an empty community.
    Empty,
}

/// One evaluated node: its proposal, its edge weight to the rest of its
/// community, and to all neighbors.
#[derive(Clone, Copy, Debug)]
struct Evaluated {
    v: u32,
    proposal: Proposal,
    w_from: f64,
    out_weight: f64,
}

/// Per-thread scratch of the parallel evaluation.
#[derive(Default)]
struct EvalScratch {
    to_comm: CommTable,
    touched: Vec<u32>,
}

/// The weight from the node being evaluated to each neighboring community:
/// an open-addressing table (linear probing) sized for the node's row.
///
/// A dense array indexed by community would cost a cache miss per entry on
/// a large level (8 bytes per node, per thread); the few communities of one
/// row fit in a table that stays in the first-level cache (1M-node LFR
/// graph: evaluation 11-25 % faster, the same moves). [`CommTable::reserve`]
/// sizes it for a row, [`CommTable::clear`] empties it: it is empty
/// between nodes.
#[derive(Default)]
struct CommTable {
    keys: Vec<u32>,
    values: Vec<f64>,
    /// `slots in use - 1`; the slots in use are the first `mask + 1`.
    mask: usize,
}

impl CommTable {
    const EMPTY: u32 = u32::MAX;

    /// Makes room for the communities of a row of `len` entries (at most
    /// half full). The table must be empty.
    fn reserve(&mut self, len: usize) {
        let slots = (2 * len).next_power_of_two().max(64);
        if self.keys.len() < slots {
            self.keys = vec![Self::EMPTY; slots];
            self.values = vec![0.0; slots];
        }
        self.mask = slots - 1;
    }

    #[inline]
    fn home(&self, c: u32) -> usize {
        // Fibonacci hashing: the high half of the product mixes every bit
        // of `c`, so regular ids (multiples of a power of two) spread too.
        ((c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & self.mask
    }

    /// The slot holding `c`, or the empty slot where it would go.
    #[inline]
    fn probe(&self, c: u32) -> (usize, bool) {
        let mut i = self.home(c);
        loop {
            match self.keys[i] {
                k if k == c => return (i, true),
                Self::EMPTY => return (i, false),
                _ => i = (i + 1) & self.mask,
            }
        }
    }

    /// The weight to `c`, inserted with weight 0 if absent.
    #[inline]
    fn slot(&mut self, c: u32) -> &mut f64 {
        let (i, found) = self.probe(c);
        if !found {
            self.keys[i] = c;
        }
        &mut self.values[i]
    }

    /// The weight to `c` (0 if absent).
    #[inline]
    fn get(&self, c: u32) -> f64 {
        match self.probe(c) {
            (i, true) => self.values[i],
            _ => 0.0,
        }
    }

    /// The weight to `c`, leaving 0 in its place (0 if absent).
    #[inline]
    fn take(&mut self, c: u32) -> f64 {
        match self.probe(c) {
            (i, true) => std::mem::replace(&mut self.values[i], 0.0),
            _ => 0.0,
        }
    }

    /// Empties the slots in use.
    fn clear(&mut self) {
        self.keys[..=self.mask].fill(Self::EMPTY);
        self.values[..=self.mask].fill(0.0);
    }
}

/// What the evaluation of a node against a partition that does not change
/// reads.
struct Frozen<'g> {
    offsets: &'g [usize],
    targets: &'g [u32],
    weights: &'g [f32],
    /// Node weights `x`.
    x: &'g [f64],
    /// `λ`.
    lambda: f64,
    membership: &'g [u32],
    /// `X_c` of every community.
    comm_weight: &'g [f64],
}

impl<'g> Frozen<'g> {
    fn new<Q: QualityFunction>(
        graph: &'g LevelGraph<'_>,
        quality: &Q,
        partition: &'g LevelPartition,
    ) -> Frozen<'g> {
        Frozen {
            offsets: graph.offsets(),
            targets: graph.targets(),
            weights: graph.weights(),
            x: quality.node_weights(graph),
            lambda: quality.penalty(graph),
            membership: partition.membership(),
            comm_weight: partition.weights(),
        }
    }

    /// The best move of `v`, with the gains and thresholds of [`move_nodes`]
    /// (the same sums in the same order, so the same decisions).
    fn evaluate(&self, v: u32, s: &mut EvalScratch) -> Evaluated {
        let vi = v as usize;
        let row = self.offsets[vi]..self.offsets[vi + 1];
        let x_v = self.x[vi];
        let lx = self.lambda * x_v;
        let from = self.membership[vi];
        let mut out_weight = 0f64;
        s.to_comm.reserve(row.len());
        for (&u, &w) in self.targets[row.clone()].iter().zip(&self.weights[row]) {
            if u == v {
                continue;
            }
            let c = self.membership[u as usize];
            let w = w as f64;
            out_weight += w;
            let slot = s.to_comm.slot(c);
            if *slot == 0.0 {
                s.touched.push(c);
            }
            *slot += w;
        }
        let w_from = s.to_comm.get(from);
        let stay = w_from - lx * (self.comm_weight[from as usize] - x_v);
        let (mut best, mut best_w) = (from, w_from);
        let mut best_gain = stay + 1e-12 * out_weight;
        for &c in &s.touched {
            let w = s.to_comm.take(c);
            let gain = w - lx * self.comm_weight[c as usize];
            if c != from && gain > best_gain {
                best = c;
                best_w = w;
                best_gain = gain;
            }
        }
        s.to_comm.clear();
        s.touched.clear();
        let proposal = if best != from {
            Proposal::To { to: best, w_to: best_w }
        } else if best_gain < 0.0 {
            Proposal::Empty
        } else {
            Proposal::Stay
        };
        Evaluated { v, proposal, w_from, out_weight }
    }
}

/// Nodes are checked by [`is_stable`] in runs of at least this many.
const STABLE_MIN_NODES: usize = 1 << 14;

/// Whether [`move_nodes`] would make no move from `partition`: whether no
/// node of `graph` has a move that its first visit would take.
///
/// Local moving that makes no move visits every node once against the
/// unchanged partition, so that sweep can run as one parallel read-only
/// pass instead, on the rayon pool, stopping at the first node that would
/// move. Leiden runs it where a zero-move sweep is expected (the first
/// levels of later iterations); the answer, and so the result, does not
/// depend on the thread count.
///
/// # Complexity
///
/// O(m) time; O(n) scratch per parallel task, zeroed lazily.
pub(crate) fn is_stable<Q: QualityFunction>(
    graph: &LevelGraph<'_>,
    quality: &Q,
    partition: &LevelPartition,
) -> bool {
    let n = graph.node_count();
    let frozen = Frozen::new(graph, quality, partition);
    let would_move = |s: &mut EvalScratch, v: u32| -> bool {
        if graph.is_fixed(v) {
            return false;
        }
        match frozen.evaluate(v, s).proposal {
            Proposal::Stay => false,
            Proposal::To { .. } => true,
            // As `move_nodes`: to an empty community, if it leaves one behind
            // and one is free.
            Proposal::Empty => {
                let from = partition.community_of(v);
                partition.nodes(from) > 1 && partition.community_count() < n
            }
        }
    };
    let new_scratch = EvalScratch::default;
    !(0..n as u32)
        .into_par_iter()
        .with_min_len(STABLE_MIN_NODES)
        .map_init(new_scratch, would_move)
        .any(|m| m)
}

/// The batched, parallel form of [`move_nodes`], for large levels.
///
/// The queue is the same; it is taken in batches whose size depends only
/// on the graph. Every node of a batch finds its best move against the
/// partition as it was at the start of the batch, in parallel; the moves
/// are then applied one by one in batch order, each re-checked against the
/// current community weights (O(1): its edge weights are still exact, see
/// below) and applied only if it still beats staying. A node with a
/// neighbor that moved earlier in the same batch has stale edge weights:
/// it goes back to the queue instead. So every move applied improves the
/// quality exactly as a sequential move would, and the result is a pure
/// function of the queue order: the same on any number of threads, and
/// with `parallel` off (each batch then evaluated on this thread).
///
/// Returns the number of moves made.
///
/// # Complexity
///
/// O(m) time per sweep of the queue; O(n) space per thread.
pub(crate) fn move_nodes_batched<Q: QualityFunction>(
    graph: &LevelGraph<'_>,
    quality: &Q,
    partition: &mut LevelPartition,
    order: &[u32],
    parallel: bool,
) -> usize {
    let n = graph.node_count();
    let x = quality.node_weights(graph);
    let lambda = quality.penalty(graph);
    let (offsets, targets) = (graph.offsets(), graph.targets());
    let mut queue = NodeQueue::new(n);
    for &v in order {
        if !graph.is_fixed(v) {
            queue.push(v);
        }
    }
    // About one node in 16 of a batch has a neighbor moved before it in the
    // batch when every node moves: batch * degree ≈ n / 16.
    let degree = (graph.entry_count() / n.max(1)).max(1);
    let batch_size = (n / (16 * degree)).clamp(64, 8192);
    let threads = if parallel { rayon::current_num_threads().max(1) } else { 1 };
    let scratches: Vec<Mutex<EvalScratch>> =
        (0..threads).map(|_| Mutex::new(EvalScratch::default())).collect();
    // The batch in which a neighbor of each node last moved.
    let mut stamp = vec![0u32; n];
    let mut batch_no = 0u32;
    let mut batch: Vec<u32> = Vec::with_capacity(batch_size);
    let mut moves = 0usize;
    let mut deferred = 0usize;
    let has_fixed = graph.has_fixed();
    loop {
        batch.clear();
        while batch.len() < batch_size {
            match queue.pop() {
                Some(v) => batch.push(v),
                None => break,
            }
        }
        if batch.is_empty() {
            break;
        }
        batch_no += 1;
        let evaluated: Vec<Evaluated> = {
            let frozen = Frozen::new(graph, quality, partition);
            if parallel {
                // One chunk per thread (the chunking does not change the result).
                batch
                    .par_chunks(batch.len().div_ceil(threads).max(16))
                    .flat_map_iter(|chunk| {
                        let slot = rayon::current_thread_index().unwrap_or(0) % threads;
                        // The lock is never contended: one slot per pool thread.
                        let mut s = scratches[slot].lock().unwrap_or_else(|e| e.into_inner());
                        chunk.iter().map(|&v| frozen.evaluate(v, &mut s)).collect::<Vec<_>>()
                    })
                    .collect()
            } else {
                let mut s = scratches[0].lock().unwrap_or_else(|e| e.into_inner());
                batch.iter().map(|&v| frozen.evaluate(v, &mut s)).collect()
            }
        };
        for e in evaluated {
            if matches!(e.proposal, Proposal::Stay) {
                continue;
            }
            let v = e.v;
            let vi = v as usize;
            if stamp[vi] == batch_no {
                // A neighbor moved since the evaluation: evaluate again later.
                queue.push(v);
                deferred += 1;
                continue;
            }
            let x_v = x[vi];
            let lx = lambda * x_v;
            let from = partition.community_of(v);
            let stay = e.w_from - lx * (partition.weight(from) - x_v);
            let threshold = stay + 1e-12 * e.out_weight;
            let mut to = match e.proposal {
                Proposal::To { to, w_to } => {
                    let gain = w_to - lx * partition.weight(to);
                    if gain <= threshold {
                        queue.push(v);
                        deferred += 1;
                        continue;
                    }
                    (gain >= 0.0).then_some(to)
                }
                _ => None,
            };
            if to.is_none() {
                // An empty community (gain 0) beats every neighbor.
                if threshold >= 0.0 || partition.nodes(from) <= 1 {
                    continue;
                }
                to = partition.take_empty();
            }
            let Some(to) = to else { continue };
            debug_assert!(
                quality.diff_move(graph, partition, v, to)
                    >= -1e-9 * quality.norm(graph) * (e.out_weight + lx * partition.weight(from)),
                "move of {v} to {to} lowers the quality"
            );
            partition.move_node(v, to, x_v);
            moves += 1;
            let membership = partition.membership();
            for &u in &targets[offsets[vi]..offsets[vi + 1]] {
                stamp[u as usize] = batch_no;
                if u != v && membership[u as usize] != to && !(has_fixed && graph.is_fixed(u)) {
                    queue.push(u);
                }
            }
        }
    }
    tracing::debug!(nodes = n, batch_size, batches = batch_no, deferred, "batched local moving");
    moves
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::graph::Graph;
    use crate::community::leiden::quality::{Cpm, Modularity};
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64;

    fn two_cliques() -> Graph {
        let mut edges = vec![(3, 4, 0.5)];
        for base in [0u32, 4] {
            for a in 0..4 {
                for b in a + 1..4 {
                    edges.push((base + a, base + b, 1.0));
                }
            }
        }
        Graph::from_edges(8, edges)
    }

    #[test]
    fn comm_table_sums_like_a_map_and_is_empty_after_clear() {
        let mut table = CommTable::default();
        let mut rng = Pcg64::seed_from_u64(3);
        for round in 0..200usize {
            let len = 1 + round % 150;
            table.reserve(len);
            // Regular ids (multiples of 64 or 1024) as well as random ones.
            let stride = [1u32, 64, 1024, 65_536][round % 4];
            let mut expected = std::collections::BTreeMap::new();
            let mut keys = Vec::new();
            for _ in 0..len {
                let c = rng.random_range(0..len as u32 * 2) * stride;
                let w = rng.random_range(1..4) as f64;
                *table.slot(c) += w;
                *expected.entry(c).or_insert(0.0) += w;
                keys.push(c);
            }
            for (&c, &w) in &expected {
                assert_eq!(table.get(c), w);
            }
            assert_eq!(table.get(u32::MAX - 1), 0.0);
            let c = keys[0];
            assert_eq!(table.take(c), expected[&c]);
            assert_eq!(table.take(c), 0.0);
            table.clear();
            for &c in &keys {
                assert_eq!(table.get(c), 0.0);
            }
        }
    }

    #[test]
    fn queue_holds_each_node_once_in_fifo_order() {
        let mut q = NodeQueue::new(3);
        q.push(2);
        q.push(0);
        q.push(2);
        assert_eq!(q.pop(), Some(2));
        q.push(1);
        q.push(2);
        assert_eq!((q.pop(), q.pop(), q.pop(), q.pop()), (Some(0), Some(1), Some(2), None));
    }

    #[test]
    fn moving_finds_the_cliques_and_reaches_a_local_optimum() {
        let g = two_cliques();
        let level = LevelGraph::from_graph(&g, &[], usize::MAX);
        let q = Modularity { resolution: 1.0 };
        let mut p = LevelPartition::new((0..8).collect(), q.node_weights(&level));
        let order: Vec<u32> = (0..8).collect();
        assert!(move_nodes(&level, &q, &mut p, &order) > 0);
        let m = p.membership();
        assert!(m[..4].iter().all(|&c| c == m[0]) && m[4..].iter().all(|&c| c == m[4]));
        assert_ne!(m[0], m[4]);
        // No single move improves.
        for v in 0..8 {
            for to in 0..8 {
                assert!(q.diff_move(&level, &p, v, to) <= 1e-12);
            }
        }
    }

    #[test]
    fn batched_moving_reaches_a_local_optimum_and_keeps_fixed_nodes() {
        let g = two_cliques();
        let level = LevelGraph::from_graph(&g, &[], usize::MAX);
        let q = Modularity { resolution: 1.0 };
        let mut p = LevelPartition::new((0..8).collect(), q.node_weights(&level));
        let order: Vec<u32> = (0..8).rev().collect();
        let mut serial = LevelPartition::new((0..8).collect(), q.node_weights(&level));
        assert!(move_nodes_batched(&level, &q, &mut p, &order, true) > 0);
        // Evaluating each batch on this thread gives the same moves.
        move_nodes_batched(&level, &q, &mut serial, &order, false);
        assert_eq!(serial.membership(), p.membership());
        let m = p.membership();
        assert!(m[..4].iter().all(|&c| c == m[0]) && m[4..].iter().all(|&c| c == m[4]));
        assert_ne!(m[0], m[4]);
        for v in 0..8 {
            for to in 0..8 {
                assert!(q.diff_move(&level, &p, v, to) <= 1e-12);
            }
        }
        // As in the sequential loop: with CPM at a high resolution everybody
        // leaves for an empty community, except the fixed node.
        let level = LevelGraph::from_graph(&g, &[1], usize::MAX);
        let q = Cpm { resolution: 5.0 };
        let mut p = LevelPartition::new(vec![0; 8], q.node_weights(&level));
        move_nodes_batched(&level, &q, &mut p, &order, true);
        assert_eq!(p.community_count(), 8);
        assert_eq!(p.community_of(1), 0);
    }

    #[test]
    fn stable_exactly_when_local_moving_makes_no_move() {
        let g = two_cliques();
        let order: Vec<u32> = (0..8).collect();
        let level = LevelGraph::from_graph(&g, &[], usize::MAX);
        let q = Modularity { resolution: 1.0 };
        let x = q.node_weights(&level);
        let sweep_moves =
            |m: Vec<u32>| move_nodes(&level, &q, &mut LevelPartition::new(m, x), &order);
        // Singletons, the cliques, the cliques with one node swapped, all together.
        let cases = [
            (0..8).collect(),
            vec![0, 0, 0, 0, 4, 4, 4, 4],
            vec![0, 0, 0, 4, 0, 4, 4, 4],
            vec![0; 8],
        ];
        for m in cases {
            let stable = is_stable(&level, &q, &LevelPartition::new(m.clone(), x));
            assert_eq!(stable, sweep_moves(m.clone()) == 0, "{m:?}");
        }
        // Only a move to an empty community improves (CPM, high resolution);
        // the fixed node alone has nowhere to go.
        let q = Cpm { resolution: 5.0 };
        let fixed = LevelGraph::from_graph(&g, &[1], usize::MAX);
        assert!(!is_stable(&fixed, &q, &LevelPartition::new(vec![0; 8], q.node_weights(&fixed))));
        let alone: Vec<u32> = (0..8).collect();
        assert!(is_stable(&fixed, &q, &LevelPartition::new(alone, q.node_weights(&fixed))));
    }

    #[test]
    fn nodes_leave_for_an_empty_community_and_fixed_nodes_stay() {
        // CPM with a high resolution: every community of two or more is worse
        // than singletons, so everybody leaves — except the fixed node 1.
        let g = two_cliques();
        let level = LevelGraph::from_graph(&g, &[1], usize::MAX);
        let q = Cpm { resolution: 5.0 };
        let mut p = LevelPartition::new(vec![0; 8], q.node_weights(&level));
        let order: Vec<u32> = (0..8).collect();
        move_nodes(&level, &q, &mut p, &order);
        assert_eq!(p.community_count(), 8);
        assert_eq!(p.community_of(1), 0);
    }
}
