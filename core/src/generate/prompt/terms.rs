//! Words for ranking: the content words of a question and the words of schema names, in three
//! forms each, and how closely two words match.
//!
//! A word is kept as written (lower case, singular), in canonical form (BI synonyms folded:
//! "clients" and "customers" are one word) and as a light stem (common suffixes cut, so that
//! "shipped", "shipping" and "shipment" meet in "ship"). Schema names glue words together
//! (`l_shipdate`, `c_mktsegment`, `retailprice`), so a word that begins or ends a longer word
//! also matches it, more weakly.

use crate::text;

/// One word in its three forms.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    /// Lower case, singular.
    pub raw: String,
    /// Singular with synonyms folded.
    pub norm: String,
    /// The light stem of `raw`.
    pub stem: String,
}

impl Word {
    /// The forms of a lower-case word.
    pub(crate) fn new(lower: &str) -> Self {
        let raw = text::singular(lower);
        let norm = text::canonical(&raw).to_string();
        let stem = stem(&raw);
        Self { raw, norm, stem }
    }
}

/// A content word of a question, with its weight.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Term {
    /// The word.
    pub word: Word,
    /// How much it counts (1 for a word of the question, less for earlier turns and for words
    /// that only shape the query, such as "total" or "top").
    pub weight: f64,
}

/// Words that shape a query (aggregates, rankings) more than they name data.
fn is_query_word(w: &str) -> bool {
    matches!(
        w,
        "total"
            | "number"
            | "count"
            | "average"
            | "avg"
            | "sum"
            | "maximum"
            | "minimum"
            | "max"
            | "min"
            | "most"
            | "least"
            | "highest"
            | "lowest"
            | "top"
            | "bottom"
            | "largest"
            | "smallest"
            | "biggest"
            | "greatest"
            | "fewest"
            | "more"
            | "less"
            | "greater"
            | "different"
            | "distinct"
            | "descending"
            | "ascending"
            | "order"
            | "sorted"
            | "name"
    )
}

/// Whether `text` asks about time: a year (1900–2100), a month, or a word such as "year",
/// "monthly", "when", "since".
pub(crate) fn mentions_time(text: &str) -> bool {
    text::tokenize(text).iter().any(|t| match t.number {
        Some(n) => n.fract() == 0.0 && (1900.0..=2100.0).contains(&n),
        None => is_time_term(&Word::new(&t.lower)),
    })
}

/// The content words of `text`, each with `weight` (query-shaping words count less). Stop
/// words, numbers and one-letter words are left out.
pub(crate) fn terms(text: &str, weight: f64) -> Vec<Term> {
    let mut out: Vec<Term> = Vec::new();
    for token in text::tokenize(text) {
        if token.number.is_some() {
            continue;
        }
        // A quoted literal is a value, not a word of the schema; its words still count.
        for lower in token.lower.split(|c: char| !c.is_alphanumeric()) {
            let lower = text::fold(lower);
            if lower.chars().count() < 2
                || text::is_stop_word(&lower)
                || lower.chars().all(|c| c.is_ascii_digit())
            {
                continue;
            }
            let w = if is_query_word(&lower) {
                weight * 0.3
            } else {
                weight
            };
            let word = Word::new(&lower);
            match out.iter_mut().find(|t| t.word == word) {
                Some(t) => t.weight = t.weight.max(w),
                None => out.push(Term { word, weight: w }),
            }
        }
    }
    out
}

/// The words an abbreviation common in column names stands for (`fname` is "first name").
fn expand(word: &str) -> &[&str] {
    match word {
        "fname" => &["first", "name"],
        "lname" => &["last", "name"],
        "mname" => &["middle", "name"],
        "dob" => &["date", "birth"],
        "desc" | "descr" => &["description"],
        "dt" => &["date"],
        "yr" => &["year"],
        "mgr" => &["manager"],
        "no" | "nbr" | "nr" => &["number"],
        "cnt" => &["count"],
        "pct" => &["percent"],
        "loc" => &["location"],
        "org" => &["organisation"],
        "info" => &["information"],
        "tot" => &["total"],
        _ => &[],
    }
}

/// The words of a schema identifier (`BillingCountry`, `billing_country`), one-letter prefixes
/// such as TPC-H's `l_` left out and common abbreviations spelled out.
pub(crate) fn identifier_words(ident: &str) -> Vec<Word> {
    let mut out = Vec::new();
    for w in text::identifier_words(ident) {
        let w = text::fold(&w);
        match expand(&w) {
            [] if w.chars().count() > 1 => out.push(Word::new(&w)),
            [] => {}
            full => out.extend(full.iter().map(|f| Word::new(f))),
        }
    }
    out
}

