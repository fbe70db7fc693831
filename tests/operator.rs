//! The operator end to end: the `auth0-operator` binary as a process, a real kube-apiserver,
//! and the Auth0 emulator over HTTP. Each test has its own namespace, tenant, emulator and
//! operator (watching only that namespace), so tests run in parallel without meeting.

mod common;

use std::time::{Duration, Instant};

use auth0_operator::crd;
use common::{Harness, SCOPES, condition, id, observed};
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_delete() {
    let h = Harness::start("op-crud").await;
    h.apply_profile(
        "acme",
        json!({"name": "Acme", "connectionNamePrefixTemplate": "ac-{org_id}-", "enabledFeatures": ["scim"]}),
    )
    .await;
    let ready = h.wait_ready("acme").await;
    let id = id(&ready);
    assert!(auth0_operator::crd::validation::is_profile_id(&id), "{id}");
    let remote = h.remote_by_id(&id).expect("the profile exists in Auth0");
    assert_eq!(remote["name"], "Acme");
    assert_eq!(remote["connection_name_prefix_template"], "ac-{org_id}-");
    assert_eq!(remote["enabled_features"], json!(["scim"]));
    let status = ready.status.clone().expect("status");
    assert_eq!(status.tenant.as_deref(), Some(h.domain.as_str()));
    assert_eq!(status.at_provider.as_ref().map(|a| a.name.as_str()), Some("Acme"));
    for type_ in ["Synced", "Reconciling", "Stalled"] {
        assert!(condition(&ready, type_).is_some(), "{type_} set on the first visit");
    }
    h.wait_event("acme", "Created").await;
    // The marks follow the status (the id is recorded first, then the mark goes): a loaded
    // machine shows Ready a moment before the mark is gone (seen once in a full run).
    let live = h
        .wait_for(
            "acme",
            Duration::from_secs(10),
            "without its create-pending mark once the id is recorded",
            |p| !p.annotations().contains_key("auth0.operators.dev/create-pending"),
        )
        .await;
    assert_eq!(
        live.metadata.finalizers,
        Some(vec![auth0_operator::controller::profile::FINALIZER.to_string()])
    );
    assert_eq!(
        live.annotations().get("auth0.operators.dev/profile-id"),
        Some(&id),
        "the binding is held"
    );

    // Change every kind of field: the remote follows.
    h.apply_profile(
        "acme",
        json!({"name": "Acme Corp", "connectionNamePrefixTemplate": "acme-", "enabledFeatures": ["scim", "universal_logout"],
               "organization": {"showAsButton": "optional", "assignMembershipOnLogin": "required"},
               "strategyOverrides": {"googleApps": {"enabledFeatures": ["scim"]}},
               "provisioning": {"scim": {"tokens": {"scopes": ["get:users"], "defaultExpiry": 3600}}},
               "crossAppAccessResourceApp": {"status": {"defaultValue": "enabled", "allowedValues": ["enabled", "disabled"]}}}),
    )
    .await;
    h.wait_for("acme", Duration::from_secs(20), "updated", |p| {
        observed(p) && condition(p, "Ready").is_some_and(|c| c.0 == "True")
    })
    .await;
    let remote = h.remote_by_id(&id).expect("same profile");
    assert_eq!(remote["name"], "Acme Corp");
    assert_eq!(remote["connection_name_prefix_template"], "acme-");
    assert_eq!(
        remote["organization"],
        json!({"show_as_button": "optional", "assign_membership_on_login": "required"})
    );
    assert_eq!(
        remote["strategy_overrides"],
        json!({"google-apps": {"enabled_features": ["scim"]}})
    );
    assert_eq!(remote["provisioning"]["scim"]["tokens"]["default_expiry"], 3600);
    assert_eq!(
        remote["cross_app_access_resource_app"]["status"]["default_value"],
        "enabled"
    );
    h.wait_event("acme", "Updated").await;

    // Removing fields clears them.
    h.apply_profile("acme", json!({"name": "Acme Corp"})).await;
    h.wait_for("acme", Duration::from_secs(20), "updated", |p| {
        observed(p) && condition(p, "Ready").is_some_and(|c| c.0 == "True")
    })
    .await;
    let remote = h.remote_by_id(&id).expect("same profile");
    // enabledFeatures left out is Auth0's default, both features (the CRD schema says so).
    assert_eq!(remote["enabled_features"], json!(["scim", "universal_logout"]));
    assert!(remote["strategy_overrides"].is_null(), "{remote}");
    assert_eq!(h.remote().len(), 1, "exactly one profile");

    h.profiles()
        .delete("acme", &DeleteParams::default())
        .await
        .expect("delete");
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.profiles().get_opt("acme").await.expect("get").is_some() {
        assert!(Instant::now() < deadline, "the resource was not released");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(h.remote().is_empty(), "the Auth0 profile is gone: {:?}", h.remote());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_leaves_the_profile_and_says_so() {
    let h = Harness::start("op-orphan").await;
    h.apply_profile("keep", json!({"deletionPolicy": "Orphan"})).await;
    let id = id(&h.wait_ready("keep").await);
    h.profiles()
        .delete("keep", &DeleteParams::default())
        .await
        .expect("delete");
    let event = h.wait_event("keep", "Orphaned").await;
    assert!(event.2.contains(&id), "the event names the id: {event:?}");
    assert!(h.remote_by_id(&id).is_some(), "the profile stays in Auth0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adoption_by_external_id_posts_nothing() {
    let h = Harness::start("op-adopt").await;
    let made = h
        .admin(
            "POST",
            "profiles",
            Some(json!({"name": "made-in-dashboard", "enabled_features": ["scim"]})),
        )
        .await;
    let existing = made["id"].as_str().expect("id").to_string();
    h.apply_profile(
        "adopt",
        json!({"externalID": existing, "name": "adopted", "enabledFeatures": ["universal_logout"]}),
    )
    .await;
    let ready = h.wait_ready("adopt").await;
    assert_eq!(id(&ready), existing);
    let remote = h.remote_by_id(&existing).expect("still there");
    assert_eq!(remote["name"], "adopted", "the remote takes the spec");
    assert_eq!(remote["enabled_features"], json!(["universal_logout"]));
    assert_eq!(h.remote().len(), 1);
    assert!(
        !h.requests()
            .iter()
            .any(|(m, p, _)| m == "POST" && p.ends_with("/connection-profiles")),
        "no POST: {:?}",
        h.requests()
    );
    h.wait_event("adopt", "Adopted").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_never_writes() {
    let h = Harness::start("op-observe").await;
    let made = h
        .admin(
            "POST",
            "profiles",
            Some(json!({"name": "watched", "connection_name_prefix_template": "w-"})),
        )
        .await;
    h.apply_profile(
        "watched",
        json!({"managementPolicy": "Observe", "connectionNamePrefixTemplate": "other-"}),
    )
    .await;
    let ready = h.wait_ready("watched").await;
    // Found by name: reported, never recorded as the resource's id (a switch to Manage must
    // not take over a profile found by name; adopt it with spec.externalID).
    assert!(made["id"].is_string());
    assert_eq!(ready.status.as_ref().and_then(|s| s.id.as_ref()), None);
    let observed = ready.status.and_then(|s| s.at_provider).expect("atProvider");
    assert_eq!(
        observed.connection_name_prefix_template.as_deref(),
        Some("w-"),
        "the remote state is reported"
    );
    tokio::time::sleep(Duration::from_secs(5)).await; // two poll intervals
    h.profiles()
        .delete("watched", &DeleteParams::default())
        .await
        .expect("delete");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let writes: Vec<_> = h
        .requests()
        .into_iter()
        .filter(|(m, p, _)| m != "GET" && p != "/oauth/token")
        .collect();
    assert!(writes.is_empty(), "Observe wrote: {writes:?}");
    assert_eq!(h.remote()[0]["connection_name_prefix_template"], "w-");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_we_did_not_create_stalls_with_conflict() {
    let h = Harness::start("op-conflict").await;
    let made = h
        .admin(
            "POST",
            "profiles",
            Some(json!({"name": "taken", "connection_name_prefix_template": "theirs-"})),
        )
        .await;
    h.apply_profile(
        "mine",
        json!({"name": "taken", "connectionNamePrefixTemplate": "mine-"}),
    )
    .await;
    let stalled = h
        .wait_for("mine", Duration::from_secs(20), "Stalled", |p| {
            condition(p, "Stalled").is_some_and(|c| c.0 == "True")
        })
        .await;
    let (_, why, message) = condition(&stalled, "Stalled").expect("stalled");
    assert_eq!(why, "Conflict");
    assert!(
        message.contains(made["id"].as_str().expect("id")),
        "the message names the owner: {message}"
    );
    assert_eq!(h.remote().len(), 1);
    assert_eq!(
        h.remote()[0]["connection_name_prefix_template"],
        "theirs-",
        "nothing overwritten"
    );
    h.wait_event("mine", "Conflict").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_and_out_of_band_deletes_are_corrected() {
    let h = Harness::start("op-drift").await;
    h.apply_profile("drifty", json!({"connectionNamePrefixTemplate": "good-"}))
        .await;
    let id = id(&h.wait_ready("drifty").await);
    h.admin(
        "PATCH",
        &format!("profiles/{id}"),
        Some(json!({"connection_name_prefix_template": "bad-"})),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while h.remote_by_id(&id).expect("exists")["connection_name_prefix_template"] != "good-" {
        assert!(
            Instant::now() < deadline,
            "drift not corrected within the poll interval"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    h.wait_event("drifty", "DriftCorrected").await;

    h.admin("DELETE", &format!("profiles/{id}"), None).await;
    let recreated = h
        .wait_for("drifty", Duration::from_secs(15), "recreated", |p| {
            p.status
                .as_ref()
                .and_then(|s| s.id.as_deref())
                .is_some_and(|new| new != id)
        })
        .await;
    let new_id = recreated.status.and_then(|s| s.id).expect("id");
    assert!(h.remote_by_id(&new_id).is_some());
    assert_eq!(h.remote().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_answer_after_create_makes_exactly_one_profile() {
    let h = Harness::start("op-dropped").await;
    h.admin(
        "PUT",
        "faults",
        Some(json!([{"endpoint": "create_profile", "drop_after_write": true, "times": 1}])),
    )
    .await;
    h.apply_profile("once", json!({"enabledFeatures": ["scim"]})).await;
    let ready = h.wait_ready("once").await;
    assert_eq!(h.remote().len(), 1, "exactly one profile: {:?}", h.remote());
    assert_eq!(h.remote()[0]["id"], id(&ready).as_str());
    // The lost answer is resolved by looking the posted name up, never by posting again: a
    // second POST would make a duplicate where Auth0 allows duplicate names.
    let posts: Vec<u16> = h
        .requests()
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p.ends_with("/connection-profiles"))
        .map(|(_, _, status)| status)
        .collect();
    assert_eq!(posts, [201], "{:?}", h.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_resource_costs_no_writes() {
    let h = Harness::start("op-settled").await;
    h.apply_profile("calm", json!({"enabledFeatures": ["scim"]})).await;
    let ready = h.wait_ready("calm").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before_version = h.profiles().get("calm").await.expect("get").metadata.resource_version;
    let before = h.requests().len();
    tokio::time::sleep(Duration::from_millis(6500)).await; // three poll intervals of 2 s
    let after = h.requests();
    let new: Vec<_> = after[before..].to_vec();
    assert!(
        new.iter().all(|(m, _, _)| m == "GET"),
        "no Auth0 writes while settled: {new:?}"
    );
    assert!(
        new.iter().all(|(_, p, _)| !p.contains(&id(&ready))),
        "drift checks list, they do not GET each profile: {new:?}"
    );
    assert!(new.len() <= 4, "about one listing per interval: {new:?}");
    let after_version = h.profiles().get("calm").await.expect("get").metadata.resource_version;
    assert_eq!(before_version, after_version, "no API-server writes while settled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_resources_are_not_written() {
    let h = Harness::start("op-paused").await;
    h.apply(
        "connectionprofiles",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": "held", "annotations": {"auth0.operators.dev/paused": "true"}},
               "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"}}}),
    )
    .await;
    let paused = h
        .wait_for("held", Duration::from_secs(20), "paused", |p| {
            condition(p, "Synced").is_some_and(|c| c.1 == "ReconcilePaused")
        })
        .await;
    assert_eq!(condition(&paused, "Ready").map(|c| c.1), Some("Paused".into()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(h.remote().is_empty(), "nothing created while paused");
    assert!(h.writes().is_empty(), "no writes while paused: {:?}", h.writes());
    // Unpausing resumes.
    h.apply_profile("held", json!({})).await;
    h.wait_ready("held").await;
    assert_eq!(h.remote().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_fail_clearly_without_a_retry_storm() {
    let h = Harness::start("op-badcreds").await;
    h.write_secret("operator-client", "wrong-secret").await;
    h.apply_profile("denied", json!({})).await;
    let failed = h
        .wait_for("denied", Duration::from_secs(20), "Unauthorized", |p| {
            condition(p, "Synced").is_some_and(|c| c.1 == "Unauthorized")
        })
        .await;
    let (_, _, message) = condition(&failed, "Synced").expect("synced");
    assert!(message.contains("refused the client credentials"), "{message}");
    assert!(!message.contains("wrong-secret"), "the secret must not leak: {message}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let tokens = h.requests().into_iter().filter(|(_, p, _)| p == "/oauth/token").count();
    assert!(tokens <= 2, "no retry storm: {tokens} token requests");
    let tenants: Api<crd::Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let tenant = tenants.get("t").await.expect("tenant");
    let ready = tenant
        .status
        .expect("tenant status")
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .expect("Ready");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "Unauthorized")
    );

    // The fixed secret is picked up without a restart.
    h.write_secret("operator-client", "operator-secret-value").await;
    h.wait_ready("denied").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_scope_is_named_by_the_tenant() {
    let h = Harness::start_with(
        "op-scope",
        vec!["read:connection_profiles".into(), "create:connection_profiles".into()],
    )
    .await;
    let tenants: Api<crd::Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tenant = tenants.get("t").await.expect("tenant");
        if let Some(status) = tenant.status
            && !status.missing_scopes.is_empty()
        {
            assert_eq!(
                status.missing_scopes,
                ["update:connection_profiles", "delete:connection_profiles"]
            );
            let ready = status.conditions.iter().find(|c| c.type_ == "Ready").expect("Ready");
            assert_eq!(ready.reason, "MissingScopes");
            assert!(
                ready.message.contains("update:connection_profiles"),
                "{}",
                ready.message
            );
            break;
        }
        assert!(Instant::now() < deadline, "the tenant never named the missing scopes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_without_credentials_waits_until_force_orphan() {
    let h = Harness::start("op-nocreds").await;
    h.apply_profile("stuck", json!({})).await;
    let id = id(&h.wait_ready("stuck").await);
    let secrets: Api<Secret> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    secrets
        .delete("creds", &DeleteParams::default())
        .await
        .expect("delete secret");
    tokio::time::sleep(Duration::from_millis(500)).await;
    h.profiles()
        .delete("stuck", &DeleteParams::default())
        .await
        .expect("delete");
    let waiting = h
        .wait_for(
            "stuck",
            Duration::from_secs(20),
            "CredentialsUnavailable on delete",
            |p| condition(p, "Synced").is_some_and(|c| c.1 == "CredentialsUnavailable" && c.2.contains("force-orphan")),
        )
        .await;
    let (_, _, message) = condition(&waiting, "Synced").expect("synced");
    assert!(
        message.contains("force-orphan"),
        "the message names the escape hatch: {message}"
    );
    h.wait_event("stuck", "CredentialsUnavailable").await;
    let patch = json!({"metadata": {"annotations": {"auth0.operators.dev/force-orphan": "true"}}});
    h.profiles()
        .patch("stuck", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.profiles().get_opt("stuck").await.expect("get").is_some() {
        assert!(Instant::now() < deadline, "force-orphan did not release the resource");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(h.remote_by_id(&id).is_some(), "the profile stays in Auth0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_requested_at_forces_a_pass() {
    let h = Harness::start("op-requested").await;
    h.apply_profile("poke", json!({})).await;
    let id = id(&h.wait_ready("poke").await);
    let gets_before = h
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "GET" && p.ends_with(&id))
        .count();
    let patch =
        json!({"metadata": {"annotations": {"auth0.operators.dev/reconcile-requested-at": "2026-11-27T12:00:00Z"}}});
    h.profiles()
        .patch("poke", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
    h.wait_for("poke", Duration::from_secs(10), "handled", |p| {
        p.status.as_ref().and_then(|s| s.last_handled_reconcile_at.as_deref()) == Some("2026-11-27T12:00:00Z")
    })
    .await;
    let gets_after = h
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "GET" && p.ends_with(&id))
        .count();
    assert_eq!(
        gets_after,
        gets_before + 1,
        "the requested pass read the profile from Auth0"
    );
}

/// After a crash between POST and status write, every resource whose create was interrupted
/// posts again, meets Auth0's 409 and looks its profile up by name, which Auth0 can only do
/// by listing. Look-ups made together share a listing: a few listings for the lot, not one
/// per resource (N² page calls before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_creates_are_taken_over_not_duplicated_and_share_listings() {
    let n = 40;
    let mut h = Harness::prepare("op-lookups", SCOPES.iter().map(|s| s.to_string()).collect()).await;
    // What a crashed operator leaves: profiles in Auth0, and resources marked create-pending
    // with no id recorded.
    let mut made = std::collections::BTreeMap::new();
    for i in 0..n {
        let name = format!("lost-{i}");
        let profile = h
            .admin(
                "POST",
                "profiles",
                Some(json!({"name": name, "enabled_features": ["scim"]})),
            )
            .await;
        made.insert(name.clone(), profile["id"].as_str().expect("seeded").to_string());
        h.apply(
            "connectionprofiles",
            json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
                   "metadata": {"name": name,
                                "annotations": {"auth0.operators.dev/create-pending": "2026-11-28T00:00:00Z"}},
                   "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"}, "enabledFeatures": ["scim"]}}),
        )
        .await;
    }
    h.start_operator();
    for (name, seeded) in &made {
        let ready = h.wait_ready(name).await;
        assert_eq!(
            &id(&ready),
            seeded,
            "{name}: the interrupted create's profile is found, not posted again"
        );
    }
    let requests = h.requests();
    let posts: Vec<u16> = requests
        .iter()
        .filter(|(m, p, _)| m == "POST" && p.ends_with("/connection-profiles"))
        .map(|(_, _, status)| *status)
        .collect();
    // The look-up by the posted name finds each profile: nothing is posted again. (These
    // marks hold a timestamp, as the operator's earlier versions wrote them: such a mark
    // stands for the resource's own name.)
    assert!(posts.is_empty(), "no POST: {posts:?}");
    // A listing of 40 profiles is 4 pages; one per resource would be 160. Drift checks list
    // too once resources settle (one listing per 2 s interval).
    let pages = requests
        .iter()
        .filter(|(m, p, _)| m == "GET" && p.ends_with("/connection-profiles"))
        .count();
    println!("{pages} list pages for {n} look-ups by name");
    assert!(
        pages <= 4 * 4,
        "{pages} list pages for {n} look-ups: listings are not shared"
    );
    assert_eq!(h.remote().len(), n);
}

/// A burst of creates (here 40 applies at once, as `kubectl apply -f dir/` or an Argo CD
/// sync sends them) shares one name-check listing: the pass taking it waits until no other
/// resource has asked for one for 100 ms (`listing.rs`, `GATHER_QUIET`). Without that wait
/// each listing served only the requests delivered before it began: 6–10 listings for the
/// rate-limited bench's 200, each half a second of a 2/s tenant's budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_creates_shares_one_name_check_listing() {
    let n = 40;
    let h = Harness::start("op-burst").await;
    // No drift checks during the test (the harness polls every 2 s): every listing is a
    // name check.
    let profile = |name: String| {
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": name, "annotations": {"auth0.operators.dev/poll-interval": "1h"}},
               "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"}, "enabledFeatures": ["scim"]}})
    };
    // The operator up and its tenant's token fetched, so the burst meets a running operator.
    h.apply("connectionprofiles", profile("first".into())).await;
    h.wait_ready("first").await;
    let before = h.emulator.requests(&h.domain).expect("tenant").len();
    futures::future::join_all((0..n).map(|i| h.apply("connectionprofiles", profile(format!("burst-{i}"))))).await;
    for i in 0..n {
        h.wait_ready(&format!("burst-{i}")).await;
    }
    assert_eq!(h.remote().len(), n + 1);
    let log = &h.emulator.requests(&h.domain).expect("tenant")[before..];
    // A listing's first page has no cursor.
    let listings = log
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/connection-profiles"))
        .filter(|r| !r.query.as_deref().unwrap_or_default().contains("from="))
        .count();
    let posts = log
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/connection-profiles"))
        .count();
    assert_eq!(posts, n, "one POST each");
    // One; two or three when the machine is slow enough to deliver the burst with gaps of
    // 100 ms or more (6 and 9 without the wait).
    println!("{listings} name-check listings for a burst of {n} creates");
    assert!(
        listings <= 3,
        "{listings} name-check listings for a burst of {n} creates"
    );
}

/// A poll-interval annotation that is not a duration is reported, not ignored: a Warning
/// Event says what to write, and the profile keeps working on the default interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_poll_interval_annotation_is_reported() {
    let h = Harness::start("op-bad-interval").await;
    h.apply_profile("p", json!({"enabledFeatures": ["scim"]})).await;
    h.wait_ready("p").await;
    h.profiles()
        .patch(
            "p",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"auth0.operators.dev/poll-interval": "5"}}})),
        )
        .await
        .expect("annotate");
    let (type_, _, note) = h.wait_event("p", "InvalidAnnotation").await;
    assert_eq!(type_, "Warning");
    assert_eq!(
        note,
        "annotation auth0.operators.dev/poll-interval: \"5\" is not a duration: write a number and a unit (s, m, h), like 90s, 10m or 1h30m; drift checks use the default interval (2s) until it is fixed"
    );
    h.wait_ready("p").await;
}
