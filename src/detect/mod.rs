//! [`Detector`]: the batch facade — events in, [`Detection`] out, stages
//! left to right.
//!
//! # Overview
//!
//! - [`Detector::detect_path`] reads a file (CSV or JSON Lines, optionally
//!   gzip, or Parquet with the `parquet` feature) and
//!   [`Detector::detect_events`] takes events from memory
//!   (`Detector::detect_batches`, with the `parquet` feature: Arrow record
//!   batches); all
//!   return the [`Detection`] that the report writers print.
//! - [`Detector::analyze_events`] / [`Detector::analyze_path`] keep the
//!   intermediate index and graph in an [`Analysis`], from which
//!   [`Analysis::explain`] tells why one account is or is not flagged.
//!
//! Pipeline: ingest → index → account graph → Leiden (CPM, see
//! [`Config`]) → merge by pooled cards → signals and risk per community →
//! pieces of one operator grouped by their shared script schedule → large
//! communities that are not hydras (or hold an organisation) re-clustered →
//! accounts on a confirmed hydra's pooled infrastructure that run on its
//! operator's schedule join it → replacements (one successor per banned
//! account, on a concentrated link) → evidence, lifecycles.

mod explain;
mod warm_start;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::community::{self, Quality};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::graph::AccountGraph;
use crate::id::{AccountId, ClusterId, IndicatorId};
use crate::index::{Index, IndexBuilder};
use crate::ingest::{EventReader, Format, SkipCounts};
use crate::progress;
use crate::report::{
    AccountVerdict, CellReport, ClusterReport, Detection, Evidence, Flag, IndicatorHolders,
    Lifecycle, MemberCounts, ReplacementReport, RunInfo, SignalReport,
};
use crate::score::{self, Scoring, Signal, evidence, lifecycle};

pub use explain::{ClusterNote, Explanation, IndicatorNote, LinkNote};
pub use warm_start::WarmStart;

/// Most member edges kept per cluster for pictures ([`ClusterReport::sample_edges`]).
const SAMPLE_EDGES_PER_MEMBER: usize = 4;
/// Most sample edges per cluster.
const MAX_SAMPLE_EDGES: usize = 5_000;
/// Most banned accounts listed per replacement.
const MAX_LINKED_BANNED: usize = 50;
/// Most evidence indicators listed per replacement.
const MAX_REPLACEMENT_EVIDENCE: usize = 10;

/// Runs batch detection with one [`Config`].
///
/// # Example
///
/// ```
/// use hydra_detect::{Config, Detector, Event, IndicatorKind};
///
/// let mut events = Vec::new();
/// for i in 0..3 {
///     events.push(Event::signup(1_767_225_600 + i, format!("a{i}")));
///     events.push(Event::observe(1_767_225_700 + i, format!("a{i}"), IndicatorKind::Ip, "192.0.2.7"));
/// }
/// let detection = Detector::new(Config::new()).detect_events(events)?;
/// assert_eq!(detection.accounts.len(), 3);
/// // Three accounts on one home IP: a community, but no hydra.
/// assert!(detection.hydra_clusters().next().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Detector {
    config: Config,
    /// Where Leiden starts, if not from singletons (shared: the watcher
    /// hands the same one to a background run).
    warm_start: Option<Arc<WarmStart>>,
}

/// The intermediate results of one detection run, kept to explain verdicts.
#[derive(Debug)]
pub struct Analysis {
    index: Index,
    graph: AccountGraph,
    detection: Detection,
    /// Per account, its cluster's position in `detection.clusters`.
    cluster_of: Vec<Option<usize>>,
    /// Per account, its position in `detection.replacements`.
    replacement_of: Vec<Option<usize>>,
    /// The communities Leiden found, before scoring merged, split or grew
    /// any of them.
    partition: community::Partition,
}

impl Analysis {
    /// The detection result.
    pub fn detection(&self) -> &Detection {
        &self.detection
    }

    /// The detection result, dropping the rest.
    pub fn into_detection(self) -> Detection {
        self.detection
    }

