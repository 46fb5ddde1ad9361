//! The MySQL/MariaDB backend.
//!
//! Each statement runs on a pooled connection inside `START TRANSACTION READ ONLY` under a
//! session statement time limit (`max_statement_time` on MariaDB, `max_execution_time` on
//! MySQL), set afresh every time because a statement could change it, and is always rolled
//! back; user-level locks it took are released afterwards. A client-side deadline slightly
//! later kills the query (`KILL QUERY`) and discards the connection.
//!
//! A caller that stops waiting (the future of [`Executor::execute`] dropped: an `ask_stream`
//! closed early, a task aborted) kills the query the same way. Dropping the driver's future
//! alone would not: the server runs the statement to its end or its time limit while the pool
//! waits for it to drain the connection, which it then reuses inside the abandoned transaction.
//!
//! A read-only transaction does not stop DDL or `SELECT ... INTO OUTFILE` on MariaDB: connect
//! with an account that has only SELECT grants. A privileged account is reported with a warning.

use std::{
    str::FromStr,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use sqlx::{
    AssertSqlSafe, Executor as _, Row, SqlSafeStr, Statement, TypeInfo, ValueRef,
    mysql::{
        MySql, MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlRow, types::MySqlTime,
    },
    pool::PoolConnection,
};

use super::{
    Executor, QueryResult, ResultColumn, SourceOptions, Value, introspect,
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

/// MariaDB: "Query execution was interrupted (max_statement_time exceeded)".
const ER_STATEMENT_TIMEOUT: u16 = 1969;
/// MySQL: "Query execution was interrupted, maximum statement execution time exceeded".
const ER_QUERY_TIMEOUT: u16 = 3024;
/// "Query execution was interrupted" (`KILL QUERY`, sent by the client-side deadline).
const ER_QUERY_INTERRUPTED: u16 = 1317;
/// "Cannot execute statement in a READ ONLY transaction".
const ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION: u16 = 1792;

/// A MySQL or MariaDB database, queried in read-only transactions.
#[derive(Debug)]
pub struct MysqlExecutor {
    pool: MySqlPool,
    options: SourceOptions,
    /// The connection URL without its password, for messages.
    location: String,
    /// MariaDB (`max_statement_time`, seconds) rather than MySQL (`max_execution_time`, ms).
    mariadb: bool,
    /// What runs after every statement: roll back, release user-level locks and return to the
    /// source's database (a statement may have run `USE other`).
    cleanup: String,
    /// The session's `sql_mode` without the modes that change how SQL text is read, set before
    /// every statement (see [`lexical_sql_mode`]).
    sql_mode: String,
}

impl MysqlExecutor {
    /// Connects a pool to `url` (`mysql://`; `mariadb://` is accepted and treated alike) and
    /// checks that it answers.
    ///
    /// Warns (through `tracing`) when the account has more than SELECT: connect with a
    /// SELECT-only user, since a read-only transaction does not stop MariaDB DDL.
    pub async fn connect(url: &str, options: SourceOptions) -> Result<Self> {
        let location = redact_url(url);
        let url = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => {
                format!("mysql://{rest}")
            }
            _ => url.to_string(),
        };
        let connect = MySqlConnectOptions::from_str(&url).map_err(|e| {
            Error::config(format!(
                "cannot parse MySQL/MariaDB URL {location}: {}; expected mysql://user:password@host:port/database",
                scrub(&e.to_string(), &url)
            ))
        })?;
        let pool = connect_pool(&url, connect, &options).await?;
        let (version, database): (String, Option<String>) =
            sqlx::query_as("SELECT CAST(VERSION() AS CHAR), CAST(DATABASE() AS CHAR)")
                .fetch_one(&pool)
                .await
                .map_err(|e| execution_error(&location, e))?;
        let (server_mode, charset): (String, String) = sqlx::query_as(
            "SELECT CAST(@@SESSION.sql_mode AS CHAR), CAST(@@SESSION.character_set_client AS CHAR)",
        )
        .fetch_one(&pool)
        .await
        .map_err(|e| execution_error(&location, e))?;
        if !charset.starts_with("utf8") {
            return Err(Error::config(format!(
                "the MySQL/MariaDB connection to {location} uses the client character set {charset}; \
                 the engine needs utf8mb4 (the driver's default): remove the charset setting from the URL"
            )));
        }
        let sql_mode = lexical_sql_mode(&server_mode);
        let mut cleanup = String::from("ROLLBACK; DO RELEASE_ALL_LOCKS()");
        if let Some(db) = database {
            cleanup.push_str(&format!("; USE {}", Dialect::Mysql.quote_identifier(&db)));
        }
        let executor = Self {
            pool,
            options,
            location,
            mariadb: version.to_ascii_lowercase().contains("mariadb"),
            cleanup,
            sql_mode,
        };
        executor.warn_if_privileged().await;
        Ok(executor)
    }

    async fn warn_if_privileged(&self) {
        match sqlx::raw_sql("SHOW GRANTS").fetch_all(&self.pool).await {
            Ok(rows) => {
                let grants: Vec<String> = rows.iter().filter_map(grant_text).collect();
                let risky: Vec<&str> = grants.iter().flat_map(|g| risky_privileges(g)).collect();
                if !risky.is_empty() {
                    tracing::warn!(
                        source = %self.location,
                        privileges = %risky.join(", "),
                        "the MySQL/MariaDB account can do more than read; connect with a SELECT-only user (a read-only transaction does not stop DDL or INTO OUTFILE)"
                    );
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "could not read the MySQL/MariaDB account's grants")
            }
        }
    }

    async fn acquire(&self) -> Result<PoolConnection<MySql>> {
        self.pool
            .acquire()
            .await
            .map_err(|e| unavailable(&self.location, &e))
    }

    fn map_error(&self, err: sqlx::Error) -> Error {
        if let sqlx::Error::Database(db) = &err
            && let Some(my) = db.try_downcast_ref::<MySqlDatabaseError>()
        {
            match my.number() {
                ER_STATEMENT_TIMEOUT | ER_QUERY_TIMEOUT | ER_QUERY_INTERRUPTED => {
                    return Error::Timeout {
                        timeout_ms: self.options.statement_timeout_ms,
                    };
                }
                ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION => {
                    return Error::Execution {
                        message: format!(
                            "the database refused the statement because this source is read-only: {}",
                            my.message()
                        ),
                    };
                }
                _ => {}
            }
        }
        execution_error(&self.location, err)
    }

    fn setup_sql(&self) -> String {
        let limit = if self.mariadb {
            format!(
                "SET SESSION max_statement_time = {:.3}",
                self.options.statement_timeout_ms as f64 / 1000.0
            )
        } else {
            format!(
                "SET SESSION max_execution_time = {}",
                self.options.statement_timeout_ms
            )
        };
        format!(
            "{limit}; SET SESSION sql_mode = '{}'; START TRANSACTION READ ONLY; SELECT CONNECTION_ID()",
            self.sql_mode
        )
    }
}

/// `server_mode` without the modes that change how SQL text is read: `ANSI_QUOTES` (a `"..."`
/// would be a name, not a string), `NO_BACKSLASH_ESCAPES` (a backslash would not escape) and the
/// compound modes that include either (`ANSI`, `ORACLE`, `MSSQL`, `DB2`, `POSTGRESQL`, `MAXDB`).
/// The validator reads and renders SQL by MySQL's default rules; every other mode the server
/// sets is kept. Only names of letters, digits and `_` pass, so the result is safe to quote.
fn lexical_sql_mode(server_mode: &str) -> String {
    const CHANGE_LEXING: &[&str] = &[
        "ANSI_QUOTES",
        "NO_BACKSLASH_ESCAPES",
        "ANSI",
        "ORACLE",
        "MSSQL",
        "DB2",
        "POSTGRESQL",
        "MAXDB",
    ];
    server_mode
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .filter(|m| m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .filter(|m| !CHANGE_LEXING.iter().any(|x| x.eq_ignore_ascii_case(m)))
        .collect::<Vec<_>>()
        .join(",")
}

fn grant_text(row: &MySqlRow) -> Option<String> {
    row.try_get::<String, _>(0).ok().or_else(|| {
        row.try_get::<Vec<u8>, _>(0)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    })
}

/// The write-capable privileges a `SHOW GRANTS` line grants (only its privilege list is read,
/// so column or table names cannot match).
fn risky_privileges(grant: &str) -> Vec<&'static str> {
    const RISKY: &[&str] = &[
        "ALL PRIVILEGES",
        "INSERT",
        "UPDATE",
        "DELETE",
        "DROP",
        "CREATE",
        "ALTER",
        "FILE",
        "SUPER",
        "GRANT OPTION",
    ];
    let upper = grant.to_ascii_uppercase();
    let privileges = upper
        .strip_prefix("GRANT ")
        .and_then(|rest| rest.split(" ON ").next())
        .unwrap_or("");
    let mut found: Vec<&'static str> = RISKY
        .iter()
        .copied()
        .filter(|p| privileges.split(',').any(|part| part.trim().starts_with(p)))
        .collect();
    if upper.contains("WITH GRANT OPTION") {
        found.push("GRANT OPTION");
    }
    found.dedup();
    found
}

#[async_trait]
impl Executor for MysqlExecutor {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn options(&self) -> &SourceOptions {
        &self.options
    }

    async fn catalog(&self) -> Result<Catalog> {
        let mut conn = self.acquire().await?;
        let database: Option<String> = sqlx::query_scalar("SELECT CAST(DATABASE() AS CHAR)")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| self.map_error(e))?;
        let database = database.ok_or_else(|| {
            Error::config(format!(
                "the MySQL/MariaDB URL {} names no database; add /database_name",
                self.location
            ))
        })?;
        let tables = introspect::mysql::tables(&mut conn)
            .await
            .map_err(|e| self.map_error(e))?;
        Ok(Catalog::new(Dialect::Mysql, database, tables))
    }

    async fn execute(&self, sql: &str) -> Result<QueryResult> {
        let started = Instant::now();
        let mut running = Running::new(
            self.acquire().await?,
            &self.pool,
            Duration::from_secs(self.options.connection_timeout_secs),
        );
        let setup = self.setup_sql();
        let outcome = tokio::time::timeout(
            client_deadline(&self.options),
            run(
                &mut running.conn,
                &setup,
                &self.cleanup,
                sql,
                (self.options.max_rows, self.options.max_result_bytes),
                &mut running.cancel,
            ),
        )
        .await;
        let Ok(outcome) = outcome else {
            // Past the deadline: dropping `running` kills the query and discards the
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
            Err(e) => Err(self.map_error(e)),
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
    conn: &mut PoolConnection<MySql>,
    setup: &str,
    cleanup: &str,
    sql: &str,
    (max_rows, max_bytes): (usize, usize),
    cancel: &mut Option<String>,
) -> Result<(Vec<ResultColumn>, CappedRows), sqlx::Error> {
    let id_row = sqlx::raw_sql(AssertSqlSafe(setup.to_owned()))
        .fetch_one(&mut **conn)
        .await?;
    let id: u64 = id_row.try_get_unchecked(0)?;
    *cancel = Some(format!("KILL QUERY {id}"));

    let result = user_statement(conn, sql, max_rows, max_bytes).await;

    let cleaned = sqlx::raw_sql(AssertSqlSafe(cleanup.to_owned()))
        .execute(&mut **conn)
        .await;
    if cleaned.is_err() {
        conn.close_on_drop();
    }
    result
}

async fn user_statement(
    conn: &mut PoolConnection<MySql>,
    sql: &str,
    max_rows: usize,
    max_bytes: usize,
) -> Result<(Vec<ResultColumn>, CappedRows), sqlx::Error> {
    // A prepared statement: the binary protocol accepts exactly one statement.
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

fn decode_row(row: &MySqlRow) -> Vec<Value> {
    (0..row.len()).map(|i| decode_value(row, i)).collect()
}

fn decode_value(row: &MySqlRow, i: usize) -> Value {
    let type_name = match row.try_get_raw(i) {
        Ok(raw) if raw.is_null() => return Value::Null,
        Ok(raw) => raw.type_info().name().to_string(),
        Err(_) => return value::undecodable("unknown"),
    };
    let decoded = match type_name.as_str() {
        "BOOLEAN" => row.try_get_unchecked::<bool, _>(i).map(Value::Bool),
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
            row.try_get_unchecked::<i64, _>(i).map(Value::Int)
        }
        n if n.ends_with(" UNSIGNED") || n == "BIT" => {
            row.try_get_unchecked::<u64, _>(i).map(value::unsigned)
        }
        "FLOAT" => row
            .try_get_unchecked::<f32, _>(i)
            .map(|v| Value::Float(v.into())),
        "DOUBLE" => row.try_get_unchecked::<f64, _>(i).map(Value::Float),
        "DECIMAL" => row
            .try_get_unchecked::<rust_decimal::Decimal, _>(i)
            .map(value::decimal),
        "DATE" => row
            .try_get_unchecked::<chrono::NaiveDate, _>(i)
            .map(value::date),
        "DATETIME" | "TIMESTAMP" => row
            .try_get_unchecked::<chrono::NaiveDateTime, _>(i)
            .map(value::datetime),
        "TIME" => row
            .try_get_unchecked::<MySqlTime, _>(i)
            .map(|t| Value::Text(t.to_string())),
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" => row
            .try_get_unchecked::<Vec<u8>, _>(i)
            .map(|b| value::bytes(&b)),
        "GEOMETRY" => return value::undecodable(&type_name),
        _ => row.try_get_unchecked::<String, _>(i).map(Value::Text),
    };
    match decoded {
        Ok(v) => v,
        // e.g. the zero date `0000-00-00`, which has no ISO form.
        Err(_) => row
            .try_get_unchecked::<String, _>(i)
            .map(Value::Text)
            .unwrap_or_else(|_| value::undecodable(&type_name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_that_change_lexing_are_dropped() {
        assert_eq!(
            lexical_sql_mode("REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI"),
            "REAL_AS_FLOAT,PIPES_AS_CONCAT,IGNORE_SPACE"
        );
        assert_eq!(
            lexical_sql_mode("STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES,NO_ENGINE_SUBSTITUTION"),
            "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"
        );
        assert_eq!(lexical_sql_mode("ORACLE"), "");
        assert_eq!(lexical_sql_mode("X'; DROP TABLE t; --"), "");
    }

    #[test]
    fn privileged_grants_are_recognised() {
        assert!(risky_privileges("GRANT SELECT ON `chinook`.* TO `cbi_ro`@`%`").is_empty());
        assert!(risky_privileges("GRANT SELECT (`created_at`) ON `db`.`t` TO `u`@`%`").is_empty());
        assert!(
            risky_privileges("GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*ABCDEF'")
                .is_empty()
        );
        assert_eq!(
            risky_privileges("GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"),
            vec!["ALL PRIVILEGES", "GRANT OPTION"]
        );
        assert_eq!(
            risky_privileges("GRANT SELECT, INSERT, FILE ON *.* TO `u`@`%`"),
            vec!["INSERT", "FILE"]
        );
    }
}
