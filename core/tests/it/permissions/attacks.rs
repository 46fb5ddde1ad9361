//! The adversarial statements, run as every user of [`super::users`] on each database.
//!
//! Each statement is written once with Chinook's PascalCase names (translated for PostgreSQL
//! by [`super::names`]), or per database where the databases differ (schema-qualified and
//! quoted names, functions). For each user, an answer is checked twice: no cell may hold a
//! secret ([`Expect::leaks`], a leak), and the answer must equal the statement's answer on the
//! user's copy of Chinook ([`Materialized`]; a difference is a wrong answer, which shows what
//! was read past the policy). A refusal or a database error is neither, but both are counted
//! and printed, so that a run shows that most statements did run. A statement naming
//! `Employee.BirthDate` must be refused (`denied_column`) for a user every role of whom denies
//! it.

use std::fmt::Write as _;

use conversational_bi::{
    DataSource,
    eval::{has_top_level_order_by, rows_match},
};
use testkit::db::Backend;

use super::{
    Env, Outcome, Tally, User, View, names, preview,
    truth::{Expect, Materialized, Raw, masked_cells},
    users,
};

/// One adversarial statement.
#[derive(Debug, Clone)]
pub struct Attack {
    pub name: &'static str,
    /// With PascalCase names, for every database unless overridden.
    sql: Option<&'static str>,
    sqlite: Option<&'static str>,
    postgres: Option<&'static str>,
    mysql: Option<&'static str>,
    /// Names `Employee.BirthDate`, itself or through `*`.
    pub names_denied: bool,
    /// Fails at the database only if it evaluates an expression on a row the user may not
    /// see: an error where the user's copy answers is a leak (an error oracle).
    pub error_probe: bool,
}

fn all(name: &'static str, sql: &'static str) -> Attack {
    Attack {
        name,
        sql: Some(sql),
        sqlite: None,
        postgres: None,
        mysql: None,
        names_denied: false,
        error_probe: false,
    }
}

/// A statement written per database (as is: no translation); `None` leaves a database out.
fn each(
    name: &'static str,
    sqlite: Option<&'static str>,
    postgres: Option<&'static str>,
    mysql: Option<&'static str>,
) -> Attack {
    Attack {
        name,
        sql: None,
        sqlite,
        postgres,
        mysql,
        names_denied: false,
        error_probe: false,
    }
}

impl Attack {
    fn denied(mut self) -> Self {
        self.names_denied = true;
        self
    }

    fn error_probe(mut self) -> Self {
        self.error_probe = true;
        self
    }

    /// The statement on `backend`, if it has one there.
    pub fn sql(&self, backend: Backend) -> Option<String> {
        let own = match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
            Backend::Mysql => self.mysql,
        };
        match (own, self.sql) {
            (Some(s), _) => Some(s.to_string()),
            (None, Some(s)) => Some(names(backend, s)),
            (None, None) => None,
        }
    }
}

