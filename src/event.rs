//! Events: what happened to which account, and when.
//!
//! # Overview
//!
//! - [`Event`] is one row of the input stream (docs/FORMATS.md): a time, an account
//!   and an [`Action`].
//! - [`Action`] is what happened: a signup, an observation of an
//!   [`Indicator`], a ban (with an optional reason) or an unban.
//! - [`IndicatorKind`] names what an indicator is (IP, payment method, device,
//!   ...); any other lowercase token is a custom kind with default weight.
//!
//! Constructors here validate what the contract bounds (lengths, kind syntax)
//! so that no stage downstream has to.

use std::borrow::Cow;
use std::fmt;

/// Event time: integer unix seconds.
pub type Timestamp = i64;

/// Longest account id accepted, in bytes of UTF-8.
pub const MAX_ACCOUNT_LEN: usize = 256;
/// Longest indicator value accepted, in bytes of UTF-8.
pub const MAX_VALUE_LEN: usize = 1024;
/// Longest ban reason accepted, in bytes of UTF-8.
pub const MAX_REASON_LEN: usize = 256;
/// Longest indicator kind accepted, in bytes.
pub const MAX_KIND_LEN: usize = 32;

/// What an indicator is. Kinds with built-in meaning get their own variant;
/// any other lowercase `[a-z0-9_]{1,32}` token is [`IndicatorKind::Custom`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum IndicatorKind {
    /// Client IP address, v4 or v6.
    Ip,
    /// The /24 (v4) or /48 (v6) prefix of an `ip`, derived by the library.
    IpPrefix,
    /// Autonomous system number of the IP, supplied by the caller.
    Asn,
    /// Payment-method fingerprint (card hash, wallet id). A hard link.
    Payment,
    /// Device or browser fingerprint.
    Device,
    /// TLS client fingerprint (JA3/JA4); many legitimate clients share one.
    TlsFp,
    /// Normalized e-mail address. A hard link.
    Email,
    /// Domain part of the e-mail.
    EmailDomain,
    /// Normalized phone number. A hard link.
    Phone,
    /// HTTP user agent; low specificity.
    UserAgent,
    /// Organization name given at signup.
    Org,
    /// Hash of a prompt template or request shape (behavioural fingerprint).
    Template,
    /// Any other lowercase token, weighted by default.
    Custom(Box<str>),
}

impl IndicatorKind {
    /// Every kind with built-in meaning, in declaration order.
    pub const BUILT_IN: [IndicatorKind; 12] = [
        IndicatorKind::Ip,
        IndicatorKind::IpPrefix,
        IndicatorKind::Asn,
        IndicatorKind::Payment,
        IndicatorKind::Device,
        IndicatorKind::TlsFp,
        IndicatorKind::Email,
        IndicatorKind::EmailDomain,
        IndicatorKind::Phone,
        IndicatorKind::UserAgent,
        IndicatorKind::Org,
        IndicatorKind::Template,
    ];

    /// Parses a kind token as written in the input.
    ///
    /// # Errors
    ///
    /// Returns a [`KindError`] naming the token if it is empty, longer than
    /// [`MAX_KIND_LEN`] or not made of `[a-z0-9_]`.
    pub fn parse(token: &str) -> Result<Self, KindError> {
        Ok(match token {
            "ip" => Self::Ip,
            "ip_prefix" => Self::IpPrefix,
            "asn" => Self::Asn,
            "payment" => Self::Payment,
            "device" => Self::Device,
            "tls_fp" => Self::TlsFp,
            "email" => Self::Email,
            "email_domain" => Self::EmailDomain,
            "phone" => Self::Phone,
            "user_agent" => Self::UserAgent,
            "org" => Self::Org,
            "template" => Self::Template,
            _ => {
                let ok = !token.is_empty()
                    && token.len() <= MAX_KIND_LEN
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !ok {
                    return Err(KindError { token: token.to_owned() });
                }
                Self::Custom(token.into())
            }
        })
    }

    /// The kind as written in the input and in reports.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Ip => "ip",
            Self::IpPrefix => "ip_prefix",
            Self::Asn => "asn",
            Self::Payment => "payment",
            Self::Device => "device",
            Self::TlsFp => "tls_fp",
            Self::Email => "email",
            Self::EmailDomain => "email_domain",
            Self::Phone => "phone",
            Self::UserAgent => "user_agent",
            Self::Org => "org",
            Self::Template => "template",
            Self::Custom(s) => s,
        }
    }

    /// The kind's position in [`IndicatorKind::BUILT_IN`], or `None` for a
    /// custom kind. A `match`, not a search: callers use it per observation.
    pub const fn built_in_index(&self) -> Option<usize> {
        Some(match self {
            Self::Ip => 0,
            Self::IpPrefix => 1,
            Self::Asn => 2,
            Self::Payment => 3,
            Self::Device => 4,
            Self::TlsFp => 5,
            Self::Email => 6,
            Self::EmailDomain => 7,
            Self::Phone => 8,
            Self::UserAgent => 9,
            Self::Org => 10,
            Self::Template => 11,
            Self::Custom(_) => return None,
        })
    }

    /// Whether one shared value of this kind is, on its own, strong evidence
    /// that two accounts have one owner (payment, e-mail, phone).
    pub fn is_hard(&self) -> bool {
        matches!(self, Self::Payment | Self::Email | Self::Phone)
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a kind as [`IndicatorKind::parse`] does: the CSV `kind` names.
///
/// ```
/// use hydra_detect::IndicatorKind;
///
/// assert_eq!("payment".parse::<IndicatorKind>()?, IndicatorKind::Payment);
/// assert_eq!("ja4".parse::<IndicatorKind>()?.as_str(), "ja4");
/// assert!("Not A Kind".parse::<IndicatorKind>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl std::str::FromStr for IndicatorKind {
    type Err = KindError;

    fn from_str(token: &str) -> Result<Self, KindError> {
        IndicatorKind::parse(token)
    }
}

