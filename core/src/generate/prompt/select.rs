//! Schema pruning: which tables and columns go into the prompt within the token budget.
//!
//! A schema whose whole listing fits the budget is sent whole. Otherwise, in order:
//!
//! 1. the relevant tables, most relevant first, each with the tables on the shortest
//!    foreign-key path (at most [`MAX_JOINS`] joins) to a table already kept, so that the
//!    kept tables can be joined; each kept table shows its key, its label columns, the
//!    columns of foreign keys between kept tables and its relevant columns;
//! 2. tables one foreign key away from the kept ones, most relevant first, with their key,
//!    labels and linking columns;
//! 3. the remaining columns of the kept tables, most relevant first, then those of the
//!    tables kept first.
//!
//! Every addition is made only if the listing still fits, so the listing never exceeds the
//! budget (measured by [`super::tokens::estimate_tokens`]).

use std::collections::{BTreeMap, BTreeSet};

use super::{index::SchemaIndex, rank::Relevance, render::SchemaRenderer};

/// Longest join chain added to connect a relevant table to the kept ones.
pub const MAX_JOINS: usize = 3;
/// Tables scoring at least this are relevant.
pub const TABLE_THRESHOLD: f64 = 0.3;
/// Columns scoring at least this are shown with their table from the start.
pub const COLUMN_THRESHOLD: f64 = 0.3;

/// A table in the listing and the columns it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownTable {
    /// Index of the table in the catalog.
    pub table: usize,
    /// Indexes of the shown columns, in declaration order.
    pub columns: Vec<usize>,
}

/// The part of the schema that goes into the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaSelection {
    /// Shown tables, in catalog order.
    pub tables: Vec<ShownTable>,
    /// Whether anything was left out.
    pub pruned: bool,
}

impl SchemaSelection {
    /// The whole catalog.
    pub fn whole(index: &SchemaIndex) -> Self {
        Self {
            tables: index
                .tables
                .iter()
                .enumerate()
                .map(|(t, td)| ShownTable {
                    table: t,
                    columns: (0..td.columns.len()).collect(),
                })
                .collect(),
            pruned: false,
        }
    }
}

/// The kept tables and their columns while the selection grows.
struct Growing<'a> {
    index: &'a SchemaIndex,
    relevance: &'a Relevance,
    renderer: &'a SchemaRenderer<'a>,
    budget: usize,
    shown: BTreeMap<usize, BTreeSet<usize>>,
    cost: BTreeMap<usize, usize>,
    /// Kept tables in the order they were added.
    order: Vec<usize>,
    total: usize,
}

impl Growing<'_> {
    fn line_cost(&self, t: usize, cols: &BTreeSet<usize>) -> usize {
        let cols: Vec<usize> = cols.iter().copied().collect();
        self.renderer.line_cost(t, &cols)
    }

    /// The columns table `t` must show when `kept` are the kept tables.
    fn required(&self, t: usize, kept: &BTreeSet<usize>, relevant: bool) -> BTreeSet<usize> {
        let td = &self.index.tables[t];
        let mut cols: BTreeSet<usize> = td.key.iter().copied().collect();
        cols.extend(td.labels.iter().copied());
        for link in &self.index.links[t] {
            if kept.contains(&link.to) {
                cols.extend(link.here.iter().copied());
            }
        }
        if relevant {
            cols.extend(
                self.relevance.columns[t]
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| **s >= COLUMN_THRESHOLD)
                    .map(|(c, _)| c),
            );
        }
        cols
    }

    /// Keeps `tables` (with their required columns, and the linking columns they need in the
    /// tables already kept) if the listing still fits; returns whether it did.
    fn try_keep(&mut self, tables: &[usize], relevant: bool) -> bool {
        let new: Vec<usize> = tables
            .iter()
            .copied()
            .filter(|t| !self.shown.contains_key(t))
            .collect();
        if new.is_empty() {
            return true;
        }
        let mut kept: BTreeSet<usize> = self.shown.keys().copied().collect();
        kept.extend(&new);
        let mut affected: BTreeSet<usize> = new.iter().copied().collect();
        for &t in &new {
            affected.extend(
                self.index.links[t]
                    .iter()
                    .map(|l| l.to)
                    .filter(|to| self.shown.contains_key(to)),
            );
        }
        let mut total = self.total;
        let mut changes = Vec::new();
        for &t in &affected {
            let mut cols = self.shown.get(&t).cloned().unwrap_or_default();
            let is_new = !self.shown.contains_key(&t);
            cols.extend(self.required(t, &kept, is_new && relevant));
            let cost = self.line_cost(t, &cols);
            total = total - self.cost.get(&t).copied().unwrap_or(0) + cost;
            changes.push((t, cols, cost));
        }
        if total > self.budget {
            return false;
        }
        for (t, cols, cost) in changes {
            self.shown.insert(t, cols);
            self.cost.insert(t, cost);
        }
        self.order.extend(new);
        self.total = total;
        true
    }

    /// Shows column `c` of kept table `t` if the listing still fits.
    fn try_show(&mut self, t: usize, c: usize) {
        let Some(cols) = self.shown.get(&t) else {
            return;
        };
        if cols.contains(&c) {
            return;
        }
        let mut cols = cols.clone();
        cols.insert(c);
        let cost = self.line_cost(t, &cols);
        let total = self.total - self.cost[&t] + cost;
        if total <= self.budget {
            self.shown.insert(t, cols);
            self.cost.insert(t, cost);
            self.total = total;
        }
    }
}

