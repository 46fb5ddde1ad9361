//! The HTTP API of the runbook's standalone deployment.
//!
//! | method | path | auth |
//! |---|---|---|
//! | `GET` | `/health` | none |
//! | `POST` | `/api/v1/auth/login` | none (user name and password; 404 without `JWT_SECRET`) |
//! | `POST` | `/api/v1/auth/link` | none (the code of a one-time sign-in link) |
//! | `GET` | `/api/v1/auth/providers` | none (the built-in login and the identity providers to sign in with) |
//! | `GET` | `/api/v1/auth/me` | bearer (any role) |
//! | `POST` | `/api/v1/query`, `/api/v1/query/stream` | bearer, role `analyst` or `admin` |
//! | `POST` | `/api/v1/sql` | bearer, role `analyst` or `admin` |
//! | `GET` | `/api/v1/sessions` | bearer, role `analyst` or `admin` (the caller's own, `?limit=` 1 to 200) |
//! | `GET`, `DELETE` | `/api/v1/sessions/{id}` | bearer, role `analyst` or `admin` |
//! | `PATCH` | `/api/v1/sessions/{id}` | bearer, role `analyst` or `admin` (body `{"title"}`) |
//! | `POST` | `/api/v1/admin/circuit-breaker/reset` | bearer, role `admin` |
//! | `POST` | `/api/v1/feedback` | bearer (any signed-in user, on their own conversations) |
//! | `GET` | `/api/v1/admin/feedback` | bearer, role `admin` |
//! | `POST` | `/api/v1/admin/feedback/{id}/promote`, `/api/v1/admin/feedback/{id}/dismiss` | bearer, role `admin` |
//! | `GET` | `/api/v1/admin/verified` | bearer, role `admin` |
//! | `POST` | `/api/v1/admin/verified/{id}/retire` | bearer, role `admin` |
//! | `GET` | `/api/v1/admin/semantic-model` | bearer, role `admin` (YAML) |
//! | `GET` | `/api/v1/openapi.json` | none |
//! | `GET` | `/`, `/embed.js`, `/assets/{build}/...` | none (the web app; its calls carry the token) |
//!
//! [`app`] builds the router from an [`AppState`]; it needs no socket, so tests drive it with
//! `tower::ServiceExt::oneshot`.

pub mod auth;
pub mod breaker;
pub mod client_ip;
pub mod error;
pub mod extract;
pub mod feedback;
pub mod health;
pub mod idp;
pub mod login_guard;
pub mod middleware;
pub mod routes;
pub mod schema;
pub mod signin;
pub mod sql;
pub mod web;

use std::{sync::Arc, time::Duration};

use axum::{
    Extension, Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, Method, Uri, header},
    middleware::{from_fn, from_fn_with_state},
};
use conversational_bi::{Engine, Error};
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use self::{
    auth::Auth,
    client_ip::TrustedProxies,
    error::ApiError,
    health::RedisProbe,
    login_guard::LoginGuard,
    middleware::{HttpMetrics, REQUEST_ID},
    routes::OpenApiJson,
};

/// Everything the handlers share. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    shared: Arc<Shared>,
    http_metrics: Option<HttpMetrics>,
}

#[derive(Debug)]
struct Shared {
    engine: Engine,
    auth: Auth,
    login_guard: LoginGuard,
    trusted_proxies: TrustedProxies,
    redis: Option<RedisProbe>,
    max_body_bytes: usize,
    request_timeout: Duration,
    cors: Option<AllowOrigin>,
    sign_in_links: signin::SignInLinks,
}

impl AppState {
    /// The state of an API over `engine`, configured by the engine's configuration (`[auth]`
    /// with `JWT_SECRET`, the login limits and `[[auth.issuers]]`, `[server]` limits, trusted
    /// proxies and CORS origins, `[redis] url`). Refuses a missing or short `JWT_SECRET`, bad
    /// users, bad issuers, bad login limits, bad proxy addresses and bad CORS origins. The key
    /// sets of JWKS issuers are fetched when the first token names a key ([`Auth::start`]
    /// fetches them up front, as `serve` does).
    pub fn new(engine: Engine) -> Result<Self, Error> {
        let auth = Auth::from_config(engine.config())?;
        Self::with_auth(engine, auth)
    }

    /// As [`AppState::new`], with `auth` already made from the engine's configuration (so that
    /// its decoy password hash is made once and its JWKS key sets are fetched before).
    pub fn with_auth(engine: Engine, auth: Auth) -> Result<Self, Error> {
        let config = engine.config();
        let login_guard = LoginGuard::from_config(&config.auth)?;
        let trusted_proxies = TrustedProxies::from_config(&config.server.trusted_proxies)?;
        let redis = RedisProbe::from_config(config)?;
        let cors = cors_origins(&config.server.cors_allowed_origins)?;
        let max_body_bytes = config.server.max_body_bytes;
        let request_timeout = Duration::from_secs(config.server.request_timeout_secs);
        Ok(Self {
            shared: Arc::new(Shared {
                engine,
                auth,
                login_guard,
                trusted_proxies,
                redis,
                max_body_bytes,
                request_timeout,
                cors,
                sign_in_links: signin::SignInLinks::default(),
            }),
            http_metrics: None,
        })
    }

