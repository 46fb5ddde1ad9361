//! The plain JavaScript objects the binding returns, in camelCase, built from the engine's types.

use std::collections::HashMap;

use conversational_bi::{
    answer::{
        Answer as CoreAnswer, Attempt as CoreAttempt, ChartSuggestion, ScopeItem as CoreScopeItem,
        ScopeKind,
    },
    catalog::{Catalog as CoreCatalog, Column as CoreColumn, ForeignKey as CoreForeignKey, Table},
    engine::{Health as CoreHealth, TenantHealth as CoreTenantHealth},
    exec::{ResultColumn, Value},
    feedback::Feedback as CoreFeedback,
    session::{
        SessionState as CoreSessionState, SessionSummary as CoreSessionSummary, Turn as CoreTurn,
    },
};
use napi::{bindgen_prelude::*, sys};
use napi_derive::napi;

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub(crate) const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// One value of a result row, converted to its natural JavaScript form.
///
/// NULL → `null`; booleans → `boolean`; integers → `number`, or `bigint` beyond
/// `Number.MAX_SAFE_INTEGER` so that no digit is lost; floats → `number`; exact decimals (SQL
/// `NUMERIC`/`DECIMAL`) → their canonical `string`; text, dates and timestamps (ISO-8601) →
/// `string`; binary values → `Buffer`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell(pub Value);

impl ToNapiValue for Cell {
    unsafe fn to_napi_value(env: sys::napi_env, cell: Self) -> Result<sys::napi_value> {
        // SAFETY (all arms): `env` is the live environment napi handed to this conversion.
        unsafe {
            match cell.0 {
                Value::Null => Null::to_napi_value(env, Null),
                Value::Bool(b) => bool::to_napi_value(env, b),
                Value::Int(i) if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i) => {
                    f64::to_napi_value(env, i as f64)
                }
                Value::Int(i) => BigInt::to_napi_value(env, BigInt::from(i)),
                Value::Float(f) => f64::to_napi_value(env, f),
                Value::Decimal(s) | Value::Text(s) => String::to_napi_value(env, s),
                Value::Bytes(hex) => Buffer::to_napi_value(env, Buffer::from(decode_hex(&hex))),
            }
        }
    }
}

/// The executor renders binary values as lowercase hex; a malformed pair (never produced) is
/// skipped rather than invented.
fn decode_hex(hex: &str) -> Vec<u8> {
    hex.as_bytes()
        .chunks(2)
        .filter_map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

/// A result column.
#[napi(object, object_from_js = false)]
pub struct Column {
    /// The column's label in the result.
    pub name: String,
    /// The database's type name for it (e.g. `INTEGER`, `numeric`).
    #[napi(js_name = "type")]
    pub data_type: String,
}

impl From<ResultColumn> for Column {
    fn from(c: ResultColumn) -> Self {
        Self {
            name: c.name,
            data_type: c.data_type,
        }
    }
}

/// One try of the generator.
#[napi(object, object_from_js = false)]
pub struct Attempt {
    /// The SQL as the generator wrote it.
    pub sql: String,
    /// Why this try failed; absent for the try that succeeded.
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
#[napi(object, object_from_js = false)]
pub struct Chart {
    /// `bar`, `line`, `pie`, `scatter` or `stacked_bar`.
    pub kind: String,
    /// The category or time column the chart is drawn along (the first measure of a scatter
    /// plot).
    pub x: String,
    /// The measure (the second measure of a scatter plot).
    pub y: String,
    /// The chart's complete Vega-Lite v6 specification, the rows inline (`data.values`): pass
    /// it to `vegaEmbed`.
    #[napi(ts_type = "Record<string, any>")]
    pub vega_lite: serde_json::Value,
}

impl From<ChartSuggestion> for Chart {
    fn from(c: ChartSuggestion) -> Self {
        Self {
            kind: c.kind,
            x: c.x,
            y: c.y,
            vega_lite: c.vega_lite,
        }
    }
}

/// One reading of an ambiguous question.
#[napi(object, object_from_js = false)]
pub struct ClarificationOption {
    /// The reply that picks it (send it as the next question).
    pub label: String,
    /// What it means.
    pub detail: String,
}

/// A question back to the asker, with the readings to choose from.
#[napi(object, object_from_js = false)]
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

/// One removable part of the query an answer ran: what a front end shows as a chip under the
/// answer. Pass its `id` as `removeScope` to ask for the answer without it.
#[napi(object, object_from_js = false)]
pub struct ScopeItem {
    /// Names the part within its answer: `filter:0`, `having:0`, `group:1` (by position),
    /// `order` or `limit`.
    pub id: String,
    /// `filter` (a condition on rows), `having` (a condition on a computed value), `group`,
    /// `order` or `limit`.
    #[napi(ts_type = "'filter' | 'having' | 'group' | 'order' | 'limit'")]
    pub kind: String,
    /// The part in plain words, as the explanation words it (`genre name is Rock`,
    /// `by invoice billing country`, `top 5`).
    pub label: String,
}

impl From<CoreScopeItem> for ScopeItem {
    fn from(i: CoreScopeItem) -> Self {
        Self {
            id: i.id,
            kind: scope_kind(i.kind).to_string(),
            label: i.label,
        }
    }
}

/// The name of a scope item's kind, as the engine's JSON spells it.
pub(crate) fn scope_kind(kind: ScopeKind) -> &'static str {
    match kind {
        ScopeKind::Filter => "filter",
        ScopeKind::Having => "having",
        ScopeKind::Group => "group",
        ScopeKind::Order => "order",
        ScopeKind::Limit => "limit",
    }
}

/// `answer` or `clarification`.
pub(crate) fn kind_name(kind: conversational_bi::answer::AnswerKind) -> &'static str {
    match kind {
        conversational_bi::answer::AnswerKind::Answer => "answer",
        conversational_bi::answer::AnswerKind::Clarification => "clarification",
    }
}

