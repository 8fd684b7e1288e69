//! Replays an event stream through the watcher and measures quality, latency and throughput.

// # Replaying a stream through the watcher
//
// A stream of events (a CSV file, or a fresh simulation) goes through a
// `Watcher` one event at a time, as `hydra watch` would see it.
//
// We will:
//
// 1. load the events and the ground truth (or simulate both),
// 2. replay the events, timing every `apply` call,
// 3. compare the replacement flags with the truth: precision, recall, and
//    time-to-flag in events after signup,
// 4. do the same for the naive rule "flag a new account that reuses a banned
//    card, device or phone", as a baseline,
// 5. print a latency histogram and the throughput.
//
// Usage:
//
// ```text
// cargo run --release --example replay -- --sim small --seed 1
// cargo run --release --example replay -- events.csv truth.csv
// cargo run --release --example replay -- --sim medium --state /tmp/st   # with durable state
// cargo run --release --example replay -- --sim small --explain 20      # show mistakes
// ```

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hydra_detect::sim::{Role, SimConfig, Simulator, Truth};
use hydra_detect::{
    Action, DurabilityConfig, DurableWatcher, Event, IndicatorKind, IngestConfig, WatchConfig,
    WatchFlag, WatchFlagKind, Watcher,
};

struct Options {
    sim: Option<String>,
    seed: u64,
    events: Option<PathBuf>,
    truth: Option<PathBuf>,
    state: Option<PathBuf>,
    explain: usize,
    threshold: Option<f64>,
    /// Tuning overrides, `knob=value` (see `apply_override`).
    overrides: Vec<String>,
}

