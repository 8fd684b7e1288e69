//! [`Signal::Template`](crate::score::config::Signal::Template): rare request
//! templates shared by most members.
//!
//! One operator's scripts send the same request shapes from every account;
//! a popular framework's template is shared too, but by everyone. A
//! template is *characteristic* of the community (see [`characteristic`])
//! when either
//!
//! - at least `rare_template_share` of the accounts using it platform-wide
//!   are members (a company's internal tool, a small operator's script), or
//! - members use it far more than the platform does: at least
//!   [`CARRY_SHARE`] (half) of the members, at least `template_min_lift` times the
//!   platform-wide share of accounts on it, and more members than chance
//!   allows (a binomial tail, see [`beyond_chance`]).
//!
//! The second case keeps the signal when Leiden cuts a large operator into
//! pieces: a piece holds a small part of the operator's template users, so
//! the first test fails on it, while its members still use the operator's
//! templates as much as the whole operator does. Popular templates fail the
//! second test whatever the community's size (their lift stays near 1).
//!
//! The value is the share of members on a characteristic template shared
//! with another member. Template sharing never flags a community on its own
//! (see [`ScoreConfig::corroboration`]).

use super::Measured;
use crate::event::IndicatorKind;
use crate::score::config::ScoreConfig;
use crate::score::view::{ClusterView, Context, IndicatorUse, pct};

/// Least share of members on a template for its over-use to count.
pub(crate) const CARRY_SHARE: f64 = 0.5;

/// Whether `k` members out of `n` on an indicator that a share `p` of the
/// platform's accounts use is more than chance: `k ≥ np + 3·sqrt(np) + 2`
/// (a Poisson tail at three deviations, plus a margin for tiny groups).
pub(crate) fn beyond_chance(k: usize, n: usize, p: f64) -> bool {
    let expected = n as f64 * p.clamp(0.0, 1.0);
    k as f64 >= expected + 3.0 * expected.sqrt() + 2.0
}

/// Whether template `t`, used by members of a community of `n`, is
/// characteristic of the community (see the module docs).
pub(crate) fn characteristic(
    t: &IndicatorUse<'_>,
    n: usize,
    ctx: &Context,
    config: &ScoreConfig,
) -> bool {
    let k = t.members.len();
    if k < 2 {
        return false;
    }
    let degree = t.degree.max(k) as f64;
    if k as f64 >= config.get_rare_template_share() * degree {
        return true;
    }
    let carry = k as f64 / n.max(1) as f64;
    let platform = degree / ctx.accounts.max(1) as f64;
    carry >= CARRY_SHARE
        && carry >= config.get_template_min_lift() * platform
        && beyond_chance(k, n, platform)
}

pub(super) fn measure(view: &ClusterView<'_>, ctx: &Context, config: &ScoreConfig) -> Measured {
    let n = view.len().max(1);
    let mut on_rare = vec![false; view.len()];
    let mut rare = 0usize;
    let mut used = 0usize;
    for t in view.of_kind(&IndicatorKind::Template) {
        used += 1;
        if characteristic(t, view.len(), ctx, config) {
            rare += 1;
            for &m in &t.members {
                on_rare[m as usize] = true;
            }
        }
    }
    let share = on_rare.iter().filter(|&&r| r).count() as f64 / n as f64;
    let explain = if used == 0 {
        "no request template known for any member".to_owned()
    } else {
        format!(
            "{} of members use one of {rare} templates rare outside the group ({used} templates seen)",
            pct(share)
        )
    };
    Measured::new(share, explain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::testkit::{ind, member};

    fn ctx(accounts: usize) -> Context {
        Context { accounts, ..Context::default() }
    }

    #[test]
    fn rare_shared_template_fires_and_popular_one_does_not() {
        let config = ScoreConfig::new();
        let all: Vec<u32> = (0..10).collect();
        let members = || (0..10).map(|i| member(i, 0)).collect::<Vec<_>>();
        let hydra =
            ClusterView::assemble(members(), vec![ind(0, IndicatorKind::Template, "t", 12, &all)]);
        let popular = ClusterView::assemble(
            members(),
            vec![ind(0, IndicatorKind::Template, "langchain", 50_000, &all)],
        );
        assert_eq!(measure(&hydra, &ctx(100_000), &config).value, 1.0);
        assert_eq!(measure(&popular, &ctx(100_000), &config).value, 0.0);
    }

    #[test]
    fn a_piece_of_a_large_operator_keeps_the_signal() {
        // 40 members of an operator whose template 2,000 of 100,000 accounts use.
        let config = ScoreConfig::new();
        let all: Vec<u32> = (0..40).collect();
        let piece = ClusterView::assemble(
            (0..40).map(|i| member(i, 0)).collect(),
            vec![ind(0, IndicatorKind::Template, "family", 2_000, &all[..36])],
        );
        assert!((measure(&piece, &ctx(100_000), &config).value - 0.9).abs() < 1e-9);
        // The same template share of a popular template (40% of the platform) is not rare.
        let popular = ClusterView::assemble(
            (0..40).map(|i| member(i, 0)).collect(),
            vec![ind(0, IndicatorKind::Template, "popular", 40_000, &all[..36])],
        );
        assert_eq!(measure(&popular, &ctx(100_000), &config).value, 0.0);
    }

    #[test]
    fn a_household_sharing_a_popular_template_by_chance_is_quiet() {
        let config = ScoreConfig::new();
        let family = ClusterView::assemble(
            (0..3).map(|i| member(i, 0)).collect(),
            vec![ind(0, IndicatorKind::Template, "t20", 5_000, &[0, 1, 2])],
        );
        assert_eq!(measure(&family, &ctx(100_000), &config).value, 0.0);
        assert!(!beyond_chance(3, 3, 0.05));
        assert!(beyond_chance(36, 40, 0.02));
    }
}
