//! The semantic cache: an earlier answer's SQL for a question that means the same thing.
//!
//! A hit skips generation, not execution: the cached SQL (validated when it was stored) is
//! validated again under today's policy and row cap and run again, so results are always
//! fresh. Entries
//! live in a [`CacheStore`] (in memory, or in Redis shared by every instance) under a
//! [`BucketKey`]:
//!
//! - the tenant (tenants never share answers),
//! - the schema fingerprint (a schema change makes every older entry unreachable, and the store
//!   deletes the tenant's older entries on its next write),
//! - the conversation state, a hash of the SQL of the turns the question follows ("only 2024"
//!   means something else in every conversation),
//! - the question's [`Slots`]: the facts that must match exactly (see `slots`),
//! - for a question relative to today ("last month"), the day it was asked (see [`period`]).
//!
//! Within a bucket, the entry with the highest cosine similarity at or above
//! `[cache] similarity_threshold` answers. Entries expire after `ttl_seconds`; at most
//! `max_size` are kept, the least recently used going first. A store or embedder that fails
//! counts as a miss (`cache_errors_total`), never as an error of the question.

mod memory;
#[cfg(feature = "redis")]
mod redis;
pub(crate) mod slots;

use std::{sync::Arc, time::Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use memory::MemoryCacheStore;
#[cfg(feature = "redis")]
pub use redis::RedisCacheStore;
pub use slots::{SlotKind, Slots, Vocabulary};

use crate::{
    access::View,
    answer::Attempt,
    clock::{Clock, SystemClock},
    config::{CacheConfig, Config, EmbedderKind, StoreKind},
    embed::{BuiltinEmbedder, Embedder, cosine},
    error::{Error, Result},
    generate::{Generation, correct::Corrected},
    metrics::CacheMetrics,
    session::Turn,
    source::DataSource,
    store::RedisConnection,
    values::ValueIndex,
};

/// Parts of the cache that replace those of the configuration.
#[derive(Debug, Default)]
pub struct CacheParts {
    /// The store (default: `[cache] store`).
    pub store: Option<Arc<dyn CacheStore>>,
    /// The embedder (default: `[cache] embedder`).
    pub embedder: Option<Arc<dyn Embedder>>,
    /// The clock of TTLs (default: the system clock).
    pub clock: Option<Arc<dyn Clock>>,
    /// Counters.
    pub metrics: CacheMetrics,
}

/// The semantic cache `[cache]` asks for over `source`, or `None` when it is disabled. Its
/// vocabulary is the source's visible catalog and its known values (the source's shared value
/// index).
pub async fn from_config(
    config: &Config,
    source: &DataSource,
    redis: Option<&RedisConnection>,
    parts: CacheParts,
) -> Result<Option<SemanticCache>> {
    let c = &config.cache;
    if !c.enabled {
        return Ok(None);
    }
    let store: Arc<dyn CacheStore> = match (parts.store, config.cache_store()) {
        (Some(store), _) => store,
        (None, StoreKind::Memory) => Arc::new(MemoryCacheStore::new(
            c.max_size,
            std::time::Duration::from_secs(c.ttl_seconds),
        )),
        (None, StoreKind::Redis) => {
            let redis = crate::store::redis_for("[cache] store = \"redis\"", redis)?;
            #[cfg(not(feature = "redis"))]
            match *redis {}
            #[cfg(feature = "redis")]
            {
                Arc::new(RedisCacheStore::new(
                    redis.clone(),
                    c.max_size,
                    c.ttl_seconds.saturating_mul(1000),
                ))
            }
        }
    };
    let embedder: Arc<dyn Embedder> = match (parts.embedder, c.embedder) {
        (Some(e), _) => e,
        (None, EmbedderKind::Builtin) => Arc::new(BuiltinEmbedder::new()),
        (None, EmbedderKind::Provider) => crate::llm::embedder_from_config(&config.llm)?,
    };
    // The vocabulary is that of the visible catalog and its values (the source's shared value
    // index): a restricted name or value is an ordinary word to the slot guard, so whether a
    // question hits cannot depend on it.
    let values = source.value_index().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the semantic cache knows no database values; value slots are compared as words");
        Arc::new(ValueIndex::empty())
    });
    let vocabulary = Vocabulary::from_catalog(source.visible_catalog())
        .with_values(values)
        .with_semantic(source.semantic().cloned());
    let mut cache = SemanticCache::new(store, embedder, vocabulary, c);
    if let Some(clock) = parts.clock {
        cache = cache.with_clock(clock);
    }
    cache = cache.with_metrics(parts.metrics);
    Ok(Some(cache))
}

