//! The two kinds beside ConnectionProfile, end to end (the operator binary, a real
//! kube-apiserver, the emulator): a UserAttributeProfile and a SelfServiceProfile that names
//! it are both Ready, the self-service profile carrying the user attribute profile's Auth0
//! id and its custom text; a self-service profile waits (`ReferenceNotReady`) and sends
//! nothing until the profile it names is Ready; a user attribute profile that a
//! self-service profile uses waits to be deleted (`InUse`, naming it) instead of letting
//! Auth0 refuse; a reference to a resource on another tenant is refused
//! (`InvalidReference`); a tenant's status names the scopes of the kinds its resources use,
//! and only those.

mod common;

use std::time::{Duration, Instant};

use auth0_operator::crd::{Auth0Tenant, SelfServiceProfile, UserAttributeProfile};
use common::{Harness, SCOPES, object_condition as condition, object_ready as ready, wait_object, wait_object_gone};
use kube::api::{Api, DeleteParams};
use serde_json::{Value, json};

fn uap(name: &str, tenant: &str) -> Value {
    json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "UserAttributeProfile",
           "metadata": {"name": name},
           "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": tenant},
                    "userAttributes": {"email": {"label": "Email", "description": "Work email",
                                                 "auth0Mapping": "email", "profileRequired": true,
                                                 "oidcMapping": {"mapping": "email"}}}}})
}

fn ssp(name: &str, uses: &str) -> Value {
    json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "SelfServiceProfile",
           "metadata": {"name": name},
           "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"},
                    "description": "SSO for customers",
                    "allowedStrategies": ["oidc", "samlp"],
                    "userAttributeProfileRef": {"name": uses},
                    "customText": {"en": {"getStarted": {"introduction": "Connect your IdP."}}}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_service_profile_waits_for_the_user_attribute_profile_it_names_then_both_are_ready() {
    let h = Harness::start_with("kinds-ref", common::all_scopes()).await;
    let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let ssps: Api<SelfServiceProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());

    // The self-service profile first: it names a user attribute profile that does not exist.
    h.apply("selfserviceprofiles", ssp("portal", "attrs")).await;
    let waiting = wait_object(&ssps, "portal", "waiting for its reference", |o| {
        condition(o, "Synced").1 == "ReferenceNotReady"
    })
    .await;
    let message = condition(&waiting, "Synced").2;
    assert!(
        message.contains("spec.userAttributeProfileRef names UserAttributeProfile attrs"),
        "{message}"
    );
    assert!(
        h.emulator.self_service_profiles(&h.domain).expect("tenant").is_empty(),
        "nothing is created while the reference is not Ready"
    );

    // The user attribute profile comes: it is created, and the self-service profile follows
    // (woken by its readiness, well before its own backoff would retry).
    h.apply("userattributeprofiles", uap("attrs", "t")).await;
    let attrs = wait_object(&uaps, "attrs", "Ready", ready).await;
    let uap_id = attrs["status"]["id"].as_str().expect("id").to_string();
    assert!(uap_id.starts_with("uap_"), "{uap_id}");
    let portal = wait_object(&ssps, "portal", "Ready", ready).await;
    let ssp_id = portal["status"]["id"].as_str().expect("id").to_string();
    assert!(ssp_id.starts_with("ssp_"), "{ssp_id}");

    let remote = h.emulator.self_service_profiles(&h.domain).expect("tenant");
    let remote = serde_json::to_value(&remote).expect("json");
    let held = remote
        .as_array()
        .and_then(|all| all.iter().find(|p| p["id"] == ssp_id.as_str()))
        .expect("the self-service profile in Auth0")
        .clone();
    assert_eq!(held["user_attribute_profile_id"], uap_id.as_str(), "{held}");
    assert_eq!(held["name"], "portal");
    // Its custom text was written beside it.
    let put = h.requests().into_iter().any(|(method, path, status)| {
        method == "PUT" && path.ends_with(&format!("{ssp_id}/custom-text/en/get-started")) && status == 200
    });
    assert!(put, "custom text PUT: {:#?}", h.requests());

    // Deleting the user attribute profile waits while the self-service profile uses it:
    // nothing is sent to Auth0, and the reason names the user.
    uaps.delete("attrs", &DeleteParams::default()).await.expect("delete");
    let blocked = wait_object(&uaps, "attrs", "InUse", |o| condition(o, "Synced").1 == "InUse").await;
    let message = condition(&blocked, "Synced").2;
    assert!(
        message.contains(&format!("SelfServiceProfile {}/portal", h.ns.name())),
        "{message}"
    );
    assert!(
        !h.requests()
            .iter()
            .any(|(method, path, _)| method == "DELETE" && path.contains("user-attribute-profiles")),
        "no DELETE while it is used"
    );
    // The self-service profile goes; then the user attribute profile does too.
    ssps.delete("portal", &DeleteParams::default()).await.expect("delete");
    wait_object_gone(&ssps, "portal", Duration::from_secs(30)).await;
    wait_object_gone(&uaps, "attrs", Duration::from_secs(30)).await;
    assert!(
        h.emulator
            .user_attribute_profiles(&h.domain)
            .expect("tenant")
            .is_empty()
    );
    assert!(h.emulator.self_service_profiles(&h.domain).expect("tenant").is_empty());
    assert!(
        !h.requests().iter().any(|(_, _, status)| *status == 409),
        "Auth0 never had to refuse: {:#?}",
        h.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_to_a_profile_on_another_tenant_is_refused() {
    let h = Harness::start_with("kinds-tenant", common::all_scopes()).await;
    let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let ssps: Api<SelfServiceProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    // A second tenant object in the namespace (another tenantRef: another tenant as far as
    // the resources can tell).
    let url = h.emulator.tenant_url(&h.domain).expect("url");
    h.apply(
        "auth0tenants",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
               "metadata": {"name": "other"},
               "spec": {"domain": h.domain, "credentialsSecretRef": {"name": "creds"}, "endpoint": {"url": url}}}),
    )
    .await;
    h.apply("userattributeprofiles", uap("elsewhere", "other")).await;
    wait_object(&uaps, "elsewhere", "Ready", ready).await;
    h.apply("selfserviceprofiles", ssp("portal", "elsewhere")).await;
    let refused = wait_object(&ssps, "portal", "refused", |o| {
        condition(o, "Synced").1 == "InvalidReference"
    })
    .await;
    assert_eq!(condition(&refused, "Stalled").0, "True");
    assert!(
        condition(&refused, "Synced").2.contains("Auth0Tenant/other"),
        "{refused:#?}"
    );
    assert!(h.emulator.self_service_profiles(&h.domain).expect("tenant").is_empty());
}

