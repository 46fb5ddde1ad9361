//! Authentication of the API. Two kinds of bearer tokens are accepted:
//!
//! - the built-in login's: users of `[auth] users` with argon2 password hashes log in and
//!   receive an HS256 JWT signed with `JWT_SECRET`. Verification pins HS256 and requires `exp`,
//!   `iat`, `iss`, `aud` and `sub`, with at most [`LEEWAY_SECS`] of clock leeway;
//! - those of external identity providers (`[[auth.issuers]]`, RS256 or ES256; see
//!   [`super::idp`]).
//!
//! A token goes by its (unverified) `iss` to the issuer of that name, and to the built-in
//! verifier otherwise; each verifier checks the signature with its own keys and algorithms only.
//! Every endpoint except `/health`, the login and the OpenAPI document needs `Authorization:
//! Bearer <token>`. The tenant of a request always comes from its token.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    time::{SystemTime, UNIX_EPOCH},
};

use argon2::{
    Algorithm as Argon2Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use axum::{extract::FromRequestParts, http::request::Parts};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use conversational_bi::{
    Config, Error,
    access::Principal,
    config::{AuthConfig, AuthUser},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AppState, error::ApiError, idp::Issuer};

/// Shortest accepted `JWT_SECRET`, in bytes (the HS256 key size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Clock leeway of `exp`, `nbf` and `iat` checks of built-in tokens, in seconds.
pub const LEEWAY_SECS: u64 = 30;

/// The role that may call the admin endpoints.
pub const ROLE_ADMIN: &str = "admin";
/// The role that may ask questions and read its own sessions.
pub const ROLE_ANALYST: &str = "analyst";

/// `aud`: one audience or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

/// The claims of a built-in login token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user name.
    pub sub: String,
    /// The tenant whose data and sessions the token gives access to.
    pub tenant_id: String,
    /// API roles (`analyst`, `admin`) and data roles of `[access.roles]`.
    pub roles: Vec<String>,
    /// The user's attributes (`[[auth.users]] attributes`); tokens issued before attributes
    /// existed have none.
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
    /// Issuer (`[auth] issuer`).
    pub iss: String,
    /// Audience (`[auth] audience`).
    pub aud: Audience,
}

/// The authenticated caller of a request, from its bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user id: the user name of a built-in token, the user claim (`sub` by default) of an
    /// external one.
    pub user_id: String,
    /// The caller's tenant.
    pub tenant_id: String,
    /// The caller's roles: API roles and data roles.
    pub roles: Vec<String>,
    /// The caller's attributes, which row filters read as `{user.<name>}`.
    pub attributes: BTreeMap<String, Value>,
}

impl Caller {
    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// The principal the engine asks as: this caller's user, tenant, roles and attributes.
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: Some(self.user_id.clone()).filter(|u| !u.is_empty()),
            tenant_id: Some(self.tenant_id.clone()),
            roles: self.roles.clone(),
            attributes: self.attributes.clone(),
        }
    }

    /// `Ok` when the caller holds one of `roles`, else 403.
    pub fn require_any(&self, roles: &[&str]) -> Result<(), ApiError> {
        if roles.iter().any(|r| self.has_role(r)) {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "this endpoint needs the role {}; the token of '{}' has {}",
            roles
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(" or "),
            self.user_id,
            if self.roles.is_empty() {
                "no role".to_string()
            } else {
                format!("roles {}", self.roles.join(", "))
            }
        )))
    }
}

struct User {
    password_hash: String,
    tenant_id: String,
    roles: Vec<String>,
    attributes: BTreeMap<String, Value>,
}

