//! Feedback endpoints: any signed-in user rates a turn of their own conversations; admins list
//! the feedback of their tenant, promote a record to a verified query, retire one, and export
//! the semantic model with the promoted queries as YAML.
//!
//! The user and the tenant always come from the token. An admin acts on their own tenant only.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use conversational_bi::{
    Feedback, FeedbackFilter, FeedbackStatus, FeedbackSubmission, PromotedQuery, Promotion, Rating,
    feedback::is_id,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    auth::{Caller, ROLE_ADMIN},
    error::{ApiError, ErrorBody},
    extract::ApiJson,
};

/// `POST /api/v1/feedback` body (documentation of [`FeedbackSubmission`]).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = FeedbackRequest)]
pub struct FeedbackRequestDoc {
    /// One of the caller's conversations (the `session_id` of an answer).
    pub session_id: String,
    /// The turn rated (the `turn` of the answer), 1 or more.
    pub turn: u64,
    /// `up` or `down`.
    #[schema(value_type = String, pattern = "^(up|down)$")]
    pub rating: String,
    /// The SQL that answers the question, when the answer was wrong; it must pass the
    /// validator under the caller's data permissions.
    pub corrected_sql: Option<String>,
    /// Free text, at most `[feedback] max_comment_chars` characters.
    pub comment: Option<String>,
}

/// A stored feedback record (documentation of [`Feedback`]).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FeedbackRecord)]
pub struct FeedbackDoc {
    /// Its id (a UUID).
    pub id: String,
    /// The caller's tenant.
    pub tenant_id: String,
    /// Who gave it.
    pub user_id: String,
    /// The conversation.
    pub session_id: String,
    /// The turn rated.
    pub turn: u64,
    /// `up` or `down`.
    pub rating: String,
    /// The turn's question.
    pub question: String,
    /// The turn's SQL.
    pub sql: String,
    /// The correction, when one was given.
    pub corrected_sql: Option<String>,
    /// The comment, when one was given.
    pub comment: Option<String>,
    /// `new`, `promoted` or `dismissed`.
    pub status: String,
    /// When (RFC 3339, UTC).
    pub created_at: String,
}

/// A parameter of a verified query.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = VerifiedParameter)]
pub struct ParameterDoc {
    /// Its name in the question (`{country}`) and the SQL (`:country`).
    pub name: String,
    /// `text` (default), `integer`, `number` or `date`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `Table.Column` whose values it takes (needed for text).
    pub column: Option<String>,
}

/// `POST /api/v1/admin/feedback/{id}/promote` body (documentation of [`Promotion`]); every
/// field is optional (`{}` promotes the correction, else the answer, as it was asked).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = PromoteRequest)]
pub struct PromoteRequestDoc {
    /// `correction` or `answer`: which SQL of the record (default: the correction when there
    /// is one, else the answer of a thumbs-up).
    pub source: Option<String>,
    /// The question as the verified query states it, `{name}` where a parameter goes
    /// (default: the turn's question).
    pub question: Option<String>,
    /// The SQL with `:name` where a parameter goes, instead of the record's.
    pub sql: Option<String>,
    /// Other ways to ask it.
    pub paraphrases: Option<Vec<String>>,
    /// Typed parameters.
    pub parameters: Option<Vec<ParameterDoc>>,
}

/// A verified query as the semantic model writes it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = VerifiedQuery)]
pub struct VerifiedQueryDoc {
    /// The question.
    pub question: String,
    /// Other ways to ask it (left out when empty).
    pub paraphrases: Option<Vec<String>>,
    /// The SQL.
    pub sql: String,
    /// Typed parameters (left out when empty).
    pub parameters: Option<Vec<ParameterDoc>>,
    /// The admin who verified it.
    pub verified_by: String,
    /// When (RFC 3339).
    pub verified_at: String,
}

/// A promoted verified query (documentation of [`PromotedQuery`]).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PromotedQuery)]
pub struct PromotedQueryDoc {
    /// Its id (a UUID).
    pub id: String,
    /// The tenant it serves.
    pub tenant_id: String,
    /// The feedback it came from.
    pub feedback_id: Option<String>,
    /// The verified query.
    pub query: VerifiedQueryDoc,
    /// `active` or `retired`.
    pub status: String,
    /// The tenant's version of its promoted queries when this one last changed.
    pub version: i64,
    /// Who retired it.
    pub retired_by: Option<String>,
    /// When.
    pub retired_at: Option<String>,
}

