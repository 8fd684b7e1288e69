//! `hydra detect`: batch detection over an event file, writing
//! `accounts.csv`, `clusters.json`, `report.html` and `clusters.graphml`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use hydra_detect::{Config, Detection, Detector, Format, GraphmlConfig};

use crate::out::Staged;
use crate::progress;

/// Find hydra clusters in an event file and write the reports.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Event file: CSV or JSON Lines (by suffix or --format), optionally .gz,
    /// or Parquet (.parquet; needs the `parquet` feature); `-` reads standard
    /// input (gzip or not).
    #[arg(long, short, value_name = "EVENTS", required_unless_present = "print_config")]
    input: Option<PathBuf>,
    /// Directory to write accounts.csv, clusters.json, report.html and
    /// clusters.graphml into (created if missing).
    #[arg(long, short, value_name = "DIR", required_unless_present = "print_config")]
    out: Option<PathBuf>,
    #[command(flatten)]
    settings: Settings,
    /// Print the configuration in force (the defaults, or --config's) as
    /// TOML and exit.
    #[arg(long)]
    print_config: bool,
    /// Replace indicator values in every output by a keyed hash (h:…).
    #[arg(long)]
    redact: bool,
    /// Key for --redact (else $HYDRA_REDACT_KEY, else a random key that is
    /// not written anywhere, so tokens match only within this run).
    #[arg(long, value_name = "KEY", requires = "redact")]
    redact_key: Option<String>,
    /// clusters.graphml: every account in a community, not only the
    /// members of hydra networks.
    #[arg(long)]
    graphml_all: bool,
    /// clusters.graphml: also a node per indicator value that an exported
    /// cluster's evidence names (its 10 most shared) and 2 or more exported
    /// accounts hold, with an edge from each of them.
    #[arg(long)]
    graphml_indicators: bool,
}

/// Flags shared by the commands that run detection (`detect`, `explain`).
#[derive(Debug, clap::Args)]
pub(crate) struct Settings {
    /// Configuration file (TOML); see --print-config for every key.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Skip malformed rows (counted and reported) instead of stopping.
    #[arg(long)]
    lenient: bool,
    /// Input format, overriding the file suffix (standard input: csv unless set).
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<FormatArg>,
    /// Community-detection seed (default: the configuration's, 42).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
}

/// `--format` values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// CSV with a header row.
    Csv,
    /// JSON Lines.
    Jsonl,
    /// Apache Parquet (needs a build with the `parquet` feature).
    Parquet,
}

impl FormatArg {
    /// The library's format for this flag value.
    pub(crate) fn format(self) -> Format {
        match self {
            FormatArg::Csv => Format::Csv,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Parquet => Format::Parquet,
        }
    }
}

/// The configuration in the TOML file `path`, or the defaults without one.
pub(crate) fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<Config> {
    let Some(path) = path else { return Ok(Config::new()) };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    Config::from_toml_str(&text).with_context(|| format!("in config file {}", path.display()))
}

impl Settings {
    /// The configuration: `--config`'s file (or the defaults), then the flags.
    pub(crate) fn config(&self) -> anyhow::Result<Config> {
        let mut config = load_config(self.config.as_deref())?;
        let mut ingest = config.get_ingest().clone();
        if self.lenient {
            ingest = ingest.lenient(true);
        }
        if let Some(format) = self.format {
            ingest = ingest.format(Some(format.format()));
        }
        config = config.ingest(ingest);
        if let Some(seed) = self.seed {
            let leiden = config.get_leiden().clone().seed(seed);
            config = config.leiden(leiden);
        }
        Ok(config)
    }
}

/// An input ready for the detector: a file path, or standard input spooled
/// to a temporary file (so the run hashes and reads it like any file).
pub(crate) struct Input {
    path: PathBuf,
    /// What to call the input in the manifest: the path, or `-`.
    name: String,
    /// Keeps the spool file alive while it is read.
    _spool: Option<tempfile::TempDir>,
}

