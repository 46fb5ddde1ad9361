use std::time::Duration;

use testkit::Service;

use super::*;
use crate::{Ask, Engine, ErrorKind, access::Principal, config::Interface, semantic};

fn sqlite_config(dir: &std::path::Path) -> Config {
    let mut config = Interface::Embedded.defaults();
    config.feedback.path = Some(dir.join("feedback.db"));
    config.feedback.refresh_secs = 1;
    config
}

/// A PostgreSQL database for feedback stores, created once.
async fn pg_feedback_url() -> String {
    use sqlx::{AssertSqlSafe, Connection};
    let mut admin = sqlx::PgConnection::connect(&testkit::db::pg_admin_url("postgres"))
        .await
        .expect("connect as the PostgreSQL superuser");
    let exists: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = 'cbi_feedback_test'")
            .fetch_optional(&mut admin)
            .await
            .expect("pg_database");
    if exists.is_none() {
        // Two tests may race to create it: the loser's error is that it exists.
        let _ = sqlx::query(AssertSqlSafe("CREATE DATABASE cbi_feedback_test"))
            .execute(&mut admin)
            .await;
    }
    testkit::db::pg_admin_url("cbi_feedback_test")
}

fn pg_config(url: &str) -> Config {
    let mut config = Interface::Embedded.defaults();
    config.feedback.store = FeedbackStoreKind::Postgres;
    config.feedback.url = Some(Secret::new(url));
    config.feedback.refresh_secs = 1;
    config
}

fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

async fn answered(engine: &Engine, who: &Principal, question: &str) -> crate::Answer {
    engine
        .ask(Ask::new(question).principal(who.clone()))
        .await
        .expect("answer")
}

