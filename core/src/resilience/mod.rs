//! Resilience layers around the seams that call other services: retry with backoff and the
//! circuit breaker. Each wraps a seam (`LlmProvider`, `Embedder`) and is itself that seam, so
//! stages never contain `if`s about failures of their neighbours.
//!
//! Time goes through a [`Clock`] so that tests drive backoff and breaker timers by hand.

pub mod circuit_breaker;
pub mod clock;
pub mod retry;

pub use circuit_breaker::{BreakerState, CircuitBreaker, CircuitBreakerLayer};
pub use clock::{Clock, ManualClock, SystemClock};
pub use retry::{RetryLayer, RetryPolicy};
