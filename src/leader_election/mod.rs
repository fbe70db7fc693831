//! Leader election: only the replica holding the Lease reconciles, and it stops at once when
//! it loses the lease or cannot renew it within the renew deadline. Expiry is judged on each
//! replica's own monotonic clock, never on the Lease's times (client-go's rule, in `rules`);
//! the Lease is read and written in `lease`, and a watch on it lets a standby take a released
//! lease at once.

pub mod lease;
pub mod rules;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::Event;
use tokio::time::Instant;

use crate::{Failure, config, controller, http, metrics};
use lease::LeaseStore;
use rules::{Observed, Tenure, Timing, Verdict};

/// Waits for the lease, runs the controllers while holding it, and stops them at once when
/// it is lost: taken by another replica, or not renewed within the renew deadline
/// ([`Timing`], derived from `--lease-duration`). Leaving (on a signal, or after a loss)
/// releases the lease if this replica still holds it, so another replica takes over at once.
/// `auth0_operator_leader` reads 1 exactly while the lease is held. Errors: losing the lease
/// (the process should exit and start again as a standby), or the API server refusing to
/// let this replica read or write Leases (403).
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
    let timing = Timing::from_lease_duration(args.lease_duration);
    let api: kube::Api<Lease> = kube::Api::namespaced(client, &args.operator_namespace);
    let store = LeaseStore::new(
        api.clone(),
        &args.lease_name,
        &identity,
        crate::crd::annotations::MANAGER,
    );
    let selector = format!("metadata.name={}", args.lease_name);
    let mut lease_changes = kube::runtime::watcher(api, kube::runtime::watcher::Config::default().fields(&selector))
        .backoff(controller::WatchBackoff::default())
        .boxed();
    // The lease state is about to be known: a standby replica is ready to take over.
    readiness.set(true);
    tracing::info!(%identity, lease = %args.lease_name, ?timing, "waiting for the lease");
    let Some((tenure, held)) = campaign(&store, &identity, &timing, &mut lease_changes, shutdown).await? else {
        return Ok(());
    };
    drop(lease_changes);
    tracing::info!(%identity, "holding the lease: reconciling");
    metrics.leader.set(1);
    readiness.set(false); // until this replica's caches are synced
    let outcome = tokio::select! {
        () = controllers => Ok(()),
        why = keep(&store, &timing, tenure, held) => {
            tracing::warn!(reason = %why, "stopped reconciling");
            Err(format!("{why}: stopped reconciling").into())
        }
    };
    metrics.leader.set(0);
    // Hand over at once rather than let the lease expire.
    match tokio::time::timeout(Duration::from_secs(5), store.release()).await {
        Ok(Ok(true)) => tracing::info!("released the lease"),
        Ok(Ok(false)) => tracing::info!("the lease is no longer this replica's: nothing to release"),
        Ok(Err(e)) => tracing::warn!(error = %e, "releasing the lease failed"),
        Err(_) => tracing::warn!("releasing the lease timed out"),
    }
    outcome
}

