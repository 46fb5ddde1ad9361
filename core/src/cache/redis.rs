//! The Redis cache store, shared by every instance.
//!
//! Keys (`P` is `[redis] key_prefix`):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `P:cache:<tenant>:<schema>:<conversation>:<slots>` | set | the entry ids of one bucket |
//! | `P:cache:<tenant>:<schema>:<conversation>:<slots>:<id>` | string | one entry ([`CacheEntry::encode`]), expiring after `ttl` |
//! | `P:cache:lru` | sorted set | every entry key, scored by its last use (ms) |
//! | `P:cache:schema:<tenant>` | string | the schema fingerprint the tenant last wrote under |
//!
//! Lookups and writes are one Lua script each, so a lookup costs one round trip. A write
//! trims the LRU set to `max_size` (deleting the least recently used entries) and drops
//! members whose last use is older than `ttl`; it returns whether the tenant's schema
//! fingerprint changed, in which case the tenant's entries of older fingerprints are deleted.
//! The scripts touch keys they compute themselves, so the store needs a single Redis (a
//! primary with replicas or Sentinel), not Redis Cluster.

use std::sync::LazyLock;

use async_trait::async_trait;
use redis::Script;

use super::{BucketKey, CacheEntry, CacheStore, MAX_ENTRIES_PER_BUCKET};
use crate::{error::Result, store::RedisConnection};

static LOOKUP: LazyLock<Script> = LazyLock::new(|| Script::new(LOOKUP_LUA));
const LOOKUP_LUA: &str = r"
local ids = redis.call('SMEMBERS', KEYS[1])
local out = {}
if #ids == 0 then return out end
local keys = {}
for i, id in ipairs(ids) do keys[i] = KEYS[1] .. ':' .. id end
local vals = redis.call('MGET', unpack(keys))
for i, v in ipairs(vals) do
  if v then
    out[#out + 1] = v
    redis.call('ZADD', KEYS[2], 'XX', ARGV[1], keys[i])
  else
    redis.call('SREM', KEYS[1], ids[i])
  end
end
return out
";

static INSERT: LazyLock<Script> = LazyLock::new(|| Script::new(INSERT_LUA));
const INSERT_LUA: &str = r"
local bucket, lru, schema_key = KEYS[1], KEYS[2], KEYS[3]
local id, value, ttl, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local max_size, schema, per_bucket = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local function drop(key)
  redis.call('UNLINK', key)
  redis.call('ZREM', lru, key)
  local b, i = string.match(key, '^(.*):([^:]*)$')
  if b then redis.call('SREM', b, i) end
end
local entry = bucket .. ':' .. id
redis.call('SET', entry, value, 'PX', ttl)
redis.call('SADD', bucket, id)
redis.call('PEXPIRE', bucket, ttl)
redis.call('ZADD', lru, now, entry)
if redis.call('SCARD', bucket) > per_bucket then
  local oldest, oldest_score = nil, nil
  for _, other in ipairs(redis.call('SMEMBERS', bucket)) do
    local k = bucket .. ':' .. other
    local s = tonumber(redis.call('ZSCORE', lru, k) or '0')
    if k ~= entry and (oldest_score == nil or s < oldest_score) then oldest, oldest_score = k, s end
  end
  if oldest then drop(oldest) end
end
for _, k in ipairs(redis.call('ZRANGEBYSCORE', lru, '-inf', '(' .. (now - ttl), 'LIMIT', 0, 256)) do
  drop(k)
end
local excess = redis.call('ZCARD', lru) - max_size
if excess > 0 then
  local popped = redis.call('ZPOPMIN', lru, excess)
  for i = 1, #popped, 2 do drop(popped[i]) end
end
local previous = redis.call('GET', schema_key)
redis.call('SET', schema_key, schema)
if previous and previous ~= schema then return 1 end
return 0
";

static REMOVE: LazyLock<Script> = LazyLock::new(|| Script::new(REMOVE_LUA));
const REMOVE_LUA: &str = r"
redis.call('UNLINK', KEYS[1] .. ':' .. ARGV[1])
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], KEYS[1] .. ':' .. ARGV[1])
return 1
";

/// Cached answers in Redis.
#[derive(Debug, Clone)]
pub struct RedisCacheStore {
    redis: RedisConnection,
    max_size: u64,
    ttl_ms: u64,
}

impl RedisCacheStore {
    /// A store on `redis` of at most `max_size` entries living `ttl_ms` each.
    pub fn new(redis: RedisConnection, max_size: u64, ttl_ms: u64) -> Self {
        Self {
            redis,
            max_size: max_size.max(1),
            ttl_ms: ttl_ms.max(1000),
        }
    }