/// Ownership extends to the new kinds: a user attribute profile named like one the resource
/// cannot prove its own (Auth0 keeps those names unique) is a Conflict and is never written
/// or deleted; a self-service profile past the tenant's 20 is `QuotaExceeded`, never a name
/// clash, and the 20 that are someone else's stay untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_name_is_a_conflict_and_a_full_tenant_is_no_name_clash() {
    let h = Harness::start_with("kinds-own", common::all_scopes()).await;
    let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let ssps: Api<SelfServiceProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let foreign = h
        .admin(
            "POST",
            "user-attribute-profiles",
            Some(
                json!({"name": "taken", "user_attributes": {"email": {"label": "Email", "description": "Work email",
                        "auth0_mapping": "email", "profile_required": true}}}),
            ),
        )
        .await;
    let foreign_id = foreign["id"].as_str().expect("id").to_string();
    let mut claim = uap("claims-taken", "t");
    claim["spec"]["name"] = json!("taken");
    h.apply("userattributeprofiles", claim).await;
    let refused = wait_object(&uaps, "claims-taken", "Conflict", |o| {
        condition(o, "Synced").1 == "Conflict"
    })
    .await;
    assert!(condition(&refused, "Synced").2.contains(&foreign_id), "{refused:#?}");
    uaps.delete("claims-taken", &DeleteParams::default())
        .await
        .expect("delete");
    wait_object_gone(&uaps, "claims-taken", Duration::from_secs(30)).await;
    let held = h.emulator.user_attribute_profiles(&h.domain).expect("tenant");
    assert_eq!(held.len(), 1, "the foreign profile stays");

    for i in 0..20 {
        h.admin(
            "POST",
            "self-service-profiles",
            Some(json!({"name": format!("theirs-{i}")})),
        )
        .await;
    }
    let mut lone = ssp("one-too-many", "unused");
    lone["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("userAttributeProfileRef");
    h.apply("selfserviceprofiles", lone).await;
    let full = wait_object(&ssps, "one-too-many", "QuotaExceeded", |o| {
        condition(o, "Synced").1 == "QuotaExceeded"
    })
    .await;
    let message = condition(&full, "Synced").2;
    assert!(message.contains("20"), "{message}");
    assert_eq!(condition(&full, "Stalled").0, "False", "retried: a slot may free");
    assert_eq!(h.emulator.self_service_profiles(&h.domain).expect("tenant").len(), 20);
    // A slot frees: the retry creates it.
    let theirs = h.emulator.self_service_profiles(&h.domain).expect("tenant");
    let first = serde_json::to_value(&theirs[0]).expect("json");
    h.admin(
        "DELETE",
        &format!("self-service-profiles/{}", first["id"].as_str().expect("id")),
        None,
    )
    .await;
    let created = wait_object(&ssps, "one-too-many", "Ready", ready).await;
    assert!(created["status"]["id"].as_str().expect("id").starts_with("ssp_"));
}

