//! Networks: the communities of one operator put back together, and the
//! replacements that joined them.
//!
//! Leiden at a resolution that finds tight communities cuts an operator of
//! thousands of accounts into hundreds of *cells*: the graph keeps at most
//! `top_k` links per account, so no community can be much denser than that
//! allows, however closely its accounts are run. The cells are put back
//! together by what an operator *owns*.
//!
//! # Owned pools
//!
//! A card, a device, a phone or a mailbox has one owner; an IP address, an
//! ASN, a template or an e-mail domain is rented or copied, and two
//! operators on one proxy service or one framework share them (see
//! [`owned`]). A value of an owned kind is *pooled by the hydras* when two or
//! more of its holders are flagged members of hydra cells and they are more
//! than half of its holders: more likely the operator's than anyone else's.
//! A card that a family shares with one fraudster, or a virtual phone
//! number resold to many customers, has as many holders outside the
//! hydras as inside, and binds nothing.
//!
//! Hydra cells that share a pooled value form one network (union-find over
//! the values). An account outside them that holds pooled values of **two
//! or more owned kinds** of one network (say its card and its device) joins
//! that network: one shared value is a coincidence a reviewer can explain
//! (the family card, the resold phone number), two independent ones are the
//! operator's pool. Cells linked only through rented infrastructure stay
//! apart, so two operators renting the same proxy service remain two
//! networks, and a household behind the same carrier NAT joins nothing.
//!
//! # Members a reviewer can defend
//!
//! A value is *the network's* when two or more of its holders are flagged
//! members and they are more than half of its holders. An operator's
//! account sits on the network's values of many kinds at once (its pooled
//! card, device and phone, its proxy exits, its templates); a household
//! that Leiden put beside it shares one or two (a resold virtual phone
//! number, a residential exit the operator also rents). So a flagged member
//! keeps its flag only when the network's values it holds span at least
//! two kinds and at least half as many kinds as the network's median member
//! (see [`corroborated`]): a member must look like the network's own
//! accounts, measured against the network itself rather than a constant.
//!
//! # Replacements
//!
//! An operator replaces each banned account with one fresh account on its
//! pools, soon after the ban; it may also keep growing, and growth is no
//! replacement. So each standing ban of a flagged member of a hydra
//! network accounts for at most one replacement: the network's flagged
//! members that signed up after a member's ban and share an indicator with
//! a member banned before their signup (the *evidence*) are taken in order
//! of signup, and each is matched to the earliest ban of the network not
//! yet matched and at most `replenish_window_secs` older than its signup.
//! A matched member is a replacement; once the bans are used up, later
//! signups are growth. The evidence is every indicator the replacement
//! shares with members banned before its signup, most specific first, and
//! those banned members. An account outside every network (the household
//! that signs up on the same network after a ban) never is one.
//!
//! # Identity or pool
//!
//! Some operators replace a banned account by taking over its own identity
//! (its signup address, its card, its device): the one-to-one takeovers of
//! `replacement` find those successors, and the operator's other post-ban
//! signups are growth. Others draw every new account from the pools. A
//! network whose standing bans were mostly (more than half) taken over one
//! to one replaces by identity, and its replacements are its takeovers
//! only; the others are matched to their bans as above (see
//! [`by_identity`]).
//!
//! # Complexity
//!
//! [`assemble`]: `O(L_owned + A · l α)` over the links of owned kinds and
//! the accounts' links (`α` the inverse Ackermann function).
//! [`replacements`]: `O(B + M)` over the banned members' links `B` and the
//! later members' links `M` of each network, plus sorting the evidence.

use ahash::AHashMap;
use rayon::prelude::*;

use crate::community::components::{find, union};
use crate::event::{IndicatorKind, Timestamp};
use crate::id::{AccountId, IndicatorId};
use crate::index::Index;
use crate::score::replacement::{Replacement, kind_weight, specificity};

/// Banned accounts listed per replacement.
const MAX_LINKED: usize = 20;

/// Whether a value of `kind` has one owner: a card, a device, a phone or a
/// mailbox. Addresses, ASNs, templates, domains, user agents, TLS
/// fingerprints and organisation names are rented, copied or shared by
/// strangers.
pub(crate) fn owned(kind: &IndicatorKind) -> bool {
    matches!(
        kind,
        IndicatorKind::Payment
            | IndicatorKind::Device
            | IndicatorKind::Phone
            | IndicatorKind::Email
    )
}

