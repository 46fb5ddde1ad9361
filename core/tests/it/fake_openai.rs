//! The OpenAI fake of [`fake_llm`], under the name that tests built against OpenAI alone
//! import (also by path from the server's and the log-line test binaries).

#[path = "fake_llm.rs"]
#[allow(dead_code)]
pub mod fake_llm;

pub use fake_llm::*;
