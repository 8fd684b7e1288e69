//! Find hydra clusters: networks of accounts that one operator runs through
//! proxy services, replacing every banned account with a fresh one.
//!
//! ```
//! use hydra_detect::{Config, Detector, Event, Flag, IndicatorKind};
//!
//! let t0 = 1_767_225_600; // 2026-01-01T00:00:00Z
//! let mut events = Vec::new();
//! // Eight accounts sharing a small pool of cards and a rare template, in lockstep.
//! for i in 0..8i64 {
//!     let account = format!("op-{i}");
//!     events.push(Event::signup(t0 + i * 60, &account));
//!     events.push(Event::observe(t0 + 600, &account, IndicatorKind::Payment, format!("card-{}", i % 2)));
//!     events.push(Event::observe(t0 + 660, &account, IndicatorKind::Template, "tpl-distill-7f3a"));
//!     events.push(Event::observe(t0 + 720, &account, IndicatorKind::Ip, format!("203.0.113.{}", i % 3)));
//! }
//! let detection = Detector::new(Config::new()).detect_events(events)?;
//! assert_eq!(detection.accounts.len(), 8);
//! for verdict in &detection.accounts {
//!     println!("{} {}", verdict.account, Flag::name(verdict.flag));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Overview
//!
//! The pipeline runs left to right, each stage a function over plain data:
//!
//! 1. **Ingest** ([`EventReader`], [`read_events`]): CSV or JSON Lines,
//!    optionally gzip, validated field by field (docs/FORMATS.md); strict by
//!    default, lenient on request ([`IngestConfig`]).
//! 2. **Index**: accounts and indicators interned in sorted key order, links
//!    with first/last seen and counts, signups, bans, activity minutes.
//! 3. **Graph** ([`GraphConfig`]): accounts linked through shared indicators,
//!    weighted by kind × specificity × time, with a supernode cap.
//! 4. **Communities** ([`community`]): Leiden (CPM or modularity), connected
//!    components, label propagation.
//! 5. **Scoring** ([`ScoreConfig`]): signals per community, a risk score in
//!    [0, 1], replacement accounts, evidence and lifecycle.
//! 6. **Report** ([`Detection`], [`write_accounts_csv`], [`write_clusters_json`],
//!    [`write_html`], [`write_graphml`], [`redact`]).
//!
//! # Batch
//!
//! [`Detector`] runs the whole pipeline over a file ([`Detector::detect_path`])
//! or events in memory ([`Detector::detect_events`]) and returns a
//! [`Detection`]; [`Detector::explain`] says, for an appeal, why one account
//! is or is not flagged.
//!
//! # Streaming
//!
//! [`Watcher`] takes events in arrival order and flags replacement accounts
//! at the event that links them to banned accounts' infrastructure, with
//! evidence; [`DurableWatcher`] adds a checksummed log with group commit and
//! snapshots so that a restart loses no acknowledged event.
//!
//! # Tuning
//!
//! Every knob lives in [`Config`] (one field per stage, TOML via
//! [`Config::from_toml_str`]); `hydra detect --print-config` prints the
//! defaults. The simulator ([`sim`]) and the evaluation ([`eval`]) measure
//! the effect of a change against ground truth.
//!
//! # Adversarial input
//!
//! - Records longer than [`IngestConfig`]'s maximum are rejected, so one
//!   unclosed quote cannot read a whole file into memory.
//! - An indicator shared by more accounts than the supernode cap (carrier NAT,
//!   VPN exits, popular templates) gets no all-pairs linking: only accounts seen
//!   on it within the same short window link, each window capped. Projection
//!   costs `O(Σ min(deg, cap)²)`.
//! - Caller-supplied lists of known shared values and networks are
//!   down-weighted.
//! - The watcher evicts links idle for longer than its horizon.
//!
//! # Crate features
//!
//! - `cli` (default): the `hydra` binary and the crates only it needs.
//! - `distributed` (off by default): the `dist` module and `hydra dist`, the batch
//!   pipeline over several worker processes on timely dataflow. Without it,
//!   timely is not compiled.
//! - `parquet`: Parquet input (a `.parquet` file, or
//!   `Format::Parquet`) and detection over Arrow record batches (the
//!   `arrow` module, `Detector::detect_batches`), with arrow-rs 59.

/// The README's Rust examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod community;
#[cfg(feature = "distributed")]
pub mod dist;
pub mod eval;
pub mod sim;

mod config;
mod detect;
mod error;
mod event;
mod graph;
mod id;
mod index;
mod ingest;
pub mod progress;
mod report;
mod score;
mod watch;

pub use crate::config::Config;
pub use crate::config::{DEFAULT_CPM_RESOLUTION, DEFAULT_TOP_K};
pub use crate::detect::{
    Analysis, ClusterNote, Detector, Explanation, IndicatorNote, LinkNote, WarmStart,
};
pub use crate::error::{Error, ErrorKind, InputProblem, Result};
pub use crate::event::{
    Action, Event, Indicator, IndicatorKind, KindError, MAX_ACCOUNT_LEN, MAX_KIND_LEN,
    MAX_REASON_LEN, MAX_VALUE_LEN, Timestamp,
};
pub use crate::graph::{AccountEdges, EventIndex, GraphBuilder, GraphConfig, GraphSummary};
pub use crate::id::{AccountId, ClusterId, IndicatorId};
pub use crate::ingest::{EventReader, Format, IngestConfig, Record, SkipCounts, read_events};
// Detection over Arrow record batches (feature `parquet`).
#[cfg(feature = "parquet")]
pub use crate::ingest::arrow;
pub use crate::report::{
    AccountVerdict, CLUSTERS_SCHEMA, CellReport, ClusterEvidence, ClusterReport, Detection,
    Evidence, Flag, IndicatorCount, Lifecycle, MemberCounts, ReplacementReport, RunInfo,
    SignalReport,
};
pub use crate::report::{
    GraphmlConfig, IndicatorHolders, redact, write_accounts_csv, write_clusters_json,
    write_graphml, write_graphml_with, write_html,
};
pub use crate::score::{ScoreConfig, Signal, Weights};
pub use crate::watch::{
    ApplyOutcome, DurabilityConfig, DurableWatcher, FLAG_SCHEMA, KindWeight, Recluster,
    WatchConfig, WatchFlag, WatchFlagKind, Watcher,
};
