//! Parsing: exactly one read-only query, no executable comments.
//!
//! The SQL is tokenized once into canonical tokens ([`super::lex`]), the token stream is checked
//! for MySQL versioned comments (`/*! ... */`, which MySQL executes), and the same tokens are
//! parsed. Only a single `Statement::Query` survives; every other statement kind is refused by
//! name.

use sqlparser::{
    ast::{Query, Statement},
    parser::Parser,
    tokenizer::{Location, Token, TokenWithSpan, Whitespace},
};

use super::{RejectRule, Rejection, lex};
use crate::dialect::Dialect;

/// Parses `sql` as exactly one read-only query in `dialect`.
pub(crate) fn parse_single_query(dialect: Dialect, sql: &str) -> Result<Box<Query>, Rejection> {
    check_not_empty(sql)?;
    let tokens = lex::tokenize(dialect, sql)?;
    check_comments(dialect, sql, &tokens)?;
    parse_tokens(dialect, tokens)
}

/// Refuses MySQL versioned comments (`/*! ... */`), whose content MySQL executes; `tokens` must
/// still carry their positions in `sql`.
pub(crate) fn check_comments(
    dialect: Dialect,
    sql: &str,
    tokens: &[TokenWithSpan],
) -> Result<(), Rejection> {
    // MySQL reads `--` as a comment only before an ASCII space or control character; the
    // tokenizer also takes other Unicode spaces (U+2028, U+00A0, ...).
    if dialect == Dialect::Mysql
        && tokens.iter().any(|t| {
            matches!(&t.token, Token::Whitespace(Whitespace::SingleLineComment { comment, prefix })
                if prefix == "--" && comment.chars().next().is_some_and(|c| !c.is_ascii()))
        })
    {
        return Err(Rejection::new(
            RejectRule::ParseError,
            "`--` followed by a character other than an ASCII space is not a comment in MySQL; \
             put a space after `--` or remove the comment",
        ));
    }
    if dialect == Dialect::Mysql && sql.contains("/*!") && has_expanded_comment(tokens, sql) {
        return Err(Rejection::new(
            RejectRule::VersionedComment,
            "MySQL versioned comments `/*! ... */` are executed by MySQL and are not allowed; \
             write the statement without them",
        ));
    }
    Ok(())
}

/// Refuses empty SQL.
pub(crate) fn check_not_empty(sql: &str) -> Result<(), Rejection> {
    if sql.trim().is_empty() {
        return Err(Rejection::new(
            RejectRule::Empty,
            "the SQL is empty; write one SELECT statement",
        ));
    }
    Ok(())
}

/// Parses canonical `tokens` as exactly one read-only query.
pub(crate) fn parse_tokens(
    dialect: Dialect,
    tokens: Vec<TokenWithSpan>,
) -> Result<Box<Query>, Rejection> {
    let statement_word = first_word(&tokens);
    let writes_file = dialect == Dialect::Mysql && mentions_file_output(&tokens);
    let mut statements = Parser::new(lex::sp(dialect)).with_tokens_with_locations(tokens).parse_statements().map_err(|e| {
        if let Some(word) = statement_word.as_deref().filter(|w| !is_query_keyword(w)) {
            not_a_query(word)
        } else if writes_file {
            Rejection::new(
                RejectRule::SelectInto,
                "`INTO OUTFILE` / `INTO DUMPFILE` writes a file and is not allowed; select the rows instead",
            )
        } else {
            Rejection::new(RejectRule::ParseError, format!("the SQL does not parse as {dialect}: {e}"))
        }
    })?;
    match statements.len() {
        0 => Err(Rejection::new(
            RejectRule::Empty,
            "the SQL holds no statement; write one SELECT statement",
        )),
        1 => match statements.pop() {
            Some(Statement::Query(query)) => Ok(query),
            _ => Err(not_a_query(statement_word.as_deref().unwrap_or("this"))),
        },
        n => Err(Rejection::new(
            RejectRule::MultipleStatements,
            format!(
                "the SQL holds {n} statements; send exactly one SELECT statement, without `;` separators"
            ),
        )),
    }
}

fn not_a_query(word: &str) -> Rejection {
    Rejection::new(
        RejectRule::NotAQuery,
        format!(
            "`{}` statements are not allowed; only one read-only query (SELECT, WITH ... SELECT, \
             UNION, VALUES) may run",
            word.to_ascii_uppercase()
        ),
    )
}

