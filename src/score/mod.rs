//! Scoring: community signals, risk, refinement, replacements, evidence and
//! lifecycles.
//!
//! # Overview
//!
//! - [`ScoreConfig`] holds the signal [`Weights`], the hydra threshold and
//!   the knobs of each signal; [`Signal`] names the signals.
//! - Each signal (in `signals/`, one file each) maps a community's plain
//!   data (`view::ClusterView`) to a value in `[0, 1]` with a one-line
//!   explanation; `risk` combines them into a score and a verdict.
//! - `refine` merges communities joined by pooled cards and looks inside
//!   large ones; `expand` lets confirmed hydras take in the accounts that
//!   share their pooled infrastructure and run on their operator's
//!   schedule; `replacement` finds post-ban replacements; `evidence` and
//!   `lifecycle` fill the report.
//!
//! [`score`] runs all of it over an index and a partition.

mod collect;
mod config;
pub(crate) mod evidence;
pub(crate) mod expand;
pub(crate) mod lifecycle;
pub(crate) mod network;
pub(crate) mod refine;
pub(crate) mod replacement;
pub(crate) mod risk;
pub(crate) mod signals;
pub(crate) mod view;

use rayon::prelude::*;

use crate::id::AccountId;
use crate::index::Index;

pub(crate) use collect::{context, read_view};
pub use config::{ScoreConfig, Signal, Weights};
pub(crate) use replacement::Replacement;
pub(crate) use risk::Risk;
pub(crate) use view::{ClusterView, Context};

/// A scored community.
#[derive(Debug)]
pub(crate) struct Scored<'a> {
    /// Members, sorted.
    pub members: Vec<AccountId>,
    /// What the signals read.
    pub view: ClusterView<'a>,
    /// Signals, score and verdict.
    pub risk: Risk,
    /// Per member (parallel to `members`): flagged `hydra`, i.e. the
    /// community is a hydra and the member is tied to it by member-level
    /// evidence (see `refine::tied_members`).
    pub flagged: Vec<bool>,
    /// For a network assembled from several communities (see `network`),
    /// the communities it was made of; empty otherwise.
    pub cells: Vec<CellSummary>,
}

/// One community of a network, as its report lists it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CellSummary {
    /// Its smallest member (names the cell, as a cluster is named).
    pub first: AccountId,
    /// Its member count.
    pub size: usize,
    /// Its own hydra risk score.
    pub score: f64,
}

impl<'a> Scored<'a> {
    /// The community as network assembly and the replacement rule see it.
    fn cell(&self) -> network::Cell<'_> {
        network::Cell { members: &self.members, flagged: &self.flagged, hydra: self.risk.hydra }
    }

    fn new(
        members: Vec<AccountId>,
        view: ClusterView<'a>,
        risk: Risk,
        ctx: &Context,
        config: &ScoreConfig,
    ) -> Self {
        let flagged = if risk.hydra {
            refine::tied_members(&view, ctx, config)
        } else {
            vec![false; members.len()]
        };
        Scored { members, view, risk, flagged, cells: Vec::new() }
    }
}

/// A community of the first pass, before pieces of one operator are grouped.
struct Piece<'a> {
    members: Vec<AccountId>,
    view: ClusterView<'a>,
    risk: Risk,
    /// Its schedule, if synchronized enough to be grouped by schedule.
    schedule: Option<refine::Schedule>,
}

/// A community after grouping: scored already, or to be scored whole
/// (with the pieces it was made of).
enum Parent<'a> {
    Scored(Piece<'a>),
    Merged(Vec<AccountId>, Vec<Piece<'a>>),
}

/// `f` over `items` in order, in parallel when `parallel`.
fn map<T: Send, U: Send>(
    items: Vec<T>,
    parallel: bool,
    f: impl Fn(T) -> U + Sync + Send,
) -> Vec<U> {
    if parallel {
        items.into_par_iter().map(f).collect()
    } else {
        items.into_iter().map(f).collect()
    }
}

/// The outcome of scoring a partition.
#[derive(Debug)]
pub(crate) struct Scoring<'a> {
    /// Every community of `min_cluster_size` or more accounts, by smallest member.
    pub clusters: Vec<Scored<'a>>,
    /// Per account, the index of its community in `clusters`.
    pub cluster_of: Vec<Option<u32>>,
    /// Accounts flagged as replacements, by account.
    pub replacements: Vec<Replacement>,
}

