//! The account graph over the workers: projection where each indicator
//! lives, contributions summed by account, top-k, connected components,
//! and the graph gathered on worker 0.
//!
//! # Overview
//!
//! While reading, every observation goes to the worker that owns its
//! indicator ([`indicator_owner`]; an `ip` by its `ip_prefix`, so an address
//! and its prefix live together), which indexes it; that worker's index
//! thus holds every holder of its indicators, with when each was first seen
//! on it. After reading, [`build`] runs in rounds:
//!
//! 1. hello: every worker learns every indicator kind and the range
//!    splitters of account names; account ids are ranked (`ranks`), so
//!    worker `r` owns the contiguous ids `starts[r]..starts[r + 1]`;
//! 2. each worker emits the pair contributions of the indicators it owns
//!    with the one-machine projection's per-indicator code
//!    ([`emit`](crate::graph::emit): the same supernode windows, caps and
//!    budget), merged, in its index's ids; they are renamed to global ids
//!    and kinds (both renamings keep the order) and sent to the owner of
//!    the smaller account, which merges them again (capped sums do not
//!    depend on how they are grouped) and sums them into edges;
//! 3. top-k: each edge goes to its larger end's owner too, each owner finds
//!    its accounts' thresholds from their whole edge lists, and the edges
//!    the larger end keeps go back; an edge stays if either end keeps it,
//!    as on one machine;
//! 4. connected components by label propagation of the smallest id over
//!    the kept edges, one round per step, until no label changes;
//! 5. the kept edges go to worker 0 in id order, where they are the edges
//!    the one-machine projection makes, in its order.

use std::collections::BTreeSet;
use std::time::Instant;

use timely::worker::Worker;

use crate::error::Result;
use crate::event::{Indicator, IndicatorKind};
use crate::graph::{
    Counters, Edge, Edges, GraphConfig, KindMask, KindTable, Pair, ProjectionStats, RELEASE_PAIRS,
    emit, kept_by, kth_strongest, merge_pairs, sum_pairs,
};
use crate::id::AccountId;
use crate::index::Index;
use crate::ingest::normalize::{parse_ip, push_ip_prefix};

use super::ranks::{self, Ranks};
use super::rounds::{CHUNK, Rounds, chunks};
use super::wire::{GraphReport, Shuffle};

/// The worker of `workers` that owns `indicator`: a hash of its kind and
/// value, for an `ip` of its `ip_prefix` (so the prefix's holders are all
/// on the worker that holds its addresses). `scratch` is reused.
pub(crate) fn indicator_owner(
    indicator: &Indicator,
    workers: usize,
    scratch: &mut String,
) -> usize {
    let ip = match indicator.kind {
        IndicatorKind::Ip => parse_ip(&indicator.value),
        _ => None,
    };
    let (kind, value) = match ip {
        Some(ip) => {
            scratch.clear();
            push_ip_prefix(ip, scratch);
            (IndicatorKind::IpPrefix.as_str(), scratch.as_str())
        }
        None => (indicator.kind.as_str(), indicator.value.as_str()),
    };
    (stable_hash(kind, value) % workers as u64) as usize
}

