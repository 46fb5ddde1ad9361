//! The SQLite oracle: SQLite's own compiler reports what a statement reads.
//!
//! The fixture lives in a temporary file, opened read-only on a connection this module owns.
//! Each statement is compiled (never run) as `EXPLAIN <statement>`, with an authorizer that
//! records every action and allows it, and the listed program is read as well:
//!
//! - `SQLITE_READ` with a column: the table (its real name, after SQLite resolved aliases, CTEs,
//!   views and `*`) and the column. A `rowid` read arrives as the rowid alias (`id`) or as
//!   `ROWID`, which is no catalog column and counts as a read of the table only.
//! - **The authorizer is not called for the columns of a NATURAL or USING join condition**
//!   (SQLite 3.40 and the bundled 3.51 alike): `SELECT full_name FROM customers NATURAL JOIN
//!   customers AS c2` reports `full_name` only, yet compares `email` and `ssn` of both sides, and
//!   an authorizer answering `SQLITE_IGNORE` for `ssn` does not stop that comparison. The
//!   program shows it: each `Column` instruction on a cursor that `OpenRead` / `ReopenIdx`
//!   opened on a fixture b-tree reads that table's column (through the index's column list for
//!   an index). Those reads are added. (The rowid alias `id` is compared through
//!   `SeekRowid` / `Rowid`, which are not counted.)
//! - `SQLITE_READ` without a column: SQLite names each `FROM` item that no column is read from
//!   (`SELECT count(*) FROM secrets`) *as written*, with the schema as written, so that a CTE
//!   named like a table looks the same as the table. Only qualified names are used; the
//!   tables themselves come from the program: every b-tree `OpenRead` opens maps to its table.
//! - SQLite 3.51 also reports some derived tables (and their columns) with the schema `main`;
//!   a name that is neither a table of the schema nor a virtual table (a module, or a
//!   `pragma_*` table, which SQLite creates on first use) is skipped.
//! - `SQLITE_FUNCTION`: the function called, checked against the allow-list.
//!
//! Eponymous virtual tables on the function allow-list (`json_each`, `json_tree`) are not
//! tables; any other name (`sqlite_master`, `pragma_table_info`) is. What SQLite compiles is
//! exactly what it would run, so this oracle sees every table and column a statement can read;
//! it does not see what a statement does at run time beyond that (sizes, time), which is not
//! compared here. A text with more than one statement is reported (`several`).

use std::{
    cell::RefCell,
    collections::HashMap,
    ffi::{CStr, c_char, c_int, c_void},
    path::{Path, PathBuf},
    ptr::{self, NonNull},
};

use conversational_bi::Dialect;
use libsqlite3_sys as ffi;

use super::{
    compare::{Observation, Policy, Reads},
    fixture,
};

/// A b-tree of the fixture: the table it belongs to and, by position, the table columns its
/// records hold (`None` for the rowid of an index entry).
#[derive(Debug, Clone)]
struct Btree {
    table: String,
    columns: Vec<Option<String>>,
}

/// What the authorizer saw while one statement was compiled.
#[derive(Debug, Default)]
struct Log {
    /// (schema, table, column) of each `SQLITE_READ`; the column is empty for a table read.
    reads: Vec<(Option<String>, String, String)>,
    functions: Vec<String>,
}

/// What the compiled program opens and reads.
#[derive(Debug, Default)]
struct Program {
    /// Cursor number to the (schema index, root page) it was opened on.
    cursors: HashMap<i64, (i64, i64)>,
    /// (schema index, root page) of every b-tree opened for reading.
    opened: Vec<(i64, i64)>,
    /// (b-tree, column position) of every `Column` read from such a cursor.
    columns: Vec<((i64, i64), i64)>,
}

/// A read-only connection to the fixture with a recording authorizer.
pub struct SqliteOracle {
    db: NonNull<ffi::sqlite3>,
    /// Owned by this struct (from `Box::into_raw`, freed in `drop` after the connection is
    /// closed) and shared with the authorizer, which receives the same pointer.
    log: NonNull<RefCell<Log>>,
    /// (schema index, root page) to the b-tree stored there.
    roots: HashMap<(i64, i64), Btree>,
    /// The virtual table modules (`json_each`, `pragma_table_info`, ...), lowercased.
    modules: std::collections::HashSet<String>,
    policy: Policy,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for SqliteOracle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteOracle")
            .field("path", &self.path)
            .finish()
    }
}

