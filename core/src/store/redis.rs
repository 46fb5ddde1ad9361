//! The Redis connection shared by the Redis session store, semantic cache and rate limiter.
//!
//! One multiplexed connection per engine, reconnected in the background after a failure. Every
//! command has a deadline, so that a Redis that is down or slow costs a request at most
//! `timeout` instead of hanging it; the callers decide what an unreachable Redis means (a cache
//! miss, the local rate limiter, or a clear `SERVICE_UNAVAILABLE` for sessions). Keys start with
//! a configurable prefix, so that several deployments (or tests) can share one server.

use std::{future::Future, sync::Arc, time::Duration};

use redis::{
    Client, RedisError, RedisResult,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use crate::error::{Error, Result, redact_url};

/// How to talk to Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// The first part of every key (`cbi` gives `cbi:session:...`).
    pub key_prefix: String,
    /// Deadline of one command, connecting included.
    pub timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            key_prefix: "cbi".into(),
            timeout: Duration::from_millis(1000),
        }
    }
}

/// A connection to Redis, cheap to clone (clones share the connection).
#[derive(Clone)]
pub struct RedisConnection {
    manager: ConnectionManager,
    /// The URL without its password, for messages.
    shown_url: Arc<str>,
    /// The password, only to scrub it from the driver's messages.
    password: Option<Arc<str>>,
    prefix: Arc<str>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConnection")
            .field("url", &self.shown_url)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisConnection {
    /// Prepares a connection to `url` (`redis://[:password@]host[:port][/db]`). Nothing is sent
    /// yet: the connection is made on first use, so an engine starts even while Redis is down.
    /// Must be called inside a Tokio runtime.
    pub async fn open(url: &str, options: RedisOptions) -> Result<Self> {
        let shown_url: Arc<str> = redact_url(url).into();
        if url.starts_with("rediss://") {
            return Err(Error::config(format!(
                "redis.url {shown_url}: TLS (rediss://) is not supported by this build; use redis:// on a private network, or a TLS-terminating proxy next to each instance"
            )));
        }
        let client = Client::open(url).map_err(|e| {
            Error::config(format!(
                "redis.url {shown_url} is not a valid Redis URL ({}); use redis://[:password@]host[:port][/db]",
                scrub(&e.to_string(), url)
            ))
        })?;
        // No retries inside the manager: a request must fail fast when Redis is down, and the
        // next request tries to connect again.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout));
        let manager = ConnectionManager::new_lazy_with_config(client, config).map_err(|e| {
            Error::config(format!(
                "redis.url {shown_url}: {}",
                scrub(&e.to_string(), url)
            ))
        })?;
        let prefix = options.key_prefix.trim_end_matches(':').to_string();
        Ok(Self {
            manager,
            shown_url,
            password: password_of(url).filter(|p| !p.is_empty()).map(Arc::from),
            prefix: prefix.into(),
            timeout: options.timeout,
        })
    }

    /// The URL with its password removed.
    pub fn shown_url(&self) -> &str {
        &self.shown_url
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A key: the prefix and `parts` joined by `:`, each part escaped with [`key_part`].
    pub fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.to_string();
        for p in parts {
            key.push(':');
            key.push_str(&key_part(p));
        }
        key
    }

    /// Runs `command` on the shared connection within the deadline.
    ///
    /// `idempotent` commands are tried a second time after a connection failure (the first try
    /// may have found a dead connection that the manager has just replaced); others only when
    /// the connection was refused, which proves that the command never reached Redis. Failures
    /// become [`Error::ServiceUnavailable`] naming `what` failed and the (password-free) URL.
    pub async fn run<T, F, Fut>(&self, what: &str, idempotent: bool, command: F) -> Result<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let first = self.attempt(&command).await;
        let retry = match &first {
            Ok(_) => false,
            Err(Failure::Redis(e)) => {
                e.is_connection_refusal() || (idempotent && (e.is_io_error() || e.is_timeout()))
            }
            Err(Failure::Deadline) => false,
        };
        let outcome = if retry {
            self.attempt(&command).await
        } else {
            first
        };
        outcome.map_err(|f| self.unavailable(what, &f))
    }

