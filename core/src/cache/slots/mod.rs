//! The slot guard: the facts of a question that must be identical for two questions to share
//! an answer.
//!
//! An embedding scores "top 10 customers in 2023" and "top 10 customers in 2024" as near
//! twins, but they ask for different rows. Before the semantic cache may answer a question with
//! the SQL of an earlier one, both must state the same [`Slots`]: numbers, years, months,
//! quarters, dates, relative periods ("last 3 months"), comparisons bound to their operand
//! ("more than 10", "before 2020"), ranges, top/bottom and other superlatives, sort order,
//! include/exclude/only/or with what they apply to ("not in Germany" is not "didn't buy in
//! Germany"), aggregations, time grains, modifiers (share, growth, running totals, "per"),
//! quoted strings, the database values they name (with the preposition in front: "from
//! Germany" is not "to Germany"), the tables and columns they name, and every other content
//! word (both in order: "revenue minus cost" is not "cost minus revenue"). Only stop words ("show me", "the", "please") and agreed
//! paraphrases ("over" = "more than", "ten" = "10", "clients" = "customers") may differ.
//!
//! [`extract`] is a pure function of the question and a [`Vocabulary`] (the schema's words and
//! the database's known values).

mod words;

use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
};

use serde::{Deserialize, Serialize};

use crate::{
    catalog::Catalog,
    embed::builtin::{extra_number, is_iso_date, number_text, tokens},
    text,
    values::ValueIndex,
};

/// A kind of fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    /// Numbers that are not years (`10`, `2.5`, ordinals as `#3`).
    Number,
    /// Years (`2023`).
    Year,
    /// Months (`3` for March).
    Month,
    /// Quarters (`1` for Q1).
    Quarter,
    /// Halves (`2` for H2).
    Half,
    /// Days of the week (`1` for Monday).
    Weekday,
    /// ISO dates.
    Date,
    /// Periods relative to today (`previous:year`, `trailing:3:month`, `today`).
    Relative,
    /// Comparisons with their operand (`gt:number:10`, `before:year:2020`).
    Comparison,
    /// Ranges (`year:2020..2023`).
    Range,
    /// Top, bottom, most, least, best, worst, first, last.
    Rank,
    /// Sort order (`asc`, `desc`, `newest`, `oldest`).
    Order,
    /// `exclude`, `only`, `include`, `or`, `also`, with what they apply to
    /// (`exclude:value:in:germany`).
    Filter,
    /// Aggregations (`count`, `sum`, `avg`, `min`, `max`, `median`, `distinct`).
    Aggregate,
    /// Time grains (`month` in "by month", "monthly").
    Grain,
    /// `ratio`, `change`, `compare`, `cumulative`, `group`.
    Modifier,
    /// Quoted strings, exactly as written.
    Quoted,
    /// Known database values, with the preposition in front (`from:germany`).
    Value,
    /// Words of table and column names, in the order the question names them.
    Entity,
    /// Every other content word, in order.
    Term,
}

impl SlotKind {
    /// Kinds whose items are compared as a multiset rather than in order.
    fn unordered(self) -> bool {
        matches!(
            self,
            Self::Rank | Self::Order | Self::Aggregate | Self::Grain | Self::Modifier
        )
    }

    fn bound(self) -> bool {
        matches!(
            self,
            Self::Number
                | Self::Year
                | Self::Month
                | Self::Quarter
                | Self::Half
                | Self::Weekday
                | Self::Date
                | Self::Relative
                | Self::Value
        )
    }

    fn name(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::Year => "year",
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Half => "half",
            Self::Weekday => "weekday",
            Self::Date => "date",
            Self::Relative => "relative",
            Self::Comparison => "comparison",
            Self::Range => "range",
            Self::Rank => "rank",
            Self::Order => "order",
            Self::Filter => "filter",
            Self::Aggregate => "aggregate",
            Self::Grain => "grain",
            Self::Modifier => "modifier",
            Self::Quoted => "quoted",
            Self::Value => "value",
            Self::Entity => "entity",
            Self::Term => "term",
        }
    }
}

