//! Rule-by-rule tests of [`Validator::validate`] over a small Chinook-like catalog.

use std::sync::Arc;

use super::*;
use crate::catalog::{Column, Table, TableKind};

fn table(schema: Option<&str>, name: &str, columns: &[&str]) -> Table {
    Table {
        schema: schema.map(str::to_string),
        name: name.to_string(),
        kind: TableKind::Table,
        columns: columns
            .iter()
            .map(|c| Column {
                name: c.to_string(),
                data_type: "INTEGER".into(),
                nullable: true,
                comment: None,
            })
            .collect(),
        primary_key: vec![],
        foreign_keys: vec![],
        comment: None,
    }
}

fn validator(dialect: Dialect) -> Validator {
    let schema = (dialect == Dialect::Postgres).then_some("public");
    let (customer, invoice, line, employee) = if dialect == Dialect::Postgres {
        (
            table(
                schema,
                "customer",
                &[
                    "customer_id",
                    "first_name",
                    "country",
                    "email",
                    "support_rep_id",
                ],
            ),
            table(
                schema,
                "invoice",
                &["invoice_id", "customer_id", "invoice_date", "total"],
            ),
            table(
                schema,
                "invoice_line",
                &["invoice_line_id", "invoice_id", "unit_price", "quantity"],
            ),
            table(
                schema,
                "employee",
                &["employee_id", "reports_to", "last_name"],
            ),
        )
    } else {
        (
            table(
                None,
                "Customer",
                &[
                    "CustomerId",
                    "FirstName",
                    "Country",
                    "Email",
                    "SupportRepId",
                ],
            ),
            table(
                None,
                "Invoice",
                &["InvoiceId", "CustomerId", "InvoiceDate", "Total"],
            ),
            table(
                None,
                "InvoiceLine",
                &["InvoiceLineId", "InvoiceId", "UnitPrice", "Quantity"],
            ),
            table(None, "Employee", &["EmployeeId", "ReportsTo", "LastName"]),
        )
    };
    let catalog = Catalog::new(dialect, "chinook", vec![customer, invoice, line, employee]);
    let denied = if dialect == Dialect::Postgres {
        "customer.email"
    } else {
        "Customer.Email"
    };
    Validator::new(
        Arc::new(catalog),
        ValidatorOptions {
            max_rows: 100,
            allowed_tables: vec![],
            denied_columns: vec![denied.to_string()],
        },
    )
}

const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

fn accept(d: Dialect, sql: &str) -> ValidatedSql {
    match validator(d).validate(sql) {
        Ok(v) => v,
        Err(e) => panic!("{d}: `{sql}` should be accepted: {e}"),
    }
}

fn reject(d: Dialect, sql: &str) -> (RejectRule, String) {
    match validator(d).validate(sql) {
        Ok(v) => panic!("{d}: `{sql}` should be refused, got `{}`", v.sql),
        Err(Error::SqlRejected {
            rule,
            reason,
            sql: submitted,
        }) => {
            assert_eq!(submitted, sql, "the rejection carries the submitted SQL");
            (rule, reason)
        }
        Err(e) => panic!("{d}: unexpected error {e}"),
    }
}

#[test]
fn comments_are_stripped_and_limit_added() {
    for d in ALL {
        let v = accept(d, "/* lead */ SELECT 1 -- trailing\n");
        assert_eq!(v.sql, "SELECT 1 LIMIT 100");
        assert_eq!(v.exec_sql, "SELECT 1 LIMIT 101");
        assert_eq!(v.limit_action, LimitAction::Added);
    }
    let v = accept(
        Dialect::Sqlite,
        "SELECT Total FROM Invoice ORDER BY Total DESC LIMIT 5",
    );
    assert_eq!(v.sql, v.exec_sql);
    assert_eq!(v.limit_action, LimitAction::Kept);
    assert_eq!(v.tables, vec!["Invoice".to_string()]);
}

