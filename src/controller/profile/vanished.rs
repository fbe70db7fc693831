//! A resource that vanished while this process had a create of its in flight: its profile
//! is deleted (or left, by policy) as if the resource had been deleted normally.
//!
//! The finalizer goes on in the same write as the create-pending mark, before the POST, so
//! a deletion waits for the cleanup. But kube-apiserver can answer that write with success
//! and still let a concurrent DELETE remove the object without the finalizer
//! (kubernetes/kubernetes#77988, open; its fix was reverted). `make soak` hit it: a resource
//! deleted while its create waited for a listing was gone by the time the created profile's
//! id was to be recorded (404), leaving the profile in Auth0 with no owner. This process
//! still knows the create (`Creates`, by uid): that is the evidence, and the same cleanup
//! plan as a deletion's runs on it, outside the controller (the resource will not be
//! reconciled again).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;

use super::{Context, Error, Pass, cleanup};
use crate::crd::ConnectionProfile;

/// How many times the cleanup is tried before the profile is left (and logged).
const ATTEMPTS: u32 = 30;

/// Whether `error` says the resource is gone from the API server.
pub fn is_gone(error: &Error) -> bool {
    matches!(error, Error::Kube(kube::Error::Api(e)) if e.code == 404)
}

/// Whether this process posted a create for the resource `uid` (answered or not).
pub fn posted(ctx: &Context, uid: &str) -> bool {
    ctx.creates.get(uid).is_some()
}

/// Runs the deletion's cleanup for `profile`, gone from the API server, until it is done:
/// a look-up waiting for a listing is tried again each second, a transient failure after a
/// backoff, up to [`ATTEMPTS`] times; a terminal one (and the last) is logged with the
/// profile that stays in Auth0.
pub async fn clean_up(profile: Arc<ConnectionProfile>, ctx: Arc<Context>) {
    let mut gone = (*profile).clone();
    gone.metadata.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::now()));
    let uid = gone.uid().unwrap_or_default();
    for attempt in 1..=ATTEMPTS {
        let pass = Pass::new(&gone, &ctx);
        let claim = pass.claim();
        match cleanup::run(&pass).await {
            // The cleanup's only Kubernetes write is the finalizer's release, after every
            // Auth0 call: it fails on the gone object, and the Auth0 side is done.
            Ok(_) | Err(Error::Kube(_)) => {
                tracing::info!(
                    ?claim,
                    "the cleanup of a resource that vanished during its create is done"
                );
                break;
            }
            Err(Error::AwaitingListing) => tokio::time::sleep(Duration::from_secs(1)).await,
            Err(e) if e.disposition().terminal || attempt == ATTEMPTS => {
                tracing::warn!(?claim, error = %e, "a resource vanished during its create; its Auth0 profile may remain");
                break;
            }
            Err(_) => tokio::time::sleep(ctx.failures.failed(&uid)).await,
        }
    }
    ctx.creates.forget(&uid);
    ctx.requests.forget(&uid);
    ctx.stuck.forget(&uid);
    ctx.failures.succeeded(&uid);
}
