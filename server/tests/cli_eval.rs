//! `eval` through the real binary: Spider JSON, SParC conversations and CSV golden questions
//! scored by execution accuracy on the demo database.

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_heliosdb-conversational-bi");

/// A `--db-dir` holding the demo database as `chinook/chinook.sqlite`.
fn db_dir(dir: &std::path::Path) -> std::path::PathBuf {
    let dbs = dir.join("dbs");
    std::fs::create_dir_all(dbs.join("chinook")).expect("mkdir");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/chinook/chinook.sqlite"
        ),
        dbs.join("chinook/chinook.sqlite"),
    )
    .expect("copy");
    dbs
}

fn eval(args: &[&str]) -> (Option<i32>, Value, String) {
    let out = std::process::Command::new(BIN)
        .arg("eval")
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code(), json, stdout)
}

#[test]
fn eval_scores_spider_json_with_outcomes_and_difficulties() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dbs = db_dir(dir.path());
    let questions = dir.path().join("q.json");
    std::fs::write(
        &questions,
        r#"[
 {"db_id": "chinook", "difficulty": "easy", "question": "How many artists are there?", "query": "SELECT count(*) FROM Artist"},
 {"db_id": "chinook", "hardness": "medium", "question": "Number of customers per country", "query": "SELECT Country, count(*) FROM Customer GROUP BY Country"},
 {"db_id": "chinook", "difficulty": "easy", "question": "How many albums are there?", "query": "SELECT count(*) FROM Artist"},
 {"db_id": "chinook", "difficulty": "hard", "question": "What is the meaning of life?", "query": "SELECT 42"}
]"#,
    )
    .expect("write");
    let (code, json, stdout) = eval(&[
        "--questions",
        questions.to_str().expect("utf-8"),
        "--db-dir",
        dbs.to_str().expect("utf-8"),
        "--json",
    ]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(json["total"], 4, "{stdout}");
    assert_eq!(json["correct"], 2, "{stdout}");
    assert_eq!(json["wrong"], 1, "{stdout}");
    assert_eq!(json["abstained"], 1, "{stdout}");
    assert_eq!(json["by_difficulty"]["medium"]["correct"], 1, "{stdout}");
    let results = json["results"].as_array().expect("results");
    assert_eq!(results[3]["outcome"], "abstained");
    assert!(results[3]["predicted_sql"].is_null());
    assert!(json["latency_ms"]["p95"].as_f64().is_some());
    // The breakdown by the gold SQL's constructions, and why abstentions abstained.
    assert_eq!(results[1]["constructions"], serde_json::json!(["grouping"]));
    assert_eq!(results[0]["constructions"], serde_json::json!(["simple"]));
    assert_eq!(results[0]["turn"], 0);
    assert_eq!(json["by_construction"]["grouping"]["total"], 1, "{stdout}");
    assert_eq!(
        json["by_construction"]["grouping"]["correct"], 1,
        "{stdout}"
    );
    assert_eq!(json["by_construction"]["simple"]["total"], 3, "{stdout}");
    assert_eq!(json["by_construction"]["simple"]["wrong"], 1, "{stdout}");
    assert!(results[3]["reason"].as_str().is_some(), "{stdout}");
    assert!(results[3]["unknown_words"].is_array(), "{stdout}");
    assert!(results[0].get("reason").is_none());
    assert!(json["abstention_words"].is_array(), "{stdout}");
}

