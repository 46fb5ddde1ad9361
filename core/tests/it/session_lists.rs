//! Lists of a user's conversations (a sidebar): most recent first, titled by the first question
//! or by the user, never another user's or tenant's, without reset or expired ones, with the
//! memory and Redis session stores. Redis is the real server of `scripts/services.sh`; each test
//! keeps to a key prefix of its own.

use std::time::Duration;

use conversational_bi::{
    Engine, ErrorKind,
    session::{
        MAX_DEFAULT_TITLE_CHARS, RedisSessionStore, SessionKey, SessionLimits, SessionStore,
        SessionSummary,
    },
};
use testkit::{Service, redis::Prefix};

use crate::shared_stores::{Kind, kinds, limits, session_stores, turn};

fn ids(listed: &[SessionSummary]) -> Vec<&str> {
    listed.iter().map(|s| s.session_id.as_str()).collect()
}

async fn list(store: &dyn SessionStore, tenant: &str, user: Option<&str>) -> Vec<SessionSummary> {
    store.list(tenant, user, 50).await.expect("list")
}

#[tokio::test]
async fn lists_are_most_recent_first_titled_and_per_user() {
    for kind in kinds() {
        let prefix = Prefix::new("session-list");
        let (store, other_instance) = session_stores(kind, &prefix, limits()).await;
        let ana = |s: &str| SessionKey::for_user("acme", "ana", s);
        let long = format!(
            "What was the revenue per country {}?",
            "and city ".repeat(20)
        );
        store.append(&ana("s1"), turn(&long)).await.expect("append");
        store
            .append(&ana("s2"), turn("How many customers are there?"))
            .await
            .expect("append");
        for stranger in [
            SessionKey::for_user("acme", "carl", "c1"),
            SessionKey::for_user("globex", "ana", "g1"),
            SessionKey::new("acme", "d1"),
        ] {
            store
                .append(&stranger, turn("someone else's"))
                .await
                .expect("append");
        }

        let listed = list(&*other_instance, "acme", Some("ana")).await;
        assert_eq!(ids(&listed), ["s2", "s1"], "{kind:?}");
        assert_eq!(listed[0].title, "How many customers are there?", "{kind:?}");
        assert_eq!(listed[0].turn_count, 1);
        let title = &listed[1].title;
        assert_eq!(title.chars().count(), MAX_DEFAULT_TITLE_CHARS, "{kind:?}");
        assert!(
            title.starts_with("What was the revenue per country and city") && title.ends_with('…'),
            "{kind:?}: {title}"
        );
        for s in &listed {
            let created = chrono::DateTime::parse_from_rfc3339(&s.created_at).expect("RFC 3339");
            let updated = chrono::DateTime::parse_from_rfc3339(&s.updated_at).expect("RFC 3339");
            assert!(created <= updated, "{kind:?}: {s:?}");
            assert!(s.updated_at.ends_with('Z'), "{kind:?}: {s:?}");
        }

        // A new turn moves s1 up, keeps its title and its creation time.
        store
            .append(&ana("s1"), turn("only in Germany"))
            .await
            .expect("append");
        let again = list(&*store, "acme", Some("ana")).await;
        assert_eq!(ids(&again), ["s1", "s2"], "{kind:?}");
        assert_eq!(&again[0].title, title, "{kind:?}");
        assert_eq!(again[0].created_at, listed[1].created_at, "{kind:?}");
        assert!(again[0].updated_at >= again[1].updated_at, "{kind:?}");
        assert_eq!(again[0].turn_count, 2);
        assert_eq!(
            ids(&store.list("acme", Some("ana"), 1).await.expect("list")),
            ["s1"],
            "{kind:?}: limit"
        );

        // Others see only their own.
        assert_eq!(ids(&list(&*store, "acme", Some("carl")).await), ["c1"]);
        assert_eq!(ids(&list(&*store, "globex", Some("ana")).await), ["g1"]);
        assert_eq!(ids(&list(&*store, "acme", None).await), ["d1"]);
        assert_eq!(ids(&list(&*store, "acme", Some("")).await), ["d1"]);
        assert!(list(&*store, "initech", Some("ana")).await.is_empty());

        // A title replaces the first question, and stays through new turns.
        assert!(
            other_instance
                .rename(&ana("s2"), "Customers")
                .await
                .expect("rename")
        );
        let renamed = store
            .summary(&ana("s2"))
            .await
            .expect("summary")
            .expect("exists");
        assert_eq!(renamed.title, "Customers", "{kind:?}");
        assert_eq!(
            renamed.updated_at, again[1].updated_at,
            "{kind:?}: not a turn"
        );
        assert_eq!(
            ids(&list(&*store, "acme", Some("ana")).await),
            ["s1", "s2"],
            "{kind:?}: renaming does not move a conversation up"
        );
        store
            .append(&ana("s2"), turn("and in Germany?"))
            .await
            .expect("append");
        let listed = list(&*store, "acme", Some("ana")).await;
        assert_eq!(ids(&listed), ["s2", "s1"], "{kind:?}");
        assert_eq!(listed[0].title, "Customers", "{kind:?}");

        // Another user's session cannot be renamed; a missing one is not created by a rename.
        for missing in [
            SessionKey::for_user("acme", "carl", "s2"),
            SessionKey::new("acme", "s2"),
            ana("never"),
        ] {
            assert!(
                !store.rename(&missing, "mine now").await.expect("rename"),
                "{kind:?}: {missing:?}"
            );
            assert!(store.summary(&missing).await.expect("summary").is_none());
        }
        assert_eq!(
            list(&*store, "acme", Some("ana")).await[0].title,
            "Customers"
        );
        assert!(
            store
                .load(&ana("never"))
                .await
                .expect("load")
                .turns
                .is_empty()
        );

        // A reset takes the conversation off the list, and its title with it.
        other_instance.reset(&ana("s2")).await.expect("reset");
        assert_eq!(
            ids(&list(&*store, "acme", Some("ana")).await),
            ["s1"],
            "{kind:?}"
        );
        store
            .append(&ana("s2"), turn("a new start"))
            .await
            .expect("append");
        let listed = list(&*store, "acme", Some("ana")).await;
        assert_eq!(ids(&listed), ["s2", "s1"], "{kind:?}");
        assert_eq!(listed[0].title, "a new start", "{kind:?}");
        assert_eq!(listed[0].turn_count, 1, "{kind:?}");
    }
}

