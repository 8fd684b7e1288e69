//! Reads a community's [`ClusterView`] and the platform [`Context`] out of
//! the [`Index`].

use crate::id::AccountId;
use crate::index::Index;
use crate::score::config::ScoreConfig;
use crate::score::signals::median_of;
use crate::score::view::{BanMark, ClusterView, Context, IndicatorUse, Member};

/// Platform-wide facts: median observations per account, input start and
/// account count.
///
/// # Complexity
///
/// `O(A)` time and space over accounts (selection, not a full sort).
pub(crate) fn context(index: &Index) -> Context {
    let n = index.account_count();
    if n == 0 {
        return Context::default();
    }
    let mut counts: Vec<u64> =
        (0..n).map(|a| index.observation_count(AccountId::new(a as u32))).collect();
    let input_start =
        (0..n).map(|a| index.first_seen(AccountId::new(a as u32))).min().unwrap_or(i64::MIN);
    Context { median_observations: median_of(&mut counts).max(1.0), input_start, accounts: n }
}

/// The bans of `account` that still stand or were never lifted, weighted by
/// reason (an unbanned ban was a mistake, not a label).
pub(crate) fn ban_marks(index: &Index, account: AccountId, config: &ScoreConfig) -> Vec<BanMark> {
    let mut bans: Vec<BanMark> = index
        .bans(account)
        .iter()
        .filter(|b| b.unban.is_none())
        .map(|b| BanMark { ts: b.ts, weight: config.ban_weight(b.reason.as_deref()) })
        .collect();
    bans.sort_by(|a, b| a.ts.cmp(&b.ts).then(a.weight.total_cmp(&b.weight)));
    bans
}

/// The view of the community made of `members` (sorted, distinct).
///
/// # Complexity
///
/// `O(L log L)` over the members' links `L`, plus their activity minutes.
pub(crate) fn read_view<'a>(
    index: &'a Index,
    members: &[AccountId],
    config: &ScoreConfig,
) -> ClusterView<'a> {
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut out = Vec::with_capacity(members.len());
    for (local, &a) in members.iter().enumerate() {
        for link in index.account_links(a) {
            pairs.push((link.indicator.as_u32(), local as u32));
        }
        out.push(Member {
            account: a,
            signup: index.signup(a),
            explicit_signup: index.has_explicit_signup(a),
            bans: ban_marks(index, a, config),
            observations: index.observation_count(a),
            activity: index.activity(a).to_vec(),
            indicators: Vec::new(),
        });
    }
    pairs.sort_unstable();
    let indicators = pairs
        .chunk_by(|x, y| x.0 == y.0)
        .map(|run| {
            let id = crate::id::IndicatorId::new(run[0].0);
            IndicatorUse {
                id,
                kind: index.indicator_kind(id).clone(),
                value: index.indicator_value(id),
                degree: index.indicator_degree(id),
                members: run.iter().map(|p| p.1).collect(),
            }
        })
        .collect();
    ClusterView::assemble(out, indicators)
}
