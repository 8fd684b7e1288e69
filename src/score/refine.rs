//! Refinement of the community partition before the final scores: merge
//! communities that pooled cards join, and look inside large communities
//! for a hydra hidden among legitimate accounts.

use crate::event::IndicatorKind;
use crate::id::AccountId;
use crate::index::Index;
use crate::score::config::ScoreConfig;
use crate::score::risk::Risk;
use crate::score::signals::{characteristic, coincident_minutes, member_sync_shares};
use crate::score::view::{ClusterView, Context};

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

/// Least share of a community's member-minutes in its crowded minutes for
/// it to take part in schedule grouping.
const SCHEDULE_MIN_SHARE: f64 = 0.3;
/// Least crowded minutes of one community in which the other is active.
const SCHEDULE_MIN_COMMON: usize = 5;
/// Least share of a community's crowded minutes in which the other
/// community is active (both ways).
const SCHEDULE_COVER: f64 = 0.3;
/// How far above chance the cover must be: a community active in a share
/// `x` of the minutes of its span meets a crowded minute by chance with
/// probability about `4x` (daily rhythms), and the cover must be at least
/// this many times that.
const SCHEDULE_ABOVE_CHANCE: f64 = 2.0;
/// Most accounts on an indicator that may join two communities' schedules
/// for comparison (proxy exits, pooled cards and devices; not a carrier
/// NAT or a popular device fingerprint).
const SCHEDULE_MAX_DEGREE: usize = 200;

/// A community's minutes as schedule grouping compares them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Schedule {
    /// Minutes more members are active in than chance allows (two are
    /// enough in a small community, see the sync signal), sorted.
    pub crowded: Vec<u32>,
    /// Minutes in which any member is active, sorted, distinct.
    pub active: Vec<u32>,
    /// Share of the member-minutes that fall in `crowded`.
    pub share: f64,
}

impl Schedule {
    /// The schedule of `view`.
    pub(crate) fn of(view: &ClusterView<'_>) -> Schedule {
        let mut active: Vec<u32> =
            view.members.iter().flat_map(|m| m.activity.iter().copied()).collect();
        let total = active.len();
        active.sort_unstable();
        active.dedup();
        let crowded = coincident_minutes(view);
        let hit: usize = view
            .members
            .iter()
            .map(|m| m.activity.iter().filter(|x| crowded.binary_search(x).is_ok()).count())
            .sum();
        let share = if total == 0 { 0.0 } else { hit as f64 / total as f64 };
        Schedule { crowded, active, share }
    }

    /// Whether it is synchronized enough to be compared at all: enough
    /// crowded minutes, holding a good part of the members' activity.
    pub(crate) fn takes_part(&self) -> bool {
        self.crowded.len() >= SCHEDULE_MIN_COMMON && self.share >= SCHEDULE_MIN_SHARE
    }

    /// Whether `other` is active in enough of this one's crowded minutes,
    /// well above chance.
    fn covered_by(&self, other: &Schedule) -> bool {
        let (Some(&lo), Some(&hi)) = (other.active.first(), other.active.last()) else {
            return false;
        };
        let chance = 4.0 * other.active.len() as f64 / (hi - lo + 1) as f64;
        let common = sorted_intersection(&self.crowded, &other.active);
        common >= SCHEDULE_MIN_COMMON
            && common as f64
                >= SCHEDULE_COVER.max(SCHEDULE_ABOVE_CHANCE * chance) * self.crowded.len() as f64
    }
}

