//! The configuration: the runbook's TOML file (`conversational-bi.toml`) with the runbook's
//! values as defaults, overridden by the runbook's environment variables.
//!
//! Every program assembles it the same way, through [`Config::from_sources`]: the defaults of
//! its [`Interface`] (the server keeps the runbook's rate limits, an embedded engine has none
//! unless configured), a file, TOML text, section overrides, then the environment.
//!
//! ```text
//! [server] [llm] [production] [production.rate_limiting] [production.security]
//! [production.performance] [production.circuit_breaker] [cache] [session] [logging]
//! [metrics] [database] [redis] [auth] [[auth.issuers]] [access] [access.roles.<name>]
//! [semantic] [feedback] [tenants.<id>]
//! ```
//!
//! | variable | overrides |
//! |---|---|
//! | `DATABASE_URL` | `[database] url` |
//! | `REDIS_URL` | `[redis] url` |
//! | `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `COHERE_API_KEY` (or `[llm] api_key_env`) | the LLM key |
//! | `JWT_SECRET` | the HS256 signing secret of `[auth]` |
//! | `CBI_MASK_KEY` | the key of `hash` column masks of `[access]` |
//! | `CORS_ALLOWED_ORIGINS` (comma-separated) | `[server] cors_allowed_origins` |
//! | `RUST_LOG` | `[logging] level` |
//! | `TOKIO_WORKER_THREADS` | `[server] workers` |
//!
//! An unknown key or a value of the wrong type is an error that names the key, the file and the
//! line. Secrets (keys, passwords in URLs, the JWT secret, password hashes) never appear in
//! `Debug` output.

mod access;
mod sections;
mod sources;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use access::{AccessConfig, ClaimMapping, IssuerConfig, RolePolicy, TenantConfig};
pub use sections::*;
pub use sources::{ConfigSources, Interface};

use crate::{
    dialect::Dialect,
    error::{Error, Result},
};

/// A secret string: shown as `***` by `Debug`, readable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Call only where the value is used, never to log or display it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[llm]`.
    pub llm: LlmConfig,
    /// `[production]` and its sub-tables.
    pub production: ProductionConfig,
    /// `[cache]`.
    pub cache: CacheConfig,
    /// `[session]`.
    pub session: SessionConfig,
    /// `[logging]`.
    pub logging: LoggingConfig,
    /// `[metrics]`.
    pub metrics: MetricsConfig,
    /// `[database]`.
    pub database: DatabaseConfig,
    /// `[redis]`.
    pub redis: RedisConfig,
    /// `[auth]`.
    pub auth: AuthConfig,
    /// `[access]`: data permissions per role.
    pub access: AccessConfig,
    /// `[semantic]`: the business's semantic model.
    pub semantic: SemanticConfig,
    /// `[feedback]`: ratings and corrections of answers, and the verified queries promoted
    /// from them.
    pub feedback: FeedbackConfig,
    /// `[tenants.<id>]`: a database per tenant; a tenant without an entry uses `[database]`.
    pub tenants: std::collections::BTreeMap<String, TenantConfig>,
    /// The file the configuration was read from, for errors found after loading (a row filter
    /// that names an unknown column is found once the catalog is read).
    #[serde(skip)]
    pub(crate) origin: Option<PathBuf>,
}

impl Config {
    /// The configuration of an embedded engine from the file at `path` and the process
    /// environment: [`Config::from_sources`] with [`Interface::Embedded`] and that file.
    pub fn load(path: &Path) -> Result<Self> {
        Self::from_sources(ConfigSources::new(Interface::Embedded).file(path))
    }

    /// The configuration of an embedded engine from the process environment alone:
    /// [`Config::from_sources`] with [`Interface::Embedded`].
    pub fn from_env() -> Result<Self> {
        Self::from_sources(ConfigSources::new(Interface::Embedded))
    }

