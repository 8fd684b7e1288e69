//! `hydra dist`: `hydra detect` over several worker processes (feature
//! `distributed`). Processes are started timely's usual way (`-n
//! PROCESSES -p INDEX -h HOSTFILE -w THREADS`, the same arguments in every
//! process but `-p`), or all on loopback by `--local N`. Process 0 writes
//! the reports, whole or not at all, once every process has finished.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use hydra_detect::GraphmlConfig;
use hydra_detect::dist::{Cluster, DistRun};

use crate::detect::{REPORTS, Settings, format_timings, summary, thousands, warn_skipped};
use crate::out::Staged;

/// First port of the default addresses (`localhost:2101`, `:2102`, …), as timely's.
const DEFAULT_PORT: u16 = 2101;

/// Run `hydra detect` over several worker processes (timely dataflow).
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub(crate) struct Args {
    /// Event file(s): CSV or JSON Lines (by suffix or --format), optionally
    /// .gz. One plain file is cut into one byte range per worker; several
    /// files are read whole, one worker each.
    #[arg(long, short, value_name = "EVENTS", required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// Directory process 0 writes accounts.csv, clusters.json, report.html
    /// and clusters.graphml into (created if missing).
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    settings: Settings,
    /// Replace indicator values in every output by a keyed hash (h:…).
    #[arg(long)]
    redact: bool,
    /// clusters.graphml: every account in a community, not only the
    /// members of hydra networks.
    #[arg(long)]
    graphml_all: bool,
    /// clusters.graphml: also a node per indicator value that an exported
    /// cluster's evidence names (its 10 most shared) and 2 or more exported
    /// accounts hold, with an edge from each of them.
    #[arg(long)]
    graphml_indicators: bool,
    /// Key for --redact (else $HYDRA_REDACT_KEY, else random for this run).
    #[arg(long, value_name = "KEY", requires = "redact")]
    redact_key: Option<String>,
    /// Number of processes.
    #[arg(short = 'n', long = "processes", value_name = "PROCESSES", default_value_t = 1)]
    processes: usize,
    /// This process's index, 0 to PROCESSES - 1 (process 0 writes the reports).
    #[arg(short = 'p', long = "process", value_name = "INDEX", default_value_t = 0)]
    process: usize,
    /// File of `host:port` lines, one per process (default: localhost:2101, :2102, …).
    #[arg(short = 'h', long = "hostfile", value_name = "HOSTFILE")]
    hostfile: Option<PathBuf>,
    /// Worker threads per process.
    #[arg(short = 'w', long = "workers", value_name = "THREADS", default_value_t = 1)]
    workers: usize,
    /// Start N processes on loopback (free ports) and wait for them all.
    #[arg(long, value_name = "N", conflicts_with_all = ["process", "hostfile", "processes"])]
    local: Option<usize>,
    /// Seconds to wait for every process to connect.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    connect_timeout: u64,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    if args.input.iter().any(|p| p == Path::new("-")) {
        return Err(crate::exit::usage(
            "hydra dist reads files (each process its own part), not standard input",
        ));
    }
    if args.workers == 0 {
        return Err(crate::exit::usage("-w/--workers must be at least 1"));
    }
    if let Some(n) = args.local {
        return local(n);
    }
    let started = Instant::now();
    let config = args.settings.config()?;
    let addresses = addresses(args.processes, args.hostfile.as_deref())?;
    let cluster = Cluster::new(addresses, args.process, args.workers)
        .map_err(|e| crate::exit::usage(e.to_string()))?
        .connect_timeout(Duration::from_secs(args.connect_timeout));
    // Process 0 writes; it checks --out before the work, as detect does.
    let staged = if cluster.process() == 0 {
        for input in &args.input {
            crate::out::check_not_replacing(input, &args.out, &REPORTS)?;
        }
        Some(Staged::new(&args.out)?)
    } else {
        None
    };
    let names = args.input.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    let result = hydra_detect::dist::run(&cluster, &args.input, &config);
    let run = result.with_context(|| format!("cannot detect in {names}"))?;
    let (Some(staged), Some(mut detection)) = (staged, run.detection.clone()) else {
        tracing::info!("process {}: done, peak memory {}", cluster.process(), mib(run.peak_rss));
        return Ok(());
    };
    let skipped: u64 = detection.run.skipped_rows.values().sum();
    warn_skipped(&names, skipped, detection.run.skipped_examples.iter());
    detection.run.input = names;
    let write_started = Instant::now();
    let mut graphml = GraphmlConfig::new().all_accounts(args.graphml_all);
    if let Some(holders) = run.indicator_holders.as_ref().filter(|_| args.graphml_indicators) {
        graphml = graphml.indicators(holders);
    }
    let (written, redaction) = crate::detect::write_outputs(
        &detection,
        args.redact.then_some(args.redact_key.as_deref()),
        &graphml,
        staged,
    )?;
    if let Some(source) = redaction {
        tracing::info!("indicator values redacted (key {source})");
    }
    let mut timings: Vec<(String, Duration)> =
        run.timings.iter().map(|(k, s)| (k.clone(), Duration::from_secs_f64(*s))).collect();
    timings.push(("write".to_owned(), write_started.elapsed()));
    timings.push(("total".to_owned(), started.elapsed()));
    let mut text = summary(&detection, 10);
    let _ = writeln!(text, "timings (worker 0): {}", format_timings(&timings));
    text.push_str(&workers_table(&cluster, &run));
    crate::detect::push_wrote(&mut text, &written);
    std::io::stdout().lock().write_all(crate::terminal::safe(&text).as_bytes())?;
    Ok(())
}

