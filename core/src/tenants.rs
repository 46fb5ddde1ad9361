//! The database of each tenant: `[tenants.<id>]` sources, connected on first use, and the
//! `[database]` source of every tenant without an entry.
//!
//! A tenant's source is a whole [`DataSource`] of its own (its catalog, validator and value
//! index), opened with the engine's configuration (row caps, timeouts, `allowed_tables`,
//! `denied_columns`, access) and the tenant's URL and `pool_size`. The first ask of a tenant
//! connects; asks that arrive meanwhile wait for that one attempt and share its outcome. A failed
//! attempt is the error of the asks that waited for it, and the next ask tries again.
//!
//! At most `[database] max_tenant_pools` tenant sources are open at once: opening one more
//! closes the one used least recently. A closed source is taken out of the registry at once, and
//! its pool is closed when the asks that still hold it have ended (or after the longest an ask
//! can take), so that an ask in flight finishes on the source it started with.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use futures_util::future::{BoxFuture, FutureExt, Shared};
use serde::{Deserialize, Serialize};

use crate::{
    config::{Config, Secret, looks_like_sqlite_path},
    dialect::Dialect,
    error::{Error, Result},
    metrics::{Metrics, TenantOutcomeLabels},
    source::DataSource,
};

/// How long the health check waits for one tenant's database.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// How often a closed source checks whether the asks that hold it have ended.
const DRAIN_POLL: Duration = Duration::from_millis(20);

/// The health of one `[tenants.<id>]` database (see
/// [`Health::tenants`](crate::engine::Health::tenants)). A tenant's pool opens on its first
/// ask, so a tenant nobody has asked for yet is not open and is not pinged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantHealth {
    /// The tenant, as in `[tenants.<id>]`.
    pub tenant_id: String,
    /// Whether the tenant's pool is open now.
    pub open: bool,
    /// Whether the database answered; `None` when the pool is not open (it is not pinged).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub database: Option<bool>,
    /// What failed: the ping of an open pool, or the last connection attempt when it failed
    /// (never a password).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// `sqlite`, `postgres` or `mysql`: the connected database's, else the URL's.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dialect: Option<String>,
}

impl TenantHealth {
    /// Whether nothing is wrong: the database answered, or the pool is not open and its last
    /// connection attempt (if any) did not fail.
    pub fn is_ok(&self) -> bool {
        self.error.is_none() && self.database != Some(false)
    }
}

/// One connection attempt, shared by the asks that wait for it.
type Attempt = Shared<BoxFuture<'static, Result<DataSource>>>;

/// Where a tenant's source is.
enum Slot {
    /// Not open; `last_error` is why the last attempt failed, if it did.
    Closed { last_error: Option<String> },
    /// Connecting; `attempt` tells a settled attempt from a later one.
    Connecting { attempt: u64, future: Attempt },
    /// Open; `last_used` orders the open sources for eviction.
    Open {
        source: Box<DataSource>,
        last_used: u64,
    },
}

#[derive(Default)]
struct State {
    slots: HashMap<String, Slot>,
    /// A logical clock of uses.
    tick: u64,
    /// How many attempts were started (their ids).
    attempts: u64,
    /// How many slots are `Open`.
    open: usize,
}

/// The data sources of the engine: the default one (`[database]`) and one per configured
/// tenant, opened on first use under the `max_tenant_pools` cap.
pub(crate) struct Sources {
    default: DataSource,
    /// The engine's configuration without `tenants`: what every tenant's source shares.
    base: Arc<Config>,
    tenants: BTreeMap<String, TenantEntry>,
    registry: Arc<Registry>,
}

/// The state of the tenants' sources, shared with the connection attempts, which record their
/// own outcome when they end.
struct Registry {
    state: Mutex<State>,
    max_open: usize,
    /// The longest the pool of a closed source waits for the asks that still hold it.
    drain: Duration,
    metrics: Metrics,
}

struct TenantEntry {
    url: Secret,
    pool_size: Option<u32>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("default", &self.default)
            .field("tenants", &self.tenants.keys().collect::<Vec<_>>())
            .field("open", &self.open_count())
            .field("max_open", &self.registry.max_open)
            .finish()
    }
}

