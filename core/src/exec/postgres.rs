//! The PostgreSQL backend.
//!
//! Each statement runs on a pooled connection inside `BEGIN READ ONLY` with
//! `SET LOCAL statement_timeout`, and the transaction is always rolled back. A snapshot is taken
//! before the user's statement so that it cannot switch the transaction to read-write. The
//! server cancels at the statement timeout (SQLSTATE 57014); a client-side deadline slightly
//! later cancels the backend (`pg_cancel_backend`) and discards the connection. Session-level
//! advisory locks a statement may have taken are released after it.
//!
//! A caller that stops waiting (the future of [`Executor::execute`] dropped: an `ask_stream`
//! closed early, a task aborted) cancels the statement the same way. Dropping the driver's
//! future alone would not: the server runs the statement to its end or its timeout while the
//! pool waits for it to drain the connection, which it then reuses inside the abandoned
//! transaction.

use std::{
    str::FromStr,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use sqlx::{
    AssertSqlSafe, Executor as _, Row, SqlSafeStr, Statement, TypeInfo, ValueRef,
    pool::PoolConnection,
    postgres::{PgConnectOptions, PgPool, PgRow, PgTypeKind, Postgres, types::PgInterval},
};

use super::{
    Executor, QueryResult, ResultColumn, SourceOptions, Value, introspect,
    pg_plan::{self, PlanPolicy},
    run::{
        CappedRows, Running, client_deadline, collect_capped, connect_pool, execution_error,
        result_columns, scrub, unavailable,
    },
    value,
};
use crate::{
    catalog::Catalog,
    dialect::Dialect,
    error::{Error, Result, redact_url},
};

/// A PostgreSQL database, queried in read-only transactions.
#[derive(Debug)]
pub struct PostgresExecutor {
    pool: PgPool,
    options: SourceOptions,
    /// The connection URL without its password, for messages.
    location: String,
    /// The schemas unqualified names are looked up in, read once at connect
    /// (`current_schemas(false)`) and pinned for every statement, so that the server resolves
    /// names exactly as the validator did with the catalog.
    search_path: Vec<String>,
    /// `search_path` as the value of `SET LOCAL search_path TO ...`.
    search_path_sql: String,
    /// The relations a statement's plan may scan (see [`super::pg_plan`]).
    plan_policy: PlanPolicy,
}

/// Why a statement did not run to its end.
enum RunFailure {
    /// The database refused it or failed.
    Database(sqlx::Error),
    /// Its plan scans a relation the policy does not allow (`schema.name`).
    PlanRefused(String),
}

impl From<sqlx::Error> for RunFailure {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

impl PostgresExecutor {
    /// Connects a pool to `url` (`postgres://` or `postgresql://`) and checks that it answers.
    ///
    /// Warns (through `tracing`) when the account could write: connect with a SELECT-only role.
    pub async fn connect(url: &str, options: SourceOptions) -> Result<Self> {
        let location = redact_url(url);
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| {
                Error::config(format!(
                    "cannot parse PostgreSQL URL {location}: {}; expected postgres://user:password@host:port/database",
                    scrub(&e.to_string(), url)
                ))
            })?
            .application_name("heliosdb-conversational-bi");
        let pool = connect_pool(url, connect, &options).await?;
        let search_path: Vec<String> =
            sqlx::query_scalar("SELECT coalesce(current_schemas(false)::text[], '{}')")
                .fetch_one(&pool)
                .await
                .map_err(|e| execution_error(&location, e))?;
        let search_path_sql = if search_path.is_empty() {
            "pg_catalog".to_string()
        } else {
            search_path
                .iter()
                .map(|s| Dialect::Postgres.quote_identifier(s))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let views: Vec<(String, String)> = sqlx::query_as(pg_plan::VIEW_READS_SQL)
            .fetch_all(&pool)
            .await
            .map_err(|e| execution_error(&location, e))?;
        let plan_policy = PlanPolicy::new(&options.allowed_tables, &views);
        let executor = Self {
            pool,
            options,
            location,
            search_path,
            search_path_sql,
            plan_policy,
        };
        executor.warn_if_privileged().await;
        Ok(executor)
    }

    async fn warn_if_privileged(&self) {
        let probe = sqlx::query(
            "SELECT r.rolname::text, r.rolsuper, EXISTS (
                 SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                   AND n.nspname NOT LIKE 'pg\\_toast%'
                   AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))
             FROM pg_roles r WHERE r.rolname = current_user",
        )
        .fetch_one(&self.pool)
        .await;
        match probe {
            Ok(row) => {
                let role: String = row.try_get(0).unwrap_or_default();
                let superuser: bool = row.try_get(1).unwrap_or(false);
                let can_write: bool = row.try_get(2).unwrap_or(false);
                if superuser || can_write {
                    tracing::warn!(
                        source = %self.location,
                        role = %role,
                        superuser,
                        can_write,
                        "the PostgreSQL account is privileged; connect with a SELECT-only role (GRANT SELECT only) so that the database itself refuses writes"
                    );
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "could not check the PostgreSQL account's privileges")
            }
        }
    }

    async fn acquire(&self) -> Result<PoolConnection<Postgres>> {
        self.pool
            .acquire()
            .await
            .map_err(|e| unavailable(&self.location, &e))
    }

    fn map_error(&self, err: sqlx::Error) -> Error {
        if let sqlx::Error::Database(db) = &err {
            match db.code().as_deref() {
                Some("57014") => {
                    return Error::Timeout {
                        timeout_ms: self.options.statement_timeout_ms,
                    };
                }
                Some("25006") => {
                    return Error::Execution {
                        message: format!(
                            "the database refused the statement because this source is read-only: {}",
                            db.message()
                        ),
                    };
                }
                _ => {}
            }
        }
        execution_error(&self.location, err)
    }
}

