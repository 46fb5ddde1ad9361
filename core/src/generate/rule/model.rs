//! The semantic model as the rule generator reads it: each item of the model linked to what the
//! rules plan with. Tables and dimensions or time dimensions that are one column become schema
//! names (their synonyms extend the vocabulary); measures, dimensions over expressions and named
//! filters become items of their own, written from the model's checked SQL when the query is
//! compiled (see [`super::compile::SqlWriter::with_semantic`]).

use std::collections::HashMap;

use super::{
    ir::{Agg, TimeBucket},
    joins::SchemaGraph,
    linker::{Candidate, SchemaLexicon, Target},
};
use crate::{
    answer::{Clarification, ClarificationOption},
    semantic::{Aggregation, Item as ModelItem, Semantic, TermMatch, TimeGrain},
    text::Token,
};

/// What one model item is to the rules.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// Schema names: a table, or a dimension that is one column.
    Names(Vec<Candidate>),
    /// A measure on a table (lexicon index).
    Measure {
        /// The table.
        table: usize,
        /// Its name in the model.
        name: String,
        /// Its aggregation, as the rules name them (`none` reads as `Sum`; it is not used to
        /// write SQL).
        agg: Agg,
        /// Its SQL, to tell measures that are the same apart from those that are not.
        sql: String,
    },
    /// A dimension over an expression.
    Dimension {
        /// The table.
        table: usize,
        /// Its name in the model.
        name: String,
        /// Its SQL.
        sql: String,
    },
    /// A named filter.
    Filter {
        /// The table.
        table: usize,
        /// A column its predicate reads.
        column: usize,
        /// Its name in the model.
        name: String,
    },
}

/// A time dimension that is one column.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeColumn {
    /// The item.
    pub item: ModelItem,
    /// The column (lexicon index).
    pub column: usize,
    /// Its default grain.
    pub grain: TimeGrain,
    /// Whether it is the table's primary time dimension.
    pub primary: bool,
}

/// The model linked to a schema lexicon.
#[derive(Debug, Clone)]
pub struct ModelLinks {
    /// The model.
    pub semantic: Semantic,
    links: HashMap<ModelItem, Link>,
    /// Per lexicon table, its time dimensions that are one column.
    time: HashMap<usize, Vec<TimeColumn>>,
}

/// The bucket of a grain (weeks and quarters have no bucket of their own: the month).
pub fn grain_bucket(grain: TimeGrain) -> TimeBucket {
    match grain {
        TimeGrain::Day => TimeBucket::Day,
        TimeGrain::Week | TimeGrain::Month | TimeGrain::Quarter => TimeBucket::YearMonth,
        TimeGrain::Year => TimeBucket::Year,
    }
}

fn agg_of(a: Aggregation) -> Agg {
    match a {
        Aggregation::Sum | Aggregation::None => Agg::Sum,
        Aggregation::Avg => Agg::Avg,
        Aggregation::Count => Agg::Count,
        Aggregation::CountDistinct => Agg::CountDistinct,
        Aggregation::Min => Agg::Min,
        Aggregation::Max => Agg::Max,
    }
}

/// The one column an expression is, when it is nothing else (`BillingCountry`, `"Total"`).
fn plain_column<'c>(expr: &str, columns: &'c [String]) -> Option<&'c String> {
    let [c] = columns else { return None };
    let e = expr.trim();
    let e = e
        .strip_prefix(['"', '`', '['])
        .and_then(|x| x.strip_suffix(['"', '`', ']']))
        .unwrap_or(e);
    e.eq_ignore_ascii_case(c).then_some(c)
}

