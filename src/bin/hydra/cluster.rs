//! `hydra cluster`: community detection on a plain edge-list file.
//!
//! Reads `u v [w]` lines (see `hydra_detect::community::read_edge_list`),
//! runs Leiden, label propagation or connected components, and writes one
//! community id per line (line `i` is node `i`). Prints the time of each
//! phase, the number of communities and the modularity, and with `--truth`
//! the NMI and ARI against a reference partition in the same format.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use crate::{exit, progress};
use hydra_detect::community::{
    EdgeListConfig, LabelPropagationConfig, LeidenConfig, Partition, Quality, ari,
    connected_components, cpm, label_propagation, leiden, modularity, nmi, read_edge_list,
};

/// Detect communities in an edge-list graph; write one community id per node.
///
/// Input: one edge a line, `u v` or `u v w` (0-based node ids, `#` comments).
/// Output: line i holds the community of node i (communities numbered from 0
/// by their smallest node). Prints timings, the community count, modularity,
/// and with --truth the NMI and ARI against the reference.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Edge-list file: `u v` or `u v w` per line.
    #[arg(long, value_name = "FILE")]
    edges: PathBuf,
    /// Algorithm: leiden, lpa (label propagation) or wcc (connected components).
    #[arg(long, value_enum, default_value_t = Algo::Leiden)]
    algo: Algo,
    /// Quality function optimised by Leiden.
    #[arg(long, value_enum, default_value_t = QualityArg::Modularity)]
    quality: QualityArg,
    /// Resolution γ of the quality function (also used for the modularity printed).
    #[arg(long, default_value_t = 1.0, value_name = "G")]
    resolution: f64,
    /// Random seed (Leiden, label propagation): same seed, same output.
    #[arg(long, default_value_t = 42, value_name = "S")]
    seed: u64,
    /// Leiden: stop once an iteration raises the quality by at most this
    /// fraction (0: iterate until no improvement).
    #[arg(long, value_name = "T", default_value_t = LeidenConfig::new().get_tolerance())]
    tolerance: f64,
    /// Leiden: at most N iterations (default: as the tolerance allows).
    #[arg(long, value_name = "N")]
    max_iterations: Option<usize>,
    /// Leiden: local moving one node at a time on every level, instead of
    /// in parallel batches on large levels (the default; both give the same
    /// result on any thread count, but not the same as each other).
    #[arg(long)]
    sequential_moving: bool,
    /// The graph has at least N nodes (isolated nodes after the largest id).
    #[arg(long, value_name = "N")]
    nodes: Option<usize>,
    /// Refuse graphs of more than N nodes (guards against a stray huge id).
    #[arg(long, value_name = "N", default_value_t = EdgeListConfig::new().get_max_node_count())]
    max_nodes: usize,
    /// Reference partition, one community id per line: print NMI and ARI against it.
    #[arg(long, value_name = "FILE")]
    truth: Option<PathBuf>,
    /// Output file (written whole or not at all).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Which detection algorithm to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Algo {
    /// Leiden (Traag, Waltman and van Eck 2019).
    Leiden,
    /// Label propagation (Raghavan, Albert and Kumara 2007).
    Lpa,
    /// Weakly connected components.
    Wcc,
}

