//! The in-process cache store (moka): least-recently-used eviction over `max_size` entries,
//! buckets expiring `ttl` after their last write.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use moka::{future::Cache, ops::compute::Op, policy::EvictionPolicy};

use super::{BucketKey, CacheEntry, CacheStore, MAX_ENTRIES_PER_BUCKET};
use crate::error::{Error, Result};

/// Cached answers in this process's memory.
#[derive(Clone)]
pub struct MemoryCacheStore {
    buckets: Cache<BucketKey, Arc<Vec<CacheEntry>>>,
    /// The last schema fingerprint each tenant wrote under.
    schemas: Arc<Mutex<HashMap<String, String>>>,
}

impl std::fmt::Debug for MemoryCacheStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCacheStore")
            .field("entries", &self.buckets.weighted_size())
            .field("max_size", &self.buckets.policy().max_capacity())
            .finish()
    }
}

impl MemoryCacheStore {
    /// A store of at most `max_size` entries, each bucket dropped `ttl` after its last write.
    pub fn new(max_size: u64, ttl: Duration) -> Self {
        let buckets = Cache::builder()
            .max_capacity(max_size.max(1))
            .weigher(|_k: &BucketKey, v: &Arc<Vec<CacheEntry>>| {
                u32::try_from(v.len()).unwrap_or(u32::MAX).max(1)
            })
            .eviction_policy(EvictionPolicy::lru())
            .time_to_live(ttl.max(Duration::from_secs(1)))
            .support_invalidation_closures()
            .build();
        Self {
            buckets,
            schemas: Arc::default(),
        }
    }

    /// Entries held, after pending evictions.
    pub async fn len(&self) -> u64 {
        self.buckets.run_pending_tasks().await;
        self.buckets.weighted_size()
    }

    /// Whether no entry is held.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    fn invalidate_where(
        &self,
        predicate: impl Fn(&BucketKey) -> bool + Send + Sync + 'static,
    ) -> Result<()> {
        self.buckets
            .invalidate_entries_if(move |k, _| predicate(k))
            .map(|_| ())
            .map_err(|e| Error::internal(format!("cache invalidation: {e}")))
    }
}

#[async_trait]
impl CacheStore for MemoryCacheStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, bucket: &BucketKey, _now_micros: u64) -> Result<Vec<CacheEntry>> {
        Ok(self
            .buckets
            .get(bucket)
            .await
            .map(|b| b.as_ref().clone())
            .unwrap_or_default())
    }

    async fn put(&self, bucket: &BucketKey, entry: CacheEntry) -> Result<()> {
        let changed = {
            let mut schemas = self
                .schemas
                .lock()
                .map_err(|_| Error::internal("cache schema map poisoned"))?;
            let previous = schemas.insert(bucket.tenant_id.clone(), bucket.schema.clone());
            previous.is_some_and(|p| p != bucket.schema)
        };
        if changed {
            let (tenant, schema) = (bucket.tenant_id.clone(), bucket.schema.clone());
            self.invalidate_where(move |k| k.tenant_id == tenant && k.schema != schema)?;
        }
        self.buckets
            .entry(bucket.clone())
            .and_upsert_with(|old| {
                let mut entries: Vec<CacheEntry> = old
                    .map(|e| e.into_value().as_ref().clone())
                    .unwrap_or_default();
                entries.retain(|e| e.id != entry.id);
                entries.push(entry);
                if entries.len() > MAX_ENTRIES_PER_BUCKET {
                    entries.sort_by_key(|e| e.inserted_at);
                    let excess = entries.len() - MAX_ENTRIES_PER_BUCKET;
                    entries.drain(..excess);
                }
                std::future::ready(Arc::new(entries))
            })
            .await;
        // Apply the LRU bound now rather than at moka's next housekeeping.
        self.buckets.run_pending_tasks().await;
        Ok(())
    }

    async fn remove(&self, bucket: &BucketKey, id: &str) -> Result<()> {
        self.buckets
            .entry(bucket.clone())
            .and_compute_with(|old| {
                let op = match old {
                    None => Op::Nop,
                    Some(e) => {
                        let mut entries = e.into_value().as_ref().clone();
                        entries.retain(|e| e.id != id);
                        if entries.is_empty() {
                            Op::Remove
                        } else {
                            Op::Put(Arc::new(entries))
                        }
                    }
                };
                std::future::ready(op)
            })
            .await;
        Ok(())
    }

    async fn invalidate_tenant(&self, tenant_id: &str) -> Result<()> {
        let tenant = tenant_id.to_string();
        self.invalidate_where(move |k| k.tenant_id == tenant)
    }
}
