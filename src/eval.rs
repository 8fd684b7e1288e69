//! Detection quality against ground truth: precision, recall, false
//! positives by hard situation, recall per operator, replacements, and
//! time-to-flag of a `hydra watch` stream.
//!
//! # Overview
//!
//! - [`Truth`] (re-exported from [`crate::sim`]) reads `truth.csv`.
//! - [`AccountFlags`] reads a batch verdict, `accounts.csv`
//!   (`account,cluster,score,flag`).
//! - [`FlagStream`] reads a `hydra watch` output (JSON Lines flags; a
//!   `retract` cancels an earlier `replacement`).
//! - [`evaluate`] compares them and returns a [`Report`] (serde-serializable,
//!   readable with `{}`).
//!
//! # Definitions
//!
//! - An account is *hydra* in truth if its role is `hydra` or
//!   `hydra_replacement`; it is *flagged* if its flag is not `none`. Truth
//!   accounts missing from `accounts.csv` count as `none`; rows of
//!   `accounts.csv` unknown to the truth are counted and left out.
//! - Replacement precision and recall compare role `hydra_replacement` with
//!   flag `replacement`.
//! - Time-to-flag, for each correctly flagged replacement of the stream: the
//!   seconds from its signup to the flag, and the *events after signup* —
//!   the signup is event 0, the account's next event is event 1, and the
//!   flag's `seq` (the 1-based position of the event that caused it in the
//!   stream given to the watcher) names the last event counted. The events
//!   file must be that same stream. Medians and 95th percentiles use the
//!   nearest-rank definition (the ⌈p·n⌉-th smallest value).
//! - An operator's *concentration* is the largest share of its accounts
//!   flagged in one reported cluster (the `cluster` column of
//!   `accounts.csv`): how nearly the operator came out as one case.
//! - *Purity* of the flagged clusters weighs every flagged account that has
//!   a cluster: in each cluster, the accounts of its main operator are pure,
//!   the rest (another operator's, or legitimate ones) impure; purity is
//!   pure / all. A cluster whose largest group is legitimate counts wholly
//!   impure.
//! - Undefined ratios (no flagged accounts, no positives) are `None`
//!   (`null` in JSON, `n/a` in text).
//!
//! # Example
//!
//! ```
//! use hydra_detect::eval::{AccountFlags, EvalInput, Truth, evaluate};
//!
//! let truth = Truth::from_csv_reader(
//!     "account,role,group,group_type,tags\na,hydra,op-1,operator,\nb,legit,,solo,\n".as_bytes(),
//!     "truth.csv",
//! )?;
//! let flags = AccountFlags::from_csv_reader(
//!     "account,cluster,score,flag\na,c-1,0.9,hydra\nb,c-1,0.9,hydra\n".as_bytes(),
//!     "accounts.csv",
//! )?;
//! let report = evaluate(&EvalInput::new(&truth, &flags))?;
//! assert_eq!(report.hydra.precision, Some(0.5));
//! assert_eq!(report.hydra.recall, Some(1.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;

use ahash::AHashMap;

use crate::error::{Error, ErrorKind, InputProblem, Result};
use crate::event::{Action, Timestamp};
use crate::ingest::normalize::clip;
use crate::ingest::{EventReader, IngestConfig};
use crate::report::Flag;
pub use crate::sim::{Role, Truth};

fn input_error(line: u64, problem: InputProblem, message: impl fmt::Display, file: &str) -> Error {
    Error::input(line, problem, format!("{message} in {file}"))
}

/// One row of `accounts.csv`: account, flag, cluster.
type Row = (Box<str>, Option<Flag>, Option<Box<str>>);

/// Flags of a batch run, read from `accounts.csv`.
#[derive(Clone, Debug, Default)]
pub struct AccountFlags {
    /// `(account, flag, cluster)`, sorted by account, unique.
    rows: Vec<Row>,
}

