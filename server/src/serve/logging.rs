//! Logs of the server, as `[logging]` says: JSON lines (the runbook's format) or text, at
//! `level` (`RUST_LOG` overrides), to stdout, stderr or a file.
//!
//! Each answered or failed question is one line on target `conversational_bi::query` with the
//! runbook's fields (`timestamp`, `level`, `service`, `tenant_id`, `session_id`, `query`,
//! `latency_ms`, `cache_hit`, `sql_generated`), plus `span.request_id` to match the request.

use std::{fs::OpenOptions, path::Path, sync::Mutex};

use conversational_bi::{
    Error,
    config::{LogFormat, LoggingConfig},
};
use tracing_subscriber::{EnvFilter, fmt::writer::BoxMakeWriter};

fn config_error(key: &str, message: String) -> Error {
    Error::Config {
        message,
        key: Some(key.into()),
        file: None,
        line: None,
    }
}

/// The writer of `output`: `stdout`, `stderr` or a file opened for appending (its folder must
/// exist).
pub fn writer(output: &str) -> Result<BoxMakeWriter, Error> {
    Ok(match output {
        "stdout" | "" => BoxMakeWriter::new(std::io::stdout),
        "stderr" => BoxMakeWriter::new(std::io::stderr),
        path => {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(Path::new(path))
                .map_err(|e| {
                    config_error(
                        "logging.output",
                        format!(
                            "cannot open the log file {path}: {e}; create its folder and let the service user write there (the runbook's unit allows /var/log/heliosdb), or set [logging] output = \"stdout\""
                        ),
                    )
                })?;
            BoxMakeWriter::new(Mutex::new(file))
        }
    })
}

/// The filter of `level` (a level such as `info`, or `RUST_LOG` directives).
pub fn filter(level: &str) -> Result<EnvFilter, Error> {
    EnvFilter::try_new(level).map_err(|e| {
        config_error(
            "logging.level",
            format!(
                "logging level {level:?} is not valid ({e}); use error, warn, info, debug or trace, or RUST_LOG directives such as \"info,conversational_bi=debug\""
            ),
        )
    })
}

/// Installs the process-wide subscriber. Fails on a bad level or an unwritable file; a
/// subscriber installed earlier stays in place.
pub fn init(config: &LoggingConfig) -> Result<(), Error> {
    let filter = filter(&config.level)?;
    let writer = writer(&config.output)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let installed = match config.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
    if let Err(e) = installed {
        eprintln!("warning: logging is already set up: {e}");
    }
    Ok(())
}
