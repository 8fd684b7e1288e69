//! Link weighting: kind × specificity × time, known shared values, per-kind caps.
//!
//! # Overview
//!
//! - [`GraphConfig`] holds every knob of the projection, each with a
//!   documented default.
//! - [`KindMask`] records which kinds of indicator linked an edge, so scoring
//!   can tell hard links (payment, e-mail, phone) from soft ones.
//! - [`specificity`] and [`time_factor`] are the two shaping functions; the
//!   resolved, per-index form of the config is `Weights`.
//!
//! The contribution of one indicator `i` of kind `k` shared by accounts `a`
//! and `b` is
//!
//! ```text
//! base(k) × known(i) × specificity(d) × time_factor(|first_a − first_b|)
//! ```
//!
//! where `d` is the indicator's account count (for an indicator over the
//! supernode cap: the account count of the time window, times the supernode
//! factor, see [`GraphConfig::supernode_cap`]), `known(i)` is the known-shared
//! factor for values the caller listed as shared infrastructure (else 1), and
//! `first_x` is when `x` was first seen on `i`. An edge's weight is the sum
//! over kinds of the sum of its contributions of that kind, each kind capped
//! at `kind_cap × base(k)`, so fifty shared user agents never outweigh one
//! shared payment card.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::event::{Indicator, IndicatorKind};
use crate::index::Index;
use crate::ingest::normalize::parse_ip;

/// Configuration of the account graph projection.
///
/// Built with [`GraphConfig::new`] (the documented defaults) and by-value
/// setters; read with `get_*`.
///
/// # Examples
///
/// ```
/// use hydra_detect::{GraphConfig, IndicatorKind};
///
/// let config = GraphConfig::new()
///     .kind_weight(IndicatorKind::Template, 0.8)
///     .supernode_cap(500)
///     .top_k(Some(30))
///     .known_shared_network("100.64.0.0/10")?;
/// assert_eq!(config.get_kind_weight(&IndicatorKind::Template), 0.8);
/// assert_eq!(config.get_supernode_cap(), 500);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphConfig {
    kind_weights: BTreeMap<IndicatorKind, f64>,
    custom_weight: f64,
    kind_cap: f64,
    supernode_cap: usize,
    window_secs: i64,
    window_cap: usize,
    supernode_factor: f64,
    time_half_life_secs: f64,
    time_floor: f64,
    top_k: Option<usize>,
    known_shared_values: Vec<Indicator>,
    known_shared_networks: Vec<String>,
    known_shared_factor: f64,
    min_contribution: f64,
    parallel_threshold: usize,
}

/// Default base weight of each built-in kind (see [`GraphConfig::kind_weight`]).
const DEFAULT_KIND_WEIGHTS: [(IndicatorKind, f64); 12] = [
    (IndicatorKind::Payment, 1.0),
    (IndicatorKind::Email, 1.0),
    (IndicatorKind::Phone, 1.0),
    (IndicatorKind::Device, 0.6),
    (IndicatorKind::Template, 0.5),
    (IndicatorKind::Ip, 0.3),
    (IndicatorKind::Org, 0.3),
    (IndicatorKind::EmailDomain, 0.2),
    (IndicatorKind::IpPrefix, 0.15),
    (IndicatorKind::TlsFp, 0.05),
    (IndicatorKind::UserAgent, 0.05),
    (IndicatorKind::Asn, 0.01),
];

/// Largest base weight accepted; keeps fixed-point sums far from overflow.
pub(crate) const MAX_WEIGHT: f64 = 1000.0;

impl Default for GraphConfig {
    fn default() -> Self {
        Self {
            kind_weights: DEFAULT_KIND_WEIGHTS.iter().cloned().collect(),
            custom_weight: 0.2,
            kind_cap: 3.0,
            supernode_cap: 200,
            window_secs: 600,
            window_cap: 50,
            supernode_factor: 0.5,
            time_half_life_secs: 3600.0,
            time_floor: 0.5,
            top_k: None,
            known_shared_values: Vec::new(),
            known_shared_networks: Vec::new(),
            known_shared_factor: 0.1,
            min_contribution: 0.01,
            parallel_threshold: 10_000,
        }
    }
}

#[track_caller]
fn check_unit(name: &str, value: f64) {
    assert!((0.0..=1.0).contains(&value), "{name} must be in [0, 1], got {value}");
}

