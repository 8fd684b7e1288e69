//! `hydra graph` and the public graph API: graph.json contents, strict runs
//! leaving nothing behind, lenient runs reporting what they skipped, input
//! order not mattering.

use std::path::Path;
use std::process::{Command, Output};

use hydra_detect::{Event, GraphBuilder, GraphConfig, IndicatorKind};

fn hydra(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hydra")).args(args).output().unwrap()
}

const HEADER: &str = "ts,account,event,kind,value,reason\n";

/// Two accounts sharing a card, a household pair on an IP, a ban.
const EVENTS: &str = "1767225600,a-1,signup,,,\n\
                      1767225660,a-1,observe,payment,card-9,\n\
                      1767225720,a-2,observe,payment,card-9,\n\
                      1767225780,h-1,observe,ip,203.0.113.7,\n\
                      1767229380,h-2,observe,ip,203.0.113.7,\n\
                      1767229400,a-2,ban,,,hydra\n";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn graph_writes_graph_json_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "events.csv", &format!("{HEADER}{EVENTS}"));
    let out = dir.path().join("out");
    let run = hydra(&["graph", "--input", &input, "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("accounts     4 (4 linked, 1 banned)"), "{stdout}");
    assert!(stdout.contains("wrote "), "{stdout}");
    let json = read_json(&out.join("graph.json"));
    assert_eq!(json["schema"], "hydra-detect/graph/1");
    assert_eq!(json["events"], 6);
    assert_eq!(json["accounts"], 4);
    assert_eq!(json["edges"], 2);
    assert_eq!(json["hard_edges"], 1);
    // ip, its derived ip_prefix, and the card.
    assert_eq!(json["indicators"], 3);
    assert_eq!(json["by_kind"]["indicators"]["ip_prefix"], 1);
    assert_eq!(json["by_kind"]["edges"]["payment"], 1);
    assert_eq!(json["largest_indicators"].as_array().unwrap().len(), 3);
    assert_eq!(json["pairs_skipped_by_cap"], 0);
    assert!(json["timings"]["projection_secs"].is_number());
    // Nothing else is left in the output directory (no staging files).
    let names: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["graph.json"]);
}

#[test]
fn cap_and_top_k_flags_apply() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = HEADER.to_owned();
    for i in 0..12 {
        text.push_str(&format!("{},u-{i:02},observe,device,dev-1,\n", 1767225600 + i * 4000));
    }
    let input = write(dir.path(), "events.csv", &text);
    let out = dir.path().join("out");
    let run = hydra(&[
        "graph",
        "--input",
        &input,
        "--out",
        out.to_str().unwrap(),
        "--cap",
        "5",
        "--top-k",
        "2",
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let json = read_json(&out.join("graph.json"));
    assert_eq!(json["pairs_skipped_by_cap"], 66);
    assert_eq!(json["projection"]["indicators_over_cap"], 1);
    assert_eq!(json["config"]["supernode_cap"], 5);
    assert_eq!(json["config"]["top_k"], 2);
    // Accounts an hour apart never share a ten-minute window.
    assert_eq!(json["edges"], 0);
}

#[test]
fn strict_run_leaves_no_output_on_a_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let bad = format!("{HEADER}{EVENTS}1767229500,x-1,observe,ip,300.1.2.3,\n");
    let input = write(dir.path(), "events.csv", &bad);
    let out = dir.path().join("out");
    let run = hydra(&["graph", "--input", &input, "--out", out.to_str().unwrap()]);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("line 8"), "{stderr}");
    assert!(stderr.contains("300.1.2.3"), "{stderr}");
    let left = std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "no files left behind");
}

