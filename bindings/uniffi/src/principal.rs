//! Who asks: the [`Principal`] record, mapped onto the core's principal.

use conversational_bi::{Error as CoreError, Principal as CorePrincipal};
use serde_json::{Value, json};

/// Who asks a question (the `user` argument of `ask`, `session`, `reset_session`,
/// `list_sessions`, `rename_session` and `schema`); every field is optional.
///
/// The attributes are one JSON object in text, `attributes_json`, because their values are
/// typed (a number, a string, a boolean or a list of them, compared as such by the row filters
/// of `[access]`), which a map of strings cannot say. Write it as a string literal or with the
/// language's JSON encoder: in Kotlin
/// `Principal(userId = "jane", roles = listOf("sales_rep"), attributesJson = """{"employee_id": 3}""")`,
/// in Swift
/// `Principal(userId: "jane", roles: ["sales_rep"], attributesJson: #"{"employee_id": 3}"#)`.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct Principal {
    /// The user: the conversation is theirs, and no other user can read, continue or reset it.
    /// Absent or empty: the engine's default user.
    #[uniffi(default = None)]
    pub user_id: Option<String>,
    /// The user's tenant (or the call's `tenant_id` argument; two different tenants are an
    /// error).
    #[uniffi(default = None)]
    pub tenant_id: Option<String>,
    /// Roles of `[access.roles]`: their policies decide which tables, rows and columns the
    /// user's answers show.
    #[uniffi(default = [])]
    pub roles: Vec<String>,
    /// What the roles' row filters read as `{user.<name>}`, as a JSON object: values are
    /// strings, numbers, booleans or lists of them (`{"employee_id": 3, "regions": ["EU"]}`).
    #[uniffi(default = None)]
    pub attributes_json: Option<String>,
}

/// The core's principal of a call: `user` (the default user when `None`) in `tenant_id` when
/// the user names no tenant. Read by [`CorePrincipal::from_json`], so a bad attribute is an
/// `InvalidInput` error with the core's message; a tenant in both places that differs is one
/// too.
pub fn principal(
    tenant_id: Option<String>,
    user: Option<Principal>,
) -> Result<CorePrincipal, CoreError> {
    let principal = match user {
        None => CorePrincipal::default(),
        Some(user) => {
            let attributes = match user.attributes_json.as_deref().map(str::trim) {
                None | Some("") => Value::Null,
                Some(text) => match serde_json::from_str(text) {
                    Ok(object @ Value::Object(_)) => object,
                    Ok(_) => return Err(not_an_object("a JSON value that is not an object")),
                    Err(e) => return Err(not_an_object(&format!("not JSON ({e})"))),
                },
            };
            CorePrincipal::from_json(&json!({
                "id": user.user_id,
                "tenant": user.tenant_id,
                "roles": user.roles,
                "attributes": attributes,
            }))?
        }
    };
    principal.in_tenant(tenant_id, |given| {
        format!("the `tenant_id` argument `{given}`")
    })
}

fn not_an_object(what: &str) -> CoreError {
    CoreError::invalid_input(format!(
        "user: `attributes_json` is {what}; pass a JSON object such as {{\"employee_id\": 3, \"regions\": [\"EU\"]}}"
    ))
}

#[cfg(test)]
mod tests {
    use conversational_bi::ErrorKind;

    use super::*;

    fn jane(attributes: &str) -> Principal {
        Principal {
            user_id: Some("jane".into()),
            roles: vec!["sales_rep".into()],
            attributes_json: Some(attributes.into()),
            ..Principal::default()
        }
    }

    #[test]
    fn a_principal_maps_onto_the_core_one() {
        let p = principal(None, Some(jane(r#"{"employee_id": 3, "regions": ["EU"]}"#)))
            .expect("a valid principal");
        assert_eq!(
            p,
            CorePrincipal::user("jane")
                .role("sales_rep")
                .attribute("employee_id", 3)
                .attribute("regions", json!(["EU"]))
        );
        assert_eq!(
            principal(None, None).expect("no user"),
            CorePrincipal::default()
        );
        let blank = principal(Some("acme".into()), Some(jane("  "))).expect("blank attributes");
        assert_eq!(blank.tenant_id.as_deref(), Some("acme"));
        assert!(blank.attributes.is_empty());
    }

    #[test]
    fn the_tenant_is_given_once() {
        let mut user = jane("{}");
        user.tenant_id = Some("acme".into());
        let same = principal(Some("acme".into()), Some(user.clone())).expect("the same tenant");
        assert_eq!(same.tenant_id.as_deref(), Some("acme"));
        let e = principal(Some("globex".into()), Some(user)).expect_err("two tenants");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(
            e.to_string()
                .contains("`acme` differs from the `tenant_id` argument `globex`")
        );
    }

    #[test]
    fn bad_attributes_are_invalid_input() {
        for (text, message) in [
            (
                "[3]",
                "`attributes_json` is a JSON value that is not an object",
            ),
            ("{employee_id: 3}", "`attributes_json` is not JSON"),
            (
                r#"{"region": {"name": "EU"}}"#,
                "attribute `region` must be a string, a number, a boolean or a list of them",
            ),
        ] {
            let e = principal(None, Some(jane(text))).expect_err(text);
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{text}");
            assert!(e.to_string().contains(message), "{text}: {e}");
        }
    }
}
