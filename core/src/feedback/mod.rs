//! Feedback that becomes knowledge: users rate the answers of their conversations (thumbs up or
//! down, optionally with corrected SQL and a comment); admins promote a rated answer, or its
//! correction, to a verified query of the tenant, retire it later, and export the model's
//! verified queries with the promoted ones as semantic-model YAML to keep in version control.
//!
//! Records live in a durable [`FeedbackStore`] (`[feedback]`: an embedded SQLite file by
//! default, or PostgreSQL). Every instance of the engine sees the promoted queries of a tenant
//! within `[feedback] refresh_secs` of a promotion on any other: it reads the tenant's version
//! (one row) at most that often, and reloads the list when the version moved
//! ([`Engine::promoted_verified`](crate::Engine::promoted_verified)).
//!
//! Every SQL that enters the store passes the validator under the submitter's (or promoter's)
//! view: a correction that writes, or reads a table the user may not read, is refused with the
//! validator's reason and nothing is stored.

mod api;
mod store;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

pub use store::FeedbackStore;
#[cfg(feature = "postgres")]
pub use store::PostgresFeedbackStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteFeedbackStore;

use crate::{
    config::{Config, FeedbackStoreKind, Secret},
    error::{Error, Result},
    semantic::{Parameter, VerifiedQuery},
};

/// The largest `limit` of a feedback listing.
pub const MAX_LIST_LIMIT: usize = 1000;
/// The `limit` of a feedback listing that gives none.
pub const DEFAULT_LIST_LIMIT: usize = 100;
/// The longest session id a feedback may name.
pub const MAX_SESSION_ID_LEN: usize = 128;
/// The most paraphrases a promotion may give.
pub const MAX_PARAPHRASES: usize = 50;

/// A rating of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    /// The answer was right.
    Up,
    /// The answer was wrong (a corrected SQL says what it should have been).
    Down,
}

impl Rating {
    /// `up` or `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
        }
    }

    /// The rating named `text` (`up`, `down`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "up" => Some(Self::Up),
            "down" => Some(Self::Down),
            _ => None,
        }
    }
}

/// Where a feedback record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackStatus {
    /// Not looked at yet.
    New,
    /// An admin promoted it to a verified query.
    Promoted,
    /// An admin set it aside.
    Dismissed,
}

impl FeedbackStatus {
    /// `new`, `promoted` or `dismissed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Promoted => "promoted",
            Self::Dismissed => "dismissed",
        }
    }

    /// The status named `text`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "new" => Some(Self::New),
            "promoted" => Some(Self::Promoted),
            "dismissed" => Some(Self::Dismissed),
            _ => None,
        }
    }
}

/// Whether a promoted verified query is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifiedStatus {
    /// In force: matched against questions and exported.
    Active,
    /// Retired by an admin: kept for the record only.
    Retired,
}

impl VerifiedStatus {
    /// `active` or `retired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Retired => "retired",
        }
    }

    /// The status named `text`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "retired" => Some(Self::Retired),
            _ => None,
        }
    }
}

/// What a user says about one turn of one of their conversations. The user and the tenant are
/// the submitter's ([`Engine::feedback`](crate::Engine::feedback) takes them from the
/// principal); the question and the SQL are read from the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackSubmission {
    /// The conversation (one of the submitter's own).
    pub session_id: String,
    /// The turn's number in it (1-based, the `turn` of the answer).
    pub turn: u64,
    /// `up` or `down`.
    pub rating: Rating,
    /// The SQL that answers the question, when the answer was wrong. It must pass the
    /// validator under the submitter's data permissions.
    #[serde(default)]
    pub corrected_sql: Option<String>,
    /// Free text (at most `[feedback] max_comment_chars` characters).
    #[serde(default)]
    pub comment: Option<String>,
}

impl FeedbackSubmission {
    /// A rating of `turn` of `session_id`, without correction or comment.
    pub fn new(session_id: impl Into<String>, turn: u64, rating: Rating) -> Self {
        Self {
            session_id: session_id.into(),
            turn,
            rating,
            corrected_sql: None,
            comment: None,
        }
    }

    /// With a corrected SQL.
    pub fn corrected_sql(mut self, sql: impl Into<String>) -> Self {
        self.corrected_sql = Some(sql.into());
        self
    }

    /// With a comment.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }
}

