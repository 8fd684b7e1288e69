//! [`ScoreConfig`]: signal weights, the hydra threshold and every knob of the
//! scoring stage, with [`Signal`] naming the signals.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One of the community signals that make up a hydra risk score.
///
/// Every signal is a number in `[0, 1]` (higher = more hydra-like) computed
/// per community; the score is their weighted mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Signal {
    /// How many accounts the community holds.
    Size,
    /// Banned members: share, and ban waves (many bans close in time).
    Bans,
    /// Signup bursts, and replenishment (new signups soon after bans).
    SignupBurst,
    /// Many accounts rotating over many IPs, versus a few stable office IPs.
    IpRotation,
    /// Payment cards each shared by a handful of accounts, versus one corporate card.
    PaymentPooling,
    /// Disposable or one-off e-mail domains, versus a shared corporate or campus domain.
    Identity,
    /// Rare request templates shared by most members.
    Template,
    /// Members active in the very same minutes.
    Sync,
    /// Events per account, relative to the platform's typical account.
    Volume,
    /// Suspiciousness-weighted degree of the densest core (FRAUDAR-style).
    Density,
}

impl Signal {
    /// Every signal, in the fixed order reports list them.
    pub const ALL: [Signal; 10] = [
        Signal::Size,
        Signal::Bans,
        Signal::SignupBurst,
        Signal::IpRotation,
        Signal::PaymentPooling,
        Signal::Identity,
        Signal::Template,
        Signal::Sync,
        Signal::Volume,
        Signal::Density,
    ];

    /// The stable name written in reports, e.g. `payment_pooling`.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Size => "size",
            Signal::Bans => "bans",
            Signal::SignupBurst => "signup_burst",
            Signal::IpRotation => "ip_rotation",
            Signal::PaymentPooling => "payment_pooling",
            Signal::Identity => "identity",
            Signal::Template => "template",
            Signal::Sync => "sync",
            Signal::Volume => "volume",
            Signal::Density => "density",
        }
    }

    /// Dense index of the signal in [`Signal::ALL`].
    pub(crate) fn index(self) -> usize {
        Signal::ALL.iter().position(|&s| s == self).unwrap_or(0)
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The weight of each signal in the risk score (a weighted mean, so only
/// the ratios matter). Defaults favour the signals that legitimate groups
/// rarely show (pooled cards, rare shared templates, synchronized minutes)
/// over those they often show (size, shared IPs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// Weight of [`Signal::Size`]; default 0.04.
    pub size: f64,
    /// Weight of [`Signal::Bans`]; default 0.10.
    pub bans: f64,
    /// Weight of [`Signal::SignupBurst`]; default 0.10.
    pub signup_burst: f64,
    /// Weight of [`Signal::IpRotation`]; default 0.12.
    pub ip_rotation: f64,
    /// Weight of [`Signal::PaymentPooling`]; default 0.14.
    pub payment_pooling: f64,
    /// Weight of [`Signal::Identity`]; default 0.08.
    pub identity: f64,
    /// Weight of [`Signal::Template`]; default 0.14.
    pub template: f64,
    /// Weight of [`Signal::Sync`]; default 0.14.
    pub sync: f64,
    /// Weight of [`Signal::Volume`]; default 0.06.
    pub volume: f64,
    /// Weight of [`Signal::Density`]; default 0.08.
    pub density: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            size: 0.04,
            bans: 0.10,
            signup_burst: 0.10,
            ip_rotation: 0.12,
            payment_pooling: 0.14,
            identity: 0.08,
            template: 0.14,
            sync: 0.14,
            volume: 0.06,
            density: 0.08,
        }
    }
}

impl Weights {
    /// The weight of `signal`.
    pub fn get(&self, signal: Signal) -> f64 {
        match signal {
            Signal::Size => self.size,
            Signal::Bans => self.bans,
            Signal::SignupBurst => self.signup_burst,
            Signal::IpRotation => self.ip_rotation,
            Signal::PaymentPooling => self.payment_pooling,
            Signal::Identity => self.identity,
            Signal::Template => self.template,
            Signal::Sync => self.sync,
            Signal::Volume => self.volume,
            Signal::Density => self.density,
        }
    }

