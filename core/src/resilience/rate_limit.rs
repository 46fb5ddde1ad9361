//! Per-tenant rate limits: a token bucket per tenant, in memory or in Redis.
//!
//! A tenant's bucket holds at most `burst_allowance` tokens and gains `queries_per_minute / 60`
//! tokens a second; each question takes one, and a question that finds no whole token is
//! refused with [`Error::RateLimited`] and the time until one accrues. Over any interval of
//! length `t` starting from a full bucket, a tenant is admitted at most
//! `burst_allowance + queries_per_minute * t / 60` times, exactly: the arithmetic is integer (a
//! token is [`TOKEN`] units and a bucket gains `queries_per_minute` units a microsecond), the
//! same in [`take`] and in the Redis script.
//!
//! The Redis limiter ([`RedisRateLimiter`]) keeps each bucket in Redis and updates it with one
//! Lua script, so that all instances share one quota per tenant. When Redis cannot be reached
//! it decides with a local bucket instead (counted in `rate_limit_fallback_total`): each
//! instance then admits up to the tenant's quota on its own until Redis is back.

#[cfg(feature = "redis")]
mod redis;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;

#[cfg(feature = "redis")]
pub use redis::RedisRateLimiter;

use crate::{
    clock::{Clock, SystemClock},
    config::{Config, RateLimitingConfig, StoreKind},
    error::{Error, Result},
    metrics::RateLimitMetrics,
    store::RedisConnection,
};

/// Units of one token.
pub const TOKEN: u64 = 60_000_000;

/// One tenant's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Sustained questions per minute.
    pub queries_per_minute: u32,
    /// Bucket capacity: questions admitted at once after a quiet spell (at least 1).
    pub burst: u32,
}

impl Quota {
    fn capacity(self) -> u64 {
        u64::from(self.burst.max(1)) * TOKEN
    }

    fn rate(self) -> u64 {
        u64::from(self.queries_per_minute.max(1))
    }
}

/// The default quota and the tenants that have their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quotas {
    default: Quota,
    tenants: HashMap<String, Quota>,
}

impl Quotas {
    /// `default` for every tenant.
    pub fn new(default: Quota) -> Self {
        Self {
            default,
            tenants: HashMap::new(),
        }
    }

    /// The same quotas with `tenant_id` given `quota`.
    pub fn with_tenant(mut self, tenant_id: impl Into<String>, quota: Quota) -> Self {
        self.tenants.insert(tenant_id.into(), quota);
        self
    }

    /// The quotas of `[production.rate_limiting]` and its `tenants` tables.
    pub fn from_config(config: &RateLimitingConfig) -> Self {
        let mut quotas = Self::new(Quota {
            queries_per_minute: config.queries_per_minute,
            burst: config.burst_allowance,
        });
        for (tenant, q) in &config.tenants {
            quotas = quotas.with_tenant(
                tenant.clone(),
                Quota {
                    queries_per_minute: q.queries_per_minute,
                    burst: q.burst_allowance,
                },
            );
        }
        quotas
    }

    /// The quota of `tenant_id`.
    pub fn quota(&self, tenant_id: &str) -> Quota {
        self.tenants.get(tenant_id).copied().unwrap_or(self.default)
    }
}

/// A rate limiter's verdict on one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead; `remaining` whole tokens are left.
    Admitted {
        /// Whole tokens left in the bucket.
        remaining: u64,
    },
    /// Refused; a token accrues after `retry_after`.
    Limited {
        /// Time until the next token.
        retry_after: Duration,
    },
}

impl Decision {
    /// Whether the question may go ahead.
    pub fn admitted(self) -> bool {
        matches!(self, Self::Admitted { .. })
    }
}

/// A token bucket: `units` held as of `at_micros`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Units held ([`TOKEN`] per token).
    pub units: u64,
    /// When `units` was computed, in microseconds.
    pub at_micros: u64,
}

/// Takes one token from `bucket` (`None`: a tenant not seen before, whose bucket is full) at
/// `now_micros`. Returns the bucket afterwards and the decision. Time that runs backwards adds
/// nothing.
pub fn take(bucket: Option<Bucket>, quota: Quota, now_micros: u64) -> (Bucket, Decision) {
    let (cap, rate) = (quota.capacity(), quota.rate());
    let (units, at) = match bucket {
        None => (cap, now_micros),
        Some(b) => {
            let held = b.units.min(cap);
            let elapsed = now_micros.saturating_sub(b.at_micros);
            let full_in = (cap - held).div_ceil(rate);
            let units = if elapsed >= full_in {
                cap
            } else {
                held + elapsed * rate
            };
            (units, b.at_micros.max(now_micros))
        }
    };
    if units >= TOKEN {
        let left = units - TOKEN;
        (
            Bucket {
                units: left,
                at_micros: at,
            },
            Decision::Admitted {
                remaining: left / TOKEN,
            },
        )
    } else {
        let wait = (TOKEN - units).div_ceil(rate);
        (
            Bucket {
                units,
                at_micros: at,
            },
            Decision::Limited {
                retry_after: Duration::from_micros(wait),
            },
        )
    }
}