impl serde::Serialize for IndicatorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for IndicatorKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let token = Cow::<'de, str>::deserialize(d)?;
        IndicatorKind::parse(&token).map_err(serde::de::Error::custom)
    }
}

/// A kind token that is not lowercase `[a-z0-9_]{1,32}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindError {
    token: String,
}

impl KindError {
    /// The offending token.
    pub fn token(&self) -> &str {
        &self.token
    }
}

impl fmt::Display for KindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid indicator kind {:?} (expected lowercase [a-z0-9_], 1 to 32 bytes)",
            self.token
        )
    }
}

impl std::error::Error for KindError {}

/// One shared infrastructure value: what it is and its value.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Indicator {
    /// What the value is.
    pub kind: IndicatorKind,
    /// The value, 1..=1024 bytes of UTF-8.
    pub value: String,
}

impl Indicator {
    /// An indicator of `kind` with `value`.
    pub fn new(kind: IndicatorKind, value: impl Into<String>) -> Self {
        Self { kind, value: value.into() }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.kind, self.value)
    }
}

/// What happened to an account.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// The account was created.
    Signup,
    /// The account was seen on an indicator.
    Observe(Indicator),
    /// The account was banned, with an optional free-text reason.
    Ban {
        /// Why, e.g. `hydra`, `spam`, `chargeback`; at most 256 bytes.
        reason: Option<String>,
    },
    /// An earlier ban was lifted.
    Unban,
}

impl Action {
    /// The `event` column value: `signup`, `observe`, `ban` or `unban`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Signup => "signup",
            Action::Observe(_) => "observe",
            Action::Ban { .. } => "ban",
            Action::Unban => "unban",
        }
    }
}

/// The `event` column value, as [`Action::name`].
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One input event (a row of the event stream of docs/FORMATS.md).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Event {
    /// Event time, unix seconds.
    pub ts: Timestamp,
    /// Opaque account id, 1..=256 bytes of UTF-8.
    pub account: String,
    /// What happened.
    pub action: Action,
}

impl Event {
    /// A signup of `account` at `ts`.
    pub fn signup(ts: Timestamp, account: impl Into<String>) -> Self {
        Self { ts, account: account.into(), action: Action::Signup }
    }

    /// An observation of `account` on the indicator `kind`=`value` at `ts`.
    pub fn observe(
        ts: Timestamp,
        account: impl Into<String>,
        kind: IndicatorKind,
        value: impl Into<String>,
    ) -> Self {
        Self { ts, account: account.into(), action: Action::Observe(Indicator::new(kind, value)) }
    }

    /// A ban of `account` at `ts`, with an optional reason.
    pub fn ban(ts: Timestamp, account: impl Into<String>, reason: Option<String>) -> Self {
        Self { ts, account: account.into(), action: Action::Ban { reason } }
    }

    /// An unban of `account` at `ts`.
    pub fn unban(ts: Timestamp, account: impl Into<String>) -> Self {
        Self { ts, account: account.into(), action: Action::Unban }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_their_names_and_actions_display_their_event_word() {
        for kind in IndicatorKind::BUILT_IN {
            assert_eq!(kind.as_str().parse::<IndicatorKind>(), Ok(kind.clone()));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!("ja4".parse::<IndicatorKind>().map(|k| k.to_string()), Ok("ja4".to_owned()));
        let err = "IP".parse::<IndicatorKind>().unwrap_err();
        assert_eq!(err.token(), "IP");
        let actions = [
            (Action::Signup, "signup"),
            (Action::Observe(Indicator::new(IndicatorKind::Ip, "192.0.2.1")), "observe"),
            (Action::Ban { reason: Some("spam".into()) }, "ban"),
            (Action::Unban, "unban"),
        ];
        for (action, word) in actions {
            assert_eq!(action.to_string(), word);
        }
    }

    #[test]
    fn built_in_kinds_round_trip() {
        for (i, kind) in IndicatorKind::BUILT_IN.into_iter().enumerate() {
            assert_eq!(kind.built_in_index(), Some(i));
            assert_eq!(IndicatorKind::parse(kind.as_str()).unwrap(), kind);
        }
        assert_eq!(IndicatorKind::Custom("x".into()).built_in_index(), None);
    }

    #[test]
    fn custom_kinds_are_validated() {
        assert_eq!(IndicatorKind::parse("ja4_x").unwrap(), IndicatorKind::Custom("ja4_x".into()));
        for bad in ["", "IP", "a-b", "é", &"a".repeat(33)] {
            let err = IndicatorKind::parse(bad).unwrap_err();
            assert_eq!(err.token(), bad);
        }
    }

    #[test]
    fn hard_kinds() {
        assert!(IndicatorKind::Payment.is_hard());
        assert!(!IndicatorKind::Ip.is_hard());
    }
}
