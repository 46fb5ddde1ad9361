//! The offline `RuleGenerator`: business questions to SQL with no model.
//!
//! Pipeline, all pure once the value index is built:
//! tokens ([`crate::text`]) → items ([`grammar`], with schema names from [`linker`] and known values
//! from [`crate::values`]) → a draft with ambiguous names as slots ([`plan`]) → one reading per slot,
//! fewest joins first ([`resolve`], over the foreign-key graph of [`joins`]) → the query
//! representation ([`ir`]), or a patch of the previous turn's ([`followup`]) → SQL
//! ([`compile`]) and a plain explanation ([`explain`]).
//!
//! It is honest: every word of the question must be explained by the grammar, a schema name or
//! a known value, else it abstains with [`Error::CannotAnswer`] naming the words it did not
//! understand. A wrong answer is worse than none.

mod assemble;
pub mod compile;
pub mod explain;
pub mod followup;
pub mod grammar;
pub mod ir;
pub mod joins;
pub mod lexicon;
pub mod linker;
pub mod plan;
pub mod resolve;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;

use crate::{
    catalog::Catalog,
    error::{Error, Result},
    exec::Executor,
    session::Turn,
    sql::{Validator, ValidatorOptions},
    values::{ValueIndex, ValueIndexLimits},
};

use super::{Generation, GenerationRequest, SqlGenerator};

pub use ir::QueryIr;

/// What the generator can answer, for abstention messages.
const CAN_ANSWER: &str = "I can answer counts (\"how many ...\"), totals, averages, minimums and maximums, \
grouped by a column or a period (\"by country\", \"per month\"), top N rankings (\"top 5 artists by number of albums\"), \
lists (\"list the albums by ...\"), with filters on known values, numbers and dates (\"in Canada\", \"more than 100\", \"in 2023\")";

/// An abstention.
pub(crate) fn cannot_answer(reason: String, unknown_words: Vec<String>) -> Error {
    Error::CannotAnswer {
        message: format!("I cannot answer this reliably: {reason}. {CAN_ANSWER}."),
        unknown_words,
    }
}

/// The offline SQL generator.
#[derive(Debug, Clone)]
pub struct RuleGenerator {
    catalog: Arc<Catalog>,
    lexicon: Arc<linker::SchemaLexicon>,
    graph: Arc<joins::SchemaGraph>,
    values: Arc<ValueIndex>,
    /// Generators for the views of askers that see another schema or other values (data
    /// permissions, a tenant's database), by what identifies the view.
    views: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<RuleGenerator>>>>,
}

/// Views whose generators are kept at most, before the map starts over.
const MAX_VIEWS: usize = 1024;

impl RuleGenerator {
    /// A generator for `catalog` that grounds values in `values`.
    pub fn new(catalog: Arc<Catalog>, values: Arc<ValueIndex>) -> Self {
        Self {
            lexicon: Arc::new(linker::SchemaLexicon::new(&catalog)),
            graph: Arc::new(joins::SchemaGraph::new(&catalog)),
            catalog,
            values,
            views: Arc::default(),
        }
    }

