//! The in-process session store (moka): idle timeout, capacity, periodic cleanup.
//!
//! Each conversation keeps, besides its turns, what a list of conversations shows: its title
//! (the user's, else its first question), when it began and when it was last given a turn.
//! Listing visits the held sessions and keeps the caller's own.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moka::future::Cache;
use tokio::sync::Mutex;

use super::{
    SessionKey, SessionLimits, SessionState, SessionStore, SessionSummary, Turn, default_title,
    rfc3339,
};
use crate::error::Result;

/// One held conversation.
#[derive(Debug)]
struct Conversation {
    state: SessionState,
    /// The title the user gave it.
    title: Option<String>,
    /// The default title: its first question.
    first: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The store's append counter at the last turn: orders conversations updated within one
    /// clock tick (or while the clock went back).
    updated_seq: u64,
}

impl Conversation {
    fn summary(&self) -> SessionSummary {
        SessionSummary {
            session_id: self.state.session_id.clone(),
            title: self.title.clone().unwrap_or_else(|| self.first.clone()),
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
            turn_count: self.state.turn_count,
        }
    }
}

/// Sessions in this process's memory.
#[derive(Clone)]
pub struct MemorySessionStore {
    sessions: Cache<SessionKey, Arc<Mutex<Conversation>>>,
    limits: SessionLimits,
    /// Appends so far, shared by the clones.
    appends: Arc<AtomicU64>,
    /// Alive while any clone of this store is; the sweep task stops when it is gone.
    _sweep_guard: Option<Arc<()>>,
}

/// Shows sizes only: the conversations of every tenant stay out of logs.
impl std::fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySessionStore")
            .field("sessions", &self.sessions.entry_count())
            .field("limits", &self.limits)
            .finish()
    }
}

