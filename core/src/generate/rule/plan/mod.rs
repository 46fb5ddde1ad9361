//! From a question's items to a draft query whose ambiguous names ("country" may be
//! `Customer.Country` or `Invoice.BillingCountry`) are slots; the draft is resolved by picking,
//! for every slot, the reading that needs the fewest joins.

mod aggregates;
mod conditions;
mod negation;
mod slots;

use slots::{counts_something, numeric_column, table_of};

use super::{
    grammar::{Item, Property, Span},
    ir::{Agg, CmpOp, LikeKind, TimeBucket},
    linker::{ColumnKind, MoneyColumn, SchemaLexicon, Target},
};

/// One reading of a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// A table.
    Table(usize),
    /// A column (table, column).
    Column(usize, usize),
    /// A money measure of a table.
    Money(usize, MoneyColumn),
}

impl Pick {
    /// The table the pick reads.
    pub fn table(&self) -> usize {
        match self {
            Self::Table(t) | Self::Column(t, _) | Self::Money(t, _) => *t,
        }
    }
}

/// An ambiguous name: its readings, each with a penalty and, for values, the stored value.
#[derive(Debug, Clone, Default)]
pub struct Slot {
    /// (reading, penalty, value as stored).
    pub picks: Vec<(Pick, u32, Option<String>)>,
}

/// What a draft measure aggregates.
#[derive(Debug, Clone)]
pub enum DraftMeasure {
    /// Rows of the table of the slot's reading, whatever it is.
    CountRowsOf(usize),
    /// Rows of the table of the slot (a column slot counts its distinct values).
    Count(usize, bool),
    /// An aggregate of a numeric column or money slot.
    Agg(Agg, usize),
    /// A measure of the semantic model.
    Model {
        /// Its table (lexicon index).
        table: usize,
        /// Its name in the model.
        name: String,
        /// Its aggregation.
        agg: Agg,
    },
}

/// A draft grouping.
#[derive(Debug, Clone)]
pub enum DraftDim {
    /// A table (entity), a foreign key (the entity it points to) or a column.
    Slot(usize),
    /// A date slot cut into buckets.
    Time(usize, TimeBucket),
    /// A dimension of the semantic model over an expression.
    Model {
        /// Its table (lexicon index).
        table: usize,
        /// Its name in the model.
        name: String,
    },
}

/// A draft condition.
#[derive(Debug, Clone)]
pub enum DraftFilter {
    /// The slot's column equals the pick's value.
    Value(usize),
    /// The slot's column equals a literal.
    Literal(usize, String),
    /// A numeric comparison, with the unit factor (milliseconds) when one was given.
    Number(usize, CmpOp, f64, Option<f64>),
    /// A numeric range.
    Between(usize, f64, f64),
    /// A year or month of a year on a date slot.
    Period(usize, i32, Option<u32>),
    /// A date bound on a date slot.
    Date(usize, CmpOp, String),
    /// A named filter of the semantic model.
    Model {
        /// Its table (lexicon index).
        table: usize,
        /// A column its predicate reads.
        column: usize,
        /// Its name in the model.
        name: String,
    },
    /// A text pattern on a text slot: kind, text, negated.
    Pattern(usize, LikeKind, String, bool),
    /// The condition negated (a value: `<>`).
    Not(Box<DraftFilter>),
    /// Rows of the table slot `table` related to the question's rows (placed on its subject
    /// once it is known), with conditions of their own: "without albums" is negated.
    Related {
        /// The related table's slot.
        table: usize,
        /// Conditions on the related rows.
        filters: Vec<DraftFilter>,
        /// None of them.
        negated: bool,
    },
    /// The slot's numeric column compared with a factor times an aggregate of the whole
    /// column ("longer than average", "more than twice the average").
    VsAggregate(usize, CmpOp, Agg, f64),
}

/// A draft aggregate condition: measure op value.
#[derive(Debug, Clone)]
pub struct DraftHaving {
    /// The measure.
    pub measure: DraftMeasure,
    /// The operator.
    pub op: CmpOp,
    /// The bound.
    pub value: f64,
}

