//! The stored connection profile and how validated changes apply to it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::validate::{Change, Changes};

/// Length of the random part of an id.
pub const ID_RANDOM_CHARS: usize = 22;
pub const ID_PREFIX: &str = "cop_";

/// What a create that leaves `organization` out stores (recorded from real tenants).
pub fn default_organization() -> Value {
    serde_json::json!({"show_as_button": "none", "assign_membership_on_login": "none"})
}

/// What a create that leaves `enabled_features` out stores (recorded from real tenants).
pub fn default_enabled_features() -> Value {
    serde_json::json!(["scim", "universal_logout"])
}

/// A connection profile as the API returns it. `connection_config` is always present
/// (`null` when never set, as recorded), `strategy_overrides` and the other optional fields
/// only when set (later recordings leave an unset `strategy_overrides` out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_name_prefix_template: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_features: Option<Value>,
    #[serde(default)]
    pub connection_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_overrides: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_app_access_resource_app: Option<Value>,
    /// Top-level fields this emulator has no name for, kept as sent by a tenant that accepts
    /// unknown fields (a newer Auth0).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn apply(field: &mut Option<Value>, change: Change) {
    match change {
        Change::Keep => {}
        Change::Set(value) => *field = Some(value),
        Change::Clear => *field = None,
    }
}

impl Profile {
    /// A new profile from a validated create body (which always carries a name). A create
    /// that leaves `organization` or `enabled_features` out (or sends `null`) gets Auth0's
    /// recorded defaults.
    pub fn create(id: String, name: String, changes: Changes) -> Self {
        let mut profile = Self {
            id,
            name,
            organization: None,
            connection_name_prefix_template: None,
            enabled_features: None,
            connection_config: None,
            strategy_overrides: None,
            provisioning: None,
            cross_app_access_resource_app: None,
            extra: Map::new(),
        };
        profile.apply(changes);
        profile.organization.get_or_insert_with(default_organization);
        profile.enabled_features.get_or_insert_with(default_enabled_features);
        profile
    }

    /// Top-level partial update; a nested object that is sent replaces the stored one whole,
    /// and `null` clears it.
    pub fn apply(&mut self, changes: Changes) {
        if let Some(name) = changes.name {
            self.name = name;
        }
        apply(&mut self.organization, changes.organization);
        apply(
            &mut self.connection_name_prefix_template,
            changes.connection_name_prefix_template,
        );
        apply(&mut self.enabled_features, changes.enabled_features);
        apply(&mut self.connection_config, changes.connection_config);
        apply(&mut self.strategy_overrides, changes.strategy_overrides);
        apply(&mut self.provisioning, changes.provisioning);
        apply(
            &mut self.cross_app_access_resource_app,
            changes.cross_app_access_resource_app,
        );
        for (key, change) in changes.extra {
            match change {
                Change::Keep => {}
                Change::Set(value) => {
                    self.extra.insert(key, value);
                }
                Change::Clear => {
                    self.extra.remove(&key);
                }
            }
        }
    }
}

/// A fresh random id: `cop_` + 22 base62 characters.
pub fn new_id() -> String {
    format!("{ID_PREFIX}{}", crate::random::base62(ID_RANDOM_CHARS))
}

/// Whether `id` has the shape of a profile id.
pub fn is_well_formed_id(id: &str) -> bool {
    id.strip_prefix(ID_PREFIX)
        .is_some_and(|rest| rest.len() == ID_RANDOM_CHARS && crate::random::is_base62(rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{Mode, validate_body};
    use serde_json::json;

    #[test]
    fn ids_have_the_auth0_shape_and_differ() {
        let first = new_id();
        assert!(is_well_formed_id(&first), "{first}");
        assert_ne!(first, new_id());
        assert!(is_well_formed_id("cop_1cu7Zs1Dfru5Qc9mZea7nm"));
        for bad in [
            "cop_1cu7Zs1Dfru5Qc9mZea7n",
            "cop_1cu7Zs1Dfru5Qc9mZea7nm1",
            "con_1cu7Zs1Dfru5Qc9mZea7nm",
            "cop_1cu7Zs1Dfru5Qc9mZea7n-",
        ] {
            assert!(!is_well_formed_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_create_gets_the_recorded_defaults() {
        let changes = validate_body(&json!({"name":"p"}), Mode::Create).expect("valid");
        let profile = Profile::create("cop_1cu7Zs1Dfru5Qc9mZea7nm".into(), "p".into(), changes);
        assert_eq!(
            serde_json::to_value(&profile).expect("serialises"),
            json!({"id":"cop_1cu7Zs1Dfru5Qc9mZea7nm","name":"p",
                "organization":{"show_as_button":"none","assign_membership_on_login":"none"},
                "enabled_features":["scim","universal_logout"],"connection_config":null})
        );
        let sent = json!({"name":"p","organization":{"show_as_button":"required"},"enabled_features":[],"connection_config":{}});
        let profile = Profile::create(
            "cop_1cu7Zs1Dfru5Qc9mZea7nm".into(),
            "p".into(),
            validate_body(&sent, Mode::Create).expect("valid"),
        );
        assert_eq!(profile.organization, Some(json!({"show_as_button":"required"})));
        assert_eq!(profile.enabled_features, Some(json!([])));
        assert_eq!(profile.connection_config, Some(json!({})));
    }

    #[test]
    fn patch_replaces_nested_objects_whole_and_null_clears() {
        let create = json!({"name":"p","organization":{"show_as_button":"none","assign_membership_on_login":"none"},
            "strategy_overrides":{"okta":{"enabled_features":["scim"]}}});
        let mut profile = Profile::create(
            "cop_1cu7Zs1Dfru5Qc9mZea7nm".into(),
            "p".into(),
            validate_body(&create, Mode::Create).expect("valid"),
        );
        let patch = json!({"organization":{"show_as_button":"required"},"strategy_overrides":null});
        profile.apply(validate_body(&patch, Mode::Update).expect("valid"));
        assert_eq!(profile.organization, Some(json!({"show_as_button":"required"})));
        assert_eq!(profile.strategy_overrides, None);
        assert_eq!(profile.name, "p");
        profile.apply(validate_body(&json!({"organization":null}), Mode::Update).expect("valid"));
        assert_eq!(profile.organization, None);
        assert!(
            !serde_json::to_value(&profile)
                .expect("value")
                .as_object()
                .expect("object")
                .contains_key("strategy_overrides")
        );
    }
}
