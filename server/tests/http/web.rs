//! The web app's routes: the page, its assets and `/embed.js`; one-time sign-in links; an
//! analyst's own SQL (`POST /api/v1/sql`) under the validator and the data permissions. The
//! browser tests are in `server/web/tests/`.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use cbi_server::http::{AppState, app, web::build_id};
use conversational_bi::Engine;
use serde_json::json;

use crate::support::{config, login, request, send, test_app, user};

fn get(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::builder().uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).expect("request")
}

#[tokio::test]
async fn the_page_is_served_with_its_policy_and_revalidated_by_etag() {
    let app = test_app().await;
    let page = send(&app, get("/", &[])).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers["cache-control"], "no-cache");
    let csp = page.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = page.body.as_str().expect("html");
    assert!(html.contains(&format!("/assets/{}/app.js", build_id())));
    let etag = page.headers["etag"].to_str().expect("etag").to_string();
    let again = send(&app, get("/", &[("if-none-match", &etag)])).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.body, serde_json::Value::Null);
}

#[tokio::test]
async fn assets_are_immutable_under_the_build_and_compressed_for_those_who_accept_it() {
    let app = test_app().await;
    let path = format!("/assets/{}/chat.js", build_id());
    let plain = send(&app, get(&path, &[])).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(
        plain.headers["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        plain.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(plain.headers.get("content-encoding").is_none());
    assert!(
        plain
            .body
            .as_str()
            .expect("js")
            .contains("customElements.define('conversational-bi-chat'")
    );

    let response = tower::ServiceExt::oneshot(
        app.clone(),
        get(
            &format!("/assets/{}/vendor/vega.min.js", build_id()),
            &[("accept-encoding", "gzip, br")],
        ),
    )
    .await
    .expect("infallible");
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let zipped = axum::body::to_bytes(response.into_body(), 8 << 20)
        .await
        .expect("body");
    let mut js = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&zipped[..]), &mut js)
        .expect("gzip");
    assert!(
        js.len() > 2 * zipped.len(),
        "{} -> {}",
        js.len(),
        zipped.len()
    );

    // A page of another build still gets the file, not cached.
    let old = send(&app, get("/assets/0123456789ab/chat.js", &[])).await;
    assert_eq!(old.status, StatusCode::OK);
    assert_eq!(old.headers["cache-control"], "no-cache");
    // Nothing outside the app's files.
    for path in [
        format!("/assets/{}/../Cargo.toml", build_id()),
        format!("/assets/{}/vendor/", build_id()),
        format!("/assets/{}/index.html", build_id()),
    ] {
        send(&app, get(&path, &[]))
            .await
            .assert_error(404, "NOT_FOUND");
    }
    let embed = send(&app, get("/embed.js", &[])).await;
    assert_eq!(embed.headers["cache-control"], "no-cache");
    assert!(
        embed
            .body
            .as_str()
            .expect("js")
            .contains(&format!("import \"/assets/{}/chat.js\"", build_id()))
    );
}

#[tokio::test]
async fn a_sign_in_link_works_once_for_its_user() {
    let engine = Engine::builder()
        .config(config())
        .build()
        .await
        .expect("engine");
    let state = AppState::new(engine).expect("state");
    let app = app(state.clone());
    let link = |code: &str| {
        request(
            "POST",
            "/api/v1/auth/link",
            None,
            Some(json!({ "code": code })),
        )
    };

    send(&app, link("0".repeat(64).as_str()))
        .await
        .assert_error(401, "UNAUTHORIZED");
    let code = state.sign_in_links().issue("ana");
    let reply = send(&app, link(&code)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let token = reply.body["token"].as_str().expect("token");
    let answer = send(
        &app,
        request(
            "POST",
            "/api/v1/query",
            Some(token),
            Some(json!({ "query": "How many genres are there?" })),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["rows"], json!([[25]]));
    let again = send(&app, link(&code)).await;
    again.assert_error(401, "UNAUTHORIZED");
    assert!(
        again.message().contains("used or expired"),
        "{}",
        again.message()
    );
    // A code for a user the configuration does not have signs nobody in.
    let ghost = state.sign_in_links().issue("ghost");
    send(&app, link(&ghost))
        .await
        .assert_error(401, "UNAUTHORIZED");
    // A body that is not the documented one.
    send(
        &app,
        request(
            "POST",
            "/api/v1/auth/link",
            None,
            Some(json!({ "code": 1 })),
        ),
    )
    .await
    .assert_error(400, "INVALID_INPUT");
}

#[tokio::test]
async fn an_analyst_runs_sql_through_the_validator_and_the_permissions() {
    let access: conversational_bi::Config = conversational_bi::Config::from_toml_str(
        r#"
[access.roles.everything]
tables = ["*"]

[access.roles.no_staff]
tables = ["Genre", "Track", "Album", "Artist"]
"#,
        None,
    )
    .expect("access");
    let mut c = config();
    c.access = access.access;
    c.auth.users = vec![
        user("ana", "acme", &["analyst", "everything"]),
        user("rep", "acme", &["analyst", "no_staff"]),
        user("nobody", "acme", &["everything"]),
    ];
    let app = crate::support::app_with(c, None, None).await;
    let ana = login(&app, "ana").await;
    let run = |token: Option<&str>, sql: &str| {
        request("POST", "/api/v1/sql", token, Some(json!({ "sql": sql })))
    };

    let ok = send(
        &app,
        run(
            Some(&ana),
            "SELECT Name FROM Genre ORDER BY Name LIMIT 2 -- note",
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(
        ok.body["rows"],
        json!([["Alternative"], ["Alternative & Punk"]])
    );
    assert_eq!(ok.body["row_count"], 2);
    assert_eq!(ok.body["truncated"], false);
    assert_eq!(ok.body["columns"][0]["name"], "Name");
    assert!(!ok.body["sql"].as_str().expect("sql").contains("note"));

    for hostile in [
        "DELETE FROM Track",
        "SELECT 1; DROP TABLE Genre",
        "ATTACH DATABASE '/tmp/x.db' AS x",
        "SELECT * FROM Genre UNION SELECT sql FROM sqlite_master",
    ] {
        let refused = send(&app, run(Some(&ana), hostile)).await;
        refused.assert_error(422, "SQL_REJECTED");
    }

    // Data permissions apply: the rep's role does not reach Employee.
    let rep = login(&app, "rep").await;
    let denied = send(&app, run(Some(&rep), "SELECT FirstName FROM Employee")).await;
    assert_eq!(denied.status.as_u16(), 422, "{:?}", denied.body);
    assert!(
        denied.message().contains("Employee"),
        "{}",
        denied.message()
    );

    let nobody = login(&app, "nobody").await;
    send(&app, run(Some(&nobody), "SELECT 1"))
        .await
        .assert_error(403, "FORBIDDEN");
    send(&app, run(None, "SELECT 1"))
        .await
        .assert_error(401, "UNAUTHORIZED");
}
