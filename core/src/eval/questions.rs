//! Golden question sets: Spider-style JSON arrays (`db_id`, `question`, `query`, optional
//! `difficulty` or `hardness`), SParC-style conversations (`database_id`,
//! `interaction: [{utterance, query}]`) and CSV with a `database,question,sql` header
//! (`db_id` and `query` are accepted as header names too).

use std::path::Path;

use super::csv::parse_csv;
use crate::error::{Error, Result};

/// One question with the SQL that answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldTurn {
    /// The question, in plain words.
    pub question: String,
    /// The reference SQL.
    pub sql: String,
}

/// One conversation of a question set; a single question is a conversation of one turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The database the questions are about.
    pub db: String,
    /// The set's difficulty label, or `unknown`.
    pub difficulty: String,
    /// The turns, in order; each later turn follows up on the earlier ones.
    pub turns: Vec<GoldTurn>,
}

/// Reads a question set from `path` (JSON or CSV, told apart by the first character).
pub fn load_cases(path: &Path) -> Result<Vec<Case>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::invalid_input(format!(
            "cannot read the question set {}: {e}",
            path.display()
        ))
    })?;
    parse_cases(&text).map_err(|e| match e {
        Error::InvalidInput { message } => {
            Error::invalid_input(format!("{}: {message}", path.display()))
        }
        other => other,
    })
}

/// Parses a question set (JSON or CSV).
pub fn parse_cases(text: &str) -> Result<Vec<Case>> {
    if text.trim_start().starts_with('[') {
        parse_json(text)
    } else {
        parse_csv_cases(text)
    }
}

fn parse_json(text: &str) -> Result<Vec<Case>> {
    let items: Vec<serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| Error::invalid_input(format!("not a JSON array of questions: {e}")))?;
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let mut cases = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let difficulty = s(it, "difficulty")
            .or_else(|| s(it, "hardness"))
            .unwrap_or_else(|| "unknown".into());
        if let Some(turns) = it.get("interaction").and_then(|x| x.as_array()) {
            let db = s(it, "database_id")
                .or_else(|| s(it, "db_id"))
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "interaction {i} has no database_id; add the database's name"
                    ))
                })?;
            let turns = turns
                .iter()
                .filter_map(|t| {
                    Some(GoldTurn {
                        question: s(t, "utterance")?,
                        sql: s(t, "query")?,
                    })
                })
                .collect();
            cases.push(Case {
                db,
                difficulty,
                turns,
            });
        } else {
            let (Some(db), Some(question), Some(sql)) =
                (s(it, "db_id"), s(it, "question"), s(it, "query"))
            else {
                return Err(Error::invalid_input(format!(
                    "item {i} needs the string fields db_id, question and query"
                )));
            };
            cases.push(Case {
                db,
                difficulty,
                turns: vec![GoldTurn { question, sql }],
            });
        }
    }
    Ok(cases)
}

fn parse_csv_cases(text: &str) -> Result<Vec<Case>> {
    let mut rows = parse_csv(text).into_iter();
    let header = rows.next().unwrap_or_default();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(d), Some(q), Some(g)) = (
        col("database").or(col("db_id")),
        col("question"),
        col("sql").or(col("query")),
    ) else {
        return Err(Error::invalid_input(
            "the CSV header must name the columns database, question and sql",
        ));
    };
    Ok(rows
        .filter(|r| r.len() > d.max(q).max(g))
        .map(|r| Case {
            db: r[d].clone(),
            difficulty: "unknown".into(),
            turns: vec![GoldTurn {
                question: r[q].clone(),
                sql: r[g].clone(),
            }],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spider_sparc_and_csv_sets_are_read() {
        let spider = parse_cases(
            r#"[{"db_id": "shop", "question": "How many?", "query": "SELECT 1", "hardness": "easy"}]"#,
        )
        .expect("spider");
        assert_eq!(spider[0].db, "shop");
        assert_eq!(spider[0].difficulty, "easy");
        assert_eq!(spider[0].turns[0].sql, "SELECT 1");

        let sparc = parse_cases(
            r#"[{"database_id": "shop", "interaction": [
                {"utterance": "a", "query": "SELECT 1"}, {"utterance": "b", "query": "SELECT 2"}]}]"#,
        )
        .expect("sparc");
        assert_eq!(sparc[0].turns.len(), 2);
        assert_eq!(sparc[0].turns[1].question, "b");

        let csv = parse_cases("db_id,question,query\nshop,\"Hi, there\",SELECT 1\n").expect("csv");
        assert_eq!(csv[0].turns[0].question, "Hi, there");
    }

    #[test]
    fn a_malformed_set_says_what_is_missing() {
        let e = parse_cases(r#"[{"db_id": "shop"}]"#).expect_err("no question");
        assert!(e.to_string().contains("db_id, question and query"), "{e}");
        let e = parse_cases("a,b\n1,2\n").expect_err("bad header");
        assert!(e.to_string().contains("database, question and sql"), "{e}");
    }
}
