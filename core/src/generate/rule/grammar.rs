//! The grammar: reads a question's tokens as a sequence of meaningful items (intents, numbers,
//! dates, known values, schema names), keeping track of every word it could not explain.

use super::{
    ir::{Agg, CmpOp, LikeKind, TimeBucket},
    lexicon,
    linker::{Candidate, ColumnKind, SchemaLexicon, Target},
};
use crate::{
    text::{self, Comparison, Sense, Token, phrases::QUERY_WORDS},
    values::{ValueHit, ValueIndex, phrase_key},
};

/// A property that comparative and superlative adjectives talk about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    /// Length in time ("longer", "shortest").
    Duration,
    /// Price ("more expensive", "cheapest").
    Price,
    /// Time of an event ("latest", "earliest", "most recent").
    Date,
    /// Age of a person ("older than", "youngest").
    Age,
}

/// One meaningful piece of a question.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// "how many" (`true`), "number of", "count" (`false`).
    Count(bool),
    /// "total", "average", "minimum", "maximum".
    Agg(Agg),
    /// "distinct", "different", "unique".
    Distinct,
    /// "by", "per", "for each", "grouped by".
    Group,
    /// "top 5", "bottom 3": a limit and a direction.
    Top(Option<u64>, bool),
    /// "most", "highest" (`true`) or "least", "lowest" (`false`); the second flag is set for
    /// quantity words ("most", "fewest") as against adjectives ("highest", "largest").
    Most(bool, bool),
    /// A superlative adjective: "longest" is (Duration, true).
    Extreme(Property, bool),
    /// A comparison: "more than", "at least", "under".
    Compare(CmpOp),
    /// A comparative adjective: "longer than" is (Duration, Gt).
    AdjCompare(Property, CmpOp),
    /// "between".
    Between,
    /// "before" / "after" / "since".
    DateBound(CmpOp, bool),
    /// A number.
    Number(f64),
    /// A duration unit, in milliseconds.
    Unit(f64),
    /// A year.
    Year(i32),
    /// A month (1-12).
    Month(u32),
    /// A calendar day written `YYYY-MM-DD`.
    Day(String),
    /// A calendar period relative to today: "this year" (offset 0), "last quarter" (-1),
    /// "previous month" (-1).
    Relative(Period, i32),
    /// A time bucket to group by: "month" in "by month", "yearly".
    Bucket(TimeBucket),
    /// A known value of some columns.
    Value(Vec<ValueHit>),
    /// A quoted literal not found among known values.
    Literal(String),
    /// A schema name.
    Mention(Vec<Candidate>),
    /// A verb whose stem names a column ("hired" → `HireDate`): read only as the date of a
    /// time condition, otherwise a neutral word.
    Participle(Vec<Candidate>),
    /// A money word ("revenue", "sales", "spent").
    Money,
    /// "sold", "purchased": an item count of sales.
    Sold,
    /// "ascending" (`false`) / "descending" (`true`).
    Direction(bool),
    /// "instead", "rather".
    Instead,
    /// "too", "also", "as well", "include".
    Also,
    /// "start over", "reset", "new question".
    StartOver,
    /// "what about", "how about", "only", "just", "and" at the start: a follow-up cue.
    FollowUp,
    /// "list", "show", "which", "what": the question asks for rows.
    Listing,
    /// A property named without a column: "length", "price", "date".
    Prop(Property),
    /// "alphabetical": ascending unless a direction is given.
    Alphabetical,
    /// "sorted by", "ordered by", "in order of": the sort key follows.
    OrderBy,
    /// "sort", "ordered" on their own: a listing is to be sorted (the key or direction is
    /// given elsewhere).
    Sort,
    /// "name", "names": the rows are to be shown by their names.
    Names,
    /// "or" between two values.
    Or,
    /// "id", "ids": the key of the rows.
    Key,
    /// "most common", "least popular": the value that occurs most (or least) often.
    Mode(bool),
    /// A measure of the semantic model ("revenue").
    ModelMeasure {
        /// Its table (lexicon index).
        table: usize,
        /// Its name in the model.
        name: String,
        /// Its aggregation.
        agg: Agg,
    },
    /// A dimension of the semantic model over an expression ("customer name").
    ModelDim {
        /// Its table (lexicon index).
        table: usize,
        /// Its name in the model.
        name: String,
    },
    /// A named filter of the semantic model ("large invoices").
    ModelFilter {
        /// Its table (lexicon index).
        table: usize,
        /// A column its predicate reads.
        column: usize,
        /// Its name in the model.
        name: String,
    },
    /// A phrase of the model that names several items with different SQL.
    Ambiguous(Vec<crate::semantic::Item>),
    /// "over time", "trend": by the date's default grain (with a semantic model).
    Trend,
    /// A text pattern ("containing 'gmail'", "starts with the letter A"), with the text as
    /// written; the flag is set when the column is named after it ("with 'x' in its name").
    /// The columns last are those that hold the text as a whole value when "contains" had no
    /// marker ("albums containing 'Hells Bells'" may be about the tracks): the pattern is
    /// then only read on one of them.
    Pattern(LikeKind, String, bool, Vec<crate::catalog::ColumnRef>),
    /// A negation: "not", "no", "without", "never", "except", "excluding", "neither", "nor",
    /// "don't". The planner places it on a value, a pattern or a related table, or abstains.
    Not,
    /// "both" before values joined by "and": rows related to each of them.
    Both,
    /// "twice", "3 times" before an average: a factor of the compared aggregate.
    Times(f64),
    /// "all information", "all the details", "everything": every column of the rows.
    AllColumns,
    /// "from 2010 to 2012": the years from the first to the second, both included.
    YearRange(i32, i32),
    /// "percentage", "proportion", "share": the measure is a percentage.
    Share,
}

/// The semantic model's phrases found in a question, for [`read_with`].
#[derive(Debug, Clone)]
pub struct ModelReading<'a> {
    /// The model linked to the schema.
    pub links: &'a super::model::ModelLinks,
    /// Its phrases in the question.
    pub spans: Vec<crate::semantic::TermMatch>,
    /// The item a reply to a clarification picked.
    pub choice: Option<crate::semantic::Item>,
}

