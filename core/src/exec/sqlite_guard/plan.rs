//! The plan audit: what the compiled statement reads, checked against the access policy.
//!
//! The authorizer is told about every column a statement *names* (select list, `WHERE`,
//! `ORDER BY`, `*` expansion, subqueries, views), but SQLite builds the equality terms of a
//! `USING` or `NATURAL` join without asking it. So `SELECT Phone FROM Customer JOIN
//! (SELECT 'x@y.z' AS Email) USING (Email)` compares a denied column unseen, and in
//! `SELECT count(*) FROM Customer JOIN Invoice USING (CustomerId)` the authorizer never hears of
//! `Invoice` at all (a table with a used column gets no "read without a column" call either).
//! Likewise a scan or seek of an index whose key holds a denied column orders or filters rows by
//! its values without naming it. The audit closes those gaps at their root: it steps the
//! prepared statement in `EXPLAIN` mode (`sqlite3_stmt_explain`), maps every cursor to the table
//! or index b-tree it opens (by root page), and refuses the statement when the program
//!
//! - opens a b-tree of a table that may not be read (outside `allowed_tables`, or SQLite's own
//!   `sqlite_%` tables), directly or through one of its indexes;
//! - loads a denied column of a table or an index (`Column`);
//! - loads or compares the rowid of a table whose `INTEGER PRIMARY KEY` is denied (`Rowid`,
//!   `SeekRowid`, `NotExists`, `IdxRowid`);
//! - walks or seeks an index (or a `WITHOUT ROWID` table) whose key holds a denied column, or
//!   an expression over one, for anything but counting its entries;
//! - opens a b-tree of another database, by register, or for writing.
//!
//! SQLite answers a narrow query (`SELECT id FROM users`) by walking the smallest covering
//! index, which may be one on a denied column (a UNIQUE email, say). When that is the only
//! finding, the guard compiles the statement again with covering-index scans turned off for it,
//! so that it reads the table instead, and audits that plan; the results are the same.
//!
//! A root page the layout does not know (the schema changed after it was read) is reported so
//! that the caller reloads the layout and audits again.
//!
//! Not covered: the physical order of a rowid table (a scan without `ORDER BY` returns rows in
//! rowid order, which for a denied `INTEGER PRIMARY KEY` is that column's order).

use std::collections::HashMap;

use libsqlite3_sys as ffi;
use sqlx::{Row, SqliteConnection};

/// A denied column (as `table.column`) of each b-tree a statement can open, by root page.
#[derive(Debug, Default, Clone)]
pub(crate) struct Layout {
    roots: HashMap<i64, Root>,
}

#[derive(Debug, Clone)]
enum Root {
    /// A rowid table: its columns in record (storage) order.
    Table {
        /// The table's name.
        table: String,
        columns: Vec<Option<String>>,
        /// The denied `INTEGER PRIMARY KEY`, which is the rowid.
        rowid: Option<String>,
    },
    /// An index, or the b-tree of a `WITHOUT ROWID` table: its entries' fields in order.
    Index {
        /// The indexed table's name.
        table: String,
        columns: Vec<Option<String>>,
        /// A denied column (or expression over one) among the key fields.
        key: Option<String>,
        /// The denied `INTEGER PRIMARY KEY` of the indexed table, carried as the rowid.
        rowid: Option<String>,
    },
}

/// How a program reads a denied column when it walks or seeks an index ordered by it.
pub(crate) const INDEX_ORDER: &str = "walks or seeks an index ordered by it";

/// Why the audit refused a statement, or could not decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finding {
    /// The program reads denied column `0` (`table.column`); `1` says how.
    Denied(String, &'static str),
    /// The program opens a b-tree of table `0`, which may not be read.
    TableNotAllowed(String),
    /// The program opens a b-tree the layout does not know: reload it.
    UnknownRoot(i64),
    /// The program does something the audit cannot account for.
    Unverifiable(String),
}

