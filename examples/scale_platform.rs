//! # Scale run: the whole `hydra detect` on a platform of two million accounts
//!
//! How long does detection take, stage by stage, on a platform the size of
//! a real one (2M accounts, tens of millions of events, a 20,000+ account
//! operator among many smaller ones), and how much memory does it need?
//!
//! We will:
//!
//! 1. simulate the platform with the `large` preset (or another one) into
//!    `DIR/events.csv` and `DIR/truth.csv`, unless they are already there;
//! 2. run the detection exactly as `hydra detect` does (read, index, graph,
//!    communities, scoring, then the four reports) in a child process, so
//!    that the peak memory measured is the detection's alone, not the
//!    simulator's;
//! 3. print each stage's wall time, the CPU time and the peak resident
//!    memory (VmHWM, Linux only), and the detection quality against the truth.
//!
//! Run with `cargo run --release --example scale_platform -- DIR [PRESET]
//! [SEED] [SCALE]` (defaults: `large`, seed 1, scale 1: 53.9M events; a
//! SCALE of 1.3 should give about 70M, by proportion, not yet run). Set `RAYON_NUM_THREADS` to fix the thread count. The
//! `large` preset writes about 2.8 GB of CSV; the run needs a few GiB of
//! memory. Results go to BENCHMARKS.md.

mod proc_stats;

use proc_stats::{cpu_secs, peak_mib};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use hydra_detect::eval::{AccountFlags, EvalInput, Truth, evaluate};
use hydra_detect::sim::{Preset, SimConfig, Simulator};
use hydra_detect::{Config, Detector, Error, Result};

/// Set in the child process that runs the detection.
const CHILD: &str = "HYDRA_SCALE_PLATFORM_DETECT";

/// An I/O error naming what failed on `path`.
fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io(what.to_owned(), Some(path.into()), e)
}

/// Simulates `preset` into `dir` unless `dir/events.csv` exists.
fn simulate(dir: &Path, preset: Preset, seed: u64, scale: f64) -> Result<()> {
    let events = dir.join("events.csv");
    if events.exists() {
        println!("using {} (delete it to simulate again)", events.display());
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create the directory", dir, e))?;
    let started = Instant::now();
    let sim = Simulator::new(SimConfig::preset(preset).seed(seed).scale(scale))?.generate()?;
    print!("{}", sim.summary());
    // Written under temporary names and renamed, so an interrupted run
    // leaves no half-written events.csv that the next run would take.
    let create = |name: &str| -> Result<(PathBuf, BufWriter<std::fs::File>)> {
        let path = dir.join(format!("{name}.partial"));
        let file = std::fs::File::create(&path).map_err(|e| io("cannot create", &path, e))?;
        Ok((path, BufWriter::with_capacity(1 << 20, file)))
    };
    let (truth_tmp, truth_out) = create("truth.csv")?;
    sim.truth().write_csv(truth_out)?;
    let (events_tmp, events_out) = create("events.csv")?;
    let n = sim.write_events_csv(events_out, |_| {})?;
    for (tmp, name) in [(truth_tmp, "truth.csv"), (events_tmp, "events.csv")] {
        let path = dir.join(name);
        std::fs::rename(&tmp, &path).map_err(|e| io("cannot rename into", &path, e))?;
    }
    println!("simulated {n} events in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The child: detection and reports on `dir/events.csv`, as `hydra detect` runs them.
fn detect(dir: &Path) -> Result<()> {
    let (started, cpu) = (Instant::now(), cpu_secs());
    let detection = Detector::new(Config::default()).detect_path(&dir.join("events.csv"))?;
    let detect_cpu = cpu_secs() - cpu;
    let peak_detect = peak_mib();

    // The four reports, written as `hydra detect -o` writes them.
    let out = dir.join("reports");
    std::fs::create_dir_all(&out).map_err(|e| io("cannot create the directory", &out, e))?;
    let write_started = Instant::now();
    let write = |name: &str, f: &dyn Fn(&mut BufWriter<std::fs::File>) -> Result<()>| {
        let path = out.join(name);
        let file = std::fs::File::create(&path).map_err(|e| io("cannot create", &path, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        f(&mut w)?;
        std::io::Write::flush(&mut w).map_err(|e| io("cannot write", &path, e))
    };
    write("accounts.csv", &|w| hydra_detect::write_accounts_csv(&detection, w))?;
    write("clusters.json", &|w| hydra_detect::write_clusters_json(&detection, w))?;
    write("report.html", &|w| hydra_detect::write_html(&detection, w))?;
    write("clusters.graphml", &|w| hydra_detect::write_graphml(&detection, w))?;
    let write_secs = write_started.elapsed().as_secs_f64();

    println!(
        "{} events, {} accounts, {} communities of 2+ accounts, {} threads",
        detection.run.events,
        detection.accounts.len(),
        detection.clusters.len(),
        rayon::current_num_threads()
    );
    let mut stages: Vec<String> =
        detection.run.timings.iter().map(|(name, secs)| format!("{name} {secs:.1} s")).collect();
    stages.push(format!("write {write_secs:.1} s"));
    println!("stages: {}", stages.join(", "));
    println!(
        "total {:.1} s wall, {:.1} s cpu (detection {detect_cpu:.1} s)",
        started.elapsed().as_secs_f64(),
        cpu_secs() - cpu
    );
    match (peak_detect, peak_mib()) {
        (Some(d), Some(all)) => {
            println!("peak memory (VmHWM): {all:.0} MiB ({d:.0} MiB before writing)")
        }
        _ => println!("peak memory: not available on this system"),
    }

    // Quality against the simulator's truth, as `hydra eval` measures it.
    let truth = Truth::read_csv(&dir.join("truth.csv"))?;
    let flags = AccountFlags::from_detection(&detection);
    print!("{}", evaluate(&EvalInput::new(&truth, &flags))?);
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(PathBuf::from) else {
        return Err(Error::invalid_argument(
            "usage: scale_platform DIR [PRESET] [SEED] [SCALE] (simulates into DIR, then detects)",
        ));
    };
    if std::env::var_os(CHILD).is_some() {
        return detect(&dir);
    }
    let preset = Preset::parse(args.get(1).map_or("large", String::as_str))?;
    let number = |i: usize, name: &str, default: f64| -> Result<f64> {
        match args.get(i) {
            None => Ok(default),
            Some(t) => t.parse().map_err(|_| {
                Error::invalid_argument(format!("{name} must be a number, got {t:?}"))
            }),
        }
    };
    let seed = number(2, "SEED", 1.0)?;
    if seed < 0.0 || seed.fract() != 0.0 {
        return Err(Error::invalid_argument(format!("SEED must be a whole number, got {seed}")));
    }
    let scale = number(3, "SCALE", 1.0)?;
    simulate(&dir, preset, seed as u64, scale)?;

    // ## Detection, in a fresh process
    let exe = std::env::current_exe().map_err(|e| io("cannot find this program", &dir, e))?;
    let status = Command::new(&exe)
        .arg(&dir)
        .env(CHILD, "1")
        .status()
        .map_err(|e| io("cannot run the detection child", &exe, e))?;
    if !status.success() {
        return Err(Error::invalid_argument(format!("the detection child failed: {status}")));
    }
    Ok(())
}
