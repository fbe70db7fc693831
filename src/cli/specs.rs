//! `export` and `templates` (pure): a user attribute or self-service profile as Auth0 holds
//! it (its snake_case wire shape) turned back into its kind's camelCase spec, with what
//! equals the spec's default left out, so that applying the manifest asks for exactly what
//! Auth0 holds and adopting it writes nothing.
//!
//! The fields are read through each kind's own [`Kind::at_provider`] (what
//! `status.atProvider` shows): a user attribute profile's attribute names are the user's and
//! keep their spelling (`given_name` stays `given_name`), and what this version cannot
//! express is left out (`export` warns about it, field by field).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::controller::desired::{from_wire, to_wire};
use crate::crd::{
    Kind, SelfServiceBranding, SelfServiceCustomText, SelfServiceCustomTextPages, SelfServiceProfile,
    SelfServiceStrategy, SelfServiceUserAttribute, UserAttribute, UserAttributeProfile, UserAttributeProfileRef,
    UserIdMapping, auth0_default_user_id,
};

/// A UserAttributeProfile's own fields, as `export` writes them.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserAttributeFields {
    /// Left out when every mapping is Auth0's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserIdMapping>,
    pub user_attributes: BTreeMap<String, UserAttribute>,
}

/// A SelfServiceProfile's own fields, as `export` writes them.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SelfServiceFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_attributes: Option<Vec<SelfServiceUserAttribute>>,
    /// Left out when it holds every strategy (what the spec's absence asks for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_strategies: Option<Vec<SelfServiceStrategy>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branding: Option<SelfServiceBranding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_attribute_profile_ref: Option<UserAttributeProfileRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_text: Option<SelfServiceCustomText>,
}

/// A user attribute profile (Auth0's JSON, or a template's `template`) as its spec's own
/// fields, and its name. Each `userId` mapping equal to Auth0's default is left out (the
/// operator asks for the default in its place), and `userId` with it when none is left.
pub fn user_attribute_profile(item: &Value) -> Result<(UserAttributeFields, String), String> {
    let read = UserAttributeProfile::at_provider(item).ok_or("its fields cannot be read as a UserAttributeProfile")?;
    let name = named(&read.name)?;
    Ok((
        UserAttributeFields {
            user_id: read.user_id.and_then(without_default_mappings),
            user_attributes: read.user_attributes,
        },
        name,
    ))
}

/// `user_id` without the mappings that equal Auth0's default; `None` when nothing is left.
fn without_default_mappings(user_id: UserIdMapping) -> Option<UserIdMapping> {
    let defaults = auth0_default_user_id();
    let Value::Object(wire) = to_wire(&serde_json::json!(user_id)) else {
        return Some(user_id);
    };
    let kept: Map<String, Value> = wire
        .into_iter()
        .filter(|(key, value)| defaults.get(key) != Some(value))
        .collect();
    if kept.is_empty() {
        return None;
    }
    serde_json::from_value(from_wire(&Value::Object(kept))).ok()
}

/// A self-service profile (Auth0's JSON) as its spec's own fields, and its name.
///
/// - `allowedStrategies` holding every strategy is left out (its absence asks for all);
/// - `user_attribute_profile_id` becomes `userAttributeProfileRef` ([`reference`]): by the
///   `metadata.name` that `names` gives the id, else by id;
/// - `custom_text` (its `custom-text/en/get-started` document, read beside it) becomes
///   `customText.en.getStarted` when it holds a text; an empty one (Auth0's defaults) is
///   left out, which leaves the texts in Auth0 alone.
pub fn self_service_profile(
    item: &Value,
    custom_text: Option<&Value>,
    names: &BTreeMap<String, String>,
) -> Result<(SelfServiceFields, String), String> {
    let read = SelfServiceProfile::at_provider(item).ok_or("its fields cannot be read as a SelfServiceProfile")?;
    let name = named(&read.name)?;
    let mut every = SelfServiceStrategy::ALL.to_vec();
    every.sort_by_key(|s| serde_json::json!(s).to_string());
    let allowed_strategies =
        (!read.allowed_strategies.is_empty() && read.allowed_strategies != every).then_some(read.allowed_strategies);
    let texts: BTreeMap<String, String> = custom_text
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
        .collect();
    Ok((
        SelfServiceFields {
            description: read.description,
            user_attributes: (!read.user_attributes.is_empty()).then_some(read.user_attributes),
            allowed_strategies,
            branding: read.branding,
            user_attribute_profile_ref: read.user_attribute_profile_id.as_deref().map(|id| reference(id, names)),
            custom_text: (!texts.is_empty()).then_some(SelfServiceCustomText {
                en: SelfServiceCustomTextPages { get_started: texts },
            }),
        },
        name,
    ))
}

