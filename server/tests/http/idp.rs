//! Tokens of external identity providers (`[[auth.issuers]]`): RS256 and ES256 keys from a
//! loopback JWKS endpoint or a PEM key, key rotation and the bounded refetching of the key set,
//! every way a token must be refused, the claim mappings of Keycloak, Auth0 and Okta style
//! tokens, a server with no built-in login, and the real binary.

use std::{process::Stdio, time::Duration};

use axum::Router;
use cbi_server::http::{AppState, app, auth::Auth};
use conversational_bi::{
    Config, Engine, Error,
    config::{IssuerConfig, RolePolicy},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, SECRET, ask, config,
    idp::{
        AUDIENCE, ISSUER, LoopbackIdp, TestKey, assert_config_error, claims, issuer_config, now,
        with_issuers,
    },
    login,
    process::{ServerProcess, chinook_url, client, command},
    request, send, user,
};

const QUESTION: &str = "How many artists are there?";

/// The app over `config`, with the key sets fetched first as `serve` does.
async fn started(config: Config) -> (Router, AppState) {
    let engine = Engine::builder()
        .config(config)
        .build()
        .await
        .expect("engine");
    let auth = Auth::start(engine.config()).await.expect("auth");
    let state = AppState::with_auth(engine, auth).expect("state");
    (app(state.clone()), state)
}

/// Asks with `token` and asserts a 401 with a Bearer `invalid_token` challenge whose message
/// contains `reason`.
async fn refused(app: &Router, token: &str, reason: &str) {
    let reply = ask(app, token, "idp-1", QUESTION).await;
    reply.assert_error(401, "UNAUTHORIZED");
    let challenge = reply.headers["www-authenticate"].to_str().expect("ascii");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(
        reply.message().contains(reason),
        "{reason:?} not in {:?}",
        reply.message()
    );
}

async fn accepted(app: &Router, token: &str) -> Value {
    let reply = ask(app, token, "idp-ok", QUESTION).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}

fn without(mut claims: Value, field: &str) -> Value {
    claims.as_object_mut().expect("object").remove(field);
    claims
}

#[tokio::test]
async fn rs256_tokens_of_a_jwks_issuer_ask_as_their_user_and_tenant() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let (app, _) = started(with_issuers(vec![idp.issuer("")])).await;
    assert_eq!(idp.fetches(), 1, "fetched once at start");

    let alice = key.sign(&claims("alice", "acme"));
    let answer = accepted(&app, &alice).await;
    assert_eq!(answer["rows"][0][0], 275, "{answer:?}");
    let id = answer["session_id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/sessions/{id}");

    // The conversation is alice's of acme: her token reads it, nobody else's does.
    let own = send(&app, request("GET", &path, Some(&alice), None)).await;
    assert_eq!(own.status, 200, "{:?}", own.body);
    assert_eq!(own.body["turn_count"], 1);
    let bob = key.sign(&claims("bob", "acme"));
    send(&app, request("GET", &path, Some(&bob), None))
        .await
        .assert_error(404, "NOT_FOUND");
    let alice_elsewhere = key.sign(&claims("alice", "globex"));
    send(&app, request("GET", &path, Some(&alice_elsewhere), None))
        .await
        .assert_error(404, "NOT_FOUND");
    // A built-in user of the same tenant is someone else too: sessions belong to (tenant,
    // user id), whoever issued the token.
    let ana = login(&app, "ana").await;
    send(&app, request("GET", &path, Some(&ana), None))
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(ask(&app, &ana, "b-1", QUESTION).await.status, 200);
    assert_eq!(idp.fetches(), 1, "known keys need no fetch");
}

#[tokio::test]
async fn es256_tokens_are_accepted() {
    let key = TestKey::ec("ec-a", "e1");
    let idp = LoopbackIdp::start(&[&key]);
    let (app, _) = started(with_issuers(vec![idp.issuer("")])).await;
    accepted(&app, &key.sign(&claims("alice", "acme"))).await;
    // With only RS256 allowed, the same token is refused.
    let (app, _) = started(with_issuers(vec![idp.issuer("algorithms = [\"RS256\"]")])).await;
    refused(
        &app,
        &key.sign(&claims("alice", "acme")),
        "must be signed with RS256",
    )
    .await;
}

