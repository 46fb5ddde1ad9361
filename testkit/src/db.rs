//! The test databases: URLs, the Chinook backends, connections that fail with the setup hint.
//!
//! URLs come from the environment, with defaults matching `scripts/load-test-data.sh`:
//! `CBI_TEST_PG_URL`, `CBI_TEST_MYSQL_URL` (Chinook as the SELECT-only user),
//! `CBI_TEST_PG_SAKILA_URL` (Sakila, SELECT-only), `CBI_TEST_PG_GUARD_URL`, `CBI_TEST_MYSQL_GUARD_URL` (the attack schema, SELECT-only), and
//! `CBI_TEST_PG_ADMIN_URL`, `CBI_TEST_MYSQL_ADMIN_URL` (superusers, for setup and checks).
//! An unreachable database fails the test with instructions; a test is skipped only when
//! `CBI_TEST_SKIP` names its database (see [`crate::services`]).

use std::{path::PathBuf, sync::Arc};

use conversational_bi::{
    Dialect,
    exec::{self, Executor, SourceOptions},
};

use crate::services;

/// How to make the test databases available, or skip the tests that need them.
pub const SETUP_HINT: &str = "start the databases and load the test data first: scripts/services.sh && scripts/load-test-data.sh; or skip the tests that need them: CBI_TEST_SKIP=postgres,mysql (or CBI_TEST_SKIP=all)";

/// The value of `key`, or `default` when it is unset or empty.
pub fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// Chinook on PostgreSQL as the SELECT-only user.
pub fn pg_url() -> String {
    env_or(
        "CBI_TEST_PG_URL",
        "postgres://cbi_ro:cbi_ro@127.0.0.1:5432/chinook",
    )
}

/// Chinook on MariaDB as the SELECT-only user.
pub fn mysql_url() -> String {
    env_or(
        "CBI_TEST_MYSQL_URL",
        "mysql://cbi_ro:cbi_ro@127.0.0.1:3306/chinook",
    )
}

/// Sakila (the DVD rental sample) on PostgreSQL as the SELECT-only user.
pub fn pg_sakila_url() -> String {
    env_or(
        "CBI_TEST_PG_SAKILA_URL",
        "postgres://cbi_ro:cbi_ro@127.0.0.1:5432/sakila",
    )
}

/// The attack schema on PostgreSQL as the SELECT-only user.
pub fn pg_guard_url() -> String {
    env_or(
        "CBI_TEST_PG_GUARD_URL",
        "postgres://cbi_ro:cbi_ro@127.0.0.1:5432/cbi_guard",
    )
}

/// The attack schema on MariaDB as the SELECT-only user.
pub fn mysql_guard_url() -> String {
    env_or(
        "CBI_TEST_MYSQL_GUARD_URL",
        "mysql://cbi_ro:cbi_ro@127.0.0.1:3306/cbi_guard",
    )
}

/// A PostgreSQL superuser URL on database `db`.
pub fn pg_admin_url(db: &str) -> String {
    format!(
        "{}/{db}",
        env_or(
            "CBI_TEST_PG_ADMIN_URL",
            "postgres://postgres@127.0.0.1:5432"
        )
    )
}

/// A MariaDB superuser URL on database `db`.
pub fn mysql_admin_url(db: &str) -> String {
    format!(
        "{}/{db}",
        env_or("CBI_TEST_MYSQL_ADMIN_URL", "mysql://root@127.0.0.1:3306")
    )
}

/// The Chinook SQLite file shipped in the repository.
pub fn chinook_sqlite() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/chinook/chinook.sqlite"
    ))
}

/// Options for tests: a short statement timeout so that slow cases end quickly.
pub fn test_options() -> SourceOptions {
    SourceOptions {
        max_rows: 1000,
        statement_timeout_ms: 1500,
        pool_size: 4,
        connection_timeout_secs: 10,
        ..SourceOptions::default()
    }
}

/// Connects through the public entry point, failing the test with the setup hint.
pub async fn open(url: &str, options: SourceOptions) -> Arc<dyn Executor> {
    match exec::connect(url, options).await {
        Ok(e) => e,
        Err(e) => panic!(
            "cannot open {}: {e}\n{SETUP_HINT}",
            conversational_bi::error::redact_url(url)
        ),
    }
}

/// The databases of the behaviour suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The shipped Chinook file.
    Sqlite,
    /// Chinook loaded into PostgreSQL (snake_case names).
    Postgres,
    /// Chinook loaded into MariaDB (PascalCase names).
    Mysql,
}

impl Backend {
    /// Every backend.
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::Mysql];

    /// The backends whose tests should run: SQLite, and the others unless `CBI_TEST_SKIP`
    /// names them (each checked by [`Backend::require`]).
    pub fn available() -> Vec<Backend> {
        services::available(&Self::ALL, Self::dialect)
    }

    /// Whether a test on this backend should run ([`services::require_database`]).
    pub fn require(self) -> bool {
        services::require_database(self.dialect())
    }

    /// The executor's dialect.
    pub fn dialect(self) -> Dialect {
        match self {
            Self::Sqlite => Dialect::Sqlite,
            Self::Postgres => Dialect::Postgres,
            Self::Mysql => Dialect::Mysql,
        }
    }

    /// The Chinook URL of this backend.
    pub fn chinook_url(self) -> String {
        match self {
            Self::Sqlite => format!("sqlite://{}", chinook_sqlite().display()),
            Self::Postgres => pg_url(),
            Self::Mysql => mysql_url(),
        }
    }

    /// Opens Chinook with `options`.
    pub async fn chinook(self, options: SourceOptions) -> Arc<dyn Executor> {
        open(&self.chinook_url(), options).await
    }

    /// A Chinook identifier: PascalCase on SQLite and MariaDB, snake_case on PostgreSQL.
    pub fn name<'a>(self, pascal: &'a str, snake: &'a str) -> &'a str {
        if self == Self::Postgres {
            snake
        } else {
            pascal
        }
    }
}
