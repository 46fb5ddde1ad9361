//! The engine's configuration from Python: an optional TOML file, keyword options laid over it
//! (the same sections and keys as the file), then the runbook's environment variables.

use std::path::{Path, PathBuf};

use conversational_bi::{Config, Error, Result, config::Secret};
use serde_json::Value;

/// What the Python side passes to build a configuration.
#[derive(Debug, Default)]
pub struct ConfigSource {
    /// The TOML file, if any.
    pub path: Option<PathBuf>,
    /// Keyword options as a JSON object of sections (`{"llm": {"provider": "rule"}}`).
    pub overrides: Option<String>,
    /// The LLM key given in code rather than through the environment.
    pub api_key: Option<String>,
}

impl ConfigSource {
    /// Reads, merges and checks the configuration. Errors name the offending key.
    pub fn load(self) -> Result<Config> {
        let overrides = match self.overrides.as_deref() {
            None => None,
            Some(json) => match parse_overrides(json)? {
                Value::Object(map) if map.is_empty() => None,
                v => Some(v),
            },
        };
        let mut config = match (overrides, &self.path) {
            (None, Some(path)) => Config::load(path)?,
            (None, None) => Config::from_env()?,
            (Some(overrides), path) => {
                let mut merged = match path {
                    Some(path) => file_value(path)?,
                    None => Value::Object(serde_json::Map::new()),
                };
                merge(&mut merged, overrides);
                let mut config: Config = serde_path_to_error::deserialize(merged).map_err(|e| {
                    let path = e.path().to_string();
                    option_error(&path, &e.inner().to_string())
                })?;
                config.apply_env(|name| std::env::var(name).ok())?;
                config.resolve(self.path.as_deref())?;
                config
            }
        };
        if let Some(key) = self.api_key.filter(|k| !k.is_empty()) {
            config.llm.api_key = Some(Secret::new(key));
        }
        Ok(config)
    }
}

fn parse_overrides(json: &str) -> Result<Value> {
    match serde_json::from_str::<Value>(json) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(Error::config(
            "options must be sections of the configuration, e.g. llm={\"provider\": \"rule\"}",
        )),
        Err(e) => Err(Error::config(format!(
            "options are not valid configuration values: {e}"
        ))),
    }
}

/// The file as a JSON document, after the core has checked it (so that its errors keep the
/// file's line numbers).
fn file_value(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
        message: format!("cannot read configuration file {}: {e}", path.display()),
        key: None,
        file: Some(path.to_path_buf()),
        line: None,
    })?;
    Config::from_toml_str(&text, Some(path))?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| Error::config(format!("{}: {}", path.display(), e.message())))?;
    serde_json::to_value(table).map_err(|e| Error::config(format!("{}: {e}", path.display())))
}

/// Lays `over` onto `base`: tables merge key by key, any other value replaces.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

/// A configuration error for a keyword option, naming the option as a dotted key.
fn option_error(path: &str, message: &str) -> Error {
    let unknown = message
        .split("unknown field `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string);
    let path = (!path.is_empty() && path != ".").then(|| path.to_string());
    let key = match (path, unknown) {
        (Some(p), Some(field)) if !p.ends_with(&field) => Some(format!("{p}.{field}")),
        (None, Some(field)) => Some(field),
        (p, _) => p,
    };
    Error::Config {
        message: match &key {
            Some(k) => format!("option `{k}`: {message}"),
            None => format!("options: {message}"),
        },
        key,
        file: None,
        line: None,
    }
}
