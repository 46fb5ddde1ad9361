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
pub mod model;
pub mod patterns;
pub mod plan;
pub mod resolve;
mod rows;
pub mod scope;
mod sets;
mod wording;

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
use ir::{OrderKey, OrderWords};

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
    /// The semantic model, linked to the schema's vocabulary.
    model: Option<Arc<model::ModelLinks>>,
    /// The same rules without the model, for questions the model's reading cannot answer.
    plain: Option<Arc<RuleGenerator>>,
}

/// What the rules make of a question: a query, or a question back.
#[derive(Debug)]
enum Outcome {
    Query(Box<QueryIr>),
    Ask(model::Ambiguity),
}

/// Views whose generators are kept at most, before the map starts over.
const MAX_VIEWS: usize = 1024;

impl RuleGenerator {
    /// A generator for `catalog` that grounds values in `values`.
    pub fn new(catalog: Arc<Catalog>, values: Arc<ValueIndex>) -> Self {
        Self {
            lexicon: Arc::new(linker::SchemaLexicon::with_values(&catalog, &values)),
            graph: Arc::new(joins::SchemaGraph::new(&catalog)),
            catalog,
            values,
            views: Arc::default(),
            model: None,
            plain: None,
        }
    }

    /// This generator reading `semantic` too: the synonyms of its tables and dimensions extend
    /// the vocabulary, its measures, dimensions over expressions and named filters are phrases
    /// the rules plan with, its time dimensions date the questions on their tables, and its
    /// relationships are joins.
    pub fn with_semantic(self, semantic: Option<crate::semantic::Semantic>) -> Self {
        let plain = Self {
            graph: Arc::new(joins::SchemaGraph::new(&self.catalog)),
            model: None,
            plain: None,
            ..self
        };
        match semantic {
            None => plain,
            Some(s) => {
                let links = model::ModelLinks::new(s, &plain.lexicon);
                Self {
                    graph: Arc::new(model::graph_with(
                        joins::SchemaGraph::new(&plain.catalog),
                        Some(&links),
                    )),
                    model: Some(Arc::new(links)),
                    plain: Some(Arc::new(plain.clone())),
                    ..plain
                }
            }
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
        let generator =
            Arc::new(Self::new(catalog.clone(), values).with_semantic(view.semantic().cloned()));
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
        )
        .with_semantic(source.semantic().cloned()))
    }

    /// The value index in use.
    pub fn values(&self) -> &Arc<ValueIndex> {
        &self.values
    }

    /// Answers `question`, continuing from the last turn of `history` that this generator
    /// answered. When the last turn asked which reading was meant and `question` names one of
    /// its options, the question that was asked then is answered with that reading. A question
    /// with readings the rules cannot choose between is answered with a clarification (and no
    /// SQL).
    pub fn answer(&self, question: &str, history: &[Turn]) -> Result<Generation> {
        if let Some(g) = self.continue_clarification(question, history)? {
            return Ok(g);
        }
        match (self.answer_with(question, history, &[]), &self.plain) {
            // What the model's reading cannot answer ("revenue" of invoices by genre, which
            // would count invoices once per track), the schema's own names may.
            (Err(e), Some(plain)) if e.kind() == crate::error::ErrorKind::CannotAnswer => {
                plain.answer_with(question, history, &[]).map_err(|_| e)
            }
            (answer, _) => answer,
        }
    }

    fn continue_clarification(
        &self,
        question: &str,
        history: &[Turn],
    ) -> Result<Option<Generation>> {
        let (Some(last), Some(_)) = (history.last(), &self.model) else {
            return Ok(None);
        };
        let Some(asked) = &last.clarification else {
            return Ok(None);
        };
        let tokens = crate::text::tokenize(question);
        let Some(i) = model::pick(&asked.options, &tokens) else {
            return Ok(None);
        };
        // A reply names an option; a longer question is a new one.
        let label_words: Vec<String> = asked
            .options
            .iter()
            .flat_map(|o| crate::semantic::phrase_norms(&o.label))
            .collect();
        let extra = tokens
            .iter()
            .filter(|t| !crate::text::is_stop_word(&t.lower) && !label_words.contains(&t.norm))
            .count();
        if extra > 2 {
            return Ok(None);
        }
        let earlier = &history[..history.len() - 1];
        let Ok(Outcome::Ask(again)) = self.read(&last.question, earlier, &[]) else {
            return Ok(None);
        };
        if again.clarification.options != asked.options {
            return Ok(None);
        }
        let choice = again.choices[i].clone();
        self.answer_with(&last.question, earlier, &[choice])
            .map(Some)
    }

    fn answer_with(
        &self,
        question: &str,
        history: &[Turn],
        choices: &[model::Choice],
    ) -> Result<Generation> {
        let ir = match self.read(question, history, choices)? {
            Outcome::Query(ir) => ir,
            Outcome::Ask(a) => {
                return Ok(Generation {
                    sql: String::new(),
                    explanation: a.clarification.question.clone(),
                    state: None,
                    degraded: None,
                    clarification: Some(a.clarification),
                });
            }
        };
        self.write(&ir)
    }

    /// How a sort by `column` reads: alphabetically for text, chronologically for dates and
    /// times, as numbers (`None`) otherwise, or when the catalog does not know the column.
    fn order_words(&self, column: &crate::catalog::ColumnRef) -> Option<OrderWords> {
        let c = self
            .catalog
            .tables
            .iter()
            .find(|t| t.name == column.table)?
            .columns
            .iter()
            .find(|c| c.name == column.column)?;
        let ty = c.data_type.to_lowercase();
        match linker::kind_of(&c.data_type, &c.name) {
            linker::ColumnKind::Temporal => Some(OrderWords::Chronological),
            // Only declared text: an untyped or other column (a flag, bytes) may hold numbers.
            linker::ColumnKind::Text
                if ["char", "text", "string", "clob", "name", "enum"]
                    .iter()
                    .any(|t| ty.contains(t)) =>
            {
                Some(OrderWords::Alphabetical)
            }
            _ => None,
        }
    }

    /// The SQL, explanation and state of `ir`: what every answer of the rules ends with.
    fn write(&self, ir: &QueryIr) -> Result<Generation> {
        // The sort's direction in the words of its key's values ("A to Z", "newest first"):
        // the explanation says it, and the state keeps it for the scope's labels.
        let mut ir = ir.clone();
        if let Some(order) = &mut ir.order {
            order.words = match &order.key {
                OrderKey::Column { column } => self.order_words(column),
                OrderKey::Measure => None,
            };
        }
        let ir = &ir;
        let sql = compile::SqlWriter::new(&self.catalog, &self.graph)
            .with_semantic(self.model.as_ref().map(|m| &m.semantic))
            .with_values(&self.values)
            .sql(ir)?;
        Ok(Generation {
            sql,
            explanation: explain::explain(ir),
            state: Some(serde_json::json!({ "rule": ir })),
            degraded: None,
            clarification: None,
        })
    }

    /// The query of an earlier answer of the rules, kept as its `state`, without its scope
    /// item `remove` (see [`scope`]), written as a follow-up's patched query is; `None` writes
    /// the state's query as it is. A state that is not the rules' or an id that names no part
    /// of the query is an [`Error::InvalidInput`].
    pub fn refine_state(
        &self,
        state: &serde_json::Value,
        remove: Option<&str>,
    ) -> Result<Generation> {
        let ir = QueryIr::from_state(state).ok_or_else(|| {
            Error::invalid_input(
                "the previous answer was not written by the offline rules, so its parts cannot be removed one by one; ask the question again without the part",
            )
        })?;
        let ir = match remove {
            Some(id) => scope::remove(&ir, id)?,
            None => ir,
        };
        match (self.write(&ir), &self.plain) {
            // As for a follow-up: what the model's reading cannot write, the schema's may.
            (Err(e), Some(plain)) if e.kind() == crate::error::ErrorKind::CannotAnswer => {
                plain.write(&ir).map_err(|_| e)
            }
            (written, _) => written,
        }
    }

    /// The query representation of `question` (pure; no SQL). A question the rules would
    /// answer with a clarification is an abstention here.
    pub fn query(&self, question: &str, history: &[Turn]) -> Result<QueryIr> {
        match self.read(question, history, &[])? {
            Outcome::Query(ir) => Ok(*ir),
            Outcome::Ask(a) => Err(cannot_answer(
                format!(
                    "the question has several readings ({})",
                    a.clarification.question
                ),
                Vec::new(),
            )),
        }
    }

    fn read(&self, question: &str, history: &[Turn], choices: &[model::Choice]) -> Result<Outcome> {
        let tokens = grammar::share_head(crate::text::tokenize(question), &self.lexicon);
        if tokens.is_empty() {
            return Err(cannot_answer(
                "the question has no words".into(),
                Vec::new(),
            ));
        }
        let model_reading = self.model.as_deref().map(|links| grammar::ModelReading {
            links,
            spans: links.find(&tokens),
            choice: choices.iter().find_map(|c| match c {
                model::Choice::Item(i) => Some(*i),
                model::Choice::Column(..) => None,
            }),
        });
        let reading =
            grammar::read_with(&tokens, &self.lexicon, &self.values, model_reading.as_ref());
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
        if let Some(links) = &self.model
            && let Some(a) = model::ambiguous_phrase(links, &tokens, &reading.spans)
        {
            return Ok(Outcome::Ask(a));
        }
        let start_over = reading
            .spans
            .iter()
            .any(|s| matches!(s.item, grammar::Item::StartOver));
        // Only the last turn is continued: after a question the rules did not answer (or that
        // another generator answered), a follow-up has nothing of theirs to patch.
        let previous = if start_over {
            None
        } else {
            history
                .last()
                .and_then(|t| t.state.as_ref().and_then(QueryIr::from_state))
        };
        // "How many of them cost more than 20?": the previous rows are counted, and the rest of
        // the turn is read without the count (which would count the price otherwise).
        let of_them = previous.is_some() && followup::counts_referent(&tokens);
        let uncounted: Vec<grammar::Span>;
        let spans: &[grammar::Span] = if of_them {
            uncounted = reading
                .spans
                .iter()
                .filter(|s| !matches!(s.item, grammar::Item::Count(_)))
                .cloned()
                .collect();
            &uncounted
        } else {
            &reading.spans
        };
        let mut planner = plan::Planner::new(&self.lexicon, spans).plan();
        // "How many are there?": a count with nothing to count, after an answer, counts its rows.
        let bare_count = |&(a, b): &(usize, usize)| {
            reading
                .spans
                .iter()
                .any(|s| s.start == a && s.end == b && matches!(s.item, grammar::Item::Count(_)))
        };
        let counts_previous = match &previous {
            Some(prev) if of_them => {
                if !followup::count_previous(prev, &mut planner.draft, &self.lexicon) {
                    return Err(cannot_answer(
                        "the question asks how many of the previous answer's rows, and the rest of it is not a condition the rules read; ask the whole question".into(),
                        Vec::new(),
                    ));
                }
                true
            }
            Some(prev)
                if !planner.unplaced.is_empty()
                    && planner.unplaced.iter().all(bare_count)
                    && followup::count_previous(prev, &mut planner.draft, &self.lexicon) =>
            {
                planner.unplaced.clear();
                true
            }
            _ => false,
        };
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
        let mut draft = std::mem::take(&mut planner.draft);
        if let Some(links) = &self.model
            && let Some(a) =
                model::settle(links, &self.lexicon, &mut draft, choices, previous.as_ref())
        {
            return Ok(Outcome::Ask(a));
        }
        let draft = &draft;
        let reference = followup::reference(&tokens, &reading.spans)
            .or_else(|| counts_previous.then(|| "how many".to_string()));
        if let Some(word) = reference
            && !history.is_empty()
        {
            let Some(prev) = &previous else {
                if history.last().is_some_and(Turn::is_unanswered) {
                    return Err(cannot_answer(
                        format!(
                            "\"{word}\" refers to the previous question, which was not answered; ask the whole question"
                        ),
                        Vec::new(),
                    ));
                }
                return Err(cannot_answer(
                    format!(
                        "\"{word}\" refers to the previous answer, which the rules did not write (or there was none); ask the whole question"
                    ),
                    Vec::new(),
                ));
            };
            let lowers: Vec<&str> = tokens.iter().map(|t| t.lower.as_str()).collect();
            let overall = (1..=2).any(|n| {
                lowers.len() >= n && grammar::overall_words(&lowers[lowers.len() - n..]).is_some()
            });
            return followup::refer(
                prev,
                &reading.spans,
                draft,
                &self.lexicon,
                &self.graph,
                &followup::Reference {
                    word,
                    overall,
                    counts_referent: followup::counts_referent(&tokens),
                },
            )
            .map(|ir| Outcome::Query(Box::new(ir)));
        }
        if previous.is_none()
            && history.last().is_some_and(Turn::is_unanswered)
            && followup::is_follow_up(&reading.spans, draft)
            && !draft.slots.is_empty()
            && (followup::has_cue(&reading.spans) || !followup::is_complete(draft))
        {
            return Err(cannot_answer(
                "the question changes the previous one, which was not answered; ask the whole question".into(),
                Vec::new(),
            ));
        }
        if let Some(prev) = &previous
            && (followup::is_follow_up(&reading.spans, draft)
                || followup::ranks_the_groups(prev, draft, &self.lexicon, &self.graph))
        {
            return followup::patch(prev, &reading.spans, draft, &self.lexicon, &self.graph)
                .map(|ir| Outcome::Query(Box::new(ir)));
        }
        if start_over && draft.slots.is_empty() {
            return Err(cannot_answer(
                "starting over: ask a new question".into(),
                Vec::new(),
            ));
        }
        let asks_where = tokens.first().is_some_and(|t| t.lower == "where");
        resolve::resolve(draft, &self.lexicon, &self.graph, &[])?
            .query()
            .and_then(|ir| assemble::more_than_the_conditions(&self.lexicon, ir, asks_where))
            .map(|ir| Outcome::Query(Box::new(ir)))
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

    async fn refine(
        &self,
        request: &GenerationRequest,
        state: &serde_json::Value,
        remove: Option<&str>,
    ) -> Result<Generation> {
        // As `generate`: the same query would be written again.
        if let Some(failed) = request.feedback.last() {
            return Err(cannot_answer(
                format!(
                    "the query without that part was refused ({}); ask the question again without it",
                    failed.error.as_deref().unwrap_or("no reason given")
                ),
                Vec::new(),
            ));
        }
        if let Some(view) = &request.view {
            let own = view.catalog().fingerprint == self.catalog.fingerprint
                && view.policy_key().is_empty();
            if !own {
                return self.for_view(view).await?.refine_state(state, remove);
            }
        }
        self.refine_state(state, remove)
    }
}
