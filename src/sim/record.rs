//! Compact simulated events ([`Rec`]) and how their values are spelled.
//!
//! The generator never builds strings: an event is 40 bytes of numbers
//! (time, account number, per-account sequence, operation, two codes), so
//! millions fit in memory and spill cheaply; values are formatted only when
//! written or turned into [`Event`]s.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::event::{Event, IndicatorKind, Timestamp};

/// One simulated event. Ordered by time, then account number, then the
/// account's own sequence, which makes the order total and deterministic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rec {
    pub(crate) ts: Timestamp,
    pub(crate) account: u64,
    pub(crate) seq: u32,
    pub(crate) op: u8,
    pub(crate) a: u64,
    pub(crate) b: u64,
}

/// Size of a [`Rec`] on disk.
pub(crate) const REC_BYTES: usize = 37;

impl Rec {
    pub(crate) fn encode(&self, out: &mut [u8; REC_BYTES]) {
        out[0..8].copy_from_slice(&self.ts.to_le_bytes());
        out[8..16].copy_from_slice(&self.account.to_le_bytes());
        out[16..20].copy_from_slice(&self.seq.to_le_bytes());
        out[20] = self.op;
        out[21..29].copy_from_slice(&self.a.to_le_bytes());
        out[29..37].copy_from_slice(&self.b.to_le_bytes());
    }

    pub(crate) fn decode(b: &[u8; REC_BYTES]) -> Rec {
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        Rec {
            ts: u64_at(0) as i64,
            account: u64_at(8),
            seq: u32::from_le_bytes(b[16..20].try_into().unwrap_or([0; 4])),
            op: b[20],
            a: u64_at(21),
            b: u64_at(29),
        }
    }
}

/// Operation codes of a [`Rec`]. Observations are `OBS + kind`.
pub(crate) mod op {
    pub(crate) const SIGNUP: u8 = 0;
    pub(crate) const BAN: u8 = 1;
    pub(crate) const UNBAN: u8 = 2;
    pub(crate) const IP: u8 = 10;
    pub(crate) const ASN: u8 = 11;
    pub(crate) const PAYMENT: u8 = 12;
    pub(crate) const DEVICE: u8 = 13;
    pub(crate) const TLS_FP: u8 = 14;
    pub(crate) const EMAIL: u8 = 15;
    pub(crate) const EMAIL_DOMAIN: u8 = 16;
    pub(crate) const PHONE: u8 = 17;
    pub(crate) const USER_AGENT: u8 = 18;
    pub(crate) const ORG: u8 = 19;
    pub(crate) const TEMPLATE: u8 = 20;
}

/// Ban reasons, by code (`a` of a ban record).
pub(crate) const BAN_REASONS: [&str; 3] = ["hydra", "spam", "chargeback"];

/// Domain codes: below this, a public mail provider.
pub(crate) const PUBLIC_DOMAINS: [&str; 8] = [
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "hotmail.com",
    "proton.me",
    "gmx.net",
    "aol.com",
];
/// Domain code bases for generated domains.
pub(crate) const DOMAIN_COMPANY: u64 = 1 << 32;
pub(crate) const DOMAIN_CAMPUS: u64 = 2 << 32;
pub(crate) const DOMAIN_OPERATOR: u64 = 3 << 32;

/// splitmix64: a fast, well-mixed hash of a 64-bit value.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

const ONSETS: [&str; 16] =
    ["b", "br", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"];
const VOWELS: [&str; 8] = ["a", "e", "i", "o", "u", "ai", "ea", "ou"];
const CODAS: [&str; 8] = ["", "n", "r", "l", "s", "x", "", "m"];

/// A pronounceable word of 2 or 3 syllables derived from `code`.
pub(crate) fn word(code: u64, out: &mut String) {
    let mut h = mix(code);
    let syllables = 2 + (h % 2) as usize;
    h >>= 1;
    for _ in 0..syllables {
        out.push_str(ONSETS[(h & 15) as usize]);
        out.push_str(VOWELS[((h >> 4) & 7) as usize]);
        out.push_str(CODAS[((h >> 7) & 7) as usize]);
        h >>= 10;
    }
}

fn domain(code: u64, out: &mut String) {
    if code < PUBLIC_DOMAINS.len() as u64 {
        out.push_str(PUBLIC_DOMAINS[code as usize]);
        return;
    }
    let (base, tld) = if code >= DOMAIN_OPERATOR {
        (DOMAIN_OPERATOR, ".net")
    } else if code >= DOMAIN_CAMPUS {
        (DOMAIN_CAMPUS, ".edu")
    } else {
        (DOMAIN_COMPANY, ".com")
    };
    let n = code - base;
    word(code, out);
    if base == DOMAIN_OPERATOR {
        out.push_str("-mail");
    }
    let _ = write!(out, "{n}{tld}");
}

const UA_FAMILIES: [&str; 8] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{}.0 Safari/605.1.15",
    "python-requests/2.{}.0",
    "OpenAI/Python 1.{}.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{}.0) Gecko/20100101 Firefox/{}.0",
    "node-fetch/3.{}",
    "curl/8.{}.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_{} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
];

