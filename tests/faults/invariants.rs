//! What must hold after every fault scenario, whatever happened during it.
//!
//! 1. Every ConnectionProfile that should exist in Auth0 exists exactly once, with the
//!    desired fields, under the id its status records; nothing the operator created is
//!    left behind without a resource (an orphan), unless a person asked for it.
//! 2. What the operator neither created nor adopted is untouched.
//! 3. Every resource is Ready, and every deleted one is gone.
//! 4. No client secret or access token appears in any log line, Event, status or message.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use auth0_operator::controller::desired::{desired, diff, normalize};
use auth0_operator::crd::kind::Resolved;
use auth0_operator::crd::{Auth0Tenant, ConnectionProfile, Kind};
use k8s_openapi::api::events::v1::Event;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use crate::churn::Fleet;
use crate::common::{Harness, SECRET, condition};

/// What a scenario expects beyond its fleet.
#[derive(Default)]
pub struct Expect {
    /// Profiles created outside the operator before the scenario, as they were.
    pub foreign: Vec<Value>,
    /// Ids a person told the operator to leave in Auth0 (force-orphan).
    pub released: Vec<String>,
    /// Every secret value the scenario used, besides the harness's.
    pub secrets: Vec<String>,
    /// Operator log files besides the harness's own.
    pub logs: Vec<PathBuf>,
    /// Resources beside the fleet that are expected not to converge (a name conflict, a
    /// second claim): not checked, and they own nothing in Auth0.
    pub bystanders: Vec<String>,
}

/// Profiles made in Auth0 by someone else (the dashboard), before the operator runs.
pub async fn seed_foreign(h: &Harness, names: &[&str]) -> Vec<Value> {
    let mut foreign = Vec::new();
    for name in names {
        let made = h
            .admin(
                "POST",
                "profiles",
                Some(json!({"name": name, "enabled_features": ["scim"]})),
            )
            .await;
        assert!(made["id"].is_string(), "seeding {name}: {made}");
        foreign.push(made);
    }
    foreign
}

/// Waits (up to `limit`) for the fleet to settle, then checks every invariant. Returns a
/// one-line summary for the report.
pub async fn check(h: &Harness, fleet: &Fleet, expect: &Expect, limit: Duration) -> String {
    let profiles = converge(h, fleet, expect, limit).await;
    let remote = h.remote();

    // 1. Exactly once, desired fields, recorded id.
    let mut by_name: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for p in &remote {
        by_name
            .entry(p["name"].as_str().unwrap_or_default().to_string())
            .or_default()
            .push(p);
    }
    let duplicates: Vec<_> = by_name.iter().filter(|(_, v)| v.len() > 1).map(|(n, _)| n).collect();
    assert!(duplicates.is_empty(), "duplicate profiles in Auth0: {duplicates:?}");
    let mut owned = BTreeSet::new();
    for profile in &profiles {
        let name = profile.effective_name();
        let found = by_name
            .get(name)
            .and_then(|v| v.first())
            .unwrap_or_else(|| panic!("{}: no profile named {name:?} in Auth0", profile.name_any()));
        let id = profile.status.as_ref().and_then(|s| s.id.clone()).unwrap_or_default();
        assert_eq!(
            found["id"],
            id.as_str(),
            "{}: status.id is not the profile's id",
            profile.name_any()
        );
        let drift = diff(&desired(profile), &normalize(found));
        assert!(
            drift.is_none(),
            "{}: Auth0 differs from the spec: {drift:?}",
            profile.name_any()
        );
        owned.insert(id);
    }

    // 1 and 2: nothing else, and the foreign profiles as they were.
    let foreign: BTreeMap<&str, &Value> = expect
        .foreign
        .iter()
        .map(|p| (p["id"].as_str().unwrap_or_default(), p))
        .collect();
    for p in &remote {
        let id = p["id"].as_str().unwrap_or_default();
        if owned.contains(id) || expect.released.iter().any(|r| r == id) {
            continue;
        }
        match foreign.get(id) {
            Some(before) => assert_eq!(&p, before, "a profile the operator does not own was modified"),
            None => panic!("orphan in Auth0 (created, then lost track of): {p}"),
        }
    }
    for id in foreign.keys() {
        assert!(
            remote.iter().any(|p| p["id"] == *id),
            "a foreign profile {id} was deleted"
        );
    }

    // 4. No secret anywhere.
    let outputs = outputs(h, &profiles, expect).await;
    let mut secrets = vec![SECRET.to_string()];
    secrets.extend(expect.secrets.iter().cloned());
    for (what, text) in &outputs {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a client secret appears in {what}");
        }
        assert!(!has_jwt(text), "an access token appears in {what}");
    }

    let requests = h.emulator.requests(&h.domain).expect("tenant");
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for r in &requests {
        *by_status
            .entry(format!("{} {}", r.endpoint.name(), r.status))
            .or_default() += 1;
    }
    format!(
        "{} resources Ready, {} profiles in Auth0 ({} foreign, {} released), 0 duplicates, 0 orphans, \
         {} outputs free of secrets; Auth0 answers {by_status:?}",
        profiles.len(),
        remote.len(),
        expect.foreign.len(),
        expect.released.len(),
        outputs.len(),
    )
}

