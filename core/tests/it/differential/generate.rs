//! The statement generator: seeded, reproducible, grammar-based with random mutations.
//!
//! Statement `i` of a run with seed `s` depends only on `(s, i)` ([`Rng::for_statement`]), so a
//! failing statement is reproduced from the two numbers the report prints. The first indices of
//! every run are the audit's proofs ([`super::proofs`]) verbatim; the rest are drawn from four
//! origins:
//!
//! | origin | share | what |
//! | --- | --- | --- |
//! | grammar | 45% | well-formed queries over the fixture: CTEs (recursive too), set operations, joins with ON / USING / NATURAL, self-joins, derived tables with and without column lists and with unnamed expression columns, scalar, correlated, EXISTS and IN subqueries, table functions, whole-row references, schema-qualified names; identifiers and literals in every spelling of the dialect, comments between tokens |
//! | mutant | 30% | a grammar statement with one to three mutations: a comment form of another dialect, an opener/closer pair around a payload, a backslash before a quote, a doubled or dropped quote, a literal respelled |
//! | breakout | 15% | templates that put a payload between an opener and a closer that tokenizers disagree about |
//! | proof | 10% | an audit proof with the same mutations |
//!
//! Restricted columns and tables outside the allowed ones appear on purpose, at a low rate (a
//! higher one in the "hostile" half of the grammar statements): the validator must refuse them
//! wherever they stand, and the database reports it when it does not.

use conversational_bi::Dialect;

use super::{
    fixture::{self, TableDef, Ty},
    lexical::{self, Rng},
    proofs,
};

/// Where a statement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// An audit proof, verbatim or mutated.
    Proof,
    /// The grammar.
    Grammar,
    /// A mutated grammar statement.
    Mutant,
    /// A breakout template.
    Breakout,
}

impl Origin {
    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proof => "proof",
            Self::Grammar => "grammar",
            Self::Mutant => "mutant",
            Self::Breakout => "breakout",
        }
    }
}

/// One generated statement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The SQL text given to the validator.
    pub sql: String,
    /// Where it comes from.
    pub origin: Origin,
}

/// Generates statements for one dialect over the fixture.
#[derive(Debug, Clone)]
pub struct Generator {
    dialect: Dialect,
    tables: Vec<TableDef>,
    proofs: Vec<String>,
    /// Whether to leave out the statement shapes of [`fixture::KNOWN_CRASHES`], so that a run
    /// against a shared server cannot take it down.
    avoid_known_crashes: bool,
}

impl Generator {
    /// A generator for `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            tables: fixture::tables(dialect),
            proofs: proofs::proofs(dialect),
            avoid_known_crashes: true,
        }
    }

    /// A generator that also produces the shapes known to crash a server, for runs against a
    /// private server that may go down (`examples/differential.rs --hunt-crashes`).
    #[allow(dead_code)]
    pub fn hunting_crashes(dialect: Dialect) -> Self {
        Self {
            avoid_known_crashes: false,
            ..Self::new(dialect)
        }
    }

    /// Statement `index` of the run seeded with `seed`.
    pub fn statement(&self, seed: u64, index: u64) -> Statement {
        if let Some(p) = self.proofs.get(index as usize) {
            return Statement {
                sql: p.clone(),
                origin: Origin::Proof,
            };
        }
        let mut rng = Rng::for_statement(seed, index);
        let roll = rng.below(100);
        let (sql, origin) = match roll {
            0..=44 => (self.grammar(&mut rng).render(&mut rng), Origin::Grammar),
            45..=74 => {
                let toks = self.grammar(&mut rng);
                (self.mutate(&mut rng, toks), Origin::Mutant)
            }
            75..=89 => (proofs::breakout(&mut rng, self.dialect), Origin::Breakout),
            _ => {
                let p = rng.pick(&self.proofs).clone();
                let toks = Toks {
                    dialect: self.dialect,
                    items: p.split(' ').map(str::to_string).collect(),
                    odd: 0.0,
                };
                (self.mutate(&mut rng, toks), Origin::Proof)
            }
        };
        Statement { sql, origin }
    }

    fn grammar(&self, rng: &mut Rng) -> Toks {
        let hostile = rng.chance(0.5);
        let mut cx = Cx {
            g: self,
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
        if self.dialect == Dialect::Postgres && cx.rng.chance(0.01) {
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
            dialect: self.dialect,
            items: out,
            odd,
        }
    }

    /// One to three mutations of `toks`, rendered.
    fn mutate(&self, rng: &mut Rng, mut toks: Toks) -> String {
        let d = self.dialect;
        for _ in 0..1 + rng.below(3) {
            let n = toks.items.len();
            let at = rng.below(n + 1);
            match rng.below(7) {
                0 => toks.items.insert(at, lexical::odd_separator(rng)),
                1 => {
                    let (open, close) = lexical::breakout_pair(rng, d);
                    let payload = proofs::payload_item(rng, d);
                    let end = at + rng.below(n - at + 1);
                    toks.items.insert(end, close);
                    toks.items.insert(at, format!("{open} , {payload}"));
                }
                2 => {
                    if let Some(i) = (0..n).map(|k| (k + at) % n.max(1)).find(|&k| {
                        toks.items
                            .get(k)
                            .is_some_and(|t| t.starts_with(['\'', '"', '`', '[', '$', 'E', 'U']))
                    }) {
                        let c = lexical::content(rng, d);
                        toks.items[i] = match rng.below(3) {
                            0 => format!("'{c}'"),
                            1 => format!("\"{c}\""),
                            _ => lexical::literal(rng, d, &c),
                        };
                    }
                }
                3 => {
                    let s = toks.items.join(" ");
                    toks.items = vec![quote_surgery(rng, &s)];
                }
                4 if n > 1 => {
                    toks.items.remove(at.min(n - 1));
                }
                5 => {
                    let item = proofs::payload_item(rng, d);
                    toks.items.insert(at, format!(", {item}"));
                }
                _ => {
                    let sep = lexical::separator(rng, d);
                    toks.items.insert(at, sep);
                }
            }
        }
        toks.render(rng)
    }
}

