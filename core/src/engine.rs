//! The engine façade: one `ask` sequences the pipeline stages of `DESIGN.md`. This file holds
//! no stage logic of its own.
//!
//! Stages in order: rate limit → input guard → conversation → semantic cache (a hit re-runs
//! the cached SQL and skips generation) → generation with self-correction (validation and
//! execution inside) → answer → turn saved, metrics, log line.

use std::{collections::BTreeMap, sync::Arc, time::Instant};

use serde::{Deserialize, Serialize};
use tracing::Instrument;

pub use crate::lazy::LazyEngine;
pub use crate::tenants::TenantHealth;
use crate::{
    access::Principal,
    answer::{Answer, AnswerKind, Attempt, suggest_chart},
    cache::{self, CacheLookup, CacheParts, CacheStore, SemanticCache},
    catalog::Catalog,
    clock::{Clock, SystemClock},
    config::{Config, EmbedderKind, Interface, LlmProviderKind, Secret},
    embed::{Embedder, RecentEmbeddings},
    error::Result,
    generate::{Generation, GenerationRequest, SqlGenerator, StackParts, correct, refine},
    guard::InputGuard,
    metrics::Metrics,
    resilience::{
        BreakerState, CircuitBreaker,
        rate_limit::{self, RateLimit, RateLimiter},
    },
    session::{self, SessionKey, SessionState, SessionStore, SessionSummary, Turn},
    source::DataSource,
    store::{self, RedisConnection},
    stream::{AskEvent, AskStream, Progress, report},
    tenants::Sources,
};

/// What one call of `ask` carries through the pipeline besides the question.
struct Call<'a> {
    started: Instant,
    /// The question as the input guard cleaned it, once it has.
    cleaned: Option<String>,
    /// Where progress is reported (`ask_stream`), if anywhere.
    progress: Option<&'a Progress>,
    /// [`Ask::remove_scope`].
    remove_scope: Option<&'a str>,
}

/// The `service` field of log lines.
pub const SERVICE: &str = "conversational-bi";

/// The tenant of asks that name none.
pub const DEFAULT_TENANT: &str = "default";

/// How many recent questions the embedder shared by the cache and the prompt remembers.
const RECENT_EMBEDDINGS: usize = 64;

/// One question to the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ask {
    /// The question, in plain words.
    pub question: String,
    /// The conversation to continue; a new one is started when `None`.
    pub session_id: Option<String>,
    /// Who asks: user, tenant ([`DEFAULT_TENANT`] when `None`), roles and attributes. The
    /// default principal is an embedded engine's one user (see [`Principal`]).
    #[serde(flatten)]
    pub principal: Principal,
    /// When `session_id` names no conversation of this tenant and user (it never existed,
    /// expired, was reset, or is another user's), start the new conversation under a generated
    /// id, and say so in the answer's `warnings`, instead of under the given id. The HTTP server
    /// sets it, so that the ids of its conversations always come from the server. Default
    /// `false`.
    #[serde(default)]
    pub fresh_id_for_unknown_session: bool,
    /// Instead of a new question, the conversation's last answer without one of its parts:
    /// the `id` of one of that answer's [`scope`](Answer::scope) items (`filter:0`, `group:1`,
    /// `order`, `limit`, ...). `question` must then be empty, and `session_id` name the
    /// conversation. The generator that wrote the answer's query removes the part (and what has
    /// no meaning without it: a sort takes its limit along) and writes the query again, which
    /// is validated and run as any generated SQL; the turn is saved as `without "top 5"`, and
    /// follow-ups continue from it. An id that names no part of the last answer, a conversation
    /// without an answer, or an answer without parts is an
    /// [`Error::InvalidInput`](crate::Error::InvalidInput), and nothing runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_scope: Option<String>,
}

impl Ask {
    /// A question in a new conversation of the default tenant.
    pub fn new(question: impl Into<String>) -> Self {
        Self {
            question: question.into(),
            ..Self::default()
        }
    }

    /// Continues the conversation `session_id`.
    pub fn session(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// Asks as `tenant_id`.
    pub fn tenant(mut self, tenant_id: impl Into<String>) -> Self {
        self.principal.tenant_id = Some(tenant_id.into());
        self
    }

    /// Asks as `user_id`: the conversation belongs to this user, and no other user of the
    /// tenant can read, continue or reset it. An empty id is the default user.
    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.principal.user_id = Some(user_id.into()).filter(|u: &String| !u.is_empty());
        self
    }

    /// Asks as `principal` (its user, tenant, roles and attributes).
    pub fn principal(mut self, principal: Principal) -> Self {
        self.principal = principal;
        self
    }

    /// Sets [`Ask::fresh_id_for_unknown_session`]: an unknown `session_id` starts a new
    /// conversation under a generated id, with a warning.
    pub fn fresh_id_for_unknown_session(mut self) -> Self {
        self.fresh_id_for_unknown_session = true;
        self
    }

    /// Sets [`Ask::remove_scope`]: the conversation's last answer without its scope item `id`
    /// (ask with an empty question: `Ask::new("").session(id).remove_scope("limit")`).
    pub fn remove_scope(mut self, id: impl Into<String>) -> Self {
        self.remove_scope = Some(id.into());
        self
    }

    /// Checks a removal ([`Ask::remove_scope`]) before asking, so that an interface can refuse
    /// it at once (a stream before its first event): the question must be empty, the id have
    /// the form of a scope id, and the conversation be named (`session_id`); otherwise an
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) says what to send. The engine checks
    /// the id against the last answer's scope when it asks. Without a removal: `Ok`.
    pub fn check_removal(&self) -> Result<()> {
        let Some(id) = &self.remove_scope else {
            return Ok(());
        };
        refine::check_removal(&self.question, id)?;
        if self.session_id.is_none() {
            return Err(crate::Error::invalid_input(
                "remove_scope removes a part of a conversation's last answer: pass that conversation's session_id too",
            ));
        }
        Ok(())
    }
}

