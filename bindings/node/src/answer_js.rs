//! How an answer reaches JavaScript: as one JSON text that the global `JSON.parse` turns into
//! the object, which costs a handful of Node-API calls instead of several per field and value.
//!
//! JSON carries every field and most values exactly as the field-by-field conversion of
//! [`Answer`] builds them: same keys in the same order (the fields that are always there in
//! declaration order, then `similarity` and `chart` when present), absent optional fields left
//! out, strings, booleans, `null`, and numbers (shortest round-trip form, `-0` included). It
//! cannot carry a `bigint` (integers beyond `Number.MAX_SAFE_INTEGER`), a `Buffer` (binary
//! values) or a non-finite number: an answer holding any of them takes the field-by-field
//! conversion, [`Answer`]'s `ToNapiValue`, which stays the reference.

use std::{collections::BTreeMap, ptr};

use conversational_bi::{
    answer::{Answer as CoreAnswer, Attempt as CoreAttempt, ChartSuggestion, ScopeItem},
    exec::{ResultColumn, Value},
};
use napi::{bindgen_prelude::*, check_status, sys};
use serde::{
    Serialize, Serializer,
    ser::{Error as _, SerializeMap},
};

use crate::types::{Answer, MAX_SAFE_INTEGER, saturating_u32};

/// An answer ready for JavaScript: its JSON text when JSON can carry it, the answer itself
/// otherwise. Built off the JavaScript thread, converted on it.
pub enum AnswerJs {
    /// The camelCase JSON text of the answer.
    Json(String),
    /// An answer with a value JSON cannot carry, converted field by field.
    Fields(Box<CoreAnswer>),
}

/// V8's longest string on 64-bit platforms, in UTF-16 units: a JSON text of at most this many
/// bytes always fits (a UTF-8 byte never gives more than one unit).
const MAX_JSON_BYTES: usize = (1 << 29) - 24;

impl From<CoreAnswer> for AnswerJs {
    fn from(answer: CoreAnswer) -> Self {
        match serde_json::to_string(&AnswerView::new(&answer)) {
            Ok(json) if json.len() <= MAX_JSON_BYTES => Self::Json(json),
            _ => Self::Fields(Box::new(answer)),
        }
    }
}

impl ToNapiValue for AnswerJs {
    unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> Result<sys::napi_value> {
        // SAFETY (both arms): `env` is the live environment napi handed to this conversion.
        unsafe {
            match value {
                Self::Json(json) => json_parse(env, &json),
                Self::Fields(answer) => Answer::to_napi_value(env, Answer::from(*answer)),
            }
        }
    }
}

/// `JSON.parse(text)` with the environment's global `JSON`, looked up at each call.
///
/// # Safety
/// `env` must be a live environment on its JavaScript thread.
unsafe fn json_parse(env: sys::napi_env, text: &str) -> Result<sys::napi_value> {
    // SAFETY: `env` is live (the caller's promise); every out-pointer is a local, and the
    // string's pointer and length come from a `&str`.
    unsafe {
        let mut global = ptr::null_mut();
        check_status!(sys::napi_get_global(env, &mut global), "no global object")?;
        let mut json = ptr::null_mut();
        check_status!(
            sys::napi_get_named_property(env, global, c"JSON".as_ptr(), &mut json),
            "no global JSON"
        )?;
        let mut parse = ptr::null_mut();
        check_status!(
            sys::napi_get_named_property(env, json, c"parse".as_ptr(), &mut parse),
            "no JSON.parse"
        )?;
        let mut arg = ptr::null_mut();
        check_status!(
            sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut arg),
            "cannot create the answer's JSON string"
        )?;
        let mut object = ptr::null_mut();
        check_status!(
            sys::napi_call_function(env, json, parse, 1, &arg, &mut object),
            "JSON.parse failed on the answer"
        )?;
        Ok(object)
    }
}

