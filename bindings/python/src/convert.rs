//! Engine values as Python objects.
//!
//! | core value | Python |
//! |---|---|
//! | `Null` | `None` |
//! | `Bool` | `bool` |
//! | `Int` | `int` |
//! | `Float` | `float` |
//! | `Decimal` (exact, as text) | `decimal.Decimal` (exact; `Answer.to_pandas()` makes floats of them) |
//! | `Text` (dates and times are ISO-8601 text) | `str` |
//! | `Bytes` (lowercase hex) | `bytes` |

use conversational_bi::exec::Value;
use pyo3::{
    prelude::*,
    sync::PyOnceLock,
    types::{PyBool, PyBytes, PyDict, PyFloat, PyList, PyString, PyTuple, PyType},
};

/// One value of a result row.
pub fn value<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Decimal(d) => decimal_type(py)?.call1((d.as_str(),))?,
        Value::Text(t) => PyString::new(py, t).into_any(),
        Value::Bytes(hex) => PyBytes::new(py, &unhex(hex)).into_any(),
    })
}

/// Result rows as a list of tuples.
pub fn rows<'py>(py: Python<'py>, rows: &[Vec<Value>]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for row in rows {
        let items = row
            .iter()
            .map(|v| value(py, v))
            .collect::<PyResult<Vec<_>>>()?;
        list.append(PyTuple::new(py, items)?)?;
    }
    Ok(list)
}

/// A JSON document (session state, schema, health) as dicts, lists and scalars.
pub fn json<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        serde_json::Value::Null => py.None().into_bound(py),
        serde_json::Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any(),
        },
        serde_json::Value::String(s) => PyString::new(py, s).into_any(),
        serde_json::Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json(py, item)?)?;
            }
            list.into_any()
        }
        serde_json::Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, json(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// Any serializable engine structure as Python objects.
pub fn serialized<'py, T: serde::Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    let doc = serde_json::to_value(v).map_err(|e| {
        crate::errors::to_py_err(
            py,
            conversational_bi::Error::internal(format!("cannot convert a result: {e}")),
        )
    })?;
    json(py, &doc)
}

fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    DECIMAL.import(py, "decimal", "Decimal")
}

/// Decodes the core's lowercase hex; the core never produces anything else.
fn unhex(hex: &str) -> Vec<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    };
    hex.as_bytes()
        .chunks_exact(2)
        .map(|pair| (digit(pair[0]) << 4) | digit(pair[1]))
        .collect()
}
