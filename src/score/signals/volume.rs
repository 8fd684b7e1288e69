//! [`Signal::Volume`](crate::score::config::Signal::Volume): events per account.
//!
//! Industrial abuse sends far more traffic per account than a typical user.
//! The value compares the members' median observation count with the
//! platform's median, on a log scale: `log2(ratio) / log2(volume_full_ratio)`.

use super::Measured;
use crate::score::config::ScoreConfig;
use crate::score::view::{ClusterView, Context, ramp};

pub(super) fn measure(view: &ClusterView<'_>, ctx: &Context, config: &ScoreConfig) -> Measured {
    let mut counts: Vec<u64> = view.members.iter().map(|m| m.observations).collect();
    if counts.is_empty() {
        return Measured::new(0.0, "no members");
    }
    counts.sort_unstable();
    let median = median(&counts);
    let ratio = median / ctx.median_observations.max(1.0);
    let value = ramp(ratio.max(1.0).log2(), config.get_volume_full_ratio().max(1.0 + 1e-9).log2());
    let explain = format!(
        "median member has {median:.0} observations, {ratio:.1}x the platform median of {:.0}",
        ctx.median_observations
    );
    Measured::new(value, explain)
}

/// Median of counts, reordering them (selection, `O(n)`).
pub(crate) fn median_of(counts: &mut [u64]) -> f64 {
    let n = counts.len();
    if n == 0 {
        return 0.0;
    }
    let (_, &mut hi, _) = counts.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return hi as f64;
    }
    let lo = counts[..n / 2].iter().copied().max().unwrap_or(hi);
    (lo + hi) as f64 / 2.0
}

/// Median of sorted counts.
pub(crate) fn median(sorted: &[u64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        sorted[n / 2] as f64
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::testkit::member;

    #[test]
    fn heavy_accounts_fire_and_typical_ones_do_not() {
        let config = ScoreConfig::new();
        let ctx = Context { median_observations: 10.0, ..Context::default() };
        let mut heavy: Vec<_> = (0..5).map(|i| member(i, 0)).collect();
        heavy.iter_mut().for_each(|m| m.observations = 80);
        let typical: Vec<_> = (0..5).map(|i| member(i, 0)).collect();
        assert_eq!(measure(&ClusterView::assemble(heavy, vec![]), &ctx, &config).value, 1.0);
        assert_eq!(measure(&ClusterView::assemble(typical, vec![]), &ctx, &config).value, 0.0);
        assert_eq!(median(&[1, 3]), 2.0);
        assert_eq!(median_of(&mut [3, 1, 9, 2]), 2.5);
        assert_eq!(median_of(&mut [3, 1, 9]), 3.0);
    }
}
