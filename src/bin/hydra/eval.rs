//! `hydra eval`: detection quality against a simulator's ground truth.

use std::io::Write;
use std::path::PathBuf;

use hydra_detect::eval::{AccountFlags, EvalInput, FlagStream, Truth, evaluate};

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

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let truth = Truth::read_csv(&args.truth)?;
    let accounts = AccountFlags::read_csv(&args.accounts)?;
    let stream = args.watch.as_deref().map(FlagStream::read_jsonl).transpose()?;
    let mut input = EvalInput::new(&truth, &accounts);
    if let Some(s) = &stream {
        input = input.watch(s);
    }
    if let Some(e) = &args.events {
        input = input.events(e);
    }
    let report = evaluate(&input)?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        write!(stdout, "{report}")?;
    }
    stdout.flush()?;
    Ok(())
}