/// The reference to the user attribute profile `id`: `{name}` when `names` maps the id to
/// the `metadata.name` of a UserAttributeProfile the manifest's namespace will hold (one
/// exported beside it, or one of the cluster that manages that id), else `{id}`.
pub fn reference(id: &str, names: &BTreeMap<String, String>) -> UserAttributeProfileRef {
    match names.get(id) {
        Some(name) => UserAttributeProfileRef {
            name: Some(name.clone()),
            id: None,
        },
        None => UserAttributeProfileRef {
            name: None,
            id: Some(id.to_string()),
        },
    }
}

fn named(name: &str) -> Result<String, String> {
    if name.is_empty() {
        Err("the profile has no name".into())
    } else {
        Ok(name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const UAP: &str = "uap_1cu7Zs1Dfru5Qc9mZea7nm";

    #[test]
    fn attribute_names_keep_their_spelling_and_default_mappings_go() {
        let item = json!({"id": UAP, "name": "Partners",
            "user_id": {"oidc_mapping": "sub", "saml_mapping": auth0_default_user_id()["saml_mapping"],
                        "scim_mapping": "userName",
                        "strategy_overrides": {"google-apps": {"oidc_mapping": "email"}}},
            "user_attributes": {
                "given_name": {"label": "Given", "description": "First name", "auth0_mapping": "given_name",
                               "profile_required": false, "oidc_mapping": {"mapping": "given_name", "display_name": "G"},
                               "strategy_overrides": {"google-apps": {"scim_mapping": "name.givenName"}}},
                "app_metadata.team_id": {"label": "Team", "description": "Team", "auth0_mapping": "app_metadata.team_id",
                                         "profile_required": true}}});
        let (fields, name) = user_attribute_profile(&item).expect("reads");
        assert_eq!(name, "Partners");
        assert_eq!(
            json!(fields),
            json!({"userId": {"scimMapping": "userName", "strategyOverrides": {"googleApps": {"oidcMapping": "email"}}},
                   "userAttributes": {
                       "app_metadata.team_id": {"label": "Team", "description": "Team",
                                                "auth0Mapping": "app_metadata.team_id", "profileRequired": true},
                       "given_name": {"label": "Given", "description": "First name", "auth0Mapping": "given_name",
                                      "profileRequired": false,
                                      "oidcMapping": {"mapping": "given_name", "displayName": "G"},
                                      "strategyOverrides": {"googleApps": {"scimMapping": "name.givenName"}}}}})
        );
        // Every mapping Auth0's default: no userId at all.
        let default = json!({"name": "d", "user_id": auth0_default_user_id(),
                             "user_attributes": {"email": {"label": "E", "description": "E", "auth0_mapping": "email", "profile_required": true}}});
        assert_eq!(user_attribute_profile(&default).expect("reads").0.user_id, None);
        assert!(user_attribute_profile(&json!({"user_attributes": {}})).is_err());
    }

    #[test]
    fn a_reference_names_the_resource_when_there_is_one() {
        let names = BTreeMap::from([(UAP.to_string(), "partners".to_string())]);
        assert_eq!(json!(reference(UAP, &names)), json!({"name": "partners"}));
        let other = "uap_2cu7Zs1Dfru5Qc9mZea7nm";
        assert_eq!(json!(reference(other, &names)), json!({"id": other}));
    }

    #[test]
    fn every_strategy_and_empty_texts_are_left_out() {
        let all: Vec<Value> = SelfServiceStrategy::ALL.iter().map(|s| json!(s)).collect();
        let item = json!({"id": "ssp_1cu7Zs1Dfru5Qc9mZea7nm", "name": "Portal", "allowed_strategies": all,
                          "user_attributes": [], "user_attribute_profile_id": UAP});
        let (fields, name) = self_service_profile(&item, Some(&json!({})), &BTreeMap::new()).expect("reads");
        assert_eq!(name, "Portal");
        assert_eq!(json!(fields), json!({"userAttributeProfileRef": {"id": UAP}}));
        let some = json!({"name": "P", "description": "SSO", "allowed_strategies": ["samlp", "oidc"],
                          "user_attributes": [{"name": "email", "description": "Email", "is_optional": false}],
                          "branding": {"logo_url": "https://x/logo.png", "colors": {"primary": "#0059d6"}}});
        let text = json!({"introduction": "Hi <b>there</b>", "odd": 1});
        let (fields, _) = self_service_profile(&some, Some(&text), &BTreeMap::new()).expect("reads");
        assert_eq!(
            json!(fields),
            json!({"description": "SSO", "userAttributes": [{"name": "email", "description": "Email", "isOptional": false}],
                   "allowedStrategies": ["oidc", "samlp"],
                   "branding": {"logoUrl": "https://x/logo.png", "colors": {"primary": "#0059d6"}},
                   "customText": {"en": {"getStarted": {"introduction": "Hi <b>there</b>"}}}})
        );
    }
}
