//! `hydra graph`: build the account graph of an event file and write its
//! summary, `graph.json` (schema `hydra-detect/graph/1`), and/or the graph
//! itself as an edge list with an id map (`--edges`).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use hydra_detect::community::{LeidenConfig, Quality};
use hydra_detect::{ErrorKind, EventIndex, EventReader, Format, GraphBuilder, IngestConfig};

use crate::detect::{FormatArg, load_config};
use crate::out::{self, Staged};
use crate::progress;

/// Build the account graph of an event file; write DIR/graph.json (its
/// summary) and/or, with --edges, the weighted graph as an edge list.
///
/// The edge list has one `u v w` line per edge (0-based account ids as the
/// rows of accounts.csv, `#` comments), the format `hydra cluster`, igraph
/// and NetworKit read; the id map (`id,account`) names each node.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Event file: CSV or JSON Lines (by suffix or --format), optionally .gz,
    /// or Parquet (.parquet; needs the `parquet` feature); `-` reads standard
    /// input (gzip or not).
    #[arg(long, short, value_name = "EVENTS")]
    input: PathBuf,
    /// Directory to write graph.json into (created if missing).
    #[arg(long, short, value_name = "DIR", required_unless_present = "edges")]
    out: Option<PathBuf>,
    /// Write the weighted account graph to FILE as an edge list.
    #[arg(long, value_name = "FILE")]
    edges: Option<PathBuf>,
    /// Write the id map (`id,account`) to FILE (default: the --edges file
    /// with `.ids.csv` appended).
    #[arg(long, value_name = "FILE", requires = "edges")]
    ids: Option<PathBuf>,
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
    let ids = args.edges.as_ref().map(|edges| match &args.ids {
        Some(ids) => ids.clone(),
        None => {
            let mut name = edges.as_os_str().to_owned();
            name.push(".ids.csv");
            PathBuf::from(name)
        }
    });
    for file in args.edges.iter().chain(&ids) {
        if file.canonicalize().is_ok_and(|f| args.input.canonicalize().is_ok_and(|i| i == f)) {
            return Err(crate::exit::usage(format!(
                "the input {} is the file {} that this run would replace",
                args.input.display(),
                file.display()
            )));
        }
    }
    if let (Some(edges), Some(ids)) = (&args.edges, &ids)
        && edges == ids
    {
        return Err(crate::exit::usage("--edges and --ids name the same file"));
    }
    // Before the run: an unwritable --out fails now, not after the work.
    let staged = match &args.out {
        Some(dir) => {
            out::check_not_replacing(&args.input, dir, &["graph.json"])?;
            Some(Staged::new(dir)?)
        }
        None => None,
    };

    let index = if args.input.as_os_str() == "-" {
        let format = ingest.get_format().unwrap_or(Format::Csv);
        let stdin = crate::stdin::open().context("cannot read standard input")?;
        let reader = EventReader::new(stdin.decompressed(), format, &ingest)?;
        build(reader, GraphBuilder::new(graph), &ingest, "standard input")?
    } else {
        let name = args.input.display().to_string();
        let reader = EventReader::open(&args.input, &ingest)?;
        build(reader, GraphBuilder::new(graph), &ingest, &name)?
    };
    let (summary, edges) = match args.edges {
        Some(_) => {
            let (summary, edges) = index.summarize_and_graph();
            (summary, Some(edges))
        }
        None => (index.summarize(), None),
    };
    drop(index);

    // Nothing is written unless every step above succeeded.
    let write_started = std::time::Instant::now();
    progress::start("write");
    let mut written = Vec::new();
    if let (Some(edges), Some(path), Some(ids)) = (&edges, &args.edges, &ids) {
        out::write_file(path, |w| Ok(edges.write_edge_list(w)?))
            .with_context(|| format!("cannot write {}", path.display()))?;
        out::write_file(ids, |w| Ok(edges.write_id_map(w)?))
            .with_context(|| format!("cannot write {}", ids.display()))?;
        written.push(path.clone());
        written.push(ids.clone());
    }
    if let Some(mut staged) = staged {
        staged.write("graph.json", |w| out::write_json(w, &summary))?;
        written.extend(staged.commit()?);
    }
    progress::done("write");
    crate::detect::log_written(&written, write_started.elapsed());

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{summary}")?;
    for path in &written {
        writeln!(stdout, "wrote {}", path.display())?;
    }
    if let (Some(edges), Some(path)) = (&edges, &args.edges) {
        writeln!(
            stdout,
            "communities as hydra detect finds them: {}",
            cluster_command(path, edges.node_count(), config.get_leiden())
        )?;
    }
    Ok(())
}

/// The `hydra cluster` command line that finds, on the edge list `path` of
/// `nodes` nodes, the communities `hydra detect` finds with `leiden`.
fn cluster_command(path: &std::path::Path, nodes: usize, leiden: &LeidenConfig) -> String {
    let (quality, resolution) = match leiden.get_quality() {
        Quality::Cpm { resolution } => ("cpm", resolution),
        Quality::Modularity { resolution } => ("modularity", resolution),
    };
    let mut command = format!(
        "hydra cluster --edges {} --nodes {nodes} --quality {quality} --resolution {resolution} \
         --seed {} --tolerance {}",
        path.display(),
        leiden.get_seed(),
        leiden.get_tolerance()
    );
    if let Some(n) = leiden.get_max_iterations() {
        command.push_str(&format!(" --max-iterations {n}"));
    }
    command.push_str(" --out communities.txt");
    command
}

/// Reads every record into `builder` and freezes its index.
fn build<R: std::io::Read>(
    mut reader: EventReader<R>,
    mut builder: GraphBuilder,
    ingest: &IngestConfig,
    name: &str,
) -> anyhow::Result<EventIndex> {
    let lenient = ingest.get_lenient();
    let started = std::time::Instant::now();
    progress::start("ingest");
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
            progress::advance("ingest", "events", count, 0);
        }
    }
    progress::done("ingest");
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
    tracing::info!(
        events = builder.event_count(),
        skipped = total,
        secs = started.elapsed().as_secs_f64(),
        "ingest"
    );
    Ok(builder.index())
}
