//! Plumbing shared by the stores that several engine instances share: the Redis connection
//! (sessions, the semantic cache and rate limits keep their state there when configured) and
//! the keys they share.

mod redis;

pub use redis::{RedisConnection, RedisOptions, key_part};

use crate::{
    config::{Config, StoreKind},
    error::Result,
};

/// The Redis connection `config` needs: `Some` when sessions, an enabled cache or enabled rate
/// limits live in Redis (see [`Config::session_store`] and its siblings), prepared lazily.
pub async fn redis_from_config(config: &Config) -> Result<Option<RedisConnection>> {
    let needed = config.session_store() == StoreKind::Redis
        || (config.cache.enabled && config.cache_store() == StoreKind::Redis)
        || (config.production.rate_limiting.enabled
            && config.rate_limit_store() == StoreKind::Redis);
    let Some(url) = config.redis.url.as_ref().filter(|_| needed) else {
        return Ok(None);
    };
    let options = RedisOptions {
        key_prefix: config.redis.key_prefix.clone(),
        timeout: std::time::Duration::from_millis(config.redis.timeout_ms.max(1)),
    };
    RedisConnection::open(url.expose(), options).await.map(Some)
}

#[cfg(test)]
mod tests {
    #[test]
    fn shared_service_types_are_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<super::RedisConnection>();
        check::<crate::clock::ManualClock>();
        check::<crate::cache::SemanticCache>();
        check::<crate::cache::MemoryCacheStore>();
        check::<crate::cache::RedisCacheStore>();
        check::<crate::session::RedisSessionStore>();
        check::<crate::resilience::rate_limit::MemoryRateLimiter>();
        check::<crate::resilience::rate_limit::RedisRateLimiter>();
        check::<crate::resilience::rate_limit::RateLimit>();
        check::<crate::embed::BuiltinEmbedder>();
    }
}
