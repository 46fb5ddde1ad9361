//! The limits of `POST /api/v1/auth/login` (`[auth]`): failed logins per client address and
//! per user name, and a cap on password checks running at once.
//!
//! - **Failed logins.** Each client address and each user name (known or not, so that the
//!   limit tells nothing about which names exist) has an allowance of
//!   `max_failed_logins_per_ip` and `max_failed_logins_per_user` failed logins, which refills
//!   completely in `failed_login_window_secs` (one attempt back every window / limit). An
//!   attempt takes one from both before the password is checked, and gives it back when the
//!   password was right (or was never checked); when either is spent the login is answered
//!   `429 RATE_LIMITED` with `Retry-After`, without checking the password, even a right one.
//!   The address is the one [`super::client_ip`] finds (IPv6 per /64).
//! - **Password checks.** argon2id with the default parameters takes 19 MiB and tens of
//!   milliseconds of one core per check. At most `max_concurrent_password_checks` run at once;
//!   a login waits up to `password_check_wait_ms` for a free slot and is otherwise answered
//!   `503 SERVICE_UNAVAILABLE` with `Retry-After: 1` (the server is busy, the client did nothing
//!   wrong). A check whose request was abandoned still holds its slot until it ends, so the cap
//!   holds for memory too.
//!
//! The state is in this process: behind a load balancer each instance counts on its own (nginx's
//! `limit_req` in `examples/deploy/nginx` limits across instances). At most [`MAX_TRACKED`]
//! addresses and names with a partly spent allowance are remembered; beyond that, attempts from
//! new ones are refused with 429 until older allowances have refilled.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::http::StatusCode;
use conversational_bi::{Error, config::AuthConfig};
use tokio::sync::Semaphore;

use super::{client_ip::counted_as, error::ApiError};

/// Addresses and user names with a partly spent allowance that are remembered at most.
pub const MAX_TRACKED: usize = 100_000;

/// Bytes of a user name that identify it for the limit (longer names are no user's).
const USER_KEY_BYTES: usize = 256;

#[derive(Debug, Clone, Copy)]
struct Allowance {
    capacity: f64,
    per_sec: f64,
}

impl Allowance {
    fn new(capacity: u32, window: Duration) -> Self {
        let capacity = f64::from(capacity);
        Self {
            capacity,
            per_sec: capacity / window.as_secs_f64(),
        }
    }

    /// The time until a bucket holding `tokens` holds one.
    fn wait(&self, tokens: f64) -> Duration {
        Duration::from_secs_f64(((1.0 - tokens) / self.per_sec).max(0.0))
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, allowance: &Allowance, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * allowance.per_sec).min(allowance.capacity);
        self.at = now;
    }
}

/// The buckets of one kind of key.
#[derive(Debug)]
struct Buckets<K> {
    allowance: Allowance,
    map: HashMap<K, Bucket>,
}

impl<K: std::hash::Hash + Eq + Clone> Buckets<K> {
    fn new(allowance: Allowance) -> Self {
        Self {
            allowance,
            map: HashMap::new(),
        }
    }

    /// The tokens `key` holds now (a full allowance when it is not remembered).
    fn tokens(&mut self, key: &K, now: Instant) -> f64 {
        let allowance = self.allowance;
        match self.map.get_mut(key) {
            Some(b) => {
                b.refill(&allowance, now);
                b.tokens
            }
            None => allowance.capacity,
        }
    }

    /// Whether `key` could be remembered: it is, or there is room (after forgetting the
    /// allowances that have refilled).
    fn has_room_for(&mut self, key: &K, now: Instant) -> bool {
        if self.map.contains_key(key) || self.map.len() < MAX_TRACKED {
            return true;
        }
        let allowance = self.allowance;
        self.map.retain(|_, b| {
            b.refill(&allowance, now);
            b.tokens < allowance.capacity
        });
        self.map.len() < MAX_TRACKED
    }

