//! The index: accounts ⇄ indicators, with link times and counts, signups, ban
//! spans and activity minutes.
//!
//! # Overview
//!
//! - [`IndexBuilder`] takes [`Event`]s in any order ([`IndexBuilder::add`])
//!   and freezes into an [`Index`] ([`IndexBuilder::finish`]). Strings are
//!   interned into one arena per side (accounts, indicator values) with a
//!   raw hash table of ids, so adding an event allocates nothing once its
//!   strings are known; observations are buffered as compact `(account,
//!   indicator, time)` records that are radix-sorted and merged whenever the
//!   raw tail is as long as the merged links, so the same observation
//!   repeated costs no memory beyond the next merge.
//! - [`Index`] is immutable. Ids are ranks in sorted key order (accounts by id
//!   string, indicators by (kind, value)), so they do not depend on input
//!   order. Posting lists are CSR arrays in both directions; indicators shared
//!   by two or more accounts also get a `RoaringBitmap` of their accounts
//!   (one bitmap per indicator would cost more than the lists themselves,
//!   since most indicators belong to one account).
//! - [`Link`] is one account–indicator link: first and last seen, and how often.
//! - [`BanSpan`] is one ban of an account and its unban, if any.
//!
//! `ip` observations also link the address's `ip_prefix` (/24 for IPv4, /48
//! for IPv6), and IP values are stored in canonical form (`::ffff:1.2.3.4` is
//! `1.2.3.4`).

mod interner;
mod postings;
mod radix;
mod stats;
mod times;
mod values;

use std::ops::Range;

use ahash::AHashMap;
use rayon::prelude::*;
use roaring::RoaringBitmap;

use crate::error::InputProblem;
use crate::event::{Action, Event, IndicatorKind, MAX_REASON_LEN, Timestamp};
use crate::id::{AccountId, IndicatorId};
use crate::ingest::normalize::{clip, parse_ip, validate_account, validate_value, write_ip};

use interner::{Interner, StrTable};
use postings::Postings;
use times::{AccountTimes, BanEvent, build_bans};
use values::ValueSide;

pub(crate) use stats::DegreeBucket;
pub(crate) use times::BanSpan;

/// One link between an account and an indicator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Link {
    /// The indicator linked.
    pub(crate) indicator: IndicatorId,
    /// When the account was first seen on it.
    pub(crate) first: Timestamp,
    /// When the account was last seen on it.
    pub(crate) last: Timestamp,
    /// How many times the account was seen on it (saturating).
    pub(crate) count: u32,
}

/// Cap on the activity minutes kept per account: the smallest (earliest)
/// ones, which does not depend on input order.
pub(crate) const DEFAULT_ACTIVITY_CAP: usize = 1024;

/// Default size from which the builder sorts in parallel (see
/// [`IndexBuilder::parallel_threshold`]).
pub(crate) const DEFAULT_PARALLEL_THRESHOLD: usize = 100_000;

/// Whether a custom kind token is valid: lowercase `[a-z0-9_]{1,32}` and not
/// a built-in name (checked without allocating, once per observation).
fn valid_custom(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= crate::event::MAX_KIND_LEN
        && token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && IndicatorKind::BUILT_IN.iter().all(|k| k.as_str() != token)
}

/// Events the builder buffers before applying them together (see
/// [`IndexBuilder::add`]).
const PENDING: usize = 64;

/// Validated events waiting to be applied, their strings back to back.
#[derive(Debug, Default)]
struct Pending {
    /// Account ids of the events, concatenated.
    names: String,
    /// Observed values (for an ip: its canonical text, then its prefix), concatenated.
    values: String,
    events: Vec<PendingEvent>,
}

/// One pending event; its strings end at the given offsets and start where
/// the previous event's end.
#[derive(Debug)]
struct PendingEvent {
    name_end: usize,
    ts: Timestamp,
    what: What,
}

/// What a pending event does (an observation's value ends at `end` in the
/// pending text; with `ip` it is an address's canonical text).
#[derive(Debug)]
enum What {
    Signup,
    Observe { slot: u32, end: usize, ip: bool },
    Ban { reason: Option<Box<str>> },
    Unban,
}

