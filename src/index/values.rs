//! The indicator side of the builder: interning values (and deriving each
//! address's `ip_prefix`), buffering observations, and activity minutes, on
//! a second thread for large inputs.
//!
//! # Overview
//!
//! The builder's hot path is two hash lookups per observation (account,
//! then value), each a cache miss or two on a large table. [`ValueSide`]
//! takes the second one off the caller's thread: observations are copied
//! into a [`Batch`] (account id, time, slot, value bytes), and full batches
//! either go through [`Stage::absorb`] on the spot or, from
//! `parallel_threshold` events on, to a worker thread that runs the same
//! function. The worker is a plain pipeline stage on its own `std` thread,
//! not a rayon task: the caller blocks when the bounded queue is full, which
//! on a one-thread rayon pool would deadlock a task waiting for that thread.
//!
//! Batches are absorbed in the order they were filled, so temporary ids are
//! the same either way; they never leave the builder anyway (final ids are
//! ranks in sorted key order).
//!
//! An `ip` observation comes as one entry, the address's canonical text:
//! its `ip_prefix` is derived and interned only the first time the address
//! is seen, then found by the address's id (1 M distinct addresses among
//! 3.5 M observations in the scale run), and the observation links both.
//! First and last seen and observation counts are noted by the caller,
//! which has the account's entry at hand.
//!
//! Capacity limits must be checked before an event changes anything, while
//! the worker's counts lag. [`ValueSide::has_room`] therefore bounds the
//! distinct values by what the worker reported plus every value queued
//! since (two per `ip` entry), which can refuse at most a few hundred thousand values before the
//! true limit of 2³² − 3, never after it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

use crate::event::{IndicatorKind, Timestamp};

use super::DEFAULT_ACTIVITY_CAP;
use super::interner::{Interner, pieces};
use super::postings::Observations;
use super::times::{Activity, minute_of};
use crate::ingest::normalize::{parse_ip, push_ip_prefix};

/// A batch is sent once it holds this many values...
const BATCH_ENTRIES: usize = 1 << 14;
/// ... or this many bytes of them.
const BATCH_BYTES: usize = 1 << 20;
/// Full batches queued for the worker before the caller waits.
const QUEUE: usize = 4;

/// One observed value waiting to be interned.
#[derive(Clone, Copy, Debug)]
struct Entry {
    account: u32,
    slot: u32,
    ts: Timestamp,
    /// End of the value in the batch's text (start: the previous end).
    end: usize,
    /// An `ip` observation (the value is the address's canonical text): it
    /// also links the address's `ip_prefix`.
    ip: bool,
}

/// Observed values, their bytes back to back.
#[derive(Debug, Default)]
struct Batch {
    entries: Vec<Entry>,
    text: String,
}

impl Batch {
    fn clear(&mut self) {
        self.entries.clear();
        self.text.clear();
    }

    fn is_full(&self) -> bool {
        self.entries.len() >= BATCH_ENTRIES || self.text.len() >= BATCH_BYTES
    }
}

/// The indicator values interned so far, the observation records, and
/// what observations say about each account.
#[derive(Debug)]
pub(crate) struct Stage {
    /// Keys `(slot, value)`; ids are temporary indicator ids.
    pub(crate) values: Interner,
    pub(crate) observations: Observations,
    pub(crate) activity: Activity,
    /// Temporary id of an `ip` value → temporary id of its `ip_prefix`
    /// ([`NO_PREFIX`] for other values and addresses not seen yet).
    prefix_of: Vec<u32>,
    /// Scratch: the ids of the batch being absorbed.
    ids: Vec<u32>,
    /// Scratch: the addresses new in the batch (temporary ids), and their
    /// prefixes' text back to back (ending at the given offsets).
    new_ips: Vec<(u32, usize)>,
    prefixes: String,
    prefix_ids: Vec<u32>,
}

/// [`Stage::prefix_of`] of a value that is not a known address.
const NO_PREFIX: u32 = u32::MAX;

impl Default for Stage {
    fn default() -> Self {
        Self {
            values: Interner::default(),
            observations: Observations::default(),
            activity: Activity::new(DEFAULT_ACTIVITY_CAP),
            prefix_of: Vec::new(),
            ids: Vec::new(),
            new_ips: Vec::new(),
            prefixes: String::new(),
            prefix_ids: Vec::new(),
        }
    }
}

