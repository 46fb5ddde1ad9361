//! The built-in embedder: no model, no network, deterministic and fast.
//!
//! A question becomes a bag of hashed features over its normalized content words: each word,
//! each pair of neighbouring words, and the character trigrams of each word (so that
//! inflections and typos still overlap). Normalization folds case, accents, plurals, number
//! words and common BI paraphrases ("highest" and "most" are "top", "clients" are
//! "customers"); stop words are dropped. Features are hashed into a fixed number of dimensions
//! with a sign bit (the hashing trick) and the vector is scaled to unit length, so the cosine of
//! two vectors is their similarity.
//!
//! Its similarity is lexical: it cannot know that "revenue" and "turnover" mean the same
//! thing, and it scores "top 10 customers in 2023" close to "top 10 customers in 2024". The
//! semantic cache never relies on it alone: its slot guard checks the facts that must match.

use std::borrow::Cow;

use async_trait::async_trait;

use super::Embedder;
use crate::{
    error::Result,
    text::{self, Comparison, Sense},
};

/// Dimensions of the built-in vectors.
pub const BUILTIN_DIMS: usize = 512;

const WORD_WEIGHT: f32 = 1.0;
const PAIR_WEIGHT: f32 = 0.5;
const TRIGRAM_WEIGHT: f32 = 0.25;

/// The model-free embedder (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinEmbedder;

impl BuiltinEmbedder {
    /// The embedder.
    pub fn new() -> Self {
        Self
    }

