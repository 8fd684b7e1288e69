//! CSV records to events.
//!
//! Parsing is `csv_core`'s state machine (the engine inside the `csv` crate)
//! driven directly, rather than `csv::Reader`, for three reasons the
//! contract makes requirements: `csv::Reader` grows a record's buffer
//! without limit (one unterminated quote would read the whole input into
//! memory), it stops for good after an I/O error, so an over-long record
//! could not be skipped, and its start positions point at blank lines that
//! precede a record rather than at the record. Here the output buffer is
//! reused across records, a record longer than the limit is skipped in
//! constant memory, and blank lines are consumed before a record starts so
//! that its line number is exact.

use std::io::Read;

use csv_core::{ReadRecordResult, Reader as CoreReader};

use super::normalize::clip;
use super::{Failure, Field, FieldResult, Fields, Row, Source, build_event};
use crate::error::InputProblem;
use crate::event::Event;

/// The contract's column names, in the order of [`Columns`].
const NAMES: [&str; 6] = ["ts", "account", "event", "kind", "value", "reason"];

/// Where each contract column is in the header (0-based field index).
#[derive(Clone, Copy, Debug)]
struct Columns {
    ts: usize,
    account: usize,
    event: usize,
    kind: Option<usize>,
    value: Option<usize>,
    reason: Option<usize>,
}

/// What [`RecordBuf::read_raw`] found.
enum Raw {
    /// A record, now in the buffer, starting at `line`.
    Record { line: u64 },
    /// A record of `len` bytes (line terminator excluded) over the limit; it
    /// has been consumed and is not in the buffer.
    TooLong { line: u64, len: u64 },
    /// End of input.
    End,
}

/// The input and the current record's fields.
struct RecordBuf<R> {
    source: Source<R>,
    core: CoreReader,
    /// The current record's unescaped field bytes.
    out: Vec<u8>,
    /// `ends[i]` is the end of field `i` in `out`, for `i < fields`.
    ends: Vec<usize>,
    fields: usize,
    /// Physical line (1-based) of the next unread byte.
    line: u64,
    /// Whether the last byte read was `\r`: a line ends at `\n`, `\r\n`
    /// or a lone `\r` (old Mac files), counted once each.
    after_cr: bool,
    max_len: usize,
}

/// Counts into `line` the line ends in `bytes`, read after a `\r` if
/// `after_cr` (updated for the next call).
fn count_line_ends(bytes: &[u8], line: &mut u64, after_cr: &mut bool) {
    let Some(&first) = bytes.first() else { return };
    if !bytes.contains(&b'\r') {
        // The common case, counted as fast as before: only `\n`, the first
        // of which may end a `\r\n` begun in the previous chunk.
        let lfs = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        *line += lfs - u64::from(*after_cr && first == b'\n');
        *after_cr = false;
        return;
    }
    for &b in bytes {
        if b == b'\r' || (b == b'\n' && !*after_cr) {
            *line += 1;
        }
        *after_cr = b == b'\r';
    }
}

