//! A loopback identity provider: the test-only keys of `tests/fixtures/idp/`, the tokens they
//! sign, and a JWKS endpoint on 127.0.0.1 (on a thread of its own, so that it answers while a
//! test blocks) that counts its fetches.

use std::{
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Json, Router, extract::State, routing::get};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use conversational_bi::{Config, Error, config::IssuerConfig};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use serde_json::{Value, json};

/// `iss` of the loopback issuer.
pub const ISSUER: &str = "https://idp.test/realms/main";
/// `aud` the loopback issuer's tokens are for.
pub const AUDIENCE: &str = "conversational-bi";

/// The text of a fixture file.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/idp")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bytes of the PEM block of `text`.
fn der(text: &str) -> Vec<u8> {
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("base64")
}

/// A signing key of the loopback issuer.
pub struct TestKey {
    /// The key id its tokens and its JWK carry.
    pub kid: String,
    /// RS256 or ES256.
    pub alg: Algorithm,
    encoding: EncodingKey,
    /// The fixture's name (`rsa-a`, `ec-a`, ...).
    pub name: String,
}

impl TestKey {
    /// The RSA fixture `name` (`rsa-a`, `rsa-b`) under `kid`.
    pub fn rsa(name: &str, kid: &str) -> Self {
        Self {
            kid: kid.into(),
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_der(&der(&fixture(&format!("{name}.key.pem")))),
            name: name.into(),
        }
    }

    /// The EC P-256 fixture `name` (`ec-a`, `ec-b`) under `kid`.
    pub fn ec(name: &str, kid: &str) -> Self {
        Self {
            kid: kid.into(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(&der(&fixture(&format!("{name}.key.pem")))),
            name: name.into(),
        }
    }

    /// The same key under another id.
    pub fn with_kid(&self, kid: &str) -> Self {
        let mut key = match self.alg {
            Algorithm::RS256 => Self::rsa(&self.name, kid),
            _ => Self::ec(&self.name, kid),
        };
        key.kid = kid.into();
        key
    }

    /// The public key in PEM form (SubjectPublicKeyInfo).
    pub fn public_pem(&self) -> String {
        fixture(&format!("{}.pub.pem", self.name))
    }

    /// The public JWK, with `kid`, `use` and `alg`.
    pub fn jwk(&self) -> Value {
        let jwk = Jwk::from_encoding_key(&self.encoding, self.alg).expect("jwk");
        let mut value = serde_json::to_value(jwk).expect("json");
        value["kid"] = json!(self.kid);
        value["use"] = json!("sig");
        value
    }

    /// `claims` signed with this key, the header naming its algorithm and id.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        self.sign_with(header, claims)
    }

