//! Events in, account graph summary out: what `hydra graph` writes as
//! `graph.json` (schema `hydra-detect/graph/1`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, InputProblem, Result};
use crate::event::Event;
use crate::id::AccountId;
use crate::index::{DegreeBucket, Index, IndexBuilder};

use super::csr::AccountGraph;
use super::export::AccountEdges;
use super::project::ProjectionStats;
use super::weight::GraphConfig;

/// Schema id of `graph.json`.
const SCHEMA: &str = "hydra-detect/graph/1";

/// How many of the largest indicators the summary lists.
const LARGEST: usize = 20;

/// Builds the account graph from events and summarizes it.
///
/// Events may come in any order; the summary (timings aside) does not
/// depend on it.
///
/// # Examples
///
/// ```
/// use hydra_detect::{Event, GraphBuilder, GraphConfig, IndicatorKind};
///
/// let mut builder = GraphBuilder::new(GraphConfig::new());
/// builder.add(1, &Event::observe(0, "a", IndicatorKind::Payment, "card-1"))?;
/// builder.add(2, &Event::observe(60, "b", IndicatorKind::Payment, "card-1"))?;
/// let summary = builder.finish();
/// assert_eq!(summary.account_count(), 2);
/// assert_eq!(summary.edge_count(), 1);
/// println!("{summary}");
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct GraphBuilder {
    index: IndexBuilder,
    config: GraphConfig,
    started: Instant,
    skipped: BTreeMap<&'static str, u64>,
}

impl GraphBuilder {
    /// A builder projecting with `config`.
    pub fn new(config: GraphConfig) -> Self {
        Self {
            index: IndexBuilder::new().parallel_threshold(config.get_parallel_threshold()),
            config,
            started: Instant::now(),
            skipped: BTreeMap::new(),
        }
    }

    /// Adds one event; `line` is where it came from, for the error.
    ///
    /// # Errors
    ///
    /// An [`Input`](crate::ErrorKind::Input) error at `line` if the event
    /// breaks the input contract (e.g. an `ip` value that is not an address);
    /// the builder is unchanged then.
    pub fn add(&mut self, line: u64, event: &Event) -> Result<()> {
        self.index.add(event).map_err(|(problem, message)| Error::input(line, problem, message))
    }

    /// Records `count` rows skipped for `problem` (lenient runs), for the summary.
    pub fn note_skipped(&mut self, problem: InputProblem, count: u64) {
        if count > 0 {
            *self.skipped.entry(problem.as_str()).or_default() += count;
        }
    }

    /// How many events were added so far.
    pub fn event_count(&self) -> u64 {
        self.index.event_count()
    }

    /// Freezes the index: ids in sorted key order, posting lists, bitmaps.
    ///
    /// # Complexity
    ///
    /// `O(n log n)` for `n` distinct accounts, indicators and links.
    pub fn index(self) -> EventIndex {
        let ingest = self.started.elapsed();
        let start = Instant::now();
        crate::progress::start("index");
        let index = self.index.finish();
        crate::progress::done("index");
        tracing::info!(
            accounts = index.account_count(),
            indicators = index.indicator_count(),
            links = index.link_count(),
            secs = start.elapsed().as_secs_f64(),
            "index"
        );
        EventIndex {
            index,
            config: self.config,
            skipped: self.skipped,
            ingest,
            index_time: start.elapsed(),
        }
    }

    /// Freezes the index, projects the graph and summarizes both:
    /// [`GraphBuilder::index`] then [`EventIndex::summarize`].
    pub fn finish(self) -> GraphSummary {
        self.index().summarize()
    }
}

/// The frozen account–indicator index of a [`GraphBuilder`], ready to project.
#[derive(Debug)]
pub struct EventIndex {
    index: Index,
    config: GraphConfig,
    skipped: BTreeMap<&'static str, u64>,
    ingest: Duration,
    index_time: Duration,
}

impl EventIndex {
    /// How many accounts appear in any event.
    pub fn account_count(&self) -> usize {
        self.index.account_count()
    }

    /// How many distinct indicators, `ip_prefix` included.
    pub fn indicator_count(&self) -> usize {
        self.index.indicator_count()
    }

