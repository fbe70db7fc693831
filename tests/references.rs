//! References between kinds, custom text, adoption and the quota, end to end against the
//! real kube-apiserver and the emulator: the inputs a newcomer's review of issue 29 aimed at
//! them (a reference moving between name and id, two users, a stalled reference mended by
//! its referent, a waiting deletion let go in every way, odd custom-text keys, a failed
//! custom-text write retried, server-side apply of `{}`, a paused referent, 21 profiles on a
//! tenant of 20). Five of them failed on the code they were written against and are fixed.

mod common;

use std::time::{Duration, Instant};

use auth0_operator::crd::{SelfServiceProfile, UserAttributeProfile};
use common::{Harness, object_condition as condition, object_ready as ready, wait_object, wait_object_gone};
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

/// A self-service profile on tenant `t` with `reference` as its userAttributeProfileRef
/// (`Value::Null`: none).
fn ssp(name: &str, reference: Value) -> Value {
    let mut object = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "SelfServiceProfile",
           "metadata": {"name": name},
           "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"},
                    "description": "SSO for customers",
                    "allowedStrategies": ["oidc", "samlp"]}});
    if !reference.is_null() {
        object["spec"]["userAttributeProfileRef"] = reference;
    }
    object
}

fn apis(h: &Harness) -> (Api<UserAttributeProfile>, Api<SelfServiceProfile>) {
    (
        Api::namespaced(h.ns.client.clone(), h.ns.name()),
        Api::namespaced(h.ns.client.clone(), h.ns.name()),
    )
}

/// The self-service profile `id` as the emulator holds it.
fn held_ssp(h: &Harness, id: &str) -> Option<Value> {
    let all = serde_json::to_value(h.emulator.self_service_profiles(&h.domain).expect("tenant")).expect("json");
    all.as_array()
        .and_then(|all| all.iter().find(|p| p["id"] == id).cloned())
}

/// Waits until Auth0's copy of self-service profile `id` uses `uap` (`Value::Null`: none).
async fn wait_held_uap(h: &Harness, id: &str, uap: Value) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let held = held_ssp(h, id).expect("the self-service profile");
        let now = held.get("user_attribute_profile_id").cloned().unwrap_or(Value::Null);
        if now == uap {
            return;
        }
        assert!(Instant::now() < deadline, "{id} uses {now} instead of {uap}: {held}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn id_of(object: &Value) -> String {
    object["status"]["id"].as_str().expect("status.id").to_string()
}

/// Server-side apply that returns the API server's refusal instead of panicking.
async fn try_apply(h: &Harness, plural: &str, object: &Value) -> Result<(), String> {
    let name = object["metadata"]["name"].as_str().expect("name");
    let url = format!(
        "/apis/auth0.operators.dev/v1alpha1/namespaces/{}/{plural}/{name}?fieldManager=test&force=true",
        h.ns.name()
    );
    let request = http::Request::patch(url)
        .header("content-type", "application/apply-patch+yaml")
        .body(serde_json::to_vec(object).expect("json"))
        .expect("request");
    h.ns.client
        .request::<Value>(request)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn no_409(h: &Harness) {
    let refused: Vec<_> = h.requests().into_iter().filter(|(_, _, s)| *s == 409).collect();
    assert!(refused.is_empty(), "Auth0 had to refuse: {refused:#?}");
}

/// The reference moves from a name to an id, to another profile, back to a name, and away:
/// Auth0's copy follows each step, and the profile no longer used can be deleted without
/// Auth0 refusing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_moves_between_name_and_id_and_between_profiles() {
    let h = Harness::start_with("r29-move", common::all_scopes()).await;
    let (uaps, ssps) = apis(&h);
    h.apply("userattributeprofiles", uap("a", "t")).await;
    h.apply("userattributeprofiles", uap("b", "t")).await;
    let a = id_of(&wait_object(&uaps, "a", "Ready", ready).await);
    let b = id_of(&wait_object(&uaps, "b", "Ready", ready).await);

    h.apply("selfserviceprofiles", ssp("p", json!({"name": "a"}))).await;
    let p = id_of(&wait_object(&ssps, "p", "Ready", ready).await);
    wait_held_uap(&h, &p, json!(a)).await;

    h.apply("selfserviceprofiles", ssp("p", json!({"id": b}))).await;
    wait_object(&ssps, "p", "Ready on b's id", ready).await;
    wait_held_uap(&h, &p, json!(b)).await;

    h.apply("selfserviceprofiles", ssp("p", json!({"name": "a"}))).await;
    wait_object(&ssps, "p", "Ready on a by name", ready).await;
    wait_held_uap(&h, &p, json!(a)).await;

    // b is used by nothing now: it goes at once.
    uaps.delete("b", &DeleteParams::default()).await.expect("delete");
    wait_object_gone(&uaps, "b", Duration::from_secs(20)).await;

    h.apply("selfserviceprofiles", ssp("p", Value::Null)).await;
    wait_object(&ssps, "p", "Ready without a reference", ready).await;
    wait_held_uap(&h, &p, Value::Null).await;
    assert_eq!(
        id_of(&wait_object(&ssps, "p", "Ready", ready).await),
        p,
        "never made again"
    );
    no_409(&h);
}

