//! Validator latency on typical analytic queries over the Chinook schema.
//!
//! Criterion reports per-query times; afterwards a plain measurement over many iterations of
//! the whole query mix prints p50 and p99 of a single `validate` call. Runs on mimalloc, the
//! allocator of the `heliosdb-conversational-bi` binary.

#![allow(missing_docs)]

use std::{
    hint::black_box,
    sync::Arc,
    time::{Duration, Instant},
};

use conversational_bi::{
    Catalog, Dialect,
    catalog::TableKind,
    sql::{Validator, ValidatorOptions},
};
use criterion::Criterion;
use sqlparser::{dialect::SQLiteDialect, parser::Parser};

// The allocator of the shipped binary, so that the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CHINOOK: &[(&str, &[&str])] = &[
    ("Album", &["AlbumId", "Title", "ArtistId"]),
    ("Artist", &["ArtistId", "Name"]),
    (
        "Customer",
        &[
            "CustomerId",
            "FirstName",
            "LastName",
            "Company",
            "Address",
            "City",
            "State",
            "Country",
            "PostalCode",
            "Phone",
            "Fax",
            "Email",
            "SupportRepId",
        ],
    ),
    (
        "Employee",
        &[
            "EmployeeId",
            "LastName",
            "FirstName",
            "Title",
            "ReportsTo",
            "BirthDate",
            "HireDate",
            "Address",
            "City",
            "State",
            "Country",
            "PostalCode",
            "Phone",
            "Fax",
            "Email",
        ],
    ),
    ("Genre", &["GenreId", "Name"]),
    (
        "Invoice",
        &[
            "InvoiceId",
            "CustomerId",
            "InvoiceDate",
            "BillingAddress",
            "BillingCity",
            "BillingState",
            "BillingCountry",
            "BillingPostalCode",
            "Total",
        ],
    ),
    (
        "InvoiceLine",
        &[
            "InvoiceLineId",
            "InvoiceId",
            "TrackId",
            "UnitPrice",
            "Quantity",
        ],
    ),
    ("MediaType", &["MediaTypeId", "Name"]),
    ("Playlist", &["PlaylistId", "Name"]),
    ("PlaylistTrack", &["PlaylistId", "TrackId"]),
    (
        "Track",
        &[
            "TrackId",
            "Name",
            "AlbumId",
            "MediaTypeId",
            "GenreId",
            "Composer",
            "Milliseconds",
            "Bytes",
            "UnitPrice",
        ],
    ),
];

