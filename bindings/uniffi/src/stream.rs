//! `Engine.ask_stream`: the events of one question as it is answered, read with `next()`.

use conversational_bi::{AskEvent as CoreAskEvent, AskEvents};

use crate::{
    error::ConversationalBiError,
    run,
    types::{Answer, CellValue, ResultColumnInfo},
};

/// One step of an answer, in order: stages, then the SQL, then the rows, then the answer (last).
/// A question that fails makes `next()` fail instead, with the error `ask` would give.
// The answer is passed by value to the foreign language, which copies it anyway: a box would
// save nothing (and UniFFI enums cannot hold one).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum AskEvent {
    /// A stage of the pipeline began (`guard`, `session`, `verified`, `cache`, `generate`,
    /// `insight`, `save`, `suggest`), named as in the answer's timings.
    Stage {
        /// The stage.
        stage: String,
    },
    /// The statement that answers, as the validator passed it and the database ran it.
    Sql {
        /// The SQL.
        sql: String,
    },
    /// The result, before the explanation and the chart are written.
    Rows {
        /// Its columns.
        columns: Vec<ResultColumnInfo>,
        /// Its rows (at most `[database] max_rows`).
        rows: Vec<Vec<CellValue>>,
        /// Whether the rows were cut at the row cap.
        truncated: bool,
    },
    /// The whole answer, as `ask` returns it; no event follows.
    Answer {
        /// The answer.
        answer: Answer,
    },
}

/// The events of one question ([`crate::Engine::ask_stream`]). `next()` gives each event in
/// turn and `None` after the answer; the first `next()` connects the engine when no call has
/// yet, and starts the question. `cancel()`, or freeing the stream (Kotlin's `close()`, the
/// last reference in Swift or Python), cancels the work that remains, the statement running on
/// the database included.
#[derive(uniffi::Object)]
pub struct AskStream {
    events: AskEvents,
}

impl AskStream {
    pub(crate) fn new(events: AskEvents) -> Self {
        Self { events }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl AskStream {
    /// The next event, or `None` after the last one (or once closed). A question that fails is
    /// this call's error: the error `ask` would give (`CannotAnswer`, `RateLimited`, ...).
    pub async fn next(&self) -> Result<Option<AskEvent>, ConversationalBiError> {
        let events = self.events.clone();
        let next = run(async move { events.next().await }).await?;
        next.map(event).transpose()
    }

    /// Cancels the work that remains; later calls of `next()` give `None`. Cancelling a
    /// finished stream does nothing. (Not `close`: Kotlin objects have `close()`, which frees
    /// the native object, and cancels too.)
    pub fn cancel(&self) {
        self.events.close();
    }
}

/// A core event as this binding's event, or the failure it reports.
fn event(event: CoreAskEvent) -> Result<AskEvent, ConversationalBiError> {
    Ok(match event {
        CoreAskEvent::Stage { stage } => AskEvent::Stage { stage },
        CoreAskEvent::Sql { sql } => AskEvent::Sql { sql },
        CoreAskEvent::Rows {
            columns,
            rows,
            truncated,
        } => AskEvent::Rows {
            columns: columns.into_iter().map(ResultColumnInfo::from).collect(),
            rows: rows
                .into_iter()
                .map(|r| r.into_iter().map(CellValue::from).collect())
                .collect(),
            truncated,
        },
        CoreAskEvent::Answer { answer } => AskEvent::Answer {
            answer: Answer::from(*answer),
        },
        CoreAskEvent::Error {
            code,
            message,
            error,
            ..
        } => {
            // The engine's error itself (every field of `ask`'s error), which this event holds
            // alone: the stream's events are never cloned.
            return Err(match error.map(|e| e.into_error()) {
                Some(Ok(e)) => e.into(),
                _ => ConversationalBiError::Internal {
                    reason: format!("{code}: {message}"),
                },
            });
        }
    })
}
