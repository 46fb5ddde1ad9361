//! Two sessions on one database under different accounts, reopened together after either
//! breaks: the scaffolding of the differential test's PostgreSQL and MariaDB oracles, which
//! explain each statement first as a probe account (the policy's grants) and then as a full
//! reader.

use sqlx::{Connection, Executor};

use crate::db::SETUP_HINT;

/// The probe and the full reader.
#[derive(Debug)]
pub struct SessionPair<C> {
    /// The session of the account whose grants equal the policy.
    pub probe: C,
    /// The session of the account that may read everything.
    pub all: C,
    urls: [String; 2],
    setup: &'static str,
    /// Set when a connection broke; [`SessionPair::ready`] reconnects first.
    broken: bool,
}

impl<C> SessionPair<C>
where
    C: Connection,
    for<'c> &'c mut C: Executor<'c, Database = C::Database>,
{
    /// Opens both sessions, running `setup` (session settings) on each.
    pub async fn connect(
        probe_url: String,
        all_url: String,
        setup: &'static str,
    ) -> Result<Self, String> {
        Ok(Self {
            probe: session(&probe_url, setup).await?,
            all: session(&all_url, setup).await?,
            urls: [probe_url, all_url],
            setup,
            broken: false,
        })
    }

    /// Makes the next [`SessionPair::ready`] reconnect (a connection is in an unknown state).
    pub fn mark_broken(&mut self) {
        self.broken = true;
    }

    /// Reopens both sessions when one broke.
    pub async fn ready(&mut self) -> Result<(), String> {
        if self.broken {
            self.probe = session(&self.urls[0], self.setup).await?;
            self.all = session(&self.urls[1], self.setup).await?;
            self.broken = false;
        }
        Ok(())
    }
}

/// A session on `url` with `setup` run; the error names the URL without its password, with the
/// setup hint.
async fn session<C>(url: &str, setup: &'static str) -> Result<C, String>
where
    C: Connection,
    for<'c> &'c mut C: Executor<'c, Database = C::Database>,
{
    let mut conn = C::connect(url).await.map_err(|e| {
        format!(
            "cannot connect to {}: {e}; {SETUP_HINT}",
            conversational_bi::error::redact_url(url)
        )
    })?;
    sqlx::raw_sql(setup)
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(conn)
}
