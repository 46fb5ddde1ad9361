//! `[access]` (data permissions per role), `[tenants.<id>]` (a database per tenant) and
//! `[[auth.issuers]]` (tokens of an external identity provider).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Secret;

/// `[access]`: what each role may read. Without roles, every principal reads what `[database]`
/// allows (the engine's behaviour before data permissions).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessConfig {
    /// The roles of a principal that names none (an embedded engine's default user, a command
    /// line ask). Default: none.
    pub default_roles: Vec<String>,
    /// The data roles, by name.
    pub roles: BTreeMap<String, RolePolicy>,
    /// The key of `hash` masks, from `CBI_MASK_KEY` only (never the file). Without it, a key is
    /// drawn at start: hashes then agree within one process but not across restarts or
    /// instances.
    #[serde(skip)]
    pub mask_key: Option<Secret>,
}

impl AccessConfig {
    /// Whether any role is configured (otherwise the engine enforces `[database]` alone).
    pub fn is_enabled(&self) -> bool {
        !self.roles.is_empty()
    }
}

/// `[access.roles.<name>]`: one role's tables, row filters and column rules.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolePolicy {
    /// The tables the role may read, as in the catalog (`"*"` for every table). Default
    /// `["*"]`.
    pub tables: Vec<String>,
    /// Row filters by table: a SQL predicate over the table's columns, with placeholders
    /// `{user.id}`, `{user.tenant}` and `{user.<attribute>}` bound from the principal as
    /// literals (e.g. `SupportRepId = {user.employee_id}`).
    pub row_filters: BTreeMap<String, String>,
    /// Column rules by `Table.Column`: `"deny"`, `"null"`, `"hash"` or `"text:<shown text>"`.
    pub columns: BTreeMap<String, String>,
}

impl Default for RolePolicy {
    fn default() -> Self {
        Self {
            tables: vec!["*".into()],
            row_filters: BTreeMap::new(),
            columns: BTreeMap::new(),
        }
    }
}

/// `[tenants.<id>]`: the database of one tenant.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant's database (same forms as `[database] url`).
    pub database_url: Secret,
    /// The tenant's pool size. Default: `[database] pool_size`.
    #[serde(default)]
    pub pool_size: Option<u32>,
}

impl std::fmt::Debug for TenantConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantConfig")
            .field(
                "database_url",
                &crate::error::redact_url(self.database_url.expose()),
            )
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// `[[auth.issuers]]`: an external identity provider whose tokens the server accepts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The `iss` the tokens carry, exactly.
    pub issuer: String,
    /// The `aud` the tokens must carry (one of them, when the claim is a list).
    pub audience: String,
    /// Where the issuer publishes its signing keys (JWKS). Fetched at start (the server does not
    /// start without it) and again when a token names a key id the set does not hold, at most
    /// once per few seconds. Exactly one of `jwks_url` and `public_key_pem` is set.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// A PEM public key (`BEGIN PUBLIC KEY` of RSA or EC P-256, or `BEGIN RSA PUBLIC KEY`)
    /// instead of a JWKS URL.
    #[serde(default)]
    pub public_key_pem: Option<String>,
    /// The signature algorithms accepted: `RS256` and/or `ES256`. Default both.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds, at most 300. Default `60`.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
    /// How claims become the principal.
    #[serde(default)]
    pub claims: ClaimMapping,
    /// The web app's client at this provider: a public client (authorization code with PKCE,
    /// no secret) whose redirect URI is the app's page. With it, the sign-in page offers
    /// "Sign in with `name`". Default: none (the provider's tokens still work over the API).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The provider's name on the sign-in button. Default: the issuer's host.
    #[serde(default)]
    pub name: Option<String>,
    /// Where the provider publishes its OpenID configuration (authorization and token
    /// endpoints), fetched at start when `client_id` is set. Default
    /// `{issuer}/.well-known/openid-configuration`.
    #[serde(default)]
    pub discovery_url: Option<String>,
    /// The scopes the web app asks for. Default `["openid", "profile"]`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Extra parameters of the authorization request, e.g. `{ audience = "..." }` where the
    /// provider chooses the access token's audience from one (Auth0).
    #[serde(default)]
    pub authorize_params: BTreeMap<String, String>,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into()]
}

fn default_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into()]
}

fn default_leeway() -> u64 {
    60
}

/// `[auth.issuers.claims]`: where the principal's parts are in a token. A path is a claim name
/// or a dotted path into nested claims (`realm_access.roles`); a claim whose name contains dots
/// (`https://example.com/roles`) is matched whole first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimMapping {
    /// The user id. Default `sub`.
    pub user: String,
    /// The tenant. Default `tenant_id`.
    pub tenant: String,
    /// The tenant of tokens without the tenant claim; without it such tokens are refused.
    pub default_tenant: Option<String>,
    /// The roles: a list of strings or one space-separated string. Default `roles`.
    pub roles: String,
    /// Attributes by name → claim path (e.g. `employee_id = "employee_id"`).
    pub attributes: BTreeMap<String, String>,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        Self {
            user: "sub".into(),
            tenant: "tenant_id".into(),
            default_tenant: None,
            roles: "roles".into(),
            attributes: BTreeMap::new(),
        }
    }
}