fn parse_args() -> hydra_detect::Result<Options> {
    let mut o = Options {
        sim: None,
        seed: 1,
        events: None,
        truth: None,
        state: None,
        explain: 0,
        threshold: None,
        overrides: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    let bad = |m: String| hydra_detect::Error::invalid_argument(m);
    while let Some(a) = args.next() {
        let mut value =
            |name: &str| args.next().ok_or_else(|| bad(format!("{name} needs a value")));
        match a.as_str() {
            "--sim" => o.sim = Some(value("--sim")?),
            "--seed" => o.seed = value("--seed")?.parse().map_err(|_| bad("bad --seed".into()))?,
            "--set" => o.overrides.push(value("--set")?),
            "--state" => o.state = Some(value("--state")?.into()),
            "--explain" => {
                o.explain = value("--explain")?.parse().map_err(|_| bad("bad --explain".into()))?
            }
            "--threshold" => {
                o.threshold =
                    Some(value("--threshold")?.parse().map_err(|_| bad("bad --threshold".into()))?)
            }
            _ if o.events.is_none() => o.events = Some(a.into()),
            _ if o.truth.is_none() => o.truth = Some(a.into()),
            _ => return Err(bad(format!("unexpected argument {a:?}"))),
        }
    }
    if o.sim.is_none() && o.events.is_none() {
        o.sim = Some("small".into());
    }
    Ok(o)
}

fn main() -> hydra_detect::Result<()> {
    let options = parse_args()?;

    // ## 1. Events and truth
    //
    // A simulation gives both; a file of events may come with a truth.csv.
    let (events, truth): (Vec<Event>, Option<Truth>) = match &options.sim {
        Some(preset) => {
            let config = match preset.as_str() {
                "small" => SimConfig::small(),
                "demo" => SimConfig::demo(),
                "medium" => SimConfig::medium(),
                "large" => SimConfig::large(),
                p => {
                    return Err(hydra_detect::Error::invalid_argument(format!(
                        "unknown preset {p}"
                    )));
                }
            };
            let started = Instant::now();
            let sim = Simulator::new(config.seed(options.seed))?.generate()?;
            let events = sim.events()?.collect::<hydra_detect::Result<Vec<_>>>()?;
            eprintln!(
                "simulated {preset} seed {}: {} events in {:.1?}",
                options.seed,
                events.len(),
                started.elapsed()
            );
            (events, Some(sim.truth().clone()))
        }
        None => {
            let path = options.events.as_ref().expect("checked above");
            let (events, _) = hydra_detect::read_events(path, &IngestConfig::new())?;
            let truth = options.truth.as_ref().map(|p| Truth::read_csv(p)).transpose()?;
            (events, truth)
        }
    };

    // ## 2. Replay
    //
    // Every `apply` is timed on its own; the flags are kept with the index
    // (events after signup) of the account's event that caused them.
    let mut config = WatchConfig::new();
    if let Some(t) = options.threshold {
        config = config.threshold(t);
    }
    for o in &options.overrides {
        config = apply_override(config, o)?;
    }
    config.validate()?;
    //
    // The loop holds nothing but the `apply` calls and their clock reads, so
    // its CPU time measures the watcher; which of the account's events caused
    // each flag is worked out afterwards (`flag_positions`).
    let mut latencies: Vec<u32> = Vec::with_capacity(events.len());
    let mut raw_flags: Vec<WatchFlag> = Vec::new();
    let mut watcher = Watcher::new(config.clone())?;
    let replay_started = Instant::now();
    let cpu_started = thread_cpu_seconds();
    for (i, event) in events.iter().enumerate() {
        let t = Instant::now();
        watcher.apply_into(i as u64 + 1, event, &mut raw_flags)?;
        let dt = t.elapsed();
        latencies.push(dt.as_nanos().min(u32::MAX as u128) as u32);
    }
    let wall = replay_started.elapsed();
    let cpu = cpu_started.zip(thread_cpu_seconds()).map(|(a, b)| b - a);
    let busy: Duration = latencies.iter().map(|&ns| Duration::from_nanos(ns as u64)).sum();
    let flags = flag_positions(&events, raw_flags);

    // ## 3. Quality against the truth
    let mut standing: HashMap<String, (u32, WatchFlag)> = HashMap::new();
    let mut retracts = 0;
    for (f, idx) in &flags {
        match f.flag {
            WatchFlagKind::Replacement => {
                standing.insert(f.account.clone(), (*idx, f.clone()));
            }
            WatchFlagKind::Retract => {
                retracts += 1;
                standing.remove(&f.account);
            }
            _ => {}
        }
    }
    println!("replayed {} events; {} flags ({} retracts)", events.len(), flags.len(), retracts);
    if let Some(truth) = &truth {
        let flagged: HashMap<&str, u32> =
            standing.iter().map(|(a, (idx, _))| (a.as_str(), *idx)).collect();
        report("watcher", truth, &flagged);
        let naive = naive_rule(&events, &per_account_signups(&events));
        report("naive (banned card/device/phone reuse)", truth, &naive);
        if options.explain > 0 {
            explain(&events, &mut watcher, truth, &standing, options.explain);
        }
    }

    // ## 4. Latency and throughput
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "latency per event (ns): p50 {} p90 {} p99 {} p99.9 {} max {}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(0.999),
        latencies.last().copied().unwrap_or(0)
    );
    let mut bucket = 250u32;
    let mut lo = 0usize;
    while lo < latencies.len() {
        let hi = latencies.partition_point(|&x| x < bucket);
        if hi > lo {
            println!(
                "  < {:>8} ns: {:>10} ({:.3}%)",
                bucket,
                hi - lo,
                100.0 * (hi - lo) as f64 / latencies.len() as f64
            );
        }
        lo = hi;
        bucket = bucket.saturating_mul(2);
    }
    println!(
        "throughput of the timed apply calls: {:.0} events/s ({:.2?} in apply; wall clock, \
         so waiting for a CPU on a loaded machine counts)",
        events.len() as f64 / busy.as_secs_f64(),
        busy,
    );
    println!(
        "replay loop wall time: {:.2?}, {:.0} events/s (apply plus two clock reads per event)",
        wall,
        events.len() as f64 / wall.as_secs_f64()
    );
    if let Some(cpu) = cpu {
        // CPU time of the replay thread over the same loop: on a machine
        // shared with other jobs this is the one-core figure.
        println!(
            "replay loop CPU time: {cpu:.2} s, {:.0} events per CPU second \
             (apply plus two clock reads per event)",
            events.len() as f64 / cpu.max(1e-9)
        );
    }
    println!(
        "memory held: {} accounts, {} indicators, {} links",
        watcher.account_count(),
        watcher.indicator_count(),
        watcher.link_count()
    );

    // ## 5. With durable state
    //
    // The same stream through a `DurableWatcher`: every event logged, group
    // commits, flags delivered after the fsync.
    if let Some(dir) = &options.state {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| {
                hydra_detect::Error::io("cannot clear the state directory", Some(dir.clone()), e)
            })?;
        }
        let sink: Box<dyn std::io::Write + Send> = Box::new(std::io::sink());
        let mut durable = DurableWatcher::open(dir, config, DurabilityConfig::new(), sink)?;
        let started = Instant::now();
        let cpu_started = thread_cpu_seconds();
        for (i, event) in events.iter().enumerate() {
            durable.apply(i as u64 + 1, event)?;
        }
        durable.close()?;
        let elapsed = started.elapsed();
        let cpu = cpu_started.zip(thread_cpu_seconds()).map(|(a, b)| b - a);
        println!(
            "durable: {:.0} events/s ({} events in {:.2?}, state in {})",
            events.len() as f64 / elapsed.as_secs_f64(),
            events.len(),
            elapsed,
            dir.display()
        );
        if let Some(cpu) = cpu {
            // The applying thread's CPU time (apply, log encoding, snapshot
            // images; the writer thread's writes and fsyncs are not in it).
            println!(
                "durable: applying thread CPU time {cpu:.2} s, {:.0} events per CPU second",
                events.len() as f64 / cpu.max(1e-9)
            );
        }
    }
    Ok(())
}

