//! Fast local moving: greedy node moves driven by a queue of unstable nodes.

use std::time::Duration;

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
    let mut visits = 0usize;
    let mut entries = 0usize;
    while let Some(v) = queue.pop() {
        visits += 1;
        let vi = v as usize;
        let row = offsets[vi]..offsets[vi + 1];
        entries += row.len();
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
    tracing::debug!(nodes = n, visits, entries, "sequential local moving");
    moves
}

/// What the parallel evaluation of one node proposes.
#[derive(Clone, Copy, Debug, PartialEq)]
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
/// community, and to all neighbors; in a batch, also where its lists are.
#[derive(Clone, Copy, Debug)]
struct Evaluated {
    v: u32,
    proposal: Proposal,
    w_from: f64,
    out_weight: f64,
    /// Its lists in the chunk's buffer: `lists[start..mid]` the batch
    /// positions of its neighbors visited before it in the batch, and
    /// `lists[mid..end]` the neighbors to queue again if it moves to
    /// the proposed community. Empty ranges for `Stay`, and outside a batch.
    start: usize,
    mid: usize,
    end: usize,
}

/// Per-thread scratch of the parallel evaluation.
#[derive(Default)]
struct EvalScratch {
    to_comm: CommTable,
    /// The communities of the row being evaluated, entry by entry.
    row_comm: Vec<u32>,
    /// The same for the next node of the chunk, gathered ahead.
    next_comm: Vec<u32>,
}

/// The weight from the node being evaluated to each neighboring community:
/// an open-addressing table (linear probing) sized for the node's row.
///
/// A dense array indexed by community would cost a cache miss per entry on
/// a large level (8 bytes per node, per thread); the few communities of one
/// row fit in a table that stays in the first-level cache (1M-node LFR
/// graph: evaluation 11-25 % faster, the same moves). The table keeps the
/// slots it filled, in the order their communities were first added:
/// [`CommTable::drain`] visits them in that order and empties exactly them,
/// so nothing is probed twice and nothing else is cleared.
/// [`CommTable::reserve`] sizes it for a row; it is empty between nodes.
#[derive(Default)]
struct CommTable {
    keys: Vec<u32>,
    values: Vec<f64>,
    /// The slots in use, in the order their keys were added.
    used: Vec<u32>,
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

    /// Adds `w` to the weight to `c` (inserted with weight 0 if absent).
    #[inline]
    fn add(&mut self, c: u32, w: f64) {
        let (i, found) = self.probe(c);
        if !found {
            self.keys[i] = c;
            self.used.push(i as u32);
        }
        self.values[i] += w;
    }

    /// The weight to `c` (0 if absent).
    #[inline]
    fn get(&self, c: u32) -> f64 {
        match self.probe(c) {
            (i, true) => self.values[i],
            _ => 0.0,
        }
    }

    /// Calls `f(c, weight to c)` for every community added, in the order
    /// they were first added, and empties the table.
    #[inline]
    fn drain(&mut self, mut f: impl FnMut(u32, f64)) {
        for &i in &self.used {
            let i = i as usize;
            f(self.keys[i], std::mem::replace(&mut self.values[i], 0.0));
            self.keys[i] = Self::EMPTY;
        }
        self.used.clear();
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
    /// Community of every node.
    membership: &'g [u32],
    /// `X_c` of every community.
    comm_weight: &'g [f64],
    /// Fixed nodes, if any: they are never queued again.
    fixed: Option<&'g LevelGraph<'g>>,
}

/// The nodes of the batch being evaluated: which nodes, and where.
struct BatchPlaces<'a> {
    /// Bit `v` is set when node `v` is in the batch.
    in_batch: &'a [u64],
    /// The position in the batch of each node in it (stale for others).
    pos: &'a [u32],
}

impl BatchPlaces<'_> {
    /// The position of `u` in the batch, if it is in it.
    #[inline]
    fn of(&self, u: u32) -> Option<u32> {
        let (word, bit) = (u as usize / 64, u % 64);
        (self.in_batch[word] >> bit & 1 == 1).then(|| self.pos[u as usize])
    }
}