#[tokio::test]
async fn a_new_key_is_fetched_once_and_a_removed_key_is_refused() {
    let old = TestKey::rsa("rsa-a", "2024");
    let new = TestKey::rsa("rsa-b", "2025");
    let idp = LoopbackIdp::start(&[&old]);
    let (app, _) = started(with_issuers(vec![idp.issuer("")])).await;
    accepted(&app, &old.sign(&claims("alice", "acme"))).await;
    assert_eq!(idp.fetches(), 1);

    // The provider rotates: the old key is gone, the new one signs.
    idp.publish(&[&new]);
    accepted(&app, &new.sign(&claims("alice", "acme"))).await;
    assert_eq!(
        idp.fetches(),
        2,
        "the first token of the new key fetched the set"
    );
    accepted(&app, &new.sign(&claims("bob", "acme"))).await;
    assert_eq!(idp.fetches(), 2, "then the new key is known");
    refused(
        &app,
        &old.sign(&claims("alice", "acme")),
        "not one of its issuer's keys",
    )
    .await;
    assert_eq!(
        idp.fetches(),
        2,
        "the set was fetched a moment ago: the old key's miss does not fetch it again"
    );
}

#[tokio::test]
async fn unknown_key_ids_cause_a_bounded_number_of_fetches() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let (app, _) = started(with_issuers(vec![idp.issuer("")])).await;
    assert_eq!(idp.fetches(), 1);
    idp.set_delay(Duration::from_millis(300));

    // Concurrent misses share one fetch...
    let tokens: Vec<String> = (0..16)
        .map(|i| {
            key.with_kid(&format!("made-up-{i}"))
                .sign(&claims("eve", "acme"))
        })
        .collect();
    let replies =
        futures_util::future::join_all(tokens.iter().map(|t| ask(&app, t, "x", QUESTION))).await;
    for reply in &replies {
        reply.assert_error(401, "UNAUTHORIZED");
        assert!(reply.message().contains("not one of its issuer's keys"));
    }
    assert_eq!(idp.fetches(), 2, "one fetch for 16 concurrent misses");
    // ... and later misses within the interval fetch nothing.
    for token in &tokens {
        refused(&app, token, "not one of its issuer's keys").await;
    }
    assert_eq!(idp.fetches(), 2, "no fetch within the refresh interval");
    // The known key still works meanwhile.
    accepted(&app, &key.sign(&claims("alice", "acme"))).await;
}

#[tokio::test]
async fn expiry_is_checked_with_the_issuers_leeway() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let (app, _) = started(with_issuers(vec![idp.issuer("leeway_secs = 60")])).await;
    let now = now();
    let expired = with(claims("alice", "acme"), "exp", json!(now - 100));
    refused(&app, &key.sign(&expired), "expired").await;
    let barely = with(claims("alice", "acme"), "exp", json!(now - 30));
    accepted(&app, &key.sign(&barely)).await;
    let early = with(claims("alice", "acme"), "nbf", json!(now + 300));
    refused(&app, &key.sign(&early), "not valid yet").await;
    refused(
        &app,
        &key.sign(&without(claims("alice", "acme"), "exp")),
        "`exp`",
    )
    .await;
}

#[tokio::test]
async fn audience_and_issuer_must_match() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let (app, _) = started(with_issuers(vec![idp.issuer("")])).await;
    let other = with(claims("alice", "acme"), "aud", json!("billing"));
    refused(&app, &key.sign(&other), "audience").await;
    let listed = with(claims("alice", "acme"), "aud", json!(["billing", AUDIENCE]));
    accepted(&app, &key.sign(&listed)).await;
    refused(
        &app,
        &key.sign(&without(claims("alice", "acme"), "aud")),
        "`aud`",
    )
    .await;

    let elsewhere = with(
        claims("alice", "acme"),
        "iss",
        json!("https://idp.test/realms/other"),
    );
    refused(&app, &key.sign(&elsewhere), "issuer").await;
    let prefix = with(claims("alice", "acme"), "iss", json!(format!("{ISSUER}/")));
    refused(&app, &key.sign(&prefix), "issuer").await;
}

