//! The schema as the ranking sees it: the words of every table and column (names, comments and
//! known values) and the foreign-key links between tables. Built once per catalog.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use super::terms::{Word, identifier_words, text_words};
use crate::{
    catalog::Catalog,
    values::{ValueIndex, is_label_name},
};

/// A column's words.
#[derive(Debug, Clone)]
pub(crate) struct ColumnDoc {
    /// The column's name.
    pub name: String,
    /// Words of the name, without the table's own words when others remain (`InvoiceDate` of
    /// `Invoice` is "date").
    pub words: Vec<Word>,
    /// Words of the comment.
    pub comment: Vec<Word>,
    /// Stems of the words of the column's known values.
    pub value_stems: HashSet<String>,
    /// Whether it holds dates or times (by type or name).
    pub temporal: bool,
}

/// A table's words and columns.
#[derive(Debug, Clone)]
pub(crate) struct TableDoc {
    /// Words of the name.
    pub words: Vec<Word>,
    /// Words of the comment.
    pub comment: Vec<Word>,
    /// Its columns, in declaration order.
    pub columns: Vec<ColumnDoc>,
    /// Primary-key columns.
    pub key: Vec<usize>,
    /// The columns that name a row (`name`, `title`, `first_name`, ...), at most two.
    pub labels: Vec<usize>,
}

/// A foreign key seen from one of its two tables (declared, or inferred from a column named
/// like another table's key).
#[derive(Debug, Clone)]
pub(crate) struct Link {
    /// The table at the other end.
    pub to: usize,
    /// The key's columns in this table.
    pub here: Vec<usize>,
}

/// Words and links of one catalog.
#[derive(Debug, Clone)]
pub struct SchemaIndex {
    pub(crate) tables: Vec<TableDoc>,
    /// Links of each table, both directions, self-references included.
    pub(crate) links: Vec<Vec<Link>>,
    names: HashMap<String, usize>,
}

impl SchemaIndex {
    /// Learns the words of `catalog`, with the values of `values` when given.
    pub fn new(catalog: &Catalog, values: Option<&ValueIndex>) -> Self {
        let mut names = HashMap::new();
        for (i, t) in catalog.tables.iter().enumerate() {
            names.entry(t.qualified_name().to_lowercase()).or_insert(i);
            names.entry(t.name.to_lowercase()).or_insert(i);
        }
        let mut tables: Vec<TableDoc> = catalog
            .tables
            .iter()
            .map(|t| {
                let words = identifier_words(&t.name);
                let columns = t
                    .columns
                    .iter()
                    .map(|c| {
                        let all = identifier_words(&c.name);
                        let own: Vec<Word> = all
                            .iter()
                            .filter(|w| !words.iter().any(|tw| tw.raw == w.raw))
                            .cloned()
                            .collect();
                        let temporal = is_temporal(&c.data_type, &all);
                        ColumnDoc {
                            name: c.name.clone(),
                            words: if own.is_empty() { all } else { own },
                            comment: c.comment.as_deref().map(text_words).unwrap_or_default(),
                            value_stems: HashSet::new(),
                            temporal,
                        }
                    })
                    .collect();
                let position = |name: &String| t.columns.iter().position(|c| &c.name == name);
                TableDoc {
                    comment: t.comment.as_deref().map(text_words).unwrap_or_default(),
                    columns,
                    key: t.primary_key.iter().filter_map(position).collect(),
                    labels: t
                        .columns
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| is_label_name(&c.name))
                        .map(|(i, _)| i)
                        .take(2)
                        .collect(),
                    words,
                }
            })
            .collect();
        let mut links: Vec<Vec<Link>> = vec![Vec::new(); catalog.tables.len()];
        for (i, t) in catalog.tables.iter().enumerate() {
            for fk in &t.foreign_keys {
                let Some(&j) = names.get(&fk.referenced_table.to_lowercase()).or_else(|| {
                    fk.referenced_schema.as_ref().and_then(|s| {
                        names.get(&format!("{s}.{}", fk.referenced_table).to_lowercase())
                    })
                }) else {
                    continue;
                };
                let here: Vec<usize> = fk
                    .columns
                    .iter()
                    .filter_map(|c| t.columns.iter().position(|x| &x.name == c))
                    .collect();
                let target = &catalog.tables[j];
                let referenced = if fk.referenced_columns.is_empty() {
                    &target.primary_key
                } else {
                    &fk.referenced_columns
                };
                let there: Vec<usize> = referenced
                    .iter()
                    .filter_map(|c| target.columns.iter().position(|x| &x.name == c))
                    .collect();
                links[i].push(Link { to: j, here });
                if i != j {
                    links[j].push(Link { to: i, here: there });
                }
            }
        }
        infer_links(catalog, &mut links);
        if let Some(values) = values {
            for hit in values.hits() {
                let Some(&t) = names.get(&hit.column.table.to_lowercase()) else {
                    continue;
                };
                let Some(c) = catalog.tables[t]
                    .columns
                    .iter()
                    .position(|c| c.name == hit.column.column)
                else {
                    continue;
                };
                let stems = &mut tables[t].columns[c].value_stems;
                stems.extend(text_words(&hit.value).into_iter().map(|w| w.stem));
            }
        }
        Self {
            tables,
            links,
            names,
        }
    }

    /// The table called `name` (plain or schema-qualified, any case).
    pub(crate) fn table(&self, name: &str) -> Option<usize> {
        self.names.get(&name.to_lowercase()).copied()
    }

    /// Column `name` (exact spelling) of table `t`.
    pub(crate) fn column(&self, t: usize, name: &str) -> Option<usize> {
        self.tables
            .get(t)?
            .columns
            .iter()
            .position(|c| c.name == name)
    }

    /// The shortest chain of foreign keys from `from` to the nearest table of `to`: the tables
    /// on the way, `from` first and the one reached last. Among chains of equal length the one
    /// whose tables in between weigh most by `weight` wins (the first found on a tie). `None`
    /// when no table of `to` is within `max_joins` joins.
    pub(crate) fn path(
        &self,
        from: usize,
        to: &BTreeSet<usize>,
        max_joins: usize,
        weight: &dyn Fn(usize) -> f64,
    ) -> Option<Vec<usize>> {
        let n = self.tables.len();
        let mut depth = vec![usize::MAX; n];
        depth[from] = 0;
        let mut queue = VecDeque::from([from]);
        let mut reached = usize::MAX;
        while let Some(t) = queue.pop_front() {
            if depth[t] > reached {
                break;
            }
            if t != from && to.contains(&t) {
                reached = depth[t];
                continue;
            }
            if depth[t] == max_joins {
                continue;
            }
            for link in &self.links[t] {
                if depth[link.to] == usize::MAX {
                    depth[link.to] = depth[t] + 1;
                    queue.push_back(link.to);
                }
            }
        }
        if reached == usize::MAX {
            return None;
        }
        // Best chain over the breadth-first layers, ending in a table of `to` at `reached`.
        let mut best: Vec<Option<(f64, Vec<usize>)>> = vec![None; n];
        best[from] = Some((0.0, vec![from]));
        for d in 0..reached {
            for t in (0..n).filter(|&t| depth[t] == d) {
                let Some((score, path)) = best[t].clone() else {
                    continue;
                };
                if t != from && to.contains(&t) {
                    continue;
                }
                for link in &self.links[t] {
                    let next = link.to;
                    if depth[next] != d + 1 {
                        continue;
                    }
                    let gain = if to.contains(&next) {
                        0.0
                    } else {
                        weight(next)
                    };
                    let candidate = score + gain;
                    if best[next].as_ref().is_none_or(|(s, _)| candidate > *s) {
                        let mut p = path.clone();
                        p.push(next);
                        best[next] = Some((candidate, p));
                    }
                }
            }
        }
        (0..n)
            .filter(|&t| depth[t] == reached && to.contains(&t))
            .filter_map(|t| best[t].clone())
            .fold(None, |acc: Option<(f64, Vec<usize>)>, c| match acc {
                Some(a) if a.0 >= c.0 => Some(a),
                _ => Some(c),
            })
            .map(|(_, p)| p)
    }
}