/// A query with slots in place of ambiguous names.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// Slots.
    pub slots: Vec<Slot>,
    /// The listed table, when the question lists rows.
    pub subject: Option<usize>,
    /// Explicitly named columns to show.
    pub columns: Vec<usize>,
    /// The measure.
    pub measure: Option<DraftMeasure>,
    /// Groupings.
    pub dims: Vec<DraftDim>,
    /// Conditions.
    pub filters: Vec<DraftFilter>,
    /// Aggregate conditions.
    pub having: Vec<DraftHaving>,
    /// Ranking by the measure: descending?
    pub rank: Option<bool>,
    /// Ordering by a property slot: (slot, descending).
    pub order_by: Option<(usize, bool)>,
    /// Limit.
    pub limit: Option<u64>,
    /// Sort direction asked for without a key.
    pub direction: Option<bool>,
    /// Whether the question asked for rows ("list", "which", "show").
    pub listing: bool,
    /// Table mentions that only give context.
    pub context: Vec<usize>,
    /// "distinct", "different", "unique" outside a count.
    pub distinct: bool,
    /// "or" joins the value conditions.
    pub any_of: bool,
    /// The rows are to be shown by their names.
    pub names: bool,
    /// "the highest gpa": a numeric column to rank by.
    pub rank_column: Option<usize>,
    /// "ids": the key of the rows is to be shown.
    pub key: bool,
    /// Values written as a modifier of the table named right after them ("Rock tracks"), with
    /// the tables that name may be.
    pub modifiers: Vec<(usize, Vec<usize>)>,
    /// The groupings were read from names listed beside a measure, not from "by" or "each".
    pub implicit_dims: bool,
    /// "only those above 100": a condition on the measure itself.
    pub measure_condition: Option<(CmpOp, f64)>,
    /// "what about the average?": an aggregate without anything to aggregate.
    pub agg_only: Option<Agg>,
    /// The order comes from a superlative ("the 3 longest").
    pub extreme: bool,
    /// "in alphabetical order": by the first name shown.
    pub alphabetical: bool,
    /// Slots of "a date" the question did not name (a time condition, "by month"): the
    /// semantic model's time dimension of the measure's table fills them.
    pub time_slots: Vec<usize>,
    /// "over time", "trend": the time grouping takes the date's default grain.
    pub trend: bool,
    /// "both X and Y": each value by its own related rows.
    pub both: bool,
    /// "all information about ...": every column of the listed rows.
    pub all_columns: bool,
    /// "what percentage of ...": the measure is a percentage.
    pub share: bool,
    /// More aggregates beside the measure: "the maximum and minimum price".
    pub more_measures: Vec<DraftMeasure>,
}

/// Builds drafts from items.
#[derive(Debug)]
pub struct Planner<'a> {
    lex: &'a SchemaLexicon,
    spans: &'a [Span],
    used: Vec<bool>,
    /// The draft being built.
    pub draft: Draft,
    /// Words that were read but could not be placed in the query.
    pub unplaced: Vec<(usize, usize)>,
    /// Spans of values a negation placed itself on.
    negated: Vec<usize>,
    /// Aggregates waiting for the column of the next one ("maximum" in "the maximum and
    /// minimum price").
    pending_aggs: Vec<(usize, Agg)>,
}

impl<'a> Planner<'a> {
    /// A planner over `spans`.
    pub fn new(lex: &'a SchemaLexicon, spans: &'a [Span]) -> Self {
        Self {
            lex,
            spans,
            used: vec![false; spans.len()],
            draft: Draft::default(),
            unplaced: Vec::new(),
            negated: Vec::new(),
            pending_aggs: Vec::new(),
        }
    }

