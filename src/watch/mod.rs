//! Streaming detection: a [`Watcher`] takes events one at a time, in arrival
//! order, and announces flags the moment they are earned.
//!
//! # Overview
//!
//! - [`Watcher`] keeps an incremental index (accounts and indicators interned
//!   to dense ids, links with first/last seen, per-indicator banned accounts),
//!   the ban registry, and decides after each event whether the account is
//!   now a *replacement*: an account that signed up after bans and whose links
//!   to the banned accounts' infrastructure are strong enough (see the
//!   scoring rules below), or a *hydra member*: in a hydra cluster of the
//!   newest finished re-clustering (the batch [`Detector`](crate::Detector)
//!   over the watcher's links, inline or in the background, see
//!   [`Recluster`]), or a new account whose links to one cluster's shared
//!   indicators are strong enough (a card, device, phone or e-mail mostly
//!   held by its members, `hydra_threshold`; never the network alone).
//! - [`WatchConfig`] holds every knob, with documented defaults.
//! - [`WatchFlag`] is one announcement, printed by `hydra watch` as one JSON
//!   line ([`WatchFlag::write_json_line`]).
//! - [`DurableWatcher`] wraps a `Watcher` with a state directory: an
//!   append-only checksummed log with group commit, periodic snapshots, and
//!   recovery after a crash; flags are delivered only once the event that
//!   caused them is durable.
//!
//! # Replacement scoring
//!
//! Each indicator the new account shares with accounts banned *before* it
//! signed up gives evidence `weight(kind) × min(1, b) × b / (b + crowd(kind) × n)`, where
//! `b` sums the banned accounts' reason weights (abuse reasons count fully,
//! `spam` little) decayed by the time from ban to signup, and `n` counts the
//! unbanned accounts on the indicator. Families of related kinds combine by
//! noisy-or with caps; a flag needs the score threshold and corroboration (one
//! hard link, or two families of which one is not the network): IP evidence
//! never flags alone, save for a quiet takeover (below). The evidence must
//! also be concentrated on one banned account (two specific links to it),
//! unless the account took over a banned account's network identity (signed
//! up from its signup IP within `takeover_secs` of the ban) and shares other
//! infrastructure with banned accounts. A *quiet takeover* (off by default)
//! flags on the signup IP alone: it is the signup IP of an account banned
//! for abuse at most `quiet_takeover_secs` before, and nobody else who is
//! neither banned nor flagged was seen on it from `quiet_secs` before that
//! ban on. Replacement flags depend only on the events.
//!
//! # Memory
//!
//! Links not seen for `horizon_secs` of event time are evicted by an
//! amortized sweep (a few accounts per event), and idle accounts with nothing
//! worth remembering are freed; accounts that were announced are kept (their
//! names only) so that no flag is ever announced twice.
//!
//! The clock of that horizon is the earliest time among the last 8 events,
//! never moving back: it follows the bulk of the stream, so one row dated
//! far in the future (a bad clock, a hostile row) cannot evict everything
//! before it, a late row from the past does not move it back, and a stream
//! that really jumps ahead (after an outage) moves it after 8 events. Such
//! rows are applied as they are; a future-dated link simply lives until the
//! clock reaches its time plus the horizon.
//!
//! # Examples
//!
//! ```
//! use hydra_detect::{Event, IndicatorKind, WatchConfig, WatchFlagKind, Watcher};
//!
//! let mut watcher = Watcher::new(WatchConfig::new())?;
//! let events = [
//!     Event::signup(0, "h-1"),
//!     Event::observe(10, "h-1", IndicatorKind::Payment, "card-7"),
//!     Event::ban(100, "h-1", Some("hydra".into())),
//!     Event::signup(200, "h-2"),
//!     Event::observe(210, "h-2", IndicatorKind::Payment, "card-7"),
//! ];
//! let mut flags = Vec::new();
//! for (i, event) in events.iter().enumerate() {
//!     flags.extend(watcher.apply(i as u64 + 1, event)?);
//! }
//! assert_eq!(flags.len(), 1);
//! assert_eq!(flags[0].account, "h-2");
//! assert_eq!(flags[0].flag, WatchFlagKind::Replacement);
//! assert_eq!(flags[0].linked_banned, ["h-1"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ack;
mod bans;
mod codec;
mod config;
mod durable;
mod flag;
mod lock;
mod log;
mod network;
mod recluster;
mod replacement;
mod snapshot;
mod state;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::event::{Action, Event, IndicatorKind, Timestamp};
use crate::ingest::normalize::{parse_ip, push_ip_prefix, validate_event};
use crate::report::Evidence;

