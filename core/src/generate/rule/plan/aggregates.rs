//! Comparisons with an aggregate of a whole column ("a price above average", "younger than
//! average", "more than twice the average budget") and requests of whole rows ("all
//! information about ..."), read before the rest of the question.

use super::{DraftFilter, Pick, Planner, Slot, slots::numeric_column};
use crate::generate::rule::{
    grammar::{Item, Property},
    ir::{Agg, CmpOp},
    linker::{ColumnKind, Target},
};

impl Planner<'_> {
    /// Reads "X more than [twice] the average [X]", "all information" and "from 2010 to 2012"
    /// before the other items, so that the average is not taken for the question's measure.
    ///
    /// The compared column is the numeric name (or property) right before the comparison, or
    /// the one right after "average"; the property of a comparative adjective ("longer",
    /// "younger", "more expensive") otherwise. The rules abstain when the question holds
    /// another aggregate ("departments whose average salary is above the average": a grouped
    /// comparison they do not write), when "average" is followed by a count ("more than the
    /// average number of ..."), when the column before and the column after differ, and when a
    /// value or a quoted literal follows the average ("below the average salary of the Physics
    /// department": the average of some rows only).
    pub(super) fn versus_aggregates(&mut self) {
        let spans = self.spans;
        // A follow-up patches the previous query with its conditions, groupings and order
        // only: whole rows and percentages are asked for in a question of their own, which
        // names its table and opens with no follow-up cue.
        let own_question = !matches!(spans.first().map(|s| &s.item), Some(Item::FollowUp))
            && !spans
                .iter()
                .any(|s| matches!(s.item, Item::Instead | Item::Also))
            && spans.iter().any(|s| match &s.item {
                Item::Mention(c) => super::slots::table_of(c).is_some(),
                Item::Money => true,
                _ => false,
            });
        for (k, span) in spans.iter().enumerate() {
            if matches!(span.item, Item::AllColumns | Item::Share) && !own_question {
                self.used[k] = true;
                self.unplaced.push((span.start, span.end));
                continue;
            }
            match span.item {
                Item::AllColumns => {
                    self.used[k] = true;
                    self.draft.all_columns = true;
                }
                Item::Share => {
                    // "what percentage of tracks are Rock": the rows counted, the values
                    // read as usual become the share's condition; "share of revenue by
                    // country": the money word is read as usual.
                    self.used[k] = true;
                    if self.draft.share {
                        self.unplaced.push((span.start, span.end));
                        continue;
                    }
                    self.draft.share = true;
                    match self.next(k) {
                        Some(Item::Mention(c))
                            if super::slots::table_of(c).is_some()
                                && !numeric_column(self.lex, c) =>
                        {
                            self.used[k + 1] = true;
                            let s = self.table_slot(c);
                            self.draft.measure = Some(super::DraftMeasure::Count(s, false));
                        }
                        Some(Item::Money | Item::Agg(_) | Item::ModelMeasure { .. }) => {}
                        // "what percentage are longer than average": of what?
                        _ => self.unplaced.push((span.start, span.end)),
                    }
                }
                Item::YearRange(a, b) if a > b => {
                    // "from 2023 to 2021": backwards, no range the rules can trust.
                    self.used[k] = true;
                    self.unplaced.push((span.start, span.end));
                }
                Item::YearRange(a, b) => {
                    // "from 2010 to 2012": the first day of 2010 up to the first day of 2013.
                    self.used[k] = true;
                    let s = self.date_slot_near(k);
                    self.years(s, a, b);
                }
                _ => {}
            }
        }
        self.ranges_of_numbers();
        for k in 0..spans.len() {
            if self.used[k] {
                continue;
            }
            let (op, prop) = match spans[k].item {
                Item::Compare(op) => (op, None),
                Item::AdjCompare(p, op) => (op, Some(p)),
                _ => continue,
            };
            if !matches!(op, CmpOp::Gt | CmpOp::Ge | CmpOp::Lt | CmpOp::Le) {
                continue;
            }
            let mut avg = k + 1;
            let factor = match spans.get(avg).map(|s| &s.item) {
                Some(Item::Times(f)) => {
                    avg += 1;
                    *f
                }
                _ => 1.0,
            };
            if !matches!(spans.get(avg).map(|s| &s.item), Some(Item::Agg(Agg::Avg))) {
                continue;
            }
            for j in k..=avg {
                self.used[j] = true;
            }
            let whole = (spans[k].start, spans[avg].end);
            // Another aggregate is the question's own measure only when it opens the question
            // ("the total population of the districts whose area is above average"); right
            // before the comparison it is the compared value ("whose average salary is above
            // the average"), and money words are totals per row of something else.
            let other_aggregate = spans.iter().enumerate().any(|(j, s)| {
                if (k..=avg).contains(&j) {
                    return false;
                }
                match s.item {
                    Item::Money | Item::Times(_) => true,
                    Item::Agg(_) | Item::ModelMeasure { .. } => {
                        let opens = spans[..j].iter().all(|p| {
                            matches!(p.item, Item::Listing | Item::Names | Item::FollowUp)
                        });
                        !(opens && j + 2 < k)
                    }
                    _ => false,
                }
            });
            let narrowed = spans[avg + 1..]
                .iter()
                .any(|s| matches!(s.item, Item::Value(_) | Item::Literal(_)));
            // "more than the average number of points": a column that holds a number; of
            // rows ("the average number of tracks"), a count per row the rules do not write.
            let counted = match (
                spans.get(avg + 1).map(|s| &s.item),
                spans.get(avg + 2).map(|s| &s.item),
            ) {
                (Some(Item::Count(_)), Some(Item::Mention(c))) if numeric_column(self.lex, c) => {
                    Some(true)
                }
                (Some(Item::Count(_)), _) => Some(false),
                _ => None,
            };
            if other_aggregate || narrowed || counted == Some(false) {
                self.unplaced.push(whole);
                continue;
            }
            if counted == Some(true) {
                self.used[avg + 1] = true;
                avg += 1;
            }
            // The numeric name right before the comparison and the one right after "average".
            let before =
                k.checked_sub(1)
                    .filter(|&j| !self.used[j])
                    .and_then(|j| match &spans[j].item {
                        Item::Mention(c) if numeric_column(self.lex, c) => Some(j),
                        Item::Prop(_) => Some(j),
                        _ => None,
                    });
            let after = Some(avg + 1)
                .filter(|&j| j < spans.len() && !self.used[j])
                .and_then(|j| match &spans[j].item {
                    Item::Mention(c) if numeric_column(self.lex, c) => Some(j),
                    Item::Prop(_) => Some(j),
                    _ => None,
                });
            let named = match (before, after) {
                (Some(b), Some(a)) if spans[b].item != spans[a].item => {
                    // "a budget above the average salary": two different columns.
                    self.unplaced.push(whole);
                    continue;
                }
                (Some(b), Some(a)) => {
                    self.used[a] = true;
                    Some(b)
                }
                (b, a) => b.or(a),
            };
            let slot = match (named.map(|j| spans[j].item.clone()), prop) {
                (Some(Item::Mention(c)), _) => Some(self.numeric_slot(&c)),
                (Some(Item::Prop(p)), _) => {
                    Some(self.property_slot(Some(p), ColumnKind::Numeric, None))
                }
                (_, Some(p)) => Some(self.property_slot(Some(p), ColumnKind::Numeric, None)),
                _ => None,
            };
            let Some(slot) = slot.filter(|&s| !self.draft.slots[s].picks.is_empty()) else {
                self.unplaced.push(whole);
                continue;
            };
            if let Some(j) = named {
                self.used[j] = true;
            }
            self.draft
                .filters
                .push(DraftFilter::VsAggregate(slot, op, Agg::Avg, factor));
        }
    }

    /// The slot a superlative adjective ranks by, and whether largest first. "The oldest
    /// employee" where no table has an age is the earliest date of birth (a date column whose
    /// name says "birth", "born" or "dob") of a table the question names, so the direction
    /// turns around.
    pub(super) fn extreme_slot(
        &mut self,
        prop: Property,
        kind: ColumnKind,
        desc: bool,
    ) -> (usize, bool) {
        let s = self.property_slot(Some(prop), kind, None);
        if prop != Property::Age || !self.draft.slots[s].picks.is_empty() {
            return (s, desc);
        }
        // Only the people the question names: "the 2 oldest customers" is not the customers
        // with the oldest support representative.
        let named: Vec<usize> = self
            .spans
            .iter()
            .filter_map(|s| match &s.item {
                Item::Mention(c) => super::slots::table_of(c),
                _ => None,
            })
            .collect();
        let mut picks = Vec::new();
        for (ti, t) in self.lex.tables.iter().enumerate() {
            if !named.contains(&ti) {
                continue;
            }
            for (ci, c) in t.columns.iter().enumerate() {
                let birth = c
                    .words
                    .iter()
                    .any(|w| matches!(w.as_str(), "birth" | "born" | "dob"));
                if c.kind == ColumnKind::Temporal && birth {
                    picks.push((Pick::Column(ti, ci), 0, None));
                }
            }
        }
        self.draft.slots[s] = Slot { picks };
        (s, !desc)
    }

    /// Two readings of "between A and B" the general reading leaves out:
    ///
    /// * years on a column of years named right before ("opened between 2000 and 2005" of
    ///   `open_year`, "launched between 2002 and 2004" of `Launch_year`): a numeric range, when
    ///   the name reads no date column;
    /// * the column named right after the numbers ("between 100 and 300 hours"), when no
    ///   numeric name comes right before "between".
    fn ranges_of_numbers(&mut self) {
        let spans = self.spans;
        for k in 0..spans.len() {
            if self.used[k] || !matches!(spans[k].item, Item::Between) {
                continue;
            }
            let before = k.checked_sub(1).filter(|&j| !self.used[j]);
            match (self.next(k), spans.get(k + 2).map(|s| &s.item)) {
                (Some(Item::Year(a)), Some(Item::Year(b))) => {
                    let Some(j) = before else { continue };
                    let (Item::Mention(c) | Item::Participle(c)) = &spans[j].item else {
                        continue;
                    };
                    let reads_date = c.iter().any(|x| match x.target {
                        Target::Column(t, ci) => {
                            self.lex.tables[t].columns[ci].kind == ColumnKind::Temporal
                        }
                        Target::Table(_) => false,
                    });
                    let picks: Vec<_> = c
                        .iter()
                        .filter_map(|x| match x.target {
                            Target::Column(t, ci) => {
                                let col = &self.lex.tables[t].columns[ci];
                                (col.kind == ColumnKind::Numeric
                                    && !col.is_key
                                    && col.words.iter().any(|w| w == "year"))
                                .then_some((Pick::Column(t, ci), x.penalty, None))
                            }
                            Target::Table(_) => None,
                        })
                        .collect();
                    if reads_date || picks.is_empty() || a > b {
                        continue;
                    }
                    for u in [j, k, k + 1, k + 2] {
                        self.used[u] = true;
                    }
                    let s = self.push_slot(Slot { picks });
                    self.draft
                        .filters
                        .push(DraftFilter::Between(s, f64::from(*a), f64::from(*b)));
                }
                (Some(Item::Number(a)), Some(Item::Number(b))) => {
                    let numeric_before = before.is_some_and(|j| match &spans[j].item {
                        Item::Mention(c) => numeric_column(self.lex, c),
                        Item::Prop(_) => true,
                        _ => false,
                    });
                    let Some(Item::Mention(c)) = spans.get(k + 3).map(|s| &s.item) else {
                        continue;
                    };
                    if numeric_before || !numeric_column(self.lex, c) || self.used[k + 3] {
                        continue;
                    }
                    let (a, b) = (*a, *b);
                    for u in k..=k + 3 {
                        self.used[u] = true;
                    }
                    let s = self.numeric_slot(c);
                    self.draft.filters.push(DraftFilter::Between(s, a, b));
                }
                _ => {}
            }
        }
    }
}