/// The built-in login's keys: HS256 with `JWT_SECRET`.
struct BuiltIn {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

/// Token issuing and checking, the users who may log in and the external issuers.
pub struct Auth {
    /// `None` when there is no `JWT_SECRET` (only external issuers are configured).
    builtin: Option<BuiltIn>,
    issuers: Vec<Issuer>,
    issuer: String,
    audience: String,
    ttl_secs: u64,
    users: HashMap<String, User>,
    /// Checked when the user name is unknown, so that a failed login costs the same either
    /// way: made at start with the parameters most users' hashes have.
    decoy_hash: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("builtin_login", &self.builtin.is_some())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl_secs", &self.ttl_secs)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("issuers", &self.issuers)
            .finish_non_exhaustive()
    }
}

fn config_error(key: &str, message: String) -> Error {
    Error::Config {
        message,
        key: Some(key.to_string()),
        file: None,
        line: None,
    }
}

const NO_SECRET: &str = "JWT_SECRET is not set: the API signs its login tokens with it. Set it in the environment (the runbook's /etc/heliosdb/conversational-bi.env) to a random value of at least 32 bytes, e.g. the output of `openssl rand -base64 48`";

impl BuiltIn {
    fn new(secret: &[u8], config: &AuthConfig) -> Result<Self, Error> {
        let key_error = |e: jsonwebtoken::errors::Error| {
            config_error("auth.jwt_secret", format!("JWT_SECRET is unusable: {e}"))
        };
        let encoding = EncodingKey::from_secret(secret).map_err(key_error)?;
        let decoding = DecodingKey::from_secret(secret).map_err(key_error)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        Ok(Self {
            encoding,
            decoding,
            validation,
        })
    }
}

impl Auth {
    /// Checks `[auth]` (with `JWT_SECRET`) and `[[auth.issuers]]`, and prepares the keys without
    /// any I/O: the key sets of JWKS issuers start empty and are fetched by [`Auth::load_keys`]
    /// (or, failing that, when the first token names a key). Refuses a secret shorter than
    /// [`MIN_SECRET_BYTES`], a missing secret when there are users or no external issuer, a
    /// password hash that is not an argon2 PHC string, a duplicate user name, an empty tenant,
    /// a role that is neither an API role nor a data role of `[access.roles]`, an attribute
    /// that is not a string, number, boolean or list of them, and a bad issuer.
    pub fn from_config(config: &Config) -> Result<Self, Error> {
        let auth = &config.auth;
        for (key, value) in [
            ("auth.issuer", &auth.issuer),
            ("auth.audience", &auth.audience),
        ] {
            if value.trim().is_empty() {
                return Err(config_error(key, format!("{key} must not be empty")));
            }
        }
        let mut client = None;
        let mut issuers: Vec<Issuer> = Vec::new();
        for (i, issuer) in auth.issuers.iter().enumerate() {
            let issuer = Issuer::from_config(i, issuer, &auth.issuer, &mut client)?;
            if issuers
                .iter()
                .any(|other| other.issuer() == issuer.issuer())
            {
                let key = format!("auth.issuers[{i}].issuer");
                return Err(config_error(
                    &key,
                    format!(
                        "{key}: \"{}\" appears twice in [[auth.issuers]]",
                        issuer.issuer()
                    ),
                ));
            }
            issuers.push(issuer);
        }
        let builtin = match &auth.jwt_secret {
            None if auth.users.is_empty() && !issuers.is_empty() => None,
            None if auth.users.is_empty() => {
                return Err(config_error(
                    "auth.jwt_secret",
                    format!(
                        "{NO_SECRET}; or accept the tokens of an identity provider with [[auth.issuers]] (docs/identity.md)"
                    ),
                ));
            }
            None => return Err(config_error("auth.jwt_secret", NO_SECRET.into())),
            Some(s) if s.expose().len() < MIN_SECRET_BYTES => {
                return Err(config_error(
                    "auth.jwt_secret",
                    format!(
                        "JWT_SECRET is {} bytes long; HS256 needs at least {MIN_SECRET_BYTES}. Use a random value, e.g. the output of `openssl rand -base64 48`",
                        s.expose().len()
                    ),
                ));
            }
            Some(s) => Some(BuiltIn::new(s.expose().as_bytes(), auth)?),
        };
        if auth.token_ttl_secs == 0 {
            return Err(config_error(
                "auth.token_ttl_secs",
                "auth.token_ttl_secs must be greater than 0 (default 3600)".into(),
            ));
        }
        let data_roles: BTreeSet<&str> = config.access.roles.keys().map(String::as_str).collect();
        let mut users = HashMap::new();
        for (i, user) in auth.users.iter().enumerate() {
            let (name, user) = check_user(i, user, &data_roles)?;
            if users.insert(name.clone(), user).is_some() {
                return Err(config_error(
                    "auth.users",
                    format!("auth.users: the user name '{name}' appears twice"),
                ));
            }
        }

        Ok(Self {
            builtin,
            issuers,
            issuer: auth.issuer.clone(),
            audience: auth.audience.clone(),
            ttl_secs: auth.token_ttl_secs,
            decoy_hash: decoy_hash(users.values().map(|u| u.password_hash.as_str()))?,
            users,
        })
    }

