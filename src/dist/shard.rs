//! Which bytes of which input each worker reads.
//!
//! One plain (not gzip) regular file is cut into one byte range per worker,
//! each range starting at a line start; a CSV file's header line is read by
//! every worker before its range. Several files (or a gzip file, or a pipe)
//! are read whole, file `i` by worker `i mod workers`.
//!
//! Cutting at line starts assumes a record never spans lines; a CSV field
//! with a quoted line break next to a cut would be split in two (both halves
//! are then rejected as malformed, so the run fails or, lenient, counts them).

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};
use crate::ingest::Format;

/// One part of one input that a worker reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PartSpec {
    /// Position of the file among the inputs.
    pub(crate) file: usize,
    pub(crate) path: PathBuf,
    pub(crate) format: Format,
    /// Byte range; `None` for the whole file (decompressed if gzip).
    pub(crate) range: Option<(u64, u64)>,
    /// The CSV header line to read before the range (parts after the first).
    pub(crate) header: Option<Vec<u8>>,
}

/// Whether `path` names a gzip file (by suffix, as the batch reader decides).
fn is_gzip(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".gz"))
}

/// The parts worker `worker` of `workers` reads.
///
/// # Errors
///
/// An I/O error naming the file if an input cannot be opened or read.
pub(crate) fn assign(
    inputs: &[PathBuf],
    format: Option<Format>,
    worker: usize,
    workers: usize,
    max_record: usize,
) -> Result<Vec<PartSpec>> {
    let format_of = |p: &Path| format.or_else(|| Format::from_path(p)).unwrap_or_default();
    // One plain text file is cut into byte ranges at line starts; gzip and
    // Parquet (whose row groups are not lines) are read whole by one worker.
    if let [path] = inputs
        && !is_gzip(path)
        && matches!(format_of(path), Format::Csv | Format::Jsonl)
        && std::fs::metadata(path).is_ok_and(|m| m.is_file())
    {
        let format = format_of(path);
        let mut file = Error::open(path)?;
        let size = file.metadata().map_err(|e| read_error(path, e))?.len();
        let header_end = match format {
            Format::Csv => line_end(&mut file, path, 1, size)?,
            _ => 0,
        };
        let cut = |k: usize, file: &mut File| -> Result<u64> {
            if k == 0 {
                return Ok(0);
            }
            let nominal = (u128::from(size) * k as u128 / workers as u128) as u64;
            Ok(line_end(file, path, nominal, size)?.max(header_end))
        };
        let start = cut(worker, &mut file)?;
        let end = if worker + 1 == workers { size } else { cut(worker + 1, &mut file)? };
        if start >= end {
            return Ok(Vec::new());
        }
        let header = if worker > 0 && format == Format::Csv {
            // Bounded like a record: an over-long header fails the parse as it would in detect.
            let mut bytes = Vec::new();
            file.seek(SeekFrom::Start(0)).map_err(|e| read_error(path, e))?;
            (&mut file)
                .take(header_end.min(max_record as u64 + 2))
                .read_to_end(&mut bytes)
                .map_err(|e| read_error(path, e))?;
            Some(bytes)
        } else {
            None
        };
        return Ok(vec![PartSpec {
            file: 0,
            path: path.clone(),
            format,
            range: Some((start, end)),
            header,
        }]);
    }
    Ok(inputs
        .iter()
        .enumerate()
        .filter(|(i, _)| i % workers == worker)
        .map(|(i, path)| PartSpec {
            file: i,
            path: path.clone(),
            format: format_of(path),
            range: None,
            header: None,
        })
        .collect())
}

fn read_error(path: &Path, e: io::Error) -> Error {
    Error::io(format!("cannot read \"{}\"", path.display()), Some(path.to_owned()), e)
}

