//! Replacements for the SQLite built-ins whose cost grows faster than their input, registered
//! on every guarded connection with `sqlite3_create_function_v2` under the built-ins' names.
//!
//! SQLite runs a function call to its end: neither the progress handler nor `sqlite3_interrupt`
//! reaches inside one, so a single `instr()` over a large value could burn a core long after the
//! statement's deadline. Each function here returns exactly what the built-in returns (types,
//! NULL handling, UTF-8 character counting, numbers read as text, errors and their messages,
//! the `SQLITE_LIMIT_LENGTH` and `SQLITE_LIMIT_LIKE_PATTERN_LENGTH` checks) but:
//!
//! | function | built-in worst case | here |
//! |---|---|---|
//! | `instr(X, Y)` | O(\|X\|·\|Y\|) | `memmem`, linear |
//! | `replace(X, Y, Z)` | O(\|X\|·\|Y\|) | `memmem`, linear |
//! | `trim`/`ltrim`/`rtrim(X, Y)` | O(\|X\|·\|Y\|) | a trie of Y's characters, linear |
//! | `unhex(X, Y)` | O(\|X\|·\|Y\|) | a set of Y's characters, linear |
//! | `like(P, S)`, `like(P, S, E)`, `glob(P, S)` | O(\|S\|·\|P\|) | linear for literal text between `%`/`*` wildcards, the built-in's algorithm otherwise |
//!
//! and every one of them measures the work it does and stops with `SQLITE_INTERRUPT`
//! ("interrupted") once the statement's deadline has passed or the connection was interrupted.
//!
//! `printf`/`format` are linear but return NULL, not an error, when their output would exceed
//! `SQLITE_LIMIT_LENGTH` (`printf('%.*c', 60000000, 'x')`). Their replacement evaluates the
//! built-in on a private in-memory connection with the same limits and the same argument values,
//! and turns that silent NULL into SQLite's "string or blob too big" error (`SQLITE_TOOBIG`):
//! when the built-in answers NULL for a non-NULL format, the same call with one character put in
//! front of the format tells an empty output (then one character) from an overflow (NULL again).
//!
//! Audit of the rest of the SQLite allow-list ([`crate::sql::is_function_allowed`]): the other
//! string functions (`substr`, `upper`, `lower`, `length`, `hex`, `quote`, `char`, `unicode`,
//! `concat`, `concat_ws`, `soundex`, one-argument `trim`s and `unhex`), `printf`/`format`
//! (output bounded by `SQLITE_LIMIT_LENGTH` before it is built), the date and time functions
//! (linear in the format and modifiers), the math functions (constant time) and the JSON
//! functions (linear parses and path walks; nesting capped at 1000 by SQLite, arguments by
//! `SQLITE_LIMIT_FUNCTION_ARG`) are linear in their input, and aggregates do constant work per
//! row, between the virtual-machine steps the progress handler watches.

use std::{
    ffi::{CStr, c_int, c_void},
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
};

use libsqlite3_sys as ffi;
use memchr::memmem;

use super::{
    Clock,
    pattern::{self, CompareInfo},
};

/// Which built-in a registration replaces.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Instr,
    Replace,
    /// Bit 1: from the left, bit 2: from the right.
    Trim(u8),
    Like,
    Glob,
    Unhex,
    Printf,
    /// The keyed hash of data-policy masks (not a built-in; see [`MASK_HASH`]).
    MaskHash,
}

/// The name of the keyed hash that `hash` column masks of `[access]` call on SQLite:
/// `cbi_mask_hash(key, value)`, the first 32 hex digits of SHA-256 over the key, a zero byte
/// and the value's text; NULL for a NULL value. Only the policy rewrite writes it: it is not on
/// the validator's allow-list, so a statement that names it is refused.
pub(crate) const MASK_HASH: &str = crate::exec::SQLITE_MASK_HASH;

/// The replaced built-ins, by name and number of arguments.
const OVERRIDES: &[(&CStr, c_int, Kind)] = &[
    (c"instr", 2, Kind::Instr),
    (c"replace", 3, Kind::Replace),
    (c"trim", 2, Kind::Trim(3)),
    (c"ltrim", 2, Kind::Trim(1)),
    (c"rtrim", 2, Kind::Trim(2)),
    (c"like", 2, Kind::Like),
    (c"like", 3, Kind::Like),
    (c"glob", 2, Kind::Glob),
    (c"unhex", 2, Kind::Unhex),
    (c"printf", -1, Kind::Printf),
    (c"format", -1, Kind::Printf),
    (c"cbi_mask_hash", 2, Kind::MaskHash),
];

