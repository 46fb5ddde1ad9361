//! Sets of rows by their related rows: negated values and "both X and Y" on a table reached
//! through one-to-many links become `[NOT] EXISTS` conditions, and conditions on related
//! rows are placed on the question's subject.
//!
//! "customers who bought both Rock and Jazz tracks" is the customers with a Rock track and a
//! Jazz track (two `EXISTS`); "customers who bought Rock but not Jazz tracks" those with a
//! Rock track and no Jazz track (`EXISTS` and `NOT EXISTS`); "tracks not in the Rock genre"
//! stays `Genre.Name <> 'Rock'`, since a track has one genre.
//!
//! "the ship types used by both Panama and Malta ships", where each ship has one flag, is
//! the types shared by the two groups of rows: grouped by type, among the rows of either
//! flag, those with both flags (`HAVING COUNT(DISTINCT flag) = 2`).

use crate::error::Result;

use super::{
    cannot_answer,
    ir::{
        Agg, CmpOp, ColumnRef, Dimension, Filter, HavingFilter, Literal, Measure, MeasureArg,
        QueryIr,
    },
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

    /// "the types shared by Panama and Malta ships": the values of `columns` that rows with
    /// each of the "both" values have, when each row holds one of those values (see the
    /// module's documentation). `None` when the question is not of that shape.
    pub(super) fn shared_values(
        &self,
        filters: &[Filter],
        columns: &[ColumnRef],
    ) -> Result<Option<QueryIr>> {
        let d = self.draft;
        if !d.both
            || columns.is_empty()
            || d.measure.is_some()
            || !d.dims.is_empty()
            || !d.having.is_empty()
            || d.rank.is_some()
            || d.order_by.is_some()
            || d.limit.is_some()
            || d.any_of
        {
            return Ok(None);
        }
        let table = &columns[0].table;
        let Some(info) = self.lex.table_index(table).map(|t| &self.lex.tables[t]) else {
            return Ok(None);
        };
        // The shared values are an attribute of the rows, not the rows themselves.
        if columns.iter().any(|c| {
            &c.table != table || info.key.contains(&c.column) || info.labels.contains(&c.column)
        }) {
            return Ok(None);
        }
        let equal_on = |c: &ColumnRef| {
            filters
                .iter()
                .filter_map(|f| match f {
                    Filter::Compare {
                        column,
                        op: CmpOp::Eq,
                        value,
                    } if column == c => Some(value.clone()),
                    _ => None,
                })
                .collect::<Vec<Literal>>()
        };
        let Some(both) = filters.iter().find_map(|f| match f {
            Filter::Compare { column, .. }
                if &column.table == table
                    && !columns.contains(column)
                    && equal_on(column).len() >= 2 =>
            {
                Some(column.clone())
            }
            _ => None,
        }) else {
            return Ok(self.shared_ranges(filters, columns, table));
        };
        let values = equal_on(&both);
        let mut ir = QueryIr::new(table.clone());
        ir.filters = filters
            .iter()
            .filter(
                |f| !matches!(f, Filter::Compare { column, op: CmpOp::Eq, .. } if *column == both),
            )
            .cloned()
            .collect();
        if ir.filters.iter().any(|f| f.column().table != *table) {
            // Conditions on other tables: which group of rows do they narrow?
            return Err(cannot_answer(
                format!(
                    "the question asks for {} shared by rows of several {} values and puts other conditions beside them",
                    columns[0].column, both.column
                ),
                Vec::new(),
            ));
        }
        let n = values.len() as f64;
        ir.filters.push(Filter::AnyOf {
            column: both.clone(),
            values,
        });
        ir.group_by = columns
            .iter()
            .map(|c| Dimension::Column { column: c.clone() })
            .collect();
        let measure = Measure {
            agg: Agg::CountDistinct,
            arg: MeasureArg::Column { column: both },
        };
        ir.having = vec![HavingFilter {
            measure: measure.clone(),
            op: CmpOp::Eq,
            value: n,
        }];
        ir.measure = Some(measure);
        Ok(Some(ir))
    }

    /// "the addresses with both members younger than 30 and members older than 40": the
    /// values of `columns` whose rows reach below one bound and above the other
    /// (`HAVING MIN(age) < 30 AND MAX(age) > 40`).
    fn shared_ranges(
        &self,
        filters: &[Filter],
        columns: &[ColumnRef],
        table: &str,
    ) -> Option<QueryIr> {
        let bounds: Vec<(&ColumnRef, CmpOp, f64)> = filters
            .iter()
            .filter_map(|f| match f {
                Filter::Compare {
                    column,
                    op: op @ (CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge),
                    value: Literal::Number(n),
                } => Some((column, *op, *n)),
                _ => None,
            })
            .collect();
        let [(a, op_a, n_a), (b, op_b, n_b)] = bounds.as_slice() else {
            return None;
        };
        let below = |op: &CmpOp| matches!(op, CmpOp::Lt | CmpOp::Le);
        if a != b || a.table != table || columns.contains(a) || below(op_a) == below(op_b) {
            return None;
        }
        let mut ir = QueryIr::new(table.to_string());
        ir.filters = filters
            .iter()
            .filter(|f| !matches!(f, Filter::Compare { column, .. } if column == *a))
            .cloned()
            .collect();
        if ir.filters.iter().any(|f| f.column().table != table) {
            return None;
        }
        ir.group_by = columns
            .iter()
            .map(|c| Dimension::Column { column: c.clone() })
            .collect();
        let extreme = |op: &CmpOp| Measure {
            agg: if below(op) { Agg::Min } else { Agg::Max },
            arg: MeasureArg::Column {
                column: (*a).clone(),
            },
        };
        ir.having = vec![
            HavingFilter {
                measure: extreme(op_a),
                op: *op_a,
                value: *n_a,
            },
            HavingFilter {
                measure: extreme(op_b),
                op: *op_b,
                value: *n_b,
            },
        ];
        ir.measure = Some(extreme(op_a));
        ir.also = vec![extreme(op_b)];
        Some(ir)
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
