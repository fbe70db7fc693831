//! The `UserAttributeProfile` resource: one Auth0 user attribute profile (how a user's id and
//! attributes are read from OIDC, SAML and SCIM), its fields in camelCase, its Auth0 API
//! (`/api/v2/user-attribute-profiles`), its body mapping and its validation.
//!
//! Auth0's behaviour this mapping follows (emulator/research/user-attribute-and-self-service-
//! profiles.md, docs/emulator.md): a create without `user_id` stores a default (recorded); a
//! PATCH of `user_id` replaces it whole and fills each mapping left out with its default, and
//! `user_id: {}` resets it (recorded); a PATCH of `user_attributes` replaces the whole map
//! (recorded); unset optional fields are absent, never `null` (recorded).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::{CustomResource, CustomResourceExt, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::kind::{Auth0Api, Common, Kind, Paging, Resolved, Status};
use super::rules;
use super::tenant::TenantRef;
use super::validation::{CommonRules, FieldError, Invalid, common_errors, length_error};
use super::wire::{self, Shape};
use super::{DeletionPolicy, ManagementPolicy, PendingChange};
use crate::controller::desired::{from_wire, to_wire};

/// The desired Auth0 user attribute profile, plus how the operator manages it.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[kube(
    group = "auth0.operators.dev",
    version = "v1alpha1",
    kind = "UserAttributeProfile",
    doc = "An Auth0 user attribute profile managed by the auth0-operator.",
    plural = "userattributeprofiles",
    namespaced,
    status = "UserAttributeProfileStatus",
    shortname = "uaprof",
    category = "auth0",
    selectable = ".spec.tenantRef.kind",
    selectable = ".spec.tenantRef.name",
    printcolumn(name = "ID", type_ = "string", json_path = ".status.id"),
    printcolumn(name = "READY", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "SYNCED", type_ = "string", json_path = r#".status.conditions[?(@.type=="Synced")].status"#),
    printcolumn(name = "PENDING", type_ = "integer", json_path = ".status.pendingChangeCount"),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "REASON", type_ = "string", priority = 1, json_path = r#".status.conditions[?(@.type=="Synced")].reason"#),
    printcolumn(name = "MESSAGE", type_ = "string", priority = 1, json_path = r#".status.conditions[?(@.type=="Synced")].message"#),
    validation = Rule::new(rules::UAP_EFFECTIVE_NAME_CEL).message(rules::UAP_EFFECTIVE_NAME_MSG).field_path(".spec"),
    validation = Rule::new(rules::TENANT_REF_CEL).message(rules::UAP_TENANT_REF_MSG).field_path(".spec.tenantRef")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new(rules::EXTERNAL_ID_IMMUTABLE_CEL).message(rules::UAP_EXTERNAL_ID_IMMUTABLE_MSG).field_path(".externalID")
)]
pub struct UserAttributeProfileSpec {
    /// The Auth0 profile name, 1 to 128 characters. Defaults to metadata.name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub name: Option<String>,

    /// The tenant that holds the profile. Defaults to ClusterAuth0Tenant/default. It can
    /// change only while nothing exists in Auth0 for the resource: no status.id and no
    /// spec.externalID. The operator also refuses a change while the resource's
    /// annotations still bind it to a profile, or to an unfinished create, on another
    /// tenant (Synced=False TenantChanged).
    #[serde(default)]
    pub tenant_ref: TenantRef,

    /// Delete (default) removes the Auth0 profile with the resource; Orphan leaves it in Auth0.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// Manage (default) writes to Auth0; Observe only reads and reports the remote state.
    #[serde(default)]
    pub management_policy: ManagementPolicy,

    /// Adopt an existing Auth0 profile by its id (uap_ + 22 letters or digits). Once set it
    /// cannot change.
    #[serde(default, rename = "externalID", skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(rules::UAP_ID_CEL).message(rules::UAP_ID_MSG))]
    #[schemars(length(max = 26))]
    pub external_id: Option<String>,

    /// Where the user id comes from in OIDC, SAML and SCIM. A mapping left out takes Auth0's
    /// default, as does the whole field: oidcMapping sub, samlMapping the nameidentifier, upn
    /// and name claims, scimMapping externalId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserIdMapping>,

    /// The user attributes, 1 to 64, by attribute name (1 to 50 characters, such as email or
    /// given_name): where each is read from, and whether a user profile must hold it.
    #[x_kube(validation = Rule::new(rules::UAP_ATTRIBUTE_NAMES_CEL).message(rules::UAP_ATTRIBUTE_NAMES_MSG))]
    #[schemars(extend("minProperties" = 1, "maxProperties" = 64))]
    pub user_attributes: BTreeMap<String, UserAttribute>,
}

/// Where the user id comes from.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserIdMapping {
    /// The OIDC claim that holds the user id: sub, the only value Auth0 accepts here.
    /// Defaults to sub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_mapping: Option<UserIdOidcMapping>,
    /// The SAML attributes that may hold the user id, 1 to 3, each 1 to 128 characters.
    /// Defaults to the nameidentifier, upn and name claims
    /// (http://schemas.xmlsoap.org/ws/2005/05/identity/claims/...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 3), inner(length(min = 1, max = 128)))]
    pub saml_mapping: Option<Vec<String>>,
    /// The SCIM attribute that holds the user id, 1 to 128 characters. Defaults to
    /// externalId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub scim_mapping: Option<String>,
    /// Other mappings per connection strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_overrides: Option<UserAttributeStrategyOverrides<UserIdOverride>>,
}

/// The OIDC claim of the user id: `sub`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum UserIdOidcMapping {
    Sub,
}

/// The OIDC claim of the user id for one strategy: `sub`, `oid` or `email`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum UserIdOverrideOidcMapping {
    Sub,
    Oid,
    Email,
}