impl Input {
    /// Opens `arg` (`-` = standard input, spooled to a file named for
    /// `--format` if given, else for what the library recognises by content
    /// (Parquet or CSV), with `.gz` if it starts with gzip's magic bytes).
    pub(crate) fn open(arg: &Path, config: &Config) -> anyhow::Result<Input> {
        if arg != Path::new("-") {
            return Ok(Input {
                path: arg.to_path_buf(),
                name: arg.display().to_string(),
                _spool: None,
            });
        }
        let mut stdin = crate::stdin::open().context("cannot read standard input")?;
        let mut name = "stdin".to_owned();
        if let Some(format) = config.get_ingest().get_format() {
            name = format!("{name}.{format}");
        }
        if stdin.gzip {
            name.push_str(".gz");
        }
        let dir = tempfile::tempdir().context("cannot create a spool for standard input")?;
        let path = dir.path().join(name);
        let mut file = std::fs::File::create(&path).context("cannot spool standard input")?;
        std::io::copy(&mut stdin.bytes, &mut file).context("cannot read standard input")?;
        file.sync_all().ok();
        Ok(Input { path, name: "-".to_owned(), _spool: Some(dir) })
    }

    /// The file to read.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Logs (`-v`) the files written, their total size and the time taken.
pub(crate) fn log_written(written: &[PathBuf], time: Duration) {
    let bytes: u64 =
        written.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    tracing::info!(files = written.len(), bytes, secs = time.as_secs_f64(), "write");
}

/// The report files `hydra detect` writes.
pub(crate) const REPORTS: [&str; 4] =
    ["accounts.csv", "clusters.json", "report.html", "clusters.graphml"];

/// Writes the four report files of `detection` into `staged`'s directory,
/// all or nothing.
pub(crate) fn write_reports(
    detection: &Detection,
    graphml: &GraphmlConfig<'_>,
    mut staged: Staged,
) -> anyhow::Result<Vec<PathBuf>> {
    progress::start("write");
    staged.write("accounts.csv", |w| Ok(hydra_detect::write_accounts_csv(detection, w)?))?;
    staged.write("clusters.json", |w| Ok(hydra_detect::write_clusters_json(detection, w)?))?;
    staged.write("report.html", |w| Ok(hydra_detect::write_html(detection, w)?))?;
    staged.write("clusters.graphml", |w| {
        Ok(hydra_detect::write_graphml_with(detection, graphml, w)?)
    })?;
    let written = staged.commit();
    progress::done("write");
    written
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.settings.config()?;
    if args.print_config {
        let text = config.to_toml_string()?;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        return Ok(());
    }
    let (Some(input), Some(out)) = (args.input, args.out) else {
        return Err(crate::exit::usage("--input and --out are required"));
    };
    let started = Instant::now();
    crate::out::check_not_replacing(&input, &out, &REPORTS)?;
    // Before the run: an unwritable --out fails now, not after the work.
    let staged = Staged::new(&out)?;
    let input = Input::open(&input, &config)?;
    let detector = Detector::new(config);
    let detect_started = Instant::now();
    let result = detector.analyze_path(input.path());
    let analysis = result.with_context(|| format!("cannot detect in {}", input.name))?;
    let holders = args.graphml_indicators.then(|| analysis.indicator_holders());
    let mut detection = analysis.into_detection();
    let skipped: u64 = detection.run.skipped_rows.values().sum();
    warn_skipped(&input.name, skipped, detection.run.skipped_examples.iter());
    let detect_time = detect_started.elapsed();
    detection.run.input = input.name.clone();

    let write_started = Instant::now();
    let mut graphml = GraphmlConfig::new().all_accounts(args.graphml_all);
    if let Some(holders) = &holders {
        graphml = graphml.indicators(holders);
    }
    let (written, redaction) = write_outputs(
        &detection,
        args.redact.then_some(args.redact_key.as_deref()),
        &graphml,
        staged,
    )?;
    let write_time = write_started.elapsed();
    log_written(&written, write_time);

    let mut timings: Vec<(String, Duration)> = if detection.run.timings.is_empty() {
        vec![("detect".to_owned(), detect_time)]
    } else {
        detection
            .run
            .timings
            .iter()
            .map(|(k, s)| (k.clone(), Duration::from_secs_f64(*s)))
            .collect()
    };
    timings.push(("write".to_owned(), write_time));
    timings.push(("total".to_owned(), started.elapsed()));
    let mut text = summary(&detection, 10);
    let _ = writeln!(text, "timings: {}", format_timings(&timings));
    if let Some(source) = redaction {
        let _ = writeln!(text, "indicator values redacted (key {source})");
    }
    push_wrote(&mut text, &written);
    // Cluster ids and paths come from the input and the command line.
    std::io::stdout().lock().write_all(crate::terminal::safe(&text).as_bytes())?;
    Ok(())
}

/// Warns on standard error that `total` bad rows of `name` were skipped,
/// with the first ten `examples` (`line N: ...`).
pub(crate) fn warn_skipped<'a>(name: &str, total: u64, examples: impl Iterator<Item = &'a String>) {
    if total == 0 {
        return;
    }
    let mut stderr = std::io::stderr().lock();
    let _ =
        writeln!(stderr, "warning: {total} bad rows skipped in {}", crate::terminal::safe(name));
    for example in examples.take(10) {
        let _ = writeln!(stderr, "  {}", crate::terminal::safe(example));
    }
}

