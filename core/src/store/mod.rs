//! Plumbing shared by the stores that several engine instances share: the Redis connection
//! (sessions, the semantic cache and rate limits keep their state there when configured) and
//! the clock that TTLs and token buckets read, which tests replace with a [`ManualClock`].

mod clock;
mod redis;

pub use clock::{Clock, ManualClock, SystemClock};
pub use redis::{RedisConnection, RedisOptions, key_part};
