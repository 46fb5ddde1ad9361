//! The answer's `scope` (the chips under an answer) and `remove_scope` over `POST
//! /api/v1/query` and `POST /api/v1/query/stream`: a removal is a new turn of the caller's
//! conversation, and an id that names no part is a 400 with nothing run.

use serde_json::{Value, json};

use crate::support::{Reply, ask, login, request, send, sse_events, test_app};

async fn remove(app: &axum::Router, token: &str, body: Value) -> Reply {
    send(
        app,
        request("POST", "/api/v1/query", Some(token), Some(body)),
    )
    .await
}

fn ids(answer: &Value) -> Vec<&str> {
    answer["scope"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["id"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_chip_is_removed_over_the_query_and_the_stream() {
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let first = ask(&app, &token, "chips-1", "Total sales by country").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    // The server gives the conversation its id.
    let sid = first.body["session_id"].as_str().expect("id").to_string();
    // A verified query of the demo model answers, which the offline rules read otherwise: no
    // scope rather than a guessed one.
    assert_eq!(first.body["verified"], true);
    assert!(first.body.get("scope").is_none(), "{:?}", first.body);
    let year = ask(&app, &token, &sid, "Only in 2024").await;
    assert_eq!(
        year.body["scope"],
        json!([
            {"id": "filter:0", "kind": "filter", "label": "in 2024"},
            {"id": "group:0", "kind": "group", "label": "by invoice billing country"},
        ])
    );
    let year_rows = year.body["row_count"].clone();
    let top = ask(&app, &token, &sid, "Top 5 instead").await;
    assert_eq!(ids(&top.body), ["filter:0", "group:0", "order", "limit"]);
    assert_eq!(top.body["scope"][3]["label"], "top 5");

    let all = remove(
        &app,
        &token,
        json!({"session_id": sid, "query": "", "remove_scope": "limit"}),
    )
    .await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    assert_eq!(all.body["turn"], 4);
    assert_eq!(all.body["row_count"], year_rows);
    assert_eq!(ids(&all.body), ["filter:0", "group:0", "order"]);
    let session = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/sessions/{sid}"),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(session.body["turns"][3]["question"], "without \"top 5\"");

    // Over the stream: the answer event carries the refined answer and its scope.
    let reply = send(
        &app,
        request(
            "POST",
            "/api/v1/query/stream",
            Some(&token),
            Some(json!({"session_id": sid, "query": "", "remove_scope": "filter:0"})),
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let events = sse_events(reply.body.as_str().expect("text"));
    let (name, last) = events.last().expect("an event");
    assert_eq!(name, "answer", "{events:?}");
    let answer = &last["answer"];
    assert!(
        !answer["sql"].as_str().expect("sql").contains("2024"),
        "{answer}"
    );
    assert_eq!(answer["row_count"], 24);
    assert_eq!(ids(answer), ["group:0", "order"]);

    // A normal follow-up continues from there.
    let top3 = ask(&app, &token, &sid, "top 3 instead").await;
    assert_eq!(top3.body["row_count"], 3, "{:?}", top3.body);
    assert_eq!(top3.body["turn"], 6);

    // Another user cannot remove a part of this conversation: it is not theirs.
    let bob = login(&app, "bob").await;
    let theirs = remove(
        &app,
        &bob,
        json!({"session_id": sid, "query": "", "remove_scope": "limit"}),
    )
    .await;
    theirs.assert_error(400, "INVALID_INPUT");
}

#[tokio::test]
async fn ids_that_name_no_part_are_refused_with_400() {
    let app = test_app().await;
    let token = login(&app, "ana").await;
    let top = ask(&app, &token, "chips-2", "Top 5 genres by number of tracks").await;
    let sid = top.body["session_id"].as_str().expect("id").to_string();
    let long = "x".repeat(10 * 1024);
    for id in [
        "filter:99",
        "filter:-1",
        "'; DROP TABLE x; --",
        long.as_str(),
        "",
    ] {
        for path in ["/api/v1/query", "/api/v1/query/stream"] {
            let body = json!({"session_id": sid, "query": "", "remove_scope": id});
            let reply = send(&app, request("POST", path, Some(&token), Some(body))).await;
            if path.ends_with("stream") && id == "filter:99" {
                // Of the right form: the engine finds it names no part, as the last event.
                let events = sse_events(reply.body.as_str().expect("text"));
                let (name, last) = events.last().expect("an event");
                assert_eq!(name, "error");
                assert_eq!(last["code"], "INVALID_INPUT", "{last}");
                continue;
            }
            reply.assert_error(400, "INVALID_INPUT");
            assert!(reply.message().contains("scope"), "{}", reply.message());
            assert!(reply.message().len() < 600);
        }
    }
    // A question and a removal at once; a removal without a conversation; an empty question.
    for body in [
        json!({"session_id": sid, "query": "top 3", "remove_scope": "limit"}),
        json!({"query": "", "remove_scope": "limit"}),
        json!({"session_id": sid, "query": ""}),
        json!({"session_id": sid, "remove_scope": "limit"}),
    ] {
        let reply = remove(&app, &token, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {:?}", reply.body);
    }
    // Nothing ran: the conversation still has its one turn.
    let session = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/sessions/{sid}"),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(session.body["turn_count"], 1, "{:?}", session.body);
}

#[tokio::test]
async fn the_openapi_document_describes_scope_and_remove_scope() {
    let app = test_app().await;
    let doc = send(&app, request("GET", "/api/v1/openapi.json", None, None))
        .await
        .body;
    let schemas = &doc["components"]["schemas"];
    let request = &schemas["QueryRequest"];
    assert!(
        request["properties"]["remove_scope"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("scope")),
        "{request}"
    );
    let required: Vec<&str> = request["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, ["query"]);
    let item: Vec<&String> = schemas["ScopeItem"]["properties"]
        .as_object()
        .expect("ScopeItem")
        .keys()
        .collect();
    assert_eq!(item, ["id", "kind", "label"]);
    assert_eq!(
        schemas["ScopeKind"]["enum"],
        json!(["filter", "having", "group", "order", "limit"])
    );
    assert!(schemas["Answer"]["properties"]["scope"].is_object());
}
