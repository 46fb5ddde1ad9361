//! The one way a configuration is assembled: [`Config::from_sources`] lays a TOML file, TOML
//! text, section overrides and the environment over the defaults of an [`Interface`].

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use super::{Config, key_path, toml_error};
use crate::error::{Error, Result};

/// The kind of program the engine runs in. It decides the defaults that differ between a
/// shared server and an engine embedded in one program; everything else is the runbook's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interface {
    /// The HTTP server and its command line: exactly the runbook's defaults, per-tenant rate
    /// limits (100 queries a minute, burst 20) included.
    Server,
    /// An engine inside one program (Python, Node.js, UniFFI, the Rust library): the runbook's
    /// defaults, except that rate limiting is off unless the configuration mentions it (any key
    /// of `[production.rate_limiting]`, or the flat `enable_rate_limiting`, `rate_limit_qpm`,
    /// `burst_allowance`). Rate limits protect a shared server; the only user of an embedded
    /// engine is its caller.
    #[default]
    Embedded,
}

impl Interface {
    /// The configuration of this interface when no source sets anything.
    pub fn defaults(self) -> Config {
        let mut config = Config::default();
        self.apply(&mut config, &toml::Table::new());
        config
    }

    /// Applies this interface's defaults to `config`, whose sources set the keys of `explicit`.
    fn apply(self, config: &mut Config, explicit: &toml::Table) {
        if self == Self::Embedded && !mentions_rate_limiting(explicit) {
            config.production.rate_limiting.enabled = false;
        }
    }
}

/// Whether `table` sets anything about rate limiting.
fn mentions_rate_limiting(table: &toml::Table) -> bool {
    let Some(toml::Value::Table(production)) = table.get("production") else {
        return false;
    };
    [
        "rate_limiting",
        "enable_rate_limiting",
        "rate_limit_qpm",
        "burst_allowance",
    ]
    .iter()
    .any(|key| production.contains_key(*key))
}

/// Where the environment variables come from.
#[derive(Clone, Default)]
enum Environment {
    /// The process environment.
    #[default]
    Process,
    /// These variables only (tests, or a program that passes its own).
    Vars(BTreeMap<String, String>),
}

impl Environment {
    fn get(&self, name: &str) -> Option<String> {
        match self {
            Self::Process => std::env::var(name).ok(),
            Self::Vars(vars) => vars.get(name).cloned(),
        }
    }
}

/// The sources of a configuration, lowest precedence first: the [`Interface`]'s defaults, a
/// TOML file, TOML text, section overrides, then the runbook's environment variables. Pass it
/// to [`Config::from_sources`].
///
/// ```
/// use conversational_bi::config::{Config, ConfigSources, Interface};
///
/// let overrides: toml::Table = toml::from_str("database = { max_rows = 10 }").expect("TOML");
/// let config = Config::from_sources(
///     ConfigSources::new(Interface::Embedded)
///         .toml("[database]\nmax_rows = 50\n")
///         .overrides(overrides)
///         .env_vars([("RUST_LOG", "debug")]),
/// )
/// .expect("valid");
/// assert_eq!(config.database.max_rows, 10);
/// assert_eq!(config.logging.level, "debug");
/// ```
#[derive(Clone, Default)]
pub struct ConfigSources {
    interface: Interface,
    file: Option<PathBuf>,
    toml: Option<String>,
    overrides: toml::Table,
    env: Environment,
}

impl std::fmt::Debug for ConfigSources {
    // Text, overrides and variables may hold passwords and keys: only their shape is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigSources")
            .field("interface", &self.interface)
            .field("file", &self.file)
            .field("toml_bytes", &self.toml.as_ref().map(String::len))
            .field(
                "override_sections",
                &self.overrides.keys().collect::<Vec<_>>(),
            )
            .field(
                "env",
                &match &self.env {
                    Environment::Process => "process",
                    Environment::Vars(_) => "given variables",
                },
            )
            .finish()
    }
}

impl ConfigSources {
    /// No file, no text, no overrides, the process environment, the defaults of `interface`.
    pub fn new(interface: Interface) -> Self {
        Self {
            interface,
            ..Self::default()
        }
    }

    /// The TOML file to read (the runbook's `conversational-bi.toml`).
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// TOML text laid over the file (e.g. a configuration bundled with an app).
    pub fn toml(mut self, text: impl Into<String>) -> Self {
        self.toml = Some(text.into());
        self
    }

    /// Sections laid over the file and the text, as the file would write them
    /// (`{database = {max_rows = 10}}`): tables merge key by key, any other value replaces.
    /// Called again, the later overrides win.
    pub fn overrides(mut self, overrides: toml::Table) -> Self {
        merge(&mut self.overrides, overrides);
        self
    }

