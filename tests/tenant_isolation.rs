//! No namespace can steer another's (issue 25, docs/security.md): one operator of every
//! namespace, two namespaces, each with an Auth0Tenant naming the same `spec.domain`. Team A's
//! points that domain at another endpoint (a tenant that holds a profile named like B's),
//! with other credentials and a rate limit of one request in ten seconds; team B's is the real
//! tenant. B's profile is created on its own tenant at once: A's listing, A's rate bucket,
//! A's lane and A's credentials are A's alone. And a third namespace whose
//! SelfServiceProfile names B's UserAttributeProfile by its Auth0 id cannot hold up B's
//! deletion, nor learn of it: B waits on Auth0's own refusal, never on C's resource.
//!
//! Its own test binary: the operator watches every namespace, so no other test may run
//! beside it (cargo runs test binaries one after the other).

mod common;

use std::time::Duration;

use auth0_operator::crd::{SelfServiceProfile, UserAttributeProfile};
use common::{Harness, condition, id, object_condition, object_ready, wait_object, wait_object_gone};
use kube::Api;
use kube::api::DeleteParams;
use serde_json::json;
use testenv::TestEnv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_namespace_steers_what_another_sends_reads_or_decides() {
    // The real tenant (the harness's) and the one team A points at.
    let mut h = Harness::prepare_in(TestEnv::get(), "iso-b", |config| {
        config.tenants[0].clients[0].scopes = auth0_emulator::config::ALL_SCOPES
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut elsewhere = config.tenants[0].clone();
        elsewhere.domain = format!("elsewhere.{}", elsewhere.domain);
        elsewhere.clients[0].client_id = "team-a-client".into();
        elsewhere.clients[0].client_secret = "team-a-secret".into();
        config.tenants.push(elsewhere);
    })
    .await;
    let elsewhere = format!("elsewhere.{}", h.domain);
    let elsewhere_url = h.emulator.tenant_url(&elsewhere).expect("url");
    h.allow_tenant_host(&elsewhere);
    // The tenant A reaches holds a profile with the name B wants.
    let held = common::admin_call(
        "POST",
        &format!("{}/tenants/{elsewhere}/profiles", h.emulator.admin_url()),
        Some(json!({"name": "shared-name"})),
    );
    let held_id = held["id"].as_str().expect("id").to_string();

    // Team A: same spec.domain as B's tenant, another endpoint, other credentials, and a
    // rate limit of one request in ten seconds.
    let team_a = h.env.namespace("iso-a").await;
    h.write_secret_in(team_a.name(), "team-a-client", "team-a-secret").await;
    h.apply_in(
        team_a.name(),
        "auth0tenants",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
               "metadata": {"name": "t"},
               "spec": {"domain": h.domain, "credentialsSecretRef": {"name": "creds"},
                        "endpoint": {"url": elsewhere_url},
                        "audience": format!("https://{elsewhere}/api/v2/"),
                        "rateLimit": {"requestsPerSecond": 0.1, "burst": 1}}}),
    )
    .await;
    let operator_log = h.env.dir().join(format!("operator-{}-all.log", h.ns.name()));
    let mut operator = h.spawn_operator_watching("operator", "", &operator_log, &["--http-address", "127.0.0.1:0"]);

    // A goes first: its tenant's listing, bucket and lane are made, and its profile meets
    // the name held there.
    let profile = |name: &str| {
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": name},
               "spec": {"name": "shared-name", "tenantRef": {"kind": "Auth0Tenant", "name": "t"}, "enabledFeatures": ["scim"]}})
    };
    h.apply_in(team_a.name(), "connectionprofiles", profile("a")).await;
    let a_profiles: Api<auth0_operator::crd::ConnectionProfile> = Api::namespaced(h.ns.client.clone(), team_a.name());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let a = a_profiles.get("a").await.expect("a");
        if condition(&a, "Synced").is_some_and(|c| c.1 == "Conflict") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "A's profile never met the held name: {:?}",
            a.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // B's profile, same domain, same name: created on B's own tenant, at B's own rate.
    h.apply("connectionprofiles", profile("b")).await;
    let b = h
        .wait_for("b", Duration::from_secs(10), "Ready on its own tenant", |p| {
            condition(p, "Ready").is_some_and(|c| c.0 == "True")
        })
        .await;
    let b_id = id(&b);
    assert_ne!(b_id, held_id, "B's profile is not the one A's tenant holds");
    let created = h.remote_by_id(&b_id).expect("B's profile on B's tenant");
    assert_eq!(created["name"], "shared-name");
    // Nothing of B's reached A's endpoint, and A's tenant holds what it held.
    let log = common::admin_call(
        "GET",
        &format!("{}/tenants/{elsewhere}/requests", h.emulator.admin_url()),
        None,
    );
    let writes: Vec<_> = log
        .as_array()
        .expect("log")
        .iter()
        .filter(|r| r["method"] != "GET" && r["path"] != "/oauth/token")
        .collect();
    assert!(writes.is_empty(), "writes on A's endpoint: {writes:?}");
    let elsewhere_profiles = common::admin_call(
        "GET",
        &format!("{}/tenants/{elsewhere}/profiles", h.emulator.admin_url()),
        None,
    );
    assert_eq!(
        elsewhere_profiles.as_array().map(Vec::len),
        Some(1),
        "{elsewhere_profiles}"
    );

    // C's self-service profile names B's user attribute profile by its Auth0 id, on the same
    // Auth0 tenant (C's own Auth0Tenant/t reaches it too).
    let b_uaps: Api<UserAttributeProfile> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    h.apply(
        "userattributeprofiles",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "UserAttributeProfile",
               "metadata": {"name": "attrs"},
               "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"},
                        "userAttributes": {"email": {"label": "Email", "description": "Work email",
                                                     "auth0Mapping": "email", "profileRequired": true}}}}),
    )
    .await;
    let attrs = wait_object(&b_uaps, "attrs", "Ready", object_ready).await;
    let uap_id = attrs["status"]["id"].as_str().expect("id").to_string();
    let team_c = h.env.namespace("iso-c").await;
    h.tenant_in(team_c.name()).await;
    let c_ssps: Api<SelfServiceProfile> = Api::namespaced(h.ns.client.clone(), team_c.name());
    h.apply_in(
        team_c.name(),
        "selfserviceprofiles",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "SelfServiceProfile",
               "metadata": {"name": "borrower"},
               "spec": {"tenantRef": {"kind": "Auth0Tenant", "name": "t"},
                        "userAttributeProfileRef": {"id": uap_id}}}),
    )
    .await;
    wait_object(&c_ssps, "borrower", "Ready", object_ready).await;
    // B deletes its profile: Auth0 refuses while C's uses it, and B is told that something
    // outside its namespace may use it, never what (C's name is C's).
    b_uaps.delete("attrs", &DeleteParams::default()).await.expect("delete");
    let refused = wait_object(&b_uaps, "attrs", "waiting on Auth0's refusal", |o| {
        object_condition(o, "Synced").1 == "InUse"
    })
    .await;
    let message = object_condition(&refused, "Synced").2;
    assert!(message.contains("Auth0 refused to delete"), "{message}");
    assert!(message.contains("no resource of this namespace shows"), "{message}");
    assert!(!message.contains(team_c.name()), "C's namespace shown to B: {message}");
    assert!(!message.contains("borrower"), "C's resource shown to B: {message}");
    assert_eq!(object_condition(&refused, "Stalled").0, "False", "retried");
    assert_eq!(
        h.emulator.user_attribute_profiles(&h.domain).expect("tenant").len(),
        1,
        "still in Auth0 while used"
    );
    // C lets go: B's deletion goes through on a retry.
    c_ssps
        .delete("borrower", &DeleteParams::default())
        .await
        .expect("delete");
    // (Its backoff doubles from 1 s while refused: the retry comes within a minute.)
    wait_object_gone(&b_uaps, "attrs", Duration::from_secs(90)).await;
    assert!(
        h.emulator
            .user_attribute_profiles(&h.domain)
            .expect("tenant")
            .is_empty()
    );
    let _ = operator.kill();
    let _ = operator.wait();
}
