//! Integration tests of the engine core, as modules of one test binary.

mod ask_pipeline;
mod breaker;
mod common;
mod db_behaviour;
mod db_guardrails;
mod fake_openai;
mod providers;
mod rule_conversation;
mod validator_guardrails;
mod validator_spider;

/// The loopback LLM servers of every provider (declared once, inside `fake_openai`).
use fake_openai::fake_llm;