pub use config::{KindWeight, WatchConfig};
pub use durable::{ApplyOutcome, DurabilityConfig, DurableWatcher};
pub use flag::{FLAG_SCHEMA, WatchFlag, WatchFlagKind};
pub use recluster::Recluster;

use recluster::{Hydras, Pending};
use replacement::{Scratch, Verdict, Visitors};
use state::{ANNOUNCED_HYDRA, ANNOUNCED_REPLACEMENT, EXPLICIT_SIGNUP, RETRACTED, State, TAKEOVER};

/// The streaming detector: apply events in arrival order, collect flags.
///
/// See the [crate docs](crate) for what it decides and how.
#[derive(Debug)]
pub struct Watcher {
    config: WatchConfig,
    state: State,
    scratch: Scratch,
    /// The accounts seen last on each IP (for quiet takeovers).
    visitors: Visitors,
    /// Reused buffer for derived `ip_prefix` values.
    prefix: String,
    /// The clustering in force for hydra-membership flags.
    hydras: Hydras,
    /// Indicators carrying a mark of `hydras`.
    marked: Vec<u32>,
    /// A background re-clustering in progress.
    pending: Option<Pending>,
    /// Event count at which the last re-clustering started.
    last_recluster: u64,
    /// Reused buffer of (cluster, evidence, indicator, members) for hydra checks.
    hydra_scratch: Vec<(u32, f64, u32, u32)>,
    /// The bans of the networks in force, for their replacements.
    networks: network::Networks,
}

