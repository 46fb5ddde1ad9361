//! Every endpoint through `app()`: health, login, query, sessions, the admin reset, CORS,
//! request ids and metrics.

use axum::{body::Body, http::Request};
use cbi_server::http::{AppState, app, middleware::HttpMetrics};
use conversational_bi::{Engine, config::StoreKind, metrics::Metrics};
use prometheus_client::{encoding::text::encode, registry::Registry};
use serde_json::json;

use crate::support::{PASSWORD, ask, config, login, request, send, sse_events, test_app};

#[tokio::test]
async fn health_reports_the_database_and_the_breaker() {
    let app = test_app().await;
    let reply = send(&app, request("GET", "/health", None, None)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "ok");
    assert_eq!(reply.body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(reply.body["generator"], "rule");
    assert_eq!(reply.body["checks"]["database"]["status"], "up");
    assert!(reply.body["checks"]["database"]["latency_ms"].is_number());
    assert_eq!(reply.body["checks"]["circuit_breaker"]["service"], "nl2sql");
    assert_eq!(reply.body["checks"]["circuit_breaker"]["state"], "absent");
    assert_eq!(reply.body["checks"]["circuit_breaker"]["fallback"], true);
    assert!(
        reply.body["checks"].get("redis").is_none(),
        "no Redis check without [redis] url: {:?}",
        reply.body
    );
}

#[tokio::test]
async fn health_checks_redis_when_it_is_configured() {
    if !testkit::require(testkit::Service::Redis) {
        return;
    }
    let mut c = config();
    c.redis.url = Some(conversational_bi::config::Secret::new(
        testkit::redis::redis_url(),
    ));
    let app = crate::support::app_with(c, None, None).await;
    let reply = send(&app, request("GET", "/health", None, None)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.body["checks"]["redis"]["status"], "up",
        "{:?}",
        reply.body
    );
    assert_eq!(reply.body["status"], "ok");

    // Nothing listens on port 1: Redis is down. Sessions, cache and limits are in memory here,
    // so the instance still serves, degraded.
    let mut c = config();
    c.redis.url = Some(conversational_bi::config::Secret::new(
        "redis://:hunter2-redis@127.0.0.1:1",
    ));
    c.session.store = Some(StoreKind::Memory);
    c.cache.store = Some(StoreKind::Memory);
    c.production.rate_limiting.store = Some(StoreKind::Memory);
    let app = crate::support::app_with(c, None, None).await;
    let reply = send(&app, request("GET", "/health", None, None)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "degraded");
    assert_eq!(reply.body["checks"]["redis"]["status"], "down");
    assert!(reply.body["checks"]["redis"]["error"].is_string());
    assert!(
        !reply.body.to_string().contains("hunter2"),
        "no password in the report: {:?}",
        reply.body
    );
}

#[tokio::test]
async fn health_reports_each_tenant_database_and_a_tenant_down_only_degrades() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        listener.local_addr().expect("addr").port()
    };
    let mut c = config();
    c.database.connection_timeout_secs = 2;
    for (tenant, url) in [
        (
            "acme",
            format!("sqlite://{}", testkit::db::chinook_sqlite().display()),
        ),
        (
            "globex",
            format!("postgres://bi:hunter2-pg@127.0.0.1:{closed_port}/shop"),
        ),
    ] {
        c.tenants.insert(
            tenant.into(),
            conversational_bi::config::TenantConfig {
                database_url: conversational_bi::config::Secret::new(url),
                pool_size: None,
            },
        );
    }
    let app = crate::support::app_with(c, None, None).await;
    let reply = send(&app, request("GET", "/health", None, None)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "ok", "nothing is open yet");
    assert_eq!(
        reply.body["checks"]["tenants"],
        json!([
            {"tenant_id": "acme", "status": "closed", "dialect": "sqlite"},
            {"tenant_id": "globex", "status": "closed", "dialect": "postgres"},
        ])
    );

    let ana = login(&app, "ana").await;
    let answer = ask(&app, &ana, "t-1", "How many customers are there?").await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let bob = login(&app, "bob").await;
    let refused = ask(&app, &bob, "t-2", "How many customers are there?").await;
    refused.assert_error(503, "DATABASE_UNAVAILABLE");
    assert!(!refused.message().contains("hunter2"), "{:?}", refused.body);

    let reply = send(&app, request("GET", "/health", None, None)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "degraded");
    assert_eq!(reply.body["checks"]["database"]["status"], "up");
    let tenants = &reply.body["checks"]["tenants"];
    assert_eq!(
        tenants[0],
        json!({"tenant_id": "acme", "status": "up", "dialect": "sqlite"})
    );
    assert_eq!(tenants[1]["status"], "down");
    assert!(
        tenants[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains(&closed_port.to_string())),
        "{tenants}"
    );
    assert!(
        !reply.body.to_string().contains("hunter2"),
        "{:?}",
        reply.body
    );
}

