//! A data source ready for use: its executor, its catalog and the validator bound to both.

use std::sync::Arc;

use crate::{
    catalog::Catalog,
    config::Config,
    error::Result,
    exec::{self, Executor, QueryResult},
    sql::{ValidatedSql, Validator},
};

/// One connected database with its schema and SQL policy.
#[derive(Debug, Clone)]
pub struct DataSource {
    executor: Arc<dyn Executor>,
    catalog: Arc<Catalog>,
    validator: Validator,
}

impl DataSource {
    /// Connects to `url` (or the demo database when `None`), reads the catalog and binds the
    /// validator with the limits and policy of `config`'s `[database]` section.
    pub async fn connect(config: &Config, url: Option<&str>) -> Result<Self> {
        let url = match url.or(config.database_url()) {
            Some(u) => u.to_string(),
            None => crate::demo::chinook_url()?,
        };
        let executor = exec::connect(&url, config.source_options()).await?;
        let catalog = Arc::new(executor.catalog().await?);
        let validator = Validator::new(catalog.clone(), config.validator_options());
        Ok(Self { executor, catalog, validator })
    }

    /// The schema the engine sees.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The executor.
    pub fn executor(&self) -> &Arc<dyn Executor> {
        &self.executor
    }

    /// The validator bound to this source's catalog.
    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// Validates `sql`; nothing reaches the database.
    pub fn validate(&self, sql: &str) -> Result<ValidatedSql> {
        self.validator.validate(sql)
    }

    /// Validates `sql`, then runs the accepted statement read-only.
    pub async fn run(&self, sql: &str) -> Result<(ValidatedSql, QueryResult)> {
        let validated = self.validator.validate(sql)?;
        let result = self.executor.execute(&validated.exec_sql).await?;
        Ok((validated, result))
    }
}