    /// Fetches the key set of every JWKS issuer. An issuer whose keys cannot be fetched, or
    /// whose set holds no usable key, is a configuration error naming its
    /// `auth.issuers[i].jwks_url`.
    pub async fn load_keys(&self) -> Result<(), Error> {
        for issuer in &self.issuers {
            issuer.load().await?;
        }
        Ok(())
    }

    /// [`Auth::from_config`] and [`Auth::load_keys`]: what `serve` does before it listens.
    pub async fn start(config: &Config) -> Result<Self, Error> {
        let auth = Self::from_config(config)?;
        auth.load_keys().await?;
        Ok(auth)
    }

    /// The lifetime of issued tokens, in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// Whether any user may log in.
    pub fn has_users(&self) -> bool {
        !self.users.is_empty()
    }

    /// Whether the built-in login is configured (`JWT_SECRET` is set).
    pub fn has_builtin_login(&self) -> bool {
        self.builtin.is_some()
    }

    /// The `iss` of the external issuers.
    pub fn issuers(&self) -> impl Iterator<Item = &str> {
        self.issuers.iter().map(Issuer::issuer)
    }

    /// The identity providers the web app offers to sign in with (issuers with a `client_id`
    /// whose OpenID configuration is known), in configuration order.
    pub async fn sign_in_providers(&self) -> Vec<super::idp::discovery::Provider> {
        let mut providers = Vec::new();
        for web in self.issuers.iter().filter_map(Issuer::web) {
            if let Some(provider) = web.provider().await {
                providers.push(provider);
            }
        }
        providers
    }

