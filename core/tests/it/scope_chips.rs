//! An answer's scope (the parts of its query a front end shows as removable chips) and
//! `Ask::remove_scope` through `Engine::ask` on the demo database: each removal is a new turn
//! whose statement the validator accepted, follow-ups continue from it, and ids that name no
//! part are refused with nothing run.

use std::sync::Arc;

use async_trait::async_trait;
use conversational_bi::{
    Answer, Ask, Config, Engine, ErrorKind,
    answer::ScopeKind,
    config::{Fallback, LlmProviderKind, Secret},
    generate::{Generation, GenerationRequest, SqlGenerator},
};
use testkit::llm::{FakeOpenAi, Reply};

fn demo_url() -> String {
    format!(
        "sqlite://{}/../examples/chinook/chinook.sqlite",
        env!("CARGO_MANIFEST_DIR")
    )
}

async fn demo() -> Engine {
    Engine::builder()
        .database_url(demo_url())
        .build()
        .await
        .expect("engine")
}

fn ids(a: &Answer) -> Vec<&str> {
    a.scope.iter().map(|i| i.id.as_str()).collect()
}

fn labels(a: &Answer) -> Vec<&str> {
    a.scope.iter().map(|i| i.label.as_str()).collect()
}

/// The answer's statement passes the validator again, as it did before it ran.
async fn revalidates(engine: &Engine, a: &Answer) {
    let view = engine
        .view(&conversational_bi::Principal::default())
        .await
        .expect("view");
    view.validate(&a.sql)
        .unwrap_or_else(|e| panic!("{}: {e}", a.sql));
    assert!(a.attempts.last().is_some_and(|t| t.error.is_none()));
}

async fn ask(engine: &Engine, session: &str, q: &str) -> Answer {
    engine
        .ask(Ask::new(q).session(session))
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"))
}

async fn remove(engine: &Engine, session: &str, id: &str) -> Answer {
    engine
        .ask(Ask::new("").session(session).remove_scope(id))
        .await
        .unwrap_or_else(|e| panic!("without {id}: {e}"))
}

#[tokio::test]
async fn chips_list_the_scope_and_removing_one_refines_the_answer() {
    let engine = demo().await;
    let s = "chips";
    let all = ask(&engine, s, "Total sales by country").await;
    assert_eq!(all.rows.len(), 24);
    assert_eq!(labels(&all), ["by invoice billing country"]);
    let year = ask(&engine, s, "Only in 2024").await;
    assert_eq!(labels(&year), ["in 2024", "by invoice billing country"]);
    let year_rows = year.rows.len();
    let top = ask(&engine, s, "Top 5 instead").await;
    assert_eq!(top.rows.len(), 5);
    assert_eq!(ids(&top), ["filter:0", "group:0", "order", "limit"]);
    let kinds: Vec<ScopeKind> = top.scope.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            ScopeKind::Filter,
            ScopeKind::Group,
            ScopeKind::Order,
            ScopeKind::Limit
        ]
    );
    assert_eq!(labels(&top)[3], "top 5");
    let json = serde_json::to_value(&top).expect("json");
    assert_eq!(
        json["scope"][3],
        serde_json::json!({"id": "limit", "kind": "limit", "label": "top 5"})
    );

    // Without the limit: every country of 2024 again, still sorted.
    let no_limit = remove(&engine, s, "limit").await;
    assert_eq!(no_limit.turn, 4);
    assert_eq!(no_limit.generator, "rule");
    assert!(!no_limit.cache_hit);
    assert_eq!(no_limit.rows.len(), year_rows);
    assert!(no_limit.sql.contains("'2024'") && !no_limit.sql.contains("LIMIT 5"));
    assert_eq!(ids(&no_limit), ["filter:0", "group:0", "order"]);
    assert_eq!(no_limit.rows[..5], top.rows[..]);
    revalidates(&engine, &no_limit).await;
    let session = engine.session("default", s).await.expect("session");
    assert_eq!(
        session.turns.last().map(|t| t.question.as_str()),
        Some("without \"top 5\"")
    );

    // Without the year: every country, in every year.
    let no_year = remove(&engine, s, "filter:0").await;
    assert!(!no_year.sql.contains("2024"), "{}", no_year.sql);
    assert_eq!(no_year.rows.len(), 24);
    assert_eq!(labels(&no_year)[0], "by invoice billing country");
    assert_eq!(ids(&no_year), ["group:0", "order"]);
    revalidates(&engine, &no_year).await;

    // A follow-up continues from the query without them.
    let top3 = ask(&engine, s, "top 3 instead").await;
    assert_eq!(top3.rows.len(), 3);
    assert!(!top3.sql.contains("2024"), "{}", top3.sql);
    assert_eq!(labels(&top3).last(), Some(&"top 3"));
    revalidates(&engine, &top3).await;

    // Removing the sort takes its limit along, and the turn says so.
    let unsorted = remove(&engine, s, "order").await;
    assert_eq!(unsorted.rows.len(), 24);
    assert_eq!(ids(&unsorted), ["group:0"]);
    let session = engine.session("default", s).await.expect("session");
    assert_eq!(
        session.turns.last().map(|t| t.question.as_str()),
        Some("without \"sorted by the total of invoice total, largest first\" and \"top 3\"")
    );
    assert_eq!(session.turn_count, 7);
}