#[test]
fn lenient_run_reports_skipped_rows() {
    let dir = tempfile::tempdir().unwrap();
    let bad =
        format!("{HEADER}{EVENTS}1767229500,x-1,observe,ip,300.1.2.3,\nnot-a-time,x-2,signup,,,\n");
    let input = write(dir.path(), "events.csv", &bad);
    let out = dir.path().join("out");
    let run = hydra(&["graph", "--input", &input, "--out", out.to_str().unwrap(), "--lenient"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("2 bad rows skipped"), "{stderr}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("skipped rows 2"), "{stdout}");
    let json = read_json(&out.join("graph.json"));
    assert_eq!(json["skipped_rows"]["ip"], 1);
    assert_eq!(json["skipped_rows"]["timestamp"], 1);
    assert_eq!(json["events"], 6);
}

#[test]
fn jsonl_on_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hydra"))
        .args(["graph", "--input", "-", "--format", "jsonl", "--out", out.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for a in ["p", "q"] {
            writeln!(
                stdin,
                r#"{{"ts": 1767225600, "account": "{a}", "event": "observe", "kind": "phone", "value": "+15550001"}}"#
            )
            .unwrap();
        }
    }
    let run = child.wait_with_output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(read_json(&out.join("graph.json"))["edges"], 1);
}

#[test]
fn input_order_does_not_change_the_summary() {
    let mut events = Vec::new();
    for i in 0..60u32 {
        let account = format!("acct-{:02}", i % 20);
        let value = format!("10.0.{}.{}", i % 3, i % 7);
        events.push(Event::observe(i64::from(i) * 37, account, IndicatorKind::Ip, value));
    }
    let summarize = |events: &[Event]| {
        let mut b = GraphBuilder::new(GraphConfig::new().supernode_cap(4));
        for (line, e) in events.iter().enumerate() {
            b.add(line as u64 + 2, e).unwrap();
        }
        let mut json = serde_json::to_value(b.finish()).unwrap();
        json.as_object_mut().unwrap().remove("timings");
        json["projection"].as_object_mut().unwrap().retain(|k, _| !k.ends_with("_time"));
        json
    };
    let forward = summarize(&events);
    events.reverse();
    assert_eq!(forward, summarize(&events));
    assert!(forward["edges"].as_u64().unwrap() > 0);
}

/// A small simulated platform (about 1,000 accounts, five operators) as
/// `events.csv` in `dir`.
fn simulated(dir: &Path) -> std::path::PathBuf {
    use hydra_detect::sim::{Preset, SimConfig, Simulator};
    let config = SimConfig::preset(Preset::Small).seed(3).scale(0.05);
    let sim = Simulator::new(config).unwrap().generate().unwrap();
    let path = dir.join("events.csv");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    sim.write_events_csv(file, |_| {}).unwrap();
    path
}

/// Groups of 2 or more accounts, each sorted, sorted: a partition up to
/// relabelling.
fn groups(of: impl IntoIterator<Item = (u32, String)>) -> Vec<Vec<String>> {
    let mut by_label: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    for (label, account) in of {
        by_label.entry(label).or_default().push(account);
    }
    let mut groups: Vec<Vec<String>> = by_label.into_values().filter(|g| g.len() >= 2).collect();
    for g in &mut groups {
        g.sort();
    }
    groups.sort();
    groups
}

#[test]
fn graph_edges_clustered_by_hydra_cluster_give_the_communities_detect_uses() {
    let dir = tempfile::tempdir().unwrap();
    let events = simulated(dir.path());
    let run = Command::new(env!("CARGO_BIN_EXE_hydra"))
        .current_dir(dir.path())
        .args(["graph", "--input", "events.csv", "--edges", "graph.txt"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8_lossy(&run.stdout);
    // The command line the run prints, with our own output file.
    let hint = "communities as hydra detect finds them: hydra ";
    let line = stdout.lines().find_map(|l| l.strip_prefix(hint)).expect(&stdout);
    let mut args: Vec<&str> = line.split_whitespace().collect();
    let out_at = args.iter().position(|&a| a == "--out").unwrap();
    args[out_at + 1] = "communities.txt";
    let cluster =
        Command::new(env!("CARGO_BIN_EXE_hydra")).current_dir(dir.path()).args(&args).output();
    let cluster = cluster.unwrap();
    assert!(cluster.status.success(), "{args:?}: {}", String::from_utf8_lossy(&cluster.stderr));

    // Id map: `id,account`, ids dense from 0, accounts in accounts.csv order (sorted).
    let mut ids = csv::Reader::from_path(dir.path().join("graph.txt.ids.csv")).unwrap();
    assert_eq!(ids.headers().unwrap(), vec!["id", "account"]);
    let accounts: Vec<String> = ids
        .records()
        .enumerate()
        .map(|(i, r)| {
            let r = r.unwrap();
            assert_eq!(r[0].parse::<usize>().unwrap(), i);
            r[1].to_owned()
        })
        .collect();
    assert!(accounts.windows(2).all(|w| w[0] < w[1]), "sorted like accounts.csv");
    let labels: Vec<u32> = std::fs::read_to_string(dir.path().join("communities.txt"))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(labels.len(), accounts.len());
    let from_cluster = groups(labels.into_iter().zip(accounts.iter().cloned()));

    let analysis =
        hydra_detect::Detector::new(hydra_detect::Config::new()).analyze_path(&events).unwrap();
    let start = analysis.warm_start();
    let from_detect = groups(
        start
            .communities()
            .into_iter()
            .enumerate()
            .flat_map(|(i, c)| c.into_iter().map(move |a| (i as u32, a.to_owned()))),
    );
    assert!(from_detect.len() >= 5, "{} communities", from_detect.len());
    assert_eq!(from_cluster, from_detect);
    // The edge list names its schema and sizes in its header.
    let text = std::fs::read_to_string(dir.path().join("graph.txt")).unwrap();
    assert!(text.starts_with("# hydra-detect/edges/1"), "{}", &text[..200]);
    assert!(text.contains(&format!("# nodes {} edges ", accounts.len())));
}

#[test]
fn graph_edges_refuse_to_overwrite_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "events.csv", &format!("{HEADER}{EVENTS}"));
    let run = hydra(&["graph", "--input", &input, "--edges", &input]);
    assert_eq!(run.status.code(), Some(2), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read_to_string(&input).unwrap(), format!("{HEADER}{EVENTS}"));
    let ids = dir.path().join("e.ids").to_str().unwrap().to_owned();
    let edges = dir.path().join("e.txt").to_str().unwrap().to_owned();
    let run = hydra(&["graph", "--input", &input, "--edges", &edges, "--ids", &ids]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read_to_string(&ids).unwrap(), "id,account\n0,a-1\n1,a-2\n2,h-1\n3,h-2\n");
    let edges = std::fs::read_to_string(&edges).unwrap();
    let lines: Vec<&str> = edges.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 2, "{edges}");
    assert!(lines[0].starts_with("0 1 ") && lines[1].starts_with("2 3 "), "{edges}");
}
