//! Pruning: join paths between kept tables, the token budget, whole schemas that fit.

use std::sync::Arc;

use super::Sample;
use crate::{
    catalog::{Catalog, Column, ForeignKey, Table, TableKind},
    dialect::Dialect,
    generate::{
        GenerationRequest,
        prompt::{PromptContext, link_schema, render_schema, tokens::estimate_tokens},
    },
};

fn table(name: &str, columns: &[&str], fks: &[(&str, &str, &str)]) -> Table {
    Table {
        schema: None,
        name: name.into(),
        kind: TableKind::Table,
        columns: columns
            .iter()
            .map(|c| Column {
                name: (*c).into(),
                data_type: "INTEGER".into(),
                nullable: true,
                comment: None,
            })
            .collect(),
        primary_key: vec![columns[0].to_string()],
        foreign_keys: fks
            .iter()
            .map(|(col, to, to_col)| ForeignKey {
                columns: vec![(*col).into()],
                referenced_schema: None,
                referenced_table: (*to).into(),
                referenced_columns: vec![(*to_col).into()],
            })
            .collect(),
        comment: None,
    }
}

/// Orders reach regions only through customers; other tables are wide distractors.
fn sales(declared_keys: bool) -> Arc<Catalog> {
    let fk = |col, to, to_col| {
        if declared_keys {
            vec![(col, to, to_col)]
        } else {
            Vec::new()
        }
    };
    let wide: Vec<String> = (0..30).map(|i| format!("metric_{i}")).collect();
    let wide: Vec<&str> = wide.iter().map(String::as_str).collect();
    let mut audit = vec!["audit_id"];
    audit.extend(&wide);
    let mut warehouse = vec!["warehouse_id"];
    warehouse.extend(&wide);
    Arc::new(Catalog::new(
        Dialect::Sqlite,
        "sales",
        vec![
            table(
                "orders",
                &["order_id", "customer_id", "placed_at", "amount", "channel"],
                &fk("customer_id", "customers", "customer_id"),
            ),
            table(
                "customers",
                &["customer_id", "region_id", "segment", "joined"],
                &fk("region_id", "regions", "region_id"),
            ),
            table("regions", &["region_id", "region_name"], &[]),
            table("audit_log", &audit, &[]),
            table("warehouses", &warehouse, &[]),
        ],
    ))
}

fn ask(catalog: &Arc<Catalog>, question: &str) -> GenerationRequest {
    GenerationRequest {
        question: question.into(),
        catalog: catalog.clone(),
        history: Vec::new(),
        feedback: Vec::new(),
        max_rows: 1000,
        view: None,
    }
}

fn shown(catalog: &Catalog, linked: &crate::generate::prompt::LinkedSchema) -> Vec<String> {
    linked
        .selection
        .tables
        .iter()
        .flat_map(|s| {
            let t = &catalog.tables[s.table];
            s.columns
                .iter()
                .map(move |&c| format!("{}.{}", t.name, t.columns[c].name))
        })
        .collect()
}

#[test]
fn the_tables_joining_two_relevant_ones_are_kept_with_their_keys() {
    for declared in [true, false] {
        let catalog = sales(declared);
        let ctx = PromptContext::new().max_schema_tokens(150);
        let linked = link_schema(&ask(&catalog, "Total amount per region"), &ctx, None);
        let shown = shown(&catalog, &linked);
        assert!(linked.selection.pruned, "{}", linked.text);
        for needed in [
            "orders.amount",
            "orders.customer_id",
            "customers.customer_id",
            "customers.region_id",
            "regions.region_id",
            "regions.region_name",
        ] {
            assert!(
                shown.contains(&needed.to_string()),
                "declared keys {declared}: {needed} missing from\n{}",
                linked.text
            );
        }
        assert!(
            !shown.iter().any(|c| c.starts_with("audit_log.")),
            "an unrelated wide table stays out:\n{}",
            linked.text
        );
        assert!(linked.tokens <= 150);
    }
}

#[test]
fn a_schema_that_fits_is_sent_whole() {
    let catalog = sales(true);
    let full = estimate_tokens(&render_schema(&catalog));
    let ctx = PromptContext::new().max_schema_tokens(full);
    let linked = link_schema(&ask(&catalog, "Total amount per region"), &ctx, None);
    assert!(!linked.selection.pruned);
    assert_eq!(linked.text, render_schema(&catalog));
    assert_eq!(linked.tokens, full);
    assert_eq!(linked.full_tokens, full);
    let pruned = link_schema(
        &ask(&catalog, "Total amount per region"),
        &ctx.clone().max_schema_tokens(full - 1),
        None,
    );
    assert!(pruned.selection.pruned);
}

#[tokio::test]
async fn the_listing_never_exceeds_the_budget() {
    let questions = [
        "How many customers are there?",
        "Revenue per country and genre in 2023",
        "Which films has Penelope Guiness acted in?",
        "Total quantity shipped per part type by supplier nation",
        "",
        "zzz qqq",
    ];
    for name in ["chinook", "sakila", "tpch"] {
        let db = Sample::open(name).await;
        for privacy in [false, true] {
            let base = db.context(1).privacy_mode(privacy);
            let full_tokens = link_schema(&db.ask("x"), &base, None).full_tokens;
            let mut budgets: Vec<usize> = (0..=full_tokens + 20).step_by(41).collect();
            budgets.extend([1, 5, 20, full_tokens - 1, full_tokens, full_tokens + 1]);
            for budget in budgets {
                let ctx = base.clone().max_schema_tokens(budget);
                for q in questions {
                    let linked = link_schema(&db.ask(q), &ctx, None);
                    assert_eq!(linked.tokens, estimate_tokens(&linked.text));
                    if budget >= full_tokens {
                        assert!(!linked.selection.pruned, "{name} {budget}");
                        assert_eq!(linked.tokens, full_tokens);
                    } else {
                        assert!(
                            linked.tokens <= budget,
                            "{name}, privacy {privacy}, budget {budget}, {q:?}: {} tokens\n{}",
                            linked.tokens,
                            linked.text
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn a_pruned_listing_is_much_smaller_and_keeps_the_asked_tables() {
    let db = Sample::open("sakila").await;
    let ctx = db.context(600);
    let linked = link_schema(&db.ask("Which customers rented a horror film?"), &ctx, None);
    assert!(linked.selection.pruned);
    assert!(linked.tokens * 2 < linked.full_tokens, "{}", linked.text);
    let tables = db.shown(&linked);
    for t in [
        "customer",
        "rental",
        "inventory",
        "film",
        "film_category",
        "category",
    ] {
        assert!(
            tables.contains(&t.to_string()),
            "{t} missing:\n{}",
            linked.text
        );
    }
    assert!(linked.text.starts_with("-- "), "{}", linked.text);
    assert!(linked.text.contains("..."), "left-out columns are marked");
}
