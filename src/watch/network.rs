//! Replacements of known networks, event by event: the batch rule of
//! `score::network` over the clustering in force.
//!
//! A clustering in force gives each hydra network its flagged members and
//! their *marks* (indicators held by two or more of them, see
//! `recluster`). A marked indicator is *the network's* while its members
//! are more than half of the accounts on it. Each standing ban of a member
//! accounts for at most one replacement, within `replenish_window_secs`
//! before the replacement's signup, matched in order of signup to the
//! earliest unmatched ban, as in batch.
//!
//! - When a clustering is published, its members are matched first
//!   ([`Networks::build`]): those signed up after the network's first ban
//!   that share an indicator with a member banned before their signup take
//!   the bans in order of signup; the bans left over wait for new accounts.
//! - A new account (not a member) that signed up after a network's first
//!   ban is a replacement at the first event after which the network's
//!   values it holds span two *families* (addresses — IP, prefix, ASN —
//!   count as one; every other kind is its own), one of them shared with a
//!   member banned before its signup, and a waiting ban is within the
//!   window ([`Networks::take`]). So a household signing up on the same
//!   exit after a ban (one family: the address) is not flagged, nor a
//!   customer of a resold virtual phone number (one family: the phone).
//!
//! - A network most of whose members' bans were taken over one to one
//!   (members announced by the takeover rule of `replacement`, more than
//!   half as many as its banned members) replaces by identity, as in batch:
//!   it has no waiting bans, and its new accounts are left to the takeover
//!   rule.
//!
//! Replacement flags of this rule depend on the clustering in force, like
//! hydra-membership flags (`--sync-recluster` makes them reproducible). A
//! restart rebuilds the waiting bans from the state and the clustering in
//! force, so a ban matched after that clustering was published may match
//! once more after a restart.

use std::collections::VecDeque;

use ahash::AHashMap;

use super::recluster::Hydras;
use super::state::{State, TAKEOVER};
use crate::event::Timestamp;

/// Kind codes of the address family: ip, ip_prefix, asn.
fn family(code: u16) -> u16 {
    if code <= 2 { 0 } else { code }
}

/// One network's bans.
#[derive(Clone, Debug, Default, PartialEq)]
struct Bans {
    /// Replaces by identity: its bans wait for no network replacement.
    identity: bool,
    first: Option<Timestamp>,
    /// Unmatched bans, sorted.
    waiting: VecDeque<Timestamp>,
}

/// The bans of the networks of the clustering in force.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Networks {
    /// Parallel to the clustering's clusters.
    bans: Vec<Bans>,
    /// Member name → cluster.
    member_of: AHashMap<Box<str>, u32>,
}

/// A member matched to a ban when a clustering is published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Matched {
    pub(crate) cluster: u32,
    pub(crate) account: u32,
}

impl Networks {
    /// The networks of `hydras` over `state`, and the members that are
    /// replacements (matched to a ban; see the module docs), by cluster and
    /// signup.
    pub(crate) fn build(hydras: &Hydras, state: &State, window: i64) -> (Self, Vec<Matched>) {
        let mut member_of = AHashMap::new();
        let mut bans = Vec::with_capacity(hydras.clusters.len());
        let mut matched = Vec::new();
        for (c, cluster) in hydras.clusters.iter().enumerate() {
            let ids: Vec<u32> = cluster
                .members
                .iter()
                .filter_map(|m| {
                    member_of.insert(m.clone(), c as u32);
                    state.account_id(m)
                })
                .collect();
            let mut ids = ids;
            ids.sort_unstable();
            let mut times: Vec<Timestamp> = ids
                .iter()
                .filter_map(|&a| Some(state.accounts[a as usize].ban.as_ref()?.ts))
                .collect();
            times.sort_unstable();
            let Some(&first) = times.first() else {
                bans.push(Bans::default());
                continue;
            };
            let takeovers =
                ids.iter().filter(|&&a| state.accounts[a as usize].bits & TAKEOVER != 0).count();
            if 2 * takeovers > times.len() {
                bans.push(Bans { identity: true, first: Some(first), waiting: VecDeque::new() });
                continue;
            }
            let is_member = |a: u32| ids.binary_search(&a).is_ok();
            let mut later: Vec<(Timestamp, u32)> = ids
                .iter()
                .map(|&a| (state.accounts[a as usize].signup, a))
                .filter(|&(s, a)| s > first && banned_before(state, a, s, &is_member))
                .collect();
            later.sort_unstable_by(|x, y| {
                x.0.cmp(&y.0).then_with(|| {
                    state.accounts[x.1 as usize].name.cmp(&state.accounts[y.1 as usize].name)
                })
            });
            let mut waiting: VecDeque<Timestamp> = times.into();
            for (signup, a) in later {
                if take_ban(&mut waiting, signup, window) {
                    matched.push(Matched { cluster: c as u32, account: a });
                }
            }
            bans.push(Bans { identity: false, first: Some(first), waiting });
        }
        (Self { bans, member_of }, matched)
    }

