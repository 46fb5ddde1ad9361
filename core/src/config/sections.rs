//! The sections of the configuration file, one struct each, with the runbook's defaults.

use std::{collections::BTreeMap, path::PathBuf};

use serde::{Deserialize, Serialize};

use super::Secret;

/// `[server]`: the HTTP API.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to bind. Default `"0.0.0.0"`.
    pub host: String,
    /// Port of the API. Default `8080`.
    pub port: u16,
    /// Tokio worker threads. Default `16`; `TOKIO_WORKER_THREADS` overrides.
    pub workers: usize,
    /// Origins allowed by CORS. Default none; `CORS_ALLOWED_ORIGINS` (comma-separated) overrides.
    pub cors_allowed_origins: Vec<String>,
    /// Longest time one API request may take before it is answered `504`. Default `60`.
    pub request_timeout_secs: u64,
    /// Largest accepted request body, in bytes; larger bodies are answered `413`. Default
    /// `65536`.
    pub max_body_bytes: usize,
    /// On SIGTERM, how long requests in flight may still run before the process exits.
    /// Default `30`.
    pub shutdown_timeout_secs: u64,
    /// Proxies (addresses or CIDR blocks, e.g. `"127.0.0.1"` for nginx on the same host) whose
    /// `X-Forwarded-For` / `X-Real-IP` name the client. Default none: the client is the socket's
    /// peer and those headers are ignored.
    pub trusted_proxies: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".into(),
            port: 8080,
            workers: 16,
            cors_allowed_origins: Vec::new(),
            request_timeout_secs: 60,
            max_body_bytes: 65_536,
            shutdown_timeout_secs: 30,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Which SQL generator answers questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LlmProviderKind {
    /// OpenAI chat completions (and compatible endpoints via `base_url`).
    Openai,
    /// Anthropic Messages.
    Anthropic,
    /// Cohere Chat v2.
    Cohere,
    /// A local Ollama server.
    Ollama,
    /// The offline rule-based generator: no model, no key, no network.
    Rule,
}

impl LlmProviderKind {
    /// The environment variable that holds this provider's key by default.
    pub fn default_api_key_env(self) -> Option<&'static str> {
        match self {
            Self::Openai => Some("OPENAI_API_KEY"),
            Self::Anthropic => Some("ANTHROPIC_API_KEY"),
            Self::Cohere => Some("COHERE_API_KEY"),
            Self::Ollama | Self::Rule => None,
        }
    }
}

/// What answers when the LLM provider fails or its circuit breaker is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// The offline rule-based generator answers; the answer is marked degraded.
    Rule,
    /// No fallback: the error is returned.
    None,
}

/// `[llm]`: the model that writes SQL.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// `"openai" | "anthropic" | "cohere" | "ollama" | "rule"`. Default `"rule"`: the engine runs
    /// with no key and no network until a provider is configured.
    pub provider: LlmProviderKind,
    /// Model name. Default `"gpt-4"`.
    pub model: String,
    /// Name of the environment variable holding the API key. Default: the provider's own
    /// (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `COHERE_API_KEY`).
    pub api_key_env: Option<String>,
    /// Override of the provider's API address (OpenAI-compatible servers, proxies, tests).
    pub base_url: Option<String>,
    /// The provider's embedding model, for `[cache] embedder = "provider"` and schema ranking.
    /// Setting it (or `[cache] embedder = "provider"`) makes the prompt rank tables, columns and
    /// few-shot examples by the provider's embeddings as well as lexically. Default:
    /// `text-embedding-3-small` (OpenAI), `embed-v4.0` (Cohere), `nomic-embed-text` (Ollama);
    /// Anthropic has no embeddings.
    pub embedding_model: Option<String>,
    /// Request timeout in seconds. Default `30`.
    pub timeout_secs: u64,
    /// Retries of a failed or rejected generation. Default `3`.
    pub max_retries: u32,
    /// Maximum tokens of a completion. Default `500`.
    pub max_tokens: u32,
    /// Sampling temperature. Default `0.1`.
    pub temperature: f64,
    /// Fallback when the provider fails. Default `"rule"`.
    pub fallback: Fallback,
    /// Send no sample values and no result rows to the provider. Default `false`.
    pub privacy_mode: bool,
    /// Token budget of the schema part of a prompt. Default `4000`.
    pub max_schema_tokens: usize,
    /// Verified question–SQL pairs (`[[llm.examples]]`); the most similar go into the prompt.
    /// Each SQL must pass the validator against the database's schema when the engine starts.
    /// Default none.
    pub examples: Vec<FewShotExample>,
    /// The API key, read from the environment variable named by `api_key_env`; never from the
    /// file.
    #[serde(skip)]
    pub api_key: Option<Secret>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            provider: LlmProviderKind::Rule,
            model: "gpt-4".into(),
            api_key_env: None,
            base_url: None,
            embedding_model: None,
            timeout_secs: 30,
            max_retries: 3,
            max_tokens: 500,
            temperature: 0.1,
            fallback: Fallback::Rule,
            privacy_mode: false,
            max_schema_tokens: 4000,
            examples: Vec::new(),
            api_key: None,
        }
    }
}