// `ask` sends most answers as JSON (`crate::answer_js`), which must give the very object this
// struct's conversion builds: a change here goes there too.
/// The engine's reply to one question.
#[napi(object, object_from_js = false)]
pub struct Answer {
    /// The SQL that ran (validated, comments stripped, row cap applied).
    pub sql: String,
    /// What the SQL does, in plain words.
    pub explanation: String,
    /// Result columns.
    pub columns: Vec<Column>,
    /// Result rows, one array of values per row (see `CellValue`).
    #[napi(ts_type = "CellValue[][]")]
    pub rows: Vec<Vec<Cell>>,
    /// Number of rows returned.
    pub row_count: u32,
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
    /// Milliseconds per stage (`guard`, `session`, `generate`, `validate`, `execute`, `total`, ...).
    pub timings: HashMap<String, f64>,
    /// The conversation this answer belongs to: pass it as `sessionId` to ask a follow-up.
    pub session_id: String,
    /// The 1-based number of this turn in the conversation.
    pub turn: u32,
    /// A chart that suits the result.
    pub chart: Option<Chart>,
    /// Things the user should know (e.g. the result was cut at the row cap).
    pub warnings: Vec<String>,
    /// `answer`, or `clarification` when the engine asks which reading was meant (then nothing
    /// ran and `clarification` holds the question and its options).
    #[napi(ts_type = "'answer' | 'clarification'")]
    pub kind: String,
    /// Whether a verified query (a question someone checked) answered.
    pub verified: bool,
    /// Two or three follow-ups to ask next.
    pub suggestions: Vec<String>,
    /// The parts of the query in force after this answer (its conditions, groupings, sort and
    /// limit), each removable as the next turn with `ask('', { sessionId, removeScope: id })`;
    /// empty when the generator keeps no structured form of the SQL (a model).
    pub scope: Vec<ScopeItem>,
    /// The question back, when `kind` is `clarification`.
    pub clarification: Option<Clarification>,
}

impl From<CoreAnswer> for Answer {
    fn from(a: CoreAnswer) -> Self {
        Self {
            sql: a.sql,
            explanation: a.explanation,
            columns: a.columns.into_iter().map(Column::from).collect(),
            rows: a
                .rows
                .into_iter()
                .map(|r| r.into_iter().map(Cell).collect())
                .collect(),
            row_count: saturating_u32(a.row_count as u64),
            truncated: a.truncated,
            cache_hit: a.cache_hit,
            similarity: a.similarity,
            generator: a.generator,
            degraded: a.degraded,
            attempts: a.attempts.into_iter().map(Attempt::from).collect(),
            timings: a.timings.into_iter().collect(),
            session_id: a.session_id,
            turn: saturating_u32(a.turn),
            chart: a.chart.map(Chart::from),
            warnings: a.warnings,
            kind: kind_name(a.kind).to_string(),
            verified: a.verified,
            suggestions: a.suggestions,
            scope: a.scope.into_iter().map(ScopeItem::from).collect(),
            clarification: a.clarification.map(Clarification::from),
        }
    }
}

/// `n`, or `u32::MAX` when it does not fit.
pub(crate) fn saturating_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One answered question of a conversation.
#[napi(object, object_from_js = false)]
pub struct Turn {
    /// 1-based turn number within the session.
    pub turn: u32,
    /// The question as asked (after the input guard).
    pub question: String,
    /// The SQL that answered it.
    pub sql: String,
    /// What the SQL does.
    pub explanation: String,
    /// Names of the result's columns.
    pub columns: Vec<String>,
    /// Rows returned.
    pub row_count: u32,
    /// The generator that wrote the SQL.
    pub generator: String,
    /// When the turn was answered (RFC 3339).
    pub at: String,
}

impl From<CoreTurn> for Turn {
    fn from(t: CoreTurn) -> Self {
        Self {
            turn: saturating_u32(t.turn),
            question: t.question,
            sql: t.sql,
            explanation: t.explanation,
            columns: t.columns,
            row_count: saturating_u32(t.row_count as u64),
            generator: t.generator,
            at: t.at,
        }
    }
}