/// One stored feedback record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// Its id (a UUID).
    pub id: String,
    /// The tenant of the conversation.
    pub tenant_id: String,
    /// The user who gave it (empty for an embedded engine's default user).
    pub user_id: String,
    /// The conversation.
    pub session_id: String,
    /// The turn rated.
    pub turn: u64,
    /// `up` or `down`.
    pub rating: Rating,
    /// The turn's question.
    pub question: String,
    /// The turn's SQL (the answer rated).
    pub sql: String,
    /// The user's corrected SQL, validated under their data permissions.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub corrected_sql: Option<String>,
    /// The user's comment.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comment: Option<String>,
    /// `new`, `promoted` or `dismissed`.
    pub status: FeedbackStatus,
    /// When it was given (RFC 3339, UTC, microseconds).
    pub created_at: String,
}

impl Feedback {
    /// The SQL that answers the question by this feedback: the correction when there is one,
    /// else the rated SQL of a thumbs-up; `None` for a thumbs-down without correction (or a
    /// turn without SQL).
    pub fn golden_sql(&self) -> Option<&str> {
        match (&self.corrected_sql, self.rating) {
            (Some(c), _) => Some(c),
            (None, Rating::Up) if !self.sql.trim().is_empty() => Some(&self.sql),
            _ => None,
        }
    }
}

/// Which feedback records to list. The tenant is given apart (an admin lists their own
/// tenant's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedbackFilter {
    /// Only this rating.
    pub rating: Option<Rating>,
    /// Only this status.
    pub status: Option<FeedbackStatus>,
    /// Only this user's.
    pub user_id: Option<String>,
    /// Only those given at or after this time (RFC 3339, or a date `YYYY-MM-DD`).
    pub since: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<usize>,
}

impl FeedbackFilter {
    /// The number of records to return.
    pub fn limit(&self) -> usize {
        self.limit
            .unwrap_or(DEFAULT_LIST_LIMIT)
            .clamp(1, MAX_LIST_LIMIT)
    }
}

/// Which SQL of a feedback record a promotion makes verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromoteSource {
    /// The answer's SQL (of a thumbs-up).
    Answer,
    /// The user's corrected SQL.
    Correction,
}

/// An admin's promotion of a feedback record to a verified query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Promotion {
    /// Which SQL: default the correction when there is one, else the answer (a thumbs-down
    /// without correction cannot be promoted).
    pub source: Option<PromoteSource>,
    /// The question as the verified query states it, with `{name}` where a parameter goes
    /// (default: the turn's question).
    pub question: Option<String>,
    /// The SQL with `:name` where a parameter goes, replacing the chosen one (for
    /// parameters); checked like it.
    pub sql: Option<String>,
    /// Other ways to ask it.
    pub paraphrases: Vec<String>,
    /// Typed parameters.
    pub parameters: Vec<Parameter>,
}

/// A verified query promoted from feedback (or given by an admin), as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromotedQuery {
    /// Its id (a UUID).
    pub id: String,
    /// The tenant it serves.
    pub tenant_id: String,
    /// The feedback it came from.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub feedback_id: Option<String>,
    /// The verified query (question, paraphrases, parameters, SQL, who and when).
    pub query: VerifiedQuery,
    /// `active` or `retired`.
    pub status: VerifiedStatus,
    /// The tenant's version when it last changed.
    pub version: i64,
    /// Who retired it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retired_by: Option<String>,
    /// When (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retired_at: Option<String>,
}

/// Where the store is, from `[feedback]`.
#[derive(Debug, Clone)]
enum Location {
    Sqlite(PathBuf),
    /// `None`: `store = "postgres"` without a URL (refused when the store is opened).
    Postgres(Option<Secret>),
}

/// The engine's part of feedback: the store (opened at first use, so that an engine that never
/// takes feedback creates no file) and the promoted queries per tenant.
#[derive(Debug)]
pub(crate) struct FeedbackHub {
    location: Location,
    refresh: Duration,
    pub(crate) max_comment_chars: usize,
    pub(crate) max_sql_bytes: usize,
    store: tokio::sync::OnceCell<Arc<dyn FeedbackStore>>,
    promoted: Mutex<HashMap<String, Promoted>>,
}

/// The version kept while there is no store: no store's version (they start at 0).
const NO_STORE: i64 = -1;

#[derive(Debug, Clone)]
struct Promoted {
    version: i64,
    checked: Instant,
    queries: Arc<Vec<VerifiedQuery>>,
}

impl FeedbackHub {
    /// The hub of `config`'s `[feedback]`, with `store` instead of the configured one when
    /// given.
    pub(crate) fn new(config: &Config, store: Option<Arc<dyn FeedbackStore>>) -> Self {
        let f = &config.feedback;
        let location = match f.store {
            FeedbackStoreKind::Postgres => Location::Postgres(f.url.clone()),
            FeedbackStoreKind::Sqlite => Location::Sqlite(config.feedback_path()),
        };
        Self {
            location,
            refresh: Duration::from_secs(f.refresh_secs.max(1)),
            max_comment_chars: f.max_comment_chars,
            max_sql_bytes: f.max_sql_bytes,
            store: match store {
                Some(s) => tokio::sync::OnceCell::new_with(Some(s)),
                None => tokio::sync::OnceCell::new(),
            },
            promoted: Mutex::new(HashMap::new()),
        }
    }