/// The adversarial statements.
pub fn attacks() -> Vec<Attack> {
    vec![
        // --- Row filters: names, aliases, joins.
        all("plain", "SELECT CustomerId, FirstName, LastName, Country FROM Customer ORDER BY CustomerId"),
        all("alias", "SELECT c.CustomerId, c.Email, c.Phone, c.Fax FROM Customer AS c ORDER BY c.CustomerId"),
        all("alias_named_like_another_table", "SELECT Invoice.CustomerId, Invoice.Email FROM Customer AS Invoice ORDER BY 1"),
        all("qualified_by_table_name", "SELECT Customer.Email, Customer.Phone FROM Customer WHERE Customer.CustomerId = 1"),
        all("self_join_other_reps", "SELECT a.CustomerId, b.CustomerId AS other, b.Email FROM Customer a JOIN Customer b ON b.SupportRepId <> a.SupportRepId ORDER BY 1, 2"),
        all("self_cross_join_count", "SELECT count(*) FROM Customer a CROSS JOIN Customer b"),
        all("comma_join", "SELECT c.CustomerId, i.InvoiceId FROM Customer c, Invoice i WHERE i.CustomerId = c.CustomerId ORDER BY 2"),
        all("or_true", "SELECT CustomerId FROM Customer WHERE SupportRepId = 4 OR 1 = 1 ORDER BY 1"),
        all("id_list", "SELECT CustomerId, Email FROM Customer WHERE CustomerId IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10) ORDER BY 1"),
        // --- Subqueries.
        all("derived_star", "SELECT x.CustomerId, x.Email FROM (SELECT * FROM Customer) AS x ORDER BY 1"),
        all("nested_derived", "SELECT count(*), max(b.Email) FROM (SELECT * FROM (SELECT CustomerId, Email FROM Customer) a) b"),
        all("derived_named_like_table", "SELECT Customer.CustomerId FROM (SELECT CustomerId FROM Invoice) AS Customer GROUP BY Customer.CustomerId ORDER BY 1"),
        all("in_subquery", "SELECT EmployeeId, LastName FROM Employee WHERE EmployeeId IN (SELECT SupportRepId FROM Customer) ORDER BY 1"),
        all("not_in_subquery", "SELECT count(*) FROM Invoice WHERE CustomerId NOT IN (SELECT CustomerId FROM Customer)"),
        all("row_value_in", "SELECT count(*) FROM Customer WHERE (CustomerId, SupportRepId) IN (SELECT CustomerId, 4 FROM Invoice)"),
        all("correlated_count", "SELECT e.EmployeeId, (SELECT count(*) FROM Customer c WHERE c.SupportRepId = e.EmployeeId) AS n FROM Employee e ORDER BY 1"),
        all("correlated_by_table_name", "SELECT e.EmployeeId, (SELECT count(*) FROM Customer WHERE Customer.SupportRepId = e.EmployeeId) AS n FROM Employee e ORDER BY 1"),
        all("correlated_from_unfiltered", "SELECT il.InvoiceLineId, (SELECT i.CustomerId FROM Invoice i WHERE i.InvoiceId = il.InvoiceId) AS customer FROM InvoiceLine il ORDER BY il.InvoiceLineId"),
        all("scalar_subqueries", "SELECT (SELECT count(*) FROM Customer) AS customers, (SELECT count(*) FROM Invoice) AS invoices, (SELECT sum(Total) FROM Invoice) AS revenue FROM Employee WHERE EmployeeId = 1"),
        all("scalar_hidden_row", "SELECT (SELECT Email FROM Customer WHERE CustomerId = 2) AS email, (SELECT Phone FROM Customer WHERE CustomerId = 1) AS phone FROM Employee WHERE EmployeeId = 1"),
        // --- CTEs.
        all("cte_shadows_itself", "WITH Customer AS (SELECT * FROM Customer) SELECT CustomerId, Email FROM Customer ORDER BY 1"),
        all("cte_shadows_with_fake_rows", "WITH Customer AS (SELECT 1 AS CustomerId, 'x@y.z' AS Email) SELECT c.CustomerId, c.Email, i.InvoiceId FROM Customer c LEFT JOIN Invoice i ON i.CustomerId = c.CustomerId ORDER BY 3"),
        all("cte_named_like_another_table", "WITH Invoice AS (SELECT CustomerId AS InvoiceId, Email AS Total FROM Customer) SELECT InvoiceId, Total FROM Invoice ORDER BY 1"),
        all("cte_reads_real_table", "WITH c AS (SELECT CustomerId, Email, Phone, Fax FROM Customer) SELECT * FROM c ORDER BY CustomerId"),
        all("cte_column_list", "WITH x(id, mail) AS (SELECT CustomerId, Email FROM Customer) SELECT id, mail FROM x ORDER BY id"),
        all("recursive_cte_walks_ids", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 60) SELECT r.n, c.Email FROM r LEFT JOIN Customer c ON c.CustomerId = r.n ORDER BY r.n"),
        // --- Names that the scoping rules of each database resolve: a CTE, an alias or a
        // derived table named like the table must not keep the real table out of the policy,
        // nor pull a CTE into it.
        all("cte_forward_reference", "WITH x AS (SELECT CustomerId, Email FROM Customer), Customer AS (SELECT 1 AS CustomerId, 'fake' AS Email) SELECT * FROM x ORDER BY 1"),
        all("cte_forward_reference_recursive", "WITH RECURSIVE x AS (SELECT CustomerId, Email FROM Customer), Customer AS (SELECT 1 AS CustomerId, 'fake' AS Email) SELECT * FROM x ORDER BY 1"),
        all("cte_inside_subquery_only", "SELECT (WITH Customer AS (SELECT 1 AS CustomerId) SELECT count(*) FROM Customer) AS inner_count, (SELECT count(*) FROM Customer) AS outer_count FROM Employee WHERE EmployeeId = 1"),
        all("cte_seen_from_subquery", "WITH Customer AS (SELECT 1 AS CustomerId) SELECT (SELECT count(*) FROM Customer) AS n FROM Employee WHERE EmployeeId = 1"),
        all("cte_chain_renamed", "WITH a AS (SELECT * FROM Customer), Customer AS (SELECT * FROM a) SELECT count(*), max(Email) FROM Customer"),
        each(
            "cte_name_in_another_case",
            Some("WITH customer AS (SELECT 1 AS CustomerId, 'fake' AS Email) SELECT CustomerId, Email FROM Customer ORDER BY 1"),
            Some("WITH \"Customer\" AS (SELECT 1 AS customer_id, 'fake' AS email) SELECT customer_id, email FROM customer ORDER BY 1"),
            Some("WITH customer AS (SELECT 1 AS CustomerId, 'fake' AS Email) SELECT CustomerId, Email FROM Customer ORDER BY 1"),
        ),
        each(
            "cte_name_upper_case",
            Some("WITH CUSTOMER AS (SELECT 1 AS CustomerId, 'fake' AS Email) SELECT CustomerId, Email FROM Customer ORDER BY 1"),
            Some("WITH \"CUSTOMER\" AS (SELECT 1 AS customer_id, 'fake' AS email) SELECT customer_id, email FROM CUSTOMER ORDER BY 1"),
            Some("WITH CUSTOMER AS (SELECT 1 AS CustomerId, 'fake' AS Email) SELECT CustomerId, Email FROM Customer ORDER BY 1"),
        ),
        all("alias_named_like_table_then_table", "SELECT c2.CustomerId, c2.Email FROM Employee AS Customer JOIN Customer c2 ON c2.SupportRepId = Customer.EmployeeId ORDER BY 1"),
        all("derived_named_like_table_then_table", "SELECT c2.CustomerId, c2.Email FROM (SELECT 4 AS EmployeeId) AS Customer JOIN Customer c2 ON c2.SupportRepId = Customer.EmployeeId ORDER BY 1"),
        each(
            "quoted_names",
            Some("SELECT \"Customer\".\"Email\", \"Customer\".\"CustomerId\" FROM \"Customer\" ORDER BY 2"),
            Some("SELECT \"customer\".\"email\", \"customer\".\"customer_id\" FROM \"customer\" ORDER BY 2"),
            Some("SELECT `Customer`.`Email`, `Customer`.`CustomerId` FROM `Customer` ORDER BY 2"),
        ),
        // --- Nested joins and subqueries in every clause.
        all("parenthesized_join", "SELECT count(*), max(c.Email) FROM (Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId)"),
        all("nested_join_on_the_right", "SELECT il.InvoiceLineId, c.Email FROM InvoiceLine il JOIN (Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId) ON i.InvoiceId = il.InvoiceId ORDER BY 1"),
        all("subquery_in_join_condition", "SELECT e.EmployeeId, g.Name FROM Employee e JOIN Genre g ON g.GenreId = 1 AND e.EmployeeId IN (SELECT SupportRepId FROM Customer) ORDER BY 1"),
        all("subquery_in_order_by", "SELECT e.EmployeeId FROM Employee e ORDER BY (SELECT count(*) FROM Customer c WHERE c.SupportRepId = e.EmployeeId) DESC, e.EmployeeId"),
        all("subquery_in_having", "SELECT SupportRepId, count(*) FROM Customer GROUP BY SupportRepId HAVING count(*) >= (SELECT count(*) FROM Invoice) / 100 ORDER BY 1"),
        all("subquery_in_window", "SELECT InvoiceId, count(*) OVER (PARTITION BY CustomerId IN (SELECT CustomerId FROM Customer)) AS n FROM Invoice ORDER BY InvoiceId"),
        all("subquery_in_function_arguments", "SELECT coalesce((SELECT max(Email) FROM Customer), 'none') AS e, abs((SELECT count(*) FROM Invoice)) AS n FROM Employee WHERE EmployeeId = 1"),
        all("union_inside_in", "SELECT count(*) FROM Employee WHERE EmployeeId IN (SELECT SupportRepId FROM Customer UNION SELECT 1)"),
        all("window_ordered_by_masked", "SELECT CustomerId, rank() OVER (ORDER BY Email) AS r FROM Customer ORDER BY CustomerId"),
        all("having_on_masked", "SELECT SupportRepId FROM Customer GROUP BY SupportRepId HAVING max(Email) LIKE '%@%' OR min(Phone) IS NOT NULL ORDER BY 1"),
        each(
            "aggregate_filter",
            Some("SELECT count(*) FILTER (WHERE SupportRepId = 4), count(*) FILTER (WHERE Email LIKE '%@%') FROM Customer"),
            Some("SELECT count(*) FILTER (WHERE support_rep_id = 4), count(*) FILTER (WHERE email LIKE '%@%') FROM customer"),
            None,
        ),
        each(
            "json_aggregate",
            Some("SELECT json_group_array(Email) FROM (SELECT Email FROM Customer ORDER BY Email) AS e"),
            Some("SELECT json_agg(email ORDER BY email)::text FROM customer"),
            Some("SELECT JSON_ARRAYAGG(Email ORDER BY Email) FROM Customer"),
        ),
        each(
            "values_join",
            Some("SELECT v.column1, c.Email FROM (VALUES (1), (2), (3)) AS v LEFT JOIN Customer c ON c.CustomerId = v.column1 ORDER BY 1"),
            Some("SELECT v.n, c.email FROM (VALUES (1), (2), (3)) AS v(n) LEFT JOIN customer c ON c.customer_id = v.n ORDER BY 1"),
            None,
        ),
        each(
            "any_subquery",
            None,
            Some("SELECT count(*) FROM employee WHERE employee_id = ANY (SELECT support_rep_id FROM customer)"),
            Some("SELECT count(*) FROM Employee WHERE EmployeeId = ANY (SELECT SupportRepId FROM Customer)"),
        ),
        each(
            "rollup",
            None,
            Some("SELECT support_rep_id, count(*) FROM customer GROUP BY ROLLUP (support_rep_id) ORDER BY 1 NULLS LAST"),
            Some("SELECT SupportRepId, count(*) FROM Customer GROUP BY SupportRepId WITH ROLLUP"),
        ),
        // --- Table modifiers and whole rows, per database.
        each(
            "index_hints",
            Some("SELECT count(*), max(Email) FROM Customer INDEXED BY IFK_CustomerSupportRepId WHERE SupportRepId > 0"),
            Some("SELECT count(*), max(email) FROM ONLY customer"),
            Some("SELECT count(*), max(Email) FROM Customer FORCE INDEX (PRIMARY)"),
        ),
        each(
            "not_indexed_or_tablesample",
            Some("SELECT count(*), max(Email) FROM Customer NOT INDEXED"),
            Some("SELECT count(*) FROM customer TABLESAMPLE SYSTEM (100)"),
            Some("SELECT count(*), max(Email) FROM Customer IGNORE INDEX (FK_Customer_0)"),
        ),
        each(
            "column_alias_list",
            None,
            Some("SELECT x.m, x.p, x.fx FROM customer AS x(i, f, l, co, ad, ci, st, cn, pc, p, fx, m) ORDER BY x.i"),
            None,
        ),
        each(
            "whole_row",
            Some("SELECT rowid, CustomerId FROM Customer ORDER BY 2"),
            Some("SELECT c::text FROM customer c ORDER BY c.customer_id"),
            None,
        ),
        each(
            "whole_row_json",
            None,
            Some("SELECT to_jsonb(c)::text FROM customer c ORDER BY c.customer_id"),
            None,
        ),
        each(
            "distinct_on",
            None,
            Some("SELECT DISTINCT ON (support_rep_id) support_rep_id, email FROM customer ORDER BY support_rep_id, email"),
            None,
        ),
        each("table_statement", None, Some("TABLE customer"), None),
        each(
            "table_valued_schema_function",
            Some("SELECT name FROM pragma_table_info('Employee')"),
            None,
            None,
        ),
        // --- Error oracles: an expression that fails on one row (invoice 1 is customer 2's,
        // rep 5's, from Germany; customer 1 is rep 3's, from Brazil). Evaluated on a row the
        // user may not see (a predicate pushed below the filter), it would tell that the row
        // exists and what it holds, one bit per statement.
        each(
            "error_oracle_invoice",
            Some("SELECT count(*) FROM Invoice WHERE (CASE WHEN InvoiceId = 1 AND Total > 1 THEN abs(-9223372036854775807 - 1) ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM invoice WHERE 1 / (CASE WHEN invoice_id = 1 AND total > 1 THEN 0 ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM Invoice WHERE (CASE WHEN InvoiceId = 1 AND Total > 1 THEN (SELECT g.GenreId FROM Genre g WHERE g.GenreId < Invoice.InvoiceId + 2) ELSE 1 END) = 1"),
        )
        .error_probe(),
        each(
            "error_oracle_customer_2",
            Some("SELECT count(*) FROM Customer WHERE (CASE WHEN CustomerId = 2 AND FirstName LIKE 'L%' THEN abs(-9223372036854775807 - 1) ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM customer WHERE 1 / (CASE WHEN customer_id = 2 AND first_name LIKE 'L%' THEN 0 ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM Customer WHERE 'a' REGEXP (CASE WHEN CustomerId = 2 AND FirstName LIKE 'L%' THEN '(' ELSE 'a' END)"),
        )
        .error_probe(),
        each(
            "error_oracle_customer_1",
            Some("SELECT count(*) FROM Customer WHERE (CASE WHEN CustomerId = 1 THEN abs(-9223372036854775807 - 1) ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM customer WHERE 1 / (CASE WHEN customer_id = 1 THEN 0 ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM Customer WHERE (CASE WHEN CustomerId = 1 THEN (SELECT g.GenreId FROM Genre g WHERE g.GenreId < Customer.CustomerId + 2) ELSE 1 END) = 1"),
        )
        .error_probe(),
        each(
            "error_oracle_through_join",
            Some("SELECT count(*) FROM InvoiceLine il JOIN Invoice i ON i.InvoiceId = il.InvoiceId WHERE (CASE WHEN i.InvoiceId = 1 THEN abs(-9223372036854775807 - 1) ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM invoice_line il JOIN invoice i ON i.invoice_id = il.invoice_id WHERE 1 / (CASE WHEN i.invoice_id = 1 THEN 0 ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM InvoiceLine il JOIN Invoice i ON i.InvoiceId = il.InvoiceId WHERE 'a' REGEXP (CASE WHEN i.InvoiceId = 1 THEN '(' ELSE 'a' END)"),
        )
        .error_probe(),
        each(
            "error_oracle_in_join_condition",
            Some("SELECT count(*) FROM Employee e JOIN Customer c ON c.SupportRepId = e.EmployeeId AND (CASE WHEN c.CustomerId = 2 THEN abs(-9223372036854775807 - 1) ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM employee e JOIN customer c ON c.support_rep_id = e.employee_id AND 1 / (CASE WHEN c.customer_id = 2 THEN 0 ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM Employee e JOIN Customer c ON c.SupportRepId = e.EmployeeId AND 'a' REGEXP (CASE WHEN c.CustomerId = 2 THEN '(' ELSE 'a' END)"),
        )
        .error_probe(),
        each(
            "error_oracle_invoice_by_key",
            Some("SELECT count(*) FROM Invoice WHERE InvoiceId = 1 AND (CASE WHEN Total > 1 THEN abs(-9223372036854775807 - 1) ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM invoice WHERE invoice_id = 1 AND 1 / (CASE WHEN total > 1 THEN 0 ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM Invoice WHERE InvoiceId = 1 AND (CASE WHEN Total > 1 THEN (SELECT g.GenreId FROM Genre g WHERE g.GenreId < Invoice.InvoiceId + 2) ELSE 1 END) = 1"),
        )
        .error_probe(),
        each(
            "error_oracle_customer_by_key",
            Some("SELECT count(*) FROM Customer WHERE CustomerId = 2 AND (CASE WHEN FirstName LIKE 'L%' THEN abs(-9223372036854775807 - 1) ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM customer WHERE customer_id = 2 AND 1 / (CASE WHEN first_name LIKE 'L%' THEN 0 ELSE 1 END) = 1"),
            Some("SELECT count(*) FROM Customer WHERE CustomerId = 2 AND (CASE WHEN FirstName LIKE 'L%' THEN (SELECT g.GenreId FROM Genre g WHERE g.GenreId < Customer.CustomerId + 2) ELSE 1 END) = 1"),
        )
        .error_probe(),
        each(
            "error_oracle_on_table_functions",
            None,
            Some("SELECT count(*) FROM customer WHERE CAST(CASE WHEN customer_id = 2 THEN 'x' ELSE '1' END AS integer) = 1"),
            None,
        )
        .error_probe(),
        // --- Set operations.
        all("union_emails", "SELECT CustomerId AS id, Email FROM Customer UNION SELECT EmployeeId + 1000, Email FROM Employee ORDER BY 1"),
        all("union_all_count", "SELECT count(*) FROM (SELECT CustomerId FROM Customer UNION ALL SELECT CustomerId FROM Invoice) AS u"),
        all("union_all_by_rep", "SELECT SupportRepId, count(*) FROM (SELECT SupportRepId FROM Customer UNION ALL SELECT SupportRepId FROM Customer) t GROUP BY SupportRepId ORDER BY 1"),
        all("intersect", "SELECT CustomerId FROM Invoice INTERSECT SELECT CustomerId FROM Customer ORDER BY 1"),
        all("except", "SELECT CustomerId FROM Invoice EXCEPT SELECT CustomerId FROM Customer ORDER BY 1"),
        // --- Probes.
        all("exists_probe", "SELECT count(*) AS hit FROM Employee WHERE EmployeeId = 1 AND EXISTS (SELECT 1 FROM Customer WHERE SupportRepId = 4)"),
        all("not_exists_probe", "SELECT e.EmployeeId FROM Employee e WHERE NOT EXISTS (SELECT 1 FROM Customer c WHERE c.SupportRepId = e.EmployeeId) ORDER BY 1"),
        all("email_equals_real", "SELECT count(*) FROM Customer WHERE Email = 'luisg@embraer.com.br'"),
        all("lower_email_or_phone", "SELECT count(*) FROM Customer WHERE lower(Email) = 'luisg@embraer.com.br' OR Phone = '+55 (12) 3923-5555'"),
        all("case_probe", "SELECT sum(CASE WHEN SupportRepId = 4 THEN 1 ELSE 0 END) AS rep4, sum(CASE WHEN Email LIKE '%@gmail.com' THEN 1 ELSE 0 END) AS gmail FROM Customer"),
        all("email_in_employee_emails", "SELECT CustomerId FROM Customer WHERE Email IN (SELECT Email FROM Employee) ORDER BY 1"),
        all("join_masked_to_unmasked", "SELECT c.CustomerId FROM Customer c JOIN Employee e ON e.Phone = c.Phone OR e.Email = c.Email ORDER BY 1"),
        // --- Windows.
        all("window_count", "SELECT CustomerId, count(*) OVER () AS total, row_number() OVER (ORDER BY CustomerId) AS n FROM Customer ORDER BY CustomerId"),
        all("window_invoices", "SELECT InvoiceId, sum(Total) OVER () AS all_revenue, count(*) OVER (PARTITION BY CustomerId) AS per_customer FROM Invoice ORDER BY InvoiceId"),
        // --- Masked columns.
        all("group_by_masked", "SELECT Email, count(*) AS n FROM Customer GROUP BY Email ORDER BY Email"),
        all("distinct_masked", "SELECT DISTINCT Phone, Fax FROM Customer"),
        all("order_by_email_first", "SELECT CustomerId FROM Customer ORDER BY Email LIMIT 1"),
        all("order_by_email_last", "SELECT CustomerId FROM Customer ORDER BY Email DESC LIMIT 1"),
        all("order_by_phone", "SELECT CustomerId FROM Customer ORDER BY Phone DESC, CustomerId LIMIT 1"),
        all("order_by_fax", "SELECT CustomerId FROM Customer ORDER BY Fax, CustomerId LIMIT 1"),
        all("like_at_sign", "SELECT CustomerId FROM Customer WHERE Email LIKE '%@%' ORDER BY 1"),
        all("like_prefixes", "SELECT CustomerId FROM Customer WHERE Email LIKE 'a%' OR Phone LIKE '+%' OR Fax LIKE '+%' ORDER BY 1"),
        all("compare_with_literal", "SELECT count(*) FROM Customer WHERE Email > 'm' AND Email < 'n'"),
        all("min_max_masked", "SELECT min(Email), max(Email), min(Phone), max(Fax) FROM Customer"),
        all("length_substr_masked", "SELECT CustomerId, length(Email), substr(Email, 1, 3), length(Phone), substr(Fax, 2, 4) FROM Customer ORDER BY 1"),
        each(
            "concatenated_emails",
            Some("SELECT group_concat(Email, ';') FROM (SELECT Email FROM Customer ORDER BY Email) AS e"),
            Some("SELECT string_agg(email, ';' ORDER BY email) FROM customer"),
            Some("SELECT group_concat(Email ORDER BY Email SEPARATOR ';') FROM Customer"),
        ),
        each(
            "json_of_row",
            Some("SELECT json_object('id', CustomerId, 'email', Email, 'phone', Phone) FROM Customer ORDER BY CustomerId"),
            Some("SELECT json_build_object('id', c.customer_id, 'email', c.email, 'phone', c.phone)::text FROM customer c ORDER BY c.customer_id"),
            Some("SELECT JSON_OBJECT('id', CustomerId, 'email', Email, 'phone', Phone) FROM Customer ORDER BY CustomerId"),
        ),
        each(
            "hash_function_by_name",
            Some("SELECT cbi_mask_hash('cbi-permissions-test-key', 'luisg@embraer.com.br') AS h"),
            Some("SELECT md5(email) FROM customer ORDER BY 1"),
            Some("SELECT md5(Email) FROM Customer ORDER BY 1"),
        ),
        // --- Joins and stars.
        all("natural_join", "SELECT CustomerId, InvoiceId, Total FROM Customer NATURAL JOIN Invoice ORDER BY InvoiceId"),
        all("natural_self_join", "SELECT count(*) FROM Customer NATURAL JOIN Customer AS c2"),
        all("using_join", "SELECT CustomerId, c.Email, i.InvoiceId FROM Customer c JOIN Invoice i USING (CustomerId) ORDER BY i.InvoiceId"),
        all("star", "SELECT * FROM Customer ORDER BY CustomerId"),
        all("table_star_in_join", "SELECT c.*, i.Total FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId WHERE i.Total > 15 ORDER BY i.InvoiceId"),
        all("star_over_denied_column", "SELECT * FROM Employee ORDER BY EmployeeId").denied(),
        all("denied_column", "SELECT EmployeeId, BirthDate FROM Employee ORDER BY 1").denied(),
        all("denied_column_in_order_by", "SELECT LastName FROM Employee ORDER BY BirthDate LIMIT 1").denied(),
        all("table_star_over_denied_column", "SELECT e.* FROM Employee e JOIN Customer c ON c.SupportRepId = e.EmployeeId ORDER BY c.CustomerId").denied(),
        // --- Aggregates.
        all("invoice_aggregates", "SELECT count(*), sum(Total), min(InvoiceId), max(InvoiceId) FROM Invoice"),
        all("customer_aggregates_by_rep", "SELECT SupportRepId, count(*), count(Phone), count(Fax) FROM Customer GROUP BY SupportRepId ORDER BY 1"),
        all("having", "SELECT SupportRepId, count(*) FROM Customer GROUP BY SupportRepId HAVING count(*) > 0 ORDER BY 1"),
        // --- Through foreign keys.
        all("lines_invoices_customers", "SELECT c.CustomerId, c.Email, sum(il.UnitPrice * il.Quantity) AS spent FROM InvoiceLine il JOIN Invoice i ON i.InvoiceId = il.InvoiceId JOIN Customer c ON c.CustomerId = i.CustomerId GROUP BY c.CustomerId, c.Email ORDER BY spent DESC, c.CustomerId LIMIT 10"),
        all("lines_to_invoices", "SELECT count(*), sum(il.Quantity) FROM InvoiceLine il JOIN Invoice i ON i.InvoiceId = il.InvoiceId"),
        all("lines_in_visible_invoices", "SELECT count(*) FROM InvoiceLine WHERE InvoiceId IN (SELECT InvoiceId FROM Invoice)"),
        all("lines_of_hidden_invoices", "SELECT count(*) FROM InvoiceLine il LEFT JOIN Invoice i ON i.InvoiceId = il.InvoiceId WHERE i.InvoiceId IS NULL"),
        all("invoices_to_hidden_customers", "SELECT i.InvoiceId, i.CustomerId, c.Email, c.LastName FROM Invoice i LEFT JOIN Customer c ON c.CustomerId = i.CustomerId ORDER BY i.InvoiceId"),
        all("employees_to_customers", "SELECT e.EmployeeId, c.CustomerId, c.Country FROM Employee e LEFT JOIN Customer c ON c.SupportRepId = e.EmployeeId ORDER BY 1, 2"),
        each(
            "lateral",
            None,
            Some("SELECT e.employee_id, x.n FROM employee e CROSS JOIN LATERAL (SELECT count(*) AS n FROM customer c WHERE c.support_rep_id = e.employee_id) AS x ORDER BY 1"),
            None,
        ),
        // --- Schema-qualified, quoted and case-variant names.
        each(
            "schema_qualified",
            Some("SELECT CustomerId, Email FROM main.Customer ORDER BY 1"),
            Some("SELECT customer_id, email FROM public.customer ORDER BY 1"),
            Some("SELECT CustomerId, Email FROM chinook.Customer ORDER BY 1"),
        ),
        each(
            "schema_qualified_quoted",
            Some("SELECT \"CustomerId\", \"Email\" FROM \"main\".\"Customer\" ORDER BY 1"),
            Some("SELECT \"customer_id\", \"email\" FROM \"public\".\"customer\" ORDER BY 1"),
            Some("SELECT `CustomerId`, `Email` FROM `chinook`.`Customer` ORDER BY 1"),
        ),
        each(
            "schema_qualified_columns",
            Some("SELECT main.Customer.CustomerId, main.Customer.Email FROM main.Customer ORDER BY 1"),
            Some("SELECT public.customer.customer_id, public.customer.email FROM public.customer ORDER BY 1"),
            Some("SELECT chinook.Customer.CustomerId, chinook.Customer.Email FROM chinook.Customer ORDER BY 1"),
        ),
        each(
            "schema_qualified_join",
            Some("SELECT i.InvoiceId, c.Email FROM main.Invoice i JOIN main.Customer c ON c.CustomerId = i.CustomerId ORDER BY 1"),
            Some("SELECT i.invoice_id, c.email FROM public.invoice i JOIN public.customer c ON c.customer_id = i.customer_id ORDER BY 1"),
            Some("SELECT i.InvoiceId, c.Email FROM chinook.Invoice i JOIN chinook.Customer c ON c.CustomerId = i.CustomerId ORDER BY 1"),
        ),
        each(
            "quoted_case_variant",
            Some("SELECT count(*), max(\"EMAIL\") FROM \"CUSTOMER\""),
            Some("SELECT count(*) FROM public.\"Customer\""),
            Some("SELECT count(*) FROM chinook.CUSTOMER"),
        ),
        each(
            "case_variant",
            Some("SELECT CUSTOMERID, EMAIL, phone FROM CUSTOMER ORDER BY 1"),
            Some("SELECT CUSTOMER_ID, EMAIL, Phone FROM CUSTOMER ORDER BY 1"),
            Some("SELECT CUSTOMERID, EMAIL, phone FROM Customer ORDER BY 1"),
        ),
        each(
            "mixed_case",
            Some("SELECT count(*), min(eMaIl), max(FaX) FROM cUsToMeR"),
            Some("SELECT count(*), min(eMaIl), max(FaX) FROM cUsToMeR"),
            Some("SELECT count(*), min(eMaIl), max(FaX) FROM `Customer` AS `cUsToMeR`"),
        ),
    ]
}

