//! The circuit breaker that protects the engine (and the provider) from cascades of failing
//! LLM calls, with the runbook's semantics (`[production.circuit_breaker]`):
//!
//! - **closed**: calls pass; `failure_threshold` consecutive failures open the breaker;
//! - **open**: calls are rejected at once with [`Error::CircuitOpen`] (no request is sent) until
//!   `reset_timeout_secs` have passed;
//! - **half-open**: up to `half_open_max_calls` probes pass; as many successful probes close
//!   the breaker, any failed probe opens it again for another `reset_timeout_secs`.
//!
//! A failure is an error that [`Error::is_retryable`] calls temporary (429, 5xx, timeouts,
//! connection failures, malformed replies). A client error (bad key, refused request, unknown
//! model) proves the provider is up and answering, so it counts as a success here; it is still
//! returned to the caller.
//!
//! The state is published as the gauge `circuit_breaker_state{service="nl2sql"}`: 0 closed,
//! 1 open, 2 half-open.

use std::{
    future::Future,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use prometheus_client::metrics::gauge::Gauge;
use serde::Serialize;

use crate::clock::Clock;
use crate::{
    config::CircuitBreakerConfig,
    error::{Error, Result},
    llm::{ChatCompletion, ChatRequest, LlmProvider},
};

/// The service name of the breaker around SQL generation.
pub const NL2SQL: &str = "nl2sql";

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls are rejected until the reset timeout has passed.
    Open,
    /// A limited number of probes pass.
    HalfOpen,
}

impl BreakerState {
    /// The value of the `circuit_breaker_state` gauge: 0 closed, 1 open, 2 half-open.
    pub fn gauge_value(self) -> i64 {
        match self {
            Self::Closed => 0,
            Self::Open => 1,
            Self::HalfOpen => 2,
        }
    }

    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

impl std::fmt::Display for BreakerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { in_flight: u32, successes: u32 },
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    /// Bumped at every transition, so that a call admitted in an earlier phase cannot move the
    /// breaker when it finishes.
    generation: u64,
    gauge: Option<Gauge>,
}

struct Shared {
    service: String,
    failure_threshold: u32,
    reset_timeout: Duration,
    half_open_max_calls: u32,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

/// A circuit breaker. Cheap to clone: clones share the state.
#[derive(Clone)]
pub struct CircuitBreaker {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("service", &self.shared.service)
            .field("state", &self.state())
            .field("failure_threshold", &self.shared.failure_threshold)
            .field("reset_timeout", &self.shared.reset_timeout)
            .field("half_open_max_calls", &self.shared.half_open_max_calls)
            .finish()
    }
}

