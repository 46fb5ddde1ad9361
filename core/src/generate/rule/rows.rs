//! Whole rows: "all information about ..." shows every column of the listed table, and "the
//! most expensive track in each genre" the rows that hold their group's extreme.

use crate::error::Result;

use super::{
    cannot_answer,
    ir::{Agg, ColumnRef, Dimension, Filter, Measure, MeasureArg, QueryIr, Share},
    resolve::Resolution,
};

impl Resolution<'_> {
    /// The last steps of a question's query: whole rows and percentages.
    pub(super) fn finish(&self, ir: &mut QueryIr) -> Result<()> {
        self.whole_rows(ir)?;
        self.share(ir)
    }

    /// "What percentage of tracks are Rock": the count of rows becomes the share of those
    /// that meet the question's conditions ([`Share::Rows`]), in each group when the question
    /// groups. "Share of revenue by country": each group's total in percent of the whole
    /// table's ([`Share::OfTotal`]), only without conditions (of which whole would the share
    /// be?). Anything else that asks for a percentage is an abstention.
    fn share(&self, ir: &mut QueryIr) -> Result<()> {
        if !self.draft.share {
            return Ok(());
        }
        let refuse = |why: &str| Err(cannot_answer(why.to_string(), Vec::new()));
        if self.draft.all_columns || !ir.having.is_empty() {
            return refuse("the question asks for a percentage and for something else");
        }
        match &ir.measure {
            Some(Measure {
                agg: Agg::Count,
                arg: MeasureArg::Rows { .. },
            }) => {
                if ir.filters.is_empty() {
                    return refuse("I could not tell which rows the percentage is of");
                }
                ir.share = Some(Share::Rows {
                    conditions: std::mem::take(&mut ir.filters),
                });
            }
            Some(Measure {
                agg: Agg::Sum,
                arg: MeasureArg::Column { .. } | MeasureArg::Product { .. },
            }) if !ir.group_by.is_empty() && ir.filters.is_empty() => {
                ir.share = Some(Share::OfTotal);
            }
            _ => return refuse("I could not tell what the percentage is of"),
        }
        Ok(())
    }

    /// When the question asked for all the information about its rows, shows every column of
    /// the listed table, in the catalog's order.
    ///
    /// The columns are written out rather than `*`: the generator's catalog is the asker's
    /// visible catalog (data permissions may hide columns), so the list names exactly what the
    /// asker may see, and a joined table's columns never slip in. The rules abstain when the
    /// question also computes a value or groups (the rows would not be whole rows) or shows a
    /// column of another table. When the question names columns ("the delegate and committee
    /// information"), those columns are the information asked for.
    pub(super) fn whole_rows(&self, ir: &mut QueryIr) -> Result<()> {
        if !self.draft.all_columns {
            return Ok(());
        }
        if !self.draft.columns.is_empty() {
            // "the delegate and committee information": the named columns are the information.
            return Ok(());
        }
        let refuse = |why: &str| Err(cannot_answer(why.to_string(), Vec::new()));
        if ir.measure.is_some() || !ir.group_by.is_empty() || !ir.having.is_empty() {
            return refuse("the question asks for whole rows and for a computed value");
        }
        if ir.columns.iter().any(|c| c.table != ir.subject) {
            return refuse("the question asks for whole rows of one table and columns of another");
        }
        let Some(t) = self.lex.table_index(&ir.subject) else {
            return refuse("I could not tell whose information to show");
        };
        let info = &self.lex.tables[t];
        ir.columns = info
            .columns
            .iter()
            .map(|c| ColumnRef::new(&info.name, &c.name))
            .collect();
        ir.distinct = false;
        Ok(())
    }
}