#[tokio::test]
async fn forged_and_confused_tokens_are_refused() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let (app, _) = started(with_issuers(vec![idp.issuer("")])).await;
    let good = claims("alice", "acme");

    // alg none.
    let b64 = |v: &Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "JWT", "kid": "k1" })),
        b64(&good)
    );
    refused(&app, &unsigned, "unsigned").await;

    // HS256 with the RSA public key (its PEM text) as the HMAC secret.
    let pem = key.public_pem();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let confused = jsonwebtoken::encode(
        &header,
        &good,
        &EncodingKey::from_secret(pem.as_bytes()).expect("secret"),
    )
    .expect("sign");
    let reply = ask(&app, &confused, "x", QUESTION).await;
    reply.assert_error(401, "UNAUTHORIZED");
    assert!(
        reply.message().contains("signed with HS256") && reply.message().contains("RS256"),
        "{}",
        reply.message()
    );
    assert!(
        !reply.body.to_string().contains("BEGIN"),
        "{:?}",
        reply.body
    );

    // Another key under the known id.
    let impostor = TestKey::rsa("rsa-b", "k1");
    refused(&app, &impostor.sign(&good), "signature").await;
    // An EC key under the RSA key's id.
    let ec = TestKey::ec("ec-a", "k1");
    refused(&app, &ec.sign(&good), "verifies RS256 only").await;
    // An unknown id, no id, a tampered payload, garbage.
    refused(
        &app,
        &key.with_kid("k9").sign(&good),
        "not one of its issuer's keys",
    )
    .await;
    let token = key.sign(&good);
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(&with(good.clone(), "tenant_id", json!("globex"))),
        parts[2]
    );
    refused(&app, &tampered, "signature").await;
    refused(&app, "a.b.c", "malformed").await;
    // The same claims, rightly signed, are accepted.
    accepted(&app, &token).await;
    // A token without kid is verified by the only key of its algorithm.
    accepted(
        &app,
        &key.sign_with(Header::new(Algorithm::RS256), &claims("alice", "acme")),
    )
    .await;
}

