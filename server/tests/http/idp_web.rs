//! The web app's sign-in with an identity provider: the web client settings of
//! `[[auth.issuers]]`, the provider's OpenID configuration read at start (and every way a bad
//! one stops the start), `GET /api/v1/auth/providers`, the page's `connect-src`, and
//! `GET /api/v1/auth/me`. The browser side (the redirect, PKCE, the code exchange) is tested
//! in `server/web/tests/e2e.test.mjs` against a loopback provider.

use axum::Router;
use cbi_server::http::{AppState, app, auth::Auth, web::PAGE_CSP};
use conversational_bi::{Config, Engine};
use serde_json::{Value, json};

use crate::support::{
    config,
    idp::{ISSUER, LoopbackIdp, TestKey, assert_config_error, claims, issuer_config, with_issuers},
    login, request, send,
};

async fn engine(config: Config) -> Engine {
    Engine::builder()
        .config(config)
        .build()
        .await
        .expect("engine")
}

/// The app over `config`, started as `serve` starts it (keys and OpenID configurations
/// fetched first).
async fn started(config: Config) -> Router {
    let engine = engine(config).await;
    let auth = Auth::start(engine.config()).await.expect("auth");
    app(AppState::with_auth(engine, auth).expect("state"))
}

async fn providers(app: &Router) -> Value {
    let reply = send(app, request("GET", "/api/v1/auth/providers", None, None)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

async fn page_csp(app: &Router) -> String {
    let reply = send(app, request("GET", "/", None, None)).await;
    assert_eq!(reply.status, 200);
    reply.headers["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string()
}

#[tokio::test]
async fn the_page_offers_the_providers_that_have_a_web_client() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let other = LoopbackIdp::start(&[&key]);
    let mut api_only = other.issuer("");
    api_only.issuer = "https://api-only.test/".into();
    let app = started(with_issuers(vec![
        idp.web_issuer(
            "name = \"Acme SSO\"\nscopes = [\"openid\", \"profile\", \"email\"]\nauthorize_params = { audience = \"conversational-bi\", prompt = \"select_account\" }",
        ),
        api_only,
    ]))
    .await;
    assert_eq!(idp.discovery_fetches(), 1, "read once, at start");
    assert_eq!(other.discovery_fetches(), 0, "no web client, no fetch");

    let body = providers(&app).await;
    assert_eq!(
        body,
        json!({
            "builtin_login": true,
            "providers": [{
                "name": "Acme SSO",
                "issuer": ISSUER,
                "client_id": "cbi-web",
                "authorization_endpoint": format!("{}/authorize", idp.base),
                "token_endpoint": format!("{}/token", idp.base),
                "scope": "openid profile email",
                "params": { "audience": "conversational-bi", "prompt": "select_account" },
                "response_mode": "fragment",
                "end_session_endpoint": format!("{}/logout", idp.base),
            }],
        })
    );
    assert_eq!(idp.discovery_fetches(), 1, "the list does not fetch again");

    // The page may call that token endpoint, and nothing else beyond this server.
    let csp = page_csp(&app).await;
    assert!(
        csp.contains(&format!("connect-src 'self' {};", idp.base)),
        "{csp}"
    );
    assert!(!csp.contains(&other.base), "{csp}");

    // The provider's tokens work as any of the issuer's: `me` says who they are.
    let token = key.sign(&claims("carol", "acme"));
    let me = send(&app, request("GET", "/api/v1/auth/me", Some(&token), None)).await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(
        me.body,
        json!({ "user_id": "carol", "tenant_id": "acme", "roles": ["analyst"] })
    );
}

#[tokio::test]
async fn without_a_web_client_the_page_has_the_built_in_login_only() {
    let app = started(config()).await;
    assert_eq!(
        providers(&app).await,
        json!({ "builtin_login": true, "providers": [] })
    );
    assert_eq!(page_csp(&app).await, PAGE_CSP);

    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let mut doc = idp.discovery_document();
    doc["response_modes_supported"] = json!(["query", "form_post"]);
    doc.as_object_mut()
        .expect("object")
        .remove("end_session_endpoint");
    idp.publish_discovery(&doc);
    let mut only_idp = Config::default();
    only_idp.auth.issuers = vec![idp.web_issuer("")];
    let app = started(only_idp).await;
    let body = providers(&app).await;
    assert_eq!(body["builtin_login"], false, "{body}");
    assert_eq!(
        body["providers"][0]["name"], "idp.test",
        "the issuer's host by default"
    );
    assert_eq!(body["providers"][0]["scope"], "openid profile");
    assert_eq!(
        body["providers"][0].get("response_mode"),
        None,
        "the code comes in the query unless the provider says it can use the fragment"
    );
    assert_eq!(body["providers"][0].get("end_session_endpoint"), None);
}

#[tokio::test]
async fn me_says_who_a_token_is_and_why_one_is_refused() {
    let app = started(config()).await;
    let ana = login(&app, "ana").await;
    let me = send(&app, request("GET", "/api/v1/auth/me", Some(&ana), None)).await;
    assert_eq!(
        me.body,
        json!({ "user_id": "ana", "tenant_id": "acme", "roles": ["analyst"] })
    );
    // Any signed-in caller, whatever the roles.
    let nobody = login(&app, "nobody").await;
    let me = send(&app, request("GET", "/api/v1/auth/me", Some(&nobody), None)).await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["roles"], json!([]));

    send(&app, request("GET", "/api/v1/auth/me", None, None))
        .await
        .assert_error(401, "UNAUTHORIZED");
    let key = TestKey::rsa("rsa-a", "k1");
    let stranger = key.sign(&claims("eve", "acme"));
    let refused = send(
        &app,
        request("GET", "/api/v1/auth/me", Some(&stranger), None),
    )
    .await;
    refused.assert_error(401, "UNAUTHORIZED");
    assert!(
        refused.message().contains("does not accept"),
        "{}",
        refused.message()
    );
}

#[tokio::test]
async fn a_bad_openid_configuration_stops_the_start() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let good = idp.discovery_document();
    let with = |field: &str, value: Value| {
        let mut doc = good.clone();
        doc[field] = value;
        doc
    };
    let mut without_token = good.clone();
    without_token
        .as_object_mut()
        .expect("object")
        .remove("token_endpoint");
    let cases: Vec<(String, &str)> = vec![
        (
            with("issuer", json!("https://idp.test/realms/other")).to_string(),
            "names the issuer \"https://idp.test/realms/other\"",
        ),
        (with("issuer", Value::Null).to_string(), "names no `issuer`"),
        (without_token.to_string(), "has no `token_endpoint`"),
        (
            with(
                "authorization_endpoint",
                json!("http://sso.example.com/auth"),
            )
            .to_string(),
            "`authorization_endpoint` is plain http",
        ),
        (
            with("authorization_endpoint", json!("javascript:alert(1)")).to_string(),
            "`authorization_endpoint` is not an http(s) URL",
        ),
        (
            with("token_endpoint", json!("https://u:p@sso.example.com/token")).to_string(),
            "`token_endpoint` carries user information",
        ),
        (
            // A host the URL parser takes, which would add a directive to the page's CSP.
            with("token_endpoint", json!("https://sso.test;script-src/token")).to_string(),
            "`token_endpoint` has a host name with characters",
        ),
        (
            with("token_endpoint", json!("not a url")).to_string(),
            "`token_endpoint` is not a URL",
        ),
        (
            with(
                "end_session_endpoint",
                json!("http://sso.example.com/logout"),
            )
            .to_string(),
            "`end_session_endpoint` is plain http",
        ),
        (
            with("code_challenge_methods_supported", json!(["plain"])).to_string(),
            "lacks \"S256\"",
        ),
        (
            with("response_types_supported", json!(["token id_token"])).to_string(),
            "lacks \"code\"",
        ),
        (
            with("grant_types_supported", json!(["implicit"])).to_string(),
            "lacks \"authorization_code\"",
        ),
        ("<html>sign in</html>".into(), "not JSON"),
        ("[1, 2]".into(), "not a JSON object"),
        (
            with("padding", json!("x".repeat(1 << 20))).to_string(),
            "larger than",
        ),
    ];
    for (doc, says) in cases {
        idp.publish_discovery_text(doc);
        let c = with_issuers(vec![idp.web_issuer("")]);
        let e = Auth::start(&c).await.expect_err(says);
        assert_config_error(&e, "auth.issuers[0].discovery_url", says);
        assert!(
            e.to_string()
                .contains("cannot read the OpenID configuration"),
            "{e}"
        );
    }

    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let c = with_issuers(vec![idp.issuer(&format!(
        "client_id = \"cbi-web\"\ndiscovery_url = \"http://127.0.0.1:{port}/.well-known/openid-configuration\""
    ))]);
    let e = Auth::start(&c).await.expect_err("unreachable");
    assert_config_error(&e, "auth.issuers[0].discovery_url", "cannot read");
}

