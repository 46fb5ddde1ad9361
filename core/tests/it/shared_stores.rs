//! The behaviour suite of the shared stores: the memory and Redis implementations of sessions,
//! the semantic cache and rate limits pass the same cases. Redis is the real server of
//! `scripts/services.sh`; each test keeps to a key prefix of its own.

use std::{sync::Arc, time::Duration};

use conversational_bi::{
    Config, DataSource,
    cache::{
        BucketKey, CacheLookup, CacheStore, MemoryCacheStore, RedisCacheStore, SemanticCache,
        Vocabulary,
    },
    clock::{Clock, ManualClock},
    config::CacheConfig,
    embed::BuiltinEmbedder,
    generate::{Corrected, Generation},
    resilience::rate_limit::{
        Decision, MemoryRateLimiter, Quota, Quotas, RateLimiter, RedisRateLimiter,
    },
    session::{
        MemorySessionStore, RedisSessionStore, SessionKey, SessionLimits, SessionStore, Turn,
    },
};

use testkit::{Service, redis::Prefix};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Memory,
    Redis,
}

const KINDS: [Kind; 2] = [Kind::Memory, Kind::Redis];

/// The stores to test: memory, and Redis unless `CBI_TEST_SKIP` names it.
pub(crate) fn kinds() -> Vec<Kind> {
    KINDS
        .into_iter()
        .filter(|k| *k == Kind::Memory || testkit::require(Service::Redis))
        .collect()
}

pub(crate) fn limits() -> SessionLimits {
    SessionLimits {
        max_turns: 10,
        max_context_size: 1_000_000,
        max_sessions: 1000,
        idle_timeout: Duration::from_secs(1800),
        cleanup_interval: Duration::from_secs(300),
    }
}

pub(crate) fn turn(q: &str) -> Turn {
    Turn {
        turn: 0,
        question: q.into(),
        sql: format!("SELECT '{q}'"),
        explanation: format!("answers {q}"),
        columns: vec!["x".into()],
        row_count: 1,
        generator: "test".into(),
        at: "2026-01-01T00:00:00.000Z".into(),
        state: Some(serde_json::json!({"question": q, "filters": [1, 2.5, "x"]})),
        clarification: None,
    }
}

/// Two handles on one store, as two instances would have: for Redis, two connections.
pub(crate) async fn session_stores(
    kind: Kind,
    prefix: &Prefix,
    limits: SessionLimits,
) -> (Arc<dyn SessionStore>, Arc<dyn SessionStore>) {
    match kind {
        Kind::Memory => {
            let s = Arc::new(MemorySessionStore::new(limits));
            (s.clone(), s)
        }
        Kind::Redis => (
            Arc::new(RedisSessionStore::new(prefix.connection().await, limits)),
            Arc::new(RedisSessionStore::new(prefix.connection().await, limits)),
        ),
    }
}

#[tokio::test]
async fn sessions_number_turns_keep_the_last_ones_and_stay_within_their_tenant() {
    for kind in kinds() {
        let prefix = Prefix::new("sessions");
        let (store, _) = session_stores(kind, &prefix, limits()).await;
        let key = SessionKey::new("acme", "s1");
        assert!(store.load(&key).await.expect("load").turns.is_empty());
        for i in 0..12 {
            let state = store
                .append(&key, turn(&format!("q{i}")))
                .await
                .expect("append");
            assert_eq!(state.turn_count, i + 1, "{kind:?}");
        }
        let state = store.load(&key).await.expect("load");
        assert_eq!(state.turn_count, 12, "{kind:?}");
        assert_eq!(state.turns.len(), 10, "{kind:?}: max_turns");
        assert_eq!(state.turns[0].question, "q2");
        assert_eq!(state.turns[0].turn, 3);
        assert_eq!(state.turns[9].turn, 12);
        assert_eq!(
            state.turns[9],
            Turn {
                turn: 12,
                ..turn("q11")
            },
            "{kind:?}: a turn comes back whole"
        );
        assert_eq!(
            (state.tenant_id.as_str(), state.session_id.as_str()),
            ("acme", "s1")
        );

        let other = store
            .load(&SessionKey::new("globex", "s1"))
            .await
            .expect("load");
        assert!(
            other.turns.is_empty(),
            "{kind:?}: another tenant sees nothing"
        );
        store.reset(&key).await.expect("reset");
        let state = store.load(&key).await.expect("load");
        assert!(state.turns.is_empty() && state.turn_count == 0, "{kind:?}");
    }
}

