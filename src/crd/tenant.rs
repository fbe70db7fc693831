//! `Auth0Tenant` (namespaced) and `ClusterAuth0Tenant` (cluster-scoped): where a tenant lives
//! and which Secret holds its Management API client credentials. The split follows
//! cert-manager's Issuer / ClusterIssuer.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The tenant a ConnectionProfile belongs to.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Hash)]
pub struct TenantRef {
    /// Auth0Tenant (same namespace) or ClusterAuth0Tenant.
    #[serde(default)]
    pub kind: TenantKind,
    /// The tenant resource's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

impl Default for TenantRef {
    /// ClusterAuth0Tenant/default: the tenant the platform team offers everyone.
    fn default() -> Self {
        Self {
            kind: TenantKind::ClusterAuth0Tenant,
            name: "default".into(),
        }
    }
}

/// `Kind/name` (`ClusterAuth0Tenant/default`, `Auth0Tenant/acme`): how messages name a
/// reference, and the value of the operator's `profile-tenant` annotation (an Auth0Tenant is
/// always in the resource's own namespace).
impl std::fmt::Display for TenantRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}/{}", self.kind, self.name)
    }
}

/// Which kind of tenant resource a reference names.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TenantKind {
    Auth0Tenant,
    #[default]
    ClusterAuth0Tenant,
}

/// An Auth0 tenant and the Secret holding its Management API client credentials, in this
/// namespace.
#[derive(CustomResource, Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[kube(
    group = "auth0.operators.dev",
    version = "v1alpha1",
    kind = "Auth0Tenant",
    doc = "An Auth0 tenant and the Secret in this namespace holding its Management API credentials.",
    namespaced,
    status = "TenantStatus",
    shortname = "a0t",
    category = "auth0",
    printcolumn(name = "DOMAIN", type_ = "string", json_path = ".spec.domain"),
    printcolumn(
        name = "READY",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#
    ),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(
        name = "REASON",
        type_ = "string",
        priority = 1,
        json_path = r#".status.conditions[?(@.type=="Ready")].reason"#
    ),
    printcolumn(
        name = "MESSAGE",
        type_ = "string",
        priority = 1,
        json_path = r#".status.conditions[?(@.type=="Ready")].message"#
    )
)]
#[serde(rename_all = "camelCase")]
pub struct Auth0TenantSpec {
    #[serde(flatten)]
    pub tenant: TenantSettings,
}

/// An Auth0 tenant that ConnectionProfiles in every namespace (or those its
/// `namespaceSelector` matches) may use; its Secret lives in the operator's namespace.
#[derive(CustomResource, Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[kube(
    group = "auth0.operators.dev",
    version = "v1alpha1",
    kind = "ClusterAuth0Tenant",
    doc = "An Auth0 tenant usable from every namespace; its Secret lives in the operator namespace.",
    status = "TenantStatus",
    shortname = "ca0t",
    category = "auth0",
    printcolumn(name = "DOMAIN", type_ = "string", json_path = ".spec.domain"),
    printcolumn(
        name = "READY",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#
    ),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(
        name = "REASON",
        type_ = "string",
        priority = 1,
        json_path = r#".status.conditions[?(@.type=="Ready")].reason"#
    ),
    printcolumn(
        name = "MESSAGE",
        type_ = "string",
        priority = 1,
        json_path = r#".status.conditions[?(@.type=="Ready")].message"#
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterAuth0TenantSpec {
    #[serde(flatten)]
    pub tenant: TenantSettings,
    /// The namespaces whose ConnectionProfiles may use this tenant, by their labels
    /// (matchLabels and matchExpressions, as in a NetworkPolicy). Absent: every namespace
    /// may. A profile in a namespace that does not match is refused before any Auth0 call
    /// (Synced=False NamespaceNotAllowed). An empty selector ({}) matches every namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
}

/// What both tenant kinds hold.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TenantSettings {
    /// The tenant's domain, e.g. acme.eu.auth0.com or a custom domain; reached over https.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
    )]
    pub domain: String,
    /// The Secret with the Management API client's id and secret.
    pub credentials_secret_ref: SecretKeysRef,
    /// The Management API audience; defaults to https://{domain}/api/v2/.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub audience: Option<String>,
    /// The operator's own request budget for this tenant, kept below the plan's limit.
    /// Defaults to 1.5 requests/s with a burst of 8, below Auth0's smallest paid plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Reach the Management API somewhere else than https://{domain}, e.g. through a
    /// proxy. Plain http is refused unless the operator runs with --allow-insecure-http.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
}

/// An explicit Management API endpoint.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// Base URL, e.g. https://auth0-proxy.internal:8443
    #[schemars(length(min = 1, max = 2048), regex(pattern = r"^https?://[^\s/]+(/.*)?$"))]
    pub url: String,
    /// PEM CA certificates that sign the endpoint's certificate, trusted besides the
    /// public roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
}

/// A Secret and the keys in it that hold the client credentials.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeysRef {
    /// The Secret's name. An Auth0Tenant's Secret is in the tenant's own namespace, a
    /// ClusterAuth0Tenant's in the operator's namespace; there is no namespace field.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// The key that holds the Management API application's client id. Default: client_id.
    #[serde(default = "default_client_id_key")]
    #[schemars(length(min = 1))]
    pub client_id_key: String,
    /// The key that holds the application's client secret. Default: client_secret.
    #[serde(default = "default_client_secret_key")]
    #[schemars(length(min = 1))]
    pub client_secret_key: String,
}

fn default_client_id_key() -> String {
    "client_id".into()
}

fn default_client_secret_key() -> String {
    "client_secret".into()
}

/// A client-side token bucket.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Sustained requests per second.
    #[schemars(range(min = 0.1, max = 1000.0))]
    pub requests_per_second: f64,
    /// Requests that may go at once after a quiet spell.
    #[schemars(range(min = 1, max = 1000))]
    pub burst: i32,
}

/// What the operator last found out about the tenant: the grant of its credentials, and
/// its conditions.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TenantStatus {
    /// The generation the conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Scopes the client's grant holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub granted_scopes: Vec<String>,
    /// Scopes the operator needs that the grant lacks: those of each kind with resources on
    /// this tenant (with custom text, a self-service profile's custom-text scopes too), or
    /// the connection-profile ones while no resource uses it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_scopes: Vec<String>,
    /// Ready (a token was obtained and every needed scope is granted) and Stalled (a
    /// person must act: refused credentials, missing scopes, a host not allowed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
}
