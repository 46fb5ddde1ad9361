//! The records the foreign bindings receive, built from the engine's types.

use std::collections::HashMap;

use conversational_bi::{
    answer::{
        Answer as CoreAnswer, Attempt as CoreAttempt, ChartSuggestion, ScopeItem as CoreScopeItem,
        ScopeKind as CoreScopeKind,
    },
    catalog::{Catalog, Column as CoreColumn, ForeignKey as CoreForeignKey, Table, TableKind},
    engine::{Health as CoreHealth, TenantHealth as CoreTenantHealth},
    exec::{ResultColumn, Value},
    feedback::{
        Feedback as CoreFeedback, FeedbackStatus as CoreFeedbackStatus,
        FeedbackSubmission as CoreFeedbackSubmission, Rating as CoreRating,
    },
    session::{
        SessionState as CoreSessionState, SessionSummary as CoreSessionSummary, Turn as CoreTurn,
    },
};

/// One value of a result row, typed.
///
/// Prints as the value a person reads (`59`, `Iron Maiden`, `NULL`): Python's `str`, Kotlin's
/// `toString` and Swift's `description`. Python's `repr` (what a printed row, a list of cells,
/// shows) and Swift's `debugDescription` name the variant too: `Int { value: 59 }`.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
#[uniffi::export(Display, Debug)]
pub enum CellValue {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool {
        /// The value.
        value: bool,
    },
    /// An integer (64-bit).
    Int {
        /// The value.
        value: i64,
    },
    /// A floating-point number.
    Float {
        /// The value.
        value: f64,
    },
    /// An exact decimal (SQL `NUMERIC`/`DECIMAL`), as its canonical text: no digit is lost.
    Decimal {
        /// The value, e.g. `"1234.50"`.
        value: String,
    },
    /// Text; dates, times and timestamps are ISO-8601 text.
    Text {
        /// The value.
        value: String,
    },
    /// A binary value.
    Bytes {
        /// The value.
        value: Vec<u8>,
    },
}

impl From<Value> for CellValue {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => Self::Null,
            Value::Bool(value) => Self::Bool { value },
            Value::Int(value) => Self::Int { value },
            Value::Float(value) => Self::Float { value },
            Value::Decimal(value) => Self::Decimal { value },
            Value::Text(value) => Self::Text { value },
            Value::Bytes(hex) => Self::Bytes {
                value: decode_hex(&hex),
            },
        }
    }
}

/// The value alone: numbers and decimals as written (a float keeps its point: `2.0`), text as
/// is, booleans as `true`/`false`,
/// NULL as `NULL`, bytes as lowercase hex with a `0x` prefix.
impl std::fmt::Display for CellValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Null => f.write_str("NULL"),
            Self::Bool { value } => write!(f, "{value}"),
            Self::Int { value } => write!(f, "{value}"),
            Self::Float { value } => write!(f, "{value:?}"),
            Self::Decimal { value } | Self::Text { value } => f.write_str(value),
            Self::Bytes { value } => {
                f.write_str("0x")?;
                value.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

/// The executor renders binary values as lowercase hex.
fn decode_hex(hex: &str) -> Vec<u8> {
    hex.as_bytes()
        .chunks(2)
        .filter_map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

/// A result column.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ResultColumnInfo {
    /// The column's label in the result.
    pub name: String,
    /// The database's type name for it (e.g. `INTEGER`, `numeric`).
    pub data_type: String,
}

impl From<ResultColumn> for ResultColumnInfo {
    fn from(c: ResultColumn) -> Self {
        Self {
            name: c.name,
            data_type: c.data_type,
        }
    }
}

/// One try of the generator.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Attempt {
    /// The SQL as the generator wrote it.
    pub sql: String,
    /// Why this try failed; `None` for the try that succeeded.
    pub error: Option<String>,
}

