//! Cohere Chat v2 (`POST {base_url}/v2/chat`, Bearer key, `messages` with `system`, `user`
//! and `assistant` roles, the reply's text in `message.content[].text`) and Embed v2
//! (`POST {base_url}/v2/embed` with `input_type` and `embedding_types: ["float"]`). Errors come
//! as `{"message": ...}`.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{
    ChatCompletion, ChatRequest, LlmProvider,
    http::{ApiClient, ApiSpec, Auth, KeyRule, vectors},
};
use crate::{config::LlmConfig, embed::Embedder, error::Result};

/// The `input_type` of every embedding: questions are embedded to be compared with each other,
/// as search queries.
const INPUT_TYPE: &str = "search_query";

/// The default API address (paths add the version: `/v2/chat`).
pub const DEFAULT_BASE_URL: &str = "https://api.cohere.com";

/// The embedding model used when `[llm] embedding_model` is not set.
pub const DEFAULT_EMBEDDING_MODEL: &str = "embed-v4.0";

const SPEC: ApiSpec = ApiSpec {
    provider: "cohere",
    default_base: DEFAULT_BASE_URL,
    auth: Auth::Bearer,
    key: KeyRule::Required,
    headers: &[],
};

/// Texts per embed request (the API accepts up to 96).
const EMBED_BATCH: usize = 96;

/// A Cohere Chat v2 endpoint.
#[derive(Debug, Clone)]
pub struct CohereProvider {
    api: ApiClient,
}

impl CohereProvider {
    /// A provider from `[llm]`: `base_url` (default `https://api.cohere.com`), `model` (a
    /// Command model), `timeout_secs`, `max_tokens`, `temperature` (0 to 1), and the key read
    /// from `api_key_env` (default `COHERE_API_KEY`).
    pub fn from_config(llm: &LlmConfig) -> Result<Self> {
        super::check_model(
            llm,
            "cohere",
            |m| m.starts_with("gpt-"),
            "command-a-03-2025",
        )?;
        super::check_unit_temperature(llm, "Cohere")?;
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
            "stream": false,
        });
        if request.json_response {
            body["response_format"] = json!({ "type": "json_object" });
        }
        body
    }
}

#[async_trait]
impl LlmProvider for CohereProvider {
    fn name(&self) -> &str {
        "cohere"
    }

    fn model(&self) -> &str {
        self.api.model()
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion> {
        let reply = self.api.post("/v2/chat", &self.body(request)).await?;
        let v = &reply.json;
        let blocks = v["message"]["content"]
            .as_array()
            .ok_or_else(|| self.api.unexpected(&reply, "message.content"))?;
        let text: String = blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect();
        let usage = if v["usage"]["tokens"].is_object() {
            &v["usage"]["tokens"]
        } else {
            &v["usage"]["billed_units"]
        };
        Ok(ChatCompletion {
            content: text,
            prompt_tokens: usage["input_tokens"].as_u64(),
            completion_tokens: usage["output_tokens"].as_u64(),
            request_id: reply.request_id,
        })
    }
}

/// Cohere Embed v2.
#[derive(Debug, Clone)]
pub struct CohereEmbedder {
    api: ApiClient,
}

impl CohereEmbedder {
    /// An embedder from `[llm]`: the same address and key as the chat provider, the model of
    /// `[llm] embedding_model` (default `embed-v4.0`). Texts are embedded as `search_query`:
    /// the engine compares questions with questions and with short schema descriptions.
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
impl Embedder for CohereEmbedder {
    fn name(&self) -> String {
        format!("cohere:{}:{}", self.api.model(), INPUT_TYPE)
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(EMBED_BATCH) {
            let body = json!({
                "model": self.api.model(),
                "texts": batch,
                "input_type": INPUT_TYPE,
                "embedding_types": ["float"],
            });
            let reply = self.api.post("/v2/embed", &body).await?;
            let vectors = vectors(&reply.json["embeddings"]["float"])
                .filter(|v| v.len() == batch.len())
                .ok_or_else(|| {
                    self.api
                        .unexpected(&reply, "embeddings.float for every text")
                })?;
            out.extend(vectors);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        config::{LlmProviderKind, Secret},
        llm::{ChatMessage, Role},
    };

    #[test]
    fn the_body_keeps_roles_and_asks_for_json() {
        let llm = LlmConfig {
            provider: LlmProviderKind::Cohere,
            model: "command-a-03-2025".into(),
            api_key: Some(Secret::new("co-secret")),
            ..LlmConfig::default()
        };
        let p = CohereProvider::from_config(&llm).expect("provider");
        let body = p.body(&ChatRequest {
            messages: vec![
                ChatMessage::new(Role::System, "rules"),
                ChatMessage::new(Role::User, "q"),
            ],
            temperature: 0.1,
            max_tokens: 500,
            json_response: true,
        });
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["stream"], false);
        assert_eq!(body["response_format"]["type"], "json_object");
        assert!(!format!("{p:?}").contains("co-secret"));
        let e = CohereEmbedder::from_config(&llm).expect("embedder");
        assert_eq!(e.name(), "cohere:embed-v4.0:search_query");
    }
}
