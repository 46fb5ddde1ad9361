//! An answer as it is worked out: the events of [`Engine::ask_stream`](crate::Engine::ask_stream).

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use futures_util::{Stream, StreamExt};
use serde::Serialize;
use tokio::{
    sync::{Mutex, Notify, mpsc},
    task::JoinHandle,
};

use crate::{
    Answer, Ask, Error, LazyEngine,
    exec::{ResultColumn, Value},
};

/// One step of an answer, in the order the engine reaches them: stages, then the SQL, then the
/// rows, then the whole answer (or the error) last.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AskEvent {
    /// A stage of the pipeline began (`guard`, `session`, `verified`, `cache`, `generate`,
    /// `insight`, `save`, `suggest`).
    Stage {
        /// The stage, named as in [`Answer::timings`].
        stage: String,
    },
    /// The statement that answers, as the validator passed it and the database ran it.
    Sql {
        /// The SQL.
        sql: String,
    },
    /// The result.
    Rows {
        /// Its columns.
        columns: Vec<ResultColumn>,
        /// Its rows (at most `[database] max_rows`).
        rows: Vec<Vec<Value>>,
        /// Whether the rows were cut at the row cap.
        truncated: bool,
    },
    /// The whole answer: the last event when the question was answered (or a clarification
    /// was asked).
    Answer {
        /// The answer, as [`Engine::ask`](crate::Engine::ask) returns it.
        answer: Box<Answer>,
    },
    /// Why the question failed: the last event when it was not answered.
    Error {
        /// The error's stable code (`CANNOT_ANSWER`, `RATE_LIMITED`, ...).
        code: &'static str,
        /// What went wrong and what to do about it.
        message: String,
        /// When a rate limit is spent: seconds until a retry may succeed.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u64>,
        /// The error itself, for a binding that raises it with all its fields (`sql`, `rule`,
        /// `unknown_words`, ...) as `ask` does. Not serialized.
        #[serde(skip)]
        error: Option<FailedWith>,
    },
}

/// The error an [`AskEvent::Error`] was made from. Two are equal when they are the same error.
#[derive(Debug, Clone)]
pub struct FailedWith(Arc<Error>);

impl FailedWith {
    /// The error.
    pub fn error(&self) -> &Error {
        &self.0
    }

    /// The error itself, unless a clone of this event still holds it.
    pub fn into_error(self) -> Result<Error, Self> {
        Arc::try_unwrap(self.0).map_err(Self)
    }
}

impl PartialEq for FailedWith {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl AskEvent {
    /// The last event of a question that failed with `e`.
    pub fn error(e: Error) -> Self {
        Self::Error {
            code: e.kind().code(),
            message: e.to_string(),
            retry_after_secs: e
                .retry_after()
                .map(|d| d.as_secs_f64().ceil().max(1.0) as u64),
            error: Some(FailedWith(Arc::new(e))),
        }
    }

