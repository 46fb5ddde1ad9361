//! Assembling the whole query of a question asked on its own from a resolved draft: the
//! subject, measure, groups, conditions, ranking, ordering and limit, with the checks that make
//! the rules abstain rather than guess.

use crate::error::{Error, Result};

use super::{
    cannot_answer,
    ir::{
        Agg, ColumnRef, Dimension, Filter, HavingFilter, Literal, Measure, MeasureArg, Order,
        OrderKey, QueryIr,
    },
    linker::SchemaLexicon,
    resolve::Resolution,
};

impl Resolution<'_> {
    /// Every table the question named only in passing must be part of the query.
    fn check_context(&self, ir: &mut QueryIr) -> Result<()> {
        let tables = ir.tables();
        // The tables the joins pass through: "mills built by architects who built a bridge"
        // reaches the bridges through the architects.
        let path: Vec<String> = self
            .graph
            .join_tree(&ir.subject, &tables)
            .map(|steps| steps.into_iter().map(|s| s.table).collect())
            .unwrap_or_default();
        for c in &self.draft.context {
            let t = self.table_name(self.pick(*c)?.table());
            if tables.contains(&t) || self.related_tables(ir).contains(&t) {
                continue;
            }
            if !path.contains(&t) {
                return Err(cannot_answer(
                    format!("I could not tell how {t} relates to the rest of the question"),
                    Vec::new(),
                ));
            }
            if !ir.through.contains(&t) {
                ir.through.push(t);
            }
        }
        Ok(())
    }

    /// The whole query of a question asked on its own.
    pub fn query(&self) -> Result<QueryIr> {
        let ir = self.whole_query()?;
        self.check_names(&ir)?;
        Ok(ir)
    }

    /// A question that asks for names must show a column that holds one: "the first name of
    /// the professor" on a table whose rows have no name shows no key or code in its place.
    fn check_names(&self, ir: &QueryIr) -> Result<()> {
        if !self.draft.names || (ir.measure.is_some() && ir.group_by.is_empty()) {
            // "how many airports have a name containing ...": the name is not shown.
            return Ok(());
        }
        let is_name = |table: &str, column: &str| {
            crate::values::is_label_name(column)
                || self.lex.table_index(table).is_some_and(|t| {
                    let info = &self.lex.tables[t];
                    info.named && info.labels.iter().any(|l| l == column)
                })
        };
        // "the name of every city" grouped by `city`: a text column that is no key or code.
        let named_group = |column: &ColumnRef| {
            self.lex.column(column).is_some_and(|c| {
                c.kind == super::linker::ColumnKind::Text
                    && !c.is_key
                    && !c
                        .words
                        .last()
                        .is_some_and(|w| matches!(w.as_str(), "code" | "id" | "number" | "no"))
            })
        };
        let shown = ir.columns.iter().any(|c| is_name(&c.table, &c.column));
        let grouped = ir.group_by.iter().any(|d| match d {
            Dimension::Entity { table, labels, .. } => labels.iter().any(|l| is_name(table, l)),
            Dimension::Column { column } => {
                is_name(&column.table, &column.column) || named_group(column)
            }
            _ => true,
        });
        if shown || grouped {
            return Ok(());
        }
        let table = ir
            .group_by
            .iter()
            .map(Dimension::table)
            .next()
            .unwrap_or(&ir.subject);
        Err(cannot_answer(
            format!("{table} has no column that holds a name"),
            Vec::new(),
        ))
    }

    /// "the number of faculty in each activity", where faculty reach activities through a link
    /// table (`Faculty_Participates_in`) and nothing else is read from them: the distinct
    /// faculty the link rows name, without joining the faculty table (whose join would also drop
    /// link rows naming no faculty row).
    fn count_link_rows(&self, ir: &mut QueryIr) {
        let Some(Measure {
            agg: Agg::Count,
            arg: MeasureArg::Rows { table },
        }) = &ir.measure
        else {
            return;
        };
        let counted = table.clone();
        if ir.subject != counted
            || ir.group_by.is_empty()
            || !ir.also.is_empty()
            || ir.share.is_some()
            || ir.columns.iter().any(|c| c.table == counted)
            || ir.filters.iter().any(|f| f.column().table == counted)
            || ir.group_by.iter().any(|g| g.table() == counted)
        {
            return;
        }
        let Some(steps) = self.graph.join_tree(&counted, &ir.tables()) else {
            return;
        };
        // The first step leaves the counted table for the link table, whose rows each name one
        // counted row; the rest of the tree hangs from the link table.
        let [first, rest @ ..] = steps.as_slice() else {
            return;
        };
        if first.to_one || first.parent != counted || rest.iter().any(|s| s.parent == counted) {
            return;
        }
        let Some(link) = self
            .lex
            .table_index(&first.table)
            .map(|t| &self.lex.tables[t])
        else {
            return;
        };
        let refs: Vec<&str> = link
            .columns
            .iter()
            .filter(|c| c.references.as_deref() == Some(counted.as_str()))
            .map(|c| c.name.as_str())
            .collect();
        let [column] = refs.as_slice() else {
            return;
        };
        if link
            .columns
            .iter()
            .filter(|c| c.references.is_some())
            .count()
            < 2
        {
            return;
        }
        let measure = Measure {
            agg: Agg::CountDistinct,
            arg: MeasureArg::Column {
                column: ColumnRef::new(&link.name, *column),
            },
        };
        let old = ir.measure.replace(measure.clone());
        for h in &mut ir.having {
            if Some(&h.measure) == old.as_ref() {
                h.measure = measure.clone();
            }
        }
        ir.subject = link.name.clone();
    }

    /// Groups by the rows of `table` instead of the one grouping column, a foreign key that
    /// points to them (each value of the key is one of those rows); returns their key, which
    /// the foreign key held, to show.
    fn group_by_pointed(&self, ir: &mut QueryIr, table: &str) -> Option<ColumnRef> {
        let [Dimension::Column { column }] = ir.group_by.as_slice() else {
            return None;
        };
        if self.lex.column(column)?.references.as_deref() != Some(table) {
            return None;
        }
        let t = self.lex.table_index(table)?;
        let [key] = self.lex.tables[t].key.as_slice() else {
            return None;
        };
        let key = ColumnRef::new(table, key);
        ir.group_by[0] = self.entity(t);
        Some(key)
    }

    fn whole_query(&self) -> Result<QueryIr> {
        let d = self.draft;
        if !d.more_measures.is_empty()
            && (d.rank.is_some()
                || d.rank_column.is_some()
                || d.order_by.is_some()
                || d.limit.is_some()
                || !d.having.is_empty()
                || d.measure_condition.is_some()
                || d.share)
        {
            return Err(cannot_answer(
                "the question asks for several aggregates and ranks or filters by them, and the rules cannot tell by which".to_string(),
                Vec::new(),
            ));
        }
        if let Some(ir) = self.per_group_extreme()? {
            return Ok(ir);
        }
        if let Some(ir) = self.row_with_extreme()? {
            return Ok(ir);
        }
        let measure = d.measure.as_ref().map(|m| self.measure(m)).transpose()?;
        let mut dims: Vec<Dimension> = Vec::new();
        for x in &d.dims {
            // "each genre ... show each genre": one grouping said twice.
            let x = self.dimension(x)?;
            if !dims.contains(&x) {
                dims.push(x);
            }
        }
        let columns = self.columns()?;
        not_self_related(self.lex, &columns)?;
        let mut listed = self.subject()?;
        if measure.is_none()
            && d.having.is_empty()
            && d.listing
            && d.rank_column.is_none()
            && !dims.is_empty()
            && dims.iter().all(|x| matches!(x, Dimension::Entity { .. }))
            && columns.is_empty()
            && listed.is_none()
        {
            // "show each body builder": a listing of the entity.
            if let Some(Dimension::Entity { table, .. }) = dims.first() {
                listed = Some(table.clone());
            }
            dims.clear();
        }
        if measure.is_none() && d.having.is_empty() && !columns.is_empty() {
            // "the id and name for every asset": a listing, not a grouping.
            if let Some(Dimension::Entity { table, .. }) = dims.first() {
                listed.get_or_insert_with(|| table.clone());
            }
            dims.retain(|x| !matches!(x, Dimension::Entity { .. }));
        }
        let subject = match (&measure, &listed) {
            (Some(m), _) => super::ir::measure_table(m).to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => match (columns.first(), dims.first()) {
                (Some(c), _) => c.table.clone(),
                (None, Some(dim)) => dim.table().to_string(),
                _ => {
                    return Err(cannot_answer(
                        "I could not tell which table the question is about".to_string(),
                        Vec::new(),
                    ));
                }
            },
        };
        if d.names && measure.is_none() && dims.is_empty() {
            let info = self.lex.table_index(&subject).map(|t| &self.lex.tables[t]);
            if info.is_some_and(|t| t.labels == t.key && !t.key.is_empty()) {
                return Err(cannot_answer(
                    format!("{subject} has no column that holds a name"),
                    Vec::new(),
                ));
            }
        }
        for (s, tables) in &d.modifiers {
            let value_table = self.table_name(self.pick(*s)?.table());
            let near = tables.iter().any(|t| {
                self.graph
                    .distance(&value_table, &self.lex.tables[*t].name)
                    .is_some_and(|x| x <= 1)
            });
            if !near {
                return Err(cannot_answer(
                    format!(
                        "\"{}\" is a value of {value_table}, which is not directly related to what it describes",
                        self.value(*s).unwrap_or_default()
                    ),
                    Vec::new(),
                ));
            }
        }
        let resolved = d
            .filters
            .iter()
            .map(|f| self.filter(f))
            .collect::<Result<Vec<_>>>()?;
        if let Some(mut ir) = self.shared_values(&resolved, &columns)? {
            self.check_context(&mut ir)?;
            return Ok(ir);
        }
        let mut ir = QueryIr::new(subject.clone());
        ir.filters = combine_values(self.place_sets(resolved, &subject)?, d.any_of)?;
        ir.having = d
            .having
            .iter()
            .map(|h| {
                Ok(HavingFilter {
                    measure: self.measure(&h.measure)?,
                    op: h.op,
                    value: h.value,
                })
            })
            .collect::<Result<_>>()?;
        let mut columns = columns;
        if !ir.having.is_empty() {
            if measure.is_some() && dims.is_empty() {
                return Err(cannot_answer(
                    "the question puts a condition on a count or total without saying what to group by".to_string(),
                    Vec::new(),
                ));
            }
            let label_table = columns.first().and_then(|c| {
                let t = &self.lex.tables[self.lex.table_index(&c.table)?];
                columns
                    .iter()
                    .all(|x| x.table == t.name && t.labels.contains(&x.column) && t.labels != t.key)
                    .then_some(self.lex.table_index(&t.name)?)
            });
            if let (None, true, Some(t)) = (&measure, dims.is_empty(), label_table) {
                dims.push(self.entity(t));
                columns.clear();
            }
            let named_table = columns.first().and_then(|c| {
                let t = self.lex.table_index(&c.table)?;
                let info = &self.lex.tables[t];
                (d.names && info.labels != info.key && columns.iter().all(|x| x.table == info.name))
                    .then_some(t)
            });
            if let (None, true, Some(t)) = (&measure, dims.is_empty(), named_table) {
                // "the name and phone of patients with more than one appointment": each
                // patient, by name, with the phone beside it.
                dims.push(self.entity(t));
            } else if measure.is_none() && dims.is_empty() && !columns.is_empty() {
                // "the wineries that have at least four wines": group by the listed column.
                dims = columns
                    .drain(..)
                    .map(|column| Dimension::Column { column })
                    .collect();
            }
        }
        if d.implicit_dims {
            // "the name and address of the department with the most students": the department,
            // shown by its name, with its address beside it. The name may be said by its
            // columns ("the first and last name of the student with ...").
            let table = dims.first().map(|x| x.table().to_string());
            if let Some(t) = table.as_ref().and_then(|t| self.lex.table_index(t)) {
                let info = &self.lex.tables[t];
                let names_said = d.names
                    || (info.named
                        && info.labels.len() > 1
                        && !d.distinct
                        && dims.iter().any(|x| {
                            matches!(x, Dimension::Column { column }
                                if info.labels.contains(&column.column))
                        }));
                if names_said
                    && info.labels != info.key
                    && dims.iter().all(
                        |x| matches!(x, Dimension::Column { column } if column.table == info.name),
                    )
                {
                    for x in dims.drain(..) {
                        if let Dimension::Column { column } = x
                            && !info.labels.contains(&column.column)
                        {
                            columns.push(column);
                        }
                    }
                    dims.push(self.entity(t));
                }
            }
        }
        let mut measure = measure;
        if let Some(Measure {
            agg: agg @ (Agg::Min | Agg::Max),
            arg: MeasureArg::Column { column },
        }) = &measure
            && d.implicit_dims
            && d.rank.is_none()
            && d.having.is_empty()
            && dims
                .iter()
                .all(|x| matches!(x, Dimension::Column { column: c } if c.table == column.table))
        {
            // "the issue date of the volume with the minimum weeks on top": the row with the
            // smallest value, not a minimum per date.
            let order = Order {
                key: OrderKey::Column {
                    column: column.clone(),
                },
                descending: *agg == Agg::Max,
                words: None,
            };
            let mut ir = QueryIr::new(column.table.clone());
            ir.columns = dims
                .iter()
                .filter_map(|x| match x {
                    Dimension::Column { column } => Some(column.clone()),
                    _ => None,
                })
                .collect();
            ir.columns.push(column.clone());
            ir.filters = combine_values(
                self.place_sets(
                    d.filters
                        .iter()
                        .map(|f| self.filter(f))
                        .collect::<Result<Vec<_>>>()?,
                    &column.table,
                )?,
                d.any_of,
            )?;
            ir.order = Some(order);
            ir.limit = Some(d.limit.unwrap_or(1));
            self.check_context(&mut ir)?;
            self.finish(&mut ir)?;
            return Ok(ir);
        }
        let mut grouped_extreme = false;
        if let Some(rc) = d.rank_column {
            if measure.is_some() {
                return Err(cannot_answer(
                    "the question ranks by one value and computes another".to_string(),
                    Vec::new(),
                ));
            }
            let column = self.column(rc)?;
            let other_entity = listed.as_ref().is_some_and(|t| *t != column.table)
                || dims.iter().any(|x| x.table() != column.table);
            if !dims.is_empty() && measure.is_none() {
                // "the highest price for each film".
                grouped_extreme = true;
                let agg = if d.rank == Some(false) {
                    Agg::Min
                } else {
                    Agg::Max
                };
                measure = Some(Measure {
                    agg,
                    arg: MeasureArg::Column { column },
                });
                ir.subject = super::ir::measure_table(
                    measure.as_ref().ok_or_else(|| Error::internal("measure"))?,
                )
                .to_string();
            } else if other_entity {
                // "the department of the student with the lowest gpa" or "the department with
                // the lowest total gpa"? The rules do not guess.
                return Err(cannot_answer(
                    format!(
                        "I could not tell whether {} is to be ranked row by row or in total",
                        column.column
                    ),
                    Vec::new(),
                ));
            } else {
                ir.subject = column.table.clone();
                ir.order = Some(Order {
                    key: OrderKey::Column { column },
                    descending: d.rank.unwrap_or(true),
                    words: None,
                });
            }
        }
        ir.group_by = dims;
        ir.measure = measure;
        for m in &d.more_measures {
            // "how many faculty ... the number of faculty": one count said twice.
            let m = self.measure(m)?;
            if ir.measure.as_ref() != Some(&m) && !ir.also.contains(&m) {
                ir.also.push(m);
            }
        }
        if ir.measure.is_none() && !ir.having.is_empty() {
            ir.measure = Some(ir.having[0].measure.clone());
            if ir.group_by.is_empty() {
                let t = self.lex.table_index(&subject).map(|t| self.entity(t));
                ir.group_by.extend(t);
            }
            if let Some(m) = &ir.measure {
                ir.subject = super::ir::measure_table(m).to_string();
            }
        }
        if ir.measure.is_none() && !ir.group_by.is_empty() {
            ir.measure = Some(Measure {
                agg: Agg::Count,
                arg: MeasureArg::Rows {
                    table: subject.clone(),
                },
            });
        }
        if ir.measure.is_none() {
            let info = self.lex.table_index(&subject).map(|t| &self.lex.tables[t]);
            let labels: Vec<ColumnRef> = info.map(|t| t.label_refs()).unwrap_or_default();
            if columns.is_empty() {
                ir.columns = labels;
                // Rows with no name ("the role of the employee named Koby"): their code, and
                // the one column that describes it.
                if let Some(t) = info.filter(|t| !t.named) {
                    let described: Vec<&super::linker::ColumnInfo> = t
                        .columns
                        .iter()
                        .filter(|c| {
                            c.kind == super::linker::ColumnKind::Text
                                && !c.is_key
                                && c.words
                                    .last()
                                    .is_some_and(|w| matches!(w.as_str(), "description" | "detail"))
                        })
                        .collect();
                    if let [c] = described.as_slice() {
                        ir.columns.push(ColumnRef::new(&t.name, &c.name));
                    }
                }
            } else {
                ir.columns = Vec::new();
                if d.names && !columns.iter().any(|c| labels.contains(c)) {
                    ir.columns.extend(labels);
                }
                ir.columns.extend(columns);
            }
            if d.key {
                // "the ids and names of ...": the key first.
                let key: Vec<ColumnRef> = info
                    .map(|t| t.key.iter().map(|k| ColumnRef::new(&t.name, k)).collect())
                    .unwrap_or_default();
                if key.is_empty() {
                    return Err(cannot_answer(
                        format!("{subject} has no key to show as its id"),
                        Vec::new(),
                    ));
                }
                ir.columns.retain(|c| !key.contains(c));
                ir.columns.splice(0..0, key);
            }
            // A bare attribute ("all majors") lists its distinct values; free text does not.
            let free_text = ir.columns.iter().any(|c| {
                crate::text::identifier_words(&c.column).iter().any(|w| {
                    matches!(
                        w.as_str(),
                        "details" | "detail" | "summary" | "description" | "notes" | "comments"
                    )
                })
            });
            // "Show all transaction types": the kinds of a categorical attribute, each once.
            let categories = ir.filters.is_empty()
                && ir.columns.len() == 1
                && self.lex.column(&ir.columns[0]).is_some_and(|c| {
                    !c.is_key
                        && c.kind == super::linker::ColumnKind::Text
                        && c.words.iter().any(|w| is_category_word(w))
                });
            ir.distinct = d.distinct
                || categories
                || (listed.is_none()
                    && !free_text
                    && !ir.columns.is_empty()
                    && !ir.columns.iter().any(|c| {
                        info.is_some_and(|t| {
                            t.labels.contains(&c.column) || t.key.contains(&c.column)
                        })
                    }));
        } else {
            let mut extra = Vec::new();
            // "the invoice number and date of the invoice with the most transactions", grouped
            // by the transactions' foreign key to the invoices: the invoices, one per group.
            if let [Dimension::Column { column: g }] = ir.group_by.as_slice()
                && let Some(t) = self.lex.column(g).and_then(|c| c.references.clone())
                && columns.iter().any(|c| c.table == t)
                && let Some(key) = self.group_by_pointed(&mut ir, &t)
            {
                extra.push(key);
            }
            for c in columns {
                let entity = ir.group_by.iter().find_map(|g| match g {
                    Dimension::Entity { table, labels, .. } if *table == c.table => Some(labels),
                    _ => None,
                });
                let grouped = ir
                    .group_by
                    .iter()
                    .any(|g| matches!(g, Dimension::Column { column } if *column == c));
                let measured = ir.measure.as_ref().is_some_and(
                    |m| matches!(&m.arg, MeasureArg::Column { column } if *column == c),
                );
                match entity {
                    _ if grouped || measured => {}
                    Some(labels) if labels.contains(&c.column) => {}
                    // Another column of a grouped entity has one value per group.
                    Some(_) => extra.push(c),
                    None => {
                        // "budget type codes and the number of documents in each budget type":
                        // a foreign key to the grouped rows holds their key.
                        let pointed = self.lex.column(&c).and_then(|i| i.references.clone());
                        let key = ir.group_by.iter().find_map(|g| match g {
                            Dimension::Entity { table, key, .. }
                                if Some(table) == pointed.as_ref() && key.len() == 1 =>
                            {
                                Some(ColumnRef::new(table, &key[0]))
                            }
                            _ => None,
                        });
                        match key {
                            Some(k) => extra.push(k),
                            None => {
                                return Err(cannot_answer(
                                    format!(
                                        "I could not tell how {} relates to the computed value",
                                        c.column
                                    ),
                                    Vec::new(),
                                ));
                            }
                        }
                    }
                }
            }
            if d.key {
                if !ir
                    .group_by
                    .iter()
                    .any(|g| matches!(g, Dimension::Entity { .. }))
                {
                    // "the ids and names of albums, and how many tracks": grouped by a
                    // column of a table with a key, each row of that table is a group.
                    let rows = ir.group_by.iter().enumerate().find_map(|(i, g)| match g {
                        Dimension::Column { column } => {
                            let t = self.lex.table_index(&column.table)?;
                            (!self.lex.tables[t].key.is_empty()).then_some((i, t, column.clone()))
                        }
                        _ => None,
                    });
                    if let Some((i, t, column)) = rows {
                        let entity = self.entity(t);
                        if let Dimension::Entity { labels, .. } = &entity
                            && !labels.contains(&column.column)
                        {
                            extra.push(column);
                        }
                        ir.group_by[i] = entity;
                    }
                }
                for g in &ir.group_by {
                    if let Dimension::Entity { table, key, .. } = g {
                        extra.extend(key.iter().map(|k| ColumnRef::new(table, k)));
                    }
                }
                if extra.is_empty() {
                    return Err(cannot_answer(
                        "I could not tell whose ids to show".to_string(),
                        Vec::new(),
                    ));
                }
            }
            ir.columns = extra;
        }
        if let Some(desc) = d.rank.filter(|_| d.rank_column.is_none()) {
            if ir.measure.is_some() && !ir.group_by.is_empty() {
                ir.order = Some(Order {
                    key: OrderKey::Measure,
                    descending: desc,
                    words: None,
                });
            } else if d.order_by.is_none() {
                return Err(cannot_answer(
                    "I could not tell what to rank by; say for example \"top 5 customers by total sales\"".to_string(),
                    Vec::new(),
                ));
            }
        }
        self.check_context(&mut ir)?;
        if d.agg_only.is_some() {
            return Err(cannot_answer(
                "I could not tell what to total or average".to_string(),
                Vec::new(),
            ));
        }
        if let Some((op, value)) = d.measure_condition {
            match (&ir.measure, ir.group_by.is_empty()) {
                (Some(m), false) => ir.having.push(HavingFilter {
                    measure: m.clone(),
                    op,
                    value,
                }),
                _ => {
                    return Err(cannot_answer(
                        "I could not tell which value the comparison is about".to_string(),
                        Vec::new(),
                    ));
                }
            }
        }
        if d.alphabetical && d.order_by.is_none() {
            // "in alphabetical order": by the first name shown, whatever else is computed.
            let first = ir
                .group_by
                .iter()
                .find_map(|g| match g {
                    Dimension::Entity { table, labels, .. } => {
                        labels.first().map(|l| ColumnRef::new(table, l))
                    }
                    Dimension::Column { column } => Some(column.clone()),
                    Dimension::Time { .. } | Dimension::Model { .. } => None,
                })
                .or_else(|| ir.columns.first().cloned());
            let Some(column) = first else {
                return Err(cannot_answer(
                    "I could not tell what to put in alphabetical order".to_string(),
                    Vec::new(),
                ));
            };
            ir.order = Some(Order {
                key: OrderKey::Column { column },
                descending: d.direction.unwrap_or(false),
                words: None,
            });
        }
        if let Some((s, desc)) = d.order_by {
            ir.order = Some(Order {
                key: OrderKey::Column {
                    column: self.column(s)?,
                },
                descending: desc,
                words: None,
            });
        }
        if let (Some(desc), Some(o)) = (d.direction, &ir.order)
            && o.descending != desc
            && ir.limit.or(d.limit).is_some()
            && (d.rank.is_some() || d.extreme)
        {
            // "the 3 longest tracks sorted ascending": the shortest three, or the longest three
            // shown shortest first? The rules do not guess.
            let _ = desc;
            return Err(cannot_answer(
                "the question ranks one way and sorts the other".to_string(),
                Vec::new(),
            ));
        }
        if let Some(desc) = d.direction {
            ir.order = Some(match ir.order.take() {
                Some(o) => Order {
                    descending: desc,
                    ..o
                },
                None if ir.measure.is_some() && !ir.group_by.is_empty() => Order {
                    key: OrderKey::Measure,
                    descending: desc,
                    words: None,
                },
                None => match ir.columns.first() {
                    Some(c) => Order {
                        key: OrderKey::Column { column: c.clone() },
                        descending: desc,
                        words: None,
                    },
                    None => {
                        return Err(cannot_answer(
                            "I could not tell what to sort by".to_string(),
                            Vec::new(),
                        ));
                    }
                },
            });
        }
        ir.limit = if grouped_extreme && d.limit == Some(1) {
            None
        } else {
            d.limit
        };
        if ir.measure.is_none() {
            // A listing shows what it is sorted by.
            if let Some(Order {
                key: OrderKey::Column { column },
                ..
            }) = &ir.order
                && !ir.columns.contains(column)
            {
                ir.columns.push(column.clone());
            }
        }
        if let (Some(_), Some(t)) = (&ir.measure, &listed)
            && !ir.tables().contains(t)
        {
            // "the codes of the locations with at least three documents", grouped by the
            // foreign key that points to the listed table: those rows, grouped one each.
            if let Some(key) = self.group_by_pointed(&mut ir, t) {
                ir.columns.insert(0, key);
            }
        }
        if let (Some(_), Some(t)) = (&ir.measure, &listed)
            && !ir.tables().contains(t)
        {
            return Err(cannot_answer(
                format!("I could not tell how {t} relates to the computed value"),
                Vec::new(),
            ));
        }
        self.finish(&mut ir)?;
        let own_rows = |m: &Measure| {
            let MeasureArg::Rows { table } = &m.arg else {
                return false;
            };
            let key = self
                .lex
                .table_index(table)
                .map(|t| self.lex.tables[t].key.clone())
                .unwrap_or_default();
            m.agg == Agg::Count
                && ir.group_by.iter().any(|g| match g {
                    Dimension::Entity { table: t, .. } => t == table,
                    Dimension::Column { column } => {
                        column.table == *table && key == [column.column.clone()]
                    }
                    _ => false,
                })
        };
        if ir.having.iter().any(|h| own_rows(&h.measure))
            || ir
                .measure
                .as_ref()
                .is_some_and(|m| own_rows(m) && ir.filters.is_empty())
        {
            // "employees who held two or more jobs" read as employees per employee: one each.
            return Err(cannot_answer(
                "counting rows for each of those same rows gives one each; I could not tell what to count".to_string(),
                Vec::new(),
            ));
        }
        self.count_link_rows(&mut ir);
        self.own_value_per_row(&mut ir);
        if let Some(Measure {
            agg: Agg::CountDistinct,
            arg: MeasureArg::Column { column },
        }) = &ir.measure
            && ir
                .group_by
                .iter()
                .any(|g| matches!(g, Dimension::Entity { table, .. } if *table == column.table))
        {
            // "the wrestler with the lowest number of days held": the distinct values of a
            // row's own column, counted per row, are one each; the question means the column.
            return Err(cannot_answer(
                format!(
                    "counting {} for each {} row gives one each; the question may mean the value itself",
                    column.column, column.table
                ),
                Vec::new(),
            ));
        }
        Ok(ir)
    }
}

