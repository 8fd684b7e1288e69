//! The batch pipeline over several worker processes, on timely dataflow
//! (feature `distributed`).
//!
//! # Overview
//!
//! [`run`] is called in every process of a [`Cluster`] with the same inputs
//! and configuration. Each of the cluster's workers (processes × threads)
//! reads its own shard of the input (a byte range of one file, or whole
//! files) and parses and validates it with the batch reader. Over timely's
//! exchange channels it sends every event to worker 0, which feeds them
//! into the index as they arrive (events in any order give the same
//! index), and every observation to the worker that owns its indicator,
//! which indexes the observations of the indicators it owns.
//!
//! The account graph is then built over all workers in rounds (the
//! `graph` module): account ids are ranked by range partitioning of the
//! account names (the `ranks` module), each worker projects the indicators
//! it owns with the one-machine projection's per-indicator code, the pair
//! contributions are summed at the owner of their smaller account, top-k
//! is applied with each account's whole edge list at its owner, connected
//! components are found by label propagation, and the kept edges are
//! gathered on worker 0: the graph `hydra detect` builds, edge for edge.
//! Worker 0 logs the placement of the community stage ("gathered whole on
//! worker 0", with the connected parts) and runs Leiden, scoring and
//! assembly, the functions [`Detector`] runs, on its index and the
//! gathered graph, so the [`Detection`] is the one `hydra detect` computes
//! on the same events, byte for byte once written.
//!
//! What is sharded today: reading, decompression, parsing and validation,
//! the indicator postings, projection, the summing of contributions, top-k
//! and connected components. What is gathered on worker 0: every event (for
//! the index that scoring reads), the account graph (for Leiden), and
//! scoring. docs/SCALE.md has the plan for the rest, and the arithmetic of
//! when it must be.
//!
//! # Failure
//!
//! The rounds after reading end with every worker's status: a worker that
//! fails (its shard could not be read, its index refused an event) fails
//! the round on every worker, so all stop at the same round. A run ends
//! with a barrier: worker 0 sends the outcome (success, or the first error
//! in input order) to every worker, and the dataflow completes only once
//! every worker has received it. A process that dies before that breaks
//! its TCP connections; timely then panics in the survivors'
//! communication threads, which [`run`] turns into an I/O error naming the
//! lost process. The caller writes outputs only after [`run`] returned a
//! detection, so a failed run writes nothing.

mod graph;
mod net;
mod ranks;
mod rounds;
mod shard;
mod wire;

use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::communication::{Config as CommunicationConfig, Hooks};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Input, Operator, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::worker::Worker;
use timely::{WorkerConfig, execute::execute_from};

use crate::config::Config;
use crate::detect::Detector;
use crate::error::{Error, ErrorKind, Result};
use crate::event::{Action, Event};
use crate::graph::AccountGraph;
use crate::index::IndexBuilder;
use crate::ingest::EventReader;
use crate::report::{Detection, IndicatorHolders, RunInfo};

use rounds::Rounds;
use wire::{Msg, Part, PartError, ShardReport, WireEvent};

/// Events a worker sends between two steps of its dataflow (bounds what
/// waits in its buffers).
const EVENTS_PER_STEP: u64 = 4096;
/// How long a worker waiting for others sleeps at most between checks.
const PARK: Duration = Duration::from_millis(50);

/// The processes of one run and this process's place among them.
#[derive(Clone, Debug)]
pub struct Cluster {
    addresses: Vec<String>,
    process: usize,
    threads: usize,
    connect_timeout: Duration,
}

impl Cluster {
    /// Process `process` of the processes listening on `addresses`
    /// (`host:port`, one per process, the same list in every process), with
    /// `threads` worker threads each.
    ///
    /// # Errors
    ///
    /// An invalid-argument error if `addresses` is empty, `process` is not
    /// an index into it, or `threads` is 0.
    pub fn new(addresses: Vec<String>, process: usize, threads: usize) -> Result<Cluster> {
        if addresses.is_empty() {
            return Err(Error::invalid_argument("a cluster needs at least one process address"));
        }
        if process >= addresses.len() {
            return Err(Error::invalid_argument(format!(
                "process index {process} is out of range for {} processes (0 to {})",
                addresses.len(),
                addresses.len() - 1
            )));
        }
        if threads == 0 {
            return Err(Error::invalid_argument("worker threads per process must be at least 1"));
        }
        Ok(Cluster { addresses, process, threads, connect_timeout: Duration::from_secs(60) })
    }

