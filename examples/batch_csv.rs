//! # Batch detection over a CSV export
//!
//! The usual way to run hydra-detect is over an export from the data
//! warehouse: one CSV file of events (the input format of docs/FORMATS.md), in any
//! order. This example runs the whole batch pipeline on such a file and
//! writes the four report files, as `hydra detect` does.
//!
//! We will:
//!
//! 1. take the CSV file named on the command line, or write a small one
//!    (from the seeded simulator) into a temporary directory;
//! 2. run the `Detector` on it, strictly: a malformed row stops the run with
//!    its line number;
//! 3. write `accounts.csv`, `clusters.json`, `report.html` and
//!    `clusters.graphml`, and a redacted copy of `clusters.json` that can be
//!    shared without personal data.
//!
//! Run it with `cargo run --release --example batch_csv [EVENTS.csv] [OUT_DIR]`.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use hydra_detect::sim::{SimConfig, Simulator};
use hydra_detect::{
    Config, Detector, Error, Result, redact, write_accounts_csv, write_clusters_json,
    write_graphml, write_html,
};

fn main() -> Result<()> {
    // ## 1. The input
    //
    // With no argument, we simulate a small platform (3,000 accounts, three
    // operators) and write its events as CSV: the same bytes a warehouse
    // export would hold.
    let mut args = std::env::args_os().skip(1);
    let scratch = tempfile::tempdir()
        .map_err(|e| Error::io("cannot create a temporary directory", None, e))?;
    let input = match args.next() {
        Some(path) => PathBuf::from(path),
        None => {
            let path = scratch.path().join("events.csv");
            let config =
                SimConfig::small().accounts(3_000).operator_sizes(vec![300, 80, 40]).seed(7);
            let sim = Simulator::new(config)?.generate()?;
            let file = File::create(&path)
                .map_err(|e| Error::io("cannot create events.csv", Some(path.clone()), e))?;
            let events = sim.write_events_csv(BufWriter::new(file), |_| {})?;
            println!("wrote {events} simulated events to {}", path.display());
            path
        }
    };
    let out = args.next().map_or_else(|| scratch.path().join("report"), PathBuf::from);

    // ## 2. Detection
    //
    // `detect_path` streams the file (gzip and JSON Lines are recognised by
    // suffix) and records its SHA-256 in the run manifest, so a report can
    // be traced back to the exact bytes it came from.
    let detection = Detector::new(Config::new()).detect_path(&input)?;
    let hydras: Vec<_> = detection.hydra_clusters().collect();
    println!(
        "{} events, {} accounts, {} communities, {} hydra clusters, {} replacements",
        detection.run.events,
        detection.accounts.len(),
        detection.clusters.len(),
        hydras.len(),
        detection.replacements.len()
    );

    // ## 3. Reports
    //
    // Each writer takes the detection and any `std::io::Write`. Redaction is
    // a transformation of the detection itself, so a redacted copy can go to
    // any of the writers.
    std::fs::create_dir_all(&out)
        .map_err(|e| Error::io("cannot create the output directory", Some(out.clone()), e))?;
    let create = |name: &str| {
        let path = out.join(name);
        File::create(&path)
            .map(BufWriter::new)
            .map_err(|e| Error::io(format!("cannot create {name}"), Some(path), e))
    };
    write_accounts_csv(&detection, create("accounts.csv")?)?;
    write_clusters_json(&detection, create("clusters.json")?)?;
    write_html(&detection, create("report.html")?)?;
    write_graphml(&detection, create("clusters.graphml")?)?;
    let shared = redact(&detection, b"a secret kept by the team");
    write_clusters_json(&shared, create("clusters.redacted.json")?)?;
    println!("reports in {}", out.display());

    // The temporary directory (and the default output inside it) is removed
    // when `scratch` is dropped; name an output directory to keep them.
    if std::env::args_os().nth(2).is_none() {
        println!("(temporary: pass an output directory as the second argument to keep the files)");
    }
    Ok(())
}
