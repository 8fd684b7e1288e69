//! Find hydra clusters: networks of accounts one operator runs through proxy
//! services, replacing every banned account with a fresh one.
//!
//! (Crate documentation: see README.md. Filled in as the pipeline lands.)

pub mod community;
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
mod report;
mod score;
mod watch;

pub use crate::config::Config;
pub use crate::error::{Error, ErrorKind, InputProblem, Result};
pub use crate::event::{
    Action, Event, Indicator, IndicatorKind, KindError, MAX_ACCOUNT_LEN, MAX_KIND_LEN,
    MAX_REASON_LEN, MAX_VALUE_LEN, Timestamp,
};
pub use crate::graph::{EventIndex, GraphBuilder, GraphConfig, GraphSummary};
// `EventIndex::to_petgraph` returns a petgraph graph: name the crate it comes from.
pub use crate::config::{DEFAULT_CPM_RESOLUTION, DEFAULT_TOP_K};
pub use crate::detect::{Analysis, ClusterNote, Detector, Explanation, IndicatorNote, LinkNote};
pub use crate::id::{AccountId, ClusterId, IndicatorId};
pub use crate::ingest::{EventReader, Format, IngestConfig, Record, SkipCounts, read_events};
pub use crate::report::{
    AccountVerdict, CLUSTERS_SCHEMA, ClusterEvidence, ClusterReport, Detection, Evidence, Flag,
    IndicatorCount, Lifecycle, MemberCounts, ReplacementReport, RunInfo, SignalReport,
};
pub use crate::report::{
    redact, write_accounts_csv, write_clusters_json, write_graphml, write_html,
};
pub use crate::score::{ScoreConfig, Signal, Weights};
pub use crate::watch::{
    ApplyOutcome, DurabilityConfig, DurableWatcher, FLAG_SCHEMA, KindWeight, WatchConfig,
    WatchFlag, WatchFlagKind, Watcher,
};
pub use petgraph;
