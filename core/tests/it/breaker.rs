//! The circuit breaker and the rule fallback, end to end: an engine over Chinook whose
//! provider is a loopback fake that fails, heals and fails again, with breaker timers and
//! retry backoff on a manual clock.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use conversational_bi::{
    Ask, Config, Engine, Error, ErrorKind,
    clock::ManualClock,
    config::{CircuitBreakerConfig, Fallback},
    exec::Value,
    metrics::Metrics,
    resilience::BreakerState,
};
use prometheus_client::{encoding::text::encode, registry::Registry};

use testkit::{
    db::Backend,
    llm::{FakeLlm, Reply, Wire, sql_reply},
};

use crate::providers::{config_for, fake};

const QUESTION: &str = "How many artists are there?";

fn breaker_config(config: &mut Config, threshold: u32, reset_secs: u64, probes: u32) {
    config.production.circuit_breaker = CircuitBreakerConfig {
        enabled: true,
        failure_threshold: threshold,
        reset_timeout_secs: reset_secs,
        half_open_max_calls: probes,
    };
}

struct Rig {
    engine: Engine,
    clock: Arc<ManualClock>,
    registry: Registry,
}

impl Rig {
    async fn new(config: Config) -> Self {
        let clock = Arc::new(ManualClock::new());
        let mut registry = Registry::default();
        let metrics = Metrics::register(&mut registry);
        let engine = Engine::builder()
            .config(config)
            .database_url(Backend::Sqlite.chinook_url())
            .clock(clock.clone())
            .metrics(metrics)
            .build()
            .await
            .expect("engine");
        Self {
            engine,
            clock,
            registry,
        }
    }

    fn gauge(&self) -> i64 {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("encode");
        let line = text
            .lines()
            .find(|l| l.starts_with("circuit_breaker_state{service=\"nl2sql\"}"))
            .unwrap_or_else(|| panic!("no breaker gauge in\n{text}"));
        line.rsplit(' ')
            .next()
            .expect("value")
            .parse()
            .expect("integer")
    }

    fn state(&self) -> BreakerState {
        self.engine.circuit_breaker_state().expect("a breaker")
    }
}

fn failing_fake_script(
    healthy: Arc<AtomicBool>,
) -> impl Fn(&testkit::llm::Recorded) -> Reply + Send + Sync + 'static {
    move |_| {
        if healthy.load(Ordering::SeqCst) {
            sql_reply(
                "SELECT count(*) AS artists FROM Artist",
                "Counts the artists.",
            )
        } else {
            Reply::Status(503, "Service Unavailable".into())
        }
    }
}

#[tokio::test]
async fn an_outage_opens_the_breaker_within_the_threshold_and_the_fallback_answers() {
    let fake = fake(Wire::OpenAi, |_| {
        Reply::Status(503, "Service Unavailable".into())
    })
    .await;
    let mut config = config_for(&fake);
    config.llm.fallback = Fallback::Rule;
    config.llm.max_retries = 1;
    breaker_config(&mut config, 3, 60, 2);
    let rig = Rig::new(config).await;
    assert_eq!(rig.state(), BreakerState::Closed);
    assert_eq!(rig.gauge(), 0);

    for i in 1..=3 {
        let answer = rig
            .engine
            .ask(Ask::new(QUESTION).session("s"))
            .await
            .expect("the fallback answers");
        assert!(answer.degraded);
        assert_eq!(answer.generator, "rule");
        assert_eq!(answer.rows, vec![vec![Value::Int(275)]]);
        assert!(
            answer.warnings[0].contains("openai:gpt-4o-mini failed")
                && answer.warnings[0].contains("HTTP 503")
                && answer.warnings[0].contains("rule generator answered instead"),
            "{:?}",
            answer.warnings
        );
        assert_eq!(
            fake.request_count(),
            2 * i,
            "one try and one retry per question"
        );
    }
    assert_eq!(
        rig.state(),
        BreakerState::Open,
        "open after failure_threshold questions"
    );
    assert_eq!(rig.gauge(), 1);

    for _ in 0..5 {
        let answer = rig.engine.ask(Ask::new(QUESTION)).await.expect("fallback");
        assert!(answer.degraded);
        assert!(
            answer.warnings[0].contains("circuit breaker is open")
                && answer.warnings[0].contains("next probe in 60 s"),
            "{:?}",
            answer.warnings
        );
    }
    assert_eq!(
        fake.request_count(),
        6,
        "no request reaches the provider while open"
    );
    let session = rig.engine.session("default", "s").await.expect("session");
    assert!(session.turns.iter().all(|t| t.generator == "rule"));
}

