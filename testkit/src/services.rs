//! The services some tests need, and the switch that skips those tests on a machine without
//! them.
//!
//! `CBI_TEST_SKIP` is a comma-separated list of `postgres`, `mysql` (or `mariadb`) and `redis`,
//! or `all`. A test that needs a service calls [`require`] first and returns when it answers
//! `false`:
//!
//! ```no_run
//! # async fn test() {
//! if !testkit::require(testkit::Service::Postgres) {
//!     return;
//! }
//! // ... the test, against PostgreSQL
//! # }
//! ```
//!
//! A skipped service is announced once per test binary on standard error (which the test
//! harness does not capture), e.g. `skipped: PostgreSQL tests (CBI_TEST_SKIP=postgres)`.
//! Without the switch a service that does not answer fails the test, with how to start it and
//! how to skip it: a missing service never passes silently. `scripts/test.sh` (CI) clears the
//! switch, so that every test runs there.

use conversational_bi::Dialect;
use std::{
    io::Write,
    net::{TcpStream, ToSocketAddrs},
    sync::OnceLock,
    time::Duration,
};

/// The environment variable of the switch.
pub const SKIP_VAR: &str = "CBI_TEST_SKIP";

/// How to start every service the tests use, with the test data.
pub const START_HINT: &str =
    "start the services and load the test data: scripts/services.sh && scripts/load-test-data.sh";

/// A service some tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// PostgreSQL (`CBI_TEST_PG_URL`).
    Postgres,
    /// MariaDB or MySQL (`CBI_TEST_MYSQL_URL`).
    Mysql,
    /// Redis (`CBI_TEST_REDIS_URL`), and `redis-server` for the tests that start their own.
    Redis,
}

impl Service {
    /// Every service.
    pub const ALL: [Service; 3] = [Service::Postgres, Service::Mysql, Service::Redis];

    /// The server a database of `dialect` runs on (none for SQLite, a file).
    pub fn of(dialect: Dialect) -> Option<Service> {
        match dialect {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(Self::Postgres),
            Dialect::Mysql => Some(Self::Mysql),
        }
    }

    /// Its name in `CBI_TEST_SKIP`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Redis => "redis",
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Mysql => "MariaDB",
            Self::Redis => "Redis",
        }
    }

    /// The URL the tests reach it at, and the variable that sets it.
    fn url(self) -> (String, &'static str) {
        match self {
            Self::Postgres => (crate::db::pg_url(), "CBI_TEST_PG_URL"),
            Self::Mysql => (crate::db::mysql_url(), "CBI_TEST_MYSQL_URL"),
            Self::Redis => (crate::redis::redis_url(), "CBI_TEST_REDIS_URL"),
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Self::Postgres => 5432,
            Self::Mysql => 3306,
            Self::Redis => 6379,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Postgres => 0,
            Self::Mysql => 1,
            Self::Redis => 2,
        }
    }
}

/// How to start `service`, or skip the tests that need it.
pub fn hint(service: Service) -> String {
    format!(
        "{START_HINT}; or, without {}, skip the tests that need it: {SKIP_VAR}={} (or {SKIP_VAR}=all)",
        service.label(),
        service.name()
    )
}

/// Reads a `CBI_TEST_SKIP` value: the services it names, or what is wrong with it.
pub fn parse_skip(value: &str) -> Result<Vec<Service>, String> {
    let mut services = Vec::new();
    for word in value.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let named: &[Service] = match word.to_ascii_lowercase().as_str() {
            "all" => &Service::ALL,
            "postgres" | "postgresql" | "pg" => &[Service::Postgres],
            "mysql" | "mariadb" => &[Service::Mysql],
            "redis" => &[Service::Redis],
            _ => {
                return Err(format!(
                    "{SKIP_VAR}={value}: unknown service `{word}`; use a comma-separated list of postgres, mysql, redis, or all"
                ));
            }
        };
        for s in named {
            if !services.contains(s) {
                services.push(*s);
            }
        }
    }
    Ok(services)
}

/// The services `CBI_TEST_SKIP` names (read once). A value it cannot read fails the test.
fn skipped() -> &'static [Service] {
    static SKIPPED: OnceLock<Result<Vec<Service>, String>> = OnceLock::new();
    let parsed = SKIPPED.get_or_init(|| parse_skip(&std::env::var(SKIP_VAR).unwrap_or_default()));
    match parsed {
        Ok(services) => services,
        Err(e) => panic!("{e}"),
    }
}