impl LlmConfig {
    /// The environment variable the key is read from, if the provider needs one.
    pub fn effective_api_key_env(&self) -> Option<&str> {
        self.api_key_env
            .as_deref()
            .or(self.provider.default_api_key_env())
    }
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("api_key_env", &self.api_key_env)
            .field("base_url", &self.base_url)
            .field("embedding_model", &self.embedding_model)
            .field("timeout_secs", &self.timeout_secs)
            .field("max_retries", &self.max_retries)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field("fallback", &self.fallback)
            .field("privacy_mode", &self.privacy_mode)
            .field("max_schema_tokens", &self.max_schema_tokens)
            .field("examples", &self.examples.len())
            .field("api_key", &self.api_key)
            .finish()
    }
}

/// A question with SQL known to answer it (`[[llm.examples]]`), shown to the model as an
/// example when a similar question is asked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FewShotExample {
    /// The question, in plain words.
    pub question: String,
    /// SQL that answers it on the configured database.
    pub sql: String,
}

impl FewShotExample {
    /// An example pair.
    pub fn new(question: impl Into<String>, sql: impl Into<String>) -> Self {
        Self {
            question: question.into(),
            sql: sql.into(),
        }
    }
}

/// `[production]`: the runbook's production switches. The flat keys shown in the runbook's
/// Step 2 are aliases of the sub-tables' keys (`rate_limit_qpm` is
/// `rate_limiting.queries_per_minute`, and so on); they are folded into the sub-tables when the
/// configuration is resolved.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProductionConfig {
    /// Alias of `rate_limiting.enabled`.
    pub enable_rate_limiting: Option<bool>,
    /// Alias of `rate_limiting.queries_per_minute`.
    pub rate_limit_qpm: Option<u32>,
    /// Alias of `rate_limiting.burst_allowance`.
    pub burst_allowance: Option<u32>,
    /// Alias of `security.enabled`.
    pub enable_security_validation: Option<bool>,
    /// Alias of `security.max_query_length`.
    pub max_query_length: Option<usize>,
    /// Alias of `security.max_context_size`.
    pub max_context_size: Option<usize>,
    /// Alias of `performance.enable_monitoring`.
    pub enable_performance_monitoring: Option<bool>,
    /// Alias of `performance.target_latency_ms`.
    pub target_latency_ms: Option<u64>,
    /// Alias of `circuit_breaker.enabled`.
    pub enable_circuit_breaker: Option<bool>,
    /// Alias of `circuit_breaker.failure_threshold`.
    pub circuit_breaker_threshold: Option<u32>,
    /// Alias of `circuit_breaker.reset_timeout_secs`.
    pub circuit_breaker_reset_timeout_secs: Option<u64>,
    /// `[production.rate_limiting]`.
    pub rate_limiting: RateLimitingConfig,
    /// `[production.security]`.
    pub security: SecurityConfig,
    /// `[production.performance]`.
    pub performance: PerformanceConfig,
    /// `[production.circuit_breaker]`.
    pub circuit_breaker: CircuitBreakerConfig,
}

/// Where shared state lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// In this process only.
    Memory,
    /// In Redis (`REDIS_URL`), shared by every instance.
    Redis,
}

/// `[production.rate_limiting]`: per-tenant token buckets.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitingConfig {
    /// Default `true`.
    pub enabled: bool,
    /// Sustained queries per minute per tenant. Default `100`.
    pub queries_per_minute: u32,
    /// Burst capacity above the sustained rate. Default `20`.
    pub burst_allowance: u32,
    /// Tokens per second; always `queries_per_minute / 60` (default `1.67`). Accepted for the
    /// runbook's sake; a value that disagrees with `queries_per_minute` is an error.
    pub token_bucket_refill_rate: Option<f64>,
    /// `"memory"` (per instance) or `"redis"` (one quota shared by every instance). Default:
    /// `"redis"` when a Redis URL is configured (`[redis] url` or `REDIS_URL`), else `"memory"`.
    pub store: Option<StoreKind>,
    /// Per-tenant quotas that override the defaults, keyed by tenant id.
    pub tenants: BTreeMap<String, TenantQuota>,
}