    /// Records requests in `metrics`.
    pub fn with_http_metrics(mut self, metrics: HttpMetrics) -> Self {
        self.http_metrics = Some(metrics);
        self
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.shared.engine
    }

    /// Authentication.
    pub fn auth(&self) -> &Auth {
        &self.shared.auth
    }

    /// The limits of logins.
    pub fn login_guard(&self) -> &LoginGuard {
        &self.shared.login_guard
    }

    /// The proxies whose forwarding headers name the client.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.shared.trusted_proxies
    }

    /// The Redis check, when Redis is configured.
    pub fn redis(&self) -> Option<&RedisProbe> {
        self.shared.redis.as_ref()
    }

    /// The one-time sign-in links issued and not yet used.
    pub fn sign_in_links(&self) -> &signin::SignInLinks {
        &self.shared.sign_in_links
    }

    /// The largest accepted request body.
    pub fn max_body_bytes(&self) -> usize {
        self.shared.max_body_bytes
    }
}

fn cors_origins(origins: &[String]) -> Result<Option<AllowOrigin>, Error> {
    if origins.is_empty() {
        return Ok(None);
    }
    if origins.iter().any(|o| o == "*") {
        return Ok(Some(AllowOrigin::any()));
    }
    let mut values = Vec::new();
    for origin in origins {
        let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
            && !origin.ends_with('/');
        let value = HeaderValue::from_str(origin).ok().filter(|_| valid);
        let Some(value) = value else {
            return Err(Error::Config {
                message: format!(
                    "CORS origin {origin:?} is not an origin; write scheme://host[:port] with no path, e.g. https://bi.example.com (CORS_ALLOWED_ORIGINS is comma-separated)"
                ),
                key: Some("server.cors_allowed_origins".into()),
                file: None,
                line: None,
            });
        };
        values.push(value);
    }
    Ok(Some(AllowOrigin::list(values)))
}

fn cors_layer(origins: AllowOrigin) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            REQUEST_ID.clone(),
        ])
        .expose_headers([
            REQUEST_ID.clone(),
            header::RETRY_AFTER,
            HeaderName::from_static("www-authenticate"),
        ])
        .max_age(Duration::from_secs(600))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "HeliosDB Conversational BI",
        description = "Questions in plain words to safe, read-only SQL and results, over many turns. Log in with POST /api/v1/auth/login (or get a token from a configured identity provider) and send the token as `Authorization: Bearer <token>`. Errors are `{\"error\": {\"code\", \"message\", \"request_id\"}}`."
    ),
    modifiers(&BearerAuth),
    components(schemas(error::ErrorBody)),
    tags(
        (name = "auth", description = "Log in"),
        (name = "queries", description = "Ask questions"),
        (name = "sessions", description = "The caller's own conversations"),
        (name = "feedback", description = "Ratings and corrections of answers; verified queries promoted from them"),
        (name = "operations", description = "Health, circuit breaker, this document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no endpoint {method} {}; the API is described at /api/v1/openapi.json",
        uri.path()
    ))
}

/// The API's router over `state`, with its middleware: CORS, request ids and error bodies,
/// HTTP metrics, the per-request timeout and the body limit.
pub fn app(state: AppState) -> Router {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(routes::login))
        .routes(routes!(signin::sign_in_with_link))
        .routes(routes!(signin::providers))
        .routes(routes!(signin::me))
        .routes(routes!(routes::query))
        .routes(routes!(routes::query_stream))
        .routes(routes!(sql::run_sql))
        .routes(routes!(routes::get_session, routes::delete_session))
        .routes(routes!(routes::list_sessions))
        .routes(routes!(routes::rename_session))
        .routes(routes!(routes::reset_breaker))
        .routes(routes!(feedback::give_feedback))
        .routes(routes!(feedback::list_feedback))
        .routes(routes!(feedback::promote_feedback))
        .routes(routes!(feedback::dismiss_feedback))
        .routes(routes!(feedback::list_verified))
        .routes(routes!(feedback::retire_verified))
        .routes(routes!(feedback::semantic_model))
        .routes(routes!(routes::openapi_json))
        .split_for_parts();
    let doc = api.to_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot render the OpenAPI document");
        "{}".into()
    });
    let mut router = router
        .merge(web::routes())
        .fallback(not_found)
        .layer(Extension(OpenApiJson(Arc::new(doc))))
        .layer(DefaultBodyLimit::max(state.max_body_bytes()))
        .layer(from_fn_with_state(
            state.shared.request_timeout,
            middleware::timeout,
        ));
    if let Some(metrics) = &state.http_metrics {
        router = router.layer(from_fn_with_state(metrics.clone(), middleware::record));
    }
    router = router.layer(from_fn(middleware::request_context));
    if let Some(origins) = &state.shared.cors {
        router = router.layer(cors_layer(origins.clone()));
    }
    router.with_state(state)
}
