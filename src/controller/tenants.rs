//! From a `tenantRef` to a ready Auth0 client: the tenant resource and its Secret come from
//! the watch caches (no API call), and one client per tenant is kept until the tenant or its
//! Secret changes, so a rotated secret is used at the next pass without a restart.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::{ObjectRef, Store};
use url::Url;

use crate::auth0::ratelimit::TokenBucket;
use crate::auth0::retry::{Backoff, Clock};
use crate::auth0::{Auth0Client, Secret as SecretString, TenantConfig};
use crate::crd::{Auth0Tenant, ClusterAuth0Tenant, TenantKind, TenantRef, TenantSettings};
use crate::metrics::Metrics;

/// The scopes the operator needs on the Management API.
pub const REQUIRED_SCOPES: [&str; 4] = [
    "read:connection_profiles",
    "create:connection_profiles",
    "update:connection_profiles",
    "delete:connection_profiles",
];

/// Why a tenant cannot be used. Messages name resources and keys, never values.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TenantError {
    #[error("{kind:?} {name} not found: create it, or point spec.tenantRef at an existing tenant")]
    TenantNotFound { kind: TenantKind, name: String },
    #[error("Secret {namespace}/{name} not found: create it with the keys {id_key} and {secret_key}")]
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
}

/// Tenants, their Secrets, and one client per tenant.
pub struct Tenants {
    pub options: TenantOptions,
    pub cluster_tenants: Store<ClusterAuth0Tenant>,
    pub tenants: Store<Auth0Tenant>,
    /// One cache per watched namespace (or one for all namespaces).
    pub secrets: Vec<Store<Secret>>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    /// One client per tenant resource, with the fingerprint of the settings it was made from.
    clients: Mutex<HashMap<TenantKey, (u64, Arc<Auth0Client>)>>,
    buckets: Mutex<HashMap<String, Arc<TokenBucket>>>,
}

impl Tenants {
    pub fn new(
        options: TenantOptions,
        cluster_tenants: Store<ClusterAuth0Tenant>,
        tenants: Store<Auth0Tenant>,
        secrets: Vec<Store<Secret>>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Tenants {
            options,
            cluster_tenants,
            tenants,
            secrets,
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

    /// A client for the tenant a resource in `namespace` names.
    pub fn client(&self, reference: &TenantRef, namespace: &str) -> Result<Arc<Auth0Client>, TenantError> {
        let (settings, secret_namespace) = self.settings(reference, namespace)?;
        let config = self.config(&settings, &secret_namespace)?;
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
        let bucket = self.bucket(&config.domain, &settings);
        let client = Arc::new(
            Auth0Client::new(http, config, bucket, Backoff::default(), self.clock.clone())
                .with_metrics(self.metrics.clone()),
        );
        clients.insert(key, (fingerprint, client.clone()));
        Ok(client)
    }

    /// One bucket per tenant domain, shared by every resource and kept across secret
    /// rotations, so two tenant resources naming the same domain share its budget.
    fn bucket(&self, domain: &str, settings: &TenantSettings) -> Arc<TokenBucket> {
        let (rate, burst) = settings.rate_limit.as_ref().map_or((1.5, 8), |l| {
            (l.requests_per_second, u32::try_from(l.burst).unwrap_or(1))
        });
        self.buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(domain.to_string())
            .or_insert_with(|| Arc::new(TokenBucket::new(rate, burst, self.clock.now())))
            .clone()
    }

    fn config(&self, settings: &TenantSettings, secret_namespace: &str) -> Result<TenantConfig, TenantError> {
        let secret_ref = &settings.credentials_secret_ref;
        let key = ObjectRef::new(&secret_ref.name).within(secret_namespace);
        let secret =
            self.secrets
                .iter()
                .find_map(|store| store.get(&key))
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
        let base = match &settings.endpoint {
            Some(endpoint) => {
                let url =
                    Url::parse(&endpoint.url).map_err(|e| TenantError::Endpoint(format!("{}: {e}", endpoint.url)))?;
                if url.scheme() == "http" && !self.options.allow_insecure_http {
                    return Err(TenantError::Endpoint(format!(
                        "{} is plain http; use https, or start the operator with --allow-insecure-http (tests and demos only)",
                        endpoint.url
                    )));
                }
                url
            }
            None => Url::parse(&format!("https://{}/", settings.domain))
                .map_err(|e| TenantError::Endpoint(e.to_string()))?,
        };
        // Url::join needs a trailing slash to keep a path prefix.
        let base_url = if base.path().ends_with('/') {
            base
        } else {
            Url::parse(&format!("{base}/")).map_err(|e| TenantError::Endpoint(e.to_string()))?
        };
        Ok(TenantConfig {
            domain: settings.domain.clone(),
            audience: settings
                .audience
                .clone()
                .unwrap_or_else(|| format!("https://{}/api/v2/", settings.domain)),
            base_url,
            client_id,
            client_secret,
        })
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
