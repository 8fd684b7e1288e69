//! Membership expansion from confirmed hydras: accounts that share pooled
//! infrastructure with a hydra's members *and* run on its operator's
//! script schedule join it.
//!
//! Leiden cuts a large operator into pieces of a few dozen accounts, and
//! its residential proxy IPs are shared with ordinary households, so many
//! pieces are half operator, half neighbours. Such a piece is too small to
//! show the operator's synchronized minutes by itself (a dozen accounts
//! with twenty active minutes each rarely meet three at once) and scores
//! below the threshold. The operator as a whole does show them: the
//! members a confirmed hydra already flags are active together in a few
//! hundred *operator minutes* (minutes holding more of them than chance
//! allows, see the sync signal), a small share of the period's minutes.
//!
//! An account not flagged yet joins a hydra `H` when
//!
//! - it shares an IP, card, phone, e-mail or device of pooled size (on 2 to
//!   [`LINK_MAX_DEGREE`] accounts platform-wide) with a flagged member of
//!   `H` (this only selects whom to test: an address never flags anyone);
//! - at least [`MIN_HITS`], and at least [`MIN_SHARE`] (60%), of its own
//!   active minutes are operator minutes of `H`;
//! - and that many is far beyond chance: with operator minutes a share `q`
//!   of `H`'s active span, an account active at random meets one in a
//!   given minute with probability about `4q` (daily rhythms), and the
//!   hits must pass the binomial tail test of the template signal
//!   (`k ≥ np + 3·sqrt(np) + 2`).
//!
//! A household on one of the operator's proxy IPs is active in its own
//! minutes, not in the operator's: it shares the address, not the schedule,
//! and stays out. A heavy legitimate user meets many operator minutes by
//! chance but never most of its own minutes.
//!
//! Only hydras with at least [`MIN_CORE`] flagged members and
//! [`MIN_OPERATOR_MINUTES`] operator minutes, covering at most
//! [`MAX_MINUTE_SHARE`] of their span, take part: a schedule needs enough
//! accounts to be known and must be a small part of the time to be told
//! from chance.

use rayon::prelude::*;

use crate::event::IndicatorKind;
use crate::id::AccountId;
use crate::index::Index;
use crate::score::signals::beyond_chance;

/// Least flagged members of a hydra whose schedule is used.
pub(crate) const MIN_CORE: usize = 30;
/// Least operator minutes of a hydra whose schedule is used.
pub(crate) const MIN_OPERATOR_MINUTES: usize = 20;
/// Most share of its active span that a hydra's operator minutes may cover
/// (times the rhythm factor: the chance rate of a minute).
pub(crate) const MAX_MINUTE_SHARE: f64 = 0.1;
/// Least operator minutes an account must be active in.
pub(crate) const MIN_HITS: usize = 5;
/// Least share of an account's active minutes in operator minutes.
pub(crate) const MIN_SHARE: f64 = 0.6;
/// Most accounts on an indicator that selects accounts to test.
pub(crate) const LINK_MAX_DEGREE: usize = 200;
/// How much daily rhythms concentrate activity (as in the sync signal).
const RHYTHM: f64 = 4.0;

/// The operator minutes of a hydra and their chance rate.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OperatorSchedule {
    /// Sorted, distinct.
    pub minutes: Vec<u32>,
    /// Probability that an account active at random is active in one of
    /// them in a given active minute of its own.
    pub chance: f64,
}

impl OperatorSchedule {
    /// The schedule of the accounts whose activity minutes are `activity`
    /// (each sorted, distinct), if it is usable (see the module docs).
    pub(crate) fn of<'s>(activity: impl Iterator<Item = &'s [u32]>) -> Option<Self> {
        let mut all: Vec<u32> = Vec::new();
        let mut accounts = 0usize;
        for a in activity {
            accounts += 1;
            all.extend_from_slice(a);
        }
        if accounts < MIN_CORE || all.is_empty() {
            return None;
        }
        all.sort_unstable();
        let span = (all[all.len() - 1] - all[0]) as f64 + 1.0;
        let lambda = RHYTHM * all.len() as f64 / span;
        let crowd = (lambda + 3.0 * lambda.sqrt() + 1.0).ceil().max(3.0) as usize;
        let minutes: Vec<u32> =
            all.chunk_by(|a, b| a == b).filter(|run| run.len() >= crowd).map(|r| r[0]).collect();
        let share = minutes.len() as f64 / span;
        if minutes.len() < MIN_OPERATOR_MINUTES || share > MAX_MINUTE_SHARE {
            return None;
        }
        Some(Self { minutes, chance: (RHYTHM * share).min(1.0) })
    }

    /// How many of `activity` (sorted, distinct) are operator minutes, if
    /// that is enough to join (see the module docs).
    pub(crate) fn joins(&self, activity: &[u32]) -> Option<usize> {
        let hits = activity.iter().filter(|m| self.minutes.binary_search(m).is_ok()).count();
        let n = activity.len();
        (hits >= MIN_HITS
            && hits as f64 >= MIN_SHARE * n as f64
            && beyond_chance(hits, n, self.chance))
        .then_some(hits)
    }
}