    /// Which clustered accounts hold each indicator value the clusters'
    /// evidence names (`top_indicators`, at most 10 per cluster), for
    /// indicator nodes in `clusters.graphml`: pass them to
    /// [`GraphmlConfig::indicators`](crate::GraphmlConfig::indicators) with
    /// this analysis's [`detection`](Analysis::detection) (or a
    /// [`redact`](crate::redact)ed copy of it).
    ///
    /// # Complexity
    ///
    /// Time `O(c log v + h)` for `c` evidence entries, `v` distinct values
    /// named and `h` accounts holding those values (each value's holders
    /// are read once); space `O(c + h)`.
    pub fn indicator_holders(&self) -> IndicatorHolders {
        let index = &self.index;
        // Distinct indicator -> its position in `values`.
        let mut value_of: BTreeMap<IndicatorId, u32> = BTreeMap::new();
        let mut values: Vec<Vec<u32>> = Vec::new();
        let mut holders_of = |id: Option<IndicatorId>| -> u32 {
            let Some(id) = id else {
                // Not in the index (a detection the index did not make):
                // an entry with no holders keeps the positions aligned.
                values.push(Vec::new());
                return (values.len() - 1) as u32;
            };
            *value_of.entry(id).or_insert_with(|| {
                values.push(
                    index
                        .indicator_accounts(id)
                        .iter()
                        .filter(|a| self.cluster_of.get(a.index()).is_some_and(Option::is_some))
                        .map(|a| a.as_u32())
                        .collect(),
                );
                (values.len() - 1) as u32
            })
        };
        let clusters = self
            .detection
            .clusters
            .iter()
            .map(|c| {
                let entries = c
                    .evidence
                    .top_indicators
                    .iter()
                    .map(|e| holders_of(index.indicator_id(&e.kind, &e.value)))
                    .collect();
                (c.id.clone(), entries)
            })
            .collect();
        IndicatorHolders::new(clusters, values)
    }

    /// The communities community detection found (of 2 or more accounts,
    /// before scoring merged, split or grew any), for the next run on a
    /// grown input to start from.
    ///
    /// These, not the final clusters of the [`Detection`], are what Leiden
    /// optimised: starting from the final clusters would feed scoring's
    /// decisions back into the clustering of the next run.
    pub fn warm_start(&self) -> WarmStart {
        WarmStart::from_communities(
            self.partition
                .communities()
                .into_iter()
                .filter(|c| c.len() >= 2)
                .map(|c| c.into_iter().map(|a| self.index.account_name(AccountId::new(a)))),
        )
    }
}

impl Detector {
    /// A detector with `config`; it is validated when a run starts.
    pub fn new(config: Config) -> Detector {
        Detector { config, warm_start: None }
    }