impl<R: Read> RecordBuf<R> {
    /// Reads the next record.
    fn read_raw(&mut self) -> Result<Raw, Failure> {
        // Consume blank lines first, so that `line` is the line of the
        // record's first byte (csv_core would skip them silently).
        loop {
            let input =
                self.source.fill().map_err(|error| Failure::Io { line: self.line, error })?;
            match input.first() {
                None => return Ok(Raw::End),
                Some(&b @ (b'\n' | b'\r')) => {
                    count_line_ends(&[b], &mut self.line, &mut self.after_cr);
                }
                Some(_) => break,
            }
            self.source.consume(1);
        }
        let start = self.line;
        let (mut out_len, mut ends_len) = (0, 0);
        let mut consumed: u64 = 0;
        // Once past the limit the record is read on, to find where it ends,
        // but its fields are written over the same buffers and dropped.
        let mut skipping = false;
        // The limit plus one byte for the record's terminator.
        let limit = self.max_len as u64 + 1;
        loop {
            let input =
                self.source.fill().map_err(|error| Failure::Io { line: self.line, error })?;
            let (result, nin, nout, nend) = if skipping {
                self.core.read_record(input, &mut self.out, &mut self.ends)
            } else {
                self.core.read_record(input, &mut self.out[out_len..], &mut self.ends[ends_len..])
            };
            let eaten = &input[..nin];
            count_line_ends(eaten, &mut self.line, &mut self.after_cr);
            self.source.consume(nin);
            consumed += nin as u64;
            if !skipping {
                out_len += nout;
                ends_len += nend;
            }
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull if !skipping => {
                    let len = self.out.len() * 2;
                    self.out.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull if !skipping => {
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::Record => {
                    // A record ends on its terminator byte (`\n`, or `\r`
                    // whose `\n` the blank-line skip above consumes), or at
                    // end of input, where nothing is consumed.
                    let len = consumed - u64::from(nin > 0);
                    if skipping || len > self.max_len as u64 {
                        return Ok(Raw::TooLong { line: start, len });
                    }
                    self.fields = ends_len;
                    return Ok(Raw::Record { line: start });
                }
                // Not reached: a record has started, and csv_core ends every
                // started record with `Record` before `End`.
                ReadRecordResult::End => return Ok(Raw::End),
            }
            if !skipping && consumed > limit {
                skipping = true;
            }
        }
    }
}

impl<R> RecordBuf<R> {
    /// The bytes of field `i` of the current record (`i < self.fields`).
    fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.out[start..self.ends[i]]
    }
}

/// Reads CSV with a header row into [`Row`]s.
pub(crate) struct CsvParser<R> {
    buf: RecordBuf<R>,
    columns: Columns,
    /// Fields in the header; every record must have as many.
    width: usize,
}

impl<R: Read> CsvParser<R> {
    /// Reads the header from `source` and maps the contract's columns.
    ///
    /// # Errors
    ///
    /// An I/O failure, or a [`InputProblem::Header`] failure (empty input,
    /// missing or repeated column) or [`InputProblem::TooLong`] header.
    pub(crate) fn new(source: Source<R>, max_len: usize) -> Result<Self, Failure> {
        let mut buf = RecordBuf {
            source,
            core: CoreReader::new(),
            out: vec![0; 1024],
            ends: vec![0; 32],
            fields: 0,
            line: 1,
            after_cr: false,
            max_len,
        };
        let line = match buf.read_raw()? {
            Raw::Record { line } => line,
            Raw::End => {
                return Err(Failure::Input {
                    line: buf.line,
                    problem: InputProblem::Header,
                    message: "empty input (expected a header row naming ts, account and event)"
                        .to_owned(),
                });
            }
            Raw::TooLong { line, len } => {
                return Err(Failure::Input {
                    line,
                    problem: InputProblem::TooLong,
                    message: too_long("header", len, max_len),
                });
            }
        };
        let columns = header_columns(&buf, line)?;
        let width = buf.fields;
        Ok(Self { buf, columns, width })
    }

    /// The next record, or `None` at end of input.
    ///
    /// # Errors
    ///
    /// Only I/O failures; a bad record is a [`Row`] whose outcome is the
    /// problem.
    pub(crate) fn next_row(&mut self) -> Result<Option<Row>, Failure> {
        let line = match self.buf.read_raw()? {
            Raw::End => return Ok(None),
            Raw::TooLong { line, len } => {
                let message = too_long("record", len, self.buf.max_len);
                return Ok(Some(Row { line, outcome: Err((InputProblem::TooLong, message)) }));
            }
            Raw::Record { line } => line,
        };
        Ok(Some(Row { line, outcome: self.event() }))
    }

    /// Validates the current record into an event.
    fn event(&self) -> FieldResult<Event> {
        if self.buf.fields != self.width {
            return Err((
                InputProblem::Syntax,
                format!(
                    "{} fields where the header has {} (expected one field per column; \
                     quote fields that contain commas)",
                    self.buf.fields, self.width
                ),
            ));
        }
        let c = self.columns;
        let fields = Fields {
            ts: self.field(Some(c.ts), "ts")?,
            account: self.field(Some(c.account), "account")?,
            event: self.field(Some(c.event), "event")?,
            kind: self.field(c.kind, "kind")?,
            value: self.field(c.value, "value")?,
            reason: self.field(c.reason, "reason")?,
        };
        build_event(&fields)
    }