#[track_caller]
fn check_weight(name: &str, value: f64) {
    assert!(
        (0.0..=MAX_WEIGHT).contains(&value),
        "{name} must be in [0, {MAX_WEIGHT}], got {value}"
    );
}

impl GraphConfig {
    /// The defaults, as documented on each setter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the base weight of `kind`, in `[0, 1000]`; 0 turns the kind off.
    ///
    /// Defaults: `payment`, `email`, `phone` 1.0 (hard links); `device` 0.6;
    /// `template` 0.5; `ip` and `org` 0.3; `email_domain` 0.2; `ip_prefix`
    /// 0.15; `tls_fp` and `user_agent` 0.05; `asn` 0.01; custom kinds
    /// [`GraphConfig::custom_weight`].
    ///
    /// # Panics
    ///
    /// If `weight` is not in `[0, 1000]` (NaN included).
    #[track_caller]
    pub fn kind_weight(mut self, kind: IndicatorKind, weight: f64) -> Self {
        check_weight("kind weight", weight);
        self.kind_weights.insert(kind, weight);
        self
    }

    /// The base weight of `kind`.
    pub fn get_kind_weight(&self, kind: &IndicatorKind) -> f64 {
        self.kind_weights.get(kind).copied().unwrap_or(self.custom_weight)
    }

    /// Sets the base weight of custom kinds not given their own with
    /// [`GraphConfig::kind_weight`]. Default 0.2.
    ///
    /// # Panics
    ///
    /// If `weight` is not in `[0, 1000]`.
    #[track_caller]
    pub fn custom_weight(mut self, weight: f64) -> Self {
        check_weight("custom weight", weight);
        self.custom_weight = weight;
        self
    }

    /// The base weight of custom kinds.
    pub fn get_custom_weight(&self) -> f64 {
        self.custom_weight
    }

    /// Caps what one kind adds to an edge at `factor × base weight` of the
    /// kind, however many indicators of that kind two accounts share.
    /// Default 3.0: thirty shared user agents (0.05 each) add at most 0.15,
    /// less than one shared payment card (1.0).
    ///
    /// # Panics
    ///
    /// If `factor` is not in `[0, 1000]`.
    #[track_caller]
    pub fn kind_cap(mut self, factor: f64) -> Self {
        check_weight("kind cap", factor);
        self.kind_cap = factor;
        self
    }

    /// The per-kind cap factor.
    pub fn get_kind_cap(&self) -> f64 {
        self.kind_cap
    }

    /// Sets the supernode cap. Default 200.
    ///
    /// An indicator with more accounts than the cap (a carrier-grade NAT, a
    /// VPN exit, a popular template) gets no all-pairs linking. It links only
    /// accounts first seen on it in the same time window (see
    /// [`GraphConfig::window_secs`]), windows holding at most
    /// [`GraphConfig::window_cap`] accounts, largest windows first, until the
    /// indicator has used `cap × (cap − 1) / 2` pairs, what an indicator of
    /// exactly `cap` accounts costs. Projection cost is therefore
    /// `O(Σ min(deg, cap)²)`.
    pub fn supernode_cap(mut self, cap: usize) -> Self {
        self.supernode_cap = cap;
        self
    }

    /// The supernode cap.
    pub fn get_supernode_cap(&self) -> usize {
        self.supernode_cap
    }

    /// Sets the time window of supernode linking, in seconds (at least 1).
    /// Default 600 (ten minutes).
    ///
    /// # Panics
    ///
    /// If `secs < 1`.
    #[track_caller]
    pub fn window_secs(mut self, secs: i64) -> Self {
        assert!(secs >= 1, "window must be at least 1 second, got {secs}");
        self.window_secs = secs;
        self
    }

    /// The supernode time window in seconds.
    pub fn get_window_secs(&self) -> i64 {
        self.window_secs
    }

    /// Sets the most accounts one supernode window may hold and still link.
    /// Default 50. A busier window is a crowd, not a synchronized group, and
    /// links nothing.
    pub fn window_cap(mut self, cap: usize) -> Self {
        self.window_cap = cap;
        self
    }

    /// The supernode window cap.
    pub fn get_window_cap(&self) -> usize {
        self.window_cap
    }

    /// Sets the factor, in `[0, 1]`, on links made through a supernode's time
    /// windows. Default 0.5: co-occurrence on a busy indicator says less than
    /// the same on a quiet one.
    ///
    /// # Panics
    ///
    /// If `factor` is not in `[0, 1]`.
    #[track_caller]
    pub fn supernode_factor(mut self, factor: f64) -> Self {
        check_unit("supernode factor", factor);
        self.supernode_factor = factor;
        self
    }