impl Watcher {
    /// An empty watcher.
    ///
    /// # Errors
    ///
    /// [`Error::config`] if a knob is out of range.
    pub fn new(config: WatchConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            state: State::new(),
            scratch: Scratch::default(),
            visitors: Visitors::default(),
            prefix: String::new(),
            hydras: Hydras::default(),
            marked: Vec::new(),
            pending: None,
            last_recluster: 0,
            hydra_scratch: Vec::new(),
            networks: network::Networks::default(),
        })
    }

    /// A watcher holding a loaded snapshot's state (read from `path`) and
    /// the clustering that was in force.
    pub(crate) fn from_snapshot(
        config: WatchConfig,
        loaded: snapshot::Loaded,
        path: &std::path::Path,
    ) -> Result<Self> {
        let mut w = Self::new(config)?;
        w.state = loaded.state;
        if w.config.quiet_takeover_secs > 0 {
            w.visitors = Visitors::rebuild(&w.state);
        }
        w.last_recluster = w.state.events;
        if !loaded.extra.is_empty() {
            let hydras = recluster::decode(&loaded.extra)
                .map_err(|m| Error::state(path, format!("inconsistent snapshot: {m}")))?;
            // Restoring: the members' flags were announced before the stop.
            let _ = w.install(hydras);
        }
        Ok(w)
    }

    /// The complete snapshot file image of this watcher after event `applied`.
    pub(crate) fn snapshot_image(&self, applied: u64) -> Vec<u8> {
        let mut extra = Vec::new();
        if self.hydras != Hydras::default() {
            recluster::encode(&self.hydras, &mut extra);
        }
        snapshot::encode(&self.state, applied, &extra)
    }

    /// The configuration in force.
    pub fn config(&self) -> &WatchConfig {
        &self.config
    }

    /// Applies one event and returns the flags it caused (usually none: the
    /// empty `Vec` does not allocate).
    ///
    /// `seq` is the event's 1-based position in the input, copied into flags.
    ///
    /// # Errors
    ///
    /// [`Error::invalid_argument`] if the event breaks the input bounds of docs/FORMATS.md
    /// (the watcher's state is then unchanged).
    pub fn apply(&mut self, seq: u64, event: &Event) -> Result<Vec<WatchFlag>> {
        let mut flags = Vec::new();
        self.apply_into(seq, event, &mut flags)?;
        Ok(flags)
    }

    /// Like [`apply`](Self::apply), appending the flags to `flags`.
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply).
    pub fn apply_into(
        &mut self,
        seq: u64,
        event: &Event,
        flags: &mut Vec<WatchFlag>,
    ) -> Result<()> {
        if let Err((_, message)) = validate_event(event) {
            return Err(Error::invalid_argument(format!("event {seq}: {message}")));
        }
        let ts = event.ts;
        let st = &mut self.state;
        st.advance_clock(ts);
        let id = st.intern_account(&event.account, ts);
        {
            let a = &mut st.accounts[id as usize];
            a.last_seen = a.last_seen.max(ts);
            let explicit = a.bits & EXPLICIT_SIGNUP != 0;
            match event.action {
                Action::Signup if !explicit => {
                    a.signup = ts;
                    a.bits |= EXPLICIT_SIGNUP;
                }
                Action::Signup => a.signup = a.signup.min(ts),
                _ if !explicit => a.signup = a.signup.min(ts),
                _ => {}
            }
        }
        match &event.action {
            Action::Signup => {}
            Action::Observe(indicator) => {
                let grace = self.config.signup_grace_secs;
                let code = st.kind_code(&indicator.kind);
                let ind = st.intern_indicator(code, &indicator.value);
                let new_link = st.link(id, ind, ts);
                if indicator.kind == IndicatorKind::Ip && self.config.quiet_takeover_secs > 0 {
                    self.visitors.touch(st, ind, id, ts, new_link);
                }
                let cfg = &self.config;
                let mut candidate = new_link
                    && st.has_ban_before(ind, id, grace)
                    && replacement::worth_scoring(st, cfg, id, ind);
                // A new link to a marked indicator (addresses included) may
                // tie the account to a network or make it a member.
                let marked = new_link && st.indicators[ind as usize].hydra != 0;
                if indicator.kind == IndicatorKind::Ip
                    && let Some(ip) = parse_ip(&indicator.value)
                {
                    self.prefix.clear();
                    push_ip_prefix(ip, &mut self.prefix);
                    let code = st.kind_code(&IndicatorKind::IpPrefix);
                    let p = st.intern_indicator(code, &self.prefix);
                    candidate |= st.link(id, p, ts)
                        && st.has_ban_before(p, id, grace)
                        && replacement::worth_scoring(st, cfg, id, p);
                }
                let a = &st.accounts[id as usize];
                if candidate && a.ban.is_none() && a.bits & ANNOUNCED_REPLACEMENT == 0 {
                    let verdict = replacement::evaluate(
                        st,
                        &self.config,
                        &self.visitors,
                        id,
                        &mut self.scratch,
                    );
                    if verdict.flag {
                        self.announce_replacement(seq, ts, id, verdict, flags);
                    }
                }
                let a = &self.state.accounts[id as usize];
                if marked
                    && a.ban.is_none()
                    && a.bits & ANNOUNCED_REPLACEMENT == 0
                    && !self.networks.is_member(&a.name)
                {
                    let window = self.config.replenish_window_secs;
                    if let Some(c) = self.networks.take(&self.state, id, window) {
                        self.announce_network_replacement(seq, ts, id, c, flags);
                    }
                }
                let a = &self.state.accounts[id as usize];
                if marked && a.ban.is_none() && a.bits & ANNOUNCED_HYDRA == 0 {
                    self.check_hydra_link(seq, ts, id, flags);
                }
            }
            Action::Ban { reason } => {
                let weight = self.config.reason_weight(reason.as_deref()) as f32;
                bans::ban(st, id, ts, weight);
                self.networks.on_ban(&self.state, id, ts);
            }
            Action::Unban => {
                if bans::unban(st, id) {
                    self.retract_dependents(seq, ts, id, flags);
                }
            }
        }
        self.state.sweep(self.config.horizon_secs, self.config.sweep_step);
        self.recluster_step(seq, ts, flags);
        Ok(())
    }

    /// Publishes a finished background clustering, starts a new one when it
    /// is due, or re-clusters inline in `Sync` mode.
    fn recluster_step(&mut self, seq: u64, ts: Timestamp, flags: &mut Vec<WatchFlag>) {
        let events = self.state.events;
        match self.config.recluster {
            Recluster::Off => {}
            Recluster::Sync(n) => {
                if events.is_multiple_of(n) {
                    let input = recluster::input_events(&self.state);
                    match recluster::cluster(input, events, Arc::clone(&self.hydras.start)) {
                        Ok(h) => self.publish(h, seq, ts, flags),
                        Err(e) => tracing::warn!("re-clustering at event {events} failed: {e}"),
                    }
                }
            }
            Recluster::Background(n) => {
                let due = events >= self.last_recluster + n.max(self.last_recluster / 4);
                // A run still going when the next is due holds the stream
                // back: flags never lag more than one interval behind.
                let finished = match &self.pending {
                    Some(_) if due => self.pending.take().map(Pending::wait),
                    Some(p) => p.poll(),
                    None => None,
                };
                if let Some(result) = finished {
                    self.pending = None;
                    match result {
                        Ok(h) => self.publish(h, seq, ts, flags),
                        Err(e) => tracing::warn!("background re-clustering failed: {e}"),
                    }
                }
                if self.pending.is_none() && due {
                    self.last_recluster = events;
                    let input = recluster::input_events(&self.state);
                    let start = Arc::clone(&self.hydras.start);
                    self.pending = Some(Pending::spawn(input, events, start));
                }
            }
        }
    }

    /// Puts `hydras` in force: marks its shared indicators (the marks of
    /// the previous clustering are cleared) and takes its networks' bans;
    /// returns the members that are replacements (see `network`).
    fn install(&mut self, hydras: Hydras) -> Vec<network::Matched> {
        for id in self.marked.drain(..) {
            let ind = &mut self.state.indicators[id as usize];
            ind.hydra = 0;
            ind.hydra_members = 0;
        }
        for m in &hydras.marks {
            if let Some(id) = self.state.find_indicator(&m.kind, &m.value) {
                let ind = &mut self.state.indicators[id as usize];
                ind.hydra = m.cluster + 1;
                ind.hydra_members = m.members;
                self.marked.push(id);
            }
        }
        self.hydras = hydras;
        let window = self.config.replenish_window_secs;
        let (networks, matched) = network::Networks::build(&self.hydras, &self.state, window);
        self.networks = networks;
        matched
    }

    /// Installs `hydras` and announces as a hydra member every member not
    /// yet announced that the clustering it replaces had as a member too
    /// (banned members need no message).
    fn publish(&mut self, hydras: Hydras, seq: u64, ts: Timestamp, flags: &mut Vec<WatchFlag>) {
        // One clustering of a partial stream can put a household beside an
        // operator; two in a row rarely do.
        let previous = std::mem::take(&mut self.networks);
        let matched = self.install(hydras);
        for m in &matched {
            let a = &self.state.accounts[m.account as usize];
            if a.ban.is_none() && a.bits & ANNOUNCED_REPLACEMENT == 0 {
                self.announce_network_replacement(seq, ts, m.account, m.cluster, flags);
            }
        }
        for c in 0..self.hydras.clusters.len() {
            for m in 0..self.hydras.clusters[c].members.len() {
                let Some(id) = self.state.account_id(&self.hydras.clusters[c].members[m]) else {
                    continue;
                };
                let a = &self.state.accounts[id as usize];
                if a.ban.is_some()
                    || a.bits & (ANNOUNCED_HYDRA | ANNOUNCED_REPLACEMENT) != 0
                    || !previous.is_member(&a.name)
                {
                    continue;
                }
                let score = self.hydras.clusters[c].score;
                self.hydra_evidence(id);
                self.hydra_scratch.retain(|x| x.0 == c as u32);
                self.announce_hydra(seq, ts, id, c as u32, score, flags);
            }
        }
    }

    /// Fills `hydra_scratch` with the account's links to marked indicators:
    /// (cluster, evidence, indicator, members), strongest first within a
    /// cluster, clusters in index order.
    ///
    /// The evidence of one link is `weight(kind) × members / accounts` on
    /// the indicator: a card, device, phone or e-mail mostly held by one
    /// hydra's members says much, a popular template little.
    fn hydra_evidence(&mut self, id: u32) {
        let st = &self.state;
        self.hydra_scratch.clear();
        for l in &st.accounts[id as usize].links {
            let ind = &st.indicators[l.indicator as usize];
            if ind.hydra == 0 {
                continue;
            }
            let purity = f64::from(ind.hydra_members) / f64::from(ind.accounts.max(1));
            let e = hydra_kind_weight(ind.kind) * purity.min(1.0);
            self.hydra_scratch.push((ind.hydra - 1, e, l.indicator, ind.hydra_members));
        }
        self.hydra_scratch
            .sort_by(|x, y| x.0.cmp(&y.0).then(y.1.total_cmp(&x.1)).then(x.2.cmp(&y.2)));
    }

    /// After a new link to a marked indicator: flags the account as a member
    /// of the cluster it links to most strongly, if that is strong enough
    /// (`hydra_threshold`, with at least one hard link held mostly by the
    /// cluster's members).
    fn check_hydra_link(&mut self, seq: u64, ts: Timestamp, id: u32, flags: &mut Vec<WatchFlag>) {
        self.hydra_evidence(id);
        let mut best: Option<(u32, f64)> = None;
        for run in self.hydra_scratch.chunk_by(|x, y| x.0 == y.0) {
            let strength = 1.0 - run.iter().map(|x| 1.0 - x.1).product::<f64>();
            let hard = run.iter().any(|x| {
                let ind = &self.state.indicators[x.2 as usize];
                state_is_hard(ind.kind) && 2 * ind.hydra_members >= ind.accounts
            });
            if hard
                && strength >= self.config.hydra_threshold
                && best.is_none_or(|b| strength > b.1)
            {
                best = Some((run[0].0, strength));
            }
        }
        if let Some((c, strength)) = best {
            self.hydra_scratch.retain(|x| x.0 == c);
            self.announce_hydra(seq, ts, id, c, strength, flags);
        }
    }

    /// Announces that `id` replaced banned members of network `cluster`: the
    /// evidence is each of its links to the network's values that a member
    /// banned before its signup was on, with the number of those banned.
    fn announce_network_replacement(
        &mut self,
        seq: u64,
        ts: Timestamp,
        id: u32,
        cluster: u32,
        flags: &mut Vec<WatchFlag>,
    ) {
        let st = &mut self.state;
        st.accounts[id as usize].bits |= ANNOUNCED_REPLACEMENT;
        st.set_suspect(id, true);
        st.join_marks(id, cluster, &mut self.marked);
        let st = &self.state;
        let a = &st.accounts[id as usize];
        let mut evidence: Vec<(usize, Evidence)> = Vec::new();
        let mut linked: Vec<&str> = Vec::new();
        for l in &a.links {
            let ind = &st.indicators[l.indicator as usize];
            if ind.hydra != cluster + 1 {
                continue;
            }
            let before = ind.banned.iter().filter(|b| b.ts < a.signup && b.account != id);
            let mut count = 0;
            for b in before {
                count += 1;
                linked.push(&st.accounts[b.account as usize].name);
            }
            if count > 0 {
                let hard = usize::from(!state_is_hard(ind.kind));
                let e = Evidence {
                    kind: st.kind(ind.kind),
                    value: ind.value.to_string(),
                    shared_with: count,
                };
                evidence.push((hard, e));
            }
        }
        // Hard links first, then the most shared, then by kind and value.
        evidence.sort_by(|x, y| {
            x.0.cmp(&y.0)
                .then(y.1.shared_with.cmp(&x.1.shared_with))
                .then_with(|| x.1.kind.cmp(&y.1.kind))
                .then_with(|| x.1.value.cmp(&y.1.value))
        });
        evidence.truncate(self.config.max_evidence);
        linked.sort_unstable();
        linked.dedup();
        linked.truncate(self.config.max_linked_banned);
        let c = &self.hydras.clusters[cluster as usize];
        flags.push(WatchFlag {
            schema: FLAG_SCHEMA.to_owned(),
            seq,
            ts,
            account: a.name.to_string(),
            flag: WatchFlagKind::Replacement,
            score: flag::round_score(c.score),
            cluster: Some(crate::id::ClusterId::new(c.id.clone())),
            linked_banned: linked.into_iter().map(str::to_owned).collect(),
            evidence: evidence.into_iter().map(|e| e.1).collect(),
        });
    }

    /// Announces a hydra flag with the evidence in `hydra_scratch`.
    fn announce_hydra(
        &mut self,
        seq: u64,
        ts: Timestamp,
        id: u32,
        cluster: u32,
        score: f64,
        flags: &mut Vec<WatchFlag>,
    ) {
        let st = &mut self.state;
        st.accounts[id as usize].bits |= ANNOUNCED_HYDRA;
        if !self.networks.is_member(&st.accounts[id as usize].name) {
            st.join_marks(id, cluster, &mut self.marked);
        }
        let evidence = self
            .hydra_scratch
            .iter()
            .take(self.config.max_evidence)
            .map(|&(_, _, ind, members)| {
                let ind = &st.indicators[ind as usize];
                Evidence {
                    kind: st.kind(ind.kind),
                    value: ind.value.to_string(),
                    shared_with: members as usize,
                }
            })
            .collect();
        flags.push(WatchFlag {
            schema: FLAG_SCHEMA.to_owned(),
            seq,
            ts,
            account: st.accounts[id as usize].name.to_string(),
            flag: WatchFlagKind::Hydra,
            score: flag::round_score(score),
            cluster: Some(crate::id::ClusterId::new(
                self.hydras.clusters[cluster as usize].id.clone(),
            )),
            linked_banned: Vec::new(),
            evidence,
        });
    }

    /// The hydra clusters of the clustering in force: (id, score, members).
    pub fn hydra_clusters(&self) -> impl Iterator<Item = (&str, f64, usize)> {
        self.hydras.clusters.iter().map(|c| (c.id.as_str(), c.score, c.members.len()))
    }

    /// Event count at which the clustering in force was computed (0 if none).
    pub fn clustered_at(&self) -> u64 {
        self.hydras.at
    }

    /// Waits for a background re-clustering in progress, if any, and
    /// publishes it (its flags go to `flags` with sequence number `seq`).
    /// For tests and orderly shutdown; the event path never calls it.
    pub fn finish_recluster(&mut self, seq: u64, flags: &mut Vec<WatchFlag>) {
        if let Some(p) = self.pending.take() {
            match p.wait() {
                Ok(h) => {
                    let ts = self.state.now;
                    self.publish(h, seq, ts, flags);
                }
                Err(e) => tracing::warn!("background re-clustering failed: {e}"),
            }
        }
    }

    fn announce_replacement(
        &mut self,
        seq: u64,
        ts: Timestamp,
        id: u32,
        verdict: Verdict,
        flags: &mut Vec<WatchFlag>,
    ) {
        let st = &mut self.state;
        st.accounts[id as usize].bits |= ANNOUNCED_REPLACEMENT | TAKEOVER;
        st.set_suspect(id, true);
        // The evaluation lists a banned account once per indicator shared.
        self.scratch.banned.sort_unstable();
        self.scratch.banned.dedup();
        for &b in &self.scratch.banned {
            st.accounts[b as usize].dependents.push(id);
        }
        flags.push(self.flag(seq, ts, id, WatchFlagKind::Replacement, verdict.score));
    }

    /// Re-scores the accounts whose replacement flag cited the unbanned
    /// `banned`, and retracts those no longer justified.
    fn retract_dependents(
        &mut self,
        seq: u64,
        ts: Timestamp,
        banned: u32,
        flags: &mut Vec<WatchFlag>,
    ) {
        let dependents = std::mem::take(&mut self.state.accounts[banned as usize].dependents);
        for d in dependents {
            let a = &self.state.accounts[d as usize];
            if a.bits & RETRACTED != 0 || a.bits & ANNOUNCED_REPLACEMENT == 0 || a.ban.is_some() {
                continue;
            }
            let verdict = replacement::evaluate(
                &self.state,
                &self.config,
                &self.visitors,
                d,
                &mut self.scratch,
            );
            if !verdict.flag {
                self.state.accounts[d as usize].bits |= RETRACTED;
                self.state.set_suspect(d, false);
                flags.push(self.flag(seq, ts, d, WatchFlagKind::Retract, verdict.score));
            }
        }
    }

    /// Builds a flag from the evidence in `self.scratch`.
    fn flag(&self, seq: u64, ts: Timestamp, id: u32, kind: WatchFlagKind, score: f64) -> WatchFlag {
        let st = &self.state;
        let mut contributions = self.scratch.contributions.clone();
        contributions.sort_by(|x, y| {
            let (ix, iy) =
                (&st.indicators[x.indicator as usize], &st.indicators[y.indicator as usize]);
            y.evidence
                .total_cmp(&x.evidence)
                .then_with(|| st.kind(ix.kind).cmp(&st.kind(iy.kind)))
                .then_with(|| ix.value.cmp(&iy.value))
        });
        let evidence = contributions
            .iter()
            .take(self.config.max_evidence)
            .map(|c| {
                let ind = &st.indicators[c.indicator as usize];
                Evidence {
                    kind: st.kind(ind.kind),
                    value: ind.value.to_string(),
                    shared_with: c.shared_with as usize,
                }
            })
            .collect();
        let mut linked: Vec<String> =
            self.scratch.banned.iter().map(|&b| st.accounts[b as usize].name.to_string()).collect();
        linked.sort_unstable();
        linked.dedup();
        linked.truncate(self.config.max_linked_banned);
        WatchFlag {
            schema: FLAG_SCHEMA.to_owned(),
            seq,
            ts,
            account: st.accounts[id as usize].name.to_string(),
            flag: kind,
            score: flag::round_score(score),
            cluster: None,
            linked_banned: linked,
            evidence,
        }
    }

    /// The replacement score the account would get now, with the evidence
    /// behind it, whether or not it was flagged; `None` for an account not
    /// held in memory. For explaining decisions and tuning thresholds.
    pub fn explain(&mut self, account: &str) -> Option<WatchFlag> {
        let id = self.state.account_id(account)?;
        let verdict =
            replacement::evaluate(&self.state, &self.config, &self.visitors, id, &mut self.scratch);
        let ts = self.state.now;
        Some(self.flag(0, ts, id, WatchFlagKind::Replacement, verdict.score))
    }

    /// Events applied so far.
    pub fn event_count(&self) -> u64 {
        self.state.events
    }

    /// Accounts held in memory.
    pub fn account_count(&self) -> usize {
        self.state.account_count()
    }

    /// Indicators held in memory.
    pub fn indicator_count(&self) -> usize {
        self.state.indicator_count()
    }

    /// Account–indicator links held in memory.
    pub fn link_count(&self) -> u64 {
        self.state.live_links
    }
}

