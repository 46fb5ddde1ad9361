//! The intermediate query representation: what the question asks for, in schema terms, before
//! it becomes SQL. One is kept with each answered turn so that a follow-up can patch it.

use serde::{Deserialize, Serialize};

pub use crate::catalog::ColumnRef;

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    /// `COUNT(*)` (or `COUNT(DISTINCT key)` when joins would repeat rows).
    Count,
    /// `COUNT(DISTINCT column)`.
    CountDistinct,
    /// `SUM`.
    Sum,
    /// `AVG`.
    Avg,
    /// `MIN`.
    Min,
    /// `MAX`.
    Max,
}

/// What an aggregate is computed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MeasureArg {
    /// Rows of a table (`COUNT`).
    Rows {
        /// The counted table.
        table: String,
    },
    /// One column.
    Column {
        /// The column.
        column: ColumnRef,
    },
    /// A measure of the semantic model, by its table and name; its SQL (the model's checked
    /// expression with its aggregation) is read from the model when the query is written, so
    /// that a stored state never carries SQL.
    Model {
        /// The catalog table the measure is on.
        table: String,
        /// The measure's name in the model.
        name: String,
    },
    /// The product of two columns of one table (price × quantity).
    Product {
        /// The first factor.
        left: ColumnRef,
        /// The second factor.
        right: ColumnRef,
    },
}

/// An aggregate value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    /// The function.
    pub agg: Agg,
    /// Its argument.
    pub arg: MeasureArg,
}

/// A time bucket for grouping by a date column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBucket {
    /// The year (`2024`).
    Year,
    /// Year and month (`2024-03`).
    YearMonth,
    /// The month number alone (`03`), used when a single year is already fixed.
    Month,
    /// The day (`2024-03-15`).
    Day,
}

/// A grouping dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Dimension {
    /// One column.
    Column {
        /// The column.
        column: ColumnRef,
    },
    /// An entity (a row of a table): grouped by its key, shown by its label columns.
    Entity {
        /// The table.
        table: String,
        /// Key columns (grouping).
        key: Vec<String>,
        /// Label columns (shown).
        labels: Vec<String>,
    },
    /// A dimension of the semantic model (an expression such as `FirstName || ' ' || LastName`),
    /// by its table and name.
    Model {
        /// The catalog table.
        table: String,
        /// The dimension's name in the model.
        name: String,
    },
    /// A date column cut into buckets.
    Time {
        /// The date column.
        column: ColumnRef,
        /// The bucket.
        bucket: TimeBucket,
    },
}

