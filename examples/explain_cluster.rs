//! # Explaining a flag, for an appeal
//!
//! Every ban a trust-and-safety team makes may be appealed, and the team must
//! say why the account was flagged. This example finds a flagged account and
//! prints the library's explanation of it, then does the same for an
//! unflagged account sharing its network.
//!
//! We will:
//!
//! 1. simulate a small platform with the seeded simulator;
//! 2. analyse it once with `Detector::analyze_events`, which keeps what
//!    explanations need (the index and the account graph);
//! 3. explain the first account of the top hydra cluster, and the first
//!    unflagged account that shares one of that cluster's indicators.
//!
//! Run it with `cargo run --release --example explain_cluster`.

use hydra_detect::sim::{SimConfig, Simulator};
use hydra_detect::{Config, Detector, Result};

fn main() -> Result<()> {
    // ## 1. A platform
    //
    // 3,000 accounts, three operators of 300, 80 and 40 accounts, seed 7.
    let config = SimConfig::small().accounts(3_000).operator_sizes(vec![300, 80, 40]).seed(7);
    let sim = Simulator::new(config)?.generate()?;
    let events: Vec<_> = sim.events()?.collect::<Result<_>>()?;

    // ## 2. One analysis, many explanations
    //
    // `analyze_events` runs the same pipeline as `detect_events` and keeps
    // its intermediate results, so explaining an account costs no new run.
    let analysis = Detector::new(Config::new()).analyze_events(events)?;
    let detection = analysis.detection();

    // ## 3. Explanations
    //
    // The top hydra cluster (clusters are ranked by score). Its first member
    // is as good as any: every member's explanation names the cluster's
    // signals, the member's own indicators and its strongest links.
    let Some(top) = detection.hydra_clusters().next() else {
        println!("no hydra cluster found: nothing to explain");
        return Ok(());
    };
    println!("top hydra cluster {}: score {:.3}, {} accounts\n", top.id, top.score, top.size);
    let member = &top.member_ids[0];
    println!("{}", analysis.explain(member)?);

    // Now someone who is *not* flagged but shares part of the cluster's
    // infrastructure (a household on a proxy IP the operator also used, say):
    // the explanation says why the links were not enough.
    let shared: Vec<&str> = top.evidence.top_indicators.iter().map(|i| i.value.as_str()).collect();
    let bystander = detection.accounts.iter().filter(|v| v.flag.is_none()).find(|v| {
        analysis
            .explain(&v.account)
            .is_ok_and(|e| e.indicators.iter().any(|i| shared.contains(&i.value.as_str())))
    });
    match bystander {
        Some(v) => println!("{}", analysis.explain(&v.account)?),
        None => println!("no unflagged account shares the cluster's top indicators"),
    }
    Ok(())
}
