//! [`DurableWatcher`]: a [`Watcher`] whose applied events survive crashes.
//!
//! The calling thread applies events and encodes them into a batch; a writer
//! thread appends each batch to the log, fsyncs it, and only then writes the
//! batch's flags to the output (group commit: a batch is closed after
//! `commit_events` events or `commit_interval` since its first event,
//! whichever comes first). After flags are written, a *printed* marker goes
//! into the log, so recovery knows which flags were already delivered.
//! Every `snapshot_every` events the state is snapshotted atomically and the
//! log restarted after it.
//!
//! After each fsync of the log, and before the batch's flags are printed,
//! the acknowledgement record (`ack.bin`, see `ack.rs`) stores the last
//! durable event and the last event whose flags were printed, so the state
//! knows what it acknowledged whatever happens to the log later.
//!
//! Recovery: load the snapshot, replay the log after it, re-deliver the
//! flags of durable events that came after the last printed marker (they
//! were never written out), and report `applied`, the last event sequence
//! number held. Damage at the end of the log *after* the acknowledged
//! events is a torn final write, never acknowledged: it is cut off and
//! reported ([`DurableWatcher::torn_bytes`]). A log that holds fewer events
//! than were acknowledged (cut, zeroed, deleted) is lost acknowledged data:
//! opening refuses with an error naming the file, rather than announce
//! flags a second time or silently forget events. A SIGKILL between writing
//! flags and writing their marker re-delivers those flags once: delivery is
//! exactly-once except in that window of one `write` call, where it is
//! at-least-once (no flag is ever lost).
//!
//! One watcher at a time: the directory is locked (see `lock.rs`) while a
//! `DurableWatcher` lives; a second one is refused with an error naming the
//! holder, and the lock of a killed process is released by the system.
//!
//! Resending: events offered again (sequence numbers already applied) are
//! compared with the events logged since the last snapshot (a checksum of
//! each is kept, 16 bytes an event, so at most `snapshot_every` × 16 bytes); one that
//! differs is an error, as the producer is not resending the same stream
//! from where it says (e.g. the tail resent numbered from 1).

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::ack::{self, ACK_FILE, Ack, AckFile};
use super::lock;
use super::log::{self, LOG_FILE, Record};
use super::snapshot::{self, SNAPSHOT_FILE};
use super::{WatchConfig, WatchFlag, Watcher};
use crate::error::{Error, Result};
use crate::event::Event;

/// Durability knobs of a [`DurableWatcher`].
///
/// # Defaults
///
/// | knob | default |
/// |------|---------|
/// | `commit_interval` | 10 ms |
/// | `commit_events` | 10,000 |
/// | `snapshot_every` | 1,000,000 events |
#[derive(Clone, Debug, PartialEq)]
pub struct DurabilityConfig {
    commit_interval: Duration,
    commit_events: usize,
    snapshot_every: u64,
}

impl Default for DurabilityConfig {
    fn default() -> Self {
        Self {
            commit_interval: Duration::from_millis(10),
            commit_events: 10_000,
            snapshot_every: 1_000_000,
        }
    }
}

impl DurabilityConfig {
    /// The defaults (see the table above).
    pub fn new() -> Self {
        Self::default()
    }

    /// Longest time an applied event waits for its fsync.
    pub fn commit_interval(mut self, interval: Duration) -> Self {
        self.commit_interval = interval;
        self
    }

    /// Most events in one group commit (at least 1).
    pub fn commit_events(mut self, events: usize) -> Self {
        self.commit_events = events.max(1);
        self
    }

    /// Events between snapshots (at least 1).
    pub fn snapshot_every(mut self, events: u64) -> Self {
        self.snapshot_every = events.max(1);
        self
    }

    /// Longest time an applied event waits for its fsync.
    pub fn get_commit_interval(&self) -> Duration {
        self.commit_interval
    }

    /// Most events in one group commit.
    pub fn get_commit_events(&self) -> usize {
        self.commit_events
    }

