//! What the PostgreSQL plan audit costs: a typical statement through the executor (which asks
//! for the plan first), and, on a plain connection, the statement alone and its
//! `EXPLAIN (VERBOSE, FORMAT JSON)` alone.
//!
//! `cargo run --release -p conversational-bi --example pg_plan_cost [-- URL]`
//! (default: `CBI_TEST_PG_URL`, else Chinook as loaded by `scripts/load-test-data.sh`).

#![allow(missing_docs)]

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

const STATEMENT: &str = "SELECT c.country, sum(i.total) AS revenue FROM customer c \
    JOIN invoice i ON i.customer_id = c.customer_id GROUP BY c.country ORDER BY revenue DESC LIMIT 5";
const ROUNDS: u32 = 2000;

fn per_call(total: Duration) -> f64 {
    total.as_secs_f64() * 1e6 / f64::from(ROUNDS)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).unwrap_or_else(testkit::db::pg_url);
    let executor = conversational_bi::exec::connect(&url, Default::default()).await?;
    let mut plain = PgConnection::connect(&url).await?;
    let explain = format!("EXPLAIN (VERBOSE, FORMAT JSON) {STATEMENT}");
    for _ in 0..200 {
        executor.execute(STATEMENT).await?;
        sqlx::query(STATEMENT).fetch_all(&mut plain).await?;
        sqlx::query(sqlx::AssertSqlSafe(explain.as_str()))
            .fetch_all(&mut plain)
            .await?;
    }
    let t = Instant::now();
    for _ in 0..ROUNDS {
        executor.execute(STATEMENT).await?;
    }
    let engine = per_call(t.elapsed());
    let t = Instant::now();
    for _ in 0..ROUNDS {
        sqlx::query(STATEMENT).fetch_all(&mut plain).await?;
    }
    let statement = per_call(t.elapsed());
    let t = Instant::now();
    for _ in 0..ROUNDS {
        sqlx::query(sqlx::AssertSqlSafe(explain.as_str()))
            .fetch_all(&mut plain)
            .await?;
    }
    let plan = per_call(t.elapsed());
    println!(
        "per statement over {ROUNDS} rounds: executor {engine:.0} µs (read-only transaction, settings, plan audit, statement, rollback); \
         plain connection: statement {statement:.0} µs, EXPLAIN (VERBOSE, FORMAT JSON) {plan:.0} µs"
    );
    Ok(())
}
