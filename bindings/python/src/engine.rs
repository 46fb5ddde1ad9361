//! The engine handle. Each operation exists twice: a blocking method that releases the GIL while
//! the engine works (other Python threads run meanwhile), and an `*_async` method that returns an
//! asyncio awaitable driven by the shared tokio runtime. `ask_stream` returns a
//! [`NativeAskStream`], whose events are read the same two ways.

use std::{future::Future, path::PathBuf, sync::Arc, time::Duration};

use conversational_bi::{
    Ask, AskEvent, AskEvents, Catalog, Engine, Error, FeedbackSubmission, LazyEngine, Principal,
    Rating, engine::DEFAULT_TENANT, session,
};
use pyo3::{
    prelude::*,
    types::{PyBool, PyList, PyTuple},
};

use crate::{
    answer::NativeAnswer,
    config::ConfigSource,
    convert,
    errors::{into_py_err, to_py_err},
};

/// How often a blocking call looks for Ctrl-C (a pending `KeyboardInterrupt`).
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// An engine (wrapped by `conversational_bi.Engine` and `AsyncEngine`). It connects at its
/// first use: creating one checks the configuration and never waits.
#[pyclass(frozen, module = "conversational_bi._native", name = "Engine")]
pub struct NativeEngine {
    pub(crate) inner: LazyEngine,
}

#[pymethods]
impl NativeEngine {
    /// Reads and checks the configuration; the database is connected at the first use (or by
    /// `connect`). Raises `ConfigError` at once for a bad configuration.
    #[staticmethod]
    #[pyo3(signature = (config_path=None, overrides=None, database=None))]
    fn create(
        config_path: Option<PathBuf>,
        overrides: Option<String>,
        database: Option<String>,
    ) -> PyResult<Self> {
        let source = ConfigSource {
            path: config_path,
            overrides,
        };
        Ok(Self {
            inner: open(source, database).map_err(into_py_err)?,
        })
    }

    /// Connects to the database now, when no call has yet (blocking); raises the connection's
    /// error.
    fn connect(&self, py: Python<'_>) -> PyResult<()> {
        let engine = self.inner.clone();
        run_blocking(py, async move { engine.engine().await.map(drop) })
    }