/// Waits until every resource of the fleet is Ready for its generation and every deleted
/// one is gone; panics naming the laggards after `limit`.
async fn converge(h: &Harness, fleet: &Fleet, expect: &Expect, limit: Duration) -> Vec<ConnectionProfile> {
    let deadline = Instant::now() + limit;
    loop {
        let profiles = h.profiles().list(&ListParams::default()).await.expect("list").items;
        let names: BTreeSet<String> = profiles.iter().map(|p| p.name_any()).collect();
        let missing: Vec<&String> = fleet.live.keys().filter(|n| !names.contains(*n)).collect();
        let lingering: Vec<&String> = names
            .iter()
            .filter(|n| !fleet.live.contains_key(*n) && !expect.bystanders.contains(*n))
            .collect();
        type Unready = (String, Option<(String, String, String)>, (Option<i64>, Option<i64>));
        let unready: Vec<Unready> = profiles
            .iter()
            .filter(|p| fleet.live.contains_key(&p.name_any()))
            .filter(|p| {
                // Ready says the profile is available; Synced that it matches this spec.
                !(condition(p, "Ready").is_some_and(|c| c.0 == "True")
                    && condition(p, "Synced").is_some_and(|c| c.0 == "True")
                    && p.status.as_ref().and_then(|s| s.observed_generation) == p.metadata.generation)
            })
            .map(|p| {
                let generation = (
                    p.metadata.generation,
                    p.status.as_ref().and_then(|s| s.observed_generation),
                );
                let failing = condition(p, "Synced").filter(|c| c.0 != "True");
                (p.name_any(), failing.or(condition(p, "Ready")), generation)
            })
            .collect();
        if missing.is_empty() && lingering.is_empty() && unready.is_empty() {
            return profiles
                .into_iter()
                .filter(|p| !expect.bystanders.contains(&p.name_any()))
                .collect();
        }
        if Instant::now() > deadline {
            for (name, ready, generation) in &unready {
                // Not converged must at least say why, in words a person can act on.
                let (_, reason, message) = ready.clone().unwrap_or_default();
                assert!(
                    !reason.is_empty() && !message.is_empty(),
                    "{name}: not Ready and no reason given: {ready:?}, generation and observed {generation:?}"
                );
            }
            panic!(
                "not converged within {limit:?}: missing {missing:?}, not deleted {lingering:?}, not Ready {:?}",
                unready.iter().take(10).collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every text the operator produced that a person or another program can read.
async fn outputs(h: &Harness, profiles: &[ConnectionProfile], expect: &Expect) -> Vec<(String, String)> {
    let mut texts = Vec::new();
    for log in std::iter::once(&h.log).chain(&expect.logs) {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        texts.push((format!("log {}", log.display()), text));
    }
    assert!(
        texts.iter().any(|(_, text)| text.contains("auth0-operator starting")),
        "no operator log to search"
    );
    let events: Api<Event> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    for e in events.list(&ListParams::default()).await.expect("events").items {
        let text = format!(
            "{} {} {}",
            e.reason.unwrap_or_default(),
            e.note.unwrap_or_default(),
            e.action.unwrap_or_default()
        );
        texts.push((format!("event {}", e.metadata.name.unwrap_or_default()), text));
    }
    for p in profiles {
        texts.push((
            format!("status of {}", p.name_any()),
            serde_json::to_string(&p.status).unwrap_or_default(),
        ));
    }
    let tenants: Api<Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    for t in tenants.list(&ListParams::default()).await.expect("tenants").items {
        texts.push((
            format!("status of tenant {}", t.name_any()),
            serde_json::to_string(&t.status).unwrap_or_default(),
        ));
    }
    texts
}

/// The condition `type_` of a resource of any kind, as (status, reason, message).
pub fn condition_of<K: Kind>(resource: &K, type_: &str) -> Option<(String, String, String)> {
    resource
        .status()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// The items of one kind (`Auth0Api::kind`) the emulator holds, as JSON.
pub fn remote_items(h: &Harness, kind: &str) -> Vec<Value> {
    fn values<T: serde::Serialize>(items: Option<Vec<T>>) -> Vec<Value> {
        items
            .expect("tenant")
            .into_iter()
            .map(|p| serde_json::to_value(p).expect("json"))
            .collect()
    }
    match kind {
        "ConnectionProfile" => h.remote(),
        "UserAttributeProfile" => values(h.emulator.user_attribute_profiles(&h.domain)),
        "SelfServiceProfile" => values(h.emulator.self_service_profiles(&h.domain)),
        other => panic!("no emulator listing for kind {other}"),
    }
}

/// Items of a kind made in Auth0 by someone else (the dashboard), by POSTing each body to
/// the admin API's collection `path` (`user-attribute-profiles`); returns them as the
/// emulator then stores them, to compare with byte for byte at the end.
pub async fn seed_foreign_items<K: Kind>(h: &Harness, bodies: Vec<Value>) -> Vec<Value> {
    let mut ids = Vec::new();
    for body in bodies {
        let made = h.admin("POST", K::AUTH0.path, Some(body.clone())).await;
        let id = made["id"].as_str().unwrap_or_else(|| panic!("seeding {body}: {made}"));
        ids.push(id.to_string());
    }
    let remote = remote_items(h, K::AUTH0.kind);
    ids.iter()
        .map(|id| {
            remote
                .iter()
                .find(|p| p["id"] == id.as_str())
                .cloned()
                .expect("the seeded item")
        })
        .collect()
}

/// A condition as (status, reason, message), when there is one.
type Condition = Option<(String, String, String)>;

/// Whether a resource of any kind is Ready and Synced at its generation.
pub fn settled<K: Kind>(resource: &K) -> bool {
    condition_of(resource, "Ready").is_some_and(|c| c.0 == "True")
        && condition_of(resource, "Synced").is_some_and(|c| c.0 == "True")
        && resource.status().and_then(|s| s.observed_generation) == resource.meta().generation
}

/// Waits (up to `limit`) until the resources of kind `K` are exactly `live`, each Ready and
/// Synced at its generation, every other one gone; panics naming the laggards, each with its
/// reason (a laggard must at least say why). Returns the resources.
pub async fn converge_kind<K: Kind>(h: &Harness, live: &BTreeSet<String>, limit: Duration) -> Vec<K> {
    let api: Api<K> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let deadline = Instant::now() + limit;
    loop {
        let resources = api.list(&ListParams::default()).await.expect("list").items;
        let names: BTreeSet<String> = resources.iter().map(|r| r.name_any()).collect();
        let missing: Vec<&String> = live.difference(&names).collect();
        let lingering: Vec<&String> = names.difference(live).collect();
        let unready: Vec<(String, Condition)> = resources
            .iter()
            .filter(|r| live.contains(&r.name_any()) && !settled(*r))
            .map(|r| {
                let failing = condition_of(r, "Synced").filter(|c| c.0 != "True");
                (r.name_any(), failing.or(condition_of(r, "Ready")))
            })
            .collect();
        if missing.is_empty() && lingering.is_empty() && unready.is_empty() {
            return resources;
        }
        if Instant::now() > deadline {
            for (name, why) in &unready {
                let (_, reason, message) = why.clone().unwrap_or_default();
                assert!(
                    !reason.is_empty() && !message.is_empty(),
                    "{} {name}: not Ready and no reason given: {why:?}",
                    K::AUTH0.kind
                );
            }
            let lingering_why: Vec<_> = resources
                .iter()
                .filter(|r| lingering.contains(&&r.name_any()))
                .map(|r| (r.name_any(), condition_of(r, "Synced")))
                .take(10)
                .collect();
            panic!(
                "{}s not converged within {limit:?}: missing {missing:?}, not deleted {lingering_why:?}, not Ready {:?}",
                K::AUTH0.kind,
                unready.iter().take(10).collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The invariants for one kind, on settled `resources` (from [`converge_kind`]): each has
/// exactly one item in Auth0, under its `status.id`, with the spec's fields (its references
/// resolved by `resolve`) and its sub-documents (custom text); the `foreign` items are there
/// byte for byte; nothing else is (no duplicate, no orphan, nothing a deleted resource
/// made). Returns a summary.
pub async fn check_kind<K: Kind>(
    h: &Harness,
    resources: &[K],
    foreign: &[Value],
    resolve: impl Fn(&K) -> Resolved,
) -> String {
    let kind = K::AUTH0.kind;
    let remote = remote_items(h, kind);
    let by_id: BTreeMap<&str, &Value> = remote
        .iter()
        .map(|p| (p["id"].as_str().unwrap_or_default(), p))
        .collect();
    assert_eq!(by_id.len(), remote.len(), "{kind}: Auth0 holds an id twice");
    let mut owned = BTreeSet::new();
    for r in resources {
        let name = r.name_any();
        let id = r
            .status()
            .and_then(|s| s.id.clone())
            .unwrap_or_else(|| panic!("{kind} {name}: Ready without status.id"));
        let found = by_id
            .get(id.as_str())
            .unwrap_or_else(|| panic!("{kind} {name}: status.id {id}, which Auth0 does not hold"));
        assert_eq!(
            found["name"].as_str(),
            Some(r.common().name),
            "{kind} {name}: the item under status.id has another name"
        );
        assert!(owned.insert(id.clone()), "{kind}: {id} is recorded by two resources");
        let drift = diff(&r.desired(&resolve(r)), &K::normalize(found));
        assert!(drift.is_none(), "{kind} {name}: Auth0 differs from the spec: {drift:?}");
        for document in r.sub_documents() {
            // The emulator's admin API serves the whole custom text at `{id}/custom-text`.
            let collection = document.suffix.split('/').next().unwrap_or_default();
            let held = h
                .admin("GET", &format!("{}/{id}/{collection}", K::AUTH0.path), None)
                .await;
            assert_eq!(
                held,
                Value::Object(document.desired.clone()),
                "{kind} {name}: {} differs in Auth0",
                document.spec_field
            );
        }
    }
    // One item per resource: the operator's items are exactly the recorded ones, so no
    // duplicate (a second item of a resource's name) and no orphan (an item of a deleted
    // resource, or of a create it lost track of).
    let foreign_by_id: BTreeMap<&str, &Value> = foreign
        .iter()
        .map(|p| (p["id"].as_str().unwrap_or_default(), p))
        .collect();
    for p in &remote {
        let id = p["id"].as_str().unwrap_or_default();
        if owned.contains(id) {
            continue;
        }
        match foreign_by_id.get(id) {
            Some(before) => assert_eq!(&p, before, "{kind}: an item the operator does not own was modified"),
            None => panic!("{kind}: duplicate or orphan in Auth0 (no live resource records it, not foreign): {p}"),
        }
    }
    for id in foreign_by_id.keys() {
        assert!(by_id.contains_key(id), "{kind}: a foreign item {id} was deleted");
    }
    format!(
        "{} {kind}s Ready, {} in Auth0 ({} foreign), 0 duplicates, 0 orphans",
        resources.len(),
        remote.len(),
        foreign.len()
    )
}

/// Whether `text` holds something shaped like a JWT (`eyJ…​.eyJ…`).
pub fn has_jwt(text: &str) -> bool {
    text.match_indices("eyJ").any(|(at, _)| {
        let rest = &text[at..];
        let header_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            .count();
        header_len >= 10 && rest[header_len..].starts_with(".eyJ")
    })
}

#[test]
fn jwt_shapes_are_recognised() {
    assert!(has_jwt("token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig"));
    assert!(!has_jwt("eyJ alone, or eyJshort.eyJ"));
    assert!(!has_jwt("no token here"));
}
