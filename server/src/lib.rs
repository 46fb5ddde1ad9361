//! The command-line tool and standalone HTTP server of HeliosDB Conversational BI.
//!
//! - [`cli`]: argument parsing and the commands;
//! - [`http`]: the HTTP API (`app(state) -> Router`), its authentication, errors and OpenAPI
//!   document;
//! - [`serve`]: the process around the API: runtime, listeners, metrics port, logs, signals.

pub mod cli;
pub mod http;
pub mod serve;
