//! The `SelfServiceProfile` resource: one Auth0 self-service profile (what a customer's
//! administrator sees when setting up their own SSO connection), its fields in camelCase,
//! its Auth0 API (`/api/v2/self-service-profiles`), its body mapping, its reference to a
//! `UserAttributeProfile`, its custom text and its validation.
//!
//! Auth0's behaviour this mapping follows (emulator/research/user-attribute-and-self-service-
//! profiles.md, docs/emulator.md): unset `description`, `branding` and
//! `user_attribute_profile_id` are absent and `user_attributes` is `[]` (recorded); a PATCH
//! replaces each field it sends whole and `null` clears it (documented; recorded for
//! `user_attributes` and `user_attribute_profile_id`); names may repeat (recorded); at most 20
//! profiles a tenant (documented).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::{CustomResource, CustomResourceExt, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::kind::{Auth0Api, Common, Kind, Paging, Reference, Resolved, Status, SubDocument, Target};
use super::rules;
use super::tenant::TenantRef;
use super::user_attribute_profile::USER_ATTRIBUTE_PROFILES;
use super::validation::{CommonRules, FieldError, Invalid, common_errors, length_error};
use super::wire::{self, Shape};
use super::{DeletionPolicy, ManagementPolicy, PendingChange};
use crate::controller::desired::{from_wire, to_wire};

/// The desired Auth0 self-service profile, plus how the operator manages it.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[kube(
    group = "auth0.operators.dev",
    version = "v1alpha1",
    kind = "SelfServiceProfile",
    doc = "An Auth0 self-service profile managed by the auth0-operator.",
    plural = "selfserviceprofiles",
    namespaced,
    status = "SelfServiceProfileStatus",
    shortname = "ssprof",
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
    validation = Rule::new(rules::SSP_EFFECTIVE_NAME_CEL).message(rules::SSP_EFFECTIVE_NAME_MSG).field_path(".spec"),
    validation = Rule::new(rules::TENANT_REF_CEL).message(rules::SSP_TENANT_REF_MSG).field_path(".spec.tenantRef")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new(rules::EXTERNAL_ID_IMMUTABLE_CEL).message(rules::SSP_EXTERNAL_ID_IMMUTABLE_MSG).field_path(".externalID"),
    validation = Rule::new(rules::SSP_EXCLUSIVE_CEL).message(rules::SSP_EXCLUSIVE_MSG).field_path(".userAttributes")
)]
pub struct SelfServiceProfileSpec {
    /// The Auth0 profile name, 1 to 100 characters. Defaults to metadata.name. Auth0 lets
    /// several profiles share a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100))]
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

    /// Adopt an existing Auth0 profile by its id (ssp_ + 22 letters or digits). Once set it
    /// cannot change.
    #[serde(default, rename = "externalID", skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(rules::SSP_ID_CEL).message(rules::SSP_ID_MSG))]
    #[schemars(length(max = 26))]
    pub external_id: Option<String>,

    /// What the profile is for, 1 to 140 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 140))]
    pub description: Option<String>,

    /// The user attributes the customer's administrator maps, at most 20, in the order
    /// shown. Not with userAttributeProfileRef, which brings its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20))]
    pub user_attributes: Option<Vec<SelfServiceUserAttribute>>,

    /// The connection strategies the customer's administrator may choose from, each at most
    /// once. Defaults to all ten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(min = 1, max = 10))]
    pub allowed_strategies: Option<Vec<SelfServiceStrategy>>,

    /// The logo and colour of the setup pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branding: Option<SelfServiceBranding>,

    /// The UserAttributeProfile whose attributes the profile uses (Auth0's
    /// user_attribute_profile_id, early access): name, a UserAttributeProfile in this
    /// namespace, whose Auth0 id the operator sends; or id, an Auth0 id sent as it is. Not
    /// with userAttributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_attribute_profile_ref: Option<UserAttributeProfileRef>,

    /// Texts of the setup pages, replacing Auth0's defaults (kept beside the profile in
    /// Auth0; the client needs the read: and update:self_service_profile_custom_texts
    /// scopes). Left out, the texts in Auth0 are left alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_text: Option<SelfServiceCustomText>,
}

/// One user attribute the customer's administrator maps.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SelfServiceUserAttribute {
    /// The attribute's name, 1 to 250 characters.
    #[schemars(length(min = 1, max = 250))]
    pub name: String,
    /// What the attribute holds, 1 to 250 characters.
    #[schemars(length(min = 1, max = 250))]
    pub description: String,
    /// Whether the administrator may leave the attribute unmapped (Auth0's is_optional).
    pub is_optional: bool,
}

/// A connection strategy a self-service profile may offer.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SelfServiceStrategy {
    #[serde(rename = "oidc")]
    Oidc,
    #[serde(rename = "samlp")]
    Samlp,
    #[serde(rename = "waad")]
    Waad,
    #[serde(rename = "google-apps")]
    GoogleApps,
    #[serde(rename = "adfs")]
    Adfs,
    #[serde(rename = "okta")]
    Okta,
    #[serde(rename = "auth0-samlp")]
    Auth0Samlp,
    #[serde(rename = "okta-samlp")]
    OktaSamlp,
    #[serde(rename = "keycloak-samlp")]
    KeycloakSamlp,
    #[serde(rename = "pingfederate")]
    Pingfederate,
}

impl SelfServiceStrategy {
    /// Every strategy (documented: Auth0's API reference and SDKs list these ten).
    pub const ALL: [SelfServiceStrategy; 10] = [
        SelfServiceStrategy::Oidc,
        SelfServiceStrategy::Samlp,
        SelfServiceStrategy::Waad,
        SelfServiceStrategy::GoogleApps,
        SelfServiceStrategy::Adfs,
        SelfServiceStrategy::Okta,
        SelfServiceStrategy::Auth0Samlp,
        SelfServiceStrategy::OktaSamlp,
        SelfServiceStrategy::KeycloakSamlp,
        SelfServiceStrategy::Pingfederate,
    ];
}