/// The facts a question states, by kind. Two questions may share an answer only when their
/// slots are equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slots(BTreeMap<SlotKind, Vec<String>>);

impl Slots {
    /// The facts of one kind (empty when none).
    pub fn get(&self, kind: SlotKind) -> &[String] {
        self.0.get(&kind).map_or(&[], Vec::as_slice)
    }

    /// The database values the question names (alone or as a filter's operand), as the value
    /// index keys them.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        let alone = self.get(SlotKind::Value).iter().map(String::as_str);
        let filtered = self.get(SlotKind::Filter).iter().filter_map(|f| {
            let mut parts = f.splitn(4, ':');
            let (_, kind, _, value) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            (kind == "value").then_some(value)
        });
        alone.chain(filtered)
    }

    /// Whether the question stated no fact at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A canonical text of all facts: equal slots give equal signatures, different slots
    /// different ones.
    pub fn signature(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }

    fn push(&mut self, kind: SlotKind, text: impl Into<String>) {
        self.0.entry(kind).or_default().push(text.into());
    }

    fn finish(mut self) -> Self {
        for (kind, items) in &mut self.0 {
            if kind.unordered() {
                items.sort();
            }
            if matches!(kind, SlotKind::Term | SlotKind::Entity) {
                items.dedup();
            }
        }
        self
    }
}

impl std::fmt::Display for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (kind, items) in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{}={}", kind.name(), items.join(","))?;
        }
        Ok(())
    }
}

/// What the guard knows of the database: the words of its table and column names and,
/// optionally, its known values.
#[derive(Clone, Default)]
pub struct Vocabulary {
    entities: HashSet<String>,
    values: Option<Arc<ValueIndex>>,
    /// The semantic model, whose synonyms are the same words as their item's name.
    semantic: Option<crate::semantic::Semantic>,
}

impl std::fmt::Debug for Vocabulary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocabulary")
            .field("entity_words", &self.entities.len())
            .field("values", &self.values.as_ref().map_or(0, |v| v.len()))
            .finish()
    }
}

impl Vocabulary {
    /// A vocabulary with no schema and no values.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The words of every table, view and column name of `catalog`.
    pub fn from_catalog(catalog: &Catalog) -> Self {
        let mut entities = HashSet::new();
        for table in &catalog.tables {
            let names = std::iter::once(&table.name).chain(table.columns.iter().map(|c| &c.name));
            for name in names {
                for w in text::identifier_words(name) {
                    entities.insert(normal_form(&text::word_token(&w).norm));
                }
            }
        }
        Self {
            entities,
            values: None,
            semantic: None,
        }
    }

    /// The same vocabulary reading `semantic`'s synonyms as their item's name (see
    /// [`fold`](Self::fold)).
    pub fn with_semantic(mut self, semantic: Option<crate::semantic::Semantic>) -> Self {
        self.semantic = semantic;
        self
    }

