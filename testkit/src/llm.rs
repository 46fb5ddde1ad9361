//! Loopback servers that speak the documented wire formats of the LLM providers, for driving
//! the pipeline without a hosted model: OpenAI chat completions and embeddings, Anthropic
//! Messages, Cohere Chat and Embed v2, Ollama chat and embed.
//!
//! Each checks what its provider's API requires of a request (path, key header, version
//! header, body fields and their types) and answers a request that breaks the contract the way
//! the provider would (400/401 with its error shape). Every request is recorded. Valid requests
//! are answered from a script: content, an error status, 429 with `Retry-After`, a malformed
//! body, or a body that stalls past the client's timeout.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

/// A provider's wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// OpenAI: `/v1/chat/completions`, `/v1/embeddings`, Bearer key.
    OpenAi,
    /// Anthropic: `/v1/messages`, `x-api-key`, `anthropic-version`.
    Anthropic,
    /// Cohere: `/v2/chat`, `/v2/embed`, Bearer key.
    Cohere,
    /// Ollama: `/api/chat`, `/api/embed`, no key.
    Ollama,
}

impl Wire {
    /// Every wire format.
    pub const ALL: [Wire; 4] = [Wire::OpenAi, Wire::Anthropic, Wire::Cohere, Wire::Ollama];

    /// The `[llm] provider` value of this wire.
    pub fn provider(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::Cohere => "cohere",
            Self::Ollama => "ollama",
        }
    }

    /// The chat endpoint's path.
    pub fn chat_path(self) -> &'static str {
        match self {
            Self::OpenAi => "/v1/chat/completions",
            Self::Anthropic => "/v1/messages",
            Self::Cohere => "/v2/chat",
            Self::Ollama => "/api/chat",
        }
    }

    /// The embeddings endpoint's path, when the provider has one.
    pub fn embed_path(self) -> Option<&'static str> {
        match self {
            Self::OpenAi => Some("/v1/embeddings"),
            Self::Anthropic => None,
            Self::Cohere => Some("/v2/embed"),
            Self::Ollama => Some("/api/embed"),
        }
    }

    /// The base-URL suffix the provider's clients add (`/v1` for OpenAI only).
    fn base_suffix(self) -> &'static str {
        if self == Self::OpenAi { "/v1" } else { "" }
    }
}

/// What the fake model answers.
pub enum Reply {
    /// A normal completion with this message content.
    Content(String),
    /// An error status with the provider's error body.
    Status(u16, String),
    /// 429 with `Retry-After: secs` and the provider's rate-limit error body.
    RateLimited(u64),
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200 whose body starts, then stalls for this long.
    Slow(Duration),
    /// Embedding vectors, one per input.
    Embeddings(Vec<Vec<f32>>),
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The request path.
    pub path: String,
    /// `Authorization` header.
    pub authorization: Option<String>,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// Every header, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The JSON body.
    pub body: Value,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Whether this is an embeddings request.
    pub fn is_embed(&self) -> bool {
        self.path.ends_with("embeddings") || self.path.ends_with("embed")
    }

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

