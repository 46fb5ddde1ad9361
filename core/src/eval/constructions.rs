//! What a gold query is made of: the SQL constructions ([`Construction`]) an evaluation breaks
//! its scores down by, classified from the gold SQL ([`classify`]).
//!
//! The gold SQL is parsed with the project's parser (SQLite, then MySQL, then PostgreSQL
//! syntax); a query none of them parses is classified by scanning its keywords
//! ([`classify_keywords`]), which is coarser but never fails.

use std::{
    collections::{BTreeSet, HashSet},
    ops::ControlFlow,
};

use sqlparser::ast::{
    BinaryOperator, DuplicateTreatment, Expr, FunctionArguments, GroupByExpr, InTarget,
    LimitClause, ObjectNamePart, Query, Select, SelectItem, SetExpr, SetOperator, UnaryOperator,
    Value, Visit, Visitor,
};

use crate::dialect::Dialect;

/// One SQL construction a question's gold query uses; a query can use several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Construction {
    /// `NOT IN`, `NOT EXISTS`, `<>`, `!=`, `NOT LIKE`, `NOT BETWEEN`, `NOT (...)` or `EXCEPT`.
    Negation,
    /// `INTERSECT`.
    Intersection,
    /// `UNION`.
    Union,
    /// `LIKE` (negated or not).
    Pattern,
    /// `HAVING`, or a comparison with a scalar subquery holding an aggregate
    /// (`price > (SELECT AVG(price) ...)`).
    AggregateComparison,
    /// `BETWEEN`.
    Range,
    /// `IN` with a list of literals.
    ValueList,
    /// `ORDER BY ... LIMIT 1` without `GROUP BY`, or `= (SELECT MAX/MIN(...) ...)`.
    Superlative,
    /// `SELECT *` (or `t.*`).
    AllColumns,
    /// A division, or a percentage (a product with 100).
    Share,
    /// `COUNT(DISTINCT ...)`.
    DistinctCount,
    /// `GROUP BY`.
    Grouping,
    /// More than one table in a `FROM` (a `JOIN` or a comma).
    Join,
    /// Any subquery none of the constructions above accounts for (`IN (SELECT ...)`, a derived
    /// table, a CTE, ...).
    Nested,
    /// None of the SQL constructions above.
    Simple,
    /// A conversation turn after the first: not read from the SQL, the evaluation adds it.
    FollowUp,
}

impl Construction {
    /// Every construction, in report order.
    pub const ALL: [Construction; 16] = [
        Self::Negation,
        Self::Intersection,
        Self::Union,
        Self::Pattern,
        Self::AggregateComparison,
        Self::Range,
        Self::ValueList,
        Self::Superlative,
        Self::AllColumns,
        Self::Share,
        Self::DistinctCount,
        Self::Grouping,
        Self::Join,
        Self::Nested,
        Self::Simple,
        Self::FollowUp,
    ];

    /// The construction's name in reports, e.g. `aggregate-comparison`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Negation => "negation",
            Self::Intersection => "intersection",
            Self::Union => "union",
            Self::Pattern => "pattern",
            Self::AggregateComparison => "aggregate-comparison",
            Self::Range => "range",
            Self::ValueList => "value-list",
            Self::Superlative => "superlative",
            Self::AllColumns => "all-columns",
            Self::Share => "share",
            Self::DistinctCount => "distinct-count",
            Self::Grouping => "grouping",
            Self::Join => "join",
            Self::Nested => "nested",
            Self::Simple => "simple",
            Self::FollowUp => "follow-up",
        }
    }
}

