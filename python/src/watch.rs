//! The streaming watcher (`hydra watch`): events in, flags out.

use hydra_detect::{
    ErrorKind, Event, EventReader, Format, IngestConfig, Recluster, WatchConfig, WatchFlag, Watcher,
};
use std::sync::{Mutex, MutexGuard};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::input::AnyRecordBatch;

use crate::{invalid, to_py};

/// A [`Watcher`] behind a lock (Python may call from several threads;
/// the watcher is `Send`, not `Sync`). `hydra_detect.Watcher` wraps it.
#[pyclass(frozen, module = "hydra_detect._native")]
pub(crate) struct NativeWatcher {
    inner: Mutex<Inner>,
}

/// A watcher and its input position.
struct Inner {
    watcher: Watcher,
    /// Sequence number of the last event applied (flags carry it).
    seq: u64,
}

/// Sets the knob `name` of `config` to `value`; the names are
/// `WatchConfig`'s setters.
fn set_knob(config: WatchConfig, name: &str, value: &Bound<'_, PyAny>) -> PyResult<WatchConfig> {
    let float = || -> PyResult<f64> {
        value.extract::<f64>().map_err(|_| invalid(format!("watch knob {name} must be a number")))
    };
    let int = || -> PyResult<i64> {
        value
            .extract::<i64>()
            .map_err(|_| invalid(format!("watch knob {name} must be an integer (seconds)")))
    };
    let count = || -> PyResult<usize> {
        value
            .extract::<usize>()
            .map_err(|_| invalid(format!("watch knob {name} must be a non-negative integer")))
    };
    Ok(match name {
        "threshold" => config.threshold(float()?),
        "no_reason_weight" => config.no_reason_weight(float()?),
        "other_reason_weight" => config.other_reason_weight(float()?),
        "recency_secs" => config.recency_secs(int()?),
        "recency_floor" => config.recency_floor(float()?),
        "signup_grace_secs" => config.signup_grace_secs(int()?),
        "min_family_evidence" => config.min_family_evidence(float()?),
        "hard_link_min" => config.hard_link_min(float()?),
        "specific_max" => config.specific_max(count()?),
        "strong_score" => config.strong_score(float()?),
        "takeover_secs" => config.takeover_secs(int()?),
        "takeover_weight" => config.takeover_weight(float()?),
        "takeover_behavior_min" => config.takeover_behavior_min(float()?),
        "quiet_takeover_secs" => config.quiet_takeover_secs(int()?),
        "quiet_secs" => config.quiet_secs(int()?),
        "hydra_threshold" => config.hydra_threshold(float()?),
        "horizon_secs" => config.horizon_secs(int()?),
        "sweep_step" => config.sweep_step(count()?),
        "max_banned_scan" => config.max_banned_scan(count()?),
        "max_linked_banned" => config.max_linked_banned(count()?),
        "max_evidence" => config.max_evidence(count()?),
        "replenish_window_secs" => config.replenish_window_secs(int()?),
        "abuse_reasons" => {
            let reasons: Vec<String> = value.extract().map_err(|_| {
                invalid("watch knob abuse_reasons must be a list of strings".to_owned())
            })?;
            config.abuse_reasons(reasons)
        }
        other => {
            return Err(invalid(format!(
                "unknown watch knob {other:?} (see help(hydra_detect.Watcher) for the knobs)"
            )));
        }
    })
}

/// Flags as JSON lines, for the Python side to read as dicts.
fn lines(flags: &[WatchFlag]) -> Vec<String> {
    flags.iter().map(WatchFlag::to_json).collect()
}

#[pymethods]
impl NativeWatcher {
    /// A watcher with the knobs in `knobs` and the re-clustering schedule
    /// `recluster` (`"off"`, `"sync"` or `"background"`) every `every` events.
    #[new]
    #[pyo3(signature = (knobs = None, recluster = "background", every = 100_000))]
    fn new(knobs: Option<&Bound<'_, PyDict>>, recluster: &str, every: u64) -> PyResult<Self> {
        let mut config = WatchConfig::new();
        if let Some(knobs) = knobs {
            for (name, value) in knobs.iter() {
                let name: String =
                    name.extract().map_err(|_| invalid("watch knob names must be strings"))?;
                config = set_knob(config, &name, &value)?;
            }
        }
        let schedule = match (recluster, every) {
            ("off", _) => Recluster::Off,
            ("sync" | "background", 0) => {
                return Err(invalid(format!(
                    "recluster_every must be at least 1 with recluster={recluster:?} (or use \
                     recluster=\"off\")"
                )));
            }
            ("sync", n) => Recluster::Sync(n),
            ("background", n) => Recluster::Background(n),
            (other, _) => {
                return Err(invalid(format!(
                    "unknown recluster {other:?} (expected \"off\", \"sync\" or \"background\")"
                )));
            }
        };
        let watcher = Watcher::new(config.recluster(schedule)).map_err(to_py)?;
        Ok(Self { inner: Mutex::new(Inner { watcher, seq: 0 }) })
    }

