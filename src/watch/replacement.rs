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
//! IP evidence alone never flags, save for a quiet takeover (below).
//! Finally the evidence must be concentrated: at least two *specific*
//! indicators (an IP, card, device, phone or e-mail shared by at most
//! `specific_max` accounts) shared with one and the same banned account,
//! unless the score reaches `strong_score`. A replacement takes over a
//! banned account's own infrastructure; the operator's other accounts share
//! its pools with many banned accounts, one link each.
//!
//! An *identity takeover* is the one exception to concentration: the
//! account's signup IP (its first IP) is the signup IP of an account banned
//! at most `takeover_secs` before it signed up. It adds `takeover_weight ×
//! reason weight` as a family of its own (counted as network evidence, so it
//! never flags alone) and stands in for the second specific link when the
//! account also shares infrastructure (payment, device, client fingerprints,
//! e-mail, phone, org) with banned accounts at `min_family_evidence`, or the
//! operator's own templates at `takeover_behavior_min`. On the simulator's
//! `medium` preset this turns 0.923 recall into 0.958 at 0.992 precision:
//! replacements that inherit one proxy IP and nothing else specific from
//! the banned account still reappear on its signup address within the hour,
//! while a household planted on a proxy address shares no card, device or
//! operator template with the banned accounts.
//!
//! A *quiet takeover* (off by default: `quiet_takeover_secs` = 0) flags on
//! the signup IP alone, at the account's first event: the account's signup
//! IP is the signup IP of an account banned for an abuse reason at most
//! `quiet_takeover_secs` before the signup, and nobody else who is neither
//! banned nor flagged was seen on the address from `quiet_secs` before that
//! ban on (judged from the [`VISITORS`] accounts seen there last, see
//! [`Visitors`]; more recent visitors than are kept make it unknown, hence
//! not quiet). The address was the operator's, and someone came back to it
//! minutes after the ban; a household on a proxy exit, whose members use
//! their address, is not quiet. What it cannot tell apart is a household
//! that has not used its address in that time, or has just been given it
//! (a dynamic lease), hence off by default (see docs/benchmarks-history.md: on the
//! simulator's `medium` preset, 3 hours turns a median time-to-flag of 8
//! events into 3, with one such household on one of two seeds).
//!
//! # Complexity
//!
//! `O(L × min(B, max_banned_scan))` per evaluation for an account with `L`
//! links and `B` banned accounts per indicator, and evaluations happen only
//! when the account gains a link to an indicator that has banned accounts.
//! Keeping the visitors costs `O(VISITORS)` per IP observation and
//! `VISITORS` entries per indicator.

use super::config::WatchConfig;
use super::state::{BUILT_IN_KINDS, SUSPECT, State};

/// Number of evidence families (indicator families plus the takeover).
const FAMILIES: usize = 10;
/// The network family (ip, ip_prefix, asn).
const NETWORK: usize = 0;
/// The identity-takeover evidence (derived from IPs: never flags alone).
const TAKEOVER: usize = 9;
/// Families of infrastructure an operator hands from a banned account to its
/// replacement (payment, device, client fingerprints, e-mail, phone, org),
/// as opposed to the network, behavior (templates) and custom kinds.
const INFRASTRUCTURE: [usize; 6] = [1, 2, 3, 4, 5, 6];
/// The behavior family (templates).
const BEHAVIOR: usize = 7;
/// Cap on what each family can contribute: many IPs are still only IPs.
const FAMILY_CAP: [f64; FAMILIES] = [0.45, 1.0, 1.0, 0.4, 1.0, 1.0, 0.6, 0.8, 0.5, 0.6];
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

/// Kind code of `ip`.
const IP: u16 = 0;

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
    /// Banned accounts behind listed contributions, in no order and with
    /// repeats (one per indicator shared): sorting them on every evaluation
    /// was a sixth of its instructions, and only an announced flag needs
    /// them distinct (count distinct ids, not `len()`).
    pub(crate) banned: Vec<u32>,
    /// One entry per (specific indicator, banned account on it), to find the
    /// banned account whose own infrastructure the account took over most.
    pub(crate) pairs: Vec<u32>,
}

