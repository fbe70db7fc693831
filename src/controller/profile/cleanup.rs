//! A resource being deleted: delete its profile (or leave it, by policy or when it is not
//! provably this resource's), then let the finalizer go. A paused deletion waits.

use crate::controller::events::EventType;
use kube::runtime::controller::Action as Next;

use super::marks;
use super::plan::{self, Action, Keep};
use super::{Done, Error, Pass, annotation, status};
use crate::controller::conditions::Outcome;
use crate::crd::Kind;

/// Runs the pass of a resource being deleted (it holds the finalizer).
pub async fn run<K: Kind>(pass: &Pass<'_, K>) -> Result<Done<K::AtProvider>, Error> {
    let profile = pass.profile;
    // The desired body plays no part in a deletion's plan: references are not resolved.
    let want = profile.desired(&Default::default());
    let mut inputs = pass.inputs(&want);
    // The client is made only when the plan needs Auth0: a resource with nothing in Auth0
    // goes without a call, even when its tenant is gone.
    let mut client = None;
    loop {
        match plan::plan(&inputs) {
            Action::Look(lookup) => {
                let c = match &client {
                    Some(c) => c,
                    None => client.insert(pass.checked_client()?),
                };
                pass.look(c, lookup, &mut inputs).await?;
            }
            Action::DeletionPaused => {
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
                    next: Next::await_change(),
                    checked: false,
                });
            }
            Action::Delete { ids } => {
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
                let c = match &client {
                    Some(c) => c,
                    None => client.insert(pass.checked_client()?),
                };
                for id in ids {
                    match c.delete_item(K::AUTH0, &id).await {
                        Ok(()) => {}
                        Err(e)
                            if super::references::refused_in_use(e.status(), !pass.ctx.references.users.is_empty()) =>
                        {
                            return Err(Error::InUse {
                                noun: K::AUTH0.noun,
                                id,
                                users: format!("an item in Auth0 that no resource here shows yet ({e})"),
                            });
                        }
                        Err(e) => return Err(e.into()),
                    }
                    pass.ctx.listings.remember(c.reach(), &id, None);
                    pass.publish(EventType::Normal, "Deleted", &format!("deleted Auth0 profile {id}"))
                        .await;
                }
                return released(pass).await;
            }
            Action::Release { kept, why } => {
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
            Action::TenantChanged(change) => return Err(Error::TenantChanged(change)),
            other => unreachable!("a deletion's plan cannot be {other:?}"),
        }
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
        next: Next::await_change(),
        checked: false,
    })
}
