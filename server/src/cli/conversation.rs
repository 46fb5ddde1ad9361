//! `ask` and `chat`: questions answered by the engine, turn after turn in one conversation.

use std::process::ExitCode;

use conversational_bi::{Answer, Ask, Engine, Error, engine::DEFAULT_TENANT};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{ConversationArgs, EXIT_FAILED, EXIT_OK, EXIT_REJECTED, output};

/// Asks each question in turn in one conversation. With `--json`, prints one Answer (or one
/// `{"error": ...}`) per line. Exits 0 when every question was answered.
pub async fn ask_all(
    engine: &Engine,
    args: &ConversationArgs,
    questions: &[String],
    json_output: bool,
    max_rows: usize,
) -> ExitCode {
    let mut session = args.session.clone();
    let mut worst = EXIT_OK;
    for question in questions {
        match ask_one(engine, args, &mut session, question).await {
            Ok(answer) => {
                if json_output {
                    println!("{}", serde_json::to_string(&answer).unwrap_or_default());
                } else {
                    print!("{}", output::render_answer(question, &answer, max_rows));
                }
            }
            Err(e) => {
                worst = worst.max(code_of(&e));
                report(&e, json_output);
            }
        }
    }
    ExitCode::from(worst)
}

/// The interactive prompt.
pub async fn chat(
    engine: &Engine,
    args: &ConversationArgs,
    json_output: bool,
    max_rows: usize,
) -> ExitCode {
    let tenant = args
        .tenant
        .clone()
        .unwrap_or_else(|| DEFAULT_TENANT.to_string());
    let user = args.principal.user_id.as_deref().unwrap_or_default();
    let mut session = args.session.clone();
    let mut last_sql: Option<String> = None;
    eprintln!(
        "Ask a question about the {} database. Commands: \\sql (last SQL), \\schema, \\history, \\reset, \\quit.",
        engine.schema().database
    );
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        eprint!("> ");
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                eprintln!("cannot read the terminal: {e}");
                return ExitCode::from(EXIT_FAILED);
            }
        };
        let line = line.trim();
        match line {
            "" => continue,
            "\\quit" | "\\q" | "exit" | "quit" => break,
            "\\sql" => println!("{}", last_sql.as_deref().unwrap_or("(no query yet)")),
            "\\schema" => match engine.schema_for(&args.principal).await {
                Ok(catalog) => print!("{}", output::render_catalog(&catalog)),
                Err(e) => eprintln!("{e}"),
            },
            "\\history" => match &session {
                Some(id) => match engine.user_session(&tenant, user, id).await {
                    Ok(state) => {
                        for t in &state.turns {
                            println!("{}. {}\n   {}", t.turn, t.question, t.sql);
                        }
                    }
                    Err(e) => report(&e, json_output),
                },
                None => println!("(no questions yet)"),
            },
            "\\reset" => {
                if let Some(id) = session.take()
                    && let Err(e) = engine.reset_user_session(&tenant, user, &id).await
                {
                    report(&e, json_output);
                }
                last_sql = None;
                println!("(new conversation)");
            }
            cmd if cmd.starts_with('\\') => {
                println!(
                    "unknown command {cmd}; use \\sql, \\schema, \\history, \\reset or \\quit"
                );
            }
            question => match ask_one(engine, args, &mut session, question).await {
                Ok(answer) => {
                    last_sql = Some(answer.sql.clone());
                    if json_output {
                        println!("{}", serde_json::to_string(&answer).unwrap_or_default());
                    } else {
                        print!("{}", output::render_answer(question, &answer, max_rows));
                    }
                }
                Err(e) => report(&e, json_output),
            },
        }
    }
    ExitCode::from(EXIT_OK)
}

async fn ask_one(
    engine: &Engine,
    args: &ConversationArgs,
    session: &mut Option<String>,
    question: &str,
) -> Result<Answer, Error> {
    let mut ask = Ask::new(question);
    ask.session_id = session.clone();
    ask.principal = args.principal.clone();
    ask.principal.tenant_id = args.tenant.clone();
    let answer = engine.ask(ask).await?;
    *session = Some(answer.session_id.clone());
    Ok(answer)
}

fn code_of(e: &Error) -> u8 {
    match e {
        Error::SqlRejected { .. } => EXIT_REJECTED,
        _ => EXIT_FAILED,
    }
}

fn report(e: &Error, json_output: bool) {
    if json_output {
        println!(
            "{}",
            json!({ "error": { "code": e.kind().code(), "message": e.to_string() } })
        );
    } else {
        eprintln!("error [{}]: {e}", e.kind().code());
    }
}
