//! The watcher's incremental index: accounts and indicators interned to dense
//! `u32`s, links with first/last seen, per-indicator account counts and
//! banned-account lists, and amortized eviction of stale links.
//!
//! Ids are handed out in arrival order and reused (LIFO) after eviction, so
//! they depend only on the events; they never reach the output, which always
//! names accounts and indicators by their strings.
//!
//! Each string lives once, in its slot; the lookup tables ([`IdTable`]) hold
//! ids with the string's hash, length and first bytes, so interning hashes a
//! string once and, for strings of at most [`HEAD`] bytes, decides in the
//! table without reading the slot's string from the heap (the cache miss
//! that dominated interning when the tables were keyed by a copy of each
//! string), and a table grows without reading any slot.

use ahash::{AHashMap, RandomState};
use hashbrown::HashTable;

use crate::event::{IndicatorKind, Timestamp};

/// Number of built-in kinds; custom kinds get codes from here on.
pub(crate) const BUILT_IN_KINDS: u16 = IndicatorKind::BUILT_IN.len() as u16;

/// Kind code of `ip_prefix` (its position in `IndicatorKind::BUILT_IN`).
pub(crate) const IP_PREFIX_CODE: u16 = 1;

/// Account bit: announced as a replacement.
pub(crate) const ANNOUNCED_REPLACEMENT: u8 = 1;
/// Account bit: announced as a hydra member.
pub(crate) const ANNOUNCED_HYDRA: u8 = 2;
/// Account bit: its replacement flag was retracted.
pub(crate) const RETRACTED: u8 = 4;
/// Account bit: counted in `suspects` of every indicator it is linked to
/// (flagged as replacement, not retracted, not banned).
pub(crate) const SUSPECT: u8 = 8;
/// Account bit: had an explicit `signup` event (its time wins over first seen).
pub(crate) const EXPLICIT_SIGNUP: u8 = 16;
/// Account bit: announced a replacement by the one-to-one takeover rule
/// (`replacement`), not by a network's bans (`network`).
pub(crate) const TAKEOVER: u8 = 32;

/// One account's link to one indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) indicator: u32,
    pub(crate) first: Timestamp,
    pub(crate) last: Timestamp,
}

/// A ban in force.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ban {
    pub(crate) ts: Timestamp,
    /// Reason weight in [0, 1] (abuse reasons 1).
    pub(crate) weight: f32,
}

/// A banned account as seen from one of its indicators.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct BannedOn {
    pub(crate) account: u32,
    pub(crate) ts: Timestamp,
    pub(crate) weight: f32,
}

/// One account slot. A free slot has an empty `name` (real ids are 1..=256 bytes).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Account {
    pub(crate) name: Box<str>,
    /// Explicit signup time, else the earliest time seen.
    pub(crate) signup: Timestamp,
    pub(crate) last_seen: Timestamp,
    /// A lower bound of `min(link.last)`, so sweeps skip fresh accounts.
    pub(crate) oldest_link: Timestamp,
    /// Sorted by indicator id.
    pub(crate) links: Vec<Link>,
    pub(crate) ban: Option<Ban>,
    /// `ANNOUNCED_*`, `RETRACTED`, `SUSPECT` bits.
    pub(crate) bits: u8,
    /// Replacement-flagged accounts whose flag cites this (banned) account.
    pub(crate) dependents: Vec<u32>,
}

impl Account {
    pub(crate) fn is_free(&self) -> bool {
        self.name.is_empty()
    }

    pub(crate) fn link_position(&self, indicator: u32) -> Result<usize, usize> {
        self.links.binary_search_by_key(&indicator, |l| l.indicator)
    }
}

