//! The vocabularies of the slot guard: which words and phrases state a fact that two
//! questions must share, and the canonical form of each.

use super::Mark;
pub(super) use crate::embed::builtin::lemma;
use crate::text::{self, Comparison, Sense};

/// The guard's own fixed phrases, tried longest first at each position: (words, mark). The
/// comparison and order phrases the rule grammar reads too are not here but in
/// [`crate::text::phrases`] (see [`shared_mark`]); those here are the guard's alone
/// ("or more", "up to", "most recent first"), and are tried before them.
pub(super) const PHRASES: &[(&[&str], Mark)] = &[
    (
        &["reverse", "chronological", "order"],
        Mark::Order("newest"),
    ),
    (&["reverse", "chronological"], Mark::Order("newest")),
    (&["ascending", "order"], Mark::Order("asc")),
    (&["increasing", "order"], Mark::Order("asc")),
    (&["alphabetical", "order"], Mark::Order("asc")),
    (&["descending", "order"], Mark::Order("desc")),
    (&["decreasing", "order"], Mark::Order("desc")),
    (&["reverse", "order"], Mark::Order("desc")),
    (&["chronological", "order"], Mark::Order("oldest")),
    (&["sorted", "by"], Mark::Order("by")),
    (&["sort", "by"], Mark::Order("by")),
    (&["ordered", "by"], Mark::Order("by")),
    (&["order", "by"], Mark::Order("by")),
    (&["ranked", "by"], Mark::Order("by")),
    (&["most", "recent", "first"], Mark::Order("newest")),
    (&["as", "well", "as"], Mark::Filter("include")),
    (&["year", "to", "date"], Mark::Relative("to-date:year")),
    (&["month", "to", "date"], Mark::Relative("to-date:month")),
    (
        &["quarter", "to", "date"],
        Mark::Relative("to-date:quarter"),
    ),
    (&["a", "to", "z"], Mark::Order("asc")),
    (&["z", "to", "a"], Mark::Order("desc")),
    (&["total", "number", "of"], Mark::Agg("count")),
    (&["how", "many"], Mark::Agg("count")),
    (&["how", "much"], Mark::Agg("sum")),
    (&["number", "of"], Mark::Agg("count")),
    (&["total", "count"], Mark::Agg("count")),
    (&["in", "total"], Mark::Agg("sum")),
    (&["up", "to"], Mark::Cmp("le")),
    (&["or", "more"], Mark::PostCmp("ge")),
    (&["or", "above"], Mark::PostCmp("ge")),
    (&["or", "higher"], Mark::PostCmp("ge")),
    (&["or", "less"], Mark::PostCmp("le")),
    (&["or", "fewer"], Mark::PostCmp("le")),
    (&["or", "below"], Mark::PostCmp("le")),
    (&["or", "lower"], Mark::PostCmp("le")),
    (&["prior", "to"], Mark::Cmp("before")),
    (&["earlier", "than"], Mark::Cmp("before")),
    (&["later", "than"], Mark::Cmp("after")),
    (&["other", "than"], Mark::Filter("exclude")),
    (&["apart", "from"], Mark::Filter("exclude")),
    (&["aside", "from"], Mark::Filter("exclude")),
    (&["but", "not"], Mark::Filter("exclude")),
    (&["most", "recent"], Mark::Order("newest")),
    (&["lowest", "first"], Mark::Order("asc")),
    (&["smallest", "first"], Mark::Order("asc")),
    (&["least", "first"], Mark::Order("asc")),
    (&["cheapest", "first"], Mark::Order("asc")),
    (&["highest", "first"], Mark::Order("desc")),
    (&["largest", "first"], Mark::Order("desc")),
    (&["biggest", "first"], Mark::Order("desc")),
    (&["most", "first"], Mark::Order("desc")),
    (&["oldest", "first"], Mark::Order("oldest")),
    (&["earliest", "first"], Mark::Order("oldest")),
    (&["newest", "first"], Mark::Order("newest")),
    (&["latest", "first"], Mark::Order("newest")),
    (&["all", "time"], Mark::Relative("all-time")),
    (&["so", "far"], Mark::Relative("to-date")),
    (&["for", "each"], Mark::Modifier("group")),
    (&["for", "every"], Mark::Modifier("group")),
    (&["in", "each"], Mark::Modifier("group")),
    (&["broken", "down"], Mark::Modifier("group")),
    (&["break", "down"], Mark::Modifier("group")),
    (&["grouped", "by"], Mark::Modifier("group")),
    (&["compared", "to"], Mark::Modifier("compare")),
    (&["compared", "with"], Mark::Modifier("compare")),
];