impl Dimension {
    /// The tables the dimension reads.
    pub fn table(&self) -> &str {
        match self {
            Self::Column { column } | Self::Time { column, .. } => &column.table,
            Self::Entity { table, .. } | Self::Model { table, .. } => table,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl CmpOp {
    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Lt => "<",
            Self::Le => "<=",
        }
    }
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Literal {
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
}

/// A condition on rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Filter {
    /// `column op value`.
    Compare {
        /// The column.
        column: ColumnRef,
        /// The operator.
        op: CmpOp,
        /// The value.
        value: Literal,
    },
    /// `column IN (values)`: any of several values.
    AnyOf {
        /// The column.
        column: ColumnRef,
        /// The values.
        values: Vec<Literal>,
    },
    /// `column BETWEEN low AND high`.
    Between {
        /// The column.
        column: ColumnRef,
        /// Lower bound, inclusive.
        low: Literal,
        /// Upper bound, inclusive.
        high: Literal,
    },
    /// The date column falls in a year, or in a month of a year.
    Period {
        /// The date column.
        column: ColumnRef,
        /// The year.
        year: i32,
        /// The month (1-12), when the period is a month.
        month: Option<u32>,
    },
    /// A named filter of the semantic model, by its name; `column` is the first column its
    /// predicate reads (it places the filter on its table).
    Model {
        /// A column of the filter's table that the predicate reads.
        column: ColumnRef,
        /// The filter's name in the model.
        name: String,
    },
    /// The date column is before (or from) a date, given as `YYYY-MM-DD`.
    Date {
        /// The date column.
        column: ColumnRef,
        /// `Lt` (before) or `Ge` (since); others are accepted as written.
        op: CmpOp,
        /// The date.
        date: String,
    },
    /// `column op factor * (SELECT agg(column) FROM its table)`: a comparison with an
    /// aggregate of the whole table ("longer than average", "more than twice the average").
    /// The aggregate is over every row of the column's table, without the question's other
    /// conditions, as the field's gold standard (Spider) writes it.
    VsAggregate {
        /// The compared column.
        column: ColumnRef,
        /// The operator.
        op: CmpOp,
        /// The aggregate of the column it is compared with.
        agg: Agg,
        /// The factor of the aggregate (1 for "more than the average", 2 for "twice").
        factor: f64,
    },
    /// The row holds the largest (or smallest) value of `column` among the rows of its table
    /// with the same `group` ("the most expensive track in each genre"): a correlated
    /// `column = (SELECT MAX(column) FROM table AS peer WHERE peer.group = table.group)`,
    /// valid on every dialect. Rows tied for the extreme are all kept.
    GroupExtreme {
        /// The ranked column.
        column: ColumnRef,
        /// The column of the same table whose equal values form a group.
        group: ColumnRef,
        /// Largest (`true`) or smallest.
        max: bool,
    },
    /// `column LIKE pattern`: the text contains, starts or ends with `text` (see
    /// [`LikeKind`]); compiled case-insensitively on every dialect.
    Like {
        /// The text column.
        column: ColumnRef,
        /// Where the text must be.
        position: LikeKind,
        /// The text as the question wrote it (its `%`, `_` and `\` are matched literally).
        text: String,
        /// `NOT LIKE`.
        negated: bool,
    },
    /// `[NOT] EXISTS` rows of a related table (reached along foreign keys from the outer row)
    /// that satisfy `filters`: "artists without albums", "customers who bought both Rock and
    /// Jazz tracks".
    Exists {
        /// A column of the outer table (its key): the table the related rows hang from.
        column: ColumnRef,
        /// The related table.
        table: String,
        /// Conditions on the related rows and the tables joined to reach them.
        filters: Vec<Filter>,
        /// `NOT EXISTS`: no such related row.
        negated: bool,
    },
    /// `column NOT IN (values)`: none of several values ("not in Canada or the USA").
    NoneOf {
        /// The column.
        column: ColumnRef,
        /// The values.
        values: Vec<Literal>,
    },
    /// `(a OR b ...)`: any of several conditions on columns of one table ("mountains higher
    /// than 5000 or with a prominence over 1000").
    Either {
        /// The first condition's column (every condition is on a column of its table).
        column: ColumnRef,
        /// The conditions, at least two.
        filters: Vec<Filter>,
    },
}

/// Where a text pattern must occur.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LikeKind {
    /// Anywhere (`%text%`).
    Contains,
    /// At the start (`text%`).
    StartsWith,
    /// At the end (`%text`).
    EndsWith,
}

impl Filter {
    /// The column the condition is on.
    pub fn column(&self) -> &ColumnRef {
        match self {
            Self::Compare { column, .. }
            | Self::AnyOf { column, .. }
            | Self::Between { column, .. }
            | Self::Period { column, .. }
            | Self::Model { column, .. }
            | Self::Date { column, .. }
            | Self::VsAggregate { column, .. }
            | Self::GroupExtreme { column, .. }
            | Self::Like { column, .. }
            | Self::Exists { column, .. }
            | Self::NoneOf { column, .. }
            | Self::Either { column, .. } => column,
        }
    }
}

/// A condition on an aggregate (`HAVING`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HavingFilter {
    /// The aggregate.
    pub measure: Measure,
    /// The operator.
    pub op: CmpOp,
    /// The bound.
    pub value: f64,
}

/// What rows are sorted by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OrderKey {
    /// The query's measure.
    Measure,
    /// A column.
    Column {
        /// The column.
        column: ColumnRef,
    },
}

/// Sorting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The key.
    pub key: OrderKey,
    /// Largest first.
    pub descending: bool,
    /// How the direction reads for the key's values, once the catalog has said (see
    /// [`OrderWords`]); absent: as numbers ("largest first").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<OrderWords>,
}

/// How a sort's direction reads for a key that is not a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderWords {
    /// Text: "A to Z", "Z to A".
    Alphabetical,
    /// Dates and times: "oldest first", "newest first".
    Chronological,
}

impl Order {
    /// The direction in words: "largest first", "Z to A", "newest first", ...
    pub fn direction(&self) -> &'static str {
        match (self.words, self.descending) {
            (None, true) => "largest first",
            (None, false) => "smallest first",
            (Some(OrderWords::Alphabetical), true) => "Z to A",
            (Some(OrderWords::Alphabetical), false) => "A to Z",
            (Some(OrderWords::Chronological), true) => "newest first",
            (Some(OrderWords::Chronological), false) => "oldest first",
        }
    }
}

