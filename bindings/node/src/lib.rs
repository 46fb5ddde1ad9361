//! Node.js bindings of the HeliosDB Conversational BI engine: the npm package
//! `@heliosdb/conversational-bi`.
//!
//! One class, `Engine`, whose methods return Promises; answers are plain objects in camelCase;
//! failures are `Error` instances with the engine's stable `code` (see [`error`]). The
//! constructor checks the configuration (throwing `CONFIG` at once) and never touches the
//! database, so that `new Engine()` never blocks the event loop; the first method called
//! connects, and a failed connection is that call's rejection and is tried again by the next
//! call (the core's [`LazyEngine`](conversational_bi::LazyEngine)). `askStream` returns an
//! [`AskStream`], the events of a question read with `for await` (see [`stream`]).

mod answer_js;
mod error;
mod options;
mod stream;
mod types;

use std::future::Future;

use answer_js::AnswerJs;
use conversational_bi::{
    Ask, Engine as CoreEngine, Error as CoreError, FeedbackSubmission, LazyEngine, Rating,
};
use napi::{Env, JsValue, bindgen_prelude::*};
use napi_derive::napi;

pub use options::{
    AskOptions, EngineOptions, FeedbackOptions, ListSessionsOptions, SchemaOptions, TenantOptions,
};
pub use stream::{AskEventObject, AskStream};

// The engine's allocations (parsing SQL allocates a node per token) are served by mimalloc, as
// in the server binary; JavaScript values are V8's, untouched.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
pub use types::{
    Answer, Feedback, Health, Schema, ScopeItem, SessionState, SessionSummary, TenantHealth,
};

/// The tenant of calls that name none (the engine's own default).
const DEFAULT_TENANT: &str = conversational_bi::engine::DEFAULT_TENANT;

/// The engine: ask questions in plain words, refine them over many turns, get safe read-only SQL,
/// an explanation and the result.
#[napi]
pub struct Engine {
    inner: LazyEngine,
}

