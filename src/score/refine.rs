//! Refinement of the community partition before the final scores: merge
//! communities that pooled cards join, and look inside large communities
//! for a hydra hidden among legitimate accounts.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ahash::AHashMap;
use rayon::prelude::*;

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
    /// Minutes in which a member of the synchronized core is active,
    /// sorted, distinct.
    pub active: Vec<u32>,
    /// Share of the member-minutes that fall in `crowded`.
    pub share: f64,
}

impl Schedule {
    /// The schedule of `view`. Its `active` minutes are those of its
    /// synchronized core only (members with at least three, and at least
    /// half, of their minutes in crowded ones, as in [`tied_members`]): a
    /// few accounts of another operator that Leiden put in the community
    /// would otherwise make it look active in that operator's minutes.
    pub(crate) fn of(view: &ClusterView<'_>) -> Schedule {
        let crowded = coincident_minutes(view);
        let mut active: Vec<u32> = Vec::new();
        let (mut hit, mut total) = (0usize, 0usize);
        for m in &view.members {
            let own = m.activity.iter().filter(|x| crowded.binary_search(x).is_ok()).count();
            hit += own;
            total += m.activity.len();
            if own >= CORE_MIN_MINUTES && own as f64 >= CORE_SYNC * m.activity.len() as f64 {
                active.extend(m.activity.iter().copied());
            }
        }
        active.sort_unstable();
        active.dedup();
        let share = if total == 0 { 0.0 } else { hit as f64 / total as f64 };
        Schedule { crowded, active, share }
    }

    /// Whether it is synchronized enough to be compared at all: enough
    /// crowded minutes, holding a good part of the members' activity.
    pub(crate) fn takes_part(&self) -> bool {
        self.crowded.len() >= SCHEDULE_MIN_COMMON && self.share >= SCHEDULE_MIN_SHARE
    }

    /// Whether `other` is active in enough of this one's crowded minutes
    /// within `other`'s lifetime (its first to its last active minute),
    /// well above chance; `None` when too few of them fall in that
    /// lifetime to judge (accounts of an operator that were banned before
    /// the others signed up cannot share their minutes).
    fn covered_by(&self, other: &Schedule) -> Option<bool> {
        let (&lo, &hi) = (other.active.first()?, other.active.last()?);
        let start = self.crowded.partition_point(|&m| m < lo);
        let end = self.crowded.partition_point(|&m| m <= hi);
        let crowded = &self.crowded[start..end];
        if crowded.len() < SCHEDULE_MIN_COMMON {
            return None;
        }
        let chance = 4.0 * other.active.len() as f64 / (hi - lo + 1) as f64;
        let common = sorted_intersection(crowded, &other.active);
        Some(
            common >= SCHEDULE_MIN_COMMON
                && common as f64 >= SCHEDULE_ABOVE_CHANCE * chance * crowded.len() as f64,
        )
    }