impl Stage {
    /// Interns every value of `batch`, in order, and records the
    /// observations: each `ip` also links its `ip_prefix`, derived from the
    /// address the first time it is seen and then looked up by its id (an
    /// address repeats far more often than it is new).
    fn absorb(&mut self, batch: &Batch) {
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        let values = pieces(&batch.text, batch.entries.iter().map(|e| e.end));
        self.values.intern_all(batch.entries.iter().map(|e| e.slot).zip(values), &mut ids);
        if self.prefix_of.len() < self.values.len() {
            self.prefix_of.resize(self.values.len(), NO_PREFIX);
        }
        // Addresses new in this batch: their prefixes, interned together.
        self.new_ips.clear();
        self.prefixes.clear();
        let mut start = 0;
        for (e, &id) in batch.entries.iter().zip(&ids) {
            let text = &batch.text[start..e.end];
            start = e.end;
            if !e.ip || self.prefix_of[id as usize] != NO_PREFIX {
                continue;
            }
            // The caller wrote the canonical text of a valid address.
            let Some(ip) = parse_ip(text) else { continue };
            // Marks the address while its prefix is pending (no prefix id
            // reaches `u32::MAX - 1`, see `Interner::fits`).
            self.prefix_of[id as usize] = NO_PREFIX - 1;
            push_ip_prefix(ip, &mut self.prefixes);
            self.new_ips.push((id, self.prefixes.len()));
        }
        if !self.new_ips.is_empty() {
            let mut prefix_ids = std::mem::take(&mut self.prefix_ids);
            prefix_ids.clear();
            let texts = pieces(&self.prefixes, self.new_ips.iter().map(|&(_, end)| end));
            self.values.intern_all(texts.map(|t| (PREFIX_SLOT, t)), &mut prefix_ids);
            for (&(ip, _), &prefix) in self.new_ips.iter().zip(&prefix_ids) {
                self.prefix_of[ip as usize] = prefix;
            }
            self.prefix_ids = prefix_ids;
        }
        for (e, &id) in batch.entries.iter().zip(&ids) {
            self.observations.push(e.account, id, e.ts);
            if e.ip {
                let prefix = self.prefix_of[id as usize];
                if prefix < NO_PREFIX - 1 {
                    self.observations.push(e.account, prefix, e.ts);
                }
            }
            self.activity.push(e.account, minute_of(e.ts));
        }
        self.ids = ids;
    }
}

/// The slot of `ip_prefix` (its position in `IndicatorKind::BUILT_IN`).
const PREFIX_SLOT: u32 = match IndicatorKind::IpPrefix.built_in_index() {
    Some(slot) => slot as u32,
    None => panic!("ip_prefix is a built-in kind"),
};

/// Longest `ip_prefix` text (`ffff:ffff:ffff::/48` is 19 bytes), rounded up.
const MAX_PREFIX_LEN: usize = 32;

/// What the worker has absorbed so far, for [`ValueSide::has_room`].
#[derive(Debug, Default)]
struct Progress {
    /// Values absorbed (all batches up to some point), and their bytes.
    entries: AtomicU64,
    bytes: AtomicU64,
    /// Distinct keys and arena bytes of the interner at or after that point.
    keys: AtomicU64,
    arena: AtomicU64,
}

#[derive(Debug)]
enum Mode {
    /// Batches are absorbed on the caller's thread.
    Inline(Box<Stage>),
    /// Batches go to a worker thread, which hands them back empty.
    Worker {
        queue: SyncSender<Batch>,
        returned: Receiver<Batch>,
        handle: JoinHandle<Stage>,
        progress: Arc<Progress>,
    },
}

/// Indicator values and observations: absorbed in batches, on a worker
/// thread from the parallel threshold on.
#[derive(Debug)]
pub(crate) struct ValueSide {
    batch: Batch,
    mode: Mode,
    /// Values handed to the worker so far, and their bytes.
    sent_entries: u64,
    sent_bytes: u64,
    /// Set when a worker thread could not be started: do not try again.
    no_worker: bool,
}

impl Default for ValueSide {
    fn default() -> Self {
        Self {
            batch: Batch::default(),
            mode: Mode::Inline(Box::default()),
            sent_entries: 0,
            sent_bytes: 0,
            no_worker: false,
        }
    }
}

