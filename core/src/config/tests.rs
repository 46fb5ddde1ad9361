use std::collections::HashMap;

use super::*;

const RUNBOOK_EXAMPLE: &str = include_str!("../../../examples/conversational-bi.toml");

/// The runbook's "Production Configuration Options", "Connection Pooling" and "LLM
/// Optimization" snippets, as one file.
const RUNBOOK_OPTIONS: &str = r#"
[production.rate_limiting]
enabled = true
queries_per_minute = 100 # Per tenant
burst_allowance = 20 # Burst capacity
token_bucket_refill_rate = 1.67 # tokens/second

[production.security]
enabled = true
max_query_length = 10000
max_context_size = 1000000
sql_injection_detection = true
input_sanitization = true
output_sanitization = true

[production.performance]
target_latency_ms = 200
max_latency_ms = 500
enable_monitoring = true
slow_query_threshold_ms = 300

[production.circuit_breaker]
enabled = true
failure_threshold = 5 # Failures before opening
reset_timeout_secs = 60 # Time before retry
half_open_max_calls = 3 # Test calls in half-open state

[database]
pool_size = 50
max_idle_connections = 25
connection_timeout_secs = 30

[llm]
timeout_secs = 15 # Reduced from 30
max_tokens = 500 # Limit response size
temperature = 0.1 # More deterministic
"#;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn parse(text: &str) -> Result<Config> {
    let mut c = Config::from_toml_str(text, Some(Path::new("conversational-bi.toml")))?;
    c.resolve(Some(Path::new("conversational-bi.toml")))?;
    Ok(c)
}

#[test]
fn runbook_example_parses_as_is() {
    let c = parse(RUNBOOK_EXAMPLE).expect("the runbook's file parses");
    assert_eq!(c.server.host, "0.0.0.0");
    assert_eq!(c.server.port, 8080);
    assert_eq!(c.server.workers, 16);
    assert_eq!(c.llm.provider, LlmProviderKind::Openai);
    assert_eq!(c.llm.model, "gpt-4");
    assert_eq!(c.llm.effective_api_key_env(), Some("OPENAI_API_KEY"));
    assert_eq!(c.llm.timeout_secs, 30);
    assert_eq!(c.llm.max_retries, 3);
    assert_eq!(c.production.rate_limiting.queries_per_minute, 100);
    assert_eq!(c.production.rate_limiting.burst_allowance, 20);
    assert_eq!(c.production.security.max_query_length, 10_000);
    assert_eq!(c.production.security.max_context_size, 1_000_000);
    assert_eq!(c.production.performance.target_latency_ms, 200);
    assert_eq!(c.production.circuit_breaker.failure_threshold, 5);
    assert_eq!(c.production.circuit_breaker.reset_timeout_secs, 60);
    assert!(c.cache.enabled);
    assert_eq!(c.cache.max_size, 10_000);
    assert!((c.cache.similarity_threshold - 0.85).abs() < 1e-12);
    assert_eq!(c.cache.ttl_seconds, 3600);
    assert_eq!(c.session.max_concurrent_sessions, 10_000);
    assert_eq!(c.session.session_timeout_minutes, 30);
    assert_eq!(c.session.cleanup_interval_minutes, 5);
    assert_eq!(c.logging.format, LogFormat::Json);
    assert_eq!(c.logging.output, "/var/log/heliosdb/conversational-bi.log");
    assert!(c.metrics.enabled);
    assert_eq!(c.metrics.prometheus_port, 9090);
}

#[test]
fn runbook_option_snippets_parse() {
    let c = parse(RUNBOOK_OPTIONS).expect("the runbook's option snippets parse");
    assert!((c.production.rate_limiting.refill_per_second() - 1.6667).abs() < 0.001);
    assert_eq!(c.production.circuit_breaker.half_open_max_calls, 3);
    assert_eq!(c.production.performance.slow_query_threshold_ms, 300);
    assert_eq!(c.production.performance.max_latency_ms, 500);
    assert!(c.production.security.output_sanitization);
    assert_eq!(c.database.pool_size, 50);
    assert_eq!(c.database.max_idle_connections, 25);
    assert_eq!(c.llm.timeout_secs, 15);
    assert_eq!(c.llm.max_tokens, 500);
}