/// Most recent distinct accounts kept per IP by [`Visitors`].
const VISITORS: usize = 4;

/// One account seen on an IP, with the last time it was seen there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Visitor {
    account: u32,
    last: i64,
}

/// An empty [`Visitor`] slot.
const NO_VISITOR: Visitor = Visitor { account: u32::MAX, last: i64::MIN };

/// Per IP indicator, the [`VISITORS`] accounts most recently seen on it
/// (largest `(last seen, id)`), so that a quiet takeover can tell a signup
/// address used lately only by banned accounts from one a household still
/// lives on, without a list of every account on the IP.
///
/// It is derived from the links alone: [`Visitors::rebuild`] after loading a
/// snapshot holds the same accounts as live tracking for every decision
/// (entries whose link was evicted are ignored when read, and a freed and
/// reused indicator starts empty).
#[derive(Debug, Default)]
pub(crate) struct Visitors {
    /// Indexed by indicator id; grown on demand.
    slots: Vec<[Visitor; VISITORS]>,
}

impl Visitors {
    /// Records that `account` was seen on IP `indicator` at `ts`; `new_link`
    /// says whether the link was just made.
    ///
    /// # Complexity
    ///
    /// `O(VISITORS)`.
    pub(crate) fn touch(
        &mut self,
        state: &State,
        indicator: u32,
        account: u32,
        ts: i64,
        new_link: bool,
    ) {
        let slots = self.slots_mut(indicator);
        // The first live link of a (possibly reused) indicator slot: forget
        // whoever was seen on its previous value.
        if new_link && state.indicators[indicator as usize].accounts == 1 {
            *slots = [NO_VISITOR; VISITORS];
        }
        Self::offer(slots, Visitor { account, last: ts });
    }

    /// The visitors of `indicator`, grown to hold it.
    fn slots_mut(&mut self, indicator: u32) -> &mut [Visitor; VISITORS] {
        let i = indicator as usize;
        if self.slots.len() <= i {
            self.slots.resize(i + 1, [NO_VISITOR; VISITORS]);
        }
        &mut self.slots[i]
    }

    /// Puts `v` in `slots` if it is among the most recent (or raises its time).
    fn offer(slots: &mut [Visitor; VISITORS], v: Visitor) {
        if let Some(s) = slots.iter_mut().find(|s| s.account == v.account) {
            s.last = s.last.max(v.last);
            return;
        }
        let key = |s: &Visitor| (s.last, s.account);
        let oldest = slots.iter_mut().min_by_key(|s| key(s)).expect("VISITORS > 0");
        if oldest.account == u32::MAX || key(oldest) < key(&v) {
            *oldest = v;
        }
    }

    /// The visitors of every IP, from the links (after loading a snapshot).
    pub(crate) fn rebuild(state: &State) -> Self {
        let mut visitors = Self::default();
        for (a, account) in state.accounts.iter().enumerate() {
            for l in &account.links {
                if state.indicators[l.indicator as usize].kind != IP {
                    continue;
                }
                let slots = visitors.slots_mut(l.indicator);
                Self::offer(slots, Visitor { account: a as u32, last: l.last });
            }
        }
        visitors
    }

    /// Whether no account other than `account` that is neither banned nor
    /// flagged was seen on IP `indicator` at or after `since`. `false` when
    /// every kept visitor was seen since then (there may be more, unknown).
    fn quiet_since(&self, state: &State, indicator: u32, account: u32, since: i64) -> bool {
        let Some(slots) = self.slots.get(indicator as usize) else {
            return true;
        };
        // Empty slots hold `i64::MIN`: a slot to spare means all are kept.
        let oldest = slots.iter().map(|v| v.last).min().unwrap_or(i64::MIN);
        for v in slots {
            if v.account == u32::MAX || v.account == account {
                continue;
            }
            let a = &state.accounts[v.account as usize];
            // Read the link itself: the slot may name an evicted link.
            let seen = a.link_position(indicator).is_ok_and(|p| a.links[p].last >= since);
            if seen && a.ban.is_none() && a.bits & SUSPECT == 0 {
                return false;
            }
        }
        oldest < since
    }
}

