//! Each LLM provider against a loopback server speaking its documented wire format: the
//! requests it sends, the replies it reads, its errors, retries, timeouts and embeddings, and
//! the whole pipeline through each one.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use conversational_bi::{
    Ask, Config, Engine, ErrorKind,
    clock::ManualClock,
    config::{Fallback, LlmProviderKind, Secret},
    exec::Value,
    llm::{self, ChatMessage, ChatRequest, Role},
    resilience::{RetryLayer, RetryPolicy},
};

use testkit::{
    db::Backend,
    llm::{FakeLlm, Recorded, Reply, Wire, sql_reply},
};

/// The key the fakes expect.
pub const KEY: &str = "sk-loopback-test-key-0123456789";

/// A model name of each provider.
pub fn model(wire: Wire) -> &'static str {
    match wire {
        Wire::OpenAi => "gpt-4o-mini",
        Wire::Anthropic => "claude-sonnet-4-5",
        Wire::Cohere => "command-a-03-2025",
        Wire::Ollama => "qwen2.5-coder:7b",
    }
}

fn kind(wire: Wire) -> LlmProviderKind {
    match wire {
        Wire::OpenAi => LlmProviderKind::Openai,
        Wire::Anthropic => LlmProviderKind::Anthropic,
        Wire::Cohere => LlmProviderKind::Cohere,
        Wire::Ollama => LlmProviderKind::Ollama,
    }
}

/// A fake of `wire` expecting [`KEY`] (Ollama: no key).
pub async fn fake(
    wire: Wire,
    script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
) -> FakeLlm {
    let key = if wire == Wire::Ollama { "" } else { KEY };
    FakeLlm::start_wire(wire, key, script).await
}

/// The configuration that points `[llm]` at `fake`, with no fallback.
pub fn config_for(fake: &FakeLlm) -> Config {
    let mut config = Config::default();
    config.llm.provider = kind(fake.wire);
    config.llm.model = model(fake.wire).into();
    config.llm.base_url = Some(fake.base_url.clone());
    config.llm.api_key = (fake.wire != Wire::Ollama).then(|| Secret::new(KEY));
    config.llm.fallback = Fallback::None;
    // These tests count what reaches the provider; the semantic cache would answer repeats.
    config.cache.enabled = false;
    config
}

/// An engine on `url` configured by `config`, its timers on `clock`.
pub async fn engine(config: Config, url: &str, clock: &Arc<ManualClock>) -> Engine {
    Engine::builder()
        .config(config)
        .database_url(url)
        .clock(clock.clone())
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!("engine: {e} (run scripts/services.sh && scripts/load-test-data.sh)")
        })
}

fn chat() -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatMessage::new(Role::System, "Answer with a JSON object."),
            ChatMessage::new(Role::User, "How many artists are there?"),
        ],
        temperature: 0.1,
        max_tokens: 200,
        json_response: true,
    }
}

