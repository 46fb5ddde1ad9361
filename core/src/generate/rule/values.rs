//! Value grounding: an index of the distinct values of low-cardinality text columns, so that
//! "in Germany" becomes `Country = 'Germany'` and "Rock tracks" finds the genre named Rock.
//!
//! The index is built once per catalog by bounded queries (one `SELECT DISTINCT ... LIMIT` per
//! text column) and held in memory under a total cap; lookups are pure.

use std::collections::HashMap;

use crate::{
    catalog::{Catalog, Column},
    error::Result,
    exec::{Executor, Value},
};

use super::{compile::quote_ident, ir::ColumnRef, lexicon};

/// Bounds of a [`ValueIndex`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueIndexLimits {
    /// Columns with more distinct values than this are left out.
    pub max_distinct_per_column: usize,
    /// The same bound for a table's name or title column, which questions name most often.
    pub max_distinct_label_column: usize,
    /// Longer values are left out.
    pub max_value_chars: usize,
    /// At most this many values over all columns.
    pub max_total_values: usize,
}

impl Default for ValueIndexLimits {
    fn default() -> Self {
        Self {
            max_distinct_per_column: 200,
            max_distinct_label_column: 1000,
            max_value_chars: 60,
            max_total_values: 50_000,
        }
    }
}

/// A known value of a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueHit {
    /// The column holding the value.
    pub column: ColumnRef,
    /// The value exactly as stored.
    pub value: String,
}

/// Distinct values of text columns, looked up by their words.
#[derive(Debug, Clone, Default)]
pub struct ValueIndex {
    by_phrase: HashMap<String, Vec<ValueHit>>,
    max_words: usize,
    total: usize,
}

impl ValueIndex {
    /// An index that knows no values.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Reads the distinct values of every low-cardinality text column of `catalog` through
    /// `executor`, within `limits`. A column whose query fails is skipped.
    pub async fn build(
        executor: &dyn Executor,
        catalog: &Catalog,
        limits: &ValueIndexLimits,
    ) -> Result<Self> {
        let mut index = Self::empty();
        'tables: for table in &catalog.tables {
            for column in &table.columns {
                if !is_candidate(table, column) {
                    continue;
                }
                let cap = if is_label_name(&column.name) {
                    limits.max_distinct_label_column
                } else {
                    limits.max_distinct_per_column
                };
                let col = quote_ident(catalog.dialect, &column.name);
                let sql = format!(
                    "SELECT DISTINCT {col} FROM {} WHERE {col} IS NOT NULL LIMIT {}",
                    quote_table(catalog, table),
                    cap + 1
                );
                let result = match executor.execute(&sql).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::debug!(table = %table.name, column = %column.name, error = %e, "value index skips a column");
                        continue;
                    }
                };
                if result.rows.len() > cap || result.truncated {
                    continue;
                }
                let column_ref = ColumnRef::new(&table.name, &column.name);
                for row in &result.rows {
                    if let Some(Value::Text(v)) = row.first()
                        && v.chars().count() <= limits.max_value_chars
                    {
                        index.insert(column_ref.clone(), v);
                    }
                    if index.total >= limits.max_total_values {
                        break 'tables;
                    }
                }
            }
        }
        Ok(index)
    }

    /// Adds one value of `column`; returns whether it can ever be matched by a question.
    pub fn insert(&mut self, column: ColumnRef, value: &str) -> bool {
        let key = phrase_key(value);
        if key.is_empty() || !is_groundable(&key) {
            return false;
        }
        let hits = self.by_phrase.entry(key.clone()).or_default();
        if hits.iter().any(|h| h.column == column) {
            return false;
        }
        hits.push(ValueHit {
            column,
            value: value.to_string(),
        });
        self.max_words = self.max_words.max(key.split(' ').count());
        self.total += 1;
        true
    }

    /// The values whose words are exactly `phrase` (lower case, single spaces).
    pub fn lookup(&self, phrase: &str) -> &[ValueHit] {
        self.by_phrase.get(phrase).map_or(&[], Vec::as_slice)
    }

    /// Every value in the index, in no particular order.
    pub fn hits(&self) -> impl Iterator<Item = &ValueHit> {
        self.by_phrase.values().flatten()
    }

    /// The most words any value has.
    pub fn max_words(&self) -> usize {
        self.max_words
    }

    /// How many values the index holds.
    pub fn len(&self) -> usize {
        self.total
    }

    /// Whether the index holds no value.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// The lookup key of a text: its words, lower case without accents, single spaces.
