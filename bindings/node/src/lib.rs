//! Node.js bindings of the HeliosDB Conversational BI engine: the npm package
//! `@heliosdb/conversational-bi`.
//!
//! One class, `Engine`, whose methods return Promises; answers are plain objects in camelCase;
//! failures are `Error` instances with the engine's stable `code` (see [`error`]). The engine
//! connects in the background from the constructor on, so that `new Engine()` never blocks the
//! event loop; every method waits for the connection, and a failed connection is tried again
//! by the next call.

mod answer_js;
mod error;
mod options;
mod types;

use std::{future::Future, sync::Arc};

use answer_js::AnswerJs;
use conversational_bi::{Ask, Config, Engine as CoreEngine, Error as CoreError};
use napi::{Env, JsValue, bindgen_prelude::*};
use napi_derive::napi;

pub use options::{AskOptions, EngineOptions, TenantOptions};

// The engine's allocations (parsing SQL allocates a node per token) are served by mimalloc, as
// in the server binary; JavaScript values are V8's, untouched.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
pub use types::{Answer, Health, Schema, SessionState};

/// The tenant of calls that name none (the engine's own default).
const DEFAULT_TENANT: &str = conversational_bi::engine::DEFAULT_TENANT;

/// The engine: ask questions in plain words, refine them over many turns, get safe read-only SQL,
/// an explanation and the result.
#[napi]
pub struct Engine {
    shared: Arc<Shared>,
}

/// What every copy of an engine shares: the resolved configuration and the engine once connected.
struct Shared {
    config: Config,
    database_url: Option<String>,
    engine: tokio::sync::OnceCell<CoreEngine>,
}

impl Shared {
    /// The connected engine; connects first when needed. A failure leaves the cell empty, so
    /// the next call tries again.
    async fn engine(&self) -> std::result::Result<CoreEngine, CoreError> {
        self.engine
            .get_or_try_init(|| async {
                let mut builder = CoreEngine::builder().config(self.config.clone());
                if let Some(url) = &self.database_url {
                    builder = builder.database_url(url.clone());
                }
                builder.build().await
            })
            .await
            .cloned()
    }
}

#[napi]
impl Engine {
    /// Checks the options and the configuration (throwing a `CONFIG` error at once when they are
    /// wrong) and starts connecting to the database in the background.
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<EngineOptions>) -> Result<Self> {
        let options = options.unwrap_or_default();
        let config = options::config(&options).map_err(|e| error::to_js(&env, &e))?;
        let shared = Arc::new(Shared {
            config,
            database_url: options.database_url.filter(|u| !u.trim().is_empty()),
            engine: tokio::sync::OnceCell::new(),
        });
        let warm = shared.clone();
        // Connect now rather than at the first question; an error here is reported by the
        // first call, which tries again.
        napi::bindgen_prelude::spawn(async move {
            let _ = warm.engine().await;
        });
        Ok(Self { shared })
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

    /// Waits until the engine is connected to its database; rejects with the connection's error
    /// (e.g. `DATABASE_UNAVAILABLE`). Optional: every other method waits by itself.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn connect<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let shared = self.shared.clone();
        promise(
            env,
            async move { shared.engine().await.map(|_| ()) },
            |()| (),
        )
    }

    /// Answers one question. Pass the `sessionId` of an earlier answer to ask a follow-up
    /// ("top 3 instead", "only 2024").
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
        let ask = string_arg(env, question, "question").and_then(|q| {
            let options: AskOptions = object_arg(env, options, "options")?;
            let mut ask = Ask::new(q);
            ask.session_id = options.session_id;
            ask.tenant_id = options.tenant_id;
            Ok(ask)
        });
        let shared = self.shared.clone();
        promise(
            env,
            // The answer's JSON is written here, on the runtime's thread; the JavaScript thread
            // only parses it.
            async move { Ok(AnswerJs::from(shared.engine().await?.ask(ask?).await?)) },
            |answer| answer,
        )
    }

    /// The state of a conversation: its turns, oldest first (empty when it does not exist).
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
        let shared = self.shared.clone();
        promise(
            env,
            async move {
                let (tenant, session) = key?;
                shared.engine().await?.session(&tenant, &session).await
            },
            SessionState::from,
        )
    }

    /// Forgets a conversation; the next question with its id starts afresh.
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
        let shared = self.shared.clone();
        promise(
            env,
            async move {
                let (tenant, session) = key?;
                shared
                    .engine()
                    .await?
                    .reset_session(&tenant, &session)
                    .await
            },
            |()| (),
        )
    }

    /// The schema the engine sees: tables, columns, keys; tables outside `allowed_tables` and
    /// columns in `denied_columns` are left out.
    #[napi(ts_return_type = "Promise<Schema>")]
    pub fn schema<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Schema>> {
        let shared = self.shared.clone();
        promise(
            env,
            async move { Ok(shared.engine().await?.schema()) },
            |catalog| Schema::from(catalog.as_ref()),
        )
    }

    /// Checks the database and reports the configured generator.
    #[napi(ts_return_type = "Promise<Health>")]
    pub fn health<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Health>> {
        let shared = self.shared.clone();
        promise(
            env,
            async move { Ok(shared.engine().await?.health().await) },
            Health::from,
        )
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

/// A string argument, or an `INVALID_INPUT` error naming it.
fn string_arg(env: &Env, value: Unknown<'_>, name: &str) -> std::result::Result<String, CoreError> {
    if value.get_type().ok() == Some(ValueType::String) {
        // SAFETY: the value was just checked to be a string of this environment.
        if let Ok(s) = unsafe { String::from_napi_value(env.raw(), value.raw()) } {
            return Ok(s);
        }
    }
    Err(CoreError::invalid_input(format!(
        "`{name}` must be a string, e.g. \"How many customers are there?\""
    )))
}

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
            "`{name}` must be an object such as {{ sessionId, tenantId }}"
        ))),
    }
}

fn session_args(
    env: &Env,
    session_id: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> std::result::Result<(String, String), CoreError> {
    let session = string_arg(env, session_id, "sessionId")?;
    let options: TenantOptions = object_arg(env, options, "options")?;
    let tenant = options
        .tenant_id
        .unwrap_or_else(|| DEFAULT_TENANT.to_string());
    Ok((tenant, session))
}
