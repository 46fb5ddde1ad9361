//! Resolving a draft: one reading per slot, chosen to need the fewest joins, then the query
//! representation built from those readings.

use crate::error::{Error, Result};

use super::{
    cannot_answer,
    ir::{Agg, ColumnRef, Dimension, Filter, Literal, Measure, MeasureArg, TimeBucket},
    joins::SchemaGraph,
    linker::{MoneyColumn, SchemaLexicon},
    plan::{Draft, DraftDim, DraftFilter, DraftMeasure, Pick},
};

/// The reading chosen for each slot.
#[derive(Debug, Clone)]
pub struct Resolution<'a> {
    pub(super) lex: &'a SchemaLexicon,
    pub(super) draft: &'a Draft,
    pub(super) graph: &'a SchemaGraph,
    choice: Vec<usize>,
}

const MAX_COMBINATIONS: usize = 4096;

/// Picks one reading per slot so that penalties plus twice the joins are smallest; `fixed`
/// tables are part of the query already (a follow-up's previous query).
pub fn resolve<'a>(
    draft: &'a Draft,
    lex: &'a SchemaLexicon,
    graph: &'a SchemaGraph,
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
        // Keep, per slot, the readings nearest to the tables the unambiguous names point at.
        let anchors: Vec<&str> = draft
            .slots
            .iter()
            .filter(|s| s.picks.len() <= 2)
            .flat_map(|s| {
                s.picks
                    .iter()
                    .map(|(p, _, _)| lex.tables[p.table()].name.as_str())
            })
            .chain(fixed.iter().map(String::as_str))
            .collect();
        for (slot, o) in draft.slots.iter().zip(order.iter_mut()) {
            o.sort_by_key(|&p| {
                let (pick, penalty, _) = &slot.picks[p];
                let table = lex.tables[pick.table()].name.as_str();
                let near = anchors
                    .iter()
                    .filter_map(|a| graph.distance(a, table))
                    .min()
                    .unwrap_or(u32::MAX / 4);
                (*penalty + 2 * near, *penalty)
            });
            o.truncate(3);
        }
    }
    let mut best: Option<(u32, Vec<usize>)> = None;
    // Two readings as good as the best that read different things: which was meant is not
    // known.
    let mut tie: Option<(String, String)> = None;
    let mut cur = vec![0usize; order.len()];
    loop {
        let choice: Vec<usize> = cur
            .iter()
            .enumerate()
            .map(|(s, &k)| order[s].get(k).copied().unwrap_or(0))
            .collect();
        if let Some(cost) = cost(draft, lex, graph, fixed, &choice) {
            match &best {
                Some((b, bc)) if cost == *b => {
                    // Another reading as good as the best: the same one in other words, the
                    // one that does not relate its tables as siblings of a shared parent ("the
                    // names of the biology professors" are theirs, not those of the
                    // department's students), or a tie.
                    if let Some(other) = differing(draft, lex, bc, &choice)
                        && !same_meaning(draft, lex, bc, &choice)
                    {
                        let (mine, theirs) = (
                            siblings(draft, lex, graph, &choice),
                            siblings(draft, lex, graph, bc),
                        );
                        if mine < theirs {
                            best = Some((cost, choice));
                            tie = None;
                        } else if mine == theirs && tie.is_none() {
                            tie = Some(other);
                        }
                    }
                }
                Some((b, _)) if cost > *b => {}
                _ => {
                    best = Some((cost, choice));
                    tie = None;
                }
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
                if let Some((one, other)) = tie {
                    return Err(cannot_answer(
                        format!(
                            "the question reads equally well with {one} and with {other}; name the one meant"
                        ),
                        Vec::new(),
                    ));
                }
                return Ok(Resolution {
                    lex,
                    draft,
                    graph,
                    choice,
                });
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

/// How many tables of a reading are related to the subject's table (else the first table
/// named) only as siblings: joined down from a table that was itself joined up to (students of
/// the department a professor belongs to).
fn siblings(draft: &Draft, lex: &SchemaLexicon, graph: &SchemaGraph, choice: &[usize]) -> usize {
    let table = |s: usize| {
        draft.slots[s]
            .picks
            .get(choice[s])
            .map(|(p, _, _)| lex.tables[p.table()].name.clone())
    };
    let mut tables: Vec<String> = draft.subject.and_then(table).into_iter().collect();
    for t in (0..draft.slots.len()).filter_map(table) {
        if !tables.contains(&t) {
            tables.push(t);
        }
    }
    let Some(root) = tables.first() else {
        return 0;
    };
    let Some(steps) = graph.join_tree(root, &tables) else {
        return 0;
    };
    steps
        .iter()
        .filter(|s| !s.to_one && steps.iter().any(|up| up.table == s.parent && up.to_one))
        .count()
}

/// The first reading two choices differ in, as `table.column` (or the table), when they read
/// different tables.
fn differing(
    draft: &Draft,
    lex: &SchemaLexicon,
    a: &[usize],
    b: &[usize],
) -> Option<(String, String)> {
    let table = |c: &[usize], s: usize| draft.slots[s].picks.get(c[s]).map(|(p, _, _)| p.table());
    if (0..draft.slots.len()).all(|s| table(a, s) == table(b, s)) {
        return None;
    }
    let tables = |c: &[usize]| {
        let mut t: Vec<usize> = (0..draft.slots.len()).filter_map(|s| table(c, s)).collect();
        t.sort_unstable();
        t.dedup();
        t
    };
    if tables(a) == tables(b) {
        return None;
    }
    let name = |p: &Pick| match p {
        Pick::Column(t, c) => format!(
            "{}.{}",
            lex.tables[*t].name, lex.tables[*t].columns[*c].name
        ),
        Pick::Table(t) | Pick::Money(t, _) => lex.tables[*t].name.clone(),
    };
    draft.slots.iter().enumerate().find_map(|(s, slot)| {
        let (p, q) = (slot.picks.get(a[s])?, slot.picks.get(b[s])?);
        (p.0.table() != q.0.table()).then(|| (name(&p.0), name(&q.0)))
    })
}

/// Whether two readings differ only where a foreign key and what it points to stand for
/// each other (`Documents.status_code` and `Ref_Status.status_code`, or `PROFESSOR.DEPT_CODE`
/// and the `DEPARTMENT` table).
fn same_meaning(draft: &Draft, lex: &SchemaLexicon, a: &[usize], b: &[usize]) -> bool {
    let points = |t: usize, c: usize, to: usize| {
        lex.tables[t].columns[c]
            .references
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case(&lex.tables[to].name))
    };
    draft.slots.iter().enumerate().all(|(s, slot)| {
        let (Some((p, _, _)), Some((q, _, _))) = (slot.picks.get(a[s]), slot.picks.get(b[s]))
        else {
            return true;
        };
        match (p, q) {
            _ if p == q => true,
            (Pick::Column(t1, c1), Pick::Column(t2, c2)) => {
                lex.tables[*t1].columns[*c1]
                    .name
                    .eq_ignore_ascii_case(&lex.tables[*t2].columns[*c2].name)
                    && (points(*t1, *c1, *t2) || points(*t2, *c2, *t1))
            }
            (Pick::Table(t), Pick::Column(t2, c2)) | (Pick::Column(t2, c2), Pick::Table(t)) => {
                points(*t2, *c2, *t)
            }
            _ => false,
        }
    })
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
    // The semantic model's items are on their own tables.
    let model_tables = draft
        .measure
        .iter()
        .chain(draft.having.iter().map(|h| &h.measure))
        .filter_map(|m| match m {
            DraftMeasure::Model { table, .. } => Some(*table),
            _ => None,
        })
        .chain(draft.dims.iter().filter_map(|d| match d {
            DraftDim::Model { table, .. } => Some(*table),
            _ => None,
        }))
        .chain(draft.filters.iter().filter_map(|f| match f {
            DraftFilter::Model { table, .. } => Some(*table),
            _ => None,
        }));
    for t in model_tables {
        let name = lex.tables[t].name.as_str();
        if !tables.contains(&name) {
            tables.push(name);
        }
    }
    // A count needs a table or a column, an aggregate a numeric column or money.
    match &draft.measure {
        Some(DraftMeasure::CountRowsOf(_) | DraftMeasure::Model { .. }) => {}
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
    pub(super) fn pick(&self, slot: usize) -> Result<&Pick> {
        self.draft.slots[slot]
            .picks
            .get(self.choice[slot])
            .map(|(p, _, _)| p)
            .ok_or_else(|| Error::internal("a slot without readings was used"))
    }

    pub(super) fn value(&self, slot: usize) -> Option<&str> {
        self.draft.slots[slot]
            .picks
            .get(self.choice[slot])
            .and_then(|(_, _, v)| v.as_deref())
    }

    pub(super) fn table_name(&self, t: usize) -> String {
        self.lex.tables[t].name.clone()
    }

    pub(super) fn column(&self, slot: usize) -> Result<ColumnRef> {
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
            DraftMeasure::Model { table, name, agg } => Measure {
                agg: *agg,
                arg: MeasureArg::Model {
                    table: self.table_name(*table),
                    name: name.clone(),
                },
            },
            DraftMeasure::CountRowsOf(s) => Measure {
                agg: Agg::Count,
                arg: MeasureArg::Rows {
                    table: self.table_name(self.pick(*s)?.table()),
                },
            },
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
            DraftDim::Model { table, name } => Dimension::Model {
                table: self.table_name(*table),
                name: name.clone(),
            },
            DraftDim::Slot(s) => match self.pick(*s)? {
                Pick::Table(t) => self.entity(*t),
                Pick::Column(t, c) => {
                    let info = &self.lex.tables[*t].columns[*c];
                    if info.references.as_deref() == Some(self.lex.tables[*t].name.as_str()) {
                        // `Employee.ReportsTo`: a table related to itself.
                        return Err(cannot_answer(
                            format!(
                                "{} relates {} rows to other {} rows, which the rules do not follow",
                                info.name, self.lex.tables[*t].name, self.lex.tables[*t].name
                            ),
                            Vec::new(),
                        ));
                    }
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

    pub(super) fn entity(&self, t: usize) -> Dimension {
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
            DraftFilter::Model {
                table,
                column,
                name,
            } => Filter::Model {
                column: self.lex.column_ref(*table, *column),
                name: name.clone(),
            },
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
            DraftFilter::VsAggregate(s, op, agg, factor) => Filter::VsAggregate {
                column: self.column(*s)?,
                op: *op,
                agg: *agg,
                factor: *factor,
            },
            DraftFilter::Pattern(s, kind, text, negated) => Filter::Like {
                column: self.column(*s)?,
                position: *kind,
                text: text.clone(),
                negated: *negated,
            },
            DraftFilter::Not(inner) => match self.filter(inner)? {
                Filter::Compare {
                    column,
                    op: super::ir::CmpOp::Eq,
                    value,
                } => Filter::Compare {
                    column,
                    op: super::ir::CmpOp::Ne,
                    value,
                },
                _ => {
                    return Err(cannot_answer(
                        "I could not tell what the negation applies to".to_string(),
                        Vec::new(),
                    ));
                }
            },
            DraftFilter::Related {
                table,
                filters,
                negated,
            } => Filter::Exists {
                // The outer table is the question's subject, known once it is assembled.
                column: ColumnRef::new("", ""),
                table: self.table_name(self.pick(*table)?.table()),
                filters: filters
                    .iter()
                    .map(|f| self.filter(f))
                    .collect::<Result<_>>()?,
                negated: *negated,
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
}