/// Groups the communities that one operator's schedule ties together.
///
/// Leiden cuts a large, sparsely linked operator (thousands of accounts
/// over a proxy pool, no shared cards) into many pieces of a few dozen:
/// the Constant Potts Model keeps a group together only while its link
/// density exceeds the resolution, and a big operator's density is low.
/// Its pieces still run on one script schedule: each piece's *crowded
/// minutes* (see the sync signal) are the operator's working minutes, in
/// which the members of every other piece are active too, while an
/// unrelated group is active in them only by chance (a few hundred minutes
/// out of the tens of thousands in a period).
///
/// `schedules[c]` is the [`Schedule`] of community `c` if it is
/// synchronized enough to take part ([`Schedule::takes_part`]), else `None`. Two taking part are
/// compared when an indicator of pooled size (a proxy exit, a card, a
/// device, a phone or an e-mail on at most 200 accounts) links their
/// members, and grouped when each is active in at least 30% (and at least
/// five) of the other's crowded minutes, and at least twice as often as
/// chance allows. Groups are closed transitively.
///
/// Returns groups of community positions, each sorted, ordered by their
/// first position; every position appears in exactly one group.
///
/// # Complexity
///
/// `O(L + P · m)` over the index's links `L` of the indicators considered
/// and the candidate pairs `P`, with `m` active minutes per community;
/// pairs already grouped are skipped.
pub(crate) fn schedule_groups(
    index: &Index,
    communities: &[&[AccountId]],
    schedules: &[Option<Schedule>],
) -> Vec<Vec<usize>> {
    let mut of = vec![u32::MAX; index.account_count()];
    for (c, members) in communities.iter().enumerate() {
        if schedules[c].is_some() {
            for &a in *members {
                of[a.index()] = c as u32;
            }
        }
    }
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut cs: Vec<u32> = Vec::new();
    for (kind, range) in index.kinds() {
        if !super::expand::selects(kind) {
            continue;
        }
        for raw in range {
            let id = crate::id::IndicatorId::new(raw);
            let accounts = index.indicator_accounts(id);
            if accounts.len() < 2 || accounts.len() > SCHEDULE_MAX_DEGREE {
                continue;
            }
            cs.clear();
            cs.extend(accounts.iter().map(|a| of[a.index()]).filter(|&c| c != u32::MAX));
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
    pairs.dedup();
    let mut parent: Vec<u32> = (0..communities.len() as u32).collect();
    for (a, b) in pairs {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra == rb {
            continue;
        }
        let (Some(x), Some(y)) = (&schedules[a as usize], &schedules[b as usize]) else {
            continue;
        };
        if x.covered_by(y) && y.covered_by(x) {
            parent[ra.max(rb) as usize] = ra.min(rb);
        }
    }
    let mut groups: Vec<(u32, usize)> =
        (0..communities.len()).map(|c| (find(&mut parent, c as u32), c)).collect();
    groups.sort_unstable();
    groups.chunk_by(|x, y| x.0 == y.0).map(|run| run.iter().map(|p| p.1).collect()).collect()
}

/// Size of the intersection of two sorted, distinct lists.
fn sorted_intersection(x: &[u32], y: &[u32]) -> usize {
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common
}

/// Union-find root of `x`, halving paths.
fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        parent[x as usize] = parent[parent[x as usize] as usize];
        x = parent[x as usize];
    }
    x
}

/// What becomes of a large community once it has been split (see
/// [`after_split`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SplitOutcome {
    /// The community stands as it is.
    Keep,
    /// Its sub-communities replace it.
    Children,
    /// These sub-communities (positions in the list given) leave it and
    /// stand on their own; the rest of it stays one community.
    CarveOut(Vec<usize>),
}

/// Decides between a large community and its sub-communities
/// (`children`: size, corporate share and risk of each).
///
/// A community that is no hydra as a whole gives way to its children when
/// one of them is (a hydra hidden in a mixed community scores low as a
/// whole). A hydra keeps its low-scoring pieces — fragments of an operator
/// score low on their own, and [`tied_members`] leaves out the accounts
/// that are only loosely attached — but gives up each child with a
/// legitimate organisation's signature (its own e-mail domain or org, at
/// least three members) that does not look like a hydra by itself: that
/// child is carved out and the rest is judged again without it. Carving
/// out rather than dissolving matters for large operators: a hydra of
/// thousands of accounts that swept in one small company must not be
/// broken back into the fragments that could not be confirmed one by one.
pub(crate) fn after_split(
    parent: &Risk,
    children: &[(usize, f64, Risk)],
    config: &ScoreConfig,
) -> SplitOutcome {
    if children.len() < 2 {
        return SplitOutcome::Keep;
    }
    if !parent.hydra {
        return if children.iter().any(|(_, _, r)| r.hydra) {
            SplitOutcome::Children
        } else {
            SplitOutcome::Keep
        };
    }
    let organisations: Vec<usize> = children
        .iter()
        .enumerate()
        .filter(|(_, (size, corporate, r))| {
            *size >= 3 && *corporate >= 0.5 && !r.hydra && r.score < config.get_threshold()
        })
        .map(|(i, _)| i)
        .collect();
    if organisations.is_empty() {
        SplitOutcome::Keep
    } else {
        SplitOutcome::CarveOut(organisations)
    }
}