#[tokio::test]
async fn a_jwks_without_a_usable_signing_key_stops_the_start() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[]);
    let mut declared = key.jwk();
    declared["alg"] = json!("RS512");
    let mut hmac = json!({ "kty": "oct", "kid": "h1", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ" });
    hmac["alg"] = json!("HS256");
    idp.publish_raw(vec![declared, hmac]);
    // An RSA key declared for another algorithm and an HMAC key are never used, so the set
    // has no usable key.
    let engine = Engine::builder()
        .config(with_issuers(vec![idp.issuer("")]))
        .build()
        .await
        .expect("engine");
    let e = Auth::start(engine.config())
        .await
        .expect_err("no usable key");
    assert_config_key(&e, "auth.issuers[0].jwks_url");
    assert!(e.to_string().contains("no usable signing key"), "{e}");
}

#[tokio::test]
async fn pem_keys_verify_without_a_jwks() {
    for (key, pem) in [
        (
            TestKey::rsa("rsa-a", "any"),
            TestKey::rsa("rsa-a", "").public_pem(),
        ),
        (
            TestKey::rsa("rsa-a", "any"),
            crate::support::idp::fixture("rsa-a.pkcs1.pub.pem"),
        ),
        (
            TestKey::ec("ec-a", "any"),
            TestKey::ec("ec-a", "").public_pem(),
        ),
    ] {
        // Indented as a TOML multi-line string often is.
        let indented: String = pem.lines().map(|l| format!("    {l}\n")).collect();
        let issuer = issuer_config(&format!("public_key_pem = \"\"\"\n{indented}\"\"\""));
        let (app, _) = started(with_issuers(vec![issuer])).await;
        accepted(&app, &key.sign(&claims("alice", "acme"))).await;
        let other = match key.alg {
            Algorithm::RS256 => TestKey::rsa("rsa-b", "any"),
            _ => TestKey::ec("ec-b", "any"),
        };
        refused(&app, &other.sign(&claims("alice", "acme")), "signature").await;
        let wrong_family = match key.alg {
            Algorithm::RS256 => TestKey::ec("ec-a", "any"),
            _ => TestKey::rsa("rsa-a", "any"),
        };
        refused(
            &app,
            &wrong_family.sign(&claims("alice", "acme")),
            "its signing key verifies",
        )
        .await;
    }
}

/// The caller that `auth` makes of `token`.
async fn caller(state: &AppState, token: &str) -> cbi_server::http::auth::Caller {
    state.auth().verify(token).await.expect("verified")
}

#[tokio::test]
async fn keycloak_style_tokens_map_realm_roles_and_attributes() {
    let key = TestKey::rsa("rsa-a", "kc");
    let idp = LoopbackIdp::start(&[&key]);
    let issuer = idp.issuer(
        r#"
[claims]
tenant = "tenant"
roles = "realm_access.roles"
attributes = { employee_id = "employee_id", regions = "attrs.regions", groups = "groups" }
"#,
    );
    let (app, state) = started(with_issuers(vec![issuer])).await;
    let now = now();
    let token = key.sign(&json!({
        "iss": ISSUER, "aud": [AUDIENCE, "account"], "exp": now + 300, "iat": now,
        "sub": "f:1b2c:alice", "preferred_username": "alice", "tenant": "acme",
        "realm_access": { "roles": ["analyst", "sales_rep", "offline_access"] },
        "resource_access": { "account": { "roles": ["manage-account"] } },
        "employee_id": 3,
        "attrs": { "regions": ["EU", "US"] },
        "groups": { "not": "a list" },
    }));
    let c = caller(&state, &token).await;
    assert_eq!(c.user_id, "f:1b2c:alice");
    assert_eq!(c.tenant_id, "acme");
    assert_eq!(c.roles, ["analyst", "sales_rep", "offline_access"]);
    assert_eq!(
        c.attributes,
        [
            ("employee_id".to_string(), json!(3)),
            ("regions".to_string(), json!(["EU", "US"])),
        ]
        .into_iter()
        .collect(),
        "an object claim is left out"
    );
    let principal = c.principal();
    assert_eq!(principal.user_id.as_deref(), Some("f:1b2c:alice"));
    assert_eq!(principal.tenant_id.as_deref(), Some("acme"));
    assert_eq!(principal.roles, c.roles);
    assert_eq!(principal.attributes, c.attributes);
    accepted(&app, &token).await;
}

#[tokio::test]
async fn auth0_style_tokens_map_namespaced_claims() {
    let key = TestKey::rsa("rsa-a", "a0");
    let idp = LoopbackIdp::start(&[&key]);
    let issuer = idp.issuer(
        r#"
[claims]
tenant = "https://bi.example.com/tenant"
roles = "https://bi.example.com/roles"
attributes = { employee_id = "https://bi.example.com/app.employee_id" }
"#,
    );
    let (app, state) = started(with_issuers(vec![issuer])).await;
    let now = now();
    let claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "exp": now + 300,
        "sub": "auth0|64f1", "azp": "client", "scope": "openid profile",
        "https://bi.example.com/tenant": "globex",
        "https://bi.example.com/roles": ["sales_rep"],
        "https://bi.example.com/app": { "employee_id": "E-7" },
    });
    let c = caller(&state, &key.sign(&claims)).await;
    assert_eq!(
        (c.user_id.as_str(), c.tenant_id.as_str()),
        ("auth0|64f1", "globex")
    );
    assert_eq!(c.roles, ["sales_rep"]);
    assert_eq!(c.attributes["employee_id"], "E-7");
    // Without an API role, the query endpoint says which roles the token has.
    let reply = ask(&app, &key.sign(&claims), "x", QUESTION).await;
    reply.assert_error(403, "FORBIDDEN");
    assert!(
        reply.message().contains("roles sales_rep"),
        "{}",
        reply.message()
    );
}

