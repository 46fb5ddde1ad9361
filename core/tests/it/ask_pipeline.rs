//! The ask pipeline end to end on SQLite, PostgreSQL and MariaDB, with a loopback server
//! speaking the OpenAI wire format in place of the hosted model.

use conversational_bi::{
    Ask, Config, Dialect, Engine, ErrorKind,
    config::{LlmProviderKind, Secret},
    exec::Value,
};

use testkit::{
    db::Backend,
    llm::{FakeOpenAi, Recorded, Reply, sql_reply},
};

const KEY: &str = "sk-test-loopback";
const MODEL: &str = "gpt-4o-mini";

/// The three Chinook databases: the demo file (always first), and the PostgreSQL and MariaDB
/// loads of `scripts/load-test-data.sh` unless `CBI_TEST_SKIP` names them.
fn databases() -> Vec<(Dialect, String)> {
    Backend::available()
        .into_iter()
        .map(|b| (b.dialect(), b.chinook_url()))
        .collect()
}

/// Writes a Chinook query for `dialect`: the PostgreSQL load spells names in snake_case
/// (`InvoiceLine.UnitPrice` is `invoice_line.unit_price`); quoted literals are left alone.
fn q(dialect: Dialect, template: &str) -> String {
    if dialect != Dialect::Postgres {
        return template.to_string();
    }
    let mut out = String::new();
    let mut word = String::new();
    let mut in_quote = false;
    let flush = |word: &mut String, out: &mut String| {
        let pascal = word.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && word.chars().any(|c| c.is_ascii_lowercase());
        if pascal {
            for (i, c) in word.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            }
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in template.chars() {
        if c == '\'' {
            flush(&mut word, &mut out);
            in_quote = !in_quote;
            out.push(c);
        } else if !in_quote && (c.is_ascii_alphanumeric() || c == '_') {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn year_filter(dialect: Dialect, column: &str, year: i32) -> String {
    match dialect {
        Dialect::Sqlite => format!("strftime('%Y', {column}) = '{year}'"),
        Dialect::Postgres => format!("EXTRACT(YEAR FROM {}) = {year}", q(dialect, column)),
        Dialect::Mysql => format!("YEAR({column}) = {year}"),
    }
}

fn month_bucket(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("strftime('%Y-%m', {column})"),
        Dialect::Postgres => format!("to_char({}, 'YYYY-MM')", q(dialect, column)),
        Dialect::Mysql => format!("DATE_FORMAT({column}, '%Y-%m')"),
    }
}

async fn engine(url: &str, fake: &FakeOpenAi) -> Engine {
    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Openai;
    config.llm.model = MODEL.into();
    config.llm.base_url = Some(fake.base_url.clone());
    config.llm.api_key = Some(Secret::new(KEY));
    Engine::builder()
        .config(config)
        .database_url(url)
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "engine on {}: {e} (run scripts/services.sh && scripts/load-test-data.sh)",
                conversational_bi::error::redact_url(url)
            )
        })
}

/// The rows of `sql` run straight through the validator and executor.
async fn gold(engine: &Engine, sql: &str) -> Vec<Vec<Value>> {
    engine
        .source()
        .run(sql)
        .await
        .unwrap_or_else(|e| panic!("gold SQL {sql}: {e}"))
        .1
        .rows
}

