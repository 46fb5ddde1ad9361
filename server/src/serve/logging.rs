//! Logs of the server, as `[logging]` says: JSON lines (the runbook's format) or text, at
//! `level` (`RUST_LOG` overrides), to stdout, stderr or a file.
//!
//! Each answered or failed question is one line on target `conversational_bi::query` with the
//! runbook's fields (`timestamp`, `level`, `service`, `tenant_id`, `session_id`, `query`,
//! `latency_ms`, `cache_hit`, `sql_generated`), plus `span.request_id` to match the request.
//! The `query` is the question as the input guard cleaned it.
//!
//! Values that come from requests (user names, questions, session ids, errors quoting them)
//! cannot forge log lines: JSON lines escape them as JSON does, and text lines escape their
//! control characters (see [`EscapedFields`]).

use std::{
    fmt::{self, Write as _},
    fs::OpenOptions,
    path::Path,
    sync::Mutex,
};

use conversational_bi::{
    Error,
    config::{LogFormat, LoggingConfig},
};
use tracing::{
    Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{
    EnvFilter,
    field::RecordFields,
    fmt::{FormatFields, format::Writer, writer::BoxMakeWriter},
    util::SubscriberInitExt,
};

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

/// The subscriber of `config` (format and level) writing to `writer`. Fails on a bad level.
pub fn subscriber(
    config: &LoggingConfig,
    writer: BoxMakeWriter,
) -> Result<Box<dyn Subscriber + Send + Sync>, Error> {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(&config.level)?)
        .with_writer(writer);
    Ok(match config.format {
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
        LogFormat::Text => Box::new(builder.with_ansi(false).fmt_fields(EscapedFields).finish()),
    })
}

/// Installs the process-wide subscriber. Fails on a bad level or an unwritable file; a
/// subscriber installed earlier stays in place.
pub fn init(config: &LoggingConfig) -> Result<(), Error> {
    filter(&config.level)?;
    let writer = writer(&config.output)?;
    if let Err(e) = subscriber(config, writer)?.try_init() {
        eprintln!("warning: logging is already set up: {e}");
    }
    Ok(())
}

/// Text-format fields (`[logging] format = "text"`) with every control character of their
/// values escaped, so that a value sent by a client (a user name, a question, a session id, an
/// error that quotes them) stays on its log line and cannot paint the terminal: `\n`, `\r` and
/// `\t` are written as such, other C0 and C1 controls, DEL, the Unicode line and paragraph
/// separators and the bidirectional controls as `\u{..}`. Backslashes are left as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct EscapedFields;

impl<'w> FormatFields<'w> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = EscapingVisitor {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct EscapingVisitor<'a, 'w> {
    writer: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl EscapingVisitor<'_, '_> {
    fn write(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        let separator = if std::mem::take(&mut self.first) {
            ""
        } else {
            " "
        };
        let writer = &mut *self.writer;
        self.result = (|| {
            writer.write_str(separator)?;
            if name != "message" {
                write!(writer, "{}=", name.strip_prefix("r#").unwrap_or(name))?;
            }
            write!(Escaping(writer), "{value}")
        })();
    }
}

impl Visit for EscapingVisitor<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.write(field, format_args!("{value}"));
        } else {
            self.write(field, format_args!("{value:?}"));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.write(field, format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.write(field, format_args!("{value:?}"));
    }
}

/// A writer that escapes what [`EscapedFields`] escapes.
struct Escaping<W>(W);

impl<W: fmt::Write> fmt::Write for Escaping<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(at) = rest.find(needs_escape) {
            self.0.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            match c {
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                c => write!(self.0, "\\u{{{:x}}}", u32::from(c))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with control characters escaped as [`EscapedFields`] writes them.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let _ = fmt::Write::write_str(&mut Escaping(&mut out), text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(
            escape_controls("ana\nINFO forged\r\u{1b}[31mred\tx"),
            "ana\\nINFO forged\\r\\u{1b}[31mred\\tx"
        );
        assert_eq!(
            escape_controls("a\u{85}b\u{9b}c\u{7f}d\u{2028}e\u{202e}f\u{0}"),
            "a\\u{85}b\\u{9b}c\\u{7f}d\\u{2028}e\\u{202e}f\\u{0}"
        );
        assert_eq!(escape_controls("zoë \\ 'x' \"y\""), "zoë \\ 'x' \"y\"");
    }
}
