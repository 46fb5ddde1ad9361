//! The semantic model's part of the prompt: the measures (with their SQL and format),
//! dimensions, time dimensions (with their default grain), named filters, relationships as join
//! hints and business rules that bear on the question, and the model's verified queries as
//! few-shot examples.
//!
//! Items are ranked against the question: a phrase of the model found in it (an item's name or
//! synonym, see [`Terms`](crate::semantic::Terms)) counts most, then the overlap of the
//! question's words with the item's name, synonyms and description, then a table the question
//! names. The whole section is shown when it fits its budget (a third of `[llm]
//! max_schema_tokens`); otherwise the best items are kept until the budget is spent and items
//! the question does not touch are left out. The model comes from the asker's view
//! ([`View::semantic`](crate::access::View::semantic)), which holds no item over a table or
//! column the asker may not read; a verified query is shown only when its SQL passes the
//! validator of the catalog the asker sees.

use std::{collections::BTreeSet, fmt::Write as _};

use super::{examples::question_words, index::SchemaIndex, rank::Boost, tokens::estimate_tokens};
use crate::{
    catalog::Catalog,
    semantic::{Item, Semantic, verified},
    sql::Validator,
    text::tokenize,
};

/// Verified queries less similar to the question than this are not shown.
const MIN_SIMILARITY: f64 = 0.2;

/// Whether an item is of one kind (a group of the listing).
type ItemKind = fn(&Item) -> bool;

/// The semantic part of one prompt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SemanticSection {
    /// The items shown, best first.
    pub items: Vec<Item>,
    /// The items the question touches (a positive score), best first.
    pub relevant: Vec<Item>,
    /// The listing as the prompt shows it (empty without a model).
    pub text: String,
    /// Verified queries shown as examples, as (position in the model's list, similarity).
    pub verified: Vec<(usize, f64)>,
    /// The examples' text.
    pub examples_text: String,
    /// Estimated tokens of `text` and `examples_text`.
    pub tokens: usize,
    /// Whether items were left out for the budget.
    pub pruned: bool,
}

/// The section's token budget for a schema budget of `max_schema_tokens`.
pub(crate) fn budget(max_schema_tokens: usize) -> usize {
    (max_schema_tokens / 3).max(120)
}