/// FNV-1a of `kind`, a separator and `value`, then a 64-bit finalizer
/// (the same in every process, unlike a seeded hasher).
fn stable_hash(kind: &str, value: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in kind.as_bytes().iter().chain(&[0xff]).chain(value.as_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// What one worker brings to [`build`].
#[derive(Debug)]
pub(crate) struct Shard {
    /// The index of the observations of the indicators it owns.
    pub(crate) index: Index,
    /// The distinct account names it read, sorted.
    pub(crate) read: Vec<String>,
    /// Why it cannot go on (reading failed, or its index refused an event).
    pub(crate) failed: Option<String>,
}

/// The account graph gathered on worker 0.
#[derive(Debug)]
pub(crate) struct Gathered {
    /// Accounts (nodes), linked or not.
    pub(crate) nodes: usize,
    /// The kept edges, sorted, as the one-machine projection and top-k make them.
    pub(crate) edges: Edges,
    /// Summed over the workers (timings: worker 0's).
    pub(crate) stats: ProjectionStats,
    /// Every worker's figures, by worker.
    pub(crate) reports: Vec<GraphReport>,
    /// Worker 0's time per stage, in order.
    pub(crate) timings: Vec<(String, f64)>,
}

impl Gathered {
    /// Connected parts of two or more accounts, the largest's size, and the
    /// accounts in them.
    pub(crate) fn parts(&self) -> (u64, u64, u64) {
        let r = &self.reports;
        (
            r.iter().map(|r| r.parts).sum(),
            r.iter().map(|r| r.largest_part).max().unwrap_or(0),
            r.iter().map(|r| r.accounts_in_parts).sum(),
        )
    }
}

/// Times the stages of one worker.
struct Clock {
    at: Instant,
    laps: Vec<(String, f64)>,
}

impl Clock {
    fn lap(&mut self, stage: &str) {
        self.laps.push((stage.to_owned(), self.at.elapsed().as_secs_f64()));
        self.at = Instant::now();
    }
}

/// Builds the account graph over every worker (call it in every worker,
/// after reading); returns it on worker 0, `None` elsewhere.
///
/// # Errors
///
/// On every worker, the same error: the first failing worker's (reading
/// failed, an index refused an event, more than 2³² − 2 accounts).
pub(crate) fn build(
    worker: &mut Worker,
    rounds: &mut Rounds,
    shard: Shard,
    config: &GraphConfig,
) -> Result<Option<Gathered>> {
    let mut clock = Clock { at: Instant::now(), laps: Vec::new() };
    let Shard { index, read, failed } = shard;
    let (me, peers) = (rounds.me(), rounds.peers());

    // 1. Hello and account ids.
    if let Some(message) = failed {
        rounds.fail(message);
    }
    let own_kinds: Vec<IndicatorKind> = index.kinds().map(|(k, _)| k.clone()).collect();
    rounds.broadcast(&Shuffle::Hello {
        kinds: own_kinds.iter().map(|k| k.as_str().to_owned()).collect(),
        samples: ranks::sample(&read),
    });
    let mut kinds: BTreeSet<IndicatorKind> = own_kinds.iter().cloned().collect();
    let mut samples = Vec::new();
    for msg in rounds.finish(worker, "ids")?.messages {
        if let Shuffle::Hello { kinds: k, samples: s } = msg {
            // Kinds were valid where they were indexed; one that is not
            // cannot be a kind of ours and is left out.
            kinds.extend(k.iter().filter_map(|k| IndicatorKind::parse(k).ok()));
            samples.extend(s);
        }
    }
    let kinds: Vec<IndicatorKind> = kinds.into_iter().collect();
    let kind_of: Vec<usize> =
        own_kinds.iter().map(|k| kinds.binary_search(k).unwrap_or_default()).collect();
    let splitters = ranks::splitters(samples, peers);
    let asked: Vec<String> = (0..index.account_count() as u32)
        .map(|i| index.account_name(AccountId::new(i)).to_owned())
        .collect();
    let ranks = ranks::rank(worker, rounds, &read, &asked, &splitters)?;
    drop((read, asked, splitters));
    clock.lap("ids");

    // 2. Projection of the indicators this worker owns, summed by account.
    let indicators = index.indicator_count() as u64;
    let links = index.link_count() as u64;
    let emitted = emit(&index, config);
    drop(index);
    let counters = emitted.counters.clone().remap_kinds(&kind_of, kinds.len());
    let mut out: Vec<Vec<[u32; 4]>> = vec![Vec::new(); peers];
    for p in emitted.pairs {
        let a = ranks.ids[p.a as usize];
        let to = ranks.owner(a);
        out[to].push([a, ranks.ids[p.b as usize], kind_of[p.kind as usize] as u32, p.units]);
        if out[to].len() >= CHUNK {
            rounds.send(to, Shuffle::Pairs(std::mem::take(&mut out[to])));
        }
    }
    flush(rounds, &mut out, Shuffle::Pairs);
    clock.lap("project");
    let mut pairs: Vec<Pair> = Vec::new();
    for msg in rounds.finish(worker, "pairs")?.messages {
        if let Shuffle::Pairs(list) = msg {
            pairs.extend(list.into_iter().map(|[a, b, kind, units]| Pair { a, b, kind, units }));
        }
    }
    let table = KindTable::new(kinds.iter(), config);
    let parallel = pairs.len() >= config.get_parallel_threshold();
    merge_pairs(&mut pairs, &table.cap_units, parallel);
    let mut edges = sum_pairs(pairs, &table.cap_units, &table.masks, RELEASE_PAIRS);
    let candidate_edges = edges.len() as u64;
    clock.lap("sum");

    // 3. Top-k.
    if let Some(k) = config.get_top_k() {
        top_k(worker, rounds, &ranks, &mut edges, k)?;
    }
    clock.lap("top_k");

    // 4. Connected components.
    let parts = components(worker, rounds, &ranks, &edges)?;
    clock.lap("components");

    // 5. The graph to worker 0.
    let from = me as u32;
    let list: Vec<(u32, u32, u64, KindMask)> =
        edges.list.iter().zip(&edges.masks).map(|(e, &m)| (e.a, e.b, e.units, m)).collect();
    let report = GraphReport {
        worker: me,
        counters,
        indicators,
        links,
        candidate_edges,
        edges: edges.len() as u64,
        parts: parts.count,
        largest_part: parts.largest,
        accounts_in_parts: parts.accounts,
        rounds: parts.rounds,
        bytes_remote: rounds.bytes().to_vec(),
        peak_rss: super::peak_rss(),
    };
    drop(edges);
    for m in chunks(&list, |seq, edges| Shuffle::Graph { from, seq, edges }) {
        rounds.send(0, m);
    }
    drop(list);
    rounds.send(0, Shuffle::Report(Box::new(report)));
    let messages = rounds.finish(worker, "gather")?.messages;
    if me != 0 {
        return Ok(None);
    }
    let mut pieces = Vec::new();
    let mut reports = Vec::new();
    for msg in messages {
        match msg {
            Shuffle::Graph { from, seq, edges } => pieces.push((from, seq, edges)),
            Shuffle::Report(r) => reports.push(*r),
            _ => {}
        }
    }
    pieces.sort_unstable_by_key(|(from, seq, _)| (*from, *seq));
    let total: usize = pieces.iter().map(|(_, _, e)| e.len()).sum();
    let mut edges = Edges { list: Vec::with_capacity(total), masks: Vec::with_capacity(total) };
    for (_, _, piece) in pieces {
        for (a, b, units, mask) in piece {
            edges.list.push(Edge { a, b, units });
            edges.masks.push(mask);
        }
    }
    let nodes = *ranks.starts.last().unwrap_or(&0) as usize;
    let sorted = edges.list.windows(2).all(|w| (w[0].a, w[0].b) < (w[1].a, w[1].b));
    if !sorted || edges.list.iter().any(|e| e.a >= e.b || e.b as usize >= nodes) {
        return Err(super::internal(
            "the gathered edges are not sorted distinct pairs of accounts",
        ));
    }
    reports.sort_unstable_by_key(|r| r.worker);
    let mut sum = Counters::new(kinds.len());
    for r in &reports {
        sum = sum.add(r.counters.clone());
    }
    clock.lap("gather");
    let stats = ProjectionStats {
        candidate_edges: reports.iter().map(|r| r.candidate_edges).sum(),
        edges: edges.len() as u64,
        ..sum.stats(&kinds)
    };
    Ok(Some(Gathered { nodes, edges, stats, reports, timings: clock.laps }))
}

/// Sends what is left in `out` (one list per worker) as `wrap` messages.
fn flush<T>(rounds: &mut Rounds, out: &mut [Vec<T>], wrap: impl Fn(Vec<T>) -> Shuffle) {
    for (to, list) in out.iter_mut().enumerate() {
        if !list.is_empty() {
            rounds.send(to, wrap(std::mem::take(list)));
        }
    }
}

/// Top-k over the workers: keeps an edge of this worker's summed edges if
/// it is among the `k` strongest of either end, as
/// [`AccountGraph::build`](crate::graph::AccountGraph::build) does. Two
/// rounds (none if `k` is 0, which keeps nothing).
fn top_k(
    worker: &mut Worker,
    rounds: &mut Rounds,
    ranks: &Ranks,
    edges: &mut Edges,
    k: usize,
) -> Result<()> {
    if k == 0 {
        edges.retain(|_| false);
        return Ok(());
    }
    let me = rounds.me();
    let lo = ranks.starts[me];
    let nodes = (ranks.starts[me + 1] - lo) as usize;
    let mut out: Vec<Vec<(u32, u32, u64)>> = vec![Vec::new(); rounds.peers()];
    for e in &edges.list {
        let to = ranks.owner(e.b);
        out[to].push((e.a, e.b, e.units));
        if out[to].len() >= CHUNK {
            rounds.send(to, Shuffle::Incident(std::mem::take(&mut out[to])));
        }
    }
    flush(rounds, &mut out, Shuffle::Incident);
    let mut as_b: Vec<(u32, u32, u64)> = Vec::new();
    for msg in rounds.finish(worker, "top_k")?.messages {
        if let Shuffle::Incident(list) = msg {
            as_b.extend(list);
        }
    }
    as_b.sort_unstable_by_key(|&(a, b, _)| (b, a));
    // Each account's threshold from its whole edge list: its edges as the
    // smaller end (a run of `edges`) and as the larger (a run of `as_b`).
    let list = &edges.list;
    let (mut i, mut j) = (0, 0);
    let mut scratch: Vec<(u64, u32)> = Vec::new();
    let mut thresholds: Vec<Option<(u64, u32)>> = Vec::with_capacity(nodes);
    for u in lo..lo + nodes as u32 {
        scratch.clear();
        while j < as_b.len() && as_b[j].1 == u {
            scratch.push((as_b[j].2, as_b[j].0));
            j += 1;
        }
        while i < list.len() && list[i].a == u {
            scratch.push((list[i].units, list[i].b));
            i += 1;
        }
        thresholds.push(kth_strongest(&mut scratch, k));
    }
    let mut back: Vec<Vec<(u32, u32)>> = vec![Vec::new(); rounds.peers()];
    for &(a, b, units) in &as_b {
        if kept_by(thresholds[(b - lo) as usize], a, units) {
            let to = ranks.owner(a);
            back[to].push((a, b));
            if back[to].len() >= CHUNK {
                rounds.send(to, Shuffle::KeptAtB(std::mem::take(&mut back[to])));
            }
        }
    }
    flush(rounds, &mut back, Shuffle::KeptAtB);
    drop(as_b);
    let mut kept_at_b: Vec<(u32, u32)> = Vec::new();
    for msg in rounds.finish(worker, "top_k")?.messages {
        if let Shuffle::KeptAtB(list) = msg {
            kept_at_b.extend(list);
        }
    }
    kept_at_b.sort_unstable();
    edges.retain(|e| {
        kept_by(thresholds[(e.a - lo) as usize], e.b, e.units)
            || kept_at_b.binary_search(&(e.a, e.b)).is_ok()
    });
    Ok(())
}

/// Connected parts of the kept edges, as [`build`] reports them.
#[derive(Debug, Default)]
struct Parts {
    /// Parts of two or more accounts whose smallest account this worker owns.
    count: u64,
    largest: u64,
    accounts: u64,
    /// Label propagation rounds.
    rounds: u64,
}

/// Connected components over the workers: every account starts with its
/// own id as label and sends it to its neighbours' owners; an account that
/// receives a smaller label takes it and sends it on in the next round;
/// when a round changes no label, each label is the smallest id of its
/// account's part. Then each part's size is summed at the owner of its
/// label (its smallest account).
///
/// # Complexity
///
/// Rounds: the largest part's diameter plus 2 (plus 2 for the adjacency
/// and the sizes); messages: at most twice the edges per round, falling
/// as labels settle.
fn components(
    worker: &mut Worker,
    rounds: &mut Rounds,
    ranks: &Ranks,
    edges: &Edges,
) -> Result<Parts> {
    let me = rounds.me();
    let peers = rounds.peers();
    let lo = ranks.starts[me];
    let nodes = (ranks.starts[me + 1] - lo) as usize;
    // The other side of each edge: (b, a) to the owner of b.
    let mut out: Vec<Vec<(u32, u32)>> = vec![Vec::new(); peers];
    for e in &edges.list {
        let to = ranks.owner(e.b);
        out[to].push((e.b, e.a));
        if out[to].len() >= CHUNK {
            rounds.send(to, Shuffle::Reverse(std::mem::take(&mut out[to])));
        }
    }
    flush(rounds, &mut out, Shuffle::Reverse);
    let mut sides: Vec<(u32, u32)> = edges.list.iter().map(|e| (e.a, e.b)).collect();
    for msg in rounds.finish(worker, "components")?.messages {
        if let Shuffle::Reverse(list) = msg {
            sides.extend(list);
        }
    }
    // Adjacency of this worker's accounts (CSR over lo..lo + nodes).
    sides.sort_unstable();
    let mut offsets = vec![0usize; nodes + 1];
    for &(u, _) in &sides {
        offsets[(u - lo) as usize + 1] += 1;
    }
    for i in 0..nodes {
        offsets[i + 1] += offsets[i];
    }
    let neighbours: Vec<u32> = sides.into_iter().map(|(_, v)| v).collect();
    let mut labels: Vec<u32> = (lo..lo + nodes as u32).collect();
    let mut changed = vec![true; nodes];
    let mut steps = 0u64;
    loop {
        let mut sent = 0u64;
        for u in 0..nodes {
            if !std::mem::take(&mut changed[u]) {
                continue;
            }
            for &v in &neighbours[offsets[u]..offsets[u + 1]] {
                let to = ranks.owner(v);
                out[to].push((v, labels[u]));
                sent += 1;
                if out[to].len() >= CHUNK {
                    rounds.send(to, Shuffle::Labels(std::mem::take(&mut out[to])));
                }
            }
        }
        flush(rounds, &mut out, Shuffle::Labels);
        rounds.count(sent);
        let round = rounds.finish(worker, "components")?;
        steps += 1;
        for msg in round.messages {
            if let Shuffle::Labels(list) = msg {
                for (v, label) in list {
                    let i = (v - lo) as usize;
                    if label < labels[i] {
                        labels[i] = label;
                        changed[i] = true;
                    }
                }
            }
        }
        if round.count == 0 {
            break;
        }
    }
    // Sizes of the parts, at the owner of each label.
    let mut linked: Vec<u32> =
        (0..nodes).filter(|&u| offsets[u + 1] > offsets[u]).map(|u| labels[u]).collect();
    linked.sort_unstable();
    let mut sizes: Vec<Vec<(u32, u64)>> = vec![Vec::new(); peers];
    for run in linked.chunk_by(|x, y| x == y) {
        sizes[ranks.owner(run[0])].push((run[0], run.len() as u64));
    }
    for (to, list) in sizes.into_iter().enumerate() {
        for m in chunks(&list, |_, s| Shuffle::Sizes(s)) {
            rounds.send(to, m);
        }
    }
    let mut mine: Vec<(u32, u64)> = Vec::new();
    for msg in rounds.finish(worker, "components")?.messages {
        if let Shuffle::Sizes(list) = msg {
            mine.extend(list);
        }
    }
    mine.sort_unstable();
    let mut parts = Parts { rounds: steps, ..Parts::default() };
    for run in mine.chunk_by(|x, y| x.0 == y.0) {
        let size: u64 = run.iter().map(|(_, n)| n).sum();
        parts.count += 1;
        parts.largest = parts.largest.max(size);
        parts.accounts += size;
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::{Graph, connected_components};
    use crate::event::{Action, Event};
    use crate::graph::AccountGraph;
    use crate::index::IndexBuilder;
    use crate::sim::{SimConfig, Simulator};

    /// Each of `workers` threads reads every `workers`-th event and owns
    /// the indicators [`indicator_owner`] gives it; builds the graph over
    /// them and returns worker 0's.
    fn distributed(events: &[Event], workers: usize, config: &GraphConfig) -> Gathered {
        let mut shards: Vec<(IndexBuilder, Vec<String>)> =
            (0..workers).map(|_| (IndexBuilder::new(), Vec::new())).collect();
        let mut scratch = String::new();
        for (i, e) in events.iter().enumerate() {
            shards[i % workers].1.push(e.account.clone());
            if let Action::Observe(ind) = &e.action {
                let owner = indicator_owner(ind, workers, &mut scratch);
                shards[owner].0.add(e).unwrap();
            }
        }
        let shards: Vec<std::sync::Mutex<Option<Shard>>> = shards
            .into_iter()
            .map(|(builder, mut read)| {
                read.sort_unstable();
                read.dedup();
                std::sync::Mutex::new(Some(Shard { index: builder.finish(), read, failed: None }))
            })
            .collect();
        let config = config.clone();
        let guards = timely::execute(timely::Config::process(workers), move |worker| {
            let mut rounds = Rounds::new(worker, workers);
            let shard = shards[worker.index()].lock().unwrap().take().unwrap();
            build(worker, &mut rounds, shard, &config).unwrap()
        })
        .unwrap();
        guards.join().into_iter().find_map(|r| r.unwrap()).unwrap()
    }

    fn platform(seed: u64) -> Vec<Event> {
        let sim =
            Simulator::new(SimConfig::small().scale(0.04).seed(seed)).unwrap().generate().unwrap();
        sim.events().unwrap().collect::<crate::Result<Vec<Event>>>().unwrap()
    }

    #[test]
    fn the_gathered_graph_is_the_one_machine_graph() {
        let events = platform(3);
        let index = crate::index::Index::from_events(&events).unwrap();
        let configs = [
            GraphConfig::new(),
            // Small caps exercise supernode windows and budgets; top-k
            // exercises the thresholds on both ends.
            GraphConfig::new().supernode_cap(12).window_cap(8).top_k(Some(3)),
            GraphConfig::new().top_k(Some(0)),
        ];
        for (i, config) in configs.into_iter().enumerate() {
            let (one, stats) = AccountGraph::build(&index, &config);
            if i == 1 {
                assert!(stats.indicators_over_cap > 0 && stats.windows_crowded > 0);
                assert!(stats.edges < stats.candidate_edges, "top-k prunes");
            }
            for workers in [1, 3, 4] {
                let got = distributed(&events, workers, &config);
                assert_eq!(got.nodes, index.account_count());
                let graph = AccountGraph::from_edges(got.nodes, &got.edges);
                assert_eq!(graph, one, "{workers} workers, {config:?}");
                assert_eq!(got.stats.pairs_emitted, stats.pairs_emitted);
                assert_eq!(got.stats.pairs_by_kind, stats.pairs_by_kind);
                assert_eq!(got.stats.indicators_over_cap, stats.indicators_over_cap);
                assert_eq!(got.stats.windows_crowded, stats.windows_crowded);
                assert_eq!(got.stats.candidate_edges, stats.candidate_edges);
                // Components by label propagation equal union-find's.
                let community = Graph::from_csr(
                    graph.offsets().to_vec(),
                    graph.targets().to_vec(),
                    graph.weights().to_vec(),
                )
                .unwrap();
                let parts = connected_components(&community).communities();
                let linked: Vec<usize> = parts.iter().map(Vec::len).filter(|&n| n >= 2).collect();
                let (count, largest, accounts) = got.parts();
                assert_eq!(count as usize, linked.len(), "{workers} workers");
                assert_eq!(largest as usize, linked.iter().copied().max().unwrap_or(0));
                assert_eq!(accounts as usize, linked.iter().sum::<usize>());
            }
        }
    }

    #[test]
    fn an_address_and_its_prefix_have_one_owner() {
        let mut scratch = String::new();
        let ip = Indicator::new(IndicatorKind::Ip, "10.1.2.3");
        let prefix = Indicator::new(IndicatorKind::IpPrefix, "10.1.2.0/24");
        let mapped = Indicator::new(IndicatorKind::Ip, "::ffff:10.1.2.77");
        for workers in [2, 5, 16] {
            let owner = indicator_owner(&prefix, workers, &mut scratch);
            assert_eq!(indicator_owner(&ip, workers, &mut scratch), owner);
            assert_eq!(indicator_owner(&mapped, workers, &mut scratch), owner);
        }
        // Spread: 1,000 devices over 4 workers, none empty or doubled.
        let mut counts = [0; 4];
        for i in 0..1000 {
            let d = Indicator::new(IndicatorKind::Device, format!("dev{i}"));
            counts[indicator_owner(&d, 4, &mut scratch)] += 1;
        }
        assert!(counts.iter().all(|&c| (180..320).contains(&c)), "{counts:?}");
    }
}
