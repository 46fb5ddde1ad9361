//! The semantic model: what the business calls its data. Tables with synonyms, dimensions,
//! time dimensions, measures (metrics), named filters, relationships the database does not
//! declare, business rules and verified queries, written in YAML (`[semantic] model`) or
//! imported from dbt MetricFlow.
//!
//! The model is checked against each source's catalog and validator when the source connects
//! ([`check`]): an unknown column or an expression the validator refuses stops the engine with
//! the file, line and key. The checked [`Semantic`] is what generators read, restricted to what
//! each asker may see ([`Semantic::restrict`]).

mod check;
pub mod dbt;
mod load;
mod model;
mod terms;
pub mod verified;

use std::sync::Arc;

pub use check::{BoundTable, check};
pub use load::{Located, ModelSource, load_files, parse};
pub use model::*;
pub use terms::{TermMatch, Terms, phrase_norms};

use crate::{catalog::Catalog, text::Token};

/// One item of a model, by index: `Table(t)` is `model.tables[t]`, the others name an entry of
/// that table's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Item {
    /// A logical table.
    Table(usize),
    /// `tables[t].dimensions[i]`.
    Dimension(usize, usize),
    /// `tables[t].time_dimensions[i]`.
    TimeDimension(usize, usize),
    /// `tables[t].measures[i]`.
    Measure(usize, usize),
    /// `tables[t].filters[i]`.
    Filter(usize, usize),
}

impl Item {
    /// The logical table the item belongs to.
    pub fn table(self) -> usize {
        match self {
            Self::Table(t)
            | Self::Dimension(t, _)
            | Self::TimeDimension(t, _)
            | Self::Measure(t, _)
            | Self::Filter(t, _) => t,
        }
    }
}

/// A model checked against one catalog. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Semantic {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    model: SemanticModel,
    tables: Vec<BoundTable>,
    terms: Terms,
}

impl Semantic {
    pub(crate) fn new(model: SemanticModel, tables: Vec<BoundTable>, terms: Terms) -> Self {
        Self {
            inner: Arc::new(Inner {
                model,
                tables,
                terms,
            }),
        }
    }

    /// The model as written (merged from its files).
    pub fn model(&self) -> &SemanticModel {
        &self.inner.model
    }

    /// Per logical table, its catalog table and the columns each item reads.
    pub fn tables(&self) -> &[BoundTable] {
        &self.inner.tables
    }

    /// The phrase index.
    pub fn terms(&self) -> &Terms {
        &self.inner.terms
    }

    /// The model's phrases in a question's tokens.
    pub fn find(&self, tokens: &[Token]) -> Vec<TermMatch> {
        self.inner.terms.find(tokens)
    }

    /// The item's name as the model writes it.
    pub fn name(&self, item: Item) -> &str {
        let t = &self.inner.model.tables[item.table()];
        match item {
            Item::Table(_) => &t.name,
            Item::Dimension(_, i) => &t.dimensions[i].name,
            Item::TimeDimension(_, i) => &t.time_dimensions[i].name,
            Item::Measure(_, i) => &t.measures[i].name,
            Item::Filter(_, i) => &t.filters[i].name,
        }
    }

    /// The item's SQL (`expr`; for a measure, with its aggregation applied; for a table, its
    /// catalog name).
    pub fn sql(&self, item: Item) -> String {
        let t = &self.inner.model.tables[item.table()];
        match item {
            Item::Table(ti) => self.inner.tables[ti].name.clone(),
            Item::Dimension(_, i) => t.dimensions[i].expr.clone(),
            Item::TimeDimension(_, i) => t.time_dimensions[i].expr.clone(),
            Item::Measure(_, i) => t.measures[i].aggregation.apply(&t.measures[i].expr),
            Item::Filter(_, i) => t.filters[i].expr.clone(),
        }
    }

    /// The catalog columns the item's SQL reads.
    pub fn columns(&self, item: Item) -> &[String] {
        self.inner.tables[item.table()]
            .columns
            .iter()
            .find(|(i, _)| *i == item)
            .map_or(&[], |(_, c)| c.as_slice())
    }

    /// The model as seen through `catalog` (a principal's visible catalog): tables that are not
    /// in it, and items reading a column that is not in it, are left out; so are relationships
    /// to a table left out. Verified queries stay (they run under the principal's policy).
    pub fn restrict(&self, catalog: &Catalog) -> Semantic {
        let model = &self.inner.model;
        let mut kept = SemanticModel {
            name: model.name.clone(),
            description: model.description.clone(),
            business_rules: model.business_rules.clone(),
            verified_queries: model.verified_queries.clone(),
            ..SemanticModel::default()
        };
        let mut tables = Vec::new();
        for (ti, (t, bound)) in model.tables.iter().zip(&self.inner.tables).enumerate() {
            let Some(visible) = catalog.find_table(bound.schema.as_deref(), &bound.name, true)
            else {
                continue;
            };
            let readable = |item: Item| {
                self.columns(item)
                    .iter()
                    .all(|c| visible.columns.iter().any(|v| &v.name == c))
            };
            let nt = kept.tables.len();
            let mut table = SemanticTable {
                dimensions: Vec::new(),
                time_dimensions: Vec::new(),
                measures: Vec::new(),
                filters: Vec::new(),
                ..t.clone()
            };
            let mut columns = Vec::new();
            let mut keep = |item: Item, new: Item| {
                columns.push((new, self.columns(item).to_vec()));
            };
            for (i, d) in t.dimensions.iter().enumerate() {
                if readable(Item::Dimension(ti, i)) {
                    keep(
                        Item::Dimension(ti, i),
                        Item::Dimension(nt, table.dimensions.len()),
                    );
                    table.dimensions.push(d.clone());
                }
            }
            for (i, d) in t.time_dimensions.iter().enumerate() {
                if readable(Item::TimeDimension(ti, i)) {
                    keep(
                        Item::TimeDimension(ti, i),
                        Item::TimeDimension(nt, table.time_dimensions.len()),
                    );
                    table.time_dimensions.push(d.clone());
                }
            }
            for (i, m) in t.measures.iter().enumerate() {
                if readable(Item::Measure(ti, i)) {
                    keep(
                        Item::Measure(ti, i),
                        Item::Measure(nt, table.measures.len()),
                    );
                    table.measures.push(m.clone());
                }
            }
            for (i, f) in t.filters.iter().enumerate() {
                if readable(Item::Filter(ti, i)) {
                    keep(Item::Filter(ti, i), Item::Filter(nt, table.filters.len()));
                    table.filters.push(f.clone());
                }
            }
            kept.tables.push(table);
            tables.push(BoundTable {
                schema: bound.schema.clone(),
                name: bound.name.clone(),
                columns,
            });
        }
        let present = |name: &str| {
            kept.tables.iter().any(|t| t.name == name) || check::find_table(catalog, name).is_some()
        };
        kept.relationships = model
            .relationships
            .iter()
            .filter(|r| present(&r.left_table) && present(&r.right_table))
            .cloned()
            .collect();
        let terms = Terms::build(&kept);
        Semantic::new(kept, tables, terms)
    }
}
