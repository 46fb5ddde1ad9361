//! SQL generation: the [`SqlGenerator`] seam, the LLM-backed generator, its prompt, and the
//! self-correction loop that feeds validator and database errors back to the generator.

pub(crate) mod correct;
mod fallback;
mod llm;
mod parse;
pub mod prompt;
pub mod refine;
pub(crate) mod rule;
pub(crate) mod scrub;
pub(crate) mod stack;

#[cfg(test)]
mod restricted_tests;

use std::sync::Arc;

use async_trait::async_trait;

pub use correct::Corrected;
pub use fallback::FallbackGenerator;
pub use llm::LlmGenerator;
pub use parse::parse_completion;
pub use stack::{GeneratorStack, StackParts};

use crate::{
    answer::Attempt, catalog::Catalog, config::Config, error::Result, session::Turn,
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
    /// The data source as the asker sees it (see [`View`](crate::access::View)): generators
    /// take the vocabulary, value hints and samples of the prompt from it, so that nothing the
    /// asker may not see reaches the SQL's writer. `None`: the generator's own source.
    pub view: Option<crate::access::View>,
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
    /// Set when a fallback wrote this instead of the configured generator.
    pub degraded: Option<Degraded>,
    /// Set (with `sql` empty) when the question has readings the generator cannot choose
    /// between: the engine runs nothing and asks.
    pub clarification: Option<crate::answer::Clarification>,
}

/// Who answered instead of the configured generator, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degraded {
    /// The generator that answered (`rule`).
    pub generator: String,
    /// Why the configured generator did not.
    pub reason: String,
}

impl Degraded {
    /// The warning the answer carries.
    pub fn warning(&self) -> String {
        format!(
            "{}; the offline {} generator answered instead, so this answer may be less precise than usual",
            self.reason, self.generator
        )
    }
}

/// Writes SQL for a question.
#[async_trait]
pub trait SqlGenerator: Send + Sync + std::fmt::Debug {
    /// A short name for answers, logs and metrics (`openai:gpt-4`, `rule`).
    fn name(&self) -> String;

    /// Writes SQL for `request`.
    async fn generate(&self, request: &GenerationRequest) -> Result<Generation>;

    /// Writes the query of an earlier answer, kept as its `state` (a state this generator
    /// wrote), without its part `remove` (the id of one of that answer's
    /// [`scope`](crate::answer::Answer::scope) items), with the new state and explanation: the
    /// engine asks it for [`Ask::remove_scope`](crate::Ask::remove_scope), and validates and
    /// runs the SQL as any generated SQL. `None` writes the state's query as it is (the engine
    /// checks with it that a state describes the statement it is kept with). `request` is the
    /// turn's (its view and, on a retry, the refused tries). The default refuses:
    /// generators that keep no structured form of their queries cannot remove a part of one.
    async fn refine(
        &self,
        request: &GenerationRequest,
        state: &serde_json::Value,
        remove: Option<&str>,
    ) -> Result<Generation> {
        let _ = (request, state, remove);
        Err(refine::cannot_refine())
    }
}

/// The generator `[llm]` asks for: the offline [`RuleGenerator`] for `provider = "rule"` (the
/// default; it reads the source's shared value index), or the LLM generator, with the prompt
/// context of `[llm]`, over the named
/// provider with retries, the circuit breaker and the fallback of `[llm] fallback` (see
/// `stack`).
pub async fn from_config(config: &Config, source: &DataSource) -> Result<Arc<dyn SqlGenerator>> {
    Ok(stack::build(config, source, &StackParts::default())
        .await?
        .generator)
}
