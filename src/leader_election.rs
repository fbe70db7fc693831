//! Leader election: only the replica holding the Lease reconciles, and it stops at once
//! when it loses the lease. kube has none built in; `kube-lease-manager` (built on kube 5)
//! holds the Lease, and a watch on it lets a standby take a released lease at once.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::runtime::WatchStreamExt;

use crate::{Failure, config, controller, http, metrics};

/// Waits for the lease, runs the controllers while holding it, and stops them at once when
/// it is lost. Leaving (on a signal) releases the lease so another replica takes over.
/// `auth0_operator_leader` reads 1 exactly while the lease is held.
pub async fn lead(
    client: kube::Client,
    args: &config::RunArgs,
    readiness: Arc<http::Readiness>,
    metrics: Arc<metrics::Metrics>,
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
    metrics.leader.set(1);
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
    metrics.leader.set(0);
    // Hand over at once rather than let the lease expire.
    match tokio::time::timeout(Duration::from_secs(5), manager.release()).await {
        Ok(Ok(())) => tracing::info!("released the lease"),
        Ok(Err(e)) => tracing::warn!(error = %e, "releasing the lease failed"),
        Err(_) => tracing::warn!("releasing the lease timed out"),
    }
    outcome
}