    /// The generator for `view`: this one when the view sees this generator's schema and
    /// values, else one built from the view's schema and known values (kept per view).
    async fn for_view(&self, view: &crate::access::View) -> Result<Arc<RuleGenerator>> {
        let values = view.value_index().await?;
        let catalog = view.catalog();
        let key = format!("{}|{}", catalog.fingerprint, view.policy_key());
        if let Some(g) = self.views.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(g);
        }
        let generator = Arc::new(Self::new(catalog.clone(), values));
        if let Ok(mut views) = self.views.lock() {
            if views.len() >= MAX_VIEWS {
                views.clear();
            }
            views.insert(key, generator.clone());
        }
        Ok(generator)
    }

    /// Builds the value index of `catalog` through `executor` (bounded queries, each judged by a
    /// validator over `catalog` with no access policy and the executor's row cap), then the
    /// generator. A data source with an access policy should use
    /// [`from_source`](Self::from_source).
    pub async fn build(executor: &dyn Executor, catalog: Arc<Catalog>) -> Result<Self> {
        let validator = Validator::new(
            catalog.clone(),
            ValidatorOptions {
                max_rows: executor.options().max_rows,
                ..ValidatorOptions::default()
            },
        );
        let values =
            ValueIndex::build(executor, &validator, &catalog, &ValueIndexLimits::default()).await?;
        Ok(Self::new(catalog, Arc::new(values)))
    }

    /// A generator for `source`: its vocabulary, joins and known values are those of the
    /// source's [visible catalog](crate::DataSource::visible_catalog) (a denied column or a table
    /// outside `allowed_tables` is as unknown to it as a word that names nothing), and values
    /// are grounded in the source's shared value index (built once per source; see
    /// `DataSource::value_index`).
    pub async fn from_source(source: &crate::DataSource) -> Result<Self> {
        Ok(Self::new(
            source.visible_catalog().clone(),
            source.value_index().await?,
        ))
    }

    /// The value index in use.
    pub fn values(&self) -> &Arc<ValueIndex> {
        &self.values
    }

    /// Answers `question`, continuing from the last turn of `history` that this generator
    /// answered.
    pub fn answer(&self, question: &str, history: &[Turn]) -> Result<Generation> {
        let ir = self.query(question, history)?;
        let sql = compile::SqlWriter::new(&self.catalog, &self.graph).sql(&ir)?;
        Ok(Generation {
            sql,
            explanation: explain::explain(&ir),
            state: Some(serde_json::json!({ "rule": ir })),
            degraded: None,
            clarification: None,
        })
    }

    /// The query representation of `question` (pure; no SQL).
    pub fn query(&self, question: &str, history: &[Turn]) -> Result<QueryIr> {
        let tokens = crate::text::tokenize(question);
        if tokens.is_empty() {
            return Err(cannot_answer(
                "the question has no words".into(),
                Vec::new(),
            ));
        }
        let reading = grammar::read(&tokens, &self.lexicon, &self.values);
        if !reading.unknown.is_empty() {
            let quoted: Vec<String> = reading.unknown.iter().map(|w| format!("\"{w}\"")).collect();
            return Err(cannot_answer(
                format!(
                    "I do not know what {} means here (it is not a table, column or known value of {})",
                    quoted.join(", "),
                    self.catalog.database
                ),
                reading.unknown,
            ));
        }
        let start_over = reading
            .spans
            .iter()
            .any(|s| matches!(s.item, grammar::Item::StartOver));
        let previous = if start_over {
            None
        } else {
            history
                .iter()
                .rev()
                .find_map(|t| t.state.as_ref().and_then(QueryIr::from_state))
        };
        let planner = plan::Planner::new(&self.lexicon, &reading.spans).plan();
        if !planner.unplaced.is_empty() {
            let words: Vec<String> = planner
                .unplaced
                .iter()
                .map(|&(a, b)| {
                    tokens[a..b]
                        .iter()
                        .map(|t| t.raw.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
            return Err(cannot_answer(
                format!("I could not place {} in a query", quoted.join(", ")),
                words,
            ));
        }
        let draft = &planner.draft;
        if let Some(prev) = &previous
            && followup::is_follow_up(&reading.spans, draft)
        {
            return followup::patch(prev, &reading.spans, draft, &self.lexicon, &self.graph);
        }
        if start_over && draft.slots.is_empty() {
            return Err(cannot_answer(
                "starting over: ask a new question".into(),
                Vec::new(),
            ));
        }
        resolve::resolve(draft, &self.lexicon, &self.graph, &[])?.query()
    }
}

#[async_trait]
impl SqlGenerator for RuleGenerator {
    fn name(&self) -> String {
        "rule".to_string()
    }

    async fn generate(&self, request: &GenerationRequest) -> Result<Generation> {
        // The rules are deterministic: a retry would write the same statement again.
        if let Some(failed) = request.feedback.last() {
            return Err(cannot_answer(
                format!(
                    "the query the rules wrote was refused ({}) and they have no other reading of the question",
                    failed.error.as_deref().unwrap_or("no reason given")
                ),
                Vec::new(),
            ));
        }
        if let Some(view) = &request.view {
            let own = view.catalog().fingerprint == self.catalog.fingerprint
                && view.policy_key().is_empty();
            if !own {
                return self
                    .for_view(view)
                    .await?
                    .answer(&request.question, &request.history);
            }
        }
        self.answer(&request.question, &request.history)
    }
}
