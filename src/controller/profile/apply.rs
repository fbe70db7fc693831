//! A live resource's pass: plan, look, then do the one action: converge a profile this
//! resource owns (adopt, claim, update, or nothing), create one under the create-pending
//! guard, report one under Observe, or refuse (conflict, already managed, missing).

use std::time::Duration;

use crate::controller::events::EventType;
use kube::ResourceExt;
use kube::runtime::controller::Action;

use super::marks::{self, Marks};
use super::plan::{self, Step, Via};
use super::{Done, Error, Pass, jittered, status};
use crate::auth0::{Auth0Client, Auth0Error};
use crate::controller::conditions::Outcome;
use crate::controller::desired::diff;
use crate::crd::Kind;
use crate::crd::conditions::reason;

/// Runs the pass of a resource that is not being deleted.
pub async fn run<K: Kind>(pass: &Pass<'_, K>) -> Result<Done<K::AtProvider>, Error> {
    let profile = pass.profile;
    if crate::controller::profile::annotation_is_true(profile, super::annotation::PAUSED) {
        return Ok(Done {
            status: Some(status::with(profile, &Outcome::Paused, |_| {})),
            marks: None,
            next: Action::await_change(),
            checked: None,
        });
    }
    profile.validate().map_err(Error::InvalidSpec)?;
    // References resolve before anything else is decided: a referenced resource that is not
    // Ready (or is on another tenant) stops the pass before any Auth0 call.
    let resolved = pass.resolve()?;
    let want = profile.desired(&resolved);
    let mut inputs = pass.inputs(&want);
    if inputs.paused {
        return Ok(Done {
            status: Some(status::with(profile, &Outcome::Paused, |_| {})),
            marks: None,
            next: Action::await_change(),
            checked: None,
        });
    }
    if let Some(why) = marks::malformed_id(profile) {
        return Err(Error::InvalidAnnotation(why));
    }
    // Room for the operator's marks, before any Auth0 call (a refused mark would otherwise
    // come after a listing, or after a POST).
    if inputs.management == crate::crd::ManagementPolicy::Manage {
        marks::room(profile, pass.reached().unwrap_or_default())?;
    }
    // Evidence on another tenant: refused before the client's own failure (the tenant named
    // now may not even exist; the message says what to do about both).
    if let Step::TenantChanged(change) = plan::plan(&inputs) {
        return Err(Error::TenantChanged(change));
    }
    let client = pass.client()?;
    let interval = pass.poll_interval();
    let next = Action::requeue(jittered(interval));

    loop {
        match plan::plan(&inputs) {
            Step::Look(lookup) => pass.look(&client, lookup, &mut inputs).await?,
            Step::Later => {
                return Ok(Done {
                    status: None,
                    marks: None,
                    next,
                    checked: None,
                });
            }
            Step::Report { remote } => {
                let mut status = status::settled(profile, &client.tenant().domain, &remote);
                // Found by name only: reported in atProvider, never recorded as the resource's
                // id, or a switch to Manage would take over a profile it cannot prove is its
                // own (adopt it explicitly with spec.externalID).
                if inputs.claim.id().is_none() {
                    status.id = profile.status().and_then(|s| s.id.clone());
                }
                // What Manage would change (issue 17): the same diff a PATCH would send, and
                // the documents it would replace.
                let mut pending = K::field_changes(&want, &K::normalize(&remote));
                if let Some(id) = remote.get("id").and_then(serde_json::Value::as_str) {
                    pending.extend(
                        differing(pass, &client, id)
                            .await?
                            .into_iter()
                            .map(|(_, change)| change),
                    );
                }
                status.pending_change_count = Some(pending.len() as i64);
                status.pending_changes = pending;
                return Ok(Done {
                    status: Some(status),
                    marks: None,
                    next,
                    checked: Some(super::memory::desired_key(&want)),
                });
            }
            Step::Converge {
                id,
                remote,
                via,
                patch,
                stuck,
                drift,
            } => {
                return converge(
                    pass,
                    &client,
                    &want,
                    Converge {
                        id,
                        remote,
                        via,
                        patch,
                        stuck,
                        drift,
                    },
                )
                .await;
            }
            Step::Create { replacing } => return create(pass, &client, &want, replacing).await,
            Step::Conflict { name, holder } => {
                let holder = match holder {
                    plan::Holder::Resource { owner, id } => plan::Holder::Resource {
                        owner: format!("{} {owner}", K::AUTH0.kind),
                        id,
                    },
                    other => other,
                };
                return Err(Error::NameTaken { name, holder });
            }
            Step::AlreadyManaged { id, owner } => {
                return Err(Error::AlreadyManaged {
                    id,
                    owner: format!("{} {owner}", K::AUTH0.kind),
                });
            }
            Step::Missing { id } => return Err(Error::AdoptionTargetMissing(id)),
            Step::NoneNamed { name } => return Err(Error::ObservedMissing(name)),
            Step::TenantChanged(change) => return Err(Error::TenantChanged(change)),
            other @ (Step::Paused | Step::DeletionPaused | Step::Delete { .. } | Step::Release { .. }) => {
                unreachable!("a live resource's plan cannot be {other:?}")
            }
        }
    }
}

