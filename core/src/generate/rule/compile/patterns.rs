//! SQL of text patterns (`LIKE`) and of conditions on related rows (`[NOT] EXISTS`).
//!
//! Patterns are matched case-insensitively on every dialect, so that the three agree:
//!
//! | dialect | written as | case |
//! | --- | --- | --- |
//! | SQLite | `col LIKE '%x%' ESCAPE '\'` | `LIKE` ignores the case of ASCII letters (not of others) |
//! | PostgreSQL | `col ILIKE '%x%' ESCAPE '\'` | `LIKE` would be case-sensitive; `ILIKE` ignores case |
//! | MySQL/MariaDB | `col LIKE '%x%' ESCAPE '\\'` | ignores case under the usual `_ci` collations (a `_bin` or `_cs` column stays case-sensitive) |
//!
//! The question's text is matched literally: its `%`, `_` and `\` are escaped with `\`, and
//! the whole pattern is then written as a string literal of the dialect (which doubles `'`,
//! and on MySQL also `\`, see [`crate::sql::quote`]).
//!
//! Conditions on related rows are correlated `EXISTS` subqueries, which every supported
//! version of the three dialects runs (unlike `INTERSECT`/`EXCEPT`, missing before MySQL
//! 8.0.31 and MariaDB 10.3).

use crate::{
    dialect::Dialect,
    error::Result,
    generate::rule::{
        cannot_answer,
        ir::{CmpOp, ColumnRef, Filter, LikeKind, QueryIr},
        joins::JoinStep,
    },
};

use super::{SqlWriter, quote_ident};

/// Most tables a related-rows subquery joins, beyond the outer one.
const MAX_EXISTS_STEPS: usize = 4;

/// `text` with the `LIKE` wildcards and the escape character escaped by `\`, inside the
/// wildcards of `kind`.
pub fn like_pattern(kind: LikeKind, text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    match kind {
        LikeKind::Contains => format!("%{escaped}%"),
        LikeKind::StartsWith => format!("{escaped}%"),
        LikeKind::EndsWith => format!("%{escaped}"),
    }
}

