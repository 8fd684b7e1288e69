//! Fast local moving: greedy node moves driven by a queue of unstable nodes.

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

/// Moves nodes of `graph` greedily between the communities of `partition`.
///
/// The fast local moving of Traag, Waltman and van Eck (2019): every node
/// starts in a queue in `order`; a node taken from the queue moves to the
/// neighboring community (or an empty one) with the largest strictly
/// positive quality gain, and then its neighbors outside its new community
/// re-enter the queue. It ends when the queue is empty, so no single move
/// improves the quality. Fixed nodes never move.
///
/// Per node, the weights to neighboring communities are summed in a dense
/// scratch array indexed by community and reset through a touched list: no
/// hashing or allocation in the loop.
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
    // Weight from the current node to each community; non-zero exactly for
    // the communities in `touched` (weights are >= 0; a zero-weight edge may
    // list its community twice, which is harmless).
    let mut to_comm = vec![0f64; n];
    let mut touched: Vec<u32> = Vec::with_capacity(256);
    let mut moves = 0usize;
    let has_fixed = graph.has_fixed();
    while let Some(v) = queue.pop() {
        let vi = v as usize;
        let row = offsets[vi]..offsets[vi + 1];
        let x_v = x[vi];
        let lx = lambda * x_v;
        // Scan with plain slices, so the loop keeps them in registers.
        let (from, best, best_gain, out_weight) = {
            let membership = partition.membership();
            let comm_weight = partition.weights();
            let from = membership[vi];
            let mut out_weight = 0f64;
            for (&u, &w) in targets[row.clone()].iter().zip(&weights[row.clone()]) {
                if u == v {
                    continue;
                }
                let c = membership[u as usize];
                let w = w as f64;
                out_weight += w;
                let slot = &mut to_comm[c as usize];
                if *slot == 0.0 {
                    touched.push(c);
                }
                *slot += w;
            }
            // Staying is the baseline; a move must beat it by more than
            // rounding noise, so no pair of moves can undo each other forever.
            let stay = to_comm[from as usize] - lx * (comm_weight[from as usize] - x_v);
            let mut best = from;
            let mut best_gain = stay + 1e-12 * out_weight;
            for &c in &touched {
                let w = std::mem::replace(&mut to_comm[c as usize], 0.0);
                let gain = w - lx * comm_weight[c as usize];
                if c != from && gain > best_gain {
                    best = c;
                    best_gain = gain;
                }
            }
            to_comm[from as usize] = 0.0;
            touched.clear();
            (from, best, best_gain, out_weight)
        };
        let mut best = best;
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
            moves += 1;
            let membership = partition.membership();
            for &u in &targets[row] {
                if u != v && membership[u as usize] != best && !(has_fixed && graph.is_fixed(u)) {
                    queue.push(u);
                }
            }
        }
    }
    moves
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::graph::Graph;
    use crate::community::leiden::quality::{Cpm, Modularity};

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