    /// The store, opened (and its tables created) at the first call.
    pub(crate) async fn store(&self) -> Result<&Arc<dyn FeedbackStore>> {
        self.store.get_or_try_init(|| open(&self.location)).await
    }

    /// The store when it exists: an SQLite file not created yet holds nothing, and is not
    /// created by reading.
    async fn existing_store(&self) -> Result<Option<&Arc<dyn FeedbackStore>>> {
        if let Some(s) = self.store.get() {
            return Ok(Some(s));
        }
        if let Location::Sqlite(path) = &self.location
            && !path.exists()
        {
            return Ok(None);
        }
        self.store().await.map(Some)
    }

    /// Forgets the cached promoted queries of `tenant_id` (after a change made here).
    pub(crate) fn invalidate(&self, tenant_id: &str) {
        if let Ok(mut map) = self.promoted.lock() {
            map.remove(tenant_id);
        }
    }

    /// The active promoted queries of `tenant_id`, read again from the store when its version
    /// moved (checked at most every `refresh_secs`).
    pub(crate) async fn promoted(&self, tenant_id: &str) -> Result<Arc<Vec<VerifiedQuery>>> {
        let cached = self
            .promoted
            .lock()
            .ok()
            .and_then(|m| m.get(tenant_id).cloned());
        if let Some(c) = &cached
            && c.checked.elapsed() < self.refresh
        {
            return Ok(c.queries.clone());
        }
        // No store yet (no feedback was ever given): nothing is promoted, and the answer is kept
        // like any other, so that the ask path does not look for the file on every question.
        let (version, queries) = match self.existing_store().await? {
            None => (NO_STORE, Arc::new(Vec::new())),
            Some(store) => {
                let version = store.verified_version(tenant_id).await?;
                let queries = match cached {
                    Some(c) if c.version == version => c.queries,
                    _ => Arc::new(
                        store
                            .list_verified(tenant_id, true)
                            .await?
                            .into_iter()
                            .map(|p| p.query)
                            .collect(),
                    ),
                };
                (version, queries)
            }
        };
        if let Ok(mut map) = self.promoted.lock() {
            map.insert(
                tenant_id.to_string(),
                Promoted {
                    version,
                    checked: Instant::now(),
                    queries: queries.clone(),
                },
            );
        }
        Ok(queries)
    }
}

async fn open(location: &Location) -> Result<Arc<dyn FeedbackStore>> {
    match location {
        Location::Sqlite(path) => {
            #[cfg(feature = "sqlite")]
            {
                Ok(Arc::new(SqliteFeedbackStore::open(path).await?))
            }
            #[cfg(not(feature = "sqlite"))]
            {
                let _ = path;
                Err(crate::features::missing(
                    "sqlite",
                    "[feedback] store = \"sqlite\" (the default)",
                    "set [feedback] store = \"postgres\" with its url",
                ))
            }
        }
        Location::Postgres(None) => Err(Error::config(
            "[feedback] store = \"postgres\" needs the postgres:// URL of the database that keeps the feedback: set [feedback] url",
        )),
        Location::Postgres(Some(url)) => {
            #[cfg(feature = "postgres")]
            {
                Ok(Arc::new(
                    PostgresFeedbackStore::connect(url.expose()).await?,
                ))
            }
            #[cfg(not(feature = "postgres"))]
            {
                let _ = url;
                Err(crate::features::missing(
                    "postgres",
                    "[feedback] store = \"postgres\"",
                    "use the default SQLite file ([feedback] store = \"sqlite\")",
                ))
            }
        }
    }
}

/// Now, as the store writes times (RFC 3339, UTC, microseconds: records given one after the
/// other sort in that order).
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// `since` as the store's time format, so that times compare as text; a date is its midnight
/// (UTC).
pub(crate) fn normalize_since(since: &str) -> Result<String> {
    let since = since.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(since) {
        return Ok(t
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(since, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    }
    Err(Error::invalid_input(format!(
        "since {since:?} is not a time: write RFC 3339 (2026-01-31T12:00:00Z) or a date (2026-01-31)"
    )))
}

/// Whether `id` has the form of the store's ids (a UUID), so that a bad id is told apart from
/// an unknown one.
pub fn is_id(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok() && id.len() == 36
}

#[cfg(test)]
mod tests;
