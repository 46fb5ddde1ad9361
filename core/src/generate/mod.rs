//! SQL generation: the [`SqlGenerator`] seam, the LLM-backed generator, its prompt, and the
//! self-correction loop that feeds validator and database errors back to the generator.

pub mod correct;
mod llm;
mod parse;
pub mod prompt;
pub mod rule;

use std::sync::Arc;

use async_trait::async_trait;

pub use llm::LlmGenerator;
pub use parse::parse_completion;

use crate::{
    answer::Attempt,
    catalog::Catalog,
    config::{Config, LlmProviderKind},
    error::{Error, Result},
    llm::OpenAiProvider,
    session::Turn,
    source::DataSource,
};

pub use rule::RuleGenerator;

/// Everything a generator needs to write SQL for one question.
#[derive(Debug, Clone)]
pub struct GenerationRequest {
    /// The question, cleaned by the input guard.
    pub question: String,
    /// The schema the SQL must use.
    pub catalog: Arc<Catalog>,
    /// Earlier turns of the conversation, oldest first.
    pub history: Vec<Turn>,
    /// Failed tries of this question so far, oldest first, with the reason each failed.
    pub feedback: Vec<Attempt>,
    /// The row cap the SQL will run under.
    pub max_rows: usize,
}

/// SQL written by a generator.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// The SQL (not yet validated).
    pub sql: String,
    /// What it does, in plain words.
    pub explanation: String,
    /// The generator's structured form of the query, kept with the turn for follow-ups.
    pub state: Option<serde_json::Value>,
}

/// Writes SQL for a question.
#[async_trait]
pub trait SqlGenerator: Send + Sync + std::fmt::Debug {
    /// A short name for answers, logs and metrics (`openai:gpt-4`, `rule`).
    fn name(&self) -> String;

    /// Writes SQL for `request`.
    async fn generate(&self, request: &GenerationRequest) -> Result<Generation>;
}

/// The generator `[llm]` asks for: the offline [`RuleGenerator`] for `provider = "rule"` (the
/// default), or the LLM generator with the prompt context of `[llm]`. Both read the source's
/// shared value index ([`DataSource::value_index`]), built once.
pub async fn from_config(config: &Config, source: &DataSource) -> Result<Arc<dyn SqlGenerator>> {
    let llm = &config.llm;
    match llm.provider {
        LlmProviderKind::Openai => {
            let provider = Arc::new(OpenAiProvider::from_config(llm)?);
            Ok(Arc::new(
                LlmGenerator::new(provider, llm.temperature, llm.max_tokens)
                    .with_prompt(prompt::PromptContext::from_source(config, source).await?),
            ))
        }
        LlmProviderKind::Rule => Ok(Arc::new(RuleGenerator::from_source(source).await?)),
        other => Err(Error::config(format!(
            "[llm] provider = \"{}\" is not available in this build; use \"rule\" (offline) or \"openai\" (any OpenAI-compatible server via [llm] base_url)",
            format!("{other:?}").to_lowercase()
        ))),
    }
}
