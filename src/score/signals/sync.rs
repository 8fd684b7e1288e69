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

/// The crowd size of a community's minutes: `max(3, 4λ + 3·sqrt(4λ) + 1)`
/// with `λ` the mean members per minute over the activity span, and every
/// member-minute sorted. `None` without activity.
fn crowd(view: &ClusterView<'_>) -> Option<(usize, Vec<u32>)> {
    crowd_from(view, 3.0)
}

/// [`crowd`] with the least crowd size `floor`.
fn crowd_from(view: &ClusterView<'_>, floor: f64) -> Option<(usize, Vec<u32>)> {
    let mut minutes: Vec<u32> =
        view.members.iter().flat_map(|m| m.activity.iter().copied()).collect();
    if minutes.is_empty() {
        return None;
    }
    minutes.sort_unstable();
    let total = minutes.len();
    let span = (minutes[total - 1] - minutes[0]) as f64 + 1.0;
    let lambda = RHYTHM * total as f64 / span;
    let crowd = (lambda + 3.0 * lambda.sqrt() + 1.0).ceil().max(floor) as usize;
    Some((crowd, minutes))
}

/// The community's crowded minutes, sorted (empty without activity).
pub(crate) fn crowded_minutes(view: &ClusterView<'_>) -> Vec<u32> {
    let Some((crowd, minutes)) = crowd(view) else { return Vec::new() };
    minutes.chunk_by(|a, b| a == b).filter(|run| run.len() >= crowd).map(|run| run[0]).collect()
}

/// The minutes in which more members of the community are active than
/// chance allows at its size, sorted: as [`crowded_minutes`], but two
/// members already make a crowd when the community is small (the mean
/// rate `λ` below about 0.05, where chance puts only a share of about `4λ`
/// of the member-minutes in such minutes). What a piece of a few dozen of
/// an operator's accounts shows of the operator's schedule.
pub(crate) fn coincident_minutes(view: &ClusterView<'_>) -> Vec<u32> {
    let Some((crowd, minutes)) = crowd_from(view, 2.0) else { return Vec::new() };
    minutes.chunk_by(|a, b| a == b).filter(|run| run.len() >= crowd).map(|run| run[0]).collect()
}

/// Per member, how many of its activity minutes are crowded minutes of the
/// community, and how many activity minutes it has.
pub(crate) fn member_sync_shares(view: &ClusterView<'_>) -> Vec<(usize, usize)> {
    let crowded = crowded_minutes(view);
    view.members
        .iter()
        .map(|m| {
            let hit = m.activity.iter().filter(|x| crowded.binary_search(x).is_ok()).count();
            (hit, m.activity.len())
        })
        .collect()
}

pub(super) fn measure(view: &ClusterView<'_>, config: &ScoreConfig) -> Measured {
    let Some((crowd, minutes)) = crowd(view) else {
        return Measured::new(0.0, "no activity minutes known");
    };
    let total = minutes.len();
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

    #[test]
    fn member_shares_single_out_the_scripted_accounts() {
        let mut members: Vec<_> = (0..10).map(|i| member(i, 0)).collect();
        for (i, m) in members.iter_mut().enumerate() {
            m.activity = if i < 8 {
                (0..50).map(|k| k * 97).collect()
            } else {
                (0..50).map(|k| k * 97 + 13 + i as u32).collect()
            };
        }
        let shares = member_sync_shares(&ClusterView::assemble(members, vec![]));
        assert!(shares[..8].iter().all(|&s| s == (50, 50)), "{shares:?}");
        assert!(shares[8..].iter().all(|&s| s == (0, 50)), "{shares:?}");
    }
}
