//! The watcher's state recovery on an arbitrary log: a valid header (so the
//! records are reached) followed by the input as records. Opening recovers
//! or refuses with an error, never panics.
#![no_main]

use hydra_detect::{DurabilityConfig, DurableWatcher, WatchConfig};
use libfuzzer_sys::fuzz_target;

/// A version-1 log header (no acknowledgement record needed) with base 0.
fn header() -> Vec<u8> {
    let mut out = b"HYDRALOG".to_vec();
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut log = header();
    log.extend_from_slice(data);
    std::fs::write(dir.path().join("log.bin"), &log).expect("write the log");
    let sink = Box::new(std::io::sink());
    let durability = DurabilityConfig::new();
    if let Ok(w) = DurableWatcher::open(dir.path(), WatchConfig::new(), durability, sink) {
        w.close().expect("close");
    }
});
