//! The SQL dialects the engine speaks.

use serde::{Deserialize, Serialize};

/// A database family. Chosen from the connection URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// SQLite 3 (`sqlite://` URLs or a file path).
    Sqlite,
    /// PostgreSQL (`postgres://` or `postgresql://`).
    Postgres,
    /// MySQL and MariaDB (`mysql://` or `mariadb://`).
    Mysql,
}

impl Dialect {
    /// The dialect a connection URL points at, or `None` for an unknown scheme.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase())?;
        match scheme.as_str() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            "mysql" | "mariadb" => Some(Self::Mysql),
            _ => None,
        }
    }

    /// The lowercase name used in configuration, JSON output and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
        }
    }

    /// `name` as a quoted identifier of this dialect (always quoted, the closing quote
    /// doubled), by the project's one escaper, `sql::quote`.
    pub fn quote_identifier(self, name: &str) -> String {
        crate::sql::quote::identifier(self, name)
    }

    /// A table as a qualified, quoted name: `"schema"."table"` or `"table"` (see
    /// [`Dialect::quote_identifier`]).
    pub fn quote_table(self, schema: Option<&str>, name: &str) -> String {
        crate::sql::quote::qualified_identifier(self, schema, name)
    }

    /// `value` as a string literal of this dialect, by the project's one escaper,
    /// `sql::quote`. A value holding a NUL character cannot be written in SQL: refuse
    /// it first.
    pub fn quote_string(self, value: &str) -> String {
        crate::sql::quote::string_literal(self, value)
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_from_url_scheme() {
        assert_eq!(Dialect::from_url("sqlite://x.db"), Some(Dialect::Sqlite));
        assert_eq!(
            Dialect::from_url("postgresql://u@h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(
            Dialect::from_url("POSTGRES://u@h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(Dialect::from_url("mariadb://h/db"), Some(Dialect::Mysql));
        assert_eq!(Dialect::from_url("oracle://h/db"), None);
        assert_eq!(Dialect::from_url("no-scheme"), None);
    }

    #[test]
    fn quoting_goes_through_the_one_escaper() {
        assert_eq!(Dialect::Sqlite.quote_identifier("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(Dialect::Mysql.quote_identifier("a`b"), "`a``b`");
        assert_eq!(
            Dialect::Postgres.quote_table(Some("public"), "Order"),
            "\"public\".\"Order\""
        );
        assert_eq!(Dialect::Mysql.quote_table(None, "t"), "`t`");
        assert_eq!(Dialect::Postgres.quote_string("O'Neil\\"), "'O''Neil\\'");
        assert_eq!(Dialect::Mysql.quote_string("O'Neil\\"), "'O''Neil\\\\'");
    }
}
