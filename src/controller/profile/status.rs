//! The resource's status: computed from a pass's outcome (pure), and written only when it
//! changed, in a way that can never erase a recorded id.

use crate::crd::Kind;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use super::{Error, MANAGER, annotation};
use crate::controller::conditions::{Outcome, conditions};
use crate::crd::Status;
use crate::crd::conditions::READY;

/// The status after a successful pass: the remote as observed, every condition Available.
pub fn settled<K: Kind>(profile: &K, domain: &str, remote: &Value) -> Status<K::AtProvider> {
    with(profile, &Outcome::Available, |status| {
        status.tenant = Some(domain.to_string());
        // The reference the pass's client was made from (the copy it read), so a tenantRef
        // changed while this pass ran can be set back (the CRD's TENANT_REF rule).
        status.tenant_ref = Some(profile.common().tenant_ref.clone());
        status.at_provider = K::at_provider(remote);
        status.unrecognized = K::unrecognized(remote);
        // Observe's Report arm sets them again; under Manage they must go (issue 17).
        status.pending_changes.clear();
        status.pending_change_count = None;
        status.id = remote
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(status.id.take());
    })
}

/// The current status with new conditions for `outcome`, `observedGeneration` and the
/// handled reconcile request, then `edit` applied.
pub fn with<K: Kind>(
    profile: &K,
    outcome: &Outcome,
    edit: impl FnOnce(&mut Status<K::AtProvider>),
) -> Status<K::AtProvider> {
    let mut status = profile.status().cloned().unwrap_or_default();
    let generation = profile.meta().generation.unwrap_or_default();
    let now = Time(Timestamp::from_second(Timestamp::now().as_second()).unwrap_or_else(|_| Timestamp::now()));
    status.conditions = conditions(&status.conditions, generation, outcome, &now);
    status.observed_generation = Some(generation);
    status.last_handled_reconcile_at = profile.annotations().get(annotation::RECONCILE_REQUESTED_AT).cloned();
    edit(&mut status);
    status
}

/// `settled` (the status of a pass that reached the profile) with its conditions set for
/// `outcome` instead: the id, tenant and observed profile stay as the pass saw them (a
/// create whose custom text then failed, a PATCH Auth0 does not keep).
pub fn settled_but<K: Kind>(profile: &K, settled: Status<K::AtProvider>, outcome: &Outcome) -> Status<K::AtProvider> {
    with(profile, outcome, |s| {
        s.id = settled.id;
        s.tenant = settled.tenant;
        s.tenant_ref = settled.tenant_ref;
        s.at_provider = settled.at_provider;
        s.unrecognized = settled.unrecognized;
    })
}

/// How a failed pass is reported: its conditions ([`Failure::outcome`]), the Warning Event's
/// reason and message, and whether it stalls.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub outcome: Outcome,
    /// The Synced (or, being deleted, Ready) reason, also the Event's.
    pub reason: &'static str,
    /// What failed and what to do, for the condition, the Event and the log.
    pub message: String,
    /// A person must act: the resource waits for a change (`memory::Stalls`) instead of
    /// retrying with backoff.
    pub stalled: bool,
    /// When to look again instead of the backoff, for a wait that costs no Auth0 call to
    /// check ([`WAIT_RECHECK`]: a deletion waiting for its users, a resource waiting for the
    /// one it references, both read from the caches). A user lets go in ways no event of the
    /// waiting resource shows (deleted, its reference dropped or changed, by name or by id):
    /// with backoff the deletion went on minutes later; and a wait counted as a failure grew
    /// the backoff of the Auth0 failures after it (fault scenario 8: a self-service profile
    /// that had waited for its reference retried a dropped create 4 minutes after Auth0 was
    /// back).
    pub recheck: Option<std::time::Duration>,
}

