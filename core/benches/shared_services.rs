//! The shared services against their targets:
//!
//! | what | target |
//! |---|---|
//! | built-in embedder, one question | ≤ 50 µs |
//! | semantic cache lookup with 10,000 entries, memory | ≤ 1 ms p99 |
//! | semantic cache lookup with 10,000 entries, Redis | ≤ 3 ms p99 |
//! | rate limiter decision, Redis | ≤ 1 ms p99 |
//! | a 10-turn session in Redis (`MEMORY USAGE`) | ≤ 32 KB |
//!
//! Run: `cargo bench -p conversational-bi --bench shared_services` with Redis on
//! `CBI_TEST_REDIS_URL` (default `redis://127.0.0.1:6379/`). A lookup is the whole stage: slot
//! extraction, embedding, the store's round trip and the comparisons. Besides criterion's
//! report it prints p50/p99 of single calls and the session sizes. Keys live under a prefix of
//! their own, deleted at the end.

use std::{hint::black_box, sync::Arc, time::Instant};

use conversational_bi::{
    Ask, Config, DataSource, Engine,
    cache::{
        CacheLookup, CacheParts, CacheStore, MemoryCacheStore, RedisCacheStore, SemanticCache,
    },
    config::{Secret, StoreKind},
    embed::BuiltinEmbedder,
    generate::{Corrected, Generation},
    resilience::rate_limit::{Quota, Quotas, RateLimiter, RedisRateLimiter},
    session::{RedisSessionStore, SessionKey, SessionLimits, SessionStore, Turn},
    store::{RedisConnection, RedisOptions},
};
use criterion::{Criterion, criterion_group, criterion_main};
use testkit::redis::redis_url;

const ENTRIES: usize = 10_000;

fn prefix() -> String {
    format!("cbi-bench-{}", uuid::Uuid::new_v4().simple())
}

fn cleanup(prefix: &str) {
    let Ok(mut con) = redis::Client::open(redis_url()).and_then(|c| c.get_connection()) else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query(&mut con)
        .unwrap_or_default();
    for chunk in keys.chunks(1000) {
        let _: Result<i64, _> = redis::cmd("DEL").arg(chunk).query(&mut con);
    }
}

async fn redis(prefix: &str) -> RedisConnection {
    RedisConnection::open(
        &redis_url(),
        RedisOptions {
            key_prefix: prefix.into(),
            ..RedisOptions::default()
        },
    )
    .await
    .expect("redis url")
}

fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    (at(0.5), at(0.99))
}

/// One thread drives the question and the Redis connection, as a request handler would.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

const ENTITIES: [&str; 10] = [
    "customers",
    "artists",
    "albums",
    "genres",
    "tracks",
    "employees",
    "invoices",
    "playlists",
    "countries",
    "cities",
];

/// 10,000 distinct questions: every one states other facts.
fn question(i: usize) -> String {
    let n = i % 50 + 1;
    let entity = ENTITIES[(i / 50) % 10];
    let year = 2000 + i / 500;
    format!("Show me the top {n} {entity} by revenue in {year}")
}

fn paraphrase(i: usize) -> String {
    let n = i % 50 + 1;
    let entity = ENTITIES[(i / 50) % 10];
    let year = 2000 + i / 500;
    format!("List the top {n} {entity} by revenue for {year}")
}

fn bench_embedder(c: &mut Criterion) {
    let e = BuiltinEmbedder::new();
    let questions: Vec<String> = (0..100).map(question).collect();
    let mut i = 0;
    c.bench_function("builtin_embedder_one_question", |b| {
        b.iter(|| {
            i = (i + 1) % questions.len();
            black_box(e.embed_one(&questions[i]))
        })
    });
}

async fn filled(store: Arc<dyn CacheStore>, source: &DataSource) -> SemanticCache {
    let config = Config::default();
    let cache = conversational_bi::cache::from_config(
        &config,
        source,
        None,
        CacheParts {
            store: Some(store),
            ..CacheParts::default()
        },
    )
    .await
    .expect("cache")
    .expect("enabled");
    let (validated, result) = source
        .run("SELECT count(*) FROM Track")
        .await
        .expect("runs");
    let done = Corrected {
        generation: Generation {
            sql: "SELECT count(*) FROM Track".into(),
            explanation: "Counts tracks.".into(),
            state: None,
            degraded: None,
            clarification: None,
        },
        validated,
        result,
        attempts: vec![],
        generate_ms: 0.0,
        validate_ms: 0.0,
        execute_ms: 0.0,
    };
    let schema = source.catalog().fingerprint.clone();
    for i in 0..ENTRIES {
        let q = question(i);
        let (probe, _) = cache
            .lookup(CacheLookup {
                tenant_id: "acme",
                schema: &schema,
                history: &[],
                question: &q,
            })
            .await;
        cache.insert(&probe, &done, "bench").await;
    }
    cache
}