#[tokio::test]
async fn okta_style_tokens_map_groups_and_scopes() {
    let key = TestKey::ec("ec-a", "okta");
    let idp = LoopbackIdp::start(&[&key]);
    let groups = idp.issuer("[claims]\nroles = \"groups\"\ntenant = \"org\"");
    let (_, state) = started(with_issuers(vec![groups])).await;
    let now = now();
    let base = json!({
        "iss": ISSUER, "aud": AUDIENCE, "exp": now + 300, "sub": "00u1abc", "org": "acme",
        "groups": ["Everyone", "analyst"], "scp": "openid analyst sales_rep",
        "cid": "0oa1",
    });
    let c = caller(&state, &key.sign(&base)).await;
    assert_eq!(c.roles, ["Everyone", "analyst"]);

    let scopes = idp.issuer("[claims]\nroles = \"scp\"\ntenant = \"org\"");
    let (app, state) = started(with_issuers(vec![scopes])).await;
    let c = caller(&state, &key.sign(&base)).await;
    assert_eq!(c.roles, ["openid", "analyst", "sales_rep"]);
    accepted(&app, &key.sign(&base)).await;
    // A list of scopes works the same.
    let listed = with(base, "scp", json!(["analyst"]));
    assert_eq!(caller(&state, &key.sign(&listed)).await.roles, ["analyst"]);
}

#[tokio::test]
async fn a_token_without_its_tenant_claim_needs_a_default_tenant() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let no_tenant = without(claims("alice", "acme"), "tenant_id");

    let (app, _) = started(with_issuers(vec![idp.issuer("")])).await;
    refused(&app, &key.sign(&no_tenant), "no `tenant_id` claim").await;

    let (app, state) = started(with_issuers(vec![
        idp.issuer("[claims]\ndefault_tenant = \"main\""),
    ]))
    .await;
    assert_eq!(
        caller(&state, &key.sign(&no_tenant)).await.tenant_id,
        "main"
    );
    accepted(&app, &key.sign(&no_tenant)).await;
    // A tenant claim, when present, wins.
    assert_eq!(
        caller(&state, &key.sign(&claims("alice", "acme")))
            .await
            .tenant_id,
        "acme"
    );
    // A token without its user claim is refused.
    refused(
        &app,
        &key.sign(&without(claims("alice", "acme"), "sub")),
        "no `sub` claim",
    )
    .await;
}

fn assert_config_key(e: &Error, expected: &str) {
    assert_config_error(e, expected, expected);
}

