//! Catalog introspection: engine-authored queries over each database's system tables.
//!
//! These run on connections the engine controls (for SQLite, a separate connection without the
//! query guard) and never carry user SQL.

#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

#[cfg(feature = "mysql")]
use crate::catalog::Table;

#[cfg(feature = "sqlite")]
/// Appends `column` to the entry of `key` in `groups`, keeping first-seen order of keys.
pub(crate) fn push_grouped<K: PartialEq, V>(groups: &mut Vec<(K, Vec<V>)>, key: K, value: V) {
    match groups.iter_mut().find(|(k, _)| *k == key) {
        Some((_, values)) => values.push(value),
        None => groups.push((key, vec![value])),
    }
}

/// Finds a table by exact name (and schema) in a list being built.
#[cfg(feature = "mysql")]
pub(crate) fn table_mut<'a>(
    tables: &'a mut [Table],
    schema: Option<&str>,
    name: &str,
) -> Option<&'a mut Table> {
    tables
        .iter_mut()
        .find(|t| t.name == name && t.schema.as_deref() == schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_keeps_order() {
        let mut g: Vec<(&str, Vec<i32>)> = Vec::new();
        push_grouped(&mut g, "b", 1);
        push_grouped(&mut g, "a", 2);
        push_grouped(&mut g, "b", 3);
        assert_eq!(g, vec![("b", vec![1, 3]), ("a", vec![2])]);
    }
}
