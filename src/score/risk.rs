//! The risk score: a weighted mean of the signals, and the hydra verdict.
//!
//! `score = Σ w_s · v_s / Σ w_s` over the signals `s` with their configured
//! weights ([`ScoreConfig::weight`]). A weighted mean keeps the score in
//! `[0, 1]` and lets every point of it be traced to a named signal in the
//! report. A community is a hydra when its score reaches the threshold
//! *and* the evidence is corroborated: at least two signals reach
//! [`ScoreConfig::corroboration`], at least one of them neither IP
//! rotation nor template sharing. So a carrier-grade NAT crowd (IP rotation
//! only) or the users of a popular template never flag on their own, while
//! a careful operator with proxies, a private template and scripted
//! synchronized traffic still does.

use crate::score::config::{ScoreConfig, Signal};
use crate::score::signals::{Measured, measure};
use crate::score::view::{ClusterView, Context};

/// Signals that may corroborate a verdict (structure-only signals such as
/// size, volume and density may not).
const CORROBORATING: [Signal; 7] = [
    Signal::Bans,
    Signal::SignupBurst,
    Signal::IpRotation,
    Signal::PaymentPooling,
    Signal::Identity,
    Signal::Template,
    Signal::Sync,
];

/// A community's signals, score and verdict.
#[derive(Clone, Debug)]
pub(crate) struct Risk {
    /// Every signal, in [`Signal::ALL`] order.
    pub signals: Vec<Measured>,
    /// The weighted mean, in `[0, 1]`.
    pub score: f64,
    /// Whether the community is judged a hydra.
    pub hydra: bool,
}

/// Measures every signal on `view` and combines them.
///
/// # Complexity
///
/// That of the signals: `O(E log E)` over the view's member–indicator
/// edges and activity minutes.
pub(crate) fn assess(view: &ClusterView<'_>, ctx: &Context, config: &ScoreConfig) -> Risk {
    let signals: Vec<Measured> =
        Signal::ALL.iter().map(|&s| measure(s, view, ctx, config)).collect();
    combine(signals, config)
}

/// Combines measured signals (in [`Signal::ALL`] order) into a [`Risk`].
pub(crate) fn combine(signals: Vec<Measured>, config: &ScoreConfig) -> Risk {
    let (mut num, mut den) = (0.0, 0.0);
    for (signal, m) in Signal::ALL.iter().zip(&signals) {
        let w = config.get_weight(*signal);
        num += w * m.value;
        den += w;
    }
    let score = if den > 0.0 { (num / den).clamp(0.0, 1.0) } else { 0.0 };
    let corroborating: Vec<Signal> = CORROBORATING
        .iter()
        .copied()
        .filter(|s| signals[s.index()].value >= config.get_corroboration())
        .collect();
    let beyond_soft =
        corroborating.iter().any(|s| !matches!(s, Signal::IpRotation | Signal::Template));
    let hydra = score >= config.get_threshold() && corroborating.len() >= 2 && beyond_soft;
    Risk { signals, score, hydra }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[(Signal, f64)]) -> Vec<Measured> {
        let mut v: Vec<Measured> = Signal::ALL.iter().map(|_| Measured::new(0.0, "")).collect();
        for &(s, x) in values {
            v[s.index()] = Measured::new(x, "");
        }
        v
    }

    #[test]
    fn ip_and_template_alone_never_flag() {
        let config = ScoreConfig::new().threshold(0.1);
        let r = combine(with(&[(Signal::IpRotation, 1.0), (Signal::Template, 1.0)]), &config);
        assert!(r.score >= 0.1);
        assert!(!r.hydra);
        let r = combine(
            with(&[(Signal::IpRotation, 1.0), (Signal::Template, 1.0), (Signal::Sync, 1.0)]),
            &config,
        );
        assert!(r.hydra);
    }

    #[test]
    fn score_is_the_weighted_mean() {
        let config = ScoreConfig::new();
        let all: Vec<_> = Signal::ALL.iter().map(|&s| (s, 1.0)).collect();
        let r = combine(with(&all), &config);
        assert!((r.score - 1.0).abs() < 1e-12);
        assert!(r.hydra);
        let r = combine(with(&[]), &config);
        assert_eq!(r.score, 0.0);
        assert!(!r.hydra);
    }
}
