//! Ingest: bytes in (CSV, JSON Lines, gzip; Parquet and Arrow with the
//! `parquet` feature) to validated [`Event`](crate::Event)s out.
//!
//! # Overview
//!
//! - [`EventReader`] streams [`Record`]s (an [`Event`] with its position)
//!   from any reader, or from a file with [`EventReader::open`], which picks
//!   the format and gzip from the file name. Memory stays bounded whatever
//!   the input size: one buffer, one record, the first ten skip messages.
//! - [`IngestConfig`] says how: strict or lenient, which [`Format`], and the
//!   longest record accepted.
//! - [`SkipCounts`] is what lenient reading skipped, by [`InputProblem`].
//! - [`read_events`] reads a whole file into a `Vec` (batch runs).
//!
//! The accepted input, strict and lenient reading: see [`EventReader`].

#[cfg(feature = "parquet")]
pub mod arrow;
mod csv;
mod jsonl;
pub(crate) mod normalize;
#[cfg(feature = "parquet")]
mod parquet;
pub(crate) mod time;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

use self::csv::CsvParser;
use self::jsonl::JsonlParser;
use self::normalize::clip;
#[cfg(feature = "parquet")]
use self::parquet::ParquetParser;
use crate::error::{Error, InputProblem, Result};
use crate::event::{Action, Event, Indicator, IndicatorKind};

/// The encoding of an event stream.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// CSV with a header row (the default).
    #[default]
    Csv,
    /// JSON Lines: one JSON object per line.
    Jsonl,
    /// Apache Parquet, with the same columns (read only with the `parquet`
    /// feature; without it, an error says how to get it).
    Parquet,
}

impl Format {
    /// The format a file name implies, ignoring a `.gz` suffix: `.jsonl` and
    /// `.ndjson` are JSON Lines, `.csv` is CSV, `.parquet` is Parquet,
    /// anything else is unknown.
    ///
    /// ```
    /// use std::path::Path;
    /// use hydra_detect::Format;
    ///
    /// assert_eq!(Format::from_path(Path::new("day1.jsonl.gz")), Some(Format::Jsonl));
    /// assert_eq!(Format::from_path(Path::new("events.CSV")), Some(Format::Csv));
    /// assert_eq!(Format::from_path(Path::new("day1.parquet")), Some(Format::Parquet));
    /// assert_eq!(Format::from_path(Path::new("events.txt")), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        let name = strip_suffix_ignore_case(name, ".gz").unwrap_or(name);
        if strip_suffix_ignore_case(name, ".jsonl").is_some()
            || strip_suffix_ignore_case(name, ".ndjson").is_some()
        {
            Some(Format::Jsonl)
        } else if strip_suffix_ignore_case(name, ".csv").is_some() {
            Some(Format::Csv)
        } else if strip_suffix_ignore_case(name, ".parquet").is_some() {
            Some(Format::Parquet)
        } else {
            None
        }
    }

    /// The format's name as used on the command line: `csv`, `jsonl` or
    /// `parquet`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = Error;

    /// Parses `csv`, `jsonl`, `ndjson` or `parquet`.
    fn from_str(s: &str) -> Result<Format> {
        match s {
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "parquet" => Ok(Format::Parquet),
            _ => Err(Error::config(format!(
                "unknown input format {:?} (expected csv, jsonl or parquet)",
                clip(s)
            ))),
        }
    }
}

fn strip_suffix_ignore_case<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = name.len().checked_sub(suffix.len())?;
    let tail = name.get(cut..)?;
    name.get(..cut).filter(|_| tail.eq_ignore_ascii_case(suffix))
}

/// The first bytes of every Parquet file.
const PARQUET_MAGIC: &[u8] = b"PAR1";

/// The format to read `path` in: `config`'s, else the one its name implies,
/// else Parquet if the file starts with Parquet's magic bytes, else CSV.
///
/// # Errors
///
/// An I/O error naming the file if it cannot be opened or read.
pub(crate) fn format_of(path: &Path, config: &IngestConfig) -> Result<Format> {
    if let Some(format) = config.get_format().or_else(|| Format::from_path(path)) {
        return Ok(format);
    }
    let mut magic = Vec::with_capacity(PARQUET_MAGIC.len());
    Error::open(path)?.take(PARQUET_MAGIC.len() as u64).read_to_end(&mut magic).map_err(|e| {
        Error::io(format!("cannot read \"{}\"", path.display()), Some(path.to_owned()), e)
    })?;
    Ok(if magic == PARQUET_MAGIC && !is_gzip_path(path) { Format::Parquet } else { Format::Csv })
}

