//! Data values out of database error messages, before a message goes back to the model in
//! privacy mode (`[llm] privacy_mode = true`).
//!
//! A failed statement's message is useful to the model for what went wrong (the error, the
//! names, the code) but databases also quote the row values that made it fail:
//!
//! | database | message |
//! |---|---|
//! | PostgreSQL | `invalid input syntax for type integer: "Alice"`, `invalid value "Alí" for "YYYY"`, `time zone "Alice" not recognized`, `date field value out of range: 1000-13-01`, `Key (email)=(a@b.c) already exists.`, `relation "alice" does not exist` |
//! | MariaDB / MySQL | `Truncated incorrect DOUBLE value: 'Alice'`, `Incorrect datetime value: 'Alice' for column ... at row 1`, `Duplicate entry 'Alice' for key 'PRIMARY'` |
//! | SQLite | `bad JSON path: 'Alice'`, `JSON path error near 'Alice'` |
//!
//! [`scrub_database_message`] replaces each value with `<value>`:
//!
//! - a quoted segment (`'...'` or `"..."`) in a value position (after `:`, `value`, `entry`,
//!   `Token`, `unit`, `time zone`, `near`, `symbol`, or before `is not a valid`) always;
//! - any other quoted segment unless every word in it is a name the model already knows (a
//!   table, column, schema or database name of the catalog it was shown, or a word of the SQL
//!   it wrote) and every number in it appears in that SQL, or it is one of MySQL's clause names
//!   (`'field list'`, `'where clause'`, ...). Such a value may hold quotes of its own, so then
//!   everything from the line's first quote to its last goes (also when a quote is left over);
//! - PostgreSQL's `Key (...)=(...)` values, the rest of a `JSON data, line N:` context line, a
//!   single unquoted word that ends a line after `: ` and is no such name, and hex byte
//!   sequences (`0xc5 0xa1`).
//!
//! Backquoted segments are MySQL names and are kept, as are the error's wording, the names it
//! quotes and the trailing `(code ...)`. Whether a statement fails still depends on the data (a
//! division by zero says a value was zero); what leaves is the kind of failure, not a value the
//! model did not write itself.

use std::collections::HashSet;

use crate::catalog::Catalog;

/// What a value is replaced with.
pub const PLACEHOLDER: &str = "<value>";

/// Words before a quoted segment that make it a value.
const VALUE_LEADS: &[&str] = &[
    ":",
    "value",
    "entry",
    "token",
    "unit",
    "time zone",
    "near",
    "symbol",
];

/// MySQL's names of the clauses it complains about.
const CLAUSE_NAMES: &[&str] = &[
    "field list",
    "where clause",
    "on clause",
    "order clause",
    "group statement",
    "having clause",
    "in/all/any subquery",
    "select",
    "where",
    "order by",
    "group by",
    "having",
    "on",
    "from",
    "primary",
];

/// The names and numbers a message may show: those of the catalog the model was shown and of
/// the SQL it wrote.
#[derive(Debug, Clone, Default)]
pub struct KnownNames {
    words: HashSet<String>,
    numbers: HashSet<String>,
}

impl KnownNames {
    /// The names of `catalog` (tables, columns, schemas, the database) and the words and
    /// numbers of `sql`.
    pub fn new(catalog: &Catalog, sql: &str) -> Self {
        let mut known = Self::default();
        known.add_words(&catalog.database);
        for table in &catalog.tables {
            known.add_words(&table.name);
            if let Some(s) = &table.schema {
                known.add_words(s);
            }
            for column in &table.columns {
                known.add_words(&column.name);
            }
        }
        for token in tokens(sql) {
            match token {
                Token::Word(w) => {
                    known.words.insert(w.to_lowercase());
                }
                Token::Number(n) => {
                    known.numbers.insert(n.to_lowercase());
                }
            }
        }
        known
    }

    fn add_words(&mut self, name: &str) {
        for token in tokens(name) {
            let (Token::Word(w) | Token::Number(w)) = token;
            self.words.insert(w.to_lowercase());
        }
    }

    /// Whether `text` holds only known names, known numbers and punctuation.
    fn knows(&self, text: &str) -> bool {
        tokens(text).all(|t| match t {
            Token::Word(w) => self.words.contains(&w.to_lowercase()),
            Token::Number(n) => self.numbers.contains(&n.to_lowercase()),
        })
    }
}

