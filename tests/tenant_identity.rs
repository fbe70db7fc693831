//! A tenant is the Auth0 tenant it reaches (issue 25), end to end against a real
//! kube-apiserver and the emulator: a tenant object re-pointed at another Auth0 tenant takes
//! no profile with it (`TenantChanged`, no call on either); a changed `spec.rateLimit`
//! governs from the next request, both ways; a fixed Secret re-checks its tenant's status
//! within seconds, whatever the poll interval. The two-namespace rule is
//! `tests/tenant_isolation.rs` (it needs an operator of every namespace to itself).

mod common;

use std::time::{Duration, Instant};

use auth0_operator::crd;
use common::{Harness, condition, id};
use kube::api::Api;
use serde_json::json;
use testenv::TestEnv;

/// The emulator's requests to `domain` that are profile calls, with their arrival (Unix ms).
fn profile_calls(h: &Harness, domain: &str) -> Vec<(String, String, u64)> {
    let url = format!("{}/tenants/{domain}/requests", h.emulator.admin_url());
    let log = common::admin_call("GET", &url, None);
    log.as_array()
        .expect("log")
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/api/v2/connection-profiles"))
        })
        .map(|r| {
            (
                r["method"].as_str().unwrap_or_default().to_string(),
                r["path"].as_str().unwrap_or_default().to_string(),
                r["time_ms"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

async fn clear_requests(h: &Harness, domain: &str) {
    let url = format!("{}/tenants/{domain}/requests", h.emulator.admin_url());
    tokio::task::spawn_blocking(move || common::admin_call("DELETE", &url, None))
        .await
        .expect("admin");
}

fn synced(p: &crd::ConnectionProfile) -> (String, String, String) {
    condition(p, "Synced").unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repointed_tenant_takes_no_profile_with_it() {
    // Two emulator tenants, `us` (the harness's) and `eu`, each with its own client.
    let mut h = Harness::prepare_in(TestEnv::get(), "tid-repoint", |config| {
        let mut eu = config.tenants[0].clone();
        eu.domain = format!("eu.{}", eu.domain);
        eu.clients[0].client_id = "eu-client".into();
        eu.clients[0].client_secret = "eu-secret".into();
        config.tenants.push(eu);
    })
    .await;
    let (us, eu) = (h.domain.clone(), format!("eu.{}", h.domain));
    let eu_url = h.emulator.tenant_url(&eu).expect("eu url");
    h.allow_tenant_host(&eu);
    // A ClusterAuth0Tenant on `us`, as in the issue.
    let tenant = h.cluster_tenant(h.ns.name(), json!({})).await;
    h.start_operator();
    h.apply(
        "connectionprofiles",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "ConnectionProfile",
               "metadata": {"name": "moved"},
               "spec": {"tenantRef": {"kind": "ClusterAuth0Tenant", "name": tenant.name}, "enabledFeatures": ["scim"]}}),
    )
    .await;
    let ready = h.wait_ready("moved").await;
    let profile_id = id(&ready);
    clear_requests(&h, &us).await;
    clear_requests(&h, &eu).await;

    // The Secret gets eu's client, and the tenant object points at eu.
    h.write_secret("eu-client", "eu-secret").await;
    h.apply_cluster_tenant(&tenant.name, json!({"domain": eu, "endpoint": {"url": eu_url}}))
        .await;
    let refused = h
        .wait_for("moved", Duration::from_secs(20), "TenantChanged", |p| {
            synced(p).0 == "False" && synced(p).1 == "TenantChanged"
        })
        .await;
    let message = synced(&refused).2;
    for needle in [
        format!("ClusterAuth0Tenant/{} now reaches {eu}", tenant.name),
        format!("Auth0 profile {profile_id} is on {us}"),
        "nothing is written or deleted on either tenant".to_string(),
        format!("Point ClusterAuth0Tenant/{} back at {us}", tenant.name),
        "deletionPolicy: Orphan".to_string(),
    ] {
        assert!(message.contains(&needle), "{needle:?} missing from: {message}");
    }
    assert_eq!(
        condition(&refused, "Stalled").map(|c| c.0).as_deref(),
        Some("True"),
        "a person must act"
    );
    assert_eq!(
        refused.status.as_ref().and_then(|s| s.id.clone()),
        Some(profile_id.clone())
    );
    h.wait_event("moved", "TenantChanged").await;
    tokio::time::sleep(Duration::from_secs(3)).await; // more than a poll interval
    assert!(profile_calls(&h, &us).is_empty(), "{:?}", profile_calls(&h, &us));
    assert!(profile_calls(&h, &eu).is_empty(), "{:?}", profile_calls(&h, &eu));
    assert!(h.remote_by_id(&profile_id).is_some(), "the profile stays on us");
    let eu_profiles = common::admin_call(
        "GET",
        &format!("{}/tenants/{eu}/profiles", h.emulator.admin_url()),
        None,
    );
    assert_eq!(eu_profiles.as_array().map(Vec::len), Some(0), "{eu_profiles}");

    // Pointed back: the same profile, Ready again.
    h.write_secret("operator-client", common::SECRET).await;
    h.apply_cluster_tenant(&tenant.name, json!({})).await;
    let back = h.wait_ready("moved").await;
    assert_eq!(id(&back), profile_id);
    assert_eq!(h.remote().len(), 1);
}

/// Found by review: `kubectl replace` (or Argo CD's `Replace=true`) drops the operator's
/// annotations and keeps status; the id in `status.id` is evidence on the tenant
/// `status.tenant` names, and a re-pointed tenant object takes it nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_kept_in_status_alone_is_not_taken_to_another_tenant() {
    let mut h = Harness::prepare_in(TestEnv::get(), "tid-replaced", |config| {
        let mut eu = config.tenants[0].clone();
        eu.domain = format!("eu.{}", eu.domain);
        config.tenants.push(eu);
    })
    .await;
    let eu = format!("eu.{}", h.domain);
    let eu_url = h.emulator.tenant_url(&eu).expect("eu url");
    h.allow_tenant_host(&eu);
    h.start_operator();
    h.apply_profile("replaced", json!({})).await;
    let ready = h.wait_ready("replaced").await;
    let profile_id = id(&ready);
    h.wait_for("replaced", Duration::from_secs(10), "bound", |p| {
        p.metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key("auth0.operators.dev/profile-tenant"))
    })
    .await;
    h.stop_operator();
    // The annotations go (as a replace drops them); status stays.
    let patch = json!({"metadata": {"annotations": {
        "auth0.operators.dev/profile-id": null, "auth0.operators.dev/profile-tenant": null}}});
    h.profiles()
        .patch(
            "replaced",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .expect("patch");
    // The tenant object now points at eu (same client, which eu also knows).
    let tenant = json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
                        "metadata": {"name": "t"},
                        "spec": {"domain": eu, "credentialsSecretRef": {"name": "creds"},
                                 "endpoint": {"url": eu_url}, "rateLimit": {"requestsPerSecond": 100.0, "burst": 100}}});
    h.apply("auth0tenants", tenant).await;
    clear_requests(&h, &eu).await;
    h.start_operator();
    let refused = h
        .wait_for("replaced", Duration::from_secs(20), "TenantChanged", |p| {
            synced(p).1 == "TenantChanged"
        })
        .await;
    let message = synced(&refused).2;
    assert!(message.contains(&profile_id), "{message}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(profile_calls(&h, &eu).is_empty(), "{:?}", profile_calls(&h, &eu));
    let eu_profiles = common::admin_call(
        "GET",
        &format!("{}/tenants/{eu}/profiles", h.emulator.admin_url()),
        None,
    );
    assert_eq!(eu_profiles.as_array().map(Vec::len), Some(0), "{eu_profiles}");
}

/// Sets the test tenant `t`'s `spec.rateLimit`.
async fn set_rate_limit(h: &Harness, per_second: f64, burst: u32) {
    let url = h.emulator.tenant_url(&h.domain).expect("tenant url");
    h.apply(
        "auth0tenants",
        json!({"apiVersion": "auth0.operators.dev/v1alpha1", "kind": "Auth0Tenant",
               "metadata": {"name": "t"},
               "spec": {"domain": h.domain, "credentialsSecretRef": {"name": "creds"},
                        "endpoint": {"url": url}, "rateLimit": {"requestsPerSecond": per_second, "burst": burst}}}),
    )
    .await;
}

/// Applies `count` profiles named `prefix-i` and waits until every one is Ready; returns
/// the profile calls the emulator saw meanwhile.
async fn burst_of_creates(h: &Harness, prefix: &str, count: usize, limit: Duration) -> Vec<(String, String, u64)> {
    clear_requests(h, &h.domain).await;
    for i in 0..count {
        h.apply_profile(&format!("{prefix}-{i}"), json!({})).await;
    }
    let deadline = Instant::now() + limit;
    for i in 0..count {
        let name = format!("{prefix}-{i}");
        h.wait_for(
            &name,
            deadline.saturating_duration_since(Instant::now()),
            "Ready",
            |p| condition(p, "Ready").is_some_and(|c| c.0 == "True"),
        )
        .await;
    }
    profile_calls(h, &h.domain)
}

fn span_ms(calls: &[(String, String, u64)]) -> u64 {
    let times: Vec<u64> = calls.iter().map(|c| c.2).collect();
    times.iter().max().unwrap_or(&0) - times.iter().min().unwrap_or(&0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_rate_limit_governs_the_next_request_both_ways() {
    let h = Harness::start("tid-rate").await;
    // At 100/s with a burst of 100 (the harness's), then lowered: 2/s, burst 1.
    h.apply_profile("warm", json!({})).await;
    h.wait_ready("warm").await;
    set_rate_limit(&h, 2.0, 1).await;
    // The tenant's own status pass and its profiles' passes pick the change up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let slow = burst_of_creates(&h, "slow", 5, Duration::from_secs(60)).await;
    let posts = slow.iter().filter(|c| c.0 == "POST").count();
    assert_eq!(posts, 5, "{slow:?}");
    // n calls at 2/s from a bucket of 1 take at least (n - 1) / 2 seconds (10% slack for
    // the clocks; the old bucket sent five creates within 23 ms).
    let least = (slow.len() as u64 - 1) * 500 * 9 / 10;
    assert!(
        span_ms(&slow) >= least,
        "{} calls in {} ms, under 2/s: {slow:?}",
        slow.len(),
        span_ms(&slow)
    );

    // Raised again: the next burst is not held to 2/s.
    set_rate_limit(&h, 100.0, 100).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = Instant::now();
    let fast = burst_of_creates(&h, "fast", 5, Duration::from_secs(30)).await;
    let least = (fast.len() as u64 - 1) * 500;
    assert!(
        span_ms(&fast) < least,
        "{} calls in {} ms: still held to 2/s: {fast:?}",
        fast.len(),
        span_ms(&fast)
    );
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
}

fn tenant_ready(tenant: &crd::Auth0Tenant) -> Option<(String, String)> {
    tenant
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.status.clone(), c.reason.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_secret_rechecks_its_tenant_within_seconds() {
    let mut h = Harness::prepare("tid-secret", common::SCOPES.iter().map(|s| s.to_string()).collect()).await;
    h.write_secret("operator-client", "wrong-secret").await;
    // A poll interval far longer than the test: only the Secret's change can re-check.
    h.poll_interval = "10m".into();
    h.start_operator();
    let tenants: Api<crd::Auth0Tenant> = Api::namespaced(h.ns.client.clone(), h.ns.name());
    let wait_tenant = |want: (&'static str, &'static str), limit: Duration| {
        let tenants = tenants.clone();
        async move {
            let deadline = Instant::now() + limit;
            loop {
                let tenant = tenants.get("t").await.expect("tenant");
                let ready = tenant_ready(&tenant);
                if ready == Some((want.0.to_string(), want.1.to_string())) {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "tenant not {want:?} within {limit:?}: {ready:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    wait_tenant(("False", "Unauthorized"), Duration::from_secs(20)).await;
    let fixed = Instant::now();
    h.write_secret("operator-client", common::SECRET).await;
    wait_tenant(("True", "Available"), Duration::from_secs(10)).await;
    let took = fixed.elapsed();
    // And broken again: the tenant says so as quickly.
    h.write_secret("operator-client", "wrong-again").await;
    wait_tenant(("False", "Unauthorized"), Duration::from_secs(10)).await;
    eprintln!("tenant Ready {took:?} after its Secret was fixed (poll interval 10m)");
}
