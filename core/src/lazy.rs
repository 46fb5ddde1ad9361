//! An engine that connects at its first use: what every binding holds. Constructing one checks
//! the configuration and never waits on the network or the disk, so it is safe on a UI thread,
//! in a Node.js constructor or inside a running event loop.

use std::sync::Arc;

use crate::{
    answer::Answer,
    catalog::Catalog,
    config::Config,
    engine::{Ask, Engine, EngineBuilder, Health},
    error::Result,
};

/// An [`Engine`] that connects when first used ([`Engine::connect_lazy`],
/// [`EngineBuilder::build_lazy`]). The first call that needs the database connects; calls
/// made meanwhile wait for that connection. A failed connection is the error of the calls that
/// waited for it, and the next call tries again: an engine built while its database is down
/// works once the database is back. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct LazyEngine {
    shared: Arc<Shared>,
}

struct Shared {
    config: Config,
    builder: EngineBuilder,
    engine: tokio::sync::OnceCell<Engine>,
}

impl std::fmt::Debug for LazyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyEngine")
            .field("config", self.config())
            .field("connected", &self.shared.engine.initialized())
            .finish()
    }
}

impl LazyEngine {
    /// An engine that `builder`, which holds `config`, builds when first used.
    pub(crate) fn new(config: Config, builder: EngineBuilder) -> Self {
        Self {
            shared: Arc::new(Shared {
                config,
                builder,
                engine: tokio::sync::OnceCell::new(),
            }),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The connected engine: connects first when no call has yet.
    pub async fn engine(&self) -> Result<Engine> {
        self.shared
            .engine
            .get_or_try_init(|| self.shared.builder.clone().build())
            .await
            .cloned()
    }

    /// The engine when a call has connected it, without connecting.
    pub fn connected(&self) -> Option<Engine> {
        self.shared.engine.get().cloned()
    }

    /// Answers one question (see [`Engine::ask`]), connecting first when needed.
    pub async fn ask(&self, ask: Ask) -> Result<Answer> {
        self.engine().await?.ask(ask).await
    }

    /// The events of a question (see [`Engine::ask_stream`]) as a handle that any thread reads
    /// one at a time and closes: the engine connects, and the question starts, at the first
    /// read. Closing it, or dropping every clone, cancels the work that remains.
    pub fn ask_events(&self, ask: Ask) -> crate::stream::AskEvents {
        crate::stream::AskEvents::new(self.clone(), ask)
    }

    /// The engine's health (see [`Engine::health`]), connecting first when needed; a failed
    /// connection is the error.
    pub async fn health(&self) -> Result<Health> {
        Ok(self.engine().await?.health().await)
    }

    /// The schema the engine sees (see [`Engine::schema`]), connecting first when needed.
    pub async fn schema(&self) -> Result<Arc<Catalog>> {
        Ok(self.engine().await?.schema())
    }

    /// The schema of `tenant_id`'s database (see [`Engine::schema_for_tenant`]), connecting
    /// first when needed.
    pub async fn schema_for_tenant(&self, tenant_id: &str) -> Result<Arc<Catalog>> {
        self.engine().await?.schema_for_tenant(tenant_id).await
    }
}
