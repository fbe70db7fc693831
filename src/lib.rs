//! auth0-operator: manages Auth0 Connection Profiles as Kubernetes resources.
#![forbid(unsafe_code)]
#![deny(warnings)]
// kube's printcolumn(...) lists repeat `priority = 1`, which clippy takes for duplicates.
#![allow(clippy::duplicated_attributes)]

pub mod auth0;
pub mod cli;
pub mod config;
pub mod controller;
pub mod crd;
pub mod duration;
pub mod http;
pub mod kubeconfig;
pub mod leader_election;
pub mod metrics;
pub mod places;
pub mod startup;
pub mod telemetry;

use std::sync::Arc;

use futures::FutureExt;

/// Why the operator stopped: a message for the person who started it.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Connects to the cluster, checks the CRDs are installed, serves probes and metrics, and
/// runs the controllers (while holding the lease, with leader election) until SIGTERM or
/// Ctrl-C.
pub async fn run(args: config::RunArgs) -> Result<(), Failure> {
    let source = kubeconfig::load(args.kubeconfig.as_deref())?;
    let kube_config = kubeconfig::config(&source).await?;
    let server = kube_config.cluster_url.to_string();
    let client = kube::Client::try_from(kube_config)?;
    startup::check_crds(&client, &server).await?;
    let metrics = Arc::new(metrics::Metrics::new());
    let readiness = Arc::new(http::Readiness::default());
    let server = http::serve(args.http_address, metrics.clone(), readiness.clone())
        .await
        .map_err(|e| format!("serving on {}: {e}", args.http_address))?;
    let shutdown = shutdown_signal().shared();
    let settings = controller::Settings {
        namespace: args.namespace.clone(),
        tenant: controller::tenants::TenantOptions {
            operator_namespace: args.operator_namespace.clone(),
            allow_insecure_http: args.allow_insecure_http,
            timeout: args.auth0_timeout,
            secret_namespaces: args.secret_namespaces(),
            allowed_hosts: args.allowed_tenant_hosts(),
        },
        poll_interval: args.poll_interval,
        concurrency: args.concurrency,
        tenant_concurrency: args.tenant_concurrency,
    };
    tracing::info!(
        namespace = args.namespace.as_deref().unwrap_or("<all>"),
        secret_namespaces = args.secret_namespaces().map_or("<watched>".to_string(), |n| n.join(",")),
        allowed_tenant_hosts = %args.allowed_tenant_hosts(),
        poll_interval = ?args.poll_interval,
        leader_election = args.leader_election,
        "auth0-operator starting"
    );
    let controllers = {
        let (client, metrics, readiness, shutdown) =
            (client.clone(), metrics.clone(), readiness.clone(), shutdown.clone());
        let grace = args.shutdown_timeout;
        async move {
            let work = controller::run(client, settings, metrics, readiness, shutdown.clone());
            // In-flight passes may finish after the signal, within the grace period.
            let deadline = async move {
                shutdown.await;
                tokio::time::sleep(grace).await;
            };
            tokio::select! {
                () = work => {}
                () = deadline => tracing::warn!(?grace, "in-flight passes did not finish in time; stopping them"),
            }
        }
    };
    let result = if args.leader_election {
        leader_election::lead(client, &args, readiness, metrics.clone(), shutdown, controllers).await
    } else {
        metrics.leader.set(1);
        controllers.await;
        Ok(())
    };
    metrics.leader.set(0);
    server.abort();
    tracing::info!("auth0-operator stopped");
    result
}

/// SIGTERM or Ctrl-C.
fn shutdown_signal() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
        tracing::info!("shutting down");
    })
}