impl std::fmt::Display for Construction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The constructions of `sql`, sorted, never empty: [`Construction::Simple`] when it uses none
/// of the others. [`Construction::FollowUp`] is never returned (it is not a property of SQL).
///
/// ```
/// use conversational_bi::eval::{Construction, classify};
///
/// let c = classify("SELECT name FROM t WHERE id NOT IN (SELECT t_id FROM u)");
/// assert_eq!(c, vec![Construction::Negation]);
/// assert_eq!(classify("SELECT name FROM t"), vec![Construction::Simple]);
/// ```
pub fn classify(sql: &str) -> Vec<Construction> {
    let parsed = [Dialect::Sqlite, Dialect::Mysql, Dialect::Postgres]
        .into_iter()
        .find_map(|d| crate::sql::parse_query(d, sql).ok());
    let found = match parsed {
        Some(query) => {
            let mut finder = Finder::default();
            let _ = query.visit(&mut finder);
            finder.found
        }
        None => keyword_constructions(sql),
    };
    finish(found)
}

/// The constructions of `sql` read from its keywords alone, without parsing; what
/// [`classify`] falls back to for SQL that does not parse.
pub fn classify_keywords(sql: &str) -> Vec<Construction> {
    finish(keyword_constructions(sql))
}

fn finish(mut found: BTreeSet<Construction>) -> Vec<Construction> {
    found.remove(&Construction::FollowUp);
    if found.is_empty() {
        found.insert(Construction::Simple);
    }
    found.into_iter().collect()
}

/// Walks a parsed query and notes its constructions.
#[derive(Default)]
struct Finder {
    found: BTreeSet<Construction>,
    /// Subqueries already accounted for by another construction (by address in the tree
    /// being walked): they do not make the query [`Construction::Nested`].
    explained: HashSet<*const Query>,
    depth: usize,
}

impl Finder {
    fn add(&mut self, c: Construction) {
        self.found.insert(c);
    }

    fn explain(&mut self, q: &Query) {
        self.explained.insert(q as *const Query);
    }

    fn set_expr(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Select(s) => self.select(s),
            // A parenthesized query is the same level, not a subquery.
            SetExpr::Query(q) => self.explain(q),
            SetExpr::SetOperation {
                op, left, right, ..
            } => {
                self.add(match op {
                    SetOperator::Union => Construction::Union,
                    SetOperator::Intersect => Construction::Intersection,
                    SetOperator::Except | SetOperator::Minus => Construction::Negation,
                });
                self.set_expr(left);
                self.set_expr(right);
            }
            _ => {}
        }
    }

    fn select(&mut self, s: &Select) {
        if s.projection.iter().any(|item| {
            matches!(
                item,
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
            )
        }) {
            self.add(Construction::AllColumns);
        }
        if s.from.len() > 1 || s.from.iter().any(|t| !t.joins.is_empty()) {
            self.add(Construction::Join);
        }
        if groups(s) {
            self.add(Construction::Grouping);
        }
        if s.having.is_some() {
            self.add(Construction::AggregateComparison);
        }
    }

    /// A comparison of `side` with a scalar aggregate subquery: an aggregate comparison, or a
    /// superlative for `= (SELECT MAX/MIN ...)`.
    fn comparison_side(&mut self, op: &BinaryOperator, side: &Expr) {
        let Expr::Subquery(q) = strip(side) else {
            return;
        };
        let Some(aggregate) = scalar_aggregate(q) else {
            return;
        };
        let extreme = matches!(aggregate.as_str(), "MAX" | "MIN");
        self.add(if *op == BinaryOperator::Eq && extreme {
            Construction::Superlative
        } else {
            Construction::AggregateComparison
        });
        self.explain(q);
    }
}

