//! The phrases of comparison and order ("more than", "not more than", "at least", "highest",
//! "descending"), kept once: the rule grammar and the semantic cache's slot guard both read
//! them from [`PHRASES`], so that the cache's idea of "the same question" cannot drift from the
//! generator's reading. And the words that say how to query rather than what
//! ([`QUERY_WORDS`]), which are never read as a database value.

/// A comparison with the number that follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// Greater than.
    Gt,
    /// Greater than or equal to.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal to.
    Le,
    /// Equal to.
    Eq,
}

/// What a comparison or order phrase says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    /// A comparison with the number that follows ("more than 5", "not more than 5").
    Compare(Comparison),
    /// The rows with the highest (`high`) or the lowest values. `quantity` is set for words of
    /// amount ("most", "fewest"), which rank by a count, as against adjectives ("highest",
    /// "largest"), which rank by a named measure.
    Extreme {
        /// Highest rather than lowest.
        high: bool,
        /// A word of amount.
        quantity: bool,
    },
    /// A sort direction: descending (`true`) or ascending.
    Direction(bool),
}

use Comparison::*;

const fn most(high: bool) -> Sense {
    Sense::Extreme {
        high,
        quantity: true,
    }
}

const fn highest(high: bool) -> Sense {
    Sense::Extreme {
        high,
        quantity: false,
    }
}

/// Every comparison and order phrase with its sense, longest first.
pub const PHRASES: &[(&[&str], Sense)] = &[
    (&["no", "more", "than"], Sense::Compare(Le)),
    (&["not", "more", "than"], Sense::Compare(Le)),
    (&["no", "less", "than"], Sense::Compare(Ge)),
    (&["not", "less", "than"], Sense::Compare(Ge)),
    (&["no", "fewer", "than"], Sense::Compare(Ge)),
    (&["not", "fewer", "than"], Sense::Compare(Ge)),
    (&["at", "least"], Sense::Compare(Ge)),
    (&["at", "most"], Sense::Compare(Le)),
    (&["more", "than"], Sense::Compare(Gt)),
    (&["greater", "than"], Sense::Compare(Gt)),
    (&["higher", "than"], Sense::Compare(Gt)),
    (&["larger", "than"], Sense::Compare(Gt)),
    (&["bigger", "than"], Sense::Compare(Gt)),
    (&["less", "than"], Sense::Compare(Lt)),
    (&["fewer", "than"], Sense::Compare(Lt)),
    (&["lower", "than"], Sense::Compare(Lt)),
    (&["smaller", "than"], Sense::Compare(Lt)),
    (&["equal", "to"], Sense::Compare(Eq)),
    (&["over"], Sense::Compare(Gt)),
    (&["above"], Sense::Compare(Gt)),
    (&["exceeding"], Sense::Compare(Gt)),
    (&["exceeds"], Sense::Compare(Gt)),
    (&["exceed"], Sense::Compare(Gt)),
    (&["beyond"], Sense::Compare(Gt)),
    (&["under"], Sense::Compare(Lt)),
    (&["below"], Sense::Compare(Lt)),
    (&["exactly"], Sense::Compare(Eq)),
    (&["equals"], Sense::Compare(Eq)),
    (&["most"], most(true)),
    (&["fewest"], most(false)),
    (&["least"], most(false)),
    (&["highest"], highest(true)),
    (&["largest"], highest(true)),
    (&["biggest"], highest(true)),
    (&["greatest"], highest(true)),
    (&["leading"], highest(true)),
    (&["lowest"], highest(false)),
    (&["smallest"], highest(false)),
    (&["ascending"], Sense::Direction(false)),
    (&["ascendingly"], Sense::Direction(false)),
    (&["descendingly"], Sense::Direction(true)),
    (&["asc"], Sense::Direction(false)),
    (&["increasing"], Sense::Direction(false)),
    (&["descending"], Sense::Direction(true)),
    (&["desc"], Sense::Direction(true)),
    (&["decreasing"], Sense::Direction(true)),
];

/// The longest phrase of [`PHRASES`] that `words` start with, and how many words it covers.
pub fn phrase_at(words: &[&str]) -> Option<(Sense, usize)> {
    PHRASES.iter().find_map(|(phrase, sense)| {
        (phrase.len() <= words.len() && phrase.iter().zip(words).all(|(p, w)| p == w))
            .then_some((*sense, phrase.len()))
    })
}

/// Words that say how to query rather than what, besides the one-word [`PHRASES`]:
/// aggregates, ranks, grouping, sorting, periods, listing and follow-up cues. The rule grammar
/// reads exactly these (and the one-word phrases) as words of its own, and the value index
/// never takes one of them for a value.
pub const QUERY_WORDS: &[&str] = &[
    "count",
    "total",
    "sum",
    "overall",
    "average",
    "avg",
    "mean",
    "minimum",
    "min",
    "maximum",
    "max",
    "distinct",
    "different",
    "unique",
    "by",
    "per",
    "each",
    "every",
    "top",
    "bottom",
    "first",
    "last",
    "best",
    "worst",
    "longest",
    "shortest",
    "cheapest",
    "priciest",
    "costliest",
    "latest",
    "newest",
    "earliest",
    "oldest",
    "youngest",
    "alphabetical",
    "alphabetically",
    "alphabetic",
    "lexicographic",
    "lexicographical",
    "lexicographically",
    "longer",
    "shorter",
    "between",
    "before",
    "until",
    "prior",
    "after",
    "since",
    "yearly",
    "annual",
    "annually",
    "monthly",
    "daily",
    "order",
    "ordered",
    "sorted",
    "sort",
    "ranked",
    "instead",
    "rather",
    "too",
    "also",
    "additionally",
    "reset",
    "restart",
    "only",
    "just",
    "now",
    "name",
    "names",
    "list",
    "show",
    "display",
    "which",
    "what",
    "who",
    "give",
    "find",
];

/// Whether `w` is a word of query (see [`QUERY_WORDS`]) or a one-word phrase of
/// [`PHRASES`].
pub fn is_query_word(w: &str) -> bool {
    QUERY_WORDS.contains(&w) || phrase_at(&[w]).is_some_and(|(_, n)| n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_longest_first_and_unique() {
        for pair in PHRASES.windows(2) {
            assert!(pair[0].0.len() >= pair[1].0.len(), "{:?}", pair[1].0);
        }
        for (k, (phrase, _)) in PHRASES.iter().enumerate() {
            assert!(
                PHRASES[..k].iter().all(|(p, _)| p != phrase),
                "{phrase:?} twice"
            );
            // The readers look at most three words ahead.
            assert!((1..=3).contains(&phrase.len()), "{phrase:?}");
            assert!(
                phrase.len() > 1 || !QUERY_WORDS.contains(&phrase[0]),
                "{phrase:?} is also a query word"
            );
        }
    }

    #[test]
    fn the_longest_phrase_wins() {
        assert_eq!(
            phrase_at(&["not", "more", "than", "5"]),
            Some((Sense::Compare(Le), 3))
        );
        assert_eq!(
            phrase_at(&["more", "than", "5"]),
            Some((Sense::Compare(Gt), 2))
        );
        assert_eq!(phrase_at(&["at", "least"]), Some((Sense::Compare(Ge), 2)));
        assert_eq!(phrase_at(&["least"]), Some((most(false), 1)));
        assert_eq!(phrase_at(&["more"]), None);
        assert_eq!(phrase_at(&[]), None);
        assert!(is_query_word("highest") && is_query_word("top"));
        assert!(!is_query_word("germany") && !is_query_word("than"));
    }
}
