//! Joins along foreign keys: the smallest tree of tables that connects the tables a query
//! reads, found by breadth-first search over the foreign-key graph.

use std::collections::{HashMap, VecDeque};

use crate::catalog::Catalog;

/// One foreign key between two tables, seen from one end.
#[derive(Debug, Clone)]
struct Edge {
    to: usize,
    /// Columns on this end.
    here: Vec<String>,
    /// Columns on the other end.
    there: Vec<String>,
    /// Whether this end holds the foreign key (each row here matches at most one row there).
    to_one: bool,
    /// Whether several foreign keys link the two tables.
    ambiguous: bool,
}

/// A table joined into a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinStep {
    /// The table joined in.
    pub table: String,
    /// The table already in the query it joins to.
    pub parent: String,
    /// Pairs of (column of `parent`, column of `table`) that must be equal.
    pub on: Vec<(String, String)>,
    /// Whether each row of `parent` matches at most one row of `table`.
    pub to_one: bool,
    /// Whether other foreign keys also link the two tables, so that this join is a guess.
    pub ambiguous: bool,
    /// Whether `parent` was itself joined from a table pointing to it, and `table` points to
    /// it too: the two tables around `parent` are then related only by sharing a row of it
    /// (students and courses of one department), a relation questions rarely mean.
    pub shared_parent: bool,
}

/// The foreign-key graph of a catalog, with all shortest distances.
#[derive(Debug, Clone)]
pub struct SchemaGraph {
    names: Vec<String>,
    index: HashMap<String, usize>,
    adj: Vec<Vec<Edge>>,
    dist: Vec<Vec<u32>>,
}

const FAR: u32 = u32::MAX;

impl SchemaGraph {
    /// Builds the graph of `catalog`'s foreign keys (self-references are left out).
    pub fn new(catalog: &Catalog) -> Self {
        let names: Vec<String> = catalog.tables.iter().map(|t| t.name.clone()).collect();
        let index: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_lowercase(), i))
            .collect();
        let mut adj: Vec<Vec<Edge>> = vec![Vec::new(); names.len()];
        for (i, t) in catalog.tables.iter().enumerate() {
            for fk in &t.foreign_keys {
                let Some(&j) = index.get(&fk.referenced_table.to_lowercase()) else {
                    continue;
                };
                let there = if fk.referenced_columns.len() == fk.columns.len() {
                    fk.referenced_columns.clone()
                } else {
                    catalog.tables[j].primary_key.clone()
                };
                add_edge(&mut adj, i, j, &fk.columns, &there);
            }
        }
        let dist = (0..names.len()).map(|s| bfs(&adj, s)).collect();
        Self {
            names,
            index,
            adj,
            dist,
        }
    }

    /// The graph with the joins a semantic model declares (`relationships`, from the "many"
    /// table's columns to the "one" table's) added to the foreign keys; a relationship the
    /// foreign keys already hold changes nothing.
    pub fn with_relationships(
        mut self,
        joins: &[(String, Vec<String>, String, Vec<String>)],
    ) -> Self {
        let mut changed = false;
        for (left, left_cols, right, right_cols) in joins {
            let (Some(i), Some(j)) = (self.idx(left), self.idx(right)) else {
                continue;
            };
            let known = self.adj[i]
                .iter()
                .any(|e| e.to == j && e.here == *left_cols && e.there == *right_cols);
            if !known {
                add_edge(&mut self.adj, i, j, left_cols, right_cols);
                changed = true;
            }
        }
        if changed {
            self.dist = (0..self.names.len()).map(|s| bfs(&self.adj, s)).collect();
        }
        self
    }

    fn idx(&self, table: &str) -> Option<usize> {
        self.index.get(&table.to_lowercase()).copied()
    }

    /// The number of joins between two tables, or `None` when they are not connected.
    pub fn distance(&self, a: &str, b: &str) -> Option<u32> {
        let d = self.dist[self.idx(a)?][self.idx(b)?];
        (d != FAR).then_some(d)
    }

    /// The joins that connect `tables` to `root`, in an order where each step's parent is
    /// already joined; `None` when some table cannot be reached.
    pub fn join_tree(&self, root: &str, tables: &[String]) -> Option<Vec<JoinStep>> {
        let root = self.idx(root)?;
        let mut in_tree = vec![false; self.names.len()];
        in_tree[root] = true;
        // Tables in the order they joined: at equal distance, a table joins to the subject
        // (or the table that joined earliest) rather than through another one.
        let mut order = vec![root];
        let mut steps = Vec::new();
        let mut wanted: Vec<usize> = Vec::new();
        for t in tables {
            let i = self.idx(t)?;
            if !in_tree[i] && !wanted.contains(&i) {
                wanted.push(i);
            }
        }
        while !wanted.is_empty() {
            // Multi-source BFS from the tree to the nearest wanted table: first along links
            // that are not ambiguous (two tables joined by several foreign keys) through the
            // query's own tables only, then along any link without a shared parent, then
            // along any link.
            //
            // A shared parent is a table passed through that both its neighbours on the path
            // point to (students → department ← courses): it relates rows only by having the
            // same parent, which a question about students and their courses never means.
            // The search state is (table, whether it was entered from a row pointing to it).
            let n = self.names.len();
            let mut parent: Vec<Option<(usize, usize)>> = vec![None; 2 * n];
            let mut found = None;
            for pass in 0..3 {
                let (any_link, through_parent) = (pass > 0, pass > 1);
                parent = vec![None; 2 * n];
                let mut seen: Vec<bool> = in_tree.iter().chain(&in_tree).copied().collect();
                let mut queue: VecDeque<usize> = order.iter().copied().collect();
                while let Some(s) = queue.pop_front() {
                    let (u, up) = (s % n, s >= n);
                    if wanted.contains(&u) && !in_tree[u] {
                        found = Some(s);
                        break;
                    }
                    for (ei, e) in self.adj[u].iter().enumerate() {
                        let own = in_tree[e.to] || wanted.contains(&e.to);
                        if up && !e.to_one && !through_parent {
                            continue;
                        }
                        let next = e.to + if e.to_one { n } else { 0 };
                        if !seen[next] && (any_link || (!e.ambiguous && own)) {
                            seen[next] = true;
                            parent[next] = Some((s, ei));
                            queue.push_back(next);
                        }
                    }
                }
                if found.is_some() {
                    break;
                }
            }
            let target = found?;
            let mut path = Vec::new();
            let mut cur = target;
            while let Some((p, ei)) = parent[cur] {
                path.push((p, ei));
                cur = p;
            }
            for (state, ei) in path.into_iter().rev() {
                let p = state % n;
                let e = &self.adj[p][ei];
                in_tree[e.to] = true;
                order.push(e.to);
                steps.push(JoinStep {
                    table: self.names[e.to].clone(),
                    parent: self.names[p].clone(),
                    on: e
                        .here
                        .iter()
                        .cloned()
                        .zip(e.there.iter().cloned())
                        .collect(),
                    to_one: e.to_one,
                    ambiguous: e.ambiguous,
                    shared_parent: state >= n && !e.to_one,
                });
            }
            wanted.retain(|&w| !in_tree[w]);
        }
        Some(steps)
    }

    /// The number of joins needed to connect `tables`, or `None` when they are not connected.
    pub fn tree_cost(&self, tables: &[&str]) -> Option<u32> {
        let idx: Vec<usize> = tables.iter().map(|t| self.idx(t)).collect::<Option<_>>()?;
        let Some((&first, rest)) = idx.split_first() else {
            return Some(0);
        };
        // Greedy: attach the nearest remaining table to the tree by its shortest path.
        let mut tree = vec![first];
        let mut remaining: Vec<usize> = rest.iter().copied().filter(|&i| i != first).collect();
        remaining.dedup();
        let mut cost = 0;
        while !remaining.is_empty() {
            let (pos, d) = remaining
                .iter()
                .enumerate()
                .map(|(k, &r)| {
                    (
                        k,
                        tree.iter().map(|&t| self.dist[t][r]).min().unwrap_or(FAR),
                    )
                })
                .min_by_key(|&(_, d)| d)?;
            if d == FAR {
                return None;
            }
            cost += d;
            tree.push(remaining.swap_remove(pos));
        }
        Some(cost)
    }
}

