//! Where feedback and promoted verified queries are kept: the [`FeedbackStore`] trait, an
//! embedded SQLite file ([`SqliteFeedbackStore`], WAL and `synchronous = FULL`) and PostgreSQL
//! ([`PostgresFeedbackStore`]). Both create their tables at start (idempotently) and write the
//! same three tables:
//!
//! - `cbi_feedback`: one row per rating (tenant, user, session, turn, question, SQL, rating,
//!   correction, comment, status, time);
//! - `cbi_verified_queries`: one row per promoted query (tenant, the verified query as JSON,
//!   status `active`/`retired`, the version that last changed it);
//! - `cbi_verified_versions`: per tenant, a version raised by every promotion and retirement,
//!   which instances read to know when to reload.

use async_trait::async_trait;

use super::{Feedback, FeedbackFilter, FeedbackStatus, PromotedQuery, Rating, VerifiedStatus};
use crate::{error::Result, semantic::VerifiedQuery};

/// Where feedback and promoted verified queries live. Every write is durable when it returns.
#[async_trait]
pub trait FeedbackStore: Send + Sync + std::fmt::Debug {
    /// Stores a new feedback record.
    async fn insert_feedback(&self, feedback: &Feedback) -> Result<()>;

    /// The record `id` of `tenant_id`, if any.
    async fn feedback(&self, tenant_id: &str, id: &str) -> Result<Option<Feedback>>;

    /// The records of `tenant_id` that pass `filter`, newest first.
    async fn list_feedback(
        &self,
        tenant_id: &str,
        filter: &FeedbackFilter,
    ) -> Result<Vec<Feedback>>;

    /// Sets the status of the record `id` of `tenant_id`; `false` when there is none.
    async fn set_feedback_status(
        &self,
        tenant_id: &str,
        id: &str,
        status: FeedbackStatus,
    ) -> Result<bool>;

    /// Stores `promoted` (its `version` is assigned: the tenant's next), marks its feedback
    /// `promoted`, and raises the tenant's version, in one transaction. Returns the version.
    async fn insert_verified(&self, promoted: &PromotedQuery) -> Result<i64>;

    /// Retires the promoted query `id` of `tenant_id` and raises the tenant's version; `None`
    /// when there is no such query, else the query after the change (a retired one is left
    /// as it is).
    async fn retire_verified(
        &self,
        tenant_id: &str,
        id: &str,
        by: &str,
        at: &str,
    ) -> Result<Option<PromotedQuery>>;

    /// The promoted queries of `tenant_id` (only the active ones when `active_only`), oldest
    /// first.
    async fn list_verified(&self, tenant_id: &str, active_only: bool)
    -> Result<Vec<PromotedQuery>>;

    /// The tenant's version of its promoted queries (0 before the first promotion): one cheap
    /// read.
    async fn verified_version(&self, tenant_id: &str) -> Result<i64>;
}

/// The statements that create the tables; each is idempotent.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS cbi_feedback (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        turn BIGINT NOT NULL,
        rating TEXT NOT NULL,
        question TEXT NOT NULL,
        sql_text TEXT NOT NULL,
        corrected_sql TEXT,
        comment TEXT,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS cbi_feedback_tenant_created ON cbi_feedback (tenant_id, created_at)",
    "CREATE TABLE IF NOT EXISTS cbi_verified_queries (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        feedback_id TEXT,
        definition TEXT NOT NULL,
        status TEXT NOT NULL,
        version BIGINT NOT NULL,
        retired_by TEXT,
        retired_at TEXT
    )",
    "CREATE INDEX IF NOT EXISTS cbi_verified_tenant ON cbi_verified_queries (tenant_id, status)",
    "CREATE TABLE IF NOT EXISTS cbi_verified_versions (
        tenant_id TEXT PRIMARY KEY,
        version BIGINT NOT NULL
    )",
];

const FEEDBACK_COLUMNS: &str = "id, tenant_id, user_id, session_id, turn, rating, question, sql_text, corrected_sql, comment, status, created_at";
const VERIFIED_COLUMNS: &str =
    "id, tenant_id, feedback_id, definition, status, version, retired_by, retired_at";

/// Raises the tenant's version and returns it (a write first, so that a SQLite transaction
/// takes its write lock at once).
const BUMP_VERSION: &str = "INSERT INTO cbi_verified_versions (tenant_id, version) VALUES ($1, 1) \
     ON CONFLICT (tenant_id) DO UPDATE SET version = cbi_verified_versions.version + 1 \
     RETURNING version";

fn store_error(what: &str, e: &sqlx::Error) -> crate::Error {
    crate::Error::ServiceUnavailable {
        service: "feedback store".into(),
        message: format!("{what}: {e}"),
    }
}