#[tokio::test]
async fn sessions_belong_to_the_user_who_started_them() {
    for kind in kinds() {
        let prefix = Prefix::new("session-users");
        let (store, other_instance) = session_stores(kind, &prefix, limits()).await;
        let ana = SessionKey::for_user("acme", "ana", "s1");
        let carl = SessionKey::for_user("acme", "carl", "s1");
        let library = SessionKey::new("acme", "s1");
        store
            .append(&ana, turn("ana's question"))
            .await
            .expect("append");

        let own = other_instance.load(&ana).await.expect("load");
        assert_eq!(own.turn_count, 1, "{kind:?}");
        assert_eq!(own.user_id.as_deref(), Some("ana"), "{kind:?}");
        for stranger in [&carl, &library] {
            let seen = other_instance.load(stranger).await.expect("load");
            assert!(
                seen.turns.is_empty() && seen.turn_count == 0,
                "{kind:?}: {stranger:?} sees nothing of ana's session"
            );
        }

        // Carl continues "his" s1: a conversation of his own, numbered from 1.
        let continued = store
            .append(&carl, turn("carl's question"))
            .await
            .expect("append");
        assert_eq!(continued.turn_count, 1, "{kind:?}");
        assert_eq!(continued.turns.len(), 1, "{kind:?}");
        assert_eq!(continued.turns[0].question, "carl's question");

        // Carl's reset leaves ana's conversation alone.
        other_instance.reset(&carl).await.expect("reset");
        let own = store.load(&ana).await.expect("load");
        assert_eq!(
            own.turn_count, 1,
            "{kind:?}: ana's session survives carl's reset"
        );
        assert_eq!(own.turns[0].question, "ana's question");

        // An empty user is the default user, and a user named like a key separator stays apart.
        assert_eq!(SessionKey::for_user("acme", "", "s1"), library);
        let colon = SessionKey::for_user("acme", "ana:s1", "x");
        assert!(
            store.load(&colon).await.expect("load").turns.is_empty(),
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn redis_session_keys_name_tenant_user_and_session() {
    if !testkit::require(Service::Redis) {
        return;
    }
    let prefix = Prefix::new("session-layout");
    let store = RedisSessionStore::new(prefix.connection().await, limits());
    let (turns, meta) = store.keys(&SessionKey::for_user("acme", "ana:x", "s-1"));
    let p = &prefix.name;
    assert_eq!(turns, format!("{p}:session:acme:ana%3Ax:s-1:turns"));
    assert_eq!(meta, format!("{p}:session:acme:ana%3Ax:s-1:meta"));
    let (turns, _) = store.keys(&SessionKey::new("acme", "s-1"));
    assert_eq!(
        turns,
        format!("{p}:session:acme::s-1:turns"),
        "the default user is the empty part"
    );
    assert_eq!(
        store.list_key("acme", Some("ana:x")),
        format!("{p}:sessions:acme:ana%3Ax")
    );
    assert_eq!(store.list_key("acme", None), format!("{p}:sessions:acme:"));
}

#[tokio::test]
async fn sessions_keep_within_the_context_size_but_always_the_newest_turn() {
    for kind in kinds() {
        let prefix = Prefix::new("session-bytes");
        let small = SessionLimits {
            max_context_size: 500,
            ..limits()
        };
        let (store, _) = session_stores(kind, &prefix, small).await;
        let key = SessionKey::new("t", "s");
        for i in 0..6 {
            store
                .append(&key, turn(&format!("q{i}")))
                .await
                .expect("append");
        }
        let state = store.load(&key).await.expect("load");
        assert!(
            state.context_bytes() <= 500,
            "{kind:?}: {}",
            state.context_bytes()
        );
        assert!(state.turns.len() < 6 && !state.turns.is_empty(), "{kind:?}");
        assert_eq!(state.turns.last().map(|t| t.turn), Some(6));
        let huge = turn(&"x".repeat(5000));
        let state = store.append(&key, huge).await.expect("append");
        assert_eq!(
            state.turns.len(),
            1,
            "{kind:?}: only the newest, oversized turn"
        );
        assert_eq!(state.turns[0].turn, 7);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_appending_to_one_session_lose_no_turn() {
    for kind in kinds() {
        let prefix = Prefix::new("session-race");
        let (a, b) = session_stores(
            kind,
            &prefix,
            SessionLimits {
                max_turns: 1000,
                ..limits()
            },
        )
        .await;
        let key = SessionKey::new("acme", "busy");
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                let key = key.clone();
                tokio::spawn(async move {
                    store
                        .append(&key, turn(&format!("q{i}")))
                        .await
                        .map(|s| s.turn_count)
                })
            })
            .collect();
        let mut numbers = Vec::new();
        for t in tasks {
            numbers.push(t.await.expect("join").expect("append"));
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=100).collect::<Vec<u64>>(), "{kind:?}");
        let state = a.load(&key).await.expect("load");
        assert_eq!(state.turns.len(), 100, "{kind:?}");
        let mut questions: Vec<String> = state.turns.iter().map(|t| t.question.clone()).collect();
        questions.sort();
        questions.dedup();
        assert_eq!(questions.len(), 100, "{kind:?}: every question once");
        let numbers: Vec<u64> = state.turns.iter().map(|t| t.turn).collect();
        assert_eq!(
            numbers,
            (1..=100).collect::<Vec<u64>>(),
            "{kind:?}: in order"
        );
    }
}

#[tokio::test]
async fn redis_sessions_expire_after_the_session_timeout() {
    if !testkit::require(Service::Redis) {
        return;
    }
    let prefix = Prefix::new("session-ttl");
    let store = RedisSessionStore::new(
        prefix.connection().await,
        SessionLimits {
            idle_timeout: Duration::from_secs(90),
            ..limits()
        },
    );
    store
        .append(&SessionKey::new("acme", "s"), turn("q"))
        .await
        .expect("append");
    let keys = prefix.keys();
    assert_eq!(keys.len(), 3, "turns, meta and the user's list: {keys:?}");
    let mut con = prefix.raw();
    for key in keys {
        let ttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut con).expect("PTTL");
        assert!(ttl > 85_000 && ttl <= 90_000, "{key}: {ttl} ms");
    }
}

async fn demo() -> DataSource {
    DataSource::connect(&Config::default(), None)
        .await
        .expect("demo database")
}

async fn answered(source: &DataSource, sql: &str) -> Corrected {
    let (validated, result) = source.run(sql).await.expect("runs");
    Corrected {
        generation: Generation {
            sql: sql.into(),
            explanation: "explained".into(),
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
    }
}

async fn cache_store(kind: Kind, prefix: &Prefix, max_size: u64) -> Arc<dyn CacheStore> {
    match kind {
        Kind::Memory => Arc::new(MemoryCacheStore::new(max_size, Duration::from_secs(3600))),
        Kind::Redis => Arc::new(RedisCacheStore::new(
            prefix.connection().await,
            max_size,
            3_600_000,
        )),
    }
}

fn semantic(store: Arc<dyn CacheStore>, source: &DataSource, clock: &ManualClock) -> SemanticCache {
    SemanticCache::new(
        store,
        Arc::new(BuiltinEmbedder::new()),
        Vocabulary::from_catalog(source.catalog()),
        &CacheConfig::default(),
    )
    .with_clock(Arc::new(clock.clone()))
}

fn lookup<'a>(tenant: &'a str, schema: &'a str, q: &'a str) -> CacheLookup<'a> {
    CacheLookup {
        tenant_id: tenant,
        schema,
        history: &[],
        question: q,
    }
}