    /// Parses TOML text. `file` names the source in error messages. The environment is not
    /// applied and aliases are not resolved: this is one layer of [`Config::from_sources`],
    /// which assembles a whole configuration.
    pub fn from_toml_str(text: &str, file: Option<&Path>) -> Result<Self> {
        let de = toml::Deserializer::parse(text).map_err(|e| toml_error(&e, None, text, file))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            toml_error(e.inner(), Some(path), text, file)
        })
    }

    /// Applies the runbook's environment variables, read through `get` (pass
    /// `|k| std::env::var(k).ok()` for the process environment). Empty values are ignored.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let bad_var = |name: &str, key: &str, problem: String| Error::Config {
            message: format!("environment variable {name}: {problem}"),
            key: Some(key.into()),
            file: None,
            line: None,
        };
        if let Some(url) = get("DATABASE_URL") {
            if let Some(problem) = database_url_problem(&url) {
                return Err(bad_var("DATABASE_URL", "database.url", problem));
            }
            self.database.url = Some(Secret::new(url));
        }
        if let Some(url) = get("REDIS_URL") {
            if let Some(problem) = redis_url_problem(&url) {
                return Err(bad_var("REDIS_URL", "redis.url", problem));
            }
            self.redis.url = Some(Secret::new(url));
        }
        if let Some(var) = self.llm.effective_api_key_env().map(str::to_string)
            && let Some(key) = get(&var)
        {
            self.llm.api_key = Some(Secret::new(key));
        }
        if let Some(secret) = get("JWT_SECRET") {
            self.auth.jwt_secret = Some(Secret::new(secret));
        }
        if let Some(key) = get("CBI_MASK_KEY") {
            self.access.mask_key = Some(Secret::new(key));
        }
        if let Some(origins) = get("CORS_ALLOWED_ORIGINS") {
            self.server.cors_allowed_origins = origins
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
                .collect();
        }
        if let Some(level) = get("RUST_LOG") {
            self.logging.level = level;
        }
        if let Some(workers) = get("TOKIO_WORKER_THREADS") {
            self.server.workers = workers.trim().parse().ok().filter(|&n: &usize| n > 0).ok_or_else(|| {
                Error::Config {
                    message: format!(
                        "environment variable TOKIO_WORKER_THREADS = {workers:?} is not a positive integer; set it to the number of worker threads, e.g. 16"
                    ),
                    key: Some("server.workers".into()),
                    file: None,
                    line: None,
                }
            })?;
        }
        Ok(())
    }

    /// Folds the runbook's flat `[production]` aliases into their sub-tables and checks every
    /// value. `file` names the source in error messages.
    pub fn resolve(&mut self, file: Option<&Path>) -> Result<()> {
        let bad = |key: &str, message: String| Error::Config {
            message: match file {
                Some(f) => format!("{}: {key}: {message}", f.display()),
                None => format!("{key}: {message}"),
            },
            key: Some(key.to_string()),
            file: file.map(Path::to_path_buf),
            line: None,
        };
        let p = &mut self.production;
        fold(
            &mut p.rate_limiting.enabled,
            p.enable_rate_limiting,
            true,
            "production.enable_rate_limiting",
            "production.rate_limiting.enabled",
            &bad,
        )?;
        fold(
            &mut p.rate_limiting.queries_per_minute,
            p.rate_limit_qpm,
            100,
            "production.rate_limit_qpm",
            "production.rate_limiting.queries_per_minute",
            &bad,
        )?;
        fold(
            &mut p.rate_limiting.burst_allowance,
            p.burst_allowance,
            20,
            "production.burst_allowance",
            "production.rate_limiting.burst_allowance",
            &bad,
        )?;
        fold(
            &mut p.security.enabled,
            p.enable_security_validation,
            true,
            "production.enable_security_validation",
            "production.security.enabled",
            &bad,
        )?;
        fold(
            &mut p.security.max_query_length,
            p.max_query_length,
            10_000,
            "production.max_query_length",
            "production.security.max_query_length",
            &bad,
        )?;
        fold(
            &mut p.security.max_context_size,
            p.max_context_size,
            1_000_000,
            "production.max_context_size",
            "production.security.max_context_size",
            &bad,
        )?;
        fold(
            &mut p.performance.enable_monitoring,
            p.enable_performance_monitoring,
            true,
            "production.enable_performance_monitoring",
            "production.performance.enable_monitoring",
            &bad,
        )?;
        fold(
            &mut p.performance.target_latency_ms,
            p.target_latency_ms,
            200,
            "production.target_latency_ms",
            "production.performance.target_latency_ms",
            &bad,
        )?;
        fold(
            &mut p.circuit_breaker.enabled,
            p.enable_circuit_breaker,
            true,
            "production.enable_circuit_breaker",
            "production.circuit_breaker.enabled",
            &bad,
        )?;
        fold(
            &mut p.circuit_breaker.failure_threshold,
            p.circuit_breaker_threshold,
            5,
            "production.circuit_breaker_threshold",
            "production.circuit_breaker.failure_threshold",
            &bad,
        )?;
        fold(
            &mut p.circuit_breaker.reset_timeout_secs,
            p.circuit_breaker_reset_timeout_secs,
            60,
            "production.circuit_breaker_reset_timeout_secs",
            "production.circuit_breaker.reset_timeout_secs",
            &bad,
        )?;
        self.check(&bad)
    }

    fn check(&self, bad: &dyn Fn(&str, String) -> Error) -> Result<()> {
        let positive = |key: &str, v: u64| {
            if v == 0 {
                Err(bad(key, "must be greater than 0".into()))
            } else {
                Ok(())
            }
        };
        positive("server.workers", self.server.workers as u64)?;
        self.check_security_switches(bad)?;
        positive(
            "server.request_timeout_secs",
            self.server.request_timeout_secs,
        )?;
        positive("server.max_body_bytes", self.server.max_body_bytes as u64)?;
        if self.server.max_body_bytes < self.production.security.max_query_length {
            return Err(bad(
                "server.max_body_bytes",
                format!(
                    "{} is smaller than production.security.max_query_length = {}: a question of the longest allowed length could not be sent; raise server.max_body_bytes",
                    self.server.max_body_bytes, self.production.security.max_query_length
                ),
            ));
        }
        positive("llm.timeout_secs", self.llm.timeout_secs)?;
        positive("llm.max_tokens", u64::from(self.llm.max_tokens))?;
        positive("database.max_rows", self.database.max_rows as u64)?;
        positive(
            "database.statement_timeout_ms",
            self.database.statement_timeout_ms,
        )?;
        positive("database.pool_size", u64::from(self.database.pool_size))?;
        positive(
            "database.max_result_bytes",
            self.database.max_result_bytes as u64,
        )?;
        positive(
            "database.max_concurrent_queries",
            self.database.max_concurrent_queries as u64,
        )?;
        positive(
            "database.connection_timeout_secs",
            self.database.connection_timeout_secs,
        )?;
        positive("session.max_turns", self.session.max_turns as u64)?;
        positive(
            "session.max_concurrent_sessions",
            self.session.max_concurrent_sessions,
        )?;
        positive(
            "session.session_timeout_minutes",
            self.session.session_timeout_minutes,
        )?;
        positive(
            "session.cleanup_interval_minutes",
            self.session.cleanup_interval_minutes,
        )?;
        positive("cache.max_size", self.cache.max_size)?;
        positive(
            "production.security.max_query_length",
            self.production.security.max_query_length as u64,
        )?;
        positive(
            "production.security.max_context_size",
            self.production.security.max_context_size as u64,
        )?;
        positive(
            "production.rate_limiting.queries_per_minute",
            u64::from(self.production.rate_limiting.queries_per_minute),
        )?;
        positive(
            "production.circuit_breaker.failure_threshold",
            u64::from(self.production.circuit_breaker.failure_threshold),
        )?;
        positive(
            "production.circuit_breaker.half_open_max_calls",
            u64::from(self.production.circuit_breaker.half_open_max_calls),
        )?;
        positive("llm.max_schema_tokens", self.llm.max_schema_tokens as u64)?;
        for (i, example) in self.llm.examples.iter().enumerate() {
            for (field, text) in [("question", &example.question), ("sql", &example.sql)] {
                if text.trim().is_empty() {
                    return Err(bad(
                        &format!("llm.examples[{i}].{field}"),
                        "is empty; every example needs a question and the SQL that answers it"
                            .into(),
                    ));
                }
            }
        }
        if !(0.0..=2.0).contains(&self.llm.temperature) {
            return Err(bad(
                "llm.temperature",
                format!("{} is outside 0.0..=2.0", self.llm.temperature),
            ));
        }
        let t = self.cache.similarity_threshold;
        if !(t > 0.0 && t <= 1.0) {
            return Err(bad(
                "cache.similarity_threshold",
                format!("{t} is outside (0, 1]; the runbook uses 0.85"),
            ));
        }
        if self.database.max_idle_connections > self.database.pool_size {
            return Err(bad(
                "database.max_idle_connections",
                format!(
                    "{} is larger than database.pool_size = {}",
                    self.database.max_idle_connections, self.database.pool_size
                ),
            ));
        }
        let rl = &self.production.rate_limiting;
        if let Some(rate) = rl.token_bucket_refill_rate
            && (rate - rl.refill_per_second()).abs() > 0.02 * rl.refill_per_second().max(0.01)
        {
            return Err(bad(
                "production.rate_limiting.token_bucket_refill_rate",
                format!(
                    "{rate} tokens/s disagrees with queries_per_minute = {} ({:.2} tokens/s); set queries_per_minute and leave the refill rate out",
                    rl.queries_per_minute,
                    rl.refill_per_second()
                ),
            ));
        }
        for (tenant, quota) in &rl.tenants {
            if quota.queries_per_minute == 0 {
                return Err(bad(
                    &format!("production.rate_limiting.tenants.{tenant}.queries_per_minute"),
                    "must be greater than 0".into(),
                ));
            }
        }
        let urls: [(&str, &Option<Secret>, UrlCheck); 2] = [
            ("database.url", &self.database.url, database_url_problem),
            ("redis.url", &self.redis.url, redis_url_problem),
        ];
        for (key, url, problem) in urls {
            if let Some(problem) = url.as_ref().and_then(|url| problem(url.expose())) {
                return Err(bad(key, problem));
            }
        }
        for column in &self.database.denied_columns {
            if column.split('.').filter(|p| !p.is_empty()).count() < 2 {
                return Err(bad(
                    "database.denied_columns",
                    format!("{column:?} is not of the form \"table.column\""),
                ));
            }
        }
        self.check_shared_stores(bad)?;
        self.check_feedback(bad)?;
        self.check_tenants(bad)?;
        crate::features::check_config(self, crate::features::Backends::COMPILED, bad)
    }

    /// `[tenants.<id>]` and `[database] max_tenant_pools`. A tenant id must be usable as the
    /// tenant of a token: not empty, without surrounding spaces or control characters; and it
    /// must not be `default` (in any case), the tenant of asks that name none, whose database is
    /// `[database]`: a `[tenants.default]` would quietly move those asks to another database
    /// while `schema` and the command line still read `[database]`.
    fn check_tenants(&self, bad: &dyn Fn(&str, String) -> Error) -> Result<()> {
        if self.database.max_tenant_pools == 0 {
            return Err(bad(
                "database.max_tenant_pools",
                "must be at least 1 (the default is 32)".into(),
            ));
        }
        for (id, tenant) in &self.tenants {
            let key = format!("tenants.{id}");
            if id.trim().is_empty() {
                return Err(bad(
                    &key,
                    "a tenant id must not be empty; name the table [tenants.<tenant id>]".into(),
                ));
            }
            if id.trim() != id || id.chars().any(char::is_control) {
                return Err(bad(
                    &key,
                    format!(
                        "the tenant id {id:?} has surrounding spaces or control characters; it must be the tenant id of the tokens exactly"
                    ),
                ));
            }
            if id.eq_ignore_ascii_case(crate::engine::DEFAULT_TENANT) {
                return Err(bad(
                    &key,
                    format!(
                        "{id:?} is the tenant of asks that name none, whose database is [database]; set [database] url instead"
                    ),
                ));
            }
            if let Some(problem) = database_url_problem(tenant.database_url.expose()) {
                return Err(bad(&format!("{key}.database_url"), problem));
            }
            if tenant.pool_size == Some(0) {
                return Err(bad(
                    &format!("{key}.pool_size"),
                    "must be at least 1; leave it out to use [database] pool_size".into(),
                ));
            }
        }
        Ok(())
    }

    /// `[feedback]`: a PostgreSQL store needs its URL, and limits must be positive.
    fn check_feedback(&self, bad: &dyn Fn(&str, String) -> Error) -> Result<()> {
        let f = &self.feedback;
        if f.refresh_secs == 0 {
            return Err(bad(
                "feedback.refresh_secs",
                "must be at least 1 (the default is 2)".into(),
            ));
        }
        if f.max_comment_chars == 0 {
            return Err(bad(
                "feedback.max_comment_chars",
                "must be greater than 0 (the default is 2000)".into(),
            ));
        }
        if f.max_sql_bytes == 0 {
            return Err(bad(
                "feedback.max_sql_bytes",
                "must be greater than 0 (the default is 20000)".into(),
            ));
        }
        match f.store {
            FeedbackStoreKind::Postgres => {
                let Some(url) = &f.url else {
                    return Err(bad(
                        "feedback.url",
                        "store = \"postgres\" needs the postgres:// URL of the database that keeps the feedback".into(),
                    ));
                };
                let url = url.expose();
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(bad(
                        "feedback.url",
                        "must be a postgres:// or postgresql:// URL".into(),
                    ));
                }
            }
            FeedbackStoreKind::Sqlite => {
                if f.url.is_some() {
                    return Err(bad(
                        "feedback.url",
                        "is read only with store = \"postgres\"; set store = \"postgres\", or set `path` for the SQLite file".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_shared_stores(&self, bad: &dyn Fn(&str, String) -> Error) -> Result<()> {
        let rl = &self.production.rate_limiting;
        if rl.burst_allowance == 0 {
            return Err(bad(
                "production.rate_limiting.burst_allowance",
                "must be at least 1 (the runbook uses 20)".into(),
            ));
        }
        for (tenant, quota) in &rl.tenants {
            if quota.burst_allowance == 0 {
                return Err(bad(
                    &format!("production.rate_limiting.tenants.{tenant}.burst_allowance"),
                    "must be at least 1".into(),
                ));
            }
        }
        for (key, store) in [
            ("cache.store", self.cache.store),
            ("session.store", self.session.store),
            ("production.rate_limiting.store", rl.store),
        ] {
            if store == Some(StoreKind::Redis) && self.redis.url.is_none() {
                return Err(bad(
                    key,
                    "\"redis\" needs a Redis URL: set [redis] url or the REDIS_URL environment variable".into(),
                ));
            }
        }
        if self.redis.timeout_ms == 0 {
            return Err(bad("redis.timeout_ms", "must be greater than 0".into()));
        }
        Ok(())
    }

    /// Where the semantic cache lives: `[cache] store`, or Redis when a Redis URL is set.
    pub fn cache_store(&self) -> StoreKind {
        self.store_or_auto(self.cache.store)
    }

    /// Where sessions live: `[session] store`, or Redis when a Redis URL is set.
    pub fn session_store(&self) -> StoreKind {
        self.store_or_auto(self.session.store)
    }

    /// Where rate limits live: `[production.rate_limiting] store`, or Redis when a Redis URL is
    /// set.
    pub fn rate_limit_store(&self) -> StoreKind {
        self.store_or_auto(self.production.rate_limiting.store)
    }

    /// Whether the prompt ranks schema elements and few-shot examples with the provider's
    /// embeddings: when a model provider is configured and either `[llm] embedding_model` is set
    /// or `[cache] embedder = "provider"`. Otherwise ranking is lexical (and by known values).
    pub fn prompt_uses_embeddings(&self) -> bool {
        self.llm.provider != LlmProviderKind::Rule
            && (self.llm.embedding_model.is_some() || self.cache.embedder == EmbedderKind::Provider)
    }

    fn store_or_auto(&self, store: Option<StoreKind>) -> StoreKind {
        store.unwrap_or(if self.redis.url.is_some() {
            StoreKind::Redis
        } else {
            StoreKind::Memory
        })
    }

    /// The configured database URL, or `None` for the built-in demo database.
    pub fn database_url(&self) -> Option<&str> {
        self.database.url.as_ref().map(Secret::expose)
    }

    /// The per-source limits of `[database]` for the executor.
    pub fn source_options(&self) -> crate::exec::SourceOptions {
        crate::exec::SourceOptions {
            max_rows: self.database.max_rows,
            statement_timeout_ms: self.database.statement_timeout_ms,
            pool_size: self.database.pool_size,
            connection_timeout_secs: self.database.connection_timeout_secs,
            max_result_bytes: self.database.max_result_bytes,
            max_concurrent_queries: self.database.max_concurrent_queries,
            allowed_tables: self.database.allowed_tables.clone(),
            denied_columns: self.database.denied_columns.clone(),
        }
    }

    /// The `[production.security]` switches name protections that are always on; turning one
    /// off is refused with the reason, rather than accepted and ignored.
    fn check_security_switches(&self, bad: &dyn Fn(&str, String) -> Error) -> Result<()> {
        let s = &self.production.security;
        let switches: [(&str, bool, &str); 4] = [
            (
                "production.security.enabled",
                s.enabled,
                "the input limits and the SQL validator are what keep questions bounded and generated SQL \
                 read-only and within [database] allowed_tables and denied_columns",
            ),
            (
                "production.security.sql_injection_detection",
                s.sql_injection_detection,
                "every statement, from a model, the rule generator or a person, is parsed as the database reads it, \
                 checked and rendered again by the validator; there is no unchecked path to turn on",
            ),
            (
                "production.security.input_sanitization",
                s.input_sanitization,
                "questions are always cleaned of control, zero-width and bidirectional characters before they reach \
                 a generator, the cache or a log line, so that what a person sees is what the engine reads",
            ),
            (
                "production.security.output_sanitization",
                s.output_sanitization,
                "the SQL in every answer is the validator's rendering, without comments or hints; there is no \
                 unsanitized statement to show",
            ),
        ];
        for (key, on, why) in switches {
            if !on {
                return Err(bad(
                    key,
                    format!("cannot be turned off: {why}; remove the key or set it to true"),
                ));
            }
        }
        Ok(())
    }

    /// The validator's policy from `[database]`.
    pub fn validator_options(&self) -> crate::sql::ValidatorOptions {
        crate::sql::ValidatorOptions {
            max_rows: self.database.max_rows,
            allowed_tables: self.database.allowed_tables.clone(),
            denied_columns: self.database.denied_columns.clone(),
        }
    }
}

/// A check of a URL: why it cannot be used, or `None`.
type UrlCheck = fn(&str) -> Option<String>;

/// Why `url` cannot name a database, or `None` when it can (the password is never shown).
pub(crate) fn database_url_problem(url: &str) -> Option<String> {
    (Dialect::from_url(url).is_none() && !looks_like_sqlite_path(url)).then(|| {
        format!(
            "unsupported database URL {}; use sqlite://PATH, postgres://USER@HOST/DB or mysql://USER@HOST/DB",
            crate::error::redact_url(url)
        )
    })
}

/// Why `url` cannot name a Redis server, or `None` when it can.
fn redis_url_problem(url: &str) -> Option<String> {
    (!(url.starts_with("redis://") || url.starts_with("rediss://")))
        .then(|| "must start with redis:// or rediss://".to_string())
}

/// Whether a database URL without a known scheme is a plain SQLite file path.
pub fn looks_like_sqlite_path(url: &str) -> bool {
    !url.contains("://")
        && [".sqlite", ".sqlite3", ".db"]
            .iter()
            .any(|ext| url.ends_with(ext))
}

/// Folds a flat `[production]` alias into its sub-table key. The alias applies when the
/// sub-table key still has its default; two different explicit values are an error.
fn fold<T: PartialEq + Copy + std::fmt::Debug>(
    target: &mut T,
    alias: Option<T>,
    default: T,
    alias_key: &str,
    key: &str,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<()> {
    match alias {
        Some(v) if *target == default => {
            *target = v;
            Ok(())
        }
        Some(v) if *target != v => Err(bad(
            key,
            format!(
                "{key} = {:?} conflicts with {alias_key} = {v:?}; keep one of them",
                *target
            ),
        )),
        _ => Ok(()),
    }
}

impl Config {
    /// A configuration error about `key`, found after loading (e.g. against the catalog): names
    /// the file and the key's line when the configuration came from a file.
    /// The files of `[semantic] model`, relative ones read from the configuration file's
    /// folder.
    pub fn semantic_paths(&self) -> Vec<PathBuf> {
        let base = self.origin.as_ref().and_then(|f| f.parent());
        self.semantic
            .model
            .iter()
            .map(|p| match base {
                Some(b) if p.is_relative() => b.join(p),
                _ => p.clone(),
            })
            .collect()
    }

    /// The SQLite file of `[feedback]`: `path` (a relative one read from the configuration
    /// file's folder), else `feedback.db` beside the configuration file, else in the data
    /// folder (`$XDG_DATA_HOME/heliosdb-conversational-bi/`, or
    /// `~/.local/share/heliosdb-conversational-bi/`, or the temporary folder without a home).
    pub fn feedback_path(&self) -> PathBuf {
        let base = self.origin.as_ref().and_then(|f| f.parent());
        match (&self.feedback.path, base) {
            (Some(p), Some(b)) if p.is_relative() => b.join(p),
            (Some(p), _) => p.clone(),
            (None, Some(b)) => b.join("feedback.db"),
            (None, None) => data_dir().join("feedback.db"),
        }
    }

    pub(crate) fn error_at(&self, key: &str, message: String) -> Error {
        let line = self
            .origin
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .and_then(|text| locate_key(&text, key));
        let place = match (&self.origin, line) {
            (Some(f), Some(l)) => format!("{}:{l}: ", f.display()),
            (Some(f), None) => format!("{}: ", f.display()),
            _ => String::new(),
        };
        Error::Config {
            message: format!("{place}key `{key}`: {message}"),
            key: Some(key.to_string()),
            file: self.origin.clone(),
            line,
        }
    }
}

/// The dotted segments of a key path (`a.b."c.d"[0]` → `a`, `b`, `c.d`).
fn key_segments(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in key.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(std::mem::take(&mut cur)),
            '[' if !quoted => {
                out.push(std::mem::take(&mut cur));
                break;
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.retain(|s| !s.is_empty());
    out
}

/// The 1-based line of `key` in TOML `text`: the line of its `name = ...`, or of the inline
/// table or array that holds it, under the table header that leads to it.
fn locate_key(text: &str, key: &str) -> Option<usize> {
    let want = key_segments(key);
    let mut header: Vec<String> = Vec::new();
    let mut best = None;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            let inner = t.trim_start_matches('[').trim_end_matches(']');
            header = key_segments(inner.trim());
            continue;
        }
        let Some((name, value)) = t.split_once('=') else {
            continue;
        };
        let mut full = header.clone();
        full.extend(key_segments(name.trim()));
        if full.len() <= want.len() && want[..full.len()] == full[..] {
            let rest = &want[full.len()..];
            if rest.is_empty() {
                return Some(n + 1);
            }
            if rest.iter().all(|r| value.contains(r.as_str())) {
                best = Some(n + 1);
            }
        }
    }
    best
}

fn toml_error(e: &toml::de::Error, path: Option<String>, text: &str, file: Option<&Path>) -> Error {
    let line = e
        .span()
        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let message = redact_urls_in(e.message().trim_end());
    let key = key_path(path, &message);
    let place = match (file, line) {
        (Some(f), Some(l)) => format!("{}:{l}", f.display()),
        (Some(f), None) => f.display().to_string(),
        (None, Some(l)) => format!("line {l}"),
        (None, None) => "configuration".to_string(),
    };
    let what = match &key {
        Some(k) => format!("{place}: key `{k}`: {message}"),
        None => format!("{place}: {message}"),
    };
    Error::Config {
        message: what,
        key,
        file: file.map(PathBuf::from),
        line,
    }
}

/// The dotted path of the key an error is about: `path` from `serde_path_to_error`, completed
/// with the unknown key a message names.
fn key_path(path: Option<String>, message: &str) -> Option<String> {
    let key = path
        .filter(|p| !p.is_empty() && p != ".")
        .or_else(|| unknown_field(message));
    match (key, unknown_field(message)) {
        // serde_path_to_error stops at the table that holds an unknown key: name the key too.
        (Some(k), Some(field)) if !k.ends_with(&field) => Some(format!("{k}.{field}")),
        (k, _) => k,
    }
}

/// `message` with the password of every URL in it replaced by `***`: a value quoted by a
/// parse error may be a connection URL.
fn redact_urls_in(message: &str) -> String {
    message
        .split_inclusive(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`'))
        .map(|word| {
            if word.contains("://") {
                crate::error::redact_url(word)
            } else {
                word.to_string()
            }
        })
        .collect()
}

fn unknown_field(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    Some(rest.split('`').next()?.to_string())
}

#[cfg(test)]
mod tests;

/// The folder of the engine's own data: `$XDG_DATA_HOME/heliosdb-conversational-bi`, else
/// `~/.local/share/heliosdb-conversational-bi`, else the temporary folder's.
fn data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("share"))
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join("heliosdb-conversational-bi")
}
