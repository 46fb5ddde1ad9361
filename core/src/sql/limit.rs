//! The row cap: every accepted query returns at most `max_rows` rows.
//!
//! A query without a limit gets `LIMIT max_rows`; a larger literal limit (`LIMIT n`,
//! `LIMIT n OFFSET m`, MySQL `LIMIT m, n`, `FETCH FIRST n ROWS ONLY`) is lowered to it. When the
//! validator imposed or lowered the cap, the statement the executor runs asks for one row more
//! so that a truncated result can be flagged. A limit that is not a plain integer literal (an
//! expression, a subquery, a parameter), `FETCH ... PERCENT` and `FETCH ... WITH TIES` are
//! refused: their row count cannot be known before the query runs, and silently replacing them
//! would change the question's meaning.

use sqlparser::ast::{Expr, LimitClause, Query, UnaryOperator, Value};

use super::{LimitAction, RejectRule, Rejection};

/// The rendered statement with the row cap applied.
pub(crate) struct CappedSql {
    pub(crate) sql: String,
    pub(crate) exec_sql: String,
    pub(crate) action: LimitAction,
}

/// Applies the row cap to the top-level query and renders it (comments are gone by then).
pub(crate) fn apply_row_cap(query: &mut Query, max_rows: usize) -> Result<CappedSql, Rejection> {
    let max = max_rows as u64;
    if query
        .fetch
        .as_ref()
        .is_some_and(|f| f.percent || f.with_ties)
    {
        return Err(Rejection::new(
            RejectRule::RowLimit,
            format!(
                "`FETCH ... PERCENT` and `FETCH ... WITH TIES` are not allowed; use `LIMIT n` with n <= {max}"
            ),
        ));
    }
    let slot = limit_slot(query)?;
    let action = match slot {
        None => LimitAction::Added,
        Some(n) if n > max => LimitAction::Clamped,
        Some(_) => LimitAction::Kept,
    };
    if action == LimitAction::Kept {
        let sql = query.to_string();
        return Ok(CappedSql {
            exec_sql: sql.clone(),
            sql,
            action,
        });
    }
    // Render everything before the row limit once; `LIMIT`/`FETCH` are the last clauses left
    // (locking, `FOR`, `SETTINGS` and `FORMAT` clauses were refused by the walk).
    let limit_clause = query.limit_clause.take();
    let fetch = query.fetch.take();
    let base = query.to_string();
    query.limit_clause = limit_clause;
    query.fetch = fetch;
    let sql = with_limit(&base, query, max);
    let exec_sql = with_limit(&base, query, max + 1);
    Ok(CappedSql {
        sql,
        exec_sql,
        action,
    })
}

/// `base` followed by the query's `LIMIT`/`FETCH` set to `n` rows.
fn with_limit(base: &str, query: &mut Query, n: u64) -> String {
    use std::fmt::Write;
    set_limit(query, n);
    let mut out = String::with_capacity(base.len() + 24);
    out.push_str(base);
    if let Some(limit) = &query.limit_clause {
        let _ = write!(out, "{limit}");
    }
    if let Some(fetch) = &query.fetch {
        let _ = write!(out, " {fetch}");
    }
    out
}

/// The query's literal row limit: `None` when it has none (a negative SQLite limit means none).
fn limit_slot(query: &Query) -> Result<Option<u64>, Rejection> {
    let mut found = None;
    match &query.limit_clause {
        Some(LimitClause::LimitOffset { limit: Some(e), .. })
        | Some(LimitClause::OffsetCommaLimit { limit: e, .. }) => {
            found = literal_rows(e)?;
        }
        _ => {}
    }
    if let Some(fetch) = &query.fetch {
        let n = match &fetch.quantity {
            Some(e) => literal_rows(e)?,
            None => Some(1),
        };
        found = match (found, n) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(found)
}

fn literal_rows(e: &Expr) -> Result<Option<u64>, Rejection> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<u64>().map(Some).map_err(|_| non_literal(e)),
            Value::Null => Ok(None),
            _ => Err(non_literal(e)),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } if matches!(&**expr, Expr::Value(_)) => literal_rows(expr).map(|_| None),
        Expr::Nested(inner) => literal_rows(inner),
        _ => Err(non_literal(e)),
    }
}

fn non_literal(e: &Expr) -> Rejection {
    Rejection::new(
        RejectRule::RowLimit,
        format!(
            "the row limit `{e}` is not a plain integer; write `LIMIT n` with an integer literal"
        ),
    )
}

fn number(n: u64) -> Expr {
    Expr::value(Value::Number(n.to_string(), false))
}