/// The content words of free text (comments, values).
pub(crate) fn text_words(text: &str) -> Vec<Word> {
    terms(text, 1.0).into_iter().map(|t| t.word).collect()
}

/// The base form of a common irregular past tense ("taught" → "teach").
fn irregular(word: &str) -> Option<&'static str> {
    Some(match word {
        "taught" => "teach",
        "took" | "taken" => "take",
        "bought" => "buy",
        "sold" => "sell",
        "won" => "win",
        "lost" => "lose",
        "wrote" | "written" => "write",
        "led" => "lead",
        "made" => "make",
        "paid" => "pay",
        "ran" => "run",
        "held" => "hold",
        "gave" | "given" => "give",
        "built" => "build",
        "spent" => "spend",
        "sent" => "send",
        "drove" | "driven" => "drive",
        "flew" | "flown" => "fly",
        "born" => "birth",
        "began" | "begun" => "begin",
        "chose" | "chosen" => "choose",
        "sang" | "sung" => "sing",
        "met" => "meet",
        "left" => "leave",
        "kept" => "keep",
        "found" => "find",
        "brought" => "bring",
        "caught" => "catch",
        "thought" => "think",
        "told" => "tell",
        "won't" => "will",
        _ => return None,
    })
}

/// Question words and the schema words they point to when neither spells the other.
const CONCEPTS: &[(&[&str], &[&str])] = &[
    (
        &[
            "female", "male", "woman", "man", "girl", "boy", "gender", "sex",
        ],
        &["sex", "gender"],
    ),
    (
        &[
            "old", "older", "oldest", "young", "younger", "youngest", "aged", "age",
        ],
        &["age", "birth", "birthday", "born"],
    ),
    (
        &[
            "earn", "earns", "earned", "earning", "salary", "wage", "paid", "pay",
        ],
        &["salary", "wage", "pay", "income", "compensation"],
    ),
    (
        &["long", "longer", "longest", "short", "shorter", "shortest"],
        &["length", "duration", "minute", "second"],
    ),
    (
        &[
            "big", "bigger", "biggest", "large", "larger", "largest", "small", "smaller",
            "smallest",
        ],
        &["size", "capacity", "area", "population"],
    ),
    (&["tall", "taller", "tallest", "height"], &["height"]),
    (
        &[
            "heavy", "heavier", "heaviest", "light", "lighter", "lightest", "weigh",
        ],
        &["weight"],
    ),
    (
        &["expensive", "cheap", "cheaper", "cheapest", "costly"],
        &["price", "cost", "amount", "total", "fee"],
    ),
    (
        &["where", "located", "location", "live", "lives", "based"],
        &["address", "city", "location", "country", "state"],
    ),
];

/// Whether a question word and a schema word are of one concept group ("female" and `sex`).
fn same_concept(term: &Word, word: &Word) -> bool {
    CONCEPTS.iter().any(|(asked, named)| {
        (asked.contains(&term.raw.as_str()) || asked.contains(&term.norm.as_str()))
            && (named.contains(&word.raw.as_str()) || named.contains(&word.norm.as_str()))
    })
}

/// A light English stem: common inflection and derivation suffixes cut, a doubled final
/// consonant and a final `e` dropped.
pub(crate) fn stem(word: &str) -> String {
    if let Some(base) = irregular(word) {
        return stem(base);
    }
    let mut w = word.to_string();
    for suffix in [
        "ations", "ation", "ments", "ment", "ings", "ing", "ers", "er", "ed", "ly", "ity",
    ] {
        if let Some(s) = w.strip_suffix(suffix)
            && s.chars().count() >= 3
        {
            w = s.to_string();
            break;
        }
    }
    let chars: Vec<char> = w.chars().collect();
    let n = chars.len();
    let doubled = n >= 4 && chars[n - 1] == chars[n - 2] && !"aeiouls".contains(chars[n - 1]);
    if doubled || (n >= 4 && chars[n - 1] == 'e') {
        w.pop();
    }
    w
}

/// Whether a question word speaks of money coming in or going out ("revenue", "spent").
fn is_money_term(w: &Word) -> bool {
    text::is_money_noun(&w.norm)
        || text::is_money_verb(&w.raw)
        || matches!(w.raw.as_str(), "paid" | "price" | "cost" | "amount" | "fee")
}

/// Whether a schema word names an amount of money (`Total`, `UnitPrice`, `l_extendedprice`).
fn is_money_word(w: &Word) -> bool {
    [
        "price", "amount", "cost", "total", "revenue", "sales", "fee", "payment", "charge",
    ]
    .iter()
    .any(|m| w.raw == *m || (w.raw.len() > m.len() + 2 && w.raw.ends_with(m)))
}

