//! The semantic cache and the rate limiter inside `Engine::ask`: a hit skips the model but
//! runs the SQL again on today's data and saves its turn; a limited tenant is refused before
//! anything else, with the time to wait.

use std::{sync::Arc, time::Duration};

use conversational_bi::{
    Ask, Config, Engine, ErrorKind,
    clock::ManualClock,
    config::{LlmProviderKind, Secret, TenantQuota},
    exec::Value,
    metrics::Metrics,
};
use prometheus_client::{encoding::text::encode, registry::Registry};
use sqlx::Connection;

use testkit::llm::{FakeOpenAi, sql_reply};

const KEY: &str = "sk-test-loopback";

/// A writable copy of the demo database.
fn chinook_copy() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("chinook.sqlite");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/chinook/chinook.sqlite"
        ),
        &path,
    )
    .expect("copy");
    (dir, path.display().to_string())
}

async fn openai_engine(url: &str, fake: &FakeOpenAi, metrics: Option<Metrics>) -> Engine {
    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Openai;
    config.llm.base_url = Some(fake.base_url.clone());
    config.llm.api_key = Some(Secret::new(KEY));
    let mut builder = Engine::builder().config(config).database_url(url);
    if let Some(m) = metrics {
        builder = builder.metrics(m);
    }
    builder.build().await.expect("engine")
}

#[tokio::test]
async fn a_hit_skips_the_model_reruns_the_sql_on_fresh_data_and_saves_its_turn() {
    let (_dir, path) = chinook_copy();
    let url = format!("sqlite://{path}");
    let fake = FakeOpenAi::start(KEY, |_| {
        sql_reply("SELECT count(*) AS genres FROM Genre", "Counts the genres.")
    })
    .await;
    let mut registry = Registry::default();
    let metrics = Metrics::register(&mut registry);
    let engine = openai_engine(&url, &fake, Some(metrics)).await;

    let first = engine
        .ask(Ask::new("How many genres are there?").tenant("acme"))
        .await
        .expect("answered");
    assert!(!first.cache_hit);
    assert_eq!(first.similarity, None);
    assert_eq!(first.rows, vec![vec![Value::Int(25)]]);
    assert_eq!(fake.requests().len(), 1);

    let hit = engine
        .ask(
            Ask::new("What is the number of genres?")
                .tenant("acme")
                .session("other"),
        )
        .await
        .expect("answered");
    assert!(hit.cache_hit, "a paraphrase in a new conversation hits");
    assert!(
        hit.similarity.is_some_and(|s| (0.85..=1.0).contains(&s)),
        "{:?}",
        hit.similarity
    );
    assert_eq!(fake.requests().len(), 1, "no call to the model");
    assert_eq!(hit.sql, first.sql);
    assert_eq!(hit.explanation, "Counts the genres.");
    assert_eq!(
        hit.generator, first.generator,
        "the generator that wrote the SQL"
    );
    assert!(hit.timings.contains_key("cache") && hit.timings.contains_key("execute"));
    let saved = engine.session("acme", "other").await.expect("session");
    assert_eq!(saved.turns.len(), 1, "a hit saves its turn");
    assert_eq!(saved.turns[0].question, "What is the number of genres?");
    assert_eq!(saved.turns[0].sql, first.sql);

    // The data changes; the cached SQL runs again.
    let mut writer = sqlx::SqliteConnection::connect(&format!("sqlite://{path}?mode=rw"))
        .await
        .expect("writable");
    sqlx::query("INSERT INTO Genre (GenreId, Name) VALUES (26, 'Krautrock')")
        .execute(&mut writer)
        .await
        .expect("insert");
    let fresh = engine
        .ask(Ask::new("How many genres are there?").tenant("acme"))
        .await
        .expect("answered");
    assert!(fresh.cache_hit);
    assert_eq!(
        fresh.rows,
        vec![vec![Value::Int(26)]],
        "results are never cached"
    );

    let near = engine
        .ask(Ask::new("How many genres are there in 2023?").tenant("acme"))
        .await
        .expect("answered");
    assert!(!near.cache_hit, "another year never hits");
    let other_tenant = engine
        .ask(Ask::new("How many genres are there?").tenant("globex"))
        .await
        .expect("answered");
    assert!(!other_tenant.cache_hit, "tenants never share answers");
    assert_eq!(fake.requests().len(), 3);

    let mut text = String::new();
    encode(&mut text, &registry).expect("encodes");
    assert!(text.contains("cache_requests_total 5"), "{text}");
    assert!(text.contains("cache_hits_total 2"), "{text}");
    assert!(text.contains("cache_errors_total 0"), "{text}");
}

#[tokio::test]
async fn follow_ups_hit_only_after_the_same_sql_and_carry_the_conversation_on() {
    let engine = Engine::builder().build().await.expect("demo engine");
    let ask = |q: &str, s: &str| Ask::new(q).tenant("acme").session(s);
    let a1 = engine
        .ask(ask("Number of invoices by country", "a"))
        .await
        .expect("a1");
    let a2 = engine.ask(ask("Only in 2024", "a")).await.expect("a2");
    assert!(!a1.cache_hit && !a2.cache_hit);

    let b1 = engine
        .ask(ask("Number of invoices per country", "b"))
        .await
        .expect("b1");
    assert!(
        b1.cache_hit,
        "same question, same (empty) conversation state"
    );
    let b2 = engine.ask(ask("Only in 2024", "b")).await.expect("b2");
    assert!(b2.cache_hit, "same follow-up after the same SQL");
    assert_eq!(b2.sql, a2.sql);
    assert_eq!(b2.turn, 2);
    let b3 = engine.ask(ask("Top 5 instead", "b")).await.expect("b3");
    assert!(!b3.cache_hit);
    assert_eq!(
        b3.rows.len(),
        5,
        "the rule generator builds on the turn a hit saved: {}",
        b3.sql
    );
    assert!(b3.sql.contains("2024"), "{}", b3.sql);

    let c1 = engine
        .ask(ask("Number of invoices by city", "c"))
        .await
        .expect("c1");
    assert!(!c1.cache_hit);
    let c2 = engine.ask(ask("Only in 2024", "c")).await.expect("c2");
    assert!(
        !c2.cache_hit,
        "the same words after other SQL mean something else"
    );
    assert_ne!(c2.sql, a2.sql);
}