/// The logo and colours of the setup pages.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SelfServiceBranding {
    /// The logo's address: an https:// URL of at most 1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(rules::SSP_LOGO_URL_CEL).message(rules::SSP_LOGO_URL_MSG))]
    #[schemars(length(min = 1, max = 1024))]
    pub logo_url: Option<String>,
    /// The colours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colors: Option<SelfServiceColors>,
}

/// The colours of the setup pages.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
pub struct SelfServiceColors {
    /// The primary colour: # and 3 or 6 hex digits, such as #0059d6.
    #[x_kube(validation = Rule::new(rules::SSP_COLOR_CEL).message(rules::SSP_COLOR_MSG))]
    #[schemars(length(min = 1, max = 7))]
    pub primary: String,
}

/// A UserAttributeProfile, by resource name or by Auth0 id: exactly one of the two.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[x_kube(validation = Rule::new(rules::SSP_REF_ONE_OF_CEL).message(rules::SSP_REF_ONE_OF_MSG))]
pub struct UserAttributeProfileRef {
    /// A UserAttributeProfile in this namespace, by metadata.name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub name: Option<String>,
    /// An Auth0 user attribute profile id (uap_ + 22 letters or digits), sent as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(rules::UAP_ID_CEL).message(rules::UAP_ID_MSG))]
    #[schemars(length(max = 26))]
    pub id: Option<String>,
}

/// Texts of the setup pages, by language.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct SelfServiceCustomText {
    /// English, the only language Auth0 offers.
    pub en: SelfServiceCustomTextPages,
}

/// Texts of the setup pages in one language, by page.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SelfServiceCustomTextPages {
    /// The get-started page's texts by key (introduction: the opening text, which may hold
    /// basic HTML), each at most 2000 characters. {} restores Auth0's default texts. Replaced
    /// whole, as Auth0 replaces it (an atomic map: server-side apply of {} over texts works).
    #[schemars(extend("additionalProperties" = {"type": "string", "maxLength": 2000}, "x-kubernetes-map-type" = "atomic"))]
    pub get_started: BTreeMap<String, String>,
}

/// The profile as the operator last found it in Auth0, and the outcome of its last pass.
pub type SelfServiceProfileStatus = Status<SelfServiceProfileAtProvider>;

/// The self-service profile as Auth0 last reported it, in the resource's camelCase.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SelfServiceProfileAtProvider {
    /// The profile name in Auth0.
    #[serde(default)]
    pub name: String,
    /// The description in Auth0 (spec.description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The user attributes in Auth0 (spec.userAttributes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_attributes: Vec<SelfServiceUserAttribute>,
    /// The allowed strategies in Auth0 (spec.allowedStrategies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_strategies: Vec<SelfServiceStrategy>,
    /// The branding in Auth0 (spec.branding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branding: Option<SelfServiceBranding>,
    /// The id of the user attribute profile in Auth0 (spec.userAttributeProfileRef).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_attribute_profile_id: Option<String>,
}

impl SelfServiceProfile {
    /// The Auth0 profile name: `spec.name`, else `metadata.name`.
    pub fn effective_name(&self) -> &str {
        self.spec
            .name
            .as_deref()
            .or(self.metadata.name.as_deref())
            .unwrap_or_default()
    }
}

/// Auth0's self-service profiles API (`/api/v2/self-service-profiles`; documented). Ids are
/// `ssp_` + 22 letters or digits (recorded). Offset paging, `per_page` at most 100
/// (documented): a tenant's 20 profiles fit one page. Names may repeat (recorded), so a 409
/// on create is the documented quota of 20, never a name clash.
pub static SELF_SERVICE_PROFILES: Auth0Api = Auth0Api {
    kind: "SelfServiceProfile",
    path: "self-service-profiles",
    list_field: "self_service_profiles",
    id_prefix: "ssp_",
    paging: Paging::Offset,
    page_size: 100,
    noun: "self-service profile",
    scopes: [
        "read:self_service_profiles",
        "create:self_service_profiles",
        "update:self_service_profiles",
        "delete:self_service_profiles",
    ],
    // The custom text endpoints' (documented): read, and replace.
    document_scopes: &[
        "read:self_service_profile_custom_texts",
        "update:self_service_profile_custom_texts",
    ],
    quota: Some(20),
    unique_names: false,
    templates: None,
};

/// The writable fields, in wire spelling.
const WRITABLE: [&str; 6] = [
    "name",
    "description",
    "user_attributes",
    "allowed_strategies",
    "branding",
    "user_attribute_profile_id",
];

/// Lists whose order means nothing: compared and sent sorted.
const SETS: [&str; 1] = ["allowed_strategies"];

/// The wire field of the user attribute profile reference.
const REFERENCE_FIELD: &str = "user_attribute_profile_id";

/// Where the custom text lives under a profile, and its spec field.
pub const CUSTOM_TEXT_SUFFIX: &str = "custom-text/en/get-started";
const CUSTOM_TEXT_FIELD: &str = "spec.customText.en.getStarted";

/// The value of a field the spec leaves out, as Auth0 holds nothing: `None` for the fields
/// never empty (`name`; `allowed_strategies`, whose default is every strategy).
fn empty(field: &str) -> Option<Value> {
    match field {
        "description" | "branding" | REFERENCE_FIELD => Some(Value::Null),
        "user_attributes" => Some(json!([])),
        _ => None,
    }
}

/// Every strategy, sorted as a set: what the spec's absent `allowedStrategies` asks for
/// (documented: "If no parameters are selected, all are passed by default").
fn all_strategies() -> Value {
    wire::canonical("allowed_strategies", &json!(SelfServiceStrategy::ALL), &SETS)
}