impl ModelReading<'_> {
    /// The grammar item of a model phrase naming `items`, after `prev`; `schema` is what the
    /// schema's own names read the same words as.
    fn item(
        &self,
        items: &[crate::semantic::Item],
        written: &[&str],
        prev: Option<&Item>,
        schema: Option<&[Candidate]>,
    ) -> Option<Item> {
        use super::model::Link;
        // Phrases are matched by their normalized words, which fold some synonyms together
        // ("buyers" and "customers"): the items whose own words the question wrote come first.
        let exact: Vec<crate::semantic::Item> = if items.len() > 1 {
            items
                .iter()
                .copied()
                .filter(|&i| self.links.writes(i, written))
                .collect()
        } else {
            Vec::new()
        };
        let items = if exact.is_empty() { items } else { &exact };
        let chosen: Vec<crate::semantic::Item> = match self.choice {
            Some(c) if items.contains(&c) => vec![c],
            _ => items.to_vec(),
        };
        let mut names: Vec<Candidate> = Vec::new();
        let mut measures: Vec<(crate::semantic::Item, &Link)> = Vec::new();
        let mut dims: Vec<&Link> = Vec::new();
        let mut filters: Vec<&Link> = Vec::new();
        for &it in &chosen {
            match self.links.link(it) {
                Some(Link::Names(c)) => {
                    for x in c {
                        if !names.iter().any(|n| n.target == x.target) {
                            names.push(x.clone());
                        }
                    }
                }
                Some(l @ Link::Measure { table, sql, .. }) => {
                    let same = measures.iter().any(|(_, m)| {
                        matches!(m, Link::Measure { table: t, sql: q, .. } if t == table && q == sql)
                    });
                    if !same {
                        measures.push((it, l));
                    }
                }
                Some(l @ Link::Dimension { .. }) => dims.push(l),
                Some(l @ Link::Filter { .. }) => filters.push(l),
                None => {}
            }
        }
        if measures.len() > 1 {
            return Some(Item::Ambiguous(measures.iter().map(|(i, _)| *i).collect()));
        }
        // A phrase that is also a table's or a column's name ("customers", which "buyers"
        // folds to) reads as that name; the rules count or total it themselves.
        let _ = prev;
        if let [
            (
                _,
                Link::Measure {
                    table, name, agg, ..
                },
            ),
        ] = measures.as_slice()
            && names.is_empty()
        {
            return Some(Item::ModelMeasure {
                table: *table,
                name: name.clone(),
                agg: *agg,
            });
        }
        if dims.len() + filters.len() > 1 && names.is_empty() {
            return None;
        }
        if names.is_empty() {
            return match (dims.first(), filters.first()) {
                (Some(Link::Dimension { table, name, .. }), _) => Some(Item::ModelDim {
                    table: *table,
                    name: name.clone(),
                }),
                (
                    _,
                    Some(Link::Filter {
                        table,
                        column,
                        name,
                    }),
                ) => Some(Item::ModelFilter {
                    table: *table,
                    column: *column,
                    name: name.clone(),
                }),
                _ => None,
            };
        }
        // The schema's own readings of the words stay, after the model's.
        for c in schema.unwrap_or_default() {
            if !names.iter().any(|n| n.target == c.target) {
                names.push(Candidate {
                    target: c.target.clone(),
                    penalty: c.penalty + 1,
                });
            }
        }
        Some(Item::Mention(names))
    }
}

/// An item and the tokens it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// The item.
    pub item: Item,
    /// First token.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
    /// Whether its last word is a plural.
    pub plural: bool,
    /// Whether "and" joins it to the next span ("the players and the years played").
    pub and_next: bool,
}

/// A question read by the grammar.
#[derive(Debug, Clone)]
pub struct Reading {
    /// Items in question order.
    pub spans: Vec<Span>,
    /// Words nothing explained.
    pub unknown: Vec<String>,
}

/// A calendar period a question names relative to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A calendar year.
    Year,
    /// A calendar quarter.
    Quarter,
    /// A calendar month.
    Month,
}

/// The longest phrase at the start of `words`: one of the comparison and order phrases shared
/// with the semantic cache ([`text::PHRASES`](crate::text::phrases::PHRASES)) or one of the
/// grammar's own.
fn phrase_item(words: &[&str]) -> Option<(Item, usize)> {
    let shared = text::phrase_at(words).map(|(sense, n)| (sense_item(sense), n));
    match (own_phrase(words), shared) {
        (Some(own), Some(shared)) => Some(if shared.1 > own.1 { shared } else { own }),
        (own, shared) => own.or(shared),
    }
}

/// The item a shared comparison or order phrase is read as.
fn sense_item(sense: Sense) -> Item {
    match sense {
        Sense::Compare(c) => Item::Compare(cmp_op(c)),
        Sense::Extreme { high, quantity } => Item::Most(high, quantity),
        Sense::Direction(descending) => Item::Direction(descending),
    }
}

/// The operator of a comparison.
pub(crate) fn cmp_op(c: Comparison) -> CmpOp {
    match c {
        Comparison::Gt => CmpOp::Gt,
        Comparison::Ge => CmpOp::Ge,
        Comparison::Lt => CmpOp::Lt,
        Comparison::Le => CmpOp::Le,
        Comparison::Eq => CmpOp::Eq,
    }
}