impl From<CoreAttempt> for Attempt {
    fn from(a: CoreAttempt) -> Self {
        Self {
            sql: a.sql,
            error: a.error,
        }
    }
}

/// A chart that suits the result.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Chart {
    /// `bar`, `line`, `pie`, `scatter` or `stacked_bar`.
    pub kind: String,
    /// The category or time column the chart is drawn along (the first measure of a scatter
    /// plot).
    pub x: String,
    /// The measure (the second measure of a scatter plot).
    pub y: String,
    /// The chart's complete Vega-Lite v6 specification as JSON text, the rows inline
    /// (`data.values`): for a web view running `vegaEmbed`.
    pub vega_lite_json: String,
}

impl From<ChartSuggestion> for Chart {
    fn from(c: ChartSuggestion) -> Self {
        Self {
            kind: c.kind,
            x: c.x,
            y: c.y,
            vega_lite_json: c.vega_lite.to_string(),
        }
    }
}

/// What an answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AnswerKind {
    /// SQL ran and the result is in the answer.
    Answer,
    /// The engine asks which reading was meant; nothing ran.
    Clarification,
}

/// One reading of an ambiguous question.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ClarificationOption {
    /// The reply that picks it (send it as the next question).
    pub label: String,
    /// What it means.
    pub detail: String,
}

/// A question back to the asker, with the readings to choose from.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Clarification {
    /// What the engine asks.
    pub question: String,
    /// The readings.
    pub options: Vec<ClarificationOption>,
}

impl From<conversational_bi::answer::Clarification> for Clarification {
    fn from(c: conversational_bi::answer::Clarification) -> Self {
        Self {
            question: c.question,
            options: c
                .options
                .into_iter()
                .map(|o| ClarificationOption {
                    label: o.label,
                    detail: o.detail,
                })
                .collect(),
        }
    }
}

/// What kind of part of a query a [`ScopeItem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ScopeKind {
    /// A condition on rows (`WHERE`): "genre name is Rock", "in 2024".
    Filter,
    /// A condition on a computed value (`HAVING`): "the number of tracks is more than 10".
    Having,
    /// A grouping: "by invoice billing country".
    Group,
    /// The sort: "sorted by the number of tracks, largest first".
    Order,
    /// The row limit: "top 5".
    Limit,
}

impl From<CoreScopeKind> for ScopeKind {
    fn from(k: CoreScopeKind) -> Self {
        match k {
            CoreScopeKind::Filter => Self::Filter,
            CoreScopeKind::Having => Self::Having,
            CoreScopeKind::Group => Self::Group,
            CoreScopeKind::Order => Self::Order,
            CoreScopeKind::Limit => Self::Limit,
        }
    }
}

/// One removable part of the query an answer ran: what an app shows as a chip under the
/// answer. Pass its `id` as `remove_scope` of `ask` (with an empty question and the answer's
/// `session_id`) to ask for the answer without it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ScopeItem {
    /// Names the part within its answer: `filter:0`, `having:0`, `group:1` (by position),
    /// `order` or `limit`.
    pub id: String,
    /// What kind of part it is.
    pub kind: ScopeKind,
    /// The part in plain words, as the explanation words it ("genre name is Rock",
    /// "by invoice billing country", "top 5").
    pub label: String,
}

impl From<CoreScopeItem> for ScopeItem {
    fn from(i: CoreScopeItem) -> Self {
        Self {
            id: i.id,
            kind: i.kind.into(),
            label: i.label,
        }
    }
}

