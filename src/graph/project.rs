//! Projection of the account–indicator index onto an account graph, with the
//! supernode cap, time windows, per-kind caps and top-k.
//!
//! # Overview
//!
//! [`project`] walks every indicator shared by two or more accounts and emits
//! one weighted contribution per pair of accounts it links (see
//! [`weight`](super::weight) for the formula):
//!
//! - an indicator with at most `cap` accounts links every pair;
//! - a supernode (more than `cap` accounts) links only accounts first seen on
//!   it in the same time window, skipping windows with more than
//!   `window_cap` accounts, largest windows first, within a budget of
//!   `cap × (cap − 1) / 2` pairs per indicator.
//!
//! Contributions are fixed-point integers gathered in per-thread buffers
//! (merged by sorting whenever a buffer doubles), then sorted by
//! `(a, b, kind)` and summed with per-kind caps. Integer sums do not depend
//! on the order of addition, so the graph is identical for any input order
//! and thread count.

use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::event::IndicatorKind;
use crate::id::IndicatorId;
use crate::index::Index;

use super::weight::{GraphConfig, KindMask, Weights, specificity, time_factor, to_units};

/// Counters and timings of one projection.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct ProjectionStats {
    /// Indicators with two or more accounts.
    pub(crate) shared_indicators: u64,
    /// Shared indicators whose kind weighs 0 (turned off), skipped.
    pub(crate) indicators_off: u64,
    /// Shared indicators skipped because no pair could reach the minimum contribution.
    pub(crate) indicators_negligible: u64,
    /// Shared indicators over the supernode cap.
    pub(crate) indicators_over_cap: u64,
    /// Pair contributions emitted, in total.
    pub(crate) pairs_emitted: u64,
    /// Pairs emitted by indicators within the cap (all pairs).
    pub(crate) pairs_regular: u64,
    /// Pairs emitted through supernodes' time windows.
    pub(crate) pairs_window: u64,
    /// What all-pairs linking of the supernodes would have cost:
    /// `Σ deg × (deg − 1) / 2` over indicators over the cap.
    pub(crate) pairs_skipped_by_cap: u64,
    /// Supernode windows left out for holding more than `window_cap` accounts.
    pub(crate) windows_crowded: u64,
    /// Supernode windows left out because the indicator's pair budget was spent.
    pub(crate) windows_over_budget: u64,
    /// The most pairs any one indicator emitted.
    pub(crate) max_indicator_pairs: u64,
    /// Pairs emitted per kind, in kind order (kinds that emitted none left out).
    pub(crate) pairs_by_kind: Vec<(IndicatorKind, u64)>,
    /// Distinct linked account pairs before top-k.
    pub(crate) candidate_edges: u64,
    /// Edges in the final graph.
    pub(crate) edges: u64,
    /// Time spent emitting pairs.
    #[serde(serialize_with = "secs")]
    pub(crate) emit_time: Duration,
    /// Time spent sorting and summing pairs into edges.
    #[serde(serialize_with = "secs")]
    pub(crate) merge_time: Duration,
    /// Time spent on top-k selection.
    #[serde(serialize_with = "secs")]
    pub(crate) top_k_time: Duration,
    /// Time spent building the CSR arrays.
    #[serde(serialize_with = "secs")]
    pub(crate) csr_time: Duration,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One contribution: accounts `a < b`, index kind, fixed-point weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pair {
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) kind: u32,
    pub(crate) units: u32,
}

impl Pair {
    #[inline]
    pub(crate) fn key(&self) -> (u32, u32, u32) {
        (self.a, self.b, self.kind)
    }
}

/// A summed edge `a < b` and its fixed-point weight (16 bytes; the kinds
/// that linked it are kept beside it, in [`Edges::masks`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Edge {
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) units: u64,
}