    /// The unit vector of one text (all zeros when it has no content word).
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        let words = content_words(text);
        let mut v = vec![0.0f32; BUILTIN_DIMS];
        for (i, w) in words.iter().enumerate() {
            add(&mut v, &[b"w", w.as_bytes()], WORD_WEIGHT);
            if let Some(next) = words.get(i + 1) {
                add(
                    &mut v,
                    &[b"p", w.as_bytes(), b" ", next.as_bytes()],
                    PAIR_WEIGHT,
                );
            }
            if w.bytes().any(|b| b.is_ascii_digit()) {
                // "2023" and "2024" share no trigram: numbers are all or nothing.
                continue;
            }
            let padded: Vec<char> = std::iter::once('^')
                .chain(w.chars())
                .chain(std::iter::once('$'))
                .collect();
            let mut buf = [0u8; 12];
            for tri in padded.windows(3) {
                let mut len = 0;
                for c in tri {
                    len += c.encode_utf8(&mut buf[len..]).len();
                }
                add(&mut v, &[b"t", &buf[..len]], TRIGRAM_WEIGHT);
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

#[async_trait]
impl Embedder for BuiltinEmbedder {
    fn name(&self) -> String {
        "builtin-v1".into()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }
}

/// FNV-1a over the parts; the top bit gives the sign, the rest the dimension.
fn add(v: &mut [f32], parts: &[&[u8]], weight: f32) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
    let dim = usize::try_from(h % v.len() as u64).unwrap_or(0);
    v[dim] += sign * weight;
}

/// The tokens of a text: the rule generator's tokenizer, with hyphenated words split
/// ("best-selling" is "best selling") and numeric spans read as ranges ("2020-2023" is
/// "2020 to 2023"). ISO dates (`2024-01-31`) and hyphenated synonyms (`e-mail`) stay whole.
pub(crate) fn tokens(text: &str) -> Vec<text::Token> {
    let mut out = Vec::new();
    for t in text::tokenize(text) {
        let hyphenated = !t.quoted
            && t.number.is_none()
            && t.lower.contains('-')
            && !t.lower.starts_with('-')
            && !is_iso_date(&t.lower)
            && text::canonical(&t.lower) == t.lower;
        if !hyphenated {
            out.push(t);
            continue;
        }
        let parts: Vec<&str> = t.raw.split('-').filter(|p| !p.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            let token = text::word_token(part);
            let after_number = i > 0 && text::word_token(parts[i - 1]).number.is_some();
            if after_number && token.number.is_some() {
                out.push(text::word_token("to"));
            }
            out.push(token);
        }
    }
    out
}

/// Whether a word is an ISO date, `yyyy-mm-dd`.
pub(crate) fn is_iso_date(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// The normalized content words of a text, in order.
pub fn content_words(text: &str) -> Vec<String> {
    let toks = tokens(text);
    // Folded words borrow from the tokens: plain ASCII costs no allocation.
    let word = |i: usize| {
        toks.get(i)
            .map_or(Cow::Borrowed(""), |t| text::fold(&t.lower))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let (w, next) = (word(i), word(i + 1));
        if t.quoted {
            out.push(text::fold(&t.lower).into_owned());
            i += 1;
            continue;
        }
        if let Some((canonical, used)) = phrase(&w, &next, toks.get(i + 1).and_then(|t| t.number)) {
            out.push(canonical);
            i += used;
            if word(i) == "than" {
                i += 1;
            }
            continue;
        }
        if let Some((sense, used)) = text::phrase_at(&[&w, &next, &word(i + 2)]) {
            out.push(sense_word(sense).to_string());
            i += used;
            continue;
        }
        i += 1;
        if let Some(n) = t.number.or_else(|| extra_number(&w)) {
            out.push(number_text(n));
            continue;
        }
        if let Some(m) = text::month(&w)
            && w != "may"
        {
            out.push(format!("month-{m}"));
            continue;
        }
        if let Some(q) = w
            .strip_prefix('q')
            .and_then(|d| d.parse::<u32>().ok())
            .filter(|q| (1..=4).contains(q))
        {
            out.push(format!("quarter-{q}"));
            continue;
        }
        if w.ends_with("n't") {
            out.push("not".into());
            continue;
        }
        if text::is_stop_word(&w) || text::is_neutral_word(&w) || is_filler(&w) {
            continue;
        }
        let norm = text::fold(&t.norm);
        out.push(match paraphrase(&norm) {
            Some(p) => p.to_string(),
            None => {
                let lemma = lemma(&norm);
                paraphrase(&lemma).map_or(lemma, str::to_string)
            }
        });
    }
    out
}

/// The word standing for a comparison or order phrase of [`text::phrases`]: "more than",
/// "over" and "exceeding" are "more", "highest" and "most" are "top".
fn sense_word(sense: Sense) -> &'static str {
    match sense {
        Sense::Compare(Comparison::Gt) => "more",
        Sense::Compare(Comparison::Lt) => "less",
        Sense::Compare(Comparison::Ge) => "at-least",
        Sense::Compare(Comparison::Le) => "at-most",
        Sense::Compare(Comparison::Eq) => "equal",
        Sense::Extreme { high: true, .. } => "top",
        Sense::Extreme { high: false, .. } => "bottom",
        Sense::Direction(false) => "ascending",
        Sense::Direction(true) => "descending",
    }
}

/// Two-word phrases with one meaning, besides those of [`text::phrases`] (tried first, for
/// their longer forms): (canonical word, tokens used).
fn phrase(w: &str, next: &str, next_number: Option<f64>) -> Option<(String, usize)> {
    let canonical = match (w, next) {
        ("how", "many") | ("number", "of") => "count",
        ("how", "much") => "total",
        ("no" | "not", "less" | "fewer") | ("or", "more") => "at-least",
        ("no" | "not", "more") | ("or", "less" | "fewer") | ("up", "to") => "at-most",
        ("ascending" | "increasing" | "alphabetical", "order") => "ascending",
        ("descending" | "decreasing" | "reverse", "order") => "descending",
        (_, "quarter") => return ordinal(w).map(|q| (format!("quarter-{q}"), 2)),
        ("quarter", _) => {
            let q = next_number.filter(|n| (1.0..=4.0).contains(n) && n.fract() == 0.0)?;
            return Some((format!("quarter-{q}"), 2));
        }
        _ => return None,
    };
    Some((canonical.to_string(), 2))
}

fn ordinal(w: &str) -> Option<u32> {
    Some(match w {
        "first" | "1st" => 1,
        "second" | "2nd" => 2,
        "third" | "3rd" => 3,
        "fourth" | "4th" | "last" => 4,
        _ => return None,
    })
}

/// Words that phrase a question without changing it.
fn is_filler(w: &str) -> bool {
    matches!(
        w,
        "having" | "located" | "get" | "got" | "sort" | "sorted" | "sorting" | "please"
    )
}

/// Number words the tokenizer does not read itself.
pub(crate) fn extra_number(w: &str) -> Option<f64> {
    Some(match w {
        "zero" => 0.0,
        "eleven" => 11.0,
        "twelve" | "dozen" => 12.0,
        "thirteen" => 13.0,
        "fourteen" => 14.0,
        "fifteen" => 15.0,
        "sixteen" => 16.0,
        "seventeen" => 17.0,
        "eighteen" => 18.0,
        "nineteen" => 19.0,
        "thirty" => 30.0,
        "forty" => 40.0,
        "fifty" => 50.0,
        "sixty" => 60.0,
        "seventy" => 70.0,
        "eighty" => 80.0,
        "ninety" => 90.0,
        "hundred" => 100.0,
        "thousand" => 1000.0,
        "million" => 1_000_000.0,
        _ => return None,
    })
}

/// A number as one canonical text: `10`, `2.5`, `-3`.
pub(crate) fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Common verbs reduced to one form; other words lose a regular `-ing` or `-ed`.
pub(crate) fn lemma(w: &str) -> String {
    let irregular = match w {
        "spent" | "spend" | "spends" | "spending" => Some("spend"),
        "bought" | "buy" | "buys" | "buying" | "purchase" | "purchased" | "purchases"
        | "purchasing" => Some("buy"),
        "sold" | "sell" | "sells" | "selling" => Some("sell"),
        "paid" | "pay" | "pays" | "paying" => Some("pay"),
        "brought" | "bring" | "brings" | "bringing" => Some("bring"),
        "earned" | "earn" | "earns" | "earning" => Some("earn"),
        "hired" | "hire" | "hires" | "hiring" => Some("hire"),
        "born" => Some("birth"),
        _ => None,
    };
    if let Some(l) = irregular {
        return l.to_string();
    }
    for suffix in ["ing", "ed"] {
        if let Some(stem) = w.strip_suffix(suffix)
            && stem.chars().count() >= 4
        {
            let b = stem.as_bytes();
            let doubled = b.len() >= 2
                && b[b.len() - 1] == b[b.len() - 2]
                && !matches!(b[b.len() - 1], b'l' | b's' | b'z' | b'e' | b'o');
            return if doubled {
                stem[..stem.len() - 1].to_string()
            } else {
                stem.to_string()
            };
        }
    }
    w.to_string()
}

/// Folds words that BI questions use interchangeably.
fn paraphrase(w: &str) -> Option<&'static str> {
    Some(match w {
        "best" => "top",
        "worst" => "bottom",
        "greater" | "higher" | "larger" | "bigger" | "more" => "more",
        "fewer" | "lower" | "smaller" | "less" => "less",
        "average" | "avg" | "mean" => "average",
        "count" | "number" => "count",
        "sum" | "total" => "total",
        "previous" | "prior" | "preceding" | "past" => "last",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::cosine;

    fn sim(a: &str, b: &str) -> f32 {
        let e = BuiltinEmbedder::new();
        cosine(&e.embed_one(a), &e.embed_one(b))
    }

    #[test]
    fn vectors_are_deterministic_unit_length_and_fixed_size() {
        let e = BuiltinEmbedder::new();
        let a = e.embed_one("Top 10 customers by revenue in 2023");
        assert_eq!(a.len(), BUILTIN_DIMS);
        assert_eq!(a, e.embed_one("Top 10 customers by revenue in 2023"));
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        assert!(e.embed_one("the of and").iter().all(|x| *x == 0.0));
    }

    #[test]
    fn paraphrases_score_higher_than_unrelated_questions() {
        let paraphrase = sim(
            "Show me the top 10 customers by revenue in 2023",
            "Which are the ten customers with the highest revenue in 2023?",
        );
        let unrelated = sim(
            "Show me the top 10 customers by revenue in 2023",
            "How many tracks does each genre have?",
        );
        assert!(paraphrase > 0.85, "{paraphrase}");
        assert!(unrelated < 0.3, "{unrelated}");
        assert!(sim("revenue per country", "Revenue per countries") > 0.99);
    }

    #[test]
    fn normalization_folds_numbers_plurals_months_and_superlatives() {
        assert_eq!(
            content_words("Show me the TEN best-selling clients in Jan"),
            ["10", "top", "sell", "customer", "month-1"]
        );
        assert_eq!(content_words("twelve songs"), ["12", "track"]);
        assert_eq!(
            content_words("How many orders did we ship in the first quarter?"),
            ["count", "order", "ship", "quarter-1"]
        );
        assert_eq!(
            content_words("Sort the artists ascending"),
            ["artist", "ascending"]
        );
        assert_eq!(
            content_words("List all artists in ascending order"),
            ["artist", "ascending"]
        );
        assert_eq!(
            content_words("at least 5, no less than 5"),
            ["at-least", "5", "at-least", "5"]
        );
        assert_eq!(content_words("sales 2020-2023"), ["sales", "2020", "2023"]);
    }

    #[test]
    fn comparison_and_order_phrases_read_as_the_shared_list_says() {
        let words = |q: &str| content_words(q).join(" ");
        for (question, expected) in [
            (
                "customers with not more than 5 invoices",
                "customer at-most 5 invoice",
            ),
            (
                "customers with at most 5 invoices",
                "customer at-most 5 invoice",
            ),
            (
                "customers with no fewer than 5 invoices",
                "customer at-least 5 invoice",
            ),
            (
                "customers with more than 5 invoices",
                "customer more 5 invoice",
            ),
            ("customers with over 5 invoices", "customer more 5 invoice"),
            ("customers exceeding 5 invoices", "customer more 5 invoice"),
            ("customers with under 5 invoices", "customer less 5 invoice"),
            (
                "customers with fewer than 5 invoices",
                "customer less 5 invoice",
            ),
            (
                "customers with exactly 5 invoices",
                "customer equal 5 invoice",
            ),
            ("customers with highest sales", "customer top sales"),
            ("customers with the most invoices", "customer top invoice"),
            (
                "customers with the fewest invoices",
                "customer bottom invoice",
            ),
            ("customers sorted descending", "customer descending"),
        ] {
            assert_eq!(words(question), expected, "{question}");
        }
        assert_eq!(
            content_words("e-mail on 2024-01-31"),
            ["email", "2024-01-31"]
        );
    }

    #[tokio::test]
    async fn embeds_in_order_through_the_trait() {
        let e = BuiltinEmbedder::new();
        let out = e
            .embed(&["a question".to_string(), "another one".to_string()])
            .await
            .expect("embeds");
        assert_eq!(out.len(), 2);
        assert_eq!(out[1], e.embed_one("another one"));
        assert_eq!(e.name(), "builtin-v1");
    }
}