#[async_trait]
impl Executor for PostgresExecutor {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn options(&self) -> &SourceOptions {
        &self.options
    }

    async fn catalog(&self) -> Result<Catalog> {
        let mut conn = self.acquire().await?;
        let database: String = sqlx::query_scalar("SELECT current_database()::text")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| self.map_error(e))?;
        let tables = introspect::postgres::tables(&mut conn)
            .await
            .map_err(|e| self.map_error(e))?;
        Ok(Catalog::new(Dialect::Postgres, database, tables)
            .with_search_path(self.search_path.clone()))
    }

    async fn execute(&self, sql: &str) -> Result<QueryResult> {
        let started = Instant::now();
        let mut running = Running::new(
            self.acquire().await?,
            &self.pool,
            Duration::from_secs(self.options.connection_timeout_secs),
        );
        let outcome = tokio::time::timeout(
            client_deadline(&self.options),
            run(
                &mut running.conn,
                sql,
                &self.options,
                &self.search_path_sql,
                &self.plan_policy,
                &mut running.cancel,
            ),
        )
        .await;
        let Ok(outcome) = outcome else {
            // Past the deadline: dropping `running` cancels the backend and discards the
            // connection.
            return Err(Error::Timeout {
                timeout_ms: self.options.statement_timeout_ms,
            });
        };
        running.finish();
        match outcome {
            Ok((columns, capped)) => Ok(QueryResult {
                columns,
                rows: capped.rows,
                truncated: capped.truncated,
                byte_cap_reached: capped.byte_cap_reached,
                elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            }),
            Err(RunFailure::Database(e)) => Err(self.map_error(e)),
            Err(RunFailure::PlanRefused(relation)) => Err(Error::SqlRejected {
                rule: crate::sql::RejectRule::TableNotAllowed,
                reason: format!(
                    "the database would read `{relation}`, which may not be read ([database] allowed_tables); \
                     use only the allowed tables"
                ),
                sql: sql.to_string(),
            }),
        }
    }

    async fn ping(&self) -> Result<()> {
        let mut conn = self.acquire().await?;
        sqlx::query("SELECT 1")
            .execute(&mut *conn)
            .await
            .map_err(|e| self.map_error(e))?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await
    }
}

