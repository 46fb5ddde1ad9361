//! The guardrail attack cases (`kind: "sql"` of the shared `attack-cases.jsonl`) sent straight
//! to each executor, bypassing the SQL validator: the database layer alone must keep every one
//! of them from changing data or creating files, and each must finish within a bound.
//!
//! SQLite runs on a temporary database with the attack schema that the test builds; PostgreSQL
//! and MariaDB on `cbi_guard` as the SELECT-only user (see `scripts/load-test-data.sh`).

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use conversational_bi::{
    Dialect,
    exec::{Executor, SourceOptions, SqliteExecutor},
};
use futures_util::TryStreamExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::{Connection, Row};

use testkit::db::{self, SETUP_HINT};

const CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/guardrails/attack-cases.jsonl"
);

/// The row cap under which the cases run (E04 must come back truncated at it).
const MAX_ROWS: usize = 1000;
/// The statement timeout under which the cases run.
const TIMEOUT_MS: u64 = 2000;
/// Every case must end within this bound, timeouts and cancellations included.
const CASE_BOUND: Duration = Duration::from_secs(15);

#[derive(Debug, Deserialize)]
struct AttackCase {
    id: String,
    kind: String,
    #[serde(default)]
    sql: Option<DialectSql>,
    #[serde(default)]
    expected: Option<String>,
    #[serde(default)]
    expected_by_dialect: Option<std::collections::HashMap<String, String>>,
}

#[derive(Debug, Deserialize)]
struct DialectSql {
    postgres: String,
    mysql: String,
    sqlite: String,
}

impl AttackCase {
    fn sql_for(&self, dialect: Dialect) -> &str {
        let sql = self.sql.as_ref().expect("sql cases carry SQL");
        match dialect {
            Dialect::Sqlite => &sql.sqlite,
            Dialect::Postgres => &sql.postgres,
            Dialect::Mysql => &sql.mysql,
        }
    }

    fn expected_for(&self, dialect: Dialect) -> &str {
        self.expected_by_dialect
            .as_ref()
            .and_then(|m| m.get(dialect.as_str()))
            .or(self.expected.as_ref())
            .map_or("reject", String::as_str)
    }
}

fn sql_cases() -> Vec<AttackCase> {
    let text =
        std::fs::read_to_string(CASES).unwrap_or_else(|e| panic!("cannot read {CASES}: {e}"));
    let cases: Vec<AttackCase> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad case line {l}: {e}")))
        .filter(|c: &AttackCase| c.kind == "sql")
        .collect();
    assert_eq!(cases.len(), 65, "the shared file has 65 SQL cases");
    cases
}

/// What must not change: per table a row count and a checksum, and the list of tables.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    tables: Vec<String>,
    data: Vec<(String, usize, String)>,
}

/// A superuser view of the attacked database, used only to take snapshots.
enum Observer {
    Sqlite(PathBuf),
    Postgres(String),
    Mysql(String),
}

impl Observer {
    async fn snapshot(&self) -> Snapshot {
        let (tables_sql, row_sql): (&str, fn(&str) -> String) = match self {
            Observer::Sqlite(_) => (
                "SELECT type || ':' || name FROM sqlite_schema ORDER BY 1",
                |t| {
                    format!(
                        "SELECT quote({}) FROM {t} ORDER BY rowid",
                        sqlite_row_expr(t)
                    )
                },
            ),
            Observer::Postgres(_) => (
                "SELECT table_schema || '.' || table_name FROM information_schema.tables \
                 WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
                |t| format!("SELECT x::text FROM {t} x ORDER BY x::text"),
            ),
            Observer::Mysql(_) => (
                // The data-permission suite's per-user copies (`cbi_perm_*`) are made and
                // dropped by that suite while this one runs beside it.
                "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') \
                 AND TABLE_SCHEMA NOT LIKE 'cbi\\_perm\\_%' ORDER BY 1",
                |t| {
                    format!(
                        "SELECT CONCAT_WS('|', {}) AS r FROM {t} ORDER BY r",
                        mysql_columns(t)
                    )
                },
            ),
        };
        let mut tables = Vec::new();
        let mut data = Vec::new();
        macro_rules! take {
            ($conn:expr) => {{
                let mut conn = $conn;
                for r in sqlx::query(tables_sql)
                    .fetch_all(&mut conn)
                    .await
                    .expect("list tables")
                {
                    tables.push(r.try_get::<String, _>(0).expect("table name"));
                }
                for t in ["customers", "orders", "audit"] {
                    let sql = row_sql(t);
                    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut conn);
                    let (mut count, mut hasher) = (0usize, Sha256::new());
                    while let Some(r) = rows.try_next().await.expect("read rows") {
                        let text: Option<String> = r.try_get(0).expect("row text");
                        hasher.update(text.unwrap_or_default().as_bytes());
                        hasher.update(b"\n");
                        count += 1;
                    }
                    let digest: String = hasher
                        .finalize()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    data.push((t.to_string(), count, digest));
                }
            }};
        }
        match self {
            Observer::Sqlite(path) => {
                take!(
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .expect("observer")
                )
            }
            Observer::Postgres(url) => {
                take!(sqlx::PgConnection::connect(url).await.expect("observer"))
            }
            Observer::Mysql(url) => {
                take!(sqlx::MySqlConnection::connect(url).await.expect("observer"))
            }
        }
        Snapshot { tables, data }
    }
}