/// The first line start at or after `from`: `from` itself if it is 0, the
/// end, or follows a line feed; else the byte after the next line feed (or
/// the end).
fn line_end(file: &mut File, path: &Path, from: u64, size: u64) -> Result<u64> {
    if from == 0 || from >= size {
        return Ok(from.min(size));
    }
    file.seek(SeekFrom::Start(from - 1)).map_err(|e| read_error(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut skipped = Vec::new();
    let mut pos = from - 1;
    loop {
        skipped.clear();
        let n = (&mut reader)
            .take(1 << 16)
            .read_until(b'\n', &mut skipped)
            .map_err(|e| read_error(path, e))?;
        pos += n as u64;
        if n == 0 || skipped.last() == Some(&b'\n') {
            return Ok(pos.min(size));
        }
    }
}

/// Bytes and line feeds read through a [`Counting`] reader.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counts {
    pub(crate) bytes: Rc<Cell<u64>>,
    pub(crate) newlines: Rc<Cell<u64>>,
}

/// Counts the bytes and line feeds read through it.
struct Counting<R> {
    inner: R,
    counts: Counts,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let c = &self.counts;
        c.bytes.set(c.bytes.get() + n as u64);
        c.newlines.set(c.newlines.get() + buf[..n].iter().filter(|&&b| b == b'\n').count() as u64);
        Ok(n)
    }
}

/// Opens `part` for the batch reader: its header (if any), then its bytes,
/// counted (the header not).
///
/// # Errors
///
/// An I/O error naming the file.
pub(crate) fn open(part: &PartSpec, counts: &Counts) -> Result<Box<dyn Read>> {
    let mut file = Error::open(&part.path)?;
    let body: Box<dyn Read> = match part.range {
        Some((start, end)) => {
            file.seek(SeekFrom::Start(start)).map_err(|e| read_error(&part.path, e))?;
            Box::new(BufReader::with_capacity(1 << 16, file).take(end - start))
        }
        None if is_gzip(&part.path) => {
            Box::new(MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file)))
        }
        None => Box::new(file),
    };
    let counted = Counting { inner: body, counts: counts.clone() };
    Ok(match &part.header {
        Some(header) => Box::new(io::Cursor::new(header.clone()).chain(counted)),
        None => Box::new(counted),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn read_all(part: &PartSpec) -> String {
        let mut s = String::new();
        open(part, &Counts::default()).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn ranges_cover_the_file_once_at_line_starts() {
        let dir = tempfile::tempdir().unwrap();
        let body: String = (0..50).map(|i| format!("{i},acct{i},signup,,,\n")).collect();
        let text = format!("ts,account,event,kind,value,reason\n{body}");
        let path = write(dir.path(), "e.csv", &text);
        for workers in [1, 2, 3, 7, 200] {
            let mut joined = String::new();
            for w in 0..workers {
                let parts = assign(std::slice::from_ref(&path), None, w, workers, 1 << 20).unwrap();
                for part in parts {
                    let s = read_all(&part);
                    let rest = if w == 0 {
                        s.as_str()
                    } else {
                        s.strip_prefix("ts,account,event,kind,value,reason\n").unwrap()
                    };
                    assert!(rest.is_empty() || rest.ends_with('\n'));
                    joined.push_str(rest);
                }
            }
            assert_eq!(joined, text, "{workers} workers");
        }
    }

    #[test]
    fn several_files_go_whole_round_robin() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.jsonl", "{}\n");
        let b = write(dir.path(), "b.jsonl", "{}\n");
        let c = write(dir.path(), "c.jsonl", "{}\n");
        let inputs = [a, b, c];
        let files = |w| -> Vec<usize> {
            assign(&inputs, None, w, 2, 1024).unwrap().iter().map(|p| p.file).collect()
        };
        assert_eq!(files(0), [0, 2]);
        assert_eq!(files(1), [1]);
        assert!(assign(&inputs, None, 0, 2, 1024).unwrap().iter().all(|p| p.range.is_none()));
    }
}
