//! The differential test of the SQL validator against the databases themselves (issue 14,
//! item 4).
//!
//! Generated statements ([`generate`], [`grammar`], [`expressions`], [`lexical`], [`proofs`])
//! go through the validator; for each accepted one, the
//! database reports what it reads on `ValidatedSql::exec_sql` (the text the engine sends) and on
//! the original input ([`oracle_sqlite`], [`oracle_postgres`], [`oracle_mysql`]), and
//! [`compare`] checks that every read is among those the validator reported (security) and
//! that the input and `exec_sql` read the same (fidelity). The fixture is in [`fixture`].
//!
//! The short run here checks two fixed seeds per dialect and prints the report, so that a
//! run on the same tree always checks the same statements. `CBI_DIFF_SEED` (decimal, 0x-hex,
//! or `time` for one derived from the clock) replaces the second seed: point the MariaDB URLs
//! (`CBI_DIFF_MYSQL_URL`, `CBI_DIFF_MYSQL_PROBE_URL`) at a server that may go down before
//! using it there, since MariaDB 10.11 crashes or hangs on a few statements the generator
//! produces. `examples/differential.rs` runs the same loop for millions of statements.
//!
//! Any security or fidelity finding fails the test; until the validator rewrite of issue 14
//! lands, `CBI_DIFF_REPORT_ONLY=1` prints the report without failing.

mod compare;
mod expressions;
mod fixture;
mod generate;
mod grammar;
mod lexical;
mod oracle_mysql;
mod oracle_postgres;
mod oracle_sqlite;
mod proofs;
mod run;

use conversational_bi::Dialect;

use self::{
    compare::{Observation, Reads},
    generate::Generator,
    run::{Oracle, Report},
};

/// The seed every short run checks.
const FIXED_SEED: u64 = 0x14D1_FF5E_ED00_0001;

/// Statements per seed in the short run.
fn short_count(dialect: Dialect) -> u64 {
    match dialect {
        Dialect::Sqlite => 2500,
        Dialect::Postgres | Dialect::Mysql => 1200,
    }
}

/// The second seed when `CBI_DIFF_SEED` is not set. MariaDB 10.11 crashes on some statements
/// the generator can produce (`fixture::KNOWN_CRASHES`, and more that long runs against a
/// private server find): the shared server only sees seeds that have run against it without
/// harm.
const SECOND_SEED: u64 = 0x14D1_FF5E_ED00_0002;

/// The fixed seed and a second one: `CBI_DIFF_SEED` (decimal, 0x-hex, or `time`), else
/// [`SECOND_SEED`].
fn seeds() -> [u64; 2] {
    let second = match std::env::var("CBI_DIFF_SEED").ok().as_deref() {
        Some("time") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        Some(s) => match s.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => s.parse(),
        }
        .unwrap_or_else(|e| panic!("CBI_DIFF_SEED={s}: {e}")),
        None => SECOND_SEED,
    };
    [FIXED_SEED, second]
}

fn report_only() -> bool {
    std::env::var("CBI_DIFF_REPORT_ONLY").is_ok_and(|v| v == "1")
}

