//! The LLM-backed generator.

use std::sync::Arc;

use async_trait::async_trait;

use super::{
    Generation, GenerationRequest, SqlGenerator, parse_completion,
    prompt::{self, PromptContext},
};
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
    prompt: PromptContext,
}

impl LlmGenerator {
    /// A generator over `provider` with the sampling settings of `[llm]` and an empty prompt
    /// context (whole schema within the default budget, no values, no examples); add one with
    /// [`LlmGenerator::with_prompt`].
    pub fn new(provider: Arc<dyn LlmProvider>, temperature: f64, max_tokens: u32) -> Self {
        Self {
            provider,
            temperature,
            max_tokens,
            prompt: PromptContext::new(),
        }
    }

    /// Uses `context` for the prompt: value index, sample values, few-shot examples, embedder,
    /// schema token budget and privacy mode (see [`PromptContext::from_source`]).
    pub fn with_prompt(mut self, context: PromptContext) -> Self {
        self.prompt = context;
        self
    }

    /// The prompt context in use.
    pub fn prompt_context(&self) -> &PromptContext {
        &self.prompt
    }
}

#[async_trait]
impl SqlGenerator for LlmGenerator {
    fn name(&self) -> String {
        format!("{}:{}", self.provider.name(), self.provider.model())
    }

    async fn generate(&self, request: &GenerationRequest) -> Result<Generation> {
        let embeddings = self.prompt.embeddings(request).await;
        let rendered = prompt::render_with(request, &self.prompt, embeddings.as_ref());
        let chat = ChatRequest {
            messages: rendered.messages,
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
