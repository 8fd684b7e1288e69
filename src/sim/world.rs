//! The generator's state ([`Gen`]): the shared infrastructure every group
//! draws from (ISPs, proxy pools, carrier NATs, VPN and cloud exits, popular
//! templates and fingerprints), account numbering, and emission of accounts.

use ahash::AHashSet;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

use crate::error::{Error, Result};
use crate::event::Timestamp;
use crate::sim::config::SimConfig;
use crate::sim::record::{Rec, op};
use crate::sim::runs::RunBuffer;
use crate::sim::truth::Role;

/// Tags (hard-negative situations and operator traits), by bit position.
pub const TAGS: [&str; 27] = [
    "dynamic_ip",
    "shared_card",
    "corp_card",
    "office_nat",
    "onboarding_burst",
    "campus_network",
    "course_template",
    "company_template",
    "corp_device",
    "cgnat",
    "vpn_exit",
    "cloud_egress",
    "common_device",
    "proxy_ip_shared",
    "post_ban_signup",
    "banned_unrelated",
    "unbanned",
    "careful_operator",
    "never_banned",
    "pivot",
    "device_pool",
    "device_random",
    "pooled_card",
    "pooled_replacement",
    "trickle_bans",
    "cloud_operator",
    "sparse_fleet",
];

/// Bit masks of [`TAGS`].
pub(crate) mod tag {
    pub(crate) const DYNAMIC_IP: u32 = 1 << 0;
    pub(crate) const SHARED_CARD: u32 = 1 << 1;
    pub(crate) const CORP_CARD: u32 = 1 << 2;
    pub(crate) const OFFICE_NAT: u32 = 1 << 3;
    pub(crate) const ONBOARDING_BURST: u32 = 1 << 4;
    pub(crate) const CAMPUS_NETWORK: u32 = 1 << 5;
    pub(crate) const COURSE_TEMPLATE: u32 = 1 << 6;
    pub(crate) const COMPANY_TEMPLATE: u32 = 1 << 7;
    pub(crate) const CORP_DEVICE: u32 = 1 << 8;
    pub(crate) const CGNAT: u32 = 1 << 9;
    pub(crate) const VPN_EXIT: u32 = 1 << 10;
    pub(crate) const CLOUD_EGRESS: u32 = 1 << 11;
    pub(crate) const COMMON_DEVICE: u32 = 1 << 12;
    pub(crate) const PROXY_IP_SHARED: u32 = 1 << 13;
    pub(crate) const POST_BAN_SIGNUP: u32 = 1 << 14;
    pub(crate) const BANNED_UNRELATED: u32 = 1 << 15;
    pub(crate) const UNBANNED: u32 = 1 << 16;
    pub(crate) const CAREFUL_OPERATOR: u32 = 1 << 17;
    pub(crate) const NEVER_BANNED: u32 = 1 << 18;
    pub(crate) const PIVOT: u32 = 1 << 19;
    pub(crate) const DEVICE_POOL: u32 = 1 << 20;
    pub(crate) const DEVICE_RANDOM: u32 = 1 << 21;
    pub(crate) const POOLED_CARD: u32 = 1 << 22;
    pub(crate) const POOLED_REPLACEMENT: u32 = 1 << 23;
    pub(crate) const TRICKLE_BANS: u32 = 1 << 24;
    pub(crate) const CLOUD_OPERATOR: u32 = 1 << 25;
    pub(crate) const SPARSE_FLEET: u32 = 1 << 26;
}

/// Group types, by code.
pub const GROUP_TYPES: [&str; 8] =
    ["operator", "solo", "household", "company", "campus", "cgnat", "vpn", "cloud"];

/// Codes of [`GROUP_TYPES`].
pub(crate) mod gt {
    pub(crate) const OPERATOR: u8 = 0;
    pub(crate) const SOLO: u8 = 1;
    pub(crate) const HOUSEHOLD: u8 = 2;
    pub(crate) const COMPANY: u8 = 3;
    pub(crate) const CAMPUS: u8 = 4;
    pub(crate) const CGNAT: u8 = 5;
    pub(crate) const VPN: u8 = 6;
    pub(crate) const CLOUD: u8 = 7;
}

