//! Detection input from Apache Arrow record batches (feature `parquet`).
//!
//! A [`RecordBatch`](arrow_array::RecordBatch) holds the contract's columns
//! (docs/FORMATS.md): `ts`, `account` and `event`, optionally `kind`, `value`
//! and `reason`, matched by exact name; other columns are ignored and never
//! inspected. Each row is read straight from the Arrow arrays, with the same
//! validation and the same error messages as a CSV record (a row number
//! where CSV names a line); nothing is rendered to text and parsed again.
//!
//! Accepted column types:
//!
//! - **strings** (every column): `Utf8`, `LargeUtf8`, `Utf8View`, and
//!   `Binary`, `LargeBinary`, `BinaryView` holding UTF-8 (anything else is
//!   an [`Encoding`](crate::InputProblem::Encoding) problem), or a
//!   `Dictionary` of any of these;
//! - **integers** (`ts` as unix seconds; `account` and `value` as their
//!   decimal text): `Int8` to `Int64`, `UInt8` to `UInt64`, or a dictionary
//!   of them;
//! - **timestamps** (`ts` only): `Timestamp` of any unit and time zone, read
//!   as UTC instants with fractional seconds dropped (rounded down, as for
//!   RFC 3339 text).
//!
//! Null and the empty string mean absent, as an empty CSV cell does (a
//! column of Arrow type `Null` is absent on every row). A
//! column of another type (a float `ts`, an integer `event`) is a schema
//! error, reported before any row is read.
//!
//! The functions here take batches from memory; a Parquet file is read
//! with [`EventReader::open`](crate::EventReader::open) (by its `.parquet`
//! name or [`Format::Parquet`](crate::Format::Parquet)), and
//! [`Detector::detect_batches`](crate::Detector::detect_batches) runs
//! detection over batches.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    AnyDictionaryArray, Array, BinaryArray, BinaryViewArray, LargeBinaryArray, LargeStringArray,
    PrimitiveArray, RecordBatch, StringArray, StringViewArray,
};
use arrow_schema::{DataType, Schema, TimeUnit};

use super::normalize::clip;
use super::{Field, FieldResult, Fields, IngestConfig, SkipCounts, build_event};
use crate::error::{Error, InputProblem, Result};
use crate::event::Event;

/// The arrow-array crate this library is built with (major 59): build
/// batches with these types so that they are the ones
/// [`events_from_batch`] and
/// [`Detector::detect_batches`](crate::Detector::detect_batches) take.
pub use arrow_array;

/// The contract's column names, in [`Fields`] order.
const NAMES: [&str; 6] = ["ts", "account", "event", "kind", "value", "reason"];

/// What a column may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// `ts`: integer unix seconds, a timestamp, or text.
    Time,
    /// `event`, `kind`, `reason`: text only.
    Text,
    /// `account`, `value`: text, or an integer read as its decimal text.
    TextOrInteger,
}

/// The role of each of [`NAMES`].
const ROLES: [Role; 6] =
    [Role::Time, Role::TextOrInteger, Role::Text, Role::Text, Role::TextOrInteger, Role::Text];

impl Role {
    fn expected(self) -> &'static str {
        match self {
            Role::Time => {
                "expected integer unix seconds, a Timestamp or a string (Utf8, LargeUtf8, \
                 Utf8View, Binary, LargeBinary, BinaryView or a dictionary of them)"
            }
            Role::Text => {
                "expected a string: Utf8, LargeUtf8, Utf8View, Binary, LargeBinary, BinaryView \
                 or a dictionary of them"
            }
            Role::TextOrInteger => {
                "expected a string (Utf8, LargeUtf8, Utf8View, Binary, LargeBinary, BinaryView) \
                 or an integer, or a dictionary of them"
            }
        }
    }
}

