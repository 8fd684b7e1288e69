//! # Where do the missed hydra accounts end up?
//!
//! A diagnostic companion to `tune_weights`: simulates a preset, runs the
//! batch `Detector` and, for every operator, sorts the accounts it missed
//! by what happened to them — no community at all, a community judged not
//! a hydra (by size and by who else is in it), or a hydra community that
//! did not tie them (no member-level evidence). For replacements it counts
//! false positives and misses by the truth of the account.
//!
//! Run: `cargo run --release --example diagnose -- medium 1`.

use std::collections::BTreeMap;

use hydra_detect::Flag;
use hydra_detect::sim::{Role, SimConfig, Simulator};
use hydra_detect::{Config, Detector, Error, Event};

fn bucket(size: usize) -> &'static str {
    match size {
        0..=2 => "2",
        3..=5 => "3-5",
        6..=10 => "6-10",
        11..=20 => "11-20",
        21..=50 => "21-50",
        51..=200 => "51-200",
        _ => "200+",
    }
}

fn main() -> hydra_detect::Result<()> {
    let mut args = std::env::args().skip(1);
    let preset = args.next().unwrap_or_else(|| "small".to_owned());
    let seed: u64 = args
        .next()
        .map(|s| s.parse().map_err(|_| Error::invalid_argument(format!("bad seed {s:?}"))))
        .transpose()?
        .unwrap_or(1);
    let sim_config = match preset.as_str() {
        "small" => SimConfig::small(),
        "medium" => SimConfig::medium(),
        "demo" => SimConfig::demo(),
        other => return Err(Error::invalid_argument(format!("unknown preset {other:?}"))),
    }
    .seed(seed);
    let simulation = Simulator::new(sim_config)?.generate()?;
    let truth = simulation.truth();
    let events: Vec<Event> = simulation.events()?.collect::<hydra_detect::Result<_>>()?;
    let detection = Detector::new(Config::new()).detect_events(events)?;

    // Cluster of each account, and each cluster's truth make-up.
    let mut cluster_pos: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, c) in detection.clusters.iter().enumerate() {
        for m in &c.member_ids {
            cluster_pos.insert(m.as_str(), i);
        }
    }
    let group_of = |a: &str| -> (String, bool) {
        match truth.get(a) {
            Some(t) if t.role().is_hydra() => (t.group().to_owned(), true),
            Some(t) => (t.group_type().to_owned(), false),
            None => ("?".to_owned(), false),
        }
    };
    // Per cluster: (operator accounts of each operator, legit count).
    let make_up: Vec<(BTreeMap<String, usize>, usize)> = detection
        .clusters
        .iter()
        .map(|c| {
            let mut ops = BTreeMap::new();
            let mut legit = 0;
            for m in &c.member_ids {
                let (g, hydra) = group_of(m);
                if hydra {
                    *ops.entry(g).or_insert(0) += 1;
                } else {
                    legit += 1;
                }
            }
            (ops, legit)
        })
        .collect();

    // Missed hydra accounts, per operator, by what happened.
    let mut why: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut non_hydra_clusters: BTreeMap<String, BTreeMap<usize, usize>> = BTreeMap::new();
    for v in &detection.accounts {
        let Some(t) = truth.get(&v.account) else { continue };
        if !t.role().is_hydra() || v.flag.is_some() {
            continue;
        }
        let op = t.group().to_owned();
        let reason = match cluster_pos.get(v.account.as_str()) {
            None => "no community".to_owned(),
            Some(&i) => {
                let c = &detection.clusters[i];
                let (ops, legit) = &make_up[i];
                let own = ops.get(&op).copied().unwrap_or(0);
                let purity = if own * 10 >= 9 * c.size {
                    "pure"
                } else if own * 2 >= c.size {
                    "mostly-op"
                } else {
                    "mostly-other"
                };
                if c.hydra {
                    format!("hydra community, not tied ({purity})")
                } else {
                    non_hydra_clusters.entry(op.clone()).or_default().insert(i, own);
                    let _ = legit;
                    format!("non-hydra community size {} ({purity})", bucket(c.size))
                }
            }
        };
        *why.entry(op).or_default().entry(reason).or_insert(0) += 1;
    }
    for (op, reasons) in &why {
        println!("== {op}: missed accounts");
        for (r, n) in reasons {
            println!("  {n:>6}  {r}");
        }
    }
    // The largest non-hydra communities holding missed accounts, with their signals.
    for (op, clusters) in &non_hydra_clusters {
        let mut list: Vec<(usize, usize)> = clusters.iter().map(|(&i, &n)| (n, i)).collect();
        list.sort_unstable_by(|a, b| b.cmp(a));
        println!("== {op}: non-hydra communities holding missed accounts: {}", list.len());
        let sizes: Vec<usize> = list.iter().map(|&(_, i)| detection.clusters[i].size).collect();
        let mut hist: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for (&(own, _), &s) in list.iter().zip(&sizes) {
            let e = hist.entry(bucket(s)).or_insert((0, 0));
            e.0 += 1;
            e.1 += own;
        }
        for (b, (n, own)) in hist {
            println!("  size {b:>7}: {n:>5} communities, {own:>6} operator accounts");
        }
        for &(own, i) in list.iter().take(6) {
            let c = &detection.clusters[i];
            let (ops, legit) = &make_up[i];
            let sig: Vec<String> =
                c.signals.iter().map(|s| format!("{}={:.2}", s.name, s.value)).collect();
            println!(
                "  size {} own {own} ops {ops:?} legit {legit} score {:.3}: {}",
                c.size,
                c.score,
                sig.join(" ")
            );
        }
        // Score distribution of the small ones.
        let mut scores: Vec<f64> = list.iter().map(|&(_, i)| detection.clusters[i].score).collect();
        scores.sort_by(f64::total_cmp);
        if !scores.is_empty() {
            let q = |p: f64| scores[((scores.len() - 1) as f64 * p) as usize];
            println!(
                "  scores: min {:.3} q25 {:.3} median {:.3} q75 {:.3} max {:.3}",
                q(0.0),
                q(0.25),
                q(0.5),
                q(0.75),
                q(1.0)
            );
        }
    }

    // Replacements: false positives and misses by truth.
    let mut fp: BTreeMap<String, usize> = BTreeMap::new();
    let mut missed: BTreeMap<String, usize> = BTreeMap::new();
    for v in &detection.accounts {
        let Some(t) = truth.get(&v.account) else { continue };
        let is_rep = t.role() == Role::HydraReplacement;
        let flagged = v.flag == Some(Flag::Replacement);
        let key = format!("{} {}", t.role().as_str(), t.group());
        if flagged && !is_rep {
            *fp.entry(key).or_insert(0) += 1;
        } else if is_rep && !flagged {
            let state = match v.flag {
                Some(Flag::Hydra) => "flagged hydra",
                _ => "unflagged",
            };
            *missed.entry(format!("{key} ({state})")).or_insert(0) += 1;
        }
    }
    println!("== replacement false positives by truth");
    for (k, n) in &fp {
        println!("  {n:>6}  {k}");
    }
    println!("== replacement misses by truth");
    for (k, n) in &missed {
        println!("  {n:>6}  {k}");
    }
    Ok(())
}