impl AccountFlags {
    /// Flags from `(account, flag)` pairs (`None` = `none`).
    ///
    /// # Errors
    ///
    /// An input error naming a duplicate account.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, Option<Flag>)>) -> Result<Self> {
        let mut rows: Vec<Row> =
            pairs.into_iter().map(|(a, f)| (a.into_boxed_str(), f, None)).collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::invalid_argument(format!("duplicate account {:?}", clip(&w[0].0))));
        }
        Ok(Self { rows })
    }

    /// Flags and clusters of a batch result, as its `accounts.csv` holds
    /// them (an account listed among the replacements is `replacement`).
    pub fn from_detection(detection: &crate::Detection) -> Self {
        let replacements: ahash::AHashSet<&str> =
            detection.replacements.iter().map(|r| r.account.as_str()).collect();
        let mut rows: Vec<Row> = detection
            .accounts
            .iter()
            .map(|v| {
                let listed = replacements.contains(v.account.as_str());
                let flag = if listed { Some(Flag::Replacement) } else { v.flag };
                let cluster = v.cluster.as_ref().map(|c| Box::from(c.as_str()));
                (v.account.as_str().into(), flag, cluster)
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows.dedup_by(|a, b| a.0 == b.0);
        Self { rows }
    }

    /// Reads `accounts.csv` from `path`.
    ///
    /// # Errors
    ///
    /// An I/O error naming the file, or an input error naming the line and
    /// the file for a missing column, an unknown flag or a duplicate account.
    pub fn read_csv(path: &Path) -> Result<Self> {
        let file = Error::open(path)?;
        Self::from_csv_reader(std::io::BufReader::new(file), &path.display().to_string())
    }

    /// Reads `accounts.csv` content; `name` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`AccountFlags::read_csv`].
    pub fn from_csv_reader<R: Read>(reader: R, name: &str) -> Result<Self> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers = rdr
            .headers()
            .map_err(|e| input_error(1, InputProblem::Syntax, format!("bad header: {e}"), name))?
            .clone();
        let col = |want: &str| {
            headers.iter().position(|h| h == want).ok_or_else(|| {
                input_error(
                    1,
                    InputProblem::Header,
                    format!("missing column {want:?} (expected account,cluster,score,flag)"),
                    name,
                )
            })
        };
        let (ca, cf) = (col("account")?, col("flag")?);
        let cc = headers.iter().position(|h| h == "cluster");
        let mut rows: Vec<Row> = Vec::new();
        let mut seen: AHashMap<Box<str>, u64> = AHashMap::new();
        let mut record = csv::StringRecord::new();
        loop {
            let line = rdr.position().line();
            match rdr.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    return Err(input_error(
                        line,
                        InputProblem::Syntax,
                        format!("malformed row: {e}"),
                        name,
                    ));
                }
            }
            let account = crate::report::undefuse(record.get(ca).unwrap_or(""));
            if account.is_empty() {
                return Err(input_error(line, InputProblem::Account, "empty account", name));
            }
            let flag = match record.get(cf).unwrap_or("") {
                "none" | "" => None,
                "hydra" => Some(Flag::Hydra),
                "replacement" => Some(Flag::Replacement),
                other => {
                    let msg = format!(
                        "unknown flag {:?} (expected none, hydra or replacement)",
                        clip(other)
                    );
                    return Err(input_error(line, InputProblem::Value, msg, name));
                }
            };
            if let Some(first) = seen.insert(account.into(), line) {
                let msg = format!("duplicate account {:?} (first on line {first})", clip(account));
                return Err(input_error(line, InputProblem::Account, msg, name));
            }
            let cluster = cc.and_then(|c| record.get(c)).filter(|c| !c.is_empty());
            rows.push((Box::from(account), flag, cluster.map(Box::from)));
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Self { rows })
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The flag of `account`: `None` if absent, `Some(None)` for `none`.
    pub fn get(&self, account: &str) -> Option<Option<Flag>> {
        let i = self.rows.binary_search_by(|r| (*r.0).cmp(account)).ok()?;
        Some(self.rows[i].1)
    }

    /// The reported cluster of `account`, if it has one.
    pub fn cluster(&self, account: &str) -> Option<&str> {
        let i = self.rows.binary_search_by(|r| (*r.0).cmp(account)).ok()?;
        self.rows[i].2.as_deref()
    }
}

/// What a streamed flag says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamFlagKind {
    /// The account joined a hydra cluster.
    Hydra,
    /// The account was judged a replacement of banned accounts.
    Replacement,
    /// An earlier replacement flag of the account is withdrawn.
    Retract,
}

