//! Cost and side-effect policy: cartesian products, unbounded recursion and oversized values.

use sqlparser::ast::{
    BinaryOperator, Cte, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, SetExpr,
    TableFactor, UnaryOperator, Value,
};

use super::{
    RejectRule, Rejection,
    functions::{MAX_BUILT_VALUE_LEN, SIZE_ARGUMENT_FUNCTIONS},
    resolve::Scope,
};

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

/// Refuses a recursive CTE whose recursive part has neither a `WHERE` condition, nor a join to
/// another relation, nor a `LIMIT`: nothing would stop it from producing rows forever.
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
        let relations: usize = select.from.iter().map(|twj| 1 + twj.joins.len()).sum();
        if refs_self && select.selection.is_none() && relations < 2 && select.having.is_none() {
            return Err(Rejection::new(
                RejectRule::UnboundedRecursion,
                format!(
                    "the recursive CTE `{name}` has no termination condition; add a WHERE to its recursive part \
                     (for example `WHERE n < 100`) or join it to a table"
                ),
            ));
        }
    }
    Ok(())
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

/// Refuses a literal size argument above [`MAX_BUILT_VALUE_LEN`] for the functions that build
/// a value of that size (`lpad`, `repeat`, `randomblob`, ...).
pub(crate) fn check_size_arguments(f: &Function) -> Result<(), Rejection> {
    let [sqlparser::ast::ObjectNamePart::Identifier(ident)] = f.name.0.as_slice() else {
        return Ok(());
    };
    let Some(&(name, position)) = SIZE_ARGUMENT_FUNCTIONS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&ident.value))
    else {
        return Ok(());
    };
    let FunctionArguments::List(list) = &f.args else {
        return Ok(());
    };
    let size = match list.args.get(position) {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => literal_number(e),
        _ => None,
    };
    match size {
        Some(size) if size > MAX_BUILT_VALUE_LEN as f64 => Err(Rejection::new(
            RejectRule::OversizedValue,
            format!(
                "`{name}` would build a value of {size} characters or bytes; the limit is {MAX_BUILT_VALUE_LEN}, \
                 use a smaller size"
            ),
        )),
        _ => Ok(()),
    }
}

fn literal_number(e: &Expr) -> Option<f64> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        Expr::Nested(x)
        | Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr: x,
        } => literal_number(x),
        _ => None,
    }
}
