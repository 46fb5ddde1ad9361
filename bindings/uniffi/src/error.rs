//! The one place where the engine's errors become the error of the foreign bindings.
//!
//! One enum with a variant per stable code of the engine (`ErrorKind::code`); each variant
//! carries the engine's message (`reason`; a field named `message` would clash with Kotlin's
//! `Throwable.message`) and the fields that apply (`sql`, `retry_after_secs`, ...).
//! Kotlin sees `ConversationalBiException.RateLimited`, Swift `ConversationalBiError.RateLimited`,
//! Python `ConversationalBiError.RateLimited`.

use conversational_bi::{Error as CoreError, ErrorKind};

/// Everything the engine can fail with, one variant per stable error code.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum ConversationalBiError {
    /// `CONFIG`: the configuration is invalid (a bad file, an unknown key, a wrong type).
    #[error("{reason}")]
    Config {
        /// What is wrong and what to do.
        reason: String,
        /// The offending key as a dotted path (`llm.provider`), when known.
        key: Option<String>,
    },
    /// `INVALID_INPUT`: the question or an argument is unusable (empty, too long).
    #[error("{reason}")]
    InvalidInput {
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// `SQL_REJECTED`: the SQL validator refused the statement; nothing reached the database.
    #[error("{reason}")]
    SqlRejected {
        /// Why, in words a person can act on.
        reason: String,
        /// The refused statement.
        sql: String,
        /// The validator rule that refused it (`not_a_query`, `unknown_table`, ...).
        rule: String,
    },
    /// `DATABASE_UNAVAILABLE`: the database could not be reached (retryable).
    #[error("{reason}")]
    DatabaseUnavailable {
        /// What failed, without connection secrets.
        reason: String,
    },
    /// `EXECUTION`: the database refused or failed the statement.
    #[error("{reason}")]
    Execution {
        /// The database's message.
        reason: String,
    },
    /// `TIMEOUT`: the statement ran past `[database] statement_timeout_ms` and was cancelled.
    #[error("{reason}")]
    Timeout {
        /// What happened and what to change.
        reason: String,
    },
    /// `PROVIDER`: the LLM provider failed or answered with something unusable.
    #[error("{reason}")]
    Provider {
        /// The provider's message (never the key).
        reason: String,
        /// `openai`, ... or `model` for an unusable reply.
        provider: String,
        /// The HTTP status, when the provider answered.
        status: Option<u16>,
        /// Whether trying again later may succeed.
        retryable: bool,
        /// Seconds the provider asked to wait (its `Retry-After`), when it said.
        retry_after_secs: Option<f64>,
    },
    /// `CANNOT_ANSWER`: the offline generator did not understand the question.
    #[error("{reason}")]
    CannotAnswer {
        /// Which words were not understood and what can be asked.
        reason: String,
        /// The words no rule, schema name or known value explained.
        unknown_words: Vec<String>,
    },
    /// `RATE_LIMITED`: the tenant asked more often than its quota allows (retryable).
    #[error("{reason}")]
    RateLimited {
        /// The message, naming the tenant and the setting to raise.
        reason: String,
        /// Seconds until a request will be admitted.
        retry_after_secs: f64,
    },
    /// `CIRCUIT_OPEN`: the circuit breaker around the provider is open (retryable).
    #[error("{reason}")]
    CircuitOpen {
        /// The message.
        reason: String,
        /// Seconds until the breaker lets a probe through.
        retry_after_secs: f64,
    },
    /// `SERVICE_UNAVAILABLE`: a shared service (Redis, ...) is unreachable (retryable).
    #[error("{reason}")]
    ServiceUnavailable {
        /// What failed, without secrets.
        reason: String,
    },
    /// `INTERNAL`: a bug or an unexpected state inside the engine.
    #[error("{reason}")]
    Internal {
        /// What happened.
        reason: String,
    },
}

impl ConversationalBiError {
    /// The engine's stable code of this error (`RATE_LIMITED`, `SQL_REJECTED`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config { .. } => "CONFIG",
            Self::InvalidInput { .. } => "INVALID_INPUT",
            Self::SqlRejected { .. } => "SQL_REJECTED",
            Self::DatabaseUnavailable { .. } => "DATABASE_UNAVAILABLE",
            Self::Execution { .. } => "EXECUTION",
            Self::Timeout { .. } => "TIMEOUT",
            Self::Provider { .. } => "PROVIDER",
            Self::CannotAnswer { .. } => "CANNOT_ANSWER",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::CircuitOpen { .. } => "CIRCUIT_OPEN",
            Self::ServiceUnavailable { .. } => "SERVICE_UNAVAILABLE",
            Self::Internal { .. } => "INTERNAL",
        }
    }
}