/// The error for Parquet input to a build without the `parquet` feature.
#[cfg(not(feature = "parquet"))]
fn parquet_unavailable(path: Option<&Path>) -> Error {
    let what = match path {
        Some(p) => format!("\"{}\" is a Parquet file", p.display()),
        None => "the input is Parquet".to_owned(),
    };
    Error::invalid_argument(format!(
        "{what}, but this build of hydra-detect cannot read Parquet: rebuild it with the \
         `parquet` feature (`cargo install hydra-detect --features parquet`, or \
         `cargo build --release --features parquet` in a checkout; as a library, \
         `features = [\"parquet\"]`), or convert the file to CSV"
    ))
}

/// The error for Parquet data read as CSV (it starts with `PAR1`).
fn parquet_read_as_csv(path: Option<&Path>) -> Error {
    #[cfg(not(feature = "parquet"))]
    {
        parquet_unavailable(path)
    }
    #[cfg(feature = "parquet")]
    {
        let what = match path {
            Some(p) => format!("\"{}\"", p.display()),
            None => "the input".to_owned(),
        };
        Error::invalid_argument(format!(
            "{what} starts with \"PAR1\", Parquet's magic bytes, but is read as CSV: name the \
             file .parquet or pass --format parquet (IngestConfig::format(Some(Format::Parquet)))"
        ))
    }
}

/// Whether a file name ends in `.gz` (any case).
fn is_gzip_path(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| strip_suffix_ignore_case(n, ".gz").is_some())
}

/// How an [`EventReader`] reads: strictness, format and record size limit.
///
/// ```
/// use hydra_detect::{Format, IngestConfig};
///
/// let config = IngestConfig::new().lenient(true).format(Some(Format::Jsonl));
/// assert!(config.get_lenient());
/// assert_eq!(config.get_max_record_len(), 64 * 1024);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    lenient: bool,
    format: Option<Format>,
    max_record_len: usize,
}

impl IngestConfig {
    /// The default [`max_record_len`](IngestConfig::max_record_len): 64 KiB.
    pub const DEFAULT_MAX_RECORD_LEN: usize = 64 * 1024;

    /// The defaults: strict, format from the file name (else CSV), records of
    /// at most 64 KiB.
    pub fn new() -> Self {
        Self { lenient: false, format: None, max_record_len: Self::DEFAULT_MAX_RECORD_LEN }
    }

    /// Skip bad records (counting them) instead of stopping at the first one.
    /// Default `false`.
    pub fn lenient(mut self, yes: bool) -> Self {
        self.lenient = yes;
        self
    }

    /// The input format for [`EventReader::open`], overriding the file name;
    /// `None` (the default) infers it from the name and falls back to CSV.
    pub fn format(mut self, format: Option<Format>) -> Self {
        self.format = format;
        self
    }

    /// The longest record accepted, in bytes as written (a CSV record with
    /// its quotes, or a JSON line), not counting the line terminator. A
    /// longer record is an [`InputProblem::TooLong`] error. This bounds the
    /// reader's memory. Default 64 KiB; must be 1 to 64 MiB.
    pub fn max_record_len(mut self, bytes: usize) -> Self {
        self.max_record_len = bytes;
        self
    }

    /// Whether bad records are skipped.
    pub fn get_lenient(&self) -> bool {
        self.lenient
    }

    /// The configured format, if any.
    pub fn get_format(&self) -> Option<Format> {
        self.format
    }

    /// The longest record accepted, in bytes.
    pub fn get_max_record_len(&self) -> usize {
        self.max_record_len
    }

    /// The largest [`max_record_len`](IngestConfig::max_record_len)
    /// accepted: 64 MiB, so one record cannot take more memory than that.
    pub const MAX_RECORD_LEN_LIMIT: usize = 64 << 20;

    /// Checks the record length limit.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error if `max_record_len` is
    /// 0 or above [`MAX_RECORD_LEN_LIMIT`](IngestConfig::MAX_RECORD_LEN_LIMIT).
    pub fn validate(&self) -> Result<()> {
        if !(1..=Self::MAX_RECORD_LEN_LIMIT).contains(&self.max_record_len) {
            return Err(Error::config(format!(
                "ingest.max_record_len = {} (expected 1 to {} bytes)",
                self.max_record_len,
                Self::MAX_RECORD_LEN_LIMIT
            )));
        }
        Ok(())
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// One event read from the input, with where it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1-based position of the record among the input's records: the CSV
    /// header and blank lines are not counted, bad records are (so `seq`
    /// identifies a record whether or not earlier ones were skipped).
    pub seq: u64,
    /// Physical line where the record starts (1 = the CSV header); for
    /// Parquet, the row (1 = the first row, equal to `seq`).
    pub line: u64,
    /// The validated event.
    pub event: Event,
}

/// Records skipped by lenient reading, counted by [`InputProblem`].
///
/// Serializes as a map from [`InputProblem::as_str`] to count, e.g.
/// `{"timestamp": 2, "ip": 1}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkipCounts {
    /// Count per problem; absent means zero, so every stored count is > 0.
    counts: BTreeMap<InputProblem, u64>,
    total: u64,
    /// The first [`SkipCounts::MAX_EXAMPLES`] error messages, in input order.
    examples: Vec<String>,
    /// The last error message, for samples of a long stream.
    latest: Option<String>,
}