/// Where the user id comes from for one strategy, in place of the profile's.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserIdOverride {
    /// The OIDC claim that holds the user id: sub, oid or email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_mapping: Option<UserIdOverrideOidcMapping>,
    /// The SAML attributes that may hold the user id, 1 to 3, each 1 to 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 3), inner(length(min = 1, max = 128)))]
    pub saml_mapping: Option<Vec<String>>,
    /// The SCIM attribute that holds the user id, 1 to 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub scim_mapping: Option<String>,
}

/// Settings per connection strategy, keyed by Auth0's strategy name.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserAttributeStrategyOverrides<T> {
    /// PingFederate (Auth0 strategy `pingfederate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pingfederate: Option<T>,
    /// Active Directory / LDAP, through the AD/LDAP Connector (Auth0 strategy `ad`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad: Option<T>,
    /// Active Directory Federation Services (Auth0 strategy `adfs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adfs: Option<T>,
    /// Microsoft Entra ID, formerly Azure AD (Auth0 strategy `waad`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waad: Option<T>,
    /// Google Workspace (Auth0 strategy `google-apps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_apps: Option<T>,
    /// Okta Workforce (Auth0 strategy `okta`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub okta: Option<T>,
    /// Any OpenID Connect identity provider (Auth0 strategy `oidc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<T>,
    /// Any SAML identity provider (Auth0 strategy `samlp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samlp: Option<T>,
}

impl<T> UserAttributeStrategyOverrides<T> {
    /// Each override present, with its camelCase key.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &T)> {
        [
            ("pingfederate", &self.pingfederate),
            ("ad", &self.ad),
            ("adfs", &self.adfs),
            ("waad", &self.waad),
            ("googleApps", &self.google_apps),
            ("okta", &self.okta),
            ("oidc", &self.oidc),
            ("samlp", &self.samlp),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.as_ref().map(|v| (key, v)))
    }
}

/// One user attribute: what it is, where it comes from, and whether it is required.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserAttribute {
    /// The attribute's display label, 1 to 128 characters.
    #[schemars(length(min = 1, max = 128))]
    pub label: String,
    /// What the attribute holds, 1 to 128 characters.
    #[schemars(length(min = 1, max = 128))]
    pub description: String,
    /// The Auth0 user profile field it fills, 1 to 50 characters: email, given_name,
    /// app_metadata.department, ...
    #[schemars(length(min = 1, max = 50))]
    pub auth0_mapping: String,
    /// Whether a user profile must hold the attribute.
    pub profile_required: bool,
    /// The OIDC claim it is read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_mapping: Option<AttributeOidcMapping>,
    /// The SAML attributes it may be read from, 1 to 3, each 1 to 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 3), inner(length(min = 1, max = 128)))]
    pub saml_mapping: Option<Vec<String>>,
    /// The SCIM attribute it is read from, 1 to 128 characters, such as
    /// emails[primary eq true].value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub scim_mapping: Option<String>,
    /// Other mappings per connection strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_overrides: Option<UserAttributeStrategyOverrides<AttributeOverride>>,
}

/// An OIDC claim an attribute is read from.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AttributeOidcMapping {
    /// The claim, 1 to 50 characters; it may use ${context.tokenset.<name>}.
    #[schemars(length(min = 1, max = 50))]
    pub mapping: String,
    /// The name shown for it, 1 to 50 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50))]
    pub display_name: Option<String>,
}

/// Where an attribute comes from for one strategy, in place of the attribute's own mappings.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AttributeOverride {
    /// The OIDC claim it is read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_mapping: Option<AttributeOidcMapping>,
    /// The SAML attributes it may be read from, 1 to 3, each 1 to 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 3), inner(length(min = 1, max = 128)))]
    pub saml_mapping: Option<Vec<String>>,
    /// The SCIM attribute it is read from, 1 to 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub scim_mapping: Option<String>,
}

/// The profile as the operator last found it in Auth0, and the outcome of its last pass.
pub type UserAttributeProfileStatus = Status<UserAttributeProfileAtProvider>;

/// The user attribute profile as Auth0 last reported it, in the resource's camelCase.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserAttributeProfileAtProvider {
    /// The profile name in Auth0.
    #[serde(default)]
    pub name: String,
    /// The user id mapping in Auth0 (spec.userId).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserIdMapping>,
    /// The user attributes in Auth0, by name (spec.userAttributes).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_attributes: BTreeMap<String, UserAttribute>,
}

impl UserAttributeProfile {
    /// The Auth0 profile name: `spec.name`, else `metadata.name`.
    pub fn effective_name(&self) -> &str {
        self.spec
            .name
            .as_deref()
            .or(self.metadata.name.as_deref())
            .unwrap_or_default()
    }
}

/// Auth0's user attribute profiles API (`/api/v2/user-attribute-profiles`; documented, early
/// access). Ids are `uap_` + 22 letters or digits (recorded). Checkpoint paging: `take` has
/// no documented maximum (default 5); 50 is what Auth0's Node and Python SDKs ask for, and
/// what the emulator serves at most a page. Names are unique (the emulator's decided reading
/// of the documented 409 `User attribute profile conflict.`); no quota is documented.
pub static USER_ATTRIBUTE_PROFILES: Auth0Api = Auth0Api {
    kind: "UserAttributeProfile",
    path: "user-attribute-profiles",
    list_field: "user_attribute_profiles",
    id_prefix: "uap_",
    paging: Paging::Checkpoint,
    page_size: 50,
    noun: "user attribute profile",
    scopes: [
        "read:user_attribute_profiles",
        "create:user_attribute_profiles",
        "update:user_attribute_profiles",
        "delete:user_attribute_profiles",
    ],
    document_scopes: &[],
    quota: None,
    unique_names: true,
    templates: Some("user_attribute_profile_templates"),
};

/// The writable fields, in wire spelling.
const WRITABLE: [&str; 3] = ["name", "user_id", "user_attributes"];

/// The wire key whose object's keys are the user's attribute names.
const FREE_KEYS: [&str; 1] = ["user_attributes"];

