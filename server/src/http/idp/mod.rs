//! External identity providers (`[[auth.issuers]]`): checking their configuration at start and
//! verifying their tokens (RS256 or ES256, keys from a JWKS URL or a PEM public key), then
//! mapping the claims to a caller. See `docs/identity.md`.

pub mod claims;
pub mod discovery;
pub mod jwks;
pub mod keys;

use std::sync::Once;

use conversational_bi::{
    Error,
    config::{ClaimMapping, IssuerConfig},
};
use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use serde_json::{Map, Value};

use self::{discovery::WebClient, jwks::Jwks, keys::VerifyKey};
use super::auth::Caller;

/// The algorithms an external issuer may use.
pub const ALGORITHMS: [&str; 2] = ["RS256", "ES256"];

/// The largest accepted `leeway_secs`.
pub const MAX_LEEWAY_SECS: u64 = 300;

fn config_error(key: String, message: String) -> Error {
    Error::Config {
        message: format!("{key}: {message}"),
        key: Some(key),
        file: None,
        line: None,
    }
}

enum Keys {
    Pem(VerifyKey),
    Jwks(Jwks),
}

/// One external issuer: its checks and its keys.
pub struct Issuer {
    /// `auth.issuers[i]`, for errors.
    at: String,
    issuer: String,
    audience: String,
    algorithms: Vec<Algorithm>,
    leeway_secs: u64,
    claims: ClaimMapping,
    keys: Keys,
    /// The web app's sign-in with this provider, when `client_id` is set.
    web: Option<WebClient>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = match &self.keys {
            Keys::Pem(key) => format!("PEM {}", keys::algorithm_name(key.alg)),
            Keys::Jwks(set) => format!("JWKS {}", set.shown_url()),
        };
        f.debug_struct("Issuer")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("algorithms", &self.algorithms)
            .field("leeway_secs", &self.leeway_secs)
            .field("keys", &keys)
            .field("web", &self.web)
            .finish_non_exhaustive()
    }
}

/// The HTTP client of JWKS fetches (one for all issuers).
fn jwks_client() -> Result<reqwest::Client, Error> {
    static TLS: Once = Once::new();
    TLS.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .timeout(jwks::FETCH_TIMEOUT)
        .connect_timeout(jwks::FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| Error::internal(format!("cannot build the HTTP client of JWKS fetches: {e}")))
}

/// The one HTTP client of the issuers' fetches, made on first use.
fn shared_client(client: &mut Option<reqwest::Client>) -> Result<reqwest::Client, Error> {
    Ok(match client {
        Some(c) => c.clone(),
        None => client.insert(jwks_client()?).clone(),
    })
}

