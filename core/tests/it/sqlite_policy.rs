//! The SQLite database layer enforces `allowed_tables` and `denied_columns` by itself: every
//! statement here goes straight to the executor, bypassing the SQL validator, on Chinook with
//! `Customer.Email` denied and `Invoice` outside the allowed tables.

use conversational_bi::{
    ErrorKind, demo,
    exec::{Executor, SourceOptions, SqliteExecutor, Value},
};

const ALLOWED: &[&str] = &[
    "Album",
    "Artist",
    "Customer",
    "Employee",
    "Genre",
    "InvoiceLine",
    "MediaType",
    "Playlist",
    "PlaylistTrack",
    "Track",
];

async fn chinook() -> SqliteExecutor {
    let options = SourceOptions {
        allowed_tables: ALLOWED.iter().map(|t| t.to_string()).collect(),
        denied_columns: vec!["Customer.Email".into()],
        ..SourceOptions::default()
    };
    let path = demo::chinook_path().expect("the demo database");
    SqliteExecutor::open(&path, options)
        .await
        .expect("Chinook opens")
}

/// Statements that must fail at the database, and a word their error must name.
const REFUSED: &[(&str, &str)] = &[
    // The C1 statement as the database received it from a validator that read `\'` as an
    // escaped quote: to SQLite, `'x\'` is a whole string, then come two subqueries, and the
    // appended LIMIT lands in a comment.
    (
        r"SELECT 'x\', (SELECT group_concat(Email) FROM Customer) AS emails, (SELECT sum(Total) FROM Invoice) AS revenue --' LIMIT 1000",
        "",
    ),
    // The rule generator's statement of the second C1 proof, as the database received it.
    (
        r"SELECT FirstName, LastName FROM Customer WHERE Company = 'x\' UNION SELECT Email, Phone FROM Customer --' LIMIT 1000",
        "Customer.Email",
    ),
    (
        "SELECT (SELECT Email FROM json_each('[1]')) AS e FROM Customer",
        "Customer.Email",
    ),
    (
        "SELECT (SELECT Email FROM (SELECT 1+1)) AS e FROM Customer",
        "Customer.Email",
    ),
    (
        "SELECT Email FROM Customer a JOIN Customer b USING (CustomerId, Email)",
        "Customer.Email",
    ),
    // Phone is permitted, but the NATURAL join compares every shared column, Email included:
    // a comparison with chosen values reveals a restricted column, so it is a read.
    (
        "SELECT Phone FROM Customer NATURAL JOIN Customer AS c2",
        "Customer.Email",
    ),
    (
        "SELECT c.Phone FROM Customer c JOIN (SELECT 'luisg@embraer.com.br' AS Email) USING (Email)",
        "Customer.Email",
    ),
    ("SELECT * FROM Customer", "Customer.Email"),
    ("SELECT c.* FROM Customer c", "Customer.Email"),
    (
        "SELECT FirstName FROM Customer WHERE Email LIKE 'l%'",
        "Customer.Email",
    ),
    (
        "SELECT FirstName FROM Customer ORDER BY Email",
        "Customer.Email",
    ),
    (
        "SELECT FirstName FROM Customer GROUP BY FirstName HAVING max(Email) > ''",
        "Customer.Email",
    ),
    (
        "WITH c AS (SELECT Email AS e FROM Customer) SELECT count(*) FROM c WHERE e > ''",
        "Customer.Email",
    ),
    (
        "SELECT FirstName FROM Customer WHERE CustomerId IN (SELECT CustomerId FROM Customer WHERE Email = 'x')",
        "Customer.Email",
    ),
    ("SELECT * FROM Invoice", "Invoice"),
    ("SELECT count(*) FROM Invoice", "Invoice"),
    ("SELECT count(*) FROM main.Invoice", "Invoice"),
    ("SELECT Total FROM \"invoice\" LIMIT 1", "Invoice"),
    (
        "SELECT InvoiceLineId FROM InvoiceLine WHERE InvoiceId IN (SELECT InvoiceId FROM Invoice WHERE Total > 10)",
        "Invoice",
    ),
    (
        "SELECT InvoiceLineId FROM InvoiceLine NATURAL JOIN Invoice",
        "Invoice",
    ),
    // Invoice is joined through USING/NATURAL only: SQLite never tells the authorizer.
    (
        "SELECT count(*) FROM Customer JOIN Invoice USING (CustomerId)",
        "Invoice",
    ),
    (
        "SELECT c.FirstName FROM Customer c NATURAL JOIN Invoice",
        "Invoice",
    ),
    (
        "WITH Album AS (SELECT * FROM Invoice) SELECT * FROM Album",
        "Invoice",
    ),
    ("SELECT name FROM sqlite_master", "sqlite_master"),
    ("SELECT 1; SELECT Email FROM Customer", "one statement"),
];

