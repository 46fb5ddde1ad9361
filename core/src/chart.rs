//! The chart of an answer: which chart suits a result, and its complete
//! [Vega-Lite](https://vega.github.io/vega-lite/) v6 specification.
//!
//! The engine builds the specification from the result alone (its column types and values) and
//! the words of the question; no model writes any of it. The rules, first match wins:
//!
//! - a **time** column (ISO months `2024-01`, dates, timestamps, periods such as `2024-Q1`, or a
//!   column of years, quarters, months, weeks or days as numbers, named so: `year`, `month`) and a
//!   measure: a `line` with a point per row, in time order (a temporal axis for ISO dates and
//!   months, an ordinal one for years and other periods). A category beside them draws one line
//!   per category, or stacked bars when the question asks for a share or a breakdown.
//! - a **category** and a measure: a `bar` chart sorted by value, largest first, drawn
//!   horizontally when the labels are long or many; a `pie` when the question asks for one ("as a
//!   pie"), for at most 6 values, none negative.
//!   When the question asks for a share, percentage, breakdown or split: one `stacked_bar` (of at
//!   most 10 parts; more are bars).
//! - **two categories** and a measure: a `stacked_bar`, colored by the second category.
//! - **two measures**, with or without a label column: a `scatter` plot.
//!
//! A question asking for a share (`share`, `percentage`, `percent`, `%`, `proportion`) stacks
//! to 100% (`"stack": "normalize"`, a percent axis); one asking for a `breakdown` or a `split`
//! stacks the values themselves. A code shown beside its name (one name per code) counts as one
//! category, drawn by its name.
//!
//! Every specification has the `$schema` of Vega-Lite 6, a `title` made of the column titles
//! ("Revenue by Genre"), the question as its `description`, `width: "container"`, the rows
//! inline (`data.values`, one object per row keyed by column name: a name that is empty or taken
//! by an earlier column gets a suffix, and characters Vega-Lite cannot reference are replaced,
//! see `data_key`), a mark with `tooltip: true` and a tooltip listing every column. Axes are titled with the humanized column names (`total_sales` is "Total sales") and
//! numbers formatted by their type and name: integers `,d`, decimals `,.2f`, money (`price`,
//! `revenue`, `sales`, `amount`, `cost`, ...; `total` when the values are not whole) `$,.2f`,
//! fractions named as percentages (`percent`, `share`, `ratio`, `rate`, ...) `.1%`.
//!
//! Column names are untrusted. They appear only as data keys, as field references escaped the
//! Vega-Lite way (a backslash before `.`, `[`, `]` and `'`) and as titles; the values appear
//! only in `data.values`. The specification holds no expression.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json, json};

use crate::{
    answer::ChartSuggestion,
    exec::{ResultColumn, Value},
};

/// The `$schema` of every specification.
pub const VEGA_LITE_SCHEMA: &str = "https://vega.github.io/schema/vega-lite/v6.json";

/// A category with at most this many values may be drawn as a pie.
const PIE_MAX_ROWS: usize = 6;
/// A share of at most this many parts is one stacked bar (one color each); more are bars.
const STACK_MAX_PARTS: usize = 10;
/// Bars are horizontal beyond this many categories...
const HORIZONTAL_MIN_CATEGORIES: usize = 13;
/// ... or when a label is longer than this many characters.
const HORIZONTAL_MIN_LABEL_CHARS: usize = 13;
/// Titles are cut to this many characters.
const TITLE_MAX_CHARS: usize = 60;
/// The description (the question) is cut to this many characters.
const DESCRIPTION_MAX_CHARS: usize = 200;

/// The chart that suits a result, with its Vega-Lite specification; `None` when no chart does
/// (fewer than two rows, fewer than two or more than three columns, no measure, ...).
///
/// `question` is the question as asked: words such as "share" or "breakdown" ask for stacked
/// bars.
pub fn suggest_chart(
    columns: &[ResultColumn],
    rows: &[Vec<Value>],
    question: &str,
) -> Option<ChartSuggestion> {
    if !(2..=3).contains(&columns.len()) || rows.len() < 2 {
        return None;
    }
    let fields = fields(columns, rows);
    let plan = plan(&fields, rows, question)?;
    Some(ChartSuggestion {
        kind: plan.kind().into(),
        x: columns[plan.x()].name.clone(),
        y: columns[plan.y()].name.clone(),
        vega_lite: plan.spec(&fields, rows, question),
    })
}

/// What a column is to a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Numbers to plot.
    Measure,
    /// Points in time.
    Time(Time),
    /// Labels.
    Category,
}

/// How a time column is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Time {
    /// ISO months (`2024-01`): a temporal axis, by month.
    Month,
    /// ISO dates (`2024-01-05`): a temporal axis, by day.
    Day,
    /// ISO timestamps, or dates and timestamps mixed: a continuous temporal axis.
    Instant,
    /// Years, quarters, month numbers, `2024-Q1`: an ordinal axis in ascending order.
    Ordinal,
}

/// A result column as the chart uses it.
#[derive(Debug)]
struct Field {
    /// The key of its values in `data.values`.
    key: String,
    /// `key` as a Vega-Lite field reference (escaped).
    field: String,
    /// The axis and legend title.
    title: String,
    role: Role,
    /// The d3 number format of a measure.
    format: &'static str,
}

impl Field {
    /// The Vega-Lite type of the column.
    fn kind(&self) -> &'static str {
        match self.role {
            Role::Measure => "quantitative",
            Role::Time(Time::Ordinal) => "ordinal",
            Role::Time(_) => "temporal",
            Role::Category => "nominal",
        }
    }

    /// The time unit a temporal column is drawn by.
    fn time_unit(&self) -> Option<&'static str> {
        match self.role {
            Role::Time(Time::Month) => Some("utcyearmonth"),
            Role::Time(Time::Day) => Some("utcyearmonthdate"),
            _ => None,
        }
    }

    /// The field definition shared by every channel: field, type, title, time unit.
    fn base(&self) -> Map<String, Json> {
        let mut m = Map::new();
        m.insert("field".into(), self.field.clone().into());
        m.insert("type".into(), self.kind().into());
        if let Some(unit) = self.time_unit() {
            m.insert("timeUnit".into(), unit.into());
        }
        m.insert("title".into(), self.title.clone().into());
        m
    }

    /// A position or color channel: time in ascending order, measures with their format.
    fn channel(&self) -> Map<String, Json> {
        let mut m = self.base();
        match self.role {
            Role::Measure => {
                m.insert("axis".into(), json!({ "format": self.format }));
            }
            Role::Time(Time::Ordinal) => {
                m.insert("sort".into(), "ascending".into());
            }
            _ => {}
        }
        m
    }

    /// A position channel for bars: time becomes ordinal (one band per period), in order.
    fn band(&self) -> Map<String, Json> {
        let mut m = self.channel();
        if let Role::Time(_) = self.role {
            m.insert("type".into(), "ordinal".into());
            m.insert("sort".into(), "ascending".into());
        }
        m
    }

    /// The column's entry in the tooltip.
    fn tooltip(&self) -> Json {
        let mut m = self.base();
        if self.role == Role::Measure {
            m.insert("format".into(), self.format.into());
        }
        Json::Object(m)
    }
}

