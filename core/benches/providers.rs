//! The cost of the provider layers: one chat completion through each provider's client against
//! a loopback server of its wire format (request building, HTTP on loopback, reply parsing),
//! the circuit breaker's admission of a call when closed and its rejection when open, and a
//! whole degraded ask (breaker open, rule fallback) next to the same ask with the rule
//! generator configured directly.
//!
//! Run: `cargo bench -p conversational-bi --bench providers`.

use std::{hint::black_box, sync::Arc, time::Duration};

use conversational_bi::{
    Ask, Config, Engine,
    clock::ManualClock,
    config::{CircuitBreakerConfig, Fallback, LlmProviderKind, Secret},
    llm::{self, ChatMessage, ChatRequest, Role},
    resilience::{BreakerState, CircuitBreaker, NL2SQL},
};
use criterion::{Criterion, criterion_group, criterion_main};
use testkit::llm::{FakeLlm, Wire, sql_reply};

const KEY: &str = "sk-bench";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn chat() -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatMessage::new(
                Role::System,
                "You translate questions into SQL. ".repeat(40),
            ),
            ChatMessage::new(Role::User, "How many artists are there?"),
        ],
        temperature: 0.1,
        max_tokens: 500,
        json_response: true,
    }
}

fn bench_providers(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("provider_roundtrip_loopback");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(3));
    for wire in Wire::ALL {
        let key = if wire == Wire::Ollama { "" } else { KEY };
        let fake = rt.block_on(FakeLlm::start_wire(wire, key, |_| {
            sql_reply(
                "SELECT count(*) AS artists FROM Artist",
                "Counts the artists.",
            )
        }));
        let mut config = Config::default();
        config.llm.provider = match wire {
            Wire::OpenAi => LlmProviderKind::Openai,
            Wire::Anthropic => LlmProviderKind::Anthropic,
            Wire::Cohere => LlmProviderKind::Cohere,
            Wire::Ollama => LlmProviderKind::Ollama,
        };
        config.llm.model = match wire {
            Wire::OpenAi => "gpt-4o-mini",
            Wire::Anthropic => "claude-sonnet-4-5",
            Wire::Cohere => "command-a-03-2025",
            Wire::Ollama => "qwen2.5-coder:7b",
        }
        .into();
        config.llm.base_url = Some(fake.base_url.clone());
        config.llm.api_key = (!key.is_empty()).then(|| Secret::new(KEY));
        let provider = llm::provider_from_config(&config.llm).expect("provider");
        let request = chat();
        group.bench_function(wire.provider(), |b| {
            b.iter(|| black_box(rt.block_on(provider.complete(&request)).expect("reply")))
        });
    }
    group.finish();
}

fn bench_breaker(c: &mut Criterion) {
    let settings = CircuitBreakerConfig {
        enabled: true,
        failure_threshold: 1,
        reset_timeout_secs: 3600,
        half_open_max_calls: 1,
    };
    let clock = Arc::new(ManualClock::new());
    let closed = CircuitBreaker::new(NL2SQL, &settings, clock.clone());
    c.bench_function("breaker_admit_and_record_closed", |b| {
        b.iter(|| {
            let permit = closed.try_acquire().expect("closed");
            permit.record(&Ok::<(), conversational_bi::Error>(()));
        })
    });
    let open = CircuitBreaker::new(NL2SQL, &settings, clock);
    open.try_acquire()
        .expect("closed")
        .record(&Err::<(), _>(conversational_bi::Error::Provider {
            provider: "bench".into(),
            status: Some(503),
            message: "down".into(),
            request_id: None,
            retryable: true,
            retry_after: None,
        }));
    assert_eq!(open.state(), BreakerState::Open);
    c.bench_function("breaker_reject_open", |b| {
        b.iter(|| black_box(open.try_acquire().expect_err("open")))
    });
}

fn bench_degraded_ask(c: &mut Criterion) {
    let rt = runtime();
    let url = format!(
        "sqlite://{}/../examples/chinook/chinook.sqlite",
        env!("CARGO_MANIFEST_DIR")
    );
    // A provider nobody answers for: the first question opens the breaker, the rest are
    // answered by the rule fallback without a request.
    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Openai;
    config.llm.base_url = Some("http://127.0.0.1:9/v1".into());
    config.llm.api_key = Some(Secret::new(KEY));
    config.llm.max_retries = 0;
    config.llm.fallback = Fallback::Rule;
    config.production.circuit_breaker.failure_threshold = 1;
    config.production.circuit_breaker.reset_timeout_secs = 3600;
    let degraded = rt
        .block_on(Engine::builder().config(config).database_url(&url).build())
        .expect("engine");
    let first = rt
        .block_on(degraded.ask(Ask::new("How many artists are there?")))
        .expect("fallback");
    assert!(first.degraded);
    assert_eq!(degraded.circuit_breaker_state(), Some(BreakerState::Open));
    let rule = rt
        .block_on(Engine::builder().database_url(&url).build())
        .expect("engine");

    let mut group = c.benchmark_group("ask_how_many_artists");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("degraded_breaker_open", |b| {
        b.iter(|| {
            let answer = rt
                .block_on(degraded.ask(Ask::new("How many artists are there?")))
                .expect("fallback");
            assert!(answer.degraded);
            black_box(answer)
        })
    });
    group.bench_function("rule_configured", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(rule.ask(Ask::new("How many artists are there?")))
                    .expect("answer"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench_providers, bench_breaker, bench_degraded_ask);
criterion_main!(benches);
