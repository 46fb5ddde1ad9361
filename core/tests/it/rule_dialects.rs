//! The same questions on the Chinook loads of SQLite, PostgreSQL (snake_case names) and
//! MariaDB: the offline rules write each dialect's SQL, the engine's validator accepts it, and
//! every database returns the same rows (by the engine's execution accuracy, in any order).

use conversational_bi::{
    Config, DataSource,
    eval::rows_match,
    exec::Value,
    generate::{GenerationRequest, RuleGenerator, SqlGenerator},
};
use testkit::db::{Backend, SETUP_HINT};

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

/// The rule generator over `backend`'s Chinook, and the source it validates and runs on.
async fn open(backend: Backend) -> (RuleGenerator, DataSource) {
    let mut config = Config::default();
    config.database.max_rows = 100_000;
    config.database.pool_size = 2;
    let source = DataSource::connect(&config, Some(&backend.chinook_url()))
        .await
        .unwrap_or_else(|e| panic!("cannot open {backend:?}: {e}\n{SETUP_HINT}"));
    let generator = RuleGenerator::from_source(&source)
        .await
        .expect("generator");
    (generator, source)
}

/// The rows of the rule generator's answer to `question`, as the engine runs it.
async fn answer(generator: &RuleGenerator, source: &DataSource, question: &str) -> Vec<Vec<Value>> {
    let request = GenerationRequest {
        question: question.into(),
        catalog: source.visible_catalog().clone(),
        history: Vec::new(),
        feedback: Vec::new(),
        max_rows: 100_000,
        view: None,
    };
    let dialect = source.executor().dialect();
    let generated = generator
        .generate(&request)
        .await
        .unwrap_or_else(|e| panic!("{dialect}: {question}: {e}"));
    let (_, result) = source
        .run(&generated.sql)
        .await
        .unwrap_or_else(|e| panic!("{dialect}: {question}: {}: {e}", generated.sql));
    result.rows
}

#[tokio::test]
async fn same_answers_on_sqlite_postgres_and_mariadb() {
    let (reference, reference_source) = open(Backend::Sqlite).await;
    for backend in [Backend::Postgres, Backend::Mysql] {
        if !backend.require() {
            continue;
        }
        let (generator, source) = open(backend).await;
        for q in QUESTIONS {
            let expected = answer(&reference, &reference_source, q).await;
            let rows = answer(&generator, &source, q).await;
            assert!(
                rows_match(&rows, &expected, false),
                "{backend:?}: {q}\n{rows:?}\n{expected:?}"
            );
        }
    }
}

/// Text patterns, negations and sets: case-insensitive `LIKE` (`ILIKE` on PostgreSQL) with
/// escaped wildcards, `<>`, and `[NOT] EXISTS` instead of `INTERSECT`/`EXCEPT`.
const PATTERN_QUESTIONS: &[&str] = &[
    "Artists whose name starts with the letter A",
    "Tracks whose name contains 'love'",
    "Tracks whose name contains '100%'",
    "Customers not in Canada",
    "Customers not in Canada or USA",
    "List artists without albums",
    "Customers who never bought a Jazz track",
    "Customers who bought both Rock and Jazz tracks",
    "Customers who bought Rock but not Jazz tracks",
];

/// Comparisons with an average, superlatives within groups, whole rows, ranges of years and
/// percentages: constructions whose SQL (subqueries, correlated subqueries, `CASE`, `NULLIF`)
/// each dialect must accept and agree on.
const AGGREGATE_QUESTIONS: &[&str] = &[
    "How many tracks are longer than average?",
    "Which tracks have a unit price above average?",
    "List the tracks longer than twice the average.",
    "the most expensive track in each genre",
    "the shortest track of every album",
    "Show all information about the genres.",
    "How many invoices from 2021 to 2023?",
    "What percentage of tracks are Rock?",
    "share of revenue by billing country",
    "What are the maximum and minimum track lengths?",
    "Show the number of tracks and their average unit price for each genre.",
    "Which tracks cost more than 1 or last longer than 1000000 milliseconds?",
    "Which billing countries have invoices in both Berlin and Stuttgart?",
    "Which billing cities have both invoices with total less than 1 and invoices with total more than 20?",
    "How many tracks are in each playlist?",
    "How many invoices are there in 2022 or before?",
    "How many albums were produced by AC/DC?",
];

#[tokio::test]
async fn patterns_negations_sets_and_aggregate_comparisons_agree_on_sqlite_postgres_and_mariadb() {
    let (reference, reference_source) = open(Backend::Sqlite).await;
    for backend in [Backend::Postgres, Backend::Mysql] {
        if !backend.require() {
            continue;
        }
        let (generator, source) = open(backend).await;
        for q in PATTERN_QUESTIONS.iter().chain(AGGREGATE_QUESTIONS) {
            let expected = answer(&reference, &reference_source, q).await;
            let rows = answer(&generator, &source, q).await;
            assert!(
                rows_match(&rows, &expected, false),
                "{backend:?}: {q}\n{rows:?}\n{expected:?}"
            );
        }
    }
}