    /// One process with `threads` worker threads (no network).
    ///
    /// # Errors
    ///
    /// As [`Cluster::new`].
    pub fn local(threads: usize) -> Result<Cluster> {
        Cluster::new(vec!["127.0.0.1:0".to_owned()], 0, threads)
    }

    /// How long to wait for every process to connect (default 60 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Cluster {
        self.connect_timeout = timeout;
        self
    }

    /// How many processes.
    pub fn processes(&self) -> usize {
        self.addresses.len()
    }

    /// This process's index.
    pub fn process(&self) -> usize {
        self.process
    }

    /// Worker threads per process.
    pub fn threads(&self) -> usize {
        self.threads
    }
}

/// What one worker read and sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkerStats {
    /// The worker's index (process × threads + thread).
    pub worker: usize,
    /// Its process.
    pub process: usize,
    /// Events it read and sent to worker 0.
    pub events: u64,
    /// Input bytes it read (after decompression).
    pub bytes_read: u64,
    /// Encoded bytes it sent to other processes over the whole run
    /// (bincode payload, without timely's message headers): the sum of
    /// `stage_bytes`.
    pub bytes_sent_remote: u64,
    /// The same per stage, in order: `read` (events to worker 0 and
    /// observations to their indicators' owners), then the stages after
    /// reading (`ids`, `pairs`, `top_k`, `components`, `gather`).
    pub stage_bytes: Vec<(String, u64)>,
    /// Indicators it owns (those seen once included).
    pub indicators: u64,
    /// Account–indicator links to the indicators it owns.
    pub links: u64,
    /// Pair contributions its indicators emitted.
    pub pairs: u64,
    /// Edges of the accounts it owns (as the smaller end) after top-k.
    pub edges: u64,
    /// Seconds it spent reading, parsing and sending.
    pub read_secs: f64,
    /// Peak resident memory of its process when it finished its part of
    /// the graph, in bytes (0 where unknown); for process 0, see
    /// [`DistRun::peak_rss`].
    pub peak_rss: u64,
}

/// The result of [`run`] in one process.
#[derive(Debug)]
pub struct DistRun {
    /// The detection (process 0 only).
    pub detection: Option<Detection>,
    /// Who holds the indicator values its clusters' evidence names
    /// (process 0 only), for indicator nodes in `clusters.graphml`
    /// ([`GraphmlConfig::indicators`](crate::GraphmlConfig::indicators)); as
    /// [`Analysis::indicator_holders`](crate::Analysis::indicator_holders).
    pub indicator_holders: Option<IndicatorHolders>,
    /// Every worker's reading figures (process 0 only), by worker.
    pub workers: Vec<WorkerStats>,
    /// Worker 0's stages, in order: `gather` (until every event was in the
    /// index builders), `shard_index` (its index of the indicators it
    /// owns), the graph's rounds (`ids`, `project`, `sum`, `top_k`,
    /// `components`, `gather`), `index` (the whole index), `csr`, then
    /// detection's own (`communities`, `score`), then `barrier` (process 0
    /// only).
    pub timings: Vec<(String, f64)>,
    /// This process's peak resident memory at the end, in bytes (0 where unknown).
    pub peak_rss: u64,
}