#[tokio::test]
async fn caches_hit_paraphrases_refuse_near_misses_and_expire() {
    let source = demo().await;
    let fp = source.catalog().fingerprint.clone();
    let done = answered(
        &source,
        "SELECT g.Name, count(*) AS tracks FROM Track t JOIN Genre g ON g.GenreId = t.GenreId GROUP BY g.Name ORDER BY tracks DESC LIMIT 5",
    )
    .await;
    for kind in kinds() {
        let prefix = Prefix::new("cache");
        let clock = ManualClock::at(1_800_000_000_000_000);
        let cache = semantic(cache_store(kind, &prefix, 100).await, &source, &clock);
        let (probe, hit) = cache
            .lookup(lookup("acme", &fp, "Top 5 genres by number of tracks"))
            .await;
        assert!(hit.is_none());
        cache.insert(&probe, &done, "rule").await;
        let (probe, hit) = cache
            .lookup(lookup(
                "acme",
                &fp,
                "Show me the top five genres by number of tracks, please",
            ))
            .await;
        let hit = hit.unwrap_or_else(|| panic!("{kind:?}: a paraphrase hits"));
        assert!(hit.similarity >= 0.85, "{kind:?}: {}", hit.similarity);
        let replayed = cache
            .replay(
                &probe,
                &hit,
                &source.view(&Default::default()).await.expect("view"),
            )
            .await
            .expect("replays");
        assert_eq!(replayed.result.rows, done.result.rows, "{kind:?}");
        for miss in [
            "Top 3 genres by number of tracks",
            "Bottom 5 genres by number of tracks",
            "Top 5 artists by number of tracks",
            "Top 5 genres by number of albums",
        ] {
            assert!(
                cache.lookup(lookup("acme", &fp, miss)).await.1.is_none(),
                "{kind:?}: {miss}"
            );
        }
        assert!(
            cache
                .lookup(lookup("globex", &fp, "Top 5 genres by number of tracks"))
                .await
                .1
                .is_none(),
            "{kind:?}: another tenant"
        );
        clock.advance(Duration::from_secs(3601));
        assert!(
            cache
                .lookup(lookup("acme", &fp, "Top 5 genres by number of tracks"))
                .await
                .1
                .is_none(),
            "{kind:?}: expired"
        );
    }
}