    /// As [`NativeEngine::connect`], as an awaitable.
    fn connect_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            engine.engine().await.map(drop).map_err(into_py_err)
        })
    }

    /// Answers a question (blocking). `user` is the asking user as JSON text (see
    /// [`principal`]); `remove_scope`, with an empty question, asks for the conversation's last
    /// answer without that scope item (see [`make_ask`]).
    #[pyo3(signature = (question, session_id=None, tenant_id=None, user=None, remove_scope=None))]
    fn ask(
        &self,
        py: Python<'_>,
        question: String,
        session_id: Option<String>,
        tenant_id: Option<String>,
        user: Option<String>,
        remove_scope: Option<String>,
    ) -> PyResult<NativeAnswer> {
        let engine = self.inner.clone();
        let ask = make_ask(question, session_id, tenant_id, user.as_deref())
            .and_then(|ask| with_removal(ask, remove_scope))
            .map_err(|e| to_py_err(py, e))?;
        let answer = run_blocking(py, async move { engine.ask(ask).await })?;
        Ok(NativeAnswer::new(answer))
    }

    /// Answers a question (awaitable).
    #[pyo3(signature = (question, session_id=None, tenant_id=None, user=None, remove_scope=None))]
    fn ask_async<'py>(
        &self,
        py: Python<'py>,
        question: String,
        session_id: Option<String>,
        tenant_id: Option<String>,
        user: Option<String>,
        remove_scope: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let ask = make_ask(question, session_id, tenant_id, user.as_deref())
            .and_then(|ask| with_removal(ask, remove_scope))
            .map_err(|e| to_py_err(py, e))?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let answer = engine.ask(ask).await.map_err(into_py_err)?;
            Ok(NativeAnswer::new(answer))
        })
    }

    /// The events of a question as it is answered (see [`NativeAskStream`]). Returns at once:
    /// the engine connects, and the question starts, when the first event is read.
    #[pyo3(signature = (question, session_id=None, tenant_id=None, user=None, remove_scope=None))]
    fn ask_stream(
        &self,
        py: Python<'_>,
        question: String,
        session_id: Option<String>,
        tenant_id: Option<String>,
        user: Option<String>,
        remove_scope: Option<String>,
    ) -> PyResult<NativeAskStream> {
        let ask = make_ask(question, session_id, tenant_id, user.as_deref())
            .and_then(|ask| with_removal(ask, remove_scope))
            .map_err(|e| to_py_err(py, e))?;
        Ok(NativeAskStream {
            events: self.inner.ask_events(ask),
        })
    }

    /// The state of a conversation of the user as a dict (blocking).
    #[pyo3(signature = (session_id, tenant_id=None, user=None))]
    fn session<'py>(
        &self,
        py: Python<'py>,
        session_id: String,
        tenant_id: Option<String>,
        user: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let (tenant, user) = owner(tenant_id, user.as_deref()).map_err(|e| to_py_err(py, e))?;
        let state = run_blocking(py, async move {
            engine
                .engine()
                .await?
                .user_session(&tenant, &user, &session_id)
                .await
        })?;
        convert::serialized(py, &state)
    }

    /// The state of a conversation of the user as a dict (awaitable).
    #[pyo3(signature = (session_id, tenant_id=None, user=None))]
    fn session_async<'py>(
        &self,
        py: Python<'py>,
        session_id: String,
        tenant_id: Option<String>,
        user: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let (tenant, user) = owner(tenant_id, user.as_deref()).map_err(|e| to_py_err(py, e))?;
        serialized_awaitable(py, async move {
            engine
                .engine()
                .await?
                .user_session(&tenant, &user, &session_id)
                .await
        })
    }

    /// Forgets a conversation of the user (blocking).
    #[pyo3(signature = (session_id, tenant_id=None, user=None))]
    fn reset_session(
        &self,
        py: Python<'_>,
        session_id: String,
        tenant_id: Option<String>,
        user: Option<String>,
    ) -> PyResult<()> {
        let engine = self.inner.clone();
        let (tenant, user) = owner(tenant_id, user.as_deref()).map_err(|e| to_py_err(py, e))?;
        run_blocking(py, async move {
            engine
                .engine()
                .await?
                .reset_user_session(&tenant, &user, &session_id)
                .await
        })
    }

    /// Forgets a conversation of the user (awaitable).
    #[pyo3(signature = (session_id, tenant_id=None, user=None))]
    fn reset_session_async<'py>(
        &self,
        py: Python<'py>,
        session_id: String,
        tenant_id: Option<String>,
        user: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let (tenant, user) = owner(tenant_id, user.as_deref()).map_err(|e| to_py_err(py, e))?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            async {
                engine
                    .engine()
                    .await?
                    .reset_user_session(&tenant, &user, &session_id)
                    .await
            }
            .await
            .map_err(into_py_err)
        })
    }

    /// The user's live conversations as dicts (`SessionSummary`), most recently given a turn
    /// first, at most `limit` (1 to 200; `None` for 50) (blocking). Another user's
    /// conversations are never listed.
    #[pyo3(signature = (limit=None, tenant_id=None, user=None))]
    fn list_sessions<'py>(
        &self,
        py: Python<'py>,
        limit: Option<&Bound<'py, PyAny>>,
        tenant_id: Option<String>,
        user: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let (limit, (tenant, user)) = list_limit(limit)
            .and_then(|limit| Ok((limit, owner(tenant_id, user.as_deref())?)))
            .map_err(|e| to_py_err(py, e))?;
        let sessions = run_blocking(py, async move {
            engine
                .engine()
                .await?
                .list_user_sessions(&tenant, &user, limit)
                .await
        })?;
        convert::serialized(py, &sessions)
    }

    /// The user's live conversations (awaitable).
    #[pyo3(signature = (limit=None, tenant_id=None, user=None))]
    fn list_sessions_async<'py>(
        &self,
        py: Python<'py>,
        limit: Option<&Bound<'py, PyAny>>,
        tenant_id: Option<String>,
        user: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let (limit, (tenant, user)) = list_limit(limit)
            .and_then(|limit| Ok((limit, owner(tenant_id, user.as_deref())?)))
            .map_err(|e| to_py_err(py, e))?;
        serialized_awaitable(py, async move {
            engine
                .engine()
                .await?
                .list_user_sessions(&tenant, &user, limit)
                .await
        })
    }

    /// Gives a conversation of the user a title (blocking): its summary as a dict, or `None`
    /// when the user has no such conversation (another user's is not found, and left alone).
    /// A title that is empty, over 120 characters or not on one line is the engine's
    /// `InvalidInput`.
    #[pyo3(signature = (session_id, title, tenant_id=None, user=None))]
    fn rename_session<'py>(
        &self,
        py: Python<'py>,
        session_id: String,
        title: String,
        tenant_id: Option<String>,
        user: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let (tenant, user) = owner(tenant_id, user.as_deref()).map_err(|e| to_py_err(py, e))?;
        let summary = run_blocking(py, async move {
            engine
                .engine()
                .await?
                .rename_user_session(&tenant, &user, &session_id, &title)
                .await
        })?;
        convert::serialized(py, &summary)
    }

    /// Gives a conversation of the user a title (awaitable).
    #[pyo3(signature = (session_id, title, tenant_id=None, user=None))]
    fn rename_session_async<'py>(
        &self,
        py: Python<'py>,
        session_id: String,
        title: String,
        tenant_id: Option<String>,
        user: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let (tenant, user) = owner(tenant_id, user.as_deref()).map_err(|e| to_py_err(py, e))?;
        serialized_awaitable(py, async move {
            engine
                .engine()
                .await?
                .rename_user_session(&tenant, &user, &session_id, &title)
                .await
        })
    }

    /// Rates turn `turn` of a conversation of the user (blocking); returns the stored record
    /// as a dict. `rating` is `"up"` or `"down"`; `corrected_sql` must pass the validator
    /// under the user's data permissions.
    #[pyo3(signature = (session_id, turn, rating, corrected_sql=None, comment=None, tenant_id=None, user=None))]
    #[allow(clippy::too_many_arguments)]
    fn feedback<'py>(
        &self,
        py: Python<'py>,
        session_id: String,
        turn: u64,
        rating: String,
        corrected_sql: Option<String>,
        comment: Option<String>,
        tenant_id: Option<String>,
        user: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let (principal, submission) = make_feedback(
            session_id,
            turn,
            &rating,
            corrected_sql,
            comment,
            tenant_id,
            user.as_deref(),
        )
        .map_err(|e| to_py_err(py, e))?;
        let record = run_blocking(py, async move {
            engine
                .engine()
                .await?
                .feedback(&principal, submission)
                .await
        })?;
        convert::serialized(py, &record)
    }

    /// Rates a turn of a conversation of the user (awaitable).
    #[pyo3(signature = (session_id, turn, rating, corrected_sql=None, comment=None, tenant_id=None, user=None))]
    #[allow(clippy::too_many_arguments)]
    fn feedback_async<'py>(
        &self,
        py: Python<'py>,
        session_id: String,
        turn: u64,
        rating: String,
        corrected_sql: Option<String>,
        comment: Option<String>,
        tenant_id: Option<String>,
        user: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let (principal, submission) = make_feedback(
            session_id,
            turn,
            &rating,
            corrected_sql,
            comment,
            tenant_id,
            user.as_deref(),
        )
        .map_err(|e| to_py_err(py, e))?;
        serialized_awaitable(py, async move {
            engine
                .engine()
                .await?
                .feedback(&principal, submission)
                .await
        })
    }

    /// The schema as a dict (read when the engine connected; blocking while it connects):
    /// without `user`, what the engine sees (tables outside `allowed_tables` and columns in
    /// `denied_columns` left out); with `user` (JSON text, see [`principal`]), what that user
    /// may see (see [`schema_of`]).
    #[pyo3(signature = (user=None))]
    fn schema<'py>(&self, py: Python<'py>, user: Option<String>) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let user = viewer(user.as_deref()).map_err(|e| to_py_err(py, e))?;
        let schema = run_blocking(py, async move { schema_of(&engine, user.as_ref()).await })?;
        convert::serialized(py, schema.as_ref())
    }

    /// The schema as a dict (awaitable).
    #[pyo3(signature = (user=None))]
    fn schema_async<'py>(
        &self,
        py: Python<'py>,
        user: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let user = viewer(user.as_deref()).map_err(|e| to_py_err(py, e))?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let schema = schema_of(&engine, user.as_ref())
                .await
                .map_err(into_py_err)?;
            Python::attach(|py| convert::serialized(py, schema.as_ref()).map(Bound::unbind))
        })
    }

    /// The engine's health as a dict (blocking; pings the database).
    fn health<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        let health = run_blocking(py, async move { engine.health().await })?;
        convert::serialized(py, &health)
    }

    /// The engine's health as a dict (awaitable).
    fn health_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.inner.clone();
        serialized_awaitable(py, async move { engine.health().await })
    }

    /// `(dialect, database)` of the connected source, for `repr`; `None` before the engine
    /// has connected (no I/O).
    fn describe(&self) -> Option<(String, String)> {
        let schema = self.inner.connected()?.schema();
        Some((schema.dialect.as_str().to_string(), schema.database.clone()))
    }
}