/// The columns of a result as the chart uses them: data keys (see [`data_key`]) and titles,
/// each distinct (the tooltip is keyed by the titles).
fn fields(columns: &[ResultColumn], rows: &[Vec<Value>]) -> Vec<Field> {
    let mut keys = BTreeSet::new();
    let mut titles = BTreeSet::new();
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let name = if c.name.is_empty() {
                format!("column_{}", i + 1)
            } else {
                c.name.clone()
            };
            let base = data_key(&name);
            let mut key = base.clone();
            let mut n = 1;
            while !keys.insert(key.clone()) {
                n += 1;
                key = format!("{base}_{n}");
            }
            let base = humanize(&name);
            let mut title = base.clone();
            let mut n = 1;
            while !titles.insert(title.clone()) {
                n += 1;
                let suffix = format!(" ({n})");
                title = cut(&base, TITLE_MAX_CHARS - suffix.chars().count()) + &suffix;
            }
            let values: Vec<&Value> = rows
                .iter()
                .filter_map(|r| r.get(i))
                .filter(|v| !matches!(v, Value::Null))
                .collect();
            let role = role(&c.name, &values);
            Field {
                field: escape_field(&key),
                title,
                format: if role == Role::Measure {
                    number_format(&c.name, &values)
                } else {
                    ""
                },
                key,
                role,
            }
        })
        .collect()
}

/// The key of a column's values in `data.values`: its name, except for what Vega-Lite cannot
/// reference reliably, whatever the escaping (it unescapes field names more than once and puts
/// them into expressions of its own): a control character becomes a space, a backslash a slash,
/// a double quote a single one, and a name of JavaScript's `Object.prototype` (`__proto__`,
/// `constructor`, ...) gets a trailing underscore.
fn data_key(name: &str) -> String {
    const PROTOTYPE: &[&str] = &[
        "__proto__",
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
        "constructor",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "toString",
        "valueOf",
    ];
    let key: String = name
        .chars()
        .map(|c| match c {
            '\\' => '/',
            '"' => '\'',
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => ' ',
            c => c,
        })
        .collect();
    if PROTOTYPE.contains(&key.as_str()) {
        key + "_"
    } else {
        key
    }
}

/// What a column is, from its name and its values (NULLs left out).
fn role(name: &str, values: &[&Value]) -> Role {
    if values
        .iter()
        .all(|v| matches!(v, Value::Int(_) | Value::Float(_) | Value::Decimal(_)))
    {
        return if is_period_number(name, values) {
            Role::Time(Time::Ordinal)
        } else {
            Role::Measure
        };
    }
    let texts: Option<Vec<&str>> = values
        .iter()
        .map(|v| match v {
            Value::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    match texts {
        Some(_) if is_period_number(name, values) => Role::Time(Time::Ordinal),
        Some(texts) => time_of_texts(&texts).map_or(Role::Category, Role::Time),
        None => Role::Category,
    }
}

/// Whether a column holds years, quarters, months, weeks or days as numbers (or as digits, such
/// as `"01"`): its name says so (`year`, `order_year`, `Quarter`, `month`) and its values are
/// whole numbers in the range.
fn is_period_number(name: &str, values: &[&Value]) -> bool {
    let words = words(name);
    let has = |w: &[&str]| words.iter().any(|x| w.contains(&x.as_str()));
    if values.is_empty() || has(&["count", "number", "num", "total", "sum", "avg", "average"]) {
        return false;
    }
    let range = if has(&["year", "yr", "yyyy"]) {
        1000..=9999
    } else if has(&["quarter", "qtr"]) {
        1..=4
    } else if has(&["month"]) {
        1..=12
    } else if has(&["week"]) {
        0..=53
    } else if has(&["day"]) {
        1..=31
    } else {
        return false;
    };
    values.iter().all(|v| {
        let n = match v {
            Value::Text(t)
                if (1..=4).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) =>
            {
                t.parse().ok()
            }
            _ => whole(v),
        };
        n.is_some_and(|n| range.contains(&n))
    })
}

/// A number without a fractional part, as an integer.
fn whole(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(*f as i64),
        Value::Decimal(d) => {
            let (int, frac) = d.split_once('.').unwrap_or((d, ""));
            if frac.bytes().all(|b| b == b'0') {
                int.parse().ok()
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The time a text column holds, when every value is a point or a period in time.
fn time_of_texts(texts: &[&str]) -> Option<Time> {
    if texts.is_empty() {
        return None;
    }
    let shapes: Vec<Option<Time>> = texts.iter().map(|t| iso_time(t)).collect();
    if shapes.iter().all(|s| *s == Some(Time::Ordinal)) {
        return Some(Time::Ordinal);
    }
    for grain in [Time::Month, Time::Day] {
        if shapes.iter().all(|s| *s == Some(grain)) {
            return Some(grain);
        }
    }
    if shapes
        .iter()
        .all(|s| matches!(s, Some(Time::Day | Time::Instant)))
    {
        return Some(Time::Instant);
    }
    // Other periods (`2024-Q1`, `2024-W05`, `2024/01`): text that starts with a year sorts in
    // time order.
    texts
        .iter()
        .all(|t| t.len() >= 4 && t.as_bytes()[..4].iter().all(u8::is_ascii_digit))
        .then_some(Time::Ordinal)
}

/// The shape of one ISO-8601 text: a year (`Ordinal`), a month, a date or a timestamp.
fn iso_time(t: &str) -> Option<Time> {
    let b = t.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let number = |range: std::ops::Range<usize>| -> u32 {
        b[range].iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
    };
    if !digits(0..4) {
        return None;
    }
    if b.len() == 4 {
        return Some(Time::Ordinal);
    }
    if b.get(4) != Some(&b'-') || !digits(5..7) || !(1..=12).contains(&number(5..7)) {
        return None;
    }
    if b.len() == 7 {
        return Some(Time::Month);
    }
    if b.get(7) != Some(&b'-') || !digits(8..10) || !(1..=31).contains(&number(8..10)) {
        return None;
    }
    if b.len() == 10 {
        return Some(Time::Day);
    }
    // `T` or a space, `HH:MM`, then optional seconds, fraction and zone.
    if !matches!(b.get(10), Some(b'T' | b' '))
        || !digits(11..13)
        || b.get(13) != Some(&b':')
        || !digits(14..16)
    {
        return None;
    }
    let mut rest = &t[16..];
    if let Some(s) = rest.strip_prefix(':') {
        let secs = s.bytes().take_while(u8::is_ascii_digit).count();
        if secs != 2 {
            return None;
        }
        rest = &s[2..];
        if let Some(f) = rest.strip_prefix('.') {
            let n = f.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            rest = &f[n..];
        }
    }
    let zone = rest.as_bytes();
    let zone_ok = match zone {
        [] | [b'Z'] => true,
        [b'+' | b'-', h1, h2] => h1.is_ascii_digit() && h2.is_ascii_digit(),
        [b'+' | b'-', h1, h2, m1, m2] | [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
        }
        _ => false,
    };
    zone_ok.then_some(Time::Instant)
}

/// The d3 format of a measure's numbers, from its name and values.
fn number_format(name: &str, values: &[&Value]) -> &'static str {
    let words = words(name);
    let has = |w: &[&str]| words.iter().any(|x| w.contains(&x.as_str()));
    let lower = name.to_lowercase();
    let integral = values.iter().all(|v| match v {
        Value::Int(_) => true,
        Value::Decimal(_) => whole(v).is_some(),
        _ => false,
    });
    let numbers: Vec<f64> = values.iter().filter_map(|v| number(v)).collect();
    let fractions = !integral && numbers.iter().all(|n| (-1.0..=1.0).contains(n));
    let counted = has(&["count", "number", "num", "qty", "quantity", "n"]);
    if fractions
        && !counted
        && (lower.contains('%')
            || has(&[
                "percent",
                "percentage",
                "pct",
                "share",
                "ratio",
                "rate",
                "fraction",
                "proportion",
            ]))
    {
        return ".1%";
    }
    let money = has(&[
        "price", "prices", "revenue", "revenues", "sales", "sale", "amount", "amounts", "cost",
        "costs", "spend", "spent", "income", "profit", "profits", "salary", "salaries", "fee",
        "fees", "payment", "payments",
    ]) || ["price", "revenue", "amount", "cost"]
        .iter()
        .any(|w| lower.ends_with(w));
    let total = has(&["total", "totals", "subtotal"]);
    if !counted && (money || (total && !integral)) {
        "$,.2f"
    } else if integral {
        ",d"
    } else {
        ",.2f"
    }
}

/// A number as `f64`, for the checks on a measure's values.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => f.is_finite().then_some(*f),
        Value::Decimal(d) => d.parse().ok(),
        _ => None,
    }
}

/// The lowercase words of a name: split at anything that is not a letter or a digit and where
/// camel case starts a word (`TotalSales`, `invoice_date`, `unitPrice`).
fn words(name: &str) -> Vec<String> {
    split_words(name, |c| !c.is_alphanumeric())
        .into_iter()
        .map(|w| w.to_lowercase())
        .collect()
}

/// Splits at separators and where camel case starts a word, keeping the case.
fn split_words(name: &str, separator: impl Fn(char) -> bool) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if separator(c) {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if !word.is_empty() && c.is_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || (prev.is_uppercase() && next_lower) {
                words.push(std::mem::take(&mut word));
            }
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// A column name as a title: words split at `_`, `-`, spaces and camel case, the first one
/// capitalized, the others lowercase unless they are acronyms (`total_sales` is "Total sales",
/// `CustomerID` is "Customer ID"); control characters split words too, a backslash becomes a
/// slash, and the title is cut to a readable length.
fn humanize(name: &str) -> String {
    // Vega-Lite writes titles into expressions of its own, and a backslash there breaks them.
    let name = name.replace('\\', "/");
    let shouting = !name.chars().any(char::is_lowercase);
    let words: Vec<String> = split_words(&name, |c| {
        c == '_' || c == '-' || c.is_whitespace() || c.is_control()
    })
    .into_iter()
    .map(|w| {
        let acronym = w.chars().count() > 1 && !w.chars().any(char::is_lowercase);
        if acronym && !shouting {
            w
        } else {
            w.to_lowercase()
        }
    })
    .collect();
    let joined = words.join(" ");
    let mut chars = joined.chars();
    let title = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Value".to_string(),
    };
    cut(&title, TITLE_MAX_CHARS)
}

/// `text` cut to `max` characters, an ellipsis marking the cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// A data key as a Vega-Lite field reference: `.` and `[` `]` would read nested values and a
/// leading quote would start a quoted name, so each of them is escaped with a backslash (keys
/// hold no backslash or double quote, see [`data_key`]).
fn escape_field(key: &str) -> String {
    let mut s = String::with_capacity(key.len());
    for c in key.chars() {
        if matches!(c, '.' | '[' | ']' | '\'') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// How the question wants parts of a whole shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stack {
    /// As values (a breakdown, a split).
    Zero,
    /// As shares of 100%.
    Normalize,
}

/// Whether the question asks for a share (stacked to 100%) or a breakdown (stacked).
fn asked_stack(question: &str) -> Option<Stack> {
    let lower = question.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
    if lower.contains('%')
        || has(&[
            "share",
            "shares",
            "percentage",
            "percentages",
            "percent",
            "proportion",
            "proportions",
        ])
    {
        Some(Stack::Normalize)
    } else if has(&["breakdown", "split", "composition", "broken"]) {
        Some(Stack::Zero)
    } else {
        None
    }
}

/// Whether the question asks for a pie. Without it, a category and a measure are bars: bars
/// compare values (a ranking, "by country") better than slices, which read only as parts of a
/// whole.
fn asked_pie(question: &str) -> bool {
    question
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "pie")
}

/// The chart chosen for a result: column indexes and how they are drawn.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// A time column and a measure, a line per category of `series`.
    Line {
        x: usize,
        y: usize,
        series: Option<usize>,
    },
    /// A category and a measure.
    Bar {
        x: usize,
        y: usize,
        horizontal: bool,
    },
    /// A category and a measure, as slices.
    Pie { x: usize, y: usize },
    /// Two measures, the other column (if any) in the tooltip.
    Scatter { x: usize, y: usize },
    /// A measure stacked by `color` along `x` (one bar when there is no `x`).
    Stacked {
        x: Option<usize>,
        y: usize,
        color: usize,
        stack: Stack,
        horizontal: bool,
    },
}