/// The grammar's own fixed phrases, longest first: (words, item). Its one-word phrases are the
/// words of [`QUERY_WORDS`], which the value index never takes for a value.
fn own_phrase(words: &[&str]) -> Option<(Item, usize)> {
    use Item::*;
    let w = |i: usize| words.get(i).copied().unwrap_or("");
    let two = (w(0), w(1));
    let three = (w(0), w(1), w(2));
    let hit = |item: Item, n: usize| Some((item, n));
    match three {
        ("order" | "sort" | "rank" | "arrange", "them" | "these" | "those" | "it", "by") => {
            return hit(OrderBy, 3);
        }
        ("more", "expensive", "than") => return hit(AdjCompare(Property::Price, CmpOp::Gt), 3),
        ("less", "expensive", "than") => return hit(AdjCompare(Property::Price, CmpOp::Lt), 3),
        ("as", "well", _) => return hit(Also, 2),
        ("for", "each", _) | ("for", "every", _) | ("in", "each", _) | ("of", "each", _) => {
            return hit(Group, 2);
        }
        ("start", "over", _) | ("start", "again", _) | ("new", "question", _) => {
            return hit(StartOver, 2);
        }
        ("what", "about", _) | ("how", "about", _) | ("what", "if", _) => return hit(FollowUp, 2),
        ("how", "many", _) => return hit(Count(true), 2),
        ("number", "of", _) => return hit(Count(false), 2),
        ("grouped", "by", _)
        | ("broken", "down", _)
        | ("split", "by", _)
        | ("break", "down", _) => {
            return hit(Group, 2);
        }
        ("most", "expensive", _) => return hit(Extreme(Property::Price, true), 2),
        ("least", "expensive", _) => return hit(Extreme(Property::Price, false), 2),
        ("most", "recent", _) | ("most", "recently", _) => {
            return hit(Extreme(Property::Date, true), 2);
        }
        ("most", "common" | "popular" | "frequent" | "often" | "frequently", _) => {
            return hit(Mode(true), 2);
        }
        ("least", "common" | "popular" | "frequent" | "often" | "frequently", _) => {
            return hit(Mode(false), 2);
        }
        ("older", "than", _) => return hit(AdjCompare(Property::Age, CmpOp::Gt), 2),
        ("younger", "than", _) => return hit(AdjCompare(Property::Age, CmpOp::Lt), 2),
        ("sorted", "by", _)
        | ("ordered", "by", _)
        | ("sort", "by", _)
        | ("order", "by", _)
        | ("in", "order", "of")
        | ("ranked", "by", _) => return hit(OrderBy, if three.2 == "of" { 3 } else { 2 }),
        ("order", "of", _) | ("terms", "of", _) => return hit(OrderBy, 2),
        ("sort", "ascending", _) | ("order", "ascending", _) => return hit(Direction(false), 2),
        ("sort", "descending", _) | ("order", "descending", _) => return hit(Direction(true), 2),
        _ => {}
    }
    match two {
        ("longer", "than") => return hit(AdjCompare(Property::Duration, CmpOp::Gt), 2),
        ("shorter", "than") => return hit(AdjCompare(Property::Duration, CmpOp::Lt), 2),
        ("cheaper", "than") => return hit(AdjCompare(Property::Price, CmpOp::Lt), 2),
        ("pricier", "than") | ("costlier", "than") => {
            return hit(AdjCompare(Property::Price, CmpOp::Gt), 2);
        }
        ("other", "than") => return hit(Compare(CmpOp::Ne), 2),
        _ => {}
    }
    let period = match w(1) {
        "year" => Some(Period::Year),
        "quarter" => Some(Period::Quarter),
        "month" => Some(Period::Month),
        _ => None,
    };
    if let Some(period) = period {
        match w(0) {
            "last" | "previous" | "prior" => return hit(Relative(period, -1), 2),
            "this" | "current" => return hit(Relative(period, 0), 2),
            _ => {}
        }
    }
    if !QUERY_WORDS.contains(&w(0)) {
        return None;
    }
    let item = match w(0) {
        "count" => Count(false),
        "total" | "sum" | "overall" => Agg(super::ir::Agg::Sum),
        "average" | "avg" | "mean" => Agg(super::ir::Agg::Avg),
        "minimum" | "min" => Agg(super::ir::Agg::Min),
        "maximum" | "max" => Agg(super::ir::Agg::Max),
        "distinct" | "different" | "unique" => Distinct,
        "by" | "per" | "each" | "every" => Group,
        "top" => Top(None, true),
        "bottom" => Top(None, false),
        "first" | "last" if w(1).chars().next().is_some_and(|c| c.is_ascii_digit()) => {
            Top(None, w(0) == "first")
        }
        "first" | "last" => Names,
        "best" => Most(true, false),
        "worst" => Most(false, false),
        "longest" => Extreme(Property::Duration, true),
        "shortest" => Extreme(Property::Duration, false),
        "cheapest" => Extreme(Property::Price, false),
        "priciest" | "costliest" => Extreme(Property::Price, true),
        "latest" | "newest" => Extreme(Property::Date, true),
        "earliest" => Extreme(Property::Date, false),
        "oldest" => Extreme(Property::Age, true),
        "youngest" => Extreme(Property::Age, false),
        "alphabetical" | "alphabetically" | "alphabetic" | "lexicographic" | "lexicographical"
        | "lexicographically" => Alphabetical,
        "longer" => AdjCompare(Property::Duration, CmpOp::Gt),
        "shorter" => AdjCompare(Property::Duration, CmpOp::Lt),
        "between" => Between,
        "before" | "until" | "prior" => DateBound(CmpOp::Lt, false),
        "after" => DateBound(CmpOp::Ge, true),
        "since" => DateBound(CmpOp::Ge, false),
        "yearly" | "annual" | "annually" => Bucket(TimeBucket::Year),
        "monthly" => Bucket(TimeBucket::YearMonth),
        "daily" => Bucket(TimeBucket::Day),
        "order" | "ordered" | "sorted" | "sort" | "ranked" => Sort,
        "instead" | "rather" => Instead,
        "too" | "also" | "additionally" => Also,
        "reset" | "restart" => StartOver,
        "only" | "just" | "now" => FollowUp,
        "name" | "names" => Names,
        "list" | "show" | "display" | "which" | "what" | "who" | "give" | "find" => Listing,
        _ => return None,
    };
    Some((item, 1))
}

/// "The first and last names", "first, middle, and last name": modifiers joined by "and"
/// share the noun after the last one, when each with it names a column of one table. The
/// noun is repeated after each ("first names and last names"), so that each is read as the
/// column it names.
pub fn share_head(tokens: Vec<Token>, lexicon: &SchemaLexicon) -> Vec<Token> {
    let columns = |a: &Token, head: &Token| -> Vec<usize> {
        if a.quoted || a.number.is_some() {
            return Vec::new();
        }
        lexicon
            .lookup(&[a.norm.as_str(), head.norm.as_str()])
            .iter()
            .filter_map(|c| match c.target {
                Target::Column(t, _) => Some(t),
                Target::Table(_) => None,
            })
            .collect()
    };
    // A modifier that names nothing on its own ("first", "middle"), written before another
    // with no "and" ("the first, last name"); commas are not tokens.
    let modifier = |a: &Token| {
        !lexicon
            .lookup(&[a.norm.as_str()])
            .iter()
            .any(|c| matches!(c.target, Target::Table(_)))
    };
    let mut out = tokens;
    let mut i = 1;
    while i + 1 < out.len() {
        let and = out[i].lower == "and";
        if !and && i + 2 < out.len() && modifier(&out[i]) {
            // "first last name": read as "first and last name".
            let head = &out[i + 2];
            let last = columns(&out[i + 1], head);
            let mine = columns(&out[i], head);
            if !last.is_empty() && mine.iter().any(|t| last.contains(t)) {
                let head = head.clone();
                out.insert(i + 1, head);
                i += 2;
                continue;
            }
        }
        if !and || i + 2 >= out.len() || out[i + 2].quoted {
            i += 1;
            continue;
        }
        let head = out[i + 2].clone();
        let last = columns(&out[i + 1], &head);
        // The modifiers before "and", nearest first, each naming a column of a table the
        // last one names too.
        let mut first = i;
        while first > 0 {
            let t = columns(&out[first - 1], &head);
            if t.is_empty() || !t.iter().any(|x| last.contains(x)) {
                break;
            }
            first -= 1;
        }
        if last.is_empty() || first == i {
            i += 1;
            continue;
        }
        let n = i - first;
        for k in (first + 1..=i).rev() {
            out.insert(k, head.clone());
        }
        // Past "and", the last modifier and the noun.
        i += n + 3;
    }
    out
}

