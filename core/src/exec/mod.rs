//! Data sources: pooled, read-only execution and catalog introspection over sqlx for SQLite,
//! PostgreSQL and MySQL/MariaDB.
//!
//! Execution is defence in depth: the [`crate::sql`] validator is the first line, and every
//! statement that reaches a database also runs under that database's own read-only mechanism,
//! a statement timeout and a row cap, so that a validator bug still cannot write.
//!
//! | Backend | Read-only mechanism and policy | Statement timeout | Extra bounds |
//! |---|---|---|---|
//! | SQLite ([`SqliteExecutor`]) | file opened read-only, never created; an authorizer allowing only one `SELECT` that reads allowed catalog tables, no denied column and only allow-listed functions, plus an audit of the compiled program (joins the authorizer is not told about); double-quoted names are never strings | progress-handler deadline, checked inside the superlinear string functions too; the client deadline interrupts the statement | no attached databases, 1 MiB values |
//! | PostgreSQL ([`PostgresExecutor`]) | `BEGIN READ ONLY` (snapshot taken first), always rolled back; `standard_conforming_strings` and the search path pinned | `SET LOCAL statement_timeout` | client deadline + `pg_cancel_backend`; advisory locks released |
//! | MySQL/MariaDB ([`MysqlExecutor`]) | `START TRANSACTION READ ONLY`, always rolled back; a `sql_mode` without the modes that change how SQL is read | session `max_statement_time` (MariaDB) / `max_execution_time` (MySQL) | client deadline + `KILL QUERY`; user locks released |
//!
//! A statement whose caller stops waiting (the future of [`Executor::execute`] dropped, e.g. when
//! an [`AskStream`](crate::AskStream) is closed early) is stopped on the database as at the
//! client deadline: `sqlite3_interrupt`, `pg_cancel_backend` or `KILL QUERY`, and its connection
//! is discarded.
//!
//! Every backend also stops reading at the row cap ([`SourceOptions::max_rows`]) or the byte
//! budget ([`SourceOptions::max_result_bytes`]) and sets [`QueryResult::truncated`], and
//! [`connect`] lets at most [`SourceOptions::max_concurrent_queries`] statements run at once.
//!
//! # Connect with a SELECT-only account
//!
//! A read-only transaction does not stop everything: MariaDB still runs DDL (which commits
//! implicitly) and `SELECT ... INTO OUTFILE` inside one. Give the engine a database user that
//! holds only `SELECT` on the tables it may read, for example:
//!
//! ```sql
//! -- PostgreSQL
//! CREATE ROLE bi_ro LOGIN PASSWORD '...';
//! GRANT CONNECT ON DATABASE shop TO bi_ro;
//! GRANT USAGE ON SCHEMA public TO bi_ro;
//! GRANT SELECT ON ALL TABLES IN SCHEMA public TO bi_ro;
//! -- MySQL / MariaDB
//! CREATE USER 'bi_ro'@'%' IDENTIFIED BY '...';
//! GRANT SELECT ON shop.* TO 'bi_ro'@'%';
//! ```
//!
//! At connect the engine logs a `tracing` warning when the account is a PostgreSQL superuser or
//! can write a table, or when MySQL's `SHOW GRANTS` lists more than SELECT (`ALL PRIVILEGES`,
//! `INSERT`, `UPDATE`, `DELETE`, `DROP`, `CREATE`, `FILE`, ...). It does not refuse to connect.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{catalog::Catalog, dialect::Dialect, error::Result};

mod bounded;
mod introspect;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod pg_plan;
#[cfg(feature = "postgres")]
mod postgres;
mod run;
mod source_url;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_guard;
// Each driver decodes the types it has: a build without some drivers leaves some helpers unused.
#[cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
mod value;

/// The SQLite function that `hash` column masks of `[access]` call (registered on every
/// guarded SQLite connection; not on the validator's allow-list).
pub(crate) const SQLITE_MASK_HASH: &str = "cbi_mask_hash";

#[cfg(feature = "mysql")]
pub use mysql::MysqlExecutor;
#[cfg(feature = "postgres")]
pub use postgres::PostgresExecutor;
pub(crate) use run::scrub;
pub use source_url::SourceUrl;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteExecutor;