impl Resolution<'_> {
    /// "The most expensive track in each genre", "the longest track of every album": the rows
    /// that hold their group's largest (or smallest) value, with a correlated subquery
    /// ([`Filter::GroupExtreme`]).
    ///
    /// Superlatives over the whole table keep the rules' `ORDER BY ... LIMIT 1` (one row, as
    /// the field's gold standard writes them); a superlative in each group cannot be written
    /// with a limit on every dialect without window functions, so it keeps every row tied for
    /// its group's extreme. The reading is taken only for a single superlative with no count
    /// ("the 3 longest tracks in each genre" needs a rank per group), no computed value, no
    /// other condition (it would have to hold inside the subquery too), one grouping, and a
    /// group that is a column of the ranked table or the table one of its foreign keys points
    /// to; otherwise the rules abstain rather than count rows per group.
    pub(super) fn per_group_extreme(&self) -> Result<Option<QueryIr>> {
        let d = self.draft;
        let Some((s, desc)) = d.order_by.filter(|_| d.extreme) else {
            return Ok(None);
        };
        if d.dims.is_empty() || d.measure.is_some() || !d.having.is_empty() {
            return Ok(None);
        }
        let refuse = |why: String| Err(cannot_answer(why, Vec::new()));
        if d.limit != Some(1)
            || d.dims.len() != 1
            || d.rank.is_some()
            || d.rank_column.is_some()
            || !d.filters.is_empty()
            || !d.columns.is_empty()
            || d.all_columns
        {
            return refuse(
                "the question asks for a ranking within each group, which the rules write only for one row per group with no other condition".to_string(),
            );
        }
        let column = self.column(s)?;
        let ranked = &column.table;
        let Some(t) = self.lex.table_index(ranked) else {
            return Ok(None);
        };
        let info = &self.lex.tables[t];
        let (group, shown) = match self.dimension(&d.dims[0])? {
            Dimension::Column { column: g } if g.table == *ranked => (g.clone(), vec![g]),
            Dimension::Entity { table, labels, .. } => {
                let fks: Vec<&str> = info
                    .columns
                    .iter()
                    .filter(|c| c.references.as_deref() == Some(table.as_str()))
                    .map(|c| c.name.as_str())
                    .collect();
                let [fk] = fks.as_slice() else {
                    return refuse(format!(
                        "I could not tell how {ranked} rows are grouped by {table}"
                    ));
                };
                let shown = labels.iter().map(|l| ColumnRef::new(&table, l)).collect();
                (ColumnRef::new(ranked, *fk), shown)
            }
            _ => {
                return refuse(format!(
                    "I could not tell how {ranked} rows are grouped for the ranking"
                ));
            }
        };
        if let Some(subject) = self.subject()?
            && subject != *ranked
        {
            return refuse(format!(
                "the question ranks {ranked} rows but lists {subject} rows"
            ));
        }
        let mut ir = QueryIr::new(ranked.clone());
        ir.columns = shown;
        for l in &info.labels {
            let c = ColumnRef::new(ranked, l);
            if !ir.columns.contains(&c) {
                ir.columns.push(c);
            }
        }
        if !ir.columns.contains(&column) {
            ir.columns.push(column.clone());
        }
        ir.filters.push(Filter::GroupExtreme {
            column,
            group,
            max: desc,
        });
        for c in &d.context {
            let t = self.table_name(self.pick(*c)?.table());
            if !ir.tables().contains(&t) {
                return refuse(format!(
                    "I could not tell how {t} relates to the rest of the question"
                ));
            }
        }
        Ok(Some(ir))
    }
}

impl Resolution<'_> {
    /// "The name of the employee with the maximum salary", "the id of the cheapest product
    /// with the lowest price": the attributes of the row that holds the largest (or smallest)
    /// value, written as the rules write every superlative over a table: `ORDER BY ... LIMIT
    /// 1`, one row (ties broken by the database, as the field's gold standard does).
    ///
    /// Taken only when the question asks for attributes of rows (names, ids, named columns or
    /// all information) of the very table whose column is the maximum or minimum, with no
    /// grouping, ranking or order of its own; "the maximum salary of employees" stays a value.
    pub(super) fn row_with_extreme(&self) -> Result<Option<QueryIr>> {
        use super::plan::DraftMeasure;
        let d = self.draft;
        let Some(DraftMeasure::Agg(agg @ (Agg::Max | Agg::Min), s)) = &d.measure else {
            return Ok(None);
        };
        let asks_rows = d.names || d.key || !d.columns.is_empty() || d.all_columns;
        if !asks_rows
            || !d.dims.is_empty()
            || !d.having.is_empty()
            || d.rank.is_some()
            || d.rank_column.is_some()
            || d.order_by.is_some()
            || d.limit.is_some()
            || d.direction.is_some()
            || d.share
            || d.measure_condition.is_some()
        {
            return Ok(None);
        }
        let Ok(column) = self.column(*s) else {
            return Ok(None);
        };
        if self.subject()?.as_ref() != Some(&column.table) {
            return Ok(None);
        }
        let Some(t) = self.lex.table_index(&column.table) else {
            return Ok(None);
        };
        let info = &self.lex.tables[t];
        let named = self.columns()?;
        if named.iter().any(|c| c.table != column.table) {
            return Ok(None);
        }
        let mut ir = QueryIr::new(column.table.clone());
        let mut add = |c: ColumnRef| {
            if !ir.columns.contains(&c) {
                ir.columns.push(c);
            }
        };
        if d.key {
            info.key
                .iter()
                .for_each(|k| add(ColumnRef::new(&info.name, k)));
        }
        if d.names || named.is_empty() {
            info.label_refs().into_iter().for_each(&mut add);
        }
        named.into_iter().for_each(&mut add);
        add(column.clone());
        ir.filters = super::assemble::combine_values(
            d.filters
                .iter()
                .map(|f| self.filter(f))
                .collect::<Result<Vec<_>>>()?,
            d.any_of,
        )?;
        ir.order = Some(super::ir::Order {
            key: super::ir::OrderKey::Column { column },
            descending: *agg == Agg::Max,
            words: None,
        });
        ir.limit = Some(1);
        for c in &d.context {
            let t = self.table_name(self.pick(*c)?.table());
            if !ir.tables().contains(&t) {
                return Err(cannot_answer(
                    format!("I could not tell how {t} relates to the rest of the question"),
                    Vec::new(),
                ));
            }
        }
        self.whole_rows(&mut ir)?;
        Ok(Some(ir))
    }
}