/// Runs one statement in a read-only transaction that is always rolled back.
async fn run(
    conn: &mut PoolConnection<Postgres>,
    sql: &str,
    options: &SourceOptions,
    search_path: &str,
    plan_policy: &PlanPolicy,
    cancel: &mut Option<String>,
) -> Result<(Vec<ResultColumn>, CappedRows), RunFailure> {
    // The SELECT takes the transaction's snapshot, after which `SET TRANSACTION READ WRITE`
    // is refused; it also reports the backend for cancellation. `standard_conforming_strings`
    // is pinned because the validator renders string literals for it (a backslash is an
    // ordinary character); a server or database configured otherwise would read them differently.
    let setup = format!(
        "BEGIN READ ONLY; SET LOCAL standard_conforming_strings = on; SET LOCAL search_path TO {search_path}; \
         SET LOCAL statement_timeout = {}; SELECT pg_backend_pid()",
        // PostgreSQL's limit for the setting; the client deadline bounds longer values anyway.
        options.statement_timeout_ms.min(i32::MAX as u64)
    );
    let pid_row = sqlx::raw_sql(AssertSqlSafe(setup))
        .fetch_one(&mut **conn)
        .await?;
    let pid: i32 = pid_row.try_get(0)?;
    *cancel = Some(format!("SELECT pg_cancel_backend({pid})"));

    let result = match audit_plan(conn, sql, plan_policy).await {
        Ok(()) => user_statement(conn, sql, options.max_rows, options.max_result_bytes)
            .await
            .map_err(RunFailure::from),
        Err(refused) => Err(refused),
    };

    let cleanup = sqlx::raw_sql("ROLLBACK; SELECT pg_advisory_unlock_all()")
        .execute(&mut **conn)
        .await;
    // A statement such as `DEALLOCATE ALL` removes the driver's cached prepared statements
    // (SQLSTATE 26000 on their next use): such a session is not reused.
    if cleanup.is_err() || has_sqlstate(&result, "26000") {
        conn.close_on_drop();
    }
    result
}

fn has_sqlstate<T>(result: &Result<T, RunFailure>, code: &str) -> bool {
    matches!(result, Err(RunFailure::Database(sqlx::Error::Database(db))) if db.code().as_deref() == Some(code))
}

/// Asks the server for the statement's plan and refuses it when the plan scans a relation the
/// policy does not allow (see [`super::pg_plan`]).
async fn audit_plan(
    conn: &mut PoolConnection<Postgres>,
    sql: &str,
    policy: &PlanPolicy,
) -> Result<(), RunFailure> {
    let plan: serde_json::Value = sqlx::query_scalar(AssertSqlSafe(format!(
        "EXPLAIN (VERBOSE, FORMAT JSON) {sql}"
    )))
    .fetch_one(&mut **conn)
    .await?;
    match policy.first_refused(&plan) {
        Some(relation) => Err(RunFailure::PlanRefused(relation)),
        None => Ok(()),
    }
}

async fn user_statement(
    conn: &mut PoolConnection<Postgres>,
    sql: &str,
    max_rows: usize,
    max_bytes: usize,
) -> Result<(Vec<ResultColumn>, CappedRows), sqlx::Error> {
    // A prepared statement: the extended protocol accepts exactly one statement.
    let statement = (&mut **conn)
        .prepare(AssertSqlSafe(sql.to_owned()).into_sql_str())
        .await?;
    let columns = result_columns(statement.columns());
    let capped = collect_capped(
        statement.query().fetch(&mut **conn),
        max_rows,
        max_bytes,
        decode_row,
    )
    .await?;
    Ok((columns, capped))
}

fn decode_row(row: &PgRow) -> Vec<Value> {
    (0..row.len()).map(|i| decode_value(row, i)).collect()
}

