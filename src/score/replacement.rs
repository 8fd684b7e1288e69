//! Replacements in batch: accounts that signed up soon after a ban and took
//! over the banned accounts' infrastructure.
//!
//! For an account `r` signed up at `s` (explicitly, or implicitly at its
//! first event), the *candidate bans* are the bans of other accounts in
//! `[s − replacement_window_secs, s)` that were never lifted. For each
//! indicator `i` of `r` seen on at most `replacement_max_degree` accounts
//! and on a candidate-banned account `b` (which used it before its ban),
//! the strength of `i` for the pair `(r, b)` is
//!
//! `kind weight × specificity(deg i) × ban weight`
//!
//! where the kind weight says how much one shared value proves a common
//! owner (a card or phone much more than an IP, see [`kind_weight`]),
//! specificity falls with the number of accounts on it, and the ban weight
//! is 1 for an abuse ban and `other_ban_weight` otherwise (a family member
//! banned for a chargeback is no operator). A pair's strengths combine as
//! independent evidence, `1 − Π(1 − strength)`.
//!
//! Each banned account has at most one successor: the pairs are matched
//! greedily, strongest first (see [`pair`]), so an operator's other new
//! accounts, which meet many banned accounts on one pooled card or exit IP
//! by chance, do not count as their replacements when a stronger successor
//! exists. The account's strength is that of the link to its predecessor
//! (see [`judge`]), combined with its community: being flagged `hydra`,
//! like its predecessor (an operator's fleet may be split over several
//! communities), adds `0.6 × the account's community score`.
//!
//! An account is a replacement when the combined strength reaches
//! `replacement_threshold` *and* the evidence is more than shared network
//! addresses: a hard link or device shared with the predecessor, or both
//! accounts flagged `hydra`. So the neighbour who gets a banned
//! proxy's IP from their provider, or the colleague behind the office NAT,
//! is not flagged. The link to the predecessor must also be concentrated:
//! two or more specific indicators shared with it (an IP, card, device,
//! phone or e-mail on at most [`SPECIFIC_MAX`] accounts), or an identity
//! takeover (the account signed up from the banned account's signup IP,
//! see [`candidates`]). A replacement takes over a banned account's own
//! infrastructure; an operator's other new accounts meet a banned account
//! on one pooled card or exit each, by chance.
//!
//! # Complexity
//!
//! `O(L · D)` over all links `L`, with `D ≤ replacement_max_degree`, plus
//! the sort of the candidate links in [`pair`].

use rayon::prelude::*;

use crate::event::{IndicatorKind, Timestamp};
use crate::id::{AccountId, IndicatorId};
use crate::index::Index;
use crate::score::config::ScoreConfig;

/// How much one shared value of `kind` says that two accounts have one
/// owner, in `[0, 1]`.
pub(crate) fn kind_weight(kind: &IndicatorKind) -> f64 {
    match kind {
        IndicatorKind::Payment | IndicatorKind::Email => 0.9,
        IndicatorKind::Phone => 0.85,
        IndicatorKind::Device => 0.7,
        IndicatorKind::Ip => 0.35,
        IndicatorKind::Template => 0.2,
        IndicatorKind::IpPrefix => 0.05,
        IndicatorKind::TlsFp
        | IndicatorKind::UserAgent
        | IndicatorKind::EmailDomain
        | IndicatorKind::Org => 0.03,
        IndicatorKind::Asn => 0.0,
        _ => 0.2,
    }
}

/// Whether a shared value of `kind` is more than a network address.
fn beyond_network(kind: &IndicatorKind) -> bool {
    matches!(
        kind,
        IndicatorKind::Payment
            | IndicatorKind::Email
            | IndicatorKind::Phone
            | IndicatorKind::Device
    )
}

/// Specificity of an indicator seen on `degree` accounts: 1 for two
/// accounts, falling slowly (`1 / (1 + ln(degree / 2) / ln 25)`).
pub(crate) fn specificity(degree: usize) -> f64 {
    let d = degree.max(2) as f64;
    1.0 / (1.0 + (d / 2.0).ln() / 25f64.ln())
}

/// Share of the account's strength its hydra community contributes, times
/// the community's score.
const COMMUNITY_WEIGHT: f64 = 0.6;

/// Most accounts on an IP, card, device, phone or e-mail that still tie
/// two accounts individually (as the watcher's `specific_max`).
pub(crate) const SPECIFIC_MAX: usize = 40;

