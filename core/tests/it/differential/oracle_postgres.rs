//! The PostgreSQL oracle: the server's own parser, analyzer and planner report what a statement
//! reads, through `EXPLAIN (VERBOSE, FORMAT JSON)` (planned, never run) and through privileges.
//!
//! **Grants (exact).** Each statement is explained first as `cbi_diff_probe`, whose column grants
//! equal the policy (no `ssn`, no `pr"ivate`, no `secrets`, no schema `archive`). PostgreSQL
//! checks privileges on every column the analyzer marks as read, including `*` expansion,
//! whole-row references, NATURAL / USING columns and columns of relations the planner later
//! removes; "permission denied" therefore proves a read outside the policy, whatever the plan
//! shows. The statement is then explained again as `cbi_diff_all` to list the reads.
//!
//! **Plan (complete for tables, close for columns).** Every scan node with a `Relation Name`
//! reads that relation (`Schema`.`Relation Name`; `Alias` is its unique reference name in the
//! plan). Columns come from the deparsed expressions of every node (`Output`, `Filter`, join
//! and index conditions, sort and group keys, function calls ...), where a reference to a
//! relation's column is `alias.column`, unqualified when the plan has a single range-table
//! entry. How the forms show up:
//!
//! - `SELECT *` and `t.*` in the select list are expanded by the analyzer: the plan lists
//!   each column.
//! - A whole-row reference (`to_json(t)`, `t.*` inside a function, `(t).col`) is `t.*` in the
//!   scan's `Output` (and `(t.*)` / `t` in expressions above); it counts as every column.
//! - NATURAL and USING columns appear in the join condition (`Hash Cond: (a.id = b.id)`).
//! - A scan under a join or aggregate may output every column of its table ("physical target
//!   list") although its parent needs fewer, and an index-only scan that only produces rows
//!   outputs its index's key; such an `Output` is skipped when the scan is the outer or inner
//!   input of a projecting node (directly or through nodes that pass rows on unchanged:
//!   `Materialize`, `Hash`, `Sort`, `Unique`, ...), whose own expressions say which columns
//!   are used. (The top node of a CTE or subquery plan outputs exactly its target list.)
//! - A table alias with a column list (`customers AS c(a, b)`) renames the columns in the plan
//!   (`c.a`): references to them are not mapped back to the table's columns (a blind spot of
//!   the column comparison; the grants still judge them).
//!
//! **Functions**: every `name(` in those expressions that is not syntax deparsed like a call
//! (`COALESCE(`, `TRIM(BOTH FROM`, `ANY (`, ...) is a function the plan calls, compared with
//! the allow-list (`pg_sleep`, `version()`). SQL-standard value functions without parentheses
//! (`CURRENT_USER`, `CURRENT_DATE`) are not seen.
//!
//! Blind spots: the plan is the optimized one, so a relation or column the planner proves
//! unnecessary (`WHERE false`, a removed LEFT JOIN, a constant-folded expression) is not in the
//! plan, and a function the planner folds into a constant (immutable ones on constants) is gone;
//! the grants still see the reads.

use std::collections::HashMap;

use conversational_bi::Dialect;
use serde_json::Value;
use sqlx::{AssertSqlSafe, PgConnection};
use testkit::sessions::SessionPair;

use super::{
    compare::{Names, Observation, Policy, Reads},
    fixture,
};

/// Two sessions on `cbi_diff`: the probe (policy grants) and the full reader.
#[derive(Debug)]
pub struct PgOracle {
    sessions: SessionPair<PgConnection>,
    policy: Policy,
}

/// The settings of both sessions.
const SETUP: &str = "SET statement_timeout = 5000; SET default_transaction_read_only = on; SET search_path = public";

async fn explain(conn: &mut PgConnection, sql: &str) -> Result<Value, sqlx::Error> {
    let text = format!("EXPLAIN (VERBOSE, FORMAT JSON) {sql}");
    let plan: sqlx::types::Json<Value> = sqlx::query_scalar(AssertSqlSafe(text))
        .persistent(false)
        .fetch_one(conn)
        .await?;
    Ok(plan.0)
}

/// Whether the connection itself failed (the server went away), not the statement.
fn is_connection_error(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed
    )
}

fn is_permission_error(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "42501")
}

