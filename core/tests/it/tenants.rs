//! A database per tenant (`[tenants.<id>]`): each tenant's asks read its own database (SQLite,
//! PostgreSQL or MariaDB) and the others `[database]`; pools open on first use, one attempt for
//! concurrent first asks, under `[database] max_tenant_pools`; an unreachable tenant fails
//! alone; sessions and cached answers never cross tenants.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use conversational_bi::{
    Answer, Ask, Config, Dialect, Engine, ErrorKind,
    config::{ConfigSources, Interface},
    exec::Value,
    metrics::Metrics,
};
use sqlx::Connection;
use testkit::db::{Backend, chinook_sqlite, mysql_url, pg_admin_url, pg_url};

const QUESTION: &str = "How many customers are there?";

/// The customers of the demo database.
const ALL_CUSTOMERS: i64 = 59;

/// A copy of the demo database in `dir` that keeps only the customers of `country`.
async fn demo_with_customers_of(dir: &tempfile::TempDir, country: &str) -> String {
    let path = dir.path().join(format!("{country}.sqlite"));
    std::fs::copy(chinook_sqlite(), &path).expect("copy");
    let mut writer =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rw", path.display()))
            .await
            .expect("writable");
    let others = "SELECT CustomerId FROM Customer WHERE Country <> ?1";
    for delete in [
        format!(
            "DELETE FROM InvoiceLine WHERE InvoiceId IN (SELECT InvoiceId FROM Invoice WHERE CustomerId IN ({others}))"
        ),
        format!("DELETE FROM Invoice WHERE CustomerId IN ({others})"),
        format!("DELETE FROM Customer WHERE CustomerId IN ({others})"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(delete))
            .bind(country)
            .execute(&mut writer)
            .await
            .expect("delete");
    }
    writer.close().await.expect("closes");
    format!("sqlite://{}", path.display())
}

/// An embedded engine's configuration (no rate limits) with `toml` and these tenants.
fn config(toml: &str, tenants: &[(&str, &str)]) -> Config {
    let mut text = toml.to_string();
    for (id, url) in tenants {
        text.push_str(&format!("\n[tenants.{id}]\ndatabase_url = \"{url}\"\n"));
    }
    Config::from_sources(
        ConfigSources::new(Interface::Embedded)
            .toml(&text)
            .env_vars(std::iter::empty::<(String, String)>()),
    )
    .expect("valid")
}

async fn engine(config: Config, metrics: &Metrics) -> Engine {
    Engine::builder()
        .config(config)
        .metrics(metrics.clone())
        .build()
        .await
        .expect("engine")
}

async fn ask(engine: &Engine, tenant: &str) -> Answer {
    engine
        .ask(Ask::new(QUESTION).tenant(tenant))
        .await
        .unwrap_or_else(|e| panic!("tenant {tenant}: {e}"))
}

/// The one number of a one-row, one-column answer.
fn count(answer: &Answer) -> i64 {
    match answer.rows.as_slice() {
        [row] => match row.as_slice() {
            [Value::Int(n)] => *n,
            [Value::Decimal(d)] => d.parse().expect("a whole number"),
            other => panic!("not a count: {other:?}"),
        },
        other => panic!("not one row: {other:?}"),
    }
}

/// How many server processes have the backend id `pid`.
async fn backends(admin: &mut sqlx::PgConnection, pid: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = $1")
        .bind(pid as i32)
        .fetch_one(admin)
        .await
        .expect("pg_stat_activity")
}

/// Waits until `done` holds, for at most ten seconds.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} did not happen within 10 s");
}

