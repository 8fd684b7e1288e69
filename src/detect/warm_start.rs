//! [`WarmStart`]: an earlier run's communities, for a detection to start
//! from instead of from singletons.

use ahash::AHashMap;

use crate::community::Partition;
use crate::id::AccountId;
use crate::index::Index;

/// Communities of an earlier run, by account name, that Leiden starts from
/// (a warm start; see [`LeidenConfig::initial`](crate::community::LeidenConfig::initial)),
/// usually [`Analysis::warm_start`](crate::Analysis::warm_start) of that run.
///
/// When the input grows a little between two runs, as it does for the
/// watcher's periodic re-clustering, most accounts stay where they were:
/// starting from the earlier communities saves most of the first local
/// moving, and the result stays close to the earlier one. Accounts the
/// earlier run did not know (and accounts it left alone) start alone; names
/// the new input does not hold are ignored. The warm start is only a
/// starting point: Leiden still moves, refines and aggregates from it, so
/// the result is a partition of the new graph, deterministic for the same
/// input, warm start and seed.
///
/// # Example
///
/// ```
/// use hydra_detect::{Config, Detector, Event, IndicatorKind, WarmStart};
///
/// let mut events = Vec::new();
/// for i in 0..3 {
///     events.push(Event::signup(1_767_225_600 + i, format!("a{i}")));
///     events.push(Event::observe(1_767_225_700 + i, format!("a{i}"), IndicatorKind::Ip, "192.0.2.7"));
/// }
/// let first = Detector::new(Config::new()).analyze_events(events.clone())?;
/// events.push(Event::observe(1_767_225_800, "a3", IndicatorKind::Ip, "192.0.2.7"));
/// let again = Detector::new(Config::new())
///     .warm_start(first.warm_start())
///     .detect_events(events)?;
/// assert_eq!(again.accounts.len(), 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WarmStart {
    /// Account name → community label (labels are arbitrary; equal labels
    /// mean one community).
    labels: AHashMap<Box<str>, u32>,
}

impl WarmStart {
    /// No communities: every account starts alone, as without a warm start.
    pub fn new() -> WarmStart {
        WarmStart::default()
    }

    /// Communities given as lists of account names (a name listed twice
    /// keeps its last community).
    pub fn from_communities<C, S>(communities: impl IntoIterator<Item = C>) -> WarmStart
    where
        C: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut labels = AHashMap::new();
        for (label, members) in communities.into_iter().enumerate() {
            for name in members {
                labels.insert(name.as_ref().into(), label as u32);
            }
        }
        WarmStart { labels }
    }

    /// Number of accounts with a community.
    pub fn account_count(&self) -> usize {
        self.labels.len()
    }

    /// The communities as sorted lists of sorted names, in order of their
    /// first member: a canonical form, independent of hash order.
    pub fn communities(&self) -> Vec<Vec<&str>> {
        let mut pairs: Vec<(u32, &str)> =
            self.labels.iter().map(|(name, &label)| (label, &**name)).collect();
        pairs.sort_unstable();
        let mut communities: Vec<Vec<&str>> = pairs
            .chunk_by(|x, y| x.0 == y.0)
            .map(|run| run.iter().map(|&(_, name)| name).collect())
            .collect();
        communities.sort_unstable();
        communities
    }

    /// The starting partition of `index`'s accounts: known accounts by their
    /// community, every other account alone.
    ///
    /// # Complexity
    ///
    /// `O(A)` lookups for `A` accounts in the index.
    pub(crate) fn partition(&self, index: &Index) -> Partition {
        let n = index.account_count();
        // Labels of the warm start come first; an account without one gets
        // a label of its own past them.
        let base = self.labels.values().copied().max().map_or(0, |m| m as usize + 1);
        let membership = (0..n)
            .map(|i| {
                let name = index.account_name(AccountId::new(i as u32));
                match self.labels.get(name) {
                    Some(&label) => label,
                    None => (base + i) as u32,
                }
            })
            .collect();
        Partition::from_membership(membership)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, IndicatorKind};
    use crate::index::IndexBuilder;

    fn index(names: &[&str]) -> Index {
        let mut b = IndexBuilder::new();
        for (i, n) in names.iter().enumerate() {
            b.add(&Event::observe(1_767_225_600 + i as i64, *n, IndicatorKind::Ip, "192.0.2.1"))
                .unwrap();
        }
        b.finish()
    }

    #[test]
    fn known_accounts_start_together_and_new_ones_alone() {
        let start = WarmStart::from_communities([vec!["a", "c"], vec!["b", "gone"]]);
        let index = index(&["a", "b", "c", "d", "e"]);
        let p = start.partition(&index);
        let of = |name: &str| p.community_of(index.account_id(name).unwrap().index() as u32);
        assert_eq!(of("a"), of("c"));
        assert_ne!(of("a"), of("b"));
        assert_ne!(of("d"), of("e"));
        assert_ne!(of("d"), of("a"));
        assert_ne!(of("d"), of("b"));
        assert_eq!(p.community_count(), 4);
    }

    #[test]
    fn an_empty_warm_start_is_singletons() {
        let index = index(&["x", "y", "z"]);
        assert_eq!(WarmStart::new().partition(&index), Partition::singletons(3));
    }

    #[test]
    fn communities_are_canonical() {
        let a = WarmStart::from_communities([vec!["b", "a"], vec!["c"]]);
        let b = WarmStart::from_communities([vec!["c"], vec!["a", "b"]]);
        assert_eq!(a.communities(), vec![vec!["a", "b"], vec!["c"]]);
        assert_eq!(a.communities(), b.communities());
        assert_eq!(a.account_count(), 3);
    }
}