    /// How many distinct account–indicator links.
    pub fn link_count(&self) -> usize {
        self.index.link_count()
    }

    /// Approximate heap bytes the index holds.
    pub fn heap_bytes(&self) -> usize {
        self.index.heap_bytes()
    }

    /// The whole account graph: node `i` is the `i`-th account in sorted
    /// order, as the rows of `accounts.csv` are, linked or not.
    ///
    /// # Complexity
    ///
    /// A full projection (see [`EventIndex::summarize`]) plus `O(n + m)`
    /// for `n` accounts and `m` edges, and a copy of every account id.
    pub fn graph(&self) -> AccountEdges {
        let (graph, _) = AccountGraph::build(&self.index, &self.config);
        self.edges_of(&graph)
    }

    /// [`EventIndex::summarize`] and [`EventIndex::graph`] with one projection.
    pub fn summarize_and_graph(&self) -> (GraphSummary, AccountEdges) {
        let (summary, graph) = self.summarize_graph();
        let edges = self.edges_of(&graph);
        (summary, edges)
    }

    /// Every edge of `graph`, with every account's name.
    fn edges_of(&self, graph: &AccountGraph) -> AccountEdges {
        let mut edges = Vec::with_capacity(graph.edge_count());
        for a in 0..graph.node_count() as u32 {
            for (b, w, _) in graph.neighbors(AccountId::new(a)) {
                if b.index() > a as usize {
                    edges.push((a, b.index() as u32, w));
                }
            }
        }
        let accounts = (0..self.index.account_count() as u32)
            .map(|a| self.index.account_name(AccountId::new(a)).to_owned())
            .collect();
        AccountEdges::new(accounts, edges)
    }