/// The engine's reply to one question.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Answer {
    /// The SQL that ran (validated, comments stripped, row cap applied).
    pub sql: String,
    /// What the SQL does, in plain words.
    pub explanation: String,
    /// Result columns.
    pub columns: Vec<ResultColumnInfo>,
    /// Result rows, one list of typed values per row.
    pub rows: Vec<Vec<CellValue>>,
    /// Number of rows returned.
    pub row_count: u64,
    /// Whether the row cap cut the result.
    pub truncated: bool,
    /// Whether the SQL came from the semantic cache.
    pub cache_hit: bool,
    /// Similarity to the cached question, on a cache hit.
    pub similarity: Option<f64>,
    /// Which generator wrote the SQL (`rule`, `openai:gpt-4o-mini`, ...).
    pub generator: String,
    /// Whether a fallback answered because the configured generator was unavailable.
    pub degraded: bool,
    /// Every try, in order; the last one succeeded.
    pub attempts: Vec<Attempt>,
    /// Milliseconds per stage (`guard`, `session`, `generate`, `validate`, `execute`, `total`).
    pub timings: HashMap<String, f64>,
    /// The conversation this answer belongs to: pass it as `session_id` to ask a follow-up.
    pub session_id: String,
    /// The 1-based number of this turn in the conversation.
    pub turn: u64,
    /// A chart that suits the result.
    pub chart: Option<Chart>,
    /// Things the user should know (e.g. the result was cut at the row cap).
    pub warnings: Vec<String>,
    /// `Answer`, or `Clarification` when the engine asks which reading was meant.
    pub kind: AnswerKind,
    /// The question back, when `kind` is `Clarification`.
    pub clarification: Option<Clarification>,
    /// Whether a verified query (a question someone checked) answered.
    pub verified: bool,
    /// Two or three follow-ups to ask next.
    pub suggestions: Vec<String>,
    /// The parts of the query in force after this answer (its conditions, groupings, sort and
    /// limit), each removable as the next turn with `ask("", session_id, remove_scope = id)`;
    /// empty when the generator keeps no structured form of the SQL (a model).
    pub scope: Vec<ScopeItem>,
}

impl From<CoreAnswer> for Answer {
    fn from(a: CoreAnswer) -> Self {
        Self {
            sql: a.sql,
            explanation: a.explanation,
            columns: a.columns.into_iter().map(Into::into).collect(),
            rows: a
                .rows
                .into_iter()
                .map(|r| r.into_iter().map(Into::into).collect())
                .collect(),
            row_count: a.row_count as u64,
            truncated: a.truncated,
            cache_hit: a.cache_hit,
            similarity: a.similarity,
            generator: a.generator,
            degraded: a.degraded,
            attempts: a.attempts.into_iter().map(Into::into).collect(),
            timings: a.timings.into_iter().collect(),
            session_id: a.session_id,
            turn: a.turn,
            chart: a.chart.map(Into::into),
            warnings: a.warnings,
            kind: match a.kind {
                conversational_bi::answer::AnswerKind::Answer => AnswerKind::Answer,
                conversational_bi::answer::AnswerKind::Clarification => AnswerKind::Clarification,
            },
            clarification: a.clarification.map(Into::into),
            verified: a.verified,
            suggestions: a.suggestions,
            scope: a.scope.into_iter().map(Into::into).collect(),
        }
    }
}

/// One question of a conversation: answered, answered with a question back, or not answered
/// (empty `sql`, the reason in `explanation`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Turn {
    /// 1-based turn number within the session.
    pub turn: u64,
    /// The question as asked (after the input guard).
    pub question: String,
    /// The SQL that answered it (empty when none did).
    pub sql: String,
    /// What the SQL does, or why the question was not answered.
    pub explanation: String,
    /// Names of the result's columns.
    pub columns: Vec<String>,
    /// Rows returned.
    pub row_count: u64,
    /// The generator that wrote the SQL.
    pub generator: String,
    /// When the turn was answered (RFC 3339).
    pub at: String,
}

impl From<CoreTurn> for Turn {
    fn from(t: CoreTurn) -> Self {
        Self {
            turn: t.turn,
            question: t.question,
            sql: t.sql,
            explanation: t.explanation,
            columns: t.columns,
            row_count: t.row_count as u64,
            generator: t.generator,
            at: t.at,
        }
    }
}