impl PgOracle {
    /// Connects both sessions.
    pub async fn connect() -> Result<Self, String> {
        Ok(Self {
            sessions: SessionPair::connect(fixture::pg_probe_url(), fixture::pg_all_url(), SETUP)
                .await?,
            policy: Policy::new(Dialect::Postgres),
        })
    }

    /// Makes the next statement reconnect first (the connection is in an unknown state).
    pub fn mark_broken(&mut self) {
        self.sessions.mark_broken();
    }

    /// What PostgreSQL reads when it plans `sql`.
    pub async fn observe(&mut self, sql: &str) -> Observation {
        if let Err(e) = self.sessions.ready().await {
            return Observation::Lost(e);
        }
        let (plan, grants_refused) = match explain(&mut self.sessions.probe, sql).await {
            Ok(plan) => (plan, None),
            Err(e) if is_connection_error(&e) => {
                self.sessions.mark_broken();
                return Observation::Lost(e.to_string());
            }
            Err(e) if is_permission_error(&e) => {
                let why = e
                    .as_database_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_string());
                match explain(&mut self.sessions.all, sql).await {
                    Ok(plan) => (plan, Some(why)),
                    Err(e) if is_connection_error(&e) => {
                        self.sessions.mark_broken();
                        return Observation::Lost(e.to_string());
                    }
                    Err(e) => (Value::Null, Some(format!("{why}; as cbi_diff_all: {e}"))),
                }
            }
            Err(e) => {
                return Observation::Refused(
                    e.as_database_error()
                        .map_or_else(|| e.to_string(), |d| d.message().to_string()),
                );
            }
        };
        Observation::Compiled {
            reads: plan_reads(&self.policy, &plan),
            several: false,
            grants_refused,
            partial: false,
        }
    }
}

/// Plan keys whose values are deparsed expressions.
const EXPRESSION_KEYS: &[&str] = &[
    "Output",
    "Filter",
    "Join Filter",
    "Hash Cond",
    "Merge Cond",
    "Index Cond",
    "Recheck Cond",
    "TID Cond",
    "One-Time Filter",
    "Sort Key",
    "Group Key",
    "Presorted Key",
    "Function Call",
    "Table Function Call",
    "Cache Key",
    "Run Condition",
    "Hash Key",
    "Grouping Sets",
    "Group Keys",
    "Hash Keys",
    "Sort Keys",
    "Sampling Parameters",
    "Repeatable Seed",
];

/// Nodes that compute their own output from their children's: a scan below one of them may
/// output its whole row without the parent using it.
const PROJECTING: &[&str] = &[
    "Nested Loop",
    "Hash Join",
    "Merge Join",
    "Aggregate",
    "Group",
    "WindowAgg",
    "Result",
    "ProjectSet",
    "Gather",
    "Gather Merge",
];