    /// Whether no event follows this one.
    pub fn is_last(&self) -> bool {
        matches!(self, Self::Answer { .. } | Self::Error { .. })
    }
}

/// Where the engine reports its progress while it answers (none for [`Engine::ask`]).
#[derive(Debug, Clone)]
pub(crate) struct Progress(mpsc::UnboundedSender<AskEvent>);

impl Progress {
    /// Reports `event`; a listener that went away is no error (the work is being cancelled).
    pub(crate) fn send(&self, event: AskEvent) {
        let _ = self.0.send(event);
    }
}

/// Reports to `progress`, when there is one.
pub(crate) fn report(progress: Option<&Progress>, event: impl FnOnce() -> AskEvent) {
    if let Some(p) = progress {
        p.send(event());
    }
}

/// The events of one question ([`Engine::ask_stream`](crate::Engine::ask_stream)). Dropping
/// the stream before its last event cancels the work that remains.
#[derive(Debug)]
pub struct AskStream {
    events: mpsc::UnboundedReceiver<AskEvent>,
    work: JoinHandle<()>,
}

impl AskStream {
    /// Runs `work` on the runtime, its progress reported to the stream.
    pub(crate) fn spawn<F, Fut>(work: F) -> Self
    where
        F: FnOnce(Progress) -> Fut,
        Fut: Future<Output = AskEvent> + Send + 'static,
    {
        let (tx, events) = mpsc::unbounded_channel();
        let progress = Progress(tx.clone());
        let fut = work(progress);
        let work = tokio::spawn(async move {
            let last = fut.await;
            let _ = tx.send(last);
        });
        Self { events, work }
    }
}

impl Stream for AskStream {
    type Item = AskEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<AskEvent>> {
        self.events.poll_recv(cx)
    }
}

impl Drop for AskStream {
    fn drop(&mut self) {
        // Closing the stream cancels the question: the task stops at its next await (the
        // statement being run is dropped with it).
        self.work.abort();
    }
}

/// The events of one question for callers that read them one at a time from elsewhere than a
/// Rust `Stream` (a language binding's iterator, possibly on another thread): cheap to clone,
/// with [`AskEvents::next`] and [`AskEvents::close`] callable from any clone. Made by
/// [`LazyEngine::ask_events`]: the engine connects, and the question starts, at the first read.
#[derive(Debug, Clone)]
pub struct AskEvents {
    shared: Arc<EventsShared>,
}

#[derive(Debug)]
struct EventsShared {
    state: Mutex<EventsState>,
    /// Set by `close`: no further event is read.
    closed: AtomicBool,
    /// Wakes a read in flight when the events are closed.
    close: Notify,
}

enum EventsState {
    /// Not started.
    Pending(LazyEngine, Ask),
    /// Running on the runtime; dropping it cancels the work.
    Running(AskStream),
    /// The last event was read, or the events were closed.
    Done,
}

impl std::fmt::Debug for EventsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pending(..) => "Pending",
            Self::Running(_) => "Running",
            Self::Done => "Done",
        })
    }
}

impl AskEvents {
    pub(crate) fn new(engine: LazyEngine, ask: Ask) -> Self {
        Self {
            shared: Arc::new(EventsShared {
                state: Mutex::new(EventsState::Pending(engine, ask)),
                closed: AtomicBool::new(false),
                close: Notify::new(),
            }),
        }
    }

    /// The next event, starting the question at the first read; `None` after the last event
    /// or once closed. An engine that cannot connect is the error, after which the events are
    /// over. Reads wait for one another.
    pub async fn next(&self) -> crate::Result<Option<AskEvent>> {
        let shared = &self.shared;
        let mut state = shared.state.lock().await;
        if shared.closed.load(Ordering::SeqCst) {
            *state = EventsState::Done;
            return Ok(None);
        }
        let read = async {
            loop {
                match std::mem::replace(&mut *state, EventsState::Done) {
                    EventsState::Pending(engine, ask) => {
                        *state = EventsState::Running(engine.engine().await?.ask_stream(ask));
                    }
                    EventsState::Running(mut stream) => {
                        let event = stream.next().await;
                        if event.as_ref().is_some_and(|e| !e.is_last()) {
                            *state = EventsState::Running(stream);
                        }
                        return Ok(event);
                    }
                    EventsState::Done => return Ok(None),
                }
            }
        };
        let read = tokio::select! {
            read = read => Some(read),
            () = shared.close.notified() => None,
        };
        match read {
            Some(event) => event,
            None => {
                *state = EventsState::Done;
                Ok(None)
            }
        }
    }

    /// Cancels the work that remains, the database statement included; later reads give
    /// `None`. Closing finished events does nothing.
    pub fn close(&self) {
        let shared = &self.shared;
        shared.closed.store(true, Ordering::SeqCst);
        shared.close.notify_one();
        // Without a read in flight, the question is dropped (cancelled) now; a read in flight
        // holds the lock, wakes, and drops it.
        if let Ok(mut state) = shared.state.try_lock() {
            *state = EventsState::Done;
        }
    }
}