/// Two self-service profiles name one user attribute profile: its deletion waits naming
/// both, then the one left, and goes when the last lets go. Then both kinds deleted at the
/// same moment (what a namespace deletion does) leave nothing in Auth0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_hold_up_a_deletion_and_both_kinds_deleted_at_once_leave_nothing() {
    let h = Harness::start_with("r29-two", common::all_scopes()).await;
    let (uaps, ssps) = apis(&h);
    let ns = h.ns.name().to_string();
    h.apply("userattributeprofiles", uap("attrs", "t")).await;
    wait_object(&uaps, "attrs", "Ready", ready).await;
    h.apply("selfserviceprofiles", ssp("p1", json!({"name": "attrs"})))
        .await;
    h.apply("selfserviceprofiles", ssp("p2", json!({"name": "attrs"})))
        .await;
    wait_object(&ssps, "p1", "Ready", ready).await;
    wait_object(&ssps, "p2", "Ready", ready).await;

    uaps.delete("attrs", &DeleteParams::default()).await.expect("delete");
    let both = wait_object(&uaps, "attrs", "InUse naming both", |o| {
        let (_, reason, message) = condition(o, "Synced");
        reason == "InUse"
            && message.contains(&format!("SelfServiceProfile {ns}/p1"))
            && message.contains(&format!("SelfServiceProfile {ns}/p2"))
    })
    .await;
    assert!(both["metadata"]["deletionTimestamp"].is_string());
    ssps.delete("p1", &DeleteParams::default()).await.expect("delete");
    wait_object_gone(&ssps, "p1", Duration::from_secs(20)).await;
    wait_object(&uaps, "attrs", "InUse naming p2 only", |o| {
        let (_, reason, message) = condition(o, "Synced");
        reason == "InUse"
            && !message.contains(&format!("SelfServiceProfile {ns}/p1"))
            && message.contains(&format!("SelfServiceProfile {ns}/p2"))
    })
    .await;
    ssps.delete("p2", &DeleteParams::default()).await.expect("delete");
    wait_object_gone(&ssps, "p2", Duration::from_secs(20)).await;
    wait_object_gone(&uaps, "attrs", Duration::from_secs(20)).await;

    // Both kinds at once.
    h.apply("userattributeprofiles", uap("attrs2", "t")).await;
    wait_object(&uaps, "attrs2", "Ready", ready).await;
    h.apply("selfserviceprofiles", ssp("p3", json!({"name": "attrs2"})))
        .await;
    wait_object(&ssps, "p3", "Ready", ready).await;
    let params = DeleteParams::default();
    let (a, b) = tokio::join!(uaps.delete("attrs2", &params), ssps.delete("p3", &params));
    a.expect("delete");
    b.expect("delete");
    wait_object_gone(&ssps, "p3", Duration::from_secs(20)).await;
    wait_object_gone(&uaps, "attrs2", Duration::from_secs(20)).await;
    assert!(h.emulator.self_service_profiles(&h.domain).expect("tenant").is_empty());
    assert!(
        h.emulator
            .user_attribute_profiles(&h.domain)
            .expect("tenant")
            .is_empty()
    );
    no_409(&h);
}

/// A second Auth0Tenant, `other`, in the test's namespace, on the same Auth0 tenant.
async fn other_tenant(h: &Harness) {
    let url = h.emulator.tenant_url(&h.domain).expect("url");
    h.apply(
        "auth0tenants",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
               "metadata": {"name": "other"},
               "spec": {"domain": h.domain, "credentialsSecretRef": {"name": "creds"}, "endpoint": {"url": url}}}),
    )
    .await;
}