/// Opens a data source: picks the backend from the URL's scheme (see [`Dialect::from_url`]),
/// builds its connection pool and checks that the database answers.
///
/// Accepted forms: `sqlite://path/to/file.db` (or `sqlite:path`, or a plain file path),
/// `postgres://` / `postgresql://`, and `mysql://` / `mariadb://`. An unknown scheme, an
/// unparsable URL or a missing SQLite file is an [`crate::Error::Config`]; a database that cannot
/// be reached is [`crate::Error::DatabaseUnavailable`], with the password removed from the message.
/// A backend this build leaves out (see the crate's Cargo features) is an
/// [`crate::Error::Config`] naming the missing feature.
///
/// The executor runs at most [`SourceOptions::max_concurrent_queries`] statements at once.
pub async fn connect(url: &str, options: SourceOptions) -> Result<Arc<dyn Executor>> {
    let inner: Arc<dyn Executor> = match SourceUrl::parse(url)? {
        #[cfg(feature = "sqlite")]
        SourceUrl::Sqlite(path) => Arc::new(SqliteExecutor::open(&path, options).await?),
        #[cfg(feature = "postgres")]
        SourceUrl::Postgres(url) => Arc::new(PostgresExecutor::connect(&url, options).await?),
        #[cfg(feature = "mysql")]
        SourceUrl::Mysql(url) => Arc::new(MysqlExecutor::connect(&url, options).await?),
        #[allow(unreachable_patterns)]
        other => return Err(crate::features::missing_database(other.dialect())),
    };
    Ok(Arc::new(bounded::Bounded::new(inner)))
}

/// Per-source execution limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceOptions {
    /// At most this many rows come back; more set [`QueryResult::truncated`].
    pub max_rows: usize,
    /// Statements running longer than this are cancelled with [`crate::Error::Timeout`].
    pub statement_timeout_ms: u64,
    /// Maximum pooled connections.
    pub pool_size: u32,
    /// How long to wait for a connection before failing with `DatabaseUnavailable`.
    pub connection_timeout_secs: u64,
    /// At most this many bytes of values come back per statement; the rows after the one that
    /// crosses it are dropped and [`QueryResult::truncated`] is set.
    pub max_result_bytes: usize,
    /// At most this many statements run on the source at once; more wait for a free slot
    /// (bounded by the statement timeout).
    pub max_concurrent_queries: usize,
    /// When non-empty, only these tables may be read (enforced by the database layer where it
    /// can: the SQLite authorizer).
    pub allowed_tables: Vec<String>,
    /// Columns that may never be read, as `table.column` (enforced by the database layer where it
    /// can: the SQLite authorizer).
    pub denied_columns: Vec<String>,
}

impl Default for SourceOptions {
    fn default() -> Self {
        Self {
            max_rows: 1000,
            statement_timeout_ms: 5000,
            pool_size: 50,
            connection_timeout_secs: 30,
            max_result_bytes: 4 * 1024 * 1024,
            max_concurrent_queries: 16,
            allowed_tables: Vec::new(),
            denied_columns: Vec::new(),
        }
    }
}

/// One typed value of a result row.
///
/// Serialized to JSON as its natural form: numbers as numbers, decimals as strings (no precision
/// lost), dates and timestamps as ISO-8601 strings, bytes as lowercase hex, NULL as `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// An exact decimal, as its canonical string.
    Decimal(String),
    /// Text. Dates, times and timestamps are ISO-8601 text.
    Text(String),
    /// A binary value, as lowercase hex.
    Bytes(String),
}

/// The name and type of a result column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultColumn {
    /// The column's label in the result.
    pub name: String,
    /// The database's type name for it (e.g. `INTEGER`, `numeric`, `DATETIME`).
    #[serde(rename = "type")]
    pub data_type: String,
}

/// The outcome of one statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    /// Result columns, in order.
    pub columns: Vec<ResultColumn>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<Value>>,
    /// Whether rows were dropped because of the row cap or the byte budget.
    pub truncated: bool,
    /// Whether the rows stopped because their values passed [`SourceOptions::max_result_bytes`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub byte_cap_reached: bool,
    /// Wall time of the execution in milliseconds.
    pub elapsed_ms: f64,
}

/// A data source the engine can introspect and query.
#[async_trait]
pub trait Executor: Send + Sync + std::fmt::Debug {
    /// The source's dialect.
    fn dialect(&self) -> Dialect;

    /// The source's limits.
    fn options(&self) -> &SourceOptions;

    /// Reads the schema afresh.
    async fn catalog(&self) -> Result<Catalog>;

    /// Runs one statement read-only, under the statement timeout and the row cap.
    ///
    /// This does not validate: callers pass SQL that [`crate::sql::Validator`] accepted. The
    /// database-level protections apply regardless. Dropping the future before it resolves
    /// stops the statement on the database.
    async fn execute(&self, sql: &str) -> Result<QueryResult>;

    /// Checks that the source answers.
    async fn ping(&self) -> Result<()>;

    /// Closes the source's connection pool: statements already running finish, then every
    /// connection is closed; any later call fails with [`crate::Error::DatabaseUnavailable`].
    /// Resolves once the connections are closed. The default does nothing (a source without a
    /// pool).
    async fn close(&self) {}
}