    async fn attempt<T, F, Fut>(&self, command: &F) -> Result<T, Failure>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match tokio::time::timeout(self.timeout, command(self.manager.clone())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Failure::Redis(e)),
            Err(_) => Err(Failure::Deadline),
        }
    }

    /// Sends `PING`.
    pub async fn ping(&self) -> Result<()> {
        self.run("ping", true, |mut c| async move {
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .map(|_| ())
    }

    fn unavailable(&self, what: &str, failure: &Failure) -> Error {
        let cause = match failure {
            Failure::Redis(e) if !e.is_timeout() => match &self.password {
                Some(pw) => e.to_string().replace(&**pw, "***"),
                None => e.to_string(),
            },
            _ => format!("no answer within {} ms", self.timeout.as_millis()),
        };
        Error::ServiceUnavailable {
            service: "redis".into(),
            message: format!("{what} failed: Redis at {} ({cause})", self.shown_url),
        }
    }
}

enum Failure {
    Redis(RedisError),
    Deadline,
}

/// Removes anything that looks like the password of `url` from `text`.
fn scrub(text: &str, url: &str) -> String {
    match password_of(url) {
        Some(pw) if !pw.is_empty() => text.replace(pw, "***"),
        _ => text.to_string(),
    }
}

fn password_of(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    Some(&userinfo[userinfo.find(':')? + 1..])
}

/// Escapes one part of a key: letters, digits and `_ . @ -` stay, every other byte becomes
/// `%XX`. Parts then never contain `:` (the separator) or glob characters (`* ? [ ]`), so a
/// tenant's keys can be matched by a pattern without matching another tenant's.
pub fn key_part(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for b in part.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'@' | b'-') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_parts_never_hold_separators_or_glob_characters() {
        assert_eq!(key_part("acme-corp"), "acme-corp");
        assert_eq!(key_part("a:b*c?[d]"), "a%3Ab%2Ac%3F%5Bd%5D");
        assert_eq!(key_part("zoë"), "zo%C3%AB");
        assert_ne!(key_part("a:b"), key_part("a%3Ab"), "escapes are escaped");
    }

    #[test]
    fn passwords_are_found_and_scrubbed() {
        assert_eq!(password_of("redis://:s3cret@h:6379/0"), Some("s3cret"));
        assert_eq!(password_of("redis://user:pw@h"), Some("pw"));
        assert_eq!(password_of("redis://h:6379"), None);
        assert_eq!(
            scrub("auth failed for s3cret", "redis://:s3cret@h"),
            "auth failed for ***"
        );
    }

    #[tokio::test]
    async fn debug_and_errors_never_show_the_password() {
        let url = "redis://:hunter2-redis@127.0.0.1:1/0";
        let conn = RedisConnection::open(
            url,
            RedisOptions {
                key_prefix: "t:".into(),
                timeout: Duration::from_millis(300),
            },
        )
        .await
        .expect("opens lazily");
        assert!(!format!("{conn:?}").contains("hunter2"));
        assert_eq!(conn.key(&["session", "a:b"]), "t:session:a%3Ab");
        let e = conn.ping().await.expect_err("nothing listens on port 1");
        assert_eq!(e.kind(), crate::ErrorKind::ServiceUnavailable);
        let text = e.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("127.0.0.1:1"), "{text}");
    }

    #[tokio::test]
    async fn bad_urls_are_configuration_errors() {
        let e = RedisConnection::open("rediss://:pw@h:6379", RedisOptions::default())
            .await
            .expect_err("no TLS");
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(!e.to_string().contains(":pw@"), "{e}");
        let e = RedisConnection::open("http://h", RedisOptions::default())
            .await
            .expect_err("not redis");
        assert_eq!(e.kind(), crate::ErrorKind::Config);
    }
}