/// The reads of an `EXPLAIN (VERBOSE, FORMAT JSON)` result.
pub fn plan_reads(policy: &Policy, plan: &Value) -> Reads {
    let names = policy.names();
    let mut nodes = Vec::new();
    if let Some(list) = plan.as_array() {
        for entry in list {
            if let Some(p) = entry.get("Plan") {
                collect_nodes(p, None, &mut nodes);
            }
        }
    }
    let mut reads = Reads::default();
    let mut aliases: HashMap<String, String> = HashMap::new();
    let mut alias_nodes = 0;
    for (node, _) in &nodes {
        if node.get("Alias").is_some() {
            alias_nodes += 1;
        }
        if let (Some(rel), Some(schema)) = (
            node.get("Relation Name").and_then(Value::as_str),
            node.get("Schema").and_then(Value::as_str),
        ) {
            let key = names.table(Some(schema), rel);
            reads.tables.insert(key.clone());
            let alias = node.get("Alias").and_then(Value::as_str).unwrap_or(rel);
            aliases.insert(alias.to_string(), key);
        }
    }
    // EXPLAIN qualifies column names once the query has more than one range-table entry,
    // even when the planner removed all scans but one: an unqualified name then belongs to a
    // removed relation (a Result under `One-Time Filter: false`), which nothing reads.
    let single = if alias_nodes == 1 && aliases.len() == 1 {
        let qualified = nodes.iter().any(|(n, _)| {
            n.get("Alias").is_some()
                && n.get("Output")
                    .and_then(Value::as_array)
                    .is_some_and(|o| o.iter().any(|e| e.as_str().is_some_and(is_qualified)))
        });
        // A relation proven empty (`One-Time Filter: false`) has no scan, and its columns
        // print unqualified too, even where the only other relation's would.
        let removed = nodes
            .iter()
            .any(|(n, _)| n.get("One-Time Filter").and_then(Value::as_str) == Some("false"));
        (!qualified && !removed)
            .then(|| aliases.values().next().cloned())
            .flatten()
    } else {
        None
    };
    // A scan that outputs more than its parent uses: its table's whole row, or an index-only
    // scan's key columns (the planner scans the narrowest index just to produce rows).
    let physical = |node: &Value| {
        node.get("Alias")
            .and_then(Value::as_str)
            .and_then(|a| aliases.get(a))
            .is_some_and(|key| {
                node.get("Node Type").and_then(Value::as_str) == Some("Index Only Scan")
                    || is_whole_row_list(policy, key, node.get("Output"), single.is_some())
            })
    };
    for (node, feeds) in &nodes {
        // The top node of an InitPlan or SubPlan (a CTE, a subquery) outputs exactly its
        // query's target list; only a scan feeding a projecting parent as its outer or inner
        // input (directly or through a node that passes rows on unchanged) may output more
        // than is used, and so does a node passing such a scan's rows on.
        let skip_output = *feeds
            && (physical(node)
                || node
                    .get("Node Type")
                    .and_then(Value::as_str)
                    .is_some_and(|k| PASS_THROUGH.contains(&k))
                    && node
                        .get("Plans")
                        .and_then(Value::as_array)
                        .is_some_and(|c| {
                            c.len() == 1
                                && physical(&c[0])
                                && c[0].get("Output") == node.get("Output")
                        }));
        for key in EXPRESSION_KEYS {
            if *key == "Output" && skip_output {
                continue;
            }
            if let Some(v) = node.get(*key) {
                let mut texts = Vec::new();
                strings(v, &mut texts);
                for t in texts {
                    refs(policy, names, &aliases, single.as_deref(), t, &mut reads);
                }
            }
        }
    }
    reads
}

/// Every node of the plan, with whether it feeds a projecting node as its outer or inner input,
/// directly or through [`PASS_THROUGH`] nodes.
fn collect_nodes<'v>(
    node: &'v Value,
    parent: Option<(&'v str, bool)>,
    out: &mut Vec<(&'v Value, bool)>,
) {
    let input = node
        .get("Parent Relationship")
        .and_then(Value::as_str)
        .is_some_and(|r| r == "Outer" || r == "Inner");
    let feeds = input
        && parent.is_some_and(|(kind, parent_feeds)| {
            PROJECTING.contains(&kind) || (PASS_THROUGH.contains(&kind) && parent_feeds)
        });
    out.push((node, feeds));
    let kind = node.get("Node Type").and_then(Value::as_str);
    if let Some(children) = node.get("Plans").and_then(Value::as_array) {
        for c in children {
            collect_nodes(c, kind.map(|k| (k, feeds)), out);
        }
    }
}

/// Nodes whose output is their single input's rows, unchanged.
const PASS_THROUGH: &[&str] = &[
    "Materialize",
    "Hash",
    "Memoize",
    "Unique",
    "Sort",
    "Incremental Sort",
    "Limit",
];

/// Whether a deparsed output expression is a qualified column reference (`alias.column`).
fn is_qualified(expr: &str) -> bool {
    matches!(
        lex(expr).as_slice(),
        [Tok::Ident(_), Tok::Dot, Tok::Ident(_)]
    )
}

fn strings<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

/// Whether a scan's `Output` is exactly every column of its table in order (a physical target
/// list).
fn is_whole_row_list(
    policy: &Policy,
    key: &str,
    output: Option<&Value>,
    unqualified: bool,
) -> bool {
    let (Some(cols), Some(out)) = (policy.columns.get(key), output.and_then(Value::as_array))
    else {
        return false;
    };
    if cols.len() != out.len() {
        return false;
    }
    // Positional: a table alias with a column list (`AS t(a, b)`) renames them in the plan.
    out.iter().all(|o| {
        let Some(o) = o.as_str() else { return false };
        matches!(
            lex(o).as_slice(),
            [Tok::Ident(_), Tok::Dot, Tok::Ident(_)] | [Tok::Ident(_)]
        )
    }) && (unqualified
        || out
            .iter()
            .all(|o| o.as_str().is_some_and(|o| o.contains('.'))))
}

/// A token of a deparsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Dot,
    Star,
    LParen,
    Cast,
    Other,
}