/// The SAML claims of Auth0's default user id mapping.
const DEFAULT_SAML_MAPPING: [&str; 3] = [
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
];

/// What Auth0 stores as `user_id` on a create without one, and fills into a PATCHed
/// `user_id` for each mapping it leaves out (recorded: every create of Auth0's Terraform
/// provider's recordings; go-auth0's `_Update`).
pub fn auth0_default_user_id() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("oidc_mapping".into(), json!("sub"));
    map.insert("saml_mapping".into(), json!(DEFAULT_SAML_MAPPING));
    map.insert("scim_mapping".into(), json!("externalId"));
    map
}

/// `user_id` as Auth0 holds it once stored: each of the three mappings left out is its
/// default (a `null`, `{}` or absent `user_id` is the whole default).
fn with_user_id_defaults(value: Value) -> Value {
    let mut map = match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (key, default) in auth0_default_user_id() {
        map.entry(key).or_insert(default);
    }
    Value::Object(map)
}

/// The wire shape this version knows: the CRD's spec schema, writable fields only.
fn shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(|| {
        let crd = serde_json::to_value(UserAttributeProfile::crd()).unwrap_or_default();
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        match Shape::of(spec) {
            Shape::Object(mut keys) => {
                keys.retain(|k, _| WRITABLE.contains(&k.as_str()));
                Shape::Object(keys)
            }
            other => other,
        }
    })
}

/// The spec in Auth0's spelling; the attribute names stay as the user wrote them.
fn attributes_to_wire(attributes: &BTreeMap<String, UserAttribute>) -> Value {
    Value::Object(
        attributes
            .iter()
            .map(|(name, attribute)| (name.clone(), to_wire(&json!(attribute))))
            .collect(),
    )
}

/// Auth0's attributes in the resource's spelling; the attribute names stay as they are.
fn attributes_from_wire(attributes: &Value) -> Value {
    match attributes {
        Value::Object(map) => Value::Object(map.iter().map(|(name, a)| (name.clone(), from_wire(a))).collect()),
        other => other.clone(),
    }
}

/// One field of Auth0's copy, reduced to what this version knows, canonical.
fn known_field(field: &str, remote: &Value) -> Value {
    let value = remote.get(field).cloned().unwrap_or_default();
    let known = match shape().field(field) {
        Some(shape) => shape.known(&value),
        None => value,
    };
    wire::canonical(field, &known, &[])
}

impl Kind for UserAttributeProfile {
    type AtProvider = UserAttributeProfileAtProvider;
    const AUTH0: &'static Auth0Api = &USER_ATTRIBUTE_PROFILES;

    fn common(&self) -> Common<'_> {
        Common {
            name: self.effective_name(),
            tenant_ref: &self.spec.tenant_ref,
            deletion_policy: self.spec.deletion_policy,
            management_policy: self.spec.management_policy,
            external_id: self.spec.external_id.as_deref(),
        }
    }

    fn status(&self) -> Option<&UserAttributeProfileStatus> {
        self.status.as_ref()
    }

    fn blank(metadata: ObjectMeta, status: Option<UserAttributeProfileStatus>) -> Self {
        let mut profile = UserAttributeProfile::new("", UserAttributeProfileSpec::default());
        profile.metadata = metadata;
        profile.status = status;
        profile
    }

    fn validate(&self) -> Result<(), Invalid> {
        let spec = &self.spec;
        let mut errors = common_errors(
            spec.name.as_deref(),
            self.metadata.name.as_deref(),
            &spec.tenant_ref,
            spec.external_id.as_deref(),
            &CommonRules {
                name_max: rules::UAP_NAME_MAX,
                effective_name_msg: rules::UAP_EFFECTIVE_NAME_MSG,
                api: &USER_ATTRIBUTE_PROFILES,
                external_id_msg: rules::UAP_ID_MSG,
            },
        );
        if let Some(user_id) = &spec.user_id {
            check_mappings(
                "spec.userId",
                user_id.saml_mapping.as_deref(),
                user_id.scim_mapping.as_deref(),
                &mut errors,
            );
            for (strategy, o) in user_id.strategy_overrides.iter().flat_map(|s| s.iter()) {
                let at = format!("spec.userId.strategyOverrides.{strategy}");
                check_mappings(&at, o.saml_mapping.as_deref(), o.scim_mapping.as_deref(), &mut errors);
            }
        }
        let count = spec.user_attributes.len();
        if !(1..=64).contains(&count) {
            errors.push(FieldError {
                field: "spec.userAttributes".into(),
                message: format!("must hold 1 to 64 attributes, not {count}"),
            });
        }
        for (name, attribute) in &spec.user_attributes {
            let at = format!("spec.userAttributes.{name}");
            if !(1..=rules::UAP_ATTRIBUTE_NAME_MAX).contains(&name.chars().count()) {
                errors.push(FieldError {
                    field: "spec.userAttributes".into(),
                    message: format!("{}: {name:?}", rules::UAP_ATTRIBUTE_NAMES_MSG),
                });
            }
            check_attribute(&at, attribute, &mut errors);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid(errors))
        }
    }

    fn desired(&self, _resolved: &Resolved) -> Map<String, Value> {
        let spec = &self.spec;
        let wire = json!({
            "name": self.effective_name(),
            "user_id": to_wire(&json!(spec.user_id)),
            "user_attributes": attributes_to_wire(&spec.user_attributes),
        });
        Self::normalize(&wire)
    }

    /// The name and the attributes (both required), and `user_id` only when the spec asks
    /// for other than Auth0's default.
    fn create_body(desired: &Map<String, Value>) -> Map<String, Value> {
        let default = Value::Object(auth0_default_user_id());
        desired
            .iter()
            .filter(|(field, value)| field.as_str() != "user_id" || **value != default)
            .map(|(field, value)| (field.clone(), value.clone()))
            .collect()
    }

    /// Each changed field whole (Auth0 replaces `user_id` and `user_attributes` whole), with
    /// what Auth0 holds that this version does not know sent back; a `user_id` back to
    /// Auth0's default is sent as `{}`, which resets it (recorded).
    fn patch_body(changed: &Map<String, Value>, remote: &Value) -> Map<String, Value> {
        let default = Value::Object(auth0_default_user_id());
        changed
            .iter()
            .map(|(field, value)| {
                let sent = match (field.as_str(), remote.get(field), shape().field(field)) {
                    ("user_id", _, _) if *value == default => json!({}),
                    (_, Some(held), Some(known)) => known.with_unknown(value, held),
                    _ => value.clone(),
                };
                (field.clone(), sent)
            })
            .collect()
    }

    fn normalize(remote: &Value) -> Map<String, Value> {
        WRITABLE
            .iter()
            .map(|field| {
                let value = known_field(field, remote);
                let value = match *field {
                    "user_id" => with_user_id_defaults(value),
                    "user_attributes" if !value.is_object() => json!({}),
                    "name" if !value.is_string() => Value::Null,
                    _ => value,
                };
                (field.to_string(), value)
            })
            .collect()
    }

    fn at_provider(remote: &Value) -> Option<UserAttributeProfileAtProvider> {
        let mut fields = Map::new();
        for field in WRITABLE {
            let value = known_field(field, remote);
            if wire::is_empty(&value) {
                continue;
            }
            let value = match field {
                "user_attributes" => attributes_from_wire(&value),
                _ => from_wire(&value),
            };
            fields.insert(wire::camel_key(field), value);
        }
        serde_json::from_value(Value::Object(fields)).ok()
    }

    fn unrecognized(remote: &Value) -> Vec<String> {
        wire::unrecognized(shape(), &WRITABLE, remote)
    }

    fn spec_path(wire: &str) -> String {
        let segments: Vec<&str> = wire.split('.').collect();
        format!("spec.{}", wire::camel_path(&segments, &FREE_KEYS))
    }

    fn field_changes(desired: &Map<String, Value>, remote: &Map<String, Value>) -> Vec<PendingChange> {
        wire::field_changes(desired, remote, &|segments| wire::camel_path(segments, &FREE_KEYS))
            .into_iter()
            .map(Into::into)
            .collect()
    }
}

