//! LLM providers: the [`LlmProvider`] seam and its implementations, each speaking its
//! provider's documented wire format.

mod openai;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use openai::OpenAiProvider;

use crate::error::Result;

/// Who speaks a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// The user.
    User,
    /// The model.
    Assistant,
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The speaker.
    pub role: Role,
    /// The text.
    pub content: String,
}

impl ChatMessage {
    /// A message of `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// A chat-completion request, independent of the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The conversation, system message first.
    pub messages: Vec<ChatMessage>,
    /// Sampling temperature.
    pub temperature: f64,
    /// Maximum tokens of the reply.
    pub max_tokens: u32,
    /// Ask the provider for a JSON object reply where it supports that.
    pub json_response: bool,
}

/// A provider's reply.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatCompletion {
    /// The reply's text.
    pub content: String,
    /// The provider's request id, for support tickets.
    pub request_id: Option<String>,
    /// Tokens of the prompt, when reported.
    pub prompt_tokens: Option<u64>,
    /// Tokens of the reply, when reported.
    pub completion_tokens: Option<u64>,
}

/// A chat-completion API.
#[async_trait]
pub trait LlmProvider: Send + Sync + std::fmt::Debug {
    /// The provider's name (`openai`, ...).
    fn name(&self) -> &str;

    /// The model it calls.
    fn model(&self) -> &str;

    /// Sends one chat-completion request.
    async fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion>;
}

/// Installs the process-wide TLS crypto provider (ring) once; later calls do nothing.
pub(crate) fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