async fn open(dialect: Dialect) -> Oracle {
    Oracle::open(dialect)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn short_run(dialect: Dialect) {
    if !testkit::require_database(dialect) {
        return;
    }
    let mut oracle = open(dialect).await;
    let validator = run::validator(dialect, &oracle)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let generator = Generator::new(dialect);
    let mut report = Report::default();
    for seed in seeds() {
        let r = run::run(
            &generator,
            &validator,
            &mut oracle,
            seed,
            0..short_count(dialect),
            false,
        )
        .await;
        report.merge(r);
    }
    println!("{report}");
    if report_only() {
        return;
    }
    assert!(
        report.security() == 0 && report.fidelity() == 0,
        "the databases read what the validator did not report (rerun one statement with \
         `cargo run -p conversational-bi --example differential -- --dialect {} --seed <seed> --index <index>`; \
         CBI_DIFF_REPORT_ONLY=1 prints without failing):\n{report}",
        dialect.as_str()
    );
}

#[tokio::test]
async fn sqlite_reads_only_what_the_validator_reports() {
    short_run(Dialect::Sqlite).await;
}

#[tokio::test]
async fn postgres_reads_only_what_the_validator_reports() {
    short_run(Dialect::Postgres).await;
}

#[tokio::test]
async fn mariadb_reads_only_what_the_validator_reports() {
    short_run(Dialect::Mysql).await;
}

#[test]
fn statements_are_reproducible_from_seed_and_index() {
    for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
        let g = Generator::new(dialect);
        for index in [0, 7, 100, 12_345] {
            let a = g.statement(FIXED_SEED, index);
            let b = g.statement(FIXED_SEED, index);
            assert_eq!(a.sql, b.sql);
        }
        let distinct: std::collections::HashSet<String> =
            (0..500).map(|i| g.statement(FIXED_SEED, i).sql).collect();
        assert!(
            distinct.len() > 450,
            "{dialect}: {} distinct",
            distinct.len()
        );
    }
}

fn compiled(o: Observation) -> (Reads, bool, Option<String>) {
    match o {
        Observation::Compiled {
            reads,
            several,
            grants_refused,
            partial,
        } => {
            assert!(!partial, "the oracle read the statement completely");
            (reads, several, grants_refused)
        }
        Observation::Refused(e) | Observation::Lost(e) => panic!("the database refused: {e}"),
    }
}

fn columns(r: &Reads, table: &str) -> Vec<String> {
    r.columns
        .iter()
        .filter(|(t, _)| t == table)
        .map(|(_, c)| c.clone())
        .collect()
}

/// The oracles see what their module documentation says they see.
#[tokio::test]
async fn sqlite_oracle_sees_reads() {
    let mut o = open(Dialect::Sqlite).await;
    let (r, several, _) = compiled(o.observe("SELECT count(*) FROM secrets").await);
    assert_eq!(r.tables.iter().collect::<Vec<_>>(), ["main.secrets"]);
    assert!(r.columns.is_empty() && !several);
    let (r, ..) = compiled(
        o.observe("WITH secrets AS (SELECT 1 AS a) SELECT count(*) FROM secrets")
            .await,
    );
    assert!(r.tables.is_empty(), "a CTE is no table: {r:?}");
    // The authorizer does not report NATURAL / USING join columns; the program's `Column`
    // reads do (`id`, the rowid, is compared through `SeekRowid`, which is not counted).
    let (r, ..) = compiled(
        o.observe("SELECT full_name FROM customers NATURAL JOIN customers AS c2")
            .await,
    );
    assert_eq!(columns(&r, "main.customers"), ["email", "full_name", "ssn"]);
    let (r, ..) = compiled(
        o.observe("SELECT (SELECT ssn FROM json_each('[1]')) AS e FROM customers")
            .await,
    );
    assert_eq!(columns(&r, "main.customers"), ["ssn"]);
    assert_eq!(r.tables.len(), 1, "json_each is no table: {r:?}");
    let (r, ..) = compiled(o.observe("SELECT \"pr\"\"ivate\" FROM notes").await);
    assert_eq!(columns(&r, "main.notes"), ["pr\"ivate"]);
    let (r, ..) = compiled(o.observe("SELECT lower(email) FROM customers").await);
    assert!(r.functions.contains("lower"));
    let (_, several, _) = compiled(o.observe("SELECT 1; SELECT 2").await);
    assert!(several);
    let (_, several, _) = compiled(o.observe("SELECT 1; -- done").await);
    assert!(!several);
    let (r, ..) = compiled(o.observe("SELECT name FROM sqlite_master").await);
    assert!(r.tables.contains("main.sqlite_master"), "{r:?}");
    let (r, ..) = compiled(
        o.observe("SELECT max(file) FROM pragma_database_list")
            .await,
    );
    assert!(r.tables.contains("main.pragma_database_list"), "{r:?}");
    // SQLite 3.51 names this derived table as a read of `main.名前`; it is no table.
    let (r, ..) = compiled(
        o.observe(
            "SELECT 名前.total AS \"\u{200b}\" FROM (SELECT amount AS ToTaL FROM orders ORDER BY 1 DESC) AS `名前` \
             WHERE NOT EXISTS (SELECT \"\u{200b}\" FROM customers AS \"q\"\"a\")",
        )
        .await,
    );
    assert_eq!(
        r.tables.iter().collect::<Vec<_>>(),
        ["main.customers", "main.orders"]
    );
    assert!(matches!(
        o.observe("SELECT nope FROM customers").await,
        Observation::Refused(_)
    ));
}

