//! The guard on in-memory databases: statements, the access policy, limits and deadlines.

use std::time::Instant;

use sqlx::{Connection, SqliteConnection};

use super::*;

const SCHEMA: &str = "
    CREATE TABLE t (x INTEGER);
    INSERT INTO t VALUES (1), (2);
    CREATE TABLE hidden (y);
    CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT);
    INSERT INTO person VALUES (1, 'Ann', 'ann@x.io', '555-1'), (2, 'Bob', 'bob@x.io', '555-2');
    CREATE TABLE note (id INTEGER PRIMARY KEY, person_id INTEGER, email TEXT, body TEXT);
    INSERT INTO note VALUES (1, 1, 'ann@x.io', 'hi');
    CREATE TABLE badge (code TEXT, email TEXT);
    CREATE INDEX badge_email ON badge (email);
    INSERT INTO badge VALUES ('b1', 'ann@x.io'), ('b2', 'zed@x.io');
    CREATE VIEW person_public AS SELECT id, name FROM person;
    CREATE VIEW person_all AS SELECT * FROM person;
";

/// An in-memory database with [`SCHEMA`], guarded by `allowed` / `denied`.
async fn guarded_with(allowed: &[&str], denied: &[&str]) -> SqliteConnection {
    let mut conn = SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("memory db");
    sqlx::raw_sql(SCHEMA)
        .execute(&mut conn)
        .await
        .expect("schema");
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let policy = Arc::new(SourcePolicy::new(&strings(allowed), &strings(denied)));
    policy.set_tables(strings(&[
        "t",
        "hidden",
        "person",
        "note",
        "badge",
        "person_public",
        "person_all",
    ]));
    policy.load_layout(&mut conn).await.expect("layout");
    let mut handle = conn.lock_handle().await.expect("lock");
    install(&mut handle, policy).expect("install");
    drop(handle);
    conn
}