/// The engine's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// `ok` when every check passed, `degraded` otherwise.
    pub status: String,
    /// The engine's version.
    pub version: String,
    /// Whether the database answered.
    pub database: bool,
    /// The database's error, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_error: Option<String>,
    /// The generator that answers: `rule`, or the provider and model (e.g. `openai:gpt-4o`).
    pub generator: String,
    /// Whether Redis answered; `None` when no shared store is in Redis.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub redis: Option<bool>,
    /// The database of each `[tenants.<id>]`, in the order of their ids (empty without
    /// tenants). A tenant whose database is down (or whose last connection failed) makes the
    /// status `degraded`: the other tenants are served.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tenants: Vec<TenantHealth>,
}

/// The engine. Cheap to clone: clones share everything.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    /// The `[database]` source and those of the `[tenants.<id>]`.
    sources: Sources,
    generator: Arc<dyn SqlGenerator>,
    breaker: Option<CircuitBreaker>,
    sessions: Arc<dyn SessionStore>,
    guard: InputGuard,
    rate_limit: Option<RateLimit>,
    cache: Option<SemanticCache>,
    redis: Option<RedisConnection>,
    metrics: Metrics,
    /// Feedback and promoted verified queries (`[feedback]`).
    feedback: crate::feedback::FeedbackHub,
}

/// Builds an [`Engine`] with parts other than those of the configuration. Cloning it clones
/// the handles of its parts (a lazy engine builds from a clone at each connection attempt).
#[derive(Debug, Default, Clone)]
pub struct EngineBuilder {
    config: Option<Config>,
    database_url: Option<Secret>,
    generator: Option<Arc<dyn SqlGenerator>>,
    sessions: Option<Arc<dyn SessionStore>>,
    rate_limiter: Option<Arc<dyn RateLimiter>>,
    cache_store: Option<Arc<dyn CacheStore>>,
    embedder: Option<Arc<dyn Embedder>>,
    clock: Option<Arc<dyn Clock>>,
    metrics: Metrics,
    examples: Vec<crate::config::FewShotExample>,
    feedback_store: Option<Arc<dyn crate::feedback::FeedbackStore>>,
}

impl EngineBuilder {
    /// The configuration (default: [`Interface::Embedded`]'s defaults, i.e. the runbook's
    /// without rate limits; a server passes its own, see [`Config::from_sources`]).
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// The database, overriding `[database] url`.
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(Secret::new(url));
        self
    }

    /// The SQL generator, overriding `[llm]`.
    pub fn generator(mut self, generator: Arc<dyn SqlGenerator>) -> Self {
        self.generator = Some(generator);
        self
    }

    /// The session store (default: `[session] store`).
    pub fn session_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.sessions = Some(store);
        self
    }

    /// The rate limiter, when `[production.rate_limiting]` is enabled (default: its `store`).
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// The semantic cache's store, when `[cache]` is enabled (default: its `store`).
    pub fn cache_store(mut self, store: Arc<dyn CacheStore>) -> Self {
        self.cache_store = Some(store);
        self
    }

    /// The semantic cache's embedder (default: `[cache] embedder`; a provider's embeddings
    /// come in here).
    pub fn embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// The clock of rate limits, cache TTLs, retry backoff and circuit-breaker timers (default:
    /// the system clock, and the Redis server's clock for Redis rate limits). For tests and
    /// simulations: one [`ManualClock`](crate::clock::ManualClock) moves them all.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Metrics to record into (registered by the caller).
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Few-shot examples for the LLM prompt, added to `[[llm.examples]]`. Each SQL must pass the
    /// validator against the database when the engine is built.
    pub fn examples(
        mut self,
        examples: impl IntoIterator<Item = crate::config::FewShotExample>,
    ) -> Self {
        self.examples.extend(examples);
        self
    }

    /// The feedback store (default: `[feedback] store`, opened at the first feedback).
    pub fn feedback_store(mut self, store: Arc<dyn crate::feedback::FeedbackStore>) -> Self {
        self.feedback_store = Some(store);
        self
    }

    /// An engine that connects at its first use rather than now (see [`LazyEngine`]). What
    /// needs no connection is checked now: the database URL's form, and the provider's settings
    /// (its key, its address).
    pub fn build_lazy(mut self) -> Result<LazyEngine> {
        let config = self
            .config
            .take()
            .unwrap_or_else(|| Interface::Embedded.defaults());
        if let Some(problem) = self
            .database_url
            .as_ref()
            .and_then(|url| crate::config::database_url_problem(url.expose()))
        {
            return Err(crate::Error::Config {
                message: format!("database: {problem}"),
                key: Some("database.url".into()),
                file: None,
                line: None,
            });
        }
        if self.generator.is_none() && config.llm.provider != LlmProviderKind::Rule {
            crate::llm::provider_from_config(&config.llm)?;
        }
        Ok(LazyEngine::new(config.clone(), self.config(config)))
    }

    /// Connects to the database, reads its catalog and assembles the engine.
    pub async fn build(self) -> Result<Engine> {
        let mut config = self
            .config
            .unwrap_or_else(|| Interface::Embedded.defaults());
        config.llm.examples.extend(self.examples);
        let url = self.database_url.as_ref().map(Secret::expose);
        let mut source = DataSource::connect(&config, url).await?;
        crate::generate::prompt::verify_examples(&config.llm.examples, source.validator())?;
        source = source.with_metrics(self.metrics.clone());
        // When the semantic cache and schema ranking both use the provider's embeddings, they
        // share one embedder that sends each question to the provider once.
        let cache_uses_provider = config.cache.enabled
            && config.cache.embedder == EmbedderKind::Provider
            && self.embedder.is_none();
        let shared_embedder: Option<Arc<dyn Embedder>> =
            if cache_uses_provider && self.generator.is_none() && config.prompt_uses_embeddings() {
                Some(Arc::new(RecentEmbeddings::new(
                    crate::llm::embedder_from_config(&config.llm)?,
                    RECENT_EMBEDDINGS,
                )))
            } else {
                None
            };
        let (generator, breaker) = match self.generator {
            Some(g) => (g, None),
            None => {
                let parts = StackParts {
                    clock: self.clock.clone().unwrap_or_else(|| Arc::new(SystemClock)),
                    metrics: self.metrics.clone(),
                    embedder: shared_embedder.clone(),
                };
                let stack = crate::generate::stack::build(&config, &source, &parts).await?;
                (stack.generator, stack.breaker)
            }
        };
        let redis = store::redis_from_config(&config).await?;
        let sessions = match self.sessions {
            Some(s) => s,
            None => session::from_config(&config, redis.as_ref())?,
        };
        let guard = InputGuard::from_config(&config);
        let rate_limit = match self.rate_limiter {
            Some(l) if config.production.rate_limiting.enabled => {
                Some(RateLimit::new(l).with_metrics(self.metrics.rate_limit.clone()))
            }
            Some(_) => None,
            None => rate_limit::from_config(
                &config,
                redis.as_ref(),
                self.clock.clone(),
                &self.metrics.rate_limit,
            )?,
        };
        let parts = CacheParts {
            store: self.cache_store,
            embedder: self.embedder.or(shared_embedder),
            clock: self.clock,
            metrics: self.metrics.cache.clone(),
        };
        let cache = cache::from_config(&config, &source, redis.as_ref(), parts).await?;
        let sources = Sources::new(&config, source, self.metrics.clone());
        let feedback = crate::feedback::FeedbackHub::new(&config, self.feedback_store);
        Ok(Engine {
            inner: Arc::new(Inner {
                config,
                sources,
                generator,
                breaker,
                sessions,
                guard,
                rate_limit,
                cache,
                redis,
                metrics: self.metrics,
                feedback,
            }),
        })
    }
}