/// Filters of `GET /api/v1/admin/feedback`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackQuery {
    /// `up` or `down`.
    pub rating: Option<String>,
    /// `new`, `promoted` or `dismissed`.
    pub status: Option<String>,
    /// Only this user's.
    pub user: Option<String>,
    /// Only those given at or after this time (RFC 3339, or a date `YYYY-MM-DD`).
    pub since: Option<String>,
    /// At most this many, newest first (1 to 1000, default 100).
    pub limit: Option<String>,
}

/// Filters of `GET /api/v1/admin/verified`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifiedQueryParams {
    /// `true` to list the retired queries too.
    pub include_retired: Option<bool>,
}

fn filter_of(q: FeedbackQuery) -> Result<FeedbackFilter, ApiError> {
    let rating = match q.rating.as_deref() {
        None => None,
        Some(r) => Some(Rating::parse(r).ok_or_else(|| {
            ApiError::invalid_input(format!("rating {r:?} is not `up` or `down`"))
        })?),
    };
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(FeedbackStatus::parse(s).ok_or_else(|| {
            ApiError::invalid_input(format!(
                "status {s:?} is not `new`, `promoted` or `dismissed`"
            ))
        })?),
    };
    let limit = match q.limit.as_deref() {
        None => None,
        Some(l) => Some(
            l.parse::<usize>()
                .ok()
                .filter(|n| (1..=conversational_bi::feedback::MAX_LIST_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid_input(format!(
                        "limit {l:?} is not a number from 1 to {}",
                        conversational_bi::feedback::MAX_LIST_LIMIT
                    ))
                })?,
        ),
    };
    Ok(FeedbackFilter {
        rating,
        status,
        user_id: q.user,
        since: q.since,
        limit,
    })
}

fn check_path_id(what: &str, id: &str) -> Result<(), ApiError> {
    if is_id(id) {
        Ok(())
    } else {
        Err(ApiError::invalid_input(format!(
            "{what} ids are UUIDs (the `id` of a listing); {:?} is not one",
            id.chars().take(64).collect::<String>()
        )))
    }
}

/// Rates a turn of one of the caller's own conversations, optionally with a corrected SQL and
/// a comment.
#[utoipa::path(
    post,
    path = "/api/v1/feedback",
    tag = "feedback",
    request_body = FeedbackRequestDoc,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = FeedbackDoc),
        (status = 400, description = "Malformed body, comment or SQL over the limits, or a session or turn the caller does not have (`INVALID_INPUT`; another user's session is not the caller's)", body = ErrorBody),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 422, description = "The corrected SQL is refused by the validator under the caller's data permissions (`SQL_REJECTED`, with the reason); nothing is stored", body = ErrorBody),
        (status = 503, description = "The feedback store is unavailable", body = ErrorBody),
    )
)]
pub async fn give_feedback(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<FeedbackSubmission>,
) -> Result<(StatusCode, Json<Feedback>), ApiError> {
    let record = state.engine().feedback(&caller.principal(), body).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// The feedback of the admin's tenant, newest first (role `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/admin/feedback",
    tag = "feedback",
    params(FeedbackQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The records", body = Vec<FeedbackDoc>),
        (status = 400, description = "A bad filter (`INVALID_INPUT`)", body = ErrorBody),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token lacks the admin role", body = ErrorBody),
    )
)]
pub async fn list_feedback(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<FeedbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Feedback>>, ApiError> {
    caller.require_any(&[ROLE_ADMIN])?;
    let Query(query) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let filter = filter_of(query)?;
    Ok(Json(
        state
            .engine()
            .list_feedback(&caller.tenant_id, &filter)
            .await?,
    ))
}

/// Promotes a feedback record of the admin's tenant to a verified query of that tenant (role
/// `admin`). Every instance matches it within `[feedback] refresh_secs`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/feedback/{id}/promote",
    tag = "feedback",
    params(("id" = String, Path, description = "The feedback record's id")),
    request_body = PromoteRequestDoc,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Promoted", body = PromotedQueryDoc),
        (status = 400, description = "A malformed id or body, a record already promoted, a thumbs-down without correction, or a verified query the semantic model's checks refuse (`INVALID_INPUT`)", body = ErrorBody),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token lacks the admin role", body = ErrorBody),
        (status = 404, description = "No such record in the admin's tenant", body = ErrorBody),
        (status = 422, description = "The SQL is refused by the validator under the admin's data permissions (`SQL_REJECTED`)", body = ErrorBody),
    )
)]
pub async fn promote_feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Promotion>,
) -> Result<(StatusCode, Json<PromotedQuery>), ApiError> {
    caller.require_any(&[ROLE_ADMIN])?;
    let engine = state.engine();
    require_feedback(engine, &caller, &id).await?;
    let promoted = engine
        .promote_feedback(&caller.principal(), &id, body)
        .await?;
    Ok((StatusCode::CREATED, Json(promoted)))
}