/// What one registration carries: the connection's statement clock, the function's kind and
/// the connection's `printf` evaluator.
struct FnData {
    clock: Arc<Clock>,
    kind: Kind,
    printf: Arc<Delegate>,
}

/// Registers the replacements on `db`. On failure returns the SQLite result code.
///
/// # Safety
/// `db` must be a valid, open connection not used by another thread during the call.
pub(crate) unsafe fn register(db: *mut ffi::sqlite3, clock: &Arc<Clock>) -> Result<(), c_int> {
    let printf = Arc::new(Delegate::default());
    for (name, n_arg, kind) in OVERRIDES {
        let data = Box::into_raw(Box::new(FnData {
            clock: Arc::clone(clock),
            kind: *kind,
            printf: Arc::clone(&printf),
        }));
        // SAFETY: `db` is valid (caller). `data` is a live allocation whose ownership passes to
        // SQLite with `drop_data` as destructor, which SQLite calls exactly once: when the
        // function is replaced or the connection closes, or right away if registration fails.
        let rc = unsafe {
            ffi::sqlite3_create_function_v2(
                db,
                name.as_ptr(),
                *n_arg,
                ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS,
                data.cast::<c_void>(),
                Some(call),
                None,
                None,
                Some(drop_data),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(rc);
        }
    }
    Ok(())
}

unsafe extern "C" fn drop_data(ptr: *mut c_void) {
    if !ptr.is_null() {
        // SAFETY: `ptr` came from `Box::into_raw` in `register`; SQLite calls this once.
        drop(unsafe { Box::from_raw(ptr.cast::<FnData>()) });
    }
}

/// Work units (about one byte or one character each) between two deadline checks.
const CHECK_EVERY: usize = 1 << 16;

/// The function call stopped because the statement's deadline passed or it was interrupted.
#[derive(Debug)]
struct Interrupted;

/// One invocation: its context and its share of the deadline checks.
struct Call<'a> {
    ctx: *mut ffi::sqlite3_context,
    db: *mut ffi::sqlite3,
    clock: &'a Clock,
    pending: usize,
}

impl Call<'_> {
    /// Counts `units` of work and, every [`CHECK_EVERY`] units, checks the deadline and the
    /// connection's interrupt flag.
    fn charge(&mut self, units: usize) -> Result<(), Interrupted> {
        self.pending += units;
        if self.pending < CHECK_EVERY {
            return Ok(());
        }
        self.pending = 0;
        if self.clock.expired() {
            self.clock.mark_timed_out();
            return Err(Interrupted);
        }
        // SAFETY: `db` is the connection running this call.
        if unsafe { ffi::sqlite3_is_interrupted(self.db) } != 0 {
            return Err(Interrupted);
        }
        Ok(())
    }

    fn limit(&self, id: c_int) -> usize {
        // SAFETY: `db` is the connection running this call; -1 only reads the limit.
        usize::try_from(unsafe { ffi::sqlite3_limit(self.db, id, -1) }).unwrap_or(0)
    }

    fn result_int(&self, v: i64) {
        // SAFETY: `ctx` is the live context of this call.
        unsafe { ffi::sqlite3_result_int64(self.ctx, v) }
    }

    fn result_text(&self, v: &[u8]) {
        // SAFETY: `ctx` is live; SQLite copies the `v.len()` bytes (SQLITE_TRANSIENT), and the
        // pointer of an empty slice is dangling but non-null, so an empty text results.
        unsafe {
            ffi::sqlite3_result_text64(
                self.ctx,
                v.as_ptr().cast(),
                v.len() as u64,
                ffi::SQLITE_TRANSIENT(),
                ffi::SQLITE_UTF8 as u8,
            )
        }
    }

    fn result_blob(&self, v: &[u8]) {
        // SAFETY: as in `result_text`.
        unsafe {
            ffi::sqlite3_result_blob64(
                self.ctx,
                v.as_ptr().cast(),
                v.len() as u64,
                ffi::SQLITE_TRANSIENT(),
            )
        }
    }

    fn result_error(&self, message: &CStr) {
        // SAFETY: `ctx` is live; SQLite copies the NUL-terminated message.
        unsafe { ffi::sqlite3_result_error(self.ctx, message.as_ptr(), -1) }
    }

    fn result_toobig(&self) {
        // SAFETY: `ctx` is live.
        unsafe { ffi::sqlite3_result_error_toobig(self.ctx) }
    }

    fn result_nomem(&self) {
        // SAFETY: `ctx` is live.
        unsafe { ffi::sqlite3_result_error_nomem(self.ctx) }
    }

    fn result_interrupted(&self) {
        self.result_error(c"interrupted");
        // SAFETY: `ctx` is live.
        unsafe { ffi::sqlite3_result_error_code(self.ctx, ffi::SQLITE_INTERRUPT) }
    }

    /// `contextMalloc`'s check: an allocation above `SQLITE_LIMIT_LENGTH` is "too big".
    fn fits(&self, bytes: usize) -> bool {
        if bytes > self.limit(ffi::SQLITE_LIMIT_LENGTH) {
            self.result_toobig();
            return false;
        }
        true
    }
}

