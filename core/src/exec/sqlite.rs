//! The SQLite backend: a read-only file opened through a pool of guarded connections.
//!
//! Every query connection is opened read-only (`SQLITE_OPEN_READONLY`, never created) and gets
//! the [`super::sqlite_guard`] installed in the pool's `after_connect` hook: an authorizer, no
//! attached databases, a value-length limit and a progress-handler deadline. Introspection uses
//! a separate, unguarded read-only connection that only ever runs the engine's own SQL.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use sqlx::{
    AssertSqlSafe, Connection, Executor as _, Row, SqlSafeStr, SqliteConnection, Statement,
    TypeInfo, ValueRef,
    pool::PoolConnection,
    sqlite::{Sqlite, SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow},
};

use super::{
    Executor, QueryResult, ResultColumn, SourceOptions, Value, introspect,
    run::{
        CappedRows, client_deadline, collect_capped, execution_error, result_columns, unavailable,
    },
    sqlite_guard::{self, ReadableTables},
    value,
};
use crate::{
    catalog::Catalog,
    dialect::Dialect,
    error::{Error, Result},
};

/// A SQLite database file, queried read-only.
#[derive(Debug)]
pub struct SqliteExecutor {
    path: PathBuf,
    pool: SqlitePool,
    options: SourceOptions,
    tables: Arc<ReadableTables>,
}

impl SqliteExecutor {
    /// Opens the existing database file at `path` and reads its catalog.
    ///
    /// The file is never created or written. Fails with `Config` when it does not exist and with
    /// `DatabaseUnavailable` when it cannot be opened as a SQLite database.
    pub async fn open(path: &Path, options: SourceOptions) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::config(format!(
                "SQLite database file {} does not exist; sources are opened read-only and never created: check the path",
                path.display()
            )));
        }
        let tables = Arc::new(ReadableTables::default());
        let hook_tables = Arc::clone(&tables);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.pool_size.max(1))
            .acquire_timeout(Duration::from_secs(options.connection_timeout_secs))
            .after_connect(move |conn, _meta| {
                let tables = Arc::clone(&hook_tables);
                Box::pin(async move {
                    let mut handle = conn.lock_handle().await?;
                    sqlite_guard::install(&mut handle, tables)
                        .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))
                })
            })
            .connect_lazy_with(connect_options(path));
        let executor = Self {
            path: path.to_path_buf(),
            pool,
            options,
            tables,
        };
        executor.catalog().await?;
        Ok(executor)
    }

    fn location(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    async fn acquire(&self) -> Result<PoolConnection<Sqlite>> {
        self.pool
            .acquire()
            .await
            .map_err(|e| unavailable(&self.location(), &e))
    }
}

fn connect_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false)
}

#[async_trait]
impl Executor for SqliteExecutor {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn options(&self) -> &SourceOptions {
        &self.options
    }

    async fn catalog(&self) -> Result<Catalog> {
        // A separate connection without the guard: the authorizer would (rightly) refuse the
        // pragma functions and sqlite_schema reads that introspection needs.
        let mut conn = SqliteConnection::connect_with(&connect_options(&self.path))
            .await
            .map_err(|e| unavailable(&self.location(), &e))?;
        let tables = introspect::sqlite::tables(&mut conn)
            .await
            .map_err(|e| execution_error(&self.location(), e));
        // Closing a read-only connection cannot lose anything; a failure here is not the caller's.
        let _ = conn.close().await;
        let tables = tables?;
        self.tables.replace(tables.iter().map(|t| t.name.clone()));
        let database = self
            .path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        Ok(Catalog::new(Dialect::Sqlite, database, tables))
    }

    async fn execute(&self, sql: &str) -> Result<QueryResult> {
        let started = Instant::now();
        let timeout_ms = self.options.statement_timeout_ms;
        let mut conn = self.acquire().await?;
        {
            let mut handle = conn
                .lock_handle()
                .await
                .map_err(|e| execution_error(&self.location(), e))?;
            sqlite_guard::arm(&mut handle, Some(Duration::from_millis(timeout_ms)))?;
        }
        let outcome = tokio::time::timeout(
            client_deadline(&self.options),
            run(
                &mut conn,
                sql,
                self.options.max_rows,
                self.options.max_result_bytes,
            ),
        )
        .await;
        let Ok(result) = outcome else {
            // The progress handler should have fired first; do not reuse a connection in an
            // unknown state.
            conn.close_on_drop();
            return Err(Error::Timeout { timeout_ms });
        };
        let timed_out = {
            let mut handle = conn
                .lock_handle()
                .await
                .map_err(|e| execution_error(&self.location(), e))?;
            sqlite_guard::disarm(&mut handle)?
        };
        match result {
            Ok((columns, capped)) => Ok(QueryResult {
                columns,
                rows: capped.rows,
                truncated: capped.truncated,
                byte_cap_reached: capped.byte_cap_reached,
                elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            }),
            Err(_) if timed_out => Err(Error::Timeout { timeout_ms }),
            Err(e) => Err(execution_error(&self.location(), e)),
        }
    }

    async fn ping(&self) -> Result<()> {
        let mut conn = self.acquire().await?;
        conn.ping()
            .await
            .map_err(|e| unavailable(&self.location(), &e))
    }
}

/// Prepares and runs one statement under the row cap.
async fn run(
    conn: &mut SqliteConnection,
    sql: &str,
    max_rows: usize,
    max_bytes: usize,
) -> Result<(Vec<ResultColumn>, CappedRows), sqlx::Error> {
    let statement = (&mut *conn)
        .prepare(AssertSqlSafe(sql.to_owned()).into_sql_str())
        .await?;
    let mut columns = result_columns(statement.columns());
    let capped = collect_capped(
        statement.query().fetch(&mut *conn),
        max_rows,
        max_bytes,
        decode_row,
    )
    .await?;
    // Expressions have no declared type: name the storage class of the first non-NULL value.
    for (i, column) in columns.iter_mut().enumerate() {
        if column.data_type == "NULL"
            && let Some(name) = capped.rows.iter().find_map(|r| storage_class(r.get(i)?))
        {
            column.data_type = name.to_string();
        }
    }
    Ok((columns, capped))
}

fn storage_class(v: &Value) -> Option<&'static str> {
    match v {
        Value::Null => None,
        Value::Int(_) | Value::Bool(_) => Some("INTEGER"),
        Value::Float(_) => Some("REAL"),
        Value::Bytes(_) => Some("BLOB"),
        Value::Text(_) | Value::Decimal(_) => Some("TEXT"),
    }
}

/// Decodes each value by its runtime storage class (SQLite is dynamically typed): INTEGER,
/// REAL, TEXT (dates included, as stored) and BLOB.
fn decode_row(row: &SqliteRow) -> Vec<Value> {
    (0..row.len()).map(|i| decode_value(row, i)).collect()
}

fn decode_value(row: &SqliteRow, i: usize) -> Value {
    let class = match row.try_get_raw(i) {
        Ok(raw) if raw.is_null() => return Value::Null,
        Ok(raw) => raw.type_info().name().to_string(),
        Err(_) => return value::undecodable("unknown"),
    };
    let decoded = match class.as_str() {
        "INTEGER" => row.try_get_unchecked::<i64, _>(i).map(Value::Int),
        "REAL" => row.try_get_unchecked::<f64, _>(i).map(Value::Float),
        "BLOB" => row
            .try_get_unchecked::<Vec<u8>, _>(i)
            .map(|b| value::bytes(&b)),
        _ => row.try_get_unchecked::<String, _>(i).map(Value::Text),
    };
    decoded.unwrap_or_else(|_| value::undecodable(&class))
}