/// Whether the test that calls it should run: `false` when `CBI_TEST_SKIP` names `service`
/// (announced once per test binary); `true` when the service answers. Panics, with how to
/// start the service or skip its tests, when it is neither skipped nor reachable.
pub fn require(service: Service) -> bool {
    static ANNOUNCED: [OnceLock<()>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    static REACHABLE: [OnceLock<Result<(), String>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    if skipped().contains(&service) {
        ANNOUNCED[service.index()].get_or_init(|| {
            let value = std::env::var(SKIP_VAR).unwrap_or_default();
            // Straight to the stream: the test harness captures `eprintln!`.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {} tests ({SKIP_VAR}={value})",
                service.label()
            );
        });
        return false;
    }
    if let Err(e) = REACHABLE[service.index()].get_or_init(|| reach(service)) {
        panic!("{e}");
    }
    true
}

/// Whether a test on a database of `dialect` should run: always on SQLite, else
/// [`require`] of its server.
pub fn require_database(dialect: Dialect) -> bool {
    Service::of(dialect).is_none_or(require)
}

/// The items of `all` (databases of a test suite) whose tests should run: those whose
/// `dialect` passes [`require_database`], in order.
pub fn available<T: Copy>(all: &[T], dialect: impl Fn(T) -> Dialect) -> Vec<T> {
    all.iter()
        .copied()
        .filter(|&item| require_database(dialect(item)))
        .collect()
}

/// Whether `service` accepts a TCP connection at the address of its test URL.
fn reach(service: Service) -> Result<(), String> {
    let (url, var) = service.url();
    let shown = conversational_bi::error::redact_url(&url);
    let Some(address) = host_port(&url, service.default_port()) else {
        // A socket path or a URL this cannot read: the test's own connection will tell.
        return Ok(());
    };
    let unreachable = |why: String| {
        format!(
            "{} is not reachable at {shown} ({var}): {why}\n{}",
            service.label(),
            hint(service)
        )
    };
    let addrs: Vec<_> = address
        .to_socket_addrs()
        .map_err(|e| unreachable(e.to_string()))?
        .collect();
    let mut last = String::from("no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(3)) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(unreachable(last))
}

/// `host:port` of a URL's authority (`scheme://[user[:password]@]host[:port][/...]`), or
/// `None` when it names no host.
fn host_port(url: &str, default_port: u16) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return None;
    }
    let has_port = match host_port.rsplit_once(':') {
        // `[::1]` alone has colons but no port.
        Some((_, port)) => !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    };
    Some(if has_port {
        host_port.to_string()
    } else {
        format!("{host_port}:{default_port}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_names_services_or_all() {
        assert_eq!(parse_skip(""), Ok(vec![]));
        assert_eq!(
            parse_skip("redis, postgres"),
            Ok(vec![Service::Redis, Service::Postgres])
        );
        assert_eq!(parse_skip("mariadb,MySQL"), Ok(vec![Service::Mysql]));
        assert_eq!(parse_skip("all"), Ok(Service::ALL.to_vec()));
        let e = parse_skip("postgres,oracle").expect_err("unknown");
        assert!(e.contains("CBI_TEST_SKIP=postgres,oracle"), "{e}");
        assert!(e.contains("`oracle`"), "{e}");
        assert!(e.contains("postgres, mysql, redis, or all"), "{e}");
    }

    #[test]
    fn addresses_come_from_the_url_authority() {
        for (url, default_port, expected) in [
            (
                "postgres://u:p@db.example:6543/x",
                5432,
                Some("db.example:6543"),
            ),
            (
                "mysql://root@127.0.0.1/chinook",
                3306,
                Some("127.0.0.1:3306"),
            ),
            ("redis://:pw@127.0.0.1:6379/", 6379, Some("127.0.0.1:6379")),
            ("redis://[::1]", 6379, Some("[::1]:6379")),
            ("postgres:///db?host=/run/postgresql", 5432, None),
        ] {
            assert_eq!(host_port(url, default_port).as_deref(), expected, "{url}");
        }
    }

    #[test]
    fn the_hint_says_how_to_start_and_how_to_skip() {
        let h = hint(Service::Mysql);
        assert!(h.contains("scripts/services.sh"), "{h}");
        assert!(h.contains("CBI_TEST_SKIP=mysql"), "{h}");
    }
}
