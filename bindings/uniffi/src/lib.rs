//! UniFFI bindings of the HeliosDB Conversational BI engine, for Kotlin (Android), Swift (iOS)
//! and Python. The foreign sources are generated from this crate's compiled library with the
//! `uniffi-bindgen` tool of `tools/uniffi-bindgen`.
//!
//! One object, [`Engine`], with async methods; answers and schemas are records; failures are
//! one error enum, [`ConversationalBiError`], with a variant per stable error code.
//!
//! The engine's work runs on a tokio runtime owned by this library, never on the caller's
//! thread: an app may call from its UI thread or dispatcher without blocking it.

mod error;
mod principal;
mod stream;
mod types;

use std::{
    future::Future,
    sync::{Arc, LazyLock},
};

use conversational_bi::{
    Ask, Config, Engine as CoreEngine, Error as CoreError, LazyEngine,
    config::{ConfigSources, Interface},
    session,
};

pub use error::{ConversationalBiError, error_code};
pub use principal::Principal;
pub use stream::{AskEvent, AskStream};
pub use types::{
    Answer, Attempt, CellValue, Chart, Feedback, FeedbackStatus, FeedbackSubmission, ForeignKey,
    Health, Rating, ResultColumnInfo, Schema, SchemaColumn, SchemaTable, ScopeItem, ScopeKind,
    SessionState, SessionSummary, TenantHealth, Turn,
};

uniffi::setup_scaffolding!();

/// The tenant of calls that name none.
const DEFAULT_TENANT: &str = conversational_bi::engine::DEFAULT_TENANT;

/// The runtime every engine of the process runs on.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("conversational-bi")
        .enable_all()
        .build()
        .expect("the tokio runtime of the conversational-bi bindings cannot start")
});

/// Runs `fut` on the library's runtime and waits for it from whatever executor polls the
/// caller (a Kotlin coroutine, a Swift task, Python's asyncio).
async fn run<T, F>(fut: F) -> Result<T, ConversationalBiError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, CoreError>> + Send + 'static,
{
    match RUNTIME.spawn(fut).await {
        Ok(outcome) => outcome.map_err(Into::into),
        Err(e) => Err(ConversationalBiError::Internal {
            reason: format!("the engine task failed: {e}"),
        }),
    }
}

/// The tenant and the user id (empty for the default user) that own a conversation.
fn owner(
    tenant_id: Option<String>,
    user: Option<Principal>,
) -> Result<(String, String), ConversationalBiError> {
    let p = principal::principal(tenant_id, user)?;
    Ok((
        p.tenant_id.unwrap_or_else(|| DEFAULT_TENANT.into()),
        p.user_id.unwrap_or_default(),
    ))
}

/// The question of `ask`: `question` asked by `principal`, continuing `session_id`; with
/// `remove_scope`, the conversation's last answer without that scope item. A removal must come
/// with an empty question, a scope id of the right form and the conversation's `session_id`
/// (an `InvalidInput` says what to send otherwise); the engine checks the id against the last
/// answer's scope.
fn make_ask(
    question: String,
    session_id: Option<String>,
    principal: conversational_bi::Principal,
    remove_scope: Option<String>,
) -> Result<Ask, CoreError> {
    let mut ask = Ask::new(question).principal(principal);
    ask.session_id = session_id;
    ask.remove_scope = remove_scope;
    ask.check_removal()?;
    Ok(ask)
}

/// The `limit` of `list_sessions`, checked: 1 to [`session::MAX_LIST_LIMIT`], else an
/// `InvalidInput`.
fn list_limit(limit: u32) -> Result<usize, CoreError> {
    session::check_list_limit(Some(u64::from(limit)), &limit.to_string())
}

/// The engine: ask questions in plain words, refine them over many turns, get safe read-only
/// SQL, an explanation and the result.
///
/// The constructors check the configuration at once and never touch the database, so they are
/// safe on the main thread; the first call connects (or `connect()`), and a failed connection
/// is that call's error and is tried again by the next call.
#[derive(uniffi::Object)]
pub struct Engine {
    inner: LazyEngine,
}

