//! Follow-ups: a question that refines the previous one ("only for Rock", "what about 2022",
//! "top 5 instead", "sort ascending", "and by country", "show their emails too") patches the
//! previous turn's query instead of starting a new one.

//!
//! A turn that refers back ("what are *their* emails?", "which of *these* has the most
//! tracks?", "order *them* by ...", "of *those*, which are in Canada?") keeps the previous
//! query's scope: its conditions and the entity whose rows it returned stand for the pronoun,
//! and only what the turn asks changes. When the rules cannot tell what the pronoun stands for,
//! they abstain and say so; they never answer such a turn as a new question.

use crate::{error::Result, text::Token};

use super::{
    cannot_answer,
    grammar::{Item, Span},
    ir::{Agg, Dimension, Filter, Measure, MeasureArg, Order, OrderKey, QueryIr},
    joins::SchemaGraph,
    linker::{SchemaLexicon, Target},
    plan::{Draft, DraftDim, DraftMeasure, Pick, Slot},
    resolve::resolve,
};

/// The word of `tokens` that points back at the previous answer, if one does: "these",
/// "those", "they", "them" and "it" always do, and so do "their" and "its" after "of" or
/// "among" or when no table was named before them in the same question ("what are their
/// emails?", but not "list the artists and their albums").
pub fn reference(tokens: &[Token], spans: &[Span]) -> Option<String> {
    tokens.iter().enumerate().find_map(|(i, t)| {
        let w = t.lower.as_str();
        let back = match w {
            "these" | "those" | "they" | "them" | "it" => true,
            // "how many orders was that?", but not "customers that ordered".
            "that" | "this" => i + 1 == tokens.len(),
            "their" | "theirs" | "its" => {
                let after_of = i > 0 && matches!(tokens[i - 1].lower.as_str(), "of" | "among");
                let antecedent = spans.iter().any(|s| {
                    s.end <= i
                        && matches!(&s.item, Item::Mention(c)
                            if c.iter().any(|c| matches!(c.target, Target::Table(_))))
                });
                after_of || !antecedent
            }
            _ => false,
        };
        back.then(|| t.raw.clone())
    })
}

/// The table whose rows the previous answer returned: the listed table, the one entity it
/// grouped by, or the table whose rows it counted or totalled.
fn referent(previous: &QueryIr) -> Option<&str> {
    match previous.group_by.as_slice() {
        [] => Some(previous.subject.as_str()),
        [Dimension::Entity { table, .. }] => Some(table.as_str()),
        _ => None,
    }
}

/// How a turn refers back to the previous answer.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The word that refers back ("their", "those"), for messages.
    pub word: String,
    /// The turn asks for one figure over all the previous rows ("in total").
    pub overall: bool,
    /// The turn asks how many of the previous rows ("how many of them").
    pub counts_referent: bool,
}

/// "How many are there?": a count that names nothing to count counts the previous answer's
/// rows. Returns whether `draft` now does.
pub fn count_previous(previous: &QueryIr, draft: &mut Draft, lex: &SchemaLexicon) -> bool {
    let Some(t) = referent(previous).and_then(|e| lex.table_index(e)) else {
        return false;
    };
    if draft.measure.is_some() || draft.subject.is_some() || !draft.columns.is_empty() {
        return false;
    }
    let slot = table_slot(draft, t);
    draft.measure = Some(DraftMeasure::CountRowsOf(slot));
    true
}

/// Adds a slot whose one reading is the table `t` (lexicon index); returns its index.
fn table_slot(draft: &mut Draft, t: usize) -> usize {
    draft.slots.push(Slot {
        picks: vec![(Pick::Table(t), 0, None)],
    });
    draft.slots.len() - 1
}

/// Whether a condition is on a period or a date (which replaces only another of its kind).
fn is_time(f: &Filter) -> bool {
    matches!(f, Filter::Period { .. } | Filter::Date { .. })
}

/// Whether the condition `new` takes the place of `old`: the same column, and both or neither
/// about time ("what about 2023?" replaces the year, not the country).
fn replaces(new: &Filter, old: &Filter) -> bool {
    new.column() == old.column() && is_time(new) == is_time(old)
}

