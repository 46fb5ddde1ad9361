//! The engine's feedback API: give feedback, list it, promote it to a verified query, retire
//! one, read the promoted set, export the model.

use std::path::Path;

use super::{
    Feedback, FeedbackFilter, FeedbackStatus, FeedbackSubmission, MAX_PARAPHRASES,
    MAX_SESSION_ID_LEN, PromoteSource, PromotedQuery, Promotion, Rating, VerifiedStatus, is_id,
    normalize_since, now,
};
use crate::{
    Engine,
    access::Principal,
    engine::DEFAULT_TENANT,
    error::{Error, Result},
    semantic::{self, SemanticModel, VerifiedQuery},
};

fn tenant_of(principal: &Principal) -> &str {
    principal.tenant_id.as_deref().unwrap_or(DEFAULT_TENANT)
}

fn user_of(principal: &Principal) -> &str {
    principal.user_id.as_deref().unwrap_or("")
}

fn check_session_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_SESSION_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "session_id must be 1 to {MAX_SESSION_ID_LEN} letters, digits, '.', '_', ':' or '-' (the session_id of an answer)"
        )))
    }
}

fn check_id(what: &str, id: &str) -> Result<()> {
    if is_id(id) {
        Ok(())
    } else {
        let shown: String = id.chars().take(64).collect();
        Err(Error::invalid_input(format!(
            "{shown:?} is not a {what} id; ids are UUIDs such as 0b7c6f1e-3f2a-4c1d-9e8b-2a4d5c6e7f80"
        )))
    }
}

/// Refuses text a store cannot keep or a person should not send: NUL characters.
fn check_text(field: &str, text: &str) -> Result<()> {
    if text.contains('\0') {
        return Err(Error::invalid_input(format!(
            "{field} contains a NUL character; send plain text"
        )));
    }
    Ok(())
}

/// `Error::SqlRejected` with `what` before the validator's reason; any other error as it is.
fn refused(what: &str, e: Error) -> Error {
    match e {
        Error::SqlRejected { rule, reason, sql } => Error::SqlRejected {
            rule,
            reason: format!("{what} is refused: {reason}"),
            sql,
        },
        other => other,
    }
}

impl Engine {
    /// Stores `principal`'s feedback on a turn of one of their own conversations. The turn's
    /// question and SQL are read from the conversation: a session or turn the principal does
    /// not have (another user's session is not theirs) is `INVALID_INPUT` naming it. A
    /// corrected SQL must pass the validator under the principal's data permissions
    /// ([`Engine::view`]): refused, it is `SQL_REJECTED` with the validator's reason, and
    /// nothing is stored.
    pub async fn feedback(
        &self,
        principal: &Principal,
        submission: FeedbackSubmission,
    ) -> Result<Feedback> {
        let hub = self.feedback_hub();
        let tenant_id = tenant_of(principal).to_string();
        let user_id = user_of(principal).to_string();
        check_session_id(&submission.session_id)?;
        if submission.turn == 0 {
            return Err(Error::invalid_input(
                "turn must be 1 or more: the `turn` of the answer rated",
            ));
        }
        let comment = match submission.comment {
            Some(c) if c.trim().is_empty() => None,
            Some(c) => {
                let chars = c.chars().count();
                if chars > hub.max_comment_chars {
                    return Err(Error::invalid_input(format!(
                        "the comment has {chars} characters; at most {} are kept ([feedback] max_comment_chars): shorten it",
                        hub.max_comment_chars
                    )));
                }
                check_text("comment", &c)?;
                Some(c)
            }
            None => None,
        };
        let corrected_sql = match submission.corrected_sql {
            Some(s) if s.trim().is_empty() => {
                return Err(Error::invalid_input(
                    "corrected_sql is empty; leave it out, or send the SQL that answers the question",
                ));
            }
            Some(s) => {
                if s.len() > hub.max_sql_bytes {
                    return Err(Error::invalid_input(format!(
                        "corrected_sql has {} bytes; at most {} are accepted ([feedback] max_sql_bytes)",
                        s.len(),
                        hub.max_sql_bytes
                    )));
                }
                check_text("corrected_sql", &s)?;
                Some(s.trim().to_string())
            }
            None => None,
        };
        let state = self
            .user_session(&tenant_id, &user_id, &submission.session_id)
            .await?;
        if state.turn_count == 0 {
            return Err(Error::invalid_input(format!(
                "you have no session '{}' (it never existed, expired, was reset or is another user's); rate a turn of one of your own conversations",
                submission.session_id
            )));
        }
        let Some(turn) = state.turns.iter().find(|t| t.turn == submission.turn) else {
            return Err(Error::invalid_input(
                if submission.turn > state.turn_count {
                    format!(
                        "session '{}' has no turn {}: it has {} turn(s)",
                        submission.session_id, submission.turn, state.turn_count
                    )
                } else {
                    format!(
                        "turn {} of session '{}' is no longer kept (only the last {} turns are); rate a recent turn",
                        submission.turn,
                        submission.session_id,
                        state.turns.len()
                    )
                },
            ));
        };
        if let Some(sql) = &corrected_sql {
            let view = self.view(principal).await?;
            view.validate(sql)
                .map_err(|e| refused("corrected_sql", e))?;
        }
        let feedback = Feedback {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id,
            user_id,
            session_id: submission.session_id,
            turn: submission.turn,
            rating: submission.rating,
            question: turn.question.clone(),
            sql: turn.sql.clone(),
            corrected_sql,
            comment,
            status: FeedbackStatus::New,
            created_at: now(),
        };
        hub.store().await?.insert_feedback(&feedback).await?;
        tracing::info!(
            target: "conversational_bi::feedback",
            tenant_id = %feedback.tenant_id,
            user_id = %feedback.user_id,
            session_id = %feedback.session_id,
            turn = feedback.turn,
            rating = feedback.rating.as_str(),
            corrected = feedback.corrected_sql.is_some(),
            feedback_id = %feedback.id,
            "feedback stored"
        );
        Ok(feedback)
    }

