//! MySQL/MariaDB introspection through `information_schema`, for the connection's current
//! database.

use sqlx::{MySqlConnection, Row};

use super::table_mut;
use crate::catalog::{Column, ForeignKey, Table, TableKind};

/// Reads tables and views of `DATABASE()` with columns, keys and comments.
pub(crate) async fn tables(conn: &mut MySqlConnection) -> Result<Vec<Table>, sqlx::Error> {
    let rels = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_TYPE AS CHAR), CAST(TABLE_COMMENT AS CHAR)
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = Vec::with_capacity(rels.len());
    for r in rels {
        let kind = if r.try_get::<String, _>(1)?.contains("VIEW") {
            TableKind::View
        } else {
            TableKind::Table
        };
        let comment: Option<String> = r.try_get(2)?;
        tables.push(Table {
            schema: None,
            name: r.try_get(0)?,
            kind,
            columns: Vec::new(),
            primary_key: Vec::new(),
            foreign_keys: Vec::new(),
            // Views report the comment `VIEW`; that is not a comment anyone wrote.
            comment: comment.filter(|c| !c.is_empty() && kind == TableKind::Table),
        });
    }

    let cols = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR),
                CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_COMMENT AS CHAR)
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
         ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )
    .fetch_all(&mut *conn)
    .await?;
    for c in cols {
        let table: String = c.try_get(0)?;
        if let Some(t) = table_mut(&mut tables, None, &table) {
            let comment: Option<String> = c.try_get(4)?;
            t.columns.push(Column {
                name: c.try_get(1)?,
                data_type: c.try_get(2)?,
                nullable: c.try_get::<String, _>(3)? == "YES",
                comment: comment.filter(|c| !c.is_empty()),
            });
        }
    }

    let keys = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR),
                CAST(REFERENCED_TABLE_NAME AS CHAR), CAST(REFERENCED_COLUMN_NAME AS CHAR)
         FROM information_schema.KEY_COLUMN_USAGE
         WHERE TABLE_SCHEMA = DATABASE()
           AND (CONSTRAINT_NAME = 'PRIMARY' OR REFERENCED_TABLE_NAME IS NOT NULL)
         ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut current: Option<(String, String)> = None;
    for k in keys {
        let (table, constraint, column): (String, String, String) =
            (k.try_get(0)?, k.try_get(1)?, k.try_get(2)?);
        let referenced: Option<String> = k.try_get(3)?;
        let referenced_column: Option<String> = k.try_get(4)?;
        let Some(t) = table_mut(&mut tables, None, &table) else {
            continue;
        };
        match (constraint.as_str(), referenced, referenced_column) {
            ("PRIMARY", _, _) => t.primary_key.push(column),
            (_, Some(referenced_table), Some(referenced_column)) => {
                let key = (table.clone(), constraint.clone());
                let continues = current.as_ref() == Some(&key);
                match t.foreign_keys.last_mut() {
                    Some(fk) if continues => {
                        fk.columns.push(column);
                        fk.referenced_columns.push(referenced_column);
                    }
                    _ => t.foreign_keys.push(ForeignKey {
                        columns: vec![column],
                        referenced_schema: None,
                        referenced_table,
                        referenced_columns: vec![referenced_column],
                    }),
                }
                current = Some(key);
            }
            _ => {}
        }
    }
    Ok(tables)
}