/// Whether a question word asks about time: dates, periods, recency.
pub(crate) fn is_time_term(w: &Word) -> bool {
    text::month(&w.raw).is_some()
        || matches!(
            w.raw.as_str(),
            "year"
                | "yearly"
                | "annual"
                | "month"
                | "monthly"
                | "week"
                | "weekly"
                | "day"
                | "daily"
                | "date"
                | "when"
                | "recent"
                | "latest"
                | "earliest"
                | "newest"
                | "oldest"
                | "since"
                | "before"
                | "after"
                | "during"
                | "quarter"
        )
}

/// How well a question word matches a schema word, from 0 (not at all) to 1 (the same word).
/// Words sharing a long beginning, words of money ("revenue", "spent") and names of amounts
/// (`price`, `total`), and words of one concept group ("female" and `sex`) match at 0.5.
pub(crate) fn word_match(term: &Word, word: &Word) -> f64 {
    if term.norm == word.norm || term.raw == word.raw {
        return 1.0;
    }
    if term.stem == word.stem && term.stem.chars().count() >= 3 {
        return 0.9;
    }
    // Glued words: "ship" in "shipdate", "segment" in "mktsegment", "nation" in "nationkey".
    let contains = |long: &str, short: &str| {
        short.chars().count() >= 4
            && long.chars().count() > short.chars().count()
            && (long.starts_with(short) || long.ends_with(short))
    };
    if contains(&word.raw, &term.stem)
        || contains(&word.raw, &term.raw)
        || contains(&term.raw, &word.raw)
        || contains(&word.norm, &term.norm)
    {
        return 0.6;
    }
    // Long shared beginnings: "described" and "description", "organisation" and "organization".
    let common = term
        .raw
        .chars()
        .zip(word.raw.chars())
        .take_while(|(a, b)| a == b)
        .count();
    if common >= 6 {
        return 0.5;
    }
    if (is_money_term(term) && is_money_word(word)) || same_concept(term, word) {
        return 0.5;
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(a: &str, b: &str) -> f64 {
        word_match(&Word::new(a), &Word::new(b))
    }

    #[test]
    fn stems_meet_across_inflections() {
        assert_eq!(stem("shipped"), "ship");
        assert_eq!(stem("shipping"), "ship");
        assert_eq!(stem("shipment"), "ship");
        assert_eq!(stem("rated"), stem("rate"));
        assert_eq!(stem("nationality"), "national");
        assert_eq!(stem("order"), "ord");
    }

    #[test]
    fn matches_are_graded() {
        assert_eq!(m("customers", "customer"), 1.0);
        assert_eq!(m("clients", "customer"), 1.0, "synonyms fold");
        assert_eq!(m("shipped", "shipping"), 0.9);
        assert_eq!(m("segment", "mktsegment"), 0.6);
        assert_eq!(m("shipped", "shipdate"), 0.6);
        assert_eq!(m("nationality", "nation"), 0.6);
        assert_eq!(m("age", "agent"), 0.0, "short words must match whole");
        assert_eq!(m("film", "actor"), 0.0);
        assert_eq!(m("revenue", "extendedprice"), 0.5);
        assert_eq!(m("spent", "total"), 0.5);
        assert_eq!(m("revenue", "rental"), 0.0);
        assert_eq!(m("female", "sex"), 0.5);
        assert_eq!(m("older", "age"), 0.5);
        assert_eq!(m("described", "description"), 0.5);
        assert_eq!(m("taught", "teaches"), 0.9);
    }

    #[test]
    fn question_terms_drop_stop_words_and_numbers_and_weigh_query_words_less() {
        let t = terms("What is the total number of orders shipped in 1995?", 1.0);
        let words: Vec<(&str, f64)> = t.iter().map(|t| (t.word.raw.as_str(), t.weight)).collect();
        assert_eq!(
            words,
            [
                ("total", 0.3),
                ("number", 0.3),
                ("order", 1.0),
                ("shipped", 1.0)
            ]
        );
    }

    #[test]
    fn identifiers_split_and_lose_one_letter_prefixes() {
        let w: Vec<String> = identifier_words("l_shipDate")
            .into_iter()
            .map(|w| w.raw)
            .collect();
        assert_eq!(w, ["ship", "date"]);
        let w: Vec<String> = identifier_words("c_mktsegment")
            .into_iter()
            .map(|w| w.raw)
            .collect();
        assert_eq!(w, ["mktsegment"]);
        let w: Vec<String> = identifier_words("EMP_FNAME")
            .into_iter()
            .map(|w| w.norm)
            .collect();
        assert_eq!(w, ["employee", "first", "name"]);
    }
}
