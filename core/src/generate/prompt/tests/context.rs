//! Value hints, sample values, few-shot examples and privacy mode.

use std::sync::Arc;

use super::{Sample, turn};
use crate::{
    error::Error,
    generate::prompt::{
        FewShotExample, hints::value_hints, link_schema, render_with, verify_examples,
    },
    sql::{Validator, ValidatorOptions},
};

fn hint_strings(db: &Sample, question: &str) -> Vec<String> {
    let index = crate::generate::prompt::SchemaIndex::new(&db.catalog, Some(&db.values));
    value_hints(question, &db.values, &index)
        .iter()
        .map(|h| {
            let cols: Vec<String> = h
                .columns
                .iter()
                .map(|&(t, c)| {
                    format!(
                        "{}.{}",
                        db.catalog.tables[t].name, db.catalog.tables[t].columns[c].name
                    )
                })
                .collect();
            format!("{}: {}", h.value, cols.join(", "))
        })
        .collect()
}

#[tokio::test]
async fn value_hints_name_the_columns_holding_the_question_values() {
    let db = Sample::open("chinook").await;
    let hints = hint_strings(&db, "How many Rock And Roll tracks were sold in germany?");
    assert!(
        hints.contains(&"Rock And Roll: Genre.Name".to_string()),
        "{hints:?}"
    );
    assert!(
        !hints.iter().any(|h| h.starts_with("Rock:")),
        "a shorter value inside a longer one in the same column is no hint: {hints:?}"
    );
    let germany = hints
        .iter()
        .find(|h| h.starts_with("Germany:"))
        .expect("Germany, whatever the case");
    assert!(germany.contains("Customer.Country"), "{germany}");
    assert!(germany.contains("Invoice.BillingCountry"), "{germany}");

    let hints = hint_strings(&db, "Albums by 'AC/DC'");
    assert_eq!(hints, ["AC/DC: Artist.Name"]);
    assert!(hint_strings(&db, "How many tracks are there in 2023?").is_empty());

    let sakila = Sample::open("sakila").await;
    let hints = hint_strings(&sakila, "Which films has Penelope Guiness acted in?");
    for expected in ["actor.first_name", "actor.last_name"] {
        assert!(
            hints.iter().any(|h| h.contains(expected)),
            "the words of a longer value are looked up alone too: {hints:?}"
        );
    }
}

#[tokio::test]
async fn sample_values_are_shown_for_categorical_text_columns_only() {
    let db = Sample::open("chinook").await;
    assert_eq!(db.samples.get("Genre", "Name").len(), 3);
    assert_eq!(
        db.samples.get("Genre", "Name"),
        ["Alternative", "Alternative & Punk", "Blues"],
        "value-index columns give their first values in order"
    );
    assert_eq!(db.samples.get("Customer", "Country").len(), 3);
    for (t, c) in [
        ("Album", "Title"),
        ("Track", "Name"),
        ("Customer", "Email"),
        ("Customer", "Phone"),
        ("Customer", "CustomerId"),
        ("Invoice", "Total"),
    ] {
        assert!(db.samples.get(t, c).is_empty(), "{t}.{c}");
    }
    assert!(
        db.samples
            .values()
            .all(|v| v.chars().count() <= 40 && !v.contains('\n'))
    );
    // Without a value index, bounded queries find the same categorical columns.
    let executor = crate::testdb::open("chinook").await;
    let validator = crate::testdb::validator(executor.as_ref(), &db.catalog);
    let queried = crate::generate::prompt::SampleValues::collect(
        executor.as_ref(),
        &validator,
        &db.catalog,
        3,
    )
    .await;
    for (t, c) in [
        ("Genre", "Name"),
        ("Customer", "Country"),
        ("MediaType", "Name"),
    ] {
        assert_eq!(queried.get(t, c), db.samples.get(t, c), "{t}.{c}");
    }
    assert!(
        queried.get("Album", "Title").is_empty(),
        "347 titles are no category"
    );
    assert!(queried.get("Customer", "Email").is_empty());
    let text = link_schema(&db.ask("genres"), &db.context(4000), None).text;
    assert!(
        text.contains("Name NVARCHAR(120) (e.g. 'Alternative', 'Alternative & Punk', 'Blues')"),
        "{text}"
    );
}

fn examples() -> Vec<FewShotExample> {
    vec![
        FewShotExample::new(
            "How many tracks does each genre have?",
            "SELECT g.Name, count(*) FROM Track t JOIN Genre g ON g.GenreId = t.GenreId GROUP BY g.Name",
        ),
        FewShotExample::new(
            "Which customers spent the most?",
            "SELECT c.FirstName, c.LastName, sum(il.UnitPrice * il.Quantity) AS spent FROM Customer c \
             JOIN Invoice i ON i.CustomerId = c.CustomerId JOIN InvoiceLine il ON il.InvoiceId = i.InvoiceId \
             GROUP BY c.CustomerId ORDER BY spent DESC LIMIT 5",
        ),
        FewShotExample::new("List all media types", "SELECT Name FROM MediaType"),
        FewShotExample::new(
            "Number of employees per city",
            "SELECT City, count(*) FROM Employee GROUP BY City",
        ),
    ]
}

