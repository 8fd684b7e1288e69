//! The simulator (`hydra simulate`) and the evaluation (`hydra eval`).

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use hydra_detect::Action;
use hydra_detect::eval::{AccountFlags, EvalInput, FlagStream, Truth, evaluate as run_eval};
use hydra_detect::sim::{Preset, SimConfig, Simulation, Simulator};
use pyo3::prelude::*;
use pyo3_arrow::PyTable;

use crate::detect::NativeDetection;
use crate::{invalid, json, to_py};

/// Rows per Arrow record batch of simulated events.
const BATCH_ROWS: usize = 1 << 16;

/// The schema of simulated events: the columns of docs/FORMATS.md's CSV.
fn event_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("ts", DataType::Int64, false),
        Field::new("account", DataType::Utf8, false),
        Field::new("event", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, true),
        Field::new("value", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, true),
    ]))
}

/// Builders of one record batch of events.
struct EventColumns {
    ts: Int64Builder,
    account: StringBuilder,
    event: StringBuilder,
    kind: StringBuilder,
    value: StringBuilder,
    reason: StringBuilder,
    rows: usize,
}

impl EventColumns {
    fn new() -> Self {
        Self {
            ts: Int64Builder::with_capacity(BATCH_ROWS),
            account: StringBuilder::new(),
            event: StringBuilder::new(),
            kind: StringBuilder::new(),
            value: StringBuilder::new(),
            reason: StringBuilder::new(),
            rows: 0,
        }
    }

    fn push(&mut self, e: &hydra_detect::Event) {
        self.ts.append_value(e.ts);
        self.account.append_value(&e.account);
        self.event.append_value(e.action.name());
        match &e.action {
            Action::Observe(ind) => {
                self.kind.append_value(ind.kind.as_str());
                self.value.append_value(&ind.value);
            }
            _ => {
                self.kind.append_null();
                self.value.append_null();
            }
        }
        match &e.action {
            Action::Ban { reason: Some(r) } => self.reason.append_value(r),
            _ => self.reason.append_null(),
        }
        self.rows += 1;
    }

    fn finish(&mut self, schema: &SchemaRef) -> PyResult<RecordBatch> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.ts.finish()),
            Arc::new(self.account.finish()),
            Arc::new(self.event.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.value.finish()),
            Arc::new(self.reason.finish()),
        ];
        self.rows = 0;
        RecordBatch::try_new(schema.clone(), columns)
            .map_err(|e| invalid(format!("cannot build the events table: {e}")))
    }
}

/// The events of `sim` as record batches, in time order.
fn event_batches(sim: &Simulation, schema: &SchemaRef) -> PyResult<Vec<RecordBatch>> {
    let mut batches = Vec::new();
    let mut columns = EventColumns::new();
    for event in sim.events().map_err(to_py)? {
        columns.push(&event.map_err(to_py)?);
        if columns.rows == BATCH_ROWS {
            batches.push(columns.finish(schema)?);
        }
    }
    if columns.rows > 0 || batches.is_empty() {
        batches.push(columns.finish(schema)?);
    }
    Ok(batches)
}

/// Runs the simulator: returns the events (a pyarrow Table in time order),
/// `truth.csv`'s text and the summary as JSON.
#[pyfunction]
#[pyo3(signature = (preset = "small", seed = 1, scale = 1.0))]
pub(crate) fn simulate<'py>(
    py: Python<'py>,
    preset: &str,
    seed: u64,
    scale: f64,
) -> PyResult<(Bound<'py, PyAny>, String, String)> {
    let preset = Preset::parse(preset).map_err(to_py)?;
    let config = SimConfig::preset(preset).seed(seed).scale(scale);
    let schema = event_schema();
    let (batches, truth, summary) = py.detach(|| -> PyResult<_> {
        let sim = Simulator::new(config).map_err(to_py)?.generate().map_err(to_py)?;
        let batches = event_batches(&sim, &schema)?;
        let mut truth = Vec::new();
        sim.truth().write_csv(&mut truth).map_err(to_py)?;
        let truth =
            String::from_utf8(truth).map_err(|e| invalid(format!("truth is not UTF-8: {e}")))?;
        Ok((batches, truth, json(sim.summary())?))
    })?;
    let table = PyTable::try_new(batches, schema)?.into_pyarrow(py)?;
    Ok((table, truth, summary))
}

/// Evaluates a batch verdict against ground truth, as the JSON of `hydra
/// eval --json`, with its text form.
///
/// `detection` is a detection or `accounts.csv` text; `truth_csv` is
/// `truth.csv` text; `flags_jsonl`, if given, is a watcher's flag lines, and
/// `events`, if given, the events file they came from (for time-to-flag).
#[pyfunction]
#[pyo3(signature = (detection, truth_csv, flags_jsonl = None, events = None))]
pub(crate) fn evaluate(
    py: Python<'_>,
    detection: &Bound<'_, PyAny>,
    truth_csv: &str,
    flags_jsonl: Option<&str>,
    events: Option<PathBuf>,
) -> PyResult<(String, String)> {
    let accounts = if let Ok(d) = detection.cast::<NativeDetection>() {
        AccountFlags::from_detection(&d.get().detection)
    } else if let Ok(text) = detection.extract::<String>() {
        AccountFlags::from_csv_reader(text.as_bytes(), "accounts.csv").map_err(to_py)?
    } else {
        return Err(invalid("detection must be a Detection or accounts.csv text"));
    };
    let truth = Truth::from_csv_reader(truth_csv.as_bytes(), "truth.csv").map_err(to_py)?;
    let stream = flags_jsonl
        .map(|text| FlagStream::from_jsonl_reader(text.as_bytes(), "watch flags"))
        .transpose()
        .map_err(to_py)?;
    let report = py.detach(|| {
        let mut input = EvalInput::new(&truth, &accounts);
        if let Some(s) = &stream {
            input = input.watch(s);
        }
        if let Some(e) = &events {
            input = input.events(e);
        }
        run_eval(&input)
    });
    let report = report.map_err(to_py)?;
    Ok((json(&report)?, report.to_string()))
}
