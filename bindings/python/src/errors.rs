//! The one place where the core's errors become Python exceptions.
//!
//! Each [`ErrorKind`] maps to one class of `conversational_bi.exceptions`; the message is the
//! core's own, and the structured fields of the error become attributes of the exception
//! (`code`, `retryable`, `retry_after`, and per kind `sql`/`rule`/`reason`, `provider`/`status`,
//! `unknown_words`, `key`/`file`/`line`, ...). The classes are defined in Python so that they can
//! also derive from the matching built-in exception (`ConfigError` is a `ValueError`,
//! `QueryTimeoutError` a `TimeoutError`).

use conversational_bi::{Error, ErrorKind};
use pyo3::{
    exceptions::PyValueError,
    prelude::*,
    sync::PyOnceLock,
    types::{PyDict, PyModule},
};

/// The Python module that defines the exception classes.
const EXCEPTIONS_MODULE: &str = "conversational_bi.exceptions";

/// The exception class of each kind of error.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Config => "ConfigError",
        ErrorKind::InvalidInput => "InvalidInputError",
        ErrorKind::SqlRejected => "SqlRejectedError",
        ErrorKind::DatabaseUnavailable => "DatabaseUnavailableError",
        ErrorKind::Execution => "ExecutionError",
        ErrorKind::Timeout => "QueryTimeoutError",
        ErrorKind::Provider => "ProviderError",
        ErrorKind::CannotAnswer => "CannotAnswerError",
        ErrorKind::RateLimited => "RateLimitedError",
        ErrorKind::CircuitOpen => "CircuitOpenError",
        ErrorKind::ServiceUnavailable => "ServiceUnavailableError",
        ErrorKind::Internal => "InternalError",
        // A kind added to the core later still reaches Python, as the base class with its code.
        _ => "ConversationalBIError",
    }
}

/// Converts an engine error into the matching Python exception.
pub fn to_py_err(py: Python<'_>, error: Error) -> PyErr {
    match build(py, &error) {
        Ok(exception) => PyErr::from_value(exception),
        // Only a broken installation gets here (the package's Python files are missing); the
        // core's message still reaches the caller.
        Err(import_error) => {
            let err = PyValueError::new_err(format!("[{}] {error}", error.kind().code()));
            err.set_cause(py, Some(import_error));
            err
        }
    }
}

/// Converts an engine error into a Python exception, taking the GIL for it.
pub fn into_py_err(error: Error) -> PyErr {
    Python::attach(|py| to_py_err(py, error))
}

fn build<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, PyAny>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = MODULE
        .get_or_try_init(py, || {
            PyModule::import(py, EXCEPTIONS_MODULE).map(Bound::unbind)
        })?
        .bind(py);
    let kind = error.kind();
    let class = module.getattr(class_name(kind))?;
    let attrs = PyDict::new(py);
    attrs.set_item("code", kind.code())?;
    attrs.set_item("retryable", error.is_retryable())?;
    attrs.set_item("retry_after", error.retry_after().map(|d| d.as_secs_f64()))?;
    match error {
        Error::Config {
            key, file, line, ..
        } => {
            attrs.set_item("key", key)?;
            attrs.set_item("file", file.as_ref().map(|f| f.display().to_string()))?;
            attrs.set_item("line", line)?;
        }
        Error::SqlRejected { rule, reason, sql } => {
            attrs.set_item("rule", rule.as_str())?;
            attrs.set_item("reason", reason)?;
            attrs.set_item("sql", sql)?;
        }
        Error::Timeout { timeout_ms } => attrs.set_item("timeout_ms", timeout_ms)?,
        Error::Provider {
            provider,
            status,
            request_id,
            ..
        } => {
            attrs.set_item("provider", provider)?;
            attrs.set_item("status", status)?;
            attrs.set_item("request_id", request_id)?;
        }
        Error::CannotAnswer { unknown_words, .. } => {
            attrs.set_item("unknown_words", unknown_words)?;
        }
        Error::RateLimited { tenant_id, .. } => attrs.set_item("tenant_id", tenant_id)?,
        Error::CircuitOpen { service, .. } | Error::ServiceUnavailable { service, .. } => {
            attrs.set_item("service", service)?;
        }
        _ => {}
    }
    class.call((error.to_string(),), Some(&attrs))
}
