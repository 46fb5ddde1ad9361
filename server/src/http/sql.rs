//! `POST /api/v1/sql`: an analyst's own SQL, run as the caller.

use axum::{Json, extract::State};
use conversational_bi::exec::{ResultColumn, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    AppState,
    auth::{Caller, ROLE_ADMIN, ROLE_ANALYST},
    error::{ApiError, ErrorBody},
    extract::ApiJson,
};

/// `POST /api/v1/sql` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlRequest {
    /// One read-only statement (`SELECT`/`WITH`), as an answer's `sql` edited.
    pub sql: String,
}

/// `POST /api/v1/sql` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SqlResult {
    /// The statement that ran, as the validator rewrote it (comments stripped, row cap).
    pub sql: String,
    /// Result columns (`name`, `type`).
    #[schema(value_type = Vec<crate::http::schema::ResultColumnDoc>)]
    pub columns: Vec<ResultColumn>,
    /// Result rows.
    #[schema(value_type = Vec<Vec<Object>>)]
    pub rows: Vec<Vec<Value>>,
    /// Number of rows returned.
    pub row_count: usize,
    /// Whether the row cap cut the result.
    pub truncated: bool,
}

/// Runs one SQL statement of the caller, as an answer's SQL runs: the SQL validator judges it
/// as the database will read it, under the caller's data permissions (`[access]`), then it runs
/// read-only within the row cap and the statement timeout. Nothing is added to a conversation.
#[utoipa::path(
    post,
    path = "/api/v1/sql",
    tag = "queries",
    request_body = SqlRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The result", body = SqlResult),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No token or a refused one", body = ErrorBody),
        (status = 403, description = "The token has neither the analyst nor the admin role", body = ErrorBody),
        (status = 422, description = "The validator refused the statement (`SQL_REJECTED`, with its reason) or it failed (`EXECUTION`)", body = ErrorBody),
        (status = 504, description = "Statement timeout", body = ErrorBody),
    )
)]
pub async fn run_sql(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<SqlRequest>,
) -> Result<Json<SqlResult>, ApiError> {
    caller.require_any(&[ROLE_ANALYST, ROLE_ADMIN])?;
    let view = state.engine().view(&caller.principal()).await?;
    let run = view.run(&body.sql).await;
    let (validated, result) = run.inspect_err(|e| {
        tracing::info!(
            target: "cbi_server::sql",
            user_id = %caller.user_id,
            tenant_id = %caller.tenant_id,
            error_code = e.kind().code(),
            "sql refused or failed"
        );
    })?;
    tracing::info!(
        target: "cbi_server::sql",
        user_id = %caller.user_id,
        tenant_id = %caller.tenant_id,
        row_count = result.rows.len(),
        "sql ran"
    );
    Ok(Json(SqlResult {
        sql: validated.sql,
        row_count: result.rows.len(),
        truncated: result.truncated,
        columns: result.columns,
        rows: result.rows,
    }))
}