/// One flag of a `hydra watch` stream (the fields evaluation needs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamFlag {
    /// 1-based position of the event that caused the flag.
    pub seq: u64,
    /// That event's time.
    pub ts: Timestamp,
    /// The account flagged.
    pub account: String,
    /// What the flag says.
    pub kind: StreamFlagKind,
}

/// The flags of a `hydra watch` run, in output order.
#[derive(Clone, Debug, Default)]
pub struct FlagStream {
    flags: Vec<StreamFlag>,
}

#[derive(serde::Deserialize)]
struct RawFlag {
    seq: u64,
    ts: Timestamp,
    account: String,
    flag: String,
}

impl FlagStream {
    /// A stream of the given flags.
    pub fn new(flags: Vec<StreamFlag>) -> Self {
        Self { flags }
    }

    /// The flags in order.
    pub fn flags(&self) -> &[StreamFlag] {
        &self.flags
    }

    /// Reads a JSON Lines flag stream from `path`.
    ///
    /// # Errors
    ///
    /// An I/O error naming the file, or an input error naming the line and
    /// the file for a line that is not a flag object (with integer `seq` and
    /// `ts`, string `account` and `flag` among `hydra`, `replacement`,
    /// `retract`). Blank lines are skipped.
    pub fn read_jsonl(path: &Path) -> Result<Self> {
        let file = Error::open(path)?;
        Self::from_jsonl_reader(std::io::BufReader::new(file), &path.display().to_string())
    }

    /// Reads a JSON Lines flag stream; `name` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`FlagStream::read_jsonl`].
    pub fn from_jsonl_reader<R: BufRead>(reader: R, name: &str) -> Result<Self> {
        let mut flags = Vec::new();
        for (i, line) in reader.lines().enumerate() {
            let n = i as u64 + 1;
            let line = line.map_err(|e| {
                Error::io(format!("cannot read {name} at line {n}"), Some(name.into()), e)
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let raw: RawFlag = serde_json::from_str(&line).map_err(|e| {
                input_error(n, InputProblem::Syntax, format!("not a flag object: {e}"), name)
            })?;
            let kind = match raw.flag.as_str() {
                "hydra" => StreamFlagKind::Hydra,
                "replacement" => StreamFlagKind::Replacement,
                "retract" => StreamFlagKind::Retract,
                other => {
                    let msg = format!(
                        "unknown flag {:?} (expected hydra, replacement or retract)",
                        clip(other)
                    );
                    return Err(input_error(n, InputProblem::Value, msg, name));
                }
            };
            flags.push(StreamFlag { seq: raw.seq, ts: raw.ts, account: raw.account, kind });
        }
        Ok(Self { flags })
    }
}

/// What to evaluate: a truth, a batch verdict, and optionally a flag stream
/// and the events file it was produced from.
#[derive(Clone, Copy, Debug)]
pub struct EvalInput<'a> {
    truth: &'a Truth,
    accounts: &'a AccountFlags,
    watch: Option<&'a FlagStream>,
    events: Option<&'a Path>,
}

impl<'a> EvalInput<'a> {
    /// Evaluate `accounts` against `truth`.
    pub fn new(truth: &'a Truth, accounts: &'a AccountFlags) -> Self {
        Self { truth, accounts, watch: None, events: None }
    }

    /// Also evaluate a `hydra watch` flag stream.
    pub fn watch(mut self, flags: &'a FlagStream) -> Self {
        self.watch = Some(flags);
        self
    }

    /// The events file the stream was produced from (any format
    /// [`EventReader::open`] reads), for time-to-flag.
    pub fn events(mut self, path: &'a Path) -> Self {
        self.events = Some(path);
        self
    }
}

/// Counts of a binary decision and their ratios.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Confusion {
    /// Flagged and positive.
    pub true_positives: u64,
    /// Flagged, not positive.
    pub false_positives: u64,
    /// Positive, not flagged.
    pub false_negatives: u64,
    /// tp / (tp + fp), if anything was flagged.
    pub precision: Option<f64>,
    /// tp / (tp + fn), if there are positives.
    pub recall: Option<f64>,
    /// Harmonic mean of precision and recall, if both are defined and not both 0.
    pub f1: Option<f64>,
}

