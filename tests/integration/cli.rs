//! The `hydra` binary as a user runs it: `detect` (reports, strict and
//! lenient input, redaction, standard input, `--print-config`) and `explain`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const REPORTS: [&str; 4] = ["accounts.csv", "clusters.json", "report.html", "clusters.graphml"];

/// Indicator values in [`scenario`]; none may appear in a redacted report.
const RAW_VALUES: [&str; 4] =
    ["card-pool-77", "203.0.113.40", "tpl-shared-9f", "mallory@example.org"];

/// A small platform: an operator running 8 accounts on a pooled card, a
/// few proxy IPs and one rare template, two of them banned and replaced the
/// next day on the same card; and three households on their own IPs.
fn scenario() -> String {
    let mut rows = vec!["ts,account,event,kind,value,reason".to_owned()];
    let t0 = 1_767_225_600i64;
    for i in 0..8 {
        let a = format!("op-{i}");
        let ts = t0 + i * 60;
        rows.push(format!("{ts},{a},signup,,,"));
        rows.push(format!("{},{a},observe,payment,card-pool-77,", ts + 5));
        rows.push(format!("{},{a},observe,ip,203.0.113.{},", ts + 10, 40 + i % 3));
        rows.push(format!("{},{a},observe,template,tpl-shared-9f,", ts + 20));
        rows.push(format!("{},{a},observe,email,op{i}@mailinator.test,", ts + 2));
    }
    rows.push(format!("{},op-0,ban,,,hydra", t0 + 3_600));
    rows.push(format!("{},op-1,ban,,,hydra", t0 + 3_700));
    for i in 0..2 {
        let a = format!("op-new-{i}");
        let ts = t0 + 86_400 + i * 30;
        rows.push(format!("{ts},{a},signup,,,"));
        rows.push(format!("{},{a},observe,payment,card-pool-77,", ts + 5));
        rows.push(format!("{},{a},observe,ip,203.0.113.40,", ts + 10));
        rows.push(format!("{},{a},observe,template,tpl-shared-9f,", ts + 20));
        rows.push(format!("{},{a},observe,email,mallory@example.org,", ts + 3));
    }
    for h in 0..3 {
        for m in 0..2 {
            let a = format!("home-{h}-{m}");
            let ts = t0 + 7_200 * (h + 1) + m * 86_400;
            rows.push(format!("{ts},{a},signup,,,"));
            rows.push(format!("{},{a},observe,ip,198.51.100.{h},", ts + 10));
            rows.push(format!("{},{a},observe,device,dev-{h}-{m},", ts + 11));
        }
    }
    rows.join("\n") + "\n"
}

