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
//!   Pairs are packed in one `u64` and radix-sorted in batches.

use crate::event::Timestamp;

use super::radix;

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

/// Smallest raw tail at which a compaction is worth its sort (4 Mi pairs, 32 MiB).
const MIN_COMPACT_LEN: usize = 1 << 22;

/// `(account << 32) | minute`: sorting the key sorts by account, then minute.
#[inline]
fn pair_key(account: u32, minute: u32) -> u64 {
    (u64::from(account) << 32) | u64::from(minute)
}

/// (account, minute) pairs, compacted to the smallest `cap` distinct minutes
/// per account whenever the raw tail is as long as the compacted part.
#[derive(Debug)]
pub(crate) struct Activity {
    /// Invariant: sorted, distinct, at most `cap` minutes per account.
    compacted: Vec<u64>,
    /// Raw pairs in arrival order.
    tail: Vec<u64>,
    cap: usize,
}

impl Activity {
    /// An empty buffer keeping at most `cap` minutes per account.
    pub(crate) fn new(cap: usize) -> Self {
        Self { compacted: Vec::new(), tail: Vec::new(), cap }
    }

    /// Notes activity of `account` in `minute`.
    #[inline]
    pub(crate) fn push(&mut self, account: u32, minute: u32) {
        if self.cap == 0 {
            return;
        }
        self.tail.push(pair_key(account, minute));
        if self.tail.len() >= MIN_COMPACT_LEN.max(self.compacted.len()) {
            self.compact();
        }
    }

    /// Radix-sorts the tail and merges it into the compacted part, keeping
    /// the smallest `cap` distinct minutes per account.
    ///
    /// # Complexity
    ///
    /// `O(t + c)` for `t` raw and `c` compacted pairs.
    fn compact(&mut self) {
        let mut tail = std::mem::take(&mut self.tail);
        radix::sort_by_key(&mut tail, |&k| k);
        let old = std::mem::take(&mut self.compacted);
        let mut out = Vec::with_capacity(old.len() + tail.len());
        let (mut i, mut j) = (0, 0);
        let (mut run_account, mut run) = (u64::MAX, 0usize);
        while i < old.len() || j < tail.len() {
            let k = match (old.get(i), tail.get(j)) {
                (Some(&x), Some(&y)) if x <= y => {
                    i += 1;
                    x
                }
                (_, Some(&y)) => {
                    j += 1;
                    y
                }
                (Some(&x), None) => {
                    i += 1;
                    x
                }
                (None, None) => break,
            };
            if out.last() == Some(&k) {
                continue;
            }
            if k >> 32 != run_account {
                run_account = k >> 32;
                run = 0;
            }
            run += 1;
            if run <= self.cap {
                out.push(k);
            }
        }
        self.compacted = out;
    }

    /// The final per-account minute lists as a CSR over final account ids.
    ///
    /// # Complexity
    ///
    /// `O(n)` for `n` pairs (one radix sort after renumbering accounts).
    pub(crate) fn finish(mut self, account_rank: &[u32]) -> (Vec<usize>, Vec<u32>) {
        self.compact();
        let mut pairs = std::mem::take(&mut self.compacted);
        for p in &mut pairs {
            *p = pair_key(account_rank[(*p >> 32) as usize], *p as u32);
        }
        radix::sort_by_key(&mut pairs, |&k| k);
        let mut offsets = vec![0usize; account_rank.len() + 1];
        for &k in &pairs {
            offsets[(k >> 32) as usize + 1] += 1;
        }
        for a in 0..account_rank.len() {
            offsets[a + 1] += offsets[a];
        }
        let minutes = pairs.into_iter().map(|k| k as u32).collect();
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
            act.push(0, m);
        }
        act.compact();
        act.push(1, 4);
        act.push(0, 2);
        act.push(0, 7);
        let (offsets, minutes) = act.finish(&[0, 1]);
        assert_eq!(offsets, [0, 3, 4]);
        assert_eq!(minutes, [1, 2, 3, 4]);
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