impl ValueSide {
    /// Queues one observation of `value` in `slot` by `account` at `ts`
    /// (`ip` for an address in canonical text, which also links its prefix).
    /// `events` is how many events the builder has taken: from
    /// `parallel_threshold` on, full batches go to the worker.
    #[inline]
    #[allow(clippy::too_many_arguments)] // One call site per kind of value; a struct would only rename them.
    pub(crate) fn push(
        &mut self,
        account: u32,
        slot: u32,
        ts: Timestamp,
        value: &str,
        ip: bool,
        events: u64,
        parallel_threshold: usize,
    ) {
        self.batch.text.push_str(value);
        let end = self.batch.text.len();
        self.batch.entries.push(Entry { account, slot, ts, end, ip });
        if self.batch.is_full() {
            self.flush(events >= parallel_threshold as u64);
        }
    }

    /// Hands the current batch on: to the worker (starting it if `parallel`
    /// and it is not running yet), else absorbs it here.
    fn flush(&mut self, parallel: bool) {
        if parallel && !self.no_worker && matches!(self.mode, Mode::Inline(_)) {
            self.start_worker();
        }
        match &mut self.mode {
            Mode::Inline(stage) => {
                stage.absorb(&self.batch);
                self.batch.clear();
            }
            Mode::Worker { queue, returned, .. } => {
                let mut next = returned.try_recv().unwrap_or_default();
                next.clear();
                let full = std::mem::replace(&mut self.batch, next);
                self.sent_entries += full.entries.len() as u64;
                self.sent_bytes += full.text.len() as u64;
                if let Err(failed) = queue.send(full) {
                    // The worker is gone (it panicked): absorb nothing more;
                    // `finish` re-raises its panic.
                    self.batch = failed.0;
                    self.batch.clear();
                }
            }
        }
    }

    /// Moves the inline stage to a worker thread. If the thread cannot be
    /// started, stays inline (same result, one thread).
    fn start_worker(&mut self) {
        let Mode::Inline(stage) = &mut self.mode else { return };
        let (queue, incoming) = sync_channel::<Batch>(QUEUE);
        let (give_back, returned) = channel::<Batch>();
        // The stage travels by channel once the thread runs, so a failed
        // spawn leaves it here.
        let (hand_over, take_over) = channel::<Stage>();
        let progress = Arc::new(Progress::default());
        let shared = Arc::clone(&progress);
        let spawned =
            std::thread::Builder::new().name("hydra-index-values".into()).spawn(move || {
                let mut stage = take_over.recv().unwrap_or_default();
                work(&mut stage, &incoming, &give_back, &shared);
                stage
            });
        match spawned {
            Ok(handle) => {
                let stage = std::mem::take(stage.as_mut());
                progress.keys.store(stage.values.len() as u64, Ordering::Relaxed);
                progress.arena.store(stage.values.arena_len() as u64, Ordering::Relaxed);
                // The thread is alive and waiting for it, so this cannot fail.
                let _ = hand_over.send(stage);
                self.mode = Mode::Worker { queue, returned, handle, progress };
            }
            Err(e) => {
                self.no_worker = true;
                tracing::debug!("index: no worker thread ({e}); interning on the caller's thread");
            }
        }
    }

    /// Whether `more` more values of at most `bytes` bytes in all can be
    /// added without passing the interner's limits (conservative while the
    /// worker lags).
    pub(crate) fn has_room(&self, more: usize, bytes: usize) -> bool {
        // An `ip` entry may add its prefix too: count two keys and the
        // longest prefix text per entry.
        let queued = 2 * self.batch.entries.len();
        let queued_bytes = self.batch.text.len() + self.batch.entries.len() * MAX_PREFIX_LEN;
        match &self.mode {
            Mode::Inline(stage) => Interner::fits(
                stage.values.len(),
                stage.values.arena_len(),
                queued + more,
                queued_bytes + bytes,
            ),
            Mode::Worker { progress, .. } => {
                // The worker publishes keys and arena, then bytes, then
                // entries, each after absorbing a batch; reading in the
                // opposite order, every later read is at least as recent as
                // the one before, so the bound can only be too high.
                let absorbed = progress.entries.load(Ordering::Acquire);
                let absorbed_bytes = progress.bytes.load(Ordering::Acquire);
                let keys = progress.keys.load(Ordering::Acquire) as usize;
                let arena = progress.arena.load(Ordering::Acquire) as usize;
                let in_flight = self.sent_entries.saturating_sub(absorbed) as usize;
                let in_flight_bytes = (self.sent_bytes.saturating_sub(absorbed_bytes) as usize)
                    .saturating_add(in_flight.saturating_mul(MAX_PREFIX_LEN));
                let in_flight = in_flight.saturating_mul(2);
                Interner::fits(
                    keys,
                    arena,
                    in_flight + queued + more,
                    in_flight_bytes + queued_bytes + bytes,
                )
            }
        }
    }