/// `message` from the database with the data values in it replaced by [`PLACEHOLDER`] (see the
/// module documentation). `catalog` is the catalog the model was shown and `sql` the statement
/// it wrote.
pub fn scrub_database_message(message: &str, catalog: &Catalog, sql: &str) -> String {
    let known = KnownNames::new(catalog, sql);
    let (body, code) = split_code(message);
    let lines: Vec<String> = body.split('\n').map(|l| scrub_line(l, &known)).collect();
    format!("{}{code}", lines.join("\n"))
}

/// The message and its trailing ` (code XXXXX)`, which is kept as it is.
fn split_code(message: &str) -> (&str, &str) {
    match message.rfind(" (code ") {
        Some(i)
            if message.ends_with(')')
                && message[i + 7..message.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric()) =>
        {
            message.split_at(i)
        }
        _ => (message, ""),
    }
}

fn scrub_line(line: &str, known: &KnownNames) -> String {
    if let Some(i) = line.find("JSON data, line ")
        && let Some(j) = line[i..].find(": ")
    {
        return format!("{}{PLACEHOLDER}", &line[..i + j + 2]);
    }
    let line = scrub_key_values(line);
    let quoted = scrub_quotes(&line, known);
    let tail = scrub_tail(&quoted, known);
    scrub_hex(&tail, known)
}

/// PostgreSQL's `Key (columns)=(values) ...`: the values go.
fn scrub_key_values(line: &str) -> String {
    let Some(k) = line.find("Key (") else {
        return line.to_string();
    };
    let Some(eq) = line[k..].find(")=(").map(|i| k + i + 3) else {
        return line.to_string();
    };
    match line.rfind(')').filter(|&end| end >= eq) {
        Some(end) => format!("{}{PLACEHOLDER}{}", &line[..eq], &line[end..]),
        None => format!("{}{PLACEHOLDER}", &line[..eq]),
    }
}

/// Replaces quoted values; keeps quoted names and backquoted segments.
///
/// A value in a value position ends where [`value_end`] says. Elsewhere a value may hold
/// quotes and the words around them, and nothing tells its end from the message's own text: so
/// when a quoted segment there is not a known name, or a quote is left over outside every
/// segment, everything from the first quote of the line to the last goes.
fn scrub_quotes(line: &str, known: &KnownNames) -> String {
    match segments(line, known) {
        Some(out) => out,
        None => {
            let first = line.find(['\'', '"']).unwrap_or(0);
            let last = line.rfind(['\'', '"']).unwrap_or(line.len());
            if last > first {
                format!("{}{PLACEHOLDER}{}", &line[..=first], &line[last..])
            } else {
                format!("{}{PLACEHOLDER}", &line[..=first])
            }
        }
    }
}

/// [`scrub_quotes`] segment by segment; `None` when a quote is left over or a segment outside
/// a value position is not a known name.
fn segments(line: &str, known: &KnownNames) -> Option<String> {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'`' {
            // A MySQL name: kept whole, quotes inside it included.
            let end = closing(line, i + 1, b'`').map_or(line.len(), |e| e + 1);
            out.push_str(&line[i..end]);
            i = end;
            continue;
        }
        let opens = (b == b'\'' || b == b'"') && (i == 0 || !is_word_byte(bytes[i - 1]));
        if !opens {
            let ch = line[i..].chars().next().unwrap_or_default();
            if ch == '\'' || ch == '"' {
                return None;
            }
            out.push(ch);
            i += ch.len_utf8().max(1);
            continue;
        }
        let value_position = is_value_lead(&out);
        let end = if value_position {
            value_end(line, i, b, known)
        } else {
            closing(line, i + 1, b)
        };
        let (content, next) = match end {
            Some(e) => (&line[i + 1..e], e + 1),
            None => (&line[i + 1..], line.len()),
        };
        let after = &line[next..];
        if !(value_position || known.knows(content) || is_clause_name(content)) {
            return None;
        }
        let value = value_position || after.starts_with(" is not a valid");
        out.push(b as char);
        out.push_str(if value { PLACEHOLDER } else { content });
        if end.is_some() {
            out.push(b as char);
        }
        i = next;
    }
    Some(out)
}

