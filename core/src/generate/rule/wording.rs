//! Words the grammar reads for comparisons to an aggregate ("twice the average"), ranges of
//! years ("from 2010 to 2012") and requests of whole rows ("all information about ...").

use super::{grammar::Item, linker::SchemaLexicon};
use crate::text::Token;

/// Nouns that, after "all" (and "the"), ask for every column of the rows.
const WHOLE_ROW_NOUNS: &[&str] = &[
    "information",
    "info",
    "details",
    "data",
    "columns",
    "fields",
    "attributes",
];

/// The item of one of this module's phrases starting at token `i`, with the tokens it covers.
///
/// * "all [the] information / info / details / data / columns / fields / attributes",
///   "everything", and "information" or "info" on their own when the schema has nothing so
///   named: [`Item::AllColumns`].
/// * "percentage", "percent", "proportion", "share", "fraction", when the schema has nothing so
///   named: [`Item::Share`].
/// * "from 2010 to 2012" ("through", "till", "until"): [`Item::YearRange`], the years of a date
///   column from the first to the second, both included.
/// * "twice", "thrice", "N times" followed within three words by "average" or "mean":
///   [`Item::Times`]; elsewhere these words keep their other readings.
pub fn read_at(
    tokens: &[Token],
    norms: &[&str],
    i: usize,
    lexicon: &SchemaLexicon,
) -> Option<(Item, usize)> {
    let w = |k: usize| tokens.get(k).map_or("", |t| t.lower.as_str());
    let named = |k: usize| {
        norms
            .get(k)
            .is_some_and(|n| !lexicon.lookup(&[n]).is_empty())
    };
    if w(i) == "all" {
        let skip = usize::from(w(i + 1) == "the");
        if WHOLE_ROW_NOUNS.contains(&w(i + 1 + skip)) {
            return Some((Item::AllColumns, 2 + skip));
        }
    }
    if matches!(
        w(i),
        "percentage" | "percent" | "proportion" | "share" | "fraction"
    ) && !named(i)
    {
        return Some((Item::Share, 1));
    }
    if w(i) == "everything" && !named(i) {
        return Some((Item::AllColumns, 1));
    }
    if matches!(w(i), "information" | "info") && !named(i) {
        return Some((Item::AllColumns, 1));
    }
    let year = |k: usize| {
        tokens
            .get(k)
            .and_then(|t| t.number)
            .filter(|n| n.fract() == 0.0 && (1900.0..=2100.0).contains(n))
            .map(|n| n as i32)
    };
    if w(i) == "from"
        && matches!(w(i + 2), "to" | "through" | "till" | "until" | "thru")
        && let (Some(a), Some(b)) = (year(i + 1), year(i + 3))
    {
        return Some((Item::YearRange(a, b), 4));
    }
    let before_average = |from: usize| {
        (from..from + 3)
            .take_while(|&k| k < tokens.len())
            .any(|k| matches!(w(k), "average" | "mean" | "avg"))
    };
    match w(i) {
        "twice" if before_average(i + 1) => return Some((Item::Times(2.0), 1)),
        "thrice" if before_average(i + 1) => return Some((Item::Times(3.0), 1)),
        _ => {}
    }
    if w(i + 1) == "times"
        && before_average(i + 2)
        && let Some(n) = tokens[i].number
        && n > 1.0
    {
        return Some((Item::Times(n), 2));
    }
    None
}
