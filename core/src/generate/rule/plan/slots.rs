//! Slots: the readings a name, a property or a money word can have.

use super::{DraftFilter, Pick, Planner, Slot};
use crate::generate::rule::{
    grammar::{Item, Property},
    ir::CmpOp,
    linker::{Candidate, ColumnKind, SchemaLexicon, Target},
};
use crate::values::ValueHit;

impl Planner<'_> {
    /// A slot of the tables among `cands`.
    pub(super) fn table_slot(&mut self, cands: &[Candidate]) -> usize {
        let picks = cands
            .iter()
            .filter_map(|c| match c.target {
                Target::Table(t) => Some((Pick::Table(t), c.penalty, None)),
                Target::Column(..) => None,
            })
            .collect();
        self.push_slot(Slot { picks })
    }

    pub(super) fn slot_from_candidates(&mut self, cands: &[Candidate]) -> usize {
        let picks = cands
            .iter()
            .map(|c| {
                let p = match c.target {
                    Target::Table(t) => Pick::Table(t),
                    Target::Column(t, c) => Pick::Column(t, c),
                };
                (p, c.penalty, None)
            })
            .collect();
        self.push_slot(Slot { picks })
    }

    pub(super) fn push_slot(&mut self, slot: Slot) -> usize {
        self.draft.slots.push(slot);
        self.draft.slots.len() - 1
    }

    pub(super) fn value_slot(&mut self, hits: &[ValueHit]) -> usize {
        let mut picks: Vec<(Pick, u32, Option<String>)> = Vec::new();
        for h in hits {
            let Some(t) = self.lex.table_index(&h.column.table) else {
                continue;
            };
            let info = &self.lex.tables[t];
            let Some(c) = info.columns.iter().position(|c| c.name == h.column.column) else {
                continue;
            };
            picks.push((Pick::Column(t, c), 0, Some(h.value.clone())));
            let code = info.columns[c]
                .words
                .last()
                .is_some_and(|w| matches!(w.as_str(), "code" | "cd"));
            if info.key != [h.column.column.clone()] || !code {
                continue;
            }
            // A code table's key (`Ref_Types.type_code`): the foreign keys that hold the same
            // codes hold the value too, without the join to the code table. Only codes: a key
            // that is a name (`dept_name`) is the row of its own table.
            for (t2, other) in self.lex.tables.iter().enumerate() {
                for (c2, col) in other.columns.iter().enumerate() {
                    if t2 != t && col.references.as_deref() == Some(info.name.as_str()) {
                        picks.push((Pick::Column(t2, c2), 1, Some(h.value.clone())));
                    }
                }
            }
        }
        self.push_slot(Slot { picks })
    }

    /// A slot of the columns of a kind, or with a property, over all tables.
    pub(super) fn property_slot(
        &mut self,
        prop: Option<Property>,
        kind: ColumnKind,
        table: Option<usize>,
    ) -> usize {
        let mut picks = Vec::new();
        for (ti, t) in self.lex.tables.iter().enumerate() {
            if table.is_some_and(|x| x != ti) {
                continue;
            }
            for (ci, c) in t.columns.iter().enumerate() {
                if c.kind != kind || c.is_key {
                    continue;
                }
                let w = |x: &str| c.words.iter().any(|cw| cw == x);
                let penalty = match prop {
                    Some(Property::Duration)
                        if w("millisecond") || w("duration") || w("second") || w("minute") =>
                    {
                        // `length` or `Milliseconds` before `rental_duration`.
                        u32::from(
                            c.words.len() > 1 && !(w("millisecond") || w("second") || w("minute")),
                        )
                    }
                    Some(Property::Price) if w("price") || w("cost") || w("fee") || w("rate") => 0,
                    Some(Property::Age) if w("age") => 0,
                    Some(Property::Date) | None if kind == ColumnKind::Temporal => {
                        // `OrderDate` of `Orders` is the date of an order; `RequiredDate` less so.
                        let own = t.words.first().is_some_and(|tw| c.words.contains(tw));
                        match (own, w("date")) {
                            (true, _) => 0,
                            (false, true) => 1,
                            (false, false) => 2,
                        }
                    }
                    _ => continue,
                };
                picks.push((Pick::Column(ti, ci), penalty, None));
            }
        }
        let s = self.push_slot(Slot { picks });
        if kind == ColumnKind::Temporal && table.is_none() {
            self.draft.time_slots.push(s);
        }
        s
    }

    pub(super) fn money_slot(&mut self) -> usize {
        let picks = self
            .lex
            .money_columns()
            .into_iter()
            .map(|(t, m, p)| (Pick::Money(t, m), p, None))
            .collect();
        self.push_slot(Slot { picks })
    }

    pub(super) fn numeric_slot(&mut self, cands: &[Candidate]) -> usize {
        let mut picks = Vec::new();
        for c in cands {
            match c.target {
                Target::Column(t, ci)
                    if self.lex.tables[t].columns[ci].kind == ColumnKind::Numeric
                        && !self.lex.tables[t].columns[ci].is_key =>
                {
                    picks.push((Pick::Column(t, ci), c.penalty, None));
                }
                Target::Table(t) => {
                    for (mt, m, p) in self.lex.money_columns() {
                        if mt == t {
                            picks.push((Pick::Money(t, m), c.penalty + p, None));
                        }
                    }
                }
                _ => {}
            }
        }
        if picks.is_empty() && cands.iter().any(|c| matches!(c.target, Target::Table(_))) {
            // "total sales" where a table is named like the money word.
            picks = self
                .lex
                .money_columns()
                .into_iter()
                .map(|(t, m, p)| (Pick::Money(t, m), p + 3, None))
                .collect();
        }
        self.push_slot(Slot { picks })
    }

    pub(super) fn quantity_slot(&mut self) -> usize {
        let mut picks = Vec::new();
        for (ti, t) in self.lex.tables.iter().enumerate() {
            for (ci, c) in t.columns.iter().enumerate() {
                if c.kind == ColumnKind::Numeric && c.words.last().is_some_and(|w| w == "quantity")
                {
                    picks.push((Pick::Column(ti, ci), 0, None));
                }
            }
        }
        self.push_slot(Slot { picks })
    }

    /// The date column for a time condition: a date column named just before, else any.
    pub(super) fn date_slot_near(&mut self, k: usize) -> usize {
        let prev = (0..k).rev().find(|&j| {
            !self.used[j] && matches!(self.spans[j].item, Item::Mention(_) | Item::Participle(_))
        });
        if let Some(j) = prev
            && let Item::Mention(c) | Item::Participle(c) = &self.spans[j].item
        {
            let picks: Vec<_> = c
                .iter()
                .filter_map(|x| match x.target {
                    Target::Column(t, ci)
                        if self.lex.tables[t].columns[ci].kind == ColumnKind::Temporal =>
                    {
                        Some((Pick::Column(t, ci), x.penalty, None))
                    }
                    _ => None,
                })
                .collect();
            if !picks.is_empty() {
                self.used[j] = true;
                return self.push_slot(Slot { picks });
            }
        }
        self.property_slot(Some(Property::Date), ColumnKind::Temporal, None)
    }

    pub(super) fn number_after(&mut self, k: usize, slot: usize, op: CmpOp) {
        if !matches!(self.next(k), Some(Item::Number(_) | Item::Year(_))) {
            // "greater than the average": a comparison with something the rules cannot compute.
            self.unplaced.push((self.spans[k].start, self.spans[k].end));
        }
        if let Some(Item::Number(_) | Item::Year(_)) = self.next(k) {
            let n = match self.next(k) {
                Some(Item::Number(n)) => *n,
                Some(Item::Year(y)) => f64::from(*y),
                _ => return,
            };
            self.used[k + 1] = true;
            let unit = match self.spans.get(k + 2).map(|s| &s.item) {
                Some(Item::Unit(ms)) => {
                    self.used[k + 2] = true;
                    Some(*ms)
                }
                _ => None,
            };
            self.draft
                .filters
                .push(DraftFilter::Number(slot, op, n, unit));
        }
    }

    pub(super) fn comparison_after(&mut self, k: usize, slot: usize) {
        match self.next(k) {
            Some(Item::Compare(op)) => {
                let op = *op;
                self.used[k + 1] = true;
                self.number_after(k + 1, slot, op);
            }
            Some(Item::Between) => {
                if let (Some(Item::Number(a)), Some(Item::Number(b))) = (
                    self.spans.get(k + 2).map(|s| &s.item),
                    self.spans.get(k + 3).map(|s| &s.item),
                ) {
                    for j in 1..=3 {
                        self.used[k + j] = true;
                    }
                    self.draft.filters.push(DraftFilter::Between(slot, *a, *b));
                }
            }
            _ => {}
        }
    }
}

