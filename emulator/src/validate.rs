//! Pure validation of connection-profile bodies against Auth0's closed schema
//! (`crate::schema`), and the changes a valid body asks for.
//!
//! Messages follow the wording Auth0's validator uses (`Missing required property: name`,
//! `String is too long (23 chars), maximum 15`, ...), and every error names the property.
//! A tenant that accepts unknown fields (a newer Auth0) skips the closed-object and enum
//! checks; every other check still applies.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::schema::{self, Field, Kind, Rule};

pub use crate::schema::{NAME_MAX_CHARS, PREFIX_TEMPLATE_MAX_CHARS, prefix_template_is_valid};

/// Writable top-level fields, in the order the API returns them.
pub const WRITABLE_FIELDS: [&str; 8] = [
    "name",
    "organization",
    "connection_name_prefix_template",
    "enabled_features",
    "connection_config",
    "strategy_overrides",
    "provisioning",
    "cross_app_access_resource_app",
];

/// A schema violation: what is wrong and where (`None` for the body itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub problem: String,
    pub property: Option<String>,
}

impl ValidationError {
    /// An error at a dotted path (`""` for the body itself).
    pub fn at(path: &str, problem: impl Into<String>) -> Self {
        Self {
            problem: problem.into(),
            property: (!path.is_empty()).then(|| path.to_string()),
        }
    }

    /// The `message` of Auth0's 400 answer.
    pub fn message(&self, prefix: &str) -> String {
        match &self.property {
            Some(property) => format!("{prefix} validation error: '{}' on property {property}.", self.problem),
            None => format!("{prefix} validation error: '{}'.", self.problem),
        }
    }
}

type Checked<T = ()> = Result<T, ValidationError>;

/// Whether a body creates a profile (`name` required) or updates one (every field optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// A change to one optional field: absent from the body, set, or cleared with `null`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Change {
    #[default]
    Keep,
    Set(Value),
    Clear,
}

impl Change {
    fn of(value: &Value) -> Self {
        if value.is_null() {
            Change::Clear
        } else {
            Change::Set(value.clone())
        }
    }
}

/// A validated body: what to write.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Changes {
    pub name: Option<String>,
    pub organization: Change,
    pub connection_name_prefix_template: Change,
    pub enabled_features: Change,
    pub connection_config: Change,
    pub strategy_overrides: Change,
    pub provisioning: Change,
    pub cross_app_access_resource_app: Change,
    /// Top-level fields the schema does not name (only from a tenant that accepts them).
    pub extra: BTreeMap<String, Change>,
}

/// The changes a body asks for, without validating it (it was validated, then perhaps
/// normalized by the tenant).
pub fn changes_of(body: &Map<String, Value>) -> Changes {
    let mut changes = Changes::default();
    for (key, value) in body {
        let change = Change::of(value);
        match key.as_str() {
            "name" => changes.name = value.as_str().map(str::to_string),
            "organization" => changes.organization = change,
            "connection_name_prefix_template" => changes.connection_name_prefix_template = change,
            "enabled_features" => changes.enabled_features = change,
            "connection_config" => changes.connection_config = change,
            "strategy_overrides" => changes.strategy_overrides = change,
            "provisioning" => changes.provisioning = change,
            "cross_app_access_resource_app" => changes.cross_app_access_resource_app = change,
            other => {
                changes.extra.insert(other.to_string(), change);
            }
        }
    }
    changes
}

/// JSON type names as Auth0's validator spells them.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn expected(path: &str, wanted: &str, found: &Value) -> ValidationError {
    ValidationError::at(
        path,
        format!("Expected type {wanted} but found type {}", type_name(found)),
    )
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// How strictly to check: Auth0's closed schema, or a newer Auth0 that knows more fields
/// and enum values than this emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Strictness {
    /// Accept (and store) keys the schema does not name, at any depth, and any string where
    /// the schema has an enum.
    pub accept_unknown: bool,
}

struct Checker {
    strictness: Strictness,
}

