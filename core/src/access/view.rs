//! A data source as one principal sees it.

use std::sync::Arc;

use super::BoundPolicy;
use crate::{
    catalog::Catalog,
    error::Result,
    exec::QueryResult,
    source::DataSource,
    sql::ValidatedSql,
    values::{ValueIndex, ValueIndexLimits},
};

/// A data source as one principal sees it: the schema in scope, the known values of the rows it
/// may see, and validation that applies its data policy (see [`DataSource::view`]). Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct View {
    source: DataSource,
    policy: Option<Arc<BoundPolicy>>,
}

impl View {
    pub(crate) fn new(source: DataSource, policy: Option<Arc<BoundPolicy>>) -> Self {
        Self { source, policy }
    }

    /// The data source.
    pub fn source(&self) -> &DataSource {
        &self.source
    }

    /// The schema this principal sees: the tables its roles grant, without the columns they
    /// deny (masked columns are in it; their values are masked).
    pub fn catalog(&self) -> &Arc<Catalog> {
        match &self.policy {
            Some(p) => p.visible(),
            None => self.source.visible_catalog(),
        }
    }

    /// The semantic model as this principal sees it: without the tables and columns it may
    /// not read. `None` without `[semantic] model`.
    pub fn semantic(&self) -> Option<&crate::semantic::Semantic> {
        match &self.policy {
            Some(p) => p.semantic(self.source.semantic()),
            None => self.source.semantic(),
        }
    }

    /// What identifies this view's policy in caches (empty without data permissions).
    pub fn policy_key(&self) -> &str {
        self.policy.as_ref().map_or("", |p| p.key())
    }

    /// Validates `sql` under this principal's policy; nothing reaches the database. The result's
    /// `sql` is the statement as checked; its `exec_sql` reads every filtered or masked table
    /// through the policy.
    pub fn validate(&self, sql: &str) -> Result<ValidatedSql> {
        match &self.policy {
            Some(p) => self.source.validate_under(sql, p),
            None => self.source.validate(sql),
        }
    }

    /// Runs a statement this view validated, read-only, under the row cap and timeout.
    pub async fn execute(&self, validated: &ValidatedSql) -> Result<QueryResult> {
        self.source.execute(validated).await
    }

    /// Validates `sql` under this principal's policy, then runs it.
    pub async fn run(&self, sql: &str) -> Result<(ValidatedSql, QueryResult)> {
        let validated = self.validate(sql)?;
        let result = self.execute(&validated).await?;
        Ok((validated, result))
    }

    /// The known values of the rows this principal may see, without masked columns (built on
    /// first use per policy and shared).
    pub(crate) async fn value_index(&self) -> Result<Arc<ValueIndex>> {
        let Some(policy) = &self.policy else {
            return self.source.value_index().await;
        };
        policy
            .values()
            .get_or_try_init(|| async {
                let index = ValueIndex::build_under(
                    self.source.executor().as_ref(),
                    self.source.validator(),
                    Some(policy),
                    policy.knowledge(),
                    &ValueIndexLimits::default(),
                )
                .await?;
                Ok(Arc::new(index))
            })
            .await
            .cloned()
    }
}
