//! The prompt of the LLM generator, as a pure function of the request and a
//! [`PromptContext`].
//!
//! Layout: one system message with the rules of the dialect, the read-only and row-limit rules,
//! the answer format, the schema listing (pruned to `[llm] max_schema_tokens` when the whole
//! one does not fit), the values of the database the question names, the semantic model's
//! definitions that bear on the question (see `semantic`) and the most similar few-shot
//! examples (the model's verified queries first); then the conversation so far as user/assistant pairs (each earlier
//! question with the SQL that answered it, so that follow-ups such as "only 2024" can patch
//! that SQL); then the question; then, on a retry, each failed try and why it failed.
//!
//! | stage | module |
//! |---|---|
//! | words of questions and names | `terms` |
//! | the schema's words and foreign keys | `index` |
//! | values the question names | `hints` |
//! | few-shot examples | `examples` |
//! | the semantic model's measures, dimensions, filters, joins, rules and verified queries | `semantic` |
//! | relevance of tables and columns | `rank` |
//! | pruning within the token budget | `select` |
//! | the compact listing with sample values | `render`, `samples` |
//! | the token estimate | `tokens` |
//!
//! In privacy mode (`[llm] privacy_mode = true`) the prompt carries no sample values and no
//! value hints, and a database's error message on a retry loses the data values it quotes
//! (see `generate::scrub`); it never carries result rows. In either mode the
//! schema, samples, hints and examples come from the catalog the access policy lets be seen
//! (see [`DataSource::visible_catalog`](crate::DataSource::visible_catalog)).

mod context;
mod examples;
mod hints;
mod index;
mod rank;
mod render;
mod samples;
mod select;
mod semantic;
mod terms;
mod tokens;

use std::fmt::Write as _;

pub use context::{
    DEFAULT_MAX_EXAMPLES, Embeddings, PromptContext, SAMPLES_PER_COLUMN, SchemaVectors,
};
pub use examples::{FewShotExample, verify_examples};
pub use hints::ValueHint;
pub use index::SchemaIndex;
pub use rank::Relevance;
pub use samples::SampleValues;
pub use select::{SchemaSelection, ShownTable};
pub use semantic::SemanticSection;

use super::GenerationRequest;
use crate::{
    catalog::Catalog,
    dialect::Dialect,
    llm::{ChatMessage, Role},
};
use rank::{Boost, Signals, VectorSignals};

/// Earlier turns whose questions and SQL inform the ranking, most recent first.
const HISTORY_TURNS: usize = 3;

/// The schema part of one prompt and how it was chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedSchema {
    /// The shown tables and columns.
    pub selection: SchemaSelection,
    /// The listing as the prompt shows it.
    pub text: String,
    /// Estimated tokens of `text` (never above the budget when pruned).
    pub tokens: usize,
    /// Estimated tokens of the whole schema's listing.
    pub full_tokens: usize,
    /// Values the question names, with their columns (empty in privacy mode).
    pub hints: Vec<ValueHint>,
    /// The chosen examples, as (position in the context's examples, similarity).
    pub examples: Vec<(usize, f64)>,
    /// The relevance scores the selection followed.
    pub relevance: Relevance,
    /// The semantic model's part (empty without a model).
    pub semantic: SemanticSection,
}

/// A rendered prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// The chat messages, system message first.
    pub messages: Vec<ChatMessage>,
    /// The schema part and how it was chosen.
    pub schema: LinkedSchema,
}

/// Renders the chat messages for `request` with an empty [`PromptContext`]: the whole schema
/// when it fits the default budget, no values, no examples.
pub fn render(request: &GenerationRequest) -> Vec<ChatMessage> {
    render_with(request, &PromptContext::new(), None).messages
}

/// Renders the prompt for `request` with `context`, and `embeddings` when an embedder is
/// configured (see [`PromptContext::embeddings`]).
pub fn render_with(
    request: &GenerationRequest,
    context: &PromptContext,
    embeddings: Option<&Embeddings>,
) -> Prompt {
    let schema = link_schema(request, context, embeddings);
    let mut messages = vec![ChatMessage::new(
        Role::System,
        system_message(request, context, &schema),
    )];
    for turn in &request.history {
        messages.push(ChatMessage::new(Role::User, turn.question.clone()));
        messages.push(ChatMessage::new(
            Role::Assistant,
            answer_json(&turn.sql, &turn.explanation),
        ));
    }
    messages.push(ChatMessage::new(Role::User, request.question.clone()));
    for attempt in &request.feedback {
        messages.push(ChatMessage::new(
            Role::Assistant,
            answer_json(&attempt.sql, ""),
        ));
        let error = attempt.error.as_deref().unwrap_or("the query failed");
        let error = if context.privacy_mode {
            private_feedback(error, &request.catalog, &attempt.sql)
        } else {
            error.to_string()
        };
        messages.push(ChatMessage::new(
            Role::User,
            format!(
                "That SQL failed: {error}\nWrite a corrected query for the same question. Answer with the JSON object only."
            ),
        ));
    }
    Prompt { messages, schema }
}

