//! Validation and normalization shared by every way events come in (files,
//! the library API, the watcher): field bounds, IP parsing, `ip_prefix`.

use std::net::IpAddr;

use crate::error::InputProblem;
use crate::event::{Action, Event, IndicatorKind, MAX_ACCOUNT_LEN, MAX_REASON_LEN, MAX_VALUE_LEN};

/// Checks the bounds docs/FORMATS.md puts on an event's fields.
///
/// Returns the problem class and a message naming the offending value and
/// what was expected (without the line number, which the caller knows).
pub(crate) fn validate_event(event: &Event) -> Result<(), (InputProblem, String)> {
    validate_account(&event.account)?;
    match &event.action {
        Action::Observe(ind) => {
            validate_value(&ind.value)?;
            if ind.kind == IndicatorKind::Ip && parse_ip(&ind.value).is_none() {
                return Err((
                    InputProblem::Ip,
                    format!("invalid ip {:?} (expected an IPv4 or IPv6 address)", clip(&ind.value)),
                ));
            }
        }
        Action::Ban { reason: Some(reason) } if reason.len() > MAX_REASON_LEN => {
            return Err((
                InputProblem::Reason,
                format!("reason is {} bytes long (at most {MAX_REASON_LEN} allowed)", reason.len()),
            ));
        }
        _ => {}
    }
    Ok(())
}

/// Checks an account id: 1..=256 bytes.
pub(crate) fn validate_account(account: &str) -> Result<(), (InputProblem, String)> {
    if account.is_empty() {
        return Err((InputProblem::Account, "empty account id (expected 1 to 256 bytes)".into()));
    }
    if account.len() > MAX_ACCOUNT_LEN {
        return Err((
            InputProblem::Account,
            format!(
                "account id {:?} is {} bytes long (at most {MAX_ACCOUNT_LEN} allowed)",
                clip(account),
                account.len()
            ),
        ));
    }
    Ok(())
}

/// Checks an indicator value: 1..=1024 bytes.
pub(crate) fn validate_value(value: &str) -> Result<(), (InputProblem, String)> {
    if value.is_empty() {
        return Err((InputProblem::Value, "empty value (required for observe)".into()));
    }
    if value.len() > MAX_VALUE_LEN {
        return Err((
            InputProblem::Value,
            format!(
                "value {:?} is {} bytes long (at most {MAX_VALUE_LEN} allowed)",
                clip(value),
                value.len()
            ),
        ));
    }
    Ok(())
}

/// Parses an IP address, v4 or v6 (an IPv4-mapped v6 address counts as v4).
pub(crate) fn parse_ip(value: &str) -> Option<IpAddr> {
    let ip: IpAddr = value.trim().parse().ok()?;
    Some(ip.to_canonical())
}

/// Appends the decimal digits of `n` (no allocation, no formatter).
fn push_octet(out: &mut String, n: u8) {
    if n >= 100 {
        out.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        out.push(char::from(b'0' + n / 10 % 10));
    }
    out.push(char::from(b'0' + n % 10));
}

/// Appends dotted-quad `a.b.c.` to `out` (the first three octets).
fn push_three_octets(out: &mut String, [a, b, c]: [u8; 3]) {
    for o in [a, b, c] {
        push_octet(out, o);
        out.push('.');
    }
}

/// Replaces `out` with the canonical text of `ip` (as `Display` writes it),
/// reusing its allocation: the index calls this once per `ip` observation.
pub(crate) fn write_ip(ip: IpAddr, out: &mut String) {
    out.clear();
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            push_three_octets(out, [a, b, c]);
            push_octet(out, d);
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{v6}");
        }
    }
}

/// Appends the `ip_prefix` value of `ip` to `out`: its /24 (v4) or /48
/// (v6) network. The index derives it once per distinct address, the
/// watcher per observation into a reused buffer.
pub(crate) fn push_ip_prefix(ip: IpAddr, out: &mut String) {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            push_three_octets(out, [a, b, c]);
            out.push_str("0/24");
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            let _ = write!(out, "{net}/48");
        }
    }
}

/// A value cut to at most 64 bytes (on a char boundary) for error messages.
pub(crate) fn clip(value: &str) -> &str {
    if value.len() <= 64 {
        return value;
    }
    let mut end = 64;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let ip_prefix = |ip| {
            let mut out = String::new();
            push_ip_prefix(ip, &mut out);
            out
        };
        assert_eq!(ip_prefix(parse_ip("10.1.2.3").unwrap()), "10.1.2.0/24");
        assert_eq!(ip_prefix(parse_ip("::ffff:10.1.2.3").unwrap()), "10.1.2.0/24");
        assert_eq!(ip_prefix(parse_ip("2001:db8:1:2::5").unwrap()), "2001:db8:1::/48");
        assert!(parse_ip("10.1.2").is_none());
        let mut out = String::from("stale");
        for text in ["0.0.0.0", "255.255.255.255", "1.20.100.9", "2001:db8::1", "::ffff:1.2.3.4"] {
            let ip = parse_ip(text).unwrap();
            write_ip(ip, &mut out);
            assert_eq!(out, ip.to_string());
        }
        out.clear();
        push_ip_prefix(parse_ip("9.80.255.7").unwrap(), &mut out);
        assert_eq!(out, "9.80.255.0/24");
        // It appends.
        push_ip_prefix(parse_ip("10.0.0.1").unwrap(), &mut out);
        assert_eq!(out, "9.80.255.0/2410.0.0.0/24");
        assert!(parse_ip("").is_none());
    }

    #[test]
    fn bounds() {
        assert!(validate_event(&Event::signup(0, "a")).is_ok());
        assert_eq!(validate_event(&Event::signup(0, "")).unwrap_err().0, InputProblem::Account);
        let long = "x".repeat(257);
        assert_eq!(validate_event(&Event::signup(0, long)).unwrap_err().0, InputProblem::Account);
        let bad_ip = Event::observe(0, "a", IndicatorKind::Ip, "1.2.3.4.5");
        assert_eq!(validate_event(&bad_ip).unwrap_err().0, InputProblem::Ip);
        let reason = Some("r".repeat(257));
        assert_eq!(
            validate_event(&Event::ban(0, "a", reason)).unwrap_err().0,
            InputProblem::Reason
        );
        assert!(clip(&"é".repeat(100)).len() <= 64);
    }
}
