//! Text patterns, negations and sets on Chinook, Northwind and Sakila: the SQL the rules
//! write, that the validator accepts it, the rows it returns against gold SQL, and the nearest
//! constructions that must still abstain.

use super::{abstains, generator, same_result, sql, written_in};
use crate::{dialect::Dialect, error::Error, generate::rule::ir::QueryIr};

#[tokio::test]
async fn patterns_contain_start_and_end_on_chinook() {
    let (g, db) = generator("chinook").await;
    let cases = [
        (
            "tracks whose name contains 'love'",
            "SELECT Name FROM Track WHERE Name LIKE '%love%' ESCAPE '\\'",
        ),
        (
            "List the tracks containing the word \"you\"",
            "SELECT Name FROM Track WHERE Name LIKE '%you%' ESCAPE '\\'",
        ),
        (
            "customers whose email contains 'gmail.com'",
            "SELECT FirstName, LastName FROM Customer WHERE Email LIKE '%gmail.com%' ESCAPE '\\'",
        ),
        (
            "artists whose name starts with the letter A",
            "SELECT Name FROM Artist WHERE Name LIKE 'A%' ESCAPE '\\'",
        ),
        (
            "albums with 'Rock' in their title",
            "SELECT Title FROM Album WHERE Title LIKE '%Rock%' ESCAPE '\\'",
        ),
        (
            "artists whose name ends with 'Orchestra'",
            "SELECT Name FROM Artist WHERE Name LIKE '%Orchestra' ESCAPE '\\'",
        ),
        (
            "tracks whose name does not contain the letter e",
            "SELECT Name FROM Track WHERE Name NOT LIKE '%e%' ESCAPE '\\'",
        ),
        (
            "albums that start with A",
            "SELECT Title FROM Album WHERE Title LIKE 'A%' ESCAPE '\\'",
        ),
        (
            "customers whose first name includes the letter ‘a’",
            "SELECT FirstName, LastName FROM Customer WHERE FirstName LIKE '%a%' ESCAPE '\\'",
        ),
        (
            "How many customers have an email containing 'yahoo'?",
            "SELECT COUNT(*) AS count FROM Customer WHERE Email LIKE '%yahoo%' ESCAPE '\\'",
        ),
    ];
    for (q, want) in cases {
        assert_eq!(sql(&g, q), want, "{q}");
    }
    // SQLite's LIKE ignores the case of ASCII letters, as the other dialects are written to.
    let s = sql(&g, "tracks whose name contains 'LOVE'");
    assert!(
        same_result(
            &db,
            &s,
            "SELECT Name FROM Track WHERE lower(Name) LIKE '%love%'"
        )
        .await,
        "{s}"
    );
}

#[tokio::test]
async fn patterns_on_northwind_and_sakila() {
    let (g, _) = generator("northwind").await;
    assert_eq!(
        sql(&g, "products whose name starts with 'Ch'"),
        "SELECT ProductName FROM Products WHERE ProductName LIKE 'Ch%' ESCAPE '\\'"
    );
    let (g, db) = generator("sakila").await;
    let s = sql(&g, "films whose title contains the word 'LOVE'");
    assert_eq!(
        s,
        "SELECT title FROM film WHERE title LIKE '%LOVE%' ESCAPE '\\'"
    );
    assert!(same_result(&db, &s, "SELECT title FROM film WHERE title LIKE '%love%'").await);
}

#[tokio::test]
async fn hostile_pattern_text_is_matched_literally() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "tracks whose name contains '100%'");
    assert_eq!(
        s,
        "SELECT Name FROM Track WHERE Name LIKE '%100\\%%' ESCAPE '\\'"
    );
    let s = sql(&g, "tracks whose name contains \"a_b\"");
    assert!(s.contains("LIKE '%a\\_b%' ESCAPE '\\'"), "{s}");
    let rows = db.execute(&s).await.expect("runs").rows;
    assert!(rows.is_empty(), "`_` is not a wildcard: {rows:?}");
    let s = sql(&g, "tracks whose name contains \"c:\\x\"");
    assert!(s.contains("LIKE '%c:\\\\x%' ESCAPE '\\'"), "{s}");
    db.execute(&s).await.expect("runs");
    let s = sql(&g, "customers whose last name contains \"O'Br\"");
    assert!(s.contains("LIKE '%O''Br%' ESCAPE '\\'"), "{s}");
    db.execute(&s).await.expect("runs");
    let s = sql(&g, "tracks whose name contains \"'; DROP TABLE Track; --\"");
    assert!(s.contains("'%''; DROP TABLE Track; --%'"), "{s}");
    db.execute(&s).await.expect("runs");
}

