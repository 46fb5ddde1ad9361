//! Integration tests of the engine core, as modules of one test binary. What they share with
//! other crates' tests (loopback model servers, database URLs, Redis helpers, the
//! `CBI_TEST_SKIP` switch) is in the `testkit` crate.

mod ask_pipeline;
mod ask_stream;
mod breaker;
mod cache_engine;
mod cache_labelled;
mod cancel;
mod data_permissions;
mod db_behaviour;
mod db_guardrails;
mod differential;
mod insight;
mod lazy_engine;
mod permissions;
mod privacy_feedback;
mod prompt_context;
mod prompt_linking;
mod providers;
mod rate_limit_shared;
mod redis_faults;
mod restricted_data;
mod rule_conversation;
mod rule_dialects;
mod scope_chips;
mod semantic_models;
mod semantic_rule;
mod session_lists;
mod shared_stores;
mod sql_safety;
mod sqlite_policy;
mod tenants;
mod validator_guardrails;
mod validator_spider;
mod verified;
