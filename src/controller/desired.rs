//! The desired Auth0 profile (pure): the resource's spec turned into Management API bodies,
//! the remote normalised the same way, and the difference between them.
//!
//! A field the spec leaves out means "empty" (no prefix, no overrides, no provisioning), and
//! `organization` and `enabledFeatures` default to Auth0's own defaults (the CRD schema
//! carries them too, so `kubectl get -o yaml` shows the truth). Bodies carry only what must
//! be said: a create sends the fields the spec sets ([`create_body`]); a PATCH sends the
//! fields that differ, clearing a block only when Auth0 holds one ([`patch_body`]). A tenant
//! without an early-access feature (Cross App Access, provisioning) refuses any body that
//! carries its field, even as `null` (recorded: 403 `feature_not_enabled`), so a field left
//! out is never sent.
//!
//! What the operator does not know, it keeps: fields and enum values Auth0 returns that this
//! version has no name for (a newer Auth0), at any depth, are left out of every comparison,
//! sent back unchanged inside a nested object the operator must replace, and listed in
//! `status.unrecognized` ([`unrecognized`]).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use kube::CustomResourceExt;
use serde_json::{Map, Value, json};

use crate::crd::{AtProvider, ConnectionProfile, Feature, Organization};

/// The writable fields of an Auth0 connection profile, in wire (snake_case) spelling.
pub const WRITABLE: [&str; 8] = [
    "name",
    "organization",
    "connection_name_prefix_template",
    "enabled_features",
    "connection_config",
    "strategy_overrides",
    "provisioning",
    "cross_app_access_resource_app",
];

/// Lists whose order means nothing: compared and sent sorted.
const SETS: [&str; 3] = ["enabled_features", "scopes", "allowed_values"];

/// The value a field has when the spec does not set it, and how Auth0 stores "nothing":
/// `null` clears an object field (recorded for `cross_app_access_resource_app`; decided for
/// the others), `""` a prefix.
fn empty(field: &str) -> Value {
    match field {
        "connection_name_prefix_template" => json!(""),
        "enabled_features" => json!([]),
        "organization" | "connection_config" | "provisioning" => json!({}),
        _ => Value::Null, // strategy_overrides and cross_app_access_resource_app
    }
}

/// The value a PATCH sends to clear `field`.
fn cleared(field: &str) -> Value {
    match field {
        "connection_name_prefix_template" => json!(""),
        "enabled_features" => json!([]),
        _ => Value::Null,
    }
}

/// The full create or update body for a profile.
///
/// All writable fields, in wire spelling and canonical form: what the spec leaves out is the
/// field's empty value, except `organization` and `enabled_features`, which take Auth0's
/// defaults (as the CRD schema does; an older CRD without them gets the same here).
pub fn desired(profile: &ConnectionProfile) -> Map<String, Value> {
    let spec = &profile.spec;
    let organization = spec
        .organization
        .clone()
        .or_else(Organization::auth0_default)
        .map(|mut o| {
            let default = Organization::auth0_default().unwrap_or_default();
            o.show_as_button = o.show_as_button.or(default.show_as_button);
            o.assign_membership_on_login = o.assign_membership_on_login.or(default.assign_membership_on_login);
            o
        });
    let fields = json!({
        "name": profile.effective_name(),
        "organization": organization,
        "connectionNamePrefixTemplate": spec.connection_name_prefix_template,
        "enabledFeatures": spec.enabled_features.clone().or_else(Feature::auth0_default),
        "connectionConfig": spec.connection_config,
        "strategyOverrides": spec.strategy_overrides,
        "provisioning": spec.provisioning,
        "crossAppAccessResourceApp": spec.cross_app_access_resource_app,
    });
    normalize(&to_wire(&fields))
}

/// The body of a create: the name, Auth0's defaulted fields, and every other field the spec
/// sets; a field the spec leaves out is not sent.
pub fn create_body(desired: &Map<String, Value>) -> Map<String, Value> {
    desired
        .iter()
        .filter(|(field, value)| {
            matches!(field.as_str(), "name" | "organization" | "enabled_features") || **value != empty(field)
        })
        .map(|(field, value)| (field.clone(), value.clone()))
        .collect()
}

