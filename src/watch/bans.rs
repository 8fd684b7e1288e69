//! The ban registry: bans and unbans take effect at once on every indicator
//! the account is linked to.
//!
//! A ban carries a weight from its reason ([`WatchConfig`](super::WatchConfig)'s
//! abuse reasons count fully; a `spam` ban of a legitimate user, who shares a
//! household with family, counts little). Each indicator keeps the banned
//! accounts linked to it in ban order, so scoring a new account reads only the
//! indicators it touches.

use super::state::{Ban, BannedOn, State};
use crate::event::Timestamp;

/// Bans `account` at `ts` with reason weight `weight`. A second ban of a
/// banned account keeps the first ban's time and raises the weight if the new
/// reason weighs more.
pub(crate) fn ban(state: &mut State, account: u32, ts: Timestamp, weight: f32) {
    let a = &mut state.accounts[account as usize];
    if let Some(existing) = &mut a.ban {
        if weight <= existing.weight {
            return;
        }
        existing.weight = weight;
        for l in &a.links {
            for b in &mut state.indicators[l.indicator as usize].banned {
                if b.account == account {
                    b.weight = weight;
                }
            }
        }
        return;
    }
    a.ban = Some(Ban { ts, weight });
    for l in &a.links {
        state.indicators[l.indicator as usize].banned.push(BannedOn { account, ts, weight });
    }
    // A banned account is no longer an unbanned suspect.
    state.set_suspect(account, false);
}

/// Lifts the ban on `account`, if any. Returns whether a ban was lifted.
pub(crate) fn unban(state: &mut State, account: u32) -> bool {
    let a = &mut state.accounts[account as usize];
    if a.ban.take().is_none() {
        return false;
    }
    for l in &a.links {
        state.indicators[l.indicator as usize].banned.retain(|b| b.account != account);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_reach_every_linked_indicator_and_unbans_remove_them() {
        let mut s = State::new();
        let a = s.intern_account("a", 0);
        let x = s.intern_indicator(3, "card");
        let y = s.intern_indicator(0, "1.1.1.1");
        s.link(a, x, 0);
        ban(&mut s, a, 10, 1.0);
        // A link made after the ban is registered too.
        s.link(a, y, 11);
        assert_eq!(s.indicators[x as usize].banned.len(), 1);
        assert_eq!(s.indicators[y as usize].banned[0].ts, 10);
        ban(&mut s, a, 20, 0.5);
        assert_eq!(s.accounts[a as usize].ban.as_ref().unwrap().weight, 1.0);
        assert!(unban(&mut s, a));
        assert!(!unban(&mut s, a));
        assert!(s.indicators[x as usize].banned.is_empty());
        assert!(s.indicators[y as usize].banned.is_empty());
    }
}
