//! The project's one escaper: string literals and identifiers written the way each database
//! reads them.
//!
//! Every piece of SQL the engine sends is rendered with these functions, whether it came from
//! a model, the rule generator or the engine's own catalog queries:
//!
//! | dialect | string literal | identifier |
//! | --- | --- | --- |
//! | SQLite | `'...'`, `'` doubled, backslash ordinary | `"..."`, `"` doubled |
//! | PostgreSQL | `'...'`, `'` doubled, backslash ordinary (`standard_conforming_strings = on`, which the executor pins) | `"..."`, `"` doubled |
//! | MySQL/MariaDB | `'...'`, `\` → `\\` and `'` → `''` (no `NO_BACKSLASH_ESCAPES`, which the executor pins) | `` `...` ``, `` ` `` doubled |
//!
//! A NUL character cannot be written in any of them (SQLite stops reading at it, PostgreSQL
//! refuses it): callers refuse such values before quoting.

use crate::dialect::Dialect;

/// `value` as a string literal of `dialect`.
pub fn string_literal(dialect: Dialect, value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    push_string_literal(&mut out, dialect, value);
    out
}

/// Appends `value` as a string literal of `dialect` to `out`.
pub fn push_string_literal(out: &mut String, dialect: Dialect, value: &str) {
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if dialect == Dialect::Mysql => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// The character that opens and closes a quoted identifier in `dialect`.
pub fn identifier_quote(dialect: Dialect) -> char {
    match dialect {
        Dialect::Sqlite | Dialect::Postgres => '"',
        Dialect::Mysql => '`',
    }
}

/// `name` as a quoted identifier of `dialect` (always quoted, so that keywords, spaces and
/// mixed case are read as written).
pub fn identifier(dialect: Dialect, name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_identifier(&mut out, dialect, name);
    out
}

/// Appends `name` as a quoted identifier of `dialect` to `out`.
pub fn push_identifier(out: &mut String, dialect: Dialect, name: &str) {
    let q = identifier_quote(dialect);
    out.push(q);
    for c in name.chars() {
        if c == q {
            out.push(q);
        }
        out.push(c);
    }
    out.push(q);
}

/// A table as a qualified, quoted name: `"schema"."table"` or `"table"`.
pub fn qualified_identifier(dialect: Dialect, schema: Option<&str>, name: &str) -> String {
    let mut out = String::new();
    if let Some(s) = schema {
        push_identifier(&mut out, dialect, s);
        out.push('.');
    }
    push_identifier(&mut out, dialect, name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_double_quotes_and_escape_backslashes_only_in_mysql() {
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(string_literal(d, r"x\'"), r"'x\'''");
            assert_eq!(string_literal(d, "it's"), "'it''s'");
        }
        assert_eq!(string_literal(Dialect::Mysql, r"x\'"), r"'x\\'''");
        assert_eq!(string_literal(Dialect::Mysql, r"a\"), r"'a\\'");
        assert_eq!(string_literal(Dialect::Mysql, "%_"), "'%_'");
    }

    #[test]
    fn identifiers_double_their_closing_quote() {
        assert_eq!(identifier(Dialect::Sqlite, "a]"), "\"a]\"");
        assert_eq!(identifier(Dialect::Postgres, "a\\\""), "\"a\\\"\"\"");
        assert_eq!(identifier(Dialect::Mysql, "a\\`"), "`a\\```");
        assert_eq!(
            qualified_identifier(Dialect::Postgres, Some("public"), "Order"),
            "\"public\".\"Order\""
        );
    }
}