/// Reads `tokens` against the schema's vocabulary and the known values, with the phrases of a
/// semantic model first when there is one.
pub fn read_with(
    tokens: &[Token],
    lexicon: &SchemaLexicon,
    values: &ValueIndex,
    model: Option<&ModelReading<'_>>,
) -> Reading {
    let mut spans = Vec::new();
    let mut unknown = Vec::new();
    // Relation verbs, explained only when named things stand on both sides.
    let mut relations: Vec<(usize, String)> = Vec::new();
    let lowers: Vec<&str> = tokens.iter().map(|t| t.lower.as_str()).collect();
    let norms: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let push = |spans: &mut Vec<Span>, item: Item, n: usize| {
            let last = &tokens[i + n - 1].lower;
            spans.push(Span {
                item,
                start: i,
                end: i + n,
                plural: text::singular(last) != *last,
                and_next: false,
            });
        };
        if t.quoted {
            let hits = values.lookup(&phrase_key(&t.raw)).to_vec();
            let item = if hits.is_empty() {
                Item::Literal(t.raw.clone())
            } else {
                Item::Value(hits)
            };
            push(&mut spans, item, 1);
            i += 1;
            continue;
        }
        if let Some((item, n)) = super::patterns::read_pattern(tokens, i, lexicon, values) {
            push(&mut spans, item, n);
            i += n;
            continue;
        }
        // The model's phrases first, unless the schema or a value reads more words.
        if let Some(m) = model
            && let Some(tm) = m.spans.iter().find(|s| s.start == i)
        {
            let n = tm.end - tm.start;
            let schema = longest_schema(&norms[i..], lexicon, 1);
            let schema_n = schema.as_ref().map_or(0, |(_, k)| *k);
            // "order them by": the grammar's longer phrase wins over "orders" of the model.
            let grammar_n = phrase_item(&lowers[i..]).map_or(0, |(_, k)| k);
            if n >= schema_n && n >= grammar_n && !values_longer(&lowers[i..], values, n) {
                let same = schema
                    .as_ref()
                    .filter(|(_, k)| *k == n)
                    .map(|(c, _)| c.as_slice());
                if let Some(item) = m.item(
                    &tm.items,
                    &lowers[i..i + n],
                    spans.last().map(|s: &Span| &s.item),
                    same,
                ) {
                    push(&mut spans, item, n);
                    i += n;
                    continue;
                }
            }
        }
        if model.is_some()
            && (t.norm == "trend" || (t.lower == "over" && lowers.get(i + 1) == Some(&"time")))
        {
            let n = if t.lower == "over" { 2 } else { 1 };
            push(&mut spans, Item::Trend, n);
            i += n;
            continue;
        }
        if let Some((item, n)) = super::wording::read_at(tokens, &norms, i, lexicon) {
            push(&mut spans, item, n);
            i += n;
            continue;
        }
        // Schema names of two or more words first ("invoice total", "media types").
        if let Some((cands, n)) = longest_schema(&norms[i..], lexicon, 2)
            && !values_longer(&lowers[i..], values, n)
        {
            push(
                &mut spans,
                Item::Mention(prefer_own_words(cands, &tokens[i..i + n], lexicon)),
                n,
            );
            i += n;
            continue;
        }
        // Known values, longest first.
        if let Some((hits, n)) = longest_value(&lowers[i..], values) {
            // A one-word value gives way only to an exact table or column name.
            let schema_single = n == 1
                && lexicon
                    .lookup(&norms[i..i + 1])
                    .iter()
                    .any(|c| c.penalty == 0);
            // "reported after 1978-06-26", "reported by the staff": the event, dated or by
            // someone, not the status `Reported`.
            let event = n == 1
                && is_participle(&t.lower)
                && matches!(
                    lowers.get(i + 1),
                    Some(&("before" | "after" | "since" | "until" | "prior" | "by"))
                );
            if !schema_single && !event {
                push(&mut spans, Item::Value(hits), n);
                i += n;
                continue;
            }
        }
        if let Some(n) = t.number
            && n.fract() == 0.0
            && (1900.0..=2100.0).contains(&n)
            && let Some((op, after)) = year_or_bound(&lowers[i + 1..])
        {
            // "in 2000 or before": a bound that includes the year.
            spans.push(placed(Item::DateBound(op, after), i, i));
            spans.push(placed(Item::Year(n as i32), i, i + 3));
            i += 3;
            continue;
        }
        if let Some(n) = t.number
            && matches!(lowers.get(i + 1..i + 3), Some(["years" | "year", "old"]))
        {
            // "at least 25 years old": the age compared; "20 years old": the age itself.
            let compared = matches!(spans.last().map(|s: &Span| &s.item), Some(Item::Compare(_)));
            let (at, from) = match spans.last() {
                Some(s) if compared => (spans.len() - 1, s.start),
                _ => (spans.len(), i),
            };
            spans.insert(at, placed(Item::Prop(Property::Age), from, from));
            if !compared {
                spans.push(placed(Item::Compare(CmpOp::Eq), i, i));
            }
            spans.push(placed(Item::Number(n), i, i + 3));
            i += 3;
            continue;
        }
        if let Some(n) = t.number
            && let Some(op) = or_bound(&lowers[i + 1..])
        {
            // "2 or more cinemas": at least 2.
            spans.push(placed(Item::Compare(op), i, i));
            spans.push(placed(Item::Number(n), i, i + 3));
            i += 3;
            continue;
        }
        if let Some(n) = t.number {
            let next = lowers.get(i + 1).copied().unwrap_or("");
            let prev = spans.last().map(|s| &s.item);
            let is_year = n.fract() == 0.0
                && (1900.0..=2100.0).contains(&n)
                && lexicon::duration_unit_ms(next).is_none()
                && !matches!(
                    prev,
                    Some(Item::Compare(_) | Item::Top(..) | Item::AdjCompare(..))
                );
            let item = if is_year {
                Item::Year(n as i32)
            } else {
                Item::Number(n)
            };
            push(&mut spans, item, 1);
            i += 1;
            continue;
        }
        if t.lower == "by"
            && i > 0
            && (is_participle(lowers[i - 1])
                || lexicon::is_relation_verb(lowers[i - 1])
                || lexicon::is_sold_verb(lowers[i - 1]))
        {
            // "requested by entrepreneurs": an agent, not a grouping.
            i += 1;
            continue;
        }
        if let Some(n) = overall_words(&lowers[i..])
            && spans
                .iter()
                .any(|s| matches!(s.item, Item::Count(_) | Item::Agg(_)))
        {
            // "how many ... in total": the count said again.
            i += n;
            continue;
        }
        if t.lower == "same"
            && spans.is_empty()
            && lowers[..i]
                .iter()
                .all(|w| matches!(*w, "the" | "and" | "now" | "do"))
        {
            // "The same for France": the previous question again, changed as the turn says.
            push(&mut spans, Item::FollowUp, 1);
            i += 1;
            continue;
        }
        if matches!(lower_of(tokens, i), "number" | "count")
            && lowers.get(i + 1) == Some(&"of")
            && matches!(phrase_item(&lowers[i..]), Some((Item::Count(_), _)))
            && spans
                .last()
                .is_some_and(|s: &Span| s.end == i && matches!(s.item, Item::Mention(_)))
        {
            // "the flight number of flights", "the total point count": a noun made with a
            // name before it, which no column is named; not a count.
            unknown.push(t.raw.clone());
            i += 1;
            continue;
        }
        if let Some((item, n)) = phrase_item(&lowers[i..]) {
            // "first name", "last name", "count" as column names win over the grammar word;
            // so does a column named as a relative period ("last year" of `Last_year`).
            let schema = longest_schema(&norms[i..], lexicon, 1);
            let grammar_first = match item {
                Item::Listing | Item::Names | Item::Top(..) => {
                    schema.as_ref().is_none_or(|(_, m)| *m <= n)
                }
                Item::Relative(..) => schema.as_ref().is_none_or(|(_, m)| *m < n),
                _ => true,
            };
            if grammar_first || schema.is_none() {
                push(&mut spans, item, n);
                i += n;
                continue;
            }
        }
        let exact_name = lexicon
            .lookup(&norms[i..i + 1])
            .iter()
            .any(|c| c.penalty == 0);
        if let Some(b) = bucket_word(&t.norm).filter(|_| {
            !exact_name && matches!(spans.last().map(|s: &Span| &s.item), Some(Item::Group))
        }) {
            // "by year": a period, unless a column is named exactly so.
            push(&mut spans, Item::Bucket(b), 1);
            i += 1;
            continue;
        }
        if text::is_money_noun(&t.norm) && !exact_name {
            // "sales" is money unless a table or column is named exactly so.
            push(&mut spans, Item::Money, 1);
            i += 1;
            continue;
        }
        if let Some((cands, n)) = longest_schema(&norms[i..], lexicon, 1) {
            let names_the_column = norms
                .get(i + 1)
                .is_some_and(|next| column_words(&cands, lexicon).any(|w| w == *next));
            if n == 1
                && is_participle(&t.lower)
                && !names_the_column
                && only_part_of_dates(&cands, lexicon)
            {
                // "shipped" of `ShippedDate`: the date of a time condition ("shipped in
                // 1998"), else a neutral verb ("orders shipped to Germany"); never a column to
                // show or group by that nobody asked for.
                push(&mut spans, Item::Participle(cands), 1);
                i += 1;
                continue;
            }
            push(
                &mut spans,
                Item::Mention(prefer_own_words(cands, &tokens[i..i + n], lexicon)),
                n,
            );
            i += n;
            continue;
        }
        let lower = t.lower.as_str();
        if let Some(day) = iso_day(lower) {
            push(&mut spans, Item::Day(day), 1);
            i += 1;
            continue;
        }
        if let Some(ms) = lexicon::duration_unit_ms(lower) {
            push(&mut spans, Item::Unit(ms), 1);
        } else if let Some(m) =
            text::month(lower).filter(|_| lower != "may" || next_is_year(tokens, i))
        {
            push(&mut spans, Item::Month(m), 1);
        } else if let Some(b) = bucket_word(&t.norm)
            .filter(|_| matches!(spans.last().map(|s: &Span| &s.item), Some(Item::Group)))
        {
            push(&mut spans, Item::Bucket(b), 1);
        } else if text::is_money_noun(&t.norm) || text::is_money_verb(lower) {
            push(&mut spans, Item::Money, 1);
        } else if lexicon::is_sold_verb(lower) {
            push(&mut spans, Item::Sold, 1);
        } else if t.norm == "id" {
            push(&mut spans, Item::Key, 1);
        } else if lower == "old" && i > 0 && lowers[i - 1] == "how" {
            // "how old": the age.
            push(&mut spans, Item::Prop(Property::Age), 1);
        } else if t.norm == "duration" || lower == "long" {
            push(&mut spans, Item::Prop(Property::Duration), 1);
        } else if t.norm == "price" {
            push(&mut spans, Item::Prop(Property::Price), 1);
        } else if lower == "expensive" || lower == "pricey" {
            push(&mut spans, Item::Extreme(Property::Price, true), 1);
        } else if lower == "or" {
            push(&mut spans, Item::Or, 1);
        } else if lower == "but" && lowers.get(i + 1) == Some(&"not") {
            // "Rock but not Jazz": the negation says it.
        } else if lower == "both"
            && i > 0
            && matches!(
                lowers[i - 1],
                "return" | "list" | "show" | "give" | "display" | "find"
            )
        {
            // "Return both the city and the count": both things asked for, not a set.
        } else if lower == "both" && lowers[i + 1..].contains(&"and") {
            push(&mut spans, Item::Both, 1);
        } else if matches!(lower, "shared" | "share") && lowers[i + 1..].contains(&"and") {
            // "the industries shared by companies in the USA and companies in China": values
            // both groups of rows have.
            push(&mut spans, Item::Both, 1);
        } else if super::patterns::is_placed_negation(lower) {
            // The planner places it, or abstains: never ignored.
            push(&mut spans, Item::Not, 1);
        } else if is_negation(lower) {
            // Negations change the meaning in ways the rules do not cover: never ignored.
            unknown.push(t.raw.clone());
        } else if let Some(cands) = participle_name(lower, lexicon) {
            // "hired" names `HireDate` (for a date condition only).
            push(&mut spans, Item::Participle(cands), 1);
        } else if (text::is_stop_word(lower) || text::is_neutral_word(lower))
            // "invoices from the US", "in division AS": a code written in capitals, not the
            // pronoun or the preposition; unless a value is written so, it is a word the rules
            // do not know.
            && !(i > 0 && t.raw.len() >= 2 && t.raw.chars().all(|c| c.is_ascii_uppercase()))
        {
            // Explained: carries no meaning of its own.
        } else if is_head_noun(lower)
            && spans.last().is_some_and(|s: &Span| {
                s.end == i
                    && matches!(&s.item, Item::Mention(c)
                        if c.iter().any(|c| matches!(c.target, Target::Table(_))))
            })
        {
            // "faculty members": the table's rows, said with a noun after its name.
        } else if matches!(lower, "results" | "result")
            && (i >= 1 && is_sort_verb(lowers[i - 1])
                || i >= 2 && lowers[i - 1] == "the" && is_sort_verb(lowers[i - 2]))
        {
            // "sort the results by ...": the answer itself.
        } else if matches!(
            lower,
            "score" | "size" | "amount" | "value" | "level" | "type" | "date"
        ) && spans.last().is_some_and(|s: &Span| {
            s.end == i
                && matches!(&s.item, Item::Mention(c)
                        if c.iter().all(|c| matches!(c.target, Target::Column(..))))
        }) {
            // "the snatch score" of `Snatch`, "RAM size" of `RAM_MiB`: the column's value.
        } else if matches!(lower, "amount" | "amounts")
            && lowers.get(i + 1) == Some(&"of")
            && (i == 0 || lowers[i - 1] != "total")
            && norms.get(i + 2).is_some_and(|n| {
                lexicon
                    .lookup(&[n])
                    .iter()
                    .any(|c| matches!(c.target, Target::Table(_)))
            })
        {
            // "the largest amount of courses": a count, when no column is named so.
            push(&mut spans, Item::Count(false), 2);
            i += 2;
            continue;
        } else if lower == "times"
            && i > 0
            && matches!(lowers[i - 1], "many" | "of" | "most" | "number")
        {
            // "how many times", "the most number of times": the count says it.
        } else if lexicon::is_relation_verb(lower) {
            relations.push((i, t.raw.clone()));
        } else if let Some(hits) = code_after_column(&spans, &lowers, i, &t.raw, lexicon, values) {
            // "Their sex is F": a short code, placed by the column named before it.
            push(&mut spans, Item::Value(hits), 1);
        } else {
            unknown.push(t.raw.clone());
        }
        i += 1;
    }
    for (at, raw) in relations {
        let names = |s: &&Span| {
            matches!(
                s.item,
                Item::Mention(_) | Item::Value(_) | Item::Literal(_) | Item::Participle(_)
            )
        };
        let before = spans.iter().filter(|s| s.end <= at).any(|s| names(&s));
        let after = spans.iter().filter(|s| s.start > at).any(|s| names(&s));
        if !(before && after) {
            unknown.push(raw);
        }
    }
    merge_repeated_counts(&mut spans);
    drop_names_of_columns(&mut spans, &lowers);
    sort_then_by(&mut spans, &lowers);
    superlatives_after_aggregates(&mut spans, &lowers);
    for k in 1..spans.len() {
        let gap = lowers.get(spans[k - 1].end..spans[k].start).unwrap_or(&[]);
        spans[k - 1].and_next = matches!(
            gap,
            ["and"] | ["and", "the" | "their" | "its" | "his" | "her" | "his/her"]
        );
    }
    Reading { spans, unknown }
}

