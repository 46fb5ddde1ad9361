//! Data policies on the checked statement: every FROM item that names a table the principal's
//! policy filters or masks reads the table through the policy's derived table, under the name
//! the statement gives it (its alias, or the table's name as written).
//!
//! The resolver decided which FROM items are catalog tables (not CTEs, with the databases'
//! own scoping rules), so a CTE named like a table is left alone and a table inside a CTE,
//! subquery, `EXISTS`, set operation or join is replaced wherever it is. The text sent is the
//! checked text with each such name's tokens replaced by `(<derived table>) [AS <name>]`; the
//! expected tree is the checked tree with the same FROM items replaced by the derived tables'
//! trees. The text must parse back to exactly that tree (the round trip), or the statement is
//! refused.

use std::ops::ControlFlow;

use sqlparser::ast::{TableAlias, TableFactor, VisitMut, VisitorMut};

use super::{Plan, Rejection, lex, render::Splice, resolve};
use crate::{
    access::{BoundPolicy, Derived},
    dialect::Dialect,
};

/// The statement of `plan` as `policy` lets it read, or `None` when the policy changes nothing
/// it reads.
pub(crate) fn apply(
    dialect: Dialect,
    plan: Plan<'_>,
    policy: &BoundPolicy,
) -> Result<Option<String>, Rejection> {
    let mut splices: Vec<Splice> = Vec::with_capacity(plan.refs.len() + 1);
    let mut replaced: Vec<(usize, &Derived)> = Vec::with_capacity(plan.refs.len());
    for r in &plan.refs {
        let Some(derived) = policy.derived(r.table) else {
            continue;
        };
        // MariaDB's table names are case-sensitive: a name it would not find is not read
        // through the policy under the catalog's spelling either.
        if dialect == Dialect::Mysql && r.written.value != r.table.name {
            return Err(Rejection::new(
                super::RejectRule::UnknownTable,
                format!(
                    "no table `{}` in the schema; did you mean `{}`? (table names are case-sensitive here)",
                    r.written.value, r.table.name
                ),
            ));
        }
        let text = if r.aliased {
            format!("({})", derived.text)
        } else {
            format!("({}) AS {}", derived.text, r.written)
        };
        splices.push(Splice {
            range: r.first..r.end,
            text,
        });
        replaced.push((r.first, derived));
    }
    if replaced.is_empty() {
        return Ok(None);
    }
    // MariaDB 10.11 can crash on a subquery that reads a column of a derived table around it
    // (the validator refuses that when it is written): a table the policy turns into one must
    // not be read so.
    if let Some(table) = plan
        .outer_tables
        .iter()
        .find(|t| policy.derived(t).is_some())
    {
        return Err(Rejection::new(
            super::RejectRule::Unsupported,
            format!(
                "under your data permissions `{}` is read through a row filter or a mask, and a subquery that reads its columns from outside cannot run safely on MariaDB; join the subquery's tables instead, or move the condition into a join",
                table.name
            ),
        ));
    }
    if let Some(cap) = plan.cap {
        splices.push(cap);
    }
    splices.sort_by_key(|s| s.range.start);
    let overlapping = splices.windows(2).any(|w| {
        !w[0].range.is_empty() && !w[1].range.is_empty() && w[0].range.end > w[1].range.start
    });
    if overlapping {
        return Err(refusal());
    }
    let text = plan.layout.spliced_many(&splices);
    let mut expected = plan.query;
    let mut replace = Replace {
        at: &replaced,
        done: 0,
        dialect,
        problem: None,
    };
    let _ = expected.visit(&mut replace);
    if let Some(problem) = replace.problem {
        return Err(Rejection::new(super::RejectRule::Unsupported, problem));
    }
    if replace.done != replaced.len() {
        return Err(refusal());
    }
    super::round_trip(dialect, &text, &expected).map_err(|_| refusal())?;
    Ok(Some(text))
}

fn refusal() -> Rejection {
    Rejection::new(
        super::RejectRule::RoundTrip,
        "the statement cannot be read through your data permissions as written (an unusual table \
         reference: a table hint, ONLY, a sample clause); write plain table names in FROM and JOIN",
    )
}

/// Replaces the FROM items whose name starts at the recorded tokens by the derived tables.
struct Replace<'p> {
    at: &'p [(usize, &'p Derived)],
    done: usize,
    dialect: Dialect,
    /// A reference the derived tables cannot serve, with what to write instead.
    problem: Option<String>,
}

impl VisitorMut for Replace<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut sqlparser::ast::Expr) -> ControlFlow<()> {
        use sqlparser::ast::Expr;
        let last = match expr {
            Expr::CompoundIdentifier(parts) if parts.len() >= 3 => {
                self.problem = Some(format!(
                    "under your data permissions a column is named as table.column or alias.column, \
                     not with its schema (`{}`)",
                    parts
                        .iter()
                        .map(|p| p.value.as_str())
                        .collect::<Vec<_>>()
                        .join(".")
                ));
                return ControlFlow::Break(());
            }
            Expr::CompoundIdentifier(parts) => parts.last(),
            Expr::Identifier(ident) => Some(&*ident),
            _ => None,
        };
        if self.dialect == Dialect::Sqlite
            && let Some(name) = last
            && ["rowid", "oid", "_rowid_"]
                .iter()
                .any(|r| name.value.eq_ignore_ascii_case(r))
        {
            self.problem = Some(
                "under your data permissions tables are read through a filter that has no `rowid`; \
                 use the table's key column instead"
                    .into(),
            );
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    // After the children: the derived table put in place is not walked again.
    fn post_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = tf
        else {
            return ControlFlow::Continue(());
        };
        let parts = resolve::object_idents(name);
        let Some(first) = parts.first().and_then(|i| lex::indexed(i.span.start)) else {
            return ControlFlow::Continue(());
        };
        let Some((_, derived)) = self.at.iter().find(|(i, _)| *i == first) else {
            return ControlFlow::Continue(());
        };
        let alias = alias.take().or_else(|| {
            parts.last().map(|last| TableAlias {
                explicit: true,
                name: (*last).clone(),
                columns: Vec::new(),
                at: None,
            })
        });
        *tf = TableFactor::Derived {
            lateral: false,
            subquery: derived.tree.clone(),
            alias,
            sample: None,
        };
        self.done += 1;
        ControlFlow::Continue(())
    }
}