/// Residential ISPs: the first two octets of their /16 blocks and their ASN.
const RESIDENTIAL: [(u8, u8, u32); 24] = [
    (24, 4, 7922),
    (73, 15, 7922),
    (98, 207, 7922),
    (71, 176, 701),
    (108, 20, 701),
    (76, 90, 20115),
    (67, 160, 20115),
    (69, 112, 7018),
    (99, 33, 7018),
    (47, 150, 5650),
    (50, 47, 5650),
    (174, 62, 22773),
    (68, 104, 22773),
    (92, 184, 3320),
    (87, 150, 3320),
    (86, 128, 2856),
    (81, 101, 2856),
    (90, 40, 3215),
    (83, 200, 3215),
    (95, 90, 12322),
    (82, 64, 12322),
    (79, 211, 3269),
    (151, 40, 3269),
    (188, 96, 8151),
];

/// Business ISPs that host office NATs.
const BUSINESS_ASNS: [u32; 8] = [701, 7018, 3356, 174, 6939, 2914, 1299, 3257];

/// An IP address with its ASN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Addr {
    pub(crate) ip: u32,
    pub(crate) asn: u32,
}

const fn ipv4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// Samples 0-based ranks with probability proportional to 1/(rank+1)^s.
#[derive(Clone, Debug)]
pub(crate) struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    pub(crate) fn new(n: usize, s: f64) -> Self {
        let mut acc = 0.0;
        let cumulative = (1..=n)
            .map(|k| {
                acc += 1.0 / (k as f64).powf(s);
                acc
            })
            .collect();
        Self { cumulative }
    }

    pub(crate) fn sample(&self, rng: &mut Pcg64) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.random::<f64>() * total;
        self.cumulative.partition_point(|&c| c < x).min(self.cumulative.len() - 1)
    }
}

/// Number of popular (framework) templates; codes 1..=POPULAR_TEMPLATES.
pub(crate) const POPULAR_TEMPLATES: usize = 60;
/// Popular templates of the new model, codes 101..=110, used after the release.
pub(crate) const RELEASE_TEMPLATES: u64 = 10;
/// Common device fingerprints (stock phones and browsers); codes 1..=40.
pub(crate) const COMMON_DEVICES: usize = 40;
/// Common TLS fingerprints; codes 1..=16 (3 is a scripting client's).
pub(crate) const COMMON_TLS: usize = 16;
/// Common user agents; codes 0..60.
pub(crate) const COMMON_UAS: usize = 60;

/// A hydra account's ban, for post-ban legitimate signups on its network.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HydraBan {
    pub(crate) ts: Timestamp,
    pub(crate) addr: Addr,
}

/// Compact truth of one account, in generation order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TruthRow {
    pub(crate) number: u64,
    pub(crate) role: Role,
    pub(crate) group: u32,
    pub(crate) group_type: u8,
    pub(crate) tags: u32,
}

/// What [`Gen`] counts while it runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    pub(crate) events: u64,
    pub(crate) bans: [u64; 3],
    pub(crate) unbans: u64,
}

/// A bijection on `[0, 2^bits)`: scrambles generation order into account
/// numbers so that ids say nothing about groups.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Perm {
    bits: u32,
    key: u64,
}

impl Perm {
    pub(crate) fn new(bits: u32, seed: u64) -> Self {
        Self { bits, key: crate::sim::record::mix(seed ^ 0x7065_726d) }
    }

    fn mask(&self) -> u64 {
        (1u64 << self.bits) - 1
    }

