//! Resolving a draft: one reading per slot, chosen to need the fewest joins, then the query
//! representation built from those readings.

use crate::error::{Error, Result};

use super::{
    cannot_answer,
    ir::{
        Agg, ColumnRef, Dimension, Filter, HavingFilter, Literal, Measure, MeasureArg, Order,
        OrderKey, QueryIr, TimeBucket,
    },
    joins::SchemaGraph,
    linker::{MoneyColumn, SchemaLexicon},
    plan::{Draft, DraftDim, DraftFilter, DraftMeasure, Pick},
};

/// The reading chosen for each slot.
#[derive(Debug, Clone)]
pub struct Resolution<'a> {
    lex: &'a SchemaLexicon,
    draft: &'a Draft,
    choice: Vec<usize>,
}

const MAX_COMBINATIONS: usize = 4096;

/// Picks one reading per slot so that penalties plus twice the joins are smallest; `fixed`
/// tables are part of the query already (a follow-up's previous query).
pub fn resolve<'a>(
    draft: &'a Draft,
    lex: &'a SchemaLexicon,
    graph: &SchemaGraph,
    fixed: &[String],
) -> Result<Resolution<'a>> {
    let mut order: Vec<Vec<usize>> = Vec::new();
    for (i, slot) in draft.slots.iter().enumerate() {
        if slot.picks.is_empty() && slot_is_used(draft, i) {
            return Err(cannot_answer(
                "I understood the words but found no column in the schema that fits them"
                    .to_string(),
                Vec::new(),
            ));
        }
        let mut idx: Vec<usize> = (0..slot.picks.len()).collect();
        idx.sort_by_key(|&p| slot.picks[p].1);
        order.push(idx);
    }
    let mut total: usize = 1;
    for o in &order {
        total = total.saturating_mul(o.len().max(1));
    }
    if total > MAX_COMBINATIONS {
        for o in &mut order {
            o.truncate(3);
        }
    }
    let mut best: Option<(u32, Vec<usize>)> = None;
    let mut cur = vec![0usize; order.len()];
    loop {
        let choice: Vec<usize> = cur
            .iter()
            .enumerate()
            .map(|(s, &k)| order[s].get(k).copied().unwrap_or(0))
            .collect();
        if let Some(cost) = cost(draft, lex, graph, fixed, &choice) {
            if best.as_ref().is_none_or(|(b, _)| cost < *b) {
                best = Some((cost, choice));
            }
        }
        // Next combination (odometer).
        let mut s = 0;
        loop {
            if s == cur.len() {
                let (_, choice) = best.ok_or_else(|| {
                    cannot_answer(
                        "the parts of the question are in tables that are not connected by foreign keys".to_string(),
                        Vec::new(),
                    )
                })?;
                return Ok(Resolution { lex, draft, choice });
            }
            cur[s] += 1;
            if cur[s] < order[s].len() {
                break;
            }
            cur[s] = 0;
            s += 1;
        }
    }
}

fn slot_is_used(draft: &Draft, i: usize) -> bool {
    !draft.context.contains(&i)
}

fn cost(
    draft: &Draft,
    lex: &SchemaLexicon,
    graph: &SchemaGraph,
    fixed: &[String],
    choice: &[usize],
) -> Option<u32> {
    let mut tables: Vec<&str> = fixed.iter().map(String::as_str).collect();
    let mut penalty = 0;
    for (s, slot) in draft.slots.iter().enumerate() {
        let Some((pick, p, _)) = slot.picks.get(choice[s]) else {
            continue;
        };
        penalty += p;
        let name = lex.tables[pick.table()].name.as_str();
        if !tables.contains(&name) {
            tables.push(name);
        }
    }
    // A count needs a table or a column, an aggregate a numeric column or money.
    match &draft.measure {
        Some(DraftMeasure::Count(s, _)) => {
            if matches!(
                draft.slots[*s].picks.get(choice[*s]),
                Some((Pick::Money(..), _, _))
            ) {
                return None;
            }
        }
        Some(DraftMeasure::Agg(_, s)) => {
            if matches!(
                draft.slots[*s].picks.get(choice[*s]),
                Some((Pick::Table(_), _, _))
            ) {
                return None;
            }
        }
        None => {}
    }
    let joins = graph.tree_cost(&tables)?;
    // Ties go to the reading with fewer joins.
    Some((penalty + 2 * joins) * 64 + joins)
}

