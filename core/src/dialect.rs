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
}
