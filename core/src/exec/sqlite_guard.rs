//! The SQLite connection guard: the access policy, resource limits, bounded-cost functions and
//! a deadline, installed on every pooled query connection through the raw `sqlite3` handle.
//!
//! # What it enforces, whatever the SQL validator decided
//!
//! - **Statements.** The authorizer allows only what a read-only query needs: `SELECT`, reads,
//!   allow-listed functions ([`crate::sql::is_function_allowed`]) and recursive CTEs. Every
//!   other action (writes, DDL, `PRAGMA`, `ATTACH`, transactions, ...) is denied when the
//!   statement is prepared; no database may be attached (`VACUUM INTO` attaches internally).
//!   [`check_statement`] also refuses SQL holding more than one statement.
//! - **Tables** (`allowed_tables`, with the validator's matching rules: case-insensitive, empty
//!   means every table and view of the catalog). Every table read is judged by the table SQLite
//!   reads: SQLite's own `sqlite_%` tables, tables outside the catalog, and catalog tables that
//!   are not allowed are refused, also when only counted (`count(*)`, reported with an empty
//!   column name). A table joined only through `USING` or `NATURAL` is read without the
//!   authorizer hearing of it; the plan audit ([`plan`]) checks every table the compiled
//!   program opens.
//! - **Views.** SQLite expands a view and reports the reads of its base tables, naming the view
//!   only as the "trigger or view" context of those reads. That context is *not* a grant: SQLite
//!   sets it for a CTE or a subquery in `FROM` with the same name as well, so
//!   `WITH v AS (SELECT Total FROM Invoice) SELECT * FROM v` would pass as view `v`. A view is
//!   therefore readable at the database layer exactly when every base table it reads is allowed
//!   and it reads no denied column: list a view's base tables in `allowed_tables` too, and
//!   define views without restricted columns. A view outside `allowed_tables` whose base tables are all allowed is
//!   refused by the validator, not here (it exposes nothing those tables do not).
//! - **Columns** (`denied_columns`, `table.column`, case-insensitive). A read of a denied column
//!   is refused with `SQLITE_DENY` (never `SQLITE_IGNORE`, which would silently read NULL)
//!   wherever SQLite resolves it: select list, `WHERE`, `ORDER BY`, `GROUP BY`, `*` expansion,
//!   subqueries, CTEs, views, correlated references from a table-valued function. What the
//!   authorizer is not told about — the comparisons of a `USING` or `NATURAL` join, and walks
//!   or seeks of an index ordered by a denied column — the plan audit ([`plan`]) finds in the
//!   compiled program. So `SELECT Phone FROM Customer NATURAL JOIN Customer AS c2` is refused:
//!   the join compares `Email`, and a comparison with chosen values reveals them.
//! - **Resources.** Values are bounded to [`MAX_VALUE_LEN`] bytes (`SQLITE_LIMIT_LENGTH`, which
//!   also bounds rows and every intermediate string), SQL text to [`MAX_SQL_LEN`], `LIKE`/`GLOB`
//!   patterns to [`MAX_LIKE_PATTERN_LEN`], and expression depth, compound `SELECT` terms and
//!   function arguments as [`LIMITS`] lists.
//! - **Time.** The statement's deadline is checked by a progress handler between virtual-machine
//!   steps and, inside one function call, by the replacements of the built-ins whose cost grows
//!   faster than their input ([`functions`]); the executor also interrupts the statement
//!   (`sqlite3_interrupt`, through an [`Interrupter`]) when its client-side deadline fires.
//!
//! Ownership: each connection owns one heap-allocated [`ConnGuard`], registered as SQLite
//! client data with a destructor. SQLite frees it when the connection closes, after the last
//! statement is finalized, so the callbacks can never see a dangling pointer.

mod functions;
mod pattern;
mod plan;