impl MemorySessionStore {
    /// A store with `limits`. When called inside a tokio runtime, a task sweeps expired sessions
    /// every `cleanup_interval`; it stops when the store is dropped.
    pub fn new(limits: SessionLimits) -> Self {
        let sessions = Cache::builder()
            .max_capacity(limits.max_sessions)
            .time_to_idle(limits.idle_timeout)
            .build();
        let appends = Arc::new(AtomicU64::new(0));
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return Self {
                sessions,
                limits,
                appends,
                _sweep_guard: None,
            };
        };
        let guard = Arc::new(());
        let alive = Arc::downgrade(&guard);
        let swept = sessions.clone();
        let interval = limits
            .cleanup_interval
            .max(std::time::Duration::from_secs(1));
        handle.spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.tick().await;
            loop {
                tick.tick().await;
                if alive.upgrade().is_none() {
                    break;
                }
                swept.run_pending_tasks().await;
            }
        });
        Self {
            sessions,
            limits,
            appends,
            _sweep_guard: Some(guard),
        }
    }

    /// Sessions currently held (after pending evictions).
    pub async fn len(&self) -> u64 {
        self.sessions.run_pending_tasks().await;
        self.sessions.entry_count()
    }

    /// Whether no session is held.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn load(&self, key: &SessionKey) -> Result<SessionState> {
        match self.sessions.get(key).await {
            Some(s) => Ok(s.lock().await.state.clone()),
            None => Ok(SessionState::new(key)),
        }
    }

    async fn append(&self, key: &SessionKey, turn: Turn) -> Result<SessionState> {
        let cell = self
            .sessions
            .get_with(key.clone(), async {
                let now = Utc::now();
                Arc::new(Mutex::new(Conversation {
                    state: SessionState::new(key),
                    title: None,
                    first: default_title(&turn.question),
                    created_at: now,
                    updated_at: now,
                    updated_seq: 0,
                }))
            })
            .await;
        let mut c = cell.lock().await;
        c.state
            .push(turn, self.limits.max_turns, self.limits.max_context_size);
        c.updated_at = Utc::now().max(c.created_at);
        c.updated_seq = self.appends.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(c.state.clone())
    }

    async fn reset(&self, key: &SessionKey) -> Result<()> {
        self.sessions.invalidate(key).await;
        Ok(())
    }

    async fn list(
        &self,
        tenant_id: &str,
        user_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SessionSummary>> {
        let user_id = user_id.filter(|u| !u.is_empty());
        // The iterator skips expired sessions and does not reset their idle time.
        let mine: Vec<_> = self
            .sessions
            .iter()
            .filter(|(k, _)| k.tenant_id == tenant_id && k.user_id.as_deref() == user_id)
            .map(|(_, v)| v)
            .collect();
        let mut listed = Vec::with_capacity(mine.len());
        for cell in mine {
            let c = cell.lock().await;
            listed.push((c.updated_seq, c.summary()));
        }
        listed.sort_by_key(|s| std::cmp::Reverse(s.0));
        Ok(listed.into_iter().take(limit).map(|(_, s)| s).collect())
    }

    async fn summary(&self, key: &SessionKey) -> Result<Option<SessionSummary>> {
        // `get` would count as use of the session: find it as listing does.
        let cell = self
            .sessions
            .iter()
            .find(|(k, _)| **k == *key)
            .map(|(_, v)| v);
        match cell {
            Some(cell) => Ok(Some(cell.lock().await.summary())),
            None => Ok(None),
        }
    }

    async fn rename(&self, key: &SessionKey, title: &str) -> Result<bool> {
        match self.sessions.get(key).await {
            Some(cell) => {
                cell.lock().await.title = Some(title.to_string());
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::session::{SessionSummary, tests::turn};

    fn limits() -> SessionLimits {
        SessionLimits {
            max_turns: 10,
            max_context_size: 1_000_000,
            max_sessions: 100,
            idle_timeout: Duration::from_secs(60),
            cleanup_interval: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn debug_shows_no_conversation() {
        let store = MemorySessionStore::new(limits());
        store
            .append(
                &SessionKey::new("acme", "s1"),
                turn("secret revenue question"),
            )
            .await
            .expect("append");
        let debug = format!("{store:?}");
        assert!(
            !debug.contains("secret revenue") && !debug.contains("acme"),
            "{debug}"
        );
    }

    #[tokio::test]
    async fn tenants_never_see_each_others_sessions() {
        let store = MemorySessionStore::new(limits());
        let a = SessionKey::new("acme", "s1");
        let b = SessionKey::new("globex", "s1");
        store
            .append(&a, turn("acme question"))
            .await
            .expect("append");
        assert_eq!(store.load(&a).await.expect("load").turns.len(), 1);
        let other = store.load(&b).await.expect("load");
        assert!(other.turns.is_empty());
        assert_eq!(other.tenant_id, "globex");
        store.reset(&a).await.expect("reset");
        assert!(store.load(&a).await.expect("load").turns.is_empty());
    }

    #[tokio::test]
    async fn users_of_one_tenant_never_see_each_others_sessions() {
        let store = MemorySessionStore::new(limits());
        let ana = SessionKey::for_user("acme", "ana", "s1");
        let carl = SessionKey::for_user("acme", "carl", "s1");
        store
            .append(&ana, turn("ana question"))
            .await
            .expect("append");
        let seen = store.load(&carl).await.expect("load");
        assert!(seen.turns.is_empty() && seen.turn_count == 0);
        assert_eq!(seen.user_id.as_deref(), Some("carl"));
        let default_user = store
            .load(&SessionKey::new("acme", "s1"))
            .await
            .expect("load");
        assert!(default_user.turns.is_empty());
        store.reset(&carl).await.expect("reset");
        assert_eq!(store.load(&ana).await.expect("load").turn_count, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_lose_no_turn() {
        let store = MemorySessionStore::new(limits());
        let key = SessionKey::new("t", "s");
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let store = store.clone();
                let key = key.clone();
                tokio::spawn(async move {
                    store
                        .append(&key, turn(&format!("q{i}")))
                        .await
                        .map(|s| s.turn_count)
                })
            })
            .collect();
        let mut numbers = Vec::new();
        for t in tasks {
            numbers.push(t.await.expect("join").expect("append"));
        }
        numbers.sort_unstable();
        assert_eq!(
            numbers,
            (1..=50).collect::<Vec<u64>>(),
            "every append got its own turn number"
        );
        let state = store.load(&key).await.expect("load");
        assert_eq!(state.turn_count, 50);
        assert_eq!(state.turns.len(), 10);
    }

    #[tokio::test]
    async fn list_shows_the_users_own_sessions_most_recent_first() {
        let store = MemorySessionStore::new(limits());
        let ana = |s: &str| SessionKey::for_user("acme", "ana", s);
        store
            .append(&ana("s1"), turn("How many customers are there?"))
            .await
            .expect("append");
        store
            .append(&ana("s2"), turn("Revenue by country"))
            .await
            .expect("append");
        store
            .append(&SessionKey::for_user("acme", "carl", "c1"), turn("carl's"))
            .await
            .expect("append");
        store
            .append(&SessionKey::for_user("globex", "ana", "g1"), turn("globex"))
            .await
            .expect("append");
        store
            .append(&SessionKey::new("acme", "d1"), turn("default user's"))
            .await
            .expect("append");
        let ids = |l: &[SessionSummary]| l.iter().map(|s| s.session_id.clone()).collect::<Vec<_>>();

        let listed = store.list("acme", Some("ana"), 50).await.expect("list");
        assert_eq!(ids(&listed), ["s2", "s1"]);
        assert_eq!(listed[1].title, "How many customers are there?");
        assert_eq!(listed[1].turn_count, 1);
        assert!(listed[1].created_at <= listed[0].created_at);

        // A new turn moves s1 up; its title stays its first question.
        store
            .append(&ana("s1"), turn("only in Germany"))
            .await
            .expect("append");
        let listed = store.list("acme", Some("ana"), 50).await.expect("list");
        assert_eq!(ids(&listed), ["s1", "s2"]);
        assert_eq!(listed[0].title, "How many customers are there?");
        assert_eq!(listed[0].turn_count, 2);
        assert!(listed[0].updated_at >= listed[0].created_at);
        assert_eq!(
            ids(&store.list("acme", Some("ana"), 1).await.expect("list")),
            ["s1"]
        );
        assert!(
            store
                .list("acme", Some("ana"), 0)
                .await
                .expect("list")
                .is_empty()
        );

        assert_eq!(
            ids(&store.list("acme", None, 50).await.expect("list")),
            ["d1"]
        );
        assert_eq!(
            ids(&store.list("acme", Some(""), 50).await.expect("list")),
            ["d1"],
            "the empty user is the default user"
        );
        assert_eq!(
            ids(&store.list("globex", Some("ana"), 50).await.expect("list")),
            ["g1"]
        );
        assert!(
            store
                .list("initech", Some("ana"), 50)
                .await
                .expect("list")
                .is_empty()
        );

        store.reset(&ana("s1")).await.expect("reset");
        assert_eq!(
            ids(&store.list("acme", Some("ana"), 50).await.expect("list")),
            ["s2"]
        );
    }

    #[tokio::test]
    async fn rename_sets_the_title_of_existing_sessions_only() {
        let store = MemorySessionStore::new(limits());
        let key = SessionKey::for_user("acme", "ana", "s1");
        assert!(!store.rename(&key, "nothing").await.expect("rename"));
        assert!(store.summary(&key).await.expect("summary").is_none());
        store
            .append(&key, turn(&"long ".repeat(40)))
            .await
            .expect("append");
        let before = store.summary(&key).await.expect("summary").expect("exists");
        assert_eq!(
            before.title.chars().count(),
            crate::session::MAX_DEFAULT_TITLE_CHARS
        );
        assert!(before.title.ends_with('…'));

        assert!(
            store
                .rename(&key, "Umsätze {Q1} *:\"'")
                .await
                .expect("rename")
        );
        let after = store.summary(&key).await.expect("summary").expect("exists");
        assert_eq!(after.title, "Umsätze {Q1} *:\"'");
        assert_eq!(
            after.updated_at, before.updated_at,
            "renaming is not a turn"
        );
        assert_eq!(
            store.list("acme", Some("ana"), 5).await.expect("list"),
            [after]
        );
        assert!(
            !store
                .rename(&SessionKey::for_user("acme", "carl", "s1"), "mine")
                .await
                .expect("rename"),
            "another user's session is not found"
        );
        store.append(&key, turn("next")).await.expect("append");
        assert_eq!(
            store
                .summary(&key)
                .await
                .expect("summary")
                .expect("exists")
                .title,
            "Umsätze {Q1} *:\"'",
            "a title outlives new turns"
        );
        store.reset(&key).await.expect("reset");
        store.append(&key, turn("anew")).await.expect("append");
        assert_eq!(
            store
                .summary(&key)
                .await
                .expect("summary")
                .expect("exists")
                .title,
            "anew",
            "a reset forgets the title"
        );
    }

    #[tokio::test]
    async fn expired_sessions_are_not_listed() {
        let store = MemorySessionStore::new(SessionLimits {
            idle_timeout: Duration::from_millis(50),
            ..limits()
        });
        let key = SessionKey::for_user("t", "u", "s");
        store.append(&key, turn("q")).await.expect("append");
        assert_eq!(store.list("t", Some("u"), 10).await.expect("list").len(), 1);
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(
            store
                .list("t", Some("u"), 10)
                .await
                .expect("list")
                .is_empty()
        );
        assert!(store.summary(&key).await.expect("summary").is_none());
        assert!(!store.rename(&key, "late").await.expect("rename"));
    }

    #[tokio::test]
    async fn idle_sessions_expire() {
        let store = MemorySessionStore::new(SessionLimits {
            idle_timeout: Duration::from_millis(50),
            ..limits()
        });
        let key = SessionKey::new("t", "s");
        store.append(&key, turn("q")).await.expect("append");
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(store.load(&key).await.expect("load").turns.is_empty());
        assert!(store.is_empty().await);
    }
}
