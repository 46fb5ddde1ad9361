//! Anthropic Messages (`POST {base_url}/v1/messages`): the key in `x-api-key`, the API version
//! in `anthropic-version`, instructions in the top-level `system` field (the `messages` hold
//! only `user` and `assistant` turns), `max_tokens` required, and the reply as a list of
//! content blocks. Errors come as `{"type": "error", "error": {"type", "message"}}` with a
//! `request-id` header. Anthropic has no embeddings endpoint.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{
    ChatCompletion, ChatRequest, LlmProvider, Role,
    http::{ApiClient, ApiSpec, Auth, KeyRule},
};
use crate::{
    config::LlmConfig,
    error::{Error, Result},
};

/// The default API address (the path adds the version: `/v1/messages`).
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The API version this client speaks.
pub const API_VERSION: &str = "2023-06-01";

const SPEC: ApiSpec = ApiSpec {
    provider: "anthropic",
    default_base: DEFAULT_BASE_URL,
    auth: Auth::Header("x-api-key"),
    key: KeyRule::Required,
    headers: &[("anthropic-version", API_VERSION)],
};

/// An Anthropic Messages endpoint.
#[derive(Debug, Clone)]
pub struct AnthropicProvider {
    api: ApiClient,
}

impl AnthropicProvider {
    /// A provider from `[llm]`: `base_url` (default `https://api.anthropic.com`), `model` (a
    /// Claude model), `timeout_secs`, `max_tokens`, `temperature` (0 to 1), and the key read
    /// from `api_key_env` (default `ANTHROPIC_API_KEY`).
    pub fn from_config(llm: &LlmConfig) -> Result<Self> {
        super::check_model(
            llm,
            "anthropic",
            |m| m.starts_with("gpt-"),
            "claude-sonnet-4-5",
        )?;
        super::check_unit_temperature(llm, "Anthropic")?;
        Ok(Self {
            api: ApiClient::new(SPEC, llm, &llm.model)?,
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let mut messages: Vec<Value> = Vec::new();
        for m in request.messages.iter().filter(|m| m.role != Role::System) {
            let role = if m.role == Role::Assistant {
                "assistant"
            } else {
                "user"
            };
            // The API wants turns to alternate; join consecutive turns of one speaker.
            match messages.last_mut() {
                Some(last) if last["role"] == role => {
                    let joined = format!(
                        "{}\n\n{}",
                        last["content"].as_str().unwrap_or_default(),
                        m.content
                    );
                    last["content"] = Value::String(joined);
                }
                _ => messages.push(json!({ "role": role, "content": m.content })),
            }
        }
        let mut body = json!({
            "model": self.api.model(),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "messages": messages,
        });
        if !system.is_empty() {
            body["system"] = Value::String(system.join("\n\n"));
        }
        body
    }
}

#[async_trait]
impl LlmProvider for AnthropicProvider {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn model(&self) -> &str {
        self.api.model()
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion> {
        let reply = self.api.post("/v1/messages", &self.body(request)).await?;
        let v = &reply.json;
        let blocks = v["content"]
            .as_array()
            .ok_or_else(|| self.api.unexpected(&reply, "content blocks"))?;
        let text: String = blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect();
        if text.is_empty() && v["stop_reason"] == "max_tokens" {
            return Err(truncated(&self.api, &reply));
        }
        Ok(ChatCompletion {
            content: text,
            prompt_tokens: v["usage"]["input_tokens"].as_u64(),
            completion_tokens: v["usage"]["output_tokens"].as_u64(),
            request_id: reply.request_id,
        })
    }
}

fn truncated(api: &ApiClient, reply: &super::http::Reply) -> Error {
    api.error(
        Some(reply.status),
        "the reply was cut at [llm] max_tokens before any text; raise [llm] max_tokens".into(),
        reply.request_id.clone(),
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        config::{LlmProviderKind, Secret},
        llm::ChatMessage,
    };

    fn config() -> LlmConfig {
        LlmConfig {
            provider: LlmProviderKind::Anthropic,
            model: "claude-sonnet-4-5".into(),
            api_key: Some(Secret::new("sk-ant-secret")),
            ..LlmConfig::default()
        }
    }

    #[test]
    fn system_goes_top_level_and_turns_alternate() {
        let p = AnthropicProvider::from_config(&config()).expect("provider");
        let request = ChatRequest {
            messages: vec![
                ChatMessage::new(Role::System, "rules"),
                ChatMessage::new(Role::User, "earlier question"),
                ChatMessage::new(Role::Assistant, "earlier SQL"),
                ChatMessage::new(Role::User, "schema"),
                ChatMessage::new(Role::User, "question"),
            ],
            temperature: 0.1,
            max_tokens: 500,
            json_response: true,
        };
        let body = p.body(&request);
        assert_eq!(body["system"], "rules");
        assert_eq!(body["max_tokens"], 500);
        let roles: Vec<&str> = body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["role"].as_str().expect("role"))
            .collect();
        assert_eq!(roles, ["user", "assistant", "user"]);
        assert_eq!(body["messages"][2]["content"], "schema\n\nquestion");
        assert!(body.get("response_format").is_none());
    }

    #[test]
    fn an_openai_model_name_or_a_hot_temperature_is_a_config_error() {
        let e = AnthropicProvider::from_config(&LlmConfig {
            model: "gpt-4".into(),
            ..config()
        })
        .expect_err("gpt-4 is not a Claude model");
        assert!(e.to_string().contains("[llm] model"), "{e}");
        let e = AnthropicProvider::from_config(&LlmConfig {
            temperature: 1.5,
            ..config()
        })
        .expect_err("too hot");
        assert!(e.to_string().contains("temperature"), "{e}");
        let e = AnthropicProvider::from_config(&LlmConfig {
            api_key: None,
            ..config()
        })
        .expect_err("no key");
        assert!(e.to_string().contains("ANTHROPIC_API_KEY"), "{e}");
    }
}
