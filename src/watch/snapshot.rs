//! Snapshots of the watcher's state: a versioned, checksummed file written
//! atomically (temporary file, fsync, rename, fsync of the directory), so a
//! restart need not replay months of log.
//!
//! Layout: the 8-byte magic `HYDRASNP`, format version (`u32`), payload length
//! (`u64`), payload CRC-32 (`u32`), header CRC-32 (`u32`, over the preceding
//! 24 bytes), then the payload: the applied sequence number, every slot of
//! the incremental index, in the order [`encode`] writes them, and last the
//! clustering in force for hydra-membership flags (length-prefixed bytes,
//! empty when there is none; see `recluster::encode`), so that a restart
//! announces hydra members exactly as an uninterrupted run would.

use std::fs;
use std::io::Write;
use std::path::Path;

use super::codec::{Decoder, Encoder};
use super::state::{Account, Ban, BannedOn, Indicator, Link, State};
use crate::error::{Error, Result};

/// File name of the snapshot inside the state directory.
pub(crate) const SNAPSHOT_FILE: &str = "snapshot.bin";
const MAGIC: &[u8; 8] = b"HYDRASNP";
/// Bump on any change of the payload layout. Version 2 added the times of
/// the last events behind the clock; version 1 is still read (those times
/// are taken to be the clock's).
pub(crate) const SNAPSHOT_VERSION: u32 = 2;
const HEADER_LEN: usize = 28;

/// Serializes `state` (with `applied` and the clustering bytes `extra`) into
/// a complete snapshot file image.
pub(crate) fn encode(state: &State, applied: u64, extra: &[u8]) -> Vec<u8> {
    // The image is encoded in place behind room for its header, into a
    // buffer reserved for the whole of it: on a large state (158 MB on the
    // simulator's medium preset) growing it by doubling, then copying the
    // payload behind the header, copied it several times over on the event
    // path. The estimate errs high; reserved pages never written are never
    // touched.
    let estimate = HEADER_LEN
        + 64
        + extra.len()
        + state.accounts.len() * 96
        + state.indicators.len() * 64
        + state.live_links as usize * 36;
    let mut out = Vec::with_capacity(estimate);
    out.resize(HEADER_LEN, 0);
    let mut e = Encoder::new(&mut out);
    e.u64(applied);
    e.i64(state.now);
    e.u64(state.events);
    for &t in &state.recent {
        e.i64(t);
    }
    e.u64(state.sweep_cursor as u64);
    e.u64(state.live_links);
    e.strs(&state.custom_kinds);
    for free in [&state.free_accounts, &state.free_indicators] {
        e.u64(free.len() as u64);
        for &id in free {
            e.u32(id);
        }
    }
    e.u64(state.accounts.len() as u64);
    for a in &state.accounts {
        e.str(&a.name);
        e.i64(a.signup);
        e.i64(a.last_seen);
        e.i64(a.oldest_link);
        e.u8(a.bits);
        match &a.ban {
            None => e.u8(0),
            Some(b) => {
                e.u8(1);
                e.i64(b.ts);
                e.f32(b.weight);
            }
        }
        e.u64(a.links.len() as u64);
        for l in &a.links {
            e.u32(l.indicator);
            e.i64(l.first);
            e.i64(l.last);
        }
        e.u64(a.dependents.len() as u64);
        for &d in &a.dependents {
            e.u32(d);
        }
    }
    e.u64(state.indicators.len() as u64);
    for ind in &state.indicators {
        e.u16(ind.kind);
        e.str(&ind.value);
        e.u32(ind.accounts);
        e.u32(ind.suspects);
        e.u64(ind.banned.len() as u64);
        for b in &ind.banned {
            e.u32(b.account);
            e.i64(b.ts);
            e.f32(b.weight);
        }
    }
    e.u64(extra.len() as u64);
    out.extend_from_slice(extra);

    let payload_len = (out.len() - HEADER_LEN) as u64;
    let payload_crc = crc32fast::hash(&out[HEADER_LEN..]);
    out[..8].copy_from_slice(MAGIC);
    out[8..12].copy_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    out[12..20].copy_from_slice(&payload_len.to_le_bytes());
    out[20..24].copy_from_slice(&payload_crc.to_le_bytes());
    let header_crc = crc32fast::hash(&out[..24]);
    out[24..HEADER_LEN].copy_from_slice(&header_crc.to_le_bytes());
    out
}

/// A decoded snapshot.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) state: State,
    pub(crate) applied: u64,
    /// The clustering bytes written beside the state.
    pub(crate) extra: Vec<u8>,
}

/// Reads and verifies the snapshot at `path`.
///
/// # Errors
///
/// [`Error::state`] naming `path` for a bad magic, another version, a
/// checksum mismatch, truncation or an inconsistent payload.
pub(crate) fn load(path: &Path) -> Result<Loaded> {
    let bytes = fs::read(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), Some(path.into()), e))?;
    decode(&bytes).map_err(|m| Error::state(path, m))
}