/// The entry point of every replacement. Never unwinds.
unsafe extern "C" fn call(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: the user data is the `FnData` registered with this function, alive until SQLite
    // calls `drop_data`, which it never does while a call is running.
    let Some(data) = (unsafe { ffi::sqlite3_user_data(ctx).cast::<FnData>().as_ref() }) else {
        return;
    };
    let args: &[*mut ffi::sqlite3_value] = match usize::try_from(argc) {
        // SAFETY: SQLite passes `argc` valid value pointers.
        Ok(n) if n > 0 && !argv.is_null() => unsafe { std::slice::from_raw_parts(argv, n) },
        _ => &[],
    };
    let mut this = Call {
        ctx,
        // SAFETY: `ctx` is live.
        db: unsafe { ffi::sqlite3_context_db_handle(ctx) },
        clock: &data.clock,
        pending: 0,
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `args` are the live argument values of this call (see each function).
        unsafe {
            match (data.kind, args) {
                (Kind::Instr, [a, b]) => instr(&mut this, *a, *b),
                (Kind::Replace, [a, b, c]) => replace(&mut this, *a, *b, *c),
                (Kind::Trim(flags), [a, b]) => trim(&mut this, *a, *b, flags),
                (Kind::Like, [p, s]) => like(&mut this, *p, *s, None, pattern::LIKE),
                (Kind::Like, [p, s, e]) => like(&mut this, *p, *s, Some(*e), pattern::LIKE),
                (Kind::Glob, [p, s]) => like(&mut this, *p, *s, None, pattern::GLOB),
                (Kind::Unhex, [a, b]) => unhex(&mut this, *a, *b),
                (Kind::Printf, args) => printf(&this, args, &data.printf),
                (Kind::MaskHash, [k, v]) => {
                    mask_hash(&this, *k, *v);
                    Ok(())
                }
                _ => {
                    this.result_error(c"wrong number of arguments");
                    Ok(())
                }
            }
        }
    }));
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(Interrupted)) => this.result_interrupted(),
        // SAFETY: `ctx` is live.
        Err(_) => unsafe {
            ffi::sqlite3_result_error(ctx, c"internal error in a SQL function".as_ptr(), -1)
        },
    }
}

/// Owns a copy made with `sqlite3_value_dup`, freed on drop.
struct DupValue(*mut ffi::sqlite3_value);

impl Drop for DupValue {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `sqlite3_value_dup` (or is null, a no-op).
        unsafe { ffi::sqlite3_value_free(self.0) }
    }
}

/// `sqlite3_value_type`.
///
/// # Safety
/// `v` must be a live value.
unsafe fn value_type(v: *mut ffi::sqlite3_value) -> c_int {
    // SAFETY: caller.
    unsafe { ffi::sqlite3_value_type(v) }
}

/// `sqlite3_value_bytes`.
///
/// # Safety
/// `v` must be a live value.
unsafe fn value_bytes(v: *mut ffi::sqlite3_value) -> usize {
    // SAFETY: caller.
    usize::try_from(unsafe { ffi::sqlite3_value_bytes(v) }).unwrap_or(0)
}

/// `cbi_mask_hash(key, value)` (see [`MASK_HASH`]).
///
/// # Safety
/// `k` and `v` must be live values of the running call.
unsafe fn mask_hash(this: &Call<'_>, k: *mut ffi::sqlite3_value, v: *mut ffi::sqlite3_value) {
    use sha2::{Digest, Sha256};
    // SAFETY: caller; each slice is used before the next value is read.
    let Some(value) = (unsafe { value_text(v) }).map(<[u8]>::to_vec) else {
        // SAFETY: `ctx` is live.
        unsafe { ffi::sqlite3_result_null(this.ctx) };
        return;
    };
    // SAFETY: as above.
    let key = unsafe { value_text(k) }.unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(key);
    hasher.update([0u8]);
    hasher.update(&value);
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(32);
    for b in &digest[..16] {
        hex.push_str(&format!("{b:02x}"));
    }
    this.result_text(hex.as_bytes());
}

