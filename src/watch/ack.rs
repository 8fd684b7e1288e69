//! The acknowledgement record of a state directory: what the watcher has
//! made durable and what it has printed, kept apart from the log so that a
//! damaged log can be told from a torn final write.
//!
//! Layout: two 32-byte slots, written in turn, each the 4-byte magic `HACK`,
//! format version (`u32`), `acked` (`u64`: the last event sequence number
//! made durable in the log), `printed` (`u64`: every flag of events up to it
//! has been written to the output), CRC-32 (`u32`, over the preceding 24
//! bytes) and 4 bytes of padding. The valid slot with the larger
//! `(acked, printed)` is the record; a write torn in one slot leaves the
//! other. `acked` is written and synced after the log's fsync and before
//! the flags of the batch are printed, so it never claims more than the log
//! holds, and whatever was acknowledged is at most `acked`.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// File name of the acknowledgement record inside the state directory.
pub(crate) const ACK_FILE: &str = "ack.bin";
const MAGIC: &[u8; 4] = b"HACK";
const VERSION: u32 = 1;
const SLOT: usize = 32;

/// What the watcher has acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ack {
    /// Last event sequence number durable in the log.
    pub(crate) acked: u64,
    /// Every flag of events up to this one was written to the output.
    pub(crate) printed: u64,
}

fn encode(ack: Ack) -> [u8; SLOT] {
    let mut out = [0; SLOT];
    out[..4].copy_from_slice(MAGIC);
    out[4..8].copy_from_slice(&VERSION.to_le_bytes());
    out[8..16].copy_from_slice(&ack.acked.to_le_bytes());
    out[16..24].copy_from_slice(&ack.printed.to_le_bytes());
    let crc = crc32fast::hash(&out[..24]);
    out[24..28].copy_from_slice(&crc.to_le_bytes());
    out
}

fn decode(slot: &[u8]) -> Option<Ack> {
    let word = |at: usize| u64::from_le_bytes(slot[at..at + 8].try_into().expect("8 bytes"));
    let valid = slot.len() == SLOT
        && &slot[..4] == MAGIC
        && slot[4..8] == VERSION.to_le_bytes()
        && crc32fast::hash(&slot[..24]).to_le_bytes() == slot[24..28];
    valid.then(|| Ack { acked: word(8), printed: word(16) })
}

/// Parses an acknowledgement file's bytes: the newer valid slot.
pub(crate) fn parse(bytes: &[u8]) -> std::result::Result<Ack, String> {
    let slots = bytes.chunks(SLOT).take(2).filter_map(decode);
    slots.max().ok_or_else(|| {
        format!("damaged acknowledgement record ({} bytes, no valid slot)", bytes.len())
    })
}

/// Reads the record at `path`: `None` if the file does not exist.
///
/// # Errors
///
/// [`Error::state`] naming the file if neither slot is valid.
pub(crate) fn read(path: &Path) -> Result<Option<Ack>> {
    match std::fs::read(path) {
        Ok(bytes) => parse(&bytes).map(Some).map_err(|m| Error::state(path, m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("cannot read {}", path.display()), Some(path.into()), e)),
    }
}

/// The open record, written slot after slot.
#[derive(Debug)]
pub(crate) struct AckFile {
    file: File,
    path: PathBuf,
    next_slot: u64,
    current: Ack,
}

impl AckFile {
    /// Opens (or creates) the record at `path` and stores `ack` durably.
    pub(crate) fn create(path: &Path, ack: Ack) -> Result<Self> {
        let file = open_private(path).map_err(|e| io_err("open", path, e))?;
        let mut this = Self { file, path: path.to_owned(), next_slot: 0, current: ack };
        // Both slots, so that no older record survives in either.
        this.store(ack, false)?;
        this.store(ack, true)?;
        Ok(this)
    }

    /// The last record stored.
    pub(crate) fn current(&self) -> Ack {
        self.current
    }

    /// Stores `ack` in the next slot; with `sync`, durably before returning.
    pub(crate) fn store(&mut self, ack: Ack, sync: bool) -> Result<()> {
        let at = (self.next_slot % 2) * SLOT as u64;
        self.file
            .seek(SeekFrom::Start(at))
            .and_then(|_| self.file.write_all(&encode(ack)))
            .map_err(|e| io_err("write", &self.path, e))?;
        if sync {
            self.file.sync_data().map_err(|e| io_err("sync", &self.path, e))?;
        }
        self.next_slot += 1;
        self.current = ack;
        Ok(())
    }
}

/// Opens `path` to read and write, creating it readable by its owner only
/// like every file of the state directory (the snapshot and the log are
/// written through temporary files, which are).
pub(crate) fn open_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io(format!("cannot {what} {}", path.display()), Some(path.into()), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newer_valid_slot_wins_and_a_torn_slot_leaves_the_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ACK_FILE);
        assert_eq!(read(&path).unwrap(), None);
        let mut f = AckFile::create(&path, Ack { acked: 3, printed: 1 }).unwrap();
        f.store(Ack { acked: 9, printed: 3 }, true).unwrap();
        assert_eq!(read(&path).unwrap(), Some(Ack { acked: 9, printed: 3 }));
        let mut bytes = std::fs::read(&path).unwrap();
        // The newer slot is the first one (third write): tear it.
        bytes[10] ^= 0xff;
        assert_eq!(parse(&bytes), Ok(Ack { acked: 3, printed: 1 }));
        bytes[40] ^= 0xff;
        assert!(parse(&bytes).unwrap_err().contains("damaged acknowledgement"));
        assert!(parse(&[]).is_err());
    }
}
