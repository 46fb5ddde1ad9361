//! Hooks for the binding's own tests and benchmarks, compiled only with the `test-hooks`
//! feature: the workspace build (which the tests pack into a wheel) has it; the wheel that
//! `maturin build` makes from pyproject.toml (`no-default-features`) does not.

use std::time::Duration;

use conversational_bi::{Error, sql::RejectRule};
use pyo3::{exceptions::PyValueError, prelude::*};

use crate::{
    engine::{NativeEngine, make_ask, run_blocking},
    errors::{into_py_err, to_py_err},
};

/// Raises the exception that an engine error of kind `code` becomes, built from a
/// representative error of that kind. For tests of the mapping, including kinds that a working
/// engine does not produce on demand (`INTERNAL`).
#[pyfunction]
pub fn sample_error(py: Python<'_>, code: &str) -> PyResult<()> {
    let error = match code {
        "CONFIG" => Error::Config {
            message: "conversational-bi.toml:3: key `server.prot`: unknown field `prot`".into(),
            key: Some("server.prot".into()),
            file: Some("conversational-bi.toml".into()),
            line: Some(3),
        },
        "INVALID_INPUT" => Error::invalid_input("the question is empty"),
        "SQL_REJECTED" => Error::SqlRejected {
            rule: RejectRule::NotAQuery,
            reason: "only read-only queries are allowed; DELETE changes data".into(),
            sql: "DELETE FROM Track".into(),
        },
        "DATABASE_UNAVAILABLE" => Error::DatabaseUnavailable {
            message: "connection refused".into(),
        },
        "EXECUTION" => Error::Execution {
            message: "division by zero".into(),
        },
        "TIMEOUT" => Error::Timeout { timeout_ms: 5000 },
        "PROVIDER" => Error::Provider {
            provider: "openai".into(),
            status: Some(503),
            message: "overloaded".into(),
            request_id: Some("req_1".into()),
            retryable: true,
            retry_after: Some(Duration::from_secs(2)),
        },
        "CANNOT_ANSWER" => Error::CannotAnswer {
            message: "I did not understand \"frobnicate\"".into(),
            unknown_words: vec!["frobnicate".into()],
        },
        "RATE_LIMITED" => Error::RateLimited {
            tenant_id: "acme".into(),
            retry_after: Duration::from_millis(1500),
        },
        "CIRCUIT_OPEN" => Error::CircuitOpen {
            service: "nl2sql".into(),
            retry_in: Duration::from_secs(30),
        },
        "SERVICE_UNAVAILABLE" => Error::ServiceUnavailable {
            service: "redis".into(),
            message: "connection refused".into(),
        },
        "INTERNAL" => Error::internal("unexpected state"),
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown error code {other:?}; the codes are those of conversational_bi.ERROR_CODES"
            )));
        }
    };
    Err(to_py_err(py, error))
}

/// For the overhead benchmark: asks `question` `n` times straight from Rust, the way the
/// blocking binding does (GIL released, `block_on` on the shared runtime from this thread),
/// and returns for each ask its wall time minus the engine's own `timings["total"]` (µs) and
/// that total (ms). The same gap measured from Python, minus this one, is what the binding
/// adds.
#[pyfunction]
pub fn rust_ask_gaps(
    py: Python<'_>,
    engine: &NativeEngine,
    question: String,
    n: usize,
) -> PyResult<Vec<(f64, f64)>> {
    let lazy = engine.inner.clone();
    let engine = run_blocking(py, async move { lazy.engine().await })?;
    let runtime = pyo3_async_runtimes::tokio::get_runtime();
    py.detach(|| {
        let mut gaps = Vec::with_capacity(n);
        for i in 0..n {
            let ask = make_ask(
                question.clone(),
                Some(format!("rust-{}", i / 10)),
                None,
                None,
            )
            .map_err(into_py_err)?;
            let start = std::time::Instant::now();
            let answer = runtime.block_on(engine.ask(ask));
            let wall_us = start.elapsed().as_secs_f64() * 1e6;
            let answer = answer.map_err(into_py_err)?;
            let total_ms = answer.timings.get("total").copied().unwrap_or_default();
            gaps.push((wall_us - total_ms * 1e3, total_ms));
        }
        Ok(gaps)
    })
}