/// One indicator slot. A free slot has an empty `value`.
///
/// Aligned to a cache line (its size is one): scoring reads the slot of each
/// of an account's indicators, and an unaligned slot straddles two lines.
#[derive(Clone, Debug, Default, PartialEq)]
#[repr(align(64))]
pub(crate) struct Indicator {
    pub(crate) kind: u16,
    pub(crate) value: Box<str>,
    /// Live links to it.
    pub(crate) accounts: u32,
    /// Banned accounts linked to it, in ban order.
    pub(crate) banned: Vec<BannedOn>,
    /// Linked accounts with the `SUSPECT` bit.
    pub(crate) suspects: u32,
    /// 1 + index of the hydra cluster (of the clustering in force) whose
    /// members share it; 0 if none. Not in snapshots: set again from the
    /// clustering stored beside them.
    pub(crate) hydra: u32,
    /// Members of that cluster linked to it.
    pub(crate) hydra_members: u32,
}

impl Indicator {
    pub(crate) fn is_free(&self) -> bool {
        self.value.is_empty()
    }
}

/// The incremental index.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) accounts: Vec<Account>,
    pub(crate) indicators: Vec<Indicator>,
    /// Custom kind names; kind code `BUILT_IN_KINDS + i`.
    pub(crate) custom_kinds: Vec<Box<str>>,
    /// Free slots, reused last-in first-out.
    pub(crate) free_accounts: Vec<u32>,
    pub(crate) free_indicators: Vec<u32>,
    /// Next account examined by the eviction sweep.
    pub(crate) sweep_cursor: usize,
    /// The eviction clock: the earliest time among the last
    /// [`CLOCK_QUORUM`] events, never moving back (see [`State::advance_clock`]).
    pub(crate) now: Timestamp,
    /// Times of the last [`CLOCK_QUORUM`] events, event `n` (1-based) at
    /// `n % CLOCK_QUORUM`; `Timestamp::MIN` before that many events.
    pub(crate) recent: [Timestamp; CLOCK_QUORUM],
    /// Events applied (including bootstrap), drives schedules.
    pub(crate) events: u64,
    pub(crate) live_links: u64,
    // Lookup tables, rebuilt from the slots when a snapshot is loaded.
    /// Name -> id of the live accounts.
    account_ids: IdTable,
    /// Per kind code: value -> id of the live indicators.
    indicator_ids: Vec<IdTable>,
    custom_kind_ids: AHashMap<Box<str>, u16>,
}

/// Events that must all have reached a time before the eviction clock does:
/// one event dated far in the future (a bad clock, a hostile row) cannot
/// move the clock alone, and a stream that really jumps ahead (after an
/// outage) moves it after this many events.
pub(crate) const CLOCK_QUORUM: usize = 8;

/// Leading bytes of a string held in its [`IdTable`] entry (an entry is 32
/// bytes): enough for account ids, addresses, cards, devices and phones.
const HEAD: usize = 22;

/// Fixed seeds: hashes never reach ids or output, but fixed seeds keep runs
/// reproducible to the byte, probe sequences included.
const HASHER: RandomState = RandomState::with_seeds(
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
);

/// One [`IdTable`] entry: a slot id with 32 bits of its string's hash, its
/// length (saturated: longer strings are compared in full anyway) and first
/// [`HEAD`] bytes (zero-padded).
#[derive(Clone, Copy, Debug)]
struct Entry {
    id: u32,
    hash: u32,
    len: u16,
    head: [u8; HEAD],
}

/// The table's 64-bit hash of a stored 32-bit hash: spread so that both the
/// low bits (the bucket) and the top bits (the tag) vary.
fn spread(hash: u32) -> u64 {
    u64::from(hash).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A string looked up in an [`IdTable`]: hashed once, its head copied once.
struct Key<'k> {
    text: &'k str,
    hash: u32,
    len: u16,
    head: [u8; HEAD],
}

impl<'k> Key<'k> {
    fn new(text: &'k str) -> Self {
        let mut head = [0; HEAD];
        let n = text.len().min(HEAD);
        head[..n].copy_from_slice(&text.as_bytes()[..n]);
        let len = u16::try_from(text.len()).unwrap_or(u16::MAX);
        Self { text, hash: (HASHER.hash_one(text) >> 32) as u32, len, head }
    }

