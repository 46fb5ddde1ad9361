//! HeliosDB Conversational BI: the engine core.
//!
//! A business question, asked in plain words and refined over many turns, becomes safe read-only
//! SQL that runs against the user's own database. The server binary and the language bindings
//! are thin layers over this crate; `docs/architecture.md` in the repository is the map of it.
//!
//! Most programs need only the items at the crate root: [`Config`], [`Engine`] (or
//! [`LazyEngine`]), [`Ask`], [`Answer`] and [`Error`]. The modules hold the rest of the API:
//! - [`engine`]: the engine, its builder (parts other than those of the configuration) and
//!   [`Health`](engine::Health);
//! - [`config`]: the runbook's TOML configuration, assembled by
//!   [`Config::from_sources`] from defaults, files, text, overrides and the environment;
//! - [`answer`], [`error`]: what an ask returns; [`chart`]: the chart of an answer, a Vega-Lite
//!   specification built from the result;
//! - the seams, each a trait with its implementations: [`generate`] (`SqlGenerator`: the
//!   offline rule generator, a model, the fallback), [`llm`] (`LlmProvider`: OpenAI, Anthropic,
//!   Cohere, Ollama), [`embed`] (`Embedder`), [`session`] (`SessionStore`), [`cache`]
//!   (`CacheStore` and the semantic cache), [`exec`] (`Executor`: SQLite, PostgreSQL,
//!   MariaDB/MySQL), [`clock`] (`Clock`);
//! - the layers around them: [`resilience`] (retry, circuit breaker, per-tenant rate limits);
//! - [`source`] ([`DataSource`]: a connected database with its catalog and validator),
//!   [`catalog`], [`sql`] (the validator every statement passes), [`dialect`];
//! - [`metrics`] (Prometheus metrics in a registry the caller owns), [`store`] (the Redis
//!   connection the shared stores use), [`demo`] (the Chinook demo database inside the crate);
//! - [`eval`]: golden questions, execution accuracy and schema-linking recall;
//! - [`feedback`]: ratings and corrections of answers, promoted to verified queries
//!   (`FeedbackStore`: a SQLite file or PostgreSQL).
//!
//! # Cargo features
//!
//! The default features hold every backend. A build can leave some out: `sqlite`, `postgres`
//! and `mysql` (the database drivers; the built-in demo database is SQLite), `redis` (sessions,
//! cache and rate limits kept in Redis) and `providers` (the OpenAI, Anthropic, Cohere and
//! Ollama providers, over HTTP). The configuration has the same keys in every build; one that
//! names a backend the build leaves out is refused with an [`Error::Config`] naming the missing
//! feature.

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!(
    "conversational-bi needs at least one database feature: enable `sqlite`, `postgres` or `mysql` (the default features enable all three)"
);

pub mod access;
pub mod answer;
pub mod cache;
pub mod catalog;
pub mod chart;
pub mod clock;
pub mod config;
pub mod demo;
pub mod dialect;
pub mod embed;
pub mod engine;
pub mod error;
pub mod eval;
pub mod exec;
mod features;
pub mod feedback;
pub mod generate;
mod guard;
pub mod insight;
mod lazy;
pub mod llm;
pub mod metrics;
pub mod resilience;
pub mod semantic;
pub mod session;
pub mod source;
pub mod sql;
pub mod store;
pub mod stream;
mod tenants;
pub(crate) mod text;
pub(crate) mod values;

#[cfg(test)]
pub(crate) mod testdb;

pub use access::Principal;
pub use answer::Answer;
pub use catalog::Catalog;
pub use config::Config;
pub use dialect::Dialect;
pub use engine::{Ask, Engine, LazyEngine};
pub use error::{Error, ErrorKind, Result};
pub use feedback::{
    Feedback, FeedbackFilter, FeedbackStatus, FeedbackSubmission, PromotedQuery, Promotion, Rating,
};
pub use source::DataSource;
pub use stream::{AskEvent, AskEvents, AskStream};

/// Every type the engine shares between tasks and threads is `Send + Sync`: the one list,
/// checked when the crate compiles.
const _: () = {
    const fn shared<T: ?Sized + Send + Sync + 'static>() {}
    // The engine and what it is built from.
    shared::<Engine>();
    shared::<LazyEngine>();
    shared::<engine::EngineBuilder>();
    shared::<Config>();
    shared::<DataSource>();
    shared::<tenants::Sources>();
    shared::<Catalog>();
    shared::<sql::Validator>();
    shared::<Error>();
    shared::<metrics::Metrics>();
    shared::<clock::ManualClock>();
    shared::<clock::SystemClock>();
    // The seams, as the engine holds them.
    shared::<dyn exec::Executor>();
    shared::<dyn generate::SqlGenerator>();
    shared::<dyn llm::LlmProvider>();
    shared::<dyn embed::Embedder>();
    shared::<dyn session::SessionStore>();
    shared::<dyn cache::CacheStore>();
    shared::<dyn resilience::rate_limit::RateLimiter>();
    shared::<dyn clock::Clock>();
    shared::<dyn feedback::FeedbackStore>();
    // Their implementations and the layers around them.
    shared::<generate::RuleGenerator>();
    shared::<generate::LlmGenerator>();
    shared::<generate::FallbackGenerator>();
    shared::<generate::prompt::PromptContext>();
    shared::<embed::BuiltinEmbedder>();
    shared::<embed::RecentEmbeddings>();
    shared::<cache::SemanticCache>();
    shared::<cache::MemoryCacheStore>();
    shared::<session::MemorySessionStore>();
    shared::<resilience::rate_limit::MemoryRateLimiter>();
    shared::<resilience::rate_limit::RateLimit>();
    shared::<resilience::CircuitBreaker>();
    shared::<resilience::CircuitBreakerLayer<dyn llm::LlmProvider>>();
    shared::<resilience::RetryLayer<dyn llm::LlmProvider>>();
    shared::<resilience::RetryLayer<dyn embed::Embedder>>();
    #[cfg(feature = "redis")]
    {
        shared::<store::RedisConnection>();
        shared::<cache::RedisCacheStore>();
        shared::<session::RedisSessionStore>();
        shared::<resilience::rate_limit::RedisRateLimiter>();
    }
    #[cfg(feature = "providers")]
    {
        shared::<llm::OpenAiProvider>();
        shared::<llm::AnthropicProvider>();
        shared::<llm::CohereProvider>();
        shared::<llm::OllamaProvider>();
        shared::<llm::OpenAiEmbedder>();
        shared::<llm::CohereEmbedder>();
        shared::<llm::OllamaEmbedder>();
    }
};

/// The Rust examples of the repository's README, compiled (and run, unless `no_run`) by
/// `cargo test --doc`. One item per Markdown file with Rust code.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

/// The Rust examples of `docs/rust.md`, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../docs/rust.md")]
pub struct RustLibraryDocExamples;

/// The Rust example of `docs/feedback.md`, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../docs/feedback.md")]
pub struct FeedbackDocExamples;
