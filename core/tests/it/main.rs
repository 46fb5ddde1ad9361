//! The integration tests of the engine, one binary with a module per area.

mod validator_guardrails;
mod validator_spider;
