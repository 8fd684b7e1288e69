//! The append-only event log of a state directory.
//!
//! Layout: a 24-byte header (magic `HYDRALOG`, format version `u32`, base
//! `u64` = the sequence number the log continues from, header CRC-32 `u32`),
//! then framed records: payload length (`u32`), payload CRC-32 (`u32`),
//! payload. A payload is either an applied event (tag 1: seq, ts, action,
//! account, kind and value or reason) or a *printed* marker (tag 2: every flag
//! caused by events up to this seq has been written to the output).
//!
//! On reading, a damaged **final** record is a torn write from a crash (it was
//! never acknowledged) and is cut off; damage followed by more data is
//! corruption and an error naming the file.

use std::fs;
use std::path::Path;

use super::codec::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::event::{Action, Event, Indicator, IndicatorKind};

/// File name of the log inside the state directory.
pub(crate) const LOG_FILE: &str = "log.bin";
const MAGIC: &[u8; 8] = b"HYDRALOG";
/// Bump on any change of the record layout. Version 2 has the same records
/// as 1 and promises an acknowledgement record (`ack.bin`) beside the log;
/// version 1 logs are still read.
pub(crate) const LOG_VERSION: u32 = 2;
pub(crate) const HEADER_LEN: usize = 24;
const TAG_EVENT: u8 = 1;
const TAG_PRINTED: u8 = 2;
/// Larger frames cannot come from valid events (account, kind, value and
/// reason are bounded), so a bigger length is damage, not data.
const MAX_FRAME: u32 = 4096;