/// Builds an [`Index`] from events given in any order.
#[derive(Debug)]
pub(crate) struct IndexBuilder {
    accounts: Interner,
    /// Temporary account id → folded times; its length is the account count.
    times: Vec<AccountTimes>,
    /// Validated events not yet applied (at most [`PENDING`]).
    pending: Pending,
    /// Scratch: the account ids of the pending events.
    account_ids: Vec<u32>,
    /// Scratch for canonical IP text and its prefix.
    scratch: String,
    /// Slot → kind; built-in kinds first, in `IndicatorKind::BUILT_IN` order.
    kinds: Vec<IndicatorKind>,
    custom_slots: AHashMap<Box<str>, usize>,
    /// Indicator values keyed by (slot, value), whose ids are the
    /// temporary indicator ids, and the observation records.
    values: ValueSide,
    bans: Vec<BanEvent>,
    events: u64,
    parallel_threshold: usize,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl IndexBuilder {
    /// An empty builder with default settings.
    pub(crate) fn new() -> Self {
        Self {
            accounts: Interner::default(),
            times: Vec::new(),
            pending: Pending::default(),
            account_ids: Vec::new(),
            scratch: String::new(),
            kinds: IndicatorKind::BUILT_IN.to_vec(),
            custom_slots: AHashMap::new(),
            values: ValueSide::default(),
            bans: Vec::new(),
            events: 0,
            parallel_threshold: DEFAULT_PARALLEL_THRESHOLD,
        }
    }

    /// Sorts with rayon from this many items. Default
    /// [`DEFAULT_PARALLEL_THRESHOLD`] (100,000); 0 always sorts in parallel.
    /// The result is the same either way.
    pub(crate) fn parallel_threshold(mut self, threshold: usize) -> Self {
        self.parallel_threshold = threshold;
        self
    }

    /// Adds one event.
    ///
    /// # Errors
    ///
    /// Returns the problem class and a message (without a line number, which
    /// the caller knows) if the event breaks the input bounds of docs/FORMATS.md: an empty or
    /// too long account id or value, a malformed custom kind, a reason over
    /// 256 bytes, or an `ip` value that is not an IPv4 or IPv6 address. The
    /// builder is unchanged then. Also fails, without changing anything, past
    /// 2³² − 1 distinct accounts or indicators.
    pub(crate) fn add(&mut self, event: &Event) -> Result<(), (InputProblem, String)> {
        validate_account(&event.account)?;
        // Validate everything before changing anything.
        let mut ip = None;
        match &event.action {
            Action::Observe(ind) => {
                validate_value(&ind.value)?;
                match &ind.kind {
                    IndicatorKind::Ip => {
                        ip = Some(parse_ip(&ind.value).ok_or_else(|| {
                            (
                                InputProblem::Ip,
                                format!(
                                    "invalid ip {:?} (expected an IPv4 or IPv6 address)",
                                    clip(&ind.value)
                                ),
                            )
                        })?);
                    }
                    IndicatorKind::Custom(token) if !valid_custom(token) => {
                        return Err((
                            InputProblem::Kind,
                            format!(
                                "invalid indicator kind {:?} (expected lowercase [a-z0-9_], 1 to 32 bytes, not a built-in name)",
                                clip(token)
                            ),
                        ));
                    }
                    _ => {}
                }
            }
            Action::Ban { reason: Some(reason) } if reason.len() > MAX_REASON_LEN => {
                return Err((
                    InputProblem::Reason,
                    format!(
                        "reason is {} bytes long (at most {MAX_REASON_LEN} allowed)",
                        reason.len()
                    ),
                ));
            }
            _ => {}
        }
        // Room for this event's account and two indicators (an ip and its
        // prefix) on top of the pending events'.
        let pending = &self.pending;
        let (names, values) = (pending.names.len(), pending.values.len());
        let n = pending.events.len();
        if !Interner::fits(
            self.accounts.len(),
            self.accounts.arena_len(),
            n + 1,
            names + event.account.len(),
        ) || !self.values.has_room(2 * n + 2, values + 4096)
        {
            return Err((
                InputProblem::TooLong,
                "too many distinct accounts or indicators (at most 4294967293); split the input"
                    .into(),
            ));
        }

        self.events += 1;
        let pending = &mut self.pending;
        pending.names.push_str(&event.account);
        let what = match &event.action {
            Action::Signup => What::Signup,
            Action::Observe(ind) => {
                let slot = self.slot(&ind.kind) as u32;
                let pending = &mut self.pending;
                if let Some(ip) = ip {
                    // The value side derives the prefix, once per distinct address.
                    write_ip(ip, &mut self.scratch);
                    pending.values.push_str(&self.scratch);
                } else {
                    pending.values.push_str(&ind.value);
                }
                What::Observe { slot, end: pending.values.len(), ip: ip.is_some() }
            }
            Action::Ban { reason } => What::Ban { reason: reason.as_deref().map(Box::from) },
            Action::Unban => What::Unban,
        };
        let pending = &mut self.pending;
        pending.events.push(PendingEvent { name_end: pending.names.len(), ts: event.ts, what });
        if pending.events.len() >= PENDING {
            self.apply_pending();
        }
        Ok(())
    }

    /// Applies the pending events: interns their accounts together (see
    /// [`Interner::intern_all`]), then records each event in order.
    fn apply_pending(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        let mut ids = std::mem::take(&mut self.account_ids);
        ids.clear();
        let names = interner::pieces(&pending.names, pending.events.iter().map(|e| e.name_end));
        self.accounts.intern_all(names.map(|name| (0, name)), &mut ids);
        let (events, pt) = (self.events, self.parallel_threshold);
        let mut start = 0;
        for (e, &account) in pending.events.drain(..).zip(&ids) {
            if account as usize == self.times.len() {
                self.times.push(AccountTimes::default());
            }
            let ts = e.ts;
            match e.what {
                // Observations go to the value side (see `values`), which
                // also notes activity minutes; their times are noted here.
                What::Observe { slot, end, ip } => {
                    let t = &mut self.times[account as usize];
                    t.saw(ts);
                    t.observations += 1;
                    let value = &pending.values[start..end];
                    self.values.push(account, slot, ts, value, ip, events, pt);
                    start = end;
                }
                What::Signup => {
                    let t = &mut self.times[account as usize];
                    t.saw(ts);
                    t.signup = t.signup.min(ts);
                }
                What::Ban { reason } => {
                    self.times[account as usize].saw(ts);
                    self.bans.push(BanEvent { account, ts, unban: false, reason });
                }
                What::Unban => {
                    self.times[account as usize].saw(ts);
                    self.bans.push(BanEvent { account, ts, unban: true, reason: None });
                }
            }
        }
        pending.names.clear();
        pending.values.clear();
        self.pending = pending;
        self.account_ids = ids;
    }

    /// How many events were added so far.
    pub(crate) fn event_count(&self) -> u64 {
        self.events
    }

    /// The slot of `kind`, adding a custom slot if new.
    fn slot(&mut self, kind: &IndicatorKind) -> usize {
        // Built-in kinds have fixed slots in `IndicatorKind::BUILT_IN` order;
        // custom kinds get slots after them in order of first appearance.
        if let Some(slot) = kind.built_in_index() {
            return slot;
        }
        let token = kind.as_str();
        if let Some(&slot) = self.custom_slots.get(token) {
            return slot;
        }
        let slot = self.kinds.len();
        self.kinds.push(kind.clone());
        self.custom_slots.insert(token.into(), slot);
        slot
    }

    /// Freezes the index: assigns ids in sorted key order and builds the
    /// posting lists, bitmaps, ban spans and activity lists.
    ///
    /// Strings are sorted once (radix on an 8-byte key, comparisons only
    /// for ties), then temporary ids are remapped through the resulting
    /// permutations, so no string is compared per link.
    ///
    /// # Complexity
    ///
    /// `O(n + b)` for `n` distinct accounts, indicators and links and `b`
    /// string bytes, plus `O(r log r)` comparisons per run of `r` strings
    /// that share their first 8 bytes after the common prefix and per
    /// account's links (parallel from the parallel threshold); memory linear
    /// in the distinct links, accounts and indicators.
    pub(crate) fn finish(mut self) -> Index {
        self.apply_pending();
        let pt = self.parallel_threshold;
        let parallel = self.events >= pt as u64;
        let Self { accounts, times, kinds, values, bans, events, .. } = self;
        let stage = values.finish();
        let activity = stage.activity;
        // The two sides share nothing until the postings: freeze them side by side.
        let ((accounts, account_rank, times), (links, values)) = join_if(
            parallel,
            || freeze_accounts(accounts, &times, pt),
            || {
                join_if(
                    parallel,
                    || stage.observations.into_merged(),
                    || freeze_values(stage.values, &kinds, pt),
                )
            },
        );
        let FrozenValues { kinds, kind_starts, table: values, rank: indicator_rank } = values;
        let (postings, ((ban_offsets, bans), (activity_offsets, activity))) = join_if(
            parallel,
            || Postings::build(links, &account_rank, &indicator_rank, pt),
            || (build_bans(bans, &account_rank), activity.finish(&account_rank)),
        );
        Index {
            accounts,
            times,
            kinds,
            kind_starts,
            values,
            postings,
            ban_offsets,
            bans,
            activity_offsets,
            activity,
            events,
        }
    }
}

/// `(a(), b())`, run with `rayon::join` if `parallel`.
fn join_if<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if parallel { rayon::join(a, b) } else { (a(), b()) }
}

