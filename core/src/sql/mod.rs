//! The SQL validator: pure, dialect-aware policy over untrusted SQL.
//!
//! Accepts exactly one read-only query and nothing else, checks every table, column and function
//! against the catalog and the allow-lists, strips comments, and adds or clamps the row limit.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{catalog::Catalog, dialect::Dialect, error::Result};

pub mod functions;

pub use functions::is_function_allowed;

/// The rule that refused a statement. Its snake_case name is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RejectRule {
    /// The SQL does not parse in the source's dialect.
    ParseError,
    /// Empty input.
    Empty,
    /// More than one statement.
    MultipleStatements,
    /// A statement that is not a read-only query (DML, DDL, DCL, transaction control, ...).
    NotAQuery,
}

impl RejectRule {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ParseError => "parse_error",
            Self::Empty => "empty",
            Self::MultipleStatements => "multiple_statements",
            Self::NotAQuery => "not_a_query",
        }
    }
}

impl std::fmt::Display for RejectRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Policy knobs of the validator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidatorOptions {
    /// The row cap: a missing `LIMIT` is added and a larger one clamped to this.
    pub max_rows: usize,
    /// When non-empty, only these tables may be read (names as in the catalog).
    pub allowed_tables: Vec<String>,
    /// Columns that may never be read, as `table.column`.
    pub denied_columns: Vec<String>,
}

/// A statement the validator accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidatedSql {
    /// The statement to show and run: comments stripped, row limit applied.
    pub sql: String,
    /// The statement the executor runs: as `sql`, but when the validator imposed the row cap
    /// it asks for one row more, so that the executor can tell a truncated result.
    #[serde(skip)]
    pub exec_sql: String,
}

/// Judges SQL against one catalog.
#[derive(Debug, Clone)]
pub struct Validator {
    catalog: Arc<Catalog>,
    options: ValidatorOptions,
}

impl Validator {
    /// A validator for `catalog` with `options`.
    pub fn new(catalog: Arc<Catalog>, options: ValidatorOptions) -> Self {
        Self { catalog, options }
    }

    /// The dialect of the catalog.
    pub fn dialect(&self) -> Dialect {
        self.catalog.dialect
    }

    /// Accepts one read-only query or says which rule refused it and why.
    pub fn validate(&self, sql: &str) -> Result<ValidatedSql> {
        let _ = (&self.options, sql);
        unimplemented!("validator")
    }
}
