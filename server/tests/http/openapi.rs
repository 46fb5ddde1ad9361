//! The OpenAPI document: every endpoint with its methods and statuses, the bearer scheme, and
//! schemas that match what the API really sends.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{ask, login, request, send, test_app};

async fn document() -> Value {
    let app = test_app().await;
    let reply = send(&app, request("GET", "/api/v1/openapi.json", None, None)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["content-type"], "application/json");
    reply.body
}

#[tokio::test]
async fn the_document_lists_every_endpoint() {
    let doc = document().await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    for (path, method) in [
        ("/health", "get"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/query", "post"),
        ("/api/v1/sessions/{id}", "get"),
        ("/api/v1/sessions/{id}", "delete"),
        ("/api/v1/admin/circuit-breaker/reset", "post"),
        ("/api/v1/openapi.json", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
    }
    let statuses: BTreeSet<&str> = doc["paths"]["/api/v1/query"]["post"]["responses"]
        .as_object()
        .expect("responses")
        .keys()
        .map(String::as_str)
        .collect();
    for status in [
        "200", "400", "401", "403", "413", "422", "429", "503", "504",
    ] {
        assert!(
            statuses.contains(status),
            "{status} missing from {statuses:?}"
        );
    }
    assert_eq!(
        doc["paths"]["/api/v1/query"]["post"]["security"][0]["bearer"],
        serde_json::json!([])
    );
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
}

fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {schema} missing"))
        .keys()
        .cloned()
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

#[tokio::test]
async fn schemas_match_what_the_api_sends() {
    let doc = document().await;
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let answer = ask(&app, &token, "doc-1", "Number of tracks per genre").await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let mut answer_keys = keys(&answer.body);
    let documented = properties(&doc, "Answer");
    assert!(
        answer_keys.is_subset(&documented),
        "{answer_keys:?} vs {documented:?}"
    );
    answer_keys.extend([
        "similarity".to_string(),
        "chart".to_string(),
        "clarification".to_string(),
        "scope".to_string(),
    ]);
    assert_eq!(
        answer_keys, documented,
        "optional fields aside, the same fields"
    );
    assert_eq!(
        keys(&answer.body["columns"][0]),
        properties(&doc, "ResultColumn")
    );
    assert_eq!(
        keys(&answer.body["attempts"][0]),
        properties(&doc, "Attempt")
    );

    let id = answer.body["session_id"].as_str().expect("id");
    let session = send(
        &app,
        request("GET", &format!("/api/v1/sessions/{id}"), Some(&token), None),
    )
    .await;
    assert_eq!(keys(&session.body), properties(&doc, "SessionState"));
    let turn = keys(&session.body["turns"][0]);
    let documented = properties(&doc, "Turn");
    assert!(turn.is_subset(&documented), "{turn:?} vs {documented:?}");

    let error = send(&app, request("GET", "/api/v1/sessions/doc-1", None, None)).await;
    assert_eq!(keys(&error.body), properties(&doc, "ErrorBody"));
    assert_eq!(keys(&error.body["error"]), properties(&doc, "ErrorDetail"));

    let health = send(&app, request("GET", "/health", None, None)).await;
    assert_eq!(keys(&health.body), properties(&doc, "HealthReport"));
    let tenant_check = properties(&doc, "TenantCheck");
    for key in ["tenant_id", "status", "dialect", "error"] {
        assert!(tenant_check.contains(key), "{key} in {tenant_check:?}");
    }
    assert!(properties(&doc, "HealthChecks").contains("tenants"));
    let login = send(
        &app,
        request(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(serde_json::json!({ "username": "ana", "password": crate::support::PASSWORD })),
        ),
    )
    .await;
    assert_eq!(keys(&login.body), properties(&doc, "LoginResponse"));
}