use std::{
    collections::{HashMap, HashSet},
    ffi::{CStr, c_char, c_int, c_void},
    ptr::NonNull,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use libsqlite3_sys as ffi;
use sqlx::{SqliteConnection, sqlite::LockedSqliteHandle};

use crate::{
    dialect::Dialect,
    error::{Error, Result},
    sql::is_function_allowed,
};

/// The largest string, blob or row a query may read or build (`SQLITE_LIMIT_LENGTH`).
pub(crate) const MAX_VALUE_LEN: c_int = 1 << 20;

/// The longest SQL text a statement may have (`SQLITE_LIMIT_SQL_LENGTH`).
pub(crate) const MAX_SQL_LEN: c_int = 100_000;

/// The longest `LIKE` or `GLOB` pattern, in bytes (`SQLITE_LIMIT_LIKE_PATTERN_LENGTH`).
pub(crate) const MAX_LIKE_PATTERN_LEN: c_int = 1000;

/// Every `sqlite3_limit` the guard sets, with the reason. Real analytic SQL stays far below
/// each (the 6,627 Spider train queries do).
pub(crate) const LIMITS: &[(c_int, c_int, &str)] = &[
    (ffi::SQLITE_LIMIT_ATTACHED, 0, "no database may be attached"),
    (
        ffi::SQLITE_LIMIT_LENGTH,
        MAX_VALUE_LEN,
        "1 MiB per string, blob or row (was 64 MiB here, 1 GB by default)",
    ),
    (
        ffi::SQLITE_LIMIT_SQL_LENGTH,
        MAX_SQL_LEN,
        "100 kB of SQL (was 1 GB)",
    ),
    (
        ffi::SQLITE_LIMIT_LIKE_PATTERN_LENGTH,
        MAX_LIKE_PATTERN_LEN,
        "1000-byte LIKE/GLOB patterns (was 50,000), bounding their O(N·M) worst case",
    ),
    (
        ffi::SQLITE_LIMIT_EXPR_DEPTH,
        500,
        "expression depth 500 (was 1000); a chain of `OR` or `AND` terms is as deep as it is long",
    ),
    (
        ffi::SQLITE_LIMIT_COMPOUND_SELECT,
        50,
        "50 terms per UNION/INTERSECT/EXCEPT chain (was 500; multi-row VALUES is not counted)",
    ),
    (
        ffi::SQLITE_LIMIT_FUNCTION_ARG,
        100,
        "100 arguments per function call (was 1000), bounding multi-path JSON calls",
    ),
];

/// SQLite's optimization bit of covering-index scans (`SQLITE_CoverIdxScan`), for
/// `SQLITE_TESTCTRL_OPTIMIZATIONS`, which takes the set of optimizations to turn off. (A testing
/// interface whose codes may change between SQLite releases: the guard's tests fail if this
/// one stops working.)
const SQLITE_COVER_IDX_SCAN: std::ffi::c_uint = 0x20;

/// Virtual-machine steps between two deadline checks.
const PROGRESS_STEPS: c_int = 1000;

/// The client-data key under which the guard is registered.
const CLIENT_DATA_KEY: &CStr = c"heliosdb_cbi_guard";

/// What all connections of one source share: the access policy, and the schema facts it is
/// judged by (refreshed by every catalog introspection).
#[derive(Debug, Default)]
pub(crate) struct SourcePolicy {
    /// `allowed_tables`, ASCII-lowercased; empty: every catalog table and view.
    allowed: HashSet<String>,
    /// `denied_columns`, ASCII-lowercased: table → columns.
    denied: HashMap<String, HashSet<String>>,
    schema: RwLock<Arc<SchemaFacts>>,
}

#[derive(Debug, Default)]
struct SchemaFacts {
    /// The catalog's tables and views, ASCII-lowercased.
    names: HashSet<String>,
    /// Root pages, their tables and denied fields, for the plan audit.
    layout: plan::Layout,
}

impl SourcePolicy {
    /// The policy of `allowed_tables` and `denied_columns`, matched as the SQL validator
    /// matches them on SQLite (an entry without a `.` denies nothing).
    pub(crate) fn new(allowed_tables: &[String], denied_columns: &[String]) -> Self {
        let mut denied: HashMap<String, HashSet<String>> = HashMap::new();
        for entry in denied_columns {
            if let Some((table, column)) = entry.rsplit_once('.') {
                denied
                    .entry(table.to_ascii_lowercase())
                    .or_default()
                    .insert(column.to_ascii_lowercase());
            }
        }
        Self {
            allowed: allowed_tables
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .collect(),
            denied,
            schema: RwLock::default(),
        }
    }

    /// Whether `table.column` is denied.
    pub(crate) fn is_denied(&self, table: &str, column: &str) -> bool {
        self.denied
            .get(&table.to_ascii_lowercase())
            .is_some_and(|columns| columns.contains(&column.to_ascii_lowercase()))
    }

    fn is_allowed(&self, table_lower: &str) -> bool {
        self.allowed.is_empty() || self.allowed.contains(table_lower)
    }

    fn facts(&self) -> Arc<SchemaFacts> {
        match self.schema.read() {
            Ok(facts) => Arc::clone(&facts),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn update(&self, change: impl FnOnce(&mut SchemaFacts)) {
        let mut slot = match self.schema.write() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut facts = SchemaFacts {
            names: slot.names.clone(),
            layout: slot.layout.clone(),
        };
        change(&mut facts);
        *slot = Arc::new(facts);
    }

    /// Replaces the catalog's table and view names.
    pub(crate) fn set_tables(&self, names: impl IntoIterator<Item = String>) {
        let names = names.into_iter().map(|n| n.to_ascii_lowercase()).collect();
        self.update(|facts| facts.names = names);
    }

    /// Reads the plan layout from `conn` (an unguarded connection).
    pub(crate) async fn load_layout(&self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        let layout = plan::load(conn, &|t, c| self.is_denied(t, c)).await?;
        self.update(|facts| facts.layout = layout);
        Ok(())
    }
}

/// The deadline of the statement running on one connection, shared by the progress handler,
/// the bounded-cost functions and the executor.
#[derive(Debug)]
pub(crate) struct Clock {
    /// The origin of `deadline_ns`.
    base: Instant,
    /// Nanoseconds after `base` at which the running statement is stopped; 0 = none.
    deadline_ns: AtomicU64,
    /// Set when a statement was stopped because its deadline passed.
    timed_out: AtomicBool,
}

impl Clock {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            deadline_ns: AtomicU64::new(0),
            timed_out: AtomicBool::new(false),
        }
    }

    /// Whether a deadline is set and has passed.
    pub(crate) fn expired(&self) -> bool {
        let deadline = self.deadline_ns.load(Ordering::SeqCst);
        deadline != 0
            && u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX) >= deadline
    }

    /// Records that a statement was stopped at its deadline.
    pub(crate) fn mark_timed_out(&self) {
        self.timed_out.store(true, Ordering::SeqCst);
    }
}

