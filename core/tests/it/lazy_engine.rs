//! `Engine::connect_lazy`, as every binding uses it: nothing is touched at construction, the
//! first use connects, a failed connection is retried by the next use. And the defaults of an
//! embedded engine against the server's: no rate limit unless configured.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use conversational_bi::{
    Ask, Config, Engine, ErrorKind,
    clock::ManualClock,
    config::{ConfigSources, Interface},
};

use testkit::db::chinook_sqlite;

/// The configuration of `interface` from `toml` alone (no file, no environment).
fn config(interface: Interface, toml: &str) -> Config {
    Config::from_sources(
        ConfigSources::new(interface)
            .toml(toml)
            .env_vars(std::iter::empty::<(String, String)>()),
    )
    .expect("valid")
}

#[tokio::test]
async fn a_lazy_engine_connects_at_first_use_and_recovers() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("late.sqlite");
    let url = format!("sqlite://{}", path.display());
    // The file does not exist yet: an engine that connected now would fail now.
    let engine = Engine::builder()
        .config(config(Interface::Embedded, ""))
        .database_url(&url)
        .build_lazy()
        .expect("nothing to connect to yet");
    assert!(engine.connected().is_none());

    let e = engine
        .ask(Ask::new("How many artists are there?"))
        .await
        .expect_err("no database yet");
    assert!(e.to_string().contains("does not exist"), "{e}");
    let e = engine.health().await.expect_err("no database yet");
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(engine.connected().is_none(), "a failure is not kept");

    std::fs::copy(chinook_sqlite(), &path).expect("copies");
    let answer = engine
        .ask(Ask::new("How many artists are there?"))
        .await
        .expect("the database is there now");
    assert_eq!(answer.rows.len(), 1);
    assert!(engine.connected().is_some());
    assert_eq!(engine.schema().await.expect("schema").tables.len(), 11);
    assert_eq!(engine.health().await.expect("health").status, "ok");
}

#[tokio::test]
async fn an_unreachable_server_is_the_error_of_the_first_call_not_of_construction() {
    let started = Instant::now();
    // Nothing listens on port 1.
    let mut c = config(
        Interface::Embedded,
        "[database]\nconnection_timeout_secs = 2\n",
    );
    c.database.url = Some(conversational_bi::config::Secret::new(
        "postgres://bi:hunter2@127.0.0.1:1/chinook",
    ));
    let engine = Engine::connect_lazy(c).expect("lazy");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "construction waited"
    );
    for _ in 0..2 {
        let e = engine
            .ask(Ask::new("How many artists are there?"))
            .await
            .expect_err("unreachable");
        assert_eq!(e.kind(), ErrorKind::DatabaseUnavailable, "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
    assert!(!format!("{engine:?}").contains("hunter2"));
}

#[tokio::test]
async fn what_needs_no_connection_is_checked_at_construction() {
    let e = Engine::builder()
        .database_url("oracle://scott:tiger@db/x")
        .build_lazy()
        .expect_err("a URL of no supported database");
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(!e.to_string().contains("tiger"), "{e}");
    let e = Engine::connect_lazy(config(
        Interface::Embedded,
        "[llm]\nprovider = \"openai\"\n",
    ))
    .expect_err("a hosted provider without its key");
    assert!(e.to_string().contains("needs an API key"), "{e}");
}

#[tokio::test]
async fn calls_made_while_connecting_share_one_connection() {
    let engine = Engine::connect_lazy(config(Interface::Embedded, "")).expect("lazy");
    let asks = (0..8).map(|i| {
        let engine = engine.clone();
        tokio::spawn(async move {
            engine
                .ask(Ask::new("How many genres are there?").session(format!("s{i}")))
                .await
        })
    });
    for ask in asks {
        ask.await.expect("joins").expect("answers");
    }
    assert!(engine.connected().is_some());
}

#[tokio::test]
async fn an_embedded_engine_answers_200_questions_in_a_row() {
    let engine = Engine::connect_lazy(config(Interface::Embedded, "")).expect("lazy");
    for i in 0..200 {
        engine
            .ask(Ask::new("How many artists are there?"))
            .await
            .unwrap_or_else(|e| panic!("question {}: {e}", i + 1));
    }
}

#[tokio::test]
async fn the_server_keeps_the_runbook_limit_and_an_embedded_engine_its_configured_one() {
    // A clock that stands still: no token comes back while the questions are asked.
    let server = Engine::builder()
        .config(config(Interface::Server, ""))
        .clock(Arc::new(ManualClock::at(1_800_000_000_000_000)))
        .build_lazy()
        .expect("lazy");
    let mut refused = None;
    for i in 0..25 {
        if let Err(e) = server.ask(Ask::new("How many artists are there?")).await {
            assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
            refused = Some(i + 1);
            break;
        }
    }
    assert_eq!(refused, Some(21), "a burst of 20, then the limit");

    let limited = Engine::builder()
        .config(config(
            Interface::Embedded,
            "[production.rate_limiting]\nburst_allowance = 3\n",
        ))
        .clock(Arc::new(ManualClock::at(1_800_000_000_000_000)))
        .build_lazy()
        .expect("lazy");
    for _ in 0..3 {
        limited
            .ask(Ask::new("How many artists are there?"))
            .await
            .expect("within the burst");
    }
    let e = limited
        .ask(Ask::new("How many artists are there?"))
        .await
        .expect_err("the configured limit applies");
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
}
