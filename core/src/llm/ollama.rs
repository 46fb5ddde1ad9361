//! Ollama, a local model server: chat (`POST {base_url}/api/chat` with `stream: false`,
//! sampling in `options.temperature` / `options.num_predict`, `format: "json"` for JSON
//! replies) and embeddings (`POST {base_url}/api/embed`). No key is needed; one configured
//! through `[llm] api_key_env` is sent as a Bearer token (for a server behind a proxy). Errors
//! come as `{"error": ...}`.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{
    ChatCompletion, ChatRequest, LlmProvider,
    http::{ApiClient, ApiSpec, Auth, KeyRule, vectors},
};
use crate::{config::LlmConfig, embed::Embedder, error::Result};

/// The default address of a local Ollama server.
pub const DEFAULT_BASE_URL: &str = "http://localhost:11434";

/// The embedding model used when `[llm] embedding_model` is not set.
pub const DEFAULT_EMBEDDING_MODEL: &str = "nomic-embed-text";

const SPEC: ApiSpec = ApiSpec {
    provider: "ollama",
    default_base: DEFAULT_BASE_URL,
    auth: Auth::Bearer,
    key: KeyRule::Optional,
    headers: &[],
};

/// Inputs per embed request.
const EMBED_BATCH: usize = 256;

/// An Ollama chat endpoint.
#[derive(Debug, Clone)]
pub struct OllamaProvider {
    api: ApiClient,
}

impl OllamaProvider {
    /// A provider from `[llm]`: `base_url` (default `http://localhost:11434`), `model` (a
    /// pulled model, e.g. `qwen2.5-coder:7b`), `timeout_secs`, `max_tokens`, `temperature`.
    pub fn from_config(llm: &LlmConfig) -> Result<Self> {
        super::check_model(llm, "ollama", |m| m == "gpt-4", "qwen2.5-coder:7b")?;
        Ok(Self {
            api: ApiClient::new(SPEC, llm, &llm.model)?,
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let mut body = json!({
            "model": self.api.model(),
            "messages": request.messages,
            "stream": false,
            "options": {
                "temperature": request.temperature,
                "num_predict": request.max_tokens,
            },
        });
        if request.json_response {
            body["format"] = Value::String("json".into());
        }
        body
    }
}

#[async_trait]
impl LlmProvider for OllamaProvider {
    fn name(&self) -> &str {
        "ollama"
    }

    fn model(&self) -> &str {
        self.api.model()
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion> {
        let reply = self.api.post("/api/chat", &self.body(request)).await?;
        let v = &reply.json;
        let content = v["message"]["content"]
            .as_str()
            .ok_or_else(|| self.api.unexpected(&reply, "message.content"))?;
        Ok(ChatCompletion {
            content: content.to_string(),
            prompt_tokens: v["prompt_eval_count"].as_u64(),
            completion_tokens: v["eval_count"].as_u64(),
            request_id: reply.request_id,
        })
    }
}

/// Ollama embeddings.
#[derive(Debug, Clone)]
pub struct OllamaEmbedder {
    api: ApiClient,
}

impl OllamaEmbedder {
    /// An embedder from `[llm]`: the same server as the chat provider, the model of
    /// `[llm] embedding_model` (default `nomic-embed-text`).
    pub fn from_config(llm: &LlmConfig) -> Result<Self> {
        let model = llm
            .embedding_model
            .as_deref()
            .unwrap_or(DEFAULT_EMBEDDING_MODEL);
        Ok(Self {
            api: ApiClient::new(SPEC, llm, model)?,
        })
    }
}

#[async_trait]
impl Embedder for OllamaEmbedder {
    fn name(&self) -> String {
        format!("ollama:{}", self.api.model())
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(EMBED_BATCH) {
            let body = json!({ "model": self.api.model(), "input": batch });
            let reply = self.api.post("/api/embed", &body).await?;
            let vectors = vectors(&reply.json["embeddings"])
                .filter(|v| v.len() == batch.len())
                .ok_or_else(|| self.api.unexpected(&reply, "embeddings for every input"))?;
            out.extend(vectors);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        config::LlmProviderKind,
        llm::{ChatMessage, Role},
    };

    #[test]
    fn no_key_is_needed_and_the_body_is_not_streamed() {
        let llm = LlmConfig {
            provider: LlmProviderKind::Ollama,
            model: "llama3.2".into(),
            ..LlmConfig::default()
        };
        let p = OllamaProvider::from_config(&llm).expect("no key needed");
        let body = p.body(&ChatRequest {
            messages: vec![ChatMessage::new(Role::User, "q")],
            temperature: 0.1,
            max_tokens: 300,
            json_response: true,
        });
        assert_eq!(body["stream"], false);
        assert_eq!(body["options"]["num_predict"], 300);
        assert_eq!(body["format"], "json");
        let e = OllamaProvider::from_config(&LlmConfig {
            model: "gpt-4".into(),
            ..llm
        })
        .expect_err("the default model is not a local one");
        assert!(e.to_string().contains("ollama pull"), "{e}");
    }
}
