//! Command-line interface: argument parsing, the server (`serve`, the default), `hash-password`,
//! and the commands that work on one database without a server (`schema`, `validate`, `run`,
//! `ask`, `chat`, `eval`).

mod conversation;
mod demo;
mod eval;
mod output;
mod password;

use std::{io::IsTerminal, path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand};
use conversational_bi::{
    Config, DataSource, Engine, Error,
    config::{ConfigSources, Interface},
};
use serde_json::json;

/// Exit code of a command that succeeded.
const EXIT_OK: u8 = 0;
/// Exit code of a runtime failure (database unreachable, query failed, timeout).
const EXIT_FAILED: u8 = 1;
/// Exit code of a configuration or usage error.
const EXIT_USAGE: u8 = 2;
/// Exit code of a statement refused by the SQL validator.
const EXIT_REJECTED: u8 = 3;

/// HeliosDB Conversational BI: questions in plain words to safe, read-only SQL.
#[derive(Debug, Parser)]
#[command(name = "heliosdb-conversational-bi", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML, as in the runbook). Without it, defaults and environment
    /// variables apply.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Show the engine's log lines on stderr, at `[logging] level` (`RUST_LOG` wins). Without
    /// it (and without `RUST_LOG`) a command prints its output and errors only. `serve` logs
    /// as `[logging]` says either way.
    #[arg(long, short, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API and the metrics endpoint (the default when no command is given).
    Serve,
    /// Run the web app on 127.0.0.1 for yourself: the built-in demo database (or `[database]
    /// url`), no configuration, and a one-time sign-in link printed here.
    Demo {
        /// The port on 127.0.0.1 (a taken port falls back to a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// Read a password from standard input and print its argon2 hash for `[auth] users`.
    HashPassword,
    /// Print the schema the engine sees (tables, views, columns, keys, comments).
    Schema {
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Judge one SQL statement without running it. Exits 0 when accepted, 3 when rejected.
    Validate {
        #[command(flatten)]
        source: SourceArgs,
        /// The SQL statement (quote it).
        sql: String,
    },
    /// Validate one SQL statement, then run it read-only and print the result.
    Run {
        #[command(flatten)]
        source: SourceArgs,
        /// The SQL statement (quote it).
        sql: String,
    },
    /// Answer questions in plain words; several questions are successive turns of one
    /// conversation.
    Ask {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        conversation: ConversationArgs,
        /// One or more questions (quote each).
        #[arg(required = true, value_name = "QUESTION")]
        questions: Vec<String>,
    },
    /// Score a generator on golden questions (Spider/SParC JSON or CSV) by execution accuracy.
    Eval(eval::EvalArgs),
    /// An interactive conversation: type questions; \reset, \sql, \schema, \history, \quit.
    Chat {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        conversation: ConversationArgs,
    },
}

#[derive(Debug, Args)]
struct ConversationArgs {
    /// The conversation to continue (default: a new one).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// The tenant asking (default: "default").
    #[arg(long, value_name = "T")]
    tenant: Option<String>,
    /// Who asks (from the source arguments).
    #[arg(skip)]
    principal: conversational_bi::Principal,
}

#[derive(Debug, Args)]
struct SourceArgs {
    /// Database URL: sqlite://PATH, postgres://USER@HOST/DB or mysql://USER@HOST/DB. Default:
    /// `[database] url`, then DATABASE_URL, then the built-in Chinook demo database.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Print machine-readable JSON.
    #[arg(long)]
    json: bool,
    /// Ask, list or run as this user (data permissions of `[access]`; default: the default
    /// principal, which has `[access] default_roles`).
    #[arg(long = "as-user", value_name = "ID")]
    user: Option<String>,
    /// A data role of `[access.roles]` of the principal (repeat for several).
    #[arg(long = "role", value_name = "ROLE")]
    roles: Vec<String>,
    /// An attribute of the principal as NAME=VALUE; the value is read as JSON when it is
    /// (`employee_id=3`, `countries=["France","Spain"]`), else as text (repeat for several).
    #[arg(long = "attr", value_name = "NAME=VALUE")]
    attributes: Vec<String>,
}

impl SourceArgs {
    /// The principal the arguments name.
    fn principal(&self, tenant: Option<&str>) -> Result<conversational_bi::Principal, Error> {
        let mut p = conversational_bi::Principal {
            user_id: self.user.clone().filter(|u| !u.is_empty()),
            tenant_id: tenant.map(str::to_string),
            roles: self.roles.clone(),
            ..Default::default()
        };
        for a in &self.attributes {
            let Some((name, value)) = a.split_once('=') else {
                return Err(Error::InvalidInput {
                    message: format!("--attr {a:?}: write NAME=VALUE, e.g. --attr employee_id=3"),
                });
            };
            let value = serde_json::from_str(value)
                .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
            p.attributes.insert(name.trim().to_string(), value);
        }
        // The same checks as a binding's `user=`.
        conversational_bi::Principal::from_json(
            &serde_json::to_value(&p.attributes)
                .map_or(json!({}), |attributes| json!({ "attributes": attributes })),
        )?;
        Ok(p)
    }
}

/// Parses the arguments, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Some(Command::HashPassword)) {
        return password::hash_from_stdin();
    }
    // The server's defaults are the runbook's, rate limits included.
    let sources = ConfigSources::new(Interface::Server);
    let config = Config::from_sources(match &cli.config {
        Some(path) => sources.file(path),
        None => sources,
    });
    let json_output = match &cli.command {
        Some(
            Command::Schema { source }
            | Command::Validate { source, .. }
            | Command::Run { source, .. }
            | Command::Ask { source, .. }
            | Command::Chat { source, .. },
        ) => source.json,
        Some(Command::Eval(args)) => args.json(),
        Some(Command::Serve | Command::HashPassword | Command::Demo { .. }) | None => false,
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => return fail(&e, json_output, EXIT_USAGE),
    };
    let command = match cli.command {
        None | Some(Command::Serve) => return crate::serve::run(config),
        Some(Command::Demo { port }) => return demo::run(config, port),
        Some(command) => command,
    };
    init_logging(&config, cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(
                &Error::internal(format!("cannot start the runtime: {e}")),
                json_output,
                EXIT_FAILED,
            );
        }
    };
    runtime.block_on(run_command(command, &config))
}

