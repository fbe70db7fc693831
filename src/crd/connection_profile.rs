//! The `ConnectionProfile` resource: one Auth0 connection profile, its fields in camelCase.
//!
//! The schema rules here and the pure checks in [`super::validation`] say the same thing; both
//! take their messages from [`super::rules`], so a user reads the same words whether the API
//! server or the operator refused the object.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rules;
use super::tenant::TenantRef;

/// The desired Auth0 connection profile, plus how the operator manages it.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[kube(
    group = "auth0.operators.dev",
    version = "v1alpha1",
    kind = "ConnectionProfile",
    doc = "An Auth0 connection profile managed by the auth0-operator.",
    plural = "connectionprofiles",
    namespaced,
    status = "ConnectionProfileStatus",
    shortname = "cprof",
    category = "auth0",
    printcolumn(name = "ID", type_ = "string", json_path = ".status.id"),
    printcolumn(name = "READY", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "SYNCED", type_ = "string", json_path = r#".status.conditions[?(@.type=="Synced")].status"#),
    printcolumn(name = "PENDING", type_ = "integer", json_path = ".status.pendingChangeCount"),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "REASON", type_ = "string", priority = 1, json_path = r#".status.conditions[?(@.type=="Synced")].reason"#),
    printcolumn(name = "MESSAGE", type_ = "string", priority = 1, json_path = r#".status.conditions[?(@.type=="Synced")].message"#),
    validation = Rule::new(rules::EFFECTIVE_NAME_CEL).message(rules::EFFECTIVE_NAME_MSG).field_path(".spec")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new(rules::TENANT_REF_IMMUTABLE_CEL).message(rules::TENANT_REF_IMMUTABLE_MSG).field_path(".tenantRef"),
    validation = Rule::new(rules::EXTERNAL_ID_IMMUTABLE_CEL).message(rules::EXTERNAL_ID_IMMUTABLE_MSG).field_path(".externalID")
)]
pub struct ConnectionProfileSpec {
    /// The Auth0 profile name, 1 to 50 characters. Defaults to metadata.name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50))]
    pub name: Option<String>,

    /// The tenant that holds the profile. Defaults to ClusterAuth0Tenant/default. Immutable.
    #[serde(default)]
    pub tenant_ref: TenantRef,

    /// Delete (default) removes the Auth0 profile with the resource; Orphan leaves it in Auth0.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// Manage (default) writes to Auth0; Observe only reads and reports the remote state.
    #[serde(default)]
    pub management_policy: ManagementPolicy,

    /// Adopt an existing Auth0 profile by its id (cop_ + 22 letters or digits). Once set it
    /// cannot change.
    #[serde(default, rename = "externalID", skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(rules::EXTERNAL_ID_CEL).message(rules::EXTERNAL_ID_MSG))]
    #[schemars(length(max = 26))]
    pub external_id: Option<String>,

    /// How connections created from the profile behave in organizations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,

    /// The prefix of connection names, at most 15 characters: letters, digits, '-' and the
    /// variables {org_id} and {org_name}; no leading '-' and no '--'. Example: con-{org_id}-
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 15))]
    #[x_kube(validation = Rule::new(rules::PREFIX_CHARS_CEL).message(rules::PREFIX_CHARS_MSG))]
    #[x_kube(validation = Rule::new(rules::PREFIX_LEADING_DASH_CEL).message(rules::PREFIX_LEADING_DASH_MSG))]
    #[x_kube(validation = Rule::new(rules::PREFIX_DOUBLE_DASH_CEL).message(rules::PREFIX_DOUBLE_DASH_MSG))]
    pub connection_name_prefix_template: Option<String>,

    /// Features that connections created from the profile may use; each at most once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(max = 2))]
    pub enabled_features: Option<Vec<Feature>>,

    /// Connection configuration; Auth0 accepts only the empty object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_config: Option<ConnectionConfig>,

    /// Overrides per connection strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_overrides: Option<StrategyOverrides>,

    /// SCIM provisioning settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Provisioning>,

    /// Cross App Access resource application settings (early access in Auth0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_app_access_resource_app: Option<CrossAppAccessResourceApp>,
}

/// What happens in Auth0 when the resource is deleted.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeletionPolicy {
    #[default]
    Delete,
    Orphan,
}

/// Whether the operator writes to Auth0 or only observes.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ManagementPolicy {
    #[default]
    Manage,
    Observe,
}

/// A feature a connection created from the profile may use.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    Scim,
    UniversalLogout,
}

/// `none`, `optional` or `required`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OrganizationSetting {
    None,
    Optional,
    Required,
}

