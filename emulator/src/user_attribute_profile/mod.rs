//! User attribute profiles (`/api/v2/user-attribute-profiles`): the stored object, its
//! recorded defaults, and how a validated create or PATCH body applies to it.

pub mod api;
pub mod schema;
pub mod templates;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The prefix of every id (recorded: `uap_` + 22 base62 characters).
pub const ID_PREFIX: &str = "uap_";

/// What a profile holds as `user_id` when none is sent (recorded on every create without
/// one), and what fills each of the three mappings a sent `user_id` leaves out.
pub fn default_user_id() -> Map<String, Value> {
    match json!({
        "oidc_mapping": "sub",
        "saml_mapping": [
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
        ],
        "scim_mapping": "externalId"
    }) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The `user_id` stored for a sent one: the sent object whole (its `strategy_overrides`
/// dropped when left out), each missing mapping filled with its default; absent, `null` or
/// `{}` is the whole default (recorded for PATCH; decided for `null` and for create).
pub fn stored_user_id(sent: Option<&Value>) -> Map<String, Value> {
    let mut user_id = sent.and_then(Value::as_object).cloned().unwrap_or_default();
    for (key, value) in default_user_id() {
        user_id.entry(key).or_insert(value);
    }
    user_id
}

/// A user attribute profile as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserAttributeProfile {
    pub id: String,
    pub name: String,
    pub user_id: Map<String, Value>,
    pub user_attributes: Map<String, Value>,
    /// Top-level fields this emulator has no name for, from a tenant that accepts them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UserAttributeProfile {
    /// A new profile from a validated create body (which carries `name` and
    /// `user_attributes`).
    pub fn create(id: String, body: &Map<String, Value>) -> Self {
        let mut profile = Self {
            id,
            name: String::new(),
            user_id: stored_user_id(None),
            user_attributes: Map::new(),
            extra: Map::new(),
        };
        profile.apply(body);
        profile
    }

    /// Applies a validated PATCH body: fields left out stay; `user_id` and
    /// `user_attributes` sent replace the stored ones whole (recorded).
    pub fn apply(&mut self, body: &Map<String, Value>) {
        for (key, value) in body {
            match key.as_str() {
                "name" => {
                    if let Some(name) = value.as_str() {
                        self.name = name.to_string();
                    }
                }
                "user_id" => self.user_id = stored_user_id(Some(value)),
                "user_attributes" => self.user_attributes = value.as_object().cloned().unwrap_or_default(),
                other => crate::validate::keep_unknown(&mut self.extra, other, value),
            }
        }
    }
}

/// A fresh random id.
pub fn new_id() -> String {
    crate::random::prefixed_id(ID_PREFIX)
}

/// Whether `id` has the shape of a user attribute profile id.
pub fn is_well_formed_id(id: &str) -> bool {
    crate::random::is_prefixed_id(id, ID_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    const ATTRIBUTE: &str = r#"{"label":"E","description":"Email","auth0_mapping":"email","profile_required":true}"#;

    #[test]
    fn a_create_without_user_id_gets_the_recorded_default() {
        let attribute: Value = serde_json::from_str(ATTRIBUTE).expect("json");
        let profile = UserAttributeProfile::create(
            new_id(),
            &map(json!({"name":"p","user_attributes":{"email":attribute}})),
        );
        assert!(is_well_formed_id(&profile.id));
        assert_eq!(profile.user_id, default_user_id());
        assert_eq!(profile.user_id["scim_mapping"], "externalId");
        assert!(!profile.user_id.contains_key("strategy_overrides"));
    }

    #[test]
    fn a_patch_replaces_user_id_whole_and_fills_the_defaults() {
        let mut profile = UserAttributeProfile::create(
            new_id(),
            &map(
                json!({"name":"p","user_id":{"scim_mapping":"userName","strategy_overrides":{"waad":{"oidc_mapping":"oid"}}},"user_attributes":{"a":{}}}),
            ),
        );
        assert_eq!(profile.user_id["scim_mapping"], "userName");
        assert_eq!(profile.user_id["oidc_mapping"], "sub");
        // Recorded: `{"oidc_mapping":"sub"}` brings back the default saml and scim, and
        // the overrides left out are gone.
        profile.apply(&map(json!({"user_id":{"oidc_mapping":"sub"}})));
        assert_eq!(profile.user_id, default_user_id());
        profile.apply(&map(json!({"user_id":{"scim_mapping":"userName"}})));
        profile.apply(&map(json!({"user_id":{}})));
        assert_eq!(profile.user_id, default_user_id(), "{{}} resets");
        profile.apply(&map(json!({"user_id":{"scim_mapping":"userName"}})));
        profile.apply(&map(json!({"user_id":null})));
        assert_eq!(profile.user_id, default_user_id(), "null resets");
    }

    #[test]
    fn a_patch_replaces_the_attribute_map_and_keeps_what_it_does_not_name() {
        let mut profile = UserAttributeProfile::create(
            new_id(),
            &map(json!({"name":"p","user_attributes":{"a":{"x":1},"b":{"y":2}}})),
        );
        profile.apply(&map(json!({"user_attributes":{"c":{"z":3}}})));
        assert_eq!(Value::Object(profile.user_attributes.clone()), json!({"c":{"z":3}}));
        assert_eq!(profile.name, "p");
        profile.apply(&map(json!({"name":"q","future":1})));
        assert_eq!((profile.name.as_str(), &profile.extra["future"]), ("q", &json!(1)));
        profile.apply(&map(json!({"future":null})));
        assert!(profile.extra.is_empty());
    }
}
