//! Schema-linking recall: how much of what the gold SQL reads the prompt's pruned schema
//! shows, and how large that schema is next to the whole one.
//!
//! For each question the prompt's schema is chosen exactly as for generation
//! ([`link_schema`]), the earlier turns of a conversation standing in as history with their
//! gold SQL. The gold SQL's tables and columns come from the validator's name resolution. A
//! gold table counts as found when the listing shows it; a gold column when the listing shows
//! it in its table. Sizes are the estimated tokens of the prompt's token estimate.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::Serialize;

use super::Case;
use crate::{
    DataSource,
    config::Config,
    embed::Embedder,
    error::{Error, Result},
    generate::{
        GenerationRequest,
        prompt::{LinkedSchema, PromptContext, link_schema},
    },
    session::Turn,
    sql::ValidatedSql,
};

/// The score of one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkingResult {
    /// The database.
    pub db: String,
    /// The question.
    pub question: String,
    /// Tables the gold SQL reads.
    pub gold_tables: usize,
    /// Of those, the ones the prompt shows.
    pub found_tables: usize,
    /// Columns the gold SQL names.
    pub gold_columns: usize,
    /// Of those, the ones the prompt shows.
    pub found_columns: usize,
    /// Gold tables and columns the prompt leaves out (`table` or `table.column`).
    pub missing: Vec<String>,
    /// Estimated tokens of the prompt's schema listing.
    pub tokens: usize,
    /// Estimated tokens of the whole schema's listing.
    pub full_tokens: usize,
    /// Whether the schema was pruned (it did not fit whole).
    pub pruned: bool,
}

impl LinkingResult {
    /// Scores `linked` against the tables and columns of `gold`.
    pub fn new(
        db: &str,
        question: &str,
        catalog: &crate::Catalog,
        gold: &ValidatedSql,
        linked: &LinkedSchema,
    ) -> Self {
        let shown_table = |name: &str| {
            linked
                .selection
                .tables
                .iter()
                .find(|s| catalog.tables[s.table].qualified_name() == name)
        };
        let mut missing = Vec::new();
        let mut found_tables = 0;
        for t in &gold.tables {
            if shown_table(t).is_some() {
                found_tables += 1;
            } else {
                missing.push(t.clone());
            }
        }
        let mut found_columns = 0;
        for (t, c) in &gold.named_columns {
            let shown = shown_table(t).is_some_and(|s| {
                s.columns
                    .iter()
                    .any(|&ci| catalog.tables[s.table].columns[ci].name == *c)
            });
            if shown {
                found_columns += 1;
            } else {
                missing.push(format!("{t}.{c}"));
            }
        }
        Self {
            db: db.to_string(),
            question: question.to_string(),
            gold_tables: gold.tables.len(),
            found_tables,
            gold_columns: gold.named_columns.len(),
            found_columns,
            missing,
            tokens: linked.tokens,
            full_tokens: linked.full_tokens,
            pruned: linked.selection.pruned,
        }
    }

    /// Whether every gold table and column is shown.
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Totals over a set of questions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LinkingSummary {
    /// Questions scored.
    pub questions: usize,
    /// Gold tables over all questions.
    pub gold_tables: usize,
    /// Gold tables shown.
    pub found_tables: usize,
    /// Gold columns over all questions.
    pub gold_columns: usize,
    /// Gold columns shown.
    pub found_columns: usize,
    /// Questions whose every gold table and column is shown.
    pub complete: usize,
    /// Sum of the schema listings' tokens.
    pub tokens: usize,
    /// Sum of the whole schemas' tokens.
    pub full_tokens: usize,
}

impl LinkingSummary {
    /// Adds one question.
    pub fn add(&mut self, r: &LinkingResult) {
        self.questions += 1;
        self.gold_tables += r.gold_tables;
        self.found_tables += r.found_tables;
        self.gold_columns += r.gold_columns;
        self.found_columns += r.found_columns;
        self.complete += usize::from(r.complete());
        self.tokens += r.tokens;
        self.full_tokens += r.full_tokens;
    }

    /// Share of gold tables shown (1 when there are none).
    pub fn table_recall(&self) -> f64 {
        ratio(self.found_tables, self.gold_tables)
    }

    /// Share of gold columns shown (1 when there are none).
    pub fn column_recall(&self) -> f64 {
        ratio(self.found_columns, self.gold_columns)
    }

    /// Share of gold tables and columns shown, together.
    pub fn recall(&self) -> f64 {
        ratio(
            self.found_tables + self.found_columns,
            self.gold_tables + self.gold_columns,
        )
    }

    /// Share of questions with every gold table and column shown.
    pub fn complete_share(&self) -> f64 {
        ratio(self.complete, self.questions)
    }

    /// The listings' tokens relative to the whole schemas' (1 when nothing was pruned).
    pub fn size_ratio(&self) -> f64 {
        ratio(self.tokens, self.full_tokens)
    }

    /// Average tokens of a listing.
    pub fn mean_tokens(&self) -> f64 {
        mean(self.tokens, self.questions)
    }

    /// Average tokens of a whole schema.
    pub fn mean_full_tokens(&self) -> f64 {
        mean(self.full_tokens, self.questions)
    }