/// The tables and columns to show for `relevance` within `budget` tokens.
pub(crate) fn select(
    index: &SchemaIndex,
    relevance: &Relevance,
    renderer: &SchemaRenderer<'_>,
    budget: usize,
) -> SchemaSelection {
    let whole = SchemaSelection::whole(index);
    let whole_cost: usize = whole
        .tables
        .iter()
        .map(|s| renderer.line_cost(s.table, &s.columns))
        .sum();
    if whole_cost <= budget {
        return whole;
    }
    let mut g = Growing {
        index,
        relevance,
        renderer,
        budget,
        shown: BTreeMap::new(),
        cost: BTreeMap::new(),
        order: Vec::new(),
        total: renderer.header_cost(),
    };
    if g.total > budget {
        return SchemaSelection {
            tables: Vec::new(),
            pruned: true,
        };
    }
    let ranked = relevance.table_order();

    // 1. Relevant tables with the join paths that connect them.
    for &t in ranked
        .iter()
        .filter(|&&t| relevance.tables[t] >= TABLE_THRESHOLD)
    {
        if g.shown.contains_key(&t) {
            continue;
        }
        let kept: BTreeSet<usize> = g.shown.keys().copied().collect();
        let path = if kept.is_empty() {
            None
        } else {
            index.path(t, &kept, MAX_JOINS, &|x| relevance.tables[x])
        };
        let mut group = vec![t];
        if let Some(path) = path {
            group.extend(&path[1..path.len() - 1]);
        }
        if !g.try_keep(&group, true) && group.len() > 1 {
            g.try_keep(&[t], true);
        }
    }
    if g.shown.is_empty() {
        // Nothing relevant, or the most relevant table does not fit with its columns: start
        // from the first table by rank with its key alone and let its columns follow.
        if let Some(&t) = ranked.first() {
            let key: BTreeSet<usize> = index.tables[t].key.iter().copied().collect();
            let cost = g.line_cost(t, &key);
            if g.total + cost <= budget {
                g.shown.insert(t, key);
                g.cost.insert(t, cost);
                g.order.push(t);
                g.total += cost;
            }
        }
    }

    // 2. Neighbours of the kept tables.
    let mut neighbours: Vec<usize> = Vec::new();
    for &t in &g.order {
        for link in &index.links[t] {
            if !g.shown.contains_key(&link.to) && !neighbours.contains(&link.to) {
                neighbours.push(link.to);
            }
        }
    }
    neighbours.sort_by(|&a, &b| relevance.tables[b].total_cmp(&relevance.tables[a]));
    for t in neighbours {
        g.try_keep(&[t], false);
    }

    // 3. The other columns of the kept tables, most relevant first.
    let mut hidden: Vec<(usize, usize, usize)> = Vec::new();
    for (rank, &t) in g.order.iter().enumerate() {
        for c in 0..index.tables[t].columns.len() {
            if !g.shown[&t].contains(&c) {
                hidden.push((rank, t, c));
            }
        }
    }
    hidden.sort_by(|a, b| {
        relevance.columns[b.1][b.2]
            .total_cmp(&relevance.columns[a.1][a.2])
            .then(a.0.cmp(&b.0))
            .then(a.2.cmp(&b.2))
    });
    for (_, t, c) in hidden {
        g.try_show(t, c);
    }

    SchemaSelection {
        tables: g
            .shown
            .into_iter()
            .map(|(table, cols)| ShownTable {
                table,
                columns: cols.into_iter().collect(),
            })
            .collect(),
        pruned: true,
    }
}
