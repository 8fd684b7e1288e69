//! Fault injection on the watcher's state directory: the log cut at every
//! record boundary and inside every record, bytes flipped in every record,
//! in the acknowledgement record and in the snapshot, tails zeroed, each
//! file deleted, and a torn unacknowledged write at every length. Each case
//! must either recover exactly — nothing acknowledged lost, nothing
//! announced twice: the flags printed before the damage plus those printed
//! after reopening and resending the whole stream equal an uninterrupted
//! run's — or be refused with a state error naming the file.

use std::path::Path;

use hydra_detect::{DurabilityConfig, DurableWatcher, ErrorKind, Event, WatchConfig, Watcher};

use crate::watch::{SharedBuf, hydra_pool_with_ban_wave};

const FILES: [&str; 4] = ["snapshot.bin", "log.bin", "ack.bin", "lock"];

/// Small batches and a snapshot halfway, so the log after the snapshot holds
/// several group commits, printed markers and flags.
fn durability() -> DurabilityConfig {
    DurabilityConfig::new().commit_events(4).snapshot_every(50)
}

/// Applies `events` (sequence numbers from 1) into the state `dir` and
/// closes it cleanly; returns what was printed.
fn run_into(dir: &Path, events: &[Event]) -> Vec<String> {
    let sink = SharedBuf::default();
    let mut w = DurableWatcher::open(dir, WatchConfig::new(), durability(), Box::new(sink.clone()))
        .unwrap();
    for (i, e) in events.iter().enumerate() {
        w.apply(i as u64 + 1, e).unwrap();
    }
    w.close().unwrap();
    sink.lines()
}

/// The flags of an uninterrupted in-memory run, as JSON lines.
fn reference(events: &[Event]) -> Vec<String> {
    let mut w = Watcher::new(WatchConfig::new()).unwrap();
    let mut lines = Vec::new();
    for (i, e) in events.iter().enumerate() {
        for f in w.apply(i as u64 + 1, e).unwrap() {
            let mut line = Vec::new();
            f.write_json_line(&mut line);
            lines.push(String::from_utf8(line).unwrap().trim_end().to_owned());
        }
    }
    lines
}

/// `(start, len, tag)` of each framed record of a log (24-byte header, then
/// length `u32`, CRC `u32`, payload whose first byte is the tag).
fn frames(log: &[u8]) -> Vec<(usize, usize, u8)> {
    let mut out = Vec::new();
    let mut pos = 24;
    while pos + 8 <= log.len() {
        let len = u32::from_le_bytes(log[pos..pos + 4].try_into().unwrap()) as usize;
        if pos + 8 + len > log.len() {
            break;
        }
        out.push((pos, 8 + len, log[pos + 8]));
        pos += 8 + len;
    }
    out
}

