//! `LIKE` and `GLOB` matching with SQLite's exact semantics and a bounded cost.
//!
//! [`matches`] is a port of SQLite 3.51's `patternCompare` (`func.c`): the same lenient UTF-8
//! decoding (`sqlite3Utf8Read`: lone continuation bytes are characters of their own, malformed
//! sequences, surrogates and U+FFFE/U+FFFF read as U+FFFD), ASCII-only case folding for `LIKE`,
//! `_`/`?` matching one decoded character, `GLOB` character classes with `^`, ranges and a
//! leading `]`, and the escape character. Strings end at their first NUL byte, as in C.
//!
//! The port keeps SQLite's worst case (O(N·M) for a pattern of M bytes over N bytes), so it
//! reports every step to a [`Budget`] that can stop it; and the common shape, literal text
//! between `%` (or `*`) wildcards over valid UTF-8, is answered by [`fast_match`] in linear
//! time with `memmem` instead.

use memchr::memmem;

/// How one pattern language reads its special characters (SQLite's `compareInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CompareInfo {
    /// The "any sequence" wildcard (`%`, `*`); 0 when the escape character took its place.
    pub(crate) match_all: u32,
    /// The "one character" wildcard (`_`, `?`); 0 when the escape character took its place.
    pub(crate) match_one: u32,
    /// `[` for GLOB's character classes, 0 for LIKE.
    pub(crate) match_set: u32,
    /// Whether ASCII letters match regardless of case (LIKE).
    pub(crate) no_case: bool,
}

/// `GLOB`: `*`, `?`, `[...]`, case-sensitive.
pub(crate) const GLOB: CompareInfo = CompareInfo {
    match_all: '*' as u32,
    match_one: '?' as u32,
    match_set: '[' as u32,
    no_case: false,
};

/// `LIKE`: `%`, `_`, ASCII case folding.
pub(crate) const LIKE: CompareInfo = CompareInfo {
    match_all: '%' as u32,
    match_one: '_' as u32,
    match_set: 0,
    no_case: true,
};

/// Receives the work done by a match; answering `false` stops it.
pub(crate) trait Budget {
    /// Called with the units of work done since the last call.
    fn spend(&mut self, units: usize) -> bool;
}

impl<F: FnMut(usize) -> bool> Budget for F {
    fn spend(&mut self, units: usize) -> bool {
        self(units)
    }
}

/// The match was stopped by its [`Budget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stopped;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Match,
    NoMatch,
    /// No match, and no later start position of an enclosing wildcard can match either.
    NoWildcardMatch,
    Stopped,
}

/// The prefix of `bytes` before its first NUL: the string C code sees.
pub(crate) fn c_str(bytes: &[u8]) -> &[u8] {
    memchr::memchr(0, bytes).map_or(bytes, |n| &bytes[..n])
}

/// The byte at `i`, or the terminating NUL past the end.
fn at(z: &[u8], i: usize) -> u8 {
    z.get(i).copied().unwrap_or(0)
}

/// The lead-byte table of `sqlite3Utf8Read`.
const UTF8_TRANS1: [u8; 64] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x00, 0x01, 0x02, 0x03, 0x00, 0x01, 0x00, 0x00,
];

/// `sqlite3Utf8Read`: decodes one character at `*i` and moves past it (past the end, it reads
/// the terminating NUL as 0).
pub(crate) fn read_utf8(z: &[u8], i: &mut usize) -> u32 {
    let mut c = u32::from(at(z, *i));
    *i += 1;
    if c >= 0xc0 {
        c = u32::from(UTF8_TRANS1[(c - 0xc0) as usize]);
        while at(z, *i) & 0xc0 == 0x80 {
            c = (c << 6) + u32::from(0x3f & at(z, *i));
            *i += 1;
        }
        if c < 0x80 || (c & 0xFFFF_F800) == 0xD800 || (c & 0xFFFF_FFFE) == 0xFFFE {
            c = 0xFFFD;
        }
    }
    c
}

