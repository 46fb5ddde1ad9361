//! The row cap: every accepted query returns at most `max_rows` rows.
//!
//! A query without a limit gets `LIMIT max_rows`; a larger literal limit (`LIMIT n`,
//! `LIMIT n OFFSET m`, MySQL `LIMIT m, n`, `FETCH FIRST n ROWS ONLY`) is lowered to it. When the
//! validator imposed or lowered the cap, the statement the executor runs asks for one row more
//! so that a truncated result can be flagged. A limit that is not a plain integer literal (an
//! expression, a subquery, a parameter), `FETCH ... PERCENT` and `FETCH ... WITH TIES` are
//! refused: their row count cannot be known before the query runs, and silently replacing them
//! would change the question's meaning.
//!
//! The cap is applied twice, consistently: as a [`Splice`] of the token stream that the renderer
//! writes, and on the syntax tree ([`set_limit`]), which the validator compares with the parse of
//! the rendered statement.

use sqlparser::{
    ast::{Expr, LimitClause, Query, UnaryOperator, Value},
    tokenizer::Location,
};

use super::{
    LimitAction, RejectRule, Rejection, lex,
    render::{Kind, Layout, Splice},
};

/// How the row cap changes the statement.
pub(crate) struct RowCap {
    pub(crate) action: LimitAction,
    /// Where the cap goes in the token stream; `None` when the query's own limit is kept.
    edit: Option<std::ops::Range<usize>>,
    /// Whether the edit appends a whole `LIMIT n` clause rather than replacing a count.
    append: bool,
}

impl RowCap {
    /// The splice that writes `n` rows as the statement's limit; `None` when the limit is kept.
    pub(crate) fn splice(&self, n: u64) -> Option<Splice> {
        let range = self.edit.clone()?;
        let text = if self.append {
            format!("LIMIT {n}")
        } else {
            n.to_string()
        };
        Some(Splice { range, text })
    }
}

/// Decides how the row cap applies to `query`, parsed from tokens with indexed spans (see
/// [`lex::index_spans`]) and written out as `layout`.
pub(crate) fn plan(query: &Query, layout: &Layout, max_rows: usize) -> Result<RowCap, Rejection> {
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
    let limit = match &query.limit_clause {
        Some(LimitClause::LimitOffset { limit: Some(e), .. })
        | Some(LimitClause::OffsetCommaLimit { limit: e, .. }) => Some(e),
        _ => None,
    };
    let fetch = query.fetch.as_ref();
    if limit.is_some() && fetch.is_some() {
        return Err(Rejection::new(
            RejectRule::RowLimit,
            "the query has both `LIMIT` and `FETCH`; keep only `LIMIT n`",
        ));
    }
    let count = match (limit, fetch) {
        (Some(e), _) => Some(e),
        (None, Some(f)) => match &f.quantity {
            Some(e) => Some(e),
            // `FETCH FIRST ROW ONLY` is one row.
            None => {
                return Ok(RowCap {
                    action: LimitAction::Kept,
                    edit: None,
                    append: false,
                });
            }
        },
        (None, None) => None,
    };
    let Some(e) = count else {
        // `LIMIT ALL`: its `ALL` is replaced; otherwise a `LIMIT` clause is appended.
        let edit = match &query.limit_clause {
            Some(LimitClause::LimitOffset { limit: None, .. }) => limit_all(layout),
            _ => None,
        };
        let end = layout.end;
        return Ok(match edit {
            Some(at) => RowCap {
                action: LimitAction::Added,
                edit: Some(at..at + 1),
                append: false,
            },
            None => RowCap {
                action: LimitAction::Added,
                edit: Some(end..end),
                append: true,
            },
        });
    };
    let rows = literal_rows(e)?;
    let action = match rows {
        None => LimitAction::Added,
        Some(n) if n > max => LimitAction::Clamped,
        Some(_) => LimitAction::Kept,
    };
    if action == LimitAction::Kept {
        return Ok(RowCap {
            action,
            edit: None,
            append: false,
        });
    }
    let range = expr_tokens(e, layout).ok_or_else(|| {
        Rejection::new(
            RejectRule::RowLimit,
            format!("the row limit `{e}` cannot be located in the statement; write `LIMIT n` with an integer literal"),
        )
    })?;
    Ok(RowCap {
        action,
        edit: Some(range),
        append: false,
    })
}

