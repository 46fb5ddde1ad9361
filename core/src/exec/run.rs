//! Plumbing shared by the backends: the row cap, result columns, the client-side deadline and
//! the mapping of driver errors to [`Error`].

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use sqlx::{Column, TypeInfo};
#[cfg(any(feature = "postgres", feature = "mysql"))]
use sqlx::{ConnectOptions, Connection, Pool, pool::PoolOptions};

use super::{ResultColumn, SourceOptions, Value};
use crate::error::{Error, redact_url};

/// Rows read under the row cap and the byte budget.
pub(crate) struct CappedRows {
    /// At most `max_rows` decoded rows.
    pub rows: Vec<Vec<Value>>,
    /// Whether a further row existed (it was not read past).
    pub truncated: bool,
    /// Whether the rows stopped because their values passed the byte budget.
    pub byte_cap_reached: bool,
}

/// Reads at most `max_rows` rows from `stream`, then one more to learn whether the result was
/// truncated, and stops reading. Reading also stops after the row whose values take the total
/// past `max_bytes`. Dropping the stream afterwards ends the statement.
pub(crate) async fn collect_capped<R, S>(
    mut stream: S,
    max_rows: usize,
    max_bytes: usize,
    mut decode: impl FnMut(&R) -> Vec<Value>,
) -> Result<CappedRows, sqlx::Error>
where
    S: Stream<Item = Result<R, sqlx::Error>> + Unpin,
{
    let mut rows = Vec::new();
    let mut bytes = 0usize;
    while let Some(row) = stream.next().await {
        let row = row?;
        if rows.len() == max_rows {
            return Ok(CappedRows {
                rows,
                truncated: true,
                byte_cap_reached: false,
            });
        }
        let decoded = decode(&row);
        bytes = bytes.saturating_add(decoded.iter().map(value_bytes).sum());
        rows.push(decoded);
        if bytes > max_bytes {
            return Ok(CappedRows {
                rows,
                truncated: true,
                byte_cap_reached: true,
            });
        }
    }
    Ok(CappedRows {
        rows,
        truncated: false,
        byte_cap_reached: false,
    })
}

/// What a value costs against the byte budget: its text, or 8 bytes for a number.
fn value_bytes(v: &Value) -> usize {
    match v {
        Value::Null => 1,
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => 8,
        Value::Decimal(s) | Value::Text(s) | Value::Bytes(s) => s.len(),
    }
}

/// The name and database type name of each column.
pub(crate) fn result_columns<C: Column>(columns: &[C]) -> Vec<ResultColumn> {
    columns
        .iter()
        .map(|c| ResultColumn {
            name: c.name().to_string(),
            data_type: c.type_info().name().to_string(),
        })
        .collect()
}

/// The client-side bound on one execution: the statement timeout plus a grace period for the
/// database's own cancellation to arrive first.
pub(crate) fn client_deadline(options: &SourceOptions) -> Duration {
    let timeout = Duration::from_millis(options.statement_timeout_ms);
    timeout + Duration::from_millis(500) + timeout / 10
}

/// One statement on its pooled connection. Dropped before [`Running::finish`] (past the client
/// deadline, or because the caller dropped the future of `execute`), it discards the connection
/// and, once the statement's session is known ([`Running::cancel`] holds the statement that
/// stops it: `pg_cancel_backend(pid)`, `KILL QUERY id`), stops it from another connection (see
/// [`spawn_cancel`]): neither closing the socket nor dropping the driver's future stops a
/// statement on the server.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) struct Running<DB>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    /// The statement's connection.
    pub conn: sqlx::pool::PoolConnection<DB>,
    /// The engine's own statement that stops this one, built from the session's integer id
    /// once the setup has reported it.
    pub cancel: Option<String>,
    pool: Pool<DB>,
    connect_timeout: Duration,
    finished: bool,
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl<DB> Running<DB>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    /// A statement about to run on `conn` of `pool`; a cancellation connects within
    /// `connect_timeout`.
    pub fn new(
        conn: sqlx::pool::PoolConnection<DB>,
        pool: &Pool<DB>,
        connect_timeout: Duration,
    ) -> Self {
        Self {
            conn,
            cancel: None,
            pool: pool.clone(),
            connect_timeout,
            finished: false,
        }
    }

    /// The statement ran to its end (and its transaction was rolled back): the connection goes
    /// back to the pool, and nothing is cancelled.
    pub fn finish(&mut self) {
        self.finished = true;
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl<DB> Drop for Running<DB>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Never reused: it may be inside the abandoned transaction, mid-result.
        self.conn.close_on_drop();
        if let Some(cancel) = self.cancel.take() {
            spawn_cancel(&self.pool, cancel, self.connect_timeout);
        }
    }
}

/// Stops a statement from outside its connection: runs `cancel` (`pg_cancel_backend(pid)`,
/// `KILL QUERY id`: the engine's own SQL, naming the statement's session) in a task of its own,
/// on an idle connection of `pool` or, when none is idle (or it failed), on a connection opened
/// for it (within `connect_timeout`). It never waits for the pool, whose connections may all be
/// held by statements like the one to stop, or by the one being discarded (which cannot close
/// before its statement ends). Without a runtime (one shutting down) nothing is sent.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn spawn_cancel<DB>(pool: &Pool<DB>, cancel: String, connect_timeout: Duration)
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::debug!(statement = %cancel, "no runtime to stop an abandoned statement on");
        return;
    };
    let pool = pool.clone();
    runtime.spawn(async move {
        if let Some(mut conn) = pool.try_acquire()
            && run_raw::<DB>(&mut conn, &cancel).await.is_ok()
        {
            return;
        }
        let outcome =
            match tokio::time::timeout(connect_timeout, pool.connect_options().connect()).await {
                Ok(Ok(mut conn)) => {
                    let ran = run_raw::<DB>(&mut conn, &cancel).await;
                    let _ = conn.close().await;
                    ran
                }
                Ok(Err(e)) => Err(e),
                Err(_) => Err(sqlx::Error::PoolTimedOut),
            };
        if let Err(e) = outcome {
            tracing::debug!(error = %e, statement = %cancel, "could not stop an abandoned statement");
        }
    });
}