#[tokio::test]
async fn login_query_session_and_reset() {
    let app = test_app().await;
    let token = login(&app, "ana").await;

    let first = ask(&app, &token, "flow-1", "How many customers are there?").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["rows"], json!([[59]]));
    assert_eq!(first.body["turn"], 1);
    // "flow-1" is no conversation of ana's: the server starts one under an id of its own.
    let id = first.body["session_id"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
    assert_eq!(first.body["generator"], "rule");
    assert_eq!(first.body["cache_hit"], false);
    assert!(
        first.body["sql"]
            .as_str()
            .is_some_and(|s| s.contains("Customer"))
    );

    let second = ask(&app, &token, &id, "only in Germany").await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(
        second.body["rows"],
        json!([[4]]),
        "the follow-up refines turn 1"
    );
    assert_eq!(second.body["turn"], 2);
    assert_eq!(second.body["session_id"], id.as_str());
    assert_eq!(second.body["warnings"], json!([]));

    let path = format!("/api/v1/sessions/{id}");
    let session = send(&app, request("GET", &path, Some(&token), None)).await;
    assert_eq!(session.status, 200, "{:?}", session.body);
    assert_eq!(session.body["tenant_id"], "acme");
    assert_eq!(session.body["user_id"], "ana");
    assert_eq!(session.body["session_id"], id.as_str());
    assert_eq!(session.body["turn_count"], 2);
    let turns = session.body["turns"].as_array().expect("turns");
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0]["question"], "How many customers are there?");
    assert_eq!(turns[1]["question"], "only in Germany");

    let reset = send(&app, request("DELETE", &path, Some(&token), None)).await;
    assert_eq!(reset.status, 204, "{:?}", reset.body);
    assert_eq!(reset.body, serde_json::Value::Null);
    let gone = send(&app, request("GET", &path, Some(&token), None)).await;
    gone.assert_error(404, "NOT_FOUND");
    let again = send(&app, request("DELETE", &path, Some(&token), None)).await;
    again.assert_error(404, "NOT_FOUND");

    let fresh = ask(
        &app,
        &token,
        &id,
        "How many customers are there in Germany?",
    )
    .await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    assert_eq!(fresh.body["turn"], 1, "the reset session starts anew");
    assert_ne!(fresh.body["session_id"], id.as_str(), "under a new id");
}

#[tokio::test]
async fn login_answers_a_token_with_its_lifetime() {
    let app = test_app().await;
    let reply = send(
        &app,
        request(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({ "username": "root", "password": PASSWORD })),
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["expires_in"], 3600);
    assert_eq!(reply.body["token_type"], "Bearer");
    let token = reply.body["token"].as_str().expect("token");
    let claims = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(token)
        .expect("a JWT")
        .claims;
    assert_eq!(claims["sub"], "root");
    assert_eq!(claims["tenant_id"], "acme");
    assert_eq!(claims["roles"], json!(["admin"]));
    assert_eq!(claims["iss"], "heliosdb-conversational-bi");
    assert_eq!(claims["aud"], "heliosdb-conversational-bi");
    let (iat, exp) = (
        claims["iat"].as_u64().expect("iat"),
        claims["exp"].as_u64().expect("exp"),
    );
    assert_eq!(exp - iat, 3600);
    let header = jsonwebtoken::decode_header(token).expect("header");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
}

#[tokio::test]
async fn login_refuses_wrong_passwords_and_unknown_users_alike() {
    let app = test_app().await;
    let mut messages = Vec::new();
    for (username, password) in [("ana", "Tr0ub4dor&3"), ("mallory", PASSWORD)] {
        let reply = send(
            &app,
            request(
                "POST",
                "/api/v1/auth/login",
                None,
                Some(json!({ "username": username, "password": password })),
            ),
        )
        .await;
        reply.assert_error(401, "UNAUTHORIZED");
        assert!(
            reply.headers["www-authenticate"]
                .to_str()
                .expect("ascii")
                .starts_with("Bearer realm=")
        );
        assert!(
            !reply.body.to_string().contains(password),
            "{:?}",
            reply.body
        );
        messages.push(reply.message().to_string());
    }
    assert_eq!(
        messages[0], messages[1],
        "an unknown user is not told apart"
    );
}