fn open(path: &Path, flags: c_int) -> Result<NonNull<ffi::sqlite3>, String> {
    let c_path = std::ffi::CString::new(path.to_string_lossy().as_bytes())
        .map_err(|e| format!("bad path: {e}"))?;
    let mut db = ptr::null_mut();
    // SAFETY: `c_path` is NUL-terminated and outlives the call; `db` receives a handle that the
    // caller owns (closed below on failure, by `SqliteOracle::drop` otherwise).
    let rc = unsafe { ffi::sqlite3_open_v2(c_path.as_ptr(), &mut db, flags, ptr::null()) };
    let Some(db) = NonNull::new(db) else {
        return Err(format!("cannot open {} (code {rc})", path.display()));
    };
    if rc != ffi::SQLITE_OK {
        let msg = errmsg(db);
        // SAFETY: `db` is the handle just opened and not used afterwards.
        unsafe { ffi::sqlite3_close(db.as_ptr()) };
        return Err(format!("cannot open {}: {msg}", path.display()));
    }
    Ok(db)
}

fn errmsg(db: NonNull<ffi::sqlite3>) -> String {
    // SAFETY: `db` is an open connection; the message is NUL-terminated and copied at once.
    unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) }
        .to_string_lossy()
        .into_owned()
}

fn text(p: *const c_char) -> Option<String> {
    // SAFETY: SQLite passes NUL-terminated strings or null, valid for the callback's duration.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// The authorizer: records reads and function calls, allows everything (nothing is run).
unsafe extern "C" fn record(
    user: *mut c_void,
    action: c_int,
    arg3: *const c_char,
    arg4: *const c_char,
    database: *const c_char,
    _inner: *const c_char,
) -> c_int {
    // SAFETY: `user` is the `RefCell<Log>` boxed in `SqliteOracle`, alive while the connection
    // is open; no Rust borrow of it is held while SQLite compiles a statement.
    let Some(log) = (unsafe { user.cast::<RefCell<Log>>().as_ref() }) else {
        return ffi::SQLITE_OK;
    };
    let Ok(mut log) = log.try_borrow_mut() else {
        return ffi::SQLITE_OK;
    };
    match action {
        ffi::SQLITE_READ => {
            let table = text(arg3).unwrap_or_default();
            let column = text(arg4).unwrap_or_default();
            log.reads.push((text(database), table, column));
        }
        ffi::SQLITE_FUNCTION => {
            if let Some(f) = text(arg4) {
                log.functions.push(f.to_lowercase());
            }
        }
        _ => {}
    }
    ffi::SQLITE_OK
}

/// A prepared statement, finalized on drop.
struct Stmt(*mut ffi::sqlite3_stmt);

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: the statement came from `sqlite3_prepare_v2` and is finalized once; null is
        // allowed.
        unsafe { ffi::sqlite3_finalize(self.0) };
    }
}

