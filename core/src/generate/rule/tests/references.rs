//! Turns that refer back ("their", "these", "of those", "them") keep the previous answer's
//! scope, on the demo database and on Sakila and Northwind; the rules abstain when they cannot
//! tell what the pronoun stands for.

use super::{converse, converse_keeping_unanswered, generator, same_result};

/// Runs `turns` and checks the last answer against `gold` by execution accuracy.
async fn last_matches(db: &str, turns: &[&str], gold: &str) -> String {
    let (g, exec) = generator(db).await;
    let answers = converse(&g, turns);
    let sql = match answers.last() {
        Some(Ok(s)) => s.clone(),
        other => panic!("{turns:?}: the last turn was not answered: {other:?}"),
    };
    assert!(
        same_result(&exec, &sql, gold).await,
        "{turns:?}\npredicted {sql}\ngold {gold}"
    );
    sql
}

fn abstains(answers: &[Result<String, crate::Error>], why: &str) {
    match answers.last() {
        Some(Err(e)) => assert!(e.to_string().contains(why), "{e}"),
        other => panic!("expected an abstention ({why}), got {other:?}"),
    }
}

#[tokio::test]
async fn their_columns_keep_the_previous_conditions() {
    let sql = last_matches(
        "chinook",
        &["List the customers in Canada", "What are their emails?"],
        "SELECT Email FROM Customer WHERE Country = 'Canada'",
    )
    .await;
    assert!(sql.contains("Email") && sql.contains("'Canada'"), "{sql}");
    last_matches(
        "northwind",
        &["Show the products in the Beverages category", "What are their unit prices?"],
        "SELECT p.UnitPrice FROM Products p JOIN Categories c ON p.CategoryID = c.CategoryID WHERE c.CategoryName = 'Beverages'",
    )
    .await;
}

#[tokio::test]
async fn which_of_them_ranks_the_previous_rows_by_related_rows() {
    let sql = last_matches(
        "chinook",
        &[
            "List the customers in Canada",
            "Which of them spent the most?",
        ],
        "SELECT c.FirstName, c.LastName FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId \
         WHERE c.Country = 'Canada' GROUP BY c.CustomerId ORDER BY sum(i.Total) DESC LIMIT 1",
    )
    .await;
    assert!(
        sql.contains("WHERE Customer.Country = 'Canada'") && sql.ends_with("LIMIT 1"),
        "{sql}"
    );
    last_matches(
        "northwind",
        &[
            "List the customers in Germany",
            "Which of them placed the most orders?",
        ],
        "SELECT c.CompanyName FROM Customers c JOIN Orders o ON o.CustomerID = c.CustomerID \
         WHERE c.Country = 'Germany' GROUP BY c.CustomerID ORDER BY count(*) DESC LIMIT 1",
    )
    .await;
}

#[tokio::test]
async fn each_of_them_groups_by_the_previous_entity() {
    last_matches(
        "chinook",
        &[
            "Show the albums by AC/DC",
            "How many tracks does each of them have?",
        ],
        "SELECT al.Title, count(*) FROM Album al JOIN Artist ar ON al.ArtistId = ar.ArtistId \
         JOIN Track t ON t.AlbumId = al.AlbumId WHERE ar.Name = 'AC/DC' GROUP BY al.AlbumId",
    )
    .await;
}

#[tokio::test]
async fn counting_and_superlatives_of_the_previous_rows() {
    last_matches(
        "chinook",
        &["Which tracks are in the Jazz genre?", "How many are there?"],
        "SELECT count(*) FROM Track t JOIN Genre g ON t.GenreId = g.GenreId WHERE g.Name = 'Jazz'",
    )
    .await;
    last_matches(
        "chinook",
        &[
            "Which tracks are in the Jazz genre?",
            "Which of these is the longest?",
        ],
        "SELECT t.Name FROM Track t JOIN Genre g ON t.GenreId = g.GenreId WHERE g.Name = 'Jazz' \
         ORDER BY t.Milliseconds DESC LIMIT 1",
    )
    .await;
    last_matches(
        "sakila",
        &["Which films are rated PG?", "How many are there?"],
        "SELECT count(*) FROM film WHERE rating = 'PG'",
    )
    .await;
    // A count, then its rows listed.
    last_matches(
        "sakila",
        &["How many films are rated PG?", "What are their titles?"],
        "SELECT title FROM film WHERE rating = 'PG'",
    )
    .await;
}

