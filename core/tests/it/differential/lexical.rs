//! The lexical pieces of generated statements: a seeded random source, identifiers and string
//! literals in every spelling each dialect accepts, whitespace and comments, and the openers and
//! closers that tokenizers disagree about.

use conversational_bi::Dialect;

/// A small seeded random source (SplitMix64): the same seed gives the same statements on every
/// machine, without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A source for statement `index` of the run seeded with `seed`.
    pub fn for_statement(seed: u64, index: u64) -> Self {
        let mut r = Rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next_u64();
        r
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Text that breaks naive tokenizers, used inside literals, identifiers and comments.
pub const NASTY: &[&str] = &[
    "",
    "a",
    "x y",
    "'",
    "''",
    "\\",
    "\\'",
    "\\\\",
    "\\\\'",
    "a'b",
    "a\\'b",
    "it''s",
    "--",
    "-- x",
    "--x",
    "#",
    "#x",
    "/*",
    "*/",
    "/* x */",
    "/*!50000 x*/",
    "\"",
    "\"\"",
    "\\\"",
    "`",
    "\\`",
    "[",
    "]",
    "]]",
    ";",
    "$$",
    "$a$",
    "$1",
    "?",
    ":x",
    "@x",
    "%",
    "_",
    "\n",
    "\t",
    "\r\n",
    "é",
    "ß",
    "Ünï",
    "名前",
    "😀",
    "\u{a0}",
    "\u{200b}",
    "\u{200d}",
    "e\u{301}",
    "\u{202e}",
    "\u{2028}",
    "\\0",
    "\\x27",
    "\\u0027",
    "\\0027",
    "ssn",
    "customers.ssn",
    "secrets",
];

/// Payloads that try to read the restricted column or a table outside the allowed ones once
/// they escape a literal, identifier or comment. `{agg}` is the dialect's string aggregate.
pub const PAYLOADS: &[&str] = &[
    "' UNION SELECT ssn FROM customers --",
    "', (SELECT {agg} FROM customers) AS p --",
    "' || (SELECT token FROM secrets LIMIT 1) || '",
    "*/ ssn /*",
    "\\' OR 1=1 --",
    "\\', (SELECT count(*) FROM secrets) AS p --",
    "\" , ssn , \"",
    "` , ssn , `",
    "], ssn, [",
    "$$, (SELECT {agg} FROM customers), $$",
];

/// The dialect's aggregate that concatenates `ssn` over all rows.
pub fn ssn_aggregate(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "string_agg(ssn, ',')",
        _ => "group_concat(ssn)",
    }
}

/// Some content for a literal: one to three nasty pieces, now and then a payload.
pub fn content(rng: &mut Rng, dialect: Dialect) -> String {
    let mut s = String::new();
    for _ in 0..1 + rng.below(3) {
        if rng.chance(0.12) {
            s.push_str(&rng.pick(PAYLOADS).replace("{agg}", ssn_aggregate(dialect)));
        } else {
            let piece: &&str = rng.pick(NASTY);
            s.push_str(piece);
        }
    }
    s
}

/// Whether `name` can be written without quotes (and without changing meaning by case folding
/// on PostgreSQL): a letter or `_` followed by letters, digits or `_`, not a keyword.
pub fn is_bare(dialect: Dialect, name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let lower_ok = |c: char| dialect != Dialect::Postgres || !c.is_uppercase();
    (first.is_alphabetic() || first == '_')
        && lower_ok(first)
        && chars.all(|c| (c.is_alphanumeric() || c == '_') && lower_ok(c))
        && !name.chars().any(|c| c.is_control() || c == '\u{a0}')
        && !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(name))
}

