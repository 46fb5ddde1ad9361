//! Tokens as the database reads them.
//!
//! sqlparser's tokenizer finds where each token starts and ends; this module then decides what
//! each literal and quoted identifier *means*, by the rules of the database itself, and turns the
//! stream into canonical tokens that the parser, the walk and the renderer share:
//!
//! - string literals of every form (`'...'`, MySQL `"..."`, PostgreSQL `E'...'`, `U&'...'` and
//!   dollar quoting) become one plain string token holding the value the database would see:
//!   doubled quotes undone everywhere, backslash escapes undone only in MySQL (by MySQL's own
//!   table, where `\%` and `\_` keep their backslash and an unknown `\x` is `x`);
//! - quoted identifiers hold their name with the doubled closing quote undone; SQLite's `[...]`
//!   and `` `...` `` become `"..."`;
//! - forms the renderer cannot write back exactly are refused: NUL characters, bit and byte
//!   strings, `UESCAPE`, SQLite `[...]` names holding `]` (SQLite has no escape there), numbers
//!   that are not plain decimal, and placeholders.
//!
//! Comments and whitespace stay in the stream (the parser skips them; the renderer turns each run
//! into one space).

use sqlparser::{
    dialect as sp_dialect,
    keywords::Keyword,
    tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer, Whitespace, Word},
};

use super::{RejectRule, Rejection};
use crate::dialect::Dialect;

/// The sqlparser dialect that tokenizes and parses `dialect`.
pub(crate) fn sp(dialect: Dialect) -> &'static dyn sp_dialect::Dialect {
    static SQLITE: sp_dialect::SQLiteDialect = sp_dialect::SQLiteDialect {};
    static POSTGRES: sp_dialect::PostgreSqlDialect = sp_dialect::PostgreSqlDialect {};
    static MYSQL: sp_dialect::MySqlDialect = sp_dialect::MySqlDialect {};
    match dialect {
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
        Dialect::Mysql => &MYSQL,
    }
}

/// Tokenizes `sql` in `dialect` into canonical tokens.
pub(crate) fn tokenize(dialect: Dialect, sql: &str) -> Result<Vec<TokenWithSpan>, Rejection> {
    tokenize_marked(dialect, sql).map(|(tokens, _)| tokens)
}

/// [`tokenize`], and where the names written in double quotes are on SQLite, as the starts of
/// indexed spans (see [`index_spans`]): the only names SQLite may read as a string when no
/// column has them (`[...]` and `` `...` `` never are).
pub(crate) fn tokenize_marked(
    dialect: Dialect,
    sql: &str,
) -> Result<(Vec<TokenWithSpan>, Vec<Location>), Rejection> {
    if sql.contains('\0') {
        return Err(nul());
    }
    let d = sp(dialect);
    let mut tokens = Vec::with_capacity(sql.len() / 3 + 4);
    let mut double_quoted = Vec::new();
    let mut failure = None;
    let mut unicode_string = false;
    let mut index = 0u64;
    Tokenizer::new(d, sql)
        .with_unescape(false)
        .tokenize_with_location_into_buf_with_mapper(&mut tokens, |mut t| {
            index += 1;
            if failure.is_none() && needs_canonical(&t.token) {
                let token = std::mem::replace(&mut t.token, Token::EOF);
                if dialect == Dialect::Sqlite
                    && matches!(&token, Token::Word(w) if w.quote_style == Some('"'))
                {
                    double_quoted.push(Location::new(0, index));
                }
                unicode_string |= matches!(token, Token::UnicodeStringLiteral(_));
                match canonical(dialect, token) {
                    Ok(token) => t.token = token,
                    Err(e) => failure = Some(e),
                }
            }
            t
        })
        .map_err(|e| {
            Rejection::new(
                RejectRule::ParseError,
                format!("the SQL does not tokenize as {dialect}: {e}"),
            )
        })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if dialect == Dialect::Postgres && sql.contains("&\"") && has_unicode_identifier(&tokens) {
        return Err(unsupported(
            "Unicode-escaped names (`U&\"...\"`) are not supported; write the characters themselves in double quotes",
        ));
    }
    if unicode_string
        && let Some(i) = tokens.iter().position(|t| {
            matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("uescape"))
        })
        && previous_is_string(&tokens[..i])
    {
        return Err(unsupported(
            "`UESCAPE` after a Unicode string is not supported; write the characters themselves",
        ));
    }
    Ok((tokens, double_quoted))
}

