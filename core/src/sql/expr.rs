//! The walk over expressions: columns, functions and their windows, variables, and the
//! subqueries nested in expressions.

use sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArguments, Ident,
    InTarget, Value, WindowFrameBound, WindowSpec, WindowType,
};

use super::{
    RejectRule, Rejection, cost, functions,
    resolve::{self, Walker},
    walk::unsupported,
};

impl Walker<'_, '_> {
    pub(crate) fn check_function_name(
        &self,
        name: &sqlparser::ast::ObjectName,
    ) -> Result<(), Rejection> {
        let idents = resolve::object_idents(name);
        let allowed = match idents.as_slice() {
            [single] => functions::is_function_allowed(self.policy.dialect, &single.value),
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(Rejection::new(
                RejectRule::FunctionNotAllowed,
                format!(
                    "function `{name}` is not allowed; use only aggregate, window, string, math, date/time, \
                     conditional and cast functions"
                ),
            ))
        }
    }

    fn function(&mut self, f: &Function) -> Result<(), Rejection> {
        cost::check_function(self.policy.dialect, f)?;
        self.check_function_name(&f.name)?;
        // MariaDB 10.11 can crash on an aggregate in a subquery whose arguments read columns of
        // queries around it (directly, or from a subquery of their own).
        let outer_aggregate = self.policy.dialect == crate::dialect::Dialect::Mysql
            && f.over.is_none()
            && self.scopes.len() > 1
            && matches!(resolve::object_idents(&f.name).as_slice(),
                [single] if functions::is_mysql_aggregate(&single.value));
        if outer_aggregate {
            self.aggregates
                .push(resolve::AggregateFrame::new(self.scopes.len() - 1));
        }
        self.function_parts(f)?;
        if outer_aggregate
            && let Some(frame) = self.aggregates.pop()
            && frame.reads_outer()
        {
            return Err(Rejection::new(
                RejectRule::Unsupported,
                format!(
                    "`{}` in a subquery aggregates columns of a query around it, which MariaDB 10.11 \
                     can crash on; aggregate in the outer query, or join the outer table inside the \
                     subquery",
                    f.name
                ),
            ));
        }
        Ok(())
    }

