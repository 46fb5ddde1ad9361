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

use sqlparser::{
    keywords::Keyword,
    tokenizer::{Token, TokenWithSpan},
};

use super::quote;
use crate::dialect::Dialect;

/// What the row cap needs to know of a token once the parser has taken the tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Whitespace, a comment, or a token that is not written (`;` at the end, the end marker).
    Blank,
    LParen,
    RParen,
    Minus,
    /// The unquoted keyword `LIMIT`.
    Limit,
    /// The unquoted keyword `ALL`.
    All,
    Other,
}

/// The statement as written for the database, with where each token landed in the text.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The statement text.
    pub(crate) text: String,
    /// Per token: its byte range in `text` (empty for a token that is not written).
    spans: Vec<Range<usize>>,
    /// Per token: its [`Kind`].
    pub(crate) kinds: Vec<Kind>,
    /// The index after the statement's last written token.
    pub(crate) end: usize,
}

impl Layout {
    /// Writes `tokens` (canonical, from [`super::lex::tokenize`]) as SQL text of `dialect`.
    pub(crate) fn new(dialect: Dialect, tokens: &[TokenWithSpan]) -> Self {
        let mut text = String::with_capacity(tokens.len() * 6);
        let end = statement_end(tokens);
        let mut spans = Vec::with_capacity(tokens.len());
        let mut kinds = Vec::with_capacity(tokens.len());
        let mut prev: Option<&Token> = None;
        let mut spaced = false;
        for (i, t) in tokens.iter().enumerate() {
            let token = &t.token;
            kinds.push(kind(token, i < end));
            if i >= end || matches!(token, Token::EOF) {
                spans.push(text.len()..text.len());
                continue;
            }
            if let Token::Whitespace(_) = token {
                spaced = true;
                spans.push(text.len()..text.len());
                continue;
            }
            if let Some(p) = prev
                && needs_space(p, token, spaced)
            {
                text.push(' ');
            }
            let start = text.len();
            write_token(&mut text, dialect, token);
            spans.push(start..text.len());
            prev = Some(token);
            spaced = false;
        }
        Self {
            text,
            spans,
            kinds,
            end,
        }
    }

    /// The text with `splice` applied.
    pub(crate) fn spliced(&self, splice: &Splice) -> String {
        if splice.range.is_empty() {
            let mut out = String::with_capacity(self.text.len() + splice.text.len() + 1);
            out.push_str(&self.text);
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&splice.text);
            return out;
        }
        let from = self.spans[splice.range.start].start;
        let to = self.spans[splice.range.end - 1].end;
        let mut out = String::with_capacity(self.text.len() + splice.text.len());
        out.push_str(&self.text[..from]);
        out.push_str(&splice.text);
        out.push_str(&self.text[to..]);
        out
    }
}

impl Layout {
    /// The text with `splices` applied: their token ranges are sorted and do not overlap; an
    /// empty range appends its text at the end, as [`spliced`](Self::spliced) does.
    pub(crate) fn spliced_many(&self, splices: &[Splice]) -> String {
        let extra: usize = splices.iter().map(|s| s.text.len() + 1).sum();
        let mut out = String::with_capacity(self.text.len() + extra);
        let mut at = 0;
        for splice in splices.iter().filter(|s| !s.range.is_empty()) {
            let from = self.spans[splice.range.start].start;
            let to = self.spans[splice.range.end - 1].end;
            out.push_str(&self.text[at..from]);
            out.push_str(&splice.text);
            at = to;
        }
        out.push_str(&self.text[at..]);
        for splice in splices.iter().filter(|s| s.range.is_empty()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&splice.text);
        }
        out
    }
}

fn kind(token: &Token, written: bool) -> Kind {
    if !written {
        return Kind::Blank;
    }
    match token {
        Token::Whitespace(_) | Token::EOF => Kind::Blank,
        Token::LParen => Kind::LParen,
        Token::RParen => Kind::RParen,
        Token::Minus => Kind::Minus,
        Token::Word(w) if w.quote_style.is_none() && w.keyword == Keyword::LIMIT => Kind::Limit,
        Token::Word(w) if w.quote_style.is_none() && w.keyword == Keyword::ALL => Kind::All,
        _ => Kind::Other,
    }
}

/// A change to the token stream: the tokens in `range` (indexes into the stream) are replaced by
/// `text`; an empty range at the end of the stream appends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Splice {
    pub(crate) range: Range<usize>,
    pub(crate) text: String,
}

/// Writes `tokens` (canonical, from [`super::lex::tokenize`]) as SQL text of `dialect`, with
/// `splice` applied.
#[cfg(test)]
pub(crate) fn render(
    dialect: Dialect,
    tokens: &[TokenWithSpan],
    splice: Option<&Splice>,
) -> String {
    let layout = Layout::new(dialect, tokens);
    match splice {
        Some(s) => layout.spliced(s),
        None => layout.text,
    }
}

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