/// Runs detection over `inputs` across the processes of `cluster`; call it
/// in every process with the same arguments (but each its own process
/// index). Inputs are CSV or JSON Lines, by suffix or `config.ingest`,
/// gzip if `.gz`.
///
/// # Errors
///
/// A config error for an invalid configuration; an I/O error if a process
/// cannot connect to the others or one is lost during the run; the first
/// error in input order that a worker met reading its shard (an input
/// error names the line in its file); in the processes other than 0, an
/// error saying the run failed if it failed anywhere.
pub fn run(cluster: &Cluster, inputs: &[PathBuf], config: &Config) -> Result<DistRun> {
    config.validate()?;
    if inputs.is_empty() {
        return Err(Error::invalid_argument("no input files"));
    }
    let shared = Arc::new(Shared {
        inputs: inputs.to_vec(),
        config: config.clone(),
        threads: cluster.threads,
    });
    let (builders, others) = communication(cluster)?;
    let panics = PanicLog::install();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let guards = execute_from(builders, others, WorkerConfig::default(), move |worker| {
            worker_main(worker, &shared)
        })
        .map_err(|e| lost(&e))?;
        let mut outs = Vec::new();
        for joined in guards.join() {
            outs.push(joined.map_err(|e| lost(&e))?);
        }
        Ok::<_, Error>(outs)
    }));
    let messages = panics.uninstall();
    let outs = match result {
        Ok(Ok(outs)) if messages.is_empty() => outs,
        Ok(Err(e)) if messages.is_empty() => return Err(e),
        _ => return Err(lost_from(&messages)),
    };
    let mut run = DistRun {
        detection: None,
        indicator_holders: None,
        workers: Vec::new(),
        timings: Vec::new(),
        peak_rss: 0,
    };
    for out in outs {
        match out.result {
            Err(e) => return Err(e),
            Ok(None) => {}
            Ok(Some(found)) => {
                run.detection = Some(found.detection);
                run.indicator_holders = Some(found.indicator_holders);
                run.workers = found.workers;
                run.timings = found.timings;
            }
        }
    }
    run.peak_rss = peak_rss();
    Ok(run)
}

/// What every worker needs.
#[derive(Debug)]
struct Shared {
    inputs: Vec<PathBuf>,
    config: Config,
    threads: usize,
}

/// What a worker returns: worker 0's findings, or nothing, or the error
/// that ended the run.
struct WorkerOut {
    result: Result<Option<Box<Found>>>,
}

/// Worker 0's findings.
struct Found {
    detection: Detection,
    indicator_holders: IndicatorHolders,
    workers: Vec<WorkerStats>,
    timings: Vec<(String, f64)>,
}

/// Timely's allocators for `cluster`: threads in one process, or TCP
/// between processes over sockets this module connects.
fn communication(cluster: &Cluster) -> Result<(Vec<AllocatorBuilder>, Box<dyn Any + Send>)> {
    if cluster.processes() == 1 {
        return CommunicationConfig::Process(cluster.threads)
            .try_build()
            .map_err(|e| Error::io(e, None, io::Error::other("timely")));
    }
    let sockets = net::connect(&cluster.addresses, cluster.process, cluster.connect_timeout)?;
    tracing::info!(
        process = cluster.process,
        processes = cluster.processes(),
        "process {}: connected to all {} processes",
        cluster.process,
        cluster.processes()
    );
    let hooks = Hooks::default();
    let local = ProcessBuilder::new_typed_vector(
        cluster.threads,
        hooks.refill.clone(),
        hooks.spill.clone(),
    );
    let (builders, guard) =
        initialize_networking_from_sockets(local, sockets, cluster.process, cluster.threads, hooks)
            .map_err(|e| {
                Error::io(format!("process {}: cannot start networking", cluster.process), None, e)
            })?;
    Ok((builders.into_iter().map(AllocatorBuilder::Tcp).collect(), Box::new(guard)))
}

/// The I/O error for a worker lost with `message`.
fn lost(message: &str) -> Error {
    Error::io(
        format!("the distributed run failed: {message}"),
        None,
        io::Error::from(io::ErrorKind::ConnectionAborted),
    )
}

/// The I/O error for the panics timely's threads raised, naming the lost
/// process when a communication thread says which.
fn lost_from(messages: &[(String, String)]) -> Error {
    let comm = messages.iter().find(|(_, m)| m.contains("timely communication error"));
    let Some((thread, message)) = comm.or(messages.first()) else {
        return lost("a worker stopped");
    };
    let peer = thread
        .strip_prefix("timely:recv-")
        .or_else(|| thread.strip_prefix("timely:send-"))
        .and_then(|p| p.parse::<usize>().ok());
    match peer {
        Some(p) => lost(&format!(
            "lost the connection to process {p} (did it die?): {message}; no output was written"
        )),
        None => lost(&format!("a worker stopped ({thread}): {message}; no output was written")),
    }
}

/// Panic messages of timely's threads (and of a thread inside [`run`]),
/// collected instead of printed: (thread name, message).
static PANICS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

