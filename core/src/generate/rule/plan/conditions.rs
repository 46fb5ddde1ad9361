//! Conditions: comparisons, ranges, dates, known values, quoted literals, and the names
//! left over once the question's structure is read.

use super::{DraftDim, DraftFilter, DraftHaving, DraftMeasure, Pick, Planner, Slot};
use crate::generate::rule::{
    grammar::{Item, Property},
    ir::CmpOp,
    linker::{ColumnKind, Target},
};

impl Planner<'_> {
    /// The items of a compare condition at span `k`.
    pub(super) fn compare(&mut self, k: usize, op: CmpOp) {
        let spans = self.spans;
        self.used[k] = true;
        let prev = (0..k)
            .rev()
            .find(|&j| matches!(spans[j].item, Item::Mention(_) | Item::Prop(_)));
        // "with more than 10 albums": a count condition.
        if let (Some(Item::Number(n)), Some(Item::Mention(c))) =
            (self.next(k), spans.get(k + 2).map(|s| &s.item))
        {
            if !c.iter().any(|x| matches!(x.target, Target::Table(_))) {
                if super::numeric_column(self.lex, c) {
                    // "more than 2 bathrooms" where `bathroom_count` holds that number.
                    self.used[k + 1] = true;
                    self.used[k + 2] = true;
                    let s = self.numeric_slot(c);
                    self.draft
                        .filters
                        .push(DraftFilter::Number(s, op, *n, None));
                    return;
                }
                // "more than one festivals" over a column: a count the rules miss.
                self.unplaced.push((spans[k].start, spans[k + 2].end));
                return;
            }
            {
                self.used[k + 1] = true;
                self.used[k + 2] = true;
                let s = self.slot_from_candidates(c);
                self.draft.having.push(DraftHaving {
                    measure: DraftMeasure::Count(s, false),
                    op,
                    value: *n,
                });
                return;
            }
        }
        let slot = match prev.map(|j| (j, spans[j].item.clone())) {
            Some((j, Item::Mention(c))) => {
                let s = self.numeric_slot(&c);
                if !self.draft.slots[s].picks.is_empty() {
                    self.used[j] = true;
                }
                s
            }
            Some((j, Item::Prop(p))) => {
                self.used[j] = true;
                self.property_slot(Some(p), ColumnKind::Numeric, None)
            }
            _ => {
                if let Some(Item::Number(n)) = self.next(k) {
                    // "only those with more than 5": a condition on the computed value.
                    self.used[k + 1] = true;
                    self.draft.measure_condition = Some((op, *n));
                } else {
                    self.unplaced.push((spans[k].start, spans[k].end));
                }
                return;
            }
        };
        self.number_after(k, slot, op);
    }

    /// "sorted by X", "in descending order of X", "ordered by decreasing number of X".
    pub(super) fn order_by(&mut self, k: usize) {
        let spans = self.spans;
        self.used[k] = true;
        let mut n = k + 1;
        let mut desc = match k.checked_sub(1).map(|j| &spans[j].item) {
            Some(Item::Direction(d)) => Some(*d),
            _ => None,
        };
        match spans.get(n).map(|s| &s.item) {
            Some(Item::Direction(d)) => {
                desc = Some(*d);
                self.used[n] = true;
                n += 1;
            }
            Some(Item::Alphabetical) => {
                desc = desc.or(Some(false));
                self.used[n] = true;
                n += 1;
            }
            _ => {}
        }
        if let (Some(Item::Count(_)), Some(Item::Mention(c))) = (
            spans.get(n).map(|s| &s.item),
            spans.get(n + 1).map(|s| &s.item),
        ) {
            if super::numeric_column(self.lex, c) {
                // "by number of cities" where a column holds that number.
                self.used[n] = true;
                n += 1;
            } else if self.draft.measure.is_some() {
                // "ordered by the number of customers": by the count already asked for.
                self.used[n] = true;
                self.used[n + 1] = true;
                self.draft.direction = Some(desc.unwrap_or(false));
                return;
            } else {
                // "order them by the number of albums": by the count that follows, which the
                // count's own word plans ("..., in descending order").
                if let Some(Item::Direction(d)) = spans.get(n + 2).map(|s| &s.item) {
                    self.used[n + 2] = true;
                    desc = desc.or(Some(*d));
                }
                self.draft.direction = Some(desc.unwrap_or(false));
                return;
            }
        }
        match spans.get(n).map(|s| &s.item) {
            Some(Item::Mention(c)) => {
                self.used[n] = true;
                let s = self.slot_from_candidates(c);
                self.draft.order_by = Some((s, desc.unwrap_or(false)));
            }
            Some(Item::Count(_))
                if !matches!(spans.get(n + 1).map(|s| &s.item), Some(Item::Mention(_)))
                    && matches!(
                        self.draft.measure,
                        Some(DraftMeasure::Count(..) | DraftMeasure::CountRowsOf(_))
                    ) =>
            {
                // "sorted by the count in descending order": by the count asked for.
                self.used[n] = true;
                if let Some(Item::Direction(d)) = spans.get(n + 1).map(|s| &s.item) {
                    self.used[n + 1] = true;
                    desc = desc.or(Some(*d));
                }
                self.draft.direction = Some(desc.unwrap_or(false));
            }
            Some(Item::Names)
                if !spans[..k].iter().any(|s| {
                    matches!(&s.item, Item::Mention(c)
                        if c.iter().all(|x| matches!(x.target, Target::Column(..))))
                }) && !matches!(
                    spans.get(n + 1).map(|s| &s.item),
                    Some(Item::Mention(_) | Item::Names)
                ) =>
            {
                // "ordered by name": by the name shown.
                self.used[n] = true;
                self.draft.names = true;
                self.draft.alphabetical = true;
                if let Some(d) = desc {
                    self.draft.direction = Some(d);
                }
            }
            _ => match desc {
                // "sorted alphabetically": a direction without a key.
                Some(d) => self.draft.direction = Some(d),
                None => self.unplaced.push((spans[k].start, spans[k].end)),
            },
        }
    }

    /// The date of slot `s` in the years `a` to `b`, both included: from the first day of `a`
    /// up to the first day of the year after `b`.
    pub(super) fn years(&mut self, s: usize, a: i32, b: i32) {
        self.draft
            .filters
            .push(DraftFilter::Date(s, CmpOp::Ge, format!("{a}-01-01")));
        self.draft
            .filters
            .push(DraftFilter::Date(s, CmpOp::Lt, format!("{}-01-01", b + 1)));
    }

    /// The items of a between condition at span `k`.
    pub(super) fn between(&mut self, k: usize) {
        let spans = self.spans;
        self.used[k] = true;
        match (self.next(k), spans.get(k + 2).map(|s| &s.item)) {
            (Some(Item::Year(a)), Some(Item::Year(b))) => {
                self.used[k + 1] = true;
                self.used[k + 2] = true;
                let s = self.property_slot(Some(Property::Date), ColumnKind::Temporal, None);
                self.years(s, *a, *b);
            }
            (Some(Item::Number(a)), Some(Item::Number(b))) => {
                let prev = (0..k)
                    .rev()
                    .find(|&j| matches!(spans[j].item, Item::Mention(_)));
                if let Some(j) = prev
                    && let Item::Mention(c) = &spans[j].item
                {
                    self.used[j] = true;
                    self.used[k + 1] = true;
                    self.used[k + 2] = true;
                    let s = self.numeric_slot(c);
                    self.draft.filters.push(DraftFilter::Between(s, *a, *b));
                }
            }
            _ => self.unplaced.push((spans[k].start, spans[k].end)),
        }
    }

    /// The items of a datebound condition at span `k`.
    pub(super) fn date_bound(&mut self, k: usize, op: CmpOp, after: bool) {
        let spans = self.spans;
        self.used[k] = true;
        if let Some(Item::Day(day)) = self.next(k) {
            // "reported before 1978-06-26": that day is the bound, itself excluded after it.
            self.used[k + 1] = true;
            let op = if after { CmpOp::Gt } else { op };
            let s = self.date_slot_near(k);
            self.draft
                .filters
                .push(DraftFilter::Date(s, op, day.clone()));
            return;
        }
        // A number column named for a year: "after the year 1989" is `year > 1989`.
        let in_years = |y: i32| f64::from(y + i32::from(after));
        if let (Some(Item::Mention(_)), Some(Item::Year(_) | Item::Number(..))) =
            (self.next(k), spans.get(k + 2).map(|s| &s.item))
        {
            let y = match spans[k + 2].item {
                Item::Year(y) => Some(y),
                Item::Number(n) if n.fract() == 0.0 => Some(n as i32),
                _ => None,
            };
            if let Some(y) = y
                && let Some(s) = self.named_year_column(k + 1)
            {
                self.used[k + 2] = true;
                self.draft
                    .filters
                    .push(DraftFilter::Number(s, op, in_years(y), None));
                return;
            }
        }
        let (month, year, n) = match (self.next(k), spans.get(k + 2).map(|s| &s.item)) {
            (Some(Item::Month(m)), Some(Item::Year(y))) => (Some(*m), *y, 2),
            (Some(Item::Year(y)), _) => (None, *y, 1),
            _ => {
                self.unplaced.push((spans[k].start, spans[k].end));
                return;
            }
        };
        for j in 1..=n {
            self.used[k + j] = true;
        }
        let date = match (month, after) {
            (None, false) => format!("{year}-01-01"),
            (None, true) => format!("{}-01-01", year + 1),
            (Some(m), false) => format!("{year}-{m:02}-01"),
            (Some(12), true) => format!("{}-01-01", year + 1),
            (Some(m), true) => format!("{year}-{:02}-01", m + 1),
        };
        if month.is_none()
            && let Some(s) = self.table_year_column(k)
        {
            self.draft
                .filters
                .push(DraftFilter::Number(s, op, in_years(year), None));
            return;
        }
        let s = self.date_slot_near(k);
        if month.is_none() && self.fill_with_year_columns(s) {
            self.draft
                .filters
                .push(DraftFilter::Number(s, op, in_years(year), None));
            return;
        }
        self.draft.filters.push(DraftFilter::Date(s, op, date));
    }

    /// The items of a month condition at span `k`.
    pub(super) fn month(&mut self, k: usize, m: u32) {
        if let Some(Item::Year(y)) = self.next(k) {
            self.used[k] = true;
            self.used[k + 1] = true;
            let s = self.date_slot_near(k);
            self.draft.filters.push(DraftFilter::Period(s, *y, Some(m)));
        }
    }

    /// The items of a period relative to today at span `k` ("last year", "this quarter"):
    /// the calendar year or month as a period, a quarter as a range of dates.
    pub(super) fn relative(
        &mut self,
        k: usize,
        period: super::super::grammar::Period,
        offset: i32,
    ) {
        use super::super::grammar::Period;
        use chrono::Datelike;
        self.used[k] = true;
        let today = chrono::Utc::now().date_naive();
        let s = self.date_slot_near(k);
        // Months counted from year 0, so that an offset crosses years.
        let months = |y: i32, m: u32| y * 12 + m as i32 - 1;
        let date = |n: i32| format!("{}-{:02}-01", n.div_euclid(12), n.rem_euclid(12) + 1);
        match period {
            Period::Year => {
                self.draft
                    .filters
                    .push(DraftFilter::Period(s, today.year() + offset, None));
            }
            Period::Month => {
                let n = months(today.year(), today.month()) + offset;
                let (y, m) = (n.div_euclid(12), n.rem_euclid(12) as u32 + 1);
                self.draft.filters.push(DraftFilter::Period(s, y, Some(m)));
            }
            Period::Quarter => {
                let first = months(today.year(), today.month()) / 3 * 3 + offset * 3;
                self.draft
                    .filters
                    .push(DraftFilter::Date(s, CmpOp::Ge, date(first)));
                self.draft
                    .filters
                    .push(DraftFilter::Date(s, CmpOp::Lt, date(first + 3)));
            }
        }
    }

    /// The items of a year condition at span `k`.
    pub(super) fn year(&mut self, k: usize, y: i32) {
        self.used[k] = true;
        // "in year 1996" where `year` is a number column: the column named just before.
        if let Some(s) = k.checked_sub(1).and_then(|j| self.named_year_column(j)) {
            self.draft
                .filters
                .push(DraftFilter::Number(s, CmpOp::Eq, f64::from(y), None));
            return;
        }
        if let Some(s) = self.table_year_column(k) {
            self.draft
                .filters
                .push(DraftFilter::Number(s, CmpOp::Eq, f64::from(y), None));
            return;
        }
        let s = self.date_slot_near(k);
        if self.fill_with_year_columns(s) {
            self.draft
                .filters
                .push(DraftFilter::Number(s, CmpOp::Eq, f64::from(y), None));
            return;
        }
        self.draft.filters.push(DraftFilter::Period(s, y, None));
    }

    /// "movies made before 2000": the year column of the table named last before `k`, when
    /// that table has no date column of its own.
    fn table_year_column(&mut self, k: usize) -> Option<usize> {
        let j = (0..k)
            .rev()
            .find(|&j| matches!(self.spans[j].item, Item::Mention(_)))?;
        let Item::Mention(c) = &self.spans[j].item else {
            return None;
        };
        let picks: Vec<_> = c
            .iter()
            .filter_map(|x| match x.target {
                Target::Table(t) => Some((t, x.penalty)),
                _ => None,
            })
            .filter(|&(t, _)| {
                !self.lex.tables[t]
                    .columns
                    .iter()
                    .any(|c| c.kind == ColumnKind::Temporal)
            })
            .flat_map(|(t, p)| {
                (0..self.lex.tables[t].columns.len())
                    .filter(|&ci| self.is_year_column(t, ci))
                    .map(|ci| (Pick::Column(t, ci), p, None))
                    .collect::<Vec<_>>()
            })
            .collect();
        (picks.len() == 1).then(|| self.push_slot(Slot { picks }))
    }

    /// A slot of the number columns named for a year that the unused mention at `j` names.
    fn named_year_column(&mut self, j: usize) -> Option<usize> {
        if self.used[j] {
            return None;
        }
        let Item::Mention(c) = &self.spans[j].item else {
            return None;
        };
        // "in the year 2018" names `purchase.Year` best: when that column cannot hold a year,
        // another column merely containing the word is no better a reading.
        // "stadiums opened in the year 2005": the year column the participle names.
        let participle = c.iter().find(|x| match x.target {
            Target::Column(t, ci) => self.is_year_column(t, ci) && self.participle_names(t, ci),
            Target::Table(_) => false,
        });
        let best = participle
            .map(|x| x.penalty)
            .unwrap_or_else(|| c.iter().map(|x| x.penalty).min().unwrap_or(0));
        let picks: Vec<_> = c
            .iter()
            .filter(|x| x.penalty == best)
            .filter_map(|x| match x.target {
                Target::Column(t, ci) if self.is_year_column(t, ci) => Some((
                    Pick::Column(t, ci),
                    x.penalty + self.year_penalty(t, ci),
                    None,
                )),
                _ => None,
            })
            .collect();
        if picks.is_empty() {
            return None;
        }
        self.used[j] = true;
        Some(self.push_slot(Slot { picks }))
    }

    /// Gives a date slot that found no date column the number columns named for a year ("in
    /// 2003" of `faculty.Year`); whether it did.
    fn fill_with_year_columns(&mut self, s: usize) -> bool {
        if !self.draft.slots[s].picks.is_empty() {
            return false;
        }
        let picks: Vec<_> = self
            .lex
            .tables
            .iter()
            .enumerate()
            .flat_map(|(t, info)| (0..info.columns.len()).map(move |ci| (t, ci)))
            .filter(|&(t, ci)| self.is_year_column(t, ci))
            .map(|(t, ci)| (Pick::Column(t, ci), self.year_penalty(t, ci), None))
            .collect();
        if picks.is_empty() {
            return false;
        }
        self.draft.slots[s].picks = picks;
        true
    }

    /// Whether a participle of the question names the column ("opened" of `Opening_year`).
    fn participle_names(&self, t: usize, ci: usize) -> bool {
        self.spans.iter().any(|s| {
            matches!(&s.item, Item::Participle(c) if c.iter().any(|x| x.target == Target::Column(t, ci)))
        })
    }

    /// How loosely a year column fits a year: one named only "year" fits best, and a year
    /// of an event table (with foreign keys) before one of the things it refers to (the year
    /// of the fees, not of the campus).
    fn year_penalty(&self, t: usize, ci: usize) -> u32 {
        // "stadiums opened before 2006": the year column the participle names fits best.
        if self.participle_names(t, ci) {
            return 0;
        }
        let info = &self.lex.tables[t];
        let refers = info.columns.iter().any(|c| c.references.is_some());
        1 + u32::from(info.columns[ci].words.len() > 1) + u32::from(!refers)
    }

    /// A number on its own: "courses with 1 credit" (the number column after it) or "the
    /// document with id 2" (the key of the table named before the id).
    fn number_of_column(&mut self, k: usize, n: f64) {
        let spans = self.spans;
        // "students who are age 18", "addresses with zip code 197": the column just before.
        if let Some(j) = k.checked_sub(1)
            && !self.used[j]
            && let Item::Mention(c) = &spans[j].item
            && super::numeric_column(self.lex, c)
            && spans[j].end == spans[k].start
        {
            self.used[j] = true;
            self.used[k] = true;
            let s = self.numeric_slot(c);
            self.draft
                .filters
                .push(DraftFilter::Number(s, CmpOp::Eq, n, None));
            return;
        }
        if let Some(Item::Mention(c)) = spans.get(k + 1).map(|s| &s.item)
            && !self.used[k + 1]
            && super::numeric_column(self.lex, c)
        {
            self.used[k] = true;
            self.used[k + 1] = true;
            let s = self.numeric_slot(c);
            self.draft
                .filters
                .push(DraftFilter::Number(s, CmpOp::Eq, n, None));
            return;
        }
        let (Some(key), Some(named)) = (k.checked_sub(1), k.checked_sub(2)) else {
            return;
        };
        if !matches!(spans[key].item, Item::Key) {
            return;
        }
        let Item::Mention(c) = &spans[named].item else {
            return;
        };
        let picks: Vec<_> = c
            .iter()
            .filter_map(|x| match x.target {
                Target::Table(t) => {
                    let info = &self.lex.tables[t];
                    let [pk] = info.key.as_slice() else {
                        return None;
                    };
                    let ci = info.columns.iter().position(|c| &c.name == pk)?;
                    (info.columns[ci].kind == ColumnKind::Numeric).then_some((
                        Pick::Column(t, ci),
                        x.penalty,
                        None,
                    ))
                }
                _ => None,
            })
            .collect();
        if picks.is_empty() {
            return;
        }
        // The id is the condition, not a column to show, unless ids are asked for too ("the
        // ids and dates of the logs of the problem with id 10").
        self.used[k] = true;
        if spans.iter().filter(|s| matches!(s.item, Item::Key)).count() == 1 {
            self.draft.key = false;
        }
        let s = self.push_slot(Slot { picks });
        self.draft
            .filters
            .push(DraftFilter::Number(s, CmpOp::Eq, n, None));
    }

    /// A number column named for a year (`Year`, `year_join`), not a key.
    fn is_year_column(&self, t: usize, ci: usize) -> bool {
        let info = &self.lex.tables[t];
        let c = &info.columns[ci];
        // A year may be part of a key of several columns (`purchase (member, branch, year)`).
        let key_part = info.key.len() > 1 && c.references.is_none();
        c.kind == ColumnKind::Numeric
            && (!c.is_key || key_part)
            && c.words.iter().any(|w| w == "year")
    }

    pub(super) fn values_and_leftovers(&mut self) {
        let spans = self.spans;
        for k in 0..spans.len() {
            if self.used[k] {
                continue;
            }
            match &spans[k].item {
                Item::Value(hits) => {
                    self.used[k] = true;
                    let s = self.value_slot(hits);
                    // A name beside the value ("the Jazz genre", "country Canada") narrows it.
                    let mut narrowed_by_next = false;
                    // "whose location is not Tokyo": the name before the negation.
                    let before = if self.negated.contains(&k)
                        && matches!(
                            spans.get(k.wrapping_sub(1)).map(|s| &s.item),
                            Some(Item::Not)
                        ) {
                        2
                    } else {
                        1
                    };
                    for j in [k + 1, k.wrapping_sub(before)] {
                        let Some(Item::Mention(c)) = spans.get(j).map(|s| &s.item) else {
                            continue;
                        };
                        if self.used[j] {
                            continue;
                        }
                        let narrowed: Vec<_> = self.draft.slots[s]
                            .picks
                            .iter()
                            .filter(|(p, _, _)| {
                                c.iter().any(|x| match (&x.target, p) {
                                    (Target::Table(t), Pick::Column(pt, _)) => t == pt,
                                    (Target::Column(t, ci), Pick::Column(pt, pc)) => {
                                        t == pt && ci == pc
                                    }
                                    _ => false,
                                })
                            })
                            .cloned()
                            .collect();
                        if !narrowed.is_empty() {
                            narrowed_by_next = j == k + 1;
                            self.draft.slots[s].picks = narrowed;
                            let only_names_value =
                                c.iter().all(|x| matches!(x.target, Target::Column(..)));
                            if only_names_value
                                || self.draft.measure.is_some()
                                || self.draft.subject.is_some()
                            {
                                self.used[j] = true;
                            }
                            break;
                        }
                    }
                    if let Some(Item::Mention(c)) = spans.get(k + 1).map(|s| &s.item) {
                        let tables: Vec<usize> = c
                            .iter()
                            .filter_map(|x| match x.target {
                                Target::Table(t) => Some(t),
                                _ => None,
                            })
                            .collect();
                        if !narrowed_by_next && !tables.is_empty() {
                            // "Rock tracks": the value qualifies the table after it.
                            self.draft.modifiers.push((s, tables));
                        }
                    }
                    self.draft.filters.push(DraftFilter::Value(s));
                    self.negate_last(k);
                }
                Item::Number(n) => self.number_of_column(k, *n),
                Item::Literal(text) => {
                    let text_columns = |c: &[crate::generate::rule::linker::Candidate]| {
                        c.iter()
                            .filter_map(|x| match x.target {
                                Target::Column(t, ci)
                                    if self.lex.tables[t].columns[ci].kind == ColumnKind::Text =>
                                {
                                    Some((Pick::Column(t, ci), x.penalty, None))
                                }
                                _ => None,
                            })
                            .collect::<Vec<_>>()
                    };
                    // The text column named before the quoted text, or right after it ("the
                    // 'Studio' type code").
                    let prev = (0..k)
                        .rev()
                        .find(|&j| matches!(spans[j].item, Item::Mention(_)));
                    let named = [prev, Some(k + 1)]
                        .into_iter()
                        .flatten()
                        .find_map(|j| match spans.get(j).map(|s| &s.item) {
                            Some(Item::Mention(c)) if !(j == k + 1 && self.used[j]) => {
                                let picks = text_columns(c);
                                (!picks.is_empty()).then_some((j, picks))
                            }
                            _ => None,
                        });
                    if let Some((j, picks)) = named {
                        self.used[k] = true;
                        self.used[j] = true;
                        let s = self.push_slot(Slot { picks });
                        self.draft
                            .filters
                            .push(DraftFilter::Literal(s, text.clone()));
                        self.negate_last(k);
                    }
                }
                _ => {}
            }
        }
        for (k, span) in spans.iter().enumerate() {
            if self.used[k] {
                continue;
            }
            match &span.item {
                Item::Mention(c) => {
                    self.used[k] = true;
                    let tables: Vec<usize> = c
                        .iter()
                        .filter_map(|x| match x.target {
                            Target::Table(t) => Some(t),
                            _ => None,
                        })
                        .collect();
                    let has_rank = self.draft.rank.is_some() || self.draft.order_by.is_some();
                    if !tables.is_empty() {
                        let s = self.slot_from_candidates(c);
                        let tables_only = Slot {
                            picks: self.draft.slots[s]
                                .picks
                                .iter()
                                .filter(|(p, _, _)| matches!(p, Pick::Table(_)))
                                .cloned()
                                .collect(),
                        };
                        self.draft.slots[s] = tables_only;
                        if has_rank && self.draft.measure.is_some() && self.draft.dims.is_empty() {
                            self.draft.dims.push(DraftDim::Slot(s));
                        } else if self.draft.subject.is_none() {
                            self.draft.subject = Some(s);
                            // "the players and the years played": the rows are asked beside
                            // a column of theirs, so they are shown by their names.
                            let column = |j: usize| {
                                matches!(spans.get(j).map(|s| &s.item), Some(Item::Mention(c))
                                    if c.iter().all(|x| matches!(x.target, Target::Column(..))))
                            };
                            let named = tables.iter().all(|&t| self.lex.tables[t].named);
                            if named
                                && ((span.and_next && column(k + 1))
                                    || (k > 0 && spans[k - 1].and_next && column(k - 1)))
                            {
                                self.draft.names = true;
                            }
                        } else {
                            self.draft.context.push(s);
                        }
                    } else {
                        if matches!(self.draft.measure, Some(DraftMeasure::Agg(..)))
                            && super::numeric_column(self.lex, c)
                        {
                            // "the average rating and resolution": a second aggregate. Beside
                            // a count, a number column is what it counts by ("the number of
                            // students of each age").
                            self.unplaced.push((span.start, span.end));
                            continue;
                        }
                        let s = self.slot_from_candidates(c);
                        if self.draft.measure.is_some()
                            && (has_rank || self.draft.listing)
                            && self.draft.dims.is_empty()
                        {
                            // "the majors and the number of students": a grouping.
                            self.draft.dims.push(DraftDim::Slot(s));
                            self.draft.implicit_dims = true;
                        } else {
                            self.draft.columns.push(s);
                        }
                    }
                }
                Item::Listing
                | Item::Distinct
                | Item::FollowUp
                | Item::Instead
                | Item::Also
                | Item::StartOver
                | Item::Prop(_)
                | Item::Participle(_)
                | Item::Sold => {}
                Item::ModelDim { table, name } if self.draft.measure.is_some() => {
                    // "revenue per customer name": a grouping named beside the measure.
                    self.used[k] = true;
                    self.draft.dims.push(DraftDim::Model {
                        table: *table,
                        name: name.clone(),
                    });
                    self.draft.implicit_dims = true;
                }
                _ => self.unplaced.push((spans[k].start, spans[k].end)),
            }
        }
    }
}