#[test]
fn defaults_are_the_runbook_values() {
    let c = Config::default();
    assert_eq!(c.server.port, 8080);
    assert_eq!(c.production.rate_limiting.queries_per_minute, 100);
    assert_eq!(c.production.rate_limiting.burst_allowance, 20);
    assert_eq!(c.production.circuit_breaker.half_open_max_calls, 3);
    assert_eq!(c.database.max_rows, 1000);
    assert_eq!(c.database.statement_timeout_ms, 5000);
    assert_eq!(c.session.max_turns, 10);
    assert_eq!(
        c.llm.provider,
        LlmProviderKind::Rule,
        "no configuration means the offline generator"
    );
    assert_eq!(c.llm.max_schema_tokens, 4000);
    assert_eq!(c.llm.fallback, Fallback::Rule);
}

#[test]
fn unknown_key_names_key_file_and_line() {
    let text = "[server]\nport = 8080\nprot = 9\n";
    let e = parse(text).expect_err("unknown key");
    let Error::Config {
        message,
        key,
        file,
        line,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(key.as_deref(), Some("server.prot"), "{message}");
    assert_eq!(file.as_deref(), Some(Path::new("conversational-bi.toml")));
    assert_eq!(*line, Some(3), "{message}");
    assert!(message.contains("conversational-bi.toml:3"), "{message}");
    assert!(message.contains("prot"), "{message}");
}

#[test]
fn unknown_section_is_an_error() {
    let e = parse("[servr]\nport = 1\n").expect_err("unknown section");
    let Error::Config {
        message, key, line, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(key.as_deref(), Some("servr"), "{message}");
    assert_eq!(*line, Some(1), "{message}");
}

#[test]
fn unknown_nested_key_is_named_with_its_path() {
    let e = parse("[production.circuit_breaker]\nfailure_treshold = 3\n").expect_err("typo");
    let Error::Config { key, line, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        key.as_deref(),
        Some("production.circuit_breaker.failure_treshold")
    );
    assert_eq!(*line, Some(2));
}

#[test]
fn wrong_type_names_key_file_and_line() {
    let text = "[server]\nhost = \"127.0.0.1\"\nport = \"eighty\"\n";
    let e = parse(text).expect_err("bad type");
    let Error::Config {
        message, key, line, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(key.as_deref(), Some("server.port"), "{message}");
    assert_eq!(*line, Some(3), "{message}");
    assert!(message.contains("conversational-bi.toml:3"), "{message}");
    assert!(message.contains("server.port"), "{message}");
}

#[test]
fn bad_enum_value_is_named() {
    let e = parse("[llm]\nprovider = \"gpt\"\n").expect_err("bad provider");
    let Error::Config {
        message, key, line, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(key.as_deref(), Some("llm.provider"));
    assert_eq!(*line, Some(2));
    assert!(
        message.contains("openai"),
        "the message lists the accepted values: {message}"
    );
}

#[test]
fn toml_syntax_error_has_a_line() {
    let e = parse("[server]\nport = \n").expect_err("syntax");
    let Error::Config { line, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*line, Some(2));
}

#[test]
fn invalid_values_are_refused() {
    for (text, key) in [
        ("[database]\nmax_rows = 0\n", "database.max_rows"),
        (
            "[cache]\nsimilarity_threshold = 1.5\n",
            "cache.similarity_threshold",
        ),
        ("[database]\nurl = \"oracle://x\"\n", "database.url"),
        (
            "[database]\ndenied_columns = [\"email\"]\n",
            "database.denied_columns",
        ),
        (
            "[production.rate_limiting]\nqueries_per_minute = 100\ntoken_bucket_refill_rate = 5.0\n",
            "production.rate_limiting.token_bucket_refill_rate",
        ),
        (
            "[production]\nrate_limit_qpm = 50\n[production.rate_limiting]\nqueries_per_minute = 70\n",
            "production.rate_limiting.queries_per_minute",
        ),
        (
            "[database]\npool_size = 5\nmax_idle_connections = 10\n",
            "database.max_idle_connections",
        ),
    ] {
        let e = parse(text).expect_err(text);
        let Error::Config {
            key: k, message, ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(k.as_deref(), Some(key), "{text}: {message}");
    }
}

#[test]
fn flat_production_keys_fold_into_sub_tables() {
    let c = parse(
        "[production]\nrate_limit_qpm = 300\nburst_allowance = 50\ncircuit_breaker_threshold = 2\n",
    )
    .expect("aliases");
    assert_eq!(c.production.rate_limiting.queries_per_minute, 300);
    assert_eq!(c.production.rate_limiting.burst_allowance, 50);
    assert_eq!(c.production.circuit_breaker.failure_threshold, 2);
}

#[test]
fn tenant_quotas_parse() {
    let c = parse(
        "[production.rate_limiting.tenants.acme-corp]\nqueries_per_minute = 600\nburst_allowance = 100\n",
    )
    .expect("tenant quota");
    let q = &c.production.rate_limiting.tenants["acme-corp"];
    assert_eq!((q.queries_per_minute, q.burst_allowance), (600, 100));
}

#[test]
fn tenant_databases_parse_and_are_checked() {
    let c = parse(
        "[database]\nmax_tenant_pools = 2\n\
         [tenants.acme]\ndatabase_url = \"postgres://bi:s3cret-pw@db/acme\"\npool_size = 4\n\
         [tenants.globex]\ndatabase_url = \"./globex.sqlite\"\n",
    )
    .expect("tenants");
    assert_eq!(c.database.max_tenant_pools, 2);
    assert_eq!(c.tenants["acme"].pool_size, Some(4));
    assert_eq!(c.tenants["globex"].pool_size, None);
    assert!(!format!("{c:?}").contains("s3cret-pw"));
    assert_eq!(Config::default().database.max_tenant_pools, 32);

    for (text, key, needle) in [
        (
            "[tenants.acme]\ndatabase_url = \"oracle://bi:s3cret-pw@db/acme\"\n",
            "tenants.acme.database_url",
            "unsupported database URL",
        ),
        (
            "[tenants.acme]\ndatabase_url = \"sqlite://acme.db\"\npool_size = 0\n",
            "tenants.acme.pool_size",
            "at least 1",
        ),
        (
            "[database]\nmax_tenant_pools = 0\n",
            "database.max_tenant_pools",
            "at least 1",
        ),
        (
            "[tenants.\"\"]\ndatabase_url = \"sqlite://acme.db\"\n",
            "tenants.",
            "must not be empty",
        ),
        (
            "[tenants.\" acme\"]\ndatabase_url = \"sqlite://acme.db\"\n",
            "tenants. acme",
            "surrounding spaces",
        ),
        (
            "[tenants.default]\ndatabase_url = \"sqlite://acme.db\"\n",
            "tenants.default",
            "set [database] url instead",
        ),
        (
            "[tenants.Default]\ndatabase_url = \"sqlite://acme.db\"\n",
            "tenants.Default",
            "the tenant of asks that name none",
        ),
    ] {
        let e = parse(text).expect_err(text);
        let Error::Config {
            key: k, message, ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(k.as_deref(), Some(key), "{text}: {message}");
        assert!(message.contains(needle), "{text}: {message}");
        assert!(!message.contains("s3cret-pw"), "{message}");
    }
    let e = parse("[tenants.acme]\npool_size = 2\n").expect_err("no URL");
    assert!(e.to_string().contains("database_url"), "{e}");
}

#[test]
fn environment_overrides_apply() {
    let mut c = parse(RUNBOOK_EXAMPLE).expect("parses");
    c.apply_env(env(&[
        ("DATABASE_URL", "postgresql://bi:pw@db:5432/heliosdb"),
        ("REDIS_URL", "redis://localhost:6379"),
        ("OPENAI_API_KEY", "sk-test-123"),
        ("ANTHROPIC_API_KEY", "not-used-by-openai"),
        ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        (
            "CORS_ALLOWED_ORIGINS",
            "https://a.example, https://b.example",
        ),
        ("RUST_LOG", "debug"),
        ("TOKIO_WORKER_THREADS", "4"),
    ]))
    .expect("env");
    assert_eq!(
        c.database_url(),
        Some("postgresql://bi:pw@db:5432/heliosdb")
    );
    assert_eq!(
        c.redis.url.as_ref().map(Secret::expose),
        Some("redis://localhost:6379")
    );
    assert_eq!(
        c.llm.api_key.as_ref().map(Secret::expose),
        Some("sk-test-123")
    );
    assert_eq!(
        c.auth.jwt_secret.as_ref().map(Secret::expose),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(
        c.server.cors_allowed_origins,
        vec!["https://a.example", "https://b.example"]
    );
    assert_eq!(c.logging.level, "debug");
    assert_eq!(c.server.workers, 4);
}

#[test]
fn provider_key_comes_from_its_own_variable() {
    for (provider, var) in [
        ("anthropic", "ANTHROPIC_API_KEY"),
        ("cohere", "COHERE_API_KEY"),
    ] {
        let mut c = parse(&format!("[llm]\nprovider = \"{provider}\"\n")).expect("parses");
        c.apply_env(env(&[("OPENAI_API_KEY", "wrong"), (var, "right")]))
            .expect("env");
        assert_eq!(
            c.llm.api_key.as_ref().map(Secret::expose),
            Some("right"),
            "{provider}"
        );
    }
    let mut c =
        parse("[llm]\nprovider = \"openai\"\napi_key_env = \"MY_GATEWAY_KEY\"\n").expect("parses");
    c.apply_env(env(&[
        ("OPENAI_API_KEY", "wrong"),
        ("MY_GATEWAY_KEY", "right"),
    ]))
    .expect("env");
    assert_eq!(c.llm.api_key.as_ref().map(Secret::expose), Some("right"));
}

#[test]
fn bad_worker_count_in_environment_is_named() {
    let mut c = Config::default();
    let e = c
        .apply_env(env(&[("TOKIO_WORKER_THREADS", "many")]))
        .expect_err("bad");
    assert!(e.to_string().contains("TOKIO_WORKER_THREADS"), "{e}");
}

#[test]
fn debug_hides_secrets() {
    let mut c = parse(
        "[auth]\nusers = [{ username = \"ana\", password_hash = \"$argon2id$v=19$secret-hash\", tenant_id = \"acme\", roles = [\"admin\"] }]\n",
    )
    .expect("parses");
    c.apply_env(env(&[
        ("DATABASE_URL", "postgres://bi:hunter2-db@db/x"),
        ("REDIS_URL", "redis://:hunter2-redis@cache:6379"),
        ("OPENAI_API_KEY", "sk-hunter2-openai"),
        ("JWT_SECRET", "hunter2-jwt-secret-0123456789abcdef"),
    ]))
    .expect("env");
    let debug = format!("{c:?}");
    for secret in ["hunter2", "secret-hash", "sk-"] {
        assert!(!debug.contains(secret), "Debug shows {secret}: {debug}");
    }
    assert!(debug.contains("ana"), "non-secret fields stay visible");
    assert!(
        debug.contains("postgres://bi:***@db/x"),
        "the URL is shown redacted: {debug}"
    );
}

#[test]
fn few_shot_examples_parse_and_empty_ones_are_named() {
    let c = parse(
        "[llm]\nmax_schema_tokens = 800\n\n[[llm.examples]]\nquestion = \"Revenue per country\"\nsql = \"SELECT BillingCountry, sum(Total) FROM Invoice GROUP BY 1\"\n\n[[llm.examples]]\nquestion = \"How many artists?\"\nsql = \"SELECT count(*) FROM Artist\"\n",
    )
    .expect("parses");
    assert_eq!(c.llm.max_schema_tokens, 800);
    assert_eq!(c.llm.examples.len(), 2);
    assert_eq!(c.llm.examples[1].question, "How many artists?");
    assert!(format!("{:?}", c.llm).contains("examples: 2"));

    for (text, key) in [
        (
            "[[llm.examples]]\nquestion = \"x\"\nsql = \"  \"\n",
            "llm.examples[0].sql",
        ),
        ("[llm]\nmax_schema_tokens = 0\n", "llm.max_schema_tokens"),
    ] {
        let e = parse(text).expect_err(text);
        let Error::Config { key: k, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(k.as_deref(), Some(key), "{e}");
    }
    let e = parse("[[llm.examples]]\nquestion = \"x\"\nquery = \"SELECT 1\"\n").expect_err("key");
    assert!(e.to_string().contains("query"), "{e}");
}

#[test]
fn shared_stores_follow_the_redis_url_unless_set() {
    let mut c = parse("[cache]\nstore = \"memory\"\n").expect("parses");
    assert_eq!(c.session_store(), StoreKind::Memory);
    c.apply_env(env(&[("REDIS_URL", "redis://cache:6379/2")]))
        .expect("env");
    c.resolve(None).expect("valid");
    assert_eq!(c.session_store(), StoreKind::Redis);
    assert_eq!(c.rate_limit_store(), StoreKind::Redis);
    assert_eq!(c.cache_store(), StoreKind::Memory, "an explicit store wins");
    assert_eq!(c.redis.key_prefix, "cbi");
    assert_eq!(c.redis.timeout_ms, 1000);
    let c = parse("[redis]\nkey_prefix = \"bi-prod\"\ntimeout_ms = 250\n").expect("parses");
    assert_eq!(
        (c.redis.key_prefix.as_str(), c.redis.timeout_ms),
        ("bi-prod", 250)
    );
}

#[test]
fn a_redis_store_without_a_url_or_a_zero_burst_is_refused() {
    for (text, key) in [
        ("[session]\nstore = \"redis\"\n", "session.store"),
        ("[cache]\nstore = \"redis\"\n", "cache.store"),
        (
            "[production.rate_limiting]\nstore = \"redis\"\n",
            "production.rate_limiting.store",
        ),
        (
            "[production.rate_limiting]\nburst_allowance = 0\n",
            "production.rate_limiting.burst_allowance",
        ),
        (
            "[production.rate_limiting.tenants.acme]\nqueries_per_minute = 10\nburst_allowance = 0\n",
            "production.rate_limiting.tenants.acme.burst_allowance",
        ),
    ] {
        let mut c = Config::from_toml_str(text, None).expect("parses");
        let e = c.resolve(None).expect_err(text);
        assert!(
            matches!(&e, Error::Config { key: Some(k), .. } if k == key),
            "{text}: {e}"
        );
    }
    let mut c = Config::from_toml_str("[session]\nstore = \"redis\"\n", None).expect("parses");
    c.apply_env(env(&[("REDIS_URL", "redis://localhost:6379")]))
        .expect("env");
    c.resolve(None).expect("a URL makes it valid");
}

#[test]
fn server_limits_have_defaults_and_are_checked() {
    let c = Config::default();
    assert_eq!(c.server.request_timeout_secs, 60);
    assert_eq!(c.server.max_body_bytes, 65_536);
    assert_eq!(c.server.shutdown_timeout_secs, 30);
    let c = parse(
        "[server]\nrequest_timeout_secs = 5\nmax_body_bytes = 20000\nshutdown_timeout_secs = 0\n",
    )
    .expect("parses");
    assert_eq!(c.server.request_timeout_secs, 5);
    assert_eq!(c.server.max_body_bytes, 20_000);
    for (text, key) in [
        (
            "[server]\nrequest_timeout_secs = 0\n",
            "server.request_timeout_secs",
        ),
        ("[server]\nmax_body_bytes = 0\n", "server.max_body_bytes"),
        ("[server]\nmax_body_bytes = 5000\n", "server.max_body_bytes"),
    ] {
        let e = parse(text).expect_err(text);
        let Error::Config {
            key: k, message, ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(k.as_deref(), Some(key), "{text}: {message}");
    }
}

#[test]
fn the_prompt_ranks_with_embeddings_only_when_a_provider_model_is_asked_for() {
    let uses = |text: &str| parse(text).expect(text).prompt_uses_embeddings();
    assert!(!uses(""), "the rule generator calls no model");
    assert!(
        !uses("[llm]\nprovider = \"openai\"\n"),
        "lexical by default"
    );
    assert!(uses(
        "[llm]\nprovider = \"openai\"\nembedding_model = \"text-embedding-3-small\"\n"
    ));
    assert!(uses(
        "[llm]\nprovider = \"ollama\"\n[cache]\nembedder = \"provider\"\n"
    ));
    assert!(!uses(
        "[llm]\nprovider = \"rule\"\nembedding_model = \"text-embedding-3-small\"\n"
    ));
}

#[test]
fn security_switches_cannot_be_turned_off() {
    for key in [
        "enabled",
        "sql_injection_detection",
        "input_sanitization",
        "output_sanitization",
    ] {
        let text = format!("[production.security]\n{key} = false\n");
        let mut config = Config::from_toml_str(&text, None).expect("parses");
        let e = config.resolve(None).expect_err(key);
        let message = e.to_string();
        assert!(
            message.contains(key) && message.contains("cannot be turned off"),
            "{message}"
        );
    }
    let mut config =
        Config::from_toml_str("[production]\nenable_security_validation = false\n", None)
            .expect("parses");
    let e = config.resolve(None).expect_err("the runbook's flat alias");
    assert!(e.to_string().contains("cannot be turned off"), "{e}");
    let mut config = Config::from_toml_str(
        "[production.security]\nsql_injection_detection = true\n",
        None,
    )
    .expect("parses");
    assert!(config.resolve(None).is_ok());
}

/// The message, key, file and line of a configuration error.
fn config_error(e: &Error) -> (&str, Option<&str>, Option<&Path>, Option<usize>) {
    match e {
        Error::Config {
            message,
            key,
            file,
            line,
        } => (message, key.as_deref(), file.as_deref(), *line),
        other => panic!("not a configuration error: {other:?}"),
    }
}

/// The sources of an embedded engine with `vars` as its whole environment.
fn sources(vars: &[(&str, &str)]) -> ConfigSources {
    ConfigSources::new(Interface::Embedded).env_vars(vars.iter().copied())
}

fn config_file(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("conversational-bi.toml");
    std::fs::write(&path, text).expect("writes");
    path
}

fn table(text: &str) -> toml::Table {
    toml::from_str(text).expect("TOML")
}

#[test]
fn a_bad_key_in_a_file_is_named_with_file_line_and_path() {
    let dir = tempfile::tempdir().expect("dir");
    let path = config_file(
        &dir,
        "[server]\nport = 8080\n\n[cache]\nenabled = true\nttl_seconds = \"x\"\n",
    );
    let e = Config::from_sources(sources(&[]).file(&path)).expect_err("bad value");
    let (message, key, file, line) = config_error(&e);
    assert_eq!(key, Some("cache.ttl_seconds"), "{message}");
    assert_eq!(file, Some(path.as_path()));
    assert_eq!(line, Some(6), "{message}");
    assert!(
        message.starts_with(&format!("{}:6: key `cache.ttl_seconds`: ", path.display())),
        "{message}"
    );
    assert!(message.contains("expected u64"), "{message}");

    let path = config_file(&dir, "[cache]\nenabled = true\nttl_secs = 5\n");
    let e = Config::from_sources(sources(&[]).file(&path)).expect_err("unknown key");
    let (_, key, _, line) = config_error(&e);
    assert_eq!((key, line), (Some("cache.ttl_secs"), Some(3)), "{e}");
    assert!(e.to_string().contains("unknown field `ttl_secs`"), "{e}");

    // The text layer is named by its line; an override by its path.
    let e = Config::from_sources(sources(&[]).toml("\n[session]\nmax_turns = -3\n"))
        .expect_err("negative");
    assert!(
        matches!(&e, Error::Config { key: Some(k), line: Some(3), .. } if k == "session.max_turns"),
        "{e:?}"
    );
    let e = Config::from_sources(sources(&[]).overrides(table("[llm]\nprovidr = \"rule\"\n")))
        .expect_err("unknown option");
    assert!(
        matches!(&e, Error::Config { key: Some(k), line: None, .. } if k == "llm.providr"),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("option `llm.providr`: "), "{e}");
}

#[test]
fn a_missing_file_is_named() {
    let e = Config::from_sources(sources(&[]).file("/no/such/conversational-bi.toml"))
        .expect_err("missing");
    assert!(
        e.to_string()
            .contains("cannot read configuration file /no/such/conversational-bi.toml"),
        "{e}"
    );
}

#[test]
fn a_bad_environment_value_names_the_variable() {
    for (var, value, key) in [
        ("TOKIO_WORKER_THREADS", "many", "server.workers"),
        ("DATABASE_URL", "oracle://scott:tiger@db/x", "database.url"),
        ("REDIS_URL", "http://cache:6379", "redis.url"),
    ] {
        let e = Config::from_sources(sources(&[(var, value)])).expect_err(var);
        let (message, k, _, _) = config_error(&e);
        assert!(message.contains(var), "{var}: {message}");
        assert_eq!(k, Some(key), "{message}");
        assert!(
            !message.contains("tiger"),
            "a password in the error: {message}"
        );
    }
}

#[test]
fn sources_apply_in_order_file_text_overrides_environment() {
    let dir = tempfile::tempdir().expect("dir");
    let path = config_file(
        &dir,
        "[database]\nurl = \"sqlite://file.db\"\nmax_rows = 1\nstatement_timeout_ms = 100\npool_size = 70\n\n[logging]\nlevel = \"warn\"\n",
    );
    let config = Config::from_sources(
        sources(&[("DATABASE_URL", "sqlite://env.db")])
            .file(&path)
            .toml("[database]\nurl = \"sqlite://text.db\"\nmax_rows = 2\nstatement_timeout_ms = 200\n")
            .overrides(table("[database]\nurl = \"sqlite://options.db\"\nmax_rows = 3\n")),
    )
    .expect("valid");
    assert_eq!(
        config.database_url(),
        Some("sqlite://env.db"),
        "env over all"
    );
    assert_eq!(config.database.max_rows, 3, "overrides over text");
    assert_eq!(config.database.statement_timeout_ms, 200, "text over file");
    assert_eq!(config.database.pool_size, 70, "the file over the defaults");
    assert_eq!(config.logging.level, "warn");
    assert_eq!(config.database.max_idle_connections, 25, "the defaults");

    // Without the variable, the overrides' URL wins; later overrides win over earlier ones.
    let config = Config::from_sources(
        sources(&[])
            .file(&path)
            .toml("[database]\nurl = \"sqlite://text.db\"\n")
            .overrides(table("[database]\nurl = \"sqlite://options.db\"\n"))
            .overrides(table("[database]\nmax_rows = 9\n")),
    )
    .expect("valid");
    assert_eq!(config.database_url(), Some("sqlite://options.db"));
    assert_eq!(config.database.max_rows, 9);
    assert_eq!(config.database.statement_timeout_ms, 100);
}

#[test]
fn secrets_never_appear_in_configuration_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let env = [
        ("OPENAI_API_KEY", "sk-hunter2-openai"),
        ("JWT_SECRET", "hunter2-jwt-0123456789abcdef0123"),
    ];
    let cases = [
        (
            "[database]\nurl = \"oracle://bi:hunter2@db/x\"\n",
            "database.url",
        ),
        (
            "[database]\npool_size = \"postgres://bi:hunter2@db/x\"\n",
            "database.pool_size",
        ),
        ("[redis]\nurl = \"http://:hunter2@cache\"\n", "redis.url"),
    ];
    for (text, key) in cases {
        let path = config_file(&dir, &format!("[llm]\nprovider = \"openai\"\n{text}"));
        for e in [
            Config::from_sources(sources(&env).file(&path)).expect_err(text),
            Config::from_sources(sources(&env).toml(text)).expect_err(text),
            Config::from_sources(sources(&env).overrides(table(text))).expect_err(text),
        ] {
            let (message, k, _, _) = config_error(&e);
            assert_eq!(k, Some(key), "{message}");
            assert!(
                !message.contains("hunter2"),
                "a secret in the error: {message}"
            );
            assert!(!format!("{e:?}").contains("hunter2"), "{e:?}");
        }
    }
    let options = ConfigSources::new(Interface::Embedded)
        .toml("[database]\nurl = \"postgres://bi:hunter2@db/x\"\n")
        .env_vars([("OPENAI_API_KEY", "sk-hunter2")]);
    assert!(!format!("{options:?}").contains("hunter2"), "{options:?}");
}

#[test]
fn an_embedded_engine_has_no_rate_limit_unless_configured() {
    let embedded = Config::from_sources(sources(&[])).expect("valid");
    assert!(!embedded.production.rate_limiting.enabled);
    assert_eq!(embedded, Interface::Embedded.defaults());

    let server = Config::from_sources(
        ConfigSources::new(Interface::Server).env_vars(std::iter::empty::<(String, String)>()),
    )
    .expect("valid");
    assert_eq!(
        server,
        Config::default(),
        "the server keeps the runbook's values"
    );
    let rl = &server.production.rate_limiting;
    assert_eq!(
        (rl.enabled, rl.queries_per_minute, rl.burst_allowance),
        (true, 100, 20)
    );
    assert_eq!(Interface::Server.defaults(), Config::default());

    // Any rate-limiting setting, from any TOML source, turns the limits on.
    let dir = tempfile::tempdir().expect("dir");
    let path = config_file(
        &dir,
        "[production.rate_limiting]\nqueries_per_minute = 30\n",
    );
    for sources in [
        sources(&[]).file(&path),
        sources(&[]).toml("[production]\nrate_limit_qpm = 30\n"),
        sources(&[]).toml("[production]\nenable_rate_limiting = true\n"),
        sources(&[]).overrides(table("[production.rate_limiting]\nburst_allowance = 20\n")),
    ] {
        let config = Config::from_sources(sources.clone()).expect("valid");
        assert!(config.production.rate_limiting.enabled, "{sources:?}");
    }
    let limited = Config::from_sources(sources(&[]).file(&path)).expect("valid");
    assert_eq!(limited.production.rate_limiting.queries_per_minute, 30);
    // ... and an explicit `enabled = false` turns them off on the server too.
    let off = Config::from_sources(
        ConfigSources::new(Interface::Server)
            .env_vars(std::iter::empty::<(String, String)>())
            .toml("[production.rate_limiting]\nenabled = false\n"),
    )
    .expect("valid");
    assert!(!off.production.rate_limiting.enabled);
    // Other [production] keys say nothing about rate limits.
    let other = Config::from_sources(
        sources(&[]).toml("[production.circuit_breaker]\nfailure_threshold = 2\n"),
    )
    .expect("valid");
    assert!(!other.production.rate_limiting.enabled);
}

#[test]
fn json_overrides_become_sections() {
    let json = serde_json::json!({
        "database": {"max_rows": 5, "allowed_tables": ["Artist", "Album"]},
        "cache": {"similarity_threshold": 0.9, "store": null},
        "llm": {"base_url": null},
    });
    let config =
        Config::from_sources(sources(&[]).json_overrides(json).expect("object")).expect("valid");
    assert_eq!(config.database.max_rows, 5);
    assert_eq!(config.database.allowed_tables, ["Artist", "Album"]);
    assert!((config.cache.similarity_threshold - 0.9).abs() < 1e-12);
    assert_eq!(
        config.cache.store, None,
        "null leaves the key to the lower sources"
    );

    let e = sources(&[])
        .json_overrides(serde_json::json!([1, 2]))
        .expect_err("not an object");
    assert!(e.to_string().contains("sections"), "{e}");
    let e = sources(&[])
        .json_overrides(serde_json::json!({"database": {"allowed_tables": ["A", null]}}))
        .expect_err("null in a list");
    assert!(e.to_string().contains("item 1 is null"), "{e}");
    assert!(
        matches!(&e, Error::Config { key: Some(k), .. } if k == "database.allowed_tables"),
        "{e:?}"
    );
    let e = sources(&[])
        .json_overrides(serde_json::json!({"database": {"max_rows": u64::MAX}}))
        .expect_err("too large");
    assert!(e.to_string().contains("database.max_rows"), "{e}");
    let e = Config::from_sources(
        sources(&[])
            .json_overrides(serde_json::json!({"database": {"max_rows": "many"}}))
            .expect("object"),
    )
    .expect_err("wrong type");
    assert!(
        matches!(&e, Error::Config { key: Some(k), .. } if k == "database.max_rows"),
        "{e:?}"
    );
}
