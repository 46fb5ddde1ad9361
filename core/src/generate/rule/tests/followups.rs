//! Follow-ups patch the previous turn's query; a long conversation on the demo database.

use super::{converse, generator, turn};
use crate::generate::rule::QueryIr;

fn last_sql(answers: &[Result<String, crate::Error>]) -> &str {
    match answers.last() {
        Some(Ok(s)) => s,
        Some(Err(e)) => panic!("the last turn failed: {e}"),
        None => panic!("no turn"),
    }
}

#[tokio::test]
async fn adding_a_filter() {
    let (g, _) = generator("chinook").await;
    let a = converse(&g, &["How many tracks are there?", "only for Rock"]);
    assert!(last_sql(&a).ends_with("WHERE Genre.Name = 'Rock'"), "{a:?}");
    let (g, _) = generator("sakila").await;
    let a = converse(
        &g,
        &["Number of films per rating", "only for the Comedy category"],
    );
    let s = last_sql(&a);
    assert!(
        s.contains("GROUP BY film.rating") && s.contains("'Comedy'"),
        "{s}"
    );
}

#[tokio::test]
async fn replacing_a_filter_on_the_same_column() {
    let (g, _) = generator("chinook").await;
    let a = converse(
        &g,
        &["How many invoices were issued in 2022?", "What about 2023?"],
    );
    let s = last_sql(&a);
    assert!(s.contains("'2023'") && !s.contains("'2022'"), "{s}");
    let a = converse(
        &g,
        &["How many customers live in Canada?", "what about Brazil?"],
    );
    let s = last_sql(&a);
    assert!(s.ends_with("WHERE Country = 'Brazil'"), "{s}");
}

#[tokio::test]
async fn changing_the_limit_and_the_direction() {
    let (g, _) = generator("chinook").await;
    let a = converse(
        &g,
        &[
            "Top 5 genres by number of tracks",
            "top 3 instead",
            "sort ascending",
        ],
    );
    let s = last_sql(&a);
    assert!(s.ends_with("ORDER BY COUNT(*) ASC LIMIT 3"), "{s}");
}

#[tokio::test]
async fn adding_and_replacing_groupings() {
    let (g, _) = generator("chinook").await;
    let a = converse(&g, &["Total sales per year", "and by country"]);
    let s = last_sql(&a);
    assert!(
        s.contains("GROUP BY strftime('%Y', InvoiceDate), BillingCountry"),
        "{s}"
    );
    let a = converse(&g, &["Total sales by country", "show it by city instead"]);
    let s = last_sql(&a);
    assert!(
        s.contains("GROUP BY BillingCity") && !s.contains("BillingCountry"),
        "{s}"
    );
}

#[tokio::test]
async fn adding_a_column() {
    let (g, _) = generator("chinook").await;
    let a = converse(
        &g,
        &["Which customers are in Germany?", "show their emails too"],
    );
    assert_eq!(
        last_sql(&a),
        "SELECT FirstName, LastName, Email FROM Customer WHERE Country = 'Germany'"
    );
}

#[tokio::test]
async fn starting_over_drops_the_previous_query() {
    let (g, _) = generator("chinook").await;
    let a = converse(
        &g,
        &[
            "How many customers live in Canada?",
            "start over, how many albums are there?",
        ],
    );
    assert_eq!(last_sql(&a), "SELECT COUNT(*) AS count FROM Album");
    let first = g
        .answer("How many customers live in Canada?", &[])
        .expect("answers");
    let e = g
        .answer(
            "start over",
            &[turn("How many customers live in Canada?", &first)],
        )
        .expect_err("nothing to answer");
    assert!(e.to_string().contains("starting over"), "{e}");
}

#[tokio::test]
async fn state_is_the_query_representation() {
    let (g, _) = generator("chinook").await;
    let a = g
        .answer("How many tracks are in the Jazz genre?", &[])
        .expect("answers");
    let ir = QueryIr::from_state(a.state.as_ref().expect("state")).expect("rule state");
    assert_eq!(ir.subject, "Track");
    assert_eq!(ir.filters.len(), 1);
    // A state written by another generator is ignored: the question stands alone.
    let mut other = turn("q", &a);
    other.state = Some(serde_json::json!({ "llm": true }));
    let e = g.answer("only for Rock", &[other]);
    assert!(e.is_err() || !e.as_ref().is_ok_and(|x| x.sql.contains("Jazz")));
}