impl Resolution<'_> {
    /// "The wrestler with the lowest number of days held": a total (or average, minimum,
    /// maximum) of a row's own column for each of those rows is the column itself, so the rows
    /// are listed with it, ranked by it.
    fn own_value_per_row(&self, ir: &mut QueryIr) {
        let Some(Measure {
            agg: Agg::Sum | Agg::Avg | Agg::Min | Agg::Max,
            arg: MeasureArg::Column { column },
        }) = &ir.measure
        else {
            return;
        };
        let [Dimension::Entity { table, labels, .. }] = ir.group_by.as_slice() else {
            return;
        };
        if *table != column.table
            || !ir.having.is_empty()
            || !ir.also.is_empty()
            || ir.share.is_some()
            || ir.tables() != [column.table.clone()]
        {
            return;
        }
        let column = column.clone();
        let mut columns: Vec<ColumnRef> = labels.iter().map(|l| ColumnRef::new(table, l)).collect();
        for c in ir.columns.drain(..).chain([column.clone()]) {
            if !columns.contains(&c) {
                columns.push(c);
            }
        }
        if let Some(o) = &mut ir.order
            && o.key == OrderKey::Measure
        {
            o.key = OrderKey::Column {
                column: column.clone(),
            };
        }
        ir.columns = columns;
        ir.group_by.clear();
        ir.measure = None;
    }
}

