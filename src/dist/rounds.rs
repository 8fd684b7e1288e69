//! Rounds of all-to-all exchange over timely: in each round every worker
//! sends what it has for each worker, then steps the dataflow until
//! timely's progress tracking says every message of the round has arrived
//! everywhere, and takes what was sent to it. The stages after reading are
//! written as such rounds (bulk-synchronous steps), each a function of what
//! the worker holds and what it received, so every worker takes the same
//! branch wherever all of them received the same broadcast.

use std::cell::RefCell;
use std::rc::Rc;

use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Input, Operator, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::worker::Worker;

use std::io;

use crate::error::{Error, Result};

use super::PARK;
use super::wire::Shuffle;

/// Items of one list sent in one message (bounds a message's size).
pub(crate) const CHUNK: usize = 1 << 16;

/// One worker's end of the exchange rounds.
pub(crate) struct Rounds {
    input: InputHandle<u64, CapacityContainerBuilder<Vec<(u32, Shuffle)>>>,
    probe: ProbeHandle<u64>,
    /// Messages received, with the round they were sent in: a worker may
    /// receive the next round's first messages before it sees the end of
    /// the round under way.
    inbox: Rc<RefCell<Vec<(u64, Shuffle)>>>,
    round: u64,
    me: usize,
    peers: usize,
    threads: usize,
    /// Encoded bytes sent to other processes in the round under way.
    sent: u64,
    /// What this worker reports with the round under way: an error that
    /// ends the run, and a count summed over all workers.
    error: Option<String>,
    count: u64,
    /// Per stage, in order: bytes sent to other processes.
    bytes: Vec<(String, u64)>,
}