/// Runs `sql` through the guard's check, then for real.
async fn run(conn: &mut SqliteConnection, sql: &str) -> std::result::Result<i64, String> {
    let checked = {
        let mut handle = conn.lock_handle().await.expect("lock");
        match check_statement(&mut handle, sql) {
            Ok(checked) => checked,
            Err(CheckError::Refused(e)) => return Err(e.to_string()),
            Err(CheckError::StaleLayout) => return Err("stale layout".into()),
        }
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(&mut *conn)
        .await
        .map(|rows| rows.len() as i64)
        .map_err(|e| e.to_string());
    restore(&mut conn.lock_handle().await.expect("lock"), checked);
    rows
}

#[tokio::test]
async fn authorizer_allows_reads_of_readable_tables_only() {
    let mut conn = guarded_with(&[], &[]).await;
    let n: i64 = sqlx::query_scalar("SELECT sum(x) FROM t")
        .fetch_one(&mut conn)
        .await
        .expect("read t");
    assert_eq!(n, 3);
    for denied in [
        "SELECT name FROM sqlite_master",
        "SELECT count(*) FROM sqlite_master",
        "SELECT * FROM pragma_table_info('t')",
        "INSERT INTO t VALUES (3)",
        "CREATE TABLE u (z)",
        "PRAGMA user_version",
        "SELECT randomblob(4)",
        "ATTACH DATABASE ':memory:' AS other",
        "BEGIN",
    ] {
        let err = sqlx::query(denied)
            .execute(&mut conn)
            .await
            .expect_err(denied);
        let message = err.to_string();
        assert!(
            message.contains("not authorized") || message.contains("prohibited"),
            "{denied}: {message}"
        );
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&mut conn)
        .await
        .expect("still usable");
    assert_eq!(n, 2, "nothing was inserted");
}

#[tokio::test]
async fn tables_outside_allowed_tables_are_refused_even_when_only_counted() {
    let mut conn = guarded_with(&["T", "person", "person_public"], &[]).await;
    assert_eq!(run(&mut conn, "SELECT x FROM t").await, Ok(2));
    assert_eq!(run(&mut conn, "SELECT count(*) FROM T").await, Ok(1));
    assert_eq!(run(&mut conn, "SELECT count(*) FROM main.t").await, Ok(1));
    assert_eq!(run(&mut conn, "SELECT * FROM person_public").await, Ok(2));
    assert_eq!(
        run(&mut conn, "WITH c AS (SELECT 1) SELECT count(*) FROM c").await,
        Ok(1)
    );
    for sql in [
        "SELECT * FROM hidden",
        "SELECT count(*) FROM hidden",
        "SELECT count(*) FROM main.hidden",
        "SELECT 1 FROM t WHERE EXISTS (SELECT 1 FROM hidden)",
        "SELECT (SELECT count(*) FROM note) FROM t",
        // A CTE may take a view's name: the view context is no grant.
        "WITH person_public AS (SELECT * FROM note) SELECT count(*) FROM person_public",
        "WITH person_public AS (SELECT body FROM note) SELECT * FROM person_public",
        // A CTE named like a table that may not be read is refused too (it cannot be told apart).
        "WITH hidden AS (SELECT 1) SELECT count(*) FROM hidden",
        // The authorizer never hears of a table joined only through USING or NATURAL.
        "SELECT count(*) FROM person JOIN note USING (email)",
        "SELECT name FROM person NATURAL JOIN note",
        "SELECT person.id FROM person JOIN sqlite_master USING (name)",
    ] {
        let err = run(&mut conn, sql).await.expect_err(sql);
        assert!(
            err.contains("may not be read ([database] allowed_tables)")
                || err.contains("SQLite's own table"),
            "{sql}: {err}"
        );
    }
}

#[tokio::test]
async fn denied_columns_are_refused_wherever_they_are_read() {
    let mut conn = guarded_with(&[], &["PERSON.Email", "badge.email"]).await;
    for ok in [
        "SELECT name, phone FROM person",
        "SELECT count(*) FROM person",
        "SELECT p.name FROM person p JOIN note n ON n.person_id = p.id",
        "SELECT name FROM person JOIN note ON note.person_id = person.id WHERE note.email LIKE 'a%'",
        "SELECT * FROM person_public",
        "SELECT code FROM badge",
        "SELECT count(*) FROM badge",
        "SELECT value FROM json_each('[1,2]')",
    ] {
        assert!(
            run(&mut conn, ok).await.is_ok(),
            "{ok}: {:?}",
            run(&mut conn, ok).await
        );
    }
    for sql in [
        "SELECT email FROM person",
        "SELECT * FROM person",
        "SELECT person.* FROM person",
        "SELECT name FROM person WHERE email LIKE 'a%'",
        "SELECT name FROM person ORDER BY email",
        "SELECT count(DISTINCT email) FROM person",
        "SELECT (SELECT email FROM json_each('[1]')) AS e FROM person",
        "SELECT (SELECT email FROM (SELECT 1 + 1)) AS e FROM person",
        "SELECT email FROM person a JOIN person b USING (id, email)",
        "WITH c AS (SELECT email AS e FROM person) SELECT e FROM c",
        "SELECT * FROM (SELECT * FROM person)",
        "SELECT id FROM person_all",
        "SELECT * FROM person_all",
        // The authorizer is not told about these; the plan audit is.
        "SELECT phone FROM person NATURAL JOIN person AS p2",
        "SELECT phone FROM person JOIN (SELECT 'ann@x.io' AS email) USING (email)",
        "SELECT name FROM person JOIN note USING (email)",
        "SELECT code FROM badge INDEXED BY badge_email",
        "SELECT code FROM badge NATURAL JOIN (SELECT 'ann@x.io' AS email)",
    ] {
        let err = run(&mut conn, sql).await.expect_err(sql);
        assert!(
            err.contains("person.email")
                || err.contains("badge.email")
                || err.contains("is restricted"),
            "{sql}: {err}"
        );
    }
}

/// A UNIQUE denied column has an index; SQLite would scan it instead of the table for a narrow
/// query, returning rows in that column's order. Such a statement is compiled again without
/// covering-index scans and reads the table; forcing the index is refused; other statements
/// keep SQLite's plan.
#[tokio::test]
async fn an_index_on_a_denied_column_is_not_walked_for_innocent_queries() {
    let mut conn = SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("memory db");
    sqlx::raw_sql(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT UNIQUE, bio TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
         INSERT INTO users (name, email, bio) SELECT 'n' || i, 'e' || (1000 - i) || '@x', printf('%.*c', 200, 'b') FROM n;
         CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT, note TEXT);
         CREATE INDEX tags_label ON tags (label);
         INSERT INTO tags (label, note) SELECT 'l' || id, bio FROM users;
         ANALYZE;",
    )
    .execute(&mut conn)
    .await
    .expect("schema");
    let plan: Vec<(i64, i64, i64, String)> =
        sqlx::query_as("EXPLAIN QUERY PLAN SELECT id FROM users")
            .fetch_all(&mut conn)
            .await
            .expect("plan");
    assert!(
        plan[0]
            .3
            .contains("COVERING INDEX sqlite_autoindex_users_1"),
        "unguarded, SQLite walks the email index: {plan:?}"
    );
    let policy = Arc::new(SourcePolicy::new(&[], &["users.email".to_string()]));
    policy.set_tables(["users".to_string(), "tags".to_string()]);
    policy.load_layout(&mut conn).await.expect("layout");
    install(&mut conn.lock_handle().await.expect("lock"), policy).expect("install");
    for ok in [
        "SELECT id FROM users",
        "SELECT count(*) FROM users",
        "SELECT id, name FROM users WHERE id > 100",
    ] {
        assert_eq!(run(&mut conn, ok).await.map(|_| ()), Ok(()), "{ok}");
    }
    let checked = check_statement(
        &mut conn.lock_handle().await.expect("lock"),
        "SELECT id FROM users LIMIT 1",
    )
    .expect("passes without covering-index scans");
    assert!(checked.cover_scans_off);
    let first: i64 = sqlx::query_scalar("SELECT id FROM users LIMIT 1")
        .fetch_one(&mut conn)
        .await
        .expect("first");
    assert_eq!(first, 1, "rows in table order, not in email order");
    restore(&mut conn.lock_handle().await.expect("lock"), checked);
    assert_eq!(
        check_statement(
            &mut conn.lock_handle().await.expect("lock"),
            "SELECT id FROM tags"
        )
        .expect("clean"),
        Checked::default()
    );
    let tags_plan: Vec<(i64, i64, i64, String)> =
        sqlx::query_as("EXPLAIN QUERY PLAN SELECT id FROM tags")
            .fetch_all(&mut conn)
            .await
            .expect("plan");
    assert!(
        tags_plan[0].3.contains("COVERING INDEX tags_label"),
        "other statements keep SQLite's plan: {tags_plan:?}"
    );
    for refused in [
        "SELECT id FROM users INDEXED BY sqlite_autoindex_users_1",
        "SELECT id FROM users NATURAL JOIN (SELECT 'e999@x' AS email)",
    ] {
        let err = run(&mut conn, refused).await.expect_err(refused);
        assert!(err.contains("users.email"), "{refused}: {err}");
    }
}