    /// The supernode window factor.
    pub fn get_supernode_factor(&self) -> f64 {
        self.supernode_factor
    }

    /// Sets the half-life, in seconds, of the time factor (see
    /// [`GraphConfig::time_floor`]). Default 3600 (one hour).
    ///
    /// # Panics
    ///
    /// If `secs` is negative or NaN.
    #[track_caller]
    pub fn time_half_life_secs(mut self, secs: f64) -> Self {
        assert!(secs >= 0.0, "time half-life must be non-negative, got {secs}");
        self.time_half_life_secs = secs;
        self
    }

    /// The time factor's half-life in seconds.
    pub fn get_time_half_life_secs(&self) -> f64 {
        self.time_half_life_secs
    }

    /// Sets the floor, in `[0, 1]`, the time factor decays to. Default 0.5.
    ///
    /// Two accounts first seen on an indicator `Δ` seconds apart get the
    /// factor `floor + (1 − floor) × 2^(−Δ / half_life)`: 1 for the same
    /// second, about 0.95 ten minutes apart, 0.5 weeks apart. 1 turns the
    /// time factor off.
    ///
    /// # Panics
    ///
    /// If `floor` is not in `[0, 1]`.
    #[track_caller]
    pub fn time_floor(mut self, floor: f64) -> Self {
        check_unit("time floor", floor);
        self.time_floor = floor;
        self
    }

    /// The time factor's floor.
    pub fn get_time_floor(&self) -> f64 {
        self.time_floor
    }

    /// Keeps only each account's `k` strongest links: an edge stays if it is
    /// among the `k` strongest of either endpoint (ties broken by the smaller
    /// neighbour id). Memory is then at most `accounts × k` edges. Default
    /// `None` (keep every edge).
    pub fn top_k(mut self, k: Option<usize>) -> Self {
        self.top_k = k;
        self
    }

    /// The top-k setting.
    pub fn get_top_k(&self) -> Option<usize> {
        self.top_k
    }

    /// Adds a value known to be shared infrastructure (a framework's default
    /// template, a VPN exit's address), down-weighted by
    /// [`GraphConfig::known_shared_factor`]. `ip` values match in canonical
    /// form. Default: none.
    pub fn known_shared_value(mut self, kind: IndicatorKind, value: impl Into<String>) -> Self {
        self.known_shared_values.push(Indicator::new(kind, value));
        self
    }

    /// The known shared values.
    pub fn get_known_shared_values(&self) -> &[Indicator] {
        &self.known_shared_values
    }

    /// Adds an IP network in CIDR notation (`100.64.0.0/10`, `2001:db8::/32`)
    /// known to be shared (carrier-grade NAT, VPN, cloud egress): its `ip`
    /// values and the `ip_prefix` values inside it are down-weighted by
    /// [`GraphConfig::known_shared_factor`]. Default: none.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error if `cidr` is not an
    /// address, `/`, and a prefix length within the address family.
    pub fn known_shared_network(mut self, cidr: &str) -> Result<Self> {
        Network::parse(cidr)?;
        self.known_shared_networks.push(cidr.to_owned());
        Ok(self)
    }

    /// The known shared networks, as given.
    pub fn get_known_shared_networks(&self) -> &[String] {
        &self.known_shared_networks
    }

    /// Sets the factor, in `[0, 1]`, on links through known shared values.
    /// Default 0.1.
    ///
    /// # Panics
    ///
    /// If `factor` is not in `[0, 1]`.
    #[track_caller]
    pub fn known_shared_factor(mut self, factor: f64) -> Self {
        check_unit("known shared factor", factor);
        self.known_shared_factor = factor;
        self
    }

    /// The known shared factor.
    pub fn get_known_shared_factor(&self) -> f64 {
        self.known_shared_factor
    }

    /// Skips an indicator whose strongest possible pair contribution (base
    /// weight × known-shared factor × specificity, or × supernode factor for
    /// a supernode's windows) is below `weight`. Default 0.01: a hundredth of
    /// a shared payment card. Such pairs cannot change a community yet cost
    /// as much as strong ones; an `asn` (0.01) thus links only pairs, and a
    /// `user_agent` shared by more than about 150 accounts links only in
    /// supernode windows. 0 keeps everything.
    ///
    /// # Panics
    ///
    /// If `weight` is not in `[0, 1000]`.
    #[track_caller]
    pub fn min_contribution(mut self, weight: f64) -> Self {
        check_weight("min contribution", weight);
        self.min_contribution = weight;
        self
    }