pub(crate) fn decode(bytes: &[u8]) -> std::result::Result<Loaded, String> {
    if bytes.len() < HEADER_LEN {
        return Err(format!("truncated snapshot header ({} bytes)", bytes.len()));
    }
    if &bytes[..8] != MAGIC {
        return Err("not a watcher snapshot (bad magic)".into());
    }
    let mut h = Decoder::new(&bytes[8..HEADER_LEN]);
    let version = h.u32("version")?;
    let len = h.u64("payload length")?;
    let crc = h.u32("payload checksum")?;
    let header_crc = h.u32("header checksum")?;
    if crc32fast::hash(&bytes[..24]) != header_crc {
        return Err("snapshot header checksum mismatch".into());
    }
    if !(1..=SNAPSHOT_VERSION).contains(&version) {
        return Err(format!(
            "snapshot format version {version} is not supported (this build reads version {SNAPSHOT_VERSION})"
        ));
    }
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != len {
        return Err(format!("snapshot payload is {} bytes, header says {len}", payload.len()));
    }
    if crc32fast::hash(payload) != crc {
        return Err("snapshot payload checksum mismatch".into());
    }
    decode_payload(payload, version).map_err(|m| format!("inconsistent snapshot: {m}"))
}

fn decode_payload(payload: &[u8], version: u32) -> std::result::Result<Loaded, String> {
    let mut d = Decoder::new(payload);
    let applied = d.u64("applied")?;
    let mut state = State::new();
    state.now = d.i64("clock")?;
    state.events = d.u64("event count")?;
    for t in &mut state.recent {
        *t = if version >= 2 { d.i64("recent time")? } else { state.now };
    }
    state.sweep_cursor = d.u64("sweep cursor")? as usize;
    state.live_links = d.u64("link count")?;
    state.custom_kinds = d.strs("custom kinds")?.into_iter().map(Into::into).collect();
    for free in [&mut state.free_accounts, &mut state.free_indicators] {
        let n = d.len("free slots", 4)?;
        for _ in 0..n {
            free.push(d.u32("free slot")?);
        }
    }
    let n = d.len("accounts", 33)?;
    state.accounts.reserve(n);
    for _ in 0..n {
        let name = d.str("account name")?.into();
        let signup = d.i64("signup")?;
        let last_seen = d.i64("last seen")?;
        let oldest_link = d.i64("oldest link")?;
        let bits = d.u8("account bits")?;
        let ban = match d.u8("ban tag")? {
            0 => None,
            1 => Some(Ban { ts: d.i64("ban time")?, weight: d.f32("ban weight")? }),
            t => return Err(format!("unknown ban tag {t}")),
        };
        let k = d.len("links", 20)?;
        let mut links = Vec::with_capacity(k);
        for _ in 0..k {
            links.push(Link {
                indicator: d.u32("link indicator")?,
                first: d.i64("link first")?,
                last: d.i64("link last")?,
            });
        }
        let k = d.len("dependents", 4)?;
        let mut dependents = Vec::with_capacity(k);
        for _ in 0..k {
            dependents.push(d.u32("dependent")?);
        }
        state.accounts.push(Account {
            name,
            signup,
            last_seen,
            oldest_link,
            links,
            ban,
            bits,
            dependents,
        });
    }
    let n = d.len("indicators", 22)?;
    state.indicators.reserve(n);
    for _ in 0..n {
        let kind = d.u16("indicator kind")?;
        let value = d.str("indicator value")?.into();
        let accounts = d.u32("indicator accounts")?;
        let suspects = d.u32("indicator suspects")?;
        let k = d.len("banned entries", 16)?;
        let mut banned = Vec::with_capacity(k);
        for _ in 0..k {
            banned.push(BannedOn {
                account: d.u32("banned account")?,
                ts: d.i64("banned time")?,
                weight: d.f32("banned weight")?,
            });
        }
        state.indicators.push(Indicator {
            kind,
            value,
            accounts,
            banned,
            suspects,
            ..Indicator::default()
        });
    }
    // The clustering in force for hydra-membership flags (empty when none),
    // decoded by the caller.
    let k = d.len("clustering bytes", 1)?;
    let mut extra = Vec::with_capacity(k);
    for _ in 0..k {
        extra.push(d.u8("clustering byte")?);
    }
    if !d.is_empty() {
        return Err("trailing bytes after the payload".into());
    }
    check(&state)?;
    state.rebuild_maps();
    Ok(Loaded { state, applied, extra })
}