/// Tokens of a deparsed PostgreSQL expression (standard-conforming strings; the server never
/// deparses with `E'...'`).
fn lex(s: &str) -> Vec<Tok> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            out.push(Tok::Other);
        } else if c == '"' {
            let mut name = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' {
                    if chars.get(i + 1) == Some(&'"') {
                        name.push('"');
                        i += 2;
                        continue;
                    }
                    break;
                }
                name.push(chars[i]);
                i += 1;
            }
            i += 1;
            out.push(Tok::Ident(name));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push(Tok::Other);
        } else if c == '$' {
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Tok::Other);
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            i += 2;
            out.push(Tok::Cast);
        } else {
            i += 1;
            out.push(match c {
                '.' => Tok::Dot,
                '*' => Tok::Star,
                '(' => Tok::LParen,
                _ => Tok::Other,
            });
        }
    }
    out
}

/// Words that deparse like a call but are syntax, not functions.
const NOT_FUNCTIONS: &[&str] = &[
    "from",
    "both",
    "leading",
    "trailing",
    "for",
    "similar",
    "escape",
    "as",
    "on",
    "using",
    "any",
    "all",
    "some",
    "exists",
    "array",
    "row",
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "case",
    "when",
    "then",
    "else",
    "end",
    "and",
    "or",
    "not",
    "in",
    "is",
    "trim",
    "substring",
    "position",
    "overlay",
    "extract",
    "normalize",
    "collate",
    "values",
    "filter",
    "over",
    "within",
    "distinct",
    "subplan",
    "initplan",
    "hashed",
    "numeric",
    "character",
    "varying",
    "varchar",
    "char",
    "bit",
    "timestamp",
    "time",
    "interval",
    "decimal",
    "float",
    "precision",
];

/// Adds the functions one deparsed expression calls (`name(`, `schema.name(`).
fn functions(toks: &[Tok], reads: &mut Reads) {
    for (i, t) in toks.iter().enumerate() {
        let Tok::Ident(name) = t else { continue };
        if toks.get(i + 1) != Some(&Tok::LParen) || (i > 0 && toks[i - 1] == Tok::Cast) {
            continue;
        }
        let lower = name.to_lowercase();
        if !NOT_FUNCTIONS.contains(&lower.as_str()) {
            reads.functions.insert(lower);
        }
    }
}

