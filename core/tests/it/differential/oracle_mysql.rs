//! The MariaDB oracle: what the server resolved, through `EXPLAIN EXTENDED` and its note 1003,
//! and through privileges. MariaDB has no embeddable parser, so this is the round trip.
//!
//! **Grants (exact).** Each statement is explained first as `cbi_diff_probe`, whose column grants
//! equal the policy (no `ssn`, no `pr"ivate`, no `secrets`, nothing in `cbi_diff_other`).
//! MariaDB checks privileges on every column it resolves, `*` expansion included (a `*` over a
//! table with a column the user may not read is refused as a whole), so "command denied" proves
//! a read outside the policy. `information_schema` is readable by everyone and only filtered, so
//! the grants do not catch it; the note does.
//!
//! **Note 1003 (tables complete, columns close).** After `EXPLAIN EXTENDED`, `SHOW WARNINGS`
//! holds the statement as the optimizer rewrote it, with every name resolved: tables as
//! `` `db`.`table` `alias` ``, columns as `` `db`.`alias`.`column` ``, `*` expanded, NATURAL and
//! USING turned into explicit equalities, views and mergeable derived tables inlined. Tables
//! and columns are read off that text.
//!
//! `EXPLAIN FORMAT=JSON` names each table only by its alias (`"table_name": "c"`,
//! `<derived2>`, `<subquery2>`) and columns only where an index is used (`used_key_parts`), so
//! it is not used. **Functions**: every `name(` of the note that is not syntax is a function the
//! statement calls (`sleep`, `user`, `version`, `benchmark`), and `@@name` a server variable it
//! reads; both are compared with the allow-list (MariaDB prints some functions under their
//! canonical name: `length` as `octet_length`, `substring` as `substr`).
//!
//! Blind spots: the optimizer folds a constant table (a unique key looked up by a constant, or
//! a table of at most one row) into values, which hides its columns (the fixture's tables have
//! no keys and several rows, so this does not happen there); a subquery the optimizer removes
//! (`WHERE 0`) disappears from the note, and so does a constant expression it evaluates.

use std::collections::{BTreeSet, HashMap, HashSet};

use conversational_bi::Dialect;
use sqlx::{AssertSqlSafe, MySqlConnection, Row, mysql::MySqlDatabaseError};
use testkit::sessions::SessionPair;

use super::{
    compare::{Names, Observation, Policy, Reads},
    fixture,
};

/// Two sessions on `cbi_diff`: the probe (policy grants) and the full reader.
#[derive(Debug)]
pub struct MysqlOracle {
    sessions: SessionPair<MySqlConnection>,
    policy: Policy,
    /// Lowercased names of the server's databases, to tell `db`.`table` from `alias`.`column`.
    databases: HashSet<String>,
}

/// The settings of both sessions.
const SETUP: &str = "SET SESSION max_statement_time = 5; SET SESSION TRANSACTION READ ONLY";

/// MariaDB's privilege errors: table, column, database access denied.
const DENIED: &[u16] = &[1142, 1143, 1044, 1227, 1370];

fn denial(e: &sqlx::Error) -> Option<String> {
    let db = e.as_database_error()?;
    let my = db.try_downcast_ref::<MySqlDatabaseError>()?;
    DENIED
        .contains(&my.number())
        .then(|| my.message().to_string())
}

fn message(e: &sqlx::Error) -> String {
    e.as_database_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_string())
}

/// Runs `EXPLAIN EXTENDED sql` and returns the text of note 1003.
async fn explain(conn: &mut MySqlConnection, sql: &str) -> Result<String, sqlx::Error> {
    let text = format!("EXPLAIN EXTENDED {sql}");
    sqlx::query(AssertSqlSafe(text))
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?;
    let rows = sqlx::raw_sql("SHOW WARNINGS").fetch_all(&mut *conn).await?;
    let mut note = String::new();
    for row in rows {
        let code = row
            .try_get::<u32, _>(1)
            .map(i64::from)
            .or_else(|_| row.try_get::<i64, _>(1))
            .unwrap_or_default();
        if code == 1003 {
            note = row.try_get::<String, _>(2).unwrap_or_default();
        }
    }
    Ok(note)
}

