//! Integration tests of the engine core, as modules of one test binary.

mod ask_pipeline;
mod common;
mod db_behaviour;
mod db_guardrails;
mod fake_openai;
mod prompt_context;
mod prompt_linking;
mod rule_conversation;
mod validator_guardrails;
mod validator_spider;