impl Engine {
    /// An engine from a configuration: its database (or the demo database), its generator and
    /// in-memory sessions.
    pub async fn from_config(config: Config) -> Result<Self> {
        Self::builder().config(config).build().await
    }

    /// A builder for engines with custom parts.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// An engine that does not touch the database until it is used: the first ask (or
    /// health or schema call) connects, and a failed connection is that call's error and is
    /// tried again by the next call. Fails at once only on what needs no connection (see
    /// [`EngineBuilder::build_lazy`]).
    pub fn connect_lazy(config: Config) -> Result<LazyEngine> {
        Self::builder().config(config).build_lazy()
    }

    /// Feedback and promoted verified queries (see [`crate::feedback`]).
    pub(crate) fn feedback_hub(&self) -> &crate::feedback::FeedbackHub {
        &self.inner.feedback
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The schema as the access policy lets it be seen: tables outside
    /// `[database] allowed_tables` and columns in `denied_columns` are left out (see
    /// [`DataSource::visible_catalog`]).
    pub fn schema(&self) -> Arc<Catalog> {
        self.inner
            .sources
            .default_source()
            .visible_catalog()
            .clone()
    }

    /// The schema of `tenant_id`'s database as the access policy lets it be seen: that of its
    /// `[tenants.<id>]` database (connecting it first when its pool is not open), or
    /// [`Engine::schema`] for a tenant without an entry.
    pub async fn schema_for_tenant(&self, tenant_id: &str) -> Result<Arc<Catalog>> {
        let source = self.inner.sources.get(tenant_id).await?;
        Ok(source.visible_catalog().clone())
    }

    /// The data source of `[database]` (that of every tenant without a `[tenants.<id>]`
    /// entry).
    pub fn source(&self) -> &DataSource {
        self.inner.sources.default_source()
    }

    /// The data source of `tenant_id`: its `[tenants.<id>]` database (connecting it first when
    /// its pool is not open), or [`Engine::source`] for a tenant without an entry. A source
    /// closed meanwhile to stay under `[database] max_tenant_pools` keeps answering while it is
    /// held, and closes its pool once dropped (or when an ask could have ended).
    pub async fn source_for_tenant(&self, tenant_id: &str) -> Result<DataSource> {
        self.inner.sources.get(tenant_id).await
    }

    /// The data source of the principal's tenant as the principal sees it (see
    /// [`DataSource::view`]).
    pub async fn view(&self, principal: &Principal) -> Result<crate::access::View> {
        let tenant = principal.tenant_id.as_deref().unwrap_or(DEFAULT_TENANT);
        self.inner.sources.get(tenant).await?.view(principal).await
    }

    /// The schema of the principal's tenant as the principal sees it: the tables its data roles
    /// grant, without the columns they deny, within `[database] allowed_tables` and
    /// `denied_columns`.
    pub async fn schema_for(&self, principal: &Principal) -> Result<Arc<Catalog>> {
        Ok(self.view(principal).await?.catalog().clone())
    }

    /// The state of a conversation of the default user (empty when it does not exist).
    pub async fn session(&self, tenant_id: &str, session_id: &str) -> Result<SessionState> {
        self.inner
            .sessions
            .load(&SessionKey::new(tenant_id, session_id))
            .await
    }

    /// Forgets a conversation of the default user.
    pub async fn reset_session(&self, tenant_id: &str, session_id: &str) -> Result<()> {
        self.inner
            .sessions
            .reset(&SessionKey::new(tenant_id, session_id))
            .await
    }

    /// The state of a conversation of `user_id` (empty when it does not exist, or is another
    /// user's).
    pub async fn user_session(
        &self,
        tenant_id: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<SessionState> {
        self.inner
            .sessions
            .load(&SessionKey::for_user(tenant_id, user_id, session_id))
            .await
    }

    /// Forgets a conversation of `user_id` (another user's conversation is left alone).
    pub async fn reset_user_session(
        &self,
        tenant_id: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<()> {
        self.inner
            .sessions
            .reset(&SessionKey::for_user(tenant_id, user_id, session_id))
            .await
    }

    /// The live conversations of the default user of `tenant_id`, most recently given a turn
    /// first, at most `limit` (see [`SessionStore::list`]).
    pub async fn list_sessions(
        &self,
        tenant_id: &str,
        limit: usize,
    ) -> Result<Vec<SessionSummary>> {
        self.inner.sessions.list(tenant_id, None, limit).await
    }

    /// The live conversations of `user_id` in `tenant_id` (an empty `user_id` is the default
    /// user), most recently given a turn first, at most `limit`. Another user's conversations
    /// are never listed.
    pub async fn list_user_sessions(
        &self,
        tenant_id: &str,
        user_id: &str,
        limit: usize,
    ) -> Result<Vec<SessionSummary>> {
        let user = (!user_id.is_empty()).then_some(user_id);
        self.inner.sessions.list(tenant_id, user, limit).await
    }

    /// Gives a conversation of the default user a title (what lists show instead of its first
    /// question) and returns its summary; `None` when it does not exist (never existed,
    /// expired or was reset). The title is trimmed and must be 1 to
    /// [`session::MAX_TITLE_CHARS`] characters on one line: otherwise an
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) says what is wrong.
    pub async fn rename_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        title: &str,
    ) -> Result<Option<SessionSummary>> {
        self.rename(&SessionKey::new(tenant_id, session_id), title)
            .await
    }

    /// As [`Engine::rename_session`], for a conversation of `user_id` (another user's
    /// conversation is not found, and left alone).
    pub async fn rename_user_session(
        &self,
        tenant_id: &str,
        user_id: &str,
        session_id: &str,
        title: &str,
    ) -> Result<Option<SessionSummary>> {
        self.rename(&SessionKey::for_user(tenant_id, user_id, session_id), title)
            .await
    }

    async fn rename(&self, key: &SessionKey, title: &str) -> Result<Option<SessionSummary>> {
        let title = session::check_title(title)?;
        if !self.inner.sessions.rename(key, &title).await? {
            return Ok(None);
        }
        self.inner.sessions.summary(key).await
    }

    /// The state of the circuit breaker around the LLM provider; `None` when there is none (the
    /// rule generator, a custom generator, or `[production.circuit_breaker] enabled = false`).
    pub fn circuit_breaker_state(&self) -> Option<BreakerState> {
        self.inner.breaker.as_ref().map(CircuitBreaker::state)
    }

    /// Closes the circuit breaker around the LLM provider by hand (the runbook's manual reset),
    /// so that the next question goes to the provider again. Does nothing without a breaker.
    pub fn reset_circuit_breaker(&self) {
        if let Some(b) = &self.inner.breaker {
            b.reset();
        }
    }

    /// Deletes every cached answer of a tenant (a no-op when the cache is disabled).
    pub async fn clear_cache(&self, tenant_id: &str) -> Result<()> {
        match &self.inner.cache {
            Some(c) => c.invalidate_tenant(tenant_id).await,
            None => Ok(()),
        }
    }

    /// Checks the database (and Redis, when a shared store lives there, and the open
    /// databases of the `[tenants.<id>]`) and reports the configured generator.
    pub async fn health(&self) -> Health {
        let (db, tenants) = tokio::join!(
            self.inner.sources.default_source().executor().ping(),
            self.inner.sources.health()
        );
        let redis = match &self.inner.redis {
            Some(r) => Some(r.ping().await.is_ok()),
            None => None,
        };
        let ok = db.is_ok() && redis != Some(false) && tenants.iter().all(TenantHealth::is_ok);
        Health {
            status: if ok { "ok" } else { "degraded" }.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            database: db.is_ok(),
            database_error: db.err().map(|e| e.to_string()),
            generator: self.inner.generator.name(),
            redis,
            tenants,
        }
    }

    /// Answers one question, continuing its conversation.
    pub async fn ask(&self, ask: Ask) -> Result<Answer> {
        self.ask_reporting(ask, None).await
    }

    /// Answers one question as [`ask`](Self::ask) does, yielding its progress while it works:
    /// the stages, then the SQL, then the rows, then the whole answer (or the error) last
    /// ([`AskEvent`]). Dropping the stream before its last event cancels the work that
    /// remains.
    ///
    /// Must be called within a Tokio runtime (the work runs on it).
    pub fn ask_stream(&self, ask: Ask) -> AskStream {
        let engine = self.clone();
        AskStream::spawn(move |progress| async move {
            match engine.ask_reporting(ask, Some(&progress)).await {
                Ok(answer) => AskEvent::Answer {
                    answer: Box::new(answer),
                },
                Err(e) => AskEvent::error(e),
            }
        })
    }

    async fn ask_reporting(&self, ask: Ask, progress: Option<&Progress>) -> Result<Answer> {
        let started = Instant::now();
        let tenant_id = ask
            .principal
            .tenant_id
            .clone()
            .unwrap_or_else(|| DEFAULT_TENANT.to_string());
        let requested = ask.session_id.clone();
        let key = SessionKey::for_user(
            &tenant_id,
            ask.principal.user_id.clone().unwrap_or_default(),
            requested.clone().unwrap_or_else(new_session_id),
        );
        let renew = requested.is_some() && ask.fresh_id_for_unknown_session;
        // The session id is recorded once known: an unknown one may be replaced.
        let span = tracing::info_span!(
            "ask",
            tenant_id = %tenant_id,
            user_id = ask.principal.user_id.as_deref(),
            session_id = tracing::field::Empty
        );
        // The question as the input guard cleaned it, once it has (never the raw text: that is
        // what reaches the logs).
        let mut call = Call {
            started,
            cleaned: None,
            progress,
            remove_scope: ask.remove_scope.as_deref(),
        };
        let outcome = self
            .ask_inner(&ask.question, &ask.principal, key.clone(), renew, &mut call)
            .instrument(span)
            .await;
        let session_id = match &outcome {
            Ok(answer) => answer.session_id.as_str(),
            Err(_) => key.session_id.as_str(),
        };
        let logged_question = call
            .cleaned
            .or_else(|| self.inner.guard.check(&ask.question).ok())
            .unwrap_or_default();
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let metrics = &self.inner.metrics;
        metrics.queries_total.inc();
        metrics.query_duration_seconds.observe(latency_ms / 1000.0);
        if let Err(e) = &outcome {
            metrics.record_failure(e);
        }
        match &outcome {
            Ok(answer) => tracing::info!(
                target: "conversational_bi::query",
                service = SERVICE,
                tenant_id = %tenant_id,
                user_id = ask.principal.user_id.as_deref(),
                session_id = %session_id,
                query = %logged_question,
                latency_ms = latency_ms.round() as u64,
                cache_hit = answer.cache_hit,
                sql_generated = !answer.cache_hit,
                turn = answer.turn,
                attempts = answer.attempts.len(),
                generator = %answer.generator,
                degraded = answer.degraded,
                "query answered"
            ),
            Err(e) => tracing::warn!(
                target: "conversational_bi::query",
                service = SERVICE,
                tenant_id = %tenant_id,
                user_id = ask.principal.user_id.as_deref(),
                session_id = %session_id,
                query = %logged_question,
                latency_ms = latency_ms.round() as u64,
                cache_hit = false,
                sql_generated = false,
                error_code = e.kind().code(),
                error = %e,
                "query failed"
            ),
        }
        outcome
    }

    async fn ask_inner(
        &self,
        question: &str,
        principal: &Principal,
        mut key: SessionKey,
        renew_unknown_session: bool,
        call: &mut Call<'_>,
    ) -> Result<Answer> {
        let inner = &self.inner;
        let (started, progress) = (call.started, call.progress);
        let stage = |name: &str| {
            report(progress, || AskEvent::Stage {
                stage: name.to_string(),
            })
        };
        let tenant_id = key.tenant_id.clone();
        let tenant_id = tenant_id.as_str();
        let mut timings = BTreeMap::new();

        if let Some(limit) = &inner.rate_limit {
            stage("rate_limit");
            let t = Instant::now();
            limit
                .admit(tenant_id)
                .instrument(tracing::info_span!("rate_limit"))
                .await?;
            timings.insert("rate_limit".to_string(), ms(t));
        }
        // The tenant's own database (or `[database]`, see `tenants.rs`) as the asker sees it:
        // every statement below is checked and run under the asker's data permissions, and
        // generation sees only what the asker may see.
        let view = self.view(principal).await?;

        stage("guard");
        let t = Instant::now();
        // A removal has no question of its own: it is saved as what it removes (below).
        let mut question = match call.remove_scope {
            None => tracing::info_span!("guard").in_scope(|| inner.guard.check(question))?,
            Some(id) => {
                refine::check_removal(question, id)?;
                String::new()
            }
        };
        call.cleaned = Some(question.clone()).filter(|q| !q.is_empty());
        timings.insert("guard".to_string(), ms(t));

        stage("session");
        let t = Instant::now();
        let mut state = inner
            .sessions
            .load(&key)
            .instrument(tracing::info_span!("session"))
            .await?;
        let mut session_warning = None;
        if renew_unknown_session && state.turn_count == 0 {
            let unknown = std::mem::replace(&mut key.session_id, new_session_id());
            session_warning = Some(format!(
                "session_id '{unknown}' is not one of your conversations (it never existed, expired or was reset): a new conversation was started with session_id '{}'",
                key.session_id
            ));
            state = SessionState::new(&key);
        }
        tracing::Span::current().record("session_id", key.session_id.as_str());
        // A removal: the last answer's state and scope, and the part asked for.
        let refinement = match call.remove_scope {
            Some(id) => {
                let r = self.refinement(&view, &state.turns, id).await?;
                question = refine::question(std::slice::from_ref(&r.asked));
                call.cleaned = Some(question.clone());
                Some(r)
            }
            None => None,
        };
        inner
            .guard
            .check_context(state.context_bytes() + question.len())?;
        timings.insert("session".to_string(), ms(t));

        // A verified query that answers the question answers it before anything is generated
        // or looked up (see `insight::verified`).
        // The candidates: the model's verified queries, then those admins promoted from
        // feedback (read from the feedback store, refreshed when another instance promotes).
        // A store that cannot be read leaves the model's alone, and says so in the log.
        let promoted = match inner.feedback.promoted(tenant_id).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "the promoted verified queries could not be read");
                Arc::default()
            }
        };
        let from_model = view
            .semantic()
            .map_or(&[][..], |s| s.model().verified_queries.as_slice());
        let verified = if refinement.is_some() || (from_model.is_empty() && promoted.is_empty()) {
            None
        } else {
            stage("verified");
            let t = Instant::now();
            let candidates: std::borrow::Cow<'_, [crate::semantic::VerifiedQuery]> = if promoted
                .is_empty()
            {
                std::borrow::Cow::Borrowed(from_model)
            } else {
                std::borrow::Cow::Owned(from_model.iter().chain(promoted.iter()).cloned().collect())
            };
            let found = crate::insight::match_verified(&question, &candidates, &view)
                .instrument(tracing::info_span!("verified"))
                .await;
            timings.insert("verified".to_string(), ms(t));
            found
        };
        let history = generation_history(state.turns);
        let generator = &inner.generator;
        let request = |question: &str| GenerationRequest {
            question: question.to_string(),
            catalog: view.catalog().clone(),
            history: history.clone(),
            feedback: Vec::new(),
            max_rows: inner.config.database.max_rows,
            view: Some(view.clone()),
        };

        // Whether the answer's state describes the statement that ran (see `scope` below).
        let mut state_ran = true;
        let (done, similarity, generator_name) = match verified {
            Some(found) => {
                let t = Instant::now();
                let result = view
                    .execute(&found.validated)
                    .instrument(tracing::info_span!("execute"))
                    .await?;
                let execute_ms = ms(t);
                // The rule generator's own reading of the question, when it has one, is kept
                // with the turn so that follow-ups can patch it; without one, follow-ups are
                // generated afresh (see `generation_history`).
                let state = if generator.name() == "rule" {
                    generator
                        .generate(&request(&question))
                        .await
                        .ok()
                        .filter(|g| g.clarification.is_none())
                        .and_then(|g| g.state)
                } else {
                    None
                };
                // The rules' reading shows as the answer's scope only when it writes the very
                // statement the verified query ran.
                state_ran = match &state {
                    Some(s) => self.state_writes(&view, s, &found.validated.sql).await,
                    None => false,
                };
                let explanation = found.explanation();
                let done = correct::Corrected {
                    generation: Generation {
                        sql: found.validated.sql.clone(),
                        explanation,
                        state,
                        degraded: None,
                        clarification: None,
                    },
                    attempts: vec![Attempt {
                        sql: found.validated.sql.clone(),
                        error: None,
                    }],
                    validated: found.validated,
                    result,
                    generate_ms: 0.0,
                    validate_ms: 0.0,
                    execute_ms,
                };
                (done, None, VERIFIED_GENERATOR.to_string())
            }
            None => {
                // A removal is neither looked up nor cached: its question is the engine's.
                let (probe, served) = match inner.cache.as_ref().filter(|_| refinement.is_none()) {
                    Some(cache) => {
                        stage("cache");
                        let t = Instant::now();
                        let lookup = CacheLookup {
                            tenant_id,
                            schema: &view.catalog().fingerprint,
                            history: &history,
                            question: &question,
                        };
                        let (probe, served) = cache
                            .serve(lookup, &view)
                            .instrument(tracing::info_span!("cache"))
                            .await;
                        timings.insert("cache".to_string(), ms(t));
                        (Some(probe), served)
                    }
                    None => (None, None),
                };
                match served {
                    Some(hit) => (hit.answer, Some(hit.similarity), hit.generator),
                    None => {
                        stage("generate");
                        let refining = refinement.as_ref().map(|r| refine::Refining {
                            generator: generator.clone(),
                            state: r.state.clone(),
                            remove: r.asked.id.clone(),
                        });
                        let writer: &dyn SqlGenerator = match &refining {
                            Some(r) => r,
                            None => generator.as_ref(),
                        };
                        let generated = match correct::generate_or_clarify(
                            writer,
                            &view,
                            request(&question),
                            inner.config.llm.max_retries,
                        )
                        .await
                        {
                            Ok(g) => g,
                            Err(e) => {
                                // A removal that fails leaves the conversation as it was.
                                if e.kind() == crate::error::ErrorKind::CannotAnswer
                                    && refinement.is_none()
                                {
                                    // The conversation keeps the question it could not answer:
                                    // a next "how many are there?" must not be read against
                                    // the answer before it.
                                    let turn = Turn::unanswered(
                                        question.clone(),
                                        e.to_string(),
                                        generator.name(),
                                    );
                                    if let Err(save) = inner
                                        .sessions
                                        .append(&key, turn)
                                        .instrument(tracing::info_span!("save"))
                                        .await
                                    {
                                        tracing::warn!(error = %save, "the unanswered turn could not be saved");
                                    }
                                }
                                return Err(e);
                            }
                        };
                        let done = match generated {
                            correct::Generated::Ran(done) => *done,
                            correct::Generated::Clarify(asked) => {
                                // A question back is never cached: the reply decides.
                                return self
                                    .clarify(
                                        &key,
                                        question,
                                        *asked,
                                        session_warning,
                                        timings,
                                        started,
                                    )
                                    .await;
                            }
                        };
                        // A degraded answer (the fallback stood in for the provider) is not
                        // cached: the provider answers that question again once it is back.
                        if let (Some(cache), Some(probe), None) =
                            (&inner.cache, &probe, &done.generation.degraded)
                        {
                            cache.insert(probe, &done, &generator.name()).await;
                        }
                        (done, None, generator.name())
                    }
                }
            }
        };
        // The parts of the query that ran, from the state that wrote it; a removal is saved as
        // what it removed, with what went along.
        let scope = match &done.generation.state {
            Some(s) if state_ran => refine::scope(s),
            _ => Vec::new(),
        };
        if let Some(r) = &refinement {
            question = refine::question(&refine::removed(&r.before, &scope, &r.asked));
            call.cleaned = Some(question.clone());
        }
        timings.insert("generate".to_string(), done.generate_ms);
        timings.insert("validate".to_string(), done.validate_ms);
        timings.insert("execute".to_string(), done.execute_ms);
        report(progress, || AskEvent::Sql {
            sql: done.validated.sql.clone(),
        });
        report(progress, || AskEvent::Rows {
            columns: done.result.columns.clone(),
            rows: done.result.rows.clone(),
            truncated: done.result.truncated,
        });

        // A fallback (the provider was down) names the generator that answered and says why.
        let (answered_by, degraded) = match &done.generation.degraded {
            Some(d) => (d.generator.clone(), Some(d.warning())),
            None => (generator_name, None),
        };
        let mut warnings: Vec<String> = session_warning
            .into_iter()
            .chain(degraded.iter().cloned())
            .collect();
        if done.result.byte_cap_reached {
            warnings.push(format!(
                "the result was cut at {} rows because its values passed {} bytes ([database] max_result_bytes); \
                 ask for fewer or shorter columns, or a summary",
                done.result.rows.len(),
                inner.config.database.max_result_bytes
            ));
        } else if done.result.truncated {
            warnings.push(format!(
                "the result was cut at {} rows ([database] max_rows); ask for fewer rows or a summary",
                inner.config.database.max_rows
            ));
        }

        // Insights: joins that count rows twice, and why a result is empty.
        stage("insight");
        let t = Instant::now();
        warnings.extend(crate::insight::fanout::warnings(
            &done.validated.sql,
            view.catalog(),
            view.semantic(),
        ));
        let explanation = done.generation.explanation.clone();
        let mut suggestions = Vec::new();
        if done.result.rows.is_empty() {
            let why = crate::insight::explain_empty(
                &view,
                &done.validated,
                &crate::insight::EmptyLimits::default(),
            )
            .instrument(tracing::info_span!("explain_empty"))
            .await;
            // The explanation says what the SQL does; the warning says why nothing came back.
            if let Some(why) = why {
                warnings.push(format!("no rows: {}", why.text));
                suggestions.extend(why.suggestion);
            }
        }
        timings.insert("insight".to_string(), ms(t));

        let turn = Turn {
            turn: 0,
            question: question.clone(),
            sql: done.validated.sql.clone(),
            explanation: done.generation.explanation.clone(),
            columns: done.result.columns.iter().map(|c| c.name.clone()).collect(),
            row_count: done.result.rows.len(),
            generator: answered_by.clone(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            state: done.generation.state.clone(),
            clarification: None,
        };
        stage("save");
        let t = Instant::now();
        let saved = inner
            .sessions
            .append(&key, turn)
            .instrument(tracing::info_span!("save"))
            .await?;
        timings.insert("save".to_string(), ms(t));

        stage("suggest");
        let t = Instant::now();
        let candidates = crate::insight::suggest::candidates(
            &done.validated,
            done.result.rows.len(),
            view.catalog(),
            view.semantic(),
        );
        for candidate in candidates.into_iter().take(MAX_SUGGESTION_CHECKS) {
            if suggestions.len() >= MAX_SUGGESTIONS {
                break;
            }
            if !suggestions.contains(&candidate)
                && self.understood(&view, &saved.turns, &candidate).await
            {
                suggestions.push(candidate);
            }
        }
        timings.insert("suggest".to_string(), ms(t));
        timings.insert("total".to_string(), ms(started));

        let chart = suggest_chart(&done.result.columns, &done.result.rows, &question);
        Ok(Answer {
            sql: done.validated.sql,
            explanation,
            row_count: done.result.rows.len(),
            columns: done.result.columns,
            rows: done.result.rows,
            truncated: done.result.truncated,
            cache_hit: similarity.is_some(),
            similarity,
            verified: answered_by == VERIFIED_GENERATOR,
            generator: answered_by,
            degraded: degraded.is_some(),
            attempts: done.attempts,
            timings,
            session_id: key.session_id.clone(),
            turn: saved.turn_count,
            chart,
            warnings,
            kind: AnswerKind::Answer,
            clarification: None,
            suggestions,
            scope,
        })
    }

    /// Saves and returns a turn that asks which reading was meant: nothing ran.
    async fn clarify(
        &self,
        key: &SessionKey,
        question: String,
        asked: correct::Clarified,
        session_warning: Option<String>,
        mut timings: BTreeMap<String, f64>,
        started: Instant,
    ) -> Result<Answer> {
        timings.insert("generate".to_string(), asked.generate_ms);
        let c = asked.clarification;
        let labels: Vec<String> = c.options.iter().map(|o| o.label.clone()).collect();
        let explanation = if asked.generation.explanation.trim().is_empty() {
            format!("{} ({})", c.question, labels.join(", "))
        } else {
            asked.generation.explanation.clone()
        };
        let turn = Turn {
            turn: 0,
            question,
            sql: String::new(),
            explanation: explanation.clone(),
            columns: Vec::new(),
            row_count: 0,
            generator: self.inner.generator.name(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            state: asked.generation.state.clone(),
            clarification: Some(c.clone()),
        };
        let t = Instant::now();
        let saved = self
            .inner
            .sessions
            .append(key, turn)
            .instrument(tracing::info_span!("save"))
            .await?;
        timings.insert("save".to_string(), ms(t));
        timings.insert("total".to_string(), ms(started));
        Ok(Answer {
            sql: String::new(),
            explanation,
            columns: Vec::new(),
            rows: Vec::new(),
            row_count: 0,
            truncated: false,
            cache_hit: false,
            similarity: None,
            generator: self.inner.generator.name(),
            degraded: false,
            attempts: asked.attempts,
            timings,
            session_id: key.session_id.clone(),
            turn: saved.turn_count,
            chart: None,
            warnings: session_warning.into_iter().collect(),
            kind: AnswerKind::Clarification,
            clarification: Some(c),
            verified: false,
            suggestions: labels,
            scope: Vec::new(),
        })
    }

    /// What a removal ([`Ask::remove_scope`]) starts from: the state of the conversation's last
    /// answer, its scope, and the item `id` names in it. Refuses (`InvalidInput`) when there is
    /// no answer, the answer has no state, or `id` names none of the parts the answer showed.
    async fn refinement(
        &self,
        view: &crate::access::View,
        turns: &[Turn],
        id: &str,
    ) -> Result<Refinement> {
        let Some(last) = turns.iter().rev().find(|t| !t.sql.is_empty()) else {
            return Err(crate::Error::invalid_input(
                "remove_scope removes a part of the conversation's last answer, and this conversation has none (send the session_id of a conversation with an answer, or ask a question first)",
            ));
        };
        let no_parts = || {
            crate::Error::invalid_input(format!(
                "the last answer (written by {}) has no removable parts: its generator keeps no structured form of the query. Ask the question again without the part",
                last.generator
            ))
        };
        let Some(state) = last.state.clone() else {
            return Err(no_parts());
        };
        // A verified answer shows the rules' reading as its scope only when the reading writes
        // its statement (see `ask_inner`); otherwise it showed none, and there is none to remove.
        if last.generator == VERIFIED_GENERATOR && !self.state_writes(view, &state, &last.sql).await
        {
            return Err(no_parts());
        }
        let before = refine::scope(&state);
        if before.is_empty() {
            return Err(no_parts());
        }
        let Some(asked) = before.iter().find(|i| i.id == id).cloned() else {
            let ids: Vec<&str> = before.iter().map(|i| i.id.as_str()).collect();
            return Err(crate::Error::invalid_input(format!(
                "remove_scope '{id}' names no part of the last answer, whose parts are {}; send the id of one of its scope items",
                ids.join(", ")
            )));
        };
        Ok(Refinement {
            state,
            before,
            asked,
        })
    }

    /// Whether the generator writes `state`'s query as the statement `sql` (as validated under
    /// `view`): whether the state describes that statement.
    async fn state_writes(
        &self,
        view: &crate::access::View,
        state: &serde_json::Value,
        sql: &str,
    ) -> bool {
        let request = GenerationRequest {
            question: String::new(),
            catalog: view.catalog().clone(),
            history: Vec::new(),
            feedback: Vec::new(),
            max_rows: self.inner.config.database.max_rows,
            view: Some(view.clone()),
        };
        match self.inner.generator.refine(&request, state, None).await {
            Ok(g) => view.validate(&g.sql).is_ok_and(|v| v.sql == sql),
            Err(_) => false,
        }
    }

    /// Whether a suggested follow-up would be answered: with the rule generator, it is asked
    /// (offline, no database) and its SQL validated; other generators are not asked, so that a
    /// suggestion costs no provider call.
    async fn understood(
        &self,
        view: &crate::access::View,
        history: &[Turn],
        follow_up: &str,
    ) -> bool {
        let generator = &self.inner.generator;
        if generator.name() != "rule" {
            return true;
        }
        let request = GenerationRequest {
            question: follow_up.to_string(),
            catalog: view.catalog().clone(),
            history: generation_history(history.to_vec()),
            feedback: Vec::new(),
            max_rows: self.inner.config.database.max_rows,
            view: Some(view.clone()),
        };
        match generator.generate(&request).await {
            Ok(g) if g.clarification.is_none() => view.validate(&g.sql).is_ok(),
            _ => false,
        }
    }
}

