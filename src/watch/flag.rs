//! The flags a [`Watcher`](crate::Watcher) announces, and their JSON-lines form
//! (docs/FORMATS.md, "`hydra watch`: the flag stream").

use serde::{Deserialize, Serialize};

use crate::event::Timestamp;
use crate::id::ClusterId;
use crate::report::Evidence;

/// Schema tag of every flag line.
pub const FLAG_SCHEMA: &str = "hydra-detect/flag/1";

/// What a flag announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum WatchFlagKind {
    /// A new account took over banned accounts' infrastructure.
    Replacement,
    /// The account joined a community judged to be a hydra.
    Hydra,
    /// An unban removed the only reason for an earlier replacement flag.
    Retract,
}

impl WatchFlagKind {
    /// The word written in the `flag` field.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchFlagKind::Replacement => "replacement",
            WatchFlagKind::Hydra => "hydra",
            WatchFlagKind::Retract => "retract",
        }
    }
}

/// The word written in the `flag` field, as [`WatchFlagKind::as_str`].
impl std::fmt::Display for WatchFlagKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One announcement of the watcher: one JSON line of `hydra watch`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WatchFlag {
    /// Always [`FLAG_SCHEMA`].
    pub schema: String,
    /// 1-based position of the input event that caused the flag.
    pub seq: u64,
    /// That event's time.
    pub ts: Timestamp,
    /// The flagged account.
    pub account: String,
    /// What is announced.
    pub flag: WatchFlagKind,
    /// Strength of the evidence in [0, 1] (for a retract: what is left).
    pub score: f64,
    /// The account's community, if one is known.
    pub cluster: Option<ClusterId>,
    /// Banned accounts whose infrastructure it shares (sorted, capped).
    pub linked_banned: Vec<String>,
    /// The shared indicators; `shared_with` counts banned accounts (for
    /// `replacement` and `retract`) or cluster members (for `hydra`).
    pub evidence: Vec<Evidence>,
}

impl WatchFlag {
    /// Appends this flag as one JSON line (with the trailing newline) to `out`.
    pub fn write_json_line(&self, out: &mut Vec<u8>) {
        // Serializing plain strings and numbers into a Vec cannot fail.
        serde_json::to_writer(&mut *out, self).expect("flag serializes");
        out.push(b'\n');
    }

    /// This flag as one JSON line, without the newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("flag serializes")
    }
}

/// Rounds a score to 4 decimals so lines stay short and stable.
pub(crate) fn round_score(score: f64) -> f64 {
    (score * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::IndicatorKind;

    #[test]
    fn kinds_display_the_word_of_the_flag_field() {
        for kind in [WatchFlagKind::Replacement, WatchFlagKind::Hydra, WatchFlagKind::Retract] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
        }
    }

    #[test]
    fn json_line_matches_the_contract() {
        let flag = WatchFlag {
            schema: FLAG_SCHEMA.into(),
            seq: 1042,
            ts: 1_767_225_600,
            account: "a-123".into(),
            flag: WatchFlagKind::Replacement,
            score: round_score(0.971_234),
            cluster: None,
            linked_banned: vec!["a-17".into(), "a-9".into()],
            evidence: vec![Evidence {
                kind: IndicatorKind::Payment,
                value: "card".into(),
                shared_with: 12,
            }],
        };
        let mut out = Vec::new();
        flag.write_json_line(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"schema":"hydra-detect/flag/1","seq":1042,"ts":1767225600,"account":"a-123","flag":"replacement","score":0.9712,"cluster":null,"linked_banned":["a-17","a-9"],"evidence":[{"kind":"payment","value":"card","shared_with":12}]}"#.to_owned() + "\n"
        );
        let back: WatchFlag = serde_json::from_str(&flag.to_json()).unwrap();
        assert_eq!(back, flag);
    }
}
