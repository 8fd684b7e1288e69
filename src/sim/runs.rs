//! Sorted runs of records and their k-way merge: an external sort that keeps
//! at most a configured number of events in memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::sim::record::{REC_BYTES, Rec};

/// Collects records; sorts and spills them to a temporary file whenever
/// `limit` are held, keeping the last run in memory.
#[derive(Debug)]
pub(crate) struct RunBuffer {
    mem: Vec<Rec>,
    limit: usize,
    dir: Option<tempfile::TempDir>,
    files: Vec<PathBuf>,
}

impl RunBuffer {
    pub(crate) fn new(limit: usize) -> Self {
        Self { mem: Vec::new(), limit, dir: None, files: Vec::new() }
    }

    pub(crate) fn push(&mut self, rec: Rec) -> Result<()> {
        self.mem.push(rec);
        if self.mem.len() >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        if self.dir.is_none() {
            let dir = tempfile::Builder::new().prefix("hydra-sim-").tempdir().map_err(|e| {
                Error::io("cannot create a temporary directory for sorted runs", None, e)
            })?;
            self.dir = Some(dir);
        }
        let Some(dir) = &self.dir else { return Ok(()) };
        self.mem.sort_unstable();
        let path = dir.path().join(format!("run-{:05}.bin", self.files.len()));
        let io = |e| {
            Error::io(format!("cannot write sorted run {}", path.display()), Some(path.clone()), e)
        };
        let file = File::create(&path).map_err(io)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let mut buf = [0u8; REC_BYTES];
        for r in &self.mem {
            r.encode(&mut buf);
            w.write_all(&buf).map_err(io)?;
        }
        w.flush().map_err(io)?;
        self.files.push(path);
        self.mem.clear();
        Ok(())
    }

    /// Sorts what is left in memory; the runs are then ready to merge.
    pub(crate) fn finish(mut self) -> Runs {
        self.mem.sort_unstable();
        self.mem.shrink_to_fit();
        Runs { mem: Arc::new(self.mem), files: self.files, _dir: self.dir.map(Arc::new) }
    }
}

/// Finished sorted runs: one in memory, any number on disk.
#[derive(Clone, Debug)]
pub(crate) struct Runs {
    mem: Arc<Vec<Rec>>,
    files: Vec<PathBuf>,
    /// Keeps the spill directory alive as long as any copy of the runs.
    _dir: Option<Arc<tempfile::TempDir>>,
}

impl Runs {
    pub(crate) fn spilled(&self) -> usize {
        self.files.len()
    }

    /// A merging iterator over every record in order.
    pub(crate) fn merge(&self) -> Result<Merge> {
        let mut sources = Vec::with_capacity(self.files.len() + 1);
        for path in &self.files {
            let file = File::open(path).map_err(|e| {
                Error::io(
                    format!("cannot read sorted run {}", path.display()),
                    Some(path.clone()),
                    e,
                )
            })?;
            sources.push(Source::File(BufReader::with_capacity(1 << 16, file), path.clone()));
        }
        sources.push(Source::Mem(Arc::clone(&self.mem), 0));
        let mut merge = Merge { heap: BinaryHeap::with_capacity(sources.len()), sources };
        for i in 0..merge.sources.len() {
            if let Some(r) = merge.sources[i].next()? {
                merge.heap.push(Reverse((r, i)));
            }
        }
        Ok(merge)
    }
}

#[derive(Debug)]
enum Source {
    File(BufReader<File>, PathBuf),
    Mem(Arc<Vec<Rec>>, usize),
}

impl Source {
    fn next(&mut self) -> Result<Option<Rec>> {
        match self {
            Source::Mem(v, i) => {
                let r = v.get(*i).copied();
                *i += 1;
                Ok(r)
            }
            Source::File(r, path) => {
                let mut buf = [0u8; REC_BYTES];
                match r.read_exact(&mut buf) {
                    Ok(()) => Ok(Some(Rec::decode(&buf))),
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(e) => Err(Error::io(
                        format!("cannot read sorted run {}", path.display()),
                        Some(path.clone()),
                        e,
                    )),
                }
            }
        }
    }
}

/// k-way merge of sorted runs by a binary heap.
#[derive(Debug)]
pub(crate) struct Merge {
    heap: BinaryHeap<Reverse<(Rec, usize)>>,
    sources: Vec<Source>,
}

impl Iterator for Merge {
    type Item = Result<Rec>;

    fn next(&mut self) -> Option<Result<Rec>> {
        let Reverse((rec, i)) = self.heap.pop()?;
        match self.sources[i].next() {
            Ok(Some(r)) => self.heap.push(Reverse((r, i))),
            Ok(None) => {}
            Err(e) => {
                self.heap.clear();
                return Some(Err(e));
            }
        }
        Some(Ok(rec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spilled_runs_merge_in_order() {
        let mut buf = RunBuffer::new(7);
        let mut expect = Vec::new();
        for i in 0..100u64 {
            let r = Rec {
                ts: ((i * 37) % 23) as i64,
                account: i % 5,
                seq: i as u32,
                op: 0,
                a: i,
                b: 0,
            };
            expect.push(r);
            buf.push(r).unwrap();
        }
        expect.sort();
        let runs = buf.finish();
        assert!(runs.spilled() > 10);
        let got: Vec<Rec> = runs.merge().unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(got, expect);
        // A second pass reads the same records.
        assert_eq!(runs.merge().unwrap().count(), 100);
    }
}
