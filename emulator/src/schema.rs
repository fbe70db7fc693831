//! The connection-profile schema as data: every field, type, enum value and feature flag the
//! emulator knows. The validator walks it, the feature check walks it, and `dump` lists it
//! for the check against Auth0's SDK models (`auth0-emulator --print-schema`, admin
//! `GET /schema`), so the three can never disagree.
//!
//! Sources: Auth0's Python SDK 6.8.0 models (`auth0/management/types/connection_profile*.py`,
//! `enabled_features_enum.py`), the Node SDK 7.1.0 types, and the published pattern of the
//! prefix template.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The longest profile name.
pub const NAME_MAX_CHARS: usize = 50;
/// The longest connection name prefix template.
pub const PREFIX_TEMPLATE_MAX_CHARS: usize = 15;
/// What Auth0 publishes as the template's pattern; shown in the error message.
pub const PREFIX_TEMPLATE_PATTERN: &str = r"^(?!-)(?!.*--)(?:[a-zA-Z0-9-]|\{org_id\}|\{org_name\})*$";
const PREFIX_TEMPLATE_VARIABLES: [&str; 2] = ["{org_id}", "{org_name}"];

pub const ORGANIZATION_MODES: [&str; 3] = ["none", "optional", "required"];
/// `enabled_features` values; `directory_sync` since Auth0's Python SDK 6.8.0 (October 2026).
pub const FEATURES: [&str; 3] = ["scim", "universal_logout", "directory_sync"];
pub const STRATEGIES: [&str; 8] = [
    "pingfederate",
    "ad",
    "adfs",
    "waad",
    "google-apps",
    "okta",
    "oidc",
    "samlp",
];
pub const SCIM_TOKEN_SCOPES: [&str; 5] = ["get:users", "post:users", "patch:users", "delete:users", "put:users"];
pub const CROSS_APP_VALUES: [&str; 2] = ["enabled", "disabled"];

/// A tenant feature flag that guards fields: a tenant without it answers 403
/// `feature_not_enabled` to a body that carries a guarded field (recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// Early access; Auth0's tenant flag `my_orgs_cross_app_access_resource_app`.
    CrossAppAccess,
    ScimProvisioning,
    GoogleWorkspaceProvisioning,
}

impl Feature {
    pub const ALL: [Feature; 3] = [
        Feature::CrossAppAccess,
        Feature::ScimProvisioning,
        Feature::GoogleWorkspaceProvisioning,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Feature::CrossAppAccess => "cross_app_access",
            Feature::ScimProvisioning => "scim_provisioning",
            Feature::GoogleWorkspaceProvisioning => "google_workspace_provisioning",
        }
    }
}

/// A string rule checked by hand (the published pattern uses look-aheads).
#[derive(Debug, Clone, Copy)]
pub struct Pattern {
    /// The pattern as Auth0 publishes it, quoted in the error message.
    pub shown: &'static str,
    pub matches: fn(&str) -> bool,
}

/// A rule across a whole value that the type alone cannot say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// An array that is empty or holds every value of its enum (Cross App Access
    /// `allowed_values`).
    EmptyOrAll,
}

/// The type of a value.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A closed object: keys outside `fields` are refused (unless the tenant accepts unknown
    /// fields).
    Object(&'static [Field]),
    /// An open object (`additionalProperties: true`): `fields` are checked, other keys are
    /// kept as sent (self-service profile `branding`).
    OpenObject(&'static [Field]),
    /// An object whose keys are names chosen by the client (1..=`key_max` characters), each
    /// value of kind `values`, holding `min..=max` entries (user attribute profile
    /// `user_attributes`).
    Map {
        values: &'static Kind,
        min: usize,
        max: usize,
        key_max: usize,
    },
    Array {
        items: &'static Kind,
        unique: bool,
    },
    /// An array of `min..=max` items, duplicates allowed.
    List {
        items: &'static Kind,
        min: usize,
        max: usize,
    },
    /// A string from a closed list (any string when the tenant accepts unknown values).
    Enum(&'static [&'static str]),
    Text {
        min: usize,
        max: usize,
        pattern: Option<Pattern>,
    },
    Boolean,
    /// A whole number of seconds, at least 0.
    Seconds,
}

impl Kind {
    /// The JSON type name Auth0's validator uses in "Expected type … but found type …".
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Object(_) | Kind::OpenObject(_) | Kind::Map { .. } => "object",
            Kind::Array { .. } | Kind::List { .. } => "array",
            Kind::Enum(_) | Kind::Text { .. } => "string",
            Kind::Boolean => "boolean",
            Kind::Seconds => "integer",
        }
    }
}

