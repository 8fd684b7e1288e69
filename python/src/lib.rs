//! The native half of the `hydra_detect` Python package (`hydra_detect._native`).
//!
//! Thin bindings over the `hydra_detect` crate: every decision stays in the
//! library. Results cross to Python as JSON text of the library's serde types
//! (the same fields as the CLI's JSON outputs) or as Arrow tables; the
//! pure-Python half (`hydra_detect/__init__.py`) turns them into pandas
//! DataFrames and dicts. Long runs release the GIL.

use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

mod config;
mod detect;
mod sim;
mod watch;

create_exception!(
    _native,
    HydraError,
    PyValueError,
    "Bad input, configuration or argument, with the library's message (what, where, why)."
);

/// The Python exception for a library error: `OSError` for I/O, else
/// `HydraError` (a `ValueError`); the message carries the cause chain.
pub(crate) fn to_py(err: hydra_detect::Error) -> PyErr {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    match err.kind() {
        hydra_detect::ErrorKind::Io { .. } => PyOSError::new_err(message),
        _ => HydraError::new_err(message),
    }
}

/// A `HydraError` with `message`.
pub(crate) fn invalid(message: impl Into<String>) -> PyErr {
    HydraError::new_err(message.into())
}

/// A serde value as JSON text for the Python side.
pub(crate) fn json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| invalid(format!("cannot encode a result: {e}")))
}

/// The native extension of `hydra_detect`: call the functions of the
/// `hydra_detect` package, which wrap these.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("HydraError", m.py().get_type::<HydraError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<detect::NativeDetection>()?;
    m.add_class::<watch::NativeWatcher>()?;
    m.add_function(wrap_pyfunction!(config::default_config_toml, m)?)?;
    m.add_function(wrap_pyfunction!(config::config_toml_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(detect::detect_path, m)?)?;
    m.add_function(wrap_pyfunction!(detect::explain_path, m)?)?;
    m.add_function(wrap_pyfunction!(detect::detect_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(detect::explain_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(sim::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(sim::evaluate, m)?)?;
    Ok(())
}