/// Whether a column of type `data_type` and name words `words` holds dates or times.
fn is_temporal(data_type: &str, words: &[Word]) -> bool {
    let ty = data_type.to_ascii_lowercase();
    ty.contains("date")
        || ty.contains("time")
        || ty == "year"
        || words.iter().any(|w| {
            matches!(
                w.raw.as_str(),
                "date" | "time" | "timestamp" | "year" | "day"
            ) || w.raw.ends_with("date")
        })
}

/// Key names too generic to link tables by name alone.
fn is_generic_key(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "id" | "code" | "key" | "name" | "no" | "num" | "number" | "type" | "rowid"
    )
}

/// Adds links the catalog does not declare: a column named exactly like another table's
/// single-column primary key (`departments.LOCATION_ID` and `locations.LOCATION_ID`), when no
/// foreign key joins the two tables already. Many databases leave foreign keys undeclared.
fn infer_links(catalog: &Catalog, links: &mut [Vec<Link>]) {
    let keys: Vec<Option<(usize, &str)>> = catalog
        .tables
        .iter()
        .map(|t| match t.primary_key.as_slice() {
            [k] if !is_generic_key(k) => t
                .columns
                .iter()
                .position(|c| &c.name == k)
                .map(|i| (i, k.as_str())),
            _ => None,
        })
        .collect();
    for (i, t) in catalog.tables.iter().enumerate() {
        for (j, key) in keys.iter().enumerate() {
            let Some((kc, key)) = key else { continue };
            if i == j || links[i].iter().any(|l| l.to == j) {
                continue;
            }
            let Some(c) = t
                .columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(key))
            else {
                continue;
            };
            // A shared key column of two tables keyed the same way is no link between them.
            if t.primary_key.len() == 1 && t.primary_key[0].eq_ignore_ascii_case(key) {
                continue;
            }
            links[i].push(Link {
                to: j,
                here: vec![c],
            });
            links[j].push(Link {
                to: i,
                here: vec![*kc],
            });
        }
    }
}
