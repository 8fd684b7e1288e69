//! Re-clustering for hydra-membership flags: the watcher's current links go
//! through the batch [`Detector`](crate::Detector), inline (`sync`) or on a
//! background thread, and the newest finished result is published to the
//! event path.
//!
//! # What a clustering gives the watcher
//!
//! The hydra clusters (id, score, flagged members) and *marks*: every
//! indicator shared by at least two members of one hydra cluster, with the
//! number of members on it (network addresses too: they serve the
//! replacement rule of `network`, and weigh nothing toward a membership
//! flag, which needs a hard link). On publication every member not yet announced
//! (and not banned) that the clustering it replaces had as a member too gets
//! a `hydra` flag (one clustering of a partial stream can put a household
//! beside an operator; two in a row rarely do); from then on an account that links
//! strongly to one cluster's marked indicators gets one too: the evidence of
//! a link is `weight(kind) × members / accounts` on the indicator, combined
//! by noisy-or per cluster, and the flag needs `hydra_threshold` and one
//! hard link (payment, device, e-mail, phone) held mostly by members.
//!
//! # Input
//!
//! The watcher's index turned back into events: each account's signup, one
//! observation per live link to an indicator shared with another account
//! (singletons cannot link accounts; derived `ip_prefix` links are derived
//! again by the batch index), and its ban. Ban reasons are not kept by the
//! watcher: a full-weight ban is replayed as reason `hydra`, others as
//! `other`. The input is built on the event path (`O(links)`, the only
//! pause), the clustering itself runs where the mode says.
//!
//! Each re-clustering is warm-started from the communities of the previous
//! one ([`WarmStart`]), which a snapshot keeps with the clustering in force:
//! it is deterministic for a given state and previous clustering, which is
//! what `sync` mode (and a restart in it) needs.
//!
//! # Complexity
//!
//! Building the input: `O(A + L)` for `A` accounts and `L` links. The
//! clustering: that of [`Detector::detect_events`](crate::Detector::detect_events).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use super::codec::{Decoder, Encoder};
use super::state::{IP_PREFIX_CODE, State};
use crate::config::Config;
use crate::detect::{Detector, WarmStart};
use crate::error::Result;
use crate::event::{Event, IndicatorKind};

/// How often and where re-clustering happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recluster {
    /// Never: no hydra-membership flags (replacement flags only).
    Off,
    /// Inline, whenever the applied-event count is a multiple of `N`: the
    /// event path waits, and hydra flags are reproducible.
    Sync(u64),
    /// On a background thread, started when `max(N, a quarter of the
    /// events applied at the previous start)` more events have been applied
    /// (the interval grows with the stream, so the total work stays a small
    /// multiple of one clustering of the whole stream). Flags use the newest
    /// finished clustering. The event path waits only when a run is still
    /// going once the next one is due: a replay faster than re-clustering is
    /// held back to at most one interval of lag.
    Background(u64),
}

/// One hydra cluster of a clustering.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HydraCluster {
    pub(crate) id: String,
    pub(crate) score: f64,
    /// Member account names, sorted.
    pub(crate) members: Vec<Box<str>>,
}

/// An indicator shared by members of one hydra cluster.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Mark {
    pub(crate) kind: IndicatorKind,
    pub(crate) value: Box<str>,
    /// Index into [`Hydras::clusters`].
    pub(crate) cluster: u32,
    /// Members of that cluster linked to it.
    pub(crate) members: u32,
}

/// A finished clustering.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Hydras {
    /// Applied-event count of the state it was computed from.
    pub(crate) at: u64,
    pub(crate) clusters: Vec<HydraCluster>,
    /// Sorted by (kind, value).
    pub(crate) marks: Vec<Mark>,
    /// The communities Leiden found (before scoring), where the next
    /// re-clustering starts.
    pub(crate) start: Arc<WarmStart>,
}