#[napi]
impl Engine {
    /// Checks the options and the configuration, throwing a `CONFIG` error at once when they
    /// are wrong. The database is connected by the first call (or by `connect()`).
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<EngineOptions>) -> Result<Self> {
        let options = options.unwrap_or_default();
        let lazy = options::config(&options).and_then(|config| {
            let mut builder = CoreEngine::builder().config(config);
            if let Some(url) = options.database_url.filter(|u| !u.trim().is_empty()) {
                builder = builder.database_url(url);
            }
            builder.build_lazy()
        });
        match lazy {
            Ok(inner) => Ok(Self { inner }),
            Err(e) => Err(error::to_js(&env, &e)),
        }
    }

    /// An engine configured by the TOML file at `path`; `options.databaseUrl` still overrides
    /// the file's database.
    #[napi(factory)]
    pub fn from_config(env: Env, path: String, options: Option<EngineOptions>) -> Result<Self> {
        let mut options = options.unwrap_or_default();
        if options.config_path.is_some() || options.config.is_some() {
            return Err(error::to_js(
                &env,
                &CoreError::config(
                    "Engine.fromConfig(path) takes the configuration from `path`: leave `configPath` and `config` out of its options",
                ),
            ));
        }
        options.config_path = Some(path);
        Self::new(env, Some(options))
    }

    /// Connects to the database now rather than at the first call; rejects with the
    /// connection's error (e.g. `DATABASE_UNAVAILABLE`), and the next call tries again.
    /// Optional: every other method connects by itself.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn connect<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let engine = self.inner.clone();
        promise(env, async move { engine.engine().await.map(drop) }, |()| ())
    }

    /// Answers one question. Pass the `sessionId` of an earlier answer to ask a follow-up
    /// ("top 3 instead", "only 2024"). With `removeScope` (the `id` of one of the last answer's
    /// `scope` items) and an empty question, asks for the conversation's last answer without
    /// that part, as a new turn: `ask('', { sessionId, removeScope: 'limit' })`.
    #[napi(
        ts_args_type = "question: string, options?: AskOptions",
        ts_return_type = "Promise<Answer>"
    )]
    pub fn ask<'env>(
        &self,
        env: &'env Env,
        question: Unknown<'env>,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, AnswerJs>> {
        let ask = ask_args(env, question, options);
        let engine = self.inner.clone();
        promise(
            env,
            // The answer's JSON is written here, on the runtime's thread; the JavaScript thread
            // only parses it.
            async move { Ok(AnswerJs::from(engine.ask(ask?).await?)) },
            |answer| answer,
        )
    }

    /// Answers one question as `ask` does (same arguments), yielding its progress while it
    /// works: `{ event: 'stage', stage }` as each stage begins, then `{ event: 'sql', sql }` and
    /// `{ event: 'rows', columns, rows, truncated }`, then `{ event: 'answer', answer }` (the
    /// answer `ask` resolves with) last. Read it with `for await`; a question that fails makes
    /// the loop throw the error `ask` would reject with. Returns at once: the question starts
    /// at the first event read. Leaving the loop early cancels the work that remains, the
    /// statement running on the database included.
    #[napi(ts_args_type = "question: string, options?: AskOptions")]
    pub fn ask_stream(
        &self,
        env: &Env,
        question: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AskStream {
        AskStream::new(self.inner.clone(), ask_args(env, question, options))
    }

    /// The state of a conversation of the user (`options.user`, else the default user): its
    /// turns, oldest first (empty when it does not exist or is another user's).
    #[napi(
        ts_args_type = "sessionId: string, options?: TenantOptions",
        ts_return_type = "Promise<SessionState>"
    )]
    pub fn session<'env>(
        &self,
        env: &'env Env,
        session_id: Unknown<'env>,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, SessionState>> {
        let key = session_args(env, session_id, options);
        let engine = self.inner.clone();
        promise(
            env,
            async move {
                let (tenant, user, session) = key?;
                engine
                    .engine()
                    .await?
                    .user_session(&tenant, &user, &session)
                    .await
            },
            SessionState::from,
        )
    }

    /// Forgets a conversation of the user; the next question with its id starts afresh (another
    /// user's conversation under the same id is left alone).
    #[napi(
        ts_args_type = "sessionId: string, options?: TenantOptions",
        ts_return_type = "Promise<void>"
    )]
    pub fn reset_session<'env>(
        &self,
        env: &'env Env,
        session_id: Unknown<'env>,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let key = session_args(env, session_id, options);
        let engine = self.inner.clone();
        promise(
            env,
            async move {
                let (tenant, user, session) = key?;
                engine
                    .engine()
                    .await?
                    .reset_user_session(&tenant, &user, &session)
                    .await
            },
            |()| (),
        )
    }

    /// The live conversations of the user (`options.user`, else the default user), most
    /// recently given a turn first, at most `options.limit` (1 to 200, default 50): their ids,
    /// titles, times and turn counts, for a sidebar. Another user's conversations are never
    /// listed, nor reset or expired ones. A limit outside 1 to 200 rejects with
    /// `INVALID_INPUT`.
    #[napi(
        ts_args_type = "options?: ListSessionsOptions",
        ts_return_type = "Promise<SessionSummary[]>"
    )]
    pub fn list_sessions<'env>(
        &self,
        env: &'env Env,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, Vec<SessionSummary>>> {
        let args = list_args(env, options);
        let engine = self.inner.clone();
        promise(
            env,
            async move {
                let (limit, tenant, user) = args?;
                engine
                    .engine()
                    .await?
                    .list_user_sessions(&tenant, &user, limit)
                    .await
            },
            |sessions| sessions.into_iter().map(SessionSummary::from).collect(),
        )
    }

    /// Gives a conversation of the user a title, which `listSessions` shows instead of its
    /// first question, and resolves with the conversation as lists show it; with `null` when
    /// the user has no such conversation (it never existed, expired, was reset, or is another
    /// user's: that one is left alone). A title that is empty, over 120 characters or not on
    /// one line rejects with `INVALID_INPUT`. Renaming does not move the conversation up the
    /// list.
    #[napi(
        ts_args_type = "sessionId: string, title: string, options?: TenantOptions",
        ts_return_type = "Promise<SessionSummary | null>"
    )]
    pub fn rename_session<'env>(
        &self,
        env: &'env Env,
        session_id: Unknown<'env>,
        title: Unknown<'env>,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, Option<SessionSummary>>> {
        let args = session_args(env, session_id, options).and_then(|key| {
            let title = string_arg(env, title, "title", "\"Revenue by country\"")?;
            Ok((key, title))
        });
        let engine = self.inner.clone();
        promise(
            env,
            async move {
                let ((tenant, user, session), title) = args?;
                engine
                    .engine()
                    .await?
                    .rename_user_session(&tenant, &user, &session, &title)
                    .await
            },
            |summary| summary.map(SessionSummary::from),
        )
    }

    /// Rates one turn of a conversation of the user: `'up'` when the answer was right,
    /// `'down'` when it was wrong (with `correctedSql`, the SQL that answers the question, and
    /// a `comment`). Resolves with the stored record, which carries the turn's question and
    /// SQL. Rejects with `INVALID_INPUT` for a session the user does not have or a turn it does
    /// not have, and with `SQL_REJECTED` (the validator's reason) for a correction that writes
    /// or reads what the user may not; nothing is stored then. Needs `[feedback]` (by default
    /// an SQLite file, created at the first feedback).
    #[napi(
        ts_args_type = "feedback: FeedbackOptions",
        ts_return_type = "Promise<Feedback>"
    )]
    pub fn feedback<'env>(
        &self,
        env: &'env Env,
        feedback: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Feedback>> {
        let args = feedback_args(env, feedback);
        let engine = self.inner.clone();
        promise(
            env,
            async move {
                let (principal, submission) = args?;
                engine
                    .engine()
                    .await?
                    .feedback(&principal, submission)
                    .await
            },
            Feedback::from,
        )
    }

    /// The schema the engine sees: tables, columns, keys; tables outside `allowed_tables` and
    /// columns in `denied_columns` are left out. With `options.user`, the schema that user may
    /// see: the tables their roles grant, without the columns those roles deny, in the database
    /// of their tenant (a user without any configured role rejects with `INVALID_INPUT`).
    #[napi(
        ts_args_type = "options?: SchemaOptions",
        ts_return_type = "Promise<Schema>"
    )]
    pub fn schema<'env>(
        &self,
        env: &'env Env,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, Schema>> {
        let viewer =
            object_arg::<SchemaOptions>(env, options, "options").and_then(|o| match o.user {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(user) => options::principal(None, Some(&user)).map(Some),
            });
        let engine = self.inner.clone();
        promise(
            env,
            async move {
                match viewer? {
                    None => engine.schema().await,
                    Some(user) => engine.engine().await?.schema_for(&user).await,
                }
            },
            |catalog| Schema::from(catalog.as_ref()),
        )
    }

    /// Checks the database and reports the configured generator, and the database of each
    /// `[tenants.<id>]` (`tenants`, empty without tenants).
    #[napi(ts_return_type = "Promise<Health>")]
    pub fn health<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Health>> {
        let engine = self.inner.clone();
        promise(env, async move { engine.health().await }, Health::from)
    }
}

