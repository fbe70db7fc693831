//! The desired Auth0 profile (pure): the resource's spec turned into the full Management API
//! body, the remote normalised the same way, and the difference between them.
//!
//! The operator always sends its full desired state, so it is right whichever merge rule
//! Auth0 applies to nested objects. A field left out of the spec means "empty" (no features,
//! no prefix, no organization settings, no overrides), which is what a user who deletes a
//! line from their YAML expects to see in Auth0.

use serde_json::{Map, Value, json};

use crate::crd::{AtProvider, ConnectionProfile};

/// The writable fields of an Auth0 connection profile, in wire (snake_case) spelling.
pub const WRITABLE: [&str; 8] = [
    "name",
    "organization",
    "connection_name_prefix_template",
    "enabled_features",
    "connection_config",
    "strategy_overrides",
    "provisioning",
    "cross_app_access_resource_app",
];

/// Lists whose order means nothing: compared and sent sorted.
const SETS: [&str; 3] = ["enabled_features", "scopes", "allowed_values"];

/// The full create or update body for a profile.
pub fn desired(profile: &ConnectionProfile) -> Map<String, Value> {
    let spec = &profile.spec;
    let fields = json!({
        "name": profile.effective_name(),
        "organization": spec.organization,
        "connectionNamePrefixTemplate": spec.connection_name_prefix_template,
        "enabledFeatures": spec.enabled_features,
        "connectionConfig": spec.connection_config,
        "strategyOverrides": spec.strategy_overrides,
        "provisioning": spec.provisioning,
        "crossAppAccessResourceApp": spec.cross_app_access_resource_app,
    });
    normalize(&to_wire(&fields))
}

/// A remote profile reduced to its writable fields, with absent and empty values made
/// equal and sets sorted, so it compares with [`desired`].
pub fn normalize(remote: &Value) -> Map<String, Value> {
    let empty = |field: &str| match field {
        "connection_name_prefix_template" => json!(""),
        "enabled_features" => json!([]),
        "organization" | "connection_config" | "provisioning" => json!({}),
        _ => Value::Null, // strategy_overrides and cross_app_access_resource_app clear with null
    };
    WRITABLE
        .iter()
        .map(|field| {
            let value = match remote.get(*field) {
                None | Some(Value::Null) => empty(field),
                Some(value) => canonical_field(field, value),
            };
            (field.to_string(), value)
        })
        .collect()
}

/// The fields that differ, as a PATCH body; `None` when the remote already matches.
pub fn diff(desired: &Map<String, Value>, remote: &Map<String, Value>) -> Option<Map<String, Value>> {
    let changed: Map<String, Value> = desired
        .iter()
        .filter(|(field, value)| remote.get(field.as_str()) != Some(value))
        .map(|(field, value)| (field.clone(), value.clone()))
        .collect();
    (!changed.is_empty()).then_some(changed)
}

/// The remote profile in the resource's spelling, for `status.atProvider`.
///
/// Empty objects and lists are left out: they mean "nothing set", and server-side apply
/// turns an object whose fields all went away into a null the schema refuses.
pub fn at_provider(remote: &Value) -> Result<AtProvider, serde_json::Error> {
    let mut fields = Map::new();
    for field in WRITABLE {
        if let Some(value) = remote
            .get(field)
            .map(|v| without_empties(field, v))
            .filter(|v| !v.is_null())
        {
            fields.insert(field.to_string(), value);
        }
    }
    serde_json::from_value(from_wire(&Value::Object(fields)))
}

/// The value (of the field `key`) with nulls, empty objects and empty lists removed at every
/// depth; `Null` when nothing is left. SCIM token `scopes` stay even when empty: the field is
/// required, and an empty list is a setting (tokens with no scope), not an absence.
fn without_empties(key: &str, value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let kept: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), without_empties(k, v)))
                .filter(|(_, v)| !v.is_null())
                .collect();
            if kept.is_empty() {
                Value::Null
            } else {
                Value::Object(kept)
            }
        }
        Value::Array(items) if items.is_empty() && key != "scopes" => Value::Null,
        other => other.clone(),
    }
}