#[tokio::test]
async fn patterns_are_written_for_each_dialect() {
    let tables = crate::testdb::catalog("chinook").await.tables;
    use crate::generate::rule::ir::{ColumnRef, Filter, LikeKind};
    let mut ir = QueryIr::new("Track");
    ir.columns.push(ColumnRef::new("Track", "Name"));
    ir.filters.push(Filter::Like {
        column: ColumnRef::new("Track", "Name"),
        position: LikeKind::Contains,
        text: "50%_\\'".into(),
        negated: false,
    });
    let cases = [
        (
            Dialect::Sqlite,
            "SELECT Name FROM Track WHERE Name LIKE '%50\\%\\_\\\\''%' ESCAPE '\\'",
        ),
        (
            Dialect::Postgres,
            "SELECT \"Name\" FROM \"Track\" WHERE \"Name\" ILIKE '%50\\%\\_\\\\''%' ESCAPE '\\'",
        ),
        (
            Dialect::Mysql,
            "SELECT Name FROM Track WHERE Name LIKE '%50\\\\%\\\\_\\\\\\\\''%' ESCAPE '\\\\'",
        ),
    ];
    for (dialect, want) in cases {
        assert_eq!(written_in(&tables, dialect, &ir), want, "{dialect}");
    }
}

#[tokio::test]
async fn related_rows_are_written_for_each_dialect() {
    use crate::generate::rule::ir::{CmpOp, ColumnRef, Filter, Literal};
    let tables = crate::testdb::catalog("chinook").await.tables;
    let mut ir = QueryIr::new("Artist");
    ir.columns.push(ColumnRef::new("Artist", "Name"));
    ir.filters.push(Filter::Exists {
        column: ColumnRef::new("Artist", "ArtistId"),
        table: "Album".into(),
        filters: vec![Filter::Compare {
            column: ColumnRef::new("Album", "Title"),
            op: CmpOp::Eq,
            value: Literal::Text("Let There Be Rock".into()),
        }],
        negated: true,
    });
    let cases = [
        (
            Dialect::Sqlite,
            "SELECT Name FROM Artist WHERE NOT EXISTS (SELECT 1 FROM Album WHERE Artist.ArtistId = Album.ArtistId AND Album.Title = 'Let There Be Rock')",
        ),
        (
            Dialect::Postgres,
            "SELECT \"Name\" FROM \"Artist\" WHERE NOT EXISTS (SELECT 1 FROM \"Album\" WHERE \"Artist\".\"ArtistId\" = \"Album\".\"ArtistId\" AND \"Album\".\"Title\" = 'Let There Be Rock')",
        ),
        (
            Dialect::Mysql,
            "SELECT Name FROM Artist WHERE NOT EXISTS (SELECT 1 FROM Album WHERE Artist.ArtistId = Album.ArtistId AND Album.Title = 'Let There Be Rock')",
        ),
    ];
    for (dialect, want) in cases {
        assert_eq!(written_in(&tables, dialect, &ir), want, "{dialect}");
    }
}

#[tokio::test]
async fn a_pattern_needs_its_text_and_its_column() {
    let (g, _) = generator("chinook").await;
    // An unquoted schema word is about related rows, not text.
    abstains(&g, "playlists containing tracks");
    // "with" and a quoted word, without "in its name", is too loose.
    abstains(&g, "customers with 'VIP'");
    // No column to match the text against.
    abstains(&g, "containing 'love'");
    // A whole value of another table: the albums of Rock tracks, or "Rock" in the title?
    abstains(&g, "albums containing 'Rock'");
    abstains(&g, "playlists containing 'Jazz'");
    // With a marker, or on a named column, it is text.
    assert_eq!(
        sql(&g, "albums containing the word 'Rock'"),
        "SELECT Title FROM Album WHERE Title LIKE '%Rock%' ESCAPE '\\'"
    );
    assert_eq!(
        sql(&g, "customers whose country contains 'Canada'"),
        "SELECT FirstName, LastName FROM Customer WHERE Country LIKE '%Canada%' ESCAPE '\\'"
    );
}