#[test]
fn eval_plays_conversations_and_reads_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dbs = db_dir(dir.path());
    let conversations = dir.path().join("c.json");
    std::fs::write(
        &conversations,
        r#"[{"database_id": "chinook", "interaction": [
 {"utterance": "How many invoices were issued in 2022?", "query": "SELECT count(*) FROM Invoice WHERE strftime('%Y', InvoiceDate) = '2022'"},
 {"utterance": "What about 2023?", "query": "SELECT count(*) FROM Invoice WHERE strftime('%Y', InvoiceDate) = '2023'"}
]}]"#,
    )
    .expect("write");
    let (code, json, stdout) = eval(&[
        "--questions",
        conversations.to_str().expect("utf-8"),
        "--db-dir",
        dbs.to_str().expect("utf-8"),
        "--json",
    ]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(json["correct"], 2, "{stdout}");
    let results = json["results"].as_array().expect("results");
    assert_eq!(results[0]["turn"], 0);
    assert_eq!(results[1]["turn"], 1);
    assert_eq!(
        results[1]["constructions"],
        serde_json::json!(["simple", "follow-up"])
    );
    assert_eq!(json["follow_ups"]["answered"], 1, "{stdout}");
    assert_eq!(json["follow_ups"]["wrong"], 0, "{stdout}");
    assert_eq!(
        json["by_construction"]["follow-up"]["correct"], 1,
        "{stdout}"
    );
    let out = std::process::Command::new(BIN)
        .args(["eval", "--questions"])
        .arg(&conversations)
        .arg("--db-dir")
        .arg(&dbs)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("follow-ups:          1 answered of 1, 0 wrong (0.0% of answered)"),
        "{text}"
    );
    assert!(text.contains("  follow-up "), "{text}");

    let csv = dir.path().join("q.csv");
    std::fs::write(
        &csv,
        "database,question,sql\nchinook,\"How many customers live in Canada?\",\"SELECT count(*) FROM Customer WHERE Country = 'Canada'\"\nchinook,How many artists are there?,SELECT count(*) FROM Artist\n",
    )
    .expect("write");
    let out = std::process::Command::new(BIN)
        .args([
            "eval",
            "--questions",
            csv.to_str().expect("utf-8"),
            "--db-dir",
        ])
        .arg(&dbs)
        .args(["--limit", "1"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("questions:           1"), "{text}");
    assert!(text.contains("execution accuracy:  100.0%"), "{text}");
}