/// Whether the tokens hold PostgreSQL's `U&"..."` (a name with Unicode escapes), which the
/// tokenizer reads as `U`, `&` and a quoted name: three tokens with nothing between them.
fn has_unicode_identifier(tokens: &[TokenWithSpan]) -> bool {
    tokens.windows(3).any(|w| {
        matches!(&w[0].token, Token::Word(u) if u.quote_style.is_none() && u.value.eq_ignore_ascii_case("u"))
            && matches!(w[1].token, Token::Ampersand)
            && matches!(&w[2].token, Token::Word(q) if q.quote_style.is_some())
            && w[0].span.end == w[1].span.start
            && w[1].span.end == w[2].span.start
    })
}

/// Whether a raw token has a canonical form other than itself, or is refused: everything but
/// unquoted words (without a byte order mark), whitespace and the fixed operators.
fn needs_canonical(token: &Token) -> bool {
    match token {
        Token::Word(w) => w.quote_style.is_some() || w.value.contains('\u{feff}'),
        Token::Whitespace(_)
        | Token::EOF
        | Token::Comma
        | Token::Eq
        | Token::Neq
        | Token::Lt
        | Token::Gt
        | Token::LtEq
        | Token::GtEq
        | Token::Plus
        | Token::Minus
        | Token::Mul
        | Token::Div
        | Token::Mod
        | Token::LParen
        | Token::RParen
        | Token::Period
        | Token::DoubleColon
        | Token::StringConcat => false,
        _ => true,
    }
}

/// Replaces each token's span by one that holds its index in the stream (line 0, column
/// index + 1). The parser copies token spans into the tree, so that a node can be traced back
/// to its token; and with line 0, the errors the parser builds while it tries alternatives do
/// not format positions, which saves a tenth of the parse.
pub(crate) fn index_spans(tokens: &mut [TokenWithSpan]) {
    for (i, t) in tokens.iter_mut().enumerate() {
        let at = Location::new(0, i as u64 + 1);
        t.span = Span::new(at, at);
    }
}

/// The index of the token an indexed span starts at (see [`index_spans`]).
pub(crate) fn indexed(start: Location) -> Option<usize> {
    (start.line == 0 && start.column > 0).then(|| start.column as usize - 1)
}

/// Turns the names at `at` (SQLite names in double quotes that no relation has, which SQLite
/// reads as strings) into the string literals SQLite reads them as. Those of `named` are whole
/// select-list items, which SQLite names after the name: they keep that name as an alias, so
/// that a derived table or CTE has the same columns.
pub(crate) fn names_to_strings(
    tokens: Vec<TokenWithSpan>,
    at: &[Location],
    named: &[Location],
) -> Vec<TokenWithSpan> {
    let mut out = Vec::with_capacity(tokens.len() + 4 * named.len());
    for mut t in tokens {
        let start = t.span.start;
        if !at.contains(&start) {
            out.push(t);
            continue;
        }
        let Token::Word(w) = &mut t.token else {
            out.push(t);
            continue;
        };
        let name = std::mem::take(&mut w.value);
        t.token = Token::SingleQuotedString(name.clone());
        out.push(t);
        if named.contains(&start) {
            let token = |token| TokenWithSpan::wrap(token);
            out.push(token(Token::Whitespace(Whitespace::Space)));
            out.push(token(Token::make_keyword("AS")));
            out.push(token(Token::Whitespace(Whitespace::Space)));
            out.push(token(Token::Word(Word {
                value: name,
                quote_style: Some('"'),
                keyword: Keyword::NoKeyword,
            })));
        }
    }
    out
}