/// Sets a feedback record of the admin's tenant aside (status `dismissed`, role `admin`): it is
/// no longer a golden question of `eval --feedback`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/feedback/{id}/dismiss",
    tag = "feedback",
    params(("id" = String, Path, description = "The feedback record's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Dismissed", body = FeedbackDoc),
        (status = 400, description = "A malformed id (`INVALID_INPUT`)", body = ErrorBody),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token lacks the admin role", body = ErrorBody),
        (status = 404, description = "No such record in the admin's tenant", body = ErrorBody),
    )
)]
pub async fn dismiss_feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Feedback>, ApiError> {
    caller.require_any(&[ROLE_ADMIN])?;
    let engine = state.engine();
    require_feedback(engine, &caller, &id).await?;
    Ok(Json(
        engine.dismiss_feedback(&caller.principal(), &id).await?,
    ))
}

/// The verified queries promoted in the admin's tenant (role `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/admin/verified",
    tag = "feedback",
    params(VerifiedQueryParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The promoted queries, oldest first", body = Vec<PromotedQueryDoc>),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token lacks the admin role", body = ErrorBody),
    )
)]
pub async fn list_verified(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<VerifiedQueryParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<PromotedQuery>>, ApiError> {
    caller.require_any(&[ROLE_ADMIN])?;
    let Query(query) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    Ok(Json(
        state
            .engine()
            .list_verified(&caller.tenant_id, query.include_retired.unwrap_or(false))
            .await?,
    ))
}

/// Retires a promoted verified query of the admin's tenant (role `admin`): it is no longer
/// matched nor exported.
#[utoipa::path(
    post,
    path = "/api/v1/admin/verified/{id}/retire",
    tag = "feedback",
    params(("id" = String, Path, description = "The promoted query's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Retired (a query already retired is returned as it is)", body = PromotedQueryDoc),
        (status = 400, description = "A malformed id (`INVALID_INPUT`)", body = ErrorBody),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token lacks the admin role", body = ErrorBody),
        (status = 404, description = "No such query in the admin's tenant", body = ErrorBody),
    )
)]
pub async fn retire_verified(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PromotedQuery>, ApiError> {
    caller.require_any(&[ROLE_ADMIN])?;
    check_path_id("verified query", &id)?;
    let engine = state.engine();
    let known = engine
        .list_verified(&caller.tenant_id, true)
        .await?
        .iter()
        .any(|p| p.id == id);
    if !known {
        return Err(ApiError::not_found(format!(
            "there is no verified query '{id}' in your tenant; GET /api/v1/admin/verified?include_retired=true lists them"
        )));
    }
    Ok(Json(
        engine.retire_verified(&caller.principal(), &id).await?,
    ))
}

/// The semantic model of the admin's tenant as YAML, with the active promoted queries among
/// its `verified_queries`, to commit to version control (role `admin`). It loads back as a
/// `[semantic] model` file.
#[utoipa::path(
    get,
    path = "/api/v1/admin/semantic-model",
    tag = "feedback",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The model", content_type = "application/yaml", body = String),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token lacks the admin role", body = ErrorBody),
    )
)]
pub async fn semantic_model(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require_any(&[ROLE_ADMIN])?;
    let yaml = state
        .engine()
        .export_semantic_yaml(&caller.tenant_id)
        .await?;
    let mut response = yaml.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/yaml"),
    );
    Ok(response)
}

/// `Ok` when `id` is a well-formed id of a feedback record of the caller's tenant, else 400 or
/// 404 saying where the records are listed.
async fn require_feedback(
    engine: &conversational_bi::Engine,
    caller: &Caller,
    id: &str,
) -> Result<(), ApiError> {
    check_path_id("feedback", id)?;
    match engine.feedback_record(&caller.tenant_id, id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(format!(
            "there is no feedback '{id}' in your tenant; GET /api/v1/admin/feedback lists it"
        ))),
    }
}