    /// The smallest pair contribution worth projecting.
    pub fn get_min_contribution(&self) -> f64 {
        self.min_contribution
    }

    /// Projects in parallel (rayon) from this many shared indicators (and
    /// [`GraphBuilder`](crate::GraphBuilder) sorts its index in parallel from
    /// this many items); below it, on the calling thread. Default 10,000.
    /// The graph is the same either way.
    pub fn parallel_threshold(mut self, threshold: usize) -> Self {
        self.parallel_threshold = threshold;
        self
    }

    /// The parallel threshold.
    pub fn get_parallel_threshold(&self) -> usize {
        self.parallel_threshold
    }

    /// Checks the values a deserialized config may carry (the setters check
    /// theirs as they go).
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error naming the first bad key.
    pub fn validate(&self) -> Result<()> {
        let weight = |name: &str, v: f64| {
            if (0.0..=MAX_WEIGHT).contains(&v) {
                Ok(())
            } else {
                Err(Error::config(format!("{name} must be in [0, {MAX_WEIGHT}], got {v}")))
            }
        };
        let unit = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::config(format!("{name} must be in [0, 1], got {v}")))
            }
        };
        for (kind, &w) in &self.kind_weights {
            weight(&format!("kind_weights.{kind}"), w)?;
        }
        weight("custom_weight", self.custom_weight)?;
        weight("kind_cap", self.kind_cap)?;
        weight("min_contribution", self.min_contribution)?;
        unit("supernode_factor", self.supernode_factor)?;
        unit("time_floor", self.time_floor)?;
        unit("known_shared_factor", self.known_shared_factor)?;
        if self.window_secs < 1 {
            return Err(Error::config(format!(
                "window_secs must be at least 1, got {}",
                self.window_secs
            )));
        }
        if self.time_half_life_secs.is_nan() || self.time_half_life_secs < 0.0 {
            return Err(Error::config(format!(
                "time_half_life_secs must be non-negative, got {}",
                self.time_half_life_secs
            )));
        }
        for cidr in &self.known_shared_networks {
            Network::parse(cidr)?;
        }
        Ok(())
    }
}

/// Which kinds of indicator linked an edge: a bit per built-in kind (in
/// [`IndicatorKind::BUILT_IN`] order) and one bit for all custom kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct KindMask(u16);

/// The bit of all custom kinds.
const CUSTOM_BIT: u16 = 1 << IndicatorKind::BUILT_IN.len();

impl KindMask {
    /// The empty mask.
    pub(crate) const EMPTY: KindMask = KindMask(0);

    /// The mask of one kind.
    pub(crate) fn of(kind: &IndicatorKind) -> KindMask {
        match IndicatorKind::BUILT_IN.iter().position(|k| k == kind) {
            Some(i) => KindMask(1 << i),
            None => KindMask(CUSTOM_BIT),
        }
    }

    /// Whether `kind` linked the edge (any custom kind matches the custom bit).
    pub(crate) fn contains(self, kind: &IndicatorKind) -> bool {
        self.0 & KindMask::of(kind).0 != 0
    }

    /// Whether a hard kind (payment, e-mail, phone) linked the edge.
    pub(crate) fn has_hard(self) -> bool {
        IndicatorKind::BUILT_IN
            .iter()
            .enumerate()
            .any(|(i, k)| k.is_hard() && self.0 & (1 << i) != 0)
    }

    /// The union of two masks.
    #[must_use]
    pub(crate) fn union(self, other: KindMask) -> KindMask {
        KindMask(self.0 | other.0)
    }

    /// The kind names set, built-in kinds in declaration order, then `custom`.
    pub(crate) fn names(self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = IndicatorKind::BUILT_IN
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, k)| match k {
                IndicatorKind::Ip => "ip",
                IndicatorKind::IpPrefix => "ip_prefix",
                IndicatorKind::Asn => "asn",
                IndicatorKind::Payment => "payment",
                IndicatorKind::Device => "device",
                IndicatorKind::TlsFp => "tls_fp",
                IndicatorKind::Email => "email",
                IndicatorKind::EmailDomain => "email_domain",
                IndicatorKind::Phone => "phone",
                IndicatorKind::UserAgent => "user_agent",
                IndicatorKind::Org => "org",
                IndicatorKind::Template => "template",
                IndicatorKind::Custom(_) => "custom",
            })
            .collect();
        if self.0 & CUSTOM_BIT != 0 {
            names.push("custom");
        }
        names
    }
}

