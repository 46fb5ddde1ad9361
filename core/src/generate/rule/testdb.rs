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
