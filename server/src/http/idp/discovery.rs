//! Sign-in with an identity provider in the web app: the OpenID Connect authorization code flow
//! with PKCE, for a public client (no secret; the page trades the code for tokens itself).
//!
//! The server's part is small: it checks the client's settings (`client_id`, `name`,
//! `discovery_url`, `scopes`, `authorize_params` of `[[auth.issuers]]`), reads the provider's
//! authorization and token endpoints from its OpenID configuration at start, and lists them at
//! `GET /api/v1/auth/providers` for the page. The tokens the page gets are then checked like
//! any token of the issuer.

use std::{
    collections::BTreeMap,
    sync::RwLock,
    time::{Duration, Instant},
};

use conversational_bi::{Error, config::IssuerConfig};
use reqwest::Url;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::{config_error, is_loopback, jwks, shared_client};

/// The largest accepted OpenID configuration document.
pub const MAX_DISCOVERY_BYTES: usize = 1 << 20;
/// The longest `name` on the sign-in button, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// The shortest time between two fetches of a configuration that failed to load.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// The parameters of the authorization request the page sets itself, which
/// `authorize_params` may not replace.
pub const RESERVED_PARAMS: [&str; 10] = [
    "response_type",
    "response_mode",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "request",
];

/// What the page needs to start a sign-in with one provider.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Provider {
    /// The name on the sign-in button.
    pub name: String,
    /// The issuer (`iss`) of its tokens; the page checks an authorization response's `iss`
    /// against it.
    pub issuer: String,
    /// The web app's client id at the provider.
    pub client_id: String,
    /// Where the page sends the browser to sign in.
    pub authorization_endpoint: String,
    /// Where the page trades the authorization code (with its PKCE verifier) for tokens.
    pub token_endpoint: String,
    /// The scopes asked for, space-separated.
    pub scope: String,
    /// Extra parameters of the authorization request.
    pub params: BTreeMap<String, String>,
    /// `fragment` when the provider can return the code in the URL's fragment (which the
    /// browser never sends to a server or a proxy log); absent: in the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<String>,
    /// Where signing out ends the session at the provider too (OpenID Connect RP-initiated
    /// logout), when the provider has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
}

#[derive(Debug, Clone)]
struct Endpoints {
    authorization: Url,
    token: Url,
    /// Whether `response_modes_supported` lists `fragment`.
    fragment: bool,
    end_session: Option<Url>,
}

/// The web app's client at one issuer, and the provider's endpoints once read.
pub struct WebClient {
    at: String,
    issuer: String,
    client_id: String,
    name: String,
    discovery_url: Url,
    scope: String,
    params: BTreeMap<String, String>,
    client: reqwest::Client,
    endpoints: RwLock<Option<Endpoints>>,
    /// When a fetch last failed; held during a fetch, so that concurrent page loads wait for
    /// one fetch and a failing provider is asked at most once per [`RETRY_INTERVAL`].
    retry: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for WebClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebClient")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("discovery_url", &jwks::shown_url(&self.discovery_url))
            .field("loaded", &self.current().is_some())
            .finish_non_exhaustive()
    }
}

/// Why `url` may not be a sign-in URL, if it may not: it must be https (http only on this
/// machine), with a host, without user information or fragment.
fn check_url(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        "http" => {
            return Err(
                "is plain http: a sign-in over it can be read and changed on the network path; use https"
                    .into(),
            );
        }
        _ => return Err("is not an http(s) URL".into()),
    }
    if url.host().is_none() {
        return Err("has no host".into());
    }
    // The origin goes into the page's Content-Security-Policy: a host name that URL parsing
    // allows but DNS does not (`a.test;script-src`) must not add a directive to it.
    if !url
        .origin()
        .ascii_serialization()
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".-:/[]".contains(&b))
    {
        return Err("has a host name with characters a host name cannot have".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("carries user information".into());
    }
    if url.fragment().is_some() {
        return Err("has a fragment".into());
    }
    Ok(())
}

/// Whether `text` holds a control character or a bidirectional override (text shown to people
/// or sent in a URL must hold neither).
fn has_hidden_characters(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
}