/// Summed edges and the kinds that linked each, as two parallel arrays:
/// 18 bytes an edge, where one struct holding the mask would be padded to
/// 24 (the candidate edges before top-k are the largest structure of a
/// detection run).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Edges {
    /// Invariant: sorted by `(a, b)`, each `a < b`, distinct, `units > 0`.
    pub(crate) list: Vec<Edge>,
    /// Invariant: parallel to `list` (same length); each non-empty.
    pub(crate) masks: Vec<KindMask>,
}

impl Edges {
    /// How many edges.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// Keeps the edges that `keep` accepts, with their masks, in order,
    /// and gives the memory of the others back.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Edge) -> bool) {
        let mut kept = 0;
        for i in 0..self.list.len() {
            if keep(&self.list[i]) {
                self.list[kept] = self.list[i];
                self.masks[kept] = self.masks[i];
                kept += 1;
            }
        }
        self.list.truncate(kept);
        self.masks.truncate(kept);
        self.list.shrink_to_fit();
        self.masks.shrink_to_fit();
    }
}

/// Integer counters one thread (or one worker of `hydra dist`) accumulates,
/// summed across them; `by_kind` is indexed by the kinds of the index
/// projected (see [`Counters::remap_kinds`] to sum across indexes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct Counters {
    shared: u64,
    off: u64,
    negligible: u64,
    over_cap: u64,
    regular: u64,
    window: u64,
    skipped: u64,
    crowded: u64,
    over_budget: u64,
    max_pairs: u64,
    by_kind: Vec<u64>,
}

impl Counters {
    pub(crate) fn new(kinds: usize) -> Self {
        Self { by_kind: vec![0; kinds], ..Self::default() }
    }

    /// How many kinds `by_kind` counts.
    #[cfg(feature = "distributed")]
    pub(crate) fn by_kind_len(&self) -> usize {
        self.by_kind.len()
    }

    /// Pair contributions emitted, in total.
    #[cfg(feature = "distributed")]
    pub(crate) fn pairs(&self) -> u64 {
        self.regular + self.window
    }

    /// The counters with `by_kind` re-indexed: kind `k` becomes `to[k]`
    /// of `kinds` kinds (from the kinds of one index to those of a larger
    /// kind list).
    ///
    /// # Panics
    ///
    /// If `to` is shorter than `by_kind` or maps a kind past `kinds`.
    #[cfg(feature = "distributed")]
    #[track_caller]
    #[must_use]
    pub(crate) fn remap_kinds(mut self, to: &[usize], kinds: usize) -> Counters {
        let mut by_kind = vec![0; kinds];
        for (k, n) in self.by_kind.iter().enumerate() {
            by_kind[to[k]] += n;
        }
        self.by_kind = by_kind;
        self
    }

    /// The projection's statistics from these counters; `kinds` names the
    /// entries of `by_kind`; timings and edge counts are left at 0.
    pub(crate) fn stats(&self, kinds: &[IndicatorKind]) -> ProjectionStats {
        ProjectionStats {
            shared_indicators: self.shared,
            indicators_off: self.off,
            indicators_negligible: self.negligible,
            indicators_over_cap: self.over_cap,
            pairs_emitted: self.regular + self.window,
            pairs_regular: self.regular,
            pairs_window: self.window,
            pairs_skipped_by_cap: self.skipped,
            windows_crowded: self.crowded,
            windows_over_budget: self.over_budget,
            max_indicator_pairs: self.max_pairs,
            pairs_by_kind: kinds
                .iter()
                .cloned()
                .zip(self.by_kind.iter().copied())
                .filter(|(_, n)| *n > 0)
                .collect(),
            ..ProjectionStats::default()
        }
    }

    /// The sum of two workers' counters (by_kind indexed alike).
    #[must_use]
    pub(crate) fn add(mut self, o: Counters) -> Counters {
        self.shared += o.shared;
        self.off += o.off;
        self.negligible += o.negligible;
        self.over_cap += o.over_cap;
        self.regular += o.regular;
        self.window += o.window;
        self.skipped += o.skipped;
        self.crowded += o.crowded;
        self.over_budget += o.over_budget;
        self.max_pairs = self.max_pairs.max(o.max_pairs);
        for (x, y) in self.by_kind.iter_mut().zip(o.by_kind) {
            *x += y;
        }
        self
    }
}