#[tokio::test]
async fn bad_issuer_configurations_are_refused_with_their_key() {
    let rsa_pem = TestKey::rsa("rsa-a", "").public_pem();
    let private_pem = crate::support::idp::fixture("rsa-a.key.pem");
    let private_body = private_pem.lines().nth(1).expect("a line").to_string();
    let pem = |text: &str| format!("public_key_pem = \"\"\"\n{text}\"\"\"");
    let url = "jwks_url = \"https://idp.test/jwks\"";
    for (issuer, key, says) in [
        (
            issuer_config(""),
            "auth.issuers[0].jwks_url",
            "set jwks_url",
        ),
        (
            issuer_config(&format!("{url}\n{}", pem(&rsa_pem))),
            "auth.issuers[0].public_key_pem",
            "both set",
        ),
        (
            issuer_config(&pem(
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            )),
            "auth.issuers[0].public_key_pem",
            "neither an RSA",
        ),
        (
            issuer_config(&pem(&private_pem)),
            "auth.issuers[0].public_key_pem",
            "private key",
        ),
        (
            issuer_config(&pem("not pem at all")),
            "auth.issuers[0].public_key_pem",
            "not PEM",
        ),
        (
            issuer_config(&format!("{}\nalgorithms = [\"ES256\"]", pem(&rsa_pem))),
            "auth.issuers[0].algorithms",
            "verifies RS256 only",
        ),
        (
            issuer_config(&format!("{url}\nalgorithms = [\"HS256\"]")),
            "auth.issuers[0].algorithms",
            "unknown algorithm \"HS256\"",
        ),
        (
            issuer_config(&format!("{url}\nalgorithms = []")),
            "auth.issuers[0].algorithms",
            "RS256 and/or ES256",
        ),
        (
            issuer_config("jwks_url = \"ftp://idp.test/jwks\""),
            "auth.issuers[0].jwks_url",
            "not an http(s) URL",
        ),
        (
            IssuerConfig {
                issuer: " ".into(),
                ..issuer_config(url)
            },
            "auth.issuers[0].issuer",
            "must not be empty",
        ),
        (
            IssuerConfig {
                audience: String::new(),
                ..issuer_config(url)
            },
            "auth.issuers[0].audience",
            "must not be empty",
        ),
        (
            IssuerConfig {
                issuer: "heliosdb-conversational-bi".into(),
                ..issuer_config(url)
            },
            "auth.issuers[0].issuer",
            "built-in login",
        ),
        (
            issuer_config(&format!("{url}\n[claims]\ndefault_tenant = \"\"")),
            "auth.issuers[0].claims.default_tenant",
            "must not be empty",
        ),
    ] {
        let e = Auth::from_config(&with_issuers(vec![issuer])).expect_err(says);
        assert_config_key(&e, key);
        assert!(e.to_string().contains(says), "{says:?} not in {e}");
        assert!(!e.to_string().contains(&private_body), "{e}");
        assert!(!e.to_string().contains("MIIB"), "no key text in {e}");
    }
    let e = Auth::from_config(&with_issuers(vec![issuer_config(url), issuer_config(url)]))
        .expect_err("twice");
    assert_config_key(&e, "auth.issuers[1].issuer");

    // An unreachable JWKS stops the start; the URL's user information is not shown.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let c = with_issuers(vec![issuer_config(&format!(
        "jwks_url = \"http://user:hunter2@127.0.0.1:{port}/jwks?token=abc\""
    ))]);
    let auth = Auth::from_config(&c).expect("checked without I/O");
    let e = auth.load_keys().await.expect_err("unreachable");
    assert_config_key(&e, "auth.issuers[0].jwks_url");
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(!e.to_string().contains("token=abc"), "{e}");
    assert!(!format!("{auth:?}").contains("hunter2"), "{auth:?}");
    assert!(!format!("{auth:?}").contains(SECRET), "{auth:?}");
}

#[tokio::test]
async fn a_server_with_only_external_issuers_has_no_built_in_login() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let mut c = Config::default();
    c.auth.issuers = vec![idp.issuer("")];
    let (app, _) = started(c).await;
    accepted(&app, &key.sign(&claims("alice", "acme"))).await;

    let login = send(
        &app,
        request(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({ "username": "ana", "password": PASSWORD })),
        ),
    )
    .await;
    login.assert_error(404, "NOT_FOUND");
    assert!(
        login.message().contains("built-in login is not configured"),
        "{}",
        login.message()
    );
    // A token in the built-in form is refused: there is no secret to check it with.
    let builtin = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({
            "sub": "ana", "tenant_id": "acme", "roles": ["analyst"], "iat": now(),
            "exp": now() + 60, "iss": "heliosdb-conversational-bi",
            "aud": "heliosdb-conversational-bi",
        }),
        &EncodingKey::from_secret(SECRET.as_bytes()).expect("secret"),
    )
    .expect("sign");
    refused(&app, &builtin, "does not accept").await;
    let missing = send(
        &app,
        request(
            "POST",
            "/api/v1/query",
            None,
            Some(json!({ "query": QUESTION })),
        ),
    )
    .await;
    assert!(
        missing.message().contains("identity provider"),
        "{}",
        missing.message()
    );
}

