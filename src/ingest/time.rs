//! Timestamp parsing for the `ts` column: integer unix seconds or RFC 3339.
//!
//! # Overview
//!
//! - [`parse_timestamp`] reads the text form of `ts` (CSV, or a JSON string):
//!   an optionally negative integer of unix seconds, or an RFC 3339 date-time
//!   such as `2026-01-01T00:00:00Z` or `2026-01-01T02:00:00.250+02:00`.
//! - [`check_unix_seconds`] bounds an integer read elsewhere (a JSON number).
//!
//! Both forms accept exactly the instants RFC 3339 can write, years 0000 to
//! 9999 ([`MIN_TIMESTAMP`]..=[`MAX_TIMESTAMP`]), so the two spellings of a time
//! are interchangeable and arithmetic on timestamps downstream (windows,
//! minute buckets) cannot overflow an `i64`.
//!
//! The RFC 3339 parser is written here rather than taken from a date crate:
//! the grammar is small (RFC 3339 section 5.6), and owning it keeps the error
//! messages exact (which part is wrong, and why).

use crate::event::Timestamp;

/// `0000-01-01T00:00:00Z`, the earliest time RFC 3339 can write.
pub(crate) const MIN_TIMESTAMP: Timestamp = -62_167_219_200;
/// `9999-12-31T23:59:59Z`, the latest time RFC 3339 can write.
pub(crate) const MAX_TIMESTAMP: Timestamp = 253_402_300_799;

/// What a valid `ts` looks like, appended to every timestamp error.
const EXPECTED: &str = "expected unix seconds or an RFC 3339 timestamp like 2026-01-01T00:00:00Z";

/// Parses the text of a `ts` field.
///
/// Accepted forms:
/// - `-?[0-9]+`: unix seconds (negative values are times before 1970);
/// - RFC 3339 `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`, where `T` and
///   `Z` may be lowercase or `T` a space (both allowed by RFC 3339 section
///   5.6), the fraction is dropped (truncated, so the result is the whole
///   second the instant falls in), and a leap second `:60` counts as `:59`
///   (unix time has no leap seconds).
///
/// # Errors
///
/// A message naming the value (clipped), what is wrong with it when it looks
/// like RFC 3339, and what was expected. Out-of-range values (before year
/// 0000 or after 9999) are errors too.
pub(crate) fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    let shown = crate::ingest::normalize::clip(text);
    let bytes = text.as_bytes();
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        let negative = digits.len() != bytes.len();
        // Accumulate in i128 with saturation: any value past the i64 range is
        // out of range anyway, and saturating keeps a 1000-digit field cheap.
        let mut magnitude: i128 = 0;
        for &d in digits {
            magnitude = magnitude.saturating_mul(10).saturating_add(i128::from(d - b'0'));
        }
        let value = if negative { -magnitude } else { magnitude };
        return check_unix_seconds(value).map_err(|_| out_of_range(shown));
    }
    if looks_like_rfc3339(bytes) {
        return parse_rfc3339(bytes)
            .map_err(|why| format!("invalid ts {shown:?}: {why} ({EXPECTED})"));
    }
    Err(format!("invalid ts {shown:?} ({EXPECTED})"))
}

/// Checks that integer unix seconds lie in years 0000 to 9999.
///
/// # Errors
///
/// A message naming the value and the accepted range.
pub(crate) fn check_unix_seconds(value: i128) -> Result<Timestamp, String> {
    if (i128::from(MIN_TIMESTAMP)..=i128::from(MAX_TIMESTAMP)).contains(&value) {
        // In range, so the conversion is exact.
        Ok(value as Timestamp)
    } else {
        Err(out_of_range(&value.to_string()))
    }
}

fn out_of_range(shown: &str) -> String {
    format!(
        "ts {shown:?} out of range (expected unix seconds from {MIN_TIMESTAMP} to \
         {MAX_TIMESTAMP}, years 0000 to 9999)"
    )
}

/// Four digits and a dash: the caller meant a date, so a specific reason for
/// rejecting it is more useful than the generic message.
fn looks_like_rfc3339(bytes: &[u8]) -> bool {
    bytes.len() >= 5 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-'
}

