//! Metrics, registered in a `prometheus_client` registry that the caller owns.
//!
//! The library never creates a global registry: the server (or an embedding application)
//! passes its own to [`Metrics::register`] and exposes it however it likes. Names are the
//! runbook's; labels are bounded (never a question, SQL text or user id).
//!
//! | name | type | labels |
//! |---|---|---|
//! | `query_duration_seconds` | histogram | — |
//! | `queries_total` | counter | — |
//! | `queries_failed_total` | counter | `code` (error kind) |
//! | `sql_validations_total` | counter | `dialect`, `outcome` (`accepted` / rejection rule) |
//! | `sql_executions_total` | counter | `dialect`, `outcome` (`ok` / error kind) |
//! | `circuit_breaker_state` | gauge | `service` (`nl2sql`): 0 closed, 1 open, 2 half-open |
//! | `cache_requests_total` | counter | — (semantic cache lookups) |
//! | `cache_hits_total` | counter | — (answers served from the semantic cache) |
//! | `cache_errors_total` | counter | — (cache store or embedder unavailable: counted as a miss) |
//! | `rate_limit_requests_total` | counter | `outcome` (`admitted` / `limited`) |
//! | `rate_limit_fallback_total` | counter | — (decisions of the local limiter while Redis was unreachable) |
//! | `tenant_source_connects_total` | counter | `tenant` (a `[tenants.<id>]` id), `outcome` (`ok` / error kind) |
//! | `tenant_sources_open` | gauge | — (tenant databases with an open pool) |
//! | `tenant_source_closes_total` | counter | — (pools of tenant databases closed to stay under `max_tenant_pools`) |

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// Labels of `queries_failed_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// The stable error code (`SQL_REJECTED`, `TIMEOUT`, ...).
    pub code: String,
}

/// Labels of the validation and execution counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `sqlite`, `postgres` or `mysql`.
    pub dialect: String,
    /// A bounded outcome name.
    pub outcome: String,
}

/// Labels of `circuit_breaker_state`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    /// The protected service (`nl2sql`).
    pub service: String,
}

/// Labels of `rate_limit_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RateLimitLabels {
    /// `admitted` or `limited`.
    pub outcome: String,
}

/// Labels of `tenant_source_connects_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantOutcomeLabels {
    /// The tenant, one of the configured `[tenants.<id>]` (so the label is bounded).
    pub tenant: String,
    /// `ok`, or the error kind in lower case (`database_unavailable`, `config`).
    pub outcome: String,
}

/// The counters of the tenants' databases (`[tenants.<id>]`).
#[derive(Clone, Debug, Default)]
pub struct TenantMetrics {
    /// `tenant_source_connects_total`: connection attempts to tenant databases, by outcome.
    pub connects: Family<TenantOutcomeLabels, Counter>,
    /// `tenant_sources_open`: tenant databases whose pool is open.
    pub open: Gauge,
    /// `tenant_source_closes_total`: pools of tenant databases closed (the least recently used,
    /// to stay under `[database] max_tenant_pools`), counted once the pool is closed.
    pub closes: Counter,
}

impl TenantMetrics {
    /// The connection attempts of `tenant` that ended with `outcome` so far.
    pub fn connects_of(&self, tenant: &str, outcome: &str) -> u64 {
        self.connects
            .get_or_create(&TenantOutcomeLabels {
                tenant: tenant.to_string(),
                outcome: outcome.to_string(),
            })
            .get()
    }
}

/// The semantic cache's counters.
#[derive(Clone, Debug, Default)]
pub struct CacheMetrics {
    /// `cache_requests_total`: lookups.
    pub requests: Counter,
    /// `cache_hits_total`: answers served from the cache.
    pub hits: Counter,
    /// `cache_errors_total`: lookups or inserts that failed and counted as misses.
    pub errors: Counter,
}

/// The rate limiter's counters.
#[derive(Clone, Debug, Default)]
pub struct RateLimitMetrics {
    /// `rate_limit_requests_total`: decisions by outcome.
    pub requests: Family<RateLimitLabels, Counter>,
    /// `rate_limit_fallback_total`: decisions taken locally because Redis was unreachable.
    pub fallback: Counter,
}

impl RateLimitMetrics {
    /// Counts one decision.
    pub fn record(&self, admitted: bool) {
        let outcome = if admitted { "admitted" } else { "limited" };
        self.requests
            .get_or_create(&RateLimitLabels {
                outcome: outcome.into(),
            })
            .inc();
    }
}

