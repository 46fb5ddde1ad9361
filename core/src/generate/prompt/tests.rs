//! Tests of the prompt: snapshots, ranking, pruning, value hints, examples and privacy.

use std::sync::Arc;

use super::*;
use crate::{
    answer::Attempt,
    catalog::{Column, ForeignKey, Table, TableKind},
    session::Turn,
};

fn catalog() -> Catalog {
    let col = |n: &str, t: &str| Column {
        name: n.into(),
        data_type: t.into(),
        nullable: false,
        comment: None,
    };
    Catalog::new(
        Dialect::Sqlite,
        "shop",
        vec![
            Table {
                schema: None,
                name: "Customer".into(),
                kind: TableKind::Table,
                columns: vec![col("CustomerId", "INTEGER"), col("Country", "NVARCHAR(40)")],
                primary_key: vec!["CustomerId".into()],
                foreign_keys: vec![],
                comment: Some("people who buy".into()),
            },
            Table {
                schema: None,
                name: "Invoice".into(),
                kind: TableKind::Table,
                columns: vec![
                    col("InvoiceId", "INTEGER"),
                    col("CustomerId", "INTEGER"),
                    col("Total", "NUMERIC(10,2)"),
                ],
                primary_key: vec!["InvoiceId".into()],
                foreign_keys: vec![ForeignKey {
                    columns: vec!["CustomerId".into()],
                    referenced_schema: None,
                    referenced_table: "Customer".into(),
                    referenced_columns: vec!["CustomerId".into()],
                }],
                comment: None,
            },
        ],
    )
}

fn request() -> GenerationRequest {
    GenerationRequest {
        question: "only 2024".into(),
        catalog: Arc::new(catalog()),
        history: vec![Turn {
            turn: 1,
            question: "revenue by country".into(),
            sql: "SELECT c.Country, sum(i.Total) AS revenue FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId GROUP BY c.Country".into(),
            explanation: "Revenue per country.".into(),
            columns: vec!["Country".into(), "revenue".into()],
            row_count: 24,
            generator: "openai:gpt-4".into(),
            at: "2026-01-01T00:00:00Z".into(),
            state: None,
            clarification: None,
        }],
        feedback: vec![Attempt {
            sql: "SELECT Country, sum(Totl) FROM Invoice".into(),
            error: Some("no column `Totl` in `Invoice`; did you mean `Total`?".into()),
        }],
        max_rows: 1000,
        view: None,
    }
}

#[test]
fn prompt_snapshot() {
    let rendered: Vec<String> = render(&request())
        .iter()
        .map(|m| format!("[{:?}]\n{}", m.role, m.content))
        .collect();
    insta::assert_snapshot!(rendered.join("\n\n"));
}

#[test]
fn history_carries_earlier_sql_and_feedback_carries_the_error() {
    let messages = render(&request());
    assert_eq!(messages.len(), 6);
    assert!(messages[2].content.contains("GROUP BY c.Country"));
    assert_eq!(messages[3].content, "only 2024");
    assert!(messages[5].content.contains("did you mean `Total`"));
}

mod context;
mod pruning;
mod ranking;
mod semantic;

/// A sample database with its value index and sample values, as the engine builds them.
pub(super) struct Sample {
    pub catalog: Arc<Catalog>,
    pub values: Arc<crate::values::ValueIndex>,
    pub samples: SampleValues,
}

impl Sample {
    /// Opens `name` (`chinook`, `sakila`, ...).
    pub async fn open(name: &str) -> Self {
        let db = crate::testdb::open(name).await;
        let catalog = Arc::new(db.catalog().await.expect("catalog"));
        let values = Arc::new(
            crate::values::ValueIndex::build(
                db.as_ref(),
                &crate::testdb::validator(db.as_ref(), &catalog),
                &catalog,
                &crate::values::ValueIndexLimits::default(),
            )
            .await
            .expect("value index"),
        );
        let samples = SampleValues::from_value_index(&values, SAMPLES_PER_COLUMN);
        Self {
            catalog,
            values,
            samples,
        }
    }

    /// A context with the values and samples, and `budget` schema tokens.
    pub fn context(&self, budget: usize) -> PromptContext {
        PromptContext::new()
            .values(self.values.clone())
            .samples(self.samples.clone())
            .max_schema_tokens(budget)
    }

    /// A first question on this database.
    pub fn ask(&self, question: &str) -> GenerationRequest {
        GenerationRequest {
            question: question.into(),
            catalog: self.catalog.clone(),
            history: Vec::new(),
            feedback: Vec::new(),
            max_rows: 1000,
            view: None,
        }
    }

    /// The catalog index of table `name`.
    pub fn table(&self, name: &str) -> usize {
        self.catalog
            .tables
            .iter()
            .position(|t| t.name == name)
            .unwrap_or_else(|| panic!("no table {name}"))
    }

    /// The shown table names of a linked schema.
    pub fn shown(&self, linked: &LinkedSchema) -> Vec<String> {
        linked
            .selection
            .tables
            .iter()
            .map(|s| self.catalog.tables[s.table].name.clone())
            .collect()
    }

    /// The shown columns of table `name`, or `None` when the table is not shown.
    pub fn shown_columns(&self, linked: &LinkedSchema, name: &str) -> Option<Vec<String>> {
        let t = self.table(name);
        linked
            .selection
            .tables
            .iter()
            .find(|s| s.table == t)
            .map(|s| {
                s.columns
                    .iter()
                    .map(|&c| self.catalog.tables[t].columns[c].name.clone())
                    .collect()
            })
    }
}

/// A turn answered by `sql`.
pub(super) fn turn(question: &str, sql: &str) -> Turn {
    Turn {
        turn: 1,
        question: question.into(),
        sql: sql.into(),
        explanation: String::new(),
        columns: Vec::new(),
        row_count: 0,
        generator: "openai:gpt-4".into(),
        at: "2026-01-01T00:00:00Z".into(),
        state: None,
        clarification: None,
    }
}

#[tokio::test]
async fn pruned_prompt_snapshot_with_samples_hints_and_examples() {
    let db = Sample::open("chinook").await;
    let context = db.context(260).examples(vec![
        FewShotExample::new(
            "How many tracks does each genre have?",
            "SELECT g.Name, count(*) AS tracks FROM Track t JOIN Genre g ON g.GenreId = t.GenreId GROUP BY g.Name",
        ),
        FewShotExample::new("List all media types", "SELECT Name FROM MediaType"),
    ]);
    let prompt = render_with(
        &db.ask("How many Rock tracks does each artist have?"),
        &context,
        None,
    );
    assert!(prompt.schema.selection.pruned);
    assert!(prompt.schema.tokens <= 260);
    insta::assert_snapshot!(prompt.messages[0].content);
}

#[test]
fn the_context_debug_shows_counts_not_values() {
    let mut samples = SampleValues::empty();
    samples.insert("Customer", "Country", vec!["Germany".into()]);
    let ctx = PromptContext::new()
        .samples(samples)
        .examples(vec![FewShotExample::new("q", "SELECT 1")])
        .max_schema_tokens(123);
    let debug = format!("{ctx:?}");
    assert!(debug.contains("samples: Some(1)"), "{debug}");
    assert!(debug.contains("examples: 1"), "{debug}");
    assert!(debug.contains("max_schema_tokens: 123"), "{debug}");
    assert!(!debug.contains("Germany"), "{debug}");
}