impl MysqlOracle {
    /// Connects both sessions.
    pub async fn connect() -> Result<Self, String> {
        let mut sessions =
            SessionPair::connect(fixture::mysql_probe_url(), fixture::mysql_all_url(), SETUP)
                .await?;
        let mut databases: HashSet<String> = sqlx::query_scalar::<_, String>(
            "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata",
        )
        .fetch_all(&mut sessions.all)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|d| d.to_lowercase())
        .collect();
        for d in ["mysql", "information_schema", "performance_schema", "sys"] {
            databases.insert(d.to_string());
        }
        Ok(Self {
            sessions,
            policy: Policy::new(Dialect::Mysql),
            databases,
        })
    }

    /// Makes the next statement reconnect first (the connection is in an unknown state).
    pub fn mark_broken(&mut self) {
        self.sessions.mark_broken();
    }

    /// What MariaDB reads when it resolves and optimizes `sql`.
    pub async fn observe(&mut self, sql: &str) -> Observation {
        if let Err(e) = self.sessions.ready().await {
            return Observation::Lost(e);
        }
        let (note, grants_refused) = match explain(&mut self.sessions.probe, sql).await {
            Ok(note) => (note, None),
            Err(e) if e.as_database_error().is_none() => {
                self.sessions.mark_broken();
                return Observation::Lost(e.to_string());
            }
            Err(e) => match denial(&e) {
                Some(why) => match explain(&mut self.sessions.all, sql).await {
                    Ok(note) => (note, Some(why)),
                    Err(e2) if e2.as_database_error().is_none() => {
                        self.sessions.mark_broken();
                        return Observation::Lost(e2.to_string());
                    }
                    // MariaDB answers "denied" rather than "unknown column" to a user with
                    // column grants, so as not to tell which columns exist: when the full
                    // reader is refused too, the statement reads nothing.
                    Err(e2) => return Observation::Refused(message(&e2)),
                },
                None => return Observation::Refused(message(&e)),
            },
        };
        let (reads, clean) = note_reads(&self.policy, &self.databases, &note);
        Observation::Compiled {
            reads,
            several: false,
            grants_refused,
            partial: !clean || note.is_empty(),
        }
    }
}

/// A token of a note 1003 text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A backtick-quoted name.
    Name(String),
    /// An unquoted word (keyword, function name, number), lowercased.
    Word(String),
    Dot,
    LParen,
    Close,
    At,
    Other,
}

/// Tokens of a note, and whether it lexed cleanly: every quote and name closed, no comment but
/// the `/* select#N */` markers, parentheses balanced. MariaDB escapes plain literals in the
/// note but prints a literal with a charset introducer (`_utf8mb4'...'`) raw, quotes and
/// backslashes included; such a literal ends at the first quote followed by what may follow a
/// literal, and a note that still does not lex cleanly is not trusted.
fn lex(s: &str) -> (Vec<Tok>, bool) {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut clean = true;
    let mut depth = 0i64;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '`' => {
                let mut name = String::new();
                i += 1;
                while i < chars.len() {
                    if chars[i] == '`' {
                        if chars.get(i + 1) == Some(&'`') {
                            name.push('`');
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    name.push(chars[i]);
                    i += 1;
                }
                clean &= i < chars.len();
                i += 1;
                out.push(Tok::Name(name));
            }
            '\'' if matches!(out.last(), Some(Tok::Word(w)) if w.starts_with('_'))
                && i > 0
                && !chars[i - 1].is_whitespace() =>
            {
                // `_charset'...'`: printed raw, quotes and backslashes unescaped; it ends at the
                // first quote followed by what may follow a literal.
                i += 1;
                while i < chars.len() && !(chars[i] == '\'' && ends_literal(&chars[i + 1..])) {
                    i += 1;
                }
                clean &= i < chars.len();
                i += 1;
                out.pop();
                out.push(Tok::Other);
            }
            '\'' | '"' => {
                i += 1;
                while i < chars.len() {
                    if chars[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    if chars[i] == c {
                        if chars.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                clean &= i < chars.len();
                i += 1;
                out.push(Tok::Other);
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let start = i + 2;
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                let body: String = chars[start..i.min(chars.len())].iter().collect();
                clean &= i + 1 < chars.len() && body.trim_start().starts_with("select#");
                i += 2;
            }
            '.' => {
                i += 1;
                out.push(Tok::Dot);
            }
            c if c.is_whitespace() => i += 1,
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
                {
                    i += 1;
                }
                out.push(Tok::Word(
                    chars[start..i].iter().collect::<String>().to_lowercase(),
                ));
            }
            _ => {
                i += 1;
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        clean &= depth >= 0;
                    }
                    _ => {}
                }
                out.push(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::Close,
                    '@' => Tok::At,
                    _ => Tok::Other,
                });
            }
        }
    }
    (out, clean && depth == 0)
}

