//! Follow-ups: a question that refines the previous one ("only for Rock", "what about 2022",
//! "top 5 instead", "sort ascending", "and by country", "show their emails too") patches the
//! previous turn's query instead of starting a new one.

use crate::error::Result;

use super::{
    cannot_answer,
    grammar::{Item, Span},
    ir::{Agg, Dimension, Filter, Measure, MeasureArg, Order, OrderKey, QueryIr},
    joins::SchemaGraph,
    linker::SchemaLexicon,
    plan::Draft,
    resolve::resolve,
};

/// Whether a question reads as a refinement of the previous one rather than a new question:
/// it has no subject or measure of its own, or it opens with a follow-up cue ("only", "what
/// about"), or it says "instead" or "too".
pub fn is_follow_up(spans: &[Span], draft: &Draft) -> bool {
    let opens_with_cue = matches!(spans.first().map(|s| &s.item), Some(Item::FollowUp));
    let patch_word = spans
        .iter()
        .any(|s| matches!(s.item, Item::Instead | Item::Also));
    let complete = draft.measure.is_some() || draft.subject.is_some() || draft.order_by.is_some();
    opens_with_cue || patch_word || !complete
}

/// Applies the changes a follow-up asks for to the previous query.
pub fn patch(
    previous: &QueryIr,
    spans: &[Span],
    draft: &Draft,
    lex: &SchemaLexicon,
    graph: &SchemaGraph,
) -> Result<QueryIr> {
    let fixed = previous.tables();
    let res = resolve(draft, lex, graph, &fixed)?;
    let mut ir = previous.clone();
    let mut changed = false;
    let instead = spans.iter().any(|s| matches!(s.item, Item::Instead));

    if let Some(subject) = res.subject()?
        && !fixed.contains(&subject)
        && draft.filters.is_empty()
    {
        return Err(cannot_answer(
            format!(
                "I could not tell how \"{subject}\" changes the previous question; ask it as a full question"
            ),
            Vec::new(),
        ));
    }
    for f in &draft.filters {
        let new = res.filter(f)?;
        let time = matches!(new, Filter::Period { .. } | Filter::Date { .. });
        ir.filters.retain(|old| {
            let same_column = old.column() == new.column();
            let old_time = matches!(old, Filter::Period { .. } | Filter::Date { .. });
            !(same_column && (time == old_time))
        });
        ir.filters.push(new);
        changed = true;
    }
    if let Some(m) = &draft.measure {
        let m = res.measure(m)?;
        if ir.group_by.is_empty() {
            ir.subject = super::ir::measure_table(&m).to_string();
        }
        ir.measure = Some(m);
        ir.columns.retain(|_| !ir.group_by.is_empty());
        changed = true;
    }
    let dims = draft
        .dims
        .iter()
        .map(|d| res.dimension(d))
        .collect::<Result<Vec<Dimension>>>()?;
    if !dims.is_empty() {
        if instead {
            ir.group_by.clear();
        }
        for d in dims {
            if !ir.group_by.contains(&d) {
                ir.group_by.push(d);
            }
        }
        if ir.measure.is_none() {
            ir.measure = Some(Measure {
                agg: Agg::Count,
                arg: MeasureArg::Rows {
                    table: ir.subject.clone(),
                },
            });
            ir.columns.clear();
        }
        changed = true;
    }
    for c in res.columns()? {
        if !ir.columns.contains(&c) {
            ir.columns.push(c);
        }
        changed = true;
    }
    if let Some((op, value)) = draft.measure_condition {
        match (&ir.measure, ir.group_by.is_empty()) {
            (Some(m), false) => {
                let m = m.clone();
                ir.having.retain(|h| h.measure != m);
                ir.having.push(super::ir::HavingFilter {
                    measure: m,
                    op,
                    value,
                });
                changed = true;
            }
            _ => {
                return Err(cannot_answer(
                    "I could not tell which value the comparison is about".to_string(),
                    Vec::new(),
                ));
            }
        }
    }
    if let Some(agg) = draft.agg_only {
        // "what about the average?": the same value, another aggregate.
        match &mut ir.measure {
            Some(m) if !matches!(m.arg, MeasureArg::Rows { .. }) => {
                m.agg = agg;
                ir.having.clear();
                changed = true;
            }
            _ => {
                return Err(cannot_answer(
                    "the previous question counts rows; there is nothing to total or average"
                        .to_string(),
                    Vec::new(),
                ));
            }
        }
    }
    for h in &draft.having {
        ir.having.push(super::ir::HavingFilter {
            measure: res.measure(&h.measure)?,
            op: h.op,
            value: h.value,
        });
        changed = true;
    }
    if let Some(n) = draft.limit {
        ir.limit = Some(n);
        if ir.order.is_none() && ir.measure.is_some() && !ir.group_by.is_empty() {
            ir.order = Some(Order {
                key: OrderKey::Measure,
                descending: draft.rank.unwrap_or(true),
            });
        }
        changed = true;
    }
    if let Some(desc) = draft.rank.filter(|_| draft.limit.is_none())
        && let Some(o) = &mut ir.order
    {
        o.descending = desc;
        changed = true;
    }
    if let Some((s, desc)) = draft.order_by {
        let _ = s;
        if let Some(o) = &mut ir.order {
            o.descending = desc;
            changed = true;
        }
    }
    if let Some(desc) = draft.direction {
        match &mut ir.order {
            Some(o) => o.descending = desc,
            None => {
                let key = if ir.measure.is_some() && !ir.group_by.is_empty() {
                    OrderKey::Measure
                } else {
                    match ir.columns.first() {
                        Some(c) => OrderKey::Column { column: c.clone() },
                        None => OrderKey::Measure,
                    }
                };
                ir.order = Some(Order {
                    key,
                    descending: desc,
                });
            }
        }
        changed = true;
    }
    if !changed {
        return Err(cannot_answer(
            "I could not tell what to change in the previous question".to_string(),
            Vec::new(),
        ));
    }
    Ok(ir)
}
