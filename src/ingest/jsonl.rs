//! JSON Lines records to events.
//!
//! Lines are read with a bounded length (an over-long line is consumed to
//! its end in constant memory and reported), checked for UTF-8, then parsed
//! by serde_json into the six contract fields without building a
//! `serde_json::Value`: strings borrow from the line unless they contain
//! escapes, and unknown fields are skipped unparsed.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::normalize::clip;
use super::{Failure, Field, FieldResult, Fields, Row, Source, build_event};
use crate::error::InputProblem;
use crate::event::Event;

/// What [`JsonlParser::read_line`] found.
enum Line {
    /// A line, now in `line_buf` without its terminator.
    Text,
    /// A line of this many bytes (terminator excluded) over the limit; it
    /// has been consumed.
    TooLong(u64),
    /// End of input.
    End,
}

/// Reads JSON Lines into [`Row`]s.
pub(crate) struct JsonlParser<R> {
    source: Source<R>,
    /// The current line, at most `max_len + 1` bytes (room for a `\r`).
    line_buf: Vec<u8>,
    /// Lines consumed so far, so the current line's number.
    lines: u64,
    max_len: usize,
}

impl<R: Read> JsonlParser<R> {
    pub(crate) fn new(source: Source<R>, max_len: usize) -> Self {
        Self { source, line_buf: Vec::new(), lines: 0, max_len }
    }

    /// The next record, or `None` at end of input. Blank lines are skipped.
    ///
    /// # Errors
    ///
    /// Only I/O failures; a bad record is a [`Row`] whose outcome is the
    /// problem.
    pub(crate) fn next_row(&mut self) -> Result<Option<Row>, Failure> {
        loop {
            match self.read_line()? {
                Line::End => return Ok(None),
                Line::TooLong(len) => {
                    let message = format!(
                        "line is {len} bytes long (at most {} allowed; raise the maximum \
                         record length if such records are expected)",
                        self.max_len
                    );
                    let outcome = Err((InputProblem::TooLong, message));
                    return Ok(Some(Row { line: self.lines, outcome }));
                }
                Line::Text => {}
            }
            let mut bytes = &self.line_buf[..];
            if self.lines == 1 {
                bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
            }
            if bytes.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
                continue;
            }
            return Ok(Some(Row { line: self.lines, outcome: parse_line(bytes) }));
        }
    }

    /// Reads one line into `line_buf`, keeping at most `max_len + 1` bytes.
    fn read_line(&mut self) -> Result<Line, Failure> {
        self.line_buf.clear();
        let keep = self.max_len + 1;
        let mut len: u64 = 0;
        // Whether any byte or terminator of a line was read, and the line's
        // last byte (to drop a `\r` before the `\n`).
        let mut seen = false;
        let mut last = None;
        loop {
            let line = self.lines + 1;
            let input = self.source.fill().map_err(|error| Failure::Io { line, error })?;
            if input.is_empty() {
                if !seen {
                    return Ok(Line::End);
                }
                break;
            }
            seen = true;
            let (chunk, used, done) = match input.iter().position(|&b| b == b'\n') {
                Some(i) => (&input[..i], i + 1, true),
                None => (input, input.len(), false),
            };
            len += chunk.len() as u64;
            last = chunk.last().copied().or(last);
            let room = keep.saturating_sub(self.line_buf.len()).min(chunk.len());
            self.line_buf.extend_from_slice(&chunk[..room]);
            self.source.consume(used);
            if done {
                break;
            }
        }
        self.lines += 1;
        let cr = last == Some(b'\r');
        let len = len - u64::from(cr);
        if len > self.max_len as u64 {
            return Ok(Line::TooLong(len));
        }
        if cr {
            self.line_buf.pop();
        }
        Ok(Line::Text)
    }
}

/// Parses and validates one non-blank line.
fn parse_line(bytes: &[u8]) -> FieldResult<Event> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let lossy = String::from_utf8_lossy(bytes);
        (
            InputProblem::Encoding,
            format!(
                "line {:?} is not valid UTF-8 at byte {} (expected UTF-8 text)",
                clip(&lossy),
                e.valid_up_to() + 1
            ),
        )
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let row = JsonRow::deserialize(&mut de).and_then(|row| de.end().map(|()| row));
    match row {
        Ok(row) => build_event(&row.fields()),
        Err(e) => Err((InputProblem::Syntax, syntax_message(text, &e))),
    }
}