/// One key of an object.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// `null` is accepted: it clears the field (top level) or means "none" (SCIM expiries).
    pub nullable: bool,
    /// The tenant feature a body needs to carry this field.
    pub feature: Option<Feature>,
    pub rule: Option<Rule>,
}

pub(crate) const fn field(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: false,
        nullable: false,
        feature: None,
        rule: None,
    }
}

pub(crate) const fn required(mut field: Field) -> Field {
    field.required = true;
    field
}

pub(crate) const fn nullable(mut field: Field) -> Field {
    field.nullable = true;
    field
}

const fn gated(mut field: Field, feature: Feature) -> Field {
    field.feature = Some(feature);
    field
}

const FEATURE_SET: Kind = Kind::Array {
    items: &Kind::Enum(&FEATURES),
    unique: true,
};

const ORGANIZATION: Kind = Kind::Object(&[
    field("show_as_button", Kind::Enum(&ORGANIZATION_MODES)),
    field("assign_membership_on_login", Kind::Enum(&ORGANIZATION_MODES)),
]);

const EMPTY_OBJECT: Kind = Kind::Object(&[]);

const SCIM_TOKENS: Kind = Kind::Object(&[
    required(field(
        "scopes",
        Kind::Array {
            items: &Kind::Enum(&SCIM_TOKEN_SCOPES),
            unique: true,
        },
    )),
    nullable(field("default_expiry", Kind::Seconds)),
    nullable(field("max_allowed_expiry", Kind::Seconds)),
]);

const PROVISIONING: Kind = Kind::Object(&[
    gated(
        field("scim", Kind::Object(&[required(field("tokens", SCIM_TOKENS))])),
        Feature::ScimProvisioning,
    ),
    // Since Auth0's Python SDK 6.8.0 (October 2026).
    gated(
        field(
            "google_workspace",
            Kind::Object(&[required(field("sync_users", Kind::Boolean))]),
        ),
        Feature::GoogleWorkspaceProvisioning,
    ),
]);

/// `provisioning` itself needs SCIM provisioning when it holds no guarded key of its own
/// (`{}` or `null`): the block was SCIM's before Google Workspace joined it.
const PROVISIONING_FIELD: Field = gated(field("provisioning", PROVISIONING), Feature::ScimProvisioning);

const STRATEGY_OVERRIDE: Kind = Kind::Object(&[
    field("enabled_features", FEATURE_SET),
    field("connection_config", EMPTY_OBJECT),
    PROVISIONING_FIELD,
]);

const STRATEGY_OVERRIDES: Kind = Kind::Object(&[
    field("pingfederate", STRATEGY_OVERRIDE),
    field("ad", STRATEGY_OVERRIDE),
    field("adfs", STRATEGY_OVERRIDE),
    field("waad", STRATEGY_OVERRIDE),
    field("google-apps", STRATEGY_OVERRIDE),
    field("okta", STRATEGY_OVERRIDE),
    field("oidc", STRATEGY_OVERRIDE),
    field("samlp", STRATEGY_OVERRIDE),
]);

const CROSS_APP_ACCESS: Kind = Kind::Object(&[required(field(
    "status",
    Kind::Object(&[
        required(field("default_value", Kind::Enum(&CROSS_APP_VALUES))),
        Field {
            rule: Some(Rule::EmptyOrAll),
            ..field(
                "allowed_values",
                Kind::Array {
                    items: &Kind::Enum(&CROSS_APP_VALUES),
                    unique: true,
                },
            )
        },
    ]),
))]);

/// The writable top-level fields of a connection profile, in the order the API returns
/// them. `name` is required on create only (the validator adds that).
pub const PROFILE: &[Field] = &[
    field(
        "name",
        Kind::Text {
            min: 1,
            max: NAME_MAX_CHARS,
            pattern: None,
        },
    ),
    nullable(field("organization", ORGANIZATION)),
    field(
        "connection_name_prefix_template",
        Kind::Text {
            min: 0,
            max: PREFIX_TEMPLATE_MAX_CHARS,
            pattern: Some(Pattern {
                shown: PREFIX_TEMPLATE_PATTERN,
                matches: prefix_template_is_valid,
            }),
        },
    ),
    field("enabled_features", FEATURE_SET),
    nullable(field("connection_config", EMPTY_OBJECT)),
    nullable(field("strategy_overrides", STRATEGY_OVERRIDES)),
    nullable(PROVISIONING_FIELD),
    nullable(gated(
        field("cross_app_access_resource_app", CROSS_APP_ACCESS),
        Feature::CrossAppAccess,
    )),
];

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