fn set_limit(query: &mut Query, n: u64) {
    if let Some(fetch) = &mut query.fetch {
        fetch.quantity = Some(number(n));
        match &mut query.limit_clause {
            Some(LimitClause::LimitOffset {
                limit: limit @ Some(_),
                ..
            }) => *limit = Some(number(n)),
            Some(LimitClause::OffsetCommaLimit { limit, .. }) => *limit = number(n),
            _ => {}
        }
        return;
    }
    match &mut query.limit_clause {
        Some(LimitClause::LimitOffset { limit, .. }) => *limit = Some(number(n)),
        Some(LimitClause::OffsetCommaLimit { limit, .. }) => *limit = number(n),
        None => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(number(n)),
                offset: None,
                limit_by: vec![],
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{dialect::Dialect, sql::parse::parse_single_query};

    fn cap(d: Dialect, sql: &str, max: usize) -> (String, String, LimitAction) {
        let mut q = parse_single_query(d, sql).expect("parses");
        let c = apply_row_cap(&mut q, max).expect("capped");
        (c.sql, c.exec_sql, c.action)
    }

    #[test]
    fn missing_limit_is_added() {
        let (sql, exec, action) = cap(Dialect::Sqlite, "SELECT a FROM t", 100);
        assert_eq!(
            (sql.as_str(), exec.as_str(), action),
            (
                "SELECT a FROM t LIMIT 100",
                "SELECT a FROM t LIMIT 101",
                LimitAction::Added
            )
        );
    }

    #[test]
    fn large_limit_is_clamped_small_one_kept() {
        let (sql, exec, action) = cap(
            Dialect::Postgres,
            "SELECT a FROM t LIMIT 5000 OFFSET 10",
            100,
        );
        assert_eq!(sql, "SELECT a FROM t LIMIT 100 OFFSET 10");
        assert_eq!(exec, "SELECT a FROM t LIMIT 101 OFFSET 10");
        assert_eq!(action, LimitAction::Clamped);
        let (sql, exec, action) = cap(Dialect::Postgres, "SELECT a FROM t LIMIT 5", 100);
        assert_eq!(
            (sql.as_str(), action),
            ("SELECT a FROM t LIMIT 5", LimitAction::Kept)
        );
        assert_eq!(sql, exec);
        let (sql, _, action) = cap(Dialect::Sqlite, "SELECT a FROM t LIMIT 100", 100);
        assert_eq!(
            (sql.as_str(), action),
            ("SELECT a FROM t LIMIT 100", LimitAction::Kept)
        );
    }

    #[test]
    fn mysql_offset_comma_limit_and_fetch_first() {
        let (sql, exec, _) = cap(Dialect::Mysql, "SELECT a FROM t LIMIT 20, 5000", 100);
        assert_eq!(sql, "SELECT a FROM t LIMIT 20, 100");
        assert_eq!(exec, "SELECT a FROM t LIMIT 20, 101");
        let (sql, exec, action) = cap(
            Dialect::Postgres,
            "SELECT a FROM t FETCH FIRST 500 ROWS ONLY",
            100,
        );
        assert_eq!(sql, "SELECT a FROM t FETCH FIRST 100 ROWS ONLY");
        assert_eq!(exec, "SELECT a FROM t FETCH FIRST 101 ROWS ONLY");
        assert_eq!(action, LimitAction::Clamped);
        let (_, _, action) = cap(
            Dialect::Postgres,
            "SELECT a FROM t FETCH FIRST 5 ROWS ONLY",
            100,
        );
        assert_eq!(action, LimitAction::Kept);
    }

    #[test]
    fn negative_sqlite_limit_means_no_limit() {
        let (sql, _, action) = cap(Dialect::Sqlite, "SELECT a FROM t LIMIT -1", 10);
        assert_eq!(
            (sql.as_str(), action),
            ("SELECT a FROM t LIMIT 10", LimitAction::Added)
        );
    }

    #[test]
    fn non_literal_limits_are_refused() {
        for sql in [
            "SELECT a FROM t LIMIT (SELECT 5)",
            "SELECT a FROM t LIMIT 2 + 3",
            "SELECT a FROM t LIMIT 1.5",
        ] {
            let mut q = parse_single_query(Dialect::Postgres, sql).expect("parses");
            let r = apply_row_cap(&mut q, 10).err().expect("refused");
            assert_eq!(r.rule, RejectRule::RowLimit, "{sql}");
            assert!(r.reason.contains("integer literal"), "{}", r.reason);
        }
    }
}