/// An answer served from the cache.
#[derive(Debug, Clone)]
pub struct Served {
    /// The cached SQL, validated and run again now.
    pub answer: Corrected,
    /// Similarity of the question to the cached one.
    pub similarity: f64,
    /// The generator that wrote the SQL originally.
    pub generator: String,
}

/// Questions with the same slots and the same scope share a bucket; only they are compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketKey {
    /// The tenant.
    pub tenant_id: String,
    /// The schema fingerprint.
    pub schema: String,
    /// [`conversation_key`] of the turns the question follows.
    pub conversation: String,
    /// A hash of the question's [`Slots::signature`] (and, for questions relative to today,
    /// of the [`period`] they were asked in).
    pub slots: String,
}

impl BucketKey {
    /// The bucket of a question with `slots`, asked by `tenant_id` on schema `schema` after
    /// `history`, at `now_micros`.
    pub fn new(
        tenant_id: &str,
        schema: &str,
        history: &[Turn],
        slots: &Slots,
        now_micros: u64,
    ) -> Self {
        let signature = slots.signature();
        let slots = match period(slots, now_micros) {
            Some(p) => hash_hex(&[&signature, &p], 32),
            None => hash_hex(&[&signature], 32),
        };
        Self {
            tenant_id: tenant_id.to_string(),
            schema: schema.to_string(),
            conversation: conversation_key(history),
            slots,
        }
    }
}

/// The period a question relative to today ("last month", "today", "past 3 hours") is pinned
/// to: its UTC day, or its UTC hour for hours. Its SQL may hold the dates it meant as literals,
/// so it answers the same question again only within that period. `None` for other questions.
pub fn period(slots: &Slots, now_micros: u64) -> Option<String> {
    let relative = slots.get(SlotKind::Relative);
    let compared = slots
        .get(SlotKind::Comparison)
        .iter()
        .chain(slots.get(SlotKind::Range))
        .chain(slots.get(SlotKind::Filter))
        .any(|c| c.contains(":relative:"));
    if relative.is_empty() && !compared {
        return None;
    }
    let hourly = relative
        .iter()
        .chain(slots.get(SlotKind::Comparison))
        .any(|r| r.contains("hour"));
    let at = chrono::DateTime::from_timestamp_micros(i64::try_from(now_micros).unwrap_or(0))
        .unwrap_or_default();
    Some(if hourly {
        at.format("%Y-%m-%dT%H").to_string()
    } else {
        at.format("%Y-%m-%d").to_string()
    })
}

/// The conversation state a question is asked in: `new` for the first question of a
/// conversation, otherwise a hash of the SQL of the earlier turns, oldest first.
pub fn conversation_key(history: &[Turn]) -> String {
    if history.is_empty() {
        return "new".into();
    }
    let sql: Vec<&str> = history.iter().map(|t| t.sql.as_str()).collect();
    hash_hex(&sql, 32)
}

/// The first `len` hex digits of the SHA-256 of `parts` (each part length-prefixed, so that
/// `["ab", "c"]` and `["a", "bc"]` differ).
fn hash_hex(parts: &[&str], len: usize) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(len);
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
        if out.len() >= len {
            break;
        }
    }
    out.truncate(len);
    out
}