/// Drift is checked from one listing per kind per interval: three settled user attribute
/// profiles cost one page of `GET /user-attribute-profiles` an interval, never a GET each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settled_profiles_are_checked_from_one_listing_per_interval() {
    let h = Harness::start_with("kinds-drift", common::all_scopes()).await;
    let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    for name in ["a", "b", "c"] {
        h.apply("userattributeprofiles", uap(name, "t")).await;
    }
    for name in ["a", "b", "c"] {
        wait_object(&uaps, name, "Ready", ready).await;
    }
    // Settle past the first drift checks, then count two poll intervals (2 s each).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = h.requests().len();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let window: Vec<(String, String, u16)> = h.requests().into_iter().skip(before).collect();
    let lists = window
        .iter()
        .filter(|(m, p, _)| m == "GET" && p == "/api/v2/user-attribute-profiles")
        .count();
    let gets = window
        .iter()
        .filter(|(m, p, _)| m == "GET" && p.starts_with("/api/v2/user-attribute-profiles/uap_"))
        .count();
    let writes = window.iter().filter(|(m, _, _)| m != "GET" && m != "POST").count();
    assert!(
        (1..=3).contains(&lists),
        "about one listing per 2 s interval: {window:#?}"
    );
    assert_eq!(gets, 0, "no GET by id for settled profiles: {window:#?}");
    assert_eq!(writes, 0, "{window:#?}; events of a: {:#?}", h.events("a").await);
    assert!(
        !h.events("a")
            .await
            .iter()
            .any(|(_, reason, _)| reason == "DriftCorrected"),
        "nothing was changed outside the operator"
    );
}

/// Under `managementPolicy: Observe` a self-service profile's custom text is compared too:
/// `pendingChanges` names it when Auth0 holds another text, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_reports_a_custom_text_that_differs_and_writes_nothing() {
    let h = Harness::start_with("kinds-observe", common::all_scopes()).await;
    let ssps: Api<SelfServiceProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let theirs = h
        .admin(
            "POST",
            "self-service-profiles",
            Some(
                json!({"name": "portal", "description": "SSO for customers", "allowed_strategies": ["oidc", "samlp"]}),
            ),
        )
        .await;
    let id = theirs["id"].as_str().expect("id").to_string();
    h.admin(
        "PUT",
        &format!("self-service-profiles/{id}/custom-text"),
        Some(json!({"introduction": "Theirs."})),
    )
    .await;
    let mut watched = ssp("portal", "unused");
    let spec = watched["spec"].as_object_mut().expect("spec");
    spec.remove("userAttributeProfileRef");
    spec.insert("managementPolicy".into(), json!("Observe"));
    spec.insert("externalID".into(), json!(id));
    h.apply("selfserviceprofiles", watched).await;
    let observed = wait_object(&ssps, "portal", "Ready with pending changes", |o| {
        ready(o) && o["status"]["pendingChangeCount"].as_i64().is_some()
    })
    .await;
    let changes = observed["status"]["pendingChanges"].as_array().expect("pendingChanges");
    let text = changes
        .iter()
        .find(|c| c["field"] == "spec.customText.en.getStarted")
        .unwrap_or_else(|| panic!("the custom text is a pending change: {changes:#?}"));
    assert_eq!(text["auth0"], r#"{"introduction":"Theirs."}"#, "{text}");
    assert_eq!(text["desired"], r#"{"introduction":"Connect your IdP."}"#, "{text}");
    assert_eq!(
        observed["status"]["pendingChangeCount"].as_i64(),
        Some(changes.len() as i64)
    );
    // Observe writes nothing to Auth0 (the test's own set-up goes through the emulator's
    // admin port, not the Management API).
    let writes: Vec<_> = h
        .writes()
        .into_iter()
        .filter(|(_, path, _)| path.starts_with("/api/v2/"))
        .collect();
    assert!(writes.is_empty(), "Observe wrote: {writes:#?}");
    let read = h
        .requests()
        .into_iter()
        .any(|(method, path, _)| method == "GET" && path.ends_with(&format!("{id}/custom-text/en/get-started")));
    assert!(read, "the custom text was read to compare it: {:#?}", h.requests());
}

/// A self-service profile that never reached Auth0 (paused before its create) holds
/// nothing up: deleting the user attribute profile it names goes through, where the two
/// would otherwise wait for each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_that_never_reached_auth0_holds_up_no_deletion() {
    let h = Harness::start_with("kinds-unsent", common::all_scopes()).await;
    let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let ssps: Api<SelfServiceProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    h.apply("userattributeprofiles", uap("attrs", "t")).await;
    wait_object(&uaps, "attrs", "Ready", ready).await;
    let mut paused = ssp("portal", "attrs");
    paused["metadata"]["annotations"] = json!({"auth0.operators.dev/paused": "true"});
    h.apply("selfserviceprofiles", paused).await;
    wait_object(&ssps, "portal", "reported paused", |o| {
        condition(o, "Synced").1 == "ReconcilePaused"
    })
    .await;
    uaps.delete("attrs", &DeleteParams::default()).await.expect("delete");
    wait_object_gone(&uaps, "attrs", Duration::from_secs(30)).await;
    assert!(
        h.emulator
            .user_attribute_profiles(&h.domain)
            .expect("tenant")
            .is_empty()
    );
    assert!(h.emulator.self_service_profiles(&h.domain).expect("tenant").is_empty());
}

