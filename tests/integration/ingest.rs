//! Ingest through the public API: CONTRACT.md's input format, every malformed
//! field with its line, strict and lenient reading, gzip, and arbitrary bytes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use hydra_detect::{
    Error, ErrorKind, Event, EventReader, Format, IndicatorKind, IngestConfig, InputProblem,
    Record, read_events,
};
use proptest::prelude::*;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ingest").join(name)
}

/// The events of `good.csv`, `good.jsonl` and `reordered.csv`.
fn good_events() -> Vec<Event> {
    vec![
        Event::signup(1_767_225_600, "a-1"),
        Event::observe(1_767_225_660, "a-1", IndicatorKind::Ip, "203.0.113.7"),
        Event::observe(1_767_225_720, "a-1", IndicatorKind::Payment, "card-9f2c"),
        Event::observe(
            1_767_225_780,
            "a-1",
            IndicatorKind::UserAgent,
            "Mozilla/5.0 (X11; Linux x86_64), \"quoted\"",
        ),
        Event::signup(1_767_225_840, "a-2"),
        Event::observe(
            1_767_225_900,
            "a-2",
            IndicatorKind::Custom("ja4_custom".into()),
            "multi\nline",
        ),
        Event::ban(1_767_225_960, "a-1", Some("chargeback".into())),
        Event::unban(1_767_226_020, "a-1"),
        Event::ban(1_767_226_080, "a-2", None),
    ]
}

fn read_all(input: &[u8], format: Format, config: &IngestConfig) -> Vec<Result<Record, Error>> {
    match EventReader::new(input, format, config) {
        Ok(reader) => reader.collect(),
        Err(e) => vec![Err(e)],
    }
}

/// The input error of a strict read of `input`: line, problem and message.
fn first_error(input: &[u8], format: Format) -> (u64, InputProblem, String) {
    let results = read_all(input, format, &IngestConfig::new());
    let Some(Err(e)) = results.last() else {
        panic!("no error for {:?}", String::from_utf8_lossy(input))
    };
    match e.kind() {
        ErrorKind::Input { line, problem, message } => (*line, *problem, message.clone()),
        other => panic!("not an input error: {other:?}"),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn csv_fixture_reads_with_lines_and_seq() {
    let records: Vec<Record> = EventReader::open(&data("good.csv"), &IngestConfig::new())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let events: Vec<Event> = records.iter().map(|r| r.event.clone()).collect();
    assert_eq!(events, good_events());
    let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3, 4, 5, 6, 7, 9, 10, 11]);
    let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=9).collect::<Vec<_>>());
}

#[test]
fn jsonl_fixture_matches_csv() {
    let reader = EventReader::open(&data("good.jsonl"), &IngestConfig::new()).unwrap();
    assert_eq!(reader.format(), Format::Jsonl);
    let records: Vec<Record> = reader.map(Result::unwrap).collect();
    let events: Vec<Event> = records.iter().map(|r| r.event.clone()).collect();
    assert_eq!(events, good_events());
    // Line 3 is blank: skipped, not counted in seq, counted in lines.
    let positions: Vec<(u64, u64)> = records.iter().map(|r| (r.seq, r.line)).take(4).collect();
    assert_eq!(positions, [(1, 1), (2, 2), (3, 4), (4, 5)]);
}

#[test]
fn header_columns_in_any_order_with_extras() {
    let (events, skipped) = read_events(&data("reordered.csv"), &IngestConfig::new()).unwrap();
    assert_eq!(events, good_events());
    assert!(skipped.is_empty());
}

#[test]
fn explicit_format_overrides_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.txt");
    std::fs::copy(data("good.jsonl"), &path).unwrap();
    // Unknown suffix: CSV by default, which fails on the JSON "header".
    let err = EventReader::open(&path, &IngestConfig::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Input { problem: InputProblem::Header, line: 1, .. }));
    let config = IngestConfig::new().format(Some(Format::Jsonl));
    assert_eq!(read_events(&path, &config).unwrap().0, good_events());
}