/// Chooses the schema part of the prompt for `request`: ranks tables and columns by relevance
/// to the question and the conversation, and prunes the listing to the context's token budget.
pub fn link_schema(
    request: &GenerationRequest,
    context: &PromptContext,
    embeddings: Option<&Embeddings>,
) -> LinkedSchema {
    let catalog = &request.catalog;
    let prepared = context.prepared(catalog);
    let index = &prepared.index;

    let hints = match &context.values {
        Some(values) => hints::value_hints(&request.question, values, index),
        None => Vec::new(),
    };
    let mut signals = Signals {
        terms: terms::terms(&request.question, 1.0),
        value_columns: hints.iter().flat_map(|h| h.columns.clone()).collect(),
        time: terms::mentions_time(&request.question),
        ..Signals::default()
    };
    let mut weight = 1.0;
    for turn in request.history.iter().rev().take(HISTORY_TURNS) {
        for t in terms::terms(&turn.question, weight / 2.0) {
            if !signals.terms.iter().any(|s| s.word == t.word) {
                signals.terms.push(t);
            }
        }
        if let Ok(v) = prepared.validator.validate(&turn.sql) {
            signals.boosts.push(Boost {
                tables: v.tables.iter().filter_map(|t| index.table(t)).collect(),
                columns: v
                    .columns
                    .iter()
                    .filter_map(|(t, c)| {
                        let t = index.table(t)?;
                        Some((t, index.column(t, c)?))
                    })
                    .collect(),
                weight,
            });
        }
        weight /= 2.0;
    }

    let example_vectors = embeddings.map(|e| (e.question.as_slice(), e.schema.examples.as_slice()));
    let chosen = examples::most_similar(
        &examples::question_words(&request.question),
        &prepared.examples,
        example_vectors,
        context.max_examples,
    );
    for &(i, similarity) in &chosen {
        let info = &prepared.examples[i];
        signals.boosts.push(Boost {
            tables: info.tables.clone(),
            columns: info.columns.clone(),
            weight: similarity,
        });
    }
    // The semantic model as the asker sees it: its items the question touches favour their
    // tables and columns.
    let model = match &request.view {
        Some(view) => view.semantic().cloned(),
        None => context.semantic.clone(),
    };
    let semantic = match &model {
        Some(m) => {
            let section = semantic::section(
                m,
                &request.question,
                semantic::budget(context.max_schema_tokens),
                context.max_examples,
                &prepared.validator,
                catalog,
            );
            let boost = semantic::boost(m, &section, index);
            if !boost.tables.is_empty() {
                signals.boosts.push(boost);
            }
            section
        }
        None => SemanticSection::default(),
    };
    signals.vectors = embeddings.map(|e| VectorSignals {
        question: &e.question,
        tables: &e.schema.tables,
        columns: &e.schema.columns,
    });

    let relevance = rank::rank(index, &signals);
    let renderer = context.renderer(catalog);
    let selection = select::select(
        index,
        &relevance,
        &renderer,
        context.max_schema_tokens,
        prepared.full_tokens,
    );
    let text = if selection.pruned {
        renderer.render(&selection)
    } else {
        prepared.full_text.clone()
    };
    let shown = |t: usize, c: usize| {
        selection
            .tables
            .iter()
            .any(|s| s.table == t && s.columns.contains(&c))
    };
    let hints = if context.privacy_mode {
        Vec::new()
    } else {
        hints
            .into_iter()
            .filter_map(|mut h| {
                h.columns.retain(|&(t, c)| shown(t, c));
                (!h.columns.is_empty()).then_some(h)
            })
            .collect()
    };
    LinkedSchema {
        tokens: tokens::estimate_tokens(&text),
        full_tokens: prepared.full_tokens,
        selection,
        text,
        hints,
        examples: chosen,
        relevance,
        semantic,
    }
}