std::thread_local! {
    /// Whether this thread is inside [`run`] (its panics are collected).
    static IN_RUN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Collects the panics of timely's threads (named `timely:…`) and of
/// threads inside [`run`] from the first run on; other panics go to the
/// hook that was in place. Runs overlapping in one process see each
/// other's panics.
struct PanicLog {
    mark: usize,
}

impl PanicLog {
    fn install() -> PanicLog {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
                if !thread.starts_with("timely:") && !IN_RUN.with(std::cell::Cell::get) {
                    previous(info);
                    return;
                }
                let payload = info.payload();
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_owned());
                tracing::debug!(thread, "panic: {text}");
                if let Ok(mut m) = PANICS.lock() {
                    m.push((thread, text));
                }
            }));
        });
        IN_RUN.with(|r| r.set(true));
        PanicLog { mark: PANICS.lock().map_or(0, |m| m.len()) }
    }

    fn uninstall(self) -> Vec<(String, String)> {
        IN_RUN.with(|r| r.set(false));
        PANICS.lock().map(|m| m.get(self.mark..).unwrap_or_default().to_vec()).unwrap_or_default()
    }
}

/// Worker 0's side of the gather: the index being built and the reports.
#[derive(Default)]
struct Gathered {
    builder: Option<IndexBuilder>,
    reports: Vec<ShardReport>,
    /// The first event the index refused (limits), with its worker.
    refused: Option<(usize, String)>,
}

/// The run's outcome, sent from worker 0 to every worker.
type Outcome = Option<String>;

/// One worker's index of the observations of the indicators it owns.
#[derive(Default)]
struct Owned {
    builder: IndexBuilder,
    /// The first observation it refused (limits).
    refused: Option<String>,
}

/// The inputs of the read phase: events to worker 0, observations to
/// their indicator's owner.
type GatherInput = InputHandle<u64, CapacityContainerBuilder<Vec<Msg>>>;
type OwnerInput = InputHandle<u64, CapacityContainerBuilder<Vec<(u32, WireEvent)>>>;

fn worker_main(worker: &mut Worker, shared: &Shared) -> WorkerOut {
    let me = worker.index();
    let peers = worker.peers();
    let mut gather_in: GatherInput = InputHandle::new();
    let mut owner_in: OwnerInput = InputHandle::new();
    let mut outcome_in: InputHandle<u64, CapacityContainerBuilder<Vec<(u64, Outcome)>>> =
        InputHandle::new();
    let gather_probe = ProbeHandle::new();
    let outcome_probe = ProbeHandle::new();
    let gathered = Rc::new(RefCell::new(Gathered {
        builder: (me == 0).then(IndexBuilder::new),
        ..Gathered::default()
    }));
    let owned: Rc<RefCell<Owned>> = Rc::default();
    let received: Rc<RefCell<Option<Outcome>>> = Rc::default();
    worker.dataflow::<u64, _, _>(|scope| {
        let sink = Rc::clone(&gathered);
        scope
            .input_from(&mut gather_in)
            .unary::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
                Exchange::new(|_: &Msg| 0u64),
                "Gather",
                move |_, _| {
                    move |input, _output| {
                        input.for_each(|_, batch| {
                            let mut g = sink.borrow_mut();
                            for msg in batch.drain(..) {
                                g.take(msg);
                            }
                        });
                    }
                },
            )
            .probe_with(&gather_probe);
        let sink = Rc::clone(&owned);
        scope
            .input_from(&mut owner_in)
            .unary::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
                Exchange::new(|m: &(u32, WireEvent)| u64::from(m.0)),
                "Owners",
                move |_, _| {
                    move |input, _output| {
                        input.for_each(|_, batch| {
                            let mut o = sink.borrow_mut();
                            for (_, e) in batch.drain(..) {
                                if o.refused.is_some() {
                                    continue;
                                }
                                if let Err((_, message)) = o.builder.add(&Event::from(e)) {
                                    o.refused = Some(message);
                                }
                            }
                        });
                    }
                },
            )
            .probe_with(&gather_probe);
        let cell = Rc::clone(&received);
        scope
            .input_from(&mut outcome_in)
            .unary::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
                Exchange::new(|m: &(u64, Outcome)| m.0),
                "Outcome",
                move |_, _| {
                    move |input, _output| {
                        input.for_each(|_, batch| {
                            for (_, outcome) in batch.drain(..) {
                                *cell.borrow_mut() = Some(outcome);
                            }
                        });
                    }
                },
            )
            .probe_with(&outcome_probe);
    });
    let mut rounds = Rounds::new(worker, shared.threads);

    // Read this worker's shard, sending as it goes.
    let started = Instant::now();
    let (report, read) = read_shard(worker, &mut gather_in, &mut owner_in, shared, me, peers);
    let read_failed = report.error.is_some();
    gather_in.send(Msg::Done(Box::new(report)));
    drop(gather_in);
    drop(owner_in);
    while gather_probe.less_than(&1) {
        worker.step_or_park(Some(PARK));
    }
    let gather_secs = started.elapsed().as_secs_f64();

    // The account graph, over every worker.
    let started = Instant::now();
    let Owned { builder, refused } = std::mem::take(&mut *owned.borrow_mut());
    let index = builder.finish();
    let failed = if read_failed {
        Some("reading failed".to_owned())
    } else {
        refused.or_else(|| gathered.borrow().refused.as_ref().map(|(_, m)| m.clone()))
    };
    let shard_secs = started.elapsed().as_secs_f64();
    let graph = graph::build(
        worker,
        &mut rounds,
        graph::Shard { index, read, failed },
        shared.config.get_graph(),
    );

    // Worker 0 detects; every worker then learns the outcome.
    let mut result: Result<Option<Box<Found>>> = Ok(None);
    if me == 0 {
        let g = std::mem::take(&mut *gathered.borrow_mut());
        result = detect(g, graph, shared, gather_secs, shard_secs).map(Some);
        let message = result.as_ref().err().map(ToString::to_string);
        for target in 0..peers {
            outcome_in.send((target as u64, message.clone()));
        }
    } else if let Err(e) = graph {
        result = Err(e);
    }
    drop(outcome_in);
    let barrier = Instant::now();
    while outcome_probe.less_than(&1) {
        worker.step_or_park(Some(PARK));
    }
    if let Ok(Some(found)) = &mut result {
        found.timings.push(("barrier".to_owned(), barrier.elapsed().as_secs_f64()));
    }
    if me != 0
        && let Some(Some(message)) = received.borrow().as_ref()
    {
        result = Err(Error::io(
            format!("the distributed run failed (reported by process 0): {message}"),
            None,
            io::Error::other("failed on process 0"),
        ));
    }
    WorkerOut { result }
}

