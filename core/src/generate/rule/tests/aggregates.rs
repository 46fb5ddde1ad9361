//! Comparisons with an average, whole rows and superlatives within groups, on Chinook,
//! Northwind and Sakila; each with the nearest question the construction must not read.

use super::{abstains, generator, same_result, spider, sql, written_in};
use crate::{
    dialect::Dialect,
    error::Error,
    generate::rule::{QueryIr, RuleGenerator},
};

/// The SQL of `q`'s reading on PostgreSQL and MySQL, each accepted by the validator of that
/// dialect.
fn other_dialects(g: &RuleGenerator, q: &str) -> Vec<String> {
    let generation = g.answer(q, &[]).unwrap_or_else(|e| panic!("{q}: {e}"));
    let state = generation.state.expect("a state");
    let ir = QueryIr::from_state(&state).expect("the rules' state");
    [Dialect::Postgres, Dialect::Mysql]
        .into_iter()
        .map(|d| written_in(&g.catalog.tables, d, &ir))
        .collect()
}

#[tokio::test]
async fn comparisons_with_the_average_of_the_whole_column() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "How many tracks are longer than average?");
    assert_eq!(
        s,
        "SELECT COUNT(*) AS count FROM Track WHERE Milliseconds > (SELECT AVG(Milliseconds) FROM Track)"
    );
    assert!(
        same_result(
            &db,
            &s,
            "SELECT count(*) FROM Track WHERE Milliseconds > (SELECT avg(Milliseconds) FROM Track)"
        )
        .await
    );
    assert_eq!(
        sql(&g, "Which tracks have a unit price above average?"),
        "SELECT Name FROM Track WHERE UnitPrice > (SELECT AVG(UnitPrice) FROM Track)"
    );
    assert_eq!(
        sql(&g, "List the tracks longer than twice the average."),
        "SELECT Name FROM Track WHERE Milliseconds > 2 * (SELECT AVG(Milliseconds) FROM Track)"
    );
    let [pg, my] = other_dialects(&g, "tracks with a unit price below the average unit price")
        .try_into()
        .expect("two dialects");
    assert_eq!(
        pg,
        "SELECT \"Name\" FROM \"Track\" WHERE \"UnitPrice\" < (SELECT AVG(\"UnitPrice\") FROM \"Track\")"
    );
    assert_eq!(
        my,
        "SELECT Name FROM Track WHERE UnitPrice < (SELECT AVG(UnitPrice) FROM Track)"
    );

    // The question's own measure opens it; a column that holds a number is compared.
    assert_eq!(
        sql(
            &g,
            "What is the average unit price of tracks longer than average?"
        ),
        "SELECT AVG(UnitPrice) AS average_unit_price FROM Track WHERE Milliseconds > (SELECT AVG(Milliseconds) FROM Track)"
    );
    assert_eq!(
        sql(
            &g,
            "tracks with more than the average number of milliseconds"
        ),
        "SELECT Name FROM Track WHERE Milliseconds > (SELECT AVG(Milliseconds) FROM Track)"
    );
    let (g, _) = generator("northwind").await;
    assert_eq!(
        sql(&g, "Which products have a unit price above the average?"),
        "SELECT ProductName FROM Products WHERE UnitPrice > (SELECT AVG(UnitPrice) FROM Products)"
    );
    let (g, _) = generator("sakila").await;
    assert_eq!(
        sql(
            &g,
            "the number of films longer than the average for each rating"
        ),
        "SELECT rating, COUNT(*) AS count FROM film WHERE length > (SELECT AVG(length) FROM film) GROUP BY rating"
    );
}

#[tokio::test]
async fn comparisons_with_an_average_the_rules_cannot_write_abstain() {
    let (g, _) = generator("chinook").await;
    for q in [
        // The average of some rows only.
        "tracks with a unit price above the average of Rock tracks",
        // A comparison of sums or counts per customer.
        "customers who spent more than the average",
        "albums with more than the average number of tracks",
        // A grouped average compared with the overall one.
        "genres whose average unit price is above the average",
        "Which genres have an average unit price above the average?",
        // Two different columns.
        "tracks with a unit price above the average milliseconds",
    ] {
        abstains(&g, q);
    }
    // Without an average, "twice" is not a factor of anything.
    abstains(&g, "tracks longer than twice 5 minutes");
}

#[tokio::test]
async fn all_information_lists_every_visible_column() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "Show all information about the genres.");
    assert_eq!(s, "SELECT GenreId, Name FROM Genre");
    assert!(same_result(&db, &s, "SELECT * FROM Genre").await);
    assert_eq!(
        sql(&g, "What is all the information about media types?"),
        "SELECT MediaTypeId, Name FROM MediaType"
    );
    assert_eq!(
        sql(&g, "List all the details of albums sorted by title."),
        "SELECT AlbumId, Title, ArtistId FROM Album ORDER BY Title ASC"
    );
    let (g, _) = generator("northwind").await;
    assert_eq!(
        sql(&g, "all details of shippers"),
        "SELECT ShipperID, CompanyName, Phone FROM Shippers"
    );
    let (g, _) = generator("sakila").await;
    assert_eq!(
        sql(&g, "all information about actors"),
        "SELECT actor_id, first_name, last_name, last_update FROM actor"
    );
}