#[tokio::test]
async fn of_those_adds_a_condition_and_order_them_sorts() {
    last_matches(
        "chinook",
        &[
            "List the employees",
            "Which of them live in Calgary?",
            "What are their titles?",
        ],
        "SELECT Title FROM Employee WHERE City = 'Calgary'",
    )
    .await;
    let sql = last_matches(
        "chinook",
        &[
            "Which customers are from Brazil?",
            "Order them by last name",
        ],
        "SELECT FirstName, LastName FROM Customer WHERE Country = 'Brazil' ORDER BY LastName",
    )
    .await;
    assert!(!sql.contains("GROUP BY"), "{sql}");
    let (g, _) = generator("chinook").await;
    let a = converse(
        &g,
        &[
            "Show the artists",
            "Order them by the number of albums in descending order",
        ],
    );
    let sql = a.last().and_then(|r| r.as_ref().ok()).expect("answered");
    assert!(
        sql.contains("GROUP BY Artist.ArtistId") && sql.contains("ORDER BY COUNT(*) DESC"),
        "{sql}"
    );
}

#[tokio::test]
async fn the_same_for_repeats_the_previous_question() {
    last_matches(
        "chinook",
        &[
            "How many invoices were billed in Germany?",
            "The same for France",
        ],
        "SELECT count(*) FROM Invoice WHERE BillingCountry = 'France'",
    )
    .await;
}

#[tokio::test]
async fn unclear_references_abstain() {
    let (g, _) = generator("chinook").await;
    // A table related to itself.
    abstains(
        &converse(
            &g,
            &["List the employees in Calgary", "Who do they report to?"],
        ),
        "relates Employee rows to other Employee rows",
    );
    // Narrowing a ranking would need the ranking as a subquery.
    abstains(
        &converse(
            &g,
            &[
                "Top 5 customers by number of invoices",
                "Which of them has the most tracks?",
            ],
        ),
        "refers to in the previous answer",
    );
    // A column of a table the previous answer does not read.
    abstains(
        &converse(&g, &["List the albums by AC/DC", "What are their emails?"]),
        "is not part of it",
    );
    // A pronoun after an answer the rules did not write.
    let earlier = super::turn(
        "Which artists sell best?",
        &crate::generate::Generation {
            sql: "SELECT Name FROM Artist".into(),
            explanation: String::new(),
            state: None,
            degraded: None,
            clarification: None,
        },
    );
    let e = g
        .answer("What are their names?", &[earlier])
        .expect_err("abstains");
    assert!(e.to_string().contains("did not write"), "{e}");
}

#[tokio::test]
async fn a_pronoun_with_its_antecedent_in_the_question_starts_a_new_question() {
    let (g, _) = generator("chinook").await;
    // "their" refers to "customers" of the same question: the earlier filter is not kept.
    let a = converse(
        &g,
        &[
            "List the customers in Canada",
            "Show the employees and their titles",
        ],
    );
    let sql = a.last().and_then(|r| r.as_ref().ok()).expect("answered");
    assert!(!sql.contains("Canada") && sql.contains("Title"), "{sql}");
}

#[tokio::test]
async fn in_total_asks_for_one_figure_over_the_previous_rows() {
    last_matches(
        "chinook",
        &[
            "Show the customers from Germany",
            "How many invoices do they have in total?",
        ],
        "SELECT count(*) FROM Invoice i JOIN Customer c ON i.CustomerId = c.CustomerId WHERE c.Country = 'Germany'",
    )
    .await;
    // Without "in total": one figure per customer.
    let sql = last_matches(
        "chinook",
        &["Show the customers from Germany", "How many invoices do they have?"],
        "SELECT c.FirstName, c.LastName, count(*) FROM Invoice i JOIN Customer c ON i.CustomerId = c.CustomerId \
         WHERE c.Country = 'Germany' GROUP BY c.CustomerId",
    )
    .await;
    assert!(sql.contains("GROUP BY Customer.CustomerId"), "{sql}");
}