    /// The account graph induced by `accounts` (input ids; repeats
    /// ignored), for your own algorithms: node `i` is the `i`-th distinct
    /// account given, edge weights are the link weights.
    ///
    /// # Errors
    ///
    /// An [`InvalidArgument`](crate::ErrorKind::InvalidArgument) error
    /// naming the first account that appears in no event.
    ///
    /// # Complexity
    ///
    /// A full projection (see [`EventIndex::summarize`]) plus
    /// `O(n log n + Σ deg)` for the `n` accounts given.
    ///
    /// # Examples
    ///
    /// ```
    /// use hydra_detect::{Event, GraphBuilder, GraphConfig, IndicatorKind};
    ///
    /// let mut builder = GraphBuilder::new(GraphConfig::new());
    /// for (line, account) in [(2, "a"), (3, "b"), (4, "c")] {
    ///     builder.add(line, &Event::observe(0, account, IndicatorKind::Device, "d-1"))?;
    /// }
    /// let index = builder.index();
    /// let graph = index.subgraph(&["c", "a", "c"])?;
    /// assert_eq!(graph.accounts(), ["c", "a"]);
    /// assert_eq!((graph.node_count(), graph.edge_count()), (2, 1));
    /// assert!(index.subgraph(&["nobody"]).is_err());
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subgraph(&self, accounts: &[&str]) -> Result<AccountEdges> {
        let mut ids: Vec<AccountId> = Vec::with_capacity(accounts.len());
        let mut seen = std::collections::HashSet::with_capacity(accounts.len());
        for name in accounts {
            let id = self.index.account_id(name).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "unknown account {:?} (it appears in no event)",
                    crate::ingest::normalize::clip(name)
                ))
            })?;
            if seen.insert(id) {
                ids.push(id);
            }
        }
        let (graph, _) = AccountGraph::build(&self.index, &self.config);
        let edges = graph.induced_edges(&ids);
        let names = ids.iter().map(|&a| self.index.account_name(a).to_owned()).collect();
        Ok(AccountEdges::new(names, edges))
    }

    /// Projects the account graph (see [`GraphConfig`]) and summarizes it.
    ///
    /// # Complexity
    ///
    /// `O(Σ_i min(deg_i, cap)² + P log P)` for `P` emitted pairs.
    pub fn summarize(&self) -> GraphSummary {
        self.summarize_graph().0
    }

    /// The summary and the graph it summarizes.
    fn summarize_graph(&self) -> (GraphSummary, AccountGraph) {
        let start = Instant::now();
        crate::progress::start("graph");
        let (graph, projection) = AccountGraph::build(&self.index, &self.config);
        let projection_time = start.elapsed();
        crate::progress::done("graph");
        tracing::info!(
            nodes = graph.node_count(),
            edges = graph.edge_count(),
            supernodes_windowed = projection.indicators_over_cap,
            pairs = projection.pairs_emitted,
            secs = projection_time.as_secs_f64(),
            "graph"
        );
        let summary = GraphSummary::new(
            &self.index,
            &graph,
            projection,
            self.config.clone(),
            self.skipped.clone(),
            Timings {
                ingest_secs: secs(self.ingest),
                index_secs: secs(self.index_time),
                projection_secs: secs(projection_time),
            },
        );
        (summary, graph)
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Wall-clock times of the stages, in seconds.
#[derive(Clone, Debug, Serialize)]
struct Timings {
    /// From the builder's creation to `finish` (reading and adding events).
    ingest_secs: f64,
    /// Freezing the index (sorting, posting lists, bitmaps).
    index_secs: f64,
    /// Projecting the account graph.
    projection_secs: f64,
}

/// One of the largest indicators.
#[derive(Clone, Debug, Serialize)]
struct LargeIndicator {
    kind: String,
    value: String,
    accounts: u64,
    /// Of those, how many are banned at the end of the input.
    banned: u64,
}

/// The time range the input covers.
#[derive(Clone, Debug, Serialize)]
struct TimeRange {
    /// Earliest event time (unix seconds).
    first: i64,
    /// Latest event time (unix seconds).
    last: i64,
}

/// Counts of indicators and edges by kind.
#[derive(Clone, Debug, Serialize)]
struct KindCounts {
    indicators: BTreeMap<String, u64>,
    /// Edges linked (at least in part) by each kind.
    edges: BTreeMap<String, u64>,
}

/// A summary of an account graph: sizes, degree distributions, the largest
/// indicators, what the supernode cap saved, timings.
///
/// Serializes to `graph.json` (schema `hydra-detect/graph/1`); displays as a
/// readable report.
#[derive(Clone, Debug, Serialize)]
pub struct GraphSummary {
    schema: &'static str,
    version: &'static str,
    events: u64,
    skipped_rows: BTreeMap<&'static str, u64>,
    accounts: u64,
    linked_accounts: u64,
    banned_accounts: u64,
    time_range: Option<TimeRange>,
    indicators: u64,
    shared_indicators: u64,
    links: u64,
    edges: u64,
    hard_edges: u64,
    by_kind: KindCounts,
    indicator_degrees: Vec<DegreeBucket>,
    account_degrees: Vec<DegreeBucket>,
    largest_indicators: Vec<LargeIndicator>,
    pairs_skipped_by_cap: u64,
    projection: ProjectionStats,
    config: GraphConfig,
    timings: Timings,
}

/// Power-of-two buckets of `values` (0 left out).
fn buckets(values: impl Iterator<Item = u64>) -> Vec<DegreeBucket> {
    let mut counts = [0u64; 65];
    for v in values {
        if v > 0 {
            counts[64 - v.leading_zeros() as usize] += 1;
        }
    }
    (1..65)
        .filter(|&b| counts[b] > 0)
        .map(|b| DegreeBucket {
            min: 1u64 << (b - 1),
            max: if b == 64 { u64::MAX } else { (1u64 << b) - 1 },
            indicators: counts[b],
        })
        .collect()
}

impl GraphSummary {
    fn new(
        index: &Index,
        graph: &AccountGraph,
        projection: ProjectionStats,
        config: GraphConfig,
        skipped_rows: BTreeMap<&'static str, u64>,
        timings: Timings,
    ) -> GraphSummary {
        let accounts = graph.node_count();
        let degrees = (0..accounts as u32).map(|a| graph.degree(AccountId::new(a)) as u64);
        let linked_accounts = degrees.clone().filter(|&d| d > 0).count() as u64;
        let mut edge_kinds: BTreeMap<String, u64> = BTreeMap::new();
        let mut hard_edges = 0;
        let (offsets, targets, masks) = (graph.offsets(), graph.targets(), graph.masks());
        for a in 0..accounts {
            // Each undirected edge once: from its smaller endpoint.
            for i in offsets[a]..offsets[a + 1] {
                if targets[i] as usize <= a {
                    continue;
                }
                hard_edges += u64::from(masks[i].has_hard());
                for name in masks[i].names() {
                    *edge_kinds.entry(name.to_owned()).or_default() += 1;
                }
            }
        }
        let ids = || (0..accounts as u32).map(AccountId::new);
        let banned: roaring::RoaringBitmap =
            ids().filter(|&a| index.is_banned(a)).map(|a| a.as_u32()).collect();
        let time_range = (accounts > 0).then(|| TimeRange {
            first: ids().map(|a| index.first_seen(a)).min().unwrap_or_default(),
            last: ids().map(|a| index.last_seen(a)).max().unwrap_or_default(),
        });
        GraphSummary {
            schema: SCHEMA,
            version: env!("CARGO_PKG_VERSION"),
            events: index.event_count(),
            skipped_rows,
            accounts: accounts as u64,
            linked_accounts,
            banned_accounts: banned.len(),
            time_range,
            indicators: index.indicator_count() as u64,
            shared_indicators: index.shared_indicators().len() as u64,
            links: index.link_count() as u64,
            edges: graph.edge_count() as u64,
            hard_edges,
            by_kind: KindCounts {
                indicators: index
                    .indicators_by_kind()
                    .into_iter()
                    .map(|(k, n)| (k.to_string(), n as u64))
                    .collect(),
                edges: edge_kinds,
            },
            indicator_degrees: index.degree_histogram(),
            account_degrees: buckets(degrees),
            largest_indicators: index
                .largest_indicators(LARGEST)
                .into_iter()
                .map(|i| LargeIndicator {
                    kind: index.indicator_kind(i).to_string(),
                    value: index.indicator_value(i).to_owned(),
                    accounts: index.indicator_degree(i) as u64,
                    banned: match index.indicator_bitmap(i) {
                        Some(members) => members.intersection_len(&banned),
                        None => index
                            .indicator_accounts(i)
                            .iter()
                            .filter(|a| banned.contains(a.as_u32()))
                            .count() as u64,
                    },
                })
                .collect(),
            pairs_skipped_by_cap: projection.pairs_skipped_by_cap,
            projection,
            config,
            timings,
        }
    }

    /// How many events went into the graph.
    pub fn event_count(&self) -> u64 {
        self.events
    }

    /// How many accounts (nodes), linked or not.
    pub fn account_count(&self) -> u64 {
        self.accounts
    }

    /// How many distinct indicators, `ip_prefix` included.
    pub fn indicator_count(&self) -> u64 {
        self.indicators
    }

    /// How many distinct account–indicator links.
    pub fn link_count(&self) -> u64 {
        self.links
    }

    /// How many edges the account graph has.
    pub fn edge_count(&self) -> u64 {
        self.edges
    }

    /// How many pairs the supernode cap spared: what all-pairs linking of
    /// the indicators over the cap would have cost.
    pub fn pairs_skipped_by_cap(&self) -> u64 {
        self.pairs_skipped_by_cap
    }

    /// How many pair contributions the projection emitted.
    pub fn pairs_emitted(&self) -> u64 {
        self.projection.pairs_emitted
    }

    /// Seconds spent freezing the index.
    pub fn index_secs(&self) -> f64 {
        self.timings.index_secs
    }

    /// Seconds spent projecting the account graph.
    pub fn projection_secs(&self) -> f64 {
        self.timings.projection_secs
    }

    /// How many rows were skipped (lenient runs), in total.
    pub fn skipped_row_count(&self) -> u64 {
        self.skipped_rows.values().sum()
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for GraphSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = thousands;
        writeln!(f, "events       {}", t(self.events))?;
        if !self.skipped_rows.is_empty() {
            let parts: Vec<String> =
                self.skipped_rows.iter().map(|(k, n)| format!("{k} {}", t(*n))).collect();
            writeln!(f, "skipped rows {} ({})", t(self.skipped_row_count()), parts.join(", "))?;
        }
        writeln!(
            f,
            "accounts     {} ({} linked, {} banned)",
            t(self.accounts),
            t(self.linked_accounts),
            t(self.banned_accounts)
        )?;
        let kinds: Vec<String> =
            self.by_kind.indicators.iter().map(|(k, n)| format!("{k} {}", t(*n))).collect();
        writeln!(f, "indicators   {} ({})", t(self.indicators), kinds.join(", "))?;
        writeln!(f, "shared       {} indicators with 2+ accounts", t(self.shared_indicators))?;
        writeln!(f, "links        {}", t(self.links))?;
        writeln!(f, "edges        {} ({} with a hard link)", t(self.edges), t(self.hard_edges))?;
        let p = &self.projection;
        writeln!(
            f,
            "pairs        {} emitted ({} all-pairs, {} in supernode windows)",
            t(p.pairs_emitted),
            t(p.pairs_regular),
            t(p.pairs_window)
        )?;
        writeln!(
            f,
            "supernodes   {} over the cap of {}; {} pairs skipped by the cap",
            t(p.indicators_over_cap),
            self.config.get_supernode_cap(),
            t(p.pairs_skipped_by_cap)
        )?;
        if !self.largest_indicators.is_empty() {
            writeln!(f, "largest indicators:")?;
            for ind in self.largest_indicators.iter().take(5) {
                let value = crate::ingest::normalize::clip(&ind.value);
                writeln!(
                    f,
                    "  {:>10}  {} {} ({} banned)",
                    t(ind.accounts),
                    ind.kind,
                    value,
                    t(ind.banned)
                )?;
            }
        }
        write!(
            f,
            "time         ingest {:.2} s, index {:.2} s, projection {:.2} s",
            self.timings.ingest_secs, self.timings.index_secs, self.timings.projection_secs
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::IndicatorKind;

    #[test]
    fn summary_counts_and_serializes() {
        let mut b = GraphBuilder::new(GraphConfig::new().supernode_cap(3));
        // Three accounts in one window, two in a later one: the supernode's
        // budget of 3 pairs links the first window only.
        for (i, ts) in [0, 1, 2, 10_000, 10_001].into_iter().enumerate() {
            let e = Event::observe(ts, format!("a{i}"), IndicatorKind::Ip, "10.0.0.1");
            b.add(i as u64 + 2, &e).unwrap();
        }
        b.add(7, &Event::observe(0, "a0", IndicatorKind::Email, "x@y")).unwrap();
        b.add(9, &Event::ban(50, "a1", None)).unwrap();
        let err = b.add(8, &Event::observe(0, "a0", IndicatorKind::Ip, "nope")).unwrap_err();
        assert_eq!(err.line(), Some(8));
        b.note_skipped(InputProblem::Ip, 2);
        let s = b.finish();
        assert_eq!(s.event_count(), 7);
        assert_eq!(s.account_count(), 5);
        assert_eq!(s.indicator_count(), 3);
        assert_eq!(s.link_count(), 11);
        assert_eq!(s.edge_count(), 3);
        assert_eq!(s.pairs_skipped_by_cap(), 2 * 10);
        assert_eq!(s.skipped_row_count(), 2);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["schema"], "hydra-detect/graph/1");
        assert_eq!(json["by_kind"]["indicators"]["ip"], 1);
        assert_eq!(json["largest_indicators"][0]["accounts"], 5);
        assert_eq!(json["skipped_rows"]["ip"], 2);
        assert_eq!(json["projection"]["indicators_over_cap"], 2);
        let text = s.to_string();
        assert!(text.contains("accounts     5 (3 linked, 1 banned)"), "{text}");
        assert_eq!(json["banned_accounts"], 1);
        assert_eq!(json["largest_indicators"][0]["banned"], 1);
        assert_eq!(json["time_range"]["last"], 10_001);
        assert!(text.contains("20 pairs skipped"), "{text}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