impl CircuitBreaker {
    /// A closed breaker for `service` with the thresholds of `config` (a threshold or probe count
    /// of 0 is taken as 1), timed by `clock`.
    pub fn new(
        service: impl Into<String>,
        config: &CircuitBreakerConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                service: service.into(),
                failure_threshold: config.failure_threshold.max(1),
                reset_timeout: Duration::from_secs(config.reset_timeout_secs),
                half_open_max_calls: config.half_open_max_calls.max(1),
                clock,
                inner: Mutex::new(Inner {
                    phase: Phase::Closed { failures: 0 },
                    generation: 0,
                    gauge: None,
                }),
            }),
        }
    }

    /// Publishes the state in `gauge` from now on.
    pub fn with_gauge(self, gauge: Gauge) -> Self {
        {
            let mut inner = self.lock();
            gauge.set(state_of(&inner.phase).gauge_value());
            inner.gauge = Some(gauge);
        }
        self
    }

    /// The protected service.
    pub fn service(&self) -> &str {
        &self.shared.service
    }

    /// The current state. An open breaker whose timeout has passed reports (and becomes)
    /// half-open.
    pub fn state(&self) -> BreakerState {
        let now = self.shared.clock.now();
        let mut inner = self.lock();
        self.expire(&mut inner, now);
        state_of(&inner.phase)
    }

    /// Time until the next probe is let through, while open.
    pub fn retry_in(&self) -> Option<Duration> {
        let now = self.shared.clock.now();
        let mut inner = self.lock();
        self.expire(&mut inner, now);
        match inner.phase {
            Phase::Open { until } => Some(until.saturating_duration_since(now)),
            _ => None,
        }
    }

    /// Closes the breaker and forgets its failures (the runbook's manual reset).
    pub fn reset(&self) {
        let mut inner = self.lock();
        self.transition(&mut inner, Phase::Closed { failures: 0 });
        tracing::info!(service = %self.shared.service, "circuit breaker reset by hand");
    }

    /// Admits one call, or rejects it with [`Error::CircuitOpen`]. Settle the permit with
    /// `Permit::record`; a permit dropped unsettled (a cancelled call) counts for nothing.
    pub fn try_acquire(&self) -> Result<Permit> {
        let now = self.shared.clock.now();
        let mut inner = self.lock();
        self.expire(&mut inner, now);
        let generation = inner.generation;
        match &mut inner.phase {
            Phase::Closed { .. } => Ok(Permit::new(self, generation, false)),
            Phase::Open { until } => Err(self.open_error(until.saturating_duration_since(now))),
            Phase::HalfOpen {
                in_flight,
                successes,
            } => {
                if *in_flight + *successes < self.shared.half_open_max_calls {
                    *in_flight += 1;
                    Ok(Permit::new(self, generation, true))
                } else {
                    // Every probe slot is taken; the probes decide within one call's time.
                    Err(self.open_error(Duration::from_secs(1)))
                }
            }
        }
    }

    /// Runs `call` through the breaker: rejected at once while open, its outcome recorded.
    pub async fn call<T, F>(&self, call: F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let permit = self.try_acquire()?;
        let out = call.await;
        permit.record(&out);
        out
    }

    fn open_error(&self, retry_in: Duration) -> Error {
        Error::CircuitOpen {
            service: self.shared.service.clone(),
            retry_in,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update leaves the state whole, so a poisoned lock is still usable.
        self.shared
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn expire(&self, inner: &mut Inner, now: Instant) {
        if let Phase::Open { until } = inner.phase
            && now >= until
        {
            self.transition(
                inner,
                Phase::HalfOpen {
                    in_flight: 0,
                    successes: 0,
                },
            );
            tracing::info!(service = %self.shared.service, "circuit breaker half-open: letting probes through");
        }
    }

    fn transition(&self, inner: &mut Inner, phase: Phase) {
        inner.phase = phase;
        inner.generation += 1;
        if let Some(g) = &inner.gauge {
            g.set(state_of(&phase).gauge_value());
        }
    }

    fn settle(&self, generation: u64, probe: bool, outcome: Outcome) {
        let now = self.shared.clock.now();
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        let open = Phase::Open {
            until: now + self.shared.reset_timeout,
        };
        match (&mut inner.phase, outcome) {
            (Phase::Closed { failures }, Outcome::Success) => *failures = 0,
            (Phase::Closed { failures }, Outcome::Failure) => {
                *failures += 1;
                if *failures >= self.shared.failure_threshold {
                    let failures = *failures;
                    self.transition(&mut inner, open);
                    tracing::warn!(
                        service = %self.shared.service,
                        failures,
                        reset_timeout_secs = self.shared.reset_timeout.as_secs(),
                        "circuit breaker opened after consecutive provider failures"
                    );
                }
            }
            (
                Phase::HalfOpen {
                    in_flight,
                    successes,
                },
                outcome,
            ) if probe => {
                *in_flight = in_flight.saturating_sub(1);
                match outcome {
                    Outcome::Success => {
                        *successes += 1;
                        if *successes >= self.shared.half_open_max_calls {
                            self.transition(&mut inner, Phase::Closed { failures: 0 });
                            tracing::info!(service = %self.shared.service, "circuit breaker closed: the probes succeeded");
                        }
                    }
                    Outcome::Failure => {
                        self.transition(&mut inner, open);
                        tracing::warn!(service = %self.shared.service, "circuit breaker opened again: a probe failed");
                    }
                    Outcome::Abandoned => {}
                }
            }
            _ => {}
        }
    }
}

fn state_of(phase: &Phase) -> BreakerState {
    match phase {
        Phase::Closed { .. } => BreakerState::Closed,
        Phase::Open { .. } => BreakerState::Open,
        Phase::HalfOpen { .. } => BreakerState::HalfOpen,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    Failure,
    Abandoned,
}

/// Admission of one call through a [`CircuitBreaker`].
#[must_use = "settle the permit with `record` once the call has finished"]
pub struct Permit {
    breaker: CircuitBreaker,
    generation: u64,
    probe: bool,
    settled: bool,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field("probe", &self.probe)
            .finish_non_exhaustive()
    }
}

impl Permit {
    fn new(breaker: &CircuitBreaker, generation: u64, probe: bool) -> Self {
        Self {
            breaker: breaker.clone(),
            generation,
            probe,
            settled: false,
        }
    }

    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// Records the call's outcome: a temporary error is a failure, anything else a success.
    pub fn record<T>(mut self, outcome: &Result<T>) {
        let outcome = match outcome {
            Err(e) if e.is_retryable() => Outcome::Failure,
            _ => Outcome::Success,
        };
        self.settled = true;
        self.breaker.settle(self.generation, self.probe, outcome);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.settled {
            self.breaker
                .settle(self.generation, self.probe, Outcome::Abandoned);
        }
    }
}

/// A [`CircuitBreaker`] as a layer around a seam.
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer<T: ?Sized> {
    inner: Arc<T>,
    breaker: CircuitBreaker,
}

impl<T: ?Sized> CircuitBreakerLayer<T> {
    /// Guards `inner` with `breaker`.
    pub fn new(inner: Arc<T>, breaker: CircuitBreaker) -> Self {
        Self { inner, breaker }
    }

    /// The breaker.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }
}

#[async_trait]
impl<T: LlmProvider + ?Sized> LlmProvider for CircuitBreakerLayer<T> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion> {
        self.breaker.call(self.inner.complete(request)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn breaker(clock: &Arc<ManualClock>) -> CircuitBreaker {
        CircuitBreaker::new(
            NL2SQL,
            &CircuitBreakerConfig {
                enabled: true,
                failure_threshold: 3,
                reset_timeout_secs: 60,
                half_open_max_calls: 2,
            },
            clock.clone(),
        )
    }

    fn temporary() -> Result<()> {
        Err(Error::Provider {
            provider: "p".into(),
            status: Some(503),
            message: "HTTP 503".into(),
            request_id: None,
            retryable: true,
            retry_after: None,
        })
    }

    fn client_error() -> Result<()> {
        Err(Error::Provider {
            provider: "p".into(),
            status: Some(401),
            message: "HTTP 401".into(),
            request_id: None,
            retryable: false,
            retry_after: None,
        })
    }

    fn run(b: &CircuitBreaker, outcome: Result<()>) -> Result<()> {
        let permit = b.try_acquire()?;
        permit.record(&outcome);
        outcome
    }

    #[test]
    fn consecutive_failures_open_it_and_a_success_resets_the_count() {
        let clock = Arc::new(ManualClock::new());
        let b = breaker(&clock);
        let _ = run(&b, temporary());
        let _ = run(&b, temporary());
        run(&b, Ok(())).expect("closed");
        let _ = run(&b, temporary());
        let _ = run(&b, temporary());
        assert_eq!(
            b.state(),
            BreakerState::Closed,
            "two in a row after the success"
        );
        let _ = run(&b, temporary());
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn client_errors_do_not_count_as_failures() {
        let clock = Arc::new(ManualClock::new());
        let b = breaker(&clock);
        for _ in 0..10 {
            let _ = run(&b, client_error());
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn open_rejects_at_once_with_the_time_until_the_probe() {
        let clock = Arc::new(ManualClock::new());
        let b = breaker(&clock);
        for _ in 0..3 {
            let _ = run(&b, temporary());
        }
        clock.advance(Duration::from_secs(15));
        let e = b.try_acquire().expect_err("open");
        match &e {
            Error::CircuitOpen { service, retry_in } => {
                assert_eq!(service, NL2SQL);
                assert_eq!(*retry_in, Duration::from_secs(45));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(b.retry_in(), Some(Duration::from_secs(45)));
        assert!(e.to_string().contains("45 s"), "{e}");
    }

    #[test]
    fn half_open_lets_the_probes_through_and_closes_after_they_succeed() {
        let clock = Arc::new(ManualClock::new());
        let b = breaker(&clock);
        for _ in 0..3 {
            let _ = run(&b, temporary());
        }
        clock.advance(Duration::from_secs(60));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let p1 = b.try_acquire().expect("first probe");
        let p2 = b.try_acquire().expect("second probe");
        assert!(p1.is_probe() && p2.is_probe());
        assert!(
            matches!(b.try_acquire(), Err(Error::CircuitOpen { .. })),
            "only two probes at a time"
        );
        p1.record(&Ok(()));
        assert_eq!(
            b.state(),
            BreakerState::HalfOpen,
            "one success is not enough"
        );
        p2.record(&Ok(()));
        assert_eq!(b.state(), BreakerState::Closed);
        run(&b, Ok(())).expect("closed again");
    }

    #[test]
    fn a_failed_probe_opens_it_again_for_a_full_timeout() {
        let clock = Arc::new(ManualClock::new());
        let b = breaker(&clock);
        for _ in 0..3 {
            let _ = run(&b, temporary());
        }
        clock.advance(Duration::from_secs(61));
        let _ = run(&b, temporary());
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.retry_in(), Some(Duration::from_secs(60)));
        clock.advance(Duration::from_secs(59));
        assert!(b.try_acquire().is_err());
        clock.advance(Duration::from_secs(1));
        assert_eq!(b.state(), BreakerState::HalfOpen);
    }

    #[test]
    fn an_abandoned_probe_frees_its_slot_and_stale_permits_are_ignored() {
        let clock = Arc::new(ManualClock::new());
        let b = breaker(&clock);
        let stale = b.try_acquire().expect("closed");
        for _ in 0..3 {
            let _ = run(&b, temporary());
        }
        clock.advance(Duration::from_secs(60));
        let p1 = b.try_acquire().expect("probe");
        let p2 = b.try_acquire().expect("probe");
        drop(p1);
        let p3 = b.try_acquire().expect("the dropped probe's slot is free");
        stale.record(&temporary());
        assert_eq!(
            b.state(),
            BreakerState::HalfOpen,
            "a call admitted while closed does not move the half-open breaker"
        );
        p2.record(&Ok(()));
        p3.record(&Ok(()));
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn reset_closes_it_and_the_gauge_follows_every_transition() {
        let clock = Arc::new(ManualClock::new());
        let gauge = Gauge::default();
        let b = breaker(&clock).with_gauge(gauge.clone());
        assert_eq!(gauge.get(), 0);
        for _ in 0..3 {
            let _ = run(&b, temporary());
        }
        assert_eq!(gauge.get(), 1);
        clock.advance(Duration::from_secs(60));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(gauge.get(), 2);
        b.reset();
        assert_eq!(gauge.get(), 0);
        assert_eq!(b.state(), BreakerState::Closed);
        run(&b, Ok(())).expect("closed");
    }

    #[tokio::test]
    async fn the_layer_sends_nothing_while_open() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        #[derive(Debug, Default)]
        struct Down(AtomicUsize);
        #[async_trait]
        impl LlmProvider for Down {
            fn name(&self) -> &str {
                "down"
            }
            fn model(&self) -> &str {
                "m"
            }
            async fn complete(&self, _: &ChatRequest) -> Result<ChatCompletion> {
                self.0.fetch_add(1, Ordering::SeqCst);
                temporary().map(|()| unreachable!())
            }
        }
        let clock = Arc::new(ManualClock::new());
        let down = Arc::new(Down::default());
        let layer = CircuitBreakerLayer::new(down.clone(), breaker(&clock));
        let request = ChatRequest {
            messages: Vec::new(),
            temperature: 0.0,
            max_tokens: 1,
            json_response: false,
        };
        for _ in 0..10 {
            let _ = layer.complete(&request).await;
        }
        assert_eq!(
            down.0.load(Ordering::SeqCst),
            3,
            "calls stop at the threshold"
        );
        assert_eq!(layer.breaker().state(), BreakerState::Open);
    }
}