const KEYWORDS: &[&str] = &[
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "as",
    "on",
    "using",
    "join",
    "natural",
    "left",
    "right",
    "full",
    "inner",
    "outer",
    "cross",
    "union",
    "except",
    "intersect",
    "group",
    "order",
    "by",
    "having",
    "limit",
    "offset",
    "with",
    "recursive",
    "case",
    "when",
    "then",
    "else",
    "end",
    "in",
    "exists",
    "is",
    "null",
    "like",
    "distinct",
    "all",
    "table",
    "values",
    "lateral",
    "upper",
    "user",
    "current_user",
    "key",
    "status",
];

/// `name` between `open` and `close`, the closing character doubled inside.
fn quoted(name: &str, open: char, close: char) -> String {
    let mut s = String::with_capacity(name.len() + 2);
    s.push(open);
    for c in name.chars() {
        if c == close {
            s.push(close);
        }
        s.push(c);
    }
    s.push(close);
    s
}

/// A correct reference to the identifier whose stored name is `name`, in a random spelling the
/// dialect accepts. `case_free` says whether the database compares this kind of name without
/// regard to ASCII case (always on SQLite; only columns on MariaDB, whose table names and
/// aliases are case-sensitive on Linux).
pub fn ident(rng: &mut Rng, dialect: Dialect, name: &str, case_free: bool) -> String {
    let bare = is_bare(dialect, name) && name.is_ascii();
    let bare_unicode = is_bare(dialect, name);
    match dialect {
        Dialect::Sqlite => match rng.below(10) {
            0..=4 if bare_unicode => recase(rng, name, case_free),
            5 if !name.contains(']') => format!("[{name}]"),
            6 => quoted(name, '`', '`'),
            _ => quoted(&recase(rng, name, case_free), '"', '"'),
        },
        Dialect::Postgres => match rng.below(60) {
            // `U&"..."` is rare: today's tokenizer does not read it, and statements that use
            // it everywhere would be refused before reaching anything else.
            0 if !name.is_empty() => unicode_ident(rng, name),
            0..=30 if bare_unicode => {
                if bare && rng.chance(0.3) {
                    name.to_ascii_uppercase()
                } else {
                    name.to_string()
                }
            }
            _ => quoted(name, '"', '"'),
        },
        Dialect::Mysql => match rng.below(10) {
            0..=5 if bare_unicode => recase(rng, name, case_free),
            _ => quoted(&recase(rng, name, case_free), '`', '`'),
        },
    }
}

fn recase(rng: &mut Rng, name: &str, case_free: bool) -> String {
    if !case_free || !name.is_ascii() {
        return name.to_string();
    }
    match rng.below(4) {
        0 => name.to_ascii_uppercase(),
        1 => name
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect(),
        _ => name.to_string(),
    }
}

/// PostgreSQL `U&"..."`: some characters as `\XXXX` escapes, now and then with `UESCAPE`.
fn unicode_ident(rng: &mut Rng, name: &str) -> String {
    let esc = if rng.chance(0.2) { '!' } else { '\\' };
    let mut s = String::from("U&\"");
    for c in name.chars() {
        if c == '"' {
            s.push_str("\"\"");
        } else if c == esc {
            s.push(esc);
            s.push(esc);
        } else if rng.chance(0.4) || !c.is_ascii() {
            s.push_str(&unicode_escape(esc, c));
        } else {
            s.push(c);
        }
    }
    s.push('"');
    if esc != '\\' {
        s.push_str(&format!(" UESCAPE '{esc}'"));
    }
    s
}

fn unicode_escape(esc: char, c: char) -> String {
    let cp = c as u32;
    if cp <= 0xFFFF {
        format!("{esc}{cp:04X}")
    } else {
        format!("{esc}+{cp:06X}")
    }
}