#[tokio::test]
async fn bad_web_client_settings_are_refused_with_their_key() {
    let base = "jwks_url = \"http://127.0.0.1:9/jwks\"";
    let web = |extra: &str| issuer_config(&format!("{base}\nclient_id = \"cbi-web\"\n{extra}"));
    let cases = [
        (
            issuer_config(&format!("{base}\nclient_id = \" \"")),
            "auth.issuers[0].client_id",
            "client id the provider gave",
        ),
        (
            issuer_config(&format!("{base}\nclient_id = \"cbi\\u0000web\"")),
            "auth.issuers[0].client_id",
            "control characters",
        ),
        (
            web("name = \"Acme\\nSSO\""),
            "auth.issuers[0].name",
            "without control characters",
        ),
        (
            web("name = \"Acme \\u202eOSS\""),
            "auth.issuers[0].name",
            "without control characters",
        ),
        (
            web(&format!("name = \"{}\"", "A".repeat(81))),
            "auth.issuers[0].name",
            "1 to 80 characters",
        ),
        (
            web("scopes = [\"profile\"]"),
            "auth.issuers[0].scopes",
            "must include \"openid\"",
        ),
        (
            web("scopes = [\"openid profile\"]"),
            "auth.issuers[0].scopes",
            "is not a scope",
        ),
        (
            web("scopes = [\"openid\", \"a\\\"b\"]"),
            "auth.issuers[0].scopes",
            "is not a scope",
        ),
        (
            web("authorize_params = { redirect_uri = \"https://evil.test/\" }"),
            "auth.issuers[0].authorize_params",
            "`redirect_uri` is set by the sign-in itself",
        ),
        (
            web("authorize_params = { code_challenge_method = \"plain\" }"),
            "auth.issuers[0].authorize_params",
            "set by the sign-in itself",
        ),
        (
            web("authorize_params = { audience = \"a\\r\\nb\" }"),
            "auth.issuers[0].authorize_params",
            "control characters",
        ),
        (
            web("discovery_url = \"http://sso.example.com/.well-known/openid-configuration\""),
            "auth.issuers[0].discovery_url",
            "plain http",
        ),
        (
            web("discovery_url = \"file:///etc/passwd\""),
            "auth.issuers[0].discovery_url",
            "not an http(s) URL",
        ),
        (
            issuer_config(&format!("{base}\nname = \"Acme SSO\"")),
            "auth.issuers[0].name",
            "needs client_id",
        ),
        (
            issuer_config(&format!(
                "{base}\ndiscovery_url = \"https://idp.test/.well-known/openid-configuration\""
            )),
            "auth.issuers[0].discovery_url",
            "needs client_id",
        ),
    ];
    for (issuer, expected, says) in cases {
        let e = Auth::from_config(&with_issuers(vec![issuer])).expect_err(says);
        assert_config_error(&e, expected, says);
    }
    // An issuer that is not a URL has no default place for its OpenID configuration.
    let mut odd = web("");
    odd.issuer = "acme-sso".into();
    let e = Auth::from_config(&with_issuers(vec![odd])).expect_err("no discovery URL");
    assert_config_error(&e, "auth.issuers[0].discovery_url", "set discovery_url");
}

