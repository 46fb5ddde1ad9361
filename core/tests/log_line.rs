//! The JSON log line of an ask. A test binary of its own: tracing caches per call site whether
//! anyone listens, so a process-wide subscriber installed by another test would hide the
//! scoped one used here.

use conversational_bi::{
    Ask, Config, Engine,
    config::{LlmProviderKind, Secret},
};
use testkit::llm::{FakeOpenAi, sql_reply};

const KEY: &str = "sk-test-loopback";

fn databases() -> Vec<((), String)> {
    vec![(
        (),
        format!(
            "sqlite://{}/../examples/chinook/chinook.sqlite",
            env!("CARGO_MANIFEST_DIR")
        ),
    )]
}

fn q(_: (), sql: &str) -> String {
    sql.to_string()
}

async fn engine(url: &str, fake: &FakeOpenAi) -> Engine {
    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Openai;
    config.llm.base_url = Some(fake.base_url.clone());
    config.llm.api_key = Some(Secret::new(KEY));
    Engine::builder()
        .config(config)
        .database_url(url)
        .build()
        .await
        .expect("engine")
}

/// A writer that keeps log output in memory.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn each_ask_writes_one_json_log_line_with_the_runbook_fields() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_env_filter("conversational_bi::query=info")
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (dialect, url) = databases().remove(0);
        let sql = q(dialect, "SELECT count(*) FROM Genre");
        let fake = FakeOpenAi::start(KEY, move |_| sql_reply(&sql, "")).await;
        let engine = engine(&url, &fake).await;
        engine
            .ask(
                Ask::new("How many genres?")
                    .tenant("acme-corp")
                    .session("log-test"),
            )
            .await
            .expect("answered");
    });
    let text = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 1, "one line per ask: {text}");
    let line = &lines[0];
    for field in [
        "timestamp",
        "level",
        "service",
        "tenant_id",
        "session_id",
        "query",
        "latency_ms",
        "cache_hit",
        "sql_generated",
    ] {
        assert!(line.get(field).is_some(), "{field} missing: {line}");
    }
    assert_eq!(line["service"], "conversational-bi");
    assert_eq!(line["tenant_id"], "acme-corp");
    assert_eq!(line["session_id"], "log-test");
    assert_eq!(line["query"], "How many genres?");
    assert_eq!(line["cache_hit"], false);
    assert_eq!(line["sql_generated"], true);
    assert_eq!(line["level"], "INFO");
}
