//! Pure validation of connection-profile bodies against Auth0's closed schema.
//!
//! Messages follow the wording Auth0's validator uses (`Missing required property: name`,
//! `String is too long (23 chars), maximum 15`, ...), and every error names the property.

use serde_json::{Map, Value};

/// The longest profile name.
pub const NAME_MAX_CHARS: usize = 50;
/// The longest connection name prefix template.
pub const PREFIX_TEMPLATE_MAX_CHARS: usize = 15;
/// What Auth0 publishes as the template's pattern; shown in the error message.
const PREFIX_TEMPLATE_PATTERN: &str = r"^(?!-)(?!.*--)(?:[a-zA-Z0-9-]|\{org_id\}|\{org_name\})*$";
const PREFIX_TEMPLATE_VARIABLES: [&str; 2] = ["{org_id}", "{org_name}"];

const ORGANIZATION_MODES: [&str; 3] = ["none", "optional", "required"];
const FEATURES: [&str; 2] = ["scim", "universal_logout"];
const STRATEGIES: [&str; 8] = [
    "pingfederate",
    "ad",
    "adfs",
    "waad",
    "google-apps",
    "okta",
    "oidc",
    "samlp",
];
const SCIM_TOKEN_SCOPES: [&str; 5] = ["get:users", "post:users", "patch:users", "delete:users", "put:users"];
const CROSS_APP_VALUES: [&str; 2] = ["enabled", "disabled"];

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
    fn at(path: &str, problem: impl Into<String>) -> Self {
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

fn object<'a>(path: &str, value: &'a Value) -> Checked<&'a Map<String, Value>> {
    value.as_object().ok_or_else(|| expected(path, "object", value))
}

fn string<'a>(path: &str, value: &'a Value) -> Checked<&'a str> {
    value.as_str().ok_or_else(|| expected(path, "string", value))
}

/// Rejects keys outside `allowed` (naming them all) and requires the `required` ones.
fn closed(path: &str, map: &Map<String, Value>, allowed: &[&str], required: &[&str]) -> Checked {
    let unknown: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|key| !allowed.contains(key))
        .collect();
    if !unknown.is_empty() {
        return Err(ValidationError::at(
            path,
            format!("Additional properties not allowed: {}", unknown.join(",")),
        ));
    }
    for key in required {
        if !map.contains_key(*key) {
            return Err(ValidationError::at(path, format!("Missing required property: {key}")));
        }
    }
    Ok(())
}

fn one_of(path: &str, value: &Value, allowed: &[&str]) -> Checked {
    let text = string(path, value)?;
    if allowed.contains(&text) {
        Ok(())
    } else {
        Err(ValidationError::at(path, format!("No enum match for: {value}")))
    }
}

/// An array of distinct values from `allowed`.
fn enum_set(path: &str, value: &Value, allowed: &[&str]) -> Checked {
    let items = value.as_array().ok_or_else(|| expected(path, "array", value))?;
    for (index, item) in items.iter().enumerate() {
        one_of(&format!("{path}[{index}]"), item, allowed)?;
    }
    for (later, item) in items.iter().enumerate() {
        if let Some(earlier) = items[..later].iter().position(|seen| seen == item) {
            return Err(ValidationError::at(
                path,
                format!("Array items are not unique (indexes {earlier} and {later})"),
            ));
        }
    }
    Ok(())
}

fn string_length(path: &str, text: &str, min: usize, max: usize) -> Checked {
    let chars = text.chars().count();
    if chars < min {
        return Err(ValidationError::at(
            path,
            format!("String is too short ({chars} chars), minimum {min}"),
        ));
    }
    if chars > max {
        return Err(ValidationError::at(
            path,
            format!("String is too long ({chars} chars), maximum {max}"),
        ));
    }
    Ok(())
}

/// A whole number of seconds, or `null`.
fn optional_seconds(path: &str, value: &Value) -> Checked {
    match value {
        Value::Null => Ok(()),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(_), _) => Ok(()),
            (None, Some(negative)) => Err(ValidationError::at(
                path,
                format!("Value {negative} is less than minimum 0"),
            )),
            _ => Err(expected(path, "integer", value)),
        },
        other => Err(expected(path, "integer", other)),
    }
}

/// True when the template uses only `[A-Za-z0-9-]` and the two variables, does not start
/// with `-` and has no `--` (the look-aheads of the published pattern, checked by hand).
pub fn prefix_template_is_valid(template: &str) -> bool {
    if template.starts_with('-') || template.contains("--") {
        return false;
    }
    let mut rest = template;
    while let Some(first) = rest.chars().next() {
        if first == '{' {
            match PREFIX_TEMPLATE_VARIABLES
                .iter()
                .find(|variable| rest.starts_with(**variable))
            {
                Some(variable) => rest = &rest[variable.len()..],
                None => return false,
            }
        } else if first.is_ascii_alphanumeric() || first == '-' {
            rest = &rest[1..];
        } else {
            return false;
        }
    }
    true
}

fn check_name(value: &Value) -> Checked<String> {
    let name = string("name", value)?;
    string_length("name", name, 1, NAME_MAX_CHARS)?;
    Ok(name.to_string())
}

fn check_organization(path: &str, value: &Value) -> Checked {
    let map = object(path, value)?;
    closed(path, map, &["show_as_button", "assign_membership_on_login"], &[])?;
    for (key, mode) in map {
        one_of(&join(path, key), mode, &ORGANIZATION_MODES)?;
    }
    Ok(())
}