/// Smallest buffer at which a worker merges its pairs.
const MIN_MERGE_PAIRS: usize = 1 << 22;

/// A worker's pairs, merged by sorting whenever the buffer doubles.
struct Buffer {
    pairs: Vec<Pair>,
    merge_at: usize,
    /// Scratch of (window or 0, first seen, account) per indicator.
    scratch: Vec<(i64, i64, u32)>,
    windows: Vec<(usize, i64, usize)>,
    counters: Counters,
}

impl Buffer {
    fn new(kinds: usize) -> Self {
        Self {
            pairs: Vec::new(),
            merge_at: MIN_MERGE_PAIRS,
            scratch: Vec::new(),
            windows: Vec::new(),
            counters: Counters::new(kinds),
        }
    }

    #[inline]
    fn push(&mut self, pair: Pair, caps: &[u32]) {
        self.pairs.push(pair);
        if self.pairs.len() >= self.merge_at {
            merge_pairs(&mut self.pairs, caps, false);
            self.merge_at = MIN_MERGE_PAIRS.max(self.pairs.len() * 2);
        }
    }
}

/// Sorts pairs by `(a, b, kind)` and sums repeats, saturating at the kind's
/// cap: `min(min(x + y, c) + z, c) = min(x + y + z, c)` for non-negative
/// integers, so merging early changes nothing (nor does merging the pairs
/// of several workers' indicators again after they were merged apart).
pub(crate) fn merge_pairs(pairs: &mut Vec<Pair>, caps: &[u32], parallel: bool) {
    if parallel {
        pairs.par_sort_unstable_by_key(Pair::key);
    } else {
        pairs.sort_unstable_by_key(Pair::key);
    }
    pairs.dedup_by(|later, kept| {
        let same = later.key() == kept.key();
        if same {
            let cap = caps[kept.kind as usize];
            kept.units =
                (u64::from(kept.units) + u64::from(later.units)).min(u64::from(cap)) as u32;
        }
        same
    });
}

/// What the projection of one indicator needs to know.
struct Projector<'a> {
    index: &'a Index,
    weights: Weights,
    kind_starts: Vec<u32>,
    cap: usize,
    window_secs: i64,
    window_cap: usize,
}