impl ModelLinks {
    /// Links `semantic`'s items to `lex`'s tables and columns.
    pub fn new(semantic: Semantic, lex: &SchemaLexicon) -> Self {
        let mut links = HashMap::new();
        let mut time: HashMap<usize, Vec<TimeColumn>> = HashMap::new();
        let model = semantic.model();
        for (ti, (t, bound)) in model.tables.iter().zip(semantic.tables()).enumerate() {
            let Some(lt) = lex.table_index(&bound.name) else {
                continue;
            };
            let col = |name: &str| {
                lex.tables[lt]
                    .columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(name))
            };
            let names = |ci: usize| {
                Link::Names(vec![Candidate {
                    target: Target::Column(lt, ci),
                    penalty: 0,
                }])
            };
            links.insert(
                ModelItem::Table(ti),
                Link::Names(vec![Candidate {
                    target: Target::Table(lt),
                    penalty: 0,
                }]),
            );
            for (i, d) in t.dimensions.iter().enumerate() {
                let item = ModelItem::Dimension(ti, i);
                let link = match plain_column(&d.expr, semantic.columns(item)).and_then(|c| col(c))
                {
                    Some(ci) => names(ci),
                    None => Link::Dimension {
                        table: lt,
                        name: d.name.clone(),
                        sql: semantic.sql(item),
                    },
                };
                links.insert(item, link);
            }
            for (i, d) in t.time_dimensions.iter().enumerate() {
                let item = ModelItem::TimeDimension(ti, i);
                if let Some(ci) = plain_column(&d.expr, semantic.columns(item)).and_then(|c| col(c))
                {
                    links.insert(item, names(ci));
                    time.entry(lt).or_default().push(TimeColumn {
                        item,
                        column: ci,
                        grain: d.default_grain,
                        primary: d.primary,
                    });
                }
            }
            for (i, m) in t.measures.iter().enumerate() {
                let item = ModelItem::Measure(ti, i);
                links.insert(
                    item,
                    Link::Measure {
                        table: lt,
                        name: m.name.clone(),
                        agg: agg_of(m.aggregation),
                        sql: semantic.sql(item),
                    },
                );
            }
            for (i, f) in t.filters.iter().enumerate() {
                let item = ModelItem::Filter(ti, i);
                let column = semantic
                    .columns(item)
                    .first()
                    .and_then(|c| col(c))
                    .unwrap_or(0);
                links.insert(
                    item,
                    Link::Filter {
                        table: lt,
                        column,
                        name: f.name.clone(),
                    },
                );
            }
        }
        Self {
            semantic,
            links,
            time,
        }
    }

    /// What `item` is to the rules (`None`: an item the rules cannot use).
    pub fn link(&self, item: ModelItem) -> Option<&Link> {
        self.links.get(&item)
    }

    /// The model's phrases in a question.
    pub fn find(&self, tokens: &[Token]) -> Vec<TermMatch> {
        self.semantic.find(tokens)
    }

    /// Whether `item`'s name or one of its synonyms is `written` (lower-case words; plurals
    /// read as singulars).
    pub fn writes(&self, item: ModelItem, written: &[&str]) -> bool {
        let t = &self.semantic.model().tables[item.table()];
        let (name, synonyms) = match item {
            ModelItem::Table(_) => (&t.name, &t.synonyms),
            ModelItem::Dimension(_, i) => (&t.dimensions[i].name, &t.dimensions[i].synonyms),
            ModelItem::TimeDimension(_, i) => {
                (&t.time_dimensions[i].name, &t.time_dimensions[i].synonyms)
            }
            ModelItem::Measure(_, i) => (&t.measures[i].name, &t.measures[i].synonyms),
            ModelItem::Filter(_, i) => (&t.filters[i].name, &t.filters[i].synonyms),
        };
        let singular = |w: &str| crate::text::singular(&w.to_lowercase());
        let asked: Vec<String> = written.iter().map(|w| singular(w)).collect();
        std::iter::once(name).chain(synonyms).any(|p| {
            let words: Vec<String> = crate::text::tokenize(p)
                .iter()
                .map(|t| singular(&t.lower))
                .collect();
            words == asked
        })
    }

    /// The time dimensions of a table (lexicon index) that are one column.
    pub fn time_columns(&self, table: usize) -> &[TimeColumn] {
        self.time.get(&table).map_or(&[], Vec::as_slice)
    }

    /// The model's joins, as catalog names: (many table, its columns, one table, its columns).
    pub fn relationships(&self) -> Vec<(String, Vec<String>, String, Vec<String>)> {
        let model = self.semantic.model();
        let physical = |name: &str| {
            model
                .tables
                .iter()
                .zip(self.semantic.tables())
                .find(|(t, _)| t.name == name)
                .map_or_else(|| name.to_string(), |(_, b)| b.name.clone())
        };
        model
            .relationships
            .iter()
            .map(|r| {
                (
                    physical(&r.left_table),
                    r.columns.iter().map(|c| c.left.clone()).collect(),
                    physical(&r.right_table),
                    r.columns.iter().map(|c| c.right.clone()).collect(),
                )
            })
            .collect()
    }

    /// The option a clarification offers for `item`: its name, and its description or where
    /// it is (`Table.Column`, its SQL).
    pub fn option(&self, item: ModelItem) -> ClarificationOption {
        let model = self.semantic.model();
        let t = &model.tables[item.table()];
        let description = match item {
            ModelItem::Table(_) => &t.description,
            ModelItem::Dimension(_, i) => &t.dimensions[i].description,
            ModelItem::TimeDimension(_, i) => &t.time_dimensions[i].description,
            ModelItem::Measure(_, i) => &t.measures[i].description,
            ModelItem::Filter(_, i) => &t.filters[i].description,
        };
        let table = &self.semantic.tables()[item.table()].name;
        let detail = if !description.is_empty() {
            description.clone()
        } else {
            match item {
                ModelItem::Table(_) => table.clone(),
                _ => match self.semantic.columns(item) {
                    [c] if !matches!(item, ModelItem::Measure(..)) => format!("{table}.{c}"),
                    _ => format!("{table}: {}", self.semantic.sql(item)),
                },
            }
        };
        ClarificationOption {
            label: self.semantic.name(item).to_string(),
            detail,
        }
    }
}

