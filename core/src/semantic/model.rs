//! The semantic model as written in YAML: what the business calls its tables, columns, measures
//! and filters, the joins the database does not declare, and the questions it has verified.
//!
//! The shape follows the field's convention (Snowflake Cortex Analyst's semantic model, dbt
//! MetricFlow's vocabulary): logical tables over physical ones, each with dimensions, time
//! dimensions, measures and named filters. Every `expr` is SQL over the table's own columns,
//! written in the database's dialect; it is checked against the catalog and the validator when
//! the engine starts (see [`super::check`]).

use serde::{Deserialize, Serialize};

/// One semantic-model file (several merge into one model).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SemanticModel {
    /// The model's name (e.g. the business or the database).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// What the data is about, for a model's prompt and for people.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Logical tables.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<SemanticTable>,
    /// Joins the database does not declare as foreign keys.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relationships: Vec<Relationship>,
    /// Free-text rules a model's prompt carries ("revenue excludes refunds", "the fiscal year
    /// starts in April").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub business_rules: Vec<String>,
    /// Questions with SQL someone has checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verified_queries: Vec<VerifiedQuery>,
}

/// A logical table over one physical table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SemanticTable {
    /// The business's name for the table ("customers").
    pub name: String,
    /// The physical table (`Invoice`, or `schema.table`). Default: `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// What a row is.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Other words for the table ("clients", "accounts").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// Attributes to group and filter by.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<Dimension>,
    /// Dates and times to filter by and bucket ("last quarter", "by month").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub time_dimensions: Vec<TimeDimension>,
    /// Numbers the business aggregates ("revenue", "number of orders").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub measures: Vec<Measure>,
    /// Named conditions ("active customers").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<NamedFilter>,
}

impl SemanticTable {
    /// The physical table's name as written (`table`, else `name`).
    pub fn physical(&self) -> &str {
        self.table.as_deref().unwrap_or(&self.name)
    }
}

/// An attribute: a column or an expression over the table's columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dimension {
    /// The business's name ("country").
    pub name: String,
    /// SQL over the table's columns (`BillingCountry`, `FirstName || ' ' || LastName`).
    pub expr: String,
    /// Other words for it ("region", "market").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// What it means.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// A few of its values, for a model's prompt.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sample_values: Vec<String>,
}

/// The buckets a time dimension is grouped by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeGrain {
    /// Calendar day.
    Day,
    /// ISO week.
    Week,
    /// Calendar month.
    #[default]
    Month,
    /// Calendar quarter.
    Quarter,
    /// Calendar year.
    Year,
}

impl TimeGrain {
    /// The grain's name as written in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }
}

/// A date or timestamp attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeDimension {
    /// The business's name ("invoice date").
    pub name: String,
    /// SQL over the table's columns (`InvoiceDate`).
    pub expr: String,
    /// Other words for it ("order date", "billed on").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// What it means.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The grain "over time" and "trend" questions use. Default `month`.
    pub default_grain: TimeGrain,
    /// Whether questions about this table with a time condition but no named date use this
    /// one ("revenue last quarter"). At most one per table.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub primary: bool,
}

/// How a measure's values combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// `SUM(expr)`.
    #[default]
    Sum,
    /// `AVG(expr)`.
    Avg,
    /// `COUNT(expr)`.
    Count,
    /// `COUNT(DISTINCT expr)`.
    CountDistinct,
    /// `MIN(expr)`.
    Min,
    /// `MAX(expr)`.
    Max,
    /// `expr` is already an aggregate (a ratio: `SUM(a) / NULLIF(SUM(b), 0)`).
    None,
}

impl Aggregation {
    /// The SQL of this aggregation over `expr`.
    pub fn apply(self, expr: &str) -> String {
        match self {
            Self::Sum => format!("SUM({expr})"),
            Self::Avg => format!("AVG({expr})"),
            Self::Count => format!("COUNT({expr})"),
            Self::CountDistinct => format!("COUNT(DISTINCT {expr})"),
            Self::Min => format!("MIN({expr})"),
            Self::Max => format!("MAX({expr})"),
            Self::None => expr.to_string(),
        }
    }
}

/// A measure (a metric): a number the business aggregates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Measure {
    /// The business's name ("revenue").
    pub name: String,
    /// SQL over the table's columns (`UnitPrice * Quantity`), or a whole aggregate when
    /// `aggregation` is `none`.
    pub expr: String,
    /// How rows combine. Default `sum`.
    pub aggregation: Aggregation,
    /// Other words for it ("sales", "turnover").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// What it means.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// How to show it: `currency`, `percent`, `integer`, `number`, or a d3-format string
    /// (`$,.2f`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Whether more is better (for rankings and suggestions). Default `true`.
    #[serde(skip_serializing_if = "is_true")]
    pub higher_is_better: bool,
}

fn is_true(b: &bool) -> bool {
    *b
}

impl Default for Measure {
    fn default() -> Self {
        Self {
            name: String::new(),
            expr: String::new(),
            aggregation: Aggregation::default(),
            synonyms: Vec::new(),
            description: String::new(),
            format: None,
            higher_is_better: true,
        }
    }
}

/// A named condition on a table ("active customers" → `SupportRepId IS NOT NULL`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NamedFilter {
    /// The business's name ("active").
    pub name: String,
    /// A SQL predicate over the table's columns.
    pub expr: String,
    /// Other words for it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// What it means.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A join the database does not declare.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Relationship {
    /// A name for messages.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The table holding the reference (the "many" side): a logical or physical name.
    pub left_table: String,
    /// The referenced table (the "one" side).
    pub right_table: String,
    /// Pairs of columns that are equal.
    pub columns: Vec<ColumnPair>,
}

/// `left_table.left = right_table.right`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnPair {
    /// A column of the left table.
    pub left: String,
    /// A column of the right table.
    pub right: String,
}

/// A question with SQL someone has checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifiedQuery {
    /// The question, with `{name}` where a parameter goes ("revenue in {country}").
    pub question: String,
    /// Other ways to ask it (the same parameters).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paraphrases: Vec<String>,
    /// The SQL, with `:name` where a parameter goes.
    pub sql: String,
    /// Typed parameters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// Who verified it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub verified_by: String,
    /// When (RFC 3339 or a date).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub verified_at: String,
}

/// The type of a verified query's parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterType {
    /// A text value; must be one of `column`'s values.
    #[default]
    Text,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// A date (`YYYY-MM-DD`) or a year.
    Date,
}

/// A parameter of a verified query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Parameter {
    /// Its name in the question (`{country}`) and the SQL (`:country`).
    pub name: String,
    /// The type of its values. Default `text`.
    #[serde(rename = "type")]
    pub kind: ParameterType,
    /// `Table.Column` whose values it takes (checked against the data for text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}
