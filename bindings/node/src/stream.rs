//! `engine.askStream(question, options)`: the events of one question as it is answered, read
//! with `for await`.
//!
//! The stream is the core's [`AskEvents`](conversational_bi::AskEvents), started at the first
//! `next()` (which connects the engine when no call has yet). Each event is a plain object
//! tagged by `event` ([`AskEventObject`]); the answer is the object `ask` resolves with. A
//! question that fails rejects the `next()` that would have read its last event, so the loop
//! throws the error `ask` would reject with (see [`Failure`]). Leaving the loop early calls the
//! iterator's `return()`, which closes the core's events: the work that remains is cancelled, the
//! statement running on the database included.

use std::{future::Future, sync::Arc};

use conversational_bi::{Ask, AskEvent as CoreAskEvent, AskEvents, Error as CoreError, LazyEngine};
use napi::{Env, bindgen_prelude::*, sys};
use napi_derive::napi;

use crate::{
    answer_js::AnswerJs,
    error,
    types::{Cell, Column},
};

/// One event of a question, in the order the engine reaches them:
///
/// - `{ event: 'stage', stage }` as each stage of the pipeline begins (`guard`, `session`,
///   `generate`, `save`, ..., as named in `Answer.timings`);
/// - `{ event: 'sql', sql }`: the statement, as the validator passed it and the database ran it;
/// - `{ event: 'rows', columns, rows, truncated }`: the result (at most `[database] max_rows`
///   rows; values as in `Answer.rows`), and whether the row cap cut it;
/// - `{ event: 'answer', answer }`: the whole answer, as `ask` resolves with it; the last event.
// The variants' fields are documented above: napi would write their comments into the union.
#[allow(missing_docs)]
#[napi(
    js_name = "AskEvent",
    discriminant = "event",
    discriminant_case = "lowercase",
    object_from_js = false
)]
pub enum AskEventObject {
    Stage {
        stage: String,
    },
    Sql {
        sql: String,
    },
    Rows {
        columns: Vec<Column>,
        #[napi(ts_type = "CellValue[][]")]
        rows: Vec<Vec<Cell>>,
        truncated: bool,
    },
    Answer {
        #[napi(ts_type = "Answer")]
        answer: AnswerJs,
    },
}

/// What one `next()` of the stream settles with: an event, or the question's error. Named as
/// the JavaScript type of the events, so that the iterator is typed `AsyncGenerator<AskEvent>`.
pub enum AskEvent {
    /// Resolves `next()` with the event.
    Event(AskEventObject),
    /// Rejects `next()` with the error.
    Failed(Failure),
}

/// Why a question failed, as the error `ask` would reject with.
pub enum Failure {
    /// The engine's own error (the question was unusable, the engine could not connect): every
    /// field of `ask`'s error.
    Engine(CoreError),
    /// The error event that ended the stream, when it no longer holds the engine's error: its
    /// code and message, `retryable` as the code implies and `retryAfter`.
    Event {
        code: &'static str,
        message: String,
        retry_after_secs: Option<u64>,
    },
}

impl ToNapiValue for AskEvent {
    unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> Result<sys::napi_value> {
        match value {
            // SAFETY: `env` is the live environment napi handed to this conversion.
            Self::Event(event) => unsafe { AskEventObject::to_napi_value(env, event) },
            // The error is returned, not converted: napi rejects `next()` with it.
            Self::Failed(failure) => Err(failure.into_js(&Env::from_raw(env))),
        }
    }
}

impl Failure {
    fn into_js(self, env: &Env) -> napi::Error {
        match self {
            Self::Engine(e) => error::to_js(env, &e),
            Self::Event {
                code,
                message,
                retry_after_secs,
            } => match event_error(env, code, &message, retry_after_secs) {
                Ok(err) => err,
                // Only while the environment shuts down.
                Err(_) => napi::Error::new(Status::GenericFailure, format!("{code}: {message}")),
            },
        }
    }
}

/// The JavaScript `Error` of a stream's error event, shaped as [`error::to_js`] shapes the
/// engine's errors.
fn event_error(
    env: &Env,
    code: &'static str,
    message: &str,
    retry_after_secs: Option<u64>,
) -> Result<napi::Error> {
    let retryable = matches!(
        code,
        "DATABASE_UNAVAILABLE" | "RATE_LIMITED" | "CIRCUIT_OPEN" | "SERVICE_UNAVAILABLE"
    ) || (code == "PROVIDER" && retry_after_secs.is_some());
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, message))?;
    obj.set("code", code)?;
    obj.set("retryable", retryable)?;
    if let Some(s) = retry_after_secs {
        obj.set("retryAfter", s as f64)?;
    }
    Ok(napi::Error::from(obj.to_unknown()))
}

