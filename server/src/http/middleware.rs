//! Middleware of every request: the request id and its log span, the rendering of error
//! bodies, the per-request timeout and the HTTP metrics.

use std::time::{Duration, Instant};

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};
use tracing::Instrument;

use super::error::{ApiError, ErrorBody, ErrorDetail, PendingError, code_of_status};

/// The request id header, read from the client (when well-formed) and always sent back.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

fn client_request_id(req: &Request) -> Option<String> {
    let id = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then(|| id.to_string())
}

/// Gives the request an id and a log span, renders error bodies as
/// `{"error": {"code", "message", "request_id"}}`, and marks responses `no-store`.
pub async fn request_context(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = client_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        path = %req.uri().path()
    );
    let response = next.run(req).instrument(span.clone()).await;
    let mut response = render_error(response, &id, &method).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(REQUEST_ID.clone(), value);
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            latency_ms = (started.elapsed().as_secs_f64() * 1000.0),
            "request done"
        );
    });
    response
}

async fn render_error(response: Response, request_id: &str, method: &Method) -> Response {
    let status = response.status();
    let pending = response.extensions().get::<PendingError>().cloned();
    let (code, message) = match pending {
        Some(p) => (p.code, p.message),
        None if status.is_client_error() || status.is_server_error() => {
            let is_json = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            if is_json {
                return response;
            }
            let (_, body) = response.into_parts();
            let text = axum::body::to_bytes(body, 4096)
                .await
                .map(|b| String::from_utf8_lossy(&b).trim().to_string())
                .unwrap_or_default();
            // The router adds `Allow` to a 405 after this middleware has run.
            let message = match status {
                StatusCode::METHOD_NOT_ALLOWED => format!(
                    "{method} is not allowed on this path; the `Allow` header and /api/v1/openapi.json name the methods that are"
                ),
                _ if !text.is_empty() => text,
                _ => status
                    .canonical_reason()
                    .unwrap_or("request failed")
                    .to_lowercase(),
            };
            let mut rebuilt = ApiError::new(status, code_of_status(status), message);
            if status == StatusCode::UNAUTHORIZED {
                rebuilt = ApiError::unauthorized(rebuilt.message, false);
            }
            return Box::pin(render_error(rebuilt.into_response(), request_id, method)).await;
        }
        None => return response,
    };
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_string(),
            message,
            request_id: request_id.to_string(),
        },
    };
    let (mut parts, _) = response.into_parts();
    parts.extensions.remove::<PendingError>();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    Response::from_parts(parts, Body::from(bytes))
}

/// Answers `504 REQUEST_TIMEOUT` when the request takes longer than `limit`; the work in
/// progress is cancelled.
pub async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_secs = limit.as_secs(), "request timed out");
            ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "REQUEST_TIMEOUT",
                format!(
                    "the request took longer than {} s ([server] request_timeout_secs) and was cancelled; try again or ask a narrower question",
                    limit.as_secs()
                ),
            )
            .into_response()
        }
    }
}

/// Labels of `http_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `GET`, `POST`, `DELETE`, `OPTIONS` or `other`.
    pub method: String,
    /// The route template (`/api/v1/sessions/{id}`), or `unmatched`.
    pub route: String,
    /// The response status.
    pub status: u16,
}

/// Labels of `http_request_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route template, or `unmatched`.
    pub route: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The server's own metrics (the engine's are in `conversational_bi::metrics`).
///
/// | name | type | labels |
/// |---|---|---|
/// | `http_requests_total` | counter | `method`, `route`, `status` |
/// | `http_request_duration_seconds` | histogram | `route` |
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    /// `http_requests_total`.
    pub requests_total: Family<RequestLabels, Counter>,
    /// `http_request_duration_seconds`.
    pub request_duration_seconds: HistogramFamily,
}

fn duration_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ])
}

impl HttpMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            requests_total: Family::default(),
            request_duration_seconds: Family::new_with_constructor(duration_histogram),
        };
        // prometheus_client appends `_total` to counters.
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            m.requests_total.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Wall time of HTTP requests, in seconds",
            m.request_duration_seconds.clone(),
        );
        m
    }
}

/// Records each request in [`HttpMetrics`].
pub async fn record(State(metrics): State<HttpMetrics>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::HEAD => "HEAD",
        _ => "other",
    };
    let response = next.run(req).await;
    metrics
        .request_duration_seconds
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests_total
        .get_or_create(&RequestLabels {
            method: method.to_string(),
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
