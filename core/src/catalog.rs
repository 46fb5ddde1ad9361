//! What the engine knows of a database's schema: tables and views, their columns, keys and
//! comments. Built by introspection (see [`crate::exec`]) and read by the validator, the prompt
//! and the CLI's `schema` command.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dialect::Dialect;

/// The schema of one data source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// The database family.
    pub dialect: Dialect,
    /// The database's name (the file stem for SQLite, the database name otherwise).
    pub database: String,
    /// Tables and views, sorted by schema then name.
    pub tables: Vec<Table>,
    /// A short hash of everything above; it changes whenever the schema changes.
    pub fingerprint: String,
}

/// Whether a relation is a base table or a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableKind {
    /// A base table.
    Table,
    /// A view.
    View,
}

/// A table or view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The schema (namespace) for PostgreSQL; `None` for SQLite and MySQL.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub schema: Option<String>,
    /// The table's name, exactly as the database spells it.
    pub name: String,
    /// Table or view.
    pub kind: TableKind,
    /// Columns in declaration order.
    pub columns: Vec<Column>,
    /// Primary-key column names, in key order (empty when there is none).
    #[serde(default)]
    pub primary_key: Vec<String>,
    /// Foreign keys from this table to others.
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
    /// The table's comment, where the database has one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comment: Option<String>,
}

/// A column of a table or view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// The column's name, exactly as the database spells it.
    pub name: String,
    /// The declared SQL type (e.g. `INTEGER`, `character varying(40)`, `decimal(10,2)`).
    pub data_type: String,
    /// Whether the column accepts NULL.
    pub nullable: bool,
    /// The column's comment, where the database has one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comment: Option<String>,
}

/// A foreign key: `columns` of the owning table reference `referenced_columns` of another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// Columns of the owning table.
    pub columns: Vec<String>,
    /// Schema of the referenced table (PostgreSQL only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub referenced_schema: Option<String>,
    /// The referenced table.
    pub referenced_table: String,
    /// Columns of the referenced table, matching `columns` one to one.
    pub referenced_columns: Vec<String>,
}

impl Catalog {
    /// Builds a catalog, sorting its tables and computing the fingerprint.
    pub fn new(dialect: Dialect, database: impl Into<String>, mut tables: Vec<Table>) -> Self {
        tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        let database = database.into();
        let fingerprint = fingerprint(dialect, &tables);
        Self {
            dialect,
            database,
            tables,
            fingerprint,
        }
    }

    /// Finds a table by name as the dialect would resolve an identifier.
    ///
    /// `quoted` says whether the identifier was quoted in the SQL: PostgreSQL folds unquoted
    /// names to lower case and matches quoted ones exactly; SQLite and MySQL match names
    /// without regard to case. `schema` restricts the search to one schema when given.
    pub fn find_table(&self, schema: Option<&str>, name: &str, quoted: bool) -> Option<&Table> {
        let mut candidates = self.tables.iter().filter(|t| {
            identifier_matches(self.dialect, &t.name, name, quoted)
                && match (schema, &t.schema) {
                    (None, _) => true,
                    (Some(_), None) => true,
                    (Some(s), Some(ts)) => identifier_matches(self.dialect, ts, s, false),
                }
        });
        let first = candidates.next()?;
        // An unqualified name visible in several schemas resolves to `public` first, as with
        // PostgreSQL's default search_path.
        match candidates.find(|t| t.schema.as_deref() == Some("public")) {
            Some(public) if schema.is_none() && first.schema.as_deref() != Some("public") => {
                Some(public)
            }
            _ => Some(first),
        }
    }

    /// The number of columns over all tables.
    pub fn column_count(&self) -> usize {
        self.tables.iter().map(|t| t.columns.len()).sum()
    }
}