    /// The feedback of `tenant_id` that passes `filter`, newest first.
    pub async fn list_feedback(
        &self,
        tenant_id: &str,
        filter: &FeedbackFilter,
    ) -> Result<Vec<Feedback>> {
        let mut filter = filter.clone();
        if let Some(since) = &filter.since {
            filter.since = Some(normalize_since(since)?);
        }
        if let Some(limit) = filter.limit
            && !(1..=super::MAX_LIST_LIMIT).contains(&limit)
        {
            return Err(Error::invalid_input(format!(
                "limit {limit} is outside 1..={}",
                super::MAX_LIST_LIMIT
            )));
        }
        let hub = self.feedback_hub();
        match hub.existing_store().await? {
            Some(store) => store.list_feedback(tenant_id, &filter).await,
            None => Ok(Vec::new()),
        }
    }

    /// The feedback record `id` of `tenant_id`; `None` when there is none. A malformed id is
    /// `INVALID_INPUT`.
    pub async fn feedback_record(&self, tenant_id: &str, id: &str) -> Result<Option<Feedback>> {
        check_id("feedback", id)?;
        match self.feedback_hub().existing_store().await? {
            Some(store) => store.feedback(tenant_id, id).await,
            None => Ok(None),
        }
    }

    /// Sets a feedback record of the admin's tenant aside (status `dismissed`).
    pub async fn dismiss_feedback(&self, admin: &Principal, id: &str) -> Result<Feedback> {
        let tenant_id = tenant_of(admin);
        let record = self.existing_feedback(tenant_id, id).await?;
        self.feedback_hub()
            .store()
            .await?
            .set_feedback_status(tenant_id, id, FeedbackStatus::Dismissed)
            .await?;
        Ok(Feedback {
            status: FeedbackStatus::Dismissed,
            ..record
        })
    }

    async fn existing_feedback(&self, tenant_id: &str, id: &str) -> Result<Feedback> {
        self.feedback_record(tenant_id, id).await?.ok_or_else(|| {
            Error::invalid_input(format!(
                "there is no feedback '{id}' in tenant '{tenant_id}'; list it with the admin feedback listing"
            ))
        })
    }

