//! A few sample values per categorical text column (one with at most
//! [`MAX_SAMPLED_DISTINCT`] distinct values: countries, genres, statuses), shown next to the
//! column in the prompt so that the model writes `'USA'` rather than `'United States'`. Names
//! and titles with thousands of values gain little from three examples and cost many tokens.
//!
//! The samples come from the value index (the first values in alphabetical order), or, without
//! one, from one bounded `SELECT DISTINCT ... LIMIT` per text column, built with quoted names,
//! judged by the validator and run read-only through the executor. Keys, contact details, free
//! text and secrets are never sampled (the value index's own rule), nor is anything outside the
//! catalog given (for a data source, the one its access policy lets be seen), and nothing is
//! collected in privacy mode.

use std::collections::{BTreeMap, HashMap};

use crate::{
    catalog::Catalog,
    exec::{Executor, Value},
    sql::Validator,
    values::{ValueIndex, is_candidate, read_distinct},
};

/// Values longer than this are not shown.
const MAX_SAMPLE_CHARS: usize = 40;
/// Columns with more distinct values than this get no samples.
pub const MAX_SAMPLED_DISTINCT: usize = 100;

/// Sample values by (table name, column name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleValues {
    by_column: HashMap<(String, String), Vec<String>>,
}

impl SampleValues {
    /// No samples.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Sets the samples of one column; values that are blank, longer than 40 characters or hold
    /// control characters are left out.
    pub fn insert(&mut self, table: &str, column: &str, values: Vec<String>) {
        let values: Vec<String> = values.into_iter().filter(|v| is_showable(v)).collect();
        if !values.is_empty() {
            self.by_column
                .insert((table.to_string(), column.to_string()), values);
        }
    }

    /// The samples of `table.column` (empty when it has none).
    pub fn get(&self, table: &str, column: &str) -> &[String] {
        self.by_column
            .get(&(table.to_string(), column.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// The number of columns with samples.
    pub fn len(&self) -> usize {
        self.by_column.len()
    }

    /// Whether no column has samples.
    pub fn is_empty(&self) -> bool {
        self.by_column.is_empty()
    }

    /// Every sample value, for checks that none leaves in privacy mode.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.by_column.values().flatten().map(String::as_str)
    }

    /// Up to `per_column` values, in alphabetical order, of every column of `values` with at
    /// most `MAX_SAMPLED_DISTINCT` values.
    pub fn from_value_index(values: &ValueIndex, per_column: usize) -> Self {
        let mut grouped: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
        for hit in values.hits() {
            grouped
                .entry((hit.column.table.clone(), hit.column.column.clone()))
                .or_default()
                .push(&hit.value);
        }
        let mut samples = Self::empty();
        for ((table, column), mut vals) in grouped {
            if vals.len() > MAX_SAMPLED_DISTINCT {
                continue;
            }
            vals.retain(|v| is_showable(v));
            vals.sort_unstable();
            vals.dedup();
            vals.truncate(per_column);
            samples.insert(
                &table,
                &column,
                vals.into_iter().map(str::to_string).collect(),
            );
        }
        samples
    }

    /// Samples of every categorical text column of `catalog`, read through `executor` with one
    /// `SELECT DISTINCT ... LIMIT` per column that must first pass `validator` (for use without
    /// a value index). A column whose statement is refused or fails has no samples.
    pub async fn collect(
        executor: &dyn Executor,
        validator: &Validator,
        catalog: &Catalog,
        per_column: usize,
    ) -> Self {
        let mut samples = Self::empty();
        if per_column == 0 {
            return samples;
        }
        for table in &catalog.tables {
            for column in &table.columns {
                if !is_candidate(table, column) {
                    continue;
                }
                let read = read_distinct(
                    executor,
                    validator,
                    None,
                    catalog,
                    table,
                    column,
                    MAX_SAMPLED_DISTINCT + 1,
                )
                .await;
                if let Some(result) = read
                    && result.rows.len() <= MAX_SAMPLED_DISTINCT
                    && !result.truncated
                {
                    let mut vals: Vec<String> = result
                        .rows
                        .iter()
                        .filter_map(|r| match r.first() {
                            Some(Value::Text(v)) if is_showable(v) => Some(v.clone()),
                            _ => None,
                        })
                        .collect();
                    vals.sort_unstable();
                    vals.truncate(per_column);
                    samples.insert(&table.name, &column.name, vals);
                }
            }
        }
        samples
    }
}

fn is_showable(v: &str) -> bool {
    !v.trim().is_empty()
        && v.chars().count() <= MAX_SAMPLE_CHARS
        && !v.chars().any(char::is_control)
}
