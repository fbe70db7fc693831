//! Who owns which Auth0 profile across the cluster (pure): one profile, one owner. A
//! resource under `Manage` claims the id it recorded (`status.id`, else the `profile-id`
//! annotation) or names in `spec.externalID`; when several claim one id, the first claim
//! (oldest `creationTimestamp`, then uid) owns it and the others get `AlreadyManaged`.
//! Resources under `Observe` claim nothing: they never write.

use crate::crd::Kind;
use std::sync::Arc;

use kube::ResourceExt;

use crate::crd::ManagementPolicy;

use super::annotation;
use super::plan::Claim;

/// The id a resource's own records bind it to: `status.id`, else the `profile-id`
/// annotation (which survives a restore or a re-apply without status).
pub fn recorded_id<K: Kind>(profile: &K) -> Option<&str> {
    profile
        .status()
        .as_ref()
        .and_then(|s| s.id.as_deref())
        .or_else(|| profile.annotations().get(annotation::PROFILE_ID).map(String::as_str))
        .filter(|id| !id.is_empty())
}

/// The id a resource claims under `Manage`: recorded, else `spec.externalID`.
///
/// A copy the types could not read (`controller/decode.rs`) claims nothing: its spec is a
/// stand-in (`Manage`, no `externalID`), and it must not outrank a resource that can be read.
pub fn claimed_id<K: Kind>(profile: &K) -> Option<&str> {
    if profile.common().management_policy != ManagementPolicy::Manage
        || profile
            .annotations()
            .contains_key(crate::controller::decode::UNDECODABLE)
    {
        return None;
    }
    recorded_id(profile).or(profile.common().external_id)
}

/// The name of a create that may have reached Auth0 unrecorded, as the resource's
/// `create-pending` mark records it. Earlier versions of the operator wrote a timestamp into
/// the mark: such a mark stands for the resource's own name (they never posted another).
pub fn pending_mark<K: Kind>(profile: &K) -> Option<String> {
    profile.annotations().get(annotation::CREATE_PENDING).map(|posted| {
        let legacy = posted.parse::<k8s_openapi::jiff::Timestamp>().is_ok();
        if legacy {
            profile.common().name.to_string()
        } else {
            posted.clone()
        }
    })
}

/// What the resource's records prove about its profile, strongest first: its recorded id,
/// else `spec.externalID`, else `pending` (the name of a create that may have reached Auth0),
/// else nothing. The reconciler passes its own memory of creates beside the mark; `plan`
/// passes [`pending_mark`].
pub fn claim_of<K: Kind>(profile: &K, pending: Option<String>) -> Claim {
    if let Some(id) = recorded_id(profile) {
        return Claim::Recorded(id.to_string());
    }
    if let Some(id) = profile.common().external_id {
        return Claim::External(id.to_string());
    }
    match pending {
        Some(posted_name) => Claim::Uncertain { posted_name },
        None => Claim::Nothing,
    }
}

/// `namespace/name`, how a resource is named in messages.
pub fn key<K: Kind>(profile: &K) -> String {
    format!("{}/{}", profile.namespace().unwrap_or_default(), profile.name_any())
}

/// The order of claims: the oldest resource first, then the smaller uid.
fn seniority<K: Kind>(profile: &K) -> (Option<i64>, String) {
    (
        profile.meta().creation_timestamp.as_ref().map(|t| t.0.as_second()),
        profile.uid().unwrap_or_default(),
    )
}

/// What the other resources' claims mean for `this` one. Holds no index of the cluster's
/// claims: every pass in progress holds one, and a map of every claim per pass cost
/// 2 MB each with 10,000 resources (3 GB with 1,600 passes of 50 tenants in progress;
/// `make bench`'s tenants scenario found it). [`owner_of`] looks one id up when asked.
#[derive(Debug, Default)]
pub struct Claims {
    /// The other resource, older than `this`, that claims this resource's own id.
    pub older_claimant: Option<String>,
}

impl Claims {
    /// Reads `all` (the controller's cache) from `this` resource's point of view.
    pub fn of<K: Kind>(this: &K, all: &[Arc<K>]) -> Claims {
        let older_claimant = claimed_id(this).and_then(|own_id| {
            let own_seniority = seniority(this);
            first_claim(this, own_id, all)
                .filter(|(seniority, _)| *seniority < own_seniority)
                .map(|(_, owner)| owner)
        });
        Claims { older_claimant }
    }
}

