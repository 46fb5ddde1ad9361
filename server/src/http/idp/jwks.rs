//! The key set of an issuer published at a JWKS URL: fetched at start, and again when a token
//! names a key the set lacks, at most once per [`REFRESH_INTERVAL`] (a stream of tokens with
//! made-up key ids cannot make the server hammer the identity provider), with concurrent misses
//! waiting for one fetch.

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::Algorithm;
use tokio::sync::Mutex;

use super::keys::{self, VerifyKey};

/// The shortest time between two fetches caused by unknown key ids.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(5);
/// How long a fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest accepted JWKS document.
pub const MAX_JWKS_BYTES: usize = 1 << 20;

#[derive(Debug, Default)]
struct KeySet {
    /// Counts successful fetches, so that a waiting miss sees whether the set changed.
    generation: u64,
    keys: Vec<VerifyKey>,
}

impl KeySet {
    /// The key for a token with `kid` (or without) signed with `alg`: the key of that id, or,
    /// for a token without `kid`, the only key of the algorithm.
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<VerifyKey> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .cloned(),
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.alg == alg);
                match (fitting.next(), fitting.next()) {
                    (Some(only), None) => Some(only.clone()),
                    _ => None,
                }
            }
        }
    }
}

/// The keys at one JWKS URL.
pub struct Jwks {
    url: String,
    /// The URL as logs and errors show it (without user information or query).
    shown_url: String,
    client: reqwest::Client,
    set: RwLock<Arc<KeySet>>,
    /// When a miss last caused a fetch; held during that fetch.
    refresh: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.shown_url)
            .field("keys", &self.current().keys.len())
            .finish_non_exhaustive()
    }
}

/// `scheme://host[:port]/path` of `url`: no user information, query or fragment.
pub fn shown_url(url: &reqwest::Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
}

impl Jwks {
    /// An empty set for `url` (already checked to be an http(s) URL).
    pub fn new(url: &reqwest::Url, client: reqwest::Client) -> Self {
        Self {
            url: url.to_string(),
            shown_url: shown_url(url),
            client,
            set: RwLock::new(Arc::new(KeySet::default())),
            refresh: Mutex::new(None),
        }
    }

    /// The URL as logs show it.
    pub fn shown_url(&self) -> &str {
        &self.shown_url
    }

    fn current(&self) -> Arc<KeySet> {
        self.set
            .read()
            .map_or_else(|p| p.into_inner().clone(), |s| s.clone())
    }

    fn replace(&self, keys: Vec<VerifyKey>) {
        let mut set = self.set.write().unwrap_or_else(|p| p.into_inner());
        let generation = set.generation + 1;
        *set = Arc::new(KeySet { generation, keys });
    }

    /// Fetches the set now and keeps it; the error says why not (never a key).
    pub async fn load(&self) -> Result<usize, String> {
        let keys = self.fetch().await?;
        let count = keys.len();
        self.replace(keys);
        Ok(count)
    }

    /// The key for a token's `kid` and `alg`; on a miss, fetches the set again unless a miss
    /// fetched it less than [`REFRESH_INTERVAL`] ago, and looks again.
    pub async fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<VerifyKey> {
        let seen = self.current();
        if let Some(key) = seen.find(kid, alg) {
            return Some(key);
        }
        let mut last = self.refresh.lock().await;
        let now = self.current();
        if now.generation != seen.generation {
            // Another miss fetched the set while this one waited.
            return now.find(kid, alg);
        }
        if last.is_some_and(|at| at.elapsed() < REFRESH_INTERVAL) {
            return None;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(
                    target: "cbi_server::auth",
                    jwks_url = %self.shown_url,
                    keys = keys.len(),
                    "fetched the issuer's keys again: a token named a key the set lacked"
                );
                self.replace(keys);
            }
            Err(why) => tracing::warn!(
                target: "cbi_server::auth",
                jwks_url = %self.shown_url,
                error = %why,
                "cannot fetch the issuer's keys again; the known keys stay"
            ),
        }
        drop(last);
        self.current().find(kid, alg)
    }

    async fn fetch(&self) -> Result<Vec<VerifyKey>, String> {
        let body = get_bounded(&self.client, &self.url, MAX_JWKS_BYTES).await?;
        let (keys, skipped) = keys::from_jwks(&body)?;
        for why in &skipped {
            tracing::debug!(target: "cbi_server::auth", jwks_url = %self.shown_url, key = %why, "JWK not used");
        }
        if keys.is_empty() {
            return Err(format!(
                "the set holds no usable signing key (RSA of at least {} bits for RS256, EC P-256 for ES256){}",
                keys::MIN_RSA_BITS,
                if skipped.is_empty() {
                    String::new()
                } else {
                    format!("; left out: {}", skipped.join("; "))
                }
            ));
        }
        Ok(keys)
    }
}

/// GETs `url` as JSON and returns its body, refusing a status other than 2xx and a body over
/// `max` bytes. The error says why, without the URL (which may carry credentials).
pub(super) async fn get_bounded(
    client: &reqwest::Client,
    url: &str,
    max: usize,
) -> Result<Vec<u8>, String> {
    let failed = |e: reqwest::Error| e.without_url().to_string();
    let mut response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the server answered {status}"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > max {
            return Err(format!("the document is larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