/// Organization behaviour of connections created from the profile.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// Show the connection as a button on the organization's login page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_as_button: Option<OrganizationSetting>,
    /// Make users members of the organization when they log in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_membership_on_login: Option<OrganizationSetting>,
}

/// Auth0's `connection_config`: an object with no properties.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct ConnectionConfig {}

/// Overrides per connection strategy.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct StrategyOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pingfederate: Option<StrategyOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad: Option<StrategyOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adfs: Option<StrategyOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waad: Option<StrategyOverride>,
    /// Auth0's `google-apps`.
    #[serde(default, rename = "googleApps", skip_serializing_if = "Option::is_none")]
    pub google_apps: Option<StrategyOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub okta: Option<StrategyOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<StrategyOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samlp: Option<StrategyOverride>,
}

impl StrategyOverrides {
    /// Each override present, with its camelCase key.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &StrategyOverride)> {
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

/// The settings one strategy overrides.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct StrategyOverride {
    /// Features allowed for this strategy; each at most once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(max = 2))]
    pub enabled_features: Option<Vec<Feature>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_config: Option<ConnectionConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Provisioning>,
}

/// Provisioning settings.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct Provisioning {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim: Option<ScimProvisioning>,
}

/// SCIM provisioning settings.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct ScimProvisioning {
    pub tokens: ScimTokens,
}

/// What SCIM tokens issued for connections of this profile may do, and how long they live.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ScimTokens {
    /// Scopes a SCIM token may hold; each at most once.
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(max = 5))]
    pub scopes: Vec<ScimScope>,
    /// Default token lifetime in seconds; omitted means tokens never expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub default_expiry: Option<i64>,
    /// Longest lifetime in seconds a token may be given; omitted means no maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_allowed_expiry: Option<i64>,
}

/// A SCIM token scope.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScimScope {
    #[serde(rename = "get:users")]
    GetUsers,
    #[serde(rename = "post:users")]
    PostUsers,
    #[serde(rename = "patch:users")]
    PatchUsers,
    #[serde(rename = "delete:users")]
    DeleteUsers,
    #[serde(rename = "put:users")]
    PutUsers,
}

/// Cross App Access resource application settings.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct CrossAppAccessResourceApp {
    pub status: CrossAppAccessStatus,
}

/// `enabled` or `disabled`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "lowercase")]
pub enum EnabledState {
    Enabled,
    #[default]
    Disabled,
}

/// The default Cross App Access status and the values a connection may choose.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(rules::ALLOWED_VALUES_CEL).message(rules::ALLOWED_VALUES_MSG).field_path(".allowedValues"))]
pub struct CrossAppAccessStatus {
    pub default_value: EnabledState,
    /// Empty, or exactly `enabled` and `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(max = 2))]
    pub allowed_values: Option<Vec<EnabledState>>,
}

/// What the operator observed and did; never copied into spec.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionProfileStatus {
    /// The generation the conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The Auth0 profile id, written right after the create succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The Auth0 tenant domain that holds the profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The last observed remote state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_provider: Option<AtProvider>,
    /// The last value of the reconcile-requested-at annotation that was handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// Under `managementPolicy: Observe`: what `Manage` would change in Auth0, field by field
    /// (empty when the profile matches the spec). Not set under `Manage`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["field".into()]))]
    pub pending_changes: Vec<PendingChange>,
    /// How many `pendingChanges` there are (the PENDING column); set under Observe only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_change_count: Option<i64>,
    /// Ready, Synced, Reconciling and Stalled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
}

/// One field `Manage` would change: its path under `spec` (`organization.showAsButton`),
/// and Auth0's and the desired value as compact JSON (left out when unset).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PendingChange {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth0: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<String>,
}

impl From<crate::controller::desired::FieldChange> for PendingChange {
    fn from(change: crate::controller::desired::FieldChange) -> Self {
        let text = |v: serde_json::Value| (!v.is_null()).then(|| v.to_string());
        PendingChange {
            field: change.field,
            auth0: text(change.auth0),
            desired: text(change.desired),
        }
    }
}

/// The profile as Auth0 last reported it, in the resource's camelCase.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AtProvider {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_name_prefix_template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_features: Option<Vec<Feature>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_config: Option<ConnectionConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_overrides: Option<StrategyOverrides>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Provisioning>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_app_access_resource_app: Option<CrossAppAccessResourceApp>,
}

impl ConnectionProfile {
    /// The Auth0 profile name: `spec.name`, else `metadata.name`.
    pub fn effective_name(&self) -> &str {
        self.spec
            .name
            .as_deref()
            .or(self.metadata.name.as_deref())
            .unwrap_or_default()
    }
}
