//! The API's handlers (except `/health`, in [`super::health`]).

use std::{convert::Infallible, sync::Arc};

use axum::{
    Extension, Json,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use conversational_bi::{
    Answer, Ask, AskEvent,
    session::{self, SessionState, SessionSummary},
};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    auth::{Caller, ROLE_ADMIN, ROLE_ANALYST, now_secs},
    breaker::{self, BreakerStatus},
    client_ip::ClientIp,
    error::{ApiError, ErrorBody},
    extract::ApiJson,
};

/// Longest accepted session id.
pub const MAX_SESSION_ID_LEN: usize = 128;

/// `POST /api/v1/auth/login` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// A user name of `[auth] users`.
    pub username: String,
    /// The user's password.
    pub password: String,
}

/// `POST /api/v1/auth/login` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// The bearer token (HS256 JWT) for the `Authorization` header.
    pub token: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// Always `Bearer`.
    pub token_type: String,
}

/// `POST /api/v1/query` body. The tenant and the user come from the token, never from the
/// body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// The conversation to continue, one of the caller's own (the `session_id` of an earlier
    /// answer). When absent, or when it names no conversation of the caller (unknown, expired,
    /// reset or another user's), a new conversation is started under an id the server
    /// generates: the answer's `session_id` gives it, and `warnings` says when the id sent was
    /// not used. Letters, digits and `. _ : -`, at most 128 characters.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The question, in plain words. Empty (`""`) with `remove_scope`, and only then.
    pub query: String,
    /// Instead of a question, the conversation's last answer without one of its parts: the
    /// `id` of one of that answer's `scope` items (`filter:0`, `having:0`, `group:1`, `order`,
    /// `limit`). Needs `session_id` and an empty `query`. The part is removed (with what has no
    /// meaning without it: a sort takes its limit along), the query is written again, validated
    /// and run as a new turn saved as `without "top 5"`, and follow-ups continue from it. An id
    /// that names no part of the last answer, a conversation without an answer, or an answer
    /// without parts (one a model wrote): 400 `INVALID_INPUT`, and nothing runs.
    #[serde(default)]
    #[schema(example = "limit")]
    pub remove_scope: Option<String>,
}

/// What a list of conversations shows of one (documentation of [`SessionSummary`]).
#[derive(Serialize, ToSchema)]
#[schema(as = SessionSummary)]
pub struct SessionSummaryDoc {
    /// The session id (to continue, read, rename or delete the conversation).
    pub session_id: String,
    /// The title given with `PATCH /api/v1/sessions/{id}`, else the conversation's first
    /// question (at most 80 characters of it).
    pub title: String,
    /// When its first turn was answered (RFC 3339, UTC).
    pub created_at: String,
    /// When its last turn was answered (RFC 3339, UTC); the list is ordered by it, newest
    /// first.
    pub updated_at: String,
    /// Turns answered over its whole life.
    pub turn_count: u64,
}

/// `GET /api/v1/sessions` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    /// The caller's live conversations, most recently given a turn first.
    #[schema(value_type = Vec<SessionSummaryDoc>)]
    pub sessions: Vec<SessionSummary>,
}

/// Parameters of `GET /api/v1/sessions`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionListQuery {
    /// At most this many conversations (1 to 200, default 50).
    pub limit: Option<String>,
}

/// `PATCH /api/v1/sessions/{id}` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameSessionRequest {
    /// The new title: 1 to 120 characters on one line (surrounding spaces are trimmed).
    pub title: String,
}

/// `POST /api/v1/admin/circuit-breaker/reset` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BreakerReport {
    /// The protected service (`nl2sql`).
    pub service: String,
    /// The state before the reset.
    pub previous_state: BreakerStatus,
    /// The state now.
    pub state: BreakerStatus,
}

fn check_session_id(id: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_SESSION_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_input(format!(
            "session_id must be 1 to {MAX_SESSION_ID_LEN} letters, digits, '.', '_', ':' or '-' (a UUID works)"
        )))
    }
}

/// Longest part of a user name written to the log.
const LOGGED_USERNAME_CHARS: usize = 128;

/// A user name as the log shows it: at most [`LOGGED_USERNAME_CHARS`] characters.
fn logged_username(username: &str) -> String {
    match username.char_indices().nth(LOGGED_USERNAME_CHARS) {
        Some((end, _)) => format!("{}...", &username[..end]),
        None => username.to_string(),
    }
}

