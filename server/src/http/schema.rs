//! OpenAPI schemas of the engine's own types (`Answer`, `SessionState`), which the engine
//! crate does not describe itself. A test compares them with the real serialized types so that
//! the document cannot drift from what the API sends.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

/// A result column.
#[derive(Serialize, ToSchema)]
#[schema(as = ResultColumn)]
pub struct ResultColumnDoc {
    /// The column's label.
    pub name: String,
    /// The database's type name (`INTEGER`, `numeric`, `DATETIME`, ...).
    #[serde(rename = "type")]
    pub data_type: String,
}

/// One try of the generator.
#[derive(Serialize, ToSchema)]
#[schema(as = Attempt)]
pub struct AttemptDoc {
    /// The SQL as written.
    pub sql: String,
    /// Why the try failed; `null` for the one that succeeded.
    pub error: Option<String>,
}

/// A chart that suits the result.
#[derive(Serialize, ToSchema)]
#[schema(as = ChartSuggestion)]
pub struct ChartDoc {
    /// `bar`, `line`, `pie`, `scatter` or `stacked_bar`.
    pub kind: String,
    /// The x-axis column.
    pub x: String,
    /// The numeric y-axis column.
    pub y: String,
    /// The chart as a complete Vega-Lite 6 specification, the rows inline (`data.values`),
    /// built by the engine from the result's column types and the question.
    #[schema(value_type = Object)]
    pub vega_lite: serde_json::Value,
}

/// One reading of an ambiguous question.
#[derive(Serialize, ToSchema)]
#[schema(as = ClarificationOption)]
pub struct ClarificationOptionDoc {
    /// The reply that picks it ("invoice date").
    pub label: String,
    /// What it means; absent when empty.
    pub detail: Option<String>,
}

/// A question back to the asker, with the readings to choose from.
#[derive(Serialize, ToSchema)]
#[schema(as = Clarification)]
pub struct ClarificationDoc {
    /// What the engine asks.
    pub question: String,
    /// The readings; the next turn answers with one's label (or words of it).
    pub options: Vec<ClarificationOptionDoc>,
}

/// What kind of part of a query a scope item is.
#[derive(Serialize, ToSchema)]
#[schema(as = ScopeKind)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKindDoc {
    /// A condition on rows (`WHERE`).
    Filter,
    /// A condition on a computed value (`HAVING`).
    Having,
    /// A grouping.
    Group,
    /// The sort.
    Order,
    /// The row limit.
    Limit,
}

/// One removable part of the query an answer ran (a chip under the answer).
#[derive(Serialize, ToSchema)]
#[schema(as = ScopeItem)]
pub struct ScopeItemDoc {
    /// Names the part within this answer, for `remove_scope`: `filter:0`, `having:0`,
    /// `group:1`, `order` or `limit`.
    pub id: String,
    /// What kind of part it is.
    pub kind: ScopeKindDoc,
    /// The part in plain words ("genre name is Rock", "in 2024", "by invoice billing country",
    /// "sorted by the total of invoice total, largest first", "top 5").
    pub label: String,
}

/// What an answer is.
#[derive(Serialize, ToSchema)]
#[schema(as = AnswerKind)]
#[serde(rename_all = "lowercase")]
pub enum AnswerKindDoc {
    /// SQL ran and the result is in the answer.
    Answer,
    /// Nothing ran: `clarification` asks which reading was meant.
    Clarification,
}

/// The answer to one question.
#[derive(Serialize, ToSchema)]
#[schema(as = Answer)]
pub struct AnswerDoc {
    /// The SQL that ran (validated, comments stripped, row cap applied).
    pub sql: String,
    /// What the SQL does, in plain words.
    pub explanation: String,
    /// Result columns.
    pub columns: Vec<ResultColumnDoc>,
    /// Result rows: each value is `null`, a boolean, a number or a string (exact decimals,
    /// dates and times as ISO-8601 strings, bytes as hex).
    #[schema(value_type = Vec<Vec<Object>>)]
    pub rows: Vec<Vec<serde_json::Value>>,
    /// Number of rows returned.
    pub row_count: usize,
    /// Whether the row cap (`[database] max_rows`) cut the result.
    pub truncated: bool,
    /// Whether the SQL came from the semantic cache.
    pub cache_hit: bool,
    /// Similarity to the cached question, on a cache hit.
    pub similarity: Option<f64>,
    /// The generator that wrote the SQL (`rule`, `openai:gpt-4`, ...).
    pub generator: String,
    /// Whether a fallback answered because the configured generator was unavailable.
    pub degraded: bool,
    /// Every try, in order; the last one succeeded.
    pub attempts: Vec<AttemptDoc>,
    /// Milliseconds per stage (`guard`, `session`, `generate`, `validate`, `execute`, `save`,
    /// `total`, ...).
    pub timings: BTreeMap<String, f64>,
    /// The conversation this answer belongs to.
    pub session_id: String,
    /// The 1-based number of this turn in the conversation.
    pub turn: u64,
    /// A chart that suits the result.
    pub chart: Option<ChartDoc>,
    /// Things to know about the answer (degraded generation, cut result, a join that counts
    /// rows more than once, why a result is empty, ...).
    pub warnings: Vec<String>,
    /// `answer`, or `clarification` when the engine asks which reading was meant (then `sql`
    /// is empty and no rows are returned).
    pub kind: AnswerKindDoc,
    /// The question back and its options, when `kind` is `clarification`.
    pub clarification: Option<ClarificationDoc>,
    /// Whether a verified query of the semantic model answered (`generator` is `verified`).
    pub verified: bool,
    /// Two or three follow-ups to send next ("by month", "top 5"), or a clarification's
    /// options.
    pub suggestions: Vec<String>,
    /// The parts of the query in force after this answer (its conditions, groupings, sort and
    /// limit), each removable as the next turn with `remove_scope`. Absent when there are none,
    /// or when the generator keeps no structured form of its query (a model's answer, a
    /// verified query the offline rules read otherwise): no scope rather than a guessed one.
    pub scope: Option<Vec<ScopeItemDoc>>,
}

/// One answered question of a conversation.
#[derive(Serialize, ToSchema)]
#[schema(as = Turn)]
pub struct TurnDoc {
    /// The 1-based turn number.
    pub turn: u64,
    /// The question as asked.
    pub question: String,
    /// The SQL that answered it.
    pub sql: String,
    /// What the SQL does.
    pub explanation: String,
    /// Names of the result's columns.
    pub columns: Vec<String>,
    /// Rows returned.
    pub row_count: usize,
    /// The generator that wrote the SQL.
    pub generator: String,
    /// When the turn was answered (RFC 3339).
    pub at: String,
    /// The generator's structured form of the query, when it has one.
    #[schema(value_type = Option<Object>)]
    pub state: Option<serde_json::Value>,
    /// The question back, when this turn asked which reading was meant (its `sql` is empty).
    pub clarification: Option<ClarificationDoc>,
}

/// The state of a conversation.
#[derive(Serialize, ToSchema)]
#[schema(as = SessionState)]
pub struct SessionStateDoc {
    /// The owning tenant (the caller's).
    pub tenant_id: String,
    /// The owning user (the caller).
    pub user_id: Option<String>,
    /// The session id.
    pub session_id: String,
    /// The most recent turns, oldest first.
    pub turns: Vec<TurnDoc>,
    /// Turns answered over the whole life of the session.
    pub turn_count: u64,
}
