//! [`Signal::SignupBurst`](crate::score::config::Signal::SignupBurst):
//! signup bursts and replenishment after bans.
//!
//! An operator creates accounts in batches and replaces banned ones within
//! days; a company hires a few at a time. Two parts, the larger wins:
//!
//! - burst: the share of members that signed up in a window of
//!   `burst_window_secs` holding at least `burst_min_accounts` member signups,
//!   `ramp(share, 0.6)`;
//! - replenishment: the share of banned members whose ban was followed by a
//!   member signup within `replenish_window_secs`, damped below three such bans.
//!
//! Implicit signups within a day of the input's start are accounts that
//! existed before the export began, so they count as neither.

use super::Measured;
use crate::score::config::ScoreConfig;
use crate::score::view::{ClusterView, Context, pct, ramp};

/// Share of members in bursts at which the burst part is full.
const BURST_FULL: f64 = 0.6;
/// Followed bans at which replenishment is no longer damped.
const REPLENISH_FULL: f64 = 3.0;

pub(super) fn measure(view: &ClusterView<'_>, ctx: &Context, config: &ScoreConfig) -> Measured {
    let n = view.len().max(1);
    let fresh_after = ctx.input_start.saturating_add(86_400);
    let mut signups: Vec<i64> = view
        .members
        .iter()
        .filter(|m| m.explicit_signup || m.signup > fresh_after)
        .map(|m| m.signup)
        .collect();
    signups.sort_unstable();
    let in_burst =
        burst_members(&signups, config.get_burst_window_secs(), config.get_burst_min_accounts());
    let burst_share = in_burst as f64 / n as f64;

    let window = config.get_replenish_window_secs();
    let mut bans = 0usize;
    let mut followed = 0usize;
    for m in &view.members {
        let Some(ban) = m.bans.first() else { continue };
        if ban.weight < 1.0 {
            continue;
        }
        bans += 1;
        // First signup strictly after the ban.
        let i = signups.partition_point(|&t| t <= ban.ts);
        if signups.get(i).is_some_and(|&t| t - ban.ts <= window) {
            followed += 1;
        }
    }
    let replenish = if bans == 0 {
        0.0
    } else {
        (followed as f64 / bans as f64) * ramp(followed as f64, REPLENISH_FULL)
    };
    let value = ramp(burst_share, BURST_FULL).max(replenish);
    let explain = format!(
        "{} of members signed up in bursts of {}+ within {}h; {followed} of {bans} abuse bans were followed by a new member within {} days",
        pct(burst_share),
        config.get_burst_min_accounts(),
        config.get_burst_window_secs() / 3600,
        window / 86_400
    );
    Measured::new(value, explain)
}

/// How many of the sorted `times` lie in some window shorter than `window`
/// holding at least `min` times.
fn burst_members(times: &[i64], window: i64, min: usize) -> usize {
    let mut marked = vec![false; times.len()];
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= window {
            lo += 1;
        }
        if hi + 1 - lo >= min {
            marked[lo..=hi].iter_mut().for_each(|m| *m = true);
        }
    }
    marked.iter().filter(|&&m| m).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::BanMark;
    use crate::score::view::testkit::member;

    #[test]
    fn batch_signups_are_a_burst_and_steady_hiring_is_not() {
        let config = ScoreConfig::new();
        let ctx = Context::default();
        let batch = ClusterView::assemble(
            (0..20).map(|i| member(i, 1_000 + 60 * i as i64)).collect(),
            vec![],
        );
        let steady = ClusterView::assemble(
            (0..20).map(|i| member(i, 7 * 86_400 * i as i64)).collect(),
            vec![],
        );
        assert_eq!(measure(&batch, &ctx, &config).value, 1.0);
        assert_eq!(measure(&steady, &ctx, &config).value, 0.0);
    }

    #[test]
    fn replacements_after_bans_are_replenishment() {
        let config = ScoreConfig::new();
        let ctx = Context::default();
        let day = 86_400;
        let mut members: Vec<_> = (0..8).map(|i| member(i, 10 * day * i as i64)).collect();
        // Members 0..4 banned a day before the next one signs up.
        for (i, m) in members.iter_mut().enumerate().take(4) {
            m.bans.push(BanMark { ts: 10 * day * (i as i64 + 1) - day, weight: 1.0 });
        }
        let m = measure(&ClusterView::assemble(members, vec![]), &ctx, &config);
        assert_eq!(m.value, 1.0, "{m:?}");
        assert!(m.explain.contains("4 of 4 abuse bans"), "{}", m.explain);
    }

    #[test]
    fn accounts_older_than_the_export_are_not_a_burst() {
        let config = ScoreConfig::new();
        let ctx = Context { input_start: 0, ..Context::default() };
        let mut members: Vec<_> = (0..20).map(|i| member(i, 5)).collect();
        members.iter_mut().for_each(|m| m.explicit_signup = false);
        assert_eq!(measure(&ClusterView::assemble(members, vec![]), &ctx, &config).value, 0.0);
    }

    #[test]
    fn burst_members_counts_each_once() {
        assert_eq!(burst_members(&[0, 1, 2, 100], 10, 3), 3);
        assert_eq!(burst_members(&[0, 1, 2, 3], 10, 3), 4);
        assert_eq!(burst_members(&[], 10, 3), 0);
    }
}