/// What [`plan::Step::Converge`] carries.
struct Converge {
    id: String,
    remote: serde_json::Value,
    via: Via,
    patch: Option<serde_json::Map<String, serde_json::Value>>,
    stuck: Option<serde_json::Map<String, serde_json::Value>>,
    drift: bool,
}

/// Maps Auth0's 403 `feature_not_enabled` to the fields of `body` a feature guards.
fn feature_error<K: Kind>(error: Auth0Error, body: &serde_json::Map<String, serde_json::Value>) -> Error {
    match &error {
        Auth0Error::Api {
            status: 403,
            error_code: Some(code),
            message,
            ..
        } if code == "feature_not_enabled" => Error::FeatureNotEnabled {
            message: message.clone(),
            fields: K::guarded_fields(body).iter().map(|f| K::spec_path(f)).collect(),
        },
        _ => Error::Auth0(error),
    }
}

/// The profile is this resource's: record it, and PATCH the fields that differ; a PATCH
/// whose answer still differs is reported as `NotConverging` and not sent again.
async fn converge<K: Kind>(
    pass: &Pass<'_, K>,
    client: &Auth0Client,
    want: &serde_json::Map<String, serde_json::Value>,
    converge: Converge,
) -> Result<Done<K::AtProvider>, Error> {
    let Converge {
        id,
        remote,
        via,
        patch,
        stuck,
        drift,
    } = converge;
    let profile = pass.profile;
    let domain = &client.tenant().domain;
    let bound = Marks::on(
        profile.common().tenant_ref,
        &client.tenant().reached(),
        None,
        Some(id.clone()),
    );
    // The finalizer comes before any write to Auth0: a deletion in between would otherwise
    // skip the cleanup and leave the profile behind.
    if patch.is_some() && !marks::has_finalizer(profile) {
        marks::hold(&pass.api, profile, &bound).await?;
    }
    match via {
        Via::Adopted => {
            pass.publish(EventType::Normal, "Adopted", &format!("adopted Auth0 profile {id}"))
                .await
        }
        Via::Claimed => {
            pass.publish(
                EventType::Normal,
                "Created",
                &format!("created Auth0 profile {id} (found after an interrupted create)"),
            )
            .await
        }
        Via::Recorded => {}
    }
    let mut stuck = stuck;
    let remote = match patch {
        None => remote,
        Some(changed) => {
            let body = K::patch_body(&changed, &remote);
            let updated = client
                .update_item(K::AUTH0, &id, &body)
                .await
                .map_err(|e| feature_error::<K>(e, &body))?;
            pass.ctx.listings.remember(client.reach(), &id, Some(&updated));
            // Auth0 kept other values than those sent (it normalized, or ignored them):
            // not sent again for this generation and these values.
            let normalized = K::normalize(&updated);
            if let Some(still) = diff(want, &normalized) {
                pass.ctx.memory.stuck.stuck(
                    &pass.uid,
                    plan::stuck_key(profile.meta().generation, &still, &normalized),
                );
                stuck = Some(still);
            } else {
                let fields: Vec<&str> = changed.keys().map(String::as_str).collect();
                if !drift {
                    pass.publish(
                        EventType::Normal,
                        "Updated",
                        &format!("updated {id}: {}", fields.join(", ")),
                    )
                    .await;
                } else {
                    pass.ctx.metrics.drift_corrections.inc();
                    pass.publish(
                        EventType::Normal,
                        "DriftCorrected",
                        &format!("{id} was changed outside the operator; restored {}", fields.join(", ")),
                    )
                    .await;
                }
            }
            updated
        }
    };
    documents(pass, client, &id).await?;
    let mut settled = status::settled(profile, domain, &remote);
    settled.id = Some(id.clone());
    if let Some(fields) = stuck {
        let normalized = K::normalize(&remote);
        let what: Vec<String> = fields
            .iter()
            .map(|(field, sent)| {
                let kept = normalized.get(field).cloned().unwrap_or_default();
                let short = |v: &serde_json::Value| v.to_string().chars().take(120).collect::<String>();
                format!("{field}: sent {}, Auth0 keeps {}", short(sent), short(&kept))
            })
            .collect();
        let message = format!(
            "Auth0 keeps other values than the operator sends to {id} ({}); the PATCH is not sent again until the spec or Auth0's value changes: set the spec to the value Auth0 keeps",
            what.join("; ")
        );
        let outcome = Outcome::Failed {
            reason: reason::NOT_CONVERGING,
            message: message.clone(),
            terminal: true,
            remote_available: true,
        };
        settled = status::settled_but(profile, settled, &outcome);
        if profile.status() != Some(&settled) {
            pass.publish(EventType::Warning, reason::NOT_CONVERGING, &message).await;
        }
    }
    Ok(Done {
        status: Some(settled),
        marks: Some(bound),
        next: Action::requeue(jittered(pass.poll_interval())),
        checked: Some(super::memory::desired_key(want)),
    })
}

