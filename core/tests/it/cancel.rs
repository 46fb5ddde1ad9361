//! A statement whose caller stops waiting is stopped on the database: closing an
//! `Engine::ask_stream` while its statement runs, or dropping the future of a statement, ends
//! the statement on PostgreSQL and MariaDB (seen gone from `pg_stat_activity` /
//! `information_schema.PROCESSLIST` through an administrator's connection), and frees the
//! connection on SQLite at once. The statement timeout is set far beyond the deadlines here, so
//! that only the cancellation can end the statement in time.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use conversational_bi::{
    Ask, AskEvent, Engine,
    exec::Value,
    generate::{Generation, GenerationRequest, SqlGenerator},
};
use futures_util::StreamExt;
use sqlx::{Connection, MySqlConnection, PgConnection};
use testkit::db::{self, Backend, SETUP_HINT};

use crate::insight::engine_on;

/// How long a cancelled statement may take to leave the server's process list (the timeout
/// below is 300 s: a statement that is not cancelled is still there).
const DEADLINE: Duration = Duration::from_secs(20);

/// A statement timeout that no statement here reaches (the cancellation runs on an idle pooled
/// connection).
const LONG_TIMEOUT: &str = "[database]\nstatement_timeout_ms = 300000\n";

/// As [`LONG_TIMEOUT`], with a pool of one connection: the cancellation cannot wait for a pooled
/// connection (the only one is being discarded), and the next statement gets the connection
/// only once the abandoned statement has stopped (which is all SQLite lets one observe).
const ONE_CONNECTION: &str = "[database]\nstatement_timeout_ms = 300000\npool_size = 1\nmax_idle_connections = 1\nconnection_timeout_secs = 60\n";

/// One SQL statement, whatever the question.
#[derive(Debug)]
struct Fixed(String);

#[async_trait]
impl SqlGenerator for Fixed {
    fn name(&self) -> String {
        "fixed".into()
    }

    async fn generate(&self, _: &GenerationRequest) -> conversational_bi::Result<Generation> {
        Ok(Generation {
            sql: self.0.clone(),
            explanation: "every quadruple of tracks of one genre".into(),
            state: None,
            degraded: None,
            clarification: None,
        })
    }
}

/// A label no other statement on the server carries.
fn tag(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("cancel_probe_{name}_{}_{nanos}", std::process::id())
}

/// A statement that would run for days on Chinook (the quadruples of tracks of one genre: about
/// 3e12 rows to count), its result column labelled `tag` so that the server's process list
/// shows it. Every table is joined on a condition, as the validator requires.
fn slow_sql(b: Backend, tag: &str) -> String {
    let track = b.name("Track", "track");
    let genre = b.name("GenreId", "genre_id");
    format!(
        "SELECT count(*) AS {tag} FROM {track} a JOIN {track} b ON b.{genre} = a.{genre} \
         JOIN {track} c ON c.{genre} = b.{genre} JOIN {track} d ON d.{genre} = c.{genre}"
    )
}

/// An administrator's connection that sees every session's statement.
enum Observer {
    Postgres(PgConnection),
    Mysql(MySqlConnection),
}

impl Observer {
    async fn open(b: Backend) -> Self {
        fn failed<C>(e: sqlx::Error) -> C {
            panic!("admin connection: {e}\n{SETUP_HINT}")
        }
        match b {
            Backend::Postgres => Self::Postgres(
                PgConnection::connect(&db::pg_admin_url("chinook"))
                    .await
                    .unwrap_or_else(failed),
            ),
            Backend::Mysql => Self::Mysql(
                MySqlConnection::connect(&db::mysql_admin_url("chinook"))
                    .await
                    .unwrap_or_else(failed),
            ),
            Backend::Sqlite => unreachable!("SQLite has no process list"),
        }
    }