    fn function_parts(&mut self, f: &Function) -> Result<(), Rejection> {
        let unit_first = takes_unit_keyword(f);
        for args in [&f.parameters, &f.args] {
            match args {
                FunctionArguments::None => {}
                FunctionArguments::Subquery(q) => {
                    self.query(q)?;
                }
                FunctionArguments::List(list) => {
                    for (i, a) in list.args.iter().enumerate() {
                        if i == 0 && unit_first && is_bare_word(a) {
                            continue;
                        }
                        self.function_arg(a)?;
                    }
                    for clause in &list.clauses {
                        match clause {
                            FunctionArgumentClause::Where(e) | FunctionArgumentClause::Limit(e) => {
                                self.expr(e)?
                            }
                            FunctionArgumentClause::OrderBy(exprs) => {
                                for o in exprs {
                                    self.expr(&o.expr)?;
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        if let Some(filter) = &f.filter {
            self.expr(filter)?;
        }
        for o in &f.within_group {
            self.expr(&o.expr)?;
        }
        if let Some(WindowType::WindowSpec(spec)) = &f.over {
            self.window_spec(spec)?;
        }
        Ok(())
    }

    /// `t.*` inside an expression (`count(t.*)`, `json_agg(t.*)`): reads every column of `t`.
    fn qualified_wildcard(&mut self, name: &sqlparser::ast::ObjectName) -> Result<(), Rejection> {
        let idents = resolve::object_idents(name);
        let Some(last) = idents.last() else {
            return Ok(());
        };
        match self.find_relations(last) {
            Some((depth, found)) => {
                self.check_barrier(depth, &last.value)?;
                for i in found {
                    self.read_all(depth, i)?;
                }
                Ok(())
            }
            None => Err(self.unknown_relation(last)),
        }
    }

    pub(crate) fn function_arg(&mut self, a: &FunctionArg) -> Result<(), Rejection> {
        let arg = match a {
            FunctionArg::Named { arg, .. } | FunctionArg::Unnamed(arg) => arg,
            FunctionArg::ExprNamed { name, arg, .. } => {
                self.expr(name)?;
                arg
            }
        };
        match arg {
            FunctionArgExpr::Expr(e) => self.expr(e),
            FunctionArgExpr::QualifiedWildcard(name) => self.qualified_wildcard(name),
            FunctionArgExpr::Wildcard | FunctionArgExpr::WildcardWithOptions(_) => Ok(()),
        }
    }

    pub(crate) fn window_spec(&mut self, spec: &WindowSpec) -> Result<(), Rejection> {
        for e in &spec.partition_by {
            self.expr(e)?;
        }
        for o in &spec.order_by {
            self.expr(&o.expr)?;
        }
        if let Some(frame) = &spec.window_frame {
            for bound in std::iter::once(&frame.start_bound).chain(frame.end_bound.as_ref()) {
                if let WindowFrameBound::Preceding(Some(e)) | WindowFrameBound::Following(Some(e)) =
                    bound
                {
                    self.expr(e)?;
                }
            }
        }
        Ok(())
    }

    /// Walks an expression: resolves columns, checks functions, variables and subqueries.
    pub(crate) fn expr(&mut self, e: &Expr) -> Result<(), Rejection> {
        match e {
            Expr::Identifier(id) => self.resolve_column(id),
            Expr::CompoundIdentifier(parts) => {
                if let Some(v) = parts.iter().find(|p| p.value.starts_with('@')) {
                    return Err(resolve::variable(&v.value));
                }
                self.resolve_qualified(parts)
            }
            Expr::Function(f) => self.function(f),
            Expr::Subquery(q) | Expr::Exists { subquery: q, .. } => self.query(q).map(|_| ()),
            Expr::Value(v) => match &v.value {
                Value::Placeholder(p) => Err(resolve::variable(p)),
                _ => Ok(()),
            },
            Expr::BinaryOp { left, op, right } => {
                if matches!(op, sqlparser::ast::BinaryOperator::Assignment) {
                    return Err(resolve::variable(":="));
                }
                self.expr(left)?;
                self.expr(right)
            }
            Expr::In { expr, target, .. } => {
                self.expr(expr)?;
                match target {
                    InTarget::List(list) => self.exprs(list),
                    InTarget::Subquery(q) => self.query(q).map(|_| ()),
                    InTarget::Unnest(e) => self.expr(e),
                    InTarget::Table { .. } => Err(unsupported("`IN table`")),
                }
            }
            Expr::IsFalse(x)
            | Expr::IsNotFalse(x)
            | Expr::IsTrue(x)
            | Expr::IsNotTrue(x)
            | Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsUnknown(x)
            | Expr::IsNotUnknown(x)
            | Expr::Nested(x)
            | Expr::UnaryOp { expr: x, .. }
            | Expr::Cast { expr: x, .. }
            | Expr::Extract { expr: x, .. }
            | Expr::Ceil { expr: x, .. }
            | Expr::Floor { expr: x, .. }
            | Expr::Collate { expr: x, .. }
            | Expr::Prefixed { value: x, .. }
            | Expr::Named { expr: x, .. }
            | Expr::IsJson { expr: x, .. }
            | Expr::IsNormalized { expr: x, .. }
            | Expr::JsonAccess { value: x, .. } => self.expr(x),
            Expr::Interval(i) => self.expr(&i.value),
            Expr::Convert { expr, styles, .. } => {
                self.expr(expr)?;
                self.exprs(styles)
            }
            Expr::IsDistinctFrom(a, b)
            | Expr::IsNotDistinctFrom(a, b)
            | Expr::AtTimeZone {
                timestamp: a,
                time_zone: b,
            }
            | Expr::Position { expr: a, r#in: b }
            | Expr::AnyOp {
                left: a, right: b, ..
            }
            | Expr::AllOp {
                left: a, right: b, ..
            }
            | Expr::RLike {
                expr: a,
                pattern: b,
                ..
            } => {
                self.expr(a)?;
                self.expr(b)
            }
            Expr::Like {
                expr,
                pattern,
                escape_char,
                ..
            }
            | Expr::ILike {
                expr,
                pattern,
                escape_char,
                ..
            }
            | Expr::SimilarTo {
                expr,
                pattern,
                escape_char,
                ..
            } => {
                self.expr(expr)?;
                self.expr(pattern)?;
                escape_char.as_deref().map_or(Ok(()), |c| self.expr(c))
            }
            Expr::MemberOf(m) => {
                self.expr(&m.value)?;
                self.expr(&m.array)
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                self.expr(expr)?;
                self.expr(low)?;
                self.expr(high)
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                self.expr(expr)?;
                for x in [substring_from, substring_for].into_iter().flatten() {
                    self.expr(x)?;
                }
                Ok(())
            }
            Expr::Trim {
                expr,
                trim_what,
                trim_characters,
                ..
            } => {
                self.expr(expr)?;
                if let Some(w) = trim_what {
                    self.expr(w)?;
                }
                trim_characters.as_deref().map_or(Ok(()), |c| self.exprs(c))
            }
            Expr::Overlay {
                expr,
                overlay_what,
                overlay_from,
                overlay_for,
            } => {
                self.expr(expr)?;
                self.expr(overlay_what)?;
                self.expr(overlay_from)?;
                overlay_for.as_deref().map_or(Ok(()), |x| self.expr(x))
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if let Some(o) = operand {
                    self.expr(o)?;
                }
                for w in conditions {
                    self.expr(&w.condition)?;
                    self.expr(&w.result)?;
                }
                else_result.as_deref().map_or(Ok(()), |x| self.expr(x))
            }
            Expr::GroupingSets(sets) | Expr::Cube(sets) | Expr::Rollup(sets) => {
                sets.iter().try_for_each(|set| self.exprs(set))
            }
            Expr::Tuple(list) => self.exprs(list),
            Expr::Array(a) => self.exprs(&a.elem),
            Expr::CompoundFieldAccess { root, access_chain } => {
                self.expr(root)?;
                for access in access_chain {
                    match access {
                        sqlparser::ast::AccessExpr::Dot(x) => {
                            if !matches!(x, Expr::Identifier(_)) {
                                self.expr(x)?;
                            }
                        }
                        sqlparser::ast::AccessExpr::Subscript(
                            sqlparser::ast::Subscript::Index { index },
                        ) => self.expr(index)?,
                        sqlparser::ast::AccessExpr::Subscript(
                            sqlparser::ast::Subscript::Slice {
                                lower_bound,
                                upper_bound,
                                stride,
                            },
                        ) => {
                            for x in [lower_bound, upper_bound, stride].into_iter().flatten() {
                                self.expr(x)?;
                            }
                        }
                    }
                }
                Ok(())
            }
            Expr::MatchAgainst { columns, .. } => {
                for c in columns {
                    let parts: Vec<Ident> =
                        resolve::object_idents(c).into_iter().cloned().collect();
                    match parts.as_slice() {
                        [single] => self.resolve_column(single)?,
                        _ => self.resolve_qualified(&parts)?,
                    }
                }
                Ok(())
            }
            Expr::QualifiedWildcard(name, _) => self.qualified_wildcard(name),
            Expr::TypedString(_) | Expr::Wildcard(_) => Ok(()),
            Expr::Struct { .. }
            | Expr::Dictionary(_)
            | Expr::Map(_)
            | Expr::Lambda(_)
            | Expr::OuterJoin(_)
            | Expr::Prior(_) => Err(unsupported("this expression")),
        }
    }

    fn exprs(&mut self, list: &[Expr]) -> Result<(), Rejection> {
        list.iter().try_for_each(|e| self.expr(e))
    }
}

/// Whether the function's first argument is a bare time-unit keyword (`TIMESTAMPDIFF(DAY, ...)`)
/// rather than a column.
fn takes_unit_keyword(f: &Function) -> bool {
    let [sqlparser::ast::ObjectNamePart::Identifier(name)] = f.name.0.as_slice() else {
        return false;
    };
    [
        "timestampdiff",
        "timestampadd",
        "datediff",
        "dateadd",
        "datepart",
        "date_part",
    ]
    .iter()
    .any(|n| name.value.eq_ignore_ascii_case(n))
}

/// Whether the argument is an unquoted time unit such as `DAY` or `MONTH`.
fn is_bare_word(a: &FunctionArg) -> bool {
    const UNITS: &[&str] = &[
        "microsecond",
        "millisecond",
        "second",
        "minute",
        "hour",
        "day",
        "week",
        "month",
        "quarter",
        "year",
        "dayofyear",
        "weekday",
        "ms",
        "mcs",
        "ss",
        "mi",
        "hh",
        "dd",
        "wk",
        "mm",
        "qq",
        "yy",
    ];
    match a {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(Ident {
            quote_style: None,
            value,
            ..
        }))) => UNITS.iter().any(|u| value.eq_ignore_ascii_case(u)),
        _ => false,
    }
}