/// `SQLITE_SKIP_UTF8`: moves past one character without decoding it.
pub(crate) fn skip_utf8(z: &[u8], i: &mut usize) {
    let lead = at(z, *i);
    *i += 1;
    if lead >= 0xc0 {
        while at(z, *i) & 0xc0 == 0x80 {
            *i += 1;
        }
    }
}

/// `sqlite3Utf8CharLen(z, -1)`: the number of characters before the first NUL.
pub(crate) fn char_len(z: &[u8]) -> usize {
    let z = c_str(z);
    let mut i = 0;
    let mut n = 0;
    while i < z.len() {
        skip_utf8(z, &mut i);
        n += 1;
    }
    n
}

fn to_lower(c: u32) -> u32 {
    if c < 0x80 {
        u32::from((c as u8).to_ascii_lowercase())
    } else {
        c
    }
}

fn to_upper(c: u32) -> u32 {
    if c < 0x80 {
        u32::from((c as u8).to_ascii_uppercase())
    } else {
        c
    }
}

/// Work units between two budget reports.
const REPORT_EVERY: usize = 4096;

struct Matcher<'a, B: Budget> {
    pattern: &'a [u8],
    string: &'a [u8],
    info: CompareInfo,
    match_other: u32,
    budget: &'a mut B,
    pending: usize,
}

impl<B: Budget> Matcher<'_, B> {
    /// Counts `units` of work; `false` once the budget says stop.
    fn work(&mut self, units: usize) -> bool {
        self.pending += units;
        if self.pending >= REPORT_EVERY {
            let spent = std::mem::take(&mut self.pending);
            return self.budget.spend(spent);
        }
        true
    }

    /// `patternCompare(zPattern + p, zString + s)`.
    fn compare(&mut self, mut p: usize, mut s: usize) -> Outcome {
        let (pattern, string, info) = (self.pattern, self.string, self.info);
        let (match_all, match_one, match_other) =
            (info.match_all, info.match_one, self.match_other);
        // One past the last escaped pattern character (`zEscaped`).
        let mut escaped: Option<usize> = None;
        loop {
            if !self.work(1) {
                return Outcome::Stopped;
            }
            let mut c = read_utf8(pattern, &mut p);
            if c == 0 {
                break;
            }
            if c == match_all {
                // Skip further wildcards; each "one character" wildcard consumes one character.
                loop {
                    c = read_utf8(pattern, &mut p);
                    if c == match_all || (c == match_one && match_one != 0) {
                        if c == match_one && read_utf8(string, &mut s) == 0 {
                            return Outcome::NoWildcardMatch;
                        }
                    } else {
                        break;
                    }
                }
                if c == 0 {
                    return Outcome::Match;
                } else if c == match_other {
                    if info.match_set == 0 {
                        c = read_utf8(pattern, &mut p);
                        if c == 0 {
                            return Outcome::NoWildcardMatch;
                        }
                    } else {
                        // "[...]" right after the wildcard: try every position.
                        while at(string, s) != 0 {
                            let r = self.compare(p - 1, s);
                            if r != Outcome::NoMatch {
                                return r;
                            }
                            skip_utf8(string, &mut s);
                        }
                        return Outcome::NoWildcardMatch;
                    }
                }
                if c < 0x80 {
                    let (upper, lower) = if info.no_case {
                        (to_upper(c) as u8, to_lower(c) as u8)
                    } else {
                        (c as u8, c as u8)
                    };
                    loop {
                        // strcspn(zString, zStop)
                        let rest = string.get(s..).unwrap_or_default();
                        let skip = memchr::memchr2(upper, lower, rest).unwrap_or(rest.len());
                        if !self.work(1 + skip / 64) {
                            return Outcome::Stopped;
                        }
                        s += skip;
                        if at(string, s) == 0 {
                            break;
                        }
                        s += 1;
                        let r = self.compare(p, s);
                        if r != Outcome::NoMatch {
                            return r;
                        }
                    }
                } else {
                    loop {
                        let c2 = read_utf8(string, &mut s);
                        if c2 == 0 {
                            break;
                        }
                        if !self.work(1) {
                            return Outcome::Stopped;
                        }
                        if c2 != c {
                            continue;
                        }
                        let r = self.compare(p, s);
                        if r != Outcome::NoMatch {
                            return r;
                        }
                    }
                }
                return Outcome::NoWildcardMatch;
            }
            if c == match_other {
                if info.match_set == 0 {
                    c = read_utf8(pattern, &mut p);
                    if c == 0 {
                        return Outcome::NoMatch;
                    }
                    escaped = Some(p);
                } else {
                    let mut prior_c = 0u32;
                    let mut seen = false;
                    let mut invert = false;
                    let c = read_utf8(string, &mut s);
                    if c == 0 {
                        return Outcome::NoMatch;
                    }
                    let mut c2 = read_utf8(pattern, &mut p);
                    if c2 == u32::from(b'^') {
                        invert = true;
                        c2 = read_utf8(pattern, &mut p);
                    }
                    if c2 == u32::from(b']') {
                        if c == u32::from(b']') {
                            seen = true;
                        }
                        c2 = read_utf8(pattern, &mut p);
                    }
                    while c2 != 0 && c2 != u32::from(b']') {
                        if !self.work(1) {
                            return Outcome::Stopped;
                        }
                        if c2 == u32::from(b'-')
                            && at(pattern, p) != b']'
                            && at(pattern, p) != 0
                            && prior_c > 0
                        {
                            c2 = read_utf8(pattern, &mut p);
                            if c >= prior_c && c <= c2 {
                                seen = true;
                            }
                            prior_c = 0;
                        } else {
                            if c == c2 {
                                seen = true;
                            }
                            prior_c = c2;
                        }
                        c2 = read_utf8(pattern, &mut p);
                    }
                    if c2 == 0 || seen == invert {
                        return Outcome::NoMatch;
                    }
                    continue;
                }
            }
            let c2 = read_utf8(string, &mut s);
            if c == c2 {
                continue;
            }
            if info.no_case && c < 0x80 && c2 < 0x80 && to_lower(c) == to_lower(c2) {
                continue;
            }
            if c == match_one && escaped != Some(p) && c2 != 0 {
                continue;
            }
            return Outcome::NoMatch;
        }
        if at(string, s) == 0 {
            Outcome::Match
        } else {
            Outcome::NoMatch
        }
    }
}