    fn take(&mut self, key: &K, now: Instant) {
        let capacity = self.allowance.capacity;
        let b = self.map.entry(key.clone()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        b.tokens -= 1.0;
    }

    fn give_back(&mut self, key: &K, now: Instant) {
        let allowance = self.allowance;
        if let Some(b) = self.map.get_mut(key) {
            b.refill(&allowance, now);
            b.tokens = (b.tokens + 1.0).min(allowance.capacity);
            if b.tokens >= allowance.capacity {
                self.map.remove(key);
            }
        }
    }
}

#[derive(Debug)]
struct Allowances {
    ips: Buckets<Option<IpAddr>>,
    users: Buckets<String>,
}

/// The limits of logins of one server process.
#[derive(Debug)]
pub struct LoginGuard {
    allowances: Mutex<Allowances>,
    checks: Arc<Semaphore>,
    max_checks: usize,
    wait: Duration,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

fn config_error(key: &str, message: String) -> Error {
    Error::Config {
        message,
        key: Some(key.to_string()),
        file: None,
        line: None,
    }
}

/// A login attempt admitted by the limits. Dropped as is, it counts as a failed login; a login
/// that succeeded calls [`Attempt::succeeded`], one whose password was never checked
/// [`Attempt::not_checked`].
#[derive(Debug)]
pub struct Attempt<'a> {
    guard: &'a LoginGuard,
    ip: Option<IpAddr>,
    user: String,
}

impl Attempt<'_> {
    /// The password was right: the attempt does not count.
    pub fn succeeded(self) {
        self.guard.give_back(self.ip, &self.user);
    }

    /// The password was not checked (the server was busy): the attempt does not count.
    pub fn not_checked(self) {
        self.guard.give_back(self.ip, &self.user);
    }
}

impl LoginGuard {
    /// The limits of `[auth]`; refuses, naming the key, a limit of 0.
    pub fn from_config(config: &AuthConfig) -> Result<Self, Error> {
        for (key, value) in [
            (
                "auth.max_failed_logins_per_ip",
                u64::from(config.max_failed_logins_per_ip),
            ),
            (
                "auth.max_failed_logins_per_user",
                u64::from(config.max_failed_logins_per_user),
            ),
            (
                "auth.failed_login_window_secs",
                config.failed_login_window_secs,
            ),
            (
                "auth.max_concurrent_password_checks",
                config.max_concurrent_password_checks as u64,
            ),
        ] {
            if value == 0 {
                return Err(config_error(
                    key,
                    format!(
                        "{key} must be greater than 0 (the defaults: max_failed_logins_per_ip = 10, max_failed_logins_per_user = 5, failed_login_window_secs = 300, max_concurrent_password_checks = 4)"
                    ),
                ));
            }
        }
        if config.max_concurrent_password_checks > Semaphore::MAX_PERMITS {
            return Err(config_error(
                "auth.max_concurrent_password_checks",
                format!(
                    "auth.max_concurrent_password_checks = {} is too large; each check takes about 19 MiB",
                    config.max_concurrent_password_checks
                ),
            ));
        }
        let window = Duration::from_secs(config.failed_login_window_secs);
        Ok(Self {
            allowances: Mutex::new(Allowances {
                ips: Buckets::new(Allowance::new(config.max_failed_logins_per_ip, window)),
                users: Buckets::new(Allowance::new(config.max_failed_logins_per_user, window)),
            }),
            checks: Arc::new(Semaphore::new(config.max_concurrent_password_checks)),
            max_checks: config.max_concurrent_password_checks,
            wait: Duration::from_millis(config.password_check_wait_ms),
            running: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Allowances> {
        self.allowances
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits a login attempt of `username` from `ip` (`None`: no socket), taking one from both
    /// allowances, or refuses it with 429 and `Retry-After`.
    pub fn admit(&self, ip: Option<IpAddr>, username: &str) -> Result<Attempt<'_>, ApiError> {
        let ip = ip.map(counted_as);
        let user = user_key(username);
        let now = Instant::now();
        let mut a = self.lock();
        let ip_tokens = a.ips.tokens(&ip, now);
        let user_tokens = a.users.tokens(&user, now);
        let limited = |what: &str, wait: Duration| {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            ApiError {
                retry_after: Some(Duration::from_secs(secs)),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RATE_LIMITED",
                    format!("too many failed logins {what}; try again in {secs} s"),
                )
            }
        };
        if ip_tokens < 1.0 || user_tokens < 1.0 {
            let wait = a
                .ips
                .allowance
                .wait(ip_tokens)
                .max(a.users.allowance.wait(user_tokens));
            let what = if ip_tokens < 1.0 {
                "from this address"
            } else {
                "for this user name"
            };
            return Err(limited(what, wait));
        }
        if !a.ips.has_room_for(&ip, now) || !a.users.has_room_for(&user, now) {
            return Err(limited(
                "from too many clients at once",
                Duration::from_secs_f64(1.0 / a.users.allowance.per_sec),
            ));
        }
        a.ips.take(&ip, now);
        a.users.take(&user, now);
        Ok(Attempt {
            guard: self,
            ip,
            user,
        })
    }

    fn give_back(&self, ip: Option<IpAddr>, user: &str) {
        let now = Instant::now();
        let mut a = self.lock();
        a.ips.give_back(&ip, now);
        a.users.give_back(&user.to_string(), now);
    }

    /// Runs `check` (a password check) on a blocking thread once one of the
    /// `max_concurrent_password_checks` slots is free; waits at most `password_check_wait_ms`
    /// for it, then answers 503 with `Retry-After: 1`.
    pub async fn check<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = tokio::time::timeout(self.wait, self.checks.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| ApiError {
                retry_after: Some(Duration::from_secs(1)),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    format!(
                        "the server is busy checking other logins ({} at a time, [auth] max_concurrent_password_checks); try again in a second",
                        self.max_checks
                    ),
                )
            })?;
        let (running, peak) = (self.running.clone(), self.peak.clone());
        tokio::task::spawn_blocking(move || {
            // The slot is held until the check ends, even when the request is abandoned.
            let _permit = permit;
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let out = check();
            running.fetch_sub(1, Ordering::SeqCst);
            out
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password check failed");
            ApiError::internal()
        })
    }