impl Projector<'_> {
    fn kind_of(&self, id: IndicatorId) -> usize {
        self.kind_starts.partition_point(|&s| s <= id.as_u32()) - 1
    }

    /// Emits the pairs of indicator `id` into `buf`.
    fn indicator(&self, id: IndicatorId, buf: &mut Buffer) {
        let kind = self.kind_of(id);
        let degree = self.index.indicator_degree(id);
        buf.counters.shared += 1;
        let weight = self.weights.indicator_weight(kind, id.as_u32());
        if weight <= 0.0 {
            buf.counters.off += 1;
            return;
        }
        // The strongest pair this indicator could emit (time factor 1).
        let best = if degree <= self.cap {
            weight * specificity(degree)
        } else {
            weight * self.weights.supernode_factor
        };
        if best < self.weights.min_contribution {
            buf.counters.negligible += 1;
            return;
        }
        let before = buf.counters.regular + buf.counters.window;
        if degree <= self.cap {
            buf.scratch.clear();
            let (accounts, firsts) =
                (self.index.indicator_accounts(id), self.index.indicator_firsts(id));
            buf.scratch.extend(accounts.iter().zip(firsts).map(|(a, &f)| (0, f, a.as_u32())));
            let w = weight * specificity(degree);
            self.all_pairs(kind, w, 0..buf.scratch.len(), buf);
            let n = degree as u64;
            buf.counters.regular += n * (n - 1) / 2;
        } else {
            buf.counters.over_cap += 1;
            let n = degree as u64;
            buf.counters.skipped += n * (n - 1) / 2;
            self.windows(kind, weight, id, buf);
        }
        let emitted = buf.counters.regular + buf.counters.window - before;
        buf.counters.by_kind[kind] += emitted;
        buf.counters.max_pairs = buf.counters.max_pairs.max(emitted);
    }

    /// Emits every pair among `buf.scratch[range]` (sorted by account) with
    /// weight `w` times the time factor of their first sightings.
    fn all_pairs(&self, kind: usize, w: f64, range: std::ops::Range<usize>, buf: &mut Buffer) {
        let caps = &self.weights.cap_units;
        for i in range.clone() {
            let (_, first_i, a) = buf.scratch[i];
            for j in i + 1..range.end {
                let (_, first_j, b) = buf.scratch[j];
                let t = time_factor(
                    first_i.abs_diff(first_j),
                    self.weights.half_life,
                    self.weights.floor,
                );
                let units = to_units(w * t);
                if units > 0 {
                    buf.push(Pair { a, b, kind: kind as u32, units }, caps);
                }
            }
        }
    }

    /// Supernode linking: accounts first seen on `id` in the same window.
    fn windows(&self, kind: usize, weight: f64, id: IndicatorId, buf: &mut Buffer) {
        let ws = self.window_secs.max(1);
        buf.scratch.clear();
        let (accounts, firsts) =
            (self.index.indicator_accounts(id), self.index.indicator_firsts(id));
        buf.scratch
            .extend(accounts.iter().zip(firsts).map(|(a, &f)| (f.div_euclid(ws), f, a.as_u32())));
        // By (window, first, account): each window's accounts in a run.
        buf.scratch.sort_unstable_by_key(|&(w, _, a)| (w, a));
        buf.windows.clear();
        let mut start = 0;
        while start < buf.scratch.len() {
            let window = buf.scratch[start].0;
            let mut end = start + 1;
            while end < buf.scratch.len() && buf.scratch[end].0 == window {
                end += 1;
            }
            let n = end - start;
            if n > self.window_cap {
                buf.counters.crowded += 1;
            } else if n >= 2 {
                buf.windows.push((n, window, start));
            }
            start = end;
        }
        // Largest (most synchronized) windows first, then earliest.
        buf.windows.sort_unstable_by_key(|&(n, window, _)| (std::cmp::Reverse(n), window));
        let cap = self.cap as u64;
        let mut budget = cap * cap.saturating_sub(1) / 2;
        let windows = std::mem::take(&mut buf.windows);
        for &(n, _, start) in &windows {
            let pairs = (n as u64) * (n as u64 - 1) / 2;
            if pairs > budget {
                buf.counters.over_budget += 1;
                continue;
            }
            budget -= pairs;
            let w = weight * self.weights.supernode_factor * specificity(n);
            self.all_pairs(kind, w, start..start + n, buf);
            buf.counters.window += pairs;
        }
        buf.windows = windows;
    }
}

/// Pairs released at a time while they are summed into edges.
pub(crate) const RELEASE_PAIRS: usize = 1 << 20;

