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

/// The engine's metric handles. Cheap to clone; clones share the same series.
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
        let mut text = String::new();
        encode(&mut text, &registry).expect("encodes");
        for name in [
            "query_duration_seconds_bucket",
            "queries_total 1",
            "queries_failed_total{code=\"TIMEOUT\"} 1",
            "circuit_breaker_state{service=\"nl2sql\"} 2",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
    }
}
