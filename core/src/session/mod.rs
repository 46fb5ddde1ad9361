//! Conversations: the structured state of each session, kept per tenant and user.
//!
//! A session is a list of turns (question, SQL, result shape, generator, time), not a text blob,
//! so that follow-up questions can build on the SQL of earlier turns. Keys are scoped by tenant
//! and by user: one tenant can never read another's session, nor one user another user's of the
//! same tenant, even with the same session id. The library, which serves one user, uses the
//! default user (`user_id: None`); the HTTP server uses the login name of the token (`sub`).

mod memory;
#[cfg(feature = "redis")]
mod redis;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use memory::MemorySessionStore;
#[cfg(feature = "redis")]
pub use redis::RedisSessionStore;

use crate::{
    config::{Config, StoreKind},
    error::Result,
    store::RedisConnection,
};

/// Identifies one conversation of one user of one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionKey {
    /// The tenant that owns the session.
    pub tenant_id: String,
    /// The user who started the session; `None` for the default user of the library (an
    /// embedded engine serves one user). Never `Some("")`: see [`SessionKey::for_user`].
    #[serde(default)]
    pub user_id: Option<String>,
    /// The session's id, unique within the tenant and user.
    pub session_id: String,
}

impl SessionKey {
    /// A key for `session_id` of the default user of `tenant_id`.
    pub fn new(tenant_id: impl Into<String>, session_id: impl Into<String>) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            user_id: None,
            session_id: session_id.into(),
        }
    }

    /// A key for `session_id` of `user_id` in `tenant_id`. An empty user id is the default
    /// user.
    pub fn for_user(
        tenant_id: impl Into<String>,
        user_id: impl Into<String>,
        session_id: impl Into<String>,
    ) -> Self {
        Self {
            user_id: normalize_user(user_id.into()),
            ..Self::new(tenant_id, session_id)
        }
    }
}

/// `None` for an empty user id (the default user), else the id.
fn normalize_user(user_id: String) -> Option<String> {
    (!user_id.is_empty()).then_some(user_id)
}

/// One question of a conversation: answered with SQL, answered with a question back
/// (`clarification`), or not answered ([`Turn::unanswered`]: no SQL, the reason in
/// `explanation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// 1-based turn number within the session (assigned by the store).
    pub turn: u64,
    /// The question as asked (after the input guard).
    pub question: String,
    /// The SQL that answered it (empty when none did).
    pub sql: String,
    /// What the SQL does, or why the question was not answered.
    pub explanation: String,
    /// Names of the result's columns.
    pub columns: Vec<String>,
    /// Rows returned.
    pub row_count: usize,
    /// The generator that wrote the SQL.
    pub generator: String,
    /// When the turn was answered (RFC 3339).
    pub at: String,
    /// The generator's own structured form of the query, when it has one (used to patch the
    /// query on follow-ups).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state: Option<serde_json::Value>,
    /// The question back, when this turn asked which reading was meant (its `sql` is empty);
    /// the next turn continues it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub clarification: Option<crate::answer::Clarification>,
}

/// The state of one conversation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SessionState {
    /// The owning tenant.
    pub tenant_id: String,
    /// The owning user; absent for the default user of the library.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_id: Option<String>,
    /// The session id.
    pub session_id: String,
    /// The most recent turns, oldest first (at most `max_turns`, within `max_context_size`).
    pub turns: Vec<Turn>,
    /// Turns answered over the whole life of the session, including those no longer kept.
    pub turn_count: u64,
}

impl SessionState {
    /// An empty session.
    pub fn new(key: &SessionKey) -> Self {
        Self {
            tenant_id: key.tenant_id.clone(),
            user_id: key.user_id.clone(),
            session_id: key.session_id.clone(),
            turns: Vec::new(),
            turn_count: 0,
        }
    }

    /// The approximate size of the kept context, in bytes.
    pub fn context_bytes(&self) -> usize {
        self.turns.iter().map(turn_bytes).sum()
    }