/// A cursor over the timestamp's bytes; every `expect_*` names what it wanted.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    /// Reads exactly `n` ASCII digits as a number.
    fn digits(&mut self, n: usize, what: &str) -> Result<u32, String> {
        let end = self.pos + n;
        match self.bytes.get(self.pos..end) {
            Some(d) if d.iter().all(u8::is_ascii_digit) => {
                self.pos = end;
                Ok(d.iter().fold(0, |acc, &b| acc * 10 + u32::from(b - b'0')))
            }
            _ => Err(format!("expected {n} digits of {what} at character {}", self.pos + 1)),
        }
    }

    /// Consumes one byte from `allowed`, returning it.
    fn one_of(&mut self, allowed: &[u8], what: &str) -> Result<u8, String> {
        match self.bytes.get(self.pos) {
            Some(b) if allowed.contains(b) => {
                self.pos += 1;
                Ok(*b)
            }
            _ => Err(format!("expected {what} at character {}", self.pos + 1)),
        }
    }
}

/// Parses an RFC 3339 `date-time` (section 5.6) into unix seconds.
///
/// # Errors
///
/// Names the first field that is malformed or out of range.
fn parse_rfc3339(bytes: &[u8]) -> Result<Timestamp, String> {
    let mut c = Cursor { bytes, pos: 0 };
    let year = c.digits(4, "year")?;
    c.one_of(b"-", "'-' after the year")?;
    let month = c.digits(2, "month")?;
    c.one_of(b"-", "'-' after the month")?;
    let day = c.digits(2, "day")?;
    c.one_of(b"Tt ", "'T' between date and time")?;
    let hour = c.digits(2, "hour")?;
    c.one_of(b":", "':' after the hour")?;
    let minute = c.digits(2, "minute")?;
    c.one_of(b":", "':' after the minute")?;
    let second = c.digits(2, "second")?;
    if c.bytes.get(c.pos) == Some(&b'.') {
        c.pos += 1;
        let start = c.pos;
        while c.bytes.get(c.pos).is_some_and(u8::is_ascii_digit) {
            c.pos += 1;
        }
        if c.pos == start {
            return Err(format!("expected digits after '.' at character {}", start + 1));
        }
    }
    let offset = match c.one_of(b"Zz+-", "a time zone offset (Z, +HH:MM or -HH:MM)")? {
        b'+' | b'-' => {
            let sign: i64 = if c.bytes[c.pos - 1] == b'+' { 1 } else { -1 };
            let oh = c.digits(2, "offset hours")?;
            c.one_of(b":", "':' in the offset")?;
            let om = c.digits(2, "offset minutes")?;
            if oh > 23 {
                return Err(format!("offset hour {oh:02} is not 00 to 23"));
            }
            if om > 59 {
                return Err(format!("offset minute {om:02} is not 00 to 59"));
            }
            sign * (i64::from(oh) * 3600 + i64::from(om) * 60)
        }
        _ => 0,
    };
    if c.pos != bytes.len() {
        return Err(format!("unexpected text after the time zone at character {}", c.pos + 1));
    }
    if !(1..=12).contains(&month) {
        return Err(format!("month {month:02} is not 01 to 12"));
    }
    let month_days = days_in_month(year, month);
    if day == 0 || day > month_days {
        return Err(format!("day {day:02} is not 01 to {month_days} in {year:04}-{month:02}"));
    }
    if hour > 23 {
        return Err(format!("hour {hour:02} is not 00 to 23"));
    }
    if minute > 59 {
        return Err(format!("minute {minute:02} is not 00 to 59"));
    }
    if second > 60 {
        return Err(format!("second {second:02} is not 00 to 60"));
    }
    // Unix time has no leap seconds: 23:59:60 is the same unix second as 23:59:59.
    let second = second.min(59);
    let local = days_from_civil(i64::from(year), month, day) * 86_400
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second);
    let utc = local - offset;
    if !(MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&utc) {
        return Err("the offset moves it outside years 0000 to 9999".to_owned());
    }
    Ok(utc)
}

