//! The limits of `POST /api/v1/auth/login` over real HTTP: the router served on a loopback
//! socket (with the peer address of each connection, as the binary serves it), failed logins
//! limited per client address and per user name (429 with `Retry-After`), a cap on password
//! checks running at once, and unknown user names that cost what a wrong password costs.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use argon2::{Algorithm, Argon2, Params, Version, password_hash::PasswordHasher};
use cbi_server::http::{AppState, app};
use conversational_bi::{
    Config, Engine,
    config::{AuthUser, Secret},
};
use serde_json::{Value, json};

use crate::support::{PASSWORD, config, process::client, user};

/// The router of `config` on a loopback port; returns its base URL and its state.
async fn serve(config: Config) -> (String, AppState) {
    let engine = Engine::builder()
        .config(config)
        .build()
        .await
        .expect("engine");
    let state = AppState::new(engine).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let service = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, service).await;
    });
    (format!("http://{addr}"), state)
}

/// The test configuration, with this host trusted as a proxy so that each request can name
/// its client in `X-Forwarded-For`.
fn behind_proxy() -> Config {
    let mut c = config();
    c.server.trusted_proxies = vec!["127.0.0.1".into()];
    c
}

struct Login {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

impl Login {
    fn assert_limited(&self) -> u64 {
        assert_eq!(self.status, 429, "{}", self.body);
        assert_eq!(self.body["error"]["code"], "RATE_LIMITED", "{}", self.body);
        assert!(
            self.body["error"]["request_id"].is_string(),
            "{}",
            self.body
        );
        self.retry_after.expect("Retry-After")
    }
}

async fn login_as(
    http: &reqwest::Client,
    api: &str,
    client_ip: Option<&str>,
    username: &str,
    password: &str,
) -> Login {
    let mut req = http
        .post(format!("{api}/api/v1/auth/login"))
        .json(&json!({ "username": username, "password": password }));
    if let Some(ip) = client_ip {
        req = req.header("x-forwarded-for", format!("6.6.6.6, {ip}"));
    }
    let reply = req.send().await.expect("login");
    let status = reply.status().as_u16();
    let retry_after = reply
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = reply.json().await.unwrap_or(Value::Null);
    Login {
        status,
        retry_after,
        body,
    }
}

#[tokio::test]
async fn wrong_passwords_for_one_user_are_answered_429_while_others_still_log_in() {
    let (api, _) = serve(behind_proxy()).await;
    let http = client();
    // [auth] max_failed_logins_per_user = 5 (default), from five addresses.
    for i in 0..5 {
        let ip = format!("198.51.100.{i}");
        let reply = login_as(&http, &api, Some(&ip), "ana", "guess").await;
        assert_eq!(reply.status, 401, "attempt {i}: {}", reply.body);
    }
    let limited = login_as(&http, &api, Some("198.51.100.9"), "ana", "guess").await;
    let wait = limited.assert_limited();
    assert!(
        (1..=60).contains(&wait),
        "one attempt back every 300 s / 5: {wait}"
    );
    assert!(
        limited.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("user name")),
        "{}",
        limited.body
    );
    // While limited, not even the right password is checked.
    login_as(&http, &api, Some("198.51.100.10"), "ana", PASSWORD)
        .await
        .assert_limited();
    // Another user logs in, from a fresh address and from one that failed for ana.
    for ip in ["203.0.113.1", "198.51.100.0"] {
        let ok = login_as(&http, &api, Some(ip), "root", PASSWORD).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert!(ok.body["token"].is_string());
    }
}