fn sqlite_row_expr(table: &str) -> &'static str {
    match table {
        "customers" => "id || '|' || tenant_id || '|' || name || '|' || email",
        "orders" => {
            "id || '|' || tenant_id || '|' || customer_id || '|' || amount || '|' || created_at"
        }
        _ => "x",
    }
}

fn mysql_columns(table: &str) -> &'static str {
    match table {
        "customers" => "id, tenant_id, name, email",
        "orders" => "id, tenant_id, customer_id, amount, created_at",
        _ => "x",
    }
}

/// Builds the attack schema in a new SQLite file.
async fn build_sqlite_guard_db(path: &Path) {
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .expect("create the SQLite attack database");
    sqlx::raw_sql(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL,
                              customer_id INTEGER NOT NULL REFERENCES customers(id),
                              amount NUMERIC(10,2) NOT NULL, created_at TEXT NOT NULL);
         CREATE TABLE audit (x TEXT);
         WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100)
           INSERT INTO customers SELECT i, 1 + i % 2, 'Customer ' || i, 'customer' || i || '@example.com' FROM s;
         WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 10000)
           INSERT INTO orders SELECT i, 1 + (1 + (i - 1) % 100) % 2, 1 + (i - 1) % 100, (i * 37 % 10000) / 100.0,
                                     datetime('2024-01-01', '+' || (i % 366) || ' days', '+' || (i % 86400) || ' seconds')
                              FROM s;
         INSERT INTO audit VALUES ('seed');",
    )
    .execute(&mut conn)
    .await
    .expect("load the attack schema");
    conn.close().await.expect("close");
}

/// Files under /tmp whose name starts with `nl2sql`.
fn nl2sql_files() -> BTreeSet<PathBuf> {
    std::fs::read_dir("/tmp")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with("nl2sql"))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// The /tmp/nl2sql_* paths a case names.
fn named_paths(sql: &str) -> Vec<PathBuf> {
    sql.match_indices("/tmp/nl2sql")
        .map(|(i, _)| {
            let rest = &sql[i..];
            let end = rest.find(['\'', '"', ' ', ')']).unwrap_or(rest.len());
            PathBuf::from(&rest[..end])
        })
        .collect()
}

fn options() -> SourceOptions {
    SourceOptions {
        max_rows: MAX_ROWS,
        statement_timeout_ms: TIMEOUT_MS,
        pool_size: 4,
        connection_timeout_secs: 10,
        ..SourceOptions::default()
    }
}

