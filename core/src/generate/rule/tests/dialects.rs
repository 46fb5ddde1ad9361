//! The same questions on the Chinook loads of SQLite, PostgreSQL (snake_case names) and
//! MariaDB: the rules write each dialect's SQL and every database returns the same rows.

use std::sync::Arc;

use crate::{
    exec::{self, Executor, SourceOptions},
    generate::rule::RuleGenerator,
};

const QUESTIONS: &[&str] = &[
    "How many artists are there?",
    "How many customers live in Canada?",
    "Number of customers per country",
    "Total sales by billing country",
    "How many tracks are in the Jazz genre?",
    "Top 5 artists by number of albums",
    "Total sales per year",
    "Number of invoices per month in 2024",
    "How many invoices in March 2024?",
    "How many invoices before 2022?",
    "Which customer spent the most?",
    "The 10 longest tracks",
    "Total revenue per media type",
];

async fn open(url: &str) -> (RuleGenerator, Arc<dyn Executor>) {
    let options = SourceOptions {
        max_rows: 100_000,
        pool_size: 2,
        ..SourceOptions::default()
    };
    let db = exec::connect(url, options)
        .await
        .unwrap_or_else(|e| panic!("connects to {url}: {e}"));
    let catalog = Arc::new(db.catalog().await.expect("catalog"));
    let g = RuleGenerator::build(db.as_ref(), catalog)
        .await
        .expect("generator");
    (g, db)
}

#[tokio::test]
async fn same_answers_on_sqlite_postgres_and_mariadb() {
    let sqlite = format!("sqlite://{}", super::testdb::path("chinook").display());
    let pg = std::env::var("CBI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://cbi_ro:cbi_ro@127.0.0.1:5432/chinook".into());
    let my = std::env::var("CBI_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://cbi_ro:cbi_ro@127.0.0.1:3306/chinook".into());
    let (reference, reference_db) = open(&sqlite).await;
    for url in [pg, my] {
        let (g, db) = open(&url).await;
        for q in QUESTIONS {
            let expected = reference.answer(q, &[]).expect("answers on SQLite");
            let expected = reference_db
                .execute(&expected.sql)
                .await
                .expect("runs")
                .rows;
            let got = g
                .answer(q, &[])
                .unwrap_or_else(|e| panic!("{url}: {q}: {e}"));
            super::validated(&g, &got.sql);
            let rows = db
                .execute(&got.sql)
                .await
                .unwrap_or_else(|e| panic!("{url}: {q}: {}: {e}", got.sql))
                .rows;
            assert!(
                crate::eval::rows_match(&rows, &expected, false),
                "{url}: {q}\n{}\n{rows:?}\n{expected:?}",
                got.sql
            );
        }
    }
}