    /// Starts community detection from `start` (an earlier run's
    /// communities) instead of from singletons; see [`WarmStart`].
    pub fn warm_start(mut self, start: impl Into<Arc<WarmStart>>) -> Detector {
        self.warm_start = Some(start.into());
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Detects hydras among `events` (any order).
    ///
    /// # Errors
    ///
    /// A config error for an invalid configuration; an input error naming
    /// the event's position (as its line, 1-based) if an event breaks
    /// the input bounds of docs/FORMATS.md.
    pub fn detect_events(&self, events: impl IntoIterator<Item = Event>) -> Result<Detection> {
        Ok(self.analyze_events(events)?.detection)
    }

    /// Detects hydras in the event file at `path` (CSV, JSON Lines or
    /// Parquet by suffix or `config.ingest`, else Parquet if it starts with
    /// Parquet's magic bytes, else CSV; gzip if `.gz`), hashing the bytes as read.
    ///
    /// # Errors
    ///
    /// I/O errors naming the file, input errors naming the line (unless
    /// lenient), config errors.
    pub fn detect_path(&self, path: &Path) -> Result<Detection> {
        Ok(self.analyze_path(path)?.detection)
    }

    /// Explains the verdict on `account` in the event file at `path`.
    ///
    /// # Errors
    ///
    /// As [`Detector::detect_path`], and an invalid-argument error if the
    /// account does not appear in the input.
    pub fn explain(&self, path: &Path, account: &str) -> Result<Explanation> {
        self.analyze_path(path)?.explain(account)
    }

    /// Like [`Detector::detect_events`], keeping what [`Analysis::explain`] needs.
    ///
    /// # Errors
    ///
    /// As [`Detector::detect_events`].
    pub fn analyze_events(&self, events: impl IntoIterator<Item = Event>) -> Result<Analysis> {
        self.validate()?;
        let started = Instant::now();
        let mut builder = IndexBuilder::new();
        for (i, event) in events.into_iter().enumerate() {
            builder.add(&event).map_err(|(problem, message)| {
                Error::input(i as u64 + 1, problem, format!("event {}: {message}", i + 1))
            })?;
        }
        let index = finish_index(builder);
        let run = RunInfo {
            input: "(events)".to_owned(),
            timings: vec![("index".to_owned(), started.elapsed().as_secs_f64())],
            ..RunInfo::default()
        };
        Ok(self.analyze_index(index, run))
    }

    /// Like [`Detector::detect_path`], keeping what [`Analysis::explain`] needs.
    ///
    /// # Errors
    ///
    /// As [`Detector::detect_path`].
    pub fn analyze_path(&self, path: &Path) -> Result<Analysis> {
        self.validate()?;
        let started = Instant::now();
        let ingest = self.config.get_ingest();
        let format = crate::ingest::format_of(path, ingest)?;
        if format == Format::Parquet {
            return self.analyze_parquet(path, started);
        }
        let file = Error::open(path)?;
        // For progress only: a file whose size cannot be read shows a count.
        let file_len = file.metadata().map_or(0, |m| m.len());
        let hasher = Rc::new(RefCell::new(Sha256::new()));
        let bytes_read = Rc::new(Cell::new(0u64));
        let raw = HashingReader {
            inner: file,
            hasher: Rc::clone(&hasher),
            bytes: Rc::clone(&bytes_read),
        };
        let gzip = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.to_ascii_lowercase().ends_with(".gz"));
        let reader: Box<dyn Read> =
            if gzip { Box::new(MultiGzDecoder::new(BufReader::new(raw))) } else { Box::new(raw) };
        let mut events = EventReader::new(reader, format, ingest)?;
        let mut builder = IndexBuilder::new();
        progress::start("ingest");
        let mut records = 0u64;
        for record in events.by_ref() {
            let record = record?;
            records += 1;
            if records.is_multiple_of(PROGRESS_EVERY) {
                progress::advance("ingest", "bytes", bytes_read.get(), file_len);
            }
            // The reader has validated the event already; the index only
            // re-checks what it must (and the same bounds).
            builder
                .add(&record.event)
                .map_err(|(problem, message)| Error::input(record.line, problem, message))?;
        }
        let skipped = events.into_skipped();
        // The reader reads to the end of the input, so every byte of the
        // file has gone through the hasher by now.
        let digest = hasher.borrow_mut().clone().finalize();
        let mut run = read_run(path, &digest, &skipped);
        let read_secs = started.elapsed().as_secs_f64();
        progress::done("ingest");
        tracing::info!(
            events = builder.event_count(),
            skipped = skipped.total(),
            bytes = bytes_read.get(),
            secs = round3(read_secs),
            mb_per_s = round3(bytes_read.get() as f64 / 1e6 / read_secs.max(1e-9)),
            "ingest"
        );
        let index = finish_index(builder);
        run.timings.push(("ingest".to_owned(), started.elapsed().as_secs_f64()));
        Ok(self.analyze_index(index, run))
    }