/// Feedback on a real conversation: stored with the turn's question and SQL, listed and
/// filtered; refused (and not stored) on an unknown session or turn, another user's session, a
/// correction the validator refuses, or a comment over the limit.
async fn feedback_round_trip(config: Config) {
    let engine = Engine::from_config(config).await.expect("engine");
    let tenant = format!("acme-{}", run_id());
    let ana = Principal::user("ana").tenant(&tenant);
    let bob = Principal::user("bob").tenant(&tenant);
    let answer = answered(&engine, &ana, "Which 5 artists have the most tracks?").await;

    let up = engine
        .feedback(
            &ana,
            FeedbackSubmission::new(&answer.session_id, answer.turn, Rating::Up)
                .comment("exactly right"),
        )
        .await
        .expect("feedback");
    assert_eq!(up.question, "Which 5 artists have the most tracks?");
    assert_eq!(up.sql, answer.sql);
    assert_eq!(up.status, FeedbackStatus::New);
    assert_eq!(up.user_id, "ana");

    let down = engine
        .feedback(
            &ana,
            FeedbackSubmission::new(&answer.session_id, answer.turn, Rating::Down)
                .corrected_sql("SELECT Name FROM Artist ORDER BY Name LIMIT 5"),
        )
        .await
        .expect("correction");
    assert_eq!(
        down.corrected_sql.as_deref(),
        Some("SELECT Name FROM Artist ORDER BY Name LIMIT 5")
    );

    let refused = [
        FeedbackSubmission::new("no-such-session", 1, Rating::Up),
        FeedbackSubmission::new(&answer.session_id, 9, Rating::Up),
        FeedbackSubmission::new(&answer.session_id, 0, Rating::Up),
        FeedbackSubmission::new("bad id with spaces", 1, Rating::Up),
        FeedbackSubmission::new(&answer.session_id, 1, Rating::Up).comment("x".repeat(2001)),
        FeedbackSubmission::new(&answer.session_id, 1, Rating::Up).corrected_sql("  "),
    ];
    for submission in refused {
        let e = engine
            .feedback(&ana, submission.clone())
            .await
            .expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{submission:?}: {e}");
    }
    let e = engine
        .feedback(
            &ana,
            FeedbackSubmission::new(&answer.session_id, 9, Rating::Up),
        )
        .await
        .expect_err("no turn 9");
    assert!(e.to_string().contains("no turn 9"), "{e}");
    // Bob cannot rate Ana's conversation: to him it does not exist.
    let e = engine
        .feedback(
            &bob,
            FeedbackSubmission::new(&answer.session_id, answer.turn, Rating::Down),
        )
        .await
        .expect_err("another user's session");
    assert!(e.to_string().contains("no session"), "{e}");
    let e = engine
        .feedback(
            &ana,
            FeedbackSubmission::new(&answer.session_id, answer.turn, Rating::Down)
                .corrected_sql("DELETE FROM Artist"),
        )
        .await
        .expect_err("a write");
    assert_eq!(e.kind(), ErrorKind::SqlRejected, "{e}");
    assert!(e.to_string().contains("corrected_sql is refused"), "{e}");

    let all = engine
        .list_feedback(&tenant, &FeedbackFilter::default())
        .await
        .expect("list");
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0].id, down.id, "newest first");
    let ups = engine
        .list_feedback(
            &tenant,
            &FeedbackFilter {
                rating: Some(Rating::Up),
                ..FeedbackFilter::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(ups.iter().map(|f| &f.id).collect::<Vec<_>>(), [&up.id]);
    let none = engine
        .list_feedback(
            &tenant,
            &FeedbackFilter {
                since: Some("2999-01-01".into()),
                ..FeedbackFilter::default()
            },
        )
        .await
        .expect("list");
    assert!(none.is_empty());
    let e = engine
        .list_feedback(
            &tenant,
            &FeedbackFilter {
                since: Some("yesterday".into()),
                ..FeedbackFilter::default()
            },
        )
        .await
        .expect_err("bad time");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // Another tenant sees none of it.
    assert!(
        engine
            .list_feedback("globex", &FeedbackFilter::default())
            .await
            .expect("list")
            .iter()
            .all(|f| f.tenant_id == "globex")
    );
}

/// Two engines on one store: a promotion on one is seen by the other (polled, within the
/// refresh interval); so is a retirement; the export holds the promoted query and loads back.
async fn promotion_reaches_another_engine(config: Config) {
    let a = Engine::from_config(config.clone()).await.expect("engine a");
    let b = Engine::from_config(config).await.expect("engine b");
    let tenant = format!("acme-{}", run_id());
    let ana = Principal::user("ana").tenant(&tenant);
    let root = Principal::user("root").tenant(&tenant);
    let answer = answered(&a, &ana, "How many tracks are there?").await;
    let fb = a
        .feedback(
            &ana,
            FeedbackSubmission::new(&answer.session_id, answer.turn, Rating::Down)
                .corrected_sql("SELECT COUNT(*) AS tracks FROM Track"),
        )
        .await
        .expect("feedback");
    assert!(
        b.promoted_verified(&tenant)
            .await
            .expect("promoted")
            .is_empty()
    );

    // A promotion whose SQL the validator refuses stores nothing.
    let e = a
        .promote_feedback(
            &root,
            &fb.id,
            Promotion {
                sql: Some("UPDATE Track SET Name = 'x'".into()),
                ..Promotion::default()
            },
        )
        .await
        .expect_err("a write");
    assert_eq!(e.kind(), ErrorKind::SqlRejected, "{e}");
    // Parameters must appear in question and SQL.
    let e = a
        .promote_feedback(
            &root,
            &fb.id,
            Promotion {
                parameters: vec![semantic::Parameter {
                    name: "genre".into(),
                    kind: semantic::ParameterType::Text,
                    column: Some("Genre.Name".into()),
                }],
                ..Promotion::default()
            },
        )
        .await
        .expect_err("unused parameter");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");

    let promoted = a
        .promote_feedback(
            &root,
            &fb.id,
            Promotion {
                paraphrases: vec!["number of tracks".into()],
                ..Promotion::default()
            },
        )
        .await
        .expect("promote");
    assert_eq!(promoted.query.sql, "SELECT COUNT(*) AS tracks FROM Track");
    assert_eq!(promoted.query.question, "How many tracks are there?");
    assert_eq!(promoted.query.verified_by, "root");
    assert!(promoted.version >= 1);
    let record = a
        .feedback_record(&tenant, &fb.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(record.status, FeedbackStatus::Promoted);
    let e = a
        .promote_feedback(&root, &fb.id, Promotion::default())
        .await
        .expect_err("twice");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);

    // The other engine sees it once its refresh interval has passed.
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = b.promoted_verified(&tenant).await.expect("promoted");
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, vec![promoted.query.clone()]);
    // Other tenants do not.
    assert!(
        b.promoted_verified(&format!("{tenant}-other"))
            .await
            .expect("promoted")
            .is_empty()
    );

    // The promoted query answers the tenant's questions on the other engine, as worded or
    // paraphrased; another tenant's questions are generated as before.
    let bo = Principal::user("bo").tenant(&tenant);
    for question in ["How many tracks are there?", "number of tracks"] {
        let answer = answered(&b, &bo, question).await;
        assert!(answer.verified, "{question}: {answer:?}");
        assert_eq!(answer.generator, "verified");
        assert_eq!(answer.rows.len(), 1);
    }
    let other = Principal::user("bo").tenant(format!("{tenant}-other"));
    assert!(
        !answered(&b, &other, "How many tracks are there?")
            .await
            .verified
    );

    let yaml = b.export_semantic_yaml(&tenant).await.expect("export");
    let model = semantic::parse(&yaml, None).expect("parses back");
    assert!(
        model
            .verified_queries
            .iter()
            .any(|v| v.sql == promoted.query.sql && v.paraphrases == ["number of tracks"]),
        "{yaml}"
    );
    let mut located = semantic::Located::default();
    located.add(yaml, None).expect("loads");
    semantic::check(
        &located,
        a.source().catalog(),
        a.source().visible_catalog(),
        a.source().validator(),
    )
    .expect("checks against the catalog");

    let retired = b
        .retire_verified(&root, &promoted.id)
        .await
        .expect("retire");
    assert_eq!(retired.status, VerifiedStatus::Retired);
    assert_eq!(retired.retired_by.as_deref(), Some("root"));
    assert!(retired.version > promoted.version);
    for _ in 0..100 {
        seen = a.promoted_verified(&tenant).await.expect("promoted");
        if seen.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen.is_empty(), "{seen:?}");
    // Retired, it answers no more.
    assert!(
        !answered(&a, &bo, "How many tracks are there?")
            .await
            .verified
    );
    let listed = a.list_verified(&tenant, true).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, VerifiedStatus::Retired);
    assert!(
        a.list_verified(&tenant, false)
            .await
            .expect("list")
            .is_empty()
    );
    let e = a
        .retire_verified(&root, "not-an-id")
        .await
        .expect_err("bad id");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = a
        .retire_verified(&root, &uuid::Uuid::new_v4().to_string())
        .await
        .expect_err("unknown id");
    assert!(e.to_string().contains("no verified query"), "{e}");
}