impl Visitor for Finder {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if self.depth > 0 && !self.explained.contains(&(q as *const Query)) {
            self.add(Construction::Nested);
        }
        if q.with.as_ref().is_some_and(|w| !w.cte_tables.is_empty()) {
            self.add(Construction::Nested);
        }
        self.depth += 1;
        self.set_expr(&q.body);
        let grouped = matches!(q.body.as_ref(), SetExpr::Select(s) if groups(s));
        if q.order_by.is_some() && limit_is_one(q) && !grouped {
            self.add(Construction::Superlative);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _q: &Query) -> ControlFlow<()> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::In {
                target, negated, ..
            } => {
                if *negated {
                    self.add(Construction::Negation);
                }
                match target {
                    InTarget::List(list) if list.iter().all(is_literal) => {
                        self.add(Construction::ValueList);
                    }
                    InTarget::Subquery(q) if *negated => self.explain(q),
                    _ => {}
                }
            }
            Expr::Exists { subquery, negated } if *negated => {
                self.add(Construction::Negation);
                self.explain(subquery);
            }
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::NotEq => {
                    self.add(Construction::Negation);
                    self.comparison_side(op, left);
                    self.comparison_side(op, right);
                }
                BinaryOperator::Eq
                | BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq => {
                    self.comparison_side(op, left);
                    self.comparison_side(op, right);
                }
                BinaryOperator::Divide => self.add(Construction::Share),
                BinaryOperator::Multiply if is_hundred(left) || is_hundred(right) => {
                    self.add(Construction::Share);
                }
                _ => {}
            },
            Expr::Like { negated, .. } | Expr::ILike { negated, .. } => {
                self.add(Construction::Pattern);
                if *negated {
                    self.add(Construction::Negation);
                }
            }
            Expr::Between { negated, .. } => {
                self.add(Construction::Range);
                if *negated {
                    self.add(Construction::Negation);
                }
            }
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                ..
            } => self.add(Construction::Negation),
            Expr::Function(f) => {
                if let FunctionArguments::List(args) = &f.args
                    && function_name(&f.name.0).as_deref() == Some("COUNT")
                    && args.duplicate_treatment == Some(DuplicateTreatment::Distinct)
                {
                    self.add(Construction::DistinctCount);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(inner) => strip(inner),
        other => other,
    }
}

fn groups(s: &Select) -> bool {
    match &s.group_by {
        GroupByExpr::All(_) => true,
        GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
    }
}

fn limit_is_one(q: &Query) -> bool {
    let limit = match &q.limit_clause {
        Some(LimitClause::LimitOffset {
            limit: Some(limit), ..
        }) => limit,
        Some(LimitClause::OffsetCommaLimit { limit, .. }) => limit,
        _ => return false,
    };
    matches!(strip(limit), Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n == "1"))
}

fn is_literal(e: &Expr) -> bool {
    match strip(e) {
        Expr::Value(_) => true,
        Expr::UnaryOp { expr, .. } => matches!(strip(expr), Expr::Value(_)),
        _ => false,
    }
}

fn is_hundred(e: &Expr) -> bool {
    matches!(strip(e), Expr::Value(v)
        if matches!(&v.value, Value::Number(n, _) if n.parse::<f64>().is_ok_and(|x| x == 100.0)))
}

fn function_name(parts: &[ObjectNamePart]) -> Option<String> {
    match parts.last()? {
        ObjectNamePart::Identifier(ident) => Some(ident.value.to_ascii_uppercase()),
        ObjectNamePart::Function(_) => None,
    }
}

/// The aggregate (`AVG`, `MAX`, ...) a scalar subquery selects, when it selects one value
/// that is an aggregate without grouping.
fn scalar_aggregate(q: &Query) -> Option<String> {
    let SetExpr::Select(s) = strip_body(&q.body) else {
        return None;
    };
    if groups(s) {
        return None;
    }
    let [item] = s.projection.as_slice() else {
        return None;
    };
    let expr = match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
        _ => return None,
    };
    let mut aggregate = None;
    let _ = expr.visit(&mut AggregateFinder(&mut aggregate));
    aggregate
}

fn strip_body(body: &SetExpr) -> &SetExpr {
    match body {
        SetExpr::Query(q) => strip_body(&q.body),
        other => other,
    }
}

/// Finds the first aggregate function call of an expression.
struct AggregateFinder<'a>(&'a mut Option<String>);

