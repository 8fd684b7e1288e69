//! Links between accounts and indicators: the observation buffer while
//! building, and the two CSR posting lists (account → links, indicator →
//! accounts) plus roaring bitmaps for shared indicators after.
//!
//! # Overview
//!
//! - [`Observations`] buffers raw `(account, indicator, time)` observations
//!   (16 bytes each) and, whenever they are as many as the merged links,
//!   radix-sorts them and merges them into one `(account, indicator, first,
//!   last, count)` record per link, so repeated observations cost memory only
//!   until the next merge.
//! - [`Postings`] is the frozen form, ids in sorted key order.

use rayon::prelude::*;
use roaring::RoaringBitmap;

use crate::event::Timestamp;
use crate::id::{AccountId, IndicatorId};

use super::{Link, radix};

/// One link while building: temporary ids, the times it was first and last
/// seen, and how often.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rec {
    pub(crate) account: u32,
    pub(crate) indicator: u32,
    pub(crate) first: Timestamp,
    pub(crate) last: Timestamp,
    pub(crate) count: u32,
}

/// Smallest raw tail at which a merge is worth its sort (4 Mi records, 64 MiB).
const MIN_MERGE_LEN: usize = 1 << 22;

/// One raw observation: `(account << 32) | indicator` and its time.
#[derive(Clone, Copy, Debug)]
struct Raw {
    key: u64,
    ts: Timestamp,
}

impl Rec {
    #[inline]
    fn key(&self) -> u64 {
        (u64::from(self.account) << 32) | u64::from(self.indicator)
    }
}

/// Observation records: a merged part with one record per link, and a raw
/// tail that is radix-sorted and merged into it whenever it has grown as
/// large as the merged part.
#[derive(Debug, Default)]
pub(crate) struct Observations {
    /// Invariant: sorted by (account, indicator) without repeats.
    merged: Vec<Rec>,
    /// Raw observations in arrival order.
    tail: Vec<Raw>,
}

impl Observations {
    /// Adds one observation of `indicator` by `account` at `ts`.
    #[inline]
    pub(crate) fn push(&mut self, account: u32, indicator: u32, ts: Timestamp) {
        self.tail.push(Raw { key: (u64::from(account) << 32) | u64::from(indicator), ts });
        if self.tail.len() >= MIN_MERGE_LEN.max(self.merged.len()) {
            self.merge();
        }
    }

    /// Sorts the tail and merges it into the merged part, folding repeats.
    ///
    /// # Complexity
    ///
    /// `O(t + m)` for a tail of `t` and a merged part of `m` records (radix
    /// sort, then one linear merge); since a merge waits until `t ≥ m`,
    /// amortised `O(1)` per observation.
    pub(crate) fn merge(&mut self) {
        if self.tail.is_empty() {
            return;
        }
        let mut tail = std::mem::take(&mut self.tail);
        radix::sort_by_key(&mut tail, |r| r.key);
        let old = std::mem::take(&mut self.merged);
        let mut out: Vec<Rec> = Vec::with_capacity(old.len() + tail.len() / 2);
        let mut old = old.into_iter().peekable();
        let mut i = 0;
        while i < tail.len() {
            let key = tail[i].key;
            while let Some(r) = old.next_if(|r| r.key() < key) {
                out.push(r);
            }
            let mut rec = Rec {
                account: (key >> 32) as u32,
                indicator: key as u32,
                first: tail[i].ts,
                last: tail[i].ts,
                count: 0,
            };
            if let Some(r) = old.next_if(|r| r.key() == key) {
                rec = r;
            }
            while i < tail.len() && tail[i].key == key {
                rec.first = rec.first.min(tail[i].ts);
                rec.last = rec.last.max(tail[i].ts);
                rec.count = rec.count.saturating_add(1);
                i += 1;
            }
            out.push(rec);
        }
        out.extend(old);
        self.merged = out;
    }

    /// The merged records, sorted by (account, indicator).
    pub(crate) fn into_merged(mut self) -> Vec<Rec> {
        self.merge();
        self.merged
    }
}