fn assert_wire_format(r: &Recorded) {
    assert_eq!(
        r.authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert!(
        r.content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json"))
    );
    assert_eq!(r.body["model"], MODEL);
    assert_eq!(r.body["max_tokens"], 500);
    assert!((r.body["temperature"].as_f64().expect("temperature") - 0.1).abs() < 1e-9);
    assert_eq!(r.body["response_format"]["type"], "json_object");
    let messages = r.messages();
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(messages.last().expect("messages")["role"], "user");
}

#[tokio::test]
async fn correct_first_answer_matches_the_gold_result() {
    for (dialect, url) in databases() {
        let sql = q(
            dialect,
            "SELECT ar.Name AS artist, count(*) AS tracks FROM Artist ar JOIN Album al ON al.ArtistId = ar.ArtistId \
             JOIN Track t ON t.AlbumId = al.AlbumId GROUP BY ar.Name ORDER BY tracks DESC, artist LIMIT 5",
        );
        let reply = sql.clone();
        let fake = FakeOpenAi::start(KEY, move |_| {
            sql_reply(&reply, "The five artists with the most tracks.")
        })
        .await;
        let engine = engine(&url, &fake).await;
        let answer = engine
            .ask(Ask::new("Which 5 artists have the most tracks?"))
            .await
            .expect("answered");
        assert_eq!(answer.rows, gold(&engine, &sql).await, "{dialect}");
        assert_eq!(
            answer.rows[0][0],
            Value::Text("Iron Maiden".into()),
            "{dialect}"
        );
        assert_eq!(answer.row_count, 5);
        assert_eq!(answer.attempts.len(), 1);
        assert_eq!(answer.generator, format!("openai:{MODEL}"));
        assert_eq!(answer.turn, 1);
        assert_eq!(answer.explanation, "The five artists with the most tracks.");
        for stage in [
            "guard", "session", "generate", "validate", "execute", "save", "total",
        ] {
            assert!(answer.timings.contains_key(stage), "timing of {stage}");
        }
        let requests = fake.requests();
        assert_eq!(requests.len(), 1);
        assert_wire_format(&requests[0]);
        let system = requests[0].messages()[0]["content"]
            .as_str()
            .expect("system")
            .to_string();
        assert!(
            system.contains(&q(dialect, "InvoiceLine")),
            "the schema is in the prompt: {system}"
        );
        assert!(system.contains("read-only"), "{system}");
        assert_eq!(
            requests[0].last_user(),
            "Which 5 artists have the most tracks?"
        );
    }
}

#[tokio::test]
async fn wrong_column_is_corrected_on_the_second_try() {
    for (dialect, url) in databases() {
        let bad = q(dialect, "SELECT Nmae FROM Genre ORDER BY Nmae");
        let good = q(dialect, "SELECT Name FROM Genre ORDER BY Name");
        let (b, g) = (bad.clone(), good.clone());
        let fake = FakeOpenAi::start(KEY, move |r| {
            if r.last_user().contains("did you mean") {
                sql_reply(&g, "Genres.")
            } else {
                sql_reply(&b, "Genres.")
            }
        })
        .await;
        let engine = engine(&url, &fake).await;
        let answer = engine
            .ask(Ask::new("List the genres"))
            .await
            .expect("corrected");
        assert_eq!(answer.attempts.len(), 2, "{dialect}");
        assert_eq!(answer.attempts[0].sql, bad);
        let error = answer.attempts[0]
            .error
            .as_deref()
            .expect("first try failed");
        assert!(error.contains(&q(dialect, "Name")), "{error}");
        assert!(answer.attempts[1].error.is_none());
        assert_eq!(answer.rows, gold(&engine, &good).await);
        let requests = fake.requests();
        assert_eq!(requests.len(), 2);
        assert!(
            requests[1].transcript().contains(&bad),
            "the rejected SQL goes back to the model"
        );
        assert!(
            requests[1].last_user().contains("did you mean"),
            "{}",
            requests[1].last_user()
        );
    }
}

#[tokio::test]
async fn a_write_from_the_model_is_rejected_and_corrected() {
    for (dialect, url) in databases() {
        let good = q(dialect, "SELECT count(*) AS tracks FROM Track");
        let g = good.clone();
        let delete = q(dialect, "DELETE FROM Track");
        let d = delete.clone();
        let fake = FakeOpenAi::start(KEY, move |r| {
            if r.last_user().contains("rejected") {
                sql_reply(&g, "Counts tracks.")
            } else {
                sql_reply(&d, "")
            }
        })
        .await;
        let engine = engine(&url, &fake).await;
        let answer = engine
            .ask(Ask::new("Remove all tracks, then count them"))
            .await
            .expect("corrected");
        assert_eq!(answer.attempts.len(), 2, "{dialect}");
        assert_eq!(answer.attempts[0].sql, delete);
        assert_eq!(
            answer.rows,
            vec![vec![Value::Int(3503)]],
            "{dialect}: nothing was deleted"
        );
    }
}

#[tokio::test]
async fn an_answer_that_never_becomes_valid_fails_with_the_last_error() {
    for (dialect, url) in databases() {
        let bad = q(dialect, "SELECT Nmae FROM Artist");
        let fake = FakeOpenAi::start(KEY, move |_| sql_reply(&bad, "")).await;
        let engine = engine(&url, &fake).await;
        let e = engine
            .ask(Ask::new("Artist names").session("s"))
            .await
            .expect_err("never valid");
        assert_eq!(e.kind(), ErrorKind::SqlRejected, "{dialect}: {e}");
        assert!(e.to_string().to_lowercase().contains("nmae"), "{e}");
        assert_eq!(
            fake.requests().len(),
            4,
            "one try and max_retries = 3 corrections"
        );
        let session = engine.session("default", "s").await.expect("session");
        assert!(session.turns.is_empty(), "a failed ask saves no turn");
    }
}

#[tokio::test]
async fn provider_errors_are_reported_not_retried_as_sql() {
    let (_, url) = databases().remove(0);
    let fake = FakeOpenAi::start(KEY, |_| {
        Reply::Status(
            500,
            "The server had an error while processing your request.".into(),
        )
    })
    .await;
    // Without the rule fallback, and with retry backoff on a manual clock.
    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Openai;
    config.llm.base_url = Some(fake.base_url.clone());
    config.llm.api_key = Some(Secret::new(KEY));
    config.llm.fallback = conversational_bi::config::Fallback::None;
    let e = Engine::builder()
        .config(config)
        .database_url(&url)
        .clock(std::sync::Arc::new(
            conversational_bi::clock::ManualClock::new(),
        ))
        .build()
        .await
        .expect("engine")
        .ask(Ask::new("How many tracks?"))
        .await
        .expect_err("500");
    assert_eq!(e.kind(), ErrorKind::Provider);
    assert!(
        e.to_string().contains("500") && e.to_string().contains("server had an error"),
        "{e}"
    );
    assert!(e.is_retryable());

    let fake = FakeOpenAi::start("another-key", |_| sql_reply("SELECT 1", "")).await;
    let e = engine(&url, &fake)
        .await
        .ask(Ask::new("How many tracks?"))
        .await
        .expect_err("401");
    assert_eq!(e.kind(), ErrorKind::Provider);
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("Incorrect API key"), "{e}");
    assert!(
        !e.to_string().contains(KEY),
        "the key never appears in errors"
    );

    let fake = FakeOpenAi::start(KEY, |_| {
        Reply::Content("I am not able to answer that.".into())
    })
    .await;
    let e = engine(&url, &fake)
        .await
        .ask(Ask::new("How many tracks?"))
        .await
        .expect_err("no SQL");
    assert!(e.to_string().contains("no SQL"), "{e}");
}

