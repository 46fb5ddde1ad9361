//! HeliosDB Conversational BI: the engine core.
//!
//! A business question, asked in plain words and refined over many turns, becomes safe read-only
//! SQL that runs against the user's own database. This crate holds the stages of that pipeline
//! (see `DESIGN.md`); the server binary and the language bindings are thin layers over it.
//!
//! The layers available today:
//! - [`config`]: the runbook's TOML configuration with environment overrides;
//! - [`catalog`]: what the engine knows of a database's schema;
//! - [`exec`]: pooled, read-only execution on SQLite, PostgreSQL and MariaDB/MySQL, with catalog
//!   introspection;
//! - [`sql`]: the SQL validator that every generated statement must pass;
//! - [`metrics`]: the Prometheus metrics, registered in a registry the caller owns;
//! - [`demo`]: the Chinook demo database that ships inside the crate;
//! - [`source`]: a connected database with its catalog and validator;
//! - [`text`]: reading text (tokens, words, numbers and months, singulars, accent folding, the
//!   comparison and order phrases), shared by every reader of a question;
//! - [`values`]: the index of a database's known values ("Germany", "Rock"), built once per
//!   source and shared by the rule generator, the LLM prompt and the semantic cache;
//! - [`embed`]: the embedding seam shared by the semantic cache and schema ranking;
//! - [`llm`]: the OpenAI, Anthropic, Cohere and Ollama providers and their embeddings;
//! - [`resilience`]: retry with backoff and the circuit breaker, as layers around providers, and
//!   per-tenant rate limits;
//! - [`eval`]: golden question sets and schema-linking recall.
//! - [`cache`]: the semantic cache with its slot guard;
//! - [`store`]: the Redis connection and clock shared by sessions, cache and rate limits.
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

pub mod answer;
pub mod cache;
pub mod catalog;
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
pub mod generate;
pub mod guard;
mod lazy;
pub mod llm;
pub mod metrics;
pub mod resilience;
pub mod session;
pub mod source;
pub mod sql;
pub mod store;
pub mod text;
pub mod values;

#[cfg(test)]
pub(crate) mod testdb;

pub use answer::Answer;
pub use catalog::Catalog;
pub use config::Config;
pub use dialect::Dialect;
pub use engine::{Ask, Engine, LazyEngine};
pub use error::{Error, ErrorKind, Result};
pub use source::DataSource;

/// The Rust examples of the repository's README, compiled (and run, unless `no_run`) by
/// `cargo test --doc`. One item per Markdown file with Rust code.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

/// The Rust examples of `docs/rust.md`, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../docs/rust.md")]
pub struct RustLibraryDocExamples;
