//! The walk over the statement: queries, set operations, `SELECT` scopes, `FROM` items and
//! expressions, in one pass. Names go to [`super::resolve`], row-count and side-effect policy
//! to [`super::policy`].

use sqlparser::ast::{
    BinaryOperator, Distinct, Expr, GroupByExpr, Ident, JoinConstraint, JoinOperator,
    NamedWindowExpr, OrderBy, OrderByKind, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, TableFactor, TableWithJoins,
};

use super::{
    RejectRule, Rejection, lex, policy,
    resolve::{self, Columns, CteBinding, Relation, Scope, Walker},
};
use crate::dialect::Dialect;

pub(crate) fn unsupported(what: &str) -> Rejection {
    Rejection::new(
        RejectRule::Unsupported,
        format!(
            "{what} is not supported; write a plain SELECT with joins, subqueries or CTEs instead"
        ),
    )
}

impl<'a> Walker<'_, 'a> {
    /// Walks a query; returns its output columns.
    pub(crate) fn query(&mut self, q: &Query) -> Result<Columns, Rejection> {
        if !q.locks.is_empty() {
            return Err(Rejection::new(
                RejectRule::LockingClause,
                "locking clauses (`FOR UPDATE`, `FOR SHARE`, ...) are not allowed; remove them, the query only reads",
            ));
        }
        if q.for_clause.is_some()
            || q.settings.is_some()
            || q.format_clause.is_some()
            || !q.pipe_operators.is_empty()
        {
            return Err(unsupported("this query clause"));
        }
        // MariaDB: a WITH inside a subquery does not see the CTEs of the queries around it (a
        // name there is a table of the database), so they are out of sight while it is walked.
        if self.policy.dialect == Dialect::Mysql && q.with.is_some() && self.in_cte_body > 0 {
            return Err(Rejection::new(
                RejectRule::Unsupported,
                "a WITH inside a CTE is not supported on MySQL and MariaDB (MariaDB 10.11 can crash on \
                 such statements); write the CTEs one after another in the outer WITH",
            ));
        }
        let outer_ctes = (self.policy.dialect == Dialect::Mysql && q.with.is_some())
            .then(|| std::mem::take(&mut self.ctes));
        let cte_mark = self.ctes.len();
        if let Some(with) = &q.with {
            // SQLite makes a CTE that names itself recursive even without `RECURSIVE`.
            let recursive = with.recursive || self.policy.dialect == Dialect::Sqlite;
            // SQLite, and the others under RECURSIVE, let a CTE read the CTEs written after
            // it in the same WITH; their columns are not known yet, so that is refused.
            let forward = with.recursive || self.policy.dialect == Dialect::Sqlite;
            for (k, cte) in with.cte_tables.iter().enumerate() {
                let saved_later = forward.then(|| {
                    let later = with.cte_tables[k + 1..]
                        .iter()
                        .map(|c| c.alias.name.clone());
                    let mark = self.later_ctes.len();
                    self.later_ctes.extend(later);
                    mark
                });
                let alias_columns: Vec<String> = cte
                    .alias
                    .columns
                    .iter()
                    .map(|c| resolve::output_name(self.policy.dialect, &c.name))
                    .collect();
                if recursive {
                    policy::check_recursion(cte)?;
                    let columns = Columns {
                        names: alias_columns.clone(),
                        open: alias_columns.is_empty(),
                    };
                    self.ctes.push(CteBinding {
                        name: cte.alias.name.clone(),
                        columns,
                    });
                }
                self.in_cte_body += 1;
                let out = self.enclosed_query(&cte.query, true);
                self.in_cte_body -= 1;
                if let Some(mark) = saved_later {
                    self.later_ctes.truncate(mark);
                }
                let out = out?;
                let columns = if alias_columns.is_empty() {
                    out
                } else {
                    Columns {
                        names: alias_columns,
                        open: false,
                    }
                };
                if recursive {
                    if let Some(last) = self.ctes.last_mut() {
                        last.columns = columns;
                    }
                } else {
                    self.ctes.push(CteBinding {
                        name: cte.alias.name.clone(),
                        columns,
                    });
                }
            }
        }
        let out = match &*q.body {
            SetExpr::Select(s) => self.select(s, q.order_by.as_ref())?,
            body => {
                let out = self.set_expr(body)?;
                if let Some(order_by) = &q.order_by {
                    self.scopes.push(Scope {
                        relations: vec![Relation {
                            name: String::new(),
                            table: None,
                            columns: out.clone(),
                            catalog_names: None,
                        }],
                        ..Scope::default()
                    });
                    let saved = self.local_only(self.scopes.len() - 1);
                    let result = self.order_by(order_by);
                    self.barrier = saved;
                    self.scopes.pop();
                    result?;
                }
                out
            }
        };
        if let Some(limit) = &q.limit_clause {
            match limit {
                sqlparser::ast::LimitClause::LimitOffset {
                    limit,
                    offset,
                    limit_by,
                } => {
                    if let Some(e) = limit {
                        self.expr(e)?;
                    }
                    if let Some(o) = offset {
                        self.expr(&o.value)?;
                    }
                    for e in limit_by {
                        self.expr(e)?;
                    }
                }
                sqlparser::ast::LimitClause::OffsetCommaLimit { offset, limit } => {
                    self.expr(offset)?;
                    self.expr(limit)?;
                }
            }
        }
        if let Some(e) = q.fetch.as_ref().and_then(|f| f.quantity.as_ref()) {
            self.expr(e)?;
        }
        self.ctes.truncate(cte_mark);
        if let Some(outer) = outer_ctes {
            self.ctes = outer;
        }
        Ok(out)
    }

    /// On SQLite, GROUP BY and ORDER BY may not read the queries around the SELECT of scope
    /// `depth` (SQLite cuts them off there): raises the barrier to `depth`, returning the old
    /// one to restore.
    fn local_only(&mut self, depth: usize) -> usize {
        let saved = self.barrier;
        if self.policy.dialect == Dialect::Sqlite {
            self.barrier = self.barrier.max(depth);
        }
        saved
    }

    /// Walks the query of a derived table or a CTE. On MySQL/MariaDB such a query may not read
    /// the columns of the queries around it: MariaDB refuses that, when the statement does not
    /// crash the server instead. Neither may a CTE on SQLite, which resolves those names again
    /// wherever the CTE is used, each time among other relations.
    fn enclosed_query(&mut self, q: &Query, cte: bool) -> Result<Columns, Rejection> {
        let dialect = self.policy.dialect;
        if !(dialect == Dialect::Mysql || (cte && dialect == Dialect::Sqlite)) {
            return self.query(q);
        }
        let saved = std::mem::replace(&mut self.barrier, self.scopes.len());
        let out = self.query(q);
        self.barrier = saved;
        out
    }

    fn set_expr(&mut self, body: &SetExpr) -> Result<Columns, Rejection> {
        match body {
            SetExpr::Select(s) => self.select(s, None),
            SetExpr::Query(q) => self.query(q),
            SetExpr::SetOperation { left, right, .. } => {
                let out = self.set_expr(left)?;
                self.set_expr(right)?;
                Ok(out)
            }
            SetExpr::Values(values) => {
                let mut width = 0;
                for row in &values.rows {
                    width = width.max(row.len());
                    for e in row.iter() {
                        self.expr(e)?;
                    }
                }
                let names = (1..=width).map(|i| format!("column{i}")).collect();
                // SQLite and PostgreSQL name the columns `column1`...; MariaDB names them
                // after the first row's values.
                let open = self.policy.dialect == Dialect::Mysql;
                Ok(Columns { names, open })
            }
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                Err(Rejection::new(
                    RejectRule::NotAQuery,
                    "data-modifying statements (INSERT, UPDATE, DELETE, MERGE) are not allowed, not even inside a \
                 CTE or subquery; the query may only read",
                ))
            }
            SetExpr::Table(_) => Err(unsupported("`TABLE name`")),
        }
    }

    fn select(&mut self, s: &Select, order_by: Option<&OrderBy>) -> Result<Columns, Rejection> {
        if !s.optimizer_hints.is_empty() {
            return Err(Rejection::new(
                RejectRule::OptimizerHint,
                "optimizer hints `/*+ ... */` are not allowed; remove the hint",
            ));
        }
        if s.into.is_some() {
            return Err(Rejection::new(
                RejectRule::SelectInto,
                "`SELECT ... INTO` writes a table, variable or file and is not allowed; select the rows instead",
            ));
        }
        if s.top.is_some() {
            return Err(Rejection::new(
                RejectRule::Unsupported,
                "`TOP n` is not supported; use `LIMIT n` instead",
            ));
        }
        if !s.lateral_views.is_empty()
            || s.prewhere.is_some()
            || !s.connect_by.is_empty()
            || !s.cluster_by.is_empty()
            || !s.distribute_by.is_empty()
            || !s.sort_by.is_empty()
            || s.value_table_mode.is_some()
        {
            return Err(unsupported("this SELECT clause"));
        }
        self.scopes.push(Scope::default());
        let result = self.select_in_scope(s, order_by);
        self.scopes.pop();
        result
    }

    fn select_in_scope(
        &mut self,
        s: &Select,
        order_by: Option<&OrderBy>,
    ) -> Result<Columns, Rejection> {
        let depth = self.scopes.len() - 1;
        let mut on = Vec::new();
        for twj in &s.from {
            self.table_with_joins(twj, &mut on)?;
        }
        // SQLite resolves the names of an ON clause among every FROM item of the SELECT, those
        // after the join included; the others among those before it, where they are walked.
        for e in on {
            let mut conjuncts = Vec::new();
            policy::split_conjuncts(e, &mut conjuncts);
            for c in conjuncts {
                self.linking_expr(depth, c)?;
            }
        }
        let dialect = self.policy.dialect;
        let aliases = s.projection.iter().filter_map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(resolve::output_name(dialect, alias)),
            _ => None,
        });
        // Where a select-list alias may stand for its expression: SQLite in WHERE and after,
        // PostgreSQL in DISTINCT ON, GROUP BY and ORDER BY, MySQL in GROUP BY, HAVING and
        // ORDER BY; never in the select list itself, where the name is a column (possibly of a
        // query further out).
        let aliases: Vec<String> = aliases.collect();

        let mut out = Columns::default();
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    self.expr(e)?;
                    match e {
                        Expr::Identifier(id) => {
                            if self.implicit_strings.last() == Some(&id.span.start) {
                                self.implicit_named.push(id.span.start);
                            }
                            out.names.push(resolve::output_name(dialect, id));
                        }
                        Expr::CompoundIdentifier(parts) if !parts.is_empty() => out
                            .names
                            .push(resolve::output_name(dialect, &parts[parts.len() - 1])),
                        _ => out.open = true,
                    }
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    self.expr(expr)?;
                    out.names.push(resolve::output_name(dialect, alias));
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    self.expr(expr)?;
                    out.names
                        .extend(aliases.iter().map(|a| resolve::output_name(dialect, a)));
                }
                SelectItem::Wildcard(_) => {
                    for i in 0..self.scopes[depth].relations.len() {
                        self.read_all(depth, i)?;
                        let cols = &self.scopes[depth].relations[i].columns;
                        out.names.extend(cols.names.iter().cloned());
                        out.open |= cols.open;
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    _,
                ) => {
                    let idents = resolve::object_idents(name);
                    let Some(last) = idents.last() else {
                        return Err(unsupported("an empty wildcard qualifier"));
                    };
                    let Some((d, found)) = self.find_relations(last) else {
                        return Err(self.unknown_relation(last));
                    };
                    self.check_barrier(d, &last.value)?;
                    for i in found {
                        self.read_all(d, i)?;
                        let cols = &self.scopes[d].relations[i].columns;
                        out.names.extend(cols.names.iter().cloned());
                        out.open |= cols.open;
                    }
                }
                SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::Expr(e), _) => {
                    self.expr(e)?;
                    out.open = true;
                }
            }
        }
        if let Some(Distinct::On(exprs)) = &s.distinct {
            self.scopes[depth].aliases = aliases.clone();
            for e in exprs {
                self.expr(e)?;
            }
        }
        self.scopes[depth].aliases = if dialect == Dialect::Sqlite {
            aliases.clone()
        } else {
            Vec::new()
        };
        if let Some(selection) = &s.selection {
            let mut conjuncts = Vec::new();
            policy::split_conjuncts(selection, &mut conjuncts);
            for c in conjuncts {
                self.linking_expr(depth, c)?;
            }
        }
        self.scopes[depth].aliases = aliases;
        if let GroupByExpr::Expressions(exprs, _) = &s.group_by {
            let saved = self.local_only(depth);
            let walked = exprs.iter().try_for_each(|e| self.expr(e));
            self.barrier = saved;
            walked?;
        }
        // PostgreSQL reads a HAVING name as a column, never as an alias.
        let hidden =
            (dialect == Dialect::Postgres).then(|| std::mem::take(&mut self.scopes[depth].aliases));
        for e in [&s.having, &s.qualify].into_iter().flatten() {
            self.expr(e)?;
        }
        if let Some(aliases) = hidden {
            self.scopes[depth].aliases = aliases;
        }
        for w in &s.named_window {
            if let NamedWindowExpr::WindowSpec(spec) = &w.1 {
                self.window_spec(spec)?;
            }
        }
        if let Some(order_by) = order_by {
            let saved = self.local_only(depth);
            let walked = self.order_by(order_by);
            self.barrier = saved;
            walked?;
        }
        policy::check_cartesian(&self.scopes[depth])?;
        Ok(out)
    }

    /// Walks the conjunct `e` of a `WHERE` or join condition; an equality between expressions
    /// over different relations of scope `depth` (`a.x = b.y`) links them. Other conditions
    /// (`a.x + b.y > 0`, `1 = 1`) restrict nothing about how their rows pair up and link nothing.
    fn linking_expr(&mut self, depth: usize, e: &Expr) -> Result<(), Rejection> {
        let (left, right) = match e {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq | BinaryOperator::Spaceship,
                right,
            }
            | Expr::IsNotDistinctFrom(left, right) => (left, right),
            Expr::Nested(inner) => return self.linking_expr(depth, inner),
            _ => return self.expr(e),
        };
        let left = self.referenced(depth, left)?;
        let right = self.referenced(depth, right)?;
        let links = &mut self.scopes[depth].links;
        for &l in &left {
            links.extend(right.iter().filter(|&&r| r != l).map(|&r| (l, r)));
        }
        Ok(())
    }

    /// Walks `e`; returns the relations of scope `depth` it references.
    fn referenced(&mut self, depth: usize, e: &Expr) -> Result<Vec<usize>, Rejection> {
        let saved = self.collect.replace((depth, Vec::new()));
        let result = self.expr(e);
        let collected = std::mem::replace(&mut self.collect, saved);
        result?;
        Ok(collected.map(|(_, refs)| refs).unwrap_or_default())
    }

    fn order_by(&mut self, order_by: &OrderBy) -> Result<(), Rejection> {
        if let OrderByKind::Expressions(exprs) = &order_by.kind {
            for o in exprs {
                self.expr(&o.expr)?;
            }
        }
        Ok(())
    }

    /// Walks one FROM item and its joins; on SQLite the ON clauses go to `on`, to be walked
    /// once every FROM item of the SELECT is in scope.
    fn table_with_joins<'q>(
        &mut self,
        twj: &'q TableWithJoins,
        on: &mut Vec<&'q Expr>,
    ) -> Result<(), Rejection> {
        let depth = self.scopes.len() - 1;
        // SQLite joins a `NATURAL` or `USING` join with everything before it in FROM, comma
        // joins included; PostgreSQL and MySQL with the join chain it is part of.
        let first = if self.policy.dialect == Dialect::Sqlite {
            0
        } else {
            self.scopes[depth].relations.len()
        };
        self.table_factor(&twj.relation, on)?;
        for join in &twj.joins {
            let before = self.scopes[depth].relations.len();
            self.table_factor(&join.relation, on)?;
            let constraint = match &join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::Left(c)
                | JoinOperator::LeftOuter(c)
                | JoinOperator::Right(c)
                | JoinOperator::RightOuter(c)
                | JoinOperator::FullOuter(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::Semi(c)
                | JoinOperator::LeftSemi(c)
                | JoinOperator::RightSemi(c)
                | JoinOperator::Anti(c)
                | JoinOperator::LeftAnti(c)
                | JoinOperator::RightAnti(c)
                | JoinOperator::StraightJoin(c) => c,
                _ => return Err(unsupported("this join kind")),
            };
            match constraint {
                JoinConstraint::On(e) if self.policy.dialect == Dialect::Sqlite => on.push(e),
                JoinConstraint::On(e) => {
                    let mut conjuncts = Vec::new();
                    policy::split_conjuncts(e, &mut conjuncts);
                    for c in conjuncts {
                        self.linking_expr(depth, c)?;
                    }
                }
                JoinConstraint::Using(names) | JoinConstraint::UsingAlias(names, _) => {
                    for name in names {
                        if let Some(last) = resolve::object_idents(name).last() {
                            self.resolve_using(first, before, last)?;
                        }
                    }
                    self.link_to_left(depth, first, before);
                }
                JoinConstraint::Natural => {
                    self.check_natural(first, before)?;
                    self.link_to_left(depth, first, before);
                }
                JoinConstraint::None => {}
            }
        }
        Ok(())
    }

    /// Links the relations added since `right_start` with those from `left_start` before them.
    fn link_to_left(&mut self, depth: usize, left_start: usize, right_start: usize) {
        let end = self.scopes[depth].relations.len();
        let links = &mut self.scopes[depth].links;
        for r in right_start..end {
            links.extend((left_start..right_start).map(|l| (l, r)));
        }
    }

    fn push_relation(
        &mut self,
        name: String,
        table: Option<&'a crate::catalog::Table>,
        columns: Columns,
    ) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.relations.push(Relation {
                name,
                table,
                columns,
                catalog_names: None,
            });
        }
    }

    fn table_factor<'q>(
        &mut self,
        tf: &'q TableFactor,
        on: &mut Vec<&'q Expr>,
    ) -> Result<(), Rejection> {
        let dialect = self.policy.dialect;
        let alias_of = |alias: &Option<sqlparser::ast::TableAlias>| {
            alias.as_ref().map(|a| {
                let cols: Vec<String> = a
                    .columns
                    .iter()
                    .map(|c| resolve::output_name(dialect, &c.name))
                    .collect();
                (resolve::output_name(dialect, &a.name), cols)
            })
        };
        let open_columns = |alias: Option<(String, Vec<String>)>, default: String| {
            let (name, cols) = alias.unwrap_or((default, Vec::new()));
            (
                name,
                Columns {
                    names: cols,
                    open: true,
                },
            )
        };
        match tf {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let alias = alias_of(alias);
                if let Some(args) = args {
                    let fname = name.to_string();
                    self.check_function_name(name)?;
                    super::cost::check_call(dialect, name, &args.args)?;
                    for a in &args.args {
                        self.function_arg(a)?;
                    }
                    let fixed = (dialect == Dialect::Sqlite
                        && alias.as_ref().is_none_or(|(_, c)| c.is_empty()))
                    .then(|| sqlite_json_table_columns(name))
                    .flatten();
                    let (n, cols) = open_columns(alias, fname);
                    let cols = match fixed {
                        // The columns are known, so a double-quoted name that is none of
                        // them is a string (see `implicit_strings`), as SQLite reads it.
                        Some(names) => Columns {
                            names: names.iter().map(|c| (*c).to_string()).collect(),
                            open: false,
                        },
                        None => cols,
                    };
                    self.push_relation(n, None, cols);
                    return Ok(());
                }
                let idents = resolve::object_idents(name);
                if let [single] = idents.as_slice() {
                    if let Some(later) = self.later_ctes.iter().find(|c| {
                        crate::catalog::identifier_matches(
                            dialect,
                            &resolve::output_name(dialect, c),
                            &single.value,
                            single.quote_style.is_some(),
                        )
                    }) {
                        return Err(Rejection::new(
                            RejectRule::Unsupported,
                            format!(
                                "`{}` names a CTE written later in the same WITH; write each CTE \
                                 before the ones that read it",
                                later.value
                            ),
                        ));
                    }
                    if dialect == crate::dialect::Dialect::Mysql
                        && single.value.eq_ignore_ascii_case("dual")
                    {
                        self.push_relation(single.value.clone(), None, Columns::default());
                        return Ok(());
                    }
                    let cte = self.ctes.iter().rev().find(|c| {
                        crate::catalog::identifier_matches(
                            dialect,
                            &resolve::output_name(dialect, &c.name),
                            &single.value,
                            single.quote_style.is_some(),
                        )
                    });
                    if let Some(cte) = cte {
                        let mut columns = cte.columns.clone();
                        let (n, cols) = alias.unwrap_or_else(|| {
                            (resolve::output_name(dialect, &cte.name), Vec::new())
                        });
                        if !cols.is_empty() {
                            columns = Columns {
                                names: cols,
                                open: false,
                            };
                        }
                        self.push_relation(n, None, columns);
                        return Ok(());
                    }
                }
                let table = self.policy.lookup_table(name)?;
                self.tables.push(table.qualified_name());
                let parts = resolve::object_idents(name);
                if let (Some(first), Some(last)) = (
                    parts.first().and_then(|i| lex::indexed(i.span.start)),
                    parts.last(),
                ) && let Some(end) = lex::indexed(last.span.start)
                {
                    self.refs.push(resolve::TableRef {
                        table,
                        first,
                        end: end + 1,
                        written: (*last).clone(),
                        aliased: alias.is_some(),
                    });
                }
                let (n, cols) = alias.unwrap_or_else(|| (table.name.clone(), Vec::new()));
                if cols.is_empty() {
                    let names = table.columns.iter().map(|c| c.name.clone()).collect();
                    self.push_relation(n, Some(table), Columns { names, open: false });
                } else {
                    if let Some(c) = table
                        .columns
                        .iter()
                        .find(|c| self.policy.is_denied(table, &c.name))
                    {
                        return Err(Rejection::new(
                            RejectRule::DeniedColumn,
                            format!(
                                "columns of `{}` cannot be renamed because `{}` is restricted; alias the table \
                                 without a column list",
                                table.name, c.name
                            ),
                        ));
                    }
                    // The list renames the first columns; the others keep their names.
                    let catalog: Vec<String> =
                        table.columns.iter().map(|c| c.name.clone()).collect();
                    let mut names = cols;
                    names.extend(catalog.iter().skip(names.len()).cloned());
                    if let Some(scope) = self.scopes.last_mut() {
                        scope.relations.push(Relation {
                            name: n,
                            table: Some(table),
                            columns: Columns { names, open: false },
                            catalog_names: Some(catalog),
                        });
                    }
                }
                Ok(())
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                // Without LATERAL a derived table does not see the FROM items beside it nor
                // the select list around it: a name there binds further out, as in the
                // database.
                let beside = (!lateral)
                    .then(|| self.scopes.last_mut().map(std::mem::take))
                    .flatten();
                let out = self.enclosed_query(subquery, false);
                if let (Some(scope), Some(last)) = (beside, self.scopes.last_mut()) {
                    *last = scope;
                }
                let out = out?;
                let (n, cols) = alias_of(alias).unwrap_or_default();
                // An alias list renames the first columns; the others keep their names.
                let columns = if cols.is_empty() {
                    out
                } else {
                    let mut names = cols;
                    let open = out.open;
                    names.extend(out.names.into_iter().skip(names.len()));
                    Columns { names, open }
                };
                self.push_relation(n, None, columns);
                Ok(())
            }
            TableFactor::TableFunction { expr, alias } => {
                self.expr(expr)?;
                let (n, cols) = open_columns(alias_of(alias), String::new());
                self.push_relation(n, None, cols);
                Ok(())
            }
            TableFactor::Function {
                name, args, alias, ..
            } => {
                self.check_function_name(name)?;
                super::cost::check_call(dialect, name, args)?;
                for a in args {
                    self.function_arg(a)?;
                }
                let (n, cols) = open_columns(alias_of(alias), name.to_string());
                self.push_relation(n, None, cols);
                Ok(())
            }
            TableFactor::UNNEST {
                alias, array_exprs, ..
            } => {
                self.check_function_name(&sqlparser::ast::ObjectName::from(vec![Ident::new(
                    "unnest",
                )]))?;
                for e in array_exprs {
                    self.expr(e)?;
                }
                let (n, cols) = open_columns(alias_of(alias), String::new());
                self.push_relation(n, None, cols);
                Ok(())
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                self.table_with_joins(table_with_joins, on)?;
                if let Some((n, cols)) = alias_of(alias) {
                    self.push_relation(
                        n,
                        None,
                        Columns {
                            names: cols,
                            open: true,
                        },
                    );
                }
                Ok(())
            }
            TableFactor::JsonTable {
                json_expr, alias, ..
            } => {
                self.expr(json_expr)?;
                let (n, cols) = open_columns(alias_of(alias), String::new());
                self.push_relation(n, None, cols);
                Ok(())
            }
            _ => Err(unsupported("this kind of FROM item")),
        }
    }
}

/// The columns of SQLite's `json_each` and `json_tree` (the last two hidden), which are the
/// same in every SQLite version the engine supports.
fn sqlite_json_table_columns(name: &sqlparser::ast::ObjectName) -> Option<&'static [&'static str]> {
    const COLUMNS: &[&str] = &[
        "key", "value", "type", "atom", "id", "parent", "fullkey", "path", "json", "root",
    ];
    let idents = resolve::object_idents(name);
    let [single] = idents.as_slice() else {
        return None;
    };
    ["json_each", "json_tree"]
        .iter()
        .any(|f| single.value.eq_ignore_ascii_case(f))
        .then_some(COLUMNS)
}
