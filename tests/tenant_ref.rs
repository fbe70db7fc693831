//! `spec.tenantRef` end to end (the operator binary, a real kube-apiserver, the emulator):
//! a mistyped tenantRef is reported as `TenantNotFound` and can be corrected while nothing
//! exists in Auth0; once `status.id` is recorded the API server refuses a change; and
//! evidence the API server cannot see (the operator's `profile-id` and `create-pending`
//! annotations, recorded on another tenant than tenantRef names now) stops the operator
//! cold: `TenantChanged`, nothing called, written or deleted on either tenant.

mod common;

use std::time::Duration;

use auth0_operator::crd::ConnectionProfile;
use common::{Harness, admin_call, condition, id};
use kube::ResourceExt;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};

const PROFILE_ID: &str = "auth0.operators.dev/profile-id";
const PROFILE_TENANT: &str = "auth0.operators.dev/profile-tenant";
const CREATE_PENDING: &str = "auth0.operators.dev/create-pending";
const FINALIZER: &str = "auth0.operators.dev/finalizer";

fn profile(name: &str, tenant: &str, annotations: Value, finalizers: Value) -> Value {
    json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
           "metadata": {"name": name, "annotations": annotations, "finalizers": finalizers},
           "spec": {"name": "acme", "tenantRef": {"kind": "Auth0Tenant", "name": tenant}, "enabledFeatures": ["scim"]}})
}

/// Server-side apply as the user (field manager `test`), the API server's answer kept.
async fn try_apply(h: &Harness, object: &Value) -> Result<Value, kube::Error> {
    let name = object["metadata"]["name"].as_str().expect("name");
    let url = format!(
        "/apis/auth0.operators.dev/v1alpha1/namespaces/{}/connectionprofiles/{name}?fieldManager=test&force=true",
        h.ns.name()
    );
    let request = http::Request::patch(url)
        .header("content-type", "application/apply-patch+yaml")
        .body(serde_json::to_vec(object).expect("json"))
        .expect("request");
    h.ns.client.request::<Value>(request).await
}

/// Changes only spec.tenantRef (a merge patch: the annotations stay whoever wrote them).
async fn set_tenant(h: &Harness, name: &str, tenant: &str) -> Result<ConnectionProfile, kube::Error> {
    let patch = json!({"spec": {"tenantRef": {"kind": "Auth0Tenant", "name": tenant}}});
    h.profiles()
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
}

/// The calls a tenant's emulator saw, the token endpoint left out.
fn profile_calls(h: &Harness, domain: &str) -> Vec<(String, String, u16)> {
    h.emulator
        .requests(domain)
        .expect("tenant")
        .into_iter()
        .filter(|r| r.path != "/oauth/token")
        .map(|r| (r.method, r.path, r.status))
        .collect()
}