impl Confusion {
    fn new(tp: u64, fp: u64, fn_: u64) -> Self {
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = match (precision, recall) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            _ => None,
        };
        Self {
            true_positives: tp,
            false_positives: fp,
            false_negatives: fn_,
            precision,
            recall,
            f1,
        }
    }
}

/// Flagged legitimate accounts in one group type or with one tag.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FalsePositives {
    /// The group type or tag.
    pub name: String,
    /// Legitimate accounts in it.
    pub legit: u64,
    /// Of those, flagged (any flag).
    pub flagged: u64,
    /// Flagged per 10,000 of its legitimate accounts.
    pub per_10k: f64,
}

/// How much of one operator was flagged.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OperatorRecall {
    /// Operator id (the truth's group).
    pub operator: String,
    /// Its accounts, replacements included.
    pub size: u64,
    /// Of which replacements.
    pub replacements: u64,
    /// Its accounts flagged (any flag).
    pub flagged: u64,
    /// flagged / size.
    pub recall: f64,
    /// The largest share of its accounts flagged in one reported cluster.
    pub concentration: f64,
    /// Tags its accounts carry (e.g. `careful_operator`).
    pub tags: Vec<String>,
}

/// Time from signup to a correct replacement flag.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TimeToFlag {
    /// Correctly flagged replacements measured.
    pub count: u64,
    /// Median seconds from signup to flag.
    pub seconds_median: i64,
    /// 95th percentile of seconds from signup to flag.
    pub seconds_p95: i64,
    /// Median events after signup at the flag.
    pub events_median: u64,
    /// 95th percentile of events after signup at the flag.
    pub events_p95: u64,
}

/// How the stream's standing replacement flags agree with the batch
/// verdict (`accounts.csv`), over the accounts of `accounts.csv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Agreement {
    /// Replacements in both.
    pub both: u64,
    /// Replacements in the batch verdict only.
    pub batch_only: u64,
    /// Replacements in the stream only.
    pub watch_only: u64,
}

/// Quality of a `hydra watch` flag stream.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct WatchReport {
    /// Flag lines read.
    pub flags: u64,
    /// Of which `retract`.
    pub retracts: u64,
    /// Flagged accounts unknown to the truth (left out).
    pub unknown_accounts: u64,
    /// Replacement flags still standing at the end vs role `hydra_replacement`.
    pub replacement: Confusion,
    /// Accounts with any standing flag vs hydra roles.
    pub hydra: Confusion,
    /// For correctly flagged replacements; `None` without an events file or
    /// without any correct replacement flag.
    pub time_to_flag: Option<TimeToFlag>,
    /// Agreement of its replacement flags with the batch verdict.
    pub agreement: Agreement,
}

/// The evaluation; see the [module docs](self) for the definitions.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Report {
    /// Accounts in the truth.
    pub truth_accounts: u64,
    /// Of which legitimate.
    pub legit_accounts: u64,
    /// Of which hydra (replacements included).
    pub hydra_accounts: u64,
    /// Of which replacements.
    pub replacement_accounts: u64,
    /// Rows of `accounts.csv`.
    pub flagged_file_accounts: u64,
    /// Rows of `accounts.csv` not in the truth (left out).
    pub unknown_accounts: u64,
    /// Truth accounts missing from `accounts.csv` (counted as `none`).
    pub missing_accounts: u64,
    /// Hydra accounts (any flag) vs hydra roles.
    pub hydra: Confusion,
    /// Flagged legitimate accounts per 10,000 legitimate accounts.
    pub false_positives_per_10k: f64,
    /// False positives by legitimate group type, largest count first.
    pub false_positives_by_group_type: Vec<FalsePositives>,
    /// False positives by tag of legitimate accounts, largest count first.
    pub false_positives_by_tag: Vec<FalsePositives>,
    /// Recall per operator, by operator id.
    pub operators: Vec<OperatorRecall>,
    /// Reported clusters holding flagged accounts.
    pub flagged_clusters: u64,
    /// Purity of those clusters (see the module docs); `None` without any.
    pub cluster_purity: Option<f64>,
    /// Flag `replacement` vs role `hydra_replacement`.
    pub replacement: Confusion,
    /// The flag stream's quality, if one was given.
    pub watch: Option<WatchReport>,
}