/// Splits a set of accounts into sub-communities (used on large
/// communities; the detector runs CPM Leiden on the induced subgraph).
pub(crate) type Splitter<'s> = dyn Fn(&[AccountId]) -> Vec<Vec<AccountId>> + Sync + 's;

/// Scores the communities of `communities` (each a list of accounts):
/// merges those joined by pooled cards, scores every community, groups the
/// pieces of one operator by their schedule (`refine::schedule_groups`;
/// a group is kept when it scores as a hydra, else its pieces stand),
/// refines large communities that are not hydras (or hold an
/// organisation) with `split` (a hydra gives up the organisations found
/// inside it, `refine::after_split`), lets confirmed hydras take in the accounts
/// on their operator's schedule (`expand_hydras`), and finds replacements.
///
/// Deterministic: communities are handled in order of their smallest
/// member, in parallel above `parallel_threshold` communities with results
/// collected in that order.
///
/// # Complexity
///
/// Linear in the index's links and activity minutes up to sorts and the
/// density peeling (`O(E log E)` per community), plus the cost of `split`
/// on communities of `split_min_size` or more accounts, plus schedule
/// grouping and the replacement pass (see `refine::schedule_groups` and
/// `replacement::candidates`).
pub(crate) fn score<'a>(
    index: &'a Index,
    communities: Vec<Vec<AccountId>>,
    split: &Splitter<'_>,
    config: &ScoreConfig,
) -> Scoring<'a> {
    let ctx = context(index);
    let mut communities: Vec<Vec<AccountId>> = communities
        .into_iter()
        .map(|mut c| {
            c.sort_unstable();
            c.dedup();
            c
        })
        .filter(|c| c.len() >= config.get_min_cluster_size())
        .collect();
    communities.sort_by_key(|c| c[0]);
    let started = std::time::Instant::now();
    let lap =
        |step: &str| tracing::debug!(step, ms = started.elapsed().as_millis() as u64, "score");
    let communities = refine::merge_by_cards(index, communities, config);
    lap("merge_by_cards");
    let parallel = communities.len() >= config.get_parallel_threshold();

    // First pass: every community's view and risk.
    let first: Vec<Piece<'a>> = map(communities, parallel, |members| {
        let view = read_view(index, &members, config);
        let risk = risk::assess(&view, &ctx, config);
        let schedule = refine::Schedule::of(&view);
        let schedule = schedule.takes_part().then_some(schedule);
        Piece { members, view, risk, schedule }
    });

    lap("first_pass");
    // Pieces of one operator, cut apart by Leiden, come back together.
    let groups = {
        let members: Vec<&[AccountId]> = first.iter().map(|p| p.members.as_slice()).collect();
        let schedules: Vec<Option<refine::Schedule>> =
            first.iter().map(|p| p.schedule.clone()).collect();
        refine::schedule_groups(index, &members, &schedules, parallel)
    };
    lap("schedule_groups");
    let mut pieces: Vec<Option<Piece<'a>>> = first.into_iter().map(Some).collect();
    let parents: Vec<Parent<'a>> = groups
        .into_iter()
        .map(|group| {
            if let [one] = group[..] {
                return Parent::Scored(pieces[one].take().expect("each piece is in one group"));
            }
            let parts: Vec<Piece<'a>> = group
                .iter()
                .map(|&c| pieces[c].take().expect("each piece is in one group"))
                .collect();
            let mut members: Vec<AccountId> =
                parts.iter().flat_map(|p| p.members.iter().copied()).collect();
            members.sort_unstable();
            Parent::Merged(members, parts)
        })
        .collect();
    let parallel = parents.len() >= config.get_parallel_threshold();

    let finish_one =
        |members: Vec<AccountId>, view: ClusterView<'a>, risk: Risk, out: &mut Vec<Scored<'a>>| {
            // A hydra without an organisation inside has nothing to carve out:
            // re-clustering it could only cut the operator up again.
            if members.len() < config.get_split_min_size()
                || (risk.hydra && !signals::holds_organisation(&view))
            {
                out.push(Scored::new(members, view, risk, &ctx, config));
                return;
            }
            let parent = Scored::new(members, view, risk, &ctx, config);
            let children: Vec<Scored<'a>> = split(&parent.members)
                .into_iter()
                .map(|mut c| {
                    c.sort_unstable();
                    c
                })
                .filter(|c| c.len() >= config.get_min_cluster_size())
                .map(|c| {
                    let v = read_view(index, &c, config);
                    let r = risk::assess(&v, &ctx, config);
                    Scored::new(c, v, r, &ctx, config)
                })
                .collect();
            let summary: Vec<(usize, f64, Risk)> = children
                .iter()
                .map(|c| (c.members.len(), signals::corporate_share(&c.view), c.risk.clone()))
                .collect();
            match refine::after_split(&parent.risk, &summary, config) {
                refine::SplitOutcome::Keep => out.push(parent),
                refine::SplitOutcome::Children => out.extend(children),
                refine::SplitOutcome::CarveOut(organisations) => {
                    carve_out(index, parent, children, &organisations, &ctx, config, out)
                }
            }
        };
    let finish = |parent: Parent<'a>| -> Vec<Scored<'a>> {
        let mut out = Vec::new();
        match parent {
            Parent::Scored(p) => finish_one(p.members, p.view, p.risk, &mut out),
            Parent::Merged(members, parts) => {
                let view = read_view(index, &members, config);
                let risk = risk::assess(&view, &ctx, config);
                if risk.hydra {
                    finish_one(members, view, risk, &mut out);
                } else {
                    // Grouping is kept only when it shows a hydra: pieces
                    // that a schedule joined into something unremarkable
                    // are judged as they were.
                    for p in parts {
                        finish_one(p.members, p.view, p.risk, &mut out);
                    }
                }
            }
        }
        out
    };
    let mut clusters: Vec<Scored<'a>> = if parallel {
        parents.into_par_iter().flat_map_iter(finish).collect()
    } else {
        parents.into_iter().flat_map(finish).collect()
    };
    clusters.sort_by_key(|c| c.members[0]);
    lap("finish");
    let mut clusters = expand_hydras(index, clusters, &ctx, config);
    clusters.sort_by_key(|c| c.members[0]);
    lap("expand_hydras");
    let mut clusters = join_networks(index, clusters, &ctx, config);
    clusters.sort_by_key(|c| c.members[0]);
    lap("join_networks");
    let parallel = clusters.len() >= config.get_parallel_threshold();
    let clusters = map(clusters, parallel, |mut c| {
        if c.risk.hydra {
            c.flagged = network::corroborated(index, &c.members, &c.flagged);
        }
        c
    });
    lap("corroborate");

    let mut cluster_of = vec![None; index.account_count()];
    for (i, c) in clusters.iter().enumerate() {
        for &a in &c.members {
            cluster_of[a.index()] = Some(i as u32);
        }
    }
    let replacements = find_replacements(index, &clusters, &cluster_of, config);
    lap("replacements");
    Scoring { clusters, cluster_of, replacements }
}