    pub(crate) fn apply(&self, x: u64) -> u64 {
        let m = self.mask();
        let half = self.bits / 2 + 1;
        let mut x = (x ^ self.key) & m;
        x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15 | 1) & m;
        x ^= x >> half;
        x = x.wrapping_mul((self.key << 1) | 1) & m;
        x ^= x >> (self.bits / 3 + 1);
        x = x.wrapping_mul(0xd6e8_feb8_6659_fd93) & m;
        x
    }

    /// Decimal digits of the largest account number.
    pub(crate) fn width(&self) -> usize {
        self.mask().to_string().len()
    }
}

/// The events of one account being built, in any order; sorted on emission.
#[derive(Debug)]
pub(crate) struct Acct {
    pub(crate) number: u64,
    evs: Vec<(Timestamp, u8, u64, u64)>,
    seen_ips: Vec<u32>,
}

/// Most events one simulated account may have.
pub(crate) const MAX_ACCOUNT_EVENTS: usize = 60;

impl Acct {
    /// Whether `n` more events fit in the per-account budget (keeping two
    /// for a ban and an unban).
    pub(crate) fn room(&self, n: usize) -> bool {
        self.evs.len() + n + 2 <= MAX_ACCOUNT_EVENTS
    }

    pub(crate) fn push(&mut self, ts: Timestamp, op: u8, a: u64, b: u64) {
        self.evs.push((ts, op, a, b));
    }

    /// Observes an IP, and its ASN the first time this account is on it.
    /// Returns whether the IP is new for the account.
    pub(crate) fn ip(&mut self, ts: Timestamp, addr: Addr) -> bool {
        self.push(ts, op::IP, u64::from(addr.ip), 0);
        if self.seen_ips.contains(&addr.ip) {
            return false;
        }
        self.seen_ips.push(addr.ip);
        self.push(ts, op::ASN, u64::from(addr.asn), 0);
        true
    }
}

/// The generator: configuration, one seeded RNG, shared infrastructure,
/// the sorted-run buffer and the compact truth.
#[derive(Debug)]
pub(crate) struct Gen {
    pub(crate) cfg: SimConfig,
    pub(crate) rng: Pcg64,
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    pub(crate) release: Timestamp,
    pub(crate) perm: Perm,
    next_index: u64,
    pub(crate) runs: RunBuffer,
    pub(crate) truth: Vec<TruthRow>,
    /// Group names; index 0 is the empty group of solo accounts.
    pub(crate) groups: Vec<String>,
    pub(crate) counters: Counters,
    /// Every IP of every operator's proxy pool.
    pub(crate) proxy_ips: AHashSet<u32>,
    pub(crate) proxy_pools: Vec<Vec<Addr>>,
    pub(crate) hydra_bans: Vec<HydraBan>,
    pub(crate) popular: Zipf,
    pub(crate) devices: Zipf,
    pub(crate) tls: Zipf,
    pub(crate) uas: Zipf,
    pub(crate) domains: Zipf,
    /// Business /24s handed out so far (one per company office).
    offices: u32,
}

impl Gen {
    pub(crate) fn new(cfg: &SimConfig, planned_accounts: u64) -> Self {
        let bits = (64 - (planned_accounts.max(1 << 16) * 4).leading_zeros()).min(40);
        let start = cfg.get_start();
        Self {
            rng: Pcg64::seed_from_u64(cfg.get_seed()),
            start,
            end: cfg.get_end(),
            release: start + i64::from(cfg.get_release_day()) * 86_400,
            perm: Perm::new(bits, cfg.get_seed()),
            next_index: 0,
            runs: RunBuffer::new(cfg.get_max_events_in_memory()),
            truth: Vec::new(),
            groups: vec![String::new()],
            counters: Counters::default(),
            proxy_ips: AHashSet::new(),
            proxy_pools: Vec::new(),
            hydra_bans: Vec::new(),
            popular: Zipf::new(POPULAR_TEMPLATES, 1.1),
            devices: Zipf::new(COMMON_DEVICES, 1.0),
            tls: Zipf::new(COMMON_TLS, 1.3),
            uas: Zipf::new(COMMON_UAS, 1.2),
            domains: Zipf::new(crate::sim::record::PUBLIC_DOMAINS.len(), 1.0),
            offices: 0,
            cfg: cfg.clone(),
        }
    }

