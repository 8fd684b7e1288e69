//! # Parquet read throughput, against CSV on the same events
//!
//! Reads one event log as CSV and as Parquet with `read_events` (strict,
//! every field validated into events in memory) and prints events per
//! second and megabytes of file per second for each, best of three runs.
//!
//! The events are the simulator's `small` preset (seed 1), or a CSV file
//! named on the command line. The Parquet file is written from the same
//! events with arrow-rs's `ArrowWriter` as a warehouse would write it:
//! `ts` Int64 unix seconds, strings as Utf8, snappy, row groups of 128 Ki
//! rows (Parquet's dictionary encoding on, the writer's default).
//!
//! Run it with `cargo run --release --features parquet --example
//! parquet_throughput [EVENTS.csv]`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hydra_detect::arrow::arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use hydra_detect::sim::{SimConfig, Simulator};
use hydra_detect::{Action, Error, Event, IngestConfig, Result, read_events};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// Rows per Parquet row group.
const ROW_GROUP: usize = 128 * 1024;

fn main() -> Result<()> {
    let scratch = tempfile::tempdir()
        .map_err(|e| Error::io("cannot create a temporary directory", None, e))?;
    let csv = match std::env::args_os().nth(1) {
        Some(path) => PathBuf::from(path),
        None => {
            let path = scratch.path().join("events.csv");
            let sim = Simulator::new(SimConfig::small().seed(1))?.generate()?;
            let file = std::fs::File::create(&path)
                .map_err(|e| Error::io("cannot create events.csv", Some(path.clone()), e))?;
            sim.write_events_csv(std::io::BufWriter::new(file), |_| {})?;
            path
        }
    };
    let (events, _) = read_events(&csv, &IngestConfig::new())?;
    let parquet = scratch.path().join("events.parquet");
    write_parquet(&parquet, &events)?;

    println!("{} events", events.len());
    println!("| input | file size | best of 3 | events/s | MB/s |");
    println!("|---|---|---|---|---|");
    for (name, path) in [("CSV", &csv), ("Parquet (snappy)", &parquet)] {
        let size = std::fs::metadata(path)
            .map_err(|e| Error::io("cannot stat the input", Some(path.clone()), e))?
            .len();
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let (read, _) = read_events(path, &IngestConfig::new())?;
            best = best.min(started.elapsed());
            assert_eq!(read.len(), events.len(), "{name} read another number of events");
        }
        let secs = best.as_secs_f64();
        println!(
            "| {name} | {:.1} MB | {:.3} s | {:.2} M | {:.0} |",
            size as f64 / 1e6,
            secs,
            events.len() as f64 / secs / 1e6,
            size as f64 / secs / 1e6
        );
    }
    Ok(())
}

/// Writes `events` as Parquet to `path`.
fn write_parquet(path: &Path, events: &[Event]) -> Result<()> {
    let fail = |e: parquet::errors::ParquetError| {
        Error::io(
            "cannot write events.parquet",
            Some(path.to_owned()),
            std::io::Error::other(e.to_string()),
        )
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_size(ROW_GROUP)
        .build();
    let file = std::fs::File::create(path)
        .map_err(|e| Error::io("cannot create events.parquet", Some(path.to_owned()), e))?;
    let mut writer: Option<ArrowWriter<std::fs::File>> = None;
    for chunk in events.chunks(ROW_GROUP) {
        let text = |f: &dyn Fn(&Event) -> Option<&str>| -> ArrayRef {
            Arc::new(chunk.iter().map(f).collect::<StringArray>())
        };
        let columns = [
            ("ts", Arc::new(chunk.iter().map(|e| e.ts).collect::<Int64Array>()) as ArrayRef),
            ("account", text(&|e| Some(e.account.as_str()))),
            ("event", text(&|e| Some(e.action.name()))),
            (
                "kind",
                text(&|e| match &e.action {
                    Action::Observe(i) => Some(i.kind.as_str()),
                    _ => None,
                }),
            ),
            (
                "value",
                text(&|e| match &e.action {
                    Action::Observe(i) => Some(i.value.as_str()),
                    _ => None,
                }),
            ),
            (
                "reason",
                text(&|e| match &e.action {
                    Action::Ban { reason } => reason.as_deref(),
                    _ => None,
                }),
            ),
        ];
        let batch = RecordBatch::try_from_iter(columns).map_err(|e| fail(e.into()))?;
        if writer.is_none() {
            let file = file
                .try_clone()
                .map_err(|e| Error::io("cannot write events.parquet", Some(path.to_owned()), e))?;
            writer = Some(
                ArrowWriter::try_new(file, batch.schema(), Some(props.clone())).map_err(fail)?,
            );
        }
        if let Some(w) = writer.as_mut() {
            w.write(&batch).map_err(fail)?;
        }
    }
    if let Some(w) = writer {
        w.close().map_err(fail)?;
    }
    Ok(())
}