/// Reads the Lease until this replica may take it, and takes it: the tenure won and the
/// Lease as written. `None` when shutdown came
/// first. The standby reads on every change the watch brings, else every retry period, and
/// at the instant the holder's lease would end.
async fn campaign(
    store: &LeaseStore,
    identity: &str,
    timing: &Timing,
    lease_changes: &mut (impl futures::Stream<Item = Result<Event<Lease>, kube::runtime::watcher::Error>> + Unpin),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<Option<(Tenure, Lease)>, Failure> {
    tokio::pin!(shutdown);
    let mut observed: Option<Observed> = None;
    // A Lease the watch just delivered, used instead of a read.
    let mut delivered: Option<Lease> = None;
    let mut waiting_on: Option<String> = None;
    loop {
        let read = match delivered.take() {
            Some(lease) => Ok(Some(lease)),
            None => store.read().await,
        };
        let mut next_look = timing.retry_period;
        match read {
            Err(kube::Error::Api(status)) if status.code == 401 || status.code == 403 => {
                return Err(format!("reading the Lease was refused: {status}").into());
            }
            Err(e) => tracing::warn!(error = %e, "reading the Lease failed; trying again"),
            Ok(current) => {
                let now = Instant::now();
                let verdict = match current.as_ref().and_then(|l| l.spec.clone()) {
                    None => Verdict::Take,
                    Some(spec) => {
                        let seen = Observed::after(observed.take(), spec, now);
                        let verdict = seen.verdict(identity, timing, now);
                        observed = Some(seen);
                        verdict
                    }
                };
                match verdict {
                    Verdict::Take => {
                        let sent = Instant::now();
                        match store.take(current.as_ref(), timing).await {
                            Ok(Some(lease)) => return Ok(Some((Tenure::won(sent), lease))),
                            Ok(None) => continue,
                            Err(kube::Error::Api(status)) if status.code == 401 || status.code == 403 => {
                                return Err(format!("writing the Lease was refused: {status}").into());
                            }
                            Err(e) => tracing::warn!(error = %e, "taking the Lease failed; trying again"),
                        }
                    }
                    Verdict::Wait { holder, until } => {
                        if waiting_on.as_deref() != Some(holder.as_str()) {
                            tracing::info!(%holder, "the lease is held by another replica");
                            waiting_on = Some(holder);
                        }
                        next_look = next_look.min(until.saturating_duration_since(now));
                    }
                }
            }
        }
        // A little jitter so that standbys do not read in step.
        let jitter = next_look.mul_f64(fastrand::f64() * 0.2);
        tokio::select! {
            () = tokio::time::sleep(next_look + jitter) => {}
            event = lease_changes.next() => {
                if let Some(Ok(Event::Apply(lease) | Event::InitApply(lease))) = event {
                    delivered = Some(lease);
                }
            }
            () = &mut shutdown => return Ok(None),
        }
    }
}

/// Renews the lease every retry period for as long as it can; returns why it stopped: the
/// renew deadline passed without a successful renewal, or another replica took the lease.
async fn keep(store: &LeaseStore, timing: &Timing, mut tenure: Tenure, held: Lease) -> String {
    // The Lease as last written or read: its resourceVersion guards the next renewal.
    let mut current = Some(held);
    loop {
        let deadline = tenure.deadline(timing);
        let renewal = async {
            tokio::time::sleep(timing.retry_period).await;
            loop {
                if current.is_none() {
                    match store.read().await {
                        Ok(Some(lease)) => current = Some(lease),
                        Ok(None) => return Err("lost the lease: the Lease was deleted".to_string()),
                        Err(e) => {
                            tracing::warn!(error = %e, "reading the Lease failed; trying again");
                            tokio::time::sleep(timing.retry_period).await;
                            continue;
                        }
                    }
                }
                let holder = current
                    .as_ref()
                    .and_then(|l| l.spec.as_ref())
                    .and_then(|s| s.holder_identity.clone())
                    .unwrap_or_default();
                if holder != store.identity() {
                    return Err(format!("lost the lease: {holder:?} holds it"));
                }
                let sent = Instant::now();
                match store.take(current.as_ref(), timing).await {
                    Ok(Some(lease)) => {
                        current = Some(lease);
                        return Ok(sent);
                    }
                    // Changed since read: read again, and see whether it is still ours.
                    Ok(None) => current = None,
                    Err(e) => {
                        tracing::warn!(error = %e, "renewing the lease failed; trying again");
                        tokio::time::sleep(timing.retry_period).await;
                    }
                }
            }
        };
        tokio::select! {
            biased;
            () = tokio::time::sleep_until(deadline) => {
                return format!("could not renew the lease within the renew deadline ({:?})", timing.renew_deadline);
            }
            renewed = renewal => match renewed {
                Ok(sent) => tenure.renewed(sent),
                Err(why) => return why,
            },
        }
    }
}