/// How much one link to a hydra's marked indicator says, by kind code: hard
/// links (payment, device, e-mail, phone) most, templates and e-mail domains
/// some, client fingerprints little.
fn hydra_kind_weight(code: u16) -> f64 {
    match code {
        3 | 4 | 6 | 8 => 0.7,
        11 => 0.35,
        7 | 10 => 0.3,
        5 | 9 => 0.1,
        0..=2 => 0.0,
        _ => 0.2,
    }
}

/// Whether a kind code is a hard link (payment, device, e-mail, phone).
fn state_is_hard(code: u16) -> bool {
    matches!(code, 3 | 4 | 6 | 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(watcher: &mut Watcher, events: &[Event]) -> Vec<WatchFlag> {
        let mut flags = Vec::new();
        for (i, e) in events.iter().enumerate() {
            watcher.apply_into(i as u64 + 1, e, &mut flags).unwrap();
        }
        flags
    }

    fn obs(ts: i64, a: &str, kind: IndicatorKind, v: &str) -> Event {
        Event::observe(ts, a, kind, v)
    }

    #[test]
    fn unban_retracts_and_flags_are_announced_once() {
        let mut w = Watcher::new(WatchConfig::new()).unwrap();
        let events = [
            obs(0, "h1", IndicatorKind::Payment, "card"),
            Event::ban(10, "h1", Some("hydra".into())),
            obs(20, "h2", IndicatorKind::Payment, "card"),
            obs(21, "h2", IndicatorKind::Device, "dev"),
            obs(22, "h2", IndicatorKind::Payment, "card"),
            Event::unban(30, "h1"),
            Event::ban(40, "h1", Some("hydra".into())),
        ];
        let flags = run(&mut w, &events);
        let kinds: Vec<_> = flags.iter().map(|f| (f.seq, f.flag)).collect();
        assert_eq!(kinds, [(3, WatchFlagKind::Replacement), (6, WatchFlagKind::Retract)]);
        assert_eq!(flags[0].evidence[0].kind, IndicatorKind::Payment);
        assert_eq!(flags[0].evidence[0].shared_with, 1);
    }

    #[test]
    fn a_quiet_takeover_flags_at_event_one_and_retracts_on_unban() {
        let config = WatchConfig::new().quiet_takeover_secs(3 * 3600);
        let mut w = Watcher::new(config).unwrap();
        let events = [
            Event::signup(0, "h1"),
            obs(0, "h1", IndicatorKind::Ip, "203.0.113.9"),
            Event::ban(1000, "h1", Some("hydra".into())),
            Event::signup(1900, "h2"),
            obs(1900, "h2", IndicatorKind::Ip, "203.0.113.9"),
            obs(1900, "h2", IndicatorKind::Asn, "64500"),
            Event::unban(3000, "h1"),
        ];
        let flags = run(&mut w, &events);
        let kinds: Vec<_> = flags.iter().map(|f| (f.seq, f.flag)).collect();
        assert_eq!(kinds, [(5, WatchFlagKind::Replacement), (7, WatchFlagKind::Retract)]);
        assert_eq!(flags[0].linked_banned, ["h1"]);
        assert_eq!(flags[0].evidence[0].kind, IndicatorKind::Ip);
        assert_eq!(flags[0].evidence[0].value, "203.0.113.9");
    }

    // See: #15 (one row dated 9999-12-31 evicted everything before it).
    #[test]
    fn a_row_dated_far_in_the_future_does_not_evict_the_stream() {
        let t0 = 1_767_225_600;
        let day = 86_400;
        for outlier in [253_402_214_400, t0 + 120 * day] {
            let mut w = Watcher::new(WatchConfig::new()).unwrap();
            let mut events = vec![
                obs(t0, "h1", IndicatorKind::Payment, "card"),
                Event::ban(t0 + 10, "h1", Some("hydra".into())),
                obs(outlier, "clock", IndicatorKind::Device, "skewed"),
            ];
            // Past and on-time rows around it.
            events.push(obs(t0 - 30 * day, "old", IndicatorKind::Device, "d-old"));
            events.extend((0..4).map(|i| Event::signup(t0 + 11 + i, format!("n{i}"))));
            events.push(obs(t0 + 20, "h2", IndicatorKind::Payment, "card"));
            let flags = run(&mut w, &events);
            assert_eq!(flags.len(), 1, "outlier {outlier}: {flags:?}");
            assert_eq!(flags[0].account, "h2");
            assert_eq!(flags[0].linked_banned, ["h1"]);
        }
    }

    #[test]
    fn ip_observations_derive_their_prefix() {
        let mut w = Watcher::new(WatchConfig::new()).unwrap();
        run(&mut w, &[obs(0, "a", IndicatorKind::Ip, "10.0.0.1")]);
        assert_eq!(w.link_count(), 2);
        assert_eq!(w.indicator_count(), 2);
    }

    #[test]
    fn invalid_events_are_rejected_without_change() {
        let mut w = Watcher::new(WatchConfig::new()).unwrap();
        let err = w.apply(7, &obs(0, "a", IndicatorKind::Ip, "not-an-ip")).unwrap_err();
        assert!(err.to_string().starts_with("event 7: invalid ip"), "{err}");
        assert_eq!(w.account_count(), 0);
    }
}
