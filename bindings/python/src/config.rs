//! The engine's configuration from Python: an optional TOML file, then the keyword options laid
//! over it (the same sections and keys as the file), then the runbook's environment variables,
//! assembled by the core's one entry point, [`Config::from_sources`].

use std::path::PathBuf;

use conversational_bi::{
    Config, Error, Result,
    config::{ConfigSources, Interface, Secret},
};
use serde_json::Value;

/// What the Python side passes to build a configuration.
#[derive(Debug, Default)]
pub struct ConfigSource {
    /// The TOML file, if any.
    pub path: Option<PathBuf>,
    /// Keyword options as JSON: a list of objects of sections (`[{"llm": {"provider":
    /// "rule"}}, {"database": {"max_rows": 5}}]`), each laid over the ones before it (a single
    /// object is a list of one). An `api_key` in an `llm` section is the model's key given in
    /// code rather than through the environment (the last one given wins).
    pub overrides: Option<String>,
}

impl ConfigSource {
    /// Reads, merges and checks the configuration. Errors name the offending key.
    pub fn load(self) -> Result<Config> {
        let mut sources = ConfigSources::new(Interface::Embedded);
        if let Some(path) = self.path {
            sources = sources.file(path);
        }
        let mut api_key = None;
        if let Some(json) = self.overrides.as_deref() {
            let layers = match serde_json::from_str(json) {
                Ok(Value::Array(layers)) => layers,
                Ok(layer) => vec![layer],
                Err(e) => {
                    return Err(Error::config(format!(
                        "options are not valid configuration values: {e}"
                    )));
                }
            };
            for mut layer in layers {
                // The key goes to the engine on its own: the configuration file has no place
                // for it, and it is never shown.
                if let Some(key) = take_api_key(&mut layer)? {
                    api_key = Some(key);
                }
                sources = sources.json_overrides(layer)?;
            }
        }
        let mut config = Config::from_sources(sources)?;
        if let Some(key) = api_key {
            config.llm.api_key = Some(Secret::new(key));
        }
        Ok(config)
    }
}

/// Removes `llm.api_key` from an options object and returns it.
fn take_api_key(layer: &mut Value) -> Result<Option<String>> {
    let Some(Value::Object(llm)) = layer.get_mut("llm") else {
        return Ok(None);
    };
    match llm.remove("api_key") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(key)) => Ok(Some(key).filter(|k| !k.is_empty())),
        Some(_) => Err(Error::Config {
            message: "option `llm.api_key` must be a string".into(),
            key: Some("llm.api_key".into()),
            file: None,
            line: None,
        }),
    }
}
