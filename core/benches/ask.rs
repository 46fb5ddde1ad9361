//! `ask` end to end with an instant in-process model on the Chinook SQLite database (SQL
//! execution included), and the memory a 10-turn session takes.
//!
//! Run: `cargo bench -p conversational-bi --bench ask`. Besides criterion's report, it prints
//! p50/p99 of single asks and the heap bytes per 10-turn session.

use std::{
    alloc::{GlobalAlloc, Layout},
    hint::black_box,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use async_trait::async_trait;
use conversational_bi::{
    Ask, Engine,
    generate::LlmGenerator,
    llm::{ChatCompletion, ChatRequest, LlmProvider},
    session::{MemorySessionStore, SessionKey, SessionLimits, SessionStore, Turn},
};
use criterion::{Criterion, criterion_group, criterion_main};

/// Counts live heap bytes so that the session measurement is exact; allocates with mimalloc,
/// the allocator of the `heliosdb-conversational-bi` binary.
struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to mimalloc and only adds bookkeeping.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// A model that answers at once with a fixed query.
#[derive(Debug)]
struct InstantModel;

#[async_trait]
impl LlmProvider for InstantModel {
    fn name(&self) -> &str {
        "instant"
    }
    fn model(&self) -> &str {
        "fixed"
    }
    async fn complete(&self, _request: &ChatRequest) -> conversational_bi::Result<ChatCompletion> {
        Ok(ChatCompletion {
            content: r#"{"sql": "SELECT g.Name AS genre, count(*) AS tracks FROM Track t JOIN Genre g ON g.GenreId = t.GenreId GROUP BY g.Name ORDER BY tracks DESC LIMIT 5", "explanation": "Tracks per genre."}"#.into(),
            request_id: None,
            prompt_tokens: None,
            completion_tokens: None,
        })
    }
}

fn engine(rt: &tokio::runtime::Runtime) -> Engine {
    let url = format!(
        "sqlite://{}/../examples/chinook/chinook.sqlite",
        env!("CARGO_MANIFEST_DIR")
    );
    // Every ask generates: no semantic cache, and no rate limit on this one tenant's 4,000 asks.
    let mut config = conversational_bi::Config::default();
    config.cache.enabled = false;
    config.production.rate_limiting.enabled = false;
    rt.block_on(
        Engine::builder()
            .config(config)
            .database_url(url)
            .generator(Arc::new(LlmGenerator::new(
                Arc::new(InstantModel),
                0.1,
                500,
            )))
            .build(),
    )
    .expect("engine")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn bench_ask(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let engine = engine(&rt);
    let mut i = 0u64;
    c.bench_function("ask_end_to_end_sqlite", |b| {
        b.iter(|| {
            i += 1;
            // A new session every 10 asks keeps the history (and the prompt) realistic.
            let ask =
                Ask::new("Which genres have the most tracks?").session(format!("s{}", i / 10));
            black_box(rt.block_on(engine.ask(ask)).expect("answer"))
        })
    });

    let mut samples = Vec::with_capacity(2000);
    let mut stages: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for n in 0..2000u64 {
        let ask = Ask::new("Which genres have the most tracks?").session(format!("p{}", n / 10));
        let t = Instant::now();
        let answer = black_box(rt.block_on(engine.ask(ask)).expect("answer"));
        samples.push(t.elapsed().as_secs_f64() * 1e3);
        for (stage, ms) in answer.timings {
            stages.entry(stage).or_default().push(ms);
        }
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "ask end to end (instant model, SQLite Chinook, 2000 asks): p50 {:.3} ms, p99 {:.3} ms",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99)
    );
    let medians: Vec<String> = stages
        .into_iter()
        .map(|(stage, mut v)| {
            v.sort_by(f64::total_cmp);
            format!("{stage} {:.3}", percentile(&v, 0.5))
        })
        .collect();
    println!("  median per stage (ms): {}", medians.join(", "));
}

fn session_memory(_c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let limits = SessionLimits {
        max_turns: 10,
        max_context_size: 1_000_000,
        max_sessions: 100_000,
        idle_timeout: std::time::Duration::from_secs(3600),
        cleanup_interval: std::time::Duration::from_secs(3600),
    };
    let store = MemorySessionStore::new(limits);
    let sessions = 1000;
    let turn = |i: usize| {
        Turn {
        turn: 0,
        question: format!("What was the revenue per country in 202{}, top 5 only?", i % 5),
        sql: "SELECT BillingCountry AS country, sum(Total) AS revenue FROM Invoice WHERE strftime('%Y', InvoiceDate) = '2024' GROUP BY BillingCountry ORDER BY revenue DESC LIMIT 5".into(),
        explanation: "Revenue per billing country in 2024, the five largest.".into(),
        columns: vec!["country".into(), "revenue".into()],
        row_count: 5,
        generator: "openai:gpt-4o-mini".into(),
        at: "2026-11-29T07:00:00.000Z".into(),
        state: None,
            clarification: None,
    }
    };
    let before = LIVE.load(Ordering::Relaxed);
    rt.block_on(async {
        for s in 0..sessions {
            let key = SessionKey::new("acme-corp", format!("550e8400-e29b-41d4-a716-{s:012}"));
            for t in 0..10 {
                store.append(&key, turn(t)).await.expect("append");
            }
        }
        store.len().await
    });
    let after = LIVE.load(Ordering::Relaxed);
    println!(
        "memory per 10-turn session (memory store, {sessions} sessions): {} bytes",
        (after.saturating_sub(before)) / sessions
    );
}

criterion_group!(benches, bench_ask, session_memory);
criterion_main!(benches);
