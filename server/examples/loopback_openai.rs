//! An instant loopback model that speaks the OpenAI chat-completions wire format, for load
//! tests of the server's full path without a hosted model:
//!
//! ```sh
//! cargo run --release -p heliosdb-conversational-bi --example loopback_openai -- 18080 sk-bench
//! ```
//!
//! Arguments: the port (default 18080) and the API key it expects (default `sk-bench`). It
//! answers every question with `SELECT count(*) AS artists FROM Artist`, with no delay.

use std::{sync::Arc, time::Duration};

use testkit::loopback::{LoopbackLlm, Scripted};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(18080);
    let key = args.next().unwrap_or_else(|| "sk-bench".into());
    let llm = LoopbackLlm::start(
        &key,
        port,
        Arc::new(|_: &str| Scripted {
            sql: "SELECT count(*) AS artists FROM Artist".into(),
            delay: Duration::ZERO,
        }),
    )
    .await;
    println!("loopback model at {}", llm.base_url);
    let _ = tokio::signal::ctrl_c().await;
    println!("{} completions answered", llm.calls());
}
