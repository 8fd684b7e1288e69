//! What workers send each other: events, each worker's shard report, and
//! the run's outcome. Serialized by timely (bincode) between processes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::InputProblem;
use crate::event::{Action, Event, Indicator};
use crate::graph::{Counters, KindMask};

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

/// A message of one round of the stages after reading (see `rounds`).
/// Ids are global account ids (ranks of the account names, as the index
/// assigns them); `from` is the sending worker; `seq` orders the chunks
/// of one long list.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Shuffle {
    /// To every worker after reading: the kinds of the indicators the
    /// sender owns, and a sample of the account names it read (sorted),
    /// from which every worker picks the same range splitters.
    Hello { kinds: Vec<String>, samples: Vec<String> },
    /// Account names in the receiver's range, sorted: names the sender read
    /// (`ask` false), or the names of its indicators' holders whose ids it
    /// asks for (`ask` true).
    Names { from: u32, ask: bool, seq: u32, names: Vec<String> },
    /// To every worker: how many distinct account names the sender's range holds.
    Count { from: u32, count: u64 },
    /// The ids of the names the receiver asked the sender for, in order.
    Ids { from: u32, seq: u32, ids: Vec<u32> },
    /// Merged pair contributions `(a, b, kind, units)`, to the owner of `a`.
    Pairs(Vec<[u32; 4]>),
    /// Summed edges `(a, b, units)`, to the owner of `b` (for its top-k).
    Incident(Vec<(u32, u32, u64)>),
    /// Edges `(a, b)` that `b`'s top-k keeps, to the owner of `a`.
    KeptAtB(Vec<(u32, u32)>),
    /// Kept edges `(a, b)`, to the owner of `b` (its side of the adjacency).
    Reverse(Vec<(u32, u32)>),
    /// Label propagation: `(node, label)` to the node's owner.
    Labels(Vec<(u32, u32)>),
    /// To every worker at the end of every round: whether the sender
    /// failed (and why), and its count for the round.
    Status { from: u32, error: Option<String>, count: u64 },
    /// Component sizes `(label, accounts)` to the label's owner.
    Sizes(Vec<(u32, u64)>),
    /// Kept edges `(a, b, units, kinds)` of the sender's range, to worker 0.
    Graph { from: u32, seq: u32, edges: Vec<(u32, u32, u64, KindMask)> },
    /// The sender's figures, to worker 0, after its last edges.
    Report(Box<GraphReport>),
}

/// What one worker did after reading, sent to worker 0.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct GraphReport {
    pub(crate) worker: usize,
    /// The projection's counters for the indicators the worker owns, by
    /// global kind.
    pub(crate) counters: Counters,
    /// Indicators the worker owns, and links to them.
    pub(crate) indicators: u64,
    pub(crate) links: u64,
    /// Summed edges of its range before and after top-k.
    pub(crate) candidate_edges: u64,
    pub(crate) edges: u64,
    /// Connected parts of two or more accounts whose smallest account is in
    /// its range, the largest one's size, and how many accounts they hold.
    pub(crate) parts: u64,
    pub(crate) largest_part: u64,
    pub(crate) accounts_in_parts: u64,
    /// Label propagation rounds.
    pub(crate) rounds: u64,
    /// Per stage after reading: encoded bytes it sent to other processes.
    pub(crate) bytes_remote: Vec<(String, u64)>,
    /// Its process's peak resident memory before the graph was gathered
    /// (bytes; 0 if unknown).
    pub(crate) peak_rss: u64,
}

impl Shuffle {
    /// Its size in bincode's default encoding (4-byte enum tags, 8-byte
    /// lengths), as [`WireEvent::encoded_len`].
    pub(crate) fn encoded_len(&self) -> u64 {
        let string = |s: &String| 8 + s.len() as u64;
        let strings = |v: &[String]| 8 + v.iter().map(string).sum::<u64>();
        let list = |n: usize, each: u64| 8 + n as u64 * each;
        4 + match self {
            Shuffle::Hello { kinds, samples } => strings(kinds) + strings(samples),
            Shuffle::Names { names, .. } => 4 + 1 + 4 + strings(names),
            Shuffle::Count { .. } => 4 + 8,
            Shuffle::Ids { ids, .. } => 4 + 4 + list(ids.len(), 4),
            Shuffle::Pairs(p) => list(p.len(), 16),
            Shuffle::Incident(e) => list(e.len(), 16),
            Shuffle::KeptAtB(k) | Shuffle::Reverse(k) | Shuffle::Labels(k) => list(k.len(), 8),
            Shuffle::Status { error, .. } => 4 + 1 + error.as_ref().map_or(0, string) + 8,
            Shuffle::Sizes(s) => list(s.len(), 12),
            Shuffle::Graph { edges, .. } => 4 + 4 + list(edges.len(), 18),
            Shuffle::Report(r) => {
                (8 + 8 * 11 + r.counters.by_kind_len() as u64 * 8)
                    + 8 * 10
                    + 8
                    + r.bytes_remote.iter().map(|(s, _)| 16 + s.len() as u64).sum::<u64>()
            }
        }
    }
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