fn previous_is_string(tokens: &[TokenWithSpan]) -> bool {
    tokens
        .iter()
        .rev()
        .find(|t| !matches!(t.token, Token::Whitespace(_)))
        .is_some_and(|t| matches!(t.token, Token::SingleQuotedString(_)))
}

/// The canonical form of one raw token (as tokenized with unescaping off).
fn canonical(dialect: Dialect, token: Token) -> Result<Token, Rejection> {
    Ok(match token {
        Token::Word(w) => match w.quote_style {
            // SQLite skips a byte order mark as a space, where the others read a name.
            None if w.value.contains('\u{feff}') => {
                return Err(Rejection::new(
                    RejectRule::ParseError,
                    "the SQL holds U+FEFF (a byte order mark) outside quotes, which databases \
                     read differently; remove it",
                ));
            }
            None => Token::Word(w),
            Some(q) => quoted_identifier(dialect, q, w.value)?,
        },
        Token::SingleQuotedString(raw) => {
            Token::SingleQuotedString(string_value(dialect, '\'', raw)?)
        }
        Token::DoubleQuotedString(raw) if dialect == Dialect::Mysql => {
            Token::SingleQuotedString(string_value(dialect, '"', raw)?)
        }
        Token::NationalStringLiteral(raw) => {
            Token::NationalStringLiteral(string_value(dialect, '\'', raw)?)
        }
        // PostgreSQL's own escapes, already undone by the tokenizer (which refuses NUL results
        // and bytes that are not ASCII).
        Token::EscapedStringLiteral(value) | Token::UnicodeStringLiteral(value)
            if dialect == Dialect::Postgres =>
        {
            Token::SingleQuotedString(checked(value)?)
        }
        Token::DollarQuotedString(s) if dialect == Dialect::Postgres => {
            Token::SingleQuotedString(checked(s.value)?)
        }
        Token::HexStringLiteral(hex) => {
            if !hex.chars().all(|c| c.is_ascii_hexdigit()) || hex.len() % 2 == 1 {
                return Err(Rejection::new(
                    RejectRule::ParseError,
                    format!(
                        "`X'{hex}'` is not a hexadecimal literal; write an even number of the digits 0-9 and A-F between the quotes"
                    ),
                ));
            }
            Token::HexStringLiteral(hex)
        }
        Token::Number(n, long) => {
            if long || !is_plain_number(&n) {
                return Err(Rejection::new(
                    RejectRule::ParseError,
                    format!(
                        "`{n}{}` is not a plain decimal number; write numbers as digits with an optional decimal point and exponent",
                        if long { "L" } else { "" }
                    ),
                ));
            }
            Token::Number(n, false)
        }
        Token::Placeholder(p) => return Err(super::resolve::variable(&p)),
        Token::Char(c) => {
            return Err(Rejection::new(
                RejectRule::ParseError,
                format!(
                    "unexpected character `{}` in the SQL; remove it",
                    c.escape_debug()
                ),
            ));
        }
        Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_) => {
            return Err(unsupported(
                "bit and byte string literals (`B'...'`) are not supported; use a number or a hexadecimal `X'...'` literal",
            ));
        }
        Token::DoubleQuotedString(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::DollarQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::QuoteDelimitedStringLiteral(_)
        | Token::NationalQuoteDelimitedStringLiteral(_) => {
            return Err(unsupported(
                "this form of string literal is not supported; write strings in single quotes",
            ));
        }
        // An operator sqlparser does not know (`>=-`): the database may split it differently.
        Token::CustomBinaryOperator(op) => {
            return Err(Rejection::new(
                RejectRule::ParseError,
                format!("unknown operator `{op}`; put a space between two operators"),
            ));
        }
        Token::CopyData { .. } | Token::Backslash => {
            return Err(unsupported("a backslash outside a string"));
        }
        other => other,
    })
}