    /// How many statements labelled `tag` the server is running (on PostgreSQL, not counting
    /// the `EXPLAIN` that audits the plan first).
    async fn running(&mut self, tag: &str) -> i64 {
        let pattern = format!("%{tag}%");
        let counted = match self {
            Self::Postgres(conn) => {
                sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE $1 \
                     AND query NOT LIKE 'EXPLAIN%'",
                )
                .bind(pattern)
                .fetch_one(conn)
                .await
            }
            Self::Mysql(conn) => {
                sqlx::query_scalar(
                    "SELECT count(*) FROM information_schema.PROCESSLIST \
                     WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Sleep' AND INFO LIKE ?",
                )
                .bind(pattern)
                .fetch_one(conn)
                .await
            }
        };
        counted.expect("the process list")
    }

    /// What the server says of the statements labelled `tag` (for a failure's message).
    async fn describe(&mut self, tag: &str) -> String {
        let pattern = format!("%{tag}%");
        let rows: Result<Vec<(String, String, String)>, sqlx::Error> = match self {
            Self::Postgres(conn) => {
                sqlx::query_as(
                    "SELECT pid::text, coalesce(state, ''), coalesce(wait_event_type, '') || ' ' || \
                     coalesce(wait_event, '') FROM pg_stat_activity \
                     WHERE pid <> pg_backend_pid() AND query LIKE $1",
                )
                .bind(pattern)
                .fetch_all(conn)
                .await
            }
            Self::Mysql(conn) => {
                sqlx::query_as(
                    "SELECT CAST(ID AS CHAR), COMMAND, CONCAT(COALESCE(STATE, ''), ' for ', TIME, ' s') \
                     FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INFO LIKE ?",
                )
                .bind(pattern)
                .fetch_all(conn)
                .await
            }
        };
        format!("{rows:?}")
    }

    /// Waits until the server runs `want` statements labelled `tag`; panics after [`DEADLINE`].
    async fn wait_for(&mut self, tag: &str, want: i64, what: &str) {
        let started = Instant::now();
        loop {
            let n = self.running(tag).await;
            if n == want {
                return;
            }
            if started.elapsed() >= DEADLINE {
                let seen = self.describe(tag).await;
                panic!(
                    "{what}: {n} statements labelled {tag} still run after {DEADLINE:?}; the server shows (id, command, state): {seen}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Waits for the stage `name` of `stream`, failing on the last event.
async fn wait_for_stage(stream: &mut conversational_bi::AskStream, name: &str) {
    while let Some(event) = stream.next().await {
        match event {
            AskEvent::Stage { stage } if stage == name => return,
            e if e.is_last() => panic!("the question ended before the stage {name}: {e:?}"),
            _ => {}
        }
    }
    panic!("the stream ended before the stage {name}");
}

/// The engine still answers on the source, on a fresh connection.
async fn still_answers(engine: &Engine, b: Backend) {
    let genre = b.name("Genre", "genre");
    let (_, result) = tokio::time::timeout(
        DEADLINE,
        engine
            .source()
            .run(&format!("SELECT count(*) FROM {genre}")),
    )
    .await
    .unwrap_or_else(|_| panic!("{b:?}: no connection came free within {DEADLINE:?}"))
    .unwrap_or_else(|e| panic!("{b:?}: {e}"));
    assert_eq!(result.rows, [[Value::Int(25)]], "{b:?}");
}

#[tokio::test]
async fn closing_the_stream_stops_the_statement_on_the_server() {
    for b in [Backend::Postgres, Backend::Mysql] {
        if !b.require() {
            continue;
        }
        let mut observer = Observer::open(b).await;
        let tag = tag("stream");
        let engine = engine_on(
            &b.chinook_url(),
            ONE_CONNECTION,
            Some(Arc::new(Fixed(slow_sql(b, &tag)))),
        )
        .await;
        let mut stream =
            engine.ask_stream(Ask::new("How many quadruples of tracks share a genre?"));
        wait_for_stage(&mut stream, "generate").await;
        observer
            .wait_for(&tag, 1, &format!("{b:?}: the statement to start"))
            .await;
        drop(stream);
        observer
            .wait_for(&tag, 0, &format!("{b:?}: the closed stream's statement"))
            .await;
        still_answers(&engine, b).await;
    }
}

#[tokio::test]
async fn dropping_a_running_statement_stops_it_on_the_server() {
    for b in [Backend::Postgres, Backend::Mysql] {
        if !b.require() {
            continue;
        }
        let mut observer = Observer::open(b).await;
        let tag = tag("future");
        let engine = engine_on(&b.chinook_url(), LONG_TIMEOUT, None).await;
        let source = engine.source().clone();
        let sql = slow_sql(b, &tag);
        let running = tokio::spawn(async move { source.run(&sql).await.map(drop) });
        observer
            .wait_for(&tag, 1, &format!("{b:?}: the statement to start"))
            .await;
        running.abort();
        let aborted = running.await.expect_err("aborted");
        assert!(aborted.is_cancelled(), "{b:?}: {aborted}");
        observer
            .wait_for(&tag, 0, &format!("{b:?}: the dropped statement"))
            .await;
        still_answers(&engine, b).await;
    }
}

#[tokio::test]
async fn closing_the_stream_frees_the_sqlite_connection() {
    let b = Backend::Sqlite;
    let engine = engine_on(
        &b.chinook_url(),
        ONE_CONNECTION,
        Some(Arc::new(Fixed(slow_sql(b, &tag("sqlite"))))),
    )
    .await;
    let mut stream = engine.ask_stream(Ask::new("How many quadruples of tracks share a genre?"));
    wait_for_stage(&mut stream, "generate").await;
    // Give the statement time to reach the database (the pool's one connection).
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(stream);
    // The statement is interrupted: the pool's one connection comes free long before the
    // statement (minutes) or its timeout (300 s) would end it.
    still_answers(&engine, b).await;
}