/// A hydra without the organisations found inside it
/// (`organisations`: sorted positions in `children`, its sub-communities):
/// they stand on their own and the rest is judged again. If the rest is no
/// hydra, the verdict rested on the organisations and every child is
/// judged on its own instead.
fn carve_out<'a>(
    index: &'a Index,
    parent: Scored<'a>,
    children: Vec<Scored<'a>>,
    organisations: &[usize],
    ctx: &Context,
    config: &ScoreConfig,
    out: &mut Vec<Scored<'a>>,
) {
    let mut carved: Vec<AccountId> =
        organisations.iter().flat_map(|&i| children[i].members.iter().copied()).collect();
    carved.sort_unstable();
    let rest: Vec<AccountId> =
        parent.members.into_iter().filter(|a| carved.binary_search(a).is_err()).collect();
    let view = read_view(index, &rest, config);
    let risk = risk::assess(&view, ctx, config);
    if !risk.hydra {
        out.extend(children);
        return;
    }
    out.push(Scored::new(rest, view, risk, ctx, config));
    let kept = children.into_iter().enumerate();
    out.extend(kept.filter(|(i, _)| organisations.binary_search(i).is_ok()).map(|(_, c)| c));
}

/// Accounts that share pooled infrastructure with a confirmed hydra and
/// run on its operator's schedule join it (see `expand`): they move from
/// their own community into the hydra's and are flagged there.
///
/// The hydra's signals are measured again with its new members (its
/// verdict stands if they would not confirm it; its earlier flags stand).
/// A community that loses members is measured again: a hydra that still
/// scores as one keeps its flags, one that no longer does loses its
/// verdict and flags (its hydra evidence left with the members). A
/// community left with fewer than `min_cluster_size` members is dropped.
///
/// # Complexity
///
/// That of `expand::joins`, plus reading and measuring the changed
/// communities again (in parallel above `parallel_threshold` of them).
/// Does nothing unless [`ScoreConfig::schedule_expansion`] is on.
fn expand_hydras<'a>(
    index: &'a Index,
    clusters: Vec<Scored<'a>>,
    ctx: &Context,
    config: &ScoreConfig,
) -> Vec<Scored<'a>> {
    if !config.get_schedule_expansion() {
        return clusters;
    }
    let n = index.account_count();
    let parallel = n >= config.get_parallel_threshold().saturating_mul(64);
    let mut hydra_of = vec![u32::MAX; n];
    let mut cluster_of = vec![u32::MAX; n];
    let schedules: Vec<Option<expand::OperatorSchedule>> = clusters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            for (&a, &flagged) in c.members.iter().zip(&c.flagged) {
                cluster_of[a.index()] = i as u32;
                if flagged {
                    hydra_of[a.index()] = i as u32;
                }
            }
            if !c.risk.hydra {
                return None;
            }
            let core = c.members.iter().zip(&c.flagged).filter(|p| *p.1).map(|p| *p.0);
            expand::OperatorSchedule::of(core.map(|a| index.activity(a)))
        })
        .collect();
    let joins = expand::joins(index, &hydra_of, &schedules, parallel);
    if joins.is_empty() {
        return clusters;
    }
    let mut added: Vec<Vec<AccountId>> = vec![Vec::new(); clusters.len()];
    let mut removed: Vec<Vec<AccountId>> = vec![Vec::new(); clusters.len()];
    for &(a, h, _) in &joins {
        added[h as usize].push(a);
        if let Some(from) = cluster_of.get(a.index()).filter(|&&c| c != u32::MAX) {
            removed[*from as usize].push(a);
        }
    }
    let work: Vec<(Scored<'a>, Vec<AccountId>, Vec<AccountId>)> = clusters
        .into_iter()
        .zip(added)
        .zip(removed)
        .map(|((c, add), remove)| (c, add, remove))
        .collect();
    let rebuilt = map(work, parallel, |(c, add, remove)| -> Option<Scored<'a>> {
        if add.is_empty() && remove.is_empty() {
            return Some(c);
        }
        // Members kept (with their flags), then those joining (flagged).
        let mut members: Vec<(AccountId, bool)> = c
            .members
            .iter()
            .zip(&c.flagged)
            .filter(|(a, _)| remove.binary_search(a).is_err())
            .map(|(&a, &f)| (a, f))
            .chain(add.iter().map(|&a| (a, true)))
            .collect();
        members.sort_unstable_by_key(|m| m.0);
        if members.len() < config.get_min_cluster_size() {
            return None;
        }
        let (members, flagged): (Vec<AccountId>, Vec<bool>) = members.into_iter().unzip();
        let view = read_view(index, &members, config);
        if !add.is_empty() {
            let risk = risk::assess(&view, ctx, config);
            let risk = if risk.hydra { risk } else { c.risk };
            Some(Scored { members, view, risk, flagged, cells: Vec::new() })
        } else {
            Some(judged_again(members, flagged, view, c.risk.hydra, ctx, config))
        }
    });
    rebuilt.into_iter().flatten().collect()
}