/// Runs `fut` on the binding's tokio runtime and returns a Promise that resolves with
/// `convert(value)` or rejects with the engine error as built by [`error::to_js`].
fn promise<'env, T, V, F>(
    env: &'env Env,
    fut: F,
    convert: fn(T) -> V,
) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue + 'static,
    F: Future<Output = std::result::Result<T, CoreError>> + Send + 'static,
{
    env.spawn_future_with_callback(
        async move { Ok(fut.await) },
        move |env, outcome| match outcome {
            Ok(value) => Ok(convert(value)),
            Err(e) => Err(error::to_js(env, &e)),
        },
    )
}

/// A string argument, or an `INVALID_INPUT` error naming it and giving an `example`.
fn string_arg(
    env: &Env,
    value: Unknown<'_>,
    name: &str,
    example: &str,
) -> std::result::Result<String, CoreError> {
    if value.get_type().ok() == Some(ValueType::String) {
        // SAFETY: the value was just checked to be a string of this environment.
        if let Ok(s) = unsafe { String::from_napi_value(env.raw(), value.raw()) } {
            return Ok(s);
        }
    }
    Err(CoreError::invalid_input(format!(
        "`{name}` must be a string, e.g. {example}"
    )))
}

/// The example of the error of a question that is not a string.
const QUESTION_EXAMPLE: &str = "\"How many customers are there?\"";

/// The example of the error of a session id that is not a string.
const SESSION_ID_EXAMPLE: &str = "the `sessionId` of an answer";

