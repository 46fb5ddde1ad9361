//! `ask` and `chat` through the real binary, with a loopback OpenAI-format server as the model.

use std::{io::Write, process::Stdio};

use serde_json::Value;
use testkit::llm::{FakeOpenAi, Recorded, Reply, sql_reply};

const BIN: &str = env!("CARGO_BIN_EXE_heliosdb-conversational-bi");

fn config_for(fake: &FakeOpenAi, dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("conversational-bi.toml");
    std::fs::write(
        &path,
        format!(
            "[llm]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{}\"\n",
            fake.base_url
        ),
    )
    .expect("write config");
    path
}

fn script() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r| match r.last_user().as_str() {
        "How many artists are there?" => {
            sql_reply("SELECT count(*) AS artists FROM Artist", "Counts artists.")
        }
        "And albums?" => sql_reply("SELECT count(*) AS albums FROM Album", "Counts albums."),
        _ => sql_reply("SELECT Nmae FROM Artist", ""),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_answers_successive_questions_in_one_session() {
    let fake = FakeOpenAi::start("sk-cli-test", script()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_for(&fake, dir.path());
    let home = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(BIN)
            .args([
                "--config",
                config.to_str().expect("utf-8"),
                "ask",
                "--json",
                "--tenant",
                "acme",
            ])
            .args([
                "How many artists are there?",
                "And albums?",
                "Something impossible",
            ])
            .env("OPENAI_API_KEY", "sk-cli-test")
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env_remove("DATABASE_URL")
            .output()
            .expect("runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines[0]["rows"][0][0], 275);
    assert_eq!(lines[0]["turn"], 1);
    assert_eq!(lines[1]["rows"][0][0], 347);
    assert_eq!(lines[1]["turn"], 2);
    assert_eq!(lines[0]["session_id"], lines[1]["session_id"]);
    assert_eq!(lines[1]["generator"], "openai:gpt-4o-mini");
    assert_eq!(lines[2]["error"]["code"], "SQL_REJECTED");
    assert_eq!(
        out.status.code(),
        Some(3),
        "the failed question sets the exit code"
    );
    let requests = fake.requests();
    assert!(
        requests[1]
            .transcript()
            .contains("SELECT count(*) AS artists FROM Artist"),
        "turn 2 sees turn 1's SQL"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_keeps_the_conversation_and_answers_commands() {
    let fake = FakeOpenAi::start("sk-cli-test", script()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_for(&fake, dir.path());
    let home = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(BIN)
            .args(["--config", config.to_str().expect("utf-8"), "chat"])
            .env("OPENAI_API_KEY", "sk-cli-test")
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env_remove("DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"How many artists are there?\n\\sql\nAnd albums?\n\\history\n\\reset\n\\history\n\\quit\n")
            .expect("write");
        child.wait_with_output().expect("output")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("275"), "{stdout}");
    assert!(stdout.contains("347"), "{stdout}");
    assert!(
        stdout.contains("1. How many artists are there?") && stdout.contains("2. And albums?"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(new conversation)") && stdout.contains("(no questions yet)"),
        "{stdout}"
    );
}

#[test]
fn ask_without_a_provider_uses_the_offline_generator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(BIN)
        .args(["ask", "--json", "How many artists are there?"])
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"generator\":\"rule\""), "{stdout}");
    assert!(stdout.contains("275"), "{stdout}");
}
