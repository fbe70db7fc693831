//! Where `export`, `plan` and `templates` get a tenant's client: a tenant resource of the
//! cluster and its Secret, read with the user's kubeconfig, or the environment.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use url::Url;

use crate::auth0::ratelimit::TokenBucket;
use crate::auth0::retry::{Backoff, Clock, SystemClock};
use crate::auth0::{Auth0Client, Secret as SecretString, TenantConfig};
use crate::controller::tenants::{rate_limit, tenant_config};
use crate::crd::{Auth0Tenant, ClusterAuth0Tenant, TenantSettings};

/// The environment variables read when `--from-cluster` is not given.
pub const DOMAIN_ENV: &str = "AUTH0_DOMAIN";
pub const CLIENT_ID_ENV: &str = "AUTH0_CLIENT_ID";
pub const CLIENT_SECRET_ENV: &str = "AUTH0_CLIENT_SECRET";
/// Sends requests here instead of `https://{AUTH0_DOMAIN}/` (plain http allowed): for tests
/// against the emulator and for proxies, never needed against Auth0.
pub const BASE_URL_ENV: &str = "AUTH0_BASE_URL";

/// Which credentials to use.
#[derive(Debug, Clone)]
pub struct Source {
    /// `ClusterAuth0Tenant/NAME` or `Auth0Tenant/NAMESPACE/NAME`; `None` for the environment.
    pub from_cluster: Option<String>,
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Where ClusterAuth0Tenant Secrets live (the operator's namespace).
    pub operator_namespace: String,
    /// Accept a tenant whose `spec.endpoint.url` is plain http (the emulator).
    pub allow_insecure_http: bool,
    /// Requests per second and burst, overriding the tenant's `spec.rateLimit`.
    pub rate_limit: Option<(f64, u32)>,
    pub timeout: std::time::Duration,
}

/// A client for the tenant `source` names, under the tenant's own rate limit (1.5 requests/s,
/// burst 8, as the operator, unless the tenant or `--requests-per-second` say otherwise).
/// Errors say what is missing; the client secret never appears in them.
pub async fn client(source: &Source) -> Result<Auth0Client, String> {
    let (config, settings, ca) = match &source.from_cluster {
        Some(reference) => from_cluster(source, reference).await?,
        None => from_env()?,
    };
    let (rate, burst) = source.rate_limit.unwrap_or_else(|| rate_limit(&settings));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let http = crate::auth0::client::http_client(ca.as_deref().map(str::as_bytes), source.timeout)?;
    let bucket = Arc::new(TokenBucket::new(rate, burst, clock.now()));
    Ok(Auth0Client::new(http, config, bucket, Backoff::default(), clock))
}

fn from_env() -> Result<(TenantConfig, TenantSettings, Option<String>), String> {
    let read = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| format!("{name} is not set: give --from-cluster KIND/NAME, or set {DOMAIN_ENV}, {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV}"))
    };
    let domain = read(DOMAIN_ENV)?;
    let client_id = read(CLIENT_ID_ENV)?;
    let client_secret = SecretString::new(read(CLIENT_SECRET_ENV)?);
    let settings: TenantSettings = serde_json::from_value(serde_json::json!({
        "domain": domain, "credentialsSecretRef": {"name": "environment"}
    }))
    .map_err(|e| e.to_string())?;
    let mut config = tenant_config(&settings, client_id, client_secret, false).map_err(|e| e.to_string())?;
    if let Ok(base) = std::env::var(BASE_URL_ENV)
        && !base.trim().is_empty()
    {
        let base = if base.ends_with('/') { base } else { format!("{base}/") };
        config.base_url = Url::parse(&base).map_err(|e| format!("{BASE_URL_ENV}: {e}"))?;
    }
    Ok((config, settings, None))
}

/// A client of the cluster `kubeconfig` (else KUBECONFIG, `~/.kube/config` or the Pod's
/// service account) names, and its context's namespace (kubectl's namespace).
pub async fn kube_client(kubeconfig: Option<&std::path::Path>) -> Result<(kube::Client, String), String> {
    let kube_config = match kubeconfig {
        Some(path) => {
            let kubeconfig =
                kube::config::Kubeconfig::read_from(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| e.to_string())?
        }
        None => kube::Config::infer().await.map_err(|e| e.to_string())?,
    };
    let namespace = kube_config.default_namespace.clone();
    let client = kube::Client::try_from(kube_config).map_err(|e| e.to_string())?;
    Ok((client, namespace))
}