impl Rounds {
    /// Builds the exchange's dataflow; every worker must call it at the
    /// same point of its dataflow construction (timely matches dataflows
    /// by the order they are built in). `threads` is the worker threads
    /// per process, to tell which messages leave the process.
    pub(crate) fn new(worker: &mut Worker, threads: usize) -> Rounds {
        let mut input = InputHandle::new();
        let probe = ProbeHandle::new();
        let inbox: Rc<RefCell<Vec<(u64, Shuffle)>>> = Rc::default();
        let sink = Rc::clone(&inbox);
        worker.dataflow::<u64, _, _>(|scope| {
            scope
                .input_from(&mut input)
                .unary::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
                    Exchange::new(|m: &(u32, Shuffle)| u64::from(m.0)),
                    "Round",
                    move |_, _| {
                        move |input, _output| {
                            input.for_each(|cap, batch| {
                                let round = cap.least().copied().unwrap_or_default();
                                sink.borrow_mut().extend(batch.drain(..).map(|(_, m)| (round, m)));
                            });
                        }
                    },
                )
                .probe_with(&probe);
        });
        Rounds {
            input,
            probe,
            inbox,
            round: 0,
            me: worker.index(),
            peers: worker.peers(),
            threads: threads.max(1),
            sent: 0,
            error: None,
            count: 0,
            bytes: Vec::new(),
        }
    }

    /// This worker's index.
    pub(crate) fn me(&self) -> usize {
        self.me
    }

    /// How many workers.
    pub(crate) fn peers(&self) -> usize {
        self.peers
    }

    /// Sends `msg` to worker `to` in the round under way.
    pub(crate) fn send(&mut self, to: usize, msg: Shuffle) {
        if to / self.threads != self.me / self.threads {
            self.sent += msg.encoded_len();
        }
        self.input.send((to as u32, msg));
    }

    /// Sends `msg` to every worker (itself included).
    pub(crate) fn broadcast(&mut self, msg: &Shuffle) {
        for to in 0..self.peers {
            self.send(to, msg.clone());
        }
    }

    /// Reports `message` with the round under way: every worker's
    /// [`Rounds::finish`] of this round then fails (with the message of the
    /// lowest-numbered failing worker), so all stop at the same round.
    pub(crate) fn fail(&mut self, message: impl Into<String>) {
        self.error.get_or_insert_with(|| message.into());
    }

    /// Fails the round under way with `message` and ends it: the error
    /// every worker's [`Rounds::finish`] of this round returns. For an
    /// error met between rounds: the others are then in their next round,
    /// which this ends for all of them.
    pub(crate) fn abort(&mut self, worker: &mut Worker, message: String) -> Error {
        self.fail(message.clone());
        match self.finish(worker, "abort") {
            Err(e) => e,
            Ok(_) => super::internal(message),
        }
    }

    /// Adds `n` to the round's count, which [`Rounds::finish`] sums over
    /// every worker.
    pub(crate) fn count(&mut self, n: u64) {
        self.count += n;
    }

    /// Ends the round: every worker's status (error, count) goes to every
    /// worker; waits until every worker's messages of the round have
    /// arrived, and returns those sent to this worker (in arrival order)
    /// with the count summed over all workers. The bytes this worker sent
    /// count towards `stage`.
    ///
    /// # Errors
    ///
    /// An I/O error with the failing worker's message if any worker
    /// reported one with [`Rounds::fail`] in this round (on every worker).
    pub(crate) fn finish(&mut self, worker: &mut Worker, stage: &str) -> Result<Round> {
        let status = Shuffle::Status {
            from: self.me as u32,
            error: self.error.take(),
            count: std::mem::take(&mut self.count),
        };
        self.broadcast(&status);
        self.round += 1;
        self.input.advance_to(self.round);
        while self.probe.less_than(&self.round) {
            worker.step_or_park(Some(PARK));
        }
        match self.bytes.last_mut() {
            Some((s, n)) if s == stage => *n += self.sent,
            _ => self.bytes.push((stage.to_owned(), self.sent)),
        }
        self.sent = 0;
        // This round's messages (earlier rounds' were taken before).
        let received: Vec<Shuffle> = {
            let mut inbox = self.inbox.borrow_mut();
            let (now, later) = std::mem::take(&mut *inbox)
                .into_iter()
                .partition::<Vec<_>, _>(|(round, _)| *round < self.round);
            *inbox = later;
            now.into_iter().map(|(_, m)| m).collect()
        };
        tracing::debug!(
            worker = self.me,
            round = self.round,
            stage,
            messages = received.len(),
            "round done"
        );
        let mut round = Round { messages: Vec::with_capacity(received.len()), count: 0 };
        let mut failed: Option<(u32, String)> = None;
        for msg in received {
            match msg {
                Shuffle::Status { from, error, count } => {
                    round.count += count;
                    if let Some(e) = error
                        && failed.as_ref().is_none_or(|(f, _)| from < *f)
                    {
                        failed = Some((from, e));
                    }
                }
                other => round.messages.push(other),
            }
        }
        match failed {
            Some((from, message)) => Err(Error::io(
                format!("worker {from}: {message}"),
                None,
                io::Error::other("a worker failed"),
            )),
            None => Ok(round),
        }
    }

    /// Bytes sent to other processes per stage so far.
    pub(crate) fn bytes(&self) -> &[(String, u64)] {
        &self.bytes
    }
}

/// What one worker received in one round.
#[derive(Debug)]
pub(crate) struct Round {
    /// The messages sent to it, in arrival order.
    pub(crate) messages: Vec<Shuffle>,
    /// The counts of every worker's [`Rounds::count`], summed.
    pub(crate) count: u64,
}

/// `list` cut into messages of at most [`CHUNK`] items, each made by
/// `wrap(seq, items)`.
pub(crate) fn chunks<T: Clone>(
    list: &[T],
    mut wrap: impl FnMut(u32, Vec<T>) -> Shuffle,
) -> impl Iterator<Item = Shuffle> {
    let mut out = Vec::new();
    for (seq, piece) in list.chunks(CHUNK).enumerate() {
        out.push(wrap(seq as u32, piece.to_vec()));
    }
    out.into_iter()
}