fn quoted_identifier(dialect: Dialect, quote: char, raw: String) -> Result<Token, Rejection> {
    let name = match (dialect, quote) {
        // SQLite reads `[...]` up to the first `]`; there is no escape.
        (Dialect::Sqlite, '[') => {
            if raw.contains(']') {
                return Err(Rejection::new(
                    RejectRule::ParseError,
                    "a `[...]` name cannot hold `]` in SQLite; write the name in double quotes, doubling any `\"`",
                ));
            }
            raw
        }
        (Dialect::Sqlite, '"' | '`') | (Dialect::Postgres, '"') | (Dialect::Mysql, '`') => {
            undouble(raw, quote)
        }
        _ => {
            return Err(Rejection::new(
                RejectRule::ParseError,
                format!("`{quote}` does not quote names in {dialect}"),
            ));
        }
    };
    let name = checked(name)?;
    let style = super::quote::identifier_quote(dialect);
    Ok(Token::Word(Word {
        value: name,
        quote_style: Some(style),
        keyword: Keyword::NoKeyword,
    }))
}

/// The value of a quoted string whose raw inner text (doubled quotes and backslashes kept) is
/// `raw`, read by `dialect`'s rules.
fn string_value(dialect: Dialect, quote: char, raw: String) -> Result<String, Rejection> {
    let value = if dialect == Dialect::Mysql && raw.contains('\\') {
        mysql_unescape(&raw, quote)
    } else {
        undouble(raw, quote)
    };
    checked(value)
}

/// Undoes `quote` doubled.
fn undouble(raw: String, quote: char) -> String {
    let mut pair = String::with_capacity(2 * quote.len_utf8());
    pair.push(quote);
    pair.push(quote);
    if raw.contains(&pair) {
        raw.replace(&pair, pair.split_at(quote.len_utf8()).0)
    } else {
        raw
    }
}

/// MySQL's escapes (<https://dev.mysql.com/doc/refman/8.4/en/string-literals.html>): `\0`,
/// `\'`, `\"`, `\b`, `\n`, `\r`, `\t`, `\Z`, `\\`; `\%` and `\_` keep the backslash; any other
/// `\x` is `x`. The quote character doubled is one quote.
fn mysql_unescape(raw: &str, quote: char) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('0') => out.push('\0'),
                Some('b') => out.push('\u{8}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('Z') => out.push('\u{1a}'),
                Some(c @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(c);
                }
                Some(c) => out.push(c),
                None => out.push('\\'),
            },
            c if c == quote && chars.peek() == Some(&quote) => {
                chars.next();
                out.push(quote);
            }
            c => out.push(c),
        }
    }
    out
}

fn checked(value: String) -> Result<String, Rejection> {
    if value.contains('\0') {
        Err(nul())
    } else {
        Ok(value)
    }
}

fn nul() -> Rejection {
    Rejection::new(
        RejectRule::ParseError,
        "the SQL holds a NUL character, which databases cannot read; remove it",
    )
}

fn unsupported(what: &str) -> Rejection {
    Rejection::new(RejectRule::Unsupported, what.to_string())
}

