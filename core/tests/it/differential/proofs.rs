//! The pre-release audit's proofs (issue 14, C1, H1 and H2) adapted to the fixture, and the
//! breakout templates built from them.
//!
//! Each proof is sent verbatim at the start of every run and, mutated, among the random
//! statements. The fixture's `customers.ssn` stands for the audit's denied `Customer.Email` /
//! `customers.ssn`, and `secrets` (plus `archive.orders` / `cbi_diff_other.orders`) for the
//! tables outside `allowed_tables`.

use conversational_bi::Dialect;

use super::lexical::{self, Rng};

/// The proofs for `dialect`, one statement each.
pub fn proofs(dialect: Dialect) -> Vec<String> {
    let list: &[&str] = match dialect {
        Dialect::Sqlite => &[
            // C1: a backslash before a quote, the row cap inside a comment.
            r"SELECT 'x\'', (SELECT group_concat(ssn) FROM customers) AS emails, (SELECT count(*) FROM secrets) AS revenue --'",
            r"SELECT 'x\'', sqlite_version() AS v, (SELECT max(sql) FROM sqlite_master) AS s --'",
            // C1: the rule generator's company literal.
            r"SELECT full_name, email FROM customers WHERE full_name = 'x\' UNION SELECT ssn, email FROM customers --'",
            // C1: a bracket identifier printed raw.
            "SELECT id AS [x]], (SELECT group_concat(ssn) FROM customers) AS [y] FROM customers",
            "SELECT [a]] FROM customers",
            // H1: a name no relation in scope resolves, next to a relation with unknown columns.
            "SELECT (SELECT ssn FROM json_each('[1]')) AS e FROM customers",
            "SELECT (SELECT ssn FROM (SELECT 1+1)) AS e FROM customers",
            // H1: USING and NATURAL.
            "SELECT ssn FROM customers a JOIN customers b USING (id, ssn)",
            "SELECT full_name FROM customers NATURAL JOIN customers AS c2",
            "SELECT id FROM notes NATURAL JOIN notes AS n2",
            // Controls the validator must refuse.
            "SELECT count(*) FROM secrets",
            "SELECT \"pr\"\"ivate\" FROM notes",
            // The rowid is the column `id`.
            "SELECT rowid, full_name FROM customers",
        ],
        Dialect::Postgres => &[
            r"SELECT 'x\'', (SELECT string_agg(ssn, ',') FROM customers) AS s, (SELECT count(*) FROM secrets) AS t --'",
            // C1: the audit's reads of the catalog and calls of server functions.
            r"SELECT 'x\'', (SELECT datname FROM pg_database LIMIT 1) AS d, version() AS v, pg_sleep(0) AS s --'",
            r#"SELECT 1 AS "a\"", (SELECT string_agg(ssn, ',') FROM customers) AS "b\"" FROM customers"#,
            r"SELECT full_name FROM customers WHERE full_name = 'x\' UNION SELECT ssn FROM customers --'",
            "SELECT (SELECT ssn FROM generate_series(1,1)) AS s FROM customers",
            "SELECT to_json(x) AS row FROM customers AS x, generate_series(1, 1) AS g",
            "SELECT (x).ssn FROM customers AS x",
            "SELECT full_name FROM customers NATURAL JOIN customers AS c2",
            "SELECT customer_id, amount FROM archive.orders",
            "SELECT count(*) FROM secrets",
            "SELECT \"pr\"\"ivate\" FROM notes",
            "SELECT U&\"\\0073sn\" FROM customers",
        ],
        Dialect::Mysql => &[
            // C1: MySQL reads `\\` as one backslash, the renderer does not write it back.
            r"SELECT 'a\\' AS x",
            r"SELECT 'a\\', ', (SELECT group_concat(ssn) FROM customers) AS s -- ' AS z",
            r"SELECT full_name FROM customers WHERE full_name = 'x\\' UNION SELECT ssn FROM customers -- '",
            r"SELECT 'a\\', ', USER() AS u, @@version AS v, SLEEP(0) AS s -- ' AS z",
            r"SELECT id AS `a\`, (SELECT group_concat(ssn) FROM customers) AS `b` FROM customers",
            // H1.
            "SELECT (SELECT ssn FROM (SELECT 1+1) t) AS e FROM customers",
            "SELECT full_name FROM customers NATURAL JOIN customers AS c2",
            // H2: another database, information_schema.
            "SELECT customer_id, amount FROM cbi_diff_other.orders",
            "SELECT token FROM cbi_diff_other.secrets",
            "SELECT count(*) FROM information_schema.tables",
            // Found by this test: a WITH inside a subquery does not see the enclosing CTEs on
            // MariaDB and reads the table the outer CTE shadows.
            "WITH secrets(id, customer_id, token) AS (SELECT 1, 1, 'x') SELECT (WITH c AS (SELECT * FROM secrets) SELECT group_concat(token) FROM c) AS leaked",
            "SELECT count(*) FROM secrets",
            "SELECT `pr\"ivate` FROM notes",
            "SELECT \"ssn\" FROM customers",
        ],
    };
    list.iter().map(|s| s.to_string()).collect()
}

/// A select item that reads the restricted column or a table outside the allowed ones.
pub fn payload_item(rng: &mut Rng, dialect: Dialect) -> String {
    let agg = lexical::ssn_aggregate(dialect);
    let (other, call) = match dialect {
        Dialect::Sqlite => ("(SELECT max(name) FROM sqlite_master)", "sqlite_version()"),
        Dialect::Postgres => ("(SELECT count(*) FROM archive.orders)", "version()"),
        Dialect::Mysql => ("(SELECT count(*) FROM cbi_diff_other.orders)", "user()"),
    };
    let items = [
        "ssn".to_string(),
        format!("(SELECT {agg} FROM customers) AS p"),
        "(SELECT count(*) FROM secrets) AS q".to_string(),
        "(SELECT token FROM secrets LIMIT 1)".to_string(),
        other.to_string(),
        "(SELECT max(\"pr\"\"ivate\") FROM notes)".to_string(),
        format!("{call} AS f"),
    ];
    rng.pick(&items).clone()
}

/// A breakout statement: a payload between an opener and a closer that tokenizers may read
/// differently, in one of a few shapes of the audit's proofs.
pub fn breakout(rng: &mut Rng, dialect: Dialect) -> String {
    let (open, close) = lexical::breakout_pair(rng, dialect);
    let payload = payload_item(rng, dialect);
    let filler = if rng.chance(0.3) {
        lexical::content(rng, dialect)
    } else {
        String::new()
    };
    let tail = match rng.below(4) {
        0 => format!("--{close}"),
        1 => format!("-- {close}"),
        2 => format!("{close} AS z"),
        _ => close.clone(),
    };
    let from = if rng.chance(0.5) {
        " FROM customers"
    } else {
        ""
    };
    match rng.below(5) {
        0 => format!("SELECT {open}{filler}, {payload} {tail}"),
        1 => format!(
            "SELECT full_name FROM customers WHERE full_name = {open}{filler} UNION SELECT ssn FROM customers {tail}"
        ),
        2 => format!("SELECT id AS {open}{filler}, {payload} AS {tail}{from}"),
        3 => format!("SELECT {open}{filler} AS a, {payload} {tail}{from}"),
        _ => {
            let sep = lexical::odd_separator(rng);
            format!("SELECT full_name{sep}{open}, {payload}{sep}{tail}{from}")
        }
    }
}
