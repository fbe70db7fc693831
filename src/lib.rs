//! auth0-operator: manages Auth0 Connection Profiles as Kubernetes resources.
#![forbid(unsafe_code)]
#![deny(warnings)]
// kube's printcolumn(...) lists repeat `priority = 1`, which clippy takes for duplicates.
#![allow(clippy::duplicated_attributes)]

pub mod auth0;
pub mod config;
pub mod controller;
pub mod crd;
pub mod http;
pub mod metrics;
pub mod telemetry;

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::WatchStreamExt;

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Connects to the cluster, checks the CRDs are installed, serves probes and metrics, and
/// runs the controllers (while holding the lease, with leader election) until SIGTERM or
/// Ctrl-C.
pub async fn run(args: config::RunArgs) -> Result<(), Failure> {
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
        lead(client, &args, readiness, shutdown, controllers).await
    } else {
        controllers.await;
        Ok(())
    };
    server.abort();
    tracing::info!("auth0-operator stopped");
    result
}

/// Waits for the lease, runs the controllers while holding it, and stops them at once when
/// it is lost. Leaving (on a signal) releases the lease so another replica takes over.
async fn lead(
    client: kube::Client,
    args: &config::RunArgs,
    readiness: Arc<http::Readiness>,
    shutdown: futures::future::Shared<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
    controllers: impl std::future::Future<Output = ()>,
) -> Result<(), Failure> {
    let identity = args.identity.clone().unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "auth0-operator".into());
        format!("{host}-{:08x}", fastrand::u32(..))
    });
    let build = || {
        kube_lease_manager::LeaseManagerBuilder::new(client.clone(), &args.lease_name)
            .with_namespace(&args.operator_namespace)
            .with_identity(&identity)
            .with_duration(args.lease_duration.as_secs())
            .with_grace((args.lease_duration.as_secs() / 3).max(1))
            .with_field_manager(controller::profile::MANAGER)
            .build()
    };
    let mut manager = build().await?;
    // kube-lease-manager checks a lease held by another replica only when that lease would
    // expire; watching the Lease lets a standby look again the moment it is released.
    let leases: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(client.clone(), &args.operator_namespace);
    let selector = format!("metadata.name={}", args.lease_name);
    let mut lease_changes = kube::runtime::watcher(leases, kube::runtime::watcher::Config::default().fields(&selector))
        .backoff(controller::WatchBackoff::default())
        .boxed();
    // The lease state is about to be known: a standby replica is ready to take over.
    readiness.set(true);
    tracing::info!(%identity, lease = %args.lease_name, "waiting for the lease");
    loop {
        tokio::select! {
            held = manager.changed() => if held? { break },
            event = lease_changes.next() => {
                // A fresh manager reads the Lease anew (the running one trusts its cache until
                // the lease would expire), so a released lease is taken at once.
                let released = matches!(&event, Some(Ok(kube::runtime::watcher::Event::Apply(lease)))
                    if lease.spec.as_ref().and_then(|s| s.holder_identity.as_deref()).is_none_or(str::is_empty));
                if released {
                    manager = build().await?;
                }
            }
            () = shutdown.clone() => return Ok(()),
        }
    }
    drop(lease_changes);
    tracing::info!(%identity, "holding the lease: reconciling");
    readiness.set(false); // until this replica's caches are synced
    let lost = async {
        loop {
            match manager.changed().await {
                Ok(true) => continue,
                Ok(false) => return "lost the lease".to_string(),
                Err(e) => return format!("could not renew the lease: {e}"),
            }
        }
    };
    let outcome = tokio::select! {
        () = controllers => Ok(()),
        why = lost => Err(format!("{why}: stopped reconciling").into()),
    };
    // Hand over at once rather than let the lease expire.
    match tokio::time::timeout(Duration::from_secs(5), manager.release()).await {
        Ok(Ok(())) => tracing::info!("released the lease"),
        Ok(Err(e)) => tracing::warn!(error = %e, "releasing the lease failed"),
        Err(_) => tracing::warn!("releasing the lease timed out"),
    }
    outcome
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