/// Pairs each flag with the number of its account's events before the one
/// that caused it (events after signup; `u32::MAX` for a flag about another
/// account, such as a retraction). Flags come in `seq` order.
fn flag_positions(events: &[Event], flags: Vec<WatchFlag>) -> Vec<(WatchFlag, u32)> {
    let mut seen: HashMap<&str, u32> = HashMap::new();
    let mut out = Vec::with_capacity(flags.len());
    let mut flags = flags.into_iter().peekable();
    for (i, event) in events.iter().enumerate() {
        let n = seen.entry(event.account.as_str()).or_insert(0);
        while let Some(f) = flags.next_if(|f| f.seq == i as u64 + 1) {
            let idx = if f.account == event.account { *n } else { u32::MAX };
            out.push((f, idx));
        }
        *n += 1;
    }
    out
}

/// CPU time (user + system) of the calling thread in seconds, from
/// `/proc/thread-self/stat` (Linux; `None` elsewhere). Clock ticks are
/// 1/100 s on Linux, plenty for replays of seconds.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the full line: 11 and 12 here.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Applies one `knob=value` override: `hard_link_min`, `min_family_evidence`,
/// `recency_hours`, `recency_floor`, or `KIND=weight:crowd` for a kind.
fn apply_override(config: WatchConfig, o: &str) -> hydra_detect::Result<WatchConfig> {
    let bad = || hydra_detect::Error::invalid_argument(format!("bad override {o:?}"));
    let (key, value) = o.split_once('=').ok_or_else(bad)?;
    let num = |v: &str| v.parse::<f64>().map_err(|_| bad());
    Ok(match key {
        "hard_link_min" => config.hard_link_min(num(value)?),
        "min_family_evidence" => config.min_family_evidence(num(value)?),
        "recency_hours" => config.recency_secs((num(value)? * 3600.0) as i64),
        "recency_floor" => config.recency_floor(num(value)?),
        "specific_max" => config.specific_max(num(value)? as usize),
        "strong_score" => config.strong_score(num(value)?),
        "takeover_hours" => config.takeover_secs((num(value)? * 3600.0) as i64),
        "quiet_takeover_hours" => config.quiet_takeover_secs((num(value)? * 3600.0) as i64),
        "quiet_hours" => config.quiet_secs((num(value)? * 3600.0) as i64),
        "takeover_weight" => config.takeover_weight(num(value)?),
        "threshold" => config.threshold(num(value)?),
        "takeover_behavior_min" => config.takeover_behavior_min(num(value)?),
        kind => {
            let kind = IndicatorKind::parse(kind).map_err(|_| bad())?;
            let (w, c) = value.split_once(':').ok_or_else(bad)?;
            config.kind_weight(&kind, hydra_detect::KindWeight::new(num(w)?, num(c)?))
        }
    })
}

/// Prints precision, recall and time-to-flag of `flagged` (account -> events
/// after signup at the flag).
fn report(name: &str, truth: &Truth, flagged: &HashMap<&str, u32>) {
    let positives = truth.iter().filter(|a| a.role() == Role::HydraReplacement).count();
    let mut tp = 0;
    let mut fp_by_role: HashMap<&str, usize> = HashMap::new();
    let mut ttf = Vec::new();
    for (account, &idx) in flagged {
        match truth.get(account).map(|a| a.role()) {
            Some(Role::HydraReplacement) => {
                tp += 1;
                ttf.push(idx);
            }
            Some(r) => *fp_by_role.entry(r.as_str()).or_default() += 1,
            None => *fp_by_role.entry("unknown").or_default() += 1,
        }
    }
    ttf.sort_unstable();
    let precision = tp as f64 / flagged.len().max(1) as f64;
    let recall = tp as f64 / positives.max(1) as f64;
    let median = ttf.get(ttf.len().saturating_sub(1) / 2).copied().unwrap_or(0);
    let p95 = ttf.get(((ttf.len() as f64 * 0.95).ceil() as usize).saturating_sub(1)).copied();
    let within = |k: u32| ttf.partition_point(|&x| x <= k) as f64 / ttf.len().max(1) as f64;
    println!(
        "{name}: share of correct flags by event 1: {:.3}, 2: {:.3}, 3: {:.3}, 5: {:.3}, 8: {:.3}",
        within(1),
        within(2),
        within(3),
        within(5),
        within(8)
    );
    let mut fps: Vec<_> = fp_by_role.into_iter().collect();
    fps.sort();
    println!(
        "{name}: flagged {} / {positives} replacements: precision {precision:.4} recall {recall:.4}; \
         events after signup at flag: median {median} p95 {}; false positives by role {fps:?}",
        flagged.len(),
        p95.unwrap_or(0)
    );
}

