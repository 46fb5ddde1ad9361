//! Relevance of every table and column to a question and its conversation.
//!
//! Lexical evidence: each content word of the question (and, weighted less, of the earlier
//! questions) is matched against table and column names, comments and the words of known
//! values ([`super::terms::word_match`]); a word that matches many tables counts less (an
//! inverse document frequency over tables). Values of the database named in the question (the
//! value hints) point straight at their columns. Tables and columns used by the earlier turns'
//! SQL and by the selected few-shot examples are boosted, so that a follow-up keeps the tables
//! it refines. With embeddings, the cosine similarity of the question to each table and column,
//! above the schema's mean, adds to the score.

use super::{
    index::SchemaIndex,
    terms::{Term, Word, word_match},
};
use crate::embed::cosine;

/// Scores of tables and columns (0 = no evidence; higher is more relevant).
#[derive(Debug, Clone, PartialEq)]
pub struct Relevance {
    /// One score per catalog table.
    pub tables: Vec<f64>,
    /// One score per column of each table.
    pub columns: Vec<Vec<f64>>,
}

impl Relevance {
    /// Table indexes, most relevant first (ties in catalog order).
    pub fn table_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.tables.len()).collect();
        order.sort_by(|&a, &b| self.tables[b].total_cmp(&self.tables[a]).then(a.cmp(&b)));
        order
    }
}

/// Tables and columns to favour, with a weight (earlier turns' SQL, examples' SQL).
#[derive(Debug, Clone, Default)]
pub(crate) struct Boost {
    pub tables: Vec<usize>,
    pub columns: Vec<(usize, usize)>,
    pub weight: f64,
}

/// Embedding vectors of the question and of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VectorSignals<'a> {
    pub question: &'a [f32],
    pub tables: &'a [Vec<f32>],
    pub columns: &'a [Vec<Vec<f32>>],
}

/// Everything the ranking reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct Signals<'a> {
    /// Content words of the question and of earlier questions, weighted.
    pub terms: Vec<Term>,
    /// Columns holding values the question names.
    pub value_columns: Vec<(usize, usize)>,
    /// Tables and columns to favour.
    pub boosts: Vec<Boost>,
    /// Embeddings, when an embedder is configured.
    pub vectors: Option<VectorSignals<'a>>,
    /// Whether the question asks about time (a year, a month, "monthly", "when").
    pub time: bool,
}

/// Weight of a match in a table's own name relative to a column's.
const TABLE_NAME: f64 = 1.5;
/// Weight of a comment match relative to a name match.
const COMMENT: f64 = 0.5;
/// Weight of a question word found among a column's values.
const VALUE_WORD: f64 = 0.4;
/// Score of a column holding a value named in the question.
const VALUE_HINT: f64 = 1.5;
/// Weight of the embedding similarity of tables; columns get half.
const EMBEDDING: f64 = 2.0;
/// Score of a date or time column when the question asks about time (not counted for its
/// table: every table has dates).
const TIME: f64 = 0.5;

fn best(term: &Word, words: &[Word]) -> f64 {
    words
        .iter()
        .map(|w| word_match(term, w))
        .fold(0.0, f64::max)
}