    /// Sets the weight of `signal`.
    pub fn set(&mut self, signal: Signal, weight: f64) {
        let slot = match signal {
            Signal::Size => &mut self.size,
            Signal::Bans => &mut self.bans,
            Signal::SignupBurst => &mut self.signup_burst,
            Signal::IpRotation => &mut self.ip_rotation,
            Signal::PaymentPooling => &mut self.payment_pooling,
            Signal::Identity => &mut self.identity,
            Signal::Template => &mut self.template,
            Signal::Sync => &mut self.sync,
            Signal::Volume => &mut self.volume,
            Signal::Density => &mut self.density,
        };
        *slot = weight;
    }
}

/// Configuration of the scoring stage: signal weights, the hydra threshold,
/// the shapes that tell hydras from legitimate groups, the refinement of
/// large or split communities, and the replacement rule.
///
/// `Default` gives the documented defaults (each setter says its default).
/// Deserializes from a TOML `[score]` table where every key is optional.
///
/// # Example
///
/// ```
/// use hydra_detect::{ScoreConfig, Signal};
///
/// let config = ScoreConfig::new().threshold(0.6).weight(Signal::Sync, 0.3);
/// assert_eq!(config.get_threshold(), 0.6);
/// assert_eq!(config.get_weight(Signal::Sync), 0.3);
/// config.validate()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreConfig {
    weights: Weights,
    threshold: f64,
    corroboration: f64,
    min_cluster_size: usize,
    abuse_reasons: Vec<String>,
    other_ban_weight: f64,
    burst_window_secs: i64,
    burst_min_accounts: usize,
    wave_window_secs: i64,
    replenish_window_secs: i64,
    stable_ips: usize,
    ip_pool_full: usize,
    pool_max_accounts: usize,
    disposable_domains: Vec<String>,
    rare_template_share: f64,
    template_min_lift: f64,
    sync_full: f64,
    volume_full_ratio: f64,
    density_floor: f64,
    density_full: f64,
    split_min_size: usize,
    split_resolution: f64,
    merge_min_cards: usize,
    schedule_expansion: bool,
    replacement_threshold: f64,
    replacement_window_secs: i64,
    replacement_max_degree: usize,
    parallel_threshold: usize,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        Self {
            weights: Weights::default(),
            threshold: 0.45,
            corroboration: 0.5,
            min_cluster_size: 2,
            abuse_reasons: ["hydra", "fraud", "abuse", "proxy", "resale", "tos", "automation"]
                .map(String::from)
                .to_vec(),
            other_ban_weight: 0.25,
            burst_window_secs: 86_400,
            burst_min_accounts: 5,
            wave_window_secs: 86_400,
            replenish_window_secs: 3 * 86_400,
            stable_ips: 3,
            ip_pool_full: 12,
            pool_max_accounts: 30,
            disposable_domains: [
                "mailinator.com",
                "guerrillamail.com",
                "10minutemail.com",
                "temp-mail.org",
                "tempmail.com",
                "yopmail.com",
                "trashmail.com",
                "sharklasers.com",
                "getnada.com",
                "dispostable.com",
                "maildrop.cc",
                "throwawaymail.com",
            ]
            .map(String::from)
            .to_vec(),
            rare_template_share: 0.5,
            template_min_lift: 4.0,
            sync_full: 0.5,
            volume_full_ratio: 8.0,
            density_floor: 1.5,
            density_full: 5.0,
            split_min_size: 40,
            split_resolution: 0.05,
            merge_min_cards: 2,
            schedule_expansion: true,
            replacement_threshold: 0.55,
            replacement_window_secs: 86_400,
            replacement_max_degree: 200,
            parallel_threshold: 64,
        }
    }
}