/// Reads the layout of the `main` database: every table and index with its root page, and
/// which of their fields hold a column for which `denied(table, column)` holds.
pub(crate) async fn load(
    conn: &mut SqliteConnection,
    denied: &(dyn Fn(&str, &str) -> bool + Sync),
) -> Result<Layout, sqlx::Error> {
    let objects = sqlx::query(
        "SELECT type, name, tbl_name, rootpage, coalesce(sql, '') FROM main.sqlite_schema \
         WHERE type IN ('table', 'index') AND rootpage > 0",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut layout = Layout::default();
    // Per table: its integer primary key, if any, and whether it is WITHOUT ROWID.
    let mut tables: HashMap<String, (Option<String>, bool)> = HashMap::new();
    for object in objects.iter().filter(|o| o.get::<String, _>(0) == "table") {
        let name: String = object.get(1);
        let root: i64 = object.get(3);
        let without_rowid: bool = sqlx::query_scalar(
            "SELECT coalesce(max(wr), 0) FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
        )
        .bind(&name)
        .fetch_one(&mut *conn)
        .await?;
        let columns = sqlx::query(
            "SELECT name, hidden, pk, type FROM pragma_table_xinfo(?1, 'main') ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        let pk: Vec<&SqliteRowRef> = columns.iter().filter(|c| c.get::<i64, _>(2) > 0).collect();
        let ipk = match pk.as_slice() {
            [only]
                if !without_rowid && only.get::<String, _>(3).eq_ignore_ascii_case("integer") =>
            {
                Some(only.get::<String, _>(0))
            }
            _ => None,
        };
        let denied_name = |column: &str| denied(&name, column).then(|| format!("{name}.{column}"));
        let rowid = ipk.as_deref().and_then(denied_name);
        tables.insert(name.to_ascii_lowercase(), (ipk, without_rowid));
        if without_rowid {
            let index = index_root(conn, &name, &name, "", None, denied).await?;
            layout.roots.insert(root, index);
        } else {
            // Virtual generated columns are not stored; the others are, in declaration order.
            let stored = columns
                .iter()
                .filter(|c| c.get::<i64, _>(1) != 2)
                .map(|c| denied_name(&c.get::<String, _>(0)))
                .collect();
            layout.roots.insert(
                root,
                Root::Table {
                    table: name.clone(),
                    columns: stored,
                    rowid,
                },
            );
        }
    }
    for object in objects.iter().filter(|o| o.get::<String, _>(0) == "index") {
        let (name, table): (String, String) = (object.get(1), object.get(2));
        let (root, sql): (i64, String) = (object.get(3), object.get(4));
        let ipk = tables
            .get(&table.to_ascii_lowercase())
            .and_then(|(ipk, _)| ipk.clone());
        let index = index_root(conn, &name, &table, &sql, ipk.as_deref(), denied).await?;
        layout.roots.insert(root, index);
    }
    // `sqlite_schema` itself, which it does not list.
    layout.roots.insert(
        1,
        Root::Table {
            table: "sqlite_schema".into(),
            columns: Vec::new(),
            rowid: None,
        },
    );
    Ok(layout)
}

type SqliteRowRef = sqlx::sqlite::SqliteRow;

/// The fields of index `name` on `table` (or of `WITHOUT ROWID` table `name` itself).
async fn index_root(
    conn: &mut SqliteConnection,
    name: &str,
    table: &str,
    sql: &str,
    ipk: Option<&str>,
    denied: &(dyn Fn(&str, &str) -> bool + Sync),
) -> Result<Root, sqlx::Error> {
    let fields = sqlx::query(
        "SELECT cid, coalesce(name, ''), key FROM pragma_index_xinfo(?1, 'main') ORDER BY seqno",
    )
    .bind(name)
    .fetch_all(&mut *conn)
    .await?;
    let denied_name = |column: &str| denied(table, column).then(|| format!("{table}.{column}"));
    let rowid = ipk.and_then(denied_name);
    let (mut columns, mut key) = (Vec::with_capacity(fields.len()), None);
    for field in &fields {
        let (cid, column, is_key): (i64, String, bool) = (field.get(0), field.get(1), field.get(2));
        let hit = match cid {
            -1 => rowid.clone(),
            // An expression: denied when its text names a denied column (a conservative read).
            -2 => words(sql).find_map(denied_name),
            _ => denied_name(&column),
        };
        if is_key && key.is_none() {
            key.clone_from(&hit);
        }
        columns.push(hit);
    }
    Ok(Root::Index {
        table: table.to_string(),
        columns,
        key,
        rowid,
    })
}

/// The identifier-like words of `sql`, unquoted.
fn words(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| !w.is_empty())
}

/// One instruction of a program, as `EXPLAIN` lists it.
#[derive(Debug)]
struct Op {
    name: &'static str,
    p1: i64,
    p2: i64,
    p3: i64,
    p5: i64,
}

/// Instructions that position, walk or read a cursor given as P1.
const CURSOR_READS: &[&str] = &[
    "Column",
    "Rowid",
    "IdxRowid",
    "RowData",
    "Rewind",
    "Last",
    "Next",
    "Prev",
    "SeekEnd",
    "SeekLT",
    "SeekLE",
    "SeekGE",
    "SeekGT",
    "IdxLE",
    "IdxGT",
    "IdxLT",
    "IdxGE",
    "Found",
    "NotFound",
    "NoConflict",
    "IfNoHope",
    "SeekHit",
    "SeekRowid",
    "NotExists",
    "DeferredSeek",
    "Offset",
];

/// The instructions that open a b-tree.
const OPENS: &[&str] = &["OpenRead", "ReopenIdx", "OpenWrite"];

/// `OPFLAG_P2ISREG`: P2 of an open instruction is a register holding the root page.
const OPFLAG_P2ISREG: i64 = 0x10;

/// Audits the program of `stmt`, a freshly prepared statement that was never stepped, against
/// `readable(table)` and the denied fields of `layout`.
///
/// # Safety
/// `stmt` must be a valid prepared statement of a connection no other thread uses during the
/// call. It is left in `EXPLAIN` mode: finalize it afterwards.
pub(crate) unsafe fn audit(
    stmt: *mut ffi::sqlite3_stmt,
    layout: &Layout,
    readable: &dyn Fn(&str) -> bool,
) -> Result<(), Finding> {
    // SAFETY: caller.
    let ops = unsafe { program(stmt) }.map_err(Finding::Unverifiable)?;
    let mut cursors: HashMap<i64, Vec<&Root>> = HashMap::new();
    for op in &ops {
        match op.name {
            "OpenRead" | "ReopenIdx" => {
                if op.p3 != 0 || op.p5 & OPFLAG_P2ISREG != 0 {
                    return Err(Finding::Unverifiable(format!(
                        "the plan opens a b-tree of database {} or by register",
                        op.p3
                    )));
                }
                let root = layout
                    .roots
                    .get(&op.p2)
                    .ok_or(Finding::UnknownRoot(op.p2))?;
                let (Root::Table { table, .. } | Root::Index { table, .. }) = root;
                if !readable(table) {
                    return Err(Finding::TableNotAllowed(table.clone()));
                }
                cursors.entry(op.p1).or_default().push(root);
            }
            "OpenWrite" => {
                return Err(Finding::Unverifiable(
                    "the plan opens a b-tree for writing".into(),
                ));
            }
            _ => {}
        }
    }
    for op in &ops {
        if !CURSOR_READS.contains(&op.name) {
            continue;
        }
        let Some(roots) = cursors.get(&op.p1) else {
            continue;
        };
        for root in roots {
            if let Some((column, how)) = denied_read(op, root) {
                return Err(Finding::Denied(column.clone(), how));
            }
        }
    }
    Ok(())
}

/// The denied column `op` reads through a cursor on `root`, and how.
fn denied_read<'r>(op: &Op, root: &'r Root) -> Option<(&'r String, &'static str)> {
    let field = |columns: &'r [Option<String>]| {
        usize::try_from(op.p2)
            .ok()
            .and_then(|i| columns.get(i))
            .and_then(Option::as_ref)
    };
    match (root, op.name) {
        (Root::Table { columns, .. }, "Column") => field(columns).map(|c| (c, "reads it")),
        (Root::Table { rowid, .. }, "Rowid" | "SeekRowid" | "NotExists") => rowid
            .as_ref()
            .map(|c| (c, "reads or compares it as the rowid")),
        // Every step through such an index follows the denied column's order.
        (Root::Index { key: Some(c), .. }, _) => Some((c, INDEX_ORDER)),
        (Root::Index { columns, .. }, "Column") => {
            field(columns).map(|c| (c, "reads it from an index"))
        }
        (Root::Index { rowid, .. }, "IdxRowid") => rowid
            .as_ref()
            .map(|c| (c, "reads it as the rowid of an index entry")),
        _ => None,
    }
}

