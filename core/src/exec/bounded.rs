//! A cap on the statements running at once on one data source
//! ([`super::SourceOptions::max_concurrent_queries`]).
//!
//! Every statement holds a slot while it runs; a statement that finds none free waits for one up
//! to the statement timeout and then fails with `SERVICE_UNAVAILABLE` (retryable), so that a burst
//! of expensive statements cannot multiply the memory and CPU one of them may take.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use tokio::sync::Semaphore;

use super::{Executor, QueryResult, SourceOptions};
use crate::{catalog::Catalog, dialect::Dialect, error::Error, error::Result};

/// An executor whose statements run at most `max_concurrent_queries` at a time.
#[derive(Debug)]
pub(crate) struct Bounded {
    inner: Arc<dyn Executor>,
    slots: Semaphore,
}

impl Bounded {
    /// Wraps `inner` with the cap of its options.
    pub(crate) fn new(inner: Arc<dyn Executor>) -> Self {
        let slots = Semaphore::new(inner.options().max_concurrent_queries.max(1));
        Self { inner, slots }
    }
}

#[async_trait]
impl Executor for Bounded {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }

    fn options(&self) -> &SourceOptions {
        self.inner.options()
    }

    async fn catalog(&self) -> Result<Catalog> {
        self.inner.catalog().await
    }

    async fn execute(&self, sql: &str) -> Result<QueryResult> {
        let options = self.inner.options();
        let wait = Duration::from_millis(options.statement_timeout_ms);
        let _slot = match tokio::time::timeout(wait, self.slots.acquire()).await {
            Ok(Ok(slot)) => slot,
            Ok(Err(_)) => return Err(Error::internal("the query slots of the source are closed")),
            Err(_) => {
                return Err(Error::ServiceUnavailable {
                    service: "database".into(),
                    message: format!(
                        "all {} query slots were busy for {} ms ([database] max_concurrent_queries); try again shortly",
                        options.max_concurrent_queries, options.statement_timeout_ms
                    ),
                });
            }
        };
        self.inner.execute(sql).await
    }

    async fn ping(&self) -> Result<()> {
        self.inner.ping().await
    }

    async fn close(&self) {
        self.inner.close().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// An executor that records how many statements run at once.
    #[derive(Debug, Default)]
    struct Counting {
        options: SourceOptions,
        running: AtomicUsize,
        peak: AtomicUsize,
    }

    #[async_trait]
    impl Executor for Counting {
        fn dialect(&self) -> Dialect {
            Dialect::Sqlite
        }
        fn options(&self) -> &SourceOptions {
            &self.options
        }
        async fn catalog(&self) -> Result<Catalog> {
            Ok(Catalog::new(Dialect::Sqlite, "t", vec![]))
        }
        async fn execute(&self, _sql: &str) -> Result<QueryResult> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            Ok(QueryResult {
                columns: vec![],
                rows: vec![],
                truncated: false,
                byte_cap_reached: false,
                elapsed_ms: 0.0,
            })
        }
        async fn ping(&self) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn no_more_than_the_cap_run_at_once() {
        let inner = Arc::new(Counting {
            options: SourceOptions {
                max_concurrent_queries: 3,
                ..SourceOptions::default()
            },
            ..Counting::default()
        });
        let bounded = Arc::new(Bounded::new(inner.clone()));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let b = bounded.clone();
                tokio::spawn(async move { b.execute("SELECT 1").await })
            })
            .collect();
        for t in tasks {
            t.await.expect("joins").expect("runs");
        }
        assert_eq!(inner.peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_statement_that_waits_past_the_timeout_is_unavailable() {
        let inner = Arc::new(Counting {
            options: SourceOptions {
                max_concurrent_queries: 1,
                statement_timeout_ms: 5,
                ..SourceOptions::default()
            },
            ..Counting::default()
        });
        let bounded = Arc::new(Bounded::new(inner));
        let first = {
            let b = bounded.clone();
            tokio::spawn(async move { b.execute("SELECT 1").await })
        };
        tokio::time::sleep(Duration::from_millis(2)).await;
        let second = bounded.execute("SELECT 2").await.expect_err("no slot");
        assert_eq!(second.kind(), crate::ErrorKind::ServiceUnavailable);
        assert!(
            second.to_string().contains("max_concurrent_queries"),
            "{second}"
        );
        first.await.expect("joins").expect("runs");
    }
}
