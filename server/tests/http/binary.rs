//! The real binary as the runbook deploys it: a configuration file, `JWT_SECRET` from the
//! environment, ephemeral ports, the metrics listener, JSON logs, and SIGTERM.

use std::{
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use testkit::loopback::{LoopbackLlm, Scripted};

use crate::support::{
    SECRET, cheap_hash,
    process::{ServerProcess, chinook_url, client, command},
};

const LLM_KEY: &str = "sk-loopback-binary-tests";

/// The model of these tests: "slowly" questions take 1.5 s, "drop" questions get unsafe SQL,
/// the rest count artists.
async fn model() -> LoopbackLlm {
    LoopbackLlm::start(
        LLM_KEY,
        0,
        Arc::new(|question: &str| {
            if question.contains("slowly") {
                Scripted {
                    sql: "SELECT count(*) AS tracks FROM Track".into(),
                    delay: Duration::from_millis(1500),
                }
            } else if question.contains("drop") {
                Scripted {
                    sql: "DROP TABLE Artist".into(),
                    delay: Duration::ZERO,
                }
            } else {
                Scripted {
                    sql: "SELECT count(*) AS artists FROM Artist".into(),
                    delay: Duration::ZERO,
                }
            }
        }),
    )
    .await
}

fn config_text(llm: &LoopbackLlm, logging: &str) -> String {
    format!(
        r#"
[server]
host = "127.0.0.1"
port = 0
workers = 2

[metrics]
enabled = true
prometheus_port = 0

[database]
url = "{db}"

[llm]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{llm}"
max_retries = 0
fallback = "none"

[logging]
{logging}

[auth]
users = [
  {{ username = "ana", password_hash = "{hash}", tenant_id = "acme", roles = ["analyst"] }},
]
"#,
        db = chinook_url(),
        llm = llm.base_url,
        hash = cheap_hash(crate::support::PASSWORD),
    )
}

async fn start(config: String, env: Vec<(&'static str, String)>) -> ServerProcess {
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ServerProcess::start(&config, &env)
    })
    .await
    .expect("join")
}

