//! Self-correction: a validator rejection or a database error goes back to the generator with
//! the SQL it wrote and the reason it failed, up to `[llm] max_retries` times. (In privacy mode
//! the LLM prompt replaces the data values in a database's message before the model reads it;
//! see [`super::scrub`].)

use std::time::Instant;

use tracing::Instrument;

use super::{Generation, GenerationRequest, SqlGenerator};
use crate::{
    access::View,
    answer::Attempt,
    error::{Error, Result},
    exec::QueryResult,
    sql::ValidatedSql,
};

/// The outcome of a question that produced a result.
#[derive(Debug, Clone)]
pub struct Corrected {
    /// The generation that succeeded.
    pub generation: Generation,
    /// Its validated form.
    pub validated: ValidatedSql,
    /// Its result.
    pub result: QueryResult,
    /// Every try, the successful one last.
    pub attempts: Vec<Attempt>,
    /// Milliseconds spent generating, validating and executing, over all tries.
    pub generate_ms: f64,
    /// See `generate_ms`.
    pub validate_ms: f64,
    /// See `generate_ms`.
    pub execute_ms: f64,
}

/// Whether the generator can fix what went wrong by writing other SQL.
fn correctable(e: &Error) -> bool {
    matches!(
        e,
        Error::SqlRejected { .. } | Error::Execution { .. } | Error::Timeout { .. }
    )
}

/// A question the generator answered with a question back: nothing was validated or run.
#[derive(Debug, Clone)]
pub struct Clarified {
    /// The generation that asks (its `clarification` is set, its `sql` empty).
    pub generation: Generation,
    /// The clarification asked.
    pub clarification: crate::answer::Clarification,
    /// The tries before it (the failed ones, when the generator asked after a correction).
    pub attempts: Vec<Attempt>,
    /// Milliseconds spent generating, over all tries.
    pub generate_ms: f64,
}

/// What [`generate_or_clarify`] ends with.
#[derive(Debug, Clone)]
pub enum Generated {
    /// SQL ran.
    Ran(Box<Corrected>),
    /// The generator asked which reading was meant.
    Clarify(Box<Clarified>),
}

/// Generates, validates and runs SQL for `request`, feeding each failure back to `generator`
/// up to `max_retries` more times. A failure is the last try's error. A generation carrying a
/// clarification ends the loop at once: nothing of it is validated or run, and the
/// clarification is returned.
pub async fn generate_or_clarify(
    generator: &dyn SqlGenerator,
    source: &View,
    mut request: GenerationRequest,
    max_retries: u32,
) -> Result<Generated, Error> {
    let (mut generate_ms, mut validate_ms, mut execute_ms) = (0.0, 0.0, 0.0);
    let mut attempts = Vec::new();
    let mut tries = 0;
    loop {
        tries += 1;
        let started = Instant::now();
        let generation = generator
            .generate(&request)
            .instrument(tracing::info_span!("generate", attempt = tries))
            .await;
        generate_ms += ms(started);
        let generation = match generation {
            Ok(g) => g,
            Err(error) => return Err(error),
        };
        if let Some(clarification) = generation.clarification.clone() {
            return Ok(Generated::Clarify(Box::new(Clarified {
                generation,
                clarification,
                attempts,
                generate_ms,
            })));
        }

        let started = Instant::now();
        let verdict = tracing::info_span!("validate", attempt = tries)
            .in_scope(|| source.validate(&generation.sql));
        validate_ms += ms(started);
        let outcome = match verdict {
            Ok(validated) => {
                let started = Instant::now();
                let run = source
                    .execute(&validated)
                    .instrument(tracing::info_span!("execute", attempt = tries))
                    .await;
                execute_ms += ms(started);
                run.map(|result| (validated, result))
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok((validated, result)) => {
                attempts.push(Attempt {
                    sql: generation.sql.clone(),
                    error: None,
                });
                return Ok(Generated::Ran(Box::new(Corrected {
                    generation,
                    validated,
                    result,
                    attempts,
                    generate_ms,
                    validate_ms,
                    execute_ms,
                })));
            }
            Err(error) => {
                let attempt = Attempt {
                    sql: generation.sql.clone(),
                    error: Some(feedback_text(&error)),
                };
                attempts.push(attempt.clone());
                if !correctable(&error) || tries > max_retries {
                    return Err(error);
                }
                tracing::debug!(
                    attempt = tries,
                    code = error.kind().code(),
                    "retrying generation with the error"
                );
                request.feedback.push(attempt);
            }
        }
    }
}

/// What the feedback of a database error starts with; the database's own message follows (in
/// privacy mode the prompt scrubs its values, see [`super::scrub`]).
pub const DATABASE_REPORTED: &str = "the database reported: ";

/// The error as the generator should read it.
fn feedback_text(e: &Error) -> String {
    match e {
        Error::SqlRejected { reason, .. } => format!("rejected by the SQL validator: {reason}"),
        Error::Execution { message } => format!("{DATABASE_REPORTED}{message}"),
        Error::Timeout { timeout_ms } => {
            format!(
                "the query ran longer than {timeout_ms} ms and was cancelled; write a cheaper query"
            )
        }
        other => other.to_string(),
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_messages_follow_their_marker() {
        let text = feedback_text(&Error::Execution {
            message: "division by zero (code 22012)".into(),
        });
        assert_eq!(
            text.strip_prefix(DATABASE_REPORTED),
            Some("division by zero (code 22012)")
        );
    }
}
