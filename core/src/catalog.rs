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
    /// PostgreSQL: the schemas an unqualified table name is looked up in, in order (the
    /// session's `current_schemas(false)`, which the executor pins for every statement); `None`
    /// where names are not searched (SQLite, MySQL) or when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_path: Option<Vec<String>>,
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
            search_path: None,
        }
    }

    /// The catalog with PostgreSQL's `search_path` (see [`Catalog::search_path`]).
    pub fn with_search_path(mut self, schemas: Vec<String>) -> Self {
        self.search_path = Some(schemas);
        self
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
        // An unqualified PostgreSQL name is the table of the first schema of the search path
        // that has it, as the server looks it up; without a known path, `public` first.
        if schema.is_none()
            && let Some(path) = &self.search_path
        {
            let found: Vec<&Table> = candidates.collect();
            return path.iter().find_map(|p| {
                found
                    .iter()
                    .find(|t| t.schema.as_deref() == Some(p.as_str()))
                    .copied()
            });
        }
        let first = candidates.next()?;
        match candidates.find(|t| t.schema.as_deref() == Some("public")) {
            Some(public) if schema.is_none() && first.schema.as_deref() != Some("public") => {
                Some(public)
            }
            // MySQL table names are case-sensitive on most servers: the exact spelling wins.
            _ if self.dialect == Dialect::Mysql && first.name != name => {
                Some(self.tables.iter().find(|t| t.name == name).unwrap_or(first))
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

/// The access policy of `[database]`: the tables that may be read (`allowed_tables`, all when
/// empty) and the columns that may never be (`denied_columns`, as `table.column` or
/// `schema.table.column`). Names match without regard to case (see the methods).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    /// When non-empty, only these tables (by name or qualified name) may be read.
    pub allowed_tables: Vec<String>,
    /// Columns that may never be read, as `table.column`.
    pub denied_columns: Vec<String>,
}

impl AccessPolicy {
    /// Whether the policy restricts nothing.
    pub fn is_open(&self) -> bool {
        self.allowed_tables.is_empty() && self.denied_columns.is_empty()
    }

    /// Whether `table` may be read. Names match without regard to ASCII case, as the validator
    /// matches them: a table shown is never one the validator refuses.
    pub fn allows_table(&self, table: &Table) -> bool {
        self.allowed_tables.is_empty()
            || self.allowed_tables.iter().any(|a| {
                a.eq_ignore_ascii_case(&table.name)
                    || a.eq_ignore_ascii_case(&table.qualified_name())
            })
    }

    /// Whether `column` of `table` is on the restricted list. Names match without regard to
    /// ASCII or Unicode case: a column the validator refuses is never shown.
    pub fn denies_column(&self, table: &Table, column: &str) -> bool {
        self.denied_columns.iter().any(|d| {
            d.rsplit_once('.').is_some_and(|(t, c)| {
                same_name(c, column)
                    && (same_name(t, &table.name) || same_name(t, &table.qualified_name()))
            })
        })
    }
}

/// Names equal without regard to case, ASCII or Unicode.
fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase()
}

impl Catalog {
    /// The catalog as `policy` lets it be seen: tables outside `allowed_tables` and columns in
    /// `denied_columns` removed, together with every key that names a removed column or points
    /// at a removed table or column (a primary key that includes a removed column is dropped
    /// whole). The fingerprint is that of what remains.
    ///
    /// This is what the engine shows of the schema anywhere but in the validator: prompts,
    /// sample values, the value index, the rule generator, the semantic cache and schema
    /// listings, so that none of them can reveal a restricted name or value.
    pub fn visible_to(&self, policy: &AccessPolicy) -> Catalog {
        if policy.is_open() {
            return self.clone();
        }
        let mut tables: Vec<Table> = self
            .tables
            .iter()
            .filter(|t| policy.allows_table(t))
            .map(|t| {
                let mut table = t.clone();
                table.columns.retain(|c| !policy.denies_column(t, &c.name));
                table
            })
            .collect();
        let has = |tables: &[Table], schema: Option<&str>, name: &str, columns: &[String]| {
            tables.iter().any(|t| {
                same_name(&t.name, name)
                    && schema.is_none_or(|s| t.schema.as_deref().is_some_and(|ts| same_name(ts, s)))
                    && columns
                        .iter()
                        .all(|c| t.columns.iter().any(|col| same_name(&col.name, c)))
            })
        };
        let snapshot = tables.clone();
        for table in &mut tables {
            let own = |c: &String| table.columns.iter().any(|col| same_name(&col.name, c));
            if !table.primary_key.iter().all(own) {
                table.primary_key.clear();
            }
            let kept: Vec<ForeignKey> = table
                .foreign_keys
                .iter()
                .filter(|fk| {
                    fk.columns.iter().all(own)
                        && has(
                            &snapshot,
                            fk.referenced_schema.as_deref(),
                            &fk.referenced_table,
                            &fk.referenced_columns,
                        )
                })
                .cloned()
                .collect();
            table.foreign_keys = kept;
        }
        let mut visible = Catalog::new(self.dialect, self.database.clone(), tables);
        visible.search_path = self.search_path.clone();
        visible
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

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColumnRef {
    /// The table's name as the catalog spells it.
    pub table: String,
    /// The column's name as the catalog spells it.
    pub column: String,
}

impl ColumnRef {
    /// A column reference.
    pub fn new(table: impl Into<String>, column: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            column: column.into(),
        }
    }
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

    fn fk(columns: &[&str], schema: Option<&str>, table: &str, referenced: &[&str]) -> ForeignKey {
        ForeignKey {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            referenced_schema: schema.map(str::to_string),
            referenced_table: table.to_string(),
            referenced_columns: referenced.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn shop() -> Catalog {
        let mut customer = table(None, "Customer", &["CustomerId", "Name", "Email"]);
        customer.primary_key = vec!["CustomerId".into()];
        let mut invoice = table(None, "Invoice", &["InvoiceId", "CustomerId", "Total"]);
        invoice.primary_key = vec!["InvoiceId".into()];
        invoice.foreign_keys = vec![fk(&["CustomerId"], None, "customer", &["CustomerId"])];
        let mut line = table(None, "InvoiceLine", &["InvoiceId", "LineNo", "Amount"]);
        line.primary_key = vec!["InvoiceId".into(), "LineNo".into()];
        line.foreign_keys = vec![fk(&["InvoiceId"], None, "Invoice", &["InvoiceId"])];
        Catalog::new(Dialect::Sqlite, "shop", vec![customer, invoice, line])
    }

    #[test]
    fn an_open_policy_shows_the_whole_catalog() {
        let c = shop();
        assert_eq!(c.visible_to(&AccessPolicy::default()), c);
    }

    #[test]
    fn the_visible_catalog_leaves_out_what_the_policy_restricts_with_its_keys() {
        let c = shop();
        let policy = AccessPolicy {
            allowed_tables: vec!["customer".into(), "INVOICELINE".into()],
            denied_columns: vec!["Customer.email".into(), "InvoiceLine.LineNo".into()],
        };
        let v = c.visible_to(&policy);
        let names: Vec<(&str, Vec<&str>)> = v
            .tables
            .iter()
            .map(|t| {
                (
                    t.name.as_str(),
                    t.columns.iter().map(|c| c.name.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("Customer", vec!["CustomerId", "Name"]),
                ("InvoiceLine", vec!["InvoiceId", "Amount"]),
            ]
        );
        let line = &v.tables[1];
        assert!(
            line.foreign_keys.is_empty(),
            "the key to Invoice, outside allowed_tables, is dropped"
        );
        assert!(
            line.primary_key.is_empty(),
            "a primary key over a denied column is dropped whole"
        );
        assert_eq!(v.tables[0].primary_key, vec!["CustomerId".to_string()]);
        assert_ne!(v.fingerprint, c.fingerprint);
        assert_eq!(v.dialect, c.dialect);
        assert_eq!(v.database, c.database);
        // Keys into a denied column are dropped; keys into visible ones stay.
        let v = c.visible_to(&AccessPolicy {
            allowed_tables: vec![],
            denied_columns: vec!["Customer.CustomerId".into()],
        });
        let invoice = v.find_table(None, "Invoice", false).expect("invoice");
        assert!(invoice.foreign_keys.is_empty());
        let line = v.find_table(None, "InvoiceLine", false).expect("line");
        assert_eq!(line.foreign_keys.len(), 1);
        assert!(v.tables[0].primary_key.is_empty());
    }

    #[test]
    fn the_view_never_shows_more_than_the_validator_lets_be_read() {
        let c = Catalog::new(
            Dialect::Mysql,
            "db",
            vec![
                table(None, "ÜBER", &["ÄGE", "Name"]),
                table(None, "Ort", &["Name"]),
            ],
        );
        // The validator compares allowed tables without regard to ASCII case only: `über` does
        // not allow `ÜBER`, so the view leaves it out.
        let v = c.visible_to(&AccessPolicy {
            allowed_tables: vec!["über".into(), "ORT".into()],
            denied_columns: vec![],
        });
        let names: Vec<&str> = v.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["Ort"]);
        // Denied columns are hidden under any case, ASCII or not.
        let v = c.visible_to(&AccessPolicy {
            allowed_tables: vec![],
            denied_columns: vec!["über.äge".into()],
        });
        let columns: Vec<&str> = v.tables[1]
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(v.tables[1].name, "ÜBER");
        assert_eq!(columns, vec!["Name"]);
    }

    #[test]
    fn policy_names_may_be_qualified_by_schema() {
        let mut orders = table(Some("public"), "orders", &["id", "customer_id"]);
        orders.foreign_keys = vec![fk(&["customer_id"], Some("public"), "customers", &["id"])];
        let pg = Catalog::new(
            Dialect::Postgres,
            "db",
            vec![
                table(Some("public"), "customers", &["id", "ssn"]),
                orders,
                table(Some("archive"), "orders", &["id"]),
            ],
        );
        let v = pg.visible_to(&AccessPolicy {
            allowed_tables: vec!["public.orders".into(), "customers".into()],
            denied_columns: vec!["public.customers.ssn".into()],
        });
        let names: Vec<String> = v.tables.iter().map(Table::qualified_name).collect();
        assert_eq!(names, vec!["public.customers", "public.orders"]);
        assert_eq!(v.tables[0].columns.len(), 1);
        assert_eq!(v.tables[1].foreign_keys.len(), 1);
    }

    #[test]
    fn unqualified_names_follow_the_search_path() {
        let pg = Catalog::new(
            Dialect::Postgres,
            "db",
            vec![
                table(Some("archive"), "orders", &["a"]),
                table(Some("public"), "orders", &["b"]),
                table(Some("archive"), "old", &["c"]),
            ],
        )
        .with_search_path(vec!["archive".into(), "public".into()]);
        let t = pg.find_table(None, "orders", false).expect("found");
        assert_eq!(t.schema.as_deref(), Some("archive"));
        let only_public = pg.clone().with_search_path(vec!["public".into()]);
        assert!(
            only_public.find_table(None, "old", false).is_none(),
            "a table outside the path needs its schema"
        );
        assert!(
            only_public
                .find_table(Some("archive"), "old", false)
                .is_some()
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
