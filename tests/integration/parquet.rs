//! Parquet input (feature `parquet`): the simulator's `small` events as
//! CSV and as Parquet (several row groups, dictionary strings, timestamp and
//! integer times) give byte-identical `accounts.csv`; bad Parquet gives clear
//! errors. Without the feature, a Parquet input names the feature to build
//! with. In every build: gzip on standard input is decompressed.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `hydra args` in `dir`, with `stdin` piped in.
fn hydra(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hydra"));
    cmd.current_dir(dir).args(args);
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run hydra");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        // A thread, so a large input cannot deadlock against the output pipes.
        std::thread::spawn(move || pipe.write_all(&bytes));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `hydra detect` on `input` into `dir/out` and returns accounts.csv.
fn detect(dir: &Path, out: &str, args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    let mut all = vec!["detect", "--out", out];
    all.extend_from_slice(args);
    let result = hydra(dir, &all, stdin);
    assert!(result.status.success(), "hydra {all:?} failed: {}", stderr(&result));
    std::fs::read(dir.join(out).join("accounts.csv")).unwrap()
}

const SCENARIO: &str = "ts,account,event,kind,value,reason\n\
    1767225600,a-1,signup,,,\n\
    1767225610,a-1,observe,payment,card-1,\n\
    1767225620,a-2,observe,payment,card-1,\n\
    1767225630,a-3,observe,payment,card-1,\n\
    1767225640,a-3,observe,ip,203.0.113.9,\n\
    1767229200,a-1,ban,,,hydra\n";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn gzip_on_standard_input_is_decompressed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.csv"), SCENARIO).unwrap();
    let plain = detect(dir.path(), "plain", &["--input", "events.csv"], None);
    let packed = gzip(SCENARIO.as_bytes());
    let piped = detect(dir.path(), "piped", &["--input", "-"], Some(&packed));
    assert_eq!(plain, piped);
    // Two concatenated members are one stream; `hydra graph` reads it too.
    let (head, tail) = SCENARIO.split_at(SCENARIO.find("1767225620").unwrap());
    let members = [gzip(head.as_bytes()), gzip(tail.as_bytes())].concat();
    let piped = detect(dir.path(), "members", &["--input", "-"], Some(&members));
    assert_eq!(plain, piped);
    let graph = hydra(dir.path(), &["graph", "--input", "-", "--out", "g"], Some(&members));
    assert!(graph.status.success(), "{}", stderr(&graph));
    let file = hydra(dir.path(), &["graph", "--input", "events.csv", "--out", "h"], None);
    // The summary, without the timings and the file written.
    let summary = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .filter(|l| !l.starts_with("time") && !l.starts_with("wrote"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(summary(&graph.stdout), summary(&file.stdout));
    // Corrupt gzip is an I/O error (exit 4), not a panic.
    let mut broken = packed.clone();
    broken.truncate(packed.len() / 2);
    let result = hydra(dir.path(), &["detect", "--input", "-", "--out", "x"], Some(&broken));
    assert_eq!(result.status.code(), Some(4), "{}", stderr(&result));
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_input_without_the_feature_names_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    // Not real Parquet: the file is refused before it is read.
    std::fs::write(dir.path().join("events.parquet"), b"PAR1 not really").unwrap();
    std::fs::write(dir.path().join("events.dat"), b"PAR1 not really").unwrap();
    for args in [
        &["detect", "--input", "events.parquet", "--out", "o"][..],
        &["detect", "--input", "events.dat", "--out", "o"],
        &["detect", "--input", "events.dat", "--format", "parquet", "--out", "o"],
        &["graph", "--input", "events.parquet", "--out", "o"],
        &["explain", "--input", "events.parquet", "--account", "a"],
    ] {
        let result = hydra(dir.path(), args, None);
        let message = stderr(&result);
        assert_eq!(result.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains("`parquet` feature"), "{args:?}: {message}");
        assert!(message.contains("--features parquet"), "{args:?}: {message}");
    }
    let result = hydra(dir.path(), &["detect", "--input", "-", "--out", "o"], Some(b"PAR1 x"));
    assert!(stderr(&result).contains("--features parquet"), "{}", stderr(&result));
    let err = hydra_detect::read_events(&dir.path().join("events.parquet"), &Default::default())
        .unwrap_err();
    assert!(err.to_string().contains("`parquet` feature"), "{err}");
}

#[cfg(feature = "parquet")]
mod with_feature {
    use std::path::Path;
    use std::sync::Arc;

    use hydra_detect::arrow::arrow_array::builder::StringDictionaryBuilder;
    use hydra_detect::arrow::arrow_array::types::Int32Type;
    use hydra_detect::arrow::arrow_array::{
        ArrayRef, Float64Array, Int64Array, LargeStringArray, RecordBatch, StringArray,
        TimestampMillisecondArray,
    };
    use hydra_detect::sim::{SimConfig, Simulator};
    use hydra_detect::{Action, Config, Detector, Event, IngestConfig};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    use sha2::{Digest, Sha256};

    use super::{detect, hydra, stderr};

    /// How the Parquet files of the test encode the events.
    #[derive(Clone, Copy)]
    enum Encoding {
        /// `ts` a millisecond Timestamp in UTC, strings dictionary-encoded,
        /// zstd.
        TimestampDictionary,
        /// `ts` Int64 unix seconds, plain and large strings, columns in
        /// another order with an extra one, snappy.
        IntegerPlain,
    }

    fn columns(events: &[Event], encoding: Encoding) -> Vec<(&'static str, ArrayRef)> {
        let text = |f: &dyn Fn(&Event) -> Option<String>| -> Vec<Option<String>> {
            events.iter().map(f).collect()
        };
        let accounts = text(&|e| Some(e.account.clone()));
        let actions = text(&|e| Some(e.action.name().to_owned()));
        let kinds = text(&|e| match &e.action {
            Action::Observe(i) => Some(i.kind.to_string()),
            _ => None,
        });
        let values = text(&|e| match &e.action {
            Action::Observe(i) => Some(i.value.clone()),
            _ => None,
        });
        let reasons = text(&|e| match &e.action {
            Action::Ban { reason } => reason.clone(),
            _ => None,
        });
        let ts: Vec<i64> = events.iter().map(|e| e.ts).collect();
        match encoding {
            Encoding::TimestampDictionary => {
                let dictionary = |values: Vec<Option<String>>| -> ArrayRef {
                    let mut b = StringDictionaryBuilder::<Int32Type>::new();
                    for v in values {
                        b.append_option(v);
                    }
                    Arc::new(b.finish())
                };
                let millis = ts.iter().map(|t| t * 1000 + 999).collect::<Vec<_>>();
                vec![
                    ("ts", Arc::new(TimestampMillisecondArray::from(millis).with_timezone("UTC"))),
                    ("account", dictionary(accounts)),
                    ("event", dictionary(actions)),
                    ("kind", dictionary(kinds)),
                    ("value", dictionary(values)),
                    ("reason", dictionary(reasons)),
                ]
            }
            Encoding::IntegerPlain => vec![
                ("reason", Arc::new(StringArray::from(reasons))),
                ("value", Arc::new(LargeStringArray::from(values))),
                ("note", Arc::new(Float64Array::from(vec![0.5; events.len()]))),
                ("event", Arc::new(StringArray::from(actions))),
                ("account", Arc::new(StringArray::from(accounts))),
                ("kind", Arc::new(StringArray::from(kinds))),
                ("ts", Arc::new(Int64Array::from(ts))),
            ],
        }
    }

    /// Writes `events` to `path` as Parquet, `rows_per_group` rows a row group.
    fn write_parquet(path: &Path, events: &[Event], encoding: Encoding, rows_per_group: usize) {
        let compression = match encoding {
            Encoding::TimestampDictionary => Compression::ZSTD(ZstdLevel::default()),
            Encoding::IntegerPlain => Compression::SNAPPY,
        };
        let props = WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(Some(rows_per_group))
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut writer: Option<ArrowWriter<std::fs::File>> = None;
        for chunk in events.chunks(rows_per_group / 3 + 1) {
            let batch = RecordBatch::try_from_iter(columns(chunk, encoding)).unwrap();
            let w = writer.get_or_insert_with(|| {
                ArrowWriter::try_new(file.try_clone().unwrap(), batch.schema(), Some(props.clone()))
                    .unwrap()
            });
            w.write(&batch).unwrap();
        }
        let metadata = writer.unwrap().close().unwrap();
        assert!(metadata.num_row_groups() > 3, "{} row groups", metadata.num_row_groups());
    }

    #[test]
    fn small_preset_as_csv_and_as_parquet_gives_identical_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let sim = Simulator::new(SimConfig::small().seed(1)).unwrap().generate().unwrap();
        let mut csv = Vec::new();
        sim.write_events_csv(&mut csv, |_| {}).unwrap();
        std::fs::write(d.join("events.csv"), &csv).unwrap();
        let events: Vec<Event> = sim.events().unwrap().map(Result::unwrap).collect();
        assert!(events.len() > 100_000, "{} events", events.len());
        write_parquet(&d.join("events.parquet"), &events, Encoding::TimestampDictionary, 100_000);
        write_parquet(&d.join("plain.parquet"), &events, Encoding::IntegerPlain, 150_000);
        // Recognised by its magic bytes, whatever its name.
        std::fs::copy(d.join("plain.parquet"), d.join("plain.data")).unwrap();

        let expected = detect(d, "csv", &["--input", "events.csv"], None);
        assert!(expected.len() > 100_000);
        for (out, args) in [
            ("ts", &["--input", "events.parquet"][..]),
            ("int", &["--input", "plain.parquet"]),
            ("sniffed", &["--input", "plain.data"]),
            ("flag", &["--input", "plain.data", "--format", "parquet"]),
        ] {
            let got = detect(d, out, args, None);
            assert!(got == expected, "{args:?}: accounts.csv differs from the CSV run's");
        }
        // The manifest holds the SHA-256 of the Parquet file's bytes.
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("ts/clusters.json")).unwrap()).unwrap();
        let parquet_bytes = std::fs::read(d.join("events.parquet")).unwrap();
        let hex: String =
            Sha256::digest(&parquet_bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(json["run"]["input_sha256"], hex.as_str());
        let bytes = std::fs::read(d.join("plain.parquet")).unwrap();
        let got = detect(d, "stdin", &["--input", "-"], Some(&bytes));
        assert!(got == expected, "Parquet on standard input differs");

        // The library's batch entry point agrees too.
        let file = std::fs::File::open(d.join("events.parquet")).unwrap();
        let batches = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 8192)
            .unwrap()
            .map(Result::unwrap);
        let detection = Detector::new(Config::new()).detect_batches(batches).unwrap();
        let mut written = Vec::new();
        hydra_detect::write_accounts_csv(&detection, &mut written).unwrap();
        assert!(written == expected, "detect_batches differs");

        // graph and explain read Parquet as well.
        let graph = |input: &str, out: &str| {
            let result = hydra(d, &["graph", "--input", input, "--out", out], None);
            assert!(result.status.success(), "{}", stderr(&result));
            result.stdout
        };
        let g = graph("events.csv", "g1");
        assert_eq!(
            String::from_utf8_lossy(&g).lines().next(),
            String::from_utf8_lossy(&graph("events.parquet", "g2")).lines().next()
        );
        let account = &events[0].account;
        let explain = |input: &str| {
            let result =
                hydra(d, &["explain", "--input", input, "--account", account, "--json"], None);
            assert!(result.status.success(), "{}", stderr(&result));
            result.stdout
        };
        assert_eq!(explain("events.csv"), explain("plain.parquet"));
    }

    /// A small valid batch of three events, with `ts` as given.
    fn small_batch(ts: ArrayRef) -> RecordBatch {
        RecordBatch::try_from_iter([
            ("ts", ts),
            ("account", Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef),
            ("event", Arc::new(StringArray::from(vec!["signup", "bogus", "signup"])) as ArrayRef),
        ])
        .unwrap()
    }

    fn write_batch(path: &Path, batch: &RecordBatch) {
        let file = std::fs::File::create(path).unwrap();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        writer.write(batch).unwrap();
        writer.close().unwrap();
    }

    #[test]
    fn bad_parquet_gives_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let good = small_batch(Arc::new(Int64Array::from(vec![1, 2, 3])));
        write_batch(&d.join("rows.parquet"), &good);
        let run = |input: &str, extra: &[&str]| {
            let mut args = vec!["detect", "--input", input, "--out", "o"];
            args.extend_from_slice(extra);
            let result = hydra(d, &args, None);
            assert!(!d.join("o").join("accounts.csv").exists());
            (result.status.code(), stderr(&result))
        };

        // A bad row: strict stops at it, naming the row; lenient skips it.
        let (code, message) = run("rows.parquet", &[]);
        assert_eq!(code, Some(3), "{message}");
        assert!(
            message.contains("row 2: unknown event \"bogus\" (expected signup, observe"),
            "{message}"
        );
        let lenient =
            hydra(d, &["detect", "--input", "rows.parquet", "--out", "l", "--lenient"], None);
        assert!(lenient.status.success(), "{}", stderr(&lenient));
        let clusters = std::fs::read_to_string(d.join("l").join("clusters.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&clusters).unwrap();
        assert_eq!(json["run"]["skipped_rows"]["event"], 1, "{clusters}");

        // Truncated: an I/O error naming the file.
        let bytes = std::fs::read(d.join("rows.parquet")).unwrap();
        for cut in [bytes.len() - 3, bytes.len() / 2, 4] {
            std::fs::write(d.join("cut.parquet"), &bytes[..cut]).unwrap();
            let (code, message) = run("cut.parquet", &[]);
            assert_eq!(code, Some(4), "cut at {cut}: {message}");
            assert!(message.contains("cannot read \"cut.parquet\" as Parquet"), "{message}");
        }
        // Corrupt column data inside a complete file.
        let mut corrupt = bytes.clone();
        for b in &mut corrupt[8..bytes.len() / 3] {
            *b ^= 0x5a;
        }
        std::fs::write(d.join("corrupt.parquet"), &corrupt).unwrap();
        let (code, message) = run("corrupt.parquet", &[]);
        assert!(matches!(code, Some(3 | 4)), "{code:?}: {message}");
        assert!(!message.contains("panicked"), "{message}");

        // A column of the wrong type, and a missing one: schema errors.
        write_batch(
            &d.join("float.parquet"),
            &small_batch(Arc::new(Float64Array::from(vec![1.0; 3]))),
        );
        let (code, message) = run("float.parquet", &[]);
        assert_eq!(code, Some(3), "{message}");
        assert!(
            message.contains("column \"ts\" of the Parquet schema is Float64 (expected integer"),
            "{message}"
        );
        let no_event = RecordBatch::try_from_iter([
            ("ts", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
            ("account", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ])
        .unwrap();
        write_batch(&d.join("no-event.parquet"), &no_event);
        let (code, message) = run("no-event.parquet", &["--lenient"]);
        assert_eq!(code, Some(3), "{message}");
        assert!(
            message.contains("the Parquet schema lacks the required column \"event\""),
            "{message}"
        );
        // Not Parquet at all, named .parquet.
        std::fs::write(d.join("text.parquet"), "ts,account,event\n1,a,signup\n").unwrap();
        let (code, message) = run("text.parquet", &[]);
        assert_eq!(code, Some(4), "{message}");
        // Parquet named .csv: a hint, not a header error.
        std::fs::copy(d.join("rows.parquet"), d.join("rows.csv")).unwrap();
        let (code, message) = run("rows.csv", &[]);
        assert_eq!(code, Some(2), "{message}");
        assert!(message.contains("--format parquet"), "{message}");
        // The library says the same through `read_events`.
        let err =
            hydra_detect::read_events(&d.join("rows.parquet"), &IngestConfig::new()).unwrap_err();
        assert_eq!(err.line(), Some(2));
        let (events, skipped) =
            hydra_detect::read_events(&d.join("rows.parquet"), &IngestConfig::new().lenient(true))
                .unwrap();
        assert_eq!((events.len(), skipped.total()), (2, 1));
        assert!(skipped.examples()[0].starts_with("row 2: "), "{:?}", skipped.examples());
    }
}