fn corrupt(what: &str) -> crate::Error {
    crate::Error::Internal {
        message: format!("the feedback store holds a row it cannot read: {what}"),
    }
}

/// `sql` with PostgreSQL's `$1` placeholders written as SQLite's `?1`.
#[cfg(feature = "sqlite")]
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

/// The filter's `WHERE` clause after the tenant (`$1`), with numbered placeholders from `$2`,
/// and the values to bind, in order.
fn filter_clause(filter: &FeedbackFilter) -> (String, Vec<String>) {
    let mut clause = String::from("tenant_id = $1");
    let mut values = Vec::new();
    let mut add = |column: &str, op: &str, value: String| {
        values.push(value);
        clause.push_str(&format!(" AND {column} {op} ${}", values.len() + 1));
    };
    if let Some(r) = filter.rating {
        add("rating", "=", r.as_str().into());
    }
    if let Some(s) = filter.status {
        add("status", "=", s.as_str().into());
    }
    if let Some(u) = &filter.user_id {
        add("user_id", "=", u.clone());
    }
    if let Some(since) = &filter.since {
        add("created_at", ">=", since.clone());
    }
    (clause, values)
}

macro_rules! sql_store {
    ($store:ident, $row:ty, $fix:expr) => {
        impl $store {
            /// The statement in this database's placeholders. Every statement of the store is
            /// text of this file with numbered placeholders; values are always bound.
            fn sql(&self, sql: &str) -> sqlx::AssertSqlSafe<String> {
                let fix: fn(&str) -> String = $fix;
                sqlx::AssertSqlSafe(fix(sql))
            }

            fn feedback_row(row: &$row) -> Result<Feedback> {
                use sqlx::Row;
                let get = |c: &str| -> Result<String> {
                    row.try_get::<String, _>(c).map_err(|_| corrupt(c))
                };
                let opt = |c: &str| -> Result<Option<String>> {
                    row.try_get::<Option<String>, _>(c).map_err(|_| corrupt(c))
                };
                let turn: i64 = row.try_get("turn").map_err(|_| corrupt("turn"))?;
                Ok(Feedback {
                    id: get("id")?,
                    tenant_id: get("tenant_id")?,
                    user_id: get("user_id")?,
                    session_id: get("session_id")?,
                    turn: u64::try_from(turn).map_err(|_| corrupt("turn"))?,
                    rating: Rating::parse(&get("rating")?).ok_or_else(|| corrupt("rating"))?,
                    question: get("question")?,
                    sql: get("sql_text")?,
                    corrected_sql: opt("corrected_sql")?,
                    comment: opt("comment")?,
                    status: FeedbackStatus::parse(&get("status")?)
                        .ok_or_else(|| corrupt("status"))?,
                    created_at: get("created_at")?,
                })
            }

            fn verified_row(row: &$row) -> Result<PromotedQuery> {
                use sqlx::Row;
                let get = |c: &str| -> Result<String> {
                    row.try_get::<String, _>(c).map_err(|_| corrupt(c))
                };
                let opt = |c: &str| -> Result<Option<String>> {
                    row.try_get::<Option<String>, _>(c).map_err(|_| corrupt(c))
                };
                let query: VerifiedQuery = serde_json::from_str(&get("definition")?)
                    .map_err(|_| corrupt("definition"))?;
                Ok(PromotedQuery {
                    id: get("id")?,
                    tenant_id: get("tenant_id")?,
                    feedback_id: opt("feedback_id")?,
                    query,
                    status: VerifiedStatus::parse(&get("status")?)
                        .ok_or_else(|| corrupt("status"))?,
                    version: row.try_get("version").map_err(|_| corrupt("version"))?,
                    retired_by: opt("retired_by")?,
                    retired_at: opt("retired_at")?,
                })
            }
        }

        #[async_trait]
        impl FeedbackStore for $store {
            async fn insert_feedback(&self, f: &Feedback) -> Result<()> {
                let sql = self.sql(&format!(
                    "INSERT INTO cbi_feedback ({FEEDBACK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                ));
                sqlx::query(sql)
                    .bind(&f.id)
                    .bind(&f.tenant_id)
                    .bind(&f.user_id)
                    .bind(&f.session_id)
                    .bind(i64::try_from(f.turn).unwrap_or(i64::MAX))
                    .bind(f.rating.as_str())
                    .bind(&f.question)
                    .bind(&f.sql)
                    .bind(&f.corrected_sql)
                    .bind(&f.comment)
                    .bind(f.status.as_str())
                    .bind(&f.created_at)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| store_error("cannot store the feedback", &e))?;
                Ok(())
            }

            async fn feedback(&self, tenant_id: &str, id: &str) -> Result<Option<Feedback>> {
                let sql = self.sql(&format!(
                    "SELECT {FEEDBACK_COLUMNS} FROM cbi_feedback WHERE tenant_id = $1 AND id = $2"
                ));
                let row = sqlx::query(sql)
                    .bind(tenant_id)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| store_error("cannot read the feedback", &e))?;
                row.as_ref().map(Self::feedback_row).transpose()
            }

            async fn list_feedback(
                &self,
                tenant_id: &str,
                filter: &FeedbackFilter,
            ) -> Result<Vec<Feedback>> {
                let (clause, values) = filter_clause(filter);
                let limit = i64::try_from(filter.limit()).unwrap_or(i64::MAX);
                let sql = self.sql(&format!(
                    "SELECT {FEEDBACK_COLUMNS} FROM cbi_feedback WHERE {clause} ORDER BY created_at DESC, id DESC LIMIT {limit}"
                ));
                let mut query = sqlx::query(sql).bind(tenant_id);
                for v in values {
                    query = query.bind(v);
                }
                let rows = query
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| store_error("cannot read the feedback", &e))?;
                rows.iter().map(Self::feedback_row).collect()
            }

            async fn set_feedback_status(
                &self,
                tenant_id: &str,
                id: &str,
                status: FeedbackStatus,
            ) -> Result<bool> {
                let sql = self.sql("UPDATE cbi_feedback SET status = $1 WHERE tenant_id = $2 AND id = $3");
                let done = sqlx::query(sql)
                    .bind(status.as_str())
                    .bind(tenant_id)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| store_error("cannot update the feedback", &e))?;
                Ok(done.rows_affected() > 0)
            }

            async fn insert_verified(&self, p: &PromotedQuery) -> Result<i64> {
                use sqlx::Row;
                let definition = serde_json::to_string(&p.query).map_err(|e| crate::Error::Internal {
                    message: format!("cannot write the verified query: {e}"),
                })?;
                let mut tx = self
                    .pool
                    .begin()
                    .await
                    .map_err(|e| store_error("cannot start a transaction", &e))?;
                let version: i64 = sqlx::query(self.sql(BUMP_VERSION))
                    .bind(&p.tenant_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| store_error("cannot raise the version", &e))?
                    .try_get(0)
                    .map_err(|_| corrupt("version"))?;
                let sql = self.sql(&format!(
                    "INSERT INTO cbi_verified_queries ({VERIFIED_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)"
                ));
                sqlx::query(sql)
                    .bind(&p.id)
                    .bind(&p.tenant_id)
                    .bind(&p.feedback_id)
                    .bind(definition)
                    .bind(VerifiedStatus::Active.as_str())
                    .bind(version)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| store_error("cannot store the verified query", &e))?;
                if let Some(feedback) = &p.feedback_id {
                    let sql = self.sql("UPDATE cbi_feedback SET status = $1 WHERE tenant_id = $2 AND id = $3");
                    sqlx::query(sql)
                        .bind(FeedbackStatus::Promoted.as_str())
                        .bind(&p.tenant_id)
                        .bind(feedback)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| store_error("cannot update the feedback", &e))?;
                }
                tx.commit()
                    .await
                    .map_err(|e| store_error("cannot commit the promotion", &e))?;
                Ok(version)
            }

            async fn retire_verified(
                &self,
                tenant_id: &str,
                id: &str,
                by: &str,
                at: &str,
            ) -> Result<Option<PromotedQuery>> {
                use sqlx::Row;
                let select = self.sql(&format!(
                    "SELECT {VERIFIED_COLUMNS} FROM cbi_verified_queries WHERE tenant_id = $1 AND id = $2"
                ));
                let mut tx = self
                    .pool
                    .begin()
                    .await
                    .map_err(|e| store_error("cannot start a transaction", &e))?;
                let version: i64 = sqlx::query(self.sql(BUMP_VERSION))
                    .bind(tenant_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| store_error("cannot raise the version", &e))?
                    .try_get(0)
                    .map_err(|_| corrupt("version"))?;
                let update = self.sql(
                    "UPDATE cbi_verified_queries SET status = $1, version = $2, retired_by = $3, retired_at = $4 \
                     WHERE tenant_id = $5 AND id = $6 AND status = $7",
                );
                let changed = sqlx::query(update)
                    .bind(VerifiedStatus::Retired.as_str())
                    .bind(version)
                    .bind(by)
                    .bind(at)
                    .bind(tenant_id)
                    .bind(id)
                    .bind(VerifiedStatus::Active.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| store_error("cannot retire the verified query", &e))?
                    .rows_affected();
                let row = sqlx::query(select)
                    .bind(tenant_id)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| store_error("cannot read the verified query", &e))?;
                if changed == 0 {
                    // Nothing changed: the version need not move.
                    tx.rollback()
                        .await
                        .map_err(|e| store_error("cannot end the transaction", &e))?;
                } else {
                    tx.commit()
                        .await
                        .map_err(|e| store_error("cannot commit the retirement", &e))?;
                }
                row.as_ref().map(Self::verified_row).transpose()
            }

            async fn list_verified(
                &self,
                tenant_id: &str,
                active_only: bool,
            ) -> Result<Vec<PromotedQuery>> {
                let filter = if active_only { " AND status = $2" } else { "" };
                let sql = self.sql(&format!(
                    "SELECT {VERIFIED_COLUMNS} FROM cbi_verified_queries WHERE tenant_id = $1{filter} ORDER BY version, id"
                ));
                let mut query = sqlx::query(sql).bind(tenant_id);
                if active_only {
                    query = query.bind(VerifiedStatus::Active.as_str());
                }
                let rows = query
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| store_error("cannot read the verified queries", &e))?;
                rows.iter().map(Self::verified_row).collect()
            }

            async fn verified_version(&self, tenant_id: &str) -> Result<i64> {
                let sql = self.sql("SELECT version FROM cbi_verified_versions WHERE tenant_id = $1");
                let version: Option<i64> = sqlx::query_scalar(sql)
                    .bind(tenant_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| store_error("cannot read the version", &e))?;
                Ok(version.unwrap_or(0))
            }
        }
    };
}