/// The body of a PATCH from the fields [`diff`] found changed: a field the spec leaves out
/// is cleared (Auth0 holds one, or it would not differ); a nested object is sent with the
/// parts of Auth0's copy this version does not know, since Auth0 replaces a nested object
/// whole (recorded for `cross_app_access_resource_app`).
pub fn patch_body(changed: &Map<String, Value>, remote: &Value) -> Map<String, Value> {
    changed
        .iter()
        .map(|(field, value)| {
            let clears = *value == empty(field) && !matches!(field.as_str(), "organization" | "enabled_features");
            let sent = if clears {
                cleared(field)
            } else {
                match (remote.get(field), known().field(field)) {
                    (Some(held), Some(known)) => with_unknown(value, held, known),
                    _ => value.clone(),
                }
            };
            (field.clone(), sent)
        })
        .collect()
}

/// A remote profile reduced to its writable fields, with absent and empty values made
/// equal, Auth0's defaults where it says nothing, what this version does not know left out,
/// and sets sorted, so it compares with [`desired`].
pub fn normalize(remote: &Value) -> Map<String, Value> {
    WRITABLE
        .iter()
        .map(|field| {
            let value = match remote.get(*field) {
                // (An absent `organization` is `{}`, given Auth0's defaults below.)
                None | Some(Value::Null) => match *field {
                    "enabled_features" => json!(Feature::auth0_default()),
                    _ => empty(field),
                },
                Some(value) => {
                    let known_only = match known().field(field) {
                        Some(known) => known_part(value, known),
                        None => value.clone(),
                    };
                    match known_only {
                        Value::Null => empty(field),
                        // Nothing this version knows (or only what it does not): empty.
                        value if value == json!({}) => empty(field),
                        value => canonical_field(field, &value),
                    }
                }
            };
            let value = if *field == "organization" {
                with_organization_defaults(value)
            } else {
                value
            };
            (field.to_string(), value)
        })
        .collect()
}

/// An organization object with Auth0's default (`none`) where a setting is absent.
fn with_organization_defaults(value: Value) -> Value {
    match value {
        Value::Object(mut map) => {
            for key in ["show_as_button", "assign_membership_on_login"] {
                map.entry(key).or_insert(json!("none"));
            }
            Value::Object(map)
        }
        other => other,
    }
}

/// What the operator knows of a profile's shape: the wire keys of every object and the enum
/// values of every list, read from the CRD's own schema (so a field added to the CRD is
/// known here at once).
#[derive(Debug, Default)]
pub struct Known {
    keys: BTreeMap<String, Known>,
    /// For a list: what its items are.
    items: Option<Box<Known>>,
    /// For an enum: its values.
    values: Option<Vec<String>>,
}

impl Known {
    fn of(schema: &Value) -> Known {
        let mut known = Known::default();
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (key, child) in properties {
                let wire = to_wire(&json!({ key: null }))
                    .as_object()
                    .and_then(|o| o.keys().next().cloned())
                    .unwrap_or_default();
                known.keys.insert(wire, Known::of(child));
            }
        }
        if let Some(items) = schema.get("items") {
            known.items = Some(Box::new(Known::of(items)));
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            known.values = Some(values.iter().filter_map(|v| v.as_str().map(str::to_string)).collect());
        }
        known
    }

    /// What is known of a top-level writable field.
    pub fn field(&self, field: &str) -> Option<&Known> {
        self.keys.get(field)
    }
}

/// The profile shape this version knows.
pub fn known() -> &'static Known {
    static KNOWN: OnceLock<Known> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let crd = serde_json::to_value(ConnectionProfile::crd()).unwrap_or_default();
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        let mut known = Known::of(spec);
        known.keys.retain(|k, _| WRITABLE.contains(&k.as_str()));
        known
    })
}

/// `value` with what `known` does not describe left out: unknown keys, unknown enum values,
/// and known keys whose whole content is unknown.
fn known_part(value: &Value, known: &Known) -> Value {
    match value {
        // An object without known keys (`connection_config`, which Auth0 holds empty) keeps
        // nothing: all of its content is a newer Auth0's.
        Value::Object(map) => Value::Object(
            map.iter()
                .filter_map(|(k, v)| known.keys.get(k).map(|child| (k.clone(), known_part(v, child), v)))
                .filter(|(_, part, original)| !only_unknown(part, original))
                .map(|(k, part, _)| (k, part))
                .collect(),
        ),
        Value::Array(items) => match &known.items {
            Some(item) => Value::Array(
                items
                    .iter()
                    .filter(|v| is_known_value(v, item))
                    .map(|v| known_part(v, item))
                    .collect(),
            ),
            None => value.clone(),
        },
        other => other.clone(),
    }
}