/// The feature flags a body needs: one for each guarded field it carries, whatever the value
/// (`null` included). A guarded object that holds a guarded key of its own defers to that
/// key (`provisioning: {google_workspace: …}` needs Google Workspace provisioning only).
pub fn features_needed(body: &Value) -> std::collections::BTreeSet<Feature> {
    let mut needed = std::collections::BTreeSet::new();
    if let Some(map) = body.as_object() {
        features_in(PROFILE, map, &mut needed);
    }
    needed
}

fn features_in(
    fields: &[Field],
    map: &serde_json::Map<String, Value>,
    needed: &mut std::collections::BTreeSet<Feature>,
) {
    for (key, value) in map {
        let Some(field) = fields.iter().find(|field| field.name == key) else {
            continue;
        };
        let children: &[Field] = match field.kind {
            Kind::Object(children) => children,
            _ => &[],
        };
        let object = value.as_object();
        if let Some(feature) = field.feature {
            let defers = object.is_some_and(|object| {
                object.keys().any(|key| {
                    children
                        .iter()
                        .any(|child| child.name == key && child.feature.is_some())
                })
            });
            if !defers {
                needed.insert(feature);
            }
        }
        if let Some(object) = object {
            features_in(children, object, needed);
        }
    }
}

/// Every path of each resource's schema, parents before children: `organization.show_as_button`,
/// `enabled_features[]` for an array's items, `user_attributes.*` for the values of an object
/// keyed by names the client chooses, `strategy_overrides.google-apps.provisioning`. Each
/// entry: `{"path", "type", "required", "nullable", "enum"?, "feature"?}`; one list per
/// resource: `connection_profile`, `user_attribute_profile`, `self_service_profile`.
pub fn dump() -> Value {
    let entries = |fields: &[Field]| {
        let mut entries = Vec::new();
        for field in fields {
            dump_field("", field, &mut entries);
        }
        entries
    };
    json!({
        "connection_profile": entries(PROFILE),
        "user_attribute_profile": entries(crate::user_attribute_profile::schema::PROFILE),
        "self_service_profile": entries(crate::self_service_profile::schema::PROFILE),
    })
}

fn dump_field(parent: &str, field: &Field, entries: &mut Vec<Value>) {
    let path = if parent.is_empty() {
        field.name.to_string()
    } else {
        format!("{parent}.{}", field.name)
    };
    let mut entry = json!({
        "path": path,
        "type": field.kind.type_name(),
        "required": field.required,
        "nullable": field.nullable,
    });
    if let Some(feature) = field.feature {
        entry["feature"] = json!(feature.name());
    }
    if let Kind::Enum(values) = field.kind {
        entry["enum"] = json!(values);
    }
    entries.push(entry);
    dump_kind(&path, &field.kind, entries);
}

fn dump_kind(path: &str, kind: &Kind, entries: &mut Vec<Value>) {
    let (inner_path, inner) = match kind {
        Kind::Object(fields) | Kind::OpenObject(fields) => {
            for child in *fields {
                dump_field(path, child, entries);
            }
            return;
        }
        Kind::Array { items, .. } | Kind::List { items, .. } => (format!("{path}[]"), *items),
        Kind::Map { values, .. } => (format!("{path}.*"), *values),
        Kind::Enum(_) | Kind::Text { .. } | Kind::Boolean | Kind::Seconds => return,
    };
    let mut entry = json!({"path": inner_path, "type": inner.type_name(), "required": false, "nullable": false});
    if let Kind::Enum(values) = inner {
        entry["enum"] = json!(values);
    }
    entries.push(entry);
    dump_kind(&inner_path, inner, entries);
}