/// Interrupts the statement running on one connection, from any thread, for as long as the
/// connection is open: the pointer is cleared (under the same lock) by the guard's destructor,
/// which SQLite runs while closing the connection, before it frees it.
#[derive(Debug, Clone)]
pub(crate) struct Interrupter(Arc<Mutex<Option<DbPtr>>>);

#[derive(Debug)]
struct DbPtr(NonNull<ffi::sqlite3>);

// SAFETY: the pointer is only used for `sqlite3_interrupt`, which SQLite documents as safe to
// call from any thread while the connection is open; `Interrupter` guarantees that it is.
unsafe impl Send for DbPtr {}

impl Interrupter {
    /// Makes the running statement (if any) fail with `SQLITE_INTERRUPT` at its next check.
    /// A no-op once the connection is closed.
    pub(crate) fn interrupt(&self) {
        let slot = match self.0.lock() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(db) = slot.as_ref() {
            // SAFETY: the connection is open: it is cleared from the slot, under this lock,
            // before SQLite frees it (see `ConnGuard::drop`).
            unsafe { ffi::sqlite3_interrupt(db.0.as_ptr()) }
        }
    }
}

/// Per-connection state seen by the callbacks.
struct ConnGuard {
    policy: Arc<SourcePolicy>,
    clock: Arc<Clock>,
    interrupter: Interrupter,
    /// Why the authorizer last denied an action, for the error the caller sees.
    refusal: Mutex<Option<String>>,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        // Runs while SQLite closes the connection: from now on, interrupting is a no-op.
        match self.interrupter.0.lock() {
            Ok(mut slot) => *slot = None,
            Err(poisoned) => *poisoned.into_inner() = None,
        }
    }
}