#[tokio::test]
async fn wrong_passwords_from_one_address_are_answered_429_and_other_addresses_still_log_in() {
    let (api, _) = serve(behind_proxy()).await;
    let http = client();
    let started = Instant::now();
    // [auth] max_failed_logins_per_ip = 10 (default), each for another user name.
    for i in 0..10 {
        let reply = login_as(&http, &api, Some("192.0.2.7"), &format!("guess-{i}"), "x").await;
        assert_eq!(reply.status, 401, "attempt {i}: {}", reply.body);
    }
    let limited = login_as(&http, &api, Some("192.0.2.7"), "guess-10", "x").await;
    let wait = limited.assert_limited();
    assert!(
        (1..=30).contains(&wait),
        "one attempt back every 300 s / 10: {wait}"
    );
    assert!(
        limited.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("address")),
        "{}",
        limited.body
    );
    login_as(&http, &api, Some("192.0.2.7"), "ana", PASSWORD)
        .await
        .assert_limited();
    let ok = login_as(&http, &api, Some("192.0.2.8"), "ana", PASSWORD).await;
    assert_eq!(ok.status, 200, "another address: {}", ok.body);
    // An IPv6 client is one client across its /64.
    for i in 0..10 {
        let ip = format!("2001:db8:0:1::{i:x}");
        let reply = login_as(&http, &api, Some(&ip), &format!("v6-{i}"), "x").await;
        assert_eq!(reply.status, 401, "{}", reply.body);
    }
    login_as(&http, &api, Some("2001:db8:0:1:ffff::1"), "root", PASSWORD)
        .await
        .assert_limited();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the test relies on the allowances not refilling"
    );
}

