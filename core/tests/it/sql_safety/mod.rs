//! What the validator approved is exactly what the database runs: the findings of the
//! pre-release security review, each as a test on the databases it names.
//!
//! SQLite runs on the shipped Chinook file (`Customer.Email` restricted, `Invoice` outside the
//! allowed tables); PostgreSQL and MariaDB on `cbi_audit` as the SELECT-only user
//! (`customers.ssn` restricted, only `customers` and `orders` allowed; on MariaDB the same
//! account can also read `cbi_audit_other`), see `scripts/load-test-data.sh`.

mod breakout;
mod plan_audit;
mod resolution;
mod resources;

use conversational_bi::{
    Config, DataSource, Dialect, Error,
    exec::{QueryResult, Value},
    sql::ValidatedSql,
};

use testkit::db::{self, SETUP_HINT};

/// Text that must never come back from `cbi_audit`: restricted values, rows of tables outside
/// the allowed list, another tenant's rows, server identity.
const FORBIDDEN_AUDIT: &[&str] = &[
    "@example.com",
    "-55-0000",
    "top-secret-token",
    "Other tenant customer",
    "cbi_ro",
    "MariaDB",
    "PostgreSQL",
];

/// Text that must never come back from Chinook: every customer email holds `@`.
const FORBIDDEN_CHINOOK: &[&str] = &["@"];

/// The databases of these tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// Chinook (SQLite file).
    Sqlite,
    /// `cbi_audit` on PostgreSQL.
    Postgres,
    /// `cbi_audit` on MariaDB.
    Mysql,
}

impl Db {
    pub const ALL: [Db; 3] = [Db::Sqlite, Db::Postgres, Db::Mysql];

    /// The databases whose tests should run: SQLite, and the others unless `CBI_TEST_SKIP`
    /// names them.
    pub fn available() -> Vec<Db> {
        testkit::services::available(&Self::ALL, Self::dialect)
    }

    /// Whether a test on this database should run ([`testkit::require_database`]).
    pub fn require(self) -> bool {
        testkit::require_database(self.dialect())
    }

    pub fn dialect(self) -> Dialect {
        match self {
            Db::Sqlite => Dialect::Sqlite,
            Db::Postgres => Dialect::Postgres,
            Db::Mysql => Dialect::Mysql,
        }
    }

    pub fn url(self) -> String {
        match self {
            Db::Sqlite => format!("sqlite://{}", db::chinook_sqlite().display()),
            Db::Postgres => std::env::var("CBI_TEST_PG_AUDIT_URL")
                .unwrap_or_else(|_| "postgres://cbi_ro:cbi_ro@127.0.0.1:5432/cbi_audit".into()),
            Db::Mysql => std::env::var("CBI_TEST_MYSQL_AUDIT_URL")
                .unwrap_or_else(|_| "mysql://cbi_ro:cbi_ro@127.0.0.1:3306/cbi_audit".into()),
        }
    }

    /// The configuration of the tests: a restricted column and an allowed-tables list.
    pub fn config(self) -> Config {
        let mut config = Config::default();
        config.database.statement_timeout_ms = 3000;
        config.database.pool_size = 4;
        match self {
            Db::Sqlite => {
                config.database.denied_columns = vec!["Customer.Email".into()];
                config.database.allowed_tables = [
                    "Artist",
                    "Album",
                    "Track",
                    "Genre",
                    "MediaType",
                    "Customer",
                    "Employee",
                ]
                .map(String::from)
                .to_vec();
            }
            Db::Postgres | Db::Mysql => {
                config.database.denied_columns = vec!["customers.ssn".into()];
                config.database.allowed_tables = vec!["customers".into(), "orders".into()];
            }
        }
        config
    }

    /// Text that must never come back.
    pub fn forbidden(self) -> &'static [&'static str] {
        match self {
            Db::Sqlite => FORBIDDEN_CHINOOK,
            Db::Postgres | Db::Mysql => FORBIDDEN_AUDIT,
        }
    }

    /// The source under the test configuration.
    pub async fn source(self) -> DataSource {
        DataSource::connect(&self.config(), Some(&self.url()))
            .await
            .unwrap_or_else(|e| panic!("cannot open {self:?}: {e}\n{SETUP_HINT}"))
    }
}

/// Validates and runs `sql`: `Ok` with the statement and result, or the refusal.
pub async fn run(source: &DataSource, sql: &str) -> Result<(ValidatedSql, QueryResult), Error> {
    source.run(sql).await
}

/// Every cell of `result` as text.
pub fn cells(result: &QueryResult) -> Vec<String> {
    result
        .rows
        .iter()
        .flatten()
        .map(|v| match v {
            Value::Null => "NULL".to_string(),
            Value::Text(s) | Value::Decimal(s) | Value::Bytes(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
        })
        .collect()
}

/// Asserts that nothing of [`Db::forbidden`] came back.
pub fn assert_nothing_leaked(db: Db, sql: &str, result: &QueryResult) {
    for cell in cells(result) {
        for f in db.forbidden() {
            assert!(
                !cell.contains(f),
                "{sql}\nreturned {cell:?}, which holds {f:?}"
            );
        }
    }
}