fn synced(p: &ConnectionProfile) -> (String, String, String) {
    condition(p, "Synced").unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_tenant_ref_is_corrected_until_the_profile_exists() {
    let h = Harness::start("tref-typo").await;
    // A typo: no Auth0Tenant "tt" exists.
    h.apply("connectionprofiles", profile("typo", "tt", json!({}), json!([])))
        .await;
    let missing = h
        .wait_for("typo", Duration::from_secs(20), "TenantNotFound", |p| {
            synced(p).0 == "False" && synced(p).1 == "TenantNotFound"
        })
        .await;
    let message = synced(&missing).2;
    for needle in [
        format!("Auth0Tenant tt in namespace {} not found", h.ns.name()),
        "an Auth0Tenant serves the resources of its own namespace only".into(),
        "a ClusterAuth0Tenant (spec.tenantRef.kind: ClusterAuth0Tenant) serves every namespace".into(),
        "create it".into(),
        "correct spec.tenantRef".into(),
        "while nothing exists in Auth0".into(),
    ] {
        assert!(message.contains(&needle), "{needle:?} missing from: {message}");
    }
    assert_eq!(condition(&missing, "Ready").map(|c| c.0).as_deref(), Some("False"));
    // The tenant may still be on its way (GitOps order): retried, not Stalled.
    assert_eq!(condition(&missing, "Stalled").map(|c| c.0).as_deref(), Some("False"));
    h.wait_event("typo", "TenantNotFound").await;
    assert!(h.remote().is_empty());
    assert!(profile_calls(&h, &h.domain).is_empty(), "{:?}", h.requests());

    // Nothing exists in Auth0: the API server accepts the correction, and the profile is made
    // on the right tenant, the tenant recorded beside its id.
    set_tenant(&h, "typo", "t").await.expect("the correction is accepted");
    let ready = h.wait_ready("typo").await;
    let id = id(&ready);
    assert_eq!(
        h.remote_by_id(&id).map(|p| p["name"].clone()),
        Some(json!("acme")),
        "{:?}",
        h.remote()
    );
    let marked = h
        // The marks are written after the status (Ready), so wait for the binding itself:
        // the tenant mark alone is there from the create-pending mark on.
        .wait_for("typo", Duration::from_secs(10), "marked", |p| {
            p.annotations().get(PROFILE_TENANT).is_some() && p.annotations().get(PROFILE_ID).is_some()
        })
        .await;
    assert_eq!(marked.annotations().get(PROFILE_ID), Some(&id));
    // The tenant object, and the Auth0 tenant it reached: the domain at the emulator's endpoint.
    let reached = format!(
        "Auth0Tenant/t on {} at {}",
        h.domain,
        h.emulator.tenant_url(&h.domain).expect("url")
    );
    assert_eq!(
        marked
            .annotations()
            .get(PROFILE_TENANT)
            .map(|v| v.trim_end_matches('/')),
        Some(reached.trim_end_matches('/'))
    );

    // status.id is recorded: another change is refused by the API server, with the way out.
    for tenant in ["tt", "other"] {
        let refused = set_tenant(&h, "typo", tenant).await.expect_err("refused");
        let kube::Error::Api(status) = refused else {
            panic!("not an API error: {refused}")
        };
        assert_eq!(status.code, 422, "{status:?}");
        for needle in [
            "spec.tenantRef",
            "status.id is set",
            "create a new ConnectionProfile",
            "deletionPolicy: Orphan",
        ] {
            assert!(
                status.message.contains(needle),
                "{needle:?} missing from: {}",
                status.message
            );
        }
    }
    // So is a server-side apply of the whole object, as kubectl or Argo CD send it.
    let applied = try_apply(&h, &profile("typo", "tt", json!({}), json!([])))
        .await
        .expect_err("refused");
    assert!(applied.to_string().contains("spec.tenantRef"), "{applied}");
    let kept = h.profiles().get("typo").await.expect("get");
    assert_eq!(kept.spec.tenant_ref.name, "t");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_on_another_tenant_is_never_touched_on_either() {
    // Two emulator tenants: `t` (the harness's) and `b`, each with the same client.
    let mut h = Harness::prepare_in(testenv::TestEnv::get(), "tref-moved", |config| {
        let mut other = config.tenants[0].clone();
        other.domain = format!("b-{}", other.domain);
        config.tenants.push(other);
    })
    .await;
    let domain_b = format!("b-{}", h.domain);
    let url_b = h.emulator.tenant_url(&domain_b).expect("tenant b");
    h.allow_tenant_host(&domain_b);
    h.apply(
        "auth0tenants",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
               "metadata": {"name": "b"},
               "spec": {"domain": domain_b, "credentialsSecretRef": {"name": "creds"},
                        "endpoint": {"url": url_b}, "rateLimit": {"requestsPerSecond": 100.0, "burst": 100}}}),
    )
    .await;
    h.start_operator();

    // The resource's profile, made on `t` by the operator.
    h.apply("connectionprofiles", profile("restored", "t", json!({}), json!([])))
        .await;
    let made = h.wait_ready("restored").await;
    let id = id(&made);
    let marked = h
        .wait_for("restored", Duration::from_secs(10), "marked", |p| {
            p.annotations().get(PROFILE_TENANT).is_some() && p.annotations().get(PROFILE_ID).is_some()
        })
        .await;
    let backup: std::collections::BTreeMap<String, String> = marked
        .annotations()
        .iter()
        .filter(|(k, _)| [PROFILE_ID, PROFILE_TENANT].contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert!(
        backup
            .get(PROFILE_TENANT)
            .is_some_and(|t| t.starts_with("Auth0Tenant/t on ")),
        "{backup:?}"
    );
    // A stranger's profile of the same name on `b`, made by someone else.
    let url = format!("{}/tenants/{domain_b}/profiles", h.emulator.admin_url());
    let stranger = tokio::task::spawn_blocking(move || admin_call("POST", &url, Some(json!({"name": "acme"}))))
        .await
        .expect("admin");
    let stranger_id = stranger["id"].as_str().expect("id").to_string();

    // The resource is restored from a backup without status, its tenantRef edited to `b`
    // (a create: the API server's transition rule cannot apply); beside it, a resource
    // whose create of "acme" may have reached `t` (its mark survived, its tenantRef changed
    // while status held no id).
    h.stop_operator();
    h.profiles()
        .patch(
            "restored",
            &PatchParams::default(),
            &Patch::Merge(&json!({"metadata": {"finalizers": null}})),
        )
        .await
        .expect("finalizer");
    h.profiles()
        .delete("restored", &DeleteParams::default())
        .await
        .expect("delete");
    h.wait_for_gone("restored", Duration::from_secs(10)).await;
    h.apply(
        "connectionprofiles",
        profile("restored", "b", json!(backup), json!([FINALIZER])),
    )
    .await;
    h.apply(
        "connectionprofiles",
        profile(
            "pending",
            "b",
            json!({CREATE_PENDING: "acme", PROFILE_TENANT: "Auth0Tenant/t"}),
            json!([FINALIZER]),
        ),
    )
    .await;
    for domain in [h.domain.clone(), domain_b.clone()] {
        let url = format!("{}/tenants/{domain}/requests", h.emulator.admin_url());
        tokio::task::spawn_blocking(move || admin_call("DELETE", &url, None))
            .await
            .expect("admin");
    }
    h.start_operator();

    for (name, evidence) in [
        ("restored", format!("Auth0 profile {id} is on Auth0Tenant/t")),
        (
            "pending",
            "create of \"acme\" may have reached Auth0 on Auth0Tenant/t".to_string(),
        ),
    ] {
        let refused = h
            .wait_for(name, Duration::from_secs(20), "TenantChanged", |p| {
                synced(p).1 == "TenantChanged"
            })
            .await;
        let message = synced(&refused).2;
        for needle in [
            "spec.tenantRef names Auth0Tenant/b",
            evidence.as_str(),
            "nothing is written or deleted on either tenant",
            "Set spec.tenantRef back to Auth0Tenant/t",
            "create a new ConnectionProfile",
        ] {
            assert!(message.contains(needle), "{name}: {needle:?} missing from: {message}");
        }
        assert_eq!(condition(&refused, "Ready").map(|c| c.0).as_deref(), Some("False"));
        assert_eq!(
            condition(&refused, "Stalled").map(|c| (c.0, c.1)),
            Some(("True".to_string(), "TenantChanged".to_string())),
            "{name}: a person must act"
        );
        h.wait_event(name, "TenantChanged").await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // more than a poll interval
    for domain in [&h.domain, &domain_b] {
        assert!(
            profile_calls(&h, domain).is_empty(),
            "{domain} was called: {:?}",
            profile_calls(&h, domain)
        );
    }

    // Deleting the pending one deletes nothing: it waits for a person, naming force-orphan,
    // which lets it go with both tenants untouched.
    h.profiles()
        .delete("pending", &DeleteParams::default())
        .await
        .expect("delete");
    let blocked = h
        .wait_for("pending", Duration::from_secs(20), "deletion blocked", |p| {
            condition(p, "Ready").is_some_and(|c| c.1 == "Deleting")
                && condition(p, "Stalled").is_some_and(|c| c.0 == "True" && c.1 == "TenantChanged")
        })
        .await;
    assert!(
        synced(&blocked).2.contains("auth0.operators.dev/force-orphan=true"),
        "{:?}",
        synced(&blocked)
    );
    h.profiles()
        .patch(
            "pending",
            &PatchParams::default(),
            &Patch::Merge(&json!({"metadata": {"annotations": {"auth0.operators.dev/force-orphan": "true"}}})),
        )
        .await
        .expect("force-orphan");
    h.wait_for_gone("pending", Duration::from_secs(20)).await;
    for domain in [&h.domain, &domain_b] {
        assert!(
            profile_calls(&h, domain).is_empty(),
            "{domain} was called: {:?}",
            profile_calls(&h, domain)
        );
    }

    // The fix the message names: tenantRef back to `t` (no status.id, so the API server
    // accepts it), and the restored resource binds to its profile again with no write.
    set_tenant(&h, "restored", "t").await.expect("accepted");
    let rebound = h.wait_ready("restored").await;
    assert_eq!(rebound.status.as_ref().and_then(|s| s.id.clone()), Some(id.clone()));
    let writes = |domain: &str| -> Vec<(String, String, u16)> {
        profile_calls(&h, domain)
            .into_iter()
            .filter(|(m, _, _)| m != "GET")
            .collect()
    };
    assert!(writes(&h.domain).is_empty(), "{:?}", writes(&h.domain));
    assert!(
        profile_calls(&h, &domain_b).is_empty(),
        "{:?}",
        profile_calls(&h, &domain_b)
    );
    // Both profiles as they were: ours on `t`, the stranger's on `b`.
    assert!(h.remote_by_id(&id).is_some());
    let on_b = h.emulator.profiles(&domain_b).expect("tenant b");
    assert_eq!(on_b.len(), 1);
    assert_eq!(serde_json::to_value(&on_b[0]).expect("json")["id"], json!(stranger_id));
}