/// Answers a turn that refers back (`reference`): the previous answer's entity, within the
/// previous conditions, is what the turn's pronoun stands for. A turn that only adds columns
/// (of the previous query's tables), conditions, an order direction or a limit patches the
/// previous query, and so does one that regroups it ("show it by city instead"); one that
/// counts, totals, ranks or orders by something new is planned again with that entity in place
/// of the pronoun (grouped by it when the value is about related rows: "which of them has the
/// most invoices", unless the turn asks for one figure `overall`: "how many invoices do they
/// have in total"), and the previous conditions are kept.
pub fn refer(
    previous: &QueryIr,
    spans: &[Span],
    draft: &Draft,
    lex: &SchemaLexicon,
    graph: &SchemaGraph,
    reference: &Reference,
) -> Result<QueryIr> {
    let Reference {
        word,
        overall,
        counts_referent,
    } = reference;
    let (overall, counts_referent) = (*overall, *counts_referent);
    let unclear = |why: &str| {
        cannot_answer(
            format!(
                "I could not tell what \"{word}\" refers to in the previous answer ({why}); ask the whole question"
            ),
            Vec::new(),
        )
    };
    let patch_only = draft.measure.is_none()
        && draft.order_by.is_none()
        && draft.rank_column.is_none()
        && draft.having.is_empty()
        && draft.agg_only.is_none()
        && (draft.rank.is_none() || previous.measure.is_some());
    let fixed = previous.tables();
    let res = resolve(draft, lex, graph, &fixed)?;
    if patch_only {
        let columns = res.columns()?;
        if let Some(c) = columns.iter().find(|c| !fixed.contains(&c.table)) {
            return Err(unclear(&format!(
                "it is about {}, and {} is not part of it",
                referent(previous).unwrap_or(&previous.subject),
                c.table
            )));
        }
        if !columns.is_empty() && previous.measure.is_some() && previous.group_by.is_empty() {
            // "how many are there?" then "what are their titles?": the rows counted, listed.
            let mut rows = QueryIr::new(previous.subject.clone());
            rows.filters = previous.filters.clone();
            if let Some(t) = lex.table_index(&previous.subject) {
                rows.columns = lex.tables[t].label_refs();
            }
            return patch(&rows, spans, draft, lex, graph).map(distinct_rows);
        }
        return patch(previous, spans, draft, lex, graph).map(distinct_rows);
    }
    if !draft.more_measures.is_empty() {
        return Err(unclear("it asks for several values at once"));
    }
    // The value the turn asks for, read once.
    let measure = draft.measure.as_ref().map(|m| res.measure(m)).transpose()?;
    if let (Some(m), Some(shown), false) = (&measure, &previous.measure, overall) {
        // "how many tracks do they have?" after the genres with more than 100 tracks: the
        // previous answer already shows that value for each of them.
        if m == shown
            && matches!(previous.group_by.as_slice(), [Dimension::Entity { .. }])
            && draft.rank.is_none()
            && draft.limit.is_none()
            && draft.filters.is_empty()
        {
            return Ok(previous.clone());
        }
    }
    let entity = referent(previous).ok_or_else(|| unclear("it is grouped by several things"))?;
    if counts_referent {
        // "how many of those are in stock?": the rows are counted, so the rest of the turn
        // must be conditions the rules read.
        let rows = measure
            .as_ref()
            .is_some_and(|m| matches!(m.agg, Agg::Count) && super::ir::measure_table(m) == entity);
        if !rows {
            return Err(unclear(
                "it asks how many of them, and the rest of the question is not a condition the rules read",
            ));
        }
    }
    if previous.limit.is_some() || !previous.having.is_empty() {
        return Err(unclear(
            "it is a ranking or has a condition on a total, which the rules cannot narrow further",
        ));
    }
    let t = lex
        .table_index(entity)
        .ok_or_else(|| unclear("its table is unknown"))?;
    let mut d = draft.clone();
    let slot = table_slot(&mut d, t);
    match &measure {
        // "which of them has the most invoices": a value per row of the entity.
        Some(about) if super::ir::measure_table(about) != entity && !overall => {
            d.dims.push(DraftDim::Slot(slot));
        }
        None if d.subject.is_none() => {
            d.subject = Some(slot);
            d.listing = true;
        }
        _ => {}
    }
    if draft.subject.is_some() && draft.measure.is_none() {
        // "which of these albums ...": the turn names a table; it must be the entity's.
        let named = res.subject()?;
        if let Some(named) = named.filter(|n| n != entity) {
            return Err(unclear(&format!(
                "it lists {entity}, and the question is about {named}"
            )));
        }
    }
    let mut ir = resolve(&d, lex, graph, &fixed)?.query()?;
    for f in previous.filters.iter().rev() {
        if !ir.filters.iter().any(|n| replaces(n, f)) {
            ir.filters.insert(0, f.clone());
        }
    }
    Ok(distinct_rows(ir))
}

