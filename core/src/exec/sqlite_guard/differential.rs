//! Differential test of the bounded-cost functions against SQLite's own built-ins.
//!
//! Two raw in-memory connections with the same limits: the reference keeps the built-ins, the
//! other has [`super::functions`] registered. Random inputs (ASCII, UTF-8, malformed UTF-8,
//! U+FFFD/U+FFFE/U+FFFF, embedded NULs, empty values, NULL, integers, reals and blobs; patterns
//! and needles mostly cut from the input so that matches are common) go through both, and the
//! results must be identical: storage class, bytes, and for errors the result code and message.
//! The one allowed difference is the replacement's purpose: where the built-in `printf` answers
//! NULL because its output would be too big, the replacement fails with `SQLITE_TOOBIG`.
//!
//! `CBI_DIFF_CASES` sets the number of cases per function and configuration (default 3000).

use std::{collections::HashMap, ffi::CStr, sync::Arc};

use libsqlite3_sys as ffi;

use super::{Clock, LIMITS, functions};

/// One argument value.
#[derive(Debug, Clone)]
enum Arg {
    Null,
    Int(i64),
    Real(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

/// One result, or the error of the statement.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Null,
    Int(i64),
    Real(u64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
    Error(i32, String),
}

/// A raw connection with a cache of prepared statements.
struct Db {
    db: *mut ffi::sqlite3,
    statements: HashMap<String, *mut ffi::sqlite3_stmt>,
}

impl Drop for Db {
    fn drop(&mut self) {
        // SAFETY: own statements and connection, finalized and closed once.
        unsafe {
            for stmt in self.statements.values() {
                ffi::sqlite3_finalize(*stmt);
            }
            ffi::sqlite3_close(self.db);
        }
    }
}

impl Db {
    fn open(limits: &[(i32, i32)], replaced: bool) -> Self {
        let mut db = std::ptr::null_mut();
        // SAFETY: opens a private in-memory database.
        let rc = unsafe {
            ffi::sqlite3_open_v2(
                c":memory:".as_ptr(),
                &mut db,
                ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
                std::ptr::null(),
            )
        };
        assert_eq!(rc, ffi::SQLITE_OK);
        for &(id, value) in limits {
            // SAFETY: `db` is open.
            unsafe { ffi::sqlite3_limit(db, id, value) };
        }
        if replaced {
            let clock = Arc::new(Clock::new());
            // SAFETY: `db` is open and used by this thread only.
            unsafe { functions::register(db, &clock) }.expect("register");
        }
        Self {
            db,
            statements: HashMap::new(),
        }
    }

    fn eval(&mut self, sql: &str, args: &[Arg]) -> Outcome {
        let db = self.db;
        let stmt = *self.statements.entry(sql.to_string()).or_insert_with(|| {
            let mut stmt = std::ptr::null_mut();
            // SAFETY: `db` is open; `sql` is valid for the call.
            let rc = unsafe {
                ffi::sqlite3_prepare_v2(
                    db,
                    sql.as_ptr().cast(),
                    sql.len() as i32,
                    &mut stmt,
                    std::ptr::null_mut(),
                )
            };
            assert_eq!(rc, ffi::SQLITE_OK, "{sql}");
            stmt
        });
        // SAFETY (whole block): `stmt` is a live statement of `db`; bound buffers are copied.
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
            for (i, arg) in args.iter().enumerate() {
                let index = i as i32 + 1;
                let rc = match arg {
                    Arg::Null => ffi::sqlite3_bind_null(stmt, index),
                    Arg::Int(v) => ffi::sqlite3_bind_int64(stmt, index, *v),
                    Arg::Real(v) => ffi::sqlite3_bind_double(stmt, index, *v),
                    Arg::Text(v) => ffi::sqlite3_bind_text64(
                        stmt,
                        index,
                        v.as_ptr().cast(),
                        v.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Arg::Blob(v) => ffi::sqlite3_bind_blob64(
                        stmt,
                        index,
                        v.as_ptr().cast(),
                        v.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                    ),
                };
                if rc != ffi::SQLITE_OK {
                    // A value over the length limit: refused alike on both connections.
                    return Outcome::Error(rc, "bind".into());
                }
            }
            match ffi::sqlite3_step(stmt) {
                ffi::SQLITE_ROW => {
                    let bytes = |p: *const u8| {
                        let n = ffi::sqlite3_column_bytes(stmt, 0) as usize;
                        if p.is_null() || n == 0 {
                            Vec::new()
                        } else {
                            std::slice::from_raw_parts(p, n).to_vec()
                        }
                    };
                    match ffi::sqlite3_column_type(stmt, 0) {
                        ffi::SQLITE_NULL => Outcome::Null,
                        ffi::SQLITE_INTEGER => Outcome::Int(ffi::sqlite3_column_int64(stmt, 0)),
                        ffi::SQLITE_FLOAT => {
                            Outcome::Real(ffi::sqlite3_column_double(stmt, 0).to_bits())
                        }
                        ffi::SQLITE_TEXT => Outcome::Text(bytes(ffi::sqlite3_column_text(stmt, 0))),
                        _ => Outcome::Blob(bytes(ffi::sqlite3_column_blob(stmt, 0).cast())),
                    }
                }
                rc => Outcome::Error(
                    rc,
                    CStr::from_ptr(ffi::sqlite3_errmsg(db))
                        .to_string_lossy()
                        .into_owned(),
                ),
            }
        }
    }
}

/// xorshift64*: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Characters and bytes inputs are built from.
const PIECES: &[&[u8]] = &[
    b"a",
    b"a",
    b"a",
    b"b",
    b"A",
    b"B",
    b"z",
    b"Z",
    b"0",
    b"7",
    b"f",
    b"F",
    b" ",
    b"-",
    b"x",
    b"%",
    b"_",
    b"*",
    b"?",
    b"[",
    b"]",
    b"^",
    b"\\",
    b"!",
    b"'",
    "é".as_bytes(),
    "É".as_bytes(),
    "ß".as_bytes(),
    "日".as_bytes(),
    "😀".as_bytes(),
    "\u{80}".as_bytes(),
    "\u{FFFD}".as_bytes(),
    "\u{FFFE}".as_bytes(),
    "\u{FFFF}".as_bytes(),
    b"\x80",
    b"\xbf",
    b"\xc3",
    b"\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe6\x97",
    b"\0",
];

const ESCAPES: &[&[u8]] = &[
    b"\\",
    b"\\",
    b"!",
    b"%",
    b"_",
    b"a",
    b"A",
    "é".as_bytes(),
    "😀".as_bytes(),
    b"\x80",
    b"\xc3",
    b"",
    b"ab",
    b"\0",
];

/// The pieces that are valid UTF-8 without NUL (the first 34 of [`PIECES`]): text the linear
/// paths take.
const VALID_PIECES: usize = 34;

fn text(rng: &mut Rng, max_pieces: usize) -> Vec<u8> {
    let n = if rng.chance(5) {
        rng.below(max_pieces * 8)
    } else {
        rng.below(max_pieces + 1)
    };
    let palette = if rng.chance(50) {
        &PIECES[..VALID_PIECES]
    } else {
        PIECES
    };
    (0..n).flat_map(|_| rng.pick(palette).to_vec()).collect()
}

/// Swaps U+FFFD, U+FFFE and U+FFFF for one another, which SQLite's decoder reads alike.
fn swap_replacement_chars(rng: &mut Rng, bytes: &mut [u8]) {
    for i in 2..bytes.len() {
        if bytes[i - 2] == 0xEF && bytes[i - 1] == 0xBF && matches!(bytes[i], 0xBD..=0xBF) {
            bytes[i] = *rng.pick(&[0xBD, 0xBE, 0xBF]);
        }
    }
}

/// A pattern derived from `from`: a slice of it with some characters turned into wildcards.
fn derived(rng: &mut Rng, from: &[u8], wildcards: &[&[u8]]) -> Vec<u8> {
    let (start, end) = if rng.chance(50) {
        (0, from.len())
    } else {
        let start = rng.below(from.len() + 1);
        (start, start + rng.below(from.len() - start + 1))
    };
    let mut out = Vec::new();
    if rng.chance(50) {
        out.extend_from_slice(rng.pick::<&[u8]>(wildcards));
    }
    for &b in &from[start..end] {
        if rng.chance(15) {
            out.extend_from_slice(rng.pick::<&[u8]>(wildcards));
        } else {
            out.push(b);
        }
    }
    if rng.chance(50) {
        out.extend_from_slice(rng.pick::<&[u8]>(wildcards));
    }
    if rng.chance(30) {
        swap_replacement_chars(rng, &mut out);
    }
    out
}

/// Wraps bytes as a random storage class: mostly text, sometimes a blob, NULL or a number.
fn as_arg(rng: &mut Rng, bytes: Vec<u8>) -> Arg {
    match rng.below(100) {
        0..=79 => Arg::Text(bytes),
        80..=89 => Arg::Blob(bytes),
        90..=92 => Arg::Null,
        93..=95 => Arg::Int(*rng.pick(&[0, 7, -12, 100, 1_234_567, i64::MIN, 77])),
        _ => Arg::Real(*rng.pick(&[0.5, -0.0, 1.5, 1e20, 7.0, 3.25e-5])),
    }
}

/// The SQL and arguments of one random case of `function`.
fn case(rng: &mut Rng, function: &str, size: usize) -> (String, Vec<Arg>) {
    let subject = text(rng, size);
    let sql = |name: &str, n: usize| {
        let params: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
        format!("SELECT {name}({})", params.join(", "))
    };
    match function {
        "instr" => {
            let needle = if rng.chance(70) {
                derived(rng, &subject, &[b"a"])
            } else {
                text(rng, 3)
            };
            (
                sql("instr", 2),
                vec![as_arg(rng, subject), as_arg(rng, needle)],
            )
        }
        "replace" => {
            let pattern = if rng.chance(70) {
                derived(rng, &subject, &[b"a"])
            } else {
                text(rng, 2)
            };
            let rep = text(rng, 4);
            (
                sql("replace", 3),
                vec![as_arg(rng, subject), as_arg(rng, pattern), as_arg(rng, rep)],
            )
        }
        "trim" | "ltrim" | "rtrim" => {
            let mut set = if rng.chance(60) {
                let edge = rng.below(subject.len().min(8) + 1);
                let mut set = subject[..edge].to_vec();
                set.extend_from_slice(&subject[subject.len() - edge..]);
                set
            } else {
                text(rng, 4)
            };
            if rng.chance(20) {
                set.extend(text(rng, 40));
            }
            (
                sql(function, 2),
                vec![as_arg(rng, subject), as_arg(rng, set)],
            )
        }
        "like" | "like3" | "glob" => {
            let wildcards: &[&[u8]] = if function == "glob" {
                &[
                    b"*", b"?", b"[a-c]", b"[^b]", b"[]a]", b"[", b"[z-a]", b"*[0-9]", b"**",
                ]
            } else {
                &[b"%", b"_", b"%%", b"\\", b"\\%", b"\\_", b"!"]
            };
            let mut pattern = if rng.chance(75) {
                derived(rng, &subject, wildcards)
            } else {
                text(rng, size)
            };
            if rng.chance(40) {
                // LIKE folds ASCII case only; GLOB does not fold at all.
                for b in pattern.iter_mut().filter(|b| b.is_ascii_alphabetic()) {
                    if rng.chance(50) {
                        *b ^= 0x20;
                    }
                }
            }
            let mut args = vec![as_arg(rng, pattern), as_arg(rng, subject)];
            let name = if function == "like3" {
                let escape = rng.pick(ESCAPES).to_vec();
                args.push(if rng.chance(3) {
                    Arg::Null
                } else {
                    Arg::Text(escape)
                });
                "like"
            } else {
                function
            };
            (sql(name, args.len()), args)
        }
        "unhex" => {
            let digits: &[&[u8]] = &[b"0", b"9", b"a", b"F", b"c"];
            let separators: &[&[u8]] = &[b" ", b"-", "é".as_bytes(), b"\xc3"];
            let mut hex = Vec::new();
            for _ in 0..rng.below(size) {
                match rng.below(20) {
                    0..=15 => {
                        hex.extend_from_slice(rng.pick::<&[u8]>(digits));
                        hex.extend_from_slice(rng.pick::<&[u8]>(digits));
                    }
                    16..=18 => hex.extend_from_slice(rng.pick::<&[u8]>(separators)),
                    _ => hex.extend_from_slice(rng.pick::<&[u8]>(PIECES)),
                }
            }
            let pass = text(rng, 3);
            let pass = if rng.chance(70) {
                [pass, " -é".as_bytes().to_vec()].concat()
            } else {
                pass
            };
            (sql("unhex", 2), vec![as_arg(rng, hex), as_arg(rng, pass)])
        }
        "printf" => {
            let specs: &[&str] = &[
                "%d", "%s", "%.*c", "%5.2f", "%q", "%Q", "%w", "%x", "%c", "%%", "ab", "%!.3g",
                "%,d", "%-8s|", "%*d", "%.3s", "%z", "%e", "%05d", "%i", "%u", "%o", "%",
            ];
            let format: String = (0..rng.below(4) + 1).map(|_| *rng.pick(specs)).collect();
            let mut args = vec![Arg::Text(format.into_bytes())];
            for _ in 0..rng.below(4) {
                args.push(match rng.below(4) {
                    0 => Arg::Int(*rng.pick(&[3, 40, 300, 100_000, -7])),
                    1 => Arg::Real(*rng.pick(&[2.5, -1e3, 1e300])),
                    2 => Arg::Null,
                    _ => Arg::Text(text(rng, size)),
                });
            }
            (sql("printf", args.len()), args)
        }
        other => unreachable!("{other}"),
    }
}

const FUNCTIONS: &[&str] = &[
    "instr", "replace", "trim", "ltrim", "rtrim", "like", "like3", "glob", "unhex", "printf",
];

#[test]
fn replacements_return_exactly_what_the_built_ins_return() {
    let cases: usize = std::env::var("CBI_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let guard_limits: Vec<(i32, i32)> = LIMITS.iter().map(|&(id, v, _)| (id, v)).collect();
    // Small limits make the "too big" and "pattern too complex" paths common.
    let small_limits = vec![
        (ffi::SQLITE_LIMIT_LENGTH, 300),
        (ffi::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 24),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut compared, mut overflows, mut near) = (0usize, 0usize, 0usize);
    // Per function: results that are NULL, errors, and (for the matchers) matches.
    let mut kinds: HashMap<&str, [usize; 3]> = HashMap::new();
    for (limits, size) in [(&guard_limits, 12), (&small_limits, 30)] {
        let mut reference = Db::open(limits, false);
        let mut ours = Db::open(limits, true);
        let mut unbounded = Db::open(&guard_limits, false);
        for function in FUNCTIONS {
            for _ in 0..cases {
                let (sql, args) = case(&mut rng, function, size);
                let expected = reference.eval(&sql, &args);
                let got = ours.eval(&sql, &args);
                compared += 1;
                let tally = kinds.entry(function).or_default();
                match &expected {
                    Outcome::Null => tally[0] += 1,
                    Outcome::Error(..) => tally[1] += 1,
                    Outcome::Int(1) if function.contains("like") || *function == "glob" => {
                        tally[2] += 1
                    }
                    Outcome::Blob(b) if !b.is_empty() => tally[2] += 1,
                    _ => {}
                }
                if got == expected {
                    continue;
                }

                // The intended difference: printf's silent NULL on overflow becomes an error.
                // Whether an output overflows is judged by its true length, from a connection
                // with room for it. Within a few bytes of the limit the built-in's own answer
                // depends on the connection's allocator state (a fresh connection and a used one
                // answer differently: NULL, the text, or "too big"), so any of those is its.
                let limit = limits
                    .iter()
                    .find(|(id, _)| *id == ffi::SQLITE_LIMIT_LENGTH)
                    .map_or(0, |(_, v)| *v as usize);
                let true_length = match unbounded.eval(&sql, &args) {
                    Outcome::Text(t) => Some(t.len()),
                    _ => None,
                };
                let toobig = Outcome::Error(ffi::SQLITE_TOOBIG, "string or blob too big".into());
                let overflow = *function == "printf"
                    && true_length.is_some_and(|n| n > limit)
                    && matches!(expected, Outcome::Null)
                    && got == toobig;
                let near_limit = *function == "printf"
                    && true_length.is_some_and(|n| n + 64 >= limit && n <= limit + 64)
                    && [&expected, &got]
                        .iter()
                        .all(|o| matches!(o, Outcome::Null | Outcome::Text(_)) || **o == toobig);
                overflows += usize::from(overflow);
                near += usize::from(near_limit && !overflow);
                assert!(
                    overflow || near_limit,
                    "{sql} with {args:?} under {limits:?}:\n  built-in:    {expected:?}\n  replacement: {got:?}"
                );
            }
        }
    }
    for function in FUNCTIONS {
        let [nulls, errors, matches] = kinds.get(function).copied().unwrap_or_default();
        println!(
            "  {function:>8}: {nulls} NULL, {errors} errors, {matches} matches (or non-empty blobs)"
        );
    }
    println!(
        "differential: {compared} cases, 0 differences; {overflows} printf overflows answered \
         \"too big\" instead of NULL, {near} printf outputs within 64 bytes of the limit"
    );
}
