//! Redis for the tests: the shared server (`CBI_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379/`) with a key prefix of its own per test, deleted afterwards, and
//! private `redis-server` processes on free ports for the tests that kill Redis. Tests that
//! use either call [`crate::require`]`(Service::Redis)` first.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use conversational_bi::store::{RedisConnection, RedisOptions};

/// The shared test Redis.
pub fn redis_url() -> String {
    crate::db::env_or("CBI_TEST_REDIS_URL", "redis://127.0.0.1:6379/")
}

/// A key prefix used by one test only; its keys are deleted when it is dropped.
#[derive(Debug)]
pub struct Prefix {
    /// The prefix, without the trailing `:`.
    pub name: String,
    url: String,
}

impl Prefix {
    /// A fresh prefix on the shared test Redis.
    pub fn new(label: &str) -> Self {
        Self::on(&redis_url(), label)
    }

    /// A fresh prefix on the Redis at `url`.
    pub fn on(url: &str, label: &str) -> Self {
        Self {
            name: format!("cbi-test-{label}-{}", uuid::Uuid::new_v4().simple()),
            url: url.to_string(),
        }
    }

    /// Connection options with this prefix.
    pub fn options(&self) -> RedisOptions {
        RedisOptions {
            key_prefix: self.name.clone(),
            timeout: Duration::from_millis(1000),
        }
    }

    /// A new connection (one per simulated instance) with this prefix.
    pub async fn connection(&self) -> RedisConnection {
        RedisConnection::open(&self.url, self.options())
            .await
            .expect("redis URL")
    }

    /// A plain connection for checks.
    pub fn raw(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .and_then(|c| c.get_connection())
            .unwrap_or_else(|e| {
                panic!(
                    "Redis at {} is not reachable ({e}); {}",
                    conversational_bi::error::redact_url(&self.url),
                    crate::services::hint(crate::Service::Redis)
                )
            })
    }

    /// The keys under this prefix.
    pub fn keys(&self) -> Vec<String> {
        let mut con = self.raw();
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.name))
            .query(&mut con)
            .expect("KEYS");
        keys.sort();
        keys
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let Ok(mut con) = redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.name))
            .query(&mut con)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("DEL").arg(&keys).query(&mut con);
        }
    }
}

/// A `redis-server` of the test's own, on a free port, killed when dropped.
#[derive(Debug)]
pub struct PrivateRedis {
    child: Option<Child>,
    /// Its port.
    pub port: u16,
    password: Option<String>,
}

impl PrivateRedis {
    /// Starts a server on a free port and waits until it answers.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// Starts a server that requires `password`.
    pub fn start_with(password: Option<&str>) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = Self {
            child: None,
            port,
            password: password.map(str::to_string),
        };
        server.restart();
        server
    }

    /// Its URL (with the password, when it has one).
    pub fn url(&self) -> String {
        match &self.password {
            Some(pw) => format!("redis://:{pw}@127.0.0.1:{}/", self.port),
            None => format!("redis://127.0.0.1:{}/", self.port),
        }
    }

    /// Kills the server (as a crash would: no shutdown command).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends a signal (`STOP`, `CONT`) to the server process.
    pub fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let status = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(child.id().to_string())
                .status()
                .expect("kill");
            assert!(status.success(), "kill -{signal} failed");
        }
    }

    /// Starts the server again on the same port (empty: it saves nothing).
    pub fn restart(&mut self) {
        self.kill();
        let mut command = Command::new("redis-server");
        command.args(["--port", &self.port.to_string()]).args([
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]);
        if let Some(pw) = &self.password {
            command.args(["--requirepass", pw]);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}); {}",
                    crate::services::hint(crate::Service::Redis)
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let client = redis::Client::open(self.url()).expect("url");
        loop {
            if let Ok(mut con) = client.get_connection()
                && redis::cmd("PING").query::<String>(&mut con).is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not start",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