impl ConnGuard {
    fn refuse(&self, reason: impl FnOnce() -> String) {
        if let Ok(mut slot) = self.refusal.lock()
            && slot.is_none()
        {
            *slot = Some(reason());
        }
    }

    fn take_refusal(&self) -> Option<String> {
        self.refusal.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Installs the guard on a connection. Replaces a guard installed before.
pub(crate) fn install(
    handle: &mut LockedSqliteHandle<'_>,
    policy: Arc<SourcePolicy>,
) -> Result<()> {
    let db = handle.as_raw_handle();
    let clock = Arc::new(Clock::new());
    let guard = Box::new(ConnGuard {
        policy,
        clock: Arc::clone(&clock),
        interrupter: Interrupter(Arc::new(Mutex::new(Some(DbPtr(db))))),
        refusal: Mutex::new(None),
    });
    let ptr = Box::into_raw(guard).cast::<c_void>();
    let db = db.as_ptr();
    // SAFETY: `db` is a valid, open connection that no other thread uses while `handle` (the
    // lock on sqlx's worker) is held. `ptr` is a live `ConnGuard` allocation whose ownership
    // passes to SQLite with `drop_guard` as its destructor; SQLite calls it once, on close or
    // on replacement.
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
    // when it is replaced by a later `install`, which re-registers every callback right after).
    unsafe {
        ffi::sqlite3_set_authorizer(db, Some(authorize), ptr);
        ffi::sqlite3_progress_handler(db, PROGRESS_STEPS, Some(check_deadline), ptr);
        for &(limit, value, _) in LIMITS {
            ffi::sqlite3_limit(db, limit, value);
        }
        // A double-quoted name is always a name: the validator has already written as a string
        // every one that SQLite would otherwise read as a string, so nothing is left to guess.
        for op in [ffi::SQLITE_DBCONFIG_DQS_DML, ffi::SQLITE_DBCONFIG_DQS_DDL] {
            ffi::sqlite3_db_config(db, op, 0 as c_int, std::ptr::null_mut::<c_int>());
        }
        functions::register(db, &clock).map_err(|rc| {
            Error::internal(format!(
                "cannot register the bounded SQLite functions (code {rc})"
            ))
        })?;
    }
    Ok(())
}

/// Sets the deadline of the next statement (`None` clears it) and resets the timeout flag.
pub(crate) fn arm(handle: &mut LockedSqliteHandle<'_>, timeout: Option<Duration>) -> Result<()> {
    let guard = guard_of(handle)?;
    let clock = &guard.clock;
    let deadline = timeout.map_or(0, |t| {
        let ns = clock.base.elapsed().saturating_add(t).as_nanos();
        u64::try_from(ns).unwrap_or(u64::MAX).max(1)
    });
    clock.timed_out.store(false, Ordering::SeqCst);
    clock.deadline_ns.store(deadline, Ordering::SeqCst);
    Ok(())
}

/// Clears the deadline; returns whether a statement was stopped at its deadline since the
/// last [`arm`].
pub(crate) fn disarm(handle: &mut LockedSqliteHandle<'_>) -> Result<bool> {
    let guard = guard_of(handle)?;
    guard.clock.deadline_ns.store(0, Ordering::SeqCst);
    Ok(guard.clock.timed_out.swap(false, Ordering::SeqCst))
}

/// The connection's [`Interrupter`].
pub(crate) fn interrupter(handle: &mut LockedSqliteHandle<'_>) -> Result<Interrupter> {
    Ok(guard_of(handle)?.interrupter.clone())
}

/// Why [`check_statement`] did not pass a statement.
#[derive(Debug)]
pub(crate) enum CheckError {
    /// The statement is refused (or does not compile); the error says why.
    Refused(Error),
    /// The plan opens a b-tree unknown to the layout: reload it and check again.
    StaleLayout,
}

/// What [`check_statement`] changed on the connection for the statement to pass; undo it with
/// [`restore`] once the statement has run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Checked {
    /// Covering-index scans are off (see [`plan`]).
    pub(crate) cover_scans_off: bool,
}

/// Compiles `sql` under the authorizer and refuses it unless it is exactly one statement that
/// the authorizer allows and whose plan reads only allowed tables and no denied column (see
/// [`plan`]). When the plan's only fault is walking an index ordered by a denied column, the
/// statement is compiled again without covering-index scans and passes if that plan is clean;
/// the connection keeps that setting until [`restore`].
///
/// The executor then prepares the same text again to run it; SQLite compiles identical text
/// on an unchanged schema with the same settings to the identical program.
pub(crate) fn check_statement(
    handle: &mut LockedSqliteHandle<'_>,
    sql: &str,
) -> std::result::Result<Checked, CheckError> {
    let db = handle.as_raw_handle().as_ptr();
    let guard = guard_of(handle).map_err(CheckError::Refused)?;
    // SAFETY: `db` is valid and used by no other thread while `handle` is held. (SQLite's
    // default, also if an earlier statement's `restore` was missed.)
    unsafe { set_cover_scans(db, true) };
    match compile_and_audit(db, guard, sql) {
        Err(Verdict::IndexOrder(_)) => {
            // SAFETY: `db` is valid and used by no other thread while `handle` is held.
            unsafe { set_cover_scans(db, false) };
            match compile_and_audit(db, guard, sql) {
                Ok(()) => Ok(Checked {
                    cover_scans_off: true,
                }),
                Err(verdict) => {
                    // SAFETY: as above.
                    unsafe { set_cover_scans(db, true) };
                    Err(verdict.into_error())
                }
            }
        }
        Err(verdict) => Err(verdict.into_error()),
        Ok(()) => Ok(Checked::default()),
    }
}

/// Undoes what [`check_statement`] changed on the connection.
pub(crate) fn restore(handle: &mut LockedSqliteHandle<'_>, checked: Checked) {
    if checked.cover_scans_off {
        let db = handle.as_raw_handle().as_ptr();
        // SAFETY: `db` is valid and used by no other thread while `handle` is held.
        unsafe { set_cover_scans(db, true) };
    }
}

/// Turns SQLite's covering-index scans on or off for the statements compiled next.
///
/// # Safety
/// `db` must be valid and unused by other threads during the call.
unsafe fn set_cover_scans(db: *mut ffi::sqlite3, on: bool) {
    let disabled: std::ffi::c_uint = if on { 0 } else { SQLITE_COVER_IDX_SCAN };
    // SAFETY: caller; the operation takes the connection and the set of optimizations to turn
    // off, and nothing else.
    unsafe { ffi::sqlite3_test_control(ffi::SQLITE_TESTCTRL_OPTIMIZATIONS, db, disabled) };
}

/// Why [`compile_and_audit`] did not pass a statement.
enum Verdict {
    /// The only fault: the plan walks an index ordered by a denied column (the message).
    IndexOrder(String),
    /// Any other refusal, final.
    Refused(CheckError),
}

impl Verdict {
    fn into_error(self) -> CheckError {
        match self {
            Self::IndexOrder(message) => CheckError::Refused(Error::Execution { message }),
            Self::Refused(e) => e,
        }
    }
}

/// Compiles `sql` under the authorizer and audits its plan (see [`check_statement`]).
fn compile_and_audit(
    db: *mut ffi::sqlite3,
    guard: &ConnGuard,
    sql: &str,
) -> std::result::Result<(), Verdict> {
    let refused =
        |message: String| Verdict::Refused(CheckError::Refused(Error::Execution { message }));
    let Ok(len) = c_int::try_from(sql.len()) else {
        return Err(refused("the SQL text is too long".into()));
    };
    let _ = guard.take_refusal();
    // SAFETY: `db` is valid and used by no other thread while the caller holds the handle;
    // `sql` outlives the calls; every statement prepared is finalized by `Finalize`.
    unsafe {
        let first = prepare(db, sql.as_ptr().cast(), len).map_err(|e| {
            refused(match guard.take_refusal() {
                Some(reason) => format!("{reason} (SQLite: {e})"),
                None => e,
            })
        })?;
        let Some((stmt, tail)) = first else {
            return Err(refused("the SQL holds no statement".into()));
        };
        let rest = c_int::try_from(tail.offset_from(sql.as_ptr().cast::<c_char>()))
            .map_or(0, |done| len - done);
        if rest > 0 {
            match prepare(db, tail, rest) {
                Ok(None) => {}
                Ok(Some(_)) | Err(_) => {
                    let _ = guard.take_refusal();
                    return Err(refused(
                        "the SQL holds more than one statement; send exactly one".into(),
                    ));
                }
            }
        }
        let policy = &guard.policy;
        let facts = policy.facts();
        let readable = |table: &str| {
            let lower = table.to_ascii_lowercase();
            !lower.starts_with("sqlite_")
                && facts.names.contains(&lower)
                && policy.is_allowed(&lower)
        };
        let finding = plan::audit(stmt.0, &facts.layout, &readable);
        drop(stmt);
        match finding {
            Ok(()) => Ok(()),
            Err(plan::Finding::UnknownRoot(_)) => Err(Verdict::Refused(CheckError::StaleLayout)),
            Err(plan::Finding::TableNotAllowed(table)) => {
                let why = if table.to_ascii_lowercase().starts_with("sqlite_") {
                    "is SQLite's own table and may not be read"
                } else {
                    "may not be read ([database] allowed_tables)"
                };
                Err(refused(format!(
                    "refused by the database guard: table `{table}` {why}, and the statement's \
                     plan reads it (a USING or NATURAL join reads a table without naming its \
                     columns)"
                )))
            }
            Err(plan::Finding::Denied(column, how)) => {
                let message = format!(
                    "refused by the database guard: column `{column}` is restricted ([database] \
                     denied_columns) and the statement's plan {how} (through a USING or NATURAL \
                     join, or an index on it); join with ON on permitted columns and do not \
                     force that index"
                );
                if how == plan::INDEX_ORDER {
                    Err(Verdict::IndexOrder(message))
                } else {
                    Err(refused(message))
                }
            }
            Err(plan::Finding::Unverifiable(why)) => Err(refused(format!(
                "refused by the database guard: {why}, which it cannot verify"
            ))),
        }
    }
}

/// Finalizes a statement on drop.
struct Finalize(*mut ffi::sqlite3_stmt);

impl Drop for Finalize {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `sqlite3_prepare_v3` and is finalized once.
        unsafe { ffi::sqlite3_finalize(self.0) };
    }
}

