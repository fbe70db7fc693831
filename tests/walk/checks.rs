//! After the walk: the faults stopped, the fleet settled, and what must hold whatever the
//! walk did.
//!
//! - the operator's processes never exited but when the walk stopped them;
//! - every resource settled within the bound: deleted ones gone (but a paused deletion),
//!   live ones at their generation, in a state that needs no one (Ready and Synced, or
//!   Paused) or that says which person must act (Conflict, AlreadyManaged, NotFound,
//!   NotConverging);
//! - every status is true to what Auth0 holds (the id exists, the fields are the spec's,
//!   the conflict's holder exists, the claimed id is claimed by another, …);
//! - no profile that was never a resource's was written or deleted (the request log);
//! - no orphan: every profile in Auth0 is a live resource's, foreign, or released by a
//!   person (deletionPolicy Orphan, Observe, force-orphan);
//! - no duplicate among the owned profiles;
//! - the `auth0_operator_resources` gauge counts the resources in the cluster;
//! - no secret or token in any log or status;
//! - per-resource memory bounded by the live resources (when the operator reports it).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use auth0_operator::controller::desired::{desired, diff, normalize};
use auth0_operator::crd::{ConnectionProfile, ManagementPolicy};
use kube::ResourceExt;
use kube::api::ListParams;
use serde_json::Value;

use crate::apply::World;
use crate::common::{condition, http_get};
use crate::invariants::has_jwt;

/// Reasons that wait for a person: a settled resource may report them, if they are true.
/// (`InvalidAnnotation` and `WriteRefused` come with the operator's checks of annotations:
/// an odd value, or no room left for its marks.)
const WAITS_FOR_A_PERSON: [&str; 6] = [
    "Conflict",
    "AlreadyManaged",
    "NotFound",
    "NotConverging",
    "InvalidAnnotation",
    "WriteRefused",
];

