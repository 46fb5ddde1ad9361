//! A data source ready for use: its executor, its catalog and the validator bound to both.
//!
//! The source holds two views of the schema. The validator alone judges SQL against the whole
//! introspected catalog with the access policy of `[database]` (so that it can say that a
//! denied column is restricted). Everything else (prompts, sample values, the value index, the
//! rule generator, the semantic cache, schema listings) sees [`DataSource::visible_catalog`],
//! from which the policy has removed what may not be read: nothing restricted can leak through
//! them, not even as a different answer.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;

use crate::{
    catalog::{AccessPolicy, Catalog},
    config::Config,
    dialect::Dialect,
    error::Result,
    exec::{self, Executor, QueryResult},
    metrics::{Metrics, OutcomeLabels},
    sql::{ValidatedSql, Validator},
    values::{ValueIndex, ValueIndexLimits},
};

/// One connected database with its schema and SQL policy.
#[derive(Debug, Clone)]
pub struct DataSource {
    executor: Arc<dyn Executor>,
    /// The roles of `[access]` compiled against this source's catalog; `None` without roles.
    roles: Option<Arc<crate::access::Roles>>,
    /// The policy-filtered catalog everything but the validator sees.
    visible: Arc<Catalog>,
    validator: Validator,
    metrics: SourceMetrics,
    values: KnownValues,
    /// `[semantic] model` checked against this source's catalog, restricted to the visible
    /// catalog.
    semantic: Option<crate::semantic::Semantic>,
}

/// The source's metric handles: the series of its common outcomes (`accepted`, `ok`) resolved
/// once, so that the hot path only increments a counter.
#[derive(Debug, Clone)]
struct SourceMetrics {
    metrics: Metrics,
    dialect: Dialect,
    accepted: Counter,
    executed: Counter,
}

impl SourceMetrics {
    fn new(metrics: Metrics, dialect: Dialect) -> Self {
        let labels = |outcome: &str| OutcomeLabels {
            dialect: dialect.as_str().to_string(),
            outcome: outcome.to_string(),
        };
        let accepted = metrics
            .sql_validations_total
            .get_or_create(&labels("accepted"))
            .clone();
        let executed = metrics
            .sql_executions_total
            .get_or_create(&labels("ok"))
            .clone();
        Self {
            metrics,
            dialect,
            accepted,
            executed,
        }
    }

    fn labels(&self, outcome: String) -> OutcomeLabels {
        OutcomeLabels {
            dialect: self.dialect.as_str().to_string(),
            outcome,
        }
    }

    /// Counts a refusal (or a failed validation) by its rule or error code.
    fn validation(&self, outcome: String) {
        self.metrics
            .sql_validations_total
            .get_or_create(&self.labels(outcome))
            .inc();
    }

    /// Counts a failed execution by its error code.
    fn execution(&self, outcome: String) {
        self.metrics
            .sql_executions_total
            .get_or_create(&self.labels(outcome))
            .inc();
    }
}

/// The value index of a source, built on first use and shared by every clone of the source, so
/// that the rule generator and the LLM prompt read the database for it once.
#[derive(Clone, Default)]
struct KnownValues(Arc<tokio::sync::OnceCell<Arc<ValueIndex>>>);

impl std::fmt::Debug for KnownValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.get() {
            Some(v) => write!(f, "KnownValues({} values)", v.len()),
            None => f.write_str("KnownValues(not built)"),
        }
    }
}

/// The semantic model of the demo database (`models/chinook.yaml`), used when the demo runs
/// without `[semantic] model`.
pub const DEMO_MODEL: &str = include_str!("../../models/chinook.yaml");

