//! SQLite introspection through `sqlite_schema` and the `pragma_*` table-valued functions.

use sqlx::{Row, SqliteConnection};

use super::push_grouped;
use crate::catalog::{Column, ForeignKey, Table, TableKind};

/// One column pair of a foreign key: referenced table, own column, referenced column (absent
/// when the key points at the referenced table's primary key).
type FkPart = (String, String, Option<String>);

/// Reads the tables and views of the `main` database (SQLite's own `sqlite_%` tables excluded).
pub(crate) async fn tables(conn: &mut SqliteConnection) -> Result<Vec<Table>, sqlx::Error> {
    let relations = sqlx::query(
        "SELECT name, type FROM main.sqlite_schema \
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = Vec::with_capacity(relations.len());
    for rel in relations {
        let name: String = rel.try_get(0)?;
        let kind = if rel.try_get::<String, _>(1)? == "view" {
            TableKind::View
        } else {
            TableKind::Table
        };
        let cols = sqlx::query(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        let mut columns = Vec::with_capacity(cols.len());
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in cols {
            let col_name: String = c.try_get(0)?;
            let notnull: i64 = c.try_get(2)?;
            let pk_pos: i64 = c.try_get(3)?;
            if pk_pos > 0 {
                pk.push((pk_pos, col_name.clone()));
            }
            columns.push(Column {
                name: col_name,
                data_type: c.try_get(1)?,
                // A primary-key column is NOT NULL in practice even when not declared so.
                nullable: notnull == 0 && pk_pos == 0,
                comment: None,
            });
        }
        pk.sort();
        let primary_key: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();

        let fk_rows = sqlx::query(
            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        let mut groups: Vec<(i64, Vec<FkPart>)> = Vec::new();
        for r in fk_rows {
            push_grouped(
                &mut groups,
                r.try_get(0)?,
                (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?),
            );
        }
        let mut foreign_keys = Vec::with_capacity(groups.len());
        for (_, parts) in groups {
            let referenced_table = parts[0].0.clone();
            let columns: Vec<String> = parts.iter().map(|p| p.1.clone()).collect();
            let mut referenced_columns: Vec<String> =
                parts.iter().filter_map(|p| p.2.clone()).collect();
            if referenced_columns.len() != columns.len() {
                // `REFERENCES t` without columns points at t's primary key.
                referenced_columns = primary_key_of(conn, &referenced_table).await?;
            }
            foreign_keys.push(ForeignKey {
                columns,
                referenced_schema: None,
                referenced_table,
                referenced_columns,
            });
        }
        tables.push(Table {
            schema: None,
            name,
            kind,
            columns,
            primary_key,
            foreign_keys,
            comment: None,
        });
    }
    Ok(tables)
}

async fn primary_key_of(
    conn: &mut SqliteConnection,
    table: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
        .bind(table)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| r.try_get(0)).collect()
}
