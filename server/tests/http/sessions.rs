//! Conversations belong to the user who started them: a colleague of the same tenant can
//! neither read, continue nor delete them, with the sessions in memory and in Redis.

use conversational_bi::config::{Secret, StoreKind};
use serde_json::json;

use crate::support::{app_with, ask, config, login, request, send};

async fn app(store: StoreKind) -> axum::Router {
    let mut c = config();
    if store == StoreKind::Redis {
        c.redis.url = Some(Secret::new(testkit::redis::redis_url()));
        c.redis.key_prefix = format!("cbi-test-users-{}", uuid::Uuid::new_v4().simple());
    }
    c.session.store = Some(store);
    app_with(c, None, None).await
}

#[tokio::test]
async fn a_colleague_cannot_read_continue_or_delete_a_conversation() {
    for store in [StoreKind::Memory, StoreKind::Redis] {
        if store == StoreKind::Redis && !testkit::require(testkit::Service::Redis) {
            continue;
        }
        let app = app(store).await;
        // ana and root are both of tenant acme.
        let ana = login(&app, "ana").await;
        let root = login(&app, "root").await;
        let first = ask(&app, &ana, "ana-1", "How many customers are there?").await;
        assert_eq!(first.status, 200, "{store:?}: {:?}", first.body);
        let id = first.body["session_id"].as_str().expect("id").to_string();
        let path = format!("/api/v1/sessions/{id}");

        let read = send(&app, request("GET", &path, Some(&root), None)).await;
        read.assert_error(404, "NOT_FOUND");
        let never = send(
            &app,
            request("GET", "/api/v1/sessions/never-existed", Some(&root), None),
        )
        .await;
        assert_eq!(
            read.message().replace(&id, "ID"),
            never.message().replace("never-existed", "ID"),
            "{store:?}: the same answer as for an id that never existed"
        );
        let delete = send(&app, request("DELETE", &path, Some(&root), None)).await;
        delete.assert_error(404, "NOT_FOUND");

        // Continuing ana's id starts root's own conversation, under a new id, with a warning.
        let continued = ask(&app, &root, &id, "only in Germany").await;
        assert_eq!(
            continued.status, 422,
            "{store:?}: no earlier turn to refine"
        );
        let own = ask(&app, &root, &id, "How many artists are there?").await;
        assert_eq!(own.status, 200, "{store:?}: {:?}", own.body);
        assert_eq!(own.body["turn"], 1, "{store:?}");
        let new_id = own.body["session_id"].as_str().expect("id");
        assert_ne!(new_id, id, "{store:?}");
        assert_eq!(
            own.body["warnings"][0],
            json!(format!(
                "session_id '{id}' is not one of your conversations (it never existed, expired or was reset): a new conversation was started with session_id '{new_id}'"
            )),
            "{store:?}"
        );

        // ana's conversation is whole and still hers.
        let mine = send(&app, request("GET", &path, Some(&ana), None)).await;
        assert_eq!(mine.status, 200, "{store:?}: {:?}", mine.body);
        assert_eq!(mine.body["turn_count"], 1, "{store:?}");
        assert_eq!(mine.body["user_id"], "ana");
        assert_eq!(
            mine.body["turns"][0]["question"],
            "How many customers are there?"
        );
        let follow_up = ask(&app, &ana, &id, "only in Germany").await;
        assert_eq!(follow_up.status, 200, "{store:?}: {:?}", follow_up.body);
        assert_eq!(follow_up.body["turn"], 2, "{store:?}");
        assert_eq!(follow_up.body["session_id"], id.as_str());
        let gone = send(&app, request("DELETE", &path, Some(&ana), None)).await;
        assert_eq!(gone.status, 204, "{store:?}");
    }
}

