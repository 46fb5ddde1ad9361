//! Verified queries answer the questions they were written for: a question that states the
//! same facts as a verified query's question (or one of its paraphrases), with a value in
//! place of each `{parameter}`, is answered by that query's SQL with the values bound.
//!
//! "The same facts" is the semantic cache's slot guard (`cache::slots`) on both texts,
//! after the model's synonyms are folded to their item's name on both sides: only stop words
//! and agreed paraphrases may differ. A parameter's words must be a value: for text, one of its
//! column's values as the asker sees them (the view's value index, or a validated probe under
//! the asker's row filters when the column is not indexed); for numbers and dates, text that
//! parses as one. Values are bound as literals by the project's quoting, and the bound
//! statement passes the asker's [`View::validate`] before it runs.

use crate::{
    access::View,
    cache::slots::{self, Vocabulary},
    dialect::Dialect,
    semantic::{ParameterType, Semantic, VerifiedQuery, verified::bind},
    sql::{ValidatedSql, quote::string_literal},
    text::{self, Token},
    values::{ValueIndex, phrase_key},
};

/// A verified query that answers a question, with its parameters bound.
#[derive(Debug, Clone)]
pub struct VerifiedMatch {
    /// The verified query.
    pub query: VerifiedQuery,
    /// The wording that matched (its question or a paraphrase).
    pub template: String,
    /// Each parameter's name and the value bound to it, as stored or parsed.
    pub values: Vec<(String, String)>,
    /// The bound statement, validated under the asker's permissions.
    pub validated: ValidatedSql,
}

impl VerifiedMatch {
    /// The answer's explanation: which verified query answered, who verified it, the values.
    pub fn explanation(&self) -> String {
        let mut out = format!("Answered by the verified query \"{}\"", self.query.question);
        match (
            self.query.verified_by.is_empty(),
            self.query.verified_at.is_empty(),
        ) {
            (false, false) => out.push_str(&format!(
                " (verified by {} on {})",
                self.query.verified_by, self.query.verified_at
            )),
            (false, true) => out.push_str(&format!(" (verified by {})", self.query.verified_by)),
            (true, false) => out.push_str(&format!(" (verified on {})", self.query.verified_at)),
            (true, true) => {}
        }
        if !self.values.is_empty() {
            let values: Vec<String> = self
                .values
                .iter()
                .map(|(n, v)| format!("{n} = {v}"))
                .collect();
            out.push_str(&format!(", with {}", values.join(", ")));
        }
        out.push('.');
        out
    }
}

/// One piece of a verified question: literal words, or a `{parameter}`.
#[derive(Debug)]
enum Part {
    Words(Vec<Token>),
    Param(String),
}

