//! Ownership you can prove (docs/faults.md, "The ownership rule"), end to end: the operator
//! binary, a real kube-apiserver and the Auth0 emulator over HTTP. Each test is one of the
//! inputs that broke the rule: a foreign profile taken after a transient failure, a rename
//! during an interrupted create, a paused deletion, two claims of one profile, a binding
//! lost with status, and the costs of terminal and blocked failures.

mod common;

use std::time::Duration;

use auth0_emulator::FaultRule;
use auth0_emulator::faults::Endpoint;
use common::{Harness, condition, id, observed};
use futures::StreamExt;
use kube::ResourceExt;
use kube::api::{DeleteParams, PostParams, WatchEvent, WatchParams};
use serde_json::{Value, json};

const PENDING: &str = "auth0.operators.dev/create-pending";
const PROFILE_ID: &str = "auth0.operators.dev/profile-id";

/// Each input runs against a tenant that refuses a second profile of a taken name, and one
/// that lets it through (the emulator's `unique_names: false`): the rule must hold both ways.
macro_rules! both_ways {
    ($($input:ident),* $(,)?) => {$(
        mod $input {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn names_unique() {
                super::$input(true).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn duplicate_names_allowed() {
                super::$input(false).await;
            }
        }
    )*};
}

both_ways!(
    a_transient_failure_never_turns_a_foreign_profile_into_ours,
    a_rename_during_an_interrupted_create_leaves_one_profile,
    deleting_a_paused_resource_waits,
    two_resources_never_own_one_profile,
    the_binding_survives_a_restore_without_status,
    a_refused_credential_costs_one_pass,
    a_taken_name_and_a_refused_feature_cost_one_pass,
    a_blocked_deletion_says_how_to_get_out,
    an_interrupted_create_paused_and_deleted_still_deletes_its_profile,
);

async fn start(prefix: &str, unique_names: bool) -> Harness {
    let h = Harness::start(prefix).await;
    h.admin("PATCH", "settings", Some(json!({"unique_names": unique_names})))
        .await;
    h
}

/// A profile made in the dashboard (the emulator's admin API), not by the operator.
async fn foreign(h: &Harness, name: &str, prefix: &str) -> Value {
    h.admin(
        "POST",
        "profiles",
        Some(json!({"name": name, "connection_name_prefix_template": prefix})),
    )
    .await
}

async fn fault(h: &Harness, rule: FaultRule) {
    h.admin("POST", "faults", Some(serde_json::to_value(rule).expect("rule")))
        .await;
}

async fn wait_gone(h: &Harness, name: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while h.profiles().get_opt(name).await.expect("get").is_some() {
        assert!(std::time::Instant::now() < deadline, "{name} was not released");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Applies resource `p` named `name` (prefix `p-`) with its POST answered after 1.5 s and
/// then dropped after the write; returns once the create-pending mark is written, i.e. the
/// name check's listing is taken and the POST is on its way.
async fn applied_with_its_create_answer_lost(h: &Harness, name: &str) {
    fault(
        h,
        FaultRule {
            endpoint: Some(Endpoint::CreateProfile),
            drop_after_write: true,
            latency_ms: 1500,
            times: Some(1),
            ..FaultRule::default()
        },
    )
    .await;
    h.apply_profile("p", json!({"name": name, "connectionNamePrefixTemplate": "p-"}))
        .await;
    h.wait_for("p", Duration::from_secs(20), "marked create-pending", |p| {
        p.annotations().get(PENDING).map(String::as_str) == Some(name)
    })
    .await;
}

fn synced_reason(p: &auth0_operator::crd::ConnectionProfile) -> Option<(String, String, String)> {
    condition(p, "Synced")
}

fn stalled(p: &auth0_operator::crd::ConnectionProfile) -> bool {
    condition(p, "Stalled").is_some_and(|c| c.0 == "True")
}

/// Counts the writes of one resource (watch events that changed it) over `window`.
async fn writes_of(h: &Harness, name: &str, window: Duration) -> usize {
    let params = WatchParams::default().fields(&format!("metadata.name={name}"));
    let version = h
        .profiles()
        .get(name)
        .await
        .expect("get")
        .resource_version()
        .expect("rv");
    let mut stream = h.profiles().watch(&params, &version).await.expect("watch").boxed();
    let mut count = 0;
    let _ = tokio::time::timeout(window, async {
        while let Some(event) = stream.next().await {
            if matches!(event, Ok(WatchEvent::Modified(_))) {
                count += 1;
            }
        }
    })
    .await;
    count
}

fn count(h: &Harness, method: &str, path_prefix: &str) -> usize {
    h.requests()
        .iter()
        .filter(|(m, p, _)| m == method && p.starts_with(path_prefix))
        .count()
}

/// Input 1: a transient failure must not turn a foreign profile into ours.
async fn a_transient_failure_never_turns_a_foreign_profile_into_ours(unique_names: bool) {
    let h = start("own-foreign", unique_names).await;
    let theirs = foreign(&h, "shared", "theirs-").await;
    fault(
        &h,
        FaultRule {
            endpoint: Some(Endpoint::CreateProfile),
            status: Some(503),
            times: Some(1),
            ..FaultRule::default()
        },
    )
    .await;
    h.apply_profile(
        "mine",
        json!({"name": "shared", "connectionNamePrefixTemplate": "mine-"}),
    )
    .await;
    let refused = h
        .wait_for("mine", Duration::from_secs(30), "Conflict", |p| {
            synced_reason(p).is_some_and(|c| c.1 == "Conflict") && stalled(p)
        })
        .await;
    let message = synced_reason(&refused).expect("synced").2;
    assert!(message.contains(theirs["id"].as_str().expect("id")), "{message}");
    assert!(refused.status.as_ref().and_then(|s| s.id.as_ref()).is_none());
    let stored = h.remote_by_id(theirs["id"].as_str().expect("id")).expect("still there");
    assert_eq!(stored["connection_name_prefix_template"], "theirs-");
    assert_eq!(
        count(&h, "POST", "/api/v2/connection-profiles"),
        0,
        "no POST was needed to know"
    );
    h.profiles()
        .delete("mine", &DeleteParams::default())
        .await
        .expect("delete");
    wait_gone(&h, "mine").await;
    assert!(h.remote_by_id(theirs["id"].as_str().expect("id")).is_some());
    assert_eq!(count(&h, "DELETE", "/api/v2/connection-profiles"), 0);
    assert!(h.writes().is_empty(), "{:?}", h.writes());
}

/// Input 2: renamed while the answer to its create is lost: one profile, renamed.
async fn a_rename_during_an_interrupted_create_leaves_one_profile(unique_names: bool) {
    let h = start("own-rename", unique_names).await;
    applied_with_its_create_answer_lost(&h, "old").await;
    h.apply_profile("p", json!({"name": "new", "connectionNamePrefixTemplate": "p-"}))
        .await;
    let ready = h
        .wait_for("p", Duration::from_secs(30), "Ready as new", |p| {
            observed(p) && condition(p, "Ready").is_some_and(|c| c.0 == "True")
        })
        .await;
    let remote = h.remote();
    assert_eq!(remote.len(), 1, "exactly one profile: {remote:?}");
    assert_eq!(remote[0]["name"], "new");
    assert_eq!(remote[0]["id"], id(&ready));
    assert_eq!(
        count(&h, "POST", "/api/v2/connection-profiles"),
        1,
        "one POST, renamed by PATCH"
    );
    assert_eq!(count(&h, "PATCH", "/api/v2/connection-profiles/"), 1);
    // The mark goes in the write after the status: the binding replaces it.
    let bound = Some(id(&ready));
    h.wait_for("p", Duration::from_secs(10), "bound in metadata", |p| {
        !p.annotations().contains_key(PENDING) && p.annotations().get(PROFILE_ID) == bound.as_ref()
    })
    .await;
}

/// Input 3: a paused resource's deletion waits; removing the pause or force-orphan ends it.
async fn deleting_a_paused_resource_waits(unique_names: bool) {
    let h = start("own-paused", unique_names).await;
    for name in ["a", "b"] {
        h.apply_profile(name, json!({"connectionNamePrefixTemplate": "p-"}))
            .await;
    }
    let a = id(&h.wait_ready("a").await);
    let b = id(&h.wait_ready("b").await);
    for name in ["a", "b"] {
        h.annotate(name, json!({"auth0.operators.dev/paused": "true"})).await;
        h.profiles()
            .delete(name, &DeleteParams::default())
            .await
            .expect("delete");
    }
    for name in ["a", "b"] {
        let waiting = h
            .wait_for(name, Duration::from_secs(20), "Deleting (paused)", |p| {
                condition(p, "Ready").is_some_and(|c| c.1 == "Deleting" && c.2.contains("paused"))
            })
            .await;
        assert!(
            waiting
                .finalizers()
                .iter()
                .any(|f| f == "auth0.operators.dev/finalizer")
        );
        assert!(synced_reason(&waiting).is_some_and(|c| c.1 == "ReconcilePaused"));
        h.wait_event(name, "DeletionPaused").await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(h.remote_by_id(&a).is_some() && h.remote_by_id(&b).is_some());
    assert_eq!(count(&h, "DELETE", "/api/v2/connection-profiles"), 0);

    // Unpaused: deleted. Forced orphan: let go, the profile stays.
    h.annotate("a", json!({"auth0.operators.dev/paused": null})).await;
    h.annotate("b", json!({"auth0.operators.dev/force-orphan": "true"}))
        .await;
    wait_gone(&h, "a").await;
    wait_gone(&h, "b").await;
    assert!(h.remote_by_id(&a).is_none(), "unpaused: deleted");
    assert!(h.remote_by_id(&b).is_some(), "force-orphan: left in place");
}

/// A paused deletion must not make the operator forget a create it posted: an interrupted
/// create, paused and deleted while it cannot be resolved, then unpaused, deletes the
/// profile its POST made. (`make test` found an orphan in fault scenario 7: the paused
/// deletion's pass forgot the POST, and the next pass took the listing begun before that
/// POST as proof that nothing was created.)
async fn an_interrupted_create_paused_and_deleted_still_deletes_its_profile(unique_names: bool) {
    let h = start("own-pausedpost", unique_names).await;
    applied_with_its_create_answer_lost(&h, "lost").await;
    // From now on every listing fails: the interrupted create cannot be resolved.
    fault(
        &h,
        FaultRule {
            endpoint: Some(Endpoint::ListProfiles),
            status: Some(503),
            ..FaultRule::default()
        },
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !h.remote().iter().any(|p| p["name"] == "lost") {
        assert!(std::time::Instant::now() < deadline, "the POST made no profile");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    h.annotate("p", json!({"auth0.operators.dev/paused": "true"})).await;
    h.profiles()
        .delete("p", &DeleteParams::default())
        .await
        .expect("delete");
    h.wait_for("p", Duration::from_secs(20), "Deleting (paused)", |p| {
        condition(p, "Ready").is_some_and(|c| c.1 == "Deleting" && c.2.contains("paused"))
    })
    .await;
    assert!(h.emulator.set_faults(&h.domain, vec![]));
    h.annotate("p", json!({"auth0.operators.dev/paused": null})).await;
    wait_gone(&h, "p").await;
    let left: Vec<Value> = h.remote().into_iter().filter(|p| p["name"] == "lost").collect();
    assert!(
        left.is_empty(),
        "the interrupted create's profile was orphaned: {left:?}"
    );
}

/// Input 4: two resources claim one profile: the first keeps it, the second writes nothing
/// and deletes nothing; a name another resource owns names that resource.
async fn two_resources_never_own_one_profile(unique_names: bool) {
    let h = start("own-claims", unique_names).await;
    let x = foreign(&h, "shared-x", "x-").await;
    let x_id = x["id"].as_str().expect("id").to_string();
    h.apply_profile(
        "first",
        json!({"name": "shared-x", "connectionNamePrefixTemplate": "x-", "externalID": x_id}),
    )
    .await;
    h.wait_ready("first").await;
    // Adopting may align the profile with the first claim's spec; nothing after that.
    let patches_by_the_first = count(&h, "PATCH", "/api/v2/connection-profiles/");
    tokio::time::sleep(Duration::from_millis(1100)).await; // a later creationTimestamp
    h.apply_profile(
        "second",
        json!({"name": "shared-x", "connectionNamePrefixTemplate": "other-", "externalID": x_id}),
    )
    .await;
    let second = h
        .wait_for("second", Duration::from_secs(20), "AlreadyManaged", |p| {
            synced_reason(p).is_some_and(|c| c.1 == "AlreadyManaged") && stalled(p)
        })
        .await;
    let ns = h.ns.name().to_string();
    assert!(
        synced_reason(&second).is_some_and(|c| c.2.contains(&format!("{ns}/first"))),
        "{:?}",
        synced_reason(&second)
    );
    // A third resource that wants the name: the message names the owner, never externalID.
    h.apply_profile("third", json!({"name": "shared-x"})).await;
    let third = h
        .wait_for("third", Duration::from_secs(20), "Conflict", |p| {
            synced_reason(p).is_some_and(|c| c.1 == "Conflict")
        })
        .await;
    let message = synced_reason(&third).expect("synced").2;
    assert!(message.contains(&format!("{ns}/first")), "{message}");
    assert!(!message.contains("set spec.externalID"), "{message}");

    tokio::time::sleep(Duration::from_secs(3)).await; // two poll intervals of the first
    assert_eq!(
        h.remote_by_id(&x_id).expect("x")["connection_name_prefix_template"],
        "x-",
        "the second claim never wrote"
    );
    assert_eq!(count(&h, "PATCH", "/api/v2/connection-profiles/"), patches_by_the_first);
    for name in ["second", "third"] {
        h.profiles()
            .delete(name, &DeleteParams::default())
            .await
            .expect("delete");
        wait_gone(&h, name).await;
    }
    assert!(
        h.remote_by_id(&x_id).is_some(),
        "deleting the second claim deleted nothing"
    );
    assert_eq!(count(&h, "DELETE", "/api/v2/connection-profiles"), 0);
}

/// Input 5: the binding survives a re-apply without status, with zero Auth0 writes, and a
/// second copy of the restored resource does not own the profile too.
async fn the_binding_survives_a_restore_without_status(unique_names: bool) {
    let h = start("own-restore", unique_names).await;
    h.apply_profile(
        "kept",
        json!({"connectionNamePrefixTemplate": "k-", "deletionPolicy": "Orphan"}),
    )
    .await;
    let ready = h.wait_ready("kept").await;
    let x = id(&ready);
    // The binding is in metadata (written right after the status).
    let live = h
        .wait_for("kept", Duration::from_secs(10), "bound in metadata", |p| {
            p.annotations().get(PROFILE_ID) == Some(&x)
        })
        .await;
    // A backup: `kubectl get -o yaml`, without status and server fields.
    let mut backup = serde_json::to_value(&live).expect("json");
    backup.as_object_mut().expect("object").remove("status");
    for field in [
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "generation",
        "managedFields",
        "finalizers",
    ] {
        backup["metadata"].as_object_mut().expect("metadata").remove(field);
    }
    h.profiles()
        .delete("kept", &DeleteParams::default())
        .await
        .expect("delete");
    wait_gone(&h, "kept").await;
    assert!(h.remote_by_id(&x).is_some(), "Orphan: left in Auth0");
    h.admin("DELETE", "requests", None).await;

    let restored: auth0_operator::crd::ConnectionProfile = serde_json::from_value(backup.clone()).expect("profile");
    h.profiles()
        .create(&PostParams::default(), &restored)
        .await
        .expect("restore");
    let ready = h.wait_ready("kept").await;
    assert_eq!(id(&ready), x, "bound to its profile again");
    assert!(h.writes().is_empty(), "zero Auth0 writes: {:?}", h.writes());

    // A second copy of the backup under another name: the first claim keeps the profile.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut copy = backup;
    copy["metadata"]["name"] = json!("kept-copy");
    let copy: auth0_operator::crd::ConnectionProfile = serde_json::from_value(copy).expect("profile");
    h.profiles().create(&PostParams::default(), &copy).await.expect("copy");
    h.wait_for("kept-copy", Duration::from_secs(20), "AlreadyManaged", |p| {
        synced_reason(p).is_some_and(|c| c.1 == "AlreadyManaged")
    })
    .await;
    assert!(h.writes().is_empty(), "{:?}", h.writes());
}

/// Input 6a: a create refused for good (a wrong client secret) costs one pass, then waits
/// for a change; fixing the Secret re-arms it.
async fn a_refused_credential_costs_one_pass(unique_names: bool) {
    let h = start("own-creds", unique_names).await;
    h.write_secret("operator-client", "wrong-secret").await;
    h.apply_profile("p", json!({"connectionNamePrefixTemplate": "p-"}))
        .await;
    h.wait_for("p", Duration::from_secs(20), "Unauthorized", |p| {
        synced_reason(p).is_some_and(|c| c.1 == "Unauthorized") && stalled(p)
    })
    .await;
    let calls_before = h.requests().len();
    let writes = writes_of(&h, "p", Duration::from_secs(10)).await;
    let calls = h.requests().len() - calls_before;
    assert!(writes == 0, "{writes} writes of the resource in 10 s");
    assert_eq!(calls, 0, "Auth0 calls in 10 s: {:?}", h.requests());
    assert!(
        count(&h, "POST", "/oauth/token") <= 2,
        "token requests: {:?}",
        h.requests()
    );
    h.write_secret("operator-client", common::SECRET).await;
    h.wait_ready("p").await;
}

/// Input 6b and 6c: a name someone else holds, and a tenant without the feature: one pass
/// each, then quiet.
async fn a_taken_name_and_a_refused_feature_cost_one_pass(unique_names: bool) {
    let h = start("own-terminal", unique_names).await;
    foreign(&h, "held", "theirs-").await;
    h.apply_profile("taken", json!({"name": "held"})).await;
    h.wait_for("taken", Duration::from_secs(20), "Conflict", |p| {
        synced_reason(p).is_some_and(|c| c.1 == "Conflict") && stalled(p)
    })
    .await;
    let calls_before = h.requests().len();
    let writes = writes_of(&h, "taken", Duration::from_secs(8)).await;
    assert_eq!(writes, 0, "writes of the resource in 8 s");
    assert_eq!(h.requests().len(), calls_before, "{:?}", h.requests());

    h.admin("PUT", "entitlement", Some(json!({"entitled": false}))).await;
    h.admin("DELETE", "requests", None).await;
    h.apply_profile("unentitled", json!({"connectionNamePrefixTemplate": "u-"}))
        .await;
    h.wait_for("unentitled", Duration::from_secs(20), "Forbidden", |p| {
        synced_reason(p).is_some_and(|c| c.1 == "Forbidden") && stalled(p)
    })
    .await;
    let calls = h.requests().len();
    let writes = writes_of(&h, "unentitled", Duration::from_secs(8)).await;
    assert_eq!(writes, 0, "writes of the resource in 8 s");
    assert_eq!(h.requests().len(), calls, "{:?}", h.requests());
    assert!(calls <= 3, "one pass: {:?}", h.requests());
    assert_eq!(count(&h, "POST", "/api/v2/connection-profiles"), 0);
}

/// Input 7: a deletion that cannot proceed says so and how to get out; a resource with
/// nothing in Auth0 goes without a call.
async fn a_blocked_deletion_says_how_to_get_out(unique_names: bool) {
    let h = start("own-blocked", unique_names).await;
    h.apply_profile("p", json!({"connectionNamePrefixTemplate": "p-"}))
        .await;
    let x = id(&h.wait_ready("p").await);
    h.write_secret("operator-client", "revoked").await;
    h.profiles()
        .delete("p", &DeleteParams::default())
        .await
        .expect("delete");
    let blocked = h
        .wait_for("p", Duration::from_secs(20), "Deleting, stalled", |p| {
            condition(p, "Ready").is_some_and(|c| c.1 == "Deleting") && stalled(p)
        })
        .await;
    let synced = synced_reason(&blocked).expect("synced");
    assert_eq!(synced.1, "Unauthorized");
    assert!(
        synced.2.contains("auth0.operators.dev/force-orphan=true"),
        "{}",
        synced.2
    );
    assert!(h.remote_by_id(&x).is_some());
    h.annotate("p", json!({"auth0.operators.dev/force-orphan": "true"}))
        .await;
    wait_gone(&h, "p").await;
    assert!(h.remote_by_id(&x).is_some(), "force-orphan leaves it in Auth0");

    // Nothing was ever created (a conflict found before any POST): no finalizer, no call.
    h.write_secret("operator-client", common::SECRET).await;
    foreign(&h, "held", "theirs-").await;
    h.apply_profile("never", json!({"name": "held"})).await;
    h.wait_for("never", Duration::from_secs(20), "Conflict", |p| {
        synced_reason(p).is_some_and(|c| c.1 == "Conflict")
    })
    .await;
    h.admin("DELETE", "requests", None).await;
    h.profiles()
        .delete("never", &DeleteParams::default())
        .await
        .expect("delete");
    wait_gone(&h, "never").await;
    assert!(h.requests().is_empty(), "{:?}", h.requests());
}
