//! A resource that vanished while this process had a create of its in flight: the profile
//! its POST was answered with is deleted (or left, by policy), as a deletion would have.
//!
//! The finalizer goes on in the same write as the create-pending mark, before the POST, so
//! a deletion waits for the cleanup. But kube-apiserver can answer that write with success
//! and still let a concurrent DELETE remove the object without the finalizer
//! (kubernetes/kubernetes#77988, open; its fix was reverted). `make soak` hit it: a resource
//! deleted while its create waited for a listing was gone by the time the created profile's
//! id was to be recorded (404), leaving the profile in Auth0 with no owner.
//!
//! Only the id this process's POST was answered with counts as evidence here: the resource
//! is gone, so its name is free in the cluster and a new resource of that name may create a
//! profile of the same name at any moment; an interrupted create (no id) is logged and left,
//! never guessed at by name. Nothing is written to the Kubernetes API (a new resource of the
//! same name must not lose its finalizer or marks).

use crate::crd::Kind;
use std::sync::Arc;
use std::time::Duration;

use kube::ResourceExt;
use kube::api::Api;

use super::{Context, Error, annotation, annotation_is_true};
use crate::crd::DeletionPolicy;

/// Whether `error` says the resource is gone from the API server.
pub fn is_gone(error: &Error) -> bool {
    matches!(error, Error::Kube { source: kube::Error::Api(e), .. } if e.code == 404)
}

/// What to do about the create of a resource that vanished.
#[derive(Debug, PartialEq, Eq)]
pub enum Cleanup {
    /// Delete the profile the POST was answered with.
    Delete(String),
    /// Leave it: by `deletionPolicy: Orphan`, `force-orphan`, or a pause (which stops every
    /// write, deletions included); the id is logged.
    Keep(String),
    /// The POST got no answer: a profile may exist, but only its name would show it, and
    /// that name is free for a new resource now: logged, nothing deleted.
    Unproven(String),
}

/// The decision, from the resource's last copy and this process's record of its create.
pub fn decide<K: Kind>(profile: &K, created: Option<String>, posted_name: String) -> Cleanup {
    let keep = profile.common().deletion_policy == DeletionPolicy::Orphan
        || annotation_is_true(profile, annotation::FORCE_ORPHAN)
        || annotation_is_true(profile, annotation::PAUSED);
    match created {
        Some(id) if keep => Cleanup::Keep(id),
        Some(id) => Cleanup::Delete(id),
        None => Cleanup::Unproven(posted_name),
    }
}

/// After a pass of `profile` failed with 404: when the object is really gone (or another
/// object of its name stands there) and this process posted a create for it, takes that
/// record (so a second 404 does nothing) and cleans up in the background. Returns whether
/// it did.
pub async fn handle<K: Kind>(profile: &K, ctx: &Arc<Context<K>>) -> bool {
    let uid = profile.uid().unwrap_or_default();
    if ctx.memory.creates.get(&uid).is_none() {
        return false;
    }
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &profile.namespace().unwrap_or_default());
    match api.get_opt(&profile.name_any()).await {
        Ok(Some(live)) if live.uid().as_deref() == Some(uid.as_str()) => return false,
        Ok(_) => {}
        Err(_) => return false,
    }
    let Some(posted) = ctx.memory.creates.take(&uid) else {
        return false;
    };
    // The latest copy this process saw: a policy, pause or force-orphan set meanwhile counts.
    let latest = ctx
        .profiles
        .get(&kube::runtime::reflector::ObjectRef::from_obj(profile))
        .filter(|p| p.uid() == profile.uid())
        .map(|p| (*p).clone())
        .unwrap_or_else(|| profile.clone());
    let decision = decide(&latest, posted.created, posted.name);
    let client = ctx
        .tenants
        .client(latest.common().tenant_ref, &latest.namespace().unwrap_or_default());
    ctx.memory.forget(&uid);
    tokio::spawn(async move {
        match (decision, client) {
            (Cleanup::Delete(id), Ok(client)) => {
                for attempt in 1..=5u32 {
                    match client.delete_item(K::AUTH0, &id).await {
                        Ok(()) => {
                            tracing::info!(%id, "deleted the Auth0 profile of a resource that vanished during its create");
                            return;
                        }
                        Err(e) if attempt == 5 || !e.is_transient() => {
                            tracing::warn!(%id, error = %e, "a resource vanished during its create; its Auth0 profile remains: delete it by hand");
                            return;
                        }
                        Err(_) => tokio::time::sleep(Duration::from_secs(1 << attempt)).await,
                    }
                }
            }
            (Cleanup::Delete(id), Err(e)) => {
                tracing::warn!(%id, error = %e, "a resource vanished during its create; its Auth0 profile remains: delete it by hand");
            }
            (Cleanup::Keep(id), _) => {
                tracing::info!(%id, "a resource vanished during its create; its Auth0 profile is left by its policy");
            }
            (Cleanup::Unproven(name), _) => {
                tracing::warn!(%name, "a resource vanished while its create had no answer; a profile of that name may remain in Auth0: check by hand");
            }
        }
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ConnectionProfile;
    use serde_json::json;

    fn profile(extra: serde_json::Value) -> ConnectionProfile {
        let mut p = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
            "metadata": {"name": "p", "namespace": "team", "uid": "u1"},
            "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"}}});
        json_patch::merge(&mut p, &extra);
        serde_json::from_value(p).expect("profile")
    }

    #[test]
    fn only_an_answered_id_is_deleted_and_policies_keep_it() {
        let id = || Some("cop_1".to_string());
        let name = || "p".to_string();
        assert_eq!(
            decide(&profile(json!({})), id(), name()),
            Cleanup::Delete("cop_1".into())
        );
        assert_eq!(
            decide(&profile(json!({"spec": {"deletionPolicy": "Orphan"}})), id(), name()),
            Cleanup::Keep("cop_1".into())
        );
        for key in [annotation::FORCE_ORPHAN, annotation::PAUSED] {
            let p = profile(json!({"metadata": {"annotations": {key: "true"}}}));
            assert_eq!(decide(&p, id(), name()), Cleanup::Keep("cop_1".into()));
        }
        // No answer: the name is free in the cluster now, so it proves nothing.
        assert_eq!(decide(&profile(json!({})), None, name()), Cleanup::Unproven("p".into()));
    }
}
