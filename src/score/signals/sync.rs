//! [`Signal::Sync`](crate::score::config::Signal::Sync): members active in the
//! very same minutes.
//!
//! Scripts drive an operator's accounts together, so many members are
//! active in the same minute far more often than chance allows. With `M`
//! member-minutes over a span of `T` minutes, the chance rate is `λ = M / T`
//! members a minute; daily rhythms concentrate legitimate activity into
//! about a quarter of the day, so a minute is *crowded* when it holds at
//! least `max(3, 4λ + 3·sqrt(4λ) + 1)` members (a Poisson tail at the
//! rhythm-adjusted rate). The value is the share of member-minutes spent in
//! crowded minutes, `ramp(share, sync_full)`.

use super::Measured;
use crate::score::config::ScoreConfig;
use crate::score::view::{ClusterView, pct, ramp};

/// How much daily rhythms can raise the busiest minutes over the mean rate.
const RHYTHM: f64 = 4.0;

pub(super) fn measure(view: &ClusterView<'_>, config: &ScoreConfig) -> Measured {
    let mut minutes: Vec<u32> =
        view.members.iter().flat_map(|m| m.activity.iter().copied()).collect();
    if minutes.is_empty() {
        return Measured::new(0.0, "no activity minutes known");
    }
    minutes.sort_unstable();
    let total = minutes.len();
    let span = (minutes[total - 1] - minutes[0]) as f64 + 1.0;
    let lambda = RHYTHM * total as f64 / span;
    let crowd = (lambda + 3.0 * lambda.sqrt() + 1.0).ceil().max(3.0) as usize;
    let mut synced = 0usize;
    let mut crowded_minutes = 0usize;
    for run in minutes.chunk_by(|a, b| a == b) {
        if run.len() >= crowd {
            synced += run.len();
            crowded_minutes += 1;
        }
    }
    let share = synced as f64 / total as f64;
    let explain = format!(
        "{} of member activity falls in {crowded_minutes} minutes with {crowd}+ members active at once",
        pct(share)
    );
    Measured::new(ramp(share, config.get_sync_full()), explain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::testkit::member;

    #[test]
    fn scripted_minutes_fire_and_spread_activity_does_not() {
        let config = ScoreConfig::new();
        let mut synced: Vec<_> = (0..10).map(|i| member(i, 0)).collect();
        for m in &mut synced {
            m.activity = (0..50).map(|k| k * 97).collect();
        }
        let mut spread: Vec<_> = (0..10).map(|i| member(i, 0)).collect();
        for (i, m) in spread.iter_mut().enumerate() {
            m.activity = (0..50).map(|k| k * 97 + i as u32 * 7 + 1).collect();
        }
        let s = measure(&ClusterView::assemble(synced, vec![]), &config);
        let q = measure(&ClusterView::assemble(spread, vec![]), &config);
        assert_eq!(s.value, 1.0, "{s:?}");
        assert_eq!(q.value, 0.0, "{q:?}");
    }
}
