//! The optional backends of a build (the crate's Cargo features), and the refusal of
//! configuration that names one the build leaves out.
//!
//! The default build holds every backend. A build may leave out a database driver (`sqlite`,
//! `postgres`, `mysql`), the Redis stores (`redis`) or the model providers spoken over HTTP
//! (`providers`). The configuration keeps one shape in every build, so a file that names a
//! backend left out still parses; it is then refused with an [`Error::Config`] that names the
//! missing feature and how to get it: by [`Config::resolve`] (with the key), and again where the
//! backend would be built (`exec::connect`, the stores, the providers), for a configuration
//! assembled in code.

use crate::{
    config::{Config, LlmProviderKind, StoreKind, looks_like_sqlite_path},
    dialect::Dialect,
    error::{Error, Result},
};

/// Which optional backends a build holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backends {
    /// The `sqlite` feature: SQLite sources, the demo database among them.
    pub sqlite: bool,
    /// The `postgres` feature.
    pub postgres: bool,
    /// The `mysql` feature (MySQL and MariaDB).
    pub mysql: bool,
    /// The `redis` feature: sessions, cache and rate limits in Redis.
    pub redis: bool,
    /// The `providers` feature: OpenAI, Anthropic, Cohere and Ollama.
    pub providers: bool,
}

impl Backends {
    /// The backends of this build.
    pub(crate) const COMPILED: Self = Self {
        sqlite: cfg!(feature = "sqlite"),
        postgres: cfg!(feature = "postgres"),
        mysql: cfg!(feature = "mysql"),
        redis: cfg!(feature = "redis"),
        providers: cfg!(feature = "providers"),
    };

    fn has_dialect(self, dialect: Dialect) -> bool {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
            Dialect::Mysql => self.mysql,
        }
    }
}

/// Why `what` cannot work in this build, and the two ways out: rebuild with `feature`, or
/// `instead`.
fn missing_message(feature: &str, what: &str, instead: &str) -> String {
    format!(
        "{what} needs the `{feature}` feature of the conversational-bi crate, which this build leaves out; rebuild with it (`--features conversational-bi/{feature}`, or the default features, which hold every backend) or {instead}"
    )
}

/// The [`Error::Config`] for `what`, which needs `feature`, in a build without it.
pub(crate) fn missing(feature: &str, what: &str, instead: &str) -> Error {
    Error::config(missing_message(feature, what, instead))
}

/// The error for a database of `dialect` in a build without its driver.
pub(crate) fn missing_database(dialect: Dialect) -> Error {
    missing(
        dialect.as_str(),
        &database_what(dialect),
        "connect to a database this build supports",
    )
}

fn database_what(dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => {
            "a SQLite database (the built-in demo database, used when no database URL is set, is one)".into()
        }
        Dialect::Postgres => "a postgres:// database URL".into(),
        Dialect::Mysql => "a mysql:// or mariadb:// database URL".into(),
    }
}

/// The error for a store that `setting` puts in Redis, in a build without the `redis` feature.
pub(crate) fn missing_redis(setting: &str) -> Error {
    missing("redis", setting, REDIS_INSTEAD)
}

const REDIS_INSTEAD: &str =
    "keep the state in memory (store = \"memory\", and no [redis] url or REDIS_URL)";

/// The error for the model provider `[llm] provider` names, in a build without `providers`.
#[cfg(any(not(feature = "providers"), test))]
pub(crate) fn missing_provider(provider: LlmProviderKind) -> Error {
    missing("providers", &provider_what(provider), PROVIDER_INSTEAD)
}

const PROVIDER_INSTEAD: &str = "use the offline rule generator ([llm] provider = \"rule\")";

fn provider_what(provider: LlmProviderKind) -> String {
    let name = match provider {
        LlmProviderKind::Openai => "openai",
        LlmProviderKind::Anthropic => "anthropic",
        LlmProviderKind::Cohere => "cohere",
        LlmProviderKind::Ollama => "ollama",
        LlmProviderKind::Rule => "rule",
    };
    format!("[llm] provider = \"{name}\"")
}

