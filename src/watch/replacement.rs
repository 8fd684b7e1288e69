//! The replacement score: how strongly a new account's links point at the
//! infrastructure of accounts banned before it signed up.
//!
//! # The score
//!
//! For each indicator `i` the account is linked to, let `b_i` be the sum over
//! the banned accounts on `i` whose ban came before the account's signup of
//! `reason_weight × recency(signup − ban)`, and `n_i` the number of other
//! accounts on `i` that are neither banned nor already flagged. Then
//!
//! ```text
//! e_i = weight(kind) × min(1, b_i) × b_i / (b_i + crowd(kind) × n_i)
//! ```
//!
//! so a card shared with two hydra accounts banned an hour ago speaks loudly,
//! while a household IP shared with one banned proxy user and four family
//! members, or an office NAT with fifty colleagues, says almost nothing
//! (the specificity argument of weighting by how many accounts share a value,
//! as in tf-idf). Indicators are grouped into families that are not
//! independent of each other (`ip`/`ip_prefix`/`asn`; `email`/`email_domain`;
//! `tls_fp`/`user_agent`; ...). Within a family the `e_i` combine by noisy-or
//! and are capped; across families they combine by noisy-or again, and
//! links to two or more distinct banned accounts shrink the remaining doubt by
//! a fifth. The account is flagged when the score reaches the threshold *and*
//! the evidence is corroborated: either one hard link (payment, phone, e-mail,
//! device) gives at least `hard_link_min` alone, or at least two families give
//! `min_family_evidence` each, one of which is not the network family — so
//! IP evidence alone never flags. Finally the evidence must be concentrated:
//! at least two *specific* indicators (an IP, card, device, phone or e-mail
//! shared by at most `specific_max` accounts) shared with one and the same
//! banned account, unless the score reaches `strong_score`. A replacement
//! takes over a banned account's own infrastructure; the operator's other
//! accounts share its pools with many banned accounts, one link each.
//!
//! # Complexity
//!
//! `O(L × min(B, max_banned_scan))` per evaluation for an account with `L`
//! links and `B` banned accounts per indicator, and evaluations happen only
//! when the account gains a link to an indicator that has banned accounts.

use super::config::WatchConfig;
use super::state::{BUILT_IN_KINDS, SUSPECT, State};

/// Number of indicator families.
const FAMILIES: usize = 9;
/// The network family (ip, ip_prefix, asn).
const NETWORK: usize = 0;
/// Cap on what each family can contribute: many IPs are still only IPs.
const FAMILY_CAP: [f64; FAMILIES] = [0.45, 1.0, 1.0, 0.4, 1.0, 1.0, 0.6, 0.8, 0.5];
/// Contributions below this are not listed as evidence.
const MIN_LISTED: f64 = 0.01;

/// Family of a kind code.
fn family(code: u16) -> usize {
    if code >= BUILT_IN_KINDS {
        return 8;
    }
    // BUILT_IN order: ip, ip_prefix, asn, payment, device, tls_fp, email,
    // email_domain, phone, user_agent, org, template.
    const F: [usize; 12] = [0, 0, 0, 1, 2, 3, 4, 4, 5, 3, 6, 7];
    F[code as usize]
}

/// Whether a shared value of this kind ties two accounts individually (an IP,
/// a card, a device, a phone, an e-mail), as opposed to a group trait.
fn is_pairing(code: u16) -> bool {
    matches!(code, 0 | 3 | 4 | 6 | 8)
}

/// Whether one link of this kind may flag on its own (payment, device,
/// e-mail, phone).
fn is_hard(code: u16) -> bool {
    matches!(code, 3 | 4 | 6 | 8)
}

/// One indicator's contribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Contribution {
    pub(crate) indicator: u32,
    pub(crate) evidence: f64,
    /// Banned accounts on it that count (ban before signup).
    pub(crate) shared_with: u32,
}

/// Reused buffers, so evaluations allocate nothing once warm.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) contributions: Vec<Contribution>,
    /// Distinct banned accounts behind listed contributions, sorted by id.
    pub(crate) banned: Vec<u32>,
    /// One entry per (specific indicator, banned account on it), to find the
    /// banned account whose own infrastructure the account took over most.
    pub(crate) pairs: Vec<u32>,
}