impl Engine {
    /// An engine of the configuration `sources` assemble (with an embedded engine's defaults:
    /// no rate limit unless configured) on `database_url` when given.
    fn start(
        sources: ConfigSources,
        database_url: Option<String>,
    ) -> Result<Arc<Self>, ConversationalBiError> {
        let mut builder = CoreEngine::builder().config(Config::from_sources(sources)?);
        if let Some(url) = database_url.filter(|u| !u.trim().is_empty()) {
            builder = builder.database_url(url);
        }
        Ok(Arc::new(Self {
            inner: builder.build_lazy()?,
        }))
    }

    fn lazy(&self) -> LazyEngine {
        self.inner.clone()
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// An engine on `database_url` (`sqlite:///path.db`, `postgres://...`, `mysql://...`), or
    /// on the built-in demo database when it is `None` and `DATABASE_URL` is unset, configured
    /// by the defaults and the environment variables.
    #[uniffi::constructor(default(database_url = None))]
    pub fn new(database_url: Option<String>) -> Result<Arc<Self>, ConversationalBiError> {
        Self::start(ConfigSources::new(Interface::Embedded), database_url)
    }

    /// An engine configured by the TOML file at `path` (the runbook's format; environment
    /// variables override it); `database_url`, when given, overrides the file's database.
    #[uniffi::constructor(default(database_url = None))]
    pub fn from_config(
        path: String,
        database_url: Option<String>,
    ) -> Result<Arc<Self>, ConversationalBiError> {
        Self::start(
            ConfigSources::new(Interface::Embedded).file(path),
            database_url,
        )
    }

    /// An engine configured by TOML text (the runbook's format, e.g. a file bundled with the
    /// app); environment variables override it and `database_url`, when given, the database.
    #[uniffi::constructor(default(database_url = None))]
    pub fn from_toml(
        toml: String,
        database_url: Option<String>,
    ) -> Result<Arc<Self>, ConversationalBiError> {
        Self::start(
            ConfigSources::new(Interface::Embedded).toml(toml),
            database_url,
        )
    }

    /// Connects to the database now rather than at the first call; fails with the
    /// connection's error (e.g. `DatabaseUnavailable`), and the next call tries again.
    /// Optional: every other method connects by itself.
    pub async fn connect(&self) -> Result<(), ConversationalBiError> {
        let engine = self.lazy();
        run(async move { engine.engine().await.map(drop) }).await
    }

    /// Answers one question. Pass the `session_id` of an earlier answer to ask a follow-up
    /// ("top 3 instead", "only 2024"); `tenant_id` defaults to the user's tenant, else
    /// `default`. `user` is who asks: the conversation is theirs, and their roles decide which
    /// rows and columns the answer shows; the engine's default user when absent.
    ///
    /// `remove_scope`, instead of a question, asks for the conversation's last answer without
    /// one of its parts: the `id` of one of that answer's `scope` items (`filter:0`, `group:1`,
    /// `order`, `limit`, ...), with an empty question and the conversation's `session_id`. The
    /// answer is a new turn of the conversation (saved as `without "top 5"`), and follow-ups
    /// continue from it. An id that names no part of the last answer is `InvalidInput`, and
    /// nothing runs.
    #[uniffi::method(default(session_id = None, tenant_id = None, user = None, remove_scope = None))]
    pub async fn ask(
        &self,
        question: String,
        session_id: Option<String>,
        tenant_id: Option<String>,
        user: Option<Principal>,
        remove_scope: Option<String>,
    ) -> Result<Answer, ConversationalBiError> {
        let engine = self.lazy();
        let principal = principal::principal(tenant_id, user)?;
        let ask = make_ask(question, session_id, principal, remove_scope)?;
        run(async move { engine.ask(ask).await.map(Answer::from) }).await
    }

    /// The events of a question as it is answered: its stages, then the SQL and the rows as
    /// soon as they exist, then the answer (arguments as [`Engine::ask`]). Returns at once:
    /// the first `next()` starts the question. A question that cannot be made (a bad `user`,
    /// a malformed removal) is this call's `InvalidInput`.
    #[uniffi::method(default(session_id = None, tenant_id = None, user = None, remove_scope = None))]
    pub fn ask_stream(
        &self,
        question: String,
        session_id: Option<String>,
        tenant_id: Option<String>,
        user: Option<Principal>,
        remove_scope: Option<String>,
    ) -> Result<Arc<AskStream>, ConversationalBiError> {
        let principal = principal::principal(tenant_id, user)?;
        let ask = make_ask(question, session_id, principal, remove_scope)?;
        Ok(Arc::new(AskStream::new(self.inner.ask_events(ask))))
    }

    /// The state of a conversation of `user` (the default user when absent): its turns, oldest
    /// first (empty when it does not exist or is another user's).
    #[uniffi::method(default(tenant_id = None, user = None))]
    pub async fn session(
        &self,
        session_id: String,
        tenant_id: Option<String>,
        user: Option<Principal>,
    ) -> Result<SessionState, ConversationalBiError> {
        let lazy = self.lazy();
        let (tenant, user) = owner(tenant_id, user)?;
        run(async move {
            let engine = lazy.engine().await?;
            engine
                .user_session(&tenant, &user, &session_id)
                .await
                .map(SessionState::from)
        })
        .await
    }

    /// Forgets a conversation of `user`; the next question with its id starts afresh (another
    /// user's conversation under the same id is left alone).
    #[uniffi::method(default(tenant_id = None, user = None))]
    pub async fn reset_session(
        &self,
        session_id: String,
        tenant_id: Option<String>,
        user: Option<Principal>,
    ) -> Result<(), ConversationalBiError> {
        let lazy = self.lazy();
        let (tenant, user) = owner(tenant_id, user)?;
        run(async move {
            let engine = lazy.engine().await?;
            engine.reset_user_session(&tenant, &user, &session_id).await
        })
        .await
    }

    /// The live conversations of `user` (the default user when absent), most recently given a
    /// turn first, at most `limit` (1 to 200, default 50): their ids, titles, times and turn
    /// counts, for a sidebar. Another user's conversations are never listed, nor reset or
    /// expired ones. A limit outside 1 to 200 is `InvalidInput`.
    #[uniffi::method(default(limit = 50, tenant_id = None, user = None))]
    pub async fn list_sessions(
        &self,
        limit: u32,
        tenant_id: Option<String>,
        user: Option<Principal>,
    ) -> Result<Vec<SessionSummary>, ConversationalBiError> {
        let lazy = self.lazy();
        let limit = list_limit(limit)?;
        let (tenant, user) = owner(tenant_id, user)?;
        run(async move {
            let engine = lazy.engine().await?;
            let sessions = engine.list_user_sessions(&tenant, &user, limit).await?;
            Ok(sessions.into_iter().map(SessionSummary::from).collect())
        })
        .await
    }

    /// Gives a conversation of `user` a title, which `list_sessions` shows instead of its first
    /// question, and returns the conversation as lists show it; `None` when the user has no
    /// such conversation (it never existed, expired, was reset, or is another user's: that one
    /// is left alone). A title that is empty, over 120 characters or not on one line is
    /// `InvalidInput`. Renaming does not move the conversation up the list.
    #[uniffi::method(default(tenant_id = None, user = None))]
    pub async fn rename_session(
        &self,
        session_id: String,
        title: String,
        tenant_id: Option<String>,
        user: Option<Principal>,
    ) -> Result<Option<SessionSummary>, ConversationalBiError> {
        let lazy = self.lazy();
        let (tenant, user) = owner(tenant_id, user)?;
        run(async move {
            let engine = lazy.engine().await?;
            let renamed = engine
                .rename_user_session(&tenant, &user, &session_id, &title)
                .await?;
            Ok(renamed.map(SessionSummary::from))
        })
        .await
    }

    /// Rates one turn of a conversation of `user` (the default user when absent): `Up` when
    /// the answer was right, `Down` when it was wrong (with `corrected_sql`, the SQL that
    /// answers the question, and a `comment`). Returns the stored record, which carries the
    /// turn's question and SQL. Fails with `InvalidInput` for a session the user does not have
    /// or a turn it does not have, and with `SqlRejected` (the validator's reason) for a
    /// correction that writes or reads what the user may not; nothing is stored then. The
    /// records are kept where `[feedback]` says (by default an SQLite file, created at the
    /// first feedback).
    #[uniffi::method(default(user = None))]
    pub async fn feedback(
        &self,
        submission: FeedbackSubmission,
        user: Option<Principal>,
    ) -> Result<Feedback, ConversationalBiError> {
        let lazy = self.lazy();
        let principal = principal::principal(None, user)?;
        run(async move {
            let engine = lazy.engine().await?;
            engine
                .feedback(&principal, submission.into())
                .await
                .map(Feedback::from)
        })
        .await
    }

    /// The schema the engine sees: tables, columns, keys; tables outside `allowed_tables` and
    /// columns in `denied_columns` are left out. With `user`, the schema that user may see: the
    /// tables their roles grant, without the columns those roles deny, in the database of their
    /// tenant (a user without any configured role fails with `InvalidInput`).
    #[uniffi::method(default(user = None))]
    pub async fn schema(&self, user: Option<Principal>) -> Result<Schema, ConversationalBiError> {
        let lazy = self.lazy();
        let user = user
            .map(|user| principal::principal(None, Some(user)))
            .transpose()?;
        run(async move {
            let catalog = match user {
                None => lazy.schema().await?,
                Some(user) => lazy.engine().await?.schema_for(&user).await?,
            };
            Ok(Schema::from(catalog.as_ref()))
        })
        .await
    }

    /// Checks the database and reports the configured generator, and the database of each
    /// `[tenants.<id>]` (`tenants`, empty without tenants).
    pub async fn health(&self) -> Result<Health, ConversationalBiError> {
        let engine = self.lazy();
        run(async move { engine.health().await.map(Health::from) }).await
    }
}

#[cfg(test)]
mod tests {
    use conversational_bi::ErrorKind;

