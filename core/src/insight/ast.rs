//! What the insights read from a validated statement: the top-level `SELECT`'s relations (the
//! catalog tables of its `FROM`, by the name or alias the statement uses), and the catalog
//! column each column reference names.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Ident, Query, Select, SetExpr, TableFactor, visit_expressions};

use crate::catalog::{Catalog, Table};

/// A catalog table in the top-level `FROM`, with the name the statement refers to it by.
#[derive(Debug, Clone)]
pub(crate) struct Relation<'c> {
    /// The alias, or the table's name when it has none.
    pub name: String,
    /// The catalog table.
    pub table: &'c Table,
}

/// The top-level `SELECT` of a query (not a set operation, not `VALUES`).
pub(crate) fn top_select(query: &Query) -> Option<&Select> {
    match query.body.as_ref() {
        SetExpr::Select(s) => Some(s),
        _ => None,
    }
}

/// The mutable top-level `SELECT`.
pub(crate) fn top_select_mut(query: &mut Query) -> Option<&mut Select> {
    match query.body.as_mut() {
        SetExpr::Select(s) => Some(s),
        _ => None,
    }
}

/// The catalog tables of the `FROM` (and its joins); derived tables and functions are left
/// out, and so is any table the catalog does not hold.
pub(crate) fn relations<'c>(select: &Select, catalog: &'c Catalog) -> Vec<Relation<'c>> {
    let mut out = Vec::new();
    for twj in &select.from {
        for factor in std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation)) {
            if let TableFactor::Table { name, alias, .. } = factor {
                let idents = crate::sql::object_idents(name);
                let Some(last) = idents.last() else { continue };
                let schema = (idents.len() > 1).then(|| idents[idents.len() - 2].value.as_str());
                let Some(table) =
                    catalog.find_table(schema, &last.value, last.quote_style.is_some())
                else {
                    continue;
                };
                out.push(Relation {
                    name: alias
                        .as_ref()
                        .map_or_else(|| last.value.clone(), |a| a.name.value.clone()),
                    table,
                });
            }
        }
    }
    out
}

/// The relation and column a column reference names: `alias.column`, or a bare column that
/// exactly one relation has.
pub(crate) fn resolve<'r, 'c>(
    catalog: &Catalog,
    relations: &'r [Relation<'c>],
    idents: &[Ident],
) -> Option<(&'r Relation<'c>, String)> {
    let dialect = catalog.dialect;
    let (qualifier, column) = match idents {
        [c] => (None, c),
        [.., q, c] => (Some(q), c),
        [] => return None,
    };
    let has = |r: &Relation| {
        r.table
            .find_column(dialect, &column.value, column.quote_style.is_some())
            .map(|c| c.name.clone())
    };
    match qualifier {
        Some(q) => {
            let r = relations.iter().find(|r| {
                r.name.eq_ignore_ascii_case(&q.value) || r.table.name.eq_ignore_ascii_case(&q.value)
            })?;
            has(r).map(|c| (r, c))
        }
        None => {
            let mut found = relations.iter().filter_map(|r| has(r).map(|c| (r, c)));
            let first = found.next()?;
            found.next().is_none().then_some(first)
        }
    }
}

/// Every column reference in `expr` (identifiers and compound identifiers).
pub(crate) fn column_refs(expr: &Expr) -> Vec<Vec<Ident>> {
    let mut out = Vec::new();
    let _ = visit_expressions(expr, |e| {
        match e {
            Expr::Identifier(i) => out.push(vec![i.clone()]),
            Expr::CompoundIdentifier(parts) => out.push(parts.clone()),
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    out
}