#[tokio::test]
async fn without_fallback_an_open_breaker_says_when_the_next_probe_is() {
    let fake = fake(Wire::Cohere, |_| {
        Reply::Status(503, "Service Unavailable".into())
    })
    .await;
    let mut config = config_for(&fake);
    config.llm.max_retries = 0;
    breaker_config(&mut config, 2, 60, 1);
    let rig = Rig::new(config).await;
    for _ in 0..2 {
        let e = rig.engine.ask(Ask::new(QUESTION)).await.expect_err("503");
        assert_eq!(e.kind(), ErrorKind::Provider);
        assert!(e.to_string().contains("HTTP 503"), "{e}");
    }
    let e = rig.engine.ask(Ask::new(QUESTION)).await.expect_err("open");
    assert_eq!(e.kind().code(), "CIRCUIT_OPEN");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(60)));
    assert!(e.to_string().contains("next probe is in 60 s"), "{e}");
    rig.clock.advance(Duration::from_secs(20));
    let e = rig.engine.ask(Ask::new(QUESTION)).await.expect_err("open");
    let Error::CircuitOpen { service, retry_in } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(service, "nl2sql");
    assert_eq!(*retry_in, Duration::from_secs(40));
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn it_recovers_through_half_open_when_the_provider_heals_and_reopens_on_a_failed_probe() {
    let healthy = Arc::new(AtomicBool::new(false));
    let fake = fake(Wire::Ollama, failing_fake_script(healthy.clone())).await;
    let mut config = config_for(&fake);
    config.llm.fallback = Fallback::Rule;
    config.llm.max_retries = 0;
    breaker_config(&mut config, 2, 30, 2);
    let rig = Rig::new(config).await;
    for _ in 0..2 {
        assert!(
            rig.engine
                .ask(Ask::new(QUESTION))
                .await
                .expect("fallback")
                .degraded
        );
    }
    assert_eq!(rig.state(), BreakerState::Open);

    healthy.store(true, Ordering::SeqCst);
    let answer = rig.engine.ask(Ask::new(QUESTION)).await.expect("fallback");
    assert!(
        answer.degraded,
        "still open: the healed provider is not asked yet"
    );
    assert_eq!(fake.request_count(), 2);

    rig.clock.advance(Duration::from_secs(30));
    assert_eq!(rig.state(), BreakerState::HalfOpen);
    assert_eq!(rig.gauge(), 2);
    let probe = rig.engine.ask(Ask::new(QUESTION)).await.expect("probe");
    assert!(!probe.degraded);
    assert_eq!(probe.generator, "ollama:qwen2.5-coder:7b");
    assert_eq!(probe.rows, vec![vec![Value::Int(275)]]);
    assert_eq!(
        rig.state(),
        BreakerState::HalfOpen,
        "one of two probes succeeded"
    );
    let probe = rig.engine.ask(Ask::new(QUESTION)).await.expect("probe");
    assert!(!probe.degraded);
    assert_eq!(rig.state(), BreakerState::Closed);
    assert_eq!(rig.gauge(), 0);
    assert_eq!(fake.request_count(), 4);

    healthy.store(false, Ordering::SeqCst);
    for _ in 0..2 {
        assert!(
            rig.engine
                .ask(Ask::new(QUESTION))
                .await
                .expect("fallback")
                .degraded
        );
    }
    assert_eq!(rig.state(), BreakerState::Open);
    rig.clock.advance(Duration::from_secs(30));
    let answer = rig.engine.ask(Ask::new(QUESTION)).await.expect("fallback");
    assert!(answer.degraded, "the probe failed");
    assert_eq!(fake.request_count(), 7, "exactly one probe was sent");
    assert_eq!(
        rig.state(),
        BreakerState::Open,
        "a failed probe opens it again"
    );
    rig.clock.advance(Duration::from_secs(29));
    assert_eq!(rig.state(), BreakerState::Open, "for a full reset timeout");
}