    /// Column `column` of the current record as a [`Field`]: absent if the
    /// column is not in the header or the field is empty.
    fn field(&self, column: Option<usize>, name: &str) -> FieldResult<Field<'_>> {
        let Some(i) = column else { return Ok(Field::Absent) };
        Field::from_bytes(self.buf.field(i), name)
    }
}

/// Maps the contract's columns to their positions in the header record.
fn header_columns<R>(buf: &RecordBuf<R>, line: u64) -> Result<Columns, Failure> {
    let header_error = |message| Failure::Input { line, problem: InputProblem::Header, message };
    let mut found: [Option<usize>; 6] = [None; 6];
    for i in 0..buf.fields {
        let mut name = buf.field(i);
        if i == 0 {
            // A UTF-8 byte-order mark; csv_core strips one only when it
            // arrives in a single read.
            name = name.strip_prefix(b"\xef\xbb\xbf").unwrap_or(name);
        }
        if let Some(k) = NAMES.iter().position(|n| n.as_bytes() == name) {
            if let Some(first) = found[k] {
                return Err(header_error(format!(
                    "column {:?} appears twice in the header (columns {} and {})",
                    NAMES[k],
                    first + 1,
                    i + 1
                )));
            }
            found[k] = Some(i);
        }
    }
    let missing: Vec<String> =
        (0..3).filter(|&k| found[k].is_none()).map(|k| format!("{:?}", NAMES[k])).collect();
    if let [.., last] = missing.as_slice() {
        let header: Vec<String> =
            (0..buf.fields).map(|i| String::from_utf8_lossy(buf.field(i)).into_owned()).collect();
        let header = header.join(",");
        let (noun, list) = match missing.len() {
            1 => ("column", last.clone()),
            n => ("columns", format!("{} and {last}", missing[..n - 1].join(", "))),
        };
        return Err(header_error(format!(
            "header {:?} lacks the required {noun} {list} (expected ts, account and event, \
             optionally kind, value and reason, in any order)",
            clip(&header)
        )));
    }
    // The three required columns were found just above.
    let required = |k: usize| found[k].unwrap_or_default();
    Ok(Columns {
        ts: required(0),
        account: required(1),
        event: required(2),
        kind: found[3],
        value: found[4],
        reason: found[5],
    })
}