/// The outcome of one evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Verdict {
    pub(crate) score: f64,
    /// Score at threshold and evidence corroborated.
    pub(crate) flag: bool,
}

/// `recency(dt)`: 1 right after the ban, decaying to `floor`.
fn recency(config: &WatchConfig, dt: i64) -> f64 {
    let dt = dt.max(0) as f64;
    let floor = config.recency_floor;
    floor + (1.0 - floor) * (-dt / config.recency_secs as f64).exp()
}

/// Scores `account` (see the module docs); fills `scratch` with the evidence.
pub(crate) fn evaluate(
    state: &State,
    config: &WatchConfig,
    account: u32,
    scratch: &mut Scratch,
) -> Verdict {
    scratch.contributions.clear();
    scratch.banned.clear();
    scratch.pairs.clear();
    let a = &state.accounts[account as usize];
    let limit = a.signup.saturating_add(config.signup_grace_secs);
    let self_clean = u32::from(a.ban.is_none() && a.bits & SUSPECT == 0);
    let mut doubt = [1.0f64; FAMILIES];
    let mut best_hard = 0.0f64;
    for link in &a.links {
        let ind = &state.indicators[link.indicator as usize];
        if ind.banned.is_empty() {
            continue;
        }
        // Newest bans first: they carry the recency weight. Past
        // `max_banned_scan` qualifying entries (or 8 times as many looked
        // at), older bans are counted at the recency floor with the mean
        // weight of those scanned, so a hub indicator with thousands of
        // banned accounts costs no more than a small one.
        let mut b = 0.0f64;
        let mut shared = 0u32;
        let mut scanned_weight = 0.0f64;
        let mut unscanned = 0usize;
        let mark = scratch.banned.len();
        for (k, entry) in ind.banned.iter().rev().enumerate() {
            if shared as usize >= config.max_banned_scan || k >= 8 * config.max_banned_scan {
                unscanned = ind.banned.len() - k;
                break;
            }
            if entry.account == account || entry.ts > limit {
                continue;
            }
            let w = f64::from(entry.weight);
            b += w * recency(config, a.signup - entry.ts);
            scanned_weight += w;
            shared += 1;
            scratch.banned.push(entry.account);
        }
        if unscanned > 0 {
            let mean = if shared > 0 { scanned_weight / f64::from(shared) } else { 1.0 };
            b += config.recency_floor * unscanned as f64 * mean;
            shared += unscanned as u32;
        }
        if b <= 0.0 {
            scratch.banned.truncate(mark);
            continue;
        }
        let clean = ind
            .accounts
            .saturating_sub(ind.banned.len() as u32)
            .saturating_sub(ind.suspects)
            .saturating_sub(self_clean);
        // Kind codes of built-in kinds are their slots; custom kinds share the last.
        let kw = config.kind_weights[usize::from(ind.kind).min(12)];
        // Specificity times strength: one abuse ban fresh before the signup
        // gives full strength, a lone `spam` ban a tenth of it.
        let e = kw.weight * b.min(1.0) * b / (b + kw.crowd * f64::from(clean));
        if e < MIN_LISTED {
            scratch.banned.truncate(mark);
            continue;
        }
        if is_pairing(ind.kind) && ind.accounts as usize <= config.specific_max {
            scratch.pairs.extend_from_slice(&scratch.banned[mark..]);
        }
        doubt[family(ind.kind)] *= 1.0 - e;
        if is_hard(ind.kind) {
            best_hard = best_hard.max(e);
        }
        scratch.contributions.push(Contribution {
            indicator: link.indicator,
            evidence: e,
            shared_with: shared,
        });
    }
    scratch.banned.sort_unstable();
    scratch.banned.dedup();
    // How many specific indicators the best single banned account shares.
    scratch.pairs.sort_unstable();
    let concentration = scratch.pairs.chunk_by(|x, y| x == y).map(<[u32]>::len).max().unwrap_or(0);

    let mut remaining = 1.0f64;
    let mut support = 0;
    let mut non_network = 0;
    for f in 0..FAMILIES {
        let fe = (1.0 - doubt[f]).min(FAMILY_CAP[f]);
        remaining *= 1.0 - fe;
        if fe >= config.min_family_evidence {
            support += 1;
            if f != NETWORK {
                non_network += 1;
            }
        }
    }
    if scratch.banned.len() >= 2 {
        remaining *= 0.8;
    }
    let score = (1.0 - remaining).clamp(0.0, 1.0);
    let corroborated = best_hard >= config.hard_link_min || (support >= 2 && non_network >= 1);
    // A replacement takes over *a* banned account's own infrastructure (its
    // IP, card, device): two specific links to one banned account, unless
    // the evidence is overwhelming. Sharing an operator's pools with many
    // banned accounts, one link each, is what its other members do too.
    let concentrated = concentration >= 2 || score >= config.strong_score;
    Verdict { score, flag: score >= config.threshold && corroborated && concentrated }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::bans;

    /// Links `name` (signed up at `ts`) to each `(kind, value)`.
    fn account(s: &mut State, name: &str, ts: i64, links: &[(u16, &str)]) -> u32 {
        let a = s.intern_account(name, ts);
        for &(kind, value) in links {
            let i = s.intern_indicator(kind, value);
            s.link(a, i, ts);
        }
        a
    }

    #[test]
    fn shared_card_with_a_hydra_ban_flags_but_a_spam_ban_does_not() {
        let config = WatchConfig::new();
        let mut s = State::new();
        let banned = account(&mut s, "h1", 0, &[(3, "card"), (0, "9.9.9.9")]);
        bans::ban(&mut s, banned, 100, 1.0);
        let new = account(&mut s, "h2", 200, &[(3, "card")]);
        let mut scratch = Scratch::default();
        let v = evaluate(&s, &config, new, &mut scratch);
        assert!(v.flag, "{v:?}");
        assert_eq!(scratch.banned, vec![banned]);

        let mut s = State::new();
        let spammer = account(&mut s, "mum", 0, &[(3, "family-card")]);
        bans::ban(&mut s, spammer, 100, config.reason_weight(Some("spam")) as f32);
        let kid = account(&mut s, "kid", 200, &[(3, "family-card")]);
        let v = evaluate(&s, &config, kid, &mut scratch);
        assert!(!v.flag, "{v:?}");
    }

    #[test]
    fn ip_evidence_alone_never_flags() {
        let config = WatchConfig::new().threshold(0.0);
        let mut s = State::new();
        for i in 0..5 {
            let b = account(&mut s, &format!("b{i}"), 0, &[(0, "1.1.1.1"), (1, "1.1.1.0/24")]);
            bans::ban(&mut s, b, 10, 1.0);
        }
        let new = account(&mut s, "n", 20, &[(0, "1.1.1.1"), (1, "1.1.1.0/24")]);
        let mut scratch = Scratch::default();
        let v = evaluate(&s, &config, new, &mut scratch);
        assert!(v.score > 0.0);
        assert!(!v.flag, "{v:?}");
    }

    #[test]
    fn bans_after_signup_do_not_count() {
        let config = WatchConfig::new();
        let mut s = State::new();
        let old = account(&mut s, "old", 0, &[(3, "card")]);
        let other = account(&mut s, "other", 50, &[(3, "card")]);
        bans::ban(&mut s, other, 100, 1.0);
        let mut scratch = Scratch::default();
        let v = evaluate(&s, &config, old, &mut scratch);
        assert_eq!(v.score, 0.0);
    }

    #[test]
    fn crowded_indicators_say_little() {
        let config = WatchConfig::new();
        let mut s = State::new();
        let b = account(&mut s, "b", 0, &[(3, "corp-card")]);
        bans::ban(&mut s, b, 10, 1.0);
        for i in 0..50 {
            account(&mut s, &format!("c{i}"), 0, &[(3, "corp-card")]);
        }
        let new = account(&mut s, "n", 20, &[(3, "corp-card")]);
        let mut scratch = Scratch::default();
        let v = evaluate(&s, &config, new, &mut scratch);
        assert!(v.score < 0.2, "{v:?}");
    }
}