/// The events of one question (`engine.askStream(...)`), read with `for await`:
///
/// ```js
/// for await (const event of engine.askStream('How many tracks are there per genre?')) {
///   if (event.event === 'stage') console.log('...', event.stage)
///   else if (event.event === 'answer') console.log(event.answer.rows)
/// }
/// ```
///
/// A question that fails makes the loop throw the error `ask` would reject with (`code`,
/// `retryable`, `retryAfter`). Leaving the loop early (`break`, `return`, an exception), or
/// `close()`, cancels the work that remains, the statement running on the database included.
#[napi(async_iterator)]
pub struct AskStream {
    source: Source,
}

#[napi]
impl AskStream {
    /// Cancels the work that remains (the statement running on the database included); the
    /// iteration ends. Closing a finished stream does nothing.
    #[napi]
    pub fn close(&self) {
        match &self.source {
            Source::Events(events) => events.close(),
            Source::Invalid(why) => {
                if let Ok(mut e) = why.lock() {
                    e.take();
                }
            }
        }
    }
}

#[napi]
impl AsyncGenerator for AskStream {
    type Yield = AskEvent;
    type Next = ();
    type Return = ();

    fn next(
        &mut self,
        _value: Option<Self::Next>,
    ) -> impl Future<Output = Result<Option<Self::Yield>>> + Send + 'static {
        let source = self.source.clone();
        async move {
            let next = match source {
                Source::Events(events) => events.next().await,
                Source::Invalid(why) => match why.lock().map(|mut e| e.take()) {
                    Ok(Some(e)) => Err(e),
                    _ => Ok(None),
                },
            };
            Ok(match next {
                Ok(None) => None,
                Ok(Some(event)) => Some(event_of(event)),
                Err(e) => Some(AskEvent::Failed(Failure::Engine(e))),
            })
        }
    }

    fn complete(
        &mut self,
        _value: Option<Self::Return>,
    ) -> impl Future<Output = Result<Option<Self::Yield>>> + Send + 'static {
        self.close();
        async { Ok(None) }
    }

    fn catch(
        &mut self,
        _env: Env,
        value: Unknown,
    ) -> impl Future<Output = Result<Option<Self::Yield>>> + Send + 'static {
        self.close();
        let err = napi::Error::from_unknown_without_coercion(value);
        async move { Err(err) }
    }
}

impl AskStream {
    /// The stream of `ask` on `engine`, started at the first `next()`; a question that could
    /// not be made (`Err`) is the first `next()`'s rejection.
    pub(crate) fn new(engine: LazyEngine, ask: std::result::Result<Ask, CoreError>) -> Self {
        let source = match ask {
            Ok(ask) => Source::Events(engine.ask_events(ask)),
            Err(e) => Source::Invalid(Arc::new(std::sync::Mutex::new(Some(e)))),
        };
        Self { source }
    }
}

/// Where the events come from.
#[derive(Clone)]
enum Source {
    /// The question's events: the core's handle, shared with the `next()` in flight.
    Events(AskEvents),
    /// The question could not be made: its error, until the first `next()` takes it.
    Invalid(Arc<std::sync::Mutex<Option<CoreError>>>),
}

/// A core event as what `next()` settles with.
fn event_of(event: CoreAskEvent) -> AskEvent {
    AskEvent::Event(match event {
        CoreAskEvent::Stage { stage } => AskEventObject::Stage { stage },
        CoreAskEvent::Sql { sql } => AskEventObject::Sql { sql },
        CoreAskEvent::Rows {
            columns,
            rows,
            truncated,
        } => AskEventObject::Rows {
            columns: columns.into_iter().map(Column::from).collect(),
            rows: rows
                .into_iter()
                .map(|r| r.into_iter().map(Cell).collect())
                .collect(),
            truncated,
        },
        // The answer's JSON is written here, on the runtime's thread (see `AnswerJs`).
        CoreAskEvent::Answer { answer } => AskEventObject::Answer {
            answer: AnswerJs::from(*answer),
        },
        CoreAskEvent::Error {
            code,
            message,
            retry_after_secs,
            error,
        } => {
            // The engine's error itself when this event holds the only reference to it: every
            // field of `ask`'s error.
            return AskEvent::Failed(match error.map(|e| e.into_error()) {
                Some(Ok(e)) => Failure::Engine(e),
                _ => Failure::Event {
                    code,
                    message,
                    retry_after_secs,
                },
            });
        }
    })
}