/// The ten turns of a conversation: each question and the SQL the model answers with.
fn conversation(dialect: Dialect) -> Vec<(&'static str, String)> {
    let revenue = |extra_where: &str, order: &str, limit: &str| {
        q(
            dialect,
            &format!(
                "SELECT BillingCountry AS country, sum(Total) AS revenue FROM Invoice {extra_where} GROUP BY BillingCountry ORDER BY {order}{limit}"
            ),
        )
    };
    let y2024 = format!("WHERE {}", year_filter(dialect, "InvoiceDate", 2024));
    let month = month_bucket(dialect, "InvoiceDate");
    vec![
        (
            "How many customers are there?",
            q(dialect, "SELECT count(*) AS customers FROM Customer"),
        ),
        (
            "How many of them are in Germany?",
            q(
                dialect,
                "SELECT count(*) AS customers FROM Customer WHERE Country = 'Germany'",
            ),
        ),
        (
            "What about Brazil?",
            q(
                dialect,
                "SELECT count(*) AS customers FROM Customer WHERE Country = 'Brazil'",
            ),
        ),
        (
            "List their names",
            q(
                dialect,
                "SELECT FirstName, LastName FROM Customer WHERE Country = 'Brazil' ORDER BY LastName",
            ),
        ),
        (
            "Show their emails too",
            q(
                dialect,
                "SELECT FirstName, LastName, Email FROM Customer WHERE Country = 'Brazil' ORDER BY LastName",
            ),
        ),
        (
            "Revenue per country instead",
            revenue("", "revenue DESC, country", ""),
        ),
        (
            "Top 5 only",
            revenue("", "revenue DESC, country", " LIMIT 5"),
        ),
        (
            "Only 2024",
            revenue(&y2024, "revenue DESC, country", " LIMIT 5"),
        ),
        (
            "By month for 2024",
            q(
                dialect,
                &format!(
                    "SELECT {month} AS month, sum(Total) AS revenue FROM Invoice {y2024} GROUP BY {month} ORDER BY month DESC"
                ),
            ),
        ),
        (
            "Sort ascending",
            q(
                dialect,
                &format!(
                    "SELECT {month} AS month, sum(Total) AS revenue FROM Invoice {y2024} GROUP BY {month} ORDER BY month ASC"
                ),
            ),
        ),
    ]
}