/// The state of one conversation.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SessionState {
    /// The owning tenant.
    pub tenant_id: String,
    /// The session id.
    pub session_id: String,
    /// The most recent turns, oldest first.
    pub turns: Vec<Turn>,
    /// Turns answered over the whole life of the session, including those no longer kept.
    pub turn_count: u64,
    /// The owning user; absent for the engine's default user.
    pub user_id: Option<String>,
}

impl From<CoreSessionState> for SessionState {
    fn from(s: CoreSessionState) -> Self {
        Self {
            tenant_id: s.tenant_id,
            session_id: s.session_id,
            turns: s.turns.into_iter().map(Into::into).collect(),
            turn_count: s.turn_count,
            user_id: s.user_id,
        }
    }
}

/// What a list of conversations (an app's sidebar) shows of one of them (`list_sessions`,
/// `rename_session`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionSummary {
    /// The session id: pass it as `session_id` to continue, read, rename or reset the
    /// conversation.
    pub session_id: String,
    /// The title given with `rename_session`, else the conversation's first question (at most
    /// 80 characters of it).
    pub title: String,
    /// When its first turn was answered (RFC 3339, UTC).
    pub created_at: String,
    /// When its last turn was answered (RFC 3339, UTC); lists are ordered by it, newest first.
    pub updated_at: String,
    /// Turns answered over the whole life of the conversation.
    pub turn_count: u64,
}

impl From<CoreSessionSummary> for SessionSummary {
    fn from(s: CoreSessionSummary) -> Self {
        Self {
            session_id: s.session_id,
            title: s.title,
            created_at: s.created_at,
            updated_at: s.updated_at,
            turn_count: s.turn_count,
        }
    }
}

/// A column of a table or view.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SchemaColumn {
    /// The column's name, exactly as the database spells it.
    pub name: String,
    /// The declared SQL type.
    pub data_type: String,
    /// Whether the column accepts NULL.
    pub nullable: bool,
    /// The column's comment, where the database has one.
    pub comment: Option<String>,
}

impl From<CoreColumn> for SchemaColumn {
    fn from(c: CoreColumn) -> Self {
        Self {
            name: c.name,
            data_type: c.data_type,
            nullable: c.nullable,
            comment: c.comment,
        }
    }
}

/// A foreign key: `columns` reference `referenced_columns` of `referenced_table`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ForeignKey {
    /// Columns of the owning table.
    pub columns: Vec<String>,
    /// Schema of the referenced table (PostgreSQL only).
    pub referenced_schema: Option<String>,
    /// The referenced table.
    pub referenced_table: String,
    /// Columns of the referenced table, matching `columns` one to one.
    pub referenced_columns: Vec<String>,
}

impl From<CoreForeignKey> for ForeignKey {
    fn from(f: CoreForeignKey) -> Self {
        Self {
            columns: f.columns,
            referenced_schema: f.referenced_schema,
            referenced_table: f.referenced_table,
            referenced_columns: f.referenced_columns,
        }
    }
}

/// A table or view.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SchemaTable {
    /// The schema (namespace) for PostgreSQL; `None` for SQLite and MySQL.
    pub schema: Option<String>,
    /// The table's name, exactly as the database spells it.
    pub name: String,
    /// `table` or `view`.
    pub kind: String,
    /// Columns in declaration order.
    pub columns: Vec<SchemaColumn>,
    /// Primary-key column names, in key order.
    pub primary_key: Vec<String>,
    /// Foreign keys from this table to others.
    pub foreign_keys: Vec<ForeignKey>,
    /// The table's comment, where the database has one.
    pub comment: Option<String>,
}

impl From<Table> for SchemaTable {
    fn from(t: Table) -> Self {
        Self {
            schema: t.schema,
            name: t.name,
            kind: match t.kind {
                TableKind::Table => "table",
                TableKind::View => "view",
            }
            .into(),
            columns: t.columns.into_iter().map(Into::into).collect(),
            primary_key: t.primary_key,
            foreign_keys: t.foreign_keys.into_iter().map(Into::into).collect(),
            comment: t.comment,
        }
    }
}

