//! Per-account time facts: signup, first and last seen, ban spans and
//! activity minutes.
//!
//! # Overview
//!
//! - [`AccountTimes`] accumulates first/last seen, explicit signup and the
//!   observation count per account; every fold is order-free (min, max, sum).
//! - [`BanSpan`] is one ban and the unban that lifted it, if any;
//!   [`build_bans`] turns ban/unban events into spans after sorting them, so
//!   the spans do not depend on input order.
//! - [`Activity`] keeps, per account, the smallest `cap` distinct activity
//!   minutes: keeping the smallest is order-free, and the cap bounds memory.

use rayon::slice::ParallelSliceMut;

use crate::event::Timestamp;

/// Folded times of one account while building.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AccountTimes {
    pub(crate) first: Timestamp,
    pub(crate) last: Timestamp,
    /// Earliest explicit signup; `Timestamp::MAX` if none.
    pub(crate) signup: Timestamp,
    pub(crate) observations: u64,
}

impl Default for AccountTimes {
    fn default() -> Self {
        Self {
            first: Timestamp::MAX,
            last: Timestamp::MIN,
            signup: Timestamp::MAX,
            observations: 0,
        }
    }
}

impl AccountTimes {
    /// Notes an event at `ts`.
    #[inline]
    pub(crate) fn saw(&mut self, ts: Timestamp) {
        self.first = self.first.min(ts);
        self.last = self.last.max(ts);
    }

    /// Whether an explicit signup was seen.
    pub(crate) fn has_explicit_signup(&self) -> bool {
        self.signup != Timestamp::MAX
    }

    /// The signup time: explicit if any, else the earliest event.
    pub(crate) fn signup(&self) -> Timestamp {
        if self.has_explicit_signup() { self.signup } else { self.first }
    }
}

/// One ban of an account, and when it was lifted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BanSpan {
    /// When the ban started.
    pub(crate) ts: Timestamp,
    /// Why, as given on the ban event.
    pub(crate) reason: Option<Box<str>>,
    /// When an unban lifted it; `None` while in force at the end of the input.
    pub(crate) unban: Option<Timestamp>,
}

/// A ban or unban event while building.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct BanEvent {
    pub(crate) account: u32,
    pub(crate) ts: Timestamp,
    /// `false` for a ban, `true` for an unban: at equal times the ban sorts first.
    pub(crate) unban: bool,
    pub(crate) reason: Option<Box<str>>,
}

/// Turns ban events into per-account spans, as a CSR over final account ids.
///
/// Events are sorted by (account, time, ban before unban, reason) first, so
/// the result does not depend on input order. A ban while already banned is
/// part of the open span (its reason is the first ban's); an unban with no
/// ban in force is ignored.
///
/// # Complexity
///
/// `O(b log b)` for `b` ban and unban events.
pub(crate) fn build_bans(
    mut events: Vec<BanEvent>,
    account_rank: &[u32],
) -> (Vec<usize>, Vec<BanSpan>) {
    for e in &mut events {
        e.account = account_rank[e.account as usize];
    }
    events.sort_unstable();
    let mut offsets = vec![0usize; account_rank.len() + 1];
    let mut spans: Vec<BanSpan> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let account = events[i].account;
        let start = spans.len();
        while i < events.len() && events[i].account == account {
            let e = &mut events[i];
            let open = spans.len() > start && spans.last().is_some_and(|s| s.unban.is_none());
            match (e.unban, open) {
                (false, false) => {
                    spans.push(BanSpan { ts: e.ts, reason: e.reason.take(), unban: None })
                }
                (true, true) => {
                    if let Some(s) = spans.last_mut() {
                        s.unban = Some(e.ts);
                    }
                }
                // A repeated ban joins the open span; a stray unban changes nothing.
                _ => {}
            }
            i += 1;
        }
        offsets[account as usize + 1] = spans.len() - start;
    }
    for a in 0..account_rank.len() {
        offsets[a + 1] += offsets[a];
    }
    (offsets, spans)
}

/// Activity minutes of an event time: `ts / 60` rounded down, clamped to
/// `u32` (times before 1970 count as minute 0).
#[inline]
pub(crate) fn minute_of(ts: Timestamp) -> u32 {
    ts.div_euclid(60).clamp(0, u32::MAX as i64) as u32
}

/// Smallest buffer length at which a compaction is worth its sort.
const MIN_COMPACT_LEN: usize = 1 << 20;

