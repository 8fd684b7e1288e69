//! The crate's one error type, [`Error`], with a [`kind`](Error::kind).
//!
//! # Overview
//!
//! - [`Error`] is opaque: match on [`Error::kind`], follow causes through
//!   [`std::error::Error::source`].
//! - [`ErrorKind`] says what went wrong and where (a line of input, a file, a
//!   config key, a limit), in a message that names the value and the place.
//! - [`InputProblem`] classifies a malformed input record; lenient ingest
//!   counts skipped rows by it.

use std::fmt;
use std::path::PathBuf;

/// A `Result` whose error is the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The crate's error: a [`kind`](Error::kind) and an optional cause.
pub struct Error {
    kind: ErrorKind,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    /// What an input error's `line` counts (text lines, or rows of a Parquet
    /// file or Arrow batch), for the message.
    place: Place,
}

/// What the `line` of an [`ErrorKind::Input`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// A physical line of text (CSV, JSON Lines): `line N: ...`.
    Line,
    /// A row of a Parquet file or Arrow batch: `row N: ...`.
    Row,
    /// The whole input (a Parquet or Arrow schema): the message alone.
    Schema,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A malformed input record.
    Input {
        /// Physical line (1 = the header of a CSV file) where the record
        /// starts; for Parquet and Arrow input the row (1 = the first row),
        /// or 0 for a problem with the schema.
        line: u64,
        /// The class of problem, for counting skipped rows.
        problem: InputProblem,
        /// What is wrong, naming the offending value and what was expected.
        message: String,
    },
    /// Reading or writing a file failed; the cause is the I/O error.
    Io {
        /// What was being done, e.g. `cannot read "events.csv"`.
        message: String,
        /// The file concerned, if any.
        path: Option<PathBuf>,
    },
    /// A configuration value is out of range or inconsistent.
    Config {
        /// Which key and why.
        message: String,
    },
    /// A size limit was hit; the message says which knob to change.
    Limit {
        /// Which limit, the value that hit it, and what to do next.
        message: String,
    },
    /// Persistent watcher state is corrupted, truncated or of another version.
    State {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An argument does not name anything known (e.g. an unknown account).
    InvalidArgument {
        /// Which argument and why.
        message: String,
    },
}

/// The class of a malformed input record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum InputProblem {
    /// The header lacks a required column or repeats one.
    Header,
    /// The record is not valid CSV or JSON.
    Syntax,
    /// The record is not valid UTF-8.
    Encoding,
    /// `ts` is missing or not unix seconds nor RFC 3339.
    Timestamp,
    /// `account` is missing, empty or too long.
    Account,
    /// `event` is missing or unknown.
    Event,
    /// `kind` is missing (for `observe`), malformed, or present where not allowed.
    Kind,
    /// `value` is missing (for `observe`), too long, or present where not allowed.
    Value,
    /// `reason` is too long or present on a row that is not a `ban`.
    Reason,
    /// An `ip` value that is not an IPv4 or IPv6 address.
    Ip,
    /// The record is longer than the reader accepts.
    TooLong,
}

impl InputProblem {
    /// A short stable key for counters and reports, e.g. `timestamp`.
    pub fn as_str(self) -> &'static str {
        match self {
            InputProblem::Header => "header",
            InputProblem::Syntax => "syntax",
            InputProblem::Encoding => "encoding",
            InputProblem::Timestamp => "timestamp",
            InputProblem::Account => "account",
            InputProblem::Event => "event",
            InputProblem::Kind => "kind",
            InputProblem::Value => "value",
            InputProblem::Reason => "reason",
            InputProblem::Ip => "ip",
            InputProblem::TooLong => "too_long",
        }
    }
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// An error of `kind` with no cause.
    pub fn new(kind: ErrorKind) -> Self {
        Self { kind, source: None, place: Place::Line }
    }

    /// An error of `kind` caused by `source`.
    pub fn with_source(
        kind: ErrorKind,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self { kind, source: Some(Box::new(source)), place: Place::Line }
    }

    /// A malformed record at `line`.
    pub fn input(line: u64, problem: InputProblem, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Input { line, problem, message: message.into() })
    }

    /// A malformed row (1-based) of a Parquet file or Arrow batch: its
    /// message says `row N`.
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    pub(crate) fn input_row(row: u64, problem: InputProblem, message: impl Into<String>) -> Self {
        Self { place: Place::Row, ..Self::input(row, problem, message) }
    }

    /// A problem with the schema of a Parquet file or Arrow batch (a
    /// missing, repeated or mistyped column); its message stands alone.
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    pub(crate) fn input_schema(message: impl Into<String>) -> Self {
        Self { place: Place::Schema, ..Self::input(0, InputProblem::Header, message) }
    }

    /// This input error, counted in rows rather than lines (a no-op for
    /// other errors).
    pub(crate) fn in_rows(mut self) -> Self {
        if self.place == Place::Line {
            self.place = Place::Row;
        }
        self
    }

    /// An I/O failure while doing `message` on `path`.
    pub fn io(message: impl Into<String>, path: Option<PathBuf>, source: std::io::Error) -> Self {
        Self::with_source(ErrorKind::Io { message: message.into(), path }, source)
    }

    /// Opens `path` for reading, or an I/O error that names it.
    pub(crate) fn open(path: &std::path::Path) -> Result<std::fs::File> {
        std::fs::File::open(path).map_err(|e| {
            Error::io(format!("cannot open \"{}\"", path.display()), Some(path.to_owned()), e)
        })
    }

    /// A bad configuration value.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config { message: message.into() })
    }

    /// A size limit that was hit.
    pub fn limit(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Limit { message: message.into() })
    }

    /// Corrupted or unreadable persistent state in `path`.
    pub fn state(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::State { path: path.into(), message: message.into() })
    }

    /// An argument that names nothing known.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument { message: message.into() })
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// For an input error, its line number.
    pub fn line(&self) -> Option<u64> {
        match self.kind {
            ErrorKind::Input { line, .. } => Some(line),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Input { line, message, .. } => match self.place {
                Place::Line => write!(f, "line {line}: {message}"),
                Place::Row => write!(f, "row {line}: {message}"),
                Place::Schema => f.write_str(message),
            },
            ErrorKind::Io { message, .. } => f.write_str(message),
            ErrorKind::Config { message } => write!(f, "invalid configuration: {message}"),
            ErrorKind::Limit { message } => f.write_str(message),
            ErrorKind::State { path, message } => {
                write!(f, "watcher state {}: {message}", path.display())
            }
            ErrorKind::InvalidArgument { message } => f.write_str(message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind);
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_name_the_line() {
        let e = Error::input(17, InputProblem::Event, "unknown event \"bann\"");
        assert_eq!(e.to_string(), "line 17: unknown event \"bann\"");
        assert_eq!(e.line(), Some(17));
        let e = Error::input(17, InputProblem::Event, "x").in_rows();
        assert_eq!(e.to_string(), "row 17: x");
        assert_eq!(Error::input_row(3, InputProblem::Event, "y").to_string(), "row 3: y");
        let e = Error::input_schema("the Parquet schema lacks \"ts\"");
        assert_eq!(e.to_string(), "the Parquet schema lacks \"ts\"");
        assert_eq!(e.line(), Some(0));
    }

    #[test]
    fn io_errors_chain_their_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = Error::io("cannot read \"x.csv\"", Some("x.csv".into()), io);
        let source = std::error::Error::source(&e).unwrap();
        assert_eq!(source.to_string(), "gone");
    }
}