/// Whether `rest` (the text after a quote) starts with what may follow a literal in a note.
fn ends_literal(rest: &[char]) -> bool {
    let text: String = rest.iter().take(12).collect::<String>().to_lowercase();
    let t = text.trim_start();
    // A note holds no comment but `/* select#N */`, which never follows a literal: `/*` after a
    // quote is inside the literal.
    t.is_empty()
        || (t.starts_with([
            ',', ')', '=', '<', '>', '!', '+', '-', '*', '/', '%', '|', '&', '^',
        ]) && !t.starts_with("/*"))
        || [
            "as ", "from ", "where ", "and ", "or ", "then ", "else ", "end", "when ", "is ",
            "like ", "in ", "not ", "collate ", "escape ", "between ", "limit ", "order ",
            "group ", "having ", "union ", "join ", "on ",
        ]
        .iter()
        .any(|w| t.starts_with(w))
}

/// The reads of a note 1003 text, and whether the note could be read completely (see [`lex`]).
pub fn note_reads(policy: &Policy, databases: &HashSet<String>, note: &str) -> (Reads, bool) {
    let names: Names = policy.names();
    let (toks, clean) = lex(note);
    let name_at = |i: usize| match toks.get(i) {
        Some(Tok::Name(n)) => Some(n.as_str()),
        _ => None,
    };
    let dot_at = |i: usize| toks.get(i) == Some(&Tok::Dot);
    let mut reads = Reads::default();
    // (db, alias) -> tables; a table without an alias is its own alias.
    let mut aliases: HashMap<(String, String), Vec<String>> = HashMap::new();
    let mut i = 0;
    while i < toks.len() {
        let starts_chain = !(i > 0 && dot_at(i - 1));
        if let (true, Some(a), true, Some(b)) =
            (starts_chain, name_at(i), dot_at(i + 1), name_at(i + 2))
        {
            if dot_at(i + 3) {
                i += 4;
                continue;
            }
            if databases.contains(&a.to_lowercase()) {
                let key = names.table(Some(a), b);
                reads.tables.insert(key.clone());
                let alias = match name_at(i + 3) {
                    Some(al) if !dot_at(i + 4) => al.to_string(),
                    _ => b.to_string(),
                };
                aliases
                    .entry((a.to_lowercase(), alias))
                    .or_default()
                    .push(key);
            }
            i += 3;
            continue;
        }
        i += 1;
    }
    for i in 0..toks.len() {
        if i > 0 && dot_at(i - 1) {
            continue;
        }
        let (Some(a), true, Some(b), true, Some(c)) = (
            name_at(i),
            dot_at(i + 1),
            name_at(i + 2),
            dot_at(i + 3),
            name_at(i + 4),
        ) else {
            continue;
        };
        let col = names.column(c);
        let tables = aliases
            .get(&(a.to_lowercase(), b.to_string()))
            .cloned()
            .unwrap_or_else(|| vec![names.table(Some(a), b)]);
        let candidates: BTreeSet<(String, String)> = tables
            .into_iter()
            .filter(|key| {
                policy
                    .columns
                    .get(key)
                    .is_some_and(|cols| cols.contains(&col))
            })
            .map(|key| (key, col.clone()))
            .collect();
        // The note does not say which scope an alias belongs to: with two tables behind it,
        // the read is one of them.
        if candidates.len() > 1 {
            reads.one_of.insert(candidates);
        } else {
            reads.columns.extend(candidates);
        }
    }
    functions(&toks, &mut reads);
    (reads, clean)
}

/// Words that the note prints like a call but are syntax or type names.
const NOT_FUNCTIONS: &[&str] = &[
    // the optimizer's own predicates in the note
    "equal",
    "trigcond",
    "is_not_null_test",
    "materialize",
    "primary_index_lookup",
    "index_lookup",
    "ref_null_helper",
    "cache",
    "in",
    "exists",
    "not",
    "and",
    "or",
    "cast",
    "convert",
    "interval",
    "case",
    "when",
    "then",
    "else",
    "end",
    "values",
    "row",
    "select",
    "from",
    "where",
    "join",
    "on",
    "using",
    "as",
    "any",
    "all",
    "some",
    "char",
    "varchar",
    "decimal",
    "signed",
    "unsigned",
    "double",
    "float",
    "binary",
    "datetime",
    "integer",
    "int",
    "separator",
    "over",
    "partition",
    "distinct",
    "union",
    "like",
    "semi",
    "straight_join",
    "dual",
    "is",
    "null",
    "having",
    "group",
    "order",
    "by",
    "limit",
];

