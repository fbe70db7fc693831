//! After the walk, for the two kinds beside ConnectionProfile (UserAttributeProfile `wu-*`,
//! SelfServiceProfile `ws-*`): when they have settled, and what must hold.
//!
//! - settled: deleted ones gone, but a user attribute profile whose deletion waits for the
//!   self-service profiles that use it (`InUse`); live ones at their generation, Ready and
//!   Synced, or waiting for a person: `Conflict` (an item of the name that is not theirs),
//!   `InvalidReference` (the profile named is on the other tenant), `ReferenceNotReady` (the
//!   profile named does not exist, is being deleted, or is not Ready itself), `QuotaExceeded`
//!   (the tenant holds 20);
//! - each of those reasons is true (checked against the cluster and Auth0);
//! - Ready names an item Auth0 holds under the resource's name; Synced means the spec's
//!   fields, the custom text, and the id of the user attribute profile named as it is NOW
//!   (never a stale one);
//! - one item per resource (no two resources record one id, no two owned items share a
//!   name), no orphan (every item is a live resource's, or foreign), and the foreign items
//!   (seeded, or made by the dashboard steps) neither written nor deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use auth0_operator::crd::kind::Resolved;
use auth0_operator::crd::{Kind, SelfServiceProfile, UserAttributeProfile};
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::Value;

use crate::apply::World;
use crate::invariants::{condition_of, remote_items};

/// The resources of both kinds, as last listed.
pub struct Others {
    pub uaps: Vec<UserAttributeProfile>,
    pub ssps: Vec<SelfServiceProfile>,
}

impl Others {
    async fn list(world: &World<'_>) -> Others {
        let h = world.h;
        let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
        let ssps: Api<SelfServiceProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
        Others {
            uaps: uaps.list(&ListParams::default()).await.expect("list").items,
            ssps: ssps.list(&ListParams::default()).await.expect("list").items,
        }
    }

    fn uap(&self, name: &str) -> Option<&UserAttributeProfile> {
        self.uaps.iter().find(|u| u.name_any() == name)
    }

    /// The user attribute profile a self-service profile names (by name).
    fn named(ssp: &SelfServiceProfile) -> Option<String> {
        ssp.spec.user_attribute_profile_ref.as_ref()?.name.clone()
    }

    /// The self-service profiles that use a user attribute profile: by name in the spec, or
    /// by its id in Auth0's copy (status.atProvider).
    fn users(&self, uap: &UserAttributeProfile) -> Vec<String> {
        let id = uap.status.as_ref().and_then(|s| s.id.clone());
        self.ssps
            .iter()
            .filter(|s| {
                Self::named(s).as_deref() == Some(uap.name_any().as_str())
                    || (id.is_some()
                        && s.status
                            .as_ref()
                            .and_then(|st| st.at_provider.as_ref())
                            .and_then(|a| a.user_attribute_profile_id.clone())
                            == id)
            })
            .map(|s| s.name_any())
            .collect()
    }
}

fn ready<K: Kind>(r: &K) -> bool {
    condition_of(r, "Ready").is_some_and(|c| c.0 == "True")
}

fn synced<K: Kind>(r: &K) -> (String, String, String) {
    condition_of(r, "Synced").unwrap_or_default()
}

fn at_generation<K: Kind>(r: &K) -> bool {
    r.status().and_then(|s| s.observed_generation) == r.meta().generation
}

/// Why the resources of the two kinds have not settled (empty when they have).
fn unsettled(others: &Others, ssps_in_auth0: usize) -> Vec<(String, String)> {
    let mut laggards = Vec::new();
    for u in &others.uaps {
        let (status, reason, message) = synced(u);
        let why = if u.metadata.deletion_timestamp.is_some() {
            (reason != "InUse").then(|| format!("not deleted: {reason} {message}"))
        } else if !at_generation(u) {
            Some("not at its generation".to_string())
        } else if (ready(u) && status == "True") || reason == "Conflict" {
            None
        } else {
            Some(format!("Synced {status} {reason}: {message}"))
        };
        laggards.extend(why.map(|w| (u.name_any(), w)));
    }
    for s in &others.ssps {
        let (status, reason, message) = synced(s);
        let named = Others::named(s).and_then(|n| others.uap(&n));
        let why = if s.metadata.deletion_timestamp.is_some() {
            Some(format!("not deleted: {reason} {message}"))
        } else if !at_generation(s) {
            Some("not at its generation".to_string())
        } else if ready(s) && status == "True" {
            None
        } else {
            match reason.as_str() {
                "Conflict" | "InvalidReference" => None,
                // Waiting for a profile that will not be Ready without a person.
                "ReferenceNotReady" if named.is_none_or(|u| u.metadata.deletion_timestamp.is_some() || !ready(u)) => {
                    None
                }
                "QuotaExceeded" if ssps_in_auth0 >= 20 => None,
                _ => Some(format!("Synced {status} {reason}: {message}")),
            }
        };
        laggards.extend(why.map(|w| (s.name_any(), w)));
    }
    laggards
}