/// A failed try's error as the model may read it in privacy mode: a database's message loses
/// its data values (see `generate::scrub`); the validator's reasons, built from
/// the SQL and the catalog, stay as they are.
fn private_feedback(error: &str, catalog: &Catalog, sql: &str) -> String {
    use crate::generate::{correct::DATABASE_REPORTED, scrub::scrub_database_message};
    match error.strip_prefix(DATABASE_REPORTED) {
        Some(message) => format!(
            "{DATABASE_REPORTED}{}",
            scrub_database_message(message, catalog, sql)
        ),
        None => error.to_string(),
    }
}

fn answer_json(sql: &str, explanation: &str) -> String {
    #[derive(serde::Serialize)]
    struct Reply<'a> {
        sql: &'a str,
        explanation: &'a str,
    }
    serde_json::to_string(&Reply { sql, explanation }).unwrap_or_default()
}

fn system_message(
    request: &GenerationRequest,
    context: &PromptContext,
    schema: &LinkedSchema,
) -> String {
    let catalog = &request.catalog;
    let dialect = match catalog.dialect {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
        Dialect::Mysql => "MySQL/MariaDB",
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "You translate business questions into one {dialect} SQL query over the database described below."
    );
    s.push_str("\nRules:\n");
    s.push_str("- Write exactly one read-only query: SELECT or WITH ... SELECT. Never modify data or schema, never use several statements.\n");
    s.push_str("- Use only the tables and columns listed below, spelled exactly as listed; join along the foreign keys shown.\n");
    let _ = writeln!(
        s,
        "- At most {} rows can be returned; use ORDER BY with LIMIT for \"top\" questions.",
        request.max_rows
    );
    s.push_str("- Use only standard aggregate, window, string, math, date/time, conditional and cast functions.\n");
    s.push_str("- Give result columns short, readable aliases.\n");
    s.push_str(match catalog.dialect {
        Dialect::Sqlite => {
            "- SQLite dates are text: use strftime('%Y', col) for the year and strftime('%Y-%m', col) for the month.\n"
        }
        Dialect::Postgres => {
            "- PostgreSQL: use EXTRACT(YEAR FROM col) or date_trunc('month', col); quote mixed-case identifiers with double quotes.\n"
        }
        Dialect::Mysql => "- MySQL: use YEAR(col) and DATE_FORMAT(col, '%Y-%m'); quote identifiers with backticks when needed.\n",
    });
    s.push_str(
        "- A follow-up question refines the previous query: keep what it does not change.\n",
    );
    s.push_str(
        "\nAnswer with one JSON object and nothing else: {\"sql\": \"<the query>\", \"explanation\": \"<one sentence saying what the query returns>\"}\n",
    );
    let _ = write!(s, "\nSchema ({dialect}):\n{}", schema.text);
    if !schema.hints.is_empty() {
        s.push_str("\nValues the question names, as stored in the database:\n");
        for hint in &schema.hints {
            let columns: Vec<String> = hint
                .columns
                .iter()
                .map(|&(t, c)| {
                    let table = &catalog.tables[t];
                    format!("{}.{}", table.qualified_name(), table.columns[c].name)
                })
                .collect();
            let _ = writeln!(
                s,
                "- {}: {}",
                catalog.dialect.quote_string(&hint.value),
                columns.join(", ")
            );
        }
    }
    if !schema.semantic.text.is_empty() {
        let _ = write!(
            s,
            "\nBusiness definitions (the semantic model; prefer them to your own reading of the schema):\n{}",
            schema.semantic.text
        );
    }
    if !schema.examples.is_empty() || !schema.semantic.examples_text.is_empty() {
        s.push_str("\nExamples of questions with SQL that answers them on this database:\n");
        s.push_str(&schema.semantic.examples_text);
        for &(i, _) in &schema.examples {
            let example = &context.examples[i];
            let _ = writeln!(
                s,
                "Question: {}\nSQL: {}",
                example.question,
                example.sql.trim()
            );
        }
    }
    s.truncate(s.trim_end().len());
    s
}

/// The whole schema listing of `catalog` as prompts show it, without sample values: one line
/// per table with typed columns, keys and comments.
pub fn render_schema(catalog: &Catalog) -> String {
    let index = SchemaIndex::new(catalog, None);
    render::SchemaRenderer {
        catalog,
        samples: None,
    }
    .render(&SchemaSelection::whole(&index))
}

#[cfg(test)]
mod tests;