/// The outcome of one evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Verdict {
    pub(crate) score: f64,
    /// Score at threshold and evidence corroborated.
    pub(crate) flag: bool,
}

/// An identity takeover found by [`takeover`].
#[derive(Clone, Copy, Debug, PartialEq)]
struct Takeover {
    /// The shared signup IP.
    indicator: u32,
    /// The banned account whose signup IP it was.
    banned: u32,
    evidence: f64,
    /// Within `takeover_secs` of the ban (else only within
    /// `quiet_takeover_secs`, which counts only if the address is quiet).
    recent: bool,
    /// Banned for an abuse reason, within `quiet_takeover_secs`, and no
    /// account other than the new one that is neither banned nor flagged was
    /// seen on the address from `quiet_secs` before the ban on.
    quiet: bool,
}

/// The account's signup IP: its IP link seen first (ties: lowest id).
fn signup_ip(state: &State, account: u32) -> Option<(u32, i64)> {
    state.accounts[account as usize]
        .links
        .iter()
        .filter(|l| state.indicators[l.indicator as usize].kind == IP)
        .min_by_key(|l| (l.first, l.indicator))
        .map(|l| (l.indicator, l.first))
}

/// Whether `account` took over a banned account's network identity: its
/// signup IP is the signup IP of an account banned at most `takeover_secs`
/// (or, on a quiet address, `quiet_takeover_secs`) before its signup (and
/// before `limit`). Evidence `takeover_weight × reason weight` of the
/// strongest, then most recent, such ban. A replacement account is
/// typically started from where the banned one lived; an unrelated account
/// landing on the same address within the hour is rare, and a shared
/// household or proxy address is told apart either by the corroboration
/// rule or by its other recent users (see [`Takeover::quiet`]).
///
/// # Complexity
///
/// `O(min(B, max_banned_scan) × L + VISITORS × log L)` for `B` banned
/// accounts on the IP with `L` links each.
fn takeover(
    state: &State,
    config: &WatchConfig,
    visitors: &Visitors,
    account: u32,
    limit: i64,
) -> Option<Takeover> {
    if config.takeover_weight <= 0.0 {
        return None;
    }
    let signup = state.accounts[account as usize].signup;
    let window = config.takeover_secs.max(config.quiet_takeover_secs);
    let (ip, _) = signup_ip(state, account)?;
    let ind = &state.indicators[ip as usize];
    let mut best: Option<(Takeover, i64)> = None;
    for entry in ind.banned.iter().rev().take(config.max_banned_scan) {
        let age = signup.saturating_sub(entry.ts);
        if entry.account == account || entry.ts > limit || age > window {
            continue;
        }
        if signup_ip(state, entry.account).map(|(i, _)| i) != Some(ip) {
            continue;
        }
        let evidence = config.takeover_weight * f64::from(entry.weight);
        let t = Takeover {
            indicator: ip,
            banned: entry.account,
            evidence,
            recent: age <= config.takeover_secs,
            quiet: config.quiet_takeover_secs > 0
                && entry.weight >= 1.0
                && age <= config.quiet_takeover_secs,
        };
        if best.is_none_or(|(b, b_age)| (evidence, -age) > (b.evidence, -b_age)) {
            best = Some((t, age));
        }
    }
    let (mut t, age) = best?;
    // Quiet from `quiet_secs` before the ban on: in the day before the ban
    // and since, nobody but banned or flagged accounts used the address (a
    // household living there would have).
    let ban = signup.saturating_sub(age);
    t.quiet =
        t.quiet && visitors.quiet_since(state, ip, account, ban.saturating_sub(config.quiet_secs));
    Some(t)
}

