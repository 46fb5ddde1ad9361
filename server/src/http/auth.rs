//! Authentication of the API: users of `[auth] users` with argon2 password hashes log in and
//! receive an HS256 JWT signed with `JWT_SECRET`; every other endpoint (except `/health` and the
//! OpenAPI document) needs `Authorization: Bearer <token>`.
//!
//! Verification pins HS256 and requires `exp`, `iat`, `iss`, `aud` and `sub`, with at most
//! [`LEEWAY_SECS`] of clock leeway. The tenant of a request always comes from its token.

use std::{
    collections::HashMap,
    time::{SystemTime, UNIX_EPOCH},
};

use argon2::{
    Algorithm as Argon2Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use axum::{extract::FromRequestParts, http::request::Parts};
use conversational_bi::{
    Error,
    config::{AuthConfig, AuthUser},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use super::{AppState, error::ApiError};

/// Shortest accepted `JWT_SECRET`, in bytes (the HS256 key size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Clock leeway of `exp`, `nbf` and `iat` checks, in seconds.
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

/// The claims of an API token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user name.
    pub sub: String,
    /// The tenant whose data and sessions the token gives access to.
    pub tenant_id: String,
    /// `analyst` and/or `admin`.
    pub roles: Vec<String>,
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
    /// The user name (`sub`).
    pub username: String,
    /// The caller's tenant.
    pub tenant_id: String,
    /// The caller's roles.
    pub roles: Vec<String>,
}

impl Caller {
    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
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
            self.username,
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
}

/// Token issuing and checking, and the users who may log in.
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
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
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl_secs", &self.ttl_secs)
            .field("users", &self.users.keys().collect::<Vec<_>>())
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

impl Auth {
    /// Checks `[auth]` and `JWT_SECRET` and prepares the keys. Refuses a missing secret, a
    /// secret shorter than [`MIN_SECRET_BYTES`], a password hash that is not an argon2 PHC
    /// string, a duplicate user name, an empty tenant and an unknown role.
    pub fn from_config(config: &AuthConfig) -> Result<Self, Error> {
        let secret = match &config.jwt_secret {
            None => {
                return Err(config_error(
                    "auth.jwt_secret",
                    "JWT_SECRET is not set: the API signs its login tokens with it. Set it in the environment (the runbook's /etc/heliosdb/conversational-bi.env) to a random value of at least 32 bytes, e.g. the output of `openssl rand -base64 48`".into(),
                ));
            }
            Some(s) if s.expose().len() < MIN_SECRET_BYTES => {
                return Err(config_error(
                    "auth.jwt_secret",
                    format!(
                        "JWT_SECRET is {} bytes long; HS256 needs at least {MIN_SECRET_BYTES}. Use a random value, e.g. the output of `openssl rand -base64 48`",
                        s.expose().len()
                    ),
                ));
            }
            Some(s) => s.expose().as_bytes(),
        };
        let key_error = |e: jsonwebtoken::errors::Error| {
            config_error("auth.jwt_secret", format!("JWT_SECRET is unusable: {e}"))
        };
        let encoding = EncodingKey::from_secret(secret).map_err(key_error)?;
        let decoding = DecodingKey::from_secret(secret).map_err(key_error)?;
        for (key, value) in [
            ("auth.issuer", &config.issuer),
            ("auth.audience", &config.audience),
        ] {
            if value.trim().is_empty() {
                return Err(config_error(key, format!("{key} must not be empty")));
            }
        }
        if config.token_ttl_secs == 0 {
            return Err(config_error(
                "auth.token_ttl_secs",
                "auth.token_ttl_secs must be greater than 0 (default 3600)".into(),
            ));
        }
        let mut users = HashMap::new();
        for (i, user) in config.users.iter().enumerate() {
            let (name, user) = check_user(i, user)?;
            if users.insert(name.clone(), user).is_some() {
                return Err(config_error(
                    "auth.users",
                    format!("auth.users: the user name '{name}' appears twice"),
                ));
            }
        }

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
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            ttl_secs: config.token_ttl_secs,
            decoy_hash: decoy_hash(users.values().map(|u| u.password_hash.as_str()))?,
            users,
        })
    }

    /// The lifetime of issued tokens, in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// Whether any user may log in.
    pub fn has_users(&self) -> bool {
        !self.users.is_empty()
    }

    /// Checks a user name and password (argon2, CPU-heavy: call from a blocking thread).
    /// Returns the caller on success.
    pub fn check_password(&self, username: &str, password: &str) -> Option<Caller> {
        match self.users.get(username) {
            Some(user) => verify_password(&user.password_hash, password).then(|| Caller {
                username: username.to_string(),
                tenant_id: user.tenant_id.clone(),
                roles: user.roles.clone(),
            }),
            None => {
                let _ = verify_password(&self.decoy_hash, password);
                None
            }
        }
    }

    /// Issues a token for `caller`, valid for the configured lifetime from `now` (seconds since
    /// the epoch).
    pub fn issue(&self, caller: &Caller, now: u64) -> Result<String, ApiError> {
        let claims = Claims {
            sub: caller.username.clone(),
            tenant_id: caller.tenant_id.clone(),
            roles: caller.roles.clone(),
            iat: now,
            exp: now + self.ttl_secs,
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "cannot sign a token");
            ApiError::internal()
        })
    }

    /// Verifies a token against the system clock and returns its caller, or the reason it is
    /// refused.
    pub fn verify(&self, token: &str) -> Result<Caller, String> {
        let now = now_secs();
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| refusal(&e))?;
        let claims = data.claims;
        if claims.iat > now + LEEWAY_SECS {
            return Err("the token was issued in the future; check the clocks".into());
        }
        if claims.tenant_id.trim().is_empty() {
            return Err("the token names no tenant".into());
        }
        Ok(Caller {
            username: claims.sub,
            tenant_id: claims.tenant_id,
            roles: claims.roles,
        })
    }
}