#[tokio::test]
async fn negated_values_on_chinook_and_northwind() {
    let (g, db) = generator("chinook").await;
    assert_eq!(
        sql(&g, "customers not in Canada"),
        "SELECT FirstName, LastName FROM Customer WHERE Country <> 'Canada'"
    );
    assert_eq!(
        sql(&g, "customers other than those in Canada"),
        "SELECT FirstName, LastName FROM Customer WHERE Country <> 'Canada'"
    );
    let s = sql(&g, "how many tracks are not in the Rock genre");
    assert_eq!(
        s,
        "SELECT COUNT(*) AS count FROM Track JOIN Genre ON Track.GenreId = Genre.GenreId WHERE Genre.Name <> 'Rock'"
    );
    assert!(
        same_result(
            &db,
            &s,
            "SELECT COUNT(*) FROM Track WHERE GenreId NOT IN (SELECT GenreId FROM Genre WHERE Name = 'Rock')"
        )
        .await
    );
    assert_eq!(
        sql(&g, "albums not by AC/DC"),
        "SELECT Album.Title FROM Album JOIN Artist ON Album.ArtistId = Artist.ArtistId WHERE Artist.Name <> 'AC/DC'"
    );
    assert_eq!(
        sql(&g, "customers who do not have the country 'Canada'"),
        "SELECT FirstName, LastName FROM Customer WHERE Country <> 'Canada'"
    );
    assert_eq!(
        sql(&g, "how many tracks whose unit price is not 0.99"),
        "SELECT COUNT(*) AS count FROM Track WHERE UnitPrice <> 0.99"
    );
    // "not 5 albums" is no comparison of a column.
    abstains(&g, "artists with not 5 albums");
    // "a" after "starts with" is an article, not the text.
    abstains(&g, "customers that start with a discount");
    // "not by" a table is no value.
    abstains(&g, "artists not by albums");
    for q in [
        "customers neither in Canada nor in USA",
        "customers not in Canada or USA",
    ] {
        assert_eq!(
            sql(&g, q),
            "SELECT FirstName, LastName FROM Customer WHERE Country NOT IN ('Canada', 'USA')",
            "{q}"
        );
    }
    let (g, _) = generator("northwind").await;
    assert_eq!(
        sql(&g, "customers not in Germany"),
        "SELECT CompanyName FROM Customers WHERE Country <> 'Germany'"
    );
}

#[tokio::test]
async fn anti_joins_on_chinook_northwind_and_sakila() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "list artists without albums");
    assert_eq!(
        s,
        "SELECT Name FROM Artist WHERE NOT EXISTS (SELECT 1 FROM Album WHERE Artist.ArtistId = Album.ArtistId)"
    );
    assert!(
        same_result(
            &db,
            &s,
            "SELECT Name FROM Artist WHERE ArtistId NOT IN (SELECT ArtistId FROM Album)"
        )
        .await
    );
    let s = sql(&g, "employees with no customers");
    assert!(
        same_result(
            &db,
            &s,
            "SELECT FirstName, LastName FROM Employee WHERE EmployeeId NOT IN (SELECT SupportRepId FROM Customer WHERE SupportRepId IS NOT NULL)"
        )
        .await,
        "{s}"
    );
    let s = sql(&g, "customers who never bought a Jazz track");
    assert!(
        s.contains("NOT EXISTS (SELECT 1 FROM Invoice JOIN InvoiceLine"),
        "{s}"
    );
    assert!(
        same_result(
            &db,
            &s,
            "SELECT FirstName, LastName FROM Customer WHERE CustomerId NOT IN (SELECT i.CustomerId FROM Invoice i JOIN InvoiceLine l ON l.InvoiceId = i.InvoiceId JOIN Track t ON t.TrackId = l.TrackId JOIN Genre g ON g.GenreId = t.GenreId WHERE g.Name = 'Jazz')"
        )
        .await,
        "{s}"
    );
    let s = sql(&g, "How many artists do not have any album?");
    assert!(
        same_result(
            &db,
            &s,
            "SELECT COUNT(*) FROM Artist WHERE ArtistId NOT IN (SELECT ArtistId FROM Album)"
        )
        .await,
        "{s}"
    );
    let (g, _) = generator("northwind").await;
    assert_eq!(
        sql(&g, "customers without orders"),
        "SELECT CompanyName FROM Customers WHERE NOT EXISTS (SELECT 1 FROM Orders WHERE Customers.CustomerID = Orders.CustomerID)"
    );
    let (g, _) = generator("sakila").await;
    let s = sql(&g, "films not in the Horror category");
    assert!(
        s.contains("WHERE NOT EXISTS (SELECT 1 FROM film_category JOIN category"),
        "{s}"
    );
}

