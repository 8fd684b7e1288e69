//! The community signals, one file each: every signal maps a
//! [`ClusterView`] to a value in `[0, 1]` (higher = more hydra-like) and a
//! one-line explanation in plain words.

mod bans;
mod density;
mod identity;
mod ip;
mod payment;
mod signup;
mod size;
mod sync;
mod template;
mod volume;

use crate::score::config::{ScoreConfig, Signal};
use crate::score::view::{ClusterView, Context};

pub(crate) use identity::{corporate_share, holds_organisation};
pub(crate) use sync::{coincident_minutes, member_sync_shares};
pub(crate) use template::{beyond_chance, characteristic};
pub(crate) use volume::median_of;

/// A measured signal: its value in `[0, 1]` and why.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Measured {
    /// In `[0, 1]`.
    pub value: f64,
    /// One line in plain words.
    pub explain: String,
}

impl Measured {
    pub(crate) fn new(value: f64, explain: impl Into<String>) -> Self {
        let value = if value.is_finite() { value.clamp(0.0, 1.0) } else { 0.0 };
        Self { value, explain: explain.into() }
    }
}

/// Measures `signal` on `view`.
///
/// # Complexity
///
/// Linear in the view's size (members, their indicator uses and activity
/// minutes) up to a sort, except [`Signal::Density`], `O(E log E)` over the
/// member–indicator edges of shared indicators.
pub(crate) fn measure(
    signal: Signal,
    view: &ClusterView<'_>,
    ctx: &Context,
    config: &ScoreConfig,
) -> Measured {
    match signal {
        Signal::Size => size::measure(view),
        Signal::Bans => bans::measure(view, config),
        Signal::SignupBurst => signup::measure(view, ctx, config),
        Signal::IpRotation => ip::measure(view, config),
        Signal::PaymentPooling => payment::measure(view, config),
        Signal::Identity => identity::measure(view, config),
        Signal::Template => template::measure(view, ctx, config),
        Signal::Sync => sync::measure(view, config),
        Signal::Volume => volume::measure(view, ctx, config),
        Signal::Density => density::measure(view, config),
    }
}
