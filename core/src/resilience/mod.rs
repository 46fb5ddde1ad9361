//! Resilience layers around the seams that call other services: retry with backoff, the
//! circuit breaker and per-tenant rate limits. Each wraps a seam (`LlmProvider`, `Embedder`) and is itself that seam, so
//! stages never contain `if`s about failures of their neighbours.
//!
//! Time goes through a [`Clock`](crate::clock::Clock) so that tests drive backoff and breaker timers by hand.

pub mod circuit_breaker;
pub mod rate_limit;
pub mod retry;

pub use circuit_breaker::{BreakerState, CircuitBreaker, CircuitBreakerLayer};
pub use retry::{RetryLayer, RetryPolicy};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        embed::Embedder,
        generate::FallbackGenerator,
        llm::{
            AnthropicProvider, CohereEmbedder, CohereProvider, LlmProvider, OllamaEmbedder,
            OllamaProvider, OpenAiEmbedder, OpenAiProvider,
        },
    };

    #[test]
    fn layers_and_providers_are_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<CircuitBreaker>();
        check::<CircuitBreakerLayer<dyn LlmProvider>>();
        check::<RetryLayer<dyn LlmProvider>>();
        check::<RetryLayer<dyn Embedder>>();
        check::<crate::clock::ManualClock>();
        check::<crate::clock::SystemClock>();
        check::<FallbackGenerator>();
        check::<OpenAiProvider>();
        check::<AnthropicProvider>();
        check::<CohereProvider>();
        check::<OllamaProvider>();
        check::<OpenAiEmbedder>();
        check::<CohereEmbedder>();
        check::<OllamaEmbedder>();
    }
}