async fn token(http: &reqwest::Client, api: &str) -> String {
    let reply: Value = http
        .post(format!("{api}/api/v1/auth/login"))
        .json(&json!({ "username": "ana", "password": crate::support::PASSWORD }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    reply["token"].as_str().expect("token").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_the_runbook_steps_and_stops_gracefully_on_sigterm() {
    let llm = model().await;
    let mut server = start(
        config_text(
            &llm,
            "level = \"info\"\nformat = \"json\"\noutput = \"stdout\"",
        ),
        vec![
            ("JWT_SECRET", SECRET.into()),
            ("OPENAI_API_KEY", LLM_KEY.into()),
            ("TOKIO_WORKER_THREADS", "3".into()),
        ],
    )
    .await;
    let listening = server
        .log_lines()
        .into_iter()
        .find(|l| l["message"] == "listening")
        .expect("listening line");
    assert_eq!(
        listening["workers"], 3,
        "TOKIO_WORKER_THREADS overrides [server] workers"
    );
    assert_eq!(listening["service"], "conversational-bi");
    let http = client();
    let api = server.api.clone();

    // Step 6 of the runbook: health, metrics, a query with a token.
    let health = http
        .get(format!("{api}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    let token = token(&http, &api).await;
    let answered = http
        .post(format!("{api}/api/v1/query"))
        .bearer_auth(&token)
        .json(&json!({ "session_id": "test-session", "query": "Show me the number of artists" }))
        .send()
        .await
        .expect("query");
    assert_eq!(answered.status(), 200);
    let request_id = answered.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_string();
    let answer: Value = answered.json().await.expect("json");
    assert_eq!(answer["rows"], json!([[275]]));
    assert_eq!(answer["generator"], "openai:gpt-4o-mini");
    // The runbook's "test-session" is no conversation yet: the server started one under an id
    // of its own and says so.
    let session = answer["session_id"].as_str().expect("id").to_string();
    assert_ne!(session, "test-session");
    assert!(
        answer["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("'test-session'") && w.contains(&session)),
        "{answer}"
    );
    let rejected = http
        .post(format!("{api}/api/v1/query"))
        .bearer_auth(&token)
        .json(&json!({ "session_id": session, "query": "drop the artists" }))
        .send()
        .await
        .expect("query");
    assert_eq!(rejected.status(), 422);
    let body: Value = rejected.json().await.expect("json");
    assert_eq!(body["error"]["code"], "SQL_REJECTED");

    let metrics_url = format!(
        "{}/metrics",
        server.metrics.as_deref().expect("metrics listener")
    );
    let metrics = http.get(&metrics_url).send().await.expect("metrics");
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/openmetrics-text")
    );
    let text = metrics.text().await.expect("text");
    for name in [
        "query_duration_seconds_bucket{le=",
        "query_duration_seconds_count 2",
        "queries_total 2",
        "queries_failed_total{code=\"SQL_REJECTED\"} 1",
        "http_requests_total{method=\"POST\",route=\"/api/v1/query\",status=\"200\"} 1",
        "sql_validations_total",
    ] {
        assert!(text.contains(name), "{name} missing from\n{text}");
    }
    let not_on_api = http
        .get(format!("{api}/metrics"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        not_on_api.status(),
        404,
        "metrics are on their own port only"
    );

    // One JSON log line per query, with the runbook's fields and the request id. The lines
    // reach the test through a reader thread: wait for them (a loaded machine is slow).
    let query_lines = || -> Vec<Value> {
        server
            .log_lines()
            .into_iter()
            .filter(|l| l["target"] == "conversational_bi::query")
            .collect()
    };
    let mut queries = query_lines();
    for _ in 0..50 {
        if queries.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        queries = query_lines();
    }
    assert_eq!(queries.len(), 2, "{queries:?}");
    let line = &queries[0];
    for field in [
        "timestamp",
        "level",
        "service",
        "tenant_id",
        "session_id",
        "query",
        "latency_ms",
        "cache_hit",
        "sql_generated",
    ] {
        assert!(line.get(field).is_some(), "{field} missing from {line}");
    }
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["tenant_id"], "acme");
    assert_eq!(line["session_id"], session.as_str());
    assert_eq!(line["query"], "Show me the number of artists");
    assert_eq!(line["sql_generated"], true);
    assert_eq!(line["span"]["request_id"], request_id);
    assert_eq!(queries[1]["level"], "WARN");
    assert_eq!(queries[1]["error_code"], "SQL_REJECTED");
    assert!(
        !server.stdout().contains(SECRET) && !server.stdout().contains(LLM_KEY),
        "no secret in the logs"
    );

    // SIGTERM while a question is in flight: it is answered and its turn saved, then the
    // process exits 0 and refuses new connections.
    let in_flight = {
        let (http, api, token) = (http.clone(), api.clone(), token.clone());
        let session = session.clone();
        tokio::spawn(async move {
            http.post(format!("{api}/api/v1/query"))
                .bearer_auth(&token)
                .json(&json!({ "session_id": session, "query": "count the tracks slowly" }))
                .send()
                .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while llm.received() < 3 {
        assert!(
            Instant::now() < deadline,
            "the slow question never reached the model"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.sigterm();
    let reply = in_flight
        .await
        .expect("join")
        .expect("answered despite SIGTERM");
    assert_eq!(reply.status(), 200);
    let answer: Value = reply.json().await.expect("json");
    assert_eq!(answer["rows"], json!([[3503]]));
    assert_eq!(answer["turn"], 2, "the turn was saved");
    let status = tokio::task::spawn_blocking(move || {
        let status = server.wait(Duration::from_secs(20));
        (status, server)
    })
    .await
    .expect("join");
    let (status, server) = status;
    assert!(status.success(), "exit {status}: {}", server.stderr());
    let messages: Vec<Value> = server
        .log_lines()
        .iter()
        .map(|l| l["message"].clone())
        .collect();
    assert!(messages.contains(&json!("stopped")), "{messages:?}");
    let shutting = server
        .log_lines()
        .into_iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("shutting down"))
        })
        .expect("shutdown line");
    assert_eq!(shutting["signal"], "SIGTERM");
    assert!(
        http.get(format!("{api}/health")).send().await.is_err(),
        "the port is closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_go_to_the_configured_file_and_rust_log_sets_the_level() {
    let llm = model().await;
    let server = start(
        config_text(
            &llm,
            "level = \"info\"\nformat = \"json\"\noutput = \"{dir}/cbi.log\"",
        ),
        vec![
            ("JWT_SECRET", SECRET.into()),
            ("OPENAI_API_KEY", LLM_KEY.into()),
        ],
    )
    .await;
    let http = client();
    let token = token(&http, &server.api).await;
    let reply = http
        .post(format!("{}/api/v1/query", server.api))
        .bearer_auth(&token)
        .json(&json!({ "query": "How many artists?" }))
        .send()
        .await
        .expect("query");
    assert_eq!(reply.status(), 200);
    let lines = server.log_lines();
    assert!(
        lines
            .iter()
            .any(|l| l["target"] == "conversational_bi::query" && l["cache_hit"] == false),
        "{lines:?}"
    );
    assert!(
        server.stdout().is_empty(),
        "nothing on stdout: {}",
        server.stdout()
    );
    drop(server);

    // RUST_LOG overrides [logging] level: warnings, and the server's own start line.
    let server = start(
        config_text(
            &llm,
            "level = \"info\"\nformat = \"json\"\noutput = \"stdout\"",
        ),
        vec![
            ("JWT_SECRET", SECRET.into()),
            ("OPENAI_API_KEY", LLM_KEY.into()),
            ("RUST_LOG", "warn,cbi_server=info".into()),
        ],
    )
    .await;
    let token = self::token(&http, &server.api).await;
    let reply = http
        .post(format!("{}/api/v1/query", server.api))
        .bearer_auth(&token)
        .json(&json!({ "query": "How many artists?" }))
        .send()
        .await
        .expect("query");
    assert_eq!(reply.status(), 200);
    let lines = server.log_lines();
    assert!(
        !lines
            .iter()
            .any(|l| l["target"] == "conversational_bi::query"),
        "info lines of the engine are filtered out: {lines:?}"
    );
}

fn run_without_serving(config: &str, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let (mut cmd, _dir, _) = command(config, env);
    cmd.args(args).stdin(Stdio::null()).output().expect("runs")
}

#[test]
fn the_server_refuses_to_start_without_a_strong_jwt_secret() {
    let config = "[server]\nport = 0\n[metrics]\nprometheus_port = 0\n";
    let out = run_without_serving(config, &[], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JWT_SECRET is not set"), "{stderr}");
    assert!(
        stderr.contains("openssl rand"),
        "it says what to do: {stderr}"
    );

    let out = run_without_serving(config, &["serve"], &[("JWT_SECRET", "too-short-secret")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("16 bytes long") && stderr.contains("at least 32"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("too-short-secret"),
        "the secret is not shown: {stderr}"
    );
}

#[test]
fn hash_password_prints_a_verifiable_argon2_hash() {
    use std::io::Write;
    let (mut cmd, _dir, _) = command("", &[]);
    let mut child = cmd
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"s3cret pass phrase\n")
        .expect("write");
    let out = child.wait_with_output().expect("output");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hash = String::from_utf8(out.stdout).expect("utf-8");
    let hash = hash.trim();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(cbi_server::http::auth::verify_password(
        hash,
        "s3cret pass phrase"
    ));
    assert!(!cbi_server::http::auth::verify_password(
        hash,
        "s3cret pass phrase\n"
    ));

    let (mut cmd, _dir, _) = command("", &[]);
    let mut child = cmd
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"short\n")
        .expect("write");
    let out = child.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_listener_stays_on_loopback_when_the_api_listens_everywhere() {
    let llm = model().await;
    // The runbook's [server] host = "0.0.0.0", and no [metrics] host.
    let config = config_text(&llm, "level = \"info\"\nformat = \"json\"").replace(
        "host = \"127.0.0.1\"\nport = 0",
        "host = \"0.0.0.0\"\nport = 0",
    );
    assert!(config.contains("host = \"0.0.0.0\""));
    let server = start(
        config,
        vec![
            ("JWT_SECRET", SECRET.into()),
            ("OPENAI_API_KEY", LLM_KEY.into()),
        ],
    )
    .await;
    let listening = server
        .log_lines()
        .into_iter()
        .find(|l| l["message"] == "listening")
        .expect("listening line");
    let api: std::net::SocketAddr = listening["api_addr"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .expect("api_addr");
    let metrics: std::net::SocketAddr = listening["metrics_addr"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .expect("metrics_addr");
    assert!(api.ip().is_unspecified(), "{api}");
    assert_eq!(
        metrics.ip(),
        std::net::IpAddr::from([127, 0, 0, 1]),
        "metrics on loopback: {metrics}"
    );
    let http = client();
    let reply = http
        .get(format!("http://127.0.0.1:{}/metrics", metrics.port()))
        .send()
        .await
        .expect("metrics");
    assert_eq!(reply.status(), 200);
}

#[test]
fn bad_hosts_proxies_and_login_limits_stop_the_server_naming_the_key() {
    for (extra, key) in [
        (
            "[metrics]\nprometheus_port = 0\nhost = \"metrics host\"\n",
            "metrics.host",
        ),
        (
            "[metrics]\nprometheus_port = 0\nhost = \"[::1]\"\n",
            "metrics.host",
        ),
        (
            "[server]\nport = 0\nhost = \"0.0.0.0:8080\"\n",
            "server.host",
        ),
        (
            "[server]\nport = 0\ntrusted_proxies = [\"nginx\"]\n",
            "server.trusted_proxies",
        ),
        (
            "[auth]\nmax_failed_logins_per_ip = 0\n",
            "auth.max_failed_logins_per_ip",
        ),
        (
            "[auth]\nmax_concurrent_password_checks = 0\n",
            "auth.max_concurrent_password_checks",
        ),
    ] {
        let mut config = String::from(extra);
        if !extra.contains("[server]") {
            config.push_str("[server]\nport = 0\n");
        }
        if !extra.contains("[metrics]") {
            config.push_str("[metrics]\nprometheus_port = 0\n");
        }
        let out = run_without_serving(&config, &[], &[("JWT_SECRET", SECRET)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}: {stderr}");
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
}