#[test]
fn linking_only_reports_recall_and_schema_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dbs = db_dir(dir.path());
    let questions = dir.path().join("q.json");
    std::fs::write(
        &questions,
        r#"[
 {"db_id": "chinook", "question": "How many artists are there?", "query": "SELECT count(*) FROM Artist"},
 {"db_id": "chinook", "question": "Revenue per customer country", "query": "SELECT c.Country, sum(i.Total) FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId GROUP BY c.Country"},
 {"db_id": "chinook", "question": "Rock tracks by album", "query": "SELECT a.Title, count(*) FROM Track t JOIN Album a ON a.AlbumId = t.AlbumId JOIN Genre g ON g.GenreId = t.GenreId WHERE g.Name = 'Rock' GROUP BY a.Title"},
 {"db_id": "chinook", "question": "Broken gold", "query": "SELECT Nope FROM Artist"}
]"#,
    )
    .expect("write");
    let (code, json, stdout) = eval(&[
        "--questions",
        questions.to_str().expect("utf-8"),
        "--db-dir",
        dbs.to_str().expect("utf-8"),
        "--linking-only",
        "--max-schema-tokens",
        "250",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(json["max_schema_tokens"], 250, "{stdout}");
    assert_eq!(json["all"]["questions"], 3, "{stdout}");
    assert_eq!(json["pruned"]["questions"], 3, "{stdout}");
    assert_eq!(json["unscored"].as_array().map(Vec::len), Some(1));
    assert!(
        json["all"]["recall"].as_f64().expect("recall") > 0.9,
        "{stdout}"
    );
    assert!(
        json["all"]["size_ratio"].as_f64().expect("ratio") < 0.5,
        "{stdout}"
    );
    let results = json["results"].as_array().expect("results");
    assert_eq!(results[1]["gold_tables"], 2);
    for r in results {
        assert!(r["tokens"].as_u64().expect("tokens") <= 250, "{r}");
        assert!(r["full_tokens"].as_u64().expect("full") > 250, "{r}");
    }

    let (code, _, text) = eval(&[
        "--questions",
        questions.to_str().expect("utf-8"),
        "--db-dir",
        dbs.to_str().expect("utf-8"),
        "--linking-only",
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("schema linking, budget 4000 tokens"),
        "{text}"
    );
    assert!(
        text.contains("recall:             100.0%"),
        "the demo fits 4000 tokens: {text}"
    );

    let out = std::process::Command::new(BIN)
        .args([
            "eval",
            "--questions",
            "q.json",
            "--db-dir",
            "d",
            "--max-schema-tokens",
            "9",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "--max-schema-tokens needs --linking-only"
    );
}

/// `eval --feedback`: the thumbs-up answers and the corrections of a tenant's feedback store
/// are the golden questions; a thumbs-down without correction and dismissed feedback are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eval_replays_the_feedback_store() {
    use conversational_bi::{Ask, Config, Engine, FeedbackSubmission, Principal, Rating};

    let dir = tempfile::tempdir().expect("tempdir");
    let config_path = dir.path().join("conversational-bi.toml");
    let chinook = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/chinook/chinook.sqlite"
    );
    std::fs::write(
        &config_path,
        format!(
            "[database]\nurl = \"sqlite://{chinook}\"\n\n[feedback]\npath = \"fb/feedback.db\"\n"
        ),
    )
    .expect("write");
    let engine = Engine::from_config(Config::load(&config_path).expect("config"))
        .await
        .expect("engine");
    let tenant = "acme";
    let ana = Principal::user("ana").tenant(tenant);
    let rate = async |question: &str, rating: Rating, correction: Option<&str>| {
        let answer = engine
            .ask(Ask::new(question).principal(ana.clone()))
            .await
            .expect("answer");
        let mut submission = FeedbackSubmission::new(&answer.session_id, answer.turn, rating);
        if let Some(sql) = correction {
            submission = submission.corrected_sql(sql);
        }
        engine.feedback(&ana, submission).await.expect("feedback")
    };
    // Right: the generator answers it again the same way.
    rate("How many artists are there?", Rating::Up, None).await;
    // A correction the generator does not reproduce: scored wrong.
    rate(
        "How many albums are there?",
        Rating::Down,
        Some("SELECT COUNT(*) FROM Track"),
    )
    .await;
    // Not golden: a thumbs-down without correction, and a dismissed record.
    rate("How many genres are there?", Rating::Down, None).await;
    let dismissed = rate("How many customers are there?", Rating::Up, None).await;
    engine
        .dismiss_feedback(&Principal::user("root").tenant(tenant), &dismissed.id)
        .await
        .expect("dismiss");
    drop(engine);

    let out = std::process::Command::new(BIN)
        .arg("--config")
        .arg(&config_path)
        .args(["eval", "--feedback", "--tenant", tenant, "--json"])
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(json["tenant_id"], tenant);
    assert_eq!(json["total"], 2, "{stdout}");
    assert_eq!(json["correct"], 1, "{stdout}");
    assert_eq!(json["wrong"], 1, "{stdout}");
    assert_eq!(json["execution_accuracy"], 0.5, "{stdout}");
    let results = json["results"].as_array().expect("results");
    let wrong = results
        .iter()
        .find(|r| r["outcome"] == "wrong")
        .expect("a wrong one");
    assert_eq!(wrong["gold_sql"], "SELECT COUNT(*) FROM Track");
    assert_eq!(wrong["corrected"], true);

    // Another tenant has no feedback: nothing to score.
    let out = std::process::Command::new(BIN)
        .arg("--config")
        .arg(&config_path)
        .args(["eval", "--feedback", "--tenant", "globex", "--json"])
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["total"], 0);
    // --feedback does not mix with a question file.
    let out = std::process::Command::new(BIN)
        .args(["eval", "--feedback", "--questions", "q.json"])
        .output()
        .expect("runs");
    assert_ne!(out.status.code(), Some(0));
}
