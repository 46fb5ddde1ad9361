//! The differential test's schema and policy, identical on the three databases.
//!
//! | table | columns | policy |
//! | --- | --- | --- |
//! | `customers` | `id`, `full_name`, `email`, `ssn` | allowed, `ssn` restricted |
//! | `orders` | `id`, `customer_id`, `amount`, `status` | allowed |
//! | `notes` | `id`, `customer_id`, `body`, `Mixed Case`, `q"uote`, ``b`tick``, `br]ack`, `ünï`, `pr"ivate` | allowed, `pr"ivate` restricted |
//! | `secrets` | `id`, `customer_id`, `token` | outside the allowed tables |
//! | `archive.orders` (PostgreSQL), `cbi_diff_other.orders` and `.secrets` (MariaDB) | as `orders` | another namespace, never allowed |
//!
//! PostgreSQL and MariaDB hold it as database `cbi_diff`, created by `scripts/load-test-data.sh`
//! with the roles `cbi_diff_all` (reads every table) and `cbi_diff_probe` (column grants equal
//! to the policy); SQLite builds it in a temporary file with [`SQLITE_DDL`].

use conversational_bi::{Dialect, sql::ValidatorOptions};
use testkit::db::env_or;

/// The kind of value a column holds, so that generated comparisons type-check on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// An integer or decimal.
    Num,
    /// Text.
    Text,
}

/// A table of the fixture as the generator sees it.
#[derive(Debug, Clone)]
pub struct TableDef {
    /// Its namespace when it is not the connection's own (`archive`, `cbi_diff_other`).
    pub namespace: Option<&'static str>,
    /// Its name.
    pub name: &'static str,
    /// Its columns and their kinds, in declaration order.
    pub columns: &'static [(&'static str, Ty)],
    /// Whether the policy lets it be read.
    pub allowed: bool,
}

const CUSTOMERS: &[(&str, Ty)] = &[
    ("id", Ty::Num),
    ("full_name", Ty::Text),
    ("email", Ty::Text),
    ("ssn", Ty::Text),
];
const ORDERS: &[(&str, Ty)] = &[
    ("id", Ty::Num),
    ("customer_id", Ty::Num),
    ("amount", Ty::Num),
    ("status", Ty::Text),
];
const NOTES: &[(&str, Ty)] = &[
    ("id", Ty::Num),
    ("customer_id", Ty::Num),
    ("body", Ty::Text),
    ("Mixed Case", Ty::Text),
    ("q\"uote", Ty::Text),
    ("b`tick", Ty::Text),
    ("br]ack", Ty::Text),
    ("ünï", Ty::Text),
    ("pr\"ivate", Ty::Text),
];
const SECRETS: &[(&str, Ty)] = &[
    ("id", Ty::Num),
    ("customer_id", Ty::Num),
    ("token", Ty::Text),
];

/// The restricted columns, as `table.column` (the validator's `denied_columns`).
pub const DENIED: &[(&str, &str)] = &[("customers", "ssn"), ("notes", "pr\"ivate")];

/// The tables of the fixture on `dialect`, the connection's own namespace first.
pub fn tables(dialect: Dialect) -> Vec<TableDef> {
    let own = |name, columns, allowed| TableDef {
        namespace: None,
        name,
        columns,
        allowed,
    };
    let mut out = vec![
        own("customers", CUSTOMERS, true),
        own("orders", ORDERS, true),
        own("notes", NOTES, true),
        own("secrets", SECRETS, false),
    ];
    match dialect {
        Dialect::Postgres => out.push(TableDef {
            namespace: Some("archive"),
            name: "orders",
            columns: ORDERS,
            allowed: false,
        }),
        Dialect::Mysql => {
            for (name, columns) in [("orders", ORDERS), ("secrets", SECRETS)] {
                out.push(TableDef {
                    namespace: Some("cbi_diff_other"),
                    name,
                    columns,
                    allowed: false,
                });
            }
        }
        Dialect::Sqlite => {}
    }
    out
}

/// The connection's own namespace as SQL may write it (`main.customers`, `public.customers`,
/// `cbi_diff.customers`).
pub fn own_namespace(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "main",
        Dialect::Postgres => "public",
        Dialect::Mysql => "cbi_diff",
    }
}