/// Chooses the chart for a result (see the module documentation for the rules).
fn plan(fields: &[Field], rows: &[Vec<Value>], question: &str) -> Option<Plan> {
    let measures: Vec<usize> = (0..fields.len())
        .filter(|&i| fields[i].role == Role::Measure)
        .collect();
    let dims: Vec<usize> = (0..fields.len())
        .filter(|&i| fields[i].role != Role::Measure)
        .collect();
    let is_time = |i: usize| matches!(fields[i].role, Role::Time(_));
    let stack = asked_stack(question);
    let pie = asked_pie(question);
    // A measure without a single value draws nothing.
    if measures.iter().any(|&m| !has_values(rows, m)) {
        return None;
    }
    match (dims.as_slice(), measures.as_slice()) {
        (&[x], &[y]) => Some(one_dimension(rows, x, y, is_time(x), stack, pie)),
        (&[a, b], &[y]) if one_to_one(rows, a, b) => {
            // A code beside its name: one category, drawn by the name (or by the time).
            let x = if is_time(a) { a } else { b };
            Some(one_dimension(rows, x, y, is_time(x), stack, pie))
        }
        (&[a, b], &[y]) => {
            // Time along the axis (the finer one when both are: month within year), else the
            // first category; the other column colors.
            let (x, color) = if is_time(b) { (b, a) } else { (a, b) };
            match (is_time(x), stack) {
                (true, None) => Some(Plan::Line {
                    x,
                    y,
                    series: Some(color),
                }),
                (_, stack) => Some(Plan::Stacked {
                    x: Some(x),
                    y,
                    color,
                    stack: stack.unwrap_or(Stack::Zero),
                    horizontal: !is_time(x) && horizontal(rows, x),
                }),
            }
        }
        (&[] | &[_], &[x, y]) => Some(Plan::Scatter { x, y }),
        _ => None,
    }
}

/// The chart of one dimension and one measure.
fn one_dimension(
    rows: &[Vec<Value>],
    x: usize,
    y: usize,
    time: bool,
    stack: Option<Stack>,
    pie: bool,
) -> Plan {
    if time {
        return Plan::Line { x, y, series: None };
    }
    if let Some(stack) = stack
        && distinct(rows, x) <= STACK_MAX_PARTS
    {
        return Plan::Stacked {
            x: None,
            y,
            color: x,
            stack,
            horizontal: true,
        };
    }
    let non_negative = rows
        .iter()
        .filter_map(|r| r.get(y).and_then(number))
        .all(|n| n >= 0.0);
    if pie && rows.len() <= PIE_MAX_ROWS && non_negative {
        Plan::Pie { x, y }
    } else {
        Plan::Bar {
            x,
            y,
            horizontal: horizontal(rows, x),
        }
    }
}