/// The source as the principal of the arguments sees it.
async fn view_of(
    ds: &DataSource,
    source: &SourceArgs,
) -> Result<conversational_bi::access::View, Error> {
    ds.view(&source.principal(None)?).await
}

async fn run_command(command: Command, config: &Config) -> ExitCode {
    match command {
        Command::Serve | Command::HashPassword | Command::Demo { .. } => ExitCode::from(EXIT_USAGE),
        Command::Schema { source } => {
            let ds = match DataSource::connect(config, source.database.as_deref()).await {
                Ok(ds) => ds,
                Err(e) => return fail(&e, source.json, EXIT_FAILED),
            };
            let view = match view_of(&ds, &source).await {
                Ok(v) => v,
                Err(e) => return fail(&e, source.json, exit_code_of(&e)),
            };
            if source.json {
                println!("{}", to_json(view.catalog().as_ref()));
            } else {
                print!("{}", output::render_catalog(view.catalog()));
            }
            ExitCode::from(EXIT_OK)
        }
        Command::Validate { source, sql } => {
            let ds = match DataSource::connect(config, source.database.as_deref()).await {
                Ok(ds) => ds,
                Err(e) => return fail(&e, source.json, EXIT_FAILED),
            };
            let view = match view_of(&ds, &source).await {
                Ok(v) => v,
                Err(e) => return fail(&e, source.json, exit_code_of(&e)),
            };
            match view.validate(&sql) {
                Ok(v) => {
                    if source.json {
                        println!("{}", json!({ "accepted": true, "sql": v.sql }));
                    } else {
                        println!("accepted\n{}", v.sql);
                    }
                    ExitCode::from(EXIT_OK)
                }
                Err(e) => rejected_or_failed(&e, source.json),
            }
        }
        Command::Run { source, sql } => {
            let ds = match DataSource::connect(config, source.database.as_deref()).await {
                Ok(ds) => ds,
                Err(e) => return fail(&e, source.json, EXIT_FAILED),
            };
            let view = match view_of(&ds, &source).await {
                Ok(v) => v,
                Err(e) => return fail(&e, source.json, exit_code_of(&e)),
            };
            match view.run(&sql).await {
                Ok((validated, result)) => {
                    if source.json {
                        println!(
                            "{}",
                            json!({
                                "sql": validated.sql,
                                "columns": result.columns,
                                "rows": result.rows,
                                "row_count": result.rows.len(),
                                "truncated": result.truncated,
                                "elapsed_ms": result.elapsed_ms,
                            })
                        );
                    } else {
                        print!(
                            "{}",
                            output::render_result(
                                &validated.sql,
                                &result,
                                config.database.max_rows
                            )
                        );
                    }
                    ExitCode::from(EXIT_OK)
                }
                Err(e) => rejected_or_failed(&e, source.json),
            }
        }
        Command::Ask {
            source,
            mut conversation,
            questions,
        } => {
            conversation.principal = match source.principal(conversation.tenant.as_deref()) {
                Ok(p) => p,
                Err(e) => return fail(&e, source.json, EXIT_USAGE),
            };
            let engine = match engine(config, &source).await {
                Ok(e) => e,
                Err(e) => return fail(&e, source.json, exit_code_of(&e)),
            };
            conversation::ask_all(
                &engine,
                &conversation,
                &questions,
                source.json,
                config.database.max_rows,
            )
            .await
        }
        Command::Eval(args) => match eval::run(&args, config).await {
            Ok(code) => code,
            Err(e) => fail(&e, args.json(), exit_code_of(&e)),
        },
        Command::Chat {
            source,
            mut conversation,
        } => {
            conversation.principal = match source.principal(conversation.tenant.as_deref()) {
                Ok(p) => p,
                Err(e) => return fail(&e, source.json, EXIT_USAGE),
            };
            let engine = match engine(config, &source).await {
                Ok(e) => e,
                Err(e) => return fail(&e, source.json, exit_code_of(&e)),
            };
            conversation::chat(
                &engine,
                &conversation,
                source.json,
                config.database.max_rows,
            )
            .await
        }
    }
}