#[tokio::test]
async fn caches_evict_the_least_recently_used_beyond_max_size() {
    let source = demo().await;
    let fp = source.catalog().fingerprint.clone();
    let done = answered(&source, "SELECT count(*) FROM Track").await;
    for kind in kinds() {
        let prefix = Prefix::new("cache-lru");
        let clock = ManualClock::at(1_800_000_000_000_000);
        let store = cache_store(kind, &prefix, 3).await;
        let cache = semantic(store.clone(), &source, &clock);
        let questions = [
            "How many tracks are in Rock?",
            "How many tracks are in Jazz?",
            "How many tracks are in Blues?",
            "How many tracks are in Latin?",
        ];
        for q in &questions[..3] {
            clock.advance(Duration::from_secs(1));
            let (probe, _) = cache.lookup(lookup("t", &fp, q)).await;
            cache.insert(&probe, &done, "rule").await;
        }
        clock.advance(Duration::from_secs(1));
        assert!(
            cache
                .lookup(lookup("t", &fp, questions[0]))
                .await
                .1
                .is_some(),
            "{kind:?}"
        );
        clock.advance(Duration::from_secs(1));
        let (probe, _) = cache.lookup(lookup("t", &fp, questions[3])).await;
        cache.insert(&probe, &done, "rule").await;
        let hits: Vec<bool> = {
            let mut v = Vec::new();
            for q in questions {
                v.push(cache.lookup(lookup("t", &fp, q)).await.1.is_some());
            }
            v
        };
        assert_eq!(
            hits,
            [true, false, true, true],
            "{kind:?}: the second question was least recently used"
        );
    }
}