/// Whether `string` matches `pattern` (both already cut at their first NUL, see [`c_str`]),
/// exactly as SQLite's `patternCompare(pattern, string, info, match_other)` decides, where
/// `match_other` is the escape character of LIKE (0 for none) or `[` for GLOB.
///
/// Tries [`fast_match`] first. Fails with [`Stopped`] when `budget` says so.
pub(crate) fn matches<B: Budget>(
    pattern: &[u8],
    string: &[u8],
    info: CompareInfo,
    match_other: u32,
    budget: &mut B,
) -> Result<bool, Stopped> {
    if let Some(answer) = fast_match(pattern, string, info, match_other) {
        return Ok(answer);
    }
    let mut matcher = Matcher {
        pattern,
        string,
        info,
        match_other,
        budget,
        pending: 0,
    };
    match matcher.compare(0, 0) {
        Outcome::Match => Ok(true),
        Outcome::NoMatch | Outcome::NoWildcardMatch => Ok(false),
        Outcome::Stopped => Err(Stopped),
    }
}

/// The UTF-8 bytes of code point `c`, when it is one.
fn utf8_of(c: u32) -> Option<Vec<u8>> {
    let c = char::from_u32(c)?;
    let mut buf = [0u8; 4];
    Some(c.encode_utf8(&mut buf).as_bytes().to_vec())
}

/// Whether `z` is text that SQLite's decoder reads exactly as Rust does: valid UTF-8 without
/// U+FFFE or U+FFFF (which SQLite reads as U+FFFD).
fn plain_utf8(z: &[u8]) -> bool {
    std::str::from_utf8(z).is_ok()
        && memmem::find_iter(z, b"\xEF\xBF").all(|i| !matches!(at(z, i + 2), 0xBE | 0xBF))
}

