//! `hydra explain`: why one account is or is not flagged, for appeals.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use hydra_detect::Detector;

use crate::detect::{Input, Settings};

/// Explain the verdict on one account: its indicators, strongest links,
/// community, signals and (for a replacement) the banned accounts it took
/// over from.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Event file, as for `hydra detect` (`-` reads standard input).
    #[arg(long, short, value_name = "EVENTS")]
    input: PathBuf,
    /// The account to explain.
    #[arg(long, short, value_name = "ID")]
    account: String,
    #[command(flatten)]
    settings: Settings,
    /// Print the explanation as JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.settings.config()?;
    let input = Input::open(&args.input, &config)?;
    let detector = Detector::new(config);
    let result = detector.explain(input.path(), &args.account);
    let explanation = result.with_context(|| format!("cannot explain {:?}", args.account))?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &explanation)?;
        writeln!(stdout)?;
    } else {
        // Account ids and indicator values come from the input.
        write!(stdout, "{}", crate::terminal::safe(&explanation.to_string()))?;
    }
    Ok(())
}