/// Nearest-rank percentile `p` in (0, 1] of a sorted, non-empty slice.
fn percentile<T: Copy>(sorted: &[T], p: f64) -> T {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Default)]
struct Tally {
    legit: u64,
    flagged: u64,
}

fn false_positives(map: BTreeMap<String, Tally>) -> Vec<FalsePositives> {
    let mut v: Vec<FalsePositives> = map
        .into_iter()
        .map(|(name, t)| FalsePositives {
            name,
            legit: t.legit,
            flagged: t.flagged,
            per_10k: if t.legit == 0 { 0.0 } else { t.flagged as f64 * 1e4 / t.legit as f64 },
        })
        .collect();
    v.sort_by(|a, b| b.flagged.cmp(&a.flagged).then_with(|| a.name.cmp(&b.name)));
    v
}

/// Evaluates a batch verdict (and optionally a flag stream) against truth.
///
/// # Errors
///
/// Only when an events file is given: an I/O or input error from reading it
/// (naming the file and line).
///
/// # Complexity
///
/// `O(A log A + F + E)` for `A` accounts, `F` flags and `E` events; memory
/// `O(A)` (the events are streamed).
pub fn evaluate(input: &EvalInput<'_>) -> Result<Report> {
    let truth = input.truth;
    let mut legit = 0;
    let mut hydra = 0;
    let mut replacements = 0;
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    let (mut rtp, mut rfp, mut rfn) = (0, 0, 0);
    let mut missing = 0;
    let mut by_type: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_tag: BTreeMap<String, Tally> = BTreeMap::new();
    let mut ops: BTreeMap<String, OperatorRecall> = BTreeMap::new();
    // Per reported cluster, its flagged accounts by operator (`None`: legitimate).
    let mut clusters: BTreeMap<&str, BTreeMap<Option<&str>, u64>> = BTreeMap::new();
    for a in truth.iter() {
        let flag = match input.accounts.get(a.account()) {
            Some(f) => f,
            None => {
                missing += 1;
                None
            }
        };
        let flagged = flag.is_some();
        let role = a.role();
        if let Some(c) = input.accounts.cluster(a.account()).filter(|_| flagged) {
            let who = role.is_hydra().then(|| a.group());
            *clusters.entry(c).or_default().entry(who).or_default() += 1;
        }
        if role.is_hydra() {
            hydra += 1;
            if flagged {
                tp += 1
            } else {
                fn_ += 1
            }
            let op = ops.entry(a.group().to_owned()).or_insert_with(|| OperatorRecall {
                operator: a.group().to_owned(),
                size: 0,
                replacements: 0,
                flagged: 0,
                recall: 0.0,
                concentration: 0.0,
                tags: Vec::new(),
            });
            op.size += 1;
            op.flagged += u64::from(flagged);
            for t in a.tags() {
                if !op.tags.iter().any(|x| x == t) {
                    op.tags.push(t.to_owned());
                }
            }
        } else {
            legit += 1;
            if flagged {
                fp += 1;
            }
            let t = by_type.entry(a.group_type().to_owned()).or_default();
            t.legit += 1;
            t.flagged += u64::from(flagged);
            for tag in a.tags() {
                let t = by_tag.entry(tag.to_owned()).or_default();
                t.legit += 1;
                t.flagged += u64::from(flagged);
            }
        }
        let is_repl = role == Role::HydraReplacement;
        let flagged_repl = flag == Some(Flag::Replacement);
        if is_repl {
            replacements += 1;
            if let Some(op) = ops.get_mut(a.group()) {
                op.replacements += 1;
            }
        }
        match (is_repl, flagged_repl) {
            (true, true) => rtp += 1,
            (false, true) => rfp += 1,
            (true, false) => rfn += 1,
            (false, false) => {}
        }
    }
    let unknown =
        input.accounts.rows.iter().filter(|(a, _, _)| truth.get(a).is_none()).count() as u64;
    let (mut pure, mut in_clusters) = (0u64, 0u64);
    let mut largest: BTreeMap<&str, u64> = BTreeMap::new();
    for groups in clusters.values() {
        in_clusters += groups.values().sum::<u64>();
        // The main group: most accounts, ties to the first in order.
        let main = groups.iter().fold(None, |best: Option<(Option<&str>, u64)>, (g, &k)| {
            if best.is_none_or(|b| k > b.1) { Some((*g, k)) } else { best }
        });
        if let Some((Some(_), k)) = main {
            pure += k;
        }
        for (g, &k) in groups {
            if let Some(op) = g {
                let l = largest.entry(op).or_default();
                *l = (*l).max(k);
            }
        }
    }
    let operators = ops
        .into_values()
        .map(|mut o| {
            let share = |k: u64| if o.size == 0 { 0.0 } else { k as f64 / o.size as f64 };
            o.recall = share(o.flagged);
            o.concentration = share(largest.get(o.operator.as_str()).copied().unwrap_or(0));
            o
        })
        .collect();
    let watch = match input.watch {
        Some(stream) => Some(evaluate_stream(truth, input.accounts, stream, input.events)?),
        None => None,
    };
    Ok(Report {
        truth_accounts: truth.len() as u64,
        legit_accounts: legit,
        hydra_accounts: hydra,
        replacement_accounts: replacements,
        flagged_file_accounts: input.accounts.len() as u64,
        unknown_accounts: unknown,
        missing_accounts: missing,
        hydra: Confusion::new(tp, fp, fn_),
        false_positives_per_10k: if legit == 0 { 0.0 } else { fp as f64 * 1e4 / legit as f64 },
        false_positives_by_group_type: false_positives(by_type),
        false_positives_by_tag: false_positives(by_tag),
        operators,
        flagged_clusters: clusters.len() as u64,
        cluster_purity: (in_clusters > 0).then(|| pure as f64 / in_clusters as f64),
        replacement: Confusion::new(rtp, rfp, rfn),
        watch,
    })
}