#[tokio::test]
async fn without_the_start_the_configuration_is_read_when_the_page_asks() {
    let key = TestKey::rsa("rsa-a", "k1");
    let idp = LoopbackIdp::start(&[&key]);
    let good = idp.discovery_document();
    idp.publish_discovery_text("down for maintenance".into());
    let state = AppState::new(engine(with_issuers(vec![idp.web_issuer("")])).await).expect("state");
    let app = app(state);
    assert_eq!(idp.discovery_fetches(), 0);

    // A failing provider is asked once per few seconds, however often the page loads.
    for _ in 0..5 {
        assert_eq!(providers(&app).await["providers"], json!([]));
    }
    assert_eq!(idp.discovery_fetches(), 1);
    assert_eq!(page_csp(&app).await, PAGE_CSP, "no endpoint known yet");

    // Once it answers (after the retry interval), the page gets it, and it is kept.
    idp.publish_discovery(&good);
    tokio::time::sleep(cbi_server::http::idp::discovery::RETRY_INTERVAL).await;
    let body = providers(&app).await;
    assert_eq!(body["providers"][0]["client_id"], "cbi-web", "{body}");
    providers(&app).await;
    assert_eq!(idp.discovery_fetches(), 2);
    assert!(page_csp(&app).await.contains(&idp.base));
}
