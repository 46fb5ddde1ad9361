//! Integration tests of the engine core, as modules of one test binary.

mod ask_pipeline;
mod breaker;
mod cache_engine;
mod cache_labelled;
mod common;
mod db_behaviour;
mod db_guardrails;
mod differential;
mod fake_openai;
mod lazy_engine;
mod privacy_feedback;
mod prompt_context;
mod prompt_linking;
mod providers;
mod rate_limit_shared;
mod redis_faults;
mod redis_support;
mod restricted_data;
mod rule_conversation;
mod shared_stores;
mod sql_safety;
mod sqlite_policy;
mod validator_guardrails;
mod validator_spider;

/// The loopback LLM servers of every provider (declared once, inside `fake_openai`).
use fake_openai::fake_llm;