/// Evidence that an identity takeover adds to a pair (see [`candidates`]).
pub(crate) const TAKEOVER_WEIGHT: f64 = 0.5;

/// Whether a shared value of `kind` on `degree` accounts ties two accounts
/// individually.
fn specific(kind: &IndicatorKind, degree: usize) -> bool {
    degree <= SPECIFIC_MAX
        && matches!(
            kind,
            IndicatorKind::Ip
                | IndicatorKind::Payment
                | IndicatorKind::Email
                | IndicatorKind::Phone
                | IndicatorKind::Device
        )
}

/// The account's signup IP: the IP it was first seen on (ties: the smaller
/// indicator id).
fn signup_ip(index: &Index, account: AccountId) -> Option<IndicatorId> {
    index
        .account_links(account)
        .iter()
        .filter(|l| *index.indicator_kind(l.indicator) == IndicatorKind::Ip)
        .min_by_key(|l| (l.first, l.indicator))
        .map(|l| l.indicator)
}

/// One account flagged as a replacement.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Replacement {
    /// The account.
    pub account: AccountId,
    /// Its signup time.
    pub signup: Timestamp,
    /// Combined evidence strength in `[0, 1]`.
    pub strength: f64,
    /// Banned accounts it is linked to, sorted.
    pub linked_banned: Vec<AccountId>,
    /// `(indicator, banned accounts on it, strength)`, strongest first.
    pub evidence: Vec<(IndicatorId, usize, f64)>,
}

/// What the replacement rule needs to know about communities.
pub(crate) trait Communities {
    /// Score of `account`'s community if the account is flagged `hydra` there.
    fn hydra_score(&self, account: AccountId) -> Option<f64>;
}

/// The candidate bans of the index: `(account, ts, weight)` for every ban
/// never lifted, sorted by time then account.
pub(crate) fn standing_bans(index: &Index, config: &ScoreConfig) -> Vec<Vec<(Timestamp, f64)>> {
    (0..index.account_count())
        .map(|a| {
            let id = AccountId::new(a as u32);
            index
                .bans(id)
                .iter()
                .filter(|b| b.unban.is_none())
                .map(|b| (b.ts, config.ban_weight(b.reason.as_deref())))
                .collect()
        })
        .collect()
}

/// What one post-ban signup shares with the accounts banned before it.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    account: AccountId,
    signup: Timestamp,
    /// `(banned account, indicator, strength, hard)`, by banned account then indicator.
    hits: Vec<(AccountId, IndicatorId, f64, bool)>,
    /// Per banned account: combined strength and whether a hard link is among it.
    per_banned: Vec<(AccountId, f64, bool)>,
    /// Per banned account (parallel to `per_banned`): whether the link is
    /// concentrated, i.e. two or more specific indicators shared, or an
    /// identity takeover.
    concentrated: Vec<bool>,
}

