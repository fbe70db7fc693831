//! Faithful to the real Auth0, end to end (the operator binary, a real kube-apiserver, the
//! emulator over HTTP with its per-tenant settings): bodies that carry only what must be
//! said, so a tenant without an early-access feature can use every other field; a value
//! Auth0 will not keep is reported once, not sent forever; the newest fields; and what the
//! operator does not know, it keeps.

mod common;

use std::time::Duration;

use common::{Harness, condition, id, observed};
use serde_json::{Value, json};

/// The spec of an example under deploy/examples, on this test's tenant.
fn example(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/examples")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("example");
    let object: Value = serde_saphyr::from_str(&text).expect("yaml");
    let mut spec = object["spec"].clone();
    if let Some(spec) = spec.as_object_mut() {
        spec.remove("tenantRef");
    }
    spec
}

fn synced(p: &auth0_operator::crd::ConnectionProfile) -> (String, String, String) {
    condition(p, "Synced").unwrap_or_default()
}

fn count(h: &Harness, method: &str) -> usize {
    h.requests()
        .iter()
        .filter(|(m, p, _)| m == method && p.starts_with("/api/v2/connection-profiles"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_without_early_access_features_can_use_every_other_field() {
    let h = Harness::start("fid-flags").await;
    h.admin(
        "PATCH",
        "settings",
        Some(json!({"features": {"cross_app_access": false, "scim_provisioning": false, "google_workspace_provisioning": false}})),
    )
    .await;
    h.apply_profile("docs", example("connectionprofile-auth0-docs.yaml"))
        .await;
    h.apply_profile("minimal", example("connectionprofile-minimal.yaml"))
        .await;
    for name in ["docs", "minimal"] {
        let ready = h.wait_ready(name).await;
        let remote = h.remote_by_id(&id(&ready)).expect("created");
        assert!(
            remote.get("cross_app_access_resource_app").is_none_or(Value::is_null),
            "{remote}"
        );
    }
    h.apply_profile("full", example("connectionprofile-full.yaml")).await;
    let refused = h
        .wait_for("full", Duration::from_secs(20), "FeatureNotEnabled", |p| {
            synced(p).1 == "FeatureNotEnabled" && condition(p, "Stalled").is_some_and(|c| c.0 == "True")
        })
        .await;
    let message = synced(&refused).2;
    for field in ["spec.crossAppAccessResourceApp", "spec.provisioning"] {
        assert!(message.contains(field), "{message}");
    }
    assert!(
        message.contains("This feature is not enabled for this tenant."),
        "{message}"
    );
    // Terminal: no retry until the spec changes.
    let posts = count(&h, "POST");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(count(&h, "POST"), posts, "{:?}", h.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_auth0_normalizes_is_reported_once_and_not_sent_again() {
    let h = Harness::start("fid-normalize").await;
    h.admin(
        "PATCH",
        "settings",
        Some(json!({"normalize": [{"action": "lowercase", "field": "connection_name_prefix_template"}]})),
    )
    .await;
    h.apply_profile("n", json!({"connectionNamePrefixTemplate": "ABC-"}))
        .await;
    let stuck = h
        .wait_for("n", Duration::from_secs(30), "NotConverging", |p| {
            synced(p).1 == "NotConverging"
        })
        .await;
    let message = synced(&stuck).2;
    assert!(
        message.contains(r#"connection_name_prefix_template: sent "ABC-", Auth0 keeps "abc-""#),
        "{message}"
    );
    assert_eq!(count(&h, "PATCH"), 1, "one PATCH: {:?}", h.requests());
    // Five poll intervals (2 s): drift checks go on, the PATCH is not sent again.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(count(&h, "PATCH"), 1, "{:?}", h.requests());
    let events: Vec<_> = h
        .events("n")
        .await
        .into_iter()
        .filter(|e| e.1 == "NotConverging" || e.1 == "DriftCorrected")
        .collect();
    assert_eq!(events.len(), 1, "one Warning, no DriftCorrected: {events:?}");
    // A spec Auth0 keeps as it is re-arms it.
    h.apply_profile("n", json!({"connectionNamePrefixTemplate": "abc-"}))
        .await;
    h.wait_for("n", Duration::from_secs(20), "Synced", |p| {
        observed(p) && synced(p).0 == "True"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_sync_and_google_workspace_end_to_end() {
    let h = Harness::start("fid-new-fields").await;
    let made = h
        .admin(
            "POST",
            "profiles",
            Some(
                json!({"name": "made-in-dashboard", "enabled_features": ["directory_sync", "scim"],
                        "provisioning": {"google_workspace": {"sync_users": true}}}),
            ),
        )
        .await;
    let made_id = made["id"].as_str().expect("id").to_string();
    h.apply_profile(
        "adopted",
        json!({"name": "made-in-dashboard", "externalID": made_id,
               "enabledFeatures": ["scim", "directory_sync"],
               "provisioning": {"googleWorkspace": {"syncUsers": true}}}),
    )
    .await;
    let ready = h.wait_ready("adopted").await;
    let at = ready.status.and_then(|s| s.at_provider).expect("atProvider");
    assert!(
        at.enabled_features
            .is_some_and(|f| f.contains(&auth0_operator::crd::Feature::DirectorySync))
    );
    assert_eq!(
        at.provisioning.and_then(|p| p.google_workspace).map(|g| g.sync_users),
        Some(true)
    );
    assert_eq!(count(&h, "PATCH"), 0, "adopted as it is: {:?}", h.requests());

    h.apply_profile(
        "fresh",
        json!({"enabledFeatures": ["directory_sync"], "provisioning": {"googleWorkspace": {"syncUsers": false}}}),
    )
    .await;
    let fresh = h.wait_ready("fresh").await;
    let remote = h.remote_by_id(&id(&fresh)).expect("created");
    assert_eq!(remote["enabled_features"], json!(["directory_sync"]));
    assert_eq!(
        remote["provisioning"],
        json!({"google_workspace": {"sync_users": false}})
    );

    h.admin(
        "PATCH",
        "settings",
        Some(json!({"features": {"google_workspace_provisioning": false}})),
    )
    .await;
    h.apply_profile("gw", json!({"provisioning": {"googleWorkspace": {"syncUsers": true}}}))
        .await;
    let refused = h
        .wait_for("gw", Duration::from_secs(20), "FeatureNotEnabled", |p| {
            synced(p).1 == "FeatureNotEnabled"
        })
        .await;
    assert!(
        synced(&refused).2.contains("spec.provisioning"),
        "{:?}",
        synced(&refused)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_operator_does_not_know_it_keeps() {
    let h = Harness::start("fid-unknown").await;
    h.admin("PATCH", "settings", Some(json!({"accept_unknown": true})))
        .await;
    let made = h
        .admin(
            "POST",
            "profiles",
            Some(json!({"name": "newer", "enabled_features": ["scim", "future_feature"],
                        "organization": {"show_as_button": "none", "assign_membership_on_login": "none"},
                        "provisioning": {"scim": {"tokens": {"scopes": ["get:users"], "future_knob": 3}},
                                         "future_block": {"on": true}}})),
        )
        .await;
    let made_id = made["id"].as_str().expect("id").to_string();
    h.apply_profile(
        "newer",
        json!({"externalID": made_id, "enabledFeatures": ["scim"],
               "provisioning": {"scim": {"tokens": {"scopes": ["get:users"]}}}}),
    )
    .await;
    let ready = h.wait_ready("newer").await;
    assert_eq!(count(&h, "PATCH"), 0, "unknown parts are not drift: {:?}", h.requests());
    let status = ready.status.expect("status");
    assert!(status.at_provider.is_some(), "atProvider stays");
    assert_eq!(
        status.unrecognized,
        [
            "enabled_features: \"future_feature\"",
            "provisioning.future_block: {\"on\":true}",
            "provisioning.scim.tokens.future_knob: 3"
        ]
    );

    // A change to SCIM provisioning made in Git leaves what the operator does not know.
    h.apply_profile(
        "newer",
        json!({"externalID": made_id, "enabledFeatures": ["scim"],
               "provisioning": {"scim": {"tokens": {"scopes": ["get:users", "post:users"]}}}}),
    )
    .await;
    h.wait_for("newer", Duration::from_secs(20), "updated", |p| {
        observed(p) && condition(p, "Ready").is_some_and(|c| c.0 == "True")
    })
    .await;
    let remote = h.remote_by_id(&made_id).expect("kept");
    assert_eq!(
        remote["provisioning"]["scim"]["tokens"]["scopes"],
        json!(["get:users", "post:users"])
    );
    assert_eq!(remote["provisioning"]["scim"]["tokens"]["future_knob"], 3);
    assert_eq!(remote["provisioning"]["future_block"], json!({"on": true}));
    assert!(
        remote["enabled_features"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("future_feature")))
    );
    let events = h.events("newer").await;
    assert!(
        !events.iter().any(|e| e.1 == "DriftCorrected"),
        "no drift correction: {events:?}"
    );
}
