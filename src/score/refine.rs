//! Refinement of the community partition before the final scores: merge
//! communities that pooled cards join, and look inside large communities
//! for a hydra hidden among legitimate accounts.

use crate::event::IndicatorKind;
use crate::id::AccountId;
use crate::index::Index;
use crate::score::config::ScoreConfig;
use crate::score::risk::Risk;
use crate::score::signals::member_sync_shares;
use crate::score::view::ClusterView;

/// Merges communities joined by at least `merge_min_cards` distinct pooled
/// cards (payment methods on 2 to `pool_max_accounts` accounts). An
/// operator's card pool is strong, specific evidence of one owner, so two
/// halves of a hydra that Leiden split apart come back together; a family
/// or corporate card lies inside one community and merges nothing.
/// Accounts outside every community take part as their own singletons.
///
/// Returns the merged communities, each sorted, ordered by smallest member.
///
/// # Complexity
///
/// `O(L + P²)` over the links `L` and the pairs `P` of communities on each
/// pooled card (at most `pool_max_accounts²` per card), plus a sort.
pub(crate) fn merge_by_cards(
    index: &Index,
    communities: Vec<Vec<AccountId>>,
    config: &ScoreConfig,
) -> Vec<Vec<AccountId>> {
    let n = index.account_count();
    // Community of every account; singletons get fresh numbers.
    let mut of = vec![u32::MAX; n];
    for (c, members) in communities.iter().enumerate() {
        for &a in members {
            of[a.index()] = c as u32;
        }
    }
    let mut next = communities.len() as u32;
    for slot in of.iter_mut() {
        if *slot == u32::MAX {
            *slot = next;
            next += 1;
        }
    }
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for (kind, range) in index.kinds() {
        if *kind != IndicatorKind::Payment {
            continue;
        }
        for raw in range {
            let card = crate::id::IndicatorId::new(raw);
            let accounts = index.indicator_accounts(card);
            if accounts.len() < 2 || accounts.len() > config.get_pool_max_accounts() {
                continue;
            }
            let mut cs: Vec<u32> = accounts.iter().map(|a| of[a.index()]).collect();
            cs.sort_unstable();
            cs.dedup();
            for i in 0..cs.len() {
                for j in i + 1..cs.len() {
                    pairs.push((cs[i], cs[j]));
                }
            }
        }
    }
    pairs.sort_unstable();
    let mut parent: Vec<u32> = (0..next).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    for run in pairs.chunk_by(|a, b| a == b) {
        if run.len() >= config.get_merge_min_cards() {
            let (a, b) = (find(&mut parent, run[0].0), find(&mut parent, run[0].1));
            if a != b {
                parent[a.max(b) as usize] = a.min(b);
            }
        }
    }
    let mut groups: Vec<(u32, AccountId)> =
        (0..n).map(|a| (find(&mut parent, of[a]), AccountId::new(a as u32))).collect();
    groups.sort_unstable();
    let mut out: Vec<Vec<AccountId>> = groups
        .chunk_by(|x, y| x.0 == y.0)
        .filter(|run| run.len() >= 2)
        .map(|run| run.iter().map(|p| p.1).collect())
        .collect();
    out.sort_by_key(|members: &Vec<AccountId>| members[0]);
    out
}

/// Whether a large community should be replaced by its sub-communities:
/// when only a part of it is a hydra (a hydra hidden in a mixed community
/// that scores low as a whole), or when a hydra verdict would sweep in a
/// sub-community with a legitimate organisation's signature (its own
/// e-mail domain or org) that does not look like a hydra by itself.
/// Other low-scoring pieces of a hydra are kept: fragments of an operator
/// score low on their own, and [`tied_members`] drops the accounts that
/// are only loosely attached.
pub(crate) fn prefer_children(
    parent: &Risk,
    children: &[(usize, f64, Risk)],
    config: &ScoreConfig,
) -> bool {
    if children.len() < 2 {
        return false;
    }
    let any_hydra = children.iter().any(|(_, _, r)| r.hydra);
    if !parent.hydra {
        return any_hydra;
    }
    let organisation = children.iter().any(|(size, corporate, r)| {
        *size >= 3 && *corporate >= 0.5 && !r.hydra && r.score < config.get_threshold()
    });
    organisation && any_hydra
}

/// Share of a member's minutes in crowded minutes that puts it in the
/// synchronized core.
const CORE_SYNC: f64 = 0.5;
/// Least crowded minutes of a core member.
const CORE_MIN_MINUTES: usize = 3;
/// Least share of members in the synchronized core for the core to anchor
/// the ties (below it, ties to any member count).
const CORE_SHARE: f64 = 0.3;

