//! Backend-specific protections that the shared cases cannot express: the SQLite guard's
//! limits, session state that must not leak between statements on PostgreSQL and MariaDB, and
//! the warning about privileged accounts.

use conversational_bi::{
    ErrorKind,
    exec::{Executor, SourceOptions, SqliteExecutor, Value},
};

use testkit::db::{self, Backend, test_options};

#[tokio::test]
async fn sqlite_guard_bounds_values_and_attachments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("chinook_copy.sqlite");
    std::fs::copy(db::chinook_sqlite(), &path).expect("copy");
    let ex = SqliteExecutor::open(&path, test_options())
        .await
        .expect("open");
    // printf and replace are allow-listed, so only the length limit stops this 250 MB value.
    let err = ex
        .execute(
            "SELECT length(replace(printf('%.*c', 5000, 'x'), 'x', printf('%.*c', 50000, 'y')))",
        )
        .await
        .expect_err("too big");
    assert!(err.to_string().contains("too big"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Execution, "{err}");
    let target = dir.path().join("vacuumed.db");
    let err = ex
        .execute(&format!("VACUUM INTO '{}'", target.display()))
        .await
        .expect_err("vacuum into");
    assert_eq!(err.kind(), ErrorKind::Execution, "{err}");
    assert!(
        !target.exists(),
        "VACUUM INTO must not create a file: {err}"
    );
    for sql in [
        "PRAGMA query_only = OFF",
        "SELECT sql FROM sqlite_master",
        "SELECT name FROM pragma_table_list",
        "BEGIN IMMEDIATE",
        "SELECT randomblob(16)",
    ] {
        let err = ex.execute(sql).await.expect_err(sql);
        let message = err.to_string();
        assert!(
            message.contains("not authorized") || message.contains("prohibited"),
            "{sql}: {err}"
        );
    }
    let ok = ex
        .execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) SELECT sum(x) FROM c")
        .await
        .expect("recursive CTE");
    assert_eq!(ok.rows, vec![vec![Value::Int(55)]]);
    let json = ex
        .execute("SELECT count(*) FROM json_each('[1,2,3]')")
        .await
        .expect("json_each");
    assert_eq!(json.rows, vec![vec![Value::Int(3)]]);
}

#[tokio::test]
async fn mariadb_session_returns_to_the_source_database() {
    if !Backend::Mysql.require() {
        return;
    }
    // One pooled connection, so the next statement reuses the one that ran `USE`.
    let options = SourceOptions {
        pool_size: 1,
        ..test_options()
    };
    let ex = Backend::Mysql.chinook(options).await;
    let _ = ex.execute("USE cbi_guard").await;
    let r = ex.execute("SELECT DATABASE()").await.expect("database");
    assert_eq!(r.rows, vec![vec![Value::Text("chinook".into())]]);
    let _ = ex
        .execute("SELECT GET_LOCK('cbi_behaviour_lock', 0)")
        .await
        .expect("lock");
    let r = ex
        .execute("SELECT IS_FREE_LOCK('cbi_behaviour_lock')")
        .await
        .expect("lock state");
    assert_eq!(
        r.rows,
        vec![vec![Value::Int(1)]],
        "user-level locks are released after each statement"
    );
}

#[tokio::test]
async fn postgres_session_state_does_not_leak() {
    if !Backend::Postgres.require() {
        return;
    }
    let options = SourceOptions {
        pool_size: 1,
        ..test_options()
    };
    let ex = Backend::Postgres.chinook(options).await;
    ex.execute("SELECT pg_advisory_lock(4242)")
        .await
        .expect("advisory lock");
    let r = ex
        .execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242")
        .await
        .expect("locks");
    assert_eq!(
        r.rows,
        vec![vec![Value::Int(0)]],
        "advisory locks are released after each statement"
    );
    let _ = ex.execute("SET statement_timeout = 0").await;
    let r = ex
        .execute("SELECT current_setting('statement_timeout')")
        .await
        .expect("setting");
    assert_eq!(
        r.rows,
        vec![vec![Value::Text("1500ms".into())]],
        "the source's statement timeout applies again"
    );
    let err = ex
        .execute("SET TRANSACTION READ WRITE")
        .await
        .expect_err("read-write switch");
    assert_eq!(err.kind(), ErrorKind::Execution, "{err}");
}

/// Collects what the test binary's `tracing` subscriber writes.
#[derive(Clone, Default)]
struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// The captured lines that contain every one of `needles`.
    fn lines_with(&self, needles: &[&str]) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer"))
            .lines()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .map(str::to_string)
            .collect()
    }
}

/// Installs (once) a process-wide subscriber that captures warnings. A global subscriber,
/// rather than a per-thread one, keeps `tracing`'s per-callsite interest cache consistent
/// while other tests log from other threads.
fn captured_logs() -> &'static CapturedLogs {
    static LOGS: std::sync::OnceLock<CapturedLogs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("the only global subscriber of the tests");
        logs
    })
}

#[tokio::test]
async fn privileged_accounts_are_warned_about() {
    let logs = captured_logs();
    for (backend, admin, select_only) in [
        (Backend::Postgres, db::pg_admin_url("chinook"), db::pg_url()),
        (
            Backend::Mysql,
            db::mysql_admin_url("chinook"),
            db::mysql_url(),
        ),
    ] {
        if !backend.require() {
            continue;
        }
        db::open(&admin, test_options()).await;
        let location = conversational_bi::error::redact_url(&admin);
        let warned = logs.lines_with(&["WARN", "SELECT-only", &location]);
        assert!(!warned.is_empty(), "no warning for {admin}");
        db::open(&select_only, test_options()).await;
    }
    assert!(
        logs.lines_with(&["SELECT-only", "cbi_ro"]).is_empty(),
        "a SELECT-only user was warned about"
    );
}