/// Adds the join `i.here = j.there`, where each row of `i` matches at most one row of `j`.
fn add_edge(adj: &mut [Vec<Edge>], i: usize, j: usize, here: &[String], there: &[String]) {
    if i == j {
        return;
    }
    if let Some(e) = adj[i].iter_mut().find(|e| e.to == j) {
        // Two foreign keys between the same tables (`source_airport`, `dest_airport`): which
        // one a question means is not known.
        e.ambiguous = true;
        if let Some(back) = adj[j].iter_mut().find(|e| e.to == i) {
            back.ambiguous = true;
        }
        return;
    }
    if there.len() != here.len() || there.is_empty() {
        return;
    }
    adj[i].push(Edge {
        to: j,
        here: here.to_vec(),
        there: there.to_vec(),
        to_one: true,
        ambiguous: false,
    });
    adj[j].push(Edge {
        to: i,
        here: there.to_vec(),
        there: here.to_vec(),
        to_one: false,
        ambiguous: false,
    });
}

fn bfs(adj: &[Vec<Edge>], start: usize) -> Vec<u32> {
    let mut dist = vec![FAR; adj.len()];
    dist[start] = 0;
    let mut queue = VecDeque::from([start]);
    while let Some(u) = queue.pop_front() {
        for e in &adj[u] {
            if dist[e.to] == FAR {
                dist[e.to] = dist[u] + 1;
                queue.push_back(e.to);
            }
        }
    }
    dist
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdb;

    #[tokio::test]
    async fn chinook_genre_to_invoice_line_goes_through_track() {
        let catalog = testdb::catalog("chinook").await;
        let g = SchemaGraph::new(&catalog);
        assert_eq!(g.distance("Genre", "InvoiceLine"), Some(2));
        let steps = g
            .join_tree("InvoiceLine", &["Genre".to_string()])
            .expect("connected");
        let tables: Vec<&str> = steps.iter().map(|s| s.table.as_str()).collect();
        assert_eq!(tables, ["Track", "Genre"]);
        assert!(steps.iter().all(|s| s.to_one));
        let back = g
            .join_tree("Artist", &["Track".to_string()])
            .expect("connected");
        assert_eq!(back.len(), 2);
        assert!(!back[0].to_one, "artist to album fans out");
        assert_eq!(g.tree_cost(&["Artist", "Track", "Genre"]), Some(3));
    }
}
