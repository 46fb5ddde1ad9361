//! The data-source behaviour suite: the same cases against SQLite, PostgreSQL and MariaDB with
//! Chinook loaded (see `scripts/load-test-data.sh`).

use std::time::{Duration, Instant};

use conversational_bi::{
    ErrorKind,
    catalog::TableKind,
    exec::{self, Executor, MysqlExecutor, PostgresExecutor, SourceOptions, SqliteExecutor, Value},
};
use sqlx::Connection;

use testkit::db::{self, Backend, SETUP_HINT, test_options};

/// Runs each listed case against each backend, one test per pair.
macro_rules! behaviour {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            use super::Backend;
            $(#[tokio::test] async fn $case() { super::run(Backend::Sqlite, super::$case).await })*
        }
        mod postgres {
            use super::Backend;
            $(#[tokio::test] async fn $case() { super::run(Backend::Postgres, super::$case).await })*
        }
        mod mariadb {
            use super::Backend;
            $(#[tokio::test] async fn $case() { super::run(Backend::Mysql, super::$case).await })*
        }
    };
}

/// Runs `case` on `backend` unless `CBI_TEST_SKIP` names its database.
async fn run<F: Future<Output = ()>>(backend: Backend, case: impl FnOnce(Backend) -> F) {
    if backend.require() {
        case(backend).await;
    }
}

mod dialect_specific;

behaviour!(
    catalog_lists_tables_columns_and_keys,
    fingerprint_changes_with_the_schema,
    values_are_typed,
    row_cap_truncates,
    slow_statement_times_out,
    writes_are_refused,
    unreachable_database_is_unavailable_without_password,
    ping_answers,
);

async fn catalog_lists_tables_columns_and_keys(b: Backend) {
    let ex = b.chinook(test_options()).await;
    assert_eq!(ex.dialect(), b.dialect());
    let cat = ex.catalog().await.expect("catalog");
    assert_eq!(cat.database, "chinook");
    let names: Vec<&str> = cat.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(cat.tables.len(), 11, "tables: {names:?}");
    assert!(cat.tables.iter().all(|t| t.kind == TableKind::Table));

    let track = cat
        .find_table(None, b.name("Track", "track"), true)
        .expect("Track table");
    let track_id = b.name("TrackId", "track_id");
    assert_eq!(track.primary_key, vec![track_id.to_string()]);
    let id = track
        .columns
        .iter()
        .find(|c| c.name == track_id)
        .expect("TrackId column");
    assert!(
        id.data_type.to_lowercase().contains("int"),
        "{}",
        id.data_type
    );
    assert!(!id.nullable);
    let composer = track
        .columns
        .iter()
        .find(|c| c.name == "Composer" || c.name == "composer")
        .expect("Composer");
    assert!(composer.nullable);
    let name_col = track
        .columns
        .iter()
        .find(|c| c.name == "Name" || c.name == "name")
        .expect("Name");
    assert!(!name_col.nullable);
    assert!(
        name_col.data_type.to_lowercase().contains("char"),
        "{}",
        name_col.data_type
    );
    let price = track
        .columns
        .iter()
        .find(|c| c.name == b.name("UnitPrice", "unit_price"))
        .expect("UnitPrice");
    let price_type = price.data_type.to_lowercase();
    assert!(
        price_type.contains("numeric") || price_type.contains("decimal"),
        "{price_type}"
    );
    assert_eq!(track.columns.len(), 9);

    let album_fk = track
        .foreign_keys
        .iter()
        .find(|fk| fk.referenced_table == b.name("Album", "album"))
        .expect("Track -> Album foreign key");
    assert_eq!(
        album_fk.columns,
        vec![b.name("AlbumId", "album_id").to_string()]
    );
    assert_eq!(
        album_fk.referenced_columns,
        vec![b.name("AlbumId", "album_id").to_string()]
    );
    let playlist_track = cat
        .find_table(None, b.name("PlaylistTrack", "playlist_track"), true)
        .expect("PlaylistTrack");
    assert_eq!(playlist_track.primary_key.len(), 2, "composite key");

    match b {
        // SQLite has no comments.
        Backend::Sqlite => assert!(track.comment.is_none()),
        Backend::Postgres | Backend::Mysql => {
            assert_eq!(
                track.comment.as_deref(),
                Some("A song or other recording sold in the store")
            );
            assert!(
                price
                    .comment
                    .as_deref()
                    .is_some_and(|c| c.contains("US dollars")),
                "{:?}",
                price.comment
            );
        }
    }
    assert!(!cat.fingerprint.is_empty());
    assert_eq!(
        ex.catalog().await.expect("catalog again").fingerprint,
        cat.fingerprint,
        "stable"
    );
}

async fn fingerprint_changes_with_the_schema(b: Backend) {
    match b {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("chinook_copy.sqlite");
            std::fs::copy(db::chinook_sqlite(), &path).expect("copy chinook");
            let ex = SqliteExecutor::open(&path, test_options())
                .await
                .expect("open copy");
            let before = ex.catalog().await.expect("catalog").fingerprint;
            let mut admin =
                sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .expect("rw");
            sqlx::raw_sql("ALTER TABLE Artist ADD COLUMN Country TEXT; CREATE VIEW ArtistNames AS SELECT Name FROM Artist")
                .execute(&mut admin)
                .await
                .expect("alter");
            admin.close().await.expect("close");
            assert_changed_and_view_found(&ex, &before, "ArtistNames").await;
            // The new view is readable through the guard once the catalog knows it.
            let r = ex
                .execute("SELECT count(*) FROM ArtistNames")
                .await
                .expect("query the view");
            assert_eq!(r.rows, vec![vec![Value::Int(275)]]);
        }
        Backend::Postgres => {
            let db = "cbi_scratch_fingerprint";
            let mut admin = sqlx::PgConnection::connect(&db::pg_admin_url("postgres"))
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL admin connection: {e}\n{SETUP_HINT}"));
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .expect("drop");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                .execute(&mut admin)
                .await
                .expect("create");
            let mut scratch = sqlx::PgConnection::connect(&db::pg_admin_url(db))
                .await
                .expect("scratch");
            sqlx::raw_sql("CREATE TABLE t (id int PRIMARY KEY)")
                .execute(&mut scratch)
                .await
                .expect("table");
            let ex = db::open(&db::pg_admin_url(db), test_options()).await;
            let before = ex.catalog().await.expect("catalog").fingerprint;
            sqlx::raw_sql(
                "ALTER TABLE t ADD COLUMN name text; CREATE VIEW v AS SELECT name FROM t",
            )
            .execute(&mut scratch)
            .await
            .expect("alter");
            assert_changed_and_view_found(&*ex, &before, "v").await;
            drop(ex);
            scratch.close().await.expect("close");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {db} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .expect("drop scratch");
        }
        Backend::Mysql => {
            let db = "cbi_scratch_fingerprint";
            let mut admin = sqlx::MySqlConnection::connect(&db::mysql_admin_url("mysql"))
                .await
                .unwrap_or_else(|e| panic!("MariaDB admin connection: {e}\n{SETUP_HINT}"));
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}; CREATE TABLE {db}.t (id INT PRIMARY KEY)"
            )))
            .execute(&mut admin)
            .await
            .expect("scratch database");
            let ex = db::open(&db::mysql_admin_url(db), test_options()).await;
            let before = ex.catalog().await.expect("catalog").fingerprint;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE {db}.t ADD COLUMN name TEXT; CREATE VIEW {db}.v AS SELECT name FROM {db}.t"
            )))
            .execute(&mut admin)
            .await
            .expect("alter");
            assert_changed_and_view_found(&*ex, &before, "v").await;
            drop(ex);
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {db}")))
                .execute(&mut admin)
                .await
                .expect("drop");
        }
    }
}