#[tokio::test]
async fn hostile_or_unknown_ids_are_refused_and_nothing_runs() {
    let engine = demo().await;
    let s = "hostile";
    let top = ask(&engine, s, "Top 5 genres by number of tracks").await;
    assert_eq!(ids(&top), ["group:0", "order", "limit"]);
    let long = "x".repeat(10 * 1024);
    for id in [
        "filter:99",
        "filter:0",
        "filter:-1",
        "'; DROP TABLE x; --",
        "group:1",
        long.as_str(),
        "",
    ] {
        let e = engine
            .ask(Ask::new("").session(s).remove_scope(id))
            .await
            .expect_err(id);
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{id:.40}: {e}");
        assert!(e.to_string().contains("scope"), "{e}");
        assert!(
            e.to_string().len() < 600,
            "{id:.40}: the message stays short"
        );
    }
    // Nothing was run or saved: the conversation still ends with its one answer.
    let session = engine.session("default", s).await.expect("session");
    assert_eq!(session.turn_count, 1);
    assert_eq!(session.turns.len(), 1);

    // A question and a removal at once, a removal without a conversation or without an answer.
    let e = engine
        .ask(Ask::new("top 3").session(s).remove_scope("limit"))
        .await
        .expect_err("both");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("not both"), "{e}");
    let e = engine
        .ask(Ask::new("").remove_scope("limit"))
        .await
        .expect_err("no conversation");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("session_id"), "{e}");
    // An empty question without a removal is still an empty question.
    let e = engine
        .ask(Ask::new(" ").session(s))
        .await
        .expect_err("empty");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let session = engine.session("default", s).await.expect("session");
    assert_eq!(session.turn_count, 1);

    // After a question the rules did not answer, the last answer is still the one refined.
    engine
        .ask(Ask::new("How many frobnicated wombats are there?").session(s))
        .await
        .expect_err("abstains");
    let all = remove(&engine, s, "limit").await;
    assert_eq!(all.rows.len(), 25);
}

#[tokio::test]
async fn a_cache_hit_shows_the_scope_of_the_statement_it_ran() {
    let engine = demo().await;
    let a1 = ask(&engine, "cache-a", "Number of invoices by country").await;
    let a2 = ask(&engine, "cache-a", "Only in 2024").await;
    let b1 = ask(&engine, "cache-b", "Number of invoices per country").await;
    let b2 = ask(&engine, "cache-b", "Only in 2024").await;
    assert!(b1.cache_hit && b2.cache_hit);
    assert_eq!(b1.scope, a1.scope);
    assert_eq!(b2.scope, a2.scope);
    assert_eq!(labels(&b2), ["in 2024", "by invoice billing country"]);
    // A removal after a hit refines the hit's statement; it is never served from the cache.
    let b3 = remove(&engine, "cache-b", "filter:0").await;
    assert!(!b3.cache_hit);
    assert_eq!(b3.sql, a1.sql);
    assert_eq!(b3.scope, a1.scope);
}

