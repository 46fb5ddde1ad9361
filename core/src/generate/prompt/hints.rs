//! Value hints: values stored in the database that the question names, with the columns that
//! hold them ("'Germany': Customer.Country, Invoice.BillingCountry"), found in the value index
//! by runs of question words that spell a known value. Longer runs come first; the words of a
//! run are also looked up alone ("Penelope Guiness" may be one value of a view and two of the
//! base table, `first_name` and `last_name`).

use super::index::SchemaIndex;
use crate::{
    text,
    values::{ValueIndex, phrase_key},
};

/// At most this many hints per question.
pub const MAX_HINTS: usize = 8;
/// At most this many columns per hint.
pub const MAX_HINT_COLUMNS: usize = 4;

/// A value the question names and where it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueHint {
    /// The value exactly as stored.
    pub value: String,
    /// (table, column) indexes of the columns holding it.
    pub columns: Vec<(usize, usize)>,
}

/// The values of `values` that words of `question` spell, longest runs first.
pub fn value_hints(question: &str, values: &ValueIndex, index: &SchemaIndex) -> Vec<ValueHint> {
    let tokens = text::tokenize(question);
    let lowers: Vec<&str> = tokens.iter().map(|t| t.lower.as_str()).collect();
    let usable = |i: usize| {
        !tokens[i].quoted && tokens[i].number.is_none() && !text::is_stop_word(lowers[i])
    };
    // (start, words) of every run that spells a value, longest first.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.quoted {
            runs.push((i, 1));
            continue;
        }
        if !usable(i) {
            continue;
        }
        let max = values.max_words().min(tokens.len() - i);
        for n in 1..=max {
            if tokens[i..i + n].iter().any(|t| t.quoted) {
                break;
            }
            if !usable(i + n - 1) {
                continue;
            }
            runs.push((i, n));
        }
    }
    runs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut hints: Vec<ValueHint> = Vec::new();
    // The columns a longer run already found at each word: a shorter run inside it adds only
    // other columns ("Rock" inside "Rock And Roll" is not a second genre).
    let mut covered: Vec<Vec<(usize, usize)>> = vec![Vec::new(); tokens.len()];
    for (i, n) in runs {
        let key = if tokens[i].quoted {
            phrase_key(&tokens[i].raw)
        } else {
            text::fold_string(lowers[i..i + n].join(" "))
        };
        let mut found = Vec::new();
        for hit in values.lookup(&key) {
            let Some(t) = index.table(&hit.column.table) else {
                continue;
            };
            let Some(c) = index.column(t, &hit.column.column) else {
                continue;
            };
            if covered[i..i + n].iter().any(|cols| cols.contains(&(t, c))) {
                continue;
            }
            found.push((t, c));
            if let Some(h) = hints.iter_mut().find(|h| h.value == hit.value) {
                if !h.columns.contains(&(t, c)) && h.columns.len() < MAX_HINT_COLUMNS {
                    h.columns.push((t, c));
                }
            } else if hints.len() < MAX_HINTS {
                hints.push(ValueHint {
                    value: hit.value.clone(),
                    columns: vec![(t, c)],
                });
            }
        }
        for cols in &mut covered[i..i + n] {
            cols.extend(&found);
        }
    }
    hints
}