async fn assert_changed_and_view_found(ex: &dyn Executor, before: &str, view: &str) {
    let after = ex.catalog().await.expect("catalog after the change");
    assert_ne!(
        after.fingerprint, before,
        "the fingerprint must change with the schema"
    );
    let v = after
        .find_table(None, view, true)
        .expect("the new view is listed");
    assert_eq!(v.kind, TableKind::View);
}

async fn values_are_typed(b: Backend) {
    let ex = b.chinook(test_options()).await;
    let sql = match b {
        Backend::Sqlite => {
            "SELECT 42 AS i, 2.5 AS f, Total AS d, InvoiceDate AS ts, NULL AS n, x'DEADBEEF' AS b, 'hi' AS t, \
             BillingState AS st FROM Invoice WHERE InvoiceId = 1"
        }
        Backend::Postgres => {
            "SELECT 42 AS i, 2.5::float8 AS f, total AS d, invoice_date AS ts, NULL::text AS n, \
             '\\xdeadbeef'::bytea AS b, 'hi'::text AS t, billing_state AS st, invoice_date::date AS dt, \
             true AS bo, 123456789012345678.125::numeric AS big, 9007199254740993::int8 AS i8, \
             time '13:45:10.5' AS tm, timestamptz '2024-03-01 12:00:00+00' AS tz \
             FROM invoice WHERE invoice_id = 1"
        }
        Backend::Mysql => {
            "SELECT 42 AS i, 2.5e0 AS f, Total AS d, InvoiceDate AS ts, NULL AS n, X'DEADBEEF' AS b, 'hi' AS t, \
             BillingState AS st, CAST(InvoiceDate AS DATE) AS dt, CAST(123456789012345678.125 AS DECIMAL(30,3)) AS big, \
             9007199254740993 AS i8, CAST('13:45:10.5' AS TIME(1)) AS tm \
             FROM Invoice WHERE InvoiceId = 1"
        }
    };
    let r = ex.execute(sql).await.expect("typed query");
    assert_eq!(r.rows.len(), 1);
    assert!(!r.truncated);
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(&names[..8], ["i", "f", "d", "ts", "n", "b", "t", "st"]);
    let row = &r.rows[0];
    let get = |name: &str| row[names.iter().position(|n| *n == name).expect(name)].clone();
    assert_eq!(get("i"), Value::Int(42));
    assert_eq!(get("f"), Value::Float(2.5));
    assert_eq!(get("n"), Value::Null);
    assert_eq!(get("st"), Value::Null, "Invoice 1 has no billing state");
    assert_eq!(get("b"), Value::Bytes("deadbeef".into()));
    assert_eq!(get("t"), Value::Text("hi".into()));
    match b {
        Backend::Sqlite => {
            // Dynamic typing: values come back by storage class, dates as stored.
            assert_eq!(get("d"), Value::Float(1.98));
            assert_eq!(get("ts"), Value::Text("2021-01-01 00:00:00".into()));
        }
        Backend::Postgres | Backend::Mysql => {
            assert_eq!(get("d"), Value::Decimal("1.98".into()));
            assert_eq!(get("ts"), Value::Text("2021-01-01T00:00:00".into()));
            assert_eq!(get("dt"), Value::Text("2021-01-01".into()));
            assert_eq!(get("big"), Value::Decimal("123456789012345678.125".into()));
            assert_eq!(get("i8"), Value::Int(9_007_199_254_740_993));
            assert_eq!(get("tm"), Value::Text("13:45:10.5".into()));
            let d_type = &r.columns[2].data_type;
            assert!(
                d_type.eq_ignore_ascii_case("numeric") || d_type.eq_ignore_ascii_case("decimal"),
                "{d_type}"
            );
        }
    }
    if b == Backend::Postgres {
        assert_eq!(get("bo"), Value::Bool(true));
        assert_eq!(get("tz"), Value::Text("2024-03-01T12:00:00Z".into()));
        assert_eq!(r.columns[3].data_type, "TIMESTAMP");
    }
    let json = serde_json::to_value(&r.rows[0][..8]).expect("json");
    assert_eq!(json[0], serde_json::json!(42));
    assert_eq!(json[4], serde_json::Value::Null);
}

