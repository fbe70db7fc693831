//! The connection-profile template catalogue: built in, or replaced by a JSON file.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A read-only template; `template` can be sent as-is as a create body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateItem {
    pub id: String,
    pub display_name: String,
    pub template: Value,
}

/// The catalogue a tenant starts with.
pub fn built_in() -> Vec<TemplateItem> {
    vec![
        TemplateItem {
            id: "cpt_0kta3xpressC0nfig0001".into(),
            display_name: "Okta Express Configuration".into(),
            template: json!({
                "name": "Okta Express Configuration",
                "organization": {"show_as_button": "required", "assign_membership_on_login": "required"},
                "connection_name_prefix_template": "okta-{org_id}",
                "enabled_features": ["scim", "universal_logout"],
                "connection_config": {},
                "strategy_overrides": {
                    "okta": {"enabled_features": ["scim", "universal_logout"], "connection_config": {}}
                },
                "provisioning": {"scim": {"tokens": {
                    "scopes": ["get:users", "post:users", "patch:users", "delete:users", "put:users"],
                    "default_expiry": null,
                    "max_allowed_expiry": null
                }}}
            }),
        },
        TemplateItem {
            id: "cpt_5amlEnterpr1seSS00002".into(),
            display_name: "SAML Enterprise SSO".into(),
            template: json!({
                "name": "SAML Enterprise SSO",
                "organization": {"show_as_button": "optional", "assign_membership_on_login": "optional"},
                "connection_name_prefix_template": "saml-{org_name}",
                "enabled_features": ["universal_logout"],
                "connection_config": {},
                "strategy_overrides": {"samlp": {"enabled_features": ["universal_logout"]}}
            }),
        },
        TemplateItem {
            id: "cpt_01dcW0rkforce5S000003".into(),
            display_name: "OIDC Workforce".into(),
            template: json!({
                "name": "OIDC Workforce",
                "organization": {"show_as_button": "none", "assign_membership_on_login": "none"},
                "enabled_features": [],
                "connection_config": {}
            }),
        },
    ]
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CatalogueFile {
    Wrapped {
        connection_profile_templates: Vec<TemplateItem>,
    },
    Bare(Vec<TemplateItem>),
}

/// Checks ids are unique and every template is a valid create body.
pub fn check(items: &[TemplateItem]) -> Result<(), String> {
    for (index, item) in items.iter().enumerate() {
        if items[..index].iter().any(|earlier| earlier.id == item.id) {
            return Err(format!("template id {} is used twice", item.id));
        }
        crate::validate::validate_template(&item.template)
            .map_err(|error| format!("template {}: {}", item.id, error.message("Payload")))?;
    }
    Ok(())
}

/// Reads a catalogue: `[TemplateItem…]` or `{"connection_profile_templates": […]}`.
pub fn load(path: &Path) -> Result<Vec<TemplateItem>, crate::Error> {
    let invalid = |reason: String| crate::Error::InvalidTemplates {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|source| crate::Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    let items = match serde_json::from_str(&text).map_err(|error| invalid(error.to_string()))? {
        CatalogueFile::Wrapped {
            connection_profile_templates,
        } => connection_profile_templates,
        CatalogueFile::Bare(items) => items,
    };
    check(&items).map_err(invalid)?;
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_catalogue_is_valid() {
        let items = built_in();
        assert!(items.len() >= 3);
        check(&items).expect("valid catalogue");
    }

    #[test]
    fn a_file_replaces_the_catalogue_and_bad_templates_are_refused() {
        let dir = std::env::temp_dir().join(format!("emu-templates-{}", crate::random::base62(8)));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let good = dir.join("good.json");
        std::fs::write(
            &good,
            r#"{"connection_profile_templates":[{"id":"cpt_a","display_name":"A","template":{"name":"A"}}]}"#,
        )
        .expect("write");
        assert_eq!(load(&good).expect("loads")[0].id, "cpt_a");
        let bad = dir.join("bad.json");
        std::fs::write(
            &bad,
            r#"[{"id":"cpt_a","display_name":"A","template":{"name":"A","nope":1}}]"#,
        )
        .expect("write");
        assert!(load(&bad).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
