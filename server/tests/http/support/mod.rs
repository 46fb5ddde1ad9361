//! Shared helpers of the server's tests: configurations with test users, the app over the demo
//! database, requests through `oneshot`, tokens, and the real binary.

pub mod idp;
pub mod process;

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, Version, password_hash::PasswordHasher};
use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use cbi_server::http::{AppState, app};
use conversational_bi::{
    Config, Engine,
    config::{AuthUser, Secret},
    generate::SqlGenerator,
    session::SessionStore,
};
use serde_json::Value;
use tower::ServiceExt;

/// The `JWT_SECRET` of the tests.
pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
/// The password of every test user.
pub const PASSWORD: &str = "correct horse battery";

/// An argon2id hash with small parameters, so that logins in tests are fast (a hash carries
/// its parameters; verification uses them).
pub fn cheap_hash(password: &str) -> String {
    let params = Params::new(1024, 1, 1, None).expect("params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_with_salt(password.as_bytes(), b"salt-of-the-tests")
        .expect("hash")
        .to_string()
}

/// A user of `[auth] users`.
pub fn user(name: &str, tenant: &str, roles: &[&str]) -> AuthUser {
    AuthUser {
        username: name.into(),
        password_hash: Secret::new(cheap_hash(PASSWORD)),
        tenant_id: tenant.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        attributes: Default::default(),
    }
}

/// The test configuration: the demo database, the rule generator, `JWT_SECRET`, and users
/// `ana` (acme, analyst), `bob` (globex, analyst), `root` (acme, admin), `nobody` (acme, no
/// role).
pub fn config() -> Config {
    let mut c = Config::default();
    c.auth.jwt_secret = Some(Secret::new(SECRET));
    c.auth.users = vec![
        user("ana", "acme", &["analyst"]),
        user("bob", "globex", &["analyst"]),
        user("root", "acme", &["admin"]),
        user("nobody", "acme", &[]),
    ];
    c
}

/// The app over `config`, optionally with a custom generator or session store.
pub async fn app_with(
    config: Config,
    generator: Option<Arc<dyn SqlGenerator>>,
    sessions: Option<Arc<dyn SessionStore>>,
) -> Router {
    let mut builder = Engine::builder().config(config);
    if let Some(g) = generator {
        builder = builder.generator(g);
    }
    if let Some(s) = sessions {
        builder = builder.session_store(s);
    }
    let engine = builder.build().await.expect("engine");
    app(AppState::new(engine).expect("state"))
}

/// The app over [`config`].
pub async fn test_app() -> Router {
    app_with(config(), None, None).await
}

/// A response: status, headers and the JSON body (`Value::Null` when empty).
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as JSON, or `Value::Null` when it is empty.
    pub body: Value,
}

impl Reply {
    /// `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// `error.message` of an error body.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }

    /// Asserts the documented error shape with `status` and `code`, and that the request id of
    /// the body is the one of the header.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        assert_eq!(self.code(), code, "{:?}", self.body);
        assert!(!self.message().is_empty(), "{:?}", self.body);
        let id = self.body["error"]["request_id"]
            .as_str()
            .expect("request_id");
        assert_eq!(
            self.headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok()),
            Some(id)
        );
        assert_eq!(self.headers["content-type"], "application/json");
    }
}

/// Sends `req` through `app` without a socket.
pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// A request with an optional bearer token and an optional JSON body.
pub fn request(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        builder = builder.header("authorization", format!("Bearer {t}"));
    }
    match body {
        Some(b) => builder
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => builder.body(Body::empty()),
    }
    .expect("request")
}

/// Logs in as `username` with the test password and returns the token.
pub async fn login(app: &Router, username: &str) -> String {
    let reply = send(
        app,
        request(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(serde_json::json!({ "username": username, "password": PASSWORD })),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["token"].as_str().expect("token").to_string()
}

/// Asks `question` in `session` with `token`.
pub async fn ask(app: &Router, token: &str, session: &str, question: &str) -> Reply {
    send(
        app,
        request(
            "POST",
            "/api/v1/query",
            Some(token),
            Some(serde_json::json!({ "session_id": session, "query": question })),
        ),
    )
    .await
}

/// The events of a `text/event-stream` body: (name, data as JSON).
pub fn sse_events(body: &str) -> Vec<(String, serde_json::Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_string());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            Some((name?, serde_json::from_str(&data).expect("json data")))
        })
        .collect()
}