    /// The figures as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "questions": self.questions,
            "recall": self.recall(),
            "table_recall": self.table_recall(),
            "column_recall": self.column_recall(),
            "complete": self.complete,
            "complete_share": self.complete_share(),
            "gold_tables": self.gold_tables,
            "gold_columns": self.gold_columns,
            "mean_tokens": self.mean_tokens(),
            "mean_full_tokens": self.mean_full_tokens(),
            "size_ratio": self.size_ratio(),
        })
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn mean(a: usize, n: usize) -> f64 {
    if n == 0 { 0.0 } else { a as f64 / n as f64 }
}

/// A linking evaluation over a question set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkingReport {
    /// Every scored question.
    pub results: Vec<LinkingResult>,
    /// All questions.
    pub all: LinkingSummary,
    /// Only the questions whose schema was pruned.
    pub pruned: LinkingSummary,
    /// Gold SQL the validator refused (not scored), as (database, question, reason).
    pub unscored: Vec<(String, String, String)>,
    /// Databases that could not be opened, with the reason.
    pub skipped_databases: Vec<(String, String)>,
}

/// Options of a linking evaluation.
#[derive(Debug, Clone)]
pub struct LinkingOptions {
    /// The schema token budget (`[llm] max_schema_tokens`).
    pub max_schema_tokens: usize,
    /// Privacy mode: no sample values in the listing.
    pub privacy_mode: bool,
    /// Score at most this many questions.
    pub limit: Option<usize>,
    /// An embedder for the ranking.
    pub embedder: Option<Arc<dyn Embedder>>,
}

/// The SQLite file of database `db` under `dir`: `dir/db/db.sqlite`, else the only `.sqlite`
/// file in `dir/db/`.
pub fn sqlite_path(dir: &Path, db: &str) -> Result<PathBuf> {
    let folder = dir.join(db);
    let named = folder.join(format!("{db}.sqlite"));
    if named.exists() {
        return Ok(named);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "sqlite"))
                .collect()
        })
        .unwrap_or_default();
    if found.len() == 1 {
        return Ok(found.remove(0));
    }
    Err(Error::invalid_input(format!(
        "no database file for `{db}`: expected {} (or a single .sqlite file in {})",
        named.display(),
        folder.display()
    )))
}

/// Scores schema linking on `cases`, whose databases are SQLite files under `db_dir` (see
/// [`sqlite_path`]). Databases are opened one at a time with `config`'s `[database]` limits;
/// each gets its value index and sample values as the engine would build them.
pub async fn evaluate(
    cases: &[Case],
    db_dir: &Path,
    config: &Config,
    options: &LinkingOptions,
) -> LinkingReport {
    let mut config = config.clone();
    // Examples belong to one database; a question set spans many.
    config.llm.examples.clear();
    config.llm.privacy_mode = options.privacy_mode;
    config.llm.max_schema_tokens = options.max_schema_tokens;
    let mut report = LinkingReport::default();
    let mut open: HashMap<String, Option<(DataSource, PromptContext)>> = HashMap::new();
    let limit = options.limit.unwrap_or(usize::MAX);
    'cases: for case in cases {
        if !open.contains_key(&case.db) {
            open.clear();
            let db = match open_database(&config, db_dir, &case.db).await {
                Ok((source, context)) => Some((source, context.embedder(options.embedder.clone()))),
                Err(e) => {
                    report
                        .skipped_databases
                        .push((case.db.clone(), e.to_string()));
                    None
                }
            };
            open.insert(case.db.clone(), db);
        }
        let Some((source, context)) = open.get(&case.db).and_then(Option::as_ref) else {
            continue;
        };
        let mut history: Vec<Turn> = Vec::new();
        for turn in &case.turns {
            if report.results.len() >= limit {
                break 'cases;
            }
            let request = GenerationRequest {
                question: turn.question.clone(),
                catalog: source.catalog().clone(),
                history: history.clone(),
                feedback: Vec::new(),
                max_rows: config.database.max_rows,
                view: None,
            };
            history.push(Turn {
                turn: history.len() as u64 + 1,
                question: turn.question.clone(),
                sql: turn.sql.clone(),
                explanation: String::new(),
                columns: Vec::new(),
                row_count: 0,
                generator: "gold".into(),
                at: String::new(),
                state: None,
                clarification: None,
            });
            let gold = match source.validate(&turn.sql) {
                Ok(g) => g,
                Err(e) => {
                    report
                        .unscored
                        .push((case.db.clone(), turn.question.clone(), e.to_string()));
                    continue;
                }
            };
            let embeddings = context.embeddings(&request).await;
            let linked = link_schema(&request, context, embeddings.as_ref());
            let result =
                LinkingResult::new(&case.db, &turn.question, source.catalog(), &gold, &linked);
            report.all.add(&result);
            if result.pruned {
                report.pruned.add(&result);
            }
            report.results.push(result);
        }
    }
    report
}

async fn open_database(
    config: &Config,
    db_dir: &Path,
    db: &str,
) -> Result<(DataSource, PromptContext)> {
    let path = sqlite_path(db_dir, db)?;
    let url = format!("sqlite://{}", path.display());
    let source = DataSource::connect(config, Some(&url)).await?;
    let context = PromptContext::from_source(config, &source).await?;
    Ok((source, context))
}
