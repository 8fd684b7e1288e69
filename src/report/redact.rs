//! `--redact`: indicator values replaced by a keyed hash, so that reports can
//! be shared without personal data.
//!
//! Redaction is one transformation of a [`Detection`] applied before any
//! writer runs, so every output (CSV, JSON, HTML, GraphML) is covered by the
//! same mechanism. The hash is HMAC-SHA256 (RFC 2104) under a caller's key:
//! equal values get equal tokens within a run (a reviewer can still see that
//! two clusters share a card), and without the key nobody can test a guess
//! of a value against a token.

use sha2::{Digest, Sha256};

use super::model::Detection;

/// Prefix of every redacted value: `h:` and 16 hex digits.
const PREFIX: &str = "h:";
/// Hex digits kept of the HMAC: 64 bits, enough to keep distinct values
/// apart in any one report.
const HEX_DIGITS: usize = 16;
/// Shortest raw value also scrubbed out of free text (signal explanations):
/// shorter ones ("1", "ok") would garble ordinary words and numbers.
const MIN_SCRUB_LEN: usize = 4;
/// SHA-256 block size in bytes (RFC 2104's `B`).
const BLOCK: usize = 64;

/// A copy of `detection` with every indicator value replaced by
/// `h:` + the first 16 hex digits of HMAC-SHA256(`key`, value).
///
/// Replaced: the values of every cluster's top indicators and of every
/// replacement's evidence, the indicator values in the run's configuration
/// (known shared values and networks), and any occurrence of those values
/// (4 bytes or longer) in the signals' free-text explanations. Account ids,
/// cluster ids and counts are kept.
///
/// Use one secret key per report you share; generate a random one per run if
/// tokens need not match across reports, and do not publish it.
///
/// # Examples
///
/// ```
/// use hydra_detect::{Detection, Evidence, IndicatorKind, ReplacementReport, redact};
///
/// let mut detection = Detection::default();
/// detection.replacements.push(ReplacementReport {
///     account: "a-2".into(),
///     signup_ts: 1_767_225_600,
///     cluster: None,
///     linked_banned: vec!["a-1".into()],
///     evidence: vec![Evidence {
///         kind: IndicatorKind::Payment,
///         value: "card-4242".into(),
///         shared_with: 1,
///     }],
/// });
/// let shared = redact(&detection, b"secret key");
/// let token = &shared.replacements[0].evidence[0].value;
/// assert!(token.starts_with("h:") && token.len() == 18);
/// assert_ne!(token, "card-4242");
/// ```
///
/// # Complexity
///
/// Time linear in the size of the detection (one HMAC per value), plus the
/// explanations' length times the number of distinct values for the scrub.
pub fn redact(detection: &Detection, key: &[u8]) -> Detection {
    let hmac = Hmac::new(key);
    let mut out = detection.clone();
    // Raw value -> token, kept sorted so the scrub below is deterministic.
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut token = |value: &mut String| {
        let t = seen.entry(value.clone()).or_insert_with(|| hmac.token(value)).clone();
        *value = t;
    };
    for cluster in &mut out.clusters {
        for indicator in &mut cluster.evidence.top_indicators {
            token(&mut indicator.value);
        }
    }
    for replacement in &mut out.replacements {
        for evidence in &mut replacement.evidence {
            token(&mut evidence.value);
        }
    }
    redact_config(&mut out.run.config, false, &mut token);
    // Longest first, so a value that contains another is replaced whole.
    let mut scrub: Vec<(&String, &String)> =
        seen.iter().filter(|(raw, _)| raw.len() >= MIN_SCRUB_LEN).collect();
    scrub.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
    if !scrub.is_empty() {
        for cluster in &mut out.clusters {
            for signal in &mut cluster.signals {
                for (raw, t) in &scrub {
                    if signal.explain.contains(raw.as_str()) {
                        signal.explain = signal.explain.replace(raw.as_str(), t);
                    }
                }
            }
        }
    }
    out
}

/// Replaces the indicator values a configuration may carry: the value of
/// every `{"kind": …, "value": …}` object (e.g. the graph's known shared
/// values) and every string of a `known_shared_networks` list.
fn redact_config(
    value: &mut serde_json::Value,
    in_networks: bool,
    token: &mut impl FnMut(&mut String),
) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("kind").is_some_and(|k| k.is_string())
                && let Some(serde_json::Value::String(v)) = map.get_mut("value")
            {
                token(v);
            }
            for (key, child) in map.iter_mut() {
                redact_config(child, key == "known_shared_networks", token);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                redact_config(item, in_networks, token);
            }
        }
        serde_json::Value::String(s) if in_networks => token(s),
        _ => {}
    }
}