impl Default for RateLimitingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            queries_per_minute: 100,
            burst_allowance: 20,
            token_bucket_refill_rate: None,
            store: None,
            tenants: BTreeMap::new(),
        }
    }
}

impl RateLimitingConfig {
    /// Tokens added per second.
    pub fn refill_per_second(&self) -> f64 {
        f64::from(self.queries_per_minute) / 60.0
    }
}

/// `[production.rate_limiting.tenants.<tenant_id>]`: one tenant's quota.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantQuota {
    /// Sustained queries per minute.
    pub queries_per_minute: u32,
    /// Burst capacity.
    pub burst_allowance: u32,
}

/// `[production.security]`: input limits, and the runbook's names for protections that are
/// always on (`false` for any of the four switches is a configuration error that says why).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// The input limits and the SQL validator; always on. Default `true`.
    pub enabled: bool,
    /// Longest accepted question, in bytes. Default `10000`.
    pub max_query_length: usize,
    /// Largest conversation context kept per session, in bytes. Default `1000000`.
    pub max_context_size: usize,
    /// Every statement is parsed as the database reads it, checked against the policy and
    /// rendered again before it runs; always on. Default `true`.
    pub sql_injection_detection: bool,
    /// Questions are cleaned of control, zero-width and bidirectional characters; always on.
    /// Default `true`.
    pub input_sanitization: bool,
    /// The SQL of answers is the validator's rendering, without comments or hints; always on.
    /// Default `true`.
    pub output_sanitization: bool,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_query_length: 10_000,
            max_context_size: 1_000_000,
            sql_injection_detection: true,
            input_sanitization: true,
            output_sanitization: true,
        }
    }
}

/// `[production.performance]`: latency targets and slow-query logging.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerformanceConfig {
    /// Default `200`.
    pub target_latency_ms: u64,
    /// Default `500`.
    pub max_latency_ms: u64,
    /// Default `true`.
    pub enable_monitoring: bool,
    /// Queries slower than this are logged as slow. Default `300`.
    pub slow_query_threshold_ms: u64,
}

impl Default for PerformanceConfig {
    fn default() -> Self {
        Self {
            target_latency_ms: 200,
            max_latency_ms: 500,
            enable_monitoring: true,
            slow_query_threshold_ms: 300,
        }
    }
}

/// `[production.circuit_breaker]`: protection of the LLM provider.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CircuitBreakerConfig {
    /// Default `true`.
    pub enabled: bool,
    /// Consecutive failures before the breaker opens. Default `5`.
    pub failure_threshold: u32,
    /// Seconds open before probes are let through. Default `60`.
    pub reset_timeout_secs: u64,
    /// Probes allowed while half-open. Default `3`.
    pub half_open_max_calls: u32,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            failure_threshold: 5,
            reset_timeout_secs: 60,
            half_open_max_calls: 3,
        }
    }
}

/// Which embedder the semantic cache uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderKind {
    /// The built-in lexical embedder: no model, deterministic.
    Builtin,
    /// The configured provider's embeddings.
    Provider,
}

/// `[cache]`: the semantic cache.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Default `true`.
    pub enabled: bool,
    /// Entries kept (LRU). Default `10000`.
    pub max_size: u64,
    /// Cosine similarity needed for a hit. Default `0.85`.
    pub similarity_threshold: f64,
    /// Entry lifetime. Default `3600`.
    pub ttl_seconds: u64,
    /// `"memory"` or `"redis"` (shared by every instance). Default: `"redis"` when a Redis URL
    /// is configured (`[redis] url` or `REDIS_URL`), else `"memory"`.
    pub store: Option<StoreKind>,
    /// `"builtin"` or `"provider"`. Default `"builtin"`.
    pub embedder: EmbedderKind,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_size: 10_000,
            similarity_threshold: 0.85,
            ttl_seconds: 3600,
            store: None,
            embedder: EmbedderKind::Builtin,
        }
    }
}

/// `[session]`: conversations.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Sessions kept at once. Default `10000`.
    pub max_concurrent_sessions: u64,
    /// Idle minutes before a session is dropped. Default `30`.
    pub session_timeout_minutes: u64,
    /// Minutes between sweeps of expired sessions. Default `5`.
    pub cleanup_interval_minutes: u64,
    /// `"memory"` or `"redis"` (a conversation continues on any instance). Default: `"redis"`
    /// when a Redis URL is configured (`[redis] url` or `REDIS_URL`), else `"memory"`.
    pub store: Option<StoreKind>,
    /// Turns kept per session. Default `10`.
    pub max_turns: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            max_concurrent_sessions: 10_000,
            session_timeout_minutes: 30,
            cleanup_interval_minutes: 5,
            store: None,
            max_turns: 10,
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (the runbook's format).
    Json,
    /// Human-readable text.
    Text,
}

