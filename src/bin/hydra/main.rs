//! `hydra`: the command-line client of `hydra_detect`.
//!
//! A thin client: each subcommand parses its flags, converts them to the
//! library's configs and calls the public API. One file per subcommand.
//!
//! Output goes through `write!` on a locked standard output, never
//! `print!`, which panics when the reader has gone (`hydra eval | head -1`);
//! a broken pipe is success (see [`is_broken_pipe`]).
#![deny(clippy::print_stdout)]

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cluster;
mod demo;
mod detect;
mod eval;
mod exit;
mod explain;
mod graph;
mod out;
mod progress;
mod simulate;
mod stdin;
mod terminal;
mod watch;

/// Find hydra clusters: proxy networks of fraudulent accounts.
#[derive(Debug, Parser)]
#[command(name = "hydra", version, about, propagate_version = true)]
struct Cli {
    /// More logs on standard error (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Worker threads (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Detect communities in an edge-list graph (Leiden, label propagation, components).
    Cluster(cluster::Args),
    /// Find hydra clusters in an event file; write accounts.csv, clusters.json, report.html, clusters.graphml.
    Detect(detect::Args),
    /// Simulate a platform, detect its hydras, evaluate against the truth, write the reports.
    Demo(demo::Args),
    /// Explain why one account is or is not flagged (for appeals).
    Explain(explain::Args),
    /// Simulate a platform with hydra operators; write events.csv and truth.csv.
    Simulate(simulate::Args),
    /// Evaluate accounts.csv (and a watch stream) against truth.csv.
    Eval(eval::Args),
    /// Build the account graph of an event file; write graph.json.
    Graph(graph::Args),
    Watch(watch::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.verbose);
    let result = configure_threads(cli.threads).and_then(|()| run(cli.command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {}", terminal::safe(&err.to_string()));
            for cause in err.chain().skip(1) {
                let _ = writeln!(stderr, "  caused by: {}", terminal::safe(&cause.to_string()));
            }
            ExitCode::from(exit::code(&err) as u8)
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Cluster(args) => cluster::run(args),
        Command::Detect(args) => detect::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Watch(args) => watch::run(args),
    }
}

fn init_logs(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn configure_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = threads {
        if n == 0 {
            return Err(exit::usage("--threads must be at least 1"));
        }
        rayon::ThreadPoolBuilder::new().num_threads(n).build_global()?;
    }
    Ok(())
}

/// `hydra watch | head` closes our standard output early: that is success.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
