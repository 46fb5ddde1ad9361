//! The SQL attack and control cases of `shared/data/guardrails/attack-cases.jsonl`, run through
//! the validator for every dialect: each `reject` must be refused, each `allow` accepted.

use std::sync::Arc;

use conversational_bi::{
    Catalog, Dialect, Error,
    catalog::{Table, TableKind},
    sql::{LimitAction, Validator, ValidatorOptions},
};
use serde_json::Value;

const CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/guardrails/attack-cases.jsonl"
);

/// Cases whose expectation the data file cannot meet for a dialect, with the reason.
///
/// G03's MySQL and SQLite variants are byte-identical to G04's SQLite variant
/// (`SELECT count(*) FROM orders WHERE tenant_id = 2`), which is a benign `allow` control; the
/// same statement cannot be both refused and accepted, so G03 is held to `allow` there.
const EXCEPTIONS: &[(&str, Dialect, &str, &str)] = &[
    (
        "G03",
        Dialect::Mysql,
        "allow",
        "identical to G04's sqlite variant, an allow control",
    ),
    (
        "G03",
        Dialect::Sqlite,
        "allow",
        "identical to G04's sqlite variant, an allow control",
    ),
];

/// A table of the attack schema: INTEGER columns keyed by `id`.
fn table(name: &str, kind: TableKind, columns: &[&str]) -> Table {
    testkit::catalog::table(name, kind, "INTEGER", columns, &["id"])
}

/// The attack schema as a catalog, with the policy of the cases.
fn validator(dialect: Dialect) -> Validator {
    let mut tables = vec![
        table(
            "customers",
            TableKind::Table,
            &["id", "tenant_id", "name", "email"],
        ),
        table(
            "orders",
            TableKind::Table,
            &["id", "tenant_id", "customer_id", "amount", "created_at"],
        ),
        table("audit", TableKind::Table, &["x"]),
    ];
    let mut allowed = vec!["customers".to_string(), "orders".to_string()];
    if dialect == Dialect::Postgres {
        for t in &mut tables {
            t.schema = Some("public".to_string());
        }
    }
    if dialect == Dialect::Mysql {
        tables.push(table(
            "t1_orders",
            TableKind::View,
            &["id", "tenant_id", "customer_id", "amount", "created_at"],
        ));
        allowed.push("t1_orders".to_string());
    }
    let catalog = Catalog::new(dialect, "guardrails", tables);
    Validator::new(
        Arc::new(catalog),
        ValidatorOptions {
            max_rows: 1000,
            allowed_tables: allowed,
            denied_columns: vec!["customers.email".to_string()],
        },
    )
}

fn dialect_key(d: Dialect) -> &'static str {
    d.as_str()
}

#[test]
fn attack_cases_per_dialect() {
    let text = std::fs::read_to_string(CASES).expect("attack-cases.jsonl is readable");
    let cases: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .filter(|c: &Value| c["kind"] == "sql")
        .collect();
    assert_eq!(cases.len(), 65, "the file holds 65 SQL cases");
    for (id, d, expected, why) in EXCEPTIONS {
        println!("exception: {id} on {d} held to `{expected}`: {why}");
    }

    let mut failures = Vec::new();
    for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
        let v = validator(dialect);
        let (mut rejected, mut allowed) = (0, 0);
        for case in &cases {
            let id = case["id"].as_str().expect("id");
            let sql = case["sql"][dialect_key(dialect)]
                .as_str()
                .expect("sql per dialect");
            let mut expected = case["expected_by_dialect"][dialect_key(dialect)]
                .as_str()
                .or_else(|| case["expected"].as_str())
                .expect("expected");
            if let Some((_, _, e, _)) = EXCEPTIONS
                .iter()
                .find(|(i, d, _, _)| *i == id && *d == dialect)
            {
                expected = e;
            }
            match (expected, v.validate(sql)) {
                ("reject", Err(Error::SqlRejected { rule, reason, .. })) => {
                    rejected += 1;
                    assert!(!reason.is_empty(), "{id}: a refusal says why");
                    println!("  {dialect} {id} rejected ({rule}): {reason}");
                }
                ("reject", Ok(ok)) => {
                    failures.push(format!("{dialect} {id}: accepted `{sql}` as `{}`", ok.sql))
                }
                ("allow", Ok(ok)) => {
                    allowed += 1;
                    if id == "E04" {
                        assert_eq!(
                            ok.sql,
                            "SELECT a.id, b.amount FROM orders a, orders b LIMIT 1000"
                        );
                        assert_eq!(
                            ok.exec_sql,
                            "SELECT a.id, b.amount FROM orders a, orders b LIMIT 1001"
                        );
                        assert_eq!(ok.limit_action, LimitAction::Clamped);
                    }
                }
                ("allow", Err(e)) => failures.push(format!("{dialect} {id}: refused `{sql}`: {e}")),
                (other, r) => failures.push(format!(
                    "{dialect} {id}: unexpected expectation {other}: {r:?}"
                )),
            }
        }
        println!(
            "{dialect}: {} cases, {rejected} rejected, {allowed} allowed",
            cases.len()
        );
    }
    assert!(
        failures.is_empty(),
        "guardrail failures:\n{}",
        failures.join("\n")
    );
}