/// `[logging]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    /// Level or filter directive. Default `"info"`; `RUST_LOG` overrides.
    pub level: String,
    /// `"json"` or `"text"`. Default `"json"`.
    pub format: LogFormat,
    /// `"stdout"`, `"stderr"` or a file path. Default `"stdout"` (the runbook's deployment
    /// writes `/var/log/heliosdb/conversational-bi.log`).
    pub output: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Json,
            output: "stdout".into(),
        }
    }
}

/// `[metrics]`: the Prometheus endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Default `true`.
    pub enabled: bool,
    /// Port of the separate metrics listener. Default `9090`.
    pub prometheus_port: u16,
    /// Address the metrics listener binds; it has no authentication. Default `"127.0.0.1"`
    /// (not `[server] host`).
    pub host: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            prometheus_port: 9090,
            host: "127.0.0.1".into(),
        }
    }
}

/// `[semantic]`: the business's semantic model (see `docs/semantic-model.md`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SemanticConfig {
    /// Model files: YAML in the engine's shape or dbt MetricFlow `semantic_models:` /
    /// `metrics:` files. One path or a list; relative paths are read from the configuration
    /// file's folder. Default none.
    #[serde(deserialize_with = "one_or_many")]
    pub model: Vec<PathBuf>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(p) => vec![p],
        OneOrMany::Many(v) => v,
    })
}

/// Where feedback and promoted verified queries live (`[feedback] store`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackStoreKind {
    /// An embedded SQLite file (`[feedback] path`), written with WAL and `synchronous = FULL`.
    #[default]
    Sqlite,
    /// A PostgreSQL database (`[feedback] url`), shared by every instance.
    Postgres,
}

/// `[feedback]`: users' ratings and corrections of answers, and the verified queries admins
/// promote from them (see `docs/feedback.md`).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedbackConfig {
    /// `"sqlite"` (default) or `"postgres"`.
    pub store: FeedbackStoreKind,
    /// The SQLite file. Default: `feedback.db` beside the configuration file when there is
    /// one, else in the data folder (`$XDG_DATA_HOME/heliosdb-conversational-bi/`, or
    /// `~/.local/share/heliosdb-conversational-bi/`). A relative path is read from the
    /// configuration file's folder. The file is created at the first feedback.
    pub path: Option<PathBuf>,
    /// The `postgres://` URL of `store = "postgres"`.
    pub url: Option<Secret>,
    /// Seconds between checks of the promoted verified queries' version (one cheap read per
    /// tenant), so that a promotion on one instance is seen on every other. Default `2`.
    pub refresh_secs: u64,
    /// Longest comment, in characters. Default `2000`.
    pub max_comment_chars: usize,
    /// Longest corrected SQL, in bytes. Default `20000`.
    pub max_sql_bytes: usize,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        Self {
            store: FeedbackStoreKind::Sqlite,
            path: None,
            url: None,
            refresh_secs: 2,
            max_comment_chars: 2000,
            max_sql_bytes: 20_000,
        }
    }
}

impl std::fmt::Debug for FeedbackConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedbackConfig")
            .field("store", &self.store)
            .field("path", &self.path)
            .field("url", &self.url.as_ref().map(|_| "***"))
            .field("refresh_secs", &self.refresh_secs)
            .field("max_comment_chars", &self.max_comment_chars)
            .field("max_sql_bytes", &self.max_sql_bytes)
            .finish()
    }
}

