//! The batch facade, `Detector`: determinism (input order, thread count),
//! the run manifest (input hash, config, seed), stable cluster ids,
//! explanations, and configuration errors.

use std::io::Write;
use std::path::{Path, PathBuf};

use hydra_detect::{
    Config, Detection, Detector, ErrorKind, Event, Flag, IndicatorKind, IngestConfig, ScoreConfig,
    read_events,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64;
use sha2::{Digest, Sha256};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios").join(name).join("events.csv")
}

fn events(name: &str) -> Vec<Event> {
    read_events(&scenario(name), &IngestConfig::new()).unwrap().0
}

fn on_threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap().install(f)
}

/// The detection without its timings (wall-clock, not part of the result).
fn detect(config: &Config, events: Vec<Event>) -> Detection {
    let mut d = Detector::new(config.clone()).detect_events(events).unwrap();
    d.run.timings.clear();
    d
}

#[test]
fn shuffled_input_and_thread_count_give_identical_output() {
    let base = events("small_hydra");
    // A parallel threshold of 1 exercises the parallel paths.
    let config = Config::new().score(ScoreConfig::new().parallel_threshold(1));
    let expected = on_threads(1, || detect(&config, base.clone()));
    assert!(expected.hydra_clusters().count() >= 1);
    for seed in [1u64, 2, 3] {
        let mut shuffled = base.clone();
        shuffled.shuffle(&mut Pcg64::seed_from_u64(seed));
        let got = on_threads(2, || detect(&config, shuffled));
        assert_eq!(got, expected, "shuffle seed {seed}");
    }
}

#[test]
fn the_manifest_names_input_hash_config_and_seed() {
    let path = scenario("careful_hydra");
    let bytes = std::fs::read(&path).unwrap();
    let d = Detector::new(Config::new()).detect_path(&path).unwrap();
    let hex: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(d.run.input_sha256, hex);
    assert_eq!(d.run.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(d.run.seed, Config::new().get_seed());
    assert_eq!(d.run.events as usize, bytes.iter().filter(|&&b| b == b'\n').count() - 1);
    assert_eq!(d.run.config["leiden"]["quality"], "cpm");
    assert!(d.run.skipped_rows.is_empty());
    assert!(d.run.timings.iter().any(|(phase, _)| phase == "score"));
}

#[test]
fn gzip_input_hashes_the_compressed_bytes_and_detects_the_same() {
    let path = scenario("small_hydra");
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("events.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&std::fs::read(&path).unwrap()).unwrap();
    let compressed = enc.finish().unwrap();
    std::fs::write(&gz, &compressed).unwrap();
    let detector = Detector::new(Config::new());
    let plain = detector.detect_path(&path).unwrap();
    let zipped = detector.detect_path(&gz).unwrap();
    let hex: String = Sha256::digest(&compressed).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(zipped.run.input_sha256, hex);
    assert_eq!(zipped.accounts, plain.accounts);
}

#[test]
fn cluster_ids_survive_a_few_more_events() {
    let base = events("small_hydra");
    let before = detect(&Config::new(), base.clone());
    let mut more = base;
    for i in 0..3 {
        more.push(Event::observe(
            1_767_300_000 + i,
            format!("zz-new{i}"),
            IndicatorKind::Ip,
            "192.0.2.250",
        ));
    }
    let after = detect(&Config::new(), more);
    let ids = |d: &Detection| d.hydra_clusters().map(|c| c.id.clone()).collect::<Vec<_>>();
    assert!(!ids(&before).is_empty());
    assert_eq!(ids(&before), ids(&after));
}

#[test]
fn explanations_say_why_in_plain_words() {
    let path = scenario("small_hydra");
    let detector = Detector::new(Config::new());
    let analysis = detector.analyze_path(&path).unwrap();
    let hydra = analysis.explain("hy00").unwrap();
    assert_eq!(hydra.flag, Some(Flag::Hydra));
    assert!(hydra.cluster.as_ref().unwrap().hydra);
    assert!(!hydra.indicators.is_empty() && !hydra.links.is_empty());
    let text = hydra.to_string();
    assert!(text.contains("judged a hydra") && text.contains("verdict: hydra"), "{text}");
    let json = serde_json::to_value(&hydra).unwrap();
    assert_eq!(json["account"], "hy00");

    let replacement = analysis.explain("hyr0").unwrap();
    assert_eq!(replacement.flag, Some(Flag::Replacement));
    assert!(replacement.replacement.is_some());
    assert!(replacement.to_string().contains("took over their infrastructure"));

    let solo = analysis.explain("s000").unwrap();
    assert_eq!(solo.flag, None);
    assert!(solo.to_string().contains("verdict: not flagged"));

    let err = analysis.explain("nobody").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument { .. }), "{err}");
    assert_eq!(detector.explain(&path, "hy00").unwrap(), hydra);
}

#[test]
fn an_invalid_configuration_is_refused_before_reading() {
    let config = Config::new().score(ScoreConfig::new().threshold(3.0));
    let err = Detector::new(config).detect_path(Path::new("/nonexistent.csv")).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Config { .. }), "{err}");
}

#[test]
fn a_bad_event_is_reported_with_its_position() {
    let bad = vec![Event::signup(0, "a"), Event::observe(1, "b", IndicatorKind::Ip, "not-an-ip")];
    let err = Detector::new(Config::new()).detect_events(bad).unwrap_err();
    assert_eq!(err.line(), Some(2), "{err}");
}

#[test]
fn a_warm_start_from_an_earlier_run_keeps_the_verdicts() {
    // The first run sees the first two thirds of the stream (by time), the
    // second all of it, starting from the first run's communities: on a
    // clear scenario it flags exactly what a run from scratch flags.
    let mut all = events("small_hydra");
    all.sort_by_key(|e| e.ts);
    let early = all[..all.len() * 2 / 3].to_vec();
    let config = Config::new();
    let first = Detector::new(config.clone()).analyze_events(early).unwrap();
    let start = first.warm_start();
    assert!(start.account_count() >= 20, "the first run found communities");
    let cold = detect(&config, all.clone());
    let warm = Detector::new(config.clone()).warm_start(start.clone()).detect_events(all).unwrap();
    let flags =
        |d: &Detection| d.accounts.iter().map(|v| (v.account.clone(), v.flag)).collect::<Vec<_>>();
    assert_eq!(flags(&warm), flags(&cold));
    assert_eq!(warm.account("hy00").unwrap().flag, Some(Flag::Hydra));
    // Same input, same warm start: same result.
    let again =
        Detector::new(config).warm_start(start).detect_events(events("small_hydra")).unwrap();
    assert_eq!(flags(&again), flags(&warm));
}

#[test]
fn a_detection_survives_a_json_round_trip() {
    for name in ["small_hydra", "family_after_ban", "campus"] {
        let detection = Detector::new(Config::new()).detect_path(&scenario(name)).unwrap();
        assert!(!detection.run.timings.is_empty(), "{name}: every field is kept, timings too");
        let json = serde_json::to_string(&detection).unwrap();
        let back: Detection = serde_json::from_str(&json).unwrap();
        assert_eq!(back, detection, "{name}");
    }
    let detection = Detector::new(Config::new()).detect_path(&scenario("small_hydra")).unwrap();
    assert!(detection.clusters.iter().any(|c| !c.sample_edges.is_empty()), "edges exercised");
}