/// Frozen posting lists in both directions.
#[derive(Debug, Default)]
pub(crate) struct Postings {
    /// Invariant: `account_offsets.len() == accounts + 1`; account `a`'s links
    /// are `links[account_offsets[a]..account_offsets[a + 1]]`, sorted by indicator.
    pub(crate) account_offsets: Vec<usize>,
    pub(crate) links: Vec<Link>,
    /// Invariant: `indicator_offsets.len() == indicators + 1`; indicator `i`'s
    /// accounts are `indicator_accounts[indicator_offsets[i]..indicator_offsets[i + 1]]`, sorted.
    pub(crate) indicator_offsets: Vec<usize>,
    pub(crate) indicator_accounts: Vec<AccountId>,
    /// Parallel to `indicator_accounts`: when each account was first seen on
    /// the indicator, so projection reads links in indicator order without a
    /// search per account.
    pub(crate) indicator_firsts: Vec<Timestamp>,
    /// Ids of the indicators with two or more accounts, sorted; `bitmaps[j]`
    /// holds the accounts of `shared[j]`.
    pub(crate) shared: Vec<IndicatorId>,
    pub(crate) bitmaps: Vec<RoaringBitmap>,
}

impl Postings {
    /// Builds both directions from merged records, remapping temporary ids
    /// through `account_rank` and `indicator_rank` (temporary id → final id).
    ///
    /// # Complexity
    ///
    /// `O(L + A + I)` scatters plus `O(L log d)` to sort each account's links,
    /// for `L` links, `A` accounts, `I` indicators, `d` links per account.
    pub(crate) fn build(
        recs: Vec<Rec>,
        account_rank: &[u32],
        indicator_rank: &[u32],
        parallel_threshold: usize,
    ) -> Self {
        let accounts = account_rank.len();
        let indicators = indicator_rank.len();

        // Account side: counting sort by final account id, then sort each
        // account's (short) slice by final indicator id.
        let mut account_offsets = vec![0usize; accounts + 1];
        for r in &recs {
            account_offsets[account_rank[r.account as usize] as usize + 1] += 1;
        }
        for a in 0..accounts {
            account_offsets[a + 1] += account_offsets[a];
        }
        let mut cursor = account_offsets.clone();
        let mut links = vec![Link::default(); recs.len()];
        for r in &recs {
            let a = account_rank[r.account as usize] as usize;
            links[cursor[a]] = Link {
                indicator: IndicatorId::new(indicator_rank[r.indicator as usize]),
                first: r.first,
                last: r.last,
                count: r.count,
            };
            cursor[a] += 1;
        }
        drop(cursor);
        drop(recs);
        for a in 0..accounts {
            links[account_offsets[a]..account_offsets[a + 1]].sort_unstable_by_key(|l| l.indicator);
        }

        // Indicator side: scanning accounts in id order fills each indicator's
        // list already sorted.
        let mut indicator_offsets = vec![0usize; indicators + 1];
        for l in &links {
            indicator_offsets[l.indicator.index() + 1] += 1;
        }
        for i in 0..indicators {
            indicator_offsets[i + 1] += indicator_offsets[i];
        }
        let mut cursor = indicator_offsets.clone();
        let mut indicator_accounts = vec![AccountId::new(0); links.len()];
        let mut indicator_firsts = vec![0; links.len()];
        for a in 0..accounts {
            for l in &links[account_offsets[a]..account_offsets[a + 1]] {
                let i = l.indicator.index();
                indicator_accounts[cursor[i]] = AccountId::new(a as u32);
                indicator_firsts[cursor[i]] = l.first;
                cursor[i] += 1;
            }
        }
        drop(cursor);

        let shared: Vec<IndicatorId> = (0..indicators)
            .filter(|&i| indicator_offsets[i + 1] - indicator_offsets[i] >= 2)
            .map(|i| IndicatorId::new(i as u32))
            .collect();
        let bitmap_of = |i: &IndicatorId| {
            let list =
                &indicator_accounts[indicator_offsets[i.index()]..indicator_offsets[i.index() + 1]];
            // Lists are sorted and distinct, so this cannot fail; fall back to
            // inserting one by one rather than panic if that ever changed.
            RoaringBitmap::from_sorted_iter(list.iter().map(|a| a.as_u32()))
                .unwrap_or_else(|_| list.iter().map(|a| a.as_u32()).collect())
        };
        let bitmaps = if shared.len() >= parallel_threshold {
            shared.par_iter().map(bitmap_of).collect()
        } else {
            shared.iter().map(bitmap_of).collect()
        };
        Self {
            account_offsets,
            links,
            indicator_offsets,
            indicator_accounts,
            indicator_firsts,
            shared,
            bitmaps,
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.account_offsets.capacity() * size_of::<usize>()
            + self.links.capacity() * size_of::<Link>()
            + self.indicator_offsets.capacity() * size_of::<usize>()
            + self.indicator_accounts.capacity() * size_of::<AccountId>()
            + self.indicator_firsts.capacity() * size_of::<Timestamp>()
            + self.shared.capacity() * size_of::<IndicatorId>()
            + self.bitmaps.iter().map(|b| b.serialized_size()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_folds_repeats_in_any_order() {
        let obs = [(1, 2, 50), (0, 1, 10), (1, 2, 30), (1, 2, 70), (0, 1, 5), (0, 0, 9)];
        let expected = [
            Rec { account: 0, indicator: 0, first: 9, last: 9, count: 1 },
            Rec { account: 0, indicator: 1, first: 5, last: 10, count: 2 },
            Rec { account: 1, indicator: 2, first: 30, last: 70, count: 3 },
        ];
        // Forward, backward, and with merges after every k observations.
        for merge_every in [1, 2, 3, usize::MAX] {
            for reverse in [false, true] {
                let mut o = Observations::default();
                let order: Vec<_> =
                    if reverse { obs.iter().rev().collect() } else { obs.iter().collect() };
                for (i, &&(acc, ind, ts)) in order.iter().enumerate() {
                    o.push(acc, ind, ts);
                    if (i + 1) % merge_every.min(obs.len() + 1) == 0 {
                        o.merge();
                    }
                }
                assert_eq!(o.into_merged(), expected, "every {merge_every}, reverse {reverse}");
            }
        }
    }

    #[test]
    fn counts_saturate() {
        let mut o = Observations::default();
        o.merged.push(Rec { account: 0, indicator: 0, first: 3, last: 3, count: u32::MAX });
        o.push(0, 0, 1);
        assert_eq!(
            o.into_merged(),
            [Rec { account: 0, indicator: 0, first: 1, last: 3, count: u32::MAX }]
        );
    }

    #[test]
    fn postings_are_sorted_both_ways() {
        let recs = vec![
            Rec { account: 0, indicator: 0, first: 1, last: 1, count: 1 },
            Rec { account: 0, indicator: 1, first: 2, last: 2, count: 1 },
            Rec { account: 1, indicator: 0, first: 3, last: 4, count: 2 },
        ];
        // Temporary account 0 becomes 1 and vice versa; indicators likewise.
        let p = Postings::build(recs, &[1, 0], &[1, 0], 0);
        assert_eq!(p.account_offsets, [0, 1, 3]);
        let inds: Vec<u32> = p.links.iter().map(|l| l.indicator.as_u32()).collect();
        assert_eq!(inds, [1, 0, 1]);
        assert_eq!(p.indicator_offsets, [0, 1, 3]);
        let accs: Vec<u32> = p.indicator_accounts.iter().map(|a| a.as_u32()).collect();
        assert_eq!(p.indicator_firsts, [2, 3, 1]);
        assert_eq!(accs, [1, 0, 1]);
        assert_eq!(p.shared, [IndicatorId::new(1)]);
        assert_eq!(p.bitmaps[0].iter().collect::<Vec<_>>(), [0, 1]);
    }
}
