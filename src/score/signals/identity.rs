//! [`Signal::Identity`](crate::score::config::Signal::Identity): disposable or
//! one-off e-mail domains versus a shared corporate or campus identity.
//!
//! Operators sign up with throwaway identities: disposable domains, or
//! domains nobody else on the platform uses. Employees and students share
//! their organisation's domain and `org`. The value is the share of members
//! with a disposable or one-off domain, times one minus the
//! [`corporate_share`] of the community.

use super::Measured;
use crate::event::IndicatorKind;
use crate::score::config::ScoreConfig;
use crate::score::view::{ClusterView, pct};

/// Least share of a domain's or org's platform-wide accounts inside the
/// community for it to be the community's own (not a webmail provider).
const OWN_SHARE: f64 = 0.5;
/// Least share of members on it.
const MEMBER_SHARE: f64 = 0.4;

/// Share of members on the community's own shared e-mail domain or `org`
/// (an organisation's identity: most of its platform-wide accounts are in
/// the community, and a good part of the community carries it). 0 if none.
pub(crate) fn corporate_share(view: &ClusterView<'_>) -> f64 {
    let n = view.len().max(1) as f64;
    view.indicators
        .iter()
        .filter(|i| matches!(i.kind, IndicatorKind::EmailDomain | IndicatorKind::Org))
        .filter(|i| i.members.len() >= 2)
        .filter(|i| i.members.len() as f64 >= OWN_SHARE * i.degree as f64)
        .map(|i| i.members.len() as f64 / n)
        .filter(|&s| s >= MEMBER_SHARE)
        .fold(0.0, f64::max)
}

/// Whether some of the members carry an organisation's own identity: an
/// e-mail domain or `org` on three or more members that holds most of its
/// platform-wide accounts in the community. Such a group inside a large
/// community is worth looking at on its own (see `refine::after_split`).
pub(crate) fn holds_organisation(view: &ClusterView<'_>) -> bool {
    view.indicators.iter().any(|i| {
        matches!(i.kind, IndicatorKind::EmailDomain | IndicatorKind::Org)
            && i.members.len() >= 3
            && i.members.len() as f64 >= OWN_SHARE * i.degree as f64
    })
}

pub(super) fn measure(view: &ClusterView<'_>, config: &ScoreConfig) -> Measured {
    let n = view.len().max(1);
    let mut throwaway = vec![false; view.len()];
    let mut with_domain = vec![false; view.len()];
    for d in view.of_kind(&IndicatorKind::EmailDomain) {
        let disposable =
            config.get_disposable_domains().iter().any(|x| x.eq_ignore_ascii_case(d.value));
        let one_off = d.degree <= 1;
        for &m in &d.members {
            with_domain[m as usize] = true;
            if disposable || one_off {
                throwaway[m as usize] = true;
            }
        }
    }
    let throwaway_share = throwaway.iter().filter(|&&t| t).count() as f64 / n as f64;
    let corporate = corporate_share(view);
    let value = throwaway_share * (1.0 - corporate);
    let known = with_domain.iter().filter(|&&t| t).count();
    let explain = if known == 0 {
        "no e-mail domain known for any member".to_owned()
    } else if corporate > 0.0 {
        format!(
            "{} of members share the group's own domain or org; {} use disposable or one-off domains",
            pct(corporate),
            pct(throwaway_share)
        )
    } else {
        format!("{} of members use disposable or one-off e-mail domains", pct(throwaway_share))
    };
    Measured::new(value, explain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::testkit::{ind, member};

    #[test]
    fn disposable_domains_fire_and_a_corporate_domain_does_not() {
        let config = ScoreConfig::new();
        let members = || (0..10).map(|i| member(i, 0)).collect::<Vec<_>>();
        let all: Vec<u32> = (0..10).collect();
        let hydra = ClusterView::assemble(
            members(),
            (0..10u32)
                .map(|i| {
                    let v = if i % 2 == 0 { "mailinator.com" } else { "x" };
                    ind(i, IndicatorKind::EmailDomain, v, if i % 2 == 0 { 500 } else { 1 }, &[i])
                })
                .collect(),
        );
        let company = ClusterView::assemble(
            members(),
            vec![
                ind(0, IndicatorKind::EmailDomain, "acme.com", 12, &all),
                ind(1, IndicatorKind::Org, "Acme", 12, &all),
            ],
        );
        assert_eq!(measure(&hydra, &config).value, 1.0);
        assert_eq!(measure(&company, &config).value, 0.0);
        assert_eq!(corporate_share(&company), 1.0);
    }

    #[test]
    fn webmail_is_not_a_corporate_domain() {
        let all: Vec<u32> = (0..10).collect();
        let v = ClusterView::assemble(
            (0..10).map(|i| member(i, 0)).collect(),
            vec![ind(0, IndicatorKind::EmailDomain, "gmail.com", 100_000, &all)],
        );
        assert_eq!(corporate_share(&v), 0.0);
    }
}