/// Cross-checks ids so that a snapshot that passed its checksum but was
/// written by a buggy build cannot make the watcher index out of bounds.
fn check(state: &State) -> std::result::Result<(), String> {
    let na = state.accounts.len() as u32;
    let ni = state.indicators.len() as u32;
    let kinds = super::state::BUILT_IN_KINDS as usize + state.custom_kinds.len();
    for a in &state.accounts {
        if a.links.iter().any(|l| l.indicator >= ni) || a.dependents.iter().any(|&d| d >= na) {
            return Err(format!("account {:?} refers to a missing slot", a.name));
        }
    }
    for ind in &state.indicators {
        if ind.kind as usize >= kinds || ind.banned.iter().any(|b| b.account >= na) {
            return Err(format!("indicator {:?} refers to a missing slot", ind.value));
        }
    }
    if state.free_accounts.iter().any(|&i| i >= na)
        || state.free_indicators.iter().any(|&i| i >= ni)
    {
        return Err("free list refers to a missing slot".into());
    }
    Ok(())
}

/// Writes `image` to `dir/name` atomically: temporary file in `dir`, fsync,
/// rename over the old file, fsync of the directory.
///
/// # Errors
///
/// [`Error::io`] naming the file.
pub(crate) fn write_atomic(dir: &Path, name: &str, image: &[u8]) -> Result<()> {
    let path = dir.join(name);
    let io = |what: &str, e: std::io::Error| {
        Error::io(format!("cannot {what} {}", path.display()), Some(path.clone()), e)
    };
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| io("create a temporary file for", e))?;
    tmp.write_all(image).map_err(|e| io("write", e))?;
    tmp.as_file().sync_all().map_err(|e| io("sync", e))?;
    tmp.persist(&path).map_err(|e| io("rename into", e.error))?;
    sync_dir(dir)
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let d = fs::File::open(dir).map_err(|e| {
        Error::io(format!("cannot open directory {}", dir.display()), Some(dir.into()), e)
    })?;
    d.sync_all().map_err(|e| {
        Error::io(format!("cannot sync directory {}", dir.display()), Some(dir.into()), e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> State {
        let mut s = State::new();
        let a = s.intern_account("a", 5);
        let b = s.intern_account("b", 6);
        let k = s.kind_code(&crate::event::IndicatorKind::Custom("ja4".into()));
        let i = s.intern_indicator(k, "x");
        s.link(a, i, 7);
        s.link(b, i, 8);
        super::super::bans::ban(&mut s, a, 9, 1.0);
        s.accounts[a as usize].dependents.push(b);
        s
    }

    #[test]
    fn snapshots_round_trip_exactly() {
        let s = sample();
        let image = encode(&s, 42, b"extra");
        let loaded = decode(&image).unwrap();
        assert_eq!(loaded.applied, 42);
        assert_eq!(loaded.state.accounts, s.accounts);
        assert_eq!(loaded.state.indicators, s.indicators);
        assert_eq!(loaded.state.account_id("b"), Some(1));
    }

    #[test]
    fn the_clock_round_trips_and_version_1_snapshots_still_load() {
        let mut s = sample();
        for t in [100, 90, 120] {
            s.advance_clock(t);
        }
        let image = encode(&s, 3, &[]);
        let loaded = decode(&image).unwrap().state;
        assert_eq!((loaded.now, loaded.recent), (s.now, s.recent));
        // Version 1: the same without the recent times (after applied, clock
        // and event count), taken to be the clock's.
        let recent = HEADER_LEN + 24..HEADER_LEN + 24 + 8 * super::super::state::CLOCK_QUORUM;
        let mut v1 = image.clone();
        v1.drain(recent);
        v1[8..12].copy_from_slice(&1u32.to_le_bytes());
        let payload_len = (v1.len() - HEADER_LEN) as u64;
        v1[12..20].copy_from_slice(&payload_len.to_le_bytes());
        let payload_crc = crc32fast::hash(&v1[HEADER_LEN..]);
        v1[20..24].copy_from_slice(&payload_crc.to_le_bytes());
        let header_crc = crc32fast::hash(&v1[..24]);
        v1[24..28].copy_from_slice(&header_crc.to_le_bytes());
        let old = decode(&v1).unwrap().state;
        assert_eq!(old.now, s.now);
        assert_eq!(old.recent, [s.now; super::super::state::CLOCK_QUORUM]);
        assert_eq!(old.accounts, s.accounts);
    }

    #[test]
    fn damage_is_detected() {
        let image = encode(&sample(), 1, &[]);
        let mut flipped = image.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 0x40;
        assert!(decode(&flipped).unwrap_err().contains("checksum"));
        assert!(decode(&image[..image.len() - 1]).unwrap_err().contains("bytes"));
        let mut version = image.clone();
        version[8] = 9;
        let header_crc = crc32fast::hash(&version[..24]);
        version[24..28].copy_from_slice(&header_crc.to_le_bytes());
        assert!(decode(&version).unwrap_err().contains("version 9"));
        assert!(decode(b"HYDRALOG and more bytes here....").unwrap_err().contains("magic"));
    }
}