/// Whether a non-empty object kept nothing known: all of it is a newer Auth0's.
fn only_unknown(part: &Value, original: &Value) -> bool {
    part.as_object().is_some_and(|p| p.is_empty()) && original.as_object().is_some_and(|o| !o.is_empty())
}

fn is_known_value(value: &Value, known: &Known) -> bool {
    match (&known.values, value.as_str()) {
        (Some(values), Some(text)) => values.iter().any(|v| v == text),
        _ => true,
    }
}

/// `sent` with the parts of `held` (Auth0's copy) that this version does not know added
/// back, at every depth where both are objects, and unknown enum values kept in lists.
fn with_unknown(sent: &Value, held: &Value, known: &Known) -> Value {
    match (sent, held) {
        (Value::Object(sent_map), Value::Object(held_map)) => {
            let mut out = sent_map.clone();
            for (key, held_value) in held_map {
                match known.keys.get(key) {
                    None => {
                        out.entry(key.clone()).or_insert_with(|| held_value.clone());
                    }
                    Some(child) => match sent_map.get(key) {
                        Some(sent_value) => {
                            out.insert(key.clone(), with_unknown(sent_value, held_value, child));
                        }
                        // A known key whose whole content Auth0 holds is unknown: kept.
                        None if only_unknown(&known_part(held_value, child), held_value) => {
                            out.insert(key.clone(), held_value.clone());
                        }
                        None => {}
                    },
                }
            }
            Value::Object(out)
        }
        // (Items without enum values are all known: nothing is added.)
        (Value::Array(sent_items), Value::Array(held_items)) => match &known.items {
            Some(item) => {
                let mut out = sent_items.clone();
                out.extend(held_items.iter().filter(|v| !is_known_value(v, item)).cloned());
                Value::Array(out)
            }
            _ => sent.clone(),
        },
        _ => sent.clone(),
    }
}