/// An options object (absent, `undefined` and `null` give the defaults), or an `INVALID_INPUT`
/// error saying which field is wrong.
fn object_arg<T: FromNapiValue + Default>(
    env: &Env,
    value: Option<Unknown<'_>>,
    name: &str,
) -> std::result::Result<T, CoreError> {
    let Some(value) = value else {
        return Ok(T::default());
    };
    match value.get_type() {
        Ok(ValueType::Undefined | ValueType::Null) => Ok(T::default()),
        Ok(ValueType::Object) => {
            // SAFETY: the value is an object of this environment.
            unsafe { T::from_napi_value(env.raw(), value.raw()) }
                .map_err(|e| CoreError::invalid_input(format!("`{name}`: {}", e.reason)))
        }
        _ => Err(CoreError::invalid_input(format!(
            "`{name}` must be an object such as {{ sessionId, tenantId, user }}"
        ))),
    }
}

/// The question of `ask(question, options)` and `askStream(question, options)`, or an
/// `INVALID_INPUT` error saying which argument is wrong.
fn ask_args(
    env: &Env,
    question: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> std::result::Result<Ask, CoreError> {
    let question = string_arg(env, question, "question", QUESTION_EXAMPLE)?;
    let options: AskOptions = object_arg(env, options, "options")?;
    let principal = options::principal(options.tenant_id, options.user.as_ref())?;
    let mut ask = Ask::new(question).principal(principal);
    ask.session_id = options.session_id;
    // Checked here, so that `askStream` rejects its first event at once.
    ask.remove_scope = options.remove_scope;
    ask.check_removal()?;
    Ok(ask)
}

/// The tenant, the user (empty for the default user) and the id of a conversation.
fn session_args(
    env: &Env,
    session_id: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> std::result::Result<(String, String, String), CoreError> {
    let session = string_arg(env, session_id, "sessionId", SESSION_ID_EXAMPLE)?;
    let options: TenantOptions = object_arg(env, options, "options")?;
    let (tenant, user) = owner(options.tenant_id, options.user.as_ref())?;
    Ok((tenant, user, session))
}

/// The tenant and the user id (empty for the default user) of `tenantId` and `user`.
fn owner(
    tenant_id: Option<String>,
    user: Option<&serde_json::Value>,
) -> std::result::Result<(String, String), CoreError> {
    let principal = options::principal(tenant_id, user)?;
    let tenant = principal
        .tenant_id
        .unwrap_or_else(|| DEFAULT_TENANT.to_string());
    Ok((tenant, principal.user_id.unwrap_or_default()))
}

/// The limit, the tenant and the user id of `listSessions(options)`.
fn list_args(
    env: &Env,
    options: Option<Unknown<'_>>,
) -> std::result::Result<(usize, String, String), CoreError> {
    let options: ListSessionsOptions = object_arg(env, options, "options")?;
    let limit = options::list_limit(options.limit)?;
    let (tenant, user) = owner(options.tenant_id, options.user.as_ref())?;
    Ok((limit, tenant, user))
}

/// The submitter and the core's feedback of `engine.feedback(...)`'s argument, or an
/// `INVALID_INPUT` error saying which field is wrong.
fn feedback_args(
    env: &Env,
    value: Unknown<'_>,
) -> std::result::Result<(conversational_bi::Principal, FeedbackSubmission), CoreError> {
    const SHAPE: &str =
        "{ sessionId, turn, rating: 'up' | 'down', correctedSql?, comment?, user? }";
    if value.get_type().ok() != Some(ValueType::Object) {
        return Err(CoreError::invalid_input(format!(
            "`feedback` must be an object such as {SHAPE}"
        )));
    }
    // SAFETY: the value was just checked to be an object of this environment.
    let options = unsafe { FeedbackOptions::from_napi_value(env.raw(), value.raw()) }
        .map_err(|e| CoreError::invalid_input(format!("`feedback`: {} ({SHAPE})", e.reason)))?;
    let rating = Rating::parse(&options.rating).ok_or_else(|| {
        CoreError::invalid_input(format!(
            "`rating` must be 'up' or 'down', not {:?}",
            options.rating
        ))
    })?;
    let principal = options::principal(options.tenant_id, options.user.as_ref())?;
    let submission = FeedbackSubmission {
        session_id: options.session_id,
        turn: u64::from(options.turn),
        rating,
        corrected_sql: options.corrected_sql,
        comment: options.comment,
    };
    Ok((principal, submission))
}