fn is_true(p: &ConnectionProfile, key: &str) -> bool {
    p.annotations().get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Why a resource has not settled, or None when it has.
fn unsettled(p: &ConnectionProfile) -> Option<String> {
    let paused = is_true(p, "auth0.operators.dev/paused");
    if p.metadata.deletion_timestamp.is_some() {
        let keeps = is_true(p, "auth0.operators.dev/force-orphan")
            || p.spec.deletion_policy == auth0_operator::crd::DeletionPolicy::Orphan
            || p.spec.management_policy == ManagementPolicy::Observe;
        return (!paused || keeps).then(|| format!("not deleted: {:?}", condition(p, "Synced")));
    }
    let generation = p.metadata.generation;
    let observed = p.status.as_ref().and_then(|s| s.observed_generation);
    if observed != generation {
        return Some(format!("generation {generation:?}, observed {observed:?}"));
    }
    let ready = condition(p, "Ready").unwrap_or_default();
    let synced = condition(p, "Synced").unwrap_or_default();
    if paused {
        return (ready.1 != "Paused").then(|| format!("paused, yet Ready is {ready:?}"));
    }
    if ready.0 == "True" && synced.0 == "True" {
        return None;
    }
    if WAITS_FOR_A_PERSON.contains(&synced.1.as_str()) {
        return None;
    }
    Some(format!("Ready {ready:?}, Synced {synced:?}"))
}

/// Waits until every resource has settled (see `unsettled`); panics after `limit` naming the
/// laggards. Returns the resources and how long it took.
pub async fn settle(world: &mut World<'_>, limit: Duration) -> (Vec<ConnectionProfile>, Duration) {
    let started = Instant::now();
    loop {
        world.supervise("the walk, while settling");
        let profiles = world
            .h
            .profiles()
            .list(&ListParams::default())
            .await
            .expect("list")
            .items;
        let laggards: Vec<(String, String)> = profiles
            .iter()
            .filter_map(|p| unsettled(p).map(|why| (p.name_any(), why)))
            .collect();
        if laggards.is_empty() {
            return (profiles, started.elapsed());
        }
        if started.elapsed() > limit {
            panic!("not settled within {limit:?} of the faults' end: {laggards:#?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Asks again (`reconcile-requested-at`) of each resource that reports `NotFound` for an
/// observed name Auth0 now holds: a stalled resource is not tried again until it, its tenant
/// or its credentials change (docs/operations.md, Auth0OperatorResourcesStalled), so a
/// profile of that name made after its last pass (by another resource's rename, or in the
/// dashboard) is not seen until a person asks. After the ask, `check` holds it to the truth.
/// Returns how many were asked.
pub async fn ask_again_where_a_name_appeared(world: &World<'_>, profiles: &[ConnectionProfile]) -> usize {
    let remote = world.h.remote();
    let mut asked = 0;
    for p in profiles {
        let observed_by_name = p.spec.external_id.is_none() && p.status.as_ref().and_then(|s| s.id.clone()).is_none();
        let wanted = Value::String(p.effective_name().to_lowercase());
        if condition(p, "Synced").is_some_and(|c| c.1 == "NotFound")
            && observed_by_name
            && remote.iter().any(|r| lower(&r["name"]) == wanted)
        {
            let now = k8s_openapi::jiff::Timestamp::now().to_string();
            let patch =
                serde_json::json!({"metadata": {"annotations": {"auth0.operators.dev/reconcile-requested-at": now}}});
            world
                .h
                .profiles()
                .patch(
                    &p.name_any(),
                    &kube::api::PatchParams::default(),
                    &kube::api::Patch::Merge(&patch),
                )
                .await
                .expect("annotate");
            asked += 1;
            // Until a pass has acted on the ask.
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let now_seen = world.h.profiles().get(&p.name_any()).await.expect("get");
                if now_seen
                    .status
                    .as_ref()
                    .and_then(|s| s.last_handled_reconcile_at.as_deref())
                    == Some(now.as_str())
                {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{}: asked again, not acted on within 30 s: {:?}",
                    p.name_any(),
                    condition(&now_seen, "Synced")
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    asked
}

fn lower(v: &Value) -> Value {
    v.as_str().map_or(v.clone(), |s| Value::String(s.to_lowercase()))
}

/// Checks every invariant on settled resources (`others`: how many resources of the two
/// other kinds exist, whose memory the operator's maps hold too); returns a summary line.
pub async fn check(world: &World<'_>, profiles: &[ConnectionProfile], others: usize) -> String {
    let h = world.h;
    let remote = h.remote();
    let by_id: BTreeMap<&str, &Value> = remote
        .iter()
        .map(|p| (p["id"].as_str().unwrap_or_default(), p))
        .collect();
    let claimed = |p: &ConnectionProfile| {
        p.spec
            .external_id
            .clone()
            .or_else(|| p.status.as_ref().and_then(|s| s.id.clone()))
    };

    // Every status true to what Auth0 holds.
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    let mut ready = 0;
    for p in profiles.iter().filter(|p| p.metadata.deletion_timestamp.is_none()) {
        let name = p.name_any();
        let (synced_status, synced, message) = condition(p, "Synced").unwrap_or_default();
        let ready_true = condition(p, "Ready").is_some_and(|c| c.0 == "True");
        let id = p.status.as_ref().and_then(|s| s.id.clone());
        let observe = p.spec.management_policy == ManagementPolicy::Observe;
        if ready_true && observe && id.is_none() {
            // Observed by name: reported in atProvider, never recorded as the resource's id
            // (apply.rs, `Action::Report`). A profile of the name must exist.
            ready += 1;
            let wanted = Value::String(p.effective_name().to_lowercase());
            assert!(
                remote.iter().any(|r| lower(&r["name"]) == wanted),
                "{name}: Ready, observing {wanted} by name, which Auth0 does not hold"
            );
        } else if ready_true {
            ready += 1;
            let id = id.clone().unwrap_or_else(|| panic!("{name}: Ready without status.id"));
            let found = by_id
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{name}: Ready, but Auth0 holds no profile {id}"));
            if !observe {
                if let Some(before) = owners.insert(id.clone(), name.clone()) {
                    panic!("{id} is managed by both {before} and {name}");
                }
                let drift = diff(&desired(p), &normalize(found));
                match (synced.as_str(), drift) {
                    (_, None) if synced_status == "True" => {}
                    ("NotConverging", Some(drift)) => {
                        // Only what the tenant's lower-casing explains.
                        let stored = normalize(found);
                        for (field, wanted) in &drift {
                            assert!(
                                world.normalized && stored.get(field) == Some(&lower(wanted)),
                                "{name}: NotConverging, but Auth0 holds {field} = {:?} for {wanted}: {message}",
                                stored.get(field)
                            );
                        }
                    }
                    (reason, drift) if WAITS_FOR_A_PERSON.contains(&reason) => {
                        // A rename onto a taken name keeps the profile Ready.
                        let _ = drift;
                    }
                    (reason, drift) => panic!("{name}: Synced {reason}, yet Auth0 differs by {drift:?}"),
                }
            }
        }
        match synced.as_str() {
            "Conflict" => {
                let wanted = p.effective_name().to_lowercase();
                let holder = remote.iter().find(|r| {
                    lower(&r["name"]) == Value::String(wanted.clone())
                        && Some(r["id"].as_str().unwrap_or_default()) != id.as_deref()
                });
                assert!(
                    holder.is_some() || message.contains("several"),
                    "{name}: Conflict, but no other profile is named {wanted:?} in Auth0: {message}"
                );
            }
            "AlreadyManaged" => {
                let mine = claimed(p).unwrap_or_else(|| panic!("{name}: AlreadyManaged, claiming nothing"));
                let other = profiles
                    .iter()
                    .filter(|q| q.name_any() != name)
                    .any(|q| claimed(q).as_deref() == Some(mine.as_str()));
                assert!(
                    other,
                    "{name}: AlreadyManaged, yet no other resource claims {mine}: {message}"
                );
            }
            "InvalidAnnotation" => {
                // Only one of the walk's odd values of the operator's annotations.
                let odd = p.annotations().iter().any(|(k, v)| {
                    k.starts_with("auth0.operators.dev/")
                        && crate::steps::ODD
                            .iter()
                            .any(|(key, value)| key == k && value == v && *value != "3s")
                });
                assert!(odd, "{name}: InvalidAnnotation, yet no odd annotation: {message}");
            }
            "WriteRefused" => {
                let size: usize = p.annotations().iter().map(|(k, v)| k.len() + v.len()).sum();
                assert!(
                    size >= crate::steps::BIG_ANNOTATION,
                    "{name}: WriteRefused with {size} bytes of annotations: {message}"
                );
            }
            "NotFound" => match claimed(p) {
                Some(mine) => assert!(
                    !by_id.contains_key(mine.as_str()),
                    "{name}: NotFound, but Auth0 holds {mine}: {message}"
                ),
                None => {
                    let wanted = Value::String(p.effective_name().to_lowercase());
                    assert!(
                        !remote.iter().any(|r| lower(&r["name"]) == wanted),
                        "{name}: NotFound, but Auth0 holds a profile named {wanted}: {message}"
                    );
                }
            },
            _ => {}
        }
    }

    // No duplicate among the owned profiles.
    let mut owned_names: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for id in owners.keys() {
        if let Some(p) = by_id.get(id.as_str()) {
            owned_names.entry(lower(&p["name"]).to_string()).or_default().push(id);
        }
    }
    let duplicates: Vec<_> = owned_names.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(duplicates.is_empty(), "managed profiles share a name: {duplicates:?}");

    // Nothing that was never a resource's written or deleted.
    let foreign: BTreeSet<String> = world
        .foreign
        .iter()
        .filter_map(|p| p["id"].as_str().map(String::from))
        .chain(world.dashboard.iter().flatten().cloned())
        .filter(|id| !world.adopted.contains(id))
        .collect();
    let requests = h.requests();
    for (method, path, status) in &requests {
        if method == "PATCH" || method == "DELETE" {
            let id = path.rsplit('/').next().unwrap_or_default();
            assert!(
                !foreign.contains(id),
                "the operator sent {method} {path} ({status}) to a profile that was never a resource's"
            );
        }
    }

    // No orphan.
    let recorded: BTreeSet<String> = profiles
        .iter()
        .flat_map(|p| {
            let annotated = p.annotations().get("auth0.operators.dev/profile-id").cloned();
            p.status
                .as_ref()
                .and_then(|s| s.id.clone())
                .into_iter()
                .chain(annotated)
        })
        .collect();
    let all_foreign: BTreeSet<String> = world
        .foreign
        .iter()
        .filter_map(|p| p["id"].as_str().map(String::from))
        .chain(world.dashboard.iter().flatten().cloned())
        .collect();
    let mut released = 0;
    for p in &remote {
        let id = p["id"].as_str().unwrap_or_default();
        if recorded.contains(id) || all_foreign.contains(id) {
            continue;
        }
        let name = p["name"].as_str().unwrap_or_default().to_lowercase();
        if world.released.contains(&name) {
            released += 1;
            continue;
        }
        panic!("orphan in Auth0 (no resource records it, nobody released it, not foreign): {p}");
    }

    // No secret, no token.
    let mut texts: Vec<(String, String)> = (0..2)
        .map(|r| {
            let log = world.log(r);
            (
                log.display().to_string(),
                std::fs::read_to_string(&log).unwrap_or_default(),
            )
        })
        .collect();
    for p in profiles {
        texts.push((
            format!("status of {}", p.name_any()),
            serde_json::to_string(&p.status).unwrap_or_default(),
        ));
    }
    for (what, text) in &texts {
        for secret in &world.secrets {
            assert!(!text.contains(secret.as_str()), "a client secret appears in {what}");
        }
        assert!(!has_jwt(text), "an access token appears in {what}");
    }

    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    for p in profiles {
        let state = if p.metadata.deletion_timestamp.is_some() {
            "deletion paused".to_string()
        } else {
            let ready = condition(p, "Ready").unwrap_or_default();
            let synced = condition(p, "Synced").unwrap_or_default();
            format!("{}/{}", ready.1, synced.1)
        };
        *states.entry(state).or_default() += 1;
    }
    let gauges = check_metrics(world, profiles.len(), profiles.len() + others).await;
    format!(
        "{} resources ({ready} Ready, {} managed; Ready/Synced reasons {states:?}), {} profiles in Auth0 ({} foreign, {released} released), \
         0 duplicates, 0 orphans, 0 writes to foreign profiles, {} requests; {gauges}",
        profiles.len(),
        owners.len(),
        remote.len(),
        all_foreign.len(),
        requests.len(),
    )
}

/// `name{labels} value` lines of a metric family.
fn samples(metrics: &str, family: &str) -> Vec<(String, f64)> {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The leader's gauges against the cluster: `auth0_operator_resources` sums to the
/// ConnectionProfiles that exist (`live`) on its ConnectionProfile series and to the
/// resources of every kind (`all`) on all of them; each `auth0_operator_remembered_resources` map
/// (summed over the kinds) holds no more than the resources of every kind (`all`).
async fn check_metrics(world: &World<'_>, live: usize, all: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    loop {
        if let Some(leader) = world.leader().await {
            let port = world.replicas[leader].as_ref().expect("replica").port;
            let body = tokio::task::spawn_blocking(move || http_get(port, "/metrics"))
                .await
                .expect("metrics");
            if let Some((200, metrics)) = body {
                let resources = samples(&metrics, "auth0_operator_resources");
                // The gauge counts every kind (`kind` label): its ConnectionProfile series sum
                // to the ConnectionProfiles, all its series to the resources of every kind.
                let total: f64 = resources
                    .iter()
                    .filter(|(series, _)| series.contains("kind=\"ConnectionProfile\""))
                    .map(|(_, v)| v)
                    .sum();
                let every_kind: f64 = resources.iter().map(|(_, v)| v).sum();
                // The maps the reconciler keeps per resource
                // (`auth0_operator_remembered_resources{map=...}`, summed over the kinds):
                // each holds at most the resources that exist.
                let remembered = samples(&metrics, "auth0_operator_remembered_resources");
                let over: Vec<_> = remembered.iter().filter(|(_, v)| *v > all as f64).collect();
                assert!(
                    over.is_empty(),
                    "per-resource memory holds more than the {all} resources: {over:?}"
                );
                if total == live as f64 && every_kind == all as f64 {
                    return format!(
                        "gauge auth0_operator_resources = {total} ConnectionProfiles, {every_kind} of every kind = resources in the cluster; {}",
                        if remembered.is_empty() {
                            "auth0_operator_remembered_resources not exported (memory check skipped)".to_string()
                        } else {
                            format!("{} remembered maps within {all}", remembered.len())
                        }
                    );
                }
                last = format!("{resources:?}");
            }
        }
        if Instant::now() > deadline {
            panic!(
                "auth0_operator_resources does not count the {live} ConnectionProfiles and {all} resources of every kind in the cluster: {last}"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