impl SqlWriter<'_> {
    /// `column [NOT] LIKE pattern ESCAPE '\'`, case-insensitive on every dialect.
    pub(super) fn like(
        &self,
        column: &ColumnRef,
        kind: LikeKind,
        text: &str,
        negated: bool,
    ) -> String {
        let d = self.dialect();
        let op = match (d, negated) {
            (Dialect::Postgres, false) => "ILIKE",
            (Dialect::Postgres, true) => "NOT ILIKE",
            (_, false) => "LIKE",
            (_, true) => "NOT LIKE",
        };
        format!(
            "{} {op} {} ESCAPE {}",
            self.col(column),
            d.quote_string(&like_pattern(kind, text)),
            d.quote_string("\\")
        )
    }

    /// The related tables a `[NOT] EXISTS` reads, outer table first, joined along foreign
    /// keys; an abstention when they are not connected, a link is ambiguous, the path is
    /// long, or the related rows are the outer table's own.
    pub(super) fn exists_steps(
        &self,
        column: &ColumnRef,
        table: &str,
        filters: &[Filter],
    ) -> Result<Vec<JoinStep>> {
        let outer = &column.table;
        let mut tables = vec![outer.clone(), table.to_string()];
        for f in filters {
            let t = &f.column().table;
            if !tables.contains(t) {
                tables.push(t.clone());
            }
        }
        let refuse = |why: String| Err(cannot_answer(why, Vec::new()));
        if outer.is_empty() {
            return refuse(format!(
                "I could not tell whose {table} rows the question is about"
            ));
        }
        let Some(steps) = self.graph.join_tree(outer, &tables) else {
            return refuse(format!("{table} is not related to {outer} by foreign keys"));
        };
        if steps.is_empty() {
            return refuse(format!(
                "the question relates {outer} rows to other {outer} rows, which the rules do not follow"
            ));
        }
        if let Some(s) = steps.iter().find(|s| s.ambiguous) {
            return refuse(format!(
                "{} and {} are linked by more than one foreign key and the question does not say which",
                s.parent, s.table
            ));
        }
        if let Some(why) = super::shared_parent(&steps) {
            return refuse(why);
        }
        if steps.len() > MAX_EXISTS_STEPS
            || steps.iter().filter(|s| s.parent == *outer).count() != 1
        {
            return refuse(format!(
                "{table} is too far from {outer} to relate them reliably"
            ));
        }
        Ok(steps)
    }

    /// `[NOT] EXISTS (SELECT 1 FROM related ... WHERE related.fk = outer.key AND ...)`, every
    /// column written with its table.
    pub(super) fn exists(
        &self,
        column: &ColumnRef,
        table: &str,
        filters: &[Filter],
        negated: bool,
    ) -> Result<String> {
        let steps = self.exists_steps(column, table, filters)?;
        let inner = SqlWriter {
            catalog: self.catalog,
            graph: self.graph,
            semantic: self.semantic,
            values: self.values,
            qualify: true,
        };
        let d = self.dialect();
        let q = |t: &str, c: &str| format!("{}.{}", quote_ident(d, t), quote_ident(d, c));
        let mut sql = String::from("SELECT 1 FROM ");
        let mut conditions: Vec<String> = Vec::new();
        for (i, s) in steps.iter().enumerate() {
            let on: Vec<String> =
                s.on.iter()
                    .map(|(p, c)| format!("{} = {}", q(&s.parent, p), q(&s.table, c)))
                    .collect();
            if i == 0 {
                sql.push_str(&self.table_name(&s.table));
                conditions.extend(on);
            } else {
                sql.push_str(&format!(
                    " JOIN {} ON {}",
                    self.table_name(&s.table),
                    on.join(" AND ")
                ));
            }
        }
        for f in filters {
            conditions.push(inner.filter(f)?);
        }
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
        Ok(format!(
            "{}EXISTS ({sql})",
            if negated { "NOT " } else { "" }
        ))
    }

    /// Abstains when a related-rows subquery would read a table the outer query joins too
    /// (its columns would be ambiguous), or when the query lists distinct values rather than
    /// rows ("the hometowns no gymnast comes from" is a difference of values, not of rows).
    pub(super) fn check_exists(
        &self,
        ir: &QueryIr,
        steps: &[JoinStep],
        outer: &[String],
    ) -> Result<()> {
        let has_exists = ir
            .filters
            .iter()
            .any(|f| matches!(f, Filter::Exists { .. }));
        if has_exists && ir.distinct {
            return Err(cannot_answer(
                "the question asks for values that no related row has, which the rules do not compute".to_string(),
                Vec::new(),
            ));
        }
        for f in &ir.filters {
            let negated_column = match f {
                Filter::Compare {
                    column,
                    op: CmpOp::Ne,
                    ..
                }
                | Filter::Like {
                    column,
                    negated: true,
                    ..
                }
                | Filter::NoneOf { column, .. } => Some(column),
                _ => None,
            };
            if let Some(column) = negated_column
                && behind_to_many(steps, &ir.subject, &column.table)
            {
                // "customers not buying Jazz" read as "with some track that is not Jazz".
                return Err(cannot_answer(
                    format!(
                        "{} can have several {} rows, and \"not\" could mean none of them or one of them",
                        ir.subject, column.table
                    ),
                    Vec::new(),
                ));
            }
            if let Filter::Exists {
                column,
                table,
                filters,
                ..
            } = f
            {
                let steps = self.exists_steps(column, table, filters)?;
                if let Some(s) = steps.iter().find(|s| outer.contains(&s.table)) {
                    return Err(cannot_answer(
                        format!(
                            "the question reads {} both directly and through related rows",
                            s.table
                        ),
                        Vec::new(),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Whether `table` is joined to `subject` through a link where a row has several related
/// rows.
fn behind_to_many(steps: &[JoinStep], subject: &str, table: &str) -> bool {
    let mut at = table;
    for _ in 0..=steps.len() {
        if at == subject {
            return false;
        }
        let Some(s) = steps.iter().find(|s| s.table == at) else {
            return false;
        };
        if !s.to_one {
            return true;
        }
        at = &s.parent;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_the_escape_character() {
        assert_eq!(like_pattern(LikeKind::Contains, "gmail.com"), "%gmail.com%");
        assert_eq!(like_pattern(LikeKind::StartsWith, "50%"), "50\\%%");
        assert_eq!(like_pattern(LikeKind::EndsWith, "a_b"), "%a\\_b");
        assert_eq!(like_pattern(LikeKind::Contains, "c:\\x"), "%c:\\\\x%");
        assert_eq!(like_pattern(LikeKind::Contains, "it's"), "%it's%");
    }
}