const QUERIES: &[(&str, &str)] = &[
    ("count", "SELECT count(*) FROM Invoice"),
    (
        "filter",
        "SELECT FirstName, LastName FROM Customer WHERE Country = 'Brazil' ORDER BY LastName",
    ),
    (
        "group_by",
        "SELECT BillingCountry, count(*) AS n, sum(Total) AS revenue FROM Invoice GROUP BY BillingCountry ORDER BY revenue DESC LIMIT 10",
    ),
    (
        "join2",
        "SELECT c.FirstName, c.LastName, sum(i.Total) AS spent FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId GROUP BY c.CustomerId ORDER BY spent DESC LIMIT 5",
    ),
    (
        "join4",
        "SELECT g.Name AS genre, sum(il.UnitPrice * il.Quantity) AS revenue FROM InvoiceLine il JOIN Track t ON t.TrackId = il.TrackId JOIN Genre g ON g.GenreId = t.GenreId JOIN Invoice i ON i.InvoiceId = il.InvoiceId WHERE i.InvoiceDate >= '2012-01-01' GROUP BY g.Name ORDER BY revenue DESC",
    ),
    (
        "join5",
        "SELECT ar.Name, al.Title, t.Name, m.Name, g.Name FROM Track t JOIN Album al ON al.AlbumId = t.AlbumId JOIN Artist ar ON ar.ArtistId = al.ArtistId JOIN MediaType m ON m.MediaTypeId = t.MediaTypeId JOIN Genre g ON g.GenreId = t.GenreId WHERE t.Milliseconds > 300000",
    ),
    (
        "having",
        "SELECT a.Name, count(al.AlbumId) AS albums FROM Artist a JOIN Album al ON al.ArtistId = a.ArtistId GROUP BY a.Name HAVING count(al.AlbumId) > 3 ORDER BY albums DESC",
    ),
    (
        "in_subquery",
        "SELECT Name FROM Track WHERE TrackId IN (SELECT TrackId FROM InvoiceLine GROUP BY TrackId HAVING sum(Quantity) > 1)",
    ),
    (
        "exists",
        "SELECT c.Email FROM Customer c WHERE EXISTS (SELECT 1 FROM Invoice i WHERE i.CustomerId = c.CustomerId AND i.Total > 20)",
    ),
    (
        "correlated",
        "SELECT t.Name, (SELECT count(*) FROM PlaylistTrack pt WHERE pt.TrackId = t.TrackId) AS playlists FROM Track t ORDER BY playlists DESC LIMIT 20",
    ),
    (
        "cte",
        "WITH sales AS (SELECT i.CustomerId, sum(i.Total) AS total FROM Invoice i GROUP BY i.CustomerId) SELECT c.Country, avg(s.total) AS avg_total FROM sales s JOIN Customer c ON c.CustomerId = s.CustomerId GROUP BY c.Country ORDER BY avg_total DESC",
    ),
    (
        "cte2",
        "WITH monthly AS (SELECT strftime('%Y-%m', InvoiceDate) AS month, sum(Total) AS revenue FROM Invoice GROUP BY month), ranked AS (SELECT month, revenue, rank() OVER (ORDER BY revenue DESC) AS r FROM monthly) SELECT month, revenue FROM ranked WHERE r <= 3",
    ),
    (
        "window",
        "SELECT CustomerId, InvoiceDate, Total, sum(Total) OVER (PARTITION BY CustomerId ORDER BY InvoiceDate ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running FROM Invoice",
    ),
    (
        "window_lag",
        "SELECT InvoiceId, Total, lag(Total, 1) OVER w AS previous, lead(Total) OVER w AS next FROM Invoice WINDOW w AS (PARTITION BY CustomerId ORDER BY InvoiceDate)",
    ),
    (
        "union",
        "SELECT FirstName, LastName, 'customer' AS kind FROM Customer WHERE Country = 'USA' UNION ALL SELECT FirstName, LastName, 'employee' FROM Employee WHERE Country = 'USA' ORDER BY LastName",
    ),
    (
        "derived",
        "SELECT x.genre, x.tracks FROM (SELECT g.Name AS genre, count(*) AS tracks FROM Track t JOIN Genre g ON g.GenreId = t.GenreId GROUP BY g.Name) AS x WHERE x.tracks > 100 ORDER BY x.tracks DESC",
    ),
    (
        "case",
        "SELECT CASE WHEN Total < 2 THEN 'small' WHEN Total < 10 THEN 'medium' ELSE 'large' END AS bucket, count(*) FROM Invoice GROUP BY bucket",
    ),
    (
        "recursive",
        "WITH RECURSIVE chain(id, boss, depth) AS (SELECT EmployeeId, ReportsTo, 0 FROM Employee WHERE ReportsTo IS NULL UNION ALL SELECT e.EmployeeId, e.ReportsTo, c.depth + 1 FROM Employee e JOIN chain c ON e.ReportsTo = c.id) SELECT id, depth FROM chain ORDER BY depth",
    ),
    (
        "distinct_like",
        "SELECT DISTINCT Composer FROM Track WHERE Composer LIKE '%Jagger%' AND UnitPrice BETWEEN 0.5 AND 1.5 AND Bytes IS NOT NULL",
    ),
    (
        "large",
        "WITH customer_sales AS (SELECT c.CustomerId, c.FirstName || ' ' || c.LastName AS customer, c.Country, sum(il.UnitPrice * il.Quantity) AS revenue, count(DISTINCT i.InvoiceId) AS invoices, min(i.InvoiceDate) AS first_purchase, max(i.InvoiceDate) AS last_purchase FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId JOIN InvoiceLine il ON il.InvoiceId = i.InvoiceId JOIN Track t ON t.TrackId = il.TrackId JOIN Genre g ON g.GenreId = t.GenreId WHERE g.Name IN ('Rock', 'Metal', 'Alternative & Punk', 'Blues', 'Jazz') AND i.InvoiceDate BETWEEN '2010-01-01' AND '2013-12-31' GROUP BY c.CustomerId, customer, c.Country), country_rank AS (SELECT customer, Country, revenue, invoices, first_purchase, last_purchase, rank() OVER (PARTITION BY Country ORDER BY revenue DESC) AS country_position, ntile(4) OVER (ORDER BY revenue DESC) AS quartile, revenue * 1.0 / sum(revenue) OVER (PARTITION BY Country) AS share_of_country FROM customer_sales) SELECT Country, customer, round(revenue, 2) AS revenue, invoices, first_purchase, last_purchase, quartile, round(share_of_country * 100, 1) AS pct FROM country_rank WHERE country_position <= 3 AND (quartile = 1 OR invoices > 5) ORDER BY Country, country_position LIMIT 100",
    ),
];

