//! The engine's circuit breaker around the LLM provider, as the API reports and resets it.
//!
//! This file is the only place where the API reads or resets the breaker. An engine without a
//! breaker (the rule generator, or `[production.circuit_breaker] enabled = false`) reports
//! [`BreakerStatus::Absent`].

use conversational_bi::{Engine, resilience::BreakerState};
use serde::Serialize;
use utoipa::ToSchema;

/// The service name of the breaker around SQL generation.
pub const SERVICE: &str = "nl2sql";

/// The state of the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerStatus {
    /// No breaker: the generator calls no remote service, or the breaker is disabled.
    Absent,
    /// Calls pass.
    Closed,
    /// Calls are refused until the reset timeout passes.
    Open,
    /// A few probe calls pass.
    HalfOpen,
}

impl BreakerStatus {
    /// Whether questions that need the provider fail fast now.
    pub fn is_open(self) -> bool {
        self == Self::Open
    }
}

/// The breaker's state.
pub fn status(engine: &Engine) -> BreakerStatus {
    engine
        .circuit_breaker_state()
        .map_or(BreakerStatus::Absent, |s| match s {
            BreakerState::Closed => BreakerStatus::Closed,
            BreakerState::Open => BreakerStatus::Open,
            BreakerState::HalfOpen => BreakerStatus::HalfOpen,
        })
}

/// Closes the breaker by hand (the runbook's manual reset).
pub fn reset(engine: &Engine) {
    engine.reset_circuit_breaker();
}