#[tokio::test]
async fn all_information_with_a_computed_value_or_named_columns_is_not_whole_rows() {
    let (g, _) = generator("chinook").await;
    abstains(&g, "all information about the number of tracks per genre");
    // Named columns are the information asked for.
    assert_eq!(
        sql(&g, "Show the title information of albums."),
        "SELECT Title FROM Album"
    );
}

#[tokio::test]
async fn superlatives_within_each_group_keep_their_rows() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "the most expensive track in each genre");
    assert_eq!(
        s,
        "SELECT Genre.Name, Track.Name, Track.UnitPrice FROM Track JOIN Genre ON Track.GenreId = Genre.GenreId WHERE Track.UnitPrice = (SELECT MAX(peer.UnitPrice) FROM Track AS peer WHERE peer.GenreId = Track.GenreId)"
    );
    assert!(
        same_result(
            &db,
            &s,
            "SELECT g.Name, t.Name, t.UnitPrice FROM Track t JOIN Genre g ON t.GenreId = g.GenreId \
             WHERE t.UnitPrice = (SELECT max(UnitPrice) FROM Track x WHERE x.GenreId = t.GenreId)"
        )
        .await
    );
    let [pg, my] = other_dialects(&g, "the shortest track of every album")
        .try_into()
        .expect("two dialects");
    assert!(
        pg.contains(
            "\"Track\".\"Milliseconds\" = (SELECT MIN(peer.\"Milliseconds\") FROM \"Track\" AS peer WHERE peer.\"AlbumId\" = \"Track\".\"AlbumId\")"
        ),
        "{pg}"
    );
    assert!(
        my.contains(
            "Track.Milliseconds = (SELECT MIN(peer.Milliseconds) FROM Track AS peer WHERE peer.AlbumId = Track.AlbumId)"
        ),
        "{my}"
    );
    let (g, _) = generator("sakila").await;
    assert_eq!(
        sql(&g, "the longest film in each rating"),
        "SELECT rating, title, length FROM film WHERE film.length = (SELECT MAX(peer.length) FROM film AS peer WHERE peer.rating = film.rating)"
    );
    // Over the whole table, a superlative is one row.
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "the longest track"),
        "SELECT Name, Milliseconds FROM Track ORDER BY Milliseconds DESC LIMIT 1"
    );
}

#[tokio::test]
async fn rankings_within_groups_the_rules_cannot_write_abstain() {
    let (g, _) = generator("chinook").await;
    for q in [
        "the 3 longest tracks in each genre",
        "the longest Rock track in each album",
    ] {
        abstains(&g, q);
    }
}

#[tokio::test]
async fn the_oldest_person_without_an_age_has_the_earliest_birth_date() {
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "Who is the oldest employee?"),
        "SELECT FirstName, LastName, BirthDate FROM Employee ORDER BY BirthDate ASC LIMIT 1"
    );
    assert_eq!(
        sql(&g, "the youngest employee"),
        "SELECT FirstName, LastName, BirthDate FROM Employee ORDER BY BirthDate DESC LIMIT 1"
    );
    // Customers have no birth date: not the age of their support representative.
    abstains(&g, "the 2 oldest customers");
    let (g, _) = generator("northwind").await;
    assert_eq!(
        sql(&g, "the youngest employee"),
        "SELECT FirstName, LastName, BirthDate FROM Employees ORDER BY BirthDate DESC LIMIT 1"
    );
}

#[tokio::test]
async fn years_from_one_to_another_are_a_range() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "How many invoices from 2021 to 2023?");
    assert_eq!(
        s,
        "SELECT COUNT(*) AS count FROM Invoice WHERE InvoiceDate >= '2021-01-01' AND InvoiceDate < '2024-01-01'"
    );
    assert!(
        same_result(
            &db,
            &s,
            "SELECT count(*) FROM Invoice WHERE strftime('%Y', InvoiceDate) BETWEEN '2021' AND '2023'"
        )
        .await
    );
    let (g, _) = generator("northwind").await;
    assert_eq!(
        sql(&g, "employees hired from 1992 through 1993"),
        "SELECT FirstName, LastName FROM Employees WHERE HireDate >= '1992-01-01' AND HireDate < '1994-01-01'"
    );
    // Backwards, the two years are no range (nor two years at once).
    let (g, _) = generator("chinook").await;
    abstains(&g, "How many invoices from 2023 to 2021?");
}