    /// Events between snapshots.
    pub fn get_snapshot_every(&self) -> u64 {
        self.snapshot_every
    }
}

/// What happened to an offered event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Applied (and queued for the log).
    Applied,
    /// Skipped: its sequence number was already applied before a restart.
    AlreadyApplied,
}

/// Where delivered flags go (on the writer thread).
type Sink = Box<dyn FnMut(&[WatchFlag]) -> std::io::Result<()> + Send>;

enum Message {
    Batch { log: Vec<u8>, flags: Vec<WatchFlag>, last_seq: u64 },
    Snapshot { image: Vec<u8>, seq: u64 },
}

/// A [`Watcher`] with a state directory (see the [crate docs](crate)).
pub struct DurableWatcher {
    watcher: Watcher,
    dir: PathBuf,
    durability: DurabilityConfig,
    applied: u64,
    fresh: bool,
    batch_log: Vec<u8>,
    batch_flags: Vec<WatchFlag>,
    batch_events: usize,
    batch_started: Option<Instant>,
    since_snapshot: u64,
    flags: Vec<WatchFlag>,
    /// `(seq, fingerprint)` of every event in the log since the last
    /// snapshot, by seq: resent events are checked against them.
    logged: Vec<(u64, u32)>,
    /// Bytes of a torn final write cut off the log when it was opened.
    torn_bytes: u64,
    /// Encoding scratch for fingerprints of resent events.
    scratch: Vec<u8>,
    tx: Option<SyncSender<Message>>,
    writer: Option<JoinHandle<Result<()>>>,
    /// Held while the watcher lives: one watcher per state directory.
    _lock: File,
}

impl std::fmt::Debug for DurableWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableWatcher")
            .field("dir", &self.dir)
            .field("applied", &self.applied)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

/// Wraps an I/O error with the file it concerns.
fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io(format!("cannot {what} {}", path.display()), Some(path.into()), e)
}

impl DurableWatcher {
    /// Opens (or creates) the state directory `dir`, recovers the state, and
    /// delivers to `sink` the flags of durable events that were never written
    /// out. Flags from then on go to `sink` as JSON lines, each batch flushed
    /// once its events are durable. [`DurableWatcher::open_with`] hands them
    /// out as [`WatchFlag`]s instead.
    ///
    /// # Errors
    ///
    /// [`Error::state`] naming the file for a directory in use by another
    /// watcher (`lock`), a corrupted record in the middle of the log, a log
    /// holding fewer events than were acknowledged (cut, zeroed, deleted), a
    /// missing or damaged acknowledgement record (`ack.bin`), a bad
    /// snapshot, a version mismatch, or a log that does not continue the
    /// snapshot; [`Error::io`] for file-system failures; [`Error::config`]
    /// for a bad `config`.
    pub fn open(
        dir: &Path,
        config: WatchConfig,
        durability: DurabilityConfig,
        mut sink: Box<dyn Write + Send>,
    ) -> Result<Self> {
        let mut line = Vec::new();
        Self::open_with(dir, config, durability, move |flags: &[WatchFlag]| {
            line.clear();
            for f in flags {
                f.write_json_line(&mut line);
            }
            sink.write_all(&line)?;
            sink.flush()
        })
    }

