//! Cluster evidence: the indicators most shared within a community, and its
//! banned members; and the stable, content-derived cluster id.

use sha2::{Digest, Sha256};

use crate::event::IndicatorKind;
use crate::id::ClusterId;
use crate::index::Index;
use crate::report::{ClusterEvidence, IndicatorCount};
use crate::score::view::ClusterView;

/// How many top indicators a cluster lists.
pub(crate) const TOP_INDICATORS: usize = 10;

/// The id of a community whose smallest member account id is `smallest`:
/// `c-` and the first 12 hex digits of its SHA-256. Derived from content,
/// so the same input gives the same ids, and a cluster keeps its id when
/// members join unless one sorts before all the others.
pub(crate) fn cluster_id(smallest: &str) -> ClusterId {
    let digest = Sha256::digest(smallest.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    ClusterId::new(format!("c-{hex}"))
}

/// Rank of a kind in evidence ties: hard links first, coarse network kinds last.
fn kind_rank(kind: &IndicatorKind) -> u8 {
    match kind {
        k if k.is_hard() => 0,
        IndicatorKind::Device | IndicatorKind::Template => 1,
        IndicatorKind::Ip => 2,
        IndicatorKind::IpPrefix | IndicatorKind::Asn => 4,
        _ => 3,
    }
}

/// The community's evidence: indicators shared by two or more members,
/// most shared first (ties: hard links first, then by id), and every
/// member ever banned, sorted.
pub(crate) fn evidence(index: &Index, view: &ClusterView<'_>) -> ClusterEvidence {
    let mut shared: Vec<_> = view.indicators.iter().filter(|i| i.members.len() >= 2).collect();
    shared.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then(kind_rank(&a.kind).cmp(&kind_rank(&b.kind)))
            .then(a.id.cmp(&b.id))
    });
    let top_indicators = shared
        .iter()
        .take(TOP_INDICATORS)
        .map(|i| IndicatorCount {
            kind: i.kind.clone(),
            value: i.value.to_owned(),
            accounts: i.members.len(),
        })
        .collect();
    let banned_members = view
        .members
        .iter()
        .filter(|m| !index.bans(m.account).is_empty())
        .map(|m| index.account_name(m.account).to_owned())
        .collect();
    ClusterEvidence { top_indicators, banned_members }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_are_content_derived() {
        let a = cluster_id("acct-1");
        assert_eq!(a, cluster_id("acct-1"));
        assert_ne!(a, cluster_id("acct-2"));
        assert!(a.as_str().starts_with("c-") && a.as_str().len() == 14);
    }

    #[test]
    fn hard_links_rank_first_among_equals() {
        assert!(kind_rank(&IndicatorKind::Payment) < kind_rank(&IndicatorKind::Ip));
    }
}
