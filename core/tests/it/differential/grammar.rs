//! The grammar of generated statements: queries built over scopes of relations, so that most
//! statements name real columns of the relations in scope (and, at a low rate, restricted
//! columns, tables outside the allowed ones, and columns of enclosing scopes).

use conversational_bi::Dialect;

use super::{
    fixture::{self, Ty},
    generate::{Generator, Toks},
    lexical::{self, Rng},
};

/// A statement of the grammar, as tokens.
pub fn statement(g: &Generator, rng: &mut Rng) -> Toks {
    let hostile = rng.chance(0.5);
    let mut cx = Cx {
        g,
        rng,
        scopes: Vec::new(),
        ctes: Vec::new(),
        depth: 0,
        barrier: 0,
        p_denied: if hostile { 0.12 } else { 0.02 },
        p_outer: if hostile { 0.5 } else { 0.2 },
        p_open: if hostile { 0.3 } else { 0.08 },
    };
    let mut out = Vec::new();
    if g.dialect == Dialect::Postgres && cx.rng.chance(0.01) {
        out.push("TABLE".to_string());
        let t = cx.table_choice();
        out.push(cx.table_name(t));
    } else {
        let (q, _) = cx.query(None, true);
        out.extend(q);
    }
    let odd = if cx.rng.chance(0.3) {
        0.05 + cx.rng.below(20) as f64 / 100.0
    } else {
        0.0
    };
    Toks {
        dialect: g.dialect,
        items: out,
        odd,
    }
}

/// A column of a relation in scope: its stored name (when the generator knows it) and kind.
#[derive(Debug, Clone)]
pub(super) struct Col {
    pub(super) name: Option<String>,
    pub(super) ty: Ty,
    pub(super) denied: bool,
}

/// A relation in a `FROM` scope.
#[derive(Debug, Clone)]
pub(super) struct Rel {
    /// The name that qualifies its columns; none for an unnamed derived table.
    pub(super) name: Option<String>,
    /// Whether the name compares without regard to case (a table name on SQLite).
    pub(super) case_free: bool,
    pub(super) cols: Vec<Col>,
    /// The catalog table without an alias, for `namespace.table.column` references.
    pub(super) table: Option<usize>,
}

#[derive(Debug, Default)]
pub(super) struct Scope {
    pub(super) rels: Vec<Rel>,
}

#[derive(Debug, Clone)]
pub(super) struct Cte {
    pub(super) name: String,
    pub(super) cols: Vec<Col>,
}

const REL_ALIASES: &[&str] = &[
    "a",
    "b",
    "c",
    "t",
    "t1",
    "t2",
    "x",
    "d",
    "sub",
    "c2",
    "o",
    "n",
    "customers",
    "orders",
    "ssn",
    "Weird Alias",
    "q\"a",
    "b`a",
    "é",
    "名前",
    "nb\u{a0}sp",
    "zw\u{200b}j",
    "e\u{301}",
    "a]b",
    "MiXed",
    "select",
    "T",
];

const COL_ALIASES: &[&str] = &[
    "v",
    "total",
    "n",
    "label",
    "ssn",
    "email",
    "x y",
    "q\"c",
    "é",
    "名",
    "id",
    "\u{200b}",
    "a]b",
    "UPPER",
    "pr\"ivate",
    "b`c",
];

const CTE_NAMES: &[&str] = &[
    "c1",
    "cte",
    "recent",
    "orders",
    "customers",
    "secrets",
    "q\"c",
    "Ünï",
];

/// Generation state: the scopes from outermost to innermost and the visible CTEs.
pub(super) struct Cx<'g, 'r> {
    pub(super) g: &'g Generator,
    pub(super) rng: &'r mut Rng,
    pub(super) scopes: Vec<Scope>,
    pub(super) ctes: Vec<Cte>,
    pub(super) depth: usize,
    /// The first scope a column reference may use: on MariaDB a derived table or a CTE body
    /// cannot see the scopes around it (see [`Generator::hunting_crashes`]).
    pub(super) barrier: usize,
    pub(super) p_denied: f64,
    pub(super) p_outer: f64,
    pub(super) p_open: f64,
}

pub(super) type Out = Vec<String>;

