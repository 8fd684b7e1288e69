//! Parquet files to events (feature `parquet`).
//!
//! The file's footer gives the schema, checked first (see
//! [`arrow`](super::arrow) for the column types accepted); only the
//! contract's columns are decoded, a batch of [`BATCH_ROWS`] rows at a time,
//! row group after row group, so memory stays bounded by one row group's
//! compressed columns and one batch whatever the file size.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;

use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::Row;
use super::arrow::{BatchColumns, resolve};
use crate::error::{Error, Result};

/// Rows decoded at a time.
const BATCH_ROWS: usize = 8192;

/// Reads a Parquet file into [`Row`]s, numbered from 1 across row groups.
pub(crate) struct ParquetParser {
    batches: ParquetRecordBatchReader,
    /// The current batch's rows not yet handed out.
    pending: std::vec::IntoIter<Row>,
    /// Rows decoded so far.
    rows: u64,
}

/// The I/O error for a file that Parquet cannot read, with `cause`.
fn unreadable(path: Option<&Path>, at: &str, cause: impl ToString) -> Error {
    let what = match path {
        Some(p) => format!("cannot read \"{}\" as Parquet{at}", p.display()),
        None => format!("cannot read the input as Parquet{at}"),
    };
    let cause = io::Error::new(io::ErrorKind::InvalidData, cause.to_string());
    Error::io(what, path.map(Path::to_owned), cause)
}

impl ParquetParser {
    /// Reads `file`'s footer and checks its schema.
    ///
    /// # Errors
    ///
    /// An I/O error naming `path` if the file is not Parquet (or is
    /// truncated or corrupt); a schema error for missing, repeated or
    /// mistyped columns.
    pub(crate) fn new(file: File, path: Option<&Path>) -> Result<Self> {
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| unreadable(path, "", e))?;
        let found = resolve(builder.schema(), "the Parquet schema")?;
        // Decode only the contract's columns; others are never inspected.
        let mask = ProjectionMask::roots(builder.parquet_schema(), found.iter().flatten().copied());
        let batches = builder
            .with_projection(mask)
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| unreadable(path, "", e))?;
        Ok(Self { batches, pending: Vec::new().into_iter(), rows: 0 })
    }

    /// Copies a stream (standard input) to an anonymous temporary file, since
    /// Parquet is read from its end, and reads that.
    ///
    /// # Errors
    ///
    /// As [`ParquetParser::new`], and an I/O error if the copy fails.
    pub(crate) fn spool(mut reader: impl Read) -> Result<Self> {
        let spool_error =
            |e| Error::io("cannot copy the Parquet input to a temporary file", None, e);
        let mut file = tempfile::tempfile().map_err(spool_error)?;
        io::copy(&mut reader, &mut file).map_err(spool_error)?;
        file.rewind().map_err(spool_error)?;
        Self::new(file, None)
    }

    /// The next row, or `None` at the end of the file.
    ///
    /// # Errors
    ///
    /// An I/O error if a page cannot be decoded (corrupt data), naming the
    /// first row of the batch; a bad row is a [`Row`] whose outcome is the
    /// problem.
    pub(crate) fn next_row(&mut self, path: Option<&Path>) -> Result<Option<Row>> {
        loop {
            if let Some(row) = self.pending.next() {
                return Ok(Some(row));
            }
            let batch = match self.batches.next() {
                None => return Ok(None),
                Some(Ok(batch)) => batch,
                Some(Err(e)) => {
                    return Err(unreadable(path, &format!(" (at row {})", self.rows + 1), e));
                }
            };
            let columns = BatchColumns::new(&batch, "the Parquet schema")?;
            let first = self.rows + 1;
            let rows: Vec<Row> = (0..columns.len())
                .map(|i| Row { line: first + i as u64, outcome: columns.event(i) })
                .collect();
            self.rows += rows.len() as u64;
            self.pending = rows.into_iter();
        }
    }
}
