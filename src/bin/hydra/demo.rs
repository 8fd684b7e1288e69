//! `hydra demo`: simulate a platform in memory, detect its hydras, show the
//! evidence and the evaluation against the simulator's truth, write the
//! reports.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use hydra_detect::eval::{AccountFlags, EvalInput, evaluate};
use hydra_detect::sim::{SimConfig, Simulator};
use hydra_detect::{Config, Detection, Detector, Event};

use crate::detect::{format_timings, summary, thousands, write_reports};
use crate::progress;

/// Simulate the demo platform (about 100,000 accounts, five hydra
/// operators), detect its hydra clusters, and compare with the truth.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Directory for accounts.csv, clusters.json, report.html and clusters.graphml.
    #[arg(long, short, value_name = "DIR", default_value = "hydra-demo")]
    out: PathBuf,
    /// Simulator seed (the detection seed is the configuration's).
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Hydra clusters to show with their evidence.
    #[arg(long, value_name = "N", default_value_t = 5)]
    top: usize,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut timings: Vec<(String, Duration)> = Vec::new();
    // Before the run: an unwritable --out fails now, not after the work.
    let staged = crate::out::Staged::new(&args.out)?;

    let sim_config = SimConfig::demo().seed(args.seed);
    progress::start("simulate");
    let sim = Simulator::new(sim_config)?
        .generate_with_progress(|n| progress::advance("simulate", "accounts", n, 0))?;
    progress::done("simulate");
    crate::simulate::log_simulated(&sim, started.elapsed());
    timings.push(("simulate".to_owned(), started.elapsed()));

    // The detector takes plain events; the simulator's stream can fail (a
    // spilled run unreadable), so the first error is kept aside and stops
    // the stream, and is reported once detection returns.
    let detect_started = Instant::now();
    let failure: RefCell<Option<hydra_detect::Error>> = RefCell::new(None);
    let events = sim.events()?.map_while(|e: hydra_detect::Result<Event>| match e {
        Ok(event) => Some(event),
        Err(err) => {
            *failure.borrow_mut() = Some(err);
            None
        }
    });
    let result = Detector::new(Config::new()).detect_events(events);
    if let Some(err) = failure.into_inner() {
        return Err(err).context("cannot read the simulated events");
    }
    let mut detection = result.context("detection failed")?;
    detection.run.input = format!("simulation: demo preset, seed {}", args.seed);
    timings.push(("detect".to_owned(), detect_started.elapsed()));

    let eval_started = Instant::now();
    let flags = AccountFlags::from_detection(&detection);
    let report = evaluate(&EvalInput::new(sim.truth(), &flags))?;
    timings.push(("evaluate".to_owned(), eval_started.elapsed()));
    crate::eval::log_report(&report, eval_started.elapsed());

    let write_started = Instant::now();
    let written = write_reports(&detection, &hydra_detect::GraphmlConfig::new(), staged)?;
    timings.push(("write".to_owned(), write_started.elapsed()));
    crate::detect::log_written(&written, write_started.elapsed());
    timings.push(("total".to_owned(), started.elapsed()));

    let s = sim.summary();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "simulated platform (seed {}): {} accounts, {} events, {} hydra operators",
        s.seed,
        thousands(s.accounts),
        thousands(s.events),
        s.operators.len()
    );
    text.push('\n');
    text.push_str(&summary(&detection, args.top));
    text.push('\n');
    evidence(&mut text, &detection, args.top);
    let _ = writeln!(text, "evaluation against the simulator's truth:");
    for line in report.to_string().lines() {
        let _ = writeln!(text, "  {line}");
    }
    let _ = writeln!(text, "\ntimings: {}", format_timings(&timings));
    let _ = writeln!(text, "reports written to {}:", args.out.display());
    for p in &written {
        let _ = writeln!(text, "  {}", p.display());
    }
    if let Some(html) = written.iter().find(|p| p.ends_with("report.html")) {
        let _ = writeln!(text, "open {} in a browser for the full picture", html.display());
    }
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

/// The evidence of the top `top` hydra clusters: their most shared
/// indicators, banned members and lifecycle.
fn evidence(text: &mut String, detection: &Detection, top: usize) {
    let mut hydras: Vec<_> = detection.hydra_clusters().collect();
    hydras.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    for (rank, c) in hydras.iter().enumerate().take(top) {
        let _ = writeln!(
            text,
            "#{} {} (score {:.3}, {} accounts)",
            rank + 1,
            c.id,
            c.score,
            thousands(c.size as u64)
        );
        for i in c.evidence.top_indicators.iter().take(4) {
            let _ = writeln!(
                text,
                "    {:<10} {:<28} on {} of {} members",
                i.kind.as_str(),
                i.value,
                i.accounts,
                c.size
            );
        }
        let l = &c.lifecycle;
        let _ = write!(
            text,
            "    {} banned, {} signed up after the first ban, {} IPs, {} payment methods",
            l.bans,
            l.signups_after_first_ban,
            thousands(l.ip_pool as u64),
            thousands(l.payment_pool as u64)
        );
        if let Some(secs) = l.median_ban_to_replacement_secs {
            let _ = write!(text, ", median ban → next signup {:.1} min", secs as f64 / 60.0);
        }
        text.push('\n');
    }
    if !hydras.is_empty() {
        text.push('\n');
    }
}
