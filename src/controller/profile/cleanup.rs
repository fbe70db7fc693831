//! A resource being deleted: delete its profile (or leave it, by policy or when it is not
//! provably this resource's), then let the finalizer go. A paused deletion waits.

use crate::controller::events::EventType;
use kube::runtime::controller::Action;

use super::marks;
use super::plan::{self, Keep, Step};
use super::{Done, Error, Pass, annotation, status};
use crate::controller::conditions::Outcome;
use crate::crd::Kind;

/// Runs the pass of a resource being deleted (it holds the finalizer).
pub async fn run<K: Kind>(pass: &Pass<'_, K>) -> Result<Done<K::AtProvider>, Error> {
    let profile = pass.profile;
    // The desired body plays no part in a deletion's plan: references are not resolved.
    let want = profile.desired(&Default::default());
    let mut inputs = pass.inputs(&want);
    // The client is asked for only when the plan needs Auth0: a resource with nothing in
    // Auth0 goes without a call, even when its tenant is gone.
    loop {
        match plan::plan(&inputs) {
            Step::Look(lookup) => {
                pass.look(&*pass.client()?, lookup, &mut inputs).await?;
            }
            Step::DeletionPaused => {
                let id = inputs.claim.id().unwrap_or("(none recorded)").to_string();
                let message = format!(
                    "deletion waits: the {} annotation stops all writes; remove it to delete Auth0 profile {id}, or annotate {}=true to leave the profile in Auth0",
                    annotation::PAUSED,
                    annotation::FORCE_ORPHAN
                );
                let outcome = Outcome::DeleteBlocked {
                    reason: crate::crd::conditions::reason::RECONCILE_PAUSED,
                    message: message.clone(),
                    stalled: false,
                    retrying: false,
                };
                let new_status = status::with(profile, &outcome, |_| {});
                if profile.status() != Some(&new_status) {
                    pass.publish(EventType::Normal, "DeletionPaused", &message).await;
                }
                return Ok(Done {
                    status: Some(new_status),
                    marks: None,
                    next: Action::await_change(),
                    checked: None,
                });
            }
            Step::Delete { ids } => {
                // Resources that reference this one would lose what they use (Auth0 may
                // refuse the delete, or leave them pointing at nothing): the deletion waits
                // for them, naming them, before any call.
                // Not before the caches of those resources are listed (after a restart).
                if !pass.ctx.references.users_known() {
                    return Err(Error::InUse {
                        noun: K::AUTH0.noun,
                        id: ids.join(", "),
                        users: "the resources that may use it, not listed yet since the operator started".into(),
                    });
                }
                let users = pass.users();
                if !users.is_empty() {
                    return Err(Error::InUse {
                        noun: K::AUTH0.noun,
                        id: ids.join(", "),
                        users: super::references::shown(&users),
                    });
                }
                let client = pass.client()?;
                for id in ids {
                    client
                        .delete_item(K::AUTH0, &id)
                        .await
                        .map_err(|e| refused_delete(e, K::AUTH0.noun, &id))?;
                    pass.ctx.listings.remember(client.reach(), &id, None);
                    pass.publish(EventType::Normal, "Deleted", &format!("deleted Auth0 profile {id}"))
                        .await;
                }
                return released(pass).await;
            }
            Step::Release { kept, why } => {
                match (&why, &kept) {
                    (Keep::Policy, Some(id)) => {
                        pass.publish(
                            EventType::Normal,
                            "Orphaned",
                            &format!("left Auth0 profile {id} in place"),
                        )
                        .await
                    }
                    (Keep::OwnedBy(owner), Some(id)) => {
                        pass.publish(
                            EventType::Normal,
                            "Released",
                            &format!("left Auth0 profile {id} to {} {owner}, which manages it", K::AUTH0.kind),
                        )
                        .await
                    }
                    (Keep::Ambiguous(ids), _) => {
                        pass.publish(
                            EventType::Warning,
                            "Orphaned",
                            &format!(
                                "an interrupted create may have made one of the profiles {}; none was deleted, since the others are someone else's: delete the right one by hand",
                                ids.join(", ")
                            ),
                        )
                        .await
                    }
                    _ => {}
                }
                return released(pass).await;
            }
            // Evidence on another tenant: blocked (Stalled, with force-orphan named), nothing
            // deleted on either tenant.
            Step::TenantChanged(change) => return Err(Error::TenantChanged(change)),
            other => unreachable!("a deletion's plan cannot be {other:?}"),
        }
    }
}

/// What a failed DELETE means: a 409 is Auth0 refusing while something still uses the
/// profile (a user attribute profile a self-service profile of another namespace names:
/// `references::uses` counts only this namespace's), retried; anything else as it is.
fn refused_delete(error: crate::auth0::Auth0Error, noun: &'static str, id: &str) -> Error {
    match error {
        crate::auth0::Auth0Error::Api {
            status: 409, message, ..
        } => Error::DeleteRefused {
            noun,
            id: id.to_string(),
            message,
        },
        other => other.into(),
    }
}

/// Lets the finalizer go, then forgets the resource.
///
/// Only then: a pass of a deletion that waits (paused) must remember the POSTs this process
/// sent, or the next pass would date the interrupted create from this process's start and
/// take a listing begun before that POST as proof that nothing was created (`make test`,
/// fault scenario 7, an orphan; `tests/ownership.rs
/// an_interrupted_create_paused_and_deleted_still_deletes_its_profile`).
async fn released<K: Kind>(pass: &Pass<'_, K>) -> Result<Done<K::AtProvider>, Error> {
    tracing::debug!(claim = ?pass.claim(), "letting the finalizer go");
    marks::release(&pass.api, pass.profile).await?;
    pass.ctx.memory.forget(&pass.uid);
    // A resource this one referenced may be waiting to be deleted until nothing uses it.
    pass.wake_referenced();
    Ok(Done {
        status: None,
        marks: None,
        next: Action::await_change(),
        checked: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth0::Auth0Error;

    fn answered(status: u16, message: &str) -> Auth0Error {
        Auth0Error::Api {
            status,
            error_code: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A 409 on a DELETE is a use the namespace does not show: retried, saying so; any other
    /// failure stays what it is.
    #[test]
    fn a_refused_delete_is_a_use_elsewhere_and_is_retried() {
        let id = "uap_1cu7Zs1Dfru5Qc9mZea7nm";
        let refused = refused_delete(
            answered(409, "User attribute profile is in use."),
            "user attribute profile",
            id,
        );
        let disposition = refused.disposition();
        assert_eq!(disposition.reason, "InUse");
        assert!(!disposition.terminal);
        let message = refused.to_string();
        for needle in [
            "Auth0 refused to delete user attribute profile uap_1cu7Zs1Dfru5Qc9mZea7nm",
            "User attribute profile is in use.",
            "no resource of this namespace shows",
            "force-orphan=true",
        ] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
        let unavailable = refused_delete(answered(503, "down"), "user attribute profile", id);
        assert!(matches!(unavailable, Error::Auth0(Auth0Error::Api { status: 503, .. })));
        let forbidden = refused_delete(answered(403, "no"), "user attribute profile", id);
        assert!(matches!(forbidden, Error::Auth0(Auth0Error::Api { status: 403, .. })));
    }
}
