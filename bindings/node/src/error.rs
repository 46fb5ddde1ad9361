//! The one place where the engine's errors become JavaScript errors.
//!
//! Every failure reaches JavaScript as an `Error` instance whose `code` is the engine's stable
//! code (`ErrorKind::code`), with `retryable` always set and, where they apply, `retryAfter`
//! (seconds), `sql`, `rule`, `key`, `unknownWords`, `provider` and `status`. The message is the
//! engine's, written for the person who has to act on it; it never holds a secret.

use conversational_bi::{Error as CoreError, ErrorKind};
use napi::{Env, bindgen_prelude::*};

/// The extra properties a JavaScript error carries besides `message` and `code`.
#[derive(Debug, Default, PartialEq)]
pub struct ErrorFields {
    /// The stable code.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// Whether the same call may succeed later, unchanged.
    pub retryable: bool,
    /// Seconds to wait before trying again (`RATE_LIMITED`, `CIRCUIT_OPEN`).
    pub retry_after: Option<f64>,
    /// The refused statement (`SQL_REJECTED`).
    pub sql: Option<String>,
    /// The validator rule that refused it (`SQL_REJECTED`).
    pub rule: Option<String>,
    /// The offending configuration key (`CONFIG`).
    pub key: Option<String>,
    /// The words the offline generator did not understand (`CANNOT_ANSWER`).
    pub unknown_words: Option<Vec<String>>,
    /// The provider that failed (`PROVIDER`).
    pub provider: Option<String>,
    /// The provider's HTTP status (`PROVIDER`).
    pub status: Option<u32>,
}

/// Maps an engine error to the fields of its JavaScript error. Only `kind()` picks the code.
pub fn fields(e: &CoreError) -> ErrorFields {
    let mut f = ErrorFields {
        code: e.kind().code(),
        message: e.to_string(),
        retryable: e.is_retryable(),
        retry_after: e.retry_after().map(|d| d.as_secs_f64()),
        ..ErrorFields::default()
    };
    match e {
        CoreError::SqlRejected { rule, sql, .. } => {
            f.sql = Some(sql.clone());
            f.rule = Some(rule.to_string());
        }
        CoreError::Config { key, .. } => f.key = key.clone(),
        CoreError::CannotAnswer { unknown_words, .. } => {
            f.unknown_words = Some(unknown_words.clone());
        }
        CoreError::Provider {
            provider, status, ..
        } => {
            f.provider = Some(provider.clone());
            f.status = status.map(u32::from);
        }
        _ => {}
    }
    debug_assert!(e.kind() != ErrorKind::SqlRejected || f.sql.is_some());
    f
}

/// Builds the JavaScript `Error` for `e` and wraps it so that napi throws (or rejects with) that
/// very object.
pub fn to_js(env: &Env, e: &CoreError) -> napi::Error {
    match build(env, &fields(e)) {
        Ok(err) => err,
        // Building the object can only fail while the environment shuts down; a plain error
        // with the code still gets out when anything can.
        Err(_) => napi::Error::new(Status::GenericFailure, format!("{}: {e}", e.kind().code())),
    }
}

fn build(env: &Env, f: &ErrorFields) -> Result<napi::Error> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, &f.message))?;
    obj.set("code", f.code)?;
    obj.set("retryable", f.retryable)?;
    if let Some(s) = f.retry_after {
        obj.set("retryAfter", s)?;
    }
    if let Some(sql) = &f.sql {
        obj.set("sql", sql.as_str())?;
    }
    if let Some(rule) = &f.rule {
        obj.set("rule", rule.as_str())?;
    }
    if let Some(key) = &f.key {
        obj.set("key", key.as_str())?;
    }
    if let Some(words) = &f.unknown_words {
        obj.set("unknownWords", words.clone())?;
    }
    if let Some(p) = &f.provider {
        obj.set("provider", p.as_str())?;
    }
    if let Some(s) = f.status {
        obj.set("status", s)?;
    }
    Ok(napi::Error::from(obj.to_unknown()))
}
