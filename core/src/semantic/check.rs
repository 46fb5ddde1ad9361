//! Checking a model against the database: every table, column and expression must exist and
//! pass the validator, or the engine does not start. The result is a [`Semantic`]: the model
//! bound to one catalog, with the index of its phrases.

use std::{collections::BTreeSet, sync::Arc};

use super::{
    Item, Semantic,
    load::Located,
    model::{ParameterType, SemanticModel},
    terms::Terms,
};
use crate::{
    catalog::{Catalog, Table},
    error::{Error, Result},
    sql::{Validator, quote},
};

/// One logical table bound to its catalog table.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundTable {
    /// The catalog table's schema.
    pub schema: Option<String>,
    /// The catalog table's name, as the catalog spells it.
    pub name: String,
    /// Per dimension, time dimension, measure and filter: the catalog columns its SQL reads.
    pub columns: Vec<(Item, Vec<String>)>,
}

/// Binds `located` to `catalog`: each table must exist, each expression must pass `validator`
/// as SQL over its table, each relationship's columns must exist, and each verified query must
/// pass the validator with its parameters filled. The first problem is an error with file, line
/// and key.
///
/// A table that exists but that `visible` (the catalog after `[database] allowed_tables`) leaves
/// out is not checked: the validator would refuse it. Its items stay in the result; restrict the
/// result to `visible` ([`Semantic::restrict`]) before use.
pub fn check(
    located: &Located,
    catalog: &Arc<Catalog>,
    visible: &Catalog,
    validator: &Validator,
) -> Result<Semantic> {
    let model = &located.model;
    let dialect = catalog.dialect;
    let mut tables = Vec::with_capacity(model.tables.len());
    for (ti, t) in model.tables.iter().enumerate() {
        if t.name.trim().is_empty() {
            return Err(located.error(&format!("tables[{ti}].name"), "a table needs a name".into()));
        }
        let Some(table) = find_table(catalog, t.physical()) else {
            return Err(located.error(
                &format!(
                    "tables[{ti}].{}",
                    if t.table.is_some() { "table" } else { "name" }
                ),
                format!(
                    "no table {:?} in the database; the tables are: {}",
                    t.physical(),
                    table_list(catalog)
                ),
            ));
        };
        if visible
            .find_table(table.schema.as_deref(), &table.name, true)
            .is_none()
        {
            tables.push(BoundTable {
                schema: table.schema.clone(),
                name: table.name.clone(),
                columns: Vec::new(),
            });
            continue;
        }
        let from = quote::qualified_identifier(dialect, table.schema.as_deref(), &table.name);
        let mut columns = Vec::new();
        let mut check_expr = |path: String, item: Item, sql: String, what: &str| -> Result<()> {
            match validator.validate(&sql) {
                Ok(v) => {
                    let read: BTreeSet<String> = v.columns.into_iter().map(|(_, c)| c).collect();
                    columns.push((item, read.into_iter().collect()));
                    Ok(())
                }
                Err(e) => {
                    Err(located.error(&path, format!("the {what} is refused: {}", reason(&e))))
                }
            }
        };
        for (i, d) in t.dimensions.iter().enumerate() {
            need_name(
                located,
                &format!("tables[{ti}].dimensions[{i}]"),
                &d.name,
                &d.expr,
            )?;
            check_expr(
                format!("tables[{ti}].dimensions[{i}].expr"),
                Item::Dimension(ti, i),
                format!("SELECT {} AS v FROM {from}", d.expr),
                "dimension's expression",
            )?;
        }
        for (i, d) in t.time_dimensions.iter().enumerate() {
            need_name(
                located,
                &format!("tables[{ti}].time_dimensions[{i}]"),
                &d.name,
                &d.expr,
            )?;
            check_expr(
                format!("tables[{ti}].time_dimensions[{i}].expr"),
                Item::TimeDimension(ti, i),
                format!("SELECT {} AS v FROM {from}", d.expr),
                "time dimension's expression",
            )?;
        }
        if t.time_dimensions.iter().filter(|d| d.primary).count() > 1 {
            return Err(located.error(
                &format!("tables[{ti}].time_dimensions"),
                "more than one time dimension is `primary: true`; mark the one a question's bare time condition uses".into(),
            ));
        }
        for (i, m) in t.measures.iter().enumerate() {
            need_name(
                located,
                &format!("tables[{ti}].measures[{i}]"),
                &m.name,
                &m.expr,
            )?;
            check_expr(
                format!("tables[{ti}].measures[{i}].expr"),
                Item::Measure(ti, i),
                format!("SELECT {} AS v FROM {from}", m.aggregation.apply(&m.expr)),
                "measure's expression",
            )?;
        }
        for (i, f) in t.filters.iter().enumerate() {
            need_name(
                located,
                &format!("tables[{ti}].filters[{i}]"),
                &f.name,
                &f.expr,
            )?;
            check_expr(
                format!("tables[{ti}].filters[{i}].expr"),
                Item::Filter(ti, i),
                format!("SELECT 1 AS v FROM {from} WHERE {}", f.expr),
                "filter's predicate",
            )?;
        }
        tables.push(BoundTable {
            schema: table.schema.clone(),
            name: table.name.clone(),
            columns,
        });
    }
    check_relationships(located, catalog)?;
    for (i, v) in model.verified_queries.iter().enumerate() {
        super::verified::check_one(v, catalog, validator).map_err(|(key, message)| {
            located.error(&format!("verified_queries[{i}]{key}"), message)
        })?;
    }
    Ok(Semantic::new(model.clone(), tables, Terms::build(model)))
}