    /// `question` with each phrase of the semantic model (a synonym or a name) written as its
    /// item's name: "sales by country" reads "revenue by billing country" when "sales" names
    /// the measure "revenue" and "country" the dimension "billing country". A phrase that names
    /// items of different names stays as it is, and so does everything else in the question.
    /// Without a model, or when the question's words cannot be placed, the question itself.
    pub fn fold<'q>(&self, question: &'q str) -> std::borrow::Cow<'q, str> {
        use std::borrow::Cow;
        let Some(semantic) = &self.semantic else {
            return Cow::Borrowed(question);
        };
        let tokens = text::tokenize(question);
        let matches = semantic.find(&tokens);
        if matches.is_empty() {
            return Cow::Borrowed(question);
        }
        // Where each token is in the question.
        let mut at = Vec::with_capacity(tokens.len());
        let mut cursor = 0;
        for t in &tokens {
            let Some(start) = question[cursor..].find(&t.raw).map(|p| p + cursor) else {
                return Cow::Borrowed(question);
            };
            cursor = start + t.raw.len();
            at.push((start, cursor));
        }
        let mut out = String::with_capacity(question.len() + 16);
        let mut copied = 0;
        for m in &matches {
            let Some((&first, rest)) = m.items.split_first() else {
                continue;
            };
            let name = semantic.name(first);
            if rest.iter().any(|&i| semantic.name(i) != name) {
                continue;
            }
            let (start, end) = (at[m.start].0, at[m.end - 1].1);
            out.push_str(&question[copied..start]);
            out.push_str(name);
            copied = end;
        }
        out.push_str(&question[copied..]);
        Cow::Owned(out)
    }

    /// The same vocabulary with the database's known values.
    pub fn with_values(mut self, values: Arc<ValueIndex>) -> Self {
        self.values = Some(values);
        self
    }

    fn is_value(&self, phrase: &str) -> bool {
        self.values
            .as_ref()
            .is_some_and(|v| !v.lookup(phrase).is_empty())
    }

    fn max_value_words(&self) -> usize {
        self.values.as_ref().map_or(0, |v| v.max_words())
    }
}

/// Fold, singular, synonyms, verb lemma: the form in which names and terms are compared.
fn normal_form(norm: &str) -> String {
    words::lemma(&text::fold(norm))
}