/// Where the evaluation of a batch writes its lists (see [`Evaluated`]).
struct Lists<'a> {
    places: &'a BatchPlaces<'a>,
    buffer: &'a mut Vec<u32>,
}

impl<'g> Frozen<'g> {
    fn new<Q: QualityFunction>(
        graph: &'g LevelGraph<'g>,
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
            fixed: graph.has_fixed().then_some(graph),
        }
    }

    /// The best move of `v`, with the gains and thresholds of [`move_nodes`]
    /// (the same sums in the same order, so the same decisions).
    ///
    /// With `lists` (`v` in the batch), it also writes the two lists of
    /// [`Evaluated`] unless the proposal is `Stay`: what the sequential
    /// apply of [`move_nodes_batched`] would otherwise gather with a random
    /// access per neighbor.
    fn evaluate(&self, v: u32, s: &mut EvalScratch, lists: Option<Lists<'_>>) -> Evaluated {
        self.gather(v, &mut s.row_comm);
        self.evaluate_gathered(v, &s.row_comm, &mut s.to_comm, lists)
    }

    /// Writes the community of each entry of `v`'s row to `out`.
    ///
    /// A loop of loads that do not depend on each other: run for the next
    /// node before evaluating the current one, its cache misses overlap
    /// with that evaluation.
    #[inline]
    fn gather(&self, v: u32, out: &mut Vec<u32>) {
        let row = self.offsets[v as usize]..self.offsets[v as usize + 1];
        out.clear();
        out.extend(self.targets[row].iter().map(|&u| self.membership[u as usize]));
    }

    /// [`Frozen::evaluate`], with the row's communities already gathered.
    fn evaluate_gathered(
        &self,
        v: u32,
        row_comm: &[u32],
        to_comm: &mut CommTable,
        mut lists: Option<Lists<'_>>,
    ) -> Evaluated {
        let vi = v as usize;
        let row = self.offsets[vi]..self.offsets[vi + 1];
        let (row_t, row_w) = (&self.targets[row.clone()], &self.weights[row]);
        let x_v = self.x[vi];
        let lx = self.lambda * x_v;
        let from = self.membership[vi];
        let pos = lists.as_ref().and_then(|l| l.places.of(v)).unwrap_or(0);
        let mut out_weight = 0f64;
        let start = lists.as_ref().map_or(0, |l| l.buffer.len());
        debug_assert_eq!(row_comm.len(), row_t.len());
        to_comm.reserve(row_t.len());
        for ((&u, &w), &c) in row_t.iter().zip(row_w).zip(row_comm) {
            if u == v {
                continue;
            }
            let w = w as f64;
            out_weight += w;
            to_comm.add(c, w);
            if let Some(l) = lists.as_mut() {
                // A neighbor visited earlier in this batch.
                if let Some(p) = l.places.of(u).filter(|&p| p < pos) {
                    l.buffer.push(p);
                }
            }
        }
        let w_from = to_comm.get(from);
        let stay = w_from - lx * (self.comm_weight[from as usize] - x_v);
        let (mut best, mut best_w) = (from, w_from);
        let mut best_gain = stay + 1e-12 * out_weight;
        to_comm.drain(|c, w| {
            let gain = w - lx * self.comm_weight[c as usize];
            if c != from && gain > best_gain {
                best = c;
                best_w = w;
                best_gain = gain;
            }
        });
        let proposal = if best != from {
            Proposal::To { to: best, w_to: best_w }
        } else if best_gain < 0.0 {
            Proposal::Empty
        } else {
            Proposal::Stay
        };
        let (mut mid, mut end) = (start, start);
        if let Some(l) = lists {
            match proposal {
                Proposal::Stay => l.buffer.truncate(start),
                Proposal::To { to, .. } => {
                    mid = l.buffer.len();
                    // What the apply queues after moving `v` to `to`: the
                    // communities of its neighbors are then still these
                    // (see `move_nodes_batched`).
                    l.buffer.extend(row_t.iter().zip(row_comm).filter_map(|(&u, &c)| {
                        (u != v && c != to && !self.fixed.is_some_and(|g| g.is_fixed(u)))
                            .then_some(u)
                    }));
                    end = l.buffer.len();
                }
                Proposal::Empty => {
                    mid = l.buffer.len();
                    end = mid;
                }
            }
        }
        Evaluated { v, proposal, w_from, out_weight, start, mid, end }
    }
}