/// Specificity of an indicator shared by `degree` accounts:
/// `1 / ln(e + degree − 2)`.
///
/// 1 for a pair, about 0.76 for three accounts, 0.22 for a hundred, 0.087
/// for a hundred thousand: strictly decreasing, so rarer is stronger, but
/// slowly (logarithmically, like an inverse document frequency), so a shared
/// office IP of twenty still links its members. Degrees below 2 are treated
/// as 2.
pub(crate) fn specificity(degree: usize) -> f64 {
    let d = degree.max(2) as f64;
    1.0 / (std::f64::consts::E + d - 2.0).ln()
}

/// Time factor of two accounts first seen on an indicator `gap` seconds
/// apart: `floor + (1 − floor) × 2^(−gap / half_life)`, decreasing in `gap`
/// from 1 to `floor`. A zero half-life gives 1 at gap 0 and `floor` otherwise.
pub(crate) fn time_factor(gap: u64, half_life: f64, floor: f64) -> f64 {
    if gap == 0 {
        return 1.0;
    }
    if half_life <= 0.0 {
        return floor;
    }
    floor + (1.0 - floor) * (-(gap as f64) / half_life).exp2()
}

/// An IP network parsed from CIDR text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Network {
    addr: IpAddr,
    len: u8,
}

impl Network {
    /// Parses `addr/len`.
    pub(crate) fn parse(cidr: &str) -> Result<Network> {
        let bad = || {
            Error::config(format!(
                "invalid network {cidr:?} in known_shared_networks (expected CIDR such as 100.64.0.0/10)"
            ))
        };
        let (addr, len) = cidr.split_once('/').ok_or_else(bad)?;
        let addr = parse_ip(addr).ok_or_else(bad)?;
        let len: u8 = len.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if len > max {
            return Err(bad());
        }
        Ok(Network { addr, len })
    }

    /// Whether `ip` lies in the network.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        fn masked(bits: u128, width: u32, len: u8) -> u128 {
            if len == 0 { 0 } else { bits >> (width - u32::from(len)) }
        }
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u32::from(n).into(), 32, self.len)
                    == masked(u32::from(a).into(), 32, self.len)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(n), 128, self.len) == masked(u128::from(a), 128, self.len)
            }
            _ => false,
        }
    }

    /// Whether the `ip_prefix` value `prefix` (`a.b.c.0/24`, `x:y:z::/48`)
    /// lies in the network: its address is inside and it is no wider.
    pub(crate) fn contains_prefix(&self, prefix: &str) -> bool {
        match Network::parse(prefix) {
            Ok(p) => p.len >= self.len && self.contains(p.addr),
            Err(_) => false,
        }
    }
}

/// A weight clamped to `[0, MAX_WEIGHT]`, NaN to 0.
fn clamp_weight(w: f64) -> f64 {
    if w.is_nan() { 0.0 } else { w.clamp(0.0, MAX_WEIGHT) }
}

/// Per kind of a kind list: base weight, cap on its summed contribution in
/// units, and mask bit. What a kind weighs depends only on the kind, so two
/// indexes (or `hydra dist`'s workers) agree on it kind by kind.
#[derive(Debug)]
pub(crate) struct KindTable {
    pub(crate) base: Vec<f64>,
    pub(crate) cap_units: Vec<u32>,
    pub(crate) masks: Vec<KindMask>,
}

impl KindTable {
    /// The table of `kinds`, in their order, under `config`.
    pub(crate) fn new<'a>(
        kinds: impl Iterator<Item = &'a IndicatorKind>,
        config: &GraphConfig,
    ) -> KindTable {
        let mut table = KindTable { base: Vec::new(), cap_units: Vec::new(), masks: Vec::new() };
        for kind in kinds {
            let b = clamp_weight(config.get_kind_weight(kind));
            table.base.push(b);
            table.cap_units.push(to_units(clamp_weight(config.kind_cap) * b));
            table.masks.push(KindMask::of(kind));
        }
        table
    }
}