/// The clustering input: the state turned back into events.
pub(crate) fn input_events(state: &State) -> Vec<Event> {
    let mut events = Vec::with_capacity(state.account_count() * 4);
    for a in &state.accounts {
        if a.is_free() {
            continue;
        }
        let name: &str = &a.name;
        events.push(Event::signup(a.signup, name));
        for l in &a.links {
            let ind = &state.indicators[l.indicator as usize];
            if ind.accounts < 2 || ind.kind == IP_PREFIX_CODE {
                continue;
            }
            events.push(Event::observe(l.first, name, state.kind(ind.kind), &*ind.value));
        }
        if let Some(ban) = &a.ban {
            let reason = if ban.weight >= 1.0 { "hydra" } else { "other" };
            events.push(Event::ban(ban.ts.max(a.signup), name, Some(reason.into())));
        }
    }
    events
}

/// Clusters `events` (built by [`input_events`] at event count `at`),
/// starting from the communities in `start`.
///
/// # Errors
///
/// Whatever the batch detector reports.
pub(crate) fn cluster(events: Vec<Event>, at: u64, start: Arc<WarmStart>) -> Result<Hydras> {
    // Members' observations, kept before the detector consumes the events.
    let observations: Vec<(Box<str>, IndicatorKind, Box<str>)> = events
        .iter()
        .filter_map(|e| match &e.action {
            crate::event::Action::Observe(i) => {
                Some((e.account.as_str().into(), i.kind.clone(), i.value.as_str().into()))
            }
            _ => None,
        })
        .collect();
    let analysis = Detector::new(Config::new()).warm_start(start).analyze_events(events)?;
    let start = Arc::new(analysis.warm_start());
    let detection = analysis.into_detection();
    let clusters: Vec<HydraCluster> = detection
        .clusters
        .iter()
        .filter(|c| c.hydra)
        .map(|c| {
            // Flagged members only: a household Leiden put beside the
            // operator is in the community, not in the network.
            let flagged = |m: &&String| detection.account(m).is_some_and(|v| v.flag.is_some());
            let mut members: Vec<Box<str>> =
                c.member_ids.iter().filter(flagged).map(|m| m.as_str().into()).collect();
            members.sort_unstable();
            HydraCluster { id: c.id.to_string(), score: c.score, members }
        })
        .collect();
    let mut member_of: ahash::AHashMap<&str, u32> = ahash::AHashMap::new();
    for (i, c) in clusters.iter().enumerate() {
        for m in &c.members {
            member_of.insert(m, i as u32);
        }
    }
    let mut hits: Vec<(&IndicatorKind, &str, u32)> = observations
        .iter()
        .filter_map(|(a, k, v)| member_of.get(&**a).map(|&c| (k, &**v, c)))
        .collect();
    hits.sort_unstable_by(|x, y| {
        x.0.as_str().cmp(y.0.as_str()).then_with(|| x.1.cmp(y.1)).then(x.2.cmp(&y.2))
    });
    let mut marks = Vec::new();
    for run in hits.chunk_by(|x, y| x == y) {
        if run.len() >= 2 {
            let (kind, value, cluster) = run[0];
            marks.push(Mark {
                kind: kind.clone(),
                value: value.into(),
                cluster,
                members: run.len() as u32,
            });
        }
    }
    // One indicator shared by members of two clusters marks the one with more.
    let mut kept: Vec<Mark> = Vec::with_capacity(marks.len());
    for m in marks {
        match kept.last_mut() {
            Some(last) if last.kind == m.kind && last.value == m.value => {
                if m.members > last.members {
                    *last = m;
                }
            }
            _ => kept.push(m),
        }
    }
    Ok(Hydras { at, clusters, marks: kept, start })
}

/// Serializes `hydras` for the snapshot.
pub(crate) fn encode(hydras: &Hydras, out: &mut Vec<u8>) {
    let mut e = Encoder::new(out);
    e.u64(hydras.at);
    e.u64(hydras.clusters.len() as u64);
    for c in &hydras.clusters {
        e.str(&c.id);
        e.u64(c.score.to_bits());
        e.strs(&c.members);
    }
    e.u64(hydras.marks.len() as u64);
    for m in &hydras.marks {
        e.str(m.kind.as_str());
        e.str(&m.value);
        e.u32(m.cluster);
        e.u32(m.members);
    }
    // The warm start, last: snapshots written before it existed end here.
    let communities = hydras.start.communities();
    e.u64(communities.len() as u64);
    for c in &communities {
        e.strs(c);
    }
}