/// Sums merged pairs (sorted by `(a, b, kind)`, each kind of a pair once)
/// into edges: per pair of accounts, the kinds' units (each at most its
/// kind's cap) added up and their masks joined; edges that sum to 0 are
/// left out. The result keeps [`Edges`]' invariants.
///
/// The pairs are read from the end and their memory given back as they
/// are read, so pairs and edges together never take much more than the
/// pairs alone.
///
/// # Complexity
///
/// `O(P)` time for `P` pairs; memory at most the pairs', plus the masks
/// (2 bytes an edge) and `release` pairs ([`RELEASE_PAIRS`] in a run).
pub(crate) fn sum_pairs(
    mut pairs: Vec<Pair>,
    caps: &[u32],
    masks: &[KindMask],
    release: usize,
) -> Edges {
    let count =
        pairs.len() - pairs.windows(2).filter(|w| (w[0].a, w[0].b) == (w[1].a, w[1].b)).count();
    let mut list: Vec<Edge> = Vec::with_capacity(count);
    let mut edge_masks: Vec<KindMask> = Vec::with_capacity(count);
    let mut released = pairs.capacity();
    let mut keep = |(e, m): (Edge, KindMask)| {
        if e.units > 0 {
            list.push(e);
            edge_masks.push(m);
        }
    };
    // Edges come out from the last one back, and are reversed at the end.
    let mut current: Option<(Edge, KindMask)> = None;
    while let Some(p) = pairs.pop() {
        let units = u64::from(p.units.min(caps[p.kind as usize]));
        let mask = masks[p.kind as usize];
        match &mut current {
            Some((e, m)) if e.a == p.a && e.b == p.b => {
                e.units += units;
                *m = m.union(mask);
            }
            _ => {
                if let Some(done) = current.replace((Edge { a: p.a, b: p.b, units }, mask)) {
                    keep(done);
                }
            }
        }
        if pairs.len() + release <= released {
            pairs.shrink_to_fit();
            released = pairs.len();
        }
    }
    if let Some(done) = current {
        keep(done);
    }
    drop(pairs);
    list.reverse();
    edge_masks.reverse();
    // Only if some edge summed to 0 (none does with positive weights).
    list.shrink_to_fit();
    edge_masks.shrink_to_fit();
    Edges { list, masks: edge_masks }
}

/// The pair contributions of every shared indicator of one index, merged.
#[derive(Debug)]
pub(crate) struct Emitted {
    /// Sorted by `(a, b, kind)`, each key once, units capped by kind
    /// ([`merge_pairs`]); ids and kinds are the index's.
    pub(crate) pairs: Vec<Pair>,
    pub(crate) counters: Counters,
    /// Per kind of the index (in its kind order): the cap on its summed
    /// units, and its mask bit.
    pub(crate) caps: Vec<u32>,
    pub(crate) masks: Vec<KindMask>,
    /// Time spent emitting pairs.
    pub(crate) emit_time: Duration,
    /// Time spent gathering and merging them.
    pub(crate) merge_time: Duration,
}

/// Emits and merges the pair contributions of every shared indicator of
/// `index`: the per-indicator half of the projection, which `hydra dist`
/// runs on each worker's index of the indicators it owns. Each
/// indicator's pairs depend only on its own holders (their first
/// sightings and how many they are), so an index holding all of an
/// indicator's links emits what the whole index emits for it.
///
/// # Complexity
///
/// Time `O(Σ_i min(deg_i, cap)² + P log P)` for `P` emitted pairs, plus
/// `O(deg log deg)` per supernode to bucket its accounts; memory `O(P)`.
pub(crate) fn emit(index: &Index, config: &GraphConfig) -> Emitted {
    let start = Instant::now();
    let weights = Weights::new(index, config);
    let kinds = weights.base.len();
    let projector = Projector {
        index,
        kind_starts: index.kinds().map(|(_, r)| r.start).collect(),
        weights,
        cap: config.get_supernode_cap(),
        window_secs: config.get_window_secs(),
        window_cap: config.get_window_cap(),
    };
    let caps = projector.weights.cap_units.clone();
    let shared = index.shared_indicators();
    let parallel = shared.len() >= config.get_parallel_threshold();

    let mut buffers: Vec<Buffer> = if parallel {
        shared
            .par_iter()
            .fold(
                || Buffer::new(kinds),
                |mut buf, &id| {
                    projector.indicator(id, &mut buf);
                    buf
                },
            )
            .collect()
    } else {
        let mut buf = Buffer::new(kinds);
        for &id in shared {
            projector.indicator(id, &mut buf);
        }
        vec![buf]
    };
    let emit_time = start.elapsed();

    let start = Instant::now();
    let mut counters = Counters::new(kinds);
    let total: usize = buffers.iter().map(|b| b.pairs.len()).sum();
    // The largest buffer takes in the others, each freed as soon as it is
    // copied: a fresh list of `total` would hold the largest buffer's pairs
    // twice until it was copied (on medium, a third of a GB at the peak).
    let largest = (0..buffers.len()).max_by_key(|&i| buffers[i].pairs.len()).unwrap_or(0);
    let mut pairs = match buffers.get_mut(largest) {
        Some(buf) => std::mem::take(&mut buf.pairs),
        None => Vec::new(),
    };
    pairs.reserve_exact(total - pairs.len());
    for mut buf in buffers {
        pairs.append(&mut buf.pairs);
        counters = counters.add(buf.counters);
    }
    merge_pairs(&mut pairs, &caps, parallel);
    let masks = projector.weights.masks.clone();
    Emitted { pairs, counters, caps, masks, emit_time, merge_time: start.elapsed() }
}