impl Gathered {
    /// Takes one message at worker 0.
    fn take(&mut self, msg: Msg) {
        match msg {
            Msg::Event(e) => {
                let Some(builder) = self.builder.as_mut() else { return };
                if self.refused.is_some() {
                    return;
                }
                let event = Event::from(e);
                if let Err((_, message)) = builder.add(&event) {
                    self.refused = Some((0, message));
                }
            }
            Msg::Done(report) => self.reports.push(*report),
        }
    }
}

/// Reads the worker's parts, sending each event to worker 0 and each
/// observation to its indicator's owner; returns the report and the
/// distinct account names read, sorted.
fn read_shard(
    worker: &mut Worker,
    input: &mut GatherInput,
    owners: &mut OwnerInput,
    shared: &Shared,
    me: usize,
    peers: usize,
) -> (ShardReport, Vec<String>) {
    let mut names: ahash::AHashSet<String> = ahash::AHashSet::new();
    let mut scratch = String::new();
    let threads = shared.threads;
    let started = Instant::now();
    let ingest = shared.config.get_ingest();
    let mut report =
        ShardReport { worker: me, process: me / shared.threads, ..ShardReport::default() };
    let remote = me / shared.threads != 0;
    let specs = match shard::assign(
        &shared.inputs,
        ingest.get_format(),
        me,
        peers,
        ingest.get_max_record_len(),
    ) {
        Ok(specs) => specs,
        Err(e) => {
            report.error = Some(PartError { part: 0, input: None, message: e.to_string() });
            return (report, Vec::new());
        }
    };
    'parts: for spec in specs {
        let counts = shard::Counts::default();
        let part = report.parts.len();
        report.parts.push(Part {
            file: spec.file,
            start: spec.range.map_or(0, |r| r.0),
            newlines: 0,
            header_prepended: spec.header.is_some(),
        });
        let fail = |e: &Error| {
            let input = match e.kind() {
                ErrorKind::Input { line, problem, message } => {
                    Some(((*line, problem.as_str().to_owned()), message.clone()))
                }
                _ => None,
            };
            match input {
                Some((at, message)) => PartError { part, input: Some(at), message },
                None => PartError { part, input: None, message: e.to_string() },
            }
        };
        let reader = match shard::open(&spec, &counts)
            .and_then(|r| EventReader::new(r, spec.format, ingest))
        {
            Ok(r) => r,
            Err(e) => {
                report.error = Some(fail(&e));
                break 'parts;
            }
        };
        let mut events = reader;
        let before = report.events;
        for record in events.by_ref() {
            match record {
                Ok(record) => {
                    if !names.contains(&record.event.account) {
                        names.insert(record.event.account.clone());
                    }
                    if let Action::Observe(ind) = &record.event.action {
                        let owner = graph::indicator_owner(ind, peers, &mut scratch);
                        let wire = WireEvent::from(record.event.clone());
                        if owner / threads != me / threads {
                            report.bytes_sent_remote += 4 + wire.encoded_len();
                        }
                        owners.send((owner as u32, wire));
                    }
                    let wire = WireEvent::from(record.event);
                    if remote {
                        report.bytes_sent_remote += wire.encoded_len();
                    }
                    input.send(Msg::Event(wire));
                    report.events += 1;
                    if report.events.is_multiple_of(EVENTS_PER_STEP) {
                        worker.step();
                    }
                }
                Err(e) if ingest.get_lenient() && report.events == before => {
                    // Lenient, and not one valid record in this part: the
                    // reader's "wrong file?" error, which holds only if no
                    // other part has a valid record either.
                    report.no_valid.get_or_insert(fail(&e));
                    break;
                }
                Err(e) => {
                    report.error = Some(fail(&e));
                    break;
                }
            }
        }
        let skipped = events.into_skipped();
        for (problem, n) in skipped.iter() {
            *report.skipped.entry(problem.as_str().to_owned()).or_insert(0) += n;
        }
        for example in skipped.examples() {
            let (line, text) = wire::split_line(example).unwrap_or((0, example.as_str()));
            report.skipped_examples.push((part, line, text.to_owned()));
        }
        report.parts[part].newlines = counts.newlines.get();
        report.bytes_read += counts.bytes.get();
        if report.error.is_some() {
            break;
        }
    }
    report.read_secs = started.elapsed().as_secs_f64();
    report.peak_rss = peak_rss();
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort_unstable();
    (report, names)
}

