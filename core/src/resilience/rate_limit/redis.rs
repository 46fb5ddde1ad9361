//! Token buckets in Redis, one Lua script per decision.
//!
//! The bucket of a tenant is the hash `P:ratelimit:<tenant>` (`units`, `at`), expiring once it
//! would be full again. The script reads the time from Redis itself (`TIME`), so that instances
//! with skewed clocks still share one exact bucket; a clock can be injected instead, for tests.

use std::sync::{
    Arc, LazyLock,
    atomic::{AtomicBool, Ordering},
};

use async_trait::async_trait;
use redis::Script;

use super::{Decision, MemoryRateLimiter, Quotas, RateLimiter, TOKEN};
use crate::{
    clock::{Clock, SystemClock},
    error::Result,
    metrics::RateLimitMetrics,
    store::RedisConnection,
};

/// The same arithmetic as [`super::take`], in doubles that only ever hold integers below 2^53.
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local token = tonumber(ARGV[4])
local cap = tonumber(ARGV[1]) * token
local rate = tonumber(ARGV[2])
local now
if ARGV[3] == '' then
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[3])
end
local units, at = cap, now
local state = redis.call('HMGET', KEYS[1], 'units', 'at')
if state[1] then
  local held = math.min(tonumber(state[1]), cap)
  local last = tonumber(state[2])
  local elapsed = now - last
  if elapsed < 0 then elapsed = 0 end
  local full_in = math.ceil((cap - held) / rate)
  if elapsed >= full_in then units = cap else units = held + elapsed * rate end
  if last > now then at = last end
end
local admitted, wait = 0, 0
if units >= token then
  units = units - token
  admitted = 1
else
  wait = math.ceil((token - units) / rate)
end
redis.call('HSET', KEYS[1], 'units', string.format('%.0f', units), 'at', string.format('%.0f', at))
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - units) / rate / 1000) + 1000)
return {admitted, string.format('%.0f', wait), string.format('%.0f', math.floor(units / token))}
",
    )
});

/// Token buckets shared by every instance through Redis, with a local fallback.
#[derive(Debug)]
pub struct RedisRateLimiter {
    redis: RedisConnection,
    quotas: Quotas,
    clock: Option<Arc<dyn Clock>>,
    local: MemoryRateLimiter,
    metrics: RateLimitMetrics,
    degraded: AtomicBool,
}

impl RedisRateLimiter {
    /// A limiter on `redis` with `quotas`, timed by the Redis server's clock.
    pub fn new(redis: RedisConnection, quotas: Quotas) -> Self {
        Self {
            local: MemoryRateLimiter::new(quotas.clone(), Arc::new(SystemClock)),
            redis,
            quotas,
            clock: None,
            metrics: RateLimitMetrics::default(),
            degraded: AtomicBool::new(false),
        }
    }

    /// The same limiter timed by `clock` (for tests and simulations), locally and in Redis.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.local = MemoryRateLimiter::new(self.quotas.clone(), clock.clone());
        self.clock = Some(clock);
        self
    }

    /// The same limiter counting local fallbacks into `metrics`.
    pub fn with_metrics(mut self, metrics: RateLimitMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    async fn shared(&self, tenant_id: &str) -> Result<Decision> {
        let key = self.redis.key(&["ratelimit", tenant_id]);
        let quota = self.quotas.quota(tenant_id);
        let now = self
            .clock
            .as_ref()
            .map_or(String::new(), |c| c.now_micros().to_string());
        let (admitted, wait, remaining): (i64, String, String) = self
            .redis
            // Not idempotent: a second try could take a second token.
            .run("rate limiting", false, |mut c| {
                let (key, now) = (key.clone(), now.clone());
                async move {
                    TAKE.key(key)
                        .arg(quota.burst.max(1))
                        .arg(quota.queries_per_minute.max(1))
                        .arg(now)
                        .arg(TOKEN)
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await?;
        Ok(if admitted == 1 {
            Decision::Admitted {
                remaining: remaining.parse().unwrap_or(0),
            }
        } else {
            Decision::Limited {
                retry_after: std::time::Duration::from_micros(wait.parse().unwrap_or(0)),
            }
        })
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn acquire(&self, tenant_id: &str) -> Result<Decision> {
        match self.shared(tenant_id).await {
            Ok(decision) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis is reachable again: rate limits are shared again");
                }
                Ok(decision)
            }
            Err(e) => {
                self.metrics.fallback.inc();
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "Redis unreachable: rate limits are enforced per instance until it is back");
                }
                self.local.acquire(tenant_id).await
            }
        }
    }
}