/// serde_json's message without its `at line 1 column N` suffix (the line
/// is ours to name), with the column and the clipped text instead.
fn syntax_message(text: &str, e: &serde_json::Error) -> String {
    let full = e.to_string();
    let reason = match full.rfind(" at line ") {
        Some(i) => &full[..i],
        None => &full,
    };
    format!("invalid JSON at column {}: {reason} in {:?}", e.column(), clip(text))
}

/// The contract's fields of one JSON object; `None` = not present.
#[derive(Default)]
struct JsonRow<'a> {
    ts: Option<Value<'a>>,
    account: Option<Value<'a>>,
    event: Option<Value<'a>>,
    kind: Option<Value<'a>>,
    value: Option<Value<'a>>,
    reason: Option<Value<'a>>,
}

impl JsonRow<'_> {
    fn fields(&self) -> Fields<'_> {
        fn f<'b>(v: &'b Option<Value<'_>>) -> Field<'b> {
            match v {
                None | Some(Value::Null) => Field::Absent,
                Some(Value::Str(s)) if s.is_empty() => Field::Absent,
                Some(Value::Str(s)) => Field::Text(s),
                Some(Value::Int(n)) => Field::Integer(*n),
                Some(Value::Float(x)) => Field::Float(*x),
                Some(Value::Bool) => Field::Other("a boolean"),
                Some(Value::Array) => Field::Other("an array"),
                Some(Value::Object) => Field::Other("an object"),
            }
        }
        Fields {
            ts: f(&self.ts),
            account: f(&self.account),
            event: f(&self.event),
            kind: f(&self.kind),
            value: f(&self.value),
            reason: f(&self.reason),
        }
    }
}

/// A field's JSON value; arrays and objects are skipped, only their type kept.
enum Value<'a> {
    Str(Cow<'a, str>),
    Int(i128),
    Float(f64),
    Bool,
    Null,
    Array,
    Object,
}

