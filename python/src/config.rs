//! Configurations from Python: `Config` from TOML text plus the CLI's
//! per-run flags (`lenient`, `format`, `seed`).

use hydra_detect::{Config, Format};
use pyo3::prelude::*;

use crate::{invalid, to_py};

/// The detection configuration: `toml` (a TOML document, as `hydra detect
/// --config` reads; empty for the defaults), then the CLI's flags.
pub(crate) fn detection_config(
    toml: &str,
    lenient: bool,
    format: Option<&str>,
    seed: Option<u64>,
) -> PyResult<Config> {
    let mut config = Config::from_toml_str(toml).map_err(to_py)?;
    let mut ingest = config.get_ingest().clone();
    if lenient {
        ingest = ingest.lenient(true);
    }
    if let Some(format) = format {
        let format = match format {
            "csv" => Format::Csv,
            "jsonl" => Format::Jsonl,
            other => {
                return Err(invalid(format!(
                    "unknown format {other:?} (expected \"csv\" or \"jsonl\", or None for the \
                     file suffix)"
                )));
            }
        };
        ingest = ingest.format(Some(format));
    }
    config = config.ingest(ingest);
    if let Some(seed) = seed {
        let leiden = config.get_leiden().clone().seed(seed);
        config = config.leiden(leiden);
    }
    Ok(config)
}

/// Every key of the default configuration as TOML (`hydra detect --print-config`).
#[pyfunction]
pub(crate) fn default_config_toml() -> PyResult<String> {
    Config::new().to_toml_string().map_err(to_py)
}

/// A configuration given as a Python dict (sent as JSON text), as TOML text
/// for [`Config::from_toml_str`], which then names any unknown key or bad value.
#[pyfunction]
pub(crate) fn config_toml_from_json(json: &str) -> PyResult<String> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| invalid(format!("the config dict is not JSON-like: {e}")))?;
    if !value.is_object() {
        return Err(invalid("the config must be a dict of tables (e.g. {\"score\": {...}})"));
    }
    let table: toml::Table = serde::Deserialize::deserialize(value).map_err(|e| {
        invalid(format!("the config dict cannot be written as TOML: {e} (None is not a value)"))
    })?;
    toml::to_string(&table)
        .map_err(|e| invalid(format!("the config dict cannot be written as TOML: {e}")))
}
