//! OpenAI chat completions (`POST {base_url}/chat/completions`, Bearer key), also the wire format
//! of many compatible servers.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{ChatCompletion, ChatRequest, LlmProvider};
use crate::{
    config::{LlmConfig, Secret},
    error::{Error, Result},
};

/// The default API address.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// An OpenAI (or compatible) chat-completions endpoint.
#[derive(Clone)]
pub struct OpenAiProvider {
    client: reqwest::Client,
    endpoint: String,
    model: String,
    api_key: Option<Secret>,
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("api_key", &self.api_key)
            .finish()
    }
}

impl OpenAiProvider {
    /// A provider from `[llm]`: `base_url` (default `https://api.openai.com/v1`), `model`,
    /// `timeout_secs`, and the key read from `api_key_env`. A missing key is an error unless
    /// `base_url` points at a local server.
    pub fn from_config(llm: &LlmConfig) -> Result<Self> {
        let base = llm
            .base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/');
        let is_local = base.contains("://127.0.0.1")
            || base.contains("://localhost")
            || base.contains("://[::1]");
        if llm.api_key.is_none() && !is_local {
            let var = llm.effective_api_key_env().unwrap_or("OPENAI_API_KEY");
            return Err(Error::config(format!(
                "[llm] provider = \"openai\" needs an API key: set the environment variable {var} (or point [llm] base_url at a local OpenAI-compatible server)"
            )));
        }
        super::install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(llm.timeout_secs))
            .connect_timeout(Duration::from_secs(llm.timeout_secs.min(10)))
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            client,
            endpoint: format!("{base}/chat/completions"),
            model: llm.model.clone(),
            api_key: llm.api_key.clone(),
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let mut body = json!({
            "model": self.model,
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
        &self.model
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion> {
        let mut http = self.client.post(&self.endpoint).json(&self.body(request));
        if let Some(key) = &self.api_key {
            http = http.bearer_auth(key.expose());
        }
        let response = http.send().await.map_err(|e| transport_error(&e))?;
        let status = response.status();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = response.text().await.map_err(|e| transport_error(&e))?;
        if !status.is_success() {
            return Err(status_error(status.as_u16(), &text, request_id));
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| Error::Provider {
            provider: "openai".into(),
            status: Some(status.as_u16()),
            message: format!("the reply is not JSON ({e})"),
            request_id: request_id.clone(),
            retryable: true,
        })?;
        let content = v["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| Error::Provider {
                provider: "openai".into(),
                status: Some(status.as_u16()),
                message: "the reply has no choices[0].message.content".into(),
                request_id: request_id.clone(),
                retryable: true,
            })?;
        Ok(ChatCompletion {
            content: content.to_string(),
            request_id: request_id.or_else(|| v["id"].as_str().map(str::to_string)),
            prompt_tokens: v["usage"]["prompt_tokens"].as_u64(),
            completion_tokens: v["usage"]["completion_tokens"].as_u64(),
        })
    }
}

fn transport_error(e: &reqwest::Error) -> Error {
    let what = if e.is_timeout() {
        "the request timed out ([llm] timeout_secs)"
    } else if e.is_connect() {
        "cannot connect to the API"
    } else {
        "the request failed"
    };
    // reqwest's Display names the URL, never headers, so the key cannot leak here.
    Error::Provider {
        provider: "openai".into(),
        status: None,
        message: format!("{what}: {e}"),
        request_id: None,
        retryable: true,
    }
}

fn status_error(status: u16, body: &str, request_id: Option<String>) -> Error {
    let detail = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.chars().take(300).collect());
    let hint = match status {
        401 => "; check the API key ([llm] api_key_env)",
        403 => "; the key has no access to this model or endpoint",
        404 => "; check [llm] model and [llm] base_url",
        429 => "; rate limited by the provider",
        _ => "",
    };
    Error::Provider {
        provider: "openai".into(),
        status: Some(status),
        message: format!("HTTP {status}: {detail}{hint}"),
        request_id,
        retryable: status == 429 || status >= 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_key_is_a_config_error_naming_the_variable() {
        let llm = LlmConfig {
            provider: crate::config::LlmProviderKind::Openai,
            ..LlmConfig::default()
        };
        let e = OpenAiProvider::from_config(&llm).expect_err("no key");
        assert!(e.to_string().contains("OPENAI_API_KEY"), "{e}");
    }

    #[test]
    fn debug_hides_the_key() {
        let llm = LlmConfig {
            provider: crate::config::LlmProviderKind::Openai,
            api_key: Some(Secret::new("sk-very-secret")),
            ..LlmConfig::default()
        };
        let p = OpenAiProvider::from_config(&llm).expect("provider");
        assert!(!format!("{p:?}").contains("very-secret"));
    }

    #[test]
    fn status_errors_keep_the_provider_message_and_retryability() {
        let e = status_error(
            429,
            r#"{"error": {"message": "Rate limit reached"}}"#,
            Some("req_1".into()),
        );
        assert!(e.is_retryable());
        assert!(e.to_string().contains("Rate limit reached"), "{e}");
        let e = status_error(401, r#"{"error": {"message": "Incorrect API key"}}"#, None);
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("api_key_env"), "{e}");
    }
}
