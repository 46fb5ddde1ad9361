//! Every error status of the API, through `app()`: the JSON shape, the status, and the headers
//! (`WWW-Authenticate`, `Retry-After`). Failures of services that cannot be made to fail here on
//! demand (a rate limiter, an open breaker, a store) come from test generators and stores at
//! the engine's seams; the database outage is real (a TCP relay to PostgreSQL that is cut).

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use axum::{body::Body, http::Request};
use conversational_bi::{
    Error, Result,
    config::{Fallback, LlmProviderKind, Secret},
    generate::{Generation, GenerationRequest, SqlGenerator},
    session::{SessionKey, SessionState, SessionStore, Turn},
};
use serde_json::json;

use testkit::loopback::{LoopbackLlm, Scripted};

use crate::support::{app_with, ask, config, login, request, send, test_app};

/// A generator that fails every question with the error `make` builds.
#[derive(Debug)]
struct Failing(fn() -> Error);

#[async_trait]
impl SqlGenerator for Failing {
    fn name(&self) -> String {
        "failing".into()
    }
    async fn generate(&self, _: &GenerationRequest) -> Result<Generation> {
        Err((self.0)())
    }
}

/// A generator that always writes the same SQL.
#[derive(Debug)]
struct Fixed(&'static str);

#[async_trait]
impl SqlGenerator for Fixed {
    fn name(&self) -> String {
        "fixed".into()
    }
    async fn generate(&self, _: &GenerationRequest) -> Result<Generation> {
        Ok(Generation {
            sql: self.0.into(),
            explanation: String::new(),
            state: None,
            degraded: None,
            clarification: None,
        })
    }
}

/// A generator that never answers.
#[derive(Debug)]
struct Hanging;

#[async_trait]
impl SqlGenerator for Hanging {
    fn name(&self) -> String {
        "hanging".into()
    }
    async fn generate(&self, _: &GenerationRequest) -> Result<Generation> {
        std::future::pending().await
    }
}

/// A session store whose backing service is down.
#[derive(Debug)]
struct StoreDown;

fn store_down() -> Error {
    Error::ServiceUnavailable {
        service: "redis".into(),
        message: "connection refused (redis://cache:6379)".into(),
    }
}

#[async_trait]
impl SessionStore for StoreDown {
    async fn load(&self, _: &SessionKey) -> Result<SessionState> {
        Err(store_down())
    }
    async fn append(&self, _: &SessionKey, _: Turn) -> Result<SessionState> {
        Err(store_down())
    }
    async fn reset(&self, _: &SessionKey) -> Result<()> {
        Err(store_down())
    }
}

async fn failing_app(make: fn() -> Error) -> axum::Router {
    app_with(config(), Some(Arc::new(Failing(make))), None).await
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/query")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from("{\"query\": "))
        .expect("request");
    let reply = send(&app, req).await;
    reply.assert_error(400, "INVALID_INPUT");
    assert!(
        reply.message().contains("not valid JSON"),
        "{}",
        reply.message()
    );
}

#[tokio::test]
async fn a_body_without_the_query_field_is_400() {
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let reply = send(
        &app,
        request(
            "POST",
            "/api/v1/query",
            Some(&token),
            Some(json!({ "question": "how many?" })),
        ),
    )
    .await;
    reply.assert_error(400, "INVALID_INPUT");
    assert!(reply.message().contains("question"), "{}", reply.message());
}

#[tokio::test]
async fn an_empty_question_is_400_from_the_input_guard() {
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let reply = ask(&app, &token, "e-1", " \u{200B}\t ").await;
    reply.assert_error(400, "INVALID_INPUT");
    assert!(reply.message().contains("empty"), "{}", reply.message());
}

#[tokio::test]
async fn a_question_over_max_query_length_is_400() {
    let mut c = config();
    c.production.security.max_query_length = 100;
    let app = app_with(c, None, None).await;
    let token = login(&app, "ana").await;
    let reply = ask(&app, &token, "e-2", &"how many artists ".repeat(10)).await;
    reply.assert_error(400, "INVALID_INPUT");
    assert!(
        reply.message().contains("max_query_length"),
        "{}",
        reply.message()
    );
}