    fn bucket_key(&self, b: &BucketKey) -> String {
        self.redis
            .key(&["cache", &b.tenant_id, &b.schema, &b.conversation, &b.slots])
    }

    fn lru_key(&self) -> String {
        self.redis.key(&["cache", "lru"])
    }

    fn schema_key(&self, tenant_id: &str) -> String {
        self.redis.key(&["cache", "schema", tenant_id])
    }

    /// Deletes a tenant's bucket and entry keys, all of them or those of other schemas.
    async fn purge(&self, tenant_id: &str, keep_schema: Option<&str>) -> Result<()> {
        let pattern = format!("{}:*", self.redis.key(&["cache", tenant_id]));
        let keep = keep_schema.map(|s| format!("{}:", self.redis.key(&["cache", tenant_id, s])));
        let keys: Vec<String> = self
            .redis
            .run("cache purge", true, |mut c| {
                let pattern = pattern.clone();
                async move {
                    let mut iter = redis::cmd("SCAN")
                        .cursor_arg(0)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .clone()
                        .iter_async::<String>(&mut c)
                        .await?;
                    let mut keys = Vec::new();
                    while let Some(k) = iter.next_item().await {
                        keys.push(k?);
                    }
                    Ok(keys)
                }
            })
            .await?;
        let doomed: Vec<String> = keys
            .into_iter()
            .filter(|k| keep.as_ref().is_none_or(|keep| !k.starts_with(keep)))
            .collect();
        let lru = self.lru_key();
        for chunk in doomed.chunks(500) {
            let chunk = chunk.to_vec();
            self.redis
                .run("cache purge", true, |mut c| {
                    let (chunk, lru) = (chunk.clone(), lru.clone());
                    async move {
                        redis::pipe()
                            .cmd("UNLINK")
                            .arg(&chunk)
                            .ignore()
                            .cmd("ZREM")
                            .arg(&lru)
                            .arg(&chunk)
                            .ignore()
                            .exec_async(&mut c)
                            .await
                    }
                })
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl CacheStore for RedisCacheStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, bucket: &BucketKey, now_micros: u64) -> Result<Vec<CacheEntry>> {
        let (key, lru) = (self.bucket_key(bucket), self.lru_key());
        let now_ms = now_micros / 1000;
        let values: Vec<Vec<u8>> = self
            .redis
            .run("cache lookup", true, |mut c| {
                let (key, lru) = (key.clone(), lru.clone());
                async move {
                    LOOKUP
                        .key(key)
                        .key(lru)
                        .arg(now_ms)
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await?;
        Ok(values
            .iter()
            .filter_map(|v| CacheEntry::decode(v).ok())
            .collect())
    }

    async fn put(&self, bucket: &BucketKey, entry: CacheEntry) -> Result<()> {
        let keys = [
            self.bucket_key(bucket),
            self.lru_key(),
            self.schema_key(&bucket.tenant_id),
        ];
        let id = entry.id.clone();
        let value = entry.encode();
        let now_ms = entry.inserted_at / 1000;
        let (max_size, ttl_ms, schema) = (self.max_size, self.ttl_ms, bucket.schema.clone());
        let changed: i64 = self
            .redis
            .run("cache insert", true, |mut c| {
                let (keys, id, value, schema) =
                    (keys.clone(), id.clone(), value.clone(), schema.clone());
                async move {
                    INSERT
                        .key(&keys[0])
                        .key(&keys[1])
                        .key(&keys[2])
                        .arg(id)
                        .arg(value)
                        .arg(ttl_ms)
                        .arg(now_ms)
                        .arg(max_size)
                        .arg(schema)
                        .arg(MAX_ENTRIES_PER_BUCKET)
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await?;
        if changed == 1 {
            tracing::info!(tenant_id = %bucket.tenant_id, "schema changed: dropping the tenant's older cached answers");
            self.purge(&bucket.tenant_id, Some(&bucket.schema)).await?;
        }
        Ok(())
    }

    async fn remove(&self, bucket: &BucketKey, id: &str) -> Result<()> {
        let (key, lru, id) = (self.bucket_key(bucket), self.lru_key(), id.to_string());
        self.redis
            .run("cache remove", true, |mut c| {
                let (key, lru, id) = (key.clone(), lru.clone(), id.clone());
                async move {
                    REMOVE
                        .key(key)
                        .key(lru)
                        .arg(id)
                        .invoke_async::<i64>(&mut c)
                        .await
                }
            })
            .await
            .map(|_| ())
    }

    async fn invalidate_tenant(&self, tenant_id: &str) -> Result<()> {
        self.purge(tenant_id, None).await
    }
}