/// Accounts sorted by name: the table, temporary id → final id, and the
/// times in final id order.
fn freeze_accounts(
    mut accounts: Interner,
    times: &[AccountTimes],
    pt: usize,
) -> (StrTable, Vec<u32>, Vec<AccountTimes>) {
    accounts.drop_table();
    let mut order: Vec<u32> = (0..accounts.len() as u32).collect();
    accounts.sort_ids(&mut order, pt);
    let mut rank = vec![0u32; order.len()];
    let mut sorted_times = Vec::with_capacity(order.len());
    for (r, &temp) in order.iter().enumerate() {
        rank[temp as usize] = r as u32;
        sorted_times.push(times[temp as usize]);
    }
    let table = accounts.table_by_rank(&rank);
    (table, rank, sorted_times)
}

/// The frozen indicator side: kinds, where each starts, values, and
/// temporary id → final id.
struct FrozenValues {
    kinds: Vec<IndicatorKind>,
    kind_starts: Vec<u32>,
    table: StrTable,
    rank: Vec<u32>,
}

/// Indicators in sorted (kind, value) order: kinds sorted, each kind's
/// values sorted. A counting sort groups the temporary ids by kind rank.
fn freeze_values(mut values: Interner, slot_kinds: &[IndicatorKind], pt: usize) -> FrozenValues {
    values.drop_table();
    let mut kind_order: Vec<usize> = (0..slot_kinds.len()).collect();
    kind_order.sort_by(|&a, &b| slot_kinds[a].cmp(&slot_kinds[b]));
    let mut rank_of_slot = vec![0usize; slot_kinds.len()];
    for (rank, &slot) in kind_order.iter().enumerate() {
        rank_of_slot[slot] = rank;
    }
    let n = values.len();
    let mut group_starts = vec![0usize; kind_order.len() + 1];
    for id in 0..n as u32 {
        group_starts[rank_of_slot[values.tag(id) as usize] + 1] += 1;
    }
    for k in 0..kind_order.len() {
        group_starts[k + 1] += group_starts[k];
    }
    let mut order = vec![0u32; n];
    let mut cursor = group_starts.clone();
    for id in 0..n as u32 {
        let g = rank_of_slot[values.tag(id) as usize];
        order[cursor[g]] = id;
        cursor[g] += 1;
    }
    let mut kinds = Vec::new();
    let mut kind_starts = vec![0u32];
    let mut groups = Vec::new();
    let mut rest = order.as_mut_slice();
    for (rank, &slot) in kind_order.iter().enumerate() {
        let (group, tail) = rest.split_at_mut(group_starts[rank + 1] - group_starts[rank]);
        rest = tail;
        if group.is_empty() {
            continue;
        }
        groups.push(group);
        kinds.push(slot_kinds[slot].clone());
        kind_starts.push(group_starts[rank + 1] as u32);
    }
    // Kinds are sorted independently: side by side once the index is large.
    if n >= pt {
        groups.par_iter_mut().for_each(|group| values.sort_ids(group, pt));
    } else {
        groups.iter_mut().for_each(|group| values.sort_ids(group, pt));
    }
    drop(groups);
    let mut rank = vec![0u32; n];
    for (r, &temp) in order.iter().enumerate() {
        rank[temp as usize] = r as u32;
    }
    drop(order);
    let table = values.table_by_rank(&rank);
    FrozenValues { kinds, kind_starts, table, rank }
}