/// `recency(dt)`: 1 right after the ban, decaying to `floor`.
///
/// Past 14 decay times the decayed part is below 1e-6 and is dropped, which
/// saves the `exp` on the many old bans of hub indicators.
fn recency(config: &WatchConfig, dt: i64) -> f64 {
    let floor = config.recency_floor;
    if dt >= config.recency_secs.saturating_mul(14) {
        return floor;
    }
    let dt = dt.max(0) as f64;
    floor + (1.0 - floor) * (-dt / config.recency_secs as f64).exp()
}

/// The evidence `e` one indicator gives for `account` (see the module docs)
/// and the number of banned accounts counted on it; `on_banned` is called
/// with each banned account examined that counts.
fn indicator_evidence(
    state: &State,
    config: &WatchConfig,
    account: u32,
    indicator: u32,
    mut on_banned: impl FnMut(u32),
) -> (f64, u32) {
    let a = &state.accounts[account as usize];
    let ind = &state.indicators[indicator as usize];
    let limit = a.signup.saturating_add(config.signup_grace_secs);
    // Newest bans first: they carry the recency weight. Past
    // `max_banned_scan` qualifying entries (or 8 times as many looked at),
    // older bans are counted at the recency floor with the mean weight of
    // those scanned, so a hub indicator with thousands of banned accounts
    // costs no more than a small one.
    let mut b = 0.0f64;
    let mut shared = 0u32;
    let mut scanned_weight = 0.0f64;
    let mut unscanned = 0usize;
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
        on_banned(entry.account);
    }
    if unscanned > 0 {
        let mean = if shared > 0 { scanned_weight / f64::from(shared) } else { 1.0 };
        b += config.recency_floor * unscanned as f64 * mean;
        shared += unscanned as u32;
    }
    if b <= 0.0 {
        return (0.0, shared);
    }
    let self_clean = u32::from(a.ban.is_none() && a.bits & SUSPECT == 0);
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
    (e, shared)
}

/// Whether a new link to `indicator` is worth re-scoring `account` for:
/// its own evidence would be listed, or it is an IP (a possible identity
/// takeover). A link whose evidence is below the listing floor adds
/// nothing to the score, so re-scoring is skipped (the cheap path for the
/// many legitimate accounts that reach popular indicators with some ban).
pub(crate) fn worth_scoring(
    state: &State,
    config: &WatchConfig,
    account: u32,
    indicator: u32,
) -> bool {
    state.indicators[indicator as usize].kind == IP
        || indicator_evidence(state, config, account, indicator, |_| {}).0 >= MIN_LISTED
}

