//! Questions per second of the offline `RuleGenerator` on Chinook: generation only (tokens →
//! query representation → SQL and explanation), no database round trip. The catalog and the
//! value index are read once from the demo database before timing.
//!
//! Run: `cargo bench -p conversational-bi --bench rule`. Besides criterion's report, it prints
//! the questions per second of one core over a mix of business questions.

use std::{hint::black_box, sync::Arc, time::Instant};

use async_trait::async_trait;
use conversational_bi::{
    Catalog, Dialect, Result,
    catalog::{Column, ForeignKey, Table, TableKind},
    exec::{Executor, QueryResult, SourceOptions, Value},
    generate::RuleGenerator,
};
use criterion::{Criterion, criterion_group, criterion_main};
use sqlx::{Row, sqlite::SqlitePool};

const QUESTIONS: &[&str] = &[
    "How many artists are there?",
    "How many tracks are longer than 5 minutes?",
    "What is the total of all invoices?",
    "How many customers live in Canada?",
    "Number of customers per country",
    "Total sales by billing country",
    "Which 5 countries have the highest total sales?",
    "How many tracks are in the Jazz genre?",
    "Top 5 artists by number of albums",
    "List the albums by Led Zeppelin",
    "Total sales per year",
    "Average track length in milliseconds per genre",
    "Which 3 genres earned the most revenue?",
    "Number of invoices per month in 2024",
    "Which customer spent the most?",
    "What is the meaning of life?",
];

/// Just enough of an executor to read the demo database's schema and text values.
#[derive(Debug)]
struct DemoFile {
    pool: SqlitePool,
    options: SourceOptions,
}

#[async_trait]
impl Executor for DemoFile {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn options(&self) -> &SourceOptions {
        &self.options
    }

    async fn catalog(&self) -> Result<Catalog> {
        let mut tables = Vec::new();
        let names = sqlx::query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(fail)?;
        for row in names {
            let name: String = row.get(0);
            let cols = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT name, type, pk FROM pragma_table_info('{name}') ORDER BY cid"
            )))
            .fetch_all(&self.pool)
            .await
            .map_err(fail)?;
            let fks = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list('{name}')"
            )))
            .fetch_all(&self.pool)
            .await
            .map_err(fail)?;
            tables.push(Table {
                schema: None,
                name,
                kind: TableKind::Table,
                primary_key: cols
                    .iter()
                    .filter(|c| c.get::<i64, _>(2) > 0)
                    .map(|c| c.get(0))
                    .collect(),
                columns: cols
                    .iter()
                    .map(|c| Column {
                        name: c.get(0),
                        data_type: c.get(1),
                        nullable: true,
                        comment: None,
                    })
                    .collect(),
                foreign_keys: fks
                    .iter()
                    .map(|f| ForeignKey {
                        columns: vec![f.get(1)],
                        referenced_schema: None,
                        referenced_table: f.get(0),
                        referenced_columns: vec![f.get(2)],
                    })
                    .collect(),
                comment: None,
            });
        }
        Ok(Catalog::new(Dialect::Sqlite, "chinook", tables))
    }

    async fn execute(&self, sql: &str) -> Result<QueryResult> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&self.pool)
            .await
            .map_err(fail)?;
        Ok(QueryResult {
            columns: Vec::new(),
            rows: rows
                .iter()
                .map(|r| vec![r.try_get::<String, _>(0).map_or(Value::Null, Value::Text)])
                .collect(),
            truncated: false,
            byte_cap_reached: false,
            elapsed_ms: 0.0,
        })
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}

fn fail(e: sqlx::Error) -> conversational_bi::Error {
    conversational_bi::Error::Execution {
        message: e.to_string(),
    }
}

fn generator() -> RuleGenerator {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chinook.sqlite");
        std::fs::write(&path, conversational_bi::demo::CHINOOK_SQLITE).expect("demo database");
        let pool = SqlitePool::connect(&format!("sqlite://{}?mode=ro", path.display()))
            .await
            .expect("opens");
        let file = DemoFile {
            pool,
            options: SourceOptions::default(),
        };
        let catalog = Arc::new(file.catalog().await.expect("catalog"));
        RuleGenerator::build(&file, catalog)
            .await
            .expect("generator")
    })
}

fn bench(c: &mut Criterion) {
    let g = generator();
    c.bench_function("rule_generate_mix", |b| {
        b.iter(|| {
            for q in QUESTIONS {
                let _ = black_box(g.answer(black_box(q), &[]));
            }
        })
    });
    let rounds = 2_000;
    let started = Instant::now();
    for _ in 0..rounds {
        for q in QUESTIONS {
            let _ = black_box(g.answer(black_box(q), &[]));
        }
    }
    let per_second = (rounds * QUESTIONS.len()) as f64 / started.elapsed().as_secs_f64();
    println!("rule generator: {per_second:.0} questions per second on one core");
}

criterion_group!(benches, bench);
criterion_main!(benches);