#[test]
fn typical_analytic_queries_are_accepted() {
    let sqlite_mysql = [
        "SELECT c.Country, count(*) AS n, sum(i.Total) total FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId GROUP BY c.Country HAVING n > 2 ORDER BY total DESC",
        "SELECT FirstName FROM Customer WHERE CustomerId IN (SELECT CustomerId FROM Invoice WHERE Total > 10)",
        "SELECT FirstName FROM Customer c WHERE EXISTS (SELECT 1 FROM Invoice i WHERE i.CustomerId = c.CustomerId)",
        "WITH t(cid, s) AS (SELECT CustomerId, sum(Total) FROM Invoice GROUP BY 1) SELECT cid, s FROM t ORDER BY s",
        "SELECT x.cid FROM (SELECT CustomerId AS cid FROM Invoice) AS x",
        "SELECT d.* FROM (SELECT * FROM Invoice) d",
        "SELECT CustomerId FROM Invoice UNION SELECT CustomerId FROM Customer ORDER BY CustomerId",
        "SELECT InvoiceId, rank() OVER (PARTITION BY CustomerId ORDER BY Total DESC) AS r FROM Invoice",
        "SELECT sum(Total) AS s FROM Invoice i JOIN InvoiceLine l USING (InvoiceId)",
        "SELECT count(*) FROM Invoice NATURAL JOIN InvoiceLine",
        "SELECT CASE WHEN Total > 5 THEN 'big' ELSE 'small' END AS size, CAST(Total AS INTEGER) FROM Invoice",
        "SELECT i.* FROM Invoice i WHERE i.Total BETWEEN 1 AND 5 AND i.InvoiceDate LIKE '2021%'",
        "WITH RECURSIVE chain(id, boss) AS (SELECT EmployeeId, ReportsTo FROM Employee WHERE ReportsTo IS NULL \
         UNION ALL SELECT e.EmployeeId, e.ReportsTo FROM Employee e JOIN chain ON e.ReportsTo = chain.id) SELECT * FROM chain",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) SELECT x FROM c",
        "SELECT CustomerId, Total FROM Invoice a, Customer b WHERE a.CustomerId = b.CustomerId",
        "SELECT `Total` FROM `Invoice`",
        "SELECT main.Invoice.Total FROM Invoice",
        "VALUES (1, 2), (3, 4)",
    ];
    for d in [Dialect::Sqlite, Dialect::Mysql] {
        for sql in sqlite_mysql {
            if d == Dialect::Mysql && sql.contains("main.") {
                continue;
            }
            accept(d, sql);
        }
    }
    for sql in [
        "SELECT [Total] FROM [Invoice] WHERE \"Country\" = 'x'",
        "SELECT Country FROM Customer WHERE Country = \"Brazil\"",
        "SELECT strftime('%Y', InvoiceDate) AS y, count(*) FROM Invoice GROUP BY y",
        "SELECT count(*) FILTER (WHERE Total > 1) FROM Invoice",
        "SELECT InvoiceId, sum(Total) OVER w FROM Invoice WINDOW w AS (PARTITION BY CustomerId)",
        "SELECT rowid FROM Invoice",
        "SELECT value FROM json_each('[1,2]')",
        "SELECT CURRENT_TIMESTAMP",
    ] {
        accept(Dialect::Sqlite, sql);
    }
    for sql in [
        "SELECT DISTINCT ON (customer_id) customer_id, total FROM invoice ORDER BY customer_id, total DESC",
        "SELECT EXTRACT(YEAR FROM invoice_date) AS y, sum(total) FROM invoice GROUP BY 1",
        "SELECT invoice_date + INTERVAL '1 day' FROM invoice",
        "SELECT g FROM generate_series(1, 10) AS g",
        "SELECT total::numeric(10, 2) FROM public.invoice",
        "SELECT \"total\" FROM \"invoice\" FETCH FIRST 10 ROWS ONLY",
        "SELECT date_trunc('month', invoice_date) m, count(*) FILTER (WHERE total > 1) FROM invoice GROUP BY m",
        "SELECT 1 /* nested /* comment */ */",
        "SELECT T.total FROM invoice AS T",
        "WITH Sales AS (SELECT customer_id FROM invoice) SELECT SALES.customer_id FROM sales",
    ] {
        accept(Dialect::Postgres, sql);
    }
    for sql in [
        "SELECT Country FROM Customer WHERE Country = \"Brazil\"",
        "SELECT 1 FROM dual",
    ] {
        accept(Dialect::Mysql, sql);
    }
}

#[test]
fn writes_and_non_queries_are_refused() {
    for d in ALL {
        for sql in [
            "DELETE FROM Invoice",
            "UPDATE Invoice SET Total = 0",
            "DROP TABLE Invoice",
            "EXPLAIN SELECT 1",
        ] {
            assert_eq!(reject(d, sql).0, RejectRule::NotAQuery, "{d}: {sql}");
        }
        assert_eq!(
            reject(d, "SELECT 1; SELECT 2").0,
            RejectRule::MultipleStatements
        );
        assert_eq!(reject(d, "").0, RejectRule::Empty);
    }
    let (rule, _) = reject(
        Dialect::Postgres,
        "WITH d AS (DELETE FROM invoice RETURNING *) SELECT count(*) FROM d",
    );
    assert_eq!(rule, RejectRule::NotAQuery);
    assert_eq!(
        reject(Dialect::Postgres, "SELECT total INTO t2 FROM invoice").0,
        RejectRule::SelectInto
    );
    assert_eq!(
        reject(
            Dialect::Mysql,
            "SELECT Total FROM Invoice INTO OUTFILE '/tmp/x'"
        )
        .0,
        RejectRule::SelectInto
    );
    assert_eq!(
        reject(Dialect::Postgres, "SELECT total FROM invoice FOR UPDATE").0,
        RejectRule::LockingClause
    );
    assert_eq!(
        reject(Dialect::Mysql, "SELECT Total FROM Invoice FOR SHARE").0,
        RejectRule::LockingClause
    );
}

#[test]
fn executable_comments_hints_and_variables_are_refused() {
    assert_eq!(
        reject(Dialect::Mysql, "SELECT /*!50000 SLEEP(3), */ 1").0,
        RejectRule::VersionedComment
    );
    assert_eq!(
        reject(Dialect::Mysql, "SELECT /*+ MAX_EXECUTION_TIME(1) */ 1").0,
        RejectRule::OptimizerHint
    );
    assert_eq!(
        reject(Dialect::Mysql, "SELECT @a := 1").0,
        RejectRule::Variable
    );
    assert_eq!(
        reject(Dialect::Mysql, "SELECT @@datadir").0,
        RejectRule::Variable
    );
    assert_eq!(
        reject(Dialect::Mysql, "SELECT Total FROM Invoice WHERE Total > @x").0,
        RejectRule::Variable
    );
    assert_eq!(
        reject(
            Dialect::Postgres,
            "SELECT total FROM invoice WHERE total > $1"
        )
        .0,
        RejectRule::Variable
    );
    let (rule, _) = reject(Dialect::Sqlite, "SELECT 1\u{200b}; DELETE FROM Invoice");
    assert_eq!(rule, RejectRule::MultipleStatements);
}