/// The state of one conversation.
#[napi(object, object_from_js = false)]
pub struct SessionState {
    /// The owning tenant.
    pub tenant_id: String,
    /// The owning user; absent for the engine's default user.
    pub user_id: Option<String>,
    /// The session id.
    pub session_id: String,
    /// The most recent turns, oldest first.
    pub turns: Vec<Turn>,
    /// Turns answered over the whole life of the session, including those no longer kept.
    pub turn_count: u32,
}

impl From<CoreSessionState> for SessionState {
    fn from(s: CoreSessionState) -> Self {
        Self {
            tenant_id: s.tenant_id,
            user_id: s.user_id,
            session_id: s.session_id,
            turns: s.turns.into_iter().map(Turn::from).collect(),
            turn_count: saturating_u32(s.turn_count),
        }
    }
}

/// What a list of conversations (a sidebar) shows of one of them (`listSessions`,
/// `renameSession`).
#[napi(object, object_from_js = false)]
pub struct SessionSummary {
    /// The session id: pass it as `sessionId` to continue, read, rename or reset the
    /// conversation.
    pub session_id: String,
    /// The title given with `renameSession`, else the conversation's first question (at most
    /// 80 characters of it).
    pub title: String,
    /// When its first turn was answered (RFC 3339, UTC).
    pub created_at: String,
    /// When its last turn was answered (RFC 3339, UTC); lists are ordered by it, newest first.
    pub updated_at: String,
    /// Turns answered over the whole life of the conversation.
    pub turn_count: u32,
}

impl From<CoreSessionSummary> for SessionSummary {
    fn from(s: CoreSessionSummary) -> Self {
        Self {
            session_id: s.session_id,
            title: s.title,
            created_at: s.created_at,
            updated_at: s.updated_at,
            turn_count: saturating_u32(s.turn_count),
        }
    }
}

/// A stored feedback record: a user's rating of one turn of their conversation.
#[napi(object, object_from_js = false)]
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
    pub turn: u32,
    /// `'up'` or `'down'`.
    #[napi(ts_type = "'up' | 'down'")]
    pub rating: String,
    /// The turn's question (read from the conversation).
    pub question: String,
    /// The turn's SQL: the answer rated.
    pub sql: String,
    /// The user's corrected SQL, validated under their data permissions.
    pub corrected_sql: Option<String>,
    /// The user's comment.
    pub comment: Option<String>,
    /// `'new'`, then `'promoted'` or `'dismissed'` once an admin acted on it.
    #[napi(ts_type = "'new' | 'promoted' | 'dismissed'")]
    pub status: String,
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
            turn: saturating_u32(f.turn),
            rating: f.rating.as_str().to_string(),
            question: f.question,
            sql: f.sql,
            corrected_sql: f.corrected_sql,
            comment: f.comment,
            status: f.status.as_str().to_string(),
            created_at: f.created_at,
        }
    }
}

/// A column of a table or view.
#[napi(object, object_from_js = false)]
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

/// A foreign key: `columns` reference `referencedColumns` of `referencedTable`.
#[napi(object, object_from_js = false)]
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
#[napi(object, object_from_js = false)]
pub struct SchemaTable {
    /// The schema (namespace) for PostgreSQL; absent for SQLite and MySQL.
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
                conversational_bi::catalog::TableKind::Table => "table",
                conversational_bi::catalog::TableKind::View => "view",
            }
            .into(),
            columns: t.columns.into_iter().map(SchemaColumn::from).collect(),
            primary_key: t.primary_key,
            foreign_keys: t.foreign_keys.into_iter().map(ForeignKey::from).collect(),
            comment: t.comment,
        }
    }
}

/// The schema the engine sees.
#[napi(object, object_from_js = false)]
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

impl From<&CoreCatalog> for Schema {
    fn from(c: &CoreCatalog) -> Self {
        Self {
            dialect: c.dialect.as_str().into(),
            database: c.database.clone(),
            tables: c.tables.iter().cloned().map(SchemaTable::from).collect(),
            fingerprint: c.fingerprint.clone(),
        }
    }
}

/// The engine's health.
#[napi(object, object_from_js = false)]
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

/// The health of one `[tenants.<id>]` database. A tenant's pool opens at its first question,
/// so a tenant nobody has asked for yet is not open and is not pinged.
#[napi(object, object_from_js = false)]
pub struct TenantHealth {
    /// The tenant, as in `[tenants.<id>]`.
    pub tenant_id: String,
    /// Whether the tenant's pool is open now.
    pub open: bool,
    /// Whether the database answered; absent when the pool is not open (it is not pinged).
    pub database: Option<bool>,
    /// What failed: the ping of an open pool, or the last connection attempt when it failed.
    pub error: Option<String>,
    /// `sqlite`, `postgres` or `mysql`: the connected database's, else the URL's.
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
