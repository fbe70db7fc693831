//! Who owns which Auth0 profile across the cluster (pure): one profile, one owner. A
//! resource under `Manage` claims the id it recorded (`status.id`, else the `profile-id`
//! annotation) or names in `spec.externalID`; when several claim one id, the first claim
//! (oldest `creationTimestamp`, then uid) owns it and the others get `AlreadyManaged`.
//! Resources under `Observe` claim nothing: they never write.

use std::collections::HashMap;
use std::sync::Arc;

use kube::ResourceExt;

use crate::crd::{ConnectionProfile, ManagementPolicy};

use super::annotation;

/// The id a resource's own records bind it to: `status.id`, else the `profile-id`
/// annotation (which survives a restore or a re-apply without status).
pub fn recorded_id(profile: &ConnectionProfile) -> Option<&str> {
    profile
        .status
        .as_ref()
        .and_then(|s| s.id.as_deref())
        .or_else(|| profile.annotations().get(annotation::PROFILE_ID).map(String::as_str))
        .filter(|id| !id.is_empty())
}

/// The id a resource claims under `Manage`: recorded, else `spec.externalID`.
pub fn claimed_id(profile: &ConnectionProfile) -> Option<&str> {
    if profile.spec.management_policy != ManagementPolicy::Manage {
        return None;
    }
    recorded_id(profile).or(profile.spec.external_id.as_deref())
}

/// `namespace/name`, how a resource is named in messages.
pub fn key(profile: &ConnectionProfile) -> String {
    format!("{}/{}", profile.namespace().unwrap_or_default(), profile.name_any())
}

/// The order of claims: the oldest resource first, then the smaller uid.
fn seniority(profile: &ConnectionProfile) -> (Option<i64>, String) {
    (
        profile.metadata.creation_timestamp.as_ref().map(|t| t.0.as_second()),
        profile.uid().unwrap_or_default(),
    )
}

/// The claims of every resource but `this`: id → the owning resource's `namespace/name`.
#[derive(Debug, Default)]
pub struct Claims {
    owners: HashMap<String, (Option<i64>, String, String)>,
    /// The other resource, older than `this`, that claims this resource's own id.
    pub older_claimant: Option<String>,
}

impl Claims {
    /// Reads `all` (the controller's cache) from `this` resource's point of view.
    pub fn of(this: &ConnectionProfile, all: &[Arc<ConnectionProfile>]) -> Claims {
        let this_uid = this.uid().unwrap_or_default();
        let own_id = claimed_id(this);
        let own_seniority = seniority(this);
        let mut owners: HashMap<String, (Option<i64>, String, String)> = HashMap::new();
        let mut older_claimant: Option<((Option<i64>, String), String)> = None;
        for other in all {
            if other.uid().unwrap_or_default() == this_uid {
                continue;
            }
            let Some(id) = claimed_id(other) else { continue };
            let (created, uid) = seniority(other);
            let entry = owners
                .entry(id.to_string())
                .or_insert_with(|| (created, uid.clone(), key(other)));
            if (created, uid.clone()) < (entry.0, entry.1.clone()) {
                *entry = (created, uid.clone(), key(other));
            }
            if own_id == Some(id) && (created, uid.clone()) < own_seniority {
                let candidate = ((created, uid), key(other));
                if older_claimant.as_ref().is_none_or(|(s, _)| candidate.0 < *s) {
                    older_claimant = Some(candidate);
                }
            }
        }
        Claims {
            owners,
            older_claimant: older_claimant.map(|(_, k)| k),
        }
    }

    /// The other resource that claims `id`, if one does.
    pub fn owner_of(&self, id: &str) -> Option<String> {
        self.owners.get(id).map(|(_, _, owner)| owner.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{ConnectionProfileSpec, ConnectionProfileStatus};
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
        assert_eq!(Claims::of(&first, &all).older_claimant, None);
        assert_eq!(Claims::of(&second, &all).older_claimant.as_deref(), Some("a/first"));
        // Same second: the smaller uid.
        let twin = profile("c", "twin", "u0", 100, Some(ID));
        let all = vec![first.clone(), twin.clone()];
        assert_eq!(Claims::of(&first, &all).older_claimant.as_deref(), Some("c/twin"));
        assert_eq!(Claims::of(&twin, &all).owner_of(ID).as_deref(), Some("a/first"));
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
        assert_eq!(Claims::of(&restored, &all).owner_of(ID), None);
    }
}