/// Whether `text` (what precedes a quote) ends with a word that introduces a value.
fn is_value_lead(text: &str) -> bool {
    let t = text.trim_end().to_lowercase();
    VALUE_LEADS.iter().any(|lead| {
        t.strip_suffix(lead).is_some_and(|before| {
            lead.starts_with(|c: char| !c.is_alphanumeric())
                || before.is_empty()
                || !before.ends_with(|c: char| c.is_alphanumeric())
        })
    })
}

fn is_clause_name(content: &str) -> bool {
    CLAUSE_NAMES
        .iter()
        .any(|c| c.eq_ignore_ascii_case(content.trim()))
}

/// The closing quote `q` of a segment opened before `from`: the next `q` that no letter or
/// digit follows (a doubled `q` is part of the segment).
fn closing(line: &str, from: usize, q: u8) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut j = from;
    while j < bytes.len() {
        if bytes[j] == q {
            if bytes.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            if bytes.get(j + 1).is_none_or(|&n| !is_word_byte(n)) {
                return Some(j);
            }
        }
        j += 1;
    }
    None
}

/// The closing quote of a value opened at `open`. A value may hold any character, quotes
/// included, so the end is found from what databases write after values: the last quote before
/// ` for ` when only known names are quoted after it (`value: 'x' for column 'y' at row 1`,
/// `invalid value "x" for "YYYY"`); else the last quote when the line ends with one; else the
/// last quote before ` not `, ` is `, ` found`, ` at `, ` in ` or ` when `.
fn value_end(line: &str, open: usize, q: u8, known: &KnownNames) -> Option<usize> {
    let rest = &line[open + 1..];
    let quote = q as char;
    let last_before = |suffixes: &[&str]| {
        suffixes
            .iter()
            .filter_map(|s| rest.rfind(&format!("{quote}{s}")))
            .max()
            .map(|j| open + 1 + j)
    };
    if let Some(e) = last_before(&[" for "]) {
        let after = &line[e + 1..];
        if scrub_quotes(after, known) == after {
            return Some(e);
        }
    }
    let trimmed = rest.trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    if !trimmed.is_empty() && trimmed.ends_with(quote) {
        return Some(open + trimmed.len());
    }
    last_before(&[" not ", " is ", " found", " at ", " in ", " when "])
        .or_else(|| closing(line, open + 1, q))
}

/// A single unquoted word that ends a line after `: ` (`out of range: 1000-13-01`) and is not a
/// known name (numbers there always go).
fn scrub_tail(line: &str, known: &KnownNames) -> String {
    let Some(i) = line.rfind(": ") else {
        return line.to_string();
    };
    let tail = line[i + 2..].trim_end();
    let single = !tail.is_empty()
        && !tail.contains(char::is_whitespace)
        && !tail.starts_with(['\'', '"', '`'])
        && tail != PLACEHOLDER;
    // Numbers here are computed from the data (`1000-13-01`), not written by the model.
    let names_only = tokens(tail).all(|t| match t {
        Token::Word(w) => known.words.contains(&w.to_lowercase()),
        Token::Number(_) => false,
    });
    if single && !names_only {
        format!("{}{PLACEHOLDER}", &line[..i + 2])
    } else {
        line.to_string()
    }
}