/// Logs in with a user of `[auth] users` and returns a bearer token.
///
/// Failed logins are limited per client address and per user name (`[auth]
/// max_failed_logins_per_ip`, `max_failed_logins_per_user`, `failed_login_window_secs`): over
/// the limit, the answer is 429 with `Retry-After` and the password is not checked. At most
/// `max_concurrent_password_checks` passwords are checked at once; a login that waits longer
/// than `password_check_wait_ms` for its turn is answered 503 with `Retry-After`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Unknown user or wrong password", body = ErrorBody),
        (status = 404, description = "Built-in login is not configured (no `JWT_SECRET`): tokens come from an identity provider of `[[auth.issuers]]`", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address or for this user name (`RATE_LIMITED`); see `Retry-After`", body = ErrorBody),
        (status = 503, description = "Too many logins being checked at once (`SERVICE_UNAVAILABLE`); see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    require_builtin_login(&state)?;
    let guard = state.login_guard();
    let client = client_ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
    let attempt = guard.admit(client_ip, &body.username).inspect_err(|e| {
        tracing::warn!(
            target: "cbi_server::auth",
            username = %logged_username(&body.username),
            client_ip = %client,
            retry_after_secs = e.retry_after.map_or(0, |d| d.as_secs()),
            "Rate limit exceeded: login refused after too many failed logins"
        );
    })?;
    let checker = state.clone();
    let LoginRequest { username, password } = body;
    let checked_name = username.clone();
    let checked = guard
        .check(move || checker.auth().check_password(&checked_name, &password))
        .await;
    let caller = match checked {
        Ok(caller) => caller,
        Err(e) => {
            attempt.not_checked();
            if e.status == StatusCode::SERVICE_UNAVAILABLE {
                tracing::warn!(
                    target: "cbi_server::auth",
                    username = %logged_username(&username),
                    client_ip = %client,
                    "login not checked: too many password checks at once"
                );
            }
            return Err(e);
        }
    };
    let Some(caller) = caller else {
        // `attempt` is dropped: the failure counts against the address and the user name.
        tracing::warn!(
            target: "cbi_server::auth",
            username = %logged_username(&username),
            client_ip = %client,
            "login refused"
        );
        return Err(ApiError::unauthorized(
            "unknown user name or wrong password",
            false,
        ));
    };
    attempt.succeeded();
    tracing::debug!(target: "cbi_server::auth", username = %caller.user_id, tenant_id = %caller.tenant_id, "logged in");
    signed_in(&state, &caller)
}

/// 404 unless the server has the built-in login (`JWT_SECRET`).
pub(super) fn require_builtin_login(state: &AppState) -> Result<(), ApiError> {
    if state.auth().has_builtin_login() {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "built-in login is not configured on this server (no JWT_SECRET); use a token of your identity provider",
        ))
    }
}

/// The login answer for `caller`: a fresh built-in token.
pub(super) fn signed_in(
    state: &AppState,
    caller: &Caller,
) -> Result<Json<LoginResponse>, ApiError> {
    Ok(Json(LoginResponse {
        token: state.auth().issue(caller, now_secs())?,
        expires_in: state.auth().ttl_secs(),
        token_type: "Bearer".into(),
    }))
}

/// Answers a question of the caller (in the caller's tenant), continuing one of the caller's
/// conversations or starting one.
#[utoipa::path(
    post,
    path = "/api/v1/query",
    tag = "queries",
    request_body = QueryRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The answer", body = crate::http::schema::AnswerDoc),
        (status = 400, description = "Malformed body or question, or a `remove_scope` that names no part of the last answer (`INVALID_INPUT`)", body = ErrorBody),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token has neither the analyst nor the admin role", body = ErrorBody),
        (status = 413, description = "Body over `[server] max_body_bytes`", body = ErrorBody),
        (status = 422, description = "The question cannot be answered safely (`SQL_REJECTED`, `CANNOT_ANSWER`, `EXECUTION`)", body = ErrorBody),
        (status = 429, description = "The tenant's rate limit is spent; see `Retry-After`", body = ErrorBody),
        (status = 502, description = "The LLM provider failed (`PROVIDER`)", body = ErrorBody),
        (status = 503, description = "Circuit breaker open without fallback, database or store unavailable", body = ErrorBody),
        (status = 504, description = "Statement or request timeout", body = ErrorBody),
    )
)]
pub async fn query(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<QueryRequest>,
) -> Result<Json<Answer>, ApiError> {
    Ok(Json(state.engine().ask(caller_ask(&caller, body)?).await?))
}