    /// Records the ban of account `id` at `ts` for its network: the one it
    /// is a member of, else the first whose values it holds qualify (see
    /// [`joined`]): an account the operator created since the clustering is
    /// its account too.
    pub(crate) fn on_ban(&mut self, state: &State, id: u32, ts: Timestamp) {
        let name = &state.accounts[id as usize].name;
        let c = match self.member_of.get(name) {
            Some(&c) => c,
            None => match joined(state, id).first() {
                Some(&c) => c,
                None => return,
            },
        };
        let Some(b) = self.bans.get_mut(c as usize).filter(|b| !b.identity) else { return };
        b.first = Some(b.first.map_or(ts, |f| f.min(ts)));
        let at = b.waiting.partition_point(|&t| t <= ts);
        b.waiting.insert(at, ts);
    }

    /// Whether `account` is a member of a network.
    pub(crate) fn is_member(&self, account: &str) -> bool {
        self.member_of.contains_key(account)
    }

    /// The network new account `id` now replaces, if any (see the module
    /// docs): the first, in cluster order, whose values it holds qualify
    /// (see [`joined`]), that was banned before its signup, and that has a
    /// waiting ban within the window, which is used up. It must also share
    /// an indicator with an account banned before its signup.
    pub(crate) fn take(&mut self, state: &State, id: u32, window: i64) -> Option<u32> {
        let candidates = joined(state, id);
        if candidates.is_empty() {
            return None;
        }
        let a = &state.accounts[id as usize];
        let evidence = a.links.iter().any(|l| {
            let banned = &state.indicators[l.indicator as usize].banned;
            banned.iter().any(|x| x.ts < a.signup && x.account != id)
        });
        if !evidence {
            return None;
        }
        candidates.into_iter().find(|&c| {
            self.bans.get_mut(c as usize).is_some_and(|b| {
                b.first.is_some_and(|f| f < a.signup) && take_ban(&mut b.waiting, a.signup, window)
            })
        })
    }
}

/// The networks whose values account `id` holds in two families, one of
/// them an owned value (see the module docs), in cluster order.
fn joined(state: &State, id: u32) -> Vec<u32> {
    // (cluster, family, owned) of each link to a network's value.
    let mut held: Vec<(u32, u16, bool)> = Vec::new();
    for l in &state.accounts[id as usize].links {
        let ind = &state.indicators[l.indicator as usize];
        if ind.hydra != 0 && 2 * ind.hydra_members > ind.accounts {
            held.push((ind.hydra - 1, family(ind.kind), super::state_is_hard(ind.kind)));
        }
    }
    held.sort_unstable();
    held.dedup();
    held.chunk_by(|x, y| x.0 == y.0)
        .filter(|run| run.iter().any(|x| x.2) && run.chunk_by(|x, y| x.1 == y.1).count() >= 2)
        .map(|run| run[0].0)
        .collect()
}

/// Whether account `a` (signed up at `signup`) shares an indicator with a
/// member banned before that.
fn banned_before(
    state: &State,
    a: u32,
    signup: Timestamp,
    is_member: &impl Fn(u32) -> bool,
) -> bool {
    state.accounts[a as usize].links.iter().any(|l| {
        state.indicators[l.indicator as usize]
            .banned
            .iter()
            .any(|b| b.ts < signup && b.account != a && is_member(b.account))
    })
}

/// Uses up the earliest waiting ban within `window` before `signup`, if any
/// (dropping those too old for any later signup).
fn take_ban(waiting: &mut VecDeque<Timestamp>, signup: Timestamp, window: i64) -> bool {
    while waiting.front().is_some_and(|&t| t < signup.saturating_sub(window)) {
        waiting.pop_front();
    }
    if waiting.front().is_some_and(|&t| t < signup) {
        waiting.pop_front();
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ban_is_taken_once_within_the_window() {
        let mut w: VecDeque<Timestamp> = [100, 200, 5_000].into();
        // The signup at 150 takes the ban at 100.
        assert!(take_ban(&mut w, 150, 1_000));
        // The ban at 200 is too old for a signup at 1_500: dropped.
        assert!(!take_ban(&mut w, 1_500, 1_000));
        assert_eq!(w, VecDeque::from([5_000]));
        // Nothing before 4_000.
        assert!(!take_ban(&mut w, 4_000, 1_000));
        assert!(take_ban(&mut w, 5_001, 1_000));
        assert!(w.is_empty());
    }

    #[test]
    fn addresses_are_one_family() {
        assert_eq!(family(0), family(1));
        assert_eq!(family(1), family(2));
        assert_ne!(family(3), family(4));
    }
}
