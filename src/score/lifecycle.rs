//! [`Lifecycle`]: how a hydra grew, was banned and replenished itself.

use crate::event::{IndicatorKind, Timestamp};
use crate::report::Lifecycle;
use crate::score::view::ClusterView;

const DAY: i64 = 86_400;
/// Longest day series kept (ten years): a bound on output size whatever the input.
const MAX_DAYS: usize = 3_660;

/// The lifecycle of the community in `view`; `replacements` is how many of
/// its members were flagged `replacement`.
///
/// # Complexity
///
/// `O(n log n + D)` over members `n` and days `D ≤ 3660`.
pub(crate) fn lifecycle(view: &ClusterView<'_>, replacements: usize) -> Lifecycle {
    let mut signups: Vec<Timestamp> = view.members.iter().map(|m| m.signup).collect();
    signups.sort_unstable();
    let mut bans: Vec<Timestamp> =
        view.members.iter().filter_map(|m| m.bans.first().map(|b| b.ts)).collect();
    bans.sort_unstable();
    let (Some(&first), Some(&last)) = (signups.first(), signups.last()) else {
        return Lifecycle::default();
    };
    let first_day = first.div_euclid(DAY);
    let end_day = last.max(bans.last().copied().unwrap_or(last)).div_euclid(DAY);
    let days = ((end_day - first_day + 1).max(1) as usize).min(MAX_DAYS);
    let mut signups_per_day = vec![0usize; days];
    let mut bans_per_day = vec![0usize; days];
    for (series, times) in [(&mut signups_per_day, &signups), (&mut bans_per_day, &bans)] {
        for &t in times {
            let d = (t.div_euclid(DAY) - first_day).clamp(0, days as i64 - 1) as usize;
            series[d] += 1;
        }
    }
    let first_ban = bans.first().copied();
    let signups_after_first_ban =
        first_ban.map_or(0, |b| signups.len() - signups.partition_point(|&s| s <= b));
    let mut gaps: Vec<i64> = bans
        .iter()
        .filter_map(|&b| {
            let i = signups.partition_point(|&s| s <= b);
            signups.get(i).map(|&s| s - b)
        })
        .collect();
    gaps.sort_unstable();
    let median_ban_to_replacement_secs = match gaps.len() {
        0 => None,
        n if n % 2 == 1 => Some(gaps[n / 2]),
        n => Some((gaps[n / 2 - 1] + gaps[n / 2]) / 2),
    };
    let pool = |kind: IndicatorKind| view.of_kind(&kind).count();
    Lifecycle {
        first_signup: Some(first),
        last_signup: Some(last),
        signups_per_day,
        bans_per_day,
        bans: bans.len(),
        signups_after_first_ban,
        replacement_rate: if bans.is_empty() {
            0.0
        } else {
            replacements as f64 / bans.len() as f64
        },
        median_ban_to_replacement_secs,
        ip_pool: pool(IndicatorKind::Ip),
        payment_pool: pool(IndicatorKind::Payment),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::BanMark;
    use crate::score::view::testkit::{ind, member};

    #[test]
    fn counts_growth_bans_and_replenishment() {
        let mut members = vec![member(0, 0), member(1, 10), member(2, 2 * DAY + 100)];
        members[0].bans.push(BanMark { ts: 2 * DAY, weight: 1.0 });
        let v = ClusterView::assemble(
            members,
            vec![
                ind(0, IndicatorKind::Ip, "a", 3, &[0, 1]),
                ind(1, IndicatorKind::Payment, "c", 2, &[1, 2]),
            ],
        );
        let l = lifecycle(&v, 1);
        assert_eq!(l.signups_per_day, vec![2, 0, 1]);
        assert_eq!(l.bans_per_day, vec![0, 0, 1]);
        assert_eq!(l.signups_after_first_ban, 1);
        assert_eq!(l.median_ban_to_replacement_secs, Some(100));
        assert_eq!(l.replacement_rate, 1.0);
        assert_eq!((l.ip_pool, l.payment_pool), (1, 1));
        assert_eq!(lifecycle(&ClusterView::default(), 0), Lifecycle::default());
    }
}