/// The resource other than `this` that owns `id` by the first claim, as `namespace/name`.
pub fn owner_of<K: Kind>(this: &K, id: &str, all: &[Arc<K>]) -> Option<String> {
    first_claim(this, id, all).map(|(_, owner)| owner)
}

/// The oldest claim of `id` among the resources other than `this`: its seniority and
/// `namespace/name`.
fn first_claim<K: Kind>(this: &K, id: &str, all: &[Arc<K>]) -> Option<((Option<i64>, String), String)> {
    all.iter()
        .filter(|other| other.meta().uid != this.meta().uid && claimed_id(other.as_ref()) == Some(id))
        .map(|other| (seniority(other.as_ref()), other))
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(seniority, other)| (seniority, key(other.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ConnectionProfileSpec;
    use crate::crd::{ConnectionProfile, ConnectionProfileStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    fn profile(ns: &str, name: &str, uid: &str, created: i64, external: Option<&str>) -> Arc<ConnectionProfile> {
        let mut p = ConnectionProfile::new(
            name,
            ConnectionProfileSpec {
                external_id: external.map(str::to_string),
                ..Default::default()
            },
        );
        p.metadata.namespace = Some(ns.into());
        p.metadata.uid = Some(uid.into());
        p.metadata.creation_timestamp = Some(Time(Timestamp::from_second(created).expect("time")));
        Arc::new(p)
    }

    const ID: &str = "cop_1cu7Zs1Dfru5Qc9mZea7nm";

    #[test]
    fn the_first_claim_owns_the_id() {
        let first = profile("a", "first", "u1", 100, Some(ID));
        let second = profile("b", "second", "u2", 200, Some(ID));
        let all = vec![first.clone(), second.clone()];
        assert_eq!(Claims::of(first.as_ref(), &all).older_claimant, None);
        assert_eq!(
            Claims::of(second.as_ref(), &all).older_claimant.as_deref(),
            Some("a/first")
        );
        // Same second: the smaller uid.
        let twin = profile("c", "twin", "u0", 100, Some(ID));
        let all = vec![first.clone(), twin.clone()];
        assert_eq!(
            Claims::of(first.as_ref(), &all).older_claimant.as_deref(),
            Some("c/twin")
        );
        assert_eq!(owner_of(twin.as_ref(), ID, &all).as_deref(), Some("a/first"));
    }

    #[test]
    fn the_pending_mark_names_what_was_posted_and_a_legacy_timestamp_the_own_name() {
        let mut p = (*profile("a", "mine", "u1", 100, None)).clone();
        assert_eq!(pending_mark(&p), None);
        let mut mark = |value: &str| {
            p.metadata
                .annotations
                .get_or_insert_default()
                .insert(annotation::CREATE_PENDING.into(), value.into());
            pending_mark(&p)
        };
        // Renamed since it posted: the mark keeps the name that went out.
        assert_eq!(mark("old-name").as_deref(), Some("old-name"));
        assert_eq!(mark("mine").as_deref(), Some("mine"));
        // Earlier versions wrote when they posted, and they only ever posted the own name.
        assert_eq!(mark("2026-11-02T10:00:00Z").as_deref(), Some("mine"));
    }

    #[test]
    fn a_recorded_id_claims_and_observe_claims_nothing() {
        let mut restored = (*profile("a", "restored", "u1", 100, None)).clone();
        restored
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(annotation::PROFILE_ID.into(), ID.into());
        assert_eq!(recorded_id(&restored), Some(ID));
        let mut recorded = (*profile("b", "recorded", "u2", 50, None)).clone();
        recorded.status = Some(ConnectionProfileStatus {
            id: Some(ID.into()),
            ..Default::default()
        });
        let all = vec![Arc::new(restored.clone()), Arc::new(recorded.clone())];
        assert_eq!(
            Claims::of(&restored, &all).older_claimant.as_deref(),
            Some("b/recorded")
        );
        recorded.spec.management_policy = ManagementPolicy::Observe;
        let all = vec![Arc::new(restored.clone()), Arc::new(recorded)];
        assert_eq!(Claims::of(&restored, &all).older_claimant, None);
        assert_eq!(owner_of(&restored, ID, &all), None);
    }
}
