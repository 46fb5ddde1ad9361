//! H1 and H2: a restricted column may not be read anywhere, whatever the name resolves to, and
//! only the connected database may be read.

use conversational_bi::{Error, sql::RejectRule};

use super::{Db, assert_nothing_leaked, run};

async fn refused(db: Db, sql: &str) -> RejectRule {
    let source = db.source().await;
    match source.validate(sql) {
        Err(Error::SqlRejected { rule, .. }) => rule,
        Err(e) => panic!("{db:?}: {sql}: {e}"),
        Ok(v) => panic!("{db:?}: {sql} was accepted as {}", v.exec_sql),
    }
}

/// Statements that read the restricted column through a gap of name resolution: a relation of
/// unknown columns in an inner scope, an ambiguous name, `USING`, `NATURAL`, a whole-row
/// reference, `*`, a qualified or composite name, in every clause.
fn restricted_reads(db: Db) -> Vec<&'static str> {
    match db {
        Db::Sqlite => vec![
            "SELECT (SELECT Email FROM json_each('[1]')) AS e FROM Customer",
            "SELECT (SELECT Email FROM (SELECT 1+1)) AS e FROM Customer",
            "SELECT Email FROM Customer a JOIN Customer b USING (CustomerId, Email)",
            "SELECT Phone FROM Customer NATURAL JOIN Customer AS c2",
            "SELECT c.Phone FROM Customer c NATURAL JOIN (SELECT 'x' || 'y') AS t",
            "SELECT (SELECT Email FROM json_tree('[1]') LIMIT 1) AS e FROM Customer",
            "SELECT FirstName FROM Customer WHERE EXISTS (SELECT 1 FROM (SELECT 2) WHERE Email LIKE 'a%')",
            "SELECT FirstName FROM Customer ORDER BY (SELECT Email FROM json_each('[1]'))",
            "SELECT Country, count(*) FROM Customer GROUP BY (SELECT Email FROM (SELECT 1 + 1))",
            "WITH x AS (SELECT 1 + 1) SELECT (SELECT Email FROM x) FROM Customer",
            "SELECT * FROM Customer",
            "SELECT c.* FROM Customer c",
            "SELECT count(c.*) FROM Customer c",
            "SELECT main.Customer.Email FROM Customer",
            "SELECT \"Email\" FROM Customer",
            "SELECT [Email] FROM Customer",
            "SELECT FirstName FROM Customer a JOIN Customer b USING (Email)",
            // A derived table does not see the FROM items beside it: `Email` is the outer one.
            "SELECT (SELECT d.x FROM (SELECT 'a' AS Email) s JOIN (SELECT Email AS x) d ON s.Email = d.x) FROM Customer",
            // A select-list alias is no column of the select list: `Email` is the outer one.
            "SELECT (SELECT Email AS Email FROM Artist LIMIT 1) FROM Customer",
            "SELECT (SELECT upper(Email) AS Email FROM Artist LIMIT 1) FROM Customer",
            // SQLite resolves an ON clause among every FROM item, those after it too.
            "SELECT (SELECT 1 FROM Artist JOIN Album ON Email > '' JOIN Customer ON Customer.CustomerId = Album.AlbumId LIMIT 1) FROM (SELECT 'x' AS Email) o",
            // SQLite has no whole-row references: a relation called `Email` is no column.
            "SELECT (SELECT Email FROM Artist AS Email LIMIT 1) FROM Customer",
            // SQLite skips a byte order mark as a space: `\u{feff} Email` is no alias.
            "SELECT (SELECT \u{feff} Email FROM (SELECT 1+1)) AS e FROM Customer",
            // A CTE reads the CTEs written after it in the same WITH: `Employee` is the CTE, and
            // `Email` the outer `Customer.Email`.
            "SELECT (WITH x AS (SELECT Email FROM Employee), Employee AS (SELECT 1 AS k) SELECT max(Email) FROM x) FROM Customer",
            // Two FROM items called `Customer`: `Customer.*` is the columns of both.
            "WITH c AS (SELECT 1 AS k) SELECT Customer.* FROM c AS Customer JOIN Customer ON Customer.CustomerId = 1",
        ],
        Db::Postgres => vec![
            "SELECT (SELECT ssn FROM generate_series(1, 1)) AS s FROM customers",
            "SELECT to_json(x) AS row FROM customers AS x, generate_series(1, 1) AS g",
            "SELECT to_json(customers) FROM customers",
            "SELECT (x).ssn FROM customers x",
            "SELECT to_jsonb(x.*) FROM customers x",
            "SELECT (SELECT ssn FROM unnest(ARRAY[1]) LIMIT 1) FROM customers",
            "SELECT (SELECT ssn FROM (SELECT 1 + 1) t) FROM customers",
            "SELECT public.customers.ssn FROM customers",
            "SELECT cbi_audit.public.customers.ssn FROM customers",
            "SELECT name FROM customers c NATURAL JOIN (SELECT 'x' || 'y') t",
            "SELECT name FROM customers a JOIN customers b USING (id, ssn)",
            "SELECT name FROM customers WHERE id IN (SELECT 1 FROM generate_series(1, 1) WHERE ssn > '')",
            "SELECT * FROM customers",
            "SELECT SSN FROM customers",
            "SELECT (SELECT d.x FROM (SELECT 'a' AS ssn) s JOIN (SELECT ssn AS x) d ON s.ssn = d.x) FROM customers",
            "SELECT (SELECT ssn AS ssn FROM orders LIMIT 1) FROM customers",
            "SELECT (SELECT o.id AS ssn FROM orders o WHERE ssn > '' LIMIT 1) FROM customers",
            // PostgreSQL reads a HAVING name as a column: `ssn` is the outer one.
            "SELECT (SELECT count(*) AS ssn FROM orders HAVING ssn > '') FROM customers",
            // `schema.table.column` never names an alias called `table`.
            "SELECT (SELECT count(*) FROM orders AS customers WHERE public.customers.ssn > '') FROM customers",
            // A column of any query level comes before a whole-row reference.
            "SELECT (SELECT (ssn)::text FROM unnest(ARRAY[1]) AS ssn (g) LIMIT 1) FROM customers",
            "SELECT (SELECT to_json(ssn) FROM orders AS ssn LIMIT 1) FROM customers",
        ],
        Db::Mysql => vec![
            "SELECT (SELECT ssn FROM (SELECT 1+1) t) AS e FROM customers",
            "SELECT (SELECT SSN FROM (SELECT 1+1) t) AS e FROM customers",
            "SELECT name FROM customers a JOIN customers b USING (id, ssn)",
            "SELECT name FROM customers NATURAL JOIN customers AS c2",
            "SELECT cbi_audit.customers.ssn FROM customers",
            "SELECT `ssn` FROM customers",
            "SELECT * FROM customers",
            "SELECT name FROM customers HAVING (SELECT ssn FROM (SELECT 1) t LIMIT 1) IS NOT NULL",
            "SELECT (SELECT ssn AS ssn FROM orders LIMIT 1) FROM customers",
            "SELECT (SELECT o.id AS ssn FROM orders o WHERE ssn > '' LIMIT 1) FROM customers",
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restricted_columns_are_refused_through_every_resolution_path() {
    for db in Db::available() {
        for sql in restricted_reads(db) {
            let rule = refused(db, sql).await;
            // A name of four parts is refused whatever it names, and so is a CTE that reads
            // one written after it; a byte order mark fails to tokenize.
            let expected = if sql.contains("cbi_audit.public.customers.")
                || sql.contains("Employee AS (SELECT 1 AS k)")
            {
                RejectRule::Unsupported
            } else if sql.contains('\u{feff}') {
                RejectRule::ParseError
            } else {
                RejectRule::DeniedColumn
            };
            assert_eq!(rule, expected, "{db:?}: {sql}");
        }
    }
}

/// Statements on the same tables that read nothing restricted still run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_around_the_restricted_column_still_run() {
    let cases: &[(Db, &[&str])] = &[
        (
            Db::Sqlite,
            &[
                "SELECT FirstName, (SELECT count(*) FROM json_each('[1,2]')) AS n FROM Customer",
                "SELECT a.FirstName FROM Customer a JOIN Customer b USING (CustomerId)",
                "SELECT (SELECT value FROM json_each('[7]')) AS v FROM Customer LIMIT 1",
                "SELECT Name FROM Artist NATURAL JOIN Album",
                "SELECT Name FROM main.Artist",
            ],
        ),
        (
            Db::Postgres,
            &[
                "SELECT name, (SELECT max(g) FROM generate_series(1, 3) AS g) FROM customers",
                "SELECT to_json(o) FROM orders o LIMIT 2",
                "SELECT c.name, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id",
                "SELECT amount FROM public.orders",
                "SELECT amount FROM cbi_audit.public.orders",
            ],
        ),
        (
            Db::Mysql,
            &[
                "SELECT (SELECT name FROM (SELECT 1+1) t LIMIT 1) AS n FROM customers LIMIT 1",
                "SELECT a.name FROM customers a JOIN customers b USING (id)",
                "SELECT amount FROM cbi_audit.orders",
            ],
        ),
    ];
    for (db, statements) in cases {
        if !db.require() {
            continue;
        }
        let source = db.source().await;
        for sql in *statements {
            let (_, result) = run(&source, sql)
                .await
                .unwrap_or_else(|e| panic!("{db:?}: {sql}: {e}"));
            assert_nothing_leaked(*db, sql, &result);
        }
    }
}

/// H2: only the connected database is read (MariaDB), `main` on SQLite, the current database on
/// PostgreSQL; system catalogs are never tables of the source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_databases_and_system_catalogs_are_refused() {
    let cases: &[(Db, &str)] = &[
        (
            Db::Mysql,
            "SELECT customer, amount FROM cbi_audit_other.orders",
        ),
        (Db::Mysql, "SELECT * FROM information_schema.orders"),
        (Db::Mysql, "SELECT id FROM CBI_AUDIT.orders"),
        (
            Db::Mysql,
            "SELECT o.amount FROM cbi_audit_other.orders o JOIN orders p ON p.id = o.id",
        ),
        (
            Db::Mysql,
            "SELECT cbi_audit_other.orders.amount FROM orders",
        ),
        (Db::Sqlite, "SELECT Name FROM temp.Artist"),
        (Db::Sqlite, "SELECT Name FROM other.Artist"),
        (Db::Postgres, "SELECT amount FROM other_db.public.orders"),
        (Db::Postgres, "SELECT datname FROM pg_database"),
        (Db::Postgres, "SELECT relname FROM pg_catalog.pg_class"),
    ];
    for (db, sql) in cases {
        if !db.require() {
            continue;
        }
        let rule = refused(*db, sql).await;
        assert!(
            matches!(rule, RejectRule::TableNotAllowed | RejectRule::UnknownTable),
            "{db:?}: {sql} refused by {rule}"
        );
    }
    // The same account can read the other database directly: the refusal is the validator's.
    if !Db::Mysql.require() {
        return;
    }
    let source = Db::Mysql.source().await;
    let direct = source
        .executor()
        .execute("SELECT customer FROM cbi_audit_other.orders")
        .await
        .expect("the account can read it");
    assert_eq!(direct.rows.len(), 1);
}