/// Adds the column references of one deparsed expression.
fn refs(
    policy: &Policy,
    names: Names,
    aliases: &HashMap<String, String>,
    single: Option<&str>,
    expr: &str,
    reads: &mut Reads,
) {
    let toks = lex(expr);
    functions(&toks, reads);
    let all_columns = |key: &str, reads: &mut Reads| {
        if let Some(cols) = policy.columns.get(key) {
            for c in cols {
                reads.columns.insert((key.to_string(), c.clone()));
            }
        }
    };
    let column = |key: &str, c: &str, reads: &mut Reads| {
        let c = names.column(c);
        if policy
            .columns
            .get(key)
            .is_some_and(|cols| cols.contains(&c))
        {
            reads.columns.insert((key.to_string(), c));
        }
    };
    for i in 0..toks.len() {
        let prev = i.checked_sub(1).map(|p| &toks[p]);
        if matches!(prev, Some(Tok::Dot | Tok::Cast)) {
            continue;
        }
        let Tok::Ident(a) = &toks[i] else { continue };
        match (toks.get(i + 1), toks.get(i + 2), toks.get(i + 3)) {
            (Some(Tok::Dot), Some(Tok::Star), _) => {
                if let Some(key) = aliases.get(a) {
                    all_columns(key, reads);
                }
            }
            (Some(Tok::Dot), Some(Tok::Ident(b)), next) if next != Some(&Tok::LParen) => {
                if let Some(key) = aliases.get(a) {
                    column(key, b, reads);
                }
            }
            (Some(Tok::Dot | Tok::LParen), _, _) => {}
            _ => {
                // A bare name is a column only when the plan has one relation (whole-row
                // references are always written `alias.*`).
                if let Some(key) = single {
                    column(key, a, reads);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_reads_follow_aliases_whole_rows_and_skip_physical_target_lists() {
        let policy = Policy::new(Dialect::Postgres);
        let plan: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Hash Join", "Output": ["to_json(c.*)", "o.status"],
                 "Hash Cond": "(c.id = o.customer_id)",
                 "Plans": [
                   {"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": "customers",
                    "Schema": "public", "Alias": "c", "Output": ["c.id", "c.full_name", "c.email", "c.ssn"],
                    "Filter": "(c.full_name = 'o.amount'::text)"},
                   {"Node Type": "Seq Scan", "Parent Relationship": "Inner", "Relation Name": "orders",
                    "Schema": "public", "Alias": "o", "Output": ["o.id", "o.customer_id", "o.amount", "o.status"]},
                   {"Node Type": "Function Scan", "Parent Relationship": "InitPlan", "Alias": "g",
                    "Function Call": "pg_sleep('0'::double precision)", "Output": ["g.g"]}
                 ]}}]"#,
        )
        .expect("JSON");
        let r = plan_reads(&policy, &plan);
        assert_eq!(
            r.tables.iter().collect::<Vec<_>>(),
            ["public.customers", "public.orders"]
        );
        let cols: Vec<String> = r.columns.iter().map(|(t, c)| format!("{t}.{c}")).collect();
        // `c.*` reads every column of customers; orders' physical target list is skipped, and
        // the literal 'o.amount' is no reference.
        assert_eq!(
            cols,
            [
                "public.customers.email",
                "public.customers.full_name",
                "public.customers.id",
                "public.customers.ssn",
                "public.orders.customer_id",
                "public.orders.status",
            ]
        );
        assert!(r.functions.contains("to_json") && r.functions.contains("pg_sleep"));
    }

    #[test]
    fn rows_passed_on_unchanged_and_names_of_removed_relations_are_not_reads() {
        let policy = Policy::new(Dialect::Postgres);
        // A merge join over a materialized scan that outputs its whole row.
        let plan: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Merge Join", "Output": ["1.5"], "Join Filter": "false",
                 "Plans": [
                   {"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": "customers",
                    "Schema": "public", "Alias": "c", "Output": ["c.id", "c.full_name", "c.email", "c.ssn"]},
                   {"Node Type": "Materialize", "Parent Relationship": "Inner",
                    "Output": ["o.id", "o.customer_id", "o.amount", "o.status"],
                    "Plans": [
                      {"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": "orders",
                       "Schema": "public", "Alias": "o", "Output": ["o.id", "o.customer_id", "o.amount", "o.status"]}
                    ]}
                 ]}}]"#,
        )
        .expect("JSON");
        let r = plan_reads(&policy, &plan);
        assert!(r.columns.is_empty(), "{:?}", r.columns);
        assert_eq!(r.tables.len(), 2);
        // The scan of customers was removed (`One-Time Filter: false`); its `id` prints
        // unqualified while the remaining scan's names are qualified.
        let plan: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Result", "Output": ["id", "$0"], "One-Time Filter": "false",
                 "Plans": [
                   {"Node Type": "Seq Scan", "Parent Relationship": "InitPlan", "Relation Name": "orders",
                    "Schema": "public", "Alias": "o", "Output": ["o.status"]}
                 ]}}]"#,
        )
        .expect("JSON");
        let r = plan_reads(&policy, &plan);
        let cols: Vec<String> = r.columns.iter().map(|(t, c)| format!("{t}.{c}")).collect();
        assert_eq!(cols, ["public.orders.status"]);
        // An index-only scan producing the rows a projecting parent counts.
        let plan: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Result", "Output": ["':x'::text"], "One-Time Filter": "true",
                 "Plans": [
                   {"Node Type": "Index Only Scan", "Parent Relationship": "Outer", "Relation Name": "customers",
                    "Schema": "public", "Alias": "o", "Index Name": "customers_pkey", "Output": ["o.id"]}
                 ]}}]"#,
        )
        .expect("JSON");
        let r = plan_reads(&policy, &plan);
        assert!(r.columns.is_empty(), "{:?}", r.columns);
        assert_eq!(r.tables.len(), 1);
        // A subquery's scan outputting the removed outer relation's `id`, unqualified.
        let plan: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Result", "Output": ["lower(body)"], "One-Time Filter": "false",
                 "Plans": [
                   {"Node Type": "Seq Scan", "Parent Relationship": "SubPlan", "Relation Name": "orders",
                    "Schema": "public", "Alias": "orders", "Output": ["id"]}
                 ]}}]"#,
        )
        .expect("JSON");
        assert!(plan_reads(&policy, &plan).columns.is_empty());
    }
}
