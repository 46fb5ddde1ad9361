//! Test support: the sample SQLite databases, opened through the engine's own executor
//! (read-only), so that the generator's tests use real schemas and real rows.

use std::{path::PathBuf, sync::Arc};

use crate::{
    catalog::Catalog,
    exec::{self, Executor, SourceOptions},
};

/// The file of a sample database: `chinook`, `northwind`, `sakila` or `tpch` (scale factor
/// 0.01). The shared data folder is `HELIOSDB_TEST_DATA`, else `$CBI_SHARED_DIR/data`, else
/// `../shared/data` beside the repository.
pub fn path(name: &str) -> PathBuf {
    if name == "chinook" {
        return PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/chinook/chinook.sqlite");
    }
    let root = std::env::var("HELIOSDB_TEST_DATA")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("CBI_SHARED_DIR").map(|d| PathBuf::from(d).join("data")))
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    if name == "tpch" {
        return root.join("tpch-sf0.01").join("tpch_sf0.01.sqlite");
    }
    root.join(name).join(format!("{name}.sqlite"))
}

/// Opens a sample database.
pub async fn open(name: &str) -> Arc<dyn Executor> {
    open_path(&path(name)).await
}

/// Opens any SQLite file read-only, with a row cap large enough for whole results.
pub async fn open_path(p: &std::path::Path) -> Arc<dyn Executor> {
    assert!(p.exists(), "sample database {} is missing", p.display());
    let options = SourceOptions {
        max_rows: 100_000,
        pool_size: 2,
        ..SourceOptions::default()
    };
    exec::connect(&format!("sqlite://{}", p.display()), options)
        .await
        .unwrap_or_else(|e| panic!("opens {}: {e}", p.display()))
}

/// The catalog of a sample database.
pub async fn catalog(name: &str) -> Catalog {
    open(name).await.catalog().await.expect("reads the catalog")
}

/// A validator over `catalog` with no access policy and the row cap of `executor`, for the
/// engine's own reads in tests.
pub fn validator(executor: &dyn Executor, catalog: &Catalog) -> crate::sql::Validator {
    crate::sql::Validator::new(
        Arc::new(catalog.clone()),
        crate::sql::ValidatorOptions {
            max_rows: executor.options().max_rows,
            ..crate::sql::ValidatorOptions::default()
        },
    )
}

/// Columns the privacy tests on Chinook deny.
pub const DENIED_COLUMNS: &[&str] = &["Employee.Title", "Customer.Email"];

/// Tables the privacy tests on Chinook allow (`Invoice`, `InvoiceLine`, `Playlist` and
/// `PlaylistTrack` are left out).
pub const ALLOWED_TABLES: &[&str] = &[
    "Album",
    "Artist",
    "Customer",
    "Employee",
    "Genre",
    "MediaType",
    "Track",
];

/// A configuration with [`ALLOWED_TABLES`] and [`DENIED_COLUMNS`] as its access policy.
pub fn restricted_config() -> crate::Config {
    let mut config = crate::Config::default();
    config.database.allowed_tables = ALLOWED_TABLES.iter().map(|s| s.to_string()).collect();
    config.database.denied_columns = DENIED_COLUMNS.iter().map(|s| s.to_string()).collect();
    config
}

/// Two copies of Chinook in `dir`, as SQLite URLs: the demo database, and a twin that differs
/// from it only in what [`restricted_config`] hides (every denied column and every column of
/// the tables outside [`ALLOWED_TABLES`] holds other values). Whatever the engine shows or
/// answers under that policy must be the same on both.
pub async fn chinook_twins(dir: &std::path::Path) -> (String, String) {
    use sqlx::Connection as _;

    // The same file name in two folders: the database's name is the file's stem.
    let original = dir.join("real").join("chinook.sqlite");
    let twin = dir.join("twin").join("chinook.sqlite");
    for path in [&original, &twin] {
        std::fs::create_dir_all(path.parent().expect("folder")).expect("folder");
    }
    std::fs::write(&original, crate::demo::CHINOOK_SQLITE).expect("copy");
    std::fs::write(&twin, crate::demo::CHINOOK_SQLITE).expect("copy");
    let mut conn = sqlx::SqliteConnection::connect_with(
        &sqlx::sqlite::SqliteConnectOptions::new().filename(&twin),
    )
    .await
    .expect("opens the twin");
    sqlx::raw_sql(
        "UPDATE Employee SET Title = 'Xylophonist ' || EmployeeId;
         UPDATE Customer SET Email = 'nobody' || CustomerId || '@example.invalid';
         UPDATE Playlist SET Name = 'Mixtape ' || PlaylistId;
         UPDATE Invoice SET BillingAddress = 'Road ' || InvoiceId, BillingCity = 'Town ' || InvoiceId,
             BillingState = NULL, BillingCountry = 'Land ' || (InvoiceId % 7),
             BillingPostalCode = NULL, Total = Total + 1, InvoiceDate = '1999-01-01 00:00:00';
         UPDATE InvoiceLine SET UnitPrice = UnitPrice + 1, Quantity = Quantity + 1;
         DELETE FROM PlaylistTrack WHERE TrackId % 2 = 0;",
    )
    .execute(&mut conn)
    .await
    .expect("rewrites what the policy hides");
    conn.close().await.expect("closes");
    (
        format!("sqlite://{}", original.display()),
        format!("sqlite://{}", twin.display()),
    )
}