/// Worker 0, once every event is in: the first shard error in input
/// order, or the detection.
fn detect(
    mut g: Gathered,
    graph: Result<Option<graph::Gathered>>,
    shared: &Shared,
    gather_secs: f64,
    shard_secs: f64,
) -> Result<Box<Found>> {
    g.reports.sort_by_key(|r| r.worker);
    let lines = LineMap::new(&g.reports);
    // The first error in input order: by file, then by line in the file.
    let mut first: Option<((usize, u64), Error)> = None;
    for r in &g.reports {
        let Some(err) = &r.error else { continue };
        let (file, start) = r.parts.get(err.part).map_or((0, 0), |p| (p.file, p.start));
        let name = shared.inputs.get(file).map(|p| p.display().to_string()).unwrap_or_default();
        let (key, error) = match &err.input {
            Some((line, problem)) => {
                let line = lines.absolute(r, err.part, *line);
                (
                    (file, line),
                    Error::input(
                        line,
                        wire::problem_from_key(problem),
                        format!("{} (in {name})", err.message),
                    ),
                )
            }
            None => ((file, start), lost_input(&err.message)),
        };
        if first.as_ref().is_none_or(|(k, _)| key < *k) {
            first = Some((key, error));
        }
    }
    if first.is_none() && g.reports.iter().all(|r| r.events == 0) {
        // Lenient and no valid record anywhere: the first part's complaint.
        for r in &g.reports {
            let Some(err) = &r.no_valid else { continue };
            let Some((line, problem)) = &err.input else { continue };
            let file = r.parts.get(err.part).map_or(0, |p| p.file);
            let line = lines.absolute(r, err.part, *line);
            if first.as_ref().is_none_or(|(k, _)| (file, line) < *k) {
                first = Some((
                    (file, line),
                    Error::input(line, wire::problem_from_key(problem), err.message.clone()),
                ));
            }
        }
    }
    if let Some((_, error)) = first {
        return Err(error);
    }
    if let Some((_, message)) = g.refused {
        return Err(Error::limit(message));
    }
    let gathered = graph?.ok_or_else(|| lost("worker 0 has no account graph"))?;
    let builder = g.builder.take().ok_or_else(|| lost("worker 0 has no index"))?;
    let started = Instant::now();
    let index = builder.finish();
    let index_secs = started.elapsed().as_secs_f64();
    if index.account_count() != gathered.nodes {
        return Err(internal(format!(
            "the workers ranked {} accounts, the index holds {}",
            gathered.nodes,
            index.account_count()
        )));
    }
    let started = Instant::now();
    let account_graph = AccountGraph::from_edges(gathered.nodes, &gathered.edges);
    let csr_secs = started.elapsed().as_secs_f64();
    let (parts, largest, in_parts) = gathered.parts();
    let stats = &gathered.stats;
    tracing::info!(
        nodes = account_graph.node_count(),
        edges = account_graph.edge_count(),
        candidate_edges = stats.candidate_edges,
        supernodes_windowed = stats.indicators_over_cap,
        pairs = stats.pairs_emitted,
        "graph"
    );
    tracing::info!(
        accounts = index.account_count(),
        edges = account_graph.edge_count(),
        parts,
        largest,
        "communities: the account graph is gathered whole on worker 0 ({} accounts, {} edges; \
         {parts} connected parts of 2+ accounts hold {in_parts} accounts, the largest {largest}); \
         Leiden and scoring run there",
        index.account_count(),
        account_graph.edge_count(),
    );
    let mut skipped_rows: BTreeMap<String, u64> = BTreeMap::new();
    let mut examples = Vec::new();
    for r in &g.reports {
        for (k, n) in &r.skipped {
            *skipped_rows.entry(k.clone()).or_insert(0) += n;
        }
        for (part, line, text) in &r.skipped_examples {
            let file = r.parts.get(*part).map_or(0, |p| p.file);
            examples.push(((file, lines.absolute(r, *part, *line)), text.clone()));
        }
    }
    examples.sort();
    let run = RunInfo {
        input: shared.inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        skipped_rows,
        skipped_examples: examples
            .into_iter()
            .take(10)
            .map(|((_, line), text)| format!("line {line}: {text}"))
            .collect(),
        timings: [("gather", gather_secs), ("shard_index", shard_secs)]
            .into_iter()
            .chain(gathered.timings.iter().map(|(k, v)| (k.as_str(), *v)))
            .chain([("index", index_secs), ("csr", csr_secs)])
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        ..RunInfo::default()
    };
    let analysis =
        Detector::new(shared.config.clone()).analyze_index_graph_run(index, account_graph, run)?;
    // Read while the index is at hand; small next to the detection (one
    // u32 per link to a value the evidence names).
    let indicator_holders = analysis.indicator_holders();
    let detection = analysis.into_detection();
    let timings = detection.run.timings.clone();
    let workers = g
        .reports
        .iter()
        .map(|r| {
            let after = gathered.reports.iter().find(|p| p.worker == r.worker);
            let mut stage_bytes = vec![("read".to_owned(), r.bytes_sent_remote)];
            stage_bytes.extend(after.map(|p| p.bytes_remote.clone()).unwrap_or_default());
            WorkerStats {
                worker: r.worker,
                process: r.process,
                events: r.events,
                bytes_read: r.bytes_read,
                bytes_sent_remote: stage_bytes.iter().map(|(_, n)| n).sum(),
                stage_bytes,
                indicators: after.map_or(0, |p| p.indicators),
                links: after.map_or(0, |p| p.links),
                pairs: after.map_or(0, |p| p.counters.pairs()),
                edges: after.map_or(0, |p| p.edges),
                read_secs: r.read_secs,
                peak_rss: after.map_or(r.peak_rss, |p| p.peak_rss.max(r.peak_rss)),
            }
        })
        .collect();
    Ok(Box::new(Found { detection, indicator_holders, workers, timings }))
}

