//! Sets of rows by their related rows: negated values and "both X and Y" on a table reached
//! through one-to-many links become `[NOT] EXISTS` conditions, and conditions on related
//! rows are placed on the question's subject.
//!
//! "customers who bought both Rock and Jazz tracks" is the customers with a Rock track and a
//! Jazz track (two `EXISTS`); "customers who bought Rock but not Jazz tracks" those with a
//! Rock track and no Jazz track (`EXISTS` and `NOT EXISTS`); "tracks not in the Rock genre"
//! stays `Genre.Name <> 'Rock'`, since a track has one genre.

use crate::error::Result;

use super::{
    cannot_answer,
    ir::{CmpOp, ColumnRef, Filter, Literal, QueryIr},
    resolve::Resolution,
};

impl Resolution<'_> {
    /// `filters` with the sets placed on `subject` (see the module's documentation).
    pub(super) fn place_sets(&self, filters: Vec<Filter>, subject: &str) -> Result<Vec<Filter>> {
        let anchor = self
            .lex
            .table_index(subject)
            .map(|t| &self.lex.tables[t])
            .map(|t| {
                let c = t
                    .key
                    .first()
                    .or(t.labels.first())
                    .cloned()
                    .unwrap_or_default();
                ColumnRef::new(&t.name, c)
            })
            .unwrap_or_else(|| ColumnRef::new(subject, ""));
        let is_text = |v: &Literal| matches!(v, Literal::Text(_));
        let mut set_columns: Vec<ColumnRef> = Vec::new();
        for f in &filters {
            if let Filter::Compare {
                column,
                op: CmpOp::Ne,
                value,
            } = f
                && is_text(value)
                && !set_columns.contains(column)
            {
                set_columns.push(column.clone());
            }
        }
        let mut both_columns: Vec<ColumnRef> = Vec::new();
        if self.draft.both {
            for f in &filters {
                if let Filter::Compare {
                    column,
                    op: CmpOp::Eq,
                    ..
                } = f
                {
                    let n = filters
                        .iter()
                        .filter(|g| matches!(g, Filter::Compare { column: c, op: CmpOp::Eq, .. } if c == column))
                        .count();
                    if n >= 2 && !both_columns.contains(column) {
                        both_columns.push(column.clone());
                    }
                }
            }
            if both_columns.is_empty() {
                return Err(cannot_answer(
                    "I could not tell which two values \"both\" joins".to_string(),
                    Vec::new(),
                ));
            }
            for c in &both_columns {
                if !self.to_many(subject, &c.table) {
                    return Err(cannot_answer(
                        format!(
                            "each {subject} row has one {}, so it cannot have both values",
                            c.column
                        ),
                        Vec::new(),
                    ));
                }
            }
            set_columns.extend(both_columns);
        }
        let mut out = Vec::with_capacity(filters.len());
        for f in filters {
            match f {
                Filter::Exists {
                    column,
                    table,
                    filters,
                    negated,
                } if column.table.is_empty() => {
                    if table == subject {
                        return Err(cannot_answer(
                            format!("I could not tell which rows are without {table}"),
                            Vec::new(),
                        ));
                    }
                    out.push(Filter::Exists {
                        column: anchor.clone(),
                        table,
                        filters,
                        negated,
                    });
                }
                Filter::Compare { column, op, value }
                    if matches!(op, CmpOp::Eq | CmpOp::Ne)
                        && set_columns.contains(&column)
                        && self.to_many(subject, &column.table) =>
                {
                    if !self.near_or_named(subject, &column.table) {
                        return Err(cannot_answer(
                            format!(
                                "{} is far from {subject} and the question does not say how they relate",
                                column.table
                            ),
                            Vec::new(),
                        ));
                    }
                    out.push(Filter::Exists {
                        column: anchor.clone(),
                        table: column.table.clone(),
                        filters: vec![Filter::Compare {
                            column,
                            op: CmpOp::Eq,
                            value,
                        }],
                        negated: op == CmpOp::Ne,
                    });
                }
                f => out.push(f),
            }
        }
        Ok(none_of(out))
    }

    /// Whether `table` is at most two links from `subject`, or the question names a table
    /// (beside the subject) that says how they relate ("Rock but not Jazz tracks").
    fn near_or_named(&self, subject: &str, table: &str) -> bool {
        self.graph.distance(subject, table).is_some_and(|d| d <= 2)
            || !self.draft.modifiers.is_empty()
            || !self.draft.context.is_empty()
    }

    /// Whether a row of `subject` may have several related rows of `table`.
    fn to_many(&self, subject: &str, table: &str) -> bool {
        self.graph
            .join_tree(subject, &[subject.to_string(), table.to_string()])
            .is_some_and(|steps| steps.iter().any(|s| !s.to_one))
    }

    /// The tables the related-rows conditions of `ir` read, on their way from the subject.
    pub(super) fn related_tables(&self, ir: &QueryIr) -> Vec<String> {
        let mut out = Vec::new();
        for f in &ir.filters {
            if let Filter::Exists {
                column,
                table,
                filters,
                ..
            } = f
            {
                let mut tables = vec![column.table.clone(), table.clone()];
                tables.extend(filters.iter().map(|g| g.column().table.clone()));
                if let Some(steps) = self.graph.join_tree(&column.table, &tables) {
                    out.extend(steps.into_iter().map(|s| s.table));
                }
            }
        }
        out
    }
}

/// Merges the `<>` conditions on one column into one `NOT IN`.
fn none_of(filters: Vec<Filter>) -> Vec<Filter> {
    let mut out: Vec<Filter> = Vec::with_capacity(filters.len());
    for f in filters {
        if let Filter::Compare {
            column,
            op: CmpOp::Ne,
            value,
        } = &f
        {
            let prior = out.iter_mut().find(|o| {
                matches!(o, Filter::Compare { column: c, op: CmpOp::Ne, .. } | Filter::NoneOf { column: c, .. } if c == column)
            });
            if let Some(prior) = prior {
                let values = match prior {
                    Filter::Compare { value: v, .. } => vec![v.clone(), value.clone()],
                    Filter::NoneOf { values, .. } => {
                        let mut v = values.clone();
                        v.push(value.clone());
                        v
                    }
                    _ => continue,
                };
                *prior = Filter::NoneOf {
                    column: column.clone(),
                    values,
                };
                continue;
            }
        }
        out.push(f);
    }
    out
}