/// The tokens of a literal row count: a number, `NULL`, or a negated number.
fn expr_tokens(e: &Expr, layout: &Layout) -> Option<std::ops::Range<usize>> {
    match e {
        Expr::Nested(inner) => expr_tokens(inner, layout),
        Expr::Value(v) => {
            let at = token_at(v.span.start)?;
            (at < layout.end).then_some(at..at + 1)
        }
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => {
            let inner = expr_tokens(expr, layout)?;
            let sign = (0..inner.start)
                .rev()
                .find(|&i| layout.kinds[i] != Kind::Blank)?;
            (layout.kinds[sign] == Kind::Minus).then_some(sign..inner.end)
        }
        _ => None,
    }
}

fn token_at(start: Location) -> Option<usize> {
    lex::indexed(start)
}

/// The `ALL` of a top-level `LIMIT ALL`: the last `LIMIT` outside parentheses followed by `ALL`.
fn limit_all(layout: &Layout) -> Option<usize> {
    let mut depth = 0i32;
    let mut found = None;
    let mut previous_limit = false;
    for (i, kind) in layout.kinds.iter().enumerate() {
        match kind {
            Kind::Blank => continue,
            Kind::LParen => depth += 1,
            Kind::RParen => depth -= 1,
            Kind::All if depth == 0 && previous_limit => found = Some(i),
            _ => {}
        }
        previous_limit = depth == 0 && *kind == Kind::Limit;
    }
    found
}

/// The count of the query's top-level `LIMIT n` (without `OFFSET` or `FETCH`), when it is a
/// literal.
pub(crate) fn literal_count(query: &Query) -> Option<u64> {
    if query.fetch.is_some() {
        return None;
    }
    match &query.limit_clause {
        Some(LimitClause::LimitOffset {
            limit: Some(e),
            offset: None,
            limit_by,
        }) if limit_by.is_empty() => literal_rows(e).ok().flatten(),
        _ => None,
    }
}

/// The query's literal row limit: `None` when it has none (a negative SQLite limit means none).
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

/// Sets the query's row limit to `n`, as the splice of [`RowCap::splice`] writes it.
pub(crate) fn set_limit(query: &mut Query, n: u64) {
    if let Some(fetch) = &mut query.fetch {
        fetch.quantity = Some(number(n));
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
    use crate::dialect::Dialect;

    fn planned(d: Dialect, sql: &str, max: usize) -> (Layout, Result<RowCap, Rejection>) {
        let mut tokens = crate::sql::lex::tokenize(d, sql).expect("tokenizes");
        lex::index_spans(&mut tokens);
        let layout = Layout::new(d, &tokens);
        let q = crate::sql::parse::parse_tokens(d, tokens).expect("parses");
        let c = plan(&q, &layout, max);
        (layout, c)
    }

    fn cap(d: Dialect, sql: &str, max: usize) -> (String, String, LimitAction) {
        let (layout, c) = planned(d, sql, max);
        let c = c.expect("capped");
        let render = |n| match c.splice(n) {
            Some(s) => layout.spliced(&s),
            None => layout.text.clone(),
        };
        (render(max as u64), render(max as u64 + 1), c.action)
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
            let r = planned(Dialect::Postgres, sql, 10)
                .1
                .err()
                .expect("refused");
            assert_eq!(r.rule, RejectRule::RowLimit, "{sql}");
            assert!(r.reason.contains("integer literal"), "{}", r.reason);
        }
    }
}