#[tokio::test]
async fn each_tenant_reads_its_own_database_and_the_others_read_the_database_section() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = demo_with_customers_of(&dir, "USA").await;
    let mut tenants = vec![("a", a)];
    // PostgreSQL and MariaDB hold the same Chinook as the demo: their answers are told apart by
    // the result types their own drivers report.
    let mut servers = Vec::new();
    if Backend::Postgres.require() {
        tenants.push(("b", pg_url()));
        servers.push(("b", Backend::Postgres));
    }
    if Backend::Mysql.require() {
        tenants.push(("c", mysql_url()));
        servers.push(("c", Backend::Mysql));
    }
    let pairs: Vec<(&str, &str)> = tenants.iter().map(|(t, u)| (*t, u.as_str())).collect();
    let metrics = Metrics::default();
    let engine = engine(config("", &pairs), &metrics).await;

    let default = ask(&engine, "default").await;
    assert_eq!(count(&default), ALL_CUSTOMERS);
    let unlisted = ask(&engine, "zeta").await;
    assert_eq!(count(&unlisted), ALL_CUSTOMERS, "no entry: [database]");
    assert_eq!(unlisted.columns, default.columns);
    assert_eq!(
        engine
            .schema_for_tenant("zeta")
            .await
            .expect("schema")
            .dialect,
        Dialect::Sqlite
    );

    let a = ask(&engine, "a").await;
    assert_eq!(count(&a), 13, "a's copy keeps the 13 customers in the USA");

    for (tenant, backend) in servers {
        let answer = ask(&engine, tenant).await;
        assert_eq!(count(&answer), ALL_CUSTOMERS);
        let direct = backend
            .chinook(testkit::db::test_options())
            .await
            .execute(&answer.sql)
            .await
            .expect("runs on the tenant's database");
        assert_eq!(
            answer.columns, direct.columns,
            "tenant {tenant}: the result of its own database"
        );
        assert_ne!(
            answer.columns, default.columns,
            "tenant {tenant}: not the demo's result"
        );
        let schema = engine.schema_for_tenant(tenant).await.expect("schema");
        assert_eq!(schema.dialect, backend.dialect());
    }

    let health = engine.health().await;
    assert_eq!(health.status, "ok", "{health:?}");
    let seen: Vec<(&str, bool, Option<bool>, Option<&str>)> = health
        .tenants
        .iter()
        .map(|t| {
            (
                t.tenant_id.as_str(),
                t.open,
                t.database,
                t.dialect.as_deref(),
            )
        })
        .collect();
    let expected: Vec<(&str, bool, Option<bool>, Option<&str>)> = tenants
        .iter()
        .map(|(t, _)| {
            let dialect = match *t {
                "a" => "sqlite",
                "b" => "postgres",
                _ => "mysql",
            };
            (*t, true, Some(true), Some(dialect))
        })
        .collect();
    assert_eq!(seen, expected);
    let json = serde_json::to_value(&health).expect("json");
    assert_eq!(json["tenants"][0]["tenant_id"], "a");
    for t in &tenants {
        assert_eq!(metrics.tenants.connects_of(t.0, "ok"), 1, "{}", t.0);
    }
}

#[tokio::test]
async fn without_tenants_health_has_no_tenants() {
    let engine = engine(config("", &[]), &Metrics::default()).await;
    let health = engine.health().await;
    assert!(health.tenants.is_empty());
    let json = serde_json::to_value(&health).expect("json");
    assert!(json.get("tenants").is_none(), "{json}");
}

#[tokio::test]
async fn sessions_and_cached_answers_stay_with_their_tenant() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = demo_with_customers_of(&dir, "USA").await;
    let b = demo_with_customers_of(&dir, "Brazil").await;
    let metrics = Metrics::default();
    let config = config(
        "[cache]\nenabled = true\nstore = \"memory\"\n",
        &[("a", &a), ("b", &b)],
    );
    let engine = engine(config, &metrics).await;

    let first_a = ask(&engine, "a").await;
    assert!(!first_a.cache_hit);
    assert_eq!(count(&first_a), 13);
    let first_b = ask(&engine, "b").await;
    assert!(!first_b.cache_hit, "a's entry is not b's");
    assert_eq!(
        count(&first_b),
        5,
        "b's copy keeps the 5 customers in Brazil"
    );
    assert_eq!(metrics.cache.hits.get(), 0);

    let again_a = ask(&engine, "a").await;
    assert!(again_a.cache_hit, "a's own entry");
    assert_eq!(count(&again_a), 13, "re-run on a's database");
    let again_b = ask(&engine, "b").await;
    assert!(again_b.cache_hit, "b's own entry");
    assert_eq!(count(&again_b), 5, "re-run on b's database");
    assert_eq!(metrics.cache.hits.get(), 2);

    // b names a's conversation: it is not b's, so b starts its own under that id.
    let a_session = engine
        .session("a", &first_a.session_id)
        .await
        .expect("a's session");
    assert_eq!(a_session.turn_count, 1);
    assert_eq!(
        engine
            .session("b", &first_a.session_id)
            .await
            .expect("b's view")
            .turn_count,
        0
    );
    let b_in_a_session = engine
        .ask(Ask::new(QUESTION).tenant("b").session(&first_a.session_id))
        .await
        .expect("answered");
    assert_eq!(b_in_a_session.turn, 1, "a new conversation of b");
    assert_eq!(count(&b_in_a_session), 5);
    assert_eq!(
        engine
            .session("a", &first_a.session_id)
            .await
            .expect("a's session")
            .turn_count,
        1,
        "a's conversation is untouched"
    );
}