/// Whether column `i` holds at least one number.
fn has_values(rows: &[Vec<Value>], i: usize) -> bool {
    rows.iter().any(|r| r.get(i).and_then(number).is_some())
}

/// The number of distinct values of column `i`.
fn distinct(rows: &[Vec<Value>], i: usize) -> usize {
    rows.iter()
        .map(|r| label(r.get(i)))
        .collect::<BTreeSet<_>>()
        .len()
}

/// Whether bars along the categories of column `i` read better horizontally: many categories,
/// or long labels.
fn horizontal(rows: &[Vec<Value>], i: usize) -> bool {
    let labels: BTreeSet<String> = rows.iter().map(|r| label(r.get(i))).collect();
    labels.len() >= HORIZONTAL_MIN_CATEGORIES
        || labels
            .iter()
            .any(|l| l.chars().count() >= HORIZONTAL_MIN_LABEL_CHARS)
}

/// A value as the label a chart shows.
fn label(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "null".into(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Int(i)) => i.to_string(),
        Some(Value::Float(f)) => f.to_string(),
        Some(Value::Decimal(s) | Value::Text(s) | Value::Bytes(s)) => s.clone(),
    }
}

/// Whether columns `a` and `b` pair each value of one with a single value of the other.
fn one_to_one(rows: &[Vec<Value>], a: usize, b: usize) -> bool {
    let mut ab: BTreeMap<String, String> = BTreeMap::new();
    let mut ba: BTreeMap<String, String> = BTreeMap::new();
    rows.iter().all(|r| {
        let (Some(x), Some(y)) = (r.get(a), r.get(b)) else {
            return false;
        };
        let (x, y) = (format!("{x:?}"), format!("{y:?}"));
        ab.entry(x.clone()).or_insert_with(|| y.clone()) == &y
            && ba.entry(y).or_insert(x.clone()) == &x
    })
}

impl Plan {
    /// The kind of chart: `line`, `bar`, `pie`, `scatter` or `stacked_bar`.
    fn kind(&self) -> &'static str {
        match self {
            Plan::Line { .. } => "line",
            Plan::Bar { .. } => "bar",
            Plan::Pie { .. } => "pie",
            Plan::Scatter { .. } => "scatter",
            Plan::Stacked { .. } => "stacked_bar",
        }
    }

    /// The column named as `x`: the category or time column (the first measure of a scatter
    /// plot, the stacked category of a single bar).
    fn x(&self) -> usize {
        match *self {
            Plan::Line { x, .. }
            | Plan::Bar { x, .. }
            | Plan::Pie { x, .. }
            | Plan::Scatter { x, .. } => x,
            Plan::Stacked { x, color, .. } => x.unwrap_or(color),
        }
    }

    /// The column named as `y`: the measure (the second measure of a scatter plot).
    fn y(&self) -> usize {
        match *self {
            Plan::Line { y, .. }
            | Plan::Bar { y, .. }
            | Plan::Pie { y, .. }
            | Plan::Scatter { y, .. }
            | Plan::Stacked { y, .. } => y,
        }
    }

    /// The Vega-Lite specification.
    fn spec(&self, fields: &[Field], rows: &[Vec<Value>], question: &str) -> Json {
        let mut encoding = Map::new();
        let (mark, title) = match *self {
            Plan::Line { x, y, series } => {
                encoding.insert("x".into(), fields[x].channel().into());
                encoding.insert("y".into(), fields[y].channel().into());
                if let Some(s) = series {
                    encoding.insert("color".into(), fields[s].band().into());
                }
                (
                    json!({ "type": "line", "point": true, "tooltip": true }),
                    format!("{} over {}", fields[y].title, fields[x].title),
                )
            }
            Plan::Bar { x, y, horizontal } => {
                let (along, across) = if horizontal { ("y", "x") } else { ("x", "y") };
                let mut category = fields[x].band();
                category.insert("sort".into(), format!("-{across}").into());
                encoding.insert(along.into(), category.into());
                encoding.insert(across.into(), fields[y].channel().into());
                (
                    json!({ "type": "bar", "tooltip": true }),
                    format!("{} by {}", fields[y].title, fields[x].title),
                )
            }
            Plan::Pie { x, y } => {
                let mut theta = fields[y].base();
                theta.insert("stack".into(), true.into());
                encoding.insert("theta".into(), theta.into());
                let mut color = fields[x].base();
                color.insert(
                    "sort".into(),
                    json!({ "field": fields[y].field, "order": "descending" }),
                );
                encoding.insert("color".into(), color.into());
                encoding.insert(
                    "order".into(),
                    json!({ "field": fields[y].field, "type": "quantitative", "sort": "descending" }),
                );
                (
                    json!({ "type": "arc", "tooltip": true }),
                    format!("{} by {}", fields[y].title, fields[x].title),
                )
            }
            Plan::Scatter { x, y } => {
                encoding.insert("x".into(), fields[x].channel().into());
                encoding.insert("y".into(), fields[y].channel().into());
                (
                    json!({ "type": "point", "filled": true, "tooltip": true }),
                    format!("{} vs. {}", fields[y].title, fields[x].title),
                )
            }
            Plan::Stacked {
                x,
                y,
                color,
                stack,
                horizontal,
            } => {
                let across = if horizontal { "x" } else { "y" };
                let mut value = fields[y].channel();
                if stack == Stack::Normalize {
                    value.insert("stack".into(), "normalize".into());
                    value.insert("axis".into(), json!({ "format": ".0%" }));
                    value.insert(
                        "title".into(),
                        cut(&format!("Share of {}", fields[y].title), TITLE_MAX_CHARS).into(),
                    );
                } else {
                    value.insert("stack".into(), "zero".into());
                }
                encoding.insert(across.into(), value.into());
                let mut legend = fields[color].band();
                if let Some(x) = x {
                    let along = if horizontal { "y" } else { "x" };
                    let mut category = fields[x].band();
                    if fields[x].role == Role::Category {
                        category.insert("sort".into(), format!("-{across}").into());
                    }
                    encoding.insert(along.into(), category.into());
                } else {
                    // One bar: the largest part first.
                    legend.insert(
                        "sort".into(),
                        json!({ "field": fields[y].field, "order": "descending" }),
                    );
                    encoding.insert(
                        "order".into(),
                        json!({ "field": fields[y].field, "type": "quantitative", "sort": "descending" }),
                    );
                }
                encoding.insert("color".into(), legend.into());
                let title = match x {
                    Some(x) => format!(
                        "{} by {} and {}",
                        fields[y].title, fields[x].title, fields[color].title
                    ),
                    None => format!("{} by {}", fields[y].title, fields[color].title),
                };
                (json!({ "type": "bar", "tooltip": true }), title)
            }
        };
        encoding.insert(
            "tooltip".into(),
            fields.iter().map(Field::tooltip).collect::<Vec<_>>().into(),
        );

        let mut spec = Map::new();
        spec.insert("$schema".into(), VEGA_LITE_SCHEMA.into());
        spec.insert("title".into(), cut(&title, TITLE_MAX_CHARS * 2).into());
        let question = question.split_whitespace().collect::<Vec<_>>().join(" ");
        if !question.is_empty() {
            spec.insert(
                "description".into(),
                cut(&question, DESCRIPTION_MAX_CHARS).into(),
            );
        }
        spec.insert("width".into(), "container".into());
        spec.insert(
            "data".into(),
            json!({ "values": data_values(fields, rows) }),
        );
        spec.insert("mark".into(), mark);
        spec.insert("encoding".into(), encoding.into());
        Json::Object(spec)
    }
}