/// A whole query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryIr {
    /// The table whose rows the question is about.
    pub subject: String,
    /// Columns shown (a listing, or extra columns beside groups).
    #[serde(default)]
    pub columns: Vec<ColumnRef>,
    /// The aggregate, when the question asks for one.
    #[serde(default)]
    pub measure: Option<Measure>,
    /// Grouping dimensions.
    #[serde(default)]
    pub group_by: Vec<Dimension>,
    /// Row conditions, all of which must hold.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Aggregate conditions.
    #[serde(default)]
    pub having: Vec<HavingFilter>,
    /// Sorting.
    #[serde(default)]
    pub order: Option<Order>,
    /// At most this many rows.
    #[serde(default)]
    pub limit: Option<u64>,
    /// Only distinct rows.
    #[serde(default)]
    pub distinct: bool,
    /// The measure is a percentage ("what percentage of tracks are Rock", "share of revenue
    /// by country").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<Share>,
    /// More aggregates shown beside the measure ("the maximum and minimum price"), over the
    /// same rows and groups; nothing ranks or filters by them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Measure>,
    /// Tables the question names only to say how the others relate ("mills built by the
    /// architects who built a bridge"): the joins pass through them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub through: Vec<String>,
}

/// What a percentage is of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Share {
    /// The rows that meet `conditions`, in percent of all the rows counted (of each group):
    /// `100.0 * SUM(CASE WHEN conditions THEN 1 ELSE 0 END) / NULLIF(COUNT(*), 0)`.
    Rows {
        /// The conditions, all of which must hold.
        conditions: Vec<Filter>,
    },
    /// Each group's measure in percent of the measure over the whole table:
    /// `100.0 * SUM(x) / (SELECT SUM(x) FROM t)`.
    OfTotal,
}

impl QueryIr {
    /// A listing of `subject` with nothing else yet.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            columns: Vec::new(),
            measure: None,
            group_by: Vec::new(),
            filters: Vec::new(),
            having: Vec::new(),
            order: None,
            limit: None,
            distinct: false,
            share: None,
            also: Vec::new(),
            through: Vec::new(),
        }
    }

    /// Every table the query reads, subject first, without repeats.
    pub fn tables(&self) -> Vec<String> {
        let mut out = vec![self.subject.clone()];
        let mut add = |t: &str| {
            if !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        };
        for c in &self.columns {
            add(&c.table);
        }
        for m in self.measure.iter().chain(&self.also) {
            add(measure_table(m));
        }
        for h in &self.having {
            add(measure_table(&h.measure));
        }
        for d in &self.group_by {
            add(d.table());
        }
        for f in &self.filters {
            if !f.column().table.is_empty() {
                add(&f.column().table);
            }
        }
        if let Some(Share::Rows { conditions }) = &self.share {
            for f in conditions {
                add(&f.column().table);
            }
        }
        if let Some(Order {
            key: OrderKey::Column { column },
            ..
        }) = &self.order
        {
            add(&column.table);
        }
        for t in &self.through {
            add(t);
        }
        out
    }

    /// Serializes for [`crate::generate::Generation::state`].
    pub fn to_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }

    /// Reads back a state written by [`QueryIr::to_state`]; `None` for other generators' states.
    pub fn from_state(state: &serde_json::Value) -> Option<Self> {
        serde_json::from_value(state.get("rule")?.clone()).ok()
    }
}

/// The table a measure reads.
pub fn measure_table(m: &Measure) -> &str {
    match &m.arg {
        MeasureArg::Rows { table } | MeasureArg::Model { table, .. } => table,
        MeasureArg::Column { column } => &column.table,
        MeasureArg::Product { left, .. } => &left.table,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ir_round_trips_through_json_state() {
        let mut ir = QueryIr::new("Track");
        ir.measure = Some(Measure {
            agg: Agg::Count,
            arg: MeasureArg::Rows {
                table: "Track".into(),
            },
        });
        ir.filters.push(Filter::Compare {
            column: ColumnRef::new("Genre", "Name"),
            op: CmpOp::Eq,
            value: Literal::Text("Rock".into()),
        });
        ir.group_by.push(Dimension::Time {
            column: ColumnRef::new("Invoice", "InvoiceDate"),
            bucket: TimeBucket::Year,
        });
        let state = serde_json::json!({ "rule": ir.to_state() });
        assert_eq!(QueryIr::from_state(&state), Some(ir.clone()));
        assert_eq!(ir.tables(), ["Track", "Invoice", "Genre"]);
        assert_eq!(QueryIr::from_state(&serde_json::json!({"other": 1})), None);
    }
}
