//! The files of `examples/deploy/` agree with each other and with the server: the
//! configuration parses, the unit runs the binary with it and lets it write its log, nginx lets
//! through the bodies and waits for the requests the server accepts, and the environment
//! template names every variable the server reads. (`scripts/check-deploy.sh` checks their
//! syntax with promtool, nginx and systemd-analyze.)

use std::path::{Path, PathBuf};

use conversational_bi::{Config, config::Secret};

fn deploy(file: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/deploy")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path, text)
}

fn config() -> Config {
    let (path, text) = deploy("conversational-bi.toml");
    let mut c = Config::from_toml_str(&text, Some(&path)).expect("parses");
    // In a deployment REDIS_URL comes from the environment file.
    c.redis.url = Some(conversational_bi::config::Secret::new(
        "redis://127.0.0.1:6379",
    ));
    c.resolve(Some(&path)).expect("valid");
    c
}

/// The value of `key` in a `key value;` (nginx) or `Key=value` (systemd) line.
fn setting<'a>(text: &'a str, key: &str, separator: char) -> &'a str {
    text.lines()
        .map(str::trim)
        .find_map(|l| {
            l.strip_prefix(key)
                .filter(|rest| rest.starts_with(separator))
                .map(|rest| rest[1..].trim().trim_end_matches(';'))
        })
        .unwrap_or_else(|| panic!("{key} not found"))
}

#[test]
fn the_configuration_parses_and_its_placeholder_users_cannot_go_live() {
    let mut c = config();
    assert_eq!(c.server.port, 8080);
    assert_eq!(c.metrics.prometheus_port, 9090);
    assert_eq!(c.logging.output, "/var/log/heliosdb/conversational-bi.log");
    assert_eq!(c.auth.users.len(), 2);
    c.auth.jwt_secret = Some(Secret::new("x".repeat(48)));
    let e = cbi_server::http::auth::Auth::from_config(&c).expect_err("placeholders");
    assert!(e.to_string().contains("hash-password"), "{e}");
}

#[test]
fn the_unit_runs_the_binary_with_the_configuration_and_outlasts_the_graceful_stop() {
    let (_, unit) = deploy("systemd/heliosdb-conversational-bi.service");
    let c = config();
    let exec = unit.split("ExecStart=").nth(1).expect("ExecStart");
    assert!(
        exec.contains("--config /etc/heliosdb/conversational-bi.toml"),
        "{exec}"
    );
    assert_eq!(
        setting(&unit, "EnvironmentFile", '='),
        "/etc/heliosdb/conversational-bi.env"
    );
    let log_dir = Path::new(&c.logging.output).parent().expect("folder");
    assert!(
        setting(&unit, "ReadWritePaths", '=')
            .split(' ')
            .any(|p| Path::new(p) == log_dir),
        "the unit lets the service write {}",
        log_dir.display()
    );
    let stop: u64 = setting(&unit, "TimeoutStopSec", '=')
        .parse()
        .expect("seconds");
    assert!(stop > c.server.shutdown_timeout_secs, "{stop} s");
    assert_eq!(setting(&unit, "KillSignal", '='), "SIGTERM");
}

#[test]
fn nginx_passes_what_the_server_accepts_and_waits_for_its_answer() {
    let (_, proxy) = deploy("nginx/heliosdb-proxy.conf");
    let (_, site) = deploy("nginx/heliosdb-conversational-bi.conf");
    let c = config();
    let body = setting(&site, "client_max_body_size", ' ');
    let kib: usize = body.trim_end_matches('k').parse().expect("k");
    assert_eq!(kib * 1024, c.server.max_body_bytes);
    let read: u64 = setting(&proxy, "proxy_read_timeout", ' ')
        .trim_end_matches('s')
        .parse()
        .expect("s");
    assert!(read > c.server.request_timeout_secs, "nginx waits {read} s");
    assert!(site.contains(&format!("server 127.0.0.1:{} ", c.server.port)));
    assert!(site.contains("ssl_protocols TLSv1.2 TLSv1.3;"));
    // nginx, on this host, names the client; the instances believe it.
    assert_eq!(
        setting(&proxy, "proxy_set_header X-Forwarded-For", ' '),
        "$proxy_add_x_forwarded_for"
    );
    assert!(
        c.server.trusted_proxies.iter().any(|p| p == "127.0.0.1"),
        "{:?}",
        c.server.trusted_proxies
    );
    cbi_server::http::client_ip::TrustedProxies::from_config(&c.server.trusted_proxies)
        .expect("valid proxies");
}

#[test]
fn the_metrics_listener_of_the_deployment_is_not_public() {
    let c = config();
    assert_eq!(c.server.host, "127.0.0.1");
    assert_eq!(c.metrics.host, "127.0.0.1", "no authentication: loopback");
    assert_eq!(
        conversational_bi::Config::default().metrics.host,
        "127.0.0.1",
        "the default too, whatever [server] host is"
    );
}

#[test]
fn the_environment_template_names_every_variable_the_server_reads() {
    let (_, env) = deploy("conversational-bi.env");
    let names: Vec<&str> = env
        .lines()
        .map(|l| l.trim_start_matches("# "))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    for var in [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "COHERE_API_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "JWT_SECRET",
        "CORS_ALLOWED_ORIGINS",
        "RUST_LOG",
        "TOKIO_WORKER_THREADS",
    ] {
        assert!(names.contains(&var), "{var} missing from {names:?}");
    }
}