/// Reads what [`encode`] wrote.
pub(crate) fn decode(bytes: &[u8]) -> std::result::Result<Hydras, String> {
    let mut d = Decoder::new(bytes);
    let at = d.u64("clustering event count")?;
    let n = d.len("hydra clusters", 8)?;
    let mut clusters = Vec::with_capacity(n);
    for _ in 0..n {
        let id = d.str("cluster id")?.to_owned();
        let score = f64::from_bits(d.u64("cluster score")?);
        let members = d.strs("cluster members")?.into_iter().map(Into::into).collect();
        clusters.push(HydraCluster { id, score, members });
    }
    let n = d.len("cluster marks", 16)?;
    let mut marks = Vec::with_capacity(n);
    for _ in 0..n {
        let kind = IndicatorKind::parse(d.str("mark kind")?)
            .map_err(|_| "bad indicator kind in a cluster mark".to_owned())?;
        let value = d.str("mark value")?.into();
        let cluster = d.u32("mark cluster")?;
        if cluster as usize >= clusters.len() {
            return Err(format!("cluster mark points at cluster {cluster} of {}", clusters.len()));
        }
        let members = d.u32("mark members")?;
        marks.push(Mark { kind, value, cluster, members });
    }
    // Absent from snapshots written before warm starts: start from singletons.
    let mut communities = Vec::new();
    if !d.is_empty() {
        let n = d.len("warm-start communities", 8)?;
        communities.reserve(n);
        for _ in 0..n {
            communities.push(d.strs("warm-start community members")?);
        }
    }
    if !d.is_empty() {
        return Err("trailing bytes after the clustering".into());
    }
    let start = Arc::new(WarmStart::from_communities(communities));
    Ok(Hydras { at, clusters, marks, start })
}

/// A background clustering in progress.
#[derive(Debug)]
pub(crate) struct Pending {
    rx: Receiver<Result<Hydras>>,
}

impl Pending {
    /// Starts clustering `events` on a new thread, from `start`.
    pub(crate) fn spawn(events: Vec<Event>, at: u64, start: Arc<WarmStart>) -> Self {
        let (tx, rx) = channel();
        let spawned =
            std::thread::Builder::new().name("hydra-watch-recluster".into()).spawn(move || {
                // The receiver may be gone (watcher dropped): nothing to do then.
                let _ = tx.send(cluster(events, at, start));
            });
        if let Err(e) = spawned {
            // No thread: report through the same channel, on the next poll.
            let (tx, rx) = channel();
            let _ = tx.send(Err(crate::error::Error::io(
                "cannot start the re-clustering thread",
                None,
                e,
            )));
            return Self { rx };
        }
        Self { rx }
    }

    /// Blocks until the result is there.
    pub(crate) fn wait(self) -> Result<Hydras> {
        self.rx.recv().unwrap_or_else(|_| {
            Err(crate::error::Error::invalid_argument(
                "the re-clustering thread stopped without a result",
            ))
        })
    }

    /// The result if finished (never blocks); `Some(Err)` if it failed or the
    /// thread died.
    pub(crate) fn poll(&self) -> Option<Result<Hydras>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(crate::error::Error::invalid_argument(
                "the re-clustering thread stopped without a result",
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusterings_round_trip_through_bytes() {
        let h = Hydras {
            at: 42,
            clusters: vec![HydraCluster {
                id: "c-1".into(),
                score: 0.875,
                members: vec!["a".into(), "b".into()],
            }],
            marks: vec![Mark {
                kind: IndicatorKind::Payment,
                value: "card".into(),
                cluster: 0,
                members: 2,
            }],
            start: Arc::new(WarmStart::from_communities([vec!["a", "b"], vec!["c", "d"]])),
        };
        let mut buf = Vec::new();
        encode(&h, &mut buf);
        assert_eq!(decode(&buf).unwrap(), h);
        assert!(decode(&buf[..buf.len() - 1]).is_err());
    }

    #[test]
    fn clusterings_without_a_warm_start_still_load() {
        // Snapshots written before warm starts end after the marks; an empty
        // warm start is one zero count more.
        let h = Hydras { at: 7, ..Hydras::default() };
        let mut buf = Vec::new();
        encode(&h, &mut buf);
        assert_eq!(decode(&buf[..buf.len() - 8]).unwrap(), h);
        assert_eq!(decode(&buf).unwrap(), h);
    }
}