async fn row_cap_truncates(b: Backend) {
    let capped = SourceOptions {
        max_rows: 10,
        ..test_options()
    };
    let ex = b.chinook(capped).await;
    let track = b.name("Track", "track");
    let r = ex
        .execute(&format!("SELECT * FROM {track}"))
        .await
        .expect("tracks");
    assert_eq!(r.rows.len(), 10);
    assert!(r.truncated, "3503 rows over a cap of 10");
    assert_eq!(r.columns.len(), 9);
    assert!(r.rows.iter().all(|row| row.len() == 9));

    let media = b.name("MediaType", "media_type");
    let exact = b
        .chinook(SourceOptions {
            max_rows: 5,
            ..test_options()
        })
        .await;
    let r = exact
        .execute(&format!("SELECT * FROM {media}"))
        .await
        .expect("media types");
    assert_eq!(
        (r.rows.len(), r.truncated),
        (5, false),
        "exactly the cap is not truncated"
    );
    let r = ex
        .execute(&format!("SELECT * FROM {media} WHERE 1 = 0"))
        .await
        .expect("empty");
    assert_eq!(
        (r.rows.len(), r.truncated, r.columns.len()),
        (0, false, 2),
        "columns even without rows"
    );
}

async fn slow_statement_times_out(b: Backend) {
    let options = SourceOptions {
        statement_timeout_ms: 1000,
        ..test_options()
    };
    let ex = b.chinook(options).await;
    let sql = match b {
        Backend::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        }
        Backend::Postgres => "SELECT pg_sleep(20)",
        Backend::Mysql => "SELECT count(*) FROM Track a, Track b, Track c",
    };
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(15), ex.execute(sql))
        .await
        .expect("the statement must end long before 15 s")
        .expect_err("the statement must be cancelled");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(15));
    // The source stays usable after a cancellation.
    let r = ex
        .execute(&format!(
            "SELECT count(*) FROM {}",
            b.name("Genre", "genre")
        ))
        .await
        .expect("after timeout");
    assert_eq!(r.rows.len(), 1);
}