/// Checks the request as the provider documents it.
fn assert_documented_request(wire: Wire, r: &Recorded) {
    assert_eq!(r.path, wire.chat_path());
    assert!(
        r.content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let b = &r.body;
    assert_eq!(b["model"], model(wire));
    let messages = r.messages();
    assert_eq!(messages.last().expect("messages")["role"], "user");
    match wire {
        Wire::OpenAi => {
            assert_eq!(
                r.authorization.as_deref(),
                Some(format!("Bearer {KEY}").as_str())
            );
            assert_eq!(b["max_tokens"], 500);
            assert!((b["temperature"].as_f64().expect("temperature") - 0.1).abs() < 1e-9);
            assert_eq!(b["response_format"]["type"], "json_object");
            assert_eq!(messages[0]["role"], "system");
        }
        Wire::Anthropic => {
            assert_eq!(r.header("x-api-key"), Some(KEY));
            assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
            assert_eq!(r.authorization, None, "the key goes in x-api-key only");
            assert_eq!(b["max_tokens"], 500);
            assert!(
                b["system"].as_str().is_some_and(|s| s.contains("SQL")),
                "instructions are the top-level system field"
            );
            assert!(messages.iter().all(|m| m["role"] != "system"));
            assert!(b.get("response_format").is_none());
        }
        Wire::Cohere => {
            assert_eq!(
                r.authorization.as_deref(),
                Some(format!("Bearer {KEY}").as_str())
            );
            assert_eq!(b["max_tokens"], 500);
            assert_eq!(b["stream"], false);
            assert_eq!(b["response_format"]["type"], "json_object");
            assert_eq!(messages[0]["role"], "system");
        }
        Wire::Ollama => {
            assert_eq!(r.authorization, None, "no key is sent to a local server");
            assert_eq!(b["stream"], false);
            assert_eq!(b["options"]["num_predict"], 500);
            assert!(
                (b["options"]["temperature"].as_f64().expect("temperature") - 0.1).abs() < 1e-9
            );
            assert_eq!(b["format"], "json");
            assert_eq!(messages[0]["role"], "system");
        }
    }
}

#[tokio::test]
async fn the_pipeline_runs_through_each_provider() {
    let url = Backend::Sqlite.chinook_url();
    for wire in Wire::ALL {
        let fake = fake(wire, |r| match r.last_user().as_str() {
            "How many artists are there?" => sql_reply(
                "SELECT count(*) AS artists FROM Artist",
                "Counts the artists.",
            ),
            _ => sql_reply("SELECT count(*) AS albums FROM Album", "Counts the albums."),
        })
        .await;
        let clock = Arc::new(ManualClock::new());
        let engine = engine(config_for(&fake), &url, &clock).await;
        let first = engine
            .ask(Ask::new("How many artists are there?").session("s"))
            .await
            .unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        assert_eq!(first.rows, vec![vec![Value::Int(275)]], "{wire:?}");
        assert_eq!(
            first.generator,
            format!("{}:{}", wire.provider(), model(wire))
        );
        assert!(!first.degraded);
        assert_eq!(first.explanation, "Counts the artists.");
        let second = engine
            .ask(Ask::new("And albums?").session("s"))
            .await
            .unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        assert_eq!(second.rows, vec![vec![Value::Int(347)]], "{wire:?}");
        let requests = fake.requests();
        assert_eq!(requests.len(), 2, "{wire:?}");
        for r in &requests {
            assert_documented_request(wire, r);
        }
        assert!(
            requests[1]
                .transcript()
                .contains("SELECT count(*) AS artists FROM Artist"),
            "{wire:?}: the follow-up carries the earlier turn"
        );
        assert!(clock.sleeps().is_empty(), "{wire:?}: no retries");
    }
}

#[tokio::test]
async fn anthropic_runs_the_pipeline_on_postgresql() {
    if !Backend::Postgres.require() {
        return;
    }
    let fake = fake(Wire::Anthropic, |_| {
        sql_reply(
            "SELECT ar.name AS artist, count(*) AS albums FROM artist ar JOIN album al ON al.artist_id = ar.artist_id GROUP BY ar.name ORDER BY albums DESC, artist LIMIT 3",
            "The three artists with the most albums.",
        )
    })
    .await;
    let clock = Arc::new(ManualClock::new());
    let engine = engine(config_for(&fake), &Backend::Postgres.chinook_url(), &clock).await;
    let answer = engine
        .ask(Ask::new("Which three artists have the most albums?"))
        .await
        .expect("answer");
    assert_eq!(answer.columns.len(), 2);
    assert_eq!(answer.rows[0][0], Value::Text("Iron Maiden".into()));
    assert_eq!(answer.rows[0][1], Value::Int(21));
    assert_eq!(answer.generator, "anthropic:claude-sonnet-4-5");
    assert!(
        fake.requests()[0].transcript().contains("PostgreSQL"),
        "the prompt names the dialect"
    );
}

#[tokio::test]
async fn provider_errors_keep_status_message_and_request_id_and_say_what_to_fix() {
    for wire in Wire::ALL {
        let fake = fake(wire, |r| {
            if r.body["max_tokens"] == 200 || r.body["options"]["num_predict"] == 200 {
                Reply::Status(
                    404,
                    format!(
                        "model '{}' not found",
                        r.body["model"].as_str().unwrap_or("")
                    ),
                )
            } else {
                sql_reply("SELECT 1", "")
            }
        })
        .await;
        let config = config_for(&fake);
        let provider = llm::provider_from_config(&config.llm).expect("provider");
        let e = provider.complete(&chat()).await.expect_err("404");
        let text = e.to_string();
        assert_eq!(e.kind(), ErrorKind::Provider);
        assert!(!e.is_retryable(), "{wire:?}: {text}");
        assert!(
            text.starts_with(&format!("{} provider error: HTTP 404", wire.provider())),
            "{text}"
        );
        assert!(
            text.contains("not found"),
            "{wire:?}: the provider's message: {text}"
        );
        assert!(
            text.contains(&format!("check [llm] model (\"{}\")", model(wire))),
            "{text}"
        );
        if wire == Wire::Ollama {
            assert!(text.contains("ollama pull"), "{text}");
        }
        let conversational_bi::Error::Provider {
            status, request_id, ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(*status, Some(404));
        match wire {
            Wire::OpenAi | Wire::Anthropic => assert_eq!(request_id.as_deref(), Some("req_fake1")),
            Wire::Cohere => assert_eq!(request_id.as_deref(), Some("cohere-req_fake1")),
            Wire::Ollama => assert_eq!(*request_id, None),
        }
        if let Some(id) = request_id {
            assert!(text.contains(id.as_str()), "{text}");
        }
    }
}

#[tokio::test]
async fn a_wrong_key_fails_at_once_naming_the_variable_and_never_showing_the_key() {
    for wire in [Wire::OpenAi, Wire::Anthropic, Wire::Cohere] {
        let fake = FakeLlm::start_wire(wire, "the-right-key", |_| sql_reply("SELECT 1", "")).await;
        let mut config = config_for(&fake);
        config.llm.max_retries = 3;
        let clock = Arc::new(ManualClock::new());
        let provider = RetryLayer::new(
            llm::provider_from_config(&config.llm).expect("provider"),
            RetryPolicy::from_config(&config.llm),
        )
        .with_clock(clock.clone());
        let e = conversational_bi::llm::LlmProvider::complete(&provider, &chat())
            .await
            .expect_err("401");
        let text = e.to_string();
        assert!(text.contains("HTTP 401"), "{text}");
        let var = match wire {
            Wire::OpenAi => "OPENAI_API_KEY",
            Wire::Anthropic => "ANTHROPIC_API_KEY",
            _ => "COHERE_API_KEY",
        };
        assert!(text.contains(var), "{wire:?}: {text}");
        assert!(
            !text.contains(KEY) && !format!("{e:?}").contains(KEY),
            "{text}"
        );
        assert!(!e.is_retryable());
        assert_eq!(fake.request_count(), 1, "{wire:?}: a 401 is not retried");
        assert!(clock.sleeps().is_empty());
    }
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_honouring_retry_after() {
    for wire in Wire::ALL {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let fake = fake(wire, move |_| match seen.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::RateLimited(3),
            1 => Reply::Status(503, "Service Unavailable".into()),
            2 => Reply::Status(500, "internal error".into()),
            _ => sql_reply("SELECT 1", "one"),
        })
        .await;
        let config = config_for(&fake);
        let clock = Arc::new(ManualClock::new());
        let provider = RetryLayer::new(
            llm::provider_from_config(&config.llm).expect("provider"),
            RetryPolicy::from_config(&config.llm),
        )
        .with_clock(clock.clone())
        .with_jitter(|| 1.0);
        let reply = conversational_bi::llm::LlmProvider::complete(&provider, &chat())
            .await
            .unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        assert!(reply.content.contains("SELECT 1"));
        assert_eq!(
            fake.request_count(),
            4,
            "{wire:?}: one try and three retries"
        );
        assert_eq!(
            clock.sleeps(),
            vec![
                Duration::from_secs(3),
                Duration::from_millis(500),
                Duration::from_secs(1)
            ],
            "{wire:?}: Retry-After, then exponential backoff"
        );
    }
}

#[tokio::test]
async fn retries_stop_after_max_retries_with_the_last_error() {
    let fake = fake(Wire::Cohere, |_| Reply::Status(502, "bad gateway".into())).await;
    let mut config = config_for(&fake);
    config.llm.max_retries = 2;
    let clock = Arc::new(ManualClock::new());
    let provider = RetryLayer::new(
        llm::provider_from_config(&config.llm).expect("provider"),
        RetryPolicy::from_config(&config.llm),
    )
    .with_clock(clock.clone());
    let e = conversational_bi::llm::LlmProvider::complete(&provider, &chat())
        .await
        .expect_err("502");
    assert!(e.is_retryable());
    assert!(e.to_string().contains("HTTP 502: bad gateway"), "{e}");
    assert_eq!(fake.request_count(), 3);
    assert_eq!(clock.sleeps().len(), 2);
}

#[tokio::test]
async fn malformed_replies_and_stalled_bodies_are_temporary_errors() {
    for wire in Wire::ALL {
        let fake = fake(wire, |_| Reply::Malformed).await;
        let config = config_for(&fake);
        let provider = llm::provider_from_config(&config.llm).expect("provider");
        let e = provider.complete(&chat()).await.expect_err("malformed");
        assert!(e.is_retryable(), "{wire:?}: {e}");
        assert!(e.to_string().contains("not JSON"), "{wire:?}: {e}");
    }
    // A body that stalls past [llm] timeout_secs (1 s, the shortest) ends in a timeout. The
    // four providers wait together, so the test waits about one second in all.
    let runs = Wire::ALL.map(|wire| async move {
        let fake = fake(wire, |_| Reply::Slow(Duration::from_secs(30))).await;
        let mut config = config_for(&fake);
        config.llm.timeout_secs = 1;
        let provider = llm::provider_from_config(&config.llm).expect("provider");
        let started = std::time::Instant::now();
        let e = provider.complete(&chat()).await.expect_err("timeout");
        (wire, e, started.elapsed())
    });
    for (wire, e, took) in futures_util::future::join_all(runs).await {
        assert!(e.is_retryable(), "{wire:?}: {e}");
        assert!(
            e.to_string().contains("[llm] timeout_secs"),
            "{wire:?}: {e}"
        );
        assert!(
            took < Duration::from_secs(20),
            "{wire:?}: the timeout cut the stall"
        );
    }
}

#[tokio::test]
async fn an_address_that_is_not_the_providers_api_is_named() {
    // An OpenAI-format server behind an Anthropic configuration answers 404 on /v1/messages.
    let openai = FakeLlm::start(KEY, |_| sql_reply("SELECT 1", "")).await;
    let mut config = config_for(&openai);
    config.llm.provider = LlmProviderKind::Anthropic;
    config.llm.model = model(Wire::Anthropic).into();
    config.llm.base_url = Some(openai.base_url.trim_end_matches("/v1").to_string());
    let provider = llm::provider_from_config(&config.llm).expect("provider");
    let e = provider.complete(&chat()).await.expect_err("404");
    assert!(e.to_string().contains("HTTP 404"), "{e}");
    assert!(e.to_string().contains("[llm] base_url"), "{e}");

    // Nothing listens: a connection error, worth another try.
    config.llm.base_url = Some("http://127.0.0.1:9".into());
    let provider = llm::provider_from_config(&config.llm).expect("provider");
    let e = provider.complete(&chat()).await.expect_err("refused");
    assert!(e.is_retryable());
    assert!(
        e.to_string()
            .contains("cannot connect to http://127.0.0.1:9"),
        "{e}"
    );
}

fn vector_of(text: &str) -> Vec<f32> {
    vec![
        text.len() as f32,
        text.bytes().map(f32::from).sum::<f32>(),
        1.0,
    ]
}

#[tokio::test]
async fn embeddings_come_back_in_input_order_from_each_provider() {
    for wire in [Wire::OpenAi, Wire::Cohere, Wire::Ollama] {
        let fake = fake(wire, |r| {
            Reply::Embeddings(r.embed_inputs().iter().map(|t| vector_of(t)).collect())
        })
        .await;
        let config = config_for(&fake);
        let embedder = llm::embedder_from_config(&config.llm).expect("embedder");
        let texts: Vec<String> = (0..100).map(|i| format!("question number {i}")).collect();
        let vectors = embedder
            .embed(&texts)
            .await
            .unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        assert_eq!(vectors.len(), texts.len());
        for (t, v) in texts.iter().zip(&vectors) {
            assert_eq!(v, &vector_of(t), "{wire:?}");
        }
        assert!(
            embedder
                .embed(&[])
                .await
                .expect("nothing to embed")
                .is_empty()
        );
        let requests = fake.requests();
        let r = &requests[0];
        assert_eq!(Some(r.path.as_str()), wire.embed_path());
        match wire {
            Wire::OpenAi => {
                assert_eq!(requests.len(), 1);
                assert_eq!(r.body["model"], "text-embedding-3-small");
                assert_eq!(r.body["encoding_format"], "float");
            }
            Wire::Cohere => {
                assert_eq!(requests.len(), 2, "at most 96 texts per request");
                assert_eq!(r.body["model"], "embed-v4.0");
                assert_eq!(r.body["input_type"], "search_query");
                assert_eq!(r.body["embedding_types"], serde_json::json!(["float"]));
                assert_eq!(
                    r.authorization.as_deref(),
                    Some(format!("Bearer {KEY}").as_str())
                );
            }
            Wire::Ollama => {
                assert_eq!(r.body["model"], "nomic-embed-text");
                assert!(r.body["input"].is_array());
            }
            Wire::Anthropic => unreachable!(),
        }
    }
    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Anthropic;
    let e = llm::embedder_from_config(&config.llm).expect_err("no embeddings");
    assert!(e.to_string().contains("builtin"), "{e}");
}

#[tokio::test]
async fn embeddings_are_retried_through_the_same_layer() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let fake = fake(Wire::Ollama, move |r| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::RateLimited(1)
        } else {
            Reply::Embeddings(r.embed_inputs().iter().map(|t| vector_of(t)).collect())
        }
    })
    .await;
    let config = config_for(&fake);
    let clock = Arc::new(ManualClock::new());
    let embedder = RetryLayer::new(
        llm::embedder_from_config(&config.llm).expect("embedder"),
        RetryPolicy::from_config(&config.llm),
    )
    .with_clock(clock.clone());
    let v = conversational_bi::embed::Embedder::embed(&embedder, &["top artists".to_string()])
        .await
        .expect("second try");
    assert_eq!(v, vec![vector_of("top artists")]);
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(1)]);
}