/// The question of `body`, asked as `caller` (analyst or admin).
///
/// Conversations belong to the user of the token, and their ids come from the server: an id
/// that is not one of the caller's conversations starts a new one under a fresh id. The engine
/// asks as the caller: its user, tenant, roles and attributes, so that the data permissions of
/// `[access]` apply.
fn caller_ask(caller: &Caller, body: QueryRequest) -> Result<Ask, ApiError> {
    caller.require_any(&[ROLE_ANALYST, ROLE_ADMIN])?;
    let mut ask = Ask::new(body.query)
        .principal(caller.principal())
        .fresh_id_for_unknown_session();
    if let Some(id) = body.session_id {
        check_session_id(&id)?;
        ask = ask.session(id);
    }
    // The form is checked here, so that the stream answers 400 too; the engine checks the id
    // against the last answer's scope.
    if let Some(id) = body.remove_scope {
        ask = ask.remove_scope(id);
        ask.check_removal()?;
    }
    Ok(ask)
}

/// Answers a question as `POST /api/v1/query` does, streaming its progress as server-sent
/// events: `stage` (`{"event":"stage","stage":"generate"}`) while the engine works, then `sql`,
/// then `rows`, then `answer` (the body `POST /api/v1/query` returns, under `answer`) or
/// `error` (`code`, `message`) last. Closing the connection cancels the question.
#[utoipa::path(
    post,
    path = "/api/v1/query/stream",
    tag = "queries",
    request_body = QueryRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Server-sent events: `stage`, `sql`, `rows`, then `answer` or `error` last; each `data` is the event as JSON", content_type = "text/event-stream", body = String),
        (status = 400, description = "Malformed body or question, or a `remove_scope` that names no part of the last answer (`INVALID_INPUT`)", body = ErrorBody),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token has neither the analyst nor the admin role", body = ErrorBody),
        (status = 413, description = "Body over `[server] max_body_bytes`", body = ErrorBody),
    )
)]
pub async fn query_stream(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<QueryRequest>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let ask = caller_ask(&caller, body)?;
    let events = state.engine().ask_stream(ask).map(|e| Ok(sse_event(e)));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// One event of `POST /api/v1/query/stream`, named by its kind.
fn sse_event(e: AskEvent) -> Event {
    let e = match e {
        // As `POST /api/v1/query`: what an internal error was is in the log, not the reply.
        AskEvent::Error { code, .. } if code == "INTERNAL" || code == "CONFIG" => AskEvent::Error {
            code: "INTERNAL",
            message: "internal error; the server log has the details".into(),
            retry_after_secs: None,
            error: None,
        },
        e => e,
    };
    let name = match &e {
        AskEvent::Stage { .. } => "stage",
        AskEvent::Sql { .. } => "sql",
        AskEvent::Rows { .. } => "rows",
        AskEvent::Answer { .. } => "answer",
        AskEvent::Error { .. } => "error",
    };
    Event::default()
        .event(name)
        .json_data(&e)
        .unwrap_or_else(|_| Event::default().event("error").data("{\"event\":\"error\",\"code\":\"INTERNAL\",\"message\":\"the event could not be written\"}"))
}

async fn existing_session(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<SessionState, ApiError> {
    caller.require_any(&[ROLE_ANALYST, ROLE_ADMIN])?;
    check_session_id(id)?;
    let session = state
        .engine()
        .user_session(&caller.tenant_id, &caller.user_id, id)
        .await?;
    if session.turn_count == 0 {
        // Sessions are keyed by tenant and user: another tenant's or another user's session is
        // not found either, with the same answer.
        return Err(no_session(id));
    }
    Ok(session)
}

/// The answer for a session id that is not one of the caller's.
fn no_session(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "you have no session '{id}' (it never existed, was reset or expired)"
    ))
}

/// The state of one of the caller's own conversations.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}",
    tag = "sessions",
    params(("id" = String, Path, description = "The session id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The conversation", body = crate::http::schema::SessionStateDoc),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 404, description = "The caller has no such session (another user's is not found either)", body = ErrorBody),
    )
)]
pub async fn get_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SessionState>, ApiError> {
    Ok(Json(existing_session(&state, &caller, &id).await?))
}

