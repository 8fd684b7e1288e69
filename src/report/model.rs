//! The result of a batch run, shaped as `clusters.json` and
//! `accounts.csv` (docs/FORMATS.md): [`Detection`] and the types it holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{IndicatorKind, Timestamp};
use crate::id::ClusterId;

/// Schema tag of `clusters.json`.
pub const CLUSTERS_SCHEMA: &str = "hydra-detect/clusters/1";

/// What an account was flagged as. Unflagged accounts have no `Flag`
/// (`Option<Flag>`); writers print `none` for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Flag {
    /// Member of a community judged to be a hydra network.
    Hydra,
    /// Appeared after a ban and took over banned accounts' infrastructure.
    /// Wins over [`Flag::Hydra`] for an account that is both.
    Replacement,
}

impl Flag {
    /// The word written in reports: `hydra` or `replacement`.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Hydra => "hydra",
            Flag::Replacement => "replacement",
        }
    }

    /// The word for an optional flag: `none` when absent.
    pub fn name(flag: Option<Flag>) -> &'static str {
        flag.map_or("none", Flag::as_str)
    }
}

/// The word written in reports, as [`Flag::as_str`].
impl std::fmt::Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict on one account: one row of `accounts.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountVerdict {
    /// The input account id.
    pub account: String,
    /// The detected community (of 2 or more accounts) it belongs to, if any.
    pub cluster: Option<ClusterId>,
    /// That community's hydra risk score in [0, 1], if it has a community.
    pub score: Option<f64>,
    /// What the account is flagged as, if anything.
    pub flag: Option<Flag>,
}

/// One shared indicator offered as evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// What the indicator is.
    pub kind: IndicatorKind,
    /// Its value (a keyed hash of it under `--redact`).
    pub value: String,
    /// How many banned accounts (for a replacement) or cluster members (for
    /// a hydra) share it.
    pub shared_with: usize,
}

/// One indicator among a cluster's most shared ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorCount {
    /// What the indicator is.
    pub kind: IndicatorKind,
    /// Its value (a keyed hash of it under `--redact`).
    pub value: String,
    /// How many of the cluster's members were seen on it.
    pub accounts: usize,
}

/// One signal's contribution to a cluster's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalReport {
    /// Stable signal name, e.g. `payment_pooling`.
    pub name: String,
    /// The signal's value in [0, 1].
    pub value: f64,
    /// Its weight in the score.
    pub weight: f64,
    /// One line in plain words: what was measured and what it means.
    pub explain: String,
}

/// Member counts of a cluster by flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberCounts {
    /// Members with no flag.
    pub none: usize,
    /// Members flagged `hydra`.
    pub hydra: usize,
    /// Members flagged `replacement`.
    pub replacement: usize,
}

/// Evidence for a whole cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterEvidence {
    /// The indicators shared by the most members, most shared first.
    pub top_indicators: Vec<IndicatorCount>,
    /// Members that were banned at any point, sorted.
    pub banned_members: Vec<String>,
}

/// How a hydra grew, was banned and replenished itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Earliest signup among members.
    pub first_signup: Option<Timestamp>,
    /// Latest signup among members.
    pub last_signup: Option<Timestamp>,
    /// Members signed up per day, from the day of the first signup
    /// (day `i` counts signups in `[first_day + i days, first_day + i + 1 days)`).
    pub signups_per_day: Vec<usize>,
    /// Members banned per day, on the same days as `signups_per_day`.
    pub bans_per_day: Vec<usize>,
    /// Members ever banned.
    pub bans: usize,
    /// Members signed up after the cluster's first ban.
    pub signups_after_first_ban: usize,
    /// Replacements per banned member.
    pub replacement_rate: f64,
    /// Median seconds from a ban to the next member signup, if any ban was followed by one.
    pub median_ban_to_replacement_secs: Option<i64>,
    /// Distinct IPs the members used.
    pub ip_pool: usize,
    /// Distinct payment methods the members used.
    pub payment_pool: usize,
}

/// A detected community with its score, signals and evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterReport {
    /// Stable content-derived id.
    pub id: ClusterId,
    /// Hydra risk in [0, 1].
    pub score: f64,
    /// Whether the score reached the hydra threshold.
    pub hydra: bool,
    /// Number of member accounts.
    pub size: usize,
    /// Members by flag.
    pub members: MemberCounts,
    /// Every signal, in a fixed order.
    pub signals: Vec<SignalReport>,
    /// Shared indicators and banned members.
    pub evidence: ClusterEvidence,
    /// Growth, bans and replenishment over time.
    pub lifecycle: Lifecycle,
    /// For a network assembled from several communities, those
    /// communities (its *cells*), by id; empty for a single community.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<CellReport>,
    /// Member account ids, sorted (not in `clusters.json`, which gives counts).
    #[serde(default)]
    pub member_ids: Vec<String>,
    /// A bounded sample of the cluster's linkage for pictures (`report.html`,
    /// `clusters.graphml`): edges `(a, b, weight)` between members, as indexes
    /// into [`member_ids`](Self::member_ids), `a < b`, each pair at most once.
    /// May be empty (writers then fall back to the shared indicators); not
    /// in `clusters.json`.
    #[serde(default)]
    pub sample_edges: Vec<(u32, u32, f32)>,
}

/// One community of a network: a cell of [`ClusterReport::cells`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellReport {
    /// Stable content-derived id (as a cluster's: from its smallest member).
    pub id: ClusterId,
    /// Number of member accounts.
    pub size: usize,
    /// The cell's own hydra risk in [0, 1], as scored on its own.
    pub score: f64,
}

/// An account flagged `replacement`, with why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplacementReport {
    /// The account.
    pub account: String,
    /// When it signed up (explicitly or implicitly).
    pub signup_ts: Timestamp,
    /// Its community, if it has one.
    pub cluster: Option<ClusterId>,
    /// The banned accounts whose infrastructure it took over, sorted.
    pub linked_banned: Vec<String>,
    /// The shared indicators, strongest first.
    pub evidence: Vec<Evidence>,
}

/// The manifest of a run: enough to reproduce and audit it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Crate version that produced the result.
    pub version: String,
    /// Input name (path, or `-` for standard input).
    pub input: String,
    /// SHA-256 of the input bytes as read (hex), when read from a file.
    pub input_sha256: String,
    /// The full configuration in force.
    pub config: serde_json::Value,
    /// The community-detection seed.
    pub seed: u64,
    /// Events applied.
    pub events: u64,
    /// Rows skipped in lenient mode, by reason.
    pub skipped_rows: BTreeMap<String, u64>,
    /// Wall-clock seconds per pipeline phase (`read`, `index`, `graph`,
    /// `communities`, `score`, …) in the order run, for the CLI's summary.
    /// Not in `clusters.json`, which must not change between identical runs.
    #[serde(default)]
    pub timings: Vec<(String, f64)>,
    /// The first skipped rows' error messages (`line N: ...`), for the
    /// CLI to show. Not in `clusters.json`: they quote raw input values,
    /// which `--redact` does not cover.
    #[serde(default)]
    pub skipped_examples: Vec<String>,
}

/// The result of a batch detection run.
///
/// Serializes whole (serde), every field included, and reads back equal
/// (e.g. through JSON); that form is for keeping a result, not a contract
/// format: `clusters.json` and `accounts.csv` are
/// ([`write_clusters_json`](crate::write_clusters_json),
/// [`write_accounts_csv`](crate::write_accounts_csv)).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// How the run was made.
    pub run: RunInfo,
    /// One verdict per account, sorted by account id.
    pub accounts: Vec<AccountVerdict>,
    /// Every scored community, ranked by score (highest first, ties by id);
    /// `clusters.json` lists those with `hydra` set.
    pub clusters: Vec<ClusterReport>,
    /// Every account flagged `replacement`, sorted by account id.
    pub replacements: Vec<ReplacementReport>,
}

impl Detection {
    /// The communities judged hydras, ranked by score.
    pub fn hydra_clusters(&self) -> impl Iterator<Item = &ClusterReport> {
        self.clusters.iter().filter(|c| c.hydra)
    }

    /// The verdict on `account`, if it appeared in the input.
    pub fn account(&self, account: &str) -> Option<&AccountVerdict> {
        self.accounts
            .binary_search_by(|v| v.account.as_str().cmp(account))
            .ok()
            .map(|i| &self.accounts[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_display_the_word_of_the_reports() {
        for flag in [Flag::Hydra, Flag::Replacement] {
            assert_eq!(serde_json::to_string(&flag).unwrap(), format!("\"{flag}\""));
            assert_eq!(Flag::name(Some(flag)), flag.to_string());
        }
    }
}
