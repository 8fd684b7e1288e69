//! [`WatchConfig`]: every knob of the streaming watcher, with documented defaults.

use crate::error::{Error, Result};
use crate::event::IndicatorKind;

/// How much one shared indicator of a kind can say, and how fast a crowd of
/// unbanned accounts on it silences it.
///
/// The evidence an indicator gives for "this new account took over banned
/// accounts' infrastructure" is `weight × b / (b + crowd × n)`, where `b` is
/// the (reason- and recency-weighted) number of banned accounts on it and `n`
/// the number of unbanned, unflagged other accounts on it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KindWeight {
    /// The most one indicator of this kind can contribute, in [0, 1].
    pub weight: f64,
    /// Penalty per unbanned account sharing the indicator (≥ 0).
    pub crowd: f64,
}

impl KindWeight {
    /// A weight and a crowd penalty.
    pub const fn new(weight: f64, crowd: f64) -> Self {
        Self { weight, crowd }
    }
}

/// Configuration of a [`Watcher`](crate::Watcher).
///
/// Built with [`WatchConfig::new`] and by-value setters; read with `get_*`.
///
/// # Defaults
///
/// | knob | default | meaning |
/// |------|---------|---------|
/// | `threshold` | 0.5 | replacement score at which an account is flagged |
/// | `abuse_reasons` | `hydra`, `fraud`, `abuse`, `ban_evasion`, `proxy_abuse`, `fake_account` | ban reasons that count fully (a `chargeback` or `spam` ban of a real customer is not evidence of an operator) |
/// | `no_reason_weight` | 0.5 | weight of a ban without a reason |
/// | `other_reason_weight` | 0.1 | weight of a ban for any other reason (`spam`, `tos`, ...) |
/// | kind weights (weight, crowd) | payment/phone/email (0.95, 0.15), device (0.85, 0.3), template (0.6, 0.3), email_domain (0.6, 0.3), org (0.4, 1), ip (0.35, 2), tls_fp/user_agent (0.3, 1), custom (0.3, 1), ip_prefix (0.15, 4), asn (0.04, 8) | see [`KindWeight`] |
/// | `recency_secs` | 6 hours | a ban's weight decays over this time between ban and signup |
/// | `recency_floor` | 0.1 | ...down to this fraction |
/// | `signup_grace_secs` | 0 | bans this long after a signup still make the account "new" |
/// | `min_family_evidence` | 0.15 | evidence a family of indicators must give to count as independent support |
/// | `hard_link_min` | 0.5 | evidence a hard link (payment, phone, e-mail, device) must give to flag alone |
/// | `specific_max` | 40 | an IP, card, device, phone or e-mail shared by at most this many accounts ties two accounts individually |
/// | `strong_score` | 0.9 | score that flags without two specific links to one banned account |
/// | `takeover_secs` | 2 hours | signing up from the signup IP of an account banned this recently is an identity takeover |
/// | `takeover_weight` | 0.5 | evidence of an identity takeover (flags alone only on a quiet address; 0 turns takeovers off) |
/// | `quiet_takeover_secs` | 0 (off) | a takeover this soon after an abuse ban flags alone when the signup address is quiet; off by default because it can flag a household given a proxy exit's address as a new lease (see docs/benchmarks-history.md: 3 hours halves the median time-to-flag on the simulator, with one such household among 150,000 legitimate accounts on one of two seeds) |
/// | `quiet_secs` | 24 hours | a signup address is quiet when no account other than the new one that is neither banned nor flagged was seen on it from this long before the ban on |
/// | `recluster` | `Off` | re-clustering for hydra-membership flags: `Off`, `Sync(n)` inline every n events, `Background(n)` |
/// | `hydra_threshold` | 0.8 | strength of a new account's links to one hydra's shared indicators that makes it a member |
/// | `takeover_behavior_min` | 0.45 | template evidence that corroborates a takeover like shared infrastructure (a card, device, ...) does |
/// | `horizon_secs` | 90 days | links not seen for this long (event time) are evicted |
/// | `sweep_step` | 4 | accounts examined for eviction per event |
/// | `max_banned_scan` | 32 | newest banned accounts examined per indicator when scoring (older ones count at the recency floor) |
/// | `max_linked_banned` | 20 | banned accounts listed in a flag |
/// | `max_evidence` | 20 | evidence entries listed in a flag |
/// | `replenish_window_secs` | 3 days | a network's ban accounts for one replacement signed up at most this long after it (as in batch) |
#[derive(Clone, Debug, PartialEq)]
pub struct WatchConfig {
    pub(crate) threshold: f64,
    pub(crate) abuse_reasons: Vec<String>,
    pub(crate) no_reason_weight: f64,
    pub(crate) other_reason_weight: f64,
    /// Indexed by built-in kind position in [`IndicatorKind::BUILT_IN`], then custom.
    pub(crate) kind_weights: [KindWeight; 13],
    pub(crate) recency_secs: i64,
    pub(crate) recency_floor: f64,
    pub(crate) signup_grace_secs: i64,
    pub(crate) min_family_evidence: f64,
    pub(crate) hard_link_min: f64,
    pub(crate) specific_max: usize,
    pub(crate) strong_score: f64,
    pub(crate) takeover_secs: i64,
    pub(crate) takeover_weight: f64,
    pub(crate) takeover_behavior_min: f64,
    pub(crate) quiet_takeover_secs: i64,
    pub(crate) quiet_secs: i64,
    pub(crate) recluster: super::Recluster,
    pub(crate) hydra_threshold: f64,
    pub(crate) horizon_secs: i64,
    pub(crate) sweep_step: usize,
    pub(crate) max_banned_scan: usize,
    pub(crate) max_linked_banned: usize,
    pub(crate) max_evidence: usize,
    pub(crate) replenish_window_secs: i64,
}

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// Position of a kind in the weight table (custom kinds share the last slot).
pub(crate) fn kind_slot(kind: &IndicatorKind) -> usize {
    kind.built_in_index().unwrap_or(IndicatorKind::BUILT_IN.len())
}