#[tokio::test]
async fn built_in_users_log_in_with_data_roles_and_attributes() {
    let mut c = config();
    c.access
        .roles
        .insert("sales_rep".into(), RolePolicy::default());
    let mut dana = user("dana", "acme", &["analyst", "sales_rep"]);
    dana.attributes.insert("employee_id".into(), json!(3));
    dana.attributes.insert("regions".into(), json!(["EU"]));
    c.auth.users.push(dana);
    let (app, state) = started(c).await;
    let token = login(&app, "dana").await;
    let payload = token.split('.').nth(1).expect("payload");
    let payload: Value = {
        use base64::Engine as _;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .expect("base64"),
        )
        .expect("json")
    };
    assert_eq!(payload["roles"], json!(["analyst", "sales_rep"]));
    assert_eq!(
        payload["attributes"],
        json!({ "employee_id": 3, "regions": ["EU"] })
    );
    let principal = caller(&state, &token).await.principal();
    assert_eq!(principal.user_id.as_deref(), Some("dana"));
    assert_eq!(principal.tenant_id.as_deref(), Some("acme"));
    assert_eq!(principal.roles, ["analyst", "sales_rep"]);
    assert_eq!(principal.attributes["employee_id"], 3);
    accepted(&app, &token).await;
    // Users without attributes get an empty object.
    let ana = login(&app, "ana").await;
    assert!(caller(&state, &ana).await.attributes.is_empty());
}

fn binary_config(jwks_url: &str) -> String {
    format!(
        r#"
[server]
host = "127.0.0.1"
port = 0
workers = 2

[metrics]
enabled = false

[database]
url = "{db}"

[logging]
level = "info"
format = "json"
output = "stdout"


[[auth.issuers]]
issuer = "{ISSUER}"
audience = "{AUDIENCE}"
jwks_url = "{url}"

[auth.issuers.claims]
roles = "realm_access.roles"
attributes = {{ employee_id = "employee_id", shape = "shape" }}
"#,
        db = chinook_url(),
        url = jwks_url,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_external_tokens_without_jwt_secret() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let config = binary_config(&idp.jwks_url);
    let server = tokio::task::spawn_blocking(move || ServerProcess::start(&config, &[]))
        .await
        .expect("join");
    let http = client();
    let token = key.sign(&json!({
        "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 300, "sub": "alice",
        "tenant_id": "acme", "realm_access": { "roles": ["analyst"] },
        "employee_id": 3, "shape": { "secret-value-xyz": true },
    }));
    let reply = http
        .post(format!("{}/api/v1/query", server.api))
        .bearer_auth(&token)
        .json(&json!({ "query": QUESTION }))
        .send()
        .await
        .expect("query");
    assert_eq!(reply.status(), 200);
    let login = http
        .post(format!("{}/api/v1/auth/login", server.api))
        .json(&json!({ "username": "ana", "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 404);

    let lines = server.log_lines();
    let answered = lines
        .iter()
        .find(|l| l["message"] == "query answered")
        .unwrap_or_else(|| panic!("no query line: {lines:?}"));
    assert_eq!(answered["tenant_id"], "acme", "{answered}");
    assert_eq!(answered["user_id"], "alice", "{answered}");
    let ignored = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("attribute ignored"))
        })
        .unwrap_or_else(|| panic!("no warning: {lines:?}"));
    assert_eq!(ignored["level"], "WARN", "{ignored}");
    assert_eq!(ignored["claim"], "shape", "{ignored}");
    let everything = format!("{}\n{}", server.stdout(), server.stderr());
    assert!(
        !everything.contains("secret-value-xyz"),
        "no claim value in the logs"
    );
    assert!(!everything.contains(&token), "no token in the logs");
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "loaded the issuer's keys"),
        "{lines:?}"
    );
}

#[test]
fn the_binary_stops_at_start_when_the_jwks_cannot_be_fetched() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let config = binary_config(&format!("http://127.0.0.1:{port}/jwks"));
    let (mut cmd, _dir, _) = command(&config, &[]);
    let out = cmd.stdin(Stdio::null()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("auth.issuers[0].jwks_url"), "{stderr}");
    assert!(stderr.contains("cannot load the keys"), "{stderr}");
}
