//! Batch detection: `Detector::detect_path` (and, with Arrow input,
//! `Detector::detect_batches`), the `Detection` it returns, and `explain`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use hydra_detect::arrow::{arrow_array::RecordBatch, events_from_batch};
use hydra_detect::{Detection, Detector, Event, Flag};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::input::AnyRecordBatch;

use crate::config::detection_config;
use crate::{invalid, json, to_py};

/// The result of a batch run (`hydra_detect.Detection` wraps it).
#[pyclass(frozen, module = "hydra_detect._native")]
pub(crate) struct NativeDetection {
    pub(crate) detection: Detection,
}

/// The report files `hydra detect --out` writes, in the order written.
const REPORTS: [&str; 4] = ["accounts.csv", "clusters.json", "report.html", "clusters.graphml"];

#[pymethods]
impl NativeDetection {
    /// The columns of `accounts.csv` (account, cluster, score, flag), one
    /// entry per account sorted by account; the score unrounded, `None`
    /// outside a community; a listed replacement's flag is `replacement`.
    fn accounts_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = &self.detection;
        let replacements: BTreeSet<&str> =
            d.replacements.iter().map(|r| r.account.as_str()).collect();
        let mut rows: Vec<_> = d.accounts.iter().collect();
        rows.sort_by(|a, b| a.account.cmp(&b.account));
        let account: Vec<&str> = rows.iter().map(|v| v.account.as_str()).collect();
        let cluster: Vec<Option<&str>> =
            rows.iter().map(|v| v.cluster.as_ref().map(|c| c.as_str())).collect();
        let score: Vec<Option<f64>> =
            rows.iter().map(|v| if v.cluster.is_some() { v.score } else { None }).collect();
        let flag: Vec<&str> = rows
            .iter()
            .map(|v| {
                if replacements.contains(v.account.as_str()) {
                    Flag::Replacement.as_str()
                } else {
                    Flag::name(v.flag)
                }
            })
            .collect();
        let out = PyDict::new(py);
        out.set_item("account", account)?;
        out.set_item("cluster", cluster)?;
        out.set_item("score", score)?;
        out.set_item("flag", flag)?;
        Ok(out)
    }

    /// Every scored community as JSON (clusters.json's cluster objects, plus
    /// `member_ids`, the sorted member ids), ranked by score.
    fn clusters_json(&self) -> PyResult<String> {
        let mut out = Vec::with_capacity(self.detection.clusters.len());
        for c in &self.detection.clusters {
            let mut value = serde_json::to_value(c)
                .map_err(|e| invalid(format!("cannot encode cluster {}: {e}", c.id)))?;
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("member_ids".to_owned(), serde_json::json!(c.member_ids));
            }
            out.push(value);
        }
        json(&out)
    }

    /// The replacements as JSON (clusters.json's `replacements`), by account.
    fn replacements_json(&self) -> PyResult<String> {
        json(&self.detection.replacements)
    }

    /// The run manifest as JSON (clusters.json's `run`).
    fn run_json(&self) -> PyResult<String> {
        json(&self.detection.run)
    }

    /// `accounts.csv` exactly as `hydra detect` writes it.
    fn accounts_csv(&self) -> PyResult<String> {
        let mut out = Vec::new();
        hydra_detect::write_accounts_csv(&self.detection, &mut out).map_err(to_py)?;
        String::from_utf8(out).map_err(|e| invalid(format!("accounts.csv is not UTF-8: {e}")))
    }

    /// `clusters.json` exactly as `hydra detect` writes it.
    fn clusters_json_file(&self) -> PyResult<String> {
        let mut out = Vec::new();
        hydra_detect::write_clusters_json(&self.detection, &mut out).map_err(to_py)?;
        String::from_utf8(out).map_err(|e| invalid(format!("clusters.json is not UTF-8: {e}")))
    }

    /// Writes accounts.csv, clusters.json, report.html and clusters.graphml
    /// into `dir` (created if missing), each file whole or not at all, and
    /// returns their paths.
    fn write(&self, py: Python<'_>, dir: PathBuf) -> PyResult<Vec<PathBuf>> {
        py.detach(|| write_reports(&self.detection, &dir))
    }
}