#[tokio::test]
async fn limited_tenants_are_refused_first_with_the_time_to_wait() {
    let clock = ManualClock::at(1_800_000_000_000_000);
    let mut config = Config::default();
    config.production.rate_limiting.queries_per_minute = 60;
    config.production.rate_limiting.burst_allowance = 2;
    config.production.rate_limiting.tenants.insert(
        "vip".into(),
        TenantQuota {
            queries_per_minute: 600,
            burst_allowance: 5,
        },
    );
    let mut registry = Registry::default();
    let metrics = Metrics::register(&mut registry);
    let engine = Engine::builder()
        .config(config)
        .clock(Arc::new(clock.clone()))
        .metrics(metrics)
        .build()
        .await
        .expect("engine");
    let q = |t: &str| Ask::new("How many artists are there?").tenant(t);
    engine.ask(q("acme")).await.expect("1");
    engine.ask(q("acme")).await.expect("2");
    let e = engine.ask(q("acme")).await.expect_err("limited");
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    assert!(e.to_string().contains("acme"), "{e}");
    let e = engine
        .ask(Ask::new("   ").tenant("acme"))
        .await
        .expect_err("limited first");
    assert_eq!(
        e.kind(),
        ErrorKind::RateLimited,
        "the limit comes before the input guard"
    );

    for _ in 0..5 {
        engine.ask(q("vip")).await.expect("a larger quota");
    }
    assert_eq!(
        engine.ask(q("vip")).await.expect_err("vip").kind(),
        ErrorKind::RateLimited
    );
    engine
        .ask(q("globex"))
        .await
        .expect("another tenant has its own bucket");

    clock.advance(Duration::from_secs(1));
    engine.ask(q("acme")).await.expect("one token a second");
    let mut text = String::new();
    encode(&mut text, &registry).expect("encodes");
    assert!(
        text.contains(r#"rate_limit_requests_total{outcome="admitted"} 9"#),
        "{text}"
    );
    assert!(
        text.contains(r#"rate_limit_requests_total{outcome="limited"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"queries_failed_total{code="RATE_LIMITED"} 3"#),
        "{text}"
    );
}

#[tokio::test]
async fn switched_off_there_is_no_limit_and_no_cache() {
    let mut config = Config::default();
    config.production.enable_rate_limiting = Some(false);
    config.cache.enabled = false;
    config.resolve(None).expect("valid");
    let engine = Engine::builder()
        .config(config)
        .build()
        .await
        .expect("engine");
    for i in 0..25 {
        let a = engine
            .ask(Ask::new("How many artists are there?").tenant("acme"))
            .await
            .unwrap_or_else(|e| panic!("ask {i}: {e}"));
        assert!(!a.cache_hit);
    }
}

#[tokio::test]
async fn with_provider_embeddings_the_slot_guard_still_decides() {
    use testkit::llm::{FakeLlm, Reply, sql_reply as llm_sql};
    // The most naive embedding model there is: every text gets the same vector, so every pair
    // of questions has similarity 1.
    let fake = FakeLlm::start(KEY, |r| {
        if r.is_embed() {
            Reply::Embeddings(
                r.embed_inputs()
                    .iter()
                    .map(|_| vec![0.6, 0.8, 0.0])
                    .collect(),
            )
        } else {
            llm_sql(
                "SELECT count(*) AS customers FROM Customer",
                "Counts customers.",
            )
        }
    })
    .await;
    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Openai;
    config.llm.base_url = Some(fake.base_url.clone());
    config.llm.api_key = Some(Secret::new(KEY));
    config.cache.embedder = conversational_bi::config::EmbedderKind::Provider;
    let engine = Engine::builder()
        .config(config)
        .build()
        .await
        .expect("engine");
    let chats = || fake.requests().iter().filter(|r| !r.is_embed()).count();

    let a = engine
        .ask(Ask::new("How many customers were there in 2023?"))
        .await
        .expect("answered");
    assert!(!a.cache_hit);
    let b = engine
        .ask(Ask::new("Number of customers in 2023"))
        .await
        .expect("answered");
    assert!(
        b.cache_hit,
        "a paraphrase hits with the provider's embeddings"
    );
    assert_eq!(b.similarity, Some(1.0));
    assert_eq!(chats(), 1);
    let c = engine
        .ask(Ask::new("How many customers were there in 2024?"))
        .await
        .expect("answered");
    assert!(
        !c.cache_hit,
        "similarity 1, but the year differs: the guard says no"
    );
    assert_eq!(chats(), 2);
    let embedded: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.is_embed())
        .flat_map(|r| r.embed_inputs())
        .collect();
    assert!(
        embedded.contains(&"Number of customers in 2023".to_string()),
        "{embedded:?}"
    );
}