/// The first of `candidates` that answers `question` for the asker of `view` (see the module
/// documentation); `None` when none does. `candidates` are the model's verified queries and
/// any others the caller trusts alike.
pub async fn match_verified(
    question: &str,
    candidates: &[VerifiedQuery],
    view: &View,
) -> Option<VerifiedMatch> {
    if candidates.is_empty() {
        return None;
    }
    let semantic = view.semantic();
    let asked = canonical(&text::tokenize(question), semantic);
    if asked.is_empty() {
        return None;
    }
    // The value index is needed only once some wording aligns; it is built once per view.
    let mut index: Option<std::sync::Arc<ValueIndex>> = None;
    for query in candidates {
        for template in std::iter::once(&query.question).chain(&query.paraphrases) {
            let parts = parts(template, semantic);
            let Some(spans) = align(&parts, &asked) else {
                continue;
            };
            if index.is_none() {
                index = Some(view.value_index().await.unwrap_or_default());
            }
            let index = index.as_ref()?;
            let vocabulary = Vocabulary::from_catalog(view.catalog()).with_values(index.clone());
            // The question and the wording with the question's words in place of its
            // parameters must state the same facts.
            let filled = fill(&parts, &spans);
            if slots::extract(&join(&asked), &vocabulary) != slots::extract(&filled, &vocabulary) {
                continue;
            }
            let mut values = Vec::new();
            let mut ok = true;
            for (name, span) in &spans {
                let Some(p) = query.parameters.iter().find(|p| &p.name == name) else {
                    ok = false;
                    break;
                };
                let raw = raw_text(span);
                let quoted = span.iter().any(|t| t.quoted);
                match parameter_value(view, index, p.kind, p.column.as_deref(), &raw, quoted).await
                {
                    Some(v) => values.push((name.clone(), v)),
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                continue;
            }
            let dialect = view.catalog().dialect;
            let Some(validated) = bind_verified(view, dialect, query, &values) else {
                continue;
            };
            return Some(VerifiedMatch {
                query: query.clone(),
                template: template.clone(),
                values,
                validated,
            });
        }
    }
    None
}

/// `query`'s SQL with each parameter bound to its value (text and dates as string literals of
/// the dialect, numbers as written once parsed), validated under the asker's permissions;
/// `None` when a value is missing or of the wrong type, or the validator refuses the statement.
pub fn bind_verified(
    view: &View,
    dialect: Dialect,
    query: &VerifiedQuery,
    values: &[(String, String)],
) -> Option<ValidatedSql> {
    let sql = bind(dialect, &query.sql, |name| {
        let p = query.parameters.iter().find(|p| p.name == name)?;
        let (_, value) = values.iter().find(|(n, _)| n == name)?;
        literal(dialect, p.kind, value)
    })?;
    view.validate(&sql).ok()
}

/// The SQL literal of one parameter value: quoted text, or a number that parsed as one.
fn literal(dialect: Dialect, kind: ParameterType, value: &str) -> Option<String> {
    if value.contains('\0') {
        // No dialect can write a NUL in a literal.
        return None;
    }
    match kind {
        ParameterType::Text | ParameterType::Date => Some(string_literal(dialect, value)),
        ParameterType::Integer => value.parse::<i64>().ok().map(|n| n.to_string()),
        ParameterType::Number => value
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|n| n.to_string()),
    }
}

/// The value of a parameter from the words of its span, or `None` when they are not one.
async fn parameter_value(
    view: &View,
    index: &ValueIndex,
    kind: ParameterType,
    column: Option<&str>,
    raw: &str,
    quoted: bool,
) -> Option<String> {
    match kind {
        ParameterType::Integer => {
            let n: f64 = raw.replace(',', "").parse().ok()?;
            (n.fract() == 0.0 && n.abs() < 1e15).then(|| (n as i64).to_string())
        }
        ParameterType::Number => {
            let n: f64 = raw.replace(',', "").parse().ok()?;
            n.is_finite().then(|| raw.replace(',', ""))
        }
        ParameterType::Date => {
            let ok = (raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_digit()))
                || chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").is_ok();
            ok.then(|| raw.to_string())
        }
        ParameterType::Text => {
            let (table, col) = column?.rsplit_once('.')?;
            let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
            let hit = index
                .lookup(&phrase_key(raw))
                .iter()
                .find(|h| same(&h.column.table, table) && same(&h.column.column, col))
                // A quoted value is taken as written: its punctuation counts.
                .filter(|h| !quoted || folded(&h.value) == folded(raw));
            if let Some(h) = hit {
                return Some(h.value.clone());
            }
            let indexed = index
                .hits()
                .any(|h| same(&h.column.table, table) && same(&h.column.column, col));
            if indexed {
                return None;
            }
            // Not indexed (too many values): one probe under the asker's permissions.
            if raw.contains('\0') {
                return None;
            }
            let dialect = view.catalog().dialect;
            let probe = format!(
                "SELECT 1 FROM {} WHERE {} = {} LIMIT 1",
                dialect.quote_identifier(table),
                dialect.quote_identifier(col),
                string_literal(dialect, raw)
            );
            let (_, result) = view.run(&probe).await.ok()?;
            (!result.rows.is_empty()).then(|| raw.to_string())
        }
    }
}

