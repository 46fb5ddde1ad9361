//! Retry with exponential backoff and full jitter, as a layer around an [`LlmProvider`] or an
//! [`Embedder`].
//!
//! Only errors that [`Error::is_retryable`] calls temporary are tried again (HTTP 429, 5xx,
//! timeouts, connection failures, malformed replies); a bad key, a refused request or an unknown
//! model (400/401/403/404) fails at once. A `Retry-After` from the provider is honoured as the
//! wait before the next try; one longer than [`RetryPolicy::max_delay`] ends the retries at once
//! (the caller's fallback answers sooner than the provider would).

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;

use crate::clock::{Clock, SystemClock};
use crate::{
    config::LlmConfig,
    embed::Embedder,
    error::Result,
    llm::{ChatCompletion, ChatRequest, LlmProvider},
};

/// How often and how long to wait between tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries after the first. `[llm] max_retries`, default 3.
    pub max_retries: u32,
    /// The backoff ceiling of the first retry; it doubles with each retry. Default 250 ms.
    pub base_delay: Duration,
    /// The longest single wait, and the longest `Retry-After` honoured. Default 10 s.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The policy of `[llm]`: `max_retries` tries after the first, default delays.
    pub fn from_config(llm: &LlmConfig) -> Self {
        Self {
            max_retries: llm.max_retries,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (0 for the first) with full jitter: `fraction`
    /// (in `[0, 1)`) of `min(max_delay, base_delay * 2^retry)`.
    pub fn backoff(&self, retry: u32, fraction: f64) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        ceiling.mul_f64(fraction.clamp(0.0, 1.0))
    }
}

/// A source of jitter fractions in `[0, 1)`.
type JitterFn = dyn Fn() -> f64 + Send + Sync;

/// Tries the wrapped seam again on temporary failures. Cheap to clone.
#[derive(Clone)]
pub struct RetryLayer<T: ?Sized> {
    inner: Arc<T>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    jitter: Arc<JitterFn>,
}

impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for RetryLayer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryLayer")
            .field("inner", &self.inner)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> RetryLayer<T> {
    /// Wraps `inner` with `policy`, sleeping on the system clock with random jitter.
    pub fn new(inner: Arc<T>, policy: RetryPolicy) -> Self {
        let rng = SplitMix::seeded();
        Self {
            inner,
            policy,
            clock: Arc::new(SystemClock),
            jitter: Arc::new(move || rng.next_fraction()),
        }
    }

    /// Sleeps on `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Draws jitter fractions from `jitter` (values in `[0, 1)`) instead of a random source.
    pub fn with_jitter(mut self, jitter: impl Fn() -> f64 + Send + Sync + 'static) -> Self {
        self.jitter = Arc::new(jitter);
        self
    }

    /// The wrapped seam.
    pub fn inner(&self) -> &Arc<T> {
        &self.inner
    }

    /// Runs `op` until it succeeds, fails for good, or the retries are spent.
    pub async fn run<R, F, Fut>(&self, what: &str, mut op: F) -> Result<R>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = Result<R>> + Send,
        R: Send,
    {
        let mut retry = 0;
        loop {
            let error = match op().await {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            if !error.is_retryable() || retry >= self.policy.max_retries {
                return Err(error);
            }
            let wait = match error.retry_after() {
                Some(asked) if asked > self.policy.max_delay => {
                    tracing::warn!(
                        what,
                        retry_after_ms = asked.as_millis() as u64,
                        "the provider asks for a longer wait than retries allow; giving up"
                    );
                    return Err(error);
                }
                Some(asked) => asked,
                None => self.policy.backoff(retry, (self.jitter)()),
            };
            tracing::warn!(
                what,
                retry = retry + 1,
                of = self.policy.max_retries,
                wait_ms = wait.as_millis() as u64,
                code = error.kind().code(),
                error = %error,
                "temporary failure; trying again"
            );
            self.clock.sleep(wait).await;
            retry += 1;
        }
    }
}

#[async_trait]
impl<T: LlmProvider + ?Sized> LlmProvider for RetryLayer<T> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion> {
        self.run("chat completion", || self.inner.complete(request))
            .await
    }
}

#[async_trait]
impl<T: Embedder + ?Sized> Embedder for RetryLayer<T> {
    fn name(&self) -> String {
        self.inner.name()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.run("embedding", || self.inner.embed(texts)).await
    }
}

/// A small, lock-free pseudo-random source for jitter (SplitMix64). Jitter needs spread, not
/// cryptographic quality.
struct SplitMix(AtomicU64);

impl SplitMix {
    fn seeded() -> Self {
        let seed = uuid::Uuid::new_v4().as_u64_pair().0;
        Self(AtomicU64::new(seed))
    }

    fn next_fraction(&self) -> f64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits as a fraction in [0, 1).
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::{clock::ManualClock, error::Error};