/// Scores every item of `semantic` against `question` (higher is more relevant; 0: the
/// question does not touch it).
fn score(semantic: &Semantic, question: &str) -> Vec<(Item, f64)> {
    let model = semantic.model();
    let tokens = tokenize(question);
    let words = question_words(question);
    let mut matched: Vec<(Item, f64)> = Vec::new();
    for m in semantic.find(&tokens) {
        let weight = 1.0 / m.items.len() as f64;
        for &item in &m.items {
            matched.push((item, 3.0 * weight * (m.end - m.start) as f64));
        }
    }
    let overlap = |texts: &[&str]| -> f64 {
        let mut item_words = BTreeSet::new();
        for t in texts {
            item_words.extend(question_words(t));
        }
        if item_words.is_empty() {
            return 0.0;
        }
        words.intersection(&item_words).count() as f64 / item_words.len().max(1) as f64
    };
    let mut out = Vec::new();
    for (ti, t) in model.tables.iter().enumerate() {
        let texts = |name: &str, synonyms: &[String], description: &str| -> Vec<String> {
            let mut v = vec![name.to_string(), description.to_string()];
            v.extend(synonyms.iter().cloned());
            v
        };
        let table_texts = texts(&t.name, &t.synonyms, &t.description);
        let table_refs: Vec<&str> = table_texts.iter().map(String::as_str).collect();
        let table_score = overlap(&table_refs);
        let mut push = |item: Item, texts: Vec<String>| {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let mut s = overlap(&refs) + 0.25 * table_score;
            s += matched
                .iter()
                .filter(|(i, _)| *i == item)
                .map(|(_, w)| w)
                .sum::<f64>();
            // A table the question names lifts its items a little.
            s += 0.5
                * matched
                    .iter()
                    .filter(|(i, _)| *i == Item::Table(ti))
                    .map(|(_, w)| w)
                    .sum::<f64>()
                    .min(1.0);
            out.push((item, s));
        };
        for (i, m) in t.measures.iter().enumerate() {
            push(
                Item::Measure(ti, i),
                texts(&m.name, &m.synonyms, &m.description),
            );
        }
        for (i, d) in t.dimensions.iter().enumerate() {
            push(
                Item::Dimension(ti, i),
                texts(&d.name, &d.synonyms, &d.description),
            );
        }
        for (i, d) in t.time_dimensions.iter().enumerate() {
            push(
                Item::TimeDimension(ti, i),
                texts(&d.name, &d.synonyms, &d.description),
            );
        }
        for (i, f) in t.filters.iter().enumerate() {
            push(
                Item::Filter(ti, i),
                texts(&f.name, &f.synonyms, &f.description),
            );
        }
    }
    // Best first; ties keep the model's order.
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// The catalog name of the logical or physical table `name` (for join hints).
fn physical(semantic: &Semantic, name: &str) -> String {
    let model = semantic.model();
    match model.tables.iter().position(|t| t.name == name) {
        Some(ti) => semantic.sql(Item::Table(ti)),
        None => name.to_string(),
    }
}

fn line(semantic: &Semantic, item: Item) -> String {
    let model = semantic.model();
    let t = &model.tables[item.table()];
    let table = semantic.sql(Item::Table(item.table()));
    let name = semantic.name(item);
    let sql = semantic.sql(item);
    let (synonyms, description, extra) = match item {
        Item::Measure(_, i) => {
            let m = &t.measures[i];
            let mut extra = String::new();
            if let Some(f) = &m.format {
                let _ = write!(extra, "; format {f}");
            }
            (&m.synonyms, &m.description, extra)
        }
        Item::Dimension(_, i) => {
            let d = &t.dimensions[i];
            (&d.synonyms, &d.description, String::new())
        }
        Item::TimeDimension(_, i) => {
            let d = &t.time_dimensions[i];
            let mut extra = format!("; default grain {}", d.default_grain.as_str());
            if d.primary {
                extra.push_str("; the table's main date");
            }
            (&d.synonyms, &d.description, extra)
        }
        Item::Filter(_, i) => {
            let f = &t.filters[i];
            (&f.synonyms, &f.description, String::new())
        }
        Item::Table(_) => return String::new(),
    };
    let mut s = format!("- {name} ({table}): {sql}{extra}");
    if !synonyms.is_empty() {
        let _ = write!(s, "; also {}", synonyms.join(", "));
    }
    if !description.is_empty() {
        let _ = write!(s, ". {}", description.trim());
    }
    s
}

fn render(semantic: &Semantic, items: &[Item], joins: &[String], rules: &[String]) -> String {
    let mut s = String::new();
    let groups: [(&str, ItemKind); 4] = [
        ("Measures (use this SQL for these metrics)", |i| {
            matches!(i, Item::Measure(..))
        }),
        ("Dimensions", |i| matches!(i, Item::Dimension(..))),
        ("Time dimensions", |i| matches!(i, Item::TimeDimension(..))),
        ("Named filters (predicates)", |i| {
            matches!(i, Item::Filter(..))
        }),
    ];
    for (title, is) in groups {
        let lines: Vec<String> = items
            .iter()
            .filter(|i| is(i))
            .map(|&i| line(semantic, i))
            .collect();
        if !lines.is_empty() {
            let _ = writeln!(s, "{title}:");
            for l in lines {
                let _ = writeln!(s, "{l}");
            }
        }
    }
    if !joins.is_empty() {
        s.push_str("Joins not declared as foreign keys:\n");
        for j in joins {
            let _ = writeln!(s, "- {j}");
        }
    }
    if !rules.is_empty() {
        s.push_str("Business rules:\n");
        for r in rules {
            let _ = writeln!(s, "- {r}");
        }
    }
    s
}

/// Builds the semantic section for `question` within `budget` tokens; `max_examples` verified
/// queries at most, each checked by `validator` (the catalog the asker sees).
pub(crate) fn section(
    semantic: &Semantic,
    question: &str,
    budget: usize,
    max_examples: usize,
    validator: &Validator,
    catalog: &Catalog,
) -> SemanticSection {
    let model = semantic.model();
    let ranked = score(semantic, question);
    let rules: Vec<String> = model.business_rules.clone();
    let joins: Vec<String> = model
        .relationships
        .iter()
        .map(|r| {
            let (l, rt) = (
                physical(semantic, &r.left_table),
                physical(semantic, &r.right_table),
            );
            r.columns
                .iter()
                .map(|c| format!("{l}.{} = {rt}.{}", c.left, c.right))
                .collect::<Vec<_>>()
                .join(" AND ")
        })
        .collect();

    // Verified queries: the most similar, whose SQL this asker's catalog accepts.
    let words = question_words(question);
    let mut verified: Vec<(usize, f64)> = model
        .verified_queries
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let best = std::iter::once(&v.question)
                .chain(&v.paraphrases)
                .map(|q| dice(&words, &question_words(&strip_parameters(q))))
                .fold(0.0, f64::max);
            (best >= MIN_SIMILARITY).then_some((i, best))
        })
        .filter(|&(i, _)| {
            let v = &model.verified_queries[i];
            let bound = verified::bind(catalog.dialect, &v.sql, |name| {
                v.parameters
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| placeholder(p.kind).to_string())
            });
            bound.is_some_and(|sql| validator.validate(&sql).is_ok())
        })
        .collect();
    verified.sort_by(|a, b| b.1.total_cmp(&a.1));
    verified.truncate(max_examples);
    // The examples take at most half the budget; the most similar first.
    let mut examples_text = String::new();
    let mut shown = Vec::new();
    for &(i, similarity) in &verified {
        let v = &model.verified_queries[i];
        let mut one = format!("Question: {}\nSQL: {}\n", v.question, v.sql.trim());
        if !v.parameters.is_empty() {
            let names: Vec<String> = v
                .parameters
                .iter()
                .map(|p| format!(":{}", p.name))
                .collect();
            let _ = writeln!(
                one,
                "(replace {} with the literal value the question names)",
                names.join(", ")
            );
        }
        if estimate_tokens(&format!("{examples_text}{one}")) > budget / 2 {
            break;
        }
        examples_text.push_str(&one);
        shown.push((i, similarity));
    }
    let verified = shown;
    let all: Vec<Item> = ranked.iter().map(|&(i, _)| i).collect();
    let whole = render(semantic, &order(&all), &joins, &rules);
    let example_tokens = estimate_tokens(&examples_text);
    let (items, text, pruned) =
        if estimate_tokens(&whole) + example_tokens <= budget || whole.is_empty() {
            (all, whole, false)
        } else {
            // Keep the best items the question touches until the budget is spent; joins touching
            // a kept table and the rules come along when they fit.
            let mut kept: Vec<Item> = Vec::new();
            let mut text = render(semantic, &[], &[], &[]);
            for &(item, s) in &ranked {
                if s <= 0.0 {
                    break;
                }
                let mut trial = kept.clone();
                trial.push(item);
                let t = render(semantic, &order(&trial), &[], &[]);
                if estimate_tokens(&t) + example_tokens > budget {
                    continue;
                }
                kept = trial;
                text = t;
            }
            let tables: BTreeSet<String> = kept
                .iter()
                .map(|i| semantic.sql(Item::Table(i.table())))
                .collect();
            let mut joins_kept: Vec<String> = Vec::new();
            for (r, j) in model.relationships.iter().zip(&joins) {
                if tables.contains(&physical(semantic, &r.left_table))
                    || tables.contains(&physical(semantic, &r.right_table))
                {
                    let mut trial = joins_kept.clone();
                    trial.push(j.clone());
                    let t = render(semantic, &order(&kept), &trial, &[]);
                    if estimate_tokens(&t) + example_tokens <= budget {
                        joins_kept = trial;
                        text = t;
                    }
                }
            }
            let with_rules = render(semantic, &order(&kept), &joins_kept, &rules);
            if estimate_tokens(&with_rules) + example_tokens <= budget {
                text = with_rules;
            }
            (kept, text, true)
        };
    SemanticSection {
        tokens: estimate_tokens(&text) + example_tokens,
        relevant: ranked
            .iter()
            .filter(|(_, s)| *s > 0.0)
            .map(|&(i, _)| i)
            .collect(),
        items,
        text,
        verified,
        examples_text,
        pruned,
    }
}