/// Whether `year` is a leap year in the proleptic Gregorian calendar.
fn is_leap_year(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// Days in `month` (1..=12) of `year`.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to `year-month-day` in the proleptic Gregorian calendar.
///
/// Shifts the year to start in March, so the leap day is the last day of the
/// year, then counts whole 400-year eras (146 097 days each), years in the
/// era and days in the year (`(153 m + 2) / 5` gives the days before month
/// `m` counted from March). The method is H. Hinnant's `days_from_civil`
/// ("chrono-Compatible Low-Level Date Algorithms", 2013).
///
/// # Complexity
///
/// O(1).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Days since 1970-01-01 by walking whole years and months: slow, obvious,
    /// and independent of `days_from_civil`.
    fn naive_days(year: u32, month: u32, day: u32) -> i64 {
        let mut days: i64 = 0;
        if year >= 1970 {
            for y in 1970..year {
                days += if is_leap_year(y) { 366 } else { 365 };
            }
        } else {
            for y in year..1970 {
                days -= if is_leap_year(y) { 366 } else { 365 };
            }
        }
        for m in 1..month {
            days += i64::from(days_in_month(year, m));
        }
        days + i64::from(day) - 1
    }

    /// Formats unix seconds as `YYYY-MM-DDTHH:MM:SSZ` by searching the naive
    /// calendar: a test oracle, not a fast formatter.
    fn format_utc(ts: Timestamp) -> String {
        let days = ts.div_euclid(86_400);
        let secs = ts.rem_euclid(86_400);
        // A guess at or below the true year; the loops below correct it.
        let guess = if days >= 0 { 1970 + days / 366 } else { (1970 + days / 365 - 1).max(0) };
        let mut year = guess as u32;
        while naive_days(year + 1, 1, 1) <= days {
            year += 1;
        }
        while naive_days(year, 1, 1) > days {
            year -= 1;
        }
        let mut month = 1;
        while month < 12 && naive_days(year, month + 1, 1) <= days {
            month += 1;
        }
        let day = (days - naive_days(year, month, 1) + 1) as u32;
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }

    fn ok(text: &str) -> Timestamp {
        parse_timestamp(text).unwrap_or_else(|e| panic!("{text:?} rejected: {e}"))
    }

    fn err(text: &str) -> String {
        match parse_timestamp(text) {
            Ok(ts) => panic!("{text:?} accepted as {ts}"),
            Err(e) => e,
        }
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(ok("0"), 0);
        assert_eq!(ok("1767225600"), 1_767_225_600);
        assert_eq!(ok("-1"), -1);
        assert_eq!(ok("007"), 7);
        assert_eq!(ok("253402300799"), MAX_TIMESTAMP);
        assert_eq!(ok("-62167219200"), MIN_TIMESTAMP);
        assert!(err("253402300800").contains("out of range"));
        assert!(err("-62167219201").contains("out of range"));
        assert!(err(&"9".repeat(500)).contains("out of range"));
        for bad in ["", "-", "+5", "1.5", "1e9", " 5", "5 ", "0x10", "--1"] {
            assert!(err(bad).starts_with("invalid ts"), "{bad:?}");
        }
    }

    #[test]
    fn rfc3339_known_values() {
        assert_eq!(ok("1970-01-01T00:00:00Z"), 0);
        assert_eq!(ok("2026-01-01T00:00:00Z"), 1_767_225_600);
        assert_eq!(ok("2026-01-01T02:00:00+02:00"), 1_767_225_600);
        assert_eq!(ok("2025-12-31T19:00:00-05:00"), 1_767_225_600);
        assert_eq!(ok("2026-01-01t00:00:00z"), 1_767_225_600);
        assert_eq!(ok("2026-01-01 00:00:00Z"), 1_767_225_600);
        assert_eq!(ok("2026-01-01T00:00:00-00:00"), 1_767_225_600);
        assert_eq!(ok("2000-02-29T12:00:00Z"), 951_825_600);
        assert_eq!(ok("0000-01-01T00:00:00Z"), MIN_TIMESTAMP);
        assert_eq!(ok("9999-12-31T23:59:59Z"), MAX_TIMESTAMP);
        assert_eq!(ok("1969-12-31T23:59:59Z"), -1);
    }

    #[test]
    fn fractions_are_truncated() {
        assert_eq!(ok("2026-01-01T00:00:00.999999999Z"), 1_767_225_600);
        assert_eq!(ok("2026-01-01T00:00:00.5+00:00"), 1_767_225_600);
        // Truncating the written fraction picks the second the instant lies in.
        assert_eq!(ok("1969-12-31T23:59:59.5Z"), -1);
        assert!(err("2026-01-01T00:00:00.Z").contains("digits after '.'"));
    }

    #[test]
    fn leap_seconds_count_as_59() {
        assert_eq!(ok("2016-12-31T23:59:60Z"), ok("2016-12-31T23:59:59Z"));
    }

    #[test]
    fn calendar_is_validated() {
        assert!(err("2026-02-29T00:00:00Z").contains("day 29 is not 01 to 28 in 2026-02"));
        assert!(err("1900-02-29T00:00:00Z").contains("is not 01 to 28"));
        assert_eq!(ok("2000-02-29T00:00:00Z"), 951_782_400);
        assert_eq!(ok("2024-02-29T00:00:00Z"), 1_709_164_800);
        assert!(err("2026-04-31T00:00:00Z").contains("day 31 is not 01 to 30"));
        assert!(err("2026-01-00T00:00:00Z").contains("day 00"));
        assert!(err("2026-13-01T00:00:00Z").contains("month 13 is not 01 to 12"));
        assert!(err("2026-00-01T00:00:00Z").contains("month 00"));
        assert!(err("2026-01-01T24:00:00Z").contains("hour 24"));
        assert!(err("2026-01-01T00:60:00Z").contains("minute 60"));
        assert!(err("2026-01-01T00:00:61Z").contains("second 61"));
        assert!(err("2026-01-01T00:00:00+24:00").contains("offset hour 24"));
        assert!(err("2026-01-01T00:00:00+01:60").contains("offset minute 60"));
    }

    #[test]
    fn syntax_errors_name_the_place() {
        let e = err("2026-01-01T00:00:00");
        assert!(e.contains("time zone offset") && e.contains("character 20"), "{e}");
        assert!(err("2026-01-01").contains("'T' between date and time"));
        assert!(err("2026-1-01T00:00:00Z").contains("2 digits of month"));
        assert!(err("2026-01-01T00:00:00ZZ").contains("unexpected text"));
        assert!(err("2026-01-01T00:00:00+0100").contains("':' in the offset"));
        assert!(err("2026-01-01T00:00:00+01").contains("':' in the offset"));
        assert!(err("2026-01-01T00:00:00+01:5").contains("offset minutes"));
        assert!(err("2026-01-01T0:00:00Z").contains("hour"));
        assert!(err("0000-01-01T00:00:00+00:01").contains("outside years 0000 to 9999"));
        assert!(err("9999-12-31T23:59:59-00:01").contains("outside years 0000 to 9999"));
        // The message carries the expectation and the (clipped) value.
        let long = format!("2026-01-01T00:00:00Z{}", "x".repeat(500));
        let e = err(&long);
        assert!(e.contains("expected unix seconds or an RFC 3339") && e.len() < 300, "{e}");
        // Not date-like at all: the generic message.
        assert_eq!(
            err("yesterday"),
            "invalid ts \"yesterday\" (expected unix seconds or an RFC 3339 timestamp \
             like 2026-01-01T00:00:00Z)"
        );
    }

    #[test]
    fn days_from_civil_matches_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(0, 1, 1), -719_528);
        assert_eq!(days_from_civil(9999, 12, 31), 2_932_896);
    }

    proptest! {
        #[test]
        fn days_from_civil_agrees_with_counting(year in 0u32..=9999, month in 1u32..=12, day in 1u32..=31) {
            let day = day.min(days_in_month(year, month));
            prop_assert_eq!(days_from_civil(i64::from(year), month, day), naive_days(year, month, day));
        }

        #[test]
        fn formatted_times_parse_back(ts in MIN_TIMESTAMP..=MAX_TIMESTAMP) {
            let text = format_utc(ts);
            prop_assert_eq!(parse_timestamp(&text), Ok(ts), "{}", text);
            prop_assert_eq!(parse_timestamp(&ts.to_string()), Ok(ts));
        }

        #[test]
        fn offsets_shift_by_their_length(ts in 0i64..=4_000_000_000, oh in 0u32..=23, om in 0u32..=59, east: bool) {
            let shift = i64::from(oh * 3600 + om * 60);
            let local = if east { ts + shift } else { ts - shift };
            let base = format_utc(local);
            let sign = if east { '+' } else { '-' };
            let text = format!("{}{sign}{oh:02}:{om:02}", &base[..base.len() - 1]);
            prop_assert_eq!(parse_timestamp(&text), Ok(ts), "{}", text);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,40}") {
            let _ = parse_timestamp(&text);
        }

        #[test]
        fn date_like_text_never_panics(text in "[0-9]{4}-[0-9:Tt+\\-.Zz ]{0,30}") {
            let _ = parse_timestamp(&text);
        }
    }
}
