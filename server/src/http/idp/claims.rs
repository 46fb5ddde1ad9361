//! From the verified claims of an external token to the caller, by `[auth.issuers.claims]`.

use std::collections::BTreeMap;

use conversational_bi::config::ClaimMapping;
use serde_json::{Map, Value};

/// The parts of a caller that the claims give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The user id.
    pub user_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The roles.
    pub roles: Vec<String>,
    /// The attributes.
    pub attributes: BTreeMap<String, Value>,
}

/// The claim at `path`: a claim of that whole name first (names such as
/// `https://example.com/roles` contain dots), else a dotted path into nested objects, where
/// each step again prefers the longest name that exists (`realm_access.roles`,
/// `https://example.com/app.roles`).
pub fn lookup<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    // The longest existing prefix first.
    for (i, _) in path.rmatch_indices('.') {
        let (head, rest) = (&path[..i], &path[i + 1..]);
        if let Some(Value::Object(inner)) = claims.get(head)
            && let Some(value) = lookup(inner, rest)
        {
            return Some(value);
        }
    }
    None
}

/// A string claim (a number is taken as its decimal text); `None` when absent, null or empty.
fn text(value: Option<&Value>) -> Result<Option<String>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(()),
    }
}

fn is_attribute_value(value: &Value) -> bool {
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    match value {
        Value::Array(items) => items.iter().all(scalar),
        v => scalar(v),
    }
}

/// The caller of `claims` by `mapping`, or why the token is refused (naming the claim, never
/// its value). `issuer` names the issuer in warnings.
pub fn map(
    claims: &Map<String, Value>,
    mapping: &ClaimMapping,
    issuer: &str,
) -> Result<Mapped, String> {
    let user_id = text(lookup(claims, &mapping.user))
        .map_err(|()| {
            format!(
                "the token's `{}` claim (its user) is not a string",
                mapping.user
            )
        })?
        .ok_or_else(|| format!("the token has no `{}` claim (its user)", mapping.user))?;
    let tenant_id = match text(lookup(claims, &mapping.tenant)) {
        Ok(Some(tenant)) => tenant,
        Ok(None) => mapping.default_tenant.clone().ok_or_else(|| {
            format!(
                "the token has no `{}` claim, which names the tenant, and this issuer has no default tenant",
                mapping.tenant
            )
        })?,
        Err(()) => {
            return Err(format!(
                "the token's `{}` claim (its tenant) is not a string",
                mapping.tenant
            ));
        }
    };
    let roles = match lookup(claims, &mapping.roles) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|r| r.as_str().map(str::trim).map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                format!(
                    "the token's `{}` claim (its roles) must be a list of strings or a space-separated string",
                    mapping.roles
                )
            })?
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect(),
        Some(_) => {
            return Err(format!(
                "the token's `{}` claim (its roles) must be a list of strings or a space-separated string",
                mapping.roles
            ));
        }
    };
    let mut attributes = BTreeMap::new();
    for (name, path) in &mapping.attributes {
        match lookup(claims, path) {
            None | Some(Value::Null) => {}
            Some(value) if is_attribute_value(value) => {
                attributes.insert(name.clone(), value.clone());
            }
            Some(_) => tracing::warn!(
                target: "cbi_server::auth",
                issuer = %issuer,
                attribute = %name,
                claim = %path,
                "attribute ignored: its claim is not a string, a number, a boolean or a list of them"
            ),
        }
    }
    Ok(Mapped {
        user_id,
        tenant_id,
        roles,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().expect("object").clone()
    }

    #[test]
    fn paths_prefer_whole_names_then_walk_objects() {
        let c = claims(json!({
            "sub": "u1",
            "realm_access": { "roles": ["a", "b"] },
            "https://example.com/roles": ["x"],
            "https://example.com/app": { "roles": "y z" },
            "a.b": 1,
            "a": { "b": 2 },
        }));
        assert_eq!(lookup(&c, "realm_access.roles"), Some(&json!(["a", "b"])));
        assert_eq!(lookup(&c, "https://example.com/roles"), Some(&json!(["x"])));
        assert_eq!(
            lookup(&c, "https://example.com/app.roles"),
            Some(&json!("y z"))
        );
        assert_eq!(lookup(&c, "a.b"), Some(&json!(1)), "the whole name first");
        assert_eq!(lookup(&c, "realm_access.groups"), None);
        assert_eq!(lookup(&c, "sub.x"), None);
    }

    #[test]
    fn the_mapping_reads_user_tenant_roles_and_attributes() {
        let mut mapping = ClaimMapping {
            tenant: "org.id".into(),
            roles: "scp".into(),
            ..ClaimMapping::default()
        };
        mapping
            .attributes
            .insert("employee_id".into(), "emp".into());
        mapping
            .attributes
            .insert("regions".into(), "ext.regions".into());
        mapping.attributes.insert("bad".into(), "obj".into());
        mapping.attributes.insert("absent".into(), "nothing".into());
        let c = claims(json!({
            "sub": 42,
            "org": { "id": "acme" },
            "scp": "analyst  read:all",
            "emp": 3,
            "ext": { "regions": ["EU", "US"] },
            "obj": { "nested": true },
        }));
        let mapped = map(&c, &mapping, "https://idp").expect("mapped");
        assert_eq!(mapped.user_id, "42");
        assert_eq!(mapped.tenant_id, "acme");
        assert_eq!(mapped.roles, ["analyst", "read:all"]);
        assert_eq!(
            mapped.attributes,
            BTreeMap::from([
                ("employee_id".to_string(), json!(3)),
                ("regions".to_string(), json!(["EU", "US"])),
            ])
        );
    }

    #[test]
    fn missing_or_malformed_claims_are_named() {
        let mapping = ClaimMapping::default();
        let e = map(&claims(json!({ "tenant_id": "t" })), &mapping, "i").expect_err("no sub");
        assert!(e.contains("`sub`"), "{e}");
        let e = map(&claims(json!({ "sub": "u" })), &mapping, "i").expect_err("no tenant");
        assert!(e.contains("`tenant_id`"), "{e}");
        let with_default = ClaimMapping {
            default_tenant: Some("main".into()),
            ..ClaimMapping::default()
        };
        let mapped = map(&claims(json!({ "sub": "u" })), &with_default, "i").expect("default");
        assert_eq!(mapped.tenant_id, "main");
        assert!(mapped.roles.is_empty());
        let e = map(
            &claims(json!({ "sub": "u", "tenant_id": "t", "roles": [1] })),
            &mapping,
            "i",
        )
        .expect_err("bad roles");
        assert!(e.contains("`roles`"), "{e}");
        let e = map(
            &claims(json!({ "sub": "u", "tenant_id": ["t"] })),
            &with_default,
            "i",
        )
        .expect_err("a list is no tenant");
        assert!(e.contains("not a string"), "{e}");
    }
}
