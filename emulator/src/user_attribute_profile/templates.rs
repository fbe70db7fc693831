//! The user attribute profile template catalogue. Auth0 serves one template,
//! `auth0-generic` (recorded in 2025, 48 attributes); the emulator serves that id, display
//! name, template name and `user_id` as recorded, with a short attribute list of its own
//! (decided: the recorded body is not copied here, and clients must not depend on it).

use serde_json::{Value, json};

use crate::templates::TemplateItem;

/// The catalogue every tenant serves.
pub fn built_in() -> Vec<TemplateItem> {
    let claims = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";
    let mut user_id = Value::Object(super::default_user_id());
    user_id["strategy_overrides"] = json!({
        "samlp": {"scim_mapping": "userName"},
        "waad": {"oidc_mapping": "oid"},
        "google-apps": {"oidc_mapping": "email"}
    });
    vec![TemplateItem {
        id: "auth0-generic".into(),
        display_name: "Auth0 Generic User Attribute Profile Template".into(),
        template: json!({
            "name": "Auth0 Generic User Attribute Profile",
            "user_id": user_id,
            "user_attributes": {
                "email": {
                    "label": "Email",
                    "description": "The user's email address",
                    "oidc_mapping": {"mapping": "email", "display_name": "Email"},
                    "saml_mapping": [format!("{claims}/emailaddress")],
                    "scim_mapping": "emails[primary eq true].value",
                    "auth0_mapping": "email",
                    "profile_required": true
                },
                "given_name": {
                    "label": "Given name",
                    "description": "The user's first name",
                    "oidc_mapping": {"mapping": "given_name"},
                    "saml_mapping": [format!("{claims}/givenname")],
                    "scim_mapping": "name.givenName",
                    "auth0_mapping": "given_name",
                    "profile_required": false
                },
                "family_name": {
                    "label": "Family name",
                    "description": "The user's last name",
                    "oidc_mapping": {"mapping": "family_name"},
                    "saml_mapping": [format!("{claims}/surname")],
                    "scim_mapping": "name.familyName",
                    "auth0_mapping": "family_name",
                    "profile_required": false
                }
            }
        }),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{Strictness, validate_object};

    #[test]
    fn every_template_is_a_valid_create_body() {
        for item in built_in() {
            validate_object(
                &item.template,
                super::super::schema::PROFILE,
                super::super::schema::REQUIRED_ON_CREATE,
                super::super::schema::READ_ONLY,
                Strictness::default(),
            )
            .unwrap_or_else(|error| panic!("{}: {}", item.id, error.message("Payload")));
        }
    }
}
