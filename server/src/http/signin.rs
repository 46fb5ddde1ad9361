//! What the sign-in page needs besides the login:
//!
//! - One-time sign-in links: `heliosdb-conversational-bi demo` prints
//!   `http://127.0.0.1:PORT/#signin=CODE`; the page trades the code for a token at
//!   `POST /api/v1/auth/link`. A code works once, for one user, for a few minutes. Only a hash
//!   of each code is kept, and the code travels in the URL's fragment, which browsers never
//!   send to a server (nor to its logs).
//! - `GET /api/v1/auth/providers`: the ways to sign in (the built-in login, identity providers
//!   with a web client; see [`super::idp::discovery`]).
//! - `GET /api/v1/auth/me`: who a token is, as the server reads it.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{
    AppState,
    auth::Caller,
    error::{ApiError, ErrorBody},
    extract::ApiJson,
    idp::discovery::Provider,
    routes::{LoginResponse, require_builtin_login, signed_in},
};

/// How long a sign-in link works.
pub const LINK_TTL: Duration = Duration::from_secs(15 * 60);

/// The sign-in links issued and not yet used.
#[derive(Default)]
pub struct SignInLinks {
    codes: Mutex<HashMap<[u8; 32], (String, Instant)>>,
}

impl std::fmt::Debug for SignInLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.codes.lock().map_or(0, |c| c.len());
        f.debug_struct("SignInLinks").field("pending", &n).finish()
    }
}

fn digest(code: &str) -> [u8; 32] {
    Sha256::digest(code.as_bytes()).into()
}

impl SignInLinks {
    /// A new code that signs `username` in once within [`LINK_TTL`]: 64 hexadecimal digits
    /// from the operating system's random source.
    pub fn issue(&self, username: &str) -> String {
        let code = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        if let Ok(mut codes) = self.codes.lock() {
            let now = Instant::now();
            codes.retain(|_, (_, expires)| *expires > now);
            codes.insert(digest(&code), (username.to_string(), now + LINK_TTL));
        }
        code
    }

    /// The user a code signs in, once: the code is spent either way.
    pub fn redeem(&self, code: &str) -> Option<String> {
        let mut codes = self.codes.lock().ok()?;
        let (user, expires) = codes.remove(&digest(code))?;
        (expires > Instant::now()).then_some(user)
    }
}

/// `POST /api/v1/auth/link` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The code of a one-time sign-in link (after `#signin=`).
    pub code: String,
}

/// Trades the code of a one-time sign-in link (printed by `heliosdb-conversational-bi demo`)
/// for a bearer token. Each code works once, within 15 minutes.
#[utoipa::path(
    post,
    path = "/api/v1/auth/link",
    tag = "auth",
    request_body = LinkRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Unknown, used or expired code", body = ErrorBody),
        (status = 404, description = "Built-in login is not configured (no `JWT_SECRET`)", body = ErrorBody),
    )
)]
pub async fn sign_in_with_link(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LinkRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    require_builtin_login(&state)?;
    let refused = || {
        tracing::warn!(target: "cbi_server::auth", "sign-in link refused");
        ApiError::unauthorized(
            "this sign-in link is unknown, used or expired; ask for a new one (run the demo command again)",
            false,
        )
    };
    let username = state
        .sign_in_links()
        .redeem(&body.code)
        .ok_or_else(refused)?;
    let caller = state.auth().caller(&username).ok_or_else(refused)?;
    tracing::info!(target: "cbi_server::auth", username = %caller.user_id, "signed in with a one-time link");
    signed_in(&state, &caller)
}

/// `GET /api/v1/auth/providers` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProvidersResponse {
    /// Whether `POST /api/v1/auth/login` works (users of `[[auth.users]]` and `JWT_SECRET`).
    pub builtin_login: bool,
    /// The identity providers to sign in with (authorization code with PKCE).
    pub providers: Vec<Provider>,
}

/// The ways to sign in: whether the built-in login works, and the identity providers of
/// `[[auth.issuers]]` that have a web client (`client_id`), with their endpoints.
#[utoipa::path(
    get,
    path = "/api/v1/auth/providers",
    tag = "auth",
    responses((status = 200, description = "The ways to sign in", body = ProvidersResponse))
)]
pub async fn providers(State(state): State<AppState>) -> Json<ProvidersResponse> {
    Json(ProvidersResponse {
        builtin_login: state.auth().has_users(),
        providers: state.auth().sign_in_providers().await,
    })
}

/// `GET /api/v1/auth/me` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeResponse {
    /// The user id.
    pub user_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The roles (API roles and data roles).
    pub roles: Vec<String>,
}

/// Who the token is: its user, tenant and roles as the server maps them (for an identity
/// provider's token, through `[auth.issuers.claims]`).
#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = MeResponse),
        (status = 401, description = "No token or a refused one; the message says why", body = ErrorBody),
    )
)]
pub async fn me(caller: Caller) -> Json<MeResponse> {
    Json(MeResponse {
        user_id: caller.user_id,
        tenant_id: caller.tenant_id,
        roles: caller.roles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_signs_in_once_and_only_its_user() {
        let links = SignInLinks::default();
        let a = links.issue("ann");
        let b = links.issue("bob");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(links.redeem("not a code"), None);
        assert_eq!(links.redeem(&b).as_deref(), Some("bob"));
        assert_eq!(links.redeem(&b), None, "spent");
        assert_eq!(links.redeem(&a).as_deref(), Some("ann"));
        assert!(!format!("{links:?}").contains(&a));
    }
}
