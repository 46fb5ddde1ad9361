//! Time to build one LLM prompt (rank the schema, prune it to the budget, find value hints and
//! examples, render the messages) on Sakila (21 tables and views) and Chinook, with the value
//! index and sample values read once before timing, as the engine does at start.
//!
//! Run: `cargo bench -p conversational-bi --bench prompt` (Sakila comes from
//! `$CBI_SHARED_DIR/data`, default `../shared/data`).

use std::{hint::black_box, path::PathBuf};

use conversational_bi::{
    Config, DataSource,
    generate::{
        GenerationRequest,
        prompt::{FewShotExample, PromptContext, render_with},
    },
};
use criterion::{Criterion, criterion_group, criterion_main};

const SAKILA: &[&str] = &[
    "Which films has Penelope Guiness acted in?",
    "Revenue per film category",
    "Number of rentals per customer country",
    "How many films are in each category?",
];

const CHINOOK: &[&str] = &[
    "Which 5 countries have the highest total sales?",
    "How many Rock tracks does each artist have?",
    "Number of invoices per month in 2024",
];

fn sakila_url() -> String {
    let data = std::env::var("CBI_SHARED_DIR")
        .map(|d| PathBuf::from(d).join("data"))
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    format!("sqlite://{}", data.join("sakila/sakila.sqlite").display())
}

fn chinook_url() -> String {
    format!(
        "sqlite://{}/../examples/chinook/chinook.sqlite",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let config = Config::default();
    for (name, url, questions) in [
        ("sakila", sakila_url(), SAKILA),
        ("chinook", chinook_url(), CHINOOK),
    ] {
        let (source, context) = rt.block_on(async {
            let source = DataSource::connect(&config, Some(&url))
                .await
                .expect("opens the sample database");
            let context = PromptContext::from_source(&config, &source)
                .await
                .expect("context")
                .examples(vec![FewShotExample::new(
                    "How many films are in each category?",
                    "SELECT 1",
                )]);
            (source, context)
        });
        let requests: Vec<GenerationRequest> = questions
            .iter()
            .map(|q| GenerationRequest {
                question: (*q).into(),
                catalog: source.catalog().clone(),
                history: Vec::new(),
                feedback: Vec::new(),
                max_rows: 1000,
                view: None,
            })
            .collect();
        for budget in [400, 4000] {
            let ctx = context.clone().max_schema_tokens(budget);
            // The first call prepares the per-catalog state outside the timing.
            black_box(render_with(&requests[0], &ctx, None));
            c.bench_function(&format!("prompt/{name}/budget_{budget}"), |b| {
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % requests.len();
                    black_box(render_with(&requests[i], &ctx, None))
                })
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