    /// Like [`DurableWatcher::open`], but hands the flags to `deliver` as
    /// [`WatchFlag`]s, a batch at a time, once their events are durable (and
    /// first, within this call, those of durable events never delivered
    /// before). From then on `deliver` runs on the watcher's writer thread;
    /// an error it returns stops the watcher (the next call reports it) and
    /// the batch counts as not delivered, so a restart delivers it again.
    ///
    /// # Errors
    ///
    /// As [`DurableWatcher::open`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use hydra_detect::{DurabilityConfig, DurableWatcher, Event, WatchConfig, WatchFlag};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let seen: Arc<Mutex<Vec<WatchFlag>>> = Arc::default();
    /// let sink = Arc::clone(&seen);
    /// let mut watcher = DurableWatcher::open_with(
    ///     dir.path(),
    ///     WatchConfig::new(),
    ///     DurabilityConfig::new(),
    ///     move |flags: &[WatchFlag]| {
    ///         sink.lock().unwrap().extend_from_slice(flags);
    ///         Ok(())
    ///     },
    /// )?;
    /// watcher.apply(1, &Event::signup(1_767_225_600, "a-1"))?;
    /// watcher.close()?;
    /// assert!(seen.lock().unwrap().is_empty(), "a signup alone flags nobody");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_with(
        dir: &Path,
        config: WatchConfig,
        durability: DurabilityConfig,
        deliver: impl FnMut(&[WatchFlag]) -> std::io::Result<()> + Send + 'static,
    ) -> Result<Self> {
        let mut sink: Sink = Box::new(deliver);
        std::fs::create_dir_all(dir).map_err(|e| io_err("create", dir, e))?;
        let lock = lock::acquire(dir)?;
        let snap_path = dir.join(SNAPSHOT_FILE);
        let log_path = dir.join(LOG_FILE);
        let ack_path = dir.join(ACK_FILE);
        let acked = ack::read(&ack_path)?;
        let (mut watcher, snap_applied, has_snapshot) = if snap_path.exists() {
            let loaded = snapshot::load(&snap_path)?;
            let applied = loaded.applied;
            (Watcher::from_snapshot(config, loaded, &snap_path)?, applied, true)
        } else {
            (Watcher::new(config)?, 0, false)
        };
        let read = if log_path.exists() { Some(log::read(&log_path)?) } else { None };
        check_files(read.as_ref(), acked, has_snapshot, snap_applied, dir)?;
        let mut applied = snap_applied;
        let mut printed = snap_applied;
        let mut recovered = Vec::new();
        let mut logged = Vec::new();
        let mut scratch = Vec::new();
        let mut torn_bytes = 0;
        if let Some(read) = &read {
            printed = read
                .records
                .iter()
                .filter_map(|r| match r {
                    Record::Printed { seq } => Some(*seq),
                    Record::Event { .. } => None,
                })
                .fold(read.base.max(snap_applied), u64::max);
            let mut flags = Vec::new();
            for record in &read.records {
                let Record::Event { seq, event } = record else { continue };
                logged.push((*seq, log::fingerprint(&mut scratch, event)));
                if *seq <= applied {
                    continue;
                }
                flags.clear();
                watcher.apply_into(*seq, event, &mut flags).map_err(|e| {
                    Error::state(&log_path, format!("cannot replay event {seq}: {e}"))
                })?;
                if *seq > printed.max(acked.map_or(0, |a| a.printed)) {
                    recovered.append(&mut flags);
                }
                applied = *seq;
            }
            torn_bytes = read.file_len - read.valid_len;
        }
        if let Some(a) = acked {
            if applied < a.acked {
                return Err(Error::state(
                    &log_path,
                    format!(
                        "holds events up to {applied}, but events up to {} were acknowledged: \
                         acknowledged events are lost (the log was cut, zeroed or damaged); \
                         restore the state directory from a backup, or move it aside to start \
                         afresh",
                        a.acked
                    ),
                ));
            }
            printed = printed.max(a.printed);
        }
        // The record first: a log never holds events the record does not know.
        let mut ack_file = AckFile::create(&ack_path, Ack { acked: applied, printed })?;
        let mut file = open_log(dir, read.as_ref(), snap_applied)?;
        if !recovered.is_empty() {
            // The recovered events are durable now (synced above): deliver
            // their flags, then record that they were.
            sink(&recovered).map_err(|e| Error::io("cannot write recovered flags", None, e))?;
            let mut marker = Vec::new();
            log::append_printed(&mut marker, applied);
            file.write_all(&marker).map_err(|e| io_err("write", &log_path, e))?;
        }
        ack_file.store(Ack { acked: applied, printed: applied }, true)?;
        let fresh = !has_snapshot && logged.is_empty();
        let (tx, rx) = sync_channel(64);
        let writer_dir = dir.to_owned();
        let writer = std::thread::Builder::new()
            .name("hydra-watch-log".into())
            .spawn(move || write_loop(rx, file, ack_file, writer_dir, sink))
            .map_err(|e| Error::io("cannot start the log writer thread", None, e))?;
        Ok(Self {
            watcher,
            dir: dir.to_owned(),
            durability,
            applied,
            fresh,
            batch_log: Vec::new(),
            batch_flags: Vec::new(),
            batch_events: 0,
            batch_started: None,
            since_snapshot: 0,
            flags: Vec::new(),
            logged,
            torn_bytes,
            scratch,
            tx: Some(tx),
            writer: Some(writer),
            _lock: lock,
        })
    }

    /// Bytes of a torn final write (damage after the last acknowledged
    /// event, never acknowledged) cut off the log when it was opened; 0 if
    /// the log ended cleanly.
    pub fn torn_bytes(&self) -> u64 {
        self.torn_bytes
    }

    /// Checks that a producer resuming at event `first` leaves no gap after
    /// the events applied: `first` must be at most `applied() + 1`.
    ///
    /// # Errors
    ///
    /// [`Error::invalid_argument`] naming the missing events.
    pub fn check_resume(&self, first: u64) -> Result<()> {
        if first <= self.applied.saturating_add(1) {
            return Ok(());
        }
        Err(Error::invalid_argument(format!(
            "the stream resumes at event {first}, but the state has applied events up to {}: \
             events {} to {} would be missing; resend from event {} (--first-seq {})",
            self.applied,
            self.applied + 1,
            first - 1,
            self.applied + 1,
            self.applied + 1
        )))
    }

    /// Last event sequence number applied (and, once committed, durable).
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// Whether the state directory held nothing (no snapshot, no logged
    /// event) when opened: the time to apply a bootstrap.
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// The watcher (read-only: events go through [`apply`](Self::apply)).
    pub fn watcher(&self) -> &Watcher {
        &self.watcher
    }

    /// Applies historical `events` without logging them or announcing
    /// flags, then snapshots, so the bootstrap is durable. Meant for a fresh
    /// state (see [`is_fresh`](Self::is_fresh)).
    ///
    /// # Errors
    ///
    /// The first invalid event, or a failure writing the snapshot.
    pub fn bootstrap<'a>(&mut self, events: impl IntoIterator<Item = &'a Event>) -> Result<u64> {
        let mut n = 0;
        for (i, event) in events.into_iter().enumerate() {
            self.flags.clear();
            self.watcher.apply_into(i as u64 + 1, event, &mut self.flags)?;
            n += 1;
        }
        self.flags.clear();
        self.fresh = false;
        self.snapshot()?;
        Ok(n)
    }

    /// Applies the event at input position `seq`, unless `seq` was already
    /// applied (a producer resending after a restart). Its flags are
    /// delivered once it is durable.
    ///
    /// # Errors
    ///
    /// An invalid event (nothing changes); an already applied `seq` whose
    /// event differs from the one logged ([`Error::invalid_argument`]: the
    /// stream is not resent from where its numbers say); or a failure of
    /// the writer thread (I/O error on the log or the output).
    pub fn apply(&mut self, seq: u64, event: &Event) -> Result<ApplyOutcome> {
        if seq <= self.applied {
            self.check_resent(seq, event)?;
            return Ok(ApplyOutcome::AlreadyApplied);
        }
        self.flags.clear();
        self.watcher.apply_into(seq, event, &mut self.flags)?;
        self.fresh = false;
        let start = self.batch_log.len();
        log::append_event(&mut self.batch_log, seq, event);
        self.logged.push((seq, log::frame_fingerprint(&self.batch_log[start..])));
        self.batch_flags.append(&mut self.flags);
        self.applied = seq;
        self.batch_events += 1;
        self.since_snapshot += 1;
        let started = *self.batch_started.get_or_insert_with(Instant::now);
        if self.since_snapshot >= self.durability.snapshot_every {
            self.snapshot()?;
        } else if self.batch_events >= self.durability.commit_events
            || started.elapsed() >= self.durability.commit_interval
        {
            self.commit()?;
        }
        Ok(ApplyOutcome::Applied)
    }

    /// Checks a resent event (`seq` already applied) against the logged one.
    fn check_resent(&mut self, seq: u64, event: &Event) -> Result<()> {
        let Ok(i) = self.logged.binary_search_by_key(&seq, |&(s, _)| s) else {
            // Before the last snapshot, or a line the input skipped: no record.
            return Ok(());
        };
        if self.logged[i].1 == log::fingerprint(&mut self.scratch, event) {
            return Ok(());
        }
        Err(Error::invalid_argument(format!(
            "event {seq} as resent differs from event {seq} in the state's log: the stream is \
             not resent from where its sequence numbers say (the state has applied events up to \
             {}; resend the stream from event 1, or from event {} with --first-seq {})",
            self.applied,
            self.applied + 1,
            self.applied + 1
        )))
    }

    /// When the open batch must be committed, if one is open: callers that
    /// wait for input should wake up then and call [`tick`](Self::tick).
    pub fn deadline(&self) -> Option<Instant> {
        self.batch_started.map(|t| t + self.durability.commit_interval)
    }

    /// Commits the open batch if its deadline has passed.
    ///
    /// # Errors
    ///
    /// A failure of the writer thread.
    pub fn tick(&mut self) -> Result<()> {
        match self.deadline() {
            Some(d) if Instant::now() >= d => self.commit(),
            _ => Ok(()),
        }
    }

    /// Hands the open batch to the writer thread.
    ///
    /// # Errors
    ///
    /// A failure of the writer thread.
    pub fn commit(&mut self) -> Result<()> {
        if self.batch_events == 0 {
            self.batch_started = None;
            return Ok(());
        }
        let message = Message::Batch {
            log: std::mem::take(&mut self.batch_log),
            flags: std::mem::take(&mut self.batch_flags),
            last_seq: self.applied,
        };
        self.batch_events = 0;
        self.batch_started = None;
        self.send(message)
    }

    /// Commits, then writes a snapshot and restarts the log after it.
    ///
    /// # Errors
    ///
    /// A failure of the writer thread.
    pub fn snapshot(&mut self) -> Result<()> {
        self.commit()?;
        let image = self.watcher.snapshot_image(self.applied);
        self.since_snapshot = 0;
        self.logged.clear();
        self.send(Message::Snapshot { image, seq: self.applied })
    }

    fn send(&mut self, message: Message) -> Result<()> {
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(message).is_ok());
        if sent {
            return Ok(());
        }
        // The writer stopped: report why.
        self.tx = None;
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => Err(e),
            _ => Err(Error::io(
                "the log writer thread stopped",
                Some(self.dir.clone()),
                std::io::Error::other("writer thread ended"),
            )),
        }
    }

    /// Commits everything, waits until it is durable and delivered, and
    /// stops the writer thread.
    ///
    /// # Errors
    ///
    /// A failure of the writer thread.
    pub fn close(mut self) -> Result<()> {
        self.commit()?;
        self.tx = None;
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(Error::io(
                "the log writer thread panicked",
                Some(self.dir.clone()),
                std::io::Error::other("panic"),
            )),
            None => Ok(()),
        }
    }
}

