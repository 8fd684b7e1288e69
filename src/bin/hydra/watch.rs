//! `hydra watch`: events on standard input, flags as JSON lines on standard output.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::terminal::safe;
use crate::{exit, progress};
use hydra_detect::{
    DurabilityConfig, DurableWatcher, EventReader, Format, IngestConfig, Recluster, Record,
    SkipCounts, WatchConfig, WatchFlag, Watcher,
};

/// Watch a live event stream and announce replacement and hydra flags.
///
/// Reads events (CSV with a header, or JSON Lines with --format jsonl) from
/// standard input in arrival order and writes one JSON object a line to
/// standard output when an account is flagged. Bad lines are skipped and
/// reported on standard error unless --strict.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// State directory: applied events are logged durably and flags are
    /// printed only once their event is durable; a restart resumes from it.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Events applied (without announcing flags) before the stream, only
    /// when the state is empty.
    #[arg(long, value_name = "EVENTS")]
    bootstrap: Option<PathBuf>,
    /// Stop at the first bad input line instead of skipping it.
    #[arg(long)]
    strict: bool,
    /// Input format on standard input.
    #[arg(long, value_enum, default_value = "csv")]
    format: InputFormat,
    /// Re-cluster inline every N applied events instead of in the
    /// background, so that hydra-membership flags are reproducible (the
    /// event path waits for each re-clustering).
    #[arg(long, value_name = "N", conflicts_with = "recluster_every")]
    sync_recluster: Option<u64>,
    /// Re-cluster in the background after N applied events, then whenever
    /// max(N, a quarter of the events so far) more have been applied (0:
    /// never, no hydra-membership or network replacement flags). Hydra
    /// flags use the newest finished clustering; event handling waits only
    /// when a run is still going once the next is due.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    recluster_every: u64,
    /// Sequence number of the first input record (when a producer resends
    /// from event N+1 after a restart, pass N+1). With --state, more than
    /// applied+1 is an error (events would be missing), and resent events
    /// are checked against the ones logged.
    #[arg(long, value_name = "SEQ", default_value_t = 1)]
    first_seq: u64,
    /// Replacement score at which an account is flagged.
    #[arg(long, value_name = "SCORE")]
    threshold: Option<f64>,
    /// Flag an account at its signup IP alone when that IP is the signup IP
    /// of an account banned for abuse at most SECS before and nobody else
    /// (neither banned nor flagged) has used it since a day before that ban
    /// (`WatchConfig::quiet_takeover_secs`; 0: off, the default). Faster
    /// flags, at the risk of a household given such an address as a new lease.
    #[arg(long, value_name = "SECS")]
    quiet_takeover: Option<i64>,
    /// Events between snapshots of the state.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    snapshot_every: u64,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum InputFormat {
    Csv,
    Jsonl,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    if args.first_seq == 0 {
        return Err(exit::usage("--first-seq must be at least 1"));
    }
    let mut config = WatchConfig::new();
    config = config.recluster(match args.sync_recluster {
        Some(n) => {
            if n == 0 {
                return Err(exit::usage("--sync-recluster must be at least 1"));
            }
            Recluster::Sync(n)
        }
        None if args.recluster_every == 0 => Recluster::Off,
        None => Recluster::Background(args.recluster_every),
    });
    if let Some(t) = args.threshold {
        config = config.threshold(t);
    }
    if let Some(secs) = args.quiet_takeover {
        config = config.quiet_takeover_secs(secs);
    }
    config.validate()?;
    let format = match args.format {
        InputFormat::Csv => Format::Csv,
        InputFormat::Jsonl => Format::Jsonl,
    };
    let ingest = IngestConfig::new().lenient(!args.strict);
    match &args.state {
        None => run_in_memory(&args, config, format, &ingest),
        Some(dir) => run_durable(&args, dir, config, format, &ingest),
    }
}

fn bootstrap_events(args: &Args) -> anyhow::Result<Option<Vec<hydra_detect::Event>>> {
    let Some(path) = &args.bootstrap else { return Ok(None) };
    let (events, skipped) = hydra_detect::read_events(path, &IngestConfig::new())
        .with_context(|| format!("cannot read the bootstrap events {}", path.display()))?;
    debug_assert!(skipped.is_empty());
    Ok(Some(events))
}

/// Reports on standard error the records the lenient reader skipped: each
/// of the first [`SkipCounts::MAX_EXAMPLES`] with its line, value and
/// reason, then a sample (the counts by reason and the latest message) when
/// the count doubles, at least every [`SkipReporter::MAX_SAMPLE_GAP`]
/// skips, and at the end of the input.
#[derive(Default)]
struct SkipReporter {
    /// Skips reported so far.
    seen: u64,
    /// Skips at the last sample.
    sampled: u64,
}