fn per_account_signups(events: &[Event]) -> HashMap<&str, i64> {
    let mut signup: HashMap<&str, i64> = HashMap::new();
    for e in events {
        let s = signup.entry(e.account.as_str()).or_insert(e.ts);
        if matches!(e.action, Action::Signup) {
            *s = e.ts;
        }
    }
    signup
}

/// The naive rule: flag an account at the first observation of a card,
/// device or phone also used by an account banned before its signup.
fn naive_rule<'a>(events: &'a [Event], signups: &HashMap<&'a str, i64>) -> HashMap<&'a str, u32> {
    let mut users: HashMap<(&IndicatorKind, &str), Vec<&str>> = HashMap::new();
    let mut links: HashMap<&str, Vec<(&IndicatorKind, &str)>> = HashMap::new();
    let mut banned: HashMap<&str, i64> = HashMap::new();
    let mut flagged: HashMap<&str, u32> = HashMap::new();
    let mut seen: HashMap<&str, u32> = HashMap::new();
    let mut done: HashSet<&str> = HashSet::new();
    for e in events {
        let a = e.account.as_str();
        let idx = *seen.entry(a).and_modify(|n| *n += 1).or_insert(0);
        match &e.action {
            Action::Observe(ind)
                if matches!(
                    ind.kind,
                    IndicatorKind::Payment | IndicatorKind::Device | IndicatorKind::Phone
                ) =>
            {
                let key = (&ind.kind, ind.value.as_str());
                let list = users.entry(key).or_default();
                if !list.contains(&a) {
                    list.push(a);
                    links.entry(a).or_default().push(key);
                }
                let signup = signups[a];
                let hit = !banned.contains_key(a)
                    && list.iter().any(|b| banned.get(b).is_some_and(|&t| t <= signup));
                if hit && done.insert(a) {
                    flagged.insert(a, idx);
                }
            }
            Action::Ban { .. } => {
                banned.entry(a).or_insert(e.ts);
            }
            Action::Unban => {
                banned.remove(a);
            }
            _ => {}
        }
    }
    flagged
}

/// Prints the first `n` false positives and false negatives with evidence.
fn explain(
    events: &[Event],
    watcher: &mut Watcher,
    truth: &Truth,
    standing: &HashMap<String, (u32, WatchFlag)>,
    n: usize,
) {
    let mut fps: Vec<_> = standing
        .values()
        .filter(|(_, f)| truth.get(&f.account).is_some_and(|a| a.role() != Role::HydraReplacement))
        .collect();
    // Legitimate accounts first: those are the costly mistakes.
    fps.sort_by_key(|(_, f)| (truth.get(&f.account).map(|a| a.role() != Role::Legit), f.seq));
    for (idx, f) in fps.iter().take(n) {
        let t = truth.get(&f.account).expect("filtered");
        println!(
            "FP {} ({} {} {} tags {:?}) at event {idx}: {}",
            f.account,
            t.role().as_str(),
            t.group(),
            t.group_type(),
            t.tags().collect::<Vec<_>>(),
            f.to_json()
        );
    }
    // How correct flags came about: each account's first events, by kind.
    let mut tps: Vec<_> = standing
        .values()
        .filter(|(_, f)| truth.get(&f.account).is_some_and(|a| a.role() == Role::HydraReplacement))
        .collect();
    tps.sort_by_key(|(_, f)| f.seq);
    let sample: HashSet<&str> = tps.iter().take(n).map(|(_, f)| f.account.as_str()).collect();
    let mut seqs: HashMap<&str, Vec<String>> = HashMap::new();
    for e in events {
        if sample.contains(e.account.as_str()) {
            let what = match &e.action {
                Action::Observe(i) => i.kind.as_str().to_owned(),
                a => a.name().to_owned(),
            };
            seqs.entry(e.account.as_str()).or_default().push(what);
        }
    }
    for (idx, f) in tps.iter().take(n) {
        let s = &seqs[f.account.as_str()];
        println!(
            "TP {} flagged at event {idx} ({:.3}): {:?}",
            f.account,
            f.score,
            &s[..s.len().min(*idx as usize + 1)]
        );
    }
    let mut fns: Vec<_> = truth
        .iter()
        .filter(|a| a.role() == Role::HydraReplacement && !standing.contains_key(a.account()))
        .collect();
    fns.sort_by_key(|a| a.account().to_owned());
    println!("{} false negatives", fns.len());
    for a in fns.iter().take(n) {
        let now = watcher.explain(a.account());
        println!(
            "FN {} ({} tags {:?}): {}",
            a.account(),
            a.group(),
            a.tags().collect::<Vec<_>>(),
            now.map_or("not in memory".into(), |f| f.to_json())
        );
    }
}