impl Default for WatchConfig {
    fn default() -> Self {
        // Order of IndicatorKind::BUILT_IN: ip, ip_prefix, asn, payment, device,
        // tls_fp, email, email_domain, phone, user_agent, org, template; custom.
        let kind_weights = [
            KindWeight::new(0.35, 2.0),
            KindWeight::new(0.15, 4.0),
            KindWeight::new(0.04, 8.0),
            KindWeight::new(0.95, 0.15),
            KindWeight::new(0.85, 0.3),
            KindWeight::new(0.3, 1.0),
            KindWeight::new(0.95, 0.15),
            KindWeight::new(0.6, 0.3),
            KindWeight::new(0.95, 0.15),
            KindWeight::new(0.3, 1.0),
            KindWeight::new(0.4, 1.0),
            KindWeight::new(0.6, 0.3),
            KindWeight::new(0.3, 1.0),
        ];
        Self {
            threshold: 0.5,
            abuse_reasons: [
                "hydra",
                "fraud",
                "abuse",
                "ban_evasion",
                "proxy_abuse",
                "fake_account",
            ]
            .map(String::from)
            .to_vec(),
            no_reason_weight: 0.5,
            other_reason_weight: 0.1,
            kind_weights,
            recency_secs: 6 * HOUR,
            recency_floor: 0.1,
            signup_grace_secs: 0,
            min_family_evidence: 0.15,
            hard_link_min: 0.5,
            specific_max: 40,
            strong_score: 0.9,
            takeover_secs: 2 * HOUR,
            takeover_weight: 0.5,
            takeover_behavior_min: 0.45,
            quiet_takeover_secs: 0,
            quiet_secs: DAY,
            recluster: super::Recluster::Off,
            hydra_threshold: 0.8,
            horizon_secs: 90 * DAY,
            sweep_step: 4,
            max_banned_scan: 32,
            max_linked_banned: 20,
            max_evidence: 20,
            replenish_window_secs: 3 * DAY,
        }
    }
}

macro_rules! knob {
    ($(#[$doc:meta])* $name:ident, $get:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self
        }

        #[doc = concat!("The `", stringify!($name), "` knob (see [`WatchConfig`]).")]
        pub fn $get(&self) -> $ty {
            self.$name
        }
    };
}

impl WatchConfig {
    /// The default configuration (see the table on [`WatchConfig`]).
    pub fn new() -> Self {
        Self::default()
    }

