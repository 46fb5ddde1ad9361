//! The semantic model's cost per question on the demo database (its bundled model): the phrase
//! lookup (`Terms::find` over the question's tokens) and what reading the model adds to the
//! offline `RuleGenerator` (the same questions answered with and without the model).
//!
//! Run: `cargo bench -p conversational-bi --bench semantic`. Besides criterion's report, it
//! prints p50/p99 per question of the lookup, and of the rules with and without the model.

use std::{hint::black_box, time::Instant};

use conversational_bi::{Config, DataSource, generate::RuleGenerator};
use criterion::{Criterion, criterion_group, criterion_main};

const QUESTIONS: &[&str] = &[
    "revenue by country",
    "sales by country",
    "top 5 customers by revenue",
    "average invoice value by country",
    "how many large invoices",
    "revenue of big orders by country in 2024",
    "revenue by customer name",
    "number of invoices over time",
    "list the business customers",
    "units sold per year",
    "How many tracks are in the Jazz genre?",
    "Top 5 artists by number of albums",
    "What is the meaning of life?",
];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// p50 and p99 in microseconds of `f` over every question, `rounds` times each.
fn per_question(rounds: usize, mut f: impl FnMut(&str)) -> (f64, f64) {
    let mut times = Vec::with_capacity(rounds * QUESTIONS.len());
    for _ in 0..rounds {
        for q in QUESTIONS {
            let start = Instant::now();
            f(q);
            times.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    times.sort_by(f64::total_cmp);
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (with, without, semantic) = runtime.block_on(async {
        let source = DataSource::connect(&Config::default(), None)
            .await
            .expect("demo database");
        let semantic = source.semantic().cloned().expect("the demo's model");
        let with = RuleGenerator::from_source(&source).await.expect("rules");
        let without = with.clone().with_semantic(None);
        (with, without, semantic)
    });
    let (p50, p99) = per_question(2000, |q| {
        black_box(semantic.terms().find_in(q));
    });
    println!(
        "semantic lookup (tokenize + Terms::find via Terms::find_in): p50 {p50:.1} µs, p99 {p99:.1} µs per question"
    );
    let (w50, w99) = per_question(300, |q| {
        let _ = black_box(with.answer(q, &[]));
    });
    let (o50, o99) = per_question(300, |q| {
        let _ = black_box(without.answer(q, &[]));
    });
    println!("rules with the model:    p50 {w50:.1} µs, p99 {w99:.1} µs per question");
    println!("rules without the model: p50 {o50:.1} µs, p99 {o99:.1} µs per question");
    c.bench_function("semantic_find_per_question", |b| {
        b.iter(|| {
            for q in QUESTIONS {
                black_box(semantic.terms().find_in(q));
            }
        })
    });
    c.bench_function("rules_with_model_per_question_set", |b| {
        b.iter(|| {
            for q in QUESTIONS {
                let _ = black_box(with.answer(q, &[]));
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