/// Share of a member's minutes in crowded minutes that puts it in the
/// synchronized core.
const CORE_SYNC: f64 = 0.5;
/// Least crowded minutes of a core member.
const CORE_MIN_MINUTES: usize = 3;

/// Which members of a hydra community carry member-level evidence of
/// belonging to it: the community's own behaviour, or a private link to a
/// member who shows it.
///
/// The *seeds* show the behaviour: members in the synchronized core (at
/// least three of their active minutes, and at least half of them, in the
/// community's crowded minutes, see the sync signal) and members on a
/// template characteristic of the community (see the template signal). A
/// member is tied if it is a seed, or shares with another seed a payment
/// method, phone, e-mail or device of pooled size (platform-wide). Shared
/// IPs never tie a member: a household that held one of the operator's
/// proxy IPs is attached to the community by that address and by its own
/// family card and home IPs, which link it only to its own family, none of
/// whom runs the operator's scripts, so it is not flagged.
pub(crate) fn tied_members(
    view: &ClusterView<'_>,
    ctx: &Context,
    config: &ScoreConfig,
) -> Vec<bool> {
    let n = view.len();
    let shares = member_sync_shares(view);
    // A member with a handful of minutes can land in a crowded one by
    // chance: the core needs a few crowded minutes, not only a high share.
    let mut seed: Vec<bool> = shares
        .iter()
        .map(|&(hit, total)| hit >= CORE_MIN_MINUTES && hit as f64 >= CORE_SYNC * total as f64)
        .collect();
    for t in view.of_kind(&IndicatorKind::Template) {
        if characteristic(t, n, ctx, config) {
            for &m in &t.members {
                seed[m as usize] = true;
            }
        }
    }
    let mut tied = seed.clone();
    for ind in view.indicators.iter().filter(|i| i.members.len() >= 2) {
        // Pooled size platform-wide: a common device fingerprint is no
        // private link, however many members happen to share it.
        let private =
            crate::score::network::owned(&ind.kind) && ind.degree <= config.get_pool_max_accounts();
        if !private {
            continue;
        }
        let seeds = ind.members.iter().filter(|&&x| seed[x as usize]).count();
        for &x in &ind.members {
            // Another seed on it (not only the member itself).
            if seeds > usize::from(seed[x as usize]) {
                tied[x as usize] = true;
            }
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
        let low = risk(0.2, false);
        let outcome =
            |parent: &Risk, children: &[(usize, f64, Risk)]| after_split(parent, children, &c);
        assert_eq!(
            outcome(&low, &[(10, 0.0, h.clone()), (30, 0.0, l.clone())]),
            SplitOutcome::Children
        );
        assert_eq!(
            outcome(&low, &[(10, 0.0, l.clone()), (30, 0.0, l.clone())]),
            SplitOutcome::Keep
        );
        // A hydra keeps its own low-scoring fragments...
        let hydra = risk(0.6, true);
        assert_eq!(
            outcome(&hydra, &[(10, 0.0, h.clone()), (30, 0.0, l.clone())]),
            SplitOutcome::Keep
        );
        // ...and gives up the companies it swept in, however many
        // fragments it has and whether or not one of them is a hydra.
        let mut many = vec![(20, 0.0, l.clone()); 500];
        many.push((6, 0.9, l.clone()));
        many.push((8, 1.0, l.clone()));
        assert_eq!(outcome(&hydra, &many), SplitOutcome::CarveOut(vec![500, 501]));
        // A company too small to tell, or one that is a hydra itself, stays.
        assert_eq!(
            outcome(&hydra, &[(10, 0.0, h.clone()), (2, 1.0, l.clone())]),
            SplitOutcome::Keep
        );
        assert_eq!(outcome(&hydra, &[(10, 0.0, l), (30, 0.9, h)]), SplitOutcome::Keep);
    }

    #[test]
    fn a_household_in_an_operator_piece_is_not_tied_by_its_own_card_and_ips() {
        use crate::score::view::testkit::{ind, member};
        let c = ScoreConfig::new();
        let ops: Vec<u32> = (0..6).collect();
        let v = ClusterView::assemble(
            (0..8).map(|i| member(i, 0)).collect(),
            vec![
                // The operator's script template: all its users are here.
                ind(0, IndicatorKind::Template, "family", 6, &ops),
                ind(1, IndicatorKind::Ip, "proxy1", 9, &[0, 6]),
                ind(2, IndicatorKind::Ip, "proxy2", 9, &[1, 6]),
                ind(3, IndicatorKind::Ip, "home1", 2, &[6, 7]),
                ind(4, IndicatorKind::Ip, "home2", 2, &[6, 7]),
                ind(5, IndicatorKind::Payment, "family card", 2, &[6, 7]),
            ],
        );
        let ctx = Context { accounts: 10_000, ..Context::default() };
        let tied = tied_members(&v, &ctx, &c);
        assert_eq!(tied, vec![true, true, true, true, true, true, false, false]);
    }

    /// An index of three groups of six accounts: `a` and `b` run on one
    /// schedule (thirty minutes, all six active in each), `c` on its own;
    /// one proxy IP is shared by `a0`, `b0` and `c0`.
    fn schedule_index() -> Index {
        use crate::event::Event;
        let mut builder = crate::index::IndexBuilder::new();
        for (group, offset) in [("a", 0i64), ("b", 0), ("c", 37)] {
            for i in 0..6 {
                let account = format!("{group}{i}");
                builder.add(&Event::signup(60, account.clone())).unwrap();
                for k in 0..30i64 {
                    let ts = (1_000 + 100 * k + offset) * 60 + i;
                    let ev = Event::observe(ts, account.clone(), IndicatorKind::Template, "t");
                    builder.add(&ev).unwrap();
                }
            }
            let ev = Event::observe(120, format!("{group}0"), IndicatorKind::Ip, "192.0.2.1");
            builder.add(&ev).unwrap();
        }
        builder.finish()
    }

    #[test]
    fn pieces_on_one_schedule_are_grouped_and_others_are_not() {
        let index = schedule_index();
        let config = ScoreConfig::new();
        let group = |prefix: &str| -> Vec<AccountId> {
            let mut v: Vec<AccountId> = (0..6)
                .map(|i| index.account_id(&format!("{prefix}{i}")).expect("account"))
                .collect();
            v.sort_unstable();
            v
        };
        let communities = [group("a"), group("b"), group("c")];
        let schedules: Vec<Option<Schedule>> = communities
            .iter()
            .map(|m| Some(Schedule::of(&crate::score::read_view(&index, m, &config))))
            .collect();
        assert_eq!(schedules[0].as_ref().map(|s| s.crowded.len()), Some(30));
        let refs: Vec<&[AccountId]> = communities.iter().map(|c| c.as_slice()).collect();
        assert_eq!(schedule_groups(&index, &refs, &schedules), vec![vec![0, 1], vec![2]]);
        // Without the shared IP nothing would compare them; without a
        // schedule a community takes no part.
        let mut quiet = schedules.clone();
        quiet[1] = None;
        assert_eq!(schedule_groups(&index, &refs, &quiet), vec![vec![0], vec![1], vec![2]]);
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
        assert_eq!(
            tied_members(&v, &Context::default(), &c),
            vec![true, true, true, true, true, true, false, true]
        );
    }
}