/// Feedback in an embedded SQLite file: WAL journal, `synchronous = FULL` (a write is on disk
/// when it returns), a busy timeout for concurrent writers (other instances on the same file).
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone)]
pub struct SqliteFeedbackStore {
    pool: sqlx::SqlitePool,
}

#[cfg(feature = "sqlite")]
impl SqliteFeedbackStore {
    /// Opens (creating it and its folder when missing) the SQLite file at `path` and creates
    /// the tables.
    pub async fn open(path: &std::path::Path) -> Result<Self> {
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                crate::Error::config(format!(
                    "cannot create the folder {} of the feedback store: {e}; set [feedback] path",
                    dir.display()
                ))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| {
                crate::Error::config(format!(
                    "cannot open the feedback store {}: {e}; check [feedback] path",
                    path.display()
                ))
            })?;
        for statement in MIGRATIONS {
            sqlx::query(*statement)
                .execute(&pool)
                .await
                .map_err(|e| store_error("cannot create the feedback tables", &e))?;
        }
        Ok(Self { pool })
    }
}

#[cfg(feature = "sqlite")]
sql_store!(SqliteFeedbackStore, sqlx::sqlite::SqliteRow, sqlite_sql);

/// Feedback in PostgreSQL, shared by every instance that names the same database.
#[cfg(feature = "postgres")]
#[derive(Debug, Clone)]
pub struct PostgresFeedbackStore {
    pool: sqlx::PgPool,
}