impl Cx<'_, '_> {
    pub(super) fn d(&self) -> Dialect {
        self.g.dialect
    }

    /// Before a derived table or CTE body: on MariaDB (unless hunting crashes) hides the
    /// enclosing scopes from column references, as MariaDB does (it answers "Unknown column",
    /// or crashes: `fixture::KNOWN_CRASHES`). Returns the barrier to restore afterwards.
    pub(super) fn enclose(&mut self) -> usize {
        let saved = self.barrier;
        if self.g.avoid_known_crashes && self.d() == Dialect::Mysql {
            self.barrier = self.scopes.len();
        }
        saved
    }

    pub(super) fn ident(&mut self, name: &str, case_free: bool) -> String {
        lexical::ident(self.rng, self.g.dialect, name, case_free)
    }

    pub(super) fn lit(&mut self) -> String {
        let c = lexical::content(self.rng, self.g.dialect);
        lexical::literal(self.rng, self.g.dialect, &c)
    }

    pub(super) fn num(&mut self) -> String {
        self.rng
            .pick(&["0", "1", "2", "3", "10", "1.5", "-1", "1e1", "(2)"])
            .to_string()
    }

    /// A query: optional `WITH`, a select or a set operation, optional `ORDER BY` / `LIMIT`.
    pub(super) fn query(&mut self, want: Option<Vec<Ty>>, may_limit: bool) -> (Out, Vec<Col>) {
        let saved_ctes = self.ctes.len();
        let mut out = Vec::new();
        if self.depth < 2 && self.rng.chance(0.15) {
            out.extend(self.with_clause());
        }
        self.depth += 1;
        let (body, cols) = if self.depth < 4 && self.rng.chance(0.12) {
            let tys = want.unwrap_or_else(|| {
                (0..1 + self.rng.below(2))
                    .map(|_| *self.rng.pick(&[Ty::Num, Ty::Text]))
                    .collect()
            });
            let (mut left, cols) = self.select(Some(&tys));
            let op = *self.rng.pick(&[
                "UNION",
                "UNION ALL",
                "EXCEPT",
                "INTERSECT",
                "UNION DISTINCT",
            ]);
            let op = if op == "UNION DISTINCT" && self.d() == Dialect::Sqlite {
                "UNION"
            } else {
                op
            };
            let (right, _) = self.select(Some(&tys));
            left.push(op.to_string());
            left.extend(right);
            (left, cols)
        } else {
            self.select(want.as_deref())
        };
        self.depth -= 1;
        out.extend(body);
        if self.rng.chance(0.2) && !cols.is_empty() {
            out.push("ORDER BY".into());
            out.push((1 + self.rng.below(cols.len())).to_string());
            if self.rng.chance(0.3) {
                out.push("DESC".into());
            }
        }
        if may_limit && self.rng.chance(0.2) {
            out.push("LIMIT".into());
            out.push(self.rng.pick(&["1", "5", "10", "5000"]).to_string());
        }
        self.ctes.truncate(saved_ctes);
        (out, cols)
    }