/// Prepares the first statement of `len` bytes at `sql`: `None` when there is none (only
/// spaces and comments), else the statement and where the rest of the text begins.
///
/// # Safety
/// `db` must be valid and unused by other threads; `sql` must point to `len` readable bytes.
unsafe fn prepare(
    db: *mut ffi::sqlite3,
    sql: *const c_char,
    len: c_int,
) -> std::result::Result<Option<(Finalize, *const c_char)>, String> {
    let mut stmt = std::ptr::null_mut();
    let mut tail = std::ptr::null();
    // SAFETY: caller.
    let rc = unsafe { ffi::sqlite3_prepare_v3(db, sql, len, 0, &mut stmt, &mut tail) };
    let stmt = Finalize(stmt);
    if rc != ffi::SQLITE_OK {
        // SAFETY: `db` is valid; the message is copied before any other call.
        let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }.to_string_lossy();
        // SAFETY: as above.
        let code = unsafe { ffi::sqlite3_extended_errcode(db) };
        if code == ffi::SQLITE_TOOBIG {
            return Err(format!(
                "the SQL text is longer than {MAX_SQL_LEN} bytes, this source's limit (code {code})"
            ));
        }
        return Err(format!("{message} (code {code})"));
    }
    Ok((!stmt.0.is_null()).then_some((stmt, tail)))
}

