//! Counts and hashes one by one, on the three databases: what a policy lets a user count equals
//! what trusted queries on the raw data count; a hash stands for its value everywhere (so that
//! joins, `GROUP BY` and `count(DISTINCT ...)` on a hashed column work) without being the
//! value or an unkeyed digest of it.

use std::collections::BTreeMap;

use conversational_bi::{
    Config, DataSource,
    config::Secret,
    exec::{QueryResult, Value},
};
use testkit::db::Backend;

use super::{Env, Outcome, User, View, cell, config, names, users};

async fn rows(view: &View, backend: Backend, sql: &str) -> QueryResult {
    let sql = names(backend, sql);
    match Outcome::of(view.run(&sql).await) {
        Outcome::Rows(_, r) => r,
        other => panic!("{backend:?}: {sql}: {other:?}"),
    }
}

async fn scalar(view: &View, backend: Backend, sql: &str) -> String {
    let r = rows(view, backend, sql).await;
    assert_eq!(r.rows.len(), 1, "{backend:?}: {sql}");
    cell(&r.rows[0][0])
}

async fn raw_scalar(env: &Env, sql: &str) -> String {
    let sql = names(env.backend, sql);
    let (_, r) = env
        .raw
        .run(&sql)
        .await
        .unwrap_or_else(|e| panic!("{:?}: {sql}: {e}", env.backend));
    cell(&r.rows[0][0])
}

fn user(slug: &str) -> User {
    users()
        .into_iter()
        .find(|u| u.slug == slug)
        .unwrap_or_else(|| panic!("no user {slug}"))
}

/// The emails as `view` shows them, by customer id.
async fn emails(view: &View, backend: Backend) -> BTreeMap<String, Value> {
    rows(view, backend, "SELECT CustomerId, Email FROM Customer")
        .await
        .rows
        .into_iter()
        .map(|r| (cell(&r[0]), r[1].clone()))
        .collect()
}