/// The events of one question (wrapped by `conversational_bi.AskStream` and `AsyncAskStream`):
/// `next()` blocks (the GIL released) and `next_async()` returns an awaitable; both give the
/// next event as a `(kind, value)` tuple, or `None` after the last one:
///
/// | kind | value |
/// |---|---|
/// | `"stage"`, `"sql"` | the stage's name, the SQL (`str`) |
/// | `"rows"` | `(columns, rows, truncated)`: `[(name, type)]`, `[tuple]`, `bool` |
/// | `"answer"` | the `Answer` (last) |
/// | `"error"` | `(code, message, retry_after_secs)` (last) |
///
/// An engine that cannot connect raises its error from the first `next`. `close()`, or
/// dropping the object, cancels the work that remains (the statement running on the database
/// included).
#[pyclass(frozen, module = "conversational_bi._native", name = "AskStream")]
pub struct NativeAskStream {
    events: AskEvents,
}

#[pymethods]
impl NativeAskStream {
    /// The next event, or `None` after the last one (blocking, the GIL released).
    fn next(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let events = self.events.clone();
        match run_blocking(py, async move { events.next().await })? {
            Some(event) => event_to_py(py, event).map(Some),
            None => Ok(None),
        }
    }

    /// The next event, or `None` after the last one (awaitable).
    fn next_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let events = self.events.clone();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            match events.next().await.map_err(into_py_err)? {
                Some(event) => Python::attach(|py| event_to_py(py, event).map(Some)),
                None => Ok(None),
            }
        })
    }

    /// Cancels the work that remains; later reads give `None`. Closing a finished stream does
    /// nothing.
    fn close(&self) {
        self.events.close();
    }
}

