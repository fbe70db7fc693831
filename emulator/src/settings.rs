//! Per-tenant behaviour that varies between real tenants or is not known: unique names,
//! feature flags, server-side normalization of what is stored, and accepting what a newer
//! Auth0 knows (unknown fields and enum values). Set in the configuration file (keys of a
//! tenant) and at run time through the admin API (`/tenants/{domain}/settings`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::schema::{self, Feature};

/// The feature flags a tenant may lack. Every one is on by default; off, a body that
/// carries a field the flag guards (even as `null`) is answered 403 `feature_not_enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Features {
    /// `cross_app_access_resource_app` (early access in Auth0).
    pub cross_app_access: bool,
    /// `provisioning.scim`, and `provisioning` itself when it holds no other guarded key
    /// (`{}`, `null`), at the top level and in each strategy override.
    pub scim_provisioning: bool,
    /// `provisioning.google_workspace`, at the top level and in each strategy override.
    pub google_workspace_provisioning: bool,
}

impl Default for Features {
    fn default() -> Self {
        Self {
            cross_app_access: true,
            scim_provisioning: true,
            google_workspace_provisioning: true,
        }
    }
}

impl Features {
    pub fn enabled(&self, feature: Feature) -> bool {
        match feature {
            Feature::CrossAppAccess => self.cross_app_access,
            Feature::ScimProvisioning => self.scim_provisioning,
            Feature::GoogleWorkspaceProvisioning => self.google_workspace_provisioning,
        }
    }
}

/// A rule by which the tenant stores a field differently from how it was sent. `field` is a
/// dotted path from the profile (`organization.show_as_button`); `*` matches every key of an
/// object (`strategy_overrides.*.enabled_features`). Rules apply in order to every create
/// and update body, after validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum NormalizeRule {
    /// A string is stored in lower case (each string of a list too).
    Lowercase { field: String },
    /// `value` is removed from a list; a field equal to `value` is removed.
    DropValue { field: String, value: Value },
    /// The field is not stored.
    DropField { field: String },
    /// A value equal to `from` (or a list item equal to it) is stored as `to`.
    Replace { field: String, from: Value, to: Value },
}

impl NormalizeRule {
    pub fn field(&self) -> &str {
        match self {
            NormalizeRule::Lowercase { field }
            | NormalizeRule::DropValue { field, .. }
            | NormalizeRule::DropField { field }
            | NormalizeRule::Replace { field, .. } => field,
        }
    }
}

/// Everything about a tenant's behaviour that can be set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantSettings {
    /// Names are unique per tenant, for connection profiles and user attribute profiles
    /// apart: a create or rename onto a taken name is 409 (decided; never recorded). False
    /// lets a second profile of a taken name through. Self-service profile names may always
    /// repeat (recorded).
    pub unique_names: bool,
    pub features: Features,
    pub normalize: Vec<NormalizeRule>,
    /// Accept and store keys the schema does not name, at any depth, and any string where
    /// the schema has an enum, as a newer Auth0 would (issue 13). Other checks still apply.
    pub accept_unknown: bool,
    /// The user attribute profile API (early access in Auth0) is on for the tenant; off,
    /// every `/user-attribute-profiles` endpoint answers 403 `feature_not_enabled`.
    pub user_attribute_profiles: bool,
    /// A DELETE of a user attribute profile that a self-service profile refers to is 409
    /// `User attribute profile is in use.` (decided; never recorded). False: 204, and the
    /// self-service profile keeps the dangling id.
    pub refuse_delete_in_use: bool,
    /// A self-service profile body with both non-empty `user_attributes` and a
    /// `user_attribute_profile_id` is 400 (decided; the Terraform provider and the Deploy CLI
    /// refuse it client-side). False: both are stored.
    pub exclusive_self_service_attributes: bool,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            unique_names: true,
            features: Features::default(),
            normalize: Vec::new(),
            accept_unknown: false,
            user_attribute_profiles: true,
            refuse_delete_in_use: true,
            exclusive_self_service_attributes: true,
        }
    }
}

impl TenantSettings {
    /// Refuses a rule whose path names no field of the schema (unless the tenant accepts
    /// unknown fields), or that would drop the name.
    pub fn validate(&self) -> Result<(), String> {
        for rule in &self.normalize {
            let field = rule.field();
            if field.is_empty() || field.split('.').any(str::is_empty) {
                return Err(format!("normalize: {field:?} is not a dotted path"));
            }
            if field == "name" && matches!(rule, NormalizeRule::DropField { .. } | NormalizeRule::DropValue { .. }) {
                return Err("normalize: the name cannot be dropped".into());
            }
            if !self.accept_unknown && schema::find(field).is_none() {
                return Err(format!("normalize: no field {field} in a connection profile"));
            }
        }
        Ok(())
    }
}