/// A self-service profile refused because the profile it names is on another tenant
/// (`InvalidReference`, Stalled) goes on when that profile is made again on its own tenant:
/// docs/kinds.md says "Stalled until one of them changes".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_reference_recovers_when_the_referenced_profile_changes() {
    let h = Harness::start_with("r29-stall", common::all_scopes()).await;
    let (uaps, ssps) = apis(&h);
    other_tenant(&h).await;
    let mut elsewhere = uap("attrs", "other");
    elsewhere["spec"]["name"] = json!("attrs-on-other");
    h.apply("userattributeprofiles", elsewhere).await;
    wait_object(&uaps, "attrs", "Ready", ready).await;
    h.apply("selfserviceprofiles", ssp("portal", json!({"name": "attrs"})))
        .await;
    let refused = wait_object(&ssps, "portal", "InvalidReference", |o| {
        condition(o, "Synced").1 == "InvalidReference"
    })
    .await;
    assert_eq!(condition(&refused, "Stalled").0, "True");

    // The user attribute profile moves to the right tenant (deleted, made again on t).
    uaps.delete("attrs", &DeleteParams::default()).await.expect("delete");
    wait_object_gone(&uaps, "attrs", Duration::from_secs(20)).await;
    h.apply("userattributeprofiles", uap("attrs", "t")).await;
    let attrs = id_of(&wait_object(&uaps, "attrs", "Ready on t", ready).await);
    let portal = wait_object(&ssps, "portal", "Ready once its reference is on its tenant", ready).await;
    wait_held_uap(&h, &id_of(&portal), json!(attrs)).await;
}

/// How a self-service profile lets go of the user attribute profile it uses.
#[derive(Clone, Copy, PartialEq)]
enum LetGo {
    /// It names it by name and is deleted (the control: `cleanup.rs` wakes it).
    NamedAndDeleted,
    /// It names it by id and is deleted.
    ByIdAndDeleted,
    /// It names it by name and drops the reference.
    DropsTheReference,
}