impl Sources {
    /// The registry of `config`'s `[tenants.<id>]`, with `default` for every other tenant.
    /// Nothing connects here.
    pub(crate) fn new(config: &Config, default: DataSource, metrics: Metrics) -> Self {
        let mut base = config.clone();
        let tenants = std::mem::take(&mut base.tenants)
            .into_iter()
            .map(|(id, t)| {
                let entry = TenantEntry {
                    url: t.database_url,
                    pool_size: t.pool_size,
                };
                (id, entry)
            })
            .collect::<BTreeMap<_, _>>();
        let state = State {
            slots: tenants
                .keys()
                .map(|id| (id.clone(), Slot::Closed { last_error: None }))
                .collect(),
            ..State::default()
        };
        Self {
            default,
            base: Arc::new(base),
            tenants,
            registry: Arc::new(Registry {
                state: Mutex::new(state),
                max_open: config.database.max_tenant_pools.max(1),
                drain: drain_bound(config),
                metrics,
            }),
        }
    }

    /// The `[database]` source: that of every tenant without a `[tenants.<id>]` entry.
    pub(crate) fn default_source(&self) -> &DataSource {
        &self.default
    }

    /// How many tenant sources are open.
    pub(crate) fn open_count(&self) -> usize {
        self.registry.lock().open
    }

    /// The source of `tenant_id`: its own when it has a `[tenants.<id>]` entry (connecting it
    /// first when it is not open), else the default one. A failed connection is this call's
    /// error (`DATABASE_UNAVAILABLE`, or `CONFIG` for a URL that cannot be used), and the next
    /// call tries again.
    pub(crate) async fn get(&self, tenant_id: &str) -> Result<DataSource> {
        if !self.tenants.contains_key(tenant_id) {
            return Ok(self.default.clone());
        }
        let future = {
            let mut guard = self.registry.lock();
            let state = &mut *guard;
            state.tick += 1;
            let tick = state.tick;
            let Some(slot) = state.slots.get_mut(tenant_id) else {
                return Err(Error::internal(format!(
                    "tenant '{tenant_id}' has no slot in the source registry"
                )));
            };
            match slot {
                Slot::Open { source, last_used } => {
                    *last_used = tick;
                    return Ok(DataSource::clone(source));
                }
                Slot::Connecting { future, .. } => future.clone(),
                Slot::Closed { .. } => {
                    state.attempts += 1;
                    let attempt = state.attempts;
                    // The attempt records its outcome in the slot when it ends, which it cannot
                    // do before this lock is released.
                    let future = self.connect(tenant_id, attempt);
                    *slot = Slot::Connecting {
                        attempt,
                        future: future.clone(),
                    };
                    future
                }
            }
        };
        future.await
    }

    /// The health of every configured tenant's database, in the order of their ids. Open pools
    /// are pinged (at most [`PING_TIMEOUT`] each, all at once); the others are not.
    pub(crate) async fn health(&self) -> Vec<TenantHealth> {
        let entries: Vec<(&String, &TenantEntry, Option<DataSource>, Option<String>)> = {
            let state = self.registry.lock();
            self.tenants
                .iter()
                .map(|(id, entry)| match state.slots.get(id) {
                    Some(Slot::Open { source, .. }) => {
                        (id, entry, Some(DataSource::clone(source)), None)
                    }
                    Some(Slot::Closed { last_error }) => (id, entry, None, last_error.clone()),
                    _ => (id, entry, None, None),
                })
                .collect()
        };
        let checks = entries
            .into_iter()
            .map(|(id, entry, source, error)| async move {
                let url = entry.url.expose();
                match source {
                    Some(source) => {
                        let ping = tokio::time::timeout(PING_TIMEOUT, source.executor().ping())
                            .await
                            .unwrap_or_else(|_| {
                                Err(Error::DatabaseUnavailable {
                                    message: format!(
                                        "no answer within {} s",
                                        PING_TIMEOUT.as_secs()
                                    ),
                                })
                            });
                        TenantHealth {
                            tenant_id: id.clone(),
                            open: true,
                            database: Some(ping.is_ok()),
                            error: ping.err().map(|e| crate::exec::scrub(&e.to_string(), url)),
                            dialect: Some(source.visible_catalog().dialect.as_str().to_string()),
                        }
                    }
                    None => TenantHealth {
                        tenant_id: id.clone(),
                        open: false,
                        database: None,
                        error,
                        dialect: Dialect::from_url(url)
                            .or_else(|| looks_like_sqlite_path(url).then_some(Dialect::Sqlite))
                            .map(|d| d.as_str().to_string()),
                    },
                }
            });
        futures_util::future::join_all(checks).await
    }