#[tokio::test]
async fn the_engine_resets_the_breaker_by_hand() {
    let healthy = Arc::new(AtomicBool::new(false));
    let fake = fake(Wire::Anthropic, failing_fake_script(healthy.clone())).await;
    let mut config = config_for(&fake);
    config.llm.fallback = Fallback::Rule;
    config.llm.max_retries = 0;
    breaker_config(&mut config, 1, 600, 1);
    let rig = Rig::new(config).await;
    assert!(
        rig.engine
            .ask(Ask::new(QUESTION))
            .await
            .expect("fallback")
            .degraded
    );
    assert_eq!(rig.state(), BreakerState::Open);
    healthy.store(true, Ordering::SeqCst);
    rig.engine.reset_circuit_breaker();
    assert_eq!(rig.state(), BreakerState::Closed);
    assert_eq!(rig.gauge(), 0);
    let answer = rig.engine.ask(Ask::new(QUESTION)).await.expect("answer");
    assert!(!answer.degraded);
    assert_eq!(answer.generator, "anthropic:claude-sonnet-4-5");
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_bad_key_is_reported_rather_than_hidden_behind_the_fallback() {
    let fake =
        FakeLlm::start_wire(Wire::OpenAi, "the-right-key", |_| sql_reply("SELECT 1", "")).await;
    let mut config = config_for(&fake);
    config.llm.fallback = Fallback::Rule;
    breaker_config(&mut config, 2, 60, 1);
    let rig = Rig::new(config).await;
    for _ in 0..4 {
        let e = rig.engine.ask(Ask::new(QUESTION)).await.expect_err("401");
        assert_eq!(e.kind(), ErrorKind::Provider);
        assert!(e.to_string().contains("OPENAI_API_KEY"), "{e}");
    }
    assert_eq!(
        rig.state(),
        BreakerState::Closed,
        "a refused key is no outage"
    );
    assert_eq!(fake.request_count(), 4, "and it is not retried");
}

#[tokio::test]
async fn a_rate_limited_question_waits_as_told_and_is_answered_by_the_model() {
    let first = Arc::new(AtomicBool::new(true));
    let fake = fake(Wire::Anthropic, move |_| {
        if first.swap(false, Ordering::SeqCst) {
            Reply::RateLimited(4)
        } else {
            sql_reply("SELECT count(*) AS artists FROM Artist", "")
        }
    })
    .await;
    let mut config = config_for(&fake);
    config.llm.fallback = Fallback::Rule;
    let rig = Rig::new(config).await;
    let answer = rig.engine.ask(Ask::new(QUESTION)).await.expect("answer");
    assert!(!answer.degraded);
    assert_eq!(answer.generator, "anthropic:claude-sonnet-4-5");
    assert_eq!(rig.clock.sleeps(), vec![Duration::from_secs(4)]);
    assert_eq!(rig.state(), BreakerState::Closed);
}

#[tokio::test]
async fn when_the_rules_cannot_answer_either_the_error_says_both() {
    let fake = fake(Wire::OpenAi, |_| Reply::Malformed).await;
    let mut config = config_for(&fake);
    config.llm.fallback = Fallback::Rule;
    config.llm.max_retries = 0;
    let rig = Rig::new(config).await;
    let e = rig
        .engine
        .ask(Ask::new("Summarise the frobnication of the quux"))
        .await
        .expect_err("no one can answer");
    assert_eq!(e.kind(), ErrorKind::CannotAnswer);
    let text = e.to_string();
    assert!(
        text.contains("openai:gpt-4o-mini failed") && text.contains("not JSON"),
        "{text}"
    );
    assert!(text.contains("offline rules could not answer"), "{text}");
    let Error::CannotAnswer { unknown_words, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(
        unknown_words.iter().any(|w| w.contains("frobnication")),
        "{unknown_words:?}"
    );
}

#[tokio::test]
async fn a_disabled_breaker_lets_every_question_through() {
    let fake = fake(Wire::OpenAi, |_| Reply::Status(500, "boom".into())).await;
    let mut config = config_for(&fake);
    config.llm.max_retries = 0;
    config.production.circuit_breaker.enabled = false;
    let rig = Rig::new(config).await;
    for _ in 0..8 {
        assert!(rig.engine.ask(Ask::new(QUESTION)).await.is_err());
    }
    assert_eq!(fake.request_count(), 8);
    assert_eq!(rig.engine.circuit_breaker_state(), None);
}
