//! # Scale run: index and projection at platform size
//!
//! How long do building the account–indicator index and projecting the
//! account graph take on a platform of a million accounts, and how much
//! memory do they need?
//!
//! We will:
//!
//! 1. generate a synthetic platform (solo users, households, offices, mobile
//!    users behind carrier-grade NAT, hydra rings, popular templates) as a
//!    stream of observations, and time the generator alone;
//! 2. feed the same stream into a `GraphBuilder` and freeze the index;
//! 3. project the account graph and print its summary;
//! 4. report the peak resident memory (VmHWM) of the whole run.
//!
//! Run with `cargo run --release --example scale_graph -- [ACCOUNTS] [OBSERVATIONS]`
//! (or `HYDRA_ACCOUNTS` / `HYDRA_OBSERVATIONS`); defaults 1,000,000 accounts
//! and 10,000,000 observations. Results go to BENCHMARKS.md.
//!
//! With `HYDRA_INPUT=events.csv` (or `.jsonl`, optionally `.gz`) the events
//! come from that file instead: the example first times the reader alone
//! (rows per second), then reading and adding, freezing and projecting.

#[path = "../benches/common/mod.rs"]
mod common;

mod proc_stats;

use proc_stats::{cpu_secs, peak_mib};
use std::time::Instant;

use hydra_detect::{EventReader, GraphBuilder, GraphConfig, IngestConfig};

/// A count from the `pos`-th argument, else the environment, else `default`.
fn arg(pos: usize, var: &str, default: u64) -> hydra_detect::Result<u64> {
    let text = std::env::args().nth(pos).or_else(|| std::env::var(var).ok());
    match text {
        None => Ok(default),
        Some(t) => t.replace('_', "").parse().map_err(|_| {
            hydra_detect::Error::invalid_argument(format!(
                "{var} must be a whole number, got {t:?}"
            ))
        }),
    }
}

/// The file mode: the reader alone, then the whole pipeline on `path`.
fn from_file(path: &std::path::Path) -> hydra_detect::Result<()> {
    let config = IngestConfig::new();
    println!("input: {} ({} threads)", path.display(), rayon::current_num_threads());

    // ## 1. The reader alone
    let (start, cpu) = (Instant::now(), cpu_secs());
    let mut rows = 0u64;
    for record in EventReader::open(path, &config)? {
        record?;
        rows += 1;
    }
    let read = start.elapsed().as_secs_f64();
    let read_cpu = cpu_secs() - cpu;
    println!(
        "read: {rows} rows in {read:.2} s (cpu {read_cpu:.2} s): {:.0} rows/s wall, {:.0} rows/s cpu",
        rows as f64 / read,
        rows as f64 / read_cpu.max(1e-9)
    );

    // ## 2. Read and add, freeze, project
    let (start, cpu) = (Instant::now(), cpu_secs());
    let mut builder = GraphBuilder::new(GraphConfig::new());
    for record in EventReader::open(path, &config)? {
        let record = record?;
        builder.add(record.line, &record.event)?;
    }
    let add = start.elapsed().as_secs_f64();
    let add_cpu = cpu_secs() - cpu;
    let (start, cpu) = (Instant::now(), cpu_secs());
    let index = builder.index();
    let freeze = start.elapsed().as_secs_f64();
    let freeze_cpu = cpu_secs() - cpu;
    let (start, cpu) = (Instant::now(), cpu_secs());
    let summary = index.summarize();
    let project = start.elapsed().as_secs_f64();
    let project_cpu = cpu_secs() - cpu;
    println!("{summary}");
    println!(
        "read + add {add:.2} s (cpu {add_cpu:.2} s), freeze {freeze:.2} s (cpu {freeze_cpu:.2} s), \
         projection + summary {project:.2} s (cpu {project_cpu:.2} s)"
    );
    match peak_mib() {
        Some(mib) => println!("peak memory (VmHWM): {mib:.0} MiB"),
        None => println!("peak memory: not available on this system"),
    }
    Ok(())
}

fn main() -> hydra_detect::Result<()> {
    if let Some(path) = std::env::var_os("HYDRA_INPUT") {
        return from_file(std::path::Path::new(&path));
    }
    let accounts = arg(1, "HYDRA_ACCOUNTS", 1_000_000)?;
    let observations = arg(2, "HYDRA_OBSERVATIONS", 10_000_000)?;
    let platform = common::Platform::new(accounts, observations, 42);
    println!(
        "platform: {accounts} accounts, {observations} observations, {} threads",
        rayon::current_num_threads()
    );

    // ## 1. The generator alone
    //
    // Formatting ten million strings is not free; time it on its own so that
    // the ingest figure below can be read net of it.
    let (start, cpu) = (Instant::now(), cpu_secs());
    let mut bytes = 0usize;
    platform.for_each(|e| bytes += e.account.len());
    let generate = start.elapsed().as_secs_f64();
    let generate_cpu = cpu_secs() - cpu;
    println!("generate: {generate:.2} s (cpu {generate_cpu:.2} s; stream only)");

    // ## 2. Ingest: add every event, then freeze the index
    //
    // `add` interns strings and buffers compact records; `index` sorts ids
    // into key order and builds both posting lists and the bitmaps.
    let (start, cpu) = (Instant::now(), cpu_secs());
    let mut builder = GraphBuilder::new(GraphConfig::new());
    let mut line = 1;
    let mut failed = None;
    platform.for_each(|e| {
        line += 1;
        if failed.is_none()
            && let Err(err) = builder.add(line, e)
        {
            failed = Some(err);
        }
    });
    if let Some(err) = failed {
        return Err(err);
    }
    let add = start.elapsed().as_secs_f64();
    let add_cpu = cpu_secs() - cpu;
    let (start, cpu) = (Instant::now(), cpu_secs());
    let index = builder.index();
    let freeze = start.elapsed().as_secs_f64();
    let freeze_cpu = cpu_secs() - cpu;
    println!(
        "index: {} accounts, {} indicators, {} links, ~{} MiB",
        index.account_count(),
        index.indicator_count(),
        index.link_count(),
        index.heap_bytes() >> 20
    );
    let ingest = add - generate + freeze;
    let ingest_cpu = add_cpu - generate_cpu + freeze_cpu;
    println!(
        "ingest: {ingest:.2} s net of the generator (add {add:.2} s incl. generating, freeze {freeze:.2} s); \
         cpu {ingest_cpu:.2} s (add {add_cpu:.2} s, freeze {freeze_cpu:.2} s)"
    );

    // ## 3. Projection
    let (start, cpu) = (Instant::now(), cpu_secs());
    let summary = index.summarize();
    let project = start.elapsed().as_secs_f64();
    let project_cpu = cpu_secs() - cpu;
    println!("{summary}");
    println!("projection: {:.2} s (summary included: {project:.2} s)", summary.projection_secs());

    // ## 4. Totals
    println!(
        "index + projection: {:.2} s wall, {:.2} s cpu (summary included)",
        ingest + summary.projection_secs(),
        ingest_cpu + project_cpu
    );
    match peak_mib() {
        Some(mib) => println!("peak memory (VmHWM): {mib:.0} MiB"),
        None => println!("peak memory: not available on this system"),
    }
    Ok(())
}