/// Collects, for every account, what it shares with the accounts banned
/// shortly before its signup; `bans[a]` are the standing bans of account
/// `a`. Accounts that share nothing with any are left out; the others come
/// in account order.
///
/// Works from the banned accounts outwards (they are few): for each banned
/// account, each of its indicators of at most `replacement_max_degree`
/// accounts, and each other account on it.
///
/// An *identity takeover* — the account's signup IP (the first IP it was
/// seen on) is the banned account's own signup IP — adds
/// [`TAKEOVER_WEIGHT`] × the ban weight to the pair, as independent
/// evidence: an operator's replacement starts where the banned account
/// started, while its other new accounts draw their first exit from a
/// pool of thousands. A pair is *concentrated* when it shares two or more
/// specific indicators (an IP, card, device, phone or e-mail on at most
/// [`SPECIFIC_MAX`] accounts) or is a takeover; see [`judge`].
///
/// # Complexity
///
/// `O(B · D + H log H)` over the banned accounts' links `B`, `D ≤
/// replacement_max_degree`, and the links found `H`; in parallel over the
/// banned accounts when `parallel`.
pub(crate) fn candidates(
    index: &Index,
    bans: &[Vec<(Timestamp, f64)>],
    config: &ScoreConfig,
    parallel: bool,
) -> Vec<Candidate> {
    let window = config.get_replacement_window_secs();
    // (candidate, banned account, indicator, strength, hard, specific, takeover)
    type Hit = (AccountId, AccountId, IndicatorId, f64, bool, bool, bool);
    let from_banned = |b: usize| -> Vec<Hit> {
        let standing = &bans[b];
        let mut out = Vec::new();
        if standing.is_empty() {
            return out;
        }
        let b = AccountId::new(b as u32);
        let banned_signup_ip = signup_ip(index, b);
        for link in index.account_links(b) {
            let kind = index.indicator_kind(link.indicator);
            let kw = kind_weight(kind);
            let degree = index.indicator_degree(link.indicator);
            if kw <= 0.0 || degree < 2 || degree > config.get_replacement_max_degree() {
                continue;
            }
            let base = kw * specificity(degree);
            // The holders only: their own links to the indicator are not
            // needed here, and finding each is a search in its row.
            for &r in index.indicator_accounts(link.indicator) {
                if r == b {
                    continue;
                }
                let s = index.signup(r);
                // The ban came before the signup, within the window, and
                // the banned account was on the indicator before its ban.
                let weight = standing
                    .iter()
                    .filter(|&&(t, _)| t < s && s - t <= window && link.first <= t)
                    .map(|&(_, w)| w)
                    .fold(0.0, f64::max);
                if weight > 0.0 {
                    let takeover = banned_signup_ip == Some(link.indicator)
                        && signup_ip(index, r) == Some(link.indicator);
                    out.push((
                        r,
                        b,
                        link.indicator,
                        base * weight,
                        beyond_network(kind) && weight >= 1.0,
                        specific(kind, degree),
                        takeover && weight >= 1.0,
                    ));
                }
            }
        }
        out
    };
    let n = index.account_count();
    let mut hits: Vec<Hit> = if parallel {
        (0..n).into_par_iter().flat_map_iter(from_banned).collect()
    } else {
        (0..n).flat_map(from_banned).collect()
    };
    hits.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    hits.chunk_by(|x, y| x.0 == y.0)
        .map(|run| {
            let account = run[0].0;
            let hits: Vec<(AccountId, IndicatorId, f64, bool)> =
                run.iter().map(|h| (h.1, h.2, h.3, h.4)).collect();
            let mut per_banned = Vec::new();
            let mut concentrated = Vec::new();
            for run in run.chunk_by(|x, y| x.1 == y.1) {
                let takeover = run.iter().any(|h| h.6);
                let mut miss: f64 = run.iter().map(|h| 1.0 - h.3).product();
                if takeover {
                    miss *= 1.0 - TAKEOVER_WEIGHT;
                }
                per_banned.push((run[0].1, 1.0 - miss, run.iter().any(|h| h.4)));
                concentrated.push(takeover || run.iter().filter(|h| h.5).count() >= 2);
            }
            Candidate { account, signup: index.signup(account), hits, per_banned, concentrated }
        })
        .collect()
}

/// Pairs each banned account with at most one successor: greedily over
/// every `(candidate, banned account)` link, strongest first (ties: earlier
/// signup, then smaller ids), taking a link when neither end is taken.
/// Returns, per candidate (in order), its predecessor and link strength.
///
/// An operator replaces each banned account with one new account that
/// takes over several pieces of its infrastructure at once (its exit IPs,
/// its card, its device). The operator's other new accounts draw from the
/// same pools, so they meet many banned accounts on one indicator each, by
/// chance; pairing keeps such a chance link from counting when the banned
/// account has a stronger successor, and keeps a successor that is paired
/// with its own predecessor from blocking another's.
///
/// # Complexity
///
/// `O(H log H)` over the links `H` of all candidates.
pub(crate) fn pair(candidates: &[Candidate], accounts: usize) -> Vec<Option<(AccountId, f64)>> {
    let mut links: Vec<(f64, Timestamp, u32, AccountId)> = candidates
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.per_banned.iter().map(move |p| (p.1, c.signup, i as u32, p.0)))
        .collect();
    links.sort_by(|x, y| {
        y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)).then(x.3.cmp(&y.3))
    });
    let mut paired: Vec<Option<(AccountId, f64)>> = vec![None; candidates.len()];
    let mut banned_taken = vec![false; accounts];
    for (strength, _, i, b) in links {
        if paired[i as usize].is_some() || banned_taken[b.index()] {
            continue;
        }
        banned_taken[b.index()] = true;
        paired[i as usize] = Some((b, strength));
    }
    paired
}

