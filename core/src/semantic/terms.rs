//! The phrases of a model ("revenue", "active customers", "invoice date") and the items they
//! name, found in a question by longest match over its normalized words.

use std::collections::HashMap;

use super::{Item, model::SemanticModel};
use crate::text::{Token, tokenize};

/// One phrase of the model found in a question.
#[derive(Debug, Clone, PartialEq)]
pub struct TermMatch {
    /// The items the phrase names (two or more: the phrase is ambiguous).
    pub items: Vec<Item>,
    /// The first word of the phrase, as an index into the question's tokens.
    pub start: usize,
    /// One past its last word.
    pub end: usize,
    /// The phrase as the model wrote it (the item's name or the synonym that matched).
    pub phrase: String,
}

/// The phrase index.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    /// Normalized words of a phrase, joined by spaces → (the phrase as written, its items).
    phrases: HashMap<String, (String, Vec<Item>)>,
    /// The longest phrase, in words.
    longest: usize,
}

/// The normalized words of a phrase, as the question's tokens read them.
pub fn phrase_norms(phrase: &str) -> Vec<String> {
    tokenize(phrase).into_iter().map(|t| t.norm).collect()
}

impl Terms {
    /// The phrases of every item of `model`: names and synonyms.
    pub fn build(model: &SemanticModel) -> Self {
        let mut terms = Terms::default();
        for (ti, t) in model.tables.iter().enumerate() {
            terms.add(&t.name, Item::Table(ti));
            for s in &t.synonyms {
                terms.add(s, Item::Table(ti));
            }
            for (i, d) in t.dimensions.iter().enumerate() {
                terms.add_all(&d.name, &d.synonyms, Item::Dimension(ti, i));
            }
            for (i, d) in t.time_dimensions.iter().enumerate() {
                terms.add_all(&d.name, &d.synonyms, Item::TimeDimension(ti, i));
            }
            for (i, m) in t.measures.iter().enumerate() {
                terms.add_all(&m.name, &m.synonyms, Item::Measure(ti, i));
            }
            for (i, f) in t.filters.iter().enumerate() {
                terms.add_all(&f.name, &f.synonyms, Item::Filter(ti, i));
            }
        }
        terms
    }

    fn add_all(&mut self, name: &str, synonyms: &[String], item: Item) {
        self.add(name, item);
        for s in synonyms {
            self.add(s, item);
        }
    }

    fn add(&mut self, phrase: &str, item: Item) {
        let norms = phrase_norms(phrase);
        if norms.is_empty() {
            return;
        }
        self.longest = self.longest.max(norms.len());
        let entry = self
            .phrases
            .entry(norms.join(" "))
            .or_insert_with(|| (phrase.trim().to_string(), Vec::new()));
        if !entry.1.contains(&item) {
            entry.1.push(item);
        }
    }

    /// Whether the index has no phrase.
    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// The items `phrase` names exactly (after normalization).
    pub fn lookup(&self, phrase: &str) -> &[Item] {
        self.phrases
            .get(&phrase_norms(phrase).join(" "))
            .map_or(&[], |(_, items)| items.as_slice())
    }

    /// The model's phrases in `tokens`, longest first at each position, not overlapping, in
    /// order. Quoted literals never match (they are values).
    pub fn find(&self, tokens: &[Token]) -> Vec<TermMatch> {
        let mut out = Vec::new();
        let mut key = String::new();
        let mut i = 0;
        while i < tokens.len() {
            let mut hit = None;
            let max = self.longest.min(tokens.len() - i);
            for len in (1..=max).rev() {
                let span = &tokens[i..i + len];
                if span.iter().any(|t| t.quoted) {
                    continue;
                }
                key.clear();
                for (k, t) in span.iter().enumerate() {
                    if k > 0 {
                        key.push(' ');
                    }
                    key.push_str(&t.norm);
                }
                if let Some((phrase, items)) = self.phrases.get(key.as_str()) {
                    hit = Some(TermMatch {
                        items: items.clone(),
                        start: i,
                        end: i + len,
                        phrase: phrase.clone(),
                    });
                    break;
                }
            }
            match hit {
                Some(m) => {
                    i = m.end;
                    out.push(m);
                }
                None => i += 1,
            }
        }
        out
    }

    /// The model's phrases in `question` (tokenized as the generators read it).
    pub fn find_in(&self, question: &str) -> Vec<TermMatch> {
        self.find(&tokenize(question))
    }

    /// Every phrase with its items (for the cache's synonym folding and for prompts).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Item])> {
        self.phrases
            .values()
            .map(|(p, items)| (p.as_str(), items.as_slice()))
    }

    /// Every phrase's normalized key with its items.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &[Item])> {
        self.phrases
            .iter()
            .map(|(k, (_, items))| (k.as_str(), items.as_slice()))
    }
}
