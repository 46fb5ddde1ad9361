//! An empty result that explains itself: which condition emptied it, what the data holds for
//! that condition's column, and the nearest thing that would answer.
//!
//! Each top-level condition (a conjunct of `WHERE`, and `HAVING` as a whole) is dropped in turn
//! from the parsed statement; the statement without it, rendered from the AST with `LIMIT 1`,
//! passes the asker's [`View::validate`] and runs. A condition without which rows come back is
//! the one that emptied the result. For its column: a date's range, a number's minimum and
//! maximum (one validated `MIN`/`MAX` statement under the asker's permissions), or a text's
//! nearest known values (the asker's value index, no statement). No text of the question is
//! ever put into SQL: derived statements are edits of the validated statement's AST.
//!
//! The cost is bounded by [`EmptyLimits`]: at most `max_statements` statements within
//! `budget`, and nothing for statements longer than `max_sql_chars`.

use std::time::{Duration, Instant};

use sqlparser::ast::{
    BinaryOperator, Expr, InTarget, LimitClause, Value as SqlValue, ValueWithSpan,
};

use super::ast::{column_refs, relations, resolve, top_select, top_select_mut};
use crate::{access::View, exec::Value, sql::ValidatedSql};

/// Bounds of the explanation's cost.
#[derive(Debug, Clone)]
pub struct EmptyLimits {
    /// At most this many extra statements.
    pub max_statements: usize,
    /// No statement is started once this much time has passed.
    pub budget: Duration,
    /// Statements longer than this are not explained.
    pub max_sql_chars: usize,
}

impl Default for EmptyLimits {
    fn default() -> Self {
        Self {
            max_statements: 5,
            budget: Duration::from_millis(1500),
            max_sql_chars: 4000,
        }
    }
}

/// Why a result is empty.
#[derive(Debug, Clone, PartialEq)]
pub struct EmptyExplanation {
    /// What emptied the result and what the data holds, in plain words.
    pub text: String,
    /// A follow-up that would answer (`what about 2021`), when one is known.
    pub suggestion: Option<String>,
    /// How many extra statements ran.
    pub statements: usize,
}

/// One condition that can be dropped.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    Where(usize),
    Having,
}

