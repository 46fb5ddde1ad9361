//! The scope of an answer: the parts of its query a front end shows as removable chips (its
//! conditions, groupings, sort and limit), worded as the explanation words them, and the query
//! without one of them.
//!
//! Ids are positional within one query: `filter:N` and `having:N` (the N-th condition),
//! `group:N` (the N-th grouping), `order` and `limit`. Removing a part also removes what has
//! no meaning without it: the sort takes its limit along ("top 5" of unsorted rows would be any
//! five), and the last grouping takes the conditions on totals, the shown columns, the sort and
//! the limit (one total has nothing to rank).

use super::{
    compile::number,
    explain,
    ir::{Dimension, Filter, Literal, OrderKey, QueryIr},
};
use crate::{
    answer::{ScopeItem, ScopeKind},
    error::{Error, Result},
};

/// Longest scope id accepted (`having:` and a position).
pub const MAX_ID_LEN: usize = 24;

/// The removable parts of `ir`, conditions first, then conditions on totals, groupings, the
/// sort and the limit.
pub fn items(ir: &QueryIr) -> Vec<ScopeItem> {
    let item = |id: String, kind: ScopeKind, label: String| ScopeItem { id, kind, label };
    let mut out = Vec::new();
    for (i, f) in ir.filters.iter().enumerate() {
        out.push(item(format!("filter:{i}"), ScopeKind::Filter, filter(f)));
    }
    for (i, h) in ir.having.iter().enumerate() {
        let label = format!(
            "{} {} {}",
            explain::measure(&h.measure),
            explain::op(h.op),
            number(h.value)
        );
        out.push(item(format!("having:{i}"), ScopeKind::Having, label));
    }
    for (i, d) in ir.group_by.iter().enumerate() {
        out.push(item(format!("group:{i}"), ScopeKind::Group, group(d)));
    }
    if let Some(o) = &ir.order {
        let key = match &o.key {
            OrderKey::Measure => ir
                .measure
                .as_ref()
                .map(explain::measure)
                .unwrap_or_else(|| "the value".into()),
            OrderKey::Column { column } => explain::col(column),
        };
        out.push(item(
            "order".into(),
            ScopeKind::Order,
            format!("sorted by {key}, {}", o.direction()),
        ));
    }
    if let Some(n) = ir.limit {
        let ranked = ir.order.as_ref().is_some_and(|o| o.descending);
        let label = if ranked {
            format!("top {n}")
        } else {
            format!("first {n}")
        };
        out.push(item("limit".into(), ScopeKind::Limit, label));
    }
    out
}

/// A value as a chip shows it: text without quotes.
fn value(l: &Literal) -> String {
    match l {
        Literal::Number(n) => number(*n),
        Literal::Text(s) => s.clone(),
    }
}

fn values(ls: &[Literal]) -> String {
    ls.iter().map(value).collect::<Vec<_>>().join(", ")
}

/// A condition in the explanation's words; a year or a month alone reads "in 2024", "in March
/// 2024", and values go without quotes.
fn filter(f: &Filter) -> String {
    match f {
        Filter::Period {
            year, month: None, ..
        } => format!("in {year}"),
        Filter::Period {
            year,
            month: Some(m),
            ..
        } => match crate::text::month_name(*m) {
            Some(name) => format!("in {name} {year}"),
            None => explain::filter(f),
        },
        Filter::Compare {
            column,
            op,
            value: v,
        } => {
            format!("{} {} {}", explain::col(column), explain::op(*op), value(v))
        }
        Filter::AnyOf { column, values: v } => {
            format!("{} is one of {}", explain::col(column), values(v))
        }
        Filter::NoneOf { column, values: v } => {
            format!("{} is none of {}", explain::col(column), values(v))
        }
        other => explain::filter(other),
    }
}

/// A grouping: "by genre", "by invoice billing country", "by year of invoice date".
fn group(d: &Dimension) -> String {
    match d {
        Dimension::Entity { table, .. } => format!("by {}", explain::words(table)),
        other => format!("by {}", explain::dimension(other)),
    }
}

/// The position in `id` after `prefix:`, written as the scope writes it (digits, no sign, no
/// leading zero).
fn position(id: &str, prefix: &str) -> Option<usize> {
    let digits = id.strip_prefix(prefix)?.strip_prefix(':')?;
    let n: usize = digits.parse().ok()?;
    (n.to_string() == digits).then_some(n)
}

/// Whether grouping by `d` shows the column `c` (so that sorting by it still reads).
fn shows(d: &Dimension, c: &super::ir::ColumnRef) -> bool {
    match d {
        Dimension::Column { column } | Dimension::Time { column, .. } => column == c,
        Dimension::Entity { table, key, labels } => {
            *table == c.table && (key.contains(&c.column) || labels.contains(&c.column))
        }
        Dimension::Model { .. } => false,
    }
}

/// `ir` without the part `id` (and what has no meaning without it, see the module). An id
/// that names no part of `ir` is an [`Error::InvalidInput`] listing the ids there are.
pub fn remove(ir: &QueryIr, id: &str) -> Result<QueryIr> {
    let unknown = || {
        let ids: Vec<String> = items(ir).into_iter().map(|i| i.id).collect();
        let there = if ids.is_empty() {
            "the previous answer has no removable parts".to_string()
        } else {
            format!("the previous answer's parts are {}", ids.join(", "))
        };
        Error::invalid_input(format!(
            "remove_scope names no part of the previous answer ({there}); send the id of one of its scope items"
        ))
    };
    let mut out = ir.clone();
    if let Some(i) = position(id, "filter") {
        if i >= out.filters.len() {
            return Err(unknown());
        }
        out.filters.remove(i);
    } else if let Some(i) = position(id, "having") {
        if i >= out.having.len() {
            return Err(unknown());
        }
        out.having.remove(i);
    } else if let Some(i) = position(id, "group") {
        if i >= out.group_by.len() {
            return Err(unknown());
        }
        out.group_by.remove(i);
        if out.measure.is_some() && out.group_by.is_empty() {
            out.having.clear();
            out.columns.clear();
            out.order = None;
            out.limit = None;
        } else if let Some(OrderKey::Column { column }) = out.order.as_ref().map(|o| &o.key)
            && out.measure.is_some()
            && !out.columns.contains(column)
            && !out.group_by.iter().any(|d| shows(d, column))
        {
            out.order = None;
            out.limit = None;
        }
    } else if id == "order" && out.order.is_some() {
        out.order = None;
        out.limit = None;
    } else if id == "limit" && out.limit.is_some() {
        out.limit = None;
    } else {
        return Err(unknown());
    }
    Ok(out)
}