/// A deletion waiting `InUse` goes on as soon as its user lets go (docs/kinds.md: "it goes
/// on when they let go"), however long it has waited and however the user lets go: it looks
/// again every 2 s (`status::WAIT_RECHECK`, no Auth0 call), where the failure backoff (1 s
/// doubling, 300 s cap) once kept it waiting minutes.
async fn a_waiting_deletion_goes_on_when_its_user(prefix: &str, how: LetGo) {
    let h = Harness::start_with(prefix, common::all_scopes()).await;
    let (uaps, ssps) = apis(&h);
    h.apply("userattributeprofiles", uap("attrs", "t")).await;
    let attrs = id_of(&wait_object(&uaps, "attrs", "Ready", ready).await);
    let reference = match how {
        LetGo::ByIdAndDeleted => json!({"id": attrs}),
        _ => json!({"name": "attrs"}),
    };
    h.apply("selfserviceprofiles", ssp("portal", reference)).await;
    wait_object(&ssps, "portal", "Ready", ready).await;
    uaps.delete("attrs", &DeleteParams::default()).await.expect("delete");
    wait_object(&uaps, "attrs", "InUse", |o| condition(o, "Synced").1 == "InUse").await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    match how {
        LetGo::DropsTheReference => h.apply("selfserviceprofiles", ssp("portal", Value::Null)).await,
        _ => {
            ssps.delete("portal", &DeleteParams::default()).await.expect("delete");
        }
    }
    let since = Instant::now();
    while uaps.get_opt("attrs").await.expect("get").is_some() {
        assert!(
            since.elapsed() < Duration::from_secs(6),
            "still waiting 6 s after its user let go (it looks again every 2 s)"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_deletion_goes_on_when_its_user_by_name_is_deleted() {
    a_waiting_deletion_goes_on_when_its_user("r29-wake-name", LetGo::NamedAndDeleted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_deletion_goes_on_when_its_user_by_id_is_deleted() {
    a_waiting_deletion_goes_on_when_its_user("r29-wake-id", LetGo::ByIdAndDeleted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_deletion_goes_on_when_its_user_drops_the_reference() {
    a_waiting_deletion_goes_on_when_its_user("r29-wake-drop", LetGo::DropsTheReference).await;
}

/// Custom text with keys a user may well write (dots, spaces, non-ASCII, slashes) and the
/// longest values: written once, read back equal, no rewrite while settled; `{}` restores
/// Auth0's texts and sticks; leaving customText out leaves Auth0's texts alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_text_with_odd_keys_settles_and_a_reset_sticks() {
    let h = Harness::start_with("r29-text", common::all_scopes()).await;
    let (_, ssps) = apis(&h);
    let texts = json!({"introduction": "<p class=\"x\">Hi & welcome</p>", "a.b": "dot", "with space": "sp",
                       "ünï": "é".repeat(2000), "x/y": "slash", "Z": ""});
    let mut portal = ssp("portal", Value::Null);
    portal["spec"]["customText"] = json!({"en": {"getStarted": texts}});
    h.apply("selfserviceprofiles", portal.clone()).await;
    let id = id_of(&wait_object(&ssps, "portal", "Ready", ready).await);
    let text_path = format!("self-service-profiles/{id}/custom-text");
    assert_eq!(h.admin("GET", &text_path, None).await, texts);

    let puts = |h: &Harness| {
        h.requests()
            .into_iter()
            .filter(|(m, p, _)| m == "PUT" && p.contains("/custom-text/"))
            .count()
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = puts(&h);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(puts(&h), before, "no rewrite while settled");

    // (A JSON merge patch: server-side apply refuses `{}` here, see
    // `resetting_custom_text_with_server_side_apply_is_accepted`.)
    let reset = json!({"spec": {"customText": {"en": {"getStarted": texts.as_object().expect("map").keys().map(|k| (k.clone(), Value::Null)).collect::<serde_json::Map<_, _>>()}}}});
    ssps.patch(
        "portal",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&reset),
    )
    .await
    .expect("merge patch");
    let after = ssps.get("portal").await.expect("get");
    assert_eq!(
        serde_json::to_value(&after.spec.custom_text).expect("json"),
        json!({"en": {"getStarted": {}}})
    );
    portal["spec"]["customText"] = json!({"en": {"getStarted": {}}});
    wait_object(&ssps, "portal", "Ready after the reset", ready).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while h.admin("GET", &text_path, None).await != json!({}) {
        assert!(Instant::now() < deadline, "reset not written");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = puts(&h);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(puts(&h), before, "no rewrite of the reset");

    portal["spec"].as_object_mut().expect("spec").remove("customText");
    ssps.patch(
        "portal",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&json!({"spec": {"customText": null}})),
    )
    .await
    .expect("merge patch");
    wait_object(&ssps, "portal", "Ready without customText", ready).await;
    h.admin("PUT", &text_path, Some(json!({"introduction": "Theirs."})))
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        h.admin("GET", &text_path, None).await,
        json!({"introduction": "Theirs."}),
        "left alone"
    );
}

/// Adopting a foreign self-service profile that has custom text: without spec.customText
/// its text stays; with one, it is replaced; its user attributes give way to a reference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopting_a_foreign_profile_keeps_its_custom_text_until_the_spec_sets_one() {
    let h = Harness::start_with("r29-adopt", common::all_scopes()).await;
    let (uaps, ssps) = apis(&h);
    h.apply("userattributeprofiles", uap("attrs", "t")).await;
    let attrs = id_of(&wait_object(&uaps, "attrs", "Ready", ready).await);
    let theirs = h
        .admin(
            "POST",
            "self-service-profiles",
            Some(json!({"name": "theirs", "user_attributes": [{"name": "email", "description": "Email", "is_optional": false}]})),
        )
        .await;
    let id = theirs["id"].as_str().expect("id").to_string();
    let text_path = format!("self-service-profiles/{id}/custom-text");
    h.admin("PUT", &text_path, Some(json!({"introduction": "Theirs."})))
        .await;

    let mut adopted = ssp("adopted", json!({"name": "attrs"}));
    adopted["spec"]["externalID"] = json!(id);
    h.apply("selfserviceprofiles", adopted.clone()).await;
    let ready_one = wait_object(&ssps, "adopted", "Ready", ready).await;
    assert_eq!(id_of(&ready_one), id);
    wait_held_uap(&h, &id, json!(attrs)).await;
    let held = held_ssp(&h, &id).expect("held");
    assert_eq!(held["user_attributes"], json!([]), "{held}");
    assert_eq!(held["name"], "adopted", "{held}");
    assert_eq!(
        h.admin("GET", &text_path, None).await,
        json!({"introduction": "Theirs."})
    );

    adopted["spec"]["customText"] = json!({"en": {"getStarted": {"introduction": "Ours."}}});
    h.apply("selfserviceprofiles", adopted).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while h.admin("GET", &text_path, None).await != json!({"introduction": "Ours."}) {
        assert!(Instant::now() < deadline, "custom text not replaced");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    no_409(&h);
}

/// A user attribute profile with `deletionPolicy: Orphan` that a self-service profile uses
/// is left in Auth0 without waiting; the self-service profile waits for it; adopted back by
/// its id, both are Ready and the self-service profile never changed in Auth0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphaned_referenced_profile_adopted_back_is_used_again() {
    let h = Harness::start_with("r29-orphan", common::all_scopes()).await;
    let (uaps, ssps) = apis(&h);
    let mut attrs = uap("attrs", "t");
    attrs["spec"]["deletionPolicy"] = json!("Orphan");
    h.apply("userattributeprofiles", attrs.clone()).await;
    let attrs_id = id_of(&wait_object(&uaps, "attrs", "Ready", ready).await);
    h.apply("selfserviceprofiles", ssp("portal", json!({"name": "attrs"})))
        .await;
    let portal = id_of(&wait_object(&ssps, "portal", "Ready", ready).await);

    uaps.delete("attrs", &DeleteParams::default()).await.expect("delete");
    wait_object_gone(&uaps, "attrs", Duration::from_secs(20)).await;
    assert_eq!(h.emulator.user_attribute_profiles(&h.domain).expect("tenant").len(), 1);
    wait_object(&ssps, "portal", "ReferenceNotReady", |o| {
        condition(o, "Synced").1 == "ReferenceNotReady"
    })
    .await;

    attrs["spec"]["externalID"] = json!(attrs_id);
    h.apply("userattributeprofiles", attrs).await;
    wait_object(&uaps, "attrs", "Ready, adopted", ready).await;
    wait_object(&ssps, "portal", "Ready again", |o| {
        ready(o) && condition(o, "Synced").0 == "True"
    })
    .await;
    wait_held_uap(&h, &portal, json!(attrs_id)).await;
    let writes: Vec<_> = h
        .writes()
        .into_iter()
        .filter(|(m, p, _)| p.contains("/self-service-profiles/") && m == "PATCH")
        .collect();
    assert!(
        writes.is_empty(),
        "the self-service profile was never patched: {writes:#?}"
    );
}

/// 21 self-service profiles of the operator's own: 20 are created, the 21st waits
/// `QuotaExceeded` (retried, not Stalled) and is created when one of the 20 goes; never a
/// duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_one_own_profiles_fill_the_tenant_and_the_last_waits_its_turn() {
    let h = Harness::start_with("r29-quota", common::all_scopes()).await;
    let (_, ssps) = apis(&h);
    let names: Vec<String> = (0..21).map(|i| format!("p{i:02}")).collect();
    for name in &names {
        h.apply("selfserviceprofiles", ssp(name, Value::Null)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut ready_ones, mut full) = (Vec::new(), Vec::new());
    while Instant::now() < deadline {
        ready_ones.clear();
        full.clear();
        for name in &names {
            let o = serde_json::to_value(ssps.get(name).await.expect("get")).expect("json");
            if ready(&o) {
                ready_ones.push(name.clone());
            } else if condition(&o, "Synced").1 == "QuotaExceeded" {
                assert_eq!(condition(&o, "Stalled").0, "False", "{o:#?}");
                full.push(name.clone());
            }
        }
        if ready_ones.len() == 20 && full.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        (ready_ones.len(), full.len()),
        (20, 1),
        "ready {ready_ones:?}, full {full:?}"
    );
    assert_eq!(h.emulator.self_service_profiles(&h.domain).expect("tenant").len(), 20);
    ssps.delete(&ready_ones[0], &DeleteParams::default())
        .await
        .expect("delete");
    wait_object_gone(&ssps, &ready_ones[0], Duration::from_secs(20)).await;
    wait_object_for_long(&ssps, &full[0]).await;
    let held = h.emulator.self_service_profiles(&h.domain).expect("tenant");
    assert_eq!(held.len(), 20);
    let held = serde_json::to_value(held).expect("json");
    let mut held_names: Vec<&str> = held
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    held_names.sort();
    held_names.dedup();
    assert_eq!(held_names.len(), 20, "no duplicate: {held_names:?}");
}

async fn wait_object_for_long(ssps: &Api<SelfServiceProfile>, name: &str) {
    // The retry of a QuotaExceeded create follows its backoff (up to 300 s after many
    // failures; here a minute at most has passed).
    common::wait_object_for(ssps, name, "Ready once a slot frees", Duration::from_secs(90), ready).await;
}

/// What the schema must refuse at `kubectl apply` time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_refuses_what_auth0_would() {
    let h = Harness::start_with("r29-schema", common::all_scopes()).await;
    let mut both = ssp("both", json!({"name": "attrs"}));
    both["spec"]["userAttributes"] = json!([{"name": "email", "description": "Email", "isOptional": false}]);
    let refused = try_apply(&h, "selfserviceprofiles", &both).await.expect_err("both");
    assert!(refused.contains("userAttributes"), "{refused}");

    let mut two = ssp("two", json!({"name": "attrs", "id": "uap_0123456789012345678901"}));
    two["metadata"]["name"] = json!("two");
    assert!(try_apply(&h, "selfserviceprofiles", &two).await.is_err());
    let none = ssp("none", json!({}));
    assert!(try_apply(&h, "selfserviceprofiles", &none).await.is_err());
    let wrong = ssp("wrong", json!({"id": "ssp_0123456789012345678901"}));
    assert!(try_apply(&h, "selfserviceprofiles", &wrong).await.is_err());

    let mut long = ssp("long", Value::Null);
    long["spec"]["customText"] = json!({"en": {"getStarted": {"introduction": "x".repeat(2001)}}});
    let refused = try_apply(&h, "selfserviceprofiles", &long).await.expect_err("long");
    assert!(refused.contains("2000"), "{refused}");
    let mut number = ssp("number", Value::Null);
    number["spec"]["customText"] = json!({"en": {"getStarted": {"introduction": 5}}});
    assert!(try_apply(&h, "selfserviceprofiles", &number).await.is_err());
    let mut other_language = ssp("fr", Value::Null);
    other_language["spec"]["customText"] = json!({"fr": {"getStarted": {"introduction": "Bonjour"}}});
    assert!(try_apply(&h, "selfserviceprofiles", &other_language).await.is_err());
}

/// A create whose custom text write fails (Auth0 unavailable for that call) records the id
/// with `Synced=False`, and "the next pass tries again" (apply.rs): the text is written as
/// soon as Auth0 answers, not at the resource's next drift check (an hour away here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_text_that_failed_after_the_create_is_written_on_the_retry() {
    let h = Harness::start_with("r29-textfail", common::all_scopes()).await;
    let (_, ssps) = apis(&h);
    h.admin(
        "POST",
        "faults",
        Some(json!({"endpoint": "set_self_service_profile_custom_text", "status": 503, "times": 5})),
    )
    .await;
    let mut portal = ssp("portal", Value::Null);
    portal["metadata"]["annotations"] = json!({"auth0.operators.dev/poll-interval": "1h"});
    portal["spec"]["customText"] = json!({"en": {"getStarted": {"introduction": "Ours."}}});
    h.apply("selfserviceprofiles", portal).await;
    let failed = common::wait_object_for(&ssps, "portal", "created", Duration::from_secs(60), |o| {
        o["status"]["id"].is_string()
    })
    .await;
    let id = id_of(&failed);
    let text_path = format!("self-service-profiles/{id}/custom-text");
    let deadline = Instant::now() + Duration::from_secs(45);
    while h.admin("GET", &text_path, None).await != json!({"introduction": "Ours."}) {
        assert!(
            Instant::now() < deadline,
            "custom text not written 45 s after the failure: {:#?}; its PUTs: {:?}",
            serde_json::to_value(ssps.get("portal").await.expect("get")).expect("json")["status"],
            h.requests()
                .into_iter()
                .filter(|(m, p, _)| m == "PUT" && p.contains("/custom-text/"))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    wait_object(&ssps, "portal", "Ready and Synced", |o| {
        ready(o) && condition(o, "Synced").0 == "True"
    })
    .await;
    // The faults did refuse the first writes of the text (the client retries a 503 within a
    // call; the pass that gave up recorded the id with Synced=False).
    let refused = h
        .requests()
        .into_iter()
        .filter(|(m, p, status)| m == "PUT" && p.contains("/custom-text/") && *status == 503)
        .count();
    assert_eq!(refused, 5, "{:#?}", h.requests());
    assert!(
        h.events("portal")
            .await
            .iter()
            .any(|(type_, _, note)| type_ == "Warning" && note.contains("created Auth0 self-service profile")),
        "the failed text after the create was reported: {:#?}",
        h.events("portal").await
    );
}

/// `customText.en.getStarted: {}` is the documented way to restore Auth0's texts (the field's
/// description). Server-side apply is how `kubectl apply --server-side`, Argo CD (with
/// ServerSideApply) and Flux write resources: the reset must be accepted there too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resetting_custom_text_with_server_side_apply_is_accepted() {
    let h = Harness::start_with("r29-ssa", common::all_scopes()).await;
    // Made with {} at once: accepted.
    let mut fresh = ssp("fresh", Value::Null);
    fresh["spec"]["customText"] = json!({"en": {"getStarted": {}}});
    try_apply(&h, "selfserviceprofiles", &fresh)
        .await
        .expect("a new resource with {}");
    // Texts first, then {}: what a user resetting them writes.
    let mut portal = ssp("portal", Value::Null);
    portal["spec"]["customText"] = json!({"en": {"getStarted": {"introduction": "Ours."}}});
    try_apply(&h, "selfserviceprofiles", &portal).await.expect("texts");
    portal["spec"]["customText"] = json!({"en": {"getStarted": {}}});
    try_apply(&h, "selfserviceprofiles", &portal)
        .await
        .expect("the reset to Auth0's texts");
}

/// A self-service profile still waiting for its reference (nothing in Auth0) may move to
/// another tenant, and is made there once the profile it names is Ready on that tenant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_profile_moves_to_another_tenant() {
    let h = Harness::start_with("r29-move-tenant", common::all_scopes()).await;
    let (uaps, ssps) = apis(&h);
    other_tenant(&h).await;
    h.apply("selfserviceprofiles", ssp("portal", json!({"name": "attrs"})))
        .await;
    wait_object(&ssps, "portal", "ReferenceNotReady", |o| {
        condition(o, "Synced").1 == "ReferenceNotReady"
    })
    .await;
    let mut moved = ssp("portal", json!({"name": "attrs"}));
    moved["spec"]["tenantRef"]["name"] = json!("other");
    h.apply("selfserviceprofiles", moved).await;
    h.apply("userattributeprofiles", uap("attrs", "other")).await;
    let attrs_id = id_of(&wait_object(&uaps, "attrs", "Ready", ready).await);
    let portal = wait_object(&ssps, "portal", "Ready on other", ready).await;
    assert_eq!(
        portal["status"]["tenantRef"]["name"], "other",
        "{:#?}",
        portal["status"]
    );
    let portal_id = id_of(&portal);
    wait_held_uap(&h, &portal_id, json!(attrs_id)).await;
}

/// Pausing a user attribute profile (no writes to it) leaves its profile in Auth0 under its
/// recorded id: the self-service profiles that use it are not held back by it (today they
/// wait `ReferenceNotReady`, "which is not Ready yet", for as long as it stays paused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_referenced_profile_still_resolves() {
    let h = Harness::start_with("r29-paused", common::all_scopes()).await;
    let (uaps, ssps) = apis(&h);
    let mut attrs = uap("attrs", "t");
    h.apply("userattributeprofiles", attrs.clone()).await;
    let attrs_id = id_of(&wait_object(&uaps, "attrs", "Ready", ready).await);
    attrs["metadata"]["annotations"] = json!({"auth0.operators.dev/paused": "true"});
    h.apply("userattributeprofiles", attrs).await;
    wait_object(&uaps, "attrs", "paused", |o| {
        condition(o, "Synced").1 == "ReconcilePaused"
    })
    .await;
    h.apply("selfserviceprofiles", ssp("portal", json!({"name": "attrs"})))
        .await;
    let portal = wait_object(&ssps, "portal", "Ready beside a paused referent", ready).await;
    wait_held_uap(&h, &id_of(&portal), json!(attrs_id)).await;
}