/// Decides whether a tenant may ask now.
#[async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug {
    /// A short name for logs (`memory`, `redis`).
    fn name(&self) -> &'static str;

    /// Takes one token from `tenant_id`'s bucket, when there is one.
    async fn acquire(&self, tenant_id: &str) -> Result<Decision>;
}

/// Buckets in this process's memory.
pub struct MemoryRateLimiter {
    quotas: Quotas,
    clock: Arc<dyn Clock>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl std::fmt::Debug for MemoryRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenants = self.buckets.lock().map_or(0, |b| b.len());
        f.debug_struct("MemoryRateLimiter")
            .field("quotas", &self.quotas)
            .field("clock", &self.clock)
            .field("tenants", &tenants)
            .finish()
    }
}

/// Beyond this many tenants, full buckets are forgotten (a full bucket is the same as none).
const PRUNE_AT: usize = 10_000;

impl MemoryRateLimiter {
    /// A limiter with `quotas`, reading time from `clock`.
    pub fn new(quotas: Quotas, clock: Arc<dyn Clock>) -> Self {
        Self {
            quotas,
            clock,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The decision for `tenant_id` at the clock's time.
    pub fn acquire_now(&self, tenant_id: &str) -> Decision {
        let now = self.clock.now_micros();
        let quota = self.quotas.quota(tenant_id);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (bucket, decision) = take(buckets.get(tenant_id).copied(), quota, now);
        if buckets.len() >= PRUNE_AT && !buckets.contains_key(tenant_id) {
            let quotas = &self.quotas;
            buckets.retain(|t, b| {
                let q = quotas.quota(t);
                let full_in = (q.capacity() - b.units.min(q.capacity())).div_ceil(q.rate());
                now.saturating_sub(b.at_micros) < full_in
            });
        }
        buckets.insert(tenant_id.to_string(), bucket);
        decision
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn acquire(&self, tenant_id: &str) -> Result<Decision> {
        Ok(self.acquire_now(tenant_id))
    }
}

/// The rate-limit stage: asks the limiter, counts the decision, and refuses with
/// [`Error::RateLimited`].
#[derive(Debug, Clone)]
pub struct RateLimit {
    limiter: Arc<dyn RateLimiter>,
    metrics: RateLimitMetrics,
}

impl RateLimit {
    /// The stage over `limiter`.
    pub fn new(limiter: Arc<dyn RateLimiter>) -> Self {
        Self {
            limiter,
            metrics: RateLimitMetrics::default(),
        }
    }

    /// The same stage counting into `metrics`.
    pub fn with_metrics(mut self, metrics: RateLimitMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The limiter.
    pub fn limiter(&self) -> &Arc<dyn RateLimiter> {
        &self.limiter
    }

    /// Admits one question of `tenant_id`, or refuses it.
    pub async fn admit(&self, tenant_id: &str) -> Result<()> {
        let decision = self.limiter.acquire(tenant_id).await?;
        self.metrics.record(decision.admitted());
        match decision {
            Decision::Admitted { .. } => Ok(()),
            Decision::Limited { retry_after } => {
                tracing::warn!(
                    tenant_id = %tenant_id,
                    retry_after_ms = retry_after.as_millis() as u64,
                    limiter = self.limiter.name(),
                    "Rate limit exceeded"
                );
                Err(Error::RateLimited {
                    tenant_id: tenant_id.to_string(),
                    retry_after,
                })
            }
        }
    }
}

/// The rate-limit stage `[production.rate_limiting]` asks for, or `None` when it is disabled:
/// buckets in memory, or in Redis through `redis`. `clock` replaces the system clock (and, in
/// Redis, the server's clock).
pub fn from_config(
    config: &Config,
    redis: Option<&RedisConnection>,
    clock: Option<Arc<dyn Clock>>,
    metrics: &RateLimitMetrics,
) -> Result<Option<RateLimit>> {
    let rl = &config.production.rate_limiting;
    if !rl.enabled {
        return Ok(None);
    }
    let quotas = Quotas::from_config(rl);
    let limiter: Arc<dyn RateLimiter> = match config.rate_limit_store() {
        StoreKind::Memory => Arc::new(MemoryRateLimiter::new(
            quotas,
            clock.unwrap_or_else(|| Arc::new(SystemClock)),
        )),
        StoreKind::Redis => {
            let redis =
                crate::store::redis_for("[production.rate_limiting] store = \"redis\"", redis)?;
            #[cfg(not(feature = "redis"))]
            match *redis {}
            #[cfg(feature = "redis")]
            {
                let mut limiter = RedisRateLimiter::new(redis.clone(), quotas);
                if let Some(clock) = clock {
                    limiter = limiter.with_clock(clock);
                }
                limiter = limiter.with_metrics(metrics.clone());
                Arc::new(limiter)
            }
        }
    };
    Ok(Some(RateLimit::new(limiter).with_metrics(metrics.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    const RUNBOOK: Quota = Quota {
        queries_per_minute: 100,
        burst: 20,
    };

    fn limiter(clock: &ManualClock, quotas: Quotas) -> MemoryRateLimiter {
        MemoryRateLimiter::new(quotas, Arc::new(clock.clone()))
    }

    fn admitted(l: &MemoryRateLimiter, tenant: &str, n: usize) -> usize {
        (0..n).filter(|_| l.acquire_now(tenant).admitted()).count()
    }

    #[test]
    fn a_full_bucket_admits_the_burst_then_refills_at_the_rate() {
        let clock = ManualClock::at(1_000_000);
        let l = limiter(&clock, Quotas::new(RUNBOOK));
        assert_eq!(admitted(&l, "acme", 50), 20, "the burst, then nothing");
        // 100 per minute: one token every 0.6 s.
        match l.acquire_now("acme") {
            Decision::Limited { retry_after } => {
                assert_eq!(retry_after, Duration::from_millis(600));
            }
            other => panic!("{other:?}"),
        }
        clock.advance(Duration::from_millis(599));
        assert!(!l.acquire_now("acme").admitted());
        clock.advance(Duration::from_millis(1));
        assert!(l.acquire_now("acme").admitted());
        assert!(!l.acquire_now("acme").admitted());
        clock.advance(Duration::from_secs(6));
        assert_eq!(admitted(&l, "acme", 50), 10);
        clock.advance(Duration::from_secs(3600));
        assert_eq!(admitted(&l, "acme", 50), 20, "never more than the burst");
    }

    #[test]
    fn admissions_never_exceed_burst_plus_rate_times_elapsed() {
        let clock = ManualClock::at(0);
        let l = limiter(&clock, Quotas::new(RUNBOOK));
        let mut total = 0;
        let mut start = None;
        for step in 1..=1000u64 {
            clock.advance(Duration::from_micros(7_919 * (step % 13 + 1)));
            let start = *start.get_or_insert(clock.now_micros());
            total += admitted(&l, "t", 3);
            let elapsed = clock.now_micros() - start;
            let bound = 20 + (elapsed * 100 / TOKEN) as usize;
            assert!(total <= bound, "step {step}: {total} > {bound}");
        }
        let elapsed = clock.now_micros() - start.expect("started");
        assert_eq!(
            total,
            20 + (elapsed * 100 / TOKEN) as usize,
            "demand always exceeded supply, so every token was used"
        );
    }

    #[test]
    fn tenants_have_their_own_buckets_and_quotas() {
        let clock = ManualClock::at(0);
        let quotas = Quotas::new(RUNBOOK).with_tenant(
            "big",
            Quota {
                queries_per_minute: 6000,
                burst: 200,
            },
        );
        let l = limiter(&clock, quotas);
        assert_eq!(admitted(&l, "small", 30), 20);
        assert_eq!(
            admitted(&l, "other", 30),
            20,
            "one tenant never spends another's"
        );
        assert_eq!(admitted(&l, "big", 300), 200);
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            admitted(&l, "big", 300),
            100,
            "6000 per minute is 100 a second"
        );
        assert_eq!(admitted(&l, "small", 30), 1);
    }

    #[test]
    fn time_running_backwards_adds_nothing() {
        let clock = ManualClock::at(10_000_000);
        let l = limiter(
            &clock,
            Quotas::new(Quota {
                queries_per_minute: 60,
                burst: 1,
            }),
        );
        assert!(l.acquire_now("t").admitted());
        clock.set(1_000_000);
        assert!(!l.acquire_now("t").admitted());
        clock.set(10_999_999);
        assert!(!l.acquire_now("t").admitted());
        clock.set(11_000_000);
        assert!(l.acquire_now("t").admitted());
    }

    #[test]
    fn a_zero_burst_still_admits_one_at_a_time() {
        let (bucket, d) = take(
            None,
            Quota {
                queries_per_minute: 60,
                burst: 0,
            },
            0,
        );
        assert!(d.admitted());
        assert_eq!(bucket.units, 0);
    }

    #[test]
    fn quotas_come_from_the_configuration() {
        let mut config = RateLimitingConfig::default();
        config.tenants.insert(
            "acme".into(),
            crate::config::TenantQuota {
                queries_per_minute: 1000,
                burst_allowance: 50,
            },
        );
        let q = Quotas::from_config(&config);
        assert_eq!(
            q.quota("acme"),
            Quota {
                queries_per_minute: 1000,
                burst: 50
            }
        );
        assert_eq!(q.quota("globex"), RUNBOOK);
    }

    #[tokio::test]
    async fn the_stage_refuses_with_retry_after_and_counts() {
        let clock = ManualClock::at(0);
        let metrics = RateLimitMetrics::default();
        let stage = RateLimit::new(Arc::new(limiter(
            &clock,
            Quotas::new(Quota {
                queries_per_minute: 30,
                burst: 1,
            }),
        )))
        .with_metrics(metrics.clone());
        stage.admit("acme").await.expect("first");
        let e = stage.admit("acme").await.expect_err("second");
        assert_eq!(e.kind(), crate::ErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        let count = |o: &str| {
            metrics
                .requests
                .get_or_create(&crate::metrics::RateLimitLabels { outcome: o.into() })
                .get()
        };
        assert_eq!((count("admitted"), count("limited")), (1, 1));
    }
}