/// Answers in linear time when the pattern is literal text between "any sequence" wildcards
/// and both strings are [`plain_utf8`]; `None` otherwise (then only the port is exact).
///
/// On such input SQLite's character-by-character comparison is a comparison of bytes (after
/// ASCII lowercasing for LIKE), every byte match of a UTF-8 literal in UTF-8 text starts and
/// ends on character boundaries, and a leftmost-first search of each literal in turn decides a
/// pattern made of literals and wildcards.
pub(crate) fn fast_match(
    pattern: &[u8],
    string: &[u8],
    info: CompareInfo,
    match_other: u32,
) -> Option<bool> {
    for special in [info.match_one, match_other] {
        if special != 0
            && let Some(bytes) = utf8_of(special)
            && memmem::find(pattern, &bytes).is_some()
        {
            return None;
        }
    }
    if !plain_utf8(pattern) || !plain_utf8(string) {
        return None;
    }
    let folded;
    let (pattern, string) = if info.no_case {
        folded = (pattern.to_ascii_lowercase(), string.to_ascii_lowercase());
        (folded.0.as_slice(), folded.1.as_slice())
    } else {
        (pattern, string)
    };
    if info.match_all == 0 {
        return Some(pattern == string);
    }
    let wildcard = u8::try_from(info.match_all).ok()?;
    let segments: Vec<&[u8]> = pattern.split(|&b| b == wildcard).collect();
    let (first, middle, last) = match segments.as_slice() {
        [only] => return Some(*only == string),
        [first, middle @ .., last] => (*first, middle, *last),
        [] => return Some(string.is_empty()),
    };
    if string.len() < first.len() + last.len()
        || !string.starts_with(first)
        || !string.ends_with(last)
    {
        return Some(false);
    }
    let (mut from, to) = (first.len(), string.len() - last.len());
    for segment in middle.iter().filter(|s| !s.is_empty()) {
        match memmem::find(&string[from..to], segment) {
            Some(at) => from += at + segment.len(),
            None => return Some(false),
        }
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(p: &str, s: &str) -> bool {
        let mut unlimited = |_| true;
        matches(p.as_bytes(), s.as_bytes(), LIKE, 0, &mut unlimited).expect("no budget")
    }

    fn glob(p: &str, s: &str) -> bool {
        let mut unlimited = |_| true;
        matches(p.as_bytes(), s.as_bytes(), GLOB, '[' as u32, &mut unlimited).expect("no budget")
    }

    #[test]
    fn like_and_glob_basics() {
        assert!(like("a%c", "ABC"));
        assert!(like("_é_", "xéy"));
        assert!(!like("É", "é"), "only ASCII folds");
        assert!(like("%", ""));
        assert!(!like("", "a"));
        assert!(glob("[a-c]*", "beta"));
        assert!(!glob("[^a-c]*", "beta"));
        assert!(glob("[]]", "]"));
        assert!(glob("*[0-9]", "abc7"));
        assert!(!glob("a*", "A"));
        assert!(!glob("[abc", "a"), "an unterminated class matches nothing");
    }

    #[test]
    fn the_budget_stops_a_quadratic_match() {
        let string = "a".repeat(200_000);
        let pattern = format!("%{}_b%", "a".repeat(500));
        let mut spent = 0usize;
        let mut budget = |units| {
            spent += units;
            spent < 100_000
        };
        let r = matches(pattern.as_bytes(), string.as_bytes(), LIKE, 0, &mut budget);
        assert_eq!(r, Err(Stopped));
    }

    #[test]
    fn fast_path_declines_what_it_cannot_decide() {
        assert_eq!(fast_match(b"a_c", b"abc", LIKE, 0), None);
        assert_eq!(fast_match(b"a\\%", b"a%", LIKE, '\\' as u32), None);
        assert_eq!(fast_match(b"a%", b"a\x80", LIKE, 0), None);
        assert_eq!(
            fast_match("a%".as_bytes(), "a\u{FFFE}".as_bytes(), LIKE, 0),
            None
        );
        assert_eq!(fast_match(b"A%C%", b"abxc", LIKE, 0), Some(true));
        assert_eq!(fast_match(b"*b*b", b"abab", GLOB, '[' as u32), Some(true));
        assert_eq!(fast_match(b"*bb*b", b"abab", GLOB, '[' as u32), Some(false));
    }
}
