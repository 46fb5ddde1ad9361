//! Few-shot examples: verified question–SQL pairs supplied by the user (`[[llm.examples]]` or
//! the API). Each is checked by the validator when the engine starts; for each question the
//! most similar ones go into the prompt, and the tables and columns their SQL reads are
//! favoured by the schema ranking.
//!
//! Similarity is the overlap of content words (Dice coefficient over canonical word forms)
//! and, when an embedder is configured, the mean of that and the cosine similarity of the
//! questions' embeddings.

use std::collections::BTreeSet;

use super::{index::SchemaIndex, terms::terms};
use crate::{
    embed::cosine,
    error::{Error, Result},
    sql::Validator,
};

pub use crate::config::FewShotExample;

/// Examples less similar than this are not shown.
pub const MIN_SIMILARITY: f64 = 0.2;

/// Checks the SQL of every example with `validator`. The error names the example (its position
/// and question) and says why its SQL was refused.
pub fn verify_examples(examples: &[FewShotExample], validator: &Validator) -> Result<()> {
    for (i, example) in examples.iter().enumerate() {
        if let Err(e) = validator.validate(&example.sql) {
            let why = match &e {
                Error::SqlRejected { reason, .. } => reason.clone(),
                other => other.to_string(),
            };
            return Err(Error::Config {
                message: format!(
                    "few-shot example {} ([[llm.examples]] \"{}\"): its SQL is refused by the validator: {why}; \
                     correct the SQL so that it runs on this database, or remove the example",
                    i + 1,
                    example.question
                ),
                key: Some(format!("llm.examples[{i}].sql")),
                file: None,
                line: None,
            });
        }
    }
    Ok(())
}

/// What the ranking and the selection need of one example, for one catalog.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExampleInfo {
    /// Canonical forms of its question's content words.
    pub words: BTreeSet<String>,
    /// Tables its SQL reads.
    pub tables: Vec<usize>,
    /// Columns its SQL names.
    pub columns: Vec<(usize, usize)>,
}

impl ExampleInfo {
    /// Reads `example` against `index` (its SQL through `validator`; an example the validator
    /// refuses favours no table).
    pub(crate) fn new(
        example: &FewShotExample,
        validator: &Validator,
        index: &SchemaIndex,
    ) -> Self {
        let mut info = Self {
            words: question_words(&example.question),
            ..Self::default()
        };
        if let Ok(v) = validator.validate(&example.sql) {
            info.tables = v.tables.iter().filter_map(|t| index.table(t)).collect();
            info.columns = v
                .columns
                .iter()
                .filter_map(|(t, c)| {
                    let t = index.table(t)?;
                    Some((t, index.column(t, c)?))
                })
                .collect();
        }
        info
    }
}

/// The canonical content words of a question.
pub(crate) fn question_words(question: &str) -> BTreeSet<String> {
    terms(question, 1.0)
        .into_iter()
        .map(|t| t.word.norm)
        .collect()
}

/// The Dice coefficient of two word sets.
fn dice(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    2.0 * a.intersection(b).count() as f64 / (a.len() + b.len()) as f64
}

/// The `max` examples most similar to the question (words `words`, embedding `vector`), as
/// (position, similarity), most similar first; ties keep the examples' order.
pub(crate) fn most_similar(
    words: &BTreeSet<String>,
    infos: &[ExampleInfo],
    vectors: Option<(&[f32], &[Vec<f32>])>,
    max: usize,
) -> Vec<(usize, f64)> {
    let mut scored: Vec<(usize, f64)> = infos
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let lexical = dice(words, &info.words);
            let sim = match vectors {
                Some((q, all)) => match all.get(i) {
                    Some(v) => (lexical + f64::from(cosine(q, v))) / 2.0,
                    None => lexical,
                },
                None => lexical,
            };
            (i, sim)
        })
        .filter(|(_, s)| *s >= MIN_SIMILARITY)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(max);
    scored
}