impl DataSource {
    /// Connects to `url` (or the demo database when `None`), reads the catalog and binds the
    /// validator with the limits and policy of `config`'s `[database]` section.
    pub async fn connect(config: &Config, url: Option<&str>) -> Result<Self> {
        let (url, demo) = match url.or(config.database_url()) {
            Some(u) => (u.to_string(), false),
            None => (crate::demo::chinook_url()?, true),
        };
        let executor = exec::connect(&url, config.source_options()).await?;
        let catalog = Arc::new(executor.catalog().await?);
        let options = config.validator_options();
        let policy = AccessPolicy {
            allowed_tables: options.allowed_tables.clone(),
            denied_columns: options.denied_columns.clone(),
        };
        let visible = if policy.is_open() {
            catalog.clone()
        } else {
            Arc::new(catalog.visible_to(&policy))
        };
        let dialect = catalog.dialect;
        let roles = crate::access::Roles::compile(config, catalog.clone())?.map(Arc::new);
        let validator = Validator::new(catalog.clone(), options);
        let semantic = match (config.semantic.model.is_empty(), demo) {
            (true, false) => None,
            (empty, _) => {
                let located = if empty {
                    // The demo database comes with its model.
                    let mut located = crate::semantic::Located::default();
                    located.add(DEMO_MODEL.to_string(), None)?;
                    located
                } else {
                    crate::semantic::load_files(&config.semantic_paths())?
                };
                // The model is checked against the whole database (a typo in an item of a
                // table `allowed_tables` leaves out is still a typo); `[database]`'s policy then
                // hides from it what it hides (below), and each principal's view hides more.
                let whole = Validator::new(
                    catalog.clone(),
                    crate::sql::ValidatorOptions {
                        allowed_tables: Vec::new(),
                        denied_columns: Vec::new(),
                        ..config.validator_options()
                    },
                );
                let checked = crate::semantic::check(&located, &catalog, &catalog, &whole)?;
                Some(if Arc::ptr_eq(&visible, &catalog) {
                    checked
                } else {
                    checked.restrict(&visible)
                })
            }
        };
        Ok(Self {
            executor,
            roles,
            visible,
            validator,
            metrics: SourceMetrics::new(Metrics::default(), dialect),
            values: KnownValues::default(),
            semantic,
        })
    }

