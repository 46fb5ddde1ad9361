//! The answer to one question: the SQL that ran, what it means, the result, and how the engine
//! got there.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::exec::{ResultColumn, Value};

/// One try of the generator: the SQL it wrote and, when the try failed, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// The SQL as the generator wrote it.
    pub sql: String,
    /// The validator's or the database's objection; `None` for the try that succeeded.
    pub error: Option<String>,
}

/// A chart that suits the result, for front ends that draw one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartSuggestion {
    /// `bar`, `line` or `pie`.
    pub kind: String,
    /// The column on the x axis (categories or time).
    pub x: String,
    /// The numeric column on the y axis.
    pub y: String,
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
}

/// Suggests a chart for a result: a time or category column with one numeric column. A
/// code shown beside its name (`DEPT_CODE, DEPT_NAME, count`, one name per code) is one
/// category, drawn by its name.
pub fn suggest_chart(columns: &[ResultColumn], rows: &[Vec<Value>]) -> Option<ChartSuggestion> {
    if !(2..=3).contains(&columns.len()) || rows.len() < 2 {
        return None;
    }
    let numeric = |i: usize| {
        rows.iter().all(|r| {
            matches!(
                r.get(i),
                Some(Value::Int(_) | Value::Float(_) | Value::Decimal(_) | Value::Null)
            )
        })
    };
    let (numbers, categories): (Vec<usize>, Vec<usize>) =
        (0..columns.len()).partition(|&i| numeric(i));
    let (x, y) = match (categories.as_slice(), numbers.as_slice()) {
        ([x], [y]) => (*x, *y),
        ([code, name], [y]) if one_to_one(rows, *code, *name) => (*name, *y),
        _ => return None,
    };
    let looks_temporal = rows.iter().all(|r| match r.get(x) {
        Some(Value::Text(t)) => t.len() >= 4 && t[..4].chars().all(|c| c.is_ascii_digit()),
        _ => false,
    });
    let kind = if looks_temporal {
        "line"
    } else if rows.len() <= 6 {
        "pie"
    } else {
        "bar"
    };
    Some(ChartSuggestion {
        kind: kind.into(),
        x: columns[x].name.clone(),
        y: columns[y].name.clone(),
    })
}

/// Whether columns `a` and `b` pair each value of one with a single value of the other.
fn one_to_one(rows: &[Vec<Value>], a: usize, b: usize) -> bool {
    let mut ab: BTreeMap<String, String> = BTreeMap::new();
    let mut ba: BTreeMap<String, String> = BTreeMap::new();
    rows.iter().all(|r| {
        let (Some(x), Some(y)) = (r.get(a), r.get(b)) else {
            return false;
        };
        let (x, y) = (format!("{x:?}"), format!("{y:?}"));
        ab.entry(x.clone()).or_insert_with(|| y.clone()) == &y
            && ba.entry(y).or_insert(x.clone()) == &x
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(a: &str, b: &str) -> Vec<ResultColumn> {
        vec![
            ResultColumn {
                name: a.into(),
                data_type: "TEXT".into(),
            },
            ResultColumn {
                name: b.into(),
                data_type: "INTEGER".into(),
            },
        ]
    }

    #[test]
    fn charts_follow_the_shape_of_the_result() {
        let months: Vec<Vec<Value>> = ["2024-01", "2024-02", "2024-03"]
            .iter()
            .map(|m| vec![Value::Text((*m).into()), Value::Int(3)])
            .collect();
        assert_eq!(
            suggest_chart(&cols("month", "n"), &months).map(|c| c.kind),
            Some("line".into())
        );
        let cats: Vec<Vec<Value>> = (0..8)
            .map(|i| vec![Value::Text(format!("genre {i}")), Value::Float(1.5)])
            .collect();
        let chart = suggest_chart(&cols("genre", "revenue"), &cats).expect("bar");
        assert_eq!(
            (chart.kind.as_str(), chart.x.as_str(), chart.y.as_str()),
            ("bar", "genre", "revenue")
        );
        assert_eq!(suggest_chart(&cols("a", "b"), &cats[..1]), None);

        // A code beside its name is one category, drawn by the name.
        let mut three = cols("code", "name");
        three.push(ResultColumn {
            name: "count".into(),
            data_type: "INTEGER".into(),
        });
        let depts: Vec<Vec<Value>> = (0..8)
            .map(|i| {
                vec![
                    Value::Text(format!("D{i}")),
                    Value::Text(format!("Department {i}")),
                    Value::Int(i),
                ]
            })
            .collect();
        let chart = suggest_chart(&three, &depts).expect("bar by name");
        assert_eq!((chart.x.as_str(), chart.y.as_str()), ("name", "count"));
        // Two categories that are not one (country and city) are not drawn as one.
        let mut cities = depts.clone();
        cities[1][0] = Value::Text("D0".into());
        assert_eq!(suggest_chart(&three, &cities), None);
    }

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
