//! [`Signal::PaymentPooling`](crate::score::config::Signal::PaymentPooling):
//! payment methods each shared by a handful of accounts.
//!
//! An operator pays for many accounts with a pool of cards, each card
//! feeding a handful of them. A family shares one family card; a company
//! one corporate card for everyone, under its own e-mail domain. A card is
//! *pooled* when 2 to `pool_max_accounts` members use it; a card that most
//! members share in a community with its own domain or org is a corporate
//! card and does not count. `value = share of members on pooled cards ·
//! between(pooled cards, 1, 3)`: a single shared card, however shared, is
//! never pooling.

use super::{Measured, corporate_share};
use crate::event::IndicatorKind;
use crate::score::config::ScoreConfig;
use crate::score::view::{ClusterView, between, pct};

/// Share of members on one card above which, with a corporate identity,
/// the card is the corporate card.
const CORPORATE_CARD_SHARE: f64 = 0.5;

/// Whether a payment method used by `members` of a community of `n` (with
/// `corporate` share on its own domain) is a pooled card.
pub(crate) fn is_pooled(members: usize, n: usize, corporate: f64, config: &ScoreConfig) -> bool {
    members >= 2
        && members <= config.get_pool_max_accounts()
        && !(corporate > 0.0 && members as f64 >= CORPORATE_CARD_SHARE * n as f64)
}

pub(super) fn measure(view: &ClusterView<'_>, config: &ScoreConfig) -> Measured {
    let n = view.len().max(1);
    let corporate = corporate_share(view);
    let mut on_pooled = vec![false; view.len()];
    let mut pooled = 0usize;
    let mut shared = 0usize;
    for card in view.of_kind(&IndicatorKind::Payment) {
        if card.members.len() < 2 {
            continue;
        }
        shared += 1;
        if is_pooled(card.members.len(), n, corporate, config) {
            pooled += 1;
            for &m in &card.members {
                on_pooled[m as usize] = true;
            }
        }
    }
    let share = on_pooled.iter().filter(|&&p| p).count() as f64 / n as f64;
    let value = share * between(pooled as f64, 1.0, 3.0);
    let explain = if shared == 0 {
        "no payment method is shared between members".to_owned()
    } else {
        format!(
            "{pooled} payment methods each shared by 2-{} members ({shared} shared in all), covering {} of members",
            config.get_pool_max_accounts(),
            pct(share)
        )
    };
    Measured::new(value, explain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::testkit::{ind, member};

    #[test]
    fn card_pool_fires_and_corporate_or_family_card_does_not() {
        let config = ScoreConfig::new();
        let members = |n: u32| (0..n).map(|i| member(i, 0)).collect::<Vec<_>>();
        let pool = (0..6u32)
            .map(|c| {
                ind(
                    c,
                    IndicatorKind::Payment,
                    "card",
                    5,
                    &[c * 5, c * 5 + 1, c * 5 + 2, c * 5 + 3, c * 5 + 4],
                )
            })
            .collect();
        let hydra = ClusterView::assemble(members(30), pool);
        assert_eq!(measure(&hydra, &config).value, 1.0);

        let all: Vec<u32> = (0..30).collect();
        let company = ClusterView::assemble(
            members(30),
            vec![
                ind(0, IndicatorKind::Payment, "corp", 30, &all),
                ind(1, IndicatorKind::EmailDomain, "acme.com", 30, &all),
            ],
        );
        assert_eq!(measure(&company, &config).value, 0.0);

        let family = ClusterView::assemble(
            members(4),
            vec![ind(0, IndicatorKind::Payment, "fam", 4, &[0, 1, 2, 3])],
        );
        assert_eq!(measure(&family, &config).value, 0.0);
    }
}