    /// The origins of the providers' token endpoints, which the page calls.
    pub fn sign_in_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = self
            .issuers
            .iter()
            .filter_map(Issuer::web)
            .filter_map(|web| web.token_origin())
            .collect();
        origins.sort();
        origins.dedup();
        origins
    }

    /// The caller a user of `[auth] users` signs in as, without a password check (for a
    /// one-time sign-in link the server issued itself).
    pub fn caller(&self, username: &str) -> Option<Caller> {
        self.users.get(username).map(|user| Caller {
            user_id: username.to_string(),
            tenant_id: user.tenant_id.clone(),
            roles: user.roles.clone(),
            attributes: user.attributes.clone(),
        })
    }

    /// Checks a user name and password (argon2, CPU-heavy: call from a blocking thread).
    /// Returns the caller on success.
    pub fn check_password(&self, username: &str, password: &str) -> Option<Caller> {
        match self.users.get(username) {
            Some(user) => verify_password(&user.password_hash, password).then(|| Caller {
                user_id: username.to_string(),
                tenant_id: user.tenant_id.clone(),
                roles: user.roles.clone(),
                attributes: user.attributes.clone(),
            }),
            None => {
                let _ = verify_password(&self.decoy_hash, password);
                None
            }
        }
    }

    /// Issues a built-in token for `caller`, valid for the configured lifetime from `now`
    /// (seconds since the epoch).
    pub fn issue(&self, caller: &Caller, now: u64) -> Result<String, ApiError> {
        let Some(builtin) = &self.builtin else {
            tracing::error!("a token was to be issued without JWT_SECRET");
            return Err(ApiError::internal());
        };
        let claims = Claims {
            sub: caller.user_id.clone(),
            tenant_id: caller.tenant_id.clone(),
            roles: caller.roles.clone(),
            attributes: caller.attributes.clone(),
            iat: now,
            exp: now + self.ttl_secs,
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &builtin.encoding).map_err(
            |e| {
                tracing::error!(error = %e, "cannot sign a token");
                ApiError::internal()
            },
        )
    }

    /// Verifies a token against the system clock and returns its caller, or the reason it is
    /// refused: by an external issuer when its unverified `iss` names one, by the built-in
    /// verifier otherwise.
    pub async fn verify(&self, token: &str) -> Result<Caller, String> {
        let iss = unverified_issuer(token)?;
        if let Some(iss) = &iss
            && let Some(issuer) = self.issuers.iter().find(|i| i.issuer() == iss)
        {
            return issuer.verify(token).await;
        }
        let not_accepted = "the token was issued by an issuer this server does not accept";
        match &self.builtin {
            Some(_) if iss.as_ref().is_some_and(|i| *i != self.issuer) => Err(not_accepted.into()),
            Some(builtin) => self.verify_builtin(builtin, token),
            None if iss.is_none() => Err("the token has no `iss` claim".into()),
            None => Err(not_accepted.into()),
        }
    }

    fn verify_builtin(&self, builtin: &BuiltIn, token: &str) -> Result<Caller, String> {
        let now = now_secs();
        let data = jsonwebtoken::decode::<Claims>(token, &builtin.decoding, &builtin.validation)
            .map_err(|e| refusal(&e))?;
        let claims = data.claims;
        if claims.iat > now + LEEWAY_SECS {
            return Err("the token was issued in the future; check the clocks".into());
        }
        if claims.tenant_id.trim().is_empty() {
            return Err("the token names no tenant".into());
        }
        Ok(Caller {
            user_id: claims.sub,
            tenant_id: claims.tenant_id,
            roles: claims.roles,
            attributes: claims.attributes,
        })
    }
}

/// The `iss` of a token, read without verification (only to choose the verifier). Refuses a
/// token that is not three dot-separated parts with a JSON header and payload, and an unsigned
/// one (`alg: none`).
fn unverified_issuer(token: &str) -> Result<Option<String>, String> {
    let malformed = || "the token is malformed".to_string();
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let json = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes).ok())
            .ok_or_else(malformed)
    };
    let header = json(header)?;
    if header
        .get("alg")
        .and_then(Value::as_str)
        .is_some_and(|alg| alg.eq_ignore_ascii_case("none"))
    {
        return Err("the token is unsigned (alg `none`), which is never accepted".into());
    }
    Ok(json(payload)?
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_string))
}