/// The values written exactly `raw` of the column named just before "is" ("sex is F",
/// "gender = M"), when that column holds such a value.
fn code_after_column(
    spans: &[Span],
    lowers: &[&str],
    i: usize,
    raw: &str,
    lexicon: &SchemaLexicon,
    values: &ValueIndex,
) -> Option<Vec<ValueHit>> {
    let hits = values.lookup_code(raw);
    if hits.is_empty() || i < 2 || !matches!(lowers[i - 1], "is" | "equals" | "of") {
        return None;
    }
    let Item::Mention(c) = &spans.last().filter(|s| s.end == i - 1)?.item else {
        return None;
    };
    let named: Vec<ValueHit> = hits
        .iter()
        .filter(|h| {
            c.iter().any(|x| match x.target {
                Target::Column(t, ci) => lexicon.column_ref(t, ci) == h.column,
                Target::Table(_) => false,
            })
        })
        .cloned()
        .collect();
    (!named.is_empty()).then_some(named)
}

/// A verb that orders or shows the answer ("sort the results").
fn is_sort_verb(w: &str) -> bool {
    matches!(
        w,
        "sort" | "sorted" | "order" | "ordered" | "rank" | "ranked" | "show" | "list" | "return"
    )
}

/// "The average and largest salary", "the average and oldest age": a superlative joined by
/// "and" to an aggregate is the maximum (or minimum) of the same column, not a ranking of rows.
fn superlatives_after_aggregates(spans: &mut [Span], lowers: &[&str]) {
    for k in 1..spans.len() {
        let joined = matches!(spans[k - 1].item, Item::Agg(_))
            && lowers.get(spans[k - 1].end..spans[k].start) == Some(&["and"][..])
            && matches!(spans.get(k + 1).map(|s| &s.item), Some(Item::Mention(_)));
        if !joined {
            continue;
        }
        let max = match spans[k].item {
            Item::Most(desc, false) | Item::Extreme(_, desc) => desc,
            _ => continue,
        };
        spans[k].item = Item::Agg(if max {
            super::ir::Agg::Max
        } else {
            super::ir::Agg::Min
        });
    }
}

