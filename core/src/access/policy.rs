//! Roles compiled against a catalog, and the policy bound for one principal.

/// Checks that an attribute's value is one a row filter can bind: a string, a number, a
/// boolean, or a list of those.
pub(crate) fn check_attribute(name: &str, value: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    match value {
        v if scalar(v) => Ok(()),
        Value::Array(items) if items.iter().all(scalar) => Ok(()),
        _ => Err(format!(
            "attribute `{name}` must be a string, a number, a boolean or a list of them"
        )),
    }
}

/// The roles of `[access]` compiled against one catalog.
#[derive(Debug, Default)]
#[allow(dead_code)]
pub(crate) struct Roles {}

/// The policy of one principal on one catalog.
#[derive(Debug, Default)]
#[allow(dead_code)]
pub(crate) struct BoundPolicy {}

/// A table as one principal may read it: a derived table's text and tree.
#[derive(Debug)]
#[allow(dead_code)]
pub(crate) struct Derived {}