#[tokio::test]
async fn negations_the_rules_cannot_place_abstain() {
    let (g, _) = generator("chinook").await;
    // "not" far from any value, pattern or related table.
    abstains(&g, "list the customers not");
    abstains(&g, "which customers did not");
    // "without" with nothing to anti-join.
    abstains(&g, "artists without");
    abstains(&g, "customers who never bought");
    // The related rows are the subject's own.
    abstains(&g, "artists without artists");
    // Values no related row has, rather than rows: a difference of values.
    abstains(&g, "the distinct countries of customers without invoices");
    // The negation is named among the words the rules could not place.
    match g.answer("list the customers not", &[]) {
        Err(Error::CannotAnswer { unknown_words, .. }) => {
            assert_eq!(unknown_words, ["not"]);
        }
        other => panic!("expected an abstention, got {other:?}"),
    }
    // "not" before a year or a comparison is not a value's negation.
    abstains(&g, "invoices not in 2021");
    abstains(&g, "tracks not longer than 5 minutes");
    // An artist has several albums: "none of them" or "one of them" does not contain it?
    abstains(&g, "artists whose album title does not contain 'Rock'");
    let s = sql(&g, "artists whose album title contains 'Rock'");
    assert!(
        s.ends_with("WHERE Album.Title LIKE '%Rock%' ESCAPE '\\'"),
        "{s}"
    );
    // Negations the rules do not place at all.
    abstains(&g, "customers who bought nothing");
}

#[tokio::test]
async fn sets_both_either_and_but_not() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "customers who bought both Rock and Jazz tracks");
    assert_eq!(s.matches("EXISTS (SELECT 1 FROM Invoice").count(), 2, "{s}");
    let line = "SELECT c.FirstName, c.LastName FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId JOIN InvoiceLine l ON l.InvoiceId = i.InvoiceId JOIN Track t ON t.TrackId = l.TrackId JOIN Genre g ON g.GenreId = t.GenreId WHERE g.Name = ";
    let gold = format!("{line}'Rock' INTERSECT {line}'Jazz'");
    assert!(same_result(&db, &s, &gold).await, "{s}");
    let s = sql(&g, "customers who bought Rock but not Jazz tracks");
    assert!(s.contains(" AND NOT EXISTS ("), "{s}");
    let gold = format!("{line}'Rock' EXCEPT {line}'Jazz'");
    assert!(same_result(&db, &s, &gold).await, "{s}");
    let s = sql(&g, "how many tracks are in either the Rock or Jazz genre");
    assert!(s.ends_with("WHERE Genre.Name IN ('Rock', 'Jazz')"), "{s}");
    // A track has one genre: it cannot be both.
    abstains(&g, "tracks that are both Rock and Jazz");
    // "both" without two values.
    abstains(&g, "customers who bought both Rock tracks and albums");
}

#[tokio::test]
async fn a_follow_up_keeps_a_negated_value_and_abstains_on_related_rows_it_cannot_place() {
    let (g, _) = generator("chinook").await;
    let answers = super::converse(&g, &["list customers", "what about those not in Canada"]);
    assert_eq!(
        answers[1].as_deref().expect("answers"),
        "SELECT FirstName, LastName FROM Customer WHERE Country <> 'Canada'"
    );
    let answers = super::converse(
        &g,
        &[
            "How many customers are there?",
            "only those without invoices",
        ],
    );
    match &answers[1] {
        Err(Error::CannotAnswer { message, .. }) => {
            assert!(message.contains("whose Invoice rows"), "{message}");
        }
        other => panic!("expected an abstention, got {other:?}"),
    }
}