impl Resolution<'_> {
    fn pick(&self, slot: usize) -> Result<&Pick> {
        self.draft.slots[slot]
            .picks
            .get(self.choice[slot])
            .map(|(p, _, _)| p)
            .ok_or_else(|| Error::internal("a slot without readings was used"))
    }

    fn value(&self, slot: usize) -> Option<&str> {
        self.draft.slots[slot]
            .picks
            .get(self.choice[slot])
            .and_then(|(_, _, v)| v.as_deref())
    }

    fn table_name(&self, t: usize) -> String {
        self.lex.tables[t].name.clone()
    }

    fn column(&self, slot: usize) -> Result<ColumnRef> {
        match self.pick(slot)? {
            Pick::Column(t, c) => Ok(self.lex.column_ref(*t, *c)),
            Pick::Money(t, MoneyColumn::Column(c)) => Ok(ColumnRef::new(self.table_name(*t), c)),
            _ => Err(cannot_answer(
                "a word that should name a column names a whole table".to_string(),
                Vec::new(),
            )),
        }
    }

    /// The measure of a draft measure.
    pub fn measure(&self, m: &DraftMeasure) -> Result<Measure> {
        Ok(match m {
            DraftMeasure::Count(s, distinct) => match self.pick(*s)? {
                Pick::Table(t) => Measure {
                    agg: Agg::Count,
                    arg: MeasureArg::Rows {
                        table: self.table_name(*t),
                    },
                },
                Pick::Column(t, c) => {
                    let info = &self.lex.tables[*t].columns[*c];
                    if info.is_key && !distinct {
                        Measure {
                            agg: Agg::Count,
                            arg: MeasureArg::Rows {
                                table: self.table_name(*t),
                            },
                        }
                    } else {
                        Measure {
                            agg: Agg::CountDistinct,
                            arg: MeasureArg::Column {
                                column: self.lex.column_ref(*t, *c),
                            },
                        }
                    }
                }
                Pick::Money(..) => return Err(Error::internal("count of money")),
            },
            DraftMeasure::Agg(agg, s) => match self.pick(*s)? {
                Pick::Money(t, MoneyColumn::Product(a, b)) => Measure {
                    agg: *agg,
                    arg: MeasureArg::Product {
                        left: ColumnRef::new(self.table_name(*t), a),
                        right: ColumnRef::new(self.table_name(*t), b),
                    },
                },
                _ => Measure {
                    agg: *agg,
                    arg: MeasureArg::Column {
                        column: self.column(*s)?,
                    },
                },
            },
        })
    }

    /// The dimension of a draft dimension.
    pub fn dimension(&self, d: &DraftDim) -> Result<Dimension> {
        Ok(match d {
            DraftDim::Slot(s) => match self.pick(*s)? {
                Pick::Table(t) => self.entity(*t),
                Pick::Column(t, c) => {
                    let info = &self.lex.tables[*t].columns[*c];
                    let exact = self.draft.slots[*s]
                        .picks
                        .get(self.choice[*s])
                        .is_some_and(|(_, p, _)| *p == 0);
                    // "role code" names the key itself; "support rep" names the entity.
                    match info
                        .references
                        .as_ref()
                        .filter(|_| !exact)
                        .and_then(|r| self.lex.table_index(r))
                    {
                        Some(r) => self.entity(r),
                        None => Dimension::Column {
                            column: self.lex.column_ref(*t, *c),
                        },
                    }
                }
                Pick::Money(..) => {
                    return Err(cannot_answer(
                        "I cannot group by an amount of money".to_string(),
                        Vec::new(),
                    ));
                }
            },
            DraftDim::Time(s, bucket) => {
                let column = self.column(*s)?;
                let one_year = self.draft.filters.iter().any(|f| {
                    matches!(f, DraftFilter::Period(fs, _, None) if self.column(*fs).ok().as_ref() == Some(&column))
                });
                let bucket = match bucket {
                    TimeBucket::YearMonth if one_year => TimeBucket::Month,
                    b => *b,
                };
                Dimension::Time { column, bucket }
            }
        })
    }

    fn entity(&self, t: usize) -> Dimension {
        let info = &self.lex.tables[t];
        Dimension::Entity {
            table: info.name.clone(),
            key: info.key.clone(),
            labels: info.labels.clone(),
        }
    }

    /// The condition of a draft condition.
    pub fn filter(&self, f: &DraftFilter) -> Result<Filter> {
        Ok(match f {
            DraftFilter::Value(s) => Filter::Compare {
                column: self.column(*s)?,
                op: super::ir::CmpOp::Eq,
                value: Literal::Text(self.value(*s).unwrap_or_default().to_string()),
            },
            DraftFilter::Literal(s, text) => Filter::Compare {
                column: self.column(*s)?,
                op: super::ir::CmpOp::Eq,
                value: Literal::Text(text.clone()),
            },
            DraftFilter::Number(s, op, n, unit) => {
                let column = self.column(*s)?;
                let words = &self
                    .lex
                    .column(&column)
                    .map(|c| c.words.clone())
                    .unwrap_or_default();
                let per_unit = if words.iter().any(|w| w == "millisecond") {
                    1.0
                } else if words.iter().any(|w| w == "second") {
                    1000.0
                } else if words.iter().any(|w| w == "minute") {
                    60_000.0
                } else if unit.is_some() {
                    return Err(cannot_answer(
                        format!(
                            "the question gives a unit but the column {} does not say which unit it holds",
                            column.column
                        ),
                        Vec::new(),
                    ));
                } else {
                    1.0
                };
                let value = match unit {
                    Some(ms) => n * ms / per_unit,
                    None => *n,
                };
                Filter::Compare {
                    column,
                    op: *op,
                    value: Literal::Number(value),
                }
            }
            DraftFilter::Between(s, a, b) => Filter::Between {
                column: self.column(*s)?,
                low: Literal::Number(*a),
                high: Literal::Number(*b),
            },
            DraftFilter::Period(s, year, month) => Filter::Period {
                column: self.column(*s)?,
                year: *year,
                month: *month,
            },
            DraftFilter::Date(s, op, date) => Filter::Date {
                column: self.column(*s)?,
                op: *op,
                date: date.clone(),
            },
        })
    }

    /// Columns named to be shown.
    pub fn columns(&self) -> Result<Vec<ColumnRef>> {
        self.draft.columns.iter().map(|s| self.column(*s)).collect()
    }

    /// The listed table, if the question named one.
    pub fn subject(&self) -> Result<Option<String>> {
        match self.draft.subject {
            Some(s) => Ok(Some(self.table_name(self.pick(s)?.table()))),
            None => Ok(None),
        }
    }

    /// The whole query of a question asked on its own.
    pub fn query(&self) -> Result<QueryIr> {
        let d = self.draft;
        let measure = d.measure.as_ref().map(|m| self.measure(m)).transpose()?;
        let mut dims = d
            .dims
            .iter()
            .map(|x| self.dimension(x))
            .collect::<Result<Vec<_>>>()?;
        let columns = self.columns()?;
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
        let mut ir = QueryIr::new(subject.clone());
        ir.filters = combine_values(
            d.filters
                .iter()
                .map(|f| self.filter(f))
                .collect::<Result<Vec<_>>>()?,
            d.any_of,
        )?;
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
                    .all(|x| x.table == t.name && t.labels.contains(&x.column))
                    .then_some(self.lex.table_index(&t.name)?)
            });
            if let (None, true, Some(t)) = (&measure, dims.is_empty(), label_table) {
                dims.push(self.entity(t));
                columns.clear();
            }
            if measure.is_none() && dims.is_empty() && !columns.is_empty() {
                // "the wineries that have at least four wines": group by the listed column.
                dims = columns
                    .drain(..)
                    .map(|column| Dimension::Column { column })
                    .collect();
            }
        }
        let mut measure = measure;
        let mut grouped_extreme = false;
        if let Some(rc) = d.rank_column {
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
            } else if other_entity && measure.is_none() {
                measure = Some(Measure {
                    agg: Agg::Sum,
                    arg: MeasureArg::Column {
                        column: column.clone(),
                    },
                });
                if let Some(t) = listed.as_ref().and_then(|t| self.lex.table_index(t)) {
                    dims.push(self.entity(t));
                }
                ir.subject = column.table.clone();
                ir.order = Some(Order {
                    key: OrderKey::Measure,
                    descending: d.rank.unwrap_or(true),
                });
            } else {
                ir.subject = column.table.clone();
                ir.order = Some(Order {
                    key: OrderKey::Column { column },
                    descending: d.rank.unwrap_or(true),
                });
            }
        }
        ir.group_by = dims;
        ir.measure = measure;
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
            let labels: Vec<ColumnRef> = info
                .map(|t| {
                    t.labels
                        .iter()
                        .map(|l| ColumnRef::new(&t.name, l))
                        .collect()
                })
                .unwrap_or_default();
            if columns.is_empty() {
                ir.columns = labels;
            } else {
                let shows_row = columns
                    .iter()
                    .any(|c| labels.contains(c) || info.is_some_and(|t| t.key.contains(&c.column)));
                ir.columns = Vec::new();
                if d.names && !shows_row {
                    ir.columns.extend(labels);
                }
                ir.columns.extend(columns);
            }
            // A bare attribute ("all majors") lists its distinct values.
            ir.distinct = d.distinct
                || (listed.is_none()
                    && !ir.columns.is_empty()
                    && !ir.columns.iter().any(|c| {
                        info.is_some_and(|t| {
                            t.labels.contains(&c.column) || t.key.contains(&c.column)
                        })
                    }));
        } else {
            ir.columns = columns
                .into_iter()
                .filter(|c| {
                    !ir.group_by
                        .iter()
                        .any(|g| matches!(g, Dimension::Column { column } if column == c))
                })
                .collect();
            if ir.group_by.is_empty() {
                ir.columns.clear();
            }
        }
        if let Some(desc) = d.rank.filter(|_| d.rank_column.is_none()) {
            if ir.measure.is_some() && !ir.group_by.is_empty() {
                ir.order = Some(Order {
                    key: OrderKey::Measure,
                    descending: desc,
                });
            } else if d.order_by.is_none() {
                return Err(cannot_answer(
                    "I could not tell what to rank by; say for example \"top 5 customers by total sales\"".to_string(),
                    Vec::new(),
                ));
            }
        }
        for c in &d.context {
            let t = self.table_name(self.pick(*c)?.table());
            if !ir.tables().contains(&t) {
                return Err(cannot_answer(
                    format!("I could not tell how {t} relates to the rest of the question"),
                    Vec::new(),
                ));
            }
        }
        if let Some((s, desc)) = d.order_by {
            ir.order = Some(Order {
                key: OrderKey::Column {
                    column: self.column(s)?,
                },
                descending: desc,
            });
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
                },
                None => match ir.columns.first() {
                    Some(c) => Order {
                        key: OrderKey::Column { column: c.clone() },
                        descending: desc,
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
            {
                if !ir.columns.contains(column) {
                    ir.columns.push(column.clone());
                }
            }
        }
        if let (Some(m), Some(t)) = (&ir.measure, &listed) {
            if !ir.tables().contains(t) {
                let _ = m;
                return Err(cannot_answer(
                    format!("I could not tell how {t} relates to the computed value"),
                    Vec::new(),
                ));
            }
        }
        Ok(ir)
    }
}

/// Merges equality conditions on one column: with "or" into one `IN`, without it the
/// question asks for a row that has two values at once, which the rules do not answer.
fn combine_values(filters: Vec<Filter>, any_of: bool) -> Result<Vec<Filter>> {
    let mut out: Vec<Filter> = Vec::new();
    let mut merged = false;
    for f in filters {
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
        return Err(cannot_answer(
            "\"or\" joins conditions on different columns, which the rules do not combine"
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
