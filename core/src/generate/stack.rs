//! Assembles the generator `[llm]` asks for, with its layers:
//!
//! ```text
//! FallbackGenerator (fallback = "rule")
//!   └ LlmGenerator
//!       └ CircuitBreakerLayer ([production.circuit_breaker], service "nl2sql")
//!           └ RetryLayer ([llm] max_retries, backoff with jitter, Retry-After)
//!               └ the provider (openai | anthropic | cohere | ollama)
//! ```
//!
//! The breaker is outside the retries: one failed question (after its retries) is one failure,
//! and an open breaker sends nothing at all.

use std::sync::Arc;

use super::{FallbackGenerator, LlmGenerator, RuleGenerator, SqlGenerator, prompt::PromptContext};
use crate::{
    clock::{Clock, SystemClock},
    config::{Config, Fallback, LlmProviderKind},
    embed::Embedder,
    error::Result,
    llm::{self, LlmProvider},
    metrics::Metrics,
    resilience::{
        CircuitBreaker, CircuitBreakerLayer, RetryLayer, RetryPolicy, circuit_breaker::NL2SQL,
    },
    source::DataSource,
};

/// The parts the generator stack shares with the rest of the engine: the clock of its retry
/// and breaker layers, the metrics its breaker reports to and the shared embedder.
#[derive(Debug, Clone)]
pub struct StackParts {
    /// The clock of retry backoff and breaker timers.
    pub clock: Arc<dyn Clock>,
    /// Metrics to publish the breaker state in.
    pub metrics: Metrics,
    /// The provider's embedder for schema ranking, shared with the semantic cache; `None`
    /// builds one when [`Config::prompt_uses_embeddings`].
    pub embedder: Option<Arc<dyn Embedder>>,
}

impl Default for StackParts {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            metrics: Metrics::default(),
            embedder: None,
        }
    }
}

/// The assembled generator and a handle on its circuit breaker (for the engine's manual reset
/// and health report).
#[derive(Debug, Clone)]
pub struct GeneratorStack {
    /// The generator to ask.
    pub generator: Arc<dyn SqlGenerator>,
    /// The breaker around the provider; `None` for the rule generator or when disabled.
    pub breaker: Option<CircuitBreaker>,
}

/// Builds the generator of `config` over `source` (whose value index the rule generator
/// reads).
pub async fn build(
    config: &Config,
    source: &DataSource,
    parts: &StackParts,
) -> Result<GeneratorStack> {
    let llm = &config.llm;
    if llm.provider == LlmProviderKind::Rule {
        return Ok(GeneratorStack {
            generator: Arc::new(rule(source).await?),
            breaker: None,
        });
    }
    let provider: Arc<dyn LlmProvider> = Arc::new(
        RetryLayer::new(
            llm::provider_from_config(llm)?,
            RetryPolicy::from_config(llm),
        )
        .with_clock(parts.clock.clone()),
    );
    let settings = &config.production.circuit_breaker;
    let (provider, breaker) = if settings.enabled {
        let mut breaker = CircuitBreaker::new(NL2SQL, settings, parts.clock.clone());
        breaker = breaker.with_gauge(parts.metrics.circuit_breaker_gauge(NL2SQL));
        let layer: Arc<dyn LlmProvider> =
            Arc::new(CircuitBreakerLayer::new(provider, breaker.clone()));
        (layer, Some(breaker))
    } else {
        (provider, None)
    };
    let generator: Arc<dyn SqlGenerator> = Arc::new(
        LlmGenerator::new(provider, llm.temperature, llm.max_tokens).with_prompt(
            match &parts.embedder {
                Some(e) => {
                    PromptContext::from_source_with_embedder(config, source, Some(e.clone()))
                        .await?
                }
                None => PromptContext::from_source(config, source).await?,
            },
        ),
    );
    let generator = match llm.fallback {
        Fallback::Rule => Arc::new(FallbackGenerator::new(generator, rule(source).await?)),
        Fallback::None => generator,
    };
    Ok(GeneratorStack { generator, breaker })
}

async fn rule(source: &DataSource) -> Result<RuleGenerator> {
    RuleGenerator::from_source(source).await
}
