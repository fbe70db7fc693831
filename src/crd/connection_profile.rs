//! The `ConnectionProfile` resource: one Auth0 connection profile, its fields in camelCase.
//!
//! The schema rules here and the pure checks in [`super::validation`] say the same thing; both
//! take their messages from [`super::rules`], so a user reads the same words whether the API
//! server or the operator refused the object.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kind::{Auth0Api, Common, Kind, Paging, Status};
use super::rules;
use super::tenant::TenantRef;
use super::validation::Invalid;

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
    // `kubectl get connectionprofiles --field-selector spec.tenantRef.name=acme` (Kubernetes
    // selectableFields, GA in 1.32): the API server filters lists and watches by tenant.
    selectable = ".spec.tenantRef.kind",
    selectable = ".spec.tenantRef.name",
    printcolumn(name = "ID", type_ = "string", json_path = ".status.id"),
    printcolumn(name = "READY", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "SYNCED", type_ = "string", json_path = r#".status.conditions[?(@.type=="Synced")].status"#),
    printcolumn(name = "PENDING", type_ = "integer", json_path = ".status.pendingChangeCount"),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "REASON", type_ = "string", priority = 1, json_path = r#".status.conditions[?(@.type=="Synced")].reason"#),
    printcolumn(name = "MESSAGE", type_ = "string", priority = 1, json_path = r#".status.conditions[?(@.type=="Synced")].message"#),
    validation = Rule::new(rules::EFFECTIVE_NAME_CEL).message(rules::EFFECTIVE_NAME_MSG).field_path(".spec"),
    validation = Rule::new(rules::TENANT_REF_CEL).message(rules::TENANT_REF_MSG).field_path(".spec.tenantRef")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new(rules::EXTERNAL_ID_IMMUTABLE_CEL).message(rules::EXTERNAL_ID_IMMUTABLE_MSG).field_path(".externalID")
)]
pub struct ConnectionProfileSpec {
    /// The Auth0 profile name, 1 to 50 characters. Defaults to metadata.name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50))]
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

    /// Adopt an existing Auth0 profile by its id (cop_ + 22 letters or digits). Once set it
    /// cannot change.
    #[serde(default, rename = "externalID", skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(rules::EXTERNAL_ID_CEL).message(rules::EXTERNAL_ID_MSG))]
    #[schemars(length(max = 26))]
    pub external_id: Option<String>,

    /// How connections created from the profile behave in organizations. Defaults to what
    /// Auth0 sets on a profile created without it: showAsButton none and
    /// assignMembershipOnLogin none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = {"showAsButton": "none", "assignMembershipOnLogin": "none"}))]
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
    /// Defaults to what Auth0 enables on a profile created without it: scim and
    /// universal_logout. An empty list enables none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = ["scim", "universal_logout"]))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(max = 3))]
    pub enabled_features: Option<Vec<Feature>>,

    /// Connection configuration; Auth0 accepts only the empty object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_config: Option<ConnectionConfig>,

    /// Overrides per connection strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_overrides: Option<StrategyOverrides>,

    /// How users are provisioned into connections created from the profile: the SCIM
    /// tokens' scopes and lifetimes (scim) and Google Workspace user sync
    /// (googleWorkspace).
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
    // Directory sync: since late 2026 (Auth0 Python SDK 6.8.0, enabled_features_enum.py).
    DirectorySync,
}

impl Feature {
    /// What Auth0 enables when a create leaves `enabled_features` out (recorded from real
    /// tenants, 2026: `["scim","universal_logout"]`).
    pub fn auth0_default() -> Option<Vec<Feature>> {
        Some(vec![Feature::Scim, Feature::UniversalLogout])
    }
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
    #[schemars(extend("default" = "none"))]
    pub show_as_button: Option<OrganizationSetting>,
    /// Make users members of the organization when they log in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "none"))]
    pub assign_membership_on_login: Option<OrganizationSetting>,
}

impl Organization {
    /// Auth0's answer to a create that leaves `organization` out (recorded from real
    /// tenants, 2026): `{"show_as_button":"none","assign_membership_on_login":"none"}`.
    pub fn auth0_default() -> Option<Organization> {
        Some(Organization {
            show_as_button: OrganizationSetting::auth0_default(),
            assign_membership_on_login: OrganizationSetting::auth0_default(),
        })
    }
}

impl OrganizationSetting {
    /// `none`, Auth0's default for both organization settings.
    pub fn auth0_default() -> Option<OrganizationSetting> {
        Some(OrganizationSetting::None)
    }
}

/// Auth0's `connection_config`: an object with no properties.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct ConnectionConfig {}

/// Overrides per connection strategy, keyed by Auth0's strategy name: the settings a
/// connection of that strategy gets instead of the profile's own.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct StrategyOverrides {
    /// PingFederate (Auth0 strategy `pingfederate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pingfederate: Option<StrategyOverride>,
    /// Active Directory / LDAP, through the AD/LDAP Connector (Auth0 strategy `ad`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad: Option<StrategyOverride>,
    /// Active Directory Federation Services (Auth0 strategy `adfs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adfs: Option<StrategyOverride>,
    /// Microsoft Entra ID, formerly Azure AD (Auth0 strategy `waad`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waad: Option<StrategyOverride>,
    /// Google Workspace (Auth0 strategy `google-apps`).
    #[serde(default, rename = "googleApps", skip_serializing_if = "Option::is_none")]
    pub google_apps: Option<StrategyOverride>,
    /// Okta Workforce (Auth0 strategy `okta`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub okta: Option<StrategyOverride>,
    /// Any OpenID Connect identity provider (Auth0 strategy `oidc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<StrategyOverride>,
    /// Any SAML identity provider (Auth0 strategy `samlp`).
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
    #[schemars(length(max = 3))]
    pub enabled_features: Option<Vec<Feature>>,
    /// Connection configuration for this strategy; Auth0 accepts only the empty object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_config: Option<ConnectionConfig>,
    /// Provisioning settings for this strategy (SCIM, Google Workspace), in place of the
    /// profile's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Provisioning>,
}