fn too_long(what: &str, len: u64, max: usize) -> String {
    format!(
        "{what} is {len} bytes long (at most {max} allowed; raise the maximum record length \
         if such records are expected)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser(input: &str, max: usize) -> Result<CsvParser<&[u8]>, Failure> {
        CsvParser::new(Source::new(input.as_bytes()), max)
    }

    fn rows(input: &str, max: usize) -> Vec<(u64, Result<Event, InputProblem>)> {
        let Ok(mut p) = parser(input, max) else { panic!("header rejected") };
        let mut out = Vec::new();
        while let Ok(Some(row)) = p.next_row() {
            out.push((row.line, row.outcome.map_err(|(problem, _)| problem)));
        }
        out
    }

    fn header_problem(input: &str) -> (u64, InputProblem, String) {
        match parser(input, 1000) {
            Err(Failure::Input { line, problem, message }) => (line, problem, message),
            Err(Failure::Io { .. }) => panic!("I/O failure"),
            Ok(_) => panic!("header accepted"),
        }
    }

    // See: #15 (a file with CR-only line ends reported every error at line 1).
    #[test]
    fn lone_carriage_returns_end_lines_too() {
        let input = "ts,account,event\r1,a,signup\r\rbad,b,signup\r\n4,c,signup\n5,d,signup\r";
        let lines: Vec<u64> = rows(input, 1000).iter().map(|r| r.0).collect();
        assert_eq!(lines, [2, 4, 5, 6]);
    }

    #[test]
    fn lines_count_blank_lines_and_quoted_newlines() {
        let input = "ts,account,event\n\n1,a,signup\r\n\r\n2,\"b\nc\",signup\n3,d,signup";
        let got = rows(input, 1000);
        let lines: Vec<u64> = got.iter().map(|r| r.0).collect();
        assert_eq!(lines, [3, 5, 7]);
        assert_eq!(got[1].1.as_ref().unwrap().account, "b\nc");
    }

    #[test]
    fn header_problems() {
        let (line, p, m) = header_problem("ts,acount,event\n1,a,signup\n");
        assert_eq!((line, p), (1, InputProblem::Header));
        assert!(m.contains("lacks the required column \"account\""), "{m}");
        let (_, _, m) = header_problem("x\n");
        assert!(m.contains("columns \"ts\", \"account\" and \"event\""), "{m}");
        let (line, p, m) = header_problem("\n\nts,account,event,ts\n");
        assert_eq!((line, p), (3, InputProblem::Header));
        assert!(m.contains("\"ts\" appears twice") && m.contains("columns 1 and 4"), "{m}");
        assert_eq!(header_problem("").1, InputProblem::Header);
        assert_eq!(header_problem("\n\r\n").1, InputProblem::Header);
        // Unknown columns may repeat and are never inspected.
        assert!(parser("x,ts,x,account,\u{0},event\n", 100).is_ok());
        assert!(parser("\u{feff}ts,account,event\n", 100).is_ok());
    }

    #[test]
    fn too_long_records_are_skipped_exactly() {
        // Content of exactly the limit passes; one more byte does not, with
        // or without a terminator, quoted or not.
        let header = "ts,account,event\n";
        let input = format!(
            "{header}1,abcdefghijk,signup\n1,abcdefghijkl,signup\r\n1,\"x\ny\",signup\n\
             1,abcdefghijklm,signup"
        );
        let got = rows(&input, 21);
        let summary: Vec<(u64, bool)> = got.iter().map(|(l, r)| (*l, r.is_ok())).collect();
        assert_eq!(summary, [(2, true), (3, true), (4, true), (6, false)]);
        let got = rows(&input, 20);
        let problems: Vec<Option<InputProblem>> =
            got.iter().map(|(_, r)| r.clone().err()).collect();
        assert_eq!(
            problems,
            [None, Some(InputProblem::TooLong), None, Some(InputProblem::TooLong)]
        );
    }

    #[test]
    fn an_unterminated_quote_is_skipped_in_bounded_memory() {
        let big = "x".repeat(1 << 20);
        let input = format!("ts,account,event\n1,\"{big}\n2,a,signup\n");
        let mut p = parser(&input, 64).unwrap_or_else(|_| panic!("header"));
        let row = p.next_row().ok().flatten().expect("a row");
        assert_eq!(row.line, 2);
        assert_eq!(row.outcome.unwrap_err().0, InputProblem::TooLong);
        assert!(p.buf.out.len() <= 256 * 1024, "buffer grew to {}", p.buf.out.len());
        assert!(p.next_row().ok().flatten().is_none());
    }

    #[test]
    fn a_header_longer_than_the_limit_is_too_long() {
        assert!(matches!(
            parser("ts,account,event,extra\n", 10),
            Err(Failure::Input { problem: InputProblem::TooLong, line: 1, .. })
        ));
    }

    #[test]
    fn field_count_and_encoding() {
        let input = b"ts,account,event\n1,a\n1,\xff\xfe,signup\n1,a,signup,x\n";
        let mut p = CsvParser::new(Source::new(&input[..]), 100).unwrap_or_else(|_| panic!());
        let mut next = || p.next_row().ok().flatten().unwrap().outcome.unwrap_err();
        let (problem, message) = next();
        assert_eq!(problem, InputProblem::Syntax);
        assert!(message.starts_with("2 fields where the header has 3"), "{message}");
        let (problem, message) = next();
        assert_eq!(problem, InputProblem::Encoding);
        assert!(
            message.starts_with("account \"\u{fffd}\u{fffd}\" is not valid UTF-8 at byte 1"),
            "{message}"
        );
        assert_eq!(next().0, InputProblem::Syntax);
    }
}