    pub(super) fn with_clause(&mut self) -> Out {
        let mut out = vec!["WITH".to_string()];
        let recursive = self.rng.chance(0.3);
        if recursive {
            out.push("RECURSIVE".into());
        }
        let n = 1 + self.rng.below(2);
        for i in 0..n {
            if i > 0 {
                out.push(",".into());
            }
            let name = self.rng.pick(CTE_NAMES).to_string();
            let name = if self.ctes.iter().any(|c| c.name == name) {
                format!("{name}{i}")
            } else {
                name
            };
            let rendered = self.ident(&name, self.d() == Dialect::Sqlite);
            if recursive && i == 0 {
                // r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r [JOIN ...] WHERE n < 3)
                let col = self.ident("n", true);
                out.push(format!("{rendered}({col})"));
                out.push("AS (SELECT 1 UNION ALL SELECT".into());
                out.push(format!("{col} + 1 FROM {rendered}"));
                if self.rng.chance(0.4) {
                    let t = self.table_choice();
                    let tn = self.table_name(t);
                    out.push(format!(
                        "JOIN {tn} ON {tn}.id = {rendered}.{col} WHERE {col} < 3)"
                    ));
                } else {
                    out.push(format!("WHERE {col} < 3)"));
                }
                self.ctes.push(Cte {
                    name,
                    cols: vec![Col {
                        name: Some("n".into()),
                        ty: Ty::Num,
                        denied: false,
                    }],
                });
                continue;
            }
            self.depth += 1;
            let saved = self.enclose();
            let (q, mut cols) = self.query(None, true);
            self.barrier = saved;
            self.depth -= 1;
            out.push(rendered);
            if self.rng.chance(0.35) && !cols.is_empty() {
                let names: Vec<String> = (0..cols.len()).map(|k| format!("k{k}")).collect();
                let list: Vec<String> = names.iter().map(|c| self.ident(c, true)).collect();
                out.push(format!("({})", list.join(", ")));
                for (c, n) in cols.iter_mut().zip(names) {
                    c.name = Some(n);
                    c.denied = false;
                }
            }
            out.push("AS".into());
            if self.d() == Dialect::Postgres && self.rng.chance(0.15) {
                out.push(
                    self.rng
                        .pick(&["MATERIALIZED", "NOT MATERIALIZED"])
                        .to_string(),
                );
            }
            out.push("(".into());
            out.extend(q);
            out.push(")".into());
            self.ctes.push(Cte { name, cols });
        }
        out
    }

    /// `SELECT items [FROM ...] [WHERE ...] [GROUP BY ...] [HAVING ...]`.
    pub(super) fn select(&mut self, want: Option<&[Ty]>) -> (Out, Vec<Col>) {
        self.scopes.push(Scope::default());
        let from = if self.rng.chance(0.06) {
            Vec::new()
        } else {
            self.relations()
        };
        let agg = self.rng.chance(0.15);
        let mut items: Out = Vec::new();
        let mut cols = Vec::new();
        let star_ok = want.is_none() && !agg && !from.is_empty();
        if star_ok && self.rng.chance(0.15) {
            let scope = self
                .scopes
                .last()
                .map(|s| s.rels.clone())
                .unwrap_or_default();
            if self.rng.chance(0.5) || scope.iter().all(|r| r.name.is_none()) {
                items.push("*".into());
                for r in &scope {
                    cols.extend(r.cols.iter().cloned());
                }
            } else {
                let named: Vec<&Rel> = scope.iter().filter(|r| r.name.is_some()).collect();
                let r = (*self.rng.pick(&named)).clone();
                let q = self.rel_qualifier(&r);
                items.push(format!("{q}.*"));
                cols.extend(r.cols.iter().cloned());
            }
        }
        let tys: Vec<Ty> = match want {
            Some(t) => t.to_vec(),
            None if !items.is_empty() && self.rng.chance(0.6) => Vec::new(),
            None => (0..1 + self.rng.below(3))
                .map(|_| *self.rng.pick(&[Ty::Num, Ty::Text]))
                .collect(),
        };
        for ty in tys {
            if !items.is_empty() {
                items.push(",".into());
            }
            let (e, name, denied) = if agg {
                (self.aggregate(ty), None, false)
            } else {
                self.item_expr(ty)
            };
            items.extend(e);
            let name = if self.rng.chance(0.4) {
                let alias = self.rng.pick(COL_ALIASES).to_string();
                if self.rng.chance(0.8) {
                    items.push("AS".into());
                }
                let case_free = self.d() != Dialect::Postgres;
                items.push(self.ident(&alias, case_free));
                Some(alias)
            } else {
                name
            };
            cols.push(Col { name, ty, denied });
        }
        let mut out = vec!["SELECT".to_string()];
        if self.rng.chance(0.08) {
            out.push("DISTINCT".into());
        }
        out.extend(items);
        if !from.is_empty() {
            out.push("FROM".into());
            out.extend(from);
        }
        if self.rng.chance(0.45) {
            out.push("WHERE".into());
            let p = self.pred(2);
            out.extend(p);
        }
        if agg && self.rng.chance(0.4) {
            let ty = *self.rng.pick(&[Ty::Num, Ty::Text]);
            if let Some((e, _, _)) = self.col_ref(ty, false) {
                out.push("GROUP BY".into());
                out.extend(e);
            }
            if self.rng.chance(0.3) {
                out.push("HAVING count(*) > 0".into());
            }
        }
        self.scopes.pop();
        (out, cols)
    }