pub(super) fn table_of(c: &[Candidate]) -> Option<usize> {
    c.iter()
        .filter_map(|x| match x.target {
            Target::Table(t) => Some((x.penalty, t)),
            _ => None,
        })
        .min()
        .map(|(_, t)| t)
}

/// Whether a name read after "number of" is a numeric column that itself holds a count
/// (`Number_of_hosts`, `International_Passengers`) rather than things to count (`Advisor`).
pub(super) fn counts_something(lex: &SchemaLexicon, c: &[Candidate]) -> bool {
    if !numeric_column(lex, c) {
        return false;
    }
    let best = c.iter().map(|x| x.penalty).min().unwrap_or(0);
    c.iter()
        .filter(|x| x.penalty == best)
        .all(|x| match x.target {
            Target::Column(t, ci) => {
                let info = &lex.tables[t].columns[ci];
                let w = &info.words;
                // "how many sections" of a `class_section` stored as text numbers them, it
                // does not count anything.
                (best > 0 && !info.numeric_text)
                    || w.iter().any(|x| {
                        matches!(
                            x.as_str(),
                            "number" | "no" | "num" | "count" | "total" | "amount" | "quantity"
                        )
                    })
            }
            Target::Table(_) => false,
        })
}

/// The readings of `c` that are a count a table keeps (`Number_of_hosts`, `no_of_customers`).
pub(super) fn stored_counts(lex: &SchemaLexicon, c: &[Candidate]) -> Vec<Candidate> {
    c.iter()
        .filter(|x| match x.target {
            Target::Column(t, ci) => {
                let col = &lex.tables[t].columns[ci];
                col.kind == ColumnKind::Numeric
                    && matches!(col.words.as_slice(),
                        [n, of, _, ..] if matches!(n.as_str(), "number" | "no" | "num") && of == "of")
            }
            Target::Table(_) => false,
        })
        .cloned()
        .collect()
}

pub(super) fn numeric_column(lex: &SchemaLexicon, c: &[Candidate]) -> bool {
    let best = c.iter().map(|x| x.penalty).min().unwrap_or(0);
    c.iter()
        .filter(|x| x.penalty == best)
        .all(|x| match x.target {
            Target::Column(t, ci) => {
                let info = &lex.tables[t].columns[ci];
                info.kind == ColumnKind::Numeric && !info.is_key
            }
            Target::Table(_) => false,
        })
}
