//! Pure validation of a ConnectionProfile: the CRD schema's rules again, for the operator to
//! run before any Auth0 call (an older CRD may be installed) and for tools that check a
//! manifest offline. Each error names the field by its path and says what to fix.

use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;

use super::kind::Auth0Api;
use super::rules::{self, NAME_MAX, PREFIX_MAX, PREFIX_VARIABLES};
use super::tenant::TenantRef;
use super::{ConnectionProfile, ConnectionProfileSpec, StrategyOverride};

/// Longest tenant name: a Kubernetes object name (the CRD schema's maxLength).
const TENANT_NAME_MAX: usize = 253;

/// One broken rule: the field's path (as the API server writes it) and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// All the errors of one object, shown as one line a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("; "))
    }
}

impl std::error::Error for Invalid {}

/// Parses a ConnectionProfile (or a resource of another kind) as the API server does under
/// strict field validation: unknown fields, wrong types and values outside an enum are
/// errors that name their path.
pub fn parse_strict<K: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<K, Invalid> {
    let mut unknown = Vec::new();
    let mut on_unknown = |path: serde_ignored::Path| {
        unknown.push(FieldError {
            field: ignored_path(&path),
            message: "unknown field: remove it or check its spelling".into(),
        })
    };
    let deserializer = serde_ignored::Deserializer::new(value, &mut on_unknown);
    let parsed: Result<K, _> = serde_path_to_error::deserialize(deserializer);
    match parsed {
        Err(err) => Err(Invalid(vec![FieldError {
            field: dotted(&err.path().to_string()),
            message: err.inner().to_string(),
        }])),
        // metadata and status are the API server's business; only spec is ours to judge.
        Ok(_) if unknown.iter().any(|e| e.field.starts_with("spec")) => Err(Invalid(
            unknown.into_iter().filter(|e| e.field.starts_with("spec")).collect(),
        )),
        Ok(profile) => Ok(profile),
    }
}

/// Checks every rule that a single object must satisfy.
pub fn validate(profile: &ConnectionProfile) -> Result<(), Invalid> {
    let mut errors = Vec::new();
    let spec = &profile.spec;
    let mut fail = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };

    match &spec.name {
        Some(name) if name.is_empty() => fail(
            "spec.name",
            "must not be empty: give the Auth0 profile a name of 1 to 50 characters, or omit it to use metadata.name",
        ),
        Some(name) if name.chars().count() > NAME_MAX => fail("spec.name", "must be at most 50 characters long"),
        Some(_) => {}
        None if profile.metadata.name.as_deref().unwrap_or_default().chars().count() > NAME_MAX => {
            fail("spec", rules::EFFECTIVE_NAME_MSG)
        }
        // Only a manifest checked offline (generateName, or no name yet) gets here: the API
        // server always names the object. Auth0 refuses an empty name.
        None if profile.metadata.name.as_deref().unwrap_or_default().is_empty() => fail(
            "spec.name",
            "is required when metadata.name is empty: give the Auth0 profile a name of 1 to 50 characters",
        ),
        None => {}
    }

    if spec.tenant_ref.name.is_empty() {
        fail("spec.tenantRef.name", "must name an Auth0Tenant or ClusterAuth0Tenant");
    } else if spec.tenant_ref.name.chars().count() > TENANT_NAME_MAX {
        fail(
            "spec.tenantRef.name",
            "must be at most 253 characters long, the longest name a Kubernetes object can have",
        );
    }

    if let Some(id) = &spec.external_id
        && !is_profile_id(id)
    {
        fail("spec.externalID", rules::EXTERNAL_ID_MSG);
    }

    if let Some(template) = &spec.connection_name_prefix_template {
        let field = "spec.connectionNamePrefixTemplate";
        if template.chars().count() > PREFIX_MAX {
            fail(
                field,
                "must be at most 15 characters long (the raw template, variables included)",
            );
        }
        if !prefix_chars_ok(template) {
            fail(field, rules::PREFIX_CHARS_MSG);
        }
        if template.starts_with('-') {
            fail(field, rules::PREFIX_LEADING_DASH_MSG);
        }
        if template.contains("--") {
            fail(field, rules::PREFIX_DOUBLE_DASH_MSG);
        }
    }

    if let Some(features) = &spec.enabled_features
        && has_duplicates(features)
    {
        fail(
            "spec.enabledFeatures",
            "lists a feature twice: name each feature at most once",
        );
    }

    if let Some(overrides) = &spec.strategy_overrides {
        for (strategy, settings) in overrides.iter() {
            for e in check_override(settings) {
                fail(&format!("spec.strategyOverrides.{strategy}.{}", e.field), &e.message);
            }
        }
    }

    if let Some(scim) = spec.provisioning.as_ref().and_then(|p| p.scim.as_ref()) {
        for e in check_scim_tokens(&scim.tokens) {
            fail(&format!("spec.provisioning.scim.tokens.{}", e.field), &e.message);
        }
    }

    if let Some(app) = &spec.cross_app_access_resource_app
        && let Some(values) = &app.status.allowed_values
    {
        let both = values.len() == 2 && !has_duplicates(values);
        if !values.is_empty() && !both {
            fail(
                "spec.crossAppAccessResourceApp.status.allowedValues",
                rules::ALLOWED_VALUES_MSG,
            );
        }
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(Invalid(errors))
    }
}

