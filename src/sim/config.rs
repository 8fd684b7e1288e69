//! [`SimConfig`]: the size and shape of a simulated platform.

use crate::error::{Error, Result};
use crate::event::Timestamp;

/// Most accounts a simulation may have (after [`SimConfig::scale`]).
pub const MAX_SIM_ACCOUNTS: u64 = 10_000_000;

/// 2026-01-05T00:00:00Z, a Monday: the default start of the simulated period.
pub const DEFAULT_START: Timestamp = 1_767_571_200;

/// A named size of simulated platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// About 20,000 accounts, five operators: tests and quick looks.
    Small,
    /// About 100,000 accounts, five operators: the default of `hydra demo`.
    Demo,
    /// About 200,000 accounts, six operators (the largest 20,000 strong).
    Medium,
    /// About 2,000,000 accounts, twelve operators.
    Large,
}

impl Preset {
    /// Every preset, smallest first.
    pub const ALL: [Preset; 4] = [Preset::Small, Preset::Demo, Preset::Medium, Preset::Large];

    /// Parses `small`, `demo`, `medium` or `large`.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error naming the unknown preset.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "small" => Preset::Small,
            "demo" => Preset::Demo,
            "medium" => Preset::Medium,
            "large" => Preset::Large,
            _ => {
                return Err(Error::config(format!(
                    "unknown preset {name:?} (expected small, demo, medium or large)"
                )));
            }
        })
    }

    /// The preset's name as [`Preset::parse`] accepts it.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Small => "small",
            Preset::Demo => "demo",
            Preset::Medium => "medium",
            Preset::Large => "large",
        }
    }
}

/// Size and shape of a simulated platform; see the [module docs](crate::sim).
///
/// Build one from a preset ([`SimConfig::small`], [`SimConfig::medium`], ...)
/// or from [`SimConfig::new`] (= [`SimConfig::demo`]) and adjust it with the
/// by-value setters. Sizes given here are multiplied by [`SimConfig::scale`].
///
/// The operators are listed largest first and take fixed roles by position:
/// `op-1` pivots to a new template family on the release day, `op-2` is the
/// careful operator (shares no card, device or phone), `op-3` is never banned,
/// from `op-4` on operators alternate between a small device pool and
/// random devices, and `op-5` replaces its banned accounts from its pools
/// like any new account (`pooled_replacement`: no reuse of the banned
/// account's signup address, card or device).
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    seed: u64,
    start: Timestamp,
    days: u32,
    accounts: u64,
    scale: f64,
    operator_sizes: Vec<u32>,
    household_share: f64,
    company_share: f64,
    campus_share: f64,
    cgnat_share: f64,
    vpn_share: f64,
    cloud_share: f64,
    max_company_size: u32,
    legit_ban_rate: f64,
    release_day: u32,
    max_events_in_memory: usize,
    varied: bool,
}

impl Default for SimConfig {
    /// The `demo` preset.
    fn default() -> Self {
        Self::demo()
    }
}

impl SimConfig {
    /// The default configuration: the `demo` preset, seed 1.
    pub fn new() -> Self {
        Self::demo()
    }

    /// The configuration of `preset`.
    pub fn preset(preset: Preset) -> Self {
        match preset {
            Preset::Small => Self::small(),
            Preset::Demo => Self::demo(),
            Preset::Medium => Self::medium(),
            Preset::Large => Self::large(),
        }
    }

    fn base(accounts: u64, operator_sizes: Vec<u32>) -> Self {
        Self {
            seed: 1,
            start: DEFAULT_START,
            days: 56,
            accounts,
            scale: 1.0,
            operator_sizes,
            household_share: 0.22,
            company_share: 0.16,
            campus_share: 0.08,
            cgnat_share: 0.08,
            vpn_share: 0.04,
            cloud_share: 0.03,
            max_company_size: 2000,
            legit_ban_rate: 0.004,
            release_day: 38,
            max_events_in_memory: 4_000_000,
            varied: false,
        }
    }

    /// About 20,000 accounts and five operators of 200 to 1,500 accounts.
    pub fn small() -> Self {
        Self::base(20_000, vec![1500, 400, 600, 250, 200]).max_company_size(600)
    }

    /// About 100,000 accounts and five operators of 400 to 10,000 accounts.
    pub fn demo() -> Self {
        Self::base(100_000, vec![10_000, 1500, 3000, 800, 400])
    }

    /// About 200,000 accounts and six operators of 300 to 20,000 accounts.
    pub fn medium() -> Self {
        Self::base(200_000, vec![20_000, 3000, 6000, 1500, 800, 300])
    }

    /// About 2,000,000 accounts and twelve operators of 300 to 24,000 accounts.
    pub fn large() -> Self {
        Self::base(
            2_000_000,
            vec![24_000, 5000, 20_000, 12_000, 8000, 3000, 2000, 1000, 600, 400, 300, 300],
        )
    }