    /// Appends `turn` with the next turn number, then drops the oldest turns beyond
    /// `max_turns` or `max_bytes` (the newest turn is always kept). Returns the number given.
    pub fn push(&mut self, mut turn: Turn, max_turns: usize, max_bytes: usize) -> u64 {
        self.turn_count += 1;
        turn.turn = self.turn_count;
        self.turns.push(turn);
        let excess = self.turns.len().saturating_sub(max_turns.max(1));
        self.turns.drain(..excess);
        while self.turns.len() > 1 && self.context_bytes() > max_bytes {
            self.turns.remove(0);
        }
        self.turn_count
    }
}

impl Turn {
    /// A question the engine could not answer (the generator abstained with `reason`): kept in
    /// the conversation with no SQL, so that a next turn that refers back ("how many are
    /// there?") is not read against an older answer the asker has moved on from.
    pub fn unanswered(
        question: impl Into<String>,
        reason: impl Into<String>,
        generator: impl Into<String>,
    ) -> Self {
        Self {
            turn: 0,
            question: question.into(),
            sql: String::new(),
            explanation: reason.into(),
            columns: Vec::new(),
            row_count: 0,
            generator: generator.into(),
            at: rfc3339(chrono::Utc::now()),
            state: None,
            clarification: None,
        }
    }

    /// Whether the turn was not answered (no SQL, and no question back).
    pub fn is_unanswered(&self) -> bool {
        self.sql.is_empty() && self.clarification.is_none()
    }

    /// The approximate size of the turn in a session's context, in bytes.
    pub fn context_bytes(&self) -> usize {
        turn_bytes(self)
    }
}

fn turn_bytes(t: &Turn) -> usize {
    t.question.len()
        + t.sql.len()
        + t.explanation.len()
        + t.columns.iter().map(String::len).sum::<usize>()
        + t.generator.len()
        + t.at.len()
        + t.state.as_ref().map_or(0, |s| s.to_string().len())
        + 32
}

/// Bounds of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Turns kept per session.
    pub max_turns: usize,
    /// Bytes of context kept per session.
    pub max_context_size: usize,
    /// Sessions kept at once.
    pub max_sessions: u64,
    /// Idle time after which a session is dropped.
    pub idle_timeout: std::time::Duration,
    /// Interval of the sweep of expired sessions.
    pub cleanup_interval: std::time::Duration,
}

impl SessionLimits {
    /// The limits of `config`'s `[session]` and `[production.security]` sections.
    pub fn from_config(config: &crate::Config) -> Self {
        Self {
            max_turns: config.session.max_turns,
            max_context_size: config.production.security.max_context_size,
            max_sessions: config.session.max_concurrent_sessions,
            idle_timeout: std::time::Duration::from_secs(
                config.session.session_timeout_minutes * 60,
            ),
            cleanup_interval: std::time::Duration::from_secs(
                config.session.cleanup_interval_minutes * 60,
            ),
        }
    }
}

/// The session store `config` asks for (`[session] store`): in memory, or in Redis through
/// `redis`.
pub fn from_config(
    config: &Config,
    redis: Option<&RedisConnection>,
) -> Result<std::sync::Arc<dyn SessionStore>> {
    let limits = SessionLimits::from_config(config);
    Ok(match config.session_store() {
        StoreKind::Memory => std::sync::Arc::new(MemorySessionStore::new(limits)),
        StoreKind::Redis => {
            let redis = crate::store::redis_for("[session] store = \"redis\"", redis)?;
            #[cfg(not(feature = "redis"))]
            match *redis {}
            #[cfg(feature = "redis")]
            {
                std::sync::Arc::new(RedisSessionStore::new(redis.clone(), limits))
            }
        }
    })
}

