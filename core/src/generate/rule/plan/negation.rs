//! Placing negations and text patterns: "not in Canada" (a value), "does not contain 'x'" (a
//! pattern), "artists without albums", "customers who never bought a Jazz track" (related
//! rows). A negation placed nowhere is left unused, so the rules abstain.

use super::{DraftFilter, Pick, Planner, Slot};
use crate::generate::rule::{
    grammar::Item,
    ir::{CmpOp, ColumnRef, LikeKind},
    linker::{Candidate, ColumnKind, Target},
};

/// How many items may stand between a negation and the related table it is about ("never
/// bought a Jazz track").
const RELATED_WINDOW: usize = 3;

impl Planner<'_> {
    /// A negation at span `k`: on the value right after it, left for the pattern right after
    /// it, or on the related table a few items after it (with the values in between).
    pub(super) fn negation(&mut self, k: usize) {
        let spans = self.spans;
        match self.next(k) {
            // The pattern takes it.
            Some(Item::Pattern(..)) => return,
            Some(Item::Value(_) | Item::Literal(_)) if !self.used[k + 1] => {
                self.used[k] = true;
                self.negated.push(k + 1);
                // "not in Canada or the USA": none of them.
                let mut j = k + 2;
                while matches!(spans.get(j).map(|s| &s.item), Some(Item::Or))
                    && matches!(
                        spans.get(j + 1).map(|s| &s.item),
                        Some(Item::Value(_) | Item::Literal(_))
                    )
                    && !self.used[j + 1]
                {
                    self.used[j] = true;
                    self.negated.push(j + 1);
                    j += 2;
                }
                return;
            }
            Some(Item::Group) | Some(Item::Mention(_))
                if matches!(
                    spans.get(k + 2).map(|s| &s.item),
                    Some(Item::Value(_) | Item::Literal(_))
                ) && !self.used[k + 2]
                    && match &spans[k + 1].item {
                        Item::Mention(c) => !names_table(c),
                        _ => true,
                    } =>
            {
                // "not by AC/DC", "do not have the status 'Village'": the value after "by" or
                // after the column it is a value of.
                self.used[k] = true;
                self.negated.push(k + 2);
                return;
            }
            // "whose age is not 20": a numeric comparison.
            Some(Item::Number(_))
                if !matches!(
                    spans.get(k + 2).map(|s| &s.item),
                    Some(Item::Mention(_) | Item::Unit(_))
                ) =>
            {
                self.compare(k, CmpOp::Ne);
                return;
            }
            _ => {}
        }
        let mut values = Vec::new();
        let mut found = None;
        let window = spans
            .iter()
            .enumerate()
            .skip(k + 1)
            .take(RELATED_WINDOW + 1);
        for (j, span) in window {
            if self.used[j] {
                break;
            }
            match &span.item {
                // "never bought", "did not give any lesson".
                Item::Sold | Item::Participle(_) | Item::Listing => {}
                Item::Value(_) => values.push(j),
                Item::Mention(c) if only_tables(c) => {
                    found = Some(j);
                    break;
                }
                _ => break,
            }
        }
        self.used[k] = true;
        let Some(j) = found else {
            self.unplaced.push((spans[k].start, spans[k].end));
            return;
        };
        let Item::Mention(c) = &spans[j].item else {
            return;
        };
        self.used[j] = true;
        for v in k + 1..j {
            self.used[v] = true;
        }
        let table = self.table_slot(c);
        let mut filters = Vec::new();
        for v in values {
            if let Item::Value(hits) = &spans[v].item {
                let s = self.value_slot(hits);
                filters.push(DraftFilter::Value(s));
            }
        }
        self.draft.filters.push(DraftFilter::Related {
            table,
            filters,
            negated: true,
        });
    }

    /// Wraps the condition just pushed for the value at span `k` in a negation, when one was
    /// placed on it.
    pub(super) fn negate_last(&mut self, k: usize) {
        if self.negated.contains(&k)
            && let Some(f) = self.draft.filters.pop()
        {
            self.draft.filters.push(DraftFilter::Not(Box::new(f)));
            self.negated.retain(|&j| j != k);
        }
    }

    /// A value a negation was placed on but that became no condition of its own: the
    /// negation would be lost, so the words are left unplaced (the rules abstain).
    pub(super) fn unapplied_negations(&mut self) {
        for k in std::mem::take(&mut self.negated) {
            self.unplaced.push((self.spans[k].start, self.spans[k].end));
        }
    }

    /// A text pattern at span `k` on the column named right before it (or right after, with
    /// `after`: "with 'x' in its name"), or on the name of the table named before it;
    /// negated by a negation right before it.
    pub(super) fn pattern(
        &mut self,
        k: usize,
        kind: LikeKind,
        text: String,
        after: bool,
        holders: &[ColumnRef],
    ) {
        let spans = self.spans;
        self.used[k] = true;
        let negated = k > 0 && matches!(spans[k - 1].item, Item::Not) && !self.used[k - 1];
        if negated {
            self.used[k - 1] = true;
        }
        let mut slot = None;
        let mut by_label = false;
        if after && let Some(Item::Mention(c)) = self.next(k) {
            let picks = self.text_picks(c, false);
            if !picks.is_empty() {
                self.used[k + 1] = true;
                slot = Some(self.push_slot(Slot { picks }));
            }
        }
        if slot.is_none() {
            let mut p = k.checked_sub(if negated { 2 } else { 1 });
            while let Some(q) = p
                && matches!(spans[q].item, Item::Listing)
            {
                // "the document names which contain ...".
                p = q.checked_sub(1);
            }
            if let Some(q) = p
                && matches!(spans[q].item, Item::Names)
            {
                // "the tracks whose names contain ...".
                p = q.checked_sub(1);
            }
            if let Some(q) = p
                && let Item::Mention(c) = &spans[q].item
            {
                let columns = if names_table(c) {
                    Vec::new()
                } else {
                    self.text_picks(c, false)
                };
                if !columns.is_empty() {
                    // "students whose email contains ..." shows the students; "the building
                    // names that contain ..." shows the names.
                    let table_named = spans.iter().enumerate().any(|(j, s)| {
                        j != q && matches!(&s.item, Item::Mention(m) if names_table(m))
                    });
                    if table_named {
                        self.used[q] = true;
                    }
                    slot = Some(self.push_slot(Slot { picks: columns }));
                } else {
                    // A table: its name; the mention stays for the subject.
                    let labels = self.text_picks(c, true);
                    if !labels.is_empty() {
                        by_label = true;
                        slot = Some(self.push_slot(Slot { picks: labels }));
                    }
                }
            }
        }
        if let Some(s) = slot
            && by_label
            && !holders.is_empty()
        {
            // The text is a whole value of some columns: a pattern on a table's name that is
            // not one of them may be about related rows ("albums containing 'Hells Bells'").
            let lex = self.lex;
            self.draft.slots[s].picks.retain(|(p, _, _)| match p {
                Pick::Column(t, c) => holders.contains(&lex.column_ref(*t, *c)),
                _ => false,
            });
            if self.draft.slots[s].picks.is_empty() {
                slot = None;
            }
        }
        match slot {
            Some(s) => self
                .draft
                .filters
                .push(DraftFilter::Pattern(s, kind, text, negated)),
            None => self.unplaced.push((spans[k].start, spans[k].end)),
        }
    }

    /// The text columns among `cands` or, with `tables`, the one text label column of each
    /// table among them.
    fn text_picks(&self, cands: &[Candidate], tables: bool) -> Vec<(Pick, u32, Option<String>)> {
        cands
            .iter()
            .filter_map(|x| match x.target {
                Target::Column(t, ci) if !tables => {
                    let col = &self.lex.tables[t].columns[ci];
                    (col.kind == ColumnKind::Text && !col.is_key).then_some((
                        Pick::Column(t, ci),
                        x.penalty,
                        None,
                    ))
                }
                Target::Table(t) if tables => {
                    let info = &self.lex.tables[t];
                    let [label] = info.labels.as_slice() else {
                        return None;
                    };
                    if info.key.contains(label) {
                        return None;
                    }
                    let ci = info.columns.iter().position(|c| &c.name == label)?;
                    (info.columns[ci].kind == ColumnKind::Text).then_some((
                        Pick::Column(t, ci),
                        x.penalty,
                        None,
                    ))
                }
                _ => None,
            })
            .collect()
    }
}

/// Whether the best reading of a mention is a table.
fn names_table(c: &[Candidate]) -> bool {
    let best = c.iter().map(|x| x.penalty).min().unwrap_or(0);
    c.iter()
        .any(|x| x.penalty == best && matches!(x.target, Target::Table(_)))
}

/// Whether every best reading of a mention is a table ("without a department number" may
/// name a column, whose absence is not a missing related row).
fn only_tables(c: &[Candidate]) -> bool {
    let best = c.iter().map(|x| x.penalty).min().unwrap_or(0);
    !c.is_empty()
        && c.iter()
            .filter(|x| x.penalty == best)
            .all(|x| matches!(x.target, Target::Table(_)))
}