/// Refuses a configuration that names a backend `backends` leaves out, through `bad(key,
/// message)`: the database of `[database] url`, a model provider, or a store in Redis (set
/// explicitly, or the default when a Redis URL is configured).
pub(crate) fn check_config(
    config: &Config,
    backends: Backends,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<()> {
    let tenants = config.tenants.iter().map(|(id, t)| {
        (
            format!("tenants.{id}.database_url"),
            t.database_url.expose(),
        )
    });
    let urls = config
        .database_url()
        .map(|url| ("database.url".to_string(), url))
        .into_iter()
        .chain(tenants);
    for (key, url) in urls {
        let dialect = Dialect::from_url(url)
            .or_else(|| looks_like_sqlite_path(url).then_some(Dialect::Sqlite));
        if let Some(d) = dialect.filter(|&d| !backends.has_dialect(d)) {
            return Err(bad(
                &key,
                missing_message(
                    d.as_str(),
                    &database_what(d),
                    "connect to a database this build supports",
                ),
            ));
        }
    }
    if config.llm.provider != LlmProviderKind::Rule && !backends.providers {
        return Err(bad(
            "llm.provider",
            missing_message(
                "providers",
                &provider_what(config.llm.provider),
                PROVIDER_INSTEAD,
            ),
        ));
    }
    if backends.redis {
        return Ok(());
    }
    let rl = &config.production.rate_limiting;
    for (key, explicit, used, effective) in [
        (
            "session.store",
            config.session.store,
            true,
            config.session_store(),
        ),
        (
            "cache.store",
            config.cache.store,
            config.cache.enabled,
            config.cache_store(),
        ),
        (
            "production.rate_limiting.store",
            rl.store,
            rl.enabled,
            config.rate_limit_store(),
        ),
    ] {
        if used && effective == StoreKind::Redis {
            let what = if explicit == Some(StoreKind::Redis) {
                format!("{key} = \"redis\"")
            } else {
                format!("{key} (Redis by default once [redis] url or REDIS_URL is set)")
            };
            return Err(bad(key, missing_message("redis", &what, REDIS_INSTEAD)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration's `[section] key` errors, as `resolve` reports them.
    fn check(config: &Config, backends: Backends) -> Result<()> {
        check_config(config, backends, &|key, message| Error::Config {
            message: format!("{key}: {message}"),
            key: Some(key.into()),
            file: None,
            line: None,
        })
    }

    fn mobile() -> Backends {
        Backends {
            sqlite: true,
            postgres: false,
            mysql: false,
            redis: false,
            providers: true,
        }
    }

    fn parsed(toml: &str) -> Config {
        Config::from_toml_str(toml, None).expect("parses")
    }

    /// Asserts that `toml` is refused under `backends` at `key`, with a message holding every
    /// one of `needles`.
    fn assert_refused(toml: &str, backends: Backends, key: &str, needles: &[&str]) {
        match check(&parsed(toml), backends) {
            Err(Error::Config {
                key: Some(k),
                message,
                ..
            }) => {
                assert_eq!(k, key, "{message}");
                for needle in needles {
                    assert!(message.contains(needle), "{needle:?} not in {message:?}");
                }
            }
            other => panic!("expected a configuration error at {key}, got {other:?}"),
        }
    }

    #[test]
    fn the_default_build_holds_every_backend() {
        assert_eq!(
            Backends::COMPILED,
            Backends {
                sqlite: true,
                postgres: true,
                mysql: true,
                redis: true,
                providers: true
            }
        );
    }

    #[test]
    fn a_server_database_left_out_is_refused_naming_its_feature() {
        let pg = "[database]\nurl = \"postgres://bi:s3cret-pw@db/shop\"\n";
        assert_refused(
            pg,
            mobile(),
            "database.url",
            &[
                "a postgres:// database URL needs the `postgres` feature",
                "--features conversational-bi/postgres",
            ],
        );
        let Err(e) = check(&parsed(pg), mobile()) else {
            panic!("refused above")
        };
        assert!(!e.to_string().contains("s3cret-pw"), "{e}");
        let maria = "[database]\nurl = \"mariadb://bi@db/shop\"\n";
        assert_refused(maria, mobile(), "database.url", &["`mysql` feature"]);
        // A build with the driver accepts the same file.
        assert!(check(&parsed(maria), Backends::COMPILED).is_ok());
    }

    #[test]
    fn a_tenant_database_left_out_is_refused_at_its_key() {
        let toml = "[tenants.acme]\ndatabase_url = \"postgres://bi:s3cret-pw@db/acme\"\n";
        assert_refused(
            toml,
            mobile(),
            "tenants.acme.database_url",
            &["the `postgres` feature"],
        );
        let Err(e) = check(&parsed(toml), mobile()) else {
            panic!("refused above")
        };
        assert!(!e.to_string().contains("s3cret-pw"), "{e}");
        assert!(check(&parsed(toml), Backends::COMPILED).is_ok());
    }

    #[test]
    fn a_sqlite_file_needs_the_sqlite_feature() {
        let server_only = Backends {
            sqlite: false,
            ..Backends::COMPILED
        };
        for url in ["sqlite://shop.db", "./data/shop.sqlite"] {
            let toml = format!("[database]\nurl = \"{url}\"\n");
            assert_refused(&toml, server_only, "database.url", &["`sqlite` feature"]);
        }
        assert!(check(&parsed(""), mobile()).is_ok());
    }

    #[test]
    fn a_hosted_provider_needs_the_providers_feature() {
        let rule_only = Backends {
            providers: false,
            ..mobile()
        };
        let ollama = "[llm]\nprovider = \"ollama\"\nmodel = \"llama3.1\"\n";
        assert_refused(
            ollama,
            rule_only,
            "llm.provider",
            &[
                "llm.provider: [llm] provider = \"ollama\" needs the `providers` feature",
                "provider = \"rule\"",
            ],
        );
        assert!(check(&parsed(""), rule_only).is_ok());
        assert!(check(&parsed(ollama), mobile()).is_ok());
    }

    #[test]
    fn a_store_in_redis_needs_the_redis_feature_whether_set_or_implied() {
        let memory_but_cache = "[cache]\nenabled = true\nstore = \"redis\"\n[session]\nstore = \"memory\"\n[production.rate_limiting]\nstore = \"memory\"\n[redis]\nurl = \"redis://cache:6379\"\n";
        assert_refused(
            memory_but_cache,
            mobile(),
            "cache.store",
            &["cache.store = \"redis\" needs the `redis` feature"],
        );
        // A Redis URL alone makes Redis the default store of sessions.
        let url_only = "[redis]\nurl = \"redis://cache:6379\"\n";
        assert_refused(
            url_only,
            mobile(),
            "session.store",
            &[
                "Redis by default once [redis] url or REDIS_URL is set",
                "store = \"memory\"",
            ],
        );
        // Every store in memory: nothing needs Redis.
        assert!(check(&parsed(""), mobile()).is_ok());
        assert!(check(&parsed(url_only), Backends::COMPILED).is_ok());
    }

    #[test]
    fn the_errors_of_the_building_sites_name_the_feature() {
        let e = missing_database(Dialect::Sqlite).to_string();
        assert!(
            e.contains("the built-in demo database") && e.contains("`sqlite` feature"),
            "{e}"
        );
        let e = missing_redis("[session] store = \"redis\"").to_string();
        assert!(
            e.contains("[session] store = \"redis\" needs the `redis` feature"),
            "{e}"
        );
        let e = missing_provider(LlmProviderKind::Openai).to_string();
        assert!(
            e.contains("[llm] provider = \"openai\" needs the `providers` feature"),
            "{e}"
        );
    }
}
