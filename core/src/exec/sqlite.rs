//! The SQLite backend: a read-only file opened through a pool of guarded connections.
//!
//! Every query connection is opened read-only (`SQLITE_OPEN_READONLY`, never created) and gets
//! the [`super::sqlite_guard`] installed in the pool's `after_connect` hook: an authorizer that
//! enforces the source's `allowed_tables` and `denied_columns`, resource limits, bounded-cost
//! replacements of the built-in string functions and a deadline. Every statement is compiled and
//! checked by the guard first (one statement, the policy, the plan audit). Introspection uses a
//! separate, unguarded read-only connection that only ever runs the engine's own SQL.

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
    sqlite_guard::{self, CheckError, Checked, Interrupter, SourcePolicy},
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
    policy: Arc<SourcePolicy>,
}

/// How long a statement interrupted at the client-side deadline gets to stop before its
/// connection is abandoned.
const INTERRUPT_GRACE: Duration = Duration::from_secs(2);

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
        let policy = Arc::new(SourcePolicy::new(
            &options.allowed_tables,
            &options.denied_columns,
        ));
        let hook_policy = Arc::clone(&policy);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.pool_size.max(1))
            .acquire_timeout(Duration::from_secs(options.connection_timeout_secs))
            .after_connect(move |conn, _meta| {
                let policy = Arc::clone(&hook_policy);
                Box::pin(async move {
                    let mut handle = conn.lock_handle().await?;
                    sqlite_guard::install(&mut handle, policy)
                        .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))
                })
            })
            .connect_lazy_with(connect_options(path));
        let executor = Self {
            path: path.to_path_buf(),
            pool,
            options,
            policy,
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

    /// Arms the statement deadline on `conn` and has the guard check `sql` (reloading the
    /// schema facts once when the plan names a b-tree they do not know). Returns the
    /// connection's interrupter and what the check changed on it.
    async fn check(
        &self,
        conn: &mut PoolConnection<Sqlite>,
        sql: &str,
        timeout: Duration,
    ) -> Result<(Interrupter, Checked)> {
        for attempt in 0..2 {
            let mut handle = conn
                .lock_handle()
                .await
                .map_err(|e| execution_error(&self.location(), e))?;
            sqlite_guard::arm(&mut handle, Some(timeout))?;
            let interrupter = sqlite_guard::interrupter(&mut handle)?;
            match sqlite_guard::check_statement(&mut handle, sql) {
                Ok(checked) => return Ok((interrupter, checked)),
                Err(CheckError::Refused(e)) => return Err(e),
                Err(CheckError::StaleLayout) if attempt == 0 => {
                    drop(handle);
                    self.catalog().await?;
                }
                Err(CheckError::StaleLayout) => break,
            }
        }
        Err(Error::Execution {
            message: "the database schema changed while the statement was checked; try again"
                .into(),
        })
    }

    /// Maps a driver error of a statement, naming the guard's limits where one was hit.
    fn statement_error(&self, err: sqlx::Error) -> Error {
        if let sqlx::Error::Database(db) = &err {
            let code = db.code();
            if code.as_deref() == Some("18") {
                return Error::Execution {
                    message: format!(
                        "string or blob too big: a value of the statement would exceed {} bytes, \
                         this source's limit on one string, blob or row; select less (code 18)",
                        sqlite_guard::MAX_VALUE_LEN
                    ),
                };
            }
            if db.message() == "LIKE or GLOB pattern too complex" {
                return Error::Execution {
                    message: format!(
                        "LIKE or GLOB pattern too complex: patterns are limited to {} bytes",
                        sqlite_guard::MAX_LIKE_PATTERN_LEN
                    ),
                };
            }
        }
        execution_error(&self.location(), err)
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
        let tables = match introspect::sqlite::tables(&mut conn).await {
            Ok(tables) => self.policy.load_layout(&mut conn).await.map(|()| tables),
            Err(e) => Err(e),
        }
        .map_err(|e| execution_error(&self.location(), e));
        // Closing a read-only connection cannot lose anything; a failure here is not the caller's.
        let _ = conn.close().await;
        let tables = tables?;
        self.policy
            .set_tables(tables.iter().map(|t| t.name.clone()));
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
        let (interrupter, checked) = self
            .check(&mut conn, sql, Duration::from_millis(timeout_ms))
            .await?;
        let mut running = Running {
            conn,
            interrupter,
            finished: false,
        };
        let outcome = {
            let mut statement = std::pin::pin!(run(
                &mut running.conn,
                sql,
                self.options.max_rows,
                self.options.max_result_bytes,
            ));
            match tokio::time::timeout(client_deadline(&self.options), &mut statement).await {
                Ok(result) => Some(result),
                Err(_) => {
                    // The statement is stuck where the deadline checks do not reach: stop it
                    // and let it unwind, so that no CPU keeps burning after the reply.
                    running.interrupter.interrupt();
                    let _ = tokio::time::timeout(INTERRUPT_GRACE, &mut statement).await;
                    None
                }
            }
        };
        let Some(result) = outcome else {
            // Dropping `running` discards the connection: the interrupt may still be pending
            // on it.
            return Err(Error::Timeout { timeout_ms });
        };
        let timed_out = {
            let mut handle = running
                .conn
                .lock_handle()
                .await
                .map_err(|e| execution_error(&self.location(), e))?;
            sqlite_guard::restore(&mut handle, checked);
            sqlite_guard::disarm(&mut handle)?
        };
        running.finished = true;
        match result {
            Ok((columns, capped)) => Ok(QueryResult {
                columns,
                rows: capped.rows,
                truncated: capped.truncated,
                byte_cap_reached: capped.byte_cap_reached,
                elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            }),
            Err(_) if timed_out => Err(Error::Timeout { timeout_ms }),
            Err(e) => Err(self.statement_error(e)),
        }
    }

    async fn ping(&self) -> Result<()> {
        let mut conn = self.acquire().await?;
        conn.ping()
            .await
            .map_err(|e| unavailable(&self.location(), &e))
    }

    async fn close(&self) {
        self.pool.close().await
    }
}

/// One statement on its guarded connection. Dropped before it [`finished`](Self::finished)
/// (past the client deadline, or because the caller dropped the future of `execute`), it
/// interrupts the statement (`sqlite3_interrupt`) and discards the connection. Dropping the
/// driver's future alone would leave the driver's worker thread stepping the statement until
/// it produced a row or reached its deadline, and the connection busy meanwhile.
struct Running {
    conn: PoolConnection<Sqlite>,
    interrupter: Interrupter,
    /// Whether the statement ran to its end and the connection's guard was reset.
    finished: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.finished {
            self.interrupter.interrupt();
            // The interrupt may still be pending, the deadline armed: never reused.
            self.conn.close_on_drop();
        }
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
