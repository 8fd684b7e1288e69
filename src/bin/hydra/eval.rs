//! `hydra eval`: detection quality against a simulator's ground truth.

use std::io::Write;
use std::path::PathBuf;

use hydra_detect::eval::{AccountFlags, EvalInput, FlagStream, Report, Truth, evaluate};

use crate::progress;

/// Evaluate accounts.csv (and a watch flag stream) against truth.csv.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Ground truth (`hydra simulate`'s truth.csv).
    #[arg(long, value_name = "FILE")]
    truth: PathBuf,
    /// Batch verdict (`hydra detect`'s accounts.csv).
    #[arg(long, value_name = "FILE")]
    accounts: PathBuf,
    /// `hydra watch` output (JSON Lines flags) to evaluate as well.
    #[arg(long, value_name = "FILE")]
    watch: Option<PathBuf>,
    /// The events the watcher read, for time-to-flag (needs --watch).
    #[arg(long, value_name = "FILE", requires = "watch")]
    events: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Logs (`-v`) the headline figures of an evaluation and its time.
pub(crate) fn log_report(report: &Report, time: std::time::Duration) {
    tracing::info!(
        truth_accounts = report.truth_accounts,
        hydra_accounts = report.hydra_accounts,
        true_positives = report.hydra.true_positives,
        false_positives = report.hydra.false_positives,
        false_negatives = report.hydra.false_negatives,
        secs = time.as_secs_f64(),
        "evaluate"
    );
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    progress::start("read");
    let truth = Truth::read_csv(&args.truth)?;
    let accounts = AccountFlags::read_csv(&args.accounts)?;
    let stream = args.watch.as_deref().map(FlagStream::read_jsonl).transpose()?;
    progress::done("read");
    tracing::info!(
        truth = truth.len(),
        accounts = accounts.len(),
        watch_flags = stream.as_ref().map_or(0, |s| s.flags().len()),
        secs = started.elapsed().as_secs_f64(),
        "read"
    );
    let mut input = EvalInput::new(&truth, &accounts);
    if let Some(s) = &stream {
        input = input.watch(s);
    }
    if let Some(e) = &args.events {
        input = input.events(e);
    }
    let eval_started = std::time::Instant::now();
    progress::start("evaluate");
    let report = evaluate(&input)?;
    progress::done("evaluate");
    log_report(&report, eval_started.elapsed());
    let mut stdout = std::io::stdout().lock();
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        write!(stdout, "{report}")?;
    }
    stdout.flush()?;
    Ok(())
}