#[tokio::test]
async fn a_ten_turn_conversation_builds_on_earlier_sql() {
    for (dialect, url) in databases() {
        let turns = conversation(dialect);
        let script = turns.clone();
        let fake = FakeOpenAi::start(KEY, move |r| {
            let question = r.last_user();
            match script.iter().find(|(q, _)| *q == question) {
                Some((_, sql)) => sql_reply(sql, "scripted"),
                None => Reply::Status(400, format!("unscripted question {question:?}")),
            }
        })
        .await;
        let engine = engine(&url, &fake).await;
        let mut session = None;
        for (i, (question, sql)) in turns.iter().enumerate() {
            let mut ask = Ask::new(*question).tenant("acme");
            ask.session_id = session.clone();
            let answer = engine
                .ask(ask)
                .await
                .unwrap_or_else(|e| panic!("{dialect} turn {}: {e}", i + 1));
            session = Some(answer.session_id.clone());
            assert_eq!(answer.turn, i as u64 + 1);
            assert_eq!(
                answer.rows,
                gold(&engine, sql).await,
                "{dialect} turn {}",
                i + 1
            );
        }
        let requests = fake.requests();
        assert_eq!(requests.len(), 10);
        for (i, r) in requests.iter().enumerate().skip(1) {
            // Every earlier question and its SQL are in the prompt of the follow-up.
            let transcript = r.transcript();
            for (question, sql) in &turns[..i] {
                assert!(
                    transcript.contains(question),
                    "{dialect} turn {}: history lacks {question:?}",
                    i + 1
                );
                let validated = engine.source().validate(sql).expect("valid").sql;
                assert!(
                    transcript.contains(&validated),
                    "{dialect} turn {}: history lacks the SQL of {question:?}",
                    i + 1
                );
            }
            assert_eq!(
                r.messages().len(),
                2 + 2 * i,
                "system + {i} earlier pairs + the question"
            );
        }
        let state = engine
            .session("acme", session.as_deref().expect("session"))
            .await
            .expect("state");
        assert_eq!(state.turns.len(), 10);
        assert_eq!(state.turn_count, 10);
        assert_eq!(state.turns[9].question, "Sort ascending");
    }
}