macro_rules! knob {
    ($(#[$doc:meta])* $field:ident, $getter:ident, $ty:ty) => {
        $(#[$doc])*
        pub fn $field(mut self, value: $ty) -> Self {
            self.$field = value;
            self
        }

        #[doc = concat!("The value set by [`ScoreConfig::", stringify!($field), "`].")]
        pub fn $getter(&self) -> $ty {
            self.$field
        }
    };
}

impl ScoreConfig {
    /// The default configuration (see each setter for its default).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the weight of one signal in the weighted mean (default: see [`Weights`]).
    pub fn weight(mut self, signal: Signal, weight: f64) -> Self {
        self.weights.set(signal, weight);
        self
    }

    /// The weight of `signal`.
    pub fn get_weight(&self, signal: Signal) -> f64 {
        self.weights.get(signal)
    }

    /// Replaces every weight at once.
    pub fn weights(mut self, weights: Weights) -> Self {
        self.weights = weights;
        self
    }

    /// All the weights.
    pub fn get_weights(&self) -> &Weights {
        &self.weights
    }

    knob! {
        /// Score at or above which a community is a hydra (default 0.45).
        /// The corroboration rule ([`ScoreConfig::corroboration`]) must hold too.
        threshold, get_threshold, f64
    }
    knob! {
        /// A signal counts as corroborating evidence when its value reaches
        /// this (default 0.5). A community is a hydra only with two or more
        /// corroborating signals, at least one of them neither IP rotation
        /// nor template sharing: IP-only or template-only evidence never
        /// flags on its own.
        corroboration, get_corroboration, f64
    }
    knob! {
        /// Smallest community that is scored at all (default 2).
        min_cluster_size, get_min_cluster_size, usize
    }
    knob! {
        /// Weight of a ban whose reason is not an abuse reason, relative to
        /// an abuse ban (default 0.25): legitimate users get banned for
        /// unrelated things (chargebacks, spam).
        other_ban_weight, get_other_ban_weight, f64
    }
    knob! {
        /// Window of a signup burst, seconds (default one day).
        burst_window_secs, get_burst_window_secs, i64
    }
    knob! {
        /// Signups within one burst window that make a burst (default 5):
        /// families and small teams sign up a few at a time.
        burst_min_accounts, get_burst_min_accounts, usize
    }
    knob! {
        /// Window of a ban wave, seconds (default one day).
        wave_window_secs, get_wave_window_secs, i64
    }
    knob! {
        /// A signup within this many seconds after a member's ban counts as
        /// replenishment (default three days).
        replenish_window_secs, get_replenish_window_secs, i64
    }
    knob! {
        /// Shared IPs a legitimate group typically uses (office NAT, home
        /// router): IP rotation counts only shared IPs beyond these (default 3).
        stable_ips, get_stable_ips, usize
    }
    knob! {
        /// Shared IPs beyond [`ScoreConfig::stable_ips`] at which IP rotation
        /// is full (default 12).
        ip_pool_full, get_ip_pool_full, usize
    }
    knob! {
        /// Most accounts on one payment method that still make it a pooled
        /// card (a handful); more is a corporate card (default 30).
        pool_max_accounts, get_pool_max_accounts, usize
    }
    knob! {
        /// Least share of a template's accounts that must be in the community
        /// for it to count as rare there (default 0.5): popular framework
        /// templates mostly serve outsiders.
        rare_template_share, get_rare_template_share, f64
    }
    knob! {
        /// A template most members use is rare in the community also when
        /// their share on it is at least this many times the platform's
        /// share of accounts on it (default 4); so a piece of a large
        /// operator, which holds only part of its template's users, still
        /// shows the operator's templates. See the template signal.
        template_min_lift, get_template_min_lift, f64
    }
    knob! {
        /// Share of member-minutes in crowded minutes at which sync is full (default 0.5).
        sync_full, get_sync_full, f64
    }
    knob! {
        /// Median events per member, as a multiple of the platform median, at
        /// which volume is full (default 8).
        volume_full_ratio, get_volume_full_ratio, f64
    }
    knob! {
        /// Weighted degree of the densest core below which density is zero (default 1.5).
        density_floor, get_density_floor, f64
    }
    knob! {
        /// Weighted degree of the densest core at which density is full (default 5).
        density_full, get_density_full, f64
    }
    knob! {
        /// Communities of at least this many accounts are re-clustered inside
        /// (CPM Leiden at [`ScoreConfig::split_resolution`]) to find a hydra
        /// hidden in a larger mixed community (default 40).
        split_min_size, get_split_min_size, usize
    }
    knob! {
        /// CPM resolution of the re-clustering inside large communities (default 0.05).
        split_resolution, get_split_resolution, f64
    }
    knob! {
        /// Two communities are merged when at least this many distinct pooled
        /// cards join them (default 2).
        merge_min_cards, get_merge_min_cards, usize
    }
    knob! {
        /// Whether confirmed hydras take in the accounts that share their
        /// pooled infrastructure and run on their operator's schedule
        /// (default true): an account tied to a hydra's members by a shared
        /// IP, card, phone, e-mail or device of pooled size is tested, and
        /// joins when most of its active minutes, well beyond chance, are
        /// minutes in which the hydra's flagged members act together. The
        /// shared value only selects whom to test; the schedule decides.
        schedule_expansion, get_schedule_expansion, bool
    }
    knob! {
        /// Evidence strength in [0, 1] at or above which a post-ban signup is
        /// a replacement (default 0.55).
        replacement_threshold, get_replacement_threshold, f64
    }
    knob! {
        /// A signup is a candidate replacement only for bans at most this
        /// many seconds before it (default one day): operators replace
        /// banned accounts within minutes to hours.
        replacement_window_secs, get_replacement_window_secs, i64
    }
    knob! {
        /// Indicators seen on more accounts than this are too common to
        /// prove a replacement (default 200).
        replacement_max_degree, get_replacement_max_degree, usize
    }
    knob! {
        /// Communities scored in parallel above this many (default 64).
        parallel_threshold, get_parallel_threshold, usize
    }

    /// Ban reasons that count as abuse (case-insensitive, matched as whole
    /// reason or its first word); default `hydra`, `fraud`, `abuse`, `proxy`,
    /// `resale`, `tos`, `automation`. A ban with no reason counts as abuse.
    pub fn abuse_reasons<I, S>(mut self, reasons: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.abuse_reasons = reasons.into_iter().map(Into::into).collect();
        self
    }

    /// The abuse ban reasons.
    pub fn get_abuse_reasons(&self) -> &[String] {
        &self.abuse_reasons
    }

    /// E-mail domains known to be disposable (default: a dozen well-known ones).
    pub fn disposable_domains<I, S>(mut self, domains: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.disposable_domains = domains.into_iter().map(Into::into).collect();
        self
    }

    /// The disposable e-mail domains.
    pub fn get_disposable_domains(&self) -> &[String] {
        &self.disposable_domains
    }

    /// Whether a ban `reason` is an abuse reason.
    pub(crate) fn is_abuse(&self, reason: Option<&str>) -> bool {
        let Some(reason) = reason else { return true };
        let reason = reason.trim();
        let first = reason.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or("");
        self.abuse_reasons
            .iter()
            .any(|r| r.eq_ignore_ascii_case(reason) || r.eq_ignore_ascii_case(first))
    }

    /// The weight of a ban with `reason`: 1 for abuse, else `other_ban_weight`.
    pub(crate) fn ban_weight(&self, reason: Option<&str>) -> f64 {
        if self.is_abuse(reason) { 1.0 } else { self.other_ban_weight }
    }

    /// Checks that every value is in range.
    ///
    /// # Errors
    ///
    /// A [`crate::ErrorKind::Config`] error naming the first bad key.
    pub fn validate(&self) -> Result<()> {
        let unit = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::config(format!("score.{name} = {v} (expected a number in [0, 1])")))
            }
        };
        let mut total = 0.0;
        for signal in Signal::ALL {
            let w = self.weights.get(signal);
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::config(format!(
                    "score.weights.{signal} = {w} (expected a finite number >= 0)"
                )));
            }
            total += w;
        }
        if total <= 0.0 {
            return Err(Error::config(
                "score.weights are all zero (give at least one signal a weight)",
            ));
        }
        unit("threshold", self.threshold)?;
        unit("corroboration", self.corroboration)?;
        unit("other_ban_weight", self.other_ban_weight)?;
        unit("rare_template_share", self.rare_template_share)?;
        unit("replacement_threshold", self.replacement_threshold)?;
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::config(format!("score.{name} = {v} (expected a number > 0)")))
            }
        };
        positive("sync_full", self.sync_full)?;
        positive("volume_full_ratio", self.volume_full_ratio)?;
        positive("density_full", self.density_full)?;
        positive("split_resolution", self.split_resolution)?;
        positive("template_min_lift", self.template_min_lift)?;
        if self.density_floor >= self.density_full || self.density_floor < 0.0 {
            return Err(Error::config(format!(
                "score.density_floor = {} (expected >= 0 and below density_full = {})",
                self.density_floor, self.density_full
            )));
        }
        for (name, v) in [
            ("burst_window_secs", self.burst_window_secs),
            ("wave_window_secs", self.wave_window_secs),
            ("replenish_window_secs", self.replenish_window_secs),
            ("replacement_window_secs", self.replacement_window_secs),
        ] {
            if v <= 0 {
                return Err(Error::config(format!("score.{name} = {v} (expected seconds > 0)")));
            }
        }
        for (name, v) in [
            ("min_cluster_size", self.min_cluster_size),
            ("ip_pool_full", self.ip_pool_full),
            ("pool_max_accounts", self.pool_max_accounts),
            ("burst_min_accounts", self.burst_min_accounts),
            ("merge_min_cards", self.merge_min_cards),
            ("replacement_max_degree", self.replacement_max_degree),
        ] {
            if v == 0 {
                return Err(Error::config(format!("score.{name} = 0 (expected at least 1)")));
            }
        }
        if self.min_cluster_size < 2 {
            return Err(Error::config(
                "score.min_cluster_size = 1 (a community has 2 or more accounts)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip_through_toml() {
        let config = ScoreConfig::new();
        config.validate().unwrap();
        let text = toml::to_string(&config).unwrap();
        let back: ScoreConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn partial_toml_keeps_other_defaults() {
        let config: ScoreConfig =
            toml::from_str("threshold = 0.7\n[weights]\nsync = 0.5\n").unwrap();
        assert_eq!(config.get_threshold(), 0.7);
        assert_eq!(config.get_weight(Signal::Sync), 0.5);
        assert_eq!(config.get_weight(Signal::Size), Weights::default().size);
        assert!(toml::from_str::<ScoreConfig>("treshold = 0.7").is_err());
    }

    #[test]
    fn bad_values_are_named() {
        let err = ScoreConfig::new().threshold(1.5).validate().unwrap_err();
        assert!(err.to_string().contains("score.threshold"), "{err}");
        let err = ScoreConfig::new().weight(Signal::Sync, -1.0).validate().unwrap_err();
        assert!(err.to_string().contains("score.weights.sync"), "{err}");
    }

    #[test]
    fn abuse_reasons_match_whole_or_first_word() {
        let config = ScoreConfig::new();
        assert!(config.is_abuse(Some("hydra")));
        assert!(config.is_abuse(Some("Fraud: card testing")));
        assert!(config.is_abuse(None));
        assert!(!config.is_abuse(Some("chargeback")));
        assert_eq!(config.ban_weight(Some("spam")), 0.25);
    }

    #[test]
    fn signal_order_is_fixed() {
        for (i, s) in Signal::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
        assert_eq!(Signal::PaymentPooling.as_str(), "payment_pooling");
    }
}