/// One cached answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// Identifies the question within its bucket (a hash of its normalized text).
    pub id: String,
    /// The question as asked.
    pub question: String,
    /// The question's [`Slots::signature`], checked again on every hit.
    pub slots: String,
    /// The embedder that made `embedding`.
    pub embedder: String,
    /// The question's embedding.
    #[serde(skip)]
    pub embedding: Vec<f32>,
    /// The validated SQL that answered it, as the answer showed it.
    pub sql: String,
    /// The statement the generator wrote, which passed the validator. A hit validates it
    /// again, so that today's policy and row cap apply (and a cut result is still reported as
    /// truncated).
    pub statement: String,
    /// What the SQL does.
    pub explanation: String,
    /// The generator that wrote the SQL.
    pub generator: String,
    /// The generator's structured form of the query, saved with the turn of a hit.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state: Option<serde_json::Value>,
    /// When it was stored, in microseconds since the Unix epoch.
    pub inserted_at: u64,
}

const ENTRY_MAGIC: &[u8; 4] = b"CBC1";

impl CacheEntry {
    /// The entry as bytes: a tag, the length of the JSON part, the JSON part, then the
    /// embedding as little-endian `f32`s.
    pub fn encode(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let mut out = Vec::with_capacity(8 + json.len() + 4 * self.embedding.len());
        out.extend_from_slice(ENTRY_MAGIC);
        out.extend_from_slice(&u32::try_from(json.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&json);
        for x in &self.embedding {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out
    }

    /// Reads bytes written by [`CacheEntry::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let bad = || Error::internal("a semantic cache entry is malformed");
        if bytes.len() < 8 || &bytes[..4] != ENTRY_MAGIC {
            return Err(bad());
        }
        let len = u32::from_le_bytes(bytes[4..8].try_into().map_err(|_| bad())?) as usize;
        let json = bytes.get(8..8 + len).ok_or_else(bad)?;
        let mut entry: Self = serde_json::from_slice(json).map_err(|_| bad())?;
        let rest = &bytes[8 + len..];
        if !rest.len().is_multiple_of(4) {
            return Err(bad());
        }
        entry.embedding = rest
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(entry)
    }
}

/// Where cached answers live.
#[async_trait]
pub trait CacheStore: Send + Sync + std::fmt::Debug {
    /// A short name for logs (`memory`, `redis`).
    fn name(&self) -> &'static str;

    /// The entries of `bucket`, marking them used at `now_micros`.
    async fn get(&self, bucket: &BucketKey, now_micros: u64) -> Result<Vec<CacheEntry>>;

    /// Stores `entry` in `bucket`, replacing an entry with the same id. Writing under a new
    /// schema fingerprint deletes the tenant's entries of other fingerprints.
    async fn put(&self, bucket: &BucketKey, entry: CacheEntry) -> Result<()>;

    /// Deletes one entry.
    async fn remove(&self, bucket: &BucketKey, id: &str) -> Result<()>;

    /// Deletes every entry of a tenant.
    async fn invalidate_tenant(&self, tenant_id: &str) -> Result<()>;
}

/// At most this many questions share one bucket; the oldest goes first.
pub const MAX_ENTRIES_PER_BUCKET: usize = 16;

/// A question as the cache sees it.
#[derive(Debug, Clone, Copy)]
pub struct CacheLookup<'a> {
    /// The tenant asking.
    pub tenant_id: &'a str,
    /// The schema fingerprint of the data source.
    pub schema: &'a str,
    /// The turns the question follows.
    pub history: &'a [Turn],
    /// The question, after the input guard.
    pub question: &'a str,
}

/// What a lookup learned about a question, to store its answer after a miss.
#[derive(Debug, Clone)]
pub struct Probe {
    bucket: BucketKey,
    question: String,
    slots: Slots,
    embedding: Option<Vec<f32>>,
}

impl Probe {
    /// The bucket the question belongs to.
    pub fn bucket(&self) -> &BucketKey {
        &self.bucket
    }

    /// The question's slots.
    pub fn slots(&self) -> &Slots {
        &self.slots
    }
}

/// A cached answer that may answer a question.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheHit {
    /// The entry.
    pub entry: CacheEntry,
    /// Cosine similarity of the two questions.
    pub similarity: f64,
}

