//! The compact schema listing of the prompt: one line per table with its columns, their types,
//! primary and foreign keys, a few sample values of text columns and comments.
//!
//! ```text
//! Customer(CustomerId INTEGER PRIMARY KEY, Country NVARCHAR(40) (e.g. 'Brazil', 'Canada'), ...) -- people who buy
//! Invoice(InvoiceId INTEGER PRIMARY KEY, CustomerId INTEGER REFERENCES Customer(CustomerId), Total NUMERIC(10,2))
//! ```
//!
//! A pruned listing starts with a line saying how many tables it shows; `...` in a table's
//! column list stands for columns left out.

use std::fmt::Write as _;

use super::{samples::SampleValues, select::SchemaSelection, tokens::estimate_tokens};
use crate::catalog::{Catalog, TableKind};

/// Renders tables of one catalog.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SchemaRenderer<'a> {
    pub catalog: &'a Catalog,
    /// Sample values to show; `None` shows none (privacy mode).
    pub samples: Option<&'a SampleValues>,
}

impl SchemaRenderer<'_> {
    /// The line of table `t` showing `columns` (indexes in declaration order).
    pub fn line(&self, t: usize, columns: &[usize]) -> String {
        let table = &self.catalog.tables[t];
        let mut cols: Vec<String> = columns
            .iter()
            .map(|&ci| {
                let c = &table.columns[ci];
                let mut col = c.name.clone();
                if !c.data_type.is_empty() {
                    col.push(' ');
                    col.push_str(&c.data_type);
                }
                if table.primary_key.len() == 1 && table.primary_key[0] == c.name {
                    col.push_str(" PRIMARY KEY");
                }
                for fk in &table.foreign_keys {
                    if fk.columns.len() == 1 && fk.columns[0] == c.name {
                        let _ = write!(
                            col,
                            " REFERENCES {}({})",
                            fk.referenced_table,
                            fk.referenced_columns.join(", ")
                        );
                    }
                }
                if let Some(samples) = self.samples {
                    let values = samples.get(&table.name, &c.name);
                    if !values.is_empty() {
                        let quoted: Vec<String> = values
                            .iter()
                            .map(|v| self.catalog.dialect.quote_string(v))
                            .collect();
                        let _ = write!(col, " (e.g. {})", quoted.join(", "));
                    }
                }
                if let Some(comment) = &c.comment {
                    let _ = write!(col, " -- {comment}");
                }
                col
            })
            .collect();
        if columns.len() < table.columns.len() {
            cols.push("...".into());
        }
        let kind = if table.kind == TableKind::View {
            "VIEW "
        } else {
            ""
        };
        let mut s = format!("{kind}{}({})", table.qualified_name(), cols.join(", "));
        let shown = |name: &String| columns.iter().any(|&ci| &table.columns[ci].name == name);
        if table.primary_key.len() > 1 && table.primary_key.iter().all(shown) {
            let _ = write!(s, " PRIMARY KEY({})", table.primary_key.join(", "));
        }
        for fk in table
            .foreign_keys
            .iter()
            .filter(|fk| fk.columns.len() > 1 && fk.columns.iter().all(shown))
        {
            let _ = write!(
                s,
                " FOREIGN KEY({}) REFERENCES {}({})",
                fk.columns.join(", "),
                fk.referenced_table,
                fk.referenced_columns.join(", ")
            );
        }
        if let Some(c) = &table.comment {
            let _ = write!(s, " -- {c}");
        }
        s
    }

    /// The tokens a line adds to the listing (its own and its line break).
    pub fn line_cost(&self, t: usize, columns: &[usize]) -> usize {
        estimate_tokens(&self.line(t, columns)) + 1
    }

    /// The first line of a pruned listing (left out when no table fits the budget).
    pub fn header(shown: usize, total: usize) -> String {
        format!(
            "-- {shown} of {total} tables, those related to the question; \"...\" stands for columns left out"
        )
    }

    /// The most tokens the header of a pruned listing of this catalog can take.
    pub fn header_cost(&self) -> usize {
        let total = self.catalog.tables.len();
        estimate_tokens(&Self::header(total, total)) + 1
    }

    /// The listing of `selection`, one line per table in catalog order.
    pub fn render(&self, selection: &SchemaSelection) -> String {
        let mut s = String::new();
        if selection.pruned && !selection.tables.is_empty() {
            s.push_str(&Self::header(
                selection.tables.len(),
                self.catalog.tables.len(),
            ));
            s.push('\n');
        }
        for shown in &selection.tables {
            s.push_str(&self.line(shown.table, &shown.columns));
            s.push('\n');
        }
        s
    }
}