/// The config resolved against one index: per kind (in index kind order) its
/// base weight and cap in fixed-point units, and which indicators are known
/// shared.
#[derive(Debug)]
pub(crate) struct Weights {
    /// Per index kind: base weight.
    pub(crate) base: Vec<f64>,
    /// Per index kind: cap on its summed contribution, in units.
    pub(crate) cap_units: Vec<u32>,
    /// Per index kind: its mask bit.
    pub(crate) masks: Vec<KindMask>,
    /// Known shared indicator ids, sorted.
    pub(crate) known: Vec<u32>,
    pub(crate) known_factor: f64,
    pub(crate) supernode_factor: f64,
    pub(crate) min_contribution: f64,
    pub(crate) half_life: f64,
    pub(crate) floor: f64,
}

/// Fixed-point scale of contributions: sums of integers do not depend on the
/// order they are added in, so the graph is the same for any thread count.
pub(crate) const UNITS_PER_WEIGHT: f64 = (1u64 << 20) as f64;

/// A weight as fixed-point units (rounded, clamped to `u32`).
pub(crate) fn to_units(weight: f64) -> u32 {
    (weight * UNITS_PER_WEIGHT).round().clamp(0.0, u32::MAX as f64) as u32
}

impl Weights {
    /// Resolves `config` against `index`. Out-of-range values (possible only
    /// through deserialization without [`GraphConfig::validate`]) are clamped.
    pub(crate) fn new(index: &Index, config: &GraphConfig) -> Weights {
        let clamp_u = |w: f64| if w.is_nan() { 0.0 } else { w.clamp(0.0, 1.0) };
        let KindTable { base, cap_units, masks } =
            KindTable::new(index.kinds().map(|(k, _)| k), config);
        let mut known: Vec<u32> = config
            .known_shared_values
            .iter()
            .filter_map(|ind| index.indicator_id(&ind.kind, &ind.value))
            .map(|id| id.as_u32())
            .collect();
        let networks: Vec<Network> =
            config.known_shared_networks.iter().filter_map(|c| Network::parse(c).ok()).collect();
        if !networks.is_empty() {
            for (kind, ids) in index.kinds() {
                let is_ip = *kind == IndicatorKind::Ip;
                if !is_ip && *kind != IndicatorKind::IpPrefix {
                    continue;
                }
                for id in ids {
                    let value = index.indicator_value(crate::id::IndicatorId::new(id));
                    let hit = if is_ip {
                        parse_ip(value).is_some_and(|ip| networks.iter().any(|n| n.contains(ip)))
                    } else {
                        networks.iter().any(|n| n.contains_prefix(value))
                    };
                    if hit {
                        known.push(id);
                    }
                }
            }
        }
        known.sort_unstable();
        known.dedup();
        Weights {
            base,
            cap_units,
            masks,
            known,
            known_factor: clamp_u(config.known_shared_factor),
            supernode_factor: clamp_u(config.supernode_factor),
            min_contribution: clamp_weight(config.min_contribution),
            half_life: if config.time_half_life_secs.is_nan() {
                0.0
            } else {
                config.time_half_life_secs.max(0.0)
            },
            floor: clamp_u(config.time_floor),
        }
    }

