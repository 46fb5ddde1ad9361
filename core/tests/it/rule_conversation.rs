//! The offline generator through `Engine::ask` on the demo database: a long conversation whose
//! follow-ups patch the previous query, every statement validated and run read-only.

use conversational_bi::{Answer, Ask, Engine, ErrorKind, exec::Value};

/// What a turn's answer must satisfy.
type Check = dyn Fn(&Answer) -> bool;

fn demo_url() -> String {
    format!(
        "sqlite://{}/../examples/chinook/chinook.sqlite",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[tokio::test]
async fn a_long_conversation_through_the_engine() {
    let engine = Engine::builder()
        .database_url(demo_url())
        .build()
        .await
        .expect("engine");
    let session = "rule-conversation";
    let turns: &[(&str, &Check)] = &[
        ("How many invoices were issued in 2022?", &|a| {
            a.rows.len() == 1
        }),
        ("What about 2023?", &|a| {
            a.sql.contains("'2023'") && !a.sql.contains("'2022'")
        }),
        ("Only for customers in the USA", &|a| {
            a.sql.contains("'USA'")
        }),
        ("Total sales by country", &|a| a.rows.len() == 24),
        ("Only in 2024", &|a| a.sql.contains("'2024'")),
        ("Show it by city instead", &|a| {
            a.sql.contains("BillingCity")
        }),
        ("Top 5 instead", &|a| a.rows.len() == 5),
        ("Sort ascending", &|a| a.sql.contains("ASC")),
        ("Which customers are in Germany?", &|a| a.rows.len() == 4),
        ("Show their emails too", &|a| {
            a.columns.iter().any(|c| c.name == "Email")
        }),
        ("Start over, how many artists are there?", &|a| {
            a.rows == vec![vec![Value::Int(275)]]
        }),
        ("Top 5 genres by number of tracks", &|a| {
            a.rows[0][0] == Value::Text("Rock".into())
        }),
        ("Top 3 instead", &|a| a.rows.len() == 3),
    ];
    for (i, (question, check)) in turns.iter().enumerate() {
        let answer = engine
            .ask(Ask::new(*question).session(session))
            .await
            .unwrap_or_else(|e| panic!("{question}: {e}"));
        assert_eq!(answer.generator, "rule");
        assert_eq!(answer.turn, i as u64 + 1);
        assert!(!answer.explanation.is_empty());
        assert!(
            check(&answer),
            "{question}: {} -> {:?}",
            answer.sql,
            answer.rows
        );
    }
    let e = engine
        .ask(Ask::new("Which tracks are longer than the average?").session(session))
        .await
        .expect_err("abstains");
    assert_eq!(e.kind(), ErrorKind::CannotAnswer);
}
