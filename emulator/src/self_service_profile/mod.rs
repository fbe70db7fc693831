//! Self-service profiles (`/api/v2/self-service-profiles`): the stored object, its recorded
//! defaults, and how a validated create or PATCH body applies to it.

pub mod api;
pub mod custom_text;
pub mod schema;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The prefix of every id (recorded: `ssp_` + 22 base62 characters).
pub const ID_PREFIX: &str = "ssp_";
/// The most self-service profiles a tenant holds (documented: "You can create up to 20
/// profiles").
pub const MAX_PROFILES: usize = 20;

/// A self-service profile as the API returns it. Unset optional fields are left out
/// (recorded), `user_attributes` is always there (`[]` when none, recorded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfServiceProfile {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Value>,
    #[serde(default)]
    pub user_attributes: Vec<Value>,
    #[serde(default)]
    pub allowed_strategies: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branding: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_attribute_profile_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Top-level fields this emulator has no name for, from a tenant that accepts them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn set_or_clear(field: &mut Option<Value>, value: &Value) {
    *field = (!value.is_null()).then(|| value.clone());
}

impl SelfServiceProfile {
    /// A new profile from a validated create body (which carries `name`), made at `now`. A
    /// create without `allowed_strategies` stores all ten (decided: the guide says "all are
    /// passed by default").
    pub fn create(id: String, body: &Map<String, Value>, now: String) -> Self {
        let mut profile = Self {
            id,
            name: String::new(),
            description: None,
            user_attributes: Vec::new(),
            allowed_strategies: schema::STRATEGIES.iter().map(|s| Value::from(*s)).collect(),
            branding: None,
            user_attribute_profile_id: None,
            created_at: now.clone(),
            updated_at: now.clone(),
            extra: Map::new(),
        };
        profile.apply(body, now);
        profile
    }

    /// Applies a validated PATCH body at `now`: fields left out stay, fields sent replace
    /// the stored ones whole, `null` clears; `updated_at` moves even when nothing changes
    /// (recorded).
    pub fn apply(&mut self, body: &Map<String, Value>, now: String) {
        for (key, value) in body {
            match key.as_str() {
                "name" => {
                    if let Some(name) = value.as_str() {
                        self.name = name.to_string();
                    }
                }
                "description" => set_or_clear(&mut self.description, value),
                "user_attributes" => self.user_attributes = value.as_array().cloned().unwrap_or_default(),
                "allowed_strategies" => self.allowed_strategies = value.as_array().cloned().unwrap_or_default(),
                "branding" => set_or_clear(&mut self.branding, value),
                "user_attribute_profile_id" => self.user_attribute_profile_id = value.as_str().map(str::to_string),
                other => crate::validate::keep_unknown(&mut self.extra, other, value),
            }
        }
        self.updated_at = now;
    }
}

/// A fresh random id.
pub fn new_id() -> String {
    crate::random::prefixed_id(ID_PREFIX)
}

/// Whether `id` has the shape of a self-service profile id.
pub fn is_well_formed_id(id: &str) -> bool {
    crate::random::is_prefixed_id(id, ID_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn a_bare_create_has_the_recorded_and_decided_defaults() {
        let profile = SelfServiceProfile::create(new_id(), &map(json!({"name":"p"})), "t0".into());
        let value = serde_json::to_value(&profile).expect("serialises");
        assert_eq!(value["user_attributes"], json!([]));
        assert_eq!(value["allowed_strategies"], json!(schema::STRATEGIES));
        for absent in ["description", "branding", "user_attribute_profile_id"] {
            assert!(value.get(absent).is_none(), "{absent}");
        }
        assert_eq!(
            (value["created_at"].as_str(), value["updated_at"].as_str()),
            (Some("t0"), Some("t0"))
        );
    }

    #[test]
    fn null_clears_and_every_patch_moves_updated_at() {
        let mut profile = SelfServiceProfile::create(
            new_id(),
            &map(json!({"name":"p","description":"d","branding":{"logo_url":"https://x"},
                "user_attributes":[{"name":"a","description":"b","is_optional":true}],
                "user_attribute_profile_id":"uap_x"})),
            "t0".into(),
        );
        profile.apply(
            &map(json!({"description":null,"branding":null,"user_attributes":null,"user_attribute_profile_id":null})),
            "t1".into(),
        );
        assert_eq!(
            (
                profile.description.clone(),
                profile.branding.clone(),
                profile.user_attribute_profile_id.clone()
            ),
            (None, None, None)
        );
        assert!(profile.user_attributes.is_empty());
        profile.apply(&Map::new(), "t2".into());
        assert_eq!((profile.created_at.as_str(), profile.updated_at.as_str()), ("t0", "t2"));
        assert_eq!(profile.name, "p");
    }
}
