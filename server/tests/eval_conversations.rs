//! The hand-written conversation sets of `eval/conversations/`: every gold query runs on its
//! shared database and returns rows, through the `DIR/<db>/<db>.sqlite` layout that
//! `scripts/eval-dbs.sh` lays out, and `eval` scores every turn of them.
//!
//! The databases come from the shared data folder (`$CBI_SHARED_DIR`, default
//! `<repo>/../shared`); without it the tests say so and pass.

use std::path::{Path, PathBuf};

use conversational_bi::{Config, DataSource, eval};

const BIN: &str = env!("CARGO_BIN_EXE_heliosdb-conversational-bi");
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn shared_dir() -> PathBuf {
    std::env::var("CBI_SHARED_DIR")
        .ok()
        .filter(|v| !v.is_empty())
        .map_or_else(|| Path::new(REPO).join("../shared"), PathBuf::from)
}

/// The folder `scripts/eval-dbs.sh` made in `dir`, or `None` (with a message) when the shared
/// data folder is absent.
fn eval_dbs(dir: &Path) -> Option<PathBuf> {
    let shared = shared_dir();
    if !shared.join("data").is_dir() {
        eprintln!(
            "skipped: the shared data folder {} is absent; set CBI_SHARED_DIR to run these tests",
            shared.display()
        );
        return None;
    }
    let dbs = dir.join("dbs");
    // Twice: the script is idempotent.
    for _ in 0..2 {
        let out = std::process::Command::new("bash")
            .arg(Path::new(REPO).join("scripts/eval-dbs.sh"))
            .arg(&dbs)
            .env("CBI_SHARED_DIR", &shared)
            .output()
            .expect("runs scripts/eval-dbs.sh");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for db in ["chinook", "sakila", "northwind"] {
        let file = dbs.join(db).join(format!("{db}.sqlite"));
        assert!(file.is_file(), "{} is missing", file.display());
    }
    Some(dbs)
}

fn conversation_sets() -> Vec<PathBuf> {
    let mut sets: Vec<PathBuf> = std::fs::read_dir(Path::new(REPO).join("eval/conversations"))
        .expect("eval/conversations")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    sets.sort();
    assert!(sets.len() >= 2, "{sets:?}");
    sets
}

#[tokio::test]
async fn every_gold_query_of_the_conversation_sets_returns_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(dbs) = eval_dbs(dir.path()) else {
        return;
    };
    let config = Config::default();
    let mut checked = 0;
    for set in conversation_sets() {
        let cases = eval::load_cases(&set).expect("reads the set");
        assert!(
            cases.len() >= 10,
            "{}: {} conversations",
            set.display(),
            cases.len()
        );
        for case in &cases {
            let file = dbs.join(&case.db).join(format!("{}.sqlite", case.db));
            let url = format!("sqlite://{}?mode=ro", file.display());
            let source = DataSource::connect(&config, Some(&url))
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(
                (3..=5).contains(&case.turns.len()),
                "{}: {:?} has {} turns",
                set.display(),
                case.turns[0].question,
                case.turns.len()
            );
            for turn in &case.turns {
                let result = source
                    .executor()
                    .execute(&turn.sql)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {}: {e}", turn.question, turn.sql));
                assert!(
                    !result.rows.is_empty(),
                    "{}: {} returns no row",
                    turn.question,
                    turn.sql
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 60, "{checked} gold queries");
}

#[test]
fn eval_scores_every_turn_of_the_conversation_sets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(dbs) = eval_dbs(dir.path()) else {
        return;
    };
    for set in conversation_sets() {
        let turns: usize = eval::load_cases(&set)
            .expect("reads the set")
            .iter()
            .map(|c| c.turns.len())
            .sum();
        let out = std::process::Command::new(BIN)
            .args(["eval", "--json", "--questions"])
            .arg(&set)
            .arg("--db-dir")
            .arg(&dbs)
            .env_remove("DATABASE_URL")
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(json["total"], turns, "{}: {stdout}", set.display());
        let conversations = eval::load_cases(&set).expect("reads the set").len();
        assert_eq!(
            json["follow_ups"]["total"],
            turns - conversations,
            "{}",
            set.display()
        );
    }
}