/// The rules of the fields every other kind's spec shares with ConnectionProfile's (see
/// [`validate`]): its name limit, messages and id shape.
#[derive(Debug)]
pub struct CommonRules {
    /// Longest Auth0 name, in characters.
    pub name_max: usize,
    /// What a metadata.name too long to be the Auth0 name gets (the CRD's CEL message).
    pub effective_name_msg: &'static str,
    /// The kind's Auth0 API: the shape of its ids.
    pub api: &'static Auth0Api,
    /// What an externalID of another shape gets (the CRD's CEL message).
    pub external_id_msg: &'static str,
}

/// `spec.name` (1 to `name_max` characters, else `metadata.name` within the limit),
/// `spec.tenantRef.name` and `spec.externalID`, checked as [`validate`] checks a
/// ConnectionProfile's.
pub fn common_errors(
    spec_name: Option<&str>,
    metadata_name: Option<&str>,
    tenant_ref: &TenantRef,
    external_id: Option<&str>,
    rules: &CommonRules,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };
    let max = rules.name_max;
    let metadata_name = metadata_name.unwrap_or_default();
    match spec_name {
        Some("") => fail(
            "spec.name",
            format!(
                "must not be empty: give the Auth0 profile a name of 1 to {max} characters, or omit it to use metadata.name"
            ),
        ),
        Some(name) if name.chars().count() > max => fail("spec.name", format!("must be at most {max} characters long")),
        Some(_) => {}
        None if metadata_name.chars().count() > max => fail("spec", rules.effective_name_msg.to_string()),
        None if metadata_name.is_empty() => fail(
            "spec.name",
            format!("is required when metadata.name is empty: give the Auth0 profile a name of 1 to {max} characters"),
        ),
        None => {}
    }
    if tenant_ref.name.is_empty() {
        fail(
            "spec.tenantRef.name",
            "must name an Auth0Tenant or ClusterAuth0Tenant".into(),
        );
    } else if tenant_ref.name.chars().count() > TENANT_NAME_MAX {
        fail(
            "spec.tenantRef.name",
            "must be at most 253 characters long, the longest name a Kubernetes object can have".into(),
        );
    }
    if let Some(id) = external_id
        && !rules.api.is_id(id)
    {
        fail("spec.externalID", rules.external_id_msg.to_string());
    }
    errors
}

/// A text of `min` to `max` characters (as the CRD schema counts them), else what to fix.
pub fn length_error(field: &str, text: &str, min: usize, max: usize) -> Option<FieldError> {
    let count = text.chars().count();
    (count < min || count > max).then(|| FieldError {
        field: field.into(),
        message: format!("must be {min} to {max} characters long, not {count}"),
    })
}

