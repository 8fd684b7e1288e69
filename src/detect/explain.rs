//! [`Explanation`]: why one account is or is not flagged, in plain words.

use std::fmt;

use serde::Serialize;

use super::Analysis;
use crate::error::{Error, Result};
use crate::event::{IndicatorKind, Timestamp};
use crate::id::{AccountId, ClusterId};
use crate::report::{Flag, ReplacementReport, SignalReport};

/// Most linked accounts listed.
const MAX_LINKS: usize = 20;

/// One indicator the account was seen on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndicatorNote {
    /// What it is.
    pub kind: IndicatorKind,
    /// Its value.
    pub value: String,
    /// When the account was first seen on it.
    pub first_seen: Timestamp,
    /// When the account was last seen on it.
    pub last_seen: Timestamp,
    /// How often the account was seen on it.
    pub count: u32,
    /// How many accounts were seen on it, platform-wide.
    pub accounts: usize,
}

/// One account linked to the explained one in the account graph.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkNote {
    /// The linked account.
    pub account: String,
    /// The edge weight (kind × specificity × time, summed over kinds).
    pub weight: f64,
    /// Which kinds of indicator link them.
    pub kinds: Vec<String>,
    /// Whether it is in the same community.
    pub same_cluster: bool,
}

/// The explained account's community.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClusterNote {
    /// Its id.
    pub id: ClusterId,
    /// Its hydra risk score.
    pub score: f64,
    /// Whether it was judged a hydra.
    pub hydra: bool,
    /// How many accounts it holds.
    pub size: usize,
    /// Its signals.
    pub signals: Vec<SignalReport>,
}

/// Why one account is or is not flagged: its indicators, its strongest
/// links, its community and that community's signals, and the verdict in
/// plain words. Printed by `hydra explain`; serializes to JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// The account.
    pub account: String,
    /// Its flag, if any.
    pub flag: Option<Flag>,
    /// Its signup time (explicit, or first seen).
    pub signup_ts: Timestamp,
    /// Whether the signup was an explicit event.
    pub explicit_signup: bool,
    /// Its bans: `(time, reason, lifted at)`.
    pub bans: Vec<(Timestamp, Option<String>, Option<Timestamp>)>,
    /// Its indicators, by kind then value.
    pub indicators: Vec<IndicatorNote>,
    /// Its strongest links, strongest first.
    pub links: Vec<LinkNote>,
    /// Its community, if it has one.
    pub cluster: Option<ClusterNote>,
    /// The replacement finding, if flagged `replacement`.
    pub replacement: Option<ReplacementReport>,
    /// The verdict in plain words, one sentence each.
    pub reasons: Vec<String>,
}

impl Analysis {
    /// Explains the verdict on `account`.
    ///
    /// # Errors
    ///
    /// An invalid-argument error if `account` is not in the input.
    pub fn explain(&self, account: &str) -> Result<Explanation> {
        let index = &self.index;
        let id = index.account_id(account).ok_or_else(|| {
            Error::invalid_argument(format!("account {account:?} does not appear in the input"))
        })?;
        let verdict = &self.detection.accounts[id.index()];
        let indicators = index
            .account_links(id)
            .iter()
            .map(|l| IndicatorNote {
                kind: index.indicator_kind(l.indicator).clone(),
                value: index.indicator_value(l.indicator).to_owned(),
                first_seen: l.first,
                last_seen: l.last,
                count: l.count,
                accounts: index.indicator_degree(l.indicator),
            })
            .collect();
        let my_cluster = self.cluster_of[id.index()];
        let mut links: Vec<(AccountId, f32, LinkNote)> = self
            .graph
            .neighbors(id)
            .map(|(b, w, mask)| {
                let mut kinds: Vec<String> = IndicatorKind::BUILT_IN
                    .iter()
                    .filter(|k| mask.contains(k))
                    .map(|k| k.as_str().to_owned())
                    .collect();
                if mask.contains(&IndicatorKind::Custom("custom".into())) {
                    kinds.push("custom".to_owned());
                }
                let note = LinkNote {
                    account: index.account_name(b).to_owned(),
                    weight: f64::from(w),
                    kinds,
                    same_cluster: my_cluster.is_some() && self.cluster_of[b.index()] == my_cluster,
                };
                (b, w, note)
            })
            .collect();
        links.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        let links: Vec<LinkNote> = links.into_iter().take(MAX_LINKS).map(|l| l.2).collect();
        let cluster = my_cluster.map(|c| {
            let c = &self.detection.clusters[c];
            ClusterNote {
                id: c.id.clone(),
                score: c.score,
                hydra: c.hydra,
                size: c.size,
                signals: c.signals.clone(),
            }
        });
        let replacement =
            self.replacement_of[id.index()].map(|r| self.detection.replacements[r].clone());
        let bans = index
            .bans(id)
            .iter()
            .map(|b| (b.ts, b.reason.as_deref().map(str::to_owned), b.unban))
            .collect();
        let reasons = reasons(verdict.flag, cluster.as_ref(), replacement.as_ref(), &links, self);
        Ok(Explanation {
            account: account.to_owned(),
            flag: verdict.flag,
            signup_ts: index.signup(id),
            explicit_signup: index.has_explicit_signup(id),
            bans,
            indicators,
            links,
            cluster,
            replacement,
            reasons,
        })
    }
}

