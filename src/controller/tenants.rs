//! From a `tenantRef` to a ready Auth0 client: the tenant resource and its Secret come from
//! the watch caches (no API call), and one client per tenant is kept until the tenant or its
//! Secret changes, so a rotated secret is used at the next pass without a restart.
//!
//! Who may use which tenant is decided here, before any client exists: a ClusterAuth0Tenant's
//! `namespaceSelector` against the profile's namespace labels, `--allowed-tenant-hosts`
//! against the host the tenant points at, and `--secret-namespaces` against the namespace of
//! the tenant's Secret, which must carry the label [`CREDENTIALS_LABEL`]. A refused resource
//! makes no Auth0 call, on the sync path and the cleanup path alike, since both get their
//! client from here.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::ResourceExt;
use kube::core::{PartialObjectMeta, Selector, SelectorExt};
use kube::runtime::reflector::{ObjectRef, Store};
use url::Url;

use crate::auth0::client::Reach;
use crate::auth0::hosts::{AllowedHosts, host_and_port};
use crate::auth0::ratelimit::TokenBucket;
use crate::auth0::retry::{Backoff, Clock};
use crate::auth0::{Auth0Client, Secret as SecretString, TenantConfig};
use crate::crd::conditions::reason;
use crate::crd::{Auth0Tenant, ClusterAuth0Tenant, TenantKind, TenantRef, TenantSettings};
use crate::metrics::Metrics;

/// The label a Secret must carry, with the value [`CREDENTIALS_LABEL_VALUE`], for the
/// operator to read it: its Secret watch selects on it, so its cache holds credential
/// Secrets only, whatever else the cluster keeps (Helm release Secrets, TLS keys), and a
/// tenant cannot make it read a Secret nobody marked for it.
pub const CREDENTIALS_LABEL: &str = "auth0.operators.dev/credentials";
/// The value of [`CREDENTIALS_LABEL`].
pub const CREDENTIALS_LABEL_VALUE: &str = "true";

/// Why a tenant cannot be used. Messages name resources and keys, never values.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TenantError {
    #[error(
        "{kind:?} {}not found{}: create it, or correct spec.tenantRef (it can change while nothing exists in Auth0 for this resource: no status.id, no spec.externalID)",
        if namespace.is_empty() { format!("{name} ") } else { format!("{name} in namespace {namespace} ") },
        if namespace.is_empty() { String::new() } else {
            ": an Auth0Tenant serves the resources of its own namespace only; a ClusterAuth0Tenant (spec.tenantRef.kind: ClusterAuth0Tenant) serves every namespace its namespaceSelector admits".to_string()
        }
    )]
    TenantNotFound {
        kind: TenantKind,
        /// The Auth0Tenant's namespace (the resource's own); "" for a ClusterAuth0Tenant.
        namespace: String,
        name: String,
    },
    /// Missing from the operator's cache: absent, or present without the label (the cache
    /// holds labelled Secrets only, and the operator does not look further, so it never
    /// tells a tenant's author whether a Secret they may not read exists).
    #[error(
        "Secret {namespace}/{name} not found, or not labelled {label}={label_value} (the operator reads only Secrets with that label): create it with the keys {id_key} and {secret_key} and that label, or label it: kubectl label secret -n {namespace} {name} {label}={label_value}",
        label = CREDENTIALS_LABEL,
        label_value = CREDENTIALS_LABEL_VALUE
    )]
    SecretNotFound {
        namespace: String,
        name: String,
        id_key: String,
        secret_key: String,
    },
    #[error("Secret {namespace}/{name} has no key {key}")]
    KeyMissing {
        namespace: String,
        name: String,
        key: String,
    },
    #[error("the tenant's endpoint is unusable: {0}")]
    Endpoint(String),
    /// The host a tenant points at is not in `--allowed-tenant-hosts`.
    #[error(
        "{field} points at {host}, which is not one of the operator's allowed tenant hosts ({allowed}): use your tenant's Auth0 domain, or ask the operator's administrators to add the host to --allowed-tenant-hosts (docs/security.md)"
    )]
    HostNotAllowed {
        /// `spec.endpoint.url` or `spec.domain`.
        field: &'static str,
        /// `host[:port]`, never a path or user info.
        host: String,
        allowed: String,
    },
    #[error(
        "ClusterAuth0Tenant {tenant} may not be used from namespace {namespace}: its spec.namespaceSelector ({selector}) does not match the namespace's labels; label the namespace to match, or change the tenant's namespaceSelector"
    )]
    NamespaceNotAllowed {
        tenant: String,
        namespace: String,
        selector: String,
    },
    #[error("ClusterAuth0Tenant {tenant} has an unusable spec.namespaceSelector ({error}): fix the selector")]
    InvalidSelector { tenant: String, error: String },
    #[error(
        "the labels of namespace {0} are not known yet (the operator's Namespace watch has not synced; its ClusterRole needs get, list and watch on namespaces)"
    )]
    NamespaceUnknown(String),
    #[error(
        "Secret {namespace}/{name} is in a namespace where the operator may not read Secrets (it reads them only in {allowed}, set by --secret-namespaces): add {namespace} to the operator's secret namespaces and grant it there, or keep the Secret in one of them"
    )]
    SecretNamespaceNotAllowed {
        namespace: String,
        name: String,
        allowed: String,
    },
}