    /// Whether `e` is this string; `name` reads a slot's string, needed only
    /// for strings longer than [`HEAD`].
    fn matches<'s>(&self, e: &Entry, name: impl Fn(u32) -> &'s str) -> bool {
        e.hash == self.hash
            && e.len == self.len
            && e.head == self.head
            && (self.text.len() <= HEAD || name(e.id) == self.text)
    }
}

/// Ids of live slots by their strings, which live in the slots only.
#[derive(Debug, Default)]
struct IdTable(HashTable<Entry>);

impl IdTable {
    /// The id of `key`; `name` reads a slot's string.
    fn find<'s>(&self, key: &Key<'_>, name: impl Fn(u32) -> &'s str) -> Option<u32> {
        self.0.find(spread(key.hash), |e| key.matches(e, &name)).map(|e| e.id)
    }

    /// Adds `key` (not held) as slot `id`.
    fn insert(&mut self, key: &Key<'_>, id: u32) {
        let entry = Entry { id, hash: key.hash, len: key.len, head: key.head };
        self.0.insert_unique(spread(key.hash), entry, |e| spread(e.hash));
    }

    /// Removes slot `id`, held under the string `text`.
    fn remove(&mut self, text: &str, id: u32) {
        let hash = spread(Key::new(text).hash);
        if let Ok(e) = self.0.find_entry(hash, |e| e.id == id) {
            e.remove();
        }
    }
}

impl State {
    pub(crate) fn new() -> Self {
        Self {
            indicator_ids: (0..BUILT_IN_KINDS).map(|_| IdTable::default()).collect(),
            recent: [Timestamp::MIN; CLOCK_QUORUM],
            ..Self::default()
        }
    }

    /// Counts an event at `ts` and advances the eviction clock to the
    /// earliest time among the last [`CLOCK_QUORUM`] events, if that is later.
    ///
    /// So the clock follows the bulk of the stream: a row dated in the future
    /// is applied (its links live until the clock reaches their time plus the
    /// horizon) but moves the clock only once `CLOCK_QUORUM - 1` later events
    /// are as late; a row from the past never moves it back.
    pub(crate) fn advance_clock(&mut self, ts: Timestamp) {
        self.events += 1;
        self.recent[(self.events % CLOCK_QUORUM as u64) as usize] = ts;
        let floor = self.recent.iter().copied().min().unwrap_or(ts);
        self.now = self.now.max(floor);
    }

