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
        .ask(Ask::new("Which customers spent more than the average?").session(session))
        .await
        .expect_err("abstains");
    assert_eq!(e.kind(), ErrorKind::CannotAnswer);
}

/// Northwind from the shared data folder (`$CBI_SHARED_DIR`, default `<repo>/../shared`).
fn northwind_url() -> String {
    let shared = std::env::var("CBI_SHARED_DIR")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("{}/../../shared", env!("CARGO_MANIFEST_DIR")));
    format!("sqlite://{shared}/data/northwind/northwind.sqlite?mode=ro")
}

/// A follow-up changes only what it names: a participle that is also part of a date column's
/// name ("shipped" of `ShippedDate`) adds no column and no grouping.
#[tokio::test]
async fn a_participle_in_a_follow_up_adds_no_column() {
    let engine = Engine::builder()
        .database_url(northwind_url())
        .build()
        .await
        .expect("engine");
    let ask = |q: &'static str, s: &'static str| {
        let engine = engine.clone();
        async move {
            engine
                .ask(Ask::new(q).session(s))
                .await
                .unwrap_or_else(|e| panic!("{q}: {e}"))
        }
    };
    let run = |sql: &'static str| {
        let engine = engine.clone();
        async move {
            engine
                .source()
                .run(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .1
                .rows
        }
    };
    ask("How many orders were placed in 1997?", "a").await;
    ask("What about 1998?", "a").await;
    let germany = ask("Only those shipped to Germany", "a").await;
    assert!(!germany.sql.contains("ShippedDate"), "{}", germany.sql);
    assert_eq!(germany.columns.len(), 1, "{}", germany.sql);
    assert_eq!(
        germany.rows,
        run("SELECT COUNT(*) FROM Orders WHERE strftime('%Y', OrderDate) = '1998' AND ShipCountry = 'Germany'").await
    );

    ask("Total freight by shipper", "b").await;
    let usa = ask("Only for orders shipped to the USA", "b").await;
    assert!(!usa.sql.contains("ShippedDate"), "{}", usa.sql);
    assert_eq!(usa.columns.len(), 2, "{}", usa.sql);

    // The nearest readings keep the column: the date of a time condition, and the column named
    // with its other word.
    let shipped = ask("How many orders were shipped in 1998?", "c").await;
    assert!(shipped.sql.contains("ShippedDate"), "{}", shipped.sql);
    let named = ask("List the order ids sorted by shipped date", "d").await;
    assert!(named.sql.contains("ORDER BY ShippedDate"), "{}", named.sql);
}

/// A turn that refers back keeps the previous answer's scope through the engine, and a question
/// the engine could not answer stays in the conversation: a next turn that refers back is not
/// read against the answer before it.
#[tokio::test]
async fn references_and_unanswered_turns_through_the_engine() {
    let engine = Engine::builder()
        .database_url(demo_url())
        .build()
        .await
        .expect("engine");
    let ask = |q: &'static str| engine.ask(Ask::new(q).session("references"));
    ask("List the customers in Canada").await.expect("answers");
    let emails = ask("What are their emails?").await.expect("answers");
    assert!(
        emails.sql.contains("'Canada'") && emails.sql.contains("Email"),
        "{}",
        emails.sql
    );
    assert_eq!(emails.rows.len(), 8);
    let most = ask("Which of them has the most invoices?")
        .await
        .expect("answers");
    assert!(
        most.sql.contains("'Canada'") && most.sql.contains("LIMIT 1"),
        "{}",
        most.sql
    );

    let e = ask("Of those, which are in the happiest city?")
        .await
        .expect_err("abstains");
    assert_eq!(e.kind(), ErrorKind::CannotAnswer);
    let state = engine
        .session("default", "references")
        .await
        .expect("session");
    let last = state.turns.last().expect("a turn");
    assert!(last.is_unanswered(), "{last:?}");
    assert_eq!(last.question, "Of those, which are in the happiest city?");
    assert!(
        last.explanation.contains("happiest"),
        "{}",
        last.explanation
    );
    assert_eq!(state.turns.len(), 4);

    let e = ask("What are their cities?").await.expect_err("abstains");
    assert!(e.to_string().contains("was not answered"), "{e}");
    // A whole new question is answered as one.
    let artists = ask("How many artists are there?").await.expect("answers");
    assert_eq!(artists.rows, vec![vec![Value::Int(275)]]);
}