impl SkipReporter {
    const MAX_SAMPLE_GAP: u64 = 10_000;

    fn report(&mut self, skipped: &SkipCounts, at_end: bool) {
        let total = skipped.total();
        if total == self.sampled || (total == self.seen && !at_end) {
            return;
        }
        let mut stderr = std::io::stderr().lock();
        let examples = skipped.examples();
        for message in examples.iter().take(total as usize).skip(self.seen as usize) {
            let _ = writeln!(stderr, "hydra watch: skipped bad input: {}", safe(message));
        }
        self.seen = total;
        let due = total >= (2 * self.sampled).min(self.sampled + Self::MAX_SAMPLE_GAP);
        if total > examples.len() as u64 && total > self.sampled && (due || at_end) {
            let latest = safe(skipped.latest().unwrap_or(""));
            let _ = writeln!(stderr, "hydra watch: {skipped} so far; latest: {latest}");
            self.sampled = total;
        }
    }
}

fn run_in_memory(
    args: &Args,
    config: WatchConfig,
    format: Format,
    ingest: &IngestConfig,
) -> anyhow::Result<()> {
    let mut watcher = Watcher::new(config)?;
    if let Some(events) = bootstrap_events(args)? {
        let mut sink = Vec::new();
        for (i, e) in events.iter().enumerate() {
            sink.clear();
            watcher.apply_into(i as u64 + 1, e, &mut sink)?;
        }
    }
    let stdin = std::io::stdin().lock();
    let mut reader = EventReader::new(stdin, format, ingest)?;
    let mut out = std::io::stdout().lock();
    let mut flags: Vec<WatchFlag> = Vec::new();
    let mut line = Vec::with_capacity(512);
    let mut skips = SkipReporter::default();
    let mut last_seq = args.first_seq.saturating_sub(1);
    let mut pace = Pace::new();
    while let Some(item) = reader.next() {
        let record = item?;
        skips.report(reader.skipped(), false);
        let seq = input_seq(args.first_seq, record.seq)?;
        last_seq = seq;
        flags.clear();
        watcher.apply_into(seq, &record.event, &mut flags)?;
        for f in &flags {
            line.clear();
            f.write_json_line(&mut line);
            out.write_all(&line)?;
            out.flush()?;
        }
        pace.flags.fetch_add(flags.len() as u64, Ordering::Relaxed);
        pace.event(&watcher);
    }
    skips.report(reader.skipped(), true);
    // At the end of a finite stream, a background re-clustering still
    // running is waited for, so that its hydra members are announced (with
    // the last event's sequence number).
    flags.clear();
    watcher.finish_recluster(last_seq, &mut flags);
    for f in &flags {
        line.clear();
        f.write_json_line(&mut line);
        out.write_all(&line)?;
    }
    out.flush()?;
    pace.flags.fetch_add(flags.len() as u64, Ordering::Relaxed);
    pace.note_recluster(&watcher);
    pace.finish(watcher.account_count());
    Ok(())
}

/// Seconds between the periodic `-v` lines of a running watch.
const PACE_LOG_EVERY: Duration = Duration::from_secs(10);

/// Events between progress updates and clock checks.
const PACE_CHECK_EVERY: u64 = 1 << 12;

/// The pace of a watch, for the periodic `-v` lines (events, events/s,
/// flags, re-clusterings) and the progress spinner on a terminal.
struct Pace {
    started: Instant,
    /// When the last line was logged, and the events then.
    last: (Instant, u64),
    events: u64,
    /// Flags delivered (counted by whoever delivers them).
    flags: Arc<AtomicU64>,
    /// Re-clusterings finished, and the event the newest one saw.
    reclusters: u64,
    clustered_at: u64,
}

impl Pace {
    fn new() -> Self {
        progress::start("watch");
        let now = Instant::now();
        Self {
            started: now,
            last: (now, 0),
            events: 0,
            flags: Arc::default(),
            reclusters: 0,
            clustered_at: 0,
        }
    }

    /// Counts one applied event; now and then updates the spinner and,
    /// every [`PACE_LOG_EVERY`], logs the pace.
    fn event(&mut self, watcher: &Watcher) {
        self.events += 1;
        if !self.events.is_multiple_of(PACE_CHECK_EVERY) {
            return;
        }
        progress::advance("watch", "events", self.events, 0);
        self.note_recluster(watcher);
        if self.last.0.elapsed() >= PACE_LOG_EVERY {
            self.log(watcher.account_count(), "watch");
        }
    }

    fn note_recluster(&mut self, watcher: &Watcher) {
        let at = watcher.clustered_at();
        if at != self.clustered_at {
            self.clustered_at = at;
            self.reclusters += 1;
        }
    }