impl SkipCounts {
    /// How many error messages [`examples`](SkipCounts::examples) keeps.
    pub const MAX_EXAMPLES: usize = 10;

    /// Records skipped in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Whether nothing was skipped.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Records skipped for `problem`.
    pub fn count(&self, problem: InputProblem) -> u64 {
        self.counts.get(&problem).copied().unwrap_or(0)
    }

    /// Each problem that occurred with its count, in [`InputProblem`] order.
    pub fn iter(&self) -> impl Iterator<Item = (InputProblem, u64)> + '_ {
        self.counts.iter().map(|(&p, &n)| (p, n))
    }

    /// The first ten skipped records' error messages (`line N: ...`), in
    /// input order.
    pub fn examples(&self) -> &[String] {
        &self.examples
    }

    /// The error message of the last skipped record (`line N: ...`), so a
    /// long-running stream can show a sample of what it is still skipping.
    pub fn latest(&self) -> Option<&str> {
        self.latest.as_deref()
    }

    /// Counts one skipped record.
    pub(crate) fn add(&mut self, problem: InputProblem, error: &Error) {
        *self.counts.entry(problem).or_insert(0) += 1;
        self.total += 1;
        let message = error.to_string();
        if self.examples.len() < Self::MAX_EXAMPLES {
            self.examples.push(message.clone());
        }
        self.latest = Some(message);
    }
}

impl fmt::Display for SkipCounts {
    /// `no records skipped`, or e.g. `3 records skipped (timestamp 2, ip 1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.total == 0 {
            return f.write_str("no records skipped");
        }
        let noun = if self.total == 1 { "record" } else { "records" };
        write!(f, "{} {noun} skipped (", self.total)?;
        for (i, (problem, n)) in self.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{problem} {n}")?;
        }
        f.write_str(")")
    }
}

impl serde::Serialize for SkipCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.iter().map(|(p, n)| (p.as_str(), n)))
    }
}

/// A streaming reader of events: CSV or JSON Lines in, [`Record`]s out.
///
/// Iterating yields `Result<Record>`: in strict mode the first bad record's
/// error ends the stream; in lenient mode bad records are skipped and
/// counted in [`skipped`](EventReader::skipped), and only I/O errors are
/// yielded. After an error the iterator yields `None`.
///
/// # Input
///
/// The format is the contract's event stream (docs/FORMATS.md). Where the contract leaves room,
/// this reader decides:
///
/// - **Empty means absent.** An empty CSV field, an empty JSON string and a
///   JSON `null` all mean the field is not given: `kind`, `value` and
///   `reason` may be empty on any row, and an empty `reason` on a `ban` is no
///   reason.
/// - **`ts`** is integer unix seconds (negative allowed, for times before
///   1970) or RFC 3339; both are limited to years 0000 to 9999. Fractional
///   seconds are dropped. In JSON it may be a number (an integer) or a string.
/// - **Blank lines** (CSV: empty lines; JSON Lines: lines of only white
///   space) are skipped. They are not records, so they do not count in
///   [`Record::seq`], but they do count in line numbers.
/// - **CSV**: RFC 4180 quoting (quoted fields may span lines), `\n` or
///   `\r\n` line ends, a UTF-8 byte-order mark before the header is ignored.
///   Every row must have as many fields as the header. Column names are
///   matched exactly (case and spaces matter); unknown columns are ignored
///   and never inspected, even for UTF-8; a known column named twice is a
///   header error.
/// - **JSON Lines**: one object per line; unknown fields are ignored; a known
///   field given twice, text after the object, or a line that is not an
///   object is a syntax error. `account` and `value` may be JSON integers
///   (`{"kind": "asn", "value": 13335}`), read as their decimal text.
/// - **Errors** name the physical line where the record starts (1 = the CSV
///   header, or the first line of a JSON Lines file), the offending value
///   (cut to 64 bytes) and what was expected.
///
/// # Strict and lenient
///
/// Strict reading (the default) yields the first bad record's error and
/// ends. Lenient reading skips bad records and counts them in
/// [`EventReader::skipped`]; but an input whose records are *all* bad ends
/// with an error naming the first one (the wrong file or format is not
/// data to report on; an input without any record is fine). Either way, I/O errors (including corrupt gzip
/// data) end the stream with an error, and so does a bad CSV header, which
/// [`EventReader::new`] reports before any record is read.
///
/// # Example
///
/// ```
/// use hydra_detect::{EventReader, Format, IngestConfig};
///
/// let csv = "ts,account,event,kind,value,reason\n\
///            1767225600,a-1,signup,,,\n\
///            2026-01-01T00:05:00Z,a-1,observe,ip,203.0.113.7,\n\
///            1767226000,a-1,ban,,,spam\n";
/// let config = IngestConfig::new();
/// let mut seen = Vec::new();
/// for record in EventReader::new(csv.as_bytes(), Format::Csv, &config)? {
///     let record = record?;
///     seen.push((record.seq, record.line, record.event.action.name()));
/// }
/// assert_eq!(seen, [(1, 2, "signup"), (2, 3, "observe"), (3, 4, "ban")]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Complexity
///
/// Linear time in the input size; memory bounded by the record size limit
/// plus a 64 KiB buffer, whatever the input size.
pub struct EventReader<R> {
    parser: Parser<R>,
    lenient: bool,
    /// Set after an error in strict mode, an I/O error, or the end of input.
    finished: bool,
    /// Records seen so far, good or bad.
    seq: u64,
    skipped: SkipCounts,
    /// Records yielded so far.
    accepted: u64,
    /// The first record skipped: line, problem and message.
    first_skip: Option<(u64, InputProblem, String)>,
    /// Named in I/O error messages; `None` for [`EventReader::new`].
    path: Option<PathBuf>,
}