/// Opens the log `read` was read from, cutting off its torn final write
/// (never acknowledged, so never applied), or creates an empty one
/// continuing after event `snap_applied`; positioned at its end.
fn open_log(dir: &Path, read: Option<&log::ReadLog>, snap_applied: u64) -> Result<File> {
    let path = dir.join(LOG_FILE);
    let mut file = match read {
        Some(read) => {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(|e| io_err("open", &path, e))?;
            if read.valid_len < read.file_len {
                file.set_len(read.valid_len).map_err(|e| io_err("truncate", &path, e))?;
            }
            file.sync_all().map_err(|e| io_err("sync", &path, e))?;
            file
        }
        None => {
            snapshot::write_atomic(dir, LOG_FILE, &log::header(snap_applied))?;
            OpenOptions::new().append(true).open(&path).map_err(|e| io_err("open", &path, e))?
        }
    };
    file.seek(SeekFrom::End(0)).map_err(|e| io_err("seek", &path, e))?;
    Ok(file)
}

/// Refuses a state directory whose files contradict each other: a log
/// deleted after events were acknowledged, or an acknowledgement record
/// deleted beside a log that needs one.
fn check_files(
    read: Option<&log::ReadLog>,
    acked: Option<Ack>,
    has_snapshot: bool,
    snap_applied: u64,
    dir: &Path,
) -> Result<()> {
    match (read, acked) {
        (None, Some(a)) if a.acked > snap_applied => Err(Error::state(
            dir.join(LOG_FILE),
            format!(
                "is missing, but events up to {} were acknowledged (the snapshot holds {}): \
                 acknowledged events are lost; restore the state directory from a backup, or \
                 move it aside to start afresh",
                a.acked, snap_applied
            ),
        )),
        (None, None) if has_snapshot => Err(Error::state(
            dir.join(LOG_FILE),
            "is missing beside a snapshot: the events logged after the snapshot may be lost; \
             restore the state directory from a backup, or move it aside to start afresh",
        )),
        (Some(r), None) if r.version >= 2 => Err(Error::state(
            dir.join(ACK_FILE),
            "is missing: without it a torn final write cannot be told from lost acknowledged \
             events; restore the state directory from a backup, or move it aside to start afresh",
        )),
        _ => Ok(()),
    }
}