impl Visitor for AggregateFinder<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = e
            && let Some(name) = function_name(&f.name.0)
                .filter(|n| matches!(n.as_str(), "COUNT" | "SUM" | "AVG" | "MIN" | "MAX"))
        {
            *self.0 = Some(name);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, _q: &Query) -> ControlFlow<()> {
        // An aggregate inside a deeper subquery is not this query's value.
        ControlFlow::Break(())
    }
}

/// The SQL's words (upper case, string literals dropped) and operator symbols.
fn words(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' || c == '"' || c == '`' {
            // A quoted string or name: skip it, doubled quotes included.
            while let Some(d) = chars.next() {
                if d == c {
                    if chars.peek() == Some(&c) {
                        chars.next();
                    } else {
                        break;
                    }
                }
            }
            out.push(if c == '\'' { "'".into() } else { "NAME".into() });
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            let mut w = c.to_uppercase().to_string();
            while let Some(&d) = chars.peek() {
                if d.is_alphanumeric() || d == '_' || d == '.' {
                    w.extend(d.to_uppercase());
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(w);
        } else if !c.is_whitespace() {
            let mut op = c.to_string();
            if matches!(c, '<' | '>' | '!') && matches!(chars.peek(), Some('=' | '>')) {
                op.extend(chars.next());
            }
            out.push(op);
        }
    }
    out
}

