//! [`Signal::Bans`](crate::score::config::Signal::Bans): banned members and
//! ban waves.
//!
//! The share of members banned (abuse bans count fully, other reasons by
//! `other_ban_weight`), and the largest ban wave: many members banned
//! within `wave_window_secs`, the footprint of an enforcement sweep over one
//! operator. `value = 0.6 · ramp(share, 0.3) + 0.4 · ramp(wave − 1, 4)`.
//! Bans are partial labels: a hydra with no bans scores 0 here and must be
//! found by the other signals.

use super::Measured;
use crate::score::config::ScoreConfig;
use crate::score::view::{ClusterView, pct, ramp};

/// Share of banned members at which the share part is full.
const SHARE_FULL: f64 = 0.3;
/// Bans in one wave (beyond the first) at which the wave part is full.
const WAVE_FULL: f64 = 4.0;

pub(super) fn measure(view: &ClusterView<'_>, config: &ScoreConfig) -> Measured {
    let n = view.len().max(1);
    let banned: usize = view.members.iter().filter(|m| !m.bans.is_empty()).count();
    let weighted: f64 = view.members.iter().map(|m| m.ban_weight()).sum();
    let share = weighted / n as f64;
    // Largest weighted count of first bans within one window.
    let mut times: Vec<(i64, f64)> = view
        .members
        .iter()
        .filter_map(|m| m.bans.first().map(|b| (b.ts, m.ban_weight())))
        .collect();
    times.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let (wave, wave_count) = largest_wave(&times, config.get_wave_window_secs());
    let value = 0.6 * ramp(share, SHARE_FULL) + 0.4 * ramp(wave - 1.0, WAVE_FULL);
    let explain = if banned == 0 {
        "no member has been banned".to_owned()
    } else {
        format!(
            "{banned} of {n} members banned ({} by abuse weight); largest ban wave: {wave_count} within {}h",
            pct(share),
            config.get_wave_window_secs() / 3600
        )
    };
    Measured::new(value, explain)
}

/// Largest total weight (and count) of times within one `window`.
/// `times` is sorted by time.
pub(crate) fn largest_wave(times: &[(i64, f64)], window: i64) -> (f64, usize) {
    let (mut best, mut best_count, mut sum, mut lo) = (0.0f64, 0usize, 0.0f64, 0usize);
    for hi in 0..times.len() {
        sum += times[hi].1;
        while times[hi].0 - times[lo].0 >= window {
            sum -= times[lo].1;
            lo += 1;
        }
        if sum > best + 1e-12 || (hi + 1 - lo > best_count && (sum - best).abs() <= 1e-12) {
            best = sum;
            best_count = hi + 1 - lo;
        }
    }
    (best, best_count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::BanMark;
    use crate::score::view::testkit::member;

    fn view(bans: &[(i64, f64)], n: u32) -> ClusterView<'static> {
        let mut members: Vec<_> = (0..n).map(|i| member(i, 0)).collect();
        for (m, &(ts, weight)) in members.iter_mut().zip(bans) {
            m.bans.push(BanMark { ts, weight });
        }
        ClusterView::assemble(members, vec![])
    }

    #[test]
    fn a_ban_wave_fires_and_no_bans_stay_quiet() {
        let config = ScoreConfig::new();
        let wave = view(&[(100, 1.0), (200, 1.0), (300, 1.0), (400, 1.0), (500, 1.0)], 10);
        let quiet = view(&[], 10);
        assert!(measure(&wave, &config).value > 0.9);
        assert_eq!(measure(&quiet, &config).value, 0.0);
        assert_eq!(measure(&quiet, &config).explain, "no member has been banned");
    }

    #[test]
    fn one_unrelated_ban_in_a_company_is_weak() {
        let config = ScoreConfig::new();
        let company = view(&[(100, 0.25)], 40);
        assert!(measure(&company, &config).value < 0.05);
    }

    #[test]
    fn waves_are_windowed() {
        let t = [(0, 1.0), (10, 1.0), (100_000, 1.0)];
        assert_eq!(largest_wave(&t, 86_400), (2.0, 2));
        assert_eq!(largest_wave(&[], 10), (0.0, 0));
    }
}