    #[derive(Debug)]
    struct Scripted {
        replies: Mutex<Vec<Result<ChatCompletion>>>,
        calls: AtomicU64,
    }

    impl Scripted {
        fn new(mut replies: Vec<Result<ChatCompletion>>) -> Arc<Self> {
            replies.reverse();
            Arc::new(Self {
                replies: Mutex::new(replies),
                calls: AtomicU64::new(0),
            })
        }
        fn calls(&self) -> u64 {
            self.calls.load(Ordering::SeqCst)
        }
    }

    #[async_trait]
    impl LlmProvider for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }
        fn model(&self) -> &str {
            "m"
        }
        async fn complete(&self, _: &ChatRequest) -> Result<ChatCompletion> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.replies
                .lock()
                .expect("lock")
                .pop()
                .expect("a scripted reply")
        }
    }

    fn ok() -> Result<ChatCompletion> {
        Ok(ChatCompletion {
            content: "{}".into(),
            request_id: None,
            prompt_tokens: None,
            completion_tokens: None,
        })
    }

    fn status(status: u16, retry_after: Option<Duration>) -> Result<ChatCompletion> {
        Err(Error::Provider {
            provider: "scripted".into(),
            status: Some(status),
            message: format!("HTTP {status}"),
            request_id: None,
            retryable: status == 429 || status >= 500,
            retry_after,
        })
    }

    fn request() -> ChatRequest {
        ChatRequest {
            messages: Vec::new(),
            temperature: 0.0,
            max_tokens: 10,
            json_response: false,
        }
    }

    fn layer(
        inner: Arc<Scripted>,
        max_retries: u32,
        clock: &Arc<ManualClock>,
    ) -> RetryLayer<Scripted> {
        RetryLayer::new(
            inner,
            RetryPolicy {
                max_retries,
                ..RetryPolicy::default()
            },
        )
        .with_clock(clock.clone())
        .with_jitter(|| 0.5)
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_scales_with_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(250));
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(500));
        assert_eq!(p.backoff(3, 1.0), Duration::from_secs(2));
        assert_eq!(p.backoff(10, 1.0), Duration::from_secs(10));
        assert_eq!(p.backoff(40, 1.0), Duration::from_secs(10));
        assert_eq!(p.backoff(2, 0.5), Duration::from_millis(500));
        assert_eq!(p.backoff(2, 0.0), Duration::ZERO);
    }

    #[test]
    fn jitter_fractions_stay_in_range_and_spread() {
        let rng = SplitMix::seeded();
        let draws: Vec<f64> = (0..1000).map(|_| rng.next_fraction()).collect();
        assert!(draws.iter().all(|f| (0.0..1.0).contains(f)));
        let low = draws.iter().filter(|&&f| f < 0.5).count();
        assert!((350..650).contains(&low), "{low} of 1000 below one half");
    }

    #[tokio::test]
    async fn temporary_failures_are_retried_with_growing_backoff() {
        let clock = Arc::new(ManualClock::new());
        let inner = Scripted::new(vec![status(500, None), status(503, None), ok()]);
        let out = layer(inner.clone(), 3, &clock).complete(&request()).await;
        assert!(out.is_ok());
        assert_eq!(inner.calls(), 3);
        assert_eq!(
            clock.sleeps(),
            vec![Duration::from_millis(125), Duration::from_millis(250)]
        );
    }

    #[tokio::test]
    async fn retry_after_is_honoured_and_a_long_one_ends_the_retries() {
        let clock = Arc::new(ManualClock::new());
        let inner = Scripted::new(vec![status(429, Some(Duration::from_secs(2))), ok()]);
        layer(inner.clone(), 3, &clock)
            .complete(&request())
            .await
            .expect("second try");
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(2)]);

        let clock = Arc::new(ManualClock::new());
        let inner = Scripted::new(vec![status(429, Some(Duration::from_secs(120)))]);
        let e = layer(inner.clone(), 3, &clock)
            .complete(&request())
            .await
            .expect_err("too long to wait");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
        assert_eq!(inner.calls(), 1);
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn client_errors_fail_at_once_and_retries_are_bounded() {
        for code in [400, 401, 403, 404] {
            let clock = Arc::new(ManualClock::new());
            let inner = Scripted::new(vec![status(code, None)]);
            let e = layer(inner.clone(), 3, &clock)
                .complete(&request())
                .await
                .expect_err("client error");
            assert_eq!(inner.calls(), 1, "HTTP {code} is not retried");
            assert!(!e.is_retryable());
            assert!(clock.sleeps().is_empty());
        }
        let clock = Arc::new(ManualClock::new());
        let inner = Scripted::new((0..3).map(|_| status(502, None)).collect());
        let e = layer(inner.clone(), 2, &clock)
            .complete(&request())
            .await
            .expect_err("spent");
        assert_eq!(inner.calls(), 3, "one try and two retries");
        assert!(e.to_string().contains("502"), "{e}");
        assert_eq!(clock.sleeps().len(), 2);
    }
}