/// Forgets one of the caller's conversations (the next question with this id starts anew).
#[utoipa::path(
    delete,
    path = "/api/v1/sessions/{id}",
    tag = "sessions",
    params(("id" = String, Path, description = "The session id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Reset"),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 404, description = "The caller has no such session (another user's is not found either)", body = ErrorBody),
    )
)]
pub async fn delete_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    existing_session(&state, &caller, &id).await?;
    state
        .engine()
        .reset_user_session(&caller.tenant_id, &caller.user_id, &id)
        .await?;
    tracing::info!(target: "cbi_server::sessions", tenant_id = %caller.tenant_id, username = %caller.user_id, session_id = %id, "session reset");
    Ok(StatusCode::NO_CONTENT)
}

fn session_list_limit(limit: Option<&str>) -> Result<usize, ApiError> {
    let Some(text) = limit else {
        return Ok(session::DEFAULT_LIST_LIMIT);
    };
    Ok(session::check_list_limit(
        text.trim().parse().ok(),
        &format!("{text:?}"),
    )?)
}

/// The caller's own live conversations (for a sidebar), most recently given a turn first:
/// their ids, titles, times and turn counts. Another user's conversations are never listed,
/// nor reset or expired ones.
#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    tag = "sessions",
    params(SessionListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's conversations", body = SessionList),
        (status = 400, description = "A `limit` that is not a number from 1 to 200 (`INVALID_INPUT`)", body = ErrorBody),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token has neither the analyst nor the admin role", body = ErrorBody),
        (status = 503, description = "The session store is unavailable", body = ErrorBody),
    )
)]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<SessionListQuery>, QueryRejection>,
) -> Result<Json<SessionList>, ApiError> {
    caller.require_any(&[ROLE_ANALYST, ROLE_ADMIN])?;
    let Query(query) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let limit = session_list_limit(query.limit.as_deref())?;
    let sessions = state
        .engine()
        .list_user_sessions(&caller.tenant_id, &caller.user_id, limit)
        .await?;
    Ok(Json(SessionList { sessions }))
}

/// Gives one of the caller's conversations a title, shown by `GET /api/v1/sessions` instead of
/// its first question. Renaming does not move the conversation up the list.
#[utoipa::path(
    patch,
    path = "/api/v1/sessions/{id}",
    tag = "sessions",
    params(("id" = String, Path, description = "The session id")),
    request_body = RenameSessionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Renamed: the conversation as lists show it", body = SessionSummaryDoc),
        (status = 400, description = "Malformed body, bad session id, or a title that is empty, over 120 characters or not on one line (`INVALID_INPUT`)", body = ErrorBody),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token has neither the analyst nor the admin role", body = ErrorBody),
        (status = 404, description = "The caller has no such session (another user's is not found either)", body = ErrorBody),
        (status = 503, description = "The session store is unavailable", body = ErrorBody),
    )
)]
pub async fn rename_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenameSessionRequest>,
) -> Result<Json<SessionSummary>, ApiError> {
    caller.require_any(&[ROLE_ANALYST, ROLE_ADMIN])?;
    check_session_id(&id)?;
    let renamed = state
        .engine()
        .rename_user_session(&caller.tenant_id, &caller.user_id, &id, &body.title)
        .await?;
    let Some(summary) = renamed else {
        // As `GET`: another tenant's or another user's session is not found either.
        return Err(no_session(&id));
    };
    tracing::info!(target: "cbi_server::sessions", tenant_id = %caller.tenant_id, username = %caller.user_id, session_id = %id, "session renamed");
    Ok(Json(summary))
}

/// Closes the circuit breaker around the LLM provider by hand (role `admin`).
#[utoipa::path(
    post,
    path = "/api/v1/admin/circuit-breaker/reset",
    tag = "operations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The breaker's state before and after", body = BreakerReport),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token lacks the admin role", body = ErrorBody),
    )
)]
pub async fn reset_breaker(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<BreakerReport>, ApiError> {
    caller.require_any(&[ROLE_ADMIN])?;
    let engine = state.engine();
    let previous_state = breaker::status(engine);
    breaker::reset(engine);
    let report = BreakerReport {
        service: breaker::SERVICE.into(),
        previous_state,
        state: breaker::status(engine),
    };
    tracing::warn!(
        target: "cbi_server::admin",
        username = %caller.user_id,
        previous_state = ?report.previous_state,
        state = ?report.state,
        "circuit breaker reset by hand"
    );
    Ok(Json(report))
}

/// The OpenAPI document, rendered once when the app is built.
#[derive(Debug, Clone)]
pub struct OpenApiJson(pub Arc<String>);

/// This API's OpenAPI 3 document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
pub async fn openapi_json(Extension(doc): Extension<OpenApiJson>) -> Response {
    let mut response = doc.0.as_str().to_owned().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