/// The connection's guard, borrowed for as long as the handle lock is held.
fn guard_of<'h>(handle: &'h mut LockedSqliteHandle<'_>) -> Result<&'h ConnGuard> {
    let db: NonNull<ffi::sqlite3> = handle.as_raw_handle();
    // SAFETY: `db` is a valid open connection, used by no other thread while the lock is held.
    let ptr = unsafe { ffi::sqlite3_get_clientdata(db.as_ptr(), CLIENT_DATA_KEY.as_ptr()) };
    // SAFETY: the only value ever stored under this key is a `ConnGuard` from `install`. It is
    // freed only when the connection closes or a new guard replaces it, neither of which can
    // happen while `handle` is borrowed, and the returned reference does not outlive that
    // borrow. The callbacks share it meanwhile only through atomics and locks (`Sync`).
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
    let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match action {
        ffi::SQLITE_SELECT | ffi::SQLITE_RECURSIVE => Ok(()),
        ffi::SQLITE_READ => judge_read(
            guard,
            text(arg3).as_deref(),
            text(arg4).as_deref(),
            text(database).as_deref(),
        ),
        ffi::SQLITE_FUNCTION => match text(arg4) {
            Some(name)
                if is_function_allowed(Dialect::Sqlite, &name)
                    || name.eq_ignore_ascii_case(functions::MASK_HASH) =>
            {
                Ok(())
            }
            name => Err(format!(
                "function `{}` is not allowed",
                name.unwrap_or_default()
            )),
        },
        _ => Err("only a single read-only SELECT statement may run".into()),
    }));
    match verdict {
        Ok(Ok(())) => ffi::SQLITE_OK,
        Ok(Err(reason)) => {
            guard.refuse(|| format!("refused by the database guard: {reason}"));
            ffi::SQLITE_DENY
        }
        Err(_) => ffi::SQLITE_DENY,
    }
}