/// "the names of studios" where `Studio` is a column: the column is the name asked for, not a
/// table's name column.
fn drop_names_of_columns(spans: &mut Vec<Span>, lowers: &[&str]) {
    let mut k = 0;
    while k + 1 < spans.len() {
        let of_column = matches!(spans[k].item, Item::Names)
            && lowers.get(spans[k].end) == Some(&"of")
            && matches!(&spans[k + 1].item, Item::Mention(c)
                if c.iter().all(|c| matches!(c.target, Target::Column(..))));
        if of_column {
            spans.remove(k);
        } else {
            k += 1;
        }
    }
}

/// "order the result by", "sort the list by": a sort whose key follows "by", not a grouping.
fn sort_then_by(spans: &mut Vec<Span>, lowers: &[&str]) {
    let mut k = 0;
    while k + 1 < spans.len() {
        let between = lowers
            .get(spans[k].end..spans[k + 1].start)
            .unwrap_or_default();
        if matches!(spans[k].item, Item::Sort)
            && matches!(spans[k + 1].item, Item::Group)
            && lowers.get(spans[k + 1].start) == Some(&"by")
            && between
                .iter()
                .all(|w| text::is_stop_word(w) || matches!(*w, "results" | "list" | "rows"))
        {
            spans[k].item = Item::OrderBy;
            spans[k].end = spans[k + 1].end;
            spans.remove(k + 1);
        }
        k += 1;
    }
}