/// An object key: one of the contract's fields, or another (ignored).
#[derive(Clone, Copy)]
enum Key {
    Ts,
    Account,
    Event,
    Kind,
    Value,
    Reason,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
                Ok(match s {
                    "ts" => Key::Ts,
                    "account" => Key::Account,
                    "event" => Key::Event,
                    "kind" => Key::Kind,
                    "value" => Key::Value,
                    "reason" => Key::Reason,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Value<'de>, E> {
                Ok(Value::Bool)
            }
            fn visit_i64<E>(self, n: i64) -> Result<Value<'de>, E> {
                Ok(Value::Int(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Value<'de>, E> {
                Ok(Value::Int(n.into()))
            }
            fn visit_f64<E>(self, x: f64) -> Result<Value<'de>, E> {
                Ok(Value::Float(x))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Owned(s)))
            }
            fn visit_unit<E>(self) -> Result<Value<'de>, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value<'de>, E> {
                Ok(Value::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Value::Array)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Value::Object)
            }
        }
        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for JsonRow<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RowVisitor;
        impl<'de> Visitor<'de> for RowVisitor {
            type Value = JsonRow<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object with ts, account and event")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonRow<'de>, A::Error> {
                let mut row = JsonRow::default();
                while let Some(key) = map.next_key::<Key>()? {
                    let (slot, name) = match key {
                        Key::Ts => (&mut row.ts, "ts"),
                        Key::Account => (&mut row.account, "account"),
                        Key::Event => (&mut row.event, "event"),
                        Key::Kind => (&mut row.kind, "kind"),
                        Key::Value => (&mut row.value, "value"),
                        Key::Reason => (&mut row.reason, "reason"),
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    if slot.is_some() {
                        return Err(de::Error::custom(format_args!("field {name:?} given twice")));
                    }
                    *slot = Some(map.next_value()?);
                }
                Ok(row)
            }
        }
        d.deserialize_map(RowVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::IndicatorKind;

    type Row = (u64, Result<Event, (InputProblem, String)>);

    fn rows(input: &[u8], max: usize) -> Vec<Row> {
        let mut p = JsonlParser::new(Source::new(input), max);
        let mut out = Vec::new();
        while let Ok(Some(row)) = p.next_row() {
            out.push((row.line, row.outcome));
        }
        out
    }

    fn one(line: &str) -> Result<Event, (InputProblem, String)> {
        parse_line(line.as_bytes())
    }

    #[test]
    fn reads_objects_with_any_field_order_and_extras() {
        let e = one(
            r#"{"extra":[1,{"a":2}],"event":"observe","value":"1.2.3.4","kind":"ip","account":"a\"b","ts":"1970-01-01T00:00:05Z"}"#,
        );
        assert_eq!(e.unwrap(), Event::observe(5, "a\"b", IndicatorKind::Ip, "1.2.3.4"));
        let e = one(
            r#"{"ts":5,"account":7,"event":"observe","kind":"asn","value":13335,"reason":null}"#,
        );
        assert_eq!(e.unwrap(), Event::observe(5, "7", IndicatorKind::Asn, "13335"));
        let e = one(r#"{"ts":-5,"account":"a","event":"ban","kind":"","reason":"spam"}"#);
        assert_eq!(e.unwrap(), Event::ban(-5, "a", Some("spam".into())));
    }

    #[test]
    fn problems_are_classified() {
        let problem = |line: &str| one(line).unwrap_err().0;
        assert_eq!(problem("[1,2]"), InputProblem::Syntax);
        assert_eq!(problem("5"), InputProblem::Syntax);
        assert_eq!(problem(r#"{"ts":5,"account":"a","event":"signup"} x"#), InputProblem::Syntax);
        assert_eq!(problem(r#"{"ts":5,"account":"a""#), InputProblem::Syntax);
        assert_eq!(
            problem(r#"{"ts":5,"ts":6,"account":"a","event":"signup"}"#),
            InputProblem::Syntax
        );
        assert_eq!(
            problem(r#"{"ts":5.5,"account":"a","event":"signup"}"#),
            InputProblem::Timestamp
        );
        assert_eq!(
            problem(r#"{"ts":true,"account":"a","event":"signup"}"#),
            InputProblem::Timestamp
        );
        assert_eq!(problem(r#"{"account":"a","event":"signup"}"#), InputProblem::Timestamp);
        assert_eq!(problem(r#"{"ts":5,"account":1.5,"event":"signup"}"#), InputProblem::Account);
        assert_eq!(problem(r#"{"ts":5,"account":"a","event":3}"#), InputProblem::Event);
        assert_eq!(
            problem(r#"{"ts":5,"account":"a","event":"signup","reason":["x"]}"#),
            InputProblem::Reason
        );
        let (p, m) = one(r#"{"ts":5,"ts":6}"#).unwrap_err();
        assert_eq!(p, InputProblem::Syntax);
        assert!(
            m.starts_with("invalid JSON at column") && m.contains("field \"ts\" given twice"),
            "{m}"
        );
        assert!(!m.contains("at line"), "{m}");
        // Deep nesting neither overflows the stack nor stops the parse.
        let deep =
            |key: &str| format!("{{\"{key}\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(problem(&deep("x")), InputProblem::Timestamp);
        assert_eq!(
            one(&deep("ts")).unwrap_err().1,
            "ts is an array (expected integer unix seconds or an RFC 3339 string)"
        );
        assert_eq!(
            parse_line(b"{\"ts\":5,\"account\":\"\xff\"}").unwrap_err().0,
            InputProblem::Encoding
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_lines_counted() {
        let input = b"\xef\xbb\xbf{\"ts\":1,\"account\":\"a\",\"event\":\"signup\"}\r\n\n  \t\r\n{\"ts\":2,\"account\":\"b\",\"event\":\"signup\"}";
        let got = rows(input, 1000);
        let lines: Vec<u64> = got.iter().map(|r| r.0).collect();
        assert_eq!(lines, [1, 4]);
        assert!(got.iter().all(|r| r.1.is_ok()));
    }

    #[test]
    fn line_length_limit_is_exact() {
        let line = r#"{"ts":1,"account":"a","event":"signup"}"#; // 39 bytes
        let input = format!("{line}\n{line}\r\n{line}x\n{line}");
        let got = rows(input.as_bytes(), 39);
        let problems: Vec<(u64, Option<InputProblem>)> =
            got.iter().map(|(l, r)| (*l, r.as_ref().err().map(|e| e.0))).collect();
        assert_eq!(problems, [(1, None), (2, None), (3, Some(InputProblem::TooLong)), (4, None)]);
        let huge = format!("{}\n{line}\n", "x".repeat(1 << 20));
        let mut p = JsonlParser::new(Source::new(huge.as_bytes()), 100);
        let row = p.next_row().ok().flatten().unwrap();
        assert_eq!(row.outcome.unwrap_err().0, InputProblem::TooLong);
        assert!(p.line_buf.capacity() < 4096);
        assert!(p.next_row().ok().flatten().unwrap().outcome.is_ok());
    }
}
