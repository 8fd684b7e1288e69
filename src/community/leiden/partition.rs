//! [`LevelPartition`]: the mutable partition of one level, with per-community aggregates.

/// A partition of the nodes of one level graph, with the aggregates that
/// make a move cost O(1) to evaluate.
///
/// Changed only by [`move_node`](LevelPartition::move_node), so the
/// aggregates always equal a recount (up to float rounding). Community ids
/// are `< node_count`; some may be empty.
#[derive(Clone, Debug)]
pub(crate) struct LevelPartition {
    /// Community of each node, `< membership.len()`.
    membership: Vec<u32>,
    /// Per community: sum of its members' node weights (strength for
    /// modularity, size for CPM), the `X_c` of the penalty term.
    weight: Vec<f64>,
    /// Per community: number of member nodes.
    nodes: Vec<u32>,
    /// Candidate empty community ids; may hold stale (non-empty) or repeated
    /// ids, which [`take_empty`](LevelPartition::take_empty) skips.
    empty: Vec<u32>,
    /// Number of non-empty communities.
    nonempty: usize,
}

impl LevelPartition {
    /// A partition from `membership` (every id `< membership.len()`), with
    /// node weights `x`.
    pub(crate) fn new(membership: Vec<u32>, x: &[f64]) -> LevelPartition {
        let n = membership.len();
        debug_assert_eq!(x.len(), n);
        let mut weight = vec![0f64; n];
        let mut nodes = vec![0u32; n];
        for (v, &c) in membership.iter().enumerate() {
            weight[c as usize] += x[v];
            nodes[c as usize] += 1;
        }
        // Pushed in decreasing order so the smallest empty id is taken first.
        let empty: Vec<u32> = (0..n as u32).rev().filter(|&c| nodes[c as usize] == 0).collect();
        let nonempty = n - empty.len();
        LevelPartition { membership, weight, nodes, empty, nonempty }
    }

    /// Every node in its own community.
    #[cfg(test)]
    pub(crate) fn singletons(x: &[f64]) -> LevelPartition {
        LevelPartition::new((0..x.len() as u32).collect(), x)
    }

    /// The community of each node.
    #[inline]
    pub(crate) fn membership(&self) -> &[u32] {
        &self.membership
    }

    /// The community of `v`.
    #[inline]
    pub(crate) fn community_of(&self, v: u32) -> u32 {
        self.membership[v as usize]
    }

    /// `X_c` of every community.
    #[inline]
    pub(crate) fn weights(&self) -> &[f64] {
        &self.weight
    }

    /// `X_c`: the summed node weight of community `c`.
    #[inline]
    pub(crate) fn weight(&self, c: u32) -> f64 {
        self.weight[c as usize]
    }

    /// Number of members of community `c`.
    #[inline]
    pub(crate) fn nodes(&self, c: u32) -> u32 {
        self.nodes[c as usize]
    }

    /// Number of non-empty communities.
    #[inline]
    pub(crate) fn community_count(&self) -> usize {
        self.nonempty
    }

    /// An empty community id, reserved for the caller's next move; `None` if
    /// every community has a member.
    pub(crate) fn take_empty(&mut self) -> Option<u32> {
        while let Some(c) = self.empty.pop() {
            if self.nodes[c as usize] == 0 {
                return Some(c);
            }
        }
        None
    }

    /// Moves `v` (node weight `x_v`) to community `to`, updating the aggregates.
    #[inline]
    pub(crate) fn move_node(&mut self, v: u32, to: u32, x_v: f64) {
        let from = self.membership[v as usize];
        if from == to {
            return;
        }
        self.membership[v as usize] = to;
        self.weight[from as usize] -= x_v;
        self.nodes[from as usize] -= 1;
        if self.nodes[from as usize] == 0 {
            // Exact zero, so an emptied community does not carry rounding
            // residue into its next use.
            self.weight[from as usize] = 0.0;
            self.empty.push(from);
            self.nonempty -= 1;
        }
        if self.nodes[to as usize] == 0 {
            self.nonempty += 1;
        }
        self.weight[to as usize] += x_v;
        self.nodes[to as usize] += 1;
    }

    /// Renumbers the non-empty communities densely, in increasing id order.
    ///
    /// Returns the new membership and the number of communities.
    pub(crate) fn dense_membership(&self) -> (Vec<u32>, usize) {
        let mut map = vec![u32::MAX; self.membership.len()];
        let mut next = 0u32;
        for (c, &count) in self.nodes.iter().enumerate() {
            if count > 0 {
                map[c] = next;
                next += 1;
            }
        }
        (self.membership.iter().map(|&c| map[c as usize]).collect(), next as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn moves_update_aggregates_and_empty_slots() {
        let x = [1.0, 2.0, 3.0];
        let mut p = LevelPartition::singletons(&x);
        assert_eq!(p.community_count(), 3);
        assert_eq!(p.take_empty(), None);
        p.move_node(0, 1, 1.0);
        assert_eq!(p.weight(1), 3.0);
        assert_eq!(p.nodes(1), 2);
        assert_eq!(p.community_count(), 2);
        assert_eq!(p.take_empty(), Some(0));
        p.move_node(2, 0, 3.0);
        assert_eq!(p.membership(), &[1, 1, 0]);
        assert_eq!(p.dense_membership(), (vec![1, 1, 0], 2));
    }

    proptest! {
        #[test]
        fn aggregates_equal_a_recount_after_random_moves(
            x in prop::collection::vec(0.0f64..10.0, 1..40),
            moves in prop::collection::vec((0usize..1000, 0usize..1000), 0..200),
        ) {
            let n = x.len();
            let mut p = LevelPartition::singletons(&x);
            for (v, to) in moves {
                let (v, to) = (v % n, to % n);
                p.move_node(v as u32, to as u32, x[v]);
            }
            let mut weight = vec![0f64; n];
            let mut nodes = vec![0u32; n];
            for (v, &c) in p.membership().iter().enumerate() {
                weight[c as usize] += x[v];
                nodes[c as usize] += 1;
            }
            for c in 0..n as u32 {
                prop_assert_eq!(p.nodes(c), nodes[c as usize]);
                prop_assert!((p.weight(c) - weight[c as usize]).abs() < 1e-9);
            }
            prop_assert_eq!(p.community_count(), nodes.iter().filter(|&&k| k > 0).count());
            let fresh = LevelPartition::new(p.membership().to_vec(), &x);
            prop_assert_eq!(fresh.community_count(), p.community_count());
            // Every id take_empty hands out is truly empty.
            while let Some(c) = p.take_empty() {
                prop_assert_eq!(nodes[c as usize], 0);
            }
        }
    }
}
