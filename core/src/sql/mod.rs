//! The SQL validator: pure, dialect-aware policy over untrusted SQL.
//!
//! Accepts exactly one read-only query and nothing else, checks every table, column and function
//! against the catalog and the allow-lists, strips comments, and adds or clamps the row limit.
//!
//! One call tokenizes and parses once and walks the tree once:
//!
//! | stage | module | refuses |
//! | --- | --- | --- |
//! | tokenize, parse | `parse` | empty input, parse errors, several statements, any statement but a query, MySQL `/*! */` comments, `INTO OUTFILE` |
//! | walk | `walk`, `expr` | writable CTEs and bodies, `SELECT ... INTO`, locking clauses, optimizer hints, variables, parameters and `:=`, functions off the allow-list, constructs it does not know |
//! | names | `resolve` | unknown tables (system catalogs included), tables outside `allowed_tables`, unknown columns (with "did you mean"), restricted columns, also through `*` and `t.*` |
//! | policy | `policy` | cartesian products of three or more unconnected relations, recursive CTEs without a termination condition, oversized `lpad`/`repeat`/`randomblob` sizes |
//! | row cap | `limit` | non-literal `LIMIT`, `FETCH ... PERCENT` / `WITH TIES` |
//!
//! Name resolution accepts what it cannot judge (a column several relations could provide, a
//! table function's columns, an unresolvable double-quoted word in SQLite, which SQLite reads as
//! a string): a false refusal costs more than a database error. The accepted statement is
//! re-rendered from the syntax tree, so comments and hints never reach the database.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{
    catalog::Catalog,
    dialect::Dialect,
    error::{Error, Result},
};

mod cost;
mod enforce;
mod expr;
pub(crate) mod functions;
mod lex;
mod limit;
mod parse;
mod policy;
pub(crate) mod quote;
mod render;
mod resolve;
pub(crate) use resolve::object_idents;
mod sent;
mod walk;

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
    /// A statement that is not a read-only query (DML, DDL, DCL, transaction control, ...),
    /// including a data-modifying CTE or query body.
    NotAQuery,
    /// A MySQL versioned comment `/*! ... */`, whose content MySQL executes.
    VersionedComment,
    /// An optimizer hint `/*+ ... */`, which can override server limits.
    OptimizerHint,
    /// `SELECT ... INTO` (a table, a variable or a file).
    SelectInto,
    /// `FOR UPDATE`, `FOR SHARE` and other locking clauses.
    LockingClause,
    /// User or system variables, assignments and bind parameters.
    Variable,
    /// A function that is not on the dialect's allow-list.
    FunctionNotAllowed,
    /// A function asked to build a value larger than the allowed size.
    OversizedValue,
    /// A table that is not in the catalog (system catalogs never are).
    UnknownTable,
    /// A table that exists but is outside the allowed tables.
    TableNotAllowed,
    /// A column that no table in scope has.
    UnknownColumn,
    /// A column the policy marks as restricted.
    DeniedColumn,
    /// Three or more relations cross-joined without a join condition.
    CartesianProduct,
    /// A recursive CTE without a termination condition.
    UnboundedRecursion,
    /// A `LIMIT` or `FETCH` the row cap cannot be applied to.
    RowLimit,
    /// A construct the validator does not support.
    Unsupported,
    /// The statement, written out for the database, would not be read as the statement that
    /// was checked.
    RoundTrip,
}

impl RejectRule {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ParseError => "parse_error",
            Self::Empty => "empty",
            Self::MultipleStatements => "multiple_statements",
            Self::NotAQuery => "not_a_query",
            Self::VersionedComment => "versioned_comment",
            Self::OptimizerHint => "optimizer_hint",
            Self::SelectInto => "select_into",
            Self::LockingClause => "locking_clause",
            Self::Variable => "variable",
            Self::FunctionNotAllowed => "function_not_allowed",
            Self::OversizedValue => "oversized_value",
            Self::UnknownTable => "unknown_table",
            Self::TableNotAllowed => "table_not_allowed",
            Self::UnknownColumn => "unknown_column",
            Self::DeniedColumn => "denied_column",
            Self::CartesianProduct => "cartesian_product",
            Self::UnboundedRecursion => "unbounded_recursion",
            Self::RowLimit => "row_limit",
            Self::Unsupported => "unsupported",
            Self::RoundTrip => "round_trip",
        }
    }
}

impl std::fmt::Display for RejectRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal before it is tied to the submitted SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub(crate) rule: RejectRule,
    pub(crate) reason: String,
}