#[test]
fn functions_outside_the_allow_list_are_refused() {
    let (rule, reason) = reject(Dialect::Postgres, "SELECT pg_sleep(1)");
    assert_eq!(rule, RejectRule::FunctionNotAllowed);
    assert_eq!(
        reason,
        "function `pg_sleep` is not allowed; use only aggregate, window, string, math, date/time, conditional and \
         cast functions"
    );
    assert_eq!(
        reject(Dialect::Postgres, "SELECT pg_catalog.lower('x')").0,
        RejectRule::FunctionNotAllowed
    );
    assert_eq!(
        reject(
            Dialect::Sqlite,
            "SELECT * FROM pragma_table_info('Invoice')"
        )
        .0,
        RejectRule::FunctionNotAllowed
    );
    assert_eq!(
        reject(
            Dialect::Mysql,
            "SELECT Total FROM Invoice WHERE SLEEP(1) = 0"
        )
        .0,
        RejectRule::FunctionNotAllowed
    );
    let sql =
        "SELECT (SELECT max(total) FROM invoice WHERE total > length(pg_read_file('/etc/passwd')))";
    assert_eq!(
        reject(Dialect::Postgres, sql).0,
        RejectRule::FunctionNotAllowed
    );
}

#[test]
fn oversized_values_are_refused() {
    assert_eq!(
        reject(Dialect::Postgres, "SELECT lpad('x', 100000, 'y')").0,
        RejectRule::OversizedValue
    );
    assert_eq!(
        reject(Dialect::Sqlite, "SELECT randomblob(20000)").0,
        RejectRule::OversizedValue
    );
    accept(Dialect::Postgres, "SELECT lpad('x', 10, '0')");
}

#[test]
fn unknown_tables_and_columns_get_suggestions() {
    let (rule, reason) = reject(Dialect::Sqlite, "SELECT custmer_id FROM Invoice");
    assert_eq!(rule, RejectRule::UnknownColumn);
    assert_eq!(
        reason,
        "no column `custmer_id` in `Invoice`; did you mean `CustomerId`?"
    );
    let (rule, reason) = reject(Dialect::Sqlite, "SELECT Total FROM Invoices");
    assert_eq!(rule, RejectRule::UnknownTable);
    assert!(reason.contains("did you mean `Invoice`?"), "{reason}");
    let (rule, reason) = reject(Dialect::Sqlite, "SELECT i.Totl FROM Invoice i");
    assert_eq!(
        (rule, reason.as_str()),
        (
            RejectRule::UnknownColumn,
            "no column `Totl` in `i`; did you mean `Total`?"
        )
    );
    let (rule, reason) = reject(Dialect::Sqlite, "SELECT x.Total FROM Invoice i");
    assert_eq!(rule, RejectRule::UnknownTable);
    assert!(reason.contains("no table or alias `x`"), "{reason}");
    assert_eq!(
        reject(Dialect::Postgres, "SELECT \"Total\" FROM invoice").0,
        RejectRule::UnknownColumn
    );
    assert_eq!(
        reject(Dialect::Postgres, "SELECT total FROM \"Invoice\"").0,
        RejectRule::UnknownTable
    );
    for (d, sql) in [
        (Dialect::Sqlite, "SELECT sql FROM sqlite_master"),
        (Dialect::Postgres, "SELECT relname FROM pg_catalog.pg_class"),
        (
            Dialect::Mysql,
            "SELECT table_name FROM information_schema.tables",
        ),
    ] {
        let (rule, reason) = reject(d, sql);
        assert_eq!(rule, RejectRule::UnknownTable, "{sql}");
        assert!(reason.contains("system catalog"), "{reason}");
    }
}

#[test]
fn set_operation_order_by_uses_the_first_branch_names() {
    accept(
        Dialect::Sqlite,
        "SELECT Total AS t FROM Invoice UNION SELECT UnitPrice FROM InvoiceLine ORDER BY t",
    );
    let sql = "SELECT Total FROM Invoice UNION SELECT UnitPrice FROM InvoiceLine ORDER BY Totl";
    let (rule, reason) = reject(Dialect::Sqlite, sql);
    assert_eq!(rule, RejectRule::UnknownColumn);
    assert!(reason.ends_with("did you mean `Total`?"), "{reason}");
}