#[tokio::test]
async fn a_bad_session_id_is_400() {
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let reply = ask(
        &app,
        &token,
        "has spaces/and slashes",
        "How many artists are there?",
    )
    .await;
    reply.assert_error(400, "INVALID_INPUT");
    assert!(
        reply.message().contains("session_id"),
        "{}",
        reply.message()
    );
    let long = "s".repeat(129);
    let reply = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/sessions/{long}"),
            Some(&token),
            None,
        ),
    )
    .await;
    reply.assert_error(400, "INVALID_INPUT");
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_415() {
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/query")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(
            json!({ "query": "How many artists are there?" }).to_string(),
        ))
        .expect("request");
    let reply = send(&app, req).await;
    reply.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    assert!(
        reply.message().contains("application/json"),
        "{}",
        reply.message()
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let mut c = config();
    c.production.security.max_query_length = 1000;
    c.server.max_body_bytes = 2048;
    let app = app_with(c, None, None).await;
    let token = login(&app, "ana").await;
    let reply = ask(&app, &token, "e-3", &"x".repeat(5000)).await;
    reply.assert_error(413, "PAYLOAD_TOO_LARGE");
    assert!(reply.message().contains("2048"), "{}", reply.message());
    // A body of unknown length (chunked) is cut at the limit too.
    let stream = futures_stream(json!({ "query": "y".repeat(5000) }).to_string());
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/query")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(stream)
        .expect("request");
    send(&app, req).await.assert_error(413, "PAYLOAD_TOO_LARGE");
}

/// A body of unknown length, sent in chunks.
fn futures_stream(text: String) -> Body {
    let chunks: Vec<std::result::Result<Vec<u8>, std::io::Error>> = text
        .as_bytes()
        .chunks(512)
        .map(|c| Ok(c.to_vec()))
        .collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_in_json() {
    let app = test_app().await;
    let reply = send(&app, request("GET", "/api/v2/query", None, None)).await;
    reply.assert_error(404, "NOT_FOUND");
    assert!(
        reply.message().contains("openapi.json"),
        "{}",
        reply.message()
    );
    let reply = send(&app, request("GET", "/api/v1/query", None, None)).await;
    reply.assert_error(405, "METHOD_NOT_ALLOWED");
    assert!(reply.message().contains("GET"), "{}", reply.message());
    assert_eq!(reply.headers["allow"], "POST");
}

#[tokio::test]
async fn a_token_without_a_role_is_403() {
    let app = test_app().await;
    let token = login(&app, "nobody").await;
    let reply = ask(&app, &token, "e-4", "How many artists are there?").await;
    reply.assert_error(403, "FORBIDDEN");
    assert!(
        reply.message().contains("`analyst` or `admin`"),
        "{}",
        reply.message()
    );
}

#[tokio::test]
async fn unsafe_sql_is_422_and_never_runs() {
    let app = app_with(config(), Some(Arc::new(Fixed("DELETE FROM Artist"))), None).await;
    let token = login(&app, "ana").await;
    let reply = ask(&app, &token, "e-5", "Remove all artists").await;
    reply.assert_error(422, "SQL_REJECTED");
    let check = app_with(config(), None, None).await;
    let token = login(&check, "ana").await;
    let count = ask(&check, &token, "e-5b", "How many artists are there?").await;
    assert_eq!(count.body["rows"], json!([[275]]), "nothing was deleted");
}

#[tokio::test]
async fn an_unanswerable_question_is_422() {
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let reply = ask(&app, &token, "e-6", "frobnicate the wibble").await;
    reply.assert_error(422, "CANNOT_ANSWER");
    assert!(
        reply.message().contains("frobnicate"),
        "{}",
        reply.message()
    );
}

#[tokio::test]
async fn a_spent_rate_limit_is_429_with_retry_after() {
    let app = failing_app(|| Error::RateLimited {
        tenant_id: "acme".into(),
        retry_after: Duration::from_millis(2500),
    })
    .await;
    let token = login(&app, "ana").await;
    let reply = ask(&app, &token, "e-7", "How many artists are there?").await;
    reply.assert_error(429, "RATE_LIMITED");
    assert_eq!(reply.headers["retry-after"], "3");
}

#[tokio::test]
async fn an_open_breaker_without_fallback_is_503_with_retry_after() {
    let app = failing_app(|| Error::CircuitOpen {
        service: "nl2sql".into(),
        retry_in: Duration::from_secs(42),
    })
    .await;
    let token = login(&app, "ana").await;
    let reply = ask(&app, &token, "e-8", "How many artists are there?").await;
    reply.assert_error(503, "CIRCUIT_OPEN");
    assert_eq!(reply.headers["retry-after"], "42");
}

#[tokio::test]
async fn a_session_store_that_is_down_is_503() {
    let app = app_with(config(), None, Some(Arc::new(StoreDown))).await;
    let token = login(&app, "ana").await;
    let reply = ask(&app, &token, "e-9", "How many artists are there?").await;
    reply.assert_error(503, "SERVICE_UNAVAILABLE");
    let reply = send(
        &app,
        request("GET", "/api/v1/sessions/e-9", Some(&token), None),
    )
    .await;
    reply.assert_error(503, "SERVICE_UNAVAILABLE");
}

#[tokio::test]
async fn a_failing_model_is_502() {
    // The loopback model expects another key: it answers 401, which no retry fixes.
    let llm = LoopbackLlm::start(
        "sk-the-right-key",
        0,
        Arc::new(|_: &str| Scripted {
            sql: "SELECT 1".into(),
            delay: Duration::ZERO,
        }),
    )
    .await;
    let mut c = config();
    c.llm.provider = LlmProviderKind::Openai;
    c.llm.base_url = Some(llm.base_url.clone());
    c.llm.api_key = Some(Secret::new("sk-a-wrong-key-hunter2"));
    c.llm.fallback = Fallback::None;
    c.llm.max_retries = 0;
    let app = app_with(c, None, None).await;
    let token = login(&app, "ana").await;
    let reply = ask(&app, &token, "e-10", "How many artists are there?").await;
    reply.assert_error(502, "PROVIDER");
    assert!(
        !reply.body.to_string().contains("hunter2"),
        "{:?}",
        reply.body
    );
}

#[tokio::test]
async fn a_request_over_the_timeout_is_504() {
    let mut c = config();
    c.server.request_timeout_secs = 1;
    let app = app_with(c, Some(Arc::new(Hanging)), None).await;
    let token = login(&app, "ana").await;
    let reply = ask(&app, &token, "e-11", "How many artists are there?").await;
    reply.assert_error(504, "REQUEST_TIMEOUT");
    assert!(
        reply.message().contains("request_timeout_secs"),
        "{}",
        reply.message()
    );
}

#[tokio::test]
async fn internal_errors_are_500_without_their_detail() {
    let app = failing_app(|| Error::internal("pool bookkeeping broke at slot 0xdeadbeef")).await;
    let token = login(&app, "ana").await;
    let reply = ask(&app, &token, "e-12", "How many artists are there?").await;
    reply.assert_error(500, "INTERNAL");
    assert!(
        !reply.body.to_string().contains("deadbeef"),
        "{:?}",
        reply.body
    );
}

/// A TCP relay to PostgreSQL that can be cut, to take the database away for real.
struct Relay {
    port: u16,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start(target: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (cut, watch) = tokio::sync::watch::channel(false);
        let target = target.to_string();
        tokio::spawn(async move {
            loop {
                let mut stop = watch.clone();
                tokio::select! {
                    _ = stop.wait_for(|c| *c) => return,
                    accepted = listener.accept() => {
                        let Ok((mut inbound, _)) = accepted else { return };
                        let target = target.clone();
                        let mut stop = watch.clone();
                        tokio::spawn(async move {
                            let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else { return };
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                                _ = stop.wait_for(|c| *c) => {}
                            }
                        });
                    }
                }
            }
        });
        Self { port, cut }
    }

    fn cut(&self) {
        let _ = self.cut.send(true);
    }
}