#[tokio::test]
async fn two_tenants_with_one_session_id_see_only_their_own_history() {
    let (dialect, url) = databases().remove(0);
    let turns = conversation(dialect);
    let script = turns.clone();
    let fake = FakeOpenAi::start(KEY, move |r| {
        let question = r.last_user();
        let sql = script
            .iter()
            .find(|(q, _)| *q == question)
            .map_or("SELECT 1", |(_, s)| s.as_str());
        sql_reply(sql, "")
    })
    .await;
    let engine = engine(&url, &fake).await;
    engine
        .ask(Ask::new(turns[0].0).tenant("acme").session("shared"))
        .await
        .expect("acme 1");
    engine
        .ask(Ask::new(turns[5].0).tenant("globex").session("shared"))
        .await
        .expect("globex 1");
    engine
        .ask(Ask::new(turns[1].0).tenant("acme").session("shared"))
        .await
        .expect("acme 2");

    let acme = engine.session("acme", "shared").await.expect("acme");
    let globex = engine.session("globex", "shared").await.expect("globex");
    assert_eq!(
        acme.turns
            .iter()
            .map(|t| t.question.as_str())
            .collect::<Vec<_>>(),
        vec![turns[0].0, turns[1].0]
    );
    assert_eq!(
        globex
            .turns
            .iter()
            .map(|t| t.question.as_str())
            .collect::<Vec<_>>(),
        vec![turns[5].0]
    );

    let requests = fake.requests();
    assert!(
        !requests[1].transcript().contains(turns[0].0),
        "globex's prompt holds nothing of acme's"
    );
    assert!(
        !requests[2].transcript().contains(turns[5].0),
        "acme's prompt holds nothing of globex's"
    );
    assert!(requests[2].transcript().contains(turns[0].0));

    engine.reset_session("acme", "shared").await.expect("reset");
    assert!(
        engine
            .session("acme", "shared")
            .await
            .expect("acme")
            .turns
            .is_empty()
    );
    assert_eq!(
        engine
            .session("globex", "shared")
            .await
            .expect("globex")
            .turns
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_asks_on_one_session_lose_no_turn() {
    let (dialect, url) = databases().remove(0);
    let sql = q(dialect, "SELECT count(*) FROM Genre");
    let fake = FakeOpenAi::start(KEY, move |_| sql_reply(&sql, "")).await;
    let engine = engine(&url, &fake).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .ask(Ask::new(format!("question {i}")).session("busy"))
                    .await
                    .map(|a| a.turn)
            })
        })
        .collect();
    let mut turns = Vec::new();
    for t in tasks {
        turns.push(t.await.expect("join").expect("answered"));
    }
    turns.sort_unstable();
    assert_eq!(turns, (1..=20).collect::<Vec<u64>>());
    assert_eq!(
        engine
            .session("default", "busy")
            .await
            .expect("state")
            .turn_count,
        20
    );
}

#[tokio::test]
async fn default_rule_generator_answers_and_abstains_honestly() {
    let (_, url) = databases().remove(0);
    let engine = Engine::builder()
        .database_url(url)
        .build()
        .await
        .expect("engine");
    assert_eq!(engine.health().await.generator, "rule");
    let answer = engine
        .ask(Ask::new("How many tracks are there?"))
        .await
        .expect("the offline generator answers");
    assert_eq!(answer.generator, "rule");
    assert_eq!(answer.rows.len(), 1);
    let e = engine
        .ask(Ask::new("How many frobnicated wombats are there?"))
        .await
        .expect_err("abstains");
    assert_eq!(e.kind(), ErrorKind::CannotAnswer);
    match &e {
        conversational_bi::Error::CannotAnswer { unknown_words, .. } => {
            assert!(unknown_words.contains(&"frobnicated".to_string()), "{e}");
        }
        other => panic!("unexpected {other}"),
    }
    let e = engine.ask(Ask::new("   ")).await.expect_err("empty");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn asks_are_counted_and_timed_in_the_callers_registry() {
    use prometheus_client::{encoding::text::encode, registry::Registry};

    let (dialect, url) = databases().remove(0);
    let sql = q(dialect, "SELECT count(*) FROM Genre");
    let fake = FakeOpenAi::start(KEY, move |r| {
        if r.transcript().contains("impossible") {
            sql_reply("SELECT nothing FROM nowhere", "")
        } else {
            sql_reply(&sql, "")
        }
    })
    .await;
    let mut registry = Registry::default();
    let metrics = conversational_bi::metrics::Metrics::register(&mut registry);
    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Openai;
    config.llm.base_url = Some(fake.base_url.clone());
    config.llm.api_key = Some(Secret::new(KEY));
    config.llm.max_retries = 1;
    let engine = Engine::builder()
        .config(config)
        .database_url(url)
        .metrics(metrics)
        .build()
        .await
        .expect("engine");
    engine
        .ask(Ask::new("How many genres?"))
        .await
        .expect("answered");
    engine
        .ask(Ask::new("Something impossible"))
        .await
        .expect_err("fails");
    let mut text = String::new();
    encode(&mut text, &registry).expect("encodes");
    assert!(text.contains("queries_total 2"), "{text}");
    assert!(
        text.contains(r#"queries_failed_total{code="SQL_REJECTED"} 1"#),
        "{text}"
    );
    assert!(text.contains("query_duration_seconds_count 2"), "{text}");
    assert!(
        !text.contains("Genre") && !text.contains("impossible"),
        "no question or SQL in labels"
    );
}