impl Checker {
    /// Rejects keys outside `fields` (naming them all) unless the object is `open`, and
    /// requires the required ones.
    fn closed(
        &self,
        path: &str,
        map: &Map<String, Value>,
        fields: &[Field],
        extra_required: &[&str],
        open: bool,
    ) -> Checked {
        if !open && !self.strictness.accept_unknown {
            let unknown: Vec<&str> = map
                .keys()
                .map(String::as_str)
                .filter(|key| !fields.iter().any(|field| field.name == *key))
                .collect();
            if !unknown.is_empty() {
                return Err(ValidationError::at(
                    path,
                    format!("Additional properties not allowed: {}", unknown.join(",")),
                ));
            }
        }
        let required = extra_required
            .iter()
            .copied()
            .chain(fields.iter().filter(|field| field.required).map(|field| field.name));
        for key in required {
            if !map.contains_key(key) {
                return Err(ValidationError::at(path, format!("Missing required property: {key}")));
            }
        }
        Ok(())
    }

    fn object(&self, path: &str, value: &Value, fields: &[Field], extra_required: &[&str], open: bool) -> Checked {
        let map = value.as_object().ok_or_else(|| expected(path, "object", value))?;
        self.closed(path, map, fields, extra_required, open)?;
        for (key, child) in map {
            if let Some(field) = fields.iter().find(|field| field.name == key) {
                self.field(&join(path, key), field, child)?;
            }
        }
        Ok(())
    }