/// A listing whose every column is fixed by an equality condition only repeats the question
/// ("SELECT ClubName ... WHERE ClubName = 'Tennis Club'"): asked with "where", the place of
/// that row is shown instead (its one location or address column); otherwise the rules did not
/// find what was asked, and abstain.
pub(super) fn more_than_the_conditions(
    lex: &SchemaLexicon,
    mut ir: QueryIr,
    asks_where: bool,
) -> Result<QueryIr> {
    let fixed = |c: &ColumnRef| {
        ir.filters.iter().any(|f| match f {
            Filter::Compare {
                column,
                op: super::ir::CmpOp::Eq,
                ..
            } => column == c,
            Filter::AnyOf { column, values } => column == c && values.len() == 1,
            _ => false,
        })
    };
    if let Some(Measure {
        agg: Agg::CountDistinct,
        arg: MeasureArg::Column { column },
    }) = &ir.measure
        && fixed(column)
    {
        // "How many tests have result 'Fail'?" counts the tests, not the one value 'Fail'.
        let table = column.table.clone();
        ir.measure = Some(Measure {
            agg: Agg::Count,
            arg: MeasureArg::Rows { table },
        });
        return Ok(ir);
    }
    if ir.measure.is_some()
        || !ir.group_by.is_empty()
        || ir.columns.is_empty()
        || !ir.columns.iter().all(fixed)
    {
        return Ok(ir);
    }
    if asks_where {
        let table = ir.columns[0].table.clone();
        let places: Vec<ColumnRef> = lex
            .table_index(&table)
            .map(|t| &lex.tables[t])
            .into_iter()
            .flat_map(|t| t.columns.iter())
            .filter(|c| {
                let name = c.name.to_lowercase();
                !c.is_key && (name.contains("location") || name.contains("address"))
            })
            .map(|c| ColumnRef::new(&table, &c.name))
            .collect();
        if let [place] = places.as_slice() {
            ir.columns = vec![place.clone()];
            ir.distinct = false;
            return Ok(ir);
        }
    }
    let names: Vec<&str> = ir.columns.iter().map(|c| c.column.as_str()).collect();
    Err(cannot_answer(
        format!(
            "the answer would only repeat the condition on {}; I could not tell what to show",
            names.join(", ")
        ),
        Vec::new(),
    ))
}