fn keyword_constructions(sql: &str) -> BTreeSet<Construction> {
    use Construction as C;
    let w = words(sql);
    let mut found = BTreeSet::new();
    let at = |i: usize| w.get(i).map_or("", String::as_str);
    let before = |i: usize| if i == 0 { "" } else { at(i - 1) };
    let selects = w.iter().filter(|x| *x == "SELECT").count();
    let mut explained_subqueries = 0;
    let group_by = (0..w.len()).any(|i| at(i) == "GROUP" && at(i + 1) == "BY");
    // Inside a FROM clause, where a comma joins tables.
    let mut in_from = false;
    for i in 0..w.len() {
        match at(i) {
            "FROM" => in_from = true,
            "SELECT" | "WHERE" | "GROUP" | "ORDER" | "HAVING" | "LIMIT" | ")" => in_from = false,
            "," if in_from => {
                found.insert(C::Join);
            }
            _ => {}
        }
        match at(i) {
            "NOT" if before(i) != "IS" => {
                found.insert(C::Negation);
                if matches!(at(i + 1), "IN" | "EXISTS") && at(i + 2) == "(" && at(i + 3) == "SELECT"
                {
                    explained_subqueries += 1;
                }
            }
            "<>" | "!=" | "EXCEPT" | "MINUS" => {
                found.insert(C::Negation);
            }
            "INTERSECT" => {
                found.insert(C::Intersection);
            }
            "UNION" => {
                found.insert(C::Union);
            }
            "LIKE" => {
                found.insert(C::Pattern);
            }
            "HAVING" => {
                found.insert(C::AggregateComparison);
            }
            "BETWEEN" => {
                found.insert(C::Range);
            }
            "IN" if at(i + 1) == "(" && at(i + 2) != "SELECT" => {
                found.insert(C::ValueList);
            }
            "*" if before(i) == "SELECT" || before(i) == "DISTINCT" || before(i) == "," => {
                found.insert(C::AllColumns);
            }
            "*" if at(i + 1) == "100" || before(i) == "100" => {
                found.insert(C::Share);
            }
            "/" => {
                found.insert(C::Share);
            }
            "COUNT" if at(i + 1) == "(" && at(i + 2) == "DISTINCT" => {
                found.insert(C::DistinctCount);
            }
            "GROUP" if at(i + 1) == "BY" => {
                found.insert(C::Grouping);
            }
            "JOIN" => {
                found.insert(C::Join);
            }
            "LIMIT" if at(i + 1) == "1" && !group_by && w.iter().any(|x| x == "ORDER") => {
                found.insert(C::Superlative);
            }
            "(" if at(i + 1) == "SELECT"
                && matches!(at(i + 2), "MAX" | "MIN")
                && before(i) == "=" =>
            {
                found.insert(C::Superlative);
                explained_subqueries += 1;
            }
            "(" if at(i + 1) == "SELECT"
                && matches!(at(i + 2), "AVG" | "SUM" | "COUNT" | "MAX" | "MIN")
                && matches!(before(i), ">" | "<" | ">=" | "<=" | "=" | "<>" | "!=") =>
            {
                found.insert(C::AggregateComparison);
                explained_subqueries += 1;
            }
            _ => {}
        }
    }
    let set_operands = w
        .iter()
        .filter(|x| matches!(x.as_str(), "UNION" | "INTERSECT" | "EXCEPT" | "MINUS"))
        .count();
    if selects > 1 + set_operands + explained_subqueries {
        found.insert(C::Nested);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::{Construction as C, *};

    fn has(sql: &str, c: Construction) -> bool {
        classify(sql).contains(&c)
    }

    #[test]
    fn plain_query_is_simple() {
        assert_eq!(classify("SELECT name FROM singer"), vec![C::Simple]);
        assert_eq!(
            classify("SELECT name, age FROM singer WHERE country = 'France' ORDER BY age DESC"),
            vec![C::Simple]
        );
        assert_eq!(classify("SELECT count(*) FROM singer"), vec![C::Simple]);
    }

    #[test]
    fn negation() {
        for sql in [
            "SELECT name FROM a WHERE id NOT IN (SELECT a_id FROM b)",
            "SELECT name FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.a_id = a.id)",
            "SELECT name FROM a WHERE country <> 'France'",
            "SELECT name FROM a WHERE country != 'France'",
            "SELECT name FROM a WHERE name NOT LIKE '%x%'",
            "SELECT name FROM a EXCEPT SELECT name FROM b",
        ] {
            assert!(has(sql, C::Negation), "{sql}: {:?}", classify(sql));
        }
        // NOT IN and NOT EXISTS subqueries are accounted for by the negation.
        assert_eq!(
            classify("SELECT name FROM a WHERE id NOT IN (SELECT a_id FROM b)"),
            vec![C::Negation]
        );
        assert_eq!(
            classify("SELECT name FROM a EXCEPT SELECT name FROM b"),
            vec![C::Negation]
        );
    }

    #[test]
    fn set_operations() {
        assert_eq!(
            classify("SELECT name FROM a INTERSECT SELECT name FROM b"),
            vec![C::Intersection]
        );
        assert_eq!(
            classify("SELECT name FROM a UNION SELECT name FROM b"),
            vec![C::Union]
        );
    }

    #[test]
    fn pattern_range_and_value_list() {
        assert_eq!(
            classify("SELECT name FROM a WHERE name LIKE '%son'"),
            vec![C::Pattern]
        );
        assert_eq!(
            classify("SELECT name FROM a WHERE age BETWEEN 20 AND 30"),
            vec![C::Range]
        );
        assert_eq!(
            classify("SELECT name FROM a WHERE country IN ('France', 'Spain')"),
            vec![C::ValueList]
        );
        // IN with a subquery is not a value list: it is nested.
        assert_eq!(
            classify("SELECT name FROM a WHERE id IN (SELECT a_id FROM b)"),
            vec![C::Nested]
        );
    }

    #[test]
    fn aggregate_comparison() {
        assert!(has(
            "SELECT country FROM a GROUP BY country HAVING count(*) > 2",
            C::AggregateComparison
        ));
        assert_eq!(
            classify("SELECT name FROM a WHERE age > (SELECT avg(age) FROM a)"),
            vec![C::AggregateComparison]
        );
    }

    #[test]
    fn superlative() {
        assert_eq!(
            classify("SELECT name FROM a ORDER BY age DESC LIMIT 1"),
            vec![C::Superlative]
        );
        assert_eq!(
            classify("SELECT name FROM a WHERE age = (SELECT max(age) FROM a)"),
            vec![C::Superlative]
        );
        // With GROUP BY the top group is grouping, not a superlative; LIMIT 3 is not one.
        assert_eq!(
            classify("SELECT country FROM a GROUP BY country ORDER BY count(*) DESC LIMIT 1"),
            vec![C::Grouping]
        );
        assert_eq!(
            classify("SELECT name FROM a ORDER BY age DESC LIMIT 3"),
            vec![C::Simple]
        );
    }

    #[test]
    fn all_columns_share_distinct_count() {
        assert_eq!(classify("SELECT * FROM a"), vec![C::AllColumns]);
        assert_eq!(classify("SELECT sum(x) / count(*) FROM a"), vec![C::Share]);
        assert_eq!(classify("SELECT 100 * sum(x) FROM a"), vec![C::Share]);
        assert_eq!(
            classify("SELECT count(DISTINCT country) FROM a"),
            vec![C::DistinctCount]
        );
        // COUNT(*) is not all columns.
        assert_eq!(classify("SELECT count(*) FROM a"), vec![C::Simple]);
    }

    #[test]
    fn grouping_join_and_nested() {
        assert_eq!(
            classify("SELECT country, count(*) FROM a GROUP BY country"),
            vec![C::Grouping]
        );
        assert_eq!(
            classify("SELECT a.name FROM a JOIN b ON a.id = b.a_id"),
            vec![C::Join]
        );
        assert_eq!(
            classify("SELECT a.name FROM a, b WHERE a.id = b.a_id"),
            vec![C::Join]
        );
        assert_eq!(
            classify("SELECT count(*) FROM (SELECT country FROM a GROUP BY country)"),
            vec![C::Grouping, C::Nested]
        );
        assert!(has(
            "WITH t AS (SELECT name FROM a) SELECT name FROM t",
            C::Nested
        ));
    }

    #[test]
    fn several_constructions_at_once() {
        assert_eq!(
            classify(
                "SELECT T1.name FROM a AS T1 JOIN b AS T2 ON T1.id = T2.a_id \
                 WHERE T2.kind <> 'x' GROUP BY T1.name HAVING count(*) >= 2"
            ),
            vec![C::Negation, C::AggregateComparison, C::Grouping, C::Join]
        );
    }

    #[test]
    fn keyword_fallback() {
        // Not SQL any dialect parses: classified by its keywords.
        let sql = "SELECT name FROM a JOIN b WHERE id NOT IN (SELECT x FROM c) GROUP BY name \
                   HAVING count(*) > 1 ORDER BY";
        assert_eq!(
            classify(sql),
            vec![C::Negation, C::AggregateComparison, C::Grouping, C::Join]
        );
        assert_eq!(
            classify_keywords("SELECT name FROM a WHERE age BETWEEN 1 AND 2 AND n LIKE 'x%'"),
            vec![C::Pattern, C::Range]
        );
        assert_eq!(
            classify_keywords("SELECT * FROM a ORDER BY age LIMIT 1"),
            vec![C::Superlative, C::AllColumns]
        );
        assert_eq!(
            classify_keywords("SELECT name FROM a WHERE id IN (SELECT x FROM b)"),
            vec![C::Nested]
        );
        assert_eq!(classify_keywords("SELECT 'a /* x' FROM t"), vec![C::Simple]);
        assert_eq!(classify_keywords("SELECT name FROM t"), vec![C::Simple]);
        assert_eq!(
            classify_keywords("SELECT a.x, b.y FROM a, b WHERE a.id = b.id"),
            vec![C::Join]
        );
        assert_eq!(
            classify_keywords("SELECT x FROM (SELECT x, y FROM a) WHERE y IN (1, 2)"),
            vec![C::ValueList, C::Nested]
        );
    }
}