#[test]
fn gzip_csv_and_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["good.csv", "good.jsonl"] {
        let plain = std::fs::read(data(name)).unwrap();
        let path = dir.path().join(format!("{name}.gz"));
        std::fs::write(&path, gzip(&plain)).unwrap();
        let (events, _) = read_events(&path, &IngestConfig::new()).unwrap();
        assert_eq!(events, good_events(), "{name}");

        // Several gzip members (as `cat a.gz b.gz` makes) are one stream.
        let cut = plain.len() / 2;
        let mut members = gzip(&plain[..cut]);
        members.extend(gzip(&plain[cut..]));
        let path = dir.path().join(format!("members-{name}.GZ"));
        std::fs::write(&path, members).unwrap();
        assert_eq!(read_events(&path, &IngestConfig::new()).unwrap().0, good_events(), "{name}");
    }
}

#[test]
fn corrupt_gzip_is_an_io_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = gzip(&std::fs::read(data("good.csv")).unwrap());
    let mid = bytes.len() / 2;
    bytes.truncate(mid);
    let path = dir.path().join("cut.csv.gz");
    std::fs::write(&path, bytes).unwrap();
    let err = read_events(&path, &IngestConfig::new().lenient(true)).unwrap_err();
    match err.kind() {
        ErrorKind::Io { path: Some(p), message } => {
            assert_eq!(p, &path);
            assert!(message.contains("cut.csv.gz"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let err =
        EventReader::open(Path::new("/nonexistent/events.csv"), &IngestConfig::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/events.csv"), "{err}");
}

/// Every malformed-field case of CONTRACT.md: the bad row is on line 3 of a
/// CSV file (after a good row), and line 2 of a JSON Lines file.
#[test]
fn each_malformed_field_has_its_error_and_line() {
    let long_account = "a".repeat(257);
    let long_value = "v".repeat(1025);
    let long_reason = "r".repeat(257);
    // (csv row, json line or "" for CSV-only, problem, message fragment)
    let cases: Vec<(String, String, InputProblem, &str)> = vec![
        (
            ",a,signup,,,".into(),
            r#"{"account":"a","event":"signup"}"#.into(),
            InputProblem::Timestamp,
            "missing ts (expected unix seconds or an RFC 3339 timestamp)",
        ),
        (
            "soon,a,signup,,,".into(),
            r#"{"ts":"soon","account":"a","event":"signup"}"#.into(),
            InputProblem::Timestamp,
            "invalid ts \"soon\" (expected unix seconds or an RFC 3339 timestamp like 2026-01-01T00:00:00Z)",
        ),
        (
            "2026-02-29T10:00:00Z,a,signup,,,".into(),
            r#"{"ts":"2026-02-29T10:00:00Z","account":"a","event":"signup"}"#.into(),
            InputProblem::Timestamp,
            "invalid ts \"2026-02-29T10:00:00Z\": day 29 is not 01 to 28 in 2026-02",
        ),
        (
            "2026-01-01T10:00:00,a,signup,,,".into(),
            r#"{"ts":"2026-01-01T10:00:00","account":"a","event":"signup"}"#.into(),
            InputProblem::Timestamp,
            "expected a time zone offset (Z, +HH:MM or -HH:MM) at character 20",
        ),
        (
            "1,,signup,,,".into(),
            r#"{"ts":1,"account":"","event":"signup"}"#.into(),
            InputProblem::Account,
            "empty account id (expected 1 to 256 bytes)",
        ),
        (
            format!("1,{long_account},signup,,,"),
            format!(r#"{{"ts":1,"account":"{long_account}","event":"signup"}}"#),
            InputProblem::Account,
            "is 257 bytes long (at most 256 allowed)",
        ),
        (
            "1,a,bann,,,".into(),
            r#"{"ts":1,"account":"a","event":"bann"}"#.into(),
            InputProblem::Event,
            "unknown event \"bann\" (expected signup, observe, ban or unban)",
        ),
        (
            "1,a,,,,".into(),
            r#"{"ts":1,"account":"a"}"#.into(),
            InputProblem::Event,
            "missing event (expected signup, observe, ban or unban)",
        ),
        (
            "1,a,observe,,1.2.3.4,".into(),
            r#"{"ts":1,"account":"a","event":"observe","value":"1.2.3.4"}"#.into(),
            InputProblem::Kind,
            "missing kind (required for observe)",
        ),
        (
            "1,a,observe,ip,,".into(),
            r#"{"ts":1,"account":"a","event":"observe","kind":"ip"}"#.into(),
            InputProblem::Value,
            "missing value (required for observe)",
        ),
        (
            "1,a,signup,ip,,".into(),
            r#"{"ts":1,"account":"a","event":"signup","kind":"ip"}"#.into(),
            InputProblem::Kind,
            "kind \"ip\" on a signup row (kind is only allowed on observe)",
        ),
        (
            "1,a,ban,,x,".into(),
            r#"{"ts":1,"account":"a","event":"ban","value":"x"}"#.into(),
            InputProblem::Value,
            "value \"x\" on a ban row (value is only allowed on observe)",
        ),
        (
            "1,a,observe,Device-ID,d1,".into(),
            r#"{"ts":1,"account":"a","event":"observe","kind":"Device-ID","value":"d1"}"#.into(),
            InputProblem::Kind,
            "invalid kind \"Device-ID\" (expected lowercase [a-z0-9_], 1 to 32 bytes)",
        ),
        (
            format!("1,a,observe,device,{long_value},"),
            format!(r#"{{"ts":1,"account":"a","event":"observe","kind":"device","value":"{long_value}"}}"#),
            InputProblem::Value,
            "is 1025 bytes long (at most 1024 allowed)",
        ),
        (
            "1,a,observe,ip,10.0.0.256,".into(),
            r#"{"ts":1,"account":"a","event":"observe","kind":"ip","value":"10.0.0.256"}"#.into(),
            InputProblem::Ip,
            "invalid ip \"10.0.0.256\" (expected an IPv4 or IPv6 address)",
        ),
        (
            format!("1,a,ban,,,{long_reason}"),
            format!(r#"{{"ts":1,"account":"a","event":"ban","reason":"{long_reason}"}}"#),
            InputProblem::Reason,
            "reason is 257 bytes long (at most 256 allowed)",
        ),
        (
            "1,a,observe,ip,10.0.0.1,spam".into(),
            r#"{"ts":1,"account":"a","event":"observe","kind":"ip","value":"10.0.0.1","reason":"spam"}"#
                .into(),
            InputProblem::Reason,
            "reason \"spam\" on an observe row (reason is only allowed on ban)",
        ),
        (
            "1,a,signup,,".into(),
            String::new(),
            InputProblem::Syntax,
            "5 fields where the header has 6",
        ),
        (
            "1,a,signup,,,,".into(),
            r#"{"ts":1,"account":"a","event":"signup"},"#.into(),
            InputProblem::Syntax,
            "",
        ),
        (
            String::new(),
            r#"["ts",1]"#.into(),
            InputProblem::Syntax,
            "expected a JSON object with ts, account and event",
        ),
    ];
    for (csv_row, json_line, problem, fragment) in &cases {
        if !csv_row.is_empty() {
            let input = format!(
                "ts,account,event,kind,value,reason\n1,ok,signup,,,\n{csv_row}\n1,ok,signup,,,\n"
            );
            let (line, got, message) = first_error(input.as_bytes(), Format::Csv);
            assert_eq!((line, got), (3, *problem), "csv {csv_row:?}: {message}");
            assert!(message.contains(fragment), "csv {csv_row:?}: {message:?} lacks {fragment:?}");
            assert!(message.len() < 400, "message not clipped: {message}");
        }
        if !json_line.is_empty() {
            let input =
                format!("{{\"ts\":1,\"account\":\"ok\",\"event\":\"signup\"}}\n{json_line}\n");
            let (line, got, message) = first_error(input.as_bytes(), Format::Jsonl);
            assert_eq!((line, got), (2, *problem), "jsonl {json_line:?}: {message}");
            assert!(
                message.contains(fragment),
                "jsonl {json_line:?}: {message:?} lacks {fragment:?}"
            );
        }
    }
}

#[test]
fn error_display_starts_with_the_line() {
    let input = "ts,account,event\n1,a,signup\n1,a,bann\n";
    let results = read_all(input.as_bytes(), Format::Csv, &IngestConfig::new());
    let err = results.last().unwrap().as_ref().unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3: unknown event \"bann\" (expected signup, observe, ban or unban)"
    );
}

#[test]
fn invalid_utf8_is_an_encoding_error() {
    let input = b"ts,account,event\n1,ok,signup\n1,caf\xe9,signup\n";
    let (line, problem, message) = first_error(input, Format::Csv);
    assert_eq!((line, problem), (3, InputProblem::Encoding));
    assert!(message.contains("account \"caf\u{fffd}\" is not valid UTF-8 at byte 4"), "{message}");
    let input = b"{\"ts\":1,\"account\":\"ok\",\"event\":\"signup\"}\n{\"ts\":1,\"account\":\"caf\xe9\",\"event\":\"signup\"}\n";
    let (line, problem, _) = first_error(input, Format::Jsonl);
    assert_eq!((line, problem), (2, InputProblem::Encoding));
    // Unknown columns are not inspected, so bad bytes there are harmless.
    let input = b"ts,account,event,note\n1,ok,signup,\xff\n";
    assert!(read_all(input, Format::Csv, &IngestConfig::new()).iter().all(Result::is_ok));
}

#[test]
fn header_problems_are_reported_at_construction() {
    let header_error = |input: &str| {
        let err =
            EventReader::new(input.as_bytes(), Format::Csv, &IngestConfig::new().lenient(true))
                .unwrap_err();
        match err.kind() {
            ErrorKind::Input { line, problem, message } => (*line, *problem, message.clone()),
            other => panic!("{other:?}"),
        }
    };
    let (line, problem, message) = header_error("ts,account,kind,value\n1,a,b,c\n");
    assert_eq!((line, problem), (1, InputProblem::Header));
    assert!(message.contains("lacks the required column \"event\""), "{message}");
    let (line, problem, message) = header_error("ts,account,event,account\n");
    assert_eq!((line, problem), (1, InputProblem::Header));
    assert!(message.contains("\"account\" appears twice"), "{message}");
    assert_eq!(header_error("").1, InputProblem::Header);
}

#[test]
fn multi_line_quoted_fields_shift_line_numbers() {
    let input = "ts,account,event,kind,value\n\
                 1,a,observe,user_agent,\"line one\nline two\nline three\"\n\
                 \n\
                 1,b,signup,,\n\
                 1,c,sign up,,\n";
    let results = read_all(input.as_bytes(), Format::Csv, &IngestConfig::new());
    assert_eq!(results.len(), 3);
    let first = results[0].as_ref().unwrap();
    assert_eq!((first.seq, first.line), (1, 2));
    let second = results[1].as_ref().unwrap();
    assert_eq!((second.seq, second.line), (2, 6));
    let err = results[2].as_ref().unwrap_err();
    assert_eq!(err.line(), Some(7));
}

#[test]
fn strict_yields_the_first_error_then_ends() {
    let input = "ts,account,event\n1,a,signup\nx,a,signup\n1,b,signup\ny,a,signup\n";
    let results = read_all(input.as_bytes(), Format::Csv, &IngestConfig::new());
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    assert_eq!(results[1].as_ref().unwrap_err().line(), Some(3));
}

#[test]
fn lenient_counts_skipped_rows_by_problem() {
    let config = IngestConfig::new().lenient(true);
    let mut reader = EventReader::open(&data("bad_rows.csv"), &config).unwrap();
    let records: Vec<Record> = reader.by_ref().map(Result::unwrap).collect();
    let positions: Vec<(u64, u64)> = records.iter().map(|r| (r.seq, r.line)).collect();
    assert_eq!(positions, [(1, 2), (14, 15), (15, 16), (17, 19)]);
    assert_eq!(records[2].event.account, "a-2\nstill a-2");
    let skipped = reader.skipped();
    assert_eq!(skipped.total(), 13);
    let counts: Vec<(InputProblem, u64)> = skipped.iter().collect();
    assert_eq!(
        counts,
        [
            (InputProblem::Syntax, 2),
            (InputProblem::Timestamp, 3),
            (InputProblem::Account, 1),
            (InputProblem::Event, 1),
            (InputProblem::Kind, 3),
            (InputProblem::Value, 1),
            (InputProblem::Reason, 1),
            (InputProblem::Ip, 1),
        ]
    );
    assert_eq!(skipped.count(InputProblem::Kind), 3);
    assert_eq!(skipped.count(InputProblem::Encoding), 0);
    let examples = skipped.examples();
    assert_eq!(examples.len(), 10);
    assert!(examples[0].starts_with("line 3: missing ts"), "{}", examples[0]);
    assert!(examples[9].starts_with("line 12: invalid ip \"1.2.3.999\""), "{}", examples[9]);
    assert_eq!(
        skipped.to_string(),
        "13 records skipped (syntax 2, timestamp 3, account 1, event 1, kind 3, value 1, reason 1, ip 1)"
    );

    // The same file, strict: the first bad row stops it.
    let err = read_events(&data("bad_rows.csv"), &IngestConfig::new()).unwrap_err();
    assert_eq!(err.line(), Some(3));
}

#[test]
fn lenient_skips_too_long_records() {
    let long = "x".repeat(300);
    let input = format!("ts,account,event\n1,a,signup\n1,\"{long}\",signup\n1,b,signup\n");
    let config = IngestConfig::new().lenient(true).max_record_len(100);
    let mut reader = EventReader::new(input.as_bytes(), Format::Csv, &config).unwrap();
    let seqs: Vec<u64> = reader.by_ref().map(|r| r.unwrap().seq).collect();
    assert_eq!(seqs, [1, 3]);
    assert_eq!(reader.skipped().count(InputProblem::TooLong), 1);
    assert!(reader.skipped().examples()[0].starts_with("line 3: record is 311 bytes long"));
    let (line, problem, _) = {
        let results =
            read_all(input.as_bytes(), Format::Csv, &IngestConfig::new().max_record_len(100));
        match results.last().unwrap().as_ref().unwrap_err().kind() {
            ErrorKind::Input { line, problem, message } => (*line, *problem, message.clone()),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!((line, problem), (3, InputProblem::TooLong));
}

#[test]
fn invalid_config_is_rejected() {
    let err = EventReader::new(&b""[..], Format::Jsonl, &IngestConfig::new().max_record_len(0))
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Config { .. }));
}

/// A reader that hands out at most `chunk` bytes per call, to exercise
/// records split across reads.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// A summary of a read that can be compared across readers.
fn outcome<R: Read>(
    reader: Result<EventReader<R>, Error>,
) -> Vec<Result<(u64, u64, Event), String>> {
    match reader {
        Err(e) => vec![Err(e.to_string())],
        Ok(reader) => {
            reader.map(|r| r.map(|r| (r.seq, r.line, r.event)).map_err(|e| e.to_string())).collect()
        }
    }
}

fn arb_event() -> impl Strategy<Value = Event> {
    let account = "[a-z0-9\\-]{1,12}|[^\u{0}]{1,6}";
    let value = "[a-zA-Z0-9 ,\"\\n.:/]{1,20}";
    let kind = prop_oneof![
        Just(IndicatorKind::Payment),
        Just(IndicatorKind::Device),
        Just(IndicatorKind::Email),
        "x_[a-z0-9_]{1,6}".prop_map(|k| IndicatorKind::parse(&k).unwrap()),
    ];
    let ts = -62_167_219_200i64..=253_402_300_799;
    prop_oneof![
        (ts.clone(), account).prop_map(|(t, a)| Event::signup(t, a)),
        (ts.clone(), account, kind, value).prop_map(|(t, a, k, v)| Event::observe(t, a, k, v)),
        (ts.clone(), account, proptest::option::of("[a-z ,]{1,10}"))
            .prop_map(|(t, a, r)| Event::ban(t, a, r)),
        (ts, account).prop_map(|(t, a)| Event::unban(t, a)),
    ]
}

fn to_csv(events: &[Event]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["ts", "account", "event", "kind", "value", "reason"]).unwrap();
    for e in events {
        let (kind, value, reason) = match &e.action {
            hydra_detect::Action::Observe(i) => (i.kind.as_str(), i.value.as_str(), ""),
            hydra_detect::Action::Ban { reason } => ("", "", reason.as_deref().unwrap_or("")),
            _ => ("", "", ""),
        };
        w.write_record([&e.ts.to_string(), &e.account, e.action.name(), kind, value, reason])
            .unwrap();
    }
    w.into_inner().unwrap()
}

fn to_jsonl(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        let mut obj =
            serde_json::json!({"ts": e.ts, "account": e.account, "event": e.action.name()});
        match &e.action {
            hydra_detect::Action::Observe(i) => {
                obj["kind"] = i.kind.as_str().into();
                obj["value"] = i.value.as_str().into();
            }
            hydra_detect::Action::Ban { reason: Some(r) } => obj["reason"] = r.as_str().into(),
            _ => {}
        }
        serde_json::to_writer(&mut out, &obj).unwrap();
        out.push(b'\n');
    }
    out
}

proptest! {
    #[test]
    fn written_events_read_back_identically(events in proptest::collection::vec(arb_event(), 0..20)) {
        for (format, bytes) in [(Format::Csv, to_csv(&events)), (Format::Jsonl, to_jsonl(&events))] {
            let got: Vec<Event> = EventReader::new(&bytes[..], format, &IngestConfig::new())
                .unwrap()
                .map(|r| r.map(|r| r.event))
                .collect::<Result<_, _>>()
                .unwrap();
            prop_assert_eq!(&got, &events);
        }
    }

    #[test]
    fn read_sizes_do_not_change_the_result(
        events in proptest::collection::vec(arb_event(), 0..10),
        junk in proptest::collection::vec(any::<u8>(), 0..40),
        at in any::<prop::sample::Index>(),
        chunk in 1usize..9,
    ) {
        for (format, mut bytes) in [(Format::Csv, to_csv(&events)), (Format::Jsonl, to_jsonl(&events))] {
            let i = at.index(bytes.len() + 1);
            bytes.splice(i..i, junk.iter().copied());
            for lenient in [false, true] {
                let config = IngestConfig::new().lenient(lenient).max_record_len(64);
                let whole = outcome(EventReader::new(&bytes[..], format, &config));
                let pieces = outcome(EventReader::new(Chunked { data: &bytes, chunk }, format, &config));
                prop_assert_eq!(whole, pieces);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_end(
        bytes in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(b','), Just(b'"'), Just(b'\n'), Just(b'{'), Just(b'}')],
            0..600,
        ),
        header in any::<bool>(),
        max in 1usize..200,
    ) {
        let mut input = if header { b"ts,account,event,kind,value,reason\n".to_vec() } else { Vec::new() };
        input.extend(&bytes);
        for format in [Format::Csv, Format::Jsonl] {
            for lenient in [false, true] {
                let config = IngestConfig::new().lenient(lenient).max_record_len(max);
                let Ok(mut reader) = EventReader::new(&input[..], format, &config) else { continue };
                let mut last_seq = 0;
                let mut errors = 0;
                // Every item consumes input, so the count is bounded by its length.
                for item in reader.by_ref().take(input.len() + 2) {
                    match item {
                        Ok(record) => {
                            prop_assert!(record.seq > last_seq);
                            last_seq = record.seq;
                        }
                        Err(_) => errors += 1,
                    }
                }
                prop_assert!(reader.next().is_none());
                // Lenient yields a record error only at the end of an input
                // with no valid record (a slice has no I/O errors); strict
                // yields at most one.
                if lenient {
                    prop_assert!(errors == 0 || (errors == 1 && last_seq == 0));
                    prop_assert!(reader.skipped().examples().len() <= 10);
                } else {
                    prop_assert!(errors <= 1);
                }
            }
        }
    }
}