/// `hydra args` in `dir`, its output piped, standard input piped if `stdin`.
fn command(dir: &Path, args: &[&str], stdin: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hydra"));
    cmd.current_dir(dir).args(args).env_remove("HYDRA_REDACT_KEY");
    cmd.stdin(if stdin { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

fn hydra(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = command(dir, args, stdin.is_some()).spawn().expect("run hydra");
    if let Some(text) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn setup(events: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.csv");
    std::fs::write(&path, events).unwrap();
    (dir, path)
}

#[test]
fn detect_writes_the_four_reports_and_a_summary() {
    let (dir, _) = setup(&scenario());
    let out = hydra(dir.path(), &["detect", "--input", "events.csv", "--out", "out"], None);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    for name in REPORTS {
        assert!(dir.path().join("out").join(name).is_file(), "{name} missing");
    }
    let stdout = text(&out.stdout);
    assert!(stdout.contains("accounts") && stdout.contains("hydra clusters:"), "{stdout}");
    assert!(stdout.contains("timings:"), "{stdout}");

    let csv = std::fs::read_to_string(dir.path().join("out/accounts.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("account,cluster,score,flag"));
    // 10 operator accounts and 6 household members, one row each.
    assert_eq!(lines.count(), 16);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/clusters.json")).unwrap())
            .unwrap();
    assert_eq!(json["schema"], "hydra-detect/clusters/1");
    assert_eq!(json["run"]["input"], "events.csv");
    assert_eq!(json["run"]["input_sha256"].as_str().map(str::len), Some(64));
    assert_eq!(json["run"]["events"], scenario().lines().count() as u64 - 1);
    // No staging directory is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn detect_is_reproducible() {
    let (dir, _) = setup(&scenario());
    for out in ["a", "b"] {
        let o = hydra(dir.path(), &["detect", "-i", "events.csv", "-o", out, "--seed", "7"], None);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    for name in REPORTS {
        let a = std::fs::read(dir.path().join("a").join(name)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(name)).unwrap();
        assert!(a == b, "{name} differs between identical runs");
    }
}

#[test]
fn strict_mode_stops_on_a_bad_row_and_leaves_no_files() {
    let mut events = scenario();
    // Line 4 of the file (1 = header).
    let mut lines: Vec<&str> = events.lines().collect();
    lines.insert(3, "yesterday,op-x,signup,,,");
    events = lines.join("\n") + "\n";
    let (dir, _) = setup(&events);
    let out = hydra(dir.path(), &["detect", "--input", "events.csv", "--out", "out"], None);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("line 4"), "{stderr}");
    assert!(stderr.contains("yesterday"), "the offending value is named: {stderr}");
    // Not even the output directory, created for the run (see: #15).
    assert!(!dir.path().join("out").exists(), "the output directory was left behind");
}

#[test]
fn lenient_mode_skips_bad_rows_and_reports_them() {
    let mut lines: Vec<String> = scenario().lines().map(str::to_owned).collect();
    lines.insert(3, "yesterday,op-x,signup,,,".into());
    lines.insert(6, "1767225600,op-y,bann,,,".into());
    let (dir, _) = setup(&(lines.join("\n") + "\n"));
    let out = hydra(dir.path(), &["detect", "-i", "events.csv", "-o", "out", "--lenient"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("skipped 2 malformed rows"), "{stdout}");
    // Which lines, on standard error (see: #15).
    let stderr = text(&out.stderr);
    assert!(stderr.contains("line 4: invalid ts \"yesterday\""), "{stderr}");
    assert!(stderr.contains("line 7: unknown event \"bann\""), "{stderr}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/clusters.json")).unwrap())
            .unwrap();
    let skipped = json["run"]["skipped_rows"].as_object().unwrap();
    assert_eq!(skipped.values().map(|v| v.as_u64().unwrap()).sum::<u64>(), 2, "{skipped:?}");
}

#[test]
fn redacted_reports_hold_no_raw_indicator_value() {
    let (dir, _) = setup(&scenario());
    // Without --redact the values are there (so the check below means something).
    let plain = hydra(dir.path(), &["detect", "-i", "events.csv", "-o", "plain"], None);
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    let all = |sub: &str| -> Vec<(String, Vec<u8>)> {
        REPORTS
            .iter()
            .map(|n| (n.to_string(), std::fs::read(dir.path().join(sub).join(n)).unwrap()))
            .collect()
    };
    let found = RAW_VALUES
        .iter()
        .filter(|v| all("plain").iter().any(|(_, b)| contains(b, v.as_bytes())))
        .count();
    assert!(found > 0, "the plain report shows no indicator value at all");

    let out = hydra(dir.path(), &["detect", "-i", "events.csv", "-o", "red", "--redact"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("random for this run"));
    for (name, bytes) in all("red") {
        for value in RAW_VALUES {
            assert!(!contains(&bytes, value.as_bytes()), "{value} left in {name}");
        }
    }
    // A fixed key gives the same tokens twice.
    for sub in ["k1", "k2"] {
        let o = hydra(
            dir.path(),
            &["detect", "-i", "events.csv", "-o", sub, "--redact", "--redact-key", "s3cret"],
            None,
        );
        assert!(o.status.success());
    }
    assert_eq!(
        std::fs::read(dir.path().join("k1/clusters.json")).unwrap(),
        std::fs::read(dir.path().join("k2/clusters.json")).unwrap()
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `(label, holders)` of each indicator node of a `clusters.graphml`, and
/// how many holder edges end at each (by node id).
fn indicator_nodes(graphml: &str) -> Vec<(String, u64, usize)> {
    let between = |line: &str, open: &str| -> String {
        let start = line.find(open).unwrap() + open.len();
        line[start..start + line[start..].find("</data>").unwrap()].to_owned()
    };
    graphml
        .lines()
        .filter(|l| l.contains("<data key=\"type\">indicator</data>"))
        .map(|l| {
            let id = between(l, "<node id=\"").split('"').next().unwrap().to_owned();
            let edges = graphml.matches(&format!("target=\"{id}\"/>")).count();
            let holders = between(l, "<data key=\"holders\">").parse().unwrap();
            (between(l, "<data key=\"label\">"), holders, edges)
        })
        .collect()
}

#[test]
fn graphml_indicators_adds_shared_evidence_values_redacted_like_the_rest() {
    let (dir, _) = setup(&scenario());
    let graphml = |out: &str, extra: &[&str]| -> String {
        let mut args = vec!["detect", "-i", "events.csv", "-o", out, "--graphml-all"];
        args.extend_from_slice(extra);
        let o = hydra(dir.path(), &args, None);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let text = std::fs::read_to_string(dir.path().join(out).join("clusters.graphml")).unwrap();
        crate::report::check_xml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        text
    };
    assert!(indicator_nodes(&graphml("plain", &[])).is_empty(), "indicator nodes only if asked");

    let with = graphml("ind", &["--graphml-indicators"]);
    let nodes = indicator_nodes(&with);
    let label = |l: &str| nodes.iter().find(|n| n.0 == l).cloned();
    // The operator's 10 accounts all hold the pooled card and the template;
    // only the two newest share the e-mail.
    assert_eq!(label("payment:card-pool-77"), Some(("payment:card-pool-77".into(), 10, 10)));
    assert_eq!(label("template:tpl-shared-9f").map(|n| n.1), Some(10));
    assert_eq!(label("email:mallory@example.org").map(|n| n.1), Some(2));
    // Households' devices are their own: no node for a value one account holds.
    assert!(!with.contains("dev-0-0"), "{with}");
    for (label, holders, edges) in &nodes {
        assert!(*holders >= 2 && *holders as usize == *edges, "{label}: {holders} vs {edges}");
    }
    // The node count of the accounts is unchanged.
    let accounts = |t: &str| t.matches("<data key=\"type\">account</data>").count();
    assert_eq!(accounts(&with), 16);

    let red = graphml("red", &["--graphml-indicators", "--redact", "--redact-key", "k"]);
    for value in RAW_VALUES {
        assert!(!red.contains(value), "{value} left in the redacted clusters.graphml");
    }
    let redacted = indicator_nodes(&red);
    assert_eq!(redacted.len(), nodes.len());
    let card = redacted.iter().find(|n| n.0.starts_with("payment:h:")).expect("card token");
    assert_eq!((card.1, card.2), (10, 10), "{card:?}");
}

#[test]
fn standard_input_is_read_when_input_is_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let out = hydra(dir.path(), &["detect", "--input", "-", "--out", "out"], Some(&scenario()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/clusters.json")).unwrap())
            .unwrap();
    assert_eq!(json["run"]["input"], "-");
    let csv = std::fs::read_to_string(dir.path().join("out/accounts.csv")).unwrap();
    assert_eq!(csv.lines().count(), 17);
}

#[test]
fn print_config_prints_toml_that_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = hydra(dir.path(), &["detect", "--print-config"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let table: toml::Table = toml::from_str(&stdout).expect("valid TOML");
    for section in ["ingest", "graph", "leiden", "score"] {
        assert!(table.contains_key(section), "[{section}] missing");
    }
    let config = hydra_detect::Config::from_toml_str(&stdout).unwrap();
    assert_eq!(config, hydra_detect::Config::new());
    // A file given with --config is what is printed and used.
    std::fs::write(dir.path().join("c.toml"), "[leiden]\nseed = 9\n").unwrap();
    let out = hydra(dir.path(), &["detect", "--config", "c.toml", "--print-config"], None);
    let config = hydra_detect::Config::from_toml_str(&text(&out.stdout)).unwrap();
    assert_eq!(config.get_seed(), 9);
    // A bad key is an error naming it.
    std::fs::write(dir.path().join("bad.toml"), "[leiden]\nseeed = 9\n").unwrap();
    let out = hydra(dir.path(), &["detect", "--config", "bad.toml", "--print-config"], None);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("seeed"), "{}", text(&out.stderr));
}

#[test]
fn explain_prints_the_verdict_for_an_account_and_rejects_unknown_ones() {
    let (dir, _) = setup(&scenario());
    let out =
        hydra(dir.path(), &["explain", "--input", "events.csv", "--account", "op-new-0"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("account op-new-0: "), "{stdout}");
    assert!(stdout.contains("card-pool-77"), "its indicators are listed: {stdout}");
    let out = hydra(dir.path(), &["explain", "-i", "events.csv", "-a", "op-new-0", "--json"], None);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["account"], "op-new-0");
    let out = hydra(dir.path(), &["explain", "--input", "events.csv", "--account", "nobody"], None);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("nobody"), "{}", text(&out.stderr));
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// See: #15 (detect overwrote its own input).
#[test]
fn detect_refuses_to_replace_its_own_input() {
    let (dir, _) = setup(&scenario());
    let first = hydra(dir.path(), &["detect", "-i", "events.csv", "-o", "out"], None);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let before = std::fs::read(dir.path().join("out/accounts.csv")).unwrap();
    let out = hydra(dir.path(), &["detect", "-i", "out/accounts.csv", "-o", "out"], None);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is the report") && stderr.contains("accounts.csv"), "{stderr}");
    assert_eq!(std::fs::read(dir.path().join("out/accounts.csv")).unwrap(), before);
}

// See: #15 (reports moved into place one at a time left a partial set).
#[test]
fn a_failed_commit_leaves_the_old_reports_not_a_mix() {
    let (dir, _) = setup(&scenario());
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(out_dir.join("report.html")).unwrap();
    std::fs::write(out_dir.join("report.html/keep"), "x").unwrap();
    std::fs::write(out_dir.join("accounts.csv"), "old\n").unwrap();
    let out = hydra(dir.path(), &["detect", "-i", "events.csv", "-o", "out"], None);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("report.html"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(out_dir.join("accounts.csv")).unwrap(), "old\n");
    assert_eq!(names_in(&out_dir), ["accounts.csv", "report.html"]);
}

// See: #15 (an unwritable --out was found only after the whole run).
#[test]
fn an_unwritable_out_is_found_before_the_run() {
    let (dir, _) = setup(&scenario());
    std::fs::write(dir.path().join("plain-file"), "x").unwrap();
    // The input does not exist either: the output is checked first.
    let out = hydra(dir.path(), &["detect", "-i", "missing.csv", "-o", "plain-file/out"], None);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("output directory plain-file/out"), "{stderr}");
}

// See: #15 (a killed run left .hydra-staging-* behind for ever).
#[test]
fn staging_directories_of_killed_runs_are_removed() {
    let (dir, _) = setup(&scenario());
    let out_dir = dir.path().join("out");
    // A killed run's staging directory: its lock file is not held.
    let stale = out_dir.join(".hydra-staging-killed");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join(".lock"), "").unwrap();
    std::fs::write(stale.join("accounts.csv"), "partial").unwrap();
    // A live run's: its lock is held (here, by this test).
    let live = out_dir.join(".hydra-staging-live");
    std::fs::create_dir_all(&live).unwrap();
    let lock = std::fs::File::create(live.join(".lock")).unwrap();
    lock.lock().unwrap();
    let out = hydra(dir.path(), &["detect", "-i", "events.csv", "-o", "out"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut expected: Vec<String> = REPORTS.iter().map(|s| s.to_string()).collect();
    expected.push(".hydra-staging-live".into());
    expected.sort();
    assert_eq!(names_in(&out_dir), expected);
}

/// Runs `hydra args` with its standard output closed before it writes.
fn with_closed_stdout(dir: &Path, args: &[&str]) -> Output {
    let mut child = command(dir, args, false).spawn().unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

// See: #15 (`hydra eval … | head -1` and `hydra simulate … | head` panicked).
#[test]
fn a_reader_that_goes_away_is_success_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/eval");
    let (truth, accounts) = (data.join("truth.csv"), data.join("accounts.csv"));
    let eval =
        ["eval", "--truth", truth.to_str().unwrap(), "--accounts", accounts.to_str().unwrap()];
    let simulate =
        ["simulate", "--preset", "small", "--scale", "0.05", "--seed", "3", "--out", "s"];
    for args in [&eval[..], &simulate[..]] {
        let out = with_closed_stdout(dir.path(), args);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

// See: #15 (a lenient run of nothing but bad rows exited 0 with empty reports).
#[test]
fn a_lenient_detect_with_no_valid_row_fails() {
    let (dir, _) = setup("ts,account,event\nyesterday,a,signup\ntomorrow,b,signup\n");
    let out = hydra(dir.path(), &["detect", "-i", "events.csv", "-o", "out", "--lenient"], None);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no record of the input is valid"), "{stderr}");
    assert!(!dir.path().join("out/accounts.csv").exists());
}

// See: #15 (`hydra explain` printed ids raw: escape sequences reached the terminal).
#[test]
fn explain_shows_control_characters_in_ids_instead_of_sending_them() {
    let id = "op-\u{1b}]0;owned\u{7}";
    let mut events = scenario();
    events.push_str(&format!("1767225600,{id},signup,,,\n"));
    events.push_str(&format!("1767225610,{id},observe,payment,card-pool-77,\n"));
    let (dir, _) = setup(&events);
    let out = hydra(dir.path(), &["explain", "-i", "events.csv", "-a", id], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains('\u{1b}') && !stdout.contains('\u{7}'), "{stdout:?}");
    assert!(stdout.contains("op-\\u{1b}]0;owned\\u{7}"), "{stdout}");
}

// See: #15 (exit codes: one documented scheme for every subcommand).
#[test]
fn exit_codes_follow_one_scheme_for_every_subcommand() {
    let (dir, _) = setup(&scenario());
    let d = dir.path();
    std::fs::write(d.join("bad.csv"), "ts,account,event\nyesterday,a,signup\n").unwrap();
    std::fs::write(d.join("bad.toml"), "[leiden]\nresolution = -1.0\n").unwrap();
    std::fs::write(d.join("bad-edges.txt"), "0 x\n").unwrap();
    std::fs::write(d.join("huge-edges.txt"), "0 134217727\n").unwrap();
    std::fs::create_dir_all(d.join("state")).unwrap();
    std::fs::write(d.join("state/log.bin"), "not a log at all, not at all").unwrap();
    let cases: [(&[&str], i32); 14] = [
        (&["detect", "-i", "events.csv", "-o", "ok"], 0),
        (&["detect", "--bogus"], 2),
        (&["watch", "--first-seq", "0"], 2),
        (&["cluster", "--edges", "bad-edges.txt", "--out", "p", "--resolution", "-1"], 2),
        (&["explain", "-i", "events.csv", "-a", "nobody"], 2),
        (&["detect", "-i", "bad.csv", "-o", "out"], 3),
        (&["graph", "-i", "bad.csv", "-o", "out"], 3),
        (&["cluster", "--edges", "bad-edges.txt", "--out", "p"], 3),
        (&["detect", "-i", "missing.csv", "-o", "out"], 4),
        (&["cluster", "--edges", "missing.txt", "--out", "p"], 4),
        (&["detect", "-i", "events.csv", "-o", "out", "--config", "bad.toml"], 5),
        (&["watch", "--state", "state"], 6),
        (&["cluster", "--edges", "huge-edges.txt", "--out", "p"], 7),
        (&["eval", "--truth", "events.csv", "--accounts", "events.csv"], 3),
    ];
    for (args, want) in cases {
        let out = hydra(d, args, Some(""));
        assert_eq!(out.status.code(), Some(want), "{args:?}: {}", text(&out.stderr));
    }
}

/// A value `key=N` on the log line of `stage` in `log` (`INFO stage k=v ...`).
fn logged(log: &str, stage: &str, key: &str) -> Option<u64> {
    let line = log.lines().find(|l| l.contains(&format!(" INFO {stage} ")))?;
    let value = line.split_whitespace().find_map(|f| f.strip_prefix(&format!("{key}=")))?;
    value.parse().ok()
}

#[test]
fn verbose_detect_logs_each_stage_with_counts_into_a_pipe_without_colour() {
    use hydra_detect::sim::{Preset, SimConfig, Simulator};
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::new(SimConfig::preset(Preset::Small).seed(2).scale(0.05))
        .unwrap()
        .generate()
        .unwrap();
    let file = std::fs::File::create(dir.path().join("events.csv")).unwrap();
    sim.write_events_csv(std::io::BufWriter::new(file), |_| {}).unwrap();
    let out = hydra(dir.path(), &["-v", "detect", "-i", "events.csv", "-o", "out"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = text(&out.stderr);
    assert!(!out.stderr.contains(&0x1b) && !out.stdout.contains(&0x1b), "no ESC: {log:?}");
    let s = sim.summary();
    assert_eq!(logged(&log, "ingest", "events"), Some(s.events), "{log}");
    assert_eq!(logged(&log, "ingest", "skipped"), Some(0), "{log}");
    assert!(logged(&log, "ingest", "bytes").is_some_and(|b| b > 0), "{log}");
    assert_eq!(logged(&log, "index", "accounts"), Some(s.accounts), "{log}");
    assert!(logged(&log, "index", "indicators").is_some_and(|n| n > 0), "{log}");
    assert_eq!(logged(&log, "graph", "nodes"), Some(s.accounts), "{log}");
    assert!(logged(&log, "graph", "edges").is_some_and(|n| n > 0), "{log}");
    assert!(logged(&log, "graph", "supernodes_windowed").is_some(), "{log}");
    let communities = logged(&log, "communities", "communities").expect(&log);
    assert!(communities > 0 && logged(&log, "communities", "largest").is_some(), "{log}");
    let clusters = std::fs::read_to_string(dir.path().join("out/clusters.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&clusters).unwrap();
    let hydras = json["clusters"].as_array().unwrap().len() as u64;
    let replacements = json["replacements"].as_array().unwrap().len() as u64;
    assert_eq!(logged(&log, "score", "hydra_networks"), Some(hydras), "{log}");
    assert_eq!(logged(&log, "score", "replacements"), Some(replacements), "{log}");
    assert!(logged(&log, "score", "flagged_accounts").is_some_and(|n| n >= hydras), "{log}");
    assert_eq!(logged(&log, "write", "files"), Some(4), "{log}");
    let bytes: u64 = REPORTS
        .iter()
        .map(|r| std::fs::metadata(dir.path().join("out").join(r)).unwrap().len())
        .sum();
    assert_eq!(logged(&log, "write", "bytes"), Some(bytes), "{log}");
    for stage in ["ingest", "index", "graph", "communities", "score", "write"] {
        let line = log.lines().find(|l| l.contains(&format!(" INFO {stage} "))).unwrap();
        assert!(line.contains(" secs="), "{stage} has its time: {line}");
    }
    // Without -v: no log lines, and no progress bars into a pipe.
    let quiet = hydra(dir.path(), &["detect", "-i", "events.csv", "-o", "out2"], None);
    assert!(quiet.status.success());
    assert_eq!(text(&quiet.stderr), "");
}

#[test]
fn help_lists_the_exit_codes_of_exit_rs() {
    let dir = tempfile::tempdir().unwrap();
    let out = hydra(dir.path(), &["--help"], None);
    let help = text(&out.stdout);
    assert!(help.contains("Exit codes"), "{help}");
    for (code, word) in
        [(0, "success"), (1, "other"), (2, "usage"), (3, "input"), (4, "I/O"), (5, "configuration")]
    {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{code} ")) && l.contains(word)),
            "{code} {word}: {help}"
        );
    }
    for code in [6, 7] {
        assert!(help.lines().any(|l| l.trim_start().starts_with(&format!("{code} "))), "{help}");
    }
}