/// Edits one quote character of `s`: a backslash before it, doubled, or dropped.
fn quote_surgery(rng: &mut Rng, s: &str) -> String {
    let spots: Vec<usize> = s
        .char_indices()
        .filter(|(_, c)| matches!(c, '\'' | '"' | '`' | ']' | '$' | '\\'))
        .map(|(i, _)| i)
        .collect();
    if spots.is_empty() {
        return s.to_string();
    }
    let i = *rng.pick(&spots);
    let c = s[i..].chars().next().unwrap_or('\'');
    let (a, b) = s.split_at(i);
    match rng.below(4) {
        0 => format!("{a}\\{b}"),
        1 => format!("{a}{c}{b}"),
        2 => format!("{a}{}", &b[c.len_utf8()..]),
        _ => format!("{a}\\\\{b}"),
    }
}

/// Tokens of a statement, joined by spaces or, at a rate of `odd`, by comments and other
/// separators of the dialect.
#[derive(Debug, Clone)]
pub struct Toks {
    dialect: Dialect,
    items: Vec<String>,
    odd: f64,
}

impl Toks {
    fn render(&self, rng: &mut Rng) -> String {
        let mut s = String::new();
        for (i, t) in self.items.iter().enumerate() {
            if i > 0 {
                if self.odd > 0.0 && rng.chance(self.odd) {
                    s.push_str(&lexical::separator(rng, self.dialect));
                } else {
                    s.push(' ');
                }
            }
            s.push_str(t);
        }
        if self.odd > 0.0 && rng.chance(0.2) {
            s.push_str(&lexical::separator(rng, self.dialect));
        }
        s
    }
}

/// A column of a relation in scope: its stored name (when the generator knows it) and kind.
#[derive(Debug, Clone)]
struct Col {
    name: Option<String>,
    ty: Ty,
    denied: bool,
}

/// A relation in a `FROM` scope.
#[derive(Debug, Clone)]
struct Rel {
    /// The name that qualifies its columns; none for an unnamed derived table.
    name: Option<String>,
    /// Whether the name compares without regard to case (a table name on SQLite).
    case_free: bool,
    cols: Vec<Col>,
    /// The catalog table without an alias, for `namespace.table.column` references.
    table: Option<usize>,
}

#[derive(Debug, Default)]
struct Scope {
    rels: Vec<Rel>,
}

#[derive(Debug, Clone)]
struct Cte {
    name: String,
    cols: Vec<Col>,
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
struct Cx<'g, 'r> {
    g: &'g Generator,
    rng: &'r mut Rng,
    scopes: Vec<Scope>,
    ctes: Vec<Cte>,
    depth: usize,
    /// The first scope a column reference may use: on MariaDB a derived table or a CTE body
    /// cannot see the scopes around it (see [`Generator::hunting_crashes`]).
    barrier: usize,
    p_denied: f64,
    p_outer: f64,
    p_open: f64,
}

type Out = Vec<String>;

impl Cx<'_, '_> {
    fn d(&self) -> Dialect {
        self.g.dialect
    }