/// Whether the parenthesis at `open` closes right before `as (`: `name(columns) as (...)`
/// defines a CTE, it calls nothing.
fn is_cte_definition(toks: &[Tok], open: usize) -> bool {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::LParen => depth += 1,
            Tok::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return matches!(toks.get(i + 1), Some(Tok::Word(w)) if w == "as")
                        && toks.get(i + 2) == Some(&Tok::LParen);
                }
            }
            _ => {}
        }
    }
    false
}

/// Adds the functions the note calls (`name(`) and the server variables it reads (`@@name`, as
/// a function `@@name`, which no allow-list holds).
fn functions(toks: &[Tok], reads: &mut Reads) {
    for (i, t) in toks.iter().enumerate() {
        match (t, toks.get(i + 1), toks.get(i + 2)) {
            (Tok::At, Some(Tok::At), Some(Tok::Word(w))) => {
                reads.functions.insert(format!("@@{w}"));
            }
            (Tok::Word(w), Some(Tok::LParen), _) => {
                let not_a_call = NOT_FUNCTIONS.contains(&w.as_str())
                    || w.starts_with(|c: char| c.is_ascii_digit())
                    || (i > 0 && toks[i - 1] == Tok::At)
                    || is_cte_definition(toks, i + 1);
                if !not_a_call {
                    reads.functions.insert(w.clone());
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_reads_map_aliases_to_tables() {
        let policy = Policy::new(Dialect::Mysql);
        let databases: HashSet<String> = ["cbi_diff", "cbi_diff_other", "information_schema"]
            .iter()
            .map(|d| d.to_string())
            .collect();
        let note = "/* select#1 */ select `cbi_diff`.`customers`.`id` AS `id`,_utf8mb4'a'/*' AS `x`,\
                    'b\\'`cbi_diff`.`c`.`ssn`' AS `y`,user() AS `u` from `cbi_diff`.`notes` `customers` \
                    join `cbi_diff_other`.`orders` where `cbi_diff_other`.`orders`.`amount` > 1";
        let (r, clean) = note_reads(&policy, &databases, note);
        assert!(clean);
        assert_eq!(
            r.tables.iter().collect::<Vec<_>>(),
            ["cbi_diff.notes", "cbi_diff_other.orders"]
        );
        assert_eq!(
            r.columns.iter().collect::<Vec<_>>(),
            [
                &("cbi_diff.notes".to_string(), "id".to_string()),
                &("cbi_diff_other.orders".to_string(), "amount".to_string()),
            ]
        );
        assert!(r.functions.contains("user"));
        let (_, clean) = note_reads(&policy, &databases, "select _utf8mb4'a' AS b, (' AS `x`");
        assert!(!clean);
    }

    #[test]
    fn a_column_behind_an_alias_two_tables_share_is_one_of_them() {
        let policy = Policy::new(Dialect::Mysql);
        let databases: HashSet<String> = ["cbi_diff"].iter().map(|d| d.to_string()).collect();
        // `customers` is the inner table's own name and the outer alias of `notes`.
        let note = "/* select#1 */ select (/* select#2 */ select `cbi_diff`.`customers`.`email` \
                    from `cbi_diff`.`customers`) AS `e`,`cbi_diff`.`customers`.`id` AS `id` \
                    from `cbi_diff`.`notes` `customers`";
        let (r, clean) = note_reads(&policy, &databases, note);
        assert!(clean);
        let pair = |t: &str, c: &str| (t.to_string(), c.to_string());
        assert_eq!(
            r.columns.iter().cloned().collect::<Vec<_>>(),
            [pair("cbi_diff.customers", "email")]
        );
        let groups: Vec<Vec<(String, String)>> = r
            .one_of
            .iter()
            .map(|g| g.iter().cloned().collect())
            .collect();
        assert_eq!(
            groups,
            [vec![
                pair("cbi_diff.customers", "id"),
                pair("cbi_diff.notes", "id")
            ],]
        );
    }
}