/// A generator that keeps no state.
#[derive(Debug)]
struct Stateless;

#[async_trait]
impl SqlGenerator for Stateless {
    fn name(&self) -> String {
        "custom".into()
    }

    async fn generate(&self, _: &GenerationRequest) -> conversational_bi::Result<Generation> {
        Ok(Generation {
            sql: "SELECT BillingCountry, COUNT(*) FROM Invoice GROUP BY BillingCountry".into(),
            explanation: "Counts invoices per country.".into(),
            state: None,
            degraded: None,
            clarification: None,
        })
    }
}

#[tokio::test]
async fn answers_without_a_state_have_no_scope_and_nothing_to_remove() {
    let engine = Engine::builder()
        .database_url(demo_url())
        .generator(Arc::new(Stateless))
        .build()
        .await
        .expect("engine");
    let a = ask(&engine, "custom", "Invoices by country").await;
    assert!(a.scope.is_empty());
    assert!(
        serde_json::to_value(&a)
            .expect("json")
            .get("scope")
            .is_none()
    );
    let e = engine
        .ask(Ask::new("").session("custom").remove_scope("group:0"))
        .await
        .expect_err("no parts");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("no removable parts"), "{e}");
}

#[tokio::test]
async fn a_verified_answer_shows_a_scope_only_when_the_rules_write_its_statement() {
    let toml = format!(
        "[semantic]\nmodel = {:?}\n",
        format!("{}/../models/chinook.yaml", env!("CARGO_MANIFEST_DIR"))
    );
    let config = Config::from_sources(
        conversational_bi::config::ConfigSources::new(
            conversational_bi::config::Interface::Embedded,
        )
        .toml(toml),
    )
    .expect("config");
    let engine = Engine::builder()
        .config(config)
        .database_url(demo_url())
        .build()
        .await
        .expect("engine");
    let v = ask(&engine, "verified", "revenue in Canada by year").await;
    assert!(v.verified);
    let removal = engine
        .ask(Ask::new("").session("verified").remove_scope("filter:0"))
        .await;
    match (v.scope.is_empty(), removal) {
        (true, Err(e)) => {
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
            assert!(e.to_string().contains("no removable parts"), "{e}");
        }
        (false, Ok(a)) => {
            assert!(!a.sql.contains("'Canada'"), "{}", a.sql);
            revalidates(&engine, &a).await;
        }
        (empty, other) => panic!("scope empty: {empty}, removal: {other:?}"),
    }
}

#[tokio::test]
async fn with_a_model_and_the_rule_fallback_the_rules_refine_their_own_answers() {
    const KEY: &str = "sk-test-loopback";
    let fake = FakeOpenAi::start(KEY, |_| Reply::Status(503, "Service Unavailable".into())).await;
    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Openai;
    config.llm.base_url = Some(fake.base_url.clone());
    config.llm.api_key = Some(Secret::new(KEY));
    config.llm.fallback = Fallback::Rule;
    config.llm.max_retries = 0;
    config.cache.enabled = false;
    let engine = Engine::builder()
        .config(config)
        .database_url(demo_url())
        .build()
        .await
        .expect("engine");
    let top = ask(&engine, "fallback", "Top 5 genres by number of tracks").await;
    assert!(top.degraded);
    assert_eq!(top.generator, "rule");
    assert_eq!(ids(&top), ["group:0", "order", "limit"]);
    let requests = fake.request_count();
    let all = remove(&engine, "fallback", "limit").await;
    assert_eq!(all.rows.len(), 25);
    assert_eq!(all.generator, "rule");
    assert!(all.degraded);
    assert!(
        all.warnings
            .iter()
            .any(|w| w.contains("written by the offline rule generator")),
        "{:?}",
        all.warnings
    );
    assert_eq!(fake.request_count(), requests, "the model is not asked");
    revalidates(&engine, &all).await;
}