/// POSTs the profile under the create-pending guard: the mark (the name about to be posted)
/// goes on in the same write as the finalizer, only after a listing showed the name free;
/// the id is recorded right after, and the mark goes in the write that records the binding.
async fn create<K: Kind>(
    pass: &Pass<'_, K>,
    client: &Auth0Client,
    want: &serde_json::Map<String, serde_json::Value>,
    replacing: Option<String>,
) -> Result<Done<K::AtProvider>, Error> {
    let profile = pass.profile;
    let name = profile.common().name.to_string();
    // Refused credentials fail here, before any mark is written: a terminal failure then
    // costs one pass and no write of the resource's metadata.
    client.scopes().await?;
    let tenant = profile.common().tenant_ref;
    let reached = client.tenant().reached();
    let before = Marks::of(profile);
    let pending = Marks::on(tenant, &reached, Some(name.clone()), before.bound.clone());
    let live = marks::apply(&pass.api, profile, &pending).await?;
    // The watch cache can lag behind this operator's own writes: the live object may record
    // an id the copy does not show, or be on its way out. Its next pass sees the truth.
    let live_id = super::claims::recorded_id(&live);
    if live.meta().deletion_timestamp.is_some()
        || live.uid() != profile.uid()
        || (live_id.is_some() && live_id != super::claims::recorded_id(profile))
    {
        return Ok(Done {
            status: None,
            marks: None,
            next: Action::requeue(Duration::from_millis(200)),
            checked: None,
        });
    }
    // The tenantRef changed since the copy was read: nothing is posted to the tenant the
    // copy named, and the mark goes again (no create went out, so the tenant named now is
    // free to use).
    if *live.common().tenant_ref != *tenant {
        marks::apply(
            &pass.api,
            &live,
            &Marks::on(tenant, &reached, None, before.bound.clone()),
        )
        .await?;
        return Ok(Done {
            status: None,
            marks: None,
            next: Action::requeue(Duration::from_millis(200)),
            checked: None,
        });
    }
    pass.ctx.memory.creates.sending(&pass.uid, &name);
    let body = K::create_body(want);
    tracing::debug!(%name, resource_version = ?live.meta().resource_version, "creating the Auth0 profile");
    let answer = client.create_item(K::AUTH0, &body).await;
    pass.ctx.memory.creates.answered(&pass.uid);
    let created = match answer {
        Ok(created) => created,
        // Refused (400, 403, 409, 429 after retries): nothing was created, so the mark goes
        // and no later pass wonders whether it was.
        Err(e) if e.status().is_some_and(|s| (400..500).contains(&s)) => {
            // Forgotten first: nothing was created, whatever the write of the mark answers.
            pass.ctx.memory.creates.forget(&pass.uid);
            marks::hold(
                &pass.api,
                profile,
                &Marks::on(tenant, &reached, None, before.bound.clone()),
            )
            .await?;
            return Err(refused_create::<K>(e, name, &body));
        }
        // No answer, or a 5xx: the profile may exist. The mark stays; the next pass looks.
        Err(e) => return Err(e.into()),
    };
    let id = created
        .get("id")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            Error::Auth0(crate::auth0::Auth0Error::Decode {
                path: "id".into(),
                message: "the created profile has no id".into(),
            })
        })?;
    pass.ctx.listings.remember(client.reach(), &id, Some(&created));
    pass.ctx.memory.creates.created(&pass.uid, &id);
    match &replacing {
        Some(old) => {
            pass.ctx.metrics.drift_corrections.inc();
            pass.publish(
                EventType::Normal,
                "DriftCorrected",
                &format!("profile {old} was deleted outside the operator; recreated as {id}"),
            )
            .await;
        }
        None => {
            pass.publish(EventType::Normal, "Created", &format!("created Auth0 profile {id}"))
                .await
        }
    }
    let mut settled = status::settled(profile, &client.tenant().domain, &created);
    settled.id = Some(id.clone());
    let mut next = Action::requeue(jittered(pass.poll_interval()));
    let mut checked = Some(super::memory::desired_key(want));
    // The documents kept beside the profile (custom text) are written now; when that fails
    // the id is still recorded (Ready, the profile exists), with Synced=False saying why, and
    // the next pass tries again: it is not "checked moments ago" (a retry that planned
    // `Later` left the text unwritten until half the poll interval had passed).
    if let Err(error) = documents(pass, client, &id).await {
        checked = None;
        let disposition = error.disposition();
        let message = format!("created Auth0 {} {id}; then {error}", K::AUTH0.noun);
        settled = status::settled_but(
            profile,
            settled,
            &Outcome::Failed {
                reason: disposition.reason,
                message: message.clone(),
                terminal: false,
                remote_available: true,
            },
        );
        pass.publish(EventType::Warning, disposition.reason, &message).await;
        next = Action::requeue(pass.ctx.memory.failures.failed(&pass.uid));
    }
    Ok(Done {
        status: Some(settled),
        marks: Some(Marks::on(tenant, &reached, None, Some(id))),
        next,
        checked,
    })
}