    /// Rebuilds the lookup maps from the slots (after loading a snapshot).
    pub(crate) fn rebuild_maps(&mut self) {
        self.account_ids = IdTable::default();
        for (i, a) in self.accounts.iter().enumerate().filter(|(_, a)| !a.is_free()) {
            self.account_ids.insert(&Key::new(&a.name), i as u32);
        }
        let kinds = BUILT_IN_KINDS as usize + self.custom_kinds.len();
        self.indicator_ids = (0..kinds).map(|_| IdTable::default()).collect();
        for (i, ind) in self.indicators.iter().enumerate().filter(|(_, ind)| !ind.is_free()) {
            self.indicator_ids[ind.kind as usize].insert(&Key::new(&ind.value), i as u32);
        }
        self.custom_kind_ids = self
            .custom_kinds
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), BUILT_IN_KINDS + i as u16))
            .collect();
    }

    pub(crate) fn account_id(&self, name: &str) -> Option<u32> {
        self.find_account(&Key::new(name))
    }

    /// The id of the live account named by `key`.
    fn find_account(&self, key: &Key<'_>) -> Option<u32> {
        self.account_ids.find(key, |id| &self.accounts[id as usize].name)
    }

    /// The id of the live indicator of kind `code` whose value is `key`.
    fn find_indicator_key(&self, code: u16, key: &Key<'_>) -> Option<u32> {
        self.indicator_ids[code as usize].find(key, |id| &self.indicators[id as usize].value)
    }

    /// The id of `name`, creating the account (signed up implicitly at `ts`).
    pub(crate) fn intern_account(&mut self, name: &str, ts: Timestamp) -> u32 {
        let key = Key::new(name);
        if let Some(id) = self.find_account(&key) {
            return id;
        }
        let account = Account {
            name: name.into(),
            signup: ts,
            last_seen: ts,
            oldest_link: Timestamp::MAX,
            ..Account::default()
        };
        let id = match self.free_accounts.pop() {
            Some(id) => {
                self.accounts[id as usize] = account;
                id
            }
            None => {
                self.accounts.push(account);
                (self.accounts.len() - 1) as u32
            }
        };
        self.account_ids.insert(&key, id);
        id
    }

    /// The code of a kind, interning custom kinds.
    pub(crate) fn kind_code(&mut self, kind: &IndicatorKind) -> u16 {
        if let IndicatorKind::Custom(name) = kind {
            if let Some(&code) = self.custom_kind_ids.get(&**name) {
                return code;
            }
            let code = BUILT_IN_KINDS + self.custom_kinds.len() as u16;
            self.custom_kinds.push(name.clone());
            self.custom_kind_ids.insert(name.clone(), code);
            self.indicator_ids.push(IdTable::default());
            return code;
        }
        // Built-in kinds: their position in `IndicatorKind::BUILT_IN`.
        match kind.built_in_index() {
            Some(i) => i as u16,
            None => super::config::kind_slot(kind) as u16,
        }
    }

    /// The id of indicator `kind`=`value` if held, without creating it.
    pub(crate) fn find_indicator(&self, kind: &IndicatorKind, value: &str) -> Option<u32> {
        let code = match kind {
            IndicatorKind::Custom(name) => *self.custom_kind_ids.get(&**name)?,
            _ => kind.built_in_index()? as u16,
        };
        self.find_indicator_key(code, &Key::new(value))
    }

    /// The kind named by a code.
    pub(crate) fn kind(&self, code: u16) -> IndicatorKind {
        match IndicatorKind::BUILT_IN.get(code as usize) {
            Some(k) => k.clone(),
            None => {
                IndicatorKind::Custom(self.custom_kinds[(code - BUILT_IN_KINDS) as usize].clone())
            }
        }
    }

    /// The id of indicator `kind`=`value`, creating it if needed.
    pub(crate) fn intern_indicator(&mut self, kind: u16, value: &str) -> u32 {
        let key = Key::new(value);
        if let Some(id) = self.find_indicator_key(kind, &key) {
            return id;
        }
        let ind = Indicator { kind, value: value.into(), ..Indicator::default() };
        let id = match self.free_indicators.pop() {
            Some(id) => {
                self.indicators[id as usize] = ind;
                id
            }
            None => {
                self.indicators.push(ind);
                (self.indicators.len() - 1) as u32
            }
        };
        self.indicator_ids[kind as usize].insert(&key, id);
        id
    }

    /// Records that `account` was seen on `indicator` at `ts`. Returns whether
    /// the link is new.
    pub(crate) fn link(&mut self, account: u32, indicator: u32, ts: Timestamp) -> bool {
        let a = &mut self.accounts[account as usize];
        match a.link_position(indicator) {
            Ok(i) => {
                let l = &mut a.links[i];
                l.first = l.first.min(ts);
                l.last = l.last.max(ts);
                false
            }
            Err(i) => {
                a.links.insert(i, Link { indicator, first: ts, last: ts });
                a.oldest_link = a.oldest_link.min(ts);
                let banned = a.ban.clone();
                let suspect = a.bits & SUSPECT != 0;
                let ind = &mut self.indicators[indicator as usize];
                ind.accounts += 1;
                if let Some(ban) = banned {
                    ind.banned.push(BannedOn { account, ts: ban.ts, weight: ban.weight });
                }
                if suspect {
                    ind.suspects += 1;
                }
                self.live_links += 1;
                true
            }
        }
    }

    /// Whether `indicator` has a ban from before `account`'s signup (plus
    /// `grace`): only then can a new link to it make the account a
    /// replacement. Bans are kept in arrival order, so the first is the
    /// earliest in the common case of time-ordered input.
    pub(crate) fn has_ban_before(&self, indicator: u32, account: u32, grace: i64) -> bool {
        let limit = self.accounts[account as usize].signup.saturating_add(grace);
        self.indicators[indicator as usize].banned.iter().any(|b| b.ts <= limit)
    }

    /// Counts `account`, newly flagged into hydra `cluster` of the
    /// clustering in force, among the members on each of its indicators
    /// marked for that cluster (so a pooled value stays the network's while
    /// the operator's new accounts pile onto it between clusterings).
    ///
    /// Its indicators that carry no mark yet are marked for the cluster
    /// (one member) and pushed to `marked`, so the network's values follow
    /// its new accounts until the next clustering replaces the marks.
    pub(crate) fn join_marks(&mut self, account: u32, cluster: u32, marked: &mut Vec<u32>) {
        let a = &self.accounts[account as usize];
        for l in &a.links {
            let ind = &mut self.indicators[l.indicator as usize];
            if ind.hydra == 0 {
                ind.hydra = cluster + 1;
                marked.push(l.indicator);
            }
            if ind.hydra == cluster + 1 {
                ind.hydra_members += 1;
            }
        }
    }

    /// Sets or clears the `SUSPECT` bit, keeping indicator counts in step.
    pub(crate) fn set_suspect(&mut self, account: u32, on: bool) {
        let a = &mut self.accounts[account as usize];
        if (a.bits & SUSPECT != 0) == on {
            return;
        }
        a.bits ^= SUSPECT;
        for l in &a.links {
            let ind = &mut self.indicators[l.indicator as usize];
            if on {
                ind.suspects += 1;
            } else {
                ind.suspects -= 1;
            }
        }
    }

    /// Advances the eviction clock and examines the next `step` accounts:
    /// links last seen before `now - horizon` are dropped, then idle accounts
    /// with nothing worth remembering are freed.
    pub(crate) fn sweep(&mut self, horizon: i64, step: usize) {
        let cutoff = self.now.saturating_sub(horizon);
        if self.accounts.is_empty() {
            return;
        }
        for _ in 0..step.min(self.accounts.len()) {
            if self.sweep_cursor >= self.accounts.len() {
                self.sweep_cursor = 0;
            }
            let id = self.sweep_cursor as u32;
            self.sweep_cursor += 1;
            self.evict_account_links(id, cutoff);
        }
    }

    fn evict_account_links(&mut self, id: u32, cutoff: Timestamp) {
        let a = &self.accounts[id as usize];
        if a.is_free() || (a.oldest_link >= cutoff && a.last_seen >= cutoff) {
            return;
        }
        let mut a = std::mem::take(&mut self.accounts[id as usize]);
        let suspect = a.bits & SUSPECT != 0;
        let banned = a.ban.is_some();
        let mut oldest = Timestamp::MAX;
        a.links.retain(|l| {
            if l.last >= cutoff {
                oldest = oldest.min(l.last);
                return true;
            }
            let ind = &mut self.indicators[l.indicator as usize];
            ind.accounts -= 1;
            if suspect {
                ind.suspects -= 1;
            }
            if banned {
                ind.banned.retain(|b| b.account != id);
            }
            self.live_links -= 1;
            if ind.accounts == 0 {
                self.indicator_ids[ind.kind as usize].remove(&ind.value, l.indicator);
                *ind = Indicator::default();
                self.free_indicators.push(l.indicator);
            }
            false
        });
        a.oldest_link = oldest;
        let forgettable = a.links.is_empty()
            && a.last_seen < cutoff
            && a.bits & (ANNOUNCED_REPLACEMENT | ANNOUNCED_HYDRA) == 0
            && a.dependents.is_empty();
        if forgettable {
            self.account_ids.remove(&a.name, id);
            self.free_accounts.push(id);
            // The slot stays free (empty name) until reused.
        } else {
            self.accounts[id as usize] = a;
        }
    }

    /// Live (non-free) accounts.
    pub(crate) fn account_count(&self) -> usize {
        self.accounts.len() - self.free_accounts.len()
    }

    /// Live (non-free) indicators.
    pub(crate) fn indicator_count(&self) -> usize {
        self.indicators.len() - self.free_indicators.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_counted_once_and_evicted_after_the_horizon() {
        let mut s = State::new();
        let a = s.intern_account("a", 0);
        let b = s.intern_account("b", 0);
        let ip = s.intern_indicator(0, "1.2.3.4");
        assert!(s.link(a, ip, 0));
        assert!(!s.link(a, ip, 5));
        assert!(s.link(b, ip, 10));
        assert_eq!(s.indicators[ip as usize].accounts, 2);
        assert_eq!(s.live_links, 2);
        s.now = 1000;
        s.sweep(100, 10);
        assert_eq!(s.live_links, 0);
        assert_eq!(s.account_count(), 0);
        assert_eq!(s.indicator_count(), 0);
        // Slots are reused, and lookups no longer find the evicted names.
        assert_eq!(s.account_id("a"), None);
        let c = s.intern_account("c", 1000);
        assert!(c == a || c == b);
        assert_eq!(s.account_id("c"), Some(c));
    }

    #[test]
    fn one_future_row_does_not_move_the_clock() {
        let mut s = State::new();
        let day = 86_400;
        for i in 0..20 {
            s.advance_clock(1_767_225_600 + i * 60);
        }
        let before = s.now;
        assert!(before >= 1_767_225_600 + 10 * 60);
        // 9999-12-31, then the stream goes on: the clock stays with the stream.
        s.advance_clock(253_402_214_400);
        s.advance_clock(1_767_225_600 + 21 * 60);
        assert!(s.now < before + day, "clock jumped to {}", s.now);
        // A row from the past never moves it back.
        s.advance_clock(0);
        assert!(s.now >= before);
        // A real jump (an outage) reaches the clock after a quorum of events.
        let later = 1_767_225_600 + 200 * day;
        for i in 0..CLOCK_QUORUM as i64 {
            s.advance_clock(later + i);
        }
        assert_eq!(s.now, later);
    }

    #[test]
    fn strings_that_share_their_head_get_their_own_ids() {
        let mut s = State::new();
        let head = "x".repeat(HEAD);
        let values = [format!("{head}a"), format!("{head}b"), head.clone(), head[1..].to_owned()];
        let ids: Vec<u32> = values.iter().map(|v| s.intern_indicator(6, v)).collect();
        for (i, v) in values.iter().enumerate() {
            assert_eq!(s.intern_indicator(6, v), ids[i]);
            assert_eq!(s.find_indicator(&IndicatorKind::Email, v), Some(ids[i]));
            // Another kind is another table.
            assert_eq!(s.find_indicator(&IndicatorKind::Device, v), None);
        }
        assert_eq!(s.indicator_count(), values.len());
    }

    #[test]
    fn an_indicator_slot_is_one_cache_line_and_a_table_entry_half_of_one() {
        assert_eq!(std::mem::size_of::<Indicator>(), 64);
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }

    #[test]
    fn rebuilt_maps_find_the_same_ids() {
        let mut s = State::new();
        let a = s.intern_account("a", 0);
        let code = s.kind_code(&IndicatorKind::Custom("ja4".into()));
        assert_eq!(code, BUILT_IN_KINDS);
        let i = s.intern_indicator(code, "x");
        s.link(a, i, 0);
        s.rebuild_maps();
        assert_eq!(s.account_id("a"), Some(a));
        assert_eq!(s.intern_indicator(code, "x"), i);
        assert_eq!(s.kind_code(&IndicatorKind::Custom("ja4".into())), code);
        assert_eq!(s.kind(code).as_str(), "ja4");
    }
}