#[tokio::test]
async fn they_after_a_table_name_still_refers_back() {
    let (g, _) = generator("chinook").await;
    // "tracks" comes before "they", but "they" is the genres of the previous answer: the
    // answer must not drop the previous condition and count every track. The previous
    // answer already shows each genre's number of tracks.
    let a = converse(
        &g,
        &[
            "Which genres have more than 100 tracks?",
            "How many tracks do they have?",
        ],
    );
    let sql = a.last().and_then(|r| r.as_ref().ok()).expect("answered");
    assert!(sql.contains("HAVING COUNT(*) > 100"), "{sql}");
    // Then the fewest of them.
    let a = converse(
        &g,
        &[
            "Which genres have more than 100 tracks?",
            "How many tracks do they have?",
            "Which of them has the fewest?",
        ],
    );
    let sql = a.last().and_then(|r| r.as_ref().ok()).expect("answered");
    assert!(
        sql.contains("HAVING COUNT(*) > 100") && sql.ends_with("ORDER BY COUNT(*) ASC LIMIT 1"),
        "{sql}"
    );
    // Another value of theirs needs the ranking as a subquery: the rules abstain.
    abstains(
        &converse(
            &g,
            &[
                "Which genres have more than 100 tracks?",
                "What is the average length of their tracks?",
            ],
        ),
        "refers to in the previous answer",
    );
}

#[tokio::test]
async fn after_an_unanswered_question_a_reference_or_a_cue_abstains() {
    let (g, _) = generator("sakila").await;
    // The second question is not answered: "how many are there?" must not count the first
    // answer's rows as if the asker had not narrowed them.
    let a = converse_keeping_unanswered(
        &g,
        &[
            "Which films are rated PG?",
            "Of those, which were never rented?",
            "What are their titles?",
        ],
    );
    assert!(a[0].is_ok() && a[1].is_err(), "{a:?}");
    abstains(&a, "was not answered");
    let a = converse_keeping_unanswered(
        &g,
        &[
            "Which films are rated PG?",
            "Of those, which were never rented?",
            "Only in 2005",
        ],
    );
    abstains(&a, "was not answered");
    // A whole new question is answered.
    let a = converse_keeping_unanswered(
        &g,
        &[
            "Which films are rated PG?",
            "Of those, which were never rented?",
            "How many films are in the Comedy category?",
        ],
    );
    assert!(a[2].is_ok(), "{a:?}");
}

#[tokio::test]
async fn how_many_of_them_counts_the_previous_rows_or_abstains() {
    let (g, _) = generator("northwind").await;
    // "in stock" is not a condition the rules read: no total of the stock instead.
    abstains(
        &converse(
            &g,
            &[
                "Which products are in the Beverages category?",
                "How many of those are in stock?",
            ],
        ),
        "how many of the previous answer's rows",
    );
    last_matches(
        "northwind",
        &[
            "Which products are in the Beverages category?",
            "How many of them cost more than 20?",
        ],
        "SELECT count(*) FROM Products p JOIN Categories c ON p.CategoryID = c.CategoryID \
         WHERE c.CategoryName = 'Beverages' AND p.UnitPrice > 20",
    )
    .await;
}

#[tokio::test]
async fn listings_under_a_condition_on_related_rows_show_each_row_once() {
    let sql = last_matches(
        "northwind",
        &["Which customers are in London?", "Which of them ordered in 1996?"],
        "SELECT DISTINCT c.CompanyName FROM Customers c JOIN Orders o ON o.CustomerID = c.CustomerID \
         WHERE c.City = 'London' AND strftime('%Y', o.OrderDate) = '1996'",
    )
    .await;
    assert!(sql.starts_with("SELECT DISTINCT"), "{sql}");
    // A count, then the counted rows listed by their names with the column asked for.
    last_matches(
        "sakila",
        &[
            "How many films are in the Horror category?",
            "List those films with their rental rate",
        ],
        "SELECT f.title, f.rental_rate FROM film f JOIN film_category fc ON f.film_id = fc.film_id \
         JOIN category c ON fc.category_id = c.category_id WHERE c.name = 'Horror'",
    )
    .await;
}

#[tokio::test]
async fn a_hostile_value_in_a_turn_that_refers_back_stays_a_value() {
    let (g, db) = generator("chinook").await;
    let a = converse(
        &g,
        &[
            "List the customers in Canada",
            "Of those, which live in the city 'x'' OR ''1''=''1'?",
        ],
    );
    // The text never becomes SQL: the answer keeps the previous condition, passed the
    // validator (in `converse`), and finds no city of that name.
    let sql = a.last().and_then(|r| r.as_ref().ok()).expect("answered");
    assert!(sql.contains("'Canada'"), "{sql}");
    let rows = db.execute(sql).await.expect("runs").rows;
    assert!(rows.is_empty(), "{sql}: {rows:?}");
    let a = converse(
        &g,
        &[
            "List the customers in Canada",
            "What are their emails; DROP TABLE Customer; --",
        ],
    );
    abstains(&a, "DROP");
}