    /// [`Detector::analyze_path`] for a Parquet file, which is read by
    /// offset rather than as a stream: hashed in a pass of its own.
    fn analyze_parquet(&self, path: &Path, started: Instant) -> Result<Analysis> {
        let mut events =
            EventReader::<std::io::Empty>::open_parquet(path, self.config.get_ingest())?;
        let mut builder = IndexBuilder::new();
        for record in events.by_ref() {
            let record = record?;
            builder.add(&record.event).map_err(|(problem, message)| {
                Error::input(record.line, problem, message).in_rows()
            })?;
        }
        let skipped = events.into_skipped();
        // Hashed as `analyze_path` hashes a stream, read to the end.
        let hasher = Rc::new(RefCell::new(Sha256::new()));
        let mut file = HashingReader {
            inner: Error::open(path)?,
            hasher: Rc::clone(&hasher),
            bytes: Rc::new(Cell::new(0)),
        };
        std::io::copy(&mut file, &mut std::io::sink()).map_err(|e| {
            Error::io(format!("cannot read \"{}\"", path.display()), Some(path.to_owned()), e)
        })?;
        let digest = hasher.borrow_mut().clone().finalize();
        let mut run = read_run(path, &digest, &skipped);
        let index = finish_index(builder);
        run.timings.push(("ingest".to_owned(), started.elapsed().as_secs_f64()));
        Ok(self.analyze_index(index, run))
    }

    /// Detects hydras in Arrow record batches (feature `parquet`), read
    /// straight from their arrays: the contract's columns, of the types
    /// [`arrow`](crate::arrow) lists. Rows are numbered from 1 across the
    /// batches in error messages; `config.ingest`'s strict or lenient rule
    /// applies to the rows of all batches together.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hydra_detect::arrow::arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    /// use hydra_detect::{Config, Detector};
    ///
    /// let accounts = ["a-1", "a-2", "a-3"];
    /// let batch = RecordBatch::try_from_iter([
    ///     ("ts", Arc::new(Int64Array::from(vec![1_767_225_600; 3])) as ArrayRef),
    ///     ("account", Arc::new(StringArray::from(accounts.to_vec())) as ArrayRef),
    ///     ("event", Arc::new(StringArray::from(vec!["observe"; 3])) as ArrayRef),
    ///     ("kind", Arc::new(StringArray::from(vec!["ip"; 3])) as ArrayRef),
    ///     ("value", Arc::new(StringArray::from(vec!["192.0.2.7"; 3])) as ArrayRef),
    /// ])?;
    /// let detection = Detector::new(Config::new()).detect_batches([batch])?;
    /// assert_eq!(detection.accounts.len(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A config error for an invalid configuration; an input error for a
    /// batch whose schema lacks a required column or has one of a type not
    /// accepted (line 0), for the first bad row (strict), or when no row is
    /// valid (lenient).
    #[cfg(feature = "parquet")]
    pub fn detect_batches(
        &self,
        batches: impl IntoIterator<Item = arrow_array::RecordBatch>,
    ) -> Result<Detection> {
        self.validate()?;
        let started = Instant::now();
        let mut reader = crate::ingest::arrow::BatchReader::new(self.config.get_ingest());
        let mut builder = IndexBuilder::new();
        for batch in batches {
            reader.read(&batch, |row, event| {
                builder
                    .add(&event)
                    .map_err(|(problem, message)| Error::input_row(row, problem, message))
            })?;
        }
        let skipped = reader.finish()?;
        let mut run = RunInfo {
            input: "(arrow batches)".to_owned(),
            skipped_rows: skip_map(&skipped),
            skipped_examples: skipped.examples().to_vec(),
            ..RunInfo::default()
        };
        let index = builder.finish();
        run.timings.push(("ingest".to_owned(), started.elapsed().as_secs_f64()));
        Ok(self.analyze_index(index, run).detection)
    }

    fn validate(&self) -> Result<()> {
        self.config.validate()
    }