/// The semantic cache stage. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SemanticCache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn CacheStore>,
    embedder: Arc<dyn Embedder>,
    vocabulary: Vocabulary,
    threshold: f64,
    ttl_micros: u64,
    clock: Arc<dyn Clock>,
    metrics: CacheMetrics,
}

impl SemanticCache {
    /// A cache over `store`, comparing questions with `embedder` and guarding slots with
    /// `vocabulary`, with the threshold and TTL of `config`.
    pub fn new(
        store: Arc<dyn CacheStore>,
        embedder: Arc<dyn Embedder>,
        vocabulary: Vocabulary,
        config: &CacheConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                embedder,
                vocabulary,
                threshold: config.similarity_threshold,
                ttl_micros: config.ttl_seconds.saturating_mul(1_000_000),
                clock: Arc::new(SystemClock),
                metrics: CacheMetrics::default(),
            }),
        }
    }

    /// The same cache reading time from `clock` (for tests).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        self.rebuild(|i| i.clock = clock)
    }

    /// The same cache counting into `metrics`.
    pub fn with_metrics(self, metrics: CacheMetrics) -> Self {
        self.rebuild(|i| i.metrics = metrics)
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> Self {
        let i = &self.inner;
        let mut inner = Inner {
            store: i.store.clone(),
            embedder: i.embedder.clone(),
            vocabulary: i.vocabulary.clone(),
            threshold: i.threshold,
            ttl_micros: i.ttl_micros,
            clock: i.clock.clone(),
            metrics: i.metrics.clone(),
        };
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn CacheStore> {
        &self.inner.store
    }

    /// The slots of a question under this cache's vocabulary.
    pub fn slots(&self, question: &str) -> Slots {
        let vocabulary = &self.inner.vocabulary;
        slots::extract(&vocabulary.fold(question), vocabulary)
    }

    /// Looks for an earlier answer to `lookup.question`. Never fails: an unavailable store or
    /// embedder is a miss.
    pub async fn lookup(&self, lookup: CacheLookup<'_>) -> (Probe, Option<CacheHit>) {
        let inner = &self.inner;
        inner.metrics.requests.inc();
        let slots = self.slots(lookup.question);
        let now = inner.clock.now_micros();
        let bucket = BucketKey::new(lookup.tenant_id, lookup.schema, lookup.history, &slots, now);
        // The model's synonyms are the same words as their item's name, for the embedding as
        // for the slots.
        let folded = inner.vocabulary.fold(lookup.question).into_owned();
        let embedding = match inner.embedder.embed(&[folded]).await {
            Ok(mut v) if v.len() == 1 => v.pop(),
            Ok(_) => None,
            Err(e) => {
                self.failed("embed", &e);
                None
            }
        };
        let mut probe = Probe {
            bucket,
            question: lookup.question.to_string(),
            slots,
            embedding,
        };
        let Some(embedding) = &probe.embedding else {
            return (probe, None);
        };
        let candidates = match inner.store.get(&probe.bucket, now).await {
            Ok(c) => c,
            Err(e) => {
                self.failed("lookup", &e);
                // The store is down: do not try to write either.
                probe.embedding = None;
                return (probe, None);
            }
        };
        let signature = probe.slots.signature();
        let embedder = inner.embedder.name();
        let best = candidates
            .into_iter()
            .filter(|e| {
                e.slots == signature
                    && e.embedder == embedder
                    && e.inserted_at.saturating_add(inner.ttl_micros) > now
            })
            .map(|e| {
                let similarity = f64::from(cosine(embedding, &e.embedding));
                (e, similarity)
            })
            .filter(|(_, s)| *s >= inner.threshold)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let hit = best.map(|(entry, similarity)| CacheHit {
            entry,
            similarity: (similarity * 10_000.0).round() / 10_000.0,
        });
        (probe, hit)
    }

    /// The cache stage: looks the question up and, on a hit, runs the cached SQL again. On a
    /// miss, keep the probe to [`SemanticCache::insert`] the answer.
    pub async fn serve(&self, lookup: CacheLookup<'_>, source: &View) -> (Probe, Option<Served>) {
        let (probe, hit) = self.lookup(lookup).await;
        let Some(hit) = hit else {
            return (probe, None);
        };
        // Under data permissions a hit is served only when the asker's own view knows every
        // value the question names: a value that exists only in rows the asker may not see
        // must not turn into an answer because someone who sees it asked first.
        if !source.policy_key().is_empty() {
            let known = match source.value_index().await {
                Ok(index) => probe.slots().values().all(|v| !index.lookup(v).is_empty()),
                Err(_) => false,
            };
            if !known {
                return (probe, None);
            }
        }
        let served = self
            .replay(&probe, &hit, source)
            .await
            .map(|answer| Served {
                answer,
                similarity: hit.similarity,
                generator: hit.entry.generator.clone(),
            });
        (probe, served)
    }

    /// Validates and runs a hit's SQL again. A statement the validator or the database now
    /// refuses is deleted from the cache and `None` is returned (the question is then
    /// generated as on a miss).
    pub async fn replay(&self, probe: &Probe, hit: &CacheHit, source: &View) -> Option<Corrected> {
        let started = Instant::now();
        let validated = source.validate(&hit.entry.statement);
        let validate_ms = ms(started);
        let started = Instant::now();
        let outcome = match validated {
            Ok(v) => source.execute(&v).await.map(|r| (v, r)),
            Err(e) => Err(e),
        };
        let execute_ms = ms(started);
        match outcome {
            Ok((validated, result)) => {
                self.inner.metrics.hits.inc();
                Some(Corrected {
                    generation: Generation {
                        sql: hit.entry.statement.clone(),
                        explanation: hit.entry.explanation.clone(),
                        state: hit.entry.state.clone(),
                        degraded: None,
                        clarification: None,
                    },
                    validated,
                    attempts: vec![Attempt {
                        sql: hit.entry.statement.clone(),
                        error: None,
                    }],
                    result,
                    generate_ms: 0.0,
                    validate_ms,
                    execute_ms,
                })
            }
            Err(e) => {
                tracing::info!(
                    code = e.kind().code(),
                    "a cached statement no longer runs; generating instead"
                );
                if matches!(e, Error::SqlRejected { .. } | Error::Execution { .. })
                    && let Err(e) = self.inner.store.remove(&probe.bucket, &hit.entry.id).await
                {
                    self.failed("remove", &e);
                }
                None
            }
        }
    }

    /// Stores the answer to a probed question. Failures are counted and logged, never
    /// returned.
    pub async fn insert(&self, probe: &Probe, answer: &Corrected, generator: &str) {
        let Some(embedding) = &probe.embedding else {
            return;
        };
        let entry = CacheEntry {
            id: hash_hex(&[&normalize_question(&probe.question)], 16),
            question: probe.question.clone(),
            slots: probe.slots.signature(),
            embedder: self.inner.embedder.name(),
            embedding: embedding.clone(),
            sql: answer.validated.sql.clone(),
            statement: answer.generation.sql.clone(),
            explanation: answer.generation.explanation.clone(),
            generator: generator.to_string(),
            state: answer.generation.state.clone(),
            inserted_at: self.inner.clock.now_micros(),
        };
        if let Err(e) = self.inner.store.put(&probe.bucket, entry).await {
            self.failed("insert", &e);
        }
    }

    /// Deletes every cached answer of a tenant.
    pub async fn invalidate_tenant(&self, tenant_id: &str) -> Result<()> {
        self.inner.store.invalidate_tenant(tenant_id).await
    }

    fn failed(&self, what: &str, e: &Error) {
        self.inner.metrics.errors.inc();
        tracing::warn!(
            store = self.inner.store.name(),
            operation = what,
            error = %e,
            "semantic cache unavailable; the question is answered without it"
        );
    }
}

/// Lower case, single spaces: two spellings of one question share an entry id.
fn normalize_question(q: &str) -> String {
    q.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests;