/// The answer as [`Answer`] presents it, borrowed; serialising fails on a value JSON cannot
/// carry. Field order is the object's key order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AnswerView<'a> {
    sql: &'a str,
    explanation: &'a str,
    #[serde(serialize_with = "columns")]
    columns: &'a [ResultColumn],
    #[serde(serialize_with = "rows")]
    rows: &'a [Vec<Value>],
    row_count: u32,
    truncated: bool,
    cache_hit: bool,
    generator: &'a str,
    degraded: bool,
    #[serde(serialize_with = "attempts")]
    attempts: &'a [CoreAttempt],
    #[serde(serialize_with = "timings")]
    timings: &'a BTreeMap<String, f64>,
    session_id: &'a str,
    turn: u32,
    warnings: &'a [String],
    kind: &'static str,
    verified: bool,
    suggestions: &'a [String],
    #[serde(serialize_with = "scope")]
    scope: &'a [ScopeItem],
    // The optional fields come last, as napi sets them after the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    similarity: Option<Finite>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "chart")]
    chart: Option<&'a ChartSuggestion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clarification: Option<&'a conversational_bi::answer::Clarification>,
}

impl<'a> AnswerView<'a> {
    fn new(a: &'a CoreAnswer) -> Self {
        Self {
            sql: &a.sql,
            explanation: &a.explanation,
            columns: &a.columns,
            rows: &a.rows,
            row_count: saturating_u32(a.row_count as u64),
            truncated: a.truncated,
            cache_hit: a.cache_hit,
            generator: &a.generator,
            degraded: a.degraded,
            attempts: &a.attempts,
            timings: &a.timings,
            session_id: &a.session_id,
            turn: saturating_u32(a.turn),
            warnings: &a.warnings,
            kind: crate::types::kind_name(a.kind),
            verified: a.verified,
            suggestions: &a.suggestions,
            scope: &a.scope,
            similarity: a.similarity.map(Finite),
            chart: a.chart.as_ref(),
            clarification: a.clarification.as_ref(),
        }
    }
}

/// A number that JSON carries only when finite.
struct Finite(f64);

impl Serialize for Finite {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_f64(self.0)
        } else {
            Err(S::Error::custom("a non-finite number"))
        }
    }
}

/// A result value in its JSON form, or an error for those JSON cannot carry.
struct CellView<'a>(&'a Value);

impl Serialize for CellView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(i) => {
                s.serialize_i64(*i)
            }
            Value::Int(_) => Err(S::Error::custom("an integer beyond 2^53")),
            Value::Float(f) => Finite(*f).serialize(s),
            Value::Decimal(text) | Value::Text(text) => s.serialize_str(text),
            Value::Bytes(_) => Err(S::Error::custom("a binary value")),
        }
    }
}

#[derive(Serialize)]
struct ColumnView<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    data_type: &'a str,
}

#[derive(Serialize)]
struct AttemptView<'a> {
    sql: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChartView<'a> {
    kind: &'a str,
    x: &'a str,
    y: &'a str,
    vega_lite: &'a serde_json::Value,
}

#[derive(Serialize)]
struct ScopeItemView<'a> {
    id: &'a str,
    kind: &'static str,
    label: &'a str,
}

fn scope<S: Serializer>(items: &&[ScopeItem], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(items.iter().map(|i| ScopeItemView {
        id: &i.id,
        kind: crate::types::scope_kind(i.kind),
        label: &i.label,
    }))
}

fn columns<S: Serializer>(c: &&[ResultColumn], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(c.iter().map(|c| ColumnView {
        name: &c.name,
        data_type: &c.data_type,
    }))
}

fn rows<S: Serializer>(r: &&[Vec<Value>], s: S) -> std::result::Result<S::Ok, S::Error> {
    /// One row as an array.
    struct Row<'a>(&'a [Value]);
    impl Serialize for Row<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            s.collect_seq(self.0.iter().map(CellView))
        }
    }
    s.collect_seq(r.iter().map(|row| Row(row)))
}

fn attempts<S: Serializer>(a: &&[CoreAttempt], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(a.iter().map(|a| AttemptView {
        sql: &a.sql,
        error: a.error.as_deref(),
    }))
}

fn timings<S: Serializer>(
    t: &&BTreeMap<String, f64>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(t.len()))?;
    for (stage, ms) in t.iter() {
        map.serialize_entry(stage, &Finite(*ms))?;
    }
    map.end()
}

fn chart<S: Serializer>(
    c: &Option<&ChartSuggestion>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match c {
        Some(c) => ChartView {
            kind: &c.kind,
            x: &c.x,
            y: &c.y,
            vega_lite: &c.vega_lite,
        }
        .serialize(s),
        None => s.serialize_none(),
    }
}
