//! The one error type of the engine.
//!
//! Every failure the engine can report is a variant of [`Error`]. Callers branch on
//! [`Error::kind`] (a small, stable code that bindings and the HTTP layer map in one place) and
//! retry layers read only [`Error::is_retryable`]. Messages are written for the person (or the
//! model) that has to act on them, and never contain a secret.

use std::{path::PathBuf, time::Duration};

use crate::sql::RejectRule;

/// The result type of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the engine.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid: a bad file, an unknown key, a wrong type or a bad value.
    #[error("{message}")]
    Config {
        /// What is wrong and what to do, naming the key, file and line when known.
        message: String,
        /// The offending key as a dotted path (`server.port`), when known.
        key: Option<String>,
        /// The configuration file, when the error came from one.
        file: Option<PathBuf>,
        /// The 1-based line in that file, when known.
        line: Option<usize>,
    },

    /// The caller's input is unusable (empty, too long, malformed).
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What is wrong with the input and how to fix it.
        message: String,
    },

    /// The SQL validator refused a statement; nothing reached the database.
    #[error("SQL rejected ({rule}): {reason}")]
    SqlRejected {
        /// The rule that refused the statement (stable, snake_case).
        rule: RejectRule,
        /// Why, in words a person or a model can act on.
        reason: String,
        /// The statement as submitted.
        sql: String,
    },

    /// The database could not be reached (connection refused, pool exhausted, network error).
    #[error("database unavailable: {message}")]
    DatabaseUnavailable {
        /// What failed, with connection secrets removed.
        message: String,
    },

    /// The database refused or failed the statement.
    #[error("query failed: {message}")]
    Execution {
        /// The database's own message.
        message: String,
    },

    /// The statement ran longer than the configured statement timeout and was cancelled.
    #[error(
        "query cancelled after the {timeout_ms} ms statement timeout; narrow the question or raise [database] statement_timeout_ms"
    )]
    Timeout {
        /// The timeout that was exceeded.
        timeout_ms: u64,
    },

    /// The LLM provider failed or answered with something unusable.
    #[error("{provider} provider error: {message}")]
    Provider {
        /// `openai`, `anthropic`, `cohere`, `ollama` or `model` (an unusable reply).
        provider: String,
        /// The HTTP status, when the provider answered.
        status: Option<u16>,
        /// The provider's message (never the key).
        message: String,
        /// The provider's request id, when it sent one.
        request_id: Option<String>,
        /// Whether trying again later may succeed (429, 5xx, timeouts, connection errors).
        retryable: bool,
        /// How long the provider asked us to wait (its `Retry-After` header), when it said.
        retry_after: Option<Duration>,
    },

    /// The offline generator did not understand the question and abstained rather than guess.
    #[error("{message}")]
    CannotAnswer {
        /// Which words were not understood and what kinds of questions can be answered.
        message: String,
        /// The words of the question that no rule, schema name or known value explained.
        unknown_words: Vec<String>,
    },

    /// The tenant asked more often than its quota allows.
    #[error(
        "rate limit exceeded for tenant '{tenant_id}': try again in {} s, or raise its quota in [production.rate_limiting.tenants.{tenant_id}]",
        retry_after.as_secs_f64().ceil() as u64
    )]
    RateLimited {
        /// The tenant whose quota is spent.
        tenant_id: String,
        /// How long until a request will be admitted.
        retry_after: Duration,
    },

    /// The circuit breaker around the LLM provider is open and no fallback is configured.
    #[error(
        "the {service} circuit breaker is open after repeated provider failures; the next probe is in {} s (set [llm] fallback = \"rule\" to answer offline meanwhile)",
        retry_in.as_secs_f64().ceil() as u64
    )]
    CircuitOpen {
        /// The protected service (`nl2sql`).
        service: String,
        /// Time until the breaker lets a probe through.
        retry_in: Duration,
    },

    /// A shared service the engine needs (Redis for sessions, say) is unreachable.
    #[error("{service} unavailable: {message}")]
    ServiceUnavailable {
        /// The service (`redis`, ...).
        service: String,
        /// What failed, with secrets removed.
        message: String,
    },

    /// A bug or an unexpected state inside the engine.
    #[error("internal error: {message}")]
    Internal {
        /// What happened.
        message: String,
    },
}

/// Stable error codes, one per kind of failure. The string forms never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `CONFIG`
    Config,
    /// `INVALID_INPUT`
    InvalidInput,
    /// `SQL_REJECTED`
    SqlRejected,
    /// `DATABASE_UNAVAILABLE`
    DatabaseUnavailable,
    /// `EXECUTION`
    Execution,
    /// `TIMEOUT`
    Timeout,
    /// `PROVIDER`
    Provider,
    /// `CANNOT_ANSWER`
    CannotAnswer,
    /// `RATE_LIMITED`
    RateLimited,
    /// `CIRCUIT_OPEN`
    CircuitOpen,
    /// `SERVICE_UNAVAILABLE`
    ServiceUnavailable,
    /// `INTERNAL`
    Internal,
}