#[tokio::test]
async fn hostile_ids_and_titles_stay_apart_and_come_back_whole() {
    let hostile_users = [
        "*",
        "ana*",
        "{ana}",
        "ana:s1",
        "a\"n'a",
        "[a-z]?",
        "zoë 🦀",
        "%3A",
    ];
    for kind in kinds() {
        let prefix = Prefix::new("session-list-hostile");
        let (store, _) = session_stores(kind, &prefix, limits()).await;
        store
            .append(&SessionKey::for_user("acme", "ana", "plain"), turn("ana's"))
            .await
            .expect("append");
        for (i, user) in hostile_users.iter().enumerate() {
            let session = format!("s:{i}*{{tag}}\"'?[x]é");
            let key = SessionKey::for_user("acme", *user, session.as_str());
            store
                .append(&key, turn(&format!("question of {user}")))
                .await
                .expect("append");
            let title = format!("«{user}» {{x}} *:\"' — 売上");
            assert!(
                store.rename(&key, &title).await.expect("rename"),
                "{kind:?}"
            );
            let listed = list(&*store, "acme", Some(user)).await;
            assert_eq!(ids(&listed), [session.as_str()], "{kind:?}: {user:?}");
            assert_eq!(listed[0].title, title, "{kind:?}");
        }
        // Nobody's list holds another's, whatever the names look like as patterns or escapes.
        assert_eq!(
            ids(&list(&*store, "acme", Some("ana")).await),
            ["plain"],
            "{kind:?}"
        );
        for (tenant, user) in [
            ("acme:ana", ""),
            ("acme*", "ana"),
            ("{acme}", "ana"),
            ("*", "*"),
        ] {
            assert!(
                list(&*store, tenant, Some(user)).await.is_empty(),
                "{kind:?}: {tenant:?}/{user:?}"
            );
        }
        let tenant_like = SessionKey::for_user("a:b", "c", "s");
        let user_like = SessionKey::for_user("a", "b:c", "s");
        store
            .append(&tenant_like, turn("tenant a:b"))
            .await
            .expect("append");
        assert!(list(&*store, "a", Some("b:c")).await.is_empty(), "{kind:?}");
        assert!(!store.rename(&user_like, "x").await.expect("rename"));

        if kind == Kind::Redis {
            for key in prefix.keys() {
                let own = key.strip_prefix(&prefix.name).expect("prefix");
                assert!(
                    !own.contains(['*', '?', '[', ']', '{', '}', '"', '\'', ' ']),
                    "every part is escaped: {key}"
                );
            }
        }
    }
}