    /// Absorbs everything queued and returns the stage.
    ///
    /// # Panics
    ///
    /// Re-raises a panic of the worker thread (a bug).
    pub(crate) fn finish(mut self) -> Stage {
        match self.mode {
            Mode::Inline(mut stage) => {
                stage.absorb(&self.batch);
                *stage
            }
            Mode::Worker { queue, handle, returned, .. } => {
                let last = std::mem::take(&mut self.batch);
                // A send error means the worker died; join reports why.
                let _ = queue.send(last);
                drop(queue);
                drop(returned);
                match handle.join() {
                    Ok(stage) => stage,
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        }
    }
}

/// The worker: absorbs batches until the queue closes, handing each back.
fn work(
    stage: &mut Stage,
    incoming: &Receiver<Batch>,
    give_back: &Sender<Batch>,
    progress: &Progress,
) {
    for batch in incoming {
        stage.absorb(&batch);
        progress.keys.store(stage.values.len() as u64, Ordering::Release);
        progress.arena.store(stage.values.arena_len() as u64, Ordering::Release);
        progress.bytes.fetch_add(batch.text.len() as u64, Ordering::Release);
        progress.entries.fetch_add(batch.entries.len() as u64, Ordering::Release);
        // The builder may have finished already; then the batch is just dropped.
        let _ = give_back.send(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` observations over a few thousand values in three slots; slot 0
    /// holds addresses (`ip`), in a few dozen /24 prefixes.
    fn feed(side: &mut ValueSide, n: u64, threshold: usize) {
        for i in 0..n {
            let k = (i * 7919) % 5000;
            let (slot, ip) = ((i % 3) as u32, i % 3 == 0);
            let value =
                if ip { format!("10.{}.{}.{}", k % 3, k % 37, k % 250) } else { format!("v{k}") };
            side.push((i % 300) as u32, slot, i as i64, &value, ip, i, threshold);
        }
    }

    #[test]
    fn worker_and_inline_give_the_same_stage() {
        let n = 3 * BATCH_ENTRIES as u64 + 123;
        let mut inline = ValueSide::default();
        feed(&mut inline, n, usize::MAX);
        assert!(matches!(inline.mode, Mode::Inline(_)));
        let mut worker = ValueSide::default();
        feed(&mut worker, n, 1000);
        assert!(matches!(worker.mode, Mode::Worker { .. }));
        assert!(worker.has_room(2, 4096));
        let (a, b) = (inline.finish(), worker.finish());
        assert_eq!(a.values.len(), b.values.len());
        for id in 0..a.values.len() as u32 {
            assert_eq!((a.values.str(id), a.values.tag(id)), (b.values.str(id), b.values.tag(id)));
        }
        let ids: Vec<u32> = (0..300).collect();
        assert_eq!(a.activity.finish(&ids), b.activity.finish(&ids));
        let links = a.observations.into_merged();
        assert_eq!(links, b.observations.into_merged());
        // Every address also links its prefix: n observations plus one per ip.
        let ips = n.div_ceil(3);
        assert_eq!(links.iter().map(|r| u64::from(r.count)).sum::<u64>(), n + ips);
        // Each account's ip links and prefix links agree.
        for r in &links {
            if a.values.tag(r.indicator) != 0 {
                continue;
            }
            let ip = a.values.str(r.indicator);
            let prefix = format!("{}.0/24", &ip[..ip.rfind('.').unwrap()]);
            let p = a.values.get(PREFIX_SLOT, &prefix).unwrap();
            assert!(links.iter().any(|q| (q.account, q.indicator) == (r.account, p)), "{prefix}");
        }
    }

    #[test]
    fn room_is_bounded_by_the_limits() {
        let side = ValueSide::default();
        assert!(side.has_room(2, 4096));
        assert!(!side.has_room(u32::MAX as usize, 0));
        assert!(!side.has_room(1, usize::MAX));
    }
}
