//! A loopback server that speaks the OpenAI chat-completions wire format, for driving the
//! pipeline without a hosted model. It checks what the documented API requires of a request
//! (path, `Authorization: Bearer`, JSON body with `model` and `messages`), records every
//! request, and answers from a script.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

/// What the fake model answers.
pub enum Reply {
    /// A normal completion with this message content.
    Content(String),
    /// An error status with an OpenAI-style error body.
    Status(u16, String),
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `Authorization` header.
    pub authorization: Option<String>,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// The JSON body.
    pub body: Value,
}

impl Recorded {
    /// The content of the last user message.
    pub fn last_user(&self) -> String {
        self.messages()
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_string()
    }

    /// The messages of the request.
    pub fn messages(&self) -> Vec<Value> {
        self.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Everything the model was told, joined.
    pub fn transcript(&self) -> String {
        self.messages()
            .iter()
            .filter_map(|m| m["content"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

type Script = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

#[derive(Clone)]
struct AppState {
    script: Script,
    requests: Arc<Mutex<Vec<Recorded>>>,
    key: String,
}

/// A running fake.
pub struct FakeOpenAi {
    /// `http://127.0.0.1:PORT/v1`, for `[llm] base_url`.
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeOpenAi {
    /// Starts a fake that expects `key` and answers with `script`.
    pub async fn start(
        key: &str,
        script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = AppState {
            script: Arc::new(script),
            requests: requests.clone(),
            key: key.to_string(),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{addr}/v1"),
            requests,
            server,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }
}

fn error(status: StatusCode, message: &str, kind: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "message": message, "type": kind, "param": null, "code": null } })),
    )
        .into_response()
}

async fn complete(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("We could not parse the JSON body of your request: {e}"),
                "invalid_request_error",
            );
        }
    };
    let recorded = Recorded {
        authorization: header("authorization"),
        content_type: header("content-type"),
        body,
    };
    state.requests.lock().expect("lock").push(recorded.clone());

    if recorded.authorization.as_deref() != Some(&format!("Bearer {}", state.key)) {
        return error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided.",
            "invalid_request_error",
        );
    }
    if !recorded
        .content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "Content-Type must be application/json",
            "invalid_request_error",
        );
    }
    let messages = recorded.messages();
    let well_formed = recorded.body["model"].is_string()
        && !messages.is_empty()
        && messages.iter().all(|m| {
            matches!(m["role"].as_str(), Some("system" | "user" | "assistant"))
                && m["content"].is_string()
        });
    if !well_formed {
        return error(
            StatusCode::BAD_REQUEST,
            "'messages' and 'model' are required",
            "invalid_request_error",
        );
    }
    match (state.script)(&recorded) {
        Reply::Content(content) => {
            let n = state.requests.lock().expect("lock").len();
            let reply = json!({
                "id": format!("chatcmpl-fake{n}"),
                "object": "chat.completion",
                "created": 1_764_000_000,
                "model": recorded.body["model"],
                "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }],
                "usage": { "prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120 }
            });
            ([("x-request-id", format!("req_fake{n}"))], Json(reply)).into_response()
        }
        Reply::Status(status, message) => error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &message,
            "server_error",
        ),
    }
}

/// A model reply carrying `sql`.
pub fn sql_reply(sql: &str, explanation: &str) -> Reply {
    Reply::Content(json!({ "sql": sql, "explanation": explanation }).to_string())
}