    /// Before a derived table or CTE body: on MariaDB (unless hunting crashes) hides the
    /// enclosing scopes from column references, as MariaDB does (it answers "Unknown column",
    /// or crashes: `fixture::KNOWN_CRASHES`). Returns the barrier to restore afterwards.
    fn enclose(&mut self) -> usize {
        let saved = self.barrier;
        if self.g.avoid_known_crashes && self.d() == Dialect::Mysql {
            self.barrier = self.scopes.len();
        }
        saved
    }

    fn ident(&mut self, name: &str, case_free: bool) -> String {
        lexical::ident(self.rng, self.g.dialect, name, case_free)
    }

    fn lit(&mut self) -> String {
        let c = lexical::content(self.rng, self.g.dialect);
        lexical::literal(self.rng, self.g.dialect, &c)
    }

    fn num(&mut self) -> String {
        self.rng
            .pick(&["0", "1", "2", "3", "10", "1.5", "-1", "1e1", "(2)"])
            .to_string()
    }

    /// A query: optional `WITH`, a select or a set operation, optional `ORDER BY` / `LIMIT`.
    fn query(&mut self, want: Option<Vec<Ty>>, may_limit: bool) -> (Out, Vec<Col>) {
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

    fn with_clause(&mut self) -> Out {
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
    fn select(&mut self, want: Option<&[Ty]>) -> (Out, Vec<Col>) {
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

    /// A select-list expression of kind `ty`: mostly a column, else any expression.
    fn item_expr(&mut self, ty: Ty) -> (Out, Option<String>, bool) {
        if self.rng.chance(0.5)
            && let Some(r) = self.col_ref(ty, true)
        {
            return r;
        }
        (self.expr(ty, 2), None, false)
    }

    fn aggregate(&mut self, ty: Ty) -> Out {
        match (ty, self.rng.below(4)) {
            (Ty::Num, 0) => vec!["count(*)".into()],
            (Ty::Num, 1) => {
                let e = self.expr(Ty::Num, 1);
                wrap("sum(", e, ")")
            }
            (Ty::Num, _) => {
                let e = self.expr(Ty::Text, 1);
                let f = if self.rng.chance(0.5) {
                    "count("
                } else {
                    "count(DISTINCT "
                };
                wrap(f, e, ")")
            }
            (Ty::Text, _) => {
                let e = self.expr(Ty::Text, 1);
                let f = *self.rng.pick(&["max(", "min("]);
                wrap(f, e, ")")
            }
        }
    }

    /// A reference to a column of kind `ty` of a relation in scope (an outer one now and then),
    /// with its name and whether it is restricted.
    fn col_ref(&mut self, ty: Ty, may_outer: bool) -> Option<(Out, Option<String>, bool)> {
        let first = self.barrier.min(self.scopes.len().saturating_sub(1));
        let depth = if may_outer && self.scopes.len() > first + 1 && self.rng.chance(self.p_outer) {
            first + self.rng.below(self.scopes.len() - 1 - first)
        } else {
            self.scopes.len().checked_sub(1)?
        };
        let allow_denied = self.rng.chance(self.p_denied);
        let mut candidates = Vec::new();
        for (ri, r) in self.scopes[depth].rels.iter().enumerate() {
            for (ci, c) in r.cols.iter().enumerate() {
                if c.ty == ty && c.name.is_some() && (!c.denied || allow_denied) {
                    candidates.push((ri, ci));
                }
            }
        }
        if candidates.is_empty() {
            return None;
        }
        let (ri, ci) = *self.rng.pick(&candidates);
        let rel = self.scopes[depth].rels[ri].clone();
        let col = rel.cols[ci].clone();
        let name = col.name.clone().unwrap_or_default();
        let case_free = self.d() != Dialect::Postgres;
        let c = self.ident(&name, case_free);
        // `db.table.column` on MariaDB: see `fixture::KNOWN_CRASHES`.
        let three_parts = !(self.g.avoid_known_crashes && self.d() == Dialect::Mysql);
        let text = match (&rel.name, rel.table) {
            (Some(_), Some(t)) if three_parts && self.rng.chance(0.08) => {
                let ns = self.namespace_of(t);
                let tn = self.ident(self.g.tables[t].name, self.d() == Dialect::Sqlite);
                format!("{ns}.{tn}.{c}")
            }
            (Some(_), _) if self.rng.chance(0.55) => {
                format!("{}.{c}", self.rel_qualifier(&rel))
            }
            _ => c,
        };
        Some((vec![text], Some(name), col.denied))
    }

    fn namespace_of(&mut self, table: usize) -> String {
        let ns = self.g.tables[table]
            .namespace
            .unwrap_or(fixture::own_namespace(self.d()));
        self.ident(ns, self.d() == Dialect::Sqlite)
    }

    fn rel_qualifier(&mut self, rel: &Rel) -> String {
        let name = rel.name.clone().unwrap_or_default();
        self.ident(&name, rel.case_free)
    }

    /// An expression of kind `ty`, nested at most `budget` levels.
    fn expr(&mut self, ty: Ty, budget: usize) -> Out {
        if budget == 0 || self.rng.chance(0.25) {
            return match ty {
                Ty::Num => match self.col_ref(ty, true) {
                    Some((e, _, _)) if self.rng.chance(0.6) => e,
                    _ => vec![self.num()],
                },
                Ty::Text => match self.col_ref(ty, true) {
                    Some((e, _, _)) if self.rng.chance(0.5) => e,
                    _ => vec![self.lit()],
                },
            };
        }
        let b = budget - 1;
        let d = self.d();
        match (ty, self.rng.below(10)) {
            (Ty::Num, 0) => {
                let e = self.expr(Ty::Text, b);
                wrap("length(", e, ")")
            }
            (Ty::Num, 1) => {
                let mut e = self.expr(Ty::Num, b);
                e.push(self.rng.pick(&["+", "-", "*"]).to_string());
                e.extend(self.expr(Ty::Num, b));
                wrap("(", e, ")")
            }
            (Ty::Num, 2) => {
                let e = self.expr(Ty::Num, b);
                wrap("abs(", e, ")")
            }
            (Ty::Num, 3 | 4) if self.depth < 4 => self.scalar_subquery(Ty::Num),
            (Ty::Num, 5) => self.case(Ty::Num, b),
            (Ty::Num, 6) => {
                let e = self.expr(Ty::Num, b);
                wrap("coalesce(", e, ", 0)")
            }
            (Ty::Text, 0) => {
                let e = self.expr(Ty::Text, b);
                let f = *self.rng.pick(&["lower(", "upper(", "trim("]);
                wrap(f, e, ")")
            }
            (Ty::Text, 1) => {
                let e = self.expr(Ty::Text, b);
                wrap("substr(", e, ", 1, 3)")
            }
            (Ty::Text, 2) => {
                let e = self.expr(Ty::Text, b);
                let (x, y) = (self.lit(), self.lit());
                wrap("replace(", e, &format!(", {x}, {y})"))
            }
            (Ty::Text, 3) => {
                let a = self.expr(Ty::Text, b);
                let c = self.expr(Ty::Text, b);
                if d == Dialect::Mysql {
                    let mut e = a;
                    e.push(",".into());
                    e.extend(c);
                    wrap("concat(", e, ")")
                } else {
                    let mut e = a;
                    e.push("||".into());
                    e.extend(c);
                    wrap("(", e, ")")
                }
            }
            (Ty::Text, 4 | 5) if self.depth < 4 => self.scalar_subquery(Ty::Text),
            (Ty::Text, 6) => self.case(Ty::Text, b),
            (Ty::Text, 7) => {
                let e = self.expr(Ty::Num, b);
                let t = match d {
                    Dialect::Mysql => "CHAR",
                    Dialect::Postgres => "text",
                    Dialect::Sqlite => "TEXT",
                };
                wrap("CAST(", e, &format!(" AS {t})"))
            }
            (Ty::Text, 8) => self.whole_row_or_json(b),
            (Ty::Text, _) => {
                let e = self.expr(Ty::Text, b);
                let l = self.lit();
                wrap("coalesce(", e, &format!(", {l})"))
            }
            (Ty::Num, _) => match self.col_ref(Ty::Num, true) {
                Some((e, _, _)) => e,
                None => vec![self.num()],
            },
        }
    }

    /// PostgreSQL whole-row references and field selection; JSON builders elsewhere.
    fn whole_row_or_json(&mut self, budget: usize) -> Out {
        let d = self.d();
        let named: Vec<Rel> = self
            .scopes
            .iter()
            .flat_map(|s| s.rels.iter())
            .filter(|r| r.name.is_some())
            .cloned()
            .collect();
        if d == Dialect::Postgres && !named.is_empty() {
            let r = self.rng.pick(&named).clone();
            let q = self.rel_qualifier(&r);
            return vec![match self.rng.below(7) {
                0 => format!("to_json({q})::text"),
                1 => format!("to_jsonb({q}.*)::text"),
                2 => format!("json_build_object('k', {q})::text"),
                3 => format!("row_to_json({q})::text"),
                4 => format!("({q})::text"),
                5 => {
                    let cols: Vec<&Col> = r.cols.iter().filter(|c| c.name.is_some()).collect();
                    if cols.is_empty() {
                        format!("to_json({q})::text")
                    } else {
                        let c = (*self.rng.pick(&cols)).clone();
                        let cn = self.ident(&c.name.unwrap_or_default(), false);
                        format!("(({q}).{cn})::text")
                    }
                }
                _ => format!("count({q}.*)::text"),
            }];
        }
        let e = self.expr(Ty::Text, budget);
        match d {
            Dialect::Sqlite if self.rng.chance(0.3) => wrap("quote(", e, ")"),
            _ => wrap("json_object('k', ", e, ")"),
        }
    }

    fn case(&mut self, ty: Ty, budget: usize) -> Out {
        let mut out = vec!["CASE WHEN".to_string()];
        out.extend(self.pred(1));
        out.push("THEN".into());
        out.extend(self.expr(ty, budget));
        out.push("ELSE".into());
        out.extend(self.expr(ty, budget));
        out.push("END".into());
        out
    }

    fn scalar_subquery(&mut self, ty: Ty) -> Out {
        let (q, _) = self.query(Some(vec![ty]), true);
        let mut out = vec!["(".to_string()];
        out.extend(q);
        out.push(")".into());
        out
    }

    /// A condition, nested at most `budget` levels.
    fn pred(&mut self, budget: usize) -> Out {
        let b = budget.saturating_sub(1);
        match self.rng.below(if budget == 0 { 5 } else { 10 }) {
            0 => {
                let mut e = self.expr(Ty::Num, 1);
                e.push(
                    self.rng
                        .pick(&["=", "<>", "<", ">", "<=", ">="])
                        .to_string(),
                );
                e.extend(self.expr(Ty::Num, 1));
                e
            }
            1 => {
                let mut e = self.expr(Ty::Text, 1);
                if self.rng.chance(0.5) {
                    e.push("=".into());
                    e.extend(self.expr(Ty::Text, 1));
                } else {
                    e.push("LIKE".into());
                    e.push(self.lit());
                }
                e
            }
            2 => {
                let ty = *self.rng.pick(&[Ty::Num, Ty::Text]);
                let mut e = self.expr(ty, 0);
                e.push(self.rng.pick(&["IS NULL", "IS NOT NULL"]).to_string());
                e
            }
            3 => {
                let mut e = self.expr(Ty::Num, 1);
                e.push("IN (1, 2, 3)".into());
                e
            }
            4 => {
                let mut e = self.expr(Ty::Text, 0);
                let (x, y) = (self.lit(), self.lit());
                e.push(format!("IN ({x}, {y})"));
                e
            }
            5 | 6 if self.depth < 4 => {
                let (q, _) = self.query(Some(vec![Ty::Num]), self.d() != Dialect::Mysql);
                let mut e = vec!["EXISTS (".to_string()];
                e.extend(q);
                e.push(")".into());
                if self.rng.chance(0.3) {
                    e.insert(0, "NOT".into());
                }
                e
            }
            7 if self.depth < 4 => {
                let ty = *self.rng.pick(&[Ty::Num, Ty::Text]);
                let mut e = self.expr(ty, 0);
                let (q, _) = self.query(Some(vec![ty]), self.d() != Dialect::Mysql);
                e.push("IN (".into());
                e.extend(q);
                e.push(")".into());
                e
            }
            8 => {
                let mut e = self.pred(b);
                e.push(self.rng.pick(&["AND", "OR"]).to_string());
                e.extend(self.pred(b));
                wrap("(", e, ")")
            }
            _ => {
                let e = self.pred(b);
                wrap("NOT (", e, ")")
            }
        }
    }

    /// The index of a table: an allowed one mostly, now and then one outside the allowed tables.
    fn table_choice(&mut self) -> usize {
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
    fn table_name(&mut self, t: usize) -> String {
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

    fn fresh_alias(&mut self, pool: &[&str]) -> String {
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

    fn push_rel(&mut self, rel: Rel) {
        if let Some(s) = self.scopes.last_mut() {
            s.rels.push(rel);
        }
    }

    /// `FROM` items joined by commas or joins; fills the current scope.
    fn relations(&mut self) -> Out {
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
    fn link(&mut self, left: &[Rel], right: &Rel) -> Out {
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
    fn relation(&mut self) -> Out {
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
    fn derived(&mut self) -> Out {
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
    fn table_function(&mut self) -> Out {
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

fn wrap(open: &str, mut inner: Out, close: &str) -> Out {
    inner.insert(0, open.to_string());
    inner.push(close.to_string());
    inner
}