#[tokio::test]
async fn a_long_conversation_on_the_demo_database() {
    let (g, db) = generator("chinook").await;
    let questions = [
        "How many invoices were issued in 2022?",
        "What about 2023?",
        "Only for customers in the USA",
        "Total sales by country",
        "Only in 2024",
        "Show it by city instead",
        "Top 5 instead",
        "Sort ascending",
        "Which customers are in Germany?",
        "Show their emails too",
        "Start over, how many artists are there?",
        "Top 5 genres by number of tracks",
        "Top 3 instead",
    ];
    let answers = converse(&g, &questions);
    let mut rows = Vec::new();
    for (q, a) in questions.iter().zip(&answers) {
        let s = a.as_ref().unwrap_or_else(|e| panic!("{q}: {e}"));
        rows.push(
            db.execute(s)
                .await
                .unwrap_or_else(|e| panic!("{q}: {s}: {e}"))
                .rows,
        );
    }
    let sql = |i: usize| answers[i].as_ref().map(String::as_str).unwrap_or_default();
    assert!(
        sql(2).contains("'2023'") && sql(2).contains("'USA'"),
        "{}",
        sql(2)
    );
    assert!(
        sql(5).contains("BillingCity") && sql(5).contains("'2024'"),
        "{}",
        sql(5)
    );
    assert!(sql(7).ends_with("ASC LIMIT 5"), "{}", sql(7));
    assert_eq!(rows[7].len(), 5);
    assert!(sql(9).contains("Email"), "{}", sql(9));
    assert_eq!(sql(10), "SELECT COUNT(*) AS count FROM Artist");
    assert_eq!(rows[12].len(), 3);
}

#[tokio::test]
async fn conditions_on_the_measure_and_another_aggregate() {
    let (g, db) = generator("chinook").await;
    let a = converse(
        &g,
        &[
            "Number of customers per country",
            "only those with more than 5",
        ],
    );
    let s = last_sql(&a);
    assert!(s.ends_with("GROUP BY Country HAVING COUNT(*) > 5"), "{s}");
    let rows = db.execute(s).await.expect("runs").rows;
    assert_eq!(rows.len(), 2, "USA and Canada have more than 5 customers");
    let a = converse(&g, &["Total sales by country", "what about the average?"]);
    let s = last_sql(&a);
    assert!(
        s.contains("AVG(Total)") && s.contains("GROUP BY BillingCountry"),
        "{s}"
    );
    let a = converse(
        &g,
        &["How many tracks are there?", "what about the average?"],
    );
    assert!(a[1].is_err(), "a count has nothing to average: {a:?}");
}

#[tokio::test]
async fn which_group_has_the_most_ranks_the_previous_groups() {
    let (g, _) = generator("sakila").await;
    let a = converse(
        &g,
        &[
            "How many customers does each store have?",
            "Which store has the most?",
        ],
    );
    let s = last_sql(&a);
    assert!(
        s.contains("GROUP BY store.store_id") && s.ends_with("ORDER BY COUNT(*) DESC LIMIT 1"),
        "{s}"
    );
    let (g, _) = generator("chinook").await;
    let a = converse(
        &g,
        &["Total sales by country", "Which country has the least?"],
    );
    let s = last_sql(&a);
    assert!(s.ends_with("ORDER BY SUM(Total) ASC LIMIT 1"), "{s}");
    // A table the previous answer did not group by is a new question, not a ranking of it.
    let a = converse(
        &g,
        &[
            "Total sales by country",
            "Which artist has the most albums?",
        ],
    );
    let s = last_sql(&a);
    assert!(
        s.contains("GROUP BY Artist.ArtistId") && !s.contains("Invoice"),
        "{s}"
    );
}