/// The I/O error for a broken invariant of the distributed run.
fn internal(message: impl Into<String>) -> Error {
    Error::io(
        format!("the distributed run failed: {}", message.into()),
        None,
        io::Error::other("internal"),
    )
}

/// An I/O failure a worker met reading its shard.
fn lost_input(message: &str) -> Error {
    Error::io(message.to_owned(), None, io::Error::other("reading a shard"))
}

/// Turns a line local to a part into the line in its file.
struct LineMap {
    /// Per file, its parts' (start, newlines), sorted by start.
    parts: BTreeMap<usize, Vec<(u64, u64)>>,
}

impl LineMap {
    fn new(reports: &[ShardReport]) -> LineMap {
        let mut parts: BTreeMap<usize, Vec<(u64, u64)>> = BTreeMap::new();
        for p in reports.iter().flat_map(|r| &r.parts) {
            parts.entry(p.file).or_default().push((p.start, p.newlines));
        }
        for v in parts.values_mut() {
            v.sort_unstable();
        }
        LineMap { parts }
    }

    /// The line in the file of `report.parts[part]` of its local `line`.
    fn absolute(&self, report: &ShardReport, part: usize, line: u64) -> u64 {
        let Some(p) = report.parts.get(part) else { return line };
        let before: u64 = self
            .parts
            .get(&p.file)
            .map(|v| v.iter().filter(|(s, _)| *s < p.start).map(|(_, n)| n).sum())
            .unwrap_or(0);
        let local = if p.header_prepended { line.saturating_sub(1) } else { line };
        before + local
    }
}