/// A string literal whose value is `value`, in a random spelling the dialect reads as exactly
/// that value.
pub fn literal(rng: &mut Rng, dialect: Dialect, value: &str) -> String {
    match dialect {
        Dialect::Sqlite => match rng.below(10) {
            0 if !value.is_empty() => {
                // A blob literal; compared with text it is still a read of nothing.
                let hex: String = value.bytes().map(|b| format!("{b:02X}")).collect();
                format!("X'{hex}'")
            }
            _ => quoted(value, '\'', '\''),
        },
        Dialect::Postgres => match rng.below(100) {
            0..=39 => quoted(value, '\'', '\''),
            40..=59 => escape_string(rng, value),
            60..=79 => dollar_quoted(rng, value),
            80..=86 => unicode_string(rng, value),
            // Literals continued on the next line are rare for the same reason as `U&"..."`.
            87 => {
                // Adjacent literals separated by a newline are one literal.
                let cut = char_boundary(value, rng.below(value.len() + 1));
                let (a, b) = value.split_at(cut);
                format!("{}\n{}", quoted(a, '\'', '\''), quoted(b, '\'', '\''))
            }
            _ => format!("'{}'::text", value.replace('\'', "''")),
        },
        Dialect::Mysql => match rng.below(12) {
            0..=4 => mysql_quoted(rng, value, '\''),
            5..=6 => mysql_quoted(rng, value, '"'),
            7 => format!("_utf8mb4{}", mysql_quoted(rng, value, '\'')),
            8 => format!("N{}", mysql_quoted(rng, value, '\'')),
            9 if !value.is_empty() => {
                let hex: String = value.bytes().map(|b| format!("{b:02X}")).collect();
                if rng.chance(0.5) {
                    format!("X'{hex}'")
                } else {
                    format!("0x{hex}")
                }
            }
            10 => {
                let cut = char_boundary(value, rng.below(value.len() + 1));
                let (a, b) = value.split_at(cut);
                format!(
                    "{} {}",
                    mysql_quoted(rng, a, '\''),
                    mysql_quoted(rng, b, '\'')
                )
            }
            _ => mysql_quoted(rng, value, '\''),
        },
    }
}

fn char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// PostgreSQL `E'...'`: backslash escapes, the quote as `\'` or `''`.
fn escape_string(rng: &mut Rng, value: &str) -> String {
    let mut s = String::from(if rng.chance(0.5) { "E'" } else { "e'" });
    for c in value.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '\'' if rng.chance(0.5) => s.push_str("\\'"),
            '\'' => s.push_str("''"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            c if !c.is_ascii() && rng.chance(0.5) => {
                let cp = c as u32;
                if cp <= 0xFFFF {
                    s.push_str(&format!("\\u{cp:04X}"));
                } else {
                    s.push_str(&format!("\\U{cp:08X}"));
                }
            }
            c if c.is_ascii_alphanumeric() && rng.chance(0.1) => {
                s.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => s.push(c),
        }
    }
    s.push('\'');
    s
}

/// PostgreSQL dollar quoting with a tag the value does not contain.
fn dollar_quoted(rng: &mut Rng, value: &str) -> String {
    for tag in ["", "q", "_x", "tag1", "é"] {
        let delim = format!("${tag}$");
        if !value.contains(&delim) && !value.ends_with('$') && rng.chance(0.8) {
            return format!("{delim}{value}{delim}");
        }
    }
    quoted(value, '\'', '\'')
}

/// PostgreSQL `U&'...'`: non-ASCII and some ASCII characters as escapes.
fn unicode_string(rng: &mut Rng, value: &str) -> String {
    let esc = if rng.chance(0.2) { '!' } else { '\\' };
    let mut s = String::from("U&'");
    for c in value.chars() {
        if c == '\'' {
            s.push_str("''");
        } else if c == esc {
            s.push(esc);
            s.push(esc);
        } else if !c.is_ascii() || rng.chance(0.2) {
            s.push_str(&unicode_escape(esc, c));
        } else {
            s.push(c);
        }
    }
    s.push('\'');
    if esc != '\\' {
        s.push_str(&format!(" UESCAPE '{esc}'"));
    }
    s
}