/// Lower case without accents.
fn folded(t: &str) -> String {
    text::fold_string(t.trim().to_lowercase())
}

/// A wording split into literal words (model synonyms folded) and parameters.
fn parts(template: &str, semantic: Option<&Semantic>) -> Vec<Part> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push(Part::Words(canonical(
            &text::tokenize(&rest[..open]),
            semantic,
        )));
        out.push(Part::Param(rest[open + 1..open + close].trim().to_string()));
        rest = &rest[open + close + 1..];
    }
    out.push(Part::Words(canonical(&text::tokenize(rest), semantic)));
    out
}

/// Tokens with every model phrase replaced by the words of its item's name, so that synonyms
/// read alike ("sales" is "revenue").
fn canonical(tokens: &[Token], semantic: Option<&Semantic>) -> Vec<Token> {
    let Some(semantic) = semantic else {
        return tokens.to_vec();
    };
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    for m in semantic.find(tokens) {
        out.extend_from_slice(&tokens[i..m.start]);
        let mut names: Vec<&str> = m.items.iter().map(|&it| semantic.name(it)).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() == 1 {
            out.extend(text::tokenize(names[0]));
        } else {
            out.extend_from_slice(&tokens[m.start..m.end]);
        }
        i = m.end;
    }
    out.extend_from_slice(&tokens[i..]);
    out
}

fn content(t: &Token) -> bool {
    t.quoted || !text::is_stop_word(&t.lower)
}

/// The question's words that stand for each parameter: literal content words are matched in
/// order, and a parameter takes the words between its neighbours, without stop words at its
/// edges. `None` when a literal word is missing or a parameter's words are empty.
fn align(parts: &[Part], asked: &[Token]) -> Option<Vec<(String, Vec<Token>)>> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut pending: Option<&str> = None;
    for part in parts {
        match part {
            Part::Param(name) => pending = Some(name),
            Part::Words(words) => {
                let mut first = None;
                for w in words.iter().filter(|t| content(t)) {
                    let from = first.map_or(at, |(_, end)| end);
                    let from = if pending.is_some() && first.is_none() {
                        // A parameter takes at least one word.
                        at + 1
                    } else {
                        from
                    };
                    let found = (from..asked.len()).find(|&k| asked[k].norm == w.norm)?;
                    if first.is_none() {
                        first = Some((found, found + 1));
                    } else if let Some((s, _)) = first {
                        first = Some((s, found + 1));
                    }
                }
                if let Some(name) = pending.take() {
                    let end = first.map_or(asked.len(), |(s, _)| s);
                    out.push((name.to_string(), trim(&asked[at.min(end)..end])?));
                }
                if let Some((_, end)) = first {
                    at = end;
                }
            }
        }
    }
    Some(out)
}

/// A span without stop words at its edges; `None` when nothing is left.
fn trim(span: &[Token]) -> Option<Vec<Token>> {
    let start = span.iter().position(content)?;
    let end = span.iter().rposition(content)? + 1;
    Some(span[start..end].to_vec())
}

fn raw_text(span: &[Token]) -> String {
    span.iter()
        .map(|t| t.raw.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn join(tokens: &[Token]) -> String {
    raw_text(tokens)
}

/// The wording with the question's words in place of its parameters.
fn fill(parts: &[Part], spans: &[(String, Vec<Token>)]) -> String {
    let mut out: Vec<String> = Vec::new();
    for part in parts {
        match part {
            Part::Words(w) => out.push(join(w)),
            Part::Param(name) => {
                if let Some((_, span)) = spans.iter().find(|(n, _)| n == name) {
                    out.push(raw_text(span));
                }
            }
        }
    }
    out.retain(|s| !s.is_empty());
    out.join(" ")
}