#[tokio::test]
async fn postgres_oracle_sees_reads() {
    if !testkit::require_database(Dialect::Postgres) {
        return;
    }
    let mut o = open(Dialect::Postgres).await;
    let (r, _, grants) = compiled(o.observe("SELECT count(*) FROM secrets").await);
    assert_eq!(r.tables.iter().collect::<Vec<_>>(), ["public.secrets"]);
    assert!(r.columns.is_empty(), "{r:?}");
    assert!(grants.is_some());
    let (r, _, grants) = compiled(
        o.observe(
            "SELECT c.id FROM customers c WHERE c.id IN (SELECT customer_id FROM orders WHERE amount > 1) ORDER BY c.full_name",
        )
        .await,
    );
    assert_eq!(columns(&r, "public.customers"), ["full_name", "id"]);
    assert_eq!(columns(&r, "public.orders"), ["amount", "customer_id"]);
    assert!(grants.is_none());
    let (r, _, grants) = compiled(
        o.observe("SELECT to_json(x) AS row FROM customers AS x, generate_series(1, 1) AS g")
            .await,
    );
    assert_eq!(
        columns(&r, "public.customers"),
        ["email", "full_name", "id", "ssn"]
    );
    assert!(grants.is_some());
    let (r, _, grants) = compiled(
        o.observe("SELECT full_name FROM customers NATURAL JOIN customers AS c2")
            .await,
    );
    assert!(columns(&r, "public.customers").contains(&"ssn".to_string()));
    assert!(grants.is_some());
    let (r, _, grants) = compiled(o.observe("SELECT email FROM customers").await);
    assert_eq!(columns(&r, "public.customers"), ["email"]);
    assert!(grants.is_none());
    let (r, ..) = compiled(o.observe("SELECT count(*) FROM customers").await);
    assert!(r.columns.is_empty(), "{r:?}");
    let (r, _, grants) = compiled(o.observe("SELECT id FROM archive.orders").await);
    assert!(r.tables.contains("archive.orders"));
    assert!(grants.is_some());
    let (r, ..) = compiled(o.observe("SELECT datname FROM pg_database").await);
    assert!(r.tables.contains("pg_catalog.pg_database"), "{r:?}");
    let (r, ..) = compiled(o.observe("SELECT \"q\"\"uote\" FROM notes n").await);
    assert_eq!(columns(&r, "public.notes"), ["q\"uote"]);
    // A table alias with a column list renames the columns in the plan.
    let (r, ..) = compiled(o.observe("SELECT count(*) FROM orders AS b (r0)").await);
    assert!(r.columns.is_empty(), "{r:?}");
    // A CTE's plan outputs exactly its target list, whatever node sits above it.
    for limit in ["", " LIMIT 5"] {
        let (r, ..) = compiled(
            o.observe(&format!(
                "WITH c AS MATERIALIZED (SELECT * FROM orders) SELECT (SELECT id FROM c LIMIT 1), count(*) FROM notes GROUP BY 1{limit}"
            ))
            .await,
        );
        assert_eq!(
            columns(&r, "public.orders"),
            ["amount", "customer_id", "id", "status"],
            "{limit}"
        );
    }
    let (r, ..) = compiled(o.observe("SELECT version(), pg_sleep(0)").await);
    assert!(
        r.functions.contains("version") && r.functions.contains("pg_sleep"),
        "{r:?}"
    );
    let (r, ..) = compiled(
        o.observe(
            "SELECT trim(full_name), coalesce(email, 'x'), substring(email from 1 for 2), \
             length(email), count(*) FROM customers WHERE id IN (1, 2) AND email LIKE 'a%' GROUP BY 1, 2, 3, 4",
        )
        .await,
    );
    let off: Vec<&String> = r
        .functions
        .iter()
        .filter(|f| !conversational_bi::sql::is_function_allowed(Dialect::Postgres, f))
        .collect();
    assert!(off.is_empty(), "{off:?} in {r:?}");
}