/// Whether a column of type `data_type` can play `role`. [`Column::new`]
/// accepts exactly these types.
fn accepts(data_type: &DataType, role: Role) -> bool {
    use DataType as T;
    match data_type {
        // A column of nulls only (what a reader infers for a column that is
        // always empty) is absent everywhere.
        T::Null => true,
        T::Utf8 | T::LargeUtf8 | T::Utf8View | T::Binary | T::LargeBinary | T::BinaryView => true,
        T::Int8 | T::Int16 | T::Int32 | T::Int64 | T::UInt8 | T::UInt16 | T::UInt32 | T::UInt64 => {
            role != Role::Text
        }
        T::Timestamp(..) => role == Role::Time,
        T::Dictionary(_, values) => {
            !matches!(values.as_ref(), T::Dictionary(..)) && accepts(values, role)
        }
        _ => false,
    }
}

/// Where the contract's columns are in `schema` (top-level fields, by exact
/// name), with their types checked; `what` names the input in messages
/// (`the Parquet schema`, `the record batch`).
pub(crate) fn resolve(schema: &Schema, what: &str) -> Result<[Option<usize>; 6]> {
    let mut found: [Option<usize>; 6] = [None; 6];
    for (i, field) in schema.fields().iter().enumerate() {
        let Some(k) = NAMES.iter().position(|n| *n == field.name()) else { continue };
        if let Some(first) = found[k] {
            return Err(Error::input_schema(format!(
                "column {:?} appears twice in {what} (columns {} and {})",
                NAMES[k],
                first + 1,
                i + 1
            )));
        }
        if !accepts(field.data_type(), ROLES[k]) {
            return Err(Error::input_schema(format!(
                "column {:?} of {what} is {} ({})",
                NAMES[k],
                field.data_type(),
                ROLES[k].expected()
            )));
        }
        found[k] = Some(i);
    }
    let missing: Vec<String> =
        (0..3).filter(|&k| found[k].is_none()).map(|k| format!("{:?}", NAMES[k])).collect();
    if let [.., last] = missing.as_slice() {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let (noun, list) = match missing.len() {
            1 => ("column", last.clone()),
            n => ("columns", format!("{} and {last}", missing[..n - 1].join(", "))),
        };
        return Err(Error::input_schema(format!(
            "{what} lacks the required {noun} {list} (expected ts, account and event, \
             optionally kind, value and reason, in any order; it has {:?})",
            clip(&names.join(","))
        )));
    }
    Ok(found)
}

