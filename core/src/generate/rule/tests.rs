//! End-to-end tests of the generator on the sample databases: generated SQL text, its results
//! against gold SQL, follow-ups and abstentions.

mod aggregates;
mod constructions;
mod followups;
mod patterns;
mod references;
mod scope;
mod vocabulary;

use std::sync::Arc;

use super::RuleGenerator;
use crate::{exec::Executor, session::Turn, testdb};

pub(super) async fn generator(db: &str) -> (RuleGenerator, Arc<dyn Executor>) {
    let file = testdb::open(db).await;
    let catalog = Arc::new(file.catalog().await.expect("catalog"));
    let g = RuleGenerator::build(file.as_ref(), catalog)
        .await
        .expect("builds");
    (g, file)
}

/// The rule generator over a database of the Spider training set.
pub(super) async fn spider(db: &str) -> RuleGenerator {
    let data = crate::testdb::path("northwind");
    let root = data
        .parent()
        .and_then(|p| p.parent())
        .expect("the shared data folder");
    let file =
        crate::testdb::open_path(&root.join(format!("spider-train/database/{db}/{db}.sqlite")))
            .await;
    let catalog = Arc::new(file.catalog().await.expect("catalog"));
    RuleGenerator::build(file.as_ref(), catalog)
        .await
        .expect("builds")
}

/// Checks `sql` with the engine's validator for the generator's catalog, as every generated
/// statement is checked before it runs.
pub(super) fn validated(g: &RuleGenerator, sql: &str) {
    let validator = crate::sql::Validator::new(
        g.catalog.clone(),
        crate::sql::ValidatorOptions {
            max_rows: 100_000,
            ..crate::sql::ValidatorOptions::default()
        },
    );
    if let Err(e) = validator.validate(sql) {
        panic!("the validator refused generated SQL: {e}\n{sql}");
    }
}

pub(super) fn turn(question: &str, g: &super::super::Generation) -> Turn {
    Turn {
        turn: 0,
        question: question.into(),
        sql: g.sql.clone(),
        explanation: g.explanation.clone(),
        columns: vec![],
        row_count: 0,
        generator: "rule".into(),
        at: String::new(),
        state: g.state.clone(),
        clarification: None,
    }
}

/// Whether the predicted rows answer the gold query, by the engine's execution accuracy
/// ([`crate::eval::rows_match`], in order when the gold SQL orders its result).
pub(super) async fn same_result(db: &Arc<dyn Executor>, predicted: &str, gold: &str) -> bool {
    let p = db.execute(predicted).await.expect("predicted SQL runs");
    let g = db.execute(gold).await.expect("gold SQL runs");
    crate::eval::rows_match(&p.rows, &g.rows, crate::eval::has_top_level_order_by(gold))
}

#[tokio::test]
async fn bi_questions_on_chinook() {
    let (g, db) = generator("chinook").await;
    let path = "/work/shared/data/bi-questions/chinook_bi.json";
    let text = std::fs::read_to_string(path).expect("questions");
    let items: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
    let (mut correct, mut wrong, mut abstained) = (0, 0, 0);
    for it in &items {
        let q = it["question"].as_str().expect("q");
        let gold = it["query"].as_str().expect("gold");
        match g.answer(q, &[]) {
            Ok(out) => {
                validated(&g, &out.sql);
                if db.execute(&out.sql).await.is_ok() && same_result(&db, &out.sql, gold).await {
                    correct += 1;
                } else {
                    wrong += 1;
                    println!("WRONG {q}\n  {}\n  gold {gold}", out.sql);
                }
            }
            Err(e) => {
                abstained += 1;
                println!("ABSTAIN {q}: {e}");
            }
        }
    }
    println!("correct {correct} wrong {wrong} abstained {abstained}");
    assert_eq!(wrong, 0, "a wrong answer on the business questions");
    assert!(
        correct >= 25,
        "{correct} of {} answered correctly",
        items.len()
    );
    assert!(abstained <= 1);
}