/// A MySQL string in `quote`: backslash doubled, the quote as `\q` or doubled.
fn mysql_quoted(rng: &mut Rng, value: &str, quote: char) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push(quote);
    for c in value.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            c if c == quote && rng.chance(0.5) => {
                s.push('\\');
                s.push(c);
            }
            c if c == quote => {
                s.push(c);
                s.push(c);
            }
            '\n' if rng.chance(0.5) => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push(quote);
    s
}

/// Whitespace or a comment that the dialect reads as a token separator.
pub fn separator(rng: &mut Rng, dialect: Dialect) -> String {
    const COMMON: &[&str] = &[
        "\n",
        "\t",
        "  ",
        "\r\n",
        "/**/",
        " /* c */ ",
        " /* ' */ ",
        " /* \" */ ",
        " /* -- */ ",
        " /* é\u{a0}名 */ ",
        " -- c\n",
        " -- '\n",
        " -- */\n",
    ];
    let specific: &[&str] = match dialect {
        Dialect::Sqlite => &["--\n", "--x\n", "\x0c", " /* # */ "],
        Dialect::Postgres => &[
            "--\n",
            "--x\n",
            " /* /* nested */ */ ",
            " /* a /* b */ ' */ ",
            "\x0c",
        ],
        Dialect::Mysql => &[" #c\n", " # '\n", "-- \t\n", " /* /* */ "],
    };
    if rng.chance(0.7) {
        rng.pick(COMMON).to_string()
    } else {
        rng.pick(specific).to_string()
    }
}

/// A separator that some tokenizer may read differently from the database: a comment form of
/// another dialect, an unterminated comment, a non-breaking or zero-width space.
pub fn odd_separator(rng: &mut Rng) -> String {
    rng.pick(&[
        " --x ",
        " #x\n",
        " # ",
        " /* /* */ ",
        " /* ",
        " */ ",
        " /*! ",
        "\u{a0}",
        "\u{200b}",
        "\u{2028}",
        "\u{85}",
        " \\ ",
        "--",
        " -- ",
        "\u{feff}",
    ])
    .to_string()
}

/// Openers and closers whose extent tokenizers may disagree on, as (opener, closer) pairs: the
/// text between them is inside a literal, identifier or comment for one reader and code for
/// another.
pub fn breakout_pair(rng: &mut Rng, dialect: Dialect) -> (String, String) {
    const COMMON: &[(&str, &str)] = &[
        ("'x\\'", "'"),
        ("'x\\\\'", "'"),
        ("'x''", "'"),
        ("\"x\\\"", "\""),
        ("\"x\"\"", "\""),
        ("`x\\`", "`"),
        ("`x``", "`"),
        ("[x]]", "]"),
        ("/* /* */", "*/"),
        ("/*", "*/"),
        ("--x", "\n"),
        ("-- ", "\n"),
        ("#", "\n"),
        ("E'x\\'", "'"),
        ("N'x\\'", "'"),
        ("U&'x\\'", "'"),
        ("$a$", "$a$"),
        ("$$", "$$"),
        ("'\\", "'"),
        ("X'", "'"),
    ];
    let specific: &[(&str, &str)] = match dialect {
        Dialect::Sqlite => &[("[x]]", "]"), ("'x\\'", "'"), ("`x\\`", "`")],
        Dialect::Postgres => &[
            ("'x\\'", "'"),
            ("\"a\\\"", "\""),
            ("$q$", "$q$"),
            ("E'x\\\\'", "'"),
            ("/* /* */", "*/"),
        ],
        Dialect::Mysql => &[
            ("'a\\\\'", "'"),
            ("`a\\`", "`"),
            ("\"x\\\"", "\""),
            ("#", "\n"),
            ("--x", "\n"),
        ],
    };
    let (o, c) = if rng.chance(0.5) {
        rng.pick(COMMON)
    } else {
        rng.pick(specific)
    };
    (o.to_string(), c.to_string())
}