/// `[database]`: the data source and its limits.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Connection URL (`sqlite://`, `postgres://`, `mysql://`). Default: the Chinook demo
    /// database; `DATABASE_URL` overrides.
    pub url: Option<Secret>,
    /// Rows returned at most; more are cut and the answer says `truncated`. Default `1000`.
    pub max_rows: usize,
    /// Statement timeout in milliseconds. Default `5000`.
    pub statement_timeout_ms: u64,
    /// When non-empty, only these tables may be queried.
    pub allowed_tables: Vec<String>,
    /// Columns that may never be read, as `table.column` (e.g. personal data).
    pub denied_columns: Vec<String>,
    /// Pooled connections. Default `50`.
    pub pool_size: u32,
    /// Idle connections kept. Default `25`.
    pub max_idle_connections: u32,
    /// Seconds to wait for a connection. Default `30`.
    pub connection_timeout_secs: u64,
    /// Bytes of values returned at most per statement; more are cut and the answer says
    /// `truncated`. Default `4194304` (4 MiB).
    pub max_result_bytes: usize,
    /// Statements running at once on the database; more wait for a free slot. Default `16`.
    pub max_concurrent_queries: usize,
    /// Tenant databases (`[tenants.<id>]`) open at once; opening one more closes the one used
    /// least recently. Default `32`.
    pub max_tenant_pools: usize,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_rows: 1000,
            statement_timeout_ms: 5000,
            allowed_tables: Vec::new(),
            denied_columns: Vec::new(),
            pool_size: 50,
            max_idle_connections: 25,
            connection_timeout_secs: 30,
            max_result_bytes: 4 * 1024 * 1024,
            max_concurrent_queries: 16,
            max_tenant_pools: 32,
        }
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field(
                "url",
                &self
                    .url
                    .as_ref()
                    .map(|u| crate::error::redact_url(u.expose())),
            )
            .field("max_rows", &self.max_rows)
            .field("statement_timeout_ms", &self.statement_timeout_ms)
            .field("allowed_tables", &self.allowed_tables)
            .field("denied_columns", &self.denied_columns)
            .field("pool_size", &self.pool_size)
            .field("max_idle_connections", &self.max_idle_connections)
            .field("connection_timeout_secs", &self.connection_timeout_secs)
            .field("max_result_bytes", &self.max_result_bytes)
            .field("max_concurrent_queries", &self.max_concurrent_queries)
            .field("max_tenant_pools", &self.max_tenant_pools)
            .finish()
    }
}

/// `[redis]`: the shared store of sessions, cache and rate limits.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://` URL; `REDIS_URL` overrides. Default none (memory stores).
    pub url: Option<Secret>,
    /// First part of every key, so that deployments can share one Redis. Default `"cbi"`.
    pub key_prefix: String,
    /// Deadline of one Redis command, connecting included, in milliseconds. Default `1000`.
    pub timeout_ms: u64,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            key_prefix: "cbi".into(),
            timeout_ms: 1000,
        }
    }
}

/// One API user of `[auth] users`.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthUser {
    /// Login name.
    pub username: String,
    /// Argon2 hash of the password (`heliosdb-conversational-bi hash-password`).
    pub password_hash: Secret,
    /// The tenant the user's queries belong to.
    pub tenant_id: String,
    /// `"analyst"`, `"admin"` and/or data roles of `[access.roles]`.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Attributes that row filters read as `{user.<name>}` (e.g. `employee_id = 3`).
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
}

impl std::fmt::Debug for AuthUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthUser")
            .field("username", &self.username)
            .field("password_hash", &self.password_hash)
            .field("tenant_id", &self.tenant_id)
            .field("roles", &self.roles)
            .field("attributes", &self.attributes)
            .finish()
    }
}

/// `[auth]`: JWT login for the HTTP API.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `iss` of issued tokens. Default `"heliosdb-conversational-bi"`.
    pub issuer: String,
    /// `aud` of issued tokens. Default `"heliosdb-conversational-bi"`.
    pub audience: String,
    /// Token lifetime. Default `3600`.
    pub token_ttl_secs: u64,
    /// The users who may log in.
    pub users: Vec<AuthUser>,
    /// Failed logins allowed from one client address; the allowance refills in
    /// `failed_login_window_secs`. Default `10`.
    pub max_failed_logins_per_ip: u32,
    /// Failed logins allowed for one user name (existing or not). Default `5`.
    pub max_failed_logins_per_user: u32,
    /// The time in which a spent allowance of failed logins refills completely. Default `300`.
    pub failed_login_window_secs: u64,
    /// Password checks (argon2) running at once. Default `4`.
    pub max_concurrent_password_checks: usize,
    /// How long a login waits for a free password check before it is answered 503. Default
    /// `1000`.
    pub password_check_wait_ms: u64,
    /// HS256 signing secret, from `JWT_SECRET` only (never the file).
    #[serde(skip)]
    pub jwt_secret: Option<Secret>,
    /// External identity providers whose tokens are accepted besides the built-in login.
    pub issuers: Vec<super::IssuerConfig>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: "heliosdb-conversational-bi".into(),
            audience: "heliosdb-conversational-bi".into(),
            token_ttl_secs: 3600,
            users: Vec::new(),
            max_failed_logins_per_ip: 10,
            max_failed_logins_per_user: 5,
            failed_login_window_secs: 300,
            max_concurrent_password_checks: 4,
            password_check_wait_ms: 1000,
            jwt_secret: None,
            issuers: Vec::new(),
        }
    }
}
