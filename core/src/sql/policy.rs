//! Cost and side-effect policy: cartesian products, unbounded recursion and oversized values.

use sqlparser::ast::{BinaryOperator, Cte, Expr, SetExpr, TableFactor};

use super::{RejectRule, Rejection, resolve::Scope};

/// The number of unconnected relations from which a `FROM` clause counts as a cartesian product.
const CARTESIAN_COMPONENTS: usize = 3;

/// Pushes the `AND`-separated conjuncts of `e` onto `out`.
pub(crate) fn split_conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            split_conjuncts(left, out);
            split_conjuncts(right, out);
        }
        Expr::Nested(inner) => split_conjuncts(inner, out),
        _ => out.push(e),
    }
}

/// Refuses a scope whose relations fall into three or more groups that no join condition or
/// `WHERE` conjunct connects: their cross product grows as the product of the table sizes.
pub(crate) fn check_cartesian(scope: &Scope<'_>) -> Result<(), Rejection> {
    let n = scope.relations.len();
    if n < CARTESIAN_COMPONENTS {
        return Ok(());
    }
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(a, b) in &scope.links {
        if a < n && b < n {
            let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
            parent[ra] = rb;
        }
    }
    let components = (0..n).filter(|&i| root(&mut parent, i) == i).count();
    if components < CARTESIAN_COMPONENTS {
        return Ok(());
    }
    let names: Vec<String> = scope
        .relations
        .iter()
        .map(|r| format!("`{}`", r.name))
        .collect();
    Err(Rejection::new(
        RejectRule::CartesianProduct,
        format!(
            "the query cross-joins {} ({}) in {components} unconnected groups, which multiplies their rows; \
             connect every table with a join condition (`JOIN ... ON` or a WHERE equality between their columns)",
            if n == 1 {
                "1 relation".to_string()
            } else {
                format!("{n} relations")
            },
            names.join(", ")
        ),
    ))
}

/// Refuses a recursive CTE whose recursive part has nothing that ends it: no `LIMIT`, no bound
/// on a column in its `WHERE` or `HAVING` (a comparison of an expression over columns with one
/// over none: `n < 100`, `d <= DATE '2024-12-31'`), and no equality join to another relation
/// (a walk along the rows of a table, such as a hierarchy). `WHERE 1 = 1` and `WHERE n < n + 1`
/// bound nothing. The statement timeout stays the backstop for recursions that pass (a cycle in
/// the data, a bound the recursion moves away from).
pub(crate) fn check_recursion(cte: &Cte) -> Result<(), Rejection> {
    if cte.query.limit_clause.is_some() || cte.query.fetch.is_some() {
        return Ok(());
    }
    let name = &cte.alias.name.value;
    let mut leaves = Vec::new();
    select_leaves(&cte.query.body, &mut leaves);
    for select in leaves {
        let refs_self = select.from.iter().any(|twj| {
            std::iter::once(&twj.relation)
                .chain(twj.joins.iter().map(|j| &j.relation))
                .any(|tf| names_cte(tf, name))
        });
        if !refs_self {
            continue;
        }
        let mut conditions = Vec::new();
        for e in [&select.selection, &select.having].into_iter().flatten() {
            split_conjuncts(e, &mut conditions);
        }
        let mut join_conditions = Vec::new();
        for twj in &select.from {
            for j in &twj.joins {
                if let Some(sqlparser::ast::JoinConstraint::On(e)) =
                    join_constraint(&j.join_operator)
                {
                    split_conjuncts(e, &mut join_conditions);
                }
            }
        }
        let relations: usize = select.from.iter().map(|twj| 1 + twj.joins.len()).sum();
        let bounded = conditions.iter().any(|c| is_bound(c));
        let joined = relations >= 2
            && conditions
                .iter()
                .chain(&join_conditions)
                .any(|c| is_column_equality(c))
            || select.from.iter().any(|twj| {
                twj.joins.iter().any(|j| {
                    matches!(
                        join_constraint(&j.join_operator),
                        Some(
                            sqlparser::ast::JoinConstraint::Using(_)
                                | sqlparser::ast::JoinConstraint::Natural
                        )
                    )
                })
            });
        if !bounded && !joined {
            return Err(Rejection::new(
                RejectRule::UnboundedRecursion,
                format!(
                    "the recursive CTE `{name}` has no termination condition; bound a column in its recursive part \
                     (for example `WHERE n < 100`), join it to a table with an equality, or add a LIMIT"
                ),
            ));
        }
    }
    Ok(())
}

fn join_constraint(op: &sqlparser::ast::JoinOperator) -> Option<&sqlparser::ast::JoinConstraint> {
    use sqlparser::ast::JoinOperator as J;
    match op {
        J::Join(c)
        | J::Inner(c)
        | J::Left(c)
        | J::LeftOuter(c)
        | J::Right(c)
        | J::RightOuter(c)
        | J::FullOuter(c)
        | J::CrossJoin(c)
        | J::StraightJoin(c) => Some(c),
        _ => None,
    }
}

/// `expr op constant` (or `BETWEEN` constants), where `expr` reads a column and the constant
/// reads none.
fn is_bound(e: &Expr) -> bool {
    match e {
        Expr::Nested(inner) => is_bound(inner),
        Expr::BinaryOp {
            left,
            op:
                BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq
                | BinaryOperator::Eq,
            right,
        } => mentions_column(left) != mentions_column(right),
        Expr::Between {
            expr, low, high, ..
        } => mentions_column(expr) && !mentions_column(low) && !mentions_column(high),
        _ => false,
    }
}

/// `a = b` where both sides read columns.
fn is_column_equality(e: &Expr) -> bool {
    match e {
        Expr::Nested(inner) => is_column_equality(inner),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => mentions_column(left) && mentions_column(right),
        _ => false,
    }
}

/// Whether `e` reads a column of its own query (a subquery is a value of its own). Constructs
/// not listed count as reading one, so that nothing unknown passes for a constant.
fn mentions_column(e: &Expr) -> bool {
    use sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments};
    match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => true,
        Expr::Value(_) | Expr::TypedString(_) | Expr::Subquery(_) => false,
        Expr::Nested(x) | Expr::UnaryOp { expr: x, .. } | Expr::Cast { expr: x, .. } => {
            mentions_column(x)
        }
        Expr::Interval(i) => mentions_column(&i.value),
        Expr::BinaryOp { left, right, .. } => mentions_column(left) || mentions_column(right),
        Expr::Function(f) => match &f.args {
            FunctionArguments::None => false,
            FunctionArguments::Subquery(_) => false,
            FunctionArguments::List(list) => list.args.iter().any(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x))
                | FunctionArg::Named {
                    arg: FunctionArgExpr::Expr(x),
                    ..
                } => mentions_column(x),
                _ => true,
            }),
        },
        _ => true,
    }
}

fn names_cte(tf: &TableFactor, name: &str) -> bool {
    match tf {
        TableFactor::Table { name: n, .. } => {
            n.0.len() == 1
                && n.to_string()
                    .trim_matches(['"', '`', '[', ']'])
                    .eq_ignore_ascii_case(name)
        }
        _ => false,
    }
}

fn select_leaves<'q>(body: &'q SetExpr, out: &mut Vec<&'q sqlparser::ast::Select>) {
    match body {
        SetExpr::Select(s) => out.push(s),
        SetExpr::SetOperation { left, right, .. } => {
            select_leaves(left, out);
            select_leaves(right, out);
        }
        SetExpr::Query(q) if q.limit_clause.is_none() => select_leaves(&q.body, out),
        _ => {}
    }
}
