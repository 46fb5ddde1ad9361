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
    /// Prompt contexts for the views of askers that know other values (data permissions, a
    /// tenant's database), by what identifies the view.
    views: Arc<std::sync::Mutex<std::collections::HashMap<String, PromptContext>>>,
}

/// Views whose prompt contexts are kept at most, before the map starts over.
const MAX_VIEWS: usize = 1024;

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
            views: Arc::default(),
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

    /// The prompt context for `request`: this generator's, unless the asker's view knows other
    /// values than the context (then its values and samples come from the view).
    async fn context_for(&self, request: &GenerationRequest) -> Result<PromptContext> {
        let (Some(view), Some(own)) = (&request.view, &self.prompt.values) else {
            return Ok(self.prompt.clone());
        };
        let values = view.value_index().await?;
        if Arc::ptr_eq(&values, own) {
            return Ok(self.prompt.clone());
        }
        let key = format!("{}|{}", view.catalog().fingerprint, view.policy_key());
        if let Some(c) = self.views.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(c);
        }
        let context = self.prompt.for_values(values);
        if let Ok(mut views) = self.views.lock() {
            if views.len() >= MAX_VIEWS {
                views.clear();
            }
            views.insert(key, context.clone());
        }
        Ok(context)
    }
}

#[async_trait]
impl SqlGenerator for LlmGenerator {
    fn name(&self) -> String {
        format!("{}:{}", self.provider.name(), self.provider.model())
    }

    async fn generate(&self, request: &GenerationRequest) -> Result<Generation> {
        let context = self.context_for(request).await?;
        let embeddings = context.embeddings(request).await;
        let rendered = prompt::render_with(request, &context, embeddings.as_ref());
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
            clarification: None,
        })
    }
}
