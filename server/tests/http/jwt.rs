//! Tokens the API must refuse, one test each: every refusal is a 401 with a Bearer
//! `invalid_token` challenge, and the same request with a good token succeeds.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::{SECRET, ask, login, request, send, test_app};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Good claims of user `ana` (tenant acme).
fn claims() -> Value {
    let now = now();
    json!({
        "sub": "ana",
        "tenant_id": "acme",
        "roles": ["analyst"],
        "iat": now,
        "exp": now + 600,
        "iss": "heliosdb-conversational-bi",
        "aud": "heliosdb-conversational-bi",
    })
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).expect("key"),
    )
    .expect("sign")
}

fn without(field: &str) -> Value {
    let mut c = claims();
    c.as_object_mut().expect("object").remove(field);
    c
}

fn with(field: &str, value: Value) -> Value {
    let mut c = claims();
    c[field] = value;
    c
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Sends a query with `token` and asserts a 401 whose message contains `reason`.
async fn refused(token: &str, reason: &str) {
    let app = test_app().await;
    let reply = ask(&app, token, "jwt-1", "How many artists are there?").await;
    reply.assert_error(401, "UNAUTHORIZED");
    let challenge = reply.headers["www-authenticate"].to_str().expect("ascii");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(
        reply.message().contains(reason),
        "{reason:?} not in {:?}",
        reply.message()
    );
    // The same request with a good token is answered: the refusal was the token's doing.
    let good = ask(
        &app,
        &sign(&claims(), SECRET),
        "jwt-1",
        "How many artists are there?",
    )
    .await;
    assert_eq!(good.status, 200, "{:?}", good.body);
}

#[tokio::test]
async fn alg_none_is_refused() {
    let header = json!({ "alg": "none", "typ": "JWT" });
    refused(&format!("{}.{}.", b64(&header), b64(&claims())), "unsigned").await;
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_refused() {
    let token = sign(&claims(), "another-secret-that-is-long-enough-0123456789");
    refused(&token, "signature").await;
}

#[tokio::test]
async fn an_rs256_header_is_refused() {
    let header = json!({ "alg": "RS256", "typ": "JWT" });
    let signature = URL_SAFE_NO_PAD.encode([7u8; 256]);
    refused(
        &format!("{}.{}.{signature}", b64(&header), b64(&claims())),
        "HS256",
    )
    .await;
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let token = sign(&claims(), SECRET);
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(&with("tenant_id", json!("globex"))),
        parts[2]
    );
    refused(&forged, "signature").await;
}

#[tokio::test]
async fn a_token_expired_beyond_the_leeway_is_refused() {
    let now = now();
    let expired = json!({
        "sub": "ana", "tenant_id": "acme", "roles": ["analyst"],
        "iat": now - 3700, "exp": now - 100,
        "iss": "heliosdb-conversational-bi", "aud": "heliosdb-conversational-bi",
    });
    refused(&sign(&expired, SECRET), "expired").await;
}

#[tokio::test]
async fn a_token_expired_within_the_leeway_is_still_accepted() {
    let app = test_app().await;
    let now = now();
    let barely = json!({
        "sub": "ana", "tenant_id": "acme", "roles": ["analyst"],
        "iat": now - 3600, "exp": now - 10,
        "iss": "heliosdb-conversational-bi", "aud": "heliosdb-conversational-bi",
    });
    let reply = ask(
        &app,
        &sign(&barely, SECRET),
        "jwt-2",
        "How many artists are there?",
    )
    .await;
    assert_eq!(
        reply.status, 200,
        "10 s past exp is within the 30 s leeway: {:?}",
        reply.body
    );
}

#[tokio::test]
async fn a_token_without_exp_is_refused() {
    refused(&sign(&without("exp"), SECRET), "exp").await;
}

#[tokio::test]
async fn a_token_without_aud_is_refused() {
    refused(&sign(&without("aud"), SECRET), "aud").await;
}

#[tokio::test]
async fn a_token_without_iss_is_refused() {
    refused(&sign(&without("iss"), SECRET), "iss").await;
}

#[tokio::test]
async fn a_token_without_iat_is_refused() {
    refused(&sign(&without("iat"), SECRET), "iat").await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    refused(
        &sign(&with("aud", json!("billing-service")), SECRET),
        "audience",
    )
    .await;
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    refused(
        &sign(&with("iss", json!("https://sso.example.com")), SECRET),
        "issuer",
    )
    .await;
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_refused() {
    refused(&sign(&with("iat", json!(now() + 300)), SECRET), "future").await;
}

#[tokio::test]
async fn a_request_without_a_token_gets_a_bearer_challenge() {
    let app = test_app().await;
    let reply = send(
        &app,
        request(
            "POST",
            "/api/v1/query",
            None,
            Some(json!({ "query": "How many artists are there?" })),
        ),
    )
    .await;
    reply.assert_error(401, "UNAUTHORIZED");
    assert_eq!(
        reply.headers["www-authenticate"],
        "Bearer realm=\"heliosdb-conversational-bi\""
    );
    let basic = axum::http::Request::builder()
        .method("GET")
        .uri("/api/v1/sessions/x")
        .header("authorization", "Basic YW5hOnB3")
        .body(axum::body::Body::empty())
        .expect("request");
    let reply = send(&app, basic).await;
    reply.assert_error(401, "UNAUTHORIZED");
    assert!(reply.message().contains("Bearer"), "{}", reply.message());
}

#[tokio::test]
async fn a_token_of_tenant_a_cannot_read_or_reset_a_session_of_tenant_b() {
    let app = test_app().await;
    let ana = login(&app, "ana").await;
    let bob = login(&app, "bob").await;
    let first = ask(&app, &bob, "globex-s1", "How many customers are there?").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let id = first.body["session_id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/sessions/{id}");

    let read = send(&app, request("GET", &path, Some(&ana), None)).await;
    read.assert_error(404, "NOT_FOUND");
    assert!(
        !read.body.to_string().contains("Customer"),
        "{:?}",
        read.body
    );
    let reset = send(&app, request("DELETE", &path, Some(&ana), None)).await;
    reset.assert_error(404, "NOT_FOUND");

    // Asking in that session id as acme starts acme's own conversation, under a new id.
    let own = ask(&app, &ana, &id, "How many artists are there?").await;
    assert_eq!(own.body["turn"], 1, "{:?}", own.body);
    assert_ne!(own.body["session_id"], id.as_str());
    let theirs = send(&app, request("GET", &path, Some(&bob), None)).await;
    assert_eq!(theirs.body["turn_count"], 1, "bob's session is untouched");
    assert_eq!(
        theirs.body["turns"][0]["question"],
        "How many customers are there?"
    );
}
