//! # Scale run: an LFR benchmark graph to files
//!
//! Community detection is judged on graphs whose communities are known. The
//! LFR benchmark (Lancichinetti, Fortunato and Radicchi 2008) plants them in a
//! graph with power-law degrees and community sizes, and a mixing parameter μ:
//! the fraction of each node's edges that leave its community.
//!
//! We will:
//!
//! 1. read the parameters from the command line into an `LfrConfig`;
//! 2. build the graph and its planted partition with `community::lfr`, timed;
//! 3. check what we got: realised degrees, mixing and community sizes;
//! 4. write the graph as an edge list (`u v` per line, what `hydra cluster`,
//!    NetworKit and igraph read) and the partition as one community id per line.
//!
//! Run with, for example,
//!
//! ```text
//! cargo run --release --example lfr -- --nodes 1000000 --mu 0.3 \
//!     --max-degree 200 --min-community 50 --max-community 1000 \
//!     --edges /tmp/lfr.txt --truth /tmp/lfr.truth
//! ```
//!
//! then `hydra cluster --edges /tmp/lfr.txt --truth /tmp/lfr.truth --out /tmp/lfr.out`.
//! Every flag is optional (defaults: those of `LfrConfig`, files in the
//! current directory). Results of the comparison go to BENCHMARKS.md.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use hydra_detect::community::{Graph, LfrConfig, Partition, lfr};
use hydra_detect::{Error, Result};

/// Where to write, and what to build.
struct Options {
    config: LfrConfig,
    edges: PathBuf,
    truth: PathBuf,
}

fn parse_args() -> Result<Options> {
    let mut config = LfrConfig::new();
    let mut edges = PathBuf::from("lfr.txt");
    let mut truth = PathBuf::from("lfr.truth");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value =
            args.next().ok_or_else(|| Error::invalid_argument(format!("{flag} needs a value")))?;
        let bad =
            |what: &str| Error::invalid_argument(format!("{flag} must be {what}, got \"{value}\""));
        let int = || value.replace('_', "").parse::<usize>().map_err(|_| bad("a whole number"));
        let real = || value.parse::<f64>().map_err(|_| bad("a number"));
        config = match flag.as_str() {
            "--nodes" => config.node_count(int()?),
            "--avg-degree" => config.average_degree(real()?),
            "--max-degree" => config.max_degree(int()?),
            "--tau1" => config.degree_exponent(real()?),
            "--tau2" => config.community_size_exponent(real()?),
            "--min-community" => config.min_community_size(int()?),
            "--max-community" => config.max_community_size(int()?),
            "--mu" => config.mixing(real()?),
            "--seed" => config.seed(int()? as u64),
            "--edges" => {
                edges = PathBuf::from(&value);
                config
            }
            "--truth" => {
                truth = PathBuf::from(&value);
                config
            }
            _ => {
                return Err(Error::invalid_argument(format!(
                    "unknown flag {flag} (expected --nodes, --avg-degree, --max-degree, --tau1, \
                     --tau2, --min-community, --max-community, --mu, --seed, --edges, --truth)"
                )));
            }
        };
    }
    Ok(Options { config, edges, truth })
}

fn main() -> Result<()> {
    let Options { config, edges, truth } = parse_args()?;
    println!("{config:?}");

    // ## 2. Build
    //
    // The generator is deterministic by seed, whatever the thread count.
    let started = Instant::now();
    let (graph, planted) = lfr(&config)?;
    println!(
        "generated {} nodes, {} edges in {:.2} s ({} threads)",
        graph.node_count(),
        graph.edge_count(),
        started.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );

    // ## 3. Check
    //
    // The generator repairs self-loops and repeated pairs best-effort, so the
    // realised figures are close to, not exactly, the requested ones.
    report(&graph, &planted, &config);

    // ## 4. Write
    //
    // No header comment: some tools (igraph's `Read_Edgelist`) reject one.
    let started = Instant::now();
    write_file(&edges, |w| {
        for (u, v, _) in graph.edges() {
            writeln!(w, "{u} {v}")?;
        }
        Ok(())
    })?;
    write_file(&truth, |w| {
        for &c in planted.membership() {
            writeln!(w, "{c}")?;
        }
        Ok(())
    })?;
    println!(
        "wrote {} and {} in {:.2} s",
        edges.display(),
        truth.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Prints the realised degree range, mixing and community sizes.
fn report(graph: &Graph, planted: &Partition, config: &LfrConfig) {
    let membership = planted.membership();
    let (mut min_degree, mut max_degree, mut external) = (usize::MAX, 0, 0usize);
    for u in 0..graph.node_count() as u32 {
        min_degree = min_degree.min(graph.degree(u));
        max_degree = max_degree.max(graph.degree(u));
        let c = membership[u as usize];
        external += graph.neighbors(u).filter(|&(v, _)| membership[v as usize] != c).count();
    }
    let sizes = planted.community_sizes();
    println!(
        "degree: mean {:.2} (asked {}), range {min_degree}..={max_degree} (max asked {})",
        2.0 * graph.edge_count() as f64 / graph.node_count() as f64,
        config.get_average_degree(),
        config.get_max_degree()
    );
    println!(
        "mixing: {:.4} of edge ends leave their community (asked {})",
        external as f64 / (2 * graph.edge_count()).max(1) as f64,
        config.get_mixing()
    );
    println!(
        "communities: {}, sizes {}..={} (asked {}..={})",
        sizes.len(),
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0),
        config.get_min_community_size(),
        config.get_max_community_size()
    );
}

/// Writes `path` through a buffer, naming the file in errors.
fn write_file(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let io = |e| Error::io(format!("cannot write {}", path.display()), Some(path.into()), e);
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    fill(&mut w).map_err(io)?;
    w.flush().map_err(io)?;
    Ok(())
}
