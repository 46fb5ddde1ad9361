use std::time::Duration;

use super::*;
use crate::{
    clock::ManualClock,
    config::{CacheConfig, Config},
    embed::BuiltinEmbedder,
    generate::correct::Corrected,
    metrics::CacheMetrics,
};

fn turn(sql: &str) -> Turn {
    Turn {
        turn: 1,
        question: "q".into(),
        sql: sql.into(),
        explanation: String::new(),
        columns: vec![],
        row_count: 0,
        generator: "test".into(),
        at: "2026-01-01T00:00:00Z".into(),
        state: None,
        clarification: None,
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
            state: Some(serde_json::json!({"plan": 1})),
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

struct Fixture {
    cache: SemanticCache,
    store: MemoryCacheStore,
    clock: ManualClock,
    metrics: CacheMetrics,
    source: DataSource,
}

async fn fixture() -> Fixture {
    let source = demo().await;
    let store = MemoryCacheStore::new(100, Duration::from_secs(3600));
    let clock = ManualClock::at(1_700_000_000_000_000);
    let metrics = CacheMetrics::default();
    let cache = SemanticCache::new(
        Arc::new(store.clone()),
        Arc::new(BuiltinEmbedder::new()),
        Vocabulary::from_catalog(source.catalog()),
        &CacheConfig::default(),
    )
    .with_clock(Arc::new(clock.clone()))
    .with_metrics(metrics.clone());
    Fixture {
        cache,
        store,
        clock,
        metrics,
        source,
    }
}

fn ask<'a>(tenant: &'a str, schema: &'a str, history: &'a [Turn], q: &'a str) -> CacheLookup<'a> {
    CacheLookup {
        tenant_id: tenant,
        schema,
        history,
        question: q,
    }
}

const SQL: &str = "SELECT c.FirstName, sum(i.Total) AS revenue FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId WHERE strftime('%Y', i.InvoiceDate) = '2023' GROUP BY c.CustomerId ORDER BY revenue DESC LIMIT 10";

#[test]
fn conversation_keys_follow_the_sql_of_earlier_turns() {
    assert_eq!(conversation_key(&[]), "new");
    let a = conversation_key(&[turn("SELECT 1")]);
    assert_eq!(a, conversation_key(&[turn("SELECT 1")]));
    assert_ne!(a, conversation_key(&[turn("SELECT 2")]));
    assert_ne!(a, conversation_key(&[turn("SELECT 1"), turn("SELECT 1")]));
    assert_ne!(
        conversation_key(&[turn("ab"), turn("c")]),
        conversation_key(&[turn("a"), turn("bc")])
    );
}

#[test]
fn entries_survive_encoding() {
    let entry = CacheEntry {
        id: "abc".into(),
        question: "Top 10 customers?".into(),
        slots: "{}".into(),
        embedder: "builtin-v1".into(),
        embedding: vec![0.5, -0.25, 1e-7],
        sql: "SELECT 1".into(),
        statement: "select 1 -- one".into(),
        explanation: "one".into(),
        generator: "rule".into(),
        state: Some(serde_json::json!({"a": [1, 2]})),
        inserted_at: 42,
    };
    assert_eq!(CacheEntry::decode(&entry.encode()).expect("decodes"), entry);
    assert!(CacheEntry::decode(b"nonsense").is_err());
    let mut truncated = entry.encode();
    truncated.pop();
    assert!(CacheEntry::decode(&truncated).is_err());
}

#[tokio::test]
async fn a_paraphrase_hits_and_replays_the_sql_against_the_database() {
    let f = fixture().await;
    let fp = f.source.catalog().fingerprint.clone();
    let (probe, hit) = f
        .cache
        .lookup(ask(
            "acme",
            &fp,
            &[],
            "Show me the top 10 customers by revenue in 2023",
        ))
        .await;
    assert!(hit.is_none());
    f.cache
        .insert(&probe, &answered(&f.source, SQL).await, "openai:gpt-4")
        .await;
    let (probe, hit) = f
        .cache
        .lookup(ask(
            "acme",
            &fp,
            &[],
            "Which are the ten customers with the highest revenue in 2023?",
        ))
        .await;
    let hit = hit.expect("a paraphrase hits");
    assert!(
        hit.similarity >= 0.85 && hit.similarity <= 1.0,
        "{}",
        hit.similarity
    );
    assert_eq!(hit.entry.generator, "openai:gpt-4");
    assert_eq!(hit.entry.state, Some(serde_json::json!({"plan": 1})));
    let done = f
        .cache
        .replay(
            &probe,
            &hit,
            &f.source.view(&Default::default()).await.expect("view"),
        )
        .await
        .expect("replays");
    assert_eq!(done.result.rows.len(), 10);
    assert_eq!(done.generation.explanation, "explained");
    assert_eq!(f.metrics.requests.get(), 2);
    assert_eq!(f.metrics.hits.get(), 1);
}

#[tokio::test]
async fn near_misses_and_other_scopes_never_hit() {
    let f = fixture().await;
    let fp = f.source.catalog().fingerprint.clone();
    let question = "Show me the top 10 customers by revenue in 2023";
    let (probe, _) = f.cache.lookup(ask("acme", &fp, &[], question)).await;
    f.cache
        .insert(&probe, &answered(&f.source, SQL).await, "rule")
        .await;
    let history = [turn("SELECT 1")];
    for (tenant, schema, history, q) in [
        (
            "acme",
            fp.as_str(),
            &[][..],
            "Show me the top 10 customers by revenue in 2024",
        ),
        (
            "acme",
            fp.as_str(),
            &[][..],
            "Show me the bottom 10 customers by revenue in 2023",
        ),
        (
            "acme",
            fp.as_str(),
            &[][..],
            "Show me the top 5 customers by revenue in 2023",
        ),
        (
            "acme",
            fp.as_str(),
            &[][..],
            "Show me the top 10 artists by revenue in 2023",
        ),
        ("globex", fp.as_str(), &[][..], question),
        ("acme", "another-schema", &[][..], question),
        ("acme", fp.as_str(), &history[..], question),
    ] {
        let (_, hit) = f.cache.lookup(ask(tenant, schema, history, q)).await;
        assert!(hit.is_none(), "{tenant} {schema} {q}");
    }
    let (_, hit) = f.cache.lookup(ask("acme", &fp, &[], question)).await;
    assert_eq!(hit.expect("the same question hits").similarity, 1.0);
}

#[tokio::test]
async fn entries_expire_after_the_ttl() {
    let f = fixture().await;
    let fp = f.source.catalog().fingerprint.clone();
    let q = "How many tracks are there?";
    let (probe, _) = f.cache.lookup(ask("t", &fp, &[], q)).await;
    f.cache
        .insert(
            &probe,
            &answered(&f.source, "SELECT count(*) FROM Track").await,
            "rule",
        )
        .await;
    f.clock.advance(Duration::from_secs(3599));
    assert!(f.cache.lookup(ask("t", &fp, &[], q)).await.1.is_some());
    f.clock.advance(Duration::from_secs(1));
    assert!(
        f.cache.lookup(ask("t", &fp, &[], q)).await.1.is_none(),
        "ttl_seconds = 3600"
    );
}

#[tokio::test]
async fn questions_relative_to_today_are_reused_only_the_same_day() {
    let f = fixture().await;
    let fp = f.source.catalog().fingerprint.clone();
    f.clock.set(1_767_225_600_000_000 - 50 * 60_000_000); // 2025-12-31 23:10 UTC
    let done = answered(&f.source, "SELECT count(*) FROM Invoice").await;
    for q in ["How many invoices last month?", "How many invoices?"] {
        let (probe, _) = f.cache.lookup(ask("t", &fp, &[], q)).await;
        f.cache.insert(&probe, &done, "rule").await;
    }
    f.clock.advance(Duration::from_secs(30 * 60));
    assert!(
        f.cache
            .lookup(ask("t", &fp, &[], "How many invoices last month?"))
            .await
            .1
            .is_some()
    );
    f.clock.advance(Duration::from_secs(25 * 60));
    assert!(
        f.cache
            .lookup(ask("t", &fp, &[], "How many invoices last month?"))
            .await
            .1
            .is_none(),
        "a new day: 'last month' may mean other dates"
    );
    assert!(
        f.cache
            .lookup(ask("t", &fp, &[], "How many invoices?"))
            .await
            .1
            .is_some(),
        "other questions live their ttl"
    );
    let slots = f.cache.slots("sales in the past 3 hours");
    assert_eq!(
        period(&slots, 1_767_225_600_000_000).as_deref(),
        Some("2026-01-01T00")
    );
    assert_eq!(period(&f.cache.slots("sales in 2024"), 0), None);
}

#[tokio::test]
async fn a_statement_that_no_longer_validates_is_dropped() {
    let f = fixture().await;
    let fp = f.source.catalog().fingerprint.clone();
    let q = "How many tracks are there?";
    let (probe, _) = f.cache.lookup(ask("t", &fp, &[], q)).await;
    let mut done = answered(&f.source, "SELECT count(*) FROM Track").await;
    done.generation.sql = "SELECT count(*) FROM Trakc".into();
    f.cache.insert(&probe, &done, "rule").await;
    let (probe, hit) = f.cache.lookup(ask("t", &fp, &[], q)).await;
    let hit = hit.expect("stored");
    assert!(
        f.cache
            .replay(
                &probe,
                &hit,
                &f.source.view(&Default::default()).await.expect("view")
            )
            .await
            .is_none()
    );
    assert!(f.cache.lookup(ask("t", &fp, &[], q)).await.1.is_none());
    assert_eq!(f.metrics.hits.get(), 0);
}

#[tokio::test]
async fn tenants_are_invalidated_alone_and_a_new_schema_drops_the_old_entries() {
    let f = fixture().await;
    let fp = f.source.catalog().fingerprint.clone();
    let q = "How many tracks are there?";
    let done = answered(&f.source, "SELECT count(*) FROM Track").await;
    for tenant in ["acme", "globex"] {
        let (probe, _) = f.cache.lookup(ask(tenant, &fp, &[], q)).await;
        f.cache.insert(&probe, &done, "rule").await;
    }
    f.cache
        .invalidate_tenant("acme")
        .await
        .expect("invalidates");
    assert!(f.cache.lookup(ask("acme", &fp, &[], q)).await.1.is_none());
    assert!(f.cache.lookup(ask("globex", &fp, &[], q)).await.1.is_some());

    let (old, _) = f.cache.lookup(ask("globex", &fp, &[], q)).await;
    let (probe, _) = f.cache.lookup(ask("globex", "v2", &[], q)).await;
    f.cache.insert(&probe, &done, "rule").await;
    let left = f.store.get(old.bucket(), 0).await.expect("reads");
    assert!(left.is_empty(), "entries of the old schema are gone");
    assert!(
        f.cache
            .lookup(ask("globex", "v2", &[], q))
            .await
            .1
            .is_some()
    );
}

#[tokio::test]
async fn the_least_recently_used_entries_go_first() {
    let store = MemoryCacheStore::new(3, Duration::from_secs(3600));
    let entry = |id: &str| CacheEntry {
        id: id.into(),
        question: id.into(),
        slots: String::new(),
        embedder: "e".into(),
        embedding: vec![1.0],
        sql: "SELECT 1".into(),
        statement: "SELECT 1".into(),
        explanation: String::new(),
        generator: "g".into(),
        state: None,
        inserted_at: 0,
    };
    let bucket = |n: &str| BucketKey {
        tenant_id: "t".into(),
        schema: "s".into(),
        conversation: "new".into(),
        slots: n.into(),
    };
    for n in ["a", "b", "c"] {
        store.put(&bucket(n), entry(n)).await.expect("put");
    }
    store.len().await;
    assert_eq!(store.get(&bucket("a"), 0).await.expect("get").len(), 1);
    store.len().await;
    store.put(&bucket("d"), entry("d")).await.expect("put");
    assert_eq!(store.len().await, 3, "max_size entries");
    assert!(
        store.get(&bucket("b"), 0).await.expect("get").is_empty(),
        "b was least recently used"
    );
    assert_eq!(store.get(&bucket("a"), 0).await.expect("get").len(), 1);
    assert_eq!(store.get(&bucket("d"), 0).await.expect("get").len(), 1);
}

#[derive(Debug)]
struct Unreachable;

#[async_trait]
impl Embedder for Unreachable {
    fn name(&self) -> String {
        "provider".into()
    }
    async fn embed(&self, _texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Err(Error::ServiceUnavailable {
            service: "embeddings".into(),
            message: "connection refused".into(),
        })
    }
}

#[tokio::test]
async fn an_embedder_that_fails_is_a_miss_not_an_error() {
    let f = fixture().await;
    let metrics = CacheMetrics::default();
    let cache = SemanticCache::new(
        Arc::new(f.store.clone()),
        Arc::new(Unreachable),
        Vocabulary::empty(),
        &CacheConfig::default(),
    )
    .with_metrics(metrics.clone());
    let (probe, hit) = cache.lookup(ask("t", "s", &[], "How many tracks?")).await;
    assert!(hit.is_none());
    cache
        .insert(
            &probe,
            &answered(&f.source, "SELECT count(*) FROM Track").await,
            "rule",
        )
        .await;
    assert!(
        f.store.is_empty().await,
        "nothing stored without an embedding"
    );
    assert_eq!(metrics.errors.get(), 1);
}

/// The slot guard's vocabulary of `url` under `config`, as `from_config` builds it.
async fn vocabulary(config: &Config, url: &str) -> Vocabulary {
    let source = DataSource::connect(config, Some(url))
        .await
        .expect("connects");
    let cache = from_config(config, &source, None, CacheParts::default())
        .await
        .expect("builds")
        .expect("enabled");
    cache.inner.vocabulary.clone()
}

#[tokio::test]
async fn the_slot_guard_knows_nothing_the_policy_hides() {
    use crate::testdb;

    let dir = tempfile::tempdir().expect("tempdir");
    let (url, twin_url) = testdb::chinook_twins(dir.path()).await;
    let config = testdb::restricted_config();
    let (real, twin) = (
        vocabulary(&config, &url).await,
        vocabulary(&config, &twin_url).await,
    );
    let open = vocabulary(&Config::default(), &url).await;
    let questions = [
        "How many IT Staff employees are there?",
        "employees with title General Manager",
        "customers with email luisg@embraer.com.br",
        "tracks in the playlist Grunge",
        "revenue per invoice in 2023",
        "customers in Germany",
    ];
    for q in questions {
        assert_eq!(
            slots::extract(q, &real).signature(),
            slots::extract(q, &twin).signature(),
            "the slots of {q:?} depend on hidden data"
        );
    }
    // Hidden values are words, and hidden tables are no entities; visible ones are.
    let title = slots::extract("employees with title General Manager", &real);
    assert!(title.get(SlotKind::Value).is_empty(), "{title:?}");
    assert!(
        !slots::extract("employees with title General Manager", &open)
            .get(SlotKind::Value)
            .is_empty(),
        "without a policy the title is a value"
    );
    let invoice = slots::extract("revenue per invoice in 2023", &real);
    assert!(
        !invoice
            .get(SlotKind::Entity)
            .iter()
            .any(|e| e.contains("invoice")),
        "{invoice:?}"
    );
    assert!(
        slots::extract("revenue per invoice in 2023", &open)
            .get(SlotKind::Entity)
            .iter()
            .any(|e| e.contains("invoice"))
    );
    let germany = slots::extract("customers in Germany", &real);
    assert!(!germany.get(SlotKind::Value).is_empty(), "{germany:?}");
}

#[tokio::test]
async fn the_models_synonyms_share_an_entry_and_other_items_never_do() {
    let source = demo().await;
    let semantic = source.semantic().cloned();
    assert!(semantic.is_some(), "the demo has its model");
    let vocabulary = Vocabulary::from_catalog(source.catalog()).with_semantic(semantic);
    // Synonyms read as their item's name; other words stay as written.
    assert_eq!(
        vocabulary.fold("Sales by country, please!"),
        "revenue by billing country, please!"
    );
    assert_eq!(vocabulary.fold("'sales' by planet"), "'sales' by planet");
    assert_eq!(
        slots::extract(&vocabulary.fold("sales by country"), &vocabulary).signature(),
        slots::extract(&vocabulary.fold("revenue by country"), &vocabulary).signature()
    );
    assert_ne!(
        slots::extract(&vocabulary.fold("revenue by country"), &vocabulary).signature(),
        slots::extract(&vocabulary.fold("revenue by city"), &vocabulary).signature()
    );
    let store = MemoryCacheStore::new(100, Duration::from_secs(3600));
    let cache = SemanticCache::new(
        Arc::new(store),
        Arc::new(BuiltinEmbedder::new()),
        vocabulary,
        &CacheConfig::default(),
    )
    .with_clock(Arc::new(ManualClock::at(1_700_000_000_000_000)));
    let fp = source.catalog().fingerprint.clone();
    let (probe, hit) = cache
        .lookup(ask("acme", &fp, &[], "revenue by country"))
        .await;
    assert!(hit.is_none());
    let sql = "SELECT BillingCountry, SUM(Total) AS revenue FROM Invoice GROUP BY BillingCountry";
    cache
        .insert(&probe, &answered(&source, sql).await, "rule")
        .await;
    let (_, hit) = cache
        .lookup(ask("acme", &fp, &[], "sales by country"))
        .await;
    let hit = hit.expect("a synonym of the same measure hits");
    assert!(hit.similarity > 0.99, "{}", hit.similarity);
    let (_, hit) = cache
        .lookup(ask("acme", &fp, &[], "turnover by market"))
        .await;
    assert!(hit.is_some(), "synonyms of both items hit");
    for other in [
        "revenue by city",
        "sales by city",
        "number of invoices by country",
        "line revenue by country",
    ] {
        let (_, hit) = cache.lookup(ask("acme", &fp, &[], other)).await;
        assert!(hit.is_none(), "{other} must not share the entry");
    }
}