/// The rows as `data.values`: one object per row, keyed by the columns' data keys.
fn data_values(fields: &[Field], rows: &[Vec<Value>]) -> Vec<Json> {
    rows.iter()
        .map(|row| {
            let object: Map<String, Json> = fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.key.clone(), cell(row.get(i), f.role)))
                .collect();
            Json::Object(object)
        })
        .collect()
}

/// One value as chart data: numbers as numbers (exact decimals too; an integer beyond 2^53 as
/// the nearest float, as JavaScript holds it; a non-finite number is `null`), everything else
/// as text, NULL as `null`. Timestamps written with a space get the ISO `T` that every browser
/// parses.
fn cell(v: Option<&Value>, role: Role) -> Json {
    match v {
        None | Some(Value::Null) => Json::Null,
        Some(Value::Bool(b)) => b.to_string().into(),
        Some(Value::Int(i)) => integer(*i),
        Some(Value::Float(f)) => float(*f),
        Some(v @ Value::Decimal(d)) => match whole(v) {
            Some(i) => integer(i),
            None => d.parse().map_or(Json::Null, float),
        },
        Some(Value::Text(t))
            if role == Role::Time(Time::Instant) && t.as_bytes().get(10) == Some(&b' ') =>
        {
            t.replacen(' ', "T", 1).into()
        }
        Some(Value::Text(t) | Value::Bytes(t)) => t.clone().into(),
    }
}

/// An integer as JSON: exact up to 2^53, the nearest float beyond (what JavaScript reads).
fn integer(i: i64) -> Json {
    const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;
    if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i) {
        i.into()
    } else {
        float(i as f64)
    }
}