/// The wire shape this version knows: the CRD's spec schema, writable fields only (the
/// reference is a plain id on the wire).
fn shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(|| {
        let crd = serde_json::to_value(SelfServiceProfile::crd()).unwrap_or_default();
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        match Shape::of(spec) {
            Shape::Object(mut keys) => {
                keys.retain(|k, _| WRITABLE.contains(&k.as_str()));
                keys.insert(REFERENCE_FIELD.into(), Shape::Scalar);
                Shape::Object(keys)
            }
            other => other,
        }
    })
}

/// One field of Auth0's copy, reduced to what this version knows, canonical.
fn known_field(field: &str, remote: &Value) -> Value {
    let value = remote.get(field).cloned().unwrap_or_default();
    let known = match shape().field(field) {
        Some(shape) => shape.known(&value),
        None => value,
    };
    wire::canonical(field, &known, &SETS)
}

/// What the reference asks for: `Some(id)`, `Some(null)` when the spec has none, `None`
/// while a named UserAttributeProfile is not resolved (then the field is neither set nor
/// cleared).
fn reference_value(reference: Option<&Reference>, resolved: &Resolved) -> Option<Value> {
    match reference.map(|r| (resolved.get(r.field), &r.target)) {
        None => Some(Value::Null),
        Some((Some(id), _)) => Some(json!(id)),
        Some((None, Target::Id(id))) => Some(json!(id)),
        Some((None, Target::Name(_))) => None,
    }
}

impl Kind for SelfServiceProfile {
    type AtProvider = SelfServiceProfileAtProvider;
    const AUTH0: &'static Auth0Api = &SELF_SERVICE_PROFILES;