fn copy_state(from: &Path, to: &Path) {
    for name in FILES {
        if let Ok(bytes) = std::fs::read(from.join(name)) {
            std::fs::write(to.join(name), bytes).unwrap();
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    recovered: usize,
    refused: usize,
}

/// What a damaged state must still honour.
struct Expect<'a> {
    /// The whole stream, resent from event 1 after reopening.
    events: &'a [Event],
    /// An uninterrupted run's flags.
    flags: &'a [String],
    /// Flags printed before the damage.
    printed: &'a [String],
    /// Events acknowledged before the damage.
    acked: u64,
}

/// Opens the damaged state `dir`, resends the whole stream, and checks
/// that the case is recovered exactly or refused.
fn check(case: &str, dir: &Path, expect: &Expect<'_>, tally: &mut Tally) {
    let sink = SharedBuf::default();
    let config = DurabilityConfig::new();
    let opened = DurableWatcher::open(dir, WatchConfig::new(), config, Box::new(sink.clone()));
    let mut w = match opened {
        Err(e) => {
            match e.kind() {
                ErrorKind::State { path, message } => {
                    assert!(path.starts_with(dir) && !message.is_empty(), "{case}: {e}");
                }
                other => panic!("{case}: refused without a state error: {other:?}"),
            }
            tally.refused += 1;
            return;
        }
        Ok(w) => w,
    };
    let acked = expect.acked;
    assert!(w.applied() >= acked, "{case}: applied {} < acknowledged {acked}", w.applied());
    for (i, e) in expect.events.iter().enumerate() {
        w.apply(i as u64 + 1, e).unwrap_or_else(|e| panic!("{case}: resend: {e}"));
    }
    w.close().unwrap();
    let mut all = expect.printed.to_vec();
    all.extend(sink.lines());
    assert_eq!(all, expect.flags, "{case}: flags lost or announced twice");
    tally.recovered += 1;
}

fn edit(path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    f(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

// See: #15 (standing defence: fault injection on the watcher's state).
#[test]
fn every_damage_to_the_state_is_recovered_exactly_or_refused() {
    let events = hydra_pool_with_ban_wave();
    let n = events.len() as u64;
    let expected = reference(&events);
    assert!(!expected.is_empty());
    let pristine = tempfile::tempdir().unwrap();
    let printed = run_into(pristine.path(), &events);
    assert_eq!(printed, expected);
    let log = std::fs::read(pristine.path().join("log.bin")).unwrap();
    let records = frames(&log);
    assert!(records.len() >= 30 && records.iter().any(|r| r.2 == 2), "{records:?}");
    let expect = Expect { events: &events, flags: &expected, printed: &printed, acked: n };
    let mut tally = Tally::default();
    // Damages a copy of the pristine state and checks the result.
    let mut run = |case: String, damage: &dyn Fn(&Path)| {
        let dir = tempfile::tempdir().unwrap();
        copy_state(pristine.path(), dir.path());
        damage(dir.path());
        check(&case, dir.path(), &expect, &mut tally);
    };

    // The log cut at every record boundary and inside every record.
    let mut cuts = vec![0, 10, 24];
    for &(start, len, _) in &records {
        cuts.extend([start + 1, start + 4, start + 8, start + len / 2, start + len]);
    }
    cuts.pop(); // The whole log: no damage.
    for cut in cuts {
        run(format!("log cut at {cut}"), &|d| edit(&d.join("log.bin"), |b| b.truncate(cut)));
    }
    // A byte flipped in the length, the checksum and the payload of each record.
    for &(start, len, _) in &records {
        for at in [start, start + 5, start + 8 + (len - 8) / 2] {
            run(format!("log byte {at} flipped"), &|d| {
                edit(&d.join("log.bin"), |b| b[at] ^= 0x5a);
            });
        }
    }
    // Zeroed tails, and the header damaged.
    for zeros in [8, 17, 40, 100] {
        run(format!("log tail of {zeros} zeroed"), &|d| {
            edit(&d.join("log.bin"), |b| {
                let len = b.len();
                b[len - zeros..].fill(0);
            });
        });
    }
    run("log header flipped".into(), &|d| edit(&d.join("log.bin"), |b| b[12] ^= 1));
    // The acknowledgement record: every byte flipped, cut, emptied.
    for at in 0..64 {
        run(format!("ack byte {at} flipped"), &|d| edit(&d.join("ack.bin"), |b| b[at] ^= 0x21));
    }
    for cut in [0, 31, 32, 40] {
        run(format!("ack cut at {cut}"), &|d| edit(&d.join("ack.bin"), |b| b.truncate(cut)));
    }
    // The snapshot damaged.
    let snapshot_len = std::fs::metadata(pristine.path().join("snapshot.bin")).unwrap().len();
    for at in [0, 9, 30, snapshot_len as usize / 2, snapshot_len as usize - 1] {
        run(format!("snapshot byte {at} flipped"), &|d| {
            edit(&d.join("snapshot.bin"), |b| b[at] ^= 0x10);
        });
    }
    run("snapshot cut".into(), &|d| edit(&d.join("snapshot.bin"), |b| b.truncate(b.len() / 2)));
    // Each file deleted.
    for name in FILES {
        run(format!("{name} deleted"), &|d| std::fs::remove_file(d.join(name)).unwrap());
    }
    // Nothing lost anywhere, and both outcomes occur.
    assert!(tally.recovered >= 10 && tally.refused >= 100, "{tally:?}");
}

// See: #15: a torn final write (a crash while the batch after the last
// acknowledged one was being written) is recovered at every length.
#[test]
fn a_torn_unacknowledged_write_is_recovered_at_every_length() {
    let events = hydra_pool_with_ban_wave();
    let k = events.len() - 20;
    let expected = reference(&events);
    // The state after the first k events, and the bytes the rest appends.
    let before = tempfile::tempdir().unwrap();
    let printed = run_into(before.path(), &events[..k]);
    let after = tempfile::tempdir().unwrap();
    copy_state(before.path(), after.path());
    let log_before = std::fs::read(before.path().join("log.bin")).unwrap();
    {
        let sink = Box::new(std::io::sink());
        let mut w =
            DurableWatcher::open(after.path(), WatchConfig::new(), durability(), sink).unwrap();
        for (i, e) in events.iter().enumerate().skip(k) {
            w.apply(i as u64 + 1, e).unwrap();
        }
        w.close().unwrap();
    }
    let log_after = std::fs::read(after.path().join("log.bin")).unwrap();
    assert_eq!(log_after[..log_before.len()], log_before[..], "the log was rotated");
    // A crash can tear the event records of one batch, never a printed
    // marker (written after the batch is acknowledged).
    let appended = &log_after[log_before.len()..];
    let batch_end = frames(&[&[0; 24][..], appended].concat())
        .iter()
        .find(|f| f.2 == 2)
        .map_or(appended.len(), |f| f.0 - 24);
    let expect = Expect { events: &events, flags: &expected, printed: &printed, acked: k as u64 };
    let mut tally = Tally::default();
    for cut in 1..=batch_end {
        let dir = tempfile::tempdir().unwrap();
        copy_state(before.path(), dir.path());
        edit(&dir.path().join("log.bin"), |b| b.extend_from_slice(&appended[..cut]));
        check(&format!("torn write of {cut} bytes"), dir.path(), &expect, &mut tally);
    }
    assert_eq!(tally.refused, 0, "{tally:?}");
}