/// The quality function for Leiden.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum QualityArg {
    /// Newman-Girvan modularity with resolution γ.
    Modularity,
    /// Constant Potts model with resolution γ.
    Cpm,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    if !(args.resolution.is_finite() && args.resolution >= 0.0) {
        return Err(exit::usage(format!(
            "--resolution {} is not a finite non-negative number",
            args.resolution
        )));
    }
    let mut config = EdgeListConfig::new().max_node_count(args.max_nodes);
    if let Some(n) = args.nodes {
        config = config.min_node_count(n);
    }
    progress::start("read");
    let graph = read_edge_list(&args.edges, &config)
        .with_context(|| format!("cannot load graph from {}", args.edges.display()))?;
    let read_time = started.elapsed();
    progress::done("read");
    tracing::info!(
        nodes = graph.node_count(),
        edges = graph.edge_count(),
        secs = read_time.as_secs_f64(),
        "read"
    );
    // Read the truth before detecting, so a bad file fails fast.
    let truth = match &args.truth {
        Some(path) => {
            let truth = read_truth(path)
                .with_context(|| format!("cannot read truth {}", path.display()))?;
            if truth.node_count() != graph.node_count() {
                return Err(exit::input(format!(
                    "truth {} has {} lines but the graph has {} nodes (use --nodes if the last \
                     nodes are isolated)",
                    path.display(),
                    truth.node_count(),
                    graph.node_count()
                )));
            }
            Some(truth)
        }
        None => None,
    };

    let quality = match args.quality {
        QualityArg::Modularity => Quality::Modularity { resolution: args.resolution },
        QualityArg::Cpm => Quality::Cpm { resolution: args.resolution },
    };
    let detect_started = Instant::now();
    progress::start("communities");
    let partition = match args.algo {
        Algo::Leiden => {
            let config = LeidenConfig::new()
                .quality(quality)
                .seed(args.seed)
                .tolerance(args.tolerance)
                .max_iterations(args.max_iterations)
                .parallel_moving(!args.sequential_moving);
            config.validate(&graph)?;
            leiden(&graph, &config)
        }
        Algo::Lpa => label_propagation(&graph, &LabelPropagationConfig::new().seed(args.seed)),
        Algo::Wcc => connected_components(&graph),
    };
    let detect_time = detect_started.elapsed();
    progress::done("communities");
    tracing::info!(
        communities = partition.community_count(),
        largest = partition.community_sizes().into_iter().max().unwrap_or(0),
        secs = detect_time.as_secs_f64(),
        "communities"
    );

    let write_started = Instant::now();
    progress::start("write");
    write_membership(&args.out, &partition)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    progress::done("write");
    crate::detect::log_written(std::slice::from_ref(&args.out), write_started.elapsed());

    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "read: {:.3} s ({} nodes, {} edges)",
        read_time.as_secs_f64(),
        graph.node_count(),
        graph.edge_count()
    )?;
    let algo = match args.algo {
        Algo::Leiden => format!("leiden, {:?}", args.quality).to_lowercase(),
        Algo::Lpa => "lpa".to_owned(),
        Algo::Wcc => "wcc".to_owned(),
    };
    writeln!(stdout, "detect: {:.3} s ({algo})", detect_time.as_secs_f64())?;
    writeln!(stdout, "communities: {}", partition.community_count())?;
    // Modularity at the given resolution, except for CPM, whose γ is on
    // another scale: there modularity is at 1 and CPM at γ.
    let mod_resolution = match args.quality {
        QualityArg::Cpm if args.algo == Algo::Leiden => 1.0,
        _ => args.resolution,
    };
    writeln!(
        stdout,
        "modularity: {:.6} (resolution {mod_resolution})",
        modularity(&graph, &partition, mod_resolution)
    )?;
    if args.quality == QualityArg::Cpm && args.algo == Algo::Leiden {
        writeln!(
            stdout,
            "cpm: {:.6} (resolution {})",
            cpm(&graph, &partition, args.resolution),
            args.resolution
        )?;
    }
    if let Some(truth) = &truth {
        writeln!(stdout, "nmi: {:.6}", nmi(&partition, truth))?;
        writeln!(stdout, "ari: {:.6}", ari(&partition, truth))?;
    }
    writeln!(stdout, "wrote: {}", args.out.display())?;
    writeln!(stdout, "total: {:.3} s", started.elapsed().as_secs_f64())?;
    Ok(())
}

/// Reads a partition written one community id (a non-negative integer) per line.
fn read_truth(path: &Path) -> anyhow::Result<Partition> {
    let bytes = std::fs::read(path)?;
    let text = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    let mut labels = Vec::with_capacity(text.len() / 4 + 1);
    if text.is_empty() {
        return Ok(Partition::from_membership(labels));
    }
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let token = line.trim_ascii();
        let label = std::str::from_utf8(token).ok().and_then(|s| s.parse::<u32>().ok());
        match label {
            Some(label) => labels.push(label),
            None => {
                return Err(exit::input(format!(
                    "line {}: bad community id \"{}\" (expected one non-negative integer per line)",
                    i + 1,
                    String::from_utf8_lossy(&token[..token.len().min(40)])
                )));
            }
        }
    }
    Ok(Partition::from_membership(labels))
}

/// Writes one community id per line into `path`, whole or not at all.
fn write_membership(path: &Path, partition: &Partition) -> anyhow::Result<()> {
    crate::out::write_file(path, |w| {
        for &c in partition.membership() {
            writeln!(w, "{c}")?;
        }
        Ok(())
    })
}
