//! The two kinds beside ConnectionProfile, end to end (the operator binary, a real
//! kube-apiserver, the emulator): a UserAttributeProfile and a SelfServiceProfile that names
//! it are both Ready, the self-service profile carrying the user attribute profile's Auth0
//! id and its custom text; a self-service profile waits (`ReferenceNotReady`) and sends
//! nothing until the profile it names is Ready; a user attribute profile that a
//! self-service profile uses waits to be deleted (`InUse`, naming it) instead of letting
//! Auth0 refuse; a reference to a resource on another tenant is refused
//! (`InvalidReference`).

mod common;

use std::fmt::Debug;
use std::time::{Duration, Instant};

use auth0_operator::crd::{SelfServiceProfile, UserAttributeProfile};
use common::{Harness, SCOPES};
use kube::api::{Api, DeleteParams};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Every scope the three kinds need.
fn scopes() -> Vec<String> {
    let mut all: Vec<String> = SCOPES.iter().map(|s| s.to_string()).collect();
    for kind in ["user_attribute_profiles", "self_service_profiles"] {
        for verb in ["read", "create", "update", "delete"] {
            all.push(format!("{verb}:{kind}"));
        }
    }
    all.push("read:self_service_profile_custom_texts".into());
    all.push("update:self_service_profile_custom_texts".into());
    all
}

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

/// The condition `type_` of an object's status, as (status, reason, message).
fn condition(object: &Value, type_: &str) -> (String, String, String) {
    object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == type_)
        .map(|c| {
            let text = |key: &str| c[key].as_str().unwrap_or_default().to_string();
            (text("status"), text("reason"), text("message"))
        })
        .unwrap_or_default()
}

/// Polls the resource (as JSON) until `check` holds; panics with the last state after `limit`.
async fn wait<K>(api: &Api<K>, name: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value
where
    K: kube::Resource + Clone + Debug + DeserializeOwned + Serialize,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let current = api
            .get_opt(name)
            .await
            .expect("get")
            .map(|o| serde_json::to_value(o).expect("json"));
        if let Some(object) = &current
            && check(object)
        {
            return object.clone();
        }
        if Instant::now() > deadline {
            panic!("{name}: not {what} within 30s; last seen: {current:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ready(object: &Value) -> bool {
    condition(object, "Ready").0 == "True" && object["status"]["observedGeneration"] == object["metadata"]["generation"]
}

async fn wait_gone<K>(api: &Api<K>, name: &str)
where
    K: kube::Resource + Clone + Debug + DeserializeOwned,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while api.get_opt(name).await.expect("get").is_some() {
        assert!(Instant::now() < deadline, "{name} not deleted within 30s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_service_profile_waits_for_the_user_attribute_profile_it_names_then_both_are_ready() {
    let h = Harness::start_with("kinds-ref", scopes()).await;
    let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let ssps: Api<SelfServiceProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());

    // The self-service profile first: it names a user attribute profile that does not exist.
    h.apply("selfserviceprofiles", ssp("portal", "attrs")).await;
    let waiting = wait(&ssps, "portal", "waiting for its reference", |o| {
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
    let attrs = wait(&uaps, "attrs", "Ready", ready).await;
    let uap_id = attrs["status"]["id"].as_str().expect("id").to_string();
    assert!(uap_id.starts_with("uap_"), "{uap_id}");
    let portal = wait(&ssps, "portal", "Ready", ready).await;
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
    let blocked = wait(&uaps, "attrs", "InUse", |o| condition(o, "Synced").1 == "InUse").await;
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
    wait_gone(&ssps, "portal").await;
    wait_gone(&uaps, "attrs").await;
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
    let h = Harness::start_with("kinds-tenant", scopes()).await;
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
    wait(&uaps, "elsewhere", "Ready", ready).await;
    h.apply("selfserviceprofiles", ssp("portal", "elsewhere")).await;
    let refused = wait(&ssps, "portal", "refused", |o| {
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
    let h = Harness::start_with("kinds-own", scopes()).await;
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
    let refused = wait(&uaps, "claims-taken", "Conflict", |o| {
        condition(o, "Synced").1 == "Conflict"
    })
    .await;
    assert!(condition(&refused, "Synced").2.contains(&foreign_id), "{refused:#?}");
    uaps.delete("claims-taken", &DeleteParams::default())
        .await
        .expect("delete");
    wait_gone(&uaps, "claims-taken").await;
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
    let full = wait(&ssps, "one-too-many", "QuotaExceeded", |o| {
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
    let created = wait(&ssps, "one-too-many", "Ready", ready).await;
    assert!(created["status"]["id"].as_str().expect("id").starts_with("ssp_"));
}

/// Drift is checked from one listing per kind per interval: three settled user attribute
/// profiles cost one page of `GET /user-attribute-profiles` an interval, never a GET each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settled_profiles_are_checked_from_one_listing_per_interval() {
    let h = Harness::start_with("kinds-drift", scopes()).await;
    let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    for name in ["a", "b", "c"] {
        h.apply("userattributeprofiles", uap(name, "t")).await;
    }
    for name in ["a", "b", "c"] {
        wait(&uaps, name, "Ready", ready).await;
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

/// Found by fault scenario 8 (tests/faults): a self-service profile refused for the id of a
/// user attribute profile deleted in the dashboard (Auth0 answers 400 `User attribute
/// profile not found`: a terminal `InvalidSpec`) stayed refused for good once the profile it
/// names was re-created under a new id: the wake the new id sent found the stalled pass's
/// fingerprint unchanged (spec, annotations, tenant) and stopped. What the references
/// resolve to is now part of that fingerprint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_service_profile_refused_for_a_stale_id_follows_the_new_one() {
    let mut h = Harness::prepare("kinds-stale", scopes()).await;
    // No drift check notices the dashboard's delete before the test asks for one.
    h.poll_interval = "10m".into();
    h.start_operator();
    let uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let ssps: Api<SelfServiceProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    h.apply("userattributeprofiles", uap("attrs", "t")).await;
    let attrs = wait(&uaps, "attrs", "Ready", ready).await;
    let old = attrs["status"]["id"].as_str().expect("id").to_string();
    h.admin("DELETE", &format!("user-attribute-profiles/{old}"), None).await;

    // The resource still says Ready with the old id: the self-service profile sends it, and
    // Auth0 refuses it.
    h.apply("selfserviceprofiles", ssp("portal", "attrs")).await;
    let refused = wait(&ssps, "portal", "refused", |o| {
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
    let attrs = wait(&uaps, "attrs", "re-created", |o| {
        ready(o) && o["status"]["id"].as_str().is_some_and(|id| id != old)
    })
    .await;
    let new = attrs["status"]["id"].as_str().expect("id").to_string();
    let portal = wait(&ssps, "portal", "Ready", ready).await;
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