/// A graph with the model's relationships added.
pub fn graph_with(graph: SchemaGraph, links: Option<&ModelLinks>) -> SchemaGraph {
    match links {
        Some(l) if !l.semantic.model().relationships.is_empty() => {
            graph.with_relationships(&l.relationships())
        }
        _ => graph,
    }
}

/// A reading the rules could not choose, and what picks each option.
#[derive(Debug, Clone, PartialEq)]
pub struct Ambiguity {
    /// The question back.
    pub clarification: Clarification,
    /// Per option, what answering with it means.
    pub choices: Vec<Choice>,
}

/// A reading picked by a reply to a clarification.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    /// A model item (a measure, a time dimension).
    Item(ModelItem),
    /// A value's column (lexicon table and column).
    Column(usize, usize),
}

/// Which option of `ambiguity` `question` names: the option whose label's words are all in
/// the question, else the one option that has a word of its label in the question that no
/// other option's label has.
pub fn pick(options: &[ClarificationOption], tokens: &[Token]) -> Option<usize> {
    let asked: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
    let words: Vec<Vec<String>> = options
        .iter()
        .map(|o| crate::semantic::phrase_norms(&o.label))
        .collect();
    let full: Vec<usize> = words
        .iter()
        .enumerate()
        .filter(|(_, w)| !w.is_empty() && w.iter().all(|x| asked.contains(&x.as_str())))
        .map(|(i, _)| i)
        .collect();
    if !full.is_empty() {
        // "invoice date" when the options are "date" and "invoice date": the longest.
        return full
            .iter()
            .copied()
            .max_by_key(|&i| words[i].len())
            .filter(|&best| {
                full.iter()
                    .filter(|&&i| words[i].len() == words[best].len())
                    .count()
                    == 1
            });
    }
    let partial: Vec<usize> = words
        .iter()
        .enumerate()
        .filter(|(i, w)| {
            w.iter().any(|x| {
                asked.contains(&x.as_str())
                    && !crate::text::is_stop_word(x)
                    && !words
                        .iter()
                        .enumerate()
                        .any(|(j, o)| j != *i && o.contains(x))
            })
        })
        .map(|(i, _)| i)
        .collect();
    match partial.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// The question back for the first phrase of the model that names several measures (or other
/// items) with different SQL.
pub fn ambiguous_phrase(
    links: &ModelLinks,
    tokens: &[Token],
    spans: &[super::grammar::Span],
) -> Option<Ambiguity> {
    let span = spans
        .iter()
        .find(|s| matches!(s.item, super::grammar::Item::Ambiguous(_)))?;
    let super::grammar::Item::Ambiguous(items) = &span.item else {
        return None;
    };
    let phrase: Vec<&str> = tokens[span.start..span.end]
        .iter()
        .map(|t| t.raw.as_str())
        .collect();
    Some(Ambiguity {
        clarification: Clarification {
            question: format!("Which do you mean by \"{}\"?", phrase.join(" ")),
            options: items.iter().map(|&i| links.option(i)).collect(),
        },
        choices: items.iter().map(|&i| Choice::Item(i)).collect(),
    })
}

/// The logical table of the model bound to a lexicon table.
fn model_table(links: &ModelLinks, lex: &SchemaLexicon, table: usize) -> Option<usize> {
    links
        .semantic
        .tables()
        .iter()
        .position(|b| b.name == lex.tables[table].name)
}

/// Fills what the model decides in a planned draft: a value that names people or things of
/// two of the model's tables, and the date of a time condition or grouping the question did
/// not name (the time dimension of the measure's table: its `primary` one, else its only one).
/// Returns the question back when the model leaves two readings open and no `choices` pick one.
pub fn settle(
    links: &ModelLinks,
    lex: &SchemaLexicon,
    draft: &mut super::plan::Draft,
    choices: &[Choice],
    previous: Option<&super::ir::QueryIr>,
) -> Option<Ambiguity> {
    use super::plan::{DraftDim, DraftFilter, DraftMeasure, Pick};
    // Values.
    let value_slots: Vec<usize> = draft
        .filters
        .iter()
        .filter_map(|f| match f {
            DraftFilter::Value(s) => Some(*s),
            _ => None,
        })
        .collect();
    for s in value_slots {
        let slot = &mut draft.slots[s];
        let picked = choices.iter().find_map(|c| match c {
            Choice::Column(t, c)
                if slot
                    .picks
                    .iter()
                    .any(|(p, _, _)| *p == Pick::Column(*t, *c)) =>
            {
                Some(Pick::Column(*t, *c))
            }
            _ => None,
        });
        if let Some(p) = picked {
            slot.picks.retain(|(x, _, _)| *x == p);
            continue;
        }
        let best = slot.picks.iter().map(|(_, p, _)| *p).min().unwrap_or(0);
        let mut named: Vec<(usize, usize, String)> = Vec::new();
        for (p, penalty, value) in &slot.picks {
            let Pick::Column(t, c) = p else { continue };
            let column = &lex.tables[*t].columns[*c].name;
            if *penalty == best
                && lex.tables[*t].labels.contains(column)
                && model_table(links, lex, *t).is_some()
                && !named.iter().any(|(nt, _, _)| nt == t)
            {
                named.push((*t, *c, value.clone().unwrap_or_default()));
            }
        }
        if named.len() >= 2 {
            let value = named[0].2.clone();
            let options = named
                .iter()
                .map(|(t, c, _)| {
                    let ti = model_table(links, lex, *t).unwrap_or(0);
                    ClarificationOption {
                        label: links.semantic.name(ModelItem::Table(ti)).to_string(),
                        detail: format!(
                            "{}.{}",
                            lex.tables[*t].name, lex.tables[*t].columns[*c].name
                        ),
                    }
                })
                .collect();
            return Some(Ambiguity {
                clarification: Clarification {
                    question: format!("Which do you mean by \"{value}\"?"),
                    options,
                },
                choices: named
                    .iter()
                    .map(|(t, c, _)| Choice::Column(*t, *c))
                    .collect(),
            });
        }
    }
    // Dates.
    if draft.time_slots.is_empty() {
        return None;
    }
    let one_table = |s: usize| {
        let picks = &draft.slots.get(s)?.picks;
        let t = picks.first()?.0.table();
        picks
            .iter()
            .all(|(p, _, _)| matches!(p, Pick::Table(x) if *x == t))
            .then_some(t)
    };
    let main = match &draft.measure {
        Some(DraftMeasure::Model { table, .. }) => Some(*table),
        Some(DraftMeasure::Count(s, _) | DraftMeasure::CountRowsOf(s)) => one_table(*s),
        _ => None,
    }
    .or_else(|| draft.subject.and_then(one_table))
    .or_else(|| {
        let prev = previous?;
        let table = match &prev.measure {
            Some(m) => super::ir::measure_table(m),
            None => &prev.subject,
        };
        lex.table_index(table)
    })?;
    let cols = links.time_columns(main);
    let chosen = choices
        .iter()
        .find_map(|c| match c {
            Choice::Item(i) => cols.iter().find(|x| x.item == *i),
            Choice::Column(..) => None,
        })
        .or_else(|| cols.iter().find(|x| x.primary))
        .or(match cols {
            [one] => Some(one),
            _ => None,
        });
    match chosen {
        Some(tc) => {
            for &s in &draft.time_slots {
                draft.slots[s].picks = vec![(Pick::Column(main, tc.column), 0, None)];
            }
            if draft.trend {
                for d in &mut draft.dims {
                    if let DraftDim::Time(s, b) = d
                        && draft.time_slots.contains(s)
                    {
                        *b = grain_bucket(tc.grain);
                    }
                }
            }
            None
        }
        None if cols.len() >= 2 => Some(Ambiguity {
            clarification: Clarification {
                question: format!(
                    "Which date of {} do you mean?",
                    links
                        .semantic
                        .name(ModelItem::Table(model_table(links, lex, main).unwrap_or(0)))
                ),
                options: cols.iter().map(|c| links.option(c.item)).collect(),
            },
            choices: cols.iter().map(|c| Choice::Item(c.item)).collect(),
        }),
        None => None,
    }
}