    /// A new account signing up at `signup` (its signup event included).
    pub(crate) fn account(&mut self, signup: Timestamp) -> Result<Acct> {
        if self.next_index > self.perm.mask() {
            return Err(Error::limit("simulator ran out of account numbers (lower --scale)"));
        }
        let number = self.perm.apply(self.next_index);
        self.next_index += 1;
        let mut acct = Acct { number, evs: Vec::with_capacity(32), seen_ips: Vec::new() };
        acct.push(signup, op::SIGNUP, 0, 0);
        Ok(acct)
    }

    /// Registers a group name and returns its index.
    pub(crate) fn group(&mut self, name: String) -> u32 {
        self.groups.push(name);
        (self.groups.len() - 1) as u32
    }

    /// Sorts an account's events by time (signup first, bans after
    /// observations at the same second), numbers them, and queues them.
    pub(crate) fn emit(
        &mut self,
        mut acct: Acct,
        role: Role,
        group: u32,
        group_type: u8,
        tags: u32,
    ) -> Result<()> {
        let rank = |op: u8| match op {
            op::SIGNUP => 0,
            op::BAN => 2,
            op::UNBAN => 3,
            _ => 1,
        };
        acct.evs.sort_by_key(|e| (e.0, rank(e.1)));
        let mut tags = tags;
        for (seq, &(ts, o, a, b)) in acct.evs.iter().enumerate() {
            if o == op::IP && role == Role::Legit && self.proxy_ips.contains(&(a as u32)) {
                tags |= tag::PROXY_IP_SHARED;
            }
            match o {
                op::BAN => self.counters.bans[a as usize % 3] += 1,
                op::UNBAN => self.counters.unbans += 1,
                _ => {}
            }
            let rec = Rec { ts, account: acct.number, seq: seq as u32, op: o, a, b };
            self.runs.push(rec)?;
        }
        self.counters.events += acct.evs.len() as u64;
        self.truth.push(TruthRow { number: acct.number, role, group, group_type, tags });
        Ok(())
    }

    pub(crate) fn accounts_made(&self) -> u64 {
        self.next_index
    }