impl Rejection {
    pub(crate) fn new(rule: RejectRule, reason: impl Into<String>) -> Self {
        Self {
            rule,
            reason: reason.into(),
        }
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

/// What the validator did to the statement's row limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitAction {
    /// The query's own limit was within the cap and is kept as written.
    Kept,
    /// The query had no limit; the cap was added.
    Added,
    /// The query's limit exceeded the cap and was lowered to it.
    Clamped,
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
    /// What happened to the row limit. When it is [`LimitAction::Kept`], `exec_sql == sql`.
    pub limit_action: LimitAction,
    /// The catalog tables the statement reads, as qualified names, sorted and deduplicated.
    pub tables: Vec<String>,
    /// Every catalog column the statement may read, as (qualified table, column) pairs, sorted
    /// and deduplicated: the columns it names and those it reads through `*`, `t.*`, a
    /// whole-row reference or a `NATURAL`/`USING` join. Where the validator cannot tell which
    /// relation a name binds to, every candidate is listed.
    #[serde(skip)]
    pub columns: Vec<(String, String)>,
    /// The catalog columns the statement names explicitly (a subset of `columns`).
    #[serde(skip)]
    pub named_columns: Vec<(String, String)>,
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
    ///
    /// Every refusal is an [`Error::SqlRejected`] whose reason
    /// says what was wrong and what to write instead.
    pub fn validate(&self, sql: &str) -> Result<ValidatedSql> {
        self.check(sql).map_err(|r| Error::SqlRejected {
            rule: r.rule,
            reason: r.reason,
            sql: sql.to_string(),
        })
    }

    /// Accepts one read-only query under a principal's data policy, or says which rule
    /// refused it: the statement is checked against what the principal may read, then every
    /// FROM item that names a table the policy filters or masks is replaced by the policy's
    /// derived table, and the text sent must parse back to that rewritten tree. The returned
    /// `sql` is the statement as checked (what the asker wrote, with the row cap); `exec_sql`
    /// is the rewritten statement.
    pub(crate) fn validate_with(
        &self,
        sql: &str,
        policy: &crate::access::BoundPolicy,
    ) -> Result<ValidatedSql> {
        let refused = |r: Rejection| Error::SqlRejected {
            rule: r.rule,
            reason: r.reason,
            sql: sql.to_string(),
        };
        let (mut validated, plan) = self
            .check_with(sql, policy.options(), policy.rewrites())
            .map_err(refused)?;
        // The rewrite is a function of the checked text and the policy: a statement checked
        // again (a cache hit, a repeated question) reuses the rewrite, round-tripped when first
        // written.
        if let Some(text) = policy.rewritten(&validated.exec_sql) {
            validated.exec_sql = text.to_string();
            return Ok(validated);
        }
        if let Some(plan) = plan
            && let Some(text) = enforce::apply(self.dialect(), plan, policy).map_err(refused)?
        {
            policy.remember(
                std::mem::replace(&mut validated.exec_sql, text),
                &validated.exec_sql,
            );
        }
        Ok(validated)
    }

    fn check(&self, sql: &str) -> Result<ValidatedSql, Rejection> {
        self.check_with(sql, &self.options, false).map(|(v, _)| v)
    }

    /// Checks `sql` under `options`; with `keep`, also returns what a policy rewrite needs.
    fn check_with<'s>(
        &'s self,
        sql: &str,
        options: &'s ValidatorOptions,
        keep: bool,
    ) -> Result<(ValidatedSql, Option<Plan<'s>>), Rejection> {
        let checked = self.check_paths(sql, options, true);
        // Debug builds (every test run) hold the one-parse path to the general path's verdict.
        #[cfg(debug_assertions)]
        if let Ok((v, _)) = &checked {
            let general = self.check_paths(sql, options, false);
            debug_assert_eq!(
                general.as_ref().ok().map(|(g, _)| g),
                Some(v),
                "the one-parse path disagrees with the general path on {sql:?}: {:?}",
                general.as_ref().map(|(g, _)| g)
            );
        }
        checked.map(|(v, plan)| (v, plan.filter(|_| keep)))
    }

