//! Hand-made scenarios (`tests/data/scenarios/<name>/{events.csv, expected.toml}`)
//! run through `Detector::detect_path`: each legitimate hard negative stays
//! unflagged, each hydra is found, each signal fires where it should, and
//! every flagged account has evidence.
//!
//! `expected.toml` keys (all optional): `hydra` (accounts that must be
//! flagged `hydra` or `replacement`), `not_flagged`, `replacements`,
//! `not_replacements`, `no_flags` (nothing at all may be flagged), and
//! `[[signal]]` tables `{ account, name, min, max }` bounding a signal of
//! that account's community (a missing community counts as every signal 0).

use std::path::{Path, PathBuf};

use hydra_detect::{Config, Detection, Detector, Flag};

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Expected {
    description: String,
    hydra: Vec<String>,
    not_flagged: Vec<String>,
    replacements: Vec<String>,
    not_replacements: Vec<String>,
    no_flags: bool,
    signal: Vec<SignalBound>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SignalBound {
    account: String,
    name: String,
    min: Option<f64>,
    max: Option<f64>,
}

fn scenarios() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.toml").exists())
        .collect();
    dirs.sort();
    dirs
}

fn flag(d: &Detection, account: &str) -> Option<Flag> {
    d.account(account).unwrap_or_else(|| panic!("account {account} not in the detection")).flag
}

fn signal(d: &Detection, account: &str, name: &str) -> f64 {
    let Some(cluster) = d.account(account).and_then(|v| v.cluster.as_ref()) else { return 0.0 };
    let c = d.clusters.iter().find(|c| &c.id == cluster).unwrap();
    c.signals.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no signal {name}")).value
}

/// Every flagged account is in a listed hydra cluster with evidence, or in
/// `replacements` with evidence.
fn assert_evidence(d: &Detection, name: &str) {
    for v in &d.accounts {
        match v.flag {
            Some(Flag::Hydra) => {
                let id = v.cluster.as_ref().expect("a hydra account has a cluster");
                let c = d.clusters.iter().find(|c| &c.id == id).unwrap();
                assert!(c.hydra, "{name}: {} flagged in a non-hydra cluster", v.account);
                assert!(
                    !c.evidence.top_indicators.is_empty() || !c.evidence.banned_members.is_empty(),
                    "{name}: cluster {id} has no evidence"
                );
            }
            Some(Flag::Replacement) => {
                let r = d.replacements.iter().find(|r| r.account == v.account).unwrap();
                assert!(
                    !r.evidence.is_empty() && !r.linked_banned.is_empty(),
                    "{name}: {}",
                    v.account
                );
            }
            _ => {}
        }
    }
}

fn check(dir: &Path) {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(dir.join("expected.toml")).unwrap();
    let expected: Expected = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!expected.description.is_empty(), "{name}: describe the scenario");
    let d = Detector::new(Config::new()).detect_path(&dir.join("events.csv")).unwrap();
    for a in &expected.hydra {
        assert!(flag(&d, a).is_some(), "{name}: {a} should be flagged");
    }
    for a in &expected.not_flagged {
        assert_eq!(flag(&d, a), None, "{name}: {a} should not be flagged");
    }
    for a in &expected.replacements {
        assert_eq!(flag(&d, a), Some(Flag::Replacement), "{name}: {a} should be a replacement");
    }
    for a in &expected.not_replacements {
        assert_ne!(flag(&d, a), Some(Flag::Replacement), "{name}: {a} is no replacement");
    }
    if expected.no_flags {
        let flagged: Vec<&str> =
            d.accounts.iter().filter(|v| v.flag.is_some()).map(|v| v.account.as_str()).collect();
        assert!(flagged.is_empty(), "{name}: nothing should be flagged, got {flagged:?}");
    }
    for b in &expected.signal {
        let v = signal(&d, &b.account, &b.name);
        if let Some(min) = b.min {
            assert!(
                v >= min,
                "{name}: {} of {}'s community is {v}, expected >= {min}",
                b.name,
                b.account
            );
        }
        if let Some(max) = b.max {
            assert!(
                v <= max,
                "{name}: {} of {}'s community is {v}, expected <= {max}",
                b.name,
                b.account
            );
        }
    }
    assert_evidence(&d, &name);
}

#[test]
fn every_scenario_meets_its_expectations() {
    let dirs = scenarios();
    assert!(dirs.len() >= 7, "scenarios missing: {dirs:?}");
    for dir in dirs {
        check(&dir);
    }
}