async fn writes_are_refused(b: Backend) {
    let ex = b.chinook(test_options()).await;
    let genre = b.name("Genre", "genre");
    let id = b.name("GenreId", "genre_id");
    let name = b.name("Name", "name");
    let writes = [
        format!("INSERT INTO {genre} ({id}, {name}) VALUES (999, 'x')"),
        format!("UPDATE {genre} SET {name} = 'x'"),
        format!("DELETE FROM {genre}"),
        "CREATE TABLE evil (x int)".to_string(),
        format!("DROP TABLE {genre}"),
    ];
    for sql in &writes {
        let err = ex.execute(sql).await.expect_err(sql);
        assert_eq!(err.kind(), ErrorKind::Execution, "{sql}: {err}");
    }
    let r = ex
        .execute(&format!("SELECT count(*), min({name}) FROM {genre}"))
        .await
        .expect("count");
    assert_eq!(r.rows[0][0], Value::Int(25), "data unchanged");
    assert_eq!(r.rows[0][1], Value::Text("Alternative".into()));
    let cat = ex.catalog().await.expect("catalog");
    assert_eq!(cat.tables.len(), 11, "no table created or dropped");
}

async fn unreachable_database_is_unavailable_without_password(b: Backend) {
    // The default connection timeout: a refused connection must be reported at once, not
    // after the pool has retried for 30 s.
    let options = SourceOptions {
        connection_timeout_secs: 30,
        ..test_options()
    };
    match b {
        Backend::Sqlite => {
            let err = exec::connect("sqlite:///nonexistent/dir/chinook.sqlite", options.clone())
                .await
                .expect_err("missing");
            assert_eq!(err.kind(), ErrorKind::Config);
            assert!(
                err.to_string().contains("/nonexistent/dir/chinook.sqlite"),
                "{err}"
            );
            let dir = tempfile::tempdir().expect("tempdir");
            let junk = dir.path().join("junk.db");
            std::fs::write(&junk, vec![b'x'; 4096]).expect("write junk");
            let err = SqliteExecutor::open(&junk, test_options())
                .await
                .expect_err("not a database");
            assert!(
                matches!(
                    err.kind(),
                    ErrorKind::Execution | ErrorKind::DatabaseUnavailable
                ),
                "{err}"
            );
        }
        Backend::Postgres | Backend::Mysql => {
            let url = match b {
                Backend::Postgres => "postgres://cbi_ro:sup3r-s3cret@127.0.0.1:1/chinook",
                _ => "mysql://cbi_ro:sup3r-s3cret@127.0.0.1:1/chinook",
            };
            let err = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                exec::connect(url, options.clone()),
            )
            .await
            .expect("a refused connection is reported without waiting for the timeout")
            .expect_err("nothing listens on port 1");
            assert_eq!(err.kind(), ErrorKind::DatabaseUnavailable, "{err}");
            assert!(!err.to_string().contains("sup3r-s3cret"), "{err}");
            assert!(!format!("{err:?}").contains("sup3r-s3cret"), "{err:?}");
            assert!(err.is_retryable());
        }
    }
    if b == Backend::Mysql {
        let wrong = "mysql://cbi_ro:wr0ng-pass@127.0.0.1:3306/chinook";
        let err = exec::connect(wrong, options)
            .await
            .expect_err("wrong password");
        assert_eq!(err.kind(), ErrorKind::DatabaseUnavailable, "{err}");
        assert!(!err.to_string().contains("wr0ng-pass"), "{err}");
    }
}

async fn ping_answers(b: Backend) {
    let ex = b.chinook(test_options()).await;
    ex.ping().await.expect("ping");
    assert_eq!(ex.options().max_rows, test_options().max_rows);
}

#[test]
fn executors_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + ?Sized>() {}
    assert_send_sync::<SqliteExecutor>();
    assert_send_sync::<PostgresExecutor>();
    assert_send_sync::<MysqlExecutor>();
    assert_send_sync::<std::sync::Arc<dyn Executor>>();
}