#[tokio::test]
async fn caches_drop_a_tenant_alone_and_entries_of_an_older_schema() {
    let source = demo().await;
    let done = answered(&source, "SELECT count(*) FROM Track").await;
    let q = "How many tracks are there?";
    for kind in kinds() {
        let prefix = Prefix::new("cache-invalidate");
        let clock = ManualClock::at(1_800_000_000_000_000);
        let store = cache_store(kind, &prefix, 100).await;
        let cache = semantic(store.clone(), &source, &clock);
        for tenant in ["acme", "globex"] {
            let (probe, _) = cache.lookup(lookup(tenant, "v1", q)).await;
            cache.insert(&probe, &done, "rule").await;
        }
        cache.invalidate_tenant("acme").await.expect("invalidates");
        assert!(
            cache.lookup(lookup("acme", "v1", q)).await.1.is_none(),
            "{kind:?}"
        );
        assert!(
            cache.lookup(lookup("globex", "v1", q)).await.1.is_some(),
            "{kind:?}"
        );

        let (old, _) = cache.lookup(lookup("globex", "v1", q)).await;
        let old_bucket: BucketKey = old.bucket().clone();
        let (probe, _) = cache.lookup(lookup("globex", "v2", q)).await;
        cache.insert(&probe, &done, "rule").await;
        assert!(
            store.get(&old_bucket, 0).await.expect("get").is_empty(),
            "{kind:?}: the schema change deleted the older entries"
        );
        assert!(
            cache.lookup(lookup("globex", "v2", q)).await.1.is_some(),
            "{kind:?}"
        );
    }
}

async fn limiter(
    kind: Kind,
    prefix: &Prefix,
    quotas: Quotas,
    clock: &ManualClock,
) -> Arc<dyn RateLimiter> {
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    match kind {
        Kind::Memory => Arc::new(MemoryRateLimiter::new(quotas, clock)),
        Kind::Redis => {
            Arc::new(RedisRateLimiter::new(prefix.connection().await, quotas).with_clock(clock))
        }
    }
}

#[tokio::test]
async fn rate_limiters_decide_alike_step_by_step() {
    if !testkit::require(Service::Redis) {
        return;
    }
    let quotas = Quotas::new(Quota {
        queries_per_minute: 100,
        burst: 20,
    })
    .with_tenant(
        "big",
        Quota {
            queries_per_minute: 1200,
            burst: 50,
        },
    );
    let mut transcripts = Vec::new();
    for kind in KINDS {
        let prefix = Prefix::new("ratelimit");
        let clock = ManualClock::at(1_800_000_000_000_000);
        let l = limiter(kind, &prefix, quotas.clone(), &clock).await;
        let mut transcript = Vec::new();
        for step in 0..400u64 {
            clock.advance(Duration::from_micros(37_000 + (step * 7_919) % 90_000));
            for tenant in ["small", "big", "small"] {
                transcript.push(l.acquire(tenant).await.expect("decides"));
            }
        }
        transcripts.push(transcript);
    }
    assert_eq!(
        transcripts[0], transcripts[1],
        "memory and Redis decide alike"
    );
    let admitted = transcripts[0].iter().filter(|d| d.admitted()).count();
    assert!(admitted > 100 && admitted < 1200, "{admitted}");
    let limited = transcripts[0].iter().find_map(|d| match d {
        Decision::Limited { retry_after } => Some(*retry_after),
        _ => None,
    });
    assert!(limited.is_some_and(|r| r <= Duration::from_millis(600)));
}

#[tokio::test]
async fn the_redis_limiter_runs_on_the_server_clock() {
    if !testkit::require(Service::Redis) {
        return;
    }
    let prefix = Prefix::new("ratelimit-time");
    let l = RedisRateLimiter::new(
        prefix.connection().await,
        Quotas::new(Quota {
            queries_per_minute: 1,
            burst: 3,
        }),
    );
    let mut decisions = Vec::new();
    for _ in 0..5 {
        decisions.push(l.acquire("acme").await.expect("decides").admitted());
    }
    assert_eq!(decisions, [true, true, true, false, false]);
    match l.acquire("acme").await.expect("decides") {
        Decision::Limited { retry_after } => {
            assert!(
                retry_after > Duration::from_secs(55) && retry_after <= Duration::from_secs(60),
                "{retry_after:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let keys = prefix.keys();
    assert_eq!(keys, [format!("{}:ratelimit:acme", prefix.name)]);
}