/// Scores the generator on `RULE_EVAL_FILE` (Spider JSON or CSV) over `RULE_EVAL_DIR`; a
/// development aid for tuning the grammar (run with `--ignored --nocapture`).
#[tokio::test]
#[ignore = "needs RULE_EVAL_FILE and RULE_EVAL_DIR"]
async fn score_golden_questions_from_env() {
    let file = std::env::var("RULE_EVAL_FILE").expect("RULE_EVAL_FILE");
    let dir = std::env::var("RULE_EVAL_DIR").expect("RULE_EVAL_DIR");
    let text = std::fs::read_to_string(&file).expect("reads");
    let cases: Vec<(String, String, String)> = if text.trim_start().starts_with('[') {
        let items: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
        items
            .iter()
            .map(|i| {
                let s = |k: &str| i[k].as_str().unwrap_or_default().to_string();
                (s("db_id"), s("question"), s("query"))
            })
            .collect()
    } else {
        crate::eval::parse_csv(&text)
            .into_iter()
            .skip(1)
            .filter(|r| r.len() >= 3)
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
            .collect()
    };
    let mut gens: std::collections::HashMap<String, (RuleGenerator, Arc<dyn Executor>)> =
        std::collections::HashMap::new();
    let (mut total, mut correct, mut wrong, mut abstained, mut errors) = (0, 0, 0, 0, 0);
    for (db, q, gold) in cases {
        if !gens.contains_key(&db) {
            let p = std::path::Path::new(&dir)
                .join(&db)
                .join(format!("{db}.sqlite"));
            if !p.exists() {
                continue;
            }
            let f = testdb::open_path(&p).await;
            let catalog = Arc::new(f.catalog().await.expect("catalog"));
            let g = RuleGenerator::build(f.as_ref(), catalog)
                .await
                .expect("builds");
            gens.insert(db.clone(), (g, f));
        }
        let (g, f) = &gens[&db];
        let Ok(gold_rows) = f.execute(&gold).await else {
            continue;
        };
        total += 1;
        match g.answer(&q, &[]) {
            Err(e) => {
                abstained += 1;
                if let crate::Error::CannotAnswer {
                    unknown_words,
                    message,
                } = &e
                {
                    println!(
                        "ABSTAIN [{db}] {q} :: {unknown_words:?} :: {}",
                        message.split(". I can").next().unwrap_or_default()
                    );
                }
            }
            Ok(out) => match f.execute(&out.sql).await {
                Err(e) => {
                    errors += 1;
                    println!("ERROR [{db}] {q}\n  {}\n  {e}", out.sql);
                }
                Ok(p) => {
                    let same = crate::eval::rows_match(
                        &p.rows,
                        &gold_rows.rows,
                        crate::eval::has_top_level_order_by(&gold),
                    );
                    if same {
                        correct += 1;
                        println!("OK [{db}] {q}\n  {}", out.sql);
                    } else {
                        wrong += 1;
                        println!("WRONG [{db}] {q}\n  {}\n  gold {gold}", out.sql);
                    }
                }
            },
        }
    }
    println!("total {total} correct {correct} wrong {wrong} abstained {abstained} errors {errors}");
    assert!(total > 0, "no runnable question");
}

/// Asks `questions` as one conversation; returns each turn's SQL (or the error).
pub(super) fn converse(g: &RuleGenerator, questions: &[&str]) -> Vec<Result<String, crate::Error>> {
    converse_as(g, questions, false)
}

/// Like [`converse`], but a question the rules do not answer stays in the history as an
/// unanswered turn, as the engine keeps it.
pub(super) fn converse_keeping_unanswered(
    g: &RuleGenerator,
    questions: &[&str],
) -> Vec<Result<String, crate::Error>> {
    converse_as(g, questions, true)
}

fn converse_as(
    g: &RuleGenerator,
    questions: &[&str],
    keep_unanswered: bool,
) -> Vec<Result<String, crate::Error>> {
    let mut history = Vec::new();
    let mut out = Vec::new();
    for q in questions {
        match g.answer(q, &history) {
            Ok(a) => {
                validated(g, &a.sql);
                history.push(turn(q, &a));
                out.push(Ok(a.sql));
            }
            Err(e) => {
                if keep_unanswered {
                    history.push(Turn::unanswered(*q, e.to_string(), "rule"));
                }
                out.push(Err(e));
            }
        }
    }
    out
}

