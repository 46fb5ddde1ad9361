//! The SQLite connection guard: an authorizer, resource limits and a progress-handler deadline
//! installed on every pooled query connection through the raw `sqlite3` handle.
//!
//! The authorizer allows only what a read-only query needs: `SELECT`, reads of the catalog's
//! tables and views (never `sqlite_%` tables), allow-listed functions
//! ([`crate::sql::is_function_allowed`]) and recursive CTEs. Every other action (writes, DDL,
//! `PRAGMA`, `ATTACH`, transactions, ...) is denied when the statement is prepared. On top of that
//! the connection may attach no database (`VACUUM INTO` attaches internally), values are bounded
//! to [`MAX_VALUE_LEN`] bytes, and a progress handler interrupts a statement that runs past its
//! deadline.
//!
//! Ownership: each connection owns one heap-allocated [`ConnGuard`], registered as SQLite
//! client data with a destructor. SQLite frees it when the connection closes, after the last
//! statement is finalized, so the callbacks can never see a dangling pointer.

use std::{
    collections::HashSet,
    ffi::{CStr, c_char, c_int, c_void},
    ptr::NonNull,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;

use crate::{
    dialect::Dialect,
    error::{Error, Result},
    sql::is_function_allowed,
};

/// The largest string or blob a query may build (`SQLITE_LIMIT_LENGTH`).
pub(crate) const MAX_VALUE_LEN: c_int = 64 * 1024 * 1024;

/// Virtual-machine steps between two deadline checks.
const PROGRESS_STEPS: c_int = 1000;

/// The client-data key under which the guard is registered.
const CLIENT_DATA_KEY: &CStr = c"heliosdb_cbi_guard";

/// What all connections of one source share: the names of the tables and views queries may
/// read, lowercased. Refreshed by every catalog introspection.
#[derive(Debug, Default)]
pub(crate) struct ReadableTables(RwLock<HashSet<String>>);

impl ReadableTables {
    /// Replaces the readable set.
    pub(crate) fn replace(&self, names: impl IntoIterator<Item = String>) {
        let set = names.into_iter().map(|n| n.to_lowercase()).collect();
        match self.0.write() {
            Ok(mut guard) => *guard = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    fn contains(&self, name_lower: &str) -> bool {
        // A poisoned lock means a writer panicked: deny rather than guess.
        self.0.read().is_ok_and(|set| set.contains(name_lower))
    }
}

/// Per-connection state seen by the callbacks.
struct ConnGuard {
    tables: Arc<ReadableTables>,
    /// The origin of `deadline_ns`.
    base: Instant,
    /// Nanoseconds after `base` at which the running statement is interrupted; 0 = none.
    deadline_ns: AtomicU64,
    /// Set by the progress handler when it interrupted a statement.
    timed_out: AtomicBool,
}

/// Installs the guard on a connection. Replaces a guard installed before.
pub(crate) fn install(
    handle: &mut LockedSqliteHandle<'_>,
    tables: Arc<ReadableTables>,
) -> Result<()> {
    let guard = Box::new(ConnGuard {
        tables,
        base: Instant::now(),
        deadline_ns: AtomicU64::new(0),
        timed_out: AtomicBool::new(false),
    });
    let ptr = Box::into_raw(guard).cast::<c_void>();
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is a valid, open connection that no other thread uses while `handle` (the
    // lock on sqlx's worker) is held. `ptr` is a live `ConnGuard` allocation whose ownership passes to SQLite
    // with `drop_guard` as its destructor; SQLite calls it once, on close or on replacement.
    let rc =
        unsafe { ffi::sqlite3_set_clientdata(db, CLIENT_DATA_KEY.as_ptr(), ptr, Some(drop_guard)) };
    if rc != ffi::SQLITE_OK {
        // On failure (out of memory) SQLite has already run the destructor on `ptr`, so it
        // must not be freed again here.
        return Err(Error::internal(format!(
            "cannot register the SQLite guard (code {rc})"
        )));
    }
    // SAFETY: `db` is valid as above. `ptr` stays valid for as long as the connection is open
    // (SQLite frees client data only when closing it, after all statements are finalized, or
    // when it is replaced by a later `install`, which re-registers both callbacks right after).
    unsafe {
        ffi::sqlite3_set_authorizer(db, Some(authorize), ptr);
        ffi::sqlite3_progress_handler(db, PROGRESS_STEPS, Some(check_deadline), ptr);
        ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_ATTACHED, 0);
        ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_LENGTH, MAX_VALUE_LEN);
    }
    Ok(())
}

/// Sets the deadline of the next statement (`None` clears it) and resets the timeout flag.
pub(crate) fn arm(handle: &mut LockedSqliteHandle<'_>, timeout: Option<Duration>) -> Result<()> {
    let guard = guard_of(handle)?;
    let deadline = timeout.map_or(0, |t| {
        let ns = guard.base.elapsed().saturating_add(t).as_nanos();
        u64::try_from(ns).unwrap_or(u64::MAX).max(1)
    });
    guard.timed_out.store(false, Ordering::SeqCst);
    guard.deadline_ns.store(deadline, Ordering::SeqCst);
    Ok(())
}

/// Clears the deadline; returns whether the progress handler interrupted a statement since
/// the last [`arm`].
pub(crate) fn disarm(handle: &mut LockedSqliteHandle<'_>) -> Result<bool> {
    let guard = guard_of(handle)?;
    guard.deadline_ns.store(0, Ordering::SeqCst);
    Ok(guard.timed_out.swap(false, Ordering::SeqCst))
}

/// The connection's guard, borrowed for as long as the handle lock is held.
fn guard_of<'h>(handle: &'h mut LockedSqliteHandle<'_>) -> Result<&'h ConnGuard> {
    let db: NonNull<ffi::sqlite3> = handle.as_raw_handle();
    // SAFETY: `db` is a valid open connection, used by no other thread while the lock is held.
    let ptr = unsafe { ffi::sqlite3_get_clientdata(db.as_ptr(), CLIENT_DATA_KEY.as_ptr()) };
    // SAFETY: the only value ever stored under this key is a `ConnGuard` from `install`. It is
    // freed only when the connection closes or a new guard replaces it, neither of which can
    // happen while `handle` is borrowed, and the returned reference does not outlive that
    // borrow. The callbacks share it meanwhile only through atomics and a lock (`Sync`).
    unsafe { ptr.cast::<ConnGuard>().as_ref() }
        .ok_or_else(|| Error::internal("the SQLite connection has no guard installed"))
}

/// Client-data destructor: frees the `ConnGuard`.
unsafe extern "C" fn drop_guard(ptr: *mut c_void) {
    if !ptr.is_null() {
        // SAFETY: `ptr` came from `Box::into_raw` in `install`, and SQLite calls this exactly
        // once per registered pointer, after which neither callback receives it again.
        drop(unsafe { Box::from_raw(ptr.cast::<ConnGuard>()) });
    }
}

/// The authorizer (`sqlite3_set_authorizer`): decides each action while a statement is
/// prepared. Never unwinds.
unsafe extern "C" fn authorize(
    user: *mut c_void,
    action: c_int,
    arg3: *const c_char,
    arg4: *const c_char,
    database: *const c_char,
    _trigger_or_view: *const c_char,
) -> c_int {
    // SAFETY: `user` is the live `ConnGuard` registered with this callback (see `install`).
    let Some(guard) = (unsafe { user.cast::<ConnGuard>().as_ref() }) else {
        return ffi::SQLITE_DENY;
    };
    // SAFETY: SQLite passes NUL-terminated strings or null, valid for the call.
    let text =
        |p: *const c_char| (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy());
    let allowed = match action {
        ffi::SQLITE_SELECT | ffi::SQLITE_RECURSIVE => true,
        // A read without a database is a reference to a CTE or subquery, not to a table.
        ffi::SQLITE_READ if database.is_null() => true,
        ffi::SQLITE_READ => {
            text(database).is_some_and(|db| db == "main")
                && text(arg3).is_some_and(|table| readable(guard, &table))
        }
        ffi::SQLITE_FUNCTION => {
            text(arg4).is_some_and(|name| is_function_allowed(Dialect::Sqlite, &name))
        }
        _ => false,
    };
    if allowed {
        ffi::SQLITE_OK
    } else {
        ffi::SQLITE_DENY
    }
}

/// Whether a query may read `table`: a table or view of the catalog, or an allow-listed
/// table-valued function (`json_each`), but never SQLite's own `sqlite_%` tables.
fn readable(guard: &ConnGuard, table: &str) -> bool {
    let lower = table.to_lowercase();
    !lower.starts_with("sqlite_")
        && (guard.tables.contains(&lower) || is_function_allowed(Dialect::Sqlite, &lower))
}

/// The progress handler: interrupts the statement once its deadline has passed.
unsafe extern "C" fn check_deadline(user: *mut c_void) -> c_int {
    // SAFETY: `user` is the live `ConnGuard` registered with this callback (see `install`).
    let Some(guard) = (unsafe { user.cast::<ConnGuard>().as_ref() }) else {
        return 0;
    };
    let deadline = guard.deadline_ns.load(Ordering::SeqCst);
    if deadline == 0 {
        return 0;
    }
    let now = u64::try_from(guard.base.elapsed().as_nanos()).unwrap_or(u64::MAX);
    if now >= deadline {
        guard.timed_out.store(true, Ordering::SeqCst);
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, SqliteConnection};

    use super::*;

    async fn guarded(readable: &[&str]) -> SqliteConnection {
        let mut conn = SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("memory db");
        sqlx::raw_sql(
            "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2); CREATE TABLE hidden (y)",
        )
        .execute(&mut conn)
        .await
        .expect("schema");
        let tables = Arc::new(ReadableTables::default());
        tables.replace(readable.iter().map(|s| s.to_string()));
        let mut handle = conn.lock_handle().await.expect("lock");
        install(&mut handle, tables).expect("install");
        drop(handle);
        conn
    }

    #[tokio::test]
    async fn authorizer_allows_reads_of_readable_tables_only() {
        let mut conn = guarded(&["T"]).await;
        let n: i64 = sqlx::query_scalar("SELECT sum(x) FROM t")
            .fetch_one(&mut conn)
            .await
            .expect("read t");
        assert_eq!(n, 3);
        for denied in [
            "SELECT * FROM hidden",
            "SELECT name FROM sqlite_master",
            "INSERT INTO t VALUES (3)",
            "CREATE TABLE u (z)",
            "PRAGMA user_version",
            "SELECT randomblob(4)",
            "ATTACH DATABASE ':memory:' AS other",
            "BEGIN",
        ] {
            let err = sqlx::query(denied)
                .execute(&mut conn)
                .await
                .expect_err(denied);
            let message = err.to_string();
            assert!(
                message.contains("not authorized") || message.contains("prohibited"),
                "{denied}: {message}"
            );
        }
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&mut conn)
            .await
            .expect("still usable");
        assert_eq!(n, 2, "nothing was inserted");
    }

    #[tokio::test]
    async fn deadline_interrupts_a_runaway_statement() {
        let mut conn = guarded(&[]).await;
        arm(
            &mut conn.lock_handle().await.expect("lock"),
            Some(Duration::from_millis(100)),
        )
        .expect("arm");
        let err = sqlx::query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")
            .execute(&mut conn)
            .await
            .expect_err("interrupted");
        assert!(err.to_string().contains("interrupted"), "{err}");
        assert!(
            disarm(&mut conn.lock_handle().await.expect("lock")).expect("disarm"),
            "the handler fired"
        );
        let one: i64 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .expect("no deadline now");
        assert_eq!(one, 1);
        assert!(!disarm(&mut conn.lock_handle().await.expect("lock")).expect("disarm"));
    }
}