/// The validator's options: the allowed tables (qualified on PostgreSQL, where `archive.orders`
/// shares a name with an allowed table) and the restricted columns.
pub fn validator_options(dialect: Dialect) -> ValidatorOptions {
    let allowed = tables(dialect)
        .into_iter()
        .filter(|t| t.allowed)
        .map(|t| match dialect {
            Dialect::Postgres => format!("public.{}", t.name),
            _ => t.name.to_string(),
        })
        .collect();
    ValidatorOptions {
        max_rows: 1000,
        allowed_tables: allowed,
        denied_columns: DENIED.iter().map(|(t, c)| format!("{t}.{c}")).collect(),
    }
}

/// The SQLite schema and rows (the same content as the PostgreSQL and MariaDB databases).
pub const SQLITE_DDL: &str = r#"
CREATE TABLE customers (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, email TEXT NOT NULL, ssn TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, amount NUMERIC NOT NULL, status TEXT NOT NULL);
CREATE TABLE notes (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, body TEXT, "Mixed Case" TEXT, "q""uote" TEXT,
                    "b`tick" TEXT, "br]ack" TEXT, "ünï" TEXT, "pr""ivate" TEXT);
CREATE TABLE secrets (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, token TEXT NOT NULL);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 60)
INSERT INTO orders SELECT i, 1 + i % 20, i * 1.5, CASE WHEN i % 3 = 0 THEN 'open' ELSE 'paid' END FROM s;
INSERT INTO customers SELECT id, 'Customer ' || id, 'c' || id || '@example.com', '000-00-' || (1000 + id) FROM orders WHERE id <= 20;
INSERT INTO notes SELECT id, 1 + id % 20, 'note ' || id, 'm', 'q', 'b', 'k', 'u', 'private ' || id FROM orders WHERE id <= 30;
INSERT INTO secrets SELECT id, id, 'token-' || id FROM orders WHERE id <= 20;
"#;

/// PostgreSQL `cbi_diff` as the role that reads every table (`CBI_DIFF_PG_URL`).
pub fn pg_all_url() -> String {
    env_or(
        "CBI_DIFF_PG_URL",
        "postgres://cbi_diff_all:cbi_diff@127.0.0.1:5432/cbi_diff",
    )
}

/// PostgreSQL `cbi_diff` as the role whose grants match the policy (`CBI_DIFF_PG_PROBE_URL`).
pub fn pg_probe_url() -> String {
    env_or(
        "CBI_DIFF_PG_PROBE_URL",
        "postgres://cbi_diff_probe:cbi_diff@127.0.0.1:5432/cbi_diff",
    )
}

/// The local MariaDB socket, when there is one.
const MYSQL_SOCKET: &str = "/run/mysqld/mysqld.sock";

/// A default MariaDB URL for `user`: the local socket when it exists, else TCP on loopback.
///
/// Over TCP each statement of the oracle costs a delayed acknowledgement (about 40 ms): sqlx
/// does not set `TCP_NODELAY`, and it closes every one-off prepared statement with a packet the
/// server does not answer, so the next command waits behind it. The socket has no such delay.
fn mysql_default(user: &str) -> String {
    if std::path::Path::new(MYSQL_SOCKET).exists() {
        format!("mysql://{user}:cbi_diff@localhost/cbi_diff?socket={MYSQL_SOCKET}")
    } else {
        format!("mysql://{user}:cbi_diff@127.0.0.1:3306/cbi_diff")
    }
}

/// MariaDB `cbi_diff` as the user that reads every table (`CBI_DIFF_MYSQL_URL`).
pub fn mysql_all_url() -> String {
    env_or("CBI_DIFF_MYSQL_URL", &mysql_default("cbi_diff_all"))
}

/// MariaDB `cbi_diff` as the user whose grants match the policy (`CBI_DIFF_MYSQL_PROBE_URL`).
pub fn mysql_probe_url() -> String {
    env_or("CBI_DIFF_MYSQL_PROBE_URL", &mysql_default("cbi_diff_probe"))
}