pub fn phrase_key(text: &str) -> String {
    lexicon::fold(
        &lexicon::tokenize(text)
            .iter()
            .map(|t| t.lower.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn is_groundable(key: &str) -> bool {
    let words: Vec<&str> = key.split(' ').collect();
    if words.len() == 1 {
        let w = words[0];
        if w.chars().count() < 2
            || lexicon::is_stop_word(w)
            || lexicon::word_token(w).number.is_some()
            || lexicon::month(w).is_some()
            || super::grammar::is_grammar_word(w)
        {
            return false;
        }
    }
    !words
        .iter()
        .all(|w| lexicon::is_stop_word(w) || w.chars().all(|c| c.is_ascii_digit()))
}

pub(crate) fn quote_table(catalog: &Catalog, table: &crate::catalog::Table) -> String {
    match &table.schema {
        Some(s) => format!(
            "{}.{}",
            quote_ident(catalog.dialect, s),
            quote_ident(catalog.dialect, &table.name)
        ),
        None => quote_ident(catalog.dialect, &table.name),
    }
}

/// Whether a column's name says it holds a name or title.
pub fn is_label_name(name: &str) -> bool {
    let words = lexicon::identifier_words(name);
    matches!(
        words.last().map(String::as_str),
        Some("name" | "title" | "label")
    )
}

/// Whether `column` of `table` is a text column whose values may be read into the index (and
/// shown as examples): not a key, and not contact details, free text or secrets.
pub(crate) fn is_candidate(table: &crate::catalog::Table, column: &Column) -> bool {
    let ty = column.data_type.to_lowercase();
    let text = ty.contains("char")
        || ty.contains("text")
        || ty.contains("clob")
        || ty.contains("string")
        || ty.is_empty();
    if !text || table.primary_key.iter().any(|p| p == &column.name) {
        return false;
    }
    if table
        .foreign_keys
        .iter()
        .any(|fk| fk.columns.iter().any(|c| c == &column.name))
    {
        return false;
    }
    let words = lexicon::identifier_words(&column.name);
    !words.iter().any(|w| {
        matches!(
            w.as_str(),
            "email"
                | "mail"
                | "phone"
                | "fax"
                | "address"
                | "url"
                | "password"
                | "description"
                | "comment"
                | "comments"
                | "note"
                | "notes"
                | "photo"
                | "picture"
                | "image"
                | "hash"
                | "token"
                | "uuid"
                | "guid"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::rule::testdb;

    #[test]
    fn lookup_by_words_ignores_case_and_punctuation() {
        let mut index = ValueIndex::empty();
        assert!(index.insert(ColumnRef::new("Artist", "Name"), "AC/DC"));
        assert!(index.insert(ColumnRef::new("Genre", "Name"), "Rock And Roll"));
        assert!(!index.insert(ColumnRef::new("Genre", "Name"), "The"));
        assert!(!index.insert(ColumnRef::new("T", "Code"), "2023"));
        assert_eq!(index.lookup("ac dc")[0].value, "AC/DC");
        assert_eq!(index.lookup("rock and roll").len(), 1);
        assert!(index.lookup("rock").is_empty());
        assert_eq!(index.max_words(), 3);
        assert_eq!(index.len(), 2);
    }

    #[tokio::test]
    async fn chinook_index_holds_countries_and_genres_within_bounds() {
        let db = testdb::open("chinook").await;
        let catalog = db.catalog().await.expect("catalog");
        let index = ValueIndex::build(db.as_ref(), &catalog, &ValueIndexLimits::default())
            .await
            .expect("builds");
        let germany: Vec<String> = index
            .lookup("germany")
            .iter()
            .map(|h| format!("{}.{}", h.column.table, h.column.column))
            .collect();
        assert!(
            germany.contains(&"Customer.Country".to_string()),
            "{germany:?}"
        );
        assert!(germany.contains(&"Invoice.BillingCountry".to_string()));
        assert_eq!(
            index.lookup("rock")[0].column,
            ColumnRef::new("Genre", "Name")
        );
        assert_eq!(index.lookup("led zeppelin")[0].column.table, "Artist");
        // Track names (3,500 of them) are over the bound and stay out.
        assert!(index.lookup("princess of the dawn").is_empty());
        let small = ValueIndex::build(
            db.as_ref(),
            &catalog,
            &ValueIndexLimits {
                max_total_values: 10,
                ..ValueIndexLimits::default()
            },
        )
        .await
        .expect("builds");
        assert_eq!(small.len(), 10);
    }
}
