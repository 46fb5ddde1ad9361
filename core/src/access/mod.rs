//! Data permissions: who asks ([`Principal`]), what each role of `[access]` lets them read, and
//! the policy bound for one principal on one catalog, which the validator enforces on the
//! checked statement (see `sql::enforce`).
//!
//! A principal's roles are combined as a union, row by row and cell by cell:
//!
//! - a table is in scope when at least one role grants it (and `[database] allowed_tables`
//!   allows it);
//! - a row is visible when at least one role that grants the table lets it be seen (a role
//!   without a row filter on the table lets every row be seen);
//! - a cell shows the clearest form that any role which lets its row be seen gives the column:
//!   in full, else a keyed hash, else a fixed text, else `NULL`; a column that every granting
//!   role denies is not there at all (and `[database] denied_columns` are denied to everyone).
//!
//! A row filter whose placeholder names an attribute the principal lacks lets no row be seen
//! through that role (it fails closed).

mod policy;
mod view;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub(crate) use policy::{BoundPolicy, Derived, Roles};
pub use view::View;

/// Who asks a question: a user of a tenant, with roles and attributes. The default principal
/// (no user, the default tenant, no roles) is that of an embedded engine; it gets
/// `[access] default_roles`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The user asking, who owns the conversation; the default user when `None`.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The tenant asking; the default tenant when `None`.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Data roles of `[access.roles]` (unknown names grant nothing) and API roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Attributes that row filters read as `{user.<name>}`: strings, numbers, booleans or lists
    /// of them.
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
}

impl Principal {
    /// A principal for `user_id` with no roles or attributes.
    pub fn user(user_id: impl Into<String>) -> Self {
        Self {
            user_id: Some(user_id.into()).filter(|u: &String| !u.is_empty()),
            ..Self::default()
        }
    }

    /// Of `tenant_id`.
    pub fn tenant(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// With `role` added.
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.roles.push(role.into());
        self
    }

    /// With the attribute `name` set to `value`.
    pub fn attribute(
        mut self,
        name: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// This principal in `tenant` when it names no tenant of its own. A binding that takes the
    /// tenant both in the user and as an argument calls it; two different tenants are an
    /// `InvalidInput` error that names the argument as `argument(tenant)` words it.
    pub fn in_tenant(
        mut self,
        tenant: Option<String>,
        argument: impl FnOnce(&str) -> String,
    ) -> crate::Result<Self> {
        match (&self.tenant_id, tenant) {
            (Some(own), Some(given)) if *own != given => Err(crate::Error::InvalidInput {
                message: format!(
                    "user: its tenant `{own}` differs from {}; give the tenant once, in either place",
                    argument(&given)
                ),
            }),
            (None, given) => {
                self.tenant_id = given;
                Ok(self)
            }
            (Some(_), _) => Ok(self),
        }
    }

    /// The principal as a JSON object (`{"id", "tenant", "roles", "attributes"}`), the form the
    /// bindings take; every key is optional.
    pub fn from_json(value: &serde_json::Value) -> crate::Result<Self> {
        let bad = |m: String| crate::Error::InvalidInput {
            message: format!(
                "user: {m}; pass an object such as {{\"id\": \"ana\", \"roles\": [\"sales_rep\"], \"attributes\": {{\"employee_id\": 3}}}}"
            ),
        };
        let serde_json::Value::Object(map) = value else {
            return Err(bad("expected an object".into()));
        };
        let mut p = Principal::default();
        for (key, v) in map {
            match key.as_str() {
                "id" | "user_id" => {
                    p.user_id = match v {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                        serde_json::Value::String(_) => None,
                        _ => return Err(bad(format!("`{key}` must be a string"))),
                    }
                }
                "tenant" | "tenant_id" => {
                    p.tenant_id = match v {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) => Some(s.clone()),
                        _ => return Err(bad(format!("`{key}` must be a string"))),
                    }
                }
                "roles" => {
                    p.roles = match v {
                        serde_json::Value::Null => Vec::new(),
                        serde_json::Value::Array(items) => items
                            .iter()
                            .map(|r| r.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| bad("`roles` must be a list of strings".into()))?,
                        _ => return Err(bad("`roles` must be a list of strings".into())),
                    }
                }
                "attributes" => {
                    p.attributes = match v {
                        serde_json::Value::Null => BTreeMap::new(),
                        serde_json::Value::Object(m) => {
                            m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
                        }
                        _ => return Err(bad("`attributes` must be an object".into())),
                    }
                }
                other => {
                    return Err(bad(format!(
                        "unknown key `{other}` (the keys are id, tenant, roles and attributes)"
                    )));
                }
            }
        }
        for (name, value) in &p.attributes {
            policy::check_attribute(name, value).map_err(bad)?;
        }
        Ok(p)
    }
}