/// A Kubernetes error in one line: the API server's own message (`clusterauth0tenants
/// "x" not found`), never the debug form of its Status.
pub fn kube_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string().lines().next().unwrap_or_default().to_string(),
    }
}

/// Whether the environment holds credentials (AUTH0_DOMAIN is set).
pub fn in_env() -> bool {
    std::env::var(DOMAIN_ENV).is_ok_and(|v| !v.trim().is_empty())
}

async fn from_cluster(
    source: &Source,
    reference: &str,
) -> Result<(TenantConfig, TenantSettings, Option<String>), String> {
    let client = kube_client(source.kubeconfig.as_deref()).await?.0;
    let (settings, secret_namespace) = tenant_object(&client, reference, &source.operator_namespace).await?;
    let secret_ref = &settings.credentials_secret_ref;
    let secret = Api::<Secret>::namespaced(client, &secret_namespace)
        .get(&secret_ref.name)
        .await
        .map_err(|e| {
            format!(
                "reading Secret {secret_namespace}/{}: {}",
                secret_ref.name,
                kube_message(&e)
            )
        })?;
    let read = |key: &str| {
        secret
            .data
            .as_ref()
            .and_then(|d| d.get(key))
            .map(|v| String::from_utf8_lossy(&v.0).trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("Secret {secret_namespace}/{} has no key {key}", secret_ref.name))
    };
    let client_id = read(&secret_ref.client_id_key)?;
    let client_secret = SecretString::new(read(&secret_ref.client_secret_key)?);
    let config = tenant_config(&settings, client_id, client_secret, source.allow_insecure_http)
        .map_err(|e| e.to_string().replace("start the operator with", "pass"))?;
    let ca = settings.endpoint.as_ref().and_then(|e| e.ca_bundle.clone());
    Ok((config, settings, ca))
}

/// The tenant object `reference` names (`ClusterAuth0Tenant/NAME`, `Auth0Tenant/NAMESPACE/NAME`):
/// its settings, and the namespace of its credentials Secret.
async fn tenant_object(
    client: &kube::Client,
    reference: &str,
    operator_namespace: &str,
) -> Result<(TenantSettings, String), String> {
    let parts: Vec<&str> = reference.split('/').collect();
    match parts.as_slice() {
        ["ClusterAuth0Tenant", name] => {
            let tenant = Api::<ClusterAuth0Tenant>::all(client.clone())
                .get(name)
                .await
                .map_err(|e| format!("reading ClusterAuth0Tenant/{name}: {}", kube_message(&e)))?;
            Ok((tenant.spec.tenant, operator_namespace.to_string()))
        }
        ["Auth0Tenant", namespace, name] => {
            let tenant = Api::<Auth0Tenant>::namespaced(client.clone(), namespace)
                .get(name)
                .await
                .map_err(|e| format!("reading Auth0Tenant/{namespace}/{name}: {}", kube_message(&e)))?;
            Ok((tenant.spec.tenant, namespace.to_string()))
        }
        _ => Err(format!(
            "--from-cluster {reference:?}: give ClusterAuth0Tenant/NAME or Auth0Tenant/NAMESPACE/NAME"
        )),
    }
}

/// The Auth0 tenant the operator reaches through the tenant object `reference` names
/// ([`crate::auth0::client::reached`]: its domain, and its endpoint when not the domain's
/// own), read from the object alone (not its Secret): what the operator compares a
/// resource's `profile-tenant` mark with, whatever credentials the command itself uses.
pub async fn reached_in(cluster: &kube::Client, reference: &str, operator_namespace: &str) -> Result<String, String> {
    let (settings, _) = tenant_object(cluster, reference, operator_namespace).await?;
    // Only the address is wanted: no credentials, and plain http allowed (the operator's
    // own flag decides whether it may call it, not what it would reach).
    let config = tenant_config(&settings, String::new(), SecretString::new(String::new()), true)
        .map_err(|e| format!("{reference}: {e}"))?;
    Ok(crate::auth0::client::reached(&config.domain, &config.base_url))
}