    /// As [`ConfigSources::overrides`], from a JSON object (the options object of a binding).
    /// A `null` value leaves the key to the lower sources. Fails when `value` is not an object
    /// or holds a value TOML cannot (a `null` inside a list, an integer beyond `i64`).
    pub fn json_overrides(self, value: serde_json::Value) -> Result<Self> {
        match json_to_toml(value, "")? {
            Some(toml::Value::Table(table)) => Ok(self.overrides(table)),
            None => Ok(self),
            Some(other) => Err(Error::config(format!(
                "options must be sections of the configuration, e.g. {{\"llm\": {{\"provider\": \"rule\"}}}}, not a {}",
                other.type_str()
            ))),
        }
    }

    /// Reads the environment variables from `vars` instead of the process environment (pass
    /// an empty list for none).
    pub fn env_vars<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.env = Environment::Vars(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }
}

impl Config {
    /// The configuration of `sources`: the interface's defaults, then the file, the TOML text,
    /// the overrides and the runbook's environment variables, each over the one before; then
    /// the runbook's flat `[production]` aliases are folded and every value is checked.
    ///
    /// A bad key or value is a [`Error::Config`] that names it with its dotted path, and the
    /// file and line when it comes from TOML (`conversational-bi.toml:12: key
    /// \`cache.ttl_seconds\`: invalid type: string "x", expected u64`), the option when it comes
    /// from the overrides, the variable when it comes from the environment. Passwords in URLs
    /// are shown as `***`; keys and secrets are never shown.
    pub fn from_sources(sources: ConfigSources) -> Result<Self> {
        let mut merged = toml::Table::new();
        if let Some(path) = &sources.file {
            let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
                message: format!("cannot read configuration file {}: {e}", path.display()),
                key: None,
                file: Some(path.clone()),
                line: None,
            })?;
            merge(&mut merged, layer(&text, Some(path))?);
        }
        if let Some(text) = &sources.toml {
            merge(&mut merged, layer(text, None)?);
        }
        if !sources.overrides.is_empty() {
            parse_options(sources.overrides.clone())?;
            merge(&mut merged, sources.overrides.clone());
        }
        let mut config = parse_options(merged.clone())?;
        config.apply_env(|name| sources.env.get(name))?;
        sources.interface.apply(&mut config, &merged);
        // A value that fails the checks is named with the file when the file is the only
        // source it can have come from.
        let only_file = sources.toml.is_none() && sources.overrides.is_empty();
        config.resolve(sources.file.as_deref().filter(|_| only_file))?;
        config.origin = sources.file.clone();
        Ok(config)
    }
}

/// The table of one TOML source, checked on its own first so that a bad key is named with its
/// file and line.
fn layer(text: &str, file: Option<&Path>) -> Result<toml::Table> {
    Config::from_toml_str(text, file)?;
    toml::from_str(text).map_err(|e| toml_error(&e, None, text, file))
}

/// The configuration of overrides (no line numbers: an option is named by its path).
fn parse_options(table: toml::Table) -> Result<Config> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let message = super::redact_urls_in(e.inner().message().trim_end());
        let key = key_path(Some(e.path().to_string()), &message);
        Error::Config {
            message: match &key {
                Some(k) => format!("option `{k}`: {message}"),
                None => format!("options: {message}"),
            },
            key,
            file: None,
            line: None,
        }
    })
}

/// Lays `over` onto `base`: tables merge key by key, any other value replaces.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(slot)), toml::Value::Table(value)) => merge(slot, value),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// A JSON value as TOML; `None` for `null` (the key is left out). `path` names the value in
/// errors.
fn json_to_toml(value: serde_json::Value, path: &str) -> Result<Option<toml::Value>> {
    use serde_json::Value as Json;
    let bad = |message: String| Error::Config {
        message: format!("option `{path}`: {message}"),
        key: Some(path.to_string()),
        file: None,
        line: None,
    };
    Ok(Some(match value {
        Json::Null => return Ok(None),
        Json::Bool(b) => toml::Value::Boolean(b),
        Json::String(s) => toml::Value::String(s),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => toml::Value::Integer(i),
            (None, Some(f)) if !n.is_u64() => toml::Value::Float(f),
            _ => return Err(bad(format!("{n} is too large for a configuration value"))),
        },
        Json::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                match json_to_toml(item, &item_path)? {
                    Some(v) => out.push(v),
                    None => {
                        return Err(bad(format!("item {i} is null; a list holds values only")));
                    }
                }
            }
            toml::Value::Array(out)
        }
        Json::Object(map) => {
            let mut table = toml::Table::new();
            for (key, item) in map {
                let item_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if let Some(v) = json_to_toml(item, &item_path)? {
                    table.insert(key, v);
                }
            }
            toml::Value::Table(table)
        }
    }))
}