    fn field(&self, path: &str, field: &Field, value: &Value) -> Checked {
        if value.is_null() {
            return if field.nullable {
                Ok(())
            } else {
                Err(expected(path, field.kind.type_name(), value))
            };
        }
        self.value(path, &field.kind, value)?;
        match field.rule {
            Some(Rule::EmptyOrAll) => {
                let allowed = match field.kind {
                    Kind::Array {
                        items: Kind::Enum(values),
                        ..
                    } => values.len(),
                    _ => 0,
                };
                let count = value.as_array().map_or(0, Vec::len);
                if count != 0 && count != allowed {
                    return Err(ValidationError::at(
                        path,
                        "Array must be empty or hold both enabled and disabled",
                    ));
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn value(&self, path: &str, kind: &Kind, value: &Value) -> Checked {
        match kind {
            Kind::Object(fields) => self.object(path, value, fields, &[], false),
            Kind::OpenObject(fields) => self.object(path, value, fields, &[], true),
            Kind::Map {
                values,
                min,
                max,
                key_max,
            } => {
                let map = value.as_object().ok_or_else(|| expected(path, "object", value))?;
                let count = map.len();
                if count < *min {
                    return Err(ValidationError::at(
                        path,
                        format!("Too few properties defined ({count}), minimum {min}"),
                    ));
                }
                if count > *max {
                    return Err(ValidationError::at(
                        path,
                        format!("Too many properties defined ({count}), maximum {max}"),
                    ));
                }
                for (key, child) in map {
                    if key.is_empty() || key.chars().count() > *key_max {
                        return Err(ValidationError::at(
                            path,
                            format!("Property name {key:?} is not 1 to {key_max} characters long"),
                        ));
                    }
                    self.value(&join(path, key), values, child)?;
                }
                Ok(())
            }
            Kind::List { items, min, max } => {
                let list = value.as_array().ok_or_else(|| expected(path, "array", value))?;
                let count = list.len();
                if count < *min {
                    return Err(ValidationError::at(
                        path,
                        format!("Array is too short ({count}), minimum {min}"),
                    ));
                }
                if count > *max {
                    return Err(ValidationError::at(
                        path,
                        format!("Array is too long ({count}), maximum {max}"),
                    ));
                }
                for (index, item) in list.iter().enumerate() {
                    self.value(&format!("{path}[{index}]"), items, item)?;
                }
                Ok(())
            }
            Kind::Array { items, unique } => {
                let list = value.as_array().ok_or_else(|| expected(path, "array", value))?;
                for (index, item) in list.iter().enumerate() {
                    self.value(&format!("{path}[{index}]"), items, item)?;
                }
                if *unique {
                    for (later, item) in list.iter().enumerate() {
                        if let Some(earlier) = list[..later].iter().position(|seen| seen == item) {
                            return Err(ValidationError::at(
                                path,
                                format!("Array items are not unique (indexes {earlier} and {later})"),
                            ));
                        }
                    }
                }
                Ok(())
            }
            Kind::Enum(values) => {
                let text = value.as_str().ok_or_else(|| expected(path, "string", value))?;
                if values.contains(&text) || self.strictness.accept_unknown {
                    Ok(())
                } else {
                    Err(ValidationError::at(path, format!("No enum match for: {value}")))
                }
            }
            Kind::Text { min, max, pattern } => {
                let text = value.as_str().ok_or_else(|| expected(path, "string", value))?;
                let chars = text.chars().count();
                if chars < *min {
                    return Err(ValidationError::at(
                        path,
                        format!("String is too short ({chars} chars), minimum {min}"),
                    ));
                }
                if chars > *max {
                    return Err(ValidationError::at(
                        path,
                        format!("String is too long ({chars} chars), maximum {max}"),
                    ));
                }
                match pattern {
                    Some(pattern) if !(pattern.matches)(text) => Err(ValidationError::at(
                        path,
                        format!("String does not match pattern: {}", pattern.shown),
                    )),
                    _ => Ok(()),
                }
            }
            Kind::Boolean => value
                .as_bool()
                .map(|_| ())
                .ok_or_else(|| expected(path, "boolean", value)),
            Kind::Seconds => match value {
                Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                    (Some(_), _) => Ok(()),
                    (None, Some(negative)) => Err(ValidationError::at(
                        path,
                        format!("Value {negative} is less than minimum 0"),
                    )),
                    _ => Err(expected(path, "integer", value)),
                },
                other => Err(expected(path, "integer", other)),
            },
        }
    }
}

/// Validates a create or update body against Auth0's closed schema and returns the changes
/// it asks for.
pub fn validate_body(body: &Value, mode: Mode) -> Checked<Changes> {
    validate_body_with(body, mode, Strictness::default())
}

/// Validates a body as a tenant of the given strictness does.
pub fn validate_body_with(body: &Value, mode: Mode, strictness: Strictness) -> Checked<Changes> {
    let required: &[&str] = match mode {
        Mode::Create => &["name"],
        Mode::Update => &[],
    };
    // `id` is read-only, even for a tenant that accepts unknown fields.
    validate_object(body, schema::PROFILE, required, &["id"], strictness)?;
    Ok(changes_of(body.as_object().expect("checked to be an object")))
}

/// Keeps a top-level field the emulator has no name for (sent to a tenant that accepts
/// unknown fields) in `extra`; `null` drops it. The user attribute and self-service
/// profiles' PATCH.
pub fn keep_unknown(extra: &mut Map<String, Value>, key: &str, value: &Value) {
    if value.is_null() {
        extra.remove(key);
    } else {
        extra.insert(key.to_string(), value.clone());
    }
}

/// Validates a body against a closed object schema (`fields`): the `required` keys must be
/// there, and the `read_only` ones are refused even by a tenant that accepts unknown fields.
/// Shared by every resource the emulator serves.
pub fn validate_object(
    body: &Value,
    fields: &[Field],
    required: &[&str],
    read_only: &[&str],
    strictness: Strictness,
) -> Checked {
    if let Some(key) = body
        .as_object()
        .and_then(|map| read_only.iter().find(|key| map.contains_key(**key)))
    {
        return Err(ValidationError::at(
            "",
            format!("Additional properties not allowed: {key}"),
        ));
    }
    Checker { strictness }.object("", body, fields, required, false)
}

/// Validates a template catalogue entry's `template` (a create body without `id`).
pub fn validate_template(template: &Value) -> Checked {
    validate_body(template, Mode::Create).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(body: Value, mode: Mode) -> String {
        match validate_body(&body, mode) {
            Ok(changes) => panic!("accepted {body}: {changes:?}"),
            Err(error) => error.message("Payload"),
        }
    }

    #[test]
    fn accepts_the_recorded_terraform_body() {
        let body = json!({"name":"Test-Profile-X","organization":{"show_as_button":"optional","assign_membership_on_login":"required"},
            "connection_name_prefix_template":"template1","enabled_features":["scim","universal_logout"],"connection_config":{}});
        let changes = validate_body(&body, Mode::Create).expect("valid");
        assert_eq!(changes.name.as_deref(), Some("Test-Profile-X"));
        assert_eq!(changes.connection_config, Change::Set(json!({})));
        assert_eq!(changes.strategy_overrides, Change::Keep);
    }

    #[test]
    fn unknown_keys_are_named_at_every_level() {
        assert_eq!(
            err(json!({"name":"a","colour":"red"}), Mode::Create),
            "Payload validation error: 'Additional properties not allowed: colour'."
        );
        assert_eq!(
            err(json!({"organization":{"x":"none"}}), Mode::Update),
            "Payload validation error: 'Additional properties not allowed: x' on property organization."
        );
        assert_eq!(
            err(json!({"connection_config":{"a":1}}), Mode::Update),
            "Payload validation error: 'Additional properties not allowed: a' on property connection_config."
        );
        assert!(
            err(json!({"strategy_overrides":{"okta":{"zzz":1}}}), Mode::Update)
                .contains("zzz' on property strategy_overrides.okta.")
        );
        assert!(err(json!({"strategy_overrides":{"github":{}}}), Mode::Update).contains("github"));
    }

    #[test]
    fn name_is_required_on_create_and_bounded() {
        assert_eq!(
            err(json!({}), Mode::Create),
            "Payload validation error: 'Missing required property: name'."
        );
        assert!(validate_body(&json!({}), Mode::Update).is_ok());
        assert!(err(json!({"name":""}), Mode::Create).contains("String is too short (0 chars), minimum 1"));
        assert!(
            err(json!({"name":"x".repeat(51)}), Mode::Create).contains("String is too long (51 chars), maximum 50")
        );
        assert!(validate_body(&json!({"name":"é".repeat(50)}), Mode::Create).is_ok());
        assert!(
            err(json!({"name":5}), Mode::Create)
                .contains("Expected type string but found type integer' on property name.")
        );
        assert!(err(json!({"name":null}), Mode::Update).contains("found type null"));
    }

    #[test]
    fn prefix_template_rules() {
        for good in ["", "con-{org_id}-", "{org_name}", "abc-DEF-123", "a-{org_id}{org_name}"] {
            assert!(prefix_template_is_valid(good), "{good}");
        }
        for bad in ["-a", "a--b", "a_b", "{org}", "{org_id", "a b", "é"] {
            assert!(!prefix_template_is_valid(bad), "{bad}");
        }
        assert_eq!(
            err(json!({"connection_name_prefix_template":"x".repeat(23)}), Mode::Update),
            "Payload validation error: 'String is too long (23 chars), maximum 15' on property connection_name_prefix_template."
        );
        assert!(
            err(json!({"connection_name_prefix_template":"a--b"}), Mode::Update)
                .contains("String does not match pattern")
        );
    }

    #[test]
    fn enums_and_uniqueness() {
        assert!(
            err(json!({"enabled_features":["scim","scim"]}), Mode::Update)
                .contains("Array items are not unique (indexes 0 and 1)")
        );
        assert!(
            err(json!({"enabled_features":["sso"]}), Mode::Update)
                .contains("No enum match for: \"sso\"' on property enabled_features[0].")
        );
        assert!(
            err(json!({"organization":{"show_as_button":"always"}}), Mode::Update)
                .contains("on property organization.show_as_button.")
        );
    }

    #[test]
    fn provisioning_rules() {
        let good = json!({"provisioning":{"scim":{"tokens":{"scopes":["get:users","put:users"],"default_expiry":null,"max_allowed_expiry":3600}}}});
        assert!(validate_body(&good, Mode::Update).is_ok());
        assert!(
            err(json!({"provisioning":{"scim":{"tokens":{}}}}), Mode::Update)
                .contains("Missing required property: scopes' on property provisioning.scim.tokens.")
        );
        assert!(err(json!({"provisioning":{"scim":{}}}), Mode::Update).contains("Missing required property: tokens"));
        assert!(
            err(
                json!({"provisioning":{"scim":{"tokens":{"scopes":[],"default_expiry":1.5}}}}),
                Mode::Update
            )
            .contains("Expected type integer but found type number")
        );
        assert!(
            err(
                json!({"provisioning":{"scim":{"tokens":{"scopes":[],"default_expiry":-1}}}}),
                Mode::Update
            )
            .contains("Value -1 is less than minimum 0")
        );
        // `null` clears a nested object (decided; recorded for cross_app_access_resource_app).
        assert_eq!(
            validate_body(&json!({"provisioning":null,"organization":null}), Mode::Update)
                .expect("valid")
                .provisioning,
            Change::Clear
        );
        assert!(err(json!({"enabled_features":null}), Mode::Update).contains("found type null"));
    }

    #[test]
    fn directory_sync_and_google_workspace_provisioning() {
        let body = json!({"enabled_features":["directory_sync","scim"],
            "provisioning":{"google_workspace":{"sync_users":true}},
            "strategy_overrides":{"google-apps":{"enabled_features":["directory_sync"],
                "provisioning":{"google_workspace":{"sync_users":false},"scim":{"tokens":{"scopes":[]}}}}}});
        assert!(validate_body(&body, Mode::Update).is_ok());
        assert_eq!(
            err(json!({"provisioning":{"google_workspace":{}}}), Mode::Update),
            "Payload validation error: 'Missing required property: sync_users' on property provisioning.google_workspace."
        );
        assert_eq!(
            err(
                json!({"provisioning":{"google_workspace":{"sync_users":"yes"}}}),
                Mode::Update
            ),
            "Payload validation error: 'Expected type boolean but found type string' on property provisioning.google_workspace.sync_users."
        );
        assert!(
            err(json!({"strategy_overrides":{"okta":{"provisioning":{"google_workspace":{"sync_users":true,"x":1}}}}}), Mode::Update)
                .contains("'Additional properties not allowed: x' on property strategy_overrides.okta.provisioning.google_workspace.")
        );
    }

    #[test]
    fn cross_app_access_and_clearing() {
        let both = json!({"cross_app_access_resource_app":{"status":{"default_value":"enabled","allowed_values":["disabled","enabled"]}}});
        assert!(validate_body(&both, Mode::Update).is_ok());
        let empty =
            json!({"cross_app_access_resource_app":{"status":{"default_value":"disabled","allowed_values":[]}}});
        assert!(validate_body(&empty, Mode::Update).is_ok());
        assert!(err(json!({"cross_app_access_resource_app":{"status":{"default_value":"enabled","allowed_values":["enabled"]}}}), Mode::Update)
            .contains("on property cross_app_access_resource_app.status.allowed_values."));
        assert!(
            err(json!({"cross_app_access_resource_app":{"status":{}}}), Mode::Update)
                .contains("Missing required property: default_value")
        );
        let cleared = validate_body(
            &json!({"cross_app_access_resource_app":null,"strategy_overrides":null}),
            Mode::Update,
        )
        .expect("valid");
        assert_eq!(cleared.cross_app_access_resource_app, Change::Clear);
        assert_eq!(cleared.strategy_overrides, Change::Clear);
    }

    /// A small schema with every kind the newer resources use.
    const INNER: &[Field] = &[schema::required(schema::field(
        "primary",
        Kind::Text {
            min: 1,
            max: 3,
            pattern: None,
        },
    ))];
    const SHAPES: &[Field] = &[
        schema::field("open", Kind::OpenObject(INNER)),
        schema::field(
            "map",
            Kind::Map {
                values: &Kind::Boolean,
                min: 1,
                max: 2,
                key_max: 3,
            },
        ),
        schema::field(
            "list",
            Kind::List {
                items: &Kind::Boolean,
                min: 1,
                max: 2,
            },
        ),
    ];

    fn shaped(body: Value) -> Result<(), String> {
        validate_object(&body, SHAPES, &[], &["id", "created_at"], Strictness::default())
            .map_err(|error| error.message("Payload"))
    }

    #[test]
    fn an_unknown_field_is_kept_and_null_drops_it() {
        let mut extra = Map::new();
        keep_unknown(&mut extra, "future", &serde_json::json!({"on": true}));
        keep_unknown(&mut extra, "other", &serde_json::json!(1));
        assert_eq!(
            Value::Object(extra.clone()),
            serde_json::json!({"future": {"on": true}, "other": 1})
        );
        keep_unknown(&mut extra, "future", &Value::Null);
        keep_unknown(&mut extra, "never", &Value::Null);
        assert_eq!(Value::Object(extra), serde_json::json!({"other": 1}));
    }

    #[test]
    fn open_objects_keep_unknown_keys_but_check_known_ones() {
        assert_eq!(shaped(json!({"open":{"primary":"a","extra":{"x":1}}})), Ok(()));
        assert_eq!(
            shaped(json!({"open":{"extra":1}})),
            Err("Payload validation error: 'Missing required property: primary' on property open.".into())
        );
        assert!(shaped(json!({"open":{"primary":"abcd"}})).is_err_and(|e| e.contains("maximum 3")));
        assert!(shaped(json!({"open":[]})).is_err_and(|e| e.contains("Expected type object but found type array")));
        // The body itself stays closed.
        assert!(shaped(json!({"colour":1})).is_err_and(|e| e.contains("Additional properties not allowed: colour")));
    }

    #[test]
    fn maps_bound_their_size_keys_and_values() {
        assert_eq!(shaped(json!({"map":{"a":true}})), Ok(()));
        assert_eq!(shaped(json!({"map":{"abc":true,"b":false}})), Ok(()));
        assert_eq!(
            shaped(json!({"map":{}})),
            Err("Payload validation error: 'Too few properties defined (0), minimum 1' on property map.".into())
        );
        assert_eq!(
            shaped(json!({"map":{"a":true,"b":true,"c":true}})),
            Err("Payload validation error: 'Too many properties defined (3), maximum 2' on property map.".into())
        );
        assert!(shaped(json!({"map":{"abcd":true}})).is_err_and(|e| e.contains("\"abcd\" is not 1 to 3")));
        assert!(shaped(json!({"map":{"":true}})).is_err_and(|e| e.contains("\"\" is not 1 to 3")));
        assert!(
            shaped(json!({"map":{"éé":true}})).is_ok(),
            "key length counts characters"
        );
        assert_eq!(
            shaped(json!({"map":{"a":1}})),
            Err("Payload validation error: 'Expected type boolean but found type integer' on property map.a.".into())
        );
        assert!(shaped(json!({"map":[true]})).is_err_and(|e| e.contains("Expected type object")));
    }

    #[test]
    fn lists_bound_their_length_and_allow_duplicates() {
        assert_eq!(shaped(json!({"list":[true]})), Ok(()));
        assert_eq!(shaped(json!({"list":[true,true]})), Ok(()));
        assert_eq!(
            shaped(json!({"list":[]})),
            Err("Payload validation error: 'Array is too short (0), minimum 1' on property list.".into())
        );
        assert_eq!(
            shaped(json!({"list":[true,false,true]})),
            Err("Payload validation error: 'Array is too long (3), maximum 2' on property list.".into())
        );
        assert_eq!(
            shaped(json!({"list":[true,"x"]})),
            Err("Payload validation error: 'Expected type boolean but found type string' on property list[1].".into())
        );
        assert!(shaped(json!({"list":{}})).is_err_and(|e| e.contains("Expected type array")));
    }

    #[test]
    fn read_only_keys_are_refused_even_by_a_lenient_tenant() {
        let lenient = Strictness { accept_unknown: true };
        for key in ["id", "created_at"] {
            let error = validate_object(&json!({ key: "x" }), SHAPES, &[], &["id", "created_at"], lenient)
                .expect_err("read-only");
            assert_eq!(error.problem, format!("Additional properties not allowed: {key}"));
        }
        assert!(validate_object(&json!({"other":1}), SHAPES, &[], &["id"], lenient).is_ok());
        assert!(validate_object(&json!({}), SHAPES, &["map"], &[], lenient).is_err());
    }

    #[test]
    fn body_must_be_an_object() {
        assert_eq!(
            err(json!([1]), Mode::Create),
            "Payload validation error: 'Expected type object but found type array'."
        );
    }

    #[test]
    fn type_names_are_auth0_validators() {
        for (value, name) in [
            (json!(null), "null"),
            (json!(true), "boolean"),
            (json!(-1), "integer"),
            (json!(u64::MAX), "integer"),
            (json!(1.5), "number"),
            (json!("x"), "string"),
            (json!([]), "array"),
            (json!({}), "object"),
        ] {
            assert_eq!(type_name(&value), name, "{value}");
        }
    }
}
