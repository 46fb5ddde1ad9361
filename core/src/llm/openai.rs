//! OpenAI chat completions (`POST {base_url}/chat/completions`, Bearer key) and embeddings
//! (`POST {base_url}/embeddings`); also the wire format of many compatible servers. The base
//! address includes the version: `https://api.openai.com/v1`.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{
    ChatCompletion, ChatRequest, LlmProvider,
    http::{ApiClient, ApiSpec, Auth, KeyRule, vectors},
};
use crate::{config::LlmConfig, embed::Embedder, error::Result};

/// The default API address.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The embedding model used when `[llm] embedding_model` is not set.
pub const DEFAULT_EMBEDDING_MODEL: &str = "text-embedding-3-small";

const SPEC: ApiSpec = ApiSpec {
    provider: "openai",
    default_base: DEFAULT_BASE_URL,
    auth: Auth::Bearer,
    key: KeyRule::Required,
    headers: &[],
};

/// Inputs per embeddings request (the API accepts up to 2048).
const EMBED_BATCH: usize = 2048;

/// An OpenAI (or compatible) chat-completions endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    api: ApiClient,
}

impl OpenAiProvider {
    /// A provider from `[llm]`: `base_url` (default `https://api.openai.com/v1`), `model`,
    /// `timeout_secs`, and the key read from `api_key_env` (default `OPENAI_API_KEY`). A missing
    /// key is an error unless `base_url` points at a local server.
    pub fn from_config(llm: &LlmConfig) -> Result<Self> {
        Ok(Self {
            api: ApiClient::new(SPEC, llm, &llm.model)?,
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let mut body = json!({
            "model": self.api.model(),
            "messages": request.messages,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        });
        if request.json_response {
            body["response_format"] = json!({ "type": "json_object" });
        }
        body
    }
}

#[async_trait]
impl LlmProvider for OpenAiProvider {
    fn name(&self) -> &str {
        "openai"
    }

    fn model(&self) -> &str {
        self.api.model()
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion> {
        let reply = self
            .api
            .post("/chat/completions", &self.body(request))
            .await?;
        let v = &reply.json;
        let content = v["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| self.api.unexpected(&reply, "choices[0].message.content"))?;
        Ok(ChatCompletion {
            content: content.to_string(),
            prompt_tokens: v["usage"]["prompt_tokens"].as_u64(),
            completion_tokens: v["usage"]["completion_tokens"].as_u64(),
            request_id: reply.request_id,
        })
    }
}

/// OpenAI embeddings (`POST {base_url}/embeddings`).
#[derive(Debug, Clone)]
pub struct OpenAiEmbedder {
    api: ApiClient,
}

impl OpenAiEmbedder {
    /// An embedder from `[llm]`: the same address and key as the chat provider, the model of
    /// `[llm] embedding_model` (default `text-embedding-3-small`).
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
impl Embedder for OpenAiEmbedder {
    fn name(&self) -> String {
        format!("openai:{}", self.api.model())
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(EMBED_BATCH) {
            let body = json!({
                "model": self.api.model(),
                "input": batch,
                "encoding_format": "float",
            });
            let reply = self.api.post("/embeddings", &body).await?;
            // Each item names its input's position; order by it rather than trust the order.
            let mut items: Vec<(u64, &Value)> = reply.json["data"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|d| (d["index"].as_u64().unwrap_or(u64::MAX), &d["embedding"]))
                        .collect()
                })
                .unwrap_or_default();
            items.sort_by_key(|(i, _)| *i);
            let rows = Value::Array(items.into_iter().map(|(_, e)| e.clone()).collect());
            let vectors = vectors(&rows)
                .filter(|v| v.len() == batch.len())
                .ok_or_else(|| {
                    self.api
                        .unexpected(&reply, "data[].embedding for every input")
                })?;
            out.extend(vectors);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LlmProviderKind, Secret};

    #[test]
    fn missing_key_is_a_config_error_naming_the_variable() {
        let llm = LlmConfig {
            provider: LlmProviderKind::Openai,
            ..LlmConfig::default()
        };
        let e = OpenAiProvider::from_config(&llm).expect_err("no key");
        assert!(e.to_string().contains("OPENAI_API_KEY"), "{e}");
    }

    #[test]
    fn debug_hides_the_key() {
        let llm = LlmConfig {
            provider: LlmProviderKind::Openai,
            api_key: Some(Secret::new("sk-very-secret")),
            ..LlmConfig::default()
        };
        let p = OpenAiProvider::from_config(&llm).expect("provider");
        assert!(!format!("{p:?}").contains("very-secret"));
        let e = OpenAiEmbedder::from_config(&llm).expect("embedder");
        assert!(!format!("{e:?}").contains("very-secret"));
        assert_eq!(e.name(), "openai:text-embedding-3-small");
    }

    #[test]
    fn the_body_asks_for_json_when_wanted() {
        let llm = LlmConfig {
            provider: LlmProviderKind::Openai,
            model: "gpt-4o".into(),
            api_key: Some(Secret::new("k")),
            ..LlmConfig::default()
        };
        let p = OpenAiProvider::from_config(&llm).expect("provider");
        let request = ChatRequest {
            messages: vec![super::super::ChatMessage::new(
                super::super::Role::User,
                "hi",
            )],
            temperature: 0.2,
            max_tokens: 50,
            json_response: true,
        };
        let body = p.body(&request);
        assert_eq!(body["model"], "gpt-4o");
        assert_eq!(body["max_tokens"], 50);
        assert_eq!(body["response_format"]["type"], "json_object");
        assert_eq!(body["messages"][0]["role"], "user");
    }
}
