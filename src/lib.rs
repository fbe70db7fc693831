//! auth0-operator: manages Auth0 Connection Profiles as Kubernetes resources.
#![forbid(unsafe_code)]
#![deny(warnings)]
// kube's printcolumn(...) lists repeat `priority = 1`, which clippy takes for duplicates.
#![allow(clippy::duplicated_attributes)]

pub mod auth0;
pub mod config;
pub mod controller;
pub mod crd;
pub mod telemetry;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// Connects to the cluster, checks the CRDs are installed, and runs the controllers until
/// a shutdown signal.
pub async fn run(args: config::RunArgs) -> Result<(), Box<dyn std::error::Error>> {
    let kube_config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?
        }
        None => kube::Config::infer().await?,
    };
    let client = kube::Client::try_from(kube_config)?;
    let crds: kube::Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        kube::Api::all(client.clone());
    for crd in crd::all() {
        let name = crd.metadata.name.unwrap_or_default();
        if let Err(e) = crds.get(&name).await {
            return Err(format!("CRD {name} is not installed ({e}): kubectl apply --server-side -f crds/").into());
        }
    }
    tracing::info!(namespace = args.namespace.as_deref().unwrap_or("<all>"), poll_interval = ?args.poll_interval, "auth0-operator starting");
    let settings = controller::Settings {
        namespace: args.namespace,
        tenant: controller::tenants::TenantOptions {
            operator_namespace: args.operator_namespace,
            allow_insecure_http: args.allow_insecure_http,
            timeout: args.auth0_timeout,
        },
        poll_interval: args.poll_interval,
        concurrency: args.concurrency,
    };
    controller::run(client, settings).await;
    tracing::info!("auth0-operator stopped");
    Ok(())
}