/// The standing state of one account in a flag stream.
#[derive(Clone, Copy, Debug, Default)]
struct Standing {
    hydra: bool,
    /// The standing replacement flag's (seq, ts).
    replacement: Option<(u64, Timestamp)>,
}

fn evaluate_stream(
    truth: &Truth,
    batch: &AccountFlags,
    stream: &FlagStream,
    events: Option<&Path>,
) -> Result<WatchReport> {
    let mut state: BTreeMap<&str, Standing> = BTreeMap::new();
    let mut retracts = 0;
    for f in &stream.flags {
        let s = state.entry(f.account.as_str()).or_default();
        match f.kind {
            StreamFlagKind::Hydra => s.hydra = true,
            StreamFlagKind::Replacement => s.replacement = Some((f.seq, f.ts)),
            StreamFlagKind::Retract => {
                retracts += 1;
                s.replacement = None;
            }
        }
    }
    let unknown = state.keys().filter(|a| truth.get(a).is_none()).count() as u64;
    let mut agreement = Agreement::default();
    for (account, _, _) in &batch.rows {
        let streamed = state.get(&**account).is_some_and(|s| s.replacement.is_some());
        let batched = batch.get(account) == Some(Some(Flag::Replacement));
        match (batched, streamed) {
            (true, true) => agreement.both += 1,
            (true, false) => agreement.batch_only += 1,
            (false, true) => agreement.watch_only += 1,
            (false, false) => {}
        }
    }
    let (mut rtp, mut rfp, mut htp, mut hfp) = (0, 0, 0, 0);
    // Correct replacement flags: account -> (flag seq, flag ts).
    let mut correct: AHashMap<&str, (u64, Timestamp)> = AHashMap::new();
    for (&account, s) in &state {
        let Some(t) = truth.get(account) else { continue };
        if let Some(r) = s.replacement {
            if t.role() == Role::HydraReplacement {
                rtp += 1;
                correct.insert(account, r);
            } else {
                rfp += 1;
            }
        }
        if s.hydra || s.replacement.is_some() {
            if t.role().is_hydra() { htp += 1 } else { hfp += 1 }
        }
    }
    let positives = truth.iter().filter(|a| a.role() == Role::HydraReplacement).count() as u64;
    let hydra_positives = truth.iter().filter(|a| a.role().is_hydra()).count() as u64;
    let time_to_flag = match events {
        Some(path) if !correct.is_empty() => Some(time_to_flag(path, &correct)?),
        _ => None,
    };
    Ok(WatchReport {
        flags: stream.flags.len() as u64,
        retracts,
        unknown_accounts: unknown,
        replacement: Confusion::new(rtp, rfp, positives - rtp),
        hydra: Confusion::new(htp, hfp, hydra_positives - htp),
        time_to_flag,
        agreement,
    })
}

