//! LLM providers: the [`LlmProvider`] seam and its implementations, each speaking its
//! provider's documented wire format, plus the providers' embedding endpoints behind
//! [`Embedder`].
//!
//! | provider | chat | embeddings | key |
//! |---|---|---|---|
//! | `openai` | `POST {base}/chat/completions` (base `https://api.openai.com/v1`) | `POST {base}/embeddings` | `OPENAI_API_KEY`, Bearer |
//! | `anthropic` | `POST {base}/v1/messages` (base `https://api.anthropic.com`) | — | `ANTHROPIC_API_KEY`, `x-api-key` |
//! | `cohere` | `POST {base}/v2/chat` (base `https://api.cohere.com`) | `POST {base}/v2/embed` | `COHERE_API_KEY`, Bearer |
//! | `ollama` | `POST {base}/api/chat` (base `http://localhost:11434`) | `POST {base}/api/embed` | none |
//!
//! The HTTP plumbing and the error mapping are shared (`http.rs`); each provider file holds only
//! its request and reply shapes. Retries and the circuit breaker are layers around these
//! (`crate::resilience`).

#[cfg(feature = "providers")]
mod anthropic;
#[cfg(feature = "providers")]
mod cohere;
#[cfg(feature = "providers")]
mod http;
#[cfg(feature = "providers")]
mod ollama;
#[cfg(feature = "providers")]
mod openai;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[cfg(feature = "providers")]
pub use anthropic::AnthropicProvider;
#[cfg(feature = "providers")]
pub use cohere::{CohereEmbedder, CohereProvider};
#[cfg(feature = "providers")]
pub use ollama::{OllamaEmbedder, OllamaProvider};
#[cfg(feature = "providers")]
pub use openai::{OpenAiEmbedder, OpenAiProvider};

use crate::{
    config::{LlmConfig, LlmProviderKind},
    embed::Embedder,
    error::{Error, Result},
};

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

/// The provider `[llm] provider` names, bare (no retry or breaker layer). `rule` has no model:
/// asking for it is a configuration error, and so is any provider in a build without the
/// `providers` feature.
pub fn provider_from_config(llm: &LlmConfig) -> Result<Arc<dyn LlmProvider>> {
    match llm.provider {
        LlmProviderKind::Rule => Err(Error::config(
            "[llm] provider = \"rule\" calls no model; choose \"openai\", \"anthropic\", \"cohere\" or \"ollama\"",
        )),
        #[cfg(not(feature = "providers"))]
        hosted => Err(crate::features::missing_provider(hosted)),
        #[cfg(feature = "providers")]
        LlmProviderKind::Openai => Ok(Arc::new(OpenAiProvider::from_config(llm)?)),
        #[cfg(feature = "providers")]
        LlmProviderKind::Anthropic => Ok(Arc::new(AnthropicProvider::from_config(llm)?)),
        #[cfg(feature = "providers")]
        LlmProviderKind::Cohere => Ok(Arc::new(CohereProvider::from_config(llm)?)),
        #[cfg(feature = "providers")]
        LlmProviderKind::Ollama => Ok(Arc::new(OllamaProvider::from_config(llm)?)),
    }
}

/// The embedding endpoint of the provider `[llm] provider` names, bare (wrap it in a
/// [`crate::resilience::RetryLayer`] for retries), with the model of `[llm] embedding_model`.
pub fn embedder_from_config(llm: &LlmConfig) -> Result<Arc<dyn Embedder>> {
    match llm.provider {
        LlmProviderKind::Anthropic | LlmProviderKind::Rule => Err(Error::config(
            "[llm] provider has no embeddings endpoint (Anthropic has none, the rule generator uses no model); use the built-in embedder ([cache] embedder = \"builtin\") or an openai, cohere or ollama provider",
        )),
        #[cfg(not(feature = "providers"))]
        hosted => Err(crate::features::missing_provider(hosted)),
        #[cfg(feature = "providers")]
        LlmProviderKind::Openai => Ok(Arc::new(OpenAiEmbedder::from_config(llm)?)),
        #[cfg(feature = "providers")]
        LlmProviderKind::Cohere => Ok(Arc::new(CohereEmbedder::from_config(llm)?)),
        #[cfg(feature = "providers")]
        LlmProviderKind::Ollama => Ok(Arc::new(OllamaEmbedder::from_config(llm)?)),
    }
}

#[cfg(feature = "providers")]
/// Rejects a model name that belongs to another provider (the default `gpt-4` left in place
/// when switching provider), suggesting `example`.
pub(crate) fn check_model(
    llm: &LlmConfig,
    provider: &str,
    foreign: impl Fn(&str) -> bool,
    example: &str,
) -> Result<()> {
    let model = llm.model.trim();
    if model.is_empty() || foreign(model) {
        let pull = if provider == "ollama" {
            format!(" and pull it on the server first (`ollama pull {example}`)")
        } else {
            String::new()
        };
        return Err(Error::Config {
            message: format!(
                "[llm] model = {model:?} is not a model for the {provider} provider; set [llm] model to one, e.g. model = \"{example}\"{pull}"
            ),
            key: Some("llm.model".into()),
            file: None,
            line: None,
        });
    }
    Ok(())
}

#[cfg(feature = "providers")]
/// Rejects a temperature above 1, which Anthropic and Cohere refuse.
pub(crate) fn check_unit_temperature(llm: &LlmConfig, provider: &str) -> Result<()> {
    if llm.temperature > 1.0 {
        return Err(Error::Config {
            message: format!(
                "[llm] temperature = {} is above 1.0, which {provider} does not accept; use a value from 0.0 to 1.0 (0.1 is a good choice for SQL)",
                llm.temperature
            ),
            key: Some("llm.temperature".into()),
            file: None,
            line: None,
        });
    }
    Ok(())
}

/// Installs the process-wide TLS crypto provider (ring) once; later calls do nothing.
#[cfg(feature = "providers")]
pub(crate) fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
