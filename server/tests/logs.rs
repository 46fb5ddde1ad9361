//! Log lines of requests cannot be forged: in `[logging] format = "text"` every control
//! character of a value from a request is escaped, JSON lines escape as JSON does, and the
//! question is logged as the input guard cleaned it. A test binary of its own: tracing caches
//! per call site whether anyone listens, and these tests install scoped subscribers.

#[path = "http/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::sync::{Arc, Mutex};

use cbi_server::serve::logging;
use conversational_bi::config::{LogFormat, LoggingConfig};
use serde_json::{Value, json};
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use support::{ask, login, request, send, test_app};

/// A writer that keeps log output in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const FORGED_NAME: &str =
    "mallory\n2026-01-01T00:00:00Z  INFO cbi_server::auth: logged in username=admin\r\x1b[31mred";
const FORGED_QUESTION: &str =
    "How many artists\n2026-01-01T00:00:00Z  INFO forged\r are there?\x1b[31m";
/// `FORGED_QUESTION` as the input guard cleans it.
const CLEANED_QUESTION: &str = "How many artists 2026-01-01T00:00:00Z INFO forged are there?[31m";

/// Runs a failed login with `FORGED_NAME` and a question `FORGED_QUESTION` through the API with
/// the server's subscriber for `format`, and returns what was logged.
fn logged(format: LogFormat) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let config = LoggingConfig {
        level: "info".into(),
        format,
        output: "stdout".into(),
    };
    let subscriber = logging::subscriber(&config, BoxMakeWriter::new(move || writer.clone()))
        .expect("subscriber");
    let _guard = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let app = test_app().await;
        let refused = send(
            &app,
            request(
                "POST",
                "/api/v1/auth/login",
                None,
                Some(json!({ "username": FORGED_NAME, "password": "x" })),
            ),
        )
        .await;
        assert_eq!(refused.status, 401, "{:?}", refused.body);
        let token = login(&app, "ana").await;
        // The offline generator cannot answer it; the failure is logged with the question.
        let failed = ask(&app, &token, "log-1", FORGED_QUESTION).await;
        assert_eq!(failed.status, 422, "{:?}", failed.body);
    });
    let text = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(
        !text.contains(['\r', '\x1b']),
        "no raw CR or ESC in the log:\n{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("2026-01-01")),
        "no forged line:\n{text}"
    );
    text
}

#[test]
fn text_lines_escape_control_characters_of_request_values() {
    let text = logged(LogFormat::Text);
    let refused: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("login refused"))
        .collect();
    assert_eq!(refused.len(), 1, "{text}");
    assert!(
        refused[0].contains(
            "username=mallory\\n2026-01-01T00:00:00Z  INFO cbi_server::auth: logged in username=admin\\r\\u{1b}[31mred"
        ),
        "the name shows escaped on the line of the refusal: {}",
        refused[0]
    );
    let queries: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("conversational_bi::query"))
        .collect();
    assert_eq!(queries.len(), 1, "{text}");
    assert!(
        queries[0].contains(&format!("query={CLEANED_QUESTION} ")),
        "the question as the guard cleaned it: {}",
        queries[0]
    );
}

#[test]
fn json_lines_escape_request_values_and_log_the_cleaned_question() {
    let text = logged(LogFormat::Json);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not one JSON object: {l}"))
        })
        .collect();
    let refused: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "login refused")
        .collect();
    assert_eq!(refused.len(), 1, "{text}");
    assert_eq!(refused[0]["username"], FORGED_NAME);
    let query: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "conversational_bi::query")
        .collect();
    assert_eq!(query.len(), 1, "{text}");
    assert_eq!(query[0]["query"], CLEANED_QUESTION);
    assert_eq!(query[0]["user_id"], "ana");
}