/// The mark of the comparison or order phrase of [`crate::text::phrases`] that `words` start
/// with, and how many words it covers: the guard and the rule grammar read these alike.
pub(super) fn shared_mark(words: &[&str]) -> Option<(Mark, usize)> {
    let (sense, n) = text::phrase_at(words)?;
    let mark = match sense {
        Sense::Compare(c) => Mark::Cmp(match c {
            Comparison::Gt => "gt",
            Comparison::Ge => "ge",
            Comparison::Lt => "lt",
            Comparison::Le => "le",
            Comparison::Eq => "eq",
        }),
        Sense::Extreme { high, .. } => Mark::Rank(if high { "most" } else { "least" }),
        Sense::Direction(descending) => Mark::Order(if descending { "desc" } else { "asc" }),
    };
    Some((mark, n))
}

/// The mark of a single word, when it states a fact. Bare comparatives ("more", "fewer") are
/// comparisons here, where "than" is a stop word; the rule grammar reads them only in the
/// phrases of [`crate::text::phrases`].
pub(super) fn word_mark(w: &str) -> Option<Mark> {
    if w.ends_with("n't") || w == "cannot" {
        return Some(Mark::Filter("exclude"));
    }
    let mark = match w {
        "more" | "greater" | "higher" | "larger" | "bigger" => Mark::Cmp("gt"),
        "less" | "fewer" | "lower" | "smaller" => Mark::Cmp("lt"),
        "equal" | "equaling" => Mark::Cmp("eq"),
        "before" | "earlier" => Mark::Cmp("before"),
        "after" | "later" => Mark::Cmp("after"),
        "since" => Mark::Cmp("since"),
        "until" | "till" | "through" | "thru" => Mark::Link("until"),
        "between" => Mark::Between,
        "and" => Mark::And,
        "top" => Mark::Rank("top"),
        "bottom" => Mark::Rank("bottom"),
        "best" => Mark::Rank("best"),
        "worst" => Mark::Rank("worst"),
        "first" => Mark::Rank("first"),
        "last" => Mark::Rank("last"),
        "alphabetical" | "alphabetically" => Mark::Order("asc"),
        "reverse" | "reversed" => Mark::Order("desc"),
        "oldest" | "earliest" | "chronological" | "chronologically" => Mark::Order("oldest"),
        "newest" | "latest" => Mark::Order("newest"),
        "not" | "no" | "never" | "without" | "except" | "excluding" | "exclude" | "excludes"
        | "excluded" | "non" | "none" | "nor" | "neither" | "outside" => Mark::Filter("exclude"),
        "only" | "just" | "solely" | "exclusively" | "alone" => Mark::Filter("only"),
        "include" | "includes" | "including" | "included" | "inclusive" | "plus" => {
            Mark::Filter("include")
        }
        "or" | "either" => Mark::Filter("or"),
        "also" | "too" => Mark::Filter("also"),
        "count" | "counts" | "counted" | "counting" => Mark::Agg("count"),
        "sum" | "sums" | "total" | "totals" | "totaled" | "totalled" => Mark::Agg("sum"),
        "average" | "averages" | "avg" | "mean" => Mark::Agg("avg"),
        "max" | "maximum" | "peak" => Mark::Agg("max"),
        "min" | "minimum" => Mark::Agg("min"),
        "median" => Mark::Agg("median"),
        "distinct" | "unique" | "different" => Mark::Agg("distinct"),
        "daily" => Mark::Grain("day"),
        "weekly" => Mark::Grain("week"),
        "monthly" => Mark::Grain("month"),
        "quarterly" => Mark::Grain("quarter"),
        "yearly" | "annual" | "annually" => Mark::Grain("year"),
        "hourly" => Mark::Grain("hour"),
        "percent" | "percentage" | "percentages" | "pct" | "share" | "proportion" | "ratio"
        | "fraction" => Mark::Modifier("ratio"),
        "growth" | "grow" | "grew" | "grown" | "change" | "changes" | "changed" | "increase"
        | "increased" | "increases" | "decrease" | "decreased" | "decline" | "declined"
        | "drop" | "dropped" | "difference" | "delta" | "trend" | "trends" => {
            Mark::Modifier("change")
        }
        "compare" | "compared" | "comparison" | "versus" | "vs" | "against" => {
            Mark::Modifier("compare")
        }
        "cumulative" | "running" | "rolling" | "moving" => Mark::Modifier("cumulative"),
        "per" | "each" | "every" | "breakdown" | "grouped" | "group" => Mark::Modifier("group"),
        "today" | "yesterday" | "tomorrow" | "tonight" => Mark::Relative(static_word(w)),
        "recent" | "recently" | "lately" => Mark::Relative("recent"),
        "ytd" => Mark::Relative("to-date:year"),
        "mtd" => Mark::Relative("to-date:month"),
        "qtd" => Mark::Relative("to-date:quarter"),
        "in" | "at" | "on" | "within" | "inside" => Mark::Prep("in"),
        "from" => Mark::Prep("from"),
        "to" | "into" | "towards" => Mark::Prep("to"),
        "for" => Mark::Prep("for"),
        "by" => Mark::Prep("by"),
        "of" => Mark::Prep("of"),
        "with" => Mark::Prep("with"),
        _ => return None,
    };
    Some(mark)
}