/// How soon a wait that costs no Auth0 call looks again: a deletion waiting for its users
/// ([`Error::InUse`]), a resource waiting for the one it references
/// ([`Error::ReferenceNotReady`]). Neither grows the failure backoff.
pub const WAIT_RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// How `error`, which ended a pass over `profile`, is reported (pure). `saw_gone`: the pass
/// saw the recorded profile answer 404.
///
/// - A terminal error stalls; so does a deletion whose tenant cannot be reached (its
///   credentials or settings need a person), and a stalled deletion's message says how to
///   let the resource go without a call (`force-orphan`).
/// - A live resource that recorded its profile and was Ready keeps reporting it available
///   (Ready=True, Synced=False): a failed pass says nothing about the profile, unless the
///   pass saw it gone, or the error is that it is missing, or on another tenant.
pub fn failed<K: Kind>(profile: &K, error: &Error, saw_gone: bool) -> Failure {
    let super::Disposition { reason, terminal } = error.disposition();
    let mut message = error.to_string();
    if profile.meta().deletion_timestamp.is_some() {
        let stalled = terminal || matches!(error, Error::Tenant(_));
        if stalled {
            message.push_str(&format!(
                "; to delete the resource and leave the Auth0 profile in place, annotate it {}=true",
                annotation::FORCE_ORPHAN
            ));
        }
        return Failure {
            outcome: Outcome::DeleteBlocked {
                reason,
                message: message.clone(),
                stalled,
                retrying: !stalled,
            },
            reason,
            message,
            stalled,
            recheck: waits(error).then_some(WAIT_RECHECK),
        };
    }
    let remote_available = super::claims::recorded_id(profile).is_some()
        && profile.status().is_some_and(|s| ready_of(s) == Some("True"))
        && !saw_gone
        && !matches!(
            error,
            Error::AdoptionTargetMissing(_) | Error::ObservedMissing(_) | Error::TenantChanged(_)
        );
    Failure {
        outcome: Outcome::Failed {
            reason,
            message: message.clone(),
            terminal,
            remote_available,
        },
        reason,
        message,
        stalled: terminal,
        recheck: waits(error).then_some(WAIT_RECHECK),
    }
}

/// Whether `error` is a wait the caches answer ([`WAIT_RECHECK`]).
fn waits(error: &Error) -> bool {
    matches!(error, Error::InUse { .. } | Error::ReferenceNotReady(_))
}

/// `new` (or, when the pass changed nothing, the resource's current status) with `note` as
/// the message of a `Synced=True` condition: what the user wrote that the operator set aside
/// and what to write instead (a `poll-interval` annotation that is not a duration of 1s to
/// 24h). `None` clears a note left earlier. Returns `None` when nothing differs from the
/// resource's status (nothing to write).
pub fn noted<K: Kind>(
    new: Option<Status<K::AtProvider>>,
    profile: &K,
    note: Option<&str>,
) -> Option<Status<K::AtProvider>> {
    let changed = new.is_some();
    let mut status = new.or_else(|| profile.status().cloned())?;
    for condition in status.conditions.iter_mut() {
        if condition.type_ == crate::crd::conditions::SYNCED && condition.status == "True" {
            condition.message = note.unwrap_or_default().to_string();
        }
    }
    (changed || profile.status() != Some(&status)).then_some(status)
}

/// `True`, `False` or `Unknown`: the Ready condition's status, for the metrics.
pub fn ready_of<A>(status: &Status<A>) -> Option<&str> {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == READY)
        .map(|c| c.status.as_str())
}

/// Whether the status already describes this generation as Available and no pass was
/// requested since.
pub fn is_settled<K: Kind>(profile: &K) -> bool {
    profile.status().is_some_and(|s| {
        s.observed_generation == profile.meta().generation
            && ready_of(s) == Some("True")
            && s.last_handled_reconcile_at.as_deref()
                == profile
                    .annotations()
                    .get(annotation::RECONCILE_REQUESTED_AT)
                    .map(String::as_str)
    })
}

/// Writes the status when it differs from what the resource already shows. Returns whether
/// it wrote.
///
/// A status that records an id is applied whole (server-side apply, so fields it no longer
/// holds go). One without an id is merged: the copy it was made from may come from a watch
/// cache that lags behind our own writes, and applying it would erase an id recorded since,
/// after which nothing would know the profile was created (a failed cleanup pass on such a
/// copy did exactly that in the fault suite, and the next pass left an orphan in Auth0).
pub async fn write<K: Kind>(api: &Api<K>, profile: &K, status: Status<K::AtProvider>) -> Result<bool, Error> {
    if profile.status() == Some(&status) {
        return Ok(false);
    }
    api.patch_status(&profile.name_any(), &params(&status), &patch::<K>(status))
        .await
        .map_err(Error::kube(super::Write::Status))?;
    Ok(true)
}