/// An integer array of any width.
enum Integers<'a> {
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    U8(&'a PrimitiveArray<UInt8Type>),
    U16(&'a PrimitiveArray<UInt16Type>),
    U32(&'a PrimitiveArray<UInt32Type>),
    U64(&'a PrimitiveArray<UInt64Type>),
}

impl<'a> Integers<'a> {
    fn new(array: &'a dyn Array) -> Option<Self> {
        Some(match array.data_type() {
            DataType::Int8 => Integers::I8(array.as_primitive_opt()?),
            DataType::Int16 => Integers::I16(array.as_primitive_opt()?),
            DataType::Int32 => Integers::I32(array.as_primitive_opt()?),
            DataType::Int64 => Integers::I64(array.as_primitive_opt()?),
            DataType::UInt8 => Integers::U8(array.as_primitive_opt()?),
            DataType::UInt16 => Integers::U16(array.as_primitive_opt()?),
            DataType::UInt32 => Integers::U32(array.as_primitive_opt()?),
            DataType::UInt64 => Integers::U64(array.as_primitive_opt()?),
            _ => return None,
        })
    }

    /// Row `i`'s value, `None` if null.
    fn get(&self, i: usize) -> Option<i128> {
        fn at<T: arrow_array::ArrowPrimitiveType>(
            a: &PrimitiveArray<T>,
            i: usize,
        ) -> Option<T::Native>
        where
            T::Native: Copy,
        {
            a.is_valid(i).then(|| a.value(i))
        }
        match self {
            Integers::I8(a) => at(a, i).map(i128::from),
            Integers::I16(a) => at(a, i).map(i128::from),
            Integers::I32(a) => at(a, i).map(i128::from),
            Integers::I64(a) => at(a, i).map(i128::from),
            Integers::U8(a) => at(a, i).map(i128::from),
            Integers::U16(a) => at(a, i).map(i128::from),
            Integers::U32(a) => at(a, i).map(i128::from),
            Integers::U64(a) => at(a, i).map(i128::from),
        }
    }
}

/// One contract column of a batch, typed.
enum Column<'a> {
    /// Not in the batch, or of type `Null`: every row is absent.
    Missing,
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Binary(&'a BinaryArray),
    LargeBinary(&'a LargeBinaryArray),
    BinaryView(&'a BinaryViewArray),
    Integer(Integers<'a>),
    /// A timestamp column: `values` in units of which `per_second` make a second.
    Timestamp {
        array: &'a dyn Array,
        values: &'a [i64],
        per_second: i64,
    },
    /// A dictionary: row `i` is `values[keys[i]]` unless the key is null.
    Dictionary {
        keys: &'a dyn Array,
        /// The keys as positions in `values` (empty if `values` is).
        positions: Vec<usize>,
        values: Box<Column<'a>>,
    },
}

impl<'a> Column<'a> {
    /// The column `array` as `role`, or `None` if its type is not one
    /// [`accepts`] allows.
    fn new(array: &'a dyn Array, role: Role) -> Option<Self> {
        if !accepts(array.data_type(), role) {
            return None;
        }
        let timestamp =
            |values: &'a [i64], per_second| Some(Column::Timestamp { array, values, per_second });
        Some(match array.data_type() {
            DataType::Null => Column::Missing,
            DataType::Utf8 => Column::Utf8(array.as_string_opt()?),
            DataType::LargeUtf8 => Column::LargeUtf8(array.as_string_opt()?),
            DataType::Utf8View => Column::Utf8View(array.as_string_view_opt()?),
            DataType::Binary => Column::Binary(array.as_binary_opt()?),
            DataType::LargeBinary => Column::LargeBinary(array.as_binary_opt()?),
            DataType::BinaryView => Column::BinaryView(array.as_binary_view_opt()?),
            DataType::Timestamp(TimeUnit::Second, _) => {
                return timestamp(array.as_primitive_opt::<TimestampSecondType>()?.values(), 1);
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                let a = array.as_primitive_opt::<TimestampMillisecondType>()?;
                return timestamp(a.values(), 1_000);
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                let a = array.as_primitive_opt::<TimestampMicrosecondType>()?;
                return timestamp(a.values(), 1_000_000);
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                let a = array.as_primitive_opt::<TimestampNanosecondType>()?;
                return timestamp(a.values(), 1_000_000_000);
            }
            DataType::Dictionary(..) => {
                let dictionary: &'a dyn AnyDictionaryArray = array.as_any_dictionary_opt()?;
                let values = Column::new(dictionary.values().as_ref(), role)?;
                // `normalized_keys` needs values to point at; without any,
                // every valid array has only null keys.
                let positions = if dictionary.values().is_empty() {
                    Vec::new()
                } else {
                    dictionary.normalized_keys()
                };
                Column::Dictionary { keys: dictionary.keys(), positions, values: Box::new(values) }
            }
            _ => Column::Integer(Integers::new(array)?),
        })
    }

    /// Row `i` as a [`Field`]: absent if null or empty.
    fn field(&self, i: usize, name: &str) -> FieldResult<Field<'a>> {
        let text = |s: &'a str| if s.is_empty() { Field::Absent } else { Field::Text(s) };
        Ok(match self {
            Column::Missing => Field::Absent,
            Column::Utf8(a) => {
                if a.is_valid(i) {
                    text(a.value(i))
                } else {
                    Field::Absent
                }
            }
            Column::LargeUtf8(a) => {
                if a.is_valid(i) {
                    text(a.value(i))
                } else {
                    Field::Absent
                }
            }
            Column::Utf8View(a) => {
                if a.is_valid(i) {
                    text(a.value(i))
                } else {
                    Field::Absent
                }
            }
            Column::Binary(a) => return bytes(a.is_valid(i).then(|| a.value(i)), name),
            Column::LargeBinary(a) => return bytes(a.is_valid(i).then(|| a.value(i)), name),
            Column::BinaryView(a) => return bytes(a.is_valid(i).then(|| a.value(i)), name),
            Column::Integer(a) => a.get(i).map_or(Field::Absent, Field::Integer),
            Column::Timestamp { array, values, per_second } => {
                if array.is_valid(i) {
                    // Rounded down, so 1969-12-31T23:59:59.5Z is -1 as in text.
                    Field::Integer(i128::from(values[i].div_euclid(*per_second)))
                } else {
                    Field::Absent
                }
            }
            Column::Dictionary { keys, positions, values } => match positions.get(i) {
                Some(&at) if keys.is_valid(i) => return values.field(at, name),
                _ => Field::Absent,
            },
        })
    }
}

/// Binary cell `raw` as text, as a CSV field's bytes are read.
fn bytes<'a>(raw: Option<&'a [u8]>, name: &str) -> FieldResult<Field<'a>> {
    raw.map_or(Ok(Field::Absent), |raw| Field::from_bytes(raw, name))
}

/// The contract's columns of one batch, ready to read row by row.
pub(crate) struct BatchColumns<'a> {
    columns: [Column<'a>; 6],
    rows: usize,
}

impl<'a> BatchColumns<'a> {
    /// Finds and types the contract's columns of `batch` (see
    /// [`resolve`]).
    pub(crate) fn new(batch: &'a RecordBatch, what: &str) -> Result<Self> {
        let found = resolve(batch.schema_ref(), what)?;
        let mut columns = [const { Column::Missing }; 6];
        for (k, at) in found.iter().enumerate() {
            let Some(at) = *at else { continue };
            let array = batch.column(at);
            // `resolve` has checked the type already.
            columns[k] = Column::new(array.as_ref(), ROLES[k]).ok_or_else(|| {
                Error::input_schema(format!(
                    "column {:?} of {what} is {} ({})",
                    NAMES[k],
                    array.data_type(),
                    ROLES[k].expected()
                ))
            })?;
        }
        Ok(Self { columns, rows: batch.num_rows() })
    }

    /// Rows in the batch.
    pub(crate) fn len(&self) -> usize {
        self.rows
    }

    /// Row `i` (0-based) validated into an event, as [`build_event`] does
    /// for a CSV record.
    pub(crate) fn event(&self, i: usize) -> FieldResult<Event> {
        let [ts, account, event, kind, value, reason] = &self.columns;
        let fields = Fields {
            ts: ts.field(i, "ts")?,
            account: account.field(i, "account")?,
            event: event.field(i, "event")?,
            kind: kind.field(i, "kind")?,
            value: value.field(i, "value")?,
            reason: reason.field(i, "reason")?,
        };
        build_event(&fields)
    }
}

/// Reads rows of successive batches with [`IngestConfig`]'s strict or
/// lenient rule, numbering rows across batches (1 = the first row).
#[derive(Debug)]
pub(crate) struct BatchReader {
    lenient: bool,
    /// Rows read so far, good or bad.
    rows: u64,
    accepted: u64,
    skipped: SkipCounts,
    /// The first row skipped: row, problem and message.
    first_skip: Option<(u64, InputProblem, String)>,
}

impl BatchReader {
    pub(crate) fn new(config: &IngestConfig) -> Self {
        Self {
            lenient: config.get_lenient(),
            rows: 0,
            accepted: 0,
            skipped: SkipCounts::default(),
            first_skip: None,
        }
    }

    /// Reads every row of `batch`, handing each valid event with its row
    /// number to `sink`.
    ///
    /// # Errors
    ///
    /// A schema error; the first bad row when strict; whatever `sink` returns.
    pub(crate) fn read(
        &mut self,
        batch: &RecordBatch,
        mut sink: impl FnMut(u64, Event) -> Result<()>,
    ) -> Result<()> {
        let columns = BatchColumns::new(batch, "the record batch")?;
        for i in 0..columns.len() {
            self.rows += 1;
            match columns.event(i) {
                Ok(event) => {
                    self.accepted += 1;
                    sink(self.rows, event)?;
                }
                Err((problem, message)) => {
                    if !self.lenient {
                        return Err(Error::input_row(self.rows, problem, message));
                    }
                    let error = Error::input_row(self.rows, problem, message.as_str());
                    self.skipped.add(problem, &error);
                    if self.first_skip.is_none() {
                        self.first_skip = Some((self.rows, problem, message));
                    }
                }
            }
        }
        Ok(())
    }

    /// What lenient reading skipped.
    ///
    /// # Errors
    ///
    /// An input error naming the first bad row if rows were read but none
    /// was valid (lenient reading of the wrong data is not a result).
    pub(crate) fn finish(self) -> Result<SkipCounts> {
        match self.first_skip {
            Some((row, problem, message)) if self.accepted == 0 => Err(Error::input_row(
                row,
                problem,
                format!(
                    "{message}; and no row of the input is valid ({}): is it the right data?",
                    self.skipped
                ),
            )),
            _ => Ok(self.skipped),
        }
    }
}

/// Reads the events of one Arrow record batch.
///
/// The batch holds the contract's columns (see the [module](self) docs for
/// the types accepted); rows are numbered from 1 in error messages (`row 3:
/// ...`). Strict reading (the default) stops at the first bad row; lenient
/// reading ([`IngestConfig::lenient`]) skips bad rows and counts them in
/// the returned [`SkipCounts`], but a batch whose rows are all bad is an
/// error. [`IngestConfig`]'s format and record length do not apply.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use hydra_detect::arrow::arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
/// use hydra_detect::{IngestConfig, arrow::events_from_batch};
///
/// let batch = RecordBatch::try_from_iter([
///     ("ts", Arc::new(Int64Array::from(vec![1_767_225_600, 1_767_225_660])) as ArrayRef),
///     ("account", Arc::new(StringArray::from(vec!["a-1", "a-1"])) as ArrayRef),
///     ("event", Arc::new(StringArray::from(vec!["signup", "observe"])) as ArrayRef),
///     ("kind", Arc::new(StringArray::from(vec![None, Some("ip")])) as ArrayRef),
///     ("value", Arc::new(StringArray::from(vec![None, Some("203.0.113.7")])) as ArrayRef),
/// ])?;
/// let (events, skipped) = events_from_batch(&batch, &IngestConfig::new())?;
/// assert_eq!(events.len(), 2);
/// assert_eq!(events[1].action.name(), "observe");
/// assert!(skipped.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// An [`Input`](crate::ErrorKind::Input) error: a schema problem (a
/// required column missing, a column named twice or of a type not
/// accepted; problem [`Header`](InputProblem::Header), line 0), or the
/// first bad row when strict, or the all-bad case when lenient.
pub fn events_from_batch(
    batch: &RecordBatch,
    config: &IngestConfig,
) -> Result<(Vec<Event>, SkipCounts)> {
    let mut reader = BatchReader::new(config);
    let mut events = Vec::with_capacity(batch.num_rows());
    reader.read(batch, |_, event| {
        events.push(event);
        Ok(())
    })?;
    Ok((events, reader.finish()?))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{StringDictionaryBuilder, StringViewBuilder};
    use arrow_array::types::Int32Type;
    use arrow_array::{
        ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, TimestampMillisecondArray,
        TimestampNanosecondArray, UInt64Array,
    };

    use super::*;
    use crate::event::{Action, IndicatorKind};

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn read(b: &RecordBatch) -> Result<(Vec<Event>, SkipCounts)> {
        events_from_batch(b, &IngestConfig::new())
    }

    #[test]
    fn every_string_encoding_reads_the_same() {
        let accounts = ["a-1", "a-2", "a-1"];
        let mut dict = StringDictionaryBuilder::<Int32Type>::new();
        let mut view = StringViewBuilder::new();
        for a in accounts {
            dict.append_value(a);
            view.append_value(a);
        }
        let encodings: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(accounts.to_vec())),
            Arc::new(LargeStringArray::from(accounts.to_vec())),
            Arc::new(view.finish()),
            Arc::new(BinaryArray::from_iter_values(accounts.iter().map(|a| a.as_bytes()))),
            Arc::new(dict.finish()),
        ];
        let mut seen = Vec::new();
        for account in encodings {
            let b = batch(vec![
                ("ts", Arc::new(Int64Array::from(vec![5, 6, 7]))),
                ("account", account),
                ("event", strings(&[Some("signup"), Some("signup"), Some("ban")])),
            ]);
            seen.push(read(&b).unwrap().0);
        }
        assert_eq!(seen[0][2], Event::ban(7, "a-1", None));
        assert!(seen.iter().all(|s| *s == seen[0]), "{seen:?}");
    }

    #[test]
    fn times_in_every_unit_round_down_to_seconds() {
        let ms = TimestampMillisecondArray::from(vec![1_767_225_600_999, -500])
            .with_timezone("America/New_York");
        let ns = TimestampNanosecondArray::from(vec![1_767_225_600_000_000_001, -1]);
        let text = strings(&[Some("2026-01-01T00:00:00.9Z"), Some("1969-12-31T23:59:59.5Z")]);
        for ts in [Arc::new(ms) as ArrayRef, Arc::new(ns), text] {
            let b = batch(vec![
                ("ts", ts),
                ("account", strings(&[Some("a"), Some("b")])),
                ("event", strings(&[Some("signup"), Some("signup")])),
            ]);
            let events = read(&b).unwrap().0;
            assert_eq!((events[0].ts, events[1].ts), (1_767_225_600, -1));
        }
    }

    #[test]
    fn integers_are_read_as_their_text() {
        let b = batch(vec![
            ("ts", Arc::new(Int32Array::from(vec![9]))),
            ("account", Arc::new(UInt64Array::from(vec![u64::MAX]))),
            ("event", strings(&[Some("observe")])),
            ("kind", strings(&[Some("asn")])),
            ("value", Arc::new(Int64Array::from(vec![13335]))),
            ("extra", Arc::new(BooleanArray::from(vec![true]))),
        ]);
        let events = read(&b).unwrap().0;
        assert_eq!(events, [Event::observe(9, u64::MAX.to_string(), IndicatorKind::Asn, "13335")]);
    }

    #[test]
    fn null_and_empty_are_absent_and_rows_are_checked_as_csv() {
        let b = batch(vec![
            ("reason", strings(&[None, Some(""), Some("spam"), Some("x")])),
            ("event", strings(&[Some("ban"), Some("ban"), Some("ban"), Some("signup")])),
            ("account", strings(&[Some("a"), Some("b"), Some("c"), Some("d")])),
            ("ts", Arc::new(Int64Array::from(vec![Some(1), Some(2), Some(3), Some(4)]))),
        ]);
        let err = read(&b).unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 4: reason \"x\" on a signup row (reason is only allowed on ban)"
        );
        let (events, skipped) = events_from_batch(&b, &IngestConfig::new().lenient(true)).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[2].action, Action::Ban { reason: Some("spam".into()) });
        assert_eq!(events[0].action, Action::Ban { reason: None });
        assert_eq!(skipped.count(InputProblem::Reason), 1);
        assert_eq!(skipped.examples()[0], err.to_string());
    }

    #[test]
    fn a_batch_of_only_bad_rows_is_an_error_even_when_lenient() {
        let b = batch(vec![
            ("ts", Arc::new(Int64Array::from(vec![None, Some(1)]))),
            ("account", strings(&[Some("a"), None])),
            ("event", strings(&[Some("signup"), Some("signup")])),
        ]);
        let err = events_from_batch(&b, &IngestConfig::new().lenient(true)).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("row 1: missing ts"), "{message}");
        assert!(message.contains("2 records skipped (timestamp 1, account 1)"), "{message}");
    }

    #[test]
    fn bad_binary_text_is_an_encoding_problem() {
        let raw: Vec<&[u8]> = vec![b"ok", b"\xff\xfe"];
        let b = batch(vec![
            ("ts", Arc::new(Int64Array::from(vec![1, 2]))),
            ("account", Arc::new(BinaryArray::from(raw))),
            ("event", strings(&[Some("signup"), Some("signup")])),
        ]);
        let err = read(&b).unwrap_err();
        assert_eq!(
            err.kind(),
            &crate::ErrorKind::Input {
                line: 2,
                problem: InputProblem::Encoding,
                message: "account \"\u{fffd}\u{fffd}\" is not valid UTF-8 at byte 1 \
                          (expected UTF-8 text)"
                    .into()
            }
        );
    }

    #[test]
    fn schema_problems_name_the_column() {
        let ok = || -> Vec<(&str, ArrayRef)> {
            vec![
                ("ts", Arc::new(Int64Array::from(vec![1]))),
                ("account", strings(&[Some("a")])),
                ("event", strings(&[Some("signup")])),
            ]
        };
        let problem = |columns: Vec<(&str, ArrayRef)>| {
            let err = read(&batch(columns)).unwrap_err();
            assert!(matches!(
                err.kind(),
                crate::ErrorKind::Input { problem: InputProblem::Header, line: 0, .. }
            ));
            err.to_string()
        };
        let mut c = ok();
        c[0].1 = Arc::new(Float64Array::from(vec![1.5]));
        let m = problem(c);
        assert!(m.starts_with("column \"ts\" of the record batch is Float64 (expected"), "{m}");
        let mut c = ok();
        c[2].1 = Arc::new(Int64Array::from(vec![1]));
        assert!(problem(c).contains("\"event\" of the record batch is Int64"));
        let mut c = ok();
        c.remove(1);
        let m = problem(c);
        assert!(m.contains("lacks the required column \"account\""), "{m}");
        assert!(m.contains("it has \"ts,event\""), "{m}");
        let mut c = ok();
        c.push(("ts", Arc::new(Int64Array::from(vec![2]))));
        assert!(problem(c).contains("\"ts\" appears twice in the record batch (columns 1 and 4)"));
    }

    #[test]
    fn accepted_types_are_exactly_the_readable_ones() {
        use arrow_array::new_empty_array;
        let dict = |v: DataType| DataType::Dictionary(Box::new(DataType::UInt16), Box::new(v));
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let types = [
            DataType::Utf8,
            DataType::LargeUtf8,
            DataType::Utf8View,
            DataType::Binary,
            DataType::LargeBinary,
            DataType::BinaryView,
            DataType::Int8,
            DataType::UInt32,
            DataType::Int64,
            ts.clone(),
            dict(DataType::Utf8),
            dict(DataType::Int64),
            dict(ts.clone()),
            DataType::Float64,
            DataType::Boolean,
            DataType::Date32,
            dict(DataType::Float32),
            DataType::Null,
        ];
        for t in types {
            let array = new_empty_array(&t);
            for role in [Role::Time, Role::Text, Role::TextOrInteger] {
                assert_eq!(
                    Column::new(array.as_ref(), role).is_some(),
                    accepts(&t, role),
                    "{t} as {role:?}"
                );
            }
        }
        assert!(accepts(&dict(DataType::Int64), Role::TextOrInteger));
        assert!(!accepts(&dict(DataType::Int64), Role::Text));
        assert!(!accepts(&ts, Role::TextOrInteger));
        assert!(!accepts(&DataType::Float64, Role::Time));
    }

    #[test]
    fn dictionary_null_keys_and_empty_dictionaries_are_absent() {
        let keys = Int32Array::from(vec![None, Some(0)]);
        let values = StringArray::from(vec!["spam"]);
        let reasons = arrow_array::DictionaryArray::try_new(keys, Arc::new(values)).unwrap();
        let empty = arrow_array::DictionaryArray::try_new(
            Int32Array::from(vec![None, None]),
            Arc::new(StringArray::from(Vec::<&str>::new())),
        )
        .unwrap();
        let b = batch(vec![
            ("ts", Arc::new(Int64Array::from(vec![1, 2]))),
            ("account", strings(&[Some("a"), Some("b")])),
            ("event", strings(&[Some("ban"), Some("ban")])),
            ("reason", Arc::new(reasons)),
            ("kind", Arc::new(empty)),
        ]);
        let events = read(&b).unwrap().0;
        assert_eq!(events, [Event::ban(1, "a", None), Event::ban(2, "b", Some("spam".into()))]);
    }
}