    /// The vote of comparing two schedules: +1 when each covers the other,
    /// −1 when the one judged, or both, fall short, 0 when neither can be
    /// judged (lifetimes that barely overlap) or the two directions
    /// contradict each other (a sparse piece whose few core minutes meet
    /// the other's crowded ones only part of the time).
    fn vote(&self, other: &Schedule) -> i64 {
        match (self.covered_by(other), other.covered_by(self)) {
            (Some(true), Some(true)) => 1,
            (Some(false), Some(false)) | (Some(false), None) | (None, Some(false)) => -1,
            _ => 0,
        }
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
/// synchronized enough to take part ([`Schedule::takes_part`]), else
/// `None`. Two taking part are compared when an indicator of pooled size
/// (a proxy exit, a card, a device, a phone or an e-mail on at most 200
/// accounts) links their members. In each direction, the crowded minutes
/// of one that fall in the other's lifetime are looked at: the other's
/// synchronized core is active in enough of them when it is in at least
/// five, and at least twice as often as chance allows. The comparison
/// *agrees* when that holds both ways, *disagrees* when it fails both ways
/// (or one way, the other not being judged), and abstains otherwise.
///
/// Groups are formed by the comparisons' majority, not by chains of
/// agreements: two groups become one only when, over every pair of their
/// pieces that was compared, agreements outnumber disagreements (greedy
/// additive edge contraction: the pair of groups with the largest surplus
/// of agreements merges first, and merging adds up the votes). A Leiden
/// piece that holds accounts of two operators agrees with the pieces of
/// both, but a chain through it does not join the two operators: their
/// own pieces, compared with each other across the shared proxy exits,
/// disagree, and those votes outweigh the mixed piece's.
///
/// Returns groups of community positions, each sorted, ordered by their
/// first position; every position appears in exactly one group.
///
/// # Complexity
///
/// `O(L + P · m + P log P)` over the index's links `L` of the indicators
/// considered, the compared pairs `P` (each once) and `m` crowded minutes
/// per community; the comparisons run in parallel when `parallel` is set
/// (as the rest of scoring, from `parallel_threshold`).
pub(crate) fn schedule_groups(
    index: &Index,
    communities: &[&[AccountId]],
    schedules: &[Option<Schedule>],
    parallel: bool,
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
    let vote = |&(a, b): &(u32, u32)| -> Option<Vote> {
        let (Some(x), Some(y)) = (&schedules[a as usize], &schedules[b as usize]) else {
            return None;
        };
        let weight = x.vote(y);
        (weight != 0).then_some(Vote { a, b, weight })
    };
    let votes: Vec<Vote> = if parallel {
        pairs.par_iter().filter_map(vote).collect()
    } else {
        pairs.iter().filter_map(vote).collect()
    };
    drop(pairs);
    let mut root = contract_agreeing(communities.len(), &votes);
    let mut groups: Vec<(u32, usize)> =
        (0..communities.len()).map(|c| (find(&mut root, c as u32), c)).collect();
    groups.sort_unstable();
    let mut groups: Vec<Vec<usize>> =
        groups.chunk_by(|x, y| x.0 == y.0).map(|run| run.iter().map(|p| p.1).collect()).collect();
    groups.sort_unstable_by_key(|g| g[0]);
    groups
}

/// One comparison of two communities' schedules: `weight` is +1 when they
/// agree, −1 when they do not (`a < b`).
#[derive(Clone, Copy, Debug)]
struct Vote {
    a: u32,
    b: u32,
    weight: i64,
}

/// Greedy additive edge contraction over `n` nodes and signed `votes`:
/// repeatedly merges the two groups whose votes between them sum to the
/// largest positive total (ties: the smallest node numbers first), adding
/// up their votes with every other group, until no two groups have a
/// positive total. Returns a union-find parent array (roots via [`find`]).
///
/// Deterministic: the outcome depends on the votes only, not on their
/// order or on hashing.
fn contract_agreeing(n: usize, votes: &[Vote]) -> Vec<u32> {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    // Total vote between each pair of current groups, kept on both sides.
    let mut between: Vec<AHashMap<u32, i64>> = vec![AHashMap::new(); n];
    for v in votes {
        *between[v.a as usize].entry(v.b).or_default() += v.weight;
        *between[v.b as usize].entry(v.a).or_default() += v.weight;
    }
    // Candidates to merge, largest total first; an entry is stale once one
    // side has merged or the total has changed.
    let mut heap: BinaryHeap<(i64, Reverse<u32>, Reverse<u32>)> = BinaryHeap::new();
    for (a, row) in between.iter().enumerate() {
        for (&b, &w) in row {
            if (a as u32) < b && w > 0 {
                heap.push((w, Reverse(a as u32), Reverse(b)));
            }
        }
    }
    while let Some((w, Reverse(a), Reverse(b))) = heap.pop() {
        if parent[a as usize] != a
            || parent[b as usize] != b
            || between[a as usize].get(&b) != Some(&w)
        {
            continue;
        }
        // The group with more neighbours stays; the other's votes move to it.
        let (keep, gone) =
            if between[a as usize].len() >= between[b as usize].len() { (a, b) } else { (b, a) };
        parent[gone as usize] = keep;
        let moved = std::mem::take(&mut between[gone as usize]);
        between[keep as usize].remove(&gone);
        for (k, w) in moved {
            if k == keep {
                continue;
            }
            between[k as usize].remove(&gone);
            let total = {
                let t = between[keep as usize].entry(k).or_default();
                *t += w;
                *t
            };
            between[k as usize].insert(keep, total);
            if total > 0 {
                heap.push((total, Reverse(keep.min(k)), Reverse(keep.max(k))));
            }
        }
    }
    parent
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
        assert_eq!(schedule_groups(&index, &refs, &schedules, false), vec![vec![0, 1], vec![2]]);
        // Without the shared IP nothing would compare them; without a
        // schedule a community takes no part.
        let mut quiet = schedules.clone();
        quiet[1] = None;
        assert_eq!(schedule_groups(&index, &refs, &quiet, false), vec![vec![0], vec![1], vec![2]]);
    }

    fn votes(list: &[(u32, u32, i64)]) -> Vec<Vote> {
        list.iter().map(|&(a, b, weight)| Vote { a, b, weight }).collect()
    }

    fn roots(n: usize, list: &[(u32, u32, i64)]) -> Vec<u32> {
        let mut parent = contract_agreeing(n, &votes(list));
        (0..n as u32).map(|x| find(&mut parent, x)).collect()
    }

    #[test]
    fn a_piece_agreeing_with_two_operators_does_not_join_them() {
        // 0-1-2 one operator, 4-5-6 another; 3 holds accounts of both and
        // agrees with everyone; the two operators' own pieces disagree.
        let mut list = vec![(0, 1, 1), (0, 2, 1), (1, 2, 1), (4, 5, 1), (4, 6, 1), (5, 6, 1)];
        list.extend([(0, 3, 1), (1, 3, 1), (2, 3, 1), (3, 4, 1), (3, 5, 1), (3, 6, 1)]);
        list.extend([(0, 4, -1), (1, 5, -1), (2, 6, -1), (0, 5, -1)]);
        let r = roots(7, &list);
        assert!(r[0] == r[1] && r[1] == r[2]);
        assert!(r[4] == r[5] && r[5] == r[6]);
        assert_ne!(r[0], r[4], "the chain through 3 must not join the operators");
        // Union-find over the agreements alone would have joined them all.
        assert!(r[3] == r[0] || r[3] == r[4]);
    }

    #[test]
    fn agreement_majorities_merge_and_ties_do_not() {
        // A chain of agreements with no disagreement is one group.
        let r = roots(4, &[(0, 1, 1), (1, 2, 1), (2, 3, 1)]);
        assert!(r.iter().all(|&x| x == r[0]));
        // Two groups whose cross votes cancel stay apart.
        let r = roots(4, &[(0, 1, 1), (0, 1, 1), (2, 3, 1), (2, 3, 1), (0, 2, 1), (1, 3, -1)]);
        assert_eq!(r[0], r[1]);
        assert_eq!(r[2], r[3]);
        assert_ne!(r[0], r[2]);
        // The outcome does not depend on the order of the votes.
        let list = [(0, 1, 1), (1, 2, 1), (2, 3, -1), (0, 3, -1), (3, 4, 1), (1, 4, -1)];
        let mut reversed = list.to_vec();
        reversed.reverse();
        assert_eq!(roots(5, &list), roots(5, &reversed));
    }

    #[test]
    fn a_schedule_is_active_in_its_core_minutes_only() {
        use crate::score::view::testkit::member;
        let mut members: Vec<_> = (0..5).map(|i| member(i, 0)).collect();
        for (i, m) in members.iter_mut().enumerate() {
            // Four scripted accounts; one account of another operator,
            // active at minutes of its own.
            m.activity = if i < 4 {
                (0..20).map(|k| k * 101).collect()
            } else {
                (0..20).map(|k| k * 101 + 50).collect()
            };
        }
        let v = ClusterView::assemble(members, Vec::new());
        let s = Schedule::of(&v);
        assert_eq!(s.crowded.len(), 20);
        assert_eq!(s.active, s.crowded, "the stray account's minutes are left out");
    }

    #[test]
    fn schedules_of_different_lifetimes_abstain() {
        let early = Schedule { crowded: (0..20).collect(), active: (0..20).collect(), share: 1.0 };
        let late = Schedule {
            crowded: (1000..1020).collect(),
            active: (1000..1020).collect(),
            share: 1.0,
        };
        assert_eq!(early.covered_by(&late), None);
        assert_eq!(early.vote(&late), 0);
        let other = Schedule {
            crowded: (0..20).map(|k| k * 97 + 3).collect(),
            active: (0..20).map(|k| k * 97 + 3).collect(),
            share: 1.0,
        };
        let same = Schedule {
            crowded: (0..20).map(|k| k * 97).collect(),
            active: (0..20).map(|k| k * 97).collect(),
            share: 1.0,
        };
        assert_eq!(same.vote(&same.clone()), 1);
        assert_eq!(same.vote(&other), -1);
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
