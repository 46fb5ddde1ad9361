//! One test per grammar construction, on Chinook, Northwind and Sakila: the SQL the rules
//! write and, where it matters, the rows it returns.

use std::sync::Arc;

use super::{abstains, generator, same_result, sql};
use crate::{dialect::Dialect, error::ErrorKind, exec::Value, generate::rule::RuleGenerator};

#[tokio::test]
async fn counts() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "How many artists are there?");
    assert_eq!(s, "SELECT COUNT(*) AS count FROM Artist");
    let rows = db.execute(&s).await.expect("runs").rows;
    assert_eq!(rows, vec![vec![Value::Int(275)]]);
    let s = sql(&g, "How many different countries do customers come from?");
    assert_eq!(
        s,
        "SELECT COUNT(DISTINCT Country) AS distinct_country FROM Customer"
    );
    let (g, _) = generator("northwind").await;
    assert_eq!(
        sql(&g, "How many products are there?"),
        "SELECT COUNT(*) AS count FROM Products"
    );
}

#[tokio::test]
async fn a_count_said_twice_is_one_count() {
    let (g, _) = generator("chinook").await;
    for q in [
        "Count the number of artists.",
        "Compute the number of artists.",
        "Count the number of all artists.",
    ] {
        assert_eq!(sql(&g, q), "SELECT COUNT(*) AS count FROM Artist", "{q}");
    }
    assert_eq!(
        sql(
            &g,
            "Count the number of different countries across all customers."
        ),
        "SELECT COUNT(DISTINCT Country) AS distinct_country FROM Customer"
    );
}

#[tokio::test]
async fn ids_name_the_key() {
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "What are the ids of all genres?"),
        sql(&g, "What is the id of all genres?")
    );
    assert!(sql(&g, "List the ids of all genres.").contains("GenreId"));
}

#[tokio::test]
async fn aggregates() {
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "What is the total of all invoices?"),
        "SELECT SUM(Total) AS total FROM Invoice"
    );
    assert_eq!(
        sql(&g, "What is the average invoice total?"),
        "SELECT AVG(Total) AS average_total FROM Invoice"
    );
    assert_eq!(
        sql(&g, "What is the maximum invoice total?"),
        "SELECT MAX(Total) AS max_total FROM Invoice"
    );
    let (g, _) = generator("sakila").await;
    assert_eq!(
        sql(&g, "Minimum film length"),
        "SELECT MIN(length) AS min_length FROM film"
    );
    let (g, _) = generator("northwind").await;
    let s = sql(&g, "Average unit price per category");
    assert!(
        s.starts_with("SELECT Categories.CategoryName, AVG(Products.UnitPrice)"),
        "{s}"
    );
    assert!(
        s.contains("GROUP BY Categories.CategoryID, Categories.CategoryName"),
        "{s}"
    );
}

#[tokio::test]
async fn grouping_by_columns_entities_and_foreign_keys() {
    let (g, db) = generator("chinook").await;
    assert_eq!(
        sql(&g, "Number of customers per country"),
        "SELECT Country, COUNT(*) AS count FROM Customer GROUP BY Country"
    );
    // Money is summed where it is recorded: sales by billing country use Invoice.Total.
    assert_eq!(
        sql(&g, "Total sales by country"),
        "SELECT BillingCountry, SUM(Total) AS total FROM Invoice GROUP BY BillingCountry"
    );
    let s = sql(
        &g,
        "How many customers does each support representative have?",
    );
    assert!(
        s.contains("JOIN Employee ON Customer.SupportRepId = Employee.EmployeeId"),
        "{s}"
    );
    assert!(
        s.starts_with("SELECT Employee.FirstName, Employee.LastName, COUNT(*)"),
        "{s}"
    );
    let s = sql(&g, "Total revenue per media type");
    assert!(
        s.contains("SUM(InvoiceLine.UnitPrice * InvoiceLine.Quantity)"),
        "{s}"
    );
    assert!(
        same_result(&db, &s, "SELECT m.Name, sum(il.UnitPrice * il.Quantity) FROM InvoiceLine il JOIN Track t ON il.TrackId = t.TrackId JOIN MediaType m ON t.MediaTypeId = m.MediaTypeId GROUP BY m.Name").await
    );
    let (g, _) = generator("northwind").await;
    let s = sql(&g, "How many products for each category?");
    assert!(s.contains("GROUP BY Categories.CategoryID"), "{s}");
}