/// Statements the engine answers where the database itself fails (the user's copy, or a user
/// without filters), reported to the engine and tested on their own in [`super::findings`]:
/// not a leak (the answer is the policy's), but not what the database would answer.
pub const KNOWN: &[(Backend, &str, &str)] = &[(
    Backend::Mysql,
    "quoted_case_variant",
    "finding 3: `chinook.CUSTOMER` names no table on MariaDB (table names are case-sensitive), but the policy rewrites it to `chinook`.`Customer`",
)];

fn known(backend: Backend, name: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(b, n, _)| *b == backend && *n == name)
        .map(|(_, _, why)| *why)
}

/// What running the attacks as the users gave on one database.
#[derive(Debug, Default)]
pub struct Report {
    pub runs: usize,
    pub answered: usize,
    pub refused: Tally,
    pub errors: usize,
    /// Secrets in answers, and plain reads that showed more than allowed.
    pub leaks: usize,
    /// Answers that differ from the user's copy.
    pub wrong: usize,
    /// Answers of [`KNOWN`] statements where the copy fails (reported, not counted as wrong).
    pub known: usize,
    /// Statements naming a denied column that were not refused with `denied_column`.
    pub not_denied: usize,
    /// Database errors on statements that the user's copy answers (not an error oracle).
    pub false_errors: usize,
    /// The statements with a leak or a wrong answer.
    pub flagged: std::collections::BTreeSet<&'static str>,
    pub details: String,
}

