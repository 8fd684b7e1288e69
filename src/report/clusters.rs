//! `clusters.json`: the run manifest, the hydra clusters ranked by score, and
//! the replacements.

use std::io::Write;

use serde::Serialize;

use super::model::{
    CLUSTERS_SCHEMA, CellReport, ClusterEvidence, ClusterReport, Detection, Lifecycle,
    MemberCounts, ReplacementReport, RunInfo, SignalReport,
};
use super::write_error;
use crate::error::Result;
use crate::id::ClusterId;

/// The file as docs/FORMATS.md spells it; borrowed so writing copies nothing.
#[derive(Serialize)]
struct ClustersFile<'a> {
    schema: &'static str,
    run: RunEntry<'a>,
    clusters: Vec<ClusterEntry<'a>>,
    replacements: &'a [ReplacementReport],
}

/// The run manifest, with exactly the contract's field names (none of the
/// timings or raw skipped rows that [`RunInfo`] also holds).
#[derive(Serialize)]
struct RunEntry<'a> {
    version: &'a str,
    input: &'a str,
    input_sha256: &'a str,
    config: &'a serde_json::Value,
    seed: u64,
    events: u64,
    skipped_rows: &'a std::collections::BTreeMap<String, u64>,
}

impl<'a> RunEntry<'a> {
    fn new(run: &'a RunInfo) -> Self {
        Self {
            version: &run.version,
            input: &run.input,
            input_sha256: &run.input_sha256,
            config: &run.config,
            seed: run.seed,
            events: run.events,
            skipped_rows: &run.skipped_rows,
        }
    }
}

/// One hydra cluster, with exactly the contract's field names.
#[derive(Serialize)]
struct ClusterEntry<'a> {
    id: &'a ClusterId,
    score: f64,
    size: usize,
    members: &'a MemberCounts,
    signals: &'a [SignalReport],
    evidence: &'a ClusterEvidence,
    lifecycle: &'a Lifecycle,
    #[serde(skip_serializing_if = "<[CellReport]>::is_empty")]
    cells: &'a [CellReport],
}

/// The clusters judged hydras, ranked by score (highest first, ties by id),
/// whatever order `detection.clusters` holds them in.
pub(crate) fn ranked_hydras(detection: &Detection) -> Vec<&ClusterReport> {
    let mut hydras: Vec<&ClusterReport> = detection.hydra_clusters().collect();
    hydras.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    hydras
}

/// Writes `clusters.json` (schema `hydra-detect/clusters/1`): the `run`
/// manifest, every cluster judged a hydra ranked by score, and every
/// replacement (`cluster` is `null` for one in no community). Pretty-printed,
/// ending with a newline.
///
/// # Errors
///
/// Returns an [`ErrorKind::Io`](crate::ErrorKind::Io) error if writing fails.
///
/// # Examples
///
/// ```
/// use hydra_detect::{Detection, write_clusters_json};
///
/// let mut out = Vec::new();
/// write_clusters_json(&Detection::default(), &mut out)?;
/// let json: serde_json::Value = serde_json::from_slice(&out)?;
/// assert_eq!(json["schema"], "hydra-detect/clusters/1");
/// assert_eq!(json["clusters"], serde_json::json!([]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Complexity
///
/// Time `O(s + h log h)` for output size `s` and `h` hydra clusters.
pub fn write_clusters_json(detection: &Detection, mut out: impl Write) -> Result<()> {
    let file = ClustersFile {
        schema: CLUSTERS_SCHEMA,
        run: RunEntry::new(&detection.run),
        clusters: ranked_hydras(detection)
            .into_iter()
            .map(|c| ClusterEntry {
                id: &c.id,
                score: c.score,
                size: c.size,
                members: &c.members,
                signals: &c.signals,
                evidence: &c.evidence,
                lifecycle: &c.lifecycle,
                cells: &c.cells,
            })
            .collect(),
        replacements: &detection.replacements,
    };
    serde_json::to_writer_pretty(&mut out, &file).map_err(write_error("clusters.json"))?;
    out.write_all(b"\n").map_err(write_error("clusters.json"))?;
    out.flush().map_err(write_error("clusters.json"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(id: &str, score: f64, hydra: bool) -> ClusterReport {
        ClusterReport {
            id: ClusterId::new(id),
            score,
            hydra,
            size: 2,
            members: MemberCounts::default(),
            signals: vec![],
            evidence: ClusterEvidence::default(),
            lifecycle: Lifecycle::default(),
            cells: Vec::new(),
            member_ids: vec!["a".into(), "b".into()],
            sample_edges: vec![],
        }
    }

    #[test]
    fn only_hydras_ranked_by_score_then_id() {
        let mut d = Detection::default();
        d.clusters.push(cluster("c-z", 0.5, true));
        d.clusters.push(cluster("c-x", 0.99, false));
        d.clusters.push(cluster("c-b", 0.9, true));
        d.clusters.push(cluster("c-a", 0.9, true));
        let mut out = Vec::new();
        write_clusters_json(&d, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let ids: Vec<&str> =
            v["clusters"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["c-a", "c-b", "c-z"]);
        let keys: Vec<&String> = v["clusters"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["evidence", "id", "lifecycle", "members", "score", "signals", "size"]);
    }
}
