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
//! - [`GraphmlConfig`] chooses what `clusters.graphml` holds; with
//!   [`IndicatorHolders`] (from the run's
//!   [`Analysis`](crate::Analysis::indicator_holders)) it also draws the
//!   indicator values the evidence names as nodes.

mod accounts;
mod clusters;
mod graphml;
mod html;
mod model;
mod redact;
mod svg;

use std::borrow::Cow;

pub(crate) use accounts::undefuse;
pub use accounts::write_accounts_csv;
pub use clusters::write_clusters_json;
pub use graphml::{GraphmlConfig, IndicatorHolders, write_graphml, write_graphml_with};
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

/// Whether XML 1.0 cannot carry `c` at all, not even as a character
/// reference: controls other than tab and newlines, U+FFFE and U+FFFF.
pub(crate) fn xml_forbidden(c: char) -> bool {
    matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// `text` safe inside HTML or XML text and attribute values: the five
/// special characters become entities, a carriage return becomes `&#13;`
/// (a raw one would read back as a line feed), and characters XML 1.0
/// cannot carry ([`xml_forbidden`]) become U+FFFD; where ids must survive,
/// escape those first (see `graphml.rs`).
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    let special = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'' | '\r') || xml_forbidden(c);
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
            '\r' => out.push_str("&#13;"),
            c if special(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}