/// Per worker: events, bytes read and sent, read time; per process: peak memory.
fn workers_table(cluster: &Cluster, run: &DistRun) -> String {
    let mut s = String::new();
    let sent: u64 = run.workers.iter().map(|w| w.bytes_sent_remote).sum();
    let _ = writeln!(
        s,
        "{} processes x {} threads; {} sent between processes",
        cluster.processes(),
        cluster.threads(),
        bytes(sent)
    );
    // Bytes sent between processes per stage, summed over the workers.
    let mut stages: Vec<(&str, u64)> = Vec::new();
    for (stage, n) in run.workers.iter().flat_map(|w| &w.stage_bytes) {
        match stages.iter_mut().find(|(s, _)| s == stage) {
            Some((_, total)) => *total += n,
            None => stages.push((stage, *n)),
        }
    }
    let by_stage: Vec<String> = stages.iter().map(|(s, n)| format!("{s} {}", bytes(*n))).collect();
    let _ = writeln!(s, "  by stage: {}", by_stage.join(", "));
    for w in &run.workers {
        let _ = writeln!(
            s,
            "  worker {} (process {}): {} events, {} read in {:.2}s; owns {} indicators, \
             {} links, {} pairs, {} edges; {} sent",
            w.worker,
            w.process,
            thousands(w.events),
            bytes(w.bytes_read),
            w.read_secs,
            thousands(w.indicators),
            thousands(w.links),
            thousands(w.pairs),
            thousands(w.edges),
            bytes(w.bytes_sent_remote)
        );
    }
    for p in 0..cluster.processes() {
        let peak = if p == 0 {
            run.peak_rss
        } else {
            run.workers.iter().filter(|w| w.process == p).map(|w| w.peak_rss).max().unwrap_or(0)
        };
        let _ = writeln!(s, "  process {p}: peak memory {}", mib(peak));
    }
    s
}

fn bytes(n: u64) -> String {
    format!("{:.1} MB", n as f64 / 1e6)
}

fn mib(n: u64) -> String {
    if n == 0 { "unknown".to_owned() } else { format!("{:.0} MiB", n as f64 / 1048576.0) }
}

/// The addresses of `processes` processes: the hostfile's first lines, or
/// `localhost:2101` on.
fn addresses(processes: usize, hostfile: Option<&Path>) -> anyhow::Result<Vec<String>> {
    if processes == 0 {
        return Err(crate::exit::usage("-n/--processes must be at least 1"));
    }
    let Some(path) = hostfile else {
        return Ok((0..processes)
            .map(|i| format!("localhost:{}", DEFAULT_PORT as usize + i))
            .collect());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read hostfile {}", path.display()))?;
    let hosts: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if hosts.len() < processes {
        return Err(crate::exit::usage(format!(
            "hostfile {} lists {} addresses, -n asks for {processes} processes",
            path.display(),
            hosts.len()
        )));
    }
    Ok(hosts.into_iter().take(processes).collect())
}

/// `--local N`: starts this command N times on loopback as processes 0 to
/// N - 1, and fails as soon as one fails (stopping the others).
fn local(n: usize) -> anyhow::Result<()> {
    if n == 0 {
        return Err(crate::exit::usage("--local must be at least 1"));
    }
    let dir = tempfile::tempdir().context("cannot create a directory for the hostfile")?;
    let mut hosts = String::new();
    // Free ports: bound then released just before the processes bind them.
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .context("cannot find free loopback ports")?;
    for l in &listeners {
        let _ = writeln!(hosts, "{}", l.local_addr().context("cannot read a port")?);
    }
    drop(listeners);
    let hostfile = dir.path().join("hosts");
    std::fs::write(&hostfile, hosts).context("cannot write the hostfile")?;
    let exe = std::env::current_exe().context("cannot find the hydra executable")?;
    let args = without_local(std::env::args().skip(1));
    let mut children: Vec<Child> = Vec::with_capacity(n);
    for p in 0..n {
        let spawned = Command::new(&exe)
            .args(&args)
            .args(["-n", &n.to_string(), "-p", &p.to_string(), "-h"])
            .arg(&hostfile)
            .stdin(Stdio::null())
            .stdout(if p == 0 { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .with_context(|| format!("cannot start process {p}"));
        match spawned {
            Ok(child) => children.push(child),
            Err(e) => {
                stop(&mut children);
                return Err(e);
            }
        }
    }
    let pids: Vec<String> =
        children.iter().enumerate().map(|(p, c)| format!("{p}:{}", c.id())).collect();
    tracing::info!("started {n} processes on loopback (process:pid {})", pids.join(" "));
    let mut done = vec![false; n];
    while done.iter().any(|d| !d) {
        for (p, child) in children.iter_mut().enumerate() {
            if done[p] {
                continue;
            }
            match child.try_wait() {
                Ok(Some(status)) if status.success() => done[p] = true,
                Ok(Some(status)) => {
                    let pid = child.id();
                    stop(&mut children);
                    return Err(anyhow::anyhow!(
                        "process {p} (pid {pid}) failed ({status}); the others were stopped and no output was written"
                    ));
                }
                Ok(None) => {}
                Err(e) => {
                    stop(&mut children);
                    return Err(e).context(format!("cannot wait for process {p}"));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Reaps the processes `--local` started, killing those still running
/// after a grace period (they normally stop by themselves once they lose
/// a peer, removing their staged output).
fn stop(children: &mut [Child]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && children.iter_mut().any(|c| matches!(c.try_wait(), Ok(None)))
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    for child in children.iter_mut() {
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
        }
        let _ = child.wait();
    }
}

/// The command line without `--local N` / `--local=N`.
fn without_local(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for a in args {
        if skip_next {
            skip_next = false;
        } else if a == "--local" {
            skip_next = true;
        } else if !a.starts_with("--local=") {
            out.push(a);
        }
    }
    out
}