    /// Checks `sql` by the one-parse path of [`sent`] where it applies (when `one_parse`), else
    /// by the general path: parse, check, splice the row cap, and the round trip.
    fn check_paths<'s>(
        &'s self,
        sql: &str,
        options: &'s ValidatorOptions,
        one_parse: bool,
    ) -> Result<(ValidatedSql, Option<Plan<'s>>), Rejection> {
        let dialect = self.dialect();
        parse::check_not_empty(sql)?;
        let policy = resolve::Policy::new(&self.catalog, options);
        let (mut tokens, double_quoted) = lex::tokenize_marked(dialect, sql)?;
        parse::check_comments(dialect, sql, &tokens)?;
        lex::index_spans(&mut tokens);
        let mut layout = render::Layout::new(dialect, &tokens);
        if one_parse
            && let Some((v, plan)) = sent::check(
                dialect,
                &policy,
                options.max_rows,
                &tokens,
                &layout,
                &double_quoted,
            )
        {
            return Ok((v, Some(plan)));
        }
        let mut query = parse_located(dialect, sql, tokens)?;
        let mut reads = resolve::check_query(&policy, &query, &double_quoted)?;
        if !reads.implicit_strings.is_empty() {
            // SQLite reads a double-quoted name that no relation has as a string: the statement
            // is written with the string, so that the database never has to guess (the
            // executor turns that guess off).
            let (mut tokens, _) = lex::tokenize_marked(dialect, sql)?;
            lex::index_spans(&mut tokens);
            let mut tokens =
                lex::names_to_strings(tokens, &reads.implicit_strings, &reads.implicit_named);
            lex::index_spans(&mut tokens);
            layout = render::Layout::new(dialect, &tokens);
            query = parse_located(dialect, sql, tokens)?;
            // Every name SQLite would read as a string is one now: the statement must resolve
            // without that guess.
            reads = resolve::check_query(&policy, &query, &[])?;
        }
        let cap = limit::plan(&query, &layout, options.max_rows)?;
        let max = options.max_rows as u64;
        let (shown, executed, cap_splice) = match (cap.splice(max), cap.splice(max + 1)) {
            (Some(shown), Some(executed)) => (
                layout.spliced(&shown),
                layout.spliced(&executed),
                Some(executed),
            ),
            _ => (layout.text.clone(), layout.text.clone(), None),
        };
        // The round trip: what the database will be sent must parse to the tree that was
        // checked (with the row cap the splice wrote).
        if cap.action != LimitAction::Kept {
            limit::set_limit(&mut query, max + 1);
        }
        round_trip(dialect, &executed, &query)?;
        let validated = ValidatedSql {
            sql: shown,
            exec_sql: executed,
            limit_action: cap.action,
            tables: reads.tables,
            columns: reads.columns,
            named_columns: reads.named,
        };
        let plan = Plan {
            query,
            layout,
            cap: cap_splice,
            refs: reads.refs,
            outer_tables: reads.outer_tables,
        };
        Ok((validated, Some(plan)))
    }
}

/// What a policy rewrite needs of a checked statement: its tree (with the row cap that is
/// sent), the layout of the tokens the tree was parsed from, the row-cap splice still to apply
/// to that layout (none when the layout is already the text sent), and the FROM items that
/// name catalog tables.
pub(crate) struct Plan<'a> {
    pub(crate) query: Box<sqlparser::ast::Query>,
    pub(crate) layout: render::Layout,
    pub(crate) cap: Option<render::Splice>,
    pub(crate) refs: Vec<resolve::TableRef<'a>>,
    pub(crate) outer_tables: Vec<&'a crate::catalog::Table>,
}

/// The tokens of `text` in `dialect` (string values unescaped), or `None` when it does not
/// tokenize.
pub(crate) fn tokens_of(dialect: Dialect, text: &str) -> Option<Vec<sqlparser::tokenizer::Token>> {
    lex::tokenize(dialect, text)
        .ok()
        .map(|t| t.into_iter().map(|t| t.token).collect())
}

/// Parses one query of `dialect` (no policy is checked).
pub(crate) fn parse_query(
    dialect: Dialect,
    text: &str,
) -> Result<Box<sqlparser::ast::Query>, String> {
    parse::parse_single_query(dialect, text).map_err(|r| r.reason)
}

/// Parses canonical tokens with indexed spans; a syntax error is reported again from a parse
/// with positions, so that its message says where.
fn parse_located(
    dialect: Dialect,
    sql: &str,
    tokens: Vec<sqlparser::tokenizer::TokenWithSpan>,
) -> Result<Box<sqlparser::ast::Query>, Rejection> {
    match parse::parse_tokens(dialect, tokens) {
        Err(r) if r.rule == RejectRule::ParseError => Err(lex::tokenize(dialect, sql)
            .and_then(|t| parse::parse_tokens(dialect, t))
            .err()
            .unwrap_or(r)),
        other => other,
    }
}

/// Refuses `rendered` unless it parses to `expected`.
fn round_trip(
    dialect: Dialect,
    rendered: &str,
    expected: &sqlparser::ast::Query,
) -> Result<(), Rejection> {
    let reparsed = lex::tokenize(dialect, rendered).and_then(|mut tokens| {
        lex::index_spans(&mut tokens);
        parse::parse_tokens(dialect, tokens)
    });
    match reparsed {
        Ok(q) if *q == *expected => Ok(()),
        outcome => {
            tracing::warn!(
                dialect = %dialect,
                reparsed = outcome.is_ok(),
                "a statement written out for the database did not parse back to the checked statement; refused"
            );
            Err(Rejection::new(
                RejectRule::RoundTrip,
                "the statement cannot be written out so that the database reads exactly what was checked \
                 (unusual quoting, escapes or comments); write it plainly, with strings in single quotes",
            ))
        }
    }
}

#[cfg(test)]
mod tests;
