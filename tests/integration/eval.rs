//! `eval` and `hydra eval`: known figures on hand-made truth, verdicts and a
//! flag stream (tests/data/eval/, figures worked out below).

use std::path::{Path, PathBuf};
use std::process::Command;

use hydra_detect::eval::{AccountFlags, EvalInput, FlagStream, Report, Truth, evaluate};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/eval").join(name)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

fn report(with_watch: bool) -> Report {
    let truth = Truth::read_csv(&data("truth.csv")).unwrap();
    let accounts = AccountFlags::read_csv(&data("accounts.csv")).unwrap();
    let stream = FlagStream::read_jsonl(&data("flags.jsonl")).unwrap();
    let events = data("events.csv");
    let mut input = EvalInput::new(&truth, &accounts);
    if with_watch {
        input = input.watch(&stream).events(&events);
    }
    evaluate(&input).unwrap()
}

#[test]
fn batch_figures_match_hand_computation() {
    let r = report(false);
    assert_eq!((r.truth_accounts, r.legit_accounts, r.hydra_accounts), (17, 10, 7));
    assert_eq!((r.replacement_accounts, r.unknown_accounts, r.missing_accounts), (2, 1, 0));
    // Flagged hydras h1 h2 r1 r2; missed h3 c1 c2; legit l1 l3 flagged.
    let h = &r.hydra;
    assert_eq!((h.true_positives, h.false_positives, h.false_negatives), (4, 2, 3));
    assert!(close(h.precision, 4.0 / 6.0) && close(h.recall, 4.0 / 7.0), "{h:?}");
    assert!(close(h.f1, 16.0 / 26.0), "{h:?}");
    assert!((r.false_positives_per_10k - 2000.0).abs() < 1e-9);
    // Replacement flags: r1 right, l3 wrong, r2 missed.
    let p = &r.replacement;
    assert_eq!((p.true_positives, p.false_positives, p.false_negatives), (1, 1, 1));
    assert!(close(p.precision, 0.5) && close(p.recall, 0.5));
    let company = &r.false_positives_by_group_type[0];
    assert_eq!((company.name.as_str(), company.legit, company.flagged), ("company", 3, 2));
    assert!((company.per_10k - 20_000.0 / 3.0).abs() < 1e-6);
    let tag = |name: &str| {
        let t = r.false_positives_by_tag.iter().find(|t| t.name == name).unwrap();
        (t.legit, t.flagged)
    };
    assert_eq!(tag("corp_card"), (3, 2));
    assert_eq!(tag("office_nat"), (2, 1));
    assert_eq!(tag("post_ban_signup"), (2, 1));
    assert_eq!(tag("shared_card"), (1, 0));
    let op1 = &r.operators[0];
    assert_eq!((op1.operator.as_str(), op1.size, op1.replacements, op1.flagged), ("op-1", 5, 2, 4));
    assert!((op1.recall - 0.8).abs() < 1e-9);
    // h1 h2 r1 r2 flagged in c-1: 4 of op-1's 5 accounts in one cluster.
    assert!((op1.concentration - 0.8).abs() < 1e-9);
    // c-1 is all op-1 (4 pure); c-2 holds legitimate l1 and l3 (impure).
    assert_eq!(r.flagged_clusters, 2);
    assert!(close(r.cluster_purity, 4.0 / 6.0), "{:?}", r.cluster_purity);
    let op2 = &r.operators[1];
    assert_eq!(
        (op2.size, op2.flagged, op2.tags.as_slice()),
        (2, 0, &["careful_operator".to_owned()][..])
    );
    assert_eq!(op2.concentration, 0.0);
    assert!(r.watch.is_none());
}

#[test]
fn time_to_flag_counts_events_after_signup() {
    let r = report(true);
    let w = r.watch.unwrap();
    assert_eq!((w.flags, w.retracts), (6, 1));
    // r1 and r2 standing, l5 retracted.
    let p = &w.replacement;
    assert_eq!((p.true_positives, p.false_positives, p.false_negatives), (2, 0, 0));
    // Standing flags: r1 r2 h2 (hydra) and l1 (legit); 7 hydras.
    let h = &w.hydra;
    assert_eq!((h.true_positives, h.false_positives, h.false_negatives), (3, 1, 4));
    // r1: signup 300, flagged at seq 7 (ts 320) = its 3rd event -> 2 after signup.
    // r2: signup 400, flagged at seq 14 (ts 440) = its 5th event -> 4 after signup.
    let t = w.time_to_flag.unwrap();
    assert_eq!(t.count, 2);
    assert_eq!((t.seconds_median, t.seconds_p95), (20, 40));
    assert_eq!((t.events_median, t.events_p95), (2, 4));
    // Batch replacements l3 r1, stream replacements r1 r2.
    let a = w.agreement;
    assert_eq!((a.both, a.batch_only, a.watch_only), (1, 1, 1));
}

fn hydra(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hydra")).args(args).output().unwrap()
}

#[test]
fn cli_prints_text_and_json() {
    let (t, a, f, e) =
        (data("truth.csv"), data("accounts.csv"), data("flags.jsonl"), data("events.csv"));
    let base = ["eval", "--truth", t.to_str().unwrap(), "--accounts", a.to_str().unwrap()];
    let out = hydra(&base);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("precision 0.6667  recall 0.5714"), "{text}");
    let mut args = base.to_vec();
    args.extend(["--watch", f.to_str().unwrap(), "--events", e.to_str().unwrap(), "--json"]);
    let out = hydra(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["watch"]["time_to_flag"]["events_p95"], 4);
    assert_eq!(json["hydra"]["true_positives"], 4);
}

#[test]
fn cli_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("accounts.csv");
    std::fs::write(&bad, "account,cluster,score,flag\nh1,,,none\nh2,,,banned\n").unwrap();
    let t = data("truth.csv");
    let out = hydra(&["eval", "--truth", t.to_str().unwrap(), "--accounts", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3") && err.contains("accounts.csv") && err.contains("banned"),
        "{err}"
    );
}
