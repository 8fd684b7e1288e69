//! `hydra dist` (feature `distributed`): several worker processes on
//! loopback find exactly what `hydra detect` finds, and a killed worker
//! fails the run with a clear error and no output.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn hydra(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_hydra"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hydra {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `clusters.json` without its `run` manifest (which names the input and
/// times the stages), re-serialized.
fn clusters_without_run(path: &Path) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let run = v.as_object_mut().unwrap().remove("run");
    assert!(run.is_some(), "clusters.json has a run manifest");
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn dist_on_loopback_writes_what_detect_writes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    hydra(d, &["simulate", "--preset", "small", "--seed", "7", "--out", "sim"]);
    hydra(d, &["detect", "--input", "sim/events.csv", "--out", "one", "--graphml-indicators"]);
    let accounts = std::fs::read(d.join("one/accounts.csv")).unwrap();
    let graphml = std::fs::read_to_string(d.join("one/clusters.graphml")).unwrap();
    assert!(graphml.contains("<data key=\"type\">indicator</data>"), "indicator nodes drawn");
    let clusters = clusters_without_run(&d.join("one/clusters.json"));
    let listed: serde_json::Value = serde_json::from_str(&clusters).unwrap();
    assert!(
        listed["clusters"].as_array().is_some_and(|c| !c.is_empty()),
        "the platform has hydras to find"
    );
    for (name, args) in
        [("three", vec!["--local", "3"]), ("two-by-two", vec!["--local", "2", "-w", "2"])]
    {
        let mut full =
            vec!["dist", "--input", "sim/events.csv", "--out", name, "--graphml-indicators"];
        full.extend(args);
        let out = hydra(d, &full);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("sent between processes"), "{stdout}");
        assert!(
            std::fs::read(d.join(name).join("accounts.csv")).unwrap() == accounts,
            "{name}: accounts.csv differs from hydra detect's"
        );
        assert!(
            clusters_without_run(&d.join(name).join("clusters.json")) == clusters,
            "{name}: clusters.json differs from hydra detect's"
        );
        assert!(
            std::fs::read_to_string(d.join(name).join("clusters.graphml")).unwrap() == graphml,
            "{name}: clusters.graphml (with indicator nodes) differs from hydra detect's"
        );
    }
}

/// Two free loopback addresses, one per line.
fn hostfile(dir: &Path) -> std::path::PathBuf {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    let text = format!("{}\n{}\n", a.local_addr().unwrap(), b.local_addr().unwrap());
    drop((a, b));
    let path = dir.join("hosts");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_killed_worker_fails_the_run_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    hydra(d, &["simulate", "--preset", "small", "--scale", "0.02", "--seed", "7", "--out", "sim"]);
    // Process 1 reads the second input, a pipe nobody writes: it connects,
    // then waits in its read until it is killed.
    let fifo = d.join("stalled.csv");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let hosts = hostfile(d);
    let hosts = hosts.to_str().unwrap();
    let start = |p: &str| {
        Command::new(env!("CARGO_BIN_EXE_hydra"))
            .current_dir(d)
            .args(["-v", "dist", "--input", "sim/events.csv", "stalled.csv", "--out", "out"])
            .args(["-n", "2", "-p", p, "-h", hosts, "--connect-timeout", "30"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut p0 = start("0");
    let mut p1 = start("1");
    let (tx, rx) = mpsc::channel();
    let stderr = p1.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("connected to all 2 processes") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30)).expect("process 1 connects");
    p1.kill().unwrap();
    p1.wait().unwrap();
    let started = Instant::now();
    let out = loop {
        if p0.try_wait().unwrap().is_some() {
            break p0.wait_with_output().unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "process 0 did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "process 0 must fail: {stderr}");
    assert!(stderr.contains("lost the connection to process 1"), "{stderr}");
    assert!(stderr.contains("no output was written"), "{stderr}");
    assert!(!d.join("out").exists(), "a failed run leaves no output directory");
}