    /// The most password checks that ran at once since the start.
    pub fn peak_concurrent_checks(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// The key of a user name: its first [`USER_KEY_BYTES`] bytes.
fn user_key(username: &str) -> String {
    let mut end = username.len().min(USER_KEY_BYTES);
    while !username.is_char_boundary(end) {
        end -= 1;
    }
    username[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(per_ip: u32, per_user: u32, window_secs: u64) -> LoginGuard {
        LoginGuard::from_config(&AuthConfig {
            max_failed_logins_per_ip: per_ip,
            max_failed_logins_per_user: per_user,
            failed_login_window_secs: window_secs,
            ..AuthConfig::default()
        })
        .expect("valid")
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    #[test]
    fn zero_limits_are_refused_with_their_key() {
        for (key, config) in [
            (
                "auth.max_failed_logins_per_ip",
                AuthConfig {
                    max_failed_logins_per_ip: 0,
                    ..AuthConfig::default()
                },
            ),
            (
                "auth.max_failed_logins_per_user",
                AuthConfig {
                    max_failed_logins_per_user: 0,
                    ..AuthConfig::default()
                },
            ),
            (
                "auth.failed_login_window_secs",
                AuthConfig {
                    failed_login_window_secs: 0,
                    ..AuthConfig::default()
                },
            ),
            (
                "auth.max_concurrent_password_checks",
                AuthConfig {
                    max_concurrent_password_checks: 0,
                    ..AuthConfig::default()
                },
            ),
        ] {
            let e = LoginGuard::from_config(&config).expect_err(key);
            assert!(e.to_string().contains(key), "{e}");
            assert!(
                matches!(&e, Error::Config { key: Some(k), .. } if k == key),
                "{e:?}"
            );
        }
    }

    #[test]
    fn failures_spend_the_allowance_and_successes_give_it_back() {
        let g = guard(2, 2, 300);
        for _ in 0..5 {
            g.admit(ip("192.0.2.1"), "ana")
                .expect("admitted")
                .succeeded();
        }
        drop(g.admit(ip("192.0.2.1"), "ana").expect("first failure"));
        drop(g.admit(ip("192.0.2.2"), "ana").expect("second failure"));
        let e = g.admit(ip("192.0.2.3"), "ana").expect_err("user limit");
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "RATE_LIMITED");
        let wait = e.retry_after.expect("Retry-After").as_secs();
        assert!((149..=150).contains(&wait), "300 s / 2: {wait}");
        drop(
            g.admit(ip("192.0.2.1"), "bob")
                .expect("the address has one left"),
        );
        let e = g.admit(ip("192.0.2.1"), "carl").expect_err("address limit");
        assert!(e.message.contains("address"), "{}", e.message);
        g.admit(ip("192.0.2.9"), "carl")
            .expect("another address")
            .not_checked();
        g.admit(None, "dora")
            .expect("no socket: one address of its own")
            .succeeded();
    }

    #[test]
    fn long_user_names_are_counted_by_their_start() {
        let g = guard(100, 1, 300);
        let long = "x".repeat(10_000);
        drop(g.admit(ip("192.0.2.1"), &long).expect("first"));
        let other = format!("{}y", "x".repeat(9_999));
        assert!(
            g.admit(ip("192.0.2.2"), &other).is_err(),
            "same first 256 bytes"
        );
        assert_eq!(user_key(&"é".repeat(200)).len(), 256);
        assert_eq!(user_key(&format!("a{}", "é".repeat(200))).len(), 255);
    }
}