#[tokio::test]
async fn the_most_similar_examples_go_into_the_prompt() {
    let db = Sample::open("chinook").await;
    let ctx = db.context(4000).examples(examples());
    let prompt = render_with(
        &db.ask("How many tracks are there in each genre?"),
        &ctx,
        None,
    );
    assert_eq!(prompt.schema.examples[0].0, 0);
    assert!(
        prompt
            .schema
            .examples
            .iter()
            .all(|&(i, s)| i != 2 && s >= 0.2),
        "{:?}",
        prompt.schema.examples
    );
    let system = &prompt.messages[0].content;
    assert!(
        system.contains("Question: How many tracks does each genre have?\nSQL: SELECT g.Name"),
        "{system}"
    );
    assert!(!system.contains("MediaType\n"), "{system}");

    let one = render_with(
        &db.ask("Which customers spent the most money in 2023?"),
        &ctx.clone().max_examples(1),
        None,
    );
    assert_eq!(one.schema.examples.len(), 1);
    assert_eq!(one.schema.examples[0].0, 1);

    let none = render_with(&db.ask("zzz qqq"), &ctx, None);
    assert!(none.schema.examples.is_empty());
    assert!(!none.messages[0].content.contains("Examples of questions"));
}

#[tokio::test]
async fn an_example_favours_the_tables_its_sql_reads() {
    let db = Sample::open("chinook").await;
    let question = "Which customers spent the most in 2023?";
    let line = db.table("InvoiceLine");
    let without = link_schema(&db.ask(question), &db.context(4000), None);
    let with = link_schema(
        &db.ask(question),
        &db.context(4000).examples(examples()),
        None,
    );
    assert!(
        with.relevance.tables[line] > without.relevance.tables[line] + 0.5,
        "{} vs {}",
        with.relevance.tables[line],
        without.relevance.tables[line]
    );
}

#[tokio::test]
async fn an_example_the_validator_refuses_is_named_in_the_error() {
    let db = Sample::open("chinook").await;
    let validator = Validator::new(
        db.catalog.clone(),
        ValidatorOptions {
            max_rows: 100,
            ..ValidatorOptions::default()
        },
    );
    verify_examples(&examples(), &validator).expect("all valid");
    let mut bad = examples();
    bad.insert(
        1,
        FewShotExample::new(
            "Longest tracks",
            "SELECT Nmae FROM Track ORDER BY Milliseconds",
        ),
    );
    let e = verify_examples(&bad, &validator).expect_err("refused");
    let Error::Config { key, message, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(key.as_deref(), Some("llm.examples[1].sql"));
    assert!(message.contains("example 2"), "{message}");
    assert!(message.contains("\"Longest tracks\""), "{message}");
    assert!(message.contains("did you mean `Name`"), "{message}");
    let e = verify_examples(
        &[FewShotExample::new("wipe", "DELETE FROM Track")],
        &validator,
    )
    .expect_err("a write is refused");
    assert!(
        e.to_string().contains("read-only") || e.to_string().contains("not allowed"),
        "{e}"
    );
}

#[tokio::test]
async fn privacy_mode_sends_no_sample_values_and_no_value_hints() {
    let db = Sample::open("chinook").await;
    let mut request = db.ask("How many Rock tracks were bought by customers in Germany?");
    request.history = vec![turn(
        "Which genres sell best?",
        "SELECT g.Name, count(*) FROM InvoiceLine il JOIN Track t ON t.TrackId = il.TrackId JOIN Genre g ON g.GenreId = t.GenreId GROUP BY g.Name",
    )];
    let quoted: Vec<String> = db
        .samples
        .values()
        .chain(["Germany", "Rock"])
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect();
    let leaks = |ctx: &crate::generate::prompt::PromptContext| -> Vec<String> {
        let prompt = render_with(&request, ctx, None);
        let all: String = prompt
            .messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let mut found: Vec<String> = quoted
            .iter()
            .filter(|q| all.contains(*q))
            .cloned()
            .collect();
        for marker in ["(e.g.", "Values the question names"] {
            if all.contains(marker) {
                found.push(marker.to_string());
            }
        }
        found
    };
    for budget in [4000, 300] {
        let open = leaks(&db.context(budget));
        assert!(
            open.iter().any(|l| l == "'Germany'") && open.iter().any(|l| l == "(e.g."),
            "without privacy mode values are shown: {open:?}"
        );
        let private = db.context(budget).privacy_mode(true);
        assert_eq!(leaks(&private), Vec::<String>::new(), "budget {budget}");
        assert!(link_schema(&request, &private, None).hints.is_empty());
    }
    let _ = Arc::clone(&db.values);
}