/// The rules of a SAML and a SCIM mapping at `at`.
fn check_mappings(at: &str, saml: Option<&[String]>, scim: Option<&str>, errors: &mut Vec<FieldError>) {
    if let Some(saml) = saml {
        if !(1..=3).contains(&saml.len()) {
            errors.push(FieldError {
                field: format!("{at}.samlMapping"),
                message: format!("must hold 1 to 3 SAML attributes, not {}", saml.len()),
            });
        }
        for (i, item) in saml.iter().enumerate() {
            errors.extend(length_error(&format!("{at}.samlMapping[{i}]"), item, 1, 128));
        }
    }
    if let Some(scim) = scim {
        errors.extend(length_error(&format!("{at}.scimMapping"), scim, 1, 128));
    }
}

/// The rules of an OIDC claim mapping at `at`.
fn check_oidc(at: &str, oidc: Option<&AttributeOidcMapping>, errors: &mut Vec<FieldError>) {
    if let Some(oidc) = oidc {
        errors.extend(length_error(&format!("{at}.oidcMapping.mapping"), &oidc.mapping, 1, 50));
        if let Some(name) = &oidc.display_name {
            errors.extend(length_error(&format!("{at}.oidcMapping.displayName"), name, 1, 50));
        }
    }
}

/// The rules of one attribute at `at`.
fn check_attribute(at: &str, attribute: &UserAttribute, errors: &mut Vec<FieldError>) {
    errors.extend(length_error(&format!("{at}.label"), &attribute.label, 1, 128));
    errors.extend(length_error(
        &format!("{at}.description"),
        &attribute.description,
        1,
        128,
    ));
    errors.extend(length_error(
        &format!("{at}.auth0Mapping"),
        &attribute.auth0_mapping,
        1,
        50,
    ));
    check_oidc(at, attribute.oidc_mapping.as_ref(), errors);
    check_mappings(
        at,
        attribute.saml_mapping.as_deref(),
        attribute.scim_mapping.as_deref(),
        errors,
    );
    for (strategy, o) in attribute.strategy_overrides.iter().flat_map(|s| s.iter()) {
        let here = format!("{at}.strategyOverrides.{strategy}");
        check_oidc(&here, o.oidc_mapping.as_ref(), errors);
        check_mappings(&here, o.saml_mapping.as_deref(), o.scim_mapping.as_deref(), errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::desired::diff;

    const ID: &str = "uap_1css47cCzXvXLC4pJ8KBaa";

    fn profile(spec: Value) -> UserAttributeProfile {
        serde_json::from_value(json!({
            "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "UserAttributeProfile",
            "metadata": {"name": "meta-name", "namespace": "ns"}, "spec": spec
        }))
        .expect("a UserAttributeProfile")
    }

    fn email() -> Value {
        json!({"label": "Email", "description": "The user's email address", "auth0Mapping": "email", "profileRequired": true})
    }

    fn email_on_the_wire() -> Value {
        json!({"label": "Email", "description": "The user's email address", "auth0_mapping": "email", "profile_required": true})
    }

    fn minimal() -> Value {
        json!({"userAttributes": {"email": email()}})
    }

    fn desired_of(spec: Value) -> Map<String, Value> {
        profile(spec).desired(&Resolved::new())
    }

    fn default_user_id() -> Value {
        Value::Object(auth0_default_user_id())
    }

    fn fields(spec: Value) -> Vec<String> {
        let mut found: Vec<String> = profile(spec)
            .validate()
            .err()
            .map(|e| e.0.into_iter().map(|e| e.field).collect())
            .unwrap_or_default();
        found.sort();
        found
    }

    /// `spec` with `userAttributes.email` changed by `edit`.
    fn with_email(edit: impl FnOnce(&mut Value)) -> Value {
        let mut spec = minimal();
        edit(&mut spec["userAttributes"]["email"]);
        spec
    }

    #[test]
    fn the_api_is_auth0s_user_attribute_profiles() {
        let api = UserAttributeProfile::AUTH0;
        assert_eq!(
            (api.path, api.list_field, api.id_prefix, api.noun),
            (
                "user-attribute-profiles",
                "user_attribute_profiles",
                "uap_",
                "user attribute profile"
            )
        );
        assert_eq!(
            (api.paging, api.page_size, api.quota, api.unique_names),
            (Paging::Checkpoint, 50, None, true)
        );
        assert_eq!(
            api.scopes,
            [
                "read:user_attribute_profiles",
                "create:user_attribute_profiles",
                "update:user_attribute_profiles",
                "delete:user_attribute_profiles"
            ]
        );
        assert!(api.is_id(ID));
        for not in [
            "ssp_1css47cCzXvXLC4pJ8KBaa",
            "uap_1css47cCzXvXLC4pJ8KBa",
            "uap_1css47cCzXvXLC4pJ8KBa!",
            "",
        ] {
            assert!(!api.is_id(not), "{not}");
        }
    }

    #[test]
    fn the_crd_names_the_kind_and_its_rules() {
        let crd = UserAttributeProfile::crd();
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some("userattributeprofiles.auth0.operators.dev")
        );
        assert_eq!(crd.spec.names.short_names, Some(vec!["uaprof".to_string()]));
        assert_eq!(crd.spec.names.categories, Some(vec!["auth0".to_string()]));
        let version = &crd.spec.versions[0];
        let columns: Vec<&str> = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            columns,
            ["ID", "READY", "SYNCED", "PENDING", "AGE", "REASON", "MESSAGE"]
        );
        let selectable: Vec<&str> = version
            .selectable_fields
            .iter()
            .flatten()
            .map(|f| f.json_path.as_str())
            .collect();
        assert_eq!(selectable, [".spec.tenantRef.kind", ".spec.tenantRef.name"]);
        // The CEL rules and the pure checks share their limits.
        assert!(rules::UAP_EFFECTIVE_NAME_CEL.ends_with(&format!("<= {}", rules::UAP_NAME_MAX)));
        assert!(rules::UAP_ATTRIBUTE_NAMES_CEL.contains(&format!("<= {}", rules::UAP_ATTRIBUTE_NAME_MAX)));
        let text = serde_json::to_string(&crd).expect("json");
        for rule in [
            rules::UAP_ID_CEL,
            rules::UAP_ATTRIBUTE_NAMES_CEL,
            rules::UAP_EFFECTIVE_NAME_CEL,
        ] {
            assert!(text.contains(&serde_json::to_string(rule).expect("json")), "{rule}");
        }
    }

    #[test]
    fn the_common_fields_and_a_blank_resource() {
        let mut p = profile(
            json!({"name": "Named", "tenantRef": {"kind": "Auth0Tenant", "name": "acme"},
            "deletionPolicy": "Orphan", "managementPolicy": "Observe", "externalID": ID, "userAttributes": {"email": email()}}),
        );
        let common = p.common();
        assert_eq!(common.name, "Named");
        assert_eq!(common.tenant_ref.name, "acme");
        assert_eq!(common.deletion_policy, DeletionPolicy::Orphan);
        assert_eq!(common.management_policy, ManagementPolicy::Observe);
        assert_eq!(common.external_id, Some(ID));
        p.spec.name = None;
        assert_eq!(p.common().name, "meta-name");
        assert_eq!(Kind::status(&p), None);
        let status = UserAttributeProfileStatus {
            id: Some(ID.into()),
            ..Default::default()
        };
        let blank = UserAttributeProfile::blank(p.metadata.clone(), Some(status.clone()));
        assert_eq!(blank.metadata, p.metadata);
        assert_eq!(Kind::status(&blank), Some(&status));
        assert_eq!(blank.spec, UserAttributeProfileSpec::default());
        assert!(blank.references().is_empty() && blank.sub_documents().is_empty());
    }

    #[test]
    fn a_minimal_spec_is_created_with_its_name_and_attributes_only() {
        let want = desired_of(minimal());
        assert_eq!(
            Value::Object(want.clone()),
            json!({"name": "meta-name", "user_id": default_user_id(), "user_attributes": {"email": email_on_the_wire()}})
        );
        assert_eq!(
            Value::Object(UserAttributeProfile::create_body(&want)),
            json!({"name": "meta-name", "user_attributes": {"email": email_on_the_wire()}}),
            "no user_id: Auth0 stores its default"
        );
        assert_eq!(default_user_id()["scim_mapping"], "externalId");
        assert_eq!(default_user_id()["oidc_mapping"], "sub");
        assert_eq!(default_user_id()["saml_mapping"].as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn a_user_id_the_spec_sets_is_sent_and_filled_with_auth0s_defaults() {
        let mut spec = minimal();
        spec["userId"] =
            json!({"scimMapping": "userName", "strategyOverrides": {"googleApps": {"oidcMapping": "email"}}});
        let want = desired_of(spec);
        let mut user_id = default_user_id();
        user_id["scim_mapping"] = json!("userName");
        user_id["strategy_overrides"] = json!({"google-apps": {"oidc_mapping": "email"}});
        assert_eq!(want["user_id"], user_id);
        assert_eq!(UserAttributeProfile::create_body(&want)["user_id"], user_id);
        // Auth0's answer (the mappings filled, the attribute's fields in its own order).
        let answer = json!({"id": ID, "name": "meta-name", "user_id": user_id,
            "user_attributes": {"email": {"profile_required": true, "auth0_mapping": "email", "label": "Email", "description": "The user's email address"}}});
        assert_eq!(diff(&want, &UserAttributeProfile::normalize(&answer)), None);
        // The default said in full is the default: not sent.
        let mut spec = minimal();
        spec["userId"] =
            json!({"oidcMapping": "sub", "samlMapping": DEFAULT_SAML_MAPPING, "scimMapping": "externalId"});
        assert!(!UserAttributeProfile::create_body(&desired_of(spec)).contains_key("user_id"));
    }

    #[test]
    fn auth0s_answer_to_the_create_has_no_diff() {
        let mut spec = minimal();
        spec["userAttributes"]["given_name"] = json!({"label": "Given name", "description": "First name",
            "auth0Mapping": "given_name", "profileRequired": false, "oidcMapping": {"mapping": "given_name"},
            "samlMapping": ["urn:b", "urn:a"], "scimMapping": "name.givenName",
            "strategyOverrides": {"okta": {"oidcMapping": {"mapping": "first", "displayName": "First"}}, "ad": {}}});
        let want = desired_of(spec);
        let answer = json!({"id": ID, "name": "meta-name", "user_id": default_user_id(), "user_attributes": {
            "given_name": {"label": "Given name", "description": "First name", "oidc_mapping": {"mapping": "given_name"},
                "saml_mapping": ["urn:b", "urn:a"], "scim_mapping": "name.givenName", "auth0_mapping": "given_name",
                "profile_required": false, "strategy_overrides": {"okta": {"oidc_mapping": {"mapping": "first", "display_name": "First"}}}},
            "email": email_on_the_wire()}});
        assert_eq!(diff(&want, &UserAttributeProfile::normalize(&answer)), None);
        // The SAML claims are tried in order: another order is a change.
        let mut reordered = answer.clone();
        reordered["user_attributes"]["given_name"]["saml_mapping"] = json!(["urn:a", "urn:b"]);
        let changed = diff(&want, &UserAttributeProfile::normalize(&reordered)).expect("differs");
        assert_eq!(changed.keys().collect::<Vec<_>>(), ["user_attributes"]);
    }

    #[test]
    fn normalize_reads_what_auth0_leaves_out_as_its_defaults() {
        let empty = json!({"name": null, "user_id": default_user_id(), "user_attributes": {}});
        for remote in [
            json!({}),
            json!({"name": 3, "user_id": null, "user_attributes": null}),
            json!({"user_id": {}, "user_attributes": []}),
            json!({"user_id": "x", "user_attributes": "y"}),
        ] {
            assert_eq!(
                Value::Object(UserAttributeProfile::normalize(&remote)),
                empty,
                "{remote}"
            );
        }
        let partial = UserAttributeProfile::normalize(
            &json!({"name": "n", "user_id": {"scim_mapping": "userName", "saml_mapping": []}}),
        );
        assert_eq!(partial["name"], "n");
        assert_eq!(partial["user_id"]["scim_mapping"], "userName");
        assert_eq!(partial["user_id"]["saml_mapping"], default_user_id()["saml_mapping"]);
    }

    #[test]
    fn a_patch_sends_each_changed_field_whole_with_what_auth0_holds_unknown() {
        let spec = with_email(|e| e["label"] = json!("E-mail"));
        let want = desired_of(spec);
        let remote = json!({"id": ID, "name": "old-name", "user_id": default_user_id(), "user_attributes": {
            "email": {"label": "Email", "description": "The user's email address", "auth0_mapping": "email",
                      "profile_required": true, "future_field": 1},
            "dropped": {"label": "D", "description": "D", "auth0_mapping": "d", "profile_required": false}}});
        let changed = diff(&want, &UserAttributeProfile::normalize(&remote)).expect("differs");
        let body = UserAttributeProfile::patch_body(&changed, &remote);
        let mut email = email_on_the_wire();
        email["label"] = json!("E-mail");
        email["future_field"] = json!(1);
        assert_eq!(
            Value::Object(body),
            json!({"name": "meta-name", "user_attributes": {"email": email}}),
            "the attribute the spec dropped goes; the field this version does not know stays"
        );
    }

    #[test]
    fn a_user_id_back_to_the_default_is_reset_with_an_empty_object() {
        let custom = json!({"oidc_mapping": "sub", "saml_mapping": ["urn:x"], "scim_mapping": "userName", "future_mapping": "f"});
        let remote = json!({"name": "meta-name", "user_id": custom, "user_attributes": {"email": email_on_the_wire()}});
        let want = desired_of(minimal());
        let changed = diff(&want, &UserAttributeProfile::normalize(&remote)).expect("differs");
        assert_eq!(
            Value::Object(UserAttributeProfile::patch_body(&changed, &remote)),
            json!({"user_id": {}})
        );
        // Another user_id is sent whole, with what Auth0 holds unknown.
        let mut spec = minimal();
        spec["userId"] = json!({"samlMapping": ["urn:y"]});
        let want = desired_of(spec);
        let changed = diff(&want, &UserAttributeProfile::normalize(&remote)).expect("differs");
        assert_eq!(
            UserAttributeProfile::patch_body(&changed, &remote)["user_id"],
            json!({"oidc_mapping": "sub", "saml_mapping": ["urn:y"], "scim_mapping": "externalId", "future_mapping": "f"})
        );
        // Without Auth0's copy of a field, the value is sent as it is.
        let lone = Map::from_iter([("user_id".to_string(), json!({"scim_mapping": "x"}))]);
        assert_eq!(
            UserAttributeProfile::patch_body(&lone, &json!({}))["user_id"],
            json!({"scim_mapping": "x"})
        );
    }

    #[test]
    fn attribute_names_are_kept_as_written() {
        let mut spec = minimal();
        spec["userAttributes"]["firstName"] = json!({"label": "F", "description": "F", "auth0Mapping": "given_name",
            "profileRequired": false, "strategyOverrides": {"googleApps": {"scimMapping": "name.givenName"}}});
        let want = desired_of(spec);
        assert_eq!(
            want["user_attributes"]["firstName"],
            json!({"label": "F", "description": "F", "auth0_mapping": "given_name", "profile_required": false,
                   "strategy_overrides": {"google-apps": {"scim_mapping": "name.givenName"}}})
        );
        let observed =
            UserAttributeProfile::at_provider(&json!({"name": "n", "user_attributes": want["user_attributes"]}))
                .expect("parses");
        let first = &observed.user_attributes["firstName"];
        assert_eq!(first.auth0_mapping, "given_name");
        assert_eq!(
            first
                .strategy_overrides
                .as_ref()
                .and_then(|s| s.google_apps.as_ref())
                .and_then(|o| o.scim_mapping.as_deref()),
            Some("name.givenName")
        );
        assert!(observed.user_attributes.contains_key("email"));
        assert_eq!(
            UserAttributeProfile::spec_path("user_attributes.first_name.oidc_mapping.display_name"),
            "spec.userAttributes.first_name.oidcMapping.displayName"
        );
        assert_eq!(
            UserAttributeProfile::spec_path("user_id.strategy_overrides.google-apps.oidc_mapping"),
            "spec.userId.strategyOverrides.googleApps.oidcMapping"
        );
        assert_eq!(UserAttributeProfile::spec_path("name"), "spec.name");
    }

    #[test]
    fn pending_changes_name_spec_paths_with_the_attribute_names() {
        let want = desired_of(with_email(|e| e["label"] = json!("E-mail")));
        let mut remote = want.clone();
        remote["user_attributes"]["email"]["label"] = json!("Email");
        remote["user_id"]["scim_mapping"] = json!("userName");
        let changes = UserAttributeProfile::field_changes(&want, &remote);
        let seen: Vec<(&str, Option<&str>, Option<&str>)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.auth0.as_deref(), c.desired.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                ("userAttributes.email.label", Some("\"Email\""), Some("\"E-mail\"")),
                ("userId.scimMapping", Some("\"userName\""), Some("\"externalId\""))
            ]
        );
        assert!(UserAttributeProfile::field_changes(&want, &want).is_empty());
    }

    #[test]
    fn at_provider_reads_auth0s_copy_in_camel_case() {
        let remote = json!({"id": ID, "name": "n",
            "user_id": {"oidc_mapping": "sub", "scim_mapping": "userName", "strategy_overrides": {"waad": {"oidc_mapping": "oid"}}},
            "user_attributes": {"email": email_on_the_wire()}});
        let observed = UserAttributeProfile::at_provider(&remote).expect("parses");
        assert_eq!(observed.name, "n");
        let user_id = observed.user_id.expect("user id");
        assert_eq!(user_id.scim_mapping.as_deref(), Some("userName"));
        assert_eq!(user_id.oidc_mapping, Some(UserIdOidcMapping::Sub));
        assert_eq!(
            user_id
                .strategy_overrides
                .and_then(|s| s.waad)
                .and_then(|o| o.oidc_mapping),
            Some(UserIdOverrideOidcMapping::Oid)
        );
        assert!(observed.user_attributes["email"].profile_required);
        // The attribute names stay as Auth0 holds them, snake_case ones included.
        let snake = json!({"name": "n", "user_attributes": {"given_name": email_on_the_wire()}});
        let observed = UserAttributeProfile::at_provider(&snake).expect("parses");
        assert_eq!(observed.user_attributes.keys().collect::<Vec<_>>(), ["given_name"]);
        // What it does not know is left out, not a failure; a wrong type is.
        let newer = json!({"name": "n", "user_id": {"oidc_mapping": "upn", "future": 1}, "user_attributes": {}});
        let observed = UserAttributeProfile::at_provider(&newer).expect("parses");
        assert_eq!((observed.user_id, observed.user_attributes.len()), (None, 0));
        assert_eq!(UserAttributeProfile::at_provider(&json!({"name": 1})), None);
    }

    #[test]
    fn unrecognized_lists_what_this_version_cannot_express() {
        let remote = json!({"id": ID, "created_at": "2026", "name": "n",
            "user_id": {"oidc_mapping": "upn", "future": 1, "strategy_overrides": {"future_strategy": {}, "okta": {"oidc_mapping": "email", "deep": true}}},
            "user_attributes": {"email": {"label": "E", "future_field": "x", "oidc_mapping": {"mapping": "m", "future": 2}}}});
        assert_eq!(
            UserAttributeProfile::unrecognized(&remote),
            [
                "user_id.future: 1",
                "user_id.oidc_mapping: \"upn\"",
                "user_id.strategy_overrides.future_strategy: {}",
                "user_id.strategy_overrides.okta.deep: true",
                "user_attributes.email.future_field: \"x\"",
                "user_attributes.email.oidc_mapping.future: 2"
            ]
        );
        // None of it is drift.
        let mut spec = minimal();
        spec["userAttributes"]["email"] = json!({"label": "E", "description": "D", "auth0Mapping": "email",
            "profileRequired": true, "oidcMapping": {"mapping": "m"}});
        spec["userId"] = json!({"strategyOverrides": {"okta": {"oidcMapping": "email"}}});
        let mut remote = remote;
        remote["name"] = json!("meta-name");
        remote["user_attributes"]["email"]["description"] = json!("D");
        remote["user_attributes"]["email"]["auth0_mapping"] = json!("email");
        remote["user_attributes"]["email"]["profile_required"] = json!(true);
        remote["user_id"]["saml_mapping"] = default_user_id()["saml_mapping"].clone();
        remote["user_id"]["scim_mapping"] = json!("externalId");
        assert_eq!(diff(&desired_of(spec), &UserAttributeProfile::normalize(&remote)), None);
    }

    #[test]
    fn a_valid_spec_passes() {
        assert!(profile(minimal()).validate().is_ok());
        let full = json!({"name": "é".repeat(128), "externalID": ID,
            "userId": {"oidcMapping": "sub", "samlMapping": ["a", "b", "c"], "scimMapping": "s".repeat(128),
                       "strategyOverrides": {"waad": {"oidcMapping": "oid", "samlMapping": ["x".repeat(128)], "scimMapping": "s"}}},
            "userAttributes": {"n".repeat(50): {"label": "l".repeat(128), "description": "d".repeat(128),
                "auth0Mapping": "a".repeat(50), "profileRequired": false,
                "oidcMapping": {"mapping": "m".repeat(50), "displayName": "d".repeat(50)},
                "samlMapping": ["a"], "scimMapping": "s",
                "strategyOverrides": {"okta": {"oidcMapping": {"mapping": "m"}, "samlMapping": ["a", "b", "c"], "scimMapping": "s"}}}}});
        assert_eq!(fields(full), Vec::<String>::new());
    }

    #[test]
    fn the_common_fields_are_checked_with_the_kinds_limits() {
        assert_eq!(
            fields(json!({"name": "", "userAttributes": {"email": email()}})),
            ["spec.name"]
        );
        assert_eq!(
            fields(json!({"name": "n".repeat(129), "userAttributes": {"email": email()}})),
            ["spec.name"]
        );
        let mut long = profile(minimal());
        long.metadata.name = Some("m".repeat(129));
        let invalid = long.validate().expect_err("too long");
        assert_eq!(invalid.0[0].field, "spec");
        assert_eq!(invalid.0[0].message, rules::UAP_EFFECTIVE_NAME_MSG);
        long.metadata.name = Some("m".repeat(128));
        assert!(long.validate().is_ok());
        long.metadata.name = None;
        assert_eq!(long.validate().expect_err("no name").0[0].field, "spec.name");
        let bad_id = json!({"externalID": "cop_1css47cCzXvXLC4pJ8KBaa", "userAttributes": {"email": email()}});
        let invalid = profile(bad_id).validate().expect_err("another kind's id");
        assert_eq!(
            (invalid.0[0].field.as_str(), invalid.0[0].message.as_str()),
            ("spec.externalID", rules::UAP_ID_MSG)
        );
        let tenant = |name: String| json!({"tenantRef": {"name": name}, "userAttributes": {"email": email()}});
        assert_eq!(fields(tenant(String::new())), ["spec.tenantRef.name"]);
        assert_eq!(fields(tenant("t".repeat(254))), ["spec.tenantRef.name"]);
        assert!(fields(tenant("t".repeat(253))).is_empty());
    }

    #[test]
    fn the_attributes_are_one_to_sixty_four_named_in_one_to_fifty_characters() {
        assert_eq!(fields(json!({"userAttributes": {}})), ["spec.userAttributes"]);
        let many = |n: usize| {
            let attributes: Map<String, Value> = (0..n).map(|i| (format!("a{i}"), email())).collect();
            json!({"userAttributes": attributes})
        };
        assert!(fields(many(64)).is_empty());
        let invalid = profile(many(65)).validate().expect_err("65");
        assert_eq!(invalid.0[0].message, "must hold 1 to 64 attributes, not 65");
        for (name, ok) in [(String::new(), false), ("n".repeat(50), true), ("é".repeat(51), false)] {
            let spec = json!({"userAttributes": {name.clone(): email()}});
            assert_eq!(fields(spec).is_empty(), ok, "{name}");
        }
        let invalid = profile(json!({"userAttributes": {"": email()}}))
            .validate()
            .expect_err("empty name");
        assert!(
            invalid.0[0].message.starts_with(rules::UAP_ATTRIBUTE_NAMES_MSG),
            "{invalid}"
        );
    }

    #[test]
    fn each_attribute_rule_names_its_path() {
        let bad = with_email(|e| {
            e["label"] = json!("");
            e["description"] = json!("d".repeat(129));
            e["auth0Mapping"] = json!("a".repeat(51));
            e["oidcMapping"] = json!({"mapping": "", "displayName": "d".repeat(51)});
            e["samlMapping"] = json!(["a", "b", "c", ""]);
            e["scimMapping"] = json!("s".repeat(129));
            e["strategyOverrides"] = json!({"googleApps": {"oidcMapping": {"mapping": "m".repeat(51)}, "samlMapping": [], "scimMapping": ""}});
        });
        let mut bad = bad;
        bad["userId"] = json!({"samlMapping": ["x".repeat(129)], "scimMapping": "",
                               "strategyOverrides": {"okta": {"samlMapping": ["a", "b", "c", "d"], "scimMapping": "s".repeat(129)}}});
        assert_eq!(
            fields(bad),
            [
                "spec.userAttributes.email.auth0Mapping",
                "spec.userAttributes.email.description",
                "spec.userAttributes.email.label",
                "spec.userAttributes.email.oidcMapping.displayName",
                "spec.userAttributes.email.oidcMapping.mapping",
                "spec.userAttributes.email.samlMapping",
                "spec.userAttributes.email.samlMapping[3]",
                "spec.userAttributes.email.scimMapping",
                "spec.userAttributes.email.strategyOverrides.googleApps.oidcMapping.mapping",
                "spec.userAttributes.email.strategyOverrides.googleApps.samlMapping",
                "spec.userAttributes.email.strategyOverrides.googleApps.scimMapping",
                "spec.userId.samlMapping[0]",
                "spec.userId.scimMapping",
                "spec.userId.strategyOverrides.okta.samlMapping",
                "spec.userId.strategyOverrides.okta.scimMapping",
            ]
        );
        let invalid = profile(with_email(|e| e["samlMapping"] = json!(["a", "b", "c", "d"])))
            .validate()
            .expect_err("4");
        assert_eq!(invalid.0[0].message, "must hold 1 to 3 SAML attributes, not 4");
        let invalid = profile(with_email(|e| e["label"] = json!("")))
            .validate()
            .expect_err("empty");
        assert_eq!(invalid.0[0].message, "must be 1 to 128 characters long, not 0");
    }
}