/// (account, minute) pairs, compacted to the smallest `cap` distinct minutes
/// per account whenever the buffer has doubled.
#[derive(Debug)]
pub(crate) struct Activity {
    /// Invariant: `pairs[..compacted]` is sorted, distinct and capped per account.
    pairs: Vec<(u32, u32)>,
    compacted: usize,
    cap: usize,
}

impl Activity {
    /// An empty buffer keeping at most `cap` minutes per account.
    pub(crate) fn new(cap: usize) -> Self {
        Self { pairs: Vec::new(), compacted: 0, cap }
    }

    /// Notes activity of `account` in `minute`.
    #[inline]
    pub(crate) fn push(&mut self, account: u32, minute: u32, parallel_threshold: usize) {
        if self.cap == 0 {
            return;
        }
        self.pairs.push((account, minute));
        if self.pairs.len() >= MIN_COMPACT_LEN.max(self.compacted.saturating_mul(2)) {
            self.compact(parallel_threshold);
        }
    }

    fn compact(&mut self, parallel_threshold: usize) {
        if self.pairs.len() >= parallel_threshold {
            self.pairs.par_sort_unstable();
        } else {
            self.pairs.sort_unstable();
        }
        self.pairs.dedup();
        let cap = self.cap;
        let mut run_account = u32::MAX;
        let mut run = 0usize;
        self.pairs.retain(|&(a, _)| {
            if a != run_account {
                run_account = a;
                run = 0;
            }
            run += 1;
            run <= cap
        });
        self.pairs.shrink_to(self.pairs.len() + self.pairs.len() / 2);
        self.compacted = self.pairs.len();
    }

    /// The final per-account minute lists as a CSR over final account ids.
    pub(crate) fn finish(
        mut self,
        account_rank: &[u32],
        parallel_threshold: usize,
    ) -> (Vec<usize>, Vec<u32>) {
        for p in &mut self.pairs {
            p.0 = account_rank[p.0 as usize];
        }
        self.compacted = 0;
        self.compact(parallel_threshold);
        let mut offsets = vec![0usize; account_rank.len() + 1];
        for &(a, _) in &self.pairs {
            offsets[a as usize + 1] += 1;
        }
        for a in 0..account_rank.len() {
            offsets[a + 1] += offsets[a];
        }
        let minutes = self.pairs.into_iter().map(|(_, m)| m).collect();
        (offsets, minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ban(account: u32, ts: Timestamp, reason: &str) -> BanEvent {
        BanEvent { account, ts, unban: false, reason: Some(reason.into()) }
    }

    fn unban(account: u32, ts: Timestamp) -> BanEvent {
        BanEvent { account, ts, unban: true, reason: None }
    }

    #[test]
    fn bans_become_spans_in_time_order() {
        let events = vec![unban(0, 20), ban(0, 30, "spam"), ban(0, 10, "hydra"), unban(0, 5)];
        let (offsets, spans) = build_bans(events, &[0, 1]);
        assert_eq!(offsets, [0, 2, 2]);
        assert_eq!(spans[0], BanSpan { ts: 10, reason: Some("hydra".into()), unban: Some(20) });
        assert_eq!(spans[1], BanSpan { ts: 30, reason: Some("spam".into()), unban: None });
    }

    #[test]
    fn repeated_ban_joins_the_open_span() {
        let events = vec![ban(1, 10, "a"), ban(1, 15, "b"), unban(1, 40)];
        let (offsets, spans) = build_bans(events, &[1, 0]);
        assert_eq!(offsets, [0, 1, 1]);
        assert_eq!(spans, [BanSpan { ts: 10, reason: Some("a".into()), unban: Some(40) }]);
    }

    #[test]
    fn activity_keeps_smallest_distinct_minutes() {
        let mut act = Activity::new(3);
        for m in [9, 3, 3, 7, 1, 8] {
            act.push(0, m, usize::MAX);
        }
        act.push(1, 4, usize::MAX);
        let (offsets, minutes) = act.finish(&[0, 1], 0);
        assert_eq!(offsets, [0, 3, 4]);
        assert_eq!(minutes, [1, 3, 7, 4]);
    }

    #[test]
    fn minutes_clamp() {
        assert_eq!(minute_of(-5), 0);
        assert_eq!(minute_of(125), 2);
        assert_eq!(minute_of(i64::MAX), u32::MAX);
    }

    #[test]
    fn implicit_signup_is_the_earliest_event() {
        let mut t = AccountTimes::default();
        t.saw(50);
        t.saw(20);
        assert!(!t.has_explicit_signup());
        assert_eq!((t.signup(), t.first, t.last), (20, 20, 50));
        t.signup = 30;
        assert_eq!(t.signup(), 30);
    }
}
