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