impl Report {
    fn note(&mut self, line: String) {
        let _ = writeln!(self.details, "  {line}");
    }

    fn summary(&self, backend: Backend, statements: usize, users: usize) -> String {
        format!(
            "{backend:?}: {statements} statements x {users} users = {} runs: {} answered, {} refused ({}), {} errors ({} where the copy answers); leaks {}, wrong answers {} (+{} known), denied columns not refused {}",
            self.runs,
            self.answered,
            self.refused.total(),
            self.refused,
            self.errors,
            self.false_errors,
            self.leaks,
            self.wrong,
            self.known,
            self.not_denied
        )
    }
}

/// Who answers: the engine's view, or (to show what the suite catches) a source that enforces
/// no `[access]` at all.
pub enum Runner<'a> {
    View(&'a View),
    Unenforced(&'a DataSource),
}

impl Runner<'_> {
    async fn run(&self, sql: &str) -> Outcome {
        Outcome::of(match self {
            Runner::View(v) => v.run(sql).await,
            Runner::Unenforced(s) => s.run(sql).await,
        })
    }
}

/// Runs every attack as `user` and adds what happened to `report`.
pub async fn check_user(
    env: &Env,
    raw: &Raw,
    user: &User,
    runner: Runner<'_>,
    attacks: &[Statement],
    report: &mut Report,
) {
    let backend = env.backend;
    let expect = Expect::of(raw, user, backend);
    let view = match &runner {
        Runner::View(v) => Some(*v),
        Runner::Unenforced(_) => None,
    };
    let masked = match view {
        Some(view) => {
            let (masked, problems) = masked_cells(view, backend, raw, &expect).await;
            for p in problems {
                report.leaks += 1;
                report.note(format!("LEAK {}: plain read: {p}", user.slug));
            }
            masked
        }
        // The copy of a user as the policy means it, with masked cells standing in.
        None => raw
            .customers
            .iter()
            .filter(|c| expect.customers.contains(&c.id))
            .map(|c| {
                (
                    c.id,
                    [
                        conversational_bi::exec::Value::Text(format!("masked-{}", c.id)),
                        conversational_bi::exec::Value::Null,
                        conversational_bi::exec::Value::Text("(hidden)".into()),
                    ],
                )
            })
            .collect(),
    };
    let truth = Materialized::build(env, user, raw, &expect, &masked).await;
    for attack in attacks {
        let (name, sql) = (&attack.name, &attack.sql);
        report.runs += 1;
        let must_refuse = attack.names_denied && expect.birthdate_denied;
        match runner.run(sql).await {
            Outcome::Rows(validated, result) => {
                report.answered += 1;
                let sent = &validated.exec_sql;
                let leaks = expect.leaks(&result);
                if !leaks.is_empty() {
                    report.leaks += 1;
                    report.flagged.insert(name);
                    report.note(format!(
                        "LEAK {} {name}: {sql}\n      sent: {sent}\n      secrets: {}",
                        user.slug,
                        leaks
                            .iter()
                            .take(4)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(" | ")
                    ));
                }
                if must_refuse {
                    report.not_denied += 1;
                    report.note(format!(
                        "NOT DENIED {} {name}: {sql} answered{}",
                        user.slug,
                        preview(&result.rows)
                    ));
                }
                match truth.run(sql).await {
                    Ok(t) => {
                        let ordered = has_top_level_order_by(sql);
                        if !rows_match(&result.rows, &t.rows, ordered) {
                            report.wrong += 1;
                            report.flagged.insert(name);
                            report.note(format!(
                                "WRONG {} {name}: {sql}\n    sent: {sent}\n    engine ({} rows):{}\n    copy ({} rows):{}",
                                user.slug,
                                result.rows.len(),
                                preview(&result.rows),
                                t.rows.len(),
                                preview(&t.rows)
                            ));
                        }
                    }
                    Err(e) if known(backend, name).is_some() => {
                        report.known += 1;
                        report.note(format!(
                            "KNOWN {} {name}: {}; the engine answered ({} rows), the copy failed: {e}",
                            user.slug,
                            known(backend, name).unwrap_or_default(),
                            result.rows.len()
                        ));
                    }
                    Err(e) => {
                        report.wrong += 1;
                        report.flagged.insert(name);
                        report.note(format!(
                            "WRONG {} {name}: {sql}\n    sent: {sent}\n    engine answered ({} rows), the copy failed: {e}",
                            user.slug,
                            result.rows.len()
                        ));
                    }
                }
            }
            Outcome::Refused { rule, reason } => {
                if must_refuse && rule != "denied_column" {
                    report.not_denied += 1;
                    report.note(format!(
                        "NOT DENIED {} {name}: refused by {rule}, not denied_column: {reason}",
                        user.slug
                    ));
                }
                report.note(format!("refused {} {name} ({rule}): {reason}", user.slug));
                report.refused.add(rule);
            }
            Outcome::Failed(e) => {
                report.errors += 1;
                let sent = view
                    .and_then(|v| v.validate(sql).ok())
                    .map(|v| v.exec_sql)
                    .unwrap_or_default();
                match truth.run(sql).await {
                    // The copy fails too: the statement fails on what the user may see.
                    Err(_) => report.note(format!(
                        "error {} {name} (the copy fails too): {sql}\n      {e}",
                        user.slug
                    )),
                    Ok(t) if attack.error_probe => {
                        report.leaks += 1;
                        report.flagged.insert(name);
                        report.note(format!(
                            "LEAK {} {name}: an error that the copy ({} rows) does not raise: {sql}\n      sent: {sent}\n      {e}",
                            user.slug,
                            t.rows.len()
                        ));
                    }
                    Ok(_) => {
                        report.false_errors += 1;
                        report.note(format!(
                            "ERROR {} {name}: fails at the database, the copy answers: {sql}\n      sent: {sent}\n      {e}",
                            user.slug
                        ));
                    }
                }
            }
        }
    }
}