    fn next(&self, k: usize) -> Option<&'a Item> {
        self.spans.get(k + 1).map(|s| &s.item)
    }

    /// The index of the next span at or after `k` that is a name, money word or property.
    fn next_noun(&self, k: usize) -> Option<usize> {
        (k..self.spans.len()).find(|&j| {
            !self.used[j]
                && matches!(
                    self.spans[j].item,
                    Item::Mention(_)
                        | Item::Money
                        | Item::Prop(_)
                        | Item::Sold
                        | Item::ModelFilter { .. }
                )
        })
    }

    /// Reads the items into a draft.
    pub fn plan(mut self) -> Self {
        let spans = self.spans;
        let has_rank = spans
            .iter()
            .any(|s| matches!(s.item, Item::Top(..) | Item::Most(..)));
        self.draft.listing = spans.iter().any(|s| matches!(s.item, Item::Listing));
        // Limits: "top 5", "which 5 countries", "the 10 longest".
        for k in 0..spans.len() {
            match &spans[k].item {
                Item::Top(_, desc) => {
                    self.used[k] = true;
                    self.draft.rank.get_or_insert(*desc);
                    if let Some(Item::Number(n)) = self.next(k) {
                        self.draft.limit = Some(*n as u64);
                        self.used[k + 1] = true;
                        if let Some(Item::Mention(c)) = spans.get(k + 2).map(|s| &s.item)
                            && numeric_column(self.lex, c)
                        {
                            // "the top 5 GPAs".
                            self.used[k + 2] = true;
                            let s = self.numeric_slot(c);
                            self.draft.rank_column = Some(s);
                        }
                    } else {
                        self.draft.limit.get_or_insert(10);
                    }
                }
                Item::Number(n)
                    if !self.used[k]
                        && matches!(
                            self.next(k),
                            Some(Item::Mention(_) | Item::Extreme(..) | Item::Most(..))
                        )
                        && (has_rank
                            || spans.iter().any(|s| matches!(s.item, Item::Extreme(..))))
                        && !matches!(
                            k.checked_sub(1).map(|j| &spans[j].item),
                            Some(Item::Compare(_) | Item::AdjCompare(..))
                        ) =>
                {
                    self.draft.limit = Some(*n as u64);
                    self.used[k] = true;
                }
                _ => {}
            }
        }
        self.versus_aggregates();
        for k in 0..spans.len() {
            if self.used[k] {
                continue;
            }
            match spans[k].item.clone() {
                Item::Count(_) if matches!(self.next(k), Some(Item::ModelMeasure { .. })) => {
                    // "number of" before a measure that counts.
                    self.used[k] = true;
                }
                Item::Count(how_many) => {
                    self.used[k] = true;
                    let distinct = matches!(self.next(k), Some(Item::Distinct));
                    if distinct {
                        self.used[k + 1] = true;
                    }
                    let Some(j) = self.next_noun(k) else {
                        if self.draft.rank.is_some()
                            || !matches!(
                                self.draft.measure,
                                Some(DraftMeasure::Count(..) | DraftMeasure::CountRowsOf(_))
                            )
                        {
                            self.unplaced.push((spans[k].start, spans[k].end));
                        }
                        // Else "... in each city? Return the city and the count": the count
                        // asked for, said again.
                        continue;
                    };
                    if let Item::Mention(c) = &spans[j].item
                        && !distinct
                        && self.draft.rank.is_some()
                        && self.draft.measure.is_none()
                        && self.draft.rank_column.is_none()
                        && let stored = slots::stored_counts(self.lex, c)
                        && !stored.is_empty()
                    {
                        // "the bank with the greatest number of customers", where the bank
                        // keeps its number of customers (`no_of_customers`): ranked by it.
                        self.used[j] = true;
                        let s = self.numeric_slot(&stored);
                        self.draft.rank_column = Some(s);
                        continue;
                    }
                    if let Item::Mention(c) = &spans[j].item
                        && !distinct
                        && if how_many {
                            counts_something(self.lex, c)
                        } else {
                            numeric_column(self.lex, c)
                        }
                    {
                        // "the number of passengers" names a column that holds a count: its sum.
                        self.used[j] = true;
                        let s = self.numeric_slot(c);
                        self.set_measure_or_having(k, DraftMeasure::Agg(Agg::Sum, s));
                        continue;
                    }
                    self.used[j] = true;
                    if let Item::ModelFilter {
                        table,
                        column,
                        name,
                    } = &spans[j].item
                    {
                        // "how many large invoices": the filter's table, filtered.
                        self.draft.filters.push(DraftFilter::Model {
                            table: *table,
                            column: *column,
                            name: name.clone(),
                        });
                        let s = self.push_slot(Slot {
                            picks: vec![(Pick::Table(*table), 0, None)],
                        });
                        self.set_measure_or_having(k, DraftMeasure::Count(s, false));
                        continue;
                    }
                    if let Some(Item::Sold) = self.next(j) {
                        self.used[j + 1] = true;
                        let s = self.quantity_slot();
                        self.draft.measure = Some(DraftMeasure::Agg(Agg::Sum, s));
                        continue;
                    }
                    let m = match &spans[j].item {
                        Item::Mention(c) => {
                            let best = c.iter().map(|x| x.penalty).min().unwrap_or(0);
                            let names_table = c
                                .iter()
                                .any(|x| x.penalty == best && matches!(x.target, Target::Table(_)));
                            let s = if names_table && !distinct {
                                self.table_slot(c)
                            } else {
                                self.slot_from_candidates(c)
                            };
                            DraftMeasure::Count(s, distinct)
                        }
                        Item::Sold => {
                            let s = self.quantity_slot();
                            DraftMeasure::Agg(Agg::Sum, s)
                        }
                        _ => {
                            self.unplaced.push((spans[k].start, spans[k].end));
                            continue;
                        }
                    };
                    self.set_measure_or_having(k, m);
                }
                Item::Agg(agg) if matches!(self.next(k), Some(Item::ModelMeasure { .. })) => {
                    // "total revenue": the measure says how it aggregates; another aggregate
                    // of it is not something the model defines.
                    self.used[k] = true;
                    if let Some(Item::ModelMeasure { agg: m, .. }) = self.next(k)
                        && agg != Agg::Sum
                        && agg != *m
                    {
                        self.unplaced.push((spans[k].start, spans[k + 1].end));
                    }
                }
                Item::ModelMeasure { table, name, agg } => {
                    self.used[k] = true;
                    self.set_measure_or_having(k, DraftMeasure::Model { table, name, agg });
                }
                Item::ModelFilter {
                    table,
                    column,
                    name,
                } => {
                    self.used[k] = true;
                    self.draft.filters.push(DraftFilter::Model {
                        table,
                        column,
                        name,
                    });
                }
                Item::Trend => {
                    self.used[k] = true;
                    let s = self.property_slot(Some(Property::Date), ColumnKind::Temporal, None);
                    self.draft
                        .dims
                        .push(DraftDim::Time(s, TimeBucket::YearMonth));
                    self.draft.trend = true;
                }
                Item::Ambiguous(_) => self.used[k] = true,
                Item::Agg(agg) => {
                    self.used[k] = true;
                    if matches!(self.next(k), Some(Item::Agg(_))) {
                        // "the maximum and minimum price": of the next one's column.
                        self.pending_aggs.push((k, agg));
                        continue;
                    }
                    if matches!(self.next(k), Some(Item::Count(_))) {
                        // "average number of passengers": the average of a numeric column;
                        // "total number of games played": its sum; "total number of
                        // tracks": a count.
                        match spans.get(k + 2).map(|s| &s.item) {
                            Some(Item::Mention(c)) if numeric_column(self.lex, c) => {
                                self.used[k + 1] = true;
                            }
                            _ if agg == Agg::Sum => continue,
                            _ => {
                                self.unplaced.push((spans[k].start, spans[k + 1].end));
                                continue;
                            }
                        }
                    }
                    if matches!(self.next(k), Some(Item::Compare(_) | Item::Between)) {
                        // "a total above 20": the word names a column.
                        let c = self.lex.lookup(&["total"]).to_vec();
                        if !c.is_empty() {
                            let s = self.slot_from_candidates(&c);
                            self.comparison_after(k, s);
                            continue;
                        }
                    }
                    let target = self.next_noun(k);
                    let slot = match target.map(|j| (j, spans[j].item.clone())) {
                        Some((j, Item::Money)) => {
                            self.used[j] = true;
                            self.money_slot()
                        }
                        Some((j, Item::Prop(p))) => {
                            self.used[j] = true;
                            match spans.get(j + 1).map(|s| &s.item) {
                                Some(Item::Mention(c)) if numeric_column(self.lex, c) => {
                                    self.used[j + 1] = true;
                                    self.numeric_slot(c)
                                }
                                _ => self.property_slot(Some(p), ColumnKind::Numeric, None),
                            }
                        }
                        Some((j, Item::Mention(c))) => {
                            self.used[j] = true;
                            match self.next(j) {
                                Some(Item::Prop(_)) if matches!(spans.get(j + 2).map(|s| &s.item), Some(Item::Mention(m)) if numeric_column(self.lex, m)) =>
                                {
                                    self.used[j + 1] = true;
                                    self.used[j + 2] = true;
                                    let Item::Mention(m) = &spans[j + 2].item else {
                                        continue;
                                    };
                                    self.numeric_slot(m)
                                }
                                Some(Item::Prop(p)) if !self.used[j + 1] => {
                                    self.used[j + 1] = true;
                                    let t = table_of(&c);
                                    self.property_slot(Some(*p), ColumnKind::Numeric, t)
                                }
                                Some(Item::Mention(m))
                                    if table_of(&c).is_some()
                                        && !numeric_column(self.lex, &c)
                                        && numeric_column(self.lex, m)
                                        && !self.used[j + 1] =>
                                {
                                    // "the average room price": the table, then its column.
                                    self.used[j + 1] = true;
                                    self.numeric_slot(m)
                                }
                                _ => self.numeric_slot(&c),
                            }
                        }
                        None if self.draft.agg_only.is_none() && self.draft.measure.is_none() => {
                            // "what about the average?": changes the previous question's aggregate.
                            self.draft.agg_only = Some(agg);
                            continue;
                        }
                        _ => {
                            self.unplaced.push((spans[k].start, spans[k].end));
                            continue;
                        }
                    };
                    let years = !self.draft.slots[slot].picks.is_empty()
                        && self.draft.slots[slot].picks.iter().all(|(p, _, _)| {
                            matches!(p, Pick::Column(t, c)
                                if self.lex.tables[*t].columns[*c].words.iter().any(|w| w == "year"))
                        });
                    if agg == Agg::Sum && years {
                        // A total of years means nothing: "in total in the year 2002".
                        self.unplaced.push((spans[k].start, spans[k].end));
                        continue;
                    }
                    if target != Some(k + 1)
                        && self.pending_aggs.is_empty()
                        && matches!(
                            self.draft.measure,
                            Some(DraftMeasure::Count(..) | DraftMeasure::CountRowsOf(_))
                        )
                    {
                        // "how many faculty in total in 2002": the count said again, not a
                        // total of a column named further on.
                        self.unplaced.push((spans[k].start, spans[k].end));
                        continue;
                    }
                    for (_, pending) in std::mem::take(&mut self.pending_aggs) {
                        self.set_measure_or_having(k, DraftMeasure::Agg(pending, slot));
                    }
                    self.set_measure_or_having(k, DraftMeasure::Agg(agg, slot));
                }
                Item::Money => {
                    self.used[k] = true;
                    if self.draft.measure.is_none() {
                        let s = self.money_slot();
                        self.set_measure_or_having(k, DraftMeasure::Agg(Agg::Sum, s));
                    }
                }
                Item::Most(desc, quantity) => {
                    self.used[k] = true;
                    if self.draft.rank_column.is_some()
                        || self.draft.rank.is_some_and(|r| r != desc)
                    {
                        // "the highest cost and the lowest cost".
                        self.unplaced.push((spans[k].start, spans[k].end));
                        continue;
                    }
                    self.draft.rank = Some(desc);
                    if self.draft.limit.is_none() {
                        self.draft.limit = Some(1);
                    }
                    if self.draft.measure.is_none()
                        && matches!(self.next(k), Some(Item::Mention(_)))
                    {
                        let j = k + 1;
                        let Item::Mention(c) = &spans[j].item else {
                            continue;
                        };
                        self.used[j] = true;
                        let best = c.iter().map(|x| x.penalty).min().unwrap_or(0);
                        let is_table = c
                            .iter()
                            .any(|x| x.penalty == best && matches!(x.target, Target::Table(_)));
                        // "the party with the most hosts", where the party keeps its number
                        // of hosts (`Number_of_hosts`): ranked by that number.
                        let stored = slots::stored_counts(self.lex, c);
                        if is_table && quantity && !stored.is_empty() {
                            let s = self.numeric_slot(&stored);
                            self.draft.rank_column = Some(s);
                        } else if is_table && quantity {
                            let s = self.table_slot(c);
                            self.draft.measure = Some(DraftMeasure::Count(s, false));
                        } else if !is_table && numeric_column(self.lex, c) {
                            let s = self.numeric_slot(c);
                            self.draft.rank_column = Some(s);
                        } else {
                            // "the highest building": highest by what?
                            self.unplaced.push((spans[k].start, spans[j].end));
                        }
                    }
                }
                Item::Extreme(prop, desc) => {
                    self.used[k] = true;
                    let kind = if prop == Property::Date {
                        ColumnKind::Temporal
                    } else {
                        ColumnKind::Numeric
                    };
                    if self.draft.order_by.is_some() {
                        self.unplaced.push((spans[k].start, spans[k].end));
                        continue;
                    }
                    let (s, desc) = self.extreme_slot(prop, kind, desc);
                    self.draft.order_by = Some((s, desc));
                    self.draft.extreme = true;
                    if self.draft.limit.is_none() {
                        self.draft.limit = Some(1);
                    }
                }
                Item::AdjCompare(prop, op) => {
                    self.used[k] = true;
                    let s = self.property_slot(Some(prop), ColumnKind::Numeric, None);
                    self.number_after(k, s, op);
                }
                Item::Group => {
                    self.used[k] = true;
                    if let (
                        Some(Item::Direction(desc) | Item::Most(desc, _)),
                        Some(Item::Mention(c)),
                    ) = (k.checked_sub(1).map(|j| &spans[j].item), self.next(k))
                        && matches!(spans[k - 1].item, Item::Direction(_))
                    {
                        self.used[k + 1] = true;
                        let s = self.slot_from_candidates(c);
                        self.draft.order_by = Some((s, *desc));
                        continue;
                    }
                    let mut n = k + 1;
                    if matches!(spans.get(n).map(|s| &s.item), Some(Item::Distinct)) {
                        self.used[n] = true;
                        n += 1;
                    }
                    if let Some(Item::Direction(desc)) = spans.get(n).map(|s| &s.item)
                        && let Some(Item::Mention(c)) = spans.get(n + 1).map(|s| &s.item)
                    {
                        self.used[n] = true;
                        self.used[n + 1] = true;
                        let s = self.slot_from_candidates(c);
                        self.draft.order_by = Some((s, *desc));
                        continue;
                    }
                    let k = n - 1;
                    match spans.get(k + 1).map(|s| s.item.clone()) {
                        Some(Item::ModelDim { table, name }) => {
                            self.used[k + 1] = true;
                            self.draft.dims.push(DraftDim::Model { table, name });
                        }
                        Some(Item::Mention(c))
                            if self.draft.limit.is_some()
                                && self.draft.rank_column.is_none()
                                && spans.iter().any(|s| matches!(s.item, Item::Top(..)))
                                && numeric_column(self.lex, &c)
                                && k.checked_sub(1).is_some_and(|j| {
                                    matches!(&spans[j].item, Item::Mention(t) if {
                                        let best = t.iter().map(|x| x.penalty).min();
                                        t.iter().any(|x| Some(x.penalty) == best
                                            && matches!(x.target, Target::Table(_)))
                                    })
                                }) =>
                        {
                            // "top 5 products by unit price": the rows ranked by a number,
                            // not a grouping by it.
                            self.used[k + 1] = true;
                            let s = self.numeric_slot(&c);
                            self.draft.rank_column = Some(s);
                        }
                        Some(Item::Mention(c)) => {
                            self.used[k + 1] = true;
                            let s = self.slot_from_candidates(&c);
                            self.draft.dims.push(DraftDim::Slot(s));
                        }
                        Some(Item::Bucket(b)) => {
                            self.used[k + 1] = true;
                            let s = self.property_slot(
                                Some(Property::Date),
                                ColumnKind::Temporal,
                                None,
                            );
                            self.draft.dims.push(DraftDim::Time(s, b));
                        }
                        _ => {}
                    }
                }
                Item::Bucket(b) => {
                    self.used[k] = true;
                    if !matches!(self.next(k), Some(Item::Year(_))) {
                        let s =
                            self.property_slot(Some(Property::Date), ColumnKind::Temporal, None);
                        self.draft.dims.push(DraftDim::Time(s, b));
                    }
                }
                Item::Compare(CmpOp::Ne)
                    if matches!(self.next(k), Some(Item::Value(_) | Item::Literal(_))) =>
                {
                    // "other than Canada".
                    self.used[k] = true;
                    self.negated.push(k + 1);
                }
                Item::Pattern(kind, text, after, holders) => {
                    self.pattern(k, kind, text, after, &holders)
                }
                Item::Not => self.negation(k),
                Item::Both => {
                    self.used[k] = true;
                    self.draft.both = true;
                }
                Item::Compare(op) => self.compare(k, op),
                Item::Between => self.between(k),
                Item::DateBound(op, after) => self.date_bound(k, op, after),
                Item::Month(m) => self.month(k, m),
                Item::Year(y) => self.year(k, y),
                Item::Relative(period, offset) => self.relative(k, period, offset),
                Item::Direction(desc) => {
                    self.used[k] = true;
                    if self.draft.direction.is_some_and(|d| d != desc) {
                        // "by price decreasing and name ascending": two sort keys.
                        self.unplaced.push((spans[k].start, spans[k].end));
                    }
                    self.draft.direction = Some(desc);
                }
                Item::OrderBy => self.order_by(k),
                Item::Sort => self.used[k] = true,
                Item::Alphabetical => {
                    self.used[k] = true;
                    self.draft.alphabetical = true;
                }
                Item::Distinct => {
                    self.used[k] = true;
                    self.draft.distinct = true;
                }
                Item::Or => {
                    self.used[k] = true;
                    self.draft.any_of = true;
                }
                Item::Names => {
                    self.used[k] = true;
                    self.draft.names = true;
                }
                Item::Key => {
                    self.used[k] = true;
                    self.draft.key = true;
                }
                Item::Mode(desc) => {
                    self.used[k] = true;
                    // "the most common rating", or "which allergy type is most common?" with
                    // nothing after it.
                    // A value is common, not a row: the column named after, else the one
                    // named just before ("which language was used most often"); "which shop
                    // has happy hour most often" names no value of a column.
                    let column_at = |j: usize| match spans.get(j).map(|s| &s.item) {
                        Some(Item::Mention(c))
                            if !self.used[j]
                                && c.iter().any(|x| matches!(x.target, Target::Column(..))) =>
                        {
                            Some((j, c))
                        }
                        _ => None,
                    };
                    let named = column_at(k + 1)
                        .or_else(|| k.checked_sub(1).and_then(column_at))
                        .or_else(|| match self.next(k) {
                            Some(Item::Mention(c)) => Some((k + 1, c)),
                            _ => None,
                        });
                    let names_rows = spans[..k]
                        .iter()
                        .position(|s| matches!(s.item, Item::Names))
                        .is_some_and(|n| {
                            spans[n..k].iter().any(|s| {
                                matches!(&s.item, Item::Mention(c)
                                    if c.iter().any(|x| matches!(x.target, Target::Table(_))))
                            })
                        });
                    if names_rows {
                        // "the names of customers who use the most common payment method":
                        // rows by the most common value, which the rules do not nest.
                        self.unplaced.push((spans[k].start, spans[k].end));
                        continue;
                    }
                    let Some((j, c)) = named else {
                        self.unplaced.push((spans[k].start, spans[k].end));
                        continue;
                    };
                    if self.draft.measure.is_some() || self.draft.rank.is_some() {
                        self.unplaced.push((spans[k].start, spans[k].end));
                        continue;
                    }
                    self.used[j] = true;
                    // "the most common rating": group by it, most rows first. A value is
                    // common, not a row: a column before a table of the same words.
                    let columns: Vec<_> = c
                        .iter()
                        .filter(|x| matches!(x.target, Target::Column(..)))
                        .cloned()
                        .collect();
                    let s = if columns.is_empty() {
                        self.slot_from_candidates(c)
                    } else {
                        self.slot_from_candidates(&columns)
                    };
                    self.draft.dims.push(DraftDim::Slot(s));
                    self.draft.measure = Some(DraftMeasure::CountRowsOf(s));
                    self.draft.rank = Some(desc);
                    self.draft.limit.get_or_insert(1);
                }
                _ => {}
            }
        }
        for (k, _) in std::mem::take(&mut self.pending_aggs) {
            self.unplaced.push((spans[k].start, spans[k].end));
        }
        self.values_and_leftovers();
        self.unapplied_negations();
        if self.draft.subject.is_none()
            && self.draft.measure.is_none()
            && self.draft.having.is_empty()
            && self.draft.dims.is_empty()
            && self.draft.columns.is_empty()
            && let Some(table) = self.draft.filters.iter().find_map(|f| match f {
                DraftFilter::Model { table, .. } => Some(*table),
                _ => None,
            })
        {
            // "list the large invoices": the rows of the filter's table.
            let s = self.push_slot(Slot {
                picks: vec![(Pick::Table(table), 0, None)],
            });
            self.draft.subject = Some(s);
        }
        self
    }

    fn set_measure_or_having(&mut self, k: usize, m: DraftMeasure) {
        if self.draft.measure.is_some() {
            let plain = |m: &DraftMeasure| {
                matches!(
                    m,
                    DraftMeasure::Agg(..) | DraftMeasure::Count(..) | DraftMeasure::CountRowsOf(_)
                )
            };
            if plain(&m) && self.draft.measure.as_ref().is_some_and(plain) {
                // "the average and maximum age", "the number and average age": side by side.
                self.draft.more_measures.push(m);
            } else {
                self.unplaced.push((self.spans[k].start, self.spans[k].end));
            }
            return;
        }
        // "customers who spent more than 40": the measure is a condition.
        let after = &self.spans[k + 1..];
        let cmp = after
            .iter()
            .position(|s| matches!(s.item, Item::Compare(_)));
        if let Some(p) = cmp.filter(|&p| p <= 1) {
            let ci = k + 1 + p;
            if let (Item::Compare(op), Some(Item::Number(n))) =
                (&self.spans[ci].item, self.next(ci))
                && !matches!(
                    self.spans.get(ci + 2).map(|s| &s.item),
                    Some(Item::Mention(_))
                )
            {
                self.used[ci] = true;
                self.used[ci + 1] = true;
                self.draft.having.push(DraftHaving {
                    measure: m,
                    op: *op,
                    value: *n,
                });
                return;
            }
        }
        if self.draft.measure.is_none() {
            self.draft.measure = Some(m);
        }
    }
}