/// The session ids of a `GET /api/v1/sessions` reply.
fn listed_ids(reply: &crate::support::Reply) -> Vec<String> {
    reply.body["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("no sessions in {:?}", reply.body))
        .iter()
        .map(|s| s["session_id"].as_str().expect("session_id").to_string())
        .collect()
}

/// Whether `at` is an RFC 3339 time in UTC with milliseconds (`2026-01-31T12:00:00.000Z`).
fn is_utc_time(at: &str) -> bool {
    let shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    at.len() == shape.len()
        && at
            .chars()
            .zip(shape.chars())
            .all(|(c, s)| if s == 'd' { c.is_ascii_digit() } else { c == s })
}

async fn list(app: &axum::Router, token: &str, query: &str) -> crate::support::Reply {
    send(
        app,
        request(
            "GET",
            &format!("/api/v1/sessions{query}"),
            Some(token),
            None,
        ),
    )
    .await
}

async fn rename(
    app: &axum::Router,
    token: Option<&str>,
    id: &str,
    body: serde_json::Value,
) -> crate::support::Reply {
    send(
        app,
        request(
            "PATCH",
            &format!("/api/v1/sessions/{id}"),
            token,
            Some(body),
        ),
    )
    .await
}

#[tokio::test]
async fn the_caller_lists_and_renames_their_own_conversations() {
    for store in [StoreKind::Memory, StoreKind::Redis] {
        if store == StoreKind::Redis && !testkit::require(testkit::Service::Redis) {
            continue;
        }
        let app = app(store).await;
        let ana = login(&app, "ana").await;
        let empty = list(&app, &ana, "").await;
        assert_eq!(empty.status, 200, "{store:?}: {:?}", empty.body);
        assert_eq!(empty.body, json!({ "sessions": [] }), "{store:?}");

        let first = ask(&app, &ana, "list-1", "How many customers are there?").await;
        assert_eq!(first.status, 200, "{store:?}: {:?}", first.body);
        let first_id = first.body["session_id"].as_str().expect("id").to_string();
        let second = ask(&app, &ana, "list-2", "How many artists are there?").await;
        assert_eq!(second.status, 200, "{store:?}: {:?}", second.body);
        let second_id = second.body["session_id"].as_str().expect("id").to_string();

        let listed = list(&app, &ana, "").await;
        assert_eq!(listed.status, 200, "{store:?}: {:?}", listed.body);
        assert_eq!(
            listed_ids(&listed),
            [second_id.as_str(), first_id.as_str()],
            "{store:?}"
        );
        let newest = &listed.body["sessions"][0];
        assert_eq!(newest["title"], "How many artists are there?", "{store:?}");
        assert_eq!(newest["turn_count"], 1);
        for field in ["created_at", "updated_at"] {
            let at = newest[field].as_str().expect(field);
            assert!(is_utc_time(at), "{store:?}: {field} {at}");
        }
        assert!(newest["created_at"].as_str() <= newest["updated_at"].as_str());
        assert_eq!(
            listed.body["sessions"][1]["title"],
            "How many customers are there?"
        );

        // A follow-up moves the first conversation up; a limit keeps the newest.
        let follow_up = ask(&app, &ana, &first_id, "only in Germany").await;
        assert_eq!(follow_up.status, 200, "{store:?}: {:?}", follow_up.body);
        let listed = list(&app, &ana, "?limit=1").await;
        assert_eq!(listed_ids(&listed), [first_id.as_str()], "{store:?}");
        assert_eq!(listed.body["sessions"][0]["turn_count"], 2);

        // Renamed: the reply is the summary, and the list shows the new title in place.
        let renamed = rename(
            &app,
            Some(&ana),
            &second_id,
            json!({ "title": "  Artists «2024» {x} *:\"' 🎵  " }),
        )
        .await;
        assert_eq!(renamed.status, 200, "{store:?}: {:?}", renamed.body);
        assert_eq!(renamed.body["session_id"], second_id.as_str());
        assert_eq!(renamed.body["title"], "Artists «2024» {x} *:\"' 🎵");
        assert_eq!(renamed.body["turn_count"], 1);
        let listed = list(&app, &ana, "?limit=50").await;
        assert_eq!(
            listed_ids(&listed),
            [first_id.as_str(), second_id.as_str()],
            "{store:?}"
        );
        assert_eq!(listed.body["sessions"][1], renamed.body, "{store:?}");

        // A deleted conversation leaves the list.
        let gone = send(
            &app,
            request(
                "DELETE",
                &format!("/api/v1/sessions/{first_id}"),
                Some(&ana),
                None,
            ),
        )
        .await;
        assert_eq!(gone.status, 204, "{store:?}");
        assert_eq!(
            listed_ids(&list(&app, &ana, "").await),
            [second_id.as_str()]
        );
    }
}

#[tokio::test]
async fn nobody_else_lists_or_renames_a_conversation() {
    for store in [StoreKind::Memory, StoreKind::Redis] {
        if store == StoreKind::Redis && !testkit::require(testkit::Service::Redis) {
            continue;
        }
        let app = app(store).await;
        let ana = login(&app, "ana").await;
        let first = ask(&app, &ana, "mine", "How many customers are there?").await;
        assert_eq!(first.status, 200, "{store:?}: {:?}", first.body);
        let id = first.body["session_id"].as_str().expect("id").to_string();

        // root shares ana's tenant, bob is of another one.
        for other in ["root", "bob"] {
            let token = login(&app, other).await;
            let theirs = list(&app, &token, "").await;
            assert_eq!(theirs.status, 200, "{store:?}: {:?}", theirs.body);
            assert!(
                listed_ids(&theirs).is_empty(),
                "{store:?}: {other} lists nothing of ana's"
            );
            let taken = rename(&app, Some(&token), &id, json!({ "title": "mine now" })).await;
            taken.assert_error(404, "NOT_FOUND");
            let never = rename(
                &app,
                Some(&token),
                "never-existed",
                json!({ "title": "mine now" }),
            )
            .await;
            assert_eq!(
                taken.message().replace(&id, "ID"),
                never.message().replace("never-existed", "ID"),
                "{store:?}: the same answer as for an id that never existed"
            );
        }
        let listed = list(&app, &ana, "").await;
        assert_eq!(listed_ids(&listed), [id.as_str()], "{store:?}");
        assert_eq!(
            listed.body["sessions"][0]["title"], "How many customers are there?",
            "{store:?}: the title is untouched"
        );
    }
}

#[tokio::test]
async fn bad_titles_limits_and_callers_are_refused_clearly() {
    let app = app(StoreKind::Memory).await;
    let ana = login(&app, "ana").await;
    let first = ask(&app, &ana, "t", "How many customers are there?").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let id = first.body["session_id"].as_str().expect("id").to_string();

    for (title, says) in [
        (json!("   "), "empty"),
        (json!("x".repeat(121)), "at most 120"),
        (json!("two\nlines"), "one line"),
        (json!("\u{202E}txt.exe"), "one line"),
    ] {
        let reply = rename(&app, Some(&ana), &id, json!({ "title": title })).await;
        reply.assert_error(400, "INVALID_INPUT");
        assert!(
            reply.message().contains(says),
            "{title}: {}",
            reply.message()
        );
    }
    for body in [
        json!({}),
        json!({ "title": 5 }),
        json!({ "title": "t", "x": 1 }),
    ] {
        let reply = rename(&app, Some(&ana), &id, body.clone()).await;
        reply.assert_error(400, "INVALID_INPUT");
    }
    let bad_id = rename(&app, Some(&ana), "a%20b", json!({ "title": "ok" })).await;
    bad_id.assert_error(400, "INVALID_INPUT");
    let ok = rename(&app, Some(&ana), &id, json!({ "title": "x".repeat(120) })).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);

    for limit in ["0", "201", "abc", "-1", "1.5", ""] {
        let reply = list(&app, &ana, &format!("?limit={limit}")).await;
        reply.assert_error(400, "INVALID_INPUT");
        assert!(
            reply.message().contains("from 1 to 200"),
            "{limit}: {}",
            reply.message()
        );
    }
    let most = list(&app, &ana, "?limit=200").await;
    assert_eq!(most.status, 200, "{:?}", most.body);

    // No token, a refused token, no role.
    for token in [None, Some("not-a-token")] {
        let reply = send(&app, request("GET", "/api/v1/sessions", token, None)).await;
        reply.assert_error(401, "UNAUTHORIZED");
        let reply = rename(&app, token, &id, json!({ "title": "x" })).await;
        reply.assert_error(401, "UNAUTHORIZED");
    }
    let nobody = login(&app, "nobody").await;
    list(&app, &nobody, "").await.assert_error(403, "FORBIDDEN");
    rename(&app, Some(&nobody), &id, json!({ "title": "x" }))
        .await
        .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn the_document_and_cors_cover_listing_and_renaming() {
    let mut c = config();
    c.server.cors_allowed_origins = vec!["https://bi.example.com".into()];
    let app = app_with(c, None, None).await;
    let doc = send(&app, request("GET", "/api/v1/openapi.json", None, None))
        .await
        .body;
    let get = &doc["paths"]["/api/v1/sessions"]["get"];
    let patch = &doc["paths"]["/api/v1/sessions/{id}"]["patch"];
    for (op, statuses) in [
        (get, &["200", "400", "401", "403"][..]),
        (patch, &["200", "400", "401", "403", "404"][..]),
    ] {
        assert_eq!(op["tags"], json!(["sessions"]), "{op}");
        assert_eq!(op["security"][0]["bearer"], json!([]), "{op}");
        for s in statuses {
            assert!(op["responses"][s].is_object(), "{s} of {op}");
        }
    }
    assert_eq!(get["parameters"][0]["name"], "limit");
    assert!(
        doc["paths"]["/api/v1/sessions/{id}"]["get"].is_object()
            && doc["paths"]["/api/v1/sessions/{id}"]["delete"].is_object()
    );
    let summary: std::collections::BTreeSet<&str> = doc["components"]["schemas"]["SessionSummary"]
        ["properties"]
        .as_object()
        .expect("SessionSummary")
        .keys()
        .map(String::as_str)
        .collect();
    let ana = login(&app, "ana").await;
    let first = ask(&app, &ana, "d", "How many customers are there?").await;
    let id = first.body["session_id"].as_str().expect("id");
    let renamed = rename(&app, Some(&ana), id, json!({ "title": "Doc" })).await;
    let sent: std::collections::BTreeSet<&str> = renamed
        .body
        .as_object()
        .expect("summary")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(sent, summary, "the document matches what is sent");
    assert_eq!(
        doc["components"]["schemas"]["SessionList"]["properties"]["sessions"]["items"]["$ref"],
        "#/components/schemas/SessionSummary"
    );

    let preflight = send(
        &app,
        axum::http::Request::builder()
            .method("OPTIONS")
            .uri(format!("/api/v1/sessions/{id}"))
            .header("origin", "https://bi.example.com")
            .header("access-control-request-method", "PATCH")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await;
    let allowed = preflight.headers["access-control-allow-methods"]
        .to_str()
        .expect("text");
    assert!(allowed.contains("PATCH"), "{allowed}");
}