/// Applies the rules, in order, to a (validated) body.
pub fn normalize(body: &mut Map<String, Value>, rules: &[NormalizeRule]) {
    for rule in rules {
        let segments: Vec<&str> = rule.field().split('.').collect();
        apply_at(body, &segments, rule);
    }
}

fn apply_at(map: &mut Map<String, Value>, segments: &[&str], rule: &NormalizeRule) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    let keys: Vec<String> = if *first == "*" {
        map.keys().cloned().collect()
    } else if map.contains_key(*first) {
        vec![(*first).to_string()]
    } else {
        Vec::new()
    };
    for key in keys {
        if rest.is_empty() {
            apply_rule(map, &key, rule);
        } else if let Some(Value::Object(child)) = map.get_mut(&key) {
            apply_at(child, rest, rule);
        }
    }
}

fn apply_rule(map: &mut Map<String, Value>, key: &str, rule: &NormalizeRule) {
    let Some(value) = map.get_mut(key) else {
        return;
    };
    match rule {
        NormalizeRule::Lowercase { .. } => match value {
            Value::String(text) => *text = text.to_lowercase(),
            Value::Array(items) => {
                for item in items {
                    if let Value::String(text) = item {
                        *text = text.to_lowercase();
                    }
                }
            }
            _ => {}
        },
        NormalizeRule::DropValue { value: dropped, .. } => match value {
            Value::Array(items) => items.retain(|item| item != dropped),
            other if other == dropped => {
                map.remove(key);
            }
            _ => {}
        },
        NormalizeRule::DropField { .. } => {
            map.remove(key);
        }
        NormalizeRule::Replace { from, to, .. } => match value {
            Value::Array(items) => {
                for item in items.iter_mut().filter(|item| *item == from) {
                    *item = to.clone();
                }
            }
            other if other == from => *other = to.clone(),
            _ => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn normalized(body: Value, rules: Value) -> Value {
        let rules: Vec<NormalizeRule> = serde_json::from_value(rules).expect("rules");
        let mut map = body.as_object().expect("object").clone();
        normalize(&mut map, &rules);
        Value::Object(map)
    }

    #[test]
    fn rules_rewrite_what_is_stored() {
        assert_eq!(
            normalized(
                json!({"name":"N","connection_name_prefix_template":"ACME-{org_id}"}),
                json!([{"action":"lowercase","field":"connection_name_prefix_template"}])
            ),
            json!({"name":"N","connection_name_prefix_template":"acme-{org_id}"})
        );
        assert_eq!(
            normalized(
                json!({"enabled_features":["scim","universal_logout"],
                       "strategy_overrides":{"okta":{"enabled_features":["universal_logout"]},"oidc":{}}}),
                json!([{"action":"drop_value","field":"enabled_features","value":"universal_logout"},
                       {"action":"drop_value","field":"strategy_overrides.*.enabled_features","value":"universal_logout"}])
            ),
            json!({"enabled_features":["scim"],"strategy_overrides":{"okta":{"enabled_features":[]},"oidc":{}}})
        );
        assert_eq!(
            normalized(
                json!({"organization":{"show_as_button":"optional","assign_membership_on_login":"optional"}}),
                json!([{"action":"replace","field":"organization.assign_membership_on_login","from":"optional","to":"required"},
                       {"action":"drop_field","field":"organization.show_as_button"}])
            ),
            json!({"organization":{"assign_membership_on_login":"required"}})
        );
        // A rule for a field the body does not carry changes nothing.
        assert_eq!(
            normalized(
                json!({"name":"N"}),
                json!([{"action":"drop_field","field":"organization"}])
            ),
            json!({"name":"N"})
        );
    }

    #[test]
    fn settings_parse_with_defaults_and_refuse_unknown_paths() {
        let settings: TenantSettings =
            serde_json::from_value(json!({"features":{"cross_app_access":false}})).expect("parses");
        assert!(settings.unique_names);
        assert!(!settings.features.cross_app_access && settings.features.scim_provisioning);
        settings.validate().expect("valid");
        let bad: TenantSettings =
            serde_json::from_value(json!({"normalize":[{"action":"lowercase","field":"colour"}]})).expect("parses");
        assert!(bad.validate().is_err());
        let lenient = TenantSettings {
            accept_unknown: true,
            ..bad
        };
        lenient.validate().expect("a newer Auth0 may have the field");
        let no_name: TenantSettings =
            serde_json::from_value(json!({"normalize":[{"action":"drop_field","field":"name"}]})).expect("parses");
        assert!(no_name.validate().is_err());
        assert!(serde_json::from_value::<TenantSettings>(json!({"uniqueNames":false})).is_err());
        assert!(
            serde_json::from_value::<TenantSettings>(json!({"normalize":[{"action":"shout","field":"name"}]})).is_err()
        );
    }
}
