//! `Engine::ask_stream`: the progress of an answer, in order, on SQLite, PostgreSQL and
//! MariaDB, with the offline generator.

use conversational_bi::{Ask, AskEvent, Engine};
use futures_util::StreamExt;
use testkit::db::Backend;

async fn events(engine: &Engine, ask: Ask) -> Vec<AskEvent> {
    engine.ask_stream(ask).collect().await
}

fn position(events: &[AskEvent], pred: impl Fn(&AskEvent) -> bool) -> usize {
    events
        .iter()
        .position(pred)
        .unwrap_or_else(|| panic!("missing event in {events:?}"))
}

#[tokio::test]
async fn stages_then_sql_then_rows_then_the_answer() {
    for backend in Backend::available() {
        let engine = Engine::builder()
            .database_url(backend.chinook_url())
            .build()
            .await
            .expect("engine");
        let got = events(&engine, Ask::new("How many tracks are there per genre?")).await;
        let stage = |name: &'static str| move |e: &AskEvent| matches!(e, AskEvent::Stage { stage } if stage == name);
        let (guard, generate) = (
            position(&got, stage("guard")),
            position(&got, stage("generate")),
        );
        let sql = position(&got, |e| matches!(e, AskEvent::Sql { .. }));
        let rows = position(&got, |e| matches!(e, AskEvent::Rows { .. }));
        let save = position(&got, stage("save"));
        assert!(
            guard < generate && generate < sql && sql < rows && rows < save,
            "{got:?}"
        );
        let Some(AskEvent::Answer { answer }) = got.last() else {
            panic!("the answer is the last event: {got:?}");
        };
        assert_eq!(got.iter().filter(|e| e.is_last()).count(), 1, "{got:?}");
        // The SQL and rows streamed are those of the answer; every stage streamed is timed.
        let (AskEvent::Sql { sql }, AskEvent::Rows { rows, columns, .. }) = (&got[sql], &got[rows])
        else {
            unreachable!()
        };
        assert_eq!(
            (sql, rows, columns),
            (&answer.sql, &answer.rows, &answer.columns)
        );
        assert!(answer.rows.len() > 1, "{}: {answer:?}", backend.dialect());
        for e in &got {
            if let AskEvent::Stage { stage } = e {
                assert!(
                    answer.timings.contains_key(stage),
                    "{stage} untimed: {answer:?}"
                );
            }
        }

        // A follow-up streams in the same conversation.
        let again = events(
            &engine,
            Ask::new("Only Rock").session(answer.session_id.clone()),
        )
        .await;
        match again.last() {
            Some(AskEvent::Answer { answer: next }) => {
                assert_eq!((next.turn, &next.session_id), (2, &answer.session_id));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_question_that_fails_ends_with_its_error() {
    let engine = Engine::builder().build().await.expect("demo engine");
    let got = events(&engine, Ask::new("How many frobnicated wombats are there?")).await;
    match got.last() {
        Some(AskEvent::Error {
            code,
            message,
            error,
            ..
        }) => {
            assert_eq!(*code, "CANNOT_ANSWER");
            assert!(message.contains("frobnicated"), "{message}");
            // The typed error rides along, for the bindings to raise with all its fields.
            let error = error.as_ref().expect("the error itself").error();
            assert_eq!(error.kind().code(), "CANNOT_ANSWER");
            assert_eq!(error.to_string(), *message);
        }
        other => panic!("{other:?}"),
    }
    // It began like any other; no SQL and no rows were streamed.
    assert!(
        matches!(&got[0], AskEvent::Stage { stage } if stage == "guard"),
        "{got:?}"
    );
    assert!(
        !got.iter()
            .any(|e| matches!(e, AskEvent::Sql { .. } | AskEvent::Rows { .. })),
        "{got:?}"
    );
    // Bad input fails at the guard, with the guard's code.
    let got = events(&engine, Ask::new("   ")).await;
    assert!(
        matches!(
            got.last(),
            Some(AskEvent::Error {
                code: "INVALID_INPUT",
                ..
            })
        ),
        "{got:?}"
    );
}

#[tokio::test]
async fn closing_the_stream_early_leaves_the_engine_working() {
    let engine = Engine::builder().build().await.expect("demo engine");
    let mut stream = engine.ask_stream(Ask::new("Total sales by country"));
    let first = stream.next().await.expect("a first event");
    assert!(matches!(first, AskEvent::Stage { .. }), "{first:?}");
    // Dropping it cancels what remains of the question.
    drop(stream);
    let answer = engine
        .ask(Ask::new("How many artists are there?"))
        .await
        .expect("the engine still answers");
    assert_eq!(answer.rows.len(), 1);
}

#[tokio::test]
async fn ask_events_are_read_from_any_clone_and_closed_from_any() {
    let lazy = Engine::builder().build_lazy().expect("demo engine");
    // Read through two clones, as a binding's iterator and its close handle do.
    let events = lazy.ask_events(Ask::new("How many artists are there?"));
    let other = events.clone();
    let mut read = Vec::new();
    while let Some(event) = other.next().await.expect("an event") {
        read.push(event);
        if let Some(event) = events.next().await.expect("an event") {
            read.push(event);
        }
    }
    assert!(matches!(read[0], AskEvent::Stage { .. }), "{read:?}");
    let AskEvent::Answer { answer } = read.last().expect("events") else {
        panic!("the answer is last: {read:?}");
    };
    assert_eq!(answer.rows.len(), 1);
    assert_eq!(read.iter().filter(|e| e.is_last()).count(), 1);
    assert!(events.next().await.expect("over").is_none());

    // Closed before the first read: nothing starts, and every read ends.
    let closed = lazy.ask_events(Ask::new("How many albums are there?"));
    closed.close();
    assert!(closed.next().await.expect("closed").is_none());

    // Closed after a first event: the rest is cancelled; the engine answers on.
    let halfway = lazy.ask_events(Ask::new("Total sales by country"));
    assert!(halfway.next().await.expect("first").is_some());
    halfway.close();
    halfway.close();
    assert!(halfway.next().await.expect("closed").is_none());

    // A question that fails ends with its error event, then nothing.
    let failing = lazy.ask_events(Ask::new("frobnicate the wibbles"));
    let mut last = None;
    while let Some(event) = failing.next().await.expect("events") {
        last = Some(event);
    }
    assert!(
        matches!(&last, Some(AskEvent::Error { code, .. }) if *code == "CANNOT_ANSWER"),
        "{last:?}"
    );
}

#[test]
fn events_serialize_with_their_kind() {
    let e = AskEvent::Stage {
        stage: "generate".into(),
    };
    assert_eq!(
        serde_json::to_value(&e).expect("json"),
        serde_json::json!({"event": "stage", "stage": "generate"})
    );
}