/// HMAC-SHA256 with a fixed key (RFC 2104), written out because it is ten
/// lines over `sha2` and the crate needs nothing else from an HMAC library.
struct Hmac {
    /// `SHA256(key XOR ipad)` prefix state.
    inner: Sha256,
    /// `SHA256(key XOR opad)` prefix state.
    outer: Sha256,
}

impl Hmac {
    fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut inner = Sha256::new();
        inner.update(block.map(|b| b ^ 0x36));
        let mut outer = Sha256::new();
        outer.update(block.map(|b| b ^ 0x5c));
        Self { inner, outer }
    }

    fn mac(&self, message: &[u8]) -> [u8; 32] {
        let inner = self.inner.clone().chain_update(message).finalize();
        self.outer.clone().chain_update(inner).finalize().into()
    }

    fn token(&self, value: &str) -> String {
        let mac = self.mac(value.as_bytes());
        let mut out = String::with_capacity(PREFIX.len() + HEX_DIGITS);
        out.push_str(PREFIX);
        for byte in &mac[..HEX_DIGITS / 2] {
            out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            out.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::IndicatorKind;
    use crate::id::ClusterId;
    use crate::report::model::{
        ClusterEvidence, ClusterReport, Evidence, IndicatorCount, ReplacementReport, SignalReport,
    };

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231_vectors() {
        // RFC 4231 test case 1.
        let h = Hmac::new(&[0x0b; 20]);
        assert_eq!(
            hex(&h.mac(b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // Test case 2: a short key.
        let h = Hmac::new(b"Jefe");
        assert_eq!(
            hex(&h.mac(b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        let h = Hmac::new(&[0xaa; 131]);
        assert_eq!(
            hex(&h.mac(b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    fn detection() -> Detection {
        let mut d = Detection::default();
        d.clusters.push(ClusterReport {
            id: ClusterId::new("c-a-1"),
            score: 0.9,
            hydra: true,
            size: 2,
            members: Default::default(),
            signals: vec![SignalReport {
                name: "payment_pooling".into(),
                value: 1.0,
                weight: 0.2,
                explain: "2 members pay with card-4242".into(),
            }],
            evidence: ClusterEvidence {
                top_indicators: vec![IndicatorCount {
                    kind: IndicatorKind::Payment,
                    value: "card-4242".into(),
                    accounts: 2,
                }],
                banned_members: vec!["a-1".into()],
            },
            lifecycle: Default::default(),
            cells: Vec::new(),
            member_ids: vec!["a-1".into(), "a-2".into()],
            sample_edges: vec![(0, 1, 1.0)],
        });
        d.replacements.push(ReplacementReport {
            account: "a-2".into(),
            signup_ts: 10,
            cluster: Some(ClusterId::new("c-a-1")),
            linked_banned: vec!["a-1".into()],
            evidence: vec![Evidence {
                kind: IndicatorKind::Payment,
                value: "card-4242".into(),
                shared_with: 1,
            }],
        });
        d
    }

    #[test]
    fn equal_values_get_equal_tokens_and_no_raw_value_is_left() {
        let r = redact(&detection(), b"k");
        let a = &r.clusters[0].evidence.top_indicators[0].value;
        let b = &r.replacements[0].evidence[0].value;
        assert_eq!(a, b);
        assert!(a.starts_with("h:") && a.len() == 18, "{a}");
        let json = format!("{r:?}");
        assert!(!json.contains("card-4242"), "{json}");
        assert!(r.clusters[0].signals[0].explain.contains(a.as_str()));
        // Ids and structure are kept.
        assert_eq!(r.clusters[0].member_ids, detection().clusters[0].member_ids);
        assert_eq!(r.replacements[0].linked_banned, vec!["a-1".to_owned()]);
    }

    #[test]
    fn configured_shared_values_are_redacted() {
        let mut d = detection();
        d.run.config = serde_json::json!({"graph": {
            "known_shared_values": [{"kind": "ip", "value": "198.51.100.9"}],
            "known_shared_networks": ["10.0.0.0/8"],
            "supernode_cap": 500,
        }});
        let r = redact(&d, b"k");
        let text = r.run.config.to_string();
        assert!(!text.contains("198.51.100.9") && !text.contains("10.0.0.0/8"), "{text}");
        assert_eq!(r.run.config["graph"]["supernode_cap"], 500);
        assert_eq!(r.run.config["graph"]["known_shared_values"][0]["kind"], "ip");
    }

    #[test]
    fn tokens_depend_on_the_key() {
        let a = redact(&detection(), b"one");
        let b = redact(&detection(), b"two");
        assert_ne!(a.replacements[0].evidence[0].value, b.replacements[0].evidence[0].value);
        let again = redact(&detection(), b"one");
        assert_eq!(a, again);
    }
}
