//! # Simulating a platform with hydra operators
//!
//! The simulator produces the event stream of an API platform (signups,
//! observations of IPs, cards, devices, templates..., bans and unbans) with
//! the ground truth of every account, so that detection can be measured.
//!
//! We will:
//! 1. pick a preset and a seed (from the command line: `cargo run --release
//!    --example simulate -- medium 1`),
//! 2. generate the platform and time it,
//! 3. look at the truth: roles, the hard situations legitimate accounts are in,
//! 4. stream the events in time order (here into a counter, or into
//!    `DIR/events.csv` and `DIR/truth.csv` with a third argument).

use std::io::BufWriter;
use std::time::Instant;

use hydra_detect::sim::{Preset, Role, SimConfig, Simulator};

fn main() -> hydra_detect::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let preset = Preset::parse(args.first().map_or("small", String::as_str))?;
    let seed = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);

    // ## Generate
    //
    // Groups are generated one after the other into sorted runs (spilled to
    // temporary files beyond `max_events_in_memory`), so memory stays bounded
    // even for the large presets.
    let config = SimConfig::preset(preset).seed(seed);
    let started = Instant::now();
    let sim = Simulator::new(config)?.generate()?;
    let generated = started.elapsed();
    print!("{}", sim.summary());
    println!("generated {} events in {:.2} s", sim.summary().events, generated.as_secs_f64());

    // ## The truth
    //
    // Every account has a role, a group, a group type and tags naming the
    // hard-negative situations it is in: these are what a detector must not
    // flag (a corporate card shared by a whole company, a household member
    // signing up right after a ban on the same IP, ...).
    let truth = sim.truth();
    let replacements = truth.iter().filter(|a| a.role() == Role::HydraReplacement).count();
    println!("{} accounts, {} replacements", truth.len(), replacements);
    for tag in ["corp_card", "shared_card", "post_ban_signup", "proxy_ip_shared", "cgnat"] {
        let n = truth.iter().filter(|a| a.role() == Role::Legit && a.has_tag(tag)).count();
        println!("  legitimate accounts tagged {tag:<16} {n}");
    }

    // ## The events
    //
    // `events()` merges the runs in (time, account, own order) order; the
    // CSV writer does the same without building `Event` values.
    let started = Instant::now();
    match args.get(2) {
        Some(dir) => {
            let dir = std::path::Path::new(dir);
            std::fs::create_dir_all(dir).map_err(|e| {
                hydra_detect::Error::io("cannot create the output directory", Some(dir.into()), e)
            })?;
            let create = |name: &str| {
                let path = dir.join(name);
                std::fs::File::create(&path).map(BufWriter::new).map_err(|e| {
                    hydra_detect::Error::io(format!("cannot create {name}"), Some(path), e)
                })
            };
            let n = sim.write_events_csv(create("events.csv")?, |_| {})?;
            truth.write_csv(create("truth.csv")?)?;
            println!(
                "wrote {n} events to {} in {:.2} s",
                dir.display(),
                started.elapsed().as_secs_f64()
            );
        }
        None => {
            let mut bans = 0;
            let mut n = 0u64;
            for event in sim.events()? {
                if matches!(event?.action, hydra_detect::Action::Ban { .. }) {
                    bans += 1;
                }
                n += 1;
            }
            println!(
                "streamed {n} events ({bans} bans) in {:.2} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