/// Peak resident memory of this process in bytes (`VmHWM`), 0 where unknown.
pub(crate) fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{SimConfig, Simulator};

    /// A small simulated platform written as CSV into `dir`.
    fn platform(dir: &std::path::Path) -> PathBuf {
        let sim =
            Simulator::new(SimConfig::small().scale(0.03).seed(5)).unwrap().generate().unwrap();
        let path = dir.join("events.csv");
        let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        sim.write_events_csv(file, |_| {}).unwrap();
        path
    }

    fn without_run(mut d: Detection) -> Detection {
        d.run = RunInfo::default();
        d
    }

    #[test]
    fn detect_index_equals_detect_on_the_same_events_in_another_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = platform(dir.path());
        let (mut events, _) = crate::read_events(&path, &Default::default()).unwrap();
        let detector = Detector::new(Config::new());
        let one = detector.detect_events(events.clone()).unwrap();
        events.reverse();
        let mut builder = IndexBuilder::new();
        for e in &events {
            builder.add(e).unwrap();
        }
        let gathered = detector
            .analyze_index_run(builder.finish(), RunInfo::default())
            .unwrap()
            .into_detection();
        assert!(!one.clusters.is_empty());
        assert_eq!(without_run(gathered), without_run(one));
    }

    #[test]
    fn threads_in_one_process_find_what_detect_finds() {
        let dir = tempfile::tempdir().unwrap();
        let path = platform(dir.path());
        let detector = Detector::new(Config::new());
        let one = detector.detect_path(&path).unwrap();
        for threads in [1, 3] {
            let run =
                run(&Cluster::local(threads).unwrap(), std::slice::from_ref(&path), &Config::new())
                    .unwrap();
            assert_eq!(run.workers.len(), threads);
            assert_eq!(run.workers.iter().map(|w| w.events).sum::<u64>(), one.run.events);
            let found = run.detection.unwrap();
            assert_eq!(found.run.events, one.run.events);
            assert_eq!(without_run(found), without_run(one.clone()), "{threads} threads");
        }
    }

    #[test]
    fn a_bad_line_is_named_by_its_line_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("ts,account,event,kind,value,reason\n");
        for i in 0..300 {
            text.push_str(&format!("{},a{i},signup,,,\n", 1_767_225_600 + i));
        }
        // Line 251 (the header is line 1): an invalid ip, in the last worker's range.
        text =
            text.replacen("1767225849,a249,signup,,,", "1767225849,a249,observe,ip,not-an-ip,", 1);
        let path = dir.path().join("bad.csv");
        std::fs::write(&path, text).unwrap();
        let err = run(&Cluster::local(3).unwrap(), std::slice::from_ref(&path), &Config::new())
            .unwrap_err();
        assert_eq!(err.line(), Some(251), "{err}");
        assert!(err.to_string().contains("not-an-ip"), "{err}");
    }
}