    /// The weight of indicator `id` of index kind `kind` before specificity
    /// and time: base weight, times the known-shared factor if listed.
    pub(crate) fn indicator_weight(&self, kind: usize, id: u32) -> f64 {
        let base = self.base[kind];
        if self.known.binary_search(&id).is_ok() { base * self.known_factor } else { base }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    #[test]
    fn specificity_falls_with_degree() {
        assert!((specificity(2) - 1.0).abs() < 1e-12);
        let mut prev = specificity(2);
        for d in [3, 4, 10, 100, 200, 1_000, 100_000, 10_000_000] {
            let s = specificity(d);
            assert!(s < prev && s > 0.0, "specificity({d}) = {s}");
            prev = s;
        }
        assert_eq!(specificity(0), specificity(2));
    }

    #[test]
    fn time_factor_decays_to_the_floor() {
        let (h, floor) = (3600.0, 0.5);
        assert_eq!(time_factor(0, h, floor), 1.0);
        let mut prev = 1.0;
        for gap in [1, 60, 600, 3600, 86_400, 60 * 86_400] {
            let t = time_factor(gap, h, floor);
            assert!(t < prev && t >= floor, "time_factor({gap}) = {t}");
            prev = t;
        }
        assert!((time_factor(3600, h, floor) - 0.75).abs() < 1e-12);
        assert!((time_factor(60 * 86_400, h, floor) - floor).abs() < 1e-9);
        assert_eq!(time_factor(5, 0.0, 0.3), 0.3);
    }

    #[test]
    fn config_defaults_and_setters() {
        let c = GraphConfig::new();
        assert_eq!(c.get_kind_weight(&IndicatorKind::Payment), 1.0);
        assert_eq!(c.get_kind_weight(&IndicatorKind::Asn), 0.01);
        assert_eq!(c.get_kind_weight(&IndicatorKind::parse("zz").unwrap()), 0.2);
        assert!(c.get_kind_weight(&IndicatorKind::TlsFp) < c.get_kind_weight(&IndicatorKind::Ip));
        assert_eq!(c.get_supernode_cap(), 200);
        assert_eq!(c.get_top_k(), None);
        c.validate().unwrap();
        let c = c.kind_weight(IndicatorKind::Asn, 0.0).custom_weight(0.4).top_k(Some(3));
        assert_eq!(c.get_kind_weight(&IndicatorKind::Asn), 0.0);
        assert_eq!(c.get_kind_weight(&IndicatorKind::parse("zz").unwrap()), 0.4);
        assert!(GraphConfig::new().known_shared_network("10.0.0.0/33").is_err());
        assert!(GraphConfig::new().known_shared_network("nonsense").is_err());
        let json = serde_json::to_string(&c).unwrap();
        let back: GraphConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        let bad: GraphConfig = serde_json::from_str(r#"{"time_floor": 2.0}"#).unwrap();
        assert!(bad.validate().unwrap_err().to_string().contains("time_floor"));
    }

    #[test]
    #[should_panic(expected = "kind weight")]
    fn negative_weight_panics() {
        let _ = GraphConfig::new().kind_weight(IndicatorKind::Ip, -1.0);
    }

    #[test]
    fn networks_match_ips_and_prefixes() {
        let n = Network::parse("100.64.0.0/10").unwrap();
        assert!(n.contains(parse_ip("100.100.1.1").unwrap()));
        assert!(!n.contains(parse_ip("100.128.0.1").unwrap()));
        assert!(!n.contains(parse_ip("::1").unwrap()));
        assert!(n.contains_prefix("100.64.3.0/24"));
        assert!(!n.contains_prefix("100.0.0.0/8"));
        let v6 = Network::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(parse_ip("2001:db8:5::1").unwrap()));
        assert!(v6.contains_prefix("2001:db8:1::/48"));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(parse_ip("8.8.8.8").unwrap()));
    }

    #[test]
    fn kind_masks() {
        let m = KindMask::of(&IndicatorKind::Ip)
            .union(KindMask::of(&IndicatorKind::parse("x1").unwrap()));
        assert!(m.contains(&IndicatorKind::Ip));
        assert!(m.contains(&IndicatorKind::parse("other").unwrap()));
        assert!(!m.contains(&IndicatorKind::Payment));
        assert!(!m.has_hard());
        assert!(m.union(KindMask::of(&IndicatorKind::Phone)).has_hard());
        assert_eq!(m.names(), ["ip", "custom"]);
        assert_eq!(KindMask::EMPTY.names(), Vec::<&str>::new());
        assert_eq!(KindMask::of(&IndicatorKind::Ip), KindMask(1));
    }

    #[test]
    fn known_shared_values_are_resolved() {
        let events = vec![
            Event::observe(0, "a", IndicatorKind::Ip, "100.64.1.2"),
            Event::observe(0, "a", IndicatorKind::Ip, "8.8.8.8"),
            Event::observe(0, "a", IndicatorKind::Template, "react-default"),
        ];
        let index = Index::from_events(&events).unwrap();
        let config = GraphConfig::new()
            .known_shared_network("100.64.0.0/10")
            .unwrap()
            .known_shared_value(IndicatorKind::Template, "react-default");
        let w = Weights::new(&index, &config);
        let names: Vec<String> = w
            .known
            .iter()
            .map(|&i| index.indicator_value(crate::id::IndicatorId::new(i)).to_string())
            .collect();
        assert_eq!(names, ["100.64.1.2", "100.64.1.0/24", "react-default"]);
        let (k, id) = (0, w.known[0]);
        assert!((w.indicator_weight(k, id) - 0.3 * 0.1).abs() < 1e-12);
    }
}