fn check_prefix_template(path: &str, value: &Value) -> Checked {
    let template = string(path, value)?;
    string_length(path, template, 0, PREFIX_TEMPLATE_MAX_CHARS)?;
    if prefix_template_is_valid(template) {
        Ok(())
    } else {
        Err(ValidationError::at(
            path,
            format!("String does not match pattern: {PREFIX_TEMPLATE_PATTERN}"),
        ))
    }
}

fn check_connection_config(path: &str, value: &Value) -> Checked {
    closed(path, object(path, value)?, &[], &[])
}

fn check_provisioning(path: &str, value: &Value) -> Checked {
    let map = object(path, value)?;
    closed(path, map, &["scim"], &[])?;
    if let Some(scim) = map.get("scim") {
        let scim_path = join(path, "scim");
        let scim_map = object(&scim_path, scim)?;
        closed(&scim_path, scim_map, &["tokens"], &["tokens"])?;
        let tokens_path = join(&scim_path, "tokens");
        let tokens = object(&tokens_path, &scim_map["tokens"])?;
        closed(
            &tokens_path,
            tokens,
            &["scopes", "default_expiry", "max_allowed_expiry"],
            &["scopes"],
        )?;
        enum_set(&join(&tokens_path, "scopes"), &tokens["scopes"], &SCIM_TOKEN_SCOPES)?;
        for key in ["default_expiry", "max_allowed_expiry"] {
            if let Some(expiry) = tokens.get(key) {
                optional_seconds(&join(&tokens_path, key), expiry)?;
            }
        }
    }
    Ok(())
}

fn check_strategy_overrides(path: &str, value: &Value) -> Checked {
    let map = object(path, value)?;
    closed(path, map, &STRATEGIES, &[])?;
    for (strategy, overrides) in map {
        let strategy_path = join(path, strategy);
        let fields = object(&strategy_path, overrides)?;
        closed(
            &strategy_path,
            fields,
            &["enabled_features", "connection_config", "provisioning"],
            &[],
        )?;
        if let Some(features) = fields.get("enabled_features") {
            enum_set(&join(&strategy_path, "enabled_features"), features, &FEATURES)?;
        }
        if let Some(config) = fields.get("connection_config") {
            check_connection_config(&join(&strategy_path, "connection_config"), config)?;
        }
        if let Some(provisioning) = fields.get("provisioning") {
            check_provisioning(&join(&strategy_path, "provisioning"), provisioning)?;
        }
    }
    Ok(())
}

fn check_cross_app_access(path: &str, value: &Value) -> Checked {
    let map = object(path, value)?;
    closed(path, map, &["status"], &["status"])?;
    let status_path = join(path, "status");
    let status = object(&status_path, &map["status"])?;
    closed(
        &status_path,
        status,
        &["default_value", "allowed_values"],
        &["default_value"],
    )?;
    one_of(
        &join(&status_path, "default_value"),
        &status["default_value"],
        &CROSS_APP_VALUES,
    )?;
    if let Some(allowed) = status.get("allowed_values") {
        let allowed_path = join(&status_path, "allowed_values");
        enum_set(&allowed_path, allowed, &CROSS_APP_VALUES)?;
        let count = allowed.as_array().map_or(0, Vec::len);
        if count != 0 && count != CROSS_APP_VALUES.len() {
            return Err(ValidationError::at(
                &allowed_path,
                "Array must be empty or hold both enabled and disabled",
            ));
        }
    }
    Ok(())
}

/// A field that must not be `null`: validated and set.
fn required_value(key: &str, value: &Value, check: fn(&str, &Value) -> Checked) -> Checked<Change> {
    check(key, value)?;
    Ok(Change::Set(value.clone()))
}

/// A field where `null` clears what is stored.
fn clearable_value(key: &str, value: &Value, check: fn(&str, &Value) -> Checked) -> Checked<Change> {
    if value.is_null() {
        Ok(Change::Clear)
    } else {
        required_value(key, value, check)
    }
}

fn check_enabled_features(path: &str, value: &Value) -> Checked {
    enum_set(path, value, &FEATURES)
}

/// Validates a create or update body and returns the changes it asks for.
pub fn validate_body(body: &Value, mode: Mode) -> Checked<Changes> {
    let map = object("", body)?;
    let required: &[&str] = match mode {
        Mode::Create => &["name"],
        Mode::Update => &[],
    };
    closed("", map, &WRITABLE_FIELDS, required)?;
    let mut changes = Changes::default();
    for (key, value) in map {
        match key.as_str() {
            "name" => changes.name = Some(check_name(value)?),
            "organization" => changes.organization = required_value(key, value, check_organization)?,
            "connection_name_prefix_template" => {
                changes.connection_name_prefix_template = required_value(key, value, check_prefix_template)?
            }
            "enabled_features" => changes.enabled_features = required_value(key, value, check_enabled_features)?,
            "connection_config" => changes.connection_config = required_value(key, value, check_connection_config)?,
            "strategy_overrides" => changes.strategy_overrides = clearable_value(key, value, check_strategy_overrides)?,
            "provisioning" => changes.provisioning = required_value(key, value, check_provisioning)?,
            "cross_app_access_resource_app" => {
                changes.cross_app_access_resource_app = clearable_value(key, value, check_cross_app_access)?
            }
            // `closed` above rejected every other key.
            _ => {}
        }
    }
    Ok(changes)
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
        assert!(err(json!({"provisioning":null}), Mode::Update).contains("found type null"));
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

    #[test]
    fn body_must_be_an_object() {
        assert_eq!(
            err(json!([1]), Mode::Create),
            "Payload validation error: 'Expected type object but found type array'."
        );
    }
}