    /// Analysis of an index built elsewhere (the distributed engine
    /// gathers one from its workers), with `run` carrying the input's
    /// name, skipped rows and timings so far.
    ///
    /// # Errors
    ///
    /// A config error for an invalid configuration.
    #[cfg(all(feature = "distributed", test))]
    pub(crate) fn analyze_index_run(&self, index: Index, run: RunInfo) -> Result<Analysis> {
        self.validate()?;
        Ok(self.analyze_index(index, run))
    }

    /// Analysis of an index and its account graph, both built elsewhere
    /// (the distributed engine projects on its workers and gathers the
    /// graph); `graph` must be the projection of `index` under this
    /// detector's graph config, as [`AccountGraph::build`] makes it.
    ///
    /// # Errors
    ///
    /// A config error for an invalid configuration.
    #[cfg(feature = "distributed")]
    pub(crate) fn analyze_index_graph_run(
        &self,
        index: Index,
        graph: AccountGraph,
        run: RunInfo,
    ) -> Result<Analysis> {
        self.validate()?;
        Ok(self.analyze_graph(index, graph, run))
    }

    /// Everything after ingest.
    fn analyze_index(&self, index: Index, mut run: RunInfo) -> Analysis {
        let started = Instant::now();
        progress::start("graph");
        let (graph, stats) = AccountGraph::build(&index, self.config.get_graph());
        progress::done("graph");
        run.timings.push(("graph".to_owned(), started.elapsed().as_secs_f64()));
        tracing::info!(
            nodes = graph.node_count(),
            edges = graph.edge_count(),
            supernodes_windowed = stats.indicators_over_cap,
            pairs = stats.pairs_emitted,
            secs = round3(last_lap(&run)),
            "graph"
        );
        self.analyze_graph(index, graph, run)
    }

    /// Everything after the account graph.
    fn analyze_graph(&self, index: Index, mut graph: AccountGraph, mut run: RunInfo) -> Analysis {
        let config = &self.config;
        let mut clock = Instant::now();
        let mut lap = |run: &mut RunInfo, phase: &str| {
            run.timings.push((phase.to_owned(), clock.elapsed().as_secs_f64()));
            clock = Instant::now();
        };
        progress::start("communities");
        // The account graph is symmetric with sorted, merged rows by
        // construction, so Leiden borrows its arrays as they are: no copy,
        // validation, sorting or merging (they cost a tenth of the community
        // phase and three copies of the entries at the peak).
        let partition = graph.with_community_graph(|g| match &self.warm_start {
            Some(start) => {
                community::leiden(g, &config.get_leiden().clone().initial(start.partition(&index)))
            }
            None => community::leiden(g, config.get_leiden()),
        });
        let communities: Vec<Vec<AccountId>> = partition
            .communities()
            .into_iter()
            .filter(|c| c.len() >= 2)
            .map(|c| c.into_iter().map(AccountId::new).collect())
            .collect();
        progress::done("communities");
        lap(&mut run, "communities");
        tracing::info!(
            communities = communities.len(),
            largest = communities.iter().map(Vec::len).max().unwrap_or(0),
            in_communities = communities.iter().map(Vec::len).sum::<usize>(),
            secs = round3(last_lap(&run)),
            "communities"
        );
        progress::start("score");
        let score_started = Instant::now();
        let split = |members: &[AccountId]| split_community(&graph, members, config);
        let scoring = score::score(&index, communities, &split, config.get_score());
        lap(&mut run, "score");
        run.version = env!("CARGO_PKG_VERSION").to_owned();
        run.config = config.to_json();
        run.seed = config.get_seed();
        run.events = index.event_count();
        let (detection, cluster_of, replacement_of) =
            assemble(&index, &graph, &scoring, run, config);
        drop(scoring);
        progress::done("score");
        tracing::info!(
            clusters_scored = detection.clusters.len(),
            hydra_networks = detection.hydra_clusters().count(),
            flagged_accounts = detection.accounts.iter().filter(|v| v.flag.is_some()).count(),
            replacements = detection.replacements.len(),
            secs = round3(score_started.elapsed().as_secs_f64()),
            "score"
        );
        Analysis { index, graph, detection, cluster_of, replacement_of, partition }
    }
}