#[tokio::test]
async fn a_cap_of_one_alternates_two_tenants_and_really_closes_the_pool_it_leaves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = demo_with_customers_of(&dir, "USA").await;
    let on_postgres = Backend::Postgres.require();
    // The other tenant is PostgreSQL when it runs (one pooled connection, whose backend is
    // looked for after the pool closes), else a second SQLite copy.
    let (p, p_count) = if on_postgres {
        (pg_url(), ALL_CUSTOMERS)
    } else {
        (demo_with_customers_of(&dir, "Brazil").await, 5)
    };
    let mut config = config(
        "[database]\nmax_tenant_pools = 1\n",
        &[("a", &a), ("p", &p)],
    );
    config.tenants.get_mut("p").expect("p").pool_size = Some(1);
    let metrics = Metrics::default();
    let engine = engine(config, &metrics).await;

    for round in 0..3 {
        assert_eq!(count(&ask(&engine, "a").await), 13, "round {round}");
        assert!(metrics.tenants.open.get() <= 1);
        assert_eq!(count(&ask(&engine, "p").await), p_count, "round {round}");
        assert!(metrics.tenants.open.get() <= 1);
        let open = engine
            .health()
            .await
            .tenants
            .iter()
            .filter(|t| t.open)
            .count();
        assert_eq!(open, 1, "round {round}");
    }
    assert_eq!(metrics.tenants.connects_of("a", "ok"), 3);
    assert_eq!(metrics.tenants.connects_of("p", "ok"), 3);
    eventually("five pools close", || metrics.tenants.closes.get() == 5).await;

    if !on_postgres {
        return;
    }
    // p is open: its one connection's backend, seen from the server.
    let source = engine.source_for_tenant("p").await.expect("p");
    let result = source
        .executor()
        .execute("SELECT pg_backend_pid() AS pid")
        .await
        .expect("pid");
    let Value::Int(pid) = result.rows[0][0] else {
        panic!("{:?}", result.rows)
    };
    drop(source);
    let mut admin = sqlx::PgConnection::connect(&pg_admin_url("postgres"))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", testkit::db::SETUP_HINT));
    assert_eq!(backends(&mut admin, pid).await, 1, "p's connection is open");
    // a's ask closes p's pool.
    ask(&engine, "a").await;
    eventually("p's pool closes", || metrics.tenants.closes.get() == 6).await;
    let mut gone = false;
    for _ in 0..100 {
        if backends(&mut admin, pid).await == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the server still has p's connection {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_first_asks_make_one_connection_attempt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = demo_with_customers_of(&dir, "USA").await;
    let mut tenants = vec![("a", a)];
    if Backend::Postgres.require() {
        tenants.push(("b", pg_url()));
    }
    let pairs: Vec<(&str, &str)> = tenants.iter().map(|(t, u)| (*t, u.as_str())).collect();
    let metrics = Metrics::default();
    let engine = engine(config("", &pairs), &metrics).await;
    let tasks: Vec<_> = (0..20)
        .flat_map(|_| tenants.iter().map(|(t, _)| t.to_string()))
        .map(|tenant| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let answer = ask(&engine, &tenant).await;
                (tenant, count(&answer))
            })
        })
        .collect();
    let mut counts: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for t in tasks {
        let (tenant, n) = t.await.expect("joins");
        counts.entry(tenant).or_default().push(n);
    }
    assert_eq!(counts["a"], vec![13; 20]);
    for (tenant, _) in &tenants {
        assert_eq!(
            metrics.tenants.connects_of(tenant, "ok"),
            1,
            "tenant {tenant}: one connection attempt"
        );
    }
    if let Some(b) = counts.get("b") {
        assert_eq!(b, &vec![ALL_CUSTOMERS; 20]);
    }
}