/// Steps `stmt` in `EXPLAIN` mode and collects its instructions.
///
/// # Safety
/// As [`audit`].
unsafe fn program(stmt: *mut ffi::sqlite3_stmt) -> Result<Vec<Op>, String> {
    // SAFETY (whole body): `stmt` is valid (caller); column accessors are called on a row.
    unsafe {
        let rc = ffi::sqlite3_stmt_explain(stmt, 1);
        if rc != ffi::SQLITE_OK {
            return Err(format!("cannot list the statement's program (code {rc})"));
        }
        let mut ops = Vec::new();
        loop {
            match ffi::sqlite3_step(stmt) {
                ffi::SQLITE_ROW => {
                    let name_ptr = ffi::sqlite3_column_text(stmt, 1);
                    if name_ptr.is_null() {
                        continue;
                    }
                    let bytes = std::ffi::CStr::from_ptr(name_ptr.cast()).to_bytes();
                    // Only the instructions the audit looks at are kept.
                    let Some(&name) = OPENS
                        .iter()
                        .chain(CURSOR_READS)
                        .find(|n| n.as_bytes() == bytes)
                    else {
                        continue;
                    };
                    ops.push(Op {
                        name,
                        p1: ffi::sqlite3_column_int64(stmt, 2),
                        p2: ffi::sqlite3_column_int64(stmt, 3),
                        p3: ffi::sqlite3_column_int64(stmt, 4),
                        p5: ffi::sqlite3_column_int64(stmt, 6),
                    });
                }
                ffi::SQLITE_DONE => return Ok(ops),
                rc => return Err(format!("cannot list the statement's program (code {rc})")),
            }
        }
    }
}