/// Checks the rules that compare an update with the object it replaces (spec and status:
/// the API server's transition rules see both).
pub fn validate_update(old: &ConnectionProfile, new: &ConnectionProfileSpec) -> Result<(), Invalid> {
    let mut errors = Vec::new();
    let back_to_recorded = old.status.as_ref().and_then(|s| s.tenant_ref.as_ref()) == Some(&new.tenant_ref);
    if old.spec.tenant_ref != new.tenant_ref && !back_to_recorded && in_auth0_as_the_api_server_sees_it(old) {
        errors.push(FieldError {
            field: "spec.tenantRef".into(),
            message: rules::TENANT_REF_MSG.into(),
        });
    }
    if old.spec.external_id.is_some() && old.spec.external_id != new.external_id {
        errors.push(FieldError {
            field: "spec.externalID".into(),
            message: rules::EXTERNAL_ID_IMMUTABLE_MSG.into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Invalid(errors))
    }
}

/// What [`rules::TENANT_REF_CEL`] reads as something of the resource's in Auth0: a recorded
/// `status.id`, or a `spec.externalID` to adopt.
fn in_auth0_as_the_api_server_sees_it(profile: &ConnectionProfile) -> bool {
    profile.spec.external_id.is_some()
        || profile
            .status
            .as_ref()
            .and_then(|s| s.id.as_deref())
            .is_some_and(|id| !id.is_empty())
}

/// Parses strictly, then validates, then (for an update) checks the transition: the verdict
/// the API server gives the same request.
pub fn check(value: serde_json::Value, old: Option<&ConnectionProfile>) -> Result<ConnectionProfile, Invalid> {
    let profile = parse_strict(value)?;
    validate(&profile)?;
    if let Some(old) = old {
        validate_update(old, &profile.spec)?;
    }
    Ok(profile)
}

/// `cop_` followed by 22 base62 characters.
pub fn is_profile_id(id: &str) -> bool {
    id.strip_prefix("cop_")
        .is_some_and(|rest| rest.len() == 22 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn prefix_chars_ok(template: &str) -> bool {
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_alphanumeric() || c == '-' {
            rest = &rest[1..];
        } else if let Some(var) = PREFIX_VARIABLES.iter().find(|v| rest.starts_with(**v)) {
            rest = &rest[var.len()..];
        } else {
            return false;
        }
    }
    true
}

fn check_override(settings: &StrategyOverride) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(features) = &settings.enabled_features
        && has_duplicates(features)
    {
        errors.push(FieldError {
            field: "enabledFeatures".into(),
            message: "lists a feature twice: name each feature at most once".into(),
        });
    }
    if let Some(scim) = settings.provisioning.as_ref().and_then(|p| p.scim.as_ref()) {
        for e in check_scim_tokens(&scim.tokens) {
            errors.push(FieldError {
                field: format!("provisioning.scim.tokens.{}", e.field),
                message: e.message,
            });
        }
    }
    errors
}

fn check_scim_tokens(tokens: &super::ScimTokens) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if has_duplicates(&tokens.scopes) {
        errors.push(FieldError {
            field: "scopes".into(),
            message: "lists a scope twice: name each scope at most once".into(),
        });
    }
    for (field, value) in [
        ("defaultExpiry", tokens.default_expiry),
        ("maxAllowedExpiry", tokens.max_allowed_expiry),
    ] {
        if value.is_some_and(|v| v < 0) {
            errors.push(FieldError {
                field: field.into(),
                message: "must be a number of seconds, 0 or more; omit it for no limit".into(),
            });
        }
    }
    errors
}

fn has_duplicates<T: Eq + Hash>(items: &[T]) -> bool {
    let mut seen = HashSet::new();
    !items.iter().all(|item| seen.insert(item))
}

/// The API server's spelling of a path serde_ignored reports (which marks each `Option` it
/// passes through with a `?`).
fn ignored_path(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => match ignored_path(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            ignored_path(parent)
        }
    }
}