/// The schema the engine sees.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Schema {
    /// `sqlite`, `postgres` or `mysql`.
    pub dialect: String,
    /// The database's name.
    pub database: String,
    /// Tables and views, sorted by schema then name.
    pub tables: Vec<SchemaTable>,
    /// A short hash that changes whenever the schema changes.
    pub fingerprint: String,
}

impl From<&Catalog> for Schema {
    fn from(c: &Catalog) -> Self {
        Self {
            dialect: c.dialect.as_str().into(),
            database: c.database.clone(),
            tables: c.tables.iter().cloned().map(Into::into).collect(),
            fingerprint: c.fingerprint.clone(),
        }
    }
}

/// The engine's health.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Health {
    /// `ok` when every check passed, `degraded` otherwise.
    pub status: String,
    /// The engine's version.
    pub version: String,
    /// Whether the database answered.
    pub database: bool,
    /// The database's error, when it did not.
    pub database_error: Option<String>,
    /// The generator that answers: `rule`, or the provider and model (e.g. `openai:gpt-4o`).
    pub generator: String,
    /// The database of each `[tenants.<id>]`, in the order of their ids (empty without
    /// tenants); a tenant whose database is down makes the status `degraded`.
    #[uniffi(default = [])]
    pub tenants: Vec<TenantHealth>,
}

impl From<CoreHealth> for Health {
    fn from(h: CoreHealth) -> Self {
        Self {
            status: h.status,
            version: h.version,
            database: h.database,
            database_error: h.database_error,
            generator: h.generator,
            tenants: h.tenants.into_iter().map(TenantHealth::from).collect(),
        }
    }
}

/// The health of one `[tenants.<id>]` database. A tenant's pool opens at its first question, so
/// a tenant nobody has asked for yet is not open and is not pinged.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TenantHealth {
    /// The tenant, as in `[tenants.<id>]`.
    pub tenant_id: String,
    /// Whether the tenant's pool is open now.
    pub open: bool,
    /// Whether the database answered; `None` when the pool is not open (it is not pinged).
    #[uniffi(default = None)]
    pub database: Option<bool>,
    /// What failed: the ping of an open pool, or the last connection attempt when it failed.
    #[uniffi(default = None)]
    pub error: Option<String>,
    /// `sqlite`, `postgres` or `mysql`: the connected database's, else the URL's.
    #[uniffi(default = None)]
    pub dialect: Option<String>,
}

impl From<CoreTenantHealth> for TenantHealth {
    fn from(t: CoreTenantHealth) -> Self {
        Self {
            tenant_id: t.tenant_id,
            open: t.open,
            database: t.database,
            error: t.error,
            dialect: t.dialect,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_print_their_values() {
        let cells = [
            CellValue::Int { value: 59 },
            CellValue::Text {
                value: "Iron Maiden".into(),
            },
            CellValue::Decimal {
                value: "1.50".into(),
            },
            CellValue::Float { value: 2.0 },
            CellValue::Bool { value: true },
            CellValue::Null,
            CellValue::Bytes {
                value: vec![0xca, 0xfe],
            },
        ];
        let shown: Vec<String> = cells.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["59", "Iron Maiden", "1.50", "2.0", "true", "NULL", "0xcafe"]
        );
        assert_eq!(
            format!("{:?}", &cells[..2]),
            r#"[Int { value: 59 }, Text { value: "Iron Maiden" }]"#
        );
    }

    #[test]
    fn values_keep_their_type() {
        assert_eq!(CellValue::from(Value::Null), CellValue::Null);
        assert_eq!(
            CellValue::from(Value::Int(9_007_199_254_740_993)),
            CellValue::Int {
                value: 9_007_199_254_740_993
            }
        );
        assert_eq!(
            CellValue::from(Value::Decimal("1.50".into())),
            CellValue::Decimal {
                value: "1.50".into()
            }
        );
        assert_eq!(
            CellValue::from(Value::Bytes("cafe00".into())),
            CellValue::Bytes {
                value: vec![0xca, 0xfe, 0x00]
            }
        );
    }
}

/// A rating of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Rating {
    /// The answer was right.
    Up,
    /// The answer was wrong (a corrected SQL says what it should have been).
    Down,
}