fn need_name(located: &Located, path: &str, name: &str, expr: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(located.error(&format!("{path}.name"), "every item needs a name".into()));
    }
    if expr.trim().is_empty() {
        return Err(located.error(&format!("{path}.expr"), format!("{name:?} needs an `expr`")));
    }
    Ok(())
}

fn check_relationships(located: &Located, catalog: &Catalog) -> Result<()> {
    let model: &SemanticModel = &located.model;
    for (ri, r) in model.relationships.iter().enumerate() {
        let resolve = |name: &str| {
            model
                .tables
                .iter()
                .find(|t| t.name == name)
                .map(|t| t.physical().to_string())
                .and_then(|p| find_table(catalog, &p))
                .or_else(|| find_table(catalog, name))
        };
        let left = resolve(&r.left_table).ok_or_else(|| {
            located.error(
                &format!("relationships[{ri}].left_table"),
                format!("no table {:?} in the model or the database", r.left_table),
            )
        })?;
        let right = resolve(&r.right_table).ok_or_else(|| {
            located.error(
                &format!("relationships[{ri}].right_table"),
                format!("no table {:?} in the model or the database", r.right_table),
            )
        })?;
        if r.columns.is_empty() {
            return Err(located.error(
                &format!("relationships[{ri}].columns"),
                "a relationship needs at least one pair of columns (`- left: ...` / `right: ...`)"
                    .into(),
            ));
        }
        for (ci, pair) in r.columns.iter().enumerate() {
            for (side, table, column) in [("left", left, &pair.left), ("right", right, &pair.right)]
            {
                if table.find_column(catalog.dialect, column, false).is_none() {
                    return Err(located.error(
                        &format!("relationships[{ri}].columns[{ci}].{side}"),
                        format!(
                            "no column {column:?} in {}; its columns are: {}",
                            table.name,
                            table
                                .columns
                                .iter()
                                .map(|c| c.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The catalog table a model names (`Invoice`, `public.invoice`), matched as an unquoted name.
pub(crate) fn find_table<'c>(catalog: &'c Catalog, written: &str) -> Option<&'c Table> {
    let (schema, name) = match written.rsplit_once('.') {
        Some((s, n)) => (Some(s), n),
        None => (None, written),
    };
    catalog.find_table(schema, name, false)
}

fn table_list(catalog: &Catalog) -> String {
    let mut names: Vec<&str> = catalog.tables.iter().map(|t| t.name.as_str()).collect();
    names.truncate(40);
    names.join(", ")
}

pub(crate) fn reason(e: &Error) -> String {
    match e {
        Error::SqlRejected { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// A literal of `kind` that stands in for a parameter while a query is checked.
pub(crate) fn placeholder_literal(kind: ParameterType) -> &'static str {
    match kind {
        ParameterType::Text => "'x'",
        ParameterType::Integer => "1",
        ParameterType::Number => "1.5",
        ParameterType::Date => "'2000-01-01'",
    }
}
