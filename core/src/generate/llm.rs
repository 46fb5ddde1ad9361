//! The LLM-backed generator.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Generation, GenerationRequest, SqlGenerator, parse_completion, prompt};
use crate::{
    error::Result,
    llm::{ChatRequest, LlmProvider},
};

/// Writes SQL by prompting an [`LlmProvider`].
#[derive(Debug, Clone)]
pub struct LlmGenerator {
    provider: Arc<dyn LlmProvider>,
    temperature: f64,
    max_tokens: u32,
}

impl LlmGenerator {
    /// A generator over `provider` with the sampling settings of `[llm]`.
    pub fn new(provider: Arc<dyn LlmProvider>, temperature: f64, max_tokens: u32) -> Self {
        Self {
            provider,
            temperature,
            max_tokens,
        }
    }
}

#[async_trait]
impl SqlGenerator for LlmGenerator {
    fn name(&self) -> String {
        format!("{}:{}", self.provider.name(), self.provider.model())
    }

    async fn generate(&self, request: &GenerationRequest) -> Result<Generation> {
        let chat = ChatRequest {
            messages: prompt::render(request),
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            json_response: true,
        };
        let completion = self.provider.complete(&chat).await?;
        let (sql, explanation) = parse_completion(&completion.content)?;
        Ok(Generation {
            sql,
            explanation,
            state: None,
            degraded: None,
        })
    }
}
