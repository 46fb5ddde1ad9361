//! H3 and L4: what one statement may cost. Sizes and widths must be literal and small, generated
//! series bounded, joins real, recursions ended; the result is cut at a byte budget; and only a
//! few statements run at once.

use std::sync::Arc;

use async_trait::async_trait;
use conversational_bi::{
    Engine, Error,
    engine::Ask,
    generate::{Generation, GenerationRequest, SqlGenerator},
    sql::RejectRule,
};

use super::Db;

/// Statements whose cost the validator cannot bound, with the rule that refuses each.
fn unbounded(db: Db) -> Vec<(&'static str, RejectRule)> {
    use RejectRule::{CartesianProduct, OversizedValue, UnboundedRecursion};
    match db {
        Db::Sqlite => vec![
            ("SELECT printf('%.*c', 60000000, 'x')", OversizedValue),
            ("SELECT length(printf('%.60000000c', 'x'))", OversizedValue),
            ("SELECT printf('%*d', 1000000, 1)", OversizedValue),
            (
                "SELECT length(zeroblob(length(Name) * 100000000)) FROM Artist",
                OversizedValue,
            ),
            (
                "SELECT count(*) FROM Track a, Track b, Track c WHERE a.TrackId + b.TrackId + c.TrackId > 0",
                CartesianProduct,
            ),
            (
                "SELECT count(*) FROM Track a JOIN Track b ON 1 = 1 JOIN Track c ON a.TrackId < c.TrackId",
                CartesianProduct,
            ),
            (
                "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE 1 = 1) SELECT count(*) FROM c",
                UnboundedRecursion,
            ),
            (
                "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < n + 1) SELECT count(*) FROM c",
                UnboundedRecursion,
            ),
        ],
        Db::Postgres => vec![
            ("SELECT lpad('x', 100000000 + 0)", OversizedValue),
            ("SELECT format('%500000000s', 'x')", OversizedValue),
            ("SELECT format('%*s', 500000000, 'x')", OversizedValue),
            (
                "SELECT count(*) FROM generate_series(1, 100000000000)",
                OversizedValue,
            ),
            (
                "SELECT count(*) FROM customers c, generate_series(1, c.id * 1000000000)",
                OversizedValue,
            ),
            (
                "SELECT count(*) FROM orders a, orders b, orders c WHERE a.id + b.id + c.id > 0",
                CartesianProduct,
            ),
        ],
        Db::Mysql => vec![
            ("SELECT LPAD('x', 100000000 + 0, 'y')", OversizedValue),
            (
                "SELECT RPAD(name, id * 100000000, 'y') FROM customers",
                OversizedValue,
            ),
            (
                "SELECT count(*) FROM orders a, orders b, orders c WHERE a.id + b.id + c.id > 0",
                CartesianProduct,
            ),
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn costs_the_validator_cannot_bound_are_refused() {
    for db in Db::available() {
        let source = db.source().await;
        for (sql, expected) in unbounded(db) {
            match source.validate(sql) {
                Err(Error::SqlRejected { rule, .. }) => assert_eq!(rule, expected, "{db:?}: {sql}"),
                other => panic!("{db:?}: {sql}: {other:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_work_still_runs() {
    let cases: &[(Db, &str)] = &[
        (
            Db::Sqlite,
            "SELECT printf('%-12s|%.2f', Name, 1.5) FROM Artist LIMIT 3",
        ),
        (
            Db::Sqlite,
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 10) SELECT sum(n) FROM c",
        ),
        (
            Db::Sqlite,
            "WITH RECURSIVE chain(id) AS (SELECT EmployeeId FROM Employee WHERE ReportsTo IS NULL \
             UNION ALL SELECT e.EmployeeId FROM Employee e JOIN chain ON e.ReportsTo = chain.id) SELECT count(*) FROM chain",
        ),
        (
            Db::Sqlite,
            "SELECT count(*) FROM Track t JOIN Album a ON a.AlbumId = t.AlbumId JOIN Artist r ON r.ArtistId = a.ArtistId",
        ),
        (
            Db::Postgres,
            "SELECT d::date, count(o.id) FROM generate_series(DATE '2024-01-01', DATE '2024-03-31', INTERVAL '1 month') AS d \
             LEFT JOIN orders o ON date_trunc('month', o.created_at) = d GROUP BY d ORDER BY d",
        ),
        (
            Db::Postgres,
            "SELECT format('%s has %-5s', name, 'x') FROM customers LIMIT 2",
        ),
        (
            Db::Mysql,
            "SELECT LPAD(name, 20, '.') FROM customers LIMIT 2",
        ),
    ];
    for (db, sql) in cases {
        if !db.require() {
            continue;
        }
        let source = db.source().await;
        source
            .run(sql)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {sql}: {e}"));
    }
}

/// H3: the result stops at `[database] max_result_bytes` on every database, says so, and the
/// rows kept fit the budget (plus the one row that crossed it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_stop_at_the_byte_budget() {
    const BUDGET: usize = 64 * 1024;
    let wide: &[(Db, &str)] = &[
        (
            Db::Sqlite,
            "SELECT printf('%.9000c', 'x') AS pad FROM Track",
        ),
        (
            Db::Postgres,
            "SELECT lpad('x', 9000, 'y') AS pad FROM generate_series(1, 5000)",
        ),
        (Db::Mysql, "SELECT LPAD('x', 9000, 'y') AS pad FROM orders"),
    ];
    for (db, sql) in wide {
        if !db.require() {
            continue;
        }
        let mut config = db.config();
        config.database.max_result_bytes = BUDGET;
        let source = conversational_bi::DataSource::connect(&config, Some(&db.url()))
            .await
            .expect("connects");
        let (_, result) = source
            .run(sql)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert!(result.truncated && result.byte_cap_reached, "{db:?}");
        assert_eq!(result.rows.len(), BUDGET / 9000 + 1, "{db:?}");
    }
}

/// A generator that always writes the same SQL.
#[derive(Debug)]
struct Fixed(&'static str);

#[async_trait]
impl SqlGenerator for Fixed {
    fn name(&self) -> String {
        "fixed".into()
    }
    async fn generate(
        &self,
        _request: &GenerationRequest,
    ) -> conversational_bi::Result<Generation> {
        Ok(Generation {
            sql: self.0.into(),
            explanation: "padding".into(),
            state: None,
            degraded: None,
            clarification: None,
        })
    }
}

#[tokio::test]
async fn the_answer_says_the_byte_budget_cut_it() {
    let mut config = Db::Sqlite.config();
    config.database.max_result_bytes = 20_000;
    config.cache.enabled = false;
    let engine = Engine::builder()
        .config(config)
        .database_url(Db::Sqlite.url())
        .generator(Arc::new(Fixed(
            "SELECT printf('%.9000c', 'x') AS pad FROM Track",
        )))
        .build()
        .await
        .expect("engine");
    let answer = engine
        .ask(Ask::new("pad everything"))
        .await
        .expect("answers");
    assert!(answer.truncated);
    assert_eq!(answer.rows.len(), 3);
    assert!(
        answer
            .warnings
            .iter()
            .any(|w| w.contains("max_result_bytes")),
        "{:?}",
        answer.warnings
    );
}