/// A community judged again after losing members: what made it a hydra
/// may have left with them (an operator's accounts that joined their own
/// hydra or network, leaving the company Leiden had put beside them). A
/// hydra that still is one keeps its flags.
fn judged_again<'a>(
    members: Vec<AccountId>,
    flagged: Vec<bool>,
    view: ClusterView<'a>,
    was_hydra: bool,
    ctx: &Context,
    config: &ScoreConfig,
) -> Scored<'a> {
    let risk = risk::assess(&view, ctx, config);
    if was_hydra && risk.hydra {
        Scored { members, view, risk, flagged, cells: Vec::new() }
    } else {
        Scored::new(members, view, risk, ctx, config)
    }
}

/// Hydra communities of one operator become one network, and accounts
/// holding a network's pooled values of two owned kinds join it (see
/// `network`). The network is scored whole; its verdict is a hydra's (its
/// cells each were), and if its whole score falls short of the threshold
/// its riskiest cell's signals and score stand for it. Communities that
/// lose members to a network are judged again; one left with fewer than
/// `min_cluster_size` members is dropped.
///
/// # Complexity
///
/// That of `network::assemble`, plus reading and measuring the networks
/// and the changed communities again.
fn join_networks<'a>(
    index: &'a Index,
    clusters: Vec<Scored<'a>>,
    ctx: &Context,
    config: &ScoreConfig,
) -> Vec<Scored<'a>> {
    let n = index.account_count();
    let parallel = n >= config.get_parallel_threshold().saturating_mul(64);
    let assembly = {
        let cells: Vec<network::Cell<'_>> = clusters.iter().map(Scored::cell).collect();
        network::assemble(index, &cells, parallel)
    };
    if assembly.networks.is_empty() {
        return clusters;
    }
    let mut network_of = vec![usize::MAX; clusters.len()];
    for (k, cells) in assembly.networks.iter().enumerate() {
        for &c in cells {
            network_of[c] = k;
        }
    }
    let mut cluster_of = vec![usize::MAX; n];
    for (i, c) in clusters.iter().enumerate() {
        for &a in &c.members {
            cluster_of[a.index()] = i;
        }
    }
    let mut joining: Vec<Vec<AccountId>> = vec![Vec::new(); assembly.networks.len()];
    let mut removed: Vec<Vec<AccountId>> = vec![Vec::new(); clusters.len()];
    for &(a, k) in &assembly.adopted {
        joining[k].push(a);
        let from = cluster_of[a.index()];
        if from != usize::MAX && network_of[from] != k {
            removed[from].push(a);
        }
    }
    let mut slots: Vec<Option<Scored<'a>>> = clusters.into_iter().map(Some).collect();
    let networks: Vec<(Vec<Scored<'a>>, Vec<AccountId>)> = assembly
        .networks
        .iter()
        .zip(joining)
        .map(|(cells, join)| {
            let cells = cells.iter().map(|&c| slots[c].take().expect("a cell is in one network"));
            (cells.collect(), join)
        })
        .collect();
    let mut out: Vec<Scored<'a>> =
        map(networks, parallel, |(cells, join)| network_whole(index, cells, &join, ctx, config));
    let changed: Vec<(Scored<'a>, Vec<AccountId>)> =
        slots.into_iter().zip(removed).filter_map(|(c, r)| Some((c?, r))).collect();
    out.extend(
        map(changed, parallel, |(c, remove)| -> Option<Scored<'a>> {
            if remove.is_empty() {
                return Some(c);
            }
            let (members, flagged): (Vec<AccountId>, Vec<bool>) = c
                .members
                .iter()
                .zip(&c.flagged)
                .filter(|(a, _)| remove.binary_search(a).is_err())
                .map(|(&a, &f)| (a, f))
                .unzip();
            if members.len() < config.get_min_cluster_size() {
                return None;
            }
            let view = read_view(index, &members, config);
            Some(judged_again(members, flagged, view, c.risk.hydra, ctx, config))
        })
        .into_iter()
        .flatten(),
    );
    out
}