/// Digits with an optional fraction and exponent: `12`, `1.5`, `.5`, `5.`, `1e-3`.
fn is_plain_number(n: &str) -> bool {
    let b = n.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = digits(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(dialect: Dialect, sql: &str) -> Vec<Token> {
        tokenize(dialect, sql)
            .unwrap_or_else(|e| panic!("{sql} on {dialect}: {}", e.reason))
            .into_iter()
            .map(|t| t.token)
            .filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF))
            .collect()
    }

    fn string(s: &str) -> Token {
        Token::SingleQuotedString(s.to_string())
    }

    #[test]
    fn strings_are_read_as_each_database_reads_them() {
        assert_eq!(
            values(Dialect::Sqlite, r"SELECT 'x\''', 1"),
            vec![
                Token::make_keyword("SELECT"),
                string(r"x\'"),
                Token::Comma,
                Token::Number("1".into(), false)
            ]
        );
        assert_eq!(values(Dialect::Postgres, r"SELECT 'a\'")[1], string(r"a\"));
        assert_eq!(values(Dialect::Mysql, r"SELECT 'a\\'")[1], string(r"a\"));
        assert_eq!(values(Dialect::Mysql, r"SELECT 'it\'s'")[1], string("it's"));
        assert_eq!(
            values(Dialect::Mysql, r"SELECT 'a\%\_\x\a\f'")[1],
            string(r"a\%\_xaf")
        );
        assert_eq!(
            values(Dialect::Mysql, r#"SELECT "a""b\"c""#)[1],
            string(r#"a"b"c"#)
        );
        assert_eq!(
            values(Dialect::Postgres, r"SELECT E'a\'b\n'")[1],
            string("a'b\n")
        );
        assert_eq!(
            values(Dialect::Postgres, "SELECT $q$it's$q$")[1],
            string("it's")
        );
        assert_eq!(
            values(Dialect::Postgres, r"SELECT U&'d\0061t'")[1],
            string("dat")
        );
        assert_eq!(values(Dialect::Sqlite, "SELECT 'a''b'")[1], string("a'b"));
    }

    #[test]
    fn quoted_identifiers_are_canonical() {
        let word = |v: &str, q: char| {
            Token::Word(Word {
                value: v.into(),
                quote_style: Some(q),
                keyword: Keyword::NoKeyword,
            })
        };
        assert_eq!(values(Dialect::Sqlite, "SELECT [a b]")[1], word("a b", '"'));
        assert_eq!(
            values(Dialect::Sqlite, "SELECT `a``b`")[1],
            word("a`b", '"')
        );
        assert_eq!(
            values(Dialect::Postgres, r#"SELECT "a\""""#)[1],
            word(r#"a\""#, '"')
        );
        assert_eq!(
            values(Dialect::Mysql, r"SELECT `a\```")[1],
            word(r"a\`", '`')
        );
    }

    #[test]
    fn forms_that_cannot_be_written_back_are_refused() {
        for (d, sql) in [
            (Dialect::Sqlite, "SELECT [a]]"),
            (Dialect::Sqlite, "SELECT 'a\0'"),
            (Dialect::Postgres, "SELECT U&'!0041' UESCAPE '!'"),
            (Dialect::Postgres, "SELECT B'101'"),
            (Dialect::Mysql, "SELECT 0xF"),
            (Dialect::Postgres, "SELECT a >=- 1"),
            (Dialect::Postgres, "SELECT n.U&\"\\540D\" FROM t AS n"),
            (Dialect::Mysql, r"SELECT 'a\0'"),
            (Dialect::Postgres, "SELECT $1"),
            (Dialect::Sqlite, "SELECT ?"),
            (Dialect::Sqlite, "SELECT \u{feff} ssn FROM t"),
            (Dialect::Sqlite, "SELECT \u{feff}ssn FROM t"),
            (Dialect::Postgres, "SELECT a\u{feff} FROM t"),
        ] {
            assert!(tokenize(d, sql).is_err(), "{sql} on {d}");
        }
        // Inside quotes it is a character like any other.
        assert!(tokenize(Dialect::Sqlite, "SELECT '\u{feff}', \"a\u{feff}\" FROM t").is_ok());
    }

    #[test]
    fn plain_numbers() {
        for n in ["1", "12.5", ".5", "5.", "1e3", "1.5E-3", "2e+10"] {
            assert!(is_plain_number(n), "{n}");
        }
        for n in ["", ".", "1e", "0x1F", "1_000", "1e+", "e5"] {
            assert!(!is_plain_number(n), "{n}");
        }
    }
}