/// Items in the model's order (stable listings for caching and reading).
fn order(items: &[Item]) -> Vec<Item> {
    let mut v = items.to_vec();
    v.sort();
    v
}

/// The tables and columns the shown items read, to favour in the schema ranking.
pub(crate) fn boost(semantic: &Semantic, section: &SemanticSection, index: &SchemaIndex) -> Boost {
    let mut boost = Boost {
        weight: 1.0,
        ..Boost::default()
    };
    for &item in section.relevant.iter().take(8) {
        let bound = &semantic.tables()[item.table()];
        let name = match &bound.schema {
            Some(s) => format!("{s}.{}", bound.name),
            None => bound.name.clone(),
        };
        let Some(t) = index.table(&name).or_else(|| index.table(&bound.name)) else {
            continue;
        };
        if !boost.tables.contains(&t) {
            boost.tables.push(t);
        }
        for c in semantic.columns(item) {
            if let Some(c) = index.column(t, c)
                && !boost.columns.contains(&(t, c))
            {
                boost.columns.push((t, c));
            }
        }
    }
    boost
}

fn strip_parameters(question: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in question.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn placeholder(kind: crate::semantic::ParameterType) -> &'static str {
    use crate::semantic::ParameterType;
    match kind {
        ParameterType::Text => "'x'",
        ParameterType::Integer => "1",
        ParameterType::Number => "1.5",
        ParameterType::Date => "'2000-01-01'",
    }
}

fn dice(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    2.0 * a.intersection(b).count() as f64 / (a.len() + b.len()) as f64
}
