//! `GET /health`: whether this instance can serve, for load balancers and the runbook's checks.
//!
//! Checks: the database answers, Redis answers (when `[redis] url` is set), the circuit
//! breaker around the LLM provider, and the open databases of the `[tenants.<id>]`. `200` while
//! the instance serves (`ok`, or `degraded` when it answers with a fallback or without an
//! optional part, or a tenant's database is down), `503` when it cannot.

use std::time::{Duration, Instant};

use axum::{Json, extract::State, http::StatusCode};
use conversational_bi::{
    Config, Error,
    config::{Fallback, StoreKind},
    engine::TenantHealth,
    error::redact_url,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    AppState,
    breaker::{self, BreakerStatus},
};

/// The longest a single check may take before it counts as down.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The health of this instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HealthReport {
    /// `ok`; `degraded` (serving, but with a fallback or without an optional part); or
    /// `unavailable` (answered with 503).
    pub status: String,
    /// The server's version.
    pub version: String,
    /// The configured SQL generator (`rule`, `openai:gpt-4`, ...); absent when the engine did not
    /// answer the health check in time.
    pub generator: Option<String>,
    /// The individual checks.
    pub checks: HealthChecks,
}

/// The checks of [`HealthReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HealthChecks {
    /// The target database.
    pub database: Check,
    /// Redis, when `[redis] url` (or `REDIS_URL`) is set.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub redis: Option<Check>,
    /// The circuit breaker around the LLM provider.
    pub circuit_breaker: BreakerCheck,
    /// The database of each `[tenants.<id>]`, in the order of their ids; absent without
    /// tenants. A tenant that is `down` makes the status `degraded`, never `unavailable`: the
    /// other tenants are served.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tenants: Vec<TenantCheck>,
}

/// The check of one tenant's database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantCheck {
    /// The tenant, as in `[tenants.<id>]`.
    pub tenant_id: String,
    /// `up` (its pool is open and the database answered); `down` (its open pool did not
    /// answer, or its last connection attempt failed); or `closed` (no pool is open: it opens at
    /// the tenant's next question).
    pub status: String,
    /// `sqlite`, `postgres` or `mysql`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dialect: Option<String>,
    /// Why it is down (secrets removed).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

impl From<TenantHealth> for TenantCheck {
    fn from(t: TenantHealth) -> Self {
        let status = match (t.is_ok(), t.open) {
            (false, _) => "down",
            (true, true) => "up",
            (true, false) => "closed",
        };
        Self {
            tenant_id: t.tenant_id,
            status: status.into(),
            dialect: t.dialect,
            error: t.error,
        }
    }
}

/// One dependency's check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Check {
    /// `up` or `down`.
    pub status: String,
    /// How long the check took, in milliseconds.
    pub latency_ms: f64,
    /// Why it is down (secrets removed).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

impl Check {
    fn new(outcome: Result<(), String>, started: Instant) -> Self {
        Self {
            status: if outcome.is_ok() { "up" } else { "down" }.into(),
            latency_ms: (started.elapsed().as_secs_f64() * 1e4).round() / 10.0,
            error: outcome.err(),
        }
    }

    fn is_up(&self) -> bool {
        self.status == "up"
    }
}

/// The breaker's part of [`HealthChecks`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BreakerCheck {
    /// The protected service (`nl2sql`).
    pub service: String,
    /// Its state.
    pub state: BreakerStatus,
    /// Whether the offline generator answers while it is open (`[llm] fallback = "rule"`).
    pub fallback: bool,
}

/// A Redis connection check.
#[derive(Clone)]
pub struct RedisProbe {
    client: redis::Client,
    /// Whether sessions, the cache or rate limits live in Redis, so that the instance cannot
    /// serve without it.
    required: bool,
}

impl std::fmt::Debug for RedisProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisProbe")
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

impl RedisProbe {
    /// The probe of `[redis] url`, or `None` when it is not set.
    pub fn from_config(config: &Config) -> Result<Option<Self>, Error> {
        let Some(url) = &config.redis.url else {
            return Ok(None);
        };
        let client = redis::Client::open(url.expose()).map_err(|e| Error::Config {
            message: format!("redis.url {} is not usable: {e}", redact_url(url.expose())),
            key: Some("redis.url".into()),
            file: None,
            line: None,
        })?;
        let required = config.session_store() == StoreKind::Redis
            || config.cache_store() == StoreKind::Redis
            || config.rate_limit_store() == StoreKind::Redis;
        Ok(Some(Self { client, required }))
    }

    /// Connects and sends `PING`.
    pub async fn ping(&self) -> Result<(), String> {
        let attempt = async {
            let mut conn = self
                .client
                .get_multiplexed_async_connection()
                .await
                .map_err(|e| e.to_string())?;
            let pong: String = redis::cmd("PING")
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            if pong == "PONG" {
                Ok(())
            } else {
                Err(format!("unexpected reply to PING: {pong}"))
            }
        };
        tokio::time::timeout(CHECK_TIMEOUT, attempt)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())))
    }
}

/// `GET /health`.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "The instance serves (`ok` or `degraded`)", body = HealthReport),
        (status = 503, description = "The instance cannot serve", body = HealthReport),
    )
)]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<HealthReport>) {
    let engine = state.engine();
    let started = Instant::now();
    let (database, generator, tenants) = match tokio::time::timeout(CHECK_TIMEOUT, engine.health())
        .await
    {
        Ok(h) => {
            let outcome = if h.database {
                Ok(())
            } else {
                Err(h
                    .database_error
                    .unwrap_or_else(|| "the database did not answer".into()))
            };
            let tenants: Vec<TenantCheck> = h.tenants.into_iter().map(TenantCheck::from).collect();
            (Check::new(outcome, started), Some(h.generator), tenants)
        }
        Err(_) => (
            Check::new(
                Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
                started,
            ),
            None,
            Vec::new(),
        ),
    };
    let redis = match state.redis() {
        Some(probe) => {
            let started = Instant::now();
            Some((Check::new(probe.ping().await, started), probe.required))
        }
        None => None,
    };
    let breaker_state = breaker::status(engine);
    let fallback = engine.config().llm.fallback == Fallback::Rule;

    let mut status = "ok";
    if matches!(breaker_state, BreakerStatus::Open | BreakerStatus::HalfOpen)
        || redis.as_ref().is_some_and(|(c, _)| !c.is_up())
        || tenants.iter().any(|t| t.status == "down")
    {
        status = "degraded";
    }
    if !database.is_up()
        || redis
            .as_ref()
            .is_some_and(|(c, required)| *required && !c.is_up())
        || (breaker_state.is_open() && !fallback)
    {
        status = "unavailable";
    }
    let report = HealthReport {
        status: status.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        generator,
        checks: HealthChecks {
            database,
            redis: redis.map(|(c, _)| c),
            circuit_breaker: BreakerCheck {
                service: breaker::SERVICE.into(),
                state: breaker_state,
                fallback,
            },
            tenants,
        },
    };
    let code = if status == "unavailable" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(report))
}