/// Projects `index` onto summed edges `a < b`, sorted, before top-k.
///
/// # Complexity
///
/// As [`emit`], plus `O(P)` to sum the pairs into edges.
pub(crate) fn project(index: &Index, config: &GraphConfig) -> (Edges, ProjectionStats) {
    let kind_names: Vec<IndicatorKind> = index.kinds().map(|(k, _)| k.clone()).collect();
    let Emitted { pairs, counters, caps, masks, emit_time, merge_time } = emit(index, config);
    let start = Instant::now();
    let edges = sum_pairs(pairs, &caps, &masks, RELEASE_PAIRS);
    let stats = ProjectionStats {
        candidate_edges: edges.len() as u64,
        edges: edges.len() as u64,
        emit_time,
        merge_time: merge_time + start.elapsed(),
        ..counters.stats(&kind_names)
    };
    (edges, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Timestamp};

    fn obs(ts: Timestamp, account: &str, kind: IndicatorKind, value: &str) -> Event {
        Event::observe(ts, account, kind, value)
    }

    #[test]
    fn pairs_merge_with_kind_caps() {
        let mut pairs = vec![
            Pair { a: 0, b: 1, kind: 0, units: 7 },
            Pair { a: 0, b: 1, kind: 1, units: 1 },
            Pair { a: 0, b: 1, kind: 0, units: 7 },
            Pair { a: 0, b: 2, kind: 0, units: 3 },
        ];
        merge_pairs(&mut pairs, &[10, 10], false);
        assert_eq!(
            pairs,
            [
                Pair { a: 0, b: 1, kind: 0, units: 10 },
                Pair { a: 0, b: 1, kind: 1, units: 1 },
                Pair { a: 0, b: 2, kind: 0, units: 3 },
            ]
        );
    }

    #[test]
    fn summed_pairs_are_the_per_pair_sums_whatever_the_release_step() {
        use std::collections::BTreeMap;

        use rand::{RngExt, SeedableRng};
        let kinds = [IndicatorKind::Ip, IndicatorKind::Device, IndicatorKind::Payment];
        let masks: Vec<KindMask> = kinds.iter().map(KindMask::of).collect();
        let caps = [50, 1_000, 7];
        for seed in 0..10u64 {
            let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
            let mut pairs = Vec::new();
            for _ in 0..rng.random_range(0..2_000) {
                let a = rng.random_range(0..30u32);
                let b = rng.random_range(a + 1..32u32);
                let kind = rng.random_range(0..3u32);
                pairs.push(Pair { a, b, kind, units: rng.random_range(1..40) });
            }
            merge_pairs(&mut pairs, &caps, false);
            // By definition: per (a, b), the capped units of each kind added
            // up and the kinds' masks joined.
            let mut expected: BTreeMap<(u32, u32), (u64, KindMask)> = BTreeMap::new();
            for p in &pairs {
                let e = expected.entry((p.a, p.b)).or_insert((0, KindMask::EMPTY));
                e.0 += u64::from(p.units.min(caps[p.kind as usize]));
                e.1 = e.1.union(masks[p.kind as usize]);
            }
            let expected = Edges {
                list: expected.iter().map(|(&(a, b), &(units, _))| Edge { a, b, units }).collect(),
                masks: expected.values().map(|&(_, m)| m).collect(),
            };
            for release in [1, 3, 64, RELEASE_PAIRS] {
                let edges = sum_pairs(pairs.clone(), &caps, &masks, release);
                assert_eq!(edges, expected, "seed {seed}, release {release}");
                assert_eq!(edges.list.capacity(), edges.len());
            }
        }
    }

    #[test]
    fn weak_kinds_cannot_beat_a_hard_link() {
        let mut events = Vec::new();
        for ua in 0..50 {
            for acc in ["a", "b"] {
                events.push(obs(0, acc, IndicatorKind::UserAgent, &format!("ua{ua}")));
            }
        }
        events.push(obs(0, "c", IndicatorKind::Payment, "card"));
        events.push(obs(0, "d", IndicatorKind::Payment, "card"));
        let index = Index::from_events(&events).unwrap();
        let (edges, stats) = project(&index, &GraphConfig::new());
        assert_eq!(edges.len(), 2);
        let (ab, cd) = (edges.list[0], edges.list[1]);
        assert!(ab.units < cd.units, "{ab:?} vs {cd:?}");
        assert!(edges.masks[1].has_hard() && !edges.masks[0].has_hard());
        assert_eq!(stats.pairs_emitted, 51);
    }

    #[test]
    fn synchronized_accounts_link_through_a_supernode() {
        let mut events = Vec::new();
        // 300 household accounts spread over days, one every 20 minutes.
        for i in 0..300 {
            events.push(obs(i * 1200, &format!("h{i:03}"), IndicatorKind::Ip, "100.64.0.1"));
        }
        // 5 hydra accounts first seen on it within two minutes.
        for i in 0..5 {
            events.push(obs(100_000 + i * 20, &format!("x{i}"), IndicatorKind::Ip, "100.64.0.1"));
        }
        let index = Index::from_events(&events).unwrap();
        let (edges, stats) = project(&index, &GraphConfig::new());
        // The address and its /24.
        assert_eq!(stats.indicators_over_cap, 2);
        assert_eq!(stats.pairs_skipped_by_cap, 2 * 305 * 304 / 2);
        let name = |i: u32| index.account_name(crate::id::AccountId::new(i)).to_string();
        let hydra_edges = edges
            .list
            .iter()
            .filter(|e| name(e.a).starts_with('x') && name(e.b).starts_with('x'))
            .count();
        assert_eq!(hydra_edges, 10);
        // The household crowd, one account per window (or two where a hydra
        // window overlaps), does not link all-pairs.
        assert!(edges.len() < 20, "{} edges", edges.len());
    }

    #[test]
    fn crowded_windows_and_budget() {
        let mut events = Vec::new();
        // 30 accounts in one window and 10 in another, degree 40 over a cap of 8.
        for i in 0..30 {
            events.push(obs(i, &format!("a{i:02}"), IndicatorKind::Template, "t"));
        }
        for i in 0..10 {
            events.push(obs(10_000 + i, &format!("b{i:02}"), IndicatorKind::Template, "t"));
        }
        for i in 0..3 {
            events.push(obs(20_000 + i, &format!("c{i:02}"), IndicatorKind::Template, "t"));
        }
        let index = Index::from_events(&events).unwrap();
        let config = GraphConfig::new().supernode_cap(8).window_cap(20);
        let (_, stats) = project(&index, &config);
        // The window of 30 is crowded; the window of 10 (45 pairs) exceeds the
        // budget of 28; the window of 3 fits.
        assert_eq!(stats.windows_crowded, 1);
        assert_eq!(stats.windows_over_budget, 1);
        assert_eq!(stats.pairs_window, 3);
        assert!(stats.max_indicator_pairs <= 8 * 7 / 2);
    }
}