fn check_user(
    i: usize,
    user: &AuthUser,
    data_roles: &BTreeSet<&str>,
) -> Result<(String, User), Error> {
    let at = |what: String| {
        config_error(
            "auth.users",
            format!("auth.users[{i}] ('{}'): {what}", user.username),
        )
    };
    if user.username.trim().is_empty() {
        return Err(at("the user name is empty".into()));
    }
    if user.tenant_id.trim().is_empty() {
        return Err(at("tenant_id is empty".into()));
    }
    if let Some(role) = user.roles.iter().find(|r| {
        r.as_str() != ROLE_ADMIN && r.as_str() != ROLE_ANALYST && !data_roles.contains(r.as_str())
    }) {
        let known = [ROLE_ANALYST, ROLE_ADMIN]
            .into_iter()
            .chain(data_roles.iter().copied())
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(at(format!(
            "unknown role '{role}'; the roles are the API roles \"{ROLE_ANALYST}\" and \"{ROLE_ADMIN}\" and the data roles of [access.roles] (known: {known})"
        )));
    }
    for (name, value) in &user.attributes {
        let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
        let fits = match value {
            Value::Array(items) => items.iter().all(scalar),
            v => scalar(v),
        };
        if name.trim().is_empty() || !fits {
            return Err(at(format!(
                "attribute '{name}' must be a string, a number, a boolean or a list of them"
            )));
        }
    }
    let hash = user.password_hash.expose();
    match PasswordHash::new(hash) {
        Ok(parsed) if parsed.algorithm.as_str().starts_with("argon2") => {}
        _ => {
            return Err(at(
                "password_hash is not an argon2 hash; create one with `heliosdb-conversational-bi hash-password`".into(),
            ));
        }
    }
    Ok((
        user.username.clone(),
        User {
            password_hash: hash.to_string(),
            tenant_id: user.tenant_id.clone(),
            roles: user.roles.clone(),
            attributes: user.attributes.clone(),
        },
    ))
}

/// Hashes a password with argon2id and the default parameters into a PHC string.
pub fn hash_password(password: &str) -> Result<String, Error> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches the argon2 PHC string `hash` (its own parameters apply).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of a random password with the algorithm, version and parameters that most of
/// `hashes` share (the default ones when there is none), so that checking a password against it
/// costs what checking a user's does.
fn decoy_hash<'a>(hashes: impl Iterator<Item = &'a str>) -> Result<String, Error> {
    let mut counts: HashMap<(String, Option<u32>, String), usize> = HashMap::new();
    for hash in hashes {
        if let Ok(parsed) = PasswordHash::new(hash) {
            let shape = (
                parsed.algorithm.as_str().to_string(),
                parsed.version,
                parsed.params.to_string(),
            );
            *counts.entry(shape).or_default() += 1;
        }
    }
    let most = counts
        .into_iter()
        .max_by(|(a, n), (b, m)| n.cmp(m).then_with(|| b.cmp(a)))
        .map(|(shape, _)| shape);
    let password = uuid::Uuid::new_v4().to_string();
    let failed = |e: String| Error::internal(format!("cannot make the decoy password hash: {e}"));
    let Some((algorithm, version, params)) = most else {
        return hash_password(&password);
    };
    let algorithm =
        Argon2Algorithm::try_from(algorithm.as_str()).map_err(|e| failed(e.to_string()))?;
    let version = version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| failed(e.to_string()))?
        .unwrap_or_default();
    let params = params
        .parse::<argon2::password_hash::phc::ParamsString>()
        .map_err(|e| failed(e.to_string()))
        .and_then(|p| Params::try_from(&p).map_err(|e| failed(e.to_string())))?;
    let salt = uuid::Uuid::new_v4();
    Argon2::new(algorithm, version, params)
        .hash_password_with_salt(password.as_bytes(), salt.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| failed(e.to_string()))
}

