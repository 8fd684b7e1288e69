//! `hydra simulate`: a seeded platform with hydra operators, and its truth.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use hydra_detect::sim::{Preset, SimConfig, Simulator};

use crate::out::Staged;
use crate::progress;

/// Simulate a platform's event stream with hydra operators and ground truth.
///
/// Writes DIR/events.csv (`ts,account,event,kind,value,reason`, time order)
/// and DIR/truth.csv (`account,role,group,group_type,tags`, by account).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Size: small (~20k accounts), demo (~100k), medium (~200k), large (~2M).
    #[arg(long, default_value = "demo", value_name = "PRESET")]
    preset: String,
    /// Random seed: the same seed gives the same files.
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed: u64,
    /// Multiplier on accounts, operator sizes and pools (at most 10M accounts).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    scale: f64,
    /// Draw each operator's style and numbers from the seed (careful, never
    /// banned, pooled or one-to-one replacement, trickle bans, cloud egress,
    /// sparse fleets; pool sizes, ban and replacement rates) instead of the
    /// preset's fixed roles.
    #[arg(long)]
    varied: bool,
    /// Output directory (created if needed; files appear only when complete).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Print the summary as JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Logs (`-v`) what the simulator made and how long it took.
pub(crate) fn log_simulated(sim: &hydra_detect::sim::Simulation, time: std::time::Duration) {
    let s = sim.summary();
    tracing::info!(
        accounts = s.accounts,
        events = s.events,
        operators = s.operators.len(),
        secs = time.as_secs_f64(),
        "simulate"
    );
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let preset = Preset::parse(&args.preset)?;
    let config = SimConfig::preset(preset).seed(args.seed).scale(args.scale).varied(args.varied);
    let simulator = Simulator::new(config)?;
    let mut staged = Staged::new(&args.out)?;
    let started = std::time::Instant::now();
    progress::start("simulate");
    let sim =
        simulator.generate_with_progress(|n| progress::advance("simulate", "accounts", n, 0))?;
    progress::done("simulate");
    log_simulated(&sim, started.elapsed());
    let write_started = std::time::Instant::now();
    let events = sim.summary().events;
    progress::start("write");
    staged.write("events.csv", |w| {
        sim.write_events_csv(w, |n| progress::advance("write", "events", n, events))?;
        Ok(())
    })?;
    staged.write("truth.csv", |w| Ok(sim.truth().write_csv(w)?))?;
    let paths = staged.commit().context("cannot finish the output directory")?;
    progress::done("write");
    crate::detect::log_written(&paths, write_started.elapsed());
    let summary = sim.summary();
    let mut stdout = std::io::stdout().lock();
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(summary)?)?;
    } else {
        write!(stdout, "{summary}")?;
        writeln!(stdout, "  took {:.1} s", started.elapsed().as_secs_f64())?;
        for p in paths {
            writeln!(stdout, "  wrote {}", p.display())?;
        }
    }
    stdout.flush()?;
    Ok(())
}