/// The field at a dotted path (`*` matches any key of an object), for checking the paths of
/// normalization rules. Array items are reached through their array's path.
pub fn find(path: &str) -> Option<&'static Field> {
    let mut fields: &'static [Field] = PROFILE;
    let mut found: Option<&'static Field> = None;
    for segment in path.split('.') {
        let candidates: Vec<&'static Field> = if segment == "*" {
            fields.iter().collect()
        } else {
            fields.iter().filter(|field| field.name == segment).collect()
        };
        // Every key a `*` matches has the same kind in this schema (the strategies).
        let field = *candidates.first()?;
        found = Some(field);
        fields = match field.kind {
            Kind::Object(children) => children,
            _ => &[],
        };
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dump_names_every_path_and_enum() {
        let dump = dump();
        let entries = dump["connection_profile"].as_array().expect("entries");
        let path = |p: &str| entries.iter().find(|e| e["path"] == p).cloned();
        assert_eq!(
            path("enabled_features[]").expect("items")["enum"],
            json!(["scim", "universal_logout", "directory_sync"])
        );
        assert_eq!(
            path("strategy_overrides.google-apps.provisioning.google_workspace.sync_users").expect("gw")["type"],
            "boolean"
        );
        assert_eq!(
            path("provisioning.scim.tokens.scopes[]").expect("scopes")["enum"],
            json!(SCIM_TOKEN_SCOPES)
        );
        assert_eq!(
            path("cross_app_access_resource_app").expect("caa")["feature"],
            "cross_app_access"
        );
        assert!(path("strategy_overrides.github").is_none());
    }

    /// The other two resources' schemas are dumped alike: an open object's fields, a list's
    /// items and the values of a map keyed by the client's names.
    #[test]
    fn the_dump_names_the_other_resources_paths() {
        let dump = dump();
        let path = |resource: &str, p: &str| {
            dump[resource]
                .as_array()
                .expect("entries")
                .iter()
                .find(|e| e["path"] == p)
                .cloned()
                .unwrap_or_else(|| panic!("{resource}: no {p}"))
        };
        let uap = "user_attribute_profile";
        assert_eq!(path(uap, "user_attributes")["type"], "object");
        assert_eq!(path(uap, "user_attributes.*")["type"], "object");
        assert_eq!(path(uap, "user_attributes.*.profile_required")["type"], "boolean");
        assert_eq!(path(uap, "user_attributes.*.label")["required"], true);
        assert_eq!(path(uap, "user_id.saml_mapping[]")["type"], "string");
        assert_eq!(path(uap, "user_id.oidc_mapping")["enum"], json!(["sub"]));
        assert_eq!(path(uap, "user_id")["nullable"], true);
        let ssp = "self_service_profile";
        assert_eq!(
            path(ssp, "allowed_strategies[]")["enum"],
            json!(crate::self_service_profile::schema::STRATEGIES)
        );
        assert_eq!(path(ssp, "branding.colors.primary")["required"], true);
        assert_eq!(path(ssp, "user_attributes[].is_optional")["type"], "boolean");
        assert_eq!(path(ssp, "user_attribute_profile_id")["type"], "string");
        // Parents come before their children, each path once.
        let paths: Vec<&str> = dump[ssp]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["path"].as_str())
            .collect();
        let at = |p: &str| paths.iter().position(|q| *q == p).expect("listed");
        assert!(at("branding") < at("branding.colors") && at("branding.colors") < at("branding.colors.primary"));
        let unique: std::collections::BTreeSet<&str> = paths.iter().copied().collect();
        assert_eq!(unique.len(), paths.len(), "{paths:?}");
    }

    #[test]
    fn guarded_fields_need_their_flags_even_as_null() {
        let needed = |body: Value| features_needed(&body).into_iter().collect::<Vec<_>>();
        assert_eq!(needed(json!({"name":"a","enabled_features":[]})), []);
        assert_eq!(
            needed(json!({"cross_app_access_resource_app": null})),
            [Feature::CrossAppAccess]
        );
        assert_eq!(needed(json!({"provisioning": {}})), [Feature::ScimProvisioning]);
        assert_eq!(needed(json!({"provisioning": null})), [Feature::ScimProvisioning]);
        // A key no feature guards (a newer Auth0's, under `accept_unknown`) is not a guarded
        // key of its own: the block still needs SCIM provisioning.
        assert_eq!(
            needed(json!({"provisioning": {"future_key": true}})),
            [Feature::ScimProvisioning]
        );
        assert_eq!(
            needed(json!({"strategy_overrides": {"okta": {"provisioning": {"scim": {"tokens": {"scopes": []}}}}}})),
            [Feature::ScimProvisioning]
        );
        assert_eq!(
            needed(json!({"provisioning": {"google_workspace": {"sync_users": true}}})),
            [Feature::GoogleWorkspaceProvisioning]
        );
        assert_eq!(
            needed(
                json!({"provisioning": {"google_workspace": {"sync_users": true}, "scim": {"tokens": {"scopes": []}}}})
            ),
            [Feature::ScimProvisioning, Feature::GoogleWorkspaceProvisioning]
        );
    }

    #[test]
    fn paths_are_found_with_wildcards() {
        assert_eq!(
            find("organization.show_as_button").map(|f| f.name),
            Some("show_as_button")
        );
        assert_eq!(
            find("strategy_overrides.*.enabled_features").map(|f| f.name),
            Some("enabled_features")
        );
        assert!(find("organization.colour").is_none());
        assert!(find("name.x").is_none());
    }

    #[test]
    fn prefix_template_rules() {
        for good in ["", "con-{org_id}-", "{org_name}", "abc-DEF-123", "a-{org_id}{org_name}"] {
            assert!(prefix_template_is_valid(good), "{good}");
        }
        for bad in ["-a", "a--b", "a_b", "{org}", "{org_id", "a b", "é"] {
            assert!(!prefix_template_is_valid(bad), "{bad}");
        }
    }
}