impl Table {
    /// The name as SQL would qualify it: `schema.name` when a schema is set.
    pub fn qualified_name(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// Finds a column by name, with the same matching rules as [`Catalog::find_table`].
    pub fn find_column(&self, dialect: Dialect, name: &str, quoted: bool) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| identifier_matches(dialect, &c.name, name, quoted))
    }
}

/// Whether `written` (as it appears in SQL, quoted or not) names the object called `actual`.
///
/// PostgreSQL folds an unquoted name to lower case, ASCII letters only, and compares exactly;
/// SQLite compares without regard to ASCII case; MySQL without regard to case, Unicode included.
pub fn identifier_matches(dialect: Dialect, actual: &str, written: &str, quoted: bool) -> bool {
    match dialect {
        Dialect::Postgres if quoted => actual == written,
        Dialect::Postgres => actual == written.to_ascii_lowercase(),
        Dialect::Sqlite => actual.eq_ignore_ascii_case(written),
        Dialect::Mysql => {
            actual.eq_ignore_ascii_case(written) || actual.to_lowercase() == written.to_lowercase()
        }
    }
}

fn fingerprint(dialect: Dialect, tables: &[Table]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(dialect.as_str().as_bytes());
    // serde_json of plain structs cannot fail; an empty string keeps this total anyway.
    hasher.update(serde_json::to_vec(tables).unwrap_or_default());
    let digest = hasher.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(schema: Option<&str>, name: &str, cols: &[&str]) -> Table {
        Table {
            schema: schema.map(str::to_string),
            name: name.to_string(),
            kind: TableKind::Table,
            columns: cols
                .iter()
                .map(|c| Column {
                    name: c.to_string(),
                    data_type: "INTEGER".into(),
                    nullable: true,
                    comment: None,
                })
                .collect(),
            primary_key: vec![],
            foreign_keys: vec![],
            comment: None,
        }
    }

    #[test]
    fn fingerprint_changes_with_schema() {
        let a = Catalog::new(Dialect::Sqlite, "db", vec![table(None, "t", &["a"])]);
        let b = Catalog::new(Dialect::Sqlite, "db", vec![table(None, "t", &["a", "b"])]);
        let a2 = Catalog::new(Dialect::Sqlite, "db", vec![table(None, "t", &["a"])]);
        assert_ne!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint, a2.fingerprint);
        assert_eq!(a.fingerprint.len(), 16);
    }

    #[test]
    fn table_lookup_follows_dialect_case_rules() {
        let c = Catalog::new(
            Dialect::Sqlite,
            "db",
            vec![table(None, "InvoiceLine", &["UnitPrice"])],
        );
        assert!(c.find_table(None, "invoiceline", false).is_some());
        let t = c
            .find_table(None, "INVOICELINE", true)
            .expect("sqlite ignores case");
        assert!(t.find_column(Dialect::Sqlite, "unitprice", false).is_some());

        let pg = Catalog::new(
            Dialect::Postgres,
            "db",
            vec![
                table(Some("public"), "invoice_line", &["unit_price"]),
                table(Some("public"), "Album", &["Title"]),
            ],
        );
        assert!(pg.find_table(None, "INVOICE_LINE", false).is_some());
        assert!(pg.find_table(None, "INVOICE_LINE", true).is_none());
        assert!(pg.find_table(None, "Album", true).is_some());
        assert!(
            pg.find_table(None, "Album", false).is_none(),
            "unquoted Album folds to album"
        );
        assert!(
            pg.find_table(Some("public"), "invoice_line", false)
                .is_some()
        );
        assert!(
            pg.find_table(Some("sales"), "invoice_line", false)
                .is_none()
        );
    }

    #[test]
    fn unqualified_name_prefers_public_schema() {
        let pg = Catalog::new(
            Dialect::Postgres,
            "db",
            vec![
                table(Some("archive"), "orders", &["a"]),
                table(Some("public"), "orders", &["b"]),
            ],
        );
        let t = pg.find_table(None, "orders", false).expect("found");
        assert_eq!(t.schema.as_deref(), Some("public"));
    }
}
