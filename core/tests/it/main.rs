//! Integration tests of the engine core, one binary with a module per area.

mod ask_pipeline;
mod fake_openai;
mod rule_conversation;