/// Runs the engine's own `sql` on `conn`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn run_raw<DB>(conn: &mut DB::Connection, sql: &str) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await
        .map(drop)
}

/// A failure to reach the database: `DatabaseUnavailable`, naming the target without its
/// password (the password is also scrubbed from the driver's message).
/// Connects a pool to a database server. One connection is opened directly first, so that a
/// refused connection, a wrong password or an unknown database is reported at once, rather than
/// after the pool has retried for `connection_timeout_secs`; the pool then keeps trying for that
/// long whenever the server is unreachable later.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) async fn connect_pool<O>(
    url: &str,
    connect: O,
    options: &SourceOptions,
) -> Result<Pool<<O::Connection as Connection>::Database>, Error>
where
    O: ConnectOptions,
    O::Connection: Connection<Options = O> + Sized,
{
    let timeout = Duration::from_secs(options.connection_timeout_secs);
    let first = tokio::time::timeout(timeout, connect.connect())
        .await
        .map_err(|_| Error::DatabaseUnavailable {
            message: format!(
                "cannot reach {}: no answer within {} s ([database] connection_timeout_secs)",
                redact_url(url),
                options.connection_timeout_secs
            ),
        })?
        .map_err(|e| unavailable(url, &e))?;
    let _ = first.close().await;
    PoolOptions::new()
        .max_connections(options.pool_size.max(1))
        .acquire_timeout(timeout)
        .connect_with(connect)
        .await
        .map_err(|e| unavailable(url, &e))
}

pub(crate) fn unavailable(url: &str, err: &sqlx::Error) -> Error {
    let message = scrub(&format!("cannot reach {}: {err}", redact_url(url)), url);
    Error::DatabaseUnavailable { message }
}

/// Maps a driver error met while running a statement. Database errors become `Execution` with
/// the database's message and code; lost connections and pool failures `DatabaseUnavailable`.
pub(crate) fn execution_error(url: &str, err: sqlx::Error) -> Error {
    match &err {
        sqlx::Error::Database(db) => {
            let message = match db.code() {
                Some(code) => format!("{} (code {code})", db.message()),
                None => db.message().to_string(),
            };
            Error::Execution { message }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => unavailable(url, &err),
        _ => Error::Execution {
            message: scrub(&err.to_string(), url),
        },
    }
}

/// Removes the password of `url` from `message`, wherever it appears.
pub(crate) fn scrub(message: &str, url: &str) -> String {
    match password_of(url) {
        Some(pw) if !pw.is_empty() => message.replace(pw, "***"),
        _ => message.to_string(),
    }
}

fn password_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, pw)| pw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn row_cap_truncates_and_stops() {
        let source = futures_util::stream::iter((0..100).map(Ok::<i64, sqlx::Error>));
        let mut seen = 0;
        let capped = collect_capped(source, 10, usize::MAX, |v: &i64| {
            seen += 1;
            vec![Value::Int(*v)]
        })
        .await
        .expect("rows");
        assert_eq!(capped.rows.len(), 10);
        assert!(capped.truncated);
        assert_eq!(seen, 10);

        let exact = futures_util::stream::iter((0..10).map(Ok::<i64, sqlx::Error>));
        let capped = collect_capped(exact, 10, usize::MAX, |v: &i64| vec![Value::Int(*v)])
            .await
            .expect("rows");
        assert_eq!((capped.rows.len(), capped.truncated), (10, false));
    }

    #[tokio::test]
    async fn the_byte_budget_stops_reading_after_the_row_that_passes_it() {
        let text = |i: usize| Ok::<String, sqlx::Error>("x".repeat(100 + i));
        let source = futures_util::stream::iter((0..50).map(text));
        let capped = collect_capped(source, 1000, 250, |s: &String| vec![Value::Text(s.clone())])
            .await
            .expect("rows");
        assert_eq!(
            capped.rows.len(),
            3,
            "100 + 101 + 102 bytes pass 250 at the third row"
        );
        assert!(capped.truncated && capped.byte_cap_reached);
    }

    #[test]
    fn errors_never_carry_the_password() {
        let url = "postgres://bi:hunter2@db.example:5432/x";
        let err = sqlx::Error::Protocol("auth failed for bi:hunter2".into());
        let e = unavailable(url, &err);
        assert_eq!(e.kind(), crate::ErrorKind::DatabaseUnavailable);
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().contains("db.example"), "{e}");
        let e = execution_error(url, sqlx::Error::PoolTimedOut);
        assert_eq!(e.kind(), crate::ErrorKind::DatabaseUnavailable);
        assert_eq!(password_of("mysql://root@h/db"), None);
    }

    #[test]
    fn client_deadline_exceeds_statement_timeout() {
        let o = SourceOptions {
            statement_timeout_ms: 1000,
            ..SourceOptions::default()
        };
        assert_eq!(client_deadline(&o), Duration::from_millis(1600));
    }
}