/// A float as JSON: `null` when it is not finite.
fn float(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, data_type: &str) -> ResultColumn {
        ResultColumn {
            name: name.into(),
            data_type: data_type.into(),
        }
    }

    fn cols(a: &str, b: &str) -> Vec<ResultColumn> {
        vec![column(a, "TEXT"), column(b, "INTEGER")]
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    /// Rows of a label and a number each.
    fn pairs(labels: &[&str], numbers: &[Value]) -> Vec<Vec<Value>> {
        labels
            .iter()
            .zip(numbers)
            .map(|(l, n)| vec![text(l), n.clone()])
            .collect()
    }

    fn ints(n: &[i64]) -> Vec<Value> {
        n.iter().map(|&i| Value::Int(i)).collect()
    }

    /// The chart, checked for what every specification has, and printed (`--nocapture`) as
    /// `vega-lite <name>: <json>` for validation against the Vega-Lite schema.
    fn chart(
        name: &str,
        columns: &[ResultColumn],
        rows: &[Vec<Value>],
        question: &str,
    ) -> ChartSuggestion {
        let chart = suggest_chart(columns, rows, question).expect("a chart");
        let spec = &chart.vega_lite;
        let text = serde_json::to_string(spec).expect("json");
        println!("vega-lite {name}: {text}");
        assert_eq!(spec["$schema"], VEGA_LITE_SCHEMA);
        assert_eq!(spec["width"], "container");
        assert_eq!(spec["mark"]["tooltip"], true, "{text}");
        let values = spec["data"]["values"].as_array().expect("values");
        assert_eq!(values.len(), rows.len(), "one data value per row");
        for (row, value) in rows.iter().zip(values) {
            assert_eq!(value.as_object().expect("object").len(), row.len());
        }
        let tooltip = spec["encoding"]["tooltip"].as_array().expect("tooltip");
        assert_eq!(tooltip.len(), columns.len(), "every column in the tooltip");
        assert_no_expression(spec);
        // The text round-trips: valid JSON whatever the names hold.
        let back: Json = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(&back, spec);
        chart
    }

    /// No expression anywhere: no `expr`, `calculate`, `filter` or `signal` key.
    fn assert_no_expression(v: &Json) {
        match v {
            Json::Object(m) => {
                for (k, v) in m {
                    // `data.values` rows are keyed by column names, which may be anything.
                    if k == "values" {
                        continue;
                    }
                    assert!(
                        ![
                            "expr",
                            "calculate",
                            "filter",
                            "signal",
                            "transform",
                            "params"
                        ]
                        .contains(&k.as_str()),
                        "{k} in the specification"
                    );
                    assert_no_expression(v);
                }
            }
            Json::Array(items) => items.iter().for_each(assert_no_expression),
            _ => {}
        }
    }

    fn kind(c: &ChartSuggestion) -> (&str, &str, &str) {
        (c.kind.as_str(), c.x.as_str(), c.y.as_str())
    }

    #[test]
    fn months_draw_a_line_in_time_order() {
        let rows = pairs(&["2024-01", "2024-02", "2024-03"], &ints(&[3, 5, 4]));
        let c = chart("line-months", &cols("month", "n"), &rows, "orders by month");
        assert_eq!(kind(&c), ("line", "month", "n"));
        let spec = &c.vega_lite;
        assert_eq!(spec["mark"]["type"], "line");
        assert_eq!(spec["mark"]["point"], true);
        let x = &spec["encoding"]["x"];
        assert_eq!(
            (&x["field"], &x["type"], &x["timeUnit"], &x["title"]),
            (
                &json!("month"),
                &json!("temporal"),
                &json!("utcyearmonth"),
                &json!("Month")
            )
        );
        assert_eq!(spec["encoding"]["y"]["type"], "quantitative");
        assert_eq!(spec["encoding"]["y"]["axis"]["format"], ",d");
        assert_eq!(
            spec["data"]["values"][1],
            json!({"month": "2024-02", "n": 5})
        );
    }

    #[test]
    fn dates_timestamps_and_years_are_time() {
        // Dates (a DATE column: ISO text), by day.
        let rows = pairs(
            &["2024-01-05", "2024-01-06"],
            &[Value::Float(1.5), Value::Float(2.25)],
        );
        let c = chart(
            "line-dates",
            &[column("day", "DATE"), column("amount", "REAL")],
            &rows,
            "",
        );
        assert_eq!(c.kind, "line");
        assert_eq!(c.vega_lite["encoding"]["x"]["timeUnit"], "utcyearmonthdate");
        assert_eq!(c.vega_lite["encoding"]["y"]["axis"]["format"], "$,.2f");
        assert!(c.vega_lite.get("description").is_none(), "no question");

        // Timestamps: a continuous time axis; a space becomes the ISO `T`.
        let rows = pairs(
            &[
                "2024-01-05 10:00:00",
                "2024-01-05T11:30:00.5Z",
                "2024-01-06",
            ],
            &ints(&[1, 2, 3]),
        );
        let c = chart("line-timestamps", &cols("at", "n"), &rows, "");
        assert_eq!(c.kind, "line");
        let x = &c.vega_lite["encoding"]["x"];
        assert_eq!(x["type"], "temporal");
        assert!(x.get("timeUnit").is_none());
        assert_eq!(
            c.vega_lite["data"]["values"][0]["at"],
            "2024-01-05T10:00:00"
        );

        // Years: an integer column named so, or text; an ordinal axis in ascending order.
        let rows: Vec<Vec<Value>> = [2022, 2021, 2023]
            .iter()
            .map(|&y| vec![Value::Int(y), Value::Decimal("10.50".into())])
            .collect();
        let c = chart(
            "line-years",
            &[
                column("invoice_year", "INTEGER"),
                column("revenue", "NUMERIC"),
            ],
            &rows,
            "revenue per year",
        );
        assert_eq!(kind(&c), ("line", "invoice_year", "revenue"));
        let x = &c.vega_lite["encoding"]["x"];
        assert_eq!(
            (&x["type"], &x["sort"]),
            (&json!("ordinal"), &json!("ascending"))
        );
        assert_eq!(c.vega_lite["data"]["values"][0]["revenue"], json!(10.5));
        let rows = pairs(&["2023", "2024"], &ints(&[1, 2]));
        let c = chart("line-text-years", &cols("y", "n"), &rows, "");
        assert_eq!(c.vega_lite["encoding"]["x"]["type"], "ordinal");

        // Month numbers as digits, in a column named so.
        let months: Vec<String> = (1..=12).map(|m| format!("{m:02}")).collect();
        let months: Vec<&str> = months.iter().map(String::as_str).collect();
        let rows = pairs(&months, &ints(&[7; 12]));
        let c = chart("line-month-numbers", &cols("month", "invoices"), &rows, "");
        assert_eq!(kind(&c), ("line", "month", "invoices"));
        assert_eq!(c.vega_lite["encoding"]["x"]["type"], "ordinal");
        // ... but not when the name says nothing of time.
        let rows = pairs(&months, &ints(&[7; 12]));
        assert_eq!(
            chart("bar-codes", &cols("code", "n"), &rows, "").kind,
            "bar"
        );

        // Other periods that start with a year.
        let rows = pairs(&["2024-Q1", "2024-Q2"], &ints(&[1, 2]));
        let c = chart("line-quarters", &cols("quarter", "n"), &rows, "");
        assert_eq!(c.kind, "line");
        assert_eq!(c.vega_lite["encoding"]["x"]["type"], "ordinal");

        // A number named year that is not a year is a measure: two measures, a scatter plot.
        let rows = vec![ints(&[1, 5]), ints(&[2, 7])];
        let c = chart(
            "scatter-years-of-service",
            &[column("years", "INTEGER"), column("salary", "INTEGER")],
            &rows,
            "",
        );
        assert_eq!(c.kind, "scatter");
    }

    #[test]
    fn a_category_and_a_measure_draw_bars_largest_first() {
        let labels: Vec<String> = (0..8).map(|i| format!("genre {i}")).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let rows = pairs(&labels, &vec![Value::Float(1.5); 8]);
        let c = chart("bar", &cols("genre", "revenue"), &rows, "revenue by genre");
        assert_eq!(kind(&c), ("bar", "genre", "revenue"));
        let spec = &c.vega_lite;
        assert_eq!(spec["mark"]["type"], "bar");
        assert_eq!(spec["encoding"]["x"]["field"], "genre");
        assert_eq!(spec["encoding"]["x"]["type"], "nominal");
        assert_eq!(spec["encoding"]["x"]["sort"], "-y");
        assert_eq!(spec["encoding"]["y"]["field"], "revenue");
        assert_eq!(spec["encoding"]["y"]["axis"]["format"], "$,.2f");
        assert_eq!(spec["title"], "Revenue by Genre");
        assert_eq!(spec["description"], "revenue by genre");

        // Many categories, or long labels: horizontal bars.
        let labels: Vec<String> = (0..20).map(|i| format!("g{i}")).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let rows = pairs(&labels, &ints(&[7; 20]));
        let c = chart("bar-many", &cols("genre", "tracks"), &rows, "");
        assert_eq!(c.vega_lite["encoding"]["y"]["field"], "genre");
        assert_eq!(c.vega_lite["encoding"]["y"]["sort"], "-x");
        assert_eq!(c.vega_lite["encoding"]["x"]["field"], "tracks");
        let long = [
            "Alternative & Punk",
            "Rock",
            "Jazz",
            "Metal",
            "Blues",
            "Latin",
            "Pop",
        ];
        let rows = pairs(&long, &ints(&[1, 2, 3, 4, 5, 6, 7]));
        let c = chart("bar-long-labels", &cols("genre", "tracks"), &rows, "");
        assert_eq!(kind(&c), ("bar", "genre", "tracks"));
        assert_eq!(c.vega_lite["encoding"]["y"]["sort"], "-x");
    }

    #[test]
    fn a_pie_is_drawn_when_asked_for_and_bars_otherwise() {
        let rows = pairs(&["Rock", "Jazz", "Metal"], &ints(&[5, 3, 2]));
        // Without the word, bars: they compare the values.
        let c = chart("bar-few", &cols("Name", "count"), &rows, "tracks per genre");
        assert_eq!(kind(&c), ("bar", "Name", "count"));
        let c = chart(
            "pie",
            &cols("Name", "count"),
            &rows,
            "tracks per genre as a pie chart",
        );
        assert_eq!(kind(&c), ("pie", "Name", "count"));
        let spec = &c.vega_lite;
        assert_eq!(spec["mark"]["type"], "arc");
        assert_eq!(spec["encoding"]["theta"]["field"], "count");
        assert_eq!(spec["encoding"]["color"]["field"], "Name");
        assert_eq!(spec["encoding"]["order"]["sort"], "descending");
        // A negative value cannot be a slice.
        let rows = pairs(&["a", "b", "c"], &ints(&[5, -3, 2]));
        assert_eq!(
            chart("bar-negative", &cols("k", "delta"), &rows, "pie").kind,
            "bar"
        );
    }

    #[test]
    fn two_measures_draw_a_scatter_plot_with_the_label_in_the_tooltip() {
        let rows: Vec<Vec<Value>> = (0..5)
            .map(|i| {
                vec![
                    text(&format!("product {i}")),
                    Value::Float(f64::from(i) * 1.25),
                    Value::Int(i64::from(i) * 10),
                ]
            })
            .collect();
        let columns = [
            column("product", "TEXT"),
            column("unit_price", "REAL"),
            column("units_sold", "INTEGER"),
        ];
        let c = chart("scatter", &columns, &rows, "price against units sold");
        assert_eq!(kind(&c), ("scatter", "unit_price", "units_sold"));
        let spec = &c.vega_lite;
        assert_eq!(spec["mark"]["type"], "point");
        assert_eq!(spec["encoding"]["x"]["field"], "unit_price");
        assert_eq!(spec["encoding"]["y"]["field"], "units_sold");
        assert_eq!(spec["encoding"]["x"]["title"], "Unit price");
        assert_eq!(spec["encoding"]["tooltip"][0]["field"], "product");
        // Two measures alone.
        let rows = vec![ints(&[1, 2]), ints(&[3, 4]), ints(&[5, 6])];
        let c = chart(
            "scatter-bare",
            &[column("a", "INTEGER"), column("b", "INTEGER")],
            &rows,
            "",
        );
        assert_eq!(kind(&c), ("scatter", "a", "b"));
    }

    #[test]
    fn two_categories_or_a_share_draw_stacked_bars() {
        let mut rows = Vec::new();
        for country in ["USA", "Canada"] {
            for genre in ["Rock", "Jazz", "Metal"] {
                rows.push(vec![text(country), text(genre), Value::Float(2.5)]);
            }
        }
        let columns = [
            column("country", "TEXT"),
            column("genre", "TEXT"),
            column("sales", "REAL"),
        ];
        let c = chart("stacked", &columns, &rows, "sales by country and genre");
        assert_eq!(kind(&c), ("stacked_bar", "country", "sales"));
        let spec = &c.vega_lite;
        assert_eq!(spec["mark"]["type"], "bar");
        assert_eq!(spec["encoding"]["x"]["field"], "country");
        assert_eq!(spec["encoding"]["x"]["sort"], "-y");
        assert_eq!(spec["encoding"]["color"]["field"], "genre");
        assert_eq!(spec["encoding"]["y"]["stack"], "zero");

        // A share: stacked to 100%, a percent axis.
        let c = chart(
            "stacked-share",
            &columns,
            &rows,
            "What share of sales does each genre have per country?",
        );
        let y = &c.vega_lite["encoding"]["y"];
        assert_eq!(
            (&y["stack"], &y["axis"]["format"], &y["title"]),
            (&json!("normalize"), &json!(".0%"), &json!("Share of Sales"))
        );

        // One category and a share: one bar of parts, largest first.
        let rows = pairs(&["Rock", "Jazz"], &ints(&[5, 3]));
        for (question, stack) in [
            ("percentage of tracks by genre", "normalize"),
            ("breakdown of tracks by genre", "zero"),
        ] {
            let c = chart("stacked-one-bar", &cols("genre", "tracks"), &rows, question);
            assert_eq!(kind(&c), ("stacked_bar", "genre", "tracks"));
            let spec = &c.vega_lite;
            assert_eq!(spec["encoding"]["x"]["stack"], stack);
            assert_eq!(spec["encoding"]["color"]["field"], "genre");
            assert!(spec["encoding"].get("y").is_none());
        }
        // A share of many parts: bars.
        let labels: Vec<String> = (0..24).map(|i| format!("genre {i}")).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let rows = pairs(&labels, &ints(&[3; 24]));
        let c = chart(
            "bar-share-of-many",
            &cols("genre", "tracks"),
            &rows,
            "share of tracks by genre",
        );
        assert_eq!(kind(&c), ("bar", "genre", "tracks"));

        // Time and a category: a line per category, or stacked bars over time for a breakdown.
        let mut rows = Vec::new();
        for month in ["2024-01", "2024-02"] {
            for genre in ["Rock", "Jazz"] {
                rows.push(vec![text(genre), text(month), Value::Int(4)]);
            }
        }
        let columns = [
            column("genre", "TEXT"),
            column("month", "TEXT"),
            column("tracks", "INTEGER"),
        ];
        let c = chart("line-series", &columns, &rows, "tracks by month and genre");
        assert_eq!(kind(&c), ("line", "month", "tracks"));
        assert_eq!(c.vega_lite["encoding"]["color"]["field"], "genre");
        let c = chart("stacked-time", &columns, &rows, "monthly split by genre");
        assert_eq!(kind(&c), ("stacked_bar", "month", "tracks"));
        let x = &c.vega_lite["encoding"]["x"];
        assert_eq!(
            (&x["type"], &x["sort"]),
            (&json!("ordinal"), &json!("ascending"))
        );
    }

    #[test]
    fn a_code_beside_its_name_is_one_category() {
        let mut three = cols("code", "name");
        three.push(column("count", "INTEGER"));
        let depts: Vec<Vec<Value>> = (0..8)
            .map(|i| {
                vec![
                    text(&format!("D{i}")),
                    text(&format!("Department {i}")),
                    Value::Int(i),
                ]
            })
            .collect();
        let c = chart("bar-by-name", &three, &depts, "");
        assert_eq!(kind(&c), ("bar", "name", "count"));
        // Two categories that are not one (country and city) are stacked.
        let mut cities = depts.clone();
        cities[1][0] = text("D0");
        let c = chart("stacked-code-name", &three, &cities, "");
        assert_eq!(kind(&c), ("stacked_bar", "code", "count"));
    }

    #[test]
    fn titles_and_number_formats_follow_names_and_values() {
        for (name, title) in [
            ("total_sales", "Total sales"),
            ("InvoiceDate", "Invoice date"),
            ("CustomerID", "Customer ID"),
            ("TOTAL_SALES", "Total sales"),
            ("count", "Count"),
            ("unitPrice", "Unit price"),
            ("a.b", "A.b"),
            ("___", "Value"),
            ("back\\slash", "Back/slash"),
            ("tab\tnew\nline\u{0}", "Tab new line"),
        ] {
            assert_eq!(humanize(name), title, "{name}");
        }
        assert_eq!(humanize(&"x".repeat(500)).chars().count(), TITLE_MAX_CHARS);

        let format = |name: &str, values: &[Value]| {
            let values: Vec<&Value> = values.iter().collect();
            number_format(name, &values)
        };
        let floats = [Value::Float(0.25), Value::Float(0.5)];
        let money = [
            Value::Decimal("10.50".into()),
            Value::Decimal("3.00".into()),
        ];
        assert_eq!(format("tracks", &ints(&[1, 2])), ",d");
        assert_eq!(format("avg_length", &[Value::Float(2.5)]), ",.2f");
        assert_eq!(format("revenue", &money), "$,.2f");
        assert_eq!(format("UnitPrice", &ints(&[1])), "$,.2f");
        assert_eq!(format("total", &money), "$,.2f");
        assert_eq!(format("total", &ints(&[3, 4])), ",d", "a total of things");
        assert_eq!(format("sales_count", &ints(&[3])), ",d");
        assert_eq!(format("share", &floats), ".1%");
        assert_eq!(format("conversion_rate", &floats), ".1%");
        assert_eq!(
            format("pct", &[Value::Float(45.5)]),
            ",.2f",
            "not a fraction"
        );

        let rows = pairs(&["a", "b"], &floats);
        let c = chart(
            "bar-percent",
            &cols("channel", "share_of_orders"),
            &rows,
            "",
        );
        assert_eq!(c.vega_lite["encoding"]["y"]["title"], "Share of orders");
        assert_eq!(c.vega_lite["encoding"]["tooltip"][1]["format"], ".1%");
    }

    #[test]
    fn hostile_column_names_stay_data_keys_and_escaped_fields() {
        let long = "n".repeat(300);
        for (name, key, field) in [
            ("a.b", "a.b", r"a\.b"),
            ("x[0]", "x[0]", r"x\[0\]"),
            ("\"quote", "'quote", r"\'quote"),
            ("a\\\"b", "a/'b", r"a/\'b"),
            ("'single", "'single", r"\'single"),
            ("back\\slash", "back/slash", "back/slash"),
            (
                "</script><script>alert(1)</script>",
                "</script><script>alert(1)</script>",
                "</script><script>alert(1)</script>",
            ),
            ("datum.x + 1", "datum.x + 1", r"datum\.x + 1"),
            ("${x}", "${x}", "${x}"),
            ("tab\tnew\nline\u{2028}", "tab new line ", "tab new line "),
            ("nul\u{0}del\u{7f}", "nul del ", "nul del "),
            (" spaced ", " spaced ", " spaced "),
            ("__proto__", "__proto___", "__proto___"),
            ("constructor", "constructor_", "constructor_"),
            ("toString", "toString_", "toString_"),
            ("datum", "datum", "datum"),
            ("_vgsid_", "_vgsid_", "_vgsid_"),
            ("__count", "__count", "__count"),
            ("ñandú 数据 😀", "ñandú 数据 😀", "ñandú 数据 😀"),
            (
                "`~!@#%^&*()-+=|;:,<>/?",
                "`~!@#%^&*()-+=|;:,<>/?",
                "`~!@#%^&*()-+=|;:,<>/?",
            ),
            (long.as_str(), long.as_str(), long.as_str()),
        ] {
            // Bars (and, asked for, a pie).
            let rows: Vec<Vec<Value>> = (0..8)
                .map(|i| vec![text(&format!("{name}{i}")), Value::Int(i + 1)])
                .collect();
            let columns = [
                column(name, "TEXT"),
                column(&format!("{name}.v"), "INTEGER"),
            ];
            // The name as the question (a `%` would ask for a share).
            let question = name.replace('%', "");
            let c = chart("hostile-bar", &columns, &rows, &question);
            assert_eq!(
                (c.kind.as_str(), c.x.as_str(), c.y.as_str()),
                ("bar", name, columns[1].name.as_str())
            );
            let spec = &c.vega_lite;
            let bars = spec["encoding"]
                .as_object()
                .expect("encoding")
                .values()
                .find(|e| e["type"] == "nominal")
                .expect("the category");
            assert_eq!(bars["field"], field);
            assert_eq!(spec["data"]["values"][3][key], format!("{name}3"));
            assert_eq!(spec["data"]["values"][3][data_key(&format!("{name}.v"))], 4);
            assert!(spec["title"].as_str().expect("title").chars().count() <= TITLE_MAX_CHARS * 2);
            let description = spec["description"].as_str().expect("description");
            assert!(description.chars().count() <= DESCRIPTION_MAX_CHARS);
            let titles: BTreeSet<&str> = spec["encoding"]["tooltip"]
                .as_array()
                .expect("tooltip")
                .iter()
                .map(|t| t["title"].as_str().expect("title"))
                .collect();
            assert_eq!(titles.len(), 2, "distinct titles: {titles:?}");
            assert_eq!(
                chart(
                    "hostile-pie",
                    &columns,
                    &rows[..3],
                    &format!("{question} pie")
                )
                .kind,
                "pie"
            );

            // A line by month, a stacked bar and a scatter plot.
            let rows: Vec<Vec<Value>> = ["2024-01", "2024-02", "2024-03"]
                .iter()
                .map(|m| vec![text(m), Value::Float(1.5)])
                .collect();
            let columns = [column(name, "TEXT"), column(&format!("{name}[1]"), "REAL")];
            assert_eq!(chart("hostile-line", &columns, &rows, name).kind, "line");
            let rows: Vec<Vec<Value>> = (0..6)
                .map(|i| {
                    vec![
                        text(&format!("{}", i % 2)),
                        text(&format!("{}", i % 3)),
                        Value::Int(i),
                    ]
                })
                .collect();
            let columns = [
                column(name, "TEXT"),
                column(&format!("{name}'"), "TEXT"),
                column(&format!("{name}\""), "INTEGER"),
            ];
            let c = chart("hostile-stacked", &columns, &rows, "share");
            assert_eq!(c.kind, "stacked_bar");
            let rows: Vec<Vec<Value>> = (0..4)
                .map(|i| {
                    vec![
                        text(&format!("p{i}")),
                        Value::Int(i),
                        Value::Float(f64::from(i as i32) / 2.0),
                    ]
                })
                .collect();
            let columns = [
                column(name, "TEXT"),
                column(&format!("{name}.x"), "INTEGER"),
                column(&format!("{name}.y"), "REAL"),
            ];
            assert_eq!(
                chart("hostile-scatter", &columns, &rows, name).kind,
                "scatter"
            );
        }
        // The same name twice, or none: distinct keys.
        let rows = vec![
            vec![text("a"), text("x"), Value::Int(1)],
            vec![text("b"), text("y"), Value::Int(2)],
            vec![text("a"), text("y"), Value::Int(2)],
        ];
        let c = chart(
            "duplicate-names",
            &[
                column("Name", "TEXT"),
                column("Name", "TEXT"),
                column("", "INTEGER"),
            ],
            &rows,
            "",
        );
        assert_eq!(kind(&c), ("stacked_bar", "Name", ""));
        assert_eq!(
            c.vega_lite["data"]["values"][0],
            json!({"Name": "a", "Name_2": "x", "column_3": 1})
        );
        assert_eq!(c.vega_lite["encoding"]["color"]["field"], "Name_2");
    }

    #[test]
    fn nulls_and_odd_values_keep_one_data_value_per_row() {
        let rows = vec![
            vec![text("a"), Value::Int(3)],
            vec![Value::Null, Value::Int(2)],
            vec![text("c"), Value::Null],
            vec![Value::Bool(true), Value::Float(f64::NAN)],
            vec![
                Value::Bytes("cafe".into()),
                Value::Decimal("12345678901234567890.5".into()),
            ],
            vec![text("f"), Value::Int(1)],
            vec![text("g"), Value::Int(i64::MAX)],
        ];
        let c = chart("bar-nulls", &cols("k", "v"), &rows, "");
        assert_eq!(c.kind, "bar");
        let values = &c.vega_lite["data"]["values"];
        assert_eq!(values[1], json!({"k": null, "v": 2}));
        assert_eq!(values[2], json!({"k": "c", "v": null}));
        assert_eq!(values[3], json!({"k": "true", "v": null}));
        assert_eq!(values[4]["k"], "cafe");
        assert!(values[4]["v"].is_f64());
        assert_eq!(
            values[6]["v"],
            json!(i64::MAX as f64),
            "beyond 2^53: a float"
        );

        // Time with a missing month still draws a line.
        let rows = vec![
            vec![text("2024-01"), Value::Int(1)],
            vec![Value::Null, Value::Int(2)],
            vec![text("2024-03"), Value::Null],
        ];
        assert_eq!(
            chart("line-nulls", &cols("month", "n"), &rows, "").kind,
            "line"
        );
    }

    #[test]
    fn no_chart_for_one_row_one_column_or_nothing_to_measure() {
        let rows = pairs(&["a", "b"], &ints(&[1, 2]));
        assert_eq!(suggest_chart(&cols("a", "b"), &rows[..1], ""), None);
        assert_eq!(suggest_chart(&cols("a", "b"), &[], ""), None);
        let one: Vec<Vec<Value>> = rows.iter().map(|r| vec![r[1].clone()]).collect();
        assert_eq!(suggest_chart(&[column("n", "INTEGER")], &one, ""), None);
        // Two labels and no number.
        let labels = vec![vec![text("a"), text("x")], vec![text("b"), text("y")]];
        assert_eq!(
            suggest_chart(&[column("a", "TEXT"), column("b", "TEXT")], &labels, ""),
            None
        );
        // A measure without a value.
        let empty = vec![vec![text("a"), Value::Null], vec![text("b"), Value::Null]];
        assert_eq!(suggest_chart(&cols("a", "b"), &empty, ""), None);
        // Four columns.
        let wide = vec![ints(&[1, 2, 3, 4]), ints(&[5, 6, 7, 8])];
        let columns: Vec<ResultColumn> = ["a", "b", "c", "d"]
            .iter()
            .map(|n| column(n, "INTEGER"))
            .collect();
        assert_eq!(suggest_chart(&columns, &wide, ""), None);
        // Three measures.
        assert_eq!(
            suggest_chart(&columns[..3], &[ints(&[1, 2, 3]), ints(&[4, 5, 6])], ""),
            None
        );
    }

    #[test]
    fn the_chart_serializes_as_vega_lite() {
        let rows = pairs(&["a", "b"], &ints(&[1, 2]));
        let c = chart("serialized", &cols("k", "v"), &rows, "");
        let v = serde_json::to_value(&c).expect("json");
        assert_eq!(v["vega_lite"]["$schema"], VEGA_LITE_SCHEMA);
        let back: ChartSuggestion = serde_json::from_value(v).expect("back");
        assert_eq!(back, c);
    }
}