/// Why a token was refused, in words for the client (never the token itself).
fn refusal(e: &jsonwebtoken::errors::Error) -> String {
    match e.kind() {
        ErrorKind::ExpiredSignature => {
            "the token has expired; log in again (POST /api/v1/auth/login)".into()
        }
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidSignature => "the token's signature is not valid".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "the token must be signed with HS256".into()
        }
        ErrorKind::InvalidIssuer => "the token was issued by another issuer".into(),
        ErrorKind::InvalidAudience => "the token is meant for another audience".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no `{claim}` claim"),
        ErrorKind::InvalidClaimFormat(claim) => format!("the token's `{claim}` claim is malformed"),
        ErrorKind::Json(_) => {
            "the token's claims are incomplete or malformed (sub, tenant_id, roles, iat, exp, iss and aud are required)".into()
        }
        _ => "the token is malformed".into(),
    }
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            let auth = state.auth();
            let from = match (auth.has_builtin_login(), auth.issuers.is_empty()) {
                (true, true) => "get a token from POST /api/v1/auth/login",
                (true, false) => {
                    "get a token from POST /api/v1/auth/login or from your identity provider"
                }
                (false, _) => "get a token from your identity provider",
            };
            return Err(ApiError::unauthorized(
                format!("this endpoint needs `Authorization: Bearer <token>`; {from}"),
                false,
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`", false)
            })?;
        state
            .auth()
            .verify(token)
            .await
            .map_err(|why| ApiError::unauthorized(why, true))
    }
}

#[cfg(test)]
mod tests {
    use conversational_bi::config::{RolePolicy, Secret};

    use super::*;

    fn config(secret: Option<&str>) -> Config {
        let mut c = Config::default();
        c.auth.jwt_secret = secret.map(Secret::new);
        c
    }

    fn user(name: &str, hash: &str, tenant: &str, roles: &[&str]) -> AuthUser {
        AuthUser {
            username: name.into(),
            password_hash: Secret::new(hash),
            tenant_id: tenant.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            attributes: Default::default(),
        }
    }

    #[test]
    fn a_missing_or_short_secret_is_refused_with_advice() {
        let e = Auth::from_config(&config(None)).expect_err("no secret");
        assert!(e.to_string().contains("JWT_SECRET is not set"), "{e}");
        assert!(e.to_string().contains("[[auth.issuers]]"), "{e}");
        let e = Auth::from_config(&config(Some("short"))).expect_err("short");
        assert!(e.to_string().contains("5 bytes"), "{e}");
        assert!(
            !e.to_string().contains("short"),
            "the secret is never shown: {e}"
        );
        Auth::from_config(&config(Some(&"k".repeat(32)))).expect("32 bytes are enough");
        let mut users_without_secret = config(None);
        users_without_secret.auth.users = vec![user(
            "ana",
            &hash_password("pw").expect("hash"),
            "acme",
            &[],
        )];
        let e = Auth::from_config(&users_without_secret).expect_err("users need the secret");
        assert!(e.to_string().contains("JWT_SECRET is not set"), "{e}");
    }

    #[test]
    fn bad_users_are_named() {
        let hash = hash_password("pw-for-tests").expect("hash");
        let mut with_attribute = user("ana", &hash, "acme", &[]);
        with_attribute
            .attributes
            .insert("employee_id".into(), serde_json::json!({ "id": 3 }));
        for (users, expected) in [
            (
                vec![user("ana", "plain-text", "acme", &[])],
                "not an argon2 hash",
            ),
            (vec![user("ana", &hash, "", &[])], "tenant_id is empty"),
            (
                vec![user("ana", &hash, "acme", &["root"])],
                "unknown role 'root'",
            ),
            (
                vec![user("ana", &hash, "acme", &["root"])],
                "known: \"analyst\", \"admin\", \"sales_rep\"",
            ),
            (vec![with_attribute], "attribute 'employee_id' must be"),
            (
                vec![
                    user("ana", &hash, "acme", &[]),
                    user("ana", &hash, "b", &[]),
                ],
                "appears twice",
            ),
        ] {
            let mut c = config(Some(&"k".repeat(40)));
            c.access
                .roles
                .insert("sales_rep".into(), RolePolicy::default());
            c.auth.users = users;
            let e = Auth::from_config(&c).expect_err(expected);
            assert!(e.to_string().contains(expected), "{e}");
        }
    }

    #[test]
    fn users_may_hold_data_roles_and_attributes() {
        let mut c = config(Some(&"k".repeat(40)));
        c.access
            .roles
            .insert("sales_rep".into(), RolePolicy::default());
        let mut ana = user(
            "ana",
            &hash_password("pw").expect("hash"),
            "acme",
            &["analyst", "sales_rep"],
        );
        ana.attributes
            .insert("employee_id".into(), serde_json::json!(3));
        ana.attributes
            .insert("regions".into(), serde_json::json!(["EU", "US"]));
        c.auth.users = vec![ana];
        let auth = Auth::from_config(&c).expect("auth");
        let caller = auth.check_password("ana", "pw").expect("logged in");
        assert_eq!(caller.roles, ["analyst", "sales_rep"]);
        assert_eq!(caller.attributes["employee_id"], 3);
        let principal = caller.principal();
        assert_eq!(principal.user_id.as_deref(), Some("ana"));
        assert_eq!(principal.tenant_id.as_deref(), Some("acme"));
        assert_eq!(principal.roles, caller.roles);
        assert_eq!(principal.attributes, caller.attributes);
    }

    #[tokio::test]
    async fn issued_tokens_verify_and_carry_the_claims() {
        let auth = Auth::from_config(&config(Some(&"k".repeat(40)))).expect("auth");
        let caller = Caller {
            user_id: "ana".into(),
            tenant_id: "acme".into(),
            roles: vec!["analyst".into()],
            attributes: BTreeMap::from([("employee_id".to_string(), serde_json::json!(3))]),
        };
        let now = now_secs();
        let token = auth.issue(&caller, now).expect("token");
        assert_eq!(auth.verify(&token).await, Ok(caller.clone()));
        let token = auth
            .issue(&caller, now - auth.ttl_secs() - LEEWAY_SECS - 5)
            .expect("signed");
        let e = auth
            .verify(&token)
            .await
            .expect_err("expired beyond the leeway");
        assert!(e.contains("expired"), "{e}");
        let within_leeway = auth
            .issue(&caller, now - auth.ttl_secs() - LEEWAY_SECS / 2)
            .expect("signed");
        assert!(
            auth.verify(&within_leeway).await.is_ok(),
            "within the leeway"
        );
        let token = auth.issue(&caller, now + LEEWAY_SECS + 60).expect("signed");
        let e = auth.verify(&token).await.expect_err("issued in the future");
        assert!(e.contains("future"), "{e}");
        let e = auth.verify("not-a-token").await.expect_err("garbage");
        assert_eq!(e, "the token is malformed");
    }

    #[tokio::test]
    async fn tokens_issued_before_attributes_existed_stay_valid() {
        let secret = "k".repeat(40);
        let auth = Auth::from_config(&config(Some(&secret))).expect("auth");
        let now = now_secs();
        let old = serde_json::json!({
            "sub": "ana", "tenant_id": "acme", "roles": ["analyst"],
            "iat": now, "exp": now + 60,
            "iss": "heliosdb-conversational-bi", "aud": "heliosdb-conversational-bi",
        });
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &old,
            &EncodingKey::from_secret(secret.as_bytes()).expect("key"),
        )
        .expect("sign");
        let caller = auth.verify(&token).await.expect("valid");
        assert!(caller.attributes.is_empty());
    }

    #[test]
    fn the_decoy_hash_has_the_parameters_most_users_have() {
        let with = |m: u32, t: u32| {
            let params = Params::new(m, t, 1, None).expect("params");
            Argon2::new(Argon2Algorithm::Argon2id, Version::V0x13, params)
                .hash_password_with_salt(b"pw", b"some-salt-of-tests")
                .expect("hash")
                .to_string()
        };
        let shape = |hash: &str| {
            let parsed = PasswordHash::new(hash).expect("PHC");
            (
                parsed.algorithm.as_str().to_string(),
                parsed.version,
                parsed.params.to_string(),
            )
        };
        let users = [with(1024, 1), with(2048, 3), with(2048, 3)];
        let decoy = decoy_hash(users.iter().map(String::as_str)).expect("decoy");
        assert_eq!(shape(&decoy), shape(&users[1]));
        assert_ne!(decoy, users[1], "a hash of its own");
        let default = decoy_hash(std::iter::empty()).expect("decoy");
        assert_eq!(
            shape(&default),
            shape(&hash_password("x").expect("hash")),
            "no user: the default parameters"
        );
    }

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "Correct horse"));
        assert!(!verify_password("not a hash", "correct horse"));
    }
}