/// Scores `account` (see the module docs); fills `scratch` with the evidence.
pub(crate) fn evaluate(
    state: &State,
    config: &WatchConfig,
    visitors: &Visitors,
    account: u32,
    scratch: &mut Scratch,
) -> Verdict {
    scratch.contributions.clear();
    scratch.banned.clear();
    scratch.pairs.clear();
    let a = &state.accounts[account as usize];
    let limit = a.signup.saturating_add(config.signup_grace_secs);
    let mut doubt = [1.0f64; FAMILIES];
    let mut best_hard = 0.0f64;
    for link in &a.links {
        let ind = &state.indicators[link.indicator as usize];
        if ind.banned.is_empty() {
            continue;
        }
        let mark = scratch.banned.len();
        let (e, shared) = indicator_evidence(state, config, account, link.indicator, |b| {
            scratch.banned.push(b);
        });
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
    // Identity takeover: the account signed up from the very address a
    // banned account had signed up from, shortly after that ban.
    let takeover =
        takeover(state, config, visitors, account, limit).filter(|t| t.recent || t.quiet);
    if let Some(t) = takeover {
        doubt[TAKEOVER] *= 1.0 - t.evidence;
        scratch.banned.push(t.banned);
        match scratch.contributions.iter_mut().find(|c| c.indicator == t.indicator) {
            Some(c) => c.evidence = 1.0 - (1.0 - c.evidence) * (1.0 - t.evidence),
            None => scratch.contributions.push(Contribution {
                indicator: t.indicator,
                evidence: t.evidence,
                shared_with: 1,
            }),
        }
    }
    // How many specific indicators the best single banned account shares.
    scratch.pairs.sort_unstable();
    let concentration = scratch.pairs.chunk_by(|x, y| x == y).map(<[u32]>::len).max().unwrap_or(0);

    let mut remaining = 1.0f64;
    let mut support = 0;
    let mut non_network = 0;
    let mut infrastructure = 0;
    for f in 0..FAMILIES {
        let fe = (1.0 - doubt[f]).min(FAMILY_CAP[f]);
        remaining *= 1.0 - fe;
        if fe >= config.min_family_evidence {
            support += 1;
            if f != NETWORK && f != TAKEOVER {
                non_network += 1;
            }
            // Behavior counts as infrastructure only when it is the
            // operator's own (strong evidence: mostly banned accounts on it).
            if INFRASTRUCTURE.contains(&f) || (f == BEHAVIOR && fe >= config.takeover_behavior_min)
            {
                infrastructure += 1;
            }
        }
    }
    if scratch.banned.iter().any(|&b| b != scratch.banned[0]) {
        remaining *= 0.8;
    }
    let score = (1.0 - remaining).clamp(0.0, 1.0);
    let corroborated = best_hard >= config.hard_link_min || (support >= 2 && non_network >= 1);
    // A replacement takes over *a* banned account's own infrastructure (its
    // IP, card, device): two specific links to one banned account, unless
    // the evidence is overwhelming. Sharing an operator's pools with many
    // banned accounts, one link each, is what its other members do too.
    // An identity takeover stands in for the second specific link only when
    // the account also shares other infrastructure (card, device, phone,
    // e-mail, client fingerprints, organization) with banned accounts:
    // behavior (templates) is what a household near a proxy shares too.
    let took_over = takeover.is_some_and(|t| t.recent) && infrastructure >= 1;
    let concentrated = concentration >= 2 || took_over || score >= config.strong_score;
    // A quiet takeover needs neither: the address was used lately only by
    // banned (or flagged) accounts, one of which signed up there and was
    // banned for abuse just before.
    let quiet = takeover.is_some_and(|t| t.quiet);
    Verdict { score, flag: score >= config.threshold && (quiet || (corroborated && concentrated)) }
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
        let v = evaluate(&s, &config, &Visitors::rebuild(&s), new, &mut scratch);
        assert!(v.flag, "{v:?}");
        assert_eq!(scratch.banned, vec![banned]);

        let mut s = State::new();
        let spammer = account(&mut s, "mum", 0, &[(3, "family-card")]);
        bans::ban(&mut s, spammer, 100, config.reason_weight(Some("spam")) as f32);
        let kid = account(&mut s, "kid", 200, &[(3, "family-card")]);
        let v = evaluate(&s, &config, &Visitors::rebuild(&s), kid, &mut scratch);
        assert!(!v.flag, "{v:?}");
    }

    /// The default configuration with quiet takeovers on (3 hours).
    fn quiet_config() -> WatchConfig {
        WatchConfig::new().quiet_takeover_secs(3 * 3600)
    }

    #[test]
    fn ip_evidence_alone_never_flags_on_a_lived_in_address() {
        let config = quiet_config().threshold(0.0);
        let mut s = State::new();
        for i in 0..5 {
            let b = account(&mut s, &format!("b{i}"), 0, &[(0, "1.1.1.1"), (1, "1.1.1.0/24")]);
            bans::ban(&mut s, b, 10, 1.0);
        }
        // Someone not banned still uses the address: it is lived in.
        account(&mut s, "resident", 15, &[(0, "1.1.1.1")]);
        let new = account(&mut s, "n", 20, &[(0, "1.1.1.1"), (1, "1.1.1.0/24")]);
        let mut scratch = Scratch::default();
        let v = evaluate(&s, &config, &Visitors::rebuild(&s), new, &mut scratch);
        assert!(v.score > 0.0);
        assert!(!v.flag, "{v:?}");
    }

    /// An operator's address: `b` signed up on 7.7.7.7 and was banned for
    /// abuse at 1000; another operator account used it and was banned too.
    /// `extra` adds accounts before the new one signs up at 2000 from there.
    fn operator_address(extra: &[(&str, i64)]) -> (State, u32, u32) {
        let mut s = State::new();
        let b = account(&mut s, "b", 0, &[(0, "7.7.7.7"), (4, "dev-b")]);
        let o = account(&mut s, "o", 500, &[(0, "7.7.7.7")]);
        bans::ban(&mut s, b, 1000, 1.0);
        bans::ban(&mut s, o, 1000, 1.0);
        for &(name, ts) in extra {
            account(&mut s, name, ts, &[(0, "7.7.7.7")]);
        }
        let n = account(&mut s, "n", 2000, &[(0, "7.7.7.7")]);
        (s, b, n)
    }

    #[test]
    fn a_quiet_takeover_flags_at_the_first_event() {
        let config = quiet_config();
        let mut scratch = Scratch::default();
        let (s, b, n) = operator_address(&[]);
        let v = evaluate(&s, &config, &Visitors::rebuild(&s), n, &mut scratch);
        assert!(v.flag, "{v:?}");
        assert!(v.score >= 0.5, "{v:?}");
        // `banned` may repeat ids and is unsorted (see `Scratch::banned`).
        let mut banned = scratch.banned.clone();
        banned.sort_unstable();
        banned.dedup();
        assert_eq!(banned, vec![0, 1]);
        assert!(banned.contains(&b));
        let ip = &s.indicators[scratch.contributions[0].indicator as usize];
        assert_eq!((ip.kind, &*ip.value), (IP, "7.7.7.7"));
        // The rule can be turned off, and its window is a knob.
        let off = WatchConfig::new();
        assert!(!evaluate(&s, &off, &Visitors::rebuild(&s), n, &mut scratch).flag);
        let short = WatchConfig::new().quiet_takeover_secs(600);
        assert!(!evaluate(&s, &short, &Visitors::rebuild(&s), n, &mut scratch).flag);
    }

    #[test]
    fn a_family_member_on_the_banned_accounts_address_is_not_flagged() {
        let config = quiet_config();
        let mut scratch = Scratch::default();
        // A relative used the address an hour before the signup.
        let (s, _, n) = operator_address(&[("mum", 1000)]);
        let v = evaluate(&s, &config, &Visitors::rebuild(&s), n, &mut scratch);
        assert!(!v.flag, "{v:?}");
        // Seen only two days before, the address counts as quiet again.
        let (s, _, n) = operator_address(&[("mum", 2000 - 2 * 86_400)]);
        assert!(evaluate(&s, &config, &Visitors::rebuild(&s), n, &mut scratch).flag);
        // A ban for a non-abuse reason is no takeover to flag on.
        let mut s = State::new();
        let b = account(&mut s, "kid", 0, &[(0, "7.7.7.7")]);
        bans::ban(&mut s, b, 1000, config.reason_weight(Some("chargeback")) as f32);
        let n = account(&mut s, "sibling", 2000, &[(0, "7.7.7.7")]);
        assert!(!evaluate(&s, &config, &Visitors::rebuild(&s), n, &mut scratch).flag);
    }

    #[test]
    fn visitors_beyond_the_kept_few_make_an_address_unknown_not_quiet() {
        let config = quiet_config();
        let mut scratch = Scratch::default();
        // Banned accounts only, but more of them than are kept: whoever was
        // pushed out may have been a resident, so the address is not quiet.
        let mut s = State::new();
        let b = account(&mut s, "b", 0, &[(0, "7.7.7.7")]);
        bans::ban(&mut s, b, 1000, 1.0);
        for i in 0..VISITORS {
            let x = account(&mut s, &format!("x{i}"), 1100 + i as i64, &[(0, "7.7.7.7")]);
            bans::ban(&mut s, x, 1500, 1.0);
        }
        let n = account(&mut s, "n", 2000, &[(0, "7.7.7.7")]);
        assert!(!evaluate(&s, &config, &Visitors::rebuild(&s), n, &mut scratch).flag);
    }

    #[test]
    fn live_visitors_match_the_rebuilt_ones() {
        let mut s = State::new();
        let mut live = Visitors::default();
        let ip = s.intern_indicator(IP, "7.7.7.7");
        for (k, name) in ["a", "b", "c", "d", "e", "f", "b", "a"].into_iter().enumerate() {
            let a = s.intern_account(name, k as i64);
            let new_link = s.link(a, ip, k as i64 * 10);
            live.touch(&s, ip, a, k as i64 * 10, new_link);
        }
        let rebuilt = Visitors::rebuild(&s);
        let sorted = |v: &Visitors| {
            let mut x = v.slots[ip as usize].to_vec();
            x.sort_by_key(|v| v.account);
            x
        };
        assert_eq!(sorted(&live), sorted(&rebuilt));
    }

    #[test]
    fn bans_after_signup_do_not_count() {
        let config = WatchConfig::new();
        let mut s = State::new();
        let old = account(&mut s, "old", 0, &[(3, "card")]);
        let other = account(&mut s, "other", 50, &[(3, "card")]);
        bans::ban(&mut s, other, 100, 1.0);
        let mut scratch = Scratch::default();
        let v = evaluate(&s, &config, &Visitors::rebuild(&s), old, &mut scratch);
        assert_eq!(v.score, 0.0);
    }

    #[test]
    fn a_takeover_of_the_signup_ip_needs_shared_infrastructure() {
        // Without the quiet-address rule (off by default; see the next tests).
        let config = WatchConfig::new();
        let mut scratch = Scratch::default();
        // The banned account signed up on 7.7.7.7; the new account comes back
        // from there 20 minutes after the ban.
        let build = |second: Option<(u16, &str)>| {
            let mut s = State::new();
            let b = account(&mut s, "b", 0, &[(0, "7.7.7.7"), (7, "operator-mail.net")]);
            // Unbanned accounts crowd the domain and the IP enough that the
            // indicators alone say little.
            for i in 0..3 {
                account(&mut s, &format!("x{i}"), 0, &[(7, "operator-mail.net")]);
            }
            bans::ban(&mut s, b, 1000, 1.0);
            let mut links = vec![(0, "7.7.7.7")];
            links.extend(second);
            let n = account(&mut s, "n", 2200, &links);
            (s, n)
        };
        let (s, n) = build(None);
        let v = evaluate(&s, &config, &Visitors::rebuild(&s), n, &mut scratch);
        assert!(!v.flag, "an IP alone never flags: {v:?}");
        let (s, n) = build(Some((7, "operator-mail.net")));
        let v = evaluate(&s, &config, &Visitors::rebuild(&s), n, &mut scratch);
        assert!(v.flag, "{v:?}");
        assert!(scratch.banned.iter().all(|&b| b == 0), "{:?}", scratch.banned);
        // Without the takeover rule the same evidence is not concentrated.
        let off = config.clone().takeover_weight(0.0);
        assert!(!evaluate(&s, &off, &Visitors::rebuild(&s), n, &mut scratch).flag);
        // Three hours after the ban it is no takeover.
        let late = config.clone().takeover_secs(1000);
        assert!(!evaluate(&s, &late, &Visitors::rebuild(&s), n, &mut scratch).flag);
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
        let v = evaluate(&s, &config, &Visitors::rebuild(&s), new, &mut scratch);
        assert!(v.score < 0.2, "{v:?}");
    }
}