/// Which members of a hydra community carry member-level evidence of
/// belonging to it.
///
/// When the community has a synchronized core (members with at least half
/// their active minutes, and at least three, in its crowded minutes, see
/// the sync signal), a
/// member is tied if it is in the core, or shares with a core member a
/// payment method, phone, e-mail or device of pooled size, or a rare
/// template (most of whose users are members). Without such a core, the
/// same ties to any member count, and so do two or more shared IPs. A household
/// that held one of the operator's proxy IPs is attached to the community
/// by that address and by its own family card and home IPs, none of them
/// shared with the operator's scripted accounts, so it is not flagged.
pub(crate) fn tied_members(view: &ClusterView<'_>, config: &ScoreConfig) -> Vec<bool> {
    let n = view.len();
    let shares = member_sync_shares(view);
    // A member with a handful of minutes can land in a crowded one by
    // chance: the core needs a few crowded minutes, not only a high share.
    let core: Vec<bool> = shares
        .iter()
        .map(|&(hit, total)| hit >= CORE_MIN_MINUTES && hit as f64 >= CORE_SYNC * total as f64)
        .collect();
    let anchored = core.iter().filter(|&&c| c).count() as f64 >= CORE_SHARE * n as f64;
    let anchor = |m: u32| !anchored || core[m as usize];
    let mut ips = vec![0u32; n];
    let mut tied = if anchored { core.clone() } else { vec![false; n] };
    for ind in view.indicators.iter().filter(|i| i.members.len() >= 2) {
        let m = ind.members.len();
        let strong = match ind.kind {
            IndicatorKind::Payment
            | IndicatorKind::Phone
            | IndicatorKind::Email
            | IndicatorKind::Device => m <= config.get_pool_max_accounts(),
            IndicatorKind::Template => {
                m as f64 >= config.get_rare_template_share() * ind.degree as f64
            }
            IndicatorKind::Ip => true,
            _ => false,
        };
        if !strong {
            continue;
        }
        let anchors = ind.members.iter().filter(|&&x| anchor(x)).count();
        for &x in &ind.members {
            // Another anchored member on it (not only the member itself).
            let others = anchors - usize::from(anchor(x));
            if others == 0 {
                continue;
            }
            if ind.kind == IndicatorKind::Ip {
                ips[x as usize] += 1;
            } else {
                tied[x as usize] = true;
            }
        }
    }
    // IPs tie a member only without a synchronized core: with one, the
    // operator's accounts show themselves by their minutes, and an address
    // shared with them is what the neighbours on its proxy exits have too.
    if !anchored {
        for (t, &k) in tied.iter_mut().zip(&ips) {
            *t |= k >= 2;
        }
    }
    tied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::signals::Measured;

    fn risk(score: f64, hydra: bool) -> Risk {
        Risk { signals: vec![Measured::new(0.0, "")], score, hydra }
    }

    #[test]
    fn children_replace_a_parent_only_on_disagreement() {
        let c = ScoreConfig::new();
        let (h, l) = (risk(0.7, true), risk(0.1, false));
        assert!(prefer_children(
            &risk(0.2, false),
            &[(10, 0.0, h.clone()), (30, 0.0, l.clone())],
            &c
        ));
        assert!(!prefer_children(
            &risk(0.2, false),
            &[(10, 0.0, l.clone()), (30, 0.0, l.clone())],
            &c
        ));
        // A hydra parent gives up a company, not its own low-scoring fragments.
        assert!(prefer_children(
            &risk(0.6, true),
            &[(10, 0.0, h.clone()), (30, 0.9, l.clone())],
            &c
        ));
        assert!(!prefer_children(&risk(0.6, true), &[(10, 0.0, h), (30, 0.0, l)], &c));
    }

    #[test]
    fn neighbours_on_proxy_ips_are_not_tied_to_the_synchronized_core() {
        use crate::score::view::testkit::{ind, member};
        let c = ScoreConfig::new();
        let mut members: Vec<_> = (0..8).map(|i| member(i, 0)).collect();
        for (i, m) in members.iter_mut().enumerate() {
            // Six scripted accounts, two neighbours active at other times.
            m.activity = if i < 6 {
                (0..20).map(|k| k * 101).collect()
            } else {
                (0..20).map(|k| k * 101 + 37 + i as u32).collect()
            };
        }
        let v = ClusterView::assemble(
            members,
            vec![
                ind(0, IndicatorKind::Ip, "p1", 9, &[0, 1, 6]),
                ind(1, IndicatorKind::Ip, "p2", 9, &[2, 3, 6]),
                ind(2, IndicatorKind::Payment, "family", 2, &[6, 7]),
                ind(3, IndicatorKind::Payment, "pool", 3, &[4, 5, 7]),
            ],
        );
        // 6 shares two proxy IPs and a card with 7 only; 7 shares a pooled card with the core.
        assert_eq!(tied_members(&v, &c), vec![true, true, true, true, true, true, false, true]);
    }
}