    /// The index of a table: an allowed one mostly, now and then one outside the allowed tables.
    pub(super) fn table_choice(&mut self) -> usize {
        let allowed: Vec<usize> = (0..self.g.tables.len())
            .filter(|&i| self.g.tables[i].allowed)
            .collect();
        if self.rng.chance(self.p_denied / 2.0) {
            self.rng.below(self.g.tables.len())
        } else {
            *self.rng.pick(&allowed)
        }
    }

    /// A table's name as written in FROM, qualified now and then.
    pub(super) fn table_name(&mut self, t: usize) -> String {
        let d = self.d();
        let def = &self.g.tables[t];
        let (name, ns) = (def.name, def.namespace);
        let n = self.ident(name, d == Dialect::Sqlite);
        if ns.is_some() || self.rng.chance(0.15) {
            let q = self.namespace_of(t);
            if d == Dialect::Postgres && ns.is_none() && self.rng.chance(0.2) {
                let db = self.ident("cbi_diff", false);
                return format!("{db}.{q}.{n}");
            }
            format!("{q}.{n}")
        } else {
            n
        }
    }

    pub(super) fn fresh_alias(&mut self, pool: &[&str]) -> String {
        let a = self.rng.pick(pool).to_string();
        let taken = |s: &Scope, a: &str| {
            s.rels
                .iter()
                .any(|r| r.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(a)))
        };
        match self.scopes.last() {
            Some(s) if taken(s, &a) => format!("{a}{}", s.rels.len() + 1),
            _ => a,
        }
    }

    pub(super) fn push_rel(&mut self, rel: Rel) {
        if let Some(s) = self.scopes.last_mut() {
            s.rels.push(rel);
        }
    }

    /// `FROM` items joined by commas or joins; fills the current scope.
    pub(super) fn relations(&mut self) -> Out {
        let mut out = self.relation();
        let n = match self.rng.below(10) {
            0..=5 => 1,
            6..=8 => 2,
            _ => 3,
        };
        for _ in 1..n {
            let left: Vec<Rel> = self
                .scopes
                .last()
                .map(|s| s.rels.clone())
                .unwrap_or_default();
            let kind = self.rng.below(9);
            let d = self.d();
            let op = match kind {
                0 => ",",
                1 => "CROSS JOIN",
                2 => "LEFT JOIN",
                3 if d != Dialect::Mysql => "FULL JOIN",
                4 => "RIGHT JOIN",
                5 => "NATURAL JOIN",
                6 => "INNER JOIN",
                _ => "JOIN",
            };
            out.push(op.to_string());
            let item = self.relation();
            out.extend(item);
            let right = self.scopes.last().and_then(|s| s.rels.last().cloned());
            if matches!(op, "," | "CROSS JOIN" | "NATURAL JOIN") {
                continue;
            }
            let Some(right) = right else { continue };
            if self.rng.chance(0.3) {
                let common: Vec<String> = right
                    .cols
                    .iter()
                    .filter_map(|c| c.name.clone())
                    .filter(|n| {
                        left.iter()
                            .any(|r| r.cols.iter().any(|c| c.name.as_deref() == Some(n)))
                    })
                    .collect();
                if !common.is_empty() {
                    let c = self.rng.pick(&common).clone();
                    let c = self.ident(&c, d != Dialect::Postgres);
                    out.push(format!("USING ({c})"));
                    continue;
                }
            }
            out.push("ON".into());
            out.extend(self.link(&left, &right));
        }
        out
    }

    /// A join condition between a relation of `left` and `right`.
    pub(super) fn link(&mut self, left: &[Rel], right: &Rel) -> Out {
        let pick_num = |cx: &mut Self, r: &Rel| -> Option<String> {
            let nums: Vec<String> = r
                .cols
                .iter()
                .filter(|c| c.ty == Ty::Num && !c.denied)
                .filter_map(|c| c.name.clone())
                .collect();
            if nums.is_empty() {
                return None;
            }
            let c = cx.rng.pick(&nums).clone();
            let c = cx.ident(&c, cx.d() != Dialect::Postgres);
            Some(match &r.name {
                Some(_) => format!("{}.{c}", cx.rel_qualifier(r)),
                None => c,
            })
        };
        let l = if left.is_empty() {
            None
        } else {
            let r = left[self.rng.below(left.len())].clone();
            pick_num(self, &r)
        };
        match (l, pick_num(self, right)) {
            (Some(a), Some(b)) if self.rng.chance(0.9) => vec![format!("{a} = {b}")],
            _ => self.pred(1),
        }
    }

    /// One `FROM` item; pushes its relation onto the current scope.
    pub(super) fn relation(&mut self) -> Out {
        let d = self.d();
        let roll = self.rng.below(100);
        let open = self.rng.chance(self.p_open);
        if open && roll < 50 {
            return self.table_function();
        }
        if (open || roll < 12) && self.depth < 4 {
            return self.derived();
        }
        if !self.ctes.is_empty() && roll < 40 {
            let cte = self.rng.pick(&self.ctes).clone();
            let n = self.ident(&cte.name, d == Dialect::Sqlite);
            let mut out = vec![n];
            let name = if self.rng.chance(0.4) {
                let a = self.fresh_alias(REL_ALIASES);
                out.push("AS".into());
                out.push(self.ident(&a, d == Dialect::Sqlite));
                a
            } else {
                cte.name.clone()
            };
            self.push_rel(Rel {
                name: Some(name),
                case_free: d == Dialect::Sqlite,
                cols: cte.cols.clone(),
                table: None,
            });
            return out;
        }
        if d == Dialect::Postgres && roll == 99 && self.depth < 4 {
            let mut out = vec!["LATERAL".to_string()];
            out.extend(self.derived());
            return out;
        }
        let t = self.table_choice();
        let mut out = vec![self.table_name(t)];
        let def = self.g.tables[t].clone();
        let denied = |c: &str| {
            fixture::DENIED
                .iter()
                .any(|(dt, dc)| *dt == def.name && *dc == c)
                || !def.allowed
        };
        let mut cols: Vec<Col> = def
            .columns
            .iter()
            .map(|(c, ty)| Col {
                name: Some(c.to_string()),
                ty: *ty,
                denied: denied(c),
            })
            .collect();
        let (name, table) = if self.rng.chance(0.5) {
            let a = self.fresh_alias(REL_ALIASES);
            if self.rng.chance(0.7) {
                out.push("AS".into());
            }
            out.push(self.ident(&a, d == Dialect::Sqlite));
            if d == Dialect::Postgres && self.rng.chance(0.06) {
                let k = 1 + self.rng.below(cols.len());
                let names: Vec<String> = (0..k).map(|i| format!("r{i}")).collect();
                let list: Vec<String> = names.iter().map(|n| self.ident(n, false)).collect();
                out.push(format!("({})", list.join(", ")));
                for (c, n) in cols.iter_mut().zip(names) {
                    c.name = Some(n);
                }
            }
            (a, None)
        } else {
            (def.name.to_string(), Some(t))
        };
        self.push_rel(Rel {
            name: Some(name),
            case_free: d == Dialect::Sqlite,
            cols,
            table,
        });
        out
    }

    /// A derived table `(query) AS d`, with a column list on PostgreSQL now and then, without an
    /// alias on SQLite now and then; or a `VALUES` list.
    pub(super) fn derived(&mut self) -> Out {
        let d = self.d();
        let (q, mut cols) = if self.rng.chance(0.15) {
            let n = 1 + self.rng.below(2);
            let row = |cx: &mut Self| -> String {
                let vals: Vec<String> = (0..n)
                    .map(|i| if i == 0 { cx.num() } else { cx.lit() })
                    .collect();
                format!("({})", vals.join(", "))
            };
            let (a, b) = (row(self), row(self));
            let cols = (0..n)
                .map(|i| Col {
                    name: None,
                    ty: if i == 0 { Ty::Num } else { Ty::Text },
                    denied: false,
                })
                .collect();
            let values = format!("VALUES {a}, {b}");
            (vec![values], cols)
        } else {
            self.depth += 1;
            let saved = self.enclose();
            let r = self.query(None, true);
            self.barrier = saved;
            self.depth -= 1;
            r
        };
        let mut out = vec!["(".to_string()];
        out.extend(q);
        out.push(")".into());
        let unnamed_ok = d == Dialect::Sqlite && self.rng.chance(0.3);
        let name = if unnamed_ok {
            None
        } else {
            let a = self.fresh_alias(REL_ALIASES);
            if self.rng.chance(0.7) {
                out.push("AS".into());
            }
            out.push(self.ident(&a, d == Dialect::Sqlite));
            if d == Dialect::Postgres && self.rng.chance(0.3) && !cols.is_empty() {
                let names: Vec<String> = (0..cols.len()).map(|i| format!("d{i}")).collect();
                let list: Vec<String> = names.iter().map(|n| self.ident(n, false)).collect();
                out.push(format!("({})", list.join(", ")));
                for (c, n) in cols.iter_mut().zip(names) {
                    c.name = Some(n);
                    c.denied = false;
                }
            }
            Some(a)
        };
        self.push_rel(Rel {
            name,
            case_free: d == Dialect::Sqlite,
            cols,
            table: None,
        });
        out
    }

    /// A table function: `json_each` / `json_tree` on SQLite, `generate_series`, `unnest` and
    /// `json_each` on PostgreSQL; MariaDB has none on the allow-list and gets a derived table.
    pub(super) fn table_function(&mut self) -> Out {
        let d = self.d();
        let text_arg = |cx: &mut Self, json: &str| -> String {
            match cx.col_ref(Ty::Text, false) {
                Some((e, _, _)) if cx.rng.chance(0.4) => e.join(" "),
                _ => lexical::literal(cx.rng, d, json),
            }
        };
        let (call, default_name, cols): (String, &str, Vec<(&str, Ty)>) = match d {
            Dialect::Sqlite => {
                let f = *self.rng.pick(&["json_each", "json_tree"]);
                let arg = text_arg(self, "[\"a\",\"b\"]");
                (
                    format!("{f}({arg})"),
                    f,
                    vec![
                        ("key", Ty::Text),
                        ("value", Ty::Text),
                        ("type", Ty::Text),
                        ("id", Ty::Num),
                        ("fullkey", Ty::Text),
                        ("path", Ty::Text),
                    ],
                )
            }
            Dialect::Postgres => match self.rng.below(3) {
                0 => {
                    let hi = match self.col_ref(Ty::Num, false) {
                        Some((e, _, _)) if self.rng.chance(0.4) => e.join(" "),
                        _ => "3".to_string(),
                    };
                    (
                        format!("generate_series(1, {hi})"),
                        "generate_series",
                        vec![("generate_series", Ty::Num)],
                    )
                }
                1 => (
                    "unnest(ARRAY[1, 2])".to_string(),
                    "unnest",
                    vec![("unnest", Ty::Num)],
                ),
                _ => {
                    let arg = text_arg(self, "{\"a\": 1}");
                    (
                        format!("json_each(({arg})::json)"),
                        "json_each",
                        vec![("key", Ty::Text)],
                    )
                }
            },
            Dialect::Mysql => return self.derived(),
        };
        let mut out = vec![call];
        let alias = self
            .rng
            .chance(if d == Dialect::Postgres { 0.8 } else { 0.5 });
        let mut cols: Vec<Col> = cols
            .into_iter()
            .map(|(n, ty)| Col {
                name: Some(n.to_string()),
                ty,
                denied: false,
            })
            .collect();
        let name = if alias {
            let a = self.fresh_alias(REL_ALIASES);
            out.push("AS".into());
            out.push(self.ident(&a, d == Dialect::Sqlite));
            if d == Dialect::Postgres {
                if cols.len() == 1 && self.rng.chance(0.5) {
                    out.push(format!("({})", self.ident("g", false)));
                    cols[0].name = Some("g".into());
                } else if cols.len() == 1 {
                    // A single-column function's column takes the alias as its name.
                    cols[0].name = Some(a.clone());
                }
            }
            a
        } else {
            default_name.to_string()
        };
        self.push_rel(Rel {
            name: Some(name),
            case_free: true,
            cols,
            table: None,
        });
        out
    }
}

pub(super) fn wrap(open: &str, mut inner: Out, close: &str) -> Out {
    inner.insert(0, open.to_string());
    inner.push(close.to_string());
    inner
}