/// serde_path_to_error's paths (`spec.organization.showAsButton`) are already the API
/// server's; the root shows as `.`.
fn dotted(path: &str) -> String {
    if path == "." { String::new() } else { path.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(spec: serde_json::Value) -> serde_json::Value {
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": "p", "namespace": "ns"}, "spec": spec})
    }

    fn fields(result: Result<ConnectionProfile, Invalid>) -> Vec<String> {
        result
            .err()
            .map(|e| e.0.into_iter().map(|e| e.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn auth0_documentation_example_is_valid() {
        let value = profile(json!({
            "connectionNamePrefixTemplate": "ec-{org_id}-",
            "enabledFeatures": ["scim", "universal_logout"],
            "organization": {"showAsButton": "none", "assignMembershipOnLogin": "none"}
        }));
        let p = check(value, None).expect("valid");
        assert_eq!(p.effective_name(), "p");
        assert_eq!(p.spec.tenant_ref.name, "default");
    }

    #[test]
    fn prefix_template_rules() {
        for ok in ["", "con-{org_id}-", "{org_name}", "a-b-c", "ABC123", "{org_id}{org_id}"] {
            assert!(prefix_chars_ok(ok), "{ok}");
        }
        for bad in ["a_b", "{org}", "{org_id", "con {org_id}", "é", "{ORG_ID}"] {
            assert!(!prefix_chars_ok(bad), "{bad}");
        }
        let check_prefix = |t: &str| fields(check(profile(json!({"connectionNamePrefixTemplate": t})), None));
        assert_eq!(check_prefix("-abc"), ["spec.connectionNamePrefixTemplate"]);
        assert_eq!(check_prefix("a--b"), ["spec.connectionNamePrefixTemplate"]);
        assert_eq!(check_prefix("abcdefghijklmnop"), ["spec.connectionNamePrefixTemplate"]);
        assert!(check_prefix("abcdefghijklmno").is_empty());
    }

    #[test]
    fn name_counts_characters_not_bytes() {
        let fifty = "é".repeat(50);
        assert!(check(profile(json!({"name": fifty})), None).is_ok());
        let fifty_one = "é".repeat(51);
        assert_eq!(fields(check(profile(json!({"name": fifty_one})), None)), ["spec.name"]);
    }

    #[test]
    fn long_metadata_name_needs_spec_name() {
        let mut value = profile(json!({}));
        value["metadata"]["name"] = json!("x".repeat(51));
        assert_eq!(fields(check(value.clone(), None)), ["spec"]);
        value["spec"]["name"] = json!("short");
        assert!(check(value, None).is_ok());
    }

    /// Found by tests/fuzz.rs: an object with no name at all passed, and Auth0 refused the body.
    #[test]
    fn an_empty_effective_name_is_refused() {
        for metadata in [json!({}), json!({"name": ""}), json!({"generateName": "p-"})] {
            let mut value = profile(json!({}));
            value["metadata"] = metadata;
            assert_eq!(fields(check(value.clone(), None)), ["spec.name"]);
            value["spec"]["name"] = json!("Named");
            assert!(check(value, None).is_ok());
        }
    }

    /// Found by tests/fuzz.rs: the schema caps tenantRef.name at 253 characters, the pure
    /// validation did not.
    #[test]
    fn tenant_ref_name_is_at_most_253_characters() {
        let at = profile(json!({"tenantRef": {"kind": "Auth0Tenant", "name": "t".repeat(253)}}));
        assert!(check(at, None).is_ok());
        let past = profile(json!({"tenantRef": {"kind": "Auth0Tenant", "name": "t".repeat(254)}}));
        assert_eq!(fields(check(past, None)), ["spec.tenantRef.name"]);
    }

    #[test]
    fn unknown_fields_and_bad_enums_name_their_path() {
        assert_eq!(fields(check(profile(json!({"colour": "red"})), None)), ["spec.colour"]);
        assert_eq!(
            fields(check(profile(json!({"connectionConfig": {"x": 1}})), None)),
            ["spec.connectionConfig.x"]
        );
        assert_eq!(
            fields(check(profile(json!({"organization": {"showAsButton": "maybe"}})), None)),
            ["spec.organization.showAsButton"]
        );
        // metadata fields the API server owns are not ours to refuse.
        let mut value = profile(json!({}));
        value["metadata"]["uid"] = json!("1234");
        value["metadata"]["labels"] = json!({"a": "b"});
        assert!(check(value, None).is_ok());
    }

    /// Kills the mutants of `check_override`, `check_scim_tokens` and the expiry bound
    /// (issue 28): each rule inside `strategyOverrides` and SCIM tokens names its path.
    #[test]
    fn rules_inside_overrides_and_scim_tokens_name_their_path() {
        let tokens = |scopes: serde_json::Value, expiry: i64| json!({"scim": {"tokens": {"scopes": scopes, "defaultExpiry": expiry, "maxAllowedExpiry": expiry}}});
        // Zero is a valid expiry; so is a scope list without repeats.
        let ok = json!({"provisioning": tokens(json!(["get:users"]), 0),
                        "strategyOverrides": {"okta": {"enabledFeatures": ["scim"], "provisioning": tokens(json!(["get:users"]), 0)}}});
        assert!(check(profile(ok), None).is_ok());
        let bad = json!({"provisioning": tokens(json!(["get:users", "get:users"]), -1),
                         "strategyOverrides": {"okta": {"enabledFeatures": ["scim", "scim"],
                                                        "provisioning": tokens(json!(["post:users", "post:users"]), -1)}}});
        let mut found = fields(check(profile(bad), None));
        found.sort();
        assert_eq!(
            found,
            [
                "spec.provisioning.scim.tokens.defaultExpiry",
                "spec.provisioning.scim.tokens.maxAllowedExpiry",
                "spec.provisioning.scim.tokens.scopes",
                "spec.strategyOverrides.okta.enabledFeatures",
                "spec.strategyOverrides.okta.provisioning.scim.tokens.defaultExpiry",
                "spec.strategyOverrides.okta.provisioning.scim.tokens.maxAllowedExpiry",
                "spec.strategyOverrides.okta.provisioning.scim.tokens.scopes",
            ]
        );
    }

    /// Kills the mutant that drops the empty-name check (issue 28): an explicit `spec.name:
    /// ""` is refused, not replaced by metadata.name; 50 ASCII characters pass, 51 do not.
    #[test]
    fn an_explicit_empty_name_is_refused_and_fifty_characters_pass() {
        assert_eq!(fields(check(profile(json!({"name": ""})), None)), ["spec.name"]);
        assert!(check(profile(json!({"name": "n".repeat(50)})), None).is_ok());
        assert_eq!(
            fields(check(profile(json!({"name": "n".repeat(51)})), None)),
            ["spec.name"]
        );
    }

    #[test]
    fn a_metadata_name_of_fifty_characters_is_a_name_fifty_one_needs_spec_name() {
        let named = |name: String| {
            json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                   "metadata": {"name": name, "namespace": "ns"}, "spec": {}})
        };
        assert!(check(named("n".repeat(50)), None).is_ok());
        assert_eq!(fields(check(named("n".repeat(51)), None)), ["spec"]);
    }

    #[test]
    fn errors_read_as_one_line_of_path_and_fix() {
        let error = |field: &str, message: &str| FieldError {
            field: field.into(),
            message: message.into(),
        };
        assert_eq!(
            error("spec.name", "must not be empty").to_string(),
            "spec.name: must not be empty"
        );
        let both = Invalid(vec![
            error("spec.name", "must not be empty"),
            error("spec.tenantRef.name", "is required"),
        ]);
        assert_eq!(
            both.to_string(),
            "spec.name: must not be empty; spec.tenantRef.name: is required"
        );
    }

    #[test]
    fn sets_and_allowed_values() {
        let dup = fields(check(profile(json!({"enabledFeatures": ["scim", "scim"]})), None));
        assert_eq!(dup, ["spec.enabledFeatures"]);
        let one =
            json!({"crossAppAccessResourceApp": {"status": {"defaultValue": "enabled", "allowedValues": ["enabled"]}}});
        assert_eq!(
            fields(check(profile(one), None)),
            ["spec.crossAppAccessResourceApp.status.allowedValues"]
        );
        for ok in [json!([]), json!(["disabled", "enabled"])] {
            let v = json!({"crossAppAccessResourceApp": {"status": {"defaultValue": "enabled", "allowedValues": ok}}});
            assert!(check(profile(v), None).is_ok());
        }
    }

    /// The old object of an update: `spec`, and `status.id` when given.
    fn old(spec: serde_json::Value, status_id: Option<&str>) -> ConnectionProfile {
        let mut old: ConnectionProfile = serde_json::from_value(profile(spec)).unwrap();
        old.status = status_id.map(|id| super::super::ConnectionProfileStatus {
            id: Some(id.into()),
            ..Default::default()
        });
        old
    }

    #[test]
    fn tenant_ref_changes_only_while_nothing_is_in_auth0() {
        const ID: &str = "cop_1cu7Zs1Dfru5Qc9mZea7nm";
        let acme = json!({"kind": "Auth0Tenant", "name": "acme"});
        let other = json!({"kind": "Auth0Tenant", "name": "other"});
        // Nothing in Auth0 the API server can see: a mistyped tenantRef can be corrected,
        // to another tenant or back to the default.
        let fresh = old(json!({"tenantRef": acme}), None);
        assert!(check(profile(json!({"tenantRef": other})), Some(&fresh)).is_ok());
        assert!(check(profile(json!({})), Some(&fresh)).is_ok());
        let empty_id = old(json!({"tenantRef": acme}), Some(""));
        assert!(check(profile(json!({"tenantRef": other})), Some(&empty_id)).is_ok());
        // A recorded id: refused, with the way out.
        let recorded = old(json!({"tenantRef": acme}), Some(ID));
        let refused = check(profile(json!({"tenantRef": other})), Some(&recorded)).unwrap_err();
        assert_eq!(refused.0[0].field, "spec.tenantRef");
        assert!(
            refused.0[0].message.contains("create a new ConnectionProfile"),
            "{refused}"
        );
        assert!(refused.0[0].message.contains("deletionPolicy: Orphan"), "{refused}");
        assert_eq!(fields(check(profile(json!({})), Some(&recorded))), ["spec.tenantRef"]);
        // Unchanged is fine whatever exists.
        assert!(check(profile(json!({"tenantRef": acme})), Some(&recorded)).is_ok());
        // A change that raced with a create (the id was recorded through acme after the
        // resource moved to other): setting it back to acme is allowed.
        let mut raced = old(json!({"tenantRef": other}), Some(ID));
        raced.status.as_mut().expect("status").tenant_ref = Some(crate::crd::TenantRef {
            kind: crate::crd::TenantKind::Auth0Tenant,
            name: "acme".into(),
        });
        assert!(check(profile(json!({"tenantRef": acme})), Some(&raced)).is_ok());
        assert_eq!(fields(check(profile(json!({})), Some(&raced))), ["spec.tenantRef"]);
        // An adopted id: refused.
        let adopting = old(json!({"tenantRef": acme, "externalID": ID}), None);
        let moved = profile(json!({"tenantRef": other, "externalID": ID}));
        assert_eq!(fields(check(moved, Some(&adopting))), ["spec.tenantRef"]);
    }

    #[test]
    fn external_id_is_immutable_once_set() {
        let adopting = old(json!({"externalID": "cop_1cu7Zs1Dfru5Qc9mZea7nm"}), None);
        let changed = profile(json!({"externalID": "cop_0000000000000000000000"}));
        assert_eq!(fields(check(changed, Some(&adopting))), ["spec.externalID"]);
        let removed = profile(json!({}));
        assert_eq!(fields(check(removed, Some(&adopting))), ["spec.externalID"]);
        let set_later = profile(json!({"externalID": "cop_1cu7Zs1Dfru5Qc9mZea7nm"}));
        assert!(check(set_later, Some(&old(json!({}), None))).is_ok());
    }

    #[test]
    fn profile_ids() {
        assert!(is_profile_id("cop_1cu7Zs1Dfru5Qc9mZea7nm"));
        assert!(!is_profile_id("cop_1cu7Zs1Dfru5Qc9mZea7n"));
        assert!(!is_profile_id("con_1cu7Zs1Dfru5Qc9mZea7nm"));
        assert!(!is_profile_id("cop_1cu7Zs1Dfru5Qc9mZea7n!"));
    }
}