/// Last words of columns that hold kinds of things rather than facts about one row: a listing
/// of such a column lists each kind once.
fn is_category_word(w: &str) -> bool {
    matches!(
        w,
        "type"
            | "category"
            | "rank"
            | "class"
            | "status"
            | "kind"
            | "genre"
            | "industry"
            | "city"
            | "location"
            | "country"
            | "state"
            | "nationality"
            | "major"
    )
}

/// Refuses columns that relate their table to itself ("which employees report to ...",
/// "who do they report to?"), which the rules do not follow.
pub(super) fn not_self_related(lex: &SchemaLexicon, columns: &[ColumnRef]) -> Result<()> {
    match columns.iter().find(|c| {
        lex.column(c)
            .and_then(|i| i.references.as_deref())
            .is_some_and(|r| r == c.table)
    }) {
        Some(c) => Err(cannot_answer(
            format!(
                "{} relates {} rows to other {} rows, which the rules do not follow",
                c.column, c.table, c.table
            ),
            Vec::new(),
        )),
        None => Ok(()),
    }
}

/// Merges equality conditions on one column: with "or" into one `IN`, without it the
/// question asks for a row that has two values at once, which the rules do not answer.
pub(super) fn combine_values(filters: Vec<Filter>, any_of: bool) -> Result<Vec<Filter>> {
    let mut out: Vec<Filter> = Vec::new();
    let mut merged = false;
    for f in filters {
        if out.contains(&f) {
            // "female (sex is F)": one value said twice.
            continue;
        }
        if let Filter::Compare {
            column,
            op: super::ir::CmpOp::Eq,
            value,
        } = &f
        {
            let prior = out.iter_mut().find(|o| {
                matches!(o, Filter::Compare { column: c, op: super::ir::CmpOp::Eq, .. } | Filter::AnyOf { column: c, .. } if c == column)
            });
            if let Some(prior) = prior {
                if !any_of {
                    return Err(cannot_answer(
                        format!(
                            "the question asks for {} to have two values at once",
                            column.column
                        ),
                        Vec::new(),
                    ));
                }
                let values = match prior {
                    Filter::Compare { value: v, .. } => vec![v.clone(), value.clone()],
                    Filter::AnyOf { values, .. } => {
                        let mut v = values.clone();
                        v.push(value.clone());
                        v
                    }
                    _ => unreachable_filter()?,
                };
                if values[..values.len() - 1].contains(value) {
                    // "female in Baltimore or male (sex is M) under 20": a value said again
                    // among alternatives pairs each with other conditions, which one `IN`
                    // list would lose.
                    return Err(cannot_answer(
                        format!(
                            "the question names the same {} value more than once among alternatives, as if each went with other conditions; ask one alternative at a time",
                            column.column
                        ),
                        Vec::new(),
                    ));
                }
                *prior = Filter::AnyOf {
                    column: column.clone(),
                    values,
                };
                merged = true;
                continue;
            }
        }
        out.push(f);
    }
    if any_of && !merged {
        // "higher than 5000 or with a prominence over 1000": two conditions on one table, and
        // nothing else for "or" to join.
        let simple = |f: &Filter| {
            matches!(
                f,
                Filter::Compare { .. } | Filter::Between { .. } | Filter::Like { .. }
            )
        };
        if let [a, b] = out.as_slice()
            && simple(a)
            && simple(b)
            && a.column().table == b.column().table
        {
            return Ok(vec![Filter::Either {
                column: a.column().clone(),
                filters: out,
            }]);
        }
        return Err(cannot_answer(
            "\"or\" joins conditions on different columns, which the rules do not combine"
                .to_string(),
            Vec::new(),
        ));
    }
    let equal = |c: &ColumnRef| {
        out.iter().any(|f| {
            matches!(f, Filter::Compare { column, op: super::ir::CmpOp::Eq, .. }
                | Filter::AnyOf { column, .. } if column == c)
        })
    };
    if let Some(c) = out.iter().find_map(|f| match f {
        Filter::Compare {
            column,
            op: super::ir::CmpOp::Ne,
            ..
        }
        | Filter::NoneOf { column, .. } => equal(column).then_some(column),
        _ => None,
    }) {
        // "courses in Statistics but not in Psychology": the rows of one value that no row of
        // the other shares, not one row with two conditions on the same column.
        return Err(cannot_answer(
            format!(
                "the question asks for {} to be one value and not another, which reads as a \
                 difference between two sets of rows the rules do not compute",
                c.column
            ),
            Vec::new(),
        ));
    }
    let lists = out
        .iter()
        .filter(|f| matches!(f, Filter::AnyOf { .. }))
        .count();
    if any_of && lists > 1 {
        // "in East Julianaside, Texas or in Gleasonmouth, Arizona": pairs of values, which
        // two lists of alternatives would mix.
        return Err(cannot_answer(
            "\"or\" joins pairs of values on different columns, which the rules do not combine"
                .to_string(),
            Vec::new(),
        ));
    }
    Ok(out)
}

fn unreachable_filter() -> Result<Vec<Literal>> {
    Err(Error::internal(
        "merged a condition that is not an equality",
    ))
}
