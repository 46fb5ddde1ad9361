//! A loopback server that speaks the OpenAI chat-completions wire format (`POST
//! /v1/chat/completions`, `Authorization: Bearer KEY`, a JSON body with `model` and
//! `messages`), answering from a script. It stands in for a hosted model, which cannot be
//! reached here; the server's tests and its load benchmark use it.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

/// What the model answers to one question.
#[derive(Debug, Clone)]
pub struct Scripted {
    /// The SQL of the reply.
    pub sql: String,
    /// How long to wait before answering.
    pub delay: Duration,
}

/// The script: the last user message (the question) to the reply.
pub type Script = Arc<dyn Fn(&str) -> Scripted + Send + Sync>;

#[derive(Clone)]
struct Shared {
    key: String,
    script: Script,
    calls: Arc<AtomicUsize>,
    received: Arc<AtomicUsize>,
    transcripts: Arc<Mutex<Vec<String>>>,
}

/// A running loopback model.
pub struct LoopbackLlm {
    /// `http://127.0.0.1:PORT/v1`, for `[llm] base_url`.
    pub base_url: String,
    calls: Arc<AtomicUsize>,
    received: Arc<AtomicUsize>,
    transcripts: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LoopbackLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LoopbackLlm {
    /// Starts on an ephemeral loopback port (or `port`), expecting `key`.
    pub async fn start(key: &str, port: u16, script: Script) -> Self {
        let calls = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(AtomicUsize::new(0));
        let transcripts = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            key: key.to_string(),
            script,
            calls: calls.clone(),
            received: received.clone(),
            transcripts: transcripts.clone(),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(shared);
        let (addr, task) = crate::serve(app, port).await;
        Self {
            base_url: format!("http://{addr}/v1"),
            calls,
            received,
            transcripts,
            task,
        }
    }

    /// Completions answered so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Everything the model was told, per request (message contents joined by newlines).
    pub fn transcripts(&self) -> Vec<String> {
        self.transcripts.lock().expect("lock").clone()
    }

    /// Well-formed requests received so far (answered or still waiting out their delay).
    pub fn received(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({ "error": { "message": message, "type": "invalid_request_error", "param": null, "code": null } });
    (status, Json(body)).into_response()
}

async fn complete(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let bearer = format!("Bearer {}", shared.key);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(bearer.as_str()) {
        return error(StatusCode::UNAUTHORIZED, "Incorrect API key provided.");
    }
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "We could not parse the JSON body of your request.",
        );
    };
    let Some(messages) = body["messages"].as_array().filter(|m| !m.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "'messages' is required");
    };
    if !body["model"].is_string() {
        return error(StatusCode::BAD_REQUEST, "'model' is required");
    }
    let question = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    let transcript = messages
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    shared.transcripts.lock().expect("lock").push(transcript);
    shared.received.fetch_add(1, Ordering::SeqCst);
    let reply = (shared.script)(question);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let n = shared.calls.fetch_add(1, Ordering::SeqCst) + 1;
    let content = json!({ "sql": reply.sql, "explanation": "Answers the question." }).to_string();
    Json(json!({
        "id": format!("chatcmpl-loopback{n}"),
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": body["model"],
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120 }
    }))
    .into_response()
}