/// Judges one candidate, paired with `predecessor` (see [`pair`]).
///
/// The strength is that of the link to the predecessor, combined with the
/// community (see the module docs); the evidence lists the indicators
/// shared with the predecessor and with the banned accounts linked at
/// least half as strongly.
pub(crate) fn judge(
    candidate: Candidate,
    predecessor: Option<(AccountId, f64)>,
    communities: &dyn Communities,
    config: &ScoreConfig,
) -> Option<Replacement> {
    let (first, best) = predecessor?;
    let Candidate { account, signup, hits, per_banned, concentrated } = candidate;
    let hard = per_banned.iter().any(|p| p.0 == first && p.2);
    let concentrated = per_banned.iter().zip(&concentrated).any(|(p, &c)| p.0 == first && c);
    let linked: Vec<(AccountId, f64, bool)> = per_banned
        .into_iter()
        .filter(|p| p.0 == first || (p.1 >= 0.5 * best && p.1 > 0.0))
        .collect();
    let linked_banned: Vec<AccountId> = linked.iter().map(|p| p.0).collect();
    let community = communities
        .hydra_score(account)
        .filter(|_| communities.hydra_score(first).is_some())
        .unwrap_or(0.0);
    let strength = 1.0 - (1.0 - best) * (1.0 - COMMUNITY_WEIGHT * community);
    if strength < config.get_replacement_threshold() || !(hard || community > 0.0) || !concentrated
    {
        return None;
    }
    // Evidence: indicators shared with the linked banned accounts.
    let mut evidence: Vec<(IndicatorId, usize, f64)> = Vec::new();
    let mut on: Vec<(IndicatorId, f64)> = hits
        .iter()
        .filter(|h| linked_banned.binary_search(&h.0).is_ok())
        .map(|h| (h.1, h.2))
        .collect();
    on.sort_by_key(|x| x.0);
    for run in on.chunk_by(|x, y| x.0 == y.0) {
        evidence.push((run[0].0, run.len(), run.iter().map(|h| h.1).fold(0.0, f64::max)));
    }
    evidence.sort_by(|a, b| b.2.total_cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    Some(Replacement { account, signup, strength, linked_banned, evidence })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specificity_falls_with_degree() {
        assert_eq!(specificity(2), 1.0);
        assert!(specificity(10) > specificity(100));
        assert!(specificity(100) > 0.4);
    }

    fn cand(account: u32, links: &[(u32, f64)]) -> Candidate {
        Candidate {
            account: AccountId::new(account),
            signup: 100,
            hits: Vec::new(),
            per_banned: links.iter().map(|&(b, s)| (AccountId::new(b), s, false)).collect(),
            concentrated: vec![false; links.len()],
        }
    }

    #[test]
    fn each_banned_account_gets_one_successor_the_strongest() {
        // 10 took over banned 1's card and IPs; 11 met banned 1 on one
        // pooled card by chance; 12 is the only successor of banned 2.
        let candidates =
            vec![cand(10, &[(1, 0.9), (2, 0.3)]), cand(11, &[(1, 0.5)]), cand(12, &[(2, 0.25)])];
        let paired = pair(&candidates, 13);
        assert_eq!(paired[0], Some((AccountId::new(1), 0.9)));
        assert_eq!(paired[1], None);
        assert_eq!(paired[2], Some((AccountId::new(2), 0.25)));
    }

    struct AllHydra;
    impl Communities for AllHydra {
        fn hydra_score(&self, _: AccountId) -> Option<f64> {
            Some(0.8)
        }
    }

    #[test]
    fn a_single_chance_link_to_the_predecessor_is_no_replacement() {
        // Both flagged hydra and strongly linked, but through one pooled
        // card only: an operator's burst account, not a successor.
        let config = ScoreConfig::new();
        let lone = cand(10, &[(1, 0.8)]);
        assert!(judge(lone, Some((AccountId::new(1), 0.8)), &AllHydra, &config).is_none());
        // The same link, concentrated (two specific indicators shared, or
        // signed up from the banned account's signup IP), is one.
        let mut taken = cand(10, &[(1, 0.8)]);
        taken.concentrated = vec![true];
        let r = judge(taken, Some((AccountId::new(1), 0.8)), &AllHydra, &config).expect("flagged");
        assert_eq!(r.linked_banned, vec![AccountId::new(1)]);
    }

    #[test]
    fn cards_weigh_more_than_ips() {
        assert!(kind_weight(&IndicatorKind::Payment) > 2.0 * kind_weight(&IndicatorKind::Ip));
        assert!(beyond_network(&IndicatorKind::Device));
        assert!(!beyond_network(&IndicatorKind::Ip));
    }
}
