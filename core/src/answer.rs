//! The answer to one question: the SQL that ran, what it means, the result, and how the engine
//! got there.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::chart::suggest_chart;
use crate::exec::{ResultColumn, Value};

/// One try of the generator: the SQL it wrote and, when the try failed, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// The SQL as the generator wrote it.
    pub sql: String,
    /// The validator's or the database's objection; `None` for the try that succeeded.
    pub error: Option<String>,
}

/// A chart that suits the result, for front ends that draw one: its kind, its two main columns
/// and a complete Vega-Lite specification to draw it with (see [`crate::chart`] for the rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartSuggestion {
    /// `bar`, `line`, `pie`, `scatter` or `stacked_bar`.
    pub kind: String,
    /// The category or time column the chart is drawn along (the first measure of a scatter
    /// plot). The specification may draw it on the vertical axis (horizontal bars).
    pub x: String,
    /// The measure (the second measure of a scatter plot).
    pub y: String,
    /// A complete Vega-Lite v6 specification of the chart, the rows inline (`data.values`, one
    /// object per row keyed by column name), built by the engine from the result's column types
    /// and values and the question: ready for `vegaEmbed` or Altair's `alt.Chart.from_dict`.
    #[serde(default)]
    pub vega_lite: serde_json::Value,
}

/// What an answer is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerKind {
    /// SQL ran and the result is in the answer.
    #[default]
    Answer,
    /// The question has two or more readings the engine cannot choose between: nothing ran,
    /// and [`Answer::clarification`] asks which one. The next turn (an option's label, or
    /// words of one) continues the question.
    Clarification,
}

/// A question back to the asker, with the readings to choose from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clarification {
    /// What the engine asks ("Which date do you mean by \"last year\"?").
    pub question: String,
    /// The readings, each a reply the next turn may give.
    pub options: Vec<ClarificationOption>,
}

/// One reading of an ambiguous question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClarificationOption {
    /// The reply that picks it ("invoice date").
    pub label: String,
    /// What it means (the measure's description, `Invoice.InvoiceDate`).
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub detail: String,
}

/// The engine's reply to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The SQL that ran (validated, comments stripped, row cap applied).
    pub sql: String,
    /// What the SQL does, in plain words.
    pub explanation: String,
    /// Result columns.
    pub columns: Vec<ResultColumn>,
    /// Result rows.
    pub rows: Vec<Vec<Value>>,
    /// Number of rows returned.
    pub row_count: usize,
    /// Whether the row cap cut the result.
    pub truncated: bool,
    /// Whether the SQL came from the semantic cache.
    pub cache_hit: bool,
    /// Similarity to the cached question, on a cache hit.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub similarity: Option<f64>,
    /// Which generator wrote the SQL (`openai:gpt-4`, `rule`, ...; `verified` when a verified
    /// query of the semantic model answered).
    pub generator: String,
    /// Whether a fallback answered because the configured generator was unavailable.
    pub degraded: bool,
    /// Every try, in order; the last one succeeded.
    pub attempts: Vec<Attempt>,
    /// Milliseconds spent per stage (`guard`, `session`, `generate`, `validate`, `execute`, ...).
    pub timings: BTreeMap<String, f64>,
    /// The conversation this answer belongs to.
    pub session_id: String,
    /// The 1-based number of this turn in the conversation.
    pub turn: u64,
    /// A chart that suits the result.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub chart: Option<ChartSuggestion>,
    /// Things the user should know: the result was cut at the row cap, a join counts rows more
    /// than once (fan-out), why a result is empty (`no rows: ...`), a fallback answered.
    pub warnings: Vec<String>,
    /// `answer`, or `clarification` when the engine asks which reading was meant.
    #[serde(default)]
    pub kind: AnswerKind,
    /// The question back and its options, when `kind` is `clarification`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub clarification: Option<Clarification>,
    /// Whether a verified query answered (a question someone checked, see the semantic model).
    #[serde(default)]
    pub verified: bool,
    /// Two or three follow-ups the asker can send next ("by month", "top 5").
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// The parts of the query in force after this answer, each of which can be removed as the
    /// next turn ([`Ask::remove_scope`](crate::Ask::remove_scope)): its conditions, groupings,
    /// sort and limit, in plain words. Empty when the generator that wrote the SQL keeps no
    /// structured form of it (a model, or a verified query the rules read otherwise): no scope
    /// rather than a guessed one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<ScopeItem>,
}

/// What kind of part of a query a [`ScopeItem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// A condition on rows (`WHERE`): "genre name is Rock", "in 2024".
    Filter,
    /// A condition on a computed value (`HAVING`): "the number of tracks is more than 10".
    Having,
    /// A grouping: "by invoice billing country".
    Group,
    /// The sort: "sorted by the total of invoice total, largest first".
    Order,
    /// The row limit: "top 5".
    Limit,
}

/// One removable part of the query an answer ran: what a front end shows as a chip under the
/// answer, and removes with [`Ask::remove_scope`](crate::Ask::remove_scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeItem {
    /// Names the part within this answer: `filter:0`, `having:0`, `group:1` (by position),
    /// `order` or `limit`. Valid for the answer it came with.
    pub id: String,
    /// What kind of part it is.
    pub kind: ScopeKind,
    /// The part in plain words, as the explanation words it ("genre name is Rock", "in 2024",
    /// "by invoice billing country", "top 5").
    pub label: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_serializes_with_the_documented_names() {
        let a = Answer {
            sql: "SELECT 1".into(),
            explanation: "one".into(),
            columns: vec![],
            rows: vec![],
            row_count: 0,
            truncated: false,
            cache_hit: false,
            similarity: None,
            generator: "rule".into(),
            degraded: false,
            attempts: vec![Attempt {
                sql: "SELECT 1".into(),
                error: None,
            }],
            timings: BTreeMap::from([("execute".to_string(), 0.5)]),
            session_id: "s".into(),
            turn: 1,
            chart: None,
            warnings: vec![],
            clarification: None,
            kind: Default::default(),
            suggestions: Vec::new(),
            verified: false,
            scope: Vec::new(),
        };
        let v = serde_json::to_value(&a).expect("json");
        for key in [
            "sql",
            "explanation",
            "columns",
            "rows",
            "row_count",
            "truncated",
            "cache_hit",
            "generator",
            "degraded",
            "attempts",
            "timings",
            "session_id",
            "turn",
            "warnings",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
    }
}