/// `sqlite3_value_text` with its length, or `None` for NULL (or out of memory).
///
/// # Safety
/// `v` must be a live value, not converted again while the slice is used.
unsafe fn value_text<'a>(v: *mut ffi::sqlite3_value) -> Option<&'a [u8]> {
    // SAFETY: caller; `sqlite3_value_bytes` after `sqlite3_value_text` does not convert.
    unsafe {
        let p = ffi::sqlite3_value_text(v);
        if p.is_null() {
            return None;
        }
        Some(std::slice::from_raw_parts(p, value_bytes(v)))
    }
}

/// `sqlite3_value_blob` with its length (empty for an empty or NULL blob).
///
/// # Safety
/// As [`value_text`].
unsafe fn value_blob<'a>(v: *mut ffi::sqlite3_value) -> &'a [u8] {
    // SAFETY: caller.
    unsafe {
        let p = ffi::sqlite3_value_blob(v).cast::<u8>();
        let n = value_bytes(v);
        if p.is_null() || n == 0 {
            return &[];
        }
        std::slice::from_raw_parts(p, n)
    }
}

/// `instr(X, Y)`: the 1-based position of the first `Y` in `X`, counted in characters for
/// text and bytes for two blobs; 0 when absent, 1 for an empty `Y`, NULL when either is NULL.
unsafe fn instr(
    call: &mut Call<'_>,
    a: *mut ffi::sqlite3_value,
    b: *mut ffi::sqlite3_value,
) -> Result<(), Interrupted> {
    // SAFETY (whole body): `a` and `b` are live argument values; each slice is used before any
    // further conversion of its value.
    unsafe {
        let (type_a, type_b) = (value_type(a), value_type(b));
        if type_a == ffi::SQLITE_NULL || type_b == ffi::SQLITE_NULL {
            return Ok(());
        }
        let n_needle = value_bytes(b);
        let _ = value_bytes(a);
        if n_needle == 0 {
            call.result_int(1);
            return Ok(());
        }
        let mut dups = (
            DupValue(std::ptr::null_mut()),
            DupValue(std::ptr::null_mut()),
        );
        let (hay, needle, is_text) = if type_a == ffi::SQLITE_BLOB && type_b == ffi::SQLITE_BLOB {
            (value_blob(a), value_blob(b), false)
        } else if type_a != ffi::SQLITE_BLOB && type_b != ffi::SQLITE_BLOB {
            match (value_text(a), value_text(b)) {
                (Some(h), Some(n)) => (h, n, true),
                _ => {
                    call.result_nomem();
                    return Ok(());
                }
            }
        } else {
            // One blob, one not: both read as text, on copies (as the built-in does).
            dups.0 = DupValue(ffi::sqlite3_value_dup(a));
            let Some(h) = value_text(dups.0.0) else {
                call.result_nomem();
                return Ok(());
            };
            dups.1 = DupValue(ffi::sqlite3_value_dup(b));
            let Some(n) = value_text(dups.1.0) else {
                call.result_nomem();
                return Ok(());
            };
            (h, n, true)
        };
        let position = instr_position(call, hay, needle, is_text)?;
        call.result_int(position);
        Ok(())
    }
}

/// The position `instr` reports for a non-empty `needle`.
fn instr_position(
    call: &mut Call<'_>,
    hay: &[u8],
    needle: &[u8],
    is_text: bool,
) -> Result<i64, Interrupted> {
    let Some(&first) = needle.first() else {
        return Ok(1);
    };
    if needle.len() > hay.len() {
        return Ok(0);
    }
    call.charge(hay.len())?;
    let is_continuation = |b: u8| b & 0xc0 == 0x80;
    let found = if is_text && is_continuation(first) {
        // The built-in only tries the start and the bytes that begin a character; a needle
        // that begins inside one can only match at the start.
        hay.starts_with(needle).then_some(0)
    } else {
        memmem::find(hay, needle)
    };
    Ok(match found {
        None => 0,
        Some(at) if !is_text => at as i64 + 1,
        // Characters before `at`: the start, then every byte that does not continue one.
        Some(at) => 1 + hay[1..=at].iter().filter(|&&b| !is_continuation(b)).count() as i64,
    })
}