#[tokio::test]
async fn percentages_of_rows_and_shares_of_a_total() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "What percentage of customers are in Germany?");
    assert_eq!(
        s,
        "SELECT 100.0 * SUM(CASE WHEN Country = 'Germany' THEN 1 ELSE 0 END) / NULLIF(COUNT(*), 0) AS percentage FROM Customer"
    );
    assert!(
        same_result(
            &db,
            &s,
            "SELECT 100.0 * (SELECT count(*) FROM Customer WHERE Country = 'Germany') / count(*) FROM Customer"
        )
        .await
    );
    let s = sql(&g, "share of revenue by billing country");
    assert_eq!(
        s,
        "SELECT BillingCountry, 100.0 * SUM(Total) / NULLIF((SELECT SUM(Total) FROM Invoice), 0) AS percentage FROM Invoice GROUP BY BillingCountry"
    );
    let [pg, my] = other_dialects(&g, "What percentage of tracks are Rock?")
        .try_into()
        .expect("two dialects");
    assert_eq!(
        pg,
        "SELECT 100.0 * SUM(CASE WHEN \"Genre\".\"Name\" = 'Rock' THEN 1 ELSE 0 END) / NULLIF(COUNT(*), 0) AS percentage FROM \"Track\" JOIN \"Genre\" ON \"Track\".\"GenreId\" = \"Genre\".\"GenreId\""
    );
    assert!(
        my.starts_with("SELECT 100.0 * SUM(CASE WHEN Genre.Name = 'Rock'"),
        "{my}"
    );
    let (g, _) = generator("northwind").await;
    assert_eq!(
        sql(&g, "What percentage of customers are in France?"),
        "SELECT 100.0 * SUM(CASE WHEN Country = 'France' THEN 1 ELSE 0 END) / NULLIF(COUNT(*), 0) AS percentage FROM Customers"
    );
}

#[tokio::test]
async fn percentages_of_nothing_in_particular_abstain() {
    let (g, _) = generator("chinook").await;
    for q in [
        // Of which rows?
        "percentage of tracks",
        // A share of a total with a condition: of which whole?
        "share of revenue in Germany",
        // A percentage of an average.
        "percentage of the average unit price by genre",
    ] {
        abstains(&g, q);
    }
}

#[tokio::test]
async fn the_row_with_the_maximum_is_one_row_ordered() {
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "the name of the track with the maximum unit price"),
        "SELECT Name, UnitPrice FROM Track ORDER BY UnitPrice DESC LIMIT 1"
    );
    // The maximum itself, when no attribute of a row is asked for.
    assert_eq!(
        sql(&g, "What is the maximum unit price of tracks?"),
        "SELECT MAX(UnitPrice) AS max_unit_price FROM Track"
    );
    let (g, _) = generator("northwind").await;
    assert_eq!(
        sql(&g, "the name of the product with the minimum unit price"),
        "SELECT ProductName, UnitPrice FROM Products ORDER BY UnitPrice ASC LIMIT 1"
    );
}

#[tokio::test]
async fn ranges_on_a_column_of_years_or_named_after_the_numbers() {
    let g = spider("gas_company").await;
    assert_eq!(
        sql(&g, "How many gas station are opened between 2000 and 2005?"),
        "SELECT COUNT(*) AS count FROM gas_station WHERE Open_Year BETWEEN 2000 AND 2005"
    );
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "tracks with between 200000 and 210000 milliseconds"),
        "SELECT Name FROM Track WHERE Milliseconds BETWEEN 200000 AND 210000"
    );
    // Years on a date column stay a range of dates.
    assert_eq!(
        sql(&g, "invoices between 2021 and 2023"),
        "SELECT InvoiceId FROM Invoice WHERE InvoiceDate >= '2021-01-01' AND InvoiceDate < '2024-01-01'"
    );
    // Numbers with nothing to range over.
    abstains(&g, "albums between 1 and 2");
}

#[tokio::test]
async fn follow_ups_do_not_drop_a_percentage_or_whole_rows() {
    let (g, _) = generator("chinook").await;
    let first = g.answer("number of tracks by genre", &[]).expect("answers");
    let history = vec![super::turn("number of tracks by genre", &first)];
    for q in [
        "what percentage are longer than average",
        "what about all information",
    ] {
        match g.answer(q, &history) {
            Err(Error::CannotAnswer { .. }) => {}
            other => panic!(
                "{q}: expected an abstention, got {:?}",
                other.map(|a| a.sql)
            ),
        }
    }
    // A comparison with the average is a condition a follow-up adds.
    let next = g
        .answer("only those longer than average", &history)
        .expect("answers");
    assert!(
        next.sql
            .contains("Track.Milliseconds > (SELECT AVG(Milliseconds) FROM Track)"),
        "{}",
        next.sql
    );
}

#[tokio::test]
async fn a_count_of_a_rows_own_column_per_row_abstains() {
    // `Days_held` is text holding numbers: "the lowest number of days held" is the wrestler's
    // own value, not a total per wrestler, and it is ranked as a number.
    let g = spider("wrestler").await;
    assert_eq!(
        sql(
            &g,
            "Return the name of the wrestler who had the lowest number of days held."
        ),
        "SELECT Name, Days_held FROM wrestler ORDER BY CAST(Days_held AS NUMERIC) ASC LIMIT 1"
    );
    // A count of distinct values of a row's own column per row is one each.
    abstains(
        &spider("college_1").await,
        "Which course has the largest number of different course codes?",
    );
    // A count of related rows per wrestler is read.
    let s = sql(&g, "Which wrestler has the most eliminations?");
    assert!(
        s.contains("GROUP BY wrestler.Wrestler_ID") && s.ends_with("LIMIT 1"),
        "{s}"
    );
}
