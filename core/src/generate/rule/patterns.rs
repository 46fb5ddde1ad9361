//! The grammar of text patterns and negations.
//!
//! A pattern is a verb of containment or position, an optional marker ("the letter", "the
//! word", "the substring"), then the text: "containing 'gmail.com'", "whose name starts with
//! the letter A", "ending with 'son'", "with the word love in its title", "has 'Led'". The
//! text is a quoted literal, or one word after a marker, after "starts/ends with", or after
//! "contains" when it is no known value; an unquoted word that names a table or column is
//! never read as a pattern ("playlists containing tracks" is about related rows, which the
//! rules do not read as text).
//!
//! Negations ("not", "no", "without", "never", "except", "excluding", "neither", "nor",
//! "don't") are read as [`Item::Not`] for the planner to place on a value, a pattern or a
//! related table; one it cannot place makes the rules abstain.

use super::{grammar::Item, ir::LikeKind, linker::SchemaLexicon};
use crate::{
    text::{self, Token},
    values::{ValueIndex, phrase_key},
};

/// Words that say what kind of text follows ("the letter a", "the substring 'ee'").
const MARKERS: &[&str] = &[
    "letter",
    "letters",
    "word",
    "words",
    "substring",
    "string",
    "phrase",
    "text",
    "character",
    "characters",
    "term",
    "prefix",
    "suffix",
];

/// Whether `w` is a negation the planner places (others still make the rules abstain).
pub fn is_placed_negation(w: &str) -> bool {
    matches!(
        w,
        "not" | "no" | "without" | "never" | "except" | "excluding" | "neither" | "nor"
    ) || w.ends_with("n't")
}

/// The pattern that starts at token `i`, and how many tokens it covers.
pub fn read_pattern(
    tokens: &[Token],
    i: usize,
    lexicon: &SchemaLexicon,
    values: &ValueIndex,
) -> Option<(Item, usize)> {
    let w = |j: usize| {
        tokens
            .get(i + j)
            .filter(|t| !t.quoted)
            .map_or("", |t| t.lower.as_str())
    };
    // (kind, words of the verb, whether the text needs a marker or quotes)
    let (kind, mut n, loose) = match (w(0), w(1)) {
        (
            "contain" | "contains" | "containing" | "contained" | "includes" | "including"
            | "included",
            _,
        ) => (LikeKind::Contains, 1, false),
        ("start" | "starts" | "starting" | "begin" | "begins" | "beginning", "with") => {
            (LikeKind::StartsWith, 2, true)
        }
        ("end" | "ends" | "ending", "with") => (LikeKind::EndsWith, 2, true),
        ("end" | "ends" | "ending", "in") => (LikeKind::EndsWith, 2, false),
        ("has" | "have" | "having" | "with", _) => (LikeKind::Contains, 1, false),
        _ => return None,
    };
    let holder = matches!(w(0), "has" | "have" | "having" | "with");
    let mut marker = false;
    if matches!(w(n), "the" | "a" | "an") && MARKERS.contains(&w(n + 1)) {
        n += 1;
    }
    if MARKERS.contains(&w(n)) {
        marker = true;
        n += 1;
    }
    let t = tokens.get(i + n)?;
    // "starts with A": one capital letter or digit is the text, not the article.
    let letter = loose
        && t.raw.chars().count() == 1
        && t.raw
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    let text = if t.quoted || letter {
        t.raw.clone()
    } else {
        // "contains gmail": a plain word that is no known value ("containing Metallica" may
        // be about related rows).
        let loose = loose
            || (kind == LikeKind::Contains
                && !holder
                && values.lookup(&phrase_key(&t.raw)).is_empty());
        let plain = !t.lower.is_empty()
            && (marker || loose)
            && (marker || !text::is_stop_word(&t.lower))
            && lexicon.lookup(&[t.norm.as_str()]).is_empty()
            && !text::is_query_word(&t.lower);
        if !plain {
            return None;
        }
        // "the letter ‘a’": typographic quotes the tokenizer left on the word.
        t.raw
            .trim_matches(|c| matches!(c, '‘' | '’' | '\'' | '"' | '“' | '”'))
            .to_string()
    };
    if text.is_empty() || text.contains('\0') {
        return None;
    }
    n += 1;
    // "in it", "in its name", "in their titles".
    let mut after = false;
    let mut in_it = false;
    if w(n) == "in" {
        match w(n + 1) {
            "it" | "them" => {
                n += 2;
                in_it = true;
            }
            "its" | "their" | "the" => {
                n += 2;
                after = true;
            }
            _ => {}
        }
    }
    // "has 'Yes' value", "with 'VIP'" are too loose; "with 'x' in its name" is not.
    if holder && !marker && !(t.quoted && (after || in_it)) {
        return None;
    }
    let holders = if kind == LikeKind::Contains && !marker && !after {
        values
            .lookup(&phrase_key(&text))
            .iter()
            .map(|h| h.column.clone())
            .collect()
    } else {
        Vec::new()
    };
    Some((Item::Pattern(kind, text, after, holders), n))
}
