//! Suggested follow-ups: two or three next questions drawn from the model (a dimension the
//! answer does not use yet, a finer time grain, the top of a ranking) or, without a model,
//! from the catalog columns of the tables the statement reads. Phrased as the follow-ups the
//! rule generator patches ("by billing city", "by month", "top 5"). No database round trip.

use std::collections::HashSet;

use sqlparser::ast::GroupByExpr;

use super::ast::top_select;
use crate::{catalog::Catalog, semantic::Semantic, sql::ValidatedSql, text};

/// Candidate follow-ups for the answer of `validated` (best first, more than are shown: the
/// caller keeps those its generator understands).
pub fn candidates(
    validated: &ValidatedSql,
    row_count: usize,
    catalog: &Catalog,
    semantic: Option<&Semantic>,
) -> Vec<String> {
    let Ok(query) = crate::sql::parse_query(catalog.dialect, &validated.sql) else {
        return Vec::new();
    };
    let Some(select) = top_select(&query) else {
        return Vec::new();
    };
    let grouped = match &select.group_by {
        GroupByExpr::Expressions(e, _) => !e.is_empty(),
        GroupByExpr::All(_) => true,
    };
    let lower_sql = validated.sql.to_ascii_lowercase();
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let used_table = |name: &str| {
        validated
            .tables
            .iter()
            .any(|t| same(t.rsplit('.').next().unwrap_or(t), name))
    };
    let named = |table: &str, column: &str| {
        validated
            .named_columns
            .iter()
            .any(|(t, c)| same(t.rsplit('.').next().unwrap_or(t), table) && same(c, column))
    };
    let mut out: Vec<String> = Vec::new();
    let mut time_used = false;
    let mut dims: Vec<String> = Vec::new();
    if let Some(semantic) = semantic {
        let model = semantic.model();
        for (ti, t) in model.tables.iter().enumerate() {
            let Some(bound) = semantic.tables().get(ti) else {
                continue;
            };
            if !used_table(&bound.name) {
                continue;
            }
            for td in &t.time_dimensions {
                if named(&bound.name, td.expr.trim()) {
                    time_used = true;
                }
            }
            for d in &t.dimensions {
                let expr = d.expr.trim();
                let simple = expr.chars().all(|c| c.is_alphanumeric() || c == '_');
                if simple && !named(&bound.name, expr) {
                    dims.push(format!("by {}", d.name));
                }
            }
        }
    } else {
        for table in &catalog.tables {
            if !used_table(&table.name) {
                continue;
            }
            for c in &table.columns {
                let ty = c.data_type.to_ascii_lowercase();
                let texty = ty.contains("char") || ty.contains("text") || ty.contains("string");
                let words = text::identifier_words(&c.name);
                let label = words.join(" ").to_lowercase();
                let skip = [
                    "name", "email", "phone", "fax", "address", "postal", "id", "code",
                ]
                .iter()
                .any(|w| label.split(' ').any(|x| x == *w));
                if texty && !skip && !named(&table.name, &c.name) {
                    dims.push(format!("by {label}"));
                }
            }
            if table.columns.iter().any(|c| {
                let ty = c.data_type.to_ascii_lowercase();
                (ty.contains("date") || ty.contains("time")) && named(&table.name, &c.name)
            }) {
                time_used = true;
            }
        }
    }
    if grouped {
        let by_year = lower_sql.contains("'%y'") || lower_sql.contains("year");
        let by_month = lower_sql.contains("%m") || lower_sql.contains("month");
        if time_used && by_year && !by_month {
            out.push("by month".into());
        } else if !time_used {
            out.push("by year".into());
        }
        if row_count > 5 {
            out.push("top 5".into());
        }
    }
    let mut seen = HashSet::new();
    out.extend(dims);
    out.retain(|s| seen.insert(s.clone()));
    out
}