impl SqliteOracle {
    /// Builds the fixture in a temporary file and opens it read-only.
    pub fn create() -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("cbi_diff.sqlite");
        let rw = open(&path, ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE)?;
        let ddl = std::ffi::CString::new(fixture::SQLITE_DDL).map_err(|e| e.to_string())?;
        // SAFETY: `rw` is open and `ddl` NUL-terminated; no callback is passed.
        let rc = unsafe {
            ffi::sqlite3_exec(
                rw.as_ptr(),
                ddl.as_ptr(),
                None,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        let msg = errmsg(rw);
        // SAFETY: `rw` is not used after this.
        unsafe { ffi::sqlite3_close(rw.as_ptr()) };
        if rc != ffi::SQLITE_OK {
            return Err(format!("cannot build the SQLite fixture: {msg}"));
        }
        let db = open(&path, ffi::SQLITE_OPEN_READONLY)?;
        let mut oracle = Self {
            db,
            log: NonNull::from(Box::leak(Box::new(RefCell::new(Log::default())))),
            roots: HashMap::new(),
            modules: Default::default(),
            policy: Policy::new(Dialect::Sqlite),
            path,
            _dir: dir,
        };
        // Eponymous virtual tables register themselves on first use, reading the schema; do
        // that before recording.
        for warm in [
            "SELECT * FROM json_each('[1]')",
            "SELECT * FROM json_tree('[1]')",
        ] {
            oracle.prepare(warm)?;
        }
        oracle.load_roots()?;
        oracle.modules = oracle
            .rows("SELECT lower(name) FROM pragma_module_list")?
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect();
        // Double-quoted names are never strings, as on the engine's own connections.
        oracle.set_dqs(false);
        // SAFETY: `db` is open; `log` stays allocated until `drop` has closed the connection,
        // after which the callback is never called again.
        unsafe {
            ffi::sqlite3_set_authorizer(
                oracle.db.as_ptr(),
                Some(record),
                oracle.log.as_ptr().cast(),
            )
        };
        Ok(oracle)
    }

    /// Rows of a query over the schema, as text.
    fn rows(&self, sql: &str) -> Result<Vec<Vec<String>>, String> {
        let stmt = self.prepare(sql)?;
        let mut out = Vec::new();
        // SAFETY: `stmt` is a live statement of `self.db`; column values are copied at once.
        unsafe {
            let n = ffi::sqlite3_column_count(stmt.0);
            while ffi::sqlite3_step(stmt.0) == ffi::SQLITE_ROW {
                out.push(
                    (0..n)
                        .map(|i| {
                            text(ffi::sqlite3_column_text(stmt.0, i).cast()).unwrap_or_default()
                        })
                        .collect(),
                );
            }
        }
        Ok(out)
    }

    /// Maps every root page of the schema to its table and columns.
    fn load_roots(&mut self) -> Result<(), String> {
        let quote = |s: &str| s.replace('\'', "''");
        self.roots.insert(
            (0, 1),
            Btree {
                table: "sqlite_master".into(),
                columns: Vec::new(),
            },
        );
        let objects = self
            .rows("SELECT type, name, tbl_name, rootpage FROM sqlite_schema WHERE rootpage > 0")?;
        for o in objects {
            let [kind, name, table, page] = o.as_slice() else {
                continue;
            };
            let page: i64 = page.parse().map_err(|e| format!("rootpage: {e}"))?;
            let table_cols: Vec<String> = self
                .rows(&format!(
                    "SELECT name FROM pragma_table_info('{}') ORDER BY cid",
                    quote(table)
                ))?
                .into_iter()
                .filter_map(|r| r.into_iter().next())
                .collect();
            let columns = if kind == "index" {
                self.rows(&format!(
                    "SELECT cid FROM pragma_index_xinfo('{}') ORDER BY seqno",
                    quote(name)
                ))?
                .into_iter()
                .map(|r| {
                    r.first()
                        .and_then(|c| c.parse::<usize>().ok())
                        .and_then(|c| table_cols.get(c).cloned())
                })
                .collect()
            } else {
                table_cols.into_iter().map(Some).collect()
            };
            self.roots.insert(
                (0, page),
                Btree {
                    table: table.to_lowercase(),
                    columns,
                },
            );
        }
        Ok(())
    }

    /// The fixture file, for the library's introspection.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Compiles `sql`; the statement and the unread rest of the text.
    fn prepare_tail(&self, sql: &str) -> Result<(Stmt, usize), String> {
        let len = c_int::try_from(sql.len()).map_err(|_| "statement too long".to_string())?;
        let mut stmt = ptr::null_mut();
        let mut tail: *const c_char = ptr::null();
        // SAFETY: `sql` is valid for `len` bytes during the call; `stmt` receives a statement
        // that `Stmt` finalizes; `tail` points into `sql`.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                self.db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                &mut stmt,
                &mut tail,
            )
        };
        let stmt = Stmt(stmt);
        if rc != ffi::SQLITE_OK {
            return Err(errmsg(self.db));
        }
        let consumed = if tail.is_null() {
            sql.len()
        } else {
            (tail as usize)
                .saturating_sub(sql.as_ptr() as usize)
                .min(sql.len())
        };
        Ok((stmt, consumed))
    }

    fn prepare(&self, sql: &str) -> Result<Stmt, String> {
        self.prepare_tail(sql).map(|(s, _)| s)
    }

    fn log(&self) -> &RefCell<Log> {
        // SAFETY: the allocation lives as long as `self` (see the field).
        unsafe { self.log.as_ref() }
    }

    /// What SQLite as shipped reads when it compiles the input `sql`: double-quoted names
    /// that match no column are strings there (the validator writes them as strings in
    /// `exec_sql`, which runs with that fallback off, as on the engine's connections).
    pub fn observe_input(&mut self, sql: &str) -> Observation {
        self.set_dqs(true);
        let seen = self.observe(sql);
        self.set_dqs(false);
        seen
    }

    fn set_dqs(&self, on: bool) {
        // SAFETY: `db` is open; the setting changes how later statements are compiled only.
        unsafe {
            for op in [ffi::SQLITE_DBCONFIG_DQS_DML, ffi::SQLITE_DBCONFIG_DQS_DDL] {
                ffi::sqlite3_db_config(
                    self.db.as_ptr(),
                    op,
                    c_int::from(on),
                    ptr::null_mut::<c_int>(),
                );
            }
        }
    }

    /// What SQLite reads when it compiles `sql`.
    pub fn observe(&mut self, sql: &str) -> Observation {
        *self.log().borrow_mut() = Log::default();
        let explain = format!("EXPLAIN {sql}");
        let (stmt, consumed) = match self.prepare_tail(&explain) {
            Ok(r) => r,
            Err(e) => return Observation::Refused(e),
        };
        if stmt.0.is_null() {
            return Observation::Refused("no statement".into());
        }
        let mut program = Program::default();
        loop {
            // SAFETY: `stmt` is a live EXPLAIN statement, which lists the program without
            // running it; column values are copied at once.
            let (rc, op, p1, p2, p3) = unsafe {
                let rc = ffi::sqlite3_step(stmt.0);
                if rc != ffi::SQLITE_ROW {
                    (rc, String::new(), 0, 0, 0)
                } else {
                    (
                        rc,
                        text(ffi::sqlite3_column_text(stmt.0, 1).cast()).unwrap_or_default(),
                        ffi::sqlite3_column_int64(stmt.0, 2),
                        ffi::sqlite3_column_int64(stmt.0, 3),
                        ffi::sqlite3_column_int64(stmt.0, 4),
                    )
                }
            };
            if rc != ffi::SQLITE_ROW {
                break;
            }
            match op.as_str() {
                "OpenRead" | "ReopenIdx" | "OpenWrite" => {
                    program.cursors.insert(p1, (p3, p2));
                    program.opened.push((p3, p2));
                }
                "Column" => {
                    if let Some(&root) = program.cursors.get(&p1) {
                        program.columns.push((root, p2));
                    }
                }
                _ => {}
            }
        }
        drop(stmt);
        let log = std::mem::take(&mut *self.log().borrow_mut());
        let rest = &explain[consumed..];
        let several = !rest.trim().is_empty()
            && match self.prepare(rest) {
                Ok(s) => !s.0.is_null(),
                Err(_) => true,
            };
        *self.log().borrow_mut() = Log::default();
        Observation::Compiled {
            reads: self.reads(&log, &program),
            several,
            grants_refused: None,
            partial: false,
        }
    }

    fn reads(&self, log: &Log, program: &Program) -> Reads {
        let names = self.policy.names();
        let mut reads = Reads::default();
        let ns = |schema: i64| if schema == 1 { Some("temp") } else { None };
        for &(schema, page) in &program.opened {
            if let Some(b) = self.roots.get(&(schema, page)) {
                reads.tables.insert(names.table(ns(schema), &b.table));
            }
        }
        for &((schema, page), column) in &program.columns {
            let Some(b) = self.roots.get(&(schema, page)) else {
                continue;
            };
            let Some(Some(c)) = usize::try_from(column).ok().and_then(|i| b.columns.get(i)) else {
                continue;
            };
            let key = names.table(ns(schema), &b.table);
            let c = names.column(c);
            if self
                .policy
                .columns
                .get(&key)
                .is_some_and(|cols| cols.contains(&c))
            {
                reads.columns.insert((key, c));
            }
        }
        for (schema, table, column) in &log.reads {
            let lower = table.to_lowercase();
            if conversational_bi::sql::is_function_allowed(Dialect::Sqlite, &lower) {
                continue;
            }
            let Some(schema) = schema else {
                // A FROM item without columns, by the name written: a table or a CTE. The
                // program's OpenRead says which tables were read.
                continue;
            };
            let virtual_table = self.modules.contains(&lower) || lower.starts_with("pragma_");
            if !self.roots.values().any(|b| b.table == lower) && !virtual_table {
                // Neither a table nor a virtual table: SQLite 3.51 names some derived tables
                // and their columns this way too, with the schema `main`.
                continue;
            }
            let key = names.table(Some(schema), table);
            reads.tables.insert(key.clone());
            let column = names.column(column);
            if !column.is_empty()
                && self
                    .policy
                    .columns
                    .get(&key)
                    .is_some_and(|cols| cols.contains(&column))
            {
                reads.columns.insert((key, column));
            }
        }
        reads.functions = log.functions.iter().cloned().collect();
        reads
    }
}

impl Drop for SqliteOracle {
    fn drop(&mut self) {
        // SAFETY: every statement was finalized (`Stmt` never outlives a call), so the
        // connection closes now and the authorizer is never called again; then the log, which
        // came from `Box::leak` and is not referenced any more, is freed once.
        unsafe {
            ffi::sqlite3_close(self.db.as_ptr());
            drop(Box::from_raw(self.log.as_ptr()));
        }
    }
}