/// Writes the reports of `detection` into `staged`, all or nothing:
/// redacted when `redact` is `Some(--redact-key)` (indicator nodes too:
/// their values come from the redacted copy), with `graphml`'s choices.
/// Returns the files and, when redacted, where the key came from.
pub(crate) fn write_outputs(
    detection: &Detection,
    redact: Option<Option<&str>>,
    graphml: &GraphmlConfig<'_>,
    staged: Staged,
) -> anyhow::Result<(Vec<PathBuf>, Option<&'static str>)> {
    match redact {
        Some(flag) => {
            let (key, source) = redact_key(flag);
            let redacted = hydra_detect::redact(detection, &key);
            Ok((write_reports(&redacted, graphml, staged)?, Some(source)))
        }
        None => Ok((write_reports(detection, graphml, staged)?, None)),
    }
}

/// Appends the `wrote a, b, …` line of the run's summary.
pub(crate) fn push_wrote(text: &mut String, written: &[PathBuf]) {
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    let _ = writeln!(text, "wrote {}", names.join(", "));
}

/// The redaction key and where it came from.
fn redact_key(flag: Option<&str>) -> (Vec<u8>, &'static str) {
    if let Some(key) = flag {
        return (key.as_bytes().to_vec(), "from --redact-key");
    }
    if let Some(key) = std::env::var_os("HYDRA_REDACT_KEY").filter(|k| !k.is_empty()) {
        return (key.as_encoded_bytes().to_vec(), "from HYDRA_REDACT_KEY");
    }
    let key: [u8; 32] = rand::random();
    (key.to_vec(), "random for this run, not stored")
}

/// `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `read 0.52s, graph 0.10s, …`.
pub(crate) fn format_timings(timings: &[(String, Duration)]) -> String {
    timings
        .iter()
        .map(|(name, d)| format!("{name} {:.2}s", d.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The compact summary of a detection: counts, skipped rows, the top
/// `top` hydra clusters with their sizes, scores and strongest signals, and
/// the replacements. Every figure comes from `detection`.
pub(crate) fn summary(detection: &Detection, top: usize) -> String {
    let run = &detection.run;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} events, {} accounts, {} communities of 2+ accounts",
        thousands(run.events),
        thousands(detection.accounts.len() as u64),
        thousands(detection.clusters.len() as u64)
    );
    let skipped: u64 = run.skipped_rows.values().sum();
    if skipped > 0 {
        let reasons: Vec<String> =
            run.skipped_rows.iter().map(|(k, v)| format!("{k} {}", thousands(*v))).collect();
        let _ =
            writeln!(s, "skipped {} malformed rows ({})", thousands(skipped), reasons.join(", "));
    }
    let mut hydras: Vec<_> = detection.hydra_clusters().collect();
    hydras.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    let in_hydras: usize = hydras.iter().map(|c| c.size).sum();
    let _ = writeln!(
        s,
        "hydra clusters: {} ({} accounts)",
        thousands(hydras.len() as u64),
        thousands(in_hydras as u64)
    );
    for (rank, c) in hydras.iter().enumerate().take(top) {
        let mut signals: Vec<_> = c.signals.iter().filter(|x| x.value > 0.0).collect();
        signals.sort_by(|a, b| {
            (b.value * b.weight).total_cmp(&(a.value * a.weight)).then_with(|| a.name.cmp(&b.name))
        });
        let strongest: Vec<String> =
            signals.iter().take(3).map(|x| format!("{} {:.2}", x.name, x.value)).collect();
        let _ = writeln!(
            s,
            "  #{:<3} {}  score {:.3}  size {}  banned {}  [{}]",
            rank + 1,
            c.id,
            c.score,
            thousands(c.size as u64),
            c.evidence.banned_members.len(),
            strongest.join(", ")
        );
    }
    if hydras.len() > top {
        let _ = writeln!(s, "  … and {} more (clusters.json)", hydras.len() - top);
    }
    let _ = writeln!(s, "replacements: {}", thousands(detection.replacements.len() as u64));
    s
}