/// An event as the `(kind, value)` tuple of [`NativeAskStream`].
fn event_to_py(py: Python<'_>, event: AskEvent) -> PyResult<Py<PyAny>> {
    let (kind, value): (&str, Bound<'_, PyAny>) = match event {
        AskEvent::Stage { stage } => ("stage", stage.into_pyobject(py)?.into_any()),
        AskEvent::Sql { sql } => ("sql", sql.into_pyobject(py)?.into_any()),
        AskEvent::Rows {
            columns,
            rows,
            truncated,
        } => {
            let names = PyList::empty(py);
            for c in &columns {
                names.append(PyTuple::new(py, [c.name.as_str(), c.data_type.as_str()])?)?;
            }
            let rows = convert::rows(py, &rows)?;
            (
                "rows",
                (names, rows, truncated).into_pyobject(py)?.into_any(),
            )
        }
        AskEvent::Answer { answer } => (
            "answer",
            Bound::new(py, NativeAnswer::new(*answer))?.into_any(),
        ),
        AskEvent::Error {
            code,
            message,
            retry_after_secs,
            error,
        } => match error.map(|e| e.into_error()) {
            // The engine's error itself: raised from the loop with every field `ask` gives.
            Some(Ok(e)) => return Err(to_py_err(py, e)),
            _ => (
                "error",
                (code, message, retry_after_secs)
                    .into_pyobject(py)?
                    .into_any(),
            ),
        },
    };
    Ok((kind, value).into_pyobject(py)?.into_any().unbind())
}

fn open(source: ConfigSource, database: Option<String>) -> conversational_bi::Result<LazyEngine> {
    let config = source.load()?;
    let mut builder = Engine::builder().config(config);
    if let Some(url) = database {
        builder = builder.database_url(url);
    }
    builder.build_lazy()
}

/// The core's question: `question` asked by `user` (JSON text, see [`principal`]) in
/// `tenant_id`, continuing `session_id`.
pub(crate) fn make_ask(
    question: String,
    session_id: Option<String>,
    tenant_id: Option<String>,
    user: Option<&str>,
) -> conversational_bi::Result<Ask> {
    let mut ask = Ask::new(question).principal(principal(tenant_id, user)?);
    ask.session_id = session_id;
    Ok(ask)
}

/// An awaitable of `work`'s value as Python data (see [`convert::serialized`]); its error
/// raises the binding's exception.
fn serialized_awaitable<'py, T, F>(py: Python<'py>, work: F) -> PyResult<Bound<'py, PyAny>>
where
    T: serde::Serialize + Send + 'static,
    F: Future<Output = conversational_bi::Result<T>> + Send + 'static,
{
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        let value = work.await.map_err(into_py_err)?;
        Python::attach(|py| convert::serialized(py, &value).map(Bound::unbind))
    })
}

/// `ask` with [`Ask::remove_scope`] set to `remove_scope`, when given: the conversation's last
/// answer without that scope item, as a new turn. The id must have the form of a scope id and
/// the question be empty (checked at once, so that `ask_stream` raises before any event), and
/// the conversation be named: otherwise an `InvalidInput` says what to send. The engine checks
/// the id against the last answer's scope.
pub(crate) fn with_removal(
    ask: Ask,
    remove_scope: Option<String>,
) -> conversational_bi::Result<Ask> {
    let mut ask = ask;
    ask.remove_scope = remove_scope;
    ask.check_removal()?;
    Ok(ask)
}