/// Scores every table and column of `index` for `signals`.
pub(crate) fn rank(index: &SchemaIndex, signals: &Signals<'_>) -> Relevance {
    let tables = &index.tables;
    // Inverse document frequency over tables: a word found in many tables says little.
    let idf: Vec<f64> = signals
        .terms
        .iter()
        .map(|t| {
            let df = tables
                .iter()
                .filter(|td| {
                    best(&t.word, &td.words) > 0.0
                        || best(&t.word, &td.comment) > 0.0
                        || td.columns.iter().any(|c| {
                            best(&t.word, &c.words) > 0.0
                                || best(&t.word, &c.comment) > 0.0
                                || c.value_stems.contains(&t.word.stem)
                        })
                })
                .count();
            if df == 0 {
                0.0
            } else {
                1.0 / (1.0 + (df as f64).ln())
            }
        })
        .collect();
    let weighted = || {
        signals
            .terms
            .iter()
            .zip(&idf)
            .filter(|(_, idf)| **idf > 0.0)
    };

    let mut columns: Vec<Vec<f64>> = tables
        .iter()
        .map(|td| {
            td.columns
                .iter()
                .map(|c| {
                    weighted()
                        .map(|(t, idf)| {
                            let value = if c.value_stems.contains(&t.word.stem) {
                                VALUE_WORD
                            } else {
                                0.0
                            };
                            t.weight
                                * idf
                                * (best(&t.word, &c.words)
                                    + COMMENT * best(&t.word, &c.comment)
                                    + value)
                        })
                        .sum()
                })
                .collect()
        })
        .collect();
    for &(t, c) in &signals.value_columns {
        columns[t][c] += VALUE_HINT;
    }
    let mut table_boost = vec![0.0; tables.len()];
    for boost in &signals.boosts {
        for &t in &boost.tables {
            table_boost[t] += 2.0 * boost.weight;
        }
        for &(t, c) in &boost.columns {
            columns[t][c] += VALUE_HINT * boost.weight;
        }
    }
    if let Some(v) = &signals.vectors {
        for (t, td) in tables.iter().enumerate() {
            let Some(vectors) = v.columns.get(t) else {
                continue;
            };
            let sims: Vec<f64> = vectors
                .iter()
                .map(|c| f64::from(cosine(v.question, c)))
                .collect();
            for (c, z) in above_mean(&sims)
                .into_iter()
                .enumerate()
                .take(td.columns.len())
            {
                columns[t][c] += EMBEDDING / 2.0 * z;
            }
        }
    }

    let mut scores: Vec<f64> = tables
        .iter()
        .enumerate()
        .map(|(i, td)| {
            let mut own = 0.0;
            let mut covered = vec![false; td.words.len()];
            for (t, idf) in weighted() {
                let mut name = 0.0f64;
                for (k, w) in td.words.iter().enumerate() {
                    let m = word_match(&t.word, w);
                    if m >= 0.6 {
                        covered[k] = true;
                    }
                    name = name.max(m);
                }
                own += t.weight * idf * (name + COMMENT * best(&t.word, &td.comment));
            }
            // A name only partly named ("film" for `film_actor`) counts less than a whole one.
            let coverage = if covered.is_empty() {
                0.0
            } else {
                covered.iter().filter(|c| **c).count() as f64 / covered.len() as f64
            };
            let mut cols = columns[i].clone();
            cols.sort_by(|a, b| b.total_cmp(a));
            let top = cols.first().copied().unwrap_or(0.0);
            let rest: f64 = cols.iter().skip(1).sum();
            TABLE_NAME * own * (0.5 + 0.5 * coverage) + top + 0.25 * rest.min(2.0) + table_boost[i]
        })
        .collect();
    if let Some(v) = &signals.vectors {
        let sims: Vec<f64> = v
            .tables
            .iter()
            .map(|t| f64::from(cosine(v.question, t)))
            .collect();
        for (t, z) in above_mean(&sims).into_iter().enumerate().take(scores.len()) {
            scores[t] += EMBEDDING * z;
        }
    }
    if signals.time {
        for (t, td) in tables.iter().enumerate() {
            for (c, col) in td.columns.iter().enumerate() {
                if col.temporal {
                    columns[t][c] += TIME;
                }
            }
        }
    }
    Relevance {
        tables: scores,
        columns,
    }
}

/// How far each similarity lies above the mean, scaled so that the highest is 1; all zeros
/// when nothing stands out.
fn above_mean(sims: &[f64]) -> Vec<f64> {
    if sims.is_empty() {
        return Vec::new();
    }
    let mean = sims.iter().sum::<f64>() / sims.len() as f64;
    let top = sims.iter().copied().fold(f64::MIN, f64::max) - mean;
    if top < 0.05 {
        return vec![0.0; sims.len()];
    }
    sims.iter().map(|s| ((s - mean) / top).max(0.0)).collect()
}
