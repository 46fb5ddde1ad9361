//! Plumbing shared by the stores that several engine instances share: the Redis connection
//! (sessions, the semantic cache and rate limits keep their state there when configured) and
//! the keys they share.

#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
pub use redis::{RedisConnection, RedisOptions, key_part};

use crate::{
    config::{Config, StoreKind},
    error::{Error, Result},
};

/// A connection to Redis, in a build without the `redis` feature: a type with no values, so
/// that the functions taking an optional connection keep one signature in every build, while no
/// connection can exist. Asking for a store in Redis is refused with an error naming the
/// feature.
#[cfg(not(feature = "redis"))]
#[derive(Debug, Clone)]
pub enum RedisConnection {}

#[cfg(not(feature = "redis"))]
impl RedisConnection {
    /// Checks that Redis answers (never called: no connection exists in this build).
    pub async fn ping(&self) -> Result<()> {
        match *self {}
    }
}

/// The connection the store that `setting` (e.g. `[session] store = "redis"`) puts in Redis
/// needs: an error naming the `redis` feature in a build without it, or asking for a Redis URL
/// when none was configured.
pub(crate) fn redis_for<'a>(
    setting: &str,
    redis: Option<&'a RedisConnection>,
) -> Result<&'a RedisConnection> {
    if !cfg!(feature = "redis") {
        return Err(crate::features::missing_redis(setting));
    }
    redis.ok_or_else(|| {
        Error::config(format!(
            "{setting} needs a Redis URL: set [redis] url or REDIS_URL"
        ))
    })
}

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
    #[cfg(feature = "redis")]
    {
        let options = RedisOptions {
            key_prefix: config.redis.key_prefix.clone(),
            timeout: std::time::Duration::from_millis(config.redis.timeout_ms.max(1)),
        };
        RedisConnection::open(url.expose(), options).await.map(Some)
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = url;
        Err(crate::features::missing_redis("[redis] url (or REDIS_URL)"))
    }
}