    /// Promotes the feedback record `id` of the admin's tenant to a verified query of that
    /// tenant: its correction, or its answer (see [`Promotion::source`]), with the question,
    /// paraphrases and parameters of `promotion`, verified by the admin now. The query is
    /// checked like a semantic model's (parameters, then the validator) and under the admin's
    /// data permissions; every instance sees it within `[feedback] refresh_secs`.
    pub async fn promote_feedback(
        &self,
        admin: &Principal,
        id: &str,
        promotion: Promotion,
    ) -> Result<PromotedQuery> {
        let tenant_id = tenant_of(admin).to_string();
        let record = self.existing_feedback(&tenant_id, id).await?;
        if record.status == FeedbackStatus::Promoted {
            return Err(Error::invalid_input(format!(
                "feedback '{id}' is already promoted; see the tenant's verified queries"
            )));
        }
        let no_right_sql = || {
            Error::invalid_input(format!(
                "feedback '{id}' rates its answer down and has no correction: there is no right SQL to promote; give it as `sql`"
            ))
        };
        let chosen = match promotion.source {
            Some(PromoteSource::Correction) => record.corrected_sql.clone().ok_or_else(|| {
                Error::invalid_input(format!(
                    "feedback '{id}' has no corrected SQL; promote its answer (source \"answer\") or give the SQL as `sql`"
                ))
            })?,
            Some(PromoteSource::Answer) => {
                if record.rating == Rating::Down && promotion.sql.is_none() {
                    return Err(no_right_sql());
                }
                record.sql.clone()
            }
            None => match (&record.corrected_sql, record.rating) {
                (Some(c), _) => c.clone(),
                (None, Rating::Up) => record.sql.clone(),
                (None, Rating::Down) if promotion.sql.is_some() => record.sql.clone(),
                (None, Rating::Down) => return Err(no_right_sql()),
            },
        };
        let sql = promotion.sql.clone().unwrap_or(chosen);
        let question = promotion
            .question
            .clone()
            .unwrap_or_else(|| record.question.clone());
        let query = VerifiedQuery {
            question,
            paraphrases: promotion.paraphrases,
            sql,
            parameters: promotion.parameters,
            verified_by: user_of(admin).to_string(),
            verified_at: now(),
        };
        self.check_verified(&query)?;
        self.check_verified_view(admin, &query).await?;
        let mut promoted = PromotedQuery {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant_id.clone(),
            feedback_id: Some(record.id.clone()),
            query,
            status: VerifiedStatus::Active,
            version: 0,
            retired_by: None,
            retired_at: None,
        };
        let hub = self.feedback_hub();
        promoted.version = hub.store().await?.insert_verified(&promoted).await?;
        hub.invalidate(&tenant_id);
        tracing::info!(
            target: "conversational_bi::feedback",
            tenant_id = %tenant_id,
            admin = %promoted.query.verified_by,
            feedback_id = %record.id,
            verified_id = %promoted.id,
            version = promoted.version,
            "feedback promoted to a verified query"
        );
        Ok(promoted)
    }

    /// Lengths and characters of a promotion's texts.
    fn check_verified(&self, query: &VerifiedQuery) -> Result<()> {
        let hub = self.feedback_hub();
        if query.paraphrases.len() > MAX_PARAPHRASES {
            return Err(Error::invalid_input(format!(
                "{} paraphrases; at most {MAX_PARAPHRASES} are accepted",
                query.paraphrases.len()
            )));
        }
        for text in std::iter::once(&query.question).chain(&query.paraphrases) {
            if text.chars().count() > hub.max_comment_chars {
                return Err(Error::invalid_input(format!(
                    "a question or paraphrase has more than {} characters ([feedback] max_comment_chars)",
                    hub.max_comment_chars
                )));
            }
            check_text("question", text)?;
        }
        if query.sql.len() > hub.max_sql_bytes {
            return Err(Error::invalid_input(format!(
                "the SQL has {} bytes; at most {} are accepted ([feedback] max_sql_bytes)",
                query.sql.len(),
                hub.max_sql_bytes
            )));
        }
        check_text("sql", &query.sql)
    }

