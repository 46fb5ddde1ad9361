//! The HTTP plumbing every provider shares: one client per provider with its timeout, the
//! key in the header the provider documents, and one mapping of failures to
//! [`Error::Provider`] that keeps the status, the provider's own message, the request id and
//! the `Retry-After` wait, adds what to fix, and never carries the key.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::{
    config::{LlmConfig, Secret},
    error::{Error, Result, redact_url},
};

/// How a provider wants its key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key in a header of its own (`x-api-key`).
    Header(&'static str),
}

/// Whether a provider needs a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRule {
    /// Needed, unless `base_url` points at a server on this machine (a local gateway or test).
    Required,
    /// Sent when configured, never needed (Ollama behind a proxy).
    Optional,
}

/// What differs between providers at the HTTP level.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApiSpec {
    /// `openai`, `anthropic`, `cohere`, `ollama`.
    pub provider: &'static str,
    /// The public API address, without a trailing slash.
    pub default_base: &'static str,
    /// How the key is sent.
    pub auth: Auth,
    /// Whether a key is needed.
    pub key: KeyRule,
    /// Headers sent with every request (`anthropic-version`).
    pub headers: &'static [(&'static str, &'static str)],
}

/// A successful reply.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The JSON body.
    pub json: Value,
    /// The request id, from the `request-id` / `x-request-id` header or the body's `id`.
    pub request_id: Option<String>,
    /// The HTTP status.
    pub status: u16,
}

/// A provider's HTTP endpoint.
#[derive(Clone)]
pub(crate) struct ApiClient {
    spec: ApiSpec,
    client: reqwest::Client,
    base: String,
    key: Option<Secret>,
    key_env: Option<String>,
    model: String,
    timeout_secs: u64,
    max_tokens: u32,
    temperature: f64,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("provider", &self.spec.provider)
            .field("base", &redact_url(&self.base))
            .field("model", &self.model)
            .field("timeout_secs", &self.timeout_secs)
            .field("api_key", &self.key)
            .finish()
    }
}

/// Whether `base` names a server on this machine.
pub(crate) fn is_local(base: &str) -> bool {
    ["://127.", "://localhost", "://[::1]"]
        .iter()
        .any(|h| base.contains(h))
}

