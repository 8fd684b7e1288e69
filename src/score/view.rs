//! [`ClusterView`]: the plain data the signals read about one community —
//! its members (signup, bans, activity minutes, volume) and the indicators
//! they use (kind, value, platform-wide degree, which members).
//!
//! Signals are pure functions of a view and a [`Context`], so they can be
//! tested on hand-made data and reused by any front end (batch or stream).

use crate::event::{IndicatorKind, Timestamp};
use crate::id::{AccountId, IndicatorId};

/// One ban of a member.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct BanMark {
    /// When.
    pub ts: Timestamp,
    /// 1 for an abuse ban, `other_ban_weight` otherwise.
    pub weight: f64,
}

/// One member of a community.
#[derive(Clone, Debug, Default)]
pub(crate) struct Member {
    /// The account.
    pub account: AccountId,
    /// Explicit signup time, else the earliest time seen.
    pub signup: Timestamp,
    /// Whether the signup was an explicit `signup` event.
    pub explicit_signup: bool,
    /// Every ban, in time order.
    pub bans: Vec<BanMark>,
    /// Observations, repeats included.
    pub observations: u64,
    /// Sorted distinct activity minutes (unix seconds / 60).
    pub activity: Vec<u32>,
    /// Local indexes into [`ClusterView::indicators`], sorted.
    pub indicators: Vec<u32>,
}

impl Member {
    /// Total ban weight (0 if never banned).
    pub(crate) fn ban_weight(&self) -> f64 {
        self.bans.iter().map(|b| b.weight).fold(0.0, f64::max)
    }
}

/// One indicator used by at least one member.
#[derive(Clone, Debug)]
pub(crate) struct IndicatorUse<'a> {
    /// Its id in the index.
    pub id: IndicatorId,
    /// What it is.
    pub kind: IndicatorKind,
    /// Its value.
    pub value: &'a str,
    /// Accounts seen on it, platform-wide.
    pub degree: usize,
    /// Local indexes of the members seen on it, sorted.
    pub members: Vec<u32>,
}

/// A community as the signals see it.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClusterView<'a> {
    /// Members, sorted by account id.
    pub members: Vec<Member>,
    /// Indicators used by members, sorted by indicator id.
    pub indicators: Vec<IndicatorUse<'a>>,
}

impl<'a> ClusterView<'a> {
    /// Number of members.
    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    /// The indicators of `kind`.
    pub(crate) fn of_kind<'s>(
        &'s self,
        kind: &'s IndicatorKind,
    ) -> impl Iterator<Item = &'s IndicatorUse<'a>> + 's {
        self.indicators.iter().filter(move |i| &i.kind == kind)
    }

    /// Builds a view from members and (indicator, member-local-index) pairs;
    /// fills each member's `indicators`. Used by the index adapter and tests.
    pub(crate) fn assemble(
        mut members: Vec<Member>,
        mut indicators: Vec<IndicatorUse<'a>>,
    ) -> Self {
        indicators.sort_by_key(|i| i.id);
        for m in &mut members {
            m.indicators.clear();
        }
        for (local, ind) in indicators.iter_mut().enumerate() {
            ind.members.sort_unstable();
            ind.members.dedup();
            for &m in &ind.members {
                members[m as usize].indicators.push(local as u32);
            }
        }
        Self { members, indicators }
    }
}

/// Platform-wide facts the signals compare a community against.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    /// Median observations per account over the whole input (at least 1).
    pub median_observations: f64,
    /// Earliest event time in the input: implicit signups within a day of
    /// it are accounts that existed before the export, not new ones.
    pub input_start: Timestamp,
    /// Accounts in the whole input (at least 1): what an indicator's
    /// platform-wide degree is a share of.
    pub accounts: usize,
}

impl Default for Context {
    fn default() -> Self {
        Self { median_observations: 1.0, input_start: Timestamp::MIN, accounts: 1 }
    }
}

/// `x / full` clamped to `[0, 1]` (0 when `full` is not positive).
pub(crate) fn ramp(x: f64, full: f64) -> f64 {
    if full <= 0.0 || !x.is_finite() { 0.0 } else { (x / full).clamp(0.0, 1.0) }
}

/// Linear from 0 at `lo` to 1 at `hi`, clamped.
pub(crate) fn between(x: f64, lo: f64, hi: f64) -> f64 {
    if hi <= lo { if x >= hi { 1.0 } else { 0.0 } } else { ((x - lo) / (hi - lo)).clamp(0.0, 1.0) }
}

/// Percentage for explanations, e.g. `83%`.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

#[cfg(test)]
pub(crate) mod testkit {
    //! Hand-made communities for signal tests.

    use super::*;

    /// A member signed up at `signup` with `minutes` of activity.
    pub(crate) fn member(i: u32, signup: Timestamp) -> Member {
        Member {
            account: AccountId::new(i),
            signup,
            explicit_signup: true,
            observations: 10,
            ..Member::default()
        }
    }

    /// An indicator of `kind` seen on `members` (local indexes), `degree` platform-wide.
    pub(crate) fn ind(
        id: u32,
        kind: IndicatorKind,
        value: &'static str,
        degree: usize,
        members: &[u32],
    ) -> IndicatorUse<'static> {
        IndicatorUse {
            id: IndicatorId::new(id),
            kind,
            value,
            degree: degree.max(members.len()),
            members: members.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;

    #[test]
    fn assemble_links_members_to_indicators() {
        let members = vec![member(0, 0), member(1, 0)];
        let inds = vec![
            ind(5, IndicatorKind::Ip, "1.1.1.1", 9, &[1, 0]),
            ind(2, IndicatorKind::Payment, "c", 2, &[1]),
        ];
        let v = ClusterView::assemble(members, inds);
        assert_eq!(v.indicators[0].id, IndicatorId::new(2));
        assert_eq!(v.members[1].indicators, vec![0, 1]);
        assert_eq!(v.members[0].indicators, vec![1]);
        assert_eq!(v.of_kind(&IndicatorKind::Ip).count(), 1);
    }

    #[test]
    fn ramps_clamp() {
        assert_eq!(ramp(2.0, 1.0), 1.0);
        assert_eq!(ramp(-1.0, 1.0), 0.0);
        assert_eq!(between(1.5, 1.0, 2.0), 0.5);
        assert_eq!(pct(0.5), "50%");
    }
}