fn decode_value(row: &PgRow, i: usize) -> Value {
    let (type_name, is_enum) = match row.try_get_raw(i) {
        Ok(raw) if raw.is_null() => return Value::Null,
        Ok(raw) => {
            let info = raw.type_info();
            (
                info.name().to_string(),
                matches!(info.kind(), PgTypeKind::Enum(_)),
            )
        }
        Err(_) => return value::undecodable("unknown"),
    };
    let decoded = match type_name.as_str() {
        "BOOL" => row.try_get::<bool, _>(i).map(Value::Bool),
        "INT2" => row.try_get::<i16, _>(i).map(|v| Value::Int(v.into())),
        "INT4" => row.try_get::<i32, _>(i).map(|v| Value::Int(v.into())),
        "INT8" => row.try_get::<i64, _>(i).map(Value::Int),
        "OID" => row
            .try_get::<sqlx::postgres::types::Oid, _>(i)
            .map(|v| Value::Int(v.0.into())),
        "FLOAT4" => row.try_get::<f32, _>(i).map(|v| Value::Float(v.into())),
        "FLOAT8" => row.try_get::<f64, _>(i).map(Value::Float),
        "NUMERIC" => row
            .try_get::<rust_decimal::Decimal, _>(i)
            .map(value::decimal),
        "DATE" => row.try_get::<chrono::NaiveDate, _>(i).map(value::date),
        "TIME" => row.try_get::<chrono::NaiveTime, _>(i).map(value::time),
        "TIMESTAMP" => row
            .try_get::<chrono::NaiveDateTime, _>(i)
            .map(value::datetime),
        "TIMESTAMPTZ" => row
            .try_get::<chrono::DateTime<chrono::Utc>, _>(i)
            .map(value::timestamptz),
        "INTERVAL" => row
            .try_get::<PgInterval, _>(i)
            .map(|v| Value::Text(iso_duration(&v))),
        "BYTEA" => row.try_get::<Vec<u8>, _>(i).map(|v| value::bytes(&v)),
        "JSON" | "JSONB" => row
            .try_get::<serde_json::Value, _>(i)
            .map(|v| Value::Text(v.to_string())),
        "UUID" => row
            .try_get_raw(i)
            .and_then(|raw| raw.as_bytes().map_err(sqlx::Error::Decode))
            .map(|b| Value::Text(uuid_text(b))),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" | "XML" | "UNKNOWN" => {
            row.try_get_unchecked::<String, _>(i).map(Value::Text)
        }
        _ if is_enum => row.try_get_unchecked::<String, _>(i).map(Value::Text),
        _ => return value::undecodable(&type_name),
    };
    match decoded {
        Ok(v) => v,
        // NUMERIC beyond 28 significant digits, NaN or infinity: no exact decimal available.
        Err(_) if type_name == "NUMERIC" => {
            Value::Text("<NUMERIC value beyond 28 digits, NaN or infinite; cast it to text>".into())
        }
        Err(_) => value::undecodable(&type_name),
    }
}

/// An interval as an ISO-8601 duration, e.g. `P1M2DT3.5S`.
fn iso_duration(v: &PgInterval) -> String {
    let mut s = String::from("P");
    if v.months != 0 {
        s.push_str(&format!("{}M", v.months));
    }
    if v.days != 0 || (v.months == 0 && v.microseconds == 0) {
        s.push_str(&format!("{}D", v.days));
    }
    if v.microseconds != 0 {
        let secs = v.microseconds as f64 / 1_000_000.0;
        s.push_str(&format!("T{secs}S"));
    }
    s
}

/// The canonical hyphenated form of a 16-byte UUID.
fn uuid_text(b: &[u8]) -> String {
    let h = value::hex(b);
    if h.len() != 32 {
        return h;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_iso_durations() {
        assert_eq!(
            iso_duration(&PgInterval {
                months: 1,
                days: 2,
                microseconds: 3_500_000
            }),
            "P1M2DT3.5S"
        );
        assert_eq!(
            iso_duration(&PgInterval {
                months: 0,
                days: 0,
                microseconds: 0
            }),
            "P0D"
        );
        assert_eq!(
            iso_duration(&PgInterval {
                months: 0,
                days: 0,
                microseconds: 60_000_000
            }),
            "PT60S"
        );
    }

    #[test]
    fn uuids_are_hyphenated() {
        let b: Vec<u8> = (0u8..16).collect();
        assert_eq!(uuid_text(&b), "00010203-0405-0607-0809-0a0b0c0d0e0f");
    }
}