    /// `claims` signed with this key under `header`.
    pub fn sign_with(&self, header: Header, claims: &Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

/// The test configuration (built-in users included) with `issuers`.
pub fn with_issuers(issuers: Vec<IssuerConfig>) -> Config {
    let mut c = super::config();
    c.auth.issuers = issuers;
    c
}

/// Asserts that `e` is a configuration error of `key` whose message contains `says`.
pub fn assert_config_error(e: &Error, key: &str, says: &str) {
    match e {
        Error::Config {
            key: found,
            message,
            ..
        } => {
            assert_eq!(found.as_deref(), Some(key), "{message}");
            assert!(message.contains(says), "{says:?} not in {message:?}");
        }
        other => panic!("not a configuration error: {other:?}"),
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Good claims of the loopback issuer for `sub` in `tenant`, role `analyst`, valid 10 minutes.
pub fn claims(sub: &str, tenant: &str) -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "tenant_id": tenant,
        "roles": ["analyst"],
        "iat": now,
        "exp": now + 600,
    })
}

/// `[[auth.issuers]]` of the loopback issuer with `extra` TOML lines (the key source among
/// them: `jwks_url = ...` or `public_key_pem = ...`).
pub fn issuer_config(extra: &str) -> IssuerConfig {
    toml::from_str(&format!(
        "issuer = \"{ISSUER}\"\naudience = \"{AUDIENCE}\"\n{extra}"
    ))
    .expect("issuer config")
}

#[derive(Clone, Default)]
struct Published {
    keys: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
    delay: Arc<Mutex<Duration>>,
    /// The OpenID configuration document, as served (any JSON, or any text).
    discovery: Arc<Mutex<String>>,
    discovery_fetches: Arc<AtomicUsize>,
}

async fn discovery(
    State(published): State<Published>,
) -> ([(&'static str, &'static str); 1], String) {
    published.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    let doc = published.discovery.lock().expect("lock").clone();
    ([("content-type", "application/json")], doc)
}

async fn jwks(State(published): State<Published>) -> Json<Value> {
    published.fetches.fetch_add(1, Ordering::SeqCst);
    let delay = *published.delay.lock().expect("lock");
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let keys = published.keys.lock().expect("lock").clone();
    Json(json!({ "keys": keys }))
}

/// A running loopback JWKS endpoint.
pub struct LoopbackIdp {
    /// `http://127.0.0.1:PORT/jwks`.
    pub jwks_url: String,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    published: Published,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for LoopbackIdp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl LoopbackIdp {
    /// Publishes the JWKs of `keys` on an ephemeral loopback port.
    pub fn start(keys: &[&TestKey]) -> Self {
        let published = Published::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new()
            .route("/jwks", get(jwks))
            .route("/.well-known/openid-configuration", get(discovery))
            .with_state(published.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        let idp = Self {
            jwks_url: format!("http://{addr}/jwks"),
            base: format!("http://{addr}"),
            published,
            stop: Some(stop),
            thread: Some(thread),
        };
        idp.publish(keys);
        idp.publish_discovery(&idp.discovery_document());
        idp
    }

    /// A good OpenID configuration of the loopback issuer: its endpoints on this server.
    pub fn discovery_document(&self) -> Value {
        json!({
            "issuer": ISSUER,
            "authorization_endpoint": format!("{}/authorize", self.base),
            "token_endpoint": format!("{}/token", self.base),
            "end_session_endpoint": format!("{}/logout", self.base),
            "jwks_uri": self.jwks_url,
            "response_types_supported": ["code", "id_token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        })
    }

    /// Serves `doc` as the OpenID configuration.
    pub fn publish_discovery(&self, doc: &Value) {
        self.publish_discovery_text(doc.to_string());
    }

    /// Serves `text` as the OpenID configuration, whatever it is.
    pub fn publish_discovery_text(&self, text: String) {
        *self.published.discovery.lock().expect("lock") = text;
    }

    /// How many times the OpenID configuration was fetched.
    pub fn discovery_fetches(&self) -> usize {
        self.published.discovery_fetches.load(Ordering::SeqCst)
    }

    /// `[[auth.issuers]]` of this endpoint with the web app's client `cbi-web` and its
    /// OpenID configuration here, with `extra` TOML lines.
    pub fn web_issuer(&self, extra: &str) -> IssuerConfig {
        self.issuer(&format!(
            "client_id = \"cbi-web\"\ndiscovery_url = \"{}/.well-known/openid-configuration\"\n{extra}",
            self.base
        ))
    }

    /// Publishes the JWKs of `keys` instead of the current ones.
    pub fn publish(&self, keys: &[&TestKey]) {
        *self.published.keys.lock().expect("lock") = keys.iter().map(|k| k.jwk()).collect();
    }

    /// Publishes `jwks` as they are.
    pub fn publish_raw(&self, jwks: Vec<Value>) {
        *self.published.keys.lock().expect("lock") = jwks;
    }

    /// Makes every fetch take `delay`.
    pub fn set_delay(&self, delay: Duration) {
        *self.published.delay.lock().expect("lock") = delay;
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.published.fetches.load(Ordering::SeqCst)
    }

    /// `[[auth.issuers]]` of this endpoint, with `extra` TOML lines.
    pub fn issuer(&self, extra: &str) -> IssuerConfig {
        issuer_config(&format!("jwks_url = \"{}\"\n{extra}", self.jwks_url))
    }
}
