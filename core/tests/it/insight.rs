//! What the engine answers besides rows, through `Engine::ask`: clarifications from a
//! generator, empty results that say which condition emptied them, joins that count rows more
//! than once, and follow-ups to ask next; on the demo database (with its semantic model) and on
//! the PostgreSQL and MariaDB copies of Chinook.

use std::sync::Arc;

use async_trait::async_trait;
use conversational_bi::{
    Ask, Config, Engine,
    answer::{AnswerKind, Clarification, ClarificationOption},
    config::{ConfigSources, Interface},
    generate::{Generation, GenerationRequest, SqlGenerator},
};

pub(crate) fn demo_url() -> String {
    format!(
        "sqlite://{}/../examples/chinook/chinook.sqlite",
        env!("CARGO_MANIFEST_DIR")
    )
}

pub(crate) fn demo_model() -> String {
    format!("{}/../models/chinook.yaml", env!("CARGO_MANIFEST_DIR"))
}

/// The embedded defaults with `extra` TOML (e.g. `[semantic]`, `[access]`).
pub(crate) fn config(extra: &str) -> Config {
    Config::from_sources(ConfigSources::new(Interface::Embedded).toml(extra.to_string()))
        .expect("config")
}

/// The demo engine with its model.
pub(crate) async fn demo_engine() -> Engine {
    let toml = format!("[semantic]\nmodel = {:?}\n", demo_model());
    Engine::builder()
        .config(config(&toml))
        .database_url(demo_url())
        .build()
        .await
        .expect("engine")
}

#[tokio::test]
async fn explore() {
    let engine = demo_engine().await;
    for (s, q) in [
        ("a", "Total sales by country"),
        ("a", "only 2012"),
        ("b", "revenue in Canada by year"),
        ("b", "by month"),
        ("c", "revenue in Atlantis by year"),
        ("d", "How many invoices were issued in 2022?"),
    ] {
        match engine.ask(Ask::new(q).session(s)).await {
            Ok(a) => println!(
                "{q}\n  sql={}\n  expl={}\n  gen={} verified={} rows={}\n  warnings={:?}\n  suggestions={:?}\n  timings={:?}",
                a.sql,
                a.explanation,
                a.generator,
                a.verified,
                a.row_count,
                a.warnings,
                a.suggestions,
                a.timings
            ),
            Err(e) => println!("{q}: ERR {e}"),
        }
    }
}
