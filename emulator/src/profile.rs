//! The stored connection profile and how validated changes apply to it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validate::{Change, Changes};

/// Length of the random part of an id.
pub const ID_RANDOM_CHARS: usize = 22;
pub const ID_PREFIX: &str = "cop_";

/// A connection profile as the API returns it. `strategy_overrides` is always present
/// (`null` when never set), the other optional fields only when set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_name_prefix_template: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_features: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_config: Option<Value>,
    #[serde(default)]
    pub strategy_overrides: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_app_access_resource_app: Option<Value>,
}

fn apply(field: &mut Option<Value>, change: Change) {
    match change {
        Change::Keep => {}
        Change::Set(value) => *field = Some(value),
        Change::Clear => *field = None,
    }
}

impl Profile {
    /// A new profile from a validated create body (which always carries a name).
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
        };
        profile.apply(changes);
        profile
    }

    /// Top-level partial update; a nested object that is sent replaces the stored one whole.
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
    fn serialises_strategy_overrides_as_null_and_omits_other_unset_fields() {
        let changes = validate_body(&json!({"name":"p","connection_config":{}}), Mode::Create).expect("valid");
        let profile = Profile::create("cop_1cu7Zs1Dfru5Qc9mZea7nm".into(), "p".into(), changes);
        assert_eq!(
            serde_json::to_value(&profile).expect("serialises"),
            json!({"id":"cop_1cu7Zs1Dfru5Qc9mZea7nm","name":"p","connection_config":{},"strategy_overrides":null})
        );
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
    }
}
