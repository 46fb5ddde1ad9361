//! `ask` through the real binary with a non-OpenAI provider chosen in the configuration file
//! (`[llm] provider`, `base_url`), against a loopback server speaking Cohere's wire format.

use serde_json::Value;
use testkit::llm::{FakeLlm, Reply, Wire, sql_reply};

const BIN: &str = env!("CARGO_BIN_EXE_heliosdb-conversational-bi");
const KEY: &str = "co-cli-test-key";

fn write_config(dir: &std::path::Path, fake: &FakeLlm) -> std::path::PathBuf {
    let path = dir.join("conversational-bi.toml");
    std::fs::write(
        &path,
        format!(
            "[llm]\nprovider = \"cohere\"\nmodel = \"command-a-03-2025\"\nbase_url = \"{}\"\nmax_retries = 0\n",
            fake.base_url
        ),
    )
    .expect("write config");
    path
}

async fn ask(
    config: std::path::PathBuf,
    home: std::path::PathBuf,
    args: &[&str],
) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(BIN)
            .args(["--config", config.to_str().expect("utf-8"), "ask"])
            .args(&args)
            .env("COHERE_API_KEY", KEY)
            .env_remove("OPENAI_API_KEY")
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env_remove("DATABASE_URL")
            .output()
            .expect("runs")
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_answers_through_cohere_chosen_in_the_config_file() {
    let fake = FakeLlm::start_wire(Wire::Cohere, KEY, |_| {
        sql_reply(
            "SELECT count(*) AS artists FROM Artist",
            "Counts the artists.",
        )
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &fake);
    let out = ask(
        config,
        dir.path().to_path_buf(),
        &["--json", "How many artists are there?"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(answer["rows"][0][0], 275);
    assert_eq!(answer["generator"], "cohere:command-a-03-2025");
    assert_eq!(answer["degraded"], false);
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v2/chat");
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_falls_back_to_the_rules_when_cohere_is_down() {
    let fake = FakeLlm::start_wire(Wire::Cohere, KEY, |_| {
        Reply::Status(503, "service unavailable".into())
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &fake);
    let out = ask(
        config.clone(),
        dir.path().to_path_buf(),
        &["--json", "How many artists are there?"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(answer["rows"][0][0], 275);
    assert_eq!(answer["degraded"], true);
    assert_eq!(answer["generator"], "rule");
    assert!(
        answer["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("HTTP 503") && w.contains("cohere:command-a-03-2025")),
        "{answer}"
    );

    let out = ask(
        config,
        dir.path().to_path_buf(),
        &["How many artists are there?"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains("(degraded)") && stdout.contains("275"),
        "{stdout}"
    );
}