#[tokio::test]
async fn only_one_statement_passes_the_check() {
    let mut conn = guarded_with(&[], &[]).await;
    assert!(run(&mut conn, "SELECT 1; -- done").await.is_ok());
    for sql in [
        "SELECT 1; SELECT 2",
        "SELECT 1; SELECT name FROM sqlite_master",
        "  -- nothing",
    ] {
        assert!(run(&mut conn, sql).await.is_err(), "{sql}");
    }
}

#[tokio::test]
async fn limits_fail_fast_with_sqlite_errors() {
    let mut conn = guarded_with(&[], &[]).await;
    let started = Instant::now();
    let err = sqlx::query("SELECT printf('%.*c', 60000000, 'x')")
        .execute(&mut conn)
        .await
        .expect_err("too big");
    assert!(err.to_string().contains("too big"), "{err}");
    let long_pattern = format!("SELECT 'a' LIKE '{}'", "%".repeat(1001));
    let err = sqlx::query(sqlx::AssertSqlSafe(long_pattern))
        .execute(&mut conn)
        .await
        .expect_err("pattern too long");
    assert!(err.to_string().contains("pattern too complex"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let long_sql = format!("SELECT 1 /* {} */", "x".repeat(MAX_SQL_LEN as usize));
    let err = run(&mut conn, &long_sql).await.expect_err("SQL too long");
    assert!(
        err.contains("SQL text is longer than 100000 bytes"),
        "{err}"
    );
    let deep = format!("SELECT {}1{}", "1 + (".repeat(600), ")".repeat(600));
    let err = run(&mut conn, &deep).await.expect_err("too deep");
    assert!(err.contains("too large (maximum depth 500)"), "{err}");
    let chain = (1..=300)
        .map(|i| format!("x = {i}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    assert_eq!(
        run(&mut conn, &format!("SELECT x FROM t WHERE {chain}")).await,
        Ok(2),
        "a 300-term OR chain"
    );
    let compound = vec!["SELECT 1"; 51].join(" UNION ALL ");
    let err = run(&mut conn, &compound).await.expect_err("too many terms");
    assert!(err.contains("too many terms in compound SELECT"), "{err}");
    let values = format!("VALUES {}", vec!["(1)"; 500].join(", "));
    assert_eq!(
        run(&mut conn, &values).await,
        Ok(500),
        "multi-row VALUES is not compound"
    );
    let ok: i64 = sqlx::query_scalar("SELECT length(printf('%.*c', 1000000, 'x'))")
        .fetch_one(&mut conn)
        .await
        .expect("a value under the limit");
    assert_eq!(ok, 1_000_000);
}

#[tokio::test]
async fn deadline_interrupts_a_runaway_statement() {
    let mut conn = guarded_with(&[], &[]).await;
    arm(
        &mut conn.lock_handle().await.expect("lock"),
        Some(Duration::from_millis(100)),
    )
    .expect("arm");
    let err = sqlx::query(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    )
    .execute(&mut conn)
    .await
    .expect_err("interrupted");
    assert!(err.to_string().contains("interrupted"), "{err}");
    assert!(
        disarm(&mut conn.lock_handle().await.expect("lock")).expect("disarm"),
        "the handler fired"
    );
    let one: i64 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .expect("no deadline now");
    assert_eq!(one, 1);
    assert!(!disarm(&mut conn.lock_handle().await.expect("lock")).expect("disarm"));
}

/// A `LIKE` whose pattern defeats the linear path runs SQLite's O(N·M) algorithm: one call
/// over a 1 MB value takes seconds. The function stops at the deadline, and at an interrupt.
#[tokio::test]
async fn one_long_function_call_stops_at_the_deadline_and_at_an_interrupt() {
    let sql = format!(
        "SELECT printf('%.*c', 999999, 'a') LIKE '%{}_b%'",
        "a".repeat(900)
    );
    let mut conn = guarded_with(&[], &[]).await;
    arm(
        &mut conn.lock_handle().await.expect("lock"),
        Some(Duration::from_millis(200)),
    )
    .expect("arm");
    let started = Instant::now();
    let err = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .execute(&mut conn)
        .await
        .expect_err("stopped at the deadline");
    let took = started.elapsed();
    assert!(err.to_string().contains("interrupted"), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(disarm(&mut conn.lock_handle().await.expect("lock")).expect("disarm"));

    // No deadline, an interrupt from another thread instead.
    let interrupter = interrupter(&mut conn.lock_handle().await.expect("lock")).expect("it");
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        interrupter.interrupt();
    });
    let started = Instant::now();
    let err = sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .expect_err("interrupted");
    let took = started.elapsed();
    stopper.join().expect("stopper");
    assert!(err.to_string().contains("interrupted"), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(!disarm(&mut conn.lock_handle().await.expect("lock")).expect("disarm"));
}

#[tokio::test]
async fn the_interrupter_outlives_its_connection_harmlessly() {
    let mut conn = guarded_with(&[], &[]).await;
    let interrupter = interrupter(&mut conn.lock_handle().await.expect("lock")).expect("it");
    conn.close().await.expect("close");
    interrupter.interrupt();
}

#[tokio::test]
async fn a_double_quoted_name_is_never_read_as_a_string() {
    let mut conn = guarded_with(&[], &[]).await;
    let n: i64 = sqlx::query_scalar(r#"SELECT "x" FROM t WHERE "x" = 2"#)
        .fetch_one(&mut conn)
        .await
        .expect("a column");
    assert_eq!(n, 2);
    let err = sqlx::query(r#"SELECT "no_such_column" FROM t"#)
        .fetch_all(&mut conn)
        .await
        .expect_err("not a string");
    assert!(err.to_string().contains("no such column"), "{err}");
}
