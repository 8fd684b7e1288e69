//! Ingest throughput: events per second parsed from CSV and JSON Lines held
//! in memory (and gzip-compressed CSV), strict mode, all rows valid.
//!
//! Inputs come from a small deterministic generator below (fixed seed, no
//! files): a mix of signups, observations of several kinds (IPv4 and IPv6
//! addresses, payment hashes, user agents with commas and quotes, RFC 3339
//! and unix-second timestamps) and bans, like a platform's event log.

use std::hint::black_box;
use std::io::Write;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hydra_detect::{EventReader, Format, IngestConfig};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

/// How the generated stream looks.
struct Shape {
    events: usize,
    accounts: u32,
    seed: u64,
}

/// One generated row: `ts, account, event, kind, value, reason`.
type Row = (String, String, &'static str, &'static str, String, &'static str);

fn rows(shape: &Shape) -> Vec<Row> {
    let mut rng = Pcg64::seed_from_u64(shape.seed);
    let mut ts: i64 = 1_767_225_600;
    (0..shape.events)
        .map(|_| {
            ts += rng.random_range(0..5);
            let account = format!("acct-{:06}", rng.random_range(0..shape.accounts));
            // Every tenth timestamp in RFC 3339, to exercise both parsers.
            let ts_text = if rng.random_range(0..10) == 0 { rfc3339(ts) } else { ts.to_string() };
            let roll = rng.random_range(0..100);
            let (event, kind, value, reason) = match roll {
                0..5 => ("signup", "", String::new(), ""),
                5..35 => {
                    let ip = format!(
                        "{}.{}.{}.{}",
                        rng.random_range(1..224),
                        rng.random_range(0..256),
                        rng.random_range(0..256),
                        rng.random_range(1..255)
                    );
                    ("observe", "ip", ip, "")
                }
                35..40 => {
                    let ip =
                        format!("2001:db8:{:x}::{:x}", rng.random::<u16>(), rng.random::<u16>());
                    ("observe", "ip", ip, "")
                }
                40..60 => ("observe", "payment", format!("card-{:016x}", rng.random::<u64>()), ""),
                60..80 => {
                    ("observe", "device", format!("dev-{:012x}", rng.random::<u64>() >> 16), "")
                }
                80..95 => {
                    let ua = format!(
                        "Mozilla/5.0 (X11; Linux x86_64), \"Chrome/{}.0\"",
                        rng.random_range(100..140)
                    );
                    ("observe", "user_agent", ua, "")
                }
                _ => ("ban", "", String::new(), "spam"),
            };
            (ts_text, account, event, kind, value, reason)
        })
        .collect()
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a 2026 timestamp (the generator stays in January 2026).
fn rfc3339(ts: i64) -> String {
    let secs = ts - 1_767_225_600;
    let (day, rem) = (secs / 86_400, secs % 86_400);
    format!("2026-01-{:02}T{:02}:{:02}:{:02}Z", day + 1, rem / 3600, rem / 60 % 60, rem % 60)
}

fn to_csv(rows: &[Row]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["ts", "account", "event", "kind", "value", "reason"]).unwrap();
    for (ts, account, event, kind, value, reason) in rows {
        w.write_record([ts.as_str(), account, event, kind, value, reason]).unwrap();
    }
    w.into_inner().unwrap()
}

fn to_jsonl(rows: &[Row]) -> Vec<u8> {
    let mut out = Vec::new();
    for (ts, account, event, kind, value, reason) in rows {
        let mut obj = serde_json::Map::new();
        let ts_value = match ts.parse::<i64>() {
            Ok(n) => n.into(),
            Err(_) => ts.as_str().into(),
        };
        obj.insert("ts".into(), ts_value);
        obj.insert("account".into(), account.as_str().into());
        obj.insert("event".into(), (*event).into());
        if !kind.is_empty() {
            obj.insert("kind".into(), (*kind).into());
            obj.insert("value".into(), value.as_str().into());
        }
        if !reason.is_empty() {
            obj.insert("reason".into(), (*reason).into());
        }
        serde_json::to_writer(&mut out, &obj).unwrap();
        out.push(b'\n');
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Reads every record, checking none failed; returns the count.
fn count(reader: impl Iterator<Item = hydra_detect::Result<hydra_detect::Record>>) -> usize {
    let mut n = 0;
    for record in reader {
        black_box(record.expect("generated rows are valid"));
        n += 1;
    }
    n
}

fn ingest(c: &mut Criterion) {
    let config = IngestConfig::new();
    for events in [10_000, 100_000] {
        let shape = Shape { events, accounts: (events / 20) as u32, seed: 42 };
        let rows = rows(&shape);
        let csv = to_csv(&rows);
        let jsonl = to_jsonl(&rows);
        let csv_gz = gzip(&csv);

        let mut group = c.benchmark_group("ingest");
        group.throughput(Throughput::Elements(events as u64));
        group.bench_with_input(BenchmarkId::new("csv", events), &csv, |b, data| {
            b.iter(|| {
                let reader = EventReader::new(&data[..], Format::Csv, &config).unwrap();
                assert_eq!(count(reader), events);
            })
        });
        group.bench_with_input(BenchmarkId::new("jsonl", events), &jsonl, |b, data| {
            b.iter(|| {
                let reader = EventReader::new(&data[..], Format::Jsonl, &config).unwrap();
                assert_eq!(count(reader), events);
            })
        });
        group.bench_with_input(BenchmarkId::new("csv_gzip", events), &csv_gz, |b, data| {
            b.iter(|| {
                let gz = flate2::read::MultiGzDecoder::new(&data[..]);
                let reader = EventReader::new(gz, Format::Csv, &config).unwrap();
                assert_eq!(count(reader), events);
            })
        });
        group.finish();
    }
}

criterion_group!(benches, ingest);
criterion_main!(benches);