/// User provisioning: SCIM and Google Workspace.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Provisioning {
    /// SCIM provisioning: what the SCIM tokens of connections may do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim: Option<ScimProvisioning>,
    /// Google Workspace provisioning (Auth0's `google_workspace`). A tenant without this
    /// Auth0 feature refuses it: the resource then reports Synced=False FeatureNotEnabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_workspace: Option<GoogleWorkspaceProvisioning>,
}

/// Google Workspace provisioning settings.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct GoogleWorkspaceProvisioning {
    /// Whether users are synced from Google Workspace (Auth0's `sync_users`).
    pub sync_users: bool,
}

/// SCIM provisioning settings.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct ScimProvisioning {
    /// The scopes and lifetimes of SCIM tokens.
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
    /// Whether Cross App Access is on by default, and what a connection may choose.
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
    /// The status of a connection that does not choose: `enabled` or `disabled`.
    pub default_value: EnabledState,
    /// Empty, or exactly `enabled` and `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(max = 2))]
    pub allowed_values: Option<Vec<EnabledState>>,
}

/// The profile as the operator last found it in Auth0, and the outcome of its last pass
/// (`kind.rs`'s [`Status`], the same for every kind).
pub type ConnectionProfileStatus = Status<AtProvider>;

/// One field `Manage` would change: its path under `spec` (`organization.showAsButton`),
/// and Auth0's and the desired value as compact JSON (left out when unset).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PendingChange {
    /// The field, as a spec path (spec.organization.showAsButton).
    pub field: String,
    /// Auth0's value, as JSON text; absent when Auth0 holds none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth0: Option<String>,
    /// The value the spec asks for, as JSON text; absent when the spec clears the field.
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
    /// The profile name in Auth0.
    pub name: String,
    /// Organization behaviour in Auth0 (spec.organization).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
    /// The connection name prefix in Auth0 (spec.connectionNamePrefixTemplate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_name_prefix_template: Option<String>,
    /// The enabled features in Auth0 (spec.enabledFeatures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_features: Option<Vec<Feature>>,
    /// The connection configuration in Auth0 (spec.connectionConfig).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_config: Option<ConnectionConfig>,
    /// The strategy overrides in Auth0 (spec.strategyOverrides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_overrides: Option<StrategyOverrides>,
    /// The provisioning settings in Auth0 (spec.provisioning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Provisioning>,
    /// Cross App Access settings in Auth0 (spec.crossAppAccessResourceApp).
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

/// Auth0's connection profiles API (`/api/v2/connection-profiles`; documented, ids and
/// paging recorded from real tenants, 2026).
pub static CONNECTION_PROFILES: Auth0Api = Auth0Api {
    kind: "ConnectionProfile",
    path: "connection-profiles",
    list_field: "connection_profiles",
    id_prefix: "cop_",
    paging: Paging::Checkpoint,
    page_size: 10,
    noun: "connection profile",
    scopes: [
        "read:connection_profiles",
        "create:connection_profiles",
        "update:connection_profiles",
        "delete:connection_profiles",
    ],
    document_scopes: &[],
    quota: None,
    unique_names: true,
    templates: Some("connection_profile_templates"),
};

impl Kind for ConnectionProfile {
    type AtProvider = AtProvider;
    const AUTH0: &'static Auth0Api = &CONNECTION_PROFILES;

    fn common(&self) -> Common<'_> {
        Common {
            name: self.effective_name(),
            tenant_ref: &self.spec.tenant_ref,
            deletion_policy: self.spec.deletion_policy,
            management_policy: self.spec.management_policy,
            external_id: self.spec.external_id.as_deref(),
        }
    }

    fn status(&self) -> Option<&ConnectionProfileStatus> {
        self.status.as_ref()
    }

    fn blank(metadata: ObjectMeta, status: Option<ConnectionProfileStatus>) -> Self {
        let mut profile = ConnectionProfile::new("", ConnectionProfileSpec::default());
        profile.metadata = metadata;
        profile.status = status;
        profile
    }

    fn validate(&self) -> Result<(), Invalid> {
        super::validation::validate(self)
    }

    fn desired(&self, _resolved: &super::kind::Resolved) -> serde_json::Map<String, serde_json::Value> {
        crate::controller::desired::desired(self)
    }

    fn create_body(desired: &serde_json::Map<String, serde_json::Value>) -> serde_json::Map<String, serde_json::Value> {
        crate::controller::desired::create_body(desired)
    }

    fn patch_body(
        changed: &serde_json::Map<String, serde_json::Value>,
        remote: &serde_json::Value,
    ) -> serde_json::Map<String, serde_json::Value> {
        crate::controller::desired::patch_body(changed, remote)
    }

    fn normalize(remote: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        crate::controller::desired::normalize(remote)
    }

    fn at_provider(remote: &serde_json::Value) -> Option<AtProvider> {
        crate::controller::desired::at_provider(remote).ok()
    }

    fn unrecognized(remote: &serde_json::Value) -> Vec<String> {
        crate::controller::desired::unrecognized(remote)
    }

    fn spec_path(wire: &str) -> String {
        crate::controller::desired::spec_path(wire)
    }

    fn guarded_fields(body: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
        crate::controller::desired::guarded_fields(body)
    }
}