/// Whether `url` names this machine (plain HTTP is then acceptable).
fn is_loopback(url: &reqwest::Url) -> bool {
    url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

impl Issuer {
    /// Checks `auth.issuers[index]` and prepares its key (a PEM key) or its empty key set (a
    /// JWKS URL: [`Issuer::load`] fetches it). `builtin_issuer` is `[auth] issuer`, which an
    /// external issuer may not reuse.
    pub fn from_config(
        index: usize,
        config: &IssuerConfig,
        builtin_issuer: &str,
        client: &mut Option<reqwest::Client>,
    ) -> Result<Self, Error> {
        let at = format!("auth.issuers[{index}]");
        let key = |name: &str| format!("{at}.{name}");
        for (name, value) in [("issuer", &config.issuer), ("audience", &config.audience)] {
            if value.trim().is_empty() {
                return Err(config_error(key(name), "must not be empty".into()));
            }
        }
        if config.issuer == builtin_issuer {
            return Err(config_error(
                key("issuer"),
                format!(
                    "\"{}\" is the issuer of the built-in login tokens ([auth] issuer); an external issuer needs its own `iss`",
                    config.issuer
                ),
            ));
        }
        if config.algorithms.is_empty() {
            return Err(config_error(
                key("algorithms"),
                "must name RS256 and/or ES256 (default both)".into(),
            ));
        }
        let mut algorithms = Vec::new();
        for name in &config.algorithms {
            let alg = match name.as_str() {
                "RS256" => Algorithm::RS256,
                "ES256" => Algorithm::ES256,
                other => {
                    return Err(config_error(
                        key("algorithms"),
                        format!(
                            "unknown algorithm \"{other}\"; the algorithms are \"RS256\" and \"ES256\""
                        ),
                    ));
                }
            };
            if !algorithms.contains(&alg) {
                algorithms.push(alg);
            }
        }
        if config.leeway_secs > MAX_LEEWAY_SECS {
            return Err(config_error(
                key("leeway_secs"),
                format!(
                    "{} is more than {MAX_LEEWAY_SECS} seconds; the leeway only covers clock skew (default 60)",
                    config.leeway_secs
                ),
            ));
        }
        check_mapping(&config.claims, &key)?;
        let keys = match (&config.jwks_url, &config.public_key_pem) {
            (None, None) => {
                return Err(config_error(
                    key("jwks_url"),
                    "set jwks_url (where the issuer publishes its keys) or public_key_pem".into(),
                ));
            }
            (Some(_), Some(_)) => {
                return Err(config_error(
                    key("public_key_pem"),
                    "jwks_url and public_key_pem are both set; keep one".into(),
                ));
            }
            (None, Some(pem)) => {
                let pem_key = keys::from_pem(pem).map_err(|why| {
                    config_error(
                        key("public_key_pem"),
                        format!("not a usable public key: {why}"),
                    )
                })?;
                if !algorithms.contains(&pem_key.alg) {
                    return Err(config_error(
                        key("algorithms"),
                        format!(
                            "the public key verifies {} only, which algorithms does not list",
                            keys::algorithm_name(pem_key.alg)
                        ),
                    ));
                }
                Keys::Pem(pem_key)
            }
            (Some(url), None) => {
                let parsed = reqwest::Url::parse(url)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                    .ok_or_else(|| {
                        config_error(
                            key("jwks_url"),
                            "is not an http(s) URL, e.g. https://sso.example.com/realms/main/protocol/openid-connect/certs".into(),
                        )
                    })?;
                if parsed.scheme() == "http" && !is_loopback(&parsed) {
                    tracing::warn!(
                        target: "cbi_server::auth",
                        jwks_url = %jwks::shown_url(&parsed),
                        "{at}.jwks_url is plain HTTP: anyone on the network path can replace the issuer's keys; use https"
                    );
                }
                Keys::Jwks(Jwks::new(&parsed, shared_client(client)?))
            }
        };
        let web = WebClient::from_config(&at, config, client)?;
        Ok(Self {
            at,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            algorithms,
            leeway_secs: config.leeway_secs,
            claims: config.claims.clone(),
            keys,
            web,
        })
    }

    /// `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The web app's sign-in with this provider, when `client_id` is set.
    pub fn web(&self) -> Option<&WebClient> {
        self.web.as_ref()
    }

    /// Fetches the key set of a JWKS issuer (nothing for a PEM key) and, with `client_id`, the
    /// provider's OpenID configuration; a failure is a configuration error naming
    /// `auth.issuers[i].jwks_url` or `auth.issuers[i].discovery_url`.
    pub async fn load(&self) -> Result<(), Error> {
        if let Some(web) = &self.web {
            web.load().await?;
        }
        let Keys::Jwks(set) = &self.keys else {
            return Ok(());
        };
        let count = set.load().await.map_err(|why| {
            config_error(
                format!("{}.jwks_url", self.at),
                format!(
                    "cannot load the keys of issuer \"{}\" from {}: {why}",
                    self.issuer,
                    set.shown_url()
                ),
            )
        })?;
        tracing::info!(
            target: "cbi_server::auth",
            issuer = %self.issuer,
            jwks_url = %set.shown_url(),
            keys = count,
            "loaded the issuer's keys"
        );
        Ok(())
    }

    /// Verifies a token whose (unverified) `iss` is this issuer's and returns its caller, or
    /// the reason it is refused.
    pub async fn verify(&self, token: &str) -> Result<Caller, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| "the token is malformed")?;
        if !self.algorithms.contains(&header.alg) {
            return Err(format!(
                "the token is signed with {}; this issuer's tokens must be signed with {}",
                keys::algorithm_name(header.alg),
                self.algorithms
                    .iter()
                    .map(|a| keys::algorithm_name(*a))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
        let key = match &self.keys {
            Keys::Pem(key) => key.clone(),
            Keys::Jwks(set) => set
                .find(header.kid.as_deref(), header.alg)
                .await
                .ok_or(match header.kid {
                    Some(_) => "the token's signing key (kid) is not one of its issuer's keys",
                    None => "the token names no signing key (kid) and its issuer has no single key for its algorithm",
                })?,
        };
        if key.alg != header.alg {
            return Err(format!(
                "the token is signed with {}, but its signing key verifies {} only",
                keys::algorithm_name(header.alg),
                keys::algorithm_name(key.alg)
            ));
        }
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.leeway = self.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| refusal(&e))?;
        let mapped = claims::map(&data.claims, &self.claims, &self.issuer)?;
        Ok(Caller {
            user_id: mapped.user_id,
            tenant_id: mapped.tenant_id,
            roles: mapped.roles,
            attributes: mapped.attributes,
        })
    }
}

fn check_mapping(mapping: &ClaimMapping, key: &dyn Fn(&str) -> String) -> Result<(), Error> {
    for (name, value) in [
        ("claims.user", &mapping.user),
        ("claims.tenant", &mapping.tenant),
        ("claims.roles", &mapping.roles),
    ] {
        if value.trim().is_empty() {
            return Err(config_error(key(name), "must name a claim".into()));
        }
    }
    if mapping
        .default_tenant
        .as_deref()
        .is_some_and(|t| t.trim().is_empty())
    {
        return Err(config_error(
            key("claims.default_tenant"),
            "must not be empty (leave it out to refuse tokens without a tenant)".into(),
        ));
    }
    for (name, path) in &mapping.attributes {
        if name.trim().is_empty() || path.trim().is_empty() {
            return Err(config_error(
                key("claims.attributes"),
                "every attribute needs a name and a claim path, e.g. employee_id = \"employee_id\""
                    .into(),
            ));
        }
    }
    Ok(())
}

/// Why an external token was refused, in words for the client (never the token itself).
fn refusal(e: &jsonwebtoken::errors::Error) -> String {
    match e.kind() {
        ErrorKind::ExpiredSignature => {
            "the token has expired; get a new one from the identity provider".into()
        }
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidSignature | ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidRsaKey(_) => {
            "the token's signature is not valid".into()
        }
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "the token's algorithm is not accepted".into()
        }
        ErrorKind::InvalidIssuer => "the token was issued by another issuer".into(),
        ErrorKind::InvalidAudience => "the token is meant for another audience".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no `{claim}` claim"),
        ErrorKind::InvalidClaimFormat(claim) => format!("the token's `{claim}` claim is malformed"),
        _ => "the token is malformed".into(),
    }
}