    knob!(
        /// Replacement score in [0, 1] at which an account is flagged.
        threshold, get_threshold: f64
    );
    knob!(
        /// Weight in [0, 1] of a ban that has no reason.
        no_reason_weight, get_no_reason_weight: f64
    );
    knob!(
        /// Weight in [0, 1] of a ban whose reason is not an abuse reason.
        other_reason_weight, get_other_reason_weight: f64
    );
    knob!(
        /// Seconds between ban and signup over which a ban's weight decays.
        recency_secs, get_recency_secs: i64
    );
    knob!(
        /// Fraction of a ban's weight left long after it.
        recency_floor, get_recency_floor: f64
    );
    knob!(
        /// Seconds after a signup during which a ban still makes the account "new".
        signup_grace_secs, get_signup_grace_secs: i64
    );
    knob!(
        /// Evidence a family of indicators must give to count as independent support.
        min_family_evidence, get_min_family_evidence: f64
    );
    knob!(
        /// Evidence a single hard link must give to flag without other support.
        hard_link_min, get_hard_link_min: f64
    );
    knob!(
        /// Most accounts on an indicator for it to tie two accounts individually.
        specific_max, get_specific_max: usize
    );
    knob!(
        /// Score that flags without two specific links to one banned account.
        strong_score, get_strong_score: f64
    );
    knob!(
        /// Seconds after a ban during which signing up from the banned
        /// account's signup IP counts as an identity takeover.
        takeover_secs, get_takeover_secs: i64
    );
    knob!(
        /// Evidence in [0, 1] an identity takeover gives (0 turns the rule off).
        takeover_weight, get_takeover_weight: f64
    );
    knob!(
        /// Template (behavior) evidence that corroborates an identity takeover
        /// like shared infrastructure does (above 1: never).
        takeover_behavior_min, get_takeover_behavior_min: f64
    );
    knob!(
        /// Seconds after an abuse ban during which signing up from the banned
        /// account's signup IP flags alone when that address is quiet (see
        /// `quiet_secs`); 0, the default, turns the rule off.
        quiet_takeover_secs, get_quiet_takeover_secs: i64
    );
    knob!(
        /// Seconds before the ban from which on no other account that is
        /// neither banned nor flagged may have been seen on the signup IP for
        /// the address to be quiet (a household still living there was).
        quiet_secs, get_quiet_secs: i64
    );
    knob!(
        /// When re-clustering for hydra-membership flags happens (see [`Recluster`](super::Recluster)).
        recluster, get_recluster: super::Recluster
    );
    knob!(
        /// Strength in [0, 1] of a new account's links to one hydra's shared
        /// indicators at which it is flagged a member.
        hydra_threshold, get_hydra_threshold: f64
    );
    knob!(
        /// Links not seen for this many seconds of event time are evicted.
        horizon_secs, get_horizon_secs: i64
    );
    knob!(
        /// Accounts examined for eviction per applied event (amortized sweep).
        sweep_step, get_sweep_step: usize
    );
    knob!(
        /// Banned accounts examined per indicator when scoring (bounds latency on hubs).
        max_banned_scan, get_max_banned_scan: usize
    );
    knob!(
        /// Most banned accounts listed in one flag.
        max_linked_banned, get_max_linked_banned: usize
    );
    knob!(
        /// Most evidence entries listed in one flag.
        max_evidence, get_max_evidence: usize
    );
    knob!(
        /// Seconds after a network member's ban during which a new account
        /// joining the network is its replacement (each ban accounts for one;
        /// the batch rule's `replenish_window_secs`).
        replenish_window_secs, get_replenish_window_secs: i64
    );

    /// Ban reasons that count fully (compared case-insensitively).
    pub fn abuse_reasons<I, S>(mut self, reasons: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.abuse_reasons = reasons.into_iter().map(|r| r.into().to_ascii_lowercase()).collect();
        self
    }

    /// Ban reasons that count fully.
    pub fn get_abuse_reasons(&self) -> &[String] {
        &self.abuse_reasons
    }

    /// Sets the weight of one indicator kind; every custom kind shares one weight.
    pub fn kind_weight(mut self, kind: &IndicatorKind, weight: KindWeight) -> Self {
        self.kind_weights[kind_slot(kind)] = weight;
        self
    }

    /// The weight of one indicator kind.
    pub fn get_kind_weight(&self, kind: &IndicatorKind) -> KindWeight {
        self.kind_weights[kind_slot(kind)]
    }

    /// The weight in [0, 1] a ban with `reason` carries.
    pub(crate) fn reason_weight(&self, reason: Option<&str>) -> f64 {
        match reason {
            None => self.no_reason_weight,
            Some(r) => {
                let r = r.trim();
                if self.abuse_reasons.iter().any(|a| a.eq_ignore_ascii_case(r)) {
                    1.0
                } else {
                    self.other_reason_weight
                }
            }
        }
    }

