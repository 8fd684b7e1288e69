//! [`Partition`]: an assignment of every node to one community.

use std::collections::HashMap;

/// An assignment of every node `0..node_count()` to a community `0..community_count()`.
///
/// Community ids are dense and numbered by their smallest member: the
/// community of node 0 is 0, the next community met in node order is 1, and
/// so on. Two partitions that group the nodes the same way are therefore
/// equal (`==`) whatever labels they were built from.
///
/// # Examples
///
/// ```
/// use hydra_detect::community::Partition;
///
/// let p = Partition::from_membership(vec![7, 3, 7, 9]);
/// assert_eq!(p.membership(), &[0, 1, 0, 2]);
/// assert_eq!(p.community_count(), 3);
/// assert_eq!(p.communities(), vec![vec![0, 2], vec![1], vec![3]]);
/// assert_eq!(p, Partition::from_membership(vec![0, 5, 0, 1]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Partition {
    /// Community of each node; dense, and first occurrences appear in increasing order.
    membership: Vec<u32>,
    /// Number of distinct values in `membership`.
    community_count: usize,
}

impl Partition {
    /// Builds a partition from arbitrary labels, renumbering them densely by smallest member.
    ///
    /// Nodes with equal labels share a community.
    ///
    /// # Complexity
    ///
    /// O(n) time and space (a hash map is used instead of a dense table when
    /// labels are much larger than `n`).
    pub fn from_membership(mut membership: Vec<u32>) -> Partition {
        let n = membership.len();
        let max = membership.iter().copied().max().unwrap_or(0) as usize;
        let mut next = 0u32;
        if max <= 2 * n + 1024 {
            let mut map = vec![u32::MAX; max + 1];
            for label in membership.iter_mut() {
                let slot = &mut map[*label as usize];
                if *slot == u32::MAX {
                    *slot = next;
                    next += 1;
                }
                *label = *slot;
            }
        } else {
            // Sparse labels: a map keeps memory proportional to n. Ids are
            // assigned in node order, so the map's iteration order never matters.
            let mut map: HashMap<u32, u32, ahash::RandomState> =
                HashMap::with_capacity_and_hasher(n.min(1 << 20), ahash::RandomState::new());
            for label in membership.iter_mut() {
                let id = *map.entry(*label).or_insert_with(|| {
                    next += 1;
                    next - 1
                });
                *label = id;
            }
        }
        Partition { membership, community_count: next as usize }
    }

    /// Every node in its own community.
    pub fn singletons(node_count: usize) -> Partition {
        Partition::from_dense((0..node_count as u32).collect(), node_count)
    }

    /// Trusted constructor: `membership` is already dense and numbered by smallest member.
    pub(crate) fn from_dense(membership: Vec<u32>, community_count: usize) -> Partition {
        debug_assert_eq!(Partition::from_membership(membership.clone()).membership, membership);
        Partition { membership, community_count }
    }

    /// The community of each node.
    #[inline]
    pub fn membership(&self) -> &[u32] {
        &self.membership
    }

    /// Consumes the partition, returning the community of each node.
    pub fn into_membership(self) -> Vec<u32> {
        self.membership
    }

    /// Number of nodes.
    #[inline]
    pub fn node_count(&self) -> usize {
        self.membership.len()
    }

    /// Number of communities.
    #[inline]
    pub fn community_count(&self) -> usize {
        self.community_count
    }

    /// The community of `node`.
    ///
    /// # Panics
    ///
    /// If `node >= node_count()`.
    #[inline]
    #[track_caller]
    pub fn community_of(&self, node: u32) -> u32 {
        self.membership[node as usize]
    }

    /// Number of members of each community.
    pub fn community_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0usize; self.community_count];
        for &c in &self.membership {
            sizes[c as usize] += 1;
        }
        sizes
    }

    /// The members of each community, in increasing node order; community `c` is element `c`.
    pub fn communities(&self) -> Vec<Vec<u32>> {
        let mut out: Vec<Vec<u32>> =
            self.community_sizes().into_iter().map(Vec::with_capacity).collect();
        for (node, &c) in self.membership.iter().enumerate() {
            out[c as usize].push(node as u32);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renumbers_by_smallest_member() {
        let p = Partition::from_membership(vec![5, 5, 2, 9, 2]);
        assert_eq!(p.membership(), &[0, 0, 1, 2, 1]);
        assert_eq!(p.community_count(), 3);
        assert_eq!(p.community_of(3), 2);
        assert_eq!(p.community_sizes(), vec![2, 2, 1]);
        assert_eq!(p.communities(), vec![vec![0, 1], vec![2, 4], vec![3]]);
    }

    #[test]
    fn sparse_labels_use_bounded_memory_and_agree_with_dense() {
        let p = Partition::from_membership(vec![u32::MAX - 1, 4_000_000_000, u32::MAX - 1]);
        assert_eq!(p.membership(), &[0, 1, 0]);
        assert_eq!(p, Partition::from_membership(vec![1, 0, 1]));
    }

    #[test]
    fn empty_and_singletons() {
        let p = Partition::from_membership(vec![]);
        assert_eq!(p.community_count(), 0);
        assert!(p.communities().is_empty());
        let s = Partition::singletons(3);
        assert_eq!(s.membership(), &[0, 1, 2]);
        assert_eq!(s.community_count(), 3);
        assert_eq!(s.into_membership(), vec![0, 1, 2]);
    }
}
