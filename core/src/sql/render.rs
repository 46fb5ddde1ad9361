//! The statement the database receives, written from the canonical tokens of [`super::lex`].
//!
//! Each token is written in its one canonical form ([`super::quote`] for literals and quoted
//! names, the token's fixed text otherwise); comments and whitespace become at most one space;
//! a trailing `;` is dropped. Operators are always set apart by spaces, so that two tokens can
//! never run together into a comment (`--`, `/*`), a longer operator or a literal prefix
//! (`x'..'`); they touch only where that is safe and usual: `f(`, `t.c`, `(x)`, `a, b`, `x::int`
//! and a sign before a number or name. The validator parses the result again and compares the
//! trees, so that a rendering the parser would read differently is refused, never run.

use std::ops::Range;

use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::quote;
use crate::dialect::Dialect;

/// A change to the token stream: the tokens in `range` (indexes into the stream) are replaced by
/// `text`; an empty range at the end of the stream appends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Splice {
    pub(crate) range: Range<usize>,
    pub(crate) text: String,
}

/// Writes `tokens` (canonical, from [`super::lex::tokenize`]) as SQL text of `dialect`, with
/// `splice` applied.
pub(crate) fn render(
    dialect: Dialect,
    tokens: &[TokenWithSpan],
    splice: Option<&Splice>,
) -> String {
    let mut out = String::with_capacity(tokens.len() * 6);
    let end = statement_end(tokens);
    // The last token written (None at the start) and the one before it.
    let mut prev: Option<&Token> = None;
    let mut spaced = false;
    let mut i = 0;
    while i < end {
        if let Some(s) = splice
            && i == s.range.start
            && !s.range.is_empty()
        {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&s.text);
            // The spliced text is a number: the next token follows it as after a number.
            prev = Some(&NUMBER);
            spaced = false;
            i = s.range.end;
            continue;
        }
        let token = &tokens[i].token;
        i += 1;
        match token {
            Token::Whitespace(_) => {
                spaced = true;
                continue;
            }
            Token::EOF => continue,
            _ => {}
        }
        if let Some(p) = prev
            && needs_space(p, token, spaced)
        {
            out.push(' ');
        }
        write_token(&mut out, dialect, token);
        prev = Some(token);
        spaced = false;
    }
    if let Some(s) = splice
        && s.range.is_empty()
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&s.text);
    }
    out
}

static NUMBER: Token = Token::Number(String::new(), false);

/// The index after the statement's last token: trailing whitespace, comments, `;` and the end
/// marker are not part of it.
pub(crate) fn statement_end(tokens: &[TokenWithSpan]) -> usize {
    let mut end = tokens.len();
    while end > 0
        && matches!(
            tokens[end - 1].token,
            Token::Whitespace(_) | Token::SemiColon | Token::EOF
        )
    {
        end -= 1;
    }
    end
}

fn is_name(t: &Token) -> bool {
    matches!(t, Token::Word(_))
}

fn needs_space(prev: &Token, next: &Token, spaced: bool) -> bool {
    if matches!(
        next,
        Token::Comma | Token::RParen | Token::RBracket | Token::Period | Token::DoubleColon
    ) {
        return false;
    }
    if matches!(
        prev,
        Token::LParen | Token::LBracket | Token::Period | Token::DoubleColon
    ) {
        return false;
    }
    if spaced {
        return true;
    }
    // A call `f(x)` or subscript `a[1]` as written (MySQL reads `count (*)` differently).
    if is_name(prev) && matches!(next, Token::LParen | Token::LBracket) {
        return false;
    }
    // A sign as written before a number, a name or a parenthesis: `-1`, `-x`, `-(a)`.
    if matches!(prev, Token::Minus | Token::Plus)
        && matches!(next, Token::Number(..) | Token::Word(_) | Token::LParen)
    {
        return false;
    }
    true
}

fn write_token(out: &mut String, dialect: Dialect, token: &Token) {
    use std::fmt::Write;
    match token {
        Token::Word(w) => match w.quote_style {
            None => out.push_str(&w.value),
            Some(_) => quote::push_identifier(out, dialect, &w.value),
        },
        Token::SingleQuotedString(s) => quote::push_string_literal(out, dialect, s),
        Token::NationalStringLiteral(s) => {
            out.push('N');
            quote::push_string_literal(out, dialect, s);
        }
        Token::HexStringLiteral(h) => {
            out.push_str("X'");
            out.push_str(h);
            out.push('\'');
        }
        Token::Number(n, _) => out.push_str(n),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::lex::tokenize;

    fn canonical(d: Dialect, sql: &str) -> String {
        render(d, &tokenize(d, sql).expect("tokenizes"), None)
    }

    #[test]
    fn literals_and_names_are_written_canonically() {
        assert_eq!(
            canonical(
                Dialect::Sqlite,
                "SELECT 'x\\'', (SELECT group_concat(Email) FROM Customer) AS emails --'"
            ),
            "SELECT 'x\\'', (SELECT group_concat(Email) FROM Customer) AS emails --'"
        );
        assert_eq!(
            canonical(Dialect::Sqlite, "select 'x\\''', 1 --'"),
            "select 'x\\''', 1"
        );
        assert_eq!(
            canonical(Dialect::Mysql, r"SELECT 'a\\' AS x"),
            r"SELECT 'a\\' AS x"
        );
        assert_eq!(
            canonical(Dialect::Mysql, r#"SELECT "it's", `a``b` FROM t"#),
            "SELECT 'it''s', `a``b` FROM t"
        );
        assert_eq!(
            canonical(Dialect::Sqlite, "SELECT [a b] FROM `t`"),
            r#"SELECT "a b" FROM "t""#
        );
        assert_eq!(
            canonical(Dialect::Postgres, r"SELECT E'\\', $$a'b$$"),
            r"SELECT '\', 'a''b'"
        );
    }

    #[test]
    fn comments_go_and_operators_never_run_together() {
        assert_eq!(
            canonical(Dialect::Mysql, "SELECT 1--1, 2 # c\n FROM t /* x */;"),
            "SELECT 1 - -1, 2 FROM t"
        );
        assert_eq!(
            canonical(
                Dialect::Postgres,
                "SELECT count(*),a.b,x::int FROM t WHERE a>= -1 AND b/ *c"
            ),
            "SELECT count(*), a.b, x::int FROM t WHERE a >= -1 AND b / * c"
        );
        assert_eq!(
            canonical(Dialect::Sqlite, "SELECT  a||b ,\n\t(1)FROM t"),
            "SELECT a || b, (1) FROM t"
        );
    }

    #[test]
    fn splices_replace_or_append() {
        let d = Dialect::Sqlite;
        let tokens = tokenize(d, "SELECT a FROM t LIMIT 5000;").expect("tokenizes");
        let at = tokens
            .iter()
            .position(|t| matches!(&t.token, Token::Number(n, _) if n == "5000"))
            .expect("the limit");
        let replaced = Splice {
            range: at..at + 1,
            text: "100".into(),
        };
        assert_eq!(
            render(d, &tokens, Some(&replaced)),
            "SELECT a FROM t LIMIT 100"
        );
        let tokens = tokenize(d, "SELECT a FROM t -- end").expect("tokenizes");
        let end = statement_end(&tokens);
        let appended = Splice {
            range: end..end,
            text: "LIMIT 100".into(),
        };
        assert_eq!(
            render(d, &tokens, Some(&appended)),
            "SELECT a FROM t LIMIT 100"
        );
    }
}