#[tokio::test]
async fn an_unreachable_tenant_fails_alone_and_health_shows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = demo_with_customers_of(&dir, "USA").await;
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        listener.local_addr().expect("addr").port()
    };
    let down = format!("postgres://bi:s3cret-pw@127.0.0.1:{closed_port}/chinook");
    let mut config = config("", &[("a", &a), ("down", &down)]);
    config.database.connection_timeout_secs = 3;
    let metrics = Metrics::default();
    let engine = engine(config, &metrics).await;

    for attempt in 1..=2 {
        let e = engine
            .ask(Ask::new(QUESTION).tenant("down"))
            .await
            .expect_err("unreachable");
        assert_eq!(e.kind(), ErrorKind::DatabaseUnavailable, "{e}");
        assert!(!e.to_string().contains("s3cret-pw"), "{e}");
        assert!(e.to_string().contains("tenant 'down'"), "{e}");
        assert_eq!(
            metrics.tenants.connects_of("down", "database_unavailable"),
            attempt,
            "each ask tries again"
        );
        assert_eq!(count(&ask(&engine, "a").await), 13);
        assert_eq!(count(&ask(&engine, "default").await), ALL_CUSTOMERS);
    }
    let e = engine
        .schema_for_tenant("down")
        .await
        .expect_err("unreachable");
    assert_eq!(e.kind(), ErrorKind::DatabaseUnavailable);

    let health = engine.health().await;
    assert_eq!(health.status, "degraded", "{health:?}");
    assert!(health.database, "the default database is up");
    let by_id: BTreeMap<&str, _> = health
        .tenants
        .iter()
        .map(|t| (t.tenant_id.as_str(), t))
        .collect();
    let down = by_id["down"];
    assert!(
        !down.open && down.database.is_none() && !down.is_ok(),
        "{down:?}"
    );
    assert_eq!(down.dialect.as_deref(), Some("postgres"));
    let error = down.error.as_deref().expect("the last failure");
    assert!(
        error.contains(&format!("127.0.0.1:{closed_port}")),
        "{error}"
    );
    assert!(!error.contains("s3cret-pw"), "{error}");
    assert!(by_id["a"].is_ok() && by_id["a"].open);
    let json = serde_json::to_string(&health).expect("json");
    assert!(!json.contains("s3cret-pw"), "{json}");
}

#[tokio::test]
async fn a_source_held_past_its_closing_keeps_answering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = demo_with_customers_of(&dir, "USA").await;
    let b = demo_with_customers_of(&dir, "Brazil").await;
    let metrics = Metrics::default();
    let engine = engine(
        config(
            "[database]\nmax_tenant_pools = 1\n",
            &[("a", &a), ("b", &b)],
        ),
        &metrics,
    )
    .await;
    let held = engine.source_for_tenant("a").await.expect("a");
    assert_eq!(count(&ask(&engine, "b").await), 5, "b takes a's place");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_, rows) = held
        .run("SELECT COUNT(*) FROM Customer")
        .await
        .expect("a held source still answers");
    assert_eq!(rows.rows, vec![vec![Value::Int(13)]]);
    assert_eq!(metrics.tenants.closes.get(), 0, "a is closed once dropped");
    let executor = Arc::downgrade(held.executor());
    drop(held);
    eventually("a's pool closes", || metrics.tenants.closes.get() == 1).await;
    assert!(executor.upgrade().is_none());
    assert_eq!(count(&ask(&engine, "a").await), 13, "a opens again");
}
