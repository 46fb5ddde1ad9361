//! Catalogs made by hand, for tests and benchmarks that need a schema but no database.

use conversational_bi::catalog::{Column, Table, TableKind};

/// A table of `kind` named `name` whose `columns` all have `data_type` and are nullable, with
/// `primary_key` as its key and no foreign keys, comment or schema.
pub fn table(
    name: &str,
    kind: TableKind,
    data_type: &str,
    columns: &[&str],
    primary_key: &[&str],
) -> Table {
    Table {
        schema: None,
        name: name.to_string(),
        kind,
        columns: columns
            .iter()
            .map(|c| Column {
                name: c.to_string(),
                data_type: data_type.to_string(),
                nullable: true,
                comment: None,
            })
            .collect(),
        primary_key: primary_key.iter().map(|c| c.to_string()).collect(),
        foreign_keys: vec![],
        comment: None,
    }
}