fn params<A>(status: &Status<A>) -> PatchParams {
    match status.id {
        Some(_) => PatchParams::apply(MANAGER).force(),
        None => PatchParams {
            field_manager: Some(MANAGER.to_string()),
            ..PatchParams::default()
        },
    }
}

/// The patch for [`write()`]: see there why a status without an id is merged.
fn patch<K: Kind>(status: Status<K::AtProvider>) -> Patch<Value> {
    if status.id.is_some() {
        Patch::Apply(json!({
            "apiVersion": K::api_version(&()),
            "kind": K::kind(&()),
            "status": status,
        }))
    } else {
        // Absent fields (id, tenant, atProvider) are left as they are.
        Patch::Merge(json!({ "status": status }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::conditions::SYNCED;
    use crate::crd::{ConnectionProfile, ConnectionProfileStatus};
    use crate::crd::{ConnectionProfileSpec, PendingChange, TenantRef};

    const ID: &str = "cop_1cu7Zs1Dfru5Qc9mZea7nm";

    /// A resource at generation 3 whose spec names the tenant `acme`.
    fn resource() -> ConnectionProfile {
        let mut profile = ConnectionProfile::new(
            "p",
            ConnectionProfileSpec {
                tenant_ref: TenantRef {
                    name: "acme".into(),
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        profile.metadata.generation = Some(3);
        profile
    }

    fn condition<'a>(status: &'a ConnectionProfileStatus, type_: &str) -> (&'a str, &'a str, &'a str) {
        let c = status.conditions.iter().find(|c| c.type_ == type_).expect(type_);
        (c.status.as_str(), c.reason.as_str(), c.message.as_str())
    }

    #[test]
    fn a_settled_status_records_what_the_pass_saw_and_clears_what_manage_leaves_behind() {
        let mut profile = resource();
        profile.status = Some(ConnectionProfileStatus {
            pending_changes: vec![PendingChange {
                field: "name".into(),
                ..Default::default()
            }],
            pending_change_count: Some(1),
            ..Default::default()
        });
        let remote = json!({"id": ID, "name": "p", "enabled_features": ["scim"], "organization": {"new_key": 1}});
        let status = settled(&profile, "acme.eu.auth0.com", &remote);
        assert_eq!(status.id.as_deref(), Some(ID));
        assert_eq!(status.tenant.as_deref(), Some("acme.eu.auth0.com"));
        assert_eq!(status.tenant_ref.as_ref().map(|r| r.name.as_str()), Some("acme"));
        assert_eq!(
            status.at_provider,
            crate::controller::desired::at_provider(&remote).ok()
        );
        assert!(status.at_provider.is_some());
        assert_eq!(status.unrecognized, ["organization.new_key: 1"]);
        assert!(status.pending_changes.is_empty());
        assert_eq!(status.pending_change_count, None);
        assert_eq!(status.observed_generation, Some(3));
        assert_eq!(ready_of(&status), Some("True"));
        // An answer without an id (an Observe report of a listing row) keeps the recorded one.
        profile.status = Some(status);
        let kept = settled(&profile, "acme.eu.auth0.com", &json!({"name": "p"}));
        assert_eq!(kept.id.as_deref(), Some(ID));
    }

    #[test]
    fn with_keeps_the_status_sets_conditions_generation_and_the_handled_request_then_edits() {
        let mut profile = resource();
        profile.status = Some(ConnectionProfileStatus {
            id: Some(ID.into()),
            ..Default::default()
        });
        profile
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(annotation::RECONCILE_REQUESTED_AT.into(), "2026-12-07T10:00:00Z".into());
        let failed = Outcome::Failed {
            reason: "ReconcileError",
            message: "Auth0 answered 503".into(),
            terminal: false,
            remote_available: true,
        };
        let status = with(&profile, &failed, |s| s.tenant = Some("edited".into()));
        assert_eq!(status.id.as_deref(), Some(ID));
        assert_eq!(status.tenant.as_deref(), Some("edited"));
        assert_eq!(status.observed_generation, Some(3));
        assert_eq!(
            status.last_handled_reconcile_at.as_deref(),
            Some("2026-12-07T10:00:00Z")
        );
        assert_eq!(
            condition(&status, SYNCED),
            ("False", "ReconcileError", "Auth0 answered 503")
        );
    }

    #[test]
    fn a_note_rides_on_synced_true_and_is_written_only_when_something_differs() {
        let mut profile = resource();
        assert_eq!(noted(None, &profile, Some("a note")), None, "no status to note on");
        let available = with(&profile, &Outcome::Available, |_| {});
        // A new status is written, with the note on Synced=True.
        let new = noted(Some(available.clone()), &profile, Some("a note")).expect("a new status is written");
        assert_eq!(condition(&new, SYNCED).2, "a note");
        assert_eq!(
            condition(&new, READY).2,
            condition(&available, READY).2,
            "only Synced carries it"
        );
        // No new status: the note changes the current one, once.
        profile.status = Some(available);
        let first = noted(None, &profile, Some("a note")).expect("the note is new");
        assert_eq!(condition(&first, SYNCED).2, "a note");
        profile.status = Some(first);
        assert_eq!(noted(None, &profile, Some("a note")), None, "already noted");
        let cleared = noted(None, &profile, None).expect("clearing the note is a change");
        assert_eq!(condition(&cleared, SYNCED).2, "");
        // Synced=False keeps its own message: the failure's.
        let failed = Outcome::Failed {
            reason: "ReconcileError",
            message: "Auth0 answered 503".into(),
            terminal: false,
            remote_available: true,
        };
        let failing = with(&profile, &failed, |_| {});
        let kept = noted(Some(failing), &profile, Some("a note")).expect("new");
        assert_eq!(condition(&kept, SYNCED).2, "Auth0 answered 503");
    }

    #[test]
    fn settled_means_this_generation_ready_and_no_request_since() {
        let mut profile = resource();
        assert!(!is_settled(&profile), "no status");
        profile.status = Some(with(&profile, &Outcome::Available, |_| {}));
        assert!(is_settled(&profile));
        assert_eq!(ready_of(profile.status.as_ref().unwrap()), Some("True"));
        profile.metadata.generation = Some(4);
        assert!(!is_settled(&profile), "a newer generation");
        profile.metadata.generation = Some(3);
        let annotations = profile.metadata.annotations.get_or_insert_default();
        annotations.insert(annotation::RECONCILE_REQUESTED_AT.into(), "2026-12-07T10:00:00Z".into());
        assert!(!is_settled(&profile), "a reconcile requested since");
        profile.status = Some(with(&profile, &Outcome::Available, |_| {}));
        assert!(is_settled(&profile), "the request handled");
        profile.status = Some(with(&profile, &Outcome::Creating, |_| {}));
        assert_ne!(ready_of(profile.status.as_ref().unwrap()), Some("True"));
        assert!(!is_settled(&profile), "not Ready");
        let mut without_ready = profile.status.clone().unwrap();
        without_ready.conditions.retain(|c| c.type_ != READY);
        assert_eq!(ready_of(&without_ready), None);
    }

    #[test]
    fn a_status_without_an_id_cannot_erase_one() {
        let failed = ConnectionProfileStatus {
            observed_generation: Some(2),
            ..ConnectionProfileStatus::default()
        };
        match patch::<ConnectionProfile>(failed.clone()) {
            Patch::Merge(body) => {
                assert_eq!(body, json!({"status": {"observedGeneration": 2}}));
            }
            other => panic!("a status without an id must be merged, not {other:?}"),
        }
        assert!(params(&failed).field_manager.as_deref() == Some(MANAGER));
        assert!(!params(&failed).force);
        let settled = ConnectionProfileStatus {
            id: Some("cop_1cu7Zs1Dfru5Qc9mZea7nm".into()),
            ..failed
        };
        match patch::<ConnectionProfile>(settled.clone()) {
            Patch::Apply(body) => assert_eq!(body["status"]["id"], "cop_1cu7Zs1Dfru5Qc9mZea7nm"),
            other => panic!("a status with an id is applied whole, not {other:?}"),
        }
        assert!(params(&settled).force);
    }

    /// `resource()` Ready with its profile recorded, as after a successful pass.
    fn ready() -> ConnectionProfile {
        let mut profile = resource();
        profile.status = Some(settled(&profile, "acme.eu.auth0.com", &json!({"id": ID, "name": "p"})));
        profile
    }

    fn unavailable() -> Error {
        Error::Auth0(crate::auth0::Auth0Error::Api {
            status: 503,
            error_code: None,
            message: "Service Unavailable".into(),
            retry_after: None,
        })
    }

    fn remote_available(failure: &Failure) -> bool {
        match failure.outcome {
            Outcome::Failed { remote_available, .. } => remote_available,
            ref other => panic!("a live resource's failure is Failed, not {other:?}"),
        }
    }

    #[test]
    fn a_transient_failure_retries_and_a_ready_profile_stays_reported_available() {
        let failure = failed(&ready(), &unavailable(), false);
        assert_eq!(failure.reason, "ReconcileError");
        assert!(!failure.stalled);
        assert!(remote_available(&failure));
        assert!(failure.message.contains("503"), "{}", failure.message);
        match &failure.outcome {
            Outcome::Failed { terminal, message, .. } => {
                assert!(!terminal);
                assert_eq!(message, &failure.message);
            }
            other => panic!("{other:?}"),
        }
        // The pass saw it gone (404 by id): no longer reported available.
        assert!(!remote_available(&failed(&ready(), &unavailable(), true)));
        // Never recorded, or not Ready: nothing to keep reporting.
        assert!(!remote_available(&failed(&resource(), &unavailable(), false)));
        let mut not_ready = ready();
        not_ready.status = Some(with(&not_ready, &Outcome::Creating, |_| {}));
        assert!(claims_recorded(&not_ready));
        assert!(!remote_available(&failed(&not_ready, &unavailable(), false)));
        // Recorded through the annotation only (a status lost in a restore) counts too.
        let mut annotated = ready();
        annotated.status.as_mut().unwrap().id = None;
        assert!(!remote_available(&failed(&annotated, &unavailable(), false)));
        annotated
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(annotation::PROFILE_ID.into(), ID.into());
        assert!(remote_available(&failed(&annotated, &unavailable(), false)));
    }

    fn claims_recorded(profile: &ConnectionProfile) -> bool {
        super::super::claims::recorded_id(profile).is_some()
    }

    #[test]
    fn the_profile_missing_or_on_another_tenant_is_not_reported_available() {
        let change = super::super::plan::TenantChange {
            recorded: "Auth0Tenant/old".into(),
            current: "Auth0Tenant/new".into(),
            evidence: super::super::plan::Claim::Recorded(ID.into()),
            repointed: None,
            kind: "ConnectionProfile",
        };
        for error in [
            Error::AdoptionTargetMissing(ID.into()),
            Error::ObservedMissing("p".into()),
            Error::TenantChanged(change),
        ] {
            let failure = failed(&ready(), &error, false);
            assert!(!remote_available(&failure), "{error}");
            assert!(failure.stalled, "{error} needs a person");
            assert_eq!(failure.message, error.to_string());
        }
        // Any other terminal failure keeps it reported available, and stalls.
        let invalid = failed(&ready(), &Error::InvalidAnnotation("bad".into()), false);
        assert!(remote_available(&invalid));
        assert!(invalid.stalled);
        assert_eq!(invalid.reason, "InvalidAnnotation");
    }

    #[test]
    fn a_blocked_deletion_stalls_on_a_terminal_or_tenant_failure_and_says_how_to_let_go() {
        let mut deleting = ready();
        deleting.metadata.deletion_timestamp = Some(Time(Timestamp::now()));
        let retried = failed(&deleting, &unavailable(), false);
        assert!(!retried.stalled);
        assert!(
            !retried.message.contains(annotation::FORCE_ORPHAN),
            "{}",
            retried.message
        );
        assert_eq!(
            retried.outcome,
            Outcome::DeleteBlocked {
                reason: "ReconcileError",
                message: retried.message.clone(),
                stalled: false,
                retrying: true,
            }
        );
        // Credentials gone: transient for a live resource, but a deletion waits for a person.
        let no_key = Error::Tenant(crate::controller::tenants::TenantError::KeyMissing {
            namespace: "ns".into(),
            name: "creds".into(),
            key: "client_secret".into(),
        });
        assert!(!failed(&ready(), &no_key, false).stalled);
        let blocked = failed(&deleting, &no_key, false);
        assert!(blocked.stalled);
        assert_eq!(blocked.reason, "CredentialsUnavailable");
        assert!(
            blocked
                .message
                .ends_with("annotate it auth0.operators.dev/force-orphan=true"),
            "{}",
            blocked.message
        );
        assert_eq!(
            blocked.outcome,
            Outcome::DeleteBlocked {
                reason: "CredentialsUnavailable",
                message: blocked.message.clone(),
                stalled: true,
                retrying: false,
            }
        );
        let terminal = failed(&deleting, &Error::InvalidAnnotation("bad".into()), false);
        assert!(terminal.stalled);
        assert!(terminal.message.contains(annotation::FORCE_ORPHAN));
    }

    /// A deletion waiting for its users, or a resource for its reference, looks again soon
    /// (it costs no call); every other failure backs off.
    #[test]
    fn a_deletion_waiting_for_its_users_looks_again_soon() {
        let mut deleting = ready();
        deleting.metadata.deletion_timestamp = Some(Time(Timestamp::now()));
        let in_use = Error::InUse {
            noun: "user attribute profile",
            id: "uap_1cu7Zs1Dfru5Qc9mZea7nm".into(),
            users: "SelfServiceProfile team/portal".into(),
        };
        let waiting = failed(&deleting, &in_use, false);
        assert_eq!(waiting.recheck, Some(WAIT_RECHECK));
        let referencing = failed(&ready(), &Error::ReferenceNotReady("not Ready".into()), false);
        assert_eq!(referencing.recheck, Some(WAIT_RECHECK));
        assert!(!referencing.stalled);
        assert_eq!(failed(&ready(), &in_use, false).recheck, Some(WAIT_RECHECK));
        assert!(!waiting.stalled);
        assert_eq!(failed(&deleting, &unavailable(), false).recheck, None);
        assert_eq!(failed(&ready(), &unavailable(), false).recheck, None);
        let refused = Error::DeleteRefused {
            noun: "user attribute profile",
            id: "uap_1cu7Zs1Dfru5Qc9mZea7nm".into(),
            message: "in use".into(),
        };
        assert_eq!(
            failed(&deleting, &refused, false).recheck,
            None,
            "a DELETE each time: backoff"
        );
    }

    #[test]
    fn a_panic_is_an_internal_error_retried_with_the_profile_kept_available() {
        let failure = failed(&ready(), &Error::Internal("index out of bounds".into()), false);
        assert_eq!(failure.reason, "InternalError");
        assert!(!failure.stalled);
        assert!(remote_available(&failure));
        assert!(failure.message.contains("index out of bounds"));
        assert!(failure.message.contains("a bug in the operator"));
    }

    #[test]
    fn settled_but_keeps_what_the_pass_saw_under_the_failure() {
        let profile = resource();
        let seen = settled(
            &profile,
            "acme.eu.auth0.com",
            &json!({"id": ID, "name": "p", "organization": {"new_key": 1}}),
        );
        let outcome = Outcome::Failed {
            reason: "NotConverging",
            message: "Auth0 keeps another value".into(),
            terminal: true,
            remote_available: true,
        };
        let status = settled_but(&profile, seen.clone(), &outcome);
        assert_eq!(status.id, seen.id);
        assert_eq!(status.tenant, seen.tenant);
        assert_eq!(status.tenant_ref, seen.tenant_ref);
        assert_eq!(status.at_provider, seen.at_provider);
        assert_eq!(status.unrecognized, seen.unrecognized);
        assert!(!status.unrecognized.is_empty());
        assert_eq!(
            condition(&status, SYNCED),
            ("False", "NotConverging", "Auth0 keeps another value")
        );
    }
}