/// A listing of one table's rows under a condition on another table that has many rows for
/// each of them ("which of them ordered in 1996") shows each row once.
fn distinct_rows(mut ir: QueryIr) -> QueryIr {
    if ir.measure.is_none() && ir.group_by.is_empty() && ir.tables().len() > 1 {
        ir.distinct = true;
    }
    ir
}

/// Whether a question reads as a refinement of the previous one rather than a new question:
/// it has no subject or measure of its own, or it opens with a follow-up cue ("only", "what
/// about"), or it says "instead" or "too".
pub fn is_follow_up(spans: &[Span], draft: &Draft) -> bool {
    has_cue(spans) || !is_complete(draft)
}

/// Whether the question opens with a follow-up cue ("only", "what about") or says "instead"
/// or "too".
pub fn has_cue(spans: &[Span]) -> bool {
    matches!(spans.first().map(|s| &s.item), Some(Item::FollowUp))
        || spans
            .iter()
            .any(|s| matches!(s.item, Item::Instead | Item::Also))
}

/// Whether the draft has a subject, a measure or an order of its own.
pub fn is_complete(draft: &Draft) -> bool {
    draft.measure.is_some() || draft.subject.is_some() || draft.order_by.is_some()
}

/// "Which category had the most?" after a value per category: the turn names what the
/// previous answer grouped by and asks for the highest or lowest value, with nothing of its own
/// to compute or filter; it ranks the previous groups.
pub fn ranks_the_groups(
    previous: &QueryIr,
    draft: &Draft,
    lex: &SchemaLexicon,
    graph: &SchemaGraph,
) -> bool {
    if previous.measure.is_none()
        || previous.group_by.is_empty()
        || draft.rank.is_none()
        || draft.measure.is_some()
        || draft.rank_column.is_some()
        || draft.order_by.is_some()
        || !draft.filters.is_empty()
        || !draft.having.is_empty()
        || !draft.columns.is_empty()
    {
        return false;
    }
    let Ok(res) = resolve(draft, lex, graph, &previous.tables()) else {
        return false;
    };
    let grouped: Vec<&str> = previous.group_by.iter().map(Dimension::table).collect();
    let named = match (res.subject(), draft.dims.as_slice()) {
        (Ok(Some(t)), []) => vec![t],
        (Ok(None), dims) if !dims.is_empty() => match dims
            .iter()
            .map(|d| res.dimension(d).map(|d| d.table().to_string()))
            .collect::<Result<Vec<_>>>()
        {
            Ok(t) => t,
            Err(_) => return false,
        },
        _ => return false,
    };
    named.iter().all(|t| grouped.contains(&t.as_str()))
}

/// Whether the question asks "how many of them" (or of these, of those): a count of the
/// previous answer's rows.
pub fn counts_referent(tokens: &[Token]) -> bool {
    tokens.windows(4).any(|w| {
        w[0].lower == "how"
            && w[1].lower == "many"
            && w[2].lower == "of"
            && matches!(w[3].lower.as_str(), "them" | "these" | "those")
    })
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
        ir.filters.retain(|old| !replaces(&new, old));
        ir.filters.push(new);
        changed = true;
    }
    if let Some(m) = &draft.measure {
        let m = res.measure(m)?;
        if ir.group_by.is_empty() {
            ir.subject = super::ir::measure_table(&m).to_string();
        }
        ir.measure = Some(m);
        ir.also = draft
            .more_measures
            .iter()
            .map(|m| res.measure(m))
            .collect::<Result<_>>()?;
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
    let columns = res.columns()?;
    super::assemble::not_self_related(lex, &columns)?;
    for c in columns {
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
                ir.also.clear();
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
                words: None,
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
                    words: None,
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