/// Nouns that only repeat what the table name before them names ("faculty members").
fn is_head_noun(w: &str) -> bool {
    matches!(
        w,
        "member" | "members" | "people" | "persons" | "person" | "individuals" | "ones"
    )
}

/// A day written `YYYY-MM-DD` with a real month and day, as written.
fn iso_day(w: &str) -> Option<String> {
    let b = w.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = chrono::NaiveDate::parse_from_str(w, "%Y-%m-%d").ok()?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// "or before" after a year: up to the end of that year; "or after": from its start.
fn year_or_bound(lowers: &[&str]) -> Option<(CmpOp, bool)> {
    match lowers {
        ["or", "before" | "earlier" | "prior", ..] => Some((CmpOp::Lt, true)),
        ["or", "after" | "later", ..] => Some((CmpOp::Ge, false)),
        _ => None,
    }
}

/// A span of an item the grammar places itself, out of word order or over words it reads
/// together ("2 or more": a comparison at the number, then the number over all three words).
fn placed(item: Item, start: usize, end: usize) -> Span {
    Span {
        item,
        start,
        end,
        plural: false,
        and_next: false,
    }
}

/// "or more" after a number is at least it, "or fewer" at most.
fn or_bound(lowers: &[&str]) -> Option<CmpOp> {
    match lowers {
        ["or", "more" | "greater" | "higher" | "above" | "over", ..] => Some(CmpOp::Ge),
        ["or", "fewer" | "less" | "lower" | "below" | "under", ..] => Some(CmpOp::Le),
        _ => None,
    }
}

fn lower_of(tokens: &[Token], i: usize) -> &str {
    tokens.get(i).map_or("", |t| t.lower.as_str())
}

/// "in total", "in all" or "altogether" ending a question: how many words, if they do.
pub(crate) fn overall_words(lowers: &[&str]) -> Option<usize> {
    match lowers {
        ["in", "total" | "all"] => Some(2),
        ["altogether"] => Some(1),
        _ => None,
    }
}

/// "count the number of wrestlers", "how many number of ...": a count said twice in a row
/// (only stop words between) is one count.
fn merge_repeated_counts(spans: &mut Vec<Span>) {
    let mut k = 0;
    while k + 2 < spans.len() {
        // "count the total number of clubs": the total is the count.
        if let (Item::Count(_), Item::Agg(Agg::Sum), Item::Count(_)) =
            (&spans[k].item, &spans[k + 1].item, &spans[k + 2].item)
        {
            spans.remove(k + 1);
        } else {
            k += 1;
        }
    }
    let mut k = 0;
    while k + 1 < spans.len() {
        if let (Item::Count(a), Item::Count(b)) = (&spans[k].item, &spans[k + 1].item) {
            let merged = Item::Count(*a || *b);
            spans[k].item = merged;
            spans[k].end = spans[k + 1].end;
            spans[k].plural = spans[k + 1].plural;
            spans.remove(k + 1);
        } else {
            k += 1;
        }
    }
}

/// Names spelled with the question's own words come before names reached through a synonym
/// ("customers" is `Customers` before `Clients`).
fn prefer_own_words(
    mut cands: Vec<Candidate>,
    tokens: &[Token],
    lexicon: &SchemaLexicon,
) -> Vec<Candidate> {
    let own: Vec<String> = tokens.iter().map(|t| text::singular(&t.lower)).collect();
    for c in &mut cands {
        let raw = lexicon.raw_words(&c.target);
        if !own.iter().all(|w| raw.contains(w)) {
            c.penalty += 1;
        }
    }
    cands
}

/// The names a past participle points at through its stem ("hired" → `hire`).
fn participle_name(w: &str, lexicon: &SchemaLexicon) -> Option<Vec<Candidate>> {
    let stem = w.strip_suffix("ed")?;
    [format!("{stem}e"), stem.to_string()].iter().find_map(|s| {
        let c = lexicon.lookup(&[s.as_str()]);
        (!c.is_empty()).then(|| {
            c.iter()
                .map(|x| Candidate {
                    target: x.target.clone(),
                    penalty: x.penalty + 1,
                })
                .collect()
        })
    })
}

/// Whether every candidate is a date or time column whose name has more words than the one
/// matched (`ShippedDate` for "shipped").
fn only_part_of_dates(cands: &[Candidate], lexicon: &SchemaLexicon) -> bool {
    !cands.is_empty()
        && cands.iter().all(|c| match c.target {
            Target::Column(t, ci) => lexicon
                .tables
                .get(t)
                .and_then(|t| t.columns.get(ci))
                .is_some_and(|col| col.kind == ColumnKind::Temporal && col.raw.len() > 1),
            Target::Table(_) => false,
        })
}

/// The words of the candidate columns' names ("placed date" names `date_order_placed`).
fn column_words<'a>(
    cands: &'a [Candidate],
    lexicon: &'a SchemaLexicon,
) -> impl Iterator<Item = &'a str> + 'a {
    cands.iter().flat_map(move |c| match c.target {
        Target::Column(t, ci) => lexicon
            .tables
            .get(t)
            .and_then(|t| t.columns.get(ci))
            .map_or(&[][..], |col| col.words.as_slice())
            .iter()
            .map(String::as_str),
        Target::Table(_) => [].iter().map(String::as_str),
    })
}

fn is_participle(w: &str) -> bool {
    w.ends_with("ed")
        && !matches!(
            w,
            "grouped"
                | "sorted"
                | "ordered"
                | "ranked"
                | "listed"
                | "broken"
                | "split"
                | "arranged"
                | "organized"
                | "organised"
        )
}