/// One network: its cells' members (with their flags) and the accounts
/// that join it (flagged), scored whole.
fn network_whole<'a>(
    index: &'a Index,
    cells: Vec<Scored<'a>>,
    join: &[AccountId],
    ctx: &Context,
    config: &ScoreConfig,
) -> Scored<'a> {
    let mut members: Vec<(AccountId, bool)> = cells
        .iter()
        .flat_map(|c| c.members.iter().copied().zip(c.flagged.iter().copied()))
        .chain(join.iter().map(|&a| (a, true)))
        .collect();
    // A joining account that was already an unflagged member comes second
    // with its flag set: keep the flagged copy.
    members.sort_unstable_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)));
    members.dedup_by_key(|m| m.0);
    let (members, flagged): (Vec<AccountId>, Vec<bool>) = members.into_iter().unzip();
    let view = read_view(index, &members, config);
    let mut risk = risk::assess(&view, ctx, config);
    if !risk.hydra {
        let best = cells.iter().max_by(|x, y| x.risk.score.total_cmp(&y.risk.score));
        risk = best.map_or(risk, |c| c.risk.clone());
    }
    let one = cells.len() < 2;
    let mut summaries: Vec<CellSummary> = cells
        .iter()
        .filter(|_| !one)
        .map(|c| CellSummary { first: c.members[0], size: c.members.len(), score: c.risk.score })
        .collect();
    summaries.sort_by_key(|c| c.first);
    Scored { members, view, risk, flagged, cells: summaries }
}