#[tokio::test]
async fn a_query_without_a_session_starts_a_new_one() {
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let reply = send(
        &app,
        request(
            "POST",
            "/api/v1/query",
            Some(&token),
            Some(json!({ "query": "How many artists are there?" })),
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["rows"], json!([[275]]));
    let id = reply.body["session_id"].as_str().expect("id");
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
    let session = send(
        &app,
        request("GET", &format!("/api/v1/sessions/{id}"), Some(&token), None),
    )
    .await;
    assert_eq!(session.status, 200);
    assert_eq!(session.body["turn_count"], 1);
}

#[tokio::test]
async fn the_tenant_comes_from_the_token_never_from_the_body() {
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let reply = send(
        &app,
        request(
            "POST",
            "/api/v1/query",
            Some(&token),
            Some(json!({ "session_id": "t-1", "query": "How many artists are there?", "tenant_id": "globex" })),
        ),
    )
    .await;
    reply.assert_error(400, "INVALID_INPUT");
    assert!(reply.message().contains("tenant_id"), "{}", reply.message());

    let ok = ask(&app, &token, "t-1", "How many artists are there?").await;
    assert_eq!(ok.status, 200);
    let path = format!(
        "/api/v1/sessions/{}",
        ok.body["session_id"].as_str().expect("id")
    );
    let bob = login(&app, "bob").await;
    let theirs = send(&app, request("GET", &path, Some(&bob), None)).await;
    theirs.assert_error(404, "NOT_FOUND");
    let mine = send(&app, request("GET", &path, Some(&token), None)).await;
    assert_eq!(mine.body["tenant_id"], "acme");
}

#[tokio::test]
async fn admins_reset_the_breaker_and_analysts_may_not() {
    let app = test_app().await;
    let root = login(&app, "root").await;
    let reply = send(
        &app,
        request(
            "POST",
            "/api/v1/admin/circuit-breaker/reset",
            Some(&root),
            None,
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["service"], "nl2sql");
    assert_eq!(
        reply.body["previous_state"], "absent",
        "the rule generator has no breaker"
    );
    assert_eq!(reply.body["state"], "absent");

    let ana = login(&app, "ana").await;
    let reply = send(
        &app,
        request(
            "POST",
            "/api/v1/admin/circuit-breaker/reset",
            Some(&ana),
            None,
        ),
    )
    .await;
    reply.assert_error(403, "FORBIDDEN");
    assert!(reply.message().contains("`admin`"), "{}", reply.message());
    let reply = send(
        &app,
        request("POST", "/api/v1/admin/circuit-breaker/reset", None, None),
    )
    .await;
    reply.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let mut c = config();
    c.server.cors_allowed_origins = vec!["https://bi.example.com".into()];
    let app = crate::support::app_with(c, None, None).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/v1/query")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .body(Body::empty())
            .expect("request")
    };
    let reply = send(&app, preflight("https://bi.example.com")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.headers["access-control-allow-origin"],
        "https://bi.example.com"
    );
    let methods = reply.headers["access-control-allow-methods"]
        .to_str()
        .expect("ascii");
    assert!(methods.contains("POST"), "{methods}");
    let headers = reply.headers["access-control-allow-headers"]
        .to_str()
        .expect("ascii");
    assert!(headers.contains("authorization"), "{headers}");

    let reply = send(&app, preflight("https://evil.example.net")).await;
    assert!(reply.headers.get("access-control-allow-origin").is_none());

    // Error responses carry the header too, so that the page can read the error.
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/query")
        .header("origin", "https://bi.example.com")
        .body(Body::empty())
        .expect("request");
    let reply = send(&app, req).await;
    reply.assert_error(401, "UNAUTHORIZED");
    assert_eq!(
        reply.headers["access-control-allow-origin"],
        "https://bi.example.com"
    );
}

#[tokio::test]
async fn cors_origins_are_checked_at_start() {
    let mut c = config();
    c.server.cors_allowed_origins = vec!["bi.example.com/app".into()];
    let engine = Engine::builder().config(c).build().await.expect("engine");
    let e = AppState::new(engine).expect_err("not an origin");
    assert!(e.to_string().contains("bi.example.com/app"), "{e}");
    assert_eq!(e.kind().code(), "CONFIG");
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = test_app().await;
    let req = Request::builder()
        .uri("/api/v1/sessions/x")
        .header("x-request-id", "lb-7f3a.2")
        .body(Body::empty())
        .expect("request");
    let reply = send(&app, req).await;
    reply.assert_error(401, "UNAUTHORIZED");
    assert_eq!(reply.body["error"]["request_id"], "lb-7f3a.2");

    let req = Request::builder()
        .uri("/api/v1/sessions/x")
        .header("x-request-id", "not acceptable; <script>")
        .body(Body::empty())
        .expect("request");
    let reply = send(&app, req).await;
    let id = reply.body["error"]["request_id"].as_str().expect("id");
    assert_eq!(id.len(), 36, "replaced by a UUID: {id}");

    let reply = send(&app, request("GET", "/health", None, None)).await;
    assert_eq!(reply.headers["x-request-id"].len(), 36);
    assert_eq!(reply.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn metrics_count_queries_and_requests_by_route() {
    let mut registry = Registry::default();
    let metrics = Metrics::register(&mut registry);
    let http_metrics = HttpMetrics::register(&mut registry);
    let engine = Engine::builder()
        .config(config())
        .metrics(metrics)
        .build()
        .await
        .expect("engine");
    let app = app(AppState::new(engine)
        .expect("state")
        .with_http_metrics(http_metrics));
    let token = login(&app, "ana").await;
    let first = ask(&app, &token, "m-1", "How many artists are there?").await;
    assert_eq!(first.status, 200);
    let id = first.body["session_id"].as_str().expect("id");
    assert_eq!(
        ask(&app, &token, id, "frobnicate the wibble").await.status,
        422
    );
    let _ = send(
        &app,
        request("GET", &format!("/api/v1/sessions/{id}"), Some(&token), None),
    )
    .await;
    let _ = send(&app, request("GET", "/nowhere", None, None)).await;
    let mut text = String::new();
    encode(&mut text, &registry).expect("encode");
    for line in [
        "queries_total 2",
        "queries_failed_total{code=\"CANNOT_ANSWER\"} 1",
        "query_duration_seconds_count 2",
        "http_requests_total{method=\"POST\",route=\"/api/v1/query\",status=\"200\"} 1",
        "http_requests_total{method=\"POST\",route=\"/api/v1/query\",status=\"422\"} 1",
        "http_requests_total{method=\"GET\",route=\"/api/v1/sessions/{id}\",status=\"200\"} 1",
        "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
        "http_request_duration_seconds_count{route=\"/api/v1/auth/login\"} 1",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(
        !text.contains("m-1") && !text.contains(id),
        "no session ids in labels"
    );
}

/// `POST /api/v1/query/stream` of `question`, with `token` when there is one.
async fn stream(app: &axum::Router, token: Option<&str>, question: &str) -> crate::support::Reply {
    send(
        app,
        request(
            "POST",
            "/api/v1/query/stream",
            token,
            Some(json!({ "query": question })),
        ),
    )
    .await
}

#[tokio::test]
async fn a_query_streams_its_stages_sql_rows_then_the_answer() {
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let reply = stream(&app, Some(&token), "How many artists are there?").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.headers["content-type"], "text/event-stream");
    let events = sse_events(reply.body.as_str().expect("text"));
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let at = |name: &str| names.iter().position(|n| *n == name).expect(name);
    assert_eq!(names[0], "stage", "{names:?}");
    assert!(
        at("stage") < at("sql") && at("sql") < at("rows"),
        "{names:?}"
    );
    assert_eq!(names.last(), Some(&"answer"), "{names:?}");
    let (_, answer) = events.last().expect("answer");
    assert_eq!(answer["answer"]["rows"], json!([[275]]));
    assert_eq!(events[at("sql")].1["sql"], answer["answer"]["sql"]);
    // The conversation goes on, over the stream or not.
    let id = answer["answer"]["session_id"].as_str().expect("id");
    let next = ask(&app, &token, id, "How many albums are there?").await;
    assert_eq!(next.body["turn"], json!(2));

    // A question that cannot be answered ends with its error, after the stages.
    let reply = stream(
        &app,
        Some(&token),
        "How many frobnicated wombats are there?",
    )
    .await;
    let events = sse_events(reply.body.as_str().expect("text"));
    let (name, last) = events.last().expect("an event");
    assert_eq!(
        (name.as_str(), &last["code"]),
        ("error", &json!("CANNOT_ANSWER"))
    );
    // Without a token nothing streams.
    let reply = stream(&app, None, "How many artists are there?").await;
    reply.assert_error(401, "UNAUTHORIZED");
}