impl Drop for DurableWatcher {
    fn drop(&mut self) {
        // Best effort: make what was applied durable and delivered.
        let _ = self.commit();
        self.tx = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

fn write_loop(
    rx: Receiver<Message>,
    mut file: File,
    mut ack: AckFile,
    dir: PathBuf,
    mut sink: Sink,
) -> Result<()> {
    let log_path = dir.join(LOG_FILE);
    let mut marker = Vec::with_capacity(16);
    for message in rx {
        match message {
            Message::Batch { log, flags, last_seq } => {
                file.write_all(&log).map_err(|e| io_err("write", &log_path, e))?;
                file.sync_data().map_err(|e| io_err("sync", &log_path, e))?;
                // Acknowledged: durable, and recorded as such before any
                // of its flags is printed.
                let printed = if flags.is_empty() { last_seq } else { ack.current().printed };
                ack.store(Ack { acked: last_seq, printed }, true)?;
                if !flags.is_empty() {
                    sink(&flags).map_err(|e| Error::io("cannot write flags", None, e))?;
                    marker.clear();
                    log::append_printed(&mut marker, last_seq);
                    file.write_all(&marker).map_err(|e| io_err("write", &log_path, e))?;
                    ack.store(Ack { acked: last_seq, printed: last_seq }, false)?;
                }
            }
            Message::Snapshot { image, seq } => {
                file.sync_data().map_err(|e| io_err("sync", &log_path, e))?;
                snapshot::write_atomic(&dir, SNAPSHOT_FILE, &image)?;
                snapshot::write_atomic(&dir, LOG_FILE, &log::header(seq))?;
                file = OpenOptions::new()
                    .append(true)
                    .open(&log_path)
                    .map_err(|e| io_err("open", &log_path, e))?;
            }
        }
    }
    file.sync_data().map_err(|e| io_err("sync", &log_path, e))?;
    Ok(())
}
