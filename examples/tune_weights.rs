//! # Tune the score weights against the simulator's ground truth
//!
//! Detection quality depends on the signal weights and the threshold in
//! `ScoreConfig`. This example measures it the way BENCHMARKS.md does, so you
//! can try a change and see what it does to precision and recall.
//!
//! We will:
//!
//! 1. simulate a platform with a known truth (`sim`, a preset and a seed),
//! 2. run the batch `Detector` on its events with a configuration (the
//!    defaults, or a TOML file given as third argument),
//! 3. compare the verdicts with the truth (`eval::evaluate`) and print the
//!    report, with the time each step took.
//!
//! Run: `cargo run --release --example tune_weights -- small 1 [config.toml]`
//! (presets: small, demo, medium, large).

use std::time::Instant;

use hydra_detect::eval::{AccountFlags, EvalInput, evaluate};
use hydra_detect::sim::{SimConfig, Simulator};
use hydra_detect::{Config, Detector, Error, Event};

fn main() -> hydra_detect::Result<()> {
    let mut args = std::env::args().skip(1);
    let preset = args.next().unwrap_or_else(|| "small".to_owned());
    let seed: u64 = args
        .next()
        .map(|s| {
            s.parse().map_err(|_| Error::invalid_argument(format!("seed {s:?} is not a number")))
        })
        .transpose()?
        .unwrap_or(1);
    let config = match args.next() {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::io(format!("cannot read \"{path}\""), Some(path.clone().into()), e)
            })?;
            Config::from_toml_str(&text)?
        }
        None => Config::new(),
    };

    // ## 1. Simulate
    //
    // The simulator returns the events in time order and the truth: which
    // accounts each operator runs, which are replacements, and the hard
    // legitimate situations (corporate cards, campuses, carrier NATs, ...).
    let sim_config = match preset.as_str() {
        "small" => SimConfig::small(),
        "medium" => SimConfig::medium(),
        "demo" => SimConfig::demo(),
        "large" => SimConfig::large(),
        other => return Err(Error::invalid_argument(format!("unknown preset {other:?}"))),
    }
    .seed(seed);
    let t = Instant::now();
    let simulation = Simulator::new(sim_config)?.generate()?;
    let events: Vec<Event> = simulation.events()?.collect::<hydra_detect::Result<_>>()?;
    eprintln!("simulated {} events in {:.1}s", events.len(), t.elapsed().as_secs_f64());

    // ## 2. Detect
    //
    // The same pipeline as `hydra detect`: index, account graph, Leiden,
    // signals, risk, replacements.
    let t = Instant::now();
    let detection = Detector::new(config).detect_events(events)?;
    eprintln!(
        "detected {} hydra clusters, {} replacements in {:.1}s",
        detection.hydra_clusters().count(),
        detection.replacements.len(),
        t.elapsed().as_secs_f64()
    );
    let phases: Vec<String> =
        detection.run.timings.iter().map(|(phase, s)| format!("{phase} {s:.1}s")).collect();
    eprintln!("phases: {}", phases.join(", "));

    // ## 3. Evaluate
    //
    // Every account's flag against its role in the truth.
    let flags = AccountFlags::from_detection(&detection);
    let report = evaluate(&EvalInput::new(simulation.truth(), &flags))?;
    println!("{report}");
    Ok(())
}