impl ErrorKind {
    /// The stable code, e.g. `SQL_REJECTED`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Config => "CONFIG",
            Self::InvalidInput => "INVALID_INPUT",
            Self::SqlRejected => "SQL_REJECTED",
            Self::DatabaseUnavailable => "DATABASE_UNAVAILABLE",
            Self::Execution => "EXECUTION",
            Self::Timeout => "TIMEOUT",
            Self::Provider => "PROVIDER",
            Self::CannotAnswer => "CANNOT_ANSWER",
            Self::RateLimited => "RATE_LIMITED",
            Self::CircuitOpen => "CIRCUIT_OPEN",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Config { .. } => ErrorKind::Config,
            Self::InvalidInput { .. } => ErrorKind::InvalidInput,
            Self::SqlRejected { .. } => ErrorKind::SqlRejected,
            Self::DatabaseUnavailable { .. } => ErrorKind::DatabaseUnavailable,
            Self::Execution { .. } => ErrorKind::Execution,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Provider { .. } => ErrorKind::Provider,
            Self::CannotAnswer { .. } => ErrorKind::CannotAnswer,
            Self::RateLimited { .. } => ErrorKind::RateLimited,
            Self::CircuitOpen { .. } => ErrorKind::CircuitOpen,
            Self::ServiceUnavailable { .. } => ErrorKind::ServiceUnavailable,
            Self::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// Whether the same request may succeed if tried again later, unchanged.
    ///
    /// An unreachable database is temporary; a rejected statement, a bad configuration or a
    /// query that timed out will fail again the same way.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::DatabaseUnavailable { .. }
            | Self::RateLimited { .. }
            | Self::CircuitOpen { .. }
            | Self::ServiceUnavailable { .. } => true,
            Self::Provider { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// A configuration error that is not tied to a file position.
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
            key: None,
            file: None,
            line: None,
        }
    }

    /// An invalid-input error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            message: message.into(),
        }
    }

    /// How long the caller should wait before trying again, when the error says.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            Self::CircuitOpen { retry_in, .. } => Some(*retry_in),
            Self::Provider { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// An internal error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal {
            message: message.into(),
        }
    }
}

/// Removes the password (and any `password=` query parameter) from a connection URL so that it
/// can appear in a message.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let pw_start = rest_start + colon + 1;
                let pw_end = rest_start + at;
                out.replace_range(pw_start..pw_end, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let redacted: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _))
                    if k.eq_ignore_ascii_case("password")
                        || k.eq_ignore_ascii_case("sslpassword") =>
                {
                    format!("{k}=***")
                }
                _ => kv.to_string(),
            })
            .collect();
        out = format!("{head}{}", redacted.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_stable_codes() {
        let e = Error::Timeout { timeout_ms: 5 };
        assert_eq!(e.kind().code(), "TIMEOUT");
        assert!(!e.is_retryable());
        let e = Error::DatabaseUnavailable {
            message: "refused".into(),
        };
        assert_eq!(e.kind(), ErrorKind::DatabaseUnavailable);
        assert!(e.is_retryable());
        assert_eq!(Error::config("x").kind().to_string(), "CONFIG");
        let e = Error::CannotAnswer {
            message: "I did not understand \"frobnicate\"".into(),
            unknown_words: vec!["frobnicate".into()],
        };
        assert_eq!(e.kind().code(), "CANNOT_ANSWER");
        assert!(!e.is_retryable());
        let e = Error::RateLimited {
            tenant_id: "acme".into(),
            retry_after: Duration::from_millis(1200),
        };
        assert_eq!(e.kind().code(), "RATE_LIMITED");
        assert_eq!(e.retry_after(), Some(Duration::from_millis(1200)));
        assert!(e.to_string().contains("try again in 2 s"), "{e}");
        assert!(e.to_string().contains("tenants.acme"), "{e}");
        let e = Error::CircuitOpen {
            service: "nl2sql".into(),
            retry_in: Duration::from_secs(42),
        };
        assert_eq!(e.kind().code(), "CIRCUIT_OPEN");
        assert!(e.to_string().contains("42 s"), "{e}");
        assert!(e.is_retryable());
    }

    #[test]
    fn redact_url_hides_passwords() {
        assert_eq!(
            redact_url("postgres://bi:s3cret@db:5432/x"),
            "postgres://bi:***@db:5432/x"
        );
        assert_eq!(
            redact_url("mysql://root@localhost/x"),
            "mysql://root@localhost/x"
        );
        assert_eq!(
            redact_url("postgres://db/x?user=a&password=s3cret&sslmode=require"),
            "postgres://db/x?user=a&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("sqlite://./x.db?mode=ro"),
            "sqlite://./x.db?mode=ro"
        );
        assert!(!redact_url("postgres://u:p%40ss@h/db").contains("p%40ss"));
    }
}
