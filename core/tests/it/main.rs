//! Integration tests of the engine core, as modules of one test binary.

mod common;
mod db_behaviour;
mod db_guardrails;
mod validator_guardrails;
mod validator_spider;