/// Runs every case on one executor; asserts that nothing changed and reports refused vs ran.
async fn run_cases(dialect: Dialect, ex: Arc<dyn Executor>, observer: Observer) {
    let cases = sql_cases();
    for case in &cases {
        for p in named_paths(case.sql_for(dialect)) {
            // Left over from an earlier, failed run: it would hide a new file.
            let _ = std::fs::remove_file(&p);
        }
    }
    let files_before = nl2sql_files();
    let before = observer.snapshot().await;
    assert_eq!(
        before.data.iter().map(|d| d.1).collect::<Vec<_>>(),
        vec![100, 10_000, 1],
        "seed data"
    );

    let (mut refused, mut ran) = (Vec::new(), Vec::new());
    for case in &cases {
        let sql = case.sql_for(dialect);
        let outcome = tokio::time::timeout(CASE_BOUND, ex.execute(sql))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} [{dialect}] did not finish within {CASE_BOUND:?}: {sql}",
                    case.id
                )
            });
        match &outcome {
            Ok(r) => ran.push(format!(
                "{} ({} rows{})",
                case.id,
                r.rows.len(),
                if r.truncated { ", truncated" } else { "" }
            )),
            Err(e) => refused.push(format!(
                "{} ({}: {})",
                case.id,
                e.kind(),
                first_line(&e.to_string())
            )),
        }
        let after = observer.snapshot().await;
        assert_eq!(
            after, before,
            "{} [{dialect}] changed the database: {sql}",
            case.id
        );
        for p in named_paths(sql) {
            assert!(
                !p.exists(),
                "{} [{dialect}] created {}",
                case.id,
                p.display()
            );
        }
        let new_files: Vec<_> = nl2sql_files().difference(&files_before).cloned().collect();
        assert!(
            new_files.is_empty(),
            "{} [{dialect}] created files {new_files:?}",
            case.id
        );

        if case.expected_for(dialect) == "allow" {
            let r = outcome
                .unwrap_or_else(|e| panic!("benign control {} [{dialect}] failed: {e}", case.id));
            if case.id == "E04" {
                assert!(
                    r.truncated && r.rows.len() == MAX_ROWS,
                    "E04 comes back truncated at the row cap"
                );
            }
        }
    }
    println!(
        "[{dialect}] guardrail bypass: {} refused by the database, {} ran harmlessly",
        refused.len(),
        ran.len()
    );
    println!("[{dialect}]   refused: {}", refused.join("; "));
    println!("[{dialect}]   ran:     {}", ran.join("; "));
    assert_eq!(refused.len() + ran.len(), 65);
    // The source still answers normally after all attacks.
    let r = ex
        .execute("SELECT count(*) FROM orders")
        .await
        .expect("source still usable");
    assert_eq!(r.rows.len(), 1);
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[tokio::test]
async fn sqlite_attacks_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cbi_guard.sqlite");
    build_sqlite_guard_db(&path).await;
    let ex: Arc<dyn Executor> =
        Arc::new(SqliteExecutor::open(&path, options()).await.expect("open"));
    run_cases(Dialect::Sqlite, ex, Observer::Sqlite(path.clone())).await;
}

#[tokio::test]
async fn postgres_attacks_change_nothing() {
    if !testkit::require(testkit::Service::Postgres) {
        return;
    }
    let ex = db::open(&db::pg_guard_url(), options()).await;
    sqlx::PgConnection::connect(&db::pg_admin_url("cbi_guard"))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL admin connection to cbi_guard: {e}\n{SETUP_HINT}"));
    run_cases(
        Dialect::Postgres,
        ex,
        Observer::Postgres(db::pg_admin_url("cbi_guard")),
    )
    .await;
}

#[tokio::test]
async fn mariadb_attacks_change_nothing() {
    if !testkit::require(testkit::Service::Mysql) {
        return;
    }
    let ex = db::open(&db::mysql_guard_url(), options()).await;
    sqlx::MySqlConnection::connect(&db::mysql_admin_url("cbi_guard"))
        .await
        .unwrap_or_else(|e| panic!("MariaDB admin connection to cbi_guard: {e}\n{SETUP_HINT}"));
    run_cases(
        Dialect::Mysql,
        ex,
        Observer::Mysql(db::mysql_admin_url("cbi_guard")),
    )
    .await;
}

#[test]
fn named_paths_are_found() {
    assert_eq!(
        named_paths("SELECT 1 INTO OUTFILE '/tmp/nl2sql_o2.txt'"),
        vec![PathBuf::from("/tmp/nl2sql_o2.txt")]
    );
    assert!(named_paths("SELECT 1").is_empty());
}