    /// Checks ranges.
    ///
    /// # Errors
    ///
    /// [`Error::config`] naming the first knob out of range.
    pub fn validate(&self) -> Result<()> {
        let unit = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::config(format!("watch.{name} = {v} is outside [0, 1]")))
            }
        };
        unit("threshold", self.threshold)?;
        unit("no_reason_weight", self.no_reason_weight)?;
        unit("other_reason_weight", self.other_reason_weight)?;
        unit("recency_floor", self.recency_floor)?;
        unit("min_family_evidence", self.min_family_evidence)?;
        unit("hard_link_min", self.hard_link_min)?;
        unit("strong_score", self.strong_score)?;
        unit("takeover_weight", self.takeover_weight)?;
        unit("hydra_threshold", self.hydra_threshold)?;
        if matches!(self.recluster, super::Recluster::Sync(0) | super::Recluster::Background(0)) {
            return Err(Error::config("watch.recluster: the event interval must be at least 1"));
        }
        if self.takeover_behavior_min.is_nan() || self.takeover_behavior_min < 0.0 {
            return Err(Error::config(format!(
                "watch.takeover_behavior_min = {} must be >= 0",
                self.takeover_behavior_min
            )));
        }
        for (name, v) in [
            ("takeover_secs", self.takeover_secs),
            ("quiet_takeover_secs", self.quiet_takeover_secs),
            ("quiet_secs", self.quiet_secs),
        ] {
            if v < 0 {
                return Err(Error::config(format!("watch.{name} = {v} must be >= 0")));
            }
        }
        for (i, w) in self.kind_weights.iter().enumerate() {
            let name = IndicatorKind::BUILT_IN.get(i).map_or("custom", |k| k.as_str());
            unit(&format!("kind_weight.{name}.weight"), w.weight)?;
            if !(w.crowd >= 0.0 && w.crowd.is_finite()) {
                return Err(Error::config(format!(
                    "watch.kind_weight.{name}.crowd = {} must be a finite number >= 0",
                    w.crowd
                )));
            }
        }
        if self.recency_secs <= 0 {
            return Err(Error::config(format!(
                "watch.recency_secs = {} must be positive",
                self.recency_secs
            )));
        }
        if self.horizon_secs <= 0 {
            return Err(Error::config(format!(
                "watch.horizon_secs = {} must be positive",
                self.horizon_secs
            )));
        }
        if self.signup_grace_secs < 0 {
            return Err(Error::config(format!(
                "watch.signup_grace_secs = {} must be >= 0",
                self.signup_grace_secs
            )));
        }
        if self.replenish_window_secs < 0 {
            return Err(Error::config(format!(
                "watch.replenish_window_secs = {} must be >= 0",
                self.replenish_window_secs
            )));
        }
        for (name, v) in [
            ("sweep_step", self.sweep_step),
            ("specific_max", self.specific_max),
            ("max_banned_scan", self.max_banned_scan),
            ("max_linked_banned", self.max_linked_banned),
            ("max_evidence", self.max_evidence),
        ] {
            if v == 0 {
                return Err(Error::config(format!("watch.{name} must be at least 1")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_setters_round_trip() {
        let c = WatchConfig::new().threshold(0.9).abuse_reasons(["Hydra", "fraud"]);
        c.validate().unwrap();
        assert_eq!(c.get_threshold(), 0.9);
        assert_eq!(c.reason_weight(Some("HYDRA")), 1.0);
        assert_eq!(c.reason_weight(Some("spam")), 0.1);
        assert_eq!(c.reason_weight(None), 0.5);
        let c = c.kind_weight(&IndicatorKind::Ip, KindWeight::new(0.2, 3.0));
        assert_eq!(c.get_kind_weight(&IndicatorKind::Ip), KindWeight::new(0.2, 3.0));
        let custom = IndicatorKind::Custom("x".into());
        assert_eq!(c.get_kind_weight(&custom), KindWeight::new(0.3, 1.0));
    }

    #[test]
    fn out_of_range_knobs_are_named() {
        let err = WatchConfig::new().threshold(1.5).validate().unwrap_err();
        assert!(err.to_string().contains("threshold"), "{err}");
        let err = WatchConfig::new().sweep_step(0).validate().unwrap_err();
        assert!(err.to_string().contains("sweep_step"), "{err}");
    }
}
