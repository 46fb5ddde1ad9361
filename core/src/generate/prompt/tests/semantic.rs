//! The semantic model in the prompt: the items a question touches, within the budget, as the
//! asker's view restricts them.

use std::sync::Arc;

use super::Sample;
use crate::{
    catalog::Catalog,
    generate::prompt::{PromptContext, render_with},
    semantic::{Located, Semantic, check},
    sql::{Validator, ValidatorOptions},
};

fn chinook_model(catalog: &Arc<Catalog>) -> Semantic {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/chinook.yaml");
    let located = crate::semantic::load_files(&[path.into()]).expect("loads");
    checked(&located, catalog)
}

fn checked(located: &Located, catalog: &Arc<Catalog>) -> Semantic {
    let validator = Validator::new(catalog.clone(), ValidatorOptions::default());
    check(located, catalog, catalog, &validator).expect("checks")
}

fn system(sample: &Sample, context: &PromptContext, question: &str) -> String {
    render_with(&sample.ask(question), context, None).messages[0]
        .content
        .clone()
}

#[tokio::test]
async fn the_question_s_metric_and_dimension_reach_the_prompt() {
    let sample = Sample::open("chinook").await;
    let model = chinook_model(&sample.catalog);
    let context = sample.context(4000).semantic(Some(model));
    let text = system(&sample, &context, "revenue by country");
    assert!(
        text.contains("- revenue (Invoice): SUM(Total); format currency"),
        "{text}"
    );
    assert!(
        text.contains("- billing country (Invoice): BillingCountry"),
        "{text}"
    );
    assert!(
        text.contains("- invoice date (Invoice): InvoiceDate; default grain month"),
        "{text}"
    );
    assert!(
        text.contains("Business rules:\n- Revenue is the invoice total"),
        "{text}"
    );
    // The model's verified query is a few-shot example.
    assert!(
        text.contains("Question: revenue by country\nSQL: SELECT BillingCountry, SUM(Total)"),
        "{text}"
    );
}

#[tokio::test]
async fn a_small_budget_keeps_the_relevant_items_and_leaves_the_rest_out() {
    let sample = Sample::open("chinook").await;
    let model = chinook_model(&sample.catalog);
    let context = sample.context(600).semantic(Some(model));
    let linked = render_with(&sample.ask("revenue by country"), &context, None).schema;
    assert!(linked.semantic.pruned, "{}", linked.semantic.text);
    let text = &linked.semantic.text;
    assert!(text.contains("- revenue (Invoice): SUM(Total)"), "{text}");
    for irrelevant in [
        "average track length",
        "long tracks",
        "hire date",
        "job title",
    ] {
        assert!(
            !text.contains(irrelevant),
            "{irrelevant} is left out: {text}"
        );
    }
    assert!(linked.semantic.tokens <= super::super::semantic::budget(600));
    // The whole model fits a large budget.
    let context = sample
        .context(8000)
        .semantic(Some(chinook_model(&sample.catalog)));
    let linked = render_with(&sample.ask("revenue by country"), &context, None).schema;
    assert!(!linked.semantic.pruned);
    assert!(linked.semantic.text.contains("average track length"));
}

#[tokio::test]
async fn the_metric_s_table_is_favoured_by_the_schema_ranking() {
    let sample = Sample::open("chinook").await;
    let question = "takings per market";
    let without = render_with(&sample.ask(question), &sample.context(250), None).schema;
    let model = chinook_model(&sample.catalog);
    let with = render_with(
        &sample.ask(question),
        &sample.context(250).semantic(Some(model)),
        None,
    )
    .schema;
    assert!(
        sample.shown(&with).contains(&"Invoice".to_string()),
        "{:?}",
        sample.shown(&with)
    );
    assert!(with.selection.pruned && without.selection.pruned);
    assert!(with.semantic.text.contains("- revenue (Invoice)"));
}

#[tokio::test]
async fn a_restricted_view_of_the_model_brings_none_of_the_hidden_table_s_items() {
    let sample = Sample::open("chinook").await;
    let model = chinook_model(&sample.catalog);
    // The asker may not read Invoice: its model and catalog lose it.
    let policy = crate::catalog::AccessPolicy {
        allowed_tables: sample
            .catalog
            .tables
            .iter()
            .map(|t| t.name.clone())
            .filter(|n| n != "Invoice")
            .collect(),
        denied_columns: Vec::new(),
    };
    let visible = Arc::new(sample.catalog.visible_to(&policy));
    let restricted = model.restrict(&visible);
    let context = sample.context(4000).semantic(Some(restricted));
    let mut request = sample.ask("revenue by country");
    request.catalog = visible;
    let text = render_with(&request, &context, None).messages[0]
        .content
        .clone();
    assert!(!text.contains("Invoice "), "{text}");
    assert!(!text.contains("(Invoice)"), "{text}");
    assert!(!text.contains("SUM(Total)"), "{text}");
    assert!(
        !text.contains("FROM Invoice"),
        "the verified query stays out: {text}"
    );
    assert!(
        text.contains("(InvoiceLine): SUM(UnitPrice * Quantity)"),
        "{text}"
    );
}