/// The CSV parser carries csv-core's state tables (over 600 bytes), so it
/// is boxed to keep the enum small.
enum Parser<R> {
    Csv(Box<CsvParser<R>>),
    Jsonl(JsonlParser<R>),
    #[cfg(feature = "parquet")]
    Parquet(Box<ParquetParser>),
}

impl<R> Parser<R> {
    fn format(&self) -> Format {
        match self {
            Parser::Csv(_) => Format::Csv,
            Parser::Jsonl(_) => Format::Jsonl,
            #[cfg(feature = "parquet")]
            Parser::Parquet(_) => Format::Parquet,
        }
    }
}

impl EventReader<Box<dyn BufRead + Send>> {
    /// Opens a file of events.
    ///
    /// A `.gz` suffix means gzip (several concatenated members are read as
    /// one stream). The format is [`IngestConfig::format`] if set, else
    /// what [`Format::from_path`] says, else CSV. For CSV the header is read
    /// here.
    ///
    /// # Errors
    ///
    /// An I/O error naming the file if it cannot be opened or read, an input
    /// error ([`InputProblem::Header`] or [`InputProblem::TooLong`]) for a
    /// bad CSV header, a config error for an invalid `config`.
    pub fn open(path: &Path, config: &IngestConfig) -> Result<Self> {
        config.validate()?;
        let format = format_of(path, config)?;
        if format == Format::Parquet {
            return Self::open_parquet(path, config);
        }
        let file = Error::open(path)?;
        let reader: Box<dyn BufRead + Send> = if is_gzip_path(path) {
            Box::new(BufReader::new(MultiGzDecoder::new(BufReader::new(file))))
        } else {
            Box::new(BufReader::new(file))
        };
        Self::with_path(reader, format, config, Some(path.to_owned()))
    }
}

impl<R: Read> EventReader<R> {
    /// Opens the Parquet file `path` (whatever its name).
    ///
    /// # Errors
    ///
    /// As [`EventReader::open`]; also when built without the `parquet`
    /// feature, or if `path` ends in `.gz` (Parquet compresses itself).
    pub(crate) fn open_parquet(path: &Path, config: &IngestConfig) -> Result<Self> {
        config.validate()?;
        if is_gzip_path(path) {
            return Err(Error::invalid_argument(format!(
                "\"{}\": a gzip-compressed Parquet file cannot be read (Parquet compresses its \
                 columns itself): decompress it first",
                path.display()
            )));
        }
        #[cfg(feature = "parquet")]
        {
            let parser = ParquetParser::new(Error::open(path)?, Some(path))?;
            Ok(Self::with_parser(Parser::Parquet(Box::new(parser)), config, Some(path.to_owned())))
        }
        #[cfg(not(feature = "parquet"))]
        {
            Err(parquet_unavailable(Some(path)))
        }
    }

    /// Reads events in `format` from `reader` (for standard input, pass
    /// `std::io::stdin().lock()` and `config.get_format().unwrap_or_default()`).
    ///
    /// `config`'s format is ignored here: `format` says what `reader` holds.
    /// The reader is buffered internally; for CSV the header is read here.
    /// Parquet, read from its end, is first copied to an anonymous
    /// temporary file.
    ///
    /// # Errors
    ///
    /// An I/O error if reading the header fails, an input error
    /// ([`InputProblem::Header`] or [`InputProblem::TooLong`]) for a bad CSV
    /// header, a config error for an invalid `config`.
    pub fn new(reader: R, format: Format, config: &IngestConfig) -> Result<Self> {
        config.validate()?;
        Self::with_path(reader, format, config, None)
    }