/// The attacks of `backend` as (name, SQL, names a denied column).
pub fn statements(backend: Backend) -> Vec<Statement> {
    attacks()
        .into_iter()
        .filter_map(|a| {
            a.sql(backend).map(|sql| Statement {
                name: a.name,
                sql,
                names_denied: a.names_denied,
                error_probe: a.error_probe,
            })
        })
        .collect()
}

/// An attack as written for one database.
#[derive(Debug, Clone)]
pub struct Statement {
    pub name: &'static str,
    pub sql: String,
    pub names_denied: bool,
    pub error_probe: bool,
}

async fn attack(backend: Backend) {
    let env = Env::open(backend).await;
    let raw = Raw::load(&env).await;
    let statements = statements(backend);
    assert!(statements.len() >= 40, "{backend:?}: {}", statements.len());
    let users = users();
    let mut report = Report::default();
    for user in &users {
        match env.try_view(user).await {
            Some(view) => {
                check_user(
                    &env,
                    &raw,
                    user,
                    Runner::View(&view),
                    &statements,
                    &mut report,
                )
                .await
            }
            None => {
                // Turned away before any statement: every statement is refused.
                report.runs += statements.len();
                for _ in &statements {
                    report.refused.add("no data role (no view)");
                }
            }
        }
    }
    let summary = report.summary(backend, statements.len(), users.len());
    println!("{summary}\n{}", report.details);
    eprintln!("{summary}");
    assert_eq!(report.leaks, 0, "{summary}\n{}", report.details);
    assert_eq!(report.wrong, 0, "{summary}\n{}", report.details);
    assert_eq!(report.not_denied, 0, "{summary}\n{}", report.details);
    assert!(
        report.answered * 10 >= report.runs * 6,
        "most statements must run: {summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_attacks_read_nothing_past_the_policy() {
    attack(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_attacks_read_nothing_past_the_policy() {
    if !Backend::Postgres.require() {
        return;
    }
    attack(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_attacks_read_nothing_past_the_policy() {
    if !Backend::Mysql.require() {
        return;
    }
    attack(Backend::Mysql).await;
}

/// The suite is meaningful: on SQLite without any enforcement, as rep 3, most statements that
/// read Customer or Invoice are caught (a leak or a wrong answer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_enforcement_the_attacks_are_caught() {
    let backend = Backend::Sqlite;
    let env = Env::open(backend).await;
    let raw = Raw::load(&env).await;
    let statements = statements(backend);
    let user = users().into_iter().next().expect("rep3");
    let mut report = Report::default();
    check_user(
        &env,
        &raw,
        &user,
        Runner::Unenforced(&env.raw),
        &statements,
        &mut report,
    )
    .await;
    let reading: Vec<&str> = statements
        .iter()
        .filter(|s| {
            ["Customer", "Invoice", "CUSTOMER"]
                .iter()
                .any(|t| s.sql.contains(t))
        })
        .map(|s| s.name)
        .collect();
    let missed: Vec<&str> = reading
        .iter()
        .copied()
        .filter(|n| !report.flagged.contains(n))
        .collect();
    let caught = reading.len() - missed.len();
    println!(
        "without enforcement: {caught} of {} statements caught; not caught: {missed:?}",
        reading.len()
    );
    assert!(
        caught * 10 >= reading.len() * 8,
        "{caught} of {} caught; not caught: {missed:?}",
        reading.len()
    );
}
