//! Privacy mode keeps data values out of the correction loop: when a statement fails on a row
//! value, the database's message goes back to the model with the value replaced, on the real
//! databases, while the error, the names and the code stay. Without privacy mode the message
//! goes as the database wrote it.

use std::collections::BTreeSet;

use conversational_bi::{
    Ask, Config, Engine,
    config::{LlmProviderKind, Secret},
    exec::Value,
};

use testkit::{
    db::Backend,
    llm::{FakeOpenAi, Recorded, sql_reply},
};

const KEY: &str = "sk-test-loopback";

/// A statement that fails on a customer's first name, the one that fixes it, and what the
/// scrubbed message must say.
fn failing(backend: Backend) -> (&'static str, &'static str, &'static str) {
    match backend {
        Backend::Postgres => (
            "SELECT CAST(first_name AS integer) AS n FROM customer",
            "SELECT count(*) AS n FROM customer",
            "invalid input syntax for type integer: \"<value>\" (code 22P02)",
        ),
        Backend::Sqlite => (
            "SELECT json_extract('{}', FirstName) AS n FROM Customer",
            "SELECT count(*) AS n FROM Customer",
            "bad JSON path: '<value>' (code 1)",
        ),
        Backend::Mysql => unreachable!("MariaDB reads report conversions as warnings"),
    }
}

async fn run(backend: Backend, privacy: bool) -> (Vec<Recorded>, BTreeSet<String>) {
    let (bad, good, _) = failing(backend);
    let fake = FakeOpenAi::start(KEY, move |r| {
        if r.last_user().contains("That SQL failed") {
            sql_reply(good, "The number of customers.")
        } else {
            sql_reply(bad, "Customers as numbers.")
        }
    })
    .await;
    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Openai;
    config.llm.model = "gpt-4o-mini".into();
    config.llm.base_url = Some(fake.base_url.clone());
    config.llm.api_key = Some(Secret::new(KEY));
    config.llm.privacy_mode = privacy;
    config.cache.enabled = false;
    let engine = Engine::builder()
        .config(config)
        .database_url(backend.chinook_url())
        .build()
        .await
        .unwrap_or_else(|e| panic!("{backend:?}: {e}\n{}", testkit::db::SETUP_HINT));
    let answer = engine
        .ask(Ask::new("How many customers are there?"))
        .await
        .expect("corrected on the second try");
    assert_eq!(answer.attempts.len(), 2, "{backend:?}");
    let column = backend.name("FirstName", "first_name");
    let table = backend.name("Customer", "customer");
    let (_, names) = engine
        .source()
        .run(&format!("SELECT DISTINCT {column} FROM {table}"))
        .await
        .expect("reads");
    let names = names
        .rows
        .into_iter()
        .filter_map(|r| match r.into_iter().next() {
            Some(Value::Text(v)) => Some(v),
            _ => None,
        })
        .collect();
    (fake.requests(), names)
}

#[tokio::test]
async fn the_second_prompt_carries_no_value_in_privacy_mode() {
    for backend in [Backend::Postgres, Backend::Sqlite] {
        if !backend.require() {
            continue;
        }
        let (_, _, scrubbed) = failing(backend);
        let (requests, names) = run(backend, true).await;
        assert_eq!(requests.len(), 2, "{backend:?}");
        let (first, second) = (requests[0].transcript(), requests[1].transcript());
        assert!(
            second.contains(&format!("the database reported: {scrubbed}")),
            "{backend:?}: the error, its kind and its code stay: {second}"
        );
        for name in &names {
            assert!(
                !second.contains(name.as_str()) || first.contains(name.as_str()),
                "{backend:?}: {name:?} reached the model: {second}"
            );
        }
        // Without privacy mode the message goes as the database wrote it.
        let (requests, _) = run(backend, false).await;
        assert!(
            requests[1].transcript().contains("Luís"),
            "{backend:?}: {}",
            requests[1].transcript()
        );
    }
}

#[tokio::test]
async fn names_in_database_messages_survive_privacy_mode() {
    if !Backend::Mysql.require() {
        return;
    }
    // MariaDB's out-of-range message quotes the expression, in names and the SQL's own numbers.
    let bad = "SELECT CustomerId * 9223372036854775807 AS x FROM Customer";
    let fake = FakeOpenAi::start(KEY, move |r| {
        if r.last_user().contains("That SQL failed") {
            sql_reply(
                "SELECT count(*) AS n FROM Customer",
                "The number of customers.",
            )
        } else {
            sql_reply(bad, "Overflow.")
        }
    })
    .await;
    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Openai;
    config.llm.model = "gpt-4o-mini".into();
    config.llm.base_url = Some(fake.base_url.clone());
    config.llm.api_key = Some(Secret::new(KEY));
    config.llm.privacy_mode = true;
    config.cache.enabled = false;
    let engine = Engine::builder()
        .config(config)
        .database_url(Backend::Mysql.chinook_url())
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", testkit::db::SETUP_HINT));
    let answer = engine
        .ask(Ask::new("How many customers are there?"))
        .await
        .expect("corrected");
    let reported = answer.attempts[0].error.clone().expect("failed");
    assert!(reported.contains("out of range in '"), "{reported}");
    let second = fake.requests()[1].transcript();
    assert!(
        second.contains(&reported),
        "kept whole: {reported}\n{second}"
    );
}