async fn engine(config: &Config, source: &SourceArgs) -> Result<Engine, Error> {
    let mut builder = Engine::builder().config(config.clone());
    if let Some(url) = &source.database {
        builder = builder.database_url(url.clone());
    }
    builder.build().await
}

/// Configuration problems are usage errors (2); everything else is a runtime failure (1).
fn exit_code_of(e: &Error) -> u8 {
    if e.kind() == conversational_bi::ErrorKind::Config {
        EXIT_USAGE
    } else {
        EXIT_FAILED
    }
}

/// Prints a validator verdict (exit 3) or another error (exit 1).
fn rejected_or_failed(e: &Error, json_output: bool) -> ExitCode {
    match e {
        Error::SqlRejected { rule, reason, .. } => {
            if json_output {
                println!(
                    "{}",
                    json!({ "accepted": false, "rule": rule, "reason": reason })
                );
            } else {
                println!("rejected ({rule}): {reason}");
            }
            ExitCode::from(EXIT_REJECTED)
        }
        other => fail(other, json_output, EXIT_FAILED),
    }
}

/// Reports an error on stdout as JSON (`{"error": {"code", "message"}}`) or on stderr as text.
fn fail(e: &Error, json_output: bool, code: u8) -> ExitCode {
    if json_output {
        println!(
            "{}",
            json!({ "error": { "code": e.kind().code(), "message": e.to_string() } })
        );
    } else {
        eprintln!("error [{}]: {e}", e.kind().code());
    }
    ExitCode::from(code)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The commands other than `serve` log nothing by default: their output and their error
/// messages are what a person reads, and the engine's log line of a failed question would say
/// the error a second time. `RUST_LOG` (its directives) or `--verbose` (`[logging] level`)
/// turn the log lines on, as text on stderr, coloured only on a terminal.
fn init_logging(config: &Config, verbose: bool) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => v,
        _ if verbose => config.logging.level.clone(),
        _ => return,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