#[tokio::test]
async fn mariadb_oracle_sees_reads() {
    if !testkit::require_database(Dialect::Mysql) {
        return;
    }
    let mut o = open(Dialect::Mysql).await;
    let (r, _, grants) = compiled(o.observe("SELECT count(*) FROM secrets").await);
    assert_eq!(r.tables.iter().collect::<Vec<_>>(), ["cbi_diff.secrets"]);
    assert!(grants.is_some());
    let (r, _, grants) = compiled(
        o.observe("SELECT full_name FROM customers NATURAL JOIN customers AS c2")
            .await,
    );
    assert!(
        columns(&r, "cbi_diff.customers").contains(&"ssn".to_string()),
        "{r:?}"
    );
    assert!(grants.is_some());
    let (r, _, grants) = compiled(
        o.observe("SELECT s.x FROM (SELECT ssn AS x, id FROM customers LIMIT 5) s")
            .await,
    );
    assert!(columns(&r, "cbi_diff.customers").contains(&"ssn".to_string()));
    assert!(grants.is_some());
    let (r, _, grants) = compiled(
        o.observe("SELECT customer_id FROM cbi_diff_other.orders")
            .await,
    );
    assert!(r.tables.contains("cbi_diff_other.orders"), "{r:?}");
    assert!(grants.is_some());
    let (r, ..) = compiled(
        o.observe("SELECT count(*) FROM information_schema.tables")
            .await,
    );
    assert!(r.tables.contains("information_schema.tables"), "{r:?}");
    let (r, _, grants) = compiled(
        o.observe("SELECT email, `q\"uote` FROM customers, notes WHERE customers.id = notes.id")
            .await,
    );
    assert_eq!(columns(&r, "cbi_diff.customers"), ["email", "id"]);
    assert_eq!(columns(&r, "cbi_diff.notes"), ["id", "q\"uote"]);
    assert!(grants.is_none());
    let (r, ..) = compiled(
        o.observe("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r")
            .await,
    );
    assert!(
        r.functions.is_empty(),
        "a CTE definition calls nothing: {r:?}"
    );
    // A literal with an introducer is printed raw in the note (`_utf8mb4'a'/*'`).
    let (r, ..) = compiled(
        o.observe("SELECT _utf8mb4'a''/*' AS x, 'b''/*' AS y, id FROM notes AS customers")
            .await,
    );
    assert_eq!(r.tables.iter().collect::<Vec<_>>(), ["cbi_diff.notes"]);
    assert_eq!(columns(&r, "cbi_diff.notes"), ["id"]);
    assert!(matches!(
        o.observe("SELECT _utf8mb4'a'' AS b, (' AS x FROM notes AS customers")
            .await,
        Observation::Compiled { partial: true, .. }
    ));
    let (r, ..) = compiled(o.observe("SELECT USER(), @@version, SLEEP(0)").await);
    for f in ["user", "@@version", "sleep"] {
        assert!(r.functions.contains(f), "{f} in {r:?}");
    }
    let (r, ..) = compiled(
        o.observe(
            "SELECT length(full_name), substring(email, 1, 2), concat(full_name, email), \
             coalesce(email, 'x'), CAST(id AS CHAR), count(*) FROM customers \
             WHERE id IN (1, 2) AND email LIKE 'a%' AND id IN (SELECT customer_id FROM orders) GROUP BY 1, 2, 3, 4, 5",
        )
        .await,
    );
    let off: Vec<&String> = r
        .functions
        .iter()
        .filter(|f| !conversational_bi::sql::is_function_allowed(Dialect::Mysql, f))
        .collect();
    assert!(off.is_empty(), "{off:?} in {r:?}");
}