#[cfg(feature = "postgres")]
impl PostgresFeedbackStore {
    /// Connects to `url` and creates the tables (under an advisory lock, so that instances
    /// starting together do not race).
    pub async fn connect(url: &str) -> Result<Self> {
        use std::str::FromStr;
        let options = sqlx::postgres::PgConnectOptions::from_str(url)
            .map_err(|_| {
                crate::Error::config(
                    "cannot parse [feedback] url; expected postgres://user:password@host:port/database",
                )
            })?
            .application_name("heliosdb-conversational-bi-feedback");
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| crate::Error::ServiceUnavailable {
                service: "feedback store".into(),
                message: format!(
                    "cannot connect to the PostgreSQL database of [feedback] url: {}",
                    crate::exec::scrub(&e.to_string(), url)
                ),
            })?;
        let mut tx = pool
            .begin()
            .await
            .map_err(|e| store_error("cannot start a transaction", &e))?;
        sqlx::query("SELECT pg_advisory_xact_lock(72201740911)")
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error("cannot lock the feedback tables' creation", &e))?;
        for statement in MIGRATIONS {
            sqlx::query(*statement)
                .execute(&mut *tx)
                .await
                .map_err(|e| store_error("cannot create the feedback tables", &e))?;
        }
        tx.commit()
            .await
            .map_err(|e| store_error("cannot create the feedback tables", &e))?;
        Ok(Self { pool })
    }
}

#[cfg(feature = "postgres")]
sql_store!(PostgresFeedbackStore, sqlx::postgres::PgRow, str::to_string);