async fn counts(backend: Backend) {
    let env = Env::open(backend).await;
    let known = [(3, 21), (4, 20), (5, 18)];
    for (rep, customers) in known {
        let view = env.view(&user(&format!("rep{rep}"))).await;
        let trusted_customers = raw_scalar(
            &env,
            &format!("SELECT count(*) FROM Customer WHERE SupportRepId = {rep}"),
        )
        .await;
        assert_eq!(trusted_customers, customers.to_string(), "{backend:?}");
        let invoices = format!(
            "FROM Invoice WHERE CustomerId IN (SELECT CustomerId FROM Customer WHERE SupportRepId = {rep})"
        );
        for (seen, trusted) in [
            ("SELECT count(*) FROM Customer", trusted_customers),
            (
                "SELECT count(*) FROM Invoice",
                raw_scalar(&env, &format!("SELECT count(*) {invoices}")).await,
            ),
            (
                "SELECT sum(Total) FROM Invoice",
                raw_scalar(&env, &format!("SELECT sum(Total) {invoices}")).await,
            ),
            (
                "SELECT count(*) FROM InvoiceLine il JOIN Invoice i ON i.InvoiceId = il.InvoiceId",
                raw_scalar(
                    &env,
                    &format!(
                        "SELECT count(*) FROM InvoiceLine WHERE InvoiceId IN (SELECT InvoiceId {invoices})"
                    ),
                )
                .await,
            ),
            (
                "SELECT count(*) FROM InvoiceLine",
                raw_scalar(&env, "SELECT count(*) FROM InvoiceLine").await,
            ),
        ] {
            assert_eq!(
                scalar(&view, backend, seen).await,
                trusted,
                "{backend:?} rep {rep}: {seen}"
            );
        }
    }
    // A list attribute: the customers of those countries, and every invoice.
    let view = env.view(&user("eu")).await;
    assert_eq!(
        scalar(&view, backend, "SELECT count(*) FROM Customer").await,
        raw_scalar(
            &env,
            "SELECT count(*) FROM Customer WHERE Country IN ('Germany', 'France', 'United Kingdom')"
        )
        .await,
        "{backend:?}"
    );
    assert_eq!(
        scalar(&view, backend, "SELECT count(*) FROM Invoice").await,
        "412",
        "{backend:?}"
    );
    // Two roles: the union of their rows.
    let view = env.view(&user("rep3_eu")).await;
    assert_eq!(
        scalar(&view, backend, "SELECT count(*) FROM Customer").await,
        raw_scalar(
            &env,
            "SELECT count(*) FROM Customer WHERE SupportRepId = 3 OR Country IN ('Brazil', 'Germany', 'United Kingdom')"
        )
        .await,
        "{backend:?}"
    );
    // A missing attribute, and attribute values that try to be SQL, grant nothing.
    let view = env.view(&user("rep_noattr")).await;
    for sql in [
        "SELECT count(*) FROM Customer",
        "SELECT count(*) FROM Invoice",
    ] {
        assert_eq!(scalar(&view, backend, sql).await, "0", "{backend:?}: {sql}");
    }
    assert_eq!(
        scalar(&view, backend, "SELECT count(*) FROM Track").await,
        "3503",
        "{backend:?}: other tables are whole"
    );
    let view = env.view(&user("eu_inject")).await;
    assert_eq!(
        scalar(&view, backend, "SELECT count(*) FROM Customer").await,
        raw_scalar(
            &env,
            "SELECT count(*) FROM Customer WHERE Country = 'Portugal'"
        )
        .await,
        "{backend:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_through_the_policy_equal_trusted_counts() {
    for backend in Backend::available() {
        counts(backend).await;
    }
}

async fn hashes(backend: Backend) {
    let env = Env::open(backend).await;
    let rep3 = user("rep3");
    let view = env.view(&rep3).await;
    let trusted_distinct = raw_scalar(
        &env,
        "SELECT count(DISTINCT Email) FROM Customer WHERE SupportRepId = 3",
    )
    .await;
    for (sql, expected) in [
        (
            "SELECT count(DISTINCT Email) FROM Customer",
            trusted_distinct.as_str(),
        ),
        (
            "SELECT count(*) FROM Customer a JOIN Customer b ON a.Email = b.Email",
            "21",
        ),
        (
            "SELECT count(*) FROM Customer a JOIN Customer b ON a.Email = b.Email AND a.CustomerId <> b.CustomerId",
            "0",
        ),
        (
            "SELECT count(*) FROM (SELECT Email FROM Customer GROUP BY Email) g",
            "21",
        ),
        (
            "WITH h AS (SELECT CustomerId, Email FROM Customer) SELECT count(*) FROM h JOIN Customer c ON c.Email = h.Email AND c.CustomerId = h.CustomerId",
            "21",
        ),
        ("SELECT count(DISTINCT Phone) FROM Customer", "0"),
        (
            "SELECT count(*) FROM Customer WHERE Email = 'luisg@embraer.com.br'",
            "0",
        ),
    ] {
        assert_eq!(
            scalar(&view, backend, sql).await,
            expected,
            "{backend:?}: {sql}"
        );
    }
    // The hash is applied before WHERE: a customer is found by its hash, not by its email.
    let shown = emails(&view, backend).await;
    let Some(Value::Text(hash)) = shown.get("1") else {
        panic!("{backend:?}: customer 1 is rep 3's: {shown:?}");
    };
    let by_hash = format!(
        "SELECT CustomerId FROM Customer WHERE Email = {}",
        backend.dialect().quote_string(hash)
    );
    assert_eq!(scalar(&view, backend, &by_hash).await, "1", "{backend:?}");
    assert!(!hash.contains('@'), "{backend:?}: {hash}");
    // The same value has the same hash in every statement, view and source with this key.
    let again = env.view(&rep3).await;
    assert_eq!(emails(&again, backend).await, shown, "{backend:?}");
    let other_source = Env::open(backend).await;
    assert_eq!(
        emails(&other_source.view(&rep3).await, backend).await,
        shown,
        "{backend:?}: a second source with the same key"
    );
    let two_roles = emails(&env.view(&user("rep3_eu")).await, backend).await;
    let raw_countries: BTreeMap<String, String> = {
        let sql = names(backend, "SELECT CustomerId, Country FROM Customer");
        let (_, r) = env.raw.run(&sql).await.expect("raw read");
        r.rows
            .into_iter()
            .map(|r| (cell(&r[0]), cell(&r[1])))
            .collect()
    };
    let mut compared = 0;
    for (id, value) in &shown {
        let country = raw_countries[id].as_str();
        if !["Brazil", "Germany", "United Kingdom"].contains(&country) {
            assert_eq!(two_roles.get(id), Some(value), "{backend:?}: customer {id}");
            compared += 1;
        } else {
            assert_ne!(
                two_roles.get(id),
                Some(value),
                "{backend:?}: customer {id} in full"
            );
        }
    }
    assert!(compared > 5, "{backend:?}: {compared}");
    // Keyed: another key gives other hashes, and the hash is not the plain digest.
    let mut other_key: Config = config(backend);
    other_key.access.mask_key = Some(Secret::new("another-key"));
    let url = match env.sqlite_path() {
        Some(p) => format!("sqlite://{}", p.display()),
        None => backend.chinook_url(),
    };
    let other = DataSource::connect(&other_key, Some(&url))
        .await
        .expect("connects");
    let other_view = other.view(&rep3.principal).await.expect("view");
    let rekeyed = emails(&other_view, backend).await;
    assert_eq!(rekeyed.len(), shown.len(), "{backend:?}");
    for (id, value) in &shown {
        assert_ne!(rekeyed.get(id), Some(value), "{backend:?}: customer {id}");
    }
    if backend != Backend::Sqlite {
        let plain = raw_scalar(&env, "SELECT md5(Email) FROM Customer WHERE CustomerId = 1").await;
        assert_ne!(&plain, hash, "{backend:?}: the hash is keyed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_stands_for_its_value_and_is_keyed() {
    for backend in Backend::available() {
        hashes(backend).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_sees_the_schema_of_its_roles() {
    for backend in Backend::available() {
        let env = Env::open(backend).await;
        let column = |view: &View, table: &str, column: &str| {
            let (table, column) = (names(backend, table), names(backend, column));
            view.catalog()
                .tables
                .iter()
                .find(|t| t.name == table)
                .map(|t| t.columns.iter().any(|c| c.name == column))
        };
        let rep = env.view(&user("rep3")).await;
        assert_eq!(
            column(&rep, "Employee", "BirthDate"),
            Some(false),
            "{backend:?}"
        );
        assert_eq!(
            column(&rep, "Employee", "HireDate"),
            Some(true),
            "{backend:?}"
        );
        assert_eq!(
            column(&rep, "Customer", "Email"),
            Some(true),
            "{backend:?}: masked, not absent"
        );
        let both = env.view(&user("rep3_eu")).await;
        assert_eq!(
            column(&both, "Employee", "BirthDate"),
            Some(true),
            "{backend:?}"
        );
        if let Some(nobody) = env.try_view(&user("nobody")).await {
            assert!(nobody.catalog().tables.is_empty(), "{backend:?}");
        }
    }
}