    /// Seed of the random generator (default 1): same seed, same output.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Start of the simulated period, unix seconds (default 2026-01-05T00:00:00Z).
    pub fn start(mut self, start: Timestamp) -> Self {
        self.start = start;
        self
    }

    /// Length of the simulated period in days (default 56, eight weeks).
    pub fn days(mut self, days: u32) -> Self {
        self.days = days;
        self
    }

    /// Target number of accounts before scaling, hydras and replacements included.
    pub fn accounts(mut self, accounts: u64) -> Self {
        self.accounts = accounts;
        self
    }

    /// Multiplier on the account count, operator sizes and infrastructure pools
    /// (default 1); the scaled account count may not exceed [`MAX_SIM_ACCOUNTS`].
    pub fn scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }

    /// Initial accounts of each operator, largest first (replacements come on top).
    pub fn operator_sizes(mut self, sizes: Vec<u32>) -> Self {
        self.operator_sizes = sizes;
        self
    }

    /// Share of legitimate accounts living in households of 2 to 5 (default 0.22).
    pub fn household_share(mut self, share: f64) -> Self {
        self.household_share = share;
        self
    }

    /// Share of legitimate accounts working at companies (default 0.16).
    pub fn company_share(mut self, share: f64) -> Self {
        self.company_share = share;
        self
    }

    /// Share of legitimate accounts on university campuses (default 0.08).
    pub fn campus_share(mut self, share: f64) -> Self {
        self.campus_share = share;
        self
    }

    /// Share of legitimate accounts on mobile carrier-grade NAT (default 0.08).
    pub fn cgnat_share(mut self, share: f64) -> Self {
        self.cgnat_share = share;
        self
    }

    /// Share of legitimate accounts behind commercial VPN exits (default 0.04).
    pub fn vpn_share(mut self, share: f64) -> Self {
        self.vpn_share = share;
        self
    }

    /// Share of legitimate accounts calling from cloud egress IPs (default 0.03).
    pub fn cloud_share(mut self, share: f64) -> Self {
        self.cloud_share = share;
        self
    }

    /// Largest company, in accounts (default 2,000; at least 5).
    pub fn max_company_size(mut self, size: u32) -> Self {
        self.max_company_size = size;
        self
    }

    /// Share of legitimate accounts banned for unrelated reasons (spam,
    /// chargeback; default 0.004), besides the planted post-ban situations.
    pub fn legit_ban_rate(mut self, rate: f64) -> Self {
        self.legit_ban_rate = rate;
        self
    }

    /// Day of the period (0-based) on which a new model is released and the
    /// pivoting operators move most traffic to a new template family (default 38).
    pub fn release_day(mut self, day: u32) -> Self {
        self.release_day = day;
        self
    }

    /// Events held in memory before a sorted run is spilled to a temporary
    /// file (default 4,000,000, about 160 MB).
    pub fn max_events_in_memory(mut self, events: usize) -> Self {
        self.max_events_in_memory = events;
        self
    }

    /// Operators drawn from the seed (default off): each operator's style
    /// (careful, never banned, pooled or one-to-one replacement, ban waves or
    /// a trickle of single bans, residential proxies or cloud egress, a
    /// sparse fleet whose accounts each link to few others) and its numbers
    /// (proxy pool, cards, devices and phones per account, addresses per
    /// account, ban share, replacement rate and delay) come from wide ranges,
    /// so that no single tuning of a detector fits every seed. Off, operators
    /// take the fixed roles by position described above.
    pub fn varied(mut self, on: bool) -> Self {
        self.varied = on;
        self
    }

    /// Whether operators are drawn from the seed ([`SimConfig::varied`]).
    pub fn get_varied(&self) -> bool {
        self.varied
    }

    /// The seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// The start of the period.
    pub fn get_start(&self) -> Timestamp {
        self.start
    }

    /// The length of the period in days.
    pub fn get_days(&self) -> u32 {
        self.days
    }

    /// The end of the period (exclusive), unix seconds.
    pub fn get_end(&self) -> Timestamp {
        self.start + i64::from(self.days) * 86_400
    }

    /// The target account count before scaling.
    pub fn get_accounts(&self) -> u64 {
        self.accounts
    }

    /// The scale.
    pub fn get_scale(&self) -> f64 {
        self.scale
    }

    /// The target account count after scaling.
    pub fn get_scaled_accounts(&self) -> u64 {
        (self.accounts as f64 * self.scale).round() as u64
    }

    /// The operator sizes before scaling.
    pub fn get_operator_sizes(&self) -> &[u32] {
        &self.operator_sizes
    }

    /// The operator sizes after scaling (each at least 20).
    pub fn get_scaled_operator_sizes(&self) -> Vec<u32> {
        self.operator_sizes
            .iter()
            .map(|&s| ((f64::from(s) * self.scale).round() as u32).max(20.min(s)))
            .collect()
    }

    /// The household share.
    pub fn get_household_share(&self) -> f64 {
        self.household_share
    }

    /// The company share.
    pub fn get_company_share(&self) -> f64 {
        self.company_share
    }

    /// The campus share.
    pub fn get_campus_share(&self) -> f64 {
        self.campus_share
    }

    /// The carrier-grade NAT share.
    pub fn get_cgnat_share(&self) -> f64 {
        self.cgnat_share
    }

    /// The VPN share.
    pub fn get_vpn_share(&self) -> f64 {
        self.vpn_share
    }

    /// The cloud egress share.
    pub fn get_cloud_share(&self) -> f64 {
        self.cloud_share
    }

    /// The largest company size.
    pub fn get_max_company_size(&self) -> u32 {
        self.max_company_size
    }

    /// The unrelated legitimate ban rate.
    pub fn get_legit_ban_rate(&self) -> f64 {
        self.legit_ban_rate
    }

    /// The release day.
    pub fn get_release_day(&self) -> u32 {
        self.release_day
    }

    /// The in-memory event budget.
    pub fn get_max_events_in_memory(&self) -> usize {
        self.max_events_in_memory
    }

    /// Checks that the configuration describes a platform that can be built.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error naming the setting, or a
    /// [`Limit`](crate::ErrorKind::Limit) error if the scaled account count
    /// exceeds [`MAX_SIM_ACCOUNTS`].
    pub fn validate(&self) -> Result<()> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(Error::config(format!("scale {} must be a positive number", self.scale)));
        }
        let total = self.get_scaled_accounts();
        if total > MAX_SIM_ACCOUNTS {
            return Err(Error::limit(format!(
                "{total} simulated accounts requested, at most {MAX_SIM_ACCOUNTS} supported \
                 (lower --scale or the account count)"
            )));
        }
        if total < 100 {
            return Err(Error::config(format!("{total} accounts is too few (at least 100)")));
        }
        if !(7..=365).contains(&self.days) {
            return Err(Error::config(format!("days {} must be 7 to 365", self.days)));
        }
        if self.release_day >= self.days {
            return Err(Error::config(format!(
                "release_day {} must fall inside the {}-day period",
                self.release_day, self.days
            )));
        }
        let shares = [
            ("household_share", self.household_share),
            ("company_share", self.company_share),
            ("campus_share", self.campus_share),
            ("cgnat_share", self.cgnat_share),
            ("vpn_share", self.vpn_share),
            ("cloud_share", self.cloud_share),
            ("legit_ban_rate", self.legit_ban_rate),
        ];
        for (name, v) in shares {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::config(format!("{name} {v} must be in [0, 1]")));
            }
        }
        let sum: f64 = shares[..6].iter().map(|s| s.1).sum();
        if sum > 1.0 + 1e-9 {
            return Err(Error::config(format!(
                "legitimate group shares add up to {sum:.3} (at most 1; the rest are solo users)"
            )));
        }
        if self.max_company_size < 5 {
            return Err(Error::config(format!(
                "max_company_size {} must be at least 5",
                self.max_company_size
            )));
        }
        if self.operator_sizes.contains(&0) {
            return Err(Error::config("operator sizes must be at least 1"));
        }
        let hydra: u64 = self.get_scaled_operator_sizes().iter().map(|&s| u64::from(s)).sum();
        if hydra as f64 * 1.4 > total as f64 {
            return Err(Error::config(format!(
                "operators hold {hydra} of {total} accounts before replacements (keep them \
                 under 70% so a legitimate population remains)"
            )));
        }
        if self.max_events_in_memory < 1000 {
            return Err(Error::config(format!(
                "max_events_in_memory {} must be at least 1000",
                self.max_events_in_memory
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate_and_parse() {
        for p in Preset::ALL {
            SimConfig::preset(p).validate().unwrap();
            assert_eq!(Preset::parse(p.as_str()).unwrap(), p);
        }
        assert!(Preset::parse("huge").unwrap_err().to_string().contains("huge"));
        assert_eq!(SimConfig::default(), SimConfig::demo());
    }

    #[test]
    fn limits_are_enforced() {
        assert!(SimConfig::large().scale(5.0).validate().is_ok());
        let e = SimConfig::large().scale(6.0).validate().unwrap_err();
        assert!(matches!(e.kind(), crate::ErrorKind::Limit { .. }), "{e}");
        assert!(SimConfig::small().scale(0.0).validate().is_err());
        assert!(SimConfig::small().household_share(0.9).validate().is_err());
        assert!(SimConfig::small().release_day(80).validate().is_err());
        assert!(SimConfig::small().operator_sizes(vec![20_000]).validate().is_err());
    }
}