    /// Counts validator verdicts and executions in `metrics` from now on.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = SourceMetrics::new(metrics, self.visible.dialect);
        self
    }

    /// The schema as the access policy lets it be seen (see [`Catalog::visible_to`]): tables
    /// outside `[database] allowed_tables` and columns in `denied_columns` are not in it. The
    /// same as [`visible_catalog`](Self::visible_catalog); only the validator holds more.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.visible
    }

    /// The policy-filtered schema that prompts, sample values, the value index, the rule
    /// generator, the semantic cache and schema listings are built from.
    pub fn visible_catalog(&self) -> &Arc<Catalog> {
        &self.visible
    }

    /// `[semantic] model`, checked against this source's catalog; `None` without one.
    pub fn semantic(&self) -> Option<&crate::semantic::Semantic> {
        self.semantic.as_ref()
    }

    /// The executor.
    pub fn executor(&self) -> &Arc<dyn Executor> {
        &self.executor
    }

    /// The validator bound to this source's catalog.
    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// The known values of the low-cardinality text columns of the visible catalog (see
    /// [`ValueIndex`]), read by bounded queries that each pass the validator, on the first call,
    /// and shared by every later call and every clone of this source.
    pub(crate) async fn value_index(&self) -> Result<Arc<ValueIndex>> {
        self.values
            .0
            .get_or_try_init(|| async {
                let index = ValueIndex::build(
                    self.executor.as_ref(),
                    &self.validator,
                    &self.visible,
                    &ValueIndexLimits::default(),
                )
                .await?;
                Ok(Arc::new(index))
            })
            .await
            .cloned()
    }

    /// This source as `principal` sees it: the tables its roles grant, their rows and columns
    /// as the roles' filters and masks let it read them (see the [`access`](crate::access)
    /// module). Without `[access]` roles, every principal sees the source as
    /// [`visible_catalog`](Self::visible_catalog) shows it.
    pub async fn view(&self, principal: &crate::access::Principal) -> Result<crate::access::View> {
        let policy = match &self.roles {
            Some(roles) => Some(roles.bind(principal)?),
            None => None,
        };
        Ok(crate::access::View::new(self.clone(), policy))
    }

    /// Whether `[access]` roles apply to this source.
    pub fn has_data_permissions(&self) -> bool {
        self.roles.is_some()
    }

    /// Validates `sql`; nothing reaches the database.
    pub fn validate(&self, sql: &str) -> Result<ValidatedSql> {
        let verdict = self.validator.validate(sql);
        self.count(&verdict);
        verdict
    }

    /// Validates `sql` under a principal's data policy.
    pub(crate) fn validate_under(
        &self,
        sql: &str,
        policy: &crate::access::BoundPolicy,
    ) -> Result<ValidatedSql> {
        let verdict = self.validator.validate_with(sql, policy);
        self.count(&verdict);
        verdict
    }

    fn count(&self, verdict: &Result<ValidatedSql>) {
        match &verdict {
            Ok(_) => {
                self.metrics.accepted.inc();
            }
            Err(crate::Error::SqlRejected { rule, .. }) => {
                self.metrics.validation(rule.as_str().to_string())
            }
            Err(e) => self
                .metrics
                .validation(e.kind().code().to_ascii_lowercase()),
        };
    }

    /// Validates `sql`, then runs the accepted statement read-only.
    pub async fn run(&self, sql: &str) -> Result<(ValidatedSql, QueryResult)> {
        let validated = self.validate(sql)?;
        let result = self.execute(&validated).await?;
        Ok((validated, result))
    }

    /// Runs a statement the validator accepted, read-only, under the row cap and timeout.
    pub async fn execute(&self, validated: &ValidatedSql) -> Result<QueryResult> {
        let result = self.executor.execute(&validated.exec_sql).await;
        match &result {
            Ok(_) => {
                self.metrics.executed.inc();
            }
            Err(e) => self.metrics.execution(e.kind().code().to_ascii_lowercase()),
        };
        result
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::{encoding::text::encode, registry::Registry};

    use super::*;

    #[tokio::test]
    async fn the_value_index_is_built_once_and_shared_by_clones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chinook.sqlite");
        std::fs::write(&path, crate::demo::CHINOOK_SQLITE).expect("copy");
        let url = format!("sqlite://{}", path.display());
        let source = DataSource::connect(&Config::default(), Some(&url))
            .await
            .expect("connects");
        assert!(format!("{source:?}").contains("KnownValues(not built)"));
        let clone = source.clone();
        let a = source.value_index().await.expect("builds");
        let b = clone.value_index().await.expect("shared");
        assert!(
            Arc::ptr_eq(&a, &b),
            "one index for the source and its clones"
        );
        assert!(!a.lookup("germany").is_empty());
        let rule = crate::generate::RuleGenerator::from_source(&clone)
            .await
            .expect("rule generator");
        assert!(Arc::ptr_eq(rule.values(), &a));
    }

    #[tokio::test]
    async fn verdicts_and_executions_are_counted() {
        let mut registry = Registry::default();
        let metrics = Metrics::register(&mut registry);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chinook.sqlite");
        std::fs::write(&path, crate::demo::CHINOOK_SQLITE).expect("copy");
        let url = format!("sqlite://{}", path.display());
        let source = DataSource::connect(&Config::default(), Some(&url))
            .await
            .expect("connects")
            .with_metrics(metrics);
        source
            .run("SELECT Name FROM Artist LIMIT 1")
            .await
            .expect("runs");
        assert!(source.run("DELETE FROM Artist").await.is_err());
        let mut text = String::new();
        encode(&mut text, &registry).expect("encodes");
        assert!(
            text.contains(r#"sql_validations_total{dialect="sqlite",outcome="accepted"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"sql_executions_total{dialect="sqlite",outcome="ok"} 1"#),
            "{text}"
        );
        let rejections = text
            .lines()
            .filter(|l| {
                l.starts_with(r#"sql_validations_total{dialect="sqlite",outcome="#)
                    && !l.contains("accepted")
            })
            .count();
        assert_eq!(
            rejections, 1,
            "the refused DELETE is counted under its rule: {text}"
        );
    }
}