/// The communities as the replacement rule sees them.
struct Membership<'s, 'a> {
    clusters: &'s [Scored<'a>],
    cluster_of: &'s [Option<u32>],
}

impl replacement::Communities for Membership<'_, '_> {
    fn hydra_score(&self, account: AccountId) -> Option<f64> {
        let c = &self.clusters[self.cluster_of[account.index()]? as usize];
        let i = c.members.binary_search(&account).ok()?;
        c.flagged[i].then_some(c.risk.score)
    }
}

/// The replacements: the one-to-one takeovers of `replacement` by accounts
/// in a hydra community or of accounts banned with an abuse reason, and the accounts that joined a banned network
/// (`network::replacements`). In parallel above `parallel_threshold` × 64
/// accounts; same result either way.
fn find_replacements(
    index: &Index,
    clusters: &[Scored<'_>],
    cluster_of: &[Option<u32>],
    config: &ScoreConfig,
) -> Vec<Replacement> {
    let bans = replacement::standing_bans(index, config);
    let membership = Membership { clusters, cluster_of };
    let n = index.account_count();
    let parallel = n >= config.get_parallel_threshold().saturating_mul(64);
    let candidates = replacement::candidates(index, &bans, config, parallel);
    let paired = replacement::pair(&candidates, n);
    let judge = |(c, p)| replacement::judge(c, p, &membership, config);
    let takeovers: Vec<Replacement> = if parallel {
        candidates.into_par_iter().zip(paired).filter_map(judge).collect()
    } else {
        candidates.into_iter().zip(paired).filter_map(judge).collect()
    };
    // A takeover stands inside a hydra, or when the platform labelled a
    // predecessor's ban as abuse: the colleague who signs up on the company
    // card after an unexplained ban is no replacement.
    let in_hydra =
        |a: AccountId| cluster_of[a.index()].is_some_and(|c| clusters[c as usize].risk.hydra);
    let labelled = |b: &AccountId| {
        index.bans(*b).iter().any(|s| {
            s.unban.is_none() && s.reason.as_deref().is_some_and(|r| config.is_abuse(Some(r)))
        })
    };
    let takeovers: Vec<Replacement> = takeovers
        .into_iter()
        .filter(|t| in_hydra(t.account) || t.linked_banned.iter().any(labelled))
        .collect();
    // Takeovers per community, to tell how each network replaces.
    let mut taken = vec![0usize; clusters.len()];
    for t in &takeovers {
        if let Some(c) = cluster_of[t.account.index()] {
            taken[c as usize] += 1;
        }
    }
    let cells: Vec<network::Cell<'_>> = clusters
        .iter()
        .zip(&taken)
        .map(|(c, &taken)| network::Cell {
            hydra: c.risk.hydra && !network::by_identity(index, c.members.iter().copied(), taken),
            ..c.cell()
        })
        .collect();
    let joined = network::replacements(index, &cells, config.get_replenish_window_secs(), parallel);
    merge_replacements(takeovers, joined)
}

/// The takeovers of banned accounts and the accounts that joined a banned
/// network, both by account, as one list by account: an account that is
/// both keeps its takeover (the stronger, one-to-one evidence).
fn merge_replacements(takeovers: Vec<Replacement>, joined: Vec<Replacement>) -> Vec<Replacement> {
    let mut out = Vec::with_capacity(takeovers.len() + joined.len());
    let mut joined = joined.into_iter().peekable();
    for t in takeovers {
        while let Some(j) = joined.next_if(|j| j.account < t.account) {
            out.push(j);
        }
        joined.next_if(|j| j.account == t.account);
        out.push(t);
    }
    out.extend(joined);
    out
}
