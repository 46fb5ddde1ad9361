//! The options of `new Engine(options)` and how they become the engine's configuration.

use conversational_bi::{
    Config, Error as CoreError, Principal,
    config::{ConfigSources, Interface},
    session,
};
use napi_derive::napi;

/// How to build an engine. Every field is optional: `new Engine()` answers on the built-in demo
/// database with the offline generator.
#[napi(object)]
#[derive(Default)]
pub struct EngineOptions {
    /// The database to query (`sqlite:///path.db`, `postgres://...`, `mysql://...`); overrides
    /// `[database] url` and `DATABASE_URL`.
    pub database_url: Option<String>,
    /// A configuration file (the runbook's TOML); the environment overrides it as documented.
    pub config_path: Option<String>,
    /// The configuration inline: TOML text, or an object with the file's sections and keys as
    /// written in the file (snake_case), e.g. `{ llm: { provider: 'rule' }, database: { max_rows: 100 } }`.
    /// Exclusive with `configPath`.
    #[napi(ts_type = "string | Record<string, unknown>")]
    pub config: Option<serde_json::Value>,
}

/// Options of one question.
#[napi(object)]
#[derive(Default)]
pub struct AskOptions {
    /// The conversation to continue (the `sessionId` of an earlier answer); a new one is started
    /// when absent.
    pub session_id: Option<String>,
    /// The tenant asking; the user's `tenant`, else `default`, when absent.
    pub tenant_id: Option<String>,
    /// Who asks: the conversation is theirs (no other user can continue it), and the roles of
    /// `[access]` decide which rows and columns the answer shows. The engine's default user
    /// when absent.
    #[napi(ts_type = "User")]
    pub user: Option<serde_json::Value>,
    /// Instead of a question, the conversation's last answer without one of its parts: the `id`
    /// of one of that answer's `scope` items (`filter:0`, `group:1`, `order`, `limit`, ...).
    /// Needs `sessionId` and an empty question; the answer is a new turn of the conversation.
    /// An id that names no part of the last answer rejects with `INVALID_INPUT`, and nothing
    /// runs.
    pub remove_scope: Option<String>,
}

/// Options of `listSessions`: how many conversations, and whose.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ListSessionsOptions {
    /// At most this many conversations, the most recent: a whole number from 1 to 200 (default
    /// 50).
    pub limit: Option<f64>,
    /// The tenant; the user's `tenant`, else `default`, when absent.
    pub tenant_id: Option<String>,
    /// The user whose conversations are listed (only `id` and `tenant` matter here); the
    /// engine's default user when absent.
    #[napi(ts_type = "User")]
    pub user: Option<serde_json::Value>,
}

/// The `limit` option of `listSessions`: a whole number from 1 to
/// [`session::MAX_LIST_LIMIT`], or [`session::DEFAULT_LIST_LIMIT`] when absent; anything else
/// is an `INVALID_INPUT` error.
pub fn list_limit(limit: Option<f64>) -> Result<usize, CoreError> {
    let Some(n) = limit else {
        return Ok(session::DEFAULT_LIST_LIMIT);
    };
    // Only a whole number in range passes, and those convert exactly.
    let whole = (n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n)).then_some(n as u64);
    session::check_list_limit(whole, &n.to_string())
}

/// Options that pick a conversation's owner: a tenant and a user.
#[napi(object)]
#[derive(Default)]
pub struct TenantOptions {
    /// The tenant; the user's `tenant`, else `default`, when absent.
    pub tenant_id: Option<String>,
    /// The user whose conversation it is (only `id` and `tenant` matter here); the engine's
    /// default user when absent.
    #[napi(ts_type = "User")]
    pub user: Option<serde_json::Value>,
}

/// What a user says about one turn of one of their conversations (`engine.feedback(...)`).
#[napi(object, object_to_js = false)]
pub struct FeedbackOptions {
    /// The conversation (the `sessionId` of the answer rated); one of the user's own.
    pub session_id: String,
    /// The turn rated (the `turn` of the answer, 1-based).
    pub turn: u32,
    /// `'up'` (the answer was right) or `'down'` (it was wrong).
    #[napi(ts_type = "'up' | 'down'")]
    pub rating: String,
    /// The SQL that answers the question, when the answer was wrong; it must pass the
    /// validator under the user's data permissions (`SQL_REJECTED` otherwise).
    pub corrected_sql: Option<String>,
    /// Free text (at most `[feedback] max_comment_chars` characters).
    pub comment: Option<String>,
    /// The tenant; the user's `tenant`, else `default`, when absent.
    pub tenant_id: Option<String>,
    /// Who rates: the conversation must be theirs. The engine's default user when absent.
    #[napi(ts_type = "User")]
    pub user: Option<serde_json::Value>,
}

/// Options of `schema`.
#[napi(object)]
#[derive(Default)]
pub struct SchemaOptions {
    /// Whose schema: the tables their roles grant, without the columns those roles deny, in the
    /// database of their tenant. The engine's own schema when absent.
    #[napi(ts_type = "User")]
    pub user: Option<serde_json::Value>,
}

/// Who asks: the `user` option (`{ id, tenant, roles, attributes }`, every key optional) read by
/// [`Principal::from_json`], in `tenantId` when the user names no tenant. A tenant in both that
/// differs is an `INVALID_INPUT` error.
pub fn principal(
    tenant_id: Option<String>,
    user: Option<&serde_json::Value>,
) -> Result<Principal, CoreError> {
    let principal = match user {
        None | Some(serde_json::Value::Null) => Principal::default(),
        Some(user) => Principal::from_json(user)?,
    };
    principal.in_tenant(tenant_id, |given| format!("`tenantId` `{given}`"))
}

/// Resolves the configuration `options` describe through the core's one entry point,
/// [`Config::from_sources`]: the file or the inline configuration, then the environment
/// variables, with the defaults of an embedded engine (no rate limit unless configured).
pub fn config(options: &EngineOptions) -> Result<Config, CoreError> {
    let sources = ConfigSources::new(Interface::Embedded);
    let sources = match (&options.config_path, &options.config) {
        (Some(_), Some(_)) => {
            return Err(CoreError::config(
                "pass either `configPath` (a file) or `config` (inline), not both",
            ));
        }
        (Some(path), None) => sources.file(path),
        (None, Some(serde_json::Value::String(toml))) => sources.toml(toml.clone()),
        (None, Some(object @ serde_json::Value::Object(_))) => {
            sources.json_overrides(object.clone())?
        }
        (None, Some(other)) => {
            return Err(CoreError::config(format!(
                "`config` must be TOML text or an object of the configuration file's sections (e.g. {{ llm: {{ provider: 'rule' }} }}), not {}",
                kind_of(other)
            )));
        }
        (None, None) => sources,
    };
    Config::from_sources(sources)
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