/// The SQL of `ir` over `tables` in `dialect`, checked by that dialect's validator.
pub(super) fn written_in(
    tables: &[crate::catalog::Table],
    dialect: crate::dialect::Dialect,
    ir: &super::QueryIr,
) -> String {
    written_with(tables, dialect, ir, &crate::values::ValueIndex::empty())
}

/// [`written_in`], reading the text columns `values` knows to hold numbers as numbers.
pub(super) fn written_with(
    tables: &[crate::catalog::Table],
    dialect: crate::dialect::Dialect,
    ir: &super::QueryIr,
    values: &crate::values::ValueIndex,
) -> String {
    let catalog = crate::catalog::Catalog::new(dialect, "t", tables.to_vec());
    let graph = super::joins::SchemaGraph::new(&catalog);
    let s = super::compile::SqlWriter::new(&catalog, &graph)
        .with_values(values)
        .sql(ir)
        .unwrap_or_else(|e| panic!("{dialect}: {e}"));
    let validator = crate::sql::Validator::new(
        Arc::new(catalog),
        crate::sql::ValidatorOptions {
            max_rows: 100_000,
            ..crate::sql::ValidatorOptions::default()
        },
    );
    if let Err(e) = validator.validate(&s) {
        panic!("{dialect}: the validator refused {s}: {e}");
    }
    s
}

/// The SQL the rules write for `q` asked on its own, checked by the validator.
pub(super) fn sql(g: &RuleGenerator, q: &str) -> String {
    let s = g.answer(q, &[]).unwrap_or_else(|e| panic!("{q}: {e}")).sql;
    validated(g, &s);
    s
}

/// Asserts that the rules abstain on `q` asked on its own; returns the words they did not
/// understand.
pub(super) fn abstains(g: &RuleGenerator, q: &str) -> Vec<String> {
    match g.answer(q, &[]) {
        Err(crate::Error::CannotAnswer {
            unknown_words,
            message,
        }) => {
            assert!(message.contains("I can answer"), "{message}");
            unknown_words
        }
        Err(e) => panic!("{q}: expected an abstention, got {e}"),
        Ok(a) => panic!("{q}: expected an abstention, got {}", a.sql),
    }
}

#[tokio::test]
async fn chinook_conversations_match_gold_turn_by_turn() {
    let (g, db) = generator("chinook").await;
    let text = std::fs::read_to_string("/work/shared/data/bi-questions/chinook_conversations.json")
        .expect("conversations");
    let items: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
    for it in &items {
        let turns = it["interaction"].as_array().expect("turns");
        let questions: Vec<&str> = turns
            .iter()
            .map(|t| t["utterance"].as_str().expect("q"))
            .collect();
        let answers = converse(&g, &questions);
        for (t, a) in turns.iter().zip(answers) {
            let gold = t["query"].as_str().expect("gold");
            let sql = a.unwrap_or_else(|e| panic!("{}: {e}", t["utterance"]));
            assert!(
                same_result(&db, &sql, gold).await,
                "{}\n{sql}\ngold {gold}",
                t["utterance"]
            );
        }
    }
}

#[tokio::test]
#[ignore = "prints answers to RULE_QS for a database (development aid)"]
async fn print_answers() {
    let db = std::env::var("RULE_DB").unwrap_or_else(|_| "chinook".into());
    let (g, f) = generator(&db).await;
    let qs = std::env::var("RULE_QS").expect("RULE_QS");
    let mut history = Vec::new();
    for q in qs.split('|') {
        if std::env::var("RULE_DEBUG").is_ok() {
            let tokens = crate::text::tokenize(q);
            let reading = super::grammar::read_with(&tokens, &g.lexicon, &g.values, None);
            let items: Vec<String> = reading
                .spans
                .iter()
                .map(|s| format!("{:?}", s.item))
                .collect();
            println!("{items:#?}");
            let p = super::plan::Planner::new(&g.lexicon, &reading.spans).plan();
            println!("{:?}", p.draft);
        }
        match g.answer(q, &history) {
            Ok(a) => {
                let rows = f.execute(&a.sql).await.map(|r| r.rows.len());
                println!("Q {q}\n  {}\n  {}\n  rows {rows:?}", a.sql, a.explanation);
                history.push(turn(q, &a));
            }
            Err(e) => println!("Q {q}\n  ERR {e:?}"),
        }
    }
}
