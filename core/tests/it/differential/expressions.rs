//! The expressions of the grammar: select items, aggregates, column references (to the
//! current scope or an enclosing one), functions, whole-row references, CASE, scalar subqueries
//! and conditions.

use conversational_bi::Dialect;

use super::{
    fixture::{self, Ty},
    grammar::{Col, Cx, Out, Rel, wrap},
};

impl Cx<'_, '_> {
    /// A select-list expression of kind `ty`: mostly a column, else any expression.
    pub(super) fn item_expr(&mut self, ty: Ty) -> (Out, Option<String>, bool) {
        if self.rng.chance(0.5)
            && let Some(r) = self.col_ref(ty, true)
        {
            return r;
        }
        (self.expr(ty, 2), None, false)
    }

    pub(super) fn aggregate(&mut self, ty: Ty) -> Out {
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
    pub(super) fn col_ref(
        &mut self,
        ty: Ty,
        may_outer: bool,
    ) -> Option<(Out, Option<String>, bool)> {
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

    pub(super) fn namespace_of(&mut self, table: usize) -> String {
        let ns = self.g.tables[table]
            .namespace
            .unwrap_or(fixture::own_namespace(self.d()));
        self.ident(ns, self.d() == Dialect::Sqlite)
    }

    pub(super) fn rel_qualifier(&mut self, rel: &Rel) -> String {
        let name = rel.name.clone().unwrap_or_default();
        self.ident(&name, rel.case_free)
    }

    /// An expression of kind `ty`, nested at most `budget` levels.
    pub(super) fn expr(&mut self, ty: Ty, budget: usize) -> Out {
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
    pub(super) fn whole_row_or_json(&mut self, budget: usize) -> Out {
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

    pub(super) fn case(&mut self, ty: Ty, budget: usize) -> Out {
        let mut out = vec!["CASE WHEN".to_string()];
        out.extend(self.pred(1));
        out.push("THEN".into());
        out.extend(self.expr(ty, budget));
        out.push("ELSE".into());
        out.extend(self.expr(ty, budget));
        out.push("END".into());
        out
    }

    pub(super) fn scalar_subquery(&mut self, ty: Ty) -> Out {
        let (q, _) = self.query(Some(vec![ty]), true);
        let mut out = vec!["(".to_string()];
        out.extend(q);
        out.push(")".into());
        out
    }

    /// A condition, nested at most `budget` levels.
    pub(super) fn pred(&mut self, budget: usize) -> Out {
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
}