/// Hex byte sequences (`0xc5 0xa1`) the SQL does not hold.
fn scrub_hex(line: &str, known: &KnownNames) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find("0x") {
        let boundary = rest[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let digits = rest[i + 2..]
            .bytes()
            .take_while(u8::is_ascii_hexdigit)
            .count();
        let end = i + 2 + digits;
        let word = &rest[i..end];
        out.push_str(&rest[..i]);
        if boundary && digits > 0 && !known.numbers.contains(&word.to_lowercase()) {
            out.push_str(PLACEHOLDER);
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

enum Token<'a> {
    Word(&'a str),
    Number(&'a str),
}

/// The words (runs of letters, digits, `_` and `$` that start with a letter or `_`) and numbers
/// (such runs that start with a digit, with their `.`) of `text`.
fn tokens(text: &str) -> impl Iterator<Item = Token<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(|c: char| c.is_alphanumeric() || c == '_')?;
        let s = &rest[start..];
        let number = s.starts_with(|c: char| c.is_ascii_digit());
        let len = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$' || (number && c == '.')))
            .unwrap_or(s.len());
        let token = &s[..len];
        rest = &s[len..];
        Some(if number {
            Token::Number(token.trim_end_matches('.'))
        } else {
            Token::Word(token)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        catalog::{Column, Table, TableKind},
        dialect::Dialect,
    };

    fn chinook(dialect: Dialect, database: &str, snake: bool) -> Catalog {
        let t = |name: &str, cols: &[&str]| Table {
            schema: (dialect == Dialect::Postgres).then(|| "public".to_string()),
            name: name.into(),
            kind: TableKind::Table,
            columns: cols
                .iter()
                .map(|c| Column {
                    name: c.to_string(),
                    data_type: "text".into(),
                    nullable: true,
                    comment: None,
                })
                .collect(),
            primary_key: vec![],
            foreign_keys: vec![],
            comment: None,
        };
        let tables = if snake {
            vec![
                t(
                    "customer",
                    &["customer_id", "first_name", "last_name", "email"],
                ),
                t(
                    "invoice",
                    &["invoice_id", "customer_id", "invoice_date", "total"],
                ),
            ]
        } else {
            vec![
                t(
                    "Customer",
                    &["CustomerId", "FirstName", "LastName", "Email"],
                ),
                t(
                    "Invoice",
                    &["InvoiceId", "CustomerId", "InvoiceDate", "Total"],
                ),
            ]
        };
        Catalog::new(dialect, database, tables)
    }

    fn scrub(dialect: Dialect, message: &str, sql: &str) -> String {
        let snake = dialect == Dialect::Postgres;
        scrub_database_message(message, &chinook(dialect, "chinook", snake), sql)
    }

    /// Messages PostgreSQL 15 gave for statements on Chinook (as the executor reports them),
    /// with what must be left of each.
    #[test]
    fn postgres_messages_lose_their_values() {
        let pg = |m, sql| scrub(Dialect::Postgres, m, sql);
        let cases = [
            (
                "invalid input syntax for type integer: \"Luís\" (code 22P02)",
                "SELECT CAST(first_name AS integer) FROM customer",
                "invalid input syntax for type integer: \"<value>\" (code 22P02)",
            ),
            (
                "invalid input syntax for type date: \"Luís\" (code 22007)",
                "SELECT first_name::date FROM customer",
                "invalid input syntax for type date: \"<value>\" (code 22007)",
            ),
            (
                "invalid input syntax for type time: \"Luís:00\" (code 22007)",
                "SELECT (first_name || ':00')::time FROM customer",
                "invalid input syntax for type time: \"<value>\" (code 22007)",
            ),
            (
                "malformed array literal: \"Luís\" (code 22P02)",
                "SELECT first_name::int[] FROM customer",
                "malformed array literal: \"<value>\" (code 22P02)",
            ),
            (
                "invalid value \"Luí\" for \"YYYY\" (code 22007)",
                "SELECT to_date(first_name, 'YYYY') FROM customer",
                "invalid value \"<value>\" for \"YYYY\" (code 22007)",
            ),
            (
                "unit \"leonie\" not recognized for type timestamp without time zone (code 22023)",
                "SELECT date_trunc(first_name, invoice_date) FROM invoice JOIN customer USING (customer_id)",
                "unit \"<value>\" not recognized for type timestamp without time zone (code 22023)",
            ),
            (
                "time zone \"Leonie\" not recognized (code 22023)",
                "SELECT invoice_date AT TIME ZONE first_name FROM invoice JOIN customer USING (customer_id)",
                "time zone \"<value>\" not recognized (code 22023)",
            ),
            (
                "date field value out of range: 1000-13-01 (code 22008)",
                "SELECT make_date(customer_id*1000, 13, 1) FROM customer",
                "date field value out of range: <value> (code 22008)",
            ),
            (
                "requested character too large for encoding: 200000000 (code 54000)",
                "SELECT chr(customer_id * 100000000) FROM customer",
                "requested character too large for encoding: <value> (code 54000)",
            ),
            (
                "relation \"luís\" does not exist (code 42P01)",
                "SELECT first_name::regclass FROM customer",
                "relation \"<value>\" does not exist (code 42P01)",
            ),
            (
                "\"L\" is not a valid binary digit (code 22P02)",
                "SELECT first_name::bit(3) AS l FROM customer",
                "\"<value>\" is not a valid binary digit (code 22P02)",
            ),
            (
                "invalid hexadecimal digit: \"L\" (code 22023)",
                "SELECT decode(first_name, 'hex') FROM customer",
                "invalid hexadecimal digit: \"<value>\" (code 22023)",
            ),
            (
                "invalid symbol \"í\" found while decoding base64 sequence (code 22023)",
                "SELECT decode(first_name, 'base64') FROM customer",
                "invalid symbol \"<value>\" found while decoding base64 sequence (code 22023)",
            ),
            (
                "character with byte sequence 0xc5 0xa1 in encoding \"UTF8\" has no equivalent in encoding \"LATIN1\" (code 22P05)",
                "SELECT convert_to(first_name, 'LATIN1') FROM customer",
                "character with byte sequence <value> <value> in encoding \"<value>\" (code 22P05)",
            ),
            (
                "invalid input syntax for type json (code 22P02)\nDETAIL:  Token \"Luís\" is invalid.\nCONTEXT:  JSON data, line 1: Luís",
                "SELECT first_name::json FROM customer",
                "invalid input syntax for type json (code 22P02)\nDETAIL:  Token \"<value>\" is invalid.\nCONTEXT:  JSON data, line 1: <value>",
            ),
            (
                "duplicate key value violates unique constraint \"customer_email_key\"\nDETAIL:  Key (email)=(luisg@embraer.com.br) already exists.",
                "SELECT email FROM customer",
                "duplicate key value violates unique constraint \"<value>\"\nDETAIL:  Key (email)=(<value>) already exists.",
            ),
            (
                "value \"99999999999\" is out of range for type integer (code 22003)",
                "SELECT CAST(phone AS integer) FROM customer",
                "value \"<value>\" is out of range for type integer (code 22003)",
            ),
        ];
        for (message, sql, expected) in cases {
            assert_eq!(pg(message, sql), expected, "{message}");
        }
    }

    /// Messages that carry no value stay as they were, names and positions included.
    #[test]
    fn names_codes_and_wording_are_kept() {
        let pg = |m, sql| scrub(Dialect::Postgres, m, sql);
        for (message, sql) in [
            (
                "division by zero (code 22012)",
                "SELECT 1/(customer_id-1) FROM customer",
            ),
            (
                "more than one row returned by a subquery used as an expression (code 21000)",
                "SELECT (SELECT first_name FROM customer)",
            ),
            (
                "column \"nmae\" does not exist (code 42703)",
                "SELECT nmae FROM customer",
            ),
            (
                "column \"customer.first_nam\" must appear in the GROUP BY clause or be used in an aggregate function (code 42803)",
                "SELECT customer.first_nam, count(*) FROM customer",
            ),
            (
                "operator does not exist: text = integer (code 42883)",
                "SELECT 1 FROM customer WHERE first_name = 1",
            ),
            (
                "integer out of range (code 22003)",
                "SELECT total::int FROM invoice",
            ),
            (
                "the database refused the statement because this source is read-only: cannot execute INSERT in a read-only transaction",
                "INSERT INTO customer VALUES (1)",
            ),
        ] {
            assert_eq!(pg(message, sql), message);
        }
        let mysql = |m, sql| scrub(Dialect::Mysql, m, sql);
        for (message, sql) in [
            (
                "BIGINT value is out of range in '`chinook`.`Customer`.`CustomerId` * 9223372036854775807' (code 22003)",
                "SELECT CustomerId * 9223372036854775807 AS x FROM Customer",
            ),
            (
                "DOUBLE value is out of range in 'exp(`chinook`.`Customer`.`CustomerId` * 1000)' (code 22003)",
                "SELECT EXP(CustomerId * 1000) AS x FROM Customer",
            ),
            (
                "Subquery returns more than 1 row (code 21000)",
                "SELECT (SELECT FirstName FROM Customer) AS x",
            ),
            (
                "Unknown column 'Nmae' in 'field list' (code 42S22)",
                "SELECT Nmae FROM Customer",
            ),
            (
                "Column 'FirstName' in SELECT is ambiguous (code 23000)",
                "SELECT FirstName FROM Customer a JOIN Customer b",
            ),
            (
                "Unknown column 'Nmae' in 'SELECT' (code 42S22)",
                "SELECT Nmae FROM Customer",
            ),
        ] {
            assert_eq!(mysql(message, sql), message);
        }
        let sqlite = |m, sql| scrub(Dialect::Sqlite, m, sql);
        for (message, sql) in [
            (
                "malformed JSON (code 1)",
                "SELECT json(FirstName) FROM Customer",
            ),
            (
                "integer overflow (code 1)",
                "SELECT abs(-9223372036854775807 - CustomerId) FROM Customer",
            ),
            ("no such column: Nmae (code 1)", "SELECT Nmae FROM Customer"),
            (
                "ambiguous column name: FirstName (code 1)",
                "SELECT FirstName FROM Customer, Customer",
            ),
            (
                "ESCAPE expression must be a single character (code 1)",
                "SELECT FirstName LIKE 'x' ESCAPE FirstName FROM Customer",
            ),
        ] {
            assert_eq!(sqlite(message, sql), message);
        }
    }

    /// Messages of MariaDB and MySQL (from reads, writes and conversions) and of SQLite.
    #[test]
    fn mysql_and_sqlite_messages_lose_their_values() {
        let mysql = |m, sql| scrub(Dialect::Mysql, m, sql);
        let cases = [
            (
                "Truncated incorrect DOUBLE value: 'Luís' (code 22007)",
                "SELECT FirstName + 0 FROM Customer",
                "Truncated incorrect DOUBLE value: '<value>' (code 22007)",
            ),
            (
                "Truncated incorrect INTEGER value: 'O'Reilly' for'",
                "SELECT CAST(LastName AS SIGNED) FROM Customer",
                "Truncated incorrect INTEGER value: '<value>'",
            ),
            (
                "Incorrect datetime value: 'Lu\\xC3\\xADs' for column `chinook`.`Customer`.`FirstName` at row 1",
                "SELECT DATE(FirstName) FROM Customer",
                "Incorrect datetime value: '<value>' for column `chinook`.`Customer`.`FirstName` at row 1",
            ),
            (
                "Incorrect integer value: 'abc' for column 'CustomerId' at row 1 (code 22007)",
                "SELECT CustomerId FROM Customer",
                "Incorrect integer value: '<value>' for column 'CustomerId' at row 1 (code 22007)",
            ),
            (
                "Incorrect datetime value: 'Luís' for function str_to_date",
                "SELECT STR_TO_DATE(FirstName, '%Y') FROM Customer",
                "Incorrect datetime value: '<value>' for function str_to_date",
            ),
            (
                "Duplicate entry 'luisg@embraer.com.br' for key 'PRIMARY' (code 23000)",
                "SELECT Email FROM Customer",
                "Duplicate entry '<value>' for key 'PRIMARY' (code 23000)",
            ),
            (
                "COLLATION 'latin1_bin' is not valid for CHARACTER SET 'utf8mb4' (code 42000)",
                "SELECT FirstName COLLATE latin1_bin AS x FROM Customer",
                "COLLATION '<value>' (code 42000)",
            ),
            (
                "Cannot convert string 'L\\xC3\\xADs' from binary to utf8mb4",
                "SELECT CONVERT(FirstName USING binary) FROM Customer",
                "Cannot convert string '<value>' from binary to utf8mb4",
            ),
        ];
        for (message, sql, expected) in cases {
            assert_eq!(mysql(message, sql), expected, "{message}");
        }
        let sqlite = |m, sql| scrub(Dialect::Sqlite, m, sql);
        for (message, sql, expected) in [
            (
                "bad JSON path: 'Luís' (code 1)",
                "SELECT json_extract('{}', FirstName) FROM Customer",
                "bad JSON path: '<value>' (code 1)",
            ),
            (
                "JSON path error near 'Luís' (code 1)",
                "SELECT json_extract('{}', FirstName) FROM Customer",
                "JSON path error near '<value>' (code 1)",
            ),
        ] {
            assert_eq!(sqlite(message, sql), expected, "{message}");
        }
    }

    /// A value with quotes, separators or the words databases write after values in it still
    /// goes whole.
    #[test]
    fn values_holding_quotes_go_whole() {
        let pg = |m: &str| scrub(Dialect::Postgres, m, "SELECT first_name::int FROM customer");
        for value in [
            "O'Brien",
            "say \"hi\"",
            "a\" for \"b",
            "x\" is not",
            "Luís:00 - \"c\" at 'd'",
            "customer",
        ] {
            let message =
                format!("invalid input syntax for type integer: \"{value}\" (code 22P02)");
            let scrubbed = pg(&message);
            assert_eq!(
                scrubbed, "invalid input syntax for type integer: \"<value>\" (code 22P02)",
                "{value}"
            );
        }
        let mysql = scrub(
            Dialect::Mysql,
            "Incorrect integer value: 'it's a ' for column 'CustomerId' at row 1",
            "SELECT CustomerId FROM Customer",
        );
        assert_eq!(
            mysql,
            "Incorrect integer value: '<value>' for column 'CustomerId' at row 1"
        );
    }

    /// Every message form above, with values that hold quotes, backticks, separators,
    /// non-ASCII letters and the words databases write around values: no word of a value that
    /// the form or the SQL does not hold itself is left.
    #[test]
    fn no_form_lets_a_value_through() {
        let forms: &[(Dialect, &str)] = &[
            (
                Dialect::Postgres,
                "invalid input syntax for type integer: \"V\" (code 22P02)",
            ),
            (
                Dialect::Postgres,
                "invalid value \"V\" for \"YYYY\" (code 22007)",
            ),
            (
                Dialect::Postgres,
                "unit \"V\" not recognized for type timestamp (code 22023)",
            ),
            (
                Dialect::Postgres,
                "time zone \"V\" not recognized (code 22023)",
            ),
            (
                Dialect::Postgres,
                "relation \"V\" does not exist (code 42P01)",
            ),
            (
                Dialect::Postgres,
                "malformed range literal: \"V\" (code 22P02)",
            ),
            (
                Dialect::Postgres,
                "x\nDETAIL:  Token \"V\" is invalid.\nCONTEXT:  JSON data, line 1: V",
            ),
            (
                Dialect::Postgres,
                "x\nDETAIL:  Key (email)=(V) already exists.",
            ),
            (
                Dialect::Mysql,
                "Truncated incorrect DOUBLE value: 'V' (code 22007)",
            ),
            (
                Dialect::Mysql,
                "Incorrect datetime value: 'V' for column `chinook`.`Customer`.`FirstName` at row 1",
            ),
            (
                Dialect::Mysql,
                "Duplicate entry 'V' for key 'PRIMARY' (code 23000)",
            ),
            (
                Dialect::Mysql,
                "Cannot convert string 'V' from binary to utf8mb4",
            ),
            (Dialect::Sqlite, "bad JSON path: 'V' (code 1)"),
            (Dialect::Sqlite, "JSON path error near 'V' (code 1)"),
        ];
        let values = [
            "Zanzibar",
            "O'Brien-Smythe",
            "Say \"Hello\" Worldwide",
            "x' for key 'PRIMARY' and 'Quokka",
            "q\" for \"YYYY\" then \"Quokka",
            "Ünïcödé Straße",
            "a'b\"c`Quokka`d",
            "semi;colon -- dashes",
            "tab\tseparated",
            "back\\slash\\' Quokka",
            "brace{[(<Quokka>)]} )",
            "Quokka\" is not \"Wombat",
            "Quokka' at 'Wombat",
        ];
        let sql = "SELECT first_name::int, CAST(FirstName AS SIGNED) FROM customer";
        for &(dialect, form) in forms {
            for value in values {
                let message = form.replace('V', value);
                let scrubbed = scrub(dialect, &message, sql);
                for word in value
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.chars().count() >= 4)
                {
                    assert!(
                        form.contains(word) || sql.contains(word) || !scrubbed.contains(word),
                        "{word:?} of {value:?} left in {scrubbed:?} (from {message:?})"
                    );
                }
            }
        }
    }

    #[test]
    fn only_names_the_model_knows_survive_in_quotes() {
        let catalog = chinook(Dialect::Postgres, "chinook", true);
        let known = KnownNames::new(
            &catalog,
            "SELECT nmae AS \"Total Sales\" FROM customer WHERE x = 42",
        );
        assert!(known.knows("customer.first_name"));
        assert!(known.knows("public.invoice"));
        assert!(known.knows("Total Sales"));
        assert!(known.knows("nmae"));
        assert!(known.knows("42"));
        assert!(!known.knows("43"));
        assert!(!known.knows("Luís"));
        assert!(!known.knows("customer Luís"));
    }
}