    // ---- randomness helpers ----

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    /// Uniform in `lo..hi` (`lo` if the range is empty).
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo { lo } else { self.rng.random_range(lo..hi) }
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n <= 1 { 0 } else { self.rng.random_range(0..n) }
    }

    pub(crate) fn unique(&mut self) -> u64 {
        self.rng.random::<u64>() | (1 << 63)
    }

    /// Exponential with the given mean.
    pub(crate) fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.rng.random::<f64>()).ln()
    }

    // ---- infrastructure ----

    /// A random residential address.
    pub(crate) fn residential(&mut self) -> Addr {
        let (a, b, asn) = RESIDENTIAL[self.below(RESIDENTIAL.len())];
        let c = self.rng.random_range(0..=255u8);
        let d = self.rng.random_range(1..=254u8);
        Addr { ip: ipv4(a, b, c, d), asn }
    }

    /// A random address of a cloud provider's range (an operator's rented
    /// egress: it shares the provider's ASN and ranges with legitimate
    /// cloud users).
    pub(crate) fn cloud(&mut self) -> Addr {
        let (a, b, asn) = [(3u8, 80u8, 16_509u32), (34, 100, 15_169)][self.below(2)];
        let c = self.rng.random_range(0..=255u8);
        let d = self.rng.random_range(1..=254u8);
        Addr { ip: ipv4(a, b, c, d), asn }
    }

    /// A random address of the residential ISP `asn`.
    fn residential_of(&mut self, asn: u32) -> Addr {
        let blocks = RESIDENTIAL.iter().filter(|r| r.2 == asn).count();
        let k = self.below(blocks);
        let (a, b, _) =
            RESIDENTIAL.iter().filter(|r| r.2 == asn).nth(k).copied().unwrap_or(RESIDENTIAL[0]);
        let c = self.rng.random_range(0..=255u8);
        let d = self.rng.random_range(1..=254u8);
        Addr { ip: ipv4(a, b, c, d), asn }
    }

    /// A random IP of a random operator's proxy pool, if any.
    pub(crate) fn proxy_addr(&mut self) -> Option<Addr> {
        if self.proxy_pools.is_empty() {
            return None;
        }
        let p = self.below(self.proxy_pools.len());
        let i = self.below(self.proxy_pools[p].len());
        self.proxy_pools[p].get(i).copied()
    }

    /// A residential IP timeline from `from` to the end of the period,
    /// changing every `min_days`..`max_days`; each lease is, with
    /// probability `p_proxy`, an IP that a proxy network also exits from.
    pub(crate) fn timeline(
        &mut self,
        from: Timestamp,
        min_days: f64,
        max_days: f64,
        p_proxy: f64,
    ) -> Vec<(Timestamp, Addr)> {
        let mut out = Vec::with_capacity(16);
        let isp = self.residential().asn;
        let mut t = from - self.between(0, 3 * 86_400);
        while t < self.end {
            let mut addr = self.residential_of(isp);
            if self.chance(p_proxy)
                && let Some(p) = self.proxy_addr()
            {
                addr = p;
            }
            out.push((t, addr));
            let days = min_days + self.rng.random::<f64>() * (max_days - min_days);
            t += (days * 86_400.0) as i64;
        }
        out
    }

    /// `n` office NAT addresses in a fresh business /24.
    pub(crate) fn office(&mut self, n: usize) -> Vec<Addr> {
        let k = self.offices;
        self.offices += 1;
        let (a, b, c) = (63 + (k >> 16) as u8 % 8, (k >> 8) as u8, k as u8);
        let asn = BUSINESS_ASNS[k as usize % BUSINESS_ASNS.len()];
        (0..n).map(|i| Addr { ip: ipv4(a, b, c, 10 + i as u8), asn }).collect()
    }

    /// A popular template code, from the new model's family after the release.
    pub(crate) fn popular_template(&mut self, ts: Timestamp) -> u64 {
        if ts >= self.release && self.chance(0.3) {
            return 101 + self.below(RELEASE_TEMPLATES as usize) as u64;
        }
        1 + self.popular.sample(&mut self.rng) as u64
    }

    pub(crate) fn common_device(&mut self) -> u64 {
        1 + self.devices.sample(&mut self.rng) as u64
    }

    pub(crate) fn common_tls(&mut self) -> u64 {
        1 + self.tls.sample(&mut self.rng) as u64
    }

    pub(crate) fn common_ua(&mut self) -> u64 {
        self.uas.sample(&mut self.rng) as u64
    }

    pub(crate) fn public_domain(&mut self) -> u64 {
        self.domains.sample(&mut self.rng) as u64
    }
}

/// The address a timeline gives at `t` (its first lease before it starts).
pub(crate) fn lease_at(timeline: &[(Timestamp, Addr)], t: Timestamp) -> Addr {
    let i = timeline.partition_point(|l| l.0 <= t);
    timeline[i.saturating_sub(1)].1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perm_is_a_bijection() {
        let p = Perm::new(12, 7);
        let mut seen: Vec<u64> = (0..4096).map(|x| p.apply(x)).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 4096);
        assert!(seen.iter().all(|&x| x < 4096));
        assert_eq!(p.width(), 4);
    }

    #[test]
    fn zipf_favours_low_ranks() {
        let z = Zipf::new(50, 1.1);
        let mut rng = Pcg64::seed_from_u64(3);
        let mut counts = [0u32; 50];
        for _ in 0..10_000 {
            counts[z.sample(&mut rng)] += 1;
        }
        assert!(counts[0] > counts[10] && counts[10] > 0);
    }
}
