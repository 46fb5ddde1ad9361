//! Connection URLs: which backend a URL names, and the checks made before connecting.

use std::path::{Path, PathBuf};

use crate::{
    dialect::Dialect,
    error::{Error, Result, redact_url},
};

/// A connection target, classified by its scheme.
#[derive(Clone, PartialEq, Eq)]
pub enum SourceUrl {
    /// A SQLite database file (which must exist: sources are opened read-only).
    Sqlite(PathBuf),
    /// A PostgreSQL URL, with a `postgres://` or `postgresql://` scheme.
    Postgres(String),
    /// A MySQL or MariaDB URL, normalised to the `mysql://` scheme.
    Mysql(String),
}

impl std::fmt::Debug for SourceUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            Self::Postgres(u) => f.debug_tuple("Postgres").field(&redact_url(u)).finish(),
            Self::Mysql(u) => f.debug_tuple("Mysql").field(&redact_url(u)).finish(),
        }
    }
}

impl SourceUrl {
    /// Classifies `url` and checks what can be checked without connecting.
    ///
    /// A string without a scheme is taken as a SQLite file path. Errors are
    /// [`Error::Config`] and say what was wrong and what to do.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::config(
                "the database URL is empty; set it to sqlite://path/to/file.db, postgres://user:pass@host/db or mysql://user:pass@host/db",
            ));
        }
        let has_scheme = url.find("://").is_some_and(|i| {
            i > 0
                && url[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }) || url.to_ascii_lowercase().starts_with("sqlite:");
        if !has_scheme {
            return sqlite_file(Path::new(url), url);
        }
        match Dialect::from_url(url) {
            Some(Dialect::Sqlite) => {
                let rest = &url["sqlite:".len()..];
                let rest = rest.strip_prefix("//").unwrap_or(rest);
                // Query parameters (e.g. `?mode=ro`) are ignored: sources are always read-only.
                let path = rest.split_once('?').map_or(rest, |(p, _)| p);
                sqlite_file(Path::new(path), url)
            }
            Some(Dialect::Postgres) => Ok(Self::Postgres(check_server_url(url)?)),
            Some(Dialect::Mysql) => {
                let checked = check_server_url(url)?;
                let rest = checked.split_once("://").map_or("", |(_, r)| r);
                Ok(Self::Mysql(format!("mysql://{rest}")))
            }
            None => {
                let scheme = url.split_once(':').map_or(url, |(s, _)| s);
                Err(Error::config(format!(
                    "unknown database URL scheme `{scheme}` in {}; use sqlite://, postgres://, postgresql://, mysql:// or mariadb://",
                    redact_url(url)
                )))
            }
        }
    }

    /// The dialect of this target.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
            Self::Mysql(_) => Dialect::Mysql,
        }
    }
}

fn sqlite_file(path: &Path, url: &str) -> Result<SourceUrl> {
    if path.as_os_str().is_empty() || path == Path::new(":memory:") {
        return Err(Error::config(format!(
            "the SQLite URL {url} names no database file; give the path of an existing file, e.g. sqlite://./data/shop.db"
        )));
    }
    if !path.is_file() {
        return Err(Error::config(format!(
            "SQLite database file {} does not exist (from URL {url}); sources are opened read-only and never created: check the path",
            path.display()
        )));
    }
    Ok(SourceUrl::Sqlite(path.to_path_buf()))
}

/// Checks that a server URL has a host; returns it unchanged.
fn check_server_url(url: &str) -> Result<String> {
    let rest = url.split_once("://").map(|(_, r)| r).ok_or_else(|| {
        Error::config(format!(
            "cannot parse database URL {}; expected scheme://user:password@host:port/database",
            redact_url(url)
        ))
    })?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // An empty authority (`postgres:///db`, `?host=/run/postgresql`) leaves the host to the
    // driver's defaults; user or port without a host name is a mistake.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) if !host_port.ends_with(']') => (h, Some(p)),
        _ => (host_port, None),
    };
    if host.is_empty() && !authority.is_empty() {
        return Err(Error::config(format!(
            "database URL {} has no host; expected scheme://user:password@host:port/database",
            redact_url(url)
        )));
    }
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return Err(Error::config(format!(
            "database URL {} has an invalid port `{port}`; use a number from 1 to 65535",
            redact_url(url)
        )));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_backend_from_scheme() {
        assert_eq!(
            SourceUrl::parse("postgres://u:p@h:5432/db")
                .expect("pg")
                .dialect(),
            Dialect::Postgres
        );
        assert_eq!(
            SourceUrl::parse("postgresql://h/db").expect("pg").dialect(),
            Dialect::Postgres
        );
        assert_eq!(
            SourceUrl::parse("mariadb://u:p@h/db").expect("maria"),
            SourceUrl::Mysql("mysql://u:p@h/db".into())
        );
        assert_eq!(
            SourceUrl::parse("MYSQL://h/db").expect("mysql").dialect(),
            Dialect::Mysql
        );
    }

    #[test]
    fn sqlite_accepts_url_forms_and_plain_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("x.db");
        std::fs::write(&file, b"").expect("write");
        let f = file.display().to_string();
        for url in [
            f.clone(),
            format!("sqlite://{f}"),
            format!("sqlite:{f}"),
            format!("sqlite://{f}?mode=ro"),
        ] {
            assert_eq!(
                SourceUrl::parse(&url).expect(&url),
                SourceUrl::Sqlite(file.clone()),
                "{url}"
            );
        }
    }

    #[test]
    fn config_errors_say_what_is_wrong() {
        let e = SourceUrl::parse("oracle://u:secret@h/db").expect_err("unknown scheme");
        assert!(
            e.to_string()
                .contains("unknown database URL scheme `oracle`"),
            "{e}"
        );
        assert!(!e.to_string().contains("secret"));
        let e = SourceUrl::parse("sqlite:///nonexistent/dir/x.db").expect_err("missing file");
        assert!(e.to_string().contains("does not exist"), "{e}");
        let e = SourceUrl::parse("/nonexistent/x.db").expect_err("missing plain path");
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        let e = SourceUrl::parse("postgres://u:secret@:5432/db").expect_err("no host");
        assert!(
            e.to_string().contains("no host") && !e.to_string().contains("secret"),
            "{e}"
        );
        let e = SourceUrl::parse("mysql://u:secret@h:99999/db").expect_err("bad port");
        assert!(
            e.to_string().contains("invalid port") && !e.to_string().contains("secret"),
            "{e}"
        );
        assert!(SourceUrl::parse("  ").is_err());
        assert!(SourceUrl::parse("sqlite::memory:").is_err());
    }

    #[test]
    fn debug_hides_password() {
        let u = SourceUrl::parse("postgres://u:s3cret@h/db").expect("pg");
        assert!(!format!("{u:?}").contains("s3cret"));
    }
}