fn is_query_keyword(word: &str) -> bool {
    ["select", "with", "values", "table"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

/// The first keyword or word of the statement, to name a refused statement kind.
fn first_word(tokens: &[TokenWithSpan]) -> Option<String> {
    tokens.iter().find_map(|t| match &t.token {
        Token::Whitespace(_) | Token::LParen => None,
        Token::Word(w) => Some(w.value.clone()),
        _ => Some(String::new()),
    })
}

/// Whether the tokens hold `INTO OUTFILE` or `INTO DUMPFILE` (MySQL), which sqlparser does not parse.
fn mentions_file_output(tokens: &[TokenWithSpan]) -> bool {
    let mut words = tokens.iter().filter_map(|t| match &t.token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.as_str()),
        _ => None,
    });
    let mut previous_into = false;
    words.any(|w| {
        let hit = previous_into
            && (w.eq_ignore_ascii_case("outfile") || w.eq_ignore_ascii_case("dumpfile"));
        previous_into = w.eq_ignore_ascii_case("into");
        hit
    })
}

/// Whether the tokenizer expanded a `/*! ... */` comment into tokens.
///
/// The tokenizer emits tokens that tile the input exactly, except for the content of a
/// versioned comment: its tokens restart at the comment's start and stop short of its end, so a
/// gap (or a stream that ends before the input does) shows that one was expanded.
fn has_expanded_comment(tokens: &[TokenWithSpan], sql: &str) -> bool {
    let first_start = tokens.first().map(|t| t.span.start);
    if first_start.is_some_and(|s| s != Location::new(1, 1)) {
        return true;
    }
    if tokens.windows(2).any(|w| w[0].span.end != w[1].span.start) {
        return true;
    }
    tokens
        .last()
        .is_some_and(|t| t.span.end != end_location(sql))
}

/// Where the tokenizer's location ends after reading all of `sql`.
fn end_location(sql: &str) -> Location {
    let mut line = 1;
    let mut column = 1;
    for ch in sql.chars() {
        if ch == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    Location::new(line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(d: Dialect, sql: &str) -> RejectRule {
        match parse_single_query(d, sql) {
            Ok(q) => panic!("{sql} should be refused, parsed as {q}"),
            Err(r) => r.rule,
        }
    }

    #[test]
    fn single_queries_parse() {
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            for sql in [
                "SELECT 1",
                "WITH a AS (SELECT 1) SELECT * FROM a",
                "SELECT 1 UNION SELECT 2",
                "VALUES (1)",
            ] {
                assert!(parse_single_query(d, sql).is_ok(), "{sql} on {d}");
            }
        }
    }

    #[test]
    fn statements_other_than_queries_are_refused() {
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            assert_eq!(rule(d, "DELETE FROM t"), RejectRule::NotAQuery);
            assert_eq!(rule(d, "/* x */ drop table t"), RejectRule::NotAQuery);
            assert_eq!(
                rule(d, "SELECT 1; SELECT 2"),
                RejectRule::MultipleStatements
            );
            assert_eq!(rule(d, "  "), RejectRule::Empty);
            assert_eq!(rule(d, "SELECT FROM WHERE ("), RejectRule::ParseError);
        }
        assert_eq!(
            rule(Dialect::Sqlite, "PRAGMA writable_schema = ON"),
            RejectRule::NotAQuery
        );
        assert_eq!(
            rule(Dialect::Postgres, "SET statement_timeout = 0"),
            RejectRule::NotAQuery
        );
        let r = parse_single_query(Dialect::Mysql, "SHOW VARIABLES").expect_err("refused");
        assert!(
            r.reason.contains("`SHOW` statements are not allowed"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn mysql_versioned_comments_are_refused() {
        assert_eq!(
            rule(Dialect::Mysql, "SELECT /*!50000 SLEEP(3), */ 1"),
            RejectRule::VersionedComment
        );
        assert_eq!(
            rule(Dialect::Mysql, "/*!DELETE FROM orders*/"),
            RejectRule::VersionedComment
        );
        assert_eq!(
            rule(Dialect::Mysql, "SELECT 1 /*!*/"),
            RejectRule::VersionedComment
        );
        assert_eq!(
            rule(Dialect::Mysql, "SELECT 1\n /*!50000\n , 2 */ "),
            RejectRule::VersionedComment
        );
        assert!(parse_single_query(Dialect::Mysql, "SELECT '/*!50000 x */' AS s").is_ok());
        assert!(parse_single_query(Dialect::Mysql, "SELECT 1 /* plain */ -- done\n").is_ok());
    }

    #[test]
    fn nested_block_comments_in_postgres() {
        let q = parse_single_query(Dialect::Postgres, "SELECT 1 /* nested /* comment */ */")
            .expect("parses");
        assert_eq!(q.to_string(), "SELECT 1");
    }
}
