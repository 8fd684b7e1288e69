//! The CSV and JSON Lines event readers, strict and lenient, on arbitrary
//! bytes: they must end (every item consumes input) and never panic.
#![no_main]

use hydra_detect::{EventReader, Format, IngestConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [Format::Csv, Format::Jsonl] {
        for lenient in [false, true] {
            let config = IngestConfig::new().lenient(lenient).max_record_len(256);
            let Ok(reader) = EventReader::new(data, format, &config) else { continue };
            assert!(reader.take(data.len() + 2).count() <= data.len() + 1);
        }
    }
});