#[tokio::test]
async fn unknown_user_names_are_limited_like_existing_ones() {
    let (api, _) = serve(behind_proxy()).await;
    let http = client();
    let mut answers = Vec::new();
    for (name, i) in [("ana", 0), ("ghost", 1)] {
        for j in 0..5 {
            let ip = format!("198.51.{i}.{j}");
            let reply = login_as(&http, &api, Some(&ip), name, "x").await;
            assert_eq!(reply.status, 401, "{}", reply.body);
            answers.push(reply.body["error"]["message"].clone());
        }
        let limited = login_as(&http, &api, Some(&format!("198.51.{i}.99")), name, "x").await;
        let wait = limited.assert_limited();
        answers.push(json!([limited.body["error"]["message"].clone(), wait]));
    }
    assert_eq!(
        answers[..6],
        answers[6..],
        "an existing and an unknown name get the same answers"
    );
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_unless_the_proxy_is_trusted() {
    let (api, _) = serve(config()).await;
    let http = client();
    for i in 0..10 {
        let ip = format!("198.51.100.{i}");
        let reply = login_as(&http, &api, Some(&ip), &format!("n-{i}"), "x").await;
        assert_eq!(reply.status, 401, "{}", reply.body);
    }
    // Every request came from 127.0.0.1, whatever X-Forwarded-For said.
    login_as(&http, &api, Some("198.51.100.200"), "ana", PASSWORD)
        .await
        .assert_limited();
}

#[tokio::test]
async fn a_spent_allowance_refills_over_the_window() {
    let mut c = behind_proxy();
    c.auth.max_failed_logins_per_user = 2;
    c.auth.failed_login_window_secs = 2;
    let (api, _) = serve(c).await;
    let http = client();
    for i in 0..2 {
        let ip = format!("198.51.100.{i}");
        assert_eq!(
            login_as(&http, &api, Some(&ip), "ana", "x").await.status,
            401
        );
    }
    let wait = login_as(&http, &api, Some("198.51.100.3"), "ana", PASSWORD)
        .await
        .assert_limited();
    assert_eq!(wait, 1, "one attempt back every 2 s / 2");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let ok = login_as(&http, &api, Some("198.51.100.3"), "ana", PASSWORD).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // A successful login does not spend the allowance.
    let ok = login_as(&http, &api, Some("198.51.100.3"), "ana", PASSWORD).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

/// A user with an argon2id hash of the default parameters (19 MiB, 2 passes): a check that
/// takes long enough for checks to overlap.
fn costly_user(name: &str) -> AuthUser {
    AuthUser {
        password_hash: Secret::new(cbi_server::http::auth::hash_password(PASSWORD).expect("hash")),
        ..user(name, "acme", &["analyst"])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_checks_never_run_more_than_the_cap_at_once() {
    let mut c = behind_proxy();
    c.auth.users = vec![costly_user("ana")];
    c.auth.max_concurrent_password_checks = 2;
    c.auth.password_check_wait_ms = 60_000;
    let (api, state) = serve(c).await;
    let http = client();
    let api = Arc::new(api);
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (http, api) = (http.clone(), api.clone());
            tokio::spawn(async move {
                let ip = format!("198.51.100.{i}");
                login_as(&http, &api, Some(&ip), &format!("user-{i}"), "x")
                    .await
                    .status
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("join"), 401);
    }
    assert_eq!(
        state.login_guard().peak_concurrent_checks(),
        2,
        "16 logins at once, checked two at a time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_that_wait_too_long_for_a_check_are_answered_503_and_do_not_count() {
    let mut c = behind_proxy();
    c.auth.users = vec![costly_user("ana")];
    c.auth.max_concurrent_password_checks = 1;
    c.auth.password_check_wait_ms = 0;
    c.auth.max_failed_logins_per_user = 1;
    let (api, state) = serve(c).await;
    let http = client();
    let api = Arc::new(api);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (http, api) = (http.clone(), api.clone());
            tokio::spawn(async move {
                let ip = format!("198.51.100.{i}");
                let name = format!("user-{i}");
                (
                    name.clone(),
                    login_as(&http, &api, Some(&ip), &name, "x").await,
                )
            })
        })
        .collect();
    let mut busy = Vec::new();
    for t in tasks {
        let (name, reply) = t.await.expect("join");
        match reply.status {
            401 => {}
            503 => {
                assert_eq!(reply.body["error"]["code"], "SERVICE_UNAVAILABLE");
                assert_eq!(reply.retry_after, Some(1));
                busy.push(name);
            }
            other => panic!("{other}: {}", reply.body),
        }
    }
    assert!(
        !busy.is_empty(),
        "eight logins at once, one check at a time"
    );
    assert_eq!(state.login_guard().peak_concurrent_checks(), 1);
    // A login that was never checked left its user name's allowance (one failure) whole.
    let reply = login_as(&http, &api, Some("203.0.113.5"), &busy[0], "x").await;
    assert_eq!(reply.status, 401, "{}", reply.body);
}

/// An argon2id hash of `password` with `m` KiB of memory and `t` passes.
fn hash_with(password: &str, m: u32, t: u32) -> String {
    let params = Params::new(m, t, 1, None).expect("params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_with_salt(password.as_bytes(), b"another-salt-of-tests")
        .expect("hash")
        .to_string()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test]
async fn an_unknown_user_name_costs_what_a_wrong_password_costs() {
    // Users whose hashes are cheaper than the default parameters: the check of an unknown
    // name must use their parameters, not the defaults (which would take ~20 times longer).
    let mut c = behind_proxy();
    c.auth.users = vec![AuthUser {
        password_hash: Secret::new(hash_with(PASSWORD, 2048, 1)),
        ..user("ana", "acme", &["analyst"])
    }];
    c.auth.max_failed_logins_per_user = 100;
    c.auth.max_failed_logins_per_ip = 100;
    let (api, _) = serve(c).await;
    let http = client();
    // Warm up the connection and the code paths.
    login_as(&http, &api, None, "ana", PASSWORD).await;
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..9 {
        let t = Instant::now();
        assert_eq!(login_as(&http, &api, None, "ana", "x").await.status, 401);
        wrong.push(t.elapsed());
        let t = Instant::now();
        let name = format!("nobody-{i}");
        assert_eq!(login_as(&http, &api, None, &name, "x").await.status, 401);
        unknown.push(t.elapsed());
    }
    let (wrong, unknown) = (median(wrong), median(unknown));
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (1.0 / 3.0..3.0).contains(&ratio),
        "unknown name {unknown:?} vs wrong password {wrong:?}"
    );
}