/// Drops nulls inside objects (an omitted optional) and sorts the lists that are sets.
fn canonical_field(key: &str, value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), canonical_field(k, v)))
                .collect(),
        ),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(|v| canonical_field("", v)).collect();
            if SETS.contains(&key) {
                items.sort_by_key(ToString::to_string);
            }
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// camelCase keys to Auth0's snake_case (`googleApps` is Auth0's `google-apps`). Values are
/// left alone: enum values are already Auth0's.
pub fn to_wire(value: &Value) -> Value {
    rename_keys(value, &|key| match key {
        "googleApps" => "google-apps".to_string(),
        key => key.chars().fold(String::new(), |mut out, c| {
            if c.is_ascii_uppercase() {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
            out
        }),
    })
}

/// Auth0's snake_case keys to the resource's camelCase.
pub fn from_wire(value: &Value) -> Value {
    rename_keys(value, &|key| match key {
        "google-apps" => "googleApps".to_string(),
        key => {
            let mut out = String::new();
            let mut upper = false;
            for c in key.chars() {
                if c == '_' {
                    upper = true;
                } else if upper {
                    out.push(c.to_ascii_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        }
    })
}

/// One field that differs between Auth0 and the desired state: its path under `spec` in the
/// resource's camelCase (`organization.showAsButton`), Auth0's value and the desired one
/// (`Null` when unset).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub auth0: Value,
    pub desired: Value,
}

/// What a PATCH would change, leaf by leaf: objects are walked into, any other value (lists
/// included) is compared whole. Empty when [`diff`] is `None`. Both sides are bodies as
/// [`desired`] and [`normalize`] make them.
pub fn field_changes(desired: &Map<String, Value>, remote: &Map<String, Value>) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let (want, have) = (
        from_wire(&Value::Object(desired.clone())),
        from_wire(&Value::Object(remote.clone())),
    );
    walk("", &have, &want, &mut changes);
    changes
}

fn walk(path: &str, have: &Value, want: &Value, out: &mut Vec<FieldChange>) {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => {
            let keys: std::collections::BTreeSet<&String> = h.keys().chain(w.keys()).collect();
            for key in keys {
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(
                    &field,
                    h.get(key).unwrap_or(&Value::Null),
                    w.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (h, w) if h != w => out.push(FieldChange {
            field: path.to_string(),
            auth0: h.clone(),
            desired: w.clone(),
        }),
        _ => {}
    }
}

fn rename_keys(value: &Value, rename: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (rename(k), rename_keys(v, rename))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(|v| rename_keys(v, rename)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::validation;

    fn profile(spec: Value) -> ConnectionProfile {
        validation::check(
            json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                   "metadata": {"name": "meta-name", "namespace": "ns"}, "spec": spec}),
            None,
        )
        .expect("valid")
    }

    #[test]
    fn the_documentation_example_becomes_auth0s_body() {
        let body = desired(&profile(json!({
            "connectionNamePrefixTemplate": "ec-{org_id}-",
            "enabledFeatures": ["universal_logout", "scim"],
            "organization": {"showAsButton": "none", "assignMembershipOnLogin": "none"}
        })));
        assert_eq!(
            Value::Object(body),
            json!({
                "name": "meta-name",
                "organization": {"show_as_button": "none", "assign_membership_on_login": "none"},
                "connection_name_prefix_template": "ec-{org_id}-",
                "enabled_features": ["scim", "universal_logout"],
                "connection_config": {},
                "strategy_overrides": null,
                "provisioning": {},
                "cross_app_access_resource_app": null
            })
        );
    }

    #[test]
    fn every_field_maps_to_its_wire_name() {
        let body = desired(&profile(json!({
            "name": "Okta partners",
            "strategyOverrides": {"googleApps": {"enabledFeatures": ["scim"]}, "okta": {"connectionConfig": {}}},
            "provisioning": {"scim": {"tokens": {"scopes": ["put:users", "get:users"], "defaultExpiry": 60, "maxAllowedExpiry": 120}}},
            "crossAppAccessResourceApp": {"status": {"defaultValue": "enabled", "allowedValues": ["enabled", "disabled"]}}
        })));
        assert_eq!(body["name"], "Okta partners");
        assert_eq!(
            body["strategy_overrides"],
            json!({"google-apps": {"enabled_features": ["scim"]}, "okta": {"connection_config": {}}})
        );
        assert_eq!(
            body["provisioning"],
            json!({"scim": {"tokens": {"scopes": ["get:users", "put:users"], "default_expiry": 60, "max_allowed_expiry": 120}}})
        );
        assert_eq!(
            body["cross_app_access_resource_app"],
            json!({"status": {"default_value": "enabled", "allowed_values": ["disabled", "enabled"]}})
        );
    }

    #[test]
    fn a_matching_remote_has_no_diff_whatever_its_order_or_empties() {
        let want = desired(&profile(json!({"enabledFeatures": ["scim", "universal_logout"]})));
        let remote = json!({
            "id": "cop_1cu7Zs1Dfru5Qc9mZea7nm", "name": "meta-name",
            "enabled_features": ["universal_logout", "scim"],
            "connection_config": {}, "strategy_overrides": null
        });
        assert_eq!(diff(&want, &normalize(&remote)), None);
    }

    #[test]
    fn a_drifted_remote_diffs_on_exactly_the_changed_fields() {
        let want = desired(&profile(
            json!({"connectionNamePrefixTemplate": "con-{org_id}-", "enabledFeatures": ["scim"]}),
        ));
        let remote = json!({
            "name": "meta-name", "connection_name_prefix_template": "other-",
            "enabled_features": ["scim"], "organization": {"show_as_button": "required"},
            "strategy_overrides": {"okta": {}}
        });
        let patch = diff(&want, &normalize(&remote)).expect("drift");
        assert_eq!(
            Value::Object(patch),
            json!({"connection_name_prefix_template": "con-{org_id}-", "organization": {}, "strategy_overrides": null})
        );
    }

    #[test]
    fn at_provider_reads_the_remote_in_camel_case() {
        let remote = json!({
            "id": "cop_1cu7Zs1Dfru5Qc9mZea7nm", "name": "n",
            "strategy_overrides": {"google-apps": {"enabled_features": ["scim"]}},
            "organization": {"show_as_button": "optional"}
        });
        let observed = at_provider(&remote).expect("parses");
        assert_eq!(observed.name, "n");
        let sparse = at_provider(&json!({"name": "n", "organization": {"show_as_button": null}, "enabled_features": [], "connection_config": {}}))
            .expect("parses");
        assert_eq!(
            (sparse.organization, sparse.enabled_features, sparse.connection_config),
            (None, None, None)
        );
        assert!(observed.strategy_overrides.and_then(|s| s.google_apps).is_some());
        assert_eq!(
            observed.organization.and_then(|o| o.show_as_button),
            Some(crate::crd::OrganizationSetting::Optional)
        );
    }

    /// Found by tests/fuzz.rs: SCIM tokens with no scopes lost the whole of status.atProvider.
    #[test]
    fn at_provider_keeps_empty_scim_scopes() {
        let remote = json!({"name": "n", "provisioning": {"scim": {"tokens": {"scopes": [], "max_allowed_expiry": 0}}},
                            "strategy_overrides": {"okta": {"provisioning": {"scim": {"tokens": {"scopes": []}}}}}});
        let observed = at_provider(&remote).expect("parses");
        let tokens = observed
            .provisioning
            .and_then(|p| p.scim)
            .map(|s| s.tokens)
            .expect("tokens");
        assert_eq!((tokens.scopes.len(), tokens.max_allowed_expiry), (0, Some(0)));
        let okta = observed
            .strategy_overrides
            .and_then(|s| s.okta)
            .and_then(|o| o.provisioning);
        assert!(okta.and_then(|p| p.scim).is_some_and(|s| s.tokens.scopes.is_empty()));
    }

    #[test]
    fn field_changes_name_each_leaf_in_camel_case() {
        let want = desired(&profile(json!({
            "connectionNamePrefixTemplate": "con-",
            "organization": {"showAsButton": "required"},
            "enabledFeatures": ["scim"]
        })));
        let remote = json!({"name": "meta-name", "connection_name_prefix_template": "old-",
                            "organization": {"show_as_button": "none", "assign_membership_on_login": "none"},
                            "enabled_features": ["scim"], "strategy_overrides": {"okta": {}}});
        let changes = field_changes(&want, &normalize(&remote));
        let seen: Vec<(&str, Value, Value)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.auth0.clone(), c.desired.clone()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("connectionNamePrefixTemplate", json!("old-"), json!("con-")),
                ("organization.assignMembershipOnLogin", json!("none"), Value::Null),
                ("organization.showAsButton", json!("none"), json!("required")),
                ("strategyOverrides", json!({"okta": {}}), Value::Null),
            ]
        );
        assert!(field_changes(&want, &want).is_empty());
    }

    #[test]
    fn key_spelling_round_trips() {
        let camel = json!({"crossAppAccessResourceApp": {"status": {"allowedValues": ["enabled"]}}, "googleApps": {}});
        assert_eq!(from_wire(&to_wire(&camel)), camel);
        assert_eq!(
            to_wire(&camel)["cross_app_access_resource_app"]["status"]["allowed_values"],
            json!(["enabled"])
        );
    }
}