/// Re-clusters one large community: CPM Leiden at the (higher)
/// `split_resolution` on the subgraph the members induce.
fn split_community(
    graph: &AccountGraph,
    members: &[AccountId],
    config: &Config,
) -> Vec<Vec<AccountId>> {
    let local = |a: AccountId| members.binary_search(&a).ok();
    let mut edges = Vec::new();
    for (i, &a) in members.iter().enumerate() {
        for (b, w, _) in graph.neighbors(a) {
            if let Some(j) = local(b)
                && i < j
            {
                edges.push((i as u32, j as u32, w));
            }
        }
    }
    let sub = community::Graph::from_edges(members.len(), edges);
    let leiden = config
        .get_leiden()
        .clone()
        .quality(Quality::Cpm { resolution: config.get_score().get_split_resolution() });
    community::leiden(&sub, &leiden)
        .communities()
        .into_iter()
        .map(|c| c.into_iter().map(|i| members[i as usize]).collect())
        .collect()
}

/// Records read between progress events.
const PROGRESS_EVERY: u64 = 1 << 16;

/// `x` rounded to 3 decimals, for log lines.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Seconds of the phase timed last.
fn last_lap(run: &RunInfo) -> f64 {
    run.timings.last().map_or(0.0, |t| t.1)
}

/// Freezes the index, logging its sizes and time.
/// The run manifest of a file read whole: its name, SHA-256 and skipped rows.
fn read_run(path: &Path, sha256: &[u8], skipped: &SkipCounts) -> RunInfo {
    RunInfo {
        input: path.display().to_string(),
        input_sha256: sha256.iter().map(|b| format!("{b:02x}")).collect(),
        skipped_rows: skip_map(skipped),
        skipped_examples: skipped.examples().to_vec(),
        ..RunInfo::default()
    }
}

fn finish_index(builder: IndexBuilder) -> Index {
    let started = Instant::now();
    progress::start("index");
    let index = builder.finish();
    progress::done("index");
    tracing::info!(
        accounts = index.account_count(),
        indicators = index.indicator_count(),
        links = index.link_count(),
        secs = round3(started.elapsed().as_secs_f64()),
        "index"
    );
    index
}

/// Hashes and counts every byte read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Rc<RefCell<Sha256>>,
    bytes: Rc<Cell<u64>>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.borrow_mut().update(&buf[..n]);
        self.bytes.set(self.bytes.get() + n as u64);
        Ok(n)
    }
}

fn skip_map(skipped: &SkipCounts) -> BTreeMap<String, u64> {
    skipped.iter().map(|(p, n)| (p.as_str().to_owned(), n)).collect()
}

type Assembled = (Detection, Vec<Option<usize>>, Vec<Option<usize>>);

