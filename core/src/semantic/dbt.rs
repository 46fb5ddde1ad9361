//! The dbt MetricFlow importer: `semantic_models:` and `metrics:` YAML become a
//! [`SemanticModel`](super::SemanticModel).

use std::path::Path;

use super::model::SemanticModel;
use crate::error::Result;

/// Whether `text` is a dbt MetricFlow file (its top level has `semantic_models:` or
/// `metrics:`).
pub fn is_dbt(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("semantic_models:") || l.starts_with("metrics:"))
}

/// Imports a dbt MetricFlow file.
pub fn import(text: &str, file: Option<&Path>) -> Result<SemanticModel> {
    let _ = text;
    Err(super::load::config_error(
        file.map(Path::to_path_buf),
        None,
        "",
        "dbt MetricFlow files are not read yet".into(),
    ))
}