fn check_user(i: usize, user: &AuthUser) -> Result<(String, User), Error> {
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
    if let Some(role) = user
        .roles
        .iter()
        .find(|r| r.as_str() != ROLE_ADMIN && r.as_str() != ROLE_ANALYST)
    {
        return Err(at(format!(
            "unknown role '{role}'; the roles are \"{ROLE_ANALYST}\" and \"{ROLE_ADMIN}\""
        )));
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
            return Err(ApiError::unauthorized(
                "this endpoint needs `Authorization: Bearer <token>`; get a token from POST /api/v1/auth/login",
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
            .map_err(|why| ApiError::unauthorized(why, true))
    }
}

#[cfg(test)]
mod tests {
    use conversational_bi::config::Secret;

    use super::*;

    fn config(secret: Option<&str>) -> AuthConfig {
        AuthConfig {
            jwt_secret: secret.map(Secret::new),
            ..AuthConfig::default()
        }
    }

    #[test]
    fn a_missing_or_short_secret_is_refused_with_advice() {
        let e = Auth::from_config(&config(None)).expect_err("no secret");
        assert!(e.to_string().contains("JWT_SECRET is not set"), "{e}");
        let e = Auth::from_config(&config(Some("short"))).expect_err("short");
        assert!(e.to_string().contains("5 bytes"), "{e}");
        assert!(
            !e.to_string().contains("short"),
            "the secret is never shown: {e}"
        );
        Auth::from_config(&config(Some(&"k".repeat(32)))).expect("32 bytes are enough");
    }

    #[test]
    fn bad_users_are_named() {
        let hash = hash_password("pw-for-tests").expect("hash");
        let user = |name: &str, hash: &str, tenant: &str, roles: &[&str]| AuthUser {
            username: name.into(),
            password_hash: Secret::new(hash),
            tenant_id: tenant.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            attributes: Default::default(),
        };
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
                vec![
                    user("ana", &hash, "acme", &[]),
                    user("ana", &hash, "b", &[]),
                ],
                "appears twice",
            ),
        ] {
            let mut c = config(Some(&"k".repeat(40)));
            c.users = users;
            let e = Auth::from_config(&c).expect_err(expected);
            assert!(e.to_string().contains(expected), "{e}");
        }
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_claims() {
        let auth = Auth::from_config(&config(Some(&"k".repeat(40)))).expect("auth");
        let caller = Caller {
            username: "ana".into(),
            tenant_id: "acme".into(),
            roles: vec!["analyst".into()],
        };
        let now = now_secs();
        let token = auth.issue(&caller, now).expect("token");
        assert_eq!(auth.verify(&token), Ok(caller.clone()));
        let e = auth
            .issue(&caller, now - auth.ttl_secs() - LEEWAY_SECS - 5)
            .map(|t| auth.verify(&t))
            .expect("signed")
            .expect_err("expired beyond the leeway");
        assert!(e.contains("expired"), "{e}");
        let within_leeway = auth
            .issue(&caller, now - auth.ttl_secs() - LEEWAY_SECS / 2)
            .expect("signed");
        assert!(auth.verify(&within_leeway).is_ok(), "within the leeway");
        let e = auth
            .issue(&caller, now + LEEWAY_SECS + 60)
            .map(|t| auth.verify(&t))
            .expect("signed")
            .expect_err("issued in the future");
        assert!(e.contains("future"), "{e}");
        let e = auth.verify("not-a-token").expect_err("garbage");
        assert_eq!(e, "the token is malformed");
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