/// `replace(X, Y, Z)`: `X` with every non-overlapping occurrence of `Y`, left to right,
/// replaced by `Z`; always text; `X` unchanged when `Y` is empty; NULL when any is NULL.
unsafe fn replace(
    call: &mut Call<'_>,
    a: *mut ffi::sqlite3_value,
    b: *mut ffi::sqlite3_value,
    c: *mut ffi::sqlite3_value,
) -> Result<(), Interrupted> {
    // SAFETY (whole body): live argument values, each converted once, in the built-in's order.
    let (string, pattern, rep) = unsafe {
        let Some(string) = value_text(a) else {
            return Ok(());
        };
        let Some(pattern) = value_text(b) else {
            return Ok(());
        };
        if pattern.first().is_none_or(|&b| b == 0) {
            call.result_text(string);
            return Ok(());
        }
        let Some(rep) = value_text(c) else {
            return Ok(());
        };
        (string, pattern, rep)
    };
    if !call.fits(string.len() + 1) {
        return Ok(());
    }
    call.charge(string.len())?;
    let limit = call.limit(ffi::SQLITE_LIMIT_LENGTH);
    let grows = rep.len() > pattern.len();
    let mut out = Vec::with_capacity(string.len());
    let mut done = 0;
    for at in memmem::find_iter(string, pattern) {
        out.extend_from_slice(&string[done..at]);
        out.extend_from_slice(rep);
        done = at + pattern.len();
        if grows && out.len() + (string.len() - done) > limit {
            call.result_toobig();
            return Ok(());
        }
        call.charge(rep.len())?;
    }
    out.extend_from_slice(&string[done..]);
    call.result_text(&out);
    Ok(())
}

/// The characters of a `trim` set (`SQLITE_SKIP_UTF8` units, in order), as a trie that finds,
/// at a position of the input, the first character of the set that the input starts with.
struct CharTrie {
    /// Per node: the first set index of the character ending there (`u32::MAX`: none).
    first: Vec<u32>,
    /// Edges below the root, keyed by (node, byte).
    edges: std::collections::HashMap<(u32, u8), u32>,
    /// The root's edges, by byte.
    root: [u32; 256],
}

impl CharTrie {
    const NONE: u32 = u32::MAX;

    /// Splits `set` (up to its first NUL) into characters and indexes them.
    fn new(set: &[u8]) -> (Self, usize) {
        let set = pattern::c_str(set);
        let mut trie = Self {
            first: vec![Self::NONE],
            edges: std::collections::HashMap::new(),
            root: [Self::NONE; 256],
        };
        let (mut i, mut index) = (0, 0u32);
        while i < set.len() {
            let start = i;
            pattern::skip_utf8(set, &mut i);
            trie.insert(&set[start..i.min(set.len())], index);
            index += 1;
        }
        (trie, index as usize)
    }

    fn insert(&mut self, ch: &[u8], index: u32) {
        let mut node = 0u32;
        for (depth, &byte) in ch.iter().enumerate() {
            let next = if depth == 0 {
                self.root[usize::from(byte)]
            } else {
                self.edges.get(&(node, byte)).copied().unwrap_or(Self::NONE)
            };
            node = if next == Self::NONE {
                let new = self.first.len() as u32;
                self.first.push(Self::NONE);
                if depth == 0 {
                    self.root[usize::from(byte)] = new;
                } else {
                    self.edges.insert((node, byte), new);
                }
                new
            } else {
                next
            };
        }
        let slot = &mut self.first[node as usize];
        *slot = (*slot).min(index);
    }

    /// Walks `input` from its start; calls `found(length, index)` for each set character that
    /// is a prefix of it.
    fn walk(&self, input: &[u8], mut found: impl FnMut(usize, u32)) {
        let mut node = 0u32;
        for (depth, &byte) in input.iter().enumerate() {
            let next = if depth == 0 {
                self.root[usize::from(byte)]
            } else {
                self.edges.get(&(node, byte)).copied().unwrap_or(Self::NONE)
            };
            if next == Self::NONE {
                return;
            }
            node = next;
            let index = self.first[node as usize];
            if index != Self::NONE {
                found(depth + 1, index);
            }
        }
    }

    /// The length of the first set character (lowest index) that `input` starts with.
    fn prefix(&self, input: &[u8]) -> Option<usize> {
        let mut best: Option<(u32, usize)> = None;
        self.walk(input, |len, index| {
            if best.is_none_or(|(i, _)| index < i) {
                best = Some((index, len));
            }
        });
        best.map(|(_, len)| len)
    }
}