impl From<Rating> for CoreRating {
    fn from(r: Rating) -> Self {
        match r {
            Rating::Up => Self::Up,
            Rating::Down => Self::Down,
        }
    }
}

impl From<CoreRating> for Rating {
    fn from(r: CoreRating) -> Self {
        match r {
            CoreRating::Up => Self::Up,
            CoreRating::Down => Self::Down,
        }
    }
}

/// Where a feedback record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FeedbackStatus {
    /// Not looked at yet.
    New,
    /// An admin promoted it to a verified query.
    Promoted,
    /// An admin set it aside.
    Dismissed,
}

impl From<CoreFeedbackStatus> for FeedbackStatus {
    fn from(s: CoreFeedbackStatus) -> Self {
        match s {
            CoreFeedbackStatus::New => Self::New,
            CoreFeedbackStatus::Promoted => Self::Promoted,
            CoreFeedbackStatus::Dismissed => Self::Dismissed,
        }
    }
}

/// What a user says about one turn of one of their conversations (`Engine.feedback`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FeedbackSubmission {
    /// The conversation (the `session_id` of the answer rated); one of the user's own.
    pub session_id: String,
    /// The turn rated (the `turn` of the answer, 1-based).
    pub turn: u64,
    /// Whether the answer was right.
    pub rating: Rating,
    /// The SQL that answers the question, when the answer was wrong; it must pass the
    /// validator under the user's data permissions (`SqlRejected` otherwise).
    #[uniffi(default = None)]
    pub corrected_sql: Option<String>,
    /// Free text (at most `[feedback] max_comment_chars` characters).
    #[uniffi(default = None)]
    pub comment: Option<String>,
}

impl From<FeedbackSubmission> for CoreFeedbackSubmission {
    fn from(s: FeedbackSubmission) -> Self {
        Self {
            session_id: s.session_id,
            turn: s.turn,
            rating: s.rating.into(),
            corrected_sql: s.corrected_sql,
            comment: s.comment,
        }
    }
}

/// A stored feedback record: a user's rating of one turn of their conversation.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Feedback {
    /// Its id (a UUID).
    pub id: String,
    /// The tenant of the conversation.
    pub tenant_id: String,
    /// The user who gave it (empty for the engine's default user).
    pub user_id: String,
    /// The conversation.
    pub session_id: String,
    /// The turn rated.
    pub turn: u64,
    /// The rating.
    pub rating: Rating,
    /// The turn's question (read from the conversation).
    pub question: String,
    /// The turn's SQL: the answer rated.
    pub sql: String,
    /// The user's corrected SQL, validated under their data permissions.
    pub corrected_sql: Option<String>,
    /// The user's comment.
    pub comment: Option<String>,
    /// `New`, then `Promoted` or `Dismissed` once an admin acted on it.
    pub status: FeedbackStatus,
    /// When it was given (RFC 3339, UTC).
    pub created_at: String,
}

impl From<CoreFeedback> for Feedback {
    fn from(f: CoreFeedback) -> Self {
        Self {
            id: f.id,
            tenant_id: f.tenant_id,
            user_id: f.user_id,
            session_id: f.session_id,
            turn: f.turn,
            rating: f.rating.into(),
            question: f.question,
            sql: f.sql,
            corrected_sql: f.corrected_sql,
            comment: f.comment,
            status: f.status.into(),
            created_at: f.created_at,
        }
    }
}