#[tokio::test]
async fn a_database_that_goes_away_is_503_and_health_says_so() {
    let relay = Relay::start("127.0.0.1:5432").await;
    let mut c = config();
    c.database.url = Some(Secret::new(format!(
        "postgres://cbi_ro:cbi_ro@127.0.0.1:{}/chinook",
        relay.port
    )));
    c.database.connection_timeout_secs = 2;
    let app = app_with(c, None, None).await;
    let token = login(&app, "ana").await;
    let before = ask(&app, &token, "db-1", "How many artists are there?").await;
    assert_eq!(before.status, 200, "{:?}", before.body);
    assert_eq!(
        send(&app, request("GET", "/health", None, None))
            .await
            .status,
        200
    );

    relay.cut();
    let health = send(&app, request("GET", "/health", None, None)).await;
    assert_eq!(health.status, 503, "{:?}", health.body);
    assert_eq!(health.body["status"], "unavailable");
    assert_eq!(health.body["checks"]["database"]["status"], "down");
    let reply = ask(&app, &token, "db-1", "How many albums are there?").await;
    reply.assert_error(503, "DATABASE_UNAVAILABLE");
    assert!(
        !reply.body.to_string().contains("cbi_ro:cbi_ro"),
        "{:?}",
        reply.body
    );
}