/// The `limit` of `list_sessions`: an `int` from 1 to [`session::MAX_LIST_LIMIT`] (not a
/// `bool`), or [`session::DEFAULT_LIST_LIMIT`] for `None`; anything else is an `InvalidInput`.
fn list_limit(limit: Option<&Bound<'_, PyAny>>) -> conversational_bi::Result<usize> {
    let Some(limit) = limit.filter(|l| !l.is_none()) else {
        return Ok(session::DEFAULT_LIST_LIMIT);
    };
    let n = if limit.is_instance_of::<PyBool>() {
        None
    } else {
        limit
            .extract::<i64>()
            .ok()
            .and_then(|n| u64::try_from(n).ok())
    };
    let shown = limit
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".into());
    session::check_list_limit(n, &shown)
}

/// The submitter and the core's feedback: `rating` is `up` or `down`; `user` and `tenant_id`
/// as for [`principal`].
fn make_feedback(
    session_id: String,
    turn: u64,
    rating: &str,
    corrected_sql: Option<String>,
    comment: Option<String>,
    tenant_id: Option<String>,
    user: Option<&str>,
) -> conversational_bi::Result<(Principal, FeedbackSubmission)> {
    let rating = Rating::parse(rating).ok_or_else(|| {
        Error::invalid_input(format!("rating must be \"up\" or \"down\", not {rating:?}"))
    })?;
    let principal = principal(tenant_id, user)?;
    let submission = FeedbackSubmission {
        session_id,
        turn,
        rating,
        corrected_sql,
        comment,
    };
    Ok((principal, submission))
}

/// Who asks: `user` is the JSON text of the package's `user=` dict (`{"id", "tenant", "roles",
/// "attributes"}`, every key optional), read by [`Principal::from_json`]; `tenant_id` is the
/// tenant when the dict names none, and naming two different tenants is an `InvalidInput`.
pub(crate) fn principal(
    tenant_id: Option<String>,
    user: Option<&str>,
) -> conversational_bi::Result<Principal> {
    let principal = match user {
        None => Principal::default(),
        Some(json) => {
            let value: serde_json::Value = serde_json::from_str(json)
                .map_err(|e| Error::invalid_input(format!("user: not a JSON value: {e}")))?;
            Principal::from_json(&value)?
        }
    };
    principal.in_tenant(tenant_id, |given| format!("tenant_id=`{given}`"))
}

/// The principal whose schema `schema(user=...)` shows; `None` without a user (the engine's
/// own schema, as before users existed).
fn viewer(user: Option<&str>) -> conversational_bi::Result<Option<Principal>> {
    user.map(|u| principal(None, Some(u))).transpose()
}

/// The schema `user` may see ([`Engine::schema_for`]: the tables its roles grant, without the
/// columns they deny, in its tenant's database), or the engine's schema without a user.
async fn schema_of(
    engine: &LazyEngine,
    user: Option<&Principal>,
) -> conversational_bi::Result<Arc<Catalog>> {
    match user {
        None => engine.schema().await,
        Some(user) => engine.engine().await?.schema_for(user).await,
    }
}

/// The tenant and user id (empty for the default user) that own a conversation.
fn owner(
    tenant_id: Option<String>,
    user: Option<&str>,
) -> conversational_bi::Result<(String, String)> {
    let p = principal(tenant_id, user)?;
    Ok((
        p.tenant_id.unwrap_or_else(|| DEFAULT_TENANT.to_string()),
        p.user_id.unwrap_or_default(),
    ))
}

/// Runs engine work on the shared runtime with the GIL released. A Ctrl-C while it waits
/// cancels the work and raises `KeyboardInterrupt`.
pub(crate) fn run_blocking<F, T>(py: Python<'_>, work: F) -> PyResult<T>
where
    F: Future<Output = conversational_bi::Result<T>> + Send,
    T: Send,
{
    let runtime = pyo3_async_runtimes::tokio::get_runtime();
    let outcome = py.detach(|| runtime.block_on(interruptible(work)))?;
    outcome.map_err(|e| to_py_err(py, e))
}

async fn interruptible<F: Future>(work: F) -> PyResult<F::Output> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            biased;
            out = &mut work => return Ok(out),
            () = tokio::time::sleep(SIGNAL_POLL) => {
                Python::attach(|py| py.check_signals())?;
            }
        }
    }
}