fn static_word(w: &str) -> &'static str {
    match w {
        "today" => "today",
        "yesterday" => "yesterday",
        "tomorrow" => "tomorrow",
        _ => "tonight",
    }
}

/// A unit of calendar time, singular.
pub(super) fn time_unit(w: &str) -> Option<&'static str> {
    Some(match w {
        "hour" | "hours" => "hour",
        "day" | "days" => "day",
        "week" | "weeks" => "week",
        "month" | "months" => "month",
        "quarter" | "quarters" => "quarter",
        "year" | "years" => "year",
        _ => return None,
    })
}

/// The class of a word that opens a relative period ("last", "this", "next").
pub(super) fn relative_class(w: &str) -> Option<&'static str> {
    Some(match w {
        "last" | "previous" | "prior" | "preceding" => "previous",
        "past" => "past",
        "this" | "current" => "this",
        "next" | "coming" | "upcoming" | "following" => "next",
        _ => return None,
    })
}

/// The number an ordinal names ("third", "3rd").
pub(super) fn ordinal(w: &str) -> Option<u32> {
    let n = match w {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "sixth" => 6,
        "seventh" => 7,
        "eighth" => 8,
        "ninth" => 9,
        "tenth" => 10,
        _ => {
            let digits = w
                .strip_suffix("st")
                .or_else(|| w.strip_suffix("nd"))
                .or_else(|| w.strip_suffix("rd"))
                .or_else(|| w.strip_suffix("th"))?;
            return digits.parse().ok().filter(|_| !digits.is_empty());
        }
    };
    Some(n)
}

/// The day of the week a word names (1 = Monday).
pub(super) fn weekday(w: &str) -> Option<u32> {
    let w = w.strip_suffix('s').unwrap_or(w);
    Some(match w {
        "monday" => 1,
        "tuesday" => 2,
        "wednesday" => 3,
        "thursday" => 4,
        "friday" => 5,
        "saturday" => 6,
        "sunday" => 7,
        _ => return None,
    })
}

/// Words that carry no fact of their own: the rule lexicon's function words and a few more.
/// Words that do (prepositions before values, "only", "per", "or", "not") are not here.
pub(super) fn is_stop(w: &str) -> bool {
    text::is_function_word(w)
        || matches!(
            w,
            "am" | "having"
                | "kindly"
                | "may"
                | "might"
                | "must"
                | "lets"
                | "now"
                | "results"
                | "information"
                | "info"
                | "via"
                | "using"
                | "named"
                | "called"
                | "titled"
                | "issued"
                | "placed"
                | "made"
                | "created"
                | "registered"
                | "located"
                | "based"
                | "belong"
                | "belongs"
                | "belonging"
                | "associated"
                | "related"
                | "exists"
                | "sort"
                | "sorted"
                | "sorting"
                | "arranged"
                | "s"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lemmas_fold_regular_and_common_irregular_verbs() {
        assert_eq!(lemma("shipped"), "ship");
        assert_eq!(lemma("shipping"), "ship");
        assert_eq!(lemma("ordered"), "order");
        assert_eq!(lemma("purchased"), "buy");
        assert_eq!(lemma("spent"), "spend");
        assert_eq!(lemma("need"), "need");
        assert_eq!(lemma("billing"), "bill");
        assert_eq!(lemma("red"), "red");
    }

    #[test]
    fn ordinals_weekdays_and_units() {
        assert_eq!(ordinal("third"), Some(3));
        assert_eq!(ordinal("2nd"), Some(2));
        assert_eq!(ordinal("nd"), None);
        assert_eq!(ordinal("north"), None);
        assert_eq!(weekday("Mondays".to_lowercase().as_str()), Some(1));
        assert_eq!(time_unit("quarters"), Some("quarter"));
        assert_eq!(relative_class("previous"), Some("previous"));
    }

    #[test]
    fn negated_contractions_exclude() {
        assert_eq!(word_mark("didn't"), Some(Mark::Filter("exclude")));
        assert_eq!(word_mark("haven't"), Some(Mark::Filter("exclude")));
    }
}
