//! Fan-out: an aggregate over a table's column while that table is joined to a table that
//! references it (its "many" side) adds or counts each row once per referencing row. `SUM(
//! Invoice.Total)` over `Invoice JOIN InvoiceLine` counts each invoice's total once per line.
//!
//! Read from the validated statement's top-level `SELECT`, the catalog's foreign keys and the
//! semantic model's relationships. `COUNT(DISTINCT ...)`, `MIN`, `MAX` and `COUNT(*)` are not
//! flagged.

use std::ops::ControlFlow;

use sqlparser::ast::{
    DuplicateTreatment, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, SelectItem,
    visit_expressions,
};

use super::ast::{Relation, column_refs, relations, resolve, top_select};
use crate::{catalog::Catalog, semantic::Semantic};

/// The warnings of `sql` (a statement the validator accepted) about aggregates that count rows
/// more than once; empty when there is none or the statement does not parse.
pub fn warnings(sql: &str, catalog: &Catalog, semantic: Option<&Semantic>) -> Vec<String> {
    let Ok(query) = crate::sql::parse_query(catalog.dialect, sql) else {
        return Vec::new();
    };
    let Some(select) = top_select(&query) else {
        return Vec::new();
    };
    let rels = relations(select, catalog);
    if rels.len() < 2 {
        return Vec::new();
    }
    let mut exprs: Vec<&Expr> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
            _ => None,
        })
        .collect();
    if let Some(h) = &select.having {
        exprs.push(h);
    }
    let mut out: Vec<String> = Vec::new();
    for expr in exprs {
        let _ = visit_expressions(expr, |e| {
            if let Some(w) = aggregate_warning(e, catalog, &rels, semantic)
                && !out.contains(&w)
            {
                out.push(w);
            }
            ControlFlow::<()>::Continue(())
        });
    }
    out
}

fn aggregate_warning(
    e: &Expr,
    catalog: &Catalog,
    rels: &[Relation<'_>],
    semantic: Option<&Semantic>,
) -> Option<String> {
    let Expr::Function(f) = e else { return None };
    let name = f.name.to_string().to_ascii_lowercase();
    if !matches!(name.as_str(), "sum" | "avg" | "count" | "total") {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    if matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct)) {
        return None;
    }
    let args: Vec<&Expr> = list
        .args
        .iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    // The tables whose columns the aggregate reads: all must be one table.
    let mut table: Option<&Relation> = None;
    for arg in &args {
        for idents in column_refs(arg) {
            let (r, _) = resolve(catalog, rels, &idents)?;
            match table {
                None => table = Some(r),
                Some(t) if t.name == r.name => {}
                Some(_) => return None,
            }
        }
    }
    let aggregated = table?;
    let many = rels
        .iter()
        .find(|r| r.name != aggregated.name && references(r, aggregated, semantic))?;
    let call = e.to_string();
    Some(format!(
        "{call} may count each {a} row more than once: {a} is joined to {m}, which can hold several rows per {a} row ({m} references {a}). \
         Aggregate a column of {m} instead, total {a} in a subquery before joining, or leave {m} out of the question",
        a = aggregated.table.name,
        m = many.table.name,
    ))
}

/// Whether `many` references `one`: a foreign key of the catalog, or a relationship of the
/// model whose left (many) side is `many` and right side `one`.
fn references(many: &Relation<'_>, one: &Relation<'_>, semantic: Option<&Semantic>) -> bool {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if many
        .table
        .foreign_keys
        .iter()
        .any(|fk| same(&fk.referenced_table, &one.table.name))
    {
        return true;
    }
    let Some(semantic) = semantic else {
        return false;
    };
    let model = semantic.model();
    let physical = |name: &str| -> String {
        model
            .tables
            .iter()
            .find(|t| same(&t.name, name))
            .map_or_else(
                || name.to_string(),
                |t| t.table.clone().unwrap_or_else(|| t.name.clone()),
            )
    };
    model.relationships.iter().any(|r| {
        same(&physical(&r.left_table), &many.table.name)
            && same(&physical(&r.right_table), &one.table.name)
    })
}
