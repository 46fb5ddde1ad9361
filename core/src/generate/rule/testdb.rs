//! Test support: the sample SQLite databases opened read-only through sqlx, with a small
//! catalog loader and an [`Executor`] over them, so that the generator's tests use real schemas
//! and real rows.

use std::path::PathBuf;

use async_trait::async_trait;
use sqlx::{Column as _, Row, TypeInfo, ValueRef, sqlite::SqlitePool};

use crate::{
    catalog::{Catalog, Column, ForeignKey, Table, TableKind},
    dialect::Dialect,
    error::{Error, Result},
    exec::{Executor, QueryResult, ResultColumn, SourceOptions, Value},
};

/// The file of a sample database: `chinook`, `northwind` or `sakila`.
pub fn path(name: &str) -> PathBuf {
    if name == "chinook" {
        return PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/chinook/chinook.sqlite");
    }
    let root = std::env::var("HELIOSDB_TEST_DATA").unwrap_or_else(|_| "/work/shared/data".into());
    PathBuf::from(root)
        .join(name)
        .join(format!("{name}.sqlite"))
}

/// A read-only executor over one SQLite file.
#[derive(Debug)]
pub struct SqliteFile {
    pool: SqlitePool,
    options: SourceOptions,
    name: String,
}

/// Opens a sample database.
pub async fn open(name: &str) -> SqliteFile {
    open_path(&path(name), name).await
}

/// Opens any SQLite file read-only.
pub async fn open_path(p: &std::path::Path, name: &str) -> SqliteFile {
    assert!(p.exists(), "sample database {} is missing", p.display());
    let url = format!("sqlite://{}?mode=ro", p.display());
    let pool = SqlitePool::connect(&url)
        .await
        .expect("opens the sample database");
    SqliteFile {
        pool,
        options: SourceOptions::default(),
        name: name.to_string(),
    }
}

/// The catalog of a sample database.
pub async fn catalog(name: &str) -> Catalog {
    open(name).await.catalog().await.expect("reads the catalog")
}

impl SqliteFile {
    async fn rows(&self, sql: &str) -> Result<Vec<sqlx::sqlite::SqliteRow>> {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| Error::Execution {
                message: e.to_string(),
            })
    }
}

#[async_trait]
impl Executor for SqliteFile {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn options(&self) -> &SourceOptions {
        &self.options
    }

    async fn catalog(&self) -> Result<Catalog> {
        let mut tables = Vec::new();
        let names = self
            .rows("SELECT name, type FROM sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%'")
            .await?;
        for row in names {
            let name: String = row.get(0);
            let kind: String = row.get(1);
            let quoted = name.replace('\'', "''");
            let cols = self
                .rows(&format!("SELECT name, type, \"notnull\", pk FROM pragma_table_info('{quoted}') ORDER BY cid"))
                .await?;
            let mut pk: Vec<(i64, String)> = Vec::new();
            let columns = cols
                .iter()
                .map(|c| {
                    let n: String = c.get(0);
                    let k: i64 = c.get(3);
                    if k > 0 {
                        pk.push((k, n.clone()));
                    }
                    Column {
                        name: n,
                        data_type: c.get(1),
                        nullable: c.get::<i64, _>(2) == 0,
                        comment: None,
                    }
                })
                .collect();
            pk.sort();
            let fks = self
                .rows(&format!("SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list('{quoted}') ORDER BY id, seq"))
                .await?;
            let mut foreign_keys: Vec<(i64, ForeignKey)> = Vec::new();
            for f in fks {
                let id: i64 = f.get(0);
                let to: Option<String> = f.get(3);
                let (from, table): (String, String) = (f.get(2), f.get(1));
                match foreign_keys.iter_mut().find(|(i, _)| *i == id) {
                    Some((_, fk)) => {
                        fk.columns.push(from);
                        fk.referenced_columns.extend(to);
                    }
                    None => foreign_keys.push((
                        id,
                        ForeignKey {
                            columns: vec![from],
                            referenced_schema: None,
                            referenced_table: table,
                            referenced_columns: to.into_iter().collect(),
                        },
                    )),
                }
            }
            tables.push(Table {
                schema: None,
                name,
                kind: if kind == "view" {
                    TableKind::View
                } else {
                    TableKind::Table
                },
                columns,
                primary_key: pk.into_iter().map(|(_, n)| n).collect(),
                foreign_keys: foreign_keys.into_iter().map(|(_, f)| f).collect(),
                comment: None,
            });
        }
        Ok(Catalog::new(Dialect::Sqlite, self.name.clone(), tables))
    }

    async fn execute(&self, sql: &str) -> Result<QueryResult> {
        let rows = self.rows(sql).await?;
        let columns = rows
            .first()
            .map(|r| {
                r.columns()
                    .iter()
                    .map(|c| ResultColumn {
                        name: c.name().to_string(),
                        data_type: c.type_info().name().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let rows = rows
            .iter()
            .map(|r| (0..r.len()).map(|i| value(r, i)).collect())
            .collect();
        Ok(QueryResult {
            columns,
            rows,
            truncated: false,
            elapsed_ms: 0.0,
        })
    }

    async fn ping(&self) -> Result<()> {
        self.rows("SELECT 1").await.map(|_| ())
    }
}

fn value(row: &sqlx::sqlite::SqliteRow, i: usize) -> Value {
    let Ok(raw) = row.try_get_raw(i) else {
        return Value::Null;
    };
    if raw.is_null() {
        return Value::Null;
    }
    match raw.type_info().name() {
        "INTEGER" => row.try_get::<i64, _>(i).map_or(Value::Null, Value::Int),
        "REAL" => row.try_get::<f64, _>(i).map_or(Value::Null, Value::Float),
        "BLOB" => row.try_get::<Vec<u8>, _>(i).map_or(Value::Null, |b| {
            Value::Bytes(b.iter().map(|x| format!("{x:02x}")).collect())
        }),
        _ => row.try_get::<String, _>(i).map_or(Value::Null, Value::Text),
    }
}