    /// The semantic model's checks of a verified query (question, parameters, SQL against the
    /// catalog and the validator), then its SQL with the parameters filled under the admin's
    /// data permissions.
    async fn check_verified_view(&self, admin: &Principal, query: &VerifiedQuery) -> Result<()> {
        let view = self.view(admin).await?;
        let source = view.source();
        let dialect = source.catalog().dialect;
        // The SQL with its parameters filled passes the validator under the admin's data
        // permissions (a statement that writes is refused here, with the validator's reason);
        // an undeclared parameter leaves it unbound, for the model's check to name.
        let bound = semantic::verified::with_placeholders(dialect, query);
        if let Some(bound) = bound {
            view.validate(&bound)
                .map_err(|e| refused("the verified query's SQL", e))?;
        }
        semantic::verified::check_one(query, source.catalog(), source.validator()).map_err(
            |(key, message)| Error::invalid_input(format!("the verified query{key}: {message}")),
        )?;
        Ok(())
    }

    /// Retires the promoted verified query `id` of the admin's tenant: it is no longer matched
    /// nor exported (kept for the record). Every instance sees it within
    /// `[feedback] refresh_secs`.
    pub async fn retire_verified(&self, admin: &Principal, id: &str) -> Result<PromotedQuery> {
        check_id("verified query", id)?;
        let tenant_id = tenant_of(admin);
        let hub = self.feedback_hub();
        let not_found = || {
            Error::invalid_input(format!(
                "there is no verified query '{id}' in tenant '{tenant_id}'; list them with the admin verified listing"
            ))
        };
        let Some(store) = hub.existing_store().await? else {
            return Err(not_found());
        };
        let retired = store
            .retire_verified(tenant_id, id, user_of(admin), &now())
            .await?
            .ok_or_else(not_found)?;
        hub.invalidate(tenant_id);
        tracing::info!(
            target: "conversational_bi::feedback",
            tenant_id = %tenant_id,
            admin = user_of(admin),
            verified_id = %id,
            "verified query retired"
        );
        Ok(retired)
    }

    /// The promoted verified queries of `tenant_id` as the store keeps them (the retired ones
    /// too when `include_retired`), oldest first.
    pub async fn list_verified(
        &self,
        tenant_id: &str,
        include_retired: bool,
    ) -> Result<Vec<PromotedQuery>> {
        match self.feedback_hub().existing_store().await? {
            Some(store) => store.list_verified(tenant_id, !include_retired).await,
            None => Ok(Vec::new()),
        }
    }

    /// The active verified queries promoted for `tenant_id`, as the semantic model writes them
    /// (to be matched with the model's `verified_queries`). Cheap: the store's version is read
    /// at most every `[feedback] refresh_secs`, the list only when it moved.
    pub async fn promoted_verified(&self, tenant_id: &str) -> Result<Vec<VerifiedQuery>> {
        Ok(self
            .feedback_hub()
            .promoted(tenant_id)
            .await?
            .as_ref()
            .clone())
    }

    /// The semantic model of `tenant_id`'s database as YAML to commit to version control: the
    /// configured model (its tables, relationships, rules and verified queries) with the
    /// active promoted queries added to `verified_queries` (those already in the model are not
    /// repeated). The text is checked before it is returned: it parses with
    /// [`semantic::parse`] and passes [`semantic::check`] against the tenant's catalog.
    pub async fn export_semantic_yaml(&self, tenant_id: &str) -> Result<String> {
        let source = self.source_for_tenant(tenant_id).await?;
        let mut model: SemanticModel = source
            .semantic()
            .map(|s| s.model().clone())
            .unwrap_or_default();
        let promoted = match self.feedback_hub().existing_store().await? {
            Some(store) => store.list_verified(tenant_id, true).await?,
            None => Vec::new(),
        };
        for p in promoted {
            let known = model
                .verified_queries
                .iter()
                .any(|v| v.question == p.query.question && v.sql == p.query.sql);
            if !known {
                model.verified_queries.push(p.query);
            }
        }
        let yaml = serde_yaml_ng::to_string(&model).map_err(|e| Error::Internal {
            message: format!("cannot write the semantic model as YAML: {e}"),
        })?;
        let mut located = semantic::Located::default();
        located.add(yaml.clone(), Some(Path::new("export.yaml")))?;
        semantic::check(
            &located,
            source.catalog(),
            source.visible_catalog(),
            source.validator(),
        )?;
        Ok(yaml)
    }
}