/// What a refused create (a 4xx: nothing was created) means. A 409 is a name clash only
/// where Auth0 keeps names unique; a kind with a quota answers 409 when the tenant is full
/// (self-service profiles: "No more profiles can be created for this tenant.", recorded),
/// which is never read as a clash with someone's profile.
fn refused_create<K: Kind>(
    error: Auth0Error,
    name: String,
    body: &serde_json::Map<String, serde_json::Value>,
) -> Error {
    if error.status() == Some(409) && K::AUTH0.unique_names {
        Error::NameRefused(name)
    } else if error.status() == Some(409) && K::AUTH0.quota.is_some() {
        Error::QuotaReached {
            noun: K::AUTH0.noun,
            quota: K::AUTH0.quota.unwrap_or_default(),
            message: match &error {
                Auth0Error::Api { message, .. } => message.clone(),
                other => other.to_string(),
            },
        }
    } else {
        feature_error::<K>(error, body)
    }
}

/// The documents kept beside profile `id` that differ from what the spec sets, each with
/// what replacing it would change (Observe's `pendingChanges`): one GET a document the spec
/// sets; a document the spec leaves out is not read.
async fn differing<K: Kind>(
    pass: &Pass<'_, K>,
    client: &Auth0Client,
    id: &str,
) -> Result<Vec<(crate::crd::kind::SubDocument, crate::crd::PendingChange)>, Error> {
    let mut differing = Vec::new();
    for document in pass.profile.sub_documents() {
        let held = client
            .get_document(
                K::AUTH0,
                id,
                document.suffix,
                crate::auth0::ratelimit::Priority::Background,
            )
            .await?;
        if let Some(change) = document.change(&held) {
            differing.push((document, change));
        }
    }
    Ok(differing)
}

/// Brings the documents kept beside profile `id` (a self-service profile's custom text) to
/// what the spec sets: each is read and replaced whole (PUT) when it differs ([`differing`]).
/// A document the spec leaves out is left as Auth0 holds it.
async fn documents<K: Kind>(pass: &Pass<'_, K>, client: &Auth0Client, id: &str) -> Result<(), Error> {
    for (document, _) in differing(pass, client, id).await? {
        client
            .put_document(K::AUTH0, id, document.suffix, &document.desired)
            .await?;
        pass.publish(
            EventType::Normal,
            "Updated",
            &format!("updated {id}: {}", document.spec_field),
        )
        .await;
    }
    Ok(())
}