    fn common(&self) -> Common<'_> {
        Common {
            name: self.effective_name(),
            tenant_ref: &self.spec.tenant_ref,
            deletion_policy: self.spec.deletion_policy,
            management_policy: self.spec.management_policy,
            external_id: self.spec.external_id.as_deref(),
        }
    }

    fn status(&self) -> Option<&SelfServiceProfileStatus> {
        self.status.as_ref()
    }

    fn blank(metadata: ObjectMeta, status: Option<SelfServiceProfileStatus>) -> Self {
        let mut profile = SelfServiceProfile::new("", SelfServiceProfileSpec::default());
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
                name_max: rules::SSP_NAME_MAX,
                effective_name_msg: rules::SSP_EFFECTIVE_NAME_MSG,
                api: &SELF_SERVICE_PROFILES,
                external_id_msg: rules::SSP_ID_MSG,
            },
        );
        let mut fail = |field: &str, message: &str| {
            errors.push(FieldError {
                field: field.into(),
                message: message.into(),
            })
        };
        if let Some(description) = &spec.description
            && let Some(e) = length_error("spec.description", description, 1, 140)
        {
            fail(&e.field, &e.message);
        }
        let attributes = spec.user_attributes.as_deref().unwrap_or_default();
        if attributes.len() > 20 {
            fail(
                "spec.userAttributes",
                &format!("must hold at most 20 attributes, not {}", attributes.len()),
            );
        }
        for (i, attribute) in attributes.iter().enumerate() {
            for (key, text) in [("name", &attribute.name), ("description", &attribute.description)] {
                if let Some(e) = length_error(&format!("spec.userAttributes[{i}].{key}"), text, 1, 250) {
                    fail(&e.field, &e.message);
                }
            }
        }
        if !attributes.is_empty() && spec.user_attribute_profile_ref.is_some() {
            fail("spec.userAttributes", rules::SSP_EXCLUSIVE_MSG);
        }
        if let Some(strategies) = &spec.allowed_strategies {
            if strategies.is_empty() {
                fail(
                    "spec.allowedStrategies",
                    "must name at least one strategy: leave the field out to allow them all",
                );
            }
            if strategies.iter().collect::<BTreeSet<_>>().len() < strategies.len() {
                fail(
                    "spec.allowedStrategies",
                    "lists a strategy twice: name each strategy at most once",
                );
            }
        }
        if let Some(branding) = &spec.branding {
            if let Some(url) = &branding.logo_url {
                if let Some(e) = length_error("spec.branding.logoUrl", url, 1, 1024) {
                    fail(&e.field, &e.message);
                }
                if !url.starts_with("https://") {
                    fail("spec.branding.logoUrl", rules::SSP_LOGO_URL_MSG);
                }
            }
            if let Some(colors) = &branding.colors
                && !is_hex_colour(&colors.primary)
            {
                fail("spec.branding.colors.primary", rules::SSP_COLOR_MSG);
            }
        }
        if let Some(reference) = &spec.user_attribute_profile_ref {
            let field = "spec.userAttributeProfileRef";
            if reference.name.is_some() == reference.id.is_some() {
                fail(field, rules::SSP_REF_ONE_OF_MSG);
            }
            if let Some(name) = &reference.name
                && let Some(e) = length_error(&format!("{field}.name"), name, 1, 253)
            {
                fail(&e.field, &e.message);
            }
            if let Some(id) = &reference.id
                && !USER_ATTRIBUTE_PROFILES.is_id(id)
            {
                fail(&format!("{field}.id"), rules::UAP_ID_MSG);
            }
        }
        if let Some(text) = &spec.custom_text {
            for (key, value) in &text.en.get_started {
                let count = value.chars().count();
                if count > 2000 {
                    fail(
                        &format!("{CUSTOM_TEXT_FIELD}.{key}"),
                        &format!("must be at most 2000 characters long, not {count}"),
                    );
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid(errors))
        }
    }

    fn references(&self) -> Vec<Reference> {
        let Some(reference) = &self.spec.user_attribute_profile_ref else {
            return Vec::new();
        };
        let target = match (&reference.name, &reference.id) {
            (Some(name), _) => Target::Name(name.clone()),
            (None, Some(id)) => Target::Id(id.clone()),
            (None, None) => return Vec::new(),
        };
        vec![Reference {
            field: REFERENCE_FIELD,
            spec_field: "spec.userAttributeProfileRef",
            kind: "UserAttributeProfile",
            target,
        }]
    }

    fn desired(&self, resolved: &Resolved) -> Map<String, Value> {
        let spec = &self.spec;
        let wire = json!({
            "name": self.effective_name(),
            "description": spec.description,
            "user_attributes": to_wire(&json!(spec.user_attributes)),
            "allowed_strategies": spec.allowed_strategies,
            "branding": to_wire(&json!(spec.branding)),
        });
        let mut desired = Self::normalize(&wire);
        desired.remove(REFERENCE_FIELD);
        if let Some(id) = reference_value(self.references().first(), resolved) {
            desired.insert(REFERENCE_FIELD.into(), id);
        }
        desired
    }

    /// The name and the allowed strategies (Auth0's default for them is not recorded: the
    /// guide says "all" but lists eight, a 2024 recording holds six), and every other field
    /// the spec sets.
    fn create_body(desired: &Map<String, Value>) -> Map<String, Value> {
        desired
            .iter()
            .filter(|(field, value)| empty(field).is_none_or(|e| **value != e))
            .map(|(field, value)| (field.clone(), value.clone()))
            .collect()
    }

    /// Each changed field whole (Auth0 replaces what a PATCH sends), with what Auth0 holds
    /// that this version does not know sent back; a field the spec dropped is cleared with
    /// `null` (documented for each of them; recorded for `user_attributes`, which becomes
    /// `[]`, and `user_attribute_profile_id`).
    fn patch_body(changed: &Map<String, Value>, remote: &Value) -> Map<String, Value> {
        changed
            .iter()
            .map(|(field, value)| {
                let sent = match (empty(field), remote.get(field), shape().field(field)) {
                    (Some(e), _, _) if *value == e => Value::Null,
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
                let value = match (*field, value) {
                    // (Absent, Auth0 stores every strategy; a remote never lacks them.)
                    ("allowed_strategies", Value::Null) => all_strategies(),
                    ("user_attributes", v) if !v.is_array() => json!([]),
                    ("name" | "description" | REFERENCE_FIELD, v) if !v.is_string() => Value::Null,
                    ("branding", v) if !v.is_object() || wire::is_empty(&v) => Value::Null,
                    (_, v) => v,
                };
                (field.to_string(), value)
            })
            .collect()
    }

    fn at_provider(remote: &Value) -> Option<SelfServiceProfileAtProvider> {
        let mut fields = Map::new();
        for field in WRITABLE {
            let value = known_field(field, remote);
            if !wire::is_empty(&value) {
                fields.insert(field.to_string(), value);
            }
        }
        serde_json::from_value(from_wire(&Value::Object(fields))).ok()
    }

    fn unrecognized(remote: &Value) -> Vec<String> {
        wire::unrecognized(shape(), &WRITABLE, remote)
    }

    fn spec_path(wire: &str) -> String {
        let segments: Vec<&str> = wire.split('.').collect();
        format!("spec.{}", path_under_spec(&segments))
    }

    fn field_changes(desired: &Map<String, Value>, remote: &Map<String, Value>) -> Vec<PendingChange> {
        wire::field_changes(desired, remote, &path_under_spec)
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// `user_attribute_profile_id`, early access in Auth0 (documented for the field alone):
    /// a tenant without it may refuse a body that carries it.
    fn guarded_fields(body: &Map<String, Value>) -> Vec<String> {
        body.keys().filter(|k| *k == REFERENCE_FIELD).cloned().collect()
    }

    fn sub_documents(&self) -> Vec<SubDocument> {
        self.spec
            .custom_text
            .iter()
            .map(|text| SubDocument {
                suffix: CUSTOM_TEXT_SUFFIX,
                spec_field: CUSTOM_TEXT_FIELD,
                desired: text.en.get_started.iter().map(|(k, v)| (k.clone(), json!(v))).collect(),
            })
            .collect()
    }
}

/// The path under `spec` of a wire path: the referenced id is
/// `userAttributeProfileRef`, the rest is camelCase (`branding.logoUrl`).
fn path_under_spec(segments: &[&str]) -> String {
    match segments {
        [REFERENCE_FIELD] => "userAttributeProfileRef".into(),
        _ => wire::camel_path(segments, &[]),
    }
}

/// `#` and 3 or 6 hex digits (documented pattern of `branding.colors.primary`).
fn is_hex_colour(text: &str) -> bool {
    text.strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::desired::diff;

    const ID: &str = "ssp_1css47cCzXvXLC4pJ8KBaa";
    const UAP: &str = "uap_1css47cCzXvXLC4pJ8KBaa";

    fn profile(spec: Value) -> SelfServiceProfile {
        serde_json::from_value(json!({
            "apiVersion": "auth0.operators.dev/v1alpha1", "kind": "SelfServiceProfile",
            "metadata": {"name": "meta-name", "namespace": "ns"}, "spec": spec
        }))
        .expect("a SelfServiceProfile")
    }

    fn desired_of(spec: Value) -> Map<String, Value> {
        profile(spec).desired(&Resolved::new())
    }

    fn resolved(id: &str) -> Resolved {
        Resolved::from([(REFERENCE_FIELD, id.to_string())])
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

    fn message(spec: Value) -> String {
        profile(spec).validate().expect_err("invalid").0[0].message.clone()
    }

    fn all_ten() -> Value {
        json!([
            "adfs",
            "auth0-samlp",
            "google-apps",
            "keycloak-samlp",
            "oidc",
            "okta",
            "okta-samlp",
            "pingfederate",
            "samlp",
            "waad"
        ])
    }

    /// A profile as Auth0 answers a create of `desired`'s body.
    fn stored(body: &Map<String, Value>) -> Value {
        let mut remote = Value::Object(body.clone());
        remote["id"] = json!(ID);
        remote["created_at"] = json!("2026-01-01T00:00:00.000Z");
        remote["updated_at"] = json!("2026-01-01T00:00:00.000Z");
        remote
            .as_object_mut()
            .expect("object")
            .entry("user_attributes")
            .or_insert(json!([]));
        remote
    }

    #[test]
    fn the_api_is_auth0s_self_service_profiles() {
        let api = SelfServiceProfile::AUTH0;
        assert_eq!(
            (api.path, api.list_field, api.id_prefix, api.noun),
            (
                "self-service-profiles",
                "self_service_profiles",
                "ssp_",
                "self-service profile"
            )
        );
        assert_eq!(
            (api.paging, api.page_size, api.quota, api.unique_names),
            (Paging::Offset, 100, Some(20), false)
        );
        assert_eq!(
            api.scopes,
            [
                "read:self_service_profiles",
                "create:self_service_profiles",
                "update:self_service_profiles",
                "delete:self_service_profiles"
            ]
        );
        assert!(api.is_id(ID));
        assert!(!api.is_id(UAP));
        assert!(!api.is_id("ssp_1css47cCzXvXLC4pJ8KBa"));
    }

    #[test]
    fn the_crd_names_the_kind_and_its_rules() {
        let crd = SelfServiceProfile::crd();
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some("selfserviceprofiles.auth0.operators.dev")
        );
        assert_eq!(crd.spec.names.short_names, Some(vec!["ssprof".to_string()]));
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
        assert_eq!(version.selectable_fields.as_ref().map(Vec::len), Some(2));
        assert!(rules::SSP_EFFECTIVE_NAME_CEL.ends_with(&format!("<= {}", rules::SSP_NAME_MAX)));
        let text = serde_json::to_string(&crd).expect("json");
        for rule in [
            rules::SSP_ID_CEL,
            rules::UAP_ID_CEL,
            rules::SSP_REF_ONE_OF_CEL,
            rules::SSP_EXCLUSIVE_CEL,
            rules::SSP_LOGO_URL_CEL,
            rules::SSP_COLOR_CEL,
            rules::SSP_EFFECTIVE_NAME_CEL,
        ] {
            assert!(text.contains(&serde_json::to_string(rule).expect("json")), "{rule}");
        }
        // The custom text's values are at most 2000 characters, as Auth0 documents.
        let schema = serde_json::to_value(&crd).expect("json");
        let text = &schema["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["customText"];
        assert_eq!(
            text["properties"]["en"]["properties"]["getStarted"]["additionalProperties"],
            json!({"type": "string", "maxLength": 2000})
        );
    }

    #[test]
    fn the_common_fields_and_a_blank_resource() {
        let mut p = profile(
            json!({"name": "Named", "tenantRef": {"kind": "Auth0Tenant", "name": "acme"},
            "deletionPolicy": "Orphan", "managementPolicy": "Observe", "externalID": ID}),
        );
        let common = p.common();
        assert_eq!(
            (common.name, common.tenant_ref.name.as_str(), common.external_id),
            ("Named", "acme", Some(ID))
        );
        assert_eq!(
            (common.deletion_policy, common.management_policy),
            (DeletionPolicy::Orphan, ManagementPolicy::Observe)
        );
        p.spec.name = None;
        assert_eq!(p.common().name, "meta-name");
        assert_eq!(Kind::status(&p), None);
        let status = SelfServiceProfileStatus {
            id: Some(ID.into()),
            ..Default::default()
        };
        let blank = SelfServiceProfile::blank(p.metadata.clone(), Some(status.clone()));
        assert_eq!((&blank.metadata, Kind::status(&blank)), (&p.metadata, Some(&status)));
        assert_eq!(blank.spec, SelfServiceProfileSpec::default());
    }

    #[test]
    fn a_bare_spec_is_created_with_its_name_and_every_strategy() {
        let want = desired_of(json!({}));
        assert_eq!(
            Value::Object(want.clone()),
            json!({"name": "meta-name", "description": null, "user_attributes": [], "allowed_strategies": all_ten(),
                   "branding": null, "user_attribute_profile_id": null})
        );
        assert_eq!(
            Value::Object(SelfServiceProfile::create_body(&want)),
            json!({"name": "meta-name", "allowed_strategies": all_ten()}),
            "Auth0's own default for the strategies is not recorded: they are said"
        );
        assert_eq!(diff(&want, &SelfServiceProfile::normalize(&stored(&want))), None);
        // Auth0 leaving the strategies out means every one (as a create without them stores).
        let bare = json!({"id": ID, "name": "meta-name", "user_attributes": []});
        assert_eq!(diff(&want, &SelfServiceProfile::normalize(&bare)), None);
    }

    #[test]
    fn a_full_spec_is_created_as_auth0_spells_it_and_its_answer_has_no_diff() {
        let spec = json!({"name": "Partners", "description": "For partners",
            "userAttributes": [{"name": "email", "description": "Email", "isOptional": false},
                               {"name": "dept", "description": "Department", "isOptional": true}],
            "allowedStrategies": ["samlp", "oidc"],
            "branding": {"logoUrl": "https://example.com/logo.png", "colors": {"primary": "#0059d6"}},
            "customText": {"en": {"getStarted": {"introduction": "Hello"}}}});
        let want = desired_of(spec);
        let body = SelfServiceProfile::create_body(&want);
        assert_eq!(
            Value::Object(body.clone()),
            json!({"name": "Partners", "description": "For partners",
                   "user_attributes": [{"name": "email", "description": "Email", "is_optional": false},
                                       {"name": "dept", "description": "Department", "is_optional": true}],
                   "allowed_strategies": ["oidc", "samlp"],
                   "branding": {"logo_url": "https://example.com/logo.png", "colors": {"primary": "#0059d6"}}})
        );
        let mut answer = stored(&body);
        answer["allowed_strategies"] = json!(["samlp", "oidc"]);
        assert_eq!(diff(&want, &SelfServiceProfile::normalize(&answer)), None);
        // The attributes are shown in order: another order is a change.
        answer["user_attributes"].as_array_mut().expect("list").reverse();
        let changed = diff(&want, &SelfServiceProfile::normalize(&answer)).expect("differs");
        assert_eq!(changed.keys().collect::<Vec<_>>(), ["user_attributes"]);
    }

    #[test]
    fn normalize_reads_what_auth0_leaves_out_as_nothing() {
        let nothing = json!({"name": null, "description": null, "user_attributes": [], "allowed_strategies": all_ten(),
                             "branding": null, "user_attribute_profile_id": null});
        for remote in [
            json!({}),
            json!({"name": 1, "description": 2, "user_attributes": null, "allowed_strategies": null, "branding": {}, "user_attribute_profile_id": 3}),
            json!({"user_attributes": {}, "branding": "x", "description": null}),
            json!({"branding": {"colors": {}, "future": null}}),
        ] {
            assert_eq!(
                Value::Object(SelfServiceProfile::normalize(&remote)),
                nothing,
                "{remote}"
            );
        }
        let held = SelfServiceProfile::normalize(&json!({"allowed_strategies": [], "user_attribute_profile_id": UAP,
            "description": "d", "branding": {"logo_url": "https://x"}}));
        assert_eq!(
            held["allowed_strategies"],
            json!([]),
            "no strategy is not every strategy"
        );
        assert_eq!(held["user_attribute_profile_id"], UAP);
        assert_eq!(held["description"], "d");
        assert_eq!(held["branding"], json!({"logo_url": "https://x"}));
    }

    #[test]
    fn a_field_the_spec_dropped_is_cleared_with_null_when_auth0_holds_one() {
        let want = desired_of(json!({"allowedStrategies": ["oidc"]}));
        let remote = json!({"id": ID, "name": "meta-name", "description": "old",
            "user_attributes": [{"name": "a", "description": "b", "is_optional": true}],
            "allowed_strategies": ["oidc"], "branding": {"logo_url": "https://x"}, "user_attribute_profile_id": UAP});
        let changed = diff(&want, &SelfServiceProfile::normalize(&remote)).expect("differs");
        assert_eq!(
            Value::Object(SelfServiceProfile::patch_body(&changed, &remote)),
            json!({"description": null, "user_attributes": null, "branding": null, "user_attribute_profile_id": null})
        );
        // Nothing held, nothing sent.
        let bare = json!({"id": ID, "name": "meta-name", "user_attributes": [], "allowed_strategies": ["oidc"]});
        assert_eq!(diff(&want, &SelfServiceProfile::normalize(&bare)), None);
    }

    #[test]
    fn a_patch_keeps_what_auth0_holds_that_this_version_does_not_know() {
        let spec = json!({"allowedStrategies": ["oidc"], "branding": {"logoUrl": "https://new"}, "description": "d"});
        let want = desired_of(spec);
        let remote = json!({"id": ID, "name": "meta-name", "description": "old", "user_attributes": [],
            "allowed_strategies": ["samlp", "future-strategy"],
            "branding": {"logo_url": "https://old", "colors": {"primary": "#fff", "page_background": "#000"}, "font": "x"}});
        let changed = diff(&want, &SelfServiceProfile::normalize(&remote)).expect("differs");
        assert_eq!(
            Value::Object(SelfServiceProfile::patch_body(&changed, &remote)),
            json!({"description": "d", "allowed_strategies": ["oidc", "future-strategy"],
                   "branding": {"logo_url": "https://new", "font": "x"}}),
            "the colours the spec dropped go, unknown parts and all; the unknown font stays"
        );
        assert_eq!(
            SelfServiceProfile::unrecognized(&remote),
            [
                "allowed_strategies: \"future-strategy\"",
                "branding.colors.page_background: \"#000\"",
                "branding.font: \"x\""
            ]
        );
        // What it does not know is never drift.
        let same = json!({"id": ID, "name": "meta-name", "description": "d", "allowed_strategies": ["oidc", "future-strategy"],
            "branding": {"logo_url": "https://new", "font": "x"}, "future_top_level": 1});
        assert_eq!(diff(&want, &SelfServiceProfile::normalize(&same)), None);
        assert!(SelfServiceProfile::unrecognized(&json!({"id": ID, "created_at": "t", "name": "n"})).is_empty());
    }

    #[test]
    fn the_reference_is_resolved_to_an_id_and_never_sent_unresolved() {
        let by_name = profile(json!({"userAttributeProfileRef": {"name": "employees"}}));
        assert_eq!(
            by_name.references(),
            [Reference {
                field: "user_attribute_profile_id",
                spec_field: "spec.userAttributeProfileRef",
                kind: "UserAttributeProfile",
                target: Target::Name("employees".into()),
            }]
        );
        let want = by_name.desired(&resolved(UAP));
        assert_eq!(want[REFERENCE_FIELD], UAP);
        assert_eq!(SelfServiceProfile::create_body(&want)[REFERENCE_FIELD], UAP);
        let unresolved = by_name.desired(&Resolved::new());
        assert!(!unresolved.contains_key(REFERENCE_FIELD), "neither set nor cleared");
        let remote = json!({"name": "meta-name", "user_attribute_profile_id": UAP});
        assert_eq!(diff(&unresolved, &SelfServiceProfile::normalize(&remote)), None);
        assert!(!SelfServiceProfile::create_body(&unresolved).contains_key(REFERENCE_FIELD));

        let by_id = profile(json!({"userAttributeProfileRef": {"id": UAP}}));
        assert_eq!(by_id.references()[0].target, Target::Id(UAP.into()));
        assert_eq!(
            by_id.desired(&Resolved::new())[REFERENCE_FIELD],
            UAP,
            "an id is sent as it is"
        );
        let other = "uap_0000000000000000000000";
        assert_eq!(
            by_id.desired(&resolved(other))[REFERENCE_FIELD],
            other,
            "what the engine resolved wins"
        );

        let none = profile(json!({}));
        assert!(none.references().is_empty());
        assert_eq!(none.desired(&resolved(UAP))[REFERENCE_FIELD], Value::Null);
        let empty_ref = profile(json!({"userAttributeProfileRef": {}}));
        assert!(empty_ref.references().is_empty());
        let both = profile(json!({"userAttributeProfileRef": {"name": "n", "id": UAP}}));
        assert_eq!(both.references()[0].target, Target::Name("n".into()));
    }

    #[test]
    fn the_reference_is_the_one_field_early_access_guards() {
        let want = profile(json!({"userAttributeProfileRef": {"id": UAP}})).desired(&Resolved::new());
        let body = SelfServiceProfile::create_body(&want);
        assert_eq!(SelfServiceProfile::guarded_fields(&body), ["user_attribute_profile_id"]);
        let body = SelfServiceProfile::create_body(&desired_of(json!({"description": "d"})));
        assert!(SelfServiceProfile::guarded_fields(&body).is_empty());
        assert_eq!(
            SelfServiceProfile::spec_path("user_attribute_profile_id"),
            "spec.userAttributeProfileRef"
        );
        assert_eq!(
            SelfServiceProfile::spec_path("branding.logo_url"),
            "spec.branding.logoUrl"
        );
        assert_eq!(
            SelfServiceProfile::spec_path("allowed_strategies"),
            "spec.allowedStrategies"
        );
    }

    #[test]
    fn pending_changes_name_spec_paths() {
        let want = profile(json!({"branding": {"logoUrl": "https://new"}, "userAttributeProfileRef": {"id": UAP}}))
            .desired(&Resolved::new());
        let remote =
            SelfServiceProfile::normalize(&json!({"name": "meta-name", "branding": {"logo_url": "https://old"}}));
        let changes = SelfServiceProfile::field_changes(&want, &remote);
        let seen: Vec<(&str, Option<&str>, Option<&str>)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.auth0.as_deref(), c.desired.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                ("branding.logoUrl", Some("\"https://old\""), Some("\"https://new\"")),
                ("userAttributeProfileRef", None, Some(&*format!("\"{UAP}\"")))
            ]
        );
    }

    #[test]
    fn the_custom_text_is_a_sub_document_when_set() {
        let set =
            profile(json!({"customText": {"en": {"getStarted": {"introduction": "Hi <b>there</b>", "other": ""}}}}));
        let documents = set.sub_documents();
        assert_eq!(
            documents,
            [SubDocument {
                suffix: "custom-text/en/get-started",
                spec_field: "spec.customText.en.getStarted",
                desired: Map::from_iter([
                    ("introduction".to_string(), json!("Hi <b>there</b>")),
                    ("other".to_string(), json!(""))
                ]),
            }]
        );
        let reset = profile(json!({"customText": {"en": {"getStarted": {}}}}));
        assert_eq!(
            reset.sub_documents()[0].desired,
            Map::new(),
            "{{}} restores Auth0's texts"
        );
        assert!(profile(json!({})).sub_documents().is_empty());
        assert!(
            !desired_of(json!({"customText": {"en": {"getStarted": {"introduction": "x"}}}}))
                .contains_key("custom_text")
        );
    }

    #[test]
    fn at_provider_reads_auth0s_copy_in_camel_case() {
        let remote = json!({"id": ID, "name": "n", "description": "d", "created_at": "t",
            "user_attributes": [{"name": "a", "description": "b", "is_optional": true, "future": 1}],
            "allowed_strategies": ["oidc", "future-strategy", "google-apps"],
            "branding": {"logo_url": "https://x", "colors": {"primary": "#fff", "page_background": "#000"}},
            "user_attribute_profile_id": UAP});
        let observed = SelfServiceProfile::at_provider(&remote).expect("parses");
        assert_eq!(
            (observed.name.as_str(), observed.description.as_deref()),
            ("n", Some("d"))
        );
        assert!(observed.user_attributes[0].is_optional);
        assert_eq!(
            observed.allowed_strategies,
            [SelfServiceStrategy::GoogleApps, SelfServiceStrategy::Oidc]
        );
        assert_eq!(
            observed.branding.and_then(|b| b.colors).map(|c| c.primary),
            Some("#fff".to_string())
        );
        assert_eq!(observed.user_attribute_profile_id.as_deref(), Some(UAP));
        let bare = SelfServiceProfile::at_provider(&json!({"name": "n", "user_attributes": [], "branding": {}}))
            .expect("parses");
        assert_eq!(
            (bare.user_attributes.len(), bare.branding, bare.description),
            (0, None, None)
        );
        assert_eq!(
            SelfServiceProfile::at_provider(&json!({"name": "n", "description": 5})),
            None
        );
    }

    #[test]
    fn a_valid_spec_passes() {
        let full = json!({"name": "é".repeat(100), "description": "d".repeat(140), "externalID": ID,
            "userAttributes": (0..20).map(|i| json!({"name": format!("{i}{}", "n".repeat(248)), "description": "d".repeat(250), "isOptional": true})).collect::<Vec<_>>(),
            "allowedStrategies": SelfServiceStrategy::ALL,
            "branding": {"logoUrl": format!("https://{}", "x".repeat(1016)), "colors": {"primary": "#ABCdef"}},
            "customText": {"en": {"getStarted": {"introduction": "é".repeat(2000)}}}});
        assert_eq!(fields(full), Vec::<String>::new());
        assert!(fields(json!({"userAttributeProfileRef": {"name": "n".repeat(253)}, "userAttributes": []})).is_empty());
        assert!(
            fields(json!({"userAttributeProfileRef": {"id": UAP}, "branding": {"colors": {"primary": "#fff"}}}))
                .is_empty()
        );
    }

    #[test]
    fn the_common_fields_are_checked_with_the_kinds_limits() {
        assert_eq!(fields(json!({"name": "n".repeat(101)})), ["spec.name"]);
        assert_eq!(
            message(json!({"name": "n".repeat(101)})),
            "must be at most 100 characters long"
        );
        let mut long = profile(json!({}));
        long.metadata.name = Some("m".repeat(101));
        let invalid = long.validate().expect_err("too long");
        assert_eq!(
            (invalid.0[0].field.as_str(), invalid.0[0].message.as_str()),
            ("spec", rules::SSP_EFFECTIVE_NAME_MSG)
        );
        long.metadata.name = Some("m".repeat(100));
        assert!(long.validate().is_ok());
        let invalid = profile(json!({"externalID": UAP}))
            .validate()
            .expect_err("another kind's id");
        assert_eq!(
            (invalid.0[0].field.as_str(), invalid.0[0].message.as_str()),
            ("spec.externalID", rules::SSP_ID_MSG)
        );
    }

    #[test]
    fn each_rule_names_its_path_and_what_to_fix() {
        let attribute = json!({"name": "", "description": "d".repeat(251), "isOptional": false});
        let bad = json!({"description": "", "userAttributes": vec![attribute; 21],
            "allowedStrategies": ["oidc", "oidc"], "branding": {"logoUrl": "http://x", "colors": {"primary": "#abcd"}},
            "customText": {"en": {"getStarted": {"introduction": "x".repeat(2001), "ok": "y"}}}});
        let found = fields(bad);
        for expected in [
            "spec.allowedStrategies",
            "spec.branding.colors.primary",
            "spec.branding.logoUrl",
            "spec.customText.en.getStarted.introduction",
            "spec.description",
            "spec.userAttributes",
            "spec.userAttributes[0].description",
            "spec.userAttributes[0].name",
            "spec.userAttributes[20].name",
        ] {
            assert!(found.iter().any(|f| f == expected), "{expected} in {found:?}");
        }
        assert_eq!(found.len(), 2 * 21 + 6, "{found:?}");
        assert_eq!(
            message(json!({"allowedStrategies": []})),
            "must name at least one strategy: leave the field out to allow them all"
        );
        assert_eq!(
            message(json!({"allowedStrategies": ["okta", "okta"]})),
            "lists a strategy twice: name each strategy at most once"
        );
        assert_eq!(
            message(json!({"branding": {"logoUrl": "http://x"}})),
            rules::SSP_LOGO_URL_MSG
        );
        assert_eq!(
            fields(json!({"branding": {"logoUrl": ""}})),
            ["spec.branding.logoUrl", "spec.branding.logoUrl"]
        );
        assert_eq!(
            fields(json!({"branding": {"logoUrl": format!("https://{}", "x".repeat(1017))}})),
            ["spec.branding.logoUrl"]
        );
        assert_eq!(
            message(json!({"branding": {"colors": {"primary": "fff"}}})),
            rules::SSP_COLOR_MSG
        );
        assert_eq!(
            message(json!({"customText": {"en": {"getStarted": {"introduction": "x".repeat(2001)}}}})),
            "must be at most 2000 characters long, not 2001"
        );
        assert_eq!(fields(json!({"description": "d".repeat(141)})), ["spec.description"]);
        assert_eq!(
            fields(json!({"userAttributes": [{"name": "n".repeat(250), "description": "", "isOptional": true}]})),
            ["spec.userAttributes[0].description"]
        );
    }

    #[test]
    fn attributes_and_a_user_attribute_profile_exclude_each_other() {
        let both = json!({"userAttributes": [{"name": "a", "description": "b", "isOptional": true}],
                          "userAttributeProfileRef": {"name": "employees"}});
        let invalid = profile(both).validate().expect_err("both");
        assert_eq!(
            (invalid.0[0].field.as_str(), invalid.0[0].message.as_str()),
            ("spec.userAttributes", rules::SSP_EXCLUSIVE_MSG)
        );
        assert!(fields(json!({"userAttributes": [{"name": "a", "description": "b", "isOptional": true}]})).is_empty());
    }

    #[test]
    fn the_reference_names_exactly_one_user_attribute_profile() {
        for reference in [json!({}), json!({"name": "n", "id": UAP})] {
            let invalid = profile(json!({"userAttributeProfileRef": reference}))
                .validate()
                .expect_err("not one");
            assert_eq!(
                (invalid.0[0].field.as_str(), invalid.0[0].message.as_str()),
                ("spec.userAttributeProfileRef", rules::SSP_REF_ONE_OF_MSG)
            );
        }
        let invalid = profile(json!({"userAttributeProfileRef": {"id": ID}}))
            .validate()
            .expect_err("an ssp id");
        assert_eq!(
            (invalid.0[0].field.as_str(), invalid.0[0].message.as_str()),
            ("spec.userAttributeProfileRef.id", rules::UAP_ID_MSG)
        );
        assert_eq!(
            fields(json!({"userAttributeProfileRef": {"name": ""}})),
            ["spec.userAttributeProfileRef.name"]
        );
        assert_eq!(
            fields(json!({"userAttributeProfileRef": {"name": "n".repeat(254)}})),
            ["spec.userAttributeProfileRef.name"]
        );
    }

    #[test]
    fn hex_colours() {
        for good in ["#fff", "#A0b1C2", "#000000"] {
            assert!(is_hex_colour(good), "{good}");
        }
        for bad in ["fff", "#ffff", "#ggg", "#12345", "#1234567", "", "#"] {
            assert!(!is_hex_colour(bad), "{bad}");
        }
    }
}