fn validator() -> Validator {
    let tables = CHINOOK
        .iter()
        .map(|(name, columns)| {
            testkit::catalog::table(name, TableKind::Table, "TEXT", columns, &columns[..1])
        })
        .collect();
    let options = ValidatorOptions {
        max_rows: 1000,
        allowed_tables: vec![],
        denied_columns: vec!["Customer.Phone".into()],
    };
    Validator::new(
        Arc::new(Catalog::new(Dialect::Sqlite, "chinook", tables)),
        options,
    )
}

fn per_query(c: &mut Criterion, v: &Validator) {
    let mut group = c.benchmark_group("validate");
    for (name, sql) in QUERIES {
        group.bench_function(*name, |b| b.iter(|| v.validate(black_box(sql))));
    }
    group.finish();
}

/// p50, p99 and max of `f` over many rounds of the whole query mix.
fn distribution(mut f: impl FnMut(&str)) -> (Duration, Duration, Duration, usize) {
    const ROUNDS: usize = 500;
    let mut samples = Vec::with_capacity(ROUNDS * QUERIES.len());
    for _ in 0..ROUNDS {
        for (_, sql) in QUERIES {
            let start = Instant::now();
            f(black_box(sql));
            samples.push(start.elapsed());
        }
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    (at(0.50), at(0.99), at(1.0), samples.len())
}

/// Prints p50/p99 of single `validate` calls, and of sqlparser's parse alone for reference.
fn percentiles(v: &Validator) {
    let longest = QUERIES.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
    let (p50, p99, max, n) = distribution(|sql| {
        black_box(v.validate(sql)).ok();
    });
    println!(
        "validator latency over {n} calls ({} queries, up to {longest} bytes): p50 = {p50:?}, p99 = {p99:?}, max = {max:?}",
        QUERIES.len()
    );
    let (p50, p99, max, n) = distribution(|sql| {
        black_box(Parser::parse_sql(&SQLiteDialect {}, sql)).ok();
    });
    println!("sqlparser parse alone over {n} calls: p50 = {p50:?}, p99 = {p99:?}, max = {max:?}");
}

fn main() {
    let v = validator();
    for (name, sql) in QUERIES {
        if let Err(e) = v.validate(sql) {
            panic!("benchmark query `{name}` must be accepted: {e}");
        }
    }
    let mut c = Criterion::default().configure_from_args();
    per_query(&mut c, &v);
    c.final_summary();
    percentiles(&v);
}