/// Nodes are checked by [`is_stable`] in runs of at least this many
/// adjacency entries (on average), and of at least one node.
const STABLE_MIN_ENTRIES: usize = 1 << 19;

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
/// O(m) time; a small table per parallel task.
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
        match frozen.evaluate(v, s, None).proposal {
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
    // Runs of nodes by their average row: aggregated levels can hold few
    // nodes with long rows.
    let min_nodes = (STABLE_MIN_ENTRIES * n / graph.entry_count().max(1)).max(1);
    !(0..n as u32)
        .into_par_iter()
        .with_min_len(min_nodes)
        .map_init(new_scratch, would_move)
        .any(|m| m)
}

/// One chunk of a batch, evaluated by one task: its nodes' evaluations and
/// their lists, and the task's scratch.
#[derive(Default)]
struct ChunkOut {
    evaluated: Vec<Evaluated>,
    lists: Vec<u32>,
    scratch: EvalScratch,
}

impl ChunkOut {
    fn evaluate(&mut self, frozen: &Frozen<'_>, chunk: &[u32], places: &BatchPlaces<'_>) {
        self.evaluated.clear();
        self.lists.clear();
        let s = &mut self.scratch;
        if let Some(&first) = chunk.first() {
            frozen.gather(first, &mut s.row_comm);
        }
        for (i, &v) in chunk.iter().enumerate() {
            // The next row's communities are loaded while this one is summed.
            if let Some(&next) = chunk.get(i + 1) {
                frozen.gather(next, &mut s.next_comm);
            }
            let lists = Lists { places, buffer: &mut self.lists };
            let e = frozen.evaluate_gathered(v, &s.row_comm, &mut s.to_comm, Some(lists));
            self.evaluated.push(e);
            std::mem::swap(&mut s.row_comm, &mut s.next_comm);
        }
    }
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
/// No neighbor of a node that moves moves in the same batch (an earlier
/// one would have sent it back to the queue, and it sends back a later
/// one), so its neighbors' communities when it moves are those the
/// evaluation saw. The evaluation therefore lists, per node, its neighbors
/// earlier in the batch and those to queue again if it moves, in parallel;
/// the sequential apply reads these short lists instead of touching every
/// neighbor.
///
/// Returns the number of moves made.
///
/// # Complexity
///
/// O(m) time per sweep of the queue; O(n) space, and O(batch · degree)
/// per thread.
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
    let mut outs: Vec<ChunkOut> = (0..threads).map(|_| ChunkOut::default()).collect();
    let mut in_batch = vec![0u64; n.div_ceil(64)];
    let mut pos = vec![0u32; n];
    let mut moved: Vec<bool> = Vec::with_capacity(batch_size);
    let mut batch: Vec<u32> = Vec::with_capacity(batch_size);
    let mut batches = 0usize;
    let mut moves = 0usize;
    let mut deferred = 0usize;
    let has_fixed = graph.has_fixed();
    // Wall time in the parallel evaluation and in the sequential apply
    // (logged at debug level: where level 0's local moving spends it).
    let (mut evaluate_time, mut apply_time) = (Duration::ZERO, Duration::ZERO);
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
        batches += 1;
        for (i, &v) in batch.iter().enumerate() {
            in_batch[v as usize / 64] |= 1 << (v % 64);
            pos[v as usize] = i as u32;
        }
        let evaluation = std::time::Instant::now();
        {
            let places = BatchPlaces { in_batch: &in_batch, pos: &pos };
            let places = &places;
            let frozen = Frozen::new(graph, quality, partition);
            // One chunk per task (the chunking does not change the result).
            let chunk_len = batch.len().div_ceil(threads).max(16);
            outs.iter_mut().for_each(|out| out.evaluated.clear());
            let tasks = batch.chunks(chunk_len).zip(outs.iter_mut());
            if parallel {
                let tasks: Vec<_> = tasks.collect();
                tasks.into_par_iter().for_each(|(chunk, out)| out.evaluate(&frozen, chunk, places));
            } else {
                tasks.for_each(|(chunk, out)| out.evaluate(&frozen, chunk, places));
            }
        }
        evaluate_time += evaluation.elapsed();
        let apply = std::time::Instant::now();
        for &v in &batch {
            in_batch[v as usize / 64] &= !(1 << (v % 64));
        }
        moved.clear();
        moved.resize(batch.len(), false);
        // The chunks in order are the batch in order.
        let evaluated = outs.iter().flat_map(|out| out.evaluated.iter().map(move |e| (out, e)));
        for (pos, (out, e)) in evaluated.enumerate() {
            if e.proposal == Proposal::Stay {
                continue;
            }
            let v = e.v;
            let vi = v as usize;
            let earlier = &out.lists[e.start..e.mid];
            if earlier.iter().any(|&p| moved[p as usize]) {
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
            let proposed = to.is_some();
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
            moved[pos] = true;
            moves += 1;
            if proposed {
                for &u in &out.lists[e.mid..e.end] {
                    queue.push(u);
                }
            } else {
                let membership = partition.membership();
                for &u in &targets[offsets[vi]..offsets[vi + 1]] {
                    if u != v && membership[u as usize] != to && !(has_fixed && graph.is_fixed(u)) {
                        queue.push(u);
                    }
                }
            }
        }
        apply_time += apply.elapsed();
    }
    tracing::debug!(
        nodes = n,
        batch_size,
        batches,
        deferred,
        evaluate_ms = evaluate_time.as_millis() as u64,
        apply_ms = apply_time.as_millis() as u64,
        "batched local moving"
    );
    moves
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::graph::Graph;
    use crate::community::leiden::quality::{Cpm, Modularity};
    use rand::seq::SliceRandom;
    use rand::{RngExt, SeedableRng};
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
    fn comm_table_sums_like_a_map_and_drains_in_first_added_order() {
        let mut table = CommTable::default();
        let mut rng = Pcg64::seed_from_u64(3);
        for round in 0..200usize {
            let len = 1 + round % 150;
            table.reserve(len);
            // Regular ids (multiples of 64 or 1024) as well as random ones.
            let stride = [1u32, 64, 1024, 65_536][round % 4];
            let mut expected = std::collections::BTreeMap::new();
            let mut first_added = Vec::new();
            for _ in 0..len {
                let c = rng.random_range(0..len as u32 * 2) * stride;
                // Zero weights too: an added community is drained even at 0.
                let w = rng.random_range(0..4) as f64;
                table.add(c, w);
                if !expected.contains_key(&c) {
                    first_added.push(c);
                }
                *expected.entry(c).or_insert(0.0) += w;
            }
            for (&c, &w) in &expected {
                assert_eq!(table.get(c), w);
            }
            assert_eq!(table.get(u32::MAX - 1), 0.0);
            let mut drained = Vec::new();
            table.drain(|c, w| drained.push((c, w)));
            let want: Vec<(u32, f64)> = first_added.iter().map(|&c| (c, expected[&c])).collect();
            assert_eq!(drained, want);
            // Empty again: nothing left to read or drain.
            for &c in &first_added {
                assert_eq!(table.get(c), 0.0);
            }
            table.drain(|c, _| panic!("{c} left after drain"));
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

    /// Batched moving as first written: every neighbor of a mover is
    /// stamped, a stamped node goes back to the queue, and a mover queues
    /// its neighbors by their current communities. [`move_nodes_batched`]
    /// must make exactly these moves from its precomputed lists.
    fn batched_by_stamps<Q: QualityFunction>(
        graph: &LevelGraph<'_>,
        quality: &Q,
        partition: &mut LevelPartition,
        order: &[u32],
    ) {
        let n = graph.node_count();
        let x = quality.node_weights(graph);
        let lambda = quality.penalty(graph);
        let degree = (graph.entry_count() / n.max(1)).max(1);
        let batch_size = (n / (16 * degree)).clamp(64, 8192);
        let mut queue = NodeQueue::new(n);
        order.iter().filter(|&&v| !graph.is_fixed(v)).for_each(|&v| queue.push(v));
        let (mut stamp, mut batch_no) = (vec![0u32; n], 0u32);
        let mut scratch = EvalScratch::default();
        loop {
            let batch: Vec<u32> = std::iter::from_fn(|| queue.pop()).take(batch_size).collect();
            if batch.is_empty() {
                return;
            }
            batch_no += 1;
            let frozen = Frozen::new(graph, quality, partition);
            let evaluated: Vec<Evaluated> =
                batch.iter().map(|&v| frozen.evaluate(v, &mut scratch, None)).collect();
            for e in evaluated {
                let v = e.v;
                if e.proposal == Proposal::Stay {
                    continue;
                }
                if stamp[v as usize] == batch_no {
                    queue.push(v);
                    continue;
                }
                let lx = lambda * x[v as usize];
                let from = partition.community_of(v);
                let threshold =
                    e.w_from - lx * (partition.weight(from) - x[v as usize]) + 1e-12 * e.out_weight;
                let mut to = None;
                if let Proposal::To { to: c, w_to } = e.proposal {
                    let gain = w_to - lx * partition.weight(c);
                    if gain <= threshold {
                        queue.push(v);
                        continue;
                    }
                    to = (gain >= 0.0).then_some(c);
                }
                if to.is_none() {
                    if threshold >= 0.0 || partition.nodes(from) <= 1 {
                        continue;
                    }
                    to = partition.take_empty();
                }
                let Some(to) = to else { continue };
                partition.move_node(v, to, x[v as usize]);
                let row = graph.offsets()[v as usize]..graph.offsets()[v as usize + 1];
                for &u in &graph.targets()[row] {
                    stamp[u as usize] = batch_no;
                    if u != v && partition.community_of(u) != to && !graph.is_fixed(u) {
                        queue.push(u);
                    }
                }
            }
        }
    }

    #[test]
    fn batched_moving_makes_the_moves_of_the_stamped_apply() {
        let mut rng = Pcg64::seed_from_u64(11);
        for round in 0..24u32 {
            // Dense enough that many batch nodes neighbor earlier ones.
            let n = 200 + 40 * (round % 5);
            let mut edges = Vec::new();
            for _ in 0..n * 6 {
                let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
                edges.push((a, b, rng.random_range(1..4) as f32));
            }
            let g = Graph::from_edges(n as usize, edges);
            let fixed: Vec<u32> = if round % 3 == 0 { vec![0, 7, 19] } else { Vec::new() };
            let level = LevelGraph::from_graph(&g, &fixed, usize::MAX);
            let mut order: Vec<u32> = (0..n).collect();
            order.shuffle(&mut rng);
            let start: Vec<u32> = (0..n).map(|v| if round % 2 == 0 { v } else { v % 7 }).collect();
            let m = Modularity { resolution: 0.5 + (round % 4) as f64 * 0.5 };
            let mut want = LevelPartition::new(start.clone(), m.node_weights(&level));
            batched_by_stamps(&level, &m, &mut want, &order);
            let mut got = LevelPartition::new(start.clone(), m.node_weights(&level));
            move_nodes_batched(&level, &m, &mut got, &order, true);
            assert_eq!(got.membership(), want.membership(), "modularity, round {round}");
            // CPM at a high resolution sends nodes to empty communities.
            let c = Cpm { resolution: [0.05, 0.5, 3.0][round as usize % 3] };
            let mut want = LevelPartition::new(start.clone(), c.node_weights(&level));
            batched_by_stamps(&level, &c, &mut want, &order);
            let mut got = LevelPartition::new(start, c.node_weights(&level));
            move_nodes_batched(&level, &c, &mut got, &order, false);
            assert_eq!(got.membership(), want.membership(), "CPM, round {round}");
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
