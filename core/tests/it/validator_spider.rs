//! Zero false rejects on real analytic SQL: every SpiderMan train query that runs on its Spider
//! SQLite database must be accepted by the validator, and the validated statement, run the way
//! the engine runs it (through the guarded executor), must return the same rows as the gold
//! query on a plain connection (or exactly the row cap when the gold result is larger).

use std::{collections::BTreeMap, path::Path, sync::Arc};

use conversational_bi::{
    eval::parse_csv,
    exec::{self, SourceOptions, Value},
    sql::{Validator, ValidatorOptions},
};
use sqlx::{
    AssertSqlSafe, Row, SqlitePool, TypeInfo, ValueRef,
    sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteRow},
};

const SPIDER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/spider-train"
);
const MAX_ROWS: usize = 1000;
const MAX_PRINTED: usize = 30;

/// One cell as comparable text, by the value's storage class.
fn cell(row: &SqliteRow, i: usize) -> String {
    let Ok(raw) = row.try_get_raw(i) else {
        return "?".into();
    };
    if raw.is_null() {
        return "NULL".into();
    }
    let kind = raw.type_info().name().to_string();
    match kind.as_str() {
        "INTEGER" => row.try_get::<i64, _>(i).map(|v| v.to_string()),
        "REAL" => row.try_get::<f64, _>(i).map(|v| format!("{v:?}")),
        "BLOB" => row
            .try_get::<Vec<u8>, _>(i)
            .map(|v| v.iter().map(|b| format!("{b:02x}")).collect()),
        _ => row.try_get::<String, _>(i),
    }
    .unwrap_or_else(|_| format!("<{kind}>"))
}

async fn run(pool: &SqlitePool, sql: &str) -> Result<Vec<Vec<String>>, String> {
    let rows = sqlx::query(AssertSqlSafe(sql.to_string()))
        .fetch_all(pool)
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows
        .iter()
        .map(|r| (0..r.len()).map(|i| cell(r, i)).collect())
        .collect())
}

/// A value of the executor as [`cell`] writes it.
fn value_cell(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Bool(b) => i64::from(*b).to_string(),
        Value::Text(s) | Value::Decimal(s) | Value::Bytes(s) => s.clone(),
    }
}

fn has_top_level_order_by(sql: &str) -> bool {
    use sqlparser::{ast::Statement, dialect::SQLiteDialect, parser::Parser};
    match Parser::parse_sql(&SQLiteDialect {}, sql) {
        Ok(statements) => statements
            .iter()
            .any(|s| matches!(s, Statement::Query(q) if q.order_by.is_some())),
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spider_gold_queries_are_accepted_and_return_the_same_rows() {
    let text = std::fs::read_to_string(Path::new(SPIDER).join("train_queries_spiderman_mysql.csv"))
        .expect("the SpiderMan CSV is readable");
    let records = parse_csv(&text);
    let mut by_db: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in records.iter().skip(1) {
        if let [db, _question, sql] = r.as_slice() {
            by_db.entry(db.clone()).or_default().push(sql.clone());
        }
    }
    let total: usize = by_db.values().map(Vec::len).sum();

    let (mut runnable, mut accepted, mut equal, mut missing_db, mut not_runnable) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for (db, queries) in &by_db {
        let file = Path::new(SPIDER)
            .join("database")
            .join(db)
            .join(format!("{db}.sqlite"));
        if !file.exists() {
            missing_db += queries.len();
            continue;
        }
        let options = SqliteConnectOptions::new().filename(&file).read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("db opens");
        let executor = exec::connect(
            &format!("sqlite://{}", file.display()),
            SourceOptions {
                max_rows: MAX_ROWS,
                max_result_bytes: usize::MAX,
                pool_size: 1,
                ..SourceOptions::default()
            },
        )
        .await
        .expect("executor opens the database");
        let catalog = Arc::new(executor.catalog().await.expect("catalog"));
        let validator = Validator::new(
            catalog,
            ValidatorOptions {
                max_rows: MAX_ROWS,
                allowed_tables: vec![],
                denied_columns: vec![],
            },
        );
        for sql in queries {
            let Ok(gold) = run(&pool, sql).await else {
                not_runnable += 1;
                continue;
            };
            runnable += 1;
            let validated = match validator.validate(sql) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("[{db}] REJECTED {sql}\n    {e}"));
                    continue;
                }
            };
            accepted += 1;
            let got = match executor.execute(&validated.exec_sql).await {
                Ok(result) => result
                    .rows
                    .iter()
                    .map(|r| r.iter().map(value_cell).collect::<Vec<_>>())
                    .collect::<Vec<_>>(),
                Err(e) => {
                    failures.push(format!(
                        "[{db}] validated SQL fails: {}\n    {e}",
                        validated.sql
                    ));
                    continue;
                }
            };
            let same = if gold.len() > MAX_ROWS {
                got.len() == MAX_ROWS
            } else if has_top_level_order_by(sql) {
                got == gold
            } else {
                let (mut a, mut b) = (gold.clone(), got.clone());
                a.sort();
                b.sort();
                a == b
            };
            if same {
                equal += 1;
            } else {
                failures.push(format!(
                    "[{db}] different rows ({} gold, {} validated): {sql}\n    validated: {}",
                    gold.len(),
                    got.len(),
                    validated.sql
                ));
            }
        }
        pool.close().await;
    }
    println!(
        "spider: {total} queries, {missing_db} without a database file, {not_runnable} not runnable, \
         {runnable} runnable, {accepted} accepted, {equal} result-equal"
    );
    for f in failures.iter().take(MAX_PRINTED) {
        println!("{f}");
    }
    assert!(
        runnable > 6000,
        "expected about 6627 runnable queries, got {runnable}"
    );
    assert!(
        failures.is_empty(),
        "{} failures (first {MAX_PRINTED} printed above)",
        failures.len()
    );
}