impl WebClient {
    /// Checks the web sign-in settings of `auth.issuers[index]`; `None` without a `client_id`.
    pub fn from_config(
        at: &str,
        config: &IssuerConfig,
        client: &mut Option<reqwest::Client>,
    ) -> Result<Option<Self>, Error> {
        let key = |name: &str| format!("{at}.{name}");
        let Some(client_id) = &config.client_id else {
            for (name, set) in [
                ("name", config.name.is_some()),
                ("discovery_url", config.discovery_url.is_some()),
                ("authorize_params", !config.authorize_params.is_empty()),
            ] {
                if set {
                    return Err(config_error(
                        key(name),
                        "is a setting of the web app's sign-in, which needs client_id (the app's client at the provider)".into(),
                    ));
                }
            }
            return Ok(None);
        };
        if client_id.trim().is_empty() || has_hidden_characters(client_id) {
            return Err(config_error(
                key("client_id"),
                "must be the client id the provider gave the web app (not empty, no control characters)".into(),
            ));
        }
        let issuer_url = Url::parse(&config.issuer).ok();
        let name = match &config.name {
            Some(name) => {
                if name.trim().is_empty()
                    || name.chars().count() > MAX_NAME_CHARS
                    || has_hidden_characters(name)
                {
                    return Err(config_error(
                        key("name"),
                        format!(
                            "must be 1 to {MAX_NAME_CHARS} characters without control characters, e.g. \"Acme SSO\""
                        ),
                    ));
                }
                name.trim().to_string()
            }
            None => issuer_url
                .as_ref()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| config.issuer.clone()),
        };
        let discovery_text = match &config.discovery_url {
            Some(url) => url.clone(),
            None if issuer_url.is_some() => format!(
                "{}/.well-known/openid-configuration",
                config.issuer.trim_end_matches('/')
            ),
            None => {
                return Err(config_error(
                    key("discovery_url"),
                    format!(
                        "the issuer \"{}\" is not a URL, so its OpenID configuration cannot be found; set discovery_url",
                        config.issuer
                    ),
                ));
            }
        };
        let discovery_url = Url::parse(&discovery_text)
            .map_err(|_| "is not a URL".to_string())
            .and_then(|u| check_url(&u).map(|()| u))
            .map_err(|why| {
                config_error(
                    key("discovery_url"),
                    format!(
                        "{why}, e.g. https://sso.example.com/realms/main/.well-known/openid-configuration"
                    ),
                )
            })?;
        // RFC 6749 3.3: a scope is printable ASCII without space, `"` or `\`.
        if let Some(bad) = config.scopes.iter().find(|s| {
            s.is_empty()
                || !s
                    .bytes()
                    .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
        }) {
            return Err(config_error(
                key("scopes"),
                format!(
                    "{bad:?} is not a scope: one word of printable ASCII without quotes; list each scope on its own"
                ),
            ));
        }
        if !config.scopes.iter().any(|s| s == "openid") {
            return Err(config_error(
                key("scopes"),
                "must include \"openid\" (default [\"openid\", \"profile\"])".into(),
            ));
        }
        for (name, value) in &config.authorize_params {
            if RESERVED_PARAMS.contains(&name.as_str()) {
                return Err(config_error(
                    key("authorize_params"),
                    format!(
                        "`{name}` is set by the sign-in itself; authorize_params holds the provider's extra parameters only (e.g. audience)"
                    ),
                ));
            }
            if name.trim().is_empty() || has_hidden_characters(name) || has_hidden_characters(value)
            {
                return Err(config_error(
                    key("authorize_params"),
                    "every parameter needs a name, and neither may hold control characters".into(),
                ));
            }
        }
        Ok(Some(Self {
            at: at.to_string(),
            issuer: config.issuer.clone(),
            client_id: client_id.clone(),
            name,
            discovery_url,
            scope: config.scopes.join(" "),
            params: config.authorize_params.clone(),
            client: shared_client(client)?,
            endpoints: RwLock::new(None),
            retry: Mutex::new(None),
        }))
    }

    fn current(&self) -> Option<Endpoints> {
        self.endpoints
            .read()
            .map_or_else(|p| p.into_inner().clone(), |e| e.clone())
    }

    /// Reads the provider's endpoints from its OpenID configuration now; a failure is a
    /// configuration error naming `auth.issuers[i].discovery_url`.
    pub async fn load(&self) -> Result<(), Error> {
        let endpoints = self.fetch().await.map_err(|why| {
            config_error(
                format!("{}.discovery_url", self.at),
                format!(
                    "cannot read the OpenID configuration of issuer \"{}\" at {}: {why}",
                    self.issuer,
                    jwks::shown_url(&self.discovery_url)
                ),
            )
        })?;
        tracing::info!(
            target: "cbi_server::auth",
            issuer = %self.issuer,
            authorization_endpoint = %jwks::shown_url(&endpoints.authorization),
            token_endpoint = %jwks::shown_url(&endpoints.token),
            "read the issuer's OpenID configuration: the web app offers its sign-in"
        );
        *self.endpoints.write().unwrap_or_else(|p| p.into_inner()) = Some(endpoints);
        Ok(())
    }

    /// What the page needs to sign in, once the endpoints are known. When they are not (the
    /// fetch at start was skipped or failed), fetches them, at most once per
    /// [`RETRY_INTERVAL`].
    pub async fn provider(&self) -> Option<Provider> {
        if self.current().is_none() {
            let mut last = self.retry.lock().await;
            if self.current().is_none()
                && !last.is_some_and(|at| at.elapsed() < RETRY_INTERVAL)
                && let Err(e) = self.load().await
            {
                *last = Some(Instant::now());
                tracing::warn!(target: "cbi_server::auth", error = %e, "the web app cannot offer this issuer's sign-in yet");
            }
        }
        let endpoints = self.current()?;
        Some(Provider {
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            authorization_endpoint: endpoints.authorization.to_string(),
            token_endpoint: endpoints.token.to_string(),
            scope: self.scope.clone(),
            params: self.params.clone(),
            response_mode: endpoints.fragment.then(|| "fragment".to_string()),
            end_session_endpoint: endpoints.end_session.map(|u| u.to_string()),
        })
    }

    /// The origin the page calls to trade codes for tokens (for its `connect-src`), once known.
    pub fn token_origin(&self) -> Option<String> {
        self.current()
            .map(|e| e.token.origin().ascii_serialization())
    }

    async fn fetch(&self) -> Result<Endpoints, String> {
        let body = jwks::get_bounded(
            &self.client,
            self.discovery_url.as_str(),
            MAX_DISCOVERY_BYTES,
        )
        .await?;
        let doc: Value =
            serde_json::from_slice(&body).map_err(|e| format!("the document is not JSON ({e})"))?;
        if !doc.is_object() {
            return Err("the document is not a JSON object".into());
        }
        match doc.get("issuer").and_then(Value::as_str) {
            Some(issuer) if issuer == self.issuer => {}
            Some(issuer) => {
                return Err(format!(
                    "it names the issuer {issuer:?}, not {:?}: it is another provider's (or another realm's) configuration, or `issuer` differs from the tokens' `iss`",
                    self.issuer
                ));
            }
            None => return Err("it names no `issuer`".into()),
        }
        for (field, needed) in [
            ("response_types_supported", "code"),
            ("code_challenge_methods_supported", "S256"),
            ("grant_types_supported", "authorization_code"),
        ] {
            if let Some(list) = doc.get(field).and_then(Value::as_array)
                && !list.iter().any(|v| v.as_str() == Some(needed))
            {
                return Err(format!(
                    "its `{field}` lacks \"{needed}\", which the web app's sign-in (authorization code with PKCE) needs"
                ));
            }
        }
        let endpoint = |field: &str| -> Result<Url, String> {
            let text = doc
                .get(field)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("it has no `{field}`"))?;
            let url = Url::parse(text).map_err(|_| format!("its `{field}` is not a URL"))?;
            check_url(&url).map_err(|why| format!("its `{field}` {why}"))?;
            Ok(url)
        };
        let fragment = doc
            .get("response_modes_supported")
            .and_then(Value::as_array)
            .is_some_and(|modes| modes.iter().any(|m| m.as_str() == Some("fragment")));
        let end_session = match doc.get("end_session_endpoint") {
            None | Some(Value::Null) => None,
            Some(_) => Some(endpoint("end_session_endpoint")?),
        };
        Ok(Endpoints {
            authorization: endpoint("authorization_endpoint")?,
            token: endpoint("token_endpoint")?,
            fragment,
            end_session,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_urls_are_https_or_on_this_machine() {
        let ok = |u: &str| check_url(&Url::parse(u).expect("url"));
        assert!(ok("https://sso.example.com/auth").is_ok());
        assert!(ok("http://127.0.0.1:8081/auth").is_ok());
        assert!(ok("http://localhost/auth").is_ok());
        assert!(ok("http://[::1]:9/auth").is_ok());
        assert!(ok("http://sso.example.com/auth").is_err_and(|e| e.contains("plain http")));
        assert!(ok("javascript:alert(1)").is_err_and(|e| e.contains("not an http(s)")));
        assert!(ok("data:text/html,x").is_err());
        assert!(ok("https://user:pw@sso.example.com/").is_err_and(|e| e.contains("user")));
        assert!(ok("https://sso.example.com/auth#x").is_err_and(|e| e.contains("fragment")));
        // The URL parser takes these hosts; the check refuses them.
        for hostile in [
            "https://a.test;script-src/token",
            "https://a.test,b.test/token",
            "https://a.test'/token",
        ] {
            let url = Url::parse(hostile).expect(hostile);
            assert!(
                check_url(&url).is_err_and(|e| e.contains("host name")),
                "{hostile}"
            );
        }
        assert!(
            ok("https://xn--bcher-kva.example/token").is_ok(),
            "IDN in punycode"
        );
    }

    #[test]
    fn hidden_characters_are_found() {
        assert!(!has_hidden_characters("Acme SSO"));
        assert!(has_hidden_characters("Acme\nSSO"));
        assert!(has_hidden_characters("Acme \u{202e}OSS"));
        assert!(has_hidden_characters("x\u{2066}"));
    }
}