#[tokio::test]
async fn rankings() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "Top 5 artists by number of albums");
    assert!(s.ends_with("ORDER BY COUNT(*) DESC LIMIT 5"), "{s}");
    let s = sql(&g, "Which artist has the most tracks?");
    assert!(
        s.contains("JOIN Album") && s.contains("JOIN Artist") && s.ends_with("LIMIT 1"),
        "{s}"
    );
    let rows = db.execute(&s).await.expect("runs").rows;
    assert_eq!(rows[0][0], Value::Text("Iron Maiden".into()));
    let s = sql(&g, "Which customer spent the most?");
    assert!(
        s.contains("SUM(Invoice.Total)") && s.ends_with("DESC LIMIT 1"),
        "{s}"
    );
    let (g, _) = generator("northwind").await;
    let s = sql(&g, "Which supplier has the most products?");
    assert!(
        s.starts_with("SELECT Suppliers.CompanyName, COUNT(*)"),
        "{s}"
    );
    let (g, _) = generator("sakila").await;
    let s = sql(&g, "Top 5 customers by total payments");
    assert!(
        s.contains("SUM(payment.amount)") && s.ends_with("LIMIT 5"),
        "{s}"
    );
}

#[tokio::test]
async fn filters_on_grounded_values() {
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "How many customers live in Canada?"),
        "SELECT COUNT(*) AS count FROM Customer WHERE Country = 'Canada'"
    );
    let s = sql(&g, "How many tracks are in the Jazz genre?");
    assert!(
        s.contains("JOIN Genre ON Track.GenreId = Genre.GenreId WHERE Genre.Name = 'Jazz'"),
        "{s}"
    );
    let s = sql(&g, "List the albums by Led Zeppelin");
    assert!(
        s.starts_with("SELECT Album.Title FROM Album JOIN Artist"),
        "{s}"
    );
    assert!(s.ends_with("WHERE Artist.Name = 'Led Zeppelin'"), "{s}");
    // Values are found without their accents.
    assert_eq!(
        sql(&g, "Customers in Sao Paulo"),
        "SELECT FirstName, LastName FROM Customer WHERE City = 'São Paulo'"
    );
    let s = sql(&g, "How many Rock tracks are there?");
    assert!(s.ends_with("WHERE Genre.Name = 'Rock'"), "{s}");
    let (g, _) = generator("sakila").await;
    let s = sql(&g, "List the films in the Comedy category");
    assert!(
        s.contains("JOIN category") && s.ends_with("category.name = 'Comedy'"),
        "{s}"
    );
    let s = sql(&g, "How many customers are in Canada?");
    assert!(
        s.contains("JOIN country") && s.ends_with("country.country = 'Canada'"),
        "{s}"
    );
}

#[tokio::test]
async fn comparisons_and_dates() {
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "How many tracks are longer than 5 minutes?"),
        "SELECT COUNT(*) AS count FROM Track WHERE Milliseconds > 300000"
    );
    assert_eq!(
        sql(&g, "Invoices with a total above 20"),
        "SELECT InvoiceId FROM Invoice WHERE Total > 20"
    );
    assert_eq!(
        sql(&g, "Invoices with a total between 10 and 20"),
        "SELECT InvoiceId FROM Invoice WHERE Total BETWEEN 10 AND 20"
    );
    assert_eq!(
        sql(&g, "How many invoices were issued in 2023?"),
        "SELECT COUNT(*) AS count FROM Invoice WHERE strftime('%Y', InvoiceDate) = '2023'"
    );
    assert_eq!(
        sql(&g, "How many invoices before 2022?"),
        "SELECT COUNT(*) AS count FROM Invoice WHERE InvoiceDate < '2022-01-01'"
    );
    assert_eq!(
        sql(&g, "How many invoices in March 2024?"),
        "SELECT COUNT(*) AS count FROM Invoice WHERE strftime('%Y-%m', InvoiceDate) = '2024-03'"
    );
    let s = sql(&g, "How many invoices between 2021 and 2022?");
    assert!(
        s.ends_with("InvoiceDate >= '2021-01-01' AND InvoiceDate < '2023-01-01'"),
        "{s}"
    );
}

#[tokio::test]
async fn time_buckets_in_every_dialect() {
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "Total sales per year"),
        "SELECT strftime('%Y', InvoiceDate) AS \"year\", SUM(Total) AS total FROM Invoice GROUP BY strftime('%Y', InvoiceDate) ORDER BY strftime('%Y', InvoiceDate)"
    );
    let s = sql(&g, "Number of invoices per month in 2024");
    assert!(s.starts_with("SELECT strftime('%m', InvoiceDate)"), "{s}");
    let s = sql(&g, "Number of invoices by month");
    assert!(
        s.starts_with("SELECT strftime('%Y-%m', InvoiceDate)"),
        "{s}"
    );
    // Northwind has a view named "Summary of Sales by Year": "per year" is still a period, and
    // money is read from the base table, not from views that repeat it.
    let (nw, _) = generator("northwind").await;
    let s = sql(&nw, "Number of orders per year");
    assert!(
        s.starts_with("SELECT strftime('%Y', OrderDate) AS \"year\", COUNT(*)"),
        "{s}"
    );
    let s = sql(&nw, "Total sales per category");
    assert!(
        s.contains("SUM(\"Order Details\".UnitPrice * \"Order Details\".Quantity)"),
        "{s}"
    );
    let file = crate::testdb::open("chinook").await;
    let catalog = file.catalog().await.expect("catalog");
    for (dialect, bucket, year) in [
        (
            Dialect::Postgres,
            "to_char(\"InvoiceDate\", 'YYYY-MM')",
            "EXTRACT(YEAR FROM \"InvoiceDate\") = 2024",
        ),
        (
            Dialect::Mysql,
            "DATE_FORMAT(InvoiceDate, '%Y-%m')",
            "YEAR(InvoiceDate) = 2024",
        ),
    ] {
        let mut c = catalog.clone();
        c.dialect = dialect;
        let g = RuleGenerator::new(Arc::new(c), g.values().clone());
        let s = sql(&g, "Number of invoices by month");
        assert!(s.contains(bucket), "{s}");
        let s = sql(&g, "How many invoices in 2024?");
        assert!(s.contains(year), "{s}");
    }
}