    fn with_path(
        reader: R,
        format: Format,
        config: &IngestConfig,
        path: Option<PathBuf>,
    ) -> Result<Self> {
        let mut source = Source::new(reader);
        let max = config.get_max_record_len();
        let parser = match format {
            Format::Csv => {
                if source.fill().is_ok_and(|bytes| bytes.starts_with(PARQUET_MAGIC)) {
                    return Err(parquet_read_as_csv(path.as_deref()));
                }
                match CsvParser::new(source, max) {
                    Ok(p) => Parser::Csv(Box::new(p)),
                    Err(failure) => return Err(failure.into_error(path.as_deref())),
                }
            }
            Format::Jsonl => Parser::Jsonl(JsonlParser::new(source, max)),
            #[cfg(feature = "parquet")]
            Format::Parquet => Parser::Parquet(Box::new(ParquetParser::spool(source.reader)?)),
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => return Err(parquet_unavailable(path.as_deref())),
        };
        Ok(Self::with_parser(parser, config, path))
    }

    fn with_parser(parser: Parser<R>, config: &IngestConfig, path: Option<PathBuf>) -> Self {
        Self {
            parser,
            lenient: config.get_lenient(),
            finished: false,
            seq: 0,
            skipped: SkipCounts::default(),
            accepted: 0,
            first_skip: None,
            path,
        }
    }

    /// The records skipped so far (lenient mode; always empty when strict).
    pub fn skipped(&self) -> &SkipCounts {
        &self.skipped
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.parser.format()
    }

    /// Consumes the reader, returning what it skipped.
    pub fn into_skipped(self) -> SkipCounts {
        self.skipped
    }
}

impl<R: Read> Iterator for EventReader<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        while !self.finished {
            let path = self.path.as_deref();
            let row = match &mut self.parser {
                Parser::Csv(p) => p.next_row().map_err(|f| f.into_error(path)),
                Parser::Jsonl(p) => p.next_row().map_err(|f| f.into_error(path)),
                #[cfg(feature = "parquet")]
                Parser::Parquet(p) => p.next_row(path),
            };
            let row = match row {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(error) => {
                    self.finished = true;
                    return Some(Err(error));
                }
            };
            self.seq += 1;
            match row.outcome {
                Ok(event) => {
                    self.accepted += 1;
                    return Some(Ok(Record { seq: self.seq, line: row.line, event }));
                }
                Err((problem, message)) => {
                    if self.first_skip.is_none() && self.lenient {
                        self.first_skip = Some((row.line, problem, message.clone()));
                    }
                    let error = self.place(Error::input(row.line, problem, message));
                    if !self.lenient {
                        self.finished = true;
                        return Some(Err(error));
                    }
                    self.skipped.add(problem, &error);
                }
            }
        }
        self.finished = true;
        // Lenient reading skips bad records, but an input with no good one
        // is the wrong file or format, not data to report on.
        match self.first_skip.take() {
            Some((line, problem, message)) if self.accepted == 0 => {
                Some(Err(self.place(Error::input(
                    line,
                    problem,
                    format!(
                        "{message}; and no record of the input is valid ({}): is it the right \
                         file, in the right format?",
                        self.skipped
                    ),
                ))))
            }
            _ => None,
        }
    }
}

impl<R> EventReader<R> {
    /// `error` with its position named as the format counts it: rows of a
    /// Parquet file, else lines.
    fn place(&self, error: Error) -> Error {
        match self.parser.format() {
            Format::Parquet => error.in_rows(),
            Format::Csv | Format::Jsonl => error,
        }
    }
}

impl<R> fmt::Debug for EventReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventReader")
            .field("format", &self.parser.format())
            .field("lenient", &self.lenient)
            .field("seq", &self.seq)
            .field("finished", &self.finished)
            .field("skipped", &self.skipped)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Reads a whole file of events (see [`EventReader::open`]).
///
/// Returns the events in input order and, in lenient mode, what was skipped.
///
/// # Errors
///
/// Whatever [`EventReader::open`] or the reader yields: the first bad record
/// (strict), an I/O error, a bad header.
pub fn read_events(path: &Path, config: &IngestConfig) -> Result<(Vec<Event>, SkipCounts)> {
    let mut reader = EventReader::open(path, config)?;
    let mut events = Vec::new();
    for record in reader.by_ref() {
        events.push(record?.event);
    }
    Ok((events, reader.into_skipped()))
}

// ---------------------------------------------------------------------------
// Internals shared by the CSV and JSON Lines parsers.

/// Size of the input buffer.
const BUFFER_LEN: usize = 64 * 1024;

/// A buffered reader that remembers end of input (so a terminal is not read
/// again after end of file) and retries interrupted reads.
pub(crate) struct Source<R> {
    reader: R,
    buf: Box<[u8]>,
    /// Invariant: `pos <= end <= buf.len()`; `buf[pos..end]` is unread.
    pos: usize,
    end: usize,
    eof: bool,
}

