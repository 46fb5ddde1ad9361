//! What the tests, benchmarks and examples of HeliosDB Conversational BI share.
//!
//! An unpublished crate, used as a dev-dependency, so that test code travels between crates as
//! a library and not by `#[path]` includes:
//!
//! - [`services`]: the `CBI_TEST_SKIP` switch ([`require`]) that every test needing
//!   PostgreSQL, MariaDB or Redis calls first;
//! - [`db`]: the test databases' URLs, the Chinook backends, connections with the setup hint;
//! - [`redis`]: key prefixes on the shared test Redis and private `redis-server` processes;
//! - [`llm`]: loopback servers speaking the OpenAI, Anthropic, Cohere and Ollama wire formats;
//! - [`loopback`]: the scripted OpenAI-format model of the server's tests and load benchmark;
//! - [`catalog`]: hand-made catalogs for tests that need a schema but no database;
//! - [`sessions`]: a probe and a full-reader session on one database, reopened together.
//!
//! It depends on `conversational-bi`, so only integration tests, benchmarks and examples can
//! use it; the engine's unit tests keep their fixtures inside the crate (a unit test linking
//! this crate would link a second copy of the engine).

pub mod catalog;
pub mod db;
pub mod llm;
pub mod loopback;
pub mod redis;
pub mod services;
pub mod sessions;

pub use services::{Service, require, require_database};

/// Serves `app` on loopback `port` (0: any free port) until the task is aborted; returns the
/// address it bound and the task.
async fn serve(
    app: axum::Router,
    port: u16,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:{port}: {e}"));
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, task)
}