/// The engine's metric handles. Cheap to clone; clones share the same series.
///
/// [`Metrics::default`] is the handle of an engine without metrics: its series are registered
/// in no registry, so what it records is seen by nobody. Every stage records unconditionally;
/// only [`Metrics::register`] makes the series visible.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// `query_duration_seconds`: wall time of a whole query.
    pub query_duration_seconds: Histogram,
    /// `queries_total`: queries received.
    pub queries_total: Counter,
    /// `queries_failed_total`: queries that ended in an error, by error code.
    pub queries_failed_total: Family<FailureLabels, Counter>,
    /// `sql_validations_total`: validator verdicts.
    pub sql_validations_total: Family<OutcomeLabels, Counter>,
    /// `sql_executions_total`: statements executed, by outcome.
    pub sql_executions_total: Family<OutcomeLabels, Counter>,
    /// `circuit_breaker_state`: 0 closed, 1 open, 2 half-open, by protected service.
    pub circuit_breaker_state: Family<ServiceLabels, Gauge>,
    /// The semantic cache's counters.
    pub cache: CacheMetrics,
    /// The rate limiter's counters.
    pub rate_limit: RateLimitMetrics,
    /// The tenants' databases.
    pub tenants: TenantMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            // 5 ms .. ~10 s, covering the runbook's 200 ms target and 500 ms alert.
            query_duration_seconds: Histogram::new([
                0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            queries_total: Counter::default(),
            queries_failed_total: Family::default(),
            sql_validations_total: Family::default(),
            sql_executions_total: Family::default(),
            circuit_breaker_state: Family::default(),
            cache: CacheMetrics::default(),
            rate_limit: RateLimitMetrics::default(),
            tenants: TenantMetrics::default(),
        }
    }
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "query_duration_seconds",
            "Wall time of a query, in seconds",
            m.query_duration_seconds.clone(),
        );
        // prometheus_client appends `_total` to counters.
        registry.register("queries", "Queries received", m.queries_total.clone());
        registry.register(
            "queries_failed",
            "Queries that ended in an error",
            m.queries_failed_total.clone(),
        );
        registry.register(
            "sql_validations",
            "SQL validator verdicts",
            m.sql_validations_total.clone(),
        );
        registry.register(
            "sql_executions",
            "SQL statements executed",
            m.sql_executions_total.clone(),
        );
        registry.register(
            "circuit_breaker_state",
            "State of a circuit breaker: 0 closed, 1 open, 2 half-open",
            m.circuit_breaker_state.clone(),
        );
        registry.register(
            "cache_requests",
            "Semantic cache lookups",
            m.cache.requests.clone(),
        );
        registry.register(
            "cache_hits",
            "Answers served from the semantic cache",
            m.cache.hits.clone(),
        );
        registry.register(
            "cache_errors",
            "Semantic cache lookups or inserts that failed and counted as misses",
            m.cache.errors.clone(),
        );
        registry.register(
            "rate_limit_requests",
            "Rate limit decisions by outcome",
            m.rate_limit.requests.clone(),
        );
        registry.register(
            "rate_limit_fallback",
            "Rate limit decisions taken by the local limiter while Redis was unreachable",
            m.rate_limit.fallback.clone(),
        );
        registry.register(
            "tenant_source_connects",
            "Connection attempts to tenant databases, by tenant and outcome",
            m.tenants.connects.clone(),
        );
        registry.register(
            "tenant_sources_open",
            "Tenant databases whose connection pool is open",
            m.tenants.open.clone(),
        );
        registry.register(
            "tenant_source_closes",
            "Pools of tenant databases closed to stay under [database] max_tenant_pools",
            m.tenants.closes.clone(),
        );
        m
    }

    /// The `circuit_breaker_state` gauge of `service`, for its breaker to set.
    pub fn circuit_breaker_gauge(&self, service: &str) -> Gauge {
        self.circuit_breaker_state
            .get_or_create(&ServiceLabels {
                service: service.to_string(),
            })
            .clone()
    }

    /// Counts a failed query by its error.
    pub fn record_failure(&self, error: &crate::Error) {
        self.queries_failed_total
            .get_or_create(&FailureLabels {
                code: error.kind().code().to_string(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::text::encode;

    use super::*;

    #[test]
    fn registers_the_runbook_names() {
        let mut registry = Registry::default();
        let m = Metrics::register(&mut registry);
        m.queries_total.inc();
        m.query_duration_seconds.observe(0.12);
        m.record_failure(&crate::Error::Timeout { timeout_ms: 5000 });
        m.circuit_breaker_gauge("nl2sql").set(2);
        m.cache.requests.inc();
        m.rate_limit.record(false);
        m.tenants
            .connects
            .get_or_create(&TenantOutcomeLabels {
                tenant: "acme".into(),
                outcome: "ok".into(),
            })
            .inc();
        m.tenants.open.set(1);
        let mut text = String::new();
        encode(&mut text, &registry).expect("encodes");
        for name in [
            "cache_requests_total 1",
            "cache_hits_total 0",
            "rate_limit_requests_total{outcome=\"limited\"} 1",
            "rate_limit_fallback_total 0",
            "query_duration_seconds_bucket",
            "queries_total 1",
            "queries_failed_total{code=\"TIMEOUT\"} 1",
            "circuit_breaker_state{service=\"nl2sql\"} 2",
            "tenant_source_connects_total{tenant=\"acme\",outcome=\"ok\"} 1",
            "tenant_sources_open 1",
            "tenant_source_closes_total 0",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
    }
}