/// `trim`/`ltrim`/`rtrim(X, Y)`: removes from the chosen ends of `X` every character of `Y`;
/// at each step the first character of `Y` (in order) that matches is removed; always text.
unsafe fn trim(
    call: &mut Call<'_>,
    a: *mut ffi::sqlite3_value,
    b: *mut ffi::sqlite3_value,
    flags: u8,
) -> Result<(), Interrupted> {
    // SAFETY (whole body): live argument values, each converted once, in the built-in's order.
    let (input, set) = unsafe {
        if value_type(a) == ffi::SQLITE_NULL {
            return Ok(());
        }
        let Some(input) = value_text(a) else {
            return Ok(());
        };
        let Some(set) = value_text(b) else {
            return Ok(());
        };
        (input, set)
    };
    call.charge(input.len() + set.len())?;
    let (trie, n_chars) = CharTrie::new(set);
    if n_chars == 0 {
        call.result_text(input);
        return Ok(());
    }
    let entry = std::mem::size_of::<*const u8>() + std::mem::size_of::<u32>();
    if !call.fits(n_chars.saturating_mul(entry)) {
        return Ok(());
    }
    let (mut start, mut end) = (0, input.len());
    if flags & 1 != 0 {
        while start < end {
            match trie.prefix(&input[start..end]) {
                Some(len) => start += len,
                None => break,
            }
            call.charge(1)?;
        }
    }
    if flags & 2 != 0 {
        // A set character that ends at `end` is either one byte, or a lead byte followed by
        // only continuation bytes up to `end`: that lead is the byte before the run of
        // continuation bytes that ends at `end`. `run` caches, for the current run, the set
        // characters that begin at its lead, by length.
        let is_continuation = |b: u8| b & 0xc0 == 0x80;
        let mut run: Option<(usize, Vec<u32>)> = None;
        while end > start {
            let mut best: Option<(u32, usize)> = None;
            trie.walk(&input[end - 1..end], |len, index| best = Some((index, len)));
            if is_continuation(input[end - 1]) {
                let lead = match &run {
                    Some((lead, _)) if *lead < end - 1 => *lead,
                    _ => {
                        let mut j = end - 1;
                        while j > start && is_continuation(input[j]) {
                            j -= 1;
                        }
                        let mut by_len = vec![CharTrie::NONE; end - j + 1];
                        trie.walk(&input[j..end], |len, index| by_len[len] = index);
                        call.charge(end - j)?;
                        run = Some((j, by_len));
                        j
                    }
                };
                if let Some((_, by_len)) = &run
                    && input[lead] >= 0xc0
                    && !is_continuation(input[lead])
                {
                    let len = end - lead;
                    let index = by_len.get(len).copied().unwrap_or(CharTrie::NONE);
                    if index != CharTrie::NONE && best.is_none_or(|(i, _)| index < i) {
                        best = Some((index, len));
                    }
                }
            }
            match best {
                Some((_, len)) => end -= len,
                None => break,
            }
            call.charge(1)?;
        }
    }
    call.result_text(&input[start..end]);
    Ok(())
}