/// SQLite resolves the names of a CTE's body again wherever the CTE is used: `x.Email` below
/// reads `Customer.Email` through the inner `x`, though the `x` where the CTE is written has no
/// such column. A CTE body may not read the queries around it on SQLite.
#[tokio::test]
async fn sqlite_cte_bodies_read_no_outer_columns() {
    for sql in [
        "SELECT (WITH c AS (SELECT x.Email AS v) SELECT (SELECT v FROM Customer AS x JOIN c LIMIT 1)) FROM Artist AS x",
        "SELECT (WITH c AS (SELECT x.Name AS v) SELECT (SELECT v FROM Artist AS x JOIN c LIMIT 1)) FROM Artist AS x",
    ] {
        assert_eq!(
            refused(Db::Sqlite, sql).await,
            RejectRule::Unsupported,
            "{sql}"
        );
    }
    // A CTE that reads only its own tables is fine.
    let source = Db::Sqlite.source().await;
    source
        .validate(
            "SELECT (WITH c AS (SELECT Name AS v FROM Artist) SELECT count(*) FROM c) FROM Album",
        )
        .expect("accepted");
}

/// SQLite lets a subquery use a select-list alias of the query around it and reads the alias's
/// expression again in the subquery's place, where its names may bind to other relations: a
/// CTE's name there reached the table the CTE shadows. Such a reference is refused.
#[tokio::test]
async fn sqlite_subqueries_use_no_outer_select_list_alias() {
    let sql = "WITH Customer AS (SELECT AlbumId AS CustomerId FROM Album) SELECT c.CustomerId AS e FROM Customer c \
               WHERE EXISTS (SELECT 1 FROM (SELECT e AS x, -1 FROM Artist ORDER BY 2) INTERSECT SELECT 1)";
    assert_eq!(
        refused(Db::Sqlite, sql).await,
        RejectRule::Unsupported,
        "{sql}"
    );
    let source = Db::Sqlite.source().await;
    source
        .validate(
            "SELECT Country AS c, count(*) AS n FROM Customer GROUP BY c HAVING n > 1 ORDER BY n",
        )
        .expect("an alias in its own query is fine");
}