/// Streams the events once, counting for each target account its events up
/// to and including the flag's `seq`, and finding its signup time.
fn time_to_flag(path: &Path, targets: &AHashMap<&str, (u64, Timestamp)>) -> Result<TimeToFlag> {
    #[derive(Default, Clone, Copy)]
    struct Seen {
        signup: Option<Timestamp>,
        earliest: Option<Timestamp>,
        counted: u64,
    }
    let file = path.display().to_string();
    let reader = EventReader::open(path, &IngestConfig::new())?;
    let mut seen: AHashMap<&str, Seen> = AHashMap::with_capacity(targets.len());
    for record in reader {
        let record = record.map_err(|e| match e.kind() {
            ErrorKind::Input { line, problem, message } => {
                input_error(*line, *problem, message, &file)
            }
            _ => e,
        })?;
        let Some((&account, &(flag_seq, _))) = targets.get_key_value(record.event.account.as_str())
        else {
            continue;
        };
        let s = seen.entry(account).or_default();
        let ts = record.event.ts;
        if record.event.action == Action::Signup && s.signup.is_none() {
            s.signup = Some(ts);
        }
        s.earliest = Some(s.earliest.map_or(ts, |e| e.min(ts)));
        if record.seq <= flag_seq {
            s.counted += 1;
        }
    }
    let mut seconds = Vec::with_capacity(targets.len());
    let mut events = Vec::with_capacity(targets.len());
    let mut accounts: Vec<&&str> = targets.keys().collect();
    accounts.sort_unstable();
    for account in accounts {
        let (_, flag_ts) = targets[*account];
        let s = seen.get(*account).copied().unwrap_or_default();
        let Some(signup) = s.signup.or(s.earliest) else { continue };
        seconds.push(flag_ts - signup);
        events.push(s.counted.saturating_sub(1));
    }
    seconds.sort_unstable();
    events.sort_unstable();
    if seconds.is_empty() {
        return Err(Error::invalid_argument(format!(
            "no event of any flagged replacement found in {file} (is it the stream the watcher read?)"
        )));
    }
    Ok(TimeToFlag {
        count: seconds.len() as u64,
        seconds_median: percentile(&seconds, 0.5),
        seconds_p95: percentile(&seconds, 0.95),
        events_median: percentile(&events, 0.5),
        events_p95: percentile(&events, 0.95),
    })
}

struct Ratio(Option<f64>);

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(x) => write!(f, "{x:.4}"),
            None => f.write_str("n/a"),
        }
    }
}