impl ApiClient {
    /// A client for `spec` from `[llm]`: `base_url` (or the provider's address), `timeout_secs`,
    /// and the key read from `api_key_env`. `model` is the model the requests name (the chat
    /// model, or the embedding model).
    pub fn new(spec: ApiSpec, llm: &LlmConfig, model: &str) -> Result<Self> {
        let base = llm
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .unwrap_or(spec.default_base)
            .trim_end_matches('/')
            .to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Config {
                message: format!(
                    "[llm] base_url = {:?} is not an http:// or https:// address; set it to the {} API address, e.g. {}",
                    redact_url(&base),
                    spec.provider,
                    spec.default_base
                ),
                key: Some("llm.base_url".into()),
                file: None,
                line: None,
            });
        }
        let key_env = llm.effective_api_key_env().map(str::to_string);
        if spec.key == KeyRule::Required && llm.api_key.is_none() && !is_local(&base) {
            let var = key_env
                .as_deref()
                .unwrap_or("the variable named by [llm] api_key_env");
            return Err(Error::config(format!(
                "[llm] provider = \"{}\" needs an API key: set the environment variable {var} (or point [llm] base_url at a local gateway)",
                spec.provider
            )));
        }
        super::install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(llm.timeout_secs))
            .connect_timeout(Duration::from_secs(llm.timeout_secs.min(10)))
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            spec,
            client,
            base,
            key: llm.api_key.clone(),
            key_env,
            model: model.to_string(),
            timeout_secs: llm.timeout_secs,
            max_tokens: llm.max_tokens,
            temperature: llm.temperature,
        })
    }

    /// The model the requests name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// POSTs `body` as JSON to `{base}{path}` and returns the JSON reply, or the failure as an
    /// [`Error::Provider`].
    pub async fn post(&self, path: &str, body: &Value) -> Result<Reply> {
        let mut http = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(key) = &self.key {
            http = match self.spec.auth {
                Auth::Bearer => http.bearer_auth(key.expose()),
                Auth::Header(name) => http.header(name, key.expose()),
            };
        }
        for (name, value) in self.spec.headers {
            http = http.header(*name, *value);
        }
        let response = http.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let header_id = request_id_header(&headers);
        let text = response
            .text()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if !(200..300).contains(&status) {
            let json = serde_json::from_str::<Value>(&text).ok();
            let request_id = header_id.or_else(|| json.as_ref().and_then(body_request_id));
            return Err(self.status_error(
                status,
                json.as_ref(),
                &text,
                request_id,
                retry_after(&headers),
            ));
        }
        let json: Value = serde_json::from_str(&text).map_err(|e| {
            self.error(
                Some(status),
                format!(
                    "the reply is not JSON ({e}); it starts with {:?}",
                    text.chars().take(80).collect::<String>()
                ),
                header_id.clone(),
                true,
            )
        })?;
        let request_id = header_id.or_else(|| json["id"].as_str().map(str::to_string));
        Ok(Reply {
            json,
            request_id,
            status,
        })
    }

    /// A reply that is JSON but lacks `what`: the address is probably not this provider's API.
    pub fn unexpected(&self, reply: &Reply, what: &str) -> Error {
        self.error(
            Some(reply.status),
            format!(
                "the reply has no {what}; check that [llm] base_url ({}) is a {} API address",
                redact_url(&self.base),
                self.spec.provider
            ),
            reply.request_id.clone(),
            false,
        )
    }

    /// A provider error with this provider's name, the key scrubbed from the message.
    pub fn error(
        &self,
        status: Option<u16>,
        message: String,
        request_id: Option<String>,
        retryable: bool,
    ) -> Error {
        let message = match &request_id {
            Some(id) => format!("{} (request id {id})", self.scrub(&message)),
            None => self.scrub(&message),
        };
        Error::Provider {
            provider: self.spec.provider.into(),
            status,
            message,
            request_id,
            retryable,
            retry_after: None,
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> Error {
        let base = redact_url(&self.base);
        let cause = root_cause(e);
        let message = if e.is_timeout() {
            format!(
                "no complete reply from {base} within {} s ([llm] timeout_secs)",
                self.timeout_secs
            )
        } else if e.is_connect() {
            format!("cannot connect to {base} ({cause}); check [llm] base_url and the network")
        } else if e.is_body() || e.is_decode() {
            format!("the reply from {base} was cut off ({cause})")
        } else {
            format!("the request to {base} failed ({cause})")
        };
        // Timeouts, refused and reset connections are all worth another try.
        self.error(None, message, None, true)
    }

    fn status_error(
        &self,
        status: u16,
        json: Option<&Value>,
        text: &str,
        request_id: Option<String>,
        retry_after: Option<Duration>,
    ) -> Error {
        let detail = json
            .and_then(provider_message)
            .unwrap_or_else(|| text.chars().take(300).collect::<String>());
        let hint = self.hint(status);
        let retryable = status == 408 || status == 409 || status == 429 || status >= 500;
        let mut error = self.error(
            Some(status),
            format!("HTTP {status}: {}{hint}", detail.trim()),
            request_id,
            retryable,
        );
        if let Error::Provider {
            retry_after: slot, ..
        } = &mut error
        {
            *slot = retry_after;
        }
        error
    }

    /// What to fix, by status.
    fn hint(&self, status: u16) -> String {
        let var = self
            .key_env
            .as_deref()
            .unwrap_or("the variable named by [llm] api_key_env");
        let model = &self.model;
        match status {
            400 | 422 => format!(
                "; the provider refused the request: check [llm] model (\"{model}\"), max_tokens ({}) and temperature ({})",
                self.max_tokens, self.temperature
            ),
            401 if self.key.is_none() => {
                format!("; this endpoint needs an API key: set the environment variable {var}")
            }
            401 => format!("; check the API key in the environment variable {var}"),
            403 => format!(
                "; the key in {var} may not use model \"{model}\": check [llm] model and the key's permissions"
            ),
            404 if self.spec.provider == "ollama" => format!(
                "; check [llm] model (\"{model}\") and pull it on the server with `ollama pull {model}`"
            ),
            404 => format!(
                "; check [llm] model (\"{model}\") and [llm] base_url ({})",
                redact_url(&self.base)
            ),
            429 => "; rate limited by the provider".into(),
            529 => "; the provider is overloaded".into(),
            s if s >= 500 => "; the provider failed on its side".into(),
            _ => String::new(),
        }
    }

    /// Removes the key, and anything shaped like an API key, from provider text.
    fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        if let Some(key) = &self.key
            && key.expose().len() >= 4
        {
            out = out.replace(key.expose(), "***");
        }
        out.split(' ')
            .map(|w| {
                if w.starts_with("sk-") && w.len() > 8 {
                    "sk-***"
                } else {
                    w
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The provider's own error message, from any of the documented error shapes:
/// `{"error": {"message"}}` (OpenAI, Anthropic), `{"message"}` (Cohere), `{"error": "..."}`
/// (Ollama).
fn provider_message(v: &Value) -> Option<String> {
    v["error"]["message"]
        .as_str()
        .or_else(|| v["message"].as_str())
        .or_else(|| v["error"].as_str())
        .or_else(|| v["detail"].as_str())
        .map(str::to_string)
}

fn request_id_header(headers: &HeaderMap) -> Option<String> {
    ["request-id", "x-request-id"]
        .iter()
        .find_map(|h| headers.get(*h)?.to_str().ok())
        .map(str::to_string)
}

fn body_request_id(v: &Value) -> Option<String> {
    v["request_id"]
        .as_str()
        .or_else(|| v["id"].as_str())
        .map(str::to_string)
}

/// The wait a `Retry-After` (seconds or an HTTP date) or `retry-after-ms` header asks for.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = get("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Reads `[[f32]]` from a JSON array of arrays of numbers.
pub(crate) fn vectors(v: &Value) -> Option<Vec<Vec<f32>>> {
    v.as_array()?
        .iter()
        .map(|row| {
            row.as_array()?
                .iter()
                .map(|x| x.as_f64().map(|f| f as f32))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;
    use serde_json::json;

    use super::*;

    const SPEC: ApiSpec = ApiSpec {
        provider: "openai",
        default_base: "https://api.example.test/v1",
        auth: Auth::Bearer,
        key: KeyRule::Required,
        headers: &[],
    };

    fn client(key: Option<&str>) -> ApiClient {
        let llm = LlmConfig {
            provider: crate::config::LlmProviderKind::Openai,
            model: "gpt-4o-mini".into(),
            api_key: key.map(Secret::new),
            base_url: Some("http://127.0.0.1:9/v1".into()),
            ..LlmConfig::default()
        };
        ApiClient::new(SPEC, &llm, "gpt-4o-mini").expect("client")
    }

    #[test]
    fn status_errors_keep_message_request_id_and_say_what_to_fix() {
        let c = client(Some("sk-secret-value-123"));
        let body =
            json!({ "error": { "message": "Incorrect API key provided: sk-secret-value-123." } });
        let e = c.status_error(401, Some(&body), "", Some("req_9".into()), None);
        let text = e.to_string();
        assert!(!text.contains("secret-value"), "{text}");
        assert!(text.contains("Incorrect API key provided"), "{text}");
        assert!(text.contains("OPENAI_API_KEY"), "{text}");
        assert!(text.contains("req_9"), "{text}");
        assert!(!e.is_retryable());

        let e = c.status_error(
            404,
            Some(&json!({"message": "model not found"})),
            "",
            None,
            None,
        );
        assert!(
            e.to_string()
                .contains("check [llm] model (\"gpt-4o-mini\")"),
            "{e}"
        );
        let e = c.status_error(400, Some(&json!({"error": "bad"})), "", None, None);
        assert!(e.to_string().contains("max_tokens (500)"), "{e}");

        let e = c.status_error(
            429,
            Some(&json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})),
            "",
            None,
            Some(Duration::from_secs(7)),
        );
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert!(e.to_string().contains("slow down"), "{e}");
        for s in [500, 502, 503, 529] {
            assert!(c.status_error(s, None, "oops", None, None).is_retryable());
        }
    }

    #[test]
    fn retry_after_reads_seconds_milliseconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "a date in the past");
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn a_missing_key_names_the_variable_unless_the_server_is_local() {
        let llm = LlmConfig {
            provider: crate::config::LlmProviderKind::Anthropic,
            ..LlmConfig::default()
        };
        let e = ApiClient::new(SPEC, &llm, "m").expect_err("no key");
        assert!(e.to_string().contains("ANTHROPIC_API_KEY"), "{e}");
        let llm = LlmConfig {
            base_url: Some("http://localhost:8080/v1".into()),
            ..llm
        };
        ApiClient::new(SPEC, &llm, "m").expect("a local gateway needs no key");
        let llm = LlmConfig {
            base_url: Some("ftp://example".into()),
            ..llm
        };
        let e = ApiClient::new(SPEC, &llm, "m").expect_err("bad scheme");
        assert!(e.to_string().contains("base_url"), "{e}");
    }

    #[test]
    fn debug_shows_no_key() {
        let c = client(Some("sk-very-secret"));
        assert!(!format!("{c:?}").contains("very-secret"));
    }

    #[test]
    fn vectors_read_arrays_of_numbers() {
        assert_eq!(
            vectors(&json!([[1.0, 2], [0.5, -1]])),
            Some(vec![vec![1.0, 2.0], vec![0.5, -1.0]])
        );
        assert_eq!(vectors(&json!([[1.0, "x"]])), None);
        assert_eq!(vectors(&json!({"a": 1})), None);
    }
}
