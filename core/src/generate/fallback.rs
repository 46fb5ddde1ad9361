//! The fallback: a [`SqlGenerator`] wrapper that lets the offline [`RuleGenerator`] answer when
//! the configured generator's provider is unavailable (`[llm] fallback = "rule"`).
//!
//! It falls back on an open circuit breaker and on temporary provider failures (rate limits,
//! 5xx, timeouts, connection failures, malformed replies) once retries are spent. It does not
//! fall back on a configuration mistake (a bad key, an unknown model, a refused request): those
//! are returned, so that a broken setup is fixed rather than hidden behind degraded answers.
//! A fallback answer carries [`Degraded`], which the answer reports as `degraded: true`, the
//! rule generator's name and a warning.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Degraded, Generation, GenerationRequest, RuleGenerator, SqlGenerator};
use crate::error::{Error, Result};

/// The configured generator, with the rule generator standing in while its provider is down.
#[derive(Debug, Clone)]
pub struct FallbackGenerator {
    primary: Arc<dyn SqlGenerator>,
    rule: RuleGenerator,
}

impl FallbackGenerator {
    /// `primary`, backed by `rule`.
    pub fn new(primary: Arc<dyn SqlGenerator>, rule: RuleGenerator) -> Self {
        Self { primary, rule }
    }
}

/// Whether `e` means the provider is unavailable (rather than misconfigured or refusing).
pub fn is_outage(e: &Error) -> bool {
    match e {
        Error::CircuitOpen { .. } => true,
        Error::Provider { retryable, .. } => *retryable,
        _ => false,
    }
}

/// Why the configured generator did not answer, in words for the answer's warning.
fn reason(generator: &str, e: &Error) -> String {
    match e {
        Error::CircuitOpen { retry_in, .. } => format!(
            "{generator} is unavailable: its circuit breaker is open after repeated provider failures (next probe in {} s)",
            retry_in.as_secs_f64().ceil() as u64
        ),
        other => format!("{generator} failed ({other})"),
    }
}

#[async_trait]
impl SqlGenerator for FallbackGenerator {
    fn name(&self) -> String {
        self.primary.name()
    }

    /// States are the rule generator's (the configured generator keeps none): the rules refine
    /// them, and the answer says that they wrote it.
    async fn refine(
        &self,
        request: &GenerationRequest,
        state: &serde_json::Value,
        remove: Option<&str>,
    ) -> Result<Generation> {
        let mut generation = self.rule.refine(request, state, remove).await?;
        generation.degraded = Some(Degraded {
            generator: self.rule.name(),
            reason: format!(
                "the answer refined here was written by the offline {} generator (while {} was unavailable), and only it can remove a part of it",
                self.rule.name(),
                self.primary.name()
            ),
        });
        Ok(generation)
    }

    async fn generate(&self, request: &GenerationRequest) -> Result<Generation> {
        let error = match self.primary.generate(request).await {
            Ok(generation) => return Ok(generation),
            Err(e) if is_outage(&e) => e,
            Err(e) => return Err(e),
        };
        let reason = reason(&self.primary.name(), &error);
        tracing::warn!(
            code = error.kind().code(),
            error = %error,
            "the provider is unavailable; the rule generator answers"
        );
        match self.rule.answer(&request.question, &request.history) {
            Ok(generation) if request.feedback.iter().any(|a| a.sql == generation.sql) => {
                Err(Error::CannotAnswer {
                    message: format!(
                        "{reason}, and the offline rules' query for this question was already refused; try again later"
                    ),
                    unknown_words: Vec::new(),
                })
            }
            Ok(mut generation) => {
                generation.degraded = Some(Degraded {
                    generator: self.rule.name(),
                    reason,
                });
                Ok(generation)
            }
            Err(Error::CannotAnswer {
                message,
                unknown_words,
            }) => Err(Error::CannotAnswer {
                message: format!(
                    "{reason}, and the offline rules could not answer instead: {message}"
                ),
                unknown_words,
            }),
            Err(other) => {
                tracing::warn!(error = %other, "the rule generator failed too");
                Err(error)
            }
        }
    }
}