    /// Applies the events in `jsonl` (JSON Lines, docs/FORMATS.md's fields)
    /// in order and returns the flags they caused as JSON lines. The events
    /// are all read before any is applied: a malformed one raises and
    /// applies none.
    fn feed_jsonl(&self, py: Python<'_>, jsonl: &str) -> PyResult<Vec<String>> {
        let events = read_jsonl(jsonl)?;
        py.detach(|| self.lock().apply_all(&events))
    }

    /// Applies the events of Arrow data (a pyarrow Table, a RecordBatch or
    /// any Arrow PyCapsule stream with the event columns) in row order and
    /// returns the flags they caused as JSON lines. All rows are read before
    /// any is applied: a malformed one raises and applies none.
    fn feed_arrow(&self, py: Python<'_>, data: AnyRecordBatch) -> PyResult<Vec<String>> {
        let batches = crate::detect::batches(data)?;
        py.detach(|| {
            let events = crate::detect::events_of(&batches, &IngestConfig::new())?;
            self.lock().apply_all(&events)
        })
    }

    /// Waits for a background re-clustering in progress and returns the
    /// flags it publishes (for the end of a finite stream).
    fn finish(&self, py: Python<'_>) -> Vec<String> {
        py.detach(|| {
            let mut inner = self.lock();
            let mut flags = Vec::new();
            let seq = inner.seq;
            inner.watcher.finish_recluster(seq, &mut flags);
            lines(&flags)
        })
    }

    /// The replacement score `account` would get now, with its evidence, as
    /// a flag's JSON (`seq` 0); `None` for an account not held.
    fn explain(&self, account: &str) -> Option<String> {
        self.lock().watcher.explain(account).map(|f| f.to_json())
    }

    /// The hydra clusters of the clustering in force: (id, score, members).
    fn hydra_clusters(&self) -> Vec<(String, f64, usize)> {
        let inner = self.lock();
        inner.watcher.hydra_clusters().map(|(id, s, n)| (id.to_owned(), s, n)).collect()
    }

    /// Events applied so far.
    #[getter]
    fn event_count(&self) -> u64 {
        self.lock().watcher.event_count()
    }

    /// Accounts held in memory.
    #[getter]
    fn account_count(&self) -> usize {
        self.lock().watcher.account_count()
    }

    /// Indicators held in memory.
    #[getter]
    fn indicator_count(&self) -> usize {
        self.lock().watcher.indicator_count()
    }

    /// Account–indicator links held in memory.
    #[getter]
    fn link_count(&self) -> u64 {
        self.lock().watcher.link_count()
    }

    /// Event count at which the clustering in force was computed (0: none).
    #[getter]
    fn clustered_at(&self) -> u64 {
        self.lock().watcher.clustered_at()
    }
}

impl NativeWatcher {
    /// The watcher, locked (a panic while holding it cannot leave a
    /// half-applied event: `apply_into` leaves the state unchanged on error).
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    /// Applies `events` after the last one applied, returning their flags.
    fn apply_all(&mut self, events: &[Event]) -> PyResult<Vec<String>> {
        let mut flags = Vec::new();
        for event in events {
            self.watcher.apply_into(self.seq + 1, event, &mut flags).map_err(to_py)?;
            self.seq += 1;
        }
        Ok(lines(&flags))
    }
}

/// Reads every event of `jsonl`, strictly; errors name the event's
/// position in this call.
fn read_jsonl(jsonl: &str) -> PyResult<Vec<Event>> {
    let config = IngestConfig::new();
    let reader = EventReader::new(jsonl.as_bytes(), Format::Jsonl, &config).map_err(to_py)?;
    let mut events = Vec::new();
    for record in reader {
        match record {
            Ok(r) => events.push(r.event),
            Err(e) => {
                return Err(match e.kind() {
                    ErrorKind::Input { line, message, .. } => {
                        invalid(format!("event {line} of those fed: {message}"))
                    }
                    _ => to_py(e),
                });
            }
        }
    }
    Ok(events)
}