/// Builds the [`Detection`] from the scored communities and replacements.
fn assemble(
    index: &Index,
    graph: &AccountGraph,
    scoring: &Scoring<'_>,
    run: RunInfo,
    config: &Config,
) -> Assembled {
    let score_config = config.get_score();
    let n = index.account_count();
    let ids: Vec<ClusterId> = scoring
        .clusters
        .iter()
        .map(|c| evidence::cluster_id(index.account_name(c.members[0])))
        .collect();
    let mut flags: Vec<Option<Flag>> = vec![None; n];
    for c in &scoring.clusters {
        for (&a, &flagged) in c.members.iter().zip(&c.flagged) {
            if flagged {
                flags[a.index()] = Some(Flag::Hydra);
            }
        }
    }
    let mut replacement_count = vec![0usize; scoring.clusters.len()];
    for r in &scoring.replacements {
        flags[r.account.index()] = Some(Flag::Replacement);
        if let Some(c) = scoring.cluster_of[r.account.index()] {
            replacement_count[c as usize] += 1;
        }
    }
    let accounts = (0..n)
        .map(|a| {
            let c = scoring.cluster_of[a].map(|c| c as usize);
            AccountVerdict {
                account: index.account_name(AccountId::new(a as u32)).to_owned(),
                cluster: c.map(|c| ids[c].clone()),
                score: c.map(|c| scoring.clusters[c].risk.score),
                flag: flags[a],
            }
        })
        .collect();
    let mut clusters: Vec<(usize, ClusterReport)> = scoring
        .clusters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut members = MemberCounts::default();
            for &a in &c.members {
                match flags[a.index()] {
                    None => members.none += 1,
                    Some(Flag::Hydra) => members.hydra += 1,
                    Some(_) => members.replacement += 1,
                }
            }
            let signals = Signal::ALL
                .iter()
                .zip(&c.risk.signals)
                .map(|(s, m)| SignalReport {
                    name: s.as_str().to_owned(),
                    value: m.value,
                    weight: score_config.get_weight(*s),
                    explain: m.explain.clone(),
                })
                .collect();
            let report = ClusterReport {
                id: ids[i].clone(),
                score: c.risk.score,
                hydra: c.risk.hydra,
                size: c.members.len(),
                members,
                signals,
                evidence: evidence::evidence(index, &c.view),
                lifecycle: if c.risk.hydra {
                    lifecycle::lifecycle(&c.view, replacement_count[i])
                } else {
                    Lifecycle::default()
                },
                cells: c
                    .cells
                    .iter()
                    .map(|cell| CellReport {
                        id: evidence::cluster_id(index.account_name(cell.first)),
                        size: cell.size,
                        score: cell.score,
                    })
                    .collect(),
                member_ids: c.members.iter().map(|&a| index.account_name(a).to_owned()).collect(),
                sample_edges: sample_edges(graph, &c.members),
            };
            (i, report)
        })
        .collect();
    clusters.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then_with(|| a.1.id.cmp(&b.1.id)));
    let mut position = vec![0usize; clusters.len()];
    for (pos, (i, _)) in clusters.iter().enumerate() {
        position[*i] = pos;
    }
    let cluster_of = scoring.cluster_of.iter().map(|c| c.map(|c| position[c as usize])).collect();
    let mut replacement_of = vec![None; n];
    let replacements = scoring
        .replacements
        .iter()
        .enumerate()
        .map(|(k, r)| {
            replacement_of[r.account.index()] = Some(k);
            ReplacementReport {
                account: index.account_name(r.account).to_owned(),
                signup_ts: r.signup,
                cluster: scoring.cluster_of[r.account.index()].map(|c| ids[c as usize].clone()),
                linked_banned: r
                    .linked_banned
                    .iter()
                    .take(MAX_LINKED_BANNED)
                    .map(|&b| index.account_name(b).to_owned())
                    .collect(),
                evidence: r
                    .evidence
                    .iter()
                    .take(MAX_REPLACEMENT_EVIDENCE)
                    .map(|&(ind, count, _)| Evidence {
                        kind: index.indicator_kind(ind).clone(),
                        value: index.indicator_value(ind).to_owned(),
                        shared_with: count,
                    })
                    .collect(),
            }
        })
        .collect();
    let detection = Detection {
        run,
        accounts,
        clusters: clusters.into_iter().map(|(_, c)| c).collect(),
        replacements,
    };
    (detection, cluster_of, replacement_of)
}

/// The strongest member–member edges of a cluster, bounded, for pictures.
fn sample_edges(graph: &AccountGraph, members: &[AccountId]) -> Vec<(u32, u32, f32)> {
    let mut edges = Vec::new();
    for (i, &a) in members.iter().enumerate() {
        for (b, w, _) in graph.neighbors(a) {
            if let Ok(j) = members.binary_search(&b)
                && i < j
            {
                edges.push((i as u32, j as u32, w));
            }
        }
    }
    let cap = (SAMPLE_EDGES_PER_MEMBER * members.len()).min(MAX_SAMPLE_EDGES);
    if edges.len() > cap {
        edges.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
        edges.truncate(cap);
        edges.sort_by_key(|e| (e.0, e.1));
    }
    edges
}
