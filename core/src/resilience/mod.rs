//! Resilience layers around the seams that call other services: retry with backoff, the
//! circuit breaker and per-tenant rate limits. Each wraps a seam (`LlmProvider`, `Embedder`) and is itself that seam, so
//! stages never contain `if`s about failures of their neighbours.
//!
//! Time goes through a [`Clock`](crate::clock::Clock) so that tests drive backoff and breaker timers by hand.

pub(crate) mod circuit_breaker;
pub mod rate_limit;
mod retry;

pub use circuit_breaker::{BreakerState, CircuitBreaker, CircuitBreakerLayer, NL2SQL};
pub use retry::{RetryLayer, RetryPolicy};
