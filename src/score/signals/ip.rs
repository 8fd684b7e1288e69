//! [`Signal::IpRotation`](crate::score::config::Signal::IpRotation):
//! many accounts over many IPs, many-to-many.
//!
//! An operator spreads its accounts over a proxy pool: each account shows up
//! on several pool IPs and each IP carries several accounts. An office or a
//! household uses a few stable IPs. Only IPs shared by two or more members
//! count; the pool part rises from `stable_ips` to `stable_ips +
//! ip_pool_full` shared IPs, and is multiplied by the share of members seen
//! on two or more shared IPs. A carrier-grade NAT crowd rotates too, which is
//! why IP rotation never flags a community on its own (see
//! [`ScoreConfig::corroboration`]).

use super::Measured;
use crate::event::IndicatorKind;
use crate::score::config::ScoreConfig;
use crate::score::view::{ClusterView, between, pct};

pub(super) fn measure(view: &ClusterView<'_>, config: &ScoreConfig) -> Measured {
    let n = view.len().max(1);
    let mut per_member = vec![0u32; view.len()];
    let mut shared = 0usize;
    let mut total = 0usize;
    for ip in view.of_kind(&IndicatorKind::Ip) {
        total += 1;
        if ip.members.len() >= 2 {
            shared += 1;
            for &m in &ip.members {
                per_member[m as usize] += 1;
            }
        }
    }
    let rotating = per_member.iter().filter(|&&c| c >= 2).count();
    let rotating_share = rotating as f64 / n as f64;
    let stable = config.get_stable_ips() as f64;
    let pool = between(shared as f64, stable, stable + config.get_ip_pool_full() as f64);
    let value = pool * rotating_share;
    let explain = format!(
        "{shared} IPs shared among members ({total} distinct in all); {} of members rotate over 2+ shared IPs",
        pct(rotating_share)
    );
    Measured::new(value, explain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::testkit::{ind, member};

    #[test]
    fn proxy_pool_rotation_fires_and_office_ips_do_not() {
        let config = ScoreConfig::new();
        let members = || (0..20).map(|i| member(i, 0)).collect::<Vec<_>>();
        // 30 proxy IPs, each seen on 4 of 20 accounts.
        let proxies = (0..30u32)
            .map(|p| {
                ind(
                    p,
                    IndicatorKind::Ip,
                    "p",
                    10,
                    &[p % 20, (p + 5) % 20, (p + 10) % 20, (p + 15) % 20],
                )
            })
            .collect();
        let hydra = ClusterView::assemble(members(), proxies);
        let all: Vec<u32> = (0..20).collect();
        let office = ClusterView::assemble(
            members(),
            vec![
                ind(0, IndicatorKind::Ip, "a", 20, &all),
                ind(1, IndicatorKind::Ip, "b", 20, &all),
            ],
        );
        assert!(measure(&hydra, &config).value > 0.9, "{:?}", measure(&hydra, &config));
        assert_eq!(measure(&office, &config).value, 0.0);
    }
}