/// What Auth0 holds that this version cannot express, as `path: value` lines (a newer
/// Auth0's fields and enum values): kept in Auth0, never changed, shown in
/// `status.unrecognized`. At most 20 lines of at most 200 characters.
pub fn unrecognized(remote: &Value) -> Vec<String> {
    fn walk(path: &str, value: &Value, known: &Known, out: &mut Vec<String>) {
        match value {
            // An object whose schema names no key (`connection_config`) lists all it holds.
            Value::Object(map) => {
                for (k, v) in map {
                    let here = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match known.keys.get(k) {
                        Some(child) => walk(&here, v, child, out),
                        None if !v.is_null() => out.push(format!("{here}: {v}")),
                        None => {}
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item) = &known.items {
                    for v in items {
                        if is_known_value(v, item) {
                            walk(path, v, item, out);
                        } else {
                            out.push(format!("{path}: {v}"));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for field in WRITABLE {
        if let (Some(value), Some(known)) = (remote.get(field), known().field(field)) {
            walk(field, value, known, &mut out);
        }
    }
    out.truncate(20);
    out.into_iter().map(|line| line.chars().take(200).collect()).collect()
}

/// The fields of a body that an early-access feature guards (Auth0 answers 403
/// `feature_not_enabled` on a tenant without it): `cross_app_access_resource_app`,
/// `provisioning` (and `provisioning` inside a strategy override), as dotted paths.
pub fn guarded_fields(body: &Map<String, Value>) -> Vec<String> {
    let mut fields = Vec::new();
    for field in ["cross_app_access_resource_app", "provisioning"] {
        if body.contains_key(field) {
            fields.push(field.to_string());
        }
    }
    if let Some(Value::Object(overrides)) = body.get("strategy_overrides") {
        for (strategy, settings) in overrides {
            if settings.get("provisioning").is_some() {
                fields.push(format!("strategy_overrides.{strategy}.provisioning"));
            }
        }
    }
    fields
}

/// The spec path of a wire field (dotted): `strategy_overrides.waad.provisioning` is
/// `spec.strategyOverrides.waad.provisioning`.
pub fn spec_path(wire: &str) -> String {
    let field = from_wire(&json!({ wire: null }))
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_else(|| wire.to_string());
    format!("spec.{field}")
}

/// The fields that differ, as a PATCH body; `None` when the remote already matches.
pub fn diff(desired: &Map<String, Value>, remote: &Map<String, Value>) -> Option<Map<String, Value>> {
    let changed: Map<String, Value> = desired
        .iter()
        .filter(|(field, value)| remote.get(field.as_str()) != Some(value))
        .map(|(field, value)| (field.clone(), value.clone()))
        .collect();
    (!changed.is_empty()).then_some(changed)
}

/// The remote profile in the resource's spelling, for `status.atProvider`.
///
/// Empty objects and lists are left out: they mean "nothing set", and server-side apply
/// turns an object whose fields all went away into a null the schema refuses.
pub fn at_provider(remote: &Value) -> Result<AtProvider, serde_json::Error> {
    let mut fields = Map::new();
    for field in WRITABLE {
        if let Some(value) = remote
            .get(field)
            .map(|v| match known().field(field) {
                Some(known) => known_part(v, known),
                None => v.clone(),
            })
            .map(|v| without_empties(field, &v))
            .filter(|v| !v.is_null())
        {
            fields.insert(field.to_string(), value);
        }
    }
    serde_json::from_value(from_wire(&Value::Object(fields)))
}

/// The value (of the field `key`) with nulls, empty objects and empty lists removed at every
/// depth; `Null` when nothing is left. SCIM token `scopes` and `enabled_features` stay even
/// when empty: an empty list is a setting (no scope, no feature), not an absence (which, for
/// `enabled_features`, means Auth0's default of both features).
fn without_empties(key: &str, value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let kept: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), without_empties(k, v)))
                .filter(|(_, v)| !v.is_null())
                .collect();
            if kept.is_empty() {
                Value::Null
            } else {
                Value::Object(kept)
            }
        }
        Value::Array(items) if items.is_empty() && key != "scopes" && key != "enabled_features" => Value::Null,
        other => other.clone(),
    }
}

/// Drops nulls inside objects (an omitted optional) and sorts the lists that are sets.
fn canonical_field(key: &str, value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), canonical_field(k, v)))
                .collect(),
        ),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(|v| canonical_field("", v)).collect();
            if SETS.contains(&key) {
                items.sort_by_key(ToString::to_string);
            }
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// camelCase keys to Auth0's snake_case (`googleApps` is Auth0's `google-apps`). Values are
/// left alone: enum values are already Auth0's.
pub fn to_wire(value: &Value) -> Value {
    rename_keys(value, &|key| match key {
        "googleApps" => "google-apps".to_string(),
        key => key.chars().fold(String::new(), |mut out, c| {
            if c.is_ascii_uppercase() {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
            out
        }),
    })
}

/// Auth0's snake_case keys to the resource's camelCase.
pub fn from_wire(value: &Value) -> Value {
    rename_keys(value, &|key| match key {
        "google-apps" => "googleApps".to_string(),
        key => {
            let mut out = String::new();
            let mut upper = false;
            for c in key.chars() {
                if c == '_' {
                    upper = true;
                } else if upper {
                    out.push(c.to_ascii_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        }
    })
}

/// One field that differs between Auth0 and the desired state: its path under `spec` in the
/// resource's camelCase (`organization.showAsButton`), Auth0's value and the desired one
/// (`Null` when unset).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub auth0: Value,
    pub desired: Value,
}

/// What a PATCH would change, leaf by leaf: objects are walked into, any other value (lists
/// included) is compared whole. Empty when [`diff`] is `None`. Both sides are bodies as
/// [`desired`] and [`normalize`] make them.
pub fn field_changes(desired: &Map<String, Value>, remote: &Map<String, Value>) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let (want, have) = (
        from_wire(&Value::Object(desired.clone())),
        from_wire(&Value::Object(remote.clone())),
    );
    walk("", &have, &want, &mut changes);
    changes
}

fn walk(path: &str, have: &Value, want: &Value, out: &mut Vec<FieldChange>) {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => {
            let keys: std::collections::BTreeSet<&String> = h.keys().chain(w.keys()).collect();
            for key in keys {
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(
                    &field,
                    h.get(key).unwrap_or(&Value::Null),
                    w.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (h, w) if h != w => out.push(FieldChange {
            field: path.to_string(),
            auth0: h.clone(),
            desired: w.clone(),
        }),
        _ => {}
    }
}

fn rename_keys(value: &Value, rename: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (rename(k), rename_keys(v, rename))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(|v| rename_keys(v, rename)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::validation;

    fn profile(spec: Value) -> ConnectionProfile {
        validation::check(
            json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                   "metadata": {"name": "meta-name", "namespace": "ns"}, "spec": spec}),
            None,
        )
        .expect("valid")
    }

    #[test]
    fn the_documentation_example_becomes_auth0s_body() {
        let body = desired(&profile(json!({
            "connectionNamePrefixTemplate": "ec-{org_id}-",
            "enabledFeatures": ["universal_logout", "scim"],
            "organization": {"showAsButton": "none", "assignMembershipOnLogin": "none"}
        })));
        assert_eq!(
            Value::Object(body),
            json!({
                "name": "meta-name",
                "organization": {"show_as_button": "none", "assign_membership_on_login": "none"},
                "connection_name_prefix_template": "ec-{org_id}-",
                "enabled_features": ["scim", "universal_logout"],
                "connection_config": {},
                "strategy_overrides": null,
                "provisioning": {},
                "cross_app_access_resource_app": null
            })
        );
    }

    #[test]
    fn every_field_maps_to_its_wire_name() {
        let body = desired(&profile(json!({
            "name": "Okta partners",
            "strategyOverrides": {"googleApps": {"enabledFeatures": ["scim"]}, "okta": {"connectionConfig": {}}},
            "provisioning": {"scim": {"tokens": {"scopes": ["put:users", "get:users"], "defaultExpiry": 60, "maxAllowedExpiry": 120}}},
            "crossAppAccessResourceApp": {"status": {"defaultValue": "enabled", "allowedValues": ["enabled", "disabled"]}}
        })));
        assert_eq!(body["name"], "Okta partners");
        assert_eq!(
            body["strategy_overrides"],
            json!({"google-apps": {"enabled_features": ["scim"]}, "okta": {"connection_config": {}}})
        );
        assert_eq!(
            body["provisioning"],
            json!({"scim": {"tokens": {"scopes": ["get:users", "put:users"], "default_expiry": 60, "max_allowed_expiry": 120}}})
        );
        assert_eq!(
            body["cross_app_access_resource_app"],
            json!({"status": {"default_value": "enabled", "allowed_values": ["disabled", "enabled"]}})
        );
    }

    #[test]
    fn a_matching_remote_has_no_diff_whatever_its_order_or_empties() {
        let want = desired(&profile(json!({"enabledFeatures": ["scim", "universal_logout"]})));
        let remote = json!({
            "id": "cop_1cu7Zs1Dfru5Qc9mZea7nm", "name": "meta-name",
            "enabled_features": ["universal_logout", "scim"],
            "connection_config": {}, "strategy_overrides": null
        });
        assert_eq!(diff(&want, &normalize(&remote)), None);
    }

    #[test]
    fn a_drifted_remote_diffs_on_exactly_the_changed_fields() {
        let want = desired(&profile(
            json!({"connectionNamePrefixTemplate": "con-{org_id}-", "enabledFeatures": ["scim"]}),
        ));
        let remote = json!({
            "name": "meta-name", "connection_name_prefix_template": "other-",
            "enabled_features": ["scim"], "organization": {"show_as_button": "required"},
            "strategy_overrides": {"okta": {}}
        });
        let patch = diff(&want, &normalize(&remote)).expect("drift");
        assert_eq!(
            Value::Object(patch),
            json!({"connection_name_prefix_template": "con-{org_id}-",
                   "organization": {"show_as_button": "none", "assign_membership_on_login": "none"},
                   "strategy_overrides": null})
        );
    }

    #[test]
    fn at_provider_reads_the_remote_in_camel_case() {
        let remote = json!({
            "id": "cop_1cu7Zs1Dfru5Qc9mZea7nm", "name": "n",
            "strategy_overrides": {"google-apps": {"enabled_features": ["scim"]}},
            "organization": {"show_as_button": "optional"}
        });
        let observed = at_provider(&remote).expect("parses");
        assert_eq!(observed.name, "n");
        let sparse = at_provider(&json!({"name": "n", "organization": {"show_as_button": null}, "enabled_features": [], "connection_config": {}}))
            .expect("parses");
        // No feature is a setting, not an absence (absent means Auth0's default of both).
        assert_eq!(
            (sparse.organization, sparse.enabled_features, sparse.connection_config),
            (None, Some(vec![]), None)
        );
        assert!(observed.strategy_overrides.and_then(|s| s.google_apps).is_some());
        assert_eq!(
            observed.organization.and_then(|o| o.show_as_button),
            Some(crate::crd::OrganizationSetting::Optional)
        );
    }

    /// Found by tests/fuzz.rs: SCIM tokens with no scopes lost the whole of status.atProvider.
    #[test]
    fn at_provider_keeps_empty_scim_scopes() {
        let remote = json!({"name": "n", "provisioning": {"scim": {"tokens": {"scopes": [], "max_allowed_expiry": 0}}},
                            "strategy_overrides": {"okta": {"provisioning": {"scim": {"tokens": {"scopes": []}}}}}});
        let observed = at_provider(&remote).expect("parses");
        let tokens = observed
            .provisioning
            .and_then(|p| p.scim)
            .map(|s| s.tokens)
            .expect("tokens");
        assert_eq!((tokens.scopes.len(), tokens.max_allowed_expiry), (0, Some(0)));
        let okta = observed
            .strategy_overrides
            .and_then(|s| s.okta)
            .and_then(|o| o.provisioning);
        assert!(okta.and_then(|p| p.scim).is_some_and(|s| s.tokens.scopes.is_empty()));
    }

    #[test]
    fn a_create_sends_only_what_the_spec_sets() {
        let body = create_body(&desired(&profile(json!({"connectionNamePrefixTemplate": "p-"}))));
        assert_eq!(
            Value::Object(body),
            json!({"name": "meta-name", "connection_name_prefix_template": "p-",
                   "organization": {"show_as_button": "none", "assign_membership_on_login": "none"},
                   "enabled_features": ["scim", "universal_logout"]}),
            "no provisioning, no cross_app_access_resource_app, not even as null"
        );
    }

    #[test]
    fn a_patch_clears_a_block_auth0_holds_and_keeps_what_it_does_not_know() {
        let want = desired(&profile(json!({
            "provisioning": {"scim": {"tokens": {"scopes": ["get:users"]}}},
            "enabledFeatures": ["scim"]
        })));
        // Auth0 holds a newer Auth0's field inside provisioning and a feature this version
        // has no name for, and a Cross App Access block the spec does not set.
        let remote = json!({
            "name": "meta-name",
            "enabled_features": ["scim", "universal_logout", "future_feature"],
            "provisioning": {"scim": {"tokens": {"scopes": ["get:users", "post:users"], "future_knob": 3}},
                             "future_block": {"on": true}},
            "cross_app_access_resource_app": {"status": {"default_value": "enabled"}}
        });
        let changed = diff(&want, &normalize(&remote)).expect("differs");
        let body = patch_body(&changed, &remote);
        assert_eq!(
            body["cross_app_access_resource_app"],
            Value::Null,
            "cleared: Auth0 holds one"
        );
        assert_eq!(
            body["provisioning"],
            json!({"scim": {"tokens": {"scopes": ["get:users"], "future_knob": 3}}, "future_block": {"on": true}})
        );
        assert_eq!(body["enabled_features"], json!(["scim", "future_feature"]));
        // What it does not know is never drift.
        let same = json!({
            "name": "meta-name",
            "enabled_features": ["scim", "future_feature"],
            "provisioning": {"scim": {"tokens": {"scopes": ["get:users"], "future_knob": 3}}, "future_block": {}},
            "organization": {"show_as_button": "none", "assign_membership_on_login": "none", "future": 1},
            "future_top_level": "x"
        });
        assert_eq!(diff(&want, &normalize(&same)), None);
        assert_eq!(
            unrecognized(&same),
            [
                "organization.future: 1",
                "enabled_features: \"future_feature\"",
                "provisioning.future_block: {}",
                "provisioning.scim.tokens.future_knob: 3"
            ]
        );
        // status.atProvider still reads what it knows.
        let observed = at_provider(&same).expect("parses");
        assert_eq!(observed.enabled_features, Some(vec![crate::crd::Feature::Scim]));
    }

    /// `status.unrecognized` (and export's warnings) at any depth (issue 26): inside a
    /// strategy override, a strategy this version has no name for, and the content of
    /// `connection_config`, whose schema names no key (all of it is a newer Auth0's, as
    /// [`normalize`] reads it).
    #[test]
    fn what_is_unrecognized_is_listed_at_any_depth() {
        let remote = json!({
            "name": "meta-name",
            "connection_config": {"future_option": true},
            "strategy_overrides": {
                "oidc": {"enabled_features": ["scim"], "future_knob": 2,
                         "connection_config": {"nested_future": "x"},
                         "provisioning": {"scim": {"tokens": {"scopes": ["get:users"], "deep_future": 1}}}},
                "future_strategy": {"enabled_features": []}
            },
            "cross_app_access_resource_app": {"status": {"default_value": "enabled", "future_mode": "on"}}
        });
        assert_eq!(
            unrecognized(&remote),
            [
                "connection_config.future_option: true",
                "strategy_overrides.future_strategy: {\"enabled_features\":[]}",
                "strategy_overrides.oidc.connection_config.nested_future: \"x\"",
                "strategy_overrides.oidc.future_knob: 2",
                "strategy_overrides.oidc.provisioning.scim.tokens.deep_future: 1",
                "cross_app_access_resource_app.status.future_mode: \"on\""
            ]
        );
        // What is listed is what a comparison leaves out: none of it is drift.
        let want = desired(&profile(json!({
            "strategyOverrides": {"oidc": {"enabledFeatures": ["scim"],
                "provisioning": {"scim": {"tokens": {"scopes": ["get:users"]}}}}},
            "crossAppAccessResourceApp": {"status": {"defaultValue": "enabled"}}
        })));
        assert_eq!(diff(&want, &normalize(&remote)), None);
        // An empty connection_config, and a null unknown key, are nothing to list.
        let empty = json!({"connection_config": {}, "strategy_overrides": {"oidc": {"future_knob": null}}});
        assert!(unrecognized(&empty).is_empty(), "{:?}", unrecognized(&empty));
    }

    /// An empty list is an absence, except SCIM token `scopes` and `enabled_features`, where it
    /// is a setting (no scope, no feature).
    #[test]
    fn empty_lists_are_absent_but_scopes_and_features() {
        let value = json!({"status": {"allowed_values": [], "default_value": "enabled"},
                           "tokens": {"scopes": []}, "enabled_features": [], "other": {"list": []}});
        assert_eq!(
            without_empties("root", &value),
            json!({"status": {"default_value": "enabled"}, "tokens": {"scopes": []}, "enabled_features": []})
        );
        assert_eq!(without_empties("allowed_values", &json!([])), Value::Null);
    }

    /// A field Auth0 holds as an empty object where this version knows another shape reads
    /// as that field's own "nothing": no features is `[]`, as a cleared list is sent.
    #[test]
    fn an_empty_object_reads_as_the_fields_own_empty_value() {
        let held = normalize(&json!({"name": "n", "enabled_features": {}, "connection_name_prefix_template": {}}));
        assert_eq!(held["enabled_features"], json!([]));
        assert_eq!(held["connection_name_prefix_template"], json!(""));
        assert_eq!(held["strategy_overrides"], Value::Null);
    }

    #[test]
    fn content_that_is_all_unknown_is_neither_drift_nor_erased() {
        // The spec sets no overrides; Auth0 holds an override whose content is all new.
        let want = desired(&profile(json!({})));
        let remote = json!({"name": "meta-name", "strategy_overrides": {"oidc": {"new_field": 1}},
                            "cross_app_access_resource_app": {"new_block": {}}});
        assert_eq!(diff(&want, &normalize(&remote)), None);
        // The spec sets another override: the PATCH sends back the one Auth0 holds.
        let want = desired(&profile(
            json!({"strategyOverrides": {"ad": {"enabledFeatures": ["scim"]}}}),
        ));
        let changed = diff(&want, &normalize(&remote)).expect("differs");
        let body = patch_body(&changed, &remote);
        assert_eq!(
            body["strategy_overrides"],
            json!({"ad": {"enabled_features": ["scim"]}, "oidc": {"new_field": 1}})
        );
        // An explicit "no feature" keeps the features this version has no name for.
        let want = desired(&profile(json!({"enabledFeatures": []})));
        let remote = json!({"name": "meta-name", "enabled_features": ["scim", "future_feature"]});
        let body = patch_body(&diff(&want, &normalize(&remote)).expect("differs"), &remote);
        assert_eq!(body["enabled_features"], json!(["future_feature"]));
    }

    /// Kills the mutant of `with_unknown` that keeps every key Auth0 holds (issue 28): a
    /// known block the spec dropped is not sent back, so it goes away.
    #[test]
    fn a_known_block_the_spec_dropped_is_not_sent_back() {
        let want = desired(&profile(
            json!({"strategyOverrides": {"ad": {"enabledFeatures": ["scim"]}}}),
        ));
        let remote = json!({"name": "meta-name", "strategy_overrides": {
            "okta": {"enabled_features": ["universal_logout"]},
            "ad": {"enabled_features": ["universal_logout"], "future_knob": 2}
        }});
        let body = patch_body(&diff(&want, &normalize(&remote)).expect("differs"), &remote);
        assert_eq!(
            body["strategy_overrides"],
            json!({"ad": {"enabled_features": ["scim"], "future_knob": 2}}),
            "okta goes; ad's unknown knob stays"
        );
    }

    /// Kills the mutants of `cleared` (issue 28): a prefix is cleared with `""`, an object
    /// with `null`, and `organization`/`enabled_features` never cleared but set to defaults.
    #[test]
    fn a_field_the_spec_leaves_out_is_cleared_as_auth0_stores_nothing() {
        let want = desired(&profile(json!({})));
        let remote = json!({"name": "meta-name", "connection_name_prefix_template": "old-",
                            "strategy_overrides": {"okta": {"enabled_features": ["scim"]}},
                            "provisioning": {"scim": {"tokens": {"scopes": ["get:users"]}}}});
        let body = patch_body(&diff(&want, &normalize(&remote)).expect("differs"), &remote);
        assert_eq!(body["connection_name_prefix_template"], json!(""));
        assert_eq!(body["strategy_overrides"], Value::Null);
        assert_eq!(body["provisioning"], Value::Null);
        assert_eq!(cleared("enabled_features"), json!([]));
        assert_eq!(cleared("connection_name_prefix_template"), json!(""));
        assert_eq!(cleared("strategy_overrides"), Value::Null);
    }

    #[test]
    fn the_new_fields_map_to_their_wire_names() {
        let want = desired(&profile(json!({
            "enabledFeatures": ["directory_sync"],
            "provisioning": {"googleWorkspace": {"syncUsers": true}}
        })));
        assert_eq!(want["enabled_features"], json!(["directory_sync"]));
        assert_eq!(want["provisioning"], json!({"google_workspace": {"sync_users": true}}));
        assert_eq!(guarded_fields(&create_body(&want)), ["provisioning"]);
    }

    #[test]
    fn field_changes_name_each_leaf_in_camel_case() {
        let want = desired(&profile(json!({
            "connectionNamePrefixTemplate": "con-",
            "organization": {"showAsButton": "required"},
            "enabledFeatures": ["scim"]
        })));
        let remote = json!({"name": "meta-name", "connection_name_prefix_template": "old-",
                            "organization": {"show_as_button": "none", "assign_membership_on_login": "none"},
                            "enabled_features": ["scim"], "strategy_overrides": {"okta": {}}});
        let changes = field_changes(&want, &normalize(&remote));
        let seen: Vec<(&str, Value, Value)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.auth0.clone(), c.desired.clone()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("connectionNamePrefixTemplate", json!("old-"), json!("con-")),
                ("organization.showAsButton", json!("none"), json!("required")),
                ("strategyOverrides", json!({"okta": {}}), Value::Null),
            ]
        );
        assert!(field_changes(&want, &want).is_empty());
    }

    #[test]
    fn key_spelling_round_trips() {
        let camel = json!({"crossAppAccessResourceApp": {"status": {"allowedValues": ["enabled"]}}, "googleApps": {}});
        assert_eq!(from_wire(&to_wire(&camel)), camel);
        assert_eq!(
            to_wire(&camel)["cross_app_access_resource_app"]["status"]["allowed_values"],
            json!(["enabled"])
        );
    }
}
