//! The in-process session store (moka): idle timeout, capacity, periodic cleanup.

use std::sync::Arc;

use async_trait::async_trait;
use moka::future::Cache;
use tokio::sync::Mutex;

use super::{SessionKey, SessionLimits, SessionState, SessionStore, Turn};
use crate::error::Result;

/// Sessions in this process's memory.
#[derive(Clone)]
pub struct MemorySessionStore {
    sessions: Cache<SessionKey, Arc<Mutex<SessionState>>>,
    limits: SessionLimits,
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
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return Self {
                sessions,
                limits,
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
            Some(s) => Ok(s.lock().await.clone()),
            None => Ok(SessionState::new(key)),
        }
    }

    async fn append(&self, key: &SessionKey, turn: Turn) -> Result<SessionState> {
        let cell = self
            .sessions
            .get_with(key.clone(), async {
                Arc::new(Mutex::new(SessionState::new(key)))
            })
            .await;
        let mut state = cell.lock().await;
        state.push(turn, self.limits.max_turns, self.limits.max_context_size);
        Ok(state.clone())
    }

    async fn reset(&self, key: &SessionKey) -> Result<()> {
        self.sessions.invalidate(key).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::session::tests::turn;

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