/// Whether an indicator of `kind` may select accounts to test (the kinds
/// that tie one operator's accounts: addresses, cards, phones, devices,
/// e-mail addresses; also those that join operator pieces in `refine`).
pub(crate) fn selects(kind: &IndicatorKind) -> bool {
    matches!(
        kind,
        IndicatorKind::Ip
            | IndicatorKind::Payment
            | IndicatorKind::Phone
            | IndicatorKind::Device
            | IndicatorKind::Email
    )
}

/// For every account, the hydra it joins, if any.
///
/// `hydra_of[a]` is the hydra (an index into `schedules`) in which account
/// `a` is flagged, else `u32::MAX`; `schedules[h]` is that hydra's
/// schedule, if usable. An account already flagged joins nothing. When an
/// account could join several hydras it joins the one whose operator
/// minutes it meets most (ties: the first).
///
/// Returns `(account, hydra, operator minutes met)` in account order.
///
/// # Complexity
///
/// `O(L · D + A · m log M)` over the links `L` of unflagged accounts, `D ≤`
/// [`LINK_MAX_DEGREE`], the `m` active minutes of accounts tested and `M`
/// operator minutes; in parallel over accounts when `parallel`.
pub(crate) fn joins(
    index: &Index,
    hydra_of: &[u32],
    schedules: &[Option<OperatorSchedule>],
    parallel: bool,
) -> Vec<(AccountId, u32, usize)> {
    let one = |a: usize| -> Option<(AccountId, u32, usize)> {
        if hydra_of[a] != u32::MAX {
            return None;
        }
        let account = AccountId::new(a as u32);
        let activity = index.activity(account);
        if activity.len() < MIN_HITS {
            return None;
        }
        let mut near: Vec<u32> = Vec::new();
        for link in index.account_links(account) {
            let degree = index.indicator_degree(link.indicator);
            if !(2..=LINK_MAX_DEGREE).contains(&degree)
                || !selects(index.indicator_kind(link.indicator))
            {
                continue;
            }
            near.extend(
                index
                    .indicator_accounts(link.indicator)
                    .iter()
                    .map(|b| hydra_of[b.index()])
                    .filter(|&h| h != u32::MAX && schedules[h as usize].is_some()),
            );
        }
        near.sort_unstable();
        near.dedup();
        let mut best: Option<(u32, usize)> = None;
        for h in near {
            let Some(schedule) = &schedules[h as usize] else { continue };
            if let Some(hits) = schedule.joins(activity)
                && best.is_none_or(|(_, b)| hits > b)
            {
                best = Some((h, hits));
            }
        }
        best.map(|(h, hits)| (account, h, hits))
    };
    let n = index.account_count();
    if parallel {
        (0..n).into_par_iter().filter_map(one).collect()
    } else {
        (0..n).filter_map(one).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Activity of `n` accounts on one schedule of `minutes` (every 100th
    /// minute), each active in `per` of them.
    fn scripted(n: usize, minutes: u32, per: usize) -> Vec<Vec<u32>> {
        (0..n)
            .map(|i| {
                let mut v: Vec<u32> =
                    (0..per).map(|k| ((i * 7 + k * 13) as u32 % minutes) * 100).collect();
                v.sort_unstable();
                v.dedup();
                v
            })
            .collect()
    }

    #[test]
    fn an_operator_schedule_is_found_and_joined_only_by_its_accounts() {
        let core = scripted(60, 200, 20);
        let s = OperatorSchedule::of(core.iter().map(|v| v.as_slice())).expect("usable");
        assert!(s.minutes.len() >= 150, "{}", s.minutes.len());
        // One more account on the schedule joins.
        let member: Vec<u32> = (0..15).map(|k| k * 1_100).collect();
        assert_eq!(s.joins(&member), Some(15));
        // A neighbour active in its own minutes does not, nor does a heavy
        // user who meets many operator minutes among many more of its own.
        let neighbour: Vec<u32> = (0..40).map(|k| k * 97 + 31).collect();
        assert_eq!(s.joins(&neighbour), None);
        let heavy: Vec<u32> = (0..20_000).collect();
        assert_eq!(s.joins(&heavy), None);
        // A handful of minutes is not enough, even all on the schedule.
        assert_eq!(s.joins(&[100, 200, 300]), None);
    }

    #[test]
    fn too_few_accounts_or_a_busy_schedule_is_not_used() {
        let few = scripted(10, 200, 20);
        assert!(OperatorSchedule::of(few.iter().map(|v| v.as_slice())).is_none());
        // Everyone active in every minute: no minute stands out as the operator's.
        let busy: Vec<Vec<u32>> = (0..60).map(|_| (0..500).collect()).collect();
        assert!(OperatorSchedule::of(busy.iter().map(|v| v.as_slice())).is_none());
    }
}