    /// Starts connecting `tenant_id`'s source, in a task of its own so that the attempt ends,
    /// is counted and records its outcome in the registry even when every ask waiting for it is
    /// dropped.
    fn connect(&self, tenant_id: &str, attempt: u64) -> Attempt {
        let Some(entry) = self.tenants.get(tenant_id) else {
            let message = format!("tenant '{tenant_id}' has no [tenants.{tenant_id}] entry");
            return futures_util::future::ready(Err(Error::internal(message)))
                .boxed()
                .shared();
        };
        let base = self.base.clone();
        let url = entry.url.clone();
        let pool_size = entry.pool_size;
        let registry = self.registry.clone();
        let metrics = registry.metrics.clone();
        let tenant = tenant_id.to_string();
        let task = tokio::spawn(async move {
            let mut config = (*base).clone();
            if let Some(n) = pool_size {
                config.database.pool_size = n;
            }
            let outcome = DataSource::connect(&config, Some(url.expose()))
                .await
                .map(|s| s.with_metrics(metrics.clone()))
                .map_err(|e| in_tenant(e, &tenant, url.expose()));
            let label = match &outcome {
                Ok(_) => "ok".to_string(),
                Err(e) => e.kind().code().to_ascii_lowercase(),
            };
            metrics
                .tenants
                .connects
                .get_or_create(&TenantOutcomeLabels {
                    tenant: tenant.clone(),
                    outcome: label,
                })
                .inc();
            match &outcome {
                Ok(_) => tracing::info!(tenant_id = %tenant, "tenant database connected"),
                Err(e) => {
                    tracing::warn!(tenant_id = %tenant, error = %e, "tenant database unavailable")
                }
            }
            registry.settle(&tenant, attempt, &outcome);
            outcome
        });
        let tenant = tenant_id.to_string();
        task.map(move |joined| {
            joined.unwrap_or_else(|e| {
                Err(Error::internal(format!(
                    "the connection to tenant '{tenant}''s database ended abnormally: {e}"
                )))
            })
        })
        .boxed()
        .shared()
    }
}

impl Registry {
    /// Records the outcome of `attempt` for `tenant_id` (see [`settle`]) and closes the sources
    /// it takes out.
    fn settle(&self, tenant_id: &str, attempt: u64, outcome: &Result<DataSource>) {
        let retired = {
            let mut state = self.lock();
            let retired = settle(&mut state, tenant_id, attempt, outcome, self.max_open);
            self.metrics.tenants.open.set(state.open as i64);
            retired
        };
        for (id, source) in retired {
            self.retire(id, source);
        }
    }