    use super::*;

    #[test]
    fn a_list_limit_is_1_to_200() {
        assert_eq!(list_limit(1).expect("1"), 1);
        assert_eq!(list_limit(200).expect("200"), 200);
        for bad in [0, 201, u32::MAX] {
            let e = list_limit(bad).expect_err("out of range");
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(
                e.to_string()
                    .contains(&format!("limit {bad} is not a whole number from 1 to 200")),
                "{e}"
            );
        }
    }

    #[test]
    fn a_removal_needs_a_session_and_no_question() {
        let ask = make_ask("".into(), Some("s".into()), Default::default(), None).expect("ask");
        assert_eq!(ask.remove_scope, None);
        let ask = make_ask(
            "".into(),
            Some("s".into()),
            Default::default(),
            Some("limit".into()),
        )
        .expect("a removal");
        assert_eq!(ask.remove_scope.as_deref(), Some("limit"));
        for (question, session, id, says) in [
            ("", None, "limit", "pass that conversation's session_id too"),
            ("top 3", Some("s"), "limit", "not both"),
            (
                "",
                Some("s"),
                "'; DROP TABLE x; --",
                "is not a scope item's id",
            ),
        ] {
            let e = make_ask(
                question.into(),
                session.map(Into::into),
                Default::default(),
                Some(id.into()),
            )
            .expect_err(says);
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(e.to_string().contains(says), "{e}");
        }
    }
}