/// The log header for a log continuing after event `base`.
pub(crate) fn header(base: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&LOG_VERSION.to_le_bytes());
    out.extend_from_slice(&base.to_le_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Appends one framed record whose payload `body` writes.
fn frame(out: &mut Vec<u8>, body: impl FnOnce(&mut Encoder<'_>)) {
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    body(&mut Encoder::new(out));
    let len = (out.len() - start - 8) as u32;
    let crc = crc32fast::hash(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Appends the record of an applied event.
pub(crate) fn append_event(out: &mut Vec<u8>, seq: u64, event: &Event) {
    frame(out, |e| {
        e.u8(TAG_EVENT);
        e.u64(seq);
        e.i64(event.ts);
        e.str(&event.account);
        match &event.action {
            Action::Signup => e.u8(0),
            Action::Observe(ind) => {
                e.u8(1);
                e.str(ind.kind.as_str());
                e.str(&ind.value);
            }
            Action::Ban { reason: None } => e.u8(2),
            Action::Ban { reason: Some(r) } => {
                e.u8(3);
                e.str(r);
            }
            Action::Unban => e.u8(4),
        }
    });
}

/// Payload bytes before an event's content: the tag and the seq.
const EVENT_PREFIX: usize = 1 + 8;

/// A checksum of the content (not the seq) of the framed event record
/// `frame`, as [`append_event`] wrote it: resent events are compared by it.
pub(crate) fn frame_fingerprint(frame: &[u8]) -> u32 {
    crc32fast::hash(&frame[8 + EVENT_PREFIX..])
}

/// The [`frame_fingerprint`] of `event`, encoded in `scratch`.
pub(crate) fn fingerprint(scratch: &mut Vec<u8>, event: &Event) -> u32 {
    scratch.clear();
    append_event(scratch, 0, event);
    frame_fingerprint(scratch)
}

/// Appends a marker: flags of events up to `seq` have been delivered.
pub(crate) fn append_printed(out: &mut Vec<u8>, seq: u64) {
    frame(out, |e| {
        e.u8(TAG_PRINTED);
        e.u64(seq);
    });
}

/// One decoded record.
#[derive(Debug, PartialEq)]
pub(crate) enum Record {
    Event { seq: u64, event: Event },
    Printed { seq: u64 },
}

fn decode_record(payload: &[u8]) -> std::result::Result<Record, String> {
    let mut d = Decoder::new(payload);
    let record = match d.u8("record tag")? {
        TAG_EVENT => {
            let seq = d.u64("seq")?;
            let ts = d.i64("ts")?;
            let account = d.str("account")?.to_owned();
            let action = match d.u8("action")? {
                0 => Action::Signup,
                1 => {
                    let kind = IndicatorKind::parse(d.str("kind")?).map_err(|e| e.to_string())?;
                    Action::Observe(Indicator::new(kind, d.str("value")?))
                }
                2 => Action::Ban { reason: None },
                3 => Action::Ban { reason: Some(d.str("reason")?.to_owned()) },
                4 => Action::Unban,
                a => return Err(format!("unknown action tag {a}")),
            };
            Record::Event { seq, event: Event { ts, account, action } }
        }
        TAG_PRINTED => Record::Printed { seq: d.u64("seq")? },
        t => return Err(format!("unknown record tag {t}")),
    };
    if !d.is_empty() {
        return Err("trailing bytes in record".into());
    }
    Ok(record)
}

/// A log read back from disk.
#[derive(Debug)]
pub(crate) struct ReadLog {
    /// Format version of the file (1 or [`LOG_VERSION`]).
    pub(crate) version: u32,
    pub(crate) base: u64,
    pub(crate) records: Vec<Record>,
    /// Length of the valid prefix; anything after it is a torn write.
    pub(crate) valid_len: u64,
    pub(crate) file_len: u64,
}

/// Reads and verifies the log at `path`.
///
/// # Errors
///
/// [`Error::state`] naming `path` for a bad header, another version, or a
/// damaged record followed by more data.
pub(crate) fn read(path: &Path) -> Result<ReadLog> {
    let bytes = fs::read(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), Some(path.into()), e))?;
    parse(&bytes).map_err(|m| Error::state(path, m))
}

pub(crate) fn parse(bytes: &[u8]) -> std::result::Result<ReadLog, String> {
    if bytes.len() < HEADER_LEN {
        // Created but the header never reached the disk: only possible for a
        // log that holds nothing yet, which the rotation protocol never
        // renames into place; refuse rather than guess the base.
        return Err(format!("truncated log header ({} bytes)", bytes.len()));
    }
    if &bytes[..8] != MAGIC {
        return Err("not a watcher log (bad magic)".into());
    }
    let mut h = Decoder::new(&bytes[8..HEADER_LEN]);
    let version = h.u32("version")?;
    let base = h.u64("base")?;
    let crc = h.u32("header checksum")?;
    if crc32fast::hash(&bytes[..20]) != crc {
        return Err("log header checksum mismatch".into());
    }
    if !(1..=LOG_VERSION).contains(&version) {
        return Err(format!(
            "log format version {version} is not supported (this build reads version {LOG_VERSION})"
        ));
    }
    let mut records = Vec::new();
    let mut pos = HEADER_LEN;
    let mut last_seq = base;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        // Damage at the very end is a torn write (a prefix of the frame, or
        // zeros where the filesystem extended the file but the data never
        // landed): cut it off. Damage followed by data is corruption.
        if rest.len() < 8 || rest.iter().all(|&b| b == 0) {
            break;
        }
        let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes"));
        let crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
        if len == 0 || len > MAX_FRAME {
            return Err(format!("damaged record at byte {pos} (bad length {len})"));
        }
        let end = 8 + len as usize;
        if end > rest.len() {
            break;
        }
        let payload = &rest[8..end];
        if crc32fast::hash(payload) != crc {
            if rest[end..].iter().all(|&b| b == 0) {
                break;
            }
            return Err(format!(
                "damaged record at byte {pos} (checksum mismatch) followed by more data"
            ));
        }
        let record = match decode_record(payload) {
            Ok(r) => r,
            Err(m) => return Err(format!("record at byte {pos}: {m}")),
        };
        if let Record::Event { seq, .. } = record {
            if seq <= last_seq {
                return Err(format!(
                    "record at byte {pos}: event {seq} does not follow event {last_seq}"
                ));
            }
            last_seq = seq;
        }
        records.push(record);
        pos += end;
    }
    Ok(ReadLog { version, base, records, valid_len: pos as u64, file_len: bytes.len() as u64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut log = header(10);
        append_event(&mut log, 11, &Event::signup(5, "a"));
        append_event(&mut log, 12, &Event::observe(6, "a", IndicatorKind::Payment, "card"));
        append_printed(&mut log, 12);
        append_event(&mut log, 14, &Event::ban(7, "a", Some("hydra".into())));
        log
    }

    #[test]
    fn records_round_trip() {
        let log = sample();
        let read = parse(&log).unwrap();
        assert_eq!(read.base, 10);
        assert_eq!(read.records.len(), 4);
        assert_eq!(read.records[2], Record::Printed { seq: 12 });
        assert_eq!(read.valid_len, log.len() as u64);
    }

    #[test]
    fn a_torn_tail_is_cut_and_middle_damage_is_an_error() {
        let log = sample();
        for cut in HEADER_LEN + 1..log.len() {
            let read = parse(&log[..cut]).unwrap();
            assert!(read.valid_len <= cut as u64);
            assert!(read.records.len() < 4);
        }
        let mut zeros = log.clone();
        zeros.extend_from_slice(&[0; 100]);
        assert_eq!(parse(&zeros).unwrap().records.len(), 4);
        let mut bad = log.clone();
        bad[HEADER_LEN + 10] ^= 1;
        let err = parse(&bad).unwrap_err();
        assert!(err.contains("followed by more data"), "{err}");
        let mut version = log.clone();
        version[8] = 3;
        let crc = crc32fast::hash(&version[..20]);
        version[20..24].copy_from_slice(&crc.to_le_bytes());
        assert!(parse(&version).unwrap_err().contains("version 3"));
        // Version 1 (the same records, no acknowledgement record) still reads.
        version[8] = 1;
        let crc = crc32fast::hash(&version[..20]);
        version[20..24].copy_from_slice(&crc.to_le_bytes());
        let read = parse(&version).unwrap();
        assert_eq!((read.version, read.records.len()), (1, 4));
    }
}
