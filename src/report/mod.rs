//! Reports: [`Detection`] and its parts, and the writers of `accounts.csv`,
//! `clusters.json`, `report.html` and `clusters.graphml`.

mod model;

pub use model::{
    AccountVerdict, CLUSTERS_SCHEMA, ClusterEvidence, ClusterReport, Detection, Evidence, Flag,
    IndicatorCount, Lifecycle, MemberCounts, ReplacementReport, RunInfo, SignalReport,
};