#[tokio::test]
async fn sqlite_feedback_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    feedback_round_trip(sqlite_config(dir.path())).await;
}

#[tokio::test]
async fn sqlite_promotion_reaches_another_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    promotion_reaches_another_engine(sqlite_config(dir.path())).await;
}

#[tokio::test]
async fn postgres_feedback_round_trip() {
    if !testkit::require(Service::Postgres) {
        return;
    }
    feedback_round_trip(pg_config(&pg_feedback_url().await)).await;
}

#[tokio::test]
async fn postgres_promotion_reaches_another_engine() {
    if !testkit::require(Service::Postgres) {
        return;
    }
    promotion_reaches_another_engine(pg_config(&pg_feedback_url().await)).await;
}

#[tokio::test]
async fn an_engine_that_takes_no_feedback_creates_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = sqlite_config(dir.path());
    let engine = Engine::from_config(config).await.expect("engine");
    assert!(
        engine
            .promoted_verified("default")
            .await
            .expect("promoted")
            .is_empty()
    );
    assert!(
        engine
            .list_feedback("default", &FeedbackFilter::default())
            .await
            .expect("list")
            .is_empty()
    );
    assert!(!dir.path().join("feedback.db").exists());
}

#[test]
fn the_default_file_is_beside_the_configuration_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("conversational-bi.toml");
    std::fs::write(&file, "[feedback]\nrefresh_secs = 3\n").expect("write");
    let config = Config::load(&file).expect("config");
    assert_eq!(config.feedback_path(), dir.path().join("feedback.db"));
    assert_eq!(config.feedback.refresh_secs, 3);
    std::fs::write(&file, "[feedback]\npath = \"data/fb.db\"\n").expect("write");
    let config = Config::load(&file).expect("config");
    assert_eq!(config.feedback_path(), dir.path().join("data/fb.db"));
    std::fs::write(&file, "[feedback]\nstore = \"postgres\"\n").expect("write");
    let e = Config::load(&file).expect_err("no url");
    assert!(e.to_string().contains("feedback.url"), "{e}");
    std::fs::write(&file, "[feedback]\nrefresh_secs = 0\n").expect("write");
    let e = Config::load(&file).expect_err("zero");
    assert!(e.to_string().contains("feedback.refresh_secs"), "{e}");
}

#[test]
fn since_is_normalized_and_ids_are_uuids() {
    assert_eq!(
        normalize_since("2026-01-31").expect("date"),
        "2026-01-31T00:00:00.000000Z"
    );
    assert_eq!(
        normalize_since("2026-01-31T12:00:00+01:00").expect("time"),
        "2026-01-31T11:00:00.000000Z"
    );
    assert!(normalize_since("last week").is_err());
    assert!(is_id(&uuid::Uuid::new_v4().to_string()));
    assert!(!is_id("1; DROP TABLE cbi_feedback"));
}

#[tokio::test]
async fn a_postgres_store_without_url_is_refused_when_used() {
    let mut config = Interface::Embedded.defaults();
    config.feedback.store = FeedbackStoreKind::Postgres;
    let engine = Engine::from_config(config).await.expect("engine");
    let e = engine
        .list_feedback("default", &FeedbackFilter::default())
        .await
        .expect_err("no url");
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.to_string().contains("[feedback] url"), "{e}");
}