/// Judges an `SQLITE_READ` of `column` (empty: the table is read without a column, as by
/// `count(*)`) of `table` in `database` (absent for an unqualified name read without a column,
/// and for views, CTEs and subqueries).
fn judge_read(
    guard: &ConnGuard,
    table: Option<&str>,
    column: Option<&str>,
    database: Option<&str>,
) -> std::result::Result<(), String> {
    let Some(table) = table else {
        return Err("a read without a table name".into());
    };
    let lower = table.to_ascii_lowercase();
    let policy = &guard.policy;
    let facts = policy.facts();
    let in_catalog = facts.names.contains(&lower);
    // An allow-listed table-valued function (`json_each`, `json_tree`), unless a table of the
    // catalog has its name.
    let table_function = !in_catalog
        && matches!(lower.as_str(), "json_each" | "json_tree")
        && is_function_allowed(Dialect::Sqlite, &lower);
    let not_allowed = || format!("table `{table}` may not be read ([database] allowed_tables)");
    if lower.starts_with("sqlite_") {
        return Err(format!(
            "`{table}` is SQLite's own table and may not be read"
        ));
    }
    match (database, column.unwrap_or_default()) {
        // A table, view, CTE or subquery read without a column. A catalog name must be
        // allowed (a CTE named like a table that may not be read is refused too); any other
        // name is a CTE or a subquery, whose own reads are judged one by one.
        (None, "") => {
            if !in_catalog || table_function || policy.is_allowed(&lower) {
                Ok(())
            } else {
                Err(not_allowed())
            }
        }
        (Some("main"), column) => {
            if table_function {
                Ok(())
            } else if !in_catalog {
                Err(format!("`{table}` is not a table of the schema"))
            } else if !policy.is_allowed(&lower) {
                Err(not_allowed())
            } else if !column.is_empty() && policy.is_denied(table, column) {
                Err(format!(
                    "column `{table}.{column}` is restricted ([database] denied_columns) and may \
                     not be read, compared, sorted on or expanded by `*`; name the permitted \
                     columns explicitly"
                ))
            } else {
                Ok(())
            }
        }
        (Some(other), _) => Err(format!("database `{other}` may not be read")),
        (None, column) => Err(format!("a read of `{table}.{column}` outside any database")),
    }
}

/// The progress handler: interrupts the statement once its deadline has passed.
unsafe extern "C" fn check_deadline(user: *mut c_void) -> c_int {
    // SAFETY: `user` is the live `ConnGuard` registered with this callback (see `install`).
    let Some(guard) = (unsafe { user.cast::<ConnGuard>().as_ref() }) else {
        return 0;
    };
    if guard.clock.expired() {
        guard.clock.mark_timed_out();
        1
    } else {
        0
    }
}

#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;