impl From<CoreError> for ConversationalBiError {
    fn from(e: CoreError) -> Self {
        let reason = e.to_string();
        let retry_after = e.retry_after().map(|d| d.as_secs_f64());
        let retry_after_secs = retry_after.unwrap_or(0.0);
        match e.kind() {
            ErrorKind::Config => Self::Config {
                reason,
                key: match e {
                    CoreError::Config { key, .. } => key,
                    _ => None,
                },
            },
            ErrorKind::InvalidInput => Self::InvalidInput { reason },
            ErrorKind::SqlRejected => match e {
                CoreError::SqlRejected { rule, sql, .. } => Self::SqlRejected {
                    reason,
                    sql,
                    rule: rule.to_string(),
                },
                _ => Self::SqlRejected {
                    reason,
                    sql: String::new(),
                    rule: String::new(),
                },
            },
            ErrorKind::DatabaseUnavailable => Self::DatabaseUnavailable { reason },
            ErrorKind::Execution => Self::Execution { reason },
            ErrorKind::Timeout => Self::Timeout { reason },
            ErrorKind::Provider => {
                let retryable = e.is_retryable();
                let (provider, status) = match e {
                    CoreError::Provider {
                        provider, status, ..
                    } => (provider, status),
                    _ => (String::new(), None),
                };
                Self::Provider {
                    reason,
                    provider,
                    status,
                    retryable,
                    retry_after_secs: retry_after,
                }
            }
            ErrorKind::CannotAnswer => Self::CannotAnswer {
                reason,
                unknown_words: match e {
                    CoreError::CannotAnswer { unknown_words, .. } => unknown_words,
                    _ => Vec::new(),
                },
            },
            ErrorKind::RateLimited => Self::RateLimited {
                reason,
                retry_after_secs,
            },
            ErrorKind::CircuitOpen => Self::CircuitOpen {
                reason,
                retry_after_secs,
            },
            ErrorKind::ServiceUnavailable => Self::ServiceUnavailable { reason },
            // `ErrorKind` is non-exhaustive: a kind added to the engine later reaches the
            // bindings as INTERNAL, with its own code in the message, until it is mapped here.
            ErrorKind::Internal => Self::Internal { reason },
            other => Self::Internal {
                reason: format!("{}: {reason}", other.code()),
            },
        }
    }
}

/// The stable code of an error (`RATE_LIMITED`, `SQL_REJECTED`, ...), for logs and telemetry.
#[uniffi::export]
pub fn error_code(error: &ConversationalBiError) -> String {
    error.code().to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use conversational_bi::sql::RejectRule;

    use super::*;

    /// One instance of every variant of the engine's error, so that a variant added there
    /// without a mapping here shows up as a failing code below.
    fn every_core_error() -> Vec<CoreError> {
        vec![
            CoreError::Config {
                message: "bad".into(),
                key: Some("llm.provider".into()),
                file: None,
                line: None,
            },
            CoreError::invalid_input("empty"),
            CoreError::SqlRejected {
                rule: RejectRule::NotAQuery,
                reason: "writes".into(),
                sql: "DELETE FROM t".into(),
            },
            CoreError::DatabaseUnavailable {
                message: "refused".into(),
            },
            CoreError::Execution {
                message: "overflow".into(),
            },
            CoreError::Timeout { timeout_ms: 5 },
            CoreError::Provider {
                provider: "openai".into(),
                status: Some(503),
                message: "busy".into(),
                request_id: None,
                retryable: true,
                retry_after: Some(Duration::from_secs(2)),
            },
            CoreError::CannotAnswer {
                message: "what is frobnicate".into(),
                unknown_words: vec!["frobnicate".into()],
            },
            CoreError::RateLimited {
                tenant_id: "acme".into(),
                retry_after: Duration::from_millis(1500),
            },
            CoreError::CircuitOpen {
                service: "nl2sql".into(),
                retry_in: Duration::from_secs(30),
            },
            CoreError::ServiceUnavailable {
                service: "redis".into(),
                message: "refused".into(),
            },
            CoreError::internal("bug"),
        ]
    }

    #[test]
    fn every_kind_maps_to_the_variant_with_its_code() {
        for core in every_core_error() {
            let code = core.kind().code();
            let message = core.to_string();
            let mapped = ConversationalBiError::from(core);
            assert_eq!(mapped.code(), code);
            assert_eq!(error_code(&mapped), code);
            assert_eq!(mapped.to_string(), message, "the message is the engine's");
        }
    }

    #[test]
    fn fields_come_along() {
        let errors: Vec<_> = every_core_error()
            .into_iter()
            .map(ConversationalBiError::from)
            .collect();
        assert!(errors.contains(&ConversationalBiError::SqlRejected {
            reason: "SQL rejected (not_a_query): writes".into(),
            sql: "DELETE FROM t".into(),
            rule: "not_a_query".into(),
        }));
        assert!(errors.iter().any(|e| matches!(
            e,
            ConversationalBiError::RateLimited { retry_after_secs, .. } if *retry_after_secs == 1.5
        )));
        assert!(errors.iter().any(|e| matches!(
            e,
            ConversationalBiError::CircuitOpen { retry_after_secs, .. } if *retry_after_secs == 30.0
        )));
        assert!(errors.iter().any(|e| matches!(
            e,
            ConversationalBiError::Provider { provider, status: Some(503), retryable: true, retry_after_secs: Some(s), .. } if provider == "openai" && *s == 2.0
        )));
        assert!(errors.iter().any(|e| matches!(
            e,
            ConversationalBiError::Config { key: Some(k), .. } if k == "llm.provider"
        )));
        assert!(errors.iter().any(|e| matches!(
            e,
            ConversationalBiError::CannotAnswer { unknown_words, .. } if unknown_words == &["frobnicate"]
        )));
    }
}
