//! Reports: [`Detection`] and its parts, and the writers of `accounts.csv`,
//! `clusters.json`, `report.html` and `clusters.graphml`.
//!
//! # Overview
//!
//! - [`Detection`] is the contract-shaped result of a batch run.
//! - [`write_accounts_csv`], [`write_clusters_json`], [`write_html`] and
//!   [`write_graphml`] each write one file from a `&Detection` to any
//!   [`Write`](std::io::Write); they never change the detection.
//! - [`redact`] returns a copy with indicator values replaced by keyed
//!   hashes; write that copy to share a report without personal data.

mod accounts;
mod clusters;
mod graphml;
mod html;
mod model;
mod redact;
mod svg;

use std::borrow::Cow;

pub use accounts::write_accounts_csv;
pub use clusters::write_clusters_json;
pub use graphml::write_graphml;
pub use html::write_html;
pub use model::{
    AccountVerdict, CLUSTERS_SCHEMA, CellReport, ClusterEvidence, ClusterReport, Detection,
    Evidence, Flag, IndicatorCount, Lifecycle, MemberCounts, ReplacementReport, RunInfo,
    SignalReport,
};
pub use redact::redact;

use crate::error::Error;

/// Maps a writer's error to the crate's I/O error naming the file.
pub(crate) fn write_error<E: Into<std::io::Error>>(file: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::io(format!("cannot write {file}"), None, e.into())
}

/// `text` safe inside HTML or XML text and attribute values: the five
/// special characters become entities, and characters XML 1.0 cannot carry
/// (controls other than tab and newlines) become U+FFFD.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    let special = |c: char| {
        matches!(c, '&' | '<' | '>' | '"' | '\'')
            || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            || matches!(c, '\u{fffe}' | '\u{ffff}')
    };
    if !text.contains(special) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if special(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}