#[tokio::test]
async fn redis_lists_drop_expired_sessions() {
    if !testkit::require(Service::Redis) {
        return;
    }
    let prefix = Prefix::new("session-list-ttl");
    // The shortest timeout of the Redis store: one second.
    let store = RedisSessionStore::new(
        prefix.connection().await,
        SessionLimits {
            idle_timeout: Duration::from_secs(1),
            ..limits()
        },
    );
    let key = |s: &str| SessionKey::for_user("acme", "ana", s);
    let list_key = store.list_key("acme", Some("ana"));
    let mut con = prefix.raw();
    let members = |con: &mut redis::Connection| -> Vec<String> {
        redis::cmd("ZRANGE")
            .arg(&list_key)
            .arg(0)
            .arg(-1)
            .query(con)
            .expect("ZRANGE")
    };
    store
        .append(&key("old"), turn("old"))
        .await
        .expect("append");
    tokio::time::sleep(Duration::from_millis(600)).await;
    store
        .append(&key("new"), turn("new"))
        .await
        .expect("append");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&list_key)
        .query(&mut con)
        .expect("PTTL");
    assert!(
        ttl > 900 && ttl <= 1000,
        "the list's timeout is renewed: {ttl} ms"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    // "old" has expired, its id is still in the list (which "new" keeps alive).
    assert_eq!(members(&mut con), ["old", "new"]);
    assert_eq!(ids(&list(&store, "acme", Some("ana")).await), ["new"]);
    assert_eq!(members(&mut con), ["new"], "the expired id was removed");
    assert!(store.summary(&key("old")).await.expect("summary").is_none());
    assert!(!store.rename(&key("old"), "late").await.expect("rename"));

    // Loading a session keeps it, and the list, alive (past the 1.6 s "new" had left);
    // listing does not.
    assert_eq!(store.load(&key("new")).await.expect("load").turn_count, 1);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(ids(&list(&store, "acme", Some("ana")).await), ["new"]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(list(&store, "acme", Some("ana")).await.is_empty());
    assert!(prefix.keys().is_empty(), "{:?}", prefix.keys());
}

#[tokio::test]
async fn redis_lists_skip_and_remove_sessions_that_vanished() {
    if !testkit::require(Service::Redis) {
        return;
    }
    let prefix = Prefix::new("session-list-evicted");
    let store = RedisSessionStore::new(prefix.connection().await, limits());
    let mut con = prefix.raw();
    // More sessions than one page of a listing, the oldest of which then vanish (evicted by
    // `maxmemory`, say) behind the store's back.
    let key = |i: usize| SessionKey::for_user("acme", "ana", format!("s{i:03}"));
    for i in 0..150 {
        store
            .append(&key(i), turn(&format!("q{i}")))
            .await
            .expect("append");
    }
    for i in (0..150).filter(|i| i % 3 == 0 || *i < 40) {
        let (turns, meta) = store.keys(&key(i));
        let _: i64 = redis::cmd("DEL")
            .arg(turns)
            .arg(meta)
            .query(&mut con)
            .expect("DEL");
    }
    let live: Vec<String> = (0..150)
        .rev()
        .filter(|i| i % 3 != 0 && *i >= 40)
        .map(|i| format!("s{i:03}"))
        .collect();
    let listed = store.list("acme", Some("ana"), 200).await.expect("list");
    assert_eq!(ids(&listed), live);
    let few = store.list("acme", Some("ana"), 5).await.expect("list");
    assert_eq!(ids(&few), live[..5]);
    let count: usize = redis::cmd("ZCARD")
        .arg(store.list_key("acme", Some("ana")))
        .query(&mut con)
        .expect("ZCARD");
    assert_eq!(count, live.len(), "vanished ids are removed");
}

#[tokio::test]
async fn the_engine_checks_titles_and_lists_per_user() {
    let engine = Engine::builder()
        .config(conversational_bi::Config::default())
        .build()
        .await
        .expect("engine");
    let answer = engine
        .ask(
            conversational_bi::Ask::new("How many customers are there?")
                .tenant("acme")
                .session("s1"),
        )
        .await
        .expect("answered");
    assert_eq!(answer.session_id, "s1");
    let listed = engine.list_sessions("acme", 10).await.expect("list");
    assert_eq!(ids(&listed), ["s1"]);
    assert_eq!(listed[0].title, "How many customers are there?");
    assert!(
        engine
            .list_user_sessions("acme", "ana", 10)
            .await
            .expect("list")
            .is_empty()
    );

    let renamed = engine
        .rename_session("acme", "s1", "  Customers  ")
        .await
        .expect("renamed")
        .expect("exists");
    assert_eq!(renamed.title, "Customers");
    assert_eq!(renamed.turn_count, 1);
    assert!(
        engine
            .rename_user_session("acme", "ana", "s1", "Customers")
            .await
            .expect("checked")
            .is_none(),
        "the default user's session is not ana's"
    );
    for bad in ["", "   ", "a\nb", &"x".repeat(121)] {
        let e = engine
            .rename_session("acme", "s1", bad)
            .await
            .expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
        assert!(e.to_string().contains("title"), "{e}");
    }
    assert_eq!(
        engine.list_sessions("acme", 10).await.expect("list")[0].title,
        "Customers"
    );
    engine.reset_session("acme", "s1").await.expect("reset");
    assert!(
        engine
            .list_sessions("acme", 10)
            .await
            .expect("list")
            .is_empty()
    );
}
