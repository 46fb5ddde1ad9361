//! PostgreSQL introspection through `pg_catalog`: every schema except the system ones.

use std::collections::HashMap;

use sqlx::{PgConnection, Row};

use crate::catalog::{Column, ForeignKey, Table, TableKind};

/// The relations introspected: tables, partitioned tables, views, materialized views and
/// foreign tables outside the system schemas (partitions are reached through their parent).
const RELATIONS: &str = "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// Reads tables and views with columns, keys and comments.
pub(crate) async fn tables(conn: &mut PgConnection) -> Result<Vec<Table>, sqlx::Error> {
    let rels = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text, obj_description(c.oid, 'pg_class') {RELATIONS}"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut tables: Vec<Table> = Vec::with_capacity(rels.len());
    let mut index: HashMap<i64, usize> = HashMap::new();
    for r in &rels {
        let kind: String = r.try_get(3)?;
        index.insert(r.try_get(0)?, tables.len());
        tables.push(Table {
            schema: Some(r.try_get(1)?),
            name: r.try_get(2)?,
            kind: if kind == "v" || kind == "m" {
                TableKind::View
            } else {
                TableKind::Table
            },
            columns: Vec::new(),
            primary_key: Vec::new(),
            foreign_keys: Vec::new(),
            comment: r.try_get(4)?,
        });
    }

    let cols = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT a.attrelid::int8, a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                col_description(a.attrelid, a.attnum)
         FROM pg_attribute a WHERE a.attnum > 0 AND NOT a.attisdropped
           AND a.attrelid IN (SELECT c.oid {RELATIONS})
         ORDER BY a.attrelid, a.attnum"
    )))
    .fetch_all(&mut *conn)
    .await?;
    for c in cols {
        if let Some(&t) = index.get(&c.try_get::<i64, _>(0)?) {
            tables[t].columns.push(Column {
                name: c.try_get(1)?,
                data_type: c.try_get(2)?,
                nullable: c.try_get(3)?,
                comment: c.try_get(4)?,
            });
        }
    }

    let pks = sqlx::query(
        "SELECT con.conrelid::int8, a.attname::text
         FROM pg_constraint con
         CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
         WHERE con.contype = 'p'
         ORDER BY con.conrelid, k.ord",
    )
    .fetch_all(&mut *conn)
    .await?;
    for p in pks {
        if let Some(&t) = index.get(&p.try_get::<i64, _>(0)?) {
            tables[t].primary_key.push(p.try_get(1)?);
        }
    }

    let fks = sqlx::query(
        "SELECT con.oid::int8, con.conrelid::int8, fn.nspname::text, fc.relname::text, a.attname::text, fa.attname::text
         FROM pg_constraint con
         JOIN pg_class fc ON fc.oid = con.confrelid
         JOIN pg_namespace fn ON fn.oid = fc.relnamespace
         CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, fattnum, ord)
         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
         JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.fattnum
         WHERE con.contype = 'f'
         ORDER BY con.conrelid, con.conname, k.ord",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut by_constraint: Vec<(i64, usize, ForeignKey)> = Vec::new();
    for f in fks {
        let con: i64 = f.try_get(0)?;
        let Some(&t) = index.get(&f.try_get::<i64, _>(1)?) else {
            continue;
        };
        let (col, ref_col): (String, String) = (f.try_get(4)?, f.try_get(5)?);
        match by_constraint.iter_mut().find(|(c, _, _)| *c == con) {
            Some((_, _, fk)) => {
                fk.columns.push(col);
                fk.referenced_columns.push(ref_col);
            }
            None => by_constraint.push((
                con,
                t,
                ForeignKey {
                    columns: vec![col],
                    referenced_schema: Some(f.try_get(2)?),
                    referenced_table: f.try_get(3)?,
                    referenced_columns: vec![ref_col],
                },
            )),
        }
    }
    for (_, t, fk) in by_constraint {
        tables[t].foreign_keys.push(fk);
    }
    Ok(tables)
}
