//! `hydra graph`: build the account graph of an event file and write its
//! summary, `graph.json` (schema `hydra-detect/graph/1`).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use hydra_detect::{ErrorKind, EventReader, Format, GraphBuilder, GraphSummary, IngestConfig};

use crate::detect::{FormatArg, load_config};
use crate::out::{self, Staged};
use crate::progress;

/// Build the account graph of an event file and write DIR/graph.json.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Event file: CSV or JSON Lines (by suffix or --format), optionally .gz,
    /// or Parquet (.parquet; needs the `parquet` feature); `-` reads standard
    /// input (gzip or not).
    #[arg(long, short, value_name = "EVENTS")]
    input: PathBuf,
    /// Directory to write graph.json into (created if missing).
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
    /// Skip malformed rows (counted and reported) instead of stopping.
    #[arg(long)]
    lenient: bool,
    /// Input format, overriding the file suffix (standard input: csv unless set).
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<FormatArg>,
    /// Supernode cap: indicators with more accounts link only within short
    /// time windows (default: the configuration's, 200).
    #[arg(long, value_name = "N")]
    cap: Option<usize>,
    /// Keep only each account's K strongest links (default: keep all).
    #[arg(long, value_name = "K")]
    top_k: Option<usize>,
    /// Configuration file (TOML, as `hydra detect --print-config` prints);
    /// its `[graph]` and `[ingest]` sections apply.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Events between progress updates.
const PROGRESS_EVERY: u64 = 1 << 16;

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = load_config(args.config.as_deref())?;
    let mut ingest: IngestConfig = config.get_ingest().clone();
    if args.lenient {
        ingest = ingest.lenient(true);
    }
    if let Some(format) = args.format {
        ingest = ingest.format(Some(format.format()));
    }
    let mut graph = config.get_graph().clone();
    if let Some(cap) = args.cap {
        graph = graph.supernode_cap(cap);
    }
    if let Some(k) = args.top_k {
        graph = graph.top_k(Some(k));
    }
    graph.validate()?;
    out::check_not_replacing(&args.input, &args.out, &["graph.json"])?;
    // Before the run: an unwritable --out fails now, not after the work.
    let mut staged = Staged::new(&args.out)?;

    let summary = if args.input.as_os_str() == "-" {
        let format = ingest.get_format().unwrap_or(Format::Csv);
        let stdin = crate::stdin::open().context("cannot read standard input")?;
        let reader = EventReader::new(stdin.decompressed(), format, &ingest)?;
        build(reader, GraphBuilder::new(graph), &ingest, "standard input")?
    } else {
        let name = args.input.display().to_string();
        let reader = EventReader::open(&args.input, &ingest)?;
        build(reader, GraphBuilder::new(graph), &ingest, &name)?
    };

    // Nothing is written unless every step above succeeded.
    staged.write("graph.json", |w| out::write_json(w, &summary))?;
    let written = staged.commit()?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{summary}")?;
    for path in written {
        writeln!(stdout, "wrote {}", path.display())?;
    }
    Ok(())
}

/// Reads every record into `builder` and summarizes the graph.
fn build<R: std::io::Read>(
    mut reader: EventReader<R>,
    mut builder: GraphBuilder,
    ingest: &IngestConfig,
    name: &str,
) -> anyhow::Result<GraphSummary> {
    let lenient = ingest.get_lenient();
    let bar = progress::counter("reading events");
    let mut rejected: Vec<(hydra_detect::InputProblem, String)> = Vec::new();
    let mut rejected_count = std::collections::BTreeMap::new();
    let mut count = 0u64;
    for record in reader.by_ref() {
        let record = record.with_context(|| format!("cannot read {name}"))?;
        if let Err(err) = builder.add(record.line, &record.event) {
            // The reader validates events already; this catches what only the
            // index checks, with the same strict/lenient rule.
            match err.kind() {
                ErrorKind::Input { problem, .. } if lenient => {
                    *rejected_count.entry(*problem).or_insert(0u64) += 1;
                    if rejected.len() < 10 {
                        rejected.push((*problem, err.to_string()));
                    }
                }
                _ => return Err(err).with_context(|| format!("cannot read {name}")),
            }
        }
        count += 1;
        if count.is_multiple_of(PROGRESS_EVERY) {
            bar.set_position(count);
        }
    }
    bar.finish_and_clear();
    let skipped = reader.skipped();
    for (problem, n) in skipped.iter() {
        builder.note_skipped(problem, n);
    }
    for (&problem, &n) in &rejected_count {
        builder.note_skipped(problem, n);
    }
    let total = skipped.total() + rejected_count.values().sum::<u64>();
    let examples = skipped.examples().iter().chain(rejected.iter().map(|(_, m)| m));
    crate::detect::warn_skipped(name, total, examples);
    let spinner = progress::step("building graph");
    let summary = builder.finish();
    spinner.finish_and_clear();
    Ok(summary)
}