impl TenantError {
    /// The Synced reason and whether a person must act (Stalled). A refused namespace or an
    /// unreadable Secret namespace does not mend itself; a missing tenant or Secret may still
    /// be on its way (GitOps applies them in any order). A missing tenant has a reason of its
    /// own (`TenantNotFound`): the fix may be the resource's tenantRef, not credentials.
    pub fn reason(&self) -> (&'static str, bool) {
        match self {
            TenantError::NamespaceNotAllowed { .. } | TenantError::InvalidSelector { .. } => {
                (reason::NAMESPACE_NOT_ALLOWED, true)
            }
            TenantError::NamespaceUnknown(_) => (reason::RECONCILE_ERROR, false),
            TenantError::HostNotAllowed { .. } => (reason::HOST_NOT_ALLOWED, true),
            TenantError::SecretNamespaceNotAllowed { .. } => (reason::CREDENTIALS_UNAVAILABLE, true),
            TenantError::TenantNotFound { .. } => (reason::TENANT_NOT_FOUND, false),
            TenantError::SecretNotFound { .. } | TenantError::KeyMissing { .. } | TenantError::Endpoint(_) => {
                (reason::CREDENTIALS_UNAVAILABLE, false)
            }
        }
    }
}

/// Whether a namespace with `labels` may use a tenant with `selector` (pure). No selector
/// admits every namespace; so does an empty one, as everywhere in Kubernetes.
pub fn namespace_admitted(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> Result<bool, String> {
    let Some(selector) = selector else {
        return Ok(true);
    };
    let selector = Selector::try_from(selector.clone()).map_err(|e| e.0)?;
    Ok(selector.matches(labels))
}

/// A selector as people write it on the command line, for messages.
fn describe(selector: &LabelSelector) -> String {
    match Selector::try_from(selector.clone()) {
        Ok(s) if s.selects_all() => "{}".to_string(),
        Ok(s) => s.to_string(),
        Err(_) => format!("{selector:?}"),
    }
}

/// A tenant resource: kind, namespace ("" for a ClusterAuth0Tenant), name.
pub type TenantKey = (TenantKind, String, String);

/// Where the operator finds things and what it allows.
#[derive(Clone, Debug)]
pub struct TenantOptions {
    /// Where ClusterAuth0Tenant Secrets live.
    pub operator_namespace: String,
    /// Whether an endpoint may be plain http (tests, the local demo).
    pub allow_insecure_http: bool,
    /// Timeout of every Auth0 call.
    pub timeout: Duration,
    /// The namespaces besides `operator_namespace` whose Secrets the operator may read
    /// (`--secret-namespaces`); `None`: wherever its watch reaches.
    pub secret_namespaces: Option<Vec<String>>,
    /// The hosts a tenant may point at (`--allowed-tenant-hosts`).
    pub allowed_hosts: AllowedHosts,
}

impl TenantOptions {
    /// Whether a tenant's Secret may live in `namespace`.
    pub fn secret_namespace_allowed(&self, namespace: &str) -> bool {
        namespace == self.operator_namespace
            || self
                .secret_namespaces
                .as_ref()
                .is_none_or(|allowed| allowed.iter().any(|n| n == namespace))
    }

    /// Where a tenant's requests go: `spec.endpoint.url` when set, else `https://{domain}/`,
    /// with a trailing slash so that `Url::join` keeps a path prefix. Refused, before any
    /// connection, when its host is not allowed or, without `--allow-insecure-http`, when it
    /// is plain http. Pure.
    pub fn base_url(&self, settings: &TenantSettings) -> Result<Url, TenantError> {
        let (field, base) = match &settings.endpoint {
            Some(endpoint) => {
                let url =
                    Url::parse(&endpoint.url).map_err(|e| TenantError::Endpoint(format!("{}: {e}", endpoint.url)))?;
                ("spec.endpoint.url", url)
            }
            None => (
                "spec.domain",
                Url::parse(&format!("https://{}/", settings.domain))
                    .map_err(|e| TenantError::Endpoint(e.to_string()))?,
            ),
        };
        if !self.allowed_hosts.allows(&base) {
            return Err(TenantError::HostNotAllowed {
                field,
                host: host_and_port(&base),
                allowed: self.allowed_hosts.to_string(),
            });
        }
        if base.scheme() == "http" && !self.allow_insecure_http {
            return Err(TenantError::Endpoint(format!(
                "{} is plain http; use https, or start the operator with --allow-insecure-http (tests and demos only)",
                host_and_port(&base)
            )));
        }
        if base.scheme() != "http" && base.scheme() != "https" {
            return Err(TenantError::Endpoint(format!("{field} must be an http or https URL")));
        }
        if base.path().ends_with('/') {
            Ok(base)
        } else {
            Url::parse(&format!("{base}/")).map_err(|e| TenantError::Endpoint(e.to_string()))
        }
    }

    /// The namespaces whose Secrets are read, for messages.
    fn allowed_secret_namespaces(&self) -> String {
        let mut all = vec![self.operator_namespace.clone()];
        for ns in self.secret_namespaces.iter().flatten() {
            if !all.contains(ns) {
                all.push(ns.clone());
            }
        }
        all.join(", ")
    }
}

/// The namespaces' labels, from a metadata-only watch, and whether its first listing is in.
#[derive(Clone)]
pub struct Namespaces {
    pub store: Store<PartialObjectMeta<Namespace>>,
    pub synced: Arc<AtomicBool>,
}

impl Namespaces {
    pub fn new(store: Store<PartialObjectMeta<Namespace>>) -> Self {
        Namespaces {
            store,
            synced: Arc::new(AtomicBool::new(false)),
        }
    }

    fn labels(&self, namespace: &str) -> Option<BTreeMap<String, String>> {
        if !self.synced.load(Ordering::Acquire) {
            return None;
        }
        // A namespace missing from a synced cache has no labels the selector could match.
        Some(
            self.store
                .get(&ObjectRef::new(namespace))
                .and_then(|ns| ns.metadata.labels.clone())
                .unwrap_or_default(),
        )
    }
}

/// Tenants, their Secrets, and one client per tenant.
pub struct Tenants {
    pub options: TenantOptions,
    pub cluster_tenants: Store<ClusterAuth0Tenant>,
    pub tenants: Store<Auth0Tenant>,
    /// One cache per watched namespace (or one for all namespaces).
    pub secrets: Vec<Store<Secret>>,
    pub namespaces: Namespaces,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    /// One client per tenant resource, with the fingerprint of the settings it was made from.
    clients: Mutex<HashMap<TenantKey, (u64, Arc<Auth0Client>)>>,
    /// One bucket per tenant as reached ([`Reach`]), with the `spec.rateLimit` of each
    /// tenant object that uses it: the lowest governs.
    buckets: Mutex<HashMap<Reach, SharedBucket>>,
}

/// A rate bucket and the limits the tenant objects that share it ask for.
struct SharedBucket {
    bucket: Arc<TokenBucket>,
    limits: HashMap<TenantKey, (f64, u32)>,
}

impl Tenants {
    pub fn new(
        options: TenantOptions,
        cluster_tenants: Store<ClusterAuth0Tenant>,
        tenants: Store<Auth0Tenant>,
        secrets: Vec<Store<Secret>>,
        namespaces: Namespaces,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Tenants {
            options,
            cluster_tenants,
            tenants,
            secrets,
            namespaces,
            clock,
            metrics,
            clients: Mutex::default(),
            buckets: Mutex::default(),
        }
    }

    /// The tenant's settings and the namespace of its Secret.
    pub fn settings(&self, reference: &TenantRef, namespace: &str) -> Result<(TenantSettings, String), TenantError> {
        let not_found = || TenantError::TenantNotFound {
            kind: reference.kind,
            namespace: match reference.kind {
                TenantKind::Auth0Tenant => namespace.to_string(),
                TenantKind::ClusterAuth0Tenant => String::new(),
            },
            name: reference.name.clone(),
        };
        match reference.kind {
            TenantKind::ClusterAuth0Tenant => {
                let tenant = self
                    .cluster_tenants
                    .get(&ObjectRef::new(&reference.name))
                    .ok_or_else(not_found)?;
                Ok((tenant.spec.tenant.clone(), self.options.operator_namespace.clone()))
            }
            TenantKind::Auth0Tenant => {
                let tenant = self
                    .tenants
                    .get(&ObjectRef::new(&reference.name).within(namespace))
                    .ok_or_else(not_found)?;
                Ok((tenant.spec.tenant.clone(), namespace.to_string()))
            }
        }
    }

    /// The Auth0 tenant `reference` reaches ([`crate::auth0::client::reached`]), from its
    /// settings alone (no Secret is read): `None` when the tenant is missing or its endpoint
    /// is refused.
    pub fn reached(&self, reference: &TenantRef, namespace: &str) -> Option<String> {
        let (settings, _) = self.settings(reference, namespace).ok()?;
        let base_url = self.options.base_url(&settings).ok()?;
        Some(crate::auth0::client::reached(&settings.domain, &base_url))
    }

    /// Whether a resource in `namespace` may use the tenant `reference` names: a
    /// ClusterAuth0Tenant's namespaceSelector must match the namespace's labels. An
    /// Auth0Tenant serves its own namespace only, by construction.
    pub fn admit(&self, reference: &TenantRef, namespace: &str) -> Result<(), TenantError> {
        if reference.kind != TenantKind::ClusterAuth0Tenant {
            return Ok(());
        }
        let Some(tenant) = self.cluster_tenants.get(&ObjectRef::new(&reference.name)) else {
            return Ok(()); // settings() says it is missing
        };
        let Some(selector) = tenant.spec.namespace_selector.as_ref() else {
            return Ok(());
        };
        let labels = self
            .namespaces
            .labels(namespace)
            .ok_or_else(|| TenantError::NamespaceUnknown(namespace.to_string()))?;
        match namespace_admitted(Some(selector), &labels) {
            Ok(true) => Ok(()),
            Ok(false) => Err(TenantError::NamespaceNotAllowed {
                tenant: reference.name.clone(),
                namespace: namespace.to_string(),
                selector: describe(selector),
            }),
            Err(error) => Err(TenantError::InvalidSelector {
                tenant: reference.name.clone(),
                error,
            }),
        }
    }

    /// The tenant resource's `resourceVersion`, if it is in the cache: any change of the
    /// tenant (its spec, or the status the tenant controller writes when the granted scopes
    /// change) changes it.
    pub fn version(&self, reference: &TenantRef, namespace: &str) -> Option<String> {
        match reference.kind {
            TenantKind::ClusterAuth0Tenant => self
                .cluster_tenants
                .get(&ObjectRef::new(&reference.name))
                .and_then(|t| t.metadata.resource_version.clone()),
            TenantKind::Auth0Tenant => self
                .tenants
                .get(&ObjectRef::new(&reference.name).within(namespace))
                .and_then(|t| t.metadata.resource_version.clone()),
        }
    }

    /// A client for the tenant a ConnectionProfile in `namespace` names, once the tenant
    /// admits that namespace. Both the sync and the cleanup path come through here, so a
    /// refused namespace never gets the tenant's credentials used on its behalf.
    pub fn client(&self, reference: &TenantRef, namespace: &str) -> Result<Arc<Auth0Client>, TenantError> {
        self.admit(reference, namespace)?;
        self.tenant_client(reference, namespace)
    }

    /// The tenant's own client, for its status (scopes); `namespace` is the tenant's.
    pub fn tenant_client(&self, reference: &TenantRef, namespace: &str) -> Result<Arc<Auth0Client>, TenantError> {
        let (settings, secret_namespace) = self.settings(reference, namespace)?;
        // The host first: a refused host costs no Secret read, and its CA bundle is never
        // parsed nor trusted.
        let base_url = self.options.base_url(&settings)?;
        let config = self.config(&settings, &secret_namespace, base_url)?;
        let fingerprint = {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            (
                &config.domain,
                config.base_url.as_str(),
                &config.audience,
                &config.client_id,
                config.client_secret.expose(),
            )
                .hash(&mut hasher);
            settings
                .endpoint
                .as_ref()
                .and_then(|e| e.ca_bundle.as_ref())
                .hash(&mut hasher);
            hasher.finish()
        };
        let key = (
            reference.kind,
            if reference.kind == TenantKind::Auth0Tenant {
                namespace.to_string()
            } else {
                String::new()
            },
            reference.name.clone(),
        );
        // The limit as the tenant says now, at every resolution: a change governs from the
        // next request, without a new client (issue 25).
        let bucket = self.bucket(&key, &config.reach(), &settings);
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((known, client)) = clients.get(&key)
            && *known == fingerprint
        {
            return Ok(client.clone());
        }
        let ca = settings
            .endpoint
            .as_ref()
            .and_then(|e| e.ca_bundle.as_deref())
            .map(str::as_bytes);
        let http = crate::auth0::client::http_client(ca, self.options.timeout).map_err(TenantError::Endpoint)?;
        let client = Arc::new(
            Auth0Client::new(http, config, bucket, Backoff::default(), self.clock.clone())
                .with_metrics(self.metrics.clone()),
        );
        clients.insert(key, (fingerprint, client.clone()));
        Ok(client)
    }

    /// The bucket of the tenant as `key` reaches it now, shared by every tenant object with
    /// the same reach (and kept across a change of anything else), its limit set to the
    /// lowest `spec.rateLimit` among them: `key`'s as `settings` say now, and those of the
    /// others that still exist. Objects that reach elsewhere share nothing, so no namespace
    /// can slow another's requests by the limit it writes (issue 25).
    fn bucket(&self, key: &TenantKey, reach: &Reach, settings: &TenantSettings) -> Arc<TokenBucket> {
        let limit = rate_limit(settings);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        // This object reaches here now: its limit leaves every other bucket.
        for (other, shared) in buckets.iter_mut() {
            if other != reach {
                shared.limits.remove(key);
            }
        }
        let shared = buckets.entry(reach.clone()).or_insert_with(|| SharedBucket {
            bucket: Arc::new(TokenBucket::new(limit.0, limit.1, self.clock.now())),
            limits: HashMap::new(),
        });
        shared.limits.insert(key.clone(), limit);
        let (rate, burst) = shared
            .limits
            .iter()
            .filter(|(other, _)| *other == key || self.exists(other))
            .fold(limit, |(r, b), (_, (r2, b2))| (r.min(*r2), b.min(*b2)));
        shared.bucket.set_limit(self.clock.now(), rate, burst);
        let bucket = shared.bucket.clone();
        // What no tenant object reaches any more goes: the limits of objects deleted, and
        // the buckets left without one (a rotated secret, a re-pointed tenant).
        for shared in buckets.values_mut() {
            shared.limits.retain(|other, _| other == key || self.exists(other));
        }
        buckets.retain(|_, shared| !shared.limits.is_empty());
        bucket
    }

    /// How many rate buckets are kept (one per tenant as reached), for tests.
    pub fn buckets(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether the tenant object `key` names is in the cache.
    fn exists(&self, (kind, namespace, name): &TenantKey) -> bool {
        match kind {
            TenantKind::ClusterAuth0Tenant => self.cluster_tenants.get(&ObjectRef::new(name)).is_some(),
            TenantKind::Auth0Tenant => self.tenants.get(&ObjectRef::new(name).within(namespace)).is_some(),
        }
    }

    fn config(
        &self,
        settings: &TenantSettings,
        secret_namespace: &str,
        base_url: Url,
    ) -> Result<TenantConfig, TenantError> {
        let secret_ref = &settings.credentials_secret_ref;
        if !self.options.secret_namespace_allowed(secret_namespace) {
            return Err(TenantError::SecretNamespaceNotAllowed {
                namespace: secret_namespace.to_string(),
                name: secret_ref.name.clone(),
                allowed: self.options.allowed_secret_namespaces(),
            });
        }
        let key = ObjectRef::new(&secret_ref.name).within(secret_namespace);
        let secret = self
            .secrets
            .iter()
            .find_map(|store| store.get(&key))
            // The watch selects on the label; this holds should a cache ever be fed otherwise.
            .filter(|secret| {
                secret.labels().get(CREDENTIALS_LABEL).map(String::as_str) == Some(CREDENTIALS_LABEL_VALUE)
            })
            .ok_or_else(|| TenantError::SecretNotFound {
                namespace: secret_namespace.to_string(),
                name: secret_ref.name.clone(),
                id_key: secret_ref.client_id_key.clone(),
                secret_key: secret_ref.client_secret_key.clone(),
            })?;
        let read = |key: &str| {
            secret
                .data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|v| String::from_utf8_lossy(&v.0).trim().to_string())
                .or_else(|| secret.string_data.as_ref().and_then(|d| d.get(key)).cloned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| TenantError::KeyMissing {
                    namespace: secret_namespace.to_string(),
                    name: secret_ref.name.clone(),
                    key: key.to_string(),
                })
        };
        let client_id = read(&secret_ref.client_id_key)?;
        let client_secret = SecretString::new(read(&secret_ref.client_secret_key)?);
        Ok(config_at(settings, base_url, client_id, client_secret))
    }

    /// Which tenants use this Secret: (kind, namespace of the tenant or "", name).
    pub fn tenants_using(&self, secret_namespace: &str, secret_name: &str) -> Vec<(TenantKind, String, String)> {
        let mut found = Vec::new();
        if secret_namespace == self.options.operator_namespace {
            for tenant in self.cluster_tenants.state() {
                if tenant.spec.tenant.credentials_secret_ref.name == secret_name {
                    found.push((
                        TenantKind::ClusterAuth0Tenant,
                        String::new(),
                        tenant.metadata.name.clone().unwrap_or_default(),
                    ));
                }
            }
        }
        for tenant in self.tenants.state() {
            if tenant.metadata.namespace.as_deref() == Some(secret_namespace)
                && tenant.spec.tenant.credentials_secret_ref.name == secret_name
            {
                found.push((
                    TenantKind::Auth0Tenant,
                    secret_namespace.to_string(),
                    tenant.metadata.name.clone().unwrap_or_default(),
                ));
            }
        }
        found
    }
}

/// Where a tenant is and how to authenticate to it, from its settings and the two values of
/// its Secret: `https://{domain}/` unless `spec.endpoint.url` says otherwise (plain http only
/// with `allow_insecure_http`), the audience `https://{domain}/api/v2/` unless set. Shared by
/// the operator and the command-line tools (`export`, `plan`, `templates --from-cluster`).
pub fn tenant_config(
    settings: &TenantSettings,
    client_id: String,
    client_secret: SecretString,
    allow_insecure_http: bool,
) -> Result<TenantConfig, TenantError> {
    let base = match &settings.endpoint {
        Some(endpoint) => {
            let url = Url::parse(&endpoint.url).map_err(|e| TenantError::Endpoint(format!("{}: {e}", endpoint.url)))?;
            if url.scheme() == "http" && !allow_insecure_http {
                return Err(TenantError::Endpoint(format!(
                    "{} is plain http; use https, or start the operator with --allow-insecure-http (tests and demos only)",
                    endpoint.url
                )));
            }
            url
        }
        None => {
            Url::parse(&format!("https://{}/", settings.domain)).map_err(|e| TenantError::Endpoint(e.to_string()))?
        }
    };
    // Url::join needs a trailing slash to keep a path prefix.
    let base_url = if base.path().ends_with('/') {
        base
    } else {
        Url::parse(&format!("{base}/")).map_err(|e| TenantError::Endpoint(e.to_string()))?
    };
    Ok(config_at(settings, base_url, client_id, client_secret))
}

/// The client's settings for a tenant reached at `base_url`: the audience defaults to
/// `https://{domain}/api/v2/` (Auth0's Management API identifier).
fn config_at(settings: &TenantSettings, base_url: Url, client_id: String, client_secret: SecretString) -> TenantConfig {
    TenantConfig {
        domain: settings.domain.clone(),
        audience: settings
            .audience
            .clone()
            .unwrap_or_else(|| format!("https://{}/api/v2/", settings.domain)),
        base_url,
        client_id,
        client_secret,
    }
}

/// The tenant's rate limit: (requests per second, burst), 1.5 and 8 unless `spec.rateLimit` says
/// otherwise.
pub fn rate_limit(settings: &TenantSettings) -> (f64, u32) {
    settings.rate_limit.as_ref().map_or((1.5, 8), |l| {
        (l.requests_per_second, u32::try_from(l.burst).unwrap_or(1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn no_selector_or_an_empty_one_admits_every_namespace() {
        assert_eq!(namespace_admitted(None, &labels(&[])), Ok(true));
        assert_eq!(
            namespace_admitted(Some(&LabelSelector::default()), &labels(&[])),
            Ok(true)
        );
    }

    #[test]
    fn match_labels_and_expressions_both_hold() {
        let selector = LabelSelector {
            match_labels: Some(labels(&[("auth0.example/tenant", "acme")])),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "env".into(),
                operator: "In".into(),
                values: Some(vec!["prod".into(), "staging".into()]),
            }]),
        };
        let admitted = |pairs: &[(&str, &str)]| namespace_admitted(Some(&selector), &labels(pairs));
        assert_eq!(admitted(&[("auth0.example/tenant", "acme"), ("env", "prod")]), Ok(true));
        assert_eq!(admitted(&[("auth0.example/tenant", "acme"), ("env", "dev")]), Ok(false));
        assert_eq!(admitted(&[("env", "prod")]), Ok(false));
        assert_eq!(admitted(&[]), Ok(false));
        assert_eq!(describe(&selector), "auth0.example/tenant=acme,env in (prod,staging)");
    }

    #[test]
    fn a_bad_operator_is_an_error_not_a_match() {
        let selector = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "env".into(),
                operator: "Equals".into(),
                values: None,
            }]),
        };
        assert!(namespace_admitted(Some(&selector), &labels(&[("env", "x")])).is_err());
    }

    #[test]
    fn secret_namespaces_confine_where_secrets_are_read() {
        let options = |allowed: Option<Vec<String>>| TenantOptions {
            operator_namespace: "auth0-operator".into(),
            allow_insecure_http: false,
            timeout: Duration::from_secs(1),
            secret_namespaces: allowed,
            allowed_hosts: AllowedHosts::default(),
        };
        let everywhere = options(None);
        assert!(everywhere.secret_namespace_allowed("team-a"));
        let confined = options(Some(vec!["team-a".into()]));
        assert!(confined.secret_namespace_allowed("auth0-operator"));
        assert!(confined.secret_namespace_allowed("team-a"));
        assert!(!confined.secret_namespace_allowed("team-b"));
        assert_eq!(confined.allowed_secret_namespaces(), "auth0-operator, team-a");
    }

    #[test]
    fn refusals_stall_and_name_the_way_out() {
        let refused = TenantError::NamespaceNotAllowed {
            tenant: "shared".into(),
            namespace: "team-b".into(),
            selector: "team=a".into(),
        };
        assert_eq!(refused.reason(), (reason::NAMESPACE_NOT_ALLOWED, true));
        let message = refused.to_string();
        for needle in ["shared", "team-b", "team=a", "label the namespace", "namespaceSelector"] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
        let outside = TenantError::SecretNamespaceNotAllowed {
            namespace: "team-b".into(),
            name: "creds".into(),
            allowed: "auth0-operator, team-a".into(),
        };
        assert_eq!(outside.reason(), (reason::CREDENTIALS_UNAVAILABLE, true));
        assert!(outside.to_string().contains("--secret-namespaces"));
        assert_eq!(
            TenantError::NamespaceUnknown("x".into()).reason(),
            (reason::RECONCILE_ERROR, false)
        );
    }

    fn settings(domain: &str, endpoint: Option<&str>) -> TenantSettings {
        serde_json::from_value(serde_json::json!({
            "domain": domain,
            "credentialsSecretRef": {"name": "creds"},
            "endpoint": endpoint.map(|url| serde_json::json!({"url": url, "caBundle": "not even PEM"})),
        }))
        .expect("settings")
    }

    fn options(hosts: &[&str], insecure: bool) -> TenantOptions {
        TenantOptions {
            operator_namespace: "auth0-operator".into(),
            allow_insecure_http: insecure,
            timeout: Duration::from_secs(1),
            secret_namespaces: None,
            allowed_hosts: AllowedHosts::new(hosts.iter().map(|h| h.parse().expect("pattern")).collect()),
        }
    }

    #[test]
    fn a_host_outside_the_list_is_refused_and_stalls() {
        let defaults = TenantOptions {
            allowed_hosts: AllowedHosts::default(),
            ..options(&[], false)
        };
        assert_eq!(
            defaults
                .base_url(&settings("acme.eu.auth0.com", None))
                .map(|u| u.to_string()),
            Ok("https://acme.eu.auth0.com/".to_string())
        );
        // Through spec.domain alone, with a port, and through the endpoint (its CA bundle is
        // never looked at).
        let by_domain = defaults
            .base_url(&settings("db.internal:5432", None))
            .expect_err("refused");
        assert_eq!(by_domain.reason(), (reason::HOST_NOT_ALLOWED, true));
        let message = by_domain.to_string();
        for needle in [
            "spec.domain",
            "db.internal:5432",
            "*.auth0.com",
            "--allowed-tenant-hosts",
        ] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
        let by_endpoint = defaults
            .base_url(&settings(
                "acme.eu.auth0.com",
                Some("https://user:pw@10.0.0.7:8443/x?q=1"),
            ))
            .expect_err("refused");
        assert!(
            matches!(&by_endpoint, TenantError::HostNotAllowed { field: "spec.endpoint.url", host, .. } if host == "10.0.0.7:8443"),
            "{by_endpoint:?}"
        );
        assert!(!by_endpoint.to_string().contains("pw"), "{by_endpoint}");
        // With the endpoint set, its host is the one connected to, and the one checked.
        let proxied = options(&["auth0-proxy.internal"], false);
        assert_eq!(
            proxied
                .base_url(&settings(
                    "acme.eu.auth0.com",
                    Some("https://auth0-proxy.internal/acme")
                ))
                .map(|u| u.to_string()),
            Ok("https://auth0-proxy.internal/acme/".to_string())
        );
        assert!(matches!(
            proxied.base_url(&settings("acme.eu.auth0.com", None)),
            Err(TenantError::HostNotAllowed {
                field: "spec.domain",
                ..
            })
        ));
    }

    #[test]
    fn plain_http_needs_both_the_host_and_the_flag() {
        let emulator = settings("t.auth0.test", Some("http://127.0.0.1:4000"));
        assert!(options(&["127.0.0.1"], true).base_url(&emulator).is_ok());
        let refused = options(&["127.0.0.1"], false)
            .base_url(&emulator)
            .expect_err("plain http");
        assert!(refused.to_string().contains("--allow-insecure-http"), "{refused}");
        assert!(matches!(
            options(&["*.auth0.com"], true).base_url(&emulator),
            Err(TenantError::HostNotAllowed { .. })
        ));
    }

    #[test]
    fn a_missing_tenant_has_its_own_reason_and_names_both_fixes() {
        let namespaced = TenantError::TenantNotFound {
            kind: TenantKind::Auth0Tenant,
            namespace: "team-a".into(),
            name: "acme".into(),
        };
        // Not Stalled: the tenant may still be on its way (GitOps applies in any order).
        assert_eq!(namespaced.reason(), (reason::TENANT_NOT_FOUND, false));
        let message = namespaced.to_string();
        for needle in [
            "Auth0Tenant acme in namespace team-a not found",
            "an Auth0Tenant serves the resources of its own namespace only",
            "a ClusterAuth0Tenant (spec.tenantRef.kind: ClusterAuth0Tenant) serves every namespace",
            "create it",
            "correct spec.tenantRef",
            "while nothing exists in Auth0",
        ] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
        let cluster = TenantError::TenantNotFound {
            kind: TenantKind::ClusterAuth0Tenant,
            namespace: String::new(),
            name: "default".into(),
        };
        assert!(
            cluster
                .to_string()
                .starts_with("ClusterAuth0Tenant default not found: "),
            "{cluster}"
        );
    }

    #[test]
    fn a_missing_secret_says_to_add_the_label() {
        let missing = TenantError::SecretNotFound {
            namespace: "team-a".into(),
            name: "creds".into(),
            id_key: "client_id".into(),
            secret_key: "client_secret".into(),
        };
        assert_eq!(missing.reason(), (reason::CREDENTIALS_UNAVAILABLE, false));
        let message = missing.to_string();
        for needle in [
            "team-a/creds",
            "auth0.operators.dev/credentials=true",
            "kubectl label secret -n team-a creds auth0.operators.dev/credentials=true",
        ] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
    }
}