    /// Closes the pool of a source taken out of the registry once no ask holds it any more (or
    /// after the drain bound), in the background.
    fn retire(&self, tenant_id: String, source: DataSource) {
        tracing::info!(
            tenant_id = %tenant_id,
            max_tenant_pools = self.max_open,
            "closing the least recently used tenant database ([database] max_tenant_pools)"
        );
        let executor = source.executor().clone();
        drop(source);
        let drain = self.drain;
        let closes = self.metrics.tenants.closes.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + drain;
            while Arc::strong_count(&executor) > 1 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(DRAIN_POLL).await;
            }
            executor.close().await;
            closes.inc();
            tracing::debug!(tenant_id = %tenant_id, "tenant database closed");
        });
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent after every statement: a panic elsewhere leaves it usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Records the outcome of `attempt` for `tenant_id`, unless another waiter did already: an open
/// source becomes the most recently used, and the least recently used others are taken out
/// while more than `max_open` are open. Returns the sources taken out, to be closed.
fn settle(
    state: &mut State,
    tenant_id: &str,
    attempt: u64,
    outcome: &Result<DataSource>,
    max_open: usize,
) -> Vec<(String, DataSource)> {
    state.tick += 1;
    let tick = state.tick;
    let Some(slot) = state.slots.get_mut(tenant_id) else {
        return Vec::new();
    };
    if !matches!(slot, Slot::Connecting { attempt: a, .. } if *a == attempt) {
        return Vec::new();
    }
    let source = match outcome {
        Ok(source) => source,
        Err(e) => {
            *slot = Slot::Closed {
                last_error: Some(e.to_string()),
            };
            return Vec::new();
        }
    };
    *slot = Slot::Open {
        source: Box::new(source.clone()),
        last_used: tick,
    };
    state.open += 1;
    let mut retired = Vec::new();
    while state.open > max_open {
        let lru = state
            .slots
            .iter()
            .filter_map(|(id, slot)| match slot {
                Slot::Open { last_used, .. } if id != tenant_id => Some((*last_used, id)),
                _ => None,
            })
            .min()
            .map(|(_, id)| id.clone());
        let Some(id) = lru else { break };
        if let Some(slot) = state.slots.get_mut(&id)
            && let Slot::Open { source, .. } =
                std::mem::replace(slot, Slot::Closed { last_error: None })
        {
            state.open -= 1;
            retired.push((id, *source));
        }
    }
    retired
}

/// The error of a tenant's connection, naming the tenant and its key, without the password.
fn in_tenant(error: Error, tenant_id: &str, url: &str) -> Error {
    let key = format!("tenants.{tenant_id}.database_url");
    match error {
        Error::DatabaseUnavailable { message } => Error::DatabaseUnavailable {
            message: format!(
                "tenant '{tenant_id}' ([tenants.{tenant_id}] database_url): {}",
                crate::exec::scrub(&message, url)
            ),
        },
        Error::Config {
            message,
            file,
            line,
            ..
        } => Error::Config {
            message: format!("{key}: {}", crate::exec::scrub(&message, url)),
            key: Some(key),
            file,
            line,
        },
        other => other,
    }
}