#[tokio::test]
async fn ordering_and_listing() {
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "The 10 longest tracks"),
        "SELECT Name, Milliseconds FROM Track ORDER BY Milliseconds DESC LIMIT 10"
    );
    assert_eq!(
        sql(&g, "Which employees work in Calgary?"),
        "SELECT FirstName, LastName FROM Employee WHERE City = 'Calgary'"
    );
    assert_eq!(
        sql(&g, "List the names of all media types."),
        "SELECT Name FROM MediaType"
    );
    let s = sql(&g, "List the employees sorted by hire date");
    assert!(s.ends_with("ORDER BY HireDate ASC"), "{s}");
    let (g, _) = generator("northwind").await;
    assert_eq!(
        sql(&g, "The 3 most expensive products"),
        "SELECT ProductName, UnitPrice FROM Products ORDER BY UnitPrice DESC LIMIT 3"
    );
    let (g, _) = generator("sakila").await;
    assert_eq!(
        sql(&g, "The 5 longest films"),
        "SELECT title, length FROM film ORDER BY length DESC LIMIT 5"
    );
}

#[tokio::test]
async fn abstains_instead_of_guessing() {
    let (g, _) = generator("chinook").await;
    let unknown = abstains(&g, "What is the meaning of life?");
    assert!(unknown.contains(&"meaning".to_string()), "{unknown:?}");
    let unknown = abstains(&g, "Which customers did not buy anything?");
    assert!(!unknown.is_empty(), "{unknown:?}");
    // An average of totals per customer, not of a column: beyond the rules.
    abstains(&g, "Which customers spent more than the average?");
    let e = g
        .answer("How many wombats are there?", &[])
        .expect_err("abstains");
    assert_eq!(e.kind(), ErrorKind::CannotAnswer);
    assert!(!e.is_retryable());
    // A table related to itself (`Employee.ReportsTo`) is beyond the rules.
    abstains(&g, "Which employees report to Andrew Adams?");
    // Two sort directions, or a ranking sorted the other way, are two questions.
    abstains(&g, "List the 3 longest tracks sorted ascending");
    let (g, _) = generator("sakila").await;
    // The length column does not say whether it holds minutes or seconds.
    abstains(&g, "Films longer than 3 hours");
}

#[tokio::test]
async fn top_n_rows_by_a_number_rank_the_rows() {
    // "by" a number after the ranked table: the rows by that number, not a grouping by it.
    let (g, db) = generator("northwind").await;
    let s = sql(&g, "Top 5 products by unit price");
    assert!(!s.contains("GROUP BY"), "{s}");
    assert!(
        same_result(
            &db,
            &s,
            "SELECT ProductName FROM Products ORDER BY UnitPrice DESC LIMIT 5"
        )
        .await,
        "{s}"
    );
    // A number of related rows: per product in total, or row by row? The rules do not guess.
    abstains(&g, "Top 5 products by quantity sold");
    let (g, _) = generator("chinook").await;
    let s = sql(&g, "Top 3 tracks by unit price");
    assert!(s.ends_with("ORDER BY UnitPrice DESC LIMIT 3"), "{s}");
    // A grouping by a category stays a grouping.
    let s = sql(&g, "Top 5 genres by number of tracks");
    assert!(s.contains("GROUP BY Genre.GenreId"), "{s}");
}

#[tokio::test]
async fn an_abbreviation_written_in_capitals_is_not_a_pronoun() {
    // "US" is no value of Chinook (its countries say "USA"): the rules must not drop the
    // condition by reading the pronoun "us".
    let (g, _) = generator("chinook").await;
    let unknown = abstains(&g, "How many customers are from the US?");
    assert_eq!(unknown, ["US"]);
    let s = sql(&g, "How many customers are from the USA?");
    assert!(s.ends_with("WHERE Country = 'USA'"), "{s}");
}

#[tokio::test]
async fn or_between_pairs_of_values_abstains() {
    let (g, _) = generator("chinook").await;
    // Two lists of alternatives would also match a customer in Paris, Germany.
    abstains(&g, "Customers in Paris, France or in Berlin, Germany");
    // One list of alternatives is read.
    let s = sql(&g, "Customers in France or Germany");
    assert!(s.contains("IN ('France', 'Germany')"), "{s}");
}