#[test]
fn allowed_tables_limit_what_may_be_read() {
    let mut v = validator(Dialect::Sqlite);
    v.options.allowed_tables = vec!["Invoice".to_string()];
    assert!(v.validate("SELECT Total FROM invoice").is_ok());
    match v.validate("SELECT FirstName FROM Customer") {
        Err(Error::SqlRejected { rule, reason, .. }) => {
            assert_eq!(rule, RejectRule::TableNotAllowed);
            assert!(
                reason.contains("use only these tables: Invoice"),
                "{reason}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn restricted_columns_are_refused_even_through_wildcards() {
    for sql in [
        "SELECT Email FROM Customer",
        "SELECT c.email FROM Customer c",
        "SELECT * FROM Customer",
        "SELECT c.* FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId",
        "SELECT n FROM (SELECT Email AS n FROM Customer) t",
        "SELECT count(*) FROM Customer WHERE Email LIKE '%@x.org'",
    ] {
        let (rule, reason) = reject(Dialect::Sqlite, sql);
        assert_eq!(rule, RejectRule::DeniedColumn, "{sql}");
        assert!(reason.contains("restricted"), "{reason}");
    }
    let (rule, _) = reject(Dialect::Postgres, "SELECT json_agg(c.*) FROM customer c");
    assert_eq!(rule, RejectRule::DeniedColumn);
    accept(Dialect::Sqlite, "SELECT count(*) FROM Customer");
    accept(
        Dialect::Sqlite,
        "SELECT i.* FROM Invoice i JOIN Customer c ON i.CustomerId = c.CustomerId",
    );
}

#[test]
fn cartesian_products_of_three_relations_are_refused() {
    for d in ALL {
        let (rule, _) = reject(d, "SELECT count(*) FROM Invoice a, Invoice b, Invoice c");
        assert_eq!(rule, RejectRule::CartesianProduct);
        let (rule, _) = reject(
            d,
            "SELECT count(*) FROM Invoice a CROSS JOIN Invoice b CROSS JOIN Invoice c",
        );
        assert_eq!(rule, RejectRule::CartesianProduct);
    }
    let v = accept(
        Dialect::Sqlite,
        "SELECT a.InvoiceId, b.Total FROM Invoice a, Invoice b LIMIT 3000000",
    );
    assert_eq!(v.limit_action, LimitAction::Clamped);
    accept(
        Dialect::Sqlite,
        "SELECT count(*) FROM Invoice a, Invoice b, Invoice c WHERE a.InvoiceId = b.InvoiceId AND b.InvoiceId = c.InvoiceId",
    );
    accept(
        Dialect::Sqlite,
        "SELECT count(*) FROM Invoice a JOIN InvoiceLine b USING (InvoiceId) JOIN Customer c ON c.CustomerId = a.CustomerId",
    );
}

#[test]
fn recursion_needs_a_termination_condition() {
    let (rule, reason) = reject(
        Dialect::Sqlite,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c",
    );
    assert_eq!(rule, RejectRule::UnboundedRecursion);
    assert!(reason.contains("`c`"), "{reason}");
    // SQLite makes a self-referencing CTE recursive even without the keyword.
    let sql = "WITH c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c";
    assert_eq!(
        reject(Dialect::Sqlite, sql).0,
        RejectRule::UnboundedRecursion
    );
    accept(
        Dialect::Sqlite,
        "WITH c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 5) SELECT x FROM c",
    );
    accept(
        Dialect::Postgres,
        "WITH invoice AS (SELECT total FROM invoice WHERE total > 1) SELECT total FROM invoice",
    );
}

#[test]
fn row_limits_are_clamped_or_refused() {
    let v = accept(Dialect::Mysql, "SELECT Total FROM Invoice LIMIT 10, 5000");
    assert_eq!(v.sql, "SELECT Total FROM Invoice LIMIT 10, 100");
    assert_eq!(v.exec_sql, "SELECT Total FROM Invoice LIMIT 10, 101");
    assert_eq!(
        reject(
            Dialect::Sqlite,
            "SELECT Total FROM Invoice LIMIT (SELECT 5)"
        )
        .0,
        RejectRule::RowLimit
    );
}

#[test]
fn rejection_names_are_stable() {
    assert_eq!(RejectRule::DeniedColumn.to_string(), "denied_column");
    assert_eq!(
        serde_json::to_string(&RejectRule::CartesianProduct)
            .ok()
            .as_deref(),
        Some("\"cartesian_product\"")
    );
}

#[test]
fn postgres_and_mysql_constructs_are_accepted() {
    for sql in [
        "SELECT customer_id, sum(total) OVER (ORDER BY invoice_date ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM invoice",
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total) FROM invoice",
        "SELECT string_agg(first_name, ', ' ORDER BY first_name) FROM customer",
        "SELECT total FROM invoice WHERE invoice_date > now() - interval '30 days'",
        "SELECT coalesce(sum(total), 0), count(DISTINCT customer_id) FROM invoice",
        "SELECT total FROM invoice WHERE customer_id = ANY(ARRAY[1, 2])",
        "SELECT i.total FROM invoice i LEFT JOIN LATERAL (SELECT 1 AS one) x ON true",
        "SELECT to_char(invoice_date, 'YYYY-MM') AS m FROM invoice ORDER BY m DESC NULLS LAST",
        "SELECT round(avg(total)::numeric, 2), CURRENT_DATE - 7 FROM invoice",
        "SELECT total FROM invoice WHERE invoice_date::date BETWEEN DATE '2021-01-01' AND DATE '2021-12-31'",
        "SELECT * FROM (SELECT total, row_number() OVER () rn FROM invoice) s WHERE rn <= 3",
        "SELECT EXTRACT(EPOCH FROM invoice_date), first_name ILIKE 'a%' FROM invoice, customer WHERE invoice.customer_id = customer.customer_id",
        "SELECT greatest(1, 2), least(3, 4)",
        "SELECT total FROM invoice GROUP BY ROLLUP (total)",
        "SELECT customer_id FROM invoice INTERSECT SELECT customer_id FROM customer",
        "SELECT (SELECT count(*) FROM invoice) AS n",
        "SELECT c.first_name FROM customer c WHERE c.customer_id NOT IN (SELECT customer_id FROM invoice)",
        "SELECT x FROM unnest(ARRAY[1, 2]) AS x",
        "SELECT t.a, t.b FROM (VALUES (1, 'x'), (2, 'y')) AS t(a, b)",
        "SELECT i.customer_id FROM invoice i JOIN customer c USING (customer_id) WHERE c.country = 'Brazil'",
        "SELECT date_part('year', invoice_date) AS y FROM invoice GROUP BY y HAVING sum(total) > 10",
    ] {
        accept(Dialect::Postgres, sql);
    }
    for sql in [
        "SELECT DATE_FORMAT(InvoiceDate, '%Y-%m') AS m, SUM(Total) FROM Invoice GROUP BY m",
        "SELECT GROUP_CONCAT(FirstName ORDER BY FirstName SEPARATOR ', ') FROM Customer",
        "SELECT IF(Total > 5, 'a', 'b'), IFNULL(Total, 0) FROM Invoice",
        "SELECT DATE_SUB(NOW(), INTERVAL 30 DAY)",
        "SELECT Total FROM Invoice WHERE InvoiceDate >= CURDATE() - INTERVAL 1 YEAR",
        "SELECT Total FROM Invoice LIMIT 5 OFFSET 2",
        "SELECT CAST(Total AS DECIMAL(10, 2)), YEAR(InvoiceDate) FROM Invoice",
        "SELECT TIMESTAMPDIFF(DAY, InvoiceDate, NOW()) FROM Invoice",
        "SELECT EXTRACT(YEAR FROM InvoiceDate) AS y FROM Invoice",
        "SELECT c.Country, COUNT(*) FROM Customer AS c GROUP BY c.Country ORDER BY COUNT(*) DESC",
    ] {
        accept(Dialect::Mysql, sql);
    }
}

#[test]
fn trailing_semicolon_and_open_limits() {
    for d in ALL {
        assert_eq!(
            accept(d, "SELECT Total FROM Invoice;").sql.to_lowercase(),
            "select total from invoice limit 100"
        );
    }
    let v = accept(
        Dialect::Postgres,
        "SELECT total FROM invoice LIMIT ALL OFFSET 5",
    );
    assert_eq!(v.sql, "SELECT total FROM invoice LIMIT 100 OFFSET 5");
    assert_eq!(v.limit_action, LimitAction::Added);
    let sql =
        "SELECT count(*) FROM invoice a JOIN invoice b ON true JOIN invoice c ON a.total = a.total";
    assert_eq!(
        reject(Dialect::Postgres, sql).0,
        RejectRule::CartesianProduct
    );
    let sql = "SELECT total FROM invoice ORDER BY pg_sleep(1) IS NULL";
    assert_eq!(
        reject(Dialect::Postgres, sql).0,
        RejectRule::FunctionNotAllowed
    );
}

#[test]
fn columns_read_are_reported_per_catalog_table() {
    let v = accept(
        Dialect::Sqlite,
        "SELECT c.country, sum(i.total) AS revenue FROM Invoice i JOIN Customer c USING (CustomerId) \
         WHERE InvoiceDate > '2024' AND c.CustomerId IN (SELECT CustomerId FROM Invoice) \
         GROUP BY c.Country ORDER BY revenue DESC",
    );
    let pair = |t: &str, c: &str| (t.to_string(), c.to_string());
    assert_eq!(
        v.columns,
        vec![
            pair("Customer", "Country"),
            pair("Customer", "CustomerId"),
            pair("Invoice", "CustomerId"),
            pair("Invoice", "InvoiceDate"),
            pair("Invoice", "Total"),
        ],
        "names are spelled as in the catalog; the alias `revenue` is no column"
    );
    let v = accept(
        Dialect::Postgres,
        "WITH t AS (SELECT customer_id AS id FROM customer) SELECT id FROM t",
    );
    assert_eq!(
        v.columns,
        vec![pair("public.customer", "customer_id")],
        "a CTE's columns are not catalog columns; what it reads is"
    );
    let star = accept(Dialect::Sqlite, "SELECT * FROM Invoice");
    assert!(star.named_columns.is_empty());
    assert!(
        star.columns.contains(&pair("Invoice", "Total")),
        "`*` reads every column: {:?}",
        star.columns
    );
}

#[test]
fn series_bounded_by_a_column_are_refused() {
    let r = reject(
        Dialect::Postgres,
        "SELECT i.total, s.n FROM invoice i, LATERAL generate_series(1, i.customer_id) AS s(n)",
    );
    assert_eq!(r.0, RejectRule::OversizedValue);
    assert!(r.1.contains("literal bounds"), "{}", r.1);
}

#[test]
fn sqlite_double_quoted_names_that_no_relation_has_are_written_as_strings() {
    let v = accept(
        Dialect::Sqlite,
        r#"SELECT "Country", count(*) FROM Customer WHERE Country = "Brazil" GROUP BY "Country""#,
    );
    assert_eq!(
        v.sql,
        r#"SELECT "Country", count(*) FROM Customer WHERE Country = 'Brazil' GROUP BY "Country" LIMIT 100"#
    );
    assert!(
        v.named_columns
            .contains(&("Customer".into(), "Country".into()))
    );
    // `[...]` and backquoted names are never strings in SQLite: an unknown one is refused.
    for sql in [
        "SELECT [Brazil] FROM Customer",
        "SELECT `Brazil` FROM Customer",
    ] {
        assert_eq!(
            reject(Dialect::Sqlite, sql).0,
            RejectRule::UnknownColumn,
            "{sql}"
        );
    }
    // `json_each` and `json_tree` have known columns: one of them stays a name, anything
    // else is a string, as SQLite reads it.
    let v = accept(
        Dialect::Sqlite,
        r#"SELECT "key", "secrets" FROM json_each('{"a": 1}') AS j"#,
    );
    assert!(
        v.sql
            .starts_with(r#"SELECT "key", 'secrets' AS "secrets" FROM"#),
        "{}",
        v.sql
    );
    let v = accept(Dialect::Sqlite, r#"SELECT "Path" FROM json_tree('[1]')"#);
    assert!(v.sql.starts_with(r#"SELECT "Path" FROM"#), "{}", v.sql);
    assert_eq!(
        reject(Dialect::Sqlite, "SELECT nope FROM json_each('[1]')").0,
        RejectRule::UnknownColumn
    );
    // So do the rows of VALUES: `column1`, `column2`...
    let v = accept(
        Dialect::Sqlite,
        r#"SELECT "column2", "other" FROM (VALUES (1, 'a'))"#,
    );
    assert!(
        v.sql
            .starts_with(r#"SELECT "column2", 'other' AS "other" FROM"#),
        "{}",
        v.sql
    );
    // A name a relation of unnamed columns might have is refused: SQLite may read it as that
    // column or as a string.
    let (rule, reason) = reject(
        Dialect::Sqlite,
        r#"SELECT "Brazil" FROM (SELECT upper(Country) FROM Customer)"#,
    );
    assert_eq!(rule, RejectRule::UnknownColumn);
    assert!(reason.contains("single quotes"), "{reason}");
    // A whole select-list item keeps its name, which a derived table's columns are.
    let v = accept(
        Dialect::Sqlite,
        r#"SELECT d.Brazil, d."x y" FROM (SELECT "Brazil", "x y", upper("z") FROM Customer) AS d"#,
    );
    assert!(
        v.sql.starts_with(
            r#"SELECT d.Brazil, d."x y" FROM (SELECT 'Brazil' AS "Brazil", 'x y' AS "x y", upper('z') FROM"#
        ),
        "{}",
        v.sql
    );
}

#[test]
fn syntax_errors_say_where() {
    let (rule, reason) = reject(Dialect::Sqlite, "SELECT Name FROM Artist WHERE AND 1");
    assert_eq!(rule, RejectRule::ParseError);
    assert!(reason.contains("Line: 1, Column: 35"), "{reason}");
}

/// A validator over one table whose INTEGER primary key is restricted, and `other`.
fn keyed(dialect: Dialect) -> Validator {
    let mut t = table(None, "t", &["id", "name"]);
    t.primary_key = vec!["id".into()];
    let other = table(None, "other", &["id", "name", "note"]);
    Validator::new(
        Arc::new(Catalog::new(dialect, "db", vec![t, other])),
        ValidatorOptions {
            max_rows: 100,
            allowed_tables: vec![],
            denied_columns: vec!["t.id".into()],
        },
    )
}

#[test]
fn sqlite_rowid_is_the_integer_primary_key() {
    for sql in [
        "SELECT rowid FROM t",
        "SELECT t.oid FROM t",
        "SELECT name FROM t ORDER BY _rowid_",
    ] {
        match keyed(Dialect::Sqlite).validate(sql) {
            Err(Error::SqlRejected { rule, .. }) => {
                assert_eq!(rule, RejectRule::DeniedColumn, "{sql}")
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
    let v = keyed(Dialect::Sqlite)
        .validate("SELECT rowid FROM other")
        .expect("a table without an INTEGER key has a hidden rowid");
    assert!(v.columns.is_empty(), "{:?}", v.columns);
}

#[test]
fn sqlite_natural_joins_take_everything_before_them_in_from() {
    // SQLite reads `t, other NATURAL JOIN other AS o` as `(t, other) NATURAL JOIN other AS o`,
    // which compares t.id with o.id.
    match keyed(Dialect::Sqlite).validate("SELECT o.note FROM t, other NATURAL JOIN other AS o") {
        Err(Error::SqlRejected { rule, .. }) => assert_eq!(rule, RejectRule::DeniedColumn),
        other => panic!("{other:?}"),
    }
    // PostgreSQL reads it as `t, (other NATURAL JOIN other AS o)`.
    keyed(Dialect::Postgres)
        .validate("SELECT o.note FROM t, other NATURAL JOIN other AS o WHERE t.name = o.name")
        .expect("accepted");
}

#[test]
fn a_qualified_name_the_inner_relation_lacks_is_looked_up_further_out() {
    // SQLite binds `x.id` to the outer `t AS x` when the inner `other AS x` lacks the column;
    // here the inner one has `note`, the outer one is restricted.
    let sql = "SELECT (SELECT x.id FROM other AS x WHERE x.note = '') FROM t AS x";
    assert!(
        keyed(Dialect::Sqlite).validate(sql).is_ok(),
        "other.id exists"
    );
    let sql = "SELECT (SELECT x.\"id\" FROM (SELECT 1 AS k) AS x) FROM t AS x";
    match keyed(Dialect::Sqlite).validate(sql) {
        Err(Error::SqlRejected { rule, .. }) => assert_eq!(rule, RejectRule::DeniedColumn),
        other => panic!("{other:?}"),
    }
}

#[test]
fn postgres_alias_lists_rename_only_the_first_columns() {
    let v = keyed(Dialect::Postgres)
        .validate("SELECT r0, note FROM other AS o (r0)")
        .expect("note keeps its name");
    assert_eq!(
        v.columns,
        vec![
            ("other".to_string(), "id".to_string()),
            ("other".to_string(), "note".to_string())
        ]
    );
    let v = keyed(Dialect::Postgres)
        .validate("SELECT * FROM other AS o (a, b)")
        .expect("accepted");
    assert_eq!(
        v.columns.len(),
        3,
        "`*` reads every column: {:?}",
        v.columns
    );
}

#[test]
fn mysql_derived_tables_and_ctes_see_nothing_around_them() {
    for sql in [
        // MariaDB crashes on some of these and refuses the others.
        "SELECT (SELECT 1 FROM (SELECT o.name FROM t) AS d) FROM other AS o",
        "SELECT (WITH c AS (SELECT o.name FROM t) SELECT 1) FROM other AS o",
        "SELECT (SELECT 1 FROM (SELECT name FROM t WHERE t.name = note) AS d) FROM other",
    ] {
        match keyed(Dialect::Mysql).validate(sql) {
            Err(Error::SqlRejected { rule, .. }) => {
                assert_eq!(rule, RejectRule::Unsupported, "{sql}")
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
    // A WITH inside a subquery does not see the CTEs around it on MariaDB: `t` is the table.
    match keyed(Dialect::Mysql).validate(
        "WITH t(id, name) AS (SELECT 1, 'x') SELECT (WITH c AS (SELECT * FROM t) SELECT max(name) FROM c)",
    ) {
        Err(Error::SqlRejected { rule, .. }) => assert_eq!(rule, RejectRule::DeniedColumn),
        other => panic!("{other:?}"),
    }
    keyed(Dialect::Sqlite)
        .validate("WITH t(id, name) AS (SELECT 1, 'x') SELECT (WITH c AS (SELECT * FROM t) SELECT max(name) FROM c)")
        .expect("SQLite sees the CTE");
}

#[test]
fn sqlite_group_by_and_order_by_read_only_their_own_select() {
    // SQLite resolves GROUP BY and ORDER BY among the SELECT's own FROM items only; a name of
    // a query around it is refused, not taken for the outer column.
    for sql in [
        "SELECT (SELECT count(*) FROM Invoice GROUP BY Country) FROM Customer",
        "SELECT (SELECT Total FROM Invoice ORDER BY Country LIMIT 1) FROM Customer",
    ] {
        assert_eq!(
            reject(Dialect::Sqlite, sql).0,
            RejectRule::Unsupported,
            "{sql}"
        );
    }
    // HAVING may, and so may any clause on the other databases.
    accept(
        Dialect::Sqlite,
        "SELECT (SELECT count(*) FROM Invoice GROUP BY CustomerId HAVING Country > '') FROM Customer",
    );
    accept(
        Dialect::Mysql,
        "SELECT (SELECT count(*) FROM Invoice GROUP BY Country) FROM Customer",
    );
    // A select-list alias stands for its expression in HAVING on SQLite and MySQL, never on
    // PostgreSQL, where the name is a column.
    accept(
        Dialect::Sqlite,
        "SELECT CustomerId, count(*) AS n FROM Invoice GROUP BY CustomerId HAVING n > 1",
    );
    assert_eq!(
        reject(
            Dialect::Postgres,
            "SELECT customer_id, count(*) AS n FROM invoice GROUP BY customer_id HAVING n > 1"
        )
        .0,
        RejectRule::UnknownColumn
    );
}

#[test]
fn mysql_refuses_a_with_inside_a_cte() {
    for sql in [
        "WITH a AS (WITH b AS (SELECT 1 AS x) SELECT x FROM b) SELECT x FROM a",
        "WITH a AS (SELECT (WITH b AS (SELECT 1 AS x) SELECT x FROM b) AS x) SELECT x FROM a",
    ] {
        let (rule, reason) = reject(Dialect::Mysql, sql);
        assert_eq!(rule, RejectRule::Unsupported, "{sql}");
        assert!(reason.contains("outer WITH"), "{reason}");
        accept(Dialect::Sqlite, sql);
    }
    accept(
        Dialect::Mysql,
        "WITH b AS (SELECT 1 AS x), a AS (SELECT x FROM b) SELECT x FROM a",
    );
}

#[test]
fn mysql_refuses_aggregates_of_outer_columns() {
    for sql in [
        "SELECT (SELECT DISTINCT sum(c.CustomerId) FROM Invoice ORDER BY 1) FROM Customer c",
        "SELECT (SELECT count(c.Country) FROM Invoice LIMIT 1) FROM Customer c",
        "SELECT (SELECT sum(Total + c.CustomerId) FROM Invoice) FROM Customer c",
        "SELECT (SELECT min((SELECT c.Country FROM Employee LIMIT 1)) FROM Invoice) FROM Customer c",
    ] {
        let (rule, reason) = reject(Dialect::Mysql, sql);
        assert_eq!(rule, RejectRule::Unsupported, "{sql}");
        assert!(reason.contains("outer query"), "{reason}");
        accept(Dialect::Sqlite, sql);
    }
    for sql in [
        "SELECT (SELECT sum(Total) FROM Invoice i WHERE i.CustomerId = c.CustomerId) FROM Customer c",
        "SELECT (SELECT count(*) FROM Invoice) FROM Customer c",
        "SELECT sum(CustomerId) FROM Customer",
    ] {
        accept(Dialect::Mysql, sql);
    }
}

#[test]
fn sqlite_double_quoted_strings_in_a_cte_are_refused() {
    let (rule, reason) = reject(
        Dialect::Sqlite,
        r#"WITH c AS (SELECT "Brazil" AS x FROM Invoice) SELECT x FROM c"#,
    );
    assert_eq!(rule, RejectRule::UnknownColumn);
    assert!(reason.contains("single quotes"), "{reason}");
    accept(
        Dialect::Sqlite,
        r#"WITH c AS (SELECT "Total" AS x FROM Invoice) SELECT x FROM c"#,
    );
}

#[test]
fn mysql_refuses_subqueries_reading_an_outer_derived_table() {
    for sql in [
        "SELECT q.CustomerId FROM (SELECT CustomerId, Country AS e FROM Customer) AS q WHERE 'a' IN (SELECT e)",
        "SELECT q.CustomerId FROM (SELECT CustomerId, Country AS e FROM Customer) AS q \
         WHERE EXISTS (SELECT 1 FROM Invoice i WHERE i.CustomerId = q.CustomerId)",
        "WITH q AS (SELECT CustomerId FROM Customer) SELECT (SELECT count(*) FROM Invoice i WHERE i.CustomerId = q.CustomerId) FROM q",
    ] {
        let (rule, reason) = reject(Dialect::Mysql, sql);
        assert_eq!(rule, RejectRule::Unsupported, "{sql}");
        assert!(reason.contains("`q`"), "{reason}");
        accept(
            Dialect::Postgres,
            &sql.replace("CustomerId", "customer_id")
                .replace("Customer ", "customer ")
                .replace("Country", "country")
                .replace("Invoice", "invoice"),
        );
    }
    // Correlation with a table, and a derived table read by its own query, are fine.
    for sql in [
        "SELECT c.CustomerId FROM Customer c WHERE EXISTS (SELECT 1 FROM Invoice i WHERE i.CustomerId = c.CustomerId)",
        "SELECT q.e FROM (SELECT Country AS e FROM Customer) AS q WHERE q.e > 'a'",
        "SELECT q.e FROM (SELECT Country AS e FROM Customer) AS q ORDER BY q.e",
        "SELECT Country FROM Customer UNION SELECT FirstName FROM Customer ORDER BY 1",
    ] {
        accept(Dialect::Mysql, sql);
    }
}

#[test]
fn mysql_dash_dash_before_a_unicode_space_is_no_comment() {
    for sql in ["SELECT 'a' --\u{2028}, 1", "SELECT 1 --\u{a0}x"] {
        let (rule, reason) = reject(Dialect::Mysql, sql);
        assert_eq!(rule, RejectRule::ParseError, "{sql}");
        assert!(reason.contains("ASCII space"), "{reason}");
    }
    accept(Dialect::Mysql, "SELECT 1 -- fine\n");
    accept(Dialect::Postgres, "SELECT 1 --\u{2028}x");
}

#[test]
fn the_one_parse_path_agrees_with_the_general_path() {
    let statements: &[(Dialect, &str)] = &[
        (
            Dialect::Sqlite,
            "SELECT Country, count(*) FROM Customer GROUP BY Country",
        ),
        (
            Dialect::Sqlite,
            "SELECT FirstName FROM Customer ORDER BY 1 LIMIT 5",
        ),
        (
            Dialect::Sqlite,
            "SELECT FirstName FROM Customer LIMIT 5000;",
        ),
        (
            Dialect::Sqlite,
            r#"SELECT "Country", 'it''s' FROM Customer WHERE [FirstName] = 'a\'"#,
        ),
        (Dialect::Sqlite, r#"SELECT "Brazil" FROM Customer"#),
        (
            Dialect::Sqlite,
            "SELECT FirstName FROM Customer LIMIT 5 OFFSET 2",
        ),
        (Dialect::Sqlite, "SELECT FirstName FROM Customer LIMIT -1"),
        (
            Dialect::Sqlite,
            "SELECT (SELECT max(Total) FROM Invoice LIMIT 1) FROM Customer",
        ),
        (Dialect::Sqlite, "SELECT 1 -- a comment\n"),
        (Dialect::Sqlite, "SELECT Email FROM Customer"),
        (
            Dialect::Postgres,
            "SELECT country, count(*) FROM customer GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
        ),
        (
            Dialect::Postgres,
            "SELECT E'a\\'' || $$b$$ AS x, first_name FROM customer",
        ),
        (
            Dialect::Postgres,
            "SELECT first_name FROM customer FETCH FIRST 5 ROWS ONLY",
        ),
        (
            Dialect::Postgres,
            "SELECT first_name FROM customer UNION SELECT last_name FROM employee LIMIT 500",
        ),
        (
            Dialect::Mysql,
            "SELECT 'a\\'' , \"b\" FROM Customer LIMIT 2, 5",
        ),
        (Dialect::Mysql, "SELECT Country FROM Customer LIMIT 10"),
        (
            Dialect::Mysql,
            "SELECT /*+ MAX_EXECUTION_TIME(1) */ Country FROM Customer",
        ),
    ];
    for (d, sql) in statements {
        let v = validator(*d);
        let one = v
            .check_paths(sql, &v.options, true)
            .map(|(v, _)| v)
            .map_err(|r| r.rule);
        let general = v
            .check_paths(sql, &v.options, false)
            .map(|(v, _)| v)
            .map_err(|r| r.rule);
        assert_eq!(one, general, "{d}: {sql}");
    }
}

#[test]
fn sqlite_ctes_leave_no_name_to_unnamed_columns() {
    let (rule, reason) = reject(
        Dialect::Sqlite,
        "WITH c AS (SELECT CustomerId FROM (SELECT upper(FirstName) FROM Customer)) SELECT * FROM c",
    );
    assert_eq!(rule, RejectRule::UnknownColumn);
    assert!(reason.contains("Name those columns with AS"), "{reason}");
    accept(
        Dialect::Sqlite,
        "WITH c AS (SELECT n FROM (SELECT upper(FirstName) AS n FROM Customer)) SELECT * FROM c",
    );
    // Outside a CTE the walk sees every query around the name.
    accept(
        Dialect::Sqlite,
        "SELECT CustomerId FROM (SELECT upper(FirstName) FROM Customer)",
    );
}