/// `unhex(X, Y)`: the blob of the hexadecimal digit pairs of `X`, where characters of `Y` may
/// appear between pairs; NULL when anything else appears (or either argument is NULL).
unsafe fn unhex(
    call: &mut Call<'_>,
    a: *mut ffi::sqlite3_value,
    b: *mut ffi::sqlite3_value,
) -> Result<(), Interrupted> {
    // SAFETY (whole body): live argument values, each converted once, in the built-in's order.
    let (hex, pass) = unsafe {
        let hex = value_text(a);
        let pass = value_text(b);
        match (hex, pass) {
            (Some(h), Some(p)) => (h, p),
            _ => return Ok(()),
        }
    };
    if !call.fits(hex.len() / 2 + 1) {
        return Ok(());
    }
    call.charge(hex.len() + pass.len())?;
    let mut allowed = std::collections::HashSet::new();
    let mut i = 0;
    while i < pass.len() {
        // `strContainsChar` reads the whole value, NUL bytes included.
        let ch = if pass[i] < 0x80 {
            i += 1;
            u32::from(pass[i - 1])
        } else {
            pattern::read_utf8(pass, &mut i)
        };
        allowed.insert(ch);
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let hex = pattern::c_str(hex);
    let mut out = Vec::with_capacity(hex.len() / 2);
    let mut i = 0;
    let at = |i: usize| hex.get(i).copied().unwrap_or(0);
    while at(i) != 0 {
        let mut c = at(i);
        while digit(c).is_none() {
            let ch = pattern::read_utf8(hex, &mut i);
            if !allowed.contains(&ch) {
                return Ok(());
            }
            c = at(i);
            if c == 0 {
                call.result_blob(&out);
                return Ok(());
            }
        }
        i += 1;
        let d = at(i);
        i += 1;
        match (digit(c), digit(d)) {
            (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
            _ => return Ok(()),
        }
    }
    call.result_blob(&out);
    Ok(())
}

/// `like(P, S)`, `like(P, S, E)` and `glob(P, S)`: `S LIKE P [ESCAPE E]` and `S GLOB P`.
unsafe fn like(
    call: &mut Call<'_>,
    pattern_value: *mut ffi::sqlite3_value,
    string_value: *mut ffi::sqlite3_value,
    escape_value: Option<*mut ffi::sqlite3_value>,
    base: CompareInfo,
) -> Result<(), Interrupted> {
    // SAFETY (whole body): live argument values, each converted once, in the built-in's order.
    let (pattern_bytes, string_bytes, info, escape) = unsafe {
        let n_pattern = value_bytes(pattern_value);
        if n_pattern > call.limit(ffi::SQLITE_LIMIT_LIKE_PATTERN_LENGTH) {
            call.result_error(c"LIKE or GLOB pattern too complex");
            return Ok(());
        }
        let mut info = base;
        let escape = match escape_value {
            Some(e) => {
                let Some(esc) = value_text(e) else {
                    return Ok(());
                };
                if pattern::char_len(esc) != 1 {
                    call.result_error(c"ESCAPE expression must be a single character");
                    return Ok(());
                }
                let escape = pattern::read_utf8(pattern::c_str(esc), &mut 0);
                if escape == info.match_all {
                    info.match_all = 0;
                }
                if escape == info.match_one {
                    info.match_one = 0;
                }
                escape
            }
            None => info.match_set,
        };
        let pattern_bytes = value_text(pattern_value);
        let string_bytes = value_text(string_value);
        match (pattern_bytes, string_bytes) {
            (Some(p), Some(s)) => (p, s, info, escape),
            _ => return Ok(()),
        }
    };
    let (pattern_bytes, string_bytes) =
        (pattern::c_str(pattern_bytes), pattern::c_str(string_bytes));
    call.charge(string_bytes.len())?;
    let mut budget = |units: usize| call.charge(units).is_ok();
    match pattern::matches(pattern_bytes, string_bytes, info, escape, &mut budget) {
        Ok(matched) => {
            call.result_int(i64::from(matched));
            Ok(())
        }
        Err(pattern::Stopped) => Err(Interrupted),
    }
}

/// A private in-memory connection that evaluates the built-in `printf`, with one prepared
/// `SELECT printf(?1, ..., ?n)` per number of arguments. Opened on first use, closed with the
/// guarded connection (when SQLite drops the functions' data).
#[derive(Default)]
struct Delegate(std::sync::Mutex<Option<Helper>>);

struct Helper {
    db: *mut ffi::sqlite3,
    statements: std::collections::HashMap<usize, *mut ffi::sqlite3_stmt>,
}

// SAFETY: the helper connection is only ever used under the `Delegate`'s lock (and SQLite is
// built thread-safe); nothing else holds its pointers.
unsafe impl Send for Helper {}

impl Drop for Helper {
    fn drop(&mut self) {
        // SAFETY: the statements and the connection are this helper's own, finalized and
        // closed exactly once, statements first.
        unsafe {
            for stmt in self.statements.values() {
                ffi::sqlite3_finalize(*stmt);
            }
            ffi::sqlite3_close(self.db);
        }
    }
}

impl Helper {
    fn open() -> Result<Self, String> {
        let mut db = std::ptr::null_mut();
        // SAFETY: opens a private in-memory database; `db` is closed by `Drop` (also when the
        // open failed and left a handle to close).
        let rc = unsafe {
            ffi::sqlite3_open_v2(
                c":memory:".as_ptr(),
                &mut db,
                ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
                std::ptr::null(),
            )
        };
        let helper = Self {
            db,
            statements: std::collections::HashMap::new(),
        };
        if rc != ffi::SQLITE_OK || db.is_null() {
            return Err(format!("cannot open the printf evaluator (code {rc})"));
        }
        for &(limit, value, _) in super::LIMITS {
            // SAFETY: `db` is open and used by this thread only.
            unsafe { ffi::sqlite3_limit(db, limit, value) };
        }
        Ok(helper)
    }

    fn statement(&mut self, n_args: usize) -> Result<*mut ffi::sqlite3_stmt, String> {
        if let Some(stmt) = self.statements.get(&n_args) {
            return Ok(*stmt);
        }
        let params: Vec<String> = (1..=n_args).map(|i| format!("?{i}")).collect();
        let sql = format!("SELECT printf({})", params.join(", "));
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `db` is open; the SQL is a valid C string for the call's duration.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                self.db,
                sql.as_ptr().cast(),
                sql.len() as c_int,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK || stmt.is_null() {
            // SAFETY: finalizing null is a no-op.
            unsafe { ffi::sqlite3_finalize(stmt) };
            return Err(format!("cannot prepare the printf evaluator (code {rc})"));
        }
        self.statements.insert(n_args, stmt);
        Ok(stmt)
    }
}

/// `printf(F, ...)`/`format(F, ...)`: the built-in's result, or "string or blob too big" where
/// the built-in silently answers NULL because its output would exceed `SQLITE_LIMIT_LENGTH`.
fn printf(
    call: &Call<'_>,
    args: &[*mut ffi::sqlite3_value],
    delegate: &Delegate,
) -> Result<(), Interrupted> {
    let mut slot = match delegate.0.lock() {
        Ok(slot) => slot,
        Err(poisoned) => poisoned.into_inner(),
    };
    if slot.is_none() {
        match Helper::open() {
            Ok(helper) => *slot = Some(helper),
            Err(e) => {
                call.result_error(&std::ffi::CString::new(e).unwrap_or_default());
                return Ok(());
            }
        }
    }
    let Some(helper) = slot.as_mut() else {
        return Ok(());
    };
    // The calling connection's limits (the guard sets the same, but stay exact regardless).
    for &(limit, _, _) in super::LIMITS {
        // SAFETY: both connections are open; the helper is used under its lock.
        unsafe { ffi::sqlite3_limit(helper.db, limit, ffi::sqlite3_limit(call.db, limit, -1)) };
    }
    let stmt = match helper.statement(args.len()) {
        Ok(stmt) => stmt,
        Err(e) => {
            call.result_error(&std::ffi::CString::new(e).unwrap_or_default());
            return Ok(());
        }
    };
    // SAFETY (whole block): `stmt` belongs to the helper, used under its lock; `args` are the
    // live argument values of this call; the statement is reset before the lock is released.
    unsafe {
        let first = evaluate(helper.db, stmt, args, None);
        let outcome = match first {
            Evaluated::Null if !args.is_empty() && value_type(args[0]) != ffi::SQLITE_NULL => {
                let format = value_text(args[0]).map(pattern::c_str).unwrap_or_default();
                let mut probe = Vec::with_capacity(format.len() + 1);
                probe.push(b'x');
                probe.extend_from_slice(format);
                match evaluate(helper.db, stmt, args, Some(&probe)) {
                    Evaluated::Null => {
                        call.result_toobig();
                        return Ok(());
                    }
                    Evaluated::Error(code, e) => Evaluated::Error(code, e),
                    Evaluated::Value => Evaluated::Null,
                }
            }
            other => other,
        };
        match outcome {
            Evaluated::Null => {}
            Evaluated::Value => {
                ffi::sqlite3_result_value(call.ctx, ffi::sqlite3_column_value(stmt, 0))
            }
            Evaluated::Error(code, e) => {
                call.result_error(&std::ffi::CString::new(e).unwrap_or_default());
                ffi::sqlite3_result_error_code(call.ctx, code);
            }
        }
        ffi::sqlite3_reset(stmt);
        ffi::sqlite3_clear_bindings(stmt);
    }
    Ok(())
}

enum Evaluated {
    /// The statement is positioned on a row with a non-NULL value.
    Value,
    Null,
    /// The statement failed: its result code and message.
    Error(c_int, String),
}

/// Runs the helper's `printf` statement on `args` (with `format` in place of the first one).
/// On `Value` the statement stays on its row, for the caller to copy the value.
///
/// # Safety
/// `db` and `stmt` are the helper's, used under its lock; `args` are live values.
unsafe fn evaluate(
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
    args: &[*mut ffi::sqlite3_value],
    format: Option<&[u8]>,
) -> Evaluated {
    // SAFETY: caller.
    unsafe {
        ffi::sqlite3_reset(stmt);
        for (i, arg) in args.iter().enumerate() {
            let index = i as c_int + 1;
            match (i, format) {
                (0, Some(f)) => ffi::sqlite3_bind_text64(
                    stmt,
                    index,
                    f.as_ptr().cast(),
                    f.len() as u64,
                    ffi::SQLITE_TRANSIENT(),
                    ffi::SQLITE_UTF8 as u8,
                ),
                _ => ffi::sqlite3_bind_value(stmt, index, *arg),
            };
        }
        match ffi::sqlite3_step(stmt) {
            ffi::SQLITE_ROW if ffi::sqlite3_column_type(stmt, 0) == ffi::SQLITE_NULL => {
                Evaluated::Null
            }
            ffi::SQLITE_ROW => Evaluated::Value,
            rc => Evaluated::Error(
                rc,
                CStr::from_ptr(ffi::sqlite3_errmsg(db))
                    .to_string_lossy()
                    .into_owned(),
            ),
        }
    }
}
