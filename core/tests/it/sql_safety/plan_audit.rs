//! PostgreSQL decides: before a statement runs, the relations of its plan must be allowed,
//! whatever the validator thought. These statements go straight to the executor.

use conversational_bi::{Error, exec::SourceOptions, sql::RejectRule};

use super::Db;

async fn executor(allowed: &[&str]) -> std::sync::Arc<dyn conversational_bi::exec::Executor> {
    let options = SourceOptions {
        allowed_tables: allowed.iter().map(|s| s.to_string()).collect(),
        statement_timeout_ms: 3000,
        pool_size: 2,
        ..SourceOptions::default()
    };
    testkit::db::open(&Db::Postgres.url(), options).await
}

#[tokio::test]
async fn the_plan_may_scan_only_allowed_tables_and_what_allowed_views_read() {
    if !Db::Postgres.require() {
        return;
    }
    let ex = executor(&["customers", "orders"]).await;
    for sql in [
        "SELECT token FROM secrets",
        "SELECT count(*) FROM customers, secrets",
        "SELECT (SELECT max(token) FROM public.secrets) FROM orders",
        "SELECT usename FROM pg_catalog.pg_user",
        "SELECT datname FROM pg_database",
    ] {
        match ex.execute(sql).await {
            Err(Error::SqlRejected { rule, reason, .. }) => {
                assert_eq!(rule, RejectRule::TableNotAllowed, "{sql}");
                assert!(reason.contains("allowed_tables"), "{reason}");
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
    let ok = ex
        .execute("SELECT c.name, sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name")
        .await
        .expect("allowed tables run");
    assert!(!ok.rows.is_empty());
    // A view is judged by the tables its plan scans: customer_names reads only customers.
    ex.execute("SELECT name FROM customer_names")
        .await
        .expect("the plan scans an allowed table");

    // An allowed view lets its plan scan the table under it, and nothing else.
    let ex = executor(&["customer_names"]).await;
    ex.execute("SELECT name FROM customer_names WHERE id < 3")
        .await
        .expect("the view reads customers");
    assert!(matches!(
        ex.execute("SELECT token FROM secrets").await,
        Err(Error::SqlRejected { .. })
    ));
}

#[tokio::test]
async fn without_a_table_list_only_system_schemas_are_refused() {
    if !Db::Postgres.require() {
        return;
    }
    let ex = executor(&[]).await;
    ex.execute("SELECT token FROM secrets")
        .await
        .expect("every table");
    assert!(matches!(
        ex.execute("SELECT relname FROM pg_class").await,
        Err(Error::SqlRejected { .. })
    ));
}