/// A referenced profile made again under a new id (deleted in the dashboard, recreated by
/// its drift check) reaches the self-service profile that uses it at once, whatever that
/// one's poll interval: a pass whose references resolve to another id is no drift check
/// "done moments ago".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referenced_profile_made_again_is_used_by_its_new_id_at_once() {
    let h = Harness::start_with("kinds-newid", common::all_scopes()).await;
    let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let ssps: Api<SelfServiceProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    h.apply("userattributeprofiles", uap("attrs", "t")).await;
    let first = wait_object(&uaps, "attrs", "Ready", ready).await;
    let first_id = first["status"]["id"].as_str().expect("id").to_string();
    let mut portal = ssp("portal", "attrs");
    // Its own drift check is an hour away: only the reference's change can bring it.
    portal["metadata"]["annotations"] = json!({"auth0.operators.dev/poll-interval": "1h"});
    h.apply("selfserviceprofiles", portal).await;
    let portal = wait_object(&ssps, "portal", "Ready", ready).await;
    let ssp_id = portal["status"]["id"].as_str().expect("id").to_string();
    let held = |h: &Harness| {
        let all = serde_json::to_value(h.emulator.self_service_profiles(&h.domain).expect("tenant")).expect("json");
        all.as_array()
            .and_then(|all| all.iter().find(|p| p["id"] == ssp_id.as_str()).cloned())
            .expect("the self-service profile")["user_attribute_profile_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(held(&h), first_id);
    // Someone deletes the user attribute profile in the dashboard (this tenant lets a used
    // one go), and its drift check makes it again.
    h.admin("PATCH", "settings", Some(json!({"refuse_delete_in_use": false})))
        .await;
    h.admin("DELETE", &format!("user-attribute-profiles/{first_id}"), None)
        .await;
    let again = wait_object(&uaps, "attrs", "made again", |o| {
        ready(o) && o["status"]["id"].as_str().is_some_and(|id| id != first_id)
    })
    .await;
    let new_id = again["status"]["id"].as_str().expect("id").to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while held(&h) != new_id {
        assert!(
            std::time::Instant::now() < deadline,
            "the self-service profile still uses {} instead of {new_id}",
            held(&h)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A tenant whose client holds the connection-profile scopes only stays Ready while only
/// connection profiles use it; the first UserAttributeProfile on it fails `Forbidden`
/// naming the scope Auth0 asked for, and the tenant, checked again at once (its poll is ten
/// minutes away), lists the four scopes the kind needs, and an operator restart does not
/// flip it; when the last one goes, it is Ready again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_names_the_scopes_of_the_kinds_that_use_it() {
    let mut h = Harness::prepare("kinds-scopes", SCOPES.iter().map(|s| s.to_string()).collect()).await;
    h.poll_interval = "10m".into();
    h.start_operator();
    let tenants: Api<Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let tenant_ready = |o: &Value| {
        condition(o, "Ready").0 == "True" && o["status"]["missingScopes"].as_array().is_none_or(|m| m.is_empty())
    };

    h.apply_profile("cp", json!({})).await;
    h.wait_ready("cp").await;
    wait_object(&tenants, "t", "Ready with connection profiles only", tenant_ready).await;

    h.apply("userattributeprofiles", uap("attrs", "t")).await;
    let refused = wait_object(&uaps, "attrs", "Forbidden", |o| condition(o, "Synced").1 == "Forbidden").await;
    let message = condition(&refused, "Synced").2;
    assert!(
        message.contains(":user_attribute_profiles"),
        "names the scope: {message}"
    );
    let lacking = wait_object(&tenants, "t", "MissingScopes", |o| {
        condition(o, "Ready").1 == "MissingScopes"
    })
    .await;
    assert_eq!(
        lacking["status"]["missingScopes"],
        json!([
            "read:user_attribute_profiles",
            "create:user_attribute_profiles",
            "update:user_attribute_profiles",
            "delete:user_attribute_profiles"
        ])
    );
    let message = condition(&lacking, "Ready").2;
    assert!(
        message.contains("needed by the UserAttributeProfiles on this tenant"),
        "{message}"
    );
    assert!(!message.contains("connection_profiles"), "{message}");
    // The connection profile on it is untouched by what the other kind lacks.
    let cp = h.profiles().get("cp").await.expect("cp");
    assert_eq!(common::condition(&cp, "Ready").map(|c| c.0), Some("True".to_string()));

    // A restart does not flip it: the tenant is judged once every kind is listed (judged
    // on the connection profiles alone it would read Ready for a moment).
    let since = |o: &Value| {
        o["status"]["conditions"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["type"] == "Ready"))
            .map(|c| c["lastTransitionTime"].clone())
    };
    h.stop_operator();
    h.start_operator();
    let watched = Instant::now();
    while watched.elapsed() < Duration::from_secs(5) {
        let now = serde_json::to_value(tenants.get("t").await.expect("tenant")).expect("json");
        assert_eq!(condition(&now, "Ready").1, "MissingScopes", "{now:#?}");
        assert_eq!(since(&now), since(&lacking), "{now:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    uaps.delete("attrs", &DeleteParams::default()).await.expect("delete");
    wait_object_gone(&uaps, "attrs", Duration::from_secs(30)).await;
    wait_object(&tenants, "t", "Ready again", tenant_ready).await;
}

/// Found by fault scenario 8 (tests/faults): a self-service profile refused for the id of a
/// user attribute profile deleted in the dashboard (Auth0 answers 400 `User attribute
/// profile not found`: a terminal `InvalidSpec`) stayed refused for good once the profile it
/// names was re-created under a new id: the wake the new id sent found the stalled pass's
/// fingerprint unchanged (spec, annotations, tenant) and stopped. What the references
/// resolve to is now part of that fingerprint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_service_profile_refused_for_a_stale_id_follows_the_new_one() {
    let mut h = Harness::prepare("kinds-stale", common::all_scopes()).await;
    // No drift check notices the dashboard's delete before the test asks for one.
    h.poll_interval = "10m".into();
    h.start_operator();
    let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let ssps: Api<SelfServiceProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    h.apply("userattributeprofiles", uap("attrs", "t")).await;
    let attrs = wait_object(&uaps, "attrs", "Ready", ready).await;
    let old = attrs["status"]["id"].as_str().expect("id").to_string();
    h.admin("DELETE", &format!("user-attribute-profiles/{old}"), None).await;

    // The resource still says Ready with the old id: the self-service profile sends it, and
    // Auth0 refuses it.
    h.apply("selfserviceprofiles", ssp("portal", "attrs")).await;
    let refused = wait_object(&ssps, "portal", "refused", |o| {
        condition(o, "Synced").1 == "InvalidSpec"
    })
    .await;
    assert!(condition(&refused, "Synced").2.contains("not found"), "{refused:#?}");

    // The user attribute profile is looked at again, finds its profile gone and makes a new
    // one: the self-service profile follows, with the new id.
    let now = json!({"metadata": {"annotations": {"auth0.operators.dev/reconcile-requested-at": "now"}}});
    uaps.patch(
        "attrs",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&now),
    )
    .await
    .expect("annotate");
    let attrs = wait_object(&uaps, "attrs", "re-created", |o| {
        ready(o) && o["status"]["id"].as_str().is_some_and(|id| id != old)
    })
    .await;
    let new = attrs["status"]["id"].as_str().expect("id").to_string();
    let portal = wait_object(&ssps, "portal", "Ready", ready).await;
    let id = portal["status"]["id"].as_str().expect("id").to_string();
    let held = h
        .emulator
        .self_service_profiles(&h.domain)
        .expect("tenant")
        .into_iter()
        .find(|p| p.id == id)
        .expect("held");
    assert_eq!(held.user_attribute_profile_id.as_deref(), Some(new.as_str()));
}