/// Markers that combine with their neighbours in the second pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Cmp(&'static str),
    PostCmp(&'static str),
    Link(&'static str),
    Between,
    And,
    Prep(&'static str),
    Rank(&'static str),
    Order(&'static str),
    Filter(&'static str),
    Agg(&'static str),
    Grain(&'static str),
    Modifier(&'static str),
    Relative(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Slot(SlotKind, String),
    Mark(Mark),
}

impl Item {
    fn from_mark(mark: Mark) -> Self {
        let slot = |kind, text: &str| Item::Slot(kind, text.to_string());
        match mark {
            Mark::Rank(t) => slot(SlotKind::Rank, t),
            Mark::Order(t) => slot(SlotKind::Order, t),
            Mark::Agg(t) => slot(SlotKind::Aggregate, t),
            Mark::Grain(t) => slot(SlotKind::Grain, t),
            Mark::Modifier(t) => slot(SlotKind::Modifier, t),
            Mark::Relative(t) => Item::Slot(SlotKind::Relative, dated(t)),
            other => Item::Mark(other),
        }
    }

    fn bound(&self) -> Option<(SlotKind, &str)> {
        match self {
            Item::Slot(kind, text) if kind.bound() => Some((*kind, text)),
            _ => None,
        }
    }
}

/// One token as the guard reads it.
#[derive(Debug, Clone)]
struct Tok {
    raw: String,
    /// Lower case without accents.
    w: String,
    /// [`normal_form`] of the token.
    norm: String,
    number: Option<f64>,
    quoted: bool,
    /// Written with digits only.
    digits: bool,
    /// An upper-case abbreviation in a question that is not all upper case ("US", "IT"): never a
    /// stop word.
    acronym: bool,
    /// A plural noun ("customers").
    plural: bool,
}

/// Marks a plural entity word while number still matters (see [`second_pass`]).
const PLURAL: char = '*';

/// The facts `question` states (see the module documentation).
pub fn extract(question: &str, vocabulary: &Vocabulary) -> Slots {
    let toks = read_tokens(question);
    let items = first_pass(&toks, vocabulary);
    let mut slots = second_pass(items);
    if question.contains('%') {
        slots.push(SlotKind::Modifier, "ratio");
    }
    slots.finish()
}

fn read_tokens(question: &str) -> Vec<Tok> {
    let shouting = !question.chars().any(char::is_lowercase);
    let mut out: Vec<Tok> = Vec::new();
    for t in tokens(question) {
        let w = text::fold(&t.lower).into_owned();
        let number = if t.quoted || !thousands_grouping(&t.raw) {
            None
        } else {
            t.number.or_else(|| extra_number(&w))
        };
        let tok = Tok {
            digits: !t.raw.is_empty() && t.raw.bytes().all(|b| b.is_ascii_digit()),
            norm: if thousands_grouping(&t.raw) {
                normal_form(&t.norm)
            } else {
                t.raw.clone()
            },
            acronym: !shouting
                && t.raw.chars().count() >= 2
                && t.raw.chars().all(|c| c.is_ascii_uppercase()),
            plural: number.is_none() && !t.quoted && text::singular(&t.lower) != t.lower,
            raw: t.raw,
            w,
            number,
            quoted: t.quoted,
        };
        // Spelled-out numbers combine: "twenty five", "two thousand", "5 hundred".
        if let (Some(prev), Some(n)) = (out.last_mut(), tok.number)
            && !tok.digits
            && !prev.quoted
            && let Some(p) = prev.number
            && (prev.digits
                || extra_number(&prev.w).is_some()
                || text::word_token(&prev.w).number.is_some())
            && combines(p, n, prev.digits)
        {
            let value = if n >= 100.0 { p * n } else { p + n };
            prev.number = Some(value);
            prev.digits = false;
            prev.raw = number_text(value);
            prev.w = prev.raw.clone();
            prev.norm = prev.raw.clone();
            continue;
        }
        out.push(tok);
    }
    out
}

/// Whether the commas of a number group thousands ("1,000", "12,345.5"); "1,5" (a decimal
/// comma) is kept as written rather than read as 15.
fn thousands_grouping(raw: &str) -> bool {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    let whole = digits.split('.').next().unwrap_or(digits);
    if !whole.contains(',') || !whole.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return true;
    }
    let mut groups = whole.split(',');
    let first = groups.next().unwrap_or("");
    (1..=3).contains(&first.len()) && groups.all(|g| g.len() == 3)
}

/// Whether a number word `n` extends the number `p` before it.
fn combines(p: f64, n: f64, p_digits: bool) -> bool {
    if n >= 100.0 {
        // "two hundred", "5 thousand"; "2023 thousand" is not a thing.
        return p < 1000.0 && (n == 100.0 || n == 1000.0 || n == 1_000_000.0);
    }
    // "twenty five", "one hundred five"; not "10 5".
    !p_digits && n < 10.0 && (p % 10.0 == 0.0 && p >= 20.0 || p >= 100.0 && p % 100.0 == 0.0)
}

fn first_pass(toks: &[Tok], vocab: &Vocabulary) -> Vec<Item> {
    let mut items = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let (item, used) = read_item(toks, i, vocab);
        if let Some(item) = item {
            items.push(item);
        }
        i += used.max(1);
    }
    items
}

/// A period relative to today, with today's date (UTC): "last year" asked on another day may
/// be another year, so an answer cached today is never served for it then.
fn dated(relative: &str) -> String {
    format!("{relative}@{}", chrono::Utc::now().date_naive())
}

/// Reads the item at `i`; returns it (or `None` for a stop word) and the tokens it used.
fn read_item(toks: &[Tok], i: usize, vocab: &Vocabulary) -> (Option<Item>, usize) {
    let t = &toks[i];
    let word = |k: usize| toks.get(k).map_or("", |t| t.w.as_str());
    let slot = |kind, text: String| Some(Item::Slot(kind, text));
    if t.quoted {
        return (slot(SlotKind::Quoted, t.raw.trim().to_string()), 1);
    }
    if let Some(len) = value_at(toks, i, vocab) {
        let phrase: Vec<&str> = toks[i..i + len].iter().map(|t| t.w.as_str()).collect();
        return (slot(SlotKind::Value, phrase.join(" ")), len);
    }
    for (phrase, mark) in words::PHRASES {
        if phrase.iter().enumerate().all(|(k, p)| word(i + k) == *p) {
            return (Some(Item::from_mark(*mark)), phrase.len());
        }
    }
    if let Some((text, len)) = relative_at(toks, i) {
        return (slot(SlotKind::Relative, dated(&text)), len);
    }
    if let Some((kind, n, len)) = period_at(toks, i) {
        return (slot(kind, n.to_string()), len);
    }
    if is_iso_date(&t.w) {
        return (slot(SlotKind::Date, t.w.clone()), 1);
    }
    if let Some(n) = t.number {
        let year = t.digits && t.raw.len() == 4 && (1900.0..=2100.0).contains(&n);
        return if year {
            (slot(SlotKind::Year, number_text(n)), 1)
        } else {
            (slot(SlotKind::Number, number_text(n)), 1)
        };
    }
    if t.w != "first"
        && let Some(n) = words::ordinal(&t.w)
    {
        return (slot(SlotKind::Number, format!("#{n}")), 1);
    }
    if let Some(m) = text::month(&t.w)
        && (t.w != "may" || may_is_month(toks, i))
    {
        return (slot(SlotKind::Month, m.to_string()), 1);
    }
    if let Some(d) = words::weekday(&t.w) {
        return (slot(SlotKind::Weekday, d.to_string()), 1);
    }
    if let Some(unit) = words::time_unit(&t.w) {
        return (slot(SlotKind::Grain, unit.to_string()), 1);
    }
    if let Some((mark, len)) = words::shared_mark(&[word(i), word(i + 1), word(i + 2)]) {
        return (Some(Item::from_mark(mark)), len);
    }
    if let Some(mark) = words::word_mark(&t.w) {
        return (Some(Item::from_mark(mark)), 1);
    }
    if (words::is_stop(&t.w) && !t.acronym) || t.norm.is_empty() {
        return (None, 1);
    }
    if vocab.entities.contains(&t.norm) {
        let text = if t.plural {
            format!("{}{PLURAL}", t.norm)
        } else {
            t.norm.clone()
        };
        return (slot(SlotKind::Entity, text), 1);
    }
    (slot(SlotKind::Term, t.norm.clone()), 1)
}

/// The length of the longest known value starting at `i`.
fn value_at(toks: &[Tok], i: usize, vocab: &Vocabulary) -> Option<usize> {
    let max = vocab.max_value_words().min(toks.len() - i);
    (1..=max).rev().find(|&len| {
        let span = &toks[i..i + len];
        let quoted = span.iter().any(|t| t.quoted);
        let lone_number = len == 1 && span[0].number.is_some();
        !quoted
            && !lone_number
            && vocab.is_value(
                &span
                    .iter()
                    .map(|t| t.w.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            )
    })
}

/// "last year", "past 3 months", "this quarter", "2 weeks ago".
fn relative_at(toks: &[Tok], i: usize) -> Option<(String, usize)> {
    let w = |k: usize| toks.get(k).map_or("", |t| t.w.as_str());
    let num = |k: usize| toks.get(k).and_then(|t| t.number);
    if let Some(class) = words::relative_class(w(i)) {
        if let Some(unit) = words::time_unit(w(i + 1)) {
            return Some((format!("{class}:{unit}"), 2));
        }
        if let (Some(n), Some(unit)) = (num(i + 1), words::time_unit(w(i + 2))) {
            let class = if matches!(class, "previous" | "past") {
                "trailing"
            } else {
                class
            };
            return Some((format!("{class}:{}:{unit}", number_text(n)), 3));
        }
    }
    if let (Some(n), Some(unit)) = (num(i), words::time_unit(w(i + 1)))
        && w(i + 2) == "ago"
    {
        return Some((format!("ago:{}:{unit}", number_text(n)), 3));
    }
    if let Some(unit) = words::time_unit(w(i))
        && w(i + 1) == "ago"
    {
        return Some((format!("ago:1:{unit}"), 2));
    }
    None
}

/// Quarters and halves: "Q1", "first quarter", "quarter 2", "H2", "second half".
fn period_at(toks: &[Tok], i: usize) -> Option<(SlotKind, u32, usize)> {
    let w = |k: usize| toks.get(k).map_or("", |t| t.w.as_str());
    let small = |k: usize, max: u32| {
        let t = toks.get(k)?;
        let n = t
            .number
            .filter(|n| n.fract() == 0.0 && *n >= 1.0 && *n <= f64::from(max))
            .map(|n| n as u32)
            .or_else(|| words::ordinal(&t.w).filter(|n| (1..=max).contains(n)))?;
        Some(n)
    };
    let tagged = |prefix: char, max: u32| {
        let rest = w(i).strip_prefix(prefix)?;
        let n: u32 = rest.parse().ok()?;
        (1..=max).contains(&n).then_some(n)
    };
    if let Some(n) = tagged('q', 4) {
        return Some((SlotKind::Quarter, n, 1));
    }
    if let Some(n) = tagged('h', 2) {
        return Some((SlotKind::Half, n, 1));
    }
    if w(i + 1) == "quarter"
        && let Some(n) = small(i, 4)
    {
        return Some((SlotKind::Quarter, n, 2));
    }
    if w(i + 1) == "half"
        && let Some(n) = small(i, 2)
    {
        return Some((SlotKind::Half, n, 2));
    }
    if w(i) == "quarter"
        && let Some(n) = small(i + 1, 4)
    {
        return Some((SlotKind::Quarter, n, 2));
    }
    None
}

/// "May" is a month before a number or after a preposition; otherwise the verb.
fn may_is_month(toks: &[Tok], i: usize) -> bool {
    let next_number = toks.get(i + 1).is_some_and(|t| t.number.is_some());
    let prev = if i > 0 { toks[i - 1].w.as_str() } else { "" };
    next_number
        || matches!(
            prev,
            "in" | "of"
                | "for"
                | "during"
                | "since"
                | "until"
                | "before"
                | "after"
                | "from"
                | "to"
                | "through"
                | "between"
                | "and"
                | "by"
                | "early"
                | "late"
                | "mid"
        )
}

/// Binds markers to their neighbours: ranges, comparisons with their operand, prepositions
/// with the value they introduce.
fn second_pass(items: Vec<Item>) -> Slots {
    let mut slots = Slots::default();
    let mut i = 0;
    let at = |k: usize| items.get(k);
    let bound = |k: usize| at(k).and_then(Item::bound);
    let is_link = |k: usize| matches!(at(k), Some(Item::Mark(Mark::Prep("to") | Mark::Link(_))));
    let range = |x: (SlotKind, &str), y: (SlotKind, &str)| {
        (x.0 == y.0 && x.0 != SlotKind::Value).then(|| format!("{}:{}..{}", x.0.name(), x.1, y.1))
    };
    while i < items.len() {
        // between X and Y; from X to Y
        let opener = matches!(at(i), Some(Item::Mark(Mark::Between | Mark::Prep("from"))));
        if opener
            && let (Some(x), Some(y)) = (bound(i + 1), bound(i + 3))
            && (matches!(at(i + 2), Some(Item::Mark(Mark::And))) || is_link(i + 2))
            && let Some(r) = range(x, y)
        {
            slots.push(SlotKind::Range, r);
            i += 4;
            continue;
        }
        // X to Y
        if let (Some(x), Some(y)) = (bound(i), bound(i + 2))
            && is_link(i + 1)
            && let Some(r) = range(x, y)
        {
            slots.push(SlotKind::Range, r);
            i += 3;
            continue;
        }
        // X or more
        if let (Some(x), Some(Item::Mark(Mark::PostCmp(op)))) = (bound(i), at(i + 1)) {
            slots.push(SlotKind::Comparison, format!("{op}:{}:{}", x.0.name(), x.1));
            i += 2;
            continue;
        }
        // "by month", "per month": the grain says it all ("monthly").
        let groups = matches!(
            &items[i],
            Item::Mark(Mark::Prep("by")) | Item::Slot(SlotKind::Modifier, _)
        ) && !matches!(&items[i], Item::Slot(_, t) if t != "group");
        if groups && matches!(at(i + 1), Some(Item::Slot(SlotKind::Grain, _))) {
            i += 1;
            continue;
        }
        // "not in Germany", "didn't buy Rock": a filter word binds what follows it.
        if let Some(Item::Mark(Mark::Filter(f))) = at(i) {
            match (at(i + 1), at(i + 2)) {
                (Some(Item::Mark(Mark::Prep(p))), Some(Item::Slot(SlotKind::Value, v))) => {
                    slots.push(SlotKind::Filter, format!("{f}:value:{p}:{v}"));
                    i += 3;
                }
                (Some(Item::Slot(kind, text)), _) => {
                    slots.push(SlotKind::Filter, format!("{f}:{}:{text}", kind.name()));
                    i += 2;
                }
                _ => {
                    slots.push(SlotKind::Filter, *f);
                    i += 1;
                }
            }
            continue;
        }
        match &items[i] {
            Item::Slot(kind, text) => slots.push(*kind, text.clone()),
            Item::Mark(mark) => {
                let op = match mark {
                    Mark::Cmp(op) | Mark::Link(op) | Mark::PostCmp(op) => Some(*op),
                    Mark::Between => Some("between"),
                    Mark::Prep("from") if bound(i + 1).is_some_and(|b| b.0 != SlotKind::Value) => {
                        Some("from")
                    }
                    Mark::Prep("to") if bound(i + 1).is_some_and(|b| b.0 != SlotKind::Value) => {
                        Some("to")
                    }
                    _ => None,
                };
                if let Some(op) = op {
                    match bound(i + 1) {
                        Some((kind, text))
                            if !matches!(mark, Mark::Prep(_)) || kind != SlotKind::Value =>
                        {
                            slots
                                .push(SlotKind::Comparison, format!("{op}:{}:{text}", kind.name()));
                            i += 1;
                        }
                        _ => slots.push(SlotKind::Comparison, op),
                    }
                } else if let Mark::Prep(prep) = mark {
                    match bound(i + 1) {
                        Some((SlotKind::Value, text)) => {
                            slots.push(SlotKind::Value, format!("{prep}:{text}"));
                            i += 1;
                        }
                        _ if *prep == "by" => slots.push(SlotKind::Modifier, "by"),
                        _ => {}
                    }
                }
            }
        }
        i += 1;
    }
    // "by" groups ("revenue by country") unless it names what a ranking is by ("top 5
    // customers by revenue").
    let ranked = !slots.get(SlotKind::Rank).is_empty();
    if let Some(mods) = slots.0.get_mut(&SlotKind::Modifier) {
        if ranked {
            mods.retain(|m| m != "by");
        } else {
            mods.iter_mut()
                .filter(|m| *m == "by")
                .for_each(|m| *m = "group".into());
        }
        if mods.is_empty() {
            slots.0.remove(&SlotKind::Modifier);
        }
    }
    // "The top customer" is one row, "the top customers" several: without a count, a ranking
    // keeps the grammatical number of what it ranks. Everywhere else plurals are the same word.
    let counted = !slots.get(SlotKind::Number).is_empty();
    if (!ranked || counted)
        && let Some(entities) = slots.0.get_mut(&SlotKind::Entity)
    {
        for e in entities.iter_mut() {
            if e.ends_with(PLURAL) {
                e.pop();
            }
        }
    }
    // With an explicit count, "the 5 highest" and "the top 5" ask for the same rows.
    if counted && let Some(ranks) = slots.0.get_mut(&SlotKind::Rank) {
        for r in ranks.iter_mut() {
            match r.as_str() {
                "most" => *r = "top".into(),
                "least" => *r = "bottom".into(),
                _ => {}
            }
        }
    }
    slots
}

#[cfg(test)]
mod tests;
