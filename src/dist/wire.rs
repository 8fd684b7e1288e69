//! What workers send each other: events, each worker's shard report, and
//! the run's outcome. Serialized by timely (bincode) between processes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::InputProblem;
use crate::event::{Action, Event, Indicator};

/// One validated event, in the form it travels in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct WireEvent {
    ts: i64,
    account: String,
    action: WireAction,
}

/// [`Action`], serializable.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum WireAction {
    Signup,
    Observe(Indicator),
    Ban(Option<String>),
    Unban,
}

impl From<Event> for WireEvent {
    fn from(e: Event) -> Self {
        let action = match e.action {
            Action::Signup => WireAction::Signup,
            Action::Observe(ind) => WireAction::Observe(ind),
            Action::Ban { reason } => WireAction::Ban(reason),
            Action::Unban => WireAction::Unban,
        };
        WireEvent { ts: e.ts, account: e.account, action }
    }
}

impl From<WireEvent> for Event {
    fn from(w: WireEvent) -> Self {
        let action = match w.action {
            WireAction::Signup => Action::Signup,
            WireAction::Observe(ind) => Action::Observe(ind),
            WireAction::Ban(reason) => Action::Ban { reason },
            WireAction::Unban => Action::Unban,
        };
        Event { ts: w.ts, account: w.account, action }
    }
}

impl WireEvent {
    /// Its size in bincode's default encoding (what crosses the network,
    /// before timely's message headers): 4-byte enum tags, 8-byte lengths.
    pub(crate) fn encoded_len(&self) -> u64 {
        let string = |s: &str| 8 + s.len() as u64;
        let action = 4 + match &self.action {
            WireAction::Signup | WireAction::Unban => 0,
            WireAction::Observe(ind) => string(ind.kind.as_str()) + string(&ind.value),
            WireAction::Ban(reason) => 1 + reason.as_deref().map_or(0, string),
        };
        // Msg tag + ts + account + action.
        4 + 8 + string(&self.account) + action
    }
}

/// A message on the gather stream.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Msg {
    /// An event read from a shard.
    Event(WireEvent),
    /// A worker has read its whole shard (or stopped at an error).
    Done(Box<ShardReport>),
}

/// One contiguous part of one input file that a worker read.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Part {
    /// Position of the file among the inputs.
    pub(crate) file: usize,
    /// First byte read (0 for a whole file).
    pub(crate) start: u64,
    /// Line feeds in the bytes read (not counting a prepended CSV header),
    /// for turning later parts' line numbers into the file's.
    pub(crate) newlines: u64,
    /// Whether the file's CSV header was read before `start` (so the part's
    /// local line 1 is the header and its records start at local line 2).
    pub(crate) header_prepended: bool,
}

/// An error a worker met in its part, with the line local to the part.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PartError {
    /// The part (index into [`ShardReport::parts`]).
    pub(crate) part: usize,
    /// For an input error: the line local to the part and the problem key.
    pub(crate) input: Option<(u64, String)>,
    /// What is wrong (an input error's message, without its line).
    pub(crate) message: String,
}

/// What one worker read, sent to worker 0 after its last event.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ShardReport {
    /// The worker's index.
    pub(crate) worker: usize,
    /// Its process.
    pub(crate) process: usize,
    pub(crate) parts: Vec<Part>,
    /// Events read and sent.
    pub(crate) events: u64,
    /// Input bytes read (after decompression).
    pub(crate) bytes_read: u64,
    /// Encoded bytes of the events it sent to a worker in another process.
    pub(crate) bytes_sent_remote: u64,
    /// Seconds spent reading and sending.
    pub(crate) read_secs: f64,
    /// Its process's peak resident memory when the worker finished (bytes; 0 if unknown).
    pub(crate) peak_rss: u64,
    /// Skipped rows (lenient mode) by problem key.
    pub(crate) skipped: BTreeMap<String, u64>,
    /// Examples of skipped rows: part, local line, message without its line.
    pub(crate) skipped_examples: Vec<(usize, u64, String)>,
    /// The error that stopped the worker, if any.
    pub(crate) error: Option<PartError>,
    /// Lenient reading: the first part of this worker without one valid
    /// record (an error only if no worker read a valid record).
    pub(crate) no_valid: Option<PartError>,
}

/// The problem whose key is `key` (see [`InputProblem::as_str`]).
pub(crate) fn problem_from_key(key: &str) -> InputProblem {
    PROBLEMS.into_iter().find(|p| p.as_str() == key).unwrap_or(InputProblem::Syntax)
}

/// Every input problem, for [`problem_from_key`].
const PROBLEMS: [InputProblem; 11] = [
    InputProblem::Header,
    InputProblem::Syntax,
    InputProblem::Encoding,
    InputProblem::Timestamp,
    InputProblem::Account,
    InputProblem::Event,
    InputProblem::Kind,
    InputProblem::Value,
    InputProblem::Reason,
    InputProblem::Ip,
    InputProblem::TooLong,
];

/// `"line 12: bad ts"` → `(12, "bad ts")`, as the reader formats input errors.
pub(crate) fn split_line(message: &str) -> Option<(u64, &str)> {
    let rest = message.strip_prefix("line ")?;
    let (number, text) = rest.split_once(": ")?;
    Some((number.parse().ok()?, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::IndicatorKind;

    #[test]
    fn events_round_trip_and_problem_keys_parse() {
        let events = [
            Event::signup(5, "a"),
            Event::observe(6, "a", IndicatorKind::Custom("ja4".into()), "x"),
            Event::ban(7, "a", Some("spam".into())),
            Event::ban(8, "a", None),
            Event::unban(9, "a"),
        ];
        for e in events {
            let w = WireEvent::from(e.clone());
            assert!(w.encoded_len() >= 4 + 8 + 9 + 4);
            assert_eq!(Event::from(w), e);
        }
        for p in PROBLEMS {
            assert_eq!(problem_from_key(p.as_str()), p);
        }
        assert_eq!(split_line("line 12: bad ts"), Some((12, "bad ts")));
        assert_eq!(split_line("no line"), None);
    }
}