/// Where conversations live.
#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    /// The session's state; an empty state when it does not exist (or expired).
    async fn load(&self, key: &SessionKey) -> Result<SessionState>;

    /// Appends a turn atomically: concurrent appends to one session are all kept, each with
    /// its own turn number. Returns the state after the append.
    async fn append(&self, key: &SessionKey, turn: Turn) -> Result<SessionState>;

    /// Forgets the session (and its title: it leaves the user's list).
    async fn reset(&self, key: &SessionKey) -> Result<()>;

    /// The live conversations of `user_id` (`None`: the default user) in `tenant_id`, most
    /// recently updated (given a turn) first, at most `limit`. Another user's or another
    /// tenant's conversations are never listed, nor expired or reset ones. Listing does not
    /// keep a conversation alive.
    ///
    /// The default implementation, for stores written before listing existed, refuses with a
    /// configuration error.
    async fn list(
        &self,
        tenant_id: &str,
        user_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SessionSummary>> {
        let _ = (tenant_id, user_id, limit);
        Err(unsupported("list conversations"))
    }

    /// The summary of one conversation; `None` when it does not exist (or expired). Does not
    /// keep it alive.
    ///
    /// The default implementation looks the session up in [`SessionStore::list`].
    async fn summary(&self, key: &SessionKey) -> Result<Option<SessionSummary>> {
        let all = self
            .list(&key.tenant_id, key.user_id.as_deref(), usize::MAX)
            .await?;
        Ok(all.into_iter().find(|s| s.session_id == key.session_id))
    }

    /// Sets the title of the conversation (kept as long as the conversation, replacing the
    /// default title, its first question); `false` when the conversation does not exist (never
    /// existed, expired or was reset: nothing is stored then). Renaming counts as use of the
    /// conversation (its idle timeout starts again) but does not move it up the list. The
    /// title is stored as given: [`check_title`] is for the callers.
    ///
    /// The default implementation, for stores written before titles existed, refuses with a
    /// configuration error.
    async fn rename(&self, key: &SessionKey, title: &str) -> Result<bool> {
        let _ = (key, title);
        Err(unsupported("rename conversations"))
    }
}

fn unsupported(what: &str) -> crate::Error {
    crate::Error::config(format!(
        "this session store cannot {what}: implement SessionStore::list, summary and rename for it, or use [session] store = \"memory\" or \"redis\""
    ))
}

/// What a list of conversations (a sidebar) shows of one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The session id (to continue, read, rename or delete the conversation).
    pub session_id: String,
    /// The title the user gave it, else its first question (at most
    /// [`MAX_DEFAULT_TITLE_CHARS`] characters of it).
    pub title: String,
    /// When its first turn was saved (RFC 3339, UTC, milliseconds).
    pub created_at: String,
    /// When its last turn was saved (RFC 3339, UTC, milliseconds).
    pub updated_at: String,
    /// Turns answered over its whole life (as [`SessionState::turn_count`]).
    pub turn_count: u64,
}

/// Conversations a list gives when the caller names no limit.
pub const DEFAULT_LIST_LIMIT: usize = 50;

/// Most conversations one list gives.
pub const MAX_LIST_LIMIT: usize = 200;

/// The limit of a conversation list: `limit` when it is a number from 1 to [`MAX_LIST_LIMIT`];
/// otherwise (`None`: not a whole number) an [`Error::InvalidInput`](crate::Error::InvalidInput)
/// that shows `shown`, the limit as the caller wrote it (cut to 32 characters).
pub fn check_list_limit(limit: Option<u64>, shown: &str) -> Result<usize> {
    limit
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| (1..=MAX_LIST_LIMIT).contains(n))
        .ok_or_else(|| {
            crate::Error::invalid_input(format!(
                "limit {} is not a whole number from 1 to {MAX_LIST_LIMIT}; leave it out for the {DEFAULT_LIST_LIMIT} most recent conversations",
                shown.chars().take(32).collect::<String>()
            ))
        })
}

/// Longest title a user can give a conversation, in characters.
pub const MAX_TITLE_CHARS: usize = 120;

/// Longest default title (the first question, shortened), in characters.
pub const MAX_DEFAULT_TITLE_CHARS: usize = 80;

/// The title a user asked for, trimmed; refused (with what to do) when it is empty, longer than
/// [`MAX_TITLE_CHARS`] characters, or holds a control character (line break, tab, ...) or an
/// invisible bidirectional override that would make a list show something else than stored.
pub fn check_title(title: &str) -> Result<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(crate::Error::invalid_input(format!(
            "the title is empty; send 1 to {MAX_TITLE_CHARS} characters, e.g. \"Revenue by country\""
        )));
    }
    let chars = title.chars().count();
    if chars > MAX_TITLE_CHARS {
        return Err(crate::Error::invalid_input(format!(
            "the title is {chars} characters long; shorten it to at most {MAX_TITLE_CHARS}"
        )));
    }
    if let Some((at, c)) = title.chars().enumerate().find(|(_, c)| hidden(*c)) {
        return Err(crate::Error::invalid_input(format!(
            "the title holds a control or invisible formatting character (U+{:04X}, character {}); send it on one line of visible characters",
            u32::from(c),
            at + 1
        )));
    }
    Ok(title.to_string())
}