impl fmt::Display for Confusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "precision {}  recall {}  F1 {}  (tp {}, fp {}, fn {})",
            Ratio(self.precision),
            Ratio(self.recall),
            Ratio(self.f1),
            self.true_positives,
            self.false_positives,
            self.false_negatives
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "truth: {} accounts ({} legit, {} hydra of which {} replacements)",
            self.truth_accounts,
            self.legit_accounts,
            self.hydra_accounts,
            self.replacement_accounts
        )?;
        if self.unknown_accounts > 0 || self.missing_accounts > 0 {
            writeln!(
                f,
                "accounts.csv: {} rows, {} not in truth (ignored), {} truth accounts missing (as none)",
                self.flagged_file_accounts, self.unknown_accounts, self.missing_accounts
            )?;
        }
        writeln!(f, "hydra accounts:   {}", self.hydra)?;
        writeln!(f, "replacements:     {}", self.replacement)?;
        writeln!(
            f,
            "false positives:  {} legit accounts flagged, {:.2} per 10,000",
            self.hydra.false_positives, self.false_positives_per_10k
        )?;
        let table = |f: &mut fmt::Formatter<'_>, title: &str, rows: &[FalsePositives]| {
            writeln!(f, "  by {title}:")?;
            for r in rows {
                writeln!(
                    f,
                    "    {:<18} {:>6} of {:>8}  ({:.2} per 10,000)",
                    r.name, r.flagged, r.legit, r.per_10k
                )?;
            }
            Ok(())
        };
        table(f, "group type", &self.false_positives_by_group_type)?;
        table(f, "tag", &self.false_positives_by_tag)?;
        writeln!(f, "recall per operator:")?;
        for o in &self.operators {
            writeln!(
                f,
                "    {:<8} {:>6} of {:>6} ({} replacements)  recall {:.4}  in one cluster {:.4}  [{}]",
                o.operator,
                o.flagged,
                o.size,
                o.replacements,
                o.recall,
                o.concentration,
                o.tags.join(", ")
            )?;
        }
        match self.cluster_purity {
            Some(p) => writeln!(
                f,
                "flagged clusters: {}, purity {:.4} (accounts weighted)",
                self.flagged_clusters, p
            )?,
            None => writeln!(f, "flagged clusters: 0, purity n/a")?,
        }
        if let Some(w) = &self.watch {
            writeln!(f, "watch stream: {} flags ({} retracts)", w.flags, w.retracts)?;
            writeln!(f, "  replacements:   {}", w.replacement)?;
            writeln!(f, "  hydra accounts: {}", w.hydra)?;
            match &w.time_to_flag {
                Some(t) => writeln!(
                    f,
                    "  time to flag ({} replacements): median {} s / {} events after signup, \
                     p95 {} s / {} events",
                    t.count, t.seconds_median, t.events_median, t.seconds_p95, t.events_p95
                )?,
                None => writeln!(f, "  time to flag: n/a (needs --events and a correct flag)")?,
            }
            let a = &w.agreement;
            writeln!(
                f,
                "  replacements vs batch: {} in both, {} batch only, {} watch only",
                a.both, a.batch_only, a.watch_only
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&v, 0.5), 5);
        assert_eq!(percentile(&v, 0.95), 10);
        assert_eq!(percentile(&[7], 0.95), 7);
        assert_eq!(percentile(&[1, 2, 3], 0.5), 2);
    }

    #[test]
    fn confusion_handles_empty_sides() {
        let c = Confusion::new(0, 0, 3);
        assert_eq!((c.precision, c.recall, c.f1), (None, Some(0.0), None));
        let c = Confusion::new(3, 1, 1);
        assert_eq!(c.precision, Some(0.75));
        assert_eq!(c.f1, Some(0.75));
    }

    #[test]
    fn retract_cancels_replacement() {
        let truth = Truth::from_csv_reader(
            "account,role,group,group_type,tags\nr,hydra_replacement,op-1,operator,\nl,legit,,solo,\n"
                .as_bytes(),
            "t",
        )
        .unwrap();
        let stream = FlagStream::from_jsonl_reader(
            concat!(
                "{\"schema\":\"hydra-detect/flag/1\",\"seq\":3,\"ts\":10,\"account\":\"l\",\"flag\":\"replacement\"}\n",
                "\n",
                "{\"seq\":4,\"ts\":11,\"account\":\"r\",\"flag\":\"replacement\",\"score\":0.9}\n",
                "{\"seq\":9,\"ts\":20,\"account\":\"l\",\"flag\":\"retract\"}\n"
            )
            .as_bytes(),
            "f",
        )
        .unwrap();
        let batch = AccountFlags::from_pairs([
            ("l".to_owned(), Some(Flag::Replacement)),
            ("r".to_owned(), Some(Flag::Replacement)),
        ])
        .unwrap();
        let w = evaluate_stream(&truth, &batch, &stream, None).unwrap();
        assert_eq!(w.retracts, 1);
        assert_eq!(w.replacement, Confusion::new(1, 0, 0));
        // l was retracted in the stream: r agrees, l is the batch's only.
        let a = w.agreement;
        assert_eq!((a.both, a.batch_only, a.watch_only), (1, 1, 0));
        let bad = FlagStream::from_jsonl_reader("{\"seq\":1}\n".as_bytes(), "f.jsonl").unwrap_err();
        assert_eq!(bad.line(), Some(1));
        assert!(bad.to_string().contains("f.jsonl"), "{bad}");
    }
}