/// The longest an ask may hold its source: every generation attempt with its model call and its
/// statement, plus a connection. The pool of a closed source waits that long at most for the
/// asks that hold it.
fn drain_bound(config: &Config) -> Duration {
    let attempts = config.llm.max_retries.saturating_add(1);
    let one = Duration::from_secs(config.llm.timeout_secs)
        + Duration::from_millis(config.database.statement_timeout_ms);
    one.saturating_mul(attempts) + Duration::from_secs(config.database.connection_timeout_secs)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{ErrorKind, config::TenantConfig};

    /// A writable copy of the demo database in `dir`, named `name`.
    fn demo_copy(dir: &Path, name: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, crate::demo::CHINOOK_SQLITE).expect("copy");
        format!("sqlite://{}", path.display())
    }

    fn config(tenants: &[(&str, &str)], max_open: usize) -> Config {
        let mut config = Config::default();
        config.database.max_tenant_pools = max_open;
        for (id, url) in tenants {
            config.tenants.insert(
                id.to_string(),
                TenantConfig {
                    database_url: Secret::new(*url),
                    pool_size: None,
                },
            );
        }
        config
    }

    async fn sources(config: &Config, metrics: Metrics) -> Sources {
        let default = DataSource::connect(config, None).await.expect("demo");
        Sources::new(config, default, metrics)
    }

    /// Waits until `done` holds, for at most five seconds.
    async fn eventually(what: &str, done: impl Fn() -> bool) {
        for _ in 0..250 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{what} did not happen within 5 s");
    }

    #[tokio::test]
    async fn a_tenant_without_an_entry_gets_the_default_source_and_one_with_an_entry_its_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = demo_copy(dir.path(), "a.sqlite");
        let mut config = config(&[("a", &a)], 4);
        config.tenants.get_mut("a").expect("a").pool_size = Some(3);
        let metrics = Metrics::default();
        let sources = sources(&config, metrics.clone()).await;
        assert_eq!(sources.open_count(), 0, "nothing opens before a use");

        let other = sources.get("zeta").await.expect("default");
        assert!(Arc::ptr_eq(
            other.executor(),
            sources.default_source().executor()
        ));
        let first = sources.get("a").await.expect("a");
        assert!(!Arc::ptr_eq(
            first.executor(),
            sources.default_source().executor()
        ));
        assert_eq!(first.executor().options().pool_size, 3, "the tenant's pool");
        assert_eq!(
            first.executor().options().max_rows,
            config.database.max_rows,
            "the engine's limits"
        );
        let again = sources.get("a").await.expect("a");
        assert!(Arc::ptr_eq(first.executor(), again.executor()), "reused");
        assert_eq!(sources.open_count(), 1);
        assert_eq!(metrics.tenants.connects_of("a", "ok"), 1);
        assert_eq!(metrics.tenants.open.get(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_first_uses_share_one_connection_attempt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = demo_copy(dir.path(), "a.sqlite");
        let metrics = Metrics::default();
        let sources = Arc::new(sources(&config(&[("a", &a)], 4), metrics.clone()).await);
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let sources = sources.clone();
                tokio::spawn(async move { sources.get("a").await })
            })
            .collect();
        let mut executors = Vec::new();
        for t in tasks {
            executors.push(
                t.await
                    .expect("joins")
                    .expect("connects")
                    .executor()
                    .clone(),
            );
        }
        assert_eq!(metrics.tenants.connects_of("a", "ok"), 1, "one attempt");
        assert!(executors.iter().all(|e| Arc::ptr_eq(e, &executors[0])));
    }

    #[tokio::test]
    async fn an_attempt_whose_asks_were_dropped_still_ends_and_counts_its_pool() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = demo_copy(dir.path(), "a.sqlite");
        let metrics = Metrics::default();
        let sources = sources(&config(&[("a", &a)], 4), metrics.clone()).await;
        let dropped = tokio::time::timeout(Duration::ZERO, sources.get("a")).await;
        assert!(dropped.is_err(), "the ask gave up before the connection");
        eventually("the attempt ends", || sources.open_count() == 1).await;
        assert_eq!(metrics.tenants.open.get(), 1);
        let source = sources.get("a").await.expect("a");
        source.run("SELECT 1").await.expect("runs");
        assert_eq!(
            metrics.tenants.connects_of("a", "ok"),
            1,
            "no second attempt"
        );
    }

    #[tokio::test]
    async fn a_failed_connection_is_that_calls_error_and_the_next_call_tries_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("later.sqlite");
        let url = format!("sqlite://{}", path.display());
        let metrics = Metrics::default();
        let sources = sources(&config(&[("a", &url)], 4), metrics.clone()).await;
        let e = sources.get("a").await.expect_err("no file yet");
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        assert!(
            matches!(&e, Error::Config { key: Some(k), .. } if k == "tenants.a.database_url"),
            "{e:?}"
        );
        let health = sources.health().await;
        assert_eq!(health.len(), 1);
        assert!(!health[0].open && !health[0].is_ok(), "{health:?}");
        assert_eq!(health[0].dialect.as_deref(), Some("sqlite"));

        std::fs::write(&path, crate::demo::CHINOOK_SQLITE).expect("copy");
        let source = sources.get("a").await.expect("the file is there now");
        source.run("SELECT 1").await.expect("runs");
        assert_eq!(metrics.tenants.connects_of("a", "config"), 1);
        assert_eq!(metrics.tenants.connects_of("a", "ok"), 1);
        let health = sources.health().await;
        assert_eq!(
            health[0],
            TenantHealth {
                tenant_id: "a".into(),
                open: true,
                database: Some(true),
                error: None,
                dialect: Some("sqlite".into()),
            }
        );
    }

    #[tokio::test]
    async fn an_unreachable_database_is_unavailable_without_its_password() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
            listener.local_addr().expect("addr").port()
        };
        let url = format!("postgres://bi:hunter2@127.0.0.1:{port}/chinook");
        let mut config = config(&[("down", &url)], 4);
        config.database.connection_timeout_secs = 2;
        let sources = sources(&config, Metrics::default()).await;
        let e = sources.get("down").await.expect_err("closed port");
        assert_eq!(e.kind(), ErrorKind::DatabaseUnavailable, "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().contains("tenant 'down'"), "{e}");
        let health = sources.health().await;
        let error = health[0].error.as_deref().expect("the failure");
        assert!(
            !error.contains("hunter2") && error.contains("127.0.0.1"),
            "{error}"
        );
        assert_eq!(health[0].dialect.as_deref(), Some("postgres"));
        assert!(!format!("{sources:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn the_least_recently_used_source_is_closed_past_the_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b, c) = (
            demo_copy(dir.path(), "a.sqlite"),
            demo_copy(dir.path(), "b.sqlite"),
            demo_copy(dir.path(), "c.sqlite"),
        );
        let metrics = Metrics::default();
        let sources = sources(
            &config(&[("a", &a), ("b", &b), ("c", &c)], 2),
            metrics.clone(),
        )
        .await;
        let first_a = Arc::downgrade(sources.get("a").await.expect("a").executor());
        sources.get("b").await.expect("b");
        sources
            .get("a")
            .await
            .expect("a again: b is now the least recent");
        sources.get("c").await.expect("c");
        assert_eq!(sources.open_count(), 2);
        let open: Vec<bool> = sources.health().await.iter().map(|h| h.open).collect();
        assert_eq!(open, [true, false, true], "b was closed");
        eventually("b's pool closes", || metrics.tenants.closes.get() == 1).await;

        let b_again = sources.get("b").await.expect("b opens again");
        b_again.run("SELECT 1").await.expect("runs");
        assert_eq!(metrics.tenants.connects_of("b", "ok"), 2);
        assert_eq!(sources.open_count(), 2);
        eventually("a's pool closes", || metrics.tenants.closes.get() == 2).await;
        assert!(first_a.upgrade().is_none(), "a's first executor is gone");
        let a_again = sources.get("a").await.expect("a opens again");
        assert!(
            !std::ptr::addr_eq(Arc::as_ptr(a_again.executor()), first_a.as_ptr()),
            "a new pool"
        );
        assert_eq!(metrics.tenants.open.get(), 2);
    }

    #[tokio::test]
    async fn a_closed_source_held_by_an_ask_finishes_it_and_closes_after() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (
            demo_copy(dir.path(), "a.sqlite"),
            demo_copy(dir.path(), "b.sqlite"),
        );
        let metrics = Metrics::default();
        let sources = sources(&config(&[("a", &a), ("b", &b)], 1), metrics.clone()).await;
        let held = sources.get("a").await.expect("a");
        sources.get("b").await.expect("b closes a");
        assert_eq!(sources.open_count(), 1);
        tokio::time::sleep(DRAIN_POLL * 5).await;
        assert_eq!(metrics.tenants.closes.get(), 0, "a is still held");
        let (_, rows) = held
            .run("SELECT COUNT(*) FROM Customer")
            .await
            .expect("the held source still answers");
        assert_eq!(rows.rows.len(), 1);
        let executor = Arc::downgrade(held.executor());
        drop(held);
        eventually("a's pool closes", || metrics.tenants.closes.get() == 1).await;
        assert!(executor.upgrade().is_none(), "nothing holds a's executor");
    }

    #[tokio::test]
    async fn a_closed_pool_fails_cleanly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = demo_copy(dir.path(), "a.sqlite");
        let source = DataSource::connect(&Config::default(), Some(&a))
            .await
            .expect("connects");
        source.run("SELECT 1").await.expect("runs");
        source.executor().close().await;
        let e = source.run("SELECT 1").await.expect_err("closed");
        assert_eq!(e.kind(), ErrorKind::DatabaseUnavailable, "{e}");
        let e = source.executor().ping().await.expect_err("closed");
        assert_eq!(e.kind(), ErrorKind::DatabaseUnavailable, "{e}");
    }

    #[test]
    fn an_ask_may_hold_its_source_for_every_attempt() {
        let mut config = Config::default();
        config.llm.max_retries = 2;
        config.llm.timeout_secs = 10;
        config.database.statement_timeout_ms = 1000;
        config.database.connection_timeout_secs = 5;
        assert_eq!(drain_bound(&config), Duration::from_secs(3 * 11 + 5));
    }
}
