//! `hydra cluster` end to end, the edge-list reader and LFR through the public API.

use std::path::Path;
use std::process::{Command, Output};

use hydra_detect::ErrorKind;
use hydra_detect::community::{
    EdgeListConfig, LeidenConfig, LfrConfig, Partition, ari, leiden, lfr, nmi, read_edge_list,
};

/// `count` cliques of `size` nodes in a ring, joined by one edge each, and
/// the planted membership (node `i` in clique `i / size`).
fn ring_of_cliques(count: u32, size: u32) -> (String, Vec<u32>) {
    let mut text = String::from("# ring of cliques\n");
    for c in 0..count {
        let base = c * size;
        for i in 0..size {
            for j in i + 1..size {
                text.push_str(&format!("{} {}\n", base + i, base + j));
            }
        }
        let next = ((c + 1) % count) * size;
        text.push_str(&format!("{base} {}\n", next + 1));
    }
    let truth = (0..count * size).map(|v| v / size).collect();
    (text, truth)
}

fn lines(membership: &[u32]) -> String {
    membership.iter().map(|c| format!("{c}\n")).collect()
}

fn hydra(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hydra"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("hydra runs")
}

/// The value printed after `key: ` on standard output.
fn printed(out: &Output, key: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let prefix = format!("{key}: ");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} in {stdout}"))
        .to_owned()
}

#[test]
fn leiden_recovers_a_planted_partition() {
    let dir = tempfile::tempdir().unwrap();
    let (edges, truth) = ring_of_cliques(8, 6);
    std::fs::write(dir.path().join("g.txt"), edges).unwrap();
    std::fs::write(dir.path().join("truth.txt"), lines(&truth)).unwrap();
    let out = hydra(
        &["cluster", "--edges", "g.txt", "--truth", "truth.txt", "--out", "parts.txt"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(printed(&out, "nmi"), "1.000000");
    assert_eq!(printed(&out, "ari"), "1.000000");
    assert_eq!(printed(&out, "communities"), "8");
    assert!(printed(&out, "read").contains("48 nodes, 128 edges"));
    for key in ["detect", "total"] {
        assert!(printed(&out, key).ends_with(" s") || printed(&out, key).contains(" s ("));
    }
    // Communities are numbered by smallest node, as the truth is here.
    let written = std::fs::read_to_string(dir.path().join("parts.txt")).unwrap();
    assert_eq!(written, lines(&truth));
    // Nothing but the output is left behind.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["g.txt", "parts.txt", "truth.txt"]);
}

#[test]
fn wcc_and_lpa_run() {
    let dir = tempfile::tempdir().unwrap();
    // Two triangles and an edge, plus isolated nodes 8 and 9 from --nodes.
    std::fs::write(dir.path().join("g.txt"), "0 1\n1 2\n2 0\n3 4\n4 5\n5 3\n6 7 2.5\n").unwrap();
    let out = hydra(
        &["cluster", "--edges", "g.txt", "--algo", "wcc", "--nodes", "10", "--out", "wcc.txt"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(printed(&out, "communities"), "5");
    let written = std::fs::read_to_string(dir.path().join("wcc.txt")).unwrap();
    assert_eq!(written, "0\n0\n0\n1\n1\n1\n2\n2\n3\n4\n");

    let out = hydra(
        &["cluster", "--edges", "g.txt", "--algo", "lpa", "--nodes", "10", "--out", "lpa.txt"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(dir.path().join("lpa.txt")).unwrap();
    assert_eq!(written, "0\n0\n0\n1\n1\n1\n2\n2\n3\n4\n");
}

#[test]
fn cpm_quality_prints_both_scores() {
    let dir = tempfile::tempdir().unwrap();
    let (edges, _) = ring_of_cliques(4, 5);
    std::fs::write(dir.path().join("g.txt"), edges).unwrap();
    let out = hydra(
        &["cluster", "--edges", "g.txt", "--quality", "cpm", "--resolution", "0.5", "--out", "p"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed(&out, "modularity").ends_with("(resolution 1)"));
    assert!(printed(&out, "cpm").ends_with("(resolution 0.5)"));
    assert_eq!(printed(&out, "communities"), "4");
}

#[test]
fn bad_input_fails_with_its_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("g.txt"), "0 1\n\n1 -2\n").unwrap();
    let out = hydra(&["cluster", "--edges", "g.txt", "--out", "p.txt"], dir.path());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3") && stderr.contains("\"-2\""), "{stderr}");
    assert!(!dir.path().join("p.txt").exists());

    // A truth file of the wrong length is refused before anything is written.
    std::fs::write(dir.path().join("g.txt"), "0 1\n1 2\n").unwrap();
    std::fs::write(dir.path().join("t.txt"), "0\n0\n").unwrap();
    let out =
        hydra(&["cluster", "--edges", "g.txt", "--truth", "t.txt", "--out", "p.txt"], dir.path());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 lines but the graph has 3 nodes"), "{stderr}");
    std::fs::write(dir.path().join("t.txt"), "0\nx\n0\n").unwrap();
    let out =
        hydra(&["cluster", "--edges", "g.txt", "--truth", "t.txt", "--out", "p.txt"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2: bad community id \"x\""), "{stderr}");
    assert!(!dir.path().join("p.txt").exists());
}

#[test]
fn reader_reports_the_bad_line_of_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.txt");
    std::fs::write(&path, "# c\n0 1 1.5\n2 3 nan\n").unwrap();
    let err = read_edge_list(&path, &EdgeListConfig::new()).unwrap_err();
    assert_eq!(err.line(), Some(3));
    assert!(err.to_string().contains("\"nan\" is not a finite number"), "{err}");
    let err = read_edge_list(&dir.path().join("missing.txt"), &EdgeListConfig::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io { .. }), "{err}");
}

#[test]
fn leiden_finds_lfr_communities_at_low_mixing() {
    let config = LfrConfig::new().node_count(1_000).mixing(0.1).seed(3);
    let (graph, truth) = lfr(&config).unwrap();
    let found = leiden(&graph, &LeidenConfig::new());
    let score = nmi(&found, &truth);
    assert!(score > 0.9, "nmi {score}");
    assert!(ari(&found, &truth) > 0.8);
    // Same seed, same graph.
    let (again, truth_again) = lfr(&config).unwrap();
    assert_eq!(graph, again);
    assert_eq!(truth, truth_again);
    assert_eq!(nmi(&truth, &Partition::from_membership(truth.membership().to_vec())), 1.0);
}

// See: #15 (cluster wrote its output 0600, every other command 0644).
#[cfg(unix)]
#[test]
fn the_output_file_has_the_mode_of_any_file_the_user_creates() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("g.txt"), "0 1\n1 2\n").unwrap();
    let out = hydra(&["cluster", "--edges", "g.txt", "--out", "p.txt"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The test and hydra share the umask: a plain create shows what it allows.
    let plain = dir.path().join("plain");
    std::fs::File::create(&plain).unwrap();
    let mode =
        |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("p.txt"), mode("plain"));
}