fn is_negation(w: &str) -> bool {
    matches!(
        w,
        "not"
            | "no"
            | "without"
            | "never"
            | "except"
            | "excluding"
            | "neither"
            | "nor"
            | "none"
            | "nobody"
            | "nothing"
            | "cannot"
    ) || w.ends_with("n't")
}

fn next_is_year(tokens: &[Token], i: usize) -> bool {
    tokens
        .get(i + 1)
        .and_then(|t| t.number)
        .is_some_and(|n| (1900.0..=2100.0).contains(&n))
}

fn bucket_word(norm: &str) -> Option<TimeBucket> {
    Some(match norm {
        "year" => TimeBucket::Year,
        "month" => TimeBucket::YearMonth,
        "day" | "date" => TimeBucket::Day,
        _ => return None,
    })
}

fn longest_schema(
    norms: &[&str],
    lexicon: &SchemaLexicon,
    min: usize,
) -> Option<(Vec<Candidate>, usize)> {
    let max = norms
        .first()
        .map_or(0, |f| lexicon.max_words_from(f))
        .min(norms.len());
    (min..=max).rev().find_map(|n| {
        if text::is_stop_word(norms[0]) || text::is_stop_word(norms[n - 1]) {
            return None;
        }
        let c = lexicon.lookup(&norms[..n]);
        (!c.is_empty()).then(|| (c.to_vec(), n))
    })
}

fn longest_value(lowers: &[&str], values: &ValueIndex) -> Option<(Vec<ValueHit>, usize)> {
    let first = lowers.first()?;
    let max = values
        .max_words_from(&text::fold(first))
        .min(values.max_words())
        .min(lowers.len());
    (1..=max).rev().find_map(|n| {
        let hits = values.lookup(&text::fold(&lowers[..n].join(" ")));
        (!hits.is_empty()).then(|| (hits.to_vec(), n))
    })
}

fn values_longer(lowers: &[&str], values: &ValueIndex, n: usize) -> bool {
    longest_value(lowers, values).is_some_and(|(_, m)| m > n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        cache::slots::{SlotKind, Vocabulary, extract},
        catalog::Catalog,
        dialect::Dialect,
        text::phrases::PHRASES,
    };

    fn grammar_reading(question: &str) -> Reading {
        let lexicon = SchemaLexicon::new(&Catalog::new(Dialect::Sqlite, "empty", Vec::new()));
        read_with(
            &text::tokenize(question),
            &lexicon,
            &ValueIndex::empty(),
            None,
        )
    }

    /// The sense of the grammar's item, when it is one of a shared phrase.
    fn grammar_sense(item: &Item) -> Option<Sense> {
        Some(match item {
            Item::Compare(op) => Sense::Compare(match op {
                CmpOp::Gt => Comparison::Gt,
                CmpOp::Ge => Comparison::Ge,
                CmpOp::Lt => Comparison::Lt,
                CmpOp::Le => Comparison::Le,
                CmpOp::Eq => Comparison::Eq,
                CmpOp::Ne => return None,
            }),
            Item::Most(high, quantity) => Sense::Extreme {
                high: *high,
                quantity: *quantity,
            },
            Item::Direction(descending) => Sense::Direction(*descending),
            _ => return None,
        })
    }

    #[test]
    fn shared_phrases_read_alike_in_the_grammar_and_the_cache() {
        let vocabulary = Vocabulary::empty();
        for (phrase, sense) in PHRASES {
            let words = phrase.join(" ");
            // Comparisons are read with their number, ranks and directions on their own.
            let question = match sense {
                Sense::Compare(_) => format!("{words} 5"),
                _ => words.clone(),
            };
            let reading = grammar_reading(&question);
            assert!(reading.unknown.is_empty(), "{question}: {reading:?}");
            let first = &reading.spans[0];
            assert_eq!(
                (grammar_sense(&first.item), first.end),
                (Some(*sense), phrase.len()),
                "the grammar reads {question:?} as {:?}",
                reading.spans
            );
            let slots = extract(&question, &vocabulary);
            let (kind, expected) = match sense {
                Sense::Compare(c) => {
                    let op = match c {
                        Comparison::Gt => "gt",
                        Comparison::Ge => "ge",
                        Comparison::Lt => "lt",
                        Comparison::Le => "le",
                        Comparison::Eq => "eq",
                    };
                    (SlotKind::Comparison, format!("{op}:number:5"))
                }
                Sense::Extreme { high, .. } => {
                    (SlotKind::Rank, if *high { "most" } else { "least" }.into())
                }
                Sense::Direction(descending) => (
                    SlotKind::Order,
                    if *descending { "desc" } else { "asc" }.into(),
                ),
            };
            assert_eq!(
                slots.get(kind),
                [expected],
                "the cache reads {question:?} as {slots}"
            );
        }
    }

    #[test]
    fn not_more_than_is_at_most_in_both() {
        let reading = grammar_reading("not more than 5");
        assert_eq!(reading.spans[0].item, Item::Compare(CmpOp::Le));
        assert_eq!(reading.spans[1].item, Item::Number(5.0));
        let slots = |q| extract(q, &Vocabulary::empty());
        assert_eq!(
            slots("not more than 5").get(SlotKind::Comparison),
            ["le:number:5"]
        );
        assert_eq!(slots("not more than 5"), slots("at most 5"));
        assert_eq!(
            grammar_reading("no fewer than 5").spans[0].item,
            Item::Compare(CmpOp::Ge)
        );
    }

    #[test]
    fn the_grammar_reads_exactly_the_words_of_query() {
        for w in QUERY_WORDS {
            assert!(
                matches!(own_phrase(&[w]), Some((_, 1))),
                "{w:?} is listed as a word of query but the grammar does not read it"
            );
            assert!(text::is_query_word(w));
        }
        // A word the grammar reads on its own is a word of query, so never a value.
        for w in ["germany", "rock", "than", "customer"] {
            assert!(
                phrase_item(&[w]).is_none() && !text::is_query_word(w),
                "{w}"
            );
        }
        // The grammar's own longer phrases win over a shared one-word phrase.
        assert_eq!(
            phrase_item(&["most", "expensive"]),
            Some((Item::Extreme(Property::Price, true), 2))
        );
        assert_eq!(
            phrase_item(&["least", "common"]),
            Some((Item::Mode(false), 2))
        );
    }
}