    fn log(&mut self, accounts: usize, message: &str) {
        let now = Instant::now();
        let secs = now.duration_since(self.last.0).as_secs_f64().max(1e-9);
        let rate = (self.events - self.last.1) as f64 / secs;
        tracing::info!(
            events = self.events,
            events_per_s = rate.round(),
            flags = self.flags.load(Ordering::Relaxed),
            reclusters = self.reclusters,
            accounts,
            secs = (self.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            "{message}"
        );
        self.last = (now, self.events);
    }

    /// Logs the totals at the end of the stream, when `accounts` had
    /// appeared (call it once the last flags are delivered).
    fn finish(mut self, accounts: usize) {
        progress::done("watch");
        self.last = (self.started, 0);
        self.log(accounts, "watch ended");
    }
}

enum Input {
    Record(Record),
    Failed(anyhow::Error),
}

/// The sequence number of the input's record `n` (1-based) when the input
/// starts at `first_seq`.
fn input_seq(first_seq: u64, n: u64) -> anyhow::Result<u64> {
    first_seq.checked_add(n - 1).ok_or_else(|| {
        exit::usage(format!(
            "--first-seq {first_seq}: record {n} of the input would be event {first_seq} + {}, \
             past the largest sequence number {}",
            n - 1,
            u64::MAX
        ))
    })
}

fn run_durable(
    args: &Args,
    dir: &std::path::Path,
    config: WatchConfig,
    format: Format,
    ingest: &IngestConfig,
) -> anyhow::Result<()> {
    let durability = DurabilityConfig::new().snapshot_every(args.snapshot_every);
    let pace = Pace::new();
    let delivered = Arc::clone(&pace.flags);
    let mut stdout = std::io::stdout();
    let mut line = Vec::with_capacity(4096);
    let mut watcher =
        DurableWatcher::open_with(dir, config, durability, move |flags: &[WatchFlag]| {
            line.clear();
            for f in flags {
                f.write_json_line(&mut line);
            }
            stdout.write_all(&line)?;
            stdout.flush()?;
            delivered.fetch_add(flags.len() as u64, Ordering::Relaxed);
            Ok(())
        })?;
    let mut pace = pace;
    if watcher.is_fresh()
        && let Some(events) = bootstrap_events(args)?
    {
        let n = watcher.bootstrap(&events)?;
        eprintln!("hydra watch: bootstrapped {n} events");
    }
    if watcher.torn_bytes() > 0 {
        eprintln!(
            "hydra watch: cut a torn final write of {} bytes off {} (written after the last \
             acknowledged event, so never acknowledged)",
            watcher.torn_bytes(),
            dir.join("log.bin").display()
        );
    }
    eprintln!("applied={}", watcher.applied());
    watcher.check_resume(args.first_seq)?;

    // A reader thread, so that a quiet input never delays a group commit.
    let (tx, rx) = mpsc::sync_channel::<Input>(8192);
    let ingest = ingest.clone();
    let first_seq = args.first_seq;
    let reader_thread = std::thread::spawn(move || {
        let stdin = std::io::stdin().lock();
        let mut reader = match EventReader::new(stdin, format, &ingest) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Input::Failed(e.into()));
                return;
            }
        };
        let mut skips = SkipReporter::default();
        while let Some(item) = reader.next() {
            let input = match item {
                Ok(mut record) => {
                    skips.report(reader.skipped(), false);
                    match input_seq(first_seq, record.seq) {
                        Ok(seq) => {
                            record.seq = seq;
                            Input::Record(record)
                        }
                        Err(e) => Input::Failed(e),
                    }
                }
                Err(e) => Input::Failed(e.into()),
            };
            if tx.send(input).is_err() {
                return;
            }
        }
        skips.report(reader.skipped(), true);
    });

    let result = (|| -> anyhow::Result<()> {
        loop {
            let input = match watcher.deadline() {
                None => match rx.recv() {
                    Ok(i) => i,
                    Err(_) => return Ok(()),
                },
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Ok(i) => i,
                        Err(RecvTimeoutError::Timeout) => {
                            watcher.tick()?;
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return Ok(()),
                    }
                }
            };
            match input {
                Input::Record(record) => {
                    watcher.apply(record.seq, &record.event)?;
                    pace.event(watcher.watcher());
                }
                Input::Failed(e) => return Err(e),
            }
        }
    })();
    pace.note_recluster(watcher.watcher());
    let accounts = watcher.watcher().account_count();
    // Whatever happened, make what was applied durable and delivered.
    let closed = watcher.close();
    pace.finish(accounts);
    drop(rx);
    if result.is_ok() {
        let _ = reader_thread.join();
    }
    result?;
    closed?;
    Ok(())
}