    /// Everything the model was told, joined (Anthropic's top-level `system` first).
    pub fn transcript(&self) -> String {
        self.body["system"]
            .as_str()
            .into_iter()
            .chain(self.messages().iter().filter_map(|m| m["content"].as_str()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The texts of an embeddings request (`input` or Cohere's `texts`).
    pub fn embed_inputs(&self) -> Vec<String> {
        let v = if self.body["texts"].is_array() {
            &self.body["texts"]
        } else {
            &self.body["input"]
        };
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }
}

type Script = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

#[derive(Clone)]
struct AppState {
    wire: Wire,
    script: Script,
    requests: Arc<Mutex<Vec<Recorded>>>,
    key: String,
}

/// A running fake.
pub struct FakeLlm {
    /// The address for `[llm] base_url` (`http://127.0.0.1:PORT/v1` for OpenAI,
    /// `http://127.0.0.1:PORT` for the others).
    pub base_url: String,
    /// The wire format it speaks.
    pub wire: Wire,
    requests: Arc<Mutex<Vec<Recorded>>>,
    server: tokio::task::JoinHandle<()>,
}

/// The OpenAI fake, under its older name.
pub type FakeOpenAi = FakeLlm;

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeLlm {
    /// Starts an OpenAI fake that expects `key` and answers with `script`.
    pub async fn start(
        key: &str,
        script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::start_wire(Wire::OpenAi, key, script).await
    }

    /// Starts a fake of `wire` that expects `key` (Ollama: any key, or none) and answers with
    /// `script`.
    pub async fn start_wire(
        wire: Wire,
        key: &str,
        script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = AppState {
            wire,
            script: Arc::new(script),
            requests: requests.clone(),
            key: key.to_string(),
        };
        let mut app = Router::new().route(wire.chat_path(), post(handle));
        if let Some(path) = wire.embed_path() {
            app = app.route(path, post(handle));
        }
        let (addr, server) = crate::serve(app.with_state(state), 0).await;
        Self {
            base_url: format!("http://{addr}{}", wire.base_suffix()),
            wire,
            requests,
            server,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.requests.lock().expect("lock").len()
    }
}

/// The provider's error body for `status`.
fn error(wire: Wire, status: u16, message: &str, n: usize) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let id = format!("req_fake{n}");
    match wire {
        Wire::OpenAi => {
            let kind = match status {
                401 => "invalid_request_error",
                429 => "requests",
                s if s >= 500 => "server_error",
                _ => "invalid_request_error",
            };
            (
                code,
                [("x-request-id", id)],
                axum::Json(json!({ "error": { "message": message, "type": kind, "param": null, "code": null } })),
            )
                .into_response()
        }
        Wire::Anthropic => {
            let kind = match status {
                401 => "authentication_error",
                403 => "permission_error",
                404 => "not_found_error",
                429 => "rate_limit_error",
                529 => "overloaded_error",
                s if s >= 500 => "api_error",
                _ => "invalid_request_error",
            };
            (
                code,
                [("request-id", id.clone())],
                axum::Json(json!({ "type": "error", "error": { "type": kind, "message": message }, "request_id": id })),
            )
                .into_response()
        }
        Wire::Cohere => (
            code,
            axum::Json(json!({ "id": format!("cohere-{id}"), "message": message })),
        )
            .into_response(),
        Wire::Ollama => (code, axum::Json(json!({ "error": message }))).into_response(),
    }
}

/// Checks `r` against the provider's documented request contract; `Err` is the provider's
/// answer to a request that breaks it.
fn check(wire: Wire, key: &str, r: &Recorded) -> Result<(), (u16, String)> {
    let bearer = format!("Bearer {key}");
    match wire {
        Wire::OpenAi | Wire::Cohere => {
            if r.authorization.as_deref() != Some(bearer.as_str()) {
                return Err((
                    401,
                    match wire {
                        Wire::Cohere => "invalid api token".to_string(),
                        _ => "Incorrect API key provided.".to_string(),
                    },
                ));
            }
        }
        Wire::Anthropic => {
            if r.header("x-api-key") != Some(key) {
                return Err((401, "invalid x-api-key".into()));
            }
            if r.header("anthropic-version") != Some("2023-06-01") {
                return Err((400, "anthropic-version: header is required".into()));
            }
        }
        Wire::Ollama => {
            if !key.is_empty() && r.authorization.as_deref() != Some(bearer.as_str()) {
                return Err((401, "unauthorized".into()));
            }
        }
    }
    if !r
        .content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return Err((400, "Content-Type must be application/json".into()));
    }
    let b = &r.body;
    if b["model"].as_str().is_none_or(str::is_empty) {
        return Err((400, "model: Field required".into()));
    }
    if r.is_embed() {
        return check_embed(wire, r);
    }
    let messages = r.messages();
    if messages.is_empty() {
        return Err((400, "messages: at least one message is required".into()));
    }
    if !messages.iter().all(|m| m["content"].is_string()) {
        return Err((400, "messages: content must be a string".into()));
    }
    let roles: &[&str] = match wire {
        Wire::Anthropic => &["user", "assistant"],
        Wire::Cohere => &["system", "user", "assistant", "tool"],
        Wire::OpenAi | Wire::Ollama => &["system", "user", "assistant", "tool"],
    };
    if let Some(bad) = messages
        .iter()
        .find(|m| !m["role"].as_str().is_some_and(|role| roles.contains(&role)))
    {
        return Err((
            400,
            format!(
                "messages: Unexpected role {}. The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role.",
                bad["role"]
            ),
        ));
    }
    match wire {
        Wire::Anthropic => {
            if b["max_tokens"].as_u64().is_none_or(|n| n == 0) {
                return Err((400, "max_tokens: Field required".into()));
            }
            if !(b["system"].is_null() || b["system"].is_string()) {
                return Err((400, "system: Input should be a valid string".into()));
            }
            if messages[0]["role"] != "user" {
                return Err((
                    400,
                    "messages: first message must use the \"user\" role".into(),
                ));
            }
            if messages.windows(2).any(|w| w[0]["role"] == w[1]["role"]) {
                return Err((
                    400,
                    "messages: roles must alternate between \"user\" and \"assistant\"".into(),
                ));
            }
            if b["temperature"]
                .as_f64()
                .is_some_and(|t| !(0.0..=1.0).contains(&t))
            {
                return Err((400, "temperature: range: 0..1".into()));
            }
        }
        Wire::Cohere => {
            if b["stream"].as_bool() == Some(true) {
                return Err((400, "this server answers non-streamed requests only".into()));
            }
            if b["temperature"]
                .as_f64()
                .is_some_and(|t| !(0.0..=1.0).contains(&t))
            {
                return Err((
                    400,
                    "invalid request: temperature must be between 0 and 1.0 inclusive.".into(),
                ));
            }
        }
        Wire::Ollama => {
            // Without `stream: false` a real server streams NDJSON chunks.
            if b["stream"] != json!(false) {
                return Err((
                    400,
                    "this server answers only \"stream\": false requests".into(),
                ));
            }
            let options = &b["options"];
            if !options["temperature"].is_number() || !options["num_predict"].is_u64() {
                return Err((
                    400,
                    "options.temperature and options.num_predict must be numbers".into(),
                ));
            }
            if !(b["format"].is_null() || b["format"] == "json" || b["format"].is_object()) {
                return Err((400, "format must be \"json\" or a JSON schema".into()));
            }
        }
        Wire::OpenAi => {
            if !b["max_tokens"].is_u64() {
                return Err((400, "max_tokens must be an integer".into()));
            }
        }
    }
    Ok(())
}

fn check_embed(wire: Wire, r: &Recorded) -> Result<(), (u16, String)> {
    let b = &r.body;
    match wire {
        Wire::OpenAi => {
            if !(b["input"].is_string() || b["input"].is_array()) {
                return Err((400, "'input' is a required property".into()));
            }
        }
        Wire::Cohere => {
            if b["texts"].as_array().is_none_or(|t| t.len() > 96) {
                return Err((
                    400,
                    "invalid request: texts must be a list of at most 96 strings".into(),
                ));
            }
            if !b["input_type"].is_string() {
                return Err((
                    400,
                    "invalid request: valid input_type must be provided with the provided model"
                        .into(),
                ));
            }
            if !b["embedding_types"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x == "float"))
            {
                return Err((400, "this server returns float embeddings only; ask for embedding_types [\"float\"]".into()));
            }
        }
        Wire::Ollama => {
            if !(b["input"].is_string() || b["input"].is_array()) {
                return Err((400, "input is required".into()));
            }
        }
        Wire::Anthropic => return Err((404, "Not found".into())),
    }
    Ok(())
}

fn content_reply(wire: Wire, model: &Value, content: &str, n: usize) -> Response {
    let id = format!("req_fake{n}");
    match wire {
        Wire::OpenAi => (
            [("x-request-id", id)],
            axum::Json(json!({
                "id": format!("chatcmpl-fake{n}"),
                "object": "chat.completion",
                "created": 1_764_000_000,
                "model": model,
                "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }],
                "usage": { "prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120 }
            })),
        )
            .into_response(),
        Wire::Anthropic => (
            [("request-id", id)],
            axum::Json(json!({
                "id": format!("msg_fake{n}"),
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{ "type": "text", "text": content }],
                "stop_reason": "end_turn",
                "stop_sequence": null,
                "usage": { "input_tokens": 100, "output_tokens": 20 }
            })),
        )
            .into_response(),
        Wire::Cohere => axum::Json(json!({
            "id": format!("cohere-chat-{n}"),
            "finish_reason": "COMPLETE",
            "message": { "role": "assistant", "content": [{ "type": "text", "text": content }] },
            "usage": {
                "billed_units": { "input_tokens": 100, "output_tokens": 20 },
                "tokens": { "input_tokens": 100, "output_tokens": 20 }
            }
        }))
        .into_response(),
        Wire::Ollama => axum::Json(json!({
            "model": model,
            "created_at": "2026-01-01T00:00:00Z",
            "message": { "role": "assistant", "content": content },
            "done_reason": "stop",
            "done": true,
            "total_duration": 1000,
            "prompt_eval_count": 100,
            "eval_count": 20
        }))
        .into_response(),
    }
}

fn embeddings_reply(wire: Wire, r: &Recorded, vectors: Vec<Vec<f32>>, n: usize) -> Response {
    match wire {
        Wire::OpenAi => {
            // Items carry their input's index; send them in reverse to check that clients
            // order by it.
            let data: Vec<Value> = vectors
                .iter()
                .enumerate()
                .rev()
                .map(|(i, v)| json!({ "object": "embedding", "index": i, "embedding": v }))
                .collect();
            axum::Json(json!({
                "object": "list", "data": data, "model": r.body["model"],
                "usage": { "prompt_tokens": 8, "total_tokens": 8 }
            }))
            .into_response()
        }
        Wire::Cohere => axum::Json(json!({
            "id": format!("cohere-embed-{n}"),
            "embeddings": { "float": vectors },
            "texts": r.embed_inputs(),
            "meta": { "api_version": { "version": "2" } },
            "response_type": "embeddings_by_type"
        }))
        .into_response(),
        Wire::Ollama => axum::Json(json!({
            "model": r.body["model"], "embeddings": vectors, "prompt_eval_count": 8
        }))
        .into_response(),
        Wire::Anthropic => error(wire, 404, "Not found", n),
    }
}

async fn handle(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let wire = state.wire;
    let n = state.requests.lock().expect("lock").len() + 1;
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(wire, 400, &format!("could not parse the JSON body: {e}"), n);
        }
    };
    let header_map: BTreeMap<String, String> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let recorded = Recorded {
        path: uri.path().to_string(),
        authorization: header_map.get("authorization").cloned(),
        content_type: header_map.get("content-type").cloned(),
        headers: header_map,
        body,
    };
    state.requests.lock().expect("lock").push(recorded.clone());
    if let Err((status, message)) = check(wire, &state.key, &recorded) {
        return error(wire, status, &message, n);
    }
    match (state.script)(&recorded) {
        Reply::Content(content) => content_reply(wire, &recorded.body["model"], &content, n),
        Reply::Embeddings(vectors) => embeddings_reply(wire, &recorded, vectors, n),
        Reply::Status(status, message) => error(wire, status, &message, n),
        Reply::RateLimited(secs) => {
            let mut response = error(wire, 429, "Rate limit reached for requests", n);
            response.headers_mut().insert(
                "retry-after",
                secs.to_string().parse().expect("header value"),
            );
            response
        }
        Reply::Malformed => (
            [("content-type", "application/json")],
            "{\"id\": \"broken\", \"choices\": [",
        )
            .into_response(),
        Reply::Slow(stall) => {
            use futures_util::StreamExt;
            let head = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(
                b"{\"id\": ",
            ))]);
            let tail = futures_util::stream::once(async move {
                tokio::time::sleep(stall).await;
                Ok(Bytes::from_static(b"\"late\"}"))
            });
            (
                [("content-type", "application/json")],
                Body::from_stream(head.chain(tail)),
            )
                .into_response()
        }
    }
}

/// A model reply carrying `sql`.
pub fn sql_reply(sql: &str, explanation: &str) -> Reply {
    Reply::Content(json!({ "sql": sql, "explanation": explanation }).to_string())
}