/// One community as network assembly sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cell<'s> {
    /// Members, sorted.
    pub members: &'s [AccountId],
    /// Per member: flagged `hydra`.
    pub flagged: &'s [bool],
    /// Whether the community was judged a hydra.
    pub hydra: bool,
}

/// Which cells form one network, and who joins it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Assembly {
    /// Per network, the positions of its cells, sorted; networks in order
    /// of their first cell. Only networks of two or more cells, or that
    /// take in an account, are listed.
    pub networks: Vec<Vec<usize>>,
    /// `(account, network)` for each account that joins a network (by its
    /// pooled values), by account.
    pub adopted: Vec<(AccountId, usize)>,
}

/// Groups the hydra cells of `cells` into networks by the owned values they
/// pool, and finds the accounts outside them that hold a network's pooled
/// values of two or more owned kinds (see the module docs).
///
/// Deterministic: union by smallest root, accounts judged independently;
/// in parallel over accounts when `parallel`, with the same result.
pub(crate) fn assemble(index: &Index, cells: &[Cell<'_>], parallel: bool) -> Assembly {
    let n = index.account_count();
    let mut cell_of = vec![u32::MAX; n];
    for (i, c) in cells.iter().enumerate().filter(|(_, c)| c.hydra) {
        for (&a, _) in c.members.iter().zip(c.flagged).filter(|(_, f)| **f) {
            cell_of[a.index()] = i as u32;
        }
    }
    let mut parent: Vec<u32> = (0..cells.len() as u32).collect();
    // Per indicator: a cell of its flagged holders, when it is pooled.
    let mut pooled: AHashMap<IndicatorId, u32> = AHashMap::new();
    for &ind in index.shared_indicators() {
        if !owned(index.indicator_kind(ind)) {
            continue;
        }
        let holders = index.indicator_accounts(ind);
        let inside: Vec<u32> =
            holders.iter().map(|a| cell_of[a.index()]).filter(|&c| c != u32::MAX).collect();
        if inside.len() < 2 || 2 * inside.len() <= holders.len() {
            continue;
        }
        for &c in &inside[1..] {
            union(&mut parent, inside[0], c);
        }
        pooled.insert(ind, inside[0]);
    }
    let roots: Vec<u32> = (0..cells.len() as u32).map(|c| find(&mut parent, c)).collect();

    let judge = |a: usize| -> Option<(AccountId, u32)> {
        if cell_of[a] != u32::MAX {
            return None;
        }
        let account = AccountId::new(a as u32);
        // (network root, kind) for each pooled owned value it holds.
        let mut hits: Vec<(u32, &IndicatorKind)> = index
            .account_links(account)
            .iter()
            .filter_map(|l| {
                let c = pooled.get(&l.indicator)?;
                Some((roots[*c as usize], index.indicator_kind(l.indicator)))
            })
            .collect();
        if hits.len() < 2 {
            return None;
        }
        hits.sort_unstable();
        hits.dedup();
        // The network with the most kinds (ties: the smaller root).
        let mut best: Option<(usize, u32)> = None;
        for run in hits.chunk_by(|x, y| x.0 == y.0) {
            if best.is_none_or(|(k, _)| run.len() > k) {
                best = Some((run.len(), run[0].0));
            }
        }
        best.filter(|&(kinds, _)| kinds >= 2).map(|(_, root)| (account, root))
    };
    let joins: Vec<(AccountId, u32)> = if parallel {
        (0..n).into_par_iter().filter_map(judge).collect()
    } else {
        (0..n).filter_map(judge).collect()
    };

    // Networks by root, in order of their first cell.
    let mut cells_of_root: Vec<Vec<usize>> = vec![Vec::new(); cells.len()];
    for (i, _) in cells.iter().enumerate().filter(|(_, c)| c.hydra) {
        cells_of_root[roots[i] as usize].push(i);
    }
    let mut adopts = vec![false; cells.len()];
    for &(_, r) in &joins {
        adopts[r as usize] = true;
    }
    let mut position = vec![usize::MAX; cells.len()];
    let mut networks = Vec::new();
    for (root, group) in cells_of_root.into_iter().enumerate() {
        if group.len() >= 2 || (!group.is_empty() && adopts[root]) {
            position[root] = networks.len();
            networks.push(group);
        }
    }
    let adopted = joins.into_iter().map(|(a, r)| (a, position[r as usize])).collect();
    Assembly { networks, adopted }
}

/// Which flagged members of a hydra community keep their flag: those whose
/// share of the community's values spans at least two kinds and at least
/// half the median member's kinds (see the module docs). `flagged` is
/// parallel to `members` (sorted); the result too.
///
/// # Complexity
///
/// `O(L log L)` over the members' links.
pub(crate) fn corroborated(index: &Index, members: &[AccountId], flagged: &[bool]) -> Vec<bool> {
    let holders = || members.iter().zip(flagged).filter(|p| *p.1).map(|p| *p.0);
    let mut inside: AHashMap<IndicatorId, u32> = AHashMap::new();
    for a in holders() {
        for l in index.account_links(a) {
            *inside.entry(l.indicator).or_default() += 1;
        }
    }
    let theirs = |ind: IndicatorId| {
        let k = inside.get(&ind).copied().unwrap_or(0) as usize;
        k >= 2 && 2 * k > index.indicator_degree(ind)
    };
    let kinds: Vec<usize> = members
        .iter()
        .zip(flagged)
        .map(|(&a, &f)| {
            if !f {
                return 0;
            }
            let mut k: Vec<&IndicatorKind> = index
                .account_links(a)
                .iter()
                .filter(|l| theirs(l.indicator))
                .map(|l| index.indicator_kind(l.indicator))
                .collect();
            k.sort_unstable();
            k.dedup();
            k.len()
        })
        .collect();
    let mut of_flagged: Vec<usize> =
        kinds.iter().zip(flagged).filter(|p| *p.1).map(|p| *p.0).collect();
    if of_flagged.is_empty() {
        return flagged.to_vec();
    }
    let mid = of_flagged.len() / 2;
    let median = *of_flagged.select_nth_unstable(mid).1;
    kinds.iter().zip(flagged).map(|(&k, &f)| f && k >= 2 && 2 * k >= median).collect()
}

/// The replacements of each hydra community (see the module docs):
/// `communities` gives each one's members and their flags, and whether it
/// is a hydra; a ban accounts for a signup at most `window` seconds later.
/// Result by account.
pub(crate) fn replacements(
    index: &Index,
    communities: &[Cell<'_>],
    window: i64,
    parallel: bool,
) -> Vec<Replacement> {
    let one = |c: &Cell<'_>| -> Vec<Replacement> {
        if c.hydra { of_network(index, c, window) } else { Vec::new() }
    };
    let mut out: Vec<Replacement> = if parallel {
        communities.par_iter().flat_map_iter(one).collect()
    } else {
        communities.iter().flat_map(one).collect()
    };
    out.sort_by_key(|r| r.account);
    out
}

/// Whether the network of `members` replaces banned accounts by taking
/// over their identity: more than half of its members' standing bans have a
/// one-to-one takeover successor (`takeovers` of them, see the module docs).
pub(crate) fn by_identity(
    index: &Index,
    members: impl Iterator<Item = AccountId>,
    takeovers: usize,
) -> bool {
    let bans = members.filter(|&a| standing_ban(index, a).is_some()).count();
    2 * takeovers > bans
}

/// A standing ban's time: the first ban never lifted.
fn standing_ban(index: &Index, account: AccountId) -> Option<Timestamp> {
    index.bans(account).iter().filter(|b| b.unban.is_none()).map(|b| b.ts).min()
}

/// The replacements of one hydra community.
fn of_network(index: &Index, c: &Cell<'_>, window: i64) -> Vec<Replacement> {
    let flagged = || c.members.iter().zip(c.flagged).filter(|p| *p.1).map(|p| *p.0);
    let mut bans: Vec<Timestamp> = Vec::new();
    // Per indicator, the banned members on it with their ban times.
    let mut on: AHashMap<IndicatorId, Vec<(Timestamp, AccountId)>> = AHashMap::new();
    for b in flagged() {
        let Some(ts) = standing_ban(index, b) else { continue };
        bans.push(ts);
        for l in index.account_links(b) {
            on.entry(l.indicator).or_default().push((ts, b));
        }
    }
    let Some(&first_ban) = bans.iter().min() else {
        return Vec::new();
    };
    for list in on.values_mut() {
        list.sort_unstable();
    }
    bans.sort_unstable();
    let mut later: Vec<Replacement> = flagged()
        .filter(|&a| index.signup(a) > first_ban)
        .filter_map(|a| with_evidence(index, a, &on))
        .collect();
    later.sort_by_key(|r| (r.signup, r.account));
    // Each ban accounts for one signup: the earliest unmatched ban within
    // the window before it.
    let mut next = 0;
    let mut out = Vec::new();
    for r in later {
        while next < bans.len() && bans[next] < r.signup.saturating_sub(window) {
            next += 1;
        }
        if next < bans.len() && bans[next] < r.signup {
            next += 1;
            out.push(r);
        }
    }
    out
}

/// What `a` shares with the members banned before its signup (`on`: per
/// indicator, the banned members on it by ban time), if anything.
///
/// `O(l log b)` over its links `l` and the banned members per indicator `b`.
fn with_evidence(
    index: &Index,
    a: AccountId,
    on: &AHashMap<IndicatorId, Vec<(Timestamp, AccountId)>>,
) -> Option<Replacement> {
    let signup = index.signup(a);
    let own_ban_before = standing_ban(index, a).is_some_and(|ts| ts < signup);
    // (indicator, banned before the signup on it, strength)
    let mut evidence: Vec<(IndicatorId, usize, f64)> = Vec::new();
    let mut linked: Vec<(usize, AccountId)> = Vec::new();
    for l in index.account_links(a) {
        let Some(list) = on.get(&l.indicator) else { continue };
        let before = &list[..list.partition_point(|(ts, _)| *ts < signup)];
        // `a` itself is on the list of each of its values when banned.
        let count = before.len() - usize::from(own_ban_before);
        if count == 0 {
            continue;
        }
        let degree = index.indicator_degree(l.indicator);
        let kind = index.indicator_kind(l.indicator);
        evidence.push((l.indicator, count, kind_weight(kind) * specificity(degree)));
        let named = before.iter().filter(|(_, b)| *b != a).take(MAX_LINKED);
        linked.extend(named.map(|&(_, b)| (degree, b)));
    }
    if evidence.is_empty() {
        return None;
    }
    evidence.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.0.cmp(&y.0)));
    let strength = 1.0 - evidence.iter().map(|e| 1.0 - e.2).product::<f64>();
    // The banned accounts met on the most specific values first.
    linked.sort_unstable();
    let mut linked_banned: Vec<AccountId> = Vec::new();
    for (_, b) in linked {
        if linked_banned.len() == MAX_LINKED {
            break;
        }
        if !linked_banned.contains(&b) {
            linked_banned.push(b);
        }
    }
    linked_banned.sort_unstable();
    Some(Replacement { account: a, signup, strength, linked_banned, evidence })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn obs(ts: i64, a: &str, kind: IndicatorKind, v: &str) -> Event {
        Event::observe(ts, a, kind, v)
    }

    fn ids(index: &Index, names: &[&str]) -> Vec<AccountId> {
        let mut v: Vec<AccountId> = names.iter().map(|n| index.account_id(n).unwrap()).collect();
        v.sort_unstable();
        v
    }

    /// Two hydra cells `x*` and `y*` of one operator share a card and a
    /// device; `z*` is a third hydra of another operator behind the same
    /// proxy IP; `out` holds the operator's card and device but sits in no
    /// hydra cell; `fam` shares only the card with one operator account.
    fn platform() -> Vec<Event> {
        use IndicatorKind::*;
        let mut e = Vec::new();
        for (a, card, dev) in [
            ("x1", "c1", "d1"),
            ("x2", "c1", "d1"),
            ("y1", "c1", "d2"),
            ("y2", "c2", "d1"),
            ("out", "c1", "d1"),
            ("z1", "c9", "d9"),
            ("z2", "c9", "d9"),
        ] {
            e.push(obs(100, a, Payment, card));
            e.push(obs(100, a, Device, dev));
            e.push(obs(100, a, Ip, "10.0.0.1"));
        }
        e.push(obs(100, "fam", Payment, "c2"));
        e.push(obs(100, "fam", Device, "d-fam"));
        e.push(obs(100, "hh", Ip, "10.0.0.1"));
        e
    }

    #[test]
    fn cells_sharing_owned_pools_form_one_network_and_take_in_pool_holders() {
        let index = Index::from_events(&platform()).unwrap();
        let cells_members =
            [ids(&index, &["x1", "x2"]), ids(&index, &["y1", "y2"]), ids(&index, &["z1", "z2"])];
        let flags = [vec![true; 2], vec![true; 2], vec![true; 2]];
        let cells: Vec<Cell<'_>> = cells_members
            .iter()
            .zip(&flags)
            .map(|(m, f)| Cell { members: m, flagged: f, hydra: true })
            .collect();
        let got = assemble(&index, &cells, false);
        // x and y share card c1 and device d1; z shares only the proxy IP.
        assert_eq!(got.networks, vec![vec![0, 1]]);
        // `out` holds the pooled card and device; `fam` only one pooled
        // value (card c2 is held by y2 and fam: no majority either);
        // the household behind the IP nothing owned.
        assert_eq!(got.adopted, vec![(index.account_id("out").unwrap(), 0)]);
        assert_eq!(assemble(&index, &cells, true), got);
    }

    #[test]
    fn non_hydra_cells_bind_nothing() {
        let index = Index::from_events(&platform()).unwrap();
        let m = [ids(&index, &["x1", "x2"]), ids(&index, &["y1", "y2"])];
        let flags = [vec![true; 2], vec![true; 2]];
        let cells = [
            Cell { members: &m[0], flagged: &flags[0], hydra: false },
            Cell { members: &m[1], flagged: &flags[1], hydra: false },
        ];
        assert_eq!(assemble(&index, &cells, false), Assembly::default());
    }

    #[test]
    fn a_network_whose_bans_were_mostly_taken_over_replaces_by_identity() {
        let e = vec![
            Event::ban(10, "a", None),
            Event::ban(10, "b", None),
            Event::ban(10, "c", None),
            obs(5, "d", IndicatorKind::Payment, "c1"),
        ];
        let index = Index::from_events(&e).unwrap();
        let members = ids(&index, &["a", "b", "c", "d"]);
        // Three standing bans: two takeovers are a majority, one is not.
        assert!(by_identity(&index, members.iter().copied(), 2));
        assert!(!by_identity(&index, members.iter().copied(), 1));
        // No bans, no takeovers: pooled.
        assert!(!by_identity(&index, [members[3]].into_iter(), 0));
    }

    #[test]
    fn each_ban_accounts_for_one_later_signup_with_shared_evidence() {
        use IndicatorKind::*;
        let e = vec![
            obs(50, "early", Payment, "c1"),
            obs(100, "a", Payment, "c1"),
            obs(100, "b", Payment, "c1"),
            obs(100, "c", Payment, "c1"),
            Event::ban(500, "a", None),
            // Shares nothing with a banned member: no evidence, no match.
            Event::signup(550, "q"),
            obs(560, "q", Payment, "c2"),
            obs(560, "b", Payment, "c2"),
            // Signs up after the ban on the pooled card: the replacement.
            Event::signup(600, "r"),
            obs(610, "r", Payment, "c1"),
            // The one ban is used up: growth (it comes before the second).
            Event::signup(650, "g"),
            obs(660, "g", Payment, "c1"),
            // A second ban, but the next signup comes after the window.
            Event::ban(2_000, "c", None),
            Event::signup(3_500, "late"),
            obs(3_510, "late", Payment, "c1"),
        ];
        let index = Index::from_events(&e).unwrap();
        let members = ids(&index, &["a", "b", "c", "r", "q", "g", "late", "early"]);
        let flagged = vec![true; members.len()];
        let cell = Cell { members: &members, flagged: &flagged, hydra: true };
        let got = replacements(&index, &[cell], 1_000, false);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].account, index.account_id("r").unwrap());
        assert_eq!(got[0].linked_banned, vec![index.account_id("a").unwrap()]);
        assert_eq!(got[0].evidence[0].1, 1);
        // With a window long enough, the second ban accounts for `late`.
        let got = replacements(&index, &[cell], 10_000, false);
        let names: Vec<&str> = got.iter().map(|r| index.account_name(r.account)).collect();
        assert_eq!(names, vec!["late", "r"]);
        // The same accounts in a community not judged a hydra: nothing.
        let legit = Cell { members: &members, flagged: &flagged, hydra: false };
        assert!(replacements(&index, &[legit], 10_000, false).is_empty());
    }
}