/// What a removal starts from (see [`Engine::refinement`]).
struct Refinement {
    /// The last answer's state.
    state: serde_json::Value,
    /// Its scope.
    before: Vec<crate::answer::ScopeItem>,
    /// The item to remove.
    asked: crate::answer::ScopeItem,
}

/// The generator name of answers a verified query gave.
pub const VERIFIED_GENERATOR: &str = "verified";

/// How many follow-ups an answer suggests at most.
const MAX_SUGGESTIONS: usize = 3;

/// How many candidate follow-ups are tried at most (each is one offline generation).
const MAX_SUGGESTION_CHECKS: usize = 6;

/// The turns a generator reads: all of them, except that a verified answer without a state of
/// the generator's hides the turns before it, so that a follow-up never patches an older
/// query than the one just answered (it is generated afresh, with the verified turn's SQL in
/// the history).
fn generation_history(turns: Vec<Turn>) -> Vec<Turn> {
    match turns
        .iter()
        .rposition(|t| t.generator == VERIFIED_GENERATOR && t.state.is_none())
    {
        Some(i) => turns[i..].to_vec(),
        None => turns,
    }
}

fn new_session_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_random_uuids() {
        let a = new_session_id();
        assert_eq!(a.len(), 36);
        assert_ne!(a, new_session_id());
    }
}