#[tokio::test]
async fn chinook_refuses_denied_columns_and_tables_at_the_database() {
    let ex = chinook().await;
    for (sql, names) in REFUSED {
        let err = match ex.execute(sql).await {
            Ok(r) => panic!("{sql}: returned {} rows", r.rows.len()),
            Err(e) => e,
        };
        assert_eq!(err.kind(), ErrorKind::Execution, "{sql}: {err}");
        let message = err.to_string();
        assert!(
            message.contains("refused by the database guard") || message.contains("one statement"),
            "{sql}: {message}"
        );
        assert!(message.contains(names), "{sql}: {message}");
    }
}

#[tokio::test]
async fn chinook_ordinary_reads_still_work() {
    let ex = chinook().await;
    // The C1 statement as typed: SQLite reads `'x\''` as a string holding a quote, so the
    // rest is part of that string and nothing is read.
    let typed = r"SELECT 'x\'', (SELECT group_concat(Email) FROM Customer) AS emails, (SELECT sum(Total) FROM Invoice) AS revenue --'";
    let harmless = ex.execute(typed).await.expect("one string literal");
    assert_eq!(
        harmless.rows,
        vec![vec![Value::Text(
            r"x\', (SELECT group_concat(Email) FROM Customer) AS emails, (SELECT sum(Total) FROM Invoice) AS revenue --".into()
        )]]
    );
    for (sql, rows) in [
        ("SELECT count(*) FROM Customer", 1),
        ("SELECT FirstName, LastName, Phone FROM Customer", 59),
        (
            "SELECT CustomerId, Company FROM Customer WHERE Country = 'Brazil'",
            5,
        ),
        (
            "SELECT c.FirstName, count(*) FROM Customer c JOIN Employee e ON e.EmployeeId = c.SupportRepId GROUP BY c.FirstName ORDER BY 2 DESC LIMIT 3",
            3,
        ),
        (
            "SELECT t.Name, sum(il.Quantity) FROM InvoiceLine il JOIN Track t USING (TrackId) GROUP BY t.Name ORDER BY 2 DESC LIMIT 5",
            5,
        ),
        ("SELECT Title FROM Artist NATURAL JOIN Album LIMIT 3", 3),
        (
            "WITH e AS (SELECT Email FROM Employee) SELECT count(*) FROM e",
            1,
        ),
        ("SELECT value FROM json_each('[1,2,3]')", 3),
        (
            "SELECT count(*) FROM Track WHERE Name LIKE '%love%' ESCAPE '\\' OR Composer GLOB '*[A-Z]ay*'",
            1,
        ),
    ] {
        let result = ex
            .execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(result.rows.len(), rows, "{sql}");
    }
    let counted = ex
        .execute("SELECT count(*) FROM Customer")
        .await
        .expect("count");
    assert_eq!(counted.rows, vec![vec![Value::Int(59)]]);
}

#[tokio::test]
async fn chinook_without_a_policy_reads_everything() {
    let path = demo::chinook_path().expect("the demo database");
    let ex = SqliteExecutor::open(&path, SourceOptions::default())
        .await
        .expect("Chinook opens");
    let result = ex
        .execute("SELECT count(Email), (SELECT count(*) FROM Invoice) FROM Customer")
        .await
        .expect("no policy, no refusal");
    assert_eq!(result.rows, vec![vec![Value::Int(59), Value::Int(412)]]);
    ex.execute("SELECT Phone FROM Customer NATURAL JOIN Customer AS c2")
        .await
        .expect("no policy, no refusal");
}

#[tokio::test]
async fn printf_past_the_value_limit_fails_fast_with_a_clear_error() {
    let ex = chinook().await;
    let started = std::time::Instant::now();
    let err = match ex.execute("SELECT printf('%.*c', 60000000, 'x')").await {
        Ok(r) => panic!(
            "a value came back: {:?}",
            r.rows.first().map(|row| row.len())
        ),
        Err(e) => e,
    };
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(err.kind(), ErrorKind::Execution);
    assert!(err.to_string().contains("too big"), "{err}");
    let ok = ex
        .execute("SELECT length(printf('%.*c', 1000, 'x')), printf('%d-%s', 7, 'a'), printf('')")
        .await
        .expect("small printf");
    assert_eq!(
        ok.rows,
        vec![vec![
            Value::Int(1000),
            Value::Text("7-a".into()),
            Value::Null
        ]]
    );
}