impl<R: Read> Source<R> {
    fn new(reader: R) -> Self {
        Self { reader, buf: vec![0; BUFFER_LEN].into_boxed_slice(), pos: 0, end: 0, eof: false }
    }

    /// The unread buffered bytes, reading more if none are left; empty at end
    /// of input.
    pub(crate) fn fill(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end && !self.eof {
            self.pos = 0;
            self.end = 0;
            loop {
                match self.reader.read(&mut self.buf) {
                    Ok(0) => self.eof = true,
                    // `min` guards against a reader that claims too much.
                    Ok(n) => self.end = n.min(self.buf.len()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
                break;
            }
        }
        Ok(&self.buf[self.pos..self.end])
    }

    /// Marks `n` buffered bytes as read.
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }
}

/// A record's outcome from a parser: where it starts and its event or the
/// problem with it.
pub(crate) struct Row {
    pub(crate) line: u64,
    pub(crate) outcome: std::result::Result<Event, (InputProblem, String)>,
}

/// Why a parser stopped: an I/O error, or an input error that cannot be
/// skipped (a bad CSV header).
pub(crate) enum Failure {
    Io { line: u64, error: io::Error },
    Input { line: u64, problem: InputProblem, message: String },
}

impl Failure {
    fn into_error(self, path: Option<&Path>) -> Error {
        match self {
            Failure::Io { line, error } => {
                let what = match path {
                    Some(p) => format!("cannot read \"{}\" (at line {line})", p.display()),
                    None => format!("cannot read the input (at line {line})"),
                };
                Error::io(what, path.map(Path::to_owned), error)
            }
            Failure::Input { line, problem, message } => Error::input(line, problem, message),
        }
    }
}

/// One field of a record as read, before validation.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Field<'a> {
    /// Not given: an empty CSV field, a missing column or JSON field, `""`,
    /// or JSON `null`.
    Absent,
    /// Non-empty text.
    Text(&'a str),
    /// A JSON integer.
    Integer(i128),
    /// A JSON number that is not an integer.
    Float(f64),
    /// Another JSON type, named for the message (e.g. `a boolean`).
    Other(&'static str),
}

/// The contract's fields of one record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields<'a> {
    pub(crate) ts: Field<'a>,
    pub(crate) account: Field<'a>,
    pub(crate) event: Field<'a>,
    pub(crate) kind: Field<'a>,
    pub(crate) value: Field<'a>,
    pub(crate) reason: Field<'a>,
}

impl<'a> Field<'a> {
    /// Field `name`'s raw bytes (a CSV field, an Arrow binary cell) as
    /// text: absent when empty, an encoding problem unless UTF-8.
    pub(crate) fn from_bytes(raw: &'a [u8], name: &str) -> FieldResult<Field<'a>> {
        if raw.is_empty() {
            return Ok(Field::Absent);
        }
        match std::str::from_utf8(raw) {
            Ok(s) => Ok(Field::Text(s)),
            Err(e) => {
                let lossy = String::from_utf8_lossy(raw);
                Err((
                    InputProblem::Encoding,
                    format!(
                        "{name} {:?} is not valid UTF-8 at byte {} (expected UTF-8 text)",
                        clip(&lossy),
                        e.valid_up_to() + 1
                    ),
                ))
            }
        }
    }
}

type FieldResult<T> = std::result::Result<T, (InputProblem, String)>;

const EXPECTED_EVENT: &str = "expected signup, observe, ban or unban";

/// Builds and validates an event from its fields, checking docs/FORMATS.md's
/// rules in column order (`ts`, `account`, `event`, `kind`, `value`,
/// `reason`) and then [`normalize::validate_event`]'s bounds.
pub(crate) fn build_event(f: &Fields<'_>) -> FieldResult<Event> {
    let ts = match f.ts {
        Field::Absent => {
            return Err((
                InputProblem::Timestamp,
                "missing ts (expected unix seconds or an RFC 3339 timestamp)".to_owned(),
            ));
        }
        Field::Text(s) => time::parse_timestamp(s),
        Field::Integer(n) => time::check_unix_seconds(n),
        Field::Float(x) => Err(format!(
            "ts {x} is not a whole number (expected integer unix seconds or an RFC 3339 string)"
        )),
        Field::Other(ty) => {
            Err(format!("ts is {ty} (expected integer unix seconds or an RFC 3339 string)"))
        }
    }
    .map_err(|m| (InputProblem::Timestamp, m))?;

    let account = text_or_integer(f.account, "account", InputProblem::Account)?;
    normalize::validate_account(account.as_deref().unwrap_or(""))?;
    let account = account.map(String::from).unwrap_or_default();

    let event = match f.event {
        Field::Absent => {
            return Err((InputProblem::Event, format!("missing event ({EXPECTED_EVENT})")));
        }
        Field::Text(s) => s,
        other => return Err(wrong_type(other, "event", InputProblem::Event)),
    };
    let kind = text(f.kind, "kind", InputProblem::Kind)?;
    let value = text_or_integer(f.value, "value", InputProblem::Value)?;
    let reason = text(f.reason, "reason", InputProblem::Reason)?;

    let action = match event {
        "observe" => {
            let kind = kind.ok_or_else(|| {
                (InputProblem::Kind, "missing kind (required for observe)".to_owned())
            })?;
            let kind = IndicatorKind::parse(kind).map_err(|_| {
                (
                    InputProblem::Kind,
                    format!(
                        "invalid kind {:?} (expected lowercase [a-z0-9_], 1 to 32 bytes)",
                        clip(kind)
                    ),
                )
            })?;
            let value = value.ok_or_else(|| {
                (InputProblem::Value, "missing value (required for observe)".to_owned())
            })?;
            Action::Observe(Indicator { kind, value: value.into() })
        }
        "signup" | "ban" | "unban" => {
            let article = if event == "unban" { "an" } else { "a" };
            if let Some(kind) = kind {
                return Err((
                    InputProblem::Kind,
                    format!(
                        "kind {:?} on {article} {event} row (kind is only allowed on observe)",
                        clip(kind)
                    ),
                ));
            }
            if let Some(value) = value {
                return Err((
                    InputProblem::Value,
                    format!(
                        "value {:?} on {article} {event} row (value is only allowed on observe)",
                        clip(&value)
                    ),
                ));
            }
            match event {
                "signup" => Action::Signup,
                "unban" => Action::Unban,
                _ => Action::Ban { reason: reason.map(String::from) },
            }
        }
        other => {
            return Err((
                InputProblem::Event,
                format!("unknown event {:?} ({EXPECTED_EVENT})", clip(other)),
            ));
        }
    };
    if let (Some(reason), false) = (reason, matches!(action, Action::Ban { .. })) {
        let article =
            if action.name() == "observe" || action.name() == "unban" { "an" } else { "a" };
        return Err((
            InputProblem::Reason,
            format!(
                "reason {:?} on {article} {} row (reason is only allowed on ban)",
                clip(reason),
                action.name()
            ),
        ));
    }
    let event = Event { ts, account, action };
    normalize::validate_event(&event)?;
    Ok(event)
}

/// A text field; `None` if absent.
fn text<'a>(field: Field<'a>, name: &str, problem: InputProblem) -> FieldResult<Option<&'a str>> {
    match field {
        Field::Absent => Ok(None),
        Field::Text(s) => Ok(Some(s)),
        other => Err(wrong_type(other, name, problem)),
    }
}