fn bench_cache(c: &mut Criterion) {
    let rt = runtime();
    let source = rt
        .block_on(DataSource::connect(&Config::default(), None))
        .expect("demo database");
    let schema = source.catalog().fingerprint.clone();
    let prefix = prefix();
    let stores: Vec<(&str, Arc<dyn CacheStore>)> = vec![
        (
            "memory",
            Arc::new(MemoryCacheStore::new(
                ENTRIES as u64,
                std::time::Duration::from_secs(3600),
            )),
        ),
        (
            "redis",
            Arc::new(RedisCacheStore::new(
                rt.block_on(redis(&prefix)),
                ENTRIES as u64,
                3_600_000,
            )),
        ),
    ];
    for (name, store) in stores {
        let cache = rt.block_on(filled(store, &source));
        let lookup = |i: usize| {
            let q = if i.is_multiple_of(2) {
                paraphrase(i % ENTRIES)
            } else {
                format!("Show me the top {} tracks by revenue in 1999", i % 7 + 1)
            };
            let cache = cache.clone();
            let schema = schema.clone();
            async move {
                cache
                    .lookup(CacheLookup {
                        tenant_id: "acme",
                        schema: &schema,
                        history: &[],
                        question: &q,
                    })
                    .await
                    .1
                    .is_some()
            }
        };
        let hits = (0..200).filter(|i| rt.block_on(lookup(*i))).count();
        assert_eq!(
            hits, 100,
            "{name}: every paraphrase hits, every new question misses"
        );
        let mut i = 0;
        c.bench_function(&format!("cache_lookup_10k_{name}"), |b| {
            b.iter(|| {
                i += 1;
                black_box(rt.block_on(lookup(i)))
            })
        });
        let samples: Vec<f64> = (0..5000)
            .map(|i| {
                let t = Instant::now();
                black_box(rt.block_on(lookup(i)));
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        let (p50, p99) = percentiles(samples);
        println!(
            "cache lookup, {ENTRIES} entries, {name} store (half hits, half misses, 5000 lookups): p50 {p50:.3} ms, p99 {p99:.3} ms"
        );
    }
    let mut con = redis::Client::open(redis_url())
        .and_then(|c| c.get_connection())
        .expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:cache:acme:*"))
        .query(&mut con)
        .expect("KEYS");
    let entries: Vec<&String> = keys
        .iter()
        .filter(|k| k.matches(':').count() == 6)
        .collect();
    let bytes: u64 = entries
        .iter()
        .take(100)
        .map(|k| {
            redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(k.as_str())
                .arg("SAMPLES")
                .arg(0)
                .query::<u64>(&mut con)
                .expect("MEMORY USAGE")
        })
        .sum();
    let lru: u64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(format!("{prefix}:cache:lru"))
        .arg("SAMPLES")
        .arg(0)
        .query(&mut con)
        .expect("MEMORY USAGE");
    println!(
        "cache in Redis: {} entry keys; an entry takes {} bytes on average (MEMORY USAGE of 100); the LRU index {lru} bytes",
        entries.len(),
        bytes / entries.len().clamp(1, 100) as u64
    );
    cleanup(&prefix);
}

/// The floor under every Redis figure on this machine: a bare `PING` on the same kind of
/// connection.
fn redis_baseline(rt: &tokio::runtime::Runtime, prefix: &str) {
    let conn = rt.block_on(redis(prefix));
    let samples: Vec<f64> = (0..5000)
        .map(|_| {
            let t = Instant::now();
            rt.block_on(conn.ping()).expect("PING");
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let (p50, p99) = percentiles(samples);
    println!("baseline: Redis PING round trip (5000): p50 {p50:.3} ms, p99 {p99:.3} ms");
}

fn bench_limiter(c: &mut Criterion) {
    let rt = runtime();
    let prefix = prefix();
    redis_baseline(&rt, &prefix);
    let limiter = RedisRateLimiter::new(
        rt.block_on(redis(&prefix)),
        Quotas::new(Quota {
            queries_per_minute: 1_000_000,
            burst: 1_000_000,
        }),
    );
    let tenants: Vec<String> = (0..1000).map(|i| format!("tenant-{i}")).collect();
    let mut i = 0;
    c.bench_function("rate_limit_redis", |b| {
        b.iter(|| {
            i = (i + 1) % tenants.len();
            black_box(rt.block_on(limiter.acquire(&tenants[i])).expect("decides"))
        })
    });
    let samples: Vec<f64> = (0..5000)
        .map(|i| {
            let t = Instant::now();
            black_box(
                rt.block_on(limiter.acquire(&tenants[i % tenants.len()]))
                    .expect("decides"),
            );
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let (p50, p99) = percentiles(samples);
    println!(
        "rate limit decision, Redis (5000 decisions over 1000 tenants): p50 {p50:.3} ms, p99 {p99:.3} ms"
    );
    cleanup(&prefix);
}

fn memory_usage(prefix: &str) -> (u64, usize) {
    let mut con = redis::Client::open(redis_url())
        .and_then(|c| c.get_connection())
        .expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:session:*"))
        .query(&mut con)
        .expect("KEYS");
    let bytes = keys
        .iter()
        .map(|k| {
            redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(k)
                .arg("SAMPLES")
                .arg(0)
                .query::<u64>(&mut con)
                .expect("MEMORY USAGE")
        })
        .sum();
    (bytes, keys.len())
}

/// Ten turns of the offline generator on the demo database, in Redis; and ten turns shaped
/// like an LLM's answer.
fn session_memory(_c: &mut Criterion) {
    let rt = runtime();
    let prefix = prefix();
    let mut config = Config::default();
    config.redis.url = Some(Secret::new(redis_url()));
    config.redis.key_prefix = prefix.clone();
    config.session.store = Some(StoreKind::Redis);
    config.production.rate_limiting.enabled = false;
    let engine = rt
        .block_on(Engine::builder().config(config).build())
        .expect("engine");
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
    ];
    for q in questions {
        rt.block_on(engine.ask(Ask::new(q).session("ten-turns")))
            .expect("answered");
    }
    let (rule_bytes, keys) = memory_usage(&prefix);
    println!(
        "10-turn session in Redis, offline generator (with its query state): {rule_bytes} bytes in {keys} keys (MEMORY USAGE)"
    );
    cleanup(&prefix);

    let prefix = self::prefix();
    let store = RedisSessionStore::new(
        rt.block_on(redis(&prefix)),
        SessionLimits {
            max_turns: 10,
            max_context_size: 1_000_000,
            max_sessions: 10_000,
            idle_timeout: std::time::Duration::from_secs(1800),
            cleanup_interval: std::time::Duration::from_secs(300),
        },
    );
    let key = SessionKey::new("acme-corp", "550e8400-e29b-41d4-a716-446655440000");
    for i in 0..10 {
        let turn = Turn {
            turn: 0,
            question: format!("What was the revenue per country in 202{}, top 5 only?", i % 5),
            sql: "SELECT BillingCountry AS country, sum(Total) AS revenue FROM Invoice WHERE strftime('%Y', InvoiceDate) = '2024' GROUP BY BillingCountry ORDER BY revenue DESC LIMIT 5".into(),
            explanation: "Revenue per billing country in 2024, the five largest.".into(),
            columns: vec!["country".into(), "revenue".into()],
            row_count: 5,
            generator: "openai:gpt-4o-mini".into(),
            at: "2026-11-29T07:00:00.000Z".into(),
            state: None,
            clarification: None,
        };
        rt.block_on(store.append(&key, turn)).expect("append");
    }
    let (llm_bytes, keys) = memory_usage(&prefix);
    println!(
        "10-turn session in Redis, model-written turns: {llm_bytes} bytes in {keys} keys (MEMORY USAGE)"
    );
    cleanup(&prefix);
}

criterion_group!(
    benches,
    bench_embedder,
    bench_cache,
    bench_limiter,
    session_memory
);
criterion_main!(benches);
