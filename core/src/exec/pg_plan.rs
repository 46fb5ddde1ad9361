//! PostgreSQL's own reading of a statement, checked before it runs: the relations of its plan.
//!
//! Inside the read-only transaction, before the statement runs, `EXPLAIN (VERBOSE, FORMAT JSON)`
//! asks the server which relations it would scan, by schema and name, after resolving every
//! name by its own grammar and search path. Each must be a table the policy allows: one of
//! `[database] allowed_tables`, or a table that an allowed view reads (a plan names the tables
//! under a view, not the view); and never one of the system schemas. Whatever the validator
//! thought, the server's plan decides. It costs one round trip and one planning (about 60 µs of
//! server time for a two-table aggregate).
//!
//! Columns are not checked here: a plan lists the columns a scan hands up, which can be more
//! than the statement reads (a scan under a full join hands up its whole row), so the
//! restricted columns rest on the validator and on the account's column grants.

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;

/// The relations a policy lets a plan scan.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanPolicy {
    /// Allowed tables and views, ASCII-lowercased, as written in `allowed_tables` (`name` or
    /// `schema.name`); empty: every relation outside the system schemas.
    allowed: HashSet<String>,
    /// What the allowed views read, directly or through other views (`schema.name`, lowercased).
    through_views: HashSet<String>,
}

impl PlanPolicy {
    /// The policy of `allowed_tables`, with `views` as (view, relation it reads) pairs of
    /// `schema.name`.
    pub(crate) fn new(allowed_tables: &[String], views: &[(String, String)]) -> Self {
        let allowed: HashSet<String> = allowed_tables
            .iter()
            .map(|t| t.to_ascii_lowercase())
            .collect();
        let mut reads: HashMap<String, Vec<String>> = HashMap::new();
        for (view, read) in views {
            reads
                .entry(view.to_ascii_lowercase())
                .or_default()
                .push(read.to_ascii_lowercase());
        }
        let mut pending: Vec<String> = views
            .iter()
            .filter(|(view, _)| {
                let view = view.to_ascii_lowercase();
                allowed.contains(&view)
                    || view
                        .split_once('.')
                        .is_some_and(|(_, name)| allowed.contains(name))
            })
            .map(|(view, _)| view.to_ascii_lowercase())
            .collect();
        let mut through_views = HashSet::new();
        while let Some(view) = pending.pop() {
            for r in reads.get(&view).into_iter().flatten() {
                if through_views.insert(r.clone()) {
                    pending.push(r.clone());
                }
            }
        }
        Self {
            allowed,
            through_views,
        }
    }

    /// Whether a plan may scan `schema.name`.
    fn allows(&self, schema: &str, name: &str) -> bool {
        let system = matches!(schema, "pg_catalog" | "information_schema")
            || schema.starts_with("pg_toast")
            || schema.starts_with("pg_temp");
        if system {
            return false;
        }
        if self.allowed.is_empty() {
            return true;
        }
        let qualified = format!("{schema}.{name}").to_ascii_lowercase();
        self.allowed.contains(&qualified)
            || self.allowed.contains(&name.to_ascii_lowercase())
            || self.through_views.contains(&qualified)
    }

    /// Checks the relations of `plan` (the JSON `EXPLAIN (VERBOSE, FORMAT JSON)` prints);
    /// returns the first one the policy does not allow, as `schema.name`.
    pub(crate) fn first_refused(&self, plan: &Json) -> Option<String> {
        let mut relations = Vec::new();
        collect_relations(plan, &mut relations);
        relations
            .into_iter()
            .find(|(schema, name)| !self.allows(schema, name))
            .map(|(schema, name)| format!("{schema}.{name}"))
    }
}

/// Every (schema, relation) a plan node or its children scan.
fn collect_relations(node: &Json, out: &mut Vec<(String, String)>) {
    match node {
        Json::Array(items) => items.iter().for_each(|i| collect_relations(i, out)),
        Json::Object(map) => {
            if let (Some(Json::String(name)), Some(Json::String(schema))) =
                (map.get("Relation Name"), map.get("Schema"))
            {
                out.push((schema.clone(), name.clone()));
            }
            for key in ["Plan", "Plans"] {
                if let Some(child) = map.get(key) {
                    collect_relations(child, out);
                }
            }
        }
        _ => {}
    }
}

/// The (view, relation it reads) pairs of a PostgreSQL database, as `schema.name`.
pub(crate) const VIEW_READS_SQL: &str =
    "SELECT DISTINCT vn.nspname || '.' || v.relname, tn.nspname || '.' || t.relname
     FROM pg_rewrite r
     JOIN pg_class v ON v.oid = r.ev_class
     JOIN pg_namespace vn ON vn.oid = v.relnamespace
     JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass
          AND d.refclassid = 'pg_class'::regclass
     JOIN pg_class t ON t.oid = d.refobjid
     JOIN pg_namespace tn ON tn.oid = t.relnamespace
     WHERE v.relkind IN ('v', 'm') AND t.oid <> v.oid";

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(relations: &[(&str, &str)]) -> Json {
        let children: Vec<Json> = relations
            .iter()
            .map(|(s, n)| serde_json::json!({"Node Type": "Seq Scan", "Relation Name": n, "Schema": s}))
            .collect();
        serde_json::json!([{"Plan": {"Node Type": "Hash Join", "Plans": children}}])
    }

    #[test]
    fn only_allowed_tables_and_what_allowed_views_read_may_be_scanned() {
        let views = vec![("public.sales".to_string(), "public.orders".to_string())];
        let p = PlanPolicy::new(&["customers".into(), "sales".into()], &views);
        assert_eq!(
            p.first_refused(&plan(&[("public", "customers"), ("public", "orders")])),
            None,
            "orders is read through the allowed view sales"
        );
        assert_eq!(
            p.first_refused(&plan(&[("public", "customers"), ("public", "secrets")])),
            Some("public.secrets".into())
        );
        assert_eq!(
            p.first_refused(&plan(&[("archive", "customers")])),
            None,
            "an unqualified entry allows the name in any schema"
        );
        let qualified = PlanPolicy::new(&["public.customers".into()], &[]);
        assert_eq!(
            qualified.first_refused(&plan(&[("archive", "customers")])),
            Some("archive.customers".into())
        );
    }

    #[test]
    fn system_schemas_are_never_scanned() {
        let open = PlanPolicy::new(&[], &[]);
        assert_eq!(open.first_refused(&plan(&[("public", "anything")])), None);
        assert_eq!(
            open.first_refused(&plan(&[("pg_catalog", "pg_authid")])),
            Some("pg_catalog.pg_authid".into())
        );
        assert_eq!(
            open.first_refused(&plan(&[("information_schema", "tables")])),
            Some("information_schema.tables".into())
        );
    }
}