/// A text field that may also be a JSON integer (account ids and values
/// such as ASNs are often numbers in JSON).
fn text_or_integer<'a>(
    field: Field<'a>,
    name: &str,
    problem: InputProblem,
) -> FieldResult<Option<std::borrow::Cow<'a, str>>> {
    match field {
        Field::Absent => Ok(None),
        Field::Text(s) => Ok(Some(s.into())),
        Field::Integer(n) => Ok(Some(n.to_string().into())),
        other => Err(wrong_type(other, name, problem)),
    }
}

fn wrong_type(field: Field<'_>, name: &str, problem: InputProblem) -> (InputProblem, String) {
    let found = match field {
        Field::Float(x) => format!("the number {x}"),
        Field::Other(ty) => ty.to_owned(),
        Field::Integer(n) => format!("the number {n}"),
        Field::Absent | Field::Text(_) => "text".to_owned(),
    };
    (problem, format!("{name} is {found} (expected a string)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(ts: &'a str, account: &'a str, event: &'a str) -> Fields<'a> {
        let f = |s: &'a str| if s.is_empty() { Field::Absent } else { Field::Text(s) };
        Fields {
            ts: f(ts),
            account: f(account),
            event: f(event),
            kind: Field::Absent,
            value: Field::Absent,
            reason: Field::Absent,
        }
    }

    // See: #15 (a lenient run where every row was bad exited 0 with empty reports).
    #[test]
    fn a_lenient_read_of_nothing_but_bad_records_is_an_error() {
        let config = IngestConfig::new().lenient(true);
        let bad = "ts,account,event\nyesterday,a,signup\nnow,b,signup\n";
        let results: Vec<_> =
            EventReader::new(bad.as_bytes(), Format::Csv, &config).unwrap().collect();
        assert_eq!(results.len(), 1);
        let err = results[0].as_ref().unwrap_err();
        assert_eq!(err.line(), Some(2));
        let message = err.to_string();
        assert!(message.contains("\"yesterday\"") && message.contains("no record"), "{message}");
        assert!(message.contains("2 records skipped (timestamp 2)"), "{message}");
        // One good record is enough, and an empty input is not an error.
        let mixed = "ts,account,event\nyesterday,a,signup\n5,b,signup\n";
        let reader = EventReader::new(mixed.as_bytes(), Format::Csv, &config).unwrap();
        assert_eq!(reader.filter(Result::is_ok).count(), 1);
        let empty = EventReader::new(&b"ts,account,event\n"[..], Format::Csv, &config).unwrap();
        assert_eq!(empty.count(), 0);
    }

    #[test]
    fn builds_each_action() {
        let e = build_event(&fields("5", "a", "signup")).unwrap();
        assert_eq!(e, Event::signup(5, "a"));
        let mut f = fields("5", "a", "observe");
        f.kind = Field::Text("asn");
        f.value = Field::Integer(13335);
        assert_eq!(build_event(&f).unwrap(), Event::observe(5, "a", IndicatorKind::Asn, "13335"));
        let mut f = fields("5", "a", "ban");
        f.reason = Field::Text("spam");
        assert_eq!(build_event(&f).unwrap(), Event::ban(5, "a", Some("spam".into())));
        assert_eq!(build_event(&fields("5", "a", "ban")).unwrap(), Event::ban(5, "a", None));
        assert_eq!(build_event(&fields("5", "a", "unban")).unwrap(), Event::unban(5, "a"));
    }

    #[test]
    fn rejects_with_the_right_problem() {
        let problem = |f: Fields<'_>| build_event(&f).unwrap_err().0;
        assert_eq!(problem(fields("", "a", "signup")), InputProblem::Timestamp);
        assert_eq!(problem(fields("5", "", "signup")), InputProblem::Account);
        assert_eq!(problem(fields("5", "a", "")), InputProblem::Event);
        assert_eq!(problem(fields("5", "a", "Signup")), InputProblem::Event);
        let mut f = fields("5", "a", "signup");
        f.ts = Field::Float(1.5);
        assert_eq!(problem(f), InputProblem::Timestamp);
        f.ts = Field::Other("a boolean");
        assert_eq!(problem(f), InputProblem::Timestamp);
        let mut f = fields("5", "a", "signup");
        f.account = Field::Other("an array");
        assert_eq!(problem(f), InputProblem::Account);
        let mut f = fields("5", "a", "unban");
        f.reason = Field::Text("x");
        let (p, m) = build_event(&f).unwrap_err();
        assert_eq!(p, InputProblem::Reason);
        assert_eq!(m, "reason \"x\" on an unban row (reason is only allowed on ban)");
        let mut f = fields("5", "a", "signup");
        f.value = Field::Text("v");
        assert_eq!(problem(f), InputProblem::Value);
        let mut f = fields("5", "a", "observe");
        f.kind = Field::Text("ip");
        f.value = Field::Text("300.1.1.1");
        assert_eq!(problem(f), InputProblem::Ip);
    }

    #[test]
    fn config_defaults_and_setters() {
        let c = IngestConfig::default();
        assert!(!c.get_lenient());
        assert_eq!(c.get_format(), None);
        assert_eq!(c.get_max_record_len(), 65_536);
        let c = c.lenient(true).format(Some(Format::Jsonl)).max_record_len(10);
        assert_eq!(
            (c.get_lenient(), c.get_format(), c.get_max_record_len()),
            (true, Some(Format::Jsonl), 10)
        );
        assert!(IngestConfig::new().max_record_len(0).validate().is_err());
    }

    #[test]
    fn formats_from_names() {
        let f = |s: &str| Format::from_path(Path::new(s));
        assert_eq!(f("a.csv"), Some(Format::Csv));
        assert_eq!(f("a.csv.gz"), Some(Format::Csv));
        assert_eq!(f("a.ndjson.GZ"), Some(Format::Jsonl));
        assert_eq!(f("dir.jsonl/a"), None);
        assert_eq!(f("gz"), None);
        assert!(is_gzip_path(Path::new("x/a.jsonl.gz")));
        assert!(!is_gzip_path(Path::new("x.gz/a.jsonl")));
        assert_eq!("jsonl".parse::<Format>().unwrap(), Format::Jsonl);
        assert!("xml".parse::<Format>().is_err());
    }

    #[test]
    fn skip_counts_summarize() {
        let mut s = SkipCounts::default();
        assert_eq!(s.to_string(), "no records skipped");
        for i in 0..12 {
            let p = if i % 3 == 0 { InputProblem::Ip } else { InputProblem::Timestamp };
            s.add(p, &Error::input(i, p, "x"));
        }
        assert_eq!(s.total(), 12);
        assert_eq!(s.examples().len(), 10);
        assert_eq!(s.examples()[1], "line 1: x");
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            [(InputProblem::Timestamp, 8), (InputProblem::Ip, 4)]
        );
        assert_eq!(s.to_string(), "12 records skipped (timestamp 8, ip 4)");
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"timestamp":8,"ip":4}"#);
    }
}