/// Waits until both kinds have settled; panics after `limit` naming the laggards.
pub async fn settle(world: &mut World<'_>, limit: Duration) -> (Others, Duration) {
    let started = Instant::now();
    loop {
        world.supervise("the walk, while settling the other kinds");
        let others = Others::list(world).await;
        let ssps_in_auth0 = remote_items(world.h, "SelfServiceProfile").len();
        let laggards = unsettled(&others, ssps_in_auth0);
        if laggards.is_empty() {
            return (others, started.elapsed());
        }
        if started.elapsed() > limit {
            panic!(
                "user attribute / self-service profiles not settled within {limit:?} of the faults' end: {laggards:#?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Checks one kind's resources against Auth0; returns the ids they own.
async fn check_kind<K: Kind>(
    world: &World<'_>,
    resources: &[K],
    remote: &[Value],
    resolve: impl Fn(&K) -> Option<Resolved>,
) -> BTreeSet<String> {
    let kind = K::AUTH0.kind;
    let by_id: BTreeMap<&str, &Value> = remote
        .iter()
        .map(|p| (p["id"].as_str().unwrap_or_default(), p))
        .collect();
    let mut owned = BTreeSet::new();
    for r in resources {
        let name = r.name_any();
        let (status, reason, message) = synced(r);
        let id = r.status().and_then(|s| s.id.clone());
        if let Some(id) = &id {
            assert!(owned.insert(id.clone()), "{kind}: {id} is recorded by two resources");
        }
        if let Some(marked) = r.annotations().get("auth0.operators.dev/profile-id") {
            owned.insert(marked.clone());
        }
        if r.meta().deletion_timestamp.is_some() {
            continue;
        }
        if ready(r) {
            let id = id
                .clone()
                .unwrap_or_else(|| panic!("{kind} {name}: Ready without status.id"));
            let found = by_id
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{kind} {name}: Ready, but Auth0 holds no {id}"));
            assert_eq!(
                found["name"].as_str(),
                Some(r.common().name),
                "{kind} {name}: {id} has another name"
            );
            if status == "True" {
                let resolved =
                    resolve(r).unwrap_or_else(|| panic!("{kind} {name}: Synced, yet its reference is not Ready"));
                let drift = auth0_operator::controller::desired::diff(&r.desired(&resolved), &K::normalize(found));
                assert!(drift.is_none(), "{kind} {name}: Synced, yet Auth0 differs by {drift:?}");
                for document in r.sub_documents() {
                    let collection = document.suffix.split('/').next().unwrap_or_default();
                    let (_, held) = world
                        .admin_try("GET", &format!("{}/{id}/{collection}", K::AUTH0.path), None)
                        .await;
                    assert_eq!(
                        held,
                        Value::Object(document.desired.clone()),
                        "{kind} {name}: custom text"
                    );
                }
            }
        }
        if reason == "Conflict" {
            let holder = remote
                .iter()
                .any(|p| p["name"].as_str() == Some(r.common().name) && p["id"].as_str() != id.as_deref());
            assert!(
                holder,
                "{kind} {name}: Conflict, but no other item holds its name: {message}"
            );
        }
    }
    owned
}

/// Checks every invariant of the two kinds on settled resources; returns a summary.
pub async fn check(world: &World<'_>, others: &Others) -> String {
    let h = world.h;
    let remote_uaps = remote_items(h, "UserAttributeProfile");
    let remote_ssps = remote_items(h, "SelfServiceProfile");

    // Each reason true.
    for s in &others.ssps {
        let (_, reason, message) = synced(s);
        let named = Others::named(s).and_then(|n| others.uap(&n));
        match reason.as_str() {
            "InvalidReference" => {
                let u =
                    named.unwrap_or_else(|| panic!("{}: InvalidReference, naming nothing: {message}", s.name_any()));
                assert_ne!(
                    u.spec.tenant_ref,
                    s.spec.tenant_ref,
                    "{}: InvalidReference, yet {} is on its tenant",
                    s.name_any(),
                    u.name_any()
                );
            }
            "ReferenceNotReady" => assert!(
                named.is_none_or(|u| u.metadata.deletion_timestamp.is_some() || !ready(u)),
                "{}: ReferenceNotReady, yet the profile it names is Ready: {message}",
                s.name_any()
            ),
            "QuotaExceeded" => assert!(
                remote_ssps.len() >= 20,
                "{}: QuotaExceeded with {} in Auth0",
                s.name_any(),
                remote_ssps.len()
            ),
            _ => {}
        }
    }
    for u in others.uaps.iter().filter(|u| u.metadata.deletion_timestamp.is_some()) {
        let users = others.users(u);
        assert!(
            !users.is_empty(),
            "{}: deletion waits (InUse), yet nothing uses it",
            u.name_any()
        );
    }

    // Status true to Auth0; a self-service profile carries the current id of what it names.
    let uap_ids = |s: &SelfServiceProfile| -> Option<Resolved> {
        let u = others.uap(&Others::named(s)?)?;
        let id = u.status.as_ref()?.id.clone()?;
        (ready(u) && u.metadata.deletion_timestamp.is_none())
            .then(|| Resolved::from([("user_attribute_profile_id", id)]))
    };
    let mut owned = check_kind(world, &others.uaps, &remote_uaps, |_| Some(Resolved::new())).await;
    owned.extend(check_kind(world, &others.ssps, &remote_ssps, uap_ids).await);
    let mut current = 0;
    for s in others.ssps.iter().filter(|s| ready(*s) && synced(*s).0 == "True") {
        let id = s.status.as_ref().and_then(|st| st.id.clone()).expect("id");
        let held = remote_ssps.iter().find(|p| p["id"] == id.as_str()).expect("held");
        let want = uap_ids(s).and_then(|r| r.get("user_attribute_profile_id").cloned());
        assert_eq!(
            held["user_attribute_profile_id"].as_str(),
            want.as_deref(),
            "{}: Auth0 holds another user attribute profile id than {:?}'s current one",
            s.name_any(),
            Others::named(s)
        );
        current += 1;
    }

    // One item per resource, no orphan, the foreign ones untouched.
    let mut names: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (kind, items) in [
        ("UserAttributeProfile", &remote_uaps),
        ("SelfServiceProfile", &remote_ssps),
    ] {
        for p in items.iter() {
            let id = p["id"].as_str().unwrap_or_default();
            if owned.contains(id) {
                *names
                    .entry((kind.to_string(), p["name"].as_str().unwrap_or_default().to_string()))
                    .or_default() += 1;
                continue;
            }
            let before = world
                .foreign_other
                .get(id)
                .unwrap_or_else(|| panic!("{kind}: orphan in Auth0 (no resource records it, not foreign): {p}"));
            assert_eq!(
                p["updated_at"], before["updated_at"],
                "{kind}: a foreign item was modified: {p}"
            );
        }
    }
    let duplicates: Vec<_> = names.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "owned items share a name: {duplicates:?}");
    for id in world.foreign_other.keys() {
        assert!(
            remote_uaps.iter().chain(&remote_ssps).any(|p| p["id"] == id.as_str()),
            "a foreign item {id} was deleted"
        );
    }
    let mut writes = 0;
    for (method, path, status) in h.requests() {
        if method == "GET" || !(path.contains("/user-attribute-profiles/") || path.contains("/self-service-profiles/"))
        {
            continue;
        }
        writes += 1;
        let id = path.split('/').nth(4).unwrap_or_default();
        assert!(
            !world.foreign_other.contains_key(id),
            "the operator sent {method} {path} ({status}) to an item that was never a resource's"
        );
    }

    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    for (name, deleting, ready, reason) in others
        .uaps
        .iter()
        .map(|u| {
            (
                u.name_any(),
                u.metadata.deletion_timestamp.is_some(),
                ready(u),
                synced(u).1,
            )
        })
        .chain(others.ssps.iter().map(|s| {
            (
                s.name_any(),
                s.metadata.deletion_timestamp.is_some(),
                ready(s),
                synced(s).1,
            )
        }))
    {
        let _ = name;
        let state = if deleting {
            format!("deleting/{reason}")
        } else {
            format!("{}/{reason}", if ready { "Ready" } else { "NotReady" })
        };
        *states.entry(state).or_default() += 1;
    }
    format!(
        "{} user attribute and {} self-service profiles ({states:?}), {} and {} in Auth0 ({} foreign), \
         {current} carrying the current id of what they name, {} dashboard deletes of a user attribute profile, \
         0 duplicates, 0 orphans, 0 writes to foreign items ({writes} writes by id)",
        others.uaps.len(),
        others.ssps.len(),
        remote_uaps.len(),
        remote_ssps.len(),
        world.foreign_other.len(),
        world.dashboard_uap_deletes,
    )
}