/// Accounts ⇄ indicators with times, counts, signups, bans and activity.
/// Immutable; built by [`IndexBuilder::finish`].
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Account ids, sorted: `AccountId(i)` is `accounts.get(i)`.
    accounts: StrTable,
    /// Per account (final ids).
    times: Vec<AccountTimes>,
    /// Distinct kinds seen, sorted.
    kinds: Vec<IndicatorKind>,
    /// Invariant: `kind_starts.len() == kinds.len() + 1`; the indicators of
    /// `kinds[k]` are the ids `kind_starts[k]..kind_starts[k + 1]`.
    kind_starts: Vec<u32>,
    /// Indicator values: `IndicatorId(i)` has value `values.get(i)`; sorted within each kind.
    values: StrTable,
    postings: Postings,
    /// CSR over accounts into `bans`, each account's spans in time order.
    ban_offsets: Vec<usize>,
    bans: Vec<BanSpan>,
    /// CSR over accounts into `activity`, each account's minutes sorted and distinct.
    activity_offsets: Vec<usize>,
    activity: Vec<u32>,
    events: u64,
}

impl Index {
    /// Builds an index from events, for tests.
    ///
    /// # Errors
    ///
    /// As [`IndexBuilder::add`], with the 1-based position of the event as its line.
    #[cfg(test)]
    pub(crate) fn from_events<'a>(
        events: impl IntoIterator<Item = &'a Event>,
    ) -> crate::Result<Index> {
        let mut b = IndexBuilder::new();
        for (i, e) in events.into_iter().enumerate() {
            b.add(e).map_err(|(p, m)| crate::Error::input(i as u64 + 1, p, m))?;
        }
        Ok(b.finish())
    }

    /// How many accounts appear in any event.
    pub(crate) fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// How many distinct indicators (kind, value) were observed, `ip_prefix` included.
    pub(crate) fn indicator_count(&self) -> usize {
        self.values.len()
    }

    /// How many events were added.
    pub(crate) fn event_count(&self) -> u64 {
        self.events
    }

    /// How many distinct account–indicator links there are.
    pub(crate) fn link_count(&self) -> usize {
        self.postings.links.len()
    }

    /// The input id of `account`.
    ///
    /// # Panics
    ///
    /// If `account` is not an id of this index.
    #[track_caller]
    pub(crate) fn account_name(&self, account: AccountId) -> &str {
        self.accounts.get(account.index())
    }

    /// The id of the account named `name`, if it appears.
    pub(crate) fn account_id(&self, name: &str) -> Option<AccountId> {
        self.accounts.find_in(0..self.accounts.len(), name).map(|i| AccountId::new(i as u32))
    }

    /// Position of the kind of `indicator` in [`Index::kinds`].
    fn kind_index(&self, indicator: IndicatorId) -> usize {
        self.kind_starts.partition_point(|&s| s <= indicator.as_u32()) - 1
    }

    /// The kind of `indicator`.
    ///
    /// # Panics
    ///
    /// If `indicator` is not an id of this index.
    #[track_caller]
    pub(crate) fn indicator_kind(&self, indicator: IndicatorId) -> &IndicatorKind {
        assert!(indicator.index() < self.indicator_count(), "indicator id out of range");
        &self.kinds[self.kind_index(indicator)]
    }

    /// The value of `indicator`.
    ///
    /// # Panics
    ///
    /// If `indicator` is not an id of this index.
    #[track_caller]
    pub(crate) fn indicator_value(&self, indicator: IndicatorId) -> &str {
        self.values.get(indicator.index())
    }

    /// The id of the indicator `kind`=`value`, if observed. IP values are
    /// looked up in canonical form, as stored.
    pub(crate) fn indicator_id(&self, kind: &IndicatorKind, value: &str) -> Option<IndicatorId> {
        let k = self.kinds.binary_search(kind).ok()?;
        let range = self.kind_starts[k] as usize..self.kind_starts[k + 1] as usize;
        let found = if *kind == IndicatorKind::Ip {
            let canonical = parse_ip(value)?.to_string();
            self.values.find_in(range, &canonical)
        } else {
            self.values.find_in(range, value)
        };
        found.map(|i| IndicatorId::new(i as u32))
    }

    /// The kinds observed, sorted, each with the range of its indicator ids.
    pub(crate) fn kinds(&self) -> impl ExactSizeIterator<Item = (&IndicatorKind, Range<u32>)> {
        self.kinds
            .iter()
            .enumerate()
            .map(|(k, kind)| (kind, self.kind_starts[k]..self.kind_starts[k + 1]))
    }

    /// The links of `account`, sorted by indicator id.
    ///
    /// # Panics
    ///
    /// If `account` is not an id of this index.
    #[track_caller]
    pub(crate) fn account_links(&self, account: AccountId) -> &[Link] {
        let p = &self.postings;
        &p.links[p.account_offsets[account.index()]..p.account_offsets[account.index() + 1]]
    }

    /// The link between `account` and `indicator`, if any (binary search;
    /// tests only: hot loops read the postings directly).
    #[cfg(test)]
    pub(crate) fn link(&self, account: AccountId, indicator: IndicatorId) -> Option<&Link> {
        let links = self.account_links(account);
        links.binary_search_by_key(&indicator, |l| l.indicator).ok().map(|i| &links[i])
    }

    /// The accounts seen on `indicator`, sorted.
    ///
    /// # Panics
    ///
    /// If `indicator` is not an id of this index.
    #[track_caller]
    pub(crate) fn indicator_accounts(&self, indicator: IndicatorId) -> &[AccountId] {
        let p = &self.postings;
        &p.indicator_accounts
            [p.indicator_offsets[indicator.index()]..p.indicator_offsets[indicator.index() + 1]]
    }

    /// When each account of [`Index::indicator_accounts`] was first seen on
    /// `indicator` (same order).
    ///
    /// # Panics
    ///
    /// If `indicator` is not an id of this index.
    #[track_caller]
    pub(crate) fn indicator_firsts(&self, indicator: IndicatorId) -> &[Timestamp] {
        let p = &self.postings;
        &p.indicator_firsts
            [p.indicator_offsets[indicator.index()]..p.indicator_offsets[indicator.index() + 1]]
    }

    /// How many accounts were seen on `indicator`.
    #[track_caller]
    pub(crate) fn indicator_degree(&self, indicator: IndicatorId) -> usize {
        let p = &self.postings;
        p.indicator_offsets[indicator.index() + 1] - p.indicator_offsets[indicator.index()]
    }

    /// The accounts of `indicator` with their link to it, in account order
    /// (tests only: a binary search per account, see [`Index::indicator_accounts`]).
    #[cfg(test)]
    #[track_caller]
    pub(crate) fn indicator_links(
        &self,
        indicator: IndicatorId,
    ) -> impl ExactSizeIterator<Item = (AccountId, &Link)> + '_ {
        self.indicator_accounts(indicator).iter().map(move |&a| {
            // Both directions hold the same links, so the search succeeds;
            // were that ever broken, a zero link beats a panic.
            const MISSING: Link =
                Link { indicator: IndicatorId::new(0), first: 0, last: 0, count: 0 };
            (a, self.link(a, indicator).unwrap_or(&MISSING))
        })
    }

    /// The accounts of `indicator` as a bitmap, kept for indicators shared by
    /// two or more accounts (`None` for the others: use
    /// [`Index::indicator_accounts`]).
    pub(crate) fn indicator_bitmap(&self, indicator: IndicatorId) -> Option<&RoaringBitmap> {
        let p = &self.postings;
        p.shared.binary_search(&indicator).ok().map(|j| &p.bitmaps[j])
    }

    /// The ids of the indicators shared by two or more accounts, sorted.
    pub(crate) fn shared_indicators(&self) -> &[IndicatorId] {
        &self.postings.shared
    }

    /// When `account` signed up: its earliest explicit signup, else the
    /// earliest time it was seen.
    #[track_caller]
    pub(crate) fn signup(&self, account: AccountId) -> Timestamp {
        self.times[account.index()].signup()
    }

    /// Whether `account` had an explicit `signup` event.
    #[track_caller]
    pub(crate) fn has_explicit_signup(&self, account: AccountId) -> bool {
        self.times[account.index()].has_explicit_signup()
    }

    /// The earliest time of any event of `account`.
    #[track_caller]
    pub(crate) fn first_seen(&self, account: AccountId) -> Timestamp {
        self.times[account.index()].first
    }

    /// The latest time of any event of `account`.
    #[track_caller]
    pub(crate) fn last_seen(&self, account: AccountId) -> Timestamp {
        self.times[account.index()].last
    }

    /// How many `observe` events `account` had, repeats included (an `ip`
    /// observation counts once, not twice for its prefix).
    #[track_caller]
    pub(crate) fn observation_count(&self, account: AccountId) -> u64 {
        self.times[account.index()].observations
    }

    /// The bans of `account`, in time order.
    #[track_caller]
    pub(crate) fn bans(&self, account: AccountId) -> &[BanSpan] {
        &self.bans[self.ban_offsets[account.index()]..self.ban_offsets[account.index() + 1]]
    }

    /// Whether `account` is banned at the end of the input.
    #[track_caller]
    pub(crate) fn is_banned(&self, account: AccountId) -> bool {
        self.bans(account).last().is_some_and(|s| s.unban.is_none())
    }

    /// The distinct minutes (`ts / 60`) in which `account` was observed,
    /// sorted; at most the builder's activity cap, keeping the earliest.
    #[track_caller]
    pub(crate) fn activity(&self, account: AccountId) -> &[u32] {
        &self.activity
            [self.activity_offsets[account.index()]..self.activity_offsets[account.index() + 1]]
    }

    /// Approximate heap bytes held (bitmaps by their serialized size).
    pub(crate) fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.accounts.heap_bytes()
            + self.times.capacity() * size_of::<AccountTimes>()
            + self.values.heap_bytes()
            + self.postings.heap_bytes()
            + self.ban_offsets.capacity() * size_of::<usize>()
            + self.bans.capacity() * size_of::<BanSpan>()
            + self.activity_offsets.capacity() * size_of::<usize>()
            + self.activity.capacity() * size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(ts: Timestamp, account: &str, value: &str) -> Event {
        Event::observe(ts, account, IndicatorKind::Ip, value)
    }

    fn dev(ts: Timestamp, account: &str, value: &str) -> Event {
        Event::observe(ts, account, IndicatorKind::Device, value)
    }

    fn sample() -> Vec<Event> {
        vec![
            ip(100, "b", "10.0.0.1"),
            dev(50, "a", "d1"),
            ip(40, "a", "10.0.0.2"),
            ip(130, "b", "10.0.0.1"),
            Event::signup(30, "b"),
            Event::ban(200, "a", Some("hydra".into())),
            dev(60, "c", "d1"),
            Event::observe(70, "c", IndicatorKind::parse("ja5").unwrap(), "x"),
        ]
    }

    #[test]
    fn ids_follow_sorted_keys() {
        let index = Index::from_events(&sample()).unwrap();
        assert_eq!(index.account_count(), 3);
        assert_eq!(index.event_count(), 8);
        let names: Vec<&str> = (0..3).map(|i| index.account_name(AccountId::new(i))).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(index.account_id("b"), Some(AccountId::new(1)));
        assert_eq!(index.account_id("zz"), None);
        // ip(2) < ip_prefix(1) < device(1) < custom(1), by IndicatorKind order.
        let keys: Vec<(String, String)> = (0..index.indicator_count() as u32)
            .map(|i| {
                let id = IndicatorId::new(i);
                (index.indicator_kind(id).to_string(), index.indicator_value(id).to_string())
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("ip".into(), "10.0.0.1".into()),
                ("ip".into(), "10.0.0.2".into()),
                ("ip_prefix".into(), "10.0.0.0/24".into()),
                ("device".into(), "d1".into()),
                ("ja5".into(), "x".into()),
            ]
        );
        let kinds: Vec<(String, Range<u32>)> =
            index.kinds().map(|(k, r)| (k.to_string(), r)).collect();
        assert_eq!(kinds[0], ("ip".to_string(), 0..2));
        assert_eq!(index.indicator_id(&IndicatorKind::Device, "d1"), Some(IndicatorId::new(3)));
        assert_eq!(
            index.indicator_id(&IndicatorKind::Ip, "::ffff:10.0.0.2"),
            Some(IndicatorId::new(1))
        );
        assert_eq!(index.indicator_id(&IndicatorKind::Email, "d1"), None);
    }

    #[test]
    fn ip_prefix_is_derived_and_shared() {
        let index = Index::from_events(&sample()).unwrap();
        let prefix = index.indicator_id(&IndicatorKind::IpPrefix, "10.0.0.0/24").unwrap();
        assert_eq!(index.indicator_accounts(prefix), [AccountId::new(0), AccountId::new(1)]);
        let bitmap = index.indicator_bitmap(prefix).unwrap();
        assert_eq!(bitmap.iter().collect::<Vec<_>>(), [0, 1]);
        let lone = index.indicator_id(&IndicatorKind::Ip, "10.0.0.2").unwrap();
        assert!(index.indicator_bitmap(lone).is_none());
        assert_eq!(index.shared_indicators().len(), 2);
    }

    #[test]
    fn repeated_observations_are_one_link() {
        let index = Index::from_events(&sample()).unwrap();
        let b = index.account_id("b").unwrap();
        let ip1 = index.indicator_id(&IndicatorKind::Ip, "10.0.0.1").unwrap();
        assert_eq!(index.account_links(b).len(), 2);
        let link = index.link(b, ip1).unwrap();
        assert_eq!((link.first, link.last, link.count), (100, 130, 2));
        let via: Vec<(AccountId, Link)> =
            index.indicator_links(ip1).map(|(a, l)| (a, *l)).collect();
        assert_eq!(index.indicator_firsts(ip1), [link.first]);
        assert_eq!(via, [(b, *link)]);
        assert_eq!(index.observation_count(b), 2);
        assert_eq!(index.link_count(), 7);
    }

    #[test]
    fn signups_bans_and_activity() {
        let index = Index::from_events(&sample()).unwrap();
        let [a, b, c] = [0, 1, 2].map(AccountId::new);
        assert_eq!((index.signup(a), index.has_explicit_signup(a)), (40, false));
        assert_eq!((index.signup(b), index.has_explicit_signup(b)), (30, true));
        assert_eq!((index.first_seen(a), index.last_seen(a)), (40, 200));
        assert!(index.is_banned(a));
        assert!(!index.is_banned(c));
        assert_eq!(index.bans(a)[0].reason.as_deref(), Some("hydra"));
        assert_eq!(index.activity(a), [0]);
        assert_eq!(index.activity(b), [1, 2]);
        assert!(index.heap_bytes() > 0);
    }

    #[test]
    fn slots_match_built_in_order() {
        for (i, k) in IndicatorKind::BUILT_IN.iter().enumerate() {
            assert_eq!(k.built_in_index(), Some(i));
            assert!(!valid_custom(k.as_str()));
        }
        assert_eq!(IndicatorKind::parse("x").unwrap().built_in_index(), None);
        assert!(valid_custom("ja4_h2"));
    }

    #[test]
    fn bad_ip_is_an_error_and_changes_nothing() {
        let mut builder = IndexBuilder::new();
        let err = builder.add(&ip(1, "a", "300.1.2.3")).unwrap_err();
        assert_eq!(err.0, InputProblem::Ip);
        assert!(err.1.contains("300.1.2.3"), "{}", err.1);
        let bad_kind = Event::observe(1, "a", IndicatorKind::Custom("Bad".into()), "v");
        assert_eq!(builder.add(&bad_kind).unwrap_err().0, InputProblem::Kind);
        assert_eq!(builder.add(&Event::signup(1, "")).unwrap_err().0, InputProblem::Account);
        let index = builder.finish();
        assert_eq!((index.account_count(), index.event_count()), (0, 0));
    }

    #[test]
    fn input_order_does_not_change_the_index() {
        let events = sample();
        let mut reversed = events.clone();
        reversed.reverse();
        let a = Index::from_events(&events).unwrap();
        let b = Index::from_events(&reversed).unwrap();
        assert_eq!(a.postings.links, b.postings.links);
        assert_eq!(a.postings.indicator_accounts, b.postings.indicator_accounts);
        assert_eq!(a.times, b.times);
        assert_eq!(a.bans, b.bans);
        assert_eq!(a.activity, b.activity);
    }
}