/// Control characters, and the bidirectional embeddings, overrides and isolates.
fn hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The title of a conversation the user has not named: its first question on one line (runs of
/// whitespace and control characters become one space), shortened to
/// [`MAX_DEFAULT_TITLE_CHARS`] characters with `…` when longer.
pub fn default_title(question: &str) -> String {
    let line = question
        .split(|c: char| c.is_whitespace() || hidden(c))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match line.char_indices().nth(MAX_DEFAULT_TITLE_CHARS - 1) {
        Some((end, _)) if line.chars().count() > MAX_DEFAULT_TITLE_CHARS => {
            format!("{}…", line[..end].trim_end())
        }
        _ => line,
    }
}

/// `at` as an RFC 3339 time (UTC, milliseconds), as [`Turn::at`].
pub(crate) fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn turn(q: &str) -> Turn {
        Turn {
            turn: 0,
            question: q.into(),
            sql: format!("SELECT '{q}'"),
            explanation: String::new(),
            columns: vec!["x".into()],
            row_count: 1,
            generator: "test".into(),
            at: "2026-01-01T00:00:00Z".into(),
            state: None,
            clarification: None,
        }
    }

    #[test]
    fn push_numbers_turns_and_keeps_the_last_ones() {
        let mut s = SessionState::new(&SessionKey::new("t", "s"));
        for i in 0..12 {
            s.push(turn(&format!("q{i}")), 10, usize::MAX);
        }
        assert_eq!(s.turn_count, 12);
        assert_eq!(s.turns.len(), 10);
        assert_eq!(s.turns[0].question, "q2");
        assert_eq!(s.turns[9].turn, 12);
    }

    #[test]
    fn default_titles_are_the_first_question_on_one_line_and_short() {
        assert_eq!(
            default_title("  How many\n\tcustomers? "),
            "How many customers?"
        );
        let long = "é".repeat(200);
        let title = default_title(&long);
        assert_eq!(title.chars().count(), MAX_DEFAULT_TITLE_CHARS);
        assert!(title.ends_with('…'), "{title}");
        let exact = "x".repeat(MAX_DEFAULT_TITLE_CHARS);
        assert_eq!(default_title(&exact), exact, "not shortened when it fits");
        assert_eq!(default_title("a\u{202E}b\u{0}c"), "a b c");
    }

    #[test]
    fn titles_are_trimmed_and_checked() {
        assert_eq!(check_title("  Revenue 2024 ").expect("ok"), "Revenue 2024");
        let unicode = "Umsätze «Q1» {tag} *:\"'".to_string();
        assert_eq!(check_title(&unicode).expect("ok"), unicode);
        assert_eq!(
            check_title(&"ü".repeat(MAX_TITLE_CHARS)).expect("120 characters fit"),
            "ü".repeat(MAX_TITLE_CHARS)
        );
        for (bad, says) in [
            ("   ", "empty"),
            (&*"x".repeat(MAX_TITLE_CHARS + 1), "121 characters"),
            ("two\nlines", "U+000A"),
            ("tab\there", "U+0009"),
            ("evil\u{202E}txt", "U+202E"),
        ] {
            let e = check_title(bad).expect_err(bad);
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad:?}");
            assert!(e.to_string().contains(says), "{bad:?}: {e}");
        }
    }

    #[test]
    fn push_respects_the_byte_budget_but_keeps_the_newest_turn() {
        let mut s = SessionState::new(&SessionKey::new("t", "s"));
        s.push(turn("a"), 10, 150);
        s.push(turn("b"), 10, 150);
        assert!(s.context_bytes() <= 150 || s.turns.len() == 1);
        s.push(turn(&"x".repeat(500)), 10, 150);
        assert_eq!(s.turns.len(), 1);
        assert_eq!(s.turns[0].turn, 3);
    }
}