/// Writes the four report files of `detection` into `dir`.
fn write_reports(detection: &Detection, dir: &Path) -> PyResult<Vec<PathBuf>> {
    let io = |what: String| {
        move |e: std::io::Error| pyo3::exceptions::PyOSError::new_err(format!("{what}: {e}"))
    };
    std::fs::create_dir_all(dir)
        .map_err(io(format!("cannot create output directory {}", dir.display())))?;
    let mut written = Vec::with_capacity(REPORTS.len());
    for name in REPORTS {
        let mut file = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .tempfile_in(dir)
            .map_err(io(format!("cannot write into output directory {}", dir.display())))?;
        {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, file.as_file_mut());
            match name {
                "accounts.csv" => hydra_detect::write_accounts_csv(detection, &mut w),
                "clusters.json" => hydra_detect::write_clusters_json(detection, &mut w),
                "report.html" => hydra_detect::write_html(detection, &mut w),
                _ => hydra_detect::write_graphml(detection, &mut w),
            }
            .map_err(to_py)?;
            w.flush().map_err(io(format!("cannot write {name}")))?;
        }
        file.as_file().sync_all().map_err(io(format!("cannot write {name}")))?;
        let path = dir.join(name);
        file.persist(&path).map_err(|e| io(format!("cannot write {}", path.display()))(e.error))?;
        written.push(path);
    }
    Ok(written)
}

/// Runs detection over the event file at `path` (CSV, JSON Lines, gzip).
#[pyfunction]
#[pyo3(signature = (path, config_toml, lenient = false, format = None, seed = None))]
pub(crate) fn detect_path(
    py: Python<'_>,
    path: PathBuf,
    config_toml: &str,
    lenient: bool,
    format: Option<&str>,
    seed: Option<u64>,
) -> PyResult<NativeDetection> {
    let config = detection_config(config_toml, lenient, format, seed)?;
    let detection = py.detach(|| Detector::new(config).detect_path(&path)).map_err(to_py)?;
    Ok(NativeDetection { detection })
}

/// Explains the verdict on `account` in the event file at `path`, as the
/// JSON of `hydra explain --json`.
#[pyfunction]
#[pyo3(signature = (path, account, config_toml, lenient = false, format = None, seed = None))]
pub(crate) fn explain_path(
    py: Python<'_>,
    path: PathBuf,
    account: &str,
    config_toml: &str,
    lenient: bool,
    format: Option<&str>,
    seed: Option<u64>,
) -> PyResult<String> {
    let config = detection_config(config_toml, lenient, format, seed)?;
    let explanation = py.detach(|| Detector::new(config).explain(&path, account)).map_err(to_py)?;
    json(&explanation)
}

/// The record batches of an Arrow table or stream from Python.
pub(crate) fn batches(data: AnyRecordBatch) -> PyResult<Vec<RecordBatch>> {
    let reader = data.into_reader()?;
    let mut out = Vec::new();
    for batch in reader {
        out.push(batch.map_err(|e| invalid(format!("cannot read the Arrow data: {e}")))?);
    }
    Ok(out)
}

/// Runs detection over Arrow data (a pyarrow Table, a RecordBatch or any
/// Arrow PyCapsule stream) with the event columns.
#[pyfunction]
#[pyo3(signature = (data, config_toml, lenient = false, seed = None))]
pub(crate) fn detect_arrow(
    py: Python<'_>,
    data: AnyRecordBatch,
    config_toml: &str,
    lenient: bool,
    seed: Option<u64>,
) -> PyResult<NativeDetection> {
    let config = detection_config(config_toml, lenient, None, seed)?;
    let batches = batches(data)?;
    let detection = py.detach(|| Detector::new(config).detect_batches(batches)).map_err(to_py)?;
    Ok(NativeDetection { detection })
}

/// Explains the verdict on `account` in Arrow data, as the JSON of `hydra
/// explain --json`.
#[pyfunction]
#[pyo3(signature = (data, account, config_toml, lenient = false, seed = None))]
pub(crate) fn explain_arrow(
    py: Python<'_>,
    data: AnyRecordBatch,
    account: &str,
    config_toml: &str,
    lenient: bool,
    seed: Option<u64>,
) -> PyResult<String> {
    let config = detection_config(config_toml, lenient, None, seed)?;
    let batches = batches(data)?;
    let explanation = py.detach(|| {
        let events = events_of(&batches, config.get_ingest())?;
        let analysis = Detector::new(config.clone()).analyze_events(events).map_err(to_py)?;
        analysis.explain(account).map_err(to_py)
    })?;
    json(&explanation)
}

/// Every event of `batches`, read as `ingest` says; a bad row is named by
/// its position in the whole table (the library counts within a batch).
pub(crate) fn events_of(
    batches: &[RecordBatch],
    ingest: &hydra_detect::IngestConfig,
) -> PyResult<Vec<Event>> {
    let mut events = Vec::new();
    let mut offset = 0u64;
    for batch in batches {
        match events_from_batch(batch, ingest) {
            Ok((batch_events, _)) => events.extend(batch_events),
            Err(e) => {
                return Err(match e.kind() {
                    hydra_detect::ErrorKind::Input { line, message, .. } if *line > 0 => {
                        invalid(format!("row {}: {message}", offset + line))
                    }
                    _ => to_py(e),
                });
            }
        }
        offset += batch.num_rows() as u64;
    }
    Ok(events)
}