/// Explains why `validated` returned no rows, within `limits`; `None` when the statement has no
/// condition, no single condition emptied it, or the budget ran out.
pub async fn explain_empty(
    view: &View,
    validated: &ValidatedSql,
    limits: &EmptyLimits,
) -> Option<EmptyExplanation> {
    let started = Instant::now();
    if validated.sql.len() > limits.max_sql_chars {
        return None;
    }
    let catalog = view.catalog();
    let query = crate::sql::parse_query(catalog.dialect, &validated.sql).ok()?;
    let select = top_select(&query)?;
    let mut conjuncts: Vec<Expr> = Vec::new();
    if let Some(w) = &select.selection {
        split(w, &mut conjuncts);
    }
    let mut places: Vec<Place> = (0..conjuncts.len()).map(Place::Where).collect();
    if select.having.is_some() {
        places.push(Place::Having);
    }
    if places.is_empty() || places.len() > limits.max_statements {
        return None;
    }
    let mut statements = 0;
    let mut culprits = Vec::new();
    for &place in &places {
        if statements >= limits.max_statements || started.elapsed() > limits.budget {
            return None;
        }
        let mut derived = query.clone();
        let s = top_select_mut(&mut derived)?;
        match place {
            Place::Where(i) => {
                let rest: Vec<Expr> = conjuncts
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| k != i)
                    .map(|(_, e)| e.clone())
                    .collect();
                s.selection = and_all(rest);
            }
            Place::Having => s.having = None,
        }
        derived.limit_clause = Some(LimitClause::LimitOffset {
            limit: Some(Expr::Value(ValueWithSpan::from(SqlValue::Number(
                "1".into(),
                false,
            )))),
            offset: None,
            limit_by: Vec::new(),
        });
        statements += 1;
        let Ok((_, result)) = view.run(&derived.to_string()).await else {
            continue;
        };
        if !result.rows.is_empty() {
            culprits.push(place);
        }
    }
    let place = match culprits.as_slice() {
        [one] => *one,
        _ => return None,
    };
    let condition = match place {
        Place::Where(i) => conjuncts[i].clone(),
        Place::Having => select.having.clone()?,
    };
    let mut text = format!("No rows match the condition {condition}; without it, rows come back.");
    let mut suggestion = None;
    if let Place::Where(_) = place {
        let rels = relations(select, catalog);
        let column = column_refs(&condition)
            .into_iter()
            .find_map(|idents| resolve(catalog, &rels, &idents));
        if let Some((rel, column)) = column {
            let literal = literal_of(&condition);
            let data_type = rel
                .table
                .find_column(catalog.dialect, &column, true)
                .map(|c| c.data_type.to_ascii_lowercase())
                .unwrap_or_default();
            let kind = kind_of(&data_type);
            match kind {
                Kind::Date | Kind::Number
                    if statements < limits.max_statements && started.elapsed() <= limits.budget =>
                {
                    let dialect = catalog.dialect;
                    let col = dialect.quote_identifier(&column);
                    let range_sql = format!(
                        "SELECT MIN({col}), MAX({col}) FROM {}",
                        dialect.quote_table(rel.table.schema.as_deref(), &rel.table.name)
                    );
                    statements += 1;
                    if let Ok((_, r)) = view.run(&range_sql).await
                        && let Some(row) = r.rows.first()
                        && let (Some(lo), Some(hi)) = (shown(&row[0]), shown(&row[1]))
                    {
                        if kind == Kind::Date {
                            text.push_str(&format!(
                                " {} data runs from {} to {} ({}).",
                                rel.table.name,
                                month_year(&lo),
                                month_year(&hi),
                                column
                            ));
                            if let (Some(y), Some(a), Some(b)) = (
                                literal.as_deref().and_then(year_in),
                                year_in(&lo),
                                year_in(&hi),
                            ) && (y < a || y > b)
                            {
                                suggestion = Some(format!("what about {}", y.clamp(a, b)));
                            }
                        } else {
                            text.push_str(&format!(
                                " {}.{} ranges from {lo} to {hi}.",
                                rel.table.name, column
                            ));
                        }
                    }
                }
                Kind::Text => {
                    if let (Some(lit), Ok(index)) = (literal, view.value_index().await) {
                        let mut near: Vec<(usize, String)> = index
                            .hits()
                            .filter(|h| {
                                h.column.table.eq_ignore_ascii_case(&rel.table.name)
                                    && h.column.column.eq_ignore_ascii_case(&column)
                            })
                            .map(|h| (distance(&lit, &h.value), h.value.clone()))
                            .collect();
                        near.sort();
                        near.truncate(3);
                        if !near.is_empty() {
                            let names: Vec<String> =
                                near.iter().map(|(_, v)| format!("'{v}'")).collect();
                            text.push_str(&format!(
                                " The nearest known values of {}.{} are {}.",
                                rel.table.name,
                                column,
                                names.join(", ")
                            ));
                            suggestion = Some(format!("what about {}", near[0].1));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Some(EmptyExplanation {
        text,
        suggestion,
        statements,
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Date,
    Number,
    Text,
}

fn kind_of(data_type: &str) -> Kind {
    if data_type.contains("date") || data_type.contains("time") {
        Kind::Date
    } else if [
        "int", "real", "numeric", "decimal", "float", "double", "money",
    ]
    .iter()
    .any(|k| data_type.contains(k))
    {
        Kind::Number
    } else {
        Kind::Text
    }
}

fn split(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            split(left, out);
            split(right, out);
        }
        Expr::Nested(inner)
            if matches!(
                inner.as_ref(),
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            split(inner, out)
        }
        other => out.push(other.clone()),
    }
}

fn and_all(mut exprs: Vec<Expr>) -> Option<Expr> {
    let first = if exprs.is_empty() {
        return None;
    } else {
        exprs.remove(0)
    };
    Some(exprs.into_iter().fold(first, |acc, e| Expr::BinaryOp {
        left: Box::new(acc),
        op: BinaryOperator::And,
        right: Box::new(e),
    }))
}

/// The literal a condition compares with (its first string or number literal that is an
/// operand of a comparison, `IN` list or `BETWEEN`).
fn literal_of(e: &Expr) -> Option<String> {
    let lit = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) => Some(s.clone()),
            SqlValue::Number(n, _) => Some(n.clone()),
            _ => None,
        },
        _ => None,
    };
    match e {
        Expr::BinaryOp { left, right, .. } => lit(right).or_else(|| lit(left)),
        Expr::In {
            target: InTarget::List(list),
            ..
        } => list.iter().find_map(lit),
        Expr::Between { low, .. } => lit(low),
        Expr::Like { pattern, .. } | Expr::ILike { pattern, .. } => lit(pattern),
        Expr::Nested(inner) => literal_of(inner),
        _ => None,
    }
}

fn shown(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Text(t) | Value::Decimal(t) => Some(t.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Bytes(_) => None,
    }
}

/// The year a text starts with (`2012`, `2021-01-01 00:00:00`).
fn year_in(t: &str) -> Option<i32> {
    let y = t.get(..4)?;
    y.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| y.parse().ok())
        .flatten()
}

/// "January 2021" for an ISO date or timestamp; the text itself otherwise.
fn month_year(t: &str) -> String {
    let month = t
        .get(5..7)
        .and_then(|m| m.parse::<u32>().ok())
        .and_then(crate::text::month_name);
    match (year_in(t), month) {
        (Some(y), Some(m)) => format!("{m} {y}"),
        _ => t.to_string(),
    }
}

/// Edit distance of two texts, case and accents aside; a shared prefix counts as closer.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = crate::text::fold_string(a.to_lowercase()).chars().collect();
    let b: Vec<char> = crate::text::fold_string(b.to_lowercase()).chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    (prev[b.len()] * 2).saturating_sub(prefix.min(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_month_and_year() {
        assert_eq!(month_year("2021-01-01 00:00:00"), "January 2021");
        assert_eq!(month_year("2025-12-22"), "December 2025");
        assert_eq!(year_in("2012"), Some(2012));
        assert!(distance("Brazl", "Brazil") < distance("Brazl", "Canada"));
    }
}
