//! Redis failing under a running engine. The test runs its own `redis-server` on a free port
//! (never the shared one) and kills it: the cache is bypassed, rate limits go local, sessions
//! fail clearly with nothing saved anywhere, and everything recovers when Redis is back. A
//! frozen Redis (SIGSTOP) costs a request at most `[redis] timeout_ms` and loses nothing.

use std::time::{Duration, Instant};

use conversational_bi::{
    Ask, Config, Engine, ErrorKind,
    config::{Secret, StoreKind},
    metrics::Metrics,
};
use prometheus_client::{encoding::text::encode, registry::Registry};

use testkit::{
    Service,
    redis::{Prefix, PrivateRedis},
};

fn config(url: &str, prefix: &Prefix, sessions: StoreKind) -> Config {
    let mut config = Config::default();
    config.redis.url = Some(Secret::new(url));
    config.redis.key_prefix = prefix.name.clone();
    config.redis.timeout_ms = 300;
    config.session.store = Some(sessions);
    config.cache.store = Some(StoreKind::Redis);
    config.production.rate_limiting.store = Some(StoreKind::Redis);
    config
}

async fn engine(config: Config, metrics: Metrics) -> Engine {
    Engine::builder()
        .config(config)
        .metrics(metrics)
        .build()
        .await
        .expect("an engine starts whatever the state of Redis")
}

fn metric(registry: &Registry, line: &str) -> u64 {
    let mut text = String::new();
    encode(&mut text, registry).expect("encodes");
    text.lines()
        .find_map(|l| l.strip_prefix(line).map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_then_back() {
    if !testkit::require(Service::Redis) {
        return;
    }
    let mut server = PrivateRedis::start();
    let url = server.url();
    let prefix = Prefix::on(&url, "faults");
    let mut registry = Registry::default();
    let metrics = Metrics::register(&mut registry);
    // Instance A keeps sessions in Redis; instance B keeps them in memory but shares the
    // cache and the rate limits.
    let a = engine(config(&url, &prefix, StoreKind::Redis), metrics.clone()).await;
    let b = engine(config(&url, &prefix, StoreKind::Memory), metrics).await;
    let q = |text: &str, session: &str| Ask::new(text).tenant("acme").session(session);

    let first = a
        .ask(q("How many artists are there?", "s1"))
        .await
        .expect("healthy");
    assert!(!first.cache_hit);
    assert!(
        b.ask(q("Number of artists", "s2"))
            .await
            .expect("healthy")
            .cache_hit
    );
    assert_eq!(a.health().await.redis, Some(true));

    server.kill();

    let started = Instant::now();
    let e = a
        .ask(q("How many albums are there?", "s1"))
        .await
        .expect_err("sessions live in Redis");
    assert_eq!(e.kind(), ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.is_retryable());
    let text = e.to_string();
    assert!(
        text.contains("Redis") && text.contains("no turn was saved"),
        "{text}"
    );
    assert!(
        text.contains(&format!("127.0.0.1:{}", server.port)),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "fails fast: {:?}",
        started.elapsed()
    );

    let answer = b
        .ask(q("How many artists are there?", "s3"))
        .await
        .expect("the cache is bypassed, the limiter is local");
    assert!(!answer.cache_hit);
    assert_eq!(answer.turn, 1);
    assert!(metric(&registry, "cache_errors_total") >= 1);
    assert!(metric(&registry, "rate_limit_fallback_total") >= 2);
    assert_eq!(a.health().await.redis, Some(false));
    assert_eq!(a.health().await.status, "degraded");

    server.restart();

    let back = a
        .ask(q("How many albums are there?", "s4"))
        .await
        .expect("recovered");
    assert_eq!(back.turn, 1);
    let state = a.session("acme", "s4").await.expect("session");
    assert_eq!(state.turns.len(), 1);
    let s1 = a.session("acme", "s1").await.expect("session");
    assert!(
        s1.turns
            .iter()
            .all(|t| t.question != "How many albums are there?"),
        "the failed question was saved nowhere"
    );
    let fallbacks = metric(&registry, "rate_limit_fallback_total");
    b.ask(q("How many tracks are there?", "s5"))
        .await
        .expect("recovered");
    b.ask(q("Number of tracks", "s6")).await.expect("recovered");
    assert_eq!(
        metric(&registry, "rate_limit_fallback_total"),
        fallbacks,
        "shared limits again"
    );
    assert!(
        b.ask(q("Number of tracks", "s7"))
            .await
            .expect("cached")
            .cache_hit,
        "the cache works again"
    );
    assert_eq!(a.health().await.redis, Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_times_out_and_loses_nothing() {
    if !testkit::require(Service::Redis) {
        return;
    }
    let server = PrivateRedis::start();
    let url = server.url();
    let prefix = Prefix::on(&url, "frozen");
    let mut registry = Registry::default();
    let metrics = Metrics::register(&mut registry);
    let a = engine(config(&url, &prefix, StoreKind::Redis), metrics).await;
    let q = |text: &str| Ask::new(text).tenant("acme").session("s");
    a.ask(q("How many artists are there?"))
        .await
        .expect("turn 1");
    a.ask(q("How many albums are there?"))
        .await
        .expect("turn 2");

    server.signal("STOP");
    let started = Instant::now();
    let e = a
        .ask(q("How many tracks are there?"))
        .await
        .expect_err("frozen");
    let waited = started.elapsed();
    server.signal("CONT");
    assert_eq!(e.kind(), ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.to_string().contains("300 ms"), "{e}");
    assert!(
        waited < Duration::from_secs(3),
        "bounded by the timeouts: {waited:?}"
    );

    let state = a.session("acme", "s").await.expect("back");
    let questions: Vec<&str> = state.turns.iter().map(|t| t.question.as_str()).collect();
    assert_eq!(
        questions,
        ["How many artists are there?", "How many albums are there?"],
        "both earlier turns kept, the failed one nowhere"
    );
    let third = a
        .ask(q("How many genres are there?"))
        .await
        .expect("turn 3");
    assert_eq!(third.turn, 3);
}

#[tokio::test]
async fn the_redis_password_never_shows() {
    if !testkit::require(Service::Redis) {
        return;
    }
    let mut server = PrivateRedis::start_with(Some("hunter2-redis-pw"));
    let url = server.url();
    let prefix = Prefix::on(&url, "password");
    let a = engine(config(&url, &prefix, StoreKind::Redis), Metrics::default()).await;
    a.ask(Ask::new("How many artists are there?").session("s"))
        .await
        .expect("authenticated");
    assert!(!format!("{a:?}").contains("hunter2"), "Debug of the engine");
    server.kill();
    let e = a
        .ask(Ask::new("How many albums are there?").session("s"))
        .await
        .expect_err("down");
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(e.to_string().contains(":***@127.0.0.1"), "{e}");

    let mut wrong = config(
        &url.replace("hunter2-redis-pw", "wrong-pw-42"),
        &prefix,
        StoreKind::Redis,
    );
    server.restart();
    wrong.redis.timeout_ms = 500;
    let b = engine(wrong, Metrics::default()).await;
    let e = b
        .ask(Ask::new("How many artists are there?").session("s"))
        .await
        .expect_err("wrong password");
    assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
    assert!(!e.to_string().contains("wrong-pw-42"), "{e}");
}
