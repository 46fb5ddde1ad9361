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
mod types;

use std::{
    future::Future,
    sync::{Arc, LazyLock},
};

use conversational_bi::{
    Ask, Config, Engine as CoreEngine, Error as CoreError, LazyEngine,
    config::{ConfigSources, Interface},
};

pub use error::{ConversationalBiError, error_code};
pub use principal::Principal;
pub use types::{
    Answer, Attempt, CellValue, Chart, Feedback, FeedbackStatus, FeedbackSubmission, ForeignKey,
    Health, Rating, ResultColumnInfo, Schema, SchemaColumn, SchemaTable, SessionState,
    TenantHealth, Turn,
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
    #[uniffi::method(default(session_id = None, tenant_id = None, user = None))]
    pub async fn ask(
        &self,
        question: String,
        session_id: Option<String>,
        tenant_id: Option<String>,
        user: Option<Principal>,
    ) -> Result<Answer, ConversationalBiError> {
        let engine = self.lazy();
        let mut ask = Ask::new(question).principal(principal::principal(tenant_id, user)?);
        ask.session_id = session_id;
        run(async move { engine.ask(ask).await.map(Answer::from) }).await
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