/// Statements the validator of today accepts that crash or hang a database server (found by
/// this test), with the server and what happens. They are validated but never sent; the generator leaves out their
/// shape unless it hunts crashes against a private server ([`super::generate::Generator::hunting_crashes`]).
///
/// MariaDB 10.11.19 dies with signal 11 in `find_field_in_tables` (called from
/// `Item_field::fix_outer_field`) while preparing a statement with a reference to an enclosing
/// query inside a derived table or CTE body, which MariaDB does not support (it answers
/// "Unknown column" when it does not crash): a `db.table.column` reference in a derived table
/// whose `FROM` has a NATURAL or USING join (the name need not even exist: `nosuchdb.t.c`), and
/// a reference in the `ON` of a join inside an unused CTE of a subquery. `EXPLAIN`, `PREPARE`
/// and plain execution all crash; the validator accepts both today.
pub const KNOWN_CRASHES: &[(Dialect, &str, &str)] = &[
    (
        Dialect::Mysql,
        "SELECT (SELECT 1 FROM (SELECT cbi_diff.customers.id FROM orders NATURAL JOIN notes) c2) FROM customers",
        "MariaDB 10.11.19: signal 11 in find_field_in_tables",
    ),
    (
        Dialect::Mysql,
        "SELECT (SELECT 1 FROM (SELECT cbi_diff.customers.id FROM orders JOIN customers b USING (id)) c2) FROM customers",
        "MariaDB 10.11.19: signal 11 in find_field_in_tables",
    ),
    (
        Dialect::Mysql,
        "SELECT (WITH o2 AS (SELECT 1 FROM notes JOIN notes c2 ON orders.customer_id = 1) SELECT 2) FROM orders",
        "MariaDB 10.11.19: signal 11 in find_field_in_tables",
    ),
    // Found by long runs, not minimized: a recursive CTE and a CTE with a nested WITH, joined
    // in EXISTS conditions (signal 11 under st_select_lex_unit::prepare).
    (
        Dialect::Mysql,
        "WITH RECURSIVE cte (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM cte JOIN `customers` ON `customers`.id = cte.n WHERE n < 3), `q\"c` AS (WITH `c1` AS (SELECT N, coalesce(json_object('k', ';\u{202e}'), ']]') FROM `cte`) SELECT count(DISTINCT '\\``') AS `a]b` FROM notes AS MiXed LIMIT 5) SELECT `A]B` AS email, `notes`.`br]ack` FROM `q\"c` CROSS JOIN `cbi_diff`.notes WHERE NOT EXISTS (SELECT `orders`.id FROM orders JOIN cbi_diff.`notes` b ON EXISTS (SELECT customer_id AS `UPPER` FROM `notes` AS `MiXed` JOIN `q\"c` ON `MiXed`.Id = `q\"c`.`a]b` WHERE '\u{200d}it''s' IN (SELECT notes.ünï AS `Q\"C` FROM `q\"c` JOIN customers `é` ON `q\"c`.`a]b` = `é`.`id` WHERE NOT (NOT ((`é`.`Id` - `A]B`) = (id * -1))))) WHERE coalesce(notes.`Q\"UoTe`, \"é\") LIKE '*/\\x27\u{202e}' ORDER BY 1 DESC)",
        "MariaDB 10.11.19: signal 11 under st_select_lex_unit::prepare",
    ),
    // Found by a long run, shortened (still crashes): a CTE with a nested recursive WITH, read by a
    // derived table, in EXISTS and in a join (signal 11 under st_select_lex_unit::prepare).
    // The validator refuses a WITH inside a CTE on MySQL.
    (
        Dialect::Mysql,
        r#"WITH recent AS (WITH RECURSIVE `cte`(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM `cte` WHERE n < 3), Ünï AS (SELECT cte.`n` FROM cte WHERE 'x' LIKE 'y') SELECT cte.N FROM cte WHERE 'a' IN ('ssn', 'b') ORDER BY 1) SELECT count(DISTINCT coalesce(`status`, 'z')) AS `total` FROM `orders` WHERE CUSTOMER_ID IS NOT NULL GROUP BY `STATUS` HAVING count(*) > 0 UNION DISTINCT SELECT length(é.EmAiL) FROM (SELECT `T`.`email`, CAST((id + T.`Id`) AS CHAR) AS `B``C` FROM (SELECT DISTINCT `n`.Id, 'e' AS email FROM `recent` AS `c2` JOIN orders AS `n` ON c2.N = n.AMOUNT WHERE AmOuNt >= n ORDER BY 1 LIMIT 10) T WHERE EXISTS (SELECT `CUSTOMER_ID` FROM `recent` JOIN notes ON recent.`N` = notes.`id`)) AS é JOIN recent ON trim(é.`B``C`) LIKE 'w' WHERE EXISTS (SELECT `orders`.CuStOmEr_iD FROM cbi_diff.orders WHERE 0 IS NULL) ORDER BY 1"#,
        "MariaDB 10.11.19: signal 11 under st_select_lex_unit::prepare",
    ),
    // Found by a long run, minimized: DISTINCT, an aggregate of outer columns only, ORDER BY
    // (signal 11 in Create_tmp_table::finalize). The validator refuses such aggregates on MySQL.
    (
        Dialect::Mysql,
        "SELECT (SELECT DISTINCT count(notes.id) FROM customers ORDER BY 1) FROM notes",
        "MariaDB 10.11.19: signal 11 in Create_tmp_table::finalize",
    ),
    // Found by a long run, minimized: an IN subquery without FROM reading a derived table's
    // column (signal 11). The validator refuses subqueries that read an outer derived table or
    // CTE on MySQL.
    (
        Dialect::Mysql,
        "SELECT q.id FROM (SELECT id, status AS e FROM orders) AS q WHERE 'a' IN (SELECT e)",
        "MariaDB 10.11.19: signal 11",
    ),
    // Found by a long run, not minimized: PREPARE burns a core for as long as the server runs;
    // neither max_statement_time nor KILL QUERY stops it (killed after 5 minutes).
    (
        Dialect::Mysql,
        r#"WITH `secrets` (k0, K1) AS (WITH `recent` AS (SELECT `select`.ID, json_object('k', (SELECT `email` FROM `customers` `T` JOIN customers USING(`FULL_NAME`))), full_name FROM cbi_diff.customers `select` WHERE Id IN (1, 2, 3)), `cte` AS (SELECT `customer_id` FROM `orders` LEFT JOIN `notes` ON orders.ID = notes.CUSTOMER_ID, `recent` AS ssn WHERE NOT EXISTS (SELECT `orders`.`amount` FROM orders INNER JOIN notes AS d ON orders.`amount` = d.`customer_id`) UNION DISTINCT SELECT (SELECT length(coalesce(`é`.`full_name`, ':x\ ')) FROM recent AS `é` WHERE ID IS NULL) FROM `customers` AS `q"a` NATURAL JOIN `cbi_diff`.`orders`) SELECT `b``a`.`EMAIL`, email FROM `customers` `b``a` WHERE `b``a`.`ID` <> (1.5 - 2)), Ünï (`k0`) AS (WITH RECURSIVE `recent` (N) AS (SELECT 1 UNION ALL SELECT N + 1 FROM `recent` WHERE N < 3), `orders` AS (SELECT `secrets`.*, (SELECT count(*) FROM secrets) AS q FROM secrets JOIN customers ON (CASE WHEN coalesce(customers.id, 0) = CASE WHEN NOT (coalesce(id, 0) IN (1, 2, 3)) THEN Id ELSE 10 END THEN N'x ya''b名前' ELSE customers.`email` END LIKE 'ß` ' AND N':x' IN (X'5D5D3A78', '--x `'))) SELECT DISTINCT customers.EmAiL FROM customers WHERE '#@x\' OR 1=1 --' IN (X'2A2F2073736E202F2A2F2A21353030303020782A2FF09F9880', '\\?a\'b') LIMIT 5) SELECT DISTINCT CASE WHEN 1e1 IS NOT NULL THEN ''' UNION SELECT ssn FROM customers --secrets ' ELSE X'E280AEE280A8' END, abs(2) FROM (VALUES (1), (-1)) AS c2"#,
        "MariaDB 10.11.19: hangs in PREPARE at 100% CPU, unkillable",
    ),
];

/// How to make the databases available.
pub use testkit::db::SETUP_HINT;