fn user_agent(code: u64, out: &mut String) {
    let family = UA_FAMILIES[(code % UA_FAMILIES.len() as u64) as usize];
    let version =
        (code / UA_FAMILIES.len() as u64) % 40 + if code.is_multiple_of(8) { 110 } else { 1 };
    out.push_str(&family.replace("{}", &version.to_string()));
}

/// The kind and value of an observation record.
pub(crate) fn observation(rec: &Rec, value: &mut String) -> IndicatorKind {
    value.clear();
    let (a, b) = (rec.a, rec.b);
    match rec.op {
        op::IP => {
            let _ = write!(value, "{}", Ipv4Addr::from(a as u32));
            IndicatorKind::Ip
        }
        op::ASN => {
            let _ = write!(value, "{a}");
            IndicatorKind::Asn
        }
        op::PAYMENT => {
            let _ = write!(value, "pm_{:016x}", mix(a ^ 0x5041_594d));
            IndicatorKind::Payment
        }
        op::DEVICE => {
            let _ = write!(value, "dev_{:016x}", mix(a ^ 0x4445_5649));
            IndicatorKind::Device
        }
        op::TLS_FP => {
            let h = mix(a ^ 0x544c_5346);
            let _ = write!(value, "t13d{:02}{:02}h2_{:012x}", 10 + a % 8, 8 + a % 9, h >> 16);
            IndicatorKind::TlsFp
        }
        op::EMAIL => {
            word(a, value);
            let _ = write!(value, ".{}@", a % 1000);
            domain(b, value);
            IndicatorKind::Email
        }
        op::EMAIL_DOMAIN => {
            domain(b, value);
            IndicatorKind::EmailDomain
        }
        op::PHONE => {
            let _ = write!(value, "+1{:010}", mix(a ^ 0x50484f4e) % 10_000_000_000);
            IndicatorKind::Phone
        }
        op::USER_AGENT => {
            user_agent(a, value);
            IndicatorKind::UserAgent
        }
        op::ORG => {
            let mut w = String::new();
            word(a ^ 0x004f_5247, &mut w);
            let mut chars = w.chars();
            if let Some(first) = chars.next() {
                value.extend(first.to_uppercase());
                value.push_str(chars.as_str());
            }
            let suffix = ["Inc", "GmbH", "Ltd", "LLC", "SAS", "BV"][(a % 6) as usize];
            let _ = write!(value, " {suffix}");
            IndicatorKind::Org
        }
        _ => {
            let _ = write!(value, "tpl_{:012x}", mix(a ^ 0x54504c) >> 16);
            IndicatorKind::Template
        }
    }
}

/// Formats account number `n` as an id of fixed `width` digits, so that
/// string order equals numeric order.
pub(crate) fn account_name(n: u64, width: usize, out: &mut String) {
    let _ = write!(out, "a{n:0width$}");
}

/// Turns a record into an [`Event`].
pub(crate) fn to_event(rec: &Rec, width: usize) -> Event {
    let mut account = String::with_capacity(width + 1);
    account_name(rec.account, width, &mut account);
    match rec.op {
        op::SIGNUP => Event::signup(rec.ts, account),
        op::BAN => Event::ban(rec.ts, account, Some(BAN_REASONS[rec.a as usize % 3].to_owned())),
        op::UNBAN => Event::unban(rec.ts, account),
        _ => {
            let mut value = String::new();
            let kind = observation(rec, &mut value);
            Event::observe(rec.ts, account, kind, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::normalize::validate_event;

    #[test]
    fn records_round_trip_through_bytes() {
        let r = Rec { ts: -5, account: 77, seq: 3, op: op::TEMPLATE, a: u64::MAX, b: 9 };
        let mut buf = [0; REC_BYTES];
        r.encode(&mut buf);
        assert_eq!(Rec::decode(&buf), r);
    }

    #[test]
    fn every_operation_makes_a_valid_event() {
        for o in [0, 1, 2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20] {
            for a in [0u64, 1, 7, 12345, u64::MAX >> 1] {
                for b in [0, 3, DOMAIN_COMPANY + 5, DOMAIN_CAMPUS + 2, DOMAIN_OPERATOR + 1] {
                    let r = Rec { ts: 1, account: a, seq: 0, op: o, a, b };
                    let e = to_event(&r, 8);
                    validate_event(&e).unwrap();
                }
            }
        }
        let r =
            Rec { ts: 1, account: 42, seq: 0, op: op::EMAIL_DOMAIN, a: 0, b: DOMAIN_CAMPUS + 2 };
        let mut v = String::new();
        observation(&r, &mut v);
        assert!(v.ends_with("2.edu"), "{v}");
        let mut name = String::new();
        account_name(42, 6, &mut name);
        assert_eq!(name, "a000042");
    }
}
