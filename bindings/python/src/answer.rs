//! The engine's answer as a Python object. Fields become Python values when they are read, so an
//! answer whose rows are never looked at costs no conversion.

use conversational_bi::{Answer, answer::ScopeKind};
use pyo3::{
    prelude::*,
    types::{PyDict, PyList, PyTuple},
};

use crate::convert;

/// One answer of the engine (wrapped by `conversational_bi.Answer`).
#[pyclass(frozen, module = "conversational_bi._native", name = "Answer")]
pub struct NativeAnswer {
    inner: Answer,
}

impl NativeAnswer {
    /// Wraps a core answer.
    pub fn new(inner: Answer) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl NativeAnswer {
    /// The SQL that ran.
    #[getter]
    fn sql(&self) -> &str {
        &self.inner.sql
    }

    /// What the SQL does, in plain words.
    #[getter]
    fn explanation(&self) -> &str {
        &self.inner.explanation
    }

    /// `(name, type)` of each result column.
    #[getter]
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for c in &self.inner.columns {
            list.append(PyTuple::new(py, [c.name.as_str(), c.data_type.as_str()])?)?;
        }
        Ok(list)
    }

    /// The rows, one tuple each.
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        convert::rows(py, &self.inner.rows)
    }

    /// Number of rows.
    #[getter]
    fn row_count(&self) -> usize {
        self.inner.row_count
    }

    /// Whether the row cap cut the result.
    #[getter]
    fn truncated(&self) -> bool {
        self.inner.truncated
    }

    /// Whether the SQL came from the semantic cache.
    #[getter]
    fn cache_hit(&self) -> bool {
        self.inner.cache_hit
    }

    /// Similarity to the cached question, on a cache hit.
    #[getter]
    fn similarity(&self) -> Option<f64> {
        self.inner.similarity
    }

    /// The generator that wrote the SQL.
    #[getter]
    fn generator(&self) -> &str {
        &self.inner.generator
    }

    /// Whether a fallback answered.
    #[getter]
    fn degraded(&self) -> bool {
        self.inner.degraded
    }

    /// `(sql, error)` of each try, in order.
    #[getter]
    fn attempts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for a in &self.inner.attempts {
            list.append((a.sql.as_str(), a.error.as_deref()).into_pyobject(py)?)?;
        }
        Ok(list)
    }

    /// Milliseconds per stage.
    #[getter]
    fn timings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (stage, ms) in &self.inner.timings {
            dict.set_item(stage, ms)?;
        }
        Ok(dict)
    }

    /// The conversation.
    #[getter]
    fn session_id(&self) -> &str {
        &self.inner.session_id
    }

    /// The 1-based turn number.
    #[getter]
    fn turn(&self) -> u64 {
        self.inner.turn
    }

    /// `(kind, x, y)` of a suggested chart.
    #[getter]
    fn chart(&self) -> Option<(&str, &str, &str)> {
        self.inner
            .chart
            .as_ref()
            .map(|c| (c.kind.as_str(), c.x.as_str(), c.y.as_str()))
    }

    /// The suggested chart's Vega-Lite specification, as dicts, lists and scalars.
    #[getter]
    fn chart_vega_lite<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .chart
            .as_ref()
            .map(|c| convert::json(py, &c.vega_lite))
            .transpose()
    }

    /// Things the user should know.
    #[getter]
    fn warnings(&self) -> Vec<&str> {
        self.inner.warnings.iter().map(String::as_str).collect()
    }

    /// `"answer"`, or `"clarification"` when the engine asks which reading was meant.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.inner.kind {
            conversational_bi::answer::AnswerKind::Answer => "answer",
            conversational_bi::answer::AnswerKind::Clarification => "clarification",
        }
    }

    /// `(question, [(label, detail), ...])` when the engine asks which reading was meant.
    #[getter]
    fn clarification(&self) -> Option<(&str, Vec<(&str, &str)>)> {
        self.inner.clarification.as_ref().map(|c| {
            (
                c.question.as_str(),
                c.options
                    .iter()
                    .map(|o| (o.label.as_str(), o.detail.as_str()))
                    .collect(),
            )
        })
    }

    /// Whether a verified query answered.
    #[getter]
    fn verified(&self) -> bool {
        self.inner.verified
    }

    /// Follow-ups to ask next.
    #[getter]
    fn suggestions(&self) -> Vec<&str> {
        self.inner.suggestions.iter().map(String::as_str).collect()
    }

    /// `(id, kind, label)` of each removable part of the query (see `ask(remove_scope=...)`):
    /// `kind` is `filter`, `having`, `group`, `order` or `limit`.
    #[getter]
    fn scope(&self) -> Vec<(&str, &'static str, &str)> {
        self.inner
            .scope
            .iter()
            .map(|i| (i.id.as_str(), scope_kind(i.kind), i.label.as_str()))
            .collect()
    }

    /// The answer as the JSON document the command-line tool prints.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| {
            crate::errors::into_py_err(conversational_bi::Error::internal(format!(
                "cannot serialize the answer: {e}"
            )))
        })
    }
}

/// The name of a scope item's kind, as the engine's JSON spells it.
fn scope_kind(kind: ScopeKind) -> &'static str {
    match kind {
        ScopeKind::Filter => "filter",
        ScopeKind::Having => "having",
        ScopeKind::Group => "group",
        ScopeKind::Order => "order",
        ScopeKind::Limit => "limit",
    }
}