/// The verdict in plain words.
fn reasons(
    flag: Option<Flag>,
    cluster: Option<&ClusterNote>,
    replacement: Option<&ReplacementReport>,
    links: &[LinkNote],
    analysis: &Analysis,
) -> Vec<String> {
    let threshold =
        analysis.detection.run.config["score"]["threshold"].as_f64().unwrap_or(f64::NAN);
    let mut out = Vec::new();
    match cluster {
        None if links.is_empty() => {
            out.push("it shares no indicator with any other account, so it belongs to no community".into())
        }
        None => out.push(format!(
            "it is linked to {} accounts, but too weakly or too loosely to form a community with them",
            links.len()
        )),
        Some(c) => {
            let strongest: Vec<&SignalReport> = {
                let mut s: Vec<&SignalReport> = c.signals.iter().filter(|s| s.value >= 0.5).collect();
                s.sort_by(|a, b| (b.value * b.weight).total_cmp(&(a.value * a.weight)));
                s.into_iter().take(3).collect()
            };
            let why: Vec<String> = strongest.iter().map(|s| format!("{} ({})", s.name, s.explain)).collect();
            if c.hydra {
                out.push(format!(
                    "it belongs to community {} of {} accounts, judged a hydra: score {:.2} reaches the threshold {:.2}",
                    c.id, c.size, c.score, threshold
                ));
                if !why.is_empty() {
                    out.push(format!("the strongest signals: {}", why.join("; ")));
                }
            } else {
                out.push(format!(
                    "it belongs to community {} of {} accounts, not judged a hydra: score {:.2}{}",
                    c.id,
                    c.size,
                    c.score,
                    if c.score >= threshold {
                        " reaches the threshold, but the evidence is not corroborated (shared IPs or templates alone never flag)".to_owned()
                    } else {
                        format!(" is below the threshold {threshold:.2}")
                    }
                ));
                if !why.is_empty() {
                    out.push(format!("signals that did fire: {}", why.join("; ")));
                }
            }
        }
    }
    if let Some(r) = replacement {
        let what: Vec<String> = r
            .evidence
            .iter()
            .take(3)
            .map(|e| format!("{} shared with {} banned", e.kind, e.shared_with))
            .collect();
        out.push(format!(
            "it signed up after {} linked accounts were banned and took over their infrastructure: {}",
            r.linked_banned.len(),
            what.join(", ")
        ));
    }
    out.push(match flag {
        Some(Flag::Replacement) => "verdict: replacement".into(),
        Some(Flag::Hydra) => "verdict: hydra".into(),
        _ => "verdict: not flagged".into(),
    });
    out
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "account {}: {}", self.account, Flag::name(self.flag))?;
        for r in &self.reasons {
            writeln!(f, "  - {r}")?;
        }
        writeln!(
            f,
            "signup: {}{}",
            self.signup_ts,
            if self.explicit_signup { "" } else { " (implicit: first seen)" }
        )?;
        for (ts, reason, unban) in &self.bans {
            write!(f, "banned at {ts}")?;
            if let Some(r) = reason {
                write!(f, " ({r})")?;
            }
            if let Some(u) = unban {
                write!(f, ", lifted at {u}")?;
            }
            writeln!(f)?;
        }
        writeln!(f, "indicators ({}):", self.indicators.len())?;
        for i in &self.indicators {
            writeln!(
                f,
                "  {}={}  seen {}x from {} to {}, on {} accounts",
                i.kind, i.value, i.count, i.first_seen, i.last_seen, i.accounts
            )?;
        }
        writeln!(f, "strongest links ({}):", self.links.len())?;
        for l in &self.links {
            writeln!(
                f,
                "  {}  weight {:.3} via {}{}",
                l.account,
                l.weight,
                l.kinds.join("+"),
                if l.same_cluster { "  (same community)" } else { "" }
            )?;
        }
        if let Some(c) = &self.cluster {
            writeln!(
                f,
                "community {}: {} accounts, score {:.2}{}",
                c.id,
                c.size,
                c.score,
                if c.hydra { ", hydra" } else { "" }
            )?;
            for s in &c.signals {
                writeln!(
                    f,
                    "  {:<16} {:.2} (weight {:.2})  {}",
                    s.name, s.value, s.weight, s.explain
                )?;
            }
        }
        if let Some(r) = &self.replacement {
            writeln!(f, "replacement of: {}", r.linked_banned.join(", "))?;
            for e in &r.evidence {
                writeln!(f, "  {}={}  shared with {} banned", e.kind, e.value, e.shared_with)?;
            }
        }
        Ok(())
    }
}
